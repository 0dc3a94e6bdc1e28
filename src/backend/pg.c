/*
** pg.c - the PostgreSQL backend: one libpq connection, its cache of named
** prepared statements, error mapping and reconnection.
**
** Statements.  Every parameterized statement, and every SELECT / INSERT /
** UPDATE / DELETE / WITH / VALUES, runs through the unnamed statement
** (PQexecParams, one round trip) until its prepare_threshold-th run on the
** connection (the url's "prepare_threshold=N", pg_opts.c; default
** CORM__PG_PREPARE_THRESHOLD, 5), which prepares it under a name
** ("corm_17", PQprepare for the number of parameters given); later runs
** use PQexecPrepared: a statement run once costs one round trip and
** nothing on the server (JDBC's prepareThreshold; psycopg's
** prepare_threshold counts one less).  Threshold 1 prepares a statement on
** its first run; 0 never prepares, nor remembers, any.
** The texts live in a hash table keyed by the SQL text; the prepared ones
** on an LRU list bounding them at CACHE_CAP (an evicted statement is
** DEALLOCATEd), the ones seen but not prepared on another (seen), bounded
** the same way, so one-off statements never evict a prepared one.  The
** statement path hands in the text's length and hash (query_hashed); an
** entry is taken only for the same text, length and bytes.  Other
** statements (BEGIN, COMMIT, SAVEPOINT, DDL) always run unnamed: nothing
** kept.  A query's result is read whole (PQexecPrepared), so a statement
** is never "busy": nested queries with the same SQL (a lazy load inside a
** loop over the same query) just execute the name again.  The exception is
** query_stream (the iterator): a server-side cursor read FETCH by FETCH.
**
** Values.  Parameters go as text with their types left to the server,
** which infers them from the statement when preparing it (so "5" binds an
** integer, a bigint or a numeric alike, and '{1,2}' an int8[] for
** `= ANY($1)`); blobs go in binary.  Results come back as text by default
** (docs/postgresql.md has the measurements against binary results, which
** corm__pg_set_binary turns on for the benchmark).
**
** Failures.  A statement that finds the connection gone fails with
** CORM_CONN and is never re-run: corm cannot know whether a write reached
** the server.  The connection is marked lost and reconnected (PQreset) at
** the start of the next call.  If a transaction was open, the message says
** it was lost, and every later statement is refused (tx_lost_gate) until
** the application ends the transaction.  SQLSTATEs map to corm_rc (23xxx -> CORM_CONSTRAINT,
** 40001/40P01/55P03 -> CORM_BUSY, 08xxx/57P0x -> CORM_CONN, ...) and the
** code itself is kept in corm_error.sqlstate.
**
** Session.  Every connection (and reconnection) runs with TimeZone UTC
** (datetime fields are naive UTC, as CURRENT_TIMESTAMP on SQLite),
** DateStyle ISO and client_encoding UTF8.
**
** Threads: a connection is used by one thread at a time (corm_db rule).
*/
#include "backend.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_CAP 256    /* prepared statements per connection */
#define NBUCKETS 512     /* power of two, 2 x CACHE_CAP */
#define MAX_FREE_STMTS 8 /* result holders kept for reuse */

#define SESSION_SETUP "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3"

/* type OIDs (catalog/pg_type_d.h, stable) */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_UNKNOWN = 705,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
    OID_JSONB = 3802
};

/* A statement prepared on the server, by SQL text. */
typedef struct entry {
    char *sql;
    size_t len;
    uint64_t hash; /* query_hashed's hash of sql */
    char name[24]; /* "" until prepared (prepare_threshold) */
    int nparams;
    int runs;                  /* unnamed runs so far, while not prepared */
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* LRU: conn->lru.next is the most recent */
} entry;

/* A cell decoded for column_text/column_blob: bytea, or binary values. */
typedef struct cell {
    char *p;
    size_t len, cap;
    int row; /* the row it was decoded for, -1 none */
} cell;

struct corm__stmt {
    corm__conn *conn;
    PGresult *res;
    int row, nrows, ncols;
    bool binary;
    cell *cells; /* per column, allocated on first use */
    int ncells;
    corm__stmt *next_free;
    /* query_stream: the server-side cursor the rows come from */
    char cursor[32]; /* "" when none is open */
    int fetch;       /* rows per FETCH */
    bool more;       /* the last FETCH filled a whole chunk */
    /* The cursor lives in the transaction corm opened to stream it
    ** (conn->streams, next_stream): see "streaming" below. */
    bool held;
    bool dead;      /* its rows were lost with that transaction */
    PGresult *rest; /* the rows left, read when the transaction ended */
    corm__stmt *next_stream;
};

struct corm__conn {
    PGconn *pg;
    entry *buckets[NBUCKETS];
    entry lru;     /* prepared statements, most recent first (sentinel) */
    entry seen;    /* statements seen but not prepared yet, the same way */
    int nprepared; /* on lru, at most CACHE_CAP */
    int nseen;     /* on seen, at most CACHE_CAP */
    int64_t calls; /* statement-path server calls (round trips) */
    int threshold; /* prepared on this run; 0 never (corm__pg_opts) */
    unsigned next_name;
    bool lost;    /* reconnect before the next statement */
    bool tx_lost; /* a transaction died with the connection:
                                ** refuse statements until it is ended */
    bool binary;  /* result format */
    int64_t changes;
    /* parameter scratch, grown to the largest call */
    const char **pvals;
    int *plens, *pfmts;
    size_t *poffs;
    int pcap;
    corm_buf ptext;
    corm__stmt *free_stmts;
    int nfree;
    /* Cursors streaming in a transaction corm opened for them (no
    ** transaction of the application is open): see "streaming" below. */
    corm__stmt *streams;
};

static void stream_forget(corm__conn *c, bool rows_lost);
static corm_rc stream_gate(corm__conn *c, const char *sql, bool read, corm_error *err);

/* ------------------------------------------------------------ errors */

static bool state_is(const char *st, const char *code) { return st && strcmp(st, code) == 0; }
static bool state_class(const char *st, const char *cls) { return st && strncmp(st, cls, 2) == 0; }

static corm_rc map_sqlstate(const char *st)
{
    if (!st || strlen(st) != 5) return CORM_DB;
    if (state_class(st, "23")) return CORM_CONSTRAINT;
    if (state_class(st, "08")) return CORM_CONN;
    if (state_is(st, "57P01") || state_is(st, "57P02") || state_is(st, "57P03")) return CORM_CONN;
    if (state_is(st, "40001") || state_is(st, "40P01") || state_is(st, "55P03")) return CORM_BUSY;
    if (state_is(st, "53200")) return CORM_NOMEM;
    if (state_class(st, "22")) return CORM_INVALID;
    if (state_class(st, "58")) return CORM_IO;
    return CORM_DB;
}

static const char *constraint_hint(const char *st)
{
    if (state_is(st, "23505"))
        return "a row with this value already exists; look it up first or change the value";
    if (state_is(st, "23502")) return "give the field a value, or declare it `null` in the schema";
    if (state_is(st, "23503"))
        return "the referenced row does not exist (or rows still refer to this one)";
    if (state_is(st, "23514")) return "the value is outside what the column's CHECK allows";
    return "";
}

/* libpq's messages end in a newline and may span lines: one line. */
static void one_line(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    char *w = s;
    bool space = false;
    for (char *r = s; *r; r++) {
        if (*r == '\n' || *r == '\t' || *r == '\r' || *r == ' ') {
            space = true;
            continue;
        }
        if (space && w != s) *w++ = ' ';
        space = false;
        *w++ = *r;
    }
    *w = '\0';
}

