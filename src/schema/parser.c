/*
** parser.c - recursive descent over the .corm grammar (docs/schema.md)
** into a corm__ast, with the checks one field can make on its own: name
** rules, type arguments, options that fit the type, on_delete, default=.
** Cross-model checks (targets, reverse names, indexes) are validate.c's.
**
** Keywords are contextual.  A member starting `IDENT ':'` is a field, so
** `unique: bool` is a field called unique, while `unique (a, b)` is a
** constraint; after a field's type, an option word followed by ':' is the
** next field's name.  At most three tokens of lookahead are needed.
**
** Bounds: at most CORM__MAX_MODELS models, CORM_MAX_FIELDS fields and
** CORM_MAX_RELS forward relations per model, CORM__MAX_INDEXES indexes,
** CORM_MAX_FIELDS columns per index or ordering.  So later passes are
** small and quadratic checks stay cheap on any input.
*/
#include "parse_int.h"

#include <stdio.h>
#include <string.h>

#define CORM__MAX_MODELS 4096
#define CORM__MAX_INDEXES 256
#define CORM__MAX_SCOPES_PER_MODEL 8

typedef struct parser {
    corm__pctx *c;
    corm__lexer lx;
    corm__ast *ast;
} parser;

static const char *const type_names[] = {"integer", "bigint", "float", "decimal",    "bool",
                                         "char",    "text",   "email", "date",       "datetime",
                                         "json",    "blob",   "fk",    "one_to_one", "m2m"};
#define TYPE_LIST                                                  \
    "integer, bigint, float, decimal(p, s), bool, char(n), text, " \
    "email, date, datetime, json, blob, fk(Model, ...), "          \
    "one_to_one(Model, ...), m2m(Model, ...)"

static const char *const option_names[] = {"null",         "unique",  "db_index", "auto_now",
                                           "auto_now_add", "default", "sensitive"};
#define OPTION_LIST "null, unique, db_index, auto_now, auto_now_add, default=<value>, sensitive"

static const char *const relopt_names[] = {"on_delete", "related_name", "null", "db_index"};
#define RELOPT_LIST \
    "on_delete=cascade|protect|set_null|restrict, related_name=<name>, null, db_index"

static const char *const on_delete_names[] = {"cascade", "protect", "set_null", "restrict"};
#define ON_DELETE_HINT                                            \
    "on_delete=cascade (delete along with the target), protect, " \
    "set_null (needs null) or restrict"

/* ---------------------------------------------------------------- tokens */

static const corm__token *tok(parser *p, int k) { return corm__lex_peek(&p->lx, k); }
static void next(parser *p) { corm__lex_next(&p->lx); }

static corm__pos pos_of(const corm__token *t) { return (corm__pos){t->line, t->col}; }

static bool is_word(const corm__token *t, const char *w)
{
    size_t n = strlen(w);
    return t->kind == CORM__T_IDENT && t->n == n && memcmp(t->p, w, n) == 0;
}

static int word_index(const corm__token *t, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_word(t, words[i])) return (int)i;
    return -1;
}

static char *word_dup(parser *p, const corm__token *t)
{
    return corm__arena_strndup(p->c->arena, t->p, t->n);
}

/* A syntax error at t; if t is a lexical error, that error instead. */
static corm_rc syntax(parser *p, const corm__token *t, const char *hint, const char *fmt, ...)
    CORM__FMT(4, 5);
static corm_rc syntax(parser *p, const corm__token *t, const char *hint, const char *fmt, ...)
{
    if (p->lx.nomem) return corm__pnomem(p->c);
    if (t->kind == CORM__T_ERROR) return corm__perr(p->c, pos_of(t), t->hint, "%s", t->str);
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return corm__perr(p->c, pos_of(t), hint, "%s", m);
}

/* "expected WHAT, found TOKEN". */
static corm_rc expected(parser *p, const corm__token *t, const char *what, const char *hint)
{
    char d[120];
    return syntax(p, t, hint, "expected %s, found %s", what, corm__tok_describe(t, d, sizeof d));
}

static corm_rc expect(parser *p, corm__tkind kind, const char *what, const char *hint)
{
    const corm__token *t = tok(p, 0);
    if (t->kind != kind) return expected(p, t, what, hint);
    next(p);
    return CORM_OK;
}

/* ----------------------------------------------------------------- names */

static bool has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z') return false;
    return true;
}

static corm_rc check_model_name(parser *p, const corm__token *t, const char *name)
{
    corm__pos at = pos_of(t);
    if (!(name[0] >= 'A' && name[0] <= 'Z')) {
        char fix[CORM__IDENT_MAX + 1];
        corm__strlcpy(fix, name, sizeof fix);
        if (fix[0] >= 'a' && fix[0] <= 'z') {
            fix[0] = (char)(fix[0] - 'a' + 'A');
            corm__perr(p->c, at, NULL, "model name '%s' must start with an uppercase letter", name);
            corm__err_hint(p->c->err, "write %s (model names are CamelCase)", fix);
            return CORM_SCHEMA;
        }
        return corm__perr(p->c, at, "model names are CamelCase: Book, OrderItem",
                          "model name '%s' must start with an uppercase letter", name);
    }
    if (strstr(name, "__"))
        return corm__perr(p->c, at, "use CamelCase: OrderItem", "model name '%s' contains '__'",
                          name);
    if (corm__c_reserved(name) || (strchr(name, '_') && has_upper(name)))
        return corm__perr(p->c, at, "pick another name", "model name '%s' is reserved in C", name);
    char *snake = corm__lower_snake(p->c->arena, name);
    if (!snake) return corm__pnomem(p->c);
    if (strcmp(snake, "corm") == 0 || strncmp(snake, "corm_", 5) == 0)
        return corm__perr(p->c, at, "names starting with Corm are corm's own: pick another name",
                          "model name '%s' is reserved", name);
    return CORM_OK;
}

