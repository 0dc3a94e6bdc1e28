/*
** expr.c - expressions: F("pages"), values, arithmetic, aggregates over
** paths, Subquery, Exists and OuterRef.
**
** An aggregate over a to-many path in annotate() is a correlated subquery
** `(SELECT COUNT(U0."id") FROM "book" U0 WHERE U0."author_id" = T0."id")`,
** never a join of the outer query: two such annotations cannot multiply
** each other's rows (Django's join-multiplication trap, where
** Count("books") and Count("orders") over one JOIN both come out as the
** product).  An aggregate over the query's own rows (a local field, or a
** to-one path) is a plain aggregate with GROUP BY.  In aggregate() the
** whole queryset is one group, and to-many paths are LEFT JOINs, as Django.
** One exception: when a filter() names the only to-many aggregate of an
** annotate(), and nothing else would share or restrict its join
** (corm__pick_join_agg), it is a LEFT JOIN with GROUP BY and the filter
** is in HAVING: the subquery would be evaluated twice, in the select list
** and in WHERE, where the join reads the relation once.
*/
#include "compile_int.h"

#include <math.h>
#include <string.h>

static const char *const agg_sql[] = {"COUNT", "SUM", "AVG", "MIN", "MAX"};

/* AGG(col) for e.  Over a decimal field on a dialect that stores decimals
** as REAL, Sum and Avg add integers of units (exact, where adding doubles
** drifts: 0.1 + 0.2) and scale the result back. */
/* AGG(col), with filter (" FILTER (WHERE ...)" or "") right after the
** call, where SQL wants it, also when the call is wrapped. */
/* Avg of anything but a decimal is a float (Django's Avg output_field),
** where PostgreSQL's AVG of integers is numeric: cast it.  Opens the cast
** (when one is needed) and returns the text that closes it. */
static const char *avg_float_open(corm__sqlctx *c, corm_buf *w, const struct corm_expr *e,
                                  bool decimal)
{
    if (e->agg != CORM__AGG_AVG || !c->d->numbered_params || decimal) return "";
    corm__buf_adds(w, "CAST(");
    return " AS double precision)";
}

static void agg_call(corm__sqlctx *c, corm_buf *w, const struct corm_expr *e, const corm_field *f,
                     const char *col, const char *filter)
{
    const char *dist = e->distinct ? "DISTINCT " : "";
    const char *close = avg_float_open(c, w, e, f && f->type == CORM_FT_DECIMAL);
    if (!c->d->real_decimals || !f || f->type != CORM_FT_DECIMAL ||
        (e->agg != CORM__AGG_SUM && e->agg != CORM__AGG_AVG)) {
        corm__buf_addf(w, "%s(%s%s)%s%s", agg_sql[e->agg], dist, col, filter, close);
        return;
    }
    if (f->scale == 0)
        corm__buf_addf(w, "%s(%sCAST(ROUND(%s) AS INTEGER))%s", agg_sql[e->agg], dist, col, filter);
    else
        corm__buf_addf(w, "(%s(%sCAST(ROUND(%s * 1e%d) AS INTEGER))%s / 1e%d)", agg_sql[e->agg],
                       dist, col, f->scale, filter, f->scale);
}

bool corm__annot_hidden(const corm__query *q, const corm__annot *an)
{
    if (!an->aggregate || !q || !q->model) return false;
    size_t n = strlen(an->name);
    return corm__model_field(q->model, an->name, n) || corm__model_rel(q->model, an->name, n) ||
           corm__is_pk_name(an->name);
}

const corm__annot *corm__find_annot(const corm__scope *s, const char *name)
{
    if (!s->q) return NULL;
    for (int i = 0; i < s->q->nannots; i++)
        if (strcmp(s->q->annots[i].name, name) == 0 && !corm__annot_hidden(s->q, &s->q->annots[i]))
            return &s->q->annots[i];
    return NULL;
}

/* Whether name is an annotation of the subquery aggregate() wraps
** (select.c), so a column of the scope's base. */
static bool wrapped_annot(const corm__scope *s, const char *name)
{
    for (int i = 0; s->wrapped && name && i < s->wrapped->nannots; i++)
        if (strcmp(s->wrapped->annots[i].name, name) == 0) return true;
    /* values().distinct().aggregate(): the values() columns too */
    for (int i = 0; s->wrapped && name && s->wrapped->values_mode && i < s->wrapped->nvalues; i++)
        if (strcmp(s->wrapped->values[i], name) == 0) return true;
    return false;
}

/* The expression of the wrapped subquery's annotation name (NULL for a
** values() column or none). */
static const struct corm_expr *wrapped_expr(const corm__scope *s, const char *name)
{
    for (int i = 0; s->wrapped && name && i < s->wrapped->nannots; i++)
        if (strcmp(s->wrapped->annots[i].name, name) == 0) return s->wrapped->annots[i].e;
    return NULL;
}