static corm_rc lost_error(corm__conn *c, bool in_tx, const char *sql, corm_error *err)
{
    char msg[400];
    corm__strlcpy(msg, PQerrorMessage(c->pg), sizeof msg);
    one_line(msg);
    c->lost = true;
    /* the transaction corm opened to stream a cursor is not the caller's */
    if (c->streams) in_tx = false;
    stream_forget(c, true);
    if (in_tx) c->tx_lost = true;
    corm__err_set(
        err, CORM_CONN, "lost the connection to the PostgreSQL server%s%s%s", msg[0] ? ": " : "",
        msg, in_tx ? "; the open transaction was lost with it (nothing of it was committed)" : "");
    if (in_tx)
        corm__err_hint(err, "roll back (corm_rollback) and run the whole transaction again; "
                            "the connection is re-established on the next call");
    else
        corm__err_hint(err, "the connection is re-established on the next call; the statement "
                            "was not retried: if it was a write, check whether it was applied");
    corm__strlcpy(err->sqlstate, "08006", sizeof err->sqlstate);
    if (sql) corm__err_sql(err, sql);
    return CORM_CONN;
}

/* Fill err from a failed result (res may be NULL: out of memory or the
** connection).  in_tx: a transaction was open before the call. */
static corm_rc fail(corm__conn *c, const PGresult *res, const char *sql, bool in_tx,
                    corm_error *err)
{
    if (PQstatus(c->pg) == CONNECTION_BAD) return lost_error(c, in_tx, sql, err);
    if (!res) {
        corm__err_set(err, CORM_NOMEM, "out of memory running a PostgreSQL statement");
        if (sql) corm__err_sql(err, sql);
        return CORM_NOMEM;
    }
    const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    corm_rc rc = map_sqlstate(st);
    /* the parameters given do not match the placeholders (prepare()) */
    bool misuse = state_is(st, "08P01") || state_is(st, "42P18");
    if (misuse) rc = CORM_MISUSE;
    char msg[400];
    if (primary) corm__strlcpy(msg, primary, sizeof msg);
    else corm__strlcpy(msg, PQresultErrorMessage(res), sizeof msg);
    one_line(msg);
    if (detail) {
        char d[300];
        corm__strlcpy(d, detail, sizeof d);
        one_line(d);
        corm__err_set(err, rc, "%s: %s", msg, d);
    } else {
        corm__err_set(err, rc, "%s", msg[0] ? msg : "PostgreSQL statement failed");
    }
    if (rc == CORM_CONSTRAINT) corm__err_hint(err, "%s", constraint_hint(st));
    else if (state_is(st, "42P01"))
        corm__err_hint(err, "the table does not exist: is the database migrated? Run the "
                            "migrations (corm migrate, or corm_migrate)");
    else if (state_is(st, "53100")) {
        rc = err->rc = CORM_IO;
        corm__err_hint(err, "the server's disk is full: free space, then retry; nothing of "
                            "the statement was written");
    } else if (misuse)
        corm__err_hint(err, "give exactly one parameter per placeholder ($1, $2, ...)");
    else if (state_is(st, "25P02"))
        corm__err_hint(err, "a statement of this transaction failed earlier, so PostgreSQL "
                            "refuses the rest: corm_rollback; wrap a statement that may fail "
                            "in a nested corm_begin (a savepoint)");
    else if (rc == CORM_BUSY)
        corm__err_hint(err, "another transaction holds what this one needs; retry the "
                            "transaction");
    else if (hint) {
        char h[400];
        corm__strlcpy(h, hint, sizeof h);
        one_line(h);
        corm__err_hint(err, "%s", h);
    }
    if (st) corm__strlcpy(err->sqlstate, st, sizeof err->sqlstate);
    if (sql) corm__err_sql(err, sql);
    return rc;
}

/* ------------------------------------------------------------ lists */

static void list_init(entry *head) { head->prev = head->next = head; }

static void list_unlink(entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(entry *head, entry *e)
{
    e->next = head->next;
    e->prev = head;
    head->next->prev = e;
    head->next = e;
}

/* ------------------------------------------------------------ cache */

static entry **bucket(corm__conn *c, uint64_t hash) { return &c->buckets[hash & (NBUCKETS - 1)]; }

static entry *cache_find(corm__conn *c, const char *sql, size_t len, uint64_t hash)
{
    for (entry *e = *bucket(c, hash); e; e = e->hnext)
        if (e->hash == hash && e->len == len && memcmp(e->sql, sql, len) == 0) return e;
    return NULL;
}

static void entry_free(entry *e)
{
    corm__free(e->sql);
    corm__free(e);
}

static void cache_remove(corm__conn *c, entry *e)
{
    entry **pp = bucket(c, e->hash);
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    list_unlink(e);
    if (e->name[0]) c->nprepared--;
    else c->nseen--;
}

/* Forget every statement without telling the server (a new session has
** none, or the session is gone). */
static void cache_clear(corm__conn *c)
{
    for (entry *head = &c->lru; head; head = head == &c->lru ? &c->seen : NULL)
        while (head->next != head) {
            entry *e = head->next;
            cache_remove(c, e);
            entry_free(e);
        }
}

/* Drop a statement and DEALLOCATE it on the server.  In a failed
** transaction the server refuses DEALLOCATE; the name then stays on the
** server until the session ends (names are never reused). */
static void cache_evict(corm__conn *c, entry *e)
{
    cache_remove(c, e);
    if (e->name[0] && !c->lost && PQtransactionStatus(c->pg) != PQTRANS_INERROR) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", e->name);
        c->calls++;
        PQclear(PQexec(c->pg, sql));
    }
    entry_free(e);
}

