/*
** bulk.c - bulk_create and bulk_update.
**
** bulk_create: on SQLite one prepared single-row INSERT executed once per
** object inside the transaction (an executemany: one event, as
** bulk_update's), each new id read with the backend's last insert id
** after its row (a single-row RETURNING is 4x slower on SQLite 3.40; an
** upsert returns its id all the same, since a row that updated leaves the
** last insert id at the previous insert's).  A multi-row INSERT of
** thousands of rows made SQLite compile one huge program: 2.8x raw C's
** memory at 10,000 books, 1.1x row by row (docs/benchmarks.md).
** On PostgreSQL (dialect bulk_arrays) `INSERT ... SELECT ... FROM
** unnest($1, ...) RETURNING "id"` with one array parameter per column
** (src/sql/unnest.c), ARRAY_ROWS rows per statement, ids read back in
** order (as Django's UNNEST insert; unnest.c says why).  Elsewhere
** multi-row `INSERT ... VALUES (...), (...) RETURNING "id"`, as many rows
** per statement as the dialect's bound-parameter limit allows, ids read
** back in order.  opts->batch_size caps the rows per statement, or per
** executemany.  Objects that carry an id are inserted
** first with it, as Django.
**
** bulk_update: on SQLite one prepared single-row UPDATE executed once per
** object (an executemany: one event); on PostgreSQL a join with the
** arrays, `UPDATE t SET f = corm_v.c1 FROM unnest($1, $2) AS corm_v(c1,
** c2) WHERE t.id = corm_v.c2`, ARRAY_ROWS objects per statement;
** elsewhere, or with CORM_BULK_VALUES, a join with the values, `UPDATE t
** SET f = v.column2 FROM (VALUES (?, ?), ...) AS v WHERE t.id =
** v.column1`, per batch; Django's `SET f = CASE "id" WHEN ? THEN ? ...
** END` on request.  Measured in docs/writes.md and docs/benchmarks.md.
**
** Both are atomic: several statements run in one transaction (a savepoint
** inside the caller's), and a failure rolls back everything written by the
** call and restores the ids it had filled in.  A constraint failure is
** then explained: which object (run row by row, the executemany says
** which row failed; otherwise duplicates among the call's own objects are
** found in memory, or the failing batch is bisected in a transaction
** that is rolled back: see diagnose below), the constraint, the values.
*/
#include "write_int.h"

#include <string.h>

/* Rows per statement of the array forms (unless opts->batch_size says
** fewer), and the most their arrays may hold before a statement ends
** early (a PostgreSQL value is at most 1 GB).  The row cap bounds what a
** constraint failure bisects to find the object (15 halvings). */
#define ARRAY_ROWS ((size_t)32768)
#define ARRAY_BYTES ((size_t)64 << 20)

typedef struct bulk {
    corm_db *db;
    const corm__dialect *d;
    const corm_model *m;
    corm_site site;
    const corm__objs *objs;
    char now[32], today[16];
} bulk;

static corm_rc nomem(bulk *b, const char *what)
{
    corm__err_set(&b->db->err, CORM_NOMEM, "out of memory in %s of %s", what, b->m->name);
    return CORM_NOMEM;
}

/* Every object non-NULL and of one generated model. */
static corm_rc check_objs(corm_db *db, const corm__objs *o, const char *what,
                          const corm_model **out)
{
    *out = NULL;
    for (size_t i = 0; i < o->n; i++) {
        const corm_obj *h = corm__objs_at(o, i);
        const corm_model *m = h ? h->model : NULL;
        if (!m || !m->size || (*out && m != *out)) {
            corm__err_set(&db->err, CORM_MISUSE, "%s: object %zu is %s", what, i + 1,
                          !h               ? "NULL"
                          : !m || !m->size ? "not a model object"
                                           : "of another model than the first");
            corm__err_hint(&db->err, "pass objects of one model, made with CORM_NEW(Model) or "
                                     "loaded by corm");
            return CORM_MISUSE;
        }
        *out = m;
    }
    return CORM_OK;
}

static int64_t *id_ptr(const bulk *b, size_t i)
{
    return (int64_t *)corm__field_ptr(corm__objs_at(b->objs, i), &b->m->fields[0]);
}

/* The field called name (a concrete one), or NULL with the error set. */
static const corm_field *named_field(bulk *b, const char *what, const char *opt, const char *name,
                                     bool pk_ok)
{
    const corm_field *f = name ? corm__model_field(b->m, name, strlen(name)) : NULL;
    if (!f || (!pk_ok && f == &b->m->fields[0])) {
        corm_buf names;
        corm__buf_init(&names);
        corm__model_names(b->m, &names);
        corm__err_set(&b->db->err, CORM_INVALID, "%s: %s names %s'%s'", what, opt,
                      f ? "the primary key " : "no field ", name ? name : "(null)");
        corm__err_hint(&b->db->err, "%s has: %s", b->m->name, corm__buf_cstr(&names));
        corm__buf_free(&names);
        return NULL;
    }
    return f;
}

/* The fields a NULL-terminated list of names (option opt) names, into
** out; how many, or -1 with the error set. */
static int named_fields(bulk *b, const char *opt, const char *const *names, bool pk_ok,
                        const corm_field **out)
{
    int n = 0;
    for (int i = 0; names[i]; i++) {
        const corm_field *f = named_field(b, "bulk_create", opt, names[i], pk_ok);
        if (!f) return -1;
        if (n == CORM_MAX_FIELDS) {
            corm__err_set(&b->db->err, CORM_INVALID, "bulk_create: %s names more than %d fields",
                          opt, CORM_MAX_FIELDS);
            corm__err_hint(&b->db->err, "name each field of %s once", b->m->name);
            return -1;
        }
        out[n++] = f;
    }
    return n;
}

