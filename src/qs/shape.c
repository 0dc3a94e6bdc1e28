/*
** shape.c - what a queryset returns: only/defer, distinct, values rows,
** annotations and aggregates, expressions, and loading a deferred field.
** Builder calls record into the query (src/sql compiles it); the row
** getters read the cells of an evaluated values()/aggregate()/raw result.
*/
#include "qs_int.h"
#include "typecheck.h"

#include <string.h>

static bool ok(corm_qs *qs) { return qs && qs->err.rc == CORM_OK; }

/* Builder calls on an evaluated queryset are an error (see qs.c). */
static bool building(corm_qs *qs, const char *what)
{
    if (!ok(qs)) return false;
    if (qs->evaluated) {
        corm__err_set(&qs->err, CORM_MISUSE, "%s on a queryset that was already evaluated", what);
        corm__err_hint(
            &qs->err, "call %s before iterating, counting or getting; or corm_qs_clone() it", what);
        return false;
    }
    corm__qs_uncache(qs); /* a changed related queryset queries again */
    return true;
}

static void oom(corm_qs *qs)
{
    if (qs && qs->err.rc == CORM_OK)
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory building a queryset");
}

static const char **copy_list(corm_qs *qs, const char *const *v, int *n)
{
    *n = 0;
    while (v && v[*n]) (*n)++;
    /* NULL-terminated, so a stored list can be copied again (clone) */
    const char **p = corm__arena_alloc(&qs->build, (size_t)(*n + 1) * sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < *n; i++)
        if (!(p[i] = corm__arena_strdup(&qs->build, v[i]))) return NULL;
    p[*n] = NULL;
    return p;
}

static void only_or_defer(corm_qs *qs, const char *const *fields, bool defer)
{
    if (!building(qs, defer ? "corm_defer" : "corm_only")) return;
    int n;
    const char **p = copy_list(qs, fields, &n);
    if (!p) {
        oom(qs);
        return;
    }
    qs->q.only = p;
    qs->q.nonly = n;
    qs->q.defer = defer;
}

void corm_only_v(corm_qs *qs, const char *const *fields) { only_or_defer(qs, fields, false); }
void corm_defer_v(corm_qs *qs, const char *const *fields) { only_or_defer(qs, fields, true); }

void corm_distinct(corm_qs *qs)
{
    if (building(qs, "corm_distinct") && corm__qs_unsliced(qs, "corm_distinct", "make distinct"))
        qs->q.distinct = true;
}

void corm_values_v(corm_qs *qs, const char *const *fields)
{
    if (!building(qs, "corm_values")) return;
    int n;
    const char **p = copy_list(qs, fields, &n);
    if (!p) {
        oom(qs);
        return;
    }
    qs->q.values = p;
    qs->q.nvalues = n;
    qs->q.values_mode = true;
}

void corm_values_flat(corm_qs *qs, const char *field)
{
    const char *one[] = {field, NULL};
    if (!field) {
        if (building(qs, "corm_values_flat")) {
            corm__err_set(&qs->err, CORM_MISUSE, "corm_values_flat needs a field");
            corm__err_hint(&qs->err, "corm_values_flat(qs, \"title\")");
        }
        return;
    }
    corm_values_v(qs, one);
}

/* ------------------------------------------------------------ rows */

size_t corm_qs_ncols(const corm_qs *qs) { return qs && qs->evaluated ? qs->rows.ncols : 0; }

const char *corm_qs_colname(const corm_qs *qs, size_t col)
{
    return qs && qs->evaluated && col < qs->rows.ncols ? qs->rows.colnames[col] : NULL;
}

int corm_qs_colindex(const corm_qs *qs, const char *name)
{
    for (size_t i = 0; name && qs && qs->evaluated && i < qs->rows.ncols; i++)
        if (strcmp(qs->rows.colnames[i], name) == 0) return (int)i;
    return -1;
}