/* Whether sql is kept prepared: parameterized, or a query/DML, and not a
** huge text (a bulk write's multi-row statement would pin server memory
** for one use; sqlite.c keeps the same limit). */
static bool cacheable(const char *sql, size_t len, int nparams)
{
    if (len > 16384) return false;
    if (nparams > 0) return true;
    while (isspace((unsigned char)*sql) || *sql == '(') sql++;
    static const char *const words[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES"};
    for (size_t i = 0; i < CORM__ARRAY_LEN(words); i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(sql, words[i], n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_')
            return true;
    }
    return false;
}

/* Remember sql, run for nparams parameters, as seen once (not prepared).
** Out of memory it is just not remembered: the next run is unnamed too. */
static entry *cache_add(corm__conn *c, const char *sql, size_t len, uint64_t hash, int nparams)
{
    if (c->nseen >= CACHE_CAP) cache_evict(c, c->seen.prev);
    entry *e = corm__calloc(1, sizeof *e);
    char *key = corm__strndup(sql, len);
    if (!e || !key) {
        corm__free(e);
        corm__free(key);
        return NULL;
    }
    e->sql = key;
    e->len = len;
    e->hash = hash;
    e->nparams = nparams;
    e->runs = 1;
    entry **b = bucket(c, hash);
    e->hnext = *b;
    *b = e;
    list_push_front(&c->seen, e);
    c->nseen++;
    return e;
}

/* Prepare a remembered statement under a new name for its number of
** parameters (their types left to the server).  The count is not asked
** back with PQdescribePrepared: libpq before 17 takes a
** ParameterDescription longer than 30,000 bytes (about 7,500 parameters,
** which a bulk INSERT reaches) for a broken connection.  A count that
** does not match the placeholders fails on the server instead: too many
** with 42P18 at PREPARE, too few with 08P01 at execution; both become
** CORM_MISUSE (fail()).  On failure the entry is dropped. */
static corm_rc prepare(corm__conn *c, entry *e, bool in_tx, corm_error *err)
{
    if (c->nprepared >= CACHE_CAP) cache_evict(c, c->lru.prev);
    snprintf(e->name, sizeof e->name, "corm_%u", ++c->next_name);
    c->calls++;
    PGresult *res = PQprepare(c->pg, e->name, e->sql, e->nparams, NULL);
    corm_rc rc = CORM_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) rc = fail(c, res, e->sql, in_tx, err);
    PQclear(res);
    if (rc != CORM_OK) {
        e->name[0] = '\0';
        cache_remove(c, e);
        entry_free(e);
        return rc;
    }
    list_unlink(e); /* from seen to lru */
    c->nseen--;
    list_push_front(&c->lru, e);
    c->nprepared++;
    return CORM_OK;
}

/* ------------------------------------------------------- open / close */

static corm_rc setup_session(corm__conn *c, corm_error *err)
{
    PGresult *res = PQexec(c->pg, SESSION_SETUP);
    corm_rc rc = CORM_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail(c, res, SESSION_SETUP, false, err);
    PQclear(res);
    return rc;
}

/* libpq prints NOTICEs and WARNINGs on stderr by default; a library must
** not write on its application's stderr.  What matters reaches corm as an
** error or a result. */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static corm_rc connect_fail(PGconn *pg, const char *what, corm_error *err)
{
    char msg[400];
    corm__strlcpy(msg, pg ? PQerrorMessage(pg) : "out of memory", sizeof msg);
    one_line(msg);
    corm__err_set(err, CORM_CONN, "cannot %s the PostgreSQL server: %s", what, msg);
    corm__err_hint(err, "check that the server runs and the url names it: "
                        "\"postgresql://user@host:port/dbname\", "
                        "\"postgresql:///dbname?host=/run/postgresql\" or "
                        "\"postgresql:host=... dbname=...\"");
    return CORM_CONN;
}

static corm_rc pg_open(const char *target, corm__conn **out, corm_error *err)
{
    *out = NULL;
    if (!target || !target[0]) {
        corm__err_set(err, CORM_INVALID, "no PostgreSQL connection string given");
        corm__err_hint(err, "use \"postgresql://user@host:port/dbname\"");
        return CORM_INVALID;
    }
    corm__pg_opts o;
    corm_rc rc = corm__pg_opts_parse(target, &o, err);
    if (rc != CORM_OK) return rc;
    /* the url's own settings win, except the encoding corm reads text in */
    const char *const keys[] = {"fallback_application_name", "dbname", "client_encoding", NULL};
    const char *const vals[] = {"corm", o.conninfo, "UTF8", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    corm__pg_opts_free(&o);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        rc = connect_fail(pg, "connect to", err);
        PQfinish(pg);
        return rc;
    }
    if (PQserverVersion(pg) < 100000) {
        corm__err_set(err, CORM_CONN, "PostgreSQL %d.%d is too old", PQserverVersion(pg) / 10000,
                      PQserverVersion(pg) / 100 % 100);
        corm__err_hint(err, "corm needs PostgreSQL 10 or later (identity columns)");
        PQfinish(pg);
        return CORM_CONN;
    }
    PQsetNoticeProcessor(pg, quiet_notices, NULL); /* kept across PQreset */
    corm__conn *c = corm__calloc(1, sizeof *c);
    if (!c) {
        PQfinish(pg);
        corm__err_set(err, CORM_NOMEM, "out of memory opening a PostgreSQL connection");
        return CORM_NOMEM;
    }
    c->pg = pg;
    c->threshold = o.prepare_threshold;
    list_init(&c->lru);
    list_init(&c->seen);
    corm__buf_init(&c->ptext);
    rc = setup_session(c, err);
    if (rc != CORM_OK) {
        PQfinish(pg);
        corm__free(c);
        return rc;
    }
    *out = c;
    return CORM_OK;
}

static void stmt_destroy(corm__stmt *s)
{
    for (int i = 0; i < s->ncells; i++) corm__free(s->cells[i].p);
    corm__free(s->cells);
    corm__free(s);
}

static void pg_close(corm__conn *c)
{
    if (!c) return;
    cache_clear(c); /* the server drops the session's statements itself */
    while (c->free_stmts) {
        corm__stmt *s = c->free_stmts;
        c->free_stmts = s->next_free;
        stmt_destroy(s);
    }
    PQfinish(c->pg);
    corm__free(c->pvals);
    corm__free(c->plens);
    corm__free(c->pfmts);
    corm__free(c->poffs);
    corm__buf_free(&c->ptext);
    corm__free(c);
}

/* The next call after a lost connection: a new session (PQreset). */
static corm_rc reconnect(corm__conn *c, corm_error *err)
{
    stream_forget(c, true); /* its cursors end with the session */
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        connect_fail(c->pg, "reconnect to", err);
        corm__err_hint(err, "the connection was lost earlier and the server does not answer "
                            "yet; the next call tries again");
        corm__strlcpy(err->sqlstate, "08001", sizeof err->sqlstate);
        return CORM_CONN;
    }
    cache_clear(c);
    c->lost = false;
    corm_rc rc = setup_session(c, err);
    if (rc != CORM_OK) c->lost = PQstatus(c->pg) == CONNECTION_BAD;
    return rc;
}

static corm_rc ensure_connected(corm__conn *c, corm_error *err)
{
    if (c->lost || PQstatus(c->pg) == CONNECTION_BAD) return reconnect(c, err);
    return CORM_OK;
}

/* ------------------------------------------------------------ params */

static corm_rc grow_params(corm__conn *c, int n, corm_error *err)
{
    if (n <= c->pcap) return CORM_OK;
    int cap = c->pcap ? c->pcap : 16;
    while (cap < n) cap *= 2;
    const char **v = corm__realloc((void *)c->pvals, (size_t)cap * sizeof *v);
    if (v) c->pvals = v;
    int *l = corm__realloc(c->plens, (size_t)cap * sizeof *l);
    if (l) c->plens = l;
    int *f = corm__realloc(c->pfmts, (size_t)cap * sizeof *f);
    if (f) c->pfmts = f;
    size_t *o = corm__realloc(c->poffs, (size_t)cap * sizeof *o);
    if (o) c->poffs = o;
    if (!v || !l || !f || !o) {
        corm__err_set(err, CORM_NOMEM, "out of memory binding %d parameters", n);
        return CORM_NOMEM;
    }
    c->pcap = cap;
    return CORM_OK;
}

#define NO_OFF ((size_t)-1)

