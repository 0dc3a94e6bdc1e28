/*
** gen.c - C code from a parsed schema.  For schema `bookstore`:
**
**   bookstore.h  typedefs, one struct per model (corm_obj head, the
**                columns, the relation cache array), extern descriptors,
**                BOOK_F_* / BOOK_REL_* enums, typed accessors
**                (book_author(b), author_books(a), author_books_qs(a))
**   bookstore.c  static const corm_field / corm_relation / corm_index
**                arrays, Book_model, ..., bookstore_schema
**
** The C names here must match what validate.c checks for clashes
** (check_c_names): <Model>, <Model>_model, <P>_F_<FIELD>, <P>_REL_<REL>,
** <p>_<rel>[_at], <p>_<rel>_qs[_at], <schema>_schema, where p is the model's
** lower_snake name and P its upper case.  Statics use the corm__ prefix,
** which no schema name can produce.
*/
#include "gen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Names of one model, computed once. */
typedef struct gmodel {
    const corm_model *m;
    const char *snake; /* order_item */
    const char *upper; /* ORDER_ITEM */
} gmodel;

typedef struct gen {
    const corm_schema *s;
    corm_buf *out;
    corm_arena arena;
    gmodel *models;
    bool oom;
} gen;

static char *upper_dup(corm_arena *a, const char *s)
{
    char *u = corm__arena_strdup(a, s);
    if (!u) return NULL;
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    return u;
}

static bool gen_init(gen *g, const corm_schema *s, corm_buf *out)
{
    memset(g, 0, sizeof *g);
    g->s = s;
    g->out = out;
    corm__arena_init(&g->arena, 4096);
    g->models =
        corm__arena_zalloc(&g->arena, (size_t)(s->nmodels ? s->nmodels : 1) * sizeof *g->models);
    if (!g->models) return false;
    for (int i = 0; i < s->nmodels; i++) {
        gmodel *gm = &g->models[i];
        gm->m = s->models[i];
        gm->snake = corm__lower_snake(&g->arena, gm->m->name);
        gm->upper = gm->snake ? upper_dup(&g->arena, gm->snake) : NULL;
        if (!gm->upper) return false;
    }
    return true;
}

static void gen_free(gen *g) { corm__arena_free(&g->arena); }

static void put(gen *g, const char *s) { corm__buf_adds(g->out, s); }

static void putf(gen *g, const char *fmt, ...) CORM__FMT(2, 3);
static void putf(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    corm__buf_vaddf(g->out, fmt, ap);
    va_end(ap);
}

/* A C string literal for any bytes: printable ASCII as is, `"` `\` and `?`
** (trigraphs) escaped, everything else as a three-digit octal escape, so
** no following character can extend it.  `*` is octal too, so a literal
** can also sit inside a comment: no end-of-comment, no nested opener. */
static void put_cstr(gen *g, const char *s)
{
    if (!s) {
        put(g, "NULL");
        return;
    }
    corm__buf_addc(g->out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '?') {
            corm__buf_addc(g->out, '\\');
            corm__buf_addc(g->out, (char)*p);
        } else if (*p >= 0x20 && *p < 0x7F && *p != '*') {
            corm__buf_addc(g->out, (char)*p);
        } else {
            char esc[5] = {'\\', (char)('0' + (*p >> 6)), (char)('0' + ((*p >> 3) & 7)),
                           (char)('0' + (*p & 7)), 0};
            put(g, esc);
        }
    }
    corm__buf_addc(g->out, '"');
}