/* Field names and related_name: they become struct members, lookup path
** parts and accessor names. */
static corm_rc check_member_name(parser *p, corm__pos at, const char *name, const char *what)
{
    if (!(name[0] >= 'a' && name[0] <= 'z'))
        return corm__perr(p->c, at, "field and relation names are lower_snake: published_date",
                          "%s '%s' must start with a lowercase letter", what, name);
    if (strstr(name, "__"))
        return corm__perr(p->c, at,
                          "'__' separates the parts of a lookup (author__name): use one underscore",
                          "%s '%s' contains '__'", what, name);
    if (name[strlen(name) - 1] == '_')
        return corm__perr(p->c, at, "remove the trailing underscore: it would clash with lookups",
                          "%s '%s' ends with '_'", what, name);
    if (strcmp(name, "pk") == 0)
        return corm__perr(p->c, at, "'pk' always names the primary key: pick another name",
                          "%s 'pk' is reserved", what);
    if (corm__c_reserved(name))
        return corm__perr(p->c, at,
                          "it becomes a C struct member or function name: pick another name",
                          "%s '%s' is reserved in C", what, name);
    return CORM_OK;
}

/* --------------------------------------------------------------- helpers */

static bool tok_starts_member(parser *p)
{
    /* `unique (` and `unique index` start a member, `unique:` a field. */
    const corm__token *t1 = tok(p, 1);
    if (t1->kind == CORM__T_LPAREN) return true;
    return is_word(t1, "index") && tok(p, 2)->kind != CORM__T_COLON;
}

/* An INT token as an int in [lo, hi]. */
static corm_rc small_int(parser *p, const char *what, int lo, int hi, const char *hint, int *out)
{
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_INT) {
        char w[80];
        snprintf(w, sizeof w, "%s (a whole number)", what);
        return expected(p, t, w, hint);
    }
    if (t->big || t->u < (uint64_t)lo || t->u > (uint64_t)hi) {
        char d[120];
        return corm__perr(p->c, pos_of(t), hint, "%s %s is out of range (%d to %d)", what,
                          corm__tok_describe(t, d, sizeof d), lo, hi);
    }
    *out = (int)t->u;
    next(p);
    return CORM_OK;
}

static void set_type_hint(parser *p, const char *word)
{
    static const struct {
        const char *alias, *use;
    } aliases[] = {{"int", "integer"},
                   {"smallint", "integer"},
                   {"long", "bigint"},
                   {"double", "float"},
                   {"real", "float"},
                   {"numeric", "decimal(p, s)"},
                   {"boolean", "bool"},
                   {"string", "char(n) or text"},
                   {"varchar", "char(n)"},
                   {"str", "char(n) or text"},
                   {"timestamp", "datetime"},
                   {"time", "datetime"},
                   {"bytes", "blob"},
                   {"bytea", "blob"},
                   {"jsonb", "json"},
                   {"foreignkey", "fk(Model, on_delete=...)"},
                   {"ForeignKey", "fk(Model, on_delete=...)"},
                   {"OneToOneField", "one_to_one(Model, on_delete=...)"},
                   {"o2o", "one_to_one(Model, on_delete=...)"},
                   {"ManyToManyField", "m2m(Model)"},
                   {"many_to_many", "m2m(Model)"}};
    for (size_t i = 0; i < CORM__ARRAY_LEN(aliases); i++)
        if (strcmp(word, aliases[i].alias) == 0) {
            corm__err_hint(p->c->err, "use %s; the types are: " TYPE_LIST, aliases[i].use);
            return;
        }
    const char *best = corm__did_you_mean(word, type_names, CORM__ARRAY_LEN(type_names));
    if (best) corm__err_hint(p->c->err, "did you mean '%s'? the types are: " TYPE_LIST, best);
    else corm__err_hint(p->c->err, "the types are: " TYPE_LIST);
}

static const char *kw_hint(const char *word, const char *const *words, size_t n, const char *list,
                           char *out, size_t size)
{
    const char *best = corm__did_you_mean(word, words, n);
    if (best) snprintf(out, size, "did you mean '%s'? use one of: %s", best, list);
    else snprintf(out, size, "use one of: %s", list);
    return out;
}

/* --------------------------------------------------------------- fields */