/* Parameters as libpq wants them: text (NUL-terminated) or binary blobs.
** Formatted numbers and copied strings go to c->ptext; their pointers are
** fixed once everything is written (the buffer may move while growing). */
static corm_rc bind_params(corm__conn *c, const char *sql, const corm_value *params, int n,
                           corm_error *err)
{
    corm_rc rc = grow_params(c, n, err);
    if (rc != CORM_OK) return rc;
    corm__buf_reset(&c->ptext);
    for (int i = 0; i < n; i++) {
        const corm_value *v = &params[i];
        c->pvals[i] = NULL;
        c->plens[i] = 0;
        c->pfmts[i] = 0;
        c->poffs[i] = NO_OFF;
        switch (v->type) {
        case CORM_V_NULL: break;
        case CORM_V_INT:
            c->poffs[i] = c->ptext.len;
            corm__buf_addi(&c->ptext, v->u.i); /* not printf: ~350 instructions less */
            corm__buf_addc(&c->ptext, '\0');
            break;
        case CORM_V_FLOAT:
            c->poffs[i] = c->ptext.len;
            if (isnan(v->u.f)) corm__buf_adds(&c->ptext, "NaN");
            else if (isinf(v->u.f))
                corm__buf_adds(&c->ptext, v->u.f > 0 ? "Infinity" : "-Infinity");
            else corm__buf_addf(&c->ptext, "%.17g", v->u.f);
            corm__buf_addc(&c->ptext, '\0');
            break;
        case CORM_V_BOOL: c->pvals[i] = v->u.b ? "t" : "f"; break;
        case CORM_V_DECIMAL: {
            char dec[CORM_DEC_BUF];
            if (!corm_dec_valid(v->u.d)) return corm__bad_decimal(i + 1, sql, err);
            c->poffs[i] = c->ptext.len;
            corm__buf_adds(&c->ptext, corm_dec_format(v->u.d, dec));
            corm__buf_addc(&c->ptext, '\0');
            break;
        }
        case CORM_V_TEXT: {
            const char *p = v->u.s.p ? v->u.s.p : "";
            if (v->u.s.n == (size_t)-1) {
                c->pvals[i] = p;
                break;
            }
            size_t len = v->u.s.p ? v->u.s.n : 0;
            if (memchr(p, '\0', len)) {
                corm__err_set(err, CORM_INVALID,
                              "parameter %d holds a NUL byte, which "
                              "PostgreSQL text cannot store",
                              i + 1);
                corm__err_hint(err, "store binary data in a blob field (corm_blobv)");
                corm__err_sql(err, sql);
                return CORM_INVALID;
            }
            c->poffs[i] = c->ptext.len;
            corm__buf_add(&c->ptext, p, len);
            corm__buf_addc(&c->ptext, '\0');
            break;
        }
        case CORM_V_BLOB:
            if (v->u.s.n > INT_MAX) {
                corm__err_set(err, CORM_INVALID, "parameter %d is larger than PostgreSQL allows",
                              i + 1);
                corm__err_sql(err, sql);
                return CORM_INVALID;
            }
            c->pvals[i] = v->u.s.p && v->u.s.n ? v->u.s.p : "";
            c->plens[i] = (int)v->u.s.n;
            c->pfmts[i] = 1;
            break;
        default:
            corm__err_set(err, CORM_MISUSE,
                          "parameter %d is a list (type %d); the backend binds scalars only", i + 1,
                          (int)v->type);
            corm__err_hint(err, "write lists as one array parameter (`= ANY($1)`)");
            corm__err_sql(err, sql);
            return CORM_MISUSE;
        }
    }
    if (c->ptext.oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory binding parameters");
        return CORM_NOMEM;
    }
    for (int i = 0; i < n; i++)
        if (c->poffs[i] != NO_OFF) c->pvals[i] = c->ptext.p + c->poffs[i];
    return CORM_OK;
}

/* ------------------------------------------------------------ query */

static corm__stmt *stmt_new(corm__conn *c)
{
    corm__stmt *s = c->free_stmts;
    if (s) {
        c->free_stmts = s->next_free;
        c->nfree--;
    } else {
        s = corm__calloc(1, sizeof *s);
        if (!s) return NULL;
    }
    s->conn = c;
    s->next_free = NULL;
    return s;
}

/* Whether the failure of a cached statement means only that the server's
** copy is gone or stale (DISCARD ALL, a changed table): prepare it again.
** Only outside a transaction, where the failure aborted nothing. */
static bool stale_statement(const PGresult *res)
{
    const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state_is(st, "26000")) return true; /* prepared statement does not exist */
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    return state_is(st, "0A000") && msg && strstr(msg, "cached plan must not change result type");
}

/* Whether sql is exactly one of the words (any case, blanks and ';'
** around), e.g. "COMMIT" / "END". */
static bool is_word(const char *sql, const char *const *words, size_t n)
{
    while (isspace((unsigned char)*sql)) sql++;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(words[i]);
        if (strncasecmp(sql, words[i], len) != 0) continue;
        const char *p = sql + len;
        while (isspace((unsigned char)*p) || *p == ';') p++;
        if (*p == '\0') return true;
    }
    return false;
}

static bool is_commit(const char *sql)
{
    static const char *const w[] = {"COMMIT", "END"};
    return is_word(sql, w, 2);
}

static bool is_rollback(const char *sql)
{
    static const char *const w[] = {"ROLLBACK", "ABORT"};
    return is_word(sql, w, 2);
}

/* The statements after a transaction was lost with its connection.  The
** application believes it is in a transaction: running its next
** statements in autocommit on a new connection would apply half of it.  So
** everything is refused until it ends the transaction: ROLLBACK succeeds
** (the server already rolled back) and COMMIT fails.  Returns CORM_OK when
** the statement may run, *skip when it is answered here (ROLLBACK). */
static corm_rc tx_lost_gate(corm__conn *c, const char *sql, bool *skip, corm_error *err)
{
    *skip = false;
    if (!c->tx_lost) return CORM_OK;
    if (is_rollback(sql)) {
        c->tx_lost = false;
        *skip = true;
        c->changes = 0;
        return CORM_OK;
    }
    bool commit = is_commit(sql);
    if (commit) c->tx_lost = false;
    corm__err_set(err, CORM_CONN,
                  "%s: the transaction was lost with the connection to the "
                  "PostgreSQL server; nothing of it was committed",
                  commit ? "COMMIT failed" : "statement refused");
    corm__err_hint(err, commit ? "run the whole transaction again"
                               : "end the transaction with corm_rollback (once per corm_begin "
                                 "level), then run it again");
    corm__strlcpy(err->sqlstate, "08006", sizeof err->sqlstate);
    corm__err_sql(err, sql);
    return CORM_CONN;
}

/* A COMMIT of a transaction that had failed is answered "ROLLBACK", not
** an error: corm makes it one, so a lost transaction is never reported as
** committed. */
static corm_rc commit_rolled_back(const char *sql, corm_error *err)
{
    corm__err_set(err, CORM_DB,
                  "COMMIT rolled back the transaction: a statement of it had "
                  "failed, so PostgreSQL discarded all of it");
    corm__err_hint(err, "find the first error of the transaction; wrap a statement that may "
                        "fail in a nested corm_begin (a savepoint)");
    corm__strlcpy(err->sqlstate, "25P02", sizeof err->sqlstate);
    corm__err_sql(err, sql);
    return CORM_DB;
}

/* Check a result; on success remember the changed-row count. */
static corm_rc check_result(corm__conn *c, PGresult *res, const char *sql, bool in_tx,
                            corm_error *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY)
        return fail(c, res, sql, in_tx, err);
    /* the count's digits ("" when the command has none), without strtoll:
    ** every statement passes here */
    int64_t changes = 0;
    for (const char *n = PQcmdTuples(res); n && *n >= '0' && *n <= '9'; n++)
        changes = changes * 10 + (*n - '0');
    c->changes = changes;
    if (st == PGRES_COMMAND_OK && in_tx && is_commit(sql) &&
        strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        return commit_rolled_back(sql, err);
    return CORM_OK;
}