const corm_value *corm_qs_cell(const corm_qs *qs, size_t row, size_t col)
{
    if (!qs || !qs->evaluated || row >= qs->rows.nrows || col >= qs->rows.ncols) return NULL;
    return &qs->rows.cells[row * qs->rows.ncols + col];
}

static const corm_value *named(const corm_qs *qs, size_t row, const char *col)
{
    int i = corm_qs_colindex(qs, col);
    return i < 0 ? NULL : corm_qs_cell(qs, row, (size_t)i);
}

int64_t corm_row_int(const corm_qs *qs, size_t row, const char *col)
{
    const corm_value *v = named(qs, row, col);
    if (!v) return 0;
    if (v->type == CORM_V_DECIMAL) return (int64_t)corm_dec_to_double(corm_dec_round(v->u.d, 0));
    return v->type == CORM_V_INT ? v->u.i : v->type == CORM_V_FLOAT ? (int64_t)v->u.f : 0;
}

double corm_row_float(const corm_qs *qs, size_t row, const char *col)
{
    const corm_value *v = named(qs, row, col);
    if (!v) return 0.0;
    if (v->type == CORM_V_DECIMAL) return corm_dec_to_double(v->u.d);
    return v->type == CORM_V_FLOAT ? v->u.f : v->type == CORM_V_INT ? (double)v->u.i : 0.0;
}

corm_decimal corm_row_decimal(const corm_qs *qs, size_t row, const char *col)
{
    const corm_value *v = named(qs, row, col);
    corm_decimal d = corm_dec_units(0, -1);
    if (!v) return d;
    switch (v->type) {
    case CORM_V_DECIMAL: return v->u.d;
    case CORM_V_INT: return corm_dec_units(v->u.i, 0);
    case CORM_V_FLOAT: return corm__dec_shortest(v->u.f);
    case CORM_V_TEXT: return corm_dec(v->u.s.p);
    default: return d;
    }
}

const char *corm_row_text(const corm_qs *qs, size_t row, const char *col)
{
    const corm_value *v = named(qs, row, col);
    return v && v->type == CORM_V_TEXT ? v->u.s.p : NULL;
}

bool corm_row_isnull(const corm_qs *qs, size_t row, const char *col)
{
    const corm_value *v = named(qs, row, col);
    return !v || v->type == CORM_V_NULL;
}

/* ------------------------------------------------------------ expressions */

static corm_expr *new_expr(corm_qs *qs, corm__ekind kind, const char *path)
{
    if (!ok(qs)) return NULL;
    corm_expr *e = corm__arena_zalloc(&qs->build, sizeof *e);
    if (!e || (path && !(e->path = corm__arena_strdup(&qs->build, path)))) {
        oom(qs);
        return NULL;
    }
    e->kind = kind;
    return e;
}

corm_expr *corm_F(corm_qs *qs, const char *path)
{
    return new_expr(qs, CORM__E_FIELD, path ? path : "");
}

corm_expr *corm_OuterRef(corm_qs *inner, const char *path)
{
    return new_expr(inner, CORM__E_OUTER, path ? path : "");
}

corm_expr *corm_V(corm_qs *qs, corm_value v)
{
    corm_expr *e = new_expr(qs, CORM__E_VALUE, NULL);
    if (e && corm__value_copy(&qs->build, &e->value, &v) != CORM_OK) {
        oom(qs);
        return NULL;
    }
    return e;
}

static corm_expr *agg(corm_qs *qs, corm__agg a, const char *path, bool distinct)
{
    if (ok(qs) && path && (a == CORM__AGG_SUM || a == CORM__AGG_AVG) &&
        !corm__tc_agg(qs, a == CORM__AGG_SUM ? "Sum" : "Avg", path))
        return NULL;
    corm_expr *e = new_expr(qs, CORM__E_AGG, path ? path : "");
    if (e) {
        e->agg = a;
        e->distinct = distinct;
    }
    return e;
}