static void put_upper(gen *g, const char *s)
{
    for (; *s; s++) corm__buf_addc(g->out, (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s);
}

static bool is_key(const corm_field *f) { return f->type == CORM_FT_FK || f->type == CORM_FT_O2O; }

/* The struct member of a field: fk `author` is `author_id`. */
static const char *member(const corm_field *f) { return is_key(f) ? f->column : f->name; }

static bool to_many(corm_rkind k)
{
    return k == CORM_REL_REVERSE_FK || k == CORM_REL_M2M || k == CORM_REL_REVERSE_M2M;
}

static const char *kind_name(corm_rkind k)
{
    switch (k) {
    case CORM_REL_FK: return "CORM_REL_FK";
    case CORM_REL_O2O: return "CORM_REL_O2O";
    case CORM_REL_REVERSE_FK: return "CORM_REL_REVERSE_FK";
    case CORM_REL_REVERSE_O2O: return "CORM_REL_REVERSE_O2O";
    case CORM_REL_M2M: return "CORM_REL_M2M";
    case CORM_REL_REVERSE_M2M: return "CORM_REL_REVERSE_M2M";
    }
    return "CORM_REL_FK";
}

static const char *ftype_enum(corm_ftype t)
{
    switch (t) {
    case CORM_FT_INTEGER: return "CORM_FT_INTEGER";
    case CORM_FT_BIGINT: return "CORM_FT_BIGINT";
    case CORM_FT_FLOAT: return "CORM_FT_FLOAT";
    case CORM_FT_DECIMAL: return "CORM_FT_DECIMAL";
    case CORM_FT_BOOL: return "CORM_FT_BOOL";
    case CORM_FT_CHAR: return "CORM_FT_CHAR";
    case CORM_FT_TEXT: return "CORM_FT_TEXT";
    case CORM_FT_EMAIL: return "CORM_FT_EMAIL";
    case CORM_FT_DATE: return "CORM_FT_DATE";
    case CORM_FT_DATETIME: return "CORM_FT_DATETIME";
    case CORM_FT_JSON: return "CORM_FT_JSON";
    case CORM_FT_BLOB: return "CORM_FT_BLOB";
    case CORM_FT_FK: return "CORM_FT_FK";
    case CORM_FT_O2O: return "CORM_FT_O2O";
    }
    return "CORM_FT_TEXT";
}

static const char *on_delete_enum(corm_on_delete a)
{
    switch (a) {
    case CORM_CASCADE: return "CORM_CASCADE";
    case CORM_PROTECT: return "CORM_PROTECT";
    case CORM_SET_NULL: return "CORM_SET_NULL";
    case CORM_RESTRICT: return "CORM_RESTRICT";
    }
    return "CORM_CASCADE";
}

static void put_flags(gen *g, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{CORM_FF_PK, "CORM_FF_PK"},
                 {CORM_FF_NULL, "CORM_FF_NULL"},
                 {CORM_FF_UNIQUE, "CORM_FF_UNIQUE"},
                 {CORM_FF_DB_INDEX, "CORM_FF_DB_INDEX"},
                 {CORM_FF_AUTO_NOW, "CORM_FF_AUTO_NOW"},
                 {CORM_FF_AUTO_NOW_ADD, "CORM_FF_AUTO_NOW_ADD"},
                 {CORM_FF_HAS_DEFAULT, "CORM_FF_HAS_DEFAULT"},
                 {CORM_FF_SENSITIVE, "CORM_FF_SENSITIVE"}};
    const char *sep = "";
    for (size_t i = 0; i < CORM__ARRAY_LEN(names); i++)
        if (flags & names[i].bit) {
            putf(g, "%s%s", sep, names[i].name);
            sep = " | ";
        }
    if (!*sep) put(g, "0");
}

static const corm_model *target(const gen *g, const corm_relation *r)
{
    return g->s->models[r->target];
}

/* ---------------------------------------------------------------- header */

static void field_comment(gen *g, const gmodel *gm, const corm_field *f, char *buf, size_t size)
{
    const char *null = (f->flags & CORM_FF_NULL) ? ", null" : "";
    switch (f->type) {
    case CORM_FT_CHAR: snprintf(buf, size, "char(%d)%s", f->max_length, null); break;
    case CORM_FT_DECIMAL:
        snprintf(buf, size, "decimal(%d,%d)%s", f->precision, f->scale, null);
        break;
    case CORM_FT_DATE: snprintf(buf, size, "date, ISO 8601%s", null); break;
    case CORM_FT_DATETIME: snprintf(buf, size, "datetime, ISO 8601%s", null); break;
    case CORM_FT_JSON: snprintf(buf, size, "json text%s", null); break;
    case CORM_FT_FK:
    case CORM_FT_O2O:
        snprintf(buf, size, "%s(%s)%s", corm__ftype_name(f->type),
                 f->rel >= 0 ? target(g, &gm->m->rels[f->rel])->name : "?", null);
        break;
    default:
        if (f->flags & CORM_FF_PK) snprintf(buf, size, "primary key");
        else snprintf(buf, size, "%s%s", corm__ftype_name(f->type), null);
        break;
    }
}