/* ------------------------------------------------------------ diagnosis */

/* A key of obj's values of cols, for finding duplicates in memory.  NULLs
** never collide (SQL), so a key with one is skipped (false). */
static bool row_key(corm_buf *k, const void *obj, const corm_field *const *cols, int n)
{
    corm__buf_reset(k);
    for (int i = 0; i < n; i++) {
        corm_value v = corm__field_value(obj, cols[i]);
        switch (v.type) {
        case CORM_V_NULL: return false;
        case CORM_V_INT: corm__buf_addf(k, "i%lld|", (long long)v.u.i); break;
        case CORM_V_FLOAT: corm__buf_addf(k, "f%.17g|", v.u.f); break;
        case CORM_V_DECIMAL: {
            /* the field's scale: equal values, equal text */
            char d[CORM_DEC_BUF];
            corm__buf_addf(k, "d%s|", corm_dec_format(corm_dec_round(v.u.d, cols[i]->scale), d));
            break;
        }
        case CORM_V_BOOL: corm__buf_addf(k, "i%d|", v.u.b ? 1 : 0); break;
        case CORM_V_BLOB:
            corm__buf_addf(k, "b%zu:", v.u.s.n);
            corm__buf_add(k, v.u.s.p, v.u.s.n);
            break;
        default: {
            size_t len = strlen(v.u.s.p);
            corm__buf_addf(k, "t%zu:", len);
            corm__buf_add(k, v.u.s.p, len);
            break;
        }
        }
    }
    return !k->oom;
}

static uint64_t hash64(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* The first position in order[0..n) whose key on cols repeats an earlier
** one (position + 1), or 0. */
static size_t first_duplicate(bulk *b, const size_t *order, size_t n, const corm_field *const *cols,
                              int ncols)
{
    corm_map seen;
    corm__map_init(&seen, NULL);
    corm_buf k, k2;
    corm__buf_init(&k);
    corm__buf_init(&k2);
    size_t found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (!row_key(&k, corm__objs_at(b->objs, order[i]), cols, ncols)) continue;
        int64_t h = (int64_t)hash64(k.p, k.len);
        void **prev = corm__map_get(&seen, h);
        if (prev) {
            size_t j = (size_t)(intptr_t)*prev - 1;
            if (row_key(&k2, corm__objs_at(b->objs, order[j]), cols, ncols) && k2.len == k.len &&
                memcmp(k.p, k2.p, k.len) == 0)
                found = i + 1;
            continue;
        }
        if (!corm__map_put(&seen, h, (void *)(intptr_t)(i + 1))) break;
    }
    corm__map_free(&seen);
    corm__buf_free(&k);
    corm__buf_free(&k2);
    return found;
}

/* For a foreign key failure: the first position in order[0..n) whose fk
** names no row (position + 1), with db->err.values set; 0 if none found.
** One SELECT per fk field (origin "diagnose"). */
static size_t first_dangling(bulk *b, const size_t *order, size_t n)
{
    const corm_model *m = b->m;
    size_t found = 0;
    corm_error keep = b->db->err;
    for (int fi = 1; fi < m->nfields && !found; fi++) {
        const corm_field *f = &m->fields[fi];
        if (f->type != CORM_FT_FK && f->type != CORM_FT_O2O) continue;
        const corm_model *t = corm__rel_target(m, &m->rels[f->rel]);
        int64_t *keys = corm__malloc((n ? n : 1) * sizeof *keys);
        corm_map have;
        corm__map_init(&have, NULL);
        size_t nk = 0;
        for (size_t i = 0; keys && i < n; i++) {
            corm_value v = corm__field_value(corm__objs_at(b->objs, order[i]), f);
            if (v.type == CORM_V_INT) keys[nk++] = v.u.i;
        }
        corm__compiled cp;
        corm__compiled_init(&cp);
        const corm_field *pk = &t->fields[0];
        corm_rc rc = keys && nk
                         ? corm__compile_select_in(t, &pk, 1, pk, keys, nk, b->d, &cp, &b->db->err)
                         : CORM_NOMEM;
        if (rc == CORM_OK) {
            corm__cursor cur;
            rc = corm__db_query(b->db, &cur, corm__buf_cstr(&cp.sql), cp.params, cp.nparams,
                                b->site, (corm_site){0}, "diagnose");
            for (bool row = true; rc == CORM_OK && row;) {
                rc = corm__cursor_step(&cur, &row);
                if (rc == CORM_OK && row &&
                    !corm__map_put(&have, b->db->be->column_int(cur.stmt, 0), (void *)1))
                    rc = CORM_NOMEM;
            }
            if (cur.db) corm__cursor_close(&cur);
            for (size_t i = 0; rc == CORM_OK && i < n && !found; i++) {
                const void *obj = corm__objs_at(b->objs, order[i]);
                corm_value v = corm__field_value(obj, f);
                if (v.type != CORM_V_INT || corm__map_get(&have, v.u.i)) continue;
                found = i + 1;
                b->db->err = keep;
                corm_buf vals;
                corm__buf_init(&vals);
                corm__buf_addf(&vals, "%s=%lld names no %s", f->column, (long long)v.u.i, t->name);
                corm__strlcpy(b->db->err.values, corm__buf_cstr(&vals), sizeof b->db->err.values);
                corm__buf_reset(&vals);
                corm__buf_addf(&vals, "%s.%s", m->table, f->column);
                corm__strlcpy(b->db->err.constraint_name, corm__buf_cstr(&vals),
                              sizeof b->db->err.constraint_name);
                corm__buf_free(&vals);
                keep = b->db->err;
            }
        }
        corm__compiled_free(&cp);
        corm__map_free(&have);
        corm__free(keys);
    }
    b->db->err = keep;
    return found;
}