/* fk(Target, on_delete=..., related_name=..., null, db_index) */
static corm_rc parse_rel_args(parser *p, corm__ast_field *f, const char *tname,
                              corm__pos *on_delete_pos, bool *has_on_delete, corm__pos opt_pos[],
                              unsigned *seen)
{
    corm_rc rc;
    char what[80];
    snprintf(what, sizeof what, "'(' after '%s'", tname);
    char hint[160];
    if (f->m2m) snprintf(hint, sizeof hint, "write m2m(Genre) or m2m(Genre, related_name=books)");
    else snprintf(hint, sizeof hint, "write %s(Author, on_delete=cascade)", tname);
    if ((rc = expect(p, CORM__T_LPAREN, what, hint))) return rc;
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_IDENT) return expected(p, t, "the name of the related model", hint);
    if (!(f->target = word_dup(p, t))) return corm__pnomem(p->c);
    f->target_pos = pos_of(t);
    next(p);
    while (tok(p, 0)->kind == CORM__T_COMMA) {
        next(p);
        t = tok(p, 0);
        corm__pos at = pos_of(t);
        int k = word_index(t, relopt_names, CORM__ARRAY_LEN(relopt_names));
        if (k < 0) {
            if (t->kind != CORM__T_IDENT)
                return expected(p, t, "an option of the relation", "use one of: " RELOPT_LIST);
            char w[CORM__IDENT_MAX + 1], h[300];
            snprintf(w, sizeof w, "%.*s", (int)t->n, t->p);
            if (word_index(t, on_delete_names, 4) >= 0)
                snprintf(h, sizeof h, "write on_delete=%s", w);
            else kw_hint(w, relopt_names, CORM__ARRAY_LEN(relopt_names), RELOPT_LIST, h, sizeof h);
            return corm__perr(p->c, at, h, "unknown option '%s' in %s(...)", w, tname);
        }
        if (*seen & (1u << (8 + k)))
            return corm__perr(p->c, at, "remove the repeated option", "option '%s' is given twice",
                              relopt_names[k]);
        *seen |= 1u << (8 + k);
        next(p);
        if (k == 0 || k == 1) { /* on_delete=, related_name= */
            snprintf(what, sizeof what, "'=' after '%s'", relopt_names[k]);
            if ((rc = expect(p, CORM__T_EQUALS, what,
                             k == 0 ? "write " ON_DELETE_HINT : "write related_name=books")))
                return rc;
            t = tok(p, 0);
            if (k == 0) {
                int a = word_index(t, on_delete_names, 4);
                if (a < 0) {
                    if (t->kind != CORM__T_IDENT)
                        return expected(p, t, "an on_delete action", "write " ON_DELETE_HINT);
                    char w[CORM__IDENT_MAX + 1];
                    snprintf(w, sizeof w, "%.*s", (int)t->n, t->p);
                    return corm__perr(p->c, pos_of(t), "use " ON_DELETE_HINT,
                                      "unknown on_delete action '%s'", w);
                }
                if (f->m2m)
                    return corm__perr(
                        p->c, at, "m2m links are always deleted with either side: remove on_delete",
                        "m2m field '%s' takes no on_delete", f->name);
                f->on_delete = (corm_on_delete)a;
                *on_delete_pos = at;
                *has_on_delete = true;
            } else {
                if (t->kind != CORM__T_IDENT)
                    return expected(p, t, "a name after 'related_name='",
                                    "write related_name=books");
                if (!(f->related_name = word_dup(p, t))) return corm__pnomem(p->c);
                f->related_name_pos = pos_of(t);
                if ((rc = check_member_name(p, f->related_name_pos, f->related_name,
                                            "related_name")))
                    return rc;
            }
            next(p);
        } else { /* null, db_index */
            unsigned flag = k == 2 ? CORM_FF_NULL : CORM_FF_DB_INDEX;
            if (f->m2m)
                return corm__perr(p->c, at, "an m2m relation has no column: remove it",
                                  "m2m field '%s' takes no '%s'", f->name, relopt_names[k]);
            if (f->flags & flag)
                return corm__perr(p->c, at, "remove the repeated option",
                                  "option '%s' is given twice", relopt_names[k]);
            f->flags |= flag;
            opt_pos[k == 2 ? 0 : 2] = at;
        }
    }
    t = tok(p, 0);
    if (t->kind != CORM__T_RPAREN) {
        if (t->kind == CORM__T_IDENT)
            return expected(p, t, "',' or ')'", "separate the options with commas");
        return expected(p, t, "')'", "close the argument list with )");
    }
    next(p);
    return CORM_OK;
}

static corm_rc parse_literal(parser *p, corm__literal *lit)
{
    memset(lit, 0, sizeof *lit);
    const corm__token *t = tok(p, 0);
    lit->pos = pos_of(t);
    const char *hint = "a default is a number, a \"string\", true, false or null";
    if (t->kind == CORM__T_MINUS) {
        lit->neg = true;
        next(p);
        t = tok(p, 0);
        if (t->kind != CORM__T_INT && t->kind != CORM__T_FLOAT)
            return expected(p, t, "a number after '-'", hint);
    }
    char shown[200];
    if (t->kind == CORM__T_INT || t->kind == CORM__T_FLOAT) {
        lit->kind = t->kind == CORM__T_INT ? CORM__LIT_INT : CORM__LIT_FLOAT;
        lit->u = t->u;
        lit->big = t->big;
        lit->text = t->p;
        lit->textlen = t->n;
        snprintf(shown, sizeof shown, "%s%.*s", lit->neg ? "-" : "", (int)(t->n > 60 ? 60 : t->n),
                 t->p);
    } else if (t->kind == CORM__T_STRING) {
        lit->kind = CORM__LIT_STRING;
        lit->str = t->str;
        lit->len = t->len;
        char q[160];
        snprintf(shown, sizeof shown, "\"%s\"", corm__quote(q, sizeof q, t->str, t->len, 40));
    } else if (is_word(t, "true") || is_word(t, "false") || is_word(t, "null")) {
        lit->kind = is_word(t, "true")    ? CORM__LIT_TRUE
                    : is_word(t, "false") ? CORM__LIT_FALSE
                                          : CORM__LIT_NULL;
        snprintf(shown, sizeof shown, "%.*s", (int)t->n, t->p);
    } else {
        return expected(p, t, "a value after 'default='", hint);
    }
    if (!(lit->shown = corm__arena_strdup(p->c->arena, shown))) return corm__pnomem(p->c);
    next(p);
    return CORM_OK;
}

/* 'renamed_from' IDENT: a rename hint for makemigrations. */
static corm_rc parse_renamed_from(parser *p, const char **out, corm__pos *pos)
{
    if (*out)
        return corm__perr(p->c, pos_of(tok(p, 0)), "keep one renamed_from",
                          "'renamed_from' is given twice");
    *pos = pos_of(tok(p, 0));
    next(p);
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_IDENT)
        return expected(p, t, "the old name after 'renamed_from'",
                        "write name: char(200) renamed_from title, or model Volume renamed_from "
                        "Book { ... }");
    if (!(*out = word_dup(p, t))) return corm__pnomem(p->c);
    next(p);
    return CORM_OK;
}