static bool has_auto(const corm_model *m)
{
    for (int i = 0; i < m->nfields; i++)
        if (m->fields[i].flags & (CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD)) return true;
    return false;
}

/* The C initializer of a field's schema default (default_sql, an SQL
** literal the validator checked against the type; not NULL). */
static void put_default(gen *g, const corm_field *f)
{
    const char *d = f->default_sql;
    if (strcmp(d, "TRUE") == 0 || strcmp(d, "FALSE") == 0) {
        put(g, d[0] == 'T' ? "true" : "false");
        return;
    }
    if (f->type == CORM_FT_DECIMAL) {
        /* the validator checked that it fits: units at the field's scale */
        int64_t units = 0;
        if (!corm_dec_to_units(corm_dec(d), f->scale, &units)) g->oom = true;
        putf(g, "{%lldLL, %d}", (long long)units, f->scale);
        return;
    }
    if (d[0] != '\'') {
        if (f->type == CORM_FT_FLOAT) putf(g, "(double)%s", d);
        else if (strcmp(d, "-9223372036854775808") == 0) put(g, "(-9223372036854775807LL - 1)");
        else putf(g, "%sLL", d);
        return;
    }
    /* '...' with '' for a quote: the C string */
    corm_buf text;
    corm__buf_init(&text);
    for (const char *p = d + 1; *p; p++) {
        if (*p == '\'' && p[1] == '\'') p++;
        else if (*p == '\'') break;
        corm__buf_addc(&text, *p);
    }
    if (text.oom) g->oom = true;
    put(g, "(char *)");
    put_cstr(g, corm__buf_cstr(&text));
    corm__buf_free(&text);
}

/* CORM_NEW(Model) expands to corm__new_<Model>: a new object whose
** nullable fields are NULL and whose fields with a default hold it. */
static void header_new(gen *g, const gmodel *gm)
{
    const corm_model *m = gm->m;
    uint64_t nulls = 0;
    for (int i = 1; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        if ((f->flags & CORM_FF_NULL) && (!f->default_sql || !strcmp(f->default_sql, "NULL")))
            nulls |= (uint64_t)1 << i;
    }
    putf(g, "/* CORM_NEW(%s): nullable fields NULL, defaults set (docs/writes.md) */\n", m->name);
    putf(g, "#define corm__new_%s ((%s){._corm = {.model = &%s_model, .nulls = 0x%llxULL}", m->name,
         m->name, m->name, (unsigned long long)nulls);
    for (int i = 1; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        if (!f->default_sql || !strcmp(f->default_sql, "NULL") || f->type == CORM_FT_BLOB)
            continue; /* NULL: the bit says it */
        putf(g, ", .%s = ", member(f));
        put_default(g, f);
    }
    put(g, "})\n\n");
}

static void header_struct(gen *g, const gmodel *gm)
{
    const corm_model *m = gm->m;
    char decl[200], note[120];
    putf(g, "/* %s: table ", m->name);
    put_cstr(g, m->table); /* escaped: safe inside a comment */
    put(g, " */\n");
    putf(g, "struct %s {\n", m->name);
    putf(g, "    %-32s /* private: model, batch, null/deferred bits */\n", "corm_obj _corm;");
    for (int i = 0; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        const char *ct = corm__ftype_ctype(f->type);
        snprintf(decl, sizeof decl, "%s%s%s;", ct, ct[strlen(ct) - 1] == '*' ? "" : " ", member(f));
        field_comment(g, gm, f, note, sizeof note);
        putf(g, "    %-32s /* %s */\n", decl, note);
    }
    if (has_auto(m))
        putf(g, "    %-32s /* private: auto_now values of a new object */\n",
             "char _corm_now[CORM_NOW_BUF];");
    snprintf(decl, sizeof decl, "void *_corm_rel[%d];", m->nrels ? m->nrels : 1);
    putf(g, "    %-32s /* private: relation caches, one per slot */\n", decl);
    put(g, "};\n\n");
}

