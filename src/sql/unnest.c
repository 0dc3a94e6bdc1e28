/*
** unnest.c - bulk writes over arrays, for dialects with bulk_arrays
** (PostgreSQL): bulk_create's
**
**   INSERT INTO t (c1, c2) SELECT corm_v.c1, COALESCE(corm_v.c2, dflt)
**   FROM unnest(CAST($1 AS text[]), CAST($2 AS bigint[])) AS corm_v(c1, c2)
**   [ON CONFLICT ...] RETURNING "id"
**
** and bulk_update's
**
**   UPDATE t SET f = corm_v.c1 FROM unnest(CAST($1 AS integer[]),
**   CAST($2 AS bigint[])) AS corm_v(c1, c2) WHERE t."id" = corm_v.c2
**
** Each column of the rows is one parameter, the text of an array literal
** (dialect_pg.c writes its elements), cast to the column's own type, so the
** statement has as many parameters as columns whatever the number of rows:
** one text, one prepared plan, and the server parses nine arrays where a
** VALUES list of 10,000 rows was 90,000 parameters (docs/benchmarks.md).
**
** The arrays live in buffers the caller owns (kept from one batch to the
** next); the parameters point into them.  A batch ends after nrows rows or
** once the arrays hold more than max_bytes (at least one row): a PostgreSQL
** value is at most 1 GB.
**
** Order: RETURNING gives the ids in the order the rows were inserted, and
** a function scan over unnest() yields them in array order; corm reads the
** ids back in that order, as it did for VALUES lists and as Django's own
** UNNEST insert does.  PostgreSQL documents no order for RETURNING (a
** plain INSERT from one scan has always kept it); tests/integration/
** test_bulk_pg_arrays.c checks it on every run.
*/
#include "compile_int.h"

/* Rows from 0 into arrays[0..ncols) (one array literal per column, in
** the fill's cell order), until nrows or max_bytes; *used = the rows. */
static corm_rc fill_arrays(corm__sqlctx *c, const char *what, const corm_model *m,
                           const corm_field *const *cols, int ncols, size_t nrows, size_t max_bytes,
                           corm__row_fn fill, void *ud, corm_buf *arrays, size_t *used)
{
    corm_value cells[CORM_MAX_FIELDS + 1];
    corm_rc rc = CORM_OK;
    size_t total = 0, r = 0;
    *used = 0;
    for (int k = 0; k < ncols; k++) {
        corm__buf_reset(&arrays[k]);
        corm__buf_addc(&arrays[k], '{');
    }
    for (; r < nrows && rc == CORM_OK; r++) {
        if (r && total > max_bytes) break;
        rc = fill(ud, r, cells);
        for (int k = 0; k < ncols && rc == CORM_OK; k++) {
            corm_buf *a = &arrays[k];
            size_t before = a->len;
            if (r) corm__buf_addc(a, ',');
            if (!corm__sql_array_elem(a, &cells[k])) {
                corm__err_set(c->err, CORM_INVALID, "%s: %s.%s of object %zu cannot be sent: %s",
                              what, m->name, cols[k]->name, r + 1,
                              cells[k].type == CORM_V_DECIMAL ? "an invalid decimal"
                                                              : "text holding a NUL byte");
                corm__err_hint(c->err, "%s",
                               cells[k].type == CORM_V_DECIMAL
                                   ? "make decimals with corm_dec()"
                                   : "store binary data in a blob field");
                rc = CORM_INVALID;
            }
            total += a->len - before;
        }
    }
    bool oom = false;
    for (int k = 0; k < ncols; k++) {
        corm__buf_addc(&arrays[k], '}');
        oom |= arrays[k].oom;
    }
    if (rc == CORM_OK && oom) rc = corm__sql_nomem(c);
    if (rc == CORM_OK) *used = r;
    return rc;
}

