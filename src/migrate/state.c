/*
** state.c - the migration state as member lines (mig_int.h): canonical
** lines from descriptors, operations applied to the lines, the state
** rendered and parsed back into descriptors.
**
** Canonical lines (one per member, stable, so two renderings compare as
** text): fields in field order, then many-to-many fields, then `table`
** when it is not the default, `ordering`, `scope`s, then the declared
** indexes with their resolved names (`index book_pub_idx (-published_date)`,
** `unique index book_a_b_uniq (a, b)`).  Options are written only when
** they differ from the default (related_name, db_index of an fk).
*/
#include "mig_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const corm__op_names[CORM__OP_COUNT] = {
    "create_model", "drop_model",   "add_field", "remove_field", "alter_field",
    "rename_field", "rename_model", "add_index", "remove_index", "alter_model"};

/* ------------------------------------------------------------ lines */

static bool ident_char(int c) { return isalnum(c) || c == '_'; }

bool corm__line_is_field(const char *line)
{
    const char *p = line;
    while (ident_char((unsigned char)*p)) p++;
    while (*p == ' ') p++;
    return p > line && *p == ':';
}

bool corm__line_is_index(const char *line)
{
    return !corm__line_is_field(line) &&
           (strncmp(line, "index", 5) == 0 || strncmp(line, "unique", 6) == 0);
}

size_t corm__line_key(const char *line, const char **key)
{
    *key = line;
    if (!corm__line_is_field(line)) return strlen(line);
    size_t n = 0;
    while (ident_char((unsigned char)line[n])) n++;
    return n;
}

/* ------------------------------------------------------------ state */

void corm__state_init(corm__state *s, corm_arena *a)
{
    memset(s, 0, sizeof *s);
    s->arena = a;
}

static corm__smodel *add_model(corm__state *s, const char *name)
{
    if (!corm__arena_grow(s->arena, (void **)&s->models, s->nmodels, &s->cap, sizeof *s->models))
        return NULL;
    corm__smodel *m = &s->models[s->nmodels++];
    memset(m, 0, sizeof *m);
    m->name = corm__arena_strdup(s->arena, name);
    return m->name ? m : NULL;
}

static bool add_line(corm__state *s, corm__smodel *m, const char *line)
{
    if (!corm__arena_grow(s->arena, (void **)&m->lines, m->nlines, &m->cap, sizeof *m->lines))
        return false;
    const char *c = corm__arena_strdup(s->arena, line);
    if (!c) return false;
    m->lines[m->nlines++] = c;
    return true;
}

bool corm__state_copy(corm__state *dst, const corm__state *src)
{
    corm__state_init(dst, src->arena);
    for (int i = 0; i < src->nmodels; i++) {
        corm__smodel *m = add_model(dst, src->models[i].name);
        if (!m) return false;
        for (int j = 0; j < src->models[i].nlines; j++)
            if (!add_line(dst, m, src->models[i].lines[j])) return false;
    }
    return true;
}

static corm__smodel *find_model(const corm__state *s, const char *name)
{
    for (int i = 0; i < s->nmodels; i++)
        if (strcmp(s->models[i].name, name) == 0) return &s->models[i];
    return NULL;
}

/* The line of m whose key is key (a field name or a whole line), or -1. */
static int find_line(const corm__smodel *m, const char *key)
{
    for (int i = 0; i < m->nlines; i++) {
        const char *k;
        size_t n = corm__line_key(m->lines[i], &k);
        if (strlen(key) == n && strncmp(k, key, n) == 0) return i;
    }
    return -1;
}

static void remove_line(corm__smodel *m, int i)
{
    memmove(&m->lines[i], &m->lines[i + 1], (size_t)(m->nlines - i - 1) * sizeof *m->lines);
    m->nlines--;
}