static void header_enums(gen *g, const gmodel *gm)
{
    const corm_model *m = gm->m;
    putf(g, "/* %s field indexes (corm_model.fields) and relation slots (rels). */\n", m->name);
    put(g, "enum {");
    for (int i = 0; i < m->nfields; i++) {
        putf(g, "%s\n    %s_F_", i ? "," : "", gm->upper);
        put_upper(g, m->fields[i].name);
    }
    put(g, "\n};\n");
    if (m->nrels) {
        put(g, "enum {");
        for (int i = 0; i < m->nrels; i++) {
            putf(g, "%s\n    %s_REL_", i ? "," : "", gm->upper);
            put_upper(g, m->rels[i].name);
        }
        put(g, "\n};\n");
    }
    put(g, "\n");
}

static void header_accessors(gen *g, const gmodel *gm)
{
    const corm_model *m = gm->m;
    for (int i = 0; i < m->nrels; i++) {
        const corm_relation *r = &m->rels[i];
        const corm_model *t = target(g, r);
        const char *p = gm->snake, *M = m->name, *name = r->name;
        static const char *const what[] = {"fk",  "one_to_one", "reverse fk", "reverse one_to_one",
                                           "m2m", "reverse m2m"};
        if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O || r->kind == CORM_REL_M2M)
            putf(g, "/* %s.%s -> %s (%s) */\n", M, name, t->name, what[r->kind]);
        else
            putf(g, "/* %s.%s -> %s (%s of %s.%s) */\n", M, name, t->name, what[r->kind], t->name,
                 t->rels[r->reverse].name);
        /* enum constant */
        corm_buf e;
        corm__buf_init(&e);
        corm__buf_addf(&e, "%s_REL_", gm->upper);
        for (const char *s = name; *s; s++)
            corm__buf_addc(&e, (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s);
        if (e.oom) g->oom = true;
        const char *E = corm__buf_cstr(&e);
        if (!to_many(r->kind)) {
            putf(g,
                 "static inline %s *%s_%s_at(%s *o, corm_site s)\n"
                 "{\n    return (%s *)corm_related_at(o, %s, s);\n}\n",
                 t->name, p, name, M, t->name, E);
            putf(g, "#define %s_%s(o) %s_%s_at((o), CORM_SITE)\n\n", p, name, p, name);
        } else {
            putf(g,
                 "static inline const corm_list *%s_%s_at(%s *o, corm_site s)\n"
                 "{\n    return corm_related_set_at(o, %s, s);\n}\n",
                 p, name, M, E);
            putf(g, "#define %s_%s(o) %s_%s_at((o), CORM_SITE)\n", p, name, p, name);
            putf(g,
                 "static inline corm_qs *%s_%s_qs_at(%s *o, corm_site s)\n"
                 "{\n    return corm_related_qs_at(o, %s, s);\n}\n",
                 p, name, M, E);
            putf(g, "#define %s_%s_qs(o) %s_%s_qs_at((o), CORM_SITE)\n\n", p, name, p, name);
        }
        corm__buf_free(&e);
    }
}

static void guard(gen *g)
{
    put(g, "CORM_GEN_");
    put_upper(g, g->s->name);
    put(g, "_H");
}

