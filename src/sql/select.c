/*
** select.c - the SELECT: select_related joins, ordering, prefetch parent
** keys (one parameter for any number of parents), slices (LIMIT/OFFSET, or
** a per-parent window inside a prefetch), and the column list the hydrator
** reads in node order.
*/
#include "compile_int.h"

#include <string.h>

/* ------------------------------------------------------ select_related */

static uint64_t all_fields(const corm_model *m)
{
    return m->nfields >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << m->nfields) - 1);
}

/* only()/defer(): which fields of each node are selected.  The primary key
** is always loaded, and so is every key a select_related hop joins through
** (Django refuses to defer those; corm keeps them).  A node only() does not
** mention keeps all its fields. */
static corm_rc apply_only(corm__sqlctx *c, const corm__query *q)
{
    corm__compiled *o = c->out;
    bool named[CORM__MAX_NODES] = {false};
    for (int j = 0; j < o->nnodes; j++) o->nodes[j].mask = all_fields(o->nodes[j].model);
    if (!q->nonly) return CORM_OK;
    for (int k = 0; k < q->nonly; k++) {
        char *parts[MAX_PARTS];
        int n;
        corm_rc rc = corm__split_path(c, q->only[k], parts, &n);
        if (rc != CORM_OK) return rc;
        int node = 0;
        for (int i = 0; i < n; i++) {
            const corm_model *m = o->nodes[node].model;
            int next = -1;
            for (int j = 1; j < o->nnodes && i + 1 < n; j++)
                if (o->nodes[j].parent == node && strcmp(o->nodes[j].rel->name, parts[i]) == 0)
                    next = j;
            if (next >= 0) {
                node = next;
                continue;
            }
            const corm_field *f = corm__model_field(m, parts[i], strlen(parts[i]));
            if (!f || i + 1 != n) {
                if (f || corm__model_rel(m, parts[i], strlen(parts[i]))) {
                    corm__err_set(c->err, CORM_INVALID, "%s('%s'): '%s' is not a field of %s%s",
                                  q->defer ? "defer" : "only", q->only[k], parts[i], m->name,
                                  i + 1 < n ? " reached through select_related" : "");
                    corm__err_hint(c->err, "name fields of the model, or of a relation given to "
                                           "corm_select_related: \"author__name\"");
                    return CORM_INVALID;
                }
                return corm__unknown_name(c, m, parts[i], q->only[k]);
            }
            uint64_t bit = (uint64_t)1 << (f - m->fields);
            if (q->defer) {
                o->nodes[node].mask &= ~bit;
            } else {
                if (!named[node]) o->nodes[node].mask = 0;
                named[node] = true;
                o->nodes[node].mask |= bit;
            }
        }
    }
    for (int j = 0; j < o->nnodes; j++) {
        o->nodes[j].mask |= 1; /* the pk */
        if (j > 0 && o->nodes[j].rel->kind != CORM_REL_REVERSE_O2O) {
            /* the key this node was joined through stays on its parent */
            corm__sel_node *p = &o->nodes[o->nodes[j].parent];
            p->mask |= (uint64_t)1 << o->nodes[j].rel->field;
        }
    }
    return CORM_OK;
}

static corm_rc plan_related(corm__sqlctx *c, corm__scope *s, const corm__query *q)
{
    corm__compiled *o = c->out;
    o->nnodes = 1;
    o->nodes[0] = (corm__sel_node){q->model, -1, NULL, 0, 0};
    int node_join[CORM__MAX_NODES] = {-1};
    for (int k = 0; k < q->nrelated; k++) {
        char *parts[MAX_PARTS];
        int n;
        corm_rc rc = corm__split_path(c, q->related[k], parts, &n);
        if (rc != CORM_OK) return rc;
        int node = 0;
        for (int i = 0; i < n; i++) {
            const corm_model *m = o->nodes[node].model;
            const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
            if (!r) {
                const corm_field *f = corm__model_field(m, parts[i], strlen(parts[i]));
                if (f) {
                    corm__err_set(c->err, CORM_INVALID,
                                  "select_related('%s'): %s.%s is a %s field, not a relation",
                                  q->related[k], m->name, parts[i], corm__ftype_name(f->type));
                    corm_buf to_one; /* Django's "Choices are: ..." */
                    corm__buf_init(&to_one);
                    for (int j = 0; j < m->nrels; j++)
                        if (m->rels[j].kind == CORM_REL_FK || m->rels[j].kind == CORM_REL_O2O ||
                            m->rels[j].kind == CORM_REL_REVERSE_O2O)
                            corm__buf_addf(&to_one, "%s%s", to_one.len ? ", " : "",
                                           m->rels[j].name);
                    corm__err_hint(c->err,
                                   "select_related follows fk and one_to_one fields; %s has: %s",
                                   m->name, to_one.len ? corm__buf_cstr(&to_one) : "none");
                    corm__buf_free(&to_one);
                    return CORM_INVALID;
                }
                return corm__unknown_name(c, m, parts[i], q->related[k]);
            }
            if (r->kind != CORM_REL_FK && r->kind != CORM_REL_O2O &&
                r->kind != CORM_REL_REVERSE_O2O) {
                corm__err_set(c->err, CORM_INVALID,
                              "select_related('%s'): %s.%s is a to-many relation", q->related[k],
                              m->name, parts[i]);
                corm__err_hint(c->err,
                               "use corm_prefetch_related(qs, \"%s\") for reverse "
                               "foreign keys and many-to-many",
                               q->related[k]);
                return CORM_INVALID;
            }
            int found = -1;
            for (int j = 1; j < o->nnodes; j++)
                if (o->nodes[j].parent == node && o->nodes[j].rel == r) found = j;
            if (found < 0 && (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O)) {
                /* Django: a key both deferred and traversed is an error */
                const corm_field *fk = &m->fields[r->field];
                for (int d = 0; q->defer && node == 0 && d < q->nonly; d++)
                    if (strcmp(q->only[d], fk->name) == 0 || strcmp(q->only[d], fk->column) == 0) {
                        corm__err_set(c->err, CORM_INVALID,
                                      "%s.%s cannot be both deferred and traversed using "
                                      "select_related",
                                      m->name, fk->name);
                        corm__err_hint(c->err, "remove \"%s\" from corm_defer", q->only[d]);
                        return CORM_INVALID;
                    }
            }
            if (found < 0) {
                if (o->nnodes == CORM__MAX_NODES) {
                    corm__err_set(c->err, CORM_INVALID,
                                  "select_related follows more than %d relations",
                                  CORM__MAX_NODES - 1);
                    return CORM_INVALID;
                }
                /* LEFT OUTER for every hop: it is exact for nullable keys,
                ** equal for required ones (the key is enforced), and it makes
                ** SQLite drive the join from the base table. */
                int j = corm__scope_join(c, s, node_join[node], r, true);
                if (j < -1) return c->err->rc;
                found = o->nnodes++;
                o->nodes[found] = (corm__sel_node){corm__rel_target(m, r), node, r, 0, 0};
                node_join[found] = j;
            }
            node = found;
        }
    }
    corm_rc rc = apply_only(c, q);
    if (rc != CORM_OK) return rc;
    int col = 0;
    for (int j = 0; j < o->nnodes; j++) {
        o->nodes[j].first_col = col;
        col += __builtin_popcountll(o->nodes[j].mask);
    }
    o->ncols = col;
    return CORM_OK;
}