/* Run rows order[a..z) of the failing batch as one statement of the
** batch's form (origin "diagnose"). */
typedef corm_rc (*diag_fn)(void *ud, size_t a, size_t z);

/* The first row of order[lo..hi) at which the rows from lo on fail with
** a constraint, found by bisection: the position (+1), or 0.  As a
** replay row by row would find it, in about log2(hi - lo) statements
** instead of hi - lo: in a transaction (a savepoint inside the caller's)
** always rolled back, rows [lo, ok) are applied and pass, rows [lo, bad)
** fail; the first half of [ok, bad) runs in a savepoint, kept when it
** passes (ok moves up), rolled back when it fails (bad moves down), until
** one row is left.  Until a run failed, that last row runs alone to
** confirm it.  same: only the batch's own constraint counts (a message
** up to its ':' equal to the batch's); another error ends the search. */
static size_t diagnose(bulk *b, size_t lo, size_t hi, diag_fn run, void *ud, bool same)
{
    corm_db *db = b->db;
    corm_error keep = db->err;
    size_t found = 0, ok = lo, bad = hi;
    bool failed = false;
    corm__tx outer = {0};
    if (lo < hi && corm__tx_begin(db, &outer) == CORM_OK) {
        while (bad - ok > 1 || (!failed && bad > ok)) {
            size_t mid = bad - ok > 1 ? ok + (bad - ok) / 2 : bad;
            corm__tx step = {0};
            corm_rc rc = corm__tx_begin(db, &step);
            if (rc == CORM_OK) rc = run(ud, ok, mid);
            size_t n1 = strcspn(keep.message, ":"), n2 = strcspn(db->err.message, ":");
            bool fails = rc == CORM_CONSTRAINT &&
                         (!same || (n1 == n2 && strncmp(keep.message, db->err.message, n1) == 0));
            if (corm__tx_end(db, &step, rc) != CORM_OK && !fails) break; /* another error */
            if (fails) bad = mid, failed = true;
            else ok = mid;
        }
        if (failed && bad - ok == 1) found = bad;
        (void)corm__tx_end(db, &outer, CORM_DB); /* always roll back */
    }
    db->err = keep;
    return found;
}

/* ------------------------------------------------------------ create */

typedef struct ins {
    bulk *b;
    const corm_field *cols[CORM_MAX_FIELDS];
    corm__insert stmt;   /* columns, conflict clause, RETURNING: src/sql/insert.c */
    bool returning;      /* ids read back from RETURNING */
    const size_t *order; /* object indexes, in insertion order */
} ins;

static corm_value cell(const ins *s, const void *obj, const corm_field *f)
{
    if (f->flags & (CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD))
        return corm_text(f->type == CORM_FT_DATE ? s->b->today : s->b->now);
    return corm__field_value(obj, f);
}

/* The single-row INSERT of the executemany: a NULL in a column with a
** schema default takes the default, so one prepared statement serves
** every row (as the multi-row INSERT writes it). */
static corm_rc row_sql(const ins *s, corm_buf *sql)
{
    corm__insert st = s->stmt;
    st.coalesce_defaults = true;
    return corm__compile_insert_row(&st, s->b->d, sql, &s->b->db->err);
}

/* The values of object order[row]: the executemany's parameters, and a
** row of the multi-row INSERT. */
static corm_rc ins_fill(void *ud, size_t row, corm_value *params)
{
    ins *s = ud;
    const void *obj = corm__objs_at(s->b->objs, s->order[row]);
    for (int c = 0; c < s->stmt.ncols; c++) params[c] = cell(s, obj, s->cols[c]);
    return CORM_OK;
}

/* After each row of the executemany: the new row's id into its object.
** A row skipped by ON CONFLICT DO NOTHING changed nothing, and the id
** the backend reports is then the previous row's: leave it. */
static void ins_after(void *ud, size_t row, int64_t changes, int64_t id)
{
    ins *s = ud;
    if (changes > 0) *id_ptr(s->b, s->order[row]) = id;
}

/* One multi-row INSERT (arrays where the dialect has them) of the
** sub->stmt.ncols columns of rows sub->order[0..count): *used rows fit
** (fewer when the arrays are full). */
static corm_rc compile_batch(ins *sub, bool arrays, size_t count, corm_buf *arr, size_t *used,
                             corm__compiled *cp)
{
    bulk *b = sub->b;
    *used = count;
    if (!arrays)
        return corm__compile_insert_rows(&sub->stmt, b->d, count, ins_fill, sub, cp, &b->db->err);
    return corm__compile_insert_arrays(&sub->stmt, b->d, count, ARRAY_BYTES, ins_fill, sub, arr,
                                       used, cp, &b->db->err);
}

/* diag_fn of bulk_create: rows order[a..z) inserted, no RETURNING. */
static corm_rc diagnose_insert(void *ud, size_t a, size_t z)
{
    ins sub = *(ins *)ud;
    bulk *b = sub.b;
    sub.order += a;
    sub.stmt.returning_id = false;
    bool arrays = b->d->bulk_arrays && sub.stmt.ncols > 0;
    corm_buf arr[CORM_MAX_FIELDS];
    for (int k = 0; arrays && k < sub.stmt.ncols; k++) corm__buf_init(&arr[k]);
    corm__compiled cp;
    corm__compiled_init(&cp);
    size_t used = 0;
    corm_rc rc = compile_batch(&sub, arrays, z - a, arr, &used, &cp);
    if (rc == CORM_OK && used == z - a) /* a part of a batch that fit */
        rc = corm__db_run(b->db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, b->site,
                          "diagnose", NULL);
    else if (rc == CORM_OK) rc = CORM_DB;
    for (int k = 0; arrays && k < sub.stmt.ncols; k++) corm__buf_free(&arr[k]);
    corm__compiled_free(&cp);
    return rc;
}