/* Options after the type; stops at anything else (the next member). */
static corm_rc parse_options(parser *p, corm__ast_field *f, corm__pos opt_pos[], unsigned *seen,
                             corm__literal *lit, bool *has_default)
{
    static const unsigned flags[] = {CORM_FF_NULL,     CORM_FF_UNIQUE,       CORM_FF_DB_INDEX,
                                     CORM_FF_AUTO_NOW, CORM_FF_AUTO_NOW_ADD, 0,
                                     CORM_FF_SENSITIVE};
    corm_rc rc;
    for (;;) {
        const corm__token *t = tok(p, 0);
        if (is_word(t, "renamed_from") && tok(p, 1)->kind != CORM__T_COLON) {
            if ((rc = parse_renamed_from(p, &f->renamed_from, &f->renamed_from_pos))) return rc;
            continue;
        }
        int k = word_index(t, option_names, CORM__ARRAY_LEN(option_names));
        if (k < 0 || tok(p, 1)->kind == CORM__T_COLON) return CORM_OK;
        if (k == 1 && tok_starts_member(p)) return CORM_OK;
        if (k == 5 && tok(p, 1)->kind == CORM__T_IDENT) return CORM_OK; /* default select_... */
        corm__pos at = pos_of(t);
        if (f->m2m)
            return corm__perr(p->c, at, "an m2m relation has no column: remove the option",
                              "m2m field '%s' takes no '%s'", f->name, option_names[k]);
        if (k != 5 ? (f->flags & flags[k]) != 0 : *has_default)
            return corm__perr(p->c, at, "remove the repeated option", "option '%s' is given twice",
                              option_names[k]);
        *seen |= 1u << k;
        opt_pos[k] = at;
        next(p);
        if (k == 5) {
            if ((rc = expect(p, CORM__T_EQUALS, "'=' after 'default'", "write default=0")))
                return rc;
            if ((rc = parse_literal(p, lit))) return rc;
            *has_default = true;
        } else {
            f->flags |= flags[k];
        }
    }
}

static corm__pos later(corm__pos a, corm__pos b)
{
    return (a.line > b.line || (a.line == b.line && a.col > b.col)) ? a : b;
}

/* The checks of one complete field declaration. */
static corm_rc check_field(parser *p, corm__ast_field *f, const corm__pos opt_pos[],
                           bool has_on_delete, corm__pos on_delete_pos, const corm__literal *lit,
                           bool has_default)
{
    corm_rc rc;
    bool rel = f->type == CORM_FT_FK || f->type == CORM_FT_O2O;
    if (rel && !f->m2m && !has_on_delete)
        return corm__perr(p->c, f->type_pos, "add " ON_DELETE_HINT, "%s field '%s' needs on_delete",
                          corm__ftype_name(f->type), f->name);
    if (rel && f->on_delete == CORM_SET_NULL && !(f->flags & CORM_FF_NULL))
        return corm__perr(p->c, on_delete_pos, "add null: a deleted target leaves the key NULL",
                          "on_delete=set_null needs a nullable field, but '%s' is not null",
                          f->name);
    if (f->type == CORM_FT_O2O) f->flags |= CORM_FF_UNIQUE;
    unsigned autos = f->flags & (CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD);
    if (autos) {
        corm__pos at = opt_pos[(f->flags & CORM_FF_AUTO_NOW) ? 3 : 4];
        const char *opt = (f->flags & CORM_FF_AUTO_NOW) ? "auto_now" : "auto_now_add";
        if (f->type != CORM_FT_DATE && f->type != CORM_FT_DATETIME)
            return corm__perr(p->c, at,
                              "auto_now and auto_now_add apply to date and datetime fields",
                              "option '%s' does not apply to %s field '%s'", opt,
                              corm__ftype_name(f->type), f->name);
        if (autos == (CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD))
            return corm__perr(p->c, later(opt_pos[3], opt_pos[4]),
                              "auto_now sets it on every save, auto_now_add on the first: keep one",
                              "options auto_now and auto_now_add exclude each other");
        if (has_default)
            return corm__perr(p->c, opt_pos[5], "the value is set on save: remove default=",
                              "field '%s' has %s and default=", f->name, opt);
    }
    if (has_default) {
        if (lit->kind == CORM__LIT_NULL && !(f->flags & CORM_FF_NULL))
            return corm__perr(p->c, lit->pos, "add null to the field, or give a non-null default",
                              "default=null on field '%s', which is not null", f->name);
        if ((rc = corm__check_default(p->c, f, lit, &f->default_sql))) return rc;
        f->flags |= CORM_FF_HAS_DEFAULT;
    }
    return CORM_OK;
}