/* ------------------------------------------------------------ ordering */

/* The alias of a result column: the user's name, or, past 63 bytes (where
** PostgreSQL truncates identifiers, so two long names sharing a prefix
** would collide), a short generated one: "corm__a<i>" for annotation i,
** "corm__v<i>" for values() column i (an annotation's name has no "__").  Results are read by position with the user's names
** (out->colnames), never by the server's alias text. */
#define MAX_ALIAS 63
static void alias_ident(corm_buf *b, const char *name, char kind, int idx)
{
    if (strlen(name) <= MAX_ALIAS) corm__sql_ident(b, name);
    else corm__buf_addf(b, "\"corm__%c%d\"", kind, idx);
}

/* Whether list (a select or GROUP BY list) has the column reference ref,
** as a whole term (T1."name" is not T1."name2": the quote closes it). */
static bool has_ref(const corm_buf *list, const char *ref)
{
    if (!list->p || !list->len) return false;
    const char *at = list->p;
    size_t n = strlen(ref);
    while ((at = strstr(at, ref))) {
        if (at == list->p || at[-1] == ' ') {
            if (at[n] == '\0' || at[n] == ',' || at[n] == ' ') return true;
        }
        at += n;
    }
    return false;
}

/* The column references an ORDER BY sorts on (not annotations), for what
** PostgreSQL requires of them: in GROUP BY, and in a DISTINCT select list. */
#define MAX_ORDER_REFS 16
typedef struct order_refs {
    int n;
    struct {
        char ref[160];
        bool joined; /* not the base table's */
    } r[MAX_ORDER_REFS];
} order_refs;