void corm__gen_header(const corm_schema *s, corm_buf *out)
{
    gen g;
    if (!gen_init(&g, s, out)) {
        out->oom = true;
        gen_free(&g);
        return;
    }
    putf(&g,
         "/*\n** %s.h - the models of schema %s, generated by `corm gen`.\n"
         "** Do not edit: change the .corm file and generate again.\n"
         "** The API is described in docs/schema.md (\"Generated code\").\n*/\n",
         s->name, s->name);
    put(&g, "#ifndef ");
    guard(&g);
    put(&g, "\n#define ");
    guard(&g);
    put(&g, "\n\n#include <corm.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    for (int i = 0; i < s->nmodels; i++)
        putf(&g, "typedef struct %s %s;\n", s->models[i]->name, s->models[i]->name);
    put(&g, "\n");
    for (int i = 0; i < s->nmodels; i++) header_struct(&g, &g.models[i]);
    for (int i = 0; i < s->nmodels; i++)
        putf(&g, "extern const corm_model %s_model;\n", s->models[i]->name);
    putf(&g, "extern const corm_schema %s_schema;\n\n", s->name);
    for (int i = 0; i < s->nmodels; i++) header_new(&g, &g.models[i]);
    for (int i = 0; i < s->nmodels; i++) {
        header_enums(&g, &g.models[i]);
        header_accessors(&g, &g.models[i]);
    }
    put(&g, "#ifdef __cplusplus\n}\n#endif\n#endif\n");
    if (g.oom) out->oom = true;
    gen_free(&g);
}

/* ---------------------------------------------------------------- source */

/* A model's default eager loads: corm__<M>_default_<what>[] */
static void put_default_eager(gen *g, const char *M, const char *what, const char *const *paths,
                              int n)
{
    if (!n) return;
    putf(g, "static const char *const corm__%s_default_%s[] = {", M, what);
    for (int i = 0; i < n; i++) {
        put(g, i ? ", " : "");
        put_cstr(g, paths[i]);
    }
    put(g, "};\n\n");
}

static void source_model(gen *g, const gmodel *gm)
{
    const corm_model *m = gm->m;
    const char *M = m->name;
    putf(g, "/* ---- %s */\n\n", M);
    putf(g, "static const corm_field corm__%s_fields[] = {\n", M);
    for (int i = 0; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        put(g, "    {.name = ");
        put_cstr(g, f->name);
        put(g, ", .column = ");
        put_cstr(g, f->column);
        putf(g, ", .type = %s, .flags = ", ftype_enum(f->type));
        put_flags(g, f->flags);
        putf(g, ",\n     .max_length = %d, .precision = %d, .scale = %d, .default_sql = ",
             f->max_length, f->precision, f->scale);
        put_cstr(g, f->default_sql);
        putf(g, ",\n     .offset = offsetof(%s, %s), .rel = %d},\n", M, member(f), f->rel);
    }
    put(g, "};\n\n");
    if (m->nrels) {
        putf(g, "static const corm_relation corm__%s_rels[] = {\n", M);
        for (int i = 0; i < m->nrels; i++) {
            const corm_relation *r = &m->rels[i];
            put(g, "    {.name = ");
            put_cstr(g, r->name);
            putf(g,
                 ", .kind = %s, .target = %d, .field = %d, .reverse = %d, .slot = %d,\n"
                 "     .on_delete = %s",
                 kind_name(r->kind), r->target, r->field, r->reverse, r->slot,
                 on_delete_enum(r->on_delete));
            if (r->through) {
                put(g, ", .through = ");
                put_cstr(g, r->through);
                put(g, ", .through_src = ");
                put_cstr(g, r->through_src);
                put(g, ", .through_dst = ");
                put_cstr(g, r->through_dst);
            }
            put(g, "},\n");
        }
        put(g, "};\n\n");
    }
    if (m->nordering) {
        putf(g, "static const char *const corm__%s_ordering[] = {", M);
        for (int i = 0; i < m->nordering; i++) {
            put(g, i ? ", " : "");
            put_cstr(g, m->ordering[i]);
        }
        put(g, "};\n\n");
    }
    for (int i = 0; i < m->nindexes; i++) {
        putf(g, "static const char *const corm__%s_index%d[] = {", M, i);
        for (int k = 0; k < m->indexes[i].nfields; k++) {
            put(g, k ? ", " : "");
            put_cstr(g, m->indexes[i].fields[k]);
        }
        put(g, "};\n");
    }
    if (m->nindexes) {
        putf(g, "\nstatic const corm_index corm__%s_indexes[] = {\n", M);
        for (int i = 0; i < m->nindexes; i++) {
            put(g, "    {.name = ");
            put_cstr(g, m->indexes[i].name);
            putf(g, ", .fields = corm__%s_index%d, .nfields = %d, .unique = %s", M, i,
                 m->indexes[i].nfields, m->indexes[i].unique ? "true" : "false");
            if (m->indexes[i].condition) {
                put(g, ",\n     .condition = ");
                put_cstr(g, m->indexes[i].condition);
                put(g, ",\n     .where = ");
                put_cstr(g, m->indexes[i].where);
            }
            if (m->indexes[i].kind != CORM_INDEX_BTREE)
                put(g, m->indexes[i].kind == CORM_INDEX_TRIGRAM ? ", .kind = CORM_INDEX_TRIGRAM"
                                                                : ", .kind = CORM_INDEX_SEARCH");
            put(g, "},\n");
        }
        put(g, "};\n\n");
    }
    if (m->nscopes) {
        static const char *const kinds[] = {"CORM_SCOPE_RUNTIME", "CORM_SCOPE_NULL",
                                            "CORM_SCOPE_INT",     "CORM_SCOPE_FLOAT",
                                            "CORM_SCOPE_BOOL",    "CORM_SCOPE_TEXT"};
        putf(g, "static const corm_scope corm__%s_scopes[] = {\n", M);
        for (int i = 0; i < m->nscopes; i++) {
            const corm_scope *sc = &m->scopes[i];
            putf(g, "    {.field = %d, .kind = %s", sc->field,
                 (unsigned)sc->kind < 6 ? kinds[sc->kind] : "CORM_SCOPE_RUNTIME");
            if ((sc->kind == CORM_SCOPE_INT || sc->kind == CORM_SCOPE_BOOL) &&
                sc->ival == INT64_MIN)
                put(g, ", .ival = (-9223372036854775807LL - 1)");
            else if (sc->kind == CORM_SCOPE_INT || sc->kind == CORM_SCOPE_BOOL)
                putf(g, ", .ival = %lldLL", (long long)sc->ival);
            if (sc->kind == CORM_SCOPE_FLOAT) putf(g, ", .fval = %.17g", sc->fval);
            if (sc->kind == CORM_SCOPE_TEXT) {
                put(g, ", .sval = ");
                put_cstr(g, sc->sval);
            }
            put(g, "},\n");
        }
        put(g, "};\n\n");
    }
    put_default_eager(g, M, "related", m->default_related, m->ndefault_related);
    put_default_eager(g, M, "prefetch", m->default_prefetch, m->ndefault_prefetch);
    putf(g, "const corm_model %s_model = {\n    .name = ", M);
    put_cstr(g, M);
    put(g, ",\n    .table = ");
    put_cstr(g, m->table);
    putf(g, ",\n    .schema = &%s_schema,\n    .index = %d,\n", g->s->name, m->index);
    putf(g, "    .size = sizeof(%s),\n    .rel_offset = offsetof(%s, _corm_rel),\n", M, M);
    putf(g, "    .fields = corm__%s_fields,\n    .nfields = %d,\n", M, m->nfields);
    if (m->nrels) putf(g, "    .rels = corm__%s_rels,\n", M);
    else put(g, "    .rels = NULL,\n");
    putf(g, "    .nrels = %d,\n", m->nrels);
    if (m->nordering) putf(g, "    .ordering = corm__%s_ordering,\n", M);
    else put(g, "    .ordering = NULL,\n");
    putf(g, "    .nordering = %d,\n", m->nordering);
    if (m->nindexes) putf(g, "    .indexes = corm__%s_indexes,\n", M);
    else put(g, "    .indexes = NULL,\n");
    putf(g, "    .nindexes = %d", m->nindexes);
    if (m->nscopes) putf(g, ",\n    .scopes = corm__%s_scopes,\n    .nscopes = %d", M, m->nscopes);
    if (has_auto(m)) putf(g, ",\n    .now_offset = offsetof(%s, _corm_now)", M);
    if (m->ndefault_related)
        putf(g, ",\n    .default_related = corm__%s_default_related,\n    .ndefault_related = %d",
             M, m->ndefault_related);
    if (m->ndefault_prefetch)
        putf(g,
             ",\n    .default_prefetch = corm__%s_default_prefetch,\n    .ndefault_prefetch = %d",
             M, m->ndefault_prefetch);
    put(g, "\n};\n\n");
}

/* The longest string literal emitted: C11 compilers need accept only 4095
** characters (-pedantic warns past it); a longer migration text is a char
** array of byte values. */
#define LITERAL_MAX 4000

/* The migrations compiled in (corm gen --migrations): one text each, then
** the name and text tables. */
static void source_migrations(gen *g)
{
    const corm_schema *s = g->s;
    if (s->nmigrations <= 0) return;
    put(g, "/* The migrations, compiled in by `corm gen --migrations` (corm_migrate). */\n");
    for (int i = 0; i < s->nmigrations; i++) {
        const char *t = s->migration_texts[i];
        if (strlen(t) < LITERAL_MAX) {
            putf(g, "static const char corm__migration_%d[] =", i);
            /* one literal a line of the file: readable, diff-friendly */
            for (const char *p = t; *p;) {
                const char *e = strchr(p, '\n');
                size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
                char *line = corm__arena_strndup(&g->arena, p, n);
                if (!line) {
                    g->oom = true;
                    return;
                }
                put(g, "\n    ");
                put_cstr(g, line);
                p += n;
            }
            if (!*t) put(g, " \"\"");
            put(g, ";\n");
        } else {
            putf(g, "static const char corm__migration_%d[] = {", i);
            size_t n = strlen(t);
            for (size_t k = 0; k <= n; k++)
                putf(g, "%s%d,", k % 16 ? " " : "\n    ", (int)(unsigned char)t[k]);
            put(g, "\n};\n");
        }
    }
    put(g, "static const char *const corm__migration_names[] = {");
    for (int i = 0; i < s->nmigrations; i++) {
        put(g, "\n    ");
        put_cstr(g, s->migration_names[i]);
        put(g, ",");
    }
    put(g, "\n};\nstatic const char *const corm__migration_texts[] = {");
    for (int i = 0; i < s->nmigrations; i++) putf(g, "\n    corm__migration_%d,", i);
    put(g, "\n};\n\n");
}

void corm__gen_source(const corm_schema *s, corm_buf *out)
{
    gen g;
    if (!gen_init(&g, s, out)) {
        out->oom = true;
        gen_free(&g);
        return;
    }
    putf(&g,
         "/*\n** %s.c - the descriptors of schema %s, generated by `corm gen`.\n"
         "** Do not edit: change the .corm file and generate again.\n*/\n",
         s->name, s->name);
    putf(&g, "#include \"%s.h\"\n\n#include <stddef.h>\n\n", s->name);
    for (int i = 0; i < s->nmodels; i++) source_model(&g, &g.models[i]);
    put(&g, "static const corm_model *const corm__models[] = {\n");
    for (int i = 0; i < s->nmodels; i++) putf(&g, "    &%s_model,\n", s->models[i]->name);
    put(&g, "};\n\n");
    if (s->nm2m) {
        put(&g, "static const char *const corm__m2m_tables[] = {");
        for (int i = 0; i < s->nm2m; i++) {
            put(&g, i ? ", " : "");
            put_cstr(&g, s->m2m_tables[i]);
        }
        put(&g, "};\n\n");
    }
    source_migrations(&g);
    putf(&g, "const corm_schema %s_schema = {\n    .name = ", s->name);
    put_cstr(&g, s->name);
    putf(&g, ",\n    .models = corm__models,\n    .nmodels = %d,\n", s->nmodels);
    putf(&g, "    .m2m_tables = %s,\n    .nm2m = %d,\n", s->nm2m ? "corm__m2m_tables" : "NULL",
         s->nm2m);
    putf(&g, "    .hash = 0x%08lxu", (unsigned long)s->hash);
    if (s->nmigrations > 0)
        putf(&g,
             ",\n    .migration_names = corm__migration_names,\n"
             "    .migration_texts = corm__migration_texts,\n    .nmigrations = %d",
             s->nmigrations);
    put(&g, "\n};\n");
    if (g.oom) out->oom = true;
    gen_free(&g);
}

/* ------------------------------------------------------------------ files */

/* Whether path already holds exactly text (then it is left alone). */
static bool same_content(const char *path, const corm_buf *text)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    bool same = true;
    size_t off = 0;
    char chunk[8192];
    size_t n;
    while (same && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (off + n > text->len || memcmp(text->p + off, chunk, n) != 0) same = false;
        off += n;
    }
    if (ferror(f)) same = false;
    fclose(f);
    return same && off == text->len;
}