static corm_rc parse_field(parser *p, corm__ast_model *m, int *nfields_cols, int *nrels)
{
    corm_rc rc;
    const corm__token *t = tok(p, 0);
    if (!corm__arena_grow(p->c->arena, (void **)&m->fields, m->nfields, &m->capfields,
                          sizeof *m->fields))
        return corm__pnomem(p->c);
    corm__ast_field *f = &m->fields[m->nfields];
    memset(f, 0, sizeof *f);
    f->pos = pos_of(t);
    if (!(f->name = word_dup(p, t))) return corm__pnomem(p->c);
    if (strcmp(f->name, "id") == 0)
        return corm__perr(p->c, f->pos,
                          "every model has the primary key id (bigint): remove this field",
                          "field 'id' is implicit in model '%s'", m->name);
    if ((rc = check_member_name(p, f->pos, f->name, "field name"))) return rc;
    next(p); /* name */
    next(p); /* ':' */

    t = tok(p, 0);
    f->type_pos = pos_of(t);
    char hint[600];
    if (t->kind != CORM__T_IDENT) {
        snprintf(hint, sizeof hint, "the types are: %s", TYPE_LIST);
        char w[80];
        snprintf(w, sizeof w, "a type after '%s:'", f->name);
        return expected(p, t, w, hint);
    }
    int ti = word_index(t, type_names, CORM__ARRAY_LEN(type_names));
    if (ti < 0) {
        char w[CORM__IDENT_MAX + 1];
        snprintf(w, sizeof w, "%.*s", (int)t->n, t->p);
        corm__perr(p->c, f->type_pos, NULL, "unknown type '%s' for field '%s'", w, f->name);
        set_type_hint(p, w);
        return CORM_SCHEMA;
    }
    next(p);
    static const corm_ftype types[] = {
        CORM_FT_INTEGER, CORM_FT_BIGINT, CORM_FT_FLOAT, CORM_FT_DECIMAL, CORM_FT_BOOL,
        CORM_FT_CHAR,    CORM_FT_TEXT,   CORM_FT_EMAIL, CORM_FT_DATE,    CORM_FT_DATETIME,
        CORM_FT_JSON,    CORM_FT_BLOB,   CORM_FT_FK,    CORM_FT_O2O,     CORM_FT_FK};
    f->type = types[ti];
    f->m2m = ti == 14;
    corm__pos opt_pos[7] = {{0, 0}};
    unsigned seen = 0;
    bool has_on_delete = false;
    corm__pos on_delete_pos = {0, 0};
    if (f->type == CORM_FT_CHAR) {
        if ((rc = expect(p, CORM__T_LPAREN, "'(' after 'char'",
                         "char needs a maximum length: char(200)")))
            return rc;
        if ((rc = small_int(p, "char length", 1, CORM__CHAR_MAX,
                            "char(n) holds up to n characters: use text for unbounded strings",
                            &f->max_length)))
            return rc;
        if ((rc = expect(p, CORM__T_RPAREN, "')'", "char takes one length: char(200)"))) return rc;
    } else if (f->type == CORM_FT_DECIMAL) {
        const char *h = "decimal needs digits and decimal places: decimal(10, 2)";
        if ((rc = expect(p, CORM__T_LPAREN, "'(' after 'decimal'", h))) return rc;
        if ((rc = small_int(p, "decimal precision", 1, CORM__DECIMAL_MAX,
                            "a decimal is an exact corm_decimal of up to 18 digits: "
                            "decimal(10, 2); use float for wider numbers",
                            &f->precision)))
            return rc;
        if ((rc = expect(p, CORM__T_COMMA, "',' and the number of decimal places", h))) return rc;
        t = tok(p, 0);
        corm__pos sp = pos_of(t);
        if ((rc = small_int(p, "decimal scale", 0, CORM__DECIMAL_MAX, h, &f->scale))) return rc;
        if (f->scale > f->precision)
            return corm__perr(
                p->c, sp,
                "the scale counts digits after the point, out of the precision: decimal(10, 2)",
                "decimal scale %d is larger than its precision %d", f->scale, f->precision);
        if ((rc = expect(p, CORM__T_RPAREN, "')'", h))) return rc;
    } else if (f->type == CORM_FT_FK || f->type == CORM_FT_O2O) {
        if ((rc = parse_rel_args(p, f, type_names[ti], &on_delete_pos, &has_on_delete, opt_pos,
                                 &seen)))
            return rc;
    }
    if (f->m2m) {
        if (++*nrels > CORM_MAX_RELS)
            return corm__perr(p->c, f->pos,
                              "split the model, e.g. with a one_to_one companion model",
                              "model '%s' has more than %d relations", m->name, CORM_MAX_RELS);
    } else {
        if (++*nfields_cols > CORM_MAX_FIELDS)
            return corm__perr(p->c, f->pos,
                              "split the model, e.g. BookDetail { book: one_to_one(Book, "
                              "on_delete=cascade) ... }",
                              "model '%s' has more than %d fields (with id)", m->name,
                              CORM_MAX_FIELDS);
        if ((f->type == CORM_FT_FK || f->type == CORM_FT_O2O) && ++*nrels > CORM_MAX_RELS)
            return corm__perr(p->c, f->pos,
                              "split the model, e.g. with a one_to_one companion model",
                              "model '%s' has more than %d relations", m->name, CORM_MAX_RELS);
    }
    corm__literal lit;
    bool has_default = false;
    memset(&lit, 0, sizeof lit);
    if ((rc = parse_options(p, f, opt_pos, &seen, &lit, &has_default))) return rc;
    if ((rc = check_field(p, f, opt_pos, has_on_delete, on_delete_pos, &lit, has_default)))
        return rc;
    m->nfields++;
    return CORM_OK;
}

/* ------------------------------------------------------ other members */

/* ['-'] IDENT {',' ['-'] IDENT}, or plain IDENTs when !allow_desc. */
static corm_rc parse_cols(parser *p, bool allow_desc, const char *ctx, corm__ast_col **out,
                          int *nout)
{
    int cap = 0;
    *out = NULL;
    *nout = 0;
    for (;;) {
        const corm__token *t = tok(p, 0);
        bool desc = false;
        corm__pos at = pos_of(t);
        if (t->kind == CORM__T_MINUS) {
            if (!allow_desc)
                return corm__perr(p->c, at, "a unique constraint has no order: unique (a, b)",
                                  "'-' in %s", ctx);
            desc = true;
            next(p);
            t = tok(p, 0);
        }
        if (t->kind != CORM__T_IDENT) {
            char w[80];
            snprintf(w, sizeof w, "a field name in %s", ctx);
            return expected(p, t, w,
                            allow_desc ? "list fields: title, -published_date"
                                       : "list fields: unique (author, title)");
        }
        if (*nout >= CORM_MAX_FIELDS)
            return corm__perr(p->c, pos_of(t), "a model has at most that many fields",
                              "%s lists more than %d fields", ctx, CORM_MAX_FIELDS);
        if (!corm__arena_grow(p->c->arena, (void **)out, *nout, &cap, sizeof **out))
            return corm__pnomem(p->c);
        corm__ast_col *col = &(*out)[*nout];
        if (!(col->name = word_dup(p, t))) return corm__pnomem(p->c);
        col->desc = desc;
        col->pos = at;
        for (int i = 0; i < *nout; i++)
            if (strcmp((*out)[i].name, col->name) == 0)
                return corm__perr(p->c, pos_of(t), "list each field once",
                                  "field '%s' appears twice in %s", col->name, ctx);
        (*nout)++;
        next(p);
        if (tok(p, 0)->kind != CORM__T_COMMA) return CORM_OK;
        next(p);
    }
}

