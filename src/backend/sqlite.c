/*
** sqlite.c - the SQLite backend: one sqlite3 connection and its cache of
** prepared statements.
**
** Statement cache.  Every SQL text the library runs is prepared once per
** connection (SQLITE_PREPARE_PERSISTENT) and kept in a hash table keyed by
** the text, with an LRU list to bound it at CACHE_CAP entries.  The
** statement path hands in the text's length and hash (query_hashed: it
** hashed the text already); a statement is taken only when its text is
** the same, length and bytes, so a hash is a way to find a text, never a
** name for it.  A statement is "busy" from query() until finish();
** invariants:
**   - a busy statement is never handed out a second time: when the cached
**     one is busy (a nested query with the same SQL, e.g. a lazy load inside
**     a loop over the same query), a fresh uncached statement is prepared
**     and finalized by its finish();
**   - a busy statement is never evicted (its cursor would dangle);
**   - SQL longer than CACHE_MAX_SQL is never cached (bulk writes' huge
**     multi-row statements would pin megabytes for nothing);
**   - query() binds every placeholder (it checks the count first) before
**     a statement is stepped, so the pointers a statement given back still
**     holds to its last caller's parameters (SQLITE_STATIC) are never
**     read: SQLite reads bindings only in step; reset, a rebind and
**     finalize do not (no sqlite3_clear_bindings, ~30 instructions a
**     statement).
** Every statement, cached or not, is on one of the conn's lists, so close()
** can finalize them all even when a caller forgot to finish one.
**
** Threads: one connection is used by one thread at a time (corm_db rule),
** so it is opened SQLITE_OPEN_NOMUTEX and nothing here locks.
*/
#include "backend.h"

#include <assert.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_CAP 256       /* cached statements per connection */
#define CACHE_MAX_SQL 16384 /* longer SQL texts are not cached */
#define NBUCKETS 512        /* power of two, 2 x CACHE_CAP */
#define BUSY_TIMEOUT_MS 5000

struct corm__stmt {
    sqlite3_stmt *st;
    corm__conn *conn;
    char *sql; /* cached: owned copy of the key; else NULL */
    size_t sql_len;
    uint64_t hash; /* query_hashed's hash of sql */
    int nparams;   /* its placeholders */
    bool busy;
    bool cached;
    corm__stmt *hnext;       /* hash chain (cached only) */
    corm__stmt *prev, *next; /* LRU list (cached) or loose list (uncached) */
};

struct corm__conn {
    sqlite3 *db;
    corm__stmt *buckets[NBUCKETS];
    int ncached;
    corm__stmt lru;   /* sentinel: lru.next most recent, lru.prev least */
    corm__stmt loose; /* sentinel: uncached statements handed out */
};

/* ------------------------------------------------------------ errors */

static corm_rc map_code(int code)
{
    switch (code & 0xff) {
    case SQLITE_OK: return CORM_OK;
    case SQLITE_CONSTRAINT: return CORM_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return CORM_BUSY;
    case SQLITE_NOMEM: return CORM_NOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL: return CORM_IO;
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return CORM_MISUSE;
    default: return CORM_DB;
    }
}

static const char *constraint_hint(int code)
{
    switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return "a row with this value already exists; look it up first or change the value";
    case SQLITE_CONSTRAINT_NOTNULL:
        return "give the field a value, or declare it `null` in the schema";
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return "the referenced row does not exist (or rows still refer to this one)";
    case SQLITE_CONSTRAINT_CHECK: return "the value is outside what the column's CHECK allows";
    default: return "";
    }
}

