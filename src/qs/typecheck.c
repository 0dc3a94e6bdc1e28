/*
** typecheck.c - expression types against the schema (typecheck.h).
**
** Kinds: number (integer, bigint, float, decimal, a key or a relation's
** pk, Count, Sum, Avg, arithmetic), text (char, text, email, json), date
** (date, datetime; a date value is corm_filter's corm_text, not an
** expression: PostgreSQL has no date > text), bool, blob.
** NULL and what cannot be resolved here (a subquery's column, an
** OuterRef, an unknown path) fit anything.
*/
#include "typecheck.h"

#include <string.h>

typedef enum { K_ANY, K_NUM, K_TEXT, K_DATE, K_BOOL, K_BLOB } kind;

static const char *const kind_names[] = {"of any type", "a number", "text",
                                         "a date",      "a bool",   "a blob"};

static kind of_field(const corm_field *f)
{
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL:
    case CORM_FT_FK:
    case CORM_FT_O2O: return K_NUM;
    case CORM_FT_BOOL: return K_BOOL;
    case CORM_FT_DATE:
    case CORM_FT_DATETIME: return K_DATE;
    case CORM_FT_BLOB: return K_BLOB;
    default: return K_TEXT;
    }
}

/* What an operand is, for messages: "Author.email (email)". */
typedef struct operand {
    kind k;
    char what[160];
} operand;

static void expr_kind(const corm_qs *qs, const corm_expr *e, operand *o, int depth);

/* The kind of path from qs's model: fields and relations, an annotation
** as its first part; stops at a lookup or transform. */
static void path_kind(const corm_qs *qs, const char *path, operand *o, int depth)
{
    o->k = K_ANY;
    snprintf(o->what, sizeof o->what, "'%s'", path);
    const corm_model *m = qs->q.model;
    if (!m || !path || depth > 8) return;
    const char *p = path;
    for (int part = 0; *p; part++) {
        const char *end = strstr(p, "__");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (part == 0)
            for (int i = 0; i < qs->q.nannots; i++)
                if (strlen(qs->q.annots[i].name) == n && !strncmp(qs->q.annots[i].name, p, n) &&
                    !corm__annot_hidden(&qs->q, &qs->q.annots[i])) {
                    expr_kind(qs, qs->q.annots[i].e, o, depth + 1);
                    return;
                }
        const corm_relation *r = end ? corm__model_rel(m, p, n) : NULL;
        if (r) {
            m = corm__rel_target(m, r);
            p = end + 2;
            continue;
        }
        const corm_field *f = corm__model_field(m, p, n);
        if (!f && n == 2 && !strncmp(p, "pk", 2)) f = &m->fields[0];
        if (!f) {
            /* a to-many relation at the end: its rows' keys */
            if (!end && corm__model_rel(m, p, n)) o->k = K_NUM;
            return;
        }
        o->k = of_field(f);
        snprintf(o->what, sizeof o->what, "%s.%s (%s)", m->name, f->name,
                 corm__ftype_name(f->type));
        /* a date part is a number */
        if (end && (!strncmp(end + 2, "year", 4) || !strncmp(end + 2, "month", 5) ||
                    !strncmp(end + 2, "day", 3)))
            o->k = K_NUM;
        return;
    }
}

static void expr_kind(const corm_qs *qs, const corm_expr *e, operand *o, int depth)
{
    o->k = K_ANY;
    o->what[0] = '\0';
    if (!e || depth > 8) return;
    switch (e->kind) {
    case CORM__E_FIELD: path_kind(qs, e->path, o, depth); return;
    case CORM__E_VALUE: {
        corm_vtype t = e->value.type;
        o->k = t == CORM_V_INT || t == CORM_V_FLOAT ? K_NUM
               : t == CORM_V_TEXT                   ? K_TEXT
               : t == CORM_V_BOOL                   ? K_BOOL
               : t == CORM_V_BLOB                   ? K_BLOB
                                                    : K_ANY;
        snprintf(o->what, sizeof o->what, "a %s value",
                 t == CORM_V_INT     ? "int"
                 : t == CORM_V_FLOAT ? "float"
                 : t == CORM_V_TEXT  ? "text"
                 : t == CORM_V_BOOL  ? "bool"
                                     : "blob");
        return;
    }
    case CORM__E_AGG:
        if (e->agg == CORM__AGG_MIN || e->agg == CORM__AGG_MAX) path_kind(qs, e->path, o, depth);
        else o->k = K_NUM;
        snprintf(o->what, sizeof o->what, "%s('%s')",
                 e->agg == CORM__AGG_COUNT ? "Count"
                 : e->agg == CORM__AGG_SUM ? "Sum"
                 : e->agg == CORM__AGG_AVG ? "Avg"
                 : e->agg == CORM__AGG_MIN ? "Min"
                                           : "Max",
                 e->path);
        return;
    case CORM__E_BINOP:
        /* Coalesce(a, b): a's kind */
        if (e->op == CORM__OP_COALESCE) {
            expr_kind(qs, e->a, o, depth + 1);
            return;
        }
        o->k = K_NUM;
        snprintf(o->what, sizeof o->what, "an arithmetic expression");
        return;
    case CORM__E_EXISTS:
        o->k = K_BOOL;
        snprintf(o->what, sizeof o->what, "Exists()");
        return;
    default: return; /* a subquery's column, an OuterRef: unknown here */
    }
}

bool corm__tc_arith(corm_qs *qs, const corm_expr *a, char op, const corm_expr *b)
{
    operand x, y;
    expr_kind(qs, a, &x, 0);
    expr_kind(qs, b, &y, 0);
    const operand *bad = x.k != K_ANY && x.k != K_NUM   ? &x
                         : y.k != K_ANY && y.k != K_NUM ? &y
                                                        : NULL;
    if (!bad) return true;
    corm__err_set(&qs->err, CORM_TYPE, "'%c' needs numbers: %s is %s (the other operand: %s)", op,
                  bad->what, kind_names[bad->k], bad == &x ? y.what : x.what);
    corm__err_hint(&qs->err, "use arithmetic on integer, bigint, float or decimal fields and "
                             "number values; SQLite would coerce the text, PostgreSQL refuses it");
    return false;
}

bool corm__tc_agg(corm_qs *qs, const char *agg, const char *path)
{
    operand x;
    path_kind(qs, path, &x, 0);
    if (x.k == K_ANY || x.k == K_NUM) return true;
    corm__err_set(&qs->err, CORM_TYPE, "%s('%s'): %s is %s; %s needs a number", agg, path, x.what,
                  kind_names[x.k], agg);
    corm__err_hint(&qs->err, "%s a number field; Min and Max take text and dates too", agg);
    return false;
}

bool corm__tc_compare(corm_qs *qs, const char *lookup, const corm_expr *rhs)
{
    operand x, y;
    path_kind(qs, lookup, &x, 0);
    expr_kind(qs, rhs, &y, 0);
    if (x.k == K_ANY || y.k == K_ANY || x.k == y.k) return true;
    corm__err_set(&qs->err, CORM_TYPE, "'%s' compares %s, which is %s, with %s, which is %s",
                  lookup, x.what, kind_names[x.k], y.what[0] ? y.what : "an expression",
                  kind_names[y.k]);
    corm__err_hint(&qs->err, "compare operands of one kind (numbers with numbers, text with "
                             "text, dates with dates, bools with bools; SQLite would coerce, "
                             "PostgreSQL refuses); a date value goes to corm_filter as "
                             "corm_text(\"YYYY-MM-DD\")");
    return false;
}