/* ` FROM unnest(CAST($k AS type[]), ...) AS corm_v(c1, ..., cN)`, the
** arrays bound as the next parameters. */
static corm_rc render_unnest(corm__sqlctx *c, corm_buf *sql, const corm_field *const *cols,
                             int ncols, corm_buf *arrays)
{
    corm_rc rc = CORM_OK;
    corm__buf_adds(sql, " FROM unnest(");
    for (int k = 0; k < ncols && rc == CORM_OK; k++) {
        char tbuf[64];
        const char *t = c->d->column_type(cols[k], tbuf, sizeof tbuf);
        if (k) corm__buf_adds(sql, ", ");
        corm__buf_adds(sql, "CAST(");
        rc = corm__sql_bind(c, sql, corm_text(corm__buf_cstr(&arrays[k])));
        corm__buf_addf(sql, " AS %s[])", t ? t : "text");
    }
    corm__buf_adds(sql, ") AS corm_v(");
    for (int k = 0; k < ncols; k++) corm__buf_addf(sql, k ? ", c%d" : "c%d", k + 1);
    corm__buf_addc(sql, ')');
    return rc;
}

corm_rc corm__compile_insert_arrays(const corm__insert *ins, const corm__dialect *d, size_t nrows,
                                    size_t max_bytes, corm__row_fn fill, void *ud, corm_buf *arrays,
                                    size_t *used, corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    *used = 0;
    if (CORM_NEVER(ins->ncols < 1 || ins->ncols > CORM_MAX_FIELDS)) return CORM_MISUSE;
    corm_rc rc = fill_arrays(&c, "bulk_create", ins->model, ins->cols, ins->ncols, nrows, max_bytes,
                             fill, ud, arrays, used);
    if (rc != CORM_OK) return rc;
    corm_buf *sql = &out->sql;
    corm__sql_insert_head(ins, sql, " SELECT ");
    for (int k = 0; k < ins->ncols; k++) {
        const corm_field *f = ins->cols[k];
        bool dflt = corm__sql_has_default(f);
        if (k) corm__buf_adds(sql, ", ");
        /* a NULL in a NOT NULL column with a schema default takes it, as
        ** a single save leaves the column out */
        if (dflt) corm__buf_addf(sql, "COALESCE(corm_v.c%d, %s)", k + 1, f->default_sql);
        else corm__buf_addf(sql, "corm_v.c%d", k + 1);
    }
    rc = render_unnest(&c, sql, ins->cols, ins->ncols, arrays);
    corm__sql_insert_tail(ins, sql);
    if (rc == CORM_OK && sql->oom) rc = corm__sql_nomem(&c);
    return rc;
}

corm_rc corm__compile_update_arrays(const corm_model *m, const corm_field *const *fields,
                                    int nfields, size_t nrows, size_t max_bytes, corm__row_fn fill,
                                    void *ud, corm_buf *arrays, size_t *used,
                                    const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    *used = 0;
    if (CORM_NEVER(nfields < 1 || nfields > CORM_MAX_FIELDS)) return CORM_MISUSE;
    /* the fill's cells: the fields, then the id */
    const corm_field *cols[CORM_MAX_FIELDS + 1];
    for (int i = 0; i < nfields; i++) cols[i] = fields[i];
    cols[nfields] = &m->fields[0];
    corm_rc rc = fill_arrays(&c, "bulk_update", m, cols, nfields + 1, nrows, max_bytes, fill, ud,
                             arrays, used);
    if (rc != CORM_OK) return rc;
    corm_buf *sql = &out->sql;
    corm__sql_update_set_from(sql, m, fields, nfields, "c", 1);
    rc = render_unnest(&c, sql, cols, nfields + 1, arrays);
    corm__buf_adds(sql, " WHERE ");
    corm__sql_ident(sql, m->table);
    corm__buf_addc(sql, '.');
    corm__sql_ident(sql, m->fields[0].column);
    corm__buf_addf(sql, " = corm_v.c%d", nfields + 1);
    if (rc == CORM_OK && sql->oom) rc = corm__sql_nomem(&c);
    return rc;
}
