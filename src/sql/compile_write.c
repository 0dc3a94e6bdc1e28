/*
** compile_write.c - the pieces UPDATE and DELETE statements of a queryset
** share (update.c, delete.c): their WHERE and SET expressions, and the
** default scopes every SELECT applies too.
**
** UPDATE and DELETE name their table with the alias the SELECT compiler
** gives a query's base (T0), so a WHERE rendered for a SELECT is valid as
** is: `UPDATE "book" AS T0 SET ... WHERE T0."pages" > ?` (SQLite >= 3.24
** and PostgreSQL accept the alias).  A filter that needs a join cannot
** join in an UPDATE or DELETE, so it becomes a semi-join on the primary
** key, as Django writes it: `T0."id" IN (SELECT T0."id" FROM "book" T0
** INNER JOIN ... WHERE ...)` - the inner T0 is the subquery's own.
**
** Parameters: every caller writes its text in order and binds as it goes
** (corm__compiled_param), so placeholders and params stay in step.
*/
#include "compile_int.h"

#include <string.h>

static const char *scope_kind_what(corm_scope_kind k)
{
    switch (k) {
    case CORM_SCOPE_RUNTIME: return "a runtime scope";
    default: return "a static scope";
    }
}

corm_rc corm__render_scopes(corm__sqlctx *c, corm__scope *s, const corm__query *q, corm_buf *w)
{
    const corm_model *m = q->model;
    if (q->unscoped || !m || m->nscopes <= 0) return CORM_OK;
    for (int i = 0; i < m->nscopes; i++) {
        const corm_scope *sc = &m->scopes[i];
        if (sc->field < 0 || sc->field >= m->nfields) {
            corm__err_set(c->err, CORM_SCHEMA, "%s: %s names field %d, which it does not have",
                          m->name, scope_kind_what(sc->kind), sc->field);
            corm__err_hint(c->err, "the descriptors are inconsistent; regenerate them");
            return CORM_SCHEMA;
        }
        const corm_field *f = &m->fields[sc->field];
        corm_value v = corm_null();
        switch (sc->kind) {
        case CORM_SCOPE_RUNTIME: {
            const corm__scope_env *env = q->scopes;
            int k = 0;
            while (env && k < env->n && strcmp(env->vals[k].name, f->name) != 0) k++;
            if (!env || k == env->n) {
                corm__err_set(c->err, CORM_MISUSE,
                              "%s is scoped by %s (a default scope) and no %s is set on "
                              "this database",
                              m->name, f->name, f->name);
                corm__err_hint(c->err,
                               "call corm_scope_set(db, \"%s\", value) first (e.g. "
                               "the request's tenant), or corm_unscoped(qs) to see every row",
                               f->name);
                return CORM_MISUSE;
            }
            v = env->vals[k].v;
            break;
        }
        case CORM_SCOPE_NULL: break;
        case CORM_SCOPE_INT: v = corm_int(sc->ival); break;
        case CORM_SCOPE_FLOAT: v = corm_float(sc->fval); break;
        case CORM_SCOPE_BOOL: v = corm_bool(sc->ival != 0); break;
        case CORM_SCOPE_TEXT: v = corm_text(sc->sval ? sc->sval : ""); break;
        }
        if (w->len) corm__buf_adds(w, " AND ");
        corm__col_ref(w, s->base_alias, f->column);
        if (v.type == CORM_V_NULL) {
            corm__buf_adds(w, " IS NULL");
            continue;
        }
        corm__buf_adds(w, " = ");
        corm_rc rc = corm__sql_bind(c, w, v);
        if (rc != CORM_OK) return rc;
    }
    return w->oom ? corm__sql_nomem(c) : CORM_OK;
}

corm_rc corm__compile_where(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                            corm_buf *w, bool *empty, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm__scope s;
    corm__scope_init(&s, q->model, 'T');
    s.q = q;
    corm_buf cond;
    corm__buf_init(&cond);
    corm_rc rc = corm__render_scopes(&c, &s, q, &cond);
    if (rc == CORM_OK && q->where) {
        if (corm__q_has_local_agg(&c, &s, q->where)) {
            corm__err_set(err, CORM_INVALID,
                          "update() or delete() of %s filtered on an aggregate annotation",
                          q->model->name);
            corm__err_hint(err, "select the ids first (values_list(\"id\")) and filter on "
                                "id__in");
            rc = CORM_INVALID;
        } else {
            if (cond.len) corm__buf_adds(&cond, " AND ");
            rc = corm__render_q(&c, &s, q->where, false, &cond);
        }
    }
    *empty = rc == CORM_OK && cond.len == 0;
    if (rc == CORM_OK && cond.len) {
        if (s.njoins == 0) {
            corm__buf_add(w, cond.p, cond.len);
        } else {
            corm__col_ref(w, s.base_alias, q->model->fields[0].column);
            corm__buf_adds(w, " IN (SELECT ");
            corm__col_ref(w, s.base_alias, q->model->fields[0].column);
            corm__buf_adds(w, " FROM ");
            corm__sql_ident(w, q->model->table);
            corm__buf_addf(w, " %s", s.base_alias);
            corm__render_joins(&s, w);
            corm__buf_adds(w, " WHERE ");
            corm__buf_add(w, cond.p, cond.len);
            corm__buf_addc(w, ')');
        }
    }
    if (rc == CORM_OK && (cond.oom || w->oom)) rc = corm__sql_nomem(&c);
    corm__buf_free(&cond);
    return rc;
}

corm_rc corm__render_write_where(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                                 corm_error *err)
{
    corm_buf where;
    corm__buf_init(&where);
    bool empty = true;
    corm_rc rc = corm__compile_where(q, d, out, &where, &empty, err);
    if (rc == CORM_OK && !empty) {
        corm__buf_adds(&out->sql, " WHERE ");
        corm__buf_add(&out->sql, where.p, where.len);
    }
    corm__buf_free(&where);
    if (rc == CORM_OK && out->sql.oom) {
        corm__sqlctx c = {.d = d, .out = out, .err = err};
        rc = corm__sql_nomem(&c);
    }
    return rc;
}

corm_rc corm__compile_set_expr(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                               corm_buf *w, const struct corm_expr *e, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm__scope s;
    corm__scope_init(&s, q->model, 'T');
    s.q = q;
    bool agg = false;
    corm_rc rc = corm__render_expr(&c, &s, e, w, &agg);
    if (rc != CORM_OK) return rc;
    if (agg) {
        corm__err_set(err, CORM_INVALID, "update() of %s: aggregates are not allowed in a SET",
                      q->model->name);
        corm__err_hint(err, "compute the value with aggregate() first, or use a Subquery");
        return CORM_INVALID;
    }
    if (s.njoins) {
        corm__err_set(err, CORM_INVALID,
                      "update() of %s: joined field references are not permitted in a SET",
                      q->model->name);
        corm__err_hint(err, "use F() of the model's own fields, or a Subquery for related ones");
        return CORM_INVALID;
    }
    return w->oom ? corm__sql_nomem(&c) : CORM_OK;
}

corm_rc corm__compiled_param(corm__compiled *out, const corm__dialect *d, corm_buf *w, corm_value v,
                             corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    return corm__sql_bind(&c, w, v);
}
