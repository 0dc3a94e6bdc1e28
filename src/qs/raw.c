/*
** raw.c - SQL written by the application: model objects from a raw SELECT
** (Django's Manager.raw) and rows of any statement.  The SQL text is used
** as given, or, written with Django's %s placeholders, translated for the
** dialect of the database that runs it (src/sql/raw.c); values are bound
** parameters, copied when the queryset is made.
*/
#include "qs_int.h"

#include <string.h>

corm_qs *corm_raw_at(corm_db *db, const corm_model *model, const char *sql,
                     const corm_value *params, int nparams, corm_site site)
{
    corm__db_enter(db);                          /* NULL: a queryset that says so */
    corm_qs *qs = corm__qs_new(db, model, site); /* no default eager loads: Django's raw() */
    if (!qs || qs->err.rc != CORM_OK) return qs;
    qs->raw_rows = model == NULL;
    if (!sql || nparams < 0 || (nparams > 0 && !params)) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_raw/corm_sql needs SQL text and %d parameters",
                      nparams);
        corm__err_hint(&qs->err, "pass the values to bind as an array of corm_value");
        return qs;
    }
    qs->raw_sql = corm__arena_strdup(&qs->build, sql);
    qs->raw_params =
        corm__arena_alloc(&qs->build, (size_t)(nparams ? nparams : 1) * sizeof(corm_value));
    if (!qs->raw_sql || !qs->raw_params) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory copying raw SQL");
        return qs;
    }
    for (int i = 0; i < nparams; i++) {
        if (params[i].type >= CORM_V_INTS) {
            corm__err_set(&qs->err, CORM_TYPE, "raw SQL parameter %d is a list", i + 1);
            corm__err_hint(&qs->err, "bind scalars only; write one placeholder per value");
            return qs;
        }
        if (corm__value_copy(&qs->build, &qs->raw_params[i], &params[i]) != CORM_OK) {
            corm__err_set(&qs->err, CORM_NOMEM, "out of memory copying raw SQL parameters");
            return qs;
        }
    }
    qs->nraw_params = nparams;
    return qs;
}

