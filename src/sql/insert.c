/*
** insert.c - INSERT statements: one row (save, and the prepared statement
** of bulk_create's executemany), many rows in one VALUES list (bulk_create
** where a statement costs a round trip), m2m link rows, ON CONFLICT and
** RETURNING, and the statement that moves an id generator past explicit
** ids.  bulk_create's INSERT from unnest() of arrays is in unnest.c.  The write layer (src/write/write.c, bulk.c) says which columns and
** which rows; the text is written here and nowhere else.
**
** Invariant: placeholders are numbered in the order their values are
** bound, so "number of placeholders == parameters" (sql_int.h); a schema
** default is written as the literal the schema gives (default_sql), never
** a value.
*/
#include "compile_int.h"

static corm_rc nomem(const corm__dialect *d, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = NULL, .err = err};
    return corm__sql_nomem(&c);
}

/* A NOT NULL column with a schema default: a NULL in it takes the
** default, as a single save leaves the column out. */
bool corm__sql_has_default(const corm_field *f)
{
    return f->default_sql && (f->flags & CORM_FF_HAS_DEFAULT) && !(f->flags & CORM_FF_NULL);
}

static void idents(corm_buf *b, const corm_field *const *cols, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) corm__buf_adds(b, ", ");
        corm__sql_ident(b, cols[i]->column);
    }
}

void corm__sql_insert_head(const corm__insert *ins, corm_buf *b, const char *then)
{
    corm__buf_adds(b, "INSERT INTO ");
    corm__sql_ident(b, ins->model->table);
    corm__buf_adds(b, " (");
    idents(b, ins->cols, ins->ncols);
    corm__buf_addc(b, ')');
    corm__buf_adds(b, then);
}

void corm__sql_insert_tail(const corm__insert *ins, corm_buf *b)
{
    switch (ins->conflict) {
    case CORM__CONFLICT_NONE: break;
    case CORM__CONFLICT_IGNORE: corm__buf_adds(b, " ON CONFLICT DO NOTHING"); break;
    case CORM__CONFLICT_UPDATE:
        corm__buf_adds(b, " ON CONFLICT (");
        idents(b, ins->target, ins->ntarget);
        corm__buf_adds(b, ") DO UPDATE SET ");
        for (int i = 0; i < ins->nupdate; i++) {
            if (i) corm__buf_adds(b, ", ");
            corm__sql_ident(b, ins->update[i]->column);
            corm__buf_adds(b, " = EXCLUDED.");
            corm__sql_ident(b, ins->update[i]->column);
        }
        break;
    }
    if (ins->returning_id) {
        corm__buf_adds(b, " RETURNING ");
        corm__sql_ident(b, ins->model->fields[0].column);
    }
}

corm_rc corm__compile_insert_row(const corm__insert *ins, const corm__dialect *d, corm_buf *sql,
                                 corm_error *err)
{
    if (ins->ncols == 0) {
        corm__buf_adds(sql, "INSERT INTO ");
        corm__sql_ident(sql, ins->model->table);
        corm__buf_adds(sql, " DEFAULT VALUES");
    } else {
        corm__sql_insert_head(ins, sql, " VALUES ");
        corm__buf_addc(sql, '(');
        for (int c = 0; c < ins->ncols; c++) {
            bool dflt = ins->coalesce_defaults && corm__sql_has_default(ins->cols[c]);
            if (c) corm__buf_adds(sql, ", ");
            if (dflt) corm__buf_adds(sql, "COALESCE(");
            corm__sql_param(sql, d, c + 1);
            if (dflt) corm__buf_addf(sql, ", %s)", ins->cols[c]->default_sql);
        }
        corm__buf_addc(sql, ')');
    }
    corm__sql_insert_tail(ins, sql);
    return sql->oom ? nomem(d, err) : CORM_OK;
}

corm_rc corm__compile_insert_rows(const corm__insert *ins, const corm__dialect *d, size_t nrows,
                                  corm__row_fn fill, void *ud, corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    if (CORM_NEVER(ins->ncols > CORM_MAX_FIELDS)) return CORM_MISUSE;
    /* every value at once, so the binds below never grow the array */
    corm_rc rc = corm__compiled_reserve(&c, nrows * (size_t)ins->ncols);
    corm_buf *sql = &out->sql;
    corm_value cells[CORM_MAX_FIELDS + 1];
    if (rc == CORM_OK) corm__sql_insert_head(ins, sql, " VALUES ");
    for (size_t r = 0; r < nrows && rc == CORM_OK; r++) {
        rc = fill(ud, r, cells);
        corm__buf_adds(sql, r ? ", (" : "(");
        for (int k = 0; k < ins->ncols && rc == CORM_OK; k++) {
            const corm_field *f = ins->cols[k];
            if (k) corm__buf_adds(sql, ", ");
            if (cells[k].type == CORM_V_NULL && corm__sql_has_default(f))
                corm__buf_adds(sql, f->default_sql);
            else corm__sql_bind_reserved(&c, sql, cells[k]);
        }
        corm__buf_addc(sql, ')');
    }
    corm__sql_insert_tail(ins, sql);
    if (rc == CORM_OK && sql->oom) rc = corm__sql_nomem(&c);
    return rc;
}

corm_rc corm__compile_link_insert(const corm_relation *r, const corm__dialect *d, corm_buf *sql,
                                  corm_error *err)
{
    corm__buf_adds(sql, "INSERT INTO ");
    corm__sql_ident(sql, r->through);
    corm__buf_adds(sql, " (");
    corm__sql_ident(sql, r->through_src);
    corm__buf_adds(sql, ", ");
    corm__sql_ident(sql, r->through_dst);
    corm__buf_adds(sql, ") VALUES (");
    corm__sql_param(sql, d, 1);
    corm__buf_adds(sql, ", ");
    corm__sql_param(sql, d, 2);
    corm__buf_addc(sql, ')');
    return sql->oom ? nomem(d, err) : CORM_OK;
}

corm_rc corm__compile_sync_ids(const corm_model *m, const corm__dialect *d, corm_buf *sql,
                               corm_error *err)
{
    if (d->sync_ids) d->sync_ids(sql, m->table);
    return sql->oom ? nomem(d, err) : CORM_OK;
}