/* Explain the constraint error on db->err of the batch order[lo..hi).
** known: the position (+1) of the row that failed when the rows ran one
** by one (the executemany says which), else 0: then it is searched. */
static void explain_create(ins *s, size_t lo, size_t hi, size_t known, bool at_commit)
{
    bulk *b = s->b;
    const corm_field *cols[16];
    int ncols = corm__constraint_columns(&b->db->err, b->m, cols, 16);
    corm_ckind kind = corm__constraint_kind(&b->db->err);
    size_t pos = 0;
    /* a foreign key: the SELECT also says which value names no row */
    if (kind == CORM_CK_FOREIGN_KEY) pos = first_dangling(b, s->order, hi);
    if (!pos) pos = known;
    if (!pos && ncols && kind == CORM_CK_UNIQUE)
        pos = first_duplicate(b, s->order, hi, cols, ncols);
    if (!pos && kind != CORM_CK_FOREIGN_KEY && !at_commit)
        pos = diagnose(b, lo, hi, diagnose_insert, s, true);
    size_t idx = s->order[pos ? pos - 1 : lo];
    corm__constraint_explain(b->db, b->m, "bulk_create", b->objs, idx, 1, true);
}

/* An array statement that ended early (ARRAY_BYTES) leaves more
** statements than were counted when the transaction was decided: open it
** now, before the first one runs. */
static corm_rc more_statements(corm_db *db, corm__tx *tx)
{
    return tx->kind ? CORM_OK : corm__tx_begin(db, tx);
}

/* Multi-row INSERTs of order[0..n), batch_rows rows each (fewer when the
** arrays are full); ids from RETURNING when s->returning.  On failure
** [*fail_lo, *fail_hi) is the batch. */
static corm_rc create_pass(ins *s, const size_t *order, size_t n, size_t batch_rows, corm__tx *tx,
                           size_t *fail_lo, size_t *fail_hi)
{
    bulk *b = s->b;
    s->order = order;
    corm__compiled cp; /* one for every batch: its memory is reused */
    corm__compiled_init(&cp);
    corm_rc rc = CORM_OK;
    bool arrays = b->d->bulk_arrays && s->stmt.ncols > 0;
    corm_buf arr[CORM_MAX_FIELDS];
    for (int k = 0; arrays && k < s->stmt.ncols; k++) corm__buf_init(&arr[k]);
    for (size_t lo = 0, hi = 0; lo < n && rc == CORM_OK; lo = hi) {
        hi = lo + batch_rows < n ? lo + batch_rows : n;
        ins sub = *s;
        sub.order = order + lo;
        corm__compiled_reset(&cp);
        size_t used = 0;
        rc = compile_batch(&sub, arrays, hi - lo, arr, &used, &cp);
        if (rc == CORM_OK) hi = lo + used;
        if (rc == CORM_OK && arrays && hi < n) rc = more_statements(b->db, tx);
        if (rc == CORM_OK && s->returning) {
            corm__cursor cur;
            rc = corm__db_query(b->db, &cur, corm__buf_cstr(&cp.sql), cp.params, cp.nparams,
                                b->site, (corm_site){0}, "bulk_create");
            size_t k = lo;
            for (bool row = true; rc == CORM_OK && row;) {
                rc = corm__cursor_step(&cur, &row);
                if (rc == CORM_OK && row && k < hi)
                    *id_ptr(b, order[k++]) = b->db->be->column_int(cur.stmt, 0);
            }
            if (cur.db) corm__cursor_close(&cur);
            if (rc == CORM_OK && k != hi) {
                /* every row returns its id (no ON CONFLICT DO NOTHING here) */
                corm__err_set(&b->db->err, CORM_DB, "bulk_create: %zu ids returned for %zu rows",
                              k - lo, hi - lo);
                corm__err_hint(&b->db->err, "a trigger or rule on %s changed the rows inserted",
                               b->m->table);
                rc = CORM_DB;
            }
        } else if (rc == CORM_OK) {
            rc = corm__db_run(b->db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, b->site,
                              "bulk_create", NULL);
        }
        if (rc != CORM_OK) {
            *fail_lo = lo;
            *fail_hi = hi;
        }
    }
    for (int k = 0; arrays && k < s->stmt.ncols; k++) corm__buf_free(&arr[k]);
    corm__compiled_free(&cp);
    return rc;
}

/* The single-row INSERT run once per object of order[0..n), an
** executemany of batch_rows objects at a time; the ids read after each
** row when fill_ids.  On failure *failed is the position (+1) of the row
** that failed and [*fail_lo, *fail_hi) its executemany. */
static corm_rc create_rows(ins *s, const size_t *order, size_t n, size_t batch_rows, bool fill_ids,
                           size_t *failed, size_t *fail_lo, size_t *fail_hi)
{
    bulk *b = s->b;
    corm_buf sql;
    corm__buf_init(&sql);
    corm_rc rc = row_sql(s, &sql);
    for (size_t lo = 0; lo < n && rc == CORM_OK; lo += batch_rows) {
        size_t hi = lo + batch_rows < n ? lo + batch_rows : n;
        size_t k = 0;
        s->order = order + lo;
        rc = corm__db_run_many(b->db, corm__buf_cstr(&sql), s->stmt.ncols, hi - lo, ins_fill,
                               fill_ids ? ins_after : NULL, s, b->site, "bulk_create", NULL, &k);
        if (rc != CORM_OK) {
            *failed = lo + k + 1;
            *fail_lo = lo;
            *fail_hi = hi;
        }
    }
    s->order = order;
    corm__buf_free(&sql);
    return rc;
}

