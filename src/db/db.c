/*
** db.c - corm_db: open/close, the statement path with its events, raw exec
** and transactions.  Every statement the library runs goes through
** corm__db_query (or corm__db_run), which is what makes query counts and
** the N+1 tooling exact: there is no other way to reach the driver.
*/
#include "db_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(corm__cursor, ev) == 0, "corm__db_query clears what follows ev");

corm_db *corm_open(const char *url, const corm_schema *schema, corm_error *err)
{
    return corm_open_flags(url, schema, 0, err);
}

corm_db *corm_open_flags(const char *url, const corm_schema *schema, unsigned flags,
                         corm_error *err)
{
    corm__err_clear(err);
    const char *target = NULL;
    const corm__backend *be = corm__backend_for_url(url, &target, err);
    if (!be) return NULL;
    /* every driver has a dialect: the db resolves it once, here, so no
    ** other layer looks it up (they check it with CORM_NEVER) */
    const corm__dialect *dialect = corm__dialect_for(be->vendor);
    if (CORM_NEVER(!dialect)) {
        corm__err_set(err, CORM_INVALID, "no SQL dialect for %s", be->vendor);
        return NULL;
    }
    corm_db *db = corm__calloc(1, sizeof *db);
    char *u = corm__strdup(url);
    if (!db || !u) {
        corm__free(db);
        corm__free(u);
        corm__err_set(err, CORM_NOMEM, "out of memory opening '%s'", url);
        return NULL;
    }
    db->be = be;
    db->dialect = dialect;
    db->schema = schema;
    db->url = u;
    corm__err_clear(&db->err);
    if (be->open(target, &db->conn, err) != CORM_OK) {
        corm__free(u);
        corm__free(db);
        return NULL;
    }
    db->instr = corm__instr_new(be->vendor);
    if (!db->instr) {
        be->close(db->conn);
        corm__free(u);
        corm__free(db);
        corm__err_set(err, CORM_NOMEM, "out of memory opening '%s'", url);
        return NULL;
    }
    db->blocks = corm__blockpool_new(); /* NULL: results use malloc alone */
    const char *verify = getenv("CORM_SQL_MEMO_VERIFY");
    db->sql_memo.verify = verify && strcmp(verify, "1") == 0;
    corm_error none;
    if (!(flags & CORM_OPEN_NO_MIGRATION_CHECK) &&
        corm__db_check_migrations(db, err ? err : &none) != CORM_OK) {
        corm_close(db);
        return NULL;
    }
    return db;
}

void corm_close(corm_db *db)
{
    if (!db) return;
    corm__instr_free(db->instr); /* reports what it found outside captures */
    corm__qc_reset(db);
    corm__db_aliases_free(db);
    if (db->ks_mac.release) db->ks_mac.release(db->ks_mac.state);
    corm__memo_free(&db->sql_memo);
    corm__blockpool_close(db->blocks);
    db->be->close(db->conn);
    corm__free(db->url);
    corm__free(db);
}

/* The getters accept NULL, as corm_qs_error does: a failed corm_open
** returns NULL and its error is in the caller's corm_error. */
const corm_error *corm_db_error(const corm_db *db)
{
    static const corm_error none = {
        .rc = CORM_MISUSE,
        .message = "no database",
        .hint = "corm_open returned NULL: its error is in the corm_error passed to it"};
    return db ? &db->err : &none;
}
const corm_schema *corm_db_schema(const corm_db *db) { return db ? db->schema : NULL; }
const char *corm_db_vendor(const corm_db *db) { return db ? db->be->vendor : ""; }
uint64_t corm_query_count(const corm_db *db) { return db ? db->nqueries : 0; }
corm_instr *corm_db_instr(corm_db *db) { return db ? db->instr : NULL; }