corm_expr *corm_Count(corm_qs *qs, const char *path, bool distinct)
{
    return agg(qs, CORM__AGG_COUNT, path, distinct);
}
corm_expr *corm_Sum(corm_qs *qs, const char *path) { return agg(qs, CORM__AGG_SUM, path, false); }
corm_expr *corm_Avg(corm_qs *qs, const char *path) { return agg(qs, CORM__AGG_AVG, path, false); }
corm_expr *corm_Min(corm_qs *qs, const char *path) { return agg(qs, CORM__AGG_MIN, path, false); }
corm_expr *corm_Max(corm_qs *qs, const char *path) { return agg(qs, CORM__AGG_MAX, path, false); }

static corm_expr *agg_of(corm_qs *qs, corm__agg a, corm_expr *arg, bool distinct)
{
    if (!ok(qs)) return NULL;
    if (!arg) {
        corm__err_set(&qs->err, CORM_MISUSE, "an aggregate of an expression got no expression");
        corm__err_hint(&qs->err, "e.g. corm_SumOf(qs, corm_arith(qs, corm_F(qs, \"price\"), '*', "
                                 "corm_F(qs, \"pages\")))");
        return NULL;
    }
    corm_expr *e = agg(qs, a, "", distinct);
    if (e) e->a = arg;
    return e;
}

corm_expr *corm_CountOf(corm_qs *qs, corm_expr *e, bool distinct)
{
    return agg_of(qs, CORM__AGG_COUNT, e, distinct);
}
corm_expr *corm_SumOf(corm_qs *qs, corm_expr *e) { return agg_of(qs, CORM__AGG_SUM, e, false); }
corm_expr *corm_AvgOf(corm_qs *qs, corm_expr *e) { return agg_of(qs, CORM__AGG_AVG, e, false); }
corm_expr *corm_MinOf(corm_qs *qs, corm_expr *e) { return agg_of(qs, CORM__AGG_MIN, e, false); }
corm_expr *corm_MaxOf(corm_qs *qs, corm_expr *e) { return agg_of(qs, CORM__AGG_MAX, e, false); }

corm_expr *corm_arith(corm_qs *qs, corm_expr *a, char op, corm_expr *b)
{
    if (!ok(qs)) return NULL;
    if (!a || !b || !strchr("+-*/", op) || !op) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_arith needs two expressions and one of + - * /");
        corm__err_hint(&qs->err,
                       "e.g. corm_arith(qs, corm_F(qs, \"price\"), '*', corm_V(qs, corm_int(2)))");
        return NULL;
    }
    if (!corm__tc_arith(qs, a, op, b)) return NULL;
    corm_expr *e = new_expr(qs, CORM__E_BINOP, NULL);
    if (e) {
        e->a = a;
        e->op = op;
        e->b = b;
    }
    return e;
}

/* Keep inner alive as long as qs: its query is compiled inside qs's. */
static bool take(corm_qs *qs, corm_qs *inner)
{
    if (!ok(qs)) {
        corm_qs_free(inner);
        return false;
    }
    if (!inner) {
        oom(qs);
        return false;
    }
    if (inner->err.rc != CORM_OK) {
        corm__err_copy(&qs->err, &inner->err);
        corm_qs_free(inner);
        return false;
    }
    corm_qs **p = corm__realloc(qs->owned, (size_t)(qs->nowned + 1) * sizeof *p);
    if (!p) {
        corm_qs_free(inner);
        oom(qs);
        return false;
    }
    qs->owned = p;
    qs->owned[qs->nowned++] = inner;
    return true;
}