static corm_rc bulk_create(corm_db *db, const corm__objs *objs, const corm_bulk_opts *opts,
                           corm_site site)
{
    if (!db) return CORM_MISUSE;
    static const corm_bulk_opts defaults = {0};
    if (!opts) opts = &defaults;
    if (objs->n == 0) return CORM_OK;
    bulk b = {db, db->dialect, NULL, site, objs, "", ""};
    corm_rc rc = check_objs(db, objs, "corm_bulk_create", &b.m);
    if (rc != CORM_OK) return rc;
    if (CORM_NEVER(!b.d)) {
        corm__err_set(&db->err, CORM_MISUSE, "no SQL dialect for %s", db->be->vendor);
        return CORM_MISUSE;
    }
    const corm_model *m = b.m;
    if (opts->ignore_conflicts && opts->update_conflicts) {
        corm__err_set(&db->err, CORM_INVALID,
                      "bulk_create: ignore_conflicts and update_conflicts "
                      "are mutually exclusive");
        corm__err_hint(&db->err, "ignore_conflicts skips conflicting rows; update_conflicts "
                                 "updates them: pick one");
        return CORM_INVALID;
    }
    const corm_field *fields[CORM_MAX_FIELDS];
    for (int fi = 1; fi < m->nfields; fi++) fields[fi - 1] = &m->fields[fi];
    if (corm__check_max_lengths(db, m, objs, fields, m->nfields - 1, "corm_bulk_create") != CORM_OK)
        return CORM_CONSTRAINT;
    corm__now_text(b.now);
    corm__strlcpy(b.today, b.now, 11);

    /* One prepared single-row INSERT per object where a statement costs no
    ** round trip (bulk_update_rows) and the backend reads a new row's id
    ** without RETURNING (SQLite): no large program to compile, ids from
    ** last_insert_id.  Elsewhere multi-row INSERTs with RETURNING. */
    bool per_row = b.d->bulk_update_rows && !b.d->insert_returning_id;

    /* the conflict clause, shared by both passes */
    corm__insert stmt = {.model = m};
    const corm_field *target[CORM_MAX_FIELDS], *update[CORM_MAX_FIELDS];
    if (opts->ignore_conflicts) stmt.conflict = CORM__CONFLICT_IGNORE;
    if (opts->update_conflicts) {
        if (!opts->update_fields || !opts->update_fields[0]) {
            corm__err_set(&db->err, CORM_INVALID,
                          "bulk_create: update_conflicts needs "
                          "update_fields");
            corm__err_hint(&db->err, "name the fields to update on a conflict");
            return CORM_INVALID;
        }
        if (!opts->unique_fields || !opts->unique_fields[0]) {
            corm__err_set(&db->err, CORM_INVALID,
                          "bulk_create: update_conflicts needs "
                          "unique_fields");
            corm__err_hint(&db->err, "name the unique fields whose conflict triggers the "
                                     "update, as Django requires on SQLite and PostgreSQL");
            return CORM_INVALID;
        }
        stmt.conflict = CORM__CONFLICT_UPDATE;
        stmt.target = target;
        stmt.ntarget = named_fields(&b, "unique_fields", opts->unique_fields, true, target);
        if (stmt.ntarget < 0) return CORM_INVALID;
        stmt.update = update;
        stmt.nupdate = named_fields(&b, "update_fields", opts->update_fields, false, update);
        if (stmt.nupdate < 0) return CORM_INVALID;
    }
    /* Ids come back with RETURNING; skipped rows return none, so with
    ** ignore_conflicts the ids are left alone, as Django.  Row by row the
    ** last insert id serves, except for an upsert: a row that updated
    ** leaves it at the previous insert's, so it returns its id. */
    bool returning =
        b.d->has_returning && !opts->ignore_conflicts && (!per_row || opts->update_conflicts);

    /* the two passes: objects with an id first, then the others */
    size_t *order = corm__malloc(objs->n * sizeof *order);
    if (!order) return nomem(&b, "bulk_create");
    size_t nwith = 0;
    for (size_t i = 0; i < objs->n; i++)
        if (*id_ptr(&b, i) != 0) order[nwith++] = i;
    size_t k = nwith;
    for (size_t i = 0; i < objs->n; i++)
        if (*id_ptr(&b, i) == 0) order[k++] = i;

    ins pass[2];
    size_t nbatches = 0, batch_rows[2] = {1, 1};
    for (int p = 0; p < 2; p++) {
        ins *s = &pass[p];
        memset(s, 0, sizeof *s);
        s->b = &b;
        s->returning = returning && p == 1;
        s->stmt = stmt;
        s->stmt.cols = s->cols;
        for (int fi = p == 0 ? 0 : 1; fi < m->nfields; fi++)
            s->cols[s->stmt.ncols++] = &m->fields[fi];
        /* row by row the explicit ids need no RETURNING */
        s->stmt.returning_id = returning && !(per_row && p == 0);
        /* rows per statement (per executemany row by row): the parameter
        ** limit (all of them), or the caller's size */
        int ncols = s->stmt.ncols;
        size_t n = p == 0 ? nwith : objs->n - nwith;
        size_t rows = per_row                     ? n
                      : ncols && b.d->bulk_arrays ? ARRAY_ROWS
                      : ncols                     ? (size_t)b.d->max_params / (size_t)ncols
                                                  : 1;
        if (rows == 0) rows = 1;
        if (opts->batch_size && opts->batch_size < rows) rows = opts->batch_size;
        batch_rows[p] = rows;
        nbatches += (n + rows - 1) / rows;
    }

    /* one transaction when more than one statement or row (atomic, and
    ** the executemany needs it for speed), or inside the caller's (a
    ** savepoint keeps it usable after a failure) */
    /* a required field left unset, an impossible date: said before any SQL */
    rc =
        corm__check_write(db, m, "bulk_create", objs, pass[0].cols, pass[0].stmt.ncols, true, true);
    if (rc != CORM_OK) {
        corm__free(order);
        return rc;
    }
    corm__tx tx = {0};
    bool many = nbatches > 1 || (per_row && objs->n > 1);
    if (rc == CORM_OK && (many || corm__tx_open(db))) rc = corm__tx_begin(db, &tx);
    size_t failed = 0, fail_lo = 0, fail_hi = 0;
    int failed_pass = -1;
    /* row by row, the new objects' ids: not with ignore_conflicts (above),
    ** nor for an upsert that cannot return them */
    bool fill_ids = !opts->ignore_conflicts && (!opts->update_conflicts || returning);
    for (int p = 0; p < 2 && rc == CORM_OK; p++) {
        const size_t *o = p == 0 ? order : order + nwith;
        size_t n = p == 0 ? nwith : objs->n - nwith;
        if (per_row)
            rc = create_rows(&pass[p], o, n, batch_rows[p], p == 1 && fill_ids, &failed, &fail_lo,
                             &fail_hi);
        else rc = create_pass(&pass[p], o, n, batch_rows[p], &tx, &fail_lo, &fail_hi);
        if (rc != CORM_OK) failed_pass = p;
        if (rc == CORM_OK && p == 0 && nwith) {
            /* explicit ids: move the id generator past them (dialect.h) */
            corm_buf sync;
            corm__buf_init(&sync);
            rc = corm__compile_sync_ids(m, b.d, &sync, &db->err);
            if (rc == CORM_OK && sync.len)
                rc = corm__db_exec_internal(db, corm__buf_cstr(&sync), "bulk_create", &db->err);
            corm__buf_free(&sync);
        }
    }
    corm_rc stmt_rc = rc;
    rc = corm__tx_end(db, &tx, rc);
    bool at_commit = stmt_rc == CORM_OK && rc != CORM_OK;
    if (rc != CORM_OK) {
        /* nothing was written: the ids filled in are no longer true (the
        ** second pass is the objects that had none) */
        for (size_t i = nwith; i < objs->n; i++) *id_ptr(&b, order[i]) = 0;
        if (rc == CORM_CONSTRAINT) {
            if (at_commit) {
                /* a deferred foreign key at COMMIT: any object of the call */
                pass[1].order = order;
                explain_create(&pass[1], 0, objs->n, 0, true);
            } else if (failed_pass >= 0) {
                ins *s = &pass[failed_pass];
                /* positions in `order` so duplicates with earlier objects
                ** of the call count */
                size_t base = failed_pass == 1 ? nwith : 0;
                s->order = order;
                explain_create(s, base + fail_lo, base + fail_hi, failed ? base + failed : 0,
                               false);
            }
        }
    }
    if (rc == CORM_OK) {
        /* the auto_now values each row got, as Django's pre_save sets them */
        for (int fi = 1; fi < m->nfields; fi++) {
            const corm_field *f = &m->fields[fi];
            if (!(f->flags & (CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD))) continue;
            for (size_t i = 0; i < objs->n; i++)
                corm__obj_set_text(corm__objs_at(objs, i), f,
                                   f->type == CORM_FT_DATE ? b.today : b.now);
        }
    }
    corm__free(order);
    return rc;
}