int corm_on_query(corm_db *db, corm_event_fn fn, void *ud)
{
    CORM__DB_ENTER(db, -1);
    if (!fn) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_on_query: the callback is NULL");
        return -1;
    }
    for (int i = 0; i < CORM__MAX_SUBS; i++) {
        if (!db->subs[i].fn) {
            db->subs[i].fn = fn;
            db->subs[i].ud = ud;
            if (i >= db->nsubs) db->nsubs = i + 1;
            return i;
        }
    }
    corm__err_set(&db->err, CORM_MISUSE, "corm_on_query: all %d subscriber slots are taken",
                  CORM__MAX_SUBS);
    corm__err_hint(&db->err, "corm_off_query the ones you no longer need");
    return -1;
}

void corm_off_query(corm_db *db, int handle)
{
    CORM__DB_ENTER(db, );
    if (handle >= 0 && handle < CORM__MAX_SUBS) {
        db->subs[handle].fn = NULL;
        db->subs[handle].ud = NULL;
    }
}

/* The event is completed in the cursor (what was known before it ran is
** there already): a cursor emits once. */
static void emit_ev(corm__cursor *cur, bool internal)
{
    corm_db *db = cur->db;
    corm_event *ev = &cur->ev;
    if (!internal && !ev->cache_hit) db->nqueries++;
    ev->vendor = db->be->vendor;
    ev->rows = cur->rows;
    ev->ms = corm__now_ms() - cur->t0;
    ev->rc = cur->rc;
    ev->internal = internal;
    ev->statements = cur->statements ? cur->statements : 1;
    if (CORM_ALWAYS(db->instr)) /* corm_open made it */
        corm__instr_event(db->instr, ev, cur->classified, cur->seen);
    for (int i = 0; i < db->nsubs; i++)
        if (db->subs[i].fn) db->subs[i].fn(db->subs[i].ud, ev);
    /* a write moves the versions of its tables (stmt_cache.c) */
    if (db->qc.ops && !ev->cache_hit) corm__qc_after(db, ev->sql);
}

static void emit(corm__cursor *cur) { emit_ev(cur, false); }

static corm_rc exec_internal(corm_db *db, const char *sql, corm_error *err)
{
    double t0 = corm__now_ms();
    corm_rc rc = db->be->exec(db->conn, sql, err);
    corm__cursor cur = {.db = db,
                        .ev = {.sql = sql, .site = CORM__LIB_SITE, .origin = "snapshot"},
                        .t0 = t0,
                        .rc = rc};
    emit_ev(&cur, true);
    return rc;
}

corm_rc corm__db_snapshot_begin(corm_db *db, bool *opened)
{
    *opened = false;
    if (db->tx_depth > 0 || db->be->in_transaction(db->conn)) return CORM_OK;
    corm_rc rc = exec_internal(db, "BEGIN", &db->err);
    *opened = rc == CORM_OK;
    db->qc.snapshot = *opened;
    return rc;
}

void corm__db_snapshot_end(corm_db *db, bool opened)
{
    if (!opened) return;
    /* a read-only transaction: COMMIT and ROLLBACK are the same; keep the
    ** db's error of the evaluation, not of this statement */
    corm_error keep;
    db->qc.snapshot = false;
    if (exec_internal(db, "COMMIT", &keep) != CORM_OK) (void)exec_internal(db, "ROLLBACK", &keep);
}

#ifdef CORM_DEBUG
/* db->next as corm__db_query leaves it (memset): every byte zero, so a
** member added to corm_event later is checked too */
static bool next_is_clear(const corm_event *e)
{
    static const unsigned char zero[sizeof *e];
    return memcmp(e, zero, sizeof zero) == 0;
}
#endif