/* Whether e reads a decimal field or value (its Avg is then a decimal, as
** Django's Avg of a DecimalField). */
static bool has_decimal(const corm__query *q, const struct corm_expr *e)
{
    if (!e) return false;
    switch (e->kind) {
    case CORM__E_VALUE: return e->value.type == CORM_V_DECIMAL;
    case CORM__E_BINOP: return has_decimal(q, e->a) || has_decimal(q, e->b);
    case CORM__E_AGG: {
        if (e->a) return has_decimal(q, e->a);
        if (e->agg == CORM__AGG_COUNT) return false;
        const corm_field *f = q ? corm__path_field(q->model, e->path) : NULL;
        return f && f->type == CORM_FT_DECIMAL;
    }
    case CORM__E_FIELD: {
        for (int i = 0; q && i < q->nannots; i++)
            if (strcmp(q->annots[i].name, e->path) == 0 && !corm__annot_hidden(q, &q->annots[i]))
                return q->annots[i].e != e && has_decimal(q, q->annots[i].e);
        const corm_field *f = q ? corm__path_field(q->model, e->path) : NULL;
        return f && f->type == CORM_FT_DECIMAL;
    }
    default: return false;
    }
}

/* Depth-first through F() references; stack holds the annotation names
** being expanded (at most n + 1 of them, as the existing ones are acyclic). */
static bool cycle_from(const corm__annot *annots, int n, const char *name,
                       const struct corm_expr *e, const char **stack, int depth, corm_buf *path)
{
    if (!e) return false;
    if (e->kind == CORM__E_AGG && e->a)
        return cycle_from(annots, n, name, e->a, stack, depth, path);
    if (e->kind == CORM__E_BINOP)
        return cycle_from(annots, n, name, e->a, stack, depth, path) ||
               cycle_from(annots, n, name, e->b, stack, depth, path);
    if (e->kind != CORM__E_FIELD || !e->path) return false;
    if (strcmp(e->path, name) == 0) {
        for (int i = 0; i < depth; i++) corm__buf_addf(path, "%s -> ", stack[i]);
        corm__buf_adds(path, name);
        return true;
    }
    for (int i = 0; i < n; i++)
        if (strcmp(annots[i].name, e->path) == 0 && depth <= n) {
            stack[depth] = annots[i].name;
            return cycle_from(annots, n, name, annots[i].e, stack, depth + 1, path);
        }
    return false;
}

corm_rc corm__annot_check_cycle(const corm__annot *annots, int n, const char *name,
                                const struct corm_expr *e, const char *what, corm_error *err)
{
    const char *stack_small[16];
    const char **stack = n + 2 <= 16 ? stack_small : corm__calloc((size_t)n + 2, sizeof *stack);
    if (!stack) {
        corm__err_set(err, CORM_NOMEM, "%s: out of memory", what);
        return CORM_NOMEM;
    }
    corm_buf path;
    corm__buf_init(&path);
    stack[0] = name;
    bool cycle = cycle_from(annots, n, name, e, stack, 1, &path);
    if (stack != stack_small) corm__free(stack);
    if (!cycle) {
        corm__buf_free(&path);
        return CORM_OK;
    }
    corm__err_set(err, CORM_INVALID, "%s: '%s' refers to itself (%s)", what, name,
                  path.oom ? name : corm__buf_cstr(&path));
    corm__err_hint(err, "an annotation can use the annotations before it, never itself: "
                        "compute the value from fields");
    corm__buf_free(&path);
    return CORM_INVALID;
}

static bool to_many(const corm_relation *r)
{
    return r->kind == CORM_REL_REVERSE_FK || r->kind == CORM_REL_M2M ||
           r->kind == CORM_REL_REVERSE_M2M;
}

/* Walk parts from node with to-one joins (and, when allow_many, to-many
** joins); the column of the final field (or the pk when the path ends at a
** relation) goes to w.  *stop gets the index of the first to-many part when
** !allow_many (or n when there is none). */
static corm_rc walk(corm__sqlctx *c, corm__scope *s, int node, char **parts, int n,
                    const char *path, bool allow_many, int *stop, corm_buf *w,
                    const corm_field **field)
{
    *stop = n;
    const corm_field *f = NULL;
    for (int i = 0; i < n; i++) {
        const corm_model *m = corm__node_model(s, node);
        const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
        if (r && (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O)) {
            if (i + 1 == n || (i + 2 == n && corm__is_pk_name(parts[i + 1]))) {
                f = &m->fields[r->field];
                break;
            }
            int j =
                corm__scope_join(c, s, node, r, (m->fields[r->field].flags & CORM_FF_NULL) != 0);
            if (j < -1) return c->err->rc;
            node = j;
            continue;
        }
        if (r && (r->kind == CORM_REL_REVERSE_O2O || (to_many(r) && allow_many))) {
            int j = corm__scope_join(c, s, node, r, true);
            if (j < -1) return c->err->rc;
            node = j;
            continue;
        }
        if (r) {
            *stop = i;
            if (field) *field = NULL;
            return CORM_OK;
        }
        f = corm__model_field(m, parts[i], strlen(parts[i]));
        if (!f) return corm__unknown_name(c, m, parts[i], path);
        if (i + 1 != n) {
            corm__err_set(c->err, CORM_INVALID, "'%s': %s.%s is a field, not a relation", path,
                          m->name, parts[i]);
            corm__err_hint(c->err, "a path is relation__...__field");
            return CORM_INVALID;
        }
    }
    if (!f) f = &corm__node_model(s, node)->fields[0];
    corm__col_ref(w, corm__node_alias(s, node), f->column);
    if (field) *field = f;
    return CORM_OK;
}