/* line with every identifier `from` replaced by `to`; only_after: start
** replacing after this character (e.g. '(' for index columns), 0: all. */
static const char *replace_ident(corm_arena *a, const char *line, const char *from, const char *to,
                                 char only_after)
{
    corm_buf b;
    corm__buf_init(&b);
    bool on = only_after == 0;
    size_t nf = strlen(from);
    for (const char *p = line; *p;) {
        if (*p == '"') { /* a string: copy as is */
            const char *q = p + 1;
            while (*q && *q != '"') q += (*q == '\\' && q[1]) ? 2 : 1;
            if (*q) q++;
            corm__buf_add(&b, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (ident_char((unsigned char)*p)) {
            const char *q = p;
            while (ident_char((unsigned char)*q)) q++;
            if (on && (size_t)(q - p) == nf && strncmp(p, from, nf) == 0) corm__buf_adds(&b, to);
            else corm__buf_add(&b, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (*p == only_after) on = true;
        corm__buf_addc(&b, *p++);
    }
    const char *r = b.oom ? NULL : corm__arena_strdup(a, corm__buf_cstr(&b));
    corm__buf_free(&b);
    return r;
}

static corm_rc op_error(corm_error *err, const corm__migration *mig, const corm__op *op,
                        const char *what, const char *arg)
{
    corm__err_set(err, CORM_SCHEMA, "%s%s%s: %s %s: %s '%s'",
                  mig && mig->path ? mig->path
                  : mig            ? mig->name
                                   : "migration",
                  op->line ? ":" : "", "", corm__op_names[op->kind], op->model, what, arg);
    if (op->line) {
        /* keep the line in the message for files */
        char tmp[sizeof err->message];
        snprintf(tmp, sizeof tmp, "%s", err->message);
        corm__err_set(err, CORM_SCHEMA, "%s (line %d)", tmp, op->line);
    }
    corm__err_hint(err, "the migration does not fit the state the migrations before it make: "
                        "was a migration file edited or removed?");
    return CORM_SCHEMA;
}

static corm_rc nomem(corm_error *err)
{
    corm__err_set(err, CORM_NOMEM, "out of memory reading migrations");
    return CORM_NOMEM;
}

/* Rename references to model `from` in relation lines of every model. */
static bool rename_refs(corm__state *s, const char *from, const char *to)
{
    for (int i = 0; i < s->nmodels; i++) {
        corm__smodel *m = &s->models[i];
        for (int j = 0; j < m->nlines; j++) {
            const char *l = m->lines[j];
            const char *paren = strchr(l, '(');
            if (!corm__line_is_field(l) || !paren) continue;
            if (!strstr(l, "fk(") && !strstr(l, "one_to_one(") && !strstr(l, "m2m(")) continue;
            const char *r = replace_ident(s->arena, l, from, to, '(');
            if (!r) return false;
            m->lines[j] = r;
        }
    }
    return true;
}

corm_rc corm__state_apply(corm__state *s, const corm__migration *mig, const corm__op *op,
                          corm_error *err)
{
    corm__smodel *m = find_model(s, op->model);
    if (op->kind == CORM__OP_CREATE_MODEL) {
        if (m) return op_error(err, mig, op, "the model exists already", op->model);
        if (!(m = add_model(s, op->model))) return nomem(err);
        for (int i = 0; i < op->nlines; i++)
            if (!add_line(s, m, op->lines[i])) return nomem(err);
        return CORM_OK;
    }
    if (!m) return op_error(err, mig, op, "no such model", op->model);
    switch (op->kind) {
    case CORM__OP_DROP_MODEL:
        memmove(m, m + 1, (size_t)(s->nmodels - (m - s->models) - 1) * sizeof *m);
        s->nmodels--;
        return CORM_OK;
    case CORM__OP_ADD_FIELD:
    case CORM__OP_ADD_INDEX: {
        if (op->nlines != 1) return op_error(err, mig, op, "expected one line, got", "none");
        const char *k;
        size_t n = corm__line_key(op->lines[0], &k);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)n, k);
        if (find_line(m, key) >= 0) return op_error(err, mig, op, "exists already", key);
        return add_line(s, m, op->lines[0]) ? CORM_OK : nomem(err);
    }
    case CORM__OP_REMOVE_FIELD:
    case CORM__OP_REMOVE_INDEX: {
        if (op->nlines != 1) return op_error(err, mig, op, "expected one line, got", "none");
        const char *k;
        size_t n = corm__line_key(op->lines[0], &k);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)n, k);
        int i = find_line(m, key);
        if (i < 0) return op_error(err, mig, op, "no such member", key);
        remove_line(m, i);
        return CORM_OK;
    }
    case CORM__OP_ALTER_FIELD:
    case CORM__OP_ALTER_MODEL: {
        /* lines: the old ones prefixed "- ", the new ones "+ " (parsed into
        ** lines[0..nlines) as "-..." / "+...") */
        bool used[64] = {false};
        if (op->nlines > 64) return op_error(err, mig, op, "too many lines", op->model);
        for (int i = 0; i < op->nlines; i++) {
            if (op->lines[i][0] != '-') continue;
            const char *k;
            size_t n = corm__line_key(op->lines[i] + 1, &k);
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)n, k);
            int at = find_line(m, key);
            if (at < 0) return op_error(err, mig, op, "no such member", key);
            /* the "+" line with the same key takes its place */
            int with = -1;
            for (int j = 0; j < op->nlines && with < 0; j++) {
                const char *k2;
                size_t n2 = corm__line_key(op->lines[j] + 1, &k2);
                if (op->lines[j][0] == '+' && !used[j] && n2 == n && strncmp(k, k2, n) == 0)
                    with = j;
            }
            if (with < 0) {
                remove_line(m, at);
                continue;
            }
            used[with] = true;
            if (!(m->lines[at] = corm__arena_strdup(s->arena, op->lines[with] + 1)))
                return nomem(err);
        }
        for (int i = 0; i < op->nlines; i++)
            if (op->lines[i][0] == '+' && !used[i] && !add_line(s, m, op->lines[i] + 1))
                return nomem(err);
        return CORM_OK;
    }
    case CORM__OP_RENAME_FIELD: {
        int i = find_line(m, op->name);
        if (i < 0) return op_error(err, mig, op, "no such field", op->name);
        if (find_line(m, op->to) >= 0)
            return op_error(err, mig, op, "field exists already", op->to);
        for (int j = 0; j < m->nlines; j++) {
            const char *l = m->lines[j];
            const char *r = NULL;
            if (j == i) r = replace_ident(s->arena, l, op->name, op->to, 0);
            else if (corm__line_is_index(l)) r = replace_ident(s->arena, l, op->name, op->to, '(');
            else if (strncmp(l, "ordering ", 9) == 0 || strncmp(l, "scope ", 6) == 0)
                r = replace_ident(s->arena, l, op->name, op->to, ' ');
            else continue;
            if (!r) return nomem(err);
            if (j == i) {
                /* only the name before ':' */
                const char *colon = strchr(l, ':');
                corm_buf b;
                corm__buf_init(&b);
                corm__buf_adds(&b, op->to);
                corm__buf_adds(&b, colon);
                r = b.oom ? NULL : corm__arena_strdup(s->arena, corm__buf_cstr(&b));
                corm__buf_free(&b);
                if (!r) return nomem(err);
            }
            m->lines[j] = r;
        }
        return CORM_OK;
    }
    case CORM__OP_RENAME_MODEL: {
        if (find_model(s, op->to)) return op_error(err, mig, op, "model exists already", op->to);
        /* a model renamed keeps its table only when the table was given */
        const char *to = corm__arena_strdup(s->arena, op->to);
        if (!to || !rename_refs(s, op->model, op->to)) return nomem(err);
        m->name = to;
        return CORM_OK;
    }
    default: return op_error(err, mig, op, "unknown operation", "?");
    }
}

