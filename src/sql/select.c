/*
** select.c - the SELECT: select_related joins, ordering, prefetch parent
** keys (one parameter for any number of parents), slices (LIMIT/OFFSET, or
** a per-parent window inside a prefetch), and the column list the hydrator
** reads in node order.
*/
#include "compile_int.h"

#include <string.h>

/* ------------------------------------------------------ select_related */

static corm_rc plan_related(corm__sqlctx *c, corm__scope *s, const corm__query *q)
{
    corm__compiled *o = c->out;
    o->nnodes = 1;
    o->nodes[0] = (corm__sel_node){q->model, -1, NULL, 0};
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
                    corm__err_hint(c->err, "select_related follows fk and one_to_one fields");
                    return CORM_INVALID;
                }
                return corm__unknown_name(c, m, parts[i], q->related[k]);
            }
            if (r->kind != CORM_REL_FK && r->kind != CORM_REL_O2O &&
                r->kind != CORM_REL_REVERSE_O2O) {
                corm__err_set(c->err, CORM_INVALID,
                              "select_related('%s'): %s.%s is a to-many relation",
                              q->related[k], m->name, parts[i]);
                corm__err_hint(c->err, "use corm_prefetch_related(qs, \"%s\") for reverse "
                               "foreign keys and many-to-many", q->related[k]);
                return CORM_INVALID;
            }
            int found = -1;
            for (int j = 1; j < o->nnodes; j++)
                if (o->nodes[j].parent == node && o->nodes[j].rel == r) found = j;
            if (found < 0) {
                if (o->nnodes == CORM__MAX_NODES) {
                    corm__err_set(c->err, CORM_INVALID, "select_related follows more than %d relations",
                                  CORM__MAX_NODES - 1);
                    return CORM_INVALID;
                }
                /* LEFT OUTER for every hop: it is exact for nullable keys,
                ** equal for required ones (the key is enforced), and it makes
                ** SQLite drive the join from the base table. */
                int j = corm__scope_join(c, s, node_join[node], r, true);
                if (j < -1) return c->err->rc;
                found = o->nnodes++;
                o->nodes[found] = (corm__sel_node){corm__rel_target(m, r), node, r, 0};
                node_join[found] = j;
            }
            node = found;
        }
    }
    int col = 0;
    for (int j = 0; j < o->nnodes; j++) {
        o->nodes[j].first_col = col;
        col += o->nodes[j].model->nfields;
    }
    o->ncols = col;
    return CORM_OK;
}

/* ------------------------------------------------------------ ordering */