corm_rc corm__path_column(corm__sqlctx *c, corm__scope *s, const char *path, corm_buf *w,
                          const corm_field **field)
{
    char *parts[MAX_PARTS];
    int n, stop;
    corm_rc rc = corm__split_path(c, path, parts, &n);
    if (rc != CORM_OK) return rc;
    rc = walk(c, s, -1, parts, n, path, false, &stop, w, field);
    if (rc == CORM_OK && stop < n) {
        corm__err_set(c->err, CORM_INVALID, "'%s' crosses the to-many relation '%s'", path,
                      parts[stop]);
        corm__err_hint(c->err, "aggregate it (corm_Count, corm_Sum, ...) or prefetch it");
        return CORM_INVALID;
    }
    return rc;
}

corm_rc corm__path_column_many(corm__sqlctx *c, corm__scope *s, const char *path, corm_buf *w,
                               const corm_field **field)
{
    char *parts[MAX_PARTS];
    int n, stop;
    corm_rc rc = corm__split_path(c, path, parts, &n);
    return rc == CORM_OK ? walk(c, s, -1, parts, n, path, true, &stop, w, field) : rc;
}

const corm_field *corm__path_field(const corm_model *m, const char *path)
{
    const char *p = path;
    while (m && p && *p) {
        const char *sep = strstr(p, "__");
        size_t len = sep ? (size_t)(sep - p) : strlen(p);
        const corm_relation *r = corm__model_rel(m, p, len);
        if (r) {
            if (!sep) return NULL;
            m = corm__rel_target(m, r);
            p = sep + 2;
            continue;
        }
        const corm_field *f = corm__model_field(m, p, len);
        return sep ? NULL : f;
    }
    return NULL;
}

bool corm__path_is_bool(const corm_model *m, const char *path)
{
    const corm_field *f = corm__path_field(m, path);
    return f && f->type == CORM_FT_BOOL;
}

bool corm__expr_is_bool(const corm__query *q, const struct corm_expr *e)
{
    if (!e || !q) return false;
    switch (e->kind) {
    case CORM__E_EXISTS: return true;
    case CORM__E_SUBQUERY:
        return e->sub && e->sub->nvalues >= 1 &&
               corm__expr_is_bool(e->sub, &(struct corm_expr){
                                              .kind = CORM__E_FIELD,
                                              .path = e->sub->values[0],
                                          });
    case CORM__E_FIELD:
        for (int i = 0; i < q->nannots; i++)
            if (strcmp(q->annots[i].name, e->path) == 0 && !corm__annot_hidden(q, &q->annots[i]))
                return q->annots[i].e != e && corm__expr_is_bool(q, q->annots[i].e);
        return corm__path_is_bool(q->model, e->path);
    case CORM__E_VALUE: return e->value.type == CORM_V_BOOL;
    default: return false;
    }
}

const corm_field *corm__expr_field(const corm__query *q, const struct corm_expr *e)
{
    if (!e || !q) return NULL;
    switch (e->kind) {
    case CORM__E_SUBQUERY:
        if (!e->sub || e->sub->nvalues < 1) return NULL;
        return corm__expr_field(e->sub, &(struct corm_expr){
                                            .kind = CORM__E_FIELD,
                                            .path = e->sub->values[0],
                                        });
    case CORM__E_FIELD:
        for (int i = 0; i < q->nannots; i++)
            if (strcmp(q->annots[i].name, e->path) == 0 && !corm__annot_hidden(q, &q->annots[i]))
                return q->annots[i].e != e ? corm__expr_field(q, q->annots[i].e) : NULL;
        return corm__path_field(q->model, e->path);
    case CORM__E_BINOP:
        /* Coalesce(Sum("price"), 0): the first argument's field */
        return e->op == CORM__OP_COALESCE ? corm__expr_field(q, e->a) : NULL;
    case CORM__E_AGG: {
        /* Sum, Min and Max of a decimal field are decimals of its scale
        ** (PostgreSQL's numeric; SQLite gives an integer or a REAL) */
        if (e->a || (e->agg != CORM__AGG_SUM && e->agg != CORM__AGG_MIN && e->agg != CORM__AGG_MAX))
            return NULL;
        const corm_field *f = corm__path_field(q->model, e->path);
        return f && f->type == CORM_FT_DECIMAL ? f : NULL;
    }
    default: return NULL;
    }
}