/* The bulk entry points' one misuse before they look at the objects. */
static corm_rc null_array(corm_db *db, const char *what)
{
    corm__err_set(&db->err, CORM_MISUSE, "%s: the array is NULL and n > 0", what);
    corm__err_hint(&db->err, "pass n objects, or n = 0");
    return CORM_MISUSE;
}

corm_rc corm_bulk_create_at(corm_db *db, void *const *objs, size_t n, const corm_bulk_opts *opts,
                            corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (n && !objs) return null_array(db, "corm_bulk_create");
    corm__objs o = {.ptrs = objs, .n = n};
    return bulk_create(db, &o, opts, site);
}

corm_rc corm_bulk_create_array_at(corm_db *db, void *array, size_t n, const corm_bulk_opts *opts,
                                  corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (n && !array) return null_array(db, "corm_bulk_create_array");
    const corm_obj *h = array;
    if (n && (!h->model || !h->model->size)) {
        corm__err_set(&db->err, CORM_MISUSE,
                      "corm_bulk_create_array: the first object has no model");
        corm__err_hint(&db->err, "initialize every element with CORM_NEW(Model)");
        return CORM_MISUSE;
    }
    corm__objs o = {.base = array, .n = n, .stride = n ? h->model->size : 0};
    return bulk_create(db, &o, opts, site);
}

/* ------------------------------------------------------------ update */

typedef struct upd {
    bulk *b;
    const corm_field *fields[CORM_MAX_FIELDS];
    int nfields;
    const size_t *order;
} upd;

/* The fields of object order[row], then its id: the executemany's
** parameters, and a row of the CASE or VALUES statement. */
static corm_rc upd_fill(void *ud, size_t row, corm_value *params)
{
    upd *u = ud;
    const void *obj = corm__objs_at(u->b->objs, u->order[row]);
    for (int i = 0; i < u->nfields; i++) params[i] = corm__field_value(obj, u->fields[i]);
    params[u->nfields] =
        corm_int(*(const int64_t *)corm__field_ptr((void *)obj, &u->b->m->fields[0]));
    return CORM_OK;
}