corm_expr *corm_Subquery(corm_qs *qs, corm_qs *inner, const char *field)
{
    if (!take(qs, inner)) return NULL;
    if (!field) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_Subquery needs the field to select");
        corm__err_hint(&qs->err, "corm_Subquery(qs, inner, \"title\")");
        return NULL;
    }
    /* the column first; a values() grouping stays after it (expr.c) */
    int keep = inner->q.values_mode ? inner->q.nvalues : 0;
    const char **one = corm__arena_zalloc(&inner->build, (size_t)(keep + 2) * sizeof *one);
    if (!one || !(one[0] = corm__arena_strdup(&inner->build, field))) {
        oom(qs);
        return NULL;
    }
    int n = 1;
    for (int i = 0; i < keep; i++)
        if (strcmp(inner->q.values[i], field) != 0) one[n++] = inner->q.values[i];
    inner->q.values = one;
    inner->q.nvalues = n;
    corm_expr *e = new_expr(qs, CORM__E_SUBQUERY, NULL);
    if (e) e->sub = &inner->q;
    return e;
}

corm_expr *corm_Exists(corm_qs *qs, corm_qs *inner)
{
    if (!take(qs, inner)) return NULL;
    corm_expr *e = new_expr(qs, CORM__E_EXISTS, NULL);
    if (e) e->sub = &inner->q;
    return e;
}

bool corm_row_bool(const corm_qs *qs, size_t row, const char *col)
{
    int k = corm_qs_colindex(qs, col);
    const corm_value *v = k < 0 ? NULL : corm_qs_cell(qs, row, (size_t)k);
    if (!v) return false;
    switch (v->type) {
    case CORM_V_BOOL: return v->u.b;
    case CORM_V_INT: return v->u.i != 0;
    case CORM_V_FLOAT: return v->u.f != 0;
    case CORM_V_TEXT:
        return v->u.s.p && (strcmp(v->u.s.p, "t") == 0 || strcmp(v->u.s.p, "true") == 0 ||
                            strcmp(v->u.s.p, "1") == 0);
    default: return false;
    }
}

corm_expr *corm_agg_filter(corm_qs *qs, corm_expr *agg, corm_q *q)
{
    if (!ok(qs)) return NULL;
    if (!agg || agg->kind != CORM__E_AGG || !q) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_agg_filter needs %s",
                      !agg || agg->kind != CORM__E_AGG ? "an aggregate (corm_Count, corm_Sum, ...)"
                                                       : "a Q (corm_q_new)");
        corm__err_hint(&qs->err, "e.g. corm_agg_filter(qs, corm_Count(qs, \"books\", false), "
                                 "corm_q_new(qs, \"books__pages__gt\", corm_int(300)))");
        return NULL;
    }
    if (agg->filter) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_agg_filter: the aggregate over '%s' has a filter", agg->path);
        corm__err_hint(&qs->err, "combine the conditions into one Q with corm_q_and");
        return NULL;
    }
    agg->filter = q;
    return agg;
}

corm_expr *corm_Coalesce(corm_qs *qs, corm_expr *a, corm_expr *b)
{
    if (!ok(qs)) return NULL;
    if (!a || !b) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_Coalesce needs two expressions");
        corm__err_hint(&qs->err, "e.g. corm_Coalesce(qs, corm_Sum(qs, \"pages\"), "
                                 "corm_V(qs, corm_int(0))); nest it for more");
        return NULL;
    }
    corm_expr *e = new_expr(qs, CORM__E_BINOP, NULL);
    if (e) {
        e->a = a;
        e->op = CORM__OP_COALESCE;
        e->b = b;
    }
    return e;
}

corm_expr *corm_agg_default(corm_qs *qs, corm_expr *agg, corm_value dflt)
{
    if (!ok(qs)) return NULL;
    if (!agg || agg->kind != CORM__E_AGG) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_agg_default needs an aggregate (corm_Sum, corm_Avg, ...)");
        corm__err_hint(&qs->err, "e.g. corm_agg_default(qs, corm_Sum(qs, \"pages\"), corm_int(0))");
        return NULL;
    }
    if (agg->agg == CORM__AGG_COUNT) {
        /* Django: Count does not allow default (it is 0 over no rows) */
        corm__err_set(&qs->err, CORM_INVALID, "Count does not allow a default");
        corm__err_hint(&qs->err, "Count over no rows is already 0");
        return NULL;
    }
    return corm_Coalesce(qs, agg, corm_V(qs, dflt));
}