static corm_rc write_file(const char *path, const corm_buf *text, corm_error *err)
{
    if (same_content(path, text)) return CORM_OK;
    corm_buf tmp;
    corm__buf_init(&tmp);
    corm__buf_addf(&tmp, "%s.tmp", path);
    if (tmp.oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory writing '%s'", path);
        return CORM_NOMEM;
    }
    const char *tpath = corm__buf_cstr(&tmp);
    FILE *f = fopen(tpath, "wb");
    corm_rc rc = CORM_OK;
    if (!f) {
        corm__err_set(err, CORM_IO, "cannot write '%s': %s", tpath, strerror(errno));
        rc = CORM_IO;
    } else {
        size_t n = text->len ? fwrite(text->p, 1, text->len, f) : 0;
        int e = errno;
        bool bad = n != text->len || fflush(f) != 0;
        if (bad) e = errno ? errno : e;
        if (fclose(f) != 0 && !bad) {
            bad = true;
            e = errno;
        }
        if (bad) {
            corm__err_set(err, CORM_IO, "cannot write '%s': %s", tpath, strerror(e));
            remove(tpath);
            rc = CORM_IO;
        } else if (rename(tpath, path) != 0) {
            corm__err_set(err, CORM_IO, "cannot rename '%s' to '%s': %s", tpath, path,
                          strerror(errno));
            remove(tpath);
            rc = CORM_IO;
        }
    }
    if (rc && err) corm__strlcpy(err->file, path, sizeof err->file);
    corm__buf_free(&tmp);
    return rc;
}

