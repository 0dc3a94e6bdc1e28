/*
** update.c - UPDATE statements: one row by id (save, and the prepared
** statement of bulk_update's executemany), every row of a queryset
** (QuerySet.update() with values, F expressions and expressions), a batch
** of objects in one statement (bulk_update's CASE and VALUES forms).  The
** delete collector's SET NULL is in delete.c with its other statements.
**
** A queryset's UPDATE names its table with the alias the SELECT compiler
** gives a query's base (`UPDATE "book" AS T0 SET ...`), so its WHERE is
** the one a SELECT of the same queryset has (compile_write.c).  The SET
** values are written first, so their parameters come first.
*/
#include "compile_int.h"

#include <string.h>

static corm_rc nomem(const corm__dialect *d, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = NULL, .err = err};
    return corm__sql_nomem(&c);
}

corm_rc corm__compile_update_row(const corm_model *m, const corm_field *const *cols, int ncols,
                                 const corm__dialect *d, corm_buf *sql, corm_error *err)
{
    corm__buf_adds(sql, "UPDATE ");
    corm__sql_ident(sql, m->table);
    corm__buf_adds(sql, " SET ");
    for (int i = 0; i < ncols; i++) {
        if (i) corm__buf_adds(sql, ", ");
        corm__sql_ident(sql, cols[i]->column);
        corm__buf_adds(sql, " = ");
        corm__sql_param(sql, d, i + 1);
    }
    corm__buf_adds(sql, " WHERE ");
    corm__sql_ident(sql, m->fields[0].column);
    corm__buf_adds(sql, " = ");
    corm__sql_param(sql, d, ncols + 1);
    return sql->oom ? nomem(d, err) : CORM_OK;
}

/* ------------------------------------------------------------ queryset */

static bool fits(const corm_field *f, corm_vtype t)
{
    if (t == CORM_V_NULL) return true; /* NOT NULL is the database's to say */
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return t == CORM_V_INT;
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL: return t == CORM_V_INT || t == CORM_V_FLOAT || t == CORM_V_DECIMAL;
    case CORM_FT_BOOL: return t == CORM_V_BOOL || t == CORM_V_INT;
    case CORM_FT_BLOB: return t == CORM_V_BLOB;
    default: return t == CORM_V_TEXT;
    }
}

static const char *ctor_for(const corm_field *f)
{
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return "corm_int()";
    case CORM_FT_FLOAT: return "corm_float() or corm_int()";
    case CORM_FT_DECIMAL: return "corm_decv(corm_dec(\"9.99\")) or corm_int()";
    case CORM_FT_BOOL: return "corm_bool()";
    case CORM_FT_BLOB: return "corm_blobv()";
    default: return "corm_text()";
    }
}

/* The field an assignment names, or NULL with the error set. */
static const corm_field *set_field(const corm_model *m, const char *name, corm_error *err)
{
    const corm_field *f = name ? corm__model_field(m, name, strlen(name)) : NULL;
    if (!f) {
        corm_buf names;
        corm__buf_init(&names);
        corm__model_names(m, &names);
        corm__err_set(err, CORM_SCHEMA, "update(): %s has no field '%s'", m->name,
                      name ? name : "(null)");
        corm__err_hint(err, "%s has: %s", m->name, corm__buf_cstr(&names));
        corm__buf_free(&names);
        return NULL;
    }
    if (f == &m->fields[0]) {
        corm__err_set(err, CORM_INVALID, "update(): the primary key of %s is not updated in bulk",
                      m->name);
        corm__err_hint(err, "create new rows and delete the old ones");
        return NULL;
    }
    return f;
}