/* Aggregates of a new annotation remember how many filter() calls came
** before it (Django computes an annotation over the query as it is then). */
static void mark_calls(corm_expr *e, int calls)
{
    if (!e) return;
    if (e->kind == CORM__E_AGG && !e->calls_set) {
        e->calls_before = calls;
        e->calls_set = true;
    }
    mark_calls(e->a, calls);
    mark_calls(e->b, calls);
}

static void filter_in(corm_qs *qs, const char *lookup, corm_qs *inner, bool exclude)
{
    const char *what = exclude ? "corm_exclude_in" : "corm_filter_in";
    if (!building(qs, what) || !corm__qs_unsliced(qs, what, "filter")) {
        corm_qs_free(inner);
        return;
    }
    if (!lookup || !*lookup || (inner && inner->q.nvalues > 1)) {
        if (!lookup || !*lookup) {
            corm__err_set(&qs->err, CORM_MISUSE, "%s needs a field path", what);
        } else {
            corm__err_set(&qs->err, CORM_INVALID, "%s('%s'): the inner queryset selects %d columns",
                          what, lookup, inner->q.nvalues);
        }
        corm__err_hint(&qs->err,
                       "e.g. %s(qs, \"author\", inner) with inner selecting one "
                       "column: corm_values_flat(inner, \"author\"), or its pk",
                       what);
        corm_qs_free(inner);
        return;
    }
    size_t n = strlen(lookup);
    bool has_in = n > 4 && strcmp(lookup + n - 4, "__in") == 0;
    char *lk = corm__arena_alloc(&qs->build, n + 5);
    if (!lk) {
        oom(qs);
        corm_qs_free(inner);
        return;
    }
    memcpy(lk, lookup, n + 1);
    if (!has_in) memcpy(lk + n, "__in", 5);
    if (!take(qs, inner)) return;
    if (inner->q.nvalues == 0) {
        /* Django: a queryset of objects means its pks */
        const char **pk = corm__arena_zalloc(&inner->build, 2 * sizeof *pk);
        if (!pk) {
            oom(qs);
            return;
        }
        pk[0] = "pk";
        inner->q.values = pk;
        inner->q.nvalues = 1;
    }
    corm_expr *e = new_expr(qs, CORM__E_SUBQUERY, NULL);
    corm_q *q = e ? corm_q_new(qs, lk, corm_null()) : NULL;
    if (!q) return;
    e->sub = &inner->q;
    q->rhs = e;
    if (exclude) corm_exclude_q(qs, q);
    else corm_filter_q(qs, q);
}

void corm_filter_in(corm_qs *qs, const char *lookup, corm_qs *inner)
{
    filter_in(qs, lookup, inner, false);
}
void corm_exclude_in(corm_qs *qs, const char *lookup, corm_qs *inner)
{
    filter_in(qs, lookup, inner, true);
}

corm_q *corm_q_expr(corm_qs *qs, corm_expr *e)
{
    if (!ok(qs)) return NULL;
    if (!e) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_q_expr got no expression");
        corm__err_hint(&qs->err, "e.g. corm_q_expr(qs, corm_Exists(qs, inner))");
        return NULL;
    }
    corm_q *q = corm_q_new(qs, "", corm_null());
    if (q) q->rhs = e;
    return q;
}