corm_rc corm__gen(const corm_schema *s, const char *dir, corm_error *err)
{
    corm__err_clear(err);
    if (!s || !dir || !*dir) {
        corm__err_set(err, CORM_MISUSE, "corm__gen: no schema or no output directory");
        return CORM_MISUSE;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        corm__err_set(err, CORM_IO, "cannot create directory '%s': %s", dir, strerror(errno));
        corm__err_hint(err, "create the parent directory first, or pick another -o");
        if (err) corm__strlcpy(err->file, dir, sizeof err->file);
        return CORM_IO;
    }
    corm_rc rc = CORM_OK;
    corm_buf path, text;
    corm__buf_init(&path);
    corm__buf_init(&text);
    for (int which = 0; which < 2 && rc == CORM_OK; which++) {
        corm__buf_reset(&path);
        corm__buf_reset(&text);
        corm__buf_addf(&path, "%s/%s.%s", dir, s->name, which ? "c" : "h");
        if (which) corm__gen_source(s, &text);
        else corm__gen_header(s, &text);
        if (path.oom || text.oom) {
            corm__err_set(err, CORM_NOMEM, "out of memory generating code for schema '%s'",
                          s->name);
            rc = CORM_NOMEM;
            break;
        }
        rc = write_file(corm__buf_cstr(&path), &text, err);
    }
    corm__buf_free(&path);
    corm__buf_free(&text);
    return rc;
}