static corm_rc parse_table(parser *p, corm__ast_model *m)
{
    const corm__token *kw = tok(p, 0);
    corm__pos at = pos_of(kw);
    if (m->table)
        return corm__perr(p->c, at, "keep one table name", "model '%s' has two table names",
                          m->name);
    next(p);
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_STRING)
        return expected(p, t, "a table name after 'table'", "write table \"books\"");
    corm__pos sp = pos_of(t);
    if (t->len == 0) return corm__perr(p->c, sp, "write table \"books\"", "empty table name");
    if (t->len > CORM__IDENT_MAX)
        return corm__perr(p->c, sp, "PostgreSQL cuts longer names: shorten it",
                          "table name is longer than %d bytes", CORM__IDENT_MAX);
    for (size_t i = 0; i < t->len; i++)
        if ((unsigned char)t->str[i] < 0x20)
            return corm__perr(p->c, sp, "use letters, digits and underscores",
                              "table name contains a control character");
    if (!(m->table = corm__arena_strndup(p->c->arena, t->str, t->len))) return corm__pnomem(p->c);
    m->table_pos = sp;
    next(p);
    return CORM_OK;
}

static corm_rc parse_ordering(parser *p, corm__ast_model *m)
{
    corm__pos at = pos_of(tok(p, 0));
    if (m->ordering_pos.line)
        return corm__perr(p->c, at,
                          "list every field in one ordering: ordering -published_date, title",
                          "model '%s' has two orderings", m->name);
    m->ordering_pos = at;
    next(p);
    return parse_cols(p, true, "ordering", &m->ordering, &m->nordering);
}

static bool starts_literal(const corm__token *t)
{
    return t->kind == CORM__T_MINUS || t->kind == CORM__T_INT || t->kind == CORM__T_FLOAT ||
           t->kind == CORM__T_STRING || is_word(t, "true") || is_word(t, "false") ||
           is_word(t, "null");
}

/* 'where' field OP value ('and' field OP value)*: a partial index's
** condition.  `where` / `and` followed by ':' is the next field. */
static corm_rc parse_where(parser *p, corm__ast_index *ix)
{
    static const char *const hint =
        "write where is_published = true, or where price > 0 and deleted_at = null";
    ix->where_pos = pos_of(tok(p, 0));
    next(p); /* where */
    for (;;) {
        if (ix->nconds >= CORM_MAX_FIELDS)
            return corm__perr(p->c, pos_of(tok(p, 0)), "keep the condition short",
                              "an index condition has more than %d terms", CORM_MAX_FIELDS);
        if (!corm__arena_grow(p->c->arena, (void **)&ix->conds, ix->nconds, &ix->capconds,
                              sizeof *ix->conds))
            return corm__pnomem(p->c);
        corm__ast_cond *c = &ix->conds[ix->nconds];
        memset(c, 0, sizeof *c);
        const corm__token *t = tok(p, 0);
        if (t->kind != CORM__T_IDENT) return expected(p, t, "a field name in the condition", hint);
        if (!(c->col.name = word_dup(p, t))) return corm__pnomem(p->c);
        c->col.pos = pos_of(t);
        next(p);
        t = tok(p, 0);
        if (t->kind != CORM__T_EQUALS && t->kind != CORM__T_CMP)
            return expected(p, t, "=, !=, <, <=, > or >= after the field", hint);
        if (!(c->op = word_dup(p, t))) return corm__pnomem(p->c);
        c->op_pos = pos_of(t);
        next(p);
        t = tok(p, 0);
        if (!starts_literal(t))
            return expected(
                p, t, "a value after the operator",
                "a condition compares with a number, a \"string\", true, false or null");
        if (!(c->lit = corm__arena_zalloc(p->c->arena, sizeof *c->lit))) return corm__pnomem(p->c);
        corm_rc rc = parse_literal(p, c->lit);
        if (rc) return rc;
        ix->nconds++;
        if (!is_word(tok(p, 0), "and") || tok(p, 1)->kind == CORM__T_COLON) return CORM_OK;
        next(p); /* and */
    }
}