/* The single-row UPDATE of the executemany: UPDATE t SET f1 = ?, ...
** WHERE id = ?, bound by upd_fill. */
static corm_rc row_update_sql(upd *u, corm_buf *sql)
{
    return corm__compile_update_row(u->b->m, u->fields, u->nfields, u->b->d, sql, &u->b->db->err);
}

/* The forms of one bulk_update statement (src/sql/update.c, unnest.c). */
enum { UPD_CASE, UPD_VALUES, UPD_ARRAYS };

/* One statement for objects order[lo..*hi): CASE WHEN per field, a join
** with their VALUES, or one with their arrays (which may end the batch
** early: *hi moves back, and tx opens if more statements follow). */
static corm_rc batch_update(upd *u, int form, size_t lo, size_t *hi, size_t n, corm__tx *tx,
                            const char *origin, int64_t *changes)
{
    bulk *b = u->b;
    upd sub = *u;
    sub.order = u->order + lo;
    corm__compiled cp;
    corm__compiled_init(&cp);
    corm_rc rc;
    if (form == UPD_ARRAYS) {
        corm_buf arr[CORM_MAX_FIELDS + 1];
        for (int k = 0; k <= u->nfields; k++) corm__buf_init(&arr[k]);
        size_t used = 0;
        rc = corm__compile_update_arrays(b->m, u->fields, u->nfields, *hi - lo, ARRAY_BYTES,
                                         upd_fill, &sub, arr, &used, b->d, &cp, &b->db->err);
        if (rc == CORM_OK) *hi = lo + used;
        if (rc == CORM_OK && *hi < n) rc = more_statements(b->db, tx);
        if (rc == CORM_OK)
            rc = corm__db_run(b->db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, b->site,
                              origin, changes);
        for (int k = 0; k <= u->nfields; k++) corm__buf_free(&arr[k]);
        corm__compiled_free(&cp);
        return rc;
    }
    rc = form == UPD_CASE ? corm__compile_update_case(b->m, u->fields, u->nfields, *hi - lo,
                                                      upd_fill, &sub, b->d, &cp, &b->db->err)
                          : corm__compile_update_values(b->m, u->fields, u->nfields, *hi - lo,
                                                        upd_fill, &sub, b->d, &cp, &b->db->err);
    if (rc == CORM_OK)
        rc = corm__db_run(b->db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, b->site, origin,
                          changes);
    corm__compiled_free(&cp);
    return rc;
}

/* diag_fn of bulk_update: objects order[a..z) in the batch's form. */
typedef struct upd_diag {
    upd *u;
    int form;
} upd_diag;

static corm_rc diagnose_update(void *ud, size_t a, size_t z)
{
    upd_diag *g = ud;
    size_t hi = z;
    corm__tx more = {0};
    corm_rc rc = batch_update(g->u, g->form, a, &hi, z, &more, "diagnose", NULL);
    if (rc == CORM_OK && hi != z) rc = CORM_DB; /* a part of a batch that fit */
    return corm__tx_end(g->u->b->db, &more, rc);
}