const char *corm__order_term(const char *term, bool *desc, int *nulls, char *buf, size_t n)
{
    static const char *const suffix[] = {" nulls first", " nulls last"};
    *desc = term[0] == '-';
    if (*desc) term++;
    size_t len = strlen(term);
    *nulls = 0;
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(suffix[i]);
        if (len > k && strcmp(term + len - k, suffix[i]) == 0) {
            *nulls = i + 1;
            len -= k;
        }
    }
    if (len >= n) return NULL;
    memcpy(buf, term, len);
    buf[len] = '\0';
    return buf;
}

/* An aggregate whose path crosses a to-many relation at parts[stop]: a
** correlated subquery over that relation. */
static corm_rc agg_subquery(corm__sqlctx *c, corm__scope *s, const struct corm_expr *e,
                            char **parts, int n, int stop, corm_buf *w)
{
    /* the to-one prefix joins the outer query */
    int node = -1;
    for (int i = 0; i < stop; i++) {
        const corm_model *m = corm__node_model(s, node);
        const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
        int j = corm__scope_join(c, s, node, r, true);
        if (j < -1) return c->err->rc;
        node = j;
    }
    const corm_model *from = corm__node_model(s, node);
    const corm_relation *r = corm__model_rel(from, parts[stop], strlen(parts[stop]));
    const corm_model *to = corm__rel_target(from, r);
    corm__scope sub;
    corm__scope_init(&sub, to, (char)(s->prefix + 1));
    sub.parent = s;
    if (sub.prefix > 'Z') {
        corm__err_set(c->err, CORM_INVALID, "'%s' nests too deep", e->path);
        return CORM_INVALID;
    }
    /* what is aggregated: the rest of the path inside the subquery (with
    ** joins, to-many allowed), or the related rows themselves */
    corm_buf col, cond;
    corm__buf_init(&col);
    corm__buf_init(&cond);
    int stop2;
    const corm_field *f = NULL;
    corm_rc rc = walk(c, &sub, -1, parts + stop + 1, n - stop - 1, e->path, true, &stop2, &col, &f);
    /* which related rows: those the filter() calls before the annotation
    ** kept (their conditions on this relation), and the aggregate's own
    ** filter=Q(...) */
    size_t plen = (size_t)(parts[stop] - parts[0]) + strlen(parts[stop]);
    if (rc == CORM_OK && e->calls_set && s->q) {
        struct corm_q *kept =
            corm__q_calls_on(c, s->base, s->q->where, e->calls_before, e->path, plen, true, &rc);
        if (kept) {
            corm__buf_adds(&cond, " AND ");
            rc = corm__render_q(c, &sub, kept, false, &cond);
        }
    }
    if (rc == CORM_OK && e->filter) {
        corm__sqlctx saved = *c;
        c->strip = e->path;
        c->strip_len = plen;
        c->strip_scope = &sub;
        c->strip_node = -1;
        corm__buf_adds(&cond, " AND ");
        rc = corm__render_q(c, s, e->filter, false, &cond);
        c->strip = saved.strip;
        c->strip_len = saved.strip_len;
        c->strip_scope = saved.strip_scope;
        c->strip_node = saved.strip_node;
    }
    if (rc == CORM_OK && (col.oom || cond.oom)) rc = corm__sql_nomem(c);
    if (rc != CORM_OK) {
        corm__buf_free(&col);
        corm__buf_free(&cond);
        return rc;
    }
    corm__buf_adds(w, "(SELECT ");
    agg_call(c, w, e, f, corm__buf_cstr(&col), "");
    corm__buf_adds(w, " FROM ");
    corm__buf_free(&col);
    bool m2m = r->kind == CORM_REL_M2M || r->kind == CORM_REL_REVERSE_M2M;
    if (m2m) {
        corm__sql_ident(w, r->through);
        corm__buf_addf(w, " %cJ INNER JOIN ", sub.prefix);
        corm__sql_ident(w, to->table);
        corm__buf_addf(w, " %s ON (%s.\"id\" = %cJ.", sub.base_alias, sub.base_alias, sub.prefix);
        corm__sql_ident(w, r->through_dst);
        corm__buf_addc(w, ')');
    } else {
        corm__sql_ident(w, to->table);
        corm__buf_addf(w, " %s", sub.base_alias);
    }
    corm__render_joins(&sub, w);
    corm__buf_adds(w, " WHERE ");
    if (m2m) {
        corm__buf_addf(w, "%cJ.", sub.prefix);
        corm__sql_ident(w, r->through_src);
    } else {
        corm__col_ref(w, sub.base_alias, to->fields[r->field].column);
    }
    corm__buf_addf(w, " = %s.\"id\"", corm__node_alias(s, node));
    if (cond.len) corm__buf_add(w, cond.p, cond.len);
    corm__buf_addc(w, ')');
    corm__buf_free(&cond);
    return CORM_OK;
}