static corm_rc pg_query_hashed(corm__conn *c, const char *sql, size_t len, uint64_t hash,
                               const corm_value *params, int nparams, corm__stmt **out,
                               corm_error *err)
{
    *out = NULL;
    if (!c || !sql || nparams < 0 || (nparams > 0 && !params)) {
        corm__err_set(err, CORM_MISUSE, "bad arguments to the PostgreSQL backend's query");
        if (sql) corm__err_sql(err, sql);
        return CORM_MISUSE;
    }
    bool skip;
    corm_rc rc = tx_lost_gate(c, sql, &skip, err);
    if (rc != CORM_OK) return rc;
    if (skip) {
        /* answered without the server: an empty result */
        corm__stmt *s = stmt_new(c);
        if (!s) {
            corm__err_set(err, CORM_NOMEM, "out of memory");
            return CORM_NOMEM;
        }
        s->res = NULL;
        s->row = -1;
        s->nrows = s->ncols = 0;
        *out = s;
        return CORM_OK;
    }
    rc = ensure_connected(c, err);
    if (rc != CORM_OK) return rc;
    if ((rc = stream_gate(c, sql, true, err)) != CORM_OK) return rc;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    bool in_tx = ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
    rc = bind_params(c, sql, params, nparams, err);
    if (rc != CORM_OK) return rc;
    int fmt = c->binary ? 1 : 0;
    PGresult *res;
    if (cacheable(sql, len, nparams) && ts != PQTRANS_INERROR) {
        /* threshold 0 remembers nothing (cache_add below), so e is NULL */
        entry *e = cache_find(c, sql, len, hash);
        if (e && e->nparams != nparams) {
            corm__err_set(err, CORM_MISUSE,
                          "statement has %d placeholder%s but %d parameter%s were given",
                          e->nparams, e->nparams == 1 ? "" : "s", nparams, nparams == 1 ? "" : "s");
            corm__err_hint(err, "give exactly one parameter per placeholder ($1, $2, ...)");
            corm__err_sql(err, sql);
            return CORM_MISUSE;
        }
        if (e) {
            list_unlink(e);
            list_push_front(e->name[0] ? &c->lru : &c->seen, e);
        } else if (c->threshold == 1) {
            e = cache_add(c, sql, len, hash, nparams); /* prepared below */
        }
        if (!e || (!e->name[0] && e->runs + 1 < c->threshold)) {
            /* not seen before, or not often enough: unnamed */
            c->calls++;
            res = PQexecParams(c->pg, sql, nparams, NULL, c->pvals, c->plens, c->pfmts, fmt);
            /* a statement whose run failed is not remembered: its
            ** parameter count may be wrong (08P01), and a failure is rare */
            if (res && PQresultStatus(res) != PGRES_FATAL_ERROR) {
                if (e) e->runs++;
                else if (c->threshold) (void)cache_add(c, sql, len, hash, nparams);
            }
        } else {
            bool fresh = !e->name[0];
            if (fresh && (rc = prepare(c, e, in_tx, err)) != CORM_OK) return rc;
            c->calls++;
            res = PQexecPrepared(c->pg, e->name, nparams, c->pvals, c->plens, c->pfmts, fmt);
            if (!fresh && !in_tx && res && PQresultStatus(res) == PGRES_FATAL_ERROR &&
                PQstatus(c->pg) == CONNECTION_OK && stale_statement(res)) {
                /* nothing ran: prepare it again under a new name, once */
                PQclear(res);
                list_unlink(e); /* back to seen */
                e->name[0] = '\0';
                c->nprepared--;
                list_push_front(&c->seen, e);
                c->nseen++;
                if ((rc = prepare(c, e, in_tx, err)) != CORM_OK) return rc;
                c->calls++;
                res = PQexecPrepared(c->pg, e->name, nparams, c->pvals, c->plens, c->pfmts, fmt);
                fresh = true;
            }
            /* a statement whose first prepared run failed is not kept */
            if (fresh && (!res || PQresultStatus(res) == PGRES_FATAL_ERROR) &&
                PQstatus(c->pg) == CONNECTION_OK)
                cache_evict(c, e);
        }
    } else {
        c->calls++;
        res = PQexecParams(c->pg, sql, nparams, NULL, c->pvals, c->plens, c->pfmts, fmt);
    }
    rc = check_result(c, res, sql, in_tx, err);
    if (rc != CORM_OK) {
        PQclear(res);
        return rc;
    }
    corm__stmt *s = stmt_new(c);
    if (!s) {
        PQclear(res);
        corm__err_set(err, CORM_NOMEM, "out of memory reading a PostgreSQL result");
        corm__err_sql(err, sql);
        return CORM_NOMEM;
    }
    s->res = res;
    s->row = -1;
    s->nrows = PQntuples(res);
    s->ncols = PQnfields(res);
    s->binary = fmt == 1;
    *out = s;
    return CORM_OK;
}

static corm_rc pg_query(corm__conn *c, const char *sql, const corm_value *params, int nparams,
                        corm__stmt **out, corm_error *err)
{
    size_t len = sql ? strlen(sql) : 0;
    return pg_query_hashed(c, sql, len, sql ? corm__hash_fast(sql, len) : 0, params, nparams, out,
                           err);
}

/* ------------------------------------------------------------ streaming */

/*
** query_stream (the iterator) reads a SELECT through a server-side cursor,
** FETCH FORWARD n at a time, so the client holds one chunk.  Inside the
** application's transaction the cursor is declared in it.  Outside one,
** corm opens a transaction of its own for it (BEGIN; DECLARE ... NO SCROLL
** CURSOR; FETCHes; COMMIT when the last such cursor ends), as a program
** would by hand: the server streams the rows as the FETCHes ask, where a
** `WITH HOLD` cursor (what corm used before) made the server compute and
** store the whole result when the declaring statement committed, before
** the first FETCH (docs/benchmarks.md: 1.34x raw C at 10,000 books).
**
** That transaction is invisible to the application: in_transaction says
** no, so the statements of the loop behave as outside a transaction:
**   - a SELECT (a lazy load, count, exists, the iterator's per-chunk
**     prefetch, another iterator) runs inside it: in READ COMMITTED each
**     statement sees what was committed before it started, as in
**     autocommit;
**   - anything else (a write, BEGIN, SAVEPOINT, DDL...) first ends it
**     (stream_settle): each open cursor's remaining rows are read into the
**     client (FETCH ALL, where WITH HOLD kept them on the server), then
**     COMMIT; the statement then runs as it would have, in autocommit or
**     beginning the application's transaction, and the loop goes on over
**     the rows read.  Writes are committed when their call returns, as
**     before.
** A statement of the loop that fails aborts that transaction: its cursors
** are then lost (the iterator fails, saying why) and the transaction is
** rolled back before the next statement, which runs normally.
*/

static void pg_finish(corm__stmt *s);

static bool is_select(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(') sql++;
    return strncasecmp(sql, "SELECT", 6) == 0 && !isalnum((unsigned char)sql[6]) && sql[6] != '_';
}

/* The cursors of the stream transaction are gone (the transaction ended,
** or the connection was lost): rows_lost marks the ones whose rows the
** client does not have. */
static void stream_forget(corm__conn *c, bool rows_lost)
{
    for (corm__stmt *s = c->streams, *next; s; s = next) {
        next = s->next_stream;
        s->next_stream = NULL;
        s->held = false;
        s->cursor[0] = '\0';
        /* the next step asks for more: fetch_more says they were lost */
        if (rows_lost && s->more && !s->rest) s->dead = true;
    }
    c->streams = NULL;
}

/* End the stream transaction: the rows left in its cursors into the
** client, then COMMIT (ROLLBACK when a statement failed in it: the rows
** not fetched yet are lost). */
static corm_rc stream_settle(corm__conn *c, corm_error *err)
{
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    bool ok = ts == PQTRANS_INTRANS;
    for (corm__stmt *s = c->streams; ok && s; s = s->next_stream) {
        if (!s->more || !s->cursor[0]) continue;
        char sql[64];
        snprintf(sql, sizeof sql, "FETCH ALL FROM %s", s->cursor);
        PGresult *res = PQexecParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, s->binary ? 1 : 0);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
            s->rest = res;
        } else {
            PQclear(res);
            s->dead = true;
        }
    }
    stream_forget(c, true);
    if (PQstatus(c->pg) == CONNECTION_BAD) return lost_error(c, false, NULL, err);
    PGresult *res = PQexec(c->pg, ts == PQTRANS_INTRANS ? "COMMIT" : "ROLLBACK");
    corm_rc rc = check_result(c, res, "COMMIT", false, err);
    PQclear(res);
    return rc;
}

/* Before a statement on c: a SELECT (read) runs in the stream
** transaction; anything else ends it first. */
static corm_rc stream_gate(corm__conn *c, const char *sql, bool read, corm_error *err)
{
    if (!c->streams) return CORM_OK;
    if (read && is_select(sql) && PQtransactionStatus(c->pg) == PQTRANS_INTRANS) return CORM_OK;
    return stream_settle(c, err);
}

static corm_rc dead_cursor(corm__stmt *s, corm_error *err)
{
    (void)s;
    corm__err_set(err, CORM_DB,
                  "the iterator's rows were lost: a statement that failed during the loop "
                  "aborted the transaction corm had opened to stream them");
    corm__err_hint(err, "iterate inside corm_begin/corm_commit and put a statement that may fail "
                        "in a nested corm_begin (a savepoint), or read the rows first");
    corm__strlcpy(err->sqlstate, "25P02", sizeof err->sqlstate);
    return CORM_DB;
}