void corm__state_render(const corm__state *s, corm_buf *out)
{
    for (int i = 0; i < s->nmodels; i++) {
        const corm__smodel *m = &s->models[i];
        corm__buf_addf(out, "model %s {\n", m->name);
        for (int j = 0; j < m->nlines; j++) corm__buf_addf(out, "    %s\n", m->lines[j]);
        corm__buf_adds(out, "}\n");
    }
}

corm_schema *corm__state_schema(const corm__state *s, corm_error *err)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__state_render(s, &b);
    if (b.oom) {
        corm__buf_free(&b);
        nomem(err);
        return NULL;
    }
    corm_schema *schema = corm_schema_parse(b.p ? b.p : "", b.len, "migrations.corm", err);
    corm__buf_free(&b);
    return schema;
}

/* ------------------------------------------------------------ descriptors -> lines */

static void add_string(corm_buf *b, const char *s)
{
    corm__buf_addc(b, '"');
    for (; *s; s++) {
        switch (*s) {
        case '"': corm__buf_adds(b, "\\\""); break;
        case '\\': corm__buf_adds(b, "\\\\"); break;
        case '\n': corm__buf_adds(b, "\\n"); break;
        case '\t': corm__buf_adds(b, "\\t"); break;
        case '\r': corm__buf_adds(b, "\\r"); break;
        default: corm__buf_addc(b, *s);
        }
    }
    corm__buf_addc(b, '"');
}