/* Fill err from the connection's last error, with the statement's SQL. */
static corm_rc fail(sqlite3 *db, int code, const char *sql, corm_error *err)
{
    int ext = db ? sqlite3_extended_errcode(db) : code;
    if ((ext & 0xff) != (code & 0xff)) ext = code;
    corm_rc rc = map_code(code);
    corm__err_set(err, rc, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
    switch (rc) {
    case CORM_CONSTRAINT: corm__err_hint(err, "%s", constraint_hint(ext)); break;
    case CORM_IO:
        if ((code & 0xff) == SQLITE_FULL)
            corm__err_hint(err, "the disk (or the database's max_page_count) is full: free "
                                "space, then retry; nothing of the statement was written");
        break;
    case CORM_BUSY:
        if (ext == SQLITE_BUSY_SNAPSHOT)
            corm__err_hint(err, "this transaction read an older snapshot and another "
                                "connection has written since: roll back and run the whole "
                                "transaction again (retrying the statement cannot succeed)");
        else if ((code & 0xff) == SQLITE_LOCKED)
            corm__err_hint(err, "a statement still running on this connection uses the "
                                "table; finish (close) it first");
        else
            corm__err_hint(err,
                           "another connection held a lock for longer than %d ms; "
                           "retry, and keep write transactions short",
                           BUSY_TIMEOUT_MS);
        break;
    default:
        if (strncmp(err->message, "no such table", 13) == 0)
            corm__err_hint(err, "the table does not exist: is the database migrated? Run the "
                                "migrations (corm migrate, or corm_migrate)");
        break;
    }
    if (sql) corm__err_sql(err, sql);
    return rc;
}

/* ------------------------------------------------------------ lists */

static void list_init(corm__stmt *head) { head->prev = head->next = head; }

static void list_unlink(corm__stmt *s)
{
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void list_push_front(corm__stmt *head, corm__stmt *s)
{
    s->next = head->next;
    s->prev = head;
    head->next->prev = s;
    head->next = s;
}

/* ------------------------------------------------------- open / close */

static corm_rc open_fail(sqlite3 *db, const char *target, const char *what, corm_error *err)
{
    int code = db ? sqlite3_errcode(db) & 0xff : SQLITE_NOMEM;
    if (code == SQLITE_NOMEM) {
        /* SQLite's own allocation failed: the machine, not the database */
        corm__err_set(err, CORM_NOMEM, "out of memory opening SQLite database '%s' (%s)", target,
                      what);
        sqlite3_close(db);
        return CORM_NOMEM;
    }
    corm__err_set(err, CORM_CONN, "cannot %s SQLite database '%s': %s", what, target,
                  sqlite3_errmsg(db));
    if (code == SQLITE_NOTADB)
        corm__err_hint(err, "the file exists but is not a SQLite database; check the path");
    else if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        corm__err_hint(err, "another process holds the database locked; retry later");
    else corm__err_hint(err, "check the directory exists and is writable");
    sqlite3_close(db); /* harmless on NULL */
    return CORM_CONN;
}

/* One row of a PRAGMA into *v (text, up to size bytes); -1 on an error. */
static int pragma_text(sqlite3 *db, const char *sql, char *v, size_t size)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int step = sqlite3_step(st);
    const unsigned char *t = step == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(v, size, "%s", t ? (const char *)t : "");
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : -1;
}

/* backend.h.  Measured without it: 44 of 4,000 opens of a new file by two
** processes at once failed with "database is locked". */
int corm__sqlite_exec_waiting(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if ((rc & 0xff) != SQLITE_BUSY) return rc;
    char v[32];
    int limit = pragma_text(db, "PRAGMA busy_timeout", v, sizeof v) == 0 ? atoi(v) : 0;
    for (int waited = 0, step = 1; (rc & 0xff) == SQLITE_BUSY && waited < limit;) {
        sqlite3_sleep(step);
        waited += step;
        if (step < 64) step *= 2;
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    return rc;
}

/* The url's pragmas, then the journal mode and synchronous setting
** (sqlite_opts.c): WAL for a database corm creates unless the url names a
** journal mode, an existing file's mode left alone. */
static int setup_pragmas(sqlite3 *db, const corm__sqlite_opts *o, bool memory)
{
    char v[32];
    if (sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK) return -1;
    /* page_count reads the header: this is where a file that is not a
    ** database is noticed.  0 pages: a new (or empty) file. */
    if (!memory && pragma_text(db, "PRAGMA page_count", v, sizeof v) != 0) return -1;
    bool fresh = !memory && strcmp(v, "0") == 0;
    /* the url's first: its busy_timeout applies to the switch to WAL */
    for (int i = 0; i < o->npragmas; i++)
        if (corm__sqlite_exec_waiting(db, o->pragmas[i]) != SQLITE_OK) return -1;
    if (fresh && !o->journal_mode && !o->read_only &&
        corm__sqlite_exec_waiting(db, "PRAGMA journal_mode=WAL") != SQLITE_OK)
        return -1;
    if (memory || o->synchronous) return 0;
    /* NORMAL is safe in WAL mode only; elsewhere SQLite's FULL stays */
    if (pragma_text(db, "PRAGMA journal_mode", v, sizeof v) != 0) return -1;
    if (strcmp(v, "wal") == 0 &&
        sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

corm_rc corm__sqlite_check_version(int number, const char *text, corm_error *err)
{
    if (number >= CORM__SQLITE_MIN_VERSION) return CORM_OK;
    corm__err_set(err, CORM_DB, "SQLite %s is too old: corm needs %s or later", text ? text : "?",
                  CORM__SQLITE_MIN_TEXT);
    corm__err_hint(err,
                   "corm writes RETURNING, FILTER (WHERE ...) and NULLS FIRST/LAST, which older "
                   "SQLite refuses; link a newer libsqlite3 (Debian 12 has 3.40)");
    return CORM_DB;
}

static corm_rc sqlite_open(const char *target, corm__conn **out, corm_error *err)
{
    *out = NULL;
    corm_rc vrc =
        corm__sqlite_check_version(sqlite3_libversion_number(), sqlite3_libversion(), err);
    if (vrc != CORM_OK) return vrc;
    if (!target || !target[0]) {
        corm__err_set(err, CORM_INVALID, "no SQLite database path given");
        corm__err_hint(err, "use \"sqlite:path/to/file.db\" or \"sqlite::memory:\"");
        return CORM_INVALID;
    }
    corm__sqlite_opts o;
    corm_rc orc = corm__sqlite_opts_parse(target, &o, err);
    if (orc != CORM_OK) return orc;
    sqlite3 *db = NULL;
    int flags = o.read_only ? SQLITE_OPEN_READONLY
                            : SQLITE_OPEN_READWRITE | (o.no_create ? 0 : SQLITE_OPEN_CREATE);
    /* No SQLITE_OPEN_URI: a path is a path, "file:" included. */
    int rc = sqlite3_open_v2(o.path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        corm__sqlite_opts_free(&o);
        return open_fail(db, target, "open", err);
    }
    sqlite3_extended_result_codes(db, 1);
    /* Double-quoted strings are identifiers, never string literals: a
    ** misspelt "column" is an error instead of a silent constant. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);

    bool memory = strcmp(o.path, ":memory:") == 0;
    int prc = setup_pragmas(db, &o, memory);
    corm__sqlite_opts_free(&o);
    if (prc != 0) return open_fail(db, target, "set up", err);

    corm__conn *c = corm__calloc(1, sizeof *c);
    if (!c) {
        sqlite3_close(db);
        corm__err_set(err, CORM_NOMEM, "out of memory opening '%s'", target);
        return CORM_NOMEM;
    }
    c->db = db;
    list_init(&c->lru);
    list_init(&c->loose);
    *out = c;
    return CORM_OK;
}

static void stmt_destroy(corm__stmt *s)
{
    sqlite3_finalize(s->st);
    corm__free(s->sql);
    corm__free(s);
}

static void sqlite_close(corm__conn *c)
{
    if (!c) return;
    while (c->lru.next != &c->lru) {
        corm__stmt *s = c->lru.next;
        list_unlink(s);
        stmt_destroy(s);
    }
    while (c->loose.next != &c->loose) {
        corm__stmt *s = c->loose.next;
        list_unlink(s);
        stmt_destroy(s);
    }
    /* Every statement corm prepared is finalized above.  Others on the
    ** handle belong to SQLite (an FTS5 table's own statements, finalized
    ** when close disconnects it: finalizing them here frees them twice);
    ** close_v2 waits for any left rather than failing. */
    sqlite3_close_v2(c->db);
    corm__free(c);
}

/* ------------------------------------------------------------ cache */

static corm__stmt **bucket(corm__conn *c, uint64_t hash)
{
    return &c->buckets[hash & (NBUCKETS - 1)];
}

static corm__stmt *cache_find(corm__conn *c, const char *sql, size_t len, uint64_t hash)
{
    for (corm__stmt *s = *bucket(c, hash); s; s = s->hnext)
        if (s->hash == hash && s->sql_len == len && memcmp(s->sql, sql, len) == 0) return s;
    return NULL;
}

static void cache_remove(corm__conn *c, corm__stmt *s)
{
    corm__stmt **pp = bucket(c, s->hash);
    while (*pp != s) pp = &(*pp)->hnext;
    *pp = s->hnext;
    list_unlink(s);
    c->ncached--;
}

/* Make room for one more cached statement: evict the least recently used
** idle one.  False when every cached statement is busy. */
static bool cache_make_room(corm__conn *c)
{
    if (c->ncached < CACHE_CAP) return true;
    for (corm__stmt *s = c->lru.prev; s != &c->lru; s = s->prev) {
        if (!s->busy) {
            cache_remove(c, s);
            stmt_destroy(s);
            return true;
        }
    }
    return false;
}

/* Whether the text after a statement holds nothing to run (blanks,
** semicolons, comments).  Only reached when a tail exists: rare. */
static bool only_comments(sqlite3 *db, const char *tail)
{
    while (*tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        if (sqlite3_prepare_v2(db, tail, -1, &st, &next) != SQLITE_OK) return false;
        if (st) {
            sqlite3_finalize(st);
            return false;
        }
        if (!next || next == tail) break;
        tail = next;
    }
    return true;
}

/* Prepare one statement.  SQL with more than one statement is refused:
** query() runs exactly the statement it was given (exec() runs scripts). */
static corm_rc prepare(corm__conn *c, const char *sql, size_t len, unsigned flags,
                       sqlite3_stmt **out, corm_error *err)
{
    *out = NULL;
    if (len > INT_MAX) {
        corm__err_set(err, CORM_INVALID, "SQL text of %zu bytes is too long", len);
        return CORM_INVALID;
    }
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, (int)len + 1, flags, out, &tail);
    if (rc != SQLITE_OK) return fail(c->db, rc, sql, err);
    if (!*out) {
        corm__err_set(err, CORM_MISUSE, "empty SQL statement");
        corm__err_sql(err, sql);
        return CORM_MISUSE;
    }
    if (tail && *tail && !only_comments(c->db, tail)) {
        sqlite3_finalize(*out);
        *out = NULL;
        corm__err_set(err, CORM_MISUSE, "more than one SQL statement in one query");
        corm__err_hint(err, "run one statement per query (corm_exec runs scripts)");
        corm__err_sql(err, sql);
        return CORM_MISUSE;
    }
    return CORM_OK;
}

/* A busy statement for sql (len bytes, hash): the cached one when idle,
** else a new one. */
static corm_rc acquire(corm__conn *c, const char *sql, size_t len, uint64_t hash, corm__stmt **out,
                       corm_error *err)
{
    corm__stmt *s = cache_find(c, sql, len, hash);
    if (s && !s->busy) {
        list_unlink(s);
        list_push_front(&c->lru, s);
        s->busy = true;
        *out = s;
        return CORM_OK;
    }
    /* A statement bigger than CACHE_MAX_SQL (a bulk write's multi-row
    ** INSERT) is prepared for this use only: kept, a few such statements
    ** held megabytes each (bench: bulk_create peak 1.5x raw C's). */
    bool cache = !s && len <= CACHE_MAX_SQL && cache_make_room(c);
    corm__stmt *n = corm__calloc(1, sizeof *n);
    char *key = cache ? corm__strndup(sql, len) : NULL;
    if (!n || (cache && !key)) {
        corm__free(n);
        corm__free(key);
        corm__err_set(err, CORM_NOMEM, "out of memory preparing a statement");
        corm__err_sql(err, sql);
        return CORM_NOMEM;
    }
    sqlite3_stmt *st;
    corm_rc rc = prepare(c, sql, len, cache ? SQLITE_PREPARE_PERSISTENT : 0, &st, err);
    if (rc != CORM_OK) {
        corm__free(n);
        corm__free(key);
        return rc;
    }
    n->st = st;
    n->nparams = sqlite3_bind_parameter_count(st);
    n->conn = c;
    n->busy = true;
    n->cached = cache;
    n->hash = hash;
    if (cache) {
        n->sql = key;
        n->sql_len = len;
        corm__stmt **b = bucket(c, hash);
        n->hnext = *b;
        *b = n;
        list_push_front(&c->lru, n);
        c->ncached++;
    } else {
        list_push_front(&c->loose, n);
    }
    *out = n;
    return CORM_OK;
}

static void sqlite_finish(corm__stmt *s)
{
    if (!s) return;
    assert(s->busy);
    if (!s->cached) {
        list_unlink(s);
        stmt_destroy(s);
        return;
    }
    sqlite3_reset(s->st); /* its error, if any, was reported by step; the
                          ** bindings stay, unread until rebound (above) */
    s->busy = false;
}

/* ------------------------------------------------------------ query */

static corm_rc bind_one(corm__stmt *s, int i, const corm_value *v, corm_error *err, const char *sql)
{
    sqlite3_stmt *st = s->st;
    int rc;
    switch (v->type) {
    case CORM_V_NULL: rc = sqlite3_bind_null(st, i); break;
    case CORM_V_INT: rc = sqlite3_bind_int64(st, i, v->u.i); break;
    case CORM_V_FLOAT: rc = sqlite3_bind_double(st, i, v->u.f); break;
    case CORM_V_BOOL: rc = sqlite3_bind_int(st, i, v->u.b ? 1 : 0); break;
    case CORM_V_TEXT: {
        const char *p = v->u.s.p ? v->u.s.p : "";
        size_t n = v->u.s.n == (size_t)-1 ? strlen(p) : (v->u.s.p ? v->u.s.n : 0);
        /* SQLITE_STATIC: the caller keeps params alive until finish()
        ** (backend.h), and finish() clears the bindings. */
        rc = sqlite3_bind_text64(st, i, p, (sqlite3_uint64)n, SQLITE_STATIC, SQLITE_UTF8);
        break;
    }
    case CORM_V_BLOB:
        /* A NULL pointer would bind SQL NULL: an empty blob is zeroblob(0). */
        if (!v->u.s.p || v->u.s.n == 0) rc = sqlite3_bind_zeroblob(st, i, 0);
        else rc = sqlite3_bind_blob64(st, i, v->u.s.p, (sqlite3_uint64)v->u.s.n, SQLITE_STATIC);
        break;
    case CORM_V_DECIMAL: {
        /* a NUMERIC column keeps a whole number as INTEGER (18 digits
        ** exact) and any other as REAL (15 significant digits exact) */
        int64_t whole;
        if (!corm_dec_valid(v->u.d)) return corm__bad_decimal(i, sql, err);
        if (corm_dec_to_units(v->u.d, 0, &whole)) rc = sqlite3_bind_int64(st, i, whole);
        else rc = sqlite3_bind_double(st, i, corm_dec_to_double(v->u.d));
        break;
    }
    default:
        corm__err_set(err, CORM_MISUSE,
                      "parameter %d is a list (type %d); the backend binds scalars only", i,
                      (int)v->type);
        corm__err_hint(err, "expand lists into one placeholder per element");
        corm__err_sql(err, sql);
        return CORM_MISUSE;
    }
    if (rc == SQLITE_TOOBIG) {
        corm__err_set(err, CORM_INVALID, "parameter %d is larger than SQLite allows", i);
        corm__err_sql(err, sql);
        return CORM_INVALID;
    }
    if (rc != SQLITE_OK) return fail(s->conn->db, rc, sql, err);
    return CORM_OK;
}

static corm_rc sqlite_query_hashed(corm__conn *c, const char *sql, size_t len, uint64_t hash,
                                   const corm_value *params, int nparams, corm__stmt **out,
                                   corm_error *err)
{
    *out = NULL;
    if (!c || !sql || nparams < 0 || (nparams > 0 && !params)) {
        corm__err_set(err, CORM_MISUSE, "bad arguments to the SQLite backend's query");
        if (sql) corm__err_sql(err, sql);
        return CORM_MISUSE;
    }
    corm__stmt *s;
    corm_rc rc = acquire(c, sql, len, hash, &s, err);
    if (rc != CORM_OK) return rc;
    int want = s->nparams;
    if (want != nparams) {
        corm__err_set(err, CORM_MISUSE,
                      "statement has %d placeholder%s but %d parameter%s were given", want,
                      want == 1 ? "" : "s", nparams, nparams == 1 ? "" : "s");
        corm__err_sql(err, sql);
        sqlite_finish(s);
        return CORM_MISUSE;
    }
    for (int i = 0; i < nparams; i++) {
        rc = bind_one(s, i + 1, &params[i], err, sql);
        if (rc != CORM_OK) {
            sqlite_finish(s);
            return rc;
        }
    }
    *out = s;
    return CORM_OK;
}

static corm_rc sqlite_query(corm__conn *c, const char *sql, const corm_value *params, int nparams,
                            corm__stmt **out, corm_error *err)
{
    size_t len = sql ? strlen(sql) : 0;
    return sqlite_query_hashed(c, sql, len, sql ? corm__hash_fast(sql, len) : 0, params, nparams,
                               out, err);
}

static corm_rc sqlite_step(corm__stmt *s, bool *has_row, corm_error *err)
{
    *has_row = false;
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW) {
        *has_row = true;
        return CORM_OK;
    }
    if (rc == SQLITE_DONE) return CORM_OK;
    return fail(s->conn->db, rc, sqlite3_sql(s->st), err);
}

static int sqlite_column_count(corm__stmt *s) { return sqlite3_column_count(s->st); }

static bool sqlite_column_null(corm__stmt *s, int i)
{
    return sqlite3_column_type(s->st, i) == SQLITE_NULL;
}

static int64_t sqlite_column_int(corm__stmt *s, int i) { return sqlite3_column_int64(s->st, i); }

static double sqlite_column_double(corm__stmt *s, int i) { return sqlite3_column_double(s->st, i); }

static const char *sqlite_column_text(corm__stmt *s, int i, size_t *len)
{
    /* text first, then bytes: the documented safe order */
    const char *p = (const char *)sqlite3_column_text(s->st, i);
    if (len) *len = (size_t)sqlite3_column_bytes(s->st, i);
    return p;
}

static const void *sqlite_column_blob(corm__stmt *s, int i, size_t *len)
{
    const void *p = sqlite3_column_blob(s->st, i);
    if (len) *len = (size_t)sqlite3_column_bytes(s->st, i);
    return p;
}

/* The NULL test and the read in one call (backend.h): one
** sqlite3_column_value, where sqlite3_column_type and then
** sqlite3_column_int64 (or _double, _text) each look the cell up, each
** through the library's API exit.  The sqlite3_value_* readers convert as
** the sqlite3_column_* ones do (they are what those call); a value read
** so is "not threadsafe" (sqlite3.h), as a NOMUTEX connection already is.
** A conversion to text or blob that returns no memory is asked again
** through sqlite3_column_*, which records the out-of-memory on the
** statement as the plain call would. */
static corm_vtype sqlite_column_cell(corm__stmt *s, int i, corm_vtype want, corm_value *out)
{
    /* by SQLITE_INTEGER (1), _FLOAT, _TEXT, _BLOB, _NULL (5) */
    static const corm_vtype own[] = {CORM_V_BLOB, CORM_V_INT,  CORM_V_FLOAT,
                                     CORM_V_TEXT, CORM_V_BLOB, CORM_V_NULL};
    sqlite3_value *v = sqlite3_column_value(s->st, i);
    int t = sqlite3_value_type(v);
    if (t == SQLITE_NULL) return CORM_V_NULL;
    if (want == CORM_V_NULL) want = own[(unsigned)t < 6 ? t : 0];
    out->type = want;
    if (want == CORM_V_INT) {
        out->u.i = sqlite3_value_int64(v);
    } else if (want == CORM_V_TEXT) {
        out->u.s.p = (const char *)sqlite3_value_text(v);
        if (out->u.s.p) out->u.s.n = (size_t)sqlite3_value_bytes(v);
        else out->u.s.p = sqlite_column_text(s, i, &out->u.s.n);
    } else if (want == CORM_V_FLOAT) {
        out->u.f = sqlite3_value_double(v);
    } else {
        out->u.s.p = sqlite3_value_blob(v);
        if (out->u.s.p) out->u.s.n = (size_t)sqlite3_value_bytes(v);
        else out->u.s.p = sqlite_column_blob(s, i, &out->u.s.n);
    }
    return want;
}

/* ------------------------------------------------------- connection */

static int64_t sqlite_changes(corm__conn *c) { return sqlite3_changes64(c->db); }

static int64_t sqlite_last_insert_id(corm__conn *c) { return sqlite3_last_insert_rowid(c->db); }

static corm_rc sqlite_exec(corm__conn *c, const char *sql, corm_error *err)
{
    if (!c || !sql) {
        corm__err_set(err, CORM_MISUSE, "bad arguments to the SQLite backend's exec");
        return CORM_MISUSE;
    }
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return fail(c->db, rc, sql, err);
    return CORM_OK;
}

static bool sqlite_in_transaction(corm__conn *c) { return !sqlite3_get_autocommit(c->db); }

int corm__sqlite_cache_count(const corm__conn *c) { return c ? c->ncached : 0; }

static corm_vtype sqlite_column_type(corm__stmt *s, int i)
{
    switch (sqlite3_column_type(s->st, i)) {
    case SQLITE_INTEGER: return CORM_V_INT;
    case SQLITE_FLOAT: return CORM_V_FLOAT;
    case SQLITE_TEXT: return CORM_V_TEXT;
    case SQLITE_BLOB: return CORM_V_BLOB;
    default: return CORM_V_NULL;
    }
}

static const char *sqlite_column_name(corm__stmt *s, int i)
{
    const char *n = sqlite3_column_name(s->st, i);
    return n ? n : "";
}

const corm__backend corm__sqlite_backend = {
    .vendor = "sqlite",
    .max_params = 32766,
    .open = sqlite_open,
    .close = sqlite_close,
    .query = sqlite_query,
    .query_hashed = sqlite_query_hashed,
    .step = sqlite_step,
    .column_count = sqlite_column_count,
    .column_null = sqlite_column_null,
    .column_int = sqlite_column_int,
    .column_double = sqlite_column_double,
    .column_text = sqlite_column_text,
    .column_blob = sqlite_column_blob,
    .column_type = sqlite_column_type,
    .column_cell = sqlite_column_cell,
    .column_name = sqlite_column_name,
    .finish = sqlite_finish,
    .changes = sqlite_changes,
    .last_insert_id = sqlite_last_insert_id,
    .exec = sqlite_exec,
    .in_transaction = sqlite_in_transaction,
};