corm_rc corm__db_query(corm_db *db, corm__cursor *cur, const char *sql, const corm_value *params,
                       int nparams, corm_site site, corm_site built, const char *origin)
{
    /* what the layer above told about this statement (only when it told
    ** something: db->next is all zeros otherwise), then ours; the rest of
    ** the cursor cleared (ev is its first member) */
    if (db->next_set) {
        cur->ev = db->next;
        memset(&db->next, 0, sizeof db->next);
        db->next_set = false;
        memset((char *)cur + sizeof cur->ev, 0, sizeof *cur - sizeof cur->ev);
    } else {
#ifdef CORM_DEBUG
        CORM_ALWAYS(next_is_clear(&db->next)); /* a writer bypassed corm__db_next */
#endif
        memset(cur, 0, sizeof *cur);
    }
    size_t len = db->next_text.len; /* the memo's: not measured again */
    uint64_t known_hash = db->next_text.hash;
    cur->ev.fingerprint = db->next_text.fp;
    db->next_text.len = 0;
    db->next_text.hash = 0;
    db->next_text.fp = 0;
#ifdef CORM_DEBUG
    if (len) CORM_ALWAYS(len == strlen(sql) && known_hash == corm__hash_fast(sql, len));
#endif
    int stream = db->stream_rows; /* for this statement only */
    db->stream_rows = 0;
    if (!built.file && cur->ev.built.file) built = cur->ev.built;
    cur->db = db;
    cur->ev.sql = sql;
    cur->ev.params = params;
    cur->ev.nparams = nparams;
    cur->ev.site = site;
    cur->ev.built = built;
    cur->ev.origin = origin;
    cur->ev.vendor = db->be->vendor;
    if (CORM_ALWAYS(db->instr) && !corm__instr_before(db->instr, &cur->ev, &cur->seen, &db->err)) {
        cur->db = NULL; /* refused (strict N+1 mode): nothing ran */
        return db->err.rc;
    }
    if (len && !cur->seen.text_hash) cur->seen.text_hash = known_hash;
    cur->classified = true;
    cur->t0 = corm__now_ms();
    /* a cached queryset's statement: from the cache, or recorded for it */
    if (db->qc.active && stream == 0 && corm__qc_lookup(db, cur, sql, params, nparams) == CORM_OK) {
        cur->ev.cache_hit = true;
        cur->rc = CORM_OK;
        return CORM_OK;
    }
    if (stream > 0 && db->be->query_stream)
        cur->rc =
            db->be->query_stream(db->conn, sql, params, nparams, stream, &cur->stmt, &db->err);
    else {
        /* the driver finds its statement by the hash the instrumentation
        ** took of the text (it compares the text itself) */
        if (!len) len = strlen(sql);
        uint64_t hash = cur->seen.text_hash ? cur->seen.text_hash : corm__hash_fast(sql, len);
        cur->rc =
            db->be->query_hashed(db->conn, sql, len, hash, params, nparams, &cur->stmt, &db->err);
    }
    if (cur->rc != CORM_OK) {
        if (!db->err.sql[0]) corm__err_sql(&db->err, sql);
        cur->stmt = NULL;
        corm__cursor_close(cur);
        return db->err.rc;
    }
    if (cur->rec) corm__qc_record_start(cur);
    return CORM_OK;
}

corm_rc corm__cursor_step(corm__cursor *cur, bool *has_row)
{
    *has_row = false;
    if (CORM_NEVER(!cur->stmt)) { /* stepped after it was closed: a corm bug */
        if (cur->db) corm__err_set(&cur->db->err, CORM_MISUSE, "a cursor stepped after its end");
        return CORM_MISUSE;
    }
    const corm__backend *be = cur->replay ? &corm__replay_backend : cur->db->be;
    corm_rc rc = be->step(cur->stmt, has_row, &cur->db->err);
    if (rc != CORM_OK) {
        if (!cur->db->err.sql[0]) corm__err_sql(&cur->db->err, cur->ev.sql);
        cur->rc = rc;
        return rc;
    }
    if (*has_row) cur->rows++;
    if (cur->rec) corm__qc_record_row(cur, *has_row);
    return CORM_OK;
}

void corm__cursor_close(corm__cursor *cur)
{
    if (!cur->db) return;
    if (cur->stmt && !cur->replay) cur->db->be->finish(cur->stmt);
    cur->stmt = NULL;
    if (cur->rec || cur->replay) corm__qc_close(cur);
    if (!cur->emitted) emit(cur);
    cur->db = NULL;
}