/* The schema literal of a default's SQL literal ('it''s' -> "it's"). */
static void add_default(corm_buf *b, const char *sql)
{
    if (sql[0] == '\'') {
        corm_buf t;
        corm__buf_init(&t);
        size_t n = strlen(sql);
        for (size_t i = 1; i + 1 < n; i++) {
            corm__buf_addc(&t, sql[i]);
            if (sql[i] == '\'' && sql[i + 1] == '\'') i++;
        }
        add_string(b, corm__buf_cstr(&t));
        if (t.oom) b->oom = true;
        corm__buf_free(&t);
        return;
    }
    if (strcmp(sql, "TRUE") == 0) corm__buf_adds(b, "true");
    else if (strcmp(sql, "FALSE") == 0) corm__buf_adds(b, "false");
    else if (strcmp(sql, "NULL") == 0) corm__buf_adds(b, "null");
    else corm__buf_adds(b, sql);
}

static const char *on_delete_name(corm_on_delete o)
{
    switch (o) {
    case CORM_PROTECT: return "protect";
    case CORM_SET_NULL: return "set_null";
    case CORM_RESTRICT: return "restrict";
    default: return "cascade";
    }
}

static void lower(char *out, size_t size, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++) out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

/* ", related_name=x" unless x is Django's default for the relation. */
static void add_related_name(corm_buf *b, const corm_model *m, const corm_relation *r)
{
    const corm_model *t = m->schema->models[r->target];
    const char *rev = t->rels[r->reverse].name;
    char def[128], low[100];
    lower(low, sizeof low, m->name);
    snprintf(def, sizeof def, r->kind == CORM_REL_O2O ? "%s" : "%s_set", low);
    if (strcmp(rev, def) != 0) corm__buf_addf(b, ", related_name=%s", rev);
}

static void field_line(const corm_model *m, const corm_field *f, corm_buf *b)
{
    corm__buf_addf(b, "%s: ", f->name);
    bool rel = f->type == CORM_FT_FK || f->type == CORM_FT_O2O;
    if (rel) {
        const corm_relation *r = &m->rels[f->rel];
        corm__buf_addf(b, "%s(%s, on_delete=%s", f->type == CORM_FT_FK ? "fk" : "one_to_one",
                       m->schema->models[r->target]->name, on_delete_name(r->on_delete));
        add_related_name(b, m, r);
        corm__buf_addc(b, ')');
    } else if (f->type == CORM_FT_CHAR) {
        corm__buf_addf(b, "char(%d)", f->max_length);
    } else if (f->type == CORM_FT_DECIMAL) {
        corm__buf_addf(b, "decimal(%d, %d)", f->precision, f->scale);
    } else {
        corm__buf_adds(b, corm__ftype_name(f->type));
    }
    if (f->flags & CORM_FF_NULL) corm__buf_adds(b, " null");
    if ((f->flags & CORM_FF_UNIQUE) && f->type != CORM_FT_O2O) corm__buf_adds(b, " unique");
    if ((f->flags & CORM_FF_DB_INDEX) && f->type != CORM_FT_FK) corm__buf_adds(b, " db_index");
    if (f->flags & CORM_FF_AUTO_NOW) corm__buf_adds(b, " auto_now");
    if (f->flags & CORM_FF_AUTO_NOW_ADD) corm__buf_adds(b, " auto_now_add");
    if (f->default_sql) {
        corm__buf_adds(b, " default=");
        add_default(b, f->default_sql);
    }
}