/* ['unique'] 'index' [name] '(' cols ')'  or  'unique' '(' names ')',
** then optional 'using' kind and 'where' condition. */
static corm_rc parse_index(parser *p, corm__ast_model *m)
{
    corm_rc rc;
    corm__pos at = pos_of(tok(p, 0));
    if (m->nindexes >= CORM__MAX_INDEXES)
        return corm__perr(p->c, at, "drop indexes that no query uses",
                          "model '%s' has more than %d indexes", m->name, CORM__MAX_INDEXES);
    if (!corm__arena_grow(p->c->arena, (void **)&m->indexes, m->nindexes, &m->capindexes,
                          sizeof *m->indexes))
        return corm__pnomem(p->c);
    corm__ast_index *ix = &m->indexes[m->nindexes];
    memset(ix, 0, sizeof *ix);
    ix->pos = at;
    bool is_index = true;
    if (is_word(tok(p, 0), "unique")) {
        ix->unique = true;
        next(p);
        is_index = is_word(tok(p, 0), "index");
    }
    const char *ctx = ix->unique ? (is_index ? "unique index" : "unique (...)") : "index";
    if (is_index) {
        next(p); /* index */
        const corm__token *t = tok(p, 0);
        if (t->kind == CORM__T_IDENT) {
            if (!(ix->name = word_dup(p, t))) return corm__pnomem(p->c);
            ix->name_pos = pos_of(t);
            next(p);
        }
    }
    if ((rc = expect(p, CORM__T_LPAREN, "'(' and the indexed fields",
                     is_index
                         ? "write index (published_date, title) or index by_date (-published_date)"
                         : "write unique (author, title)")))
        return rc;
    if ((rc = parse_cols(p, is_index, ctx, &ix->cols, &ix->ncols))) return rc;
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_RPAREN)
        return expected(p, t, "',' or ')'", "close the field list with )");
    next(p);
    if (is_word(tok(p, 0), "using") && tok(p, 1)->kind != CORM__T_COLON) {
        ix->using_pos = pos_of(tok(p, 0));
        next(p);
        t = tok(p, 0);
        if (is_word(t, "trigram")) ix->kind = CORM_INDEX_TRIGRAM;
        else if (is_word(t, "search")) ix->kind = CORM_INDEX_SEARCH;
        else if (is_word(t, "btree")) ix->kind = CORM_INDEX_BTREE;
        else
            return expected(p, t, "trigram, search or btree after 'using'",
                            "write index (title) using trigram (icontains on PostgreSQL) or "
                            "index (title) using search (the search lookup)");
        next(p);
    }
    if (is_word(tok(p, 0), "where") && tok(p, 1)->kind != CORM__T_COLON &&
        (rc = parse_where(p, ix)))
        return rc;
    m->nindexes++;
    return CORM_OK;
}

/* 'scope' field ['=' value]: a default scope.  The literal is checked
** against the field by validate.c (as default= is). */
static corm_rc parse_scope(parser *p, corm__ast_model *m)
{
    corm__pos at = pos_of(tok(p, 0));
    if (m->nscopes >= CORM__MAX_SCOPES_PER_MODEL)
        return corm__perr(p->c, at, "keep the default filter small; filter the rest per query",
                          "model '%s' has more than %d scopes", m->name,
                          CORM__MAX_SCOPES_PER_MODEL);
    if (!corm__arena_grow(p->c->arena, (void **)&m->scopes, m->nscopes, &m->capscopes,
                          sizeof *m->scopes))
        return corm__pnomem(p->c);
    corm__ast_scope *sc = &m->scopes[m->nscopes];
    memset(sc, 0, sizeof *sc);
    sc->pos = at;
    next(p); /* scope */
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_IDENT)
        return expected(
            p, t, "a field name after 'scope'",
            "write scope tenant_id (a value set at run time) or scope is_deleted = false");
    if (!(sc->col.name = word_dup(p, t))) return corm__pnomem(p->c);
    sc->col.pos = pos_of(t);
    next(p);
    if (tok(p, 0)->kind == CORM__T_EQUALS) {
        next(p);
        t = tok(p, 0);
        if (!starts_literal(t))
            return expected(p, t, "a value after '='",
                            "a scope value is a number, a \"string\", true, false or null");
        sc->lit = corm__arena_zalloc(p->c->arena, sizeof *sc->lit);
        if (!sc->lit) return corm__pnomem(p->c);
        corm_rc rc = parse_literal(p, sc->lit);
        if (rc) return rc;
    }
    m->nscopes++;
    return CORM_OK;
}

/* 'default' ('select_related' | 'prefetch_related') '(' path {',' path} ')'
** ...: eager loads every default queryset of the model applies (Django's
** custom manager whose get_queryset() calls select/prefetch_related).  The
** paths are checked against the relations by validate.c. */
static corm_rc parse_default(parser *p, corm__ast_model *m)
{
    static const char hint[] = "write default select_related(author) prefetch_related(genres)";
    next(p); /* default */
    int nclauses = 0;
    for (;;) {
        const corm__token *t = tok(p, 0);
        bool sel = is_word(t, "select_related"), pre = is_word(t, "prefetch_related");
        if (!sel && !pre) {
            if (nclauses) return CORM_OK;
            return expected(p, t, "select_related(...) or prefetch_related(...) after 'default'",
                            hint);
        }
        next(p);
        corm_rc rc = expect(p, CORM__T_LPAREN, "'(' after the eager load", hint);
        if (rc) return rc;
        for (;;) {
            t = tok(p, 0);
            if (t->kind != CORM__T_IDENT)
                return expected(p, t, "a relation path such as author or books__genres", hint);
            if (!corm__arena_grow(p->c->arena, (void **)&m->eager, m->neager, &m->capeager,
                                  sizeof *m->eager))
                return corm__pnomem(p->c);
            corm__ast_eager *e = &m->eager[m->neager];
            if (!(e->path = word_dup(p, t))) return corm__pnomem(p->c);
            e->pos = pos_of(t);
            e->prefetch = pre;
            m->neager++;
            next(p);
            if (tok(p, 0)->kind != CORM__T_COMMA) break;
            next(p);
        }
        if ((rc = expect(p, CORM__T_RPAREN, "',' or ')' after the relation path", hint))) return rc;
        nclauses++;
    }
}