void corm__cursor_emit(corm__cursor *cur)
{
    if (!cur->db || cur->emitted) return;
    emit(cur);
    cur->emitted = true;
}

corm_rc corm__db_run(corm_db *db, const char *sql, const corm_value *params, int nparams,
                     corm_site site, const char *origin, int64_t *changes)
{
    corm__cursor cur;
    corm_site none = {0};
    corm_rc rc = corm__db_query(db, &cur, sql, params, nparams, site, none, origin);
    if (rc != CORM_OK) return rc;
    bool row;
    do {
        rc = corm__cursor_step(&cur, &row);
    } while (rc == CORM_OK && row);
    if (rc == CORM_OK) cur.rows = db->be->changes(db->conn);
    if (changes) *changes = rc == CORM_OK ? cur.rows : 0;
    corm__cursor_close(&cur);
    return rc;
}

corm_rc corm_exec_at(corm_db *db, const char *sql, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!sql) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_exec: the SQL is NULL");
        return CORM_MISUSE;
    }
    double t0 = corm__now_ms();
    corm_rc rc = db->be->exec(db->conn, sql, &db->err);
    corm__cursor cur = {
        .db = db, .ev = {.sql = sql, .site = site, .origin = "exec"}, .t0 = t0, .rc = rc};
    emit(&cur);
    return rc;
}

/* Transactions nest through savepoints: depth 0 -> BEGIN, deeper ->
** SAVEPOINT corm_<depth>.  A rollback undoes only the innermost level. */
corm_rc corm_begin_at(corm_db *db, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    char sql[64];
    if (db->tx_depth == 0) corm__strlcpy(sql, "BEGIN", sizeof sql);
    else {
        corm_buf b;
        corm__buf_init(&b);
        corm__buf_addf(&b, "SAVEPOINT corm_%d", db->tx_depth);
        corm__strlcpy(sql, corm__buf_cstr(&b), sizeof sql);
        corm__buf_free(&b);
    }
    corm_rc rc = corm__db_run(db, sql, NULL, 0, site, "transaction", NULL);
    if (rc == CORM_OK) db->tx_depth++;
    return rc;
}

static corm_rc end_tx(corm_db *db, bool commit, corm_site site)
{
    if (db->tx_depth <= 0) {
        corm__err_set(&db->err, CORM_MISUSE, "%s without a transaction",
                      commit ? "corm_commit" : "corm_rollback");
        corm__err_hint(&db->err, "call corm_begin first");
        return CORM_MISUSE;
    }
    corm_buf b;
    corm__buf_init(&b);
    int level = db->tx_depth - 1;
    if (level == 0) corm__buf_adds(&b, commit ? "COMMIT" : "ROLLBACK");
    else if (commit) corm__buf_addf(&b, "RELEASE SAVEPOINT corm_%d", level);
    else
        corm__buf_addf(&b, "ROLLBACK TO SAVEPOINT corm_%d; RELEASE SAVEPOINT corm_%d", level,
                       level);
    corm_rc rc = b.oom ? CORM_NOMEM : CORM_OK;
    if (b.oom) corm__err_set(&db->err, CORM_NOMEM, "out of memory ending a transaction");
    if (rc == CORM_OK && level > 0 && !commit) {
        /* two statements: run them through exec so both happen */
        double t0 = corm__now_ms();
        rc = db->be->exec(db->conn, corm__buf_cstr(&b), &db->err);
        corm__cursor cur = {
            .db = db,
            .ev = {.sql = corm__buf_cstr(&b), .site = site, .origin = "transaction"},
            .t0 = t0,
            .rc = rc};
        emit(&cur);
    } else if (rc == CORM_OK) {
        rc = corm__db_run(db, corm__buf_cstr(&b), NULL, 0, site, "transaction", NULL);
    }
    corm__buf_free(&b);
    /* The level is gone either way: a failed COMMIT leaves SQLite's
    ** transaction rolled back or still open; both are reported. */
    db->tx_depth = level;
    if (level == 0 && db->be->in_transaction(db->conn) && rc != CORM_OK) {
        corm_error keep = db->err;
        (void)db->be->exec(db->conn, "ROLLBACK", &keep);
    }
    if (db->qc.ops) corm__qc_after(db, NULL); /* the writes are durable now */
    return rc;
}