static int64_t bulk_update(corm_db *db, const corm__objs *objs, const char *const *fields,
                           const corm_bulk_opts *opts, corm_site site)
{
    if (!db) return -1;
    if (objs->n == 0) return 0;
    bulk b = {db, db->dialect, NULL, site, objs, "", ""};
    if (check_objs(db, objs, "corm_bulk_update", &b.m) != CORM_OK) return -1;
    if (CORM_NEVER(!b.d)) {
        corm__err_set(&db->err, CORM_MISUSE, "no SQL dialect for %s", db->be->vendor);
        return -1;
    }
    const corm_model *m = b.m;
    upd u = {.b = &b};
    if (!fields || !fields[0]) {
        corm__err_set(&db->err, CORM_INVALID, "bulk_update of %s: no fields named", m->name);
        corm__err_hint(&db->err, "corm_bulk_update(db, objs, n, \"title\", \"pages\")");
        return -1;
    }
    for (int i = 0; fields[i]; i++) {
        if (u.nfields == CORM_MAX_FIELDS) break;
        const corm_field *f = named_field(&b, "bulk_update", "fields", fields[i], false);
        if (!f) return -1;
        for (int k = 0; k < u.nfields; k++) {
            if (u.fields[k] == f) {
                corm__err_set(&db->err, CORM_INVALID, "bulk_update of %s: field '%s' named twice",
                              m->name, f->name);
                return -1;
            }
        }
        u.fields[u.nfields++] = f;
    }
    /* every object saved, each id once (the first wins, as Django); ids in
    ** increasing order (objects read in pk order) cannot repeat, and need
    ** no map of the ids seen */
    bool increasing = true;
    for (size_t i = 0; i < objs->n; i++) {
        int64_t id = *id_ptr(&b, i);
        if (id == 0) {
            corm__err_set(&db->err, CORM_INVALID, "bulk_update of %s: object %zu has no id",
                          m->name, i + 1);
            corm__err_hint(&db->err, "bulk_update writes saved objects; create new ones with "
                                     "corm_bulk_create");
            return -1;
        }
        if (i > 0 && id <= *id_ptr(&b, i - 1)) increasing = false;
    }
    size_t *order = corm__malloc(objs->n * sizeof *order);
    corm_map seen;
    corm__map_init(&seen, NULL);
    size_t n = 0;
    if (!order) {
        nomem(&b, "bulk_update");
        return -1;
    }
    for (size_t i = 0; i < objs->n; i++) {
        if (!increasing) {
            int64_t id = *id_ptr(&b, i);
            if (corm__map_get(&seen, id)) continue;
            if (!corm__map_put(&seen, id, (void *)1)) {
                corm__free(order);
                corm__map_free(&seen);
                nomem(&b, "bulk_update");
                return -1;
            }
        }
        order[n++] = i;
    }
    corm__map_free(&seen);
    u.order = order;
    if (corm__check_write(db, m, "bulk_update", objs, u.fields, u.nfields, false, true) !=
        CORM_OK) {
        corm__free(order);
        return -1;
    }
    if (corm__check_max_lengths(db, m, objs, u.fields, u.nfields, "bulk_update") != CORM_OK) {
        corm__free(order);
        return -1;
    }

    int strategy = opts ? opts->strategy : CORM_BULK_AUTO;
    /* the backend's choice: row by row on SQLite, arrays on PostgreSQL */
    bool arrays = false;
    if (strategy != CORM_BULK_CASE && strategy != CORM_BULK_ROWS && strategy != CORM_BULK_VALUES) {
        strategy = b.d->bulk_update_rows ? CORM_BULK_ROWS : CORM_BULK_VALUES;
        arrays = !b.d->bulk_update_rows && b.d->bulk_arrays;
    }
    bool per_row = strategy == CORM_BULK_ROWS;
    int form = arrays ? UPD_ARRAYS : strategy == CORM_BULK_CASE ? UPD_CASE : UPD_VALUES;
    size_t rows = per_row  ? n
                  : arrays ? ARRAY_ROWS
                  : strategy == CORM_BULK_VALUES
                      ? (size_t)b.d->max_params / (size_t)(u.nfields + 1)
                      : (size_t)b.d->max_params / (size_t)(2 * u.nfields + 1);
    /* a CASE is read top to bottom for every row: cost batch x batch */
    if (strategy == CORM_BULK_CASE && rows > 1000) rows = 1000;
    if (rows == 0) rows = 1;
    if (opts && opts->batch_size && opts->batch_size < rows) rows = opts->batch_size;
    size_t nbatches = (n + rows - 1) / rows;
    corm__tx tx = {0};
    corm_rc rc = CORM_OK;
    /* the executemany needs the transaction for speed as much as atomicity */
    if (nbatches > 1 || corm__tx_open(db) || (per_row && n > 1)) rc = corm__tx_begin(db, &tx);
    corm_buf sql;
    corm__buf_init(&sql);
    if (rc == CORM_OK && per_row) rc = row_update_sql(&u, &sql);
    int64_t matched = 0;
    size_t fail_lo = 0, fail_hi = 0, failed_row = 0;
    for (size_t lo = 0, hi = 0; lo < n && rc == CORM_OK; lo = hi) {
        hi = lo + rows < n ? lo + rows : n;
        int64_t changes = 0;
        if (per_row) {
            upd sub = u;
            sub.order = order + lo;
            size_t failed = 0;
            rc = corm__db_run_many(db, corm__buf_cstr(&sql), u.nfields + 1, hi - lo, upd_fill, NULL,
                                   &sub, site, "bulk_update", &changes, &failed);
            failed_row = lo + failed + 1;
        } else {
            rc = batch_update(&u, form, lo, &hi, n, &tx, "bulk_update", &changes);
        }
        if (rc != CORM_OK) {
            fail_lo = lo;
            fail_hi = hi;
        }
        matched += changes;
    }
    corm_rc stmt_rc = rc;
    rc = corm__tx_end(db, &tx, rc);
    if (rc == CORM_CONSTRAINT) {
        size_t pos = 0;
        const corm_field *cols[16];
        int ncols = corm__constraint_columns(&db->err, m, cols, 16);
        corm_ckind kind = corm__constraint_kind(&db->err);
        if (stmt_rc != CORM_OK && per_row) pos = failed_row;
        if (!pos && ncols && kind == CORM_CK_UNIQUE)
            pos = first_duplicate(&b, order, fail_hi ? fail_hi : n, cols, ncols);
        if (!pos && stmt_rc != CORM_OK && !per_row) {
            /* bisect the batch, rolled back */
            upd_diag g = {&u, form};
            pos = diagnose(&b, fail_lo, fail_hi, diagnose_update, &g, false);
        }
        if (!pos && kind == CORM_CK_FOREIGN_KEY) pos = first_dangling(&b, order, n);
        corm__constraint_explain(db, m, "bulk_update", objs, pos ? order[pos - 1] : order[fail_lo],
                                 1, true);
    }
    corm__buf_free(&sql);
    corm__free(order);
    return rc == CORM_OK ? matched : -1;
}

int64_t corm_bulk_update_at(corm_db *db, void *const *objs, size_t n, const char *const *fields,
                            const corm_bulk_opts *opts, corm_site site)
{
    CORM__DB_ENTER(db, -1);
    if (n && !objs) return null_array(db, "corm_bulk_update"), -1;
    corm__objs o = {.ptrs = objs, .n = n};
    return bulk_update(db, &o, fields, opts, site);
}

int64_t corm_bulk_update_array_at(corm_db *db, void *array, size_t n, const char *const *fields,
                                  const corm_bulk_opts *opts, corm_site site)
{
    CORM__DB_ENTER(db, -1);
    if (n && !array) return null_array(db, "corm_bulk_update_array"), -1;
    const corm_obj *h = array;
    if (n && (!h->model || !h->model->size)) {
        corm__err_set(&db->err, CORM_MISUSE,
                      "corm_bulk_update_array: the first object has no generated model");
        corm__err_hint(&db->err, "pass an array of loaded objects (Book books[n])");
        return -1;
    }
    corm__objs o = {.base = array, .n = n, .stride = n ? h->model->size : 0};
    return bulk_update(db, &o, fields, opts, site);
}