/* The next chunk of a streamed statement's cursor into s->res. */
static corm_rc fetch_more(corm__stmt *s, corm_error *err)
{
    corm__conn *c = s->conn;
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->nrows = 0;
    for (int i = 0; i < s->ncells; i++) s->cells[i].row = -1;
    if (s->rest) {
        /* read when the stream transaction ended */
        s->res = s->rest;
        s->rest = NULL;
        s->nrows = PQntuples(s->res);
        s->ncols = PQnfields(s->res);
        s->more = false;
        return CORM_OK;
    }
    if (s->held && PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
        corm_error ignore;
        (void)stream_settle(c, &ignore); /* rolls back; s is dead */
    }
    if (s->dead || !s->cursor[0]) {
        s->more = false;
        return dead_cursor(s, err);
    }
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", s->fetch, s->cursor);
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    bool user_tx = !s->held && (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR);
    PGresult *res = PQexecParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, s->binary ? 1 : 0);
    corm_rc rc = check_result(c, res, sql, user_tx, err);
    if (rc != CORM_OK) {
        PQclear(res);
        s->more = false;
        s->cursor[0] = '\0'; /* gone with the error (or the connection) */
        return rc;
    }
    s->res = res;
    s->nrows = PQntuples(res);
    s->ncols = PQnfields(res);
    s->more = s->nrows == s->fetch;
    return CORM_OK;
}

/* A SELECT read fetch_rows at a time through a server-side cursor, in the
** application's transaction or in one of corm's (above).  FETCHes are part
** of the statement, as the rows of a SQLite step: no events.  The
** statement itself is not prepared (DECLARE text is new each time). */
static corm_rc pg_query_stream(corm__conn *c, const char *sql, const corm_value *params,
                               int nparams, int fetch_rows, corm__stmt **out, corm_error *err)
{
    *out = NULL;
    if (!c || !sql || fetch_rows <= 0 || c->tx_lost)
        return pg_query(c, sql, params, nparams, out, err); /* its checks and gate */
    corm_rc rc = ensure_connected(c, err);
    if (rc != CORM_OK) return rc;
    if ((rc = stream_gate(c, sql, true, err)) != CORM_OK) return rc;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts == PQTRANS_INERROR) return pg_query(c, sql, params, nparams, out, err); /* 25P02 */
    if (nparams < 0 || (nparams > 0 && !params)) return pg_query(c, sql, params, nparams, out, err);
    /* in the application's transaction, or in corm's (opened now, or by
    ** another cursor still open) */
    bool user_tx = ts == PQTRANS_INTRANS && !c->streams;
    rc = bind_params(c, sql, params, nparams, err);
    if (rc != CORM_OK) return rc;
    bool began = false;
    if (!user_tx && !c->streams) {
        PGresult *res = PQexec(c->pg, "BEGIN");
        rc = check_result(c, res, "BEGIN", false, err);
        PQclear(res);
        if (rc != CORM_OK) return rc;
        began = true;
    }
    char name[32];
    snprintf(name, sizeof name, "corm_cur_%u", ++c->next_name);
    corm_buf decl;
    corm__buf_init(&decl);
    corm__buf_addf(&decl, "DECLARE %s NO SCROLL CURSOR FOR ", name);
    corm__buf_adds(&decl, sql);
    PGresult *res = decl.oom ? NULL
                             : PQexecParams(c->pg, corm__buf_cstr(&decl), nparams, NULL, c->pvals,
                                            c->plens, c->pfmts, 0);
    corm__buf_free(&decl);
    rc = check_result(c, res, sql, user_tx, err);
    PQclear(res);
    corm__stmt *s = rc == CORM_OK ? stmt_new(c) : NULL;
    if (rc == CORM_OK && !s) {
        corm__err_set(err, CORM_NOMEM, "out of memory opening a cursor");
        rc = CORM_NOMEM;
    }
    if (rc != CORM_OK) {
        if (began) {
            /* nothing of ours is left in it */
            PQclear(PQexec(c->pg, "ROLLBACK"));
        } else if (c->streams) {
            corm_error ignore;
            (void)stream_settle(c, &ignore); /* the failure aborted it */
        }
        return rc;
    }
    s->res = NULL;
    s->rest = NULL;
    s->dead = false;
    s->binary = c->binary;
    corm__strlcpy(s->cursor, name, sizeof s->cursor);
    s->fetch = fetch_rows;
    s->held = !user_tx;
    if (s->held) {
        s->next_stream = c->streams;
        c->streams = s;
    }
    rc = fetch_more(s, err); /* the first chunk: column names now, errors now */
    if (rc != CORM_OK) {
        pg_finish(s);
        return rc;
    }
    c->changes = 0;
    *out = s;
    return CORM_OK;
}

static corm_rc pg_step(corm__stmt *s, bool *has_row, corm_error *err)
{
    if (s->row < s->nrows) s->row++;
    if (s->row >= s->nrows && s->more) {
        corm_rc rc = fetch_more(s, err);
        if (rc != CORM_OK) {
            *has_row = false;
            return rc;
        }
        s->row = 0;
    }
    *has_row = s->row < s->nrows;
    return CORM_OK;
}

static void pg_finish(corm__stmt *s)
{
    if (!s) return;
    corm__conn *c = s->conn;
    PQclear(s->res);
    s->res = NULL;
    PQclear(s->rest);
    s->rest = NULL;
    bool usable = !c->lost && PQstatus(c->pg) == CONNECTION_OK;
    if (s->held) {
        /* out of the stream transaction; the last one out ends it (COMMIT
        ** closes the cursor) */
        corm__stmt **pp = &c->streams;
        while (*pp && *pp != s) pp = &(*pp)->next_stream;
        if (*pp) *pp = s->next_stream;
        s->next_stream = NULL;
        s->held = false;
        if (!c->streams && usable) {
            bool failed = PQtransactionStatus(c->pg) == PQTRANS_INERROR;
            PQclear(PQexec(c->pg, failed ? "ROLLBACK" : "COMMIT"));
            s->cursor[0] = '\0';
        }
    }
    if (s->cursor[0]) {
        /* a cursor read to its end, or given up: free it on the server (in
        ** a failed transaction it dies with the transaction) */
        if (usable && PQtransactionStatus(c->pg) != PQTRANS_INERROR) {
            char sql[64];
            snprintf(sql, sizeof sql, "CLOSE %s", s->cursor);
            PQclear(PQexec(c->pg, sql));
        }
        s->cursor[0] = '\0';
    }
    s->more = false;
    s->dead = false;
    for (int i = 0; i < s->ncells; i++) s->cells[i].row = -1;
    if (c->nfree < MAX_FREE_STMTS) {
        s->next_free = c->free_stmts;
        c->free_stmts = s;
        c->nfree++;
    } else {
        stmt_destroy(s);
    }
}

/* ------------------------------------------------------------ columns */

static bool valid_cell(corm__stmt *s, int i)
{
    return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < s->ncols;
}

static int pg_column_count(corm__stmt *s) { return s->res ? s->ncols : 0; }

static bool pg_column_null(corm__stmt *s, int i)
{
    return !valid_cell(s, i) || PQgetisnull(s->res, s->row, i);
}

static const char *raw(corm__stmt *s, int i, int *len)
{
    *len = PQgetlength(s->res, s->row, i);
    return PQgetvalue(s->res, s->row, i);
}