/* The value of one assignment: a value, an expression, or F(f) [op value]
** (through the compiler's expressions). */
static corm_rc set_value(const corm__query *q, const corm_assign *a, const corm_field *f,
                         const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    const corm_model *m = q->model;
    corm_buf *sql = &out->sql;
    if (a->expr) return corm__compile_set_expr(q, d, out, sql, a->expr, err);
    if (a->f) {
        if (a->op && !strchr("+-*/", a->op)) {
            corm__err_set(err, CORM_INVALID, "update(): operator '%c' in F(\"%s\")", a->op, a->f);
            corm__err_hint(err, "use one of + - * /");
            return CORM_INVALID;
        }
        struct corm_expr fe, ve, be;
        memset(&fe, 0, sizeof fe);
        memset(&ve, 0, sizeof ve);
        memset(&be, 0, sizeof be);
        fe.kind = CORM__E_FIELD;
        fe.path = a->f;
        ve.kind = CORM__E_VALUE;
        ve.value = a->value;
        be.kind = CORM__E_BINOP;
        be.op = a->op;
        be.a = &fe;
        be.b = &ve;
        return corm__compile_set_expr(q, d, out, sql, a->op ? &be : &fe, err);
    }
    if (!fits(f, a->value.type)) {
        corm__err_set(err, CORM_TYPE, "update(): %s.%s (%s) needs %s", m->name, f->name,
                      corm__ftype_name(f->type), ctor_for(f));
        corm__err_hint(err, "pass %s, or CORM_SET_F for an F expression", ctor_for(f));
        return CORM_TYPE;
    }
    if (f->type == CORM_FT_DECIMAL && a->value.type == CORM_V_DECIMAL &&
        !corm_dec_fits(a->value.u.d, f->precision, f->scale)) {
        char t[CORM_DEC_BUF];
        corm__err_set(err, CORM_INVALID, "update(): %s.%s=%s does not fit decimal(%d, %d)", m->name,
                      f->name, corm_dec_format(a->value.u.d, t), f->precision, f->scale);
        corm__err_hint(err,
                       "decimal(%d, %d) holds %d digits before the point and %d after: round "
                       "with corm_dec_round, or widen the field in the schema (and migrate)",
                       f->precision, f->scale, f->precision - f->scale, f->scale);
        return CORM_INVALID;
    }
    return corm__compiled_param(out, d, sql, a->value, err);
}

corm_rc corm__compile_update(const corm__query *q, const corm_assign *set, size_t nset,
                             const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    const corm_model *m = q->model;
    corm_buf *sql = &out->sql;
    corm__buf_adds(sql, "UPDATE ");
    corm__sql_ident(sql, m->table);
    corm__buf_adds(sql, " AS T0 SET ");
    /* the fields set so far: distinct non-key fields of m, so fewer than
    ** CORM_MAX_FIELDS (a repeat is refused before it is stored) */
    const corm_field *done[CORM_MAX_FIELDS];
    corm_rc rc = CORM_OK;
    for (size_t i = 0; i < nset && rc == CORM_OK; i++) {
        const corm_field *f = set_field(m, set[i].field, err);
        if (!f) return err->rc;
        for (size_t k = 0; k < i; k++) {
            if (done[k] == f) {
                corm__err_set(err, CORM_INVALID, "update(): %s.%s is set twice", m->name, f->name);
                return CORM_INVALID;
            }
        }
        if (CORM_NEVER(i >= CORM_MAX_FIELDS)) return CORM_INVALID;
        done[i] = f;
        if (i) corm__buf_adds(sql, ", ");
        corm__sql_ident(sql, f->column);
        corm__buf_adds(sql, " = ");
        rc = set_value(q, &set[i], f, d, out, err);
    }
    if (rc == CORM_OK) rc = corm__render_write_where(q, d, out, err);
    if (rc == CORM_OK && sql->oom) rc = nomem(d, err);
    return rc;
}

/* ------------------------------------------------------------ bulk_update */

/* ` AS type)`: the end of a CAST to f's column type. */
static void cast_to(corm_buf *b, const corm__dialect *d, const corm_field *f)
{
    char tbuf[64];
    const char *t = d->column_type(f, tbuf, sizeof tbuf);
    corm__buf_addf(b, " AS %s)", t ? t : "text");
}

