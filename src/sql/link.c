/*
** link.c - the statements of many-to-many writes (Django's related
** manager add / remove / clear / set) on a relation's link table, from
** either side: r->through_src is the column of the object written from,
** r->through_dst the other side's.
*/
#include "compile_int.h"

static void link_where_src(corm__sqlctx *c, const corm_relation *r, int64_t src, corm_buf *b,
                           corm_rc *rc)
{
    corm__buf_adds(b, " WHERE ");
    corm__sql_ident(b, r->through_src);
    corm__buf_adds(b, " = ");
    if (*rc == CORM_OK) *rc = corm__sql_bind(c, b, corm_int(src));
}

corm_rc corm__compile_link_add(const corm_relation *r, const corm__dialect *d, int64_t src,
                               const int64_t *dst, size_t n, corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm_buf *b = &out->sql;
    corm_rc rc = corm__compiled_reserve(&c, 2 * n);
    corm__buf_adds(b, "INSERT INTO ");
    corm__sql_ident(b, r->through);
    corm__buf_adds(b, " (");
    corm__sql_ident(b, r->through_src);
    corm__buf_adds(b, ", ");
    corm__sql_ident(b, r->through_dst);
    corm__buf_adds(b, ") VALUES ");
    for (size_t i = 0; rc == CORM_OK && i < n; i++) {
        corm__buf_adds(b, i ? ", (" : "(");
        corm__sql_bind_reserved(&c, b, corm_int(src));
        corm__buf_adds(b, ", ");
        corm__sql_bind_reserved(&c, b, corm_int(dst[i]));
        corm__buf_addc(b, ')');
    }
    /* a link already there stays (the link table is UNIQUE (src, dst)) */
    corm__buf_adds(b, " ON CONFLICT DO NOTHING");
    if (rc == CORM_OK && b->oom) rc = corm__sql_nomem(&c);
    return rc;
}

corm_rc corm__compile_link_remove(const corm_relation *r, const corm__dialect *d, int64_t src,
                                  const int64_t *dst, size_t n, corm__compiled *out,
                                  corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm_buf *b = &out->sql;
    corm_rc rc = CORM_OK;
    corm__buf_adds(b, "DELETE FROM ");
    corm__sql_ident(b, r->through);
    link_where_src(&c, r, src, b, &rc);
    if (dst && rc == CORM_OK) {
        corm__buf_adds(b, " AND ");
        corm__sql_ident(b, r->through_dst);
        rc = corm__render_keys(&c, b, dst, n);
    }
    if (rc == CORM_OK && b->oom) rc = corm__sql_nomem(&c);
    return rc;
}

corm_rc corm__compile_link_targets(const corm_relation *r, const corm__dialect *d, int64_t src,
                                   corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm_buf *b = &out->sql;
    corm_rc rc = CORM_OK;
    corm__buf_adds(b, "SELECT ");
    corm__sql_ident(b, r->through_dst);
    corm__buf_adds(b, " FROM ");
    corm__sql_ident(b, r->through);
    link_where_src(&c, r, src, b, &rc);
    if (rc == CORM_OK && b->oom) rc = corm__sql_nomem(&c);
    return rc;
}