static uint64_t be_uint(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static double be_double(const char *p, int len)
{
    if (len == 8) {
        uint64_t u = be_uint((const unsigned char *)p, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    uint32_t u = (uint32_t)be_uint((const unsigned char *)p, 4);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int64_t be_int(const char *p, int len)
{
    uint64_t u = be_uint((const unsigned char *)p, len);
    if (len == 2) return (int16_t)u;
    if (len == 4) return (int32_t)u;
    return (int64_t)u;
}

/* The scratch cell of column i, NULL when out of memory. */
static cell *cell_for(corm__stmt *s, int i, size_t need)
{
    if (s->ncells < s->ncols) {
        cell *cs = corm__realloc(s->cells, (size_t)s->ncols * sizeof *cs);
        if (!cs) return NULL;
        for (int k = s->ncells; k < s->ncols; k++) cs[k] = (cell){NULL, 0, 0, -1};
        s->cells = cs;
        s->ncells = s->ncols;
    }
    cell *c = &s->cells[i];
    if (need + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 64;
        while (cap < need + 1) cap *= 2;
        char *p = corm__realloc(c->p, cap);
        if (!p) return NULL;
        c->p = p;
        c->cap = cap;
    }
    return c;
}

/* days since 1970-01-01 -> civil date (H. Hinnant's algorithm) */
static void civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

#define PG_EPOCH_DAYS 10957 /* 2000-01-01 - 1970-01-01 */

static int fmt_date(char *out, size_t n, int64_t days)
{
    int64_t y;
    int m, d;
    civil(days + PG_EPOCH_DAYS, &y, &m, &d);
    if (y <= 0) return snprintf(out, n, "%04lld-%02d-%02d BC", (long long)(1 - y), m, d);
    return snprintf(out, n, "%04lld-%02d-%02d", (long long)y, m, d);
}

static int fmt_timestamp(char *out, size_t n, int64_t us, bool tz)
{
    int64_t day = us / 86400000000LL, rem = us % 86400000000LL;
    if (rem < 0) {
        rem += 86400000000LL;
        day--;
    }
    int64_t y;
    int m, d;
    civil(day + PG_EPOCH_DAYS, &y, &m, &d);
    int64_t secs = rem / 1000000, frac = rem % 1000000;
    int k = snprintf(out, n, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)(y <= 0 ? 1 - y : y), m,
                     d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06lld", (long long)frac);
        for (int j = 5; j > 0 && f[j] == '0'; j--) f[j] = '\0';
        k += snprintf(out + k, n - (size_t)k, ".%s", f);
    }
    if (tz) k += snprintf(out + k, n - (size_t)k, "+00");
    if (y <= 0) k += snprintf(out + k, n - (size_t)k, " BC");
    return k;
}

/* numeric's binary form -> its text (as the server's numeric_out), into
** the cell of column i.  NULL when out of memory; "" when malformed. */
static const char *fmt_numeric(corm__stmt *s, int i, const char *p, int len, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)p;
    *outlen = 0;
    if (len < 8) return "";
    int ndigits = (int16_t)be_uint(u, 2), weight = (int16_t)be_uint(u + 2, 2);
    unsigned sign = (unsigned)be_uint(u + 4, 2);
    int dscale = (int16_t)be_uint(u + 6, 2);
    if (ndigits < 0 || dscale < 0 || len < 8 + 2 * ndigits) return "";
    const char *word = sign == 0xC000   ? "NaN"
                       : sign == 0xD000 ? "Infinity"
                       : sign == 0xF000 ? "-Infinity"
                                        : NULL;
    /* sign, integer digits, point, decimals */
    size_t bound =
        word ? strlen(word) : 3 + 4 * (size_t)(weight >= 0 ? weight + 1 : 1) + (size_t)dscale;
    cell *c = cell_for(s, i, bound);
    if (!c) return NULL;
    char *w = c->p;
    if (word) {
        memcpy(w, word, bound + 1);
        *outlen = bound;
        return c->p;
    }
#define DIGIT(k) ((k) >= 0 && (k) < ndigits ? (int)be_uint(u + 8 + 2 * (k), 2) : 0)
    if (sign == 0x4000) *w++ = '-';
    if (weight < 0) *w++ = '0';
    for (int k = 0; k <= weight; k++) {
        int d = DIGIT(k);
        char four[4] = {(char)('0' + d / 1000), (char)('0' + d / 100 % 10),
                        (char)('0' + d / 10 % 10), (char)('0' + d % 10)};
        int j = 0;
        if (k == 0)
            while (j < 3 && four[j] == '0') j++; /* no leading zeros */
        for (; j < 4; j++) *w++ = four[j];
    }
    if (dscale > 0) {
        *w++ = '.';
        int written = 0;
        for (int k = weight + 1; written < dscale; k++) {
            int d = DIGIT(k);
            char four[4] = {(char)('0' + d / 1000), (char)('0' + d / 100 % 10),
                            (char)('0' + d / 10 % 10), (char)('0' + d % 10)};
            for (int j = 0; j < 4 && written < dscale; j++, written++) *w++ = four[j];
        }
    }
#undef DIGIT
    *w = '\0';
    *outlen = (size_t)(w - c->p);
    c->len = *outlen;
    c->row = s->row;
    return c->p;
}

/* Column i as text in a binary result (NULL when out of memory). */
static const char *binary_text(corm__stmt *s, int i, size_t *len)
{
    int n;
    const char *p = raw(s, i, &n);
    Oid t = PQftype(s->res, i);
    char tmp[64];
    int k = -1;
    switch (t) {
    case OID_BOOL: k = snprintf(tmp, sizeof tmp, "%s", n && p[0] ? "t" : "f"); break;
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID: k = snprintf(tmp, sizeof tmp, "%lld", (long long)be_int(p, n)); break;
    case OID_FLOAT4:
    case OID_FLOAT8: {
        /* as float8out: shortest exact digits, and its words for the rest */
        double d = be_double(p, n);
        if (isnan(d)) k = snprintf(tmp, sizeof tmp, "NaN");
        else if (isinf(d)) k = snprintf(tmp, sizeof tmp, "%s", d > 0 ? "Infinity" : "-Infinity");
        else {
            for (int prec = t == OID_FLOAT4 ? 6 : 15; prec <= 17; prec++) {
                k = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
                if (t == OID_FLOAT4 ? (float)strtod(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
                    break;
            }
        }
        break;
    }
    case OID_DATE: {
        int64_t days = be_int(p, 4);
        if (days == INT32_MAX) k = snprintf(tmp, sizeof tmp, "infinity");
        else if (days == INT32_MIN) k = snprintf(tmp, sizeof tmp, "-infinity");
        else k = fmt_date(tmp, sizeof tmp, days);
        break;
    }
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: {
        int64_t us = be_int(p, 8);
        if (us == INT64_MAX) k = snprintf(tmp, sizeof tmp, "infinity");
        else if (us == INT64_MIN) k = snprintf(tmp, sizeof tmp, "-infinity");
        else k = fmt_timestamp(tmp, sizeof tmp, us, t == OID_TIMESTAMPTZ);
        break;
    }
    case OID_NUMERIC: return fmt_numeric(s, i, p, n, len);
    case OID_JSONB:
        /* a version byte (1), then the text */
        *len = n > 0 ? (size_t)n - 1 : 0;
        return n > 0 ? p + 1 : "";
    default: /* text, varchar, bpchar, name, json, unknown, bytea: the bytes */
        *len = (size_t)n;
        return p;
    }
    if (k < 0) k = 0;
    cell *c = cell_for(s, i, (size_t)k);
    if (!c) return NULL;
    memcpy(c->p, tmp, (size_t)k + 1);
    c->len = (size_t)k;
    c->row = s->row;
    *len = c->len;
    return c->p;
}

static const char *pg_column_text(corm__stmt *s, int i, size_t *len)
{
    size_t dummy;
    if (!len) len = &dummy;
    *len = 0;
    if (pg_column_null(s, i)) return NULL;
    if (s->binary) return binary_text(s, i, len);
    int n;
    const char *p = raw(s, i, &n);
    *len = (size_t)n;
    return p;
}

static int64_t pg_column_int(corm__stmt *s, int i)
{
    if (pg_column_null(s, i)) return 0;
    if (s->binary) {
        Oid t = PQftype(s->res, i);
        int n;
        const char *p = raw(s, i, &n);
        if (t == OID_INT2 || t == OID_INT4 || t == OID_INT8 || t == OID_OID) return be_int(p, n);
        if (t == OID_BOOL) return n && p[0];
        if (t == OID_FLOAT4 || t == OID_FLOAT8) return (int64_t)be_double(p, n);
    }
    size_t len;
    const char *p = pg_column_text(s, i, &len);
    if (!p) return 0;
    if (len == 1 && (p[0] == 't' || p[0] == 'f')) return p[0] == 't'; /* boolean */
    return strtoll(p, NULL, 10);
}

static double pg_column_double(corm__stmt *s, int i)
{
    if (pg_column_null(s, i)) return 0;
    if (s->binary) {
        Oid t = PQftype(s->res, i);
        int n;
        const char *p = raw(s, i, &n);
        if (t == OID_FLOAT4 || t == OID_FLOAT8) return be_double(p, n);
        if (t == OID_INT2 || t == OID_INT4 || t == OID_INT8) return (double)be_int(p, n);
    }
    size_t len;
    const char *p = pg_column_text(s, i, &len);
    return p ? strtod(p, NULL) : 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static const void *pg_column_blob(corm__stmt *s, int i, size_t *len)
{
    size_t dummy;
    if (!len) len = &dummy;
    *len = 0;
    if (pg_column_null(s, i)) return NULL;
    int n;
    const char *p = raw(s, i, &n);
    if (s->binary || PQftype(s->res, i) != OID_BYTEA || n < 2 || p[0] != '\\' || p[1] != 'x') {
        if (s->binary && PQftype(s->res, i) != OID_BYTEA) return pg_column_text(s, i, len);
        *len = (size_t)n;
        return p;
    }
    /* text-format bytea: \x followed by hex pairs */
    cell *c = s->cells && i < s->ncells ? &s->cells[i] : NULL;
    if (c && c->row == s->row) {
        *len = c->len;
        return c->p;
    }
    size_t nbytes = (size_t)(n - 2) / 2;
    c = cell_for(s, i, nbytes);
    if (!c) return NULL;
    for (size_t k = 0; k < nbytes; k++) {
        int hi = hexval(p[2 + 2 * k]), lo = hexval(p[3 + 2 * k]);
        c->p[k] = (char)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
    }
    c->p[nbytes] = '\0';
    c->len = nbytes;
    c->row = s->row;
    *len = nbytes;
    return c->p;
}

static bool pg_column_exact(corm__stmt *s, int i) { return PQftype(s->res, i) == OID_NUMERIC; }

static corm_vtype pg_column_type(corm__stmt *s, int i)
{
    if (pg_column_null(s, i)) return CORM_V_NULL;
    switch (PQftype(s->res, i)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
    case OID_BOOL: return CORM_V_INT;
    case OID_FLOAT4:
    case OID_FLOAT8: return CORM_V_FLOAT;
    case OID_NUMERIC: {
        /* a whole number (SUM of bigints, COUNT over numeric) is an
        ** integer, as SQLite's dynamic typing gives it */
        size_t len;
        const char *p = pg_column_text(s, i, &len);
        if (!p) return CORM_V_NULL;
        for (size_t k = 0; k < len; k++)
            if (!isdigit((unsigned char)p[k]) && !(k == 0 && p[k] == '-')) return CORM_V_FLOAT;
        return len > 0 && len < 19 ? CORM_V_INT : CORM_V_FLOAT;
    }
    case OID_BYTEA: return CORM_V_BLOB;
    default: return CORM_V_TEXT;
    }
}

/* The rows left in a result read whole; a cursor's (query_stream) come
** FETCH by FETCH, so their number is not known. */
static int64_t pg_row_count(corm__stmt *s)
{
    if (s->cursor[0] || s->held || s->more || s->rest) return -1;
    int left = s->nrows - (s->row + 1);
    return left > 0 ? left : 0;
}

static const char *pg_column_name(corm__stmt *s, int i)
{
    const char *n = s->res && i >= 0 && i < s->ncols ? PQfname(s->res, i) : NULL;
    return n ? n : "";
}

/* ------------------------------------------------------- connection */

static int64_t pg_changes(corm__conn *c) { return c->changes; }

/* For raw use: corm's own INSERTs read the id with RETURNING. */
static int64_t pg_last_insert_id(corm__conn *c)
{
    if (c->lost || PQtransactionStatus(c->pg) == PQTRANS_INERROR) return 0;
    PGresult *res = PQexec(c->pg, "SELECT lastval()");
    int64_t id = 0;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (PQstatus(c->pg) == CONNECTION_BAD) c->lost = true;
    return id;
}

static corm_rc pg_exec(corm__conn *c, const char *sql, corm_error *err)
{
    if (!c || !sql) {
        corm__err_set(err, CORM_MISUSE, "bad arguments to the PostgreSQL backend's exec");
        return CORM_MISUSE;
    }
    bool skip;
    corm_rc rc = tx_lost_gate(c, sql, &skip, err);
    if (rc != CORM_OK || skip) return rc;
    rc = ensure_connected(c, err);
    if (rc != CORM_OK) return rc;
    if ((rc = stream_gate(c, sql, true, err)) != CORM_OK) return rc;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    PGresult *res = PQexec(c->pg, sql);
    rc = check_result(c, res, sql, ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR, err);
    PQclear(res);
    return rc;
}

static bool pg_in_transaction(corm__conn *c)
{
    if (c->tx_lost) return true;  /* until the application ends it */
    if (c->lost) return false;    /* the server ended it */
    if (c->streams) return false; /* corm's own, to stream a cursor (above) */
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR || ts == PQTRANS_ACTIVE;
}

static corm_rc pg_ping(corm__conn *c, corm_error *err)
{
    corm_rc rc = ensure_connected(c, err);
    if (rc != CORM_OK) return rc;
    PGresult *res = PQexec(c->pg, "");
    bool ok = res && PQresultStatus(res) == PGRES_EMPTY_QUERY;
    PQclear(res);
    if (ok) return CORM_OK;
    if (PQstatus(c->pg) != CONNECTION_BAD) {
        corm__err_set(err, CORM_CONN, "the PostgreSQL connection does not answer");
        return CORM_CONN;
    }
    /* found dead while idle: no statement of the caller is lost */
    return reconnect(c, err);
}

int corm__pg_cache_count(const corm__conn *c) { return c ? c->nprepared : 0; }

int64_t corm__pg_server_calls(const corm__conn *c) { return c ? c->calls : 0; }
int corm__pg_prepare_threshold(const corm__conn *c) { return c ? c->threshold : 0; }
int corm__pg_backend_pid(const corm__conn *c) { return c ? PQbackendPID(c->pg) : 0; }
void corm__pg_set_binary(corm__conn *c, bool binary)
{
    if (c) c->binary = binary;
}

const corm__backend corm__pg_backend = {
    .vendor = "postgresql",
    .max_params = 65535,
    .open = pg_open,
    .close = pg_close,
    .query = pg_query,
    .query_hashed = pg_query_hashed,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_null = pg_column_null,
    .column_int = pg_column_int,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_type = pg_column_type,
    .column_exact = pg_column_exact,
    .column_name = pg_column_name,
    .row_count = pg_row_count,
    .finish = pg_finish,
    .changes = pg_changes,
    .last_insert_id = pg_last_insert_id,
    .exec = pg_exec,
    .in_transaction = pg_in_transaction,
    .ping = pg_ping,
    .query_stream = pg_query_stream,
};