static bool is_ident(const char *s)
{
    if (!s || !*s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void add_annot(corm_qs *qs, const char *name, corm_expr *e, bool aggregate)
{
    const char *what = aggregate ? "corm_aggregate" : "corm_annotate";
    if (!building(qs, what)) return;
    if (!e) {
        corm__err_set(&qs->err, CORM_MISUSE, "%s('%s') got no expression", what, name ? name : "");
        corm__err_hint(&qs->err, "build it with corm_Count, corm_F, ... on the same queryset");
        return;
    }
    /* aggregate() names only name its results: Django's default alias
    ** "pages__sum", or a field's own name (aggregate(price=Sum("price"))) */
    if (!is_ident(name) || (!aggregate && strstr(name, "__"))) {
        corm__err_set(&qs->err, CORM_INVALID, "%s: '%s' is not a valid name", what,
                      name ? name : "");
        corm__err_hint(&qs->err, "use letters, digits and single underscores, e.g. \"book_count\"");
        return;
    }
    const corm_model *m = qs->q.model;
    if (!aggregate &&
        (corm__model_field(m, name, strlen(name)) || corm__model_rel(m, name, strlen(name)))) {
        corm__err_set(&qs->err, CORM_INVALID, "%s: the name '%s' conflicts with a field of %s",
                      what, name, m->name);
        corm__err_hint(&qs->err, "pick another name, as Django requires");
        return;
    }
    for (int i = 0; i < qs->q.nannots; i++)
        if (strcmp(qs->q.annots[i].name, name) == 0) {
            corm__err_set(&qs->err, CORM_INVALID, "%s: '%s' is given twice", what, name);
            return;
        }
    /* an aggregate() result named like a field is out of reach by name
    ** (corm__annot_hidden): its F("price") is the field, not a cycle */
    bool field_name = corm__model_field(m, name, strlen(name)) ||
                      corm__model_rel(m, name, strlen(name)) || strcmp(name, "pk") == 0;
    if (!(aggregate && field_name) &&
        corm__annot_check_cycle(qs->q.annots, qs->q.nannots, name, e, what, &qs->err) != CORM_OK)
        return;
    corm__annot *p = corm__arena_alloc(&qs->build, (size_t)(qs->q.nannots + 1) * sizeof *p);
    const char *n = corm__arena_strdup(&qs->build, name);
    if (!p || !n) {
        oom(qs);
        return;
    }
    if (qs->q.nannots) memcpy(p, qs->q.annots, (size_t)qs->q.nannots * sizeof *p);
    mark_calls(e, corm__q_ncalls(qs->q.where));
    p[qs->q.nannots] = (corm__annot){n, e, aggregate};
    qs->q.annots = p;
    qs->q.nannots++;
    if (aggregate) qs->q.aggregate = true;
}

void corm_annotate(corm_qs *qs, const char *name, corm_expr *e) { add_annot(qs, name, e, false); }
void corm_aggregate(corm_qs *qs, const char *name, corm_expr *e) { add_annot(qs, name, e, true); }

const corm_value *corm_annotation(const void *obj, const char *name)
{
    const corm_obj *h = obj;
    if (!h || !h->annots || !h->batch || !name) return NULL;
    const corm_batch *b = h->batch;
    for (int i = 0; i < b->nannots; i++)
        if (strcmp(b->annots[i].name, name) == 0) {
            /* a boolean (Exists, a bool field) read as 0/1: a bool; the
            ** value is the object's own, in its result arena */
            corm_value *v = (corm_value *)&h->annots[i];
            corm__query q = {
                .model = b->model, .annots = (corm__annot *)b->annots, .nannots = b->nannots};
            if (v->type == CORM_V_INT && corm__expr_is_bool(&q, b->annots[i].e))
                *v = corm_bool(v->u.i != 0);
            /* and a decimal (Sum of one) at the field's scale */
            const corm_field *f = corm__expr_field(&q, b->annots[i].e);
            if (f && f->type == CORM_FT_DECIMAL) corm__dec_cell(v, f->scale);
            return v;
        }
    return NULL;
}

static void filter_expr(corm_qs *qs, const char *lookup, corm_expr *rhs, bool exclude)
{
    const char *what = exclude ? "corm_exclude_expr" : "corm_filter_expr";
    if (!building(qs, what) || !corm__qs_unsliced(qs, what, "filter")) return;
    if (!rhs) {
        corm__err_set(&qs->err, CORM_MISUSE, "%s('%s') got no expression", what,
                      lookup ? lookup : "");
        return;
    }
    if (lookup && !corm__tc_compare(qs, lookup, rhs)) return;
    corm_q *q = corm_q_new(qs, lookup, corm_null());
    if (!q) return;
    q->rhs = rhs;
    if (exclude) corm_exclude_q(qs, q);
    else corm_filter_q(qs, q);
}

void corm_filter_expr(corm_qs *qs, const char *lookup, corm_expr *rhs)
{
    filter_expr(qs, lookup, rhs, false);
}
void corm_exclude_expr(corm_qs *qs, const char *lookup, corm_expr *rhs)
{
    filter_expr(qs, lookup, rhs, true);
}

/* ------------------------------------------------------------ deferred */

static size_t field_size(corm_ftype t)
{
    switch (t) {
    case CORM_FT_INTEGER: return sizeof(int32_t);
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return sizeof(int64_t);
    case CORM_FT_FLOAT: return sizeof(double);
    case CORM_FT_DECIMAL: return sizeof(corm_decimal);
    case CORM_FT_BOOL: return sizeof(bool);
    case CORM_FT_BLOB: return sizeof(corm_blob);
    default: return sizeof(char *);
    }
}

bool corm_is_loaded(const void *obj, const char *name)
{
    const corm_obj *h = obj;
    if (!h || !h->model || !name) return false;
    const corm_field *f = corm__model_field(h->model, name, strlen(name));
    return f && !(h->deferred & ((uint64_t)1 << (f - h->model->fields)));
}

/* corm_load_field's misuse, reported as an accessor's (corm__obj_report).
** Out of line: corm_field on a loaded field is hot. */
CORM__COLD static corm_rc bad_load(corm_obj *h, const char *name, const corm_field *f,
                                   corm_site site)
{
    corm_error e;
    if (!h || !h->model || !name) {
        corm__err_set(&e, CORM_MISUSE, "corm_load_field: %s",
                      !name ? "no field name"
                      : h   ? "not a model object"
                            : "the object is NULL");
        corm__err_hint(&e, "pass an object loaded by a queryset and a field name");
        if (h && !h->model) h = NULL;
    } else if (!f) {
        corm__err_set(&e, CORM_SCHEMA, "%s has no field '%s'", h->model->name, name);
        corm__err_hint(&e, "corm_field(obj, name) takes a field of the object's model");
    } else {
        corm__err_set(&e, CORM_MISUSE, "%s.%s was not loaded and the %s was not loaded by corm",
                      h->model->name, f->name, h->model->name);
        corm__err_hint(&e, "load it with a queryset (corm_get) without only()/defer()");
    }
    corm__obj_report(h, site, &e);
    return e.rc;
}

corm_rc corm_load_field_at(void *obj, const char *name, corm_site site)
{
    corm_obj *h = obj;
    if (!h || !h->model || !name) return bad_load(h, name, NULL, site);
    if (h->batch) corm__db_enter(h->batch->home);
    const corm_model *m = h->model;
    const corm_field *f = corm__model_field(m, name, strlen(name));
    if (!f) return bad_load(h, name, NULL, site);
    uint64_t bit = (uint64_t)1 << (f - m->fields);
    if (!(h->deferred & bit)) return CORM_OK;
    if (!h->batch) return bad_load(h, name, f, site);
    corm_db *db = h->batch->db;
    corm_db *home = h->batch->home;
    /* Django's refresh_from_db(fields=[name]): one query for one field */
    corm__query q;
    memset(&q, 0, sizeof q);
    q.model = m;
    q.limit = -1;
    const char *only[] = {f->name};
    q.only = only;
    q.nonly = 1;
    struct corm_q leaf = {
        .kind = CORM__Q_LEAF,
        .lookup = "pk",
        .value = corm_int(*(const int64_t *)((const char *)obj + m->fields[0].offset))};
    q.where = &leaf;
    corm_buf origin;
    corm__buf_init(&origin);
    corm__buf_addf(&origin, "deferred:%s.%s", m->name, f->name);
    const char *o = corm__arena_strdup(h->batch->arena, corm__buf_cstr(&origin));
    corm__buf_free(&origin);
    void **items;
    size_t n;
    corm_site none = {0};
    corm__lazy_note(obj, CORM_ORIGIN_DEFERRED, f->name);
    corm_db *prev = corm__db_serve(db, home);
    corm_rc rc = corm__fetch(db, &q, h->batch->arena, site, none, o ? o : "deferred", &items, &n,
                             NULL, &home->err);
    corm__db_serve(db, prev);
    if (rc != CORM_OK) return rc;
    if (n != 1) {
        corm__err_set(&home->err, CORM_NOTFOUND, "%s with id %lld no longer exists", m->name,
                      (long long)leaf.value.u.i);
        corm__err_hint(&home->err, "the row was deleted after the object was loaded");
        return CORM_NOTFOUND;
    }
    /* copy the one loaded field (and its NULL bit) into obj */
    const corm_obj *src = items[0];
    memcpy((char *)obj + f->offset, (const char *)items[0] + f->offset, field_size(f->type));
    h->nulls = (h->nulls & ~bit) | (src->nulls & bit);
    h->deferred &= ~bit;
    return CORM_OK;
}

/* ------------------------------------------------------------ clone */

corm_expr *corm__expr_copy(corm_qs *dst, const corm_qs *src, const corm_expr *e)
{
    if (!e) return NULL;
    corm_expr *c = corm__arena_zalloc(&dst->build, sizeof *c);
    if (!c) return NULL;
    *c = *e;
    if (e->path && !(c->path = corm__arena_strdup(&dst->build, e->path))) return NULL;
    if (e->kind == CORM__E_VALUE && corm__value_copy(&dst->build, &c->value, &e->value) != CORM_OK)
        return NULL;
    if (e->a && !(c->a = corm__expr_copy(dst, src, e->a))) return NULL;
    if (e->b && !(c->b = corm__expr_copy(dst, src, e->b))) return NULL;
    if (e->filter && !(c->filter = corm__q_copy(dst, src, e->filter))) return NULL;
    if (e->sub) {
        /* the queryset that owns the subquery, cloned and taken by dst */
        const corm_qs *inner = NULL;
        for (int i = 0; i < src->nowned; i++)
            if (&src->owned[i]->q == e->sub) inner = src->owned[i];
        corm_qs *copy = inner ? corm_qs_clone(inner) : NULL;
        if (!copy || !take(dst, copy)) return NULL;
        c->sub = &copy->q;
    }
    return c;
}

corm_rc corm__clone_shape(corm_qs *dst, const corm_qs *src)
{
    const corm__query *q = &src->q;
    dst->q.distinct = q->distinct;
    dst->q.aggregate = q->aggregate;
    dst->q.values_mode = q->values_mode;
    dst->q.defer = q->defer;
    int n;
    if (q->nvalues && !(dst->q.values = copy_list(dst, q->values, &n))) return CORM_NOMEM;
    dst->q.nvalues = q->nvalues;
    if (q->nonly && !(dst->q.only = copy_list(dst, q->only, &n))) return CORM_NOMEM;
    dst->q.nonly = q->nonly;
    if (q->nannots) {
        corm__annot *a = corm__arena_alloc(&dst->build, (size_t)q->nannots * sizeof *a);
        if (!a) return CORM_NOMEM;
        for (int i = 0; i < q->nannots; i++) {
            a[i].name = corm__arena_strdup(&dst->build, q->annots[i].name);
            a[i].e = corm__expr_copy(dst, src, q->annots[i].e);
            a[i].aggregate = q->annots[i].aggregate;
            if (!a[i].name || !a[i].e) return CORM_NOMEM;
        }
        dst->q.annots = a;
        dst->q.nannots = q->nannots;
    }
    return CORM_OK;
}
