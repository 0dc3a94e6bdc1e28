/*
** delete.c - DELETE statements and the other statements of the delete
** collector (src/write/delete.c, Django's Collector): a queryset's DELETE
** when nothing points at its model, the ids a queryset matches when
** something does, and the DELETE, SET NULL and SELECT of "the rows whose
** column is one of these keys" it runs per relation.  The keys travel as
** one parameter (dialect.h keys_*), so one statement serves any number.
*/
#include "compile_int.h"

/* ` WHERE "column" <keys>`: the end of every keyed statement. */
static corm_rc keyed_where(corm__sqlctx *c, const char *column, const int64_t *keys, size_t n)
{
    corm_buf *sql = &c->out->sql;
    corm__buf_adds(sql, " WHERE ");
    corm__sql_ident(sql, column);
    corm_rc rc = corm__render_keys(c, sql, keys, n);
    if (rc == CORM_OK && sql->oom) rc = corm__sql_nomem(c);
    return rc;
}

corm_rc corm__compile_delete(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                             corm_error *err)
{
    corm_buf *sql = &out->sql;
    corm__buf_adds(sql, "DELETE FROM ");
    corm__sql_ident(sql, q->model->table);
    corm__buf_adds(sql, " AS T0");
    return corm__render_write_where(q, d, out, err);
}

corm_rc corm__compile_select_ids(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                                 corm_error *err)
{
    corm_buf *sql = &out->sql;
    corm__buf_adds(sql, "SELECT T0.");
    corm__sql_ident(sql, q->model->fields[0].column);
    corm__buf_adds(sql, " FROM ");
    corm__sql_ident(sql, q->model->table);
    corm__buf_adds(sql, " T0");
    return corm__render_write_where(q, d, out, err);
}

corm_rc corm__compile_delete_in(const char *table, const char *column, const int64_t *keys,
                                size_t n, const corm__dialect *d, corm__compiled *out,
                                corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm__buf_adds(&out->sql, "DELETE FROM ");
    corm__sql_ident(&out->sql, table);
    return keyed_where(&c, column, keys, n);
}

corm_rc corm__compile_set_null_in(const char *table, const char *column, const int64_t *keys,
                                  size_t n, const corm__dialect *d, corm__compiled *out,
                                  corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm_buf *sql = &out->sql;
    corm__buf_adds(sql, "UPDATE ");
    corm__sql_ident(sql, table);
    corm__buf_adds(sql, " SET ");
    corm__sql_ident(sql, column);
    corm__buf_adds(sql, " = NULL");
    return keyed_where(&c, column, keys, n);
}

corm_rc corm__compile_select_in(const corm_model *m, const corm_field *const *cols, int ncols,
                                const corm_field *key, const int64_t *keys, size_t n,
                                const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    corm_buf *sql = &out->sql;
    corm__buf_adds(sql, "SELECT ");
    for (int i = 0; i < ncols; i++) {
        if (i) corm__buf_adds(sql, ", ");
        corm__sql_ident(sql, cols[i]->column);
    }
    corm__buf_adds(sql, " FROM ");
    corm__sql_ident(sql, m->table);
    return keyed_where(&c, key->column, keys, n);
}