corm_rc corm_commit_at(corm_db *db, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return end_tx(db, true, site);
}

corm_rc corm_rollback_at(corm_db *db, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return end_tx(db, false, site);
}

/* ------------------------------------------- internal statements, executemany */

corm_rc corm__db_exec_internal(corm_db *db, const char *sql, const char *origin, corm_error *err)
{
    double t0 = corm__now_ms();
    corm_rc rc = db->be->exec(db->conn, sql, err);
    corm__cursor cur = {
        .db = db, .ev = {.sql = sql, .site = CORM__LIB_SITE, .origin = origin}, .t0 = t0, .rc = rc};
    emit_ev(&cur, true);
    return rc;
}

corm_rc corm__db_run_many(corm_db *db, const char *sql, int nparams, size_t nrows,
                          corm__fill_fn fill, corm__after_fn after, void *ud, corm_site site,
                          const char *origin, int64_t *changes, size_t *failed)
{
    corm__cursor cur = {.db = db,
                        .ev = {.sql = sql, .nparams = nparams, .site = site, .origin = origin},
                        .t0 = corm__now_ms()};
    corm_value *params = corm__calloc(nparams > 0 ? (size_t)nparams : 1, sizeof *params);
    corm_rc rc = params ? CORM_OK : CORM_NOMEM;
    if (!params) corm__err_set(&db->err, CORM_NOMEM, "out of memory running %s", origin);
    int64_t total = 0;
    size_t i = 0, len = strlen(sql);
    uint64_t hash = corm__hash_fast(sql, len); /* once, not per row */
    for (; i < nrows && rc == CORM_OK; i++) {
        rc = fill(ud, i, params);
        if (rc != CORM_OK) break;
        /* the statement is prepared once and found in the cache after */
        corm__stmt *st = NULL;
        rc = db->be->query_hashed(db->conn, sql, len, hash, params, nparams, &st, &db->err);
        if (rc == CORM_OK) cur.statements++;
        bool row = true, returned = false;
        int64_t id = 0;
        while (rc == CORM_OK && row) {
            rc = db->be->step(st, &row, &db->err);
            if (rc == CORM_OK && row && after && !returned) {
                id = db->be->column_int(st, 0); /* RETURNING "id" */
                returned = true;
            }
        }
        if (rc == CORM_OK) {
            int64_t n = db->be->changes(db->conn);
            total += n;
            if (after) after(ud, i, n, returned ? id : db->be->last_insert_id(db->conn));
        }
        if (st) db->be->finish(st);
        if (rc != CORM_OK) {
            if (!db->err.sql[0]) corm__err_sql(&db->err, sql);
            break;
        }
    }
    if (failed) *failed = rc == CORM_OK ? 0 : i;
    if (changes) *changes = rc == CORM_OK ? total : 0;
    cur.rows = total;
    cur.rc = rc;
    corm__free(params);
    corm__cursor_close(&cur);
    return rc;
}

corm_rc corm__db_run_id(corm_db *db, const char *sql, const corm_value *params, int nparams,
                        corm_site site, const char *origin, int64_t *id)
{
    corm__cursor cur;
    corm_site none = {0};
    corm_rc rc = corm__db_query(db, &cur, sql, params, nparams, site, none, origin);
    if (rc != CORM_OK) return rc;
    bool row = false;
    rc = corm__cursor_step(&cur, &row);
    if (rc == CORM_OK && !row) {
        corm__err_set(&db->err, CORM_DB, "the statement returned no id");
        corm__err_sql(&db->err, sql);
        rc = cur.rc = CORM_DB;
    }
    if (rc == CORM_OK) *id = db->be->column_int(cur.stmt, 0);
    while (rc == CORM_OK && row) rc = corm__cursor_step(&cur, &row);
    corm__cursor_close(&cur);
    return rc;
}