/* The index of the first to-many part of parts (from m), or -1. */
static int first_tomany(const corm_model *m, char **parts, int n)
{
    for (int i = 0; m && i < n; i++) {
        const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
        if (!r) return -1;
        if (to_many(r)) return i;
        m = corm__rel_target(m, r);
    }
    return -1;
}

/* The aggregates written in e's own tree (not through F references). */
static int count_aggs(const struct corm_expr *e)
{
    if (!e) return 0;
    if (e->kind == CORM__E_AGG) return 1 + count_aggs(e->a);
    if (e->kind == CORM__E_BINOP) return count_aggs(e->a) + count_aggs(e->b);
    return 0;
}

/* Whether a WHERE tree names annotation `name` in a lookup (*named), and
** holds nothing that rules the joined form out: an expression to compare
** with (F("n") would be an aggregate in WHERE), a keyset row comparison. */
static bool where_allows_join(const struct corm_q *q, const char *name, bool *named)
{
    if (!q) return true;
    if (q->kind == CORM__Q_ROW_GT || q->kind == CORM__Q_ROW_LT) return false;
    if (q->kind != CORM__Q_LEAF)
        return where_allows_join(q->a, name, named) && where_allows_join(q->b, name, named);
    if (q->rhs) return false;
    size_t len = strlen(name);
    if (strncmp(q->lookup, name, len) == 0 &&
        (!q->lookup[len] || strncmp(q->lookup + len, "__", 2) == 0))
        *named = true;
    return true;
}

const struct corm_expr *corm__pick_join_agg(corm__sqlctx *c, const corm__scope *s,
                                            const corm__query *q)
{
    if (!q->where || q->values_mode || q->aggregate || q->via || q->distinct) return NULL;
    const corm__annot *an = NULL;
    int naggs = 0;
    for (int i = 0; i < q->nannots; i++) {
        int k = count_aggs(q->annots[i].e);
        naggs += k;
        if (k) an = &q->annots[i];
    }
    if (naggs != 1 || an->e->kind != CORM__E_AGG) return NULL;
    const struct corm_expr *e = an->e;
    if (e->a || e->filter || !e->path) return NULL;
    /* books, books__pages, books__pk: one to-many hop from the base, then
    ** at most a field of the related row (a further join could be INNER
    ** and drop the authors without books) */
    const char *sep = strstr(e->path, "__");
    size_t len = sep ? (size_t)(sep - e->path) : strlen(e->path);
    const corm_relation *r = corm__model_rel(s->base, e->path, len);
    if (!r || !to_many(r)) return NULL;
    if (sep) {
        const char *rest = sep + 2;
        const corm_model *to = corm__rel_target(s->base, r);
        if (strstr(rest, "__") ||
            (!corm__is_pk_name(rest) && !corm__model_field(to, rest, strlen(rest))))
            return NULL;
    }
    bool named = false;
    if (!where_allows_join(q->where, an->name, &named) || !named) return NULL;
    /* filter() calls before the annotation on the relation: their rows
    ** only are counted (the subquery's WHERE) */
    corm_rc rc = CORM_OK;
    if (e->calls_set &&
        (corm__q_calls_on(c, s->base, q->where, e->calls_before, e->path, len, false, &rc) ||
         rc != CORM_OK))
        return NULL;
    /* an ordering across a to-many relation would share the join */
    const char *const *terms = q->order_set ? q->order : q->model->ordering;
    int nterms = q->order_set ? q->norder : q->model->nordering;
    for (int t = 0; t < nterms; t++) {
        char buf[256], *parts[MAX_PARTS];
        bool desc;
        int nulls, n = 0;
        const char *term = corm__order_term(terms[t], &desc, &nulls, buf, sizeof buf);
        if (!term) return NULL;
        if (corm__find_annot(s, term)) continue;
        for (char *p = buf; p && n < MAX_PARTS; n++) {
            parts[n] = p;
            p = strstr(p, "__");
            if (p) {
                *p = '\0';
                p += 2;
            }
        }
        if (first_tomany(s->base, parts, n) >= 0) return NULL;
    }
    return e;
}