static corm_rc render_order(corm__sqlctx *c, corm__scope *s, const corm__query *q, corm_buf *b,
                            bool by_pk_fallback)
{
    const char *const *terms = q->order;
    int n = q->norder;
    if (!q->order_set) {
        terms = q->model->ordering;
        n = q->model->nordering;
    }
    static const char *const pk_term[] = {"pk"};
    if (n == 0 && by_pk_fallback) {
        terms = pk_term;
        n = 1;
    }
    for (int t = 0; t < n; t++) {
        const char *term = terms[t];
        bool desc = term[0] == '-';
        if (desc) term++;
        if (q->reverse_order) desc = !desc;
        char *parts[MAX_PARTS];
        int np;
        corm_rc rc = corm__split_path(c, term, parts, &np);
        if (rc != CORM_OK) return rc;
        int node = -1;
        const corm_field *f = NULL;
        for (int i = 0; i < np; i++) {
            const corm_model *m = corm__node_model(s, node);
            const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
            if (r && (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O)) {
                if (i + 1 == np || (i + 2 == np && corm__is_pk_name(parts[i + 1]))) {
                    f = &m->fields[r->field];
                    break;
                }
                int j = corm__scope_join(c, s, node, r, (m->fields[r->field].flags & CORM_FF_NULL) != 0);
                if (j < -1) return c->err->rc;
                node = j;
                continue;
            }
            if (r) {
                corm__err_set(c->err, CORM_INVALID, "order_by('%s'): %s.%s is a to-many relation",
                              terms[t], m->name, parts[i]);
                corm__err_hint(c->err, "order by an annotation of it, or by a to-one path");
                return CORM_INVALID;
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
        corm__col_ref(b, corm__node_alias(s, node), f->column);
        corm__buf_adds(b, desc ? " DESC" : " ASC");
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ prefetch */

/* `key IN <keys>`: one parameter whatever the number of parents.  SQLite
** reads a JSON array with json_each; the list is never split, so one
** prefetch level is always one query (docs/eager-loading.md). */
static corm_rc render_keys_in(corm__sqlctx *c, corm_buf *w, const char *key_sql,
                              const int64_t *keys, size_t n)
{
    if (n == 0) {
        corm__buf_adds(w, "1 = 0");
        return CORM_OK;
    }
    corm_buf json;
    corm__buf_init(&json);
    corm__buf_addc(&json, '[');
    for (size_t i = 0; i < n; i++) corm__buf_addf(&json, i ? ",%lld" : "%lld", (long long)keys[i]);
    corm__buf_addc(&json, ']');
    char *p = json.oom ? NULL : corm__arena_strndup(&c->out->arena, json.p, json.len);
    corm__buf_free(&json);
    if (!p) return corm__sql_nomem(c);
    corm__buf_addf(w, "%s IN (SELECT value FROM json_each(", key_sql);
    corm_rc rc = corm__sql_bind(c, w, corm_text(p));
    corm__buf_adds(w, "))");
    return rc;
}

/* The parent key expression and the FROM clause of a prefetch query. */
static void via_from_clause(corm__sqlctx *c, const corm__scope *s, const corm__query *q, corm_buf *from,
                            corm_buf *key)
{
    const corm_relation *r = q->via;
    const corm_model *to = q->model;
    bool m2m = r->kind == CORM_REL_M2M || r->kind == CORM_REL_REVERSE_M2M;
    if (m2m) {
        /* the link table drives: its index on the parent column finds the
        ** rows; SQLite's CROSS JOIN keeps that order */
        corm__sql_ident(from, r->through);
        corm__buf_adds(from, " J0");
        corm__buf_adds(from, strcmp(c->d->vendor, "sqlite") == 0 ? " CROSS JOIN " : " INNER JOIN ");
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
    if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O)
        corm__col_ref(key, s->base_alias, "id");
    else
        corm__col_ref(key, s->base_alias, to->fields[r->field].column);
}

/* ------------------------------------------------------------ the query */

corm_rc corm__compile_select(const corm__query *q, corm__sel_kind kind,
                             const corm__dialect *d, corm__compiled *out,
                             corm_error *err)
{
    corm__sqlctx c = {d, out, err};
    corm__scope s;
    corm__scope_init(&s, q->model, 'T');
    corm_rc rc = CORM_OK;
    corm_buf where, order, from, key;
    corm__buf_init(&where);
    corm__buf_init(&order);
    corm__buf_init(&from);
    corm__buf_init(&key);
    bool via = q->via && kind == CORM__SEL_OBJECTS;
    bool sliced = q->limit >= 0 || q->offset > 0;
    bool window = via && sliced;
    out->key_col = -1;

    if (kind == CORM__SEL_OBJECTS) rc = plan_related(&c, &s, q);
    else {
        out->nnodes = 1;
        out->nodes[0] = (corm__sel_node){q->model, -1, NULL, 0};
        out->ncols = 1;
    }
    if (via) {
        via_from_clause(&c, &s, q, &from, &key);
        rc = rc == CORM_OK ? render_keys_in(&c, &where, corm__buf_cstr(&key), q->via_keys,
                                            q->nvia_keys) : rc;
        if (q->where) corm__buf_adds(&where, " AND ");
    } else {
        corm__sql_ident(&from, q->model->table);
        corm__buf_addf(&from, " %s", s.base_alias);
    }
    if (rc == CORM_OK && q->where) rc = corm__render_q(&c, &s, q->where, false, &where);
    if (rc == CORM_OK && (kind == CORM__SEL_OBJECTS || sliced))
        rc = render_order(&c, &s, q, &order, window);

    /* the SELECT list: every column of every select_related node, in node
    ** order, which is the order the hydrator reads them in */
    corm_buf *b = &out->sql;
    if (rc == CORM_OK) {
        bool wrap = kind != CORM__SEL_OBJECTS && sliced;
        if (wrap) corm__buf_adds(b, kind == CORM__SEL_COUNT
                                 ? "SELECT COUNT(*) FROM (SELECT " : "SELECT 1 FROM (SELECT ");
        else if (window) {
            corm__buf_adds(b, "SELECT ");
            for (int i = 0; i <= out->ncols; i++) corm__buf_addf(b, i ? ", c%d" : "c%d", i);
            corm__buf_adds(b, " FROM (SELECT ");
        } else corm__buf_adds(b, "SELECT ");
        if (kind == CORM__SEL_OBJECTS) {
            /* plan_related made node j's join first, as join j - 1 */
            int col = 0;
            for (int j = 0; j < out->nnodes; j++) {
                const corm_model *m = out->nodes[j].model;
                for (int fi = 0; fi < m->nfields; fi++, col++) {
                    if (col) corm__buf_adds(b, ", ");
                    corm__col_ref(b, corm__node_alias(&s, j - 1), m->fields[fi].column);
                    if (window) corm__buf_addf(b, " AS c%d", col);
                }
            }
            if (via) {
                corm__buf_addf(b, ", %s", corm__buf_cstr(&key));
                if (window) {
                    corm__buf_addf(b, " AS c%d, ROW_NUMBER() OVER (PARTITION BY %s%s) AS corm_rn",
                                   out->ncols, corm__buf_cstr(&key), corm__buf_cstr(&order));
                }
                out->key_col = out->ncols;
            }
        } else if (wrap) {
            corm__col_ref(b, s.base_alias, "id");
        } else {
            corm__buf_adds(b, kind == CORM__SEL_COUNT ? "COUNT(*)" : "1 AS \"a\"");
        }
        corm__buf_adds(b, " FROM ");
        corm__buf_add(b, from.p, from.len);
        corm__render_joins(&s, b);
        if (where.len) {
            corm__buf_adds(b, " WHERE ");
            corm__buf_add(b, where.p, where.len);
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
            } else if (q->offset > 0 && !d->numbered_params) {
                corm__buf_adds(b, " LIMIT -1");
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
    if (rc == CORM_OK && (b->oom || where.oom || order.oom || from.oom || key.oom)) rc = corm__sql_nomem(&c);
    corm__buf_free(&where);
    corm__buf_free(&order);
    corm__buf_free(&from);
    corm__buf_free(&key);
    return rc;
}