/* Objects from a raw SELECT: each result column named like a field's
** column fills that field; the fields no column names are deferred. */
static corm_rc fetch_objects(corm_qs *qs, const char *sql, corm_site site)
{
    corm_db *db = qs->db;
    const corm_model *m = qs->q.model;
    if (qs->q.nrelated) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_select_related on a raw queryset: its SQL is run as written, "
                      "nothing can be joined to it");
        corm__err_hint(&qs->err,
                       "load the relation in one more query: corm_prefetch_related(qs, \"%s\") "
                       "on the raw queryset, or corm_prefetch_objects(db, objs, n, \"%s\") on "
                       "its objects",
                       qs->q.related[0], qs->q.related[0]);
        return CORM_MISUSE;
    }
    corm_batch *batch = corm__batch_new(db, &qs->q, &qs->result);
    if (!batch) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory reading raw rows");
        return CORM_NOMEM;
    }
    batch->home = qs->home ? qs->home : db;
    corm__cursor cur;
    corm_rc rc =
        corm__db_query(db, &cur, sql, qs->raw_params, qs->nraw_params, site, qs->built, "raw");
    if (rc != CORM_OK) {
        corm__err_take(&qs->err, &db->err);
        return rc;
    }
    int ncols = corm__row_be(db, cur.stmt)->column_count(cur.stmt);
    int field_of[256];
    uint64_t present = 0;
    for (int i = 0; i < ncols && i < 256; i++) {
        const char *name = corm__row_be(db, cur.stmt)->column_name(cur.stmt, i);
        field_of[i] = -1;
        for (int fi = 0; fi < m->nfields; fi++)
            if (strcmp(m->fields[fi].column, name) == 0) {
                field_of[i] = fi;
                present |= (uint64_t)1 << fi;
            }
    }
    if (!(present & 1)) {
        corm__cursor_close(&cur);
        corm__err_set(&qs->err, CORM_INVALID, "raw query for %s must select the primary key \"id\"",
                      m->name);
        corm__err_hint(&qs->err, "add id to the SELECT list, as Django's raw() requires");
        return CORM_INVALID;
    }
    corm_vec objs = {0};
    for (;;) {
        bool row;
        rc = corm__cursor_step(&cur, &row);
        if (rc != CORM_OK) {
            corm__err_take(&qs->err, &db->err);
            break;
        }
        if (!row) break;
        void *obj = corm__arena_zalloc(&qs->result, m->size);
        if (!obj || !corm__vec_push(&objs, obj)) {
            rc = CORM_NOMEM;
            break;
        }
        corm_obj *h = obj;
        h->model = m;
        h->batch = batch;
        h->deferred =
            ~present & (m->nfields >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << m->nfields) - 1));
        for (int i = 0; i < ncols && i < 256 && rc == CORM_OK; i++) {
            if (field_of[i] < 0) continue;
            /* as a model's hydration reads the field: a cell stored in
            ** another type than the field's converts, never reinterprets */
            rc = corm__read_field(db, cur.stmt, i, obj, &m->fields[field_of[i]], field_of[i],
                                  &qs->result);
        }
        if (rc != CORM_OK) break;
    }
    corm__cursor_close(&cur);
    if (rc == CORM_OK) {
        qs->items = corm__arena_memdup(&qs->result, objs.p, objs.n * sizeof(void *));
        qs->n = objs.n;
        batch->nobjs = objs.n;
        if (!qs->items && objs.n) rc = CORM_NOMEM;
        else corm__batch_result(db, &qs->q, NULL, batch, qs->items, qs->n, site, qs->built);
    }
    if (rc == CORM_NOMEM) corm__err_set(&qs->err, CORM_NOMEM, "out of memory reading raw rows");
    corm__vec_free(&objs);
    return rc;
}

const char *corm__raw_sql(corm_qs *qs)
{
    /* the statement as the database would run it: translated for the
    ** dialect of the database the queryset routes to now */
    corm_buf text;
    corm__buf_init(&text);
    bool translated;
    corm_rc rc = corm__sql_raw_translate(qs->raw_sql, qs->db->dialect, qs->nraw_params, &text,
                                         &translated, &qs->err);
    corm__buf_reset(&qs->sqltext);
    if (rc == CORM_OK)
        corm__buf_adds(&qs->sqltext, translated ? corm__buf_cstr(&text) : qs->raw_sql);
    if (rc == CORM_OK && (text.oom || qs->sqltext.oom)) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory translating raw SQL");
        rc = CORM_NOMEM;
    }
    corm__buf_free(&text);
    if (rc != CORM_OK) return NULL;
    qs->sql_params = qs->raw_params;
    qs->nsql_params = qs->nraw_params;
    return corm__buf_cstr(&qs->sqltext);
}

corm_rc corm__eval_raw(corm_qs *qs, corm_site site)
{
    /* translated here, not when made: routing picks the database (and so
    ** the dialect) at evaluation */
    corm_buf text;
    corm__buf_init(&text);
    bool translated;
    corm_rc rc = corm__sql_raw_translate(qs->raw_sql, qs->db->dialect, qs->nraw_params, &text,
                                         &translated, &qs->err);
    const char *sql = translated ? corm__buf_cstr(&text) : qs->raw_sql;
    if (rc == CORM_OK && text.oom) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory translating raw SQL");
        rc = CORM_NOMEM;
    }
    if (rc == CORM_OK && !qs->raw_rows) rc = fetch_objects(qs, sql, site);
    else if (rc == CORM_OK) {
        rc = corm__fetch_rows(qs->db, sql, qs->raw_params, qs->nraw_params, &qs->result, site,
                              qs->built, "raw", &qs->rows, &qs->err);
        if (rc == CORM_OK) qs->n = qs->rows.nrows;
    }
    corm__buf_free(&text);
    return rc;
}