/* ` FILTER (WHERE ...)` of a plain aggregate: its filter=Q(...), and in
** aggregate() over a to-many join, the conditions the filter() calls put
** on that relation (Django reuses their join: only those rows count). */
static corm_rc agg_filter_clause(corm__sqlctx *c, corm__scope *s, const struct corm_expr *e,
                                 char **parts, int n, corm_buf *w)
{
    int k = first_tomany(s->base, parts, n);
    const struct corm_q *kept = NULL;
    size_t plen = k >= 0 ? (size_t)(parts[k] - parts[0]) + strlen(parts[k]) : 0;
    corm_rc rc = CORM_OK;
    if (k >= 0 && s->q && s->q->aggregate && !s->wrapped)
        kept = corm__q_calls_on(c, s->base, s->q->where, corm__q_ncalls(s->q->where), e->path, plen,
                                false, &rc);
    if (rc != CORM_OK || (!kept && !e->filter)) return rc;
    corm__sqlctx saved = *c;
    if (k >= 0) {
        /* the join of the aggregated rows, made by walk() */
        int node = -1;
        const corm_model *m = s->base;
        for (int i = 0; i <= k; i++) {
            const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
            node = corm__scope_join(c, s, node, r, true);
            if (node < -1) return c->err->rc;
            m = corm__rel_target(m, r);
        }
        c->strip = e->path;
        c->strip_len = plen;
        c->strip_scope = s;
        c->strip_node = node;
    }
    corm__buf_adds(w, " FILTER (WHERE ");
    if (kept) rc = corm__render_q(c, s, kept, false, w);
    if (rc == CORM_OK && kept && e->filter) corm__buf_adds(w, " AND ");
    if (rc == CORM_OK && e->filter) rc = corm__render_q(c, s, e->filter, false, w);
    corm__buf_addc(w, ')');
    c->strip = saved.strip;
    c->strip_len = saved.strip_len;
    c->strip_scope = saved.strip_scope;
    c->strip_node = saved.strip_node;
    return rc;
}