static bool push_line(corm__state *s, corm__smodel *sm, corm_buf *b)
{
    bool ok = !b->oom && add_line(s, sm, corm__buf_cstr(b));
    corm__buf_reset(b);
    return ok;
}

/* The number of leading entries of m->indexes the validator made for
** db_index fields (not declared in the schema). */
static int auto_indexes(const corm_model *m)
{
    int n = 0;
    for (int i = 1; i < m->nfields; i++)
        if ((m->fields[i].flags & CORM_FF_DB_INDEX) && !(m->fields[i].flags & CORM_FF_UNIQUE)) n++;
    return n;
}

static bool model_lines(corm__state *s, const corm_model *m, corm_buf *b)
{
    corm__smodel *sm = add_model(s, m->name);
    if (!sm) return false;
    for (int i = 1; i < m->nfields; i++) {
        field_line(m, &m->fields[i], b);
        if (!push_line(s, sm, b)) return false;
    }
    for (int i = 0; i < m->nrels; i++) {
        const corm_relation *r = &m->rels[i];
        if (r->kind != CORM_REL_M2M) continue;
        corm__buf_addf(b, "%s: m2m(%s", r->name, m->schema->models[r->target]->name);
        add_related_name(b, m, r);
        corm__buf_addc(b, ')');
        if (!push_line(s, sm, b)) return false;
    }
    corm_arena a;
    corm__arena_init(&a, 256);
    const char *def = corm__lower_snake(&a, m->name);
    if (def && strcmp(def, m->table) != 0) {
        corm__buf_adds(b, "table ");
        add_string(b, m->table);
        if (!push_line(s, sm, b)) def = NULL;
    }
    corm__arena_free(&a);
    if (!def) return false;
    if (m->nordering) {
        corm__buf_adds(b, "ordering ");
        for (int i = 0; i < m->nordering; i++)
            corm__buf_addf(b, "%s%s", i ? ", " : "", m->ordering[i]);
        if (!push_line(s, sm, b)) return false;
    }
    for (int i = 0; i < m->nscopes; i++) {
        const corm_scope *sc = &m->scopes[i];
        corm__buf_addf(b, "scope %s", m->fields[sc->field].name);
        switch (sc->kind) {
        case CORM_SCOPE_NULL: corm__buf_adds(b, " = null"); break;
        case CORM_SCOPE_INT: corm__buf_addf(b, " = %lld", (long long)sc->ival); break;
        case CORM_SCOPE_FLOAT: corm__buf_addf(b, " = %.17g", sc->fval); break;
        case CORM_SCOPE_BOOL: corm__buf_adds(b, sc->ival ? " = true" : " = false"); break;
        case CORM_SCOPE_TEXT:
            corm__buf_adds(b, " = ");
            add_string(b, sc->sval);
            break;
        default: break;
        }
        if (!push_line(s, sm, b)) return false;
    }
    for (int i = auto_indexes(m); i < m->nindexes; i++) {
        const corm_index *ix = &m->indexes[i];
        corm__buf_addf(b, "%sindex %s (", ix->unique ? "unique " : "", ix->name);
        for (int j = 0; j < ix->nfields; j++)
            corm__buf_addf(b, "%s%s", j ? ", " : "", ix->fields[j]);
        corm__buf_addc(b, ')');
        if (ix->kind == CORM_INDEX_TRIGRAM) corm__buf_adds(b, " using trigram");
        if (ix->kind == CORM_INDEX_SEARCH) corm__buf_adds(b, " using search");
        if (ix->condition) corm__buf_addf(b, " where %s", ix->condition);
        if (!push_line(s, sm, b)) return false;
    }
    return true;
}

corm_rc corm__state_from_schema(corm__state *s, const corm_schema *schema, corm_error *err)
{
    corm_buf b;
    corm__buf_init(&b);
    bool ok = true;
    for (int i = 0; i < schema->nmodels && ok; i++) ok = model_lines(s, schema->models[i], &b);
    corm__buf_free(&b);
    return ok ? CORM_OK : nomem(err);
}