/* What to say about a word that starts no member. */
static corm_rc bad_member(parser *p, const corm__ast_model *m, bool after_field)
{
    const corm__token *t = tok(p, 0);
    const corm__token *t1 = tok(p, 1);
    char w[CORM__IDENT_MAX + 1], h[400];
    snprintf(w, sizeof w, "%.*s", (int)t->n, t->p);
    if (is_word(t, "model"))
        return corm__perr(p->c, pos_of(t), "close each model with } before the next",
                          "model '%s' is not closed before 'model'", m->name);
    bool option_like = t1->kind == CORM__T_EQUALS || t1->kind == CORM__T_RBRACE ||
                       t1->kind == CORM__T_EOF ||
                       (t1->kind == CORM__T_IDENT && tok(p, 2)->kind == CORM__T_COLON) ||
                       (t1->kind == CORM__T_IDENT && word_index(t1, option_names, 7) >= 0);
    if (after_field && option_like) {
        const corm__ast_field *f = &m->fields[m->nfields - 1];
        if (word_index(t, on_delete_names, 4) >= 0 || is_word(t, "on_delete") ||
            is_word(t, "related_name"))
            snprintf(h, sizeof h, "relation options go inside the parentheses: %s(%s, ...)",
                     f->m2m ? "m2m" : corm__ftype_name(f->type), f->target ? f->target : "Model");
        else kw_hint(w, option_names, 7, OPTION_LIST, h, sizeof h);
        return corm__perr(p->c, pos_of(t), h, "unknown option '%s' for field '%s'", w, f->name);
    }
    snprintf(h, sizeof h,
             "a field is '%s: type'; other members are table \"name\", "
             "ordering ..., index (...) and unique (...)",
             w);
    return corm__perr(p->c, pos_of(t), h, "unexpected '%s' in model '%s'", w, m->name);
}

static corm_rc parse_model(parser *p)
{
    corm_rc rc;
    corm__ast *ast = p->ast;
    const corm__token *kw = tok(p, 0);
    if (ast->nmodels >= CORM__MAX_MODELS)
        return corm__perr(p->c, pos_of(kw), "split the schema", "more than %d models",
                          CORM__MAX_MODELS);
    next(p);
    const corm__token *t = tok(p, 0);
    if (t->kind != CORM__T_IDENT)
        return expected(p, t, "a model name after 'model'",
                        "write model Book { title: char(200) }");
    if (!corm__arena_grow(p->c->arena, (void **)&ast->models, ast->nmodels, &ast->capmodels,
                          sizeof *ast->models))
        return corm__pnomem(p->c);
    corm__ast_model *m = &ast->models[ast->nmodels];
    memset(m, 0, sizeof *m);
    if (!(m->name = word_dup(p, t))) return corm__pnomem(p->c);
    m->pos = pos_of(t);
    if ((rc = check_model_name(p, t, m->name))) return rc;
    next(p);
    if (is_word(tok(p, 0), "renamed_from") &&
        (rc = parse_renamed_from(p, &m->renamed_from, &m->renamed_from_pos)))
        return rc;
    char what[120];
    snprintf(what, sizeof what, "'{' after 'model %s'", m->name);
    if ((rc = expect(p, CORM__T_LBRACE, what, "write model Book { title: char(200) }"))) return rc;
    int ncols = 1, nrels = 0; /* id */
    bool after_field = false;
    for (;;) {
        t = tok(p, 0);
        if (t->kind == CORM__T_RBRACE) {
            next(p);
            break;
        }
        if (t->kind == CORM__T_EOF) {
            char d[40];
            return corm__perr(p->c, pos_of(t), "close the model with }",
                              "model '%s' (line %d) is not closed: expected '}', found %s", m->name,
                              m->pos.line, corm__tok_describe(t, d, sizeof d));
        }
        if (t->kind != CORM__T_IDENT) {
            char d[120];
            return syntax(p, t,
                          "a member is 'name: type', table \"name\", ordering ..., index (...) or "
                          "unique (...)",
                          "expected a field or '}', found %s", corm__tok_describe(t, d, sizeof d));
        }
        bool was_field = false;
        if (tok(p, 1)->kind == CORM__T_COLON) {
            rc = parse_field(p, m, &ncols, &nrels);
            was_field = true;
        } else if (is_word(t, "table")) {
            rc = parse_table(p, m);
        } else if (is_word(t, "ordering")) {
            rc = parse_ordering(p, m);
        } else if (is_word(t, "scope")) {
            rc = parse_scope(p, m);
        } else if (is_word(t, "default") && tok(p, 1)->kind == CORM__T_IDENT) {
            rc = parse_default(p, m);
        } else if (is_word(t, "index")) {
            rc = parse_index(p, m);
        } else if (is_word(t, "unique")) {
            if (tok_starts_member(p)) rc = parse_index(p, m);
            else {
                const corm__token *t1 = tok(p, 1);
                rc = expected(p, t1, "'(' or 'index' after 'unique'",
                              "write unique (author, title), unique index (isbn), or 'unique: "
                              "type' for a field");
            }
        } else {
            rc = bad_member(p, m, after_field);
        }
        if (rc) return rc;
        after_field = was_field;
    }
    ast->nmodels++;
    return CORM_OK;
}

corm_rc corm__parse_ast(corm__pctx *c, const char *text, size_t len, corm__ast *out)
{
    parser p;
    memset(out, 0, sizeof *out);
    p.c = c;
    p.ast = out;
    corm__lex_init(&p.lx, text, len, c->arena);
    for (;;) {
        const corm__token *t = tok(&p, 0);
        if (t->kind == CORM__T_EOF) {
            out->eof = pos_of(t);
            break;
        }
        if (!is_word(t, "model"))
            return expected(&p, t, "'model'",
                            "a schema is a list of models: model Book { title: char(200) }");
        corm_rc rc = parse_model(&p);
        if (rc) return rc;
    }
    if (p.lx.nomem) return corm__pnomem(c);
    if (out->nmodels == 0)
        return corm__perr(c, out->eof, "define a model: model Book { title: char(200) }",
                          "the schema has no models");
    return CORM_OK;
}