corm_rc corm__render_expr(corm__sqlctx *c, corm__scope *s, const struct corm_expr *e, corm_buf *w,
                          bool *local_agg)
{
    if (!e) {
        corm__err_set(c->err, CORM_MISUSE, "a NULL expression");
        corm__err_hint(c->err,
                       "build expressions with corm_F, corm_Count, ... on the same queryset");
        return CORM_MISUSE;
    }
    switch (e->kind) {
    case CORM__E_VALUE: {
        if (c->inline_numbers && e->value.type == CORM_V_INT) {
            corm__buf_addf(w, "%lld", (long long)e->value.u.i);
            return CORM_OK;
        }
        if (c->inline_numbers && e->value.type == CORM_V_FLOAT && isfinite(e->value.u.f)) {
            /* a decimal point or exponent keeps it a float */
            corm__buf_addf(w, "%.17e", e->value.u.f);
            return CORM_OK;
        }
        corm_rc rc = corm__sql_bind(c, w, e->value);
        /* PostgreSQL types a parameter from its context, and `$1 + $2`
        ** has none: say what the value is */
        static const char *const casts[] = {[CORM_V_INT] = "::bigint",
                                            [CORM_V_FLOAT] = "::double precision",
                                            [CORM_V_BOOL] = "::boolean",
                                            [CORM_V_TEXT] = "::text",
                                            [CORM_V_DECIMAL] = "::numeric"};
        if (c->d->numbered_params && (unsigned)e->value.type < CORM__ARRAY_LEN(casts) &&
            casts[e->value.type])
            corm__buf_adds(w, casts[e->value.type]);
        return rc;
    }
    case CORM__E_FIELD: {
        if (wrapped_annot(s, e->path)) {
            /* an annotation of the subquery aggregate() wraps: its column */
            corm__col_ref(w, s->base_alias, e->path);
            return CORM_OK;
        }
        const corm__annot *an = corm__find_annot(s, e->path);
        if (an) {
            /* F("book_count"): another annotation */
            corm__buf_addc(w, '(');
            corm_rc rc = corm__render_expr(c, s, an->e, w, local_agg);
            corm__buf_addc(w, ')');
            return rc;
        }
        return corm__path_column(c, s, e->path, w, NULL);
    }
    case CORM__E_OUTER:
        if (!s->parent) {
            corm__err_set(c->err, CORM_INVALID, "OuterRef('%s') outside a subquery", e->path);
            corm__err_hint(
                c->err,
                "use corm_OuterRef only in the queryset given to corm_Subquery or corm_Exists");
            return CORM_INVALID;
        }
        return corm__path_column(c, s->parent, e->path, w, NULL);
    case CORM__E_BINOP: {
        bool coalesce = e->op == CORM__OP_COALESCE;
        corm__buf_adds(w, coalesce ? "COALESCE(" : "(");
        corm_rc rc = corm__render_expr(c, s, e->a, w, local_agg);
        if (coalesce) corm__buf_adds(w, ", ");
        else corm__buf_addf(w, " %c ", e->op);
        /* COALESCE(MAX("published_date"), $2): PostgreSQL types a bare
        ** parameter from the first argument (a date here), where a cast
        ** to the value's own type would not match it */
        bool literal = c->inline_numbers &&
                       (e->b->value.type == CORM_V_INT || e->b->value.type == CORM_V_FLOAT);
        if (rc == CORM_OK && coalesce && e->b->kind == CORM__E_VALUE &&
            e->a->kind != CORM__E_VALUE && !literal) {
            rc = corm__sql_bind(c, w, e->b->value);
            corm__buf_addc(w, ')');
            return rc;
        }
        if (rc == CORM_OK) rc = corm__render_expr(c, s, e->b, w, local_agg);
        corm__buf_addc(w, ')');
        return rc;
    }
    case CORM__E_AGG: {
        if (e->a) {
            /* Sum(F("price") * F("pages")): over an expression of the row */
            const char *close = avg_float_open(c, w, e, has_decimal(s->q, e->a));
            corm__buf_addf(w, "%s(%s", agg_sql[e->agg], e->distinct ? "DISTINCT " : "");
            bool inner = false;
            corm_rc rc = corm__render_expr(c, s, e->a, w, &inner);
            corm__buf_addc(w, ')');
            if (rc == CORM_OK && inner) {
                corm__err_set(c->err, CORM_INVALID, "an aggregate of an aggregate");
                corm__err_hint(c->err, "annotate the inner aggregate, then aggregate() over "
                                       "the annotation: corm_Sum(qs, \"name\")");
                return CORM_INVALID;
            }
            *local_agg = true;
            if (rc == CORM_OK) rc = agg_filter_clause(c, s, e, NULL, 0, w);
            corm__buf_adds(w, close);
            return rc;
        }
        if (wrapped_annot(s, e->path)) {
            /* aggregate() over an annotation: its column of the subquery */
            const struct corm_expr *src = wrapped_expr(s, e->path);
            const char *close = avg_float_open(c, w, e, src && has_decimal(s->wrapped, src));
            corm__buf_addf(w, "%s(%s", agg_sql[e->agg], e->distinct ? "DISTINCT " : "");
            corm__col_ref(w, s->base_alias, e->path);
            corm__buf_addc(w, ')');
            *local_agg = true;
            corm_rc rc = agg_filter_clause(c, s, e, NULL, 0, w);
            corm__buf_adds(w, close);
            return rc;
        }
        char *parts[MAX_PARTS];
        int n, stop;
        corm_rc rc = corm__split_path(c, e->path, parts, &n);
        if (rc != CORM_OK) return rc;
        /* aggregate(): the whole queryset is one group; the joined
        ** aggregate of corm__pick_join_agg: each row of the query is */
        bool whole = (s->q && s->q->aggregate) || e == s->join_agg;
        corm_buf col;
        corm__buf_init(&col);
        const corm_field *f = NULL;
        rc = walk(c, s, -1, parts, n, e->path, whole, &stop, &col, &f);
        if (rc == CORM_OK && col.oom) rc = corm__sql_nomem(c);
        if (rc == CORM_OK && stop < n) {
            corm__buf_free(&col);
            return agg_subquery(c, s, e, parts, n, stop, w);
        }
        corm_buf filter;
        corm__buf_init(&filter);
        if (rc == CORM_OK) rc = agg_filter_clause(c, s, e, parts, n, &filter);
        if (rc == CORM_OK && filter.oom) rc = corm__sql_nomem(c);
        if (rc == CORM_OK) {
            agg_call(c, w, e, f, corm__buf_cstr(&col), corm__buf_cstr(&filter));
            *local_agg = true;
        }
        corm__buf_free(&filter);
        corm__buf_free(&col);
        return rc;
    }
    case CORM__E_SUBQUERY:
        corm__buf_addc(w, '(');
        {
            corm_rc rc = corm__render_subselect(c, s, e->sub, NULL, w);
            corm__buf_addc(w, ')');
            return rc;
        }
    case CORM__E_EXISTS:
        corm__buf_adds(w, "EXISTS(");
        {
            corm_rc rc = corm__render_subselect(c, s, e->sub, "1", w);
            corm__buf_addc(w, ')');
            return rc;
        }
    }
    return CORM_MISUSE;
}

bool corm__expr_local_agg(const struct corm_expr *e, const corm__scope *s)
{
    if (!e) return false;
    switch (e->kind) {
    case CORM__E_AGG: {
        if (e == s->join_agg) return true;
        /* local unless the path crosses a to-many relation */
        const corm_model *m = s->base;
        const char *p = e->path;
        while (m && p && *p) {
            const char *sep = strstr(p, "__");
            size_t len = sep ? (size_t)(sep - p) : strlen(p);
            const corm_relation *r = corm__model_rel(m, p, len);
            if (!r) break;
            if (to_many(r)) return false;
            m = corm__rel_target(m, r);
            p = sep ? sep + 2 : NULL;
        }
        return true;
    }
    case CORM__E_BINOP: return corm__expr_local_agg(e->a, s) || corm__expr_local_agg(e->b, s);
    case CORM__E_FIELD: {
        const corm__annot *an = corm__find_annot(s, e->path);
        return an && corm__expr_local_agg(an->e, s);
    }
    default: return false;
    }
}