corm_rc corm__compile_update_case(const corm_model *m, const corm_field *const *fields, int nfields,
                                  size_t nrows, corm__row_fn fill, void *ud, const corm__dialect *d,
                                  corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    if (CORM_NEVER(nfields > CORM_MAX_FIELDS)) return CORM_MISUSE;
    corm_buf *sql = &out->sql;
    bool cast = d->cast_bulk_params;
    const char *idcol = m->fields[0].column;
    /* the rows first (a row's fields, then its id), and their ids */
    size_t width = (size_t)nfields + 1;
    corm_value *rows = corm__malloc((nrows ? nrows : 1) * width * sizeof *rows);
    int64_t *ids = corm__malloc((nrows ? nrows : 1) * sizeof *ids);
    corm_rc rc = rows && ids ? corm__compiled_reserve(&c, nrows * 2 * (size_t)nfields + 1)
                             : corm__sql_nomem(&c);
    for (size_t k = 0; k < nrows && rc == CORM_OK; k++) {
        rc = fill(ud, k, rows + k * width);
        if (rc == CORM_OK) ids[k] = rows[k * width + (size_t)nfields].u.i;
    }
    corm__buf_adds(sql, "UPDATE ");
    corm__sql_ident(sql, m->table);
    corm__buf_adds(sql, " SET ");
    for (int i = 0; i < nfields && rc == CORM_OK; i++) {
        const corm_field *f = fields[i];
        if (i) corm__buf_adds(sql, ", ");
        corm__sql_ident(sql, f->column);
        corm__buf_adds(sql, cast ? " = CAST(CASE " : " = CASE ");
        corm__sql_ident(sql, idcol);
        for (size_t k = 0; k < nrows && rc == CORM_OK; k++) {
            corm__buf_adds(sql, " WHEN ");
            corm__sql_bind_reserved(&c, sql, rows[k * width + (size_t)nfields]);
            corm__buf_adds(sql, " THEN ");
            corm__sql_bind_reserved(&c, sql, rows[k * width + (size_t)i]);
        }
        corm__buf_adds(sql, " ELSE ");
        corm__sql_ident(sql, f->column);
        corm__buf_adds(sql, " END");
        if (cast) cast_to(sql, d, f);
    }
    corm__buf_adds(sql, " WHERE ");
    corm__sql_ident(sql, idcol);
    if (rc == CORM_OK) rc = corm__render_keys(&c, sql, ids, nrows);
    corm__free(rows);
    corm__free(ids);
    if (rc == CORM_OK && sql->oom) rc = corm__sql_nomem(&c);
    return rc;
}

/* `UPDATE "t" SET "f1" = corm_v.<col><first>, ...`: the head of a bulk
** update whose new values come from a row source named corm_v (VALUES
** here, unnest arrays in unnest.c). */
void corm__sql_update_set_from(corm_buf *sql, const corm_model *m, const corm_field *const *fields,
                               int nfields, const char *col, int first)
{
    corm__buf_adds(sql, "UPDATE ");
    corm__sql_ident(sql, m->table);
    corm__buf_adds(sql, " SET ");
    for (int i = 0; i < nfields; i++) {
        if (i) corm__buf_adds(sql, ", ");
        corm__sql_ident(sql, fields[i]->column);
        corm__buf_addf(sql, " = corm_v.%s%d", col, i + first);
    }
}

corm_rc corm__compile_update_values(const corm_model *m, const corm_field *const *fields,
                                    int nfields, size_t nrows, corm__row_fn fill, void *ud,
                                    const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    corm__sqlctx c = {.d = d, .out = out, .err = err};
    if (CORM_NEVER(nfields > CORM_MAX_FIELDS)) return CORM_MISUSE;
    corm_buf *sql = &out->sql;
    bool cast = d->cast_bulk_params;
    const corm_field *idf = &m->fields[0];
    corm_value cells[CORM_MAX_FIELDS + 1];
    corm_rc rc = corm__compiled_reserve(&c, nrows * ((size_t)nfields + 1));
    corm__sql_update_set_from(sql, m, fields, nfields, "column", 2);
    /* the VALUES columns are column1, column2, ... on SQLite and
    ** PostgreSQL: the id first, then the fields */
    corm__buf_adds(sql, " FROM (VALUES ");
    for (size_t k = 0; k < nrows && rc == CORM_OK; k++) {
        rc = fill(ud, k, cells);
        corm__buf_adds(sql, k ? ", (" : "(");
        for (int i = -1; i < nfields && rc == CORM_OK; i++) {
            if (i >= 0) corm__buf_adds(sql, ", ");
            bool typed = cast && k == 0; /* the first row types the columns */
            if (typed) corm__buf_adds(sql, "CAST(");
            corm__sql_bind_reserved(&c, sql, cells[i < 0 ? nfields : i]);
            if (typed) cast_to(sql, d, i < 0 ? idf : fields[i]);
        }
        corm__buf_addc(sql, ')');
    }
    corm__buf_adds(sql, ") AS corm_v WHERE ");
    corm__sql_ident(sql, m->table);
    corm__buf_addc(sql, '.');
    corm__sql_ident(sql, idf->column);
    corm__buf_adds(sql, " = corm_v.column1");
    if (rc == CORM_OK && sql->oom) rc = corm__sql_nomem(&c);
    return rc;
}