static corm_rc render_order(corm__sqlctx *c, corm__scope *s, const corm__query *q, corm_buf *b,
                            bool by_pk_fallback, order_refs *refs)
{
    const char *const *terms = q->order;
    int n = q->norder;
    if (!q->order_set) {
        terms = q->model->ordering;
        n = q->model->nordering;
        /* Django 3.1+: the model's ordering is not applied to a query
        ** that groups (it would join GROUP BY and split the groups) */
        for (int i = 0; n && !q->aggregate && i < q->nannots; i++)
            if (corm__expr_local_agg(q->annots[i].e, s)) n = 0;
    }
    static const char *const pk_term[] = {"pk"};
    if (n == 0 && by_pk_fallback) {
        terms = pk_term;
        n = 1;
    }
    for (int t = 0; t < n; t++) {
        char name[256];
        bool desc;
        int nulls;
        const char *term = corm__order_term(terms[t], &desc, &nulls, name, sizeof name);
        if (!term) return corm__unknown_name(c, q->model, terms[t], terms[t]);
        if (q->reverse_order) {
            /* last(): every term flips, NULLS FIRST <-> LAST too (Django's
            ** OrderBy.reverse_ordering) */
            desc = !desc;
            if (nulls) nulls = 3 - nulls;
        }
        const corm__annot *an = corm__find_annot(s, term);
        if (an) {
            /* an annotation: order by its column */
            corm__buf_adds(b, t ? ", " : " ORDER BY ");
            alias_ident(b, term, 'a', (int)(an - s->q->annots));
            corm__buf_adds(b, desc ? " DESC" : " ASC");
            if (nulls) corm__buf_adds(b, nulls == 1 ? " NULLS FIRST" : " NULLS LAST");
            continue;
        }
        char *parts[MAX_PARTS];
        int np;
        corm_rc rc = corm__split_path(c, term, parts, &np);
        if (rc != CORM_OK) return rc;
        int node = -1;
        const corm_field *f = NULL;
        bool maybe_null = false; /* a nullable key on the way (LEFT JOIN) */
        for (int i = 0; i < np; i++) {
            const corm_model *m = corm__node_model(s, node);
            const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
            if (r && (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O)) {
                if (i + 1 == np || (i + 2 == np && corm__is_pk_name(parts[i + 1]))) {
                    f = &m->fields[r->field];
                    break;
                }
                maybe_null = maybe_null || (m->fields[r->field].flags & CORM_FF_NULL);
                int j = corm__scope_join(c, s, node, r,
                                         (m->fields[r->field].flags & CORM_FF_NULL) != 0);
                if (j < -1) return c->err->rc;
                node = j;
                continue;
            }
            if (r) {
                /* a to-many path: LEFT JOIN, a row per related row (Django) */
                maybe_null = true;
                int j = corm__scope_join(c, s, node, r, true);
                if (j < -1) return c->err->rc;
                node = j;
                if (i + 1 == np) {
                    f = &corm__node_model(s, node)->fields[0];
                    break;
                }
                continue;
            }
            f = corm__model_field(m, parts[i], strlen(parts[i]));
            if (!f) return corm__unknown_name(c, m, parts[i], terms[t]);
            if (i + 1 != np) {
                corm__err_set(c->err, CORM_INVALID, "order_by('%s'): %s is a field, not a relation",
                              terms[t], parts[i]);
                corm__err_hint(c->err, "order by a field: \"-published_date\", \"author__name\"");
                return CORM_INVALID;
            }
        }
        if (!f) f = &corm__node_model(s, node)->fields[0];
        corm__buf_adds(b, t ? ", " : " ORDER BY ");
        size_t mark = b->len;
        corm__col_ref(b, corm__node_alias(s, node), f->column);
        if (refs->n < MAX_ORDER_REFS && !b->oom && !b->discard &&
            b->len - mark < sizeof refs->r[0].ref) {
            memcpy(refs->r[refs->n].ref, b->p + mark, b->len - mark);
            refs->r[refs->n].ref[b->len - mark] = '\0';
            refs->r[refs->n++].joined = node != -1;
        }
        corm__buf_adds(b, desc ? " DESC" : " ASC");
        /* NULLs sort as on SQLite on every backend (dialect.h), unless the
        ** term says where ("-published_date nulls last") */
        const char *dflt = desc ? c->d->nulls_last : c->d->nulls_first;
        if (nulls) corm__buf_adds(b, nulls == 1 ? " NULLS FIRST" : " NULLS LAST");
        else if (dflt && (maybe_null || (f->flags & CORM_FF_NULL))) corm__buf_adds(b, dflt);
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ prefetch */

/* `key IN <keys>`: one parameter whatever the number of parents.  SQLite
** reads a JSON array with json_each, PostgreSQL an int8[] with = ANY (the
** dialect's keys_*); the list is never split, so one prefetch level is
** always one query (docs/eager-loading.md). */
static corm_rc render_keys_in(corm__sqlctx *c, corm_buf *w, const char *key_sql,
                              const int64_t *keys, size_t n)
{
    if (n == 0) {
        corm__buf_adds(w, "1 = 0");
        return CORM_OK;
    }
    corm__buf_adds(w, key_sql);
    return corm__render_keys(c, w, keys, n);
}

/* The parents are the whole table (corm__query.via_all): no key list, only
** the rows that have a parent at all.  A link table's column is NOT NULL. */
static void render_keys_all(corm_buf *w, const corm__query *q, const char *key_sql)
{
    const corm_relation *r = q->via;
    if (r->kind == CORM_REL_REVERSE_FK && (q->model->fields[r->field].flags & CORM_FF_NULL))
        corm__buf_addf(w, "%s IS NOT NULL", key_sql);
}

corm_rc corm__render_keys(corm__sqlctx *c, corm_buf *w, const int64_t *keys, size_t n)
{
    corm_buf json;
    corm__buf_init(&json);
    c->d->keys_text(&json, keys, n);
    char *p = json.oom ? NULL : corm__arena_strndup(&c->out->arena, json.p, json.len);
    corm__buf_free(&json);
    if (!p) return corm__sql_nomem(c);
    corm__buf_adds(w, c->d->keys_open);
    corm_rc rc = corm__sql_bind(c, w, corm_text(p));
    corm__buf_adds(w, c->d->keys_close);
    return rc;
}

/* The parent key expression and the FROM clause of a prefetch query. */
static void via_from_clause(corm__sqlctx *c, const corm__scope *s, const corm__query *q,
                            corm_buf *from, corm_buf *key)
{
    const corm_relation *r = q->via;
    const corm_model *to = q->model;
    bool m2m = r->kind == CORM_REL_M2M || r->kind == CORM_REL_REVERSE_M2M;
    if (m2m) {
        /* the link table drives: its index on the parent column finds the
        ** rows; SQLite's CROSS JOIN keeps that order */
        corm__sql_ident(from, r->through);
        corm__buf_adds(from, " J0");
        corm__buf_adds(from, c->d->link_join);
        corm__sql_ident(from, to->table);
        corm__buf_addf(from, " %s ON (%s.\"id\" = J0.", s->base_alias, s->base_alias);
        corm__sql_ident(from, r->through_dst);
        corm__buf_addc(from, ')');
        corm__buf_adds(key, "J0.");
        corm__sql_ident(key, r->through_src);
        return;
    }
    corm__sql_ident(from, to->table);
    corm__buf_addf(from, " %s", s->base_alias);
    if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O) corm__col_ref(key, s->base_alias, "id");
    else corm__col_ref(key, s->base_alias, to->fields[r->field].column);
}

/* ------------------------------------------------------------ the query */

/* The top-level ANDs of a WHERE tree that filter rows (having = false) or
** groups (having = true: they name an annotation aggregating locally).
** Called once for each, WHERE first, so parameters keep text order. */
static corm_rc render_filters(corm__sqlctx *c, corm__scope *s, const struct corm_q *q, bool having,
                              corm_buf *w)
{
    if (!q) return CORM_OK;
    /* a filter() call is written whole (its conditions on a to-many
    ** relation share one semi-join, where.c) unless it mixes row and
    ** group conditions */
    if (q->kind == CORM__Q_AND && (q->chain || corm__q_has_local_agg(c, s, q))) {
        corm_rc rc = render_filters(c, s, q->a, having, w);
        return rc == CORM_OK ? render_filters(c, s, q->b, having, w) : rc;
    }
    if (corm__q_has_local_agg(c, s, q) != having) return CORM_OK;
    if (w->len) corm__buf_adds(w, " AND ");
    return corm__render_q(c, s, q, false, w);
}

/* A values() annotation that aggregates nothing is a grouping column, as
** Django groups by it (its group-by columns; docs "Aggregation", values()):
** values("author") + x = F("pages") + Count("id") is one row per (author,
** pages), and PostgreSQL refuses the query without it.  Named by its
** position in the select list (col, from 0), as Django does where the
** database allows it: the expression's parameters stay bound once and the
** text does not depend on their values.  A constant groups nothing. */
static void group_by_annot(const corm__query *q, const corm_expr *e, bool agg, int col,
                           corm_buf *group)
{
    if (!q->values_mode || agg || e->kind == CORM__E_VALUE || e->kind == CORM__E_AGG) return;
    if (group->len) corm__buf_adds(group, ", ");
    corm__buf_addf(group, "%d", col + 1);
}

/* Whether e refers to a column of the row (not only constants). */
static bool has_columns(const corm__query *q, const struct corm_expr *e)
{
    if (!e || e->kind == CORM__E_VALUE || e->kind == CORM__E_AGG) return false;
    if (e->kind == CORM__E_BINOP) return has_columns(q, e->a) || has_columns(q, e->b);
    if (e->kind == CORM__E_FIELD)
        for (int i = 0; i < q->nannots; i++)
            if (strcmp(q->annots[i].name, e->path) == 0 && q->annots[i].e != e)
                return has_columns(q, q->annots[i].e);
    return true;
}

/* The GROUP BY terms of an expression that mixes aggregates and row
** values, as Django's BaseExpression.get_group_by_cols: an expression
** without an aggregate is grouped whole, one with an aggregate by the
** terms of its operands; an aggregate and a constant group nothing.
** values("author") + x = F("publisher") * 1000 + Count("id") groups by
** author and publisher * 1000. */
static corm_rc group_terms(corm__sqlctx *c, corm__scope *s, const corm__query *q,
                           const struct corm_expr *e, corm_buf *group)
{
    if (!has_columns(q, e)) return CORM_OK;
    if (corm__expr_local_agg(e, s)) {
        if (e->kind == CORM__E_BINOP) {
            corm_rc rc = group_terms(c, s, q, e->a, group);
            return rc == CORM_OK ? group_terms(c, s, q, e->b, group) : rc;
        }
        const corm__annot *an = e->kind == CORM__E_FIELD ? corm__find_annot(s, e->path) : NULL;
        return an && an->e != e ? group_terms(c, s, q, an->e, group) : CORM_OK;
    }
    corm_buf term;
    if (group->discard) corm__buf_discard(&term);
    else corm__buf_init(&term);
    bool agg = false;
    int nparams = c->out->nparams;
    c->inline_numbers = true;
    corm_rc rc = corm__render_expr(c, s, e, &term, &agg);
    c->inline_numbers = false;
    if (rc == CORM_OK && term.oom) rc = corm__sql_nomem(c);
    /* a term already grouped is not repeated, unless it bound parameters */
    if (rc == CORM_OK &&
        (group->discard || c->out->nparams != nparams || !has_ref(group, corm__buf_cstr(&term)))) {
        if (group->len) corm__buf_adds(group, ", ");
        corm__buf_add(group, term.p, term.len);
    }
    corm__buf_free(&term);
    return rc;
}

/* values(): the row terms of each annotation that mixes them with an
** aggregate of the rows join the GROUP BY. */
static corm_rc group_by_mixed(corm__sqlctx *c, corm__scope *s, const corm__query *q,
                              corm_buf *group)
{
    for (int i = 0; i < q->nannots; i++) {
        const struct corm_expr *e = q->annots[i].e;
        if (e->kind == CORM__E_AGG || !corm__expr_local_agg(e, s)) continue;
        corm_rc rc = group_terms(c, s, q, e, group);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

/* An annotation's expression in the values() select list: one that mixes
** row values with an aggregate writes its numbers as literals, as its
** GROUP BY terms do (group_terms). */
static corm_rc values_annot(corm__sqlctx *c, corm__scope *s, const corm__query *q,
                            const struct corm_expr *e, corm_buf *cols, bool *agg)
{
    c->inline_numbers =
        q->values_mode && !q->aggregate && e->kind != CORM__E_AGG && corm__expr_local_agg(e, s);
    corm_rc rc = corm__render_expr(c, s, e, cols, agg);
    c->inline_numbers = false;
    return rc;
}

/* values()/aggregate(): named columns; values of field paths via to-one
** joins, annotations by name.  No names: every field of the model. */
static corm_rc values_columns(corm__sqlctx *c, corm__scope *s, const corm__query *q, corm_buf *cols,
                              corm_buf *group, bool *local_agg)
{
    corm__compiled *o = c->out;
    const corm_model *m = q->model;
    int nv = q->values_mode ? (q->nvalues ? q->nvalues : m->nfields) : 0;
    int total = nv + q->nannots;
    o->colnames = corm__arena_alloc(&o->arena, (size_t)(total ? total : 1) * sizeof *o->colnames);
    bool *isbool = corm__arena_zalloc(&o->arena, (size_t)(total ? total : 1) * sizeof *isbool);
    const corm_field **field =
        corm__arena_zalloc(&o->arena, (size_t)(total ? total : 1) * sizeof *field);
    if (!o->colnames || !isbool || !field) return corm__sql_nomem(c);
    o->colbool = isbool;
    o->colfield = field;
    int n = 0;
    /* an aggregate over a to-many path is a subquery per row (expr.c),
    ** which has no value per group */
    const char *per_row = NULL, *grouping = NULL;
    for (int i = 0; i < nv; i++) {
        const char *name = q->nvalues ? q->values[i] : m->fields[i].column;
        const corm__annot *an = corm__find_annot(s, name);
        if (n) corm__buf_adds(cols, ", ");
        corm_rc rc;
        if (an) {
            bool agg = false;
            rc = values_annot(c, s, q, an->e, cols, &agg);
            *local_agg = *local_agg || agg;
            isbool[n] = corm__expr_is_bool(q, an->e);
            field[n] = corm__expr_field(q, an->e);
            if (agg && !grouping) grouping = an->name;
            if (!agg && an->e->kind == CORM__E_AGG && !per_row) per_row = an->name;
            if (rc == CORM_OK) group_by_annot(q, an->e, agg, n, group);
        } else {
            size_t mark = cols->len;
            const corm_field *f = NULL;
            rc = corm__path_column_many(c, s, name, cols, &f);
            isbool[n] = f && f->type == CORM_FT_BOOL;
            field[n] = f;
            if (rc == CORM_OK) {
                if (group->len) corm__buf_adds(group, ", ");
                corm__buf_add(group, cols->p + mark, cols->len - mark);
            }
        }
        if (rc != CORM_OK) return rc;
        corm__buf_adds(cols, " AS ");
        if (an) alias_ident(cols, name, 'a', (int)(an - q->annots));
        else alias_ident(cols, name, 'v', i);
        o->colnames[n++] = name;
    }
    for (int i = 0; i < q->nannots; i++) {
        bool listed = false;
        for (int k = 0; k < n; k++)
            listed = listed || strcmp(o->colnames[k], q->annots[i].name) == 0;
        if (listed) continue;
        if (n) corm__buf_adds(cols, ", ");
        bool agg = false;
        corm_rc rc = values_annot(c, s, q, q->annots[i].e, cols, &agg);
        if (rc != CORM_OK) return rc;
        *local_agg = *local_agg || agg;
        isbool[n] = corm__expr_is_bool(q, q->annots[i].e);
        field[n] = corm__expr_field(q, q->annots[i].e);
        if (agg && !grouping) grouping = q->annots[i].name;
        if (!agg && q->annots[i].e->kind == CORM__E_AGG && !per_row) per_row = q->annots[i].name;
        group_by_annot(q, q->annots[i].e, agg, n, group);
        corm__buf_adds(cols, " AS ");
        alias_ident(cols, q->annots[i].name, 'a', i);
        o->colnames[n++] = q->annots[i].name;
    }
    o->ncols = n;
    if (per_row && grouping && q->values_mode && !q->aggregate) {
        corm__err_set(c->err, CORM_INVALID,
                      "values() grouped by the aggregate '%s' cannot also have '%s', an aggregate "
                      "over a to-many path (a subquery per row, not per group)",
                      grouping, per_row);
        corm__err_hint(c->err,
                       "annotate '%s' on the objects (no values()), or in a separate "
                       "values() queryset",
                       per_row);
        return CORM_INVALID;
    }
    return CORM_OK;
}

/* ------------------------------------------- aggregate() over a subquery */

/* Django aggregates a sliced, DISTINCT or annotated queryset as a
** subquery (QuerySet.aggregate, docs "Aggregation": "aggregate() over a
** sliced queryset"): the slice picks rows first, then they are summed.
** Without it the LIMIT would cut the one-row aggregate of the whole table. */
static bool aggregate_needs_subquery(const corm__query *q)
{
    if (!q->aggregate || q->via) return false;
    /* values().aggregate(): over the values() rows (only the aggregates
    ** come back, as Django's dict) */
    if (q->limit >= 0 || q->offset > 0 || q->distinct || q->values_mode) return true;
    for (int i = 0; i < q->nannots; i++)
        if (!q->annots[i].aggregate) return true;
    return false;
}

/* SELECT <aggregates> FROM (<the queryset's SELECT, annotations and
** slice>) T0 <joins of the aggregates' paths>.  The inner SELECT is the
** queryset as objects (no select_related, no only/defer), so every field
** and every annotation is a column of T0; its parameters follow the
** aggregates' in text order. */
static corm_rc compile_aggregate_subquery(const corm__query *q, const corm__dialect *d,
                                          corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm__query outer = *q, inner = *q;
    size_t sz = (size_t)q->nannots * sizeof *q->annots;
    corm__annot *aggs = corm__arena_alloc(&out->arena, sz);
    corm__annot *plain = corm__arena_alloc(&out->arena, sz);
    if (!aggs || !plain) return corm__sql_nomem(&c);
    outer.nannots = inner.nannots = 0;
    for (int i = 0; i < q->nannots; i++) {
        if (q->annots[i].aggregate) aggs[outer.nannots++] = q->annots[i];
        else plain[inner.nannots++] = q->annots[i];
    }
    outer.annots = aggs;
    outer.where = NULL;
    /* values().distinct().aggregate(): the inner SELECT is those rows,
    ** whose columns (named as values() names them) the aggregates read */
    outer.values_mode = false;
    outer.nvalues = 0;
    inner.annots = plain;
    inner.aggregate = false;
    inner.nrelated = 0;
    inner.nonly = 0;
    if (q->limit < 0 && q->offset <= 0) {
        /* the order of unsliced rows cannot change a sum */
        inner.order_set = true;
        inner.norder = 0;
    }
    corm__scope s;
    corm__scope_init(&s, q->model, 'T');
    s.q = &outer;
    s.wrapped = &inner;
    corm_buf cols, group;
    corm__buf_init(&cols);
    corm__buf_init(&group);
    bool local_agg = false;
    corm_rc rc = values_columns(&c, &s, &outer, &cols, &group, &local_agg);
    const char **colnames = out->colnames;
    const bool *colbool = out->colbool;
    const corm_field *const *colfield = out->colfield;
    int ncols = out->ncols;
    if (rc == CORM_OK) {
        corm__buf_adds(&out->sql, "SELECT ");
        corm__buf_add(&out->sql, cols.p ? cols.p : "", cols.len);
        corm__buf_adds(&out->sql, " FROM (");
        rc = corm__compile_select(&inner, CORM__SEL_OBJECTS, d, out, err);
    }
    if (rc == CORM_OK) {
        corm__buf_addf(&out->sql, ") %s", s.base_alias);
        corm__render_joins(&s, &out->sql);
        if (cols.oom || group.oom || out->sql.oom) rc = corm__sql_nomem(&c);
    }
    corm__buf_free(&cols);
    corm__buf_free(&group);
    out->colnames = colnames;
    out->colbool = colbool;
    out->colfield = colfield;
    out->ncols = ncols;
    out->nnodes = 1;
    out->key_col = out->annot_col = -1;
    out->nannots = 0;
    return rc;
}

/* aggregate(): a filter naming one of its results (HAVING of a one-row
** result) is a mistake SQL reports as "misuse of aggregate": say it here. */
static corm_rc check_aggregate_filter(corm__sqlctx *c, const corm__scope *s, const struct corm_q *w)
{
    if (!w) return CORM_OK;
    if (w->kind != CORM__Q_LEAF) {
        corm_rc rc = check_aggregate_filter(c, s, w->a);
        return rc == CORM_OK ? check_aggregate_filter(c, s, w->b) : rc;
    }
    const char *sep = strstr(w->lookup, "__");
    size_t len = sep ? (size_t)(sep - w->lookup) : strlen(w->lookup);
    for (int i = 0; i < s->q->nannots; i++) {
        const char *name = s->q->annots[i].name;
        if (strlen(name) != len || strncmp(name, w->lookup, len) != 0) continue;
        /* aggregate(price=Sum("price")): a filter on price is the field's */
        if (corm__model_field(s->base, name, len) || corm__model_rel(s->base, name, len) ||
            corm__is_pk_name(name))
            continue;
        corm__err_set(c->err, CORM_INVALID, "'%s' filters on the aggregate() result '%s'",
                      w->lookup, name);
        corm__err_hint(c->err, "filter the rows before aggregating, or, for a condition on an "
                               "aggregate per group (HAVING), corm_annotate it and filter on the "
                               "annotation");
        return CORM_INVALID;
    }
    return CORM_OK;
}

corm_rc corm__compile_select(const corm__query *q, corm__sel_kind kind, const corm__dialect *d,
                             corm__compiled *out, corm_error *err)
{
    if (kind == CORM__SEL_OBJECTS && aggregate_needs_subquery(q))
        return compile_aggregate_subquery(q, d, out, err);
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm__scope s;
    corm__scope_init(&s, q->model, 'T');
    s.q = q;
    /* a filter on the one to-many Count: LEFT JOIN, GROUP BY and HAVING,
    ** the relation read once (the correlated subquery would be evaluated
    ** in the select list and again in WHERE) */
    s.join_agg = corm__pick_join_agg(&c, &s, q);
    corm_rc rc = CORM_OK;
    corm_buf cols, where, having, group, order, from, key;
    corm_buf *bufs[] = {&cols, &where, &having, &group, &order, &from, &key};
    /* out->sql discarding: only the parameters and the plan are wanted */
    bool text = !out->sql.discard;
    for (size_t i = 0; i < CORM__ARRAY_LEN(bufs); i++) {
        if (text) corm__buf_init(bufs[i]);
        else corm__buf_discard(bufs[i]);
    }
    bool rows_mode = q->values_mode || q->aggregate; /* columns, not objects */
    bool objects = kind == CORM__SEL_OBJECTS && !rows_mode;
    bool via = q->via && objects;
    bool sliced = q->limit >= 0 || q->offset > 0;
    bool window = via && sliced;
    /* COUNT/EXISTS of a slice, a DISTINCT, values or annotations counts
    ** the rows of the real SELECT, as a subquery */
    bool wrap = kind != CORM__SEL_OBJECTS && (sliced || q->distinct || rows_mode || q->nannots > 0);
    bool want_cols = kind == CORM__SEL_OBJECTS || wrap;
    bool local_agg = false;
    order_refs orefs = {0};
    out->key_col = -1;
    out->annot_col = -1;
    out->nannots = 0;

    out->nnodes = 1;
    out->nodes[0] = (corm__sel_node){q->model, -1, NULL, 0, all_fields(q->model)};
    out->ncols = 1;
    if (objects) rc = plan_related(&c, &s, q);

    /* 1. ORDER BY (no parameters; may add joins).  aggregate() has none. */
    if (rc == CORM_OK && !q->aggregate && (kind == CORM__SEL_OBJECTS || sliced))
        rc = render_order(&c, &s, q, &order, window, &orefs);

    /* 2. the column list, with its parameters first in text order */
    if (rc == CORM_OK && want_cols && rows_mode) {
        rc = values_columns(&c, &s, q, &cols, &group, &local_agg);
    } else if (rc == CORM_OK && want_cols) {
        /* plan_related made node j's join first, as join j - 1 */
        int col = 0;
        for (int j = 0; j < out->nnodes; j++) {
            const corm_model *m = out->nodes[j].model;
            for (int fi = 0; fi < m->nfields; fi++) {
                if (!(out->nodes[j].mask & ((uint64_t)1 << fi))) continue;
                if (col) corm__buf_adds(&cols, ", ");
                corm__col_ref(&cols, corm__node_alias(&s, j - 1), m->fields[fi].column);
                if (window) corm__buf_addf(&cols, " AS c%d", col);
                col++;
            }
        }
        out->annot_col = out->ncols;
        for (int i = 0; rc == CORM_OK && i < q->nannots; i++) {
            bool agg = false;
            corm__buf_adds(&cols, ", ");
            rc = corm__render_expr(&c, &s, q->annots[i].e, &cols, &agg);
            local_agg = local_agg || agg;
            if (window) corm__buf_addf(&cols, " AS c%d", out->ncols);
            else {
                corm__buf_adds(&cols, " AS ");
                alias_ident(&cols, q->annots[i].name, 'a', i);
            }
            out->ncols++;
            out->nannots++;
        }
        if (local_agg) {
            corm__col_ref(&group, s.base_alias, "id");
            /* the select_related tables' columns: PostgreSQL takes them
            ** grouped by their key */
            for (int j = 1; j < out->nnodes; j++) {
                corm__buf_adds(&group, ", ");
                corm__col_ref(&group, corm__node_alias(&s, j - 1), "id");
            }
            /* and every other to-one join: an annotation's correlated
            ** subquery may name its key (Min("country__publisher__id")) */
            for (int j = 0; j < s.njoins && text; j++) {
                /* the joined aggregate's relation is what is grouped */
                const corm_relation *r = s.joins[j].rel;
                if (s.join_agg && (r->kind == CORM_REL_REVERSE_FK || r->kind == CORM_REL_M2M ||
                                   r->kind == CORM_REL_REVERSE_M2M))
                    continue;
                corm_buf ref;
                corm__buf_init(&ref);
                corm__col_ref(&ref, s.joins[j].alias, "id");
                if (ref.oom) group.oom = true;
                else if (!has_ref(&group, corm__buf_cstr(&ref)))
                    corm__buf_addf(&group, ", %s", corm__buf_cstr(&ref));
                corm__buf_free(&ref);
            }
        }
    }
    /* what PostgreSQL requires of ORDER BY columns, as Django generates:
    ** grouped (values() groups by every one; objects by those of other
    ** tables, the base's hang on its key), and selected under DISTINCT
    ** (an extra column after the requested ones, never shown) */
    for (int t = 0; rc == CORM_OK && t < orefs.n; t++) {
        const char *ref = orefs.r[t].ref;
        if (local_agg && (rows_mode || orefs.r[t].joined) && !has_ref(&group, ref)) {
            if (group.len) corm__buf_adds(&group, ", ");
            corm__buf_adds(&group, ref);
        }
        if (q->distinct && want_cols && !via && !has_ref(&cols, ref))
            corm__buf_addf(&cols, ", %s AS \"corm__o%d\"", ref, t);
    }
    if (rc == CORM_OK && via) {
        via_from_clause(&c, &s, q, &from, &key);
        corm__buf_addf(&cols, ", %s", corm__buf_cstr(&key));
        if (window)
            corm__buf_addf(&cols, " AS c%d, ROW_NUMBER() OVER (PARTITION BY %s%s) AS corm_rn",
                           out->ncols, corm__buf_cstr(&key), corm__buf_cstr(&order));
        out->key_col = out->ncols;
        if (q->via_all) render_keys_all(&where, q, corm__buf_cstr(&key));
        else rc = render_keys_in(&c, &where, corm__buf_cstr(&key), q->via_keys, q->nvia_keys);
    } else {
        corm__sql_ident(&from, q->model->table);
        corm__buf_addf(&from, " %s", s.base_alias);
    }

    /* 3. WHERE and HAVING; the default scopes first, after the prefetch
    ** keys (compile_write.c) */
    if (rc == CORM_OK && q->aggregate) rc = check_aggregate_filter(&c, &s, q->where);
    if (rc == CORM_OK) rc = corm__render_scopes(&c, &s, q, &where);
    if (rc == CORM_OK && q->where) {
        corm_buf rows;
        if (text) corm__buf_init(&rows);
        else corm__buf_discard(&rows);
        rc = render_filters(&c, &s, q->where, false, &rows);
        if (rows.len) {
            if (where.len) corm__buf_adds(&where, " AND ");
            corm__buf_add(&where, rows.p, rows.len);
        }
        if (rc == CORM_OK && rows.oom) rc = corm__sql_nomem(&c);
        corm__buf_free(&rows);
    }
    /* GROUP BY's expressions come after WHERE in the text, so their
    ** parameters are bound here, between WHERE's and HAVING's */
    if (rc == CORM_OK && q->values_mode && !q->aggregate && local_agg)
        rc = group_by_mixed(&c, &s, q, &group);
    if (rc == CORM_OK && q->where) {
        /* only annotations can be aggregates a filter puts in HAVING */
        if (q->nannots) rc = render_filters(&c, &s, q->where, true, &having);
        if (rc == CORM_OK && having.len && !local_agg) {
            corm__err_set(err, CORM_INVALID,
                          "a filter on an aggregate needs it to be an annotation");
            rc = CORM_INVALID;
        }
    }

    /* 4. assemble in text order */
    corm_buf *b = &out->sql;
    if (rc == CORM_OK) {
        if (wrap)
            corm__buf_adds(b, kind == CORM__SEL_COUNT ? "SELECT COUNT(*) FROM (SELECT "
                                                      : "SELECT 1 FROM (SELECT ");
        else if (window) {
            corm__buf_adds(b, "SELECT ");
            for (int i = 0; i <= out->ncols; i++) corm__buf_addf(b, i ? ", c%d" : "c%d", i);
            corm__buf_adds(b, " FROM (SELECT ");
        } else corm__buf_adds(b, "SELECT ");
        if (q->distinct) corm__buf_adds(b, "DISTINCT ");
        if (want_cols) corm__buf_add(b, cols.p ? cols.p : "", cols.len);
        else corm__buf_adds(b, kind == CORM__SEL_COUNT ? "COUNT(*)" : "1 AS \"a\"");
        corm__buf_adds(b, " FROM ");
        corm__buf_add(b, from.p, from.len);
        corm__render_joins(&s, b);
        if (where.len) {
            corm__buf_adds(b, " WHERE ");
            corm__buf_add(b, where.p, where.len);
        }
        if (local_agg && group.len && !q->aggregate) {
            corm__buf_adds(b, " GROUP BY ");
            corm__buf_add(b, group.p, group.len);
        }
        if (having.len) {
            corm__buf_adds(b, " HAVING ");
            corm__buf_add(b, having.p, having.len);
        }
        if (window) {
            /* a slice of a prefetch is per parent: rows start..stop of
            ** each parent's related rows, in the queryset's ordering */
            corm__buf_adds(b, ") corm_w WHERE corm_rn > ");
            rc = corm__sql_bind(&c, b, corm_int(q->offset));
            if (rc == CORM_OK && q->limit >= 0) {
                corm__buf_adds(b, " AND corm_rn <= ");
                rc = corm__sql_bind(&c, b, corm_int(q->offset + q->limit));
            }
            corm__buf_addf(b, " ORDER BY c%d, corm_rn", out->ncols);
        } else {
            if (order.len) corm__buf_add(b, order.p, order.len);
            if (q->limit >= 0) {
                corm__buf_adds(b, " LIMIT ");
                rc = corm__sql_bind(&c, b, corm_int(q->limit));
            } else if (q->offset > 0 && d->no_limit) {
                corm__buf_adds(b, d->no_limit);
            }
            if (rc == CORM_OK && q->offset > 0) {
                corm__buf_adds(b, " OFFSET ");
                rc = corm__sql_bind(&c, b, corm_int(q->offset));
            }
        }
        if (wrap) corm__buf_adds(b, ") corm_sub");
        if (kind == CORM__SEL_EXISTS) corm__buf_adds(b, " LIMIT 1");
        if (via) out->ncols++;
    }
    bool oom = b->oom;
    for (size_t i = 0; i < CORM__ARRAY_LEN(bufs); i++) {
        oom = oom || bufs[i]->oom;
        corm__buf_free(bufs[i]);
    }
    if (rc == CORM_OK && oom) rc = corm__sql_nomem(&c);
    return rc;
}

void corm__compile_explain(const char *select_sql, const corm__dialect *d, corm_buf *out)
{
    corm__buf_adds(out, d->explain_prefix);
    corm__buf_adds(out, select_sql);
}