bool corm__q_has_local_agg(corm__sqlctx *c, corm__scope *s, const struct corm_q *q)
{
    (void)c;
    if (!q || !s->q || !s->q->nannots) return false; /* no annotation, no aggregate */
    if (q->kind != CORM__Q_LEAF)
        return corm__q_has_local_agg(c, s, q->a) || corm__q_has_local_agg(c, s, q->b);
    const char *sep = strstr(q->lookup, "__");
    size_t len = sep ? (size_t)(sep - q->lookup) : strlen(q->lookup);
    for (int i = 0; s->q && i < s->q->nannots; i++) {
        const corm__annot *an = &s->q->annots[i];
        if (strlen(an->name) == len && strncmp(an->name, q->lookup, len) == 0 &&
            !corm__annot_hidden(s->q, an))
            return corm__expr_local_agg(an->e, s);
    }
    return false;
}

corm_rc corm__render_subselect(corm__sqlctx *c, corm__scope *parent, const corm__query *q,
                               const char *select_sql, corm_buf *w)
{
    corm__scope sub;
    corm__scope_init(&sub, q->model, (char)(parent->prefix + 1));
    sub.parent = parent;
    sub.q = q;
    if (sub.prefix > 'Z') {
        corm__err_set(c->err, CORM_INVALID, "subqueries nest too deep");
        return CORM_INVALID;
    }
    corm_buf cols, where, order, group;
    corm__buf_init(&cols);
    corm__buf_init(&where);
    corm__buf_init(&order);
    corm__buf_init(&group);
    corm_rc rc = CORM_OK;
    /* the ordering first (no parameters), then the column and the WHERE in
    ** text order, so parameters stay in placeholder order */
    for (int t = 0; rc == CORM_OK && t < q->norder; t++) {
        char name[256];
        bool desc;
        int nulls;
        const char *term = corm__order_term(q->order[t], &desc, &nulls, name, sizeof name);
        corm__buf_adds(&order, t ? ", " : " ORDER BY ");
        rc = term ? corm__path_column(c, &sub, term, &order, NULL)
                  : corm__unknown_name(c, q->model, q->order[t], q->order[t]);
        corm__buf_adds(&order, desc ? " DESC" : " ASC");
        if (nulls) corm__buf_adds(&order, nulls == 1 ? " NULLS FIRST" : " NULLS LAST");
    }
    if (rc == CORM_OK) {
        if (select_sql) {
            corm__buf_adds(&cols, select_sql);
        } else if (q->nvalues == 1 || (q->nvalues > 1 && q->values_mode)) {
            const corm__annot *an = corm__find_annot(&sub, q->values[0]);
            bool agg = false;
            if (an) rc = corm__render_expr(c, &sub, an->e, &cols, &agg);
            else rc = corm__path_column(c, &sub, q->values[0], &cols, NULL);
            /* values("author").annotate(n=Count(...)) selected as "n"
            ** (corm_Subquery keeps the grouping after the column): GROUP
            ** BY, so no matching row is no row - NULL, as Django */
            for (int i = 1; rc == CORM_OK && agg && i < q->nvalues; i++) {
                corm__buf_adds(&group, i == 1 ? " GROUP BY " : ", ");
                rc = corm__path_column(c, &sub, q->values[i], &group, NULL);
            }
        } else {
            corm__err_set(c->err, CORM_INVALID, "a Subquery must select exactly one column");
            corm__err_hint(c->err, "corm_Subquery(qs, inner, \"field\") names it");
            rc = CORM_INVALID;
        }
    }
    if (rc == CORM_OK && q->where) rc = corm__render_q(c, &sub, q->where, false, &where);
    if (rc == CORM_OK && (cols.oom || where.oom || order.oom || group.oom)) rc = corm__sql_nomem(c);
    if (rc == CORM_OK) {
        corm__buf_adds(w, "SELECT ");
        corm__buf_add(w, cols.p ? cols.p : "", cols.len);
        corm__buf_adds(w, " FROM ");
        corm__sql_ident(w, q->model->table);
        corm__buf_addf(w, " %s", sub.base_alias);
        corm__render_joins(&sub, w);
        if (where.len) {
            corm__buf_adds(w, " WHERE ");
            corm__buf_add(w, where.p, where.len);
        }
        if (group.len) corm__buf_add(w, group.p, group.len);
        if (order.len) corm__buf_add(w, order.p, order.len);
        if (q->limit >= 0) {
            corm__buf_adds(w, " LIMIT ");
            rc = corm__sql_bind(c, w, corm_int(q->limit));
        } else if (q->offset > 0 && !c->d->numbered_params) {
            corm__buf_adds(w, " LIMIT -1");
        }
        if (rc == CORM_OK && q->offset > 0) {
            corm__buf_adds(w, " OFFSET ");
            rc = corm__sql_bind(c, w, corm_int(q->offset));
        }
    }
    corm__buf_free(&cols);
    corm__buf_free(&where);
    corm__buf_free(&order);
    corm__buf_free(&group);
    return rc;
}
