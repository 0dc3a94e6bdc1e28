/*
** db_int.h - the session layer: the connection handle (corm_db) and the
** one path every statement takes: corm__db_query / corm__cursor_step /
** corm__cursor_close.  The db owns what a session holds: the driver's
** connection, its SQL dialect (resolved once at open), the compiled-SQL
** memo, default-scope values, attached databases and the router, the
** pool's bookkeeping and the instrumentation.  Closing a cursor times the
** statement and hands one corm_event to src/instr, so instrumentation sees
** every statement the library runs; the driver below emits nothing.
*/
#ifndef CORM_DB_INT_H
#define CORM_DB_INT_H

#include "../backend/backend.h"
#include "../sql/sql_int.h"
#include "../instr/instr_int.h"

#define CORM__MAX_SUBS 8

/*
** The statement cache (stmt_cache.c, docs/cache.md "Cached querysets").
** The cache layer fills these hooks when a cache is attached to a db
** (corm_db_use_cache, src/cache/qs_cache.c); the db never includes the
** cache.  k is the key material of one statement (its SQL, parameters,
** database, schema hash and the versions of the tables it reads): the
** hook hashes it into a cache key.
*/
typedef struct corm__qc_ops {
    /* out[i]: the version of tables[i]; out[n]: the global epoch.  False
    ** when the cache is down (the read then goes to the database). */
    bool (*versions)(void *ud, const char *const *tables, size_t n, uint64_t *out);
    /* The bytes stored for k: true with *data (release them) and *len. */
    bool (*get)(void *ud, const void *k, size_t klen, void **data, size_t *len);
    void (*release)(void *ud, void *data);
    void (*put)(void *ud, const void *k, size_t klen, const void *data, size_t len,
                int64_t timeout_ms);
    /* Move the versions of tables[0..n) (and the epoch when epoch): false
    ** when the cache is down (the db keeps them pending and retries). */
    bool (*bump)(void *ud, const char *const *tables, size_t n, bool epoch);
} corm__qc_ops;

typedef struct corm__qc {
    const corm__qc_ops *ops; /* NULL: no cache attached */
    void *ud;
    int64_t timeout_ms;           /* while active: how long a result is kept */
    bool active;                  /* an evaluation of a cached queryset runs:
                                  ** its SELECTs are served from / stored in
                                  ** the cache */
    const char **pending;         /* tables written whose versions have not */
    size_t npending, cappending;  /* moved yet (a transaction is open, or the */
    bool pending_epoch;           /* cache was down); the epoch too */
    struct corm__replay *replays; /* statements served from the cache now */
    bool snapshot;                /* the open transaction is an evaluation's
                                  ** read snapshot, not the application's */
} corm__qc;

/*
** The pool's cache (corm_pool_use_cache, src/cache/qs_cache.c): once set,
** every connection the pool hands out has ud attached - attach(db, ud)
** runs at acquire on a connection whose cache is another (ud NULL:
** detach).  CORM_MISUSE on err while a connection is handed out.
*/
typedef corm_rc (*corm__pool_attach_fn)(corm_db *db, void *ud);
corm_rc corm__pool_set_cache(corm_pool *pool, corm__pool_attach_fn attach, void *ud,
                             corm_error *err);
/* The ud of corm__pool_set_cache, or NULL. */
void *corm__pool_cache(corm_pool *pool);

struct corm_db {
    const corm__backend *be;
    const corm__dialect *dialect; /* be's SQL dialect, resolved at open */
    corm__conn *conn;
    const corm_schema *schema;
    char *url;
    corm_error err;
    struct {
        corm_event_fn fn;
        void *ud;
    } subs[CORM__MAX_SUBS];
    int nsubs; /* subs[nsubs..] were never taken */
    uint64_t nqueries;
    int tx_depth;                /* corm_begin nesting */
    bool next_set;               /* next (below) was written: all zeros
                                 ** when false, so corm__db_query copies
                                 ** and clears it only when true */
    struct corm__alias *aliases; /* corm_db_attach: other databases by name
                                 ** (src/db/router.c), owned */
    corm_router_fn router;       /* corm_set_router */
    void *router_ud;
    corm__scope_env scopes;  /* corm_scope_set values (src/qs/scope.c) */
    corm_instr *instr;       /* the instrumentation (src/instr), owned */
    corm_event next;         /* what the layer above knows of the next
                             ** statement (kind, parent batch, path...):
                             ** written only through corm__db_next (which
                             ** sets next_set) just before corm__db_query,
                             ** which takes and clears it */
    struct {                 /* the next statement's text: its length and */
        size_t len;          /* corm__hash_fast when the compiled-SQL memo */
        uint64_t hash;       /* knows them (len 0: not known), and its */
        uint64_t fp;         /* fingerprint (0: not known); set by */
    } next_text;             /* corm__db_note_compiled, taken as next is */
    uint64_t nbatches;       /* serials of result batches */
    corm__blockpool *blocks; /* freed result-arena blocks, reused (arena.c) */
    corm__memo sql_memo;     /* compiled SQL by query shape (src/sql/memo.c),
                             ** verified on every hit when the environment
                             ** has CORM_SQL_MEMO_VERIFY=1 (the test suite) */
    int stream_rows;         /* > 0: the next corm__db_query is read that many
                             ** rows at a time (be->query_stream, the
                             ** iterator); taken and cleared by it */
    corm_db *serving;        /* while db (an attached database) runs a query
                             ** for another handle - a queryset made on the
                             ** primary, routed here - that handle: the
                             ** objects it makes report their errors there
                             ** (corm_batch.home); NULL: db itself */
    struct {                 /* lazy loads' origins ("fk:Book.author"), */
        const void *model;   /* interned by the instrumentation: the last */
        const void *rel;     /* few, by model, relation and kind */
        const char *kind, *origin;
    } origins[4];
    unsigned origins_next;
    corm__qc qc;     /* the statement cache (stmt_cache.c) */
    struct {         /* the keyset cursors' HMAC, set up for the last key */
        void *state; /* (src/qs/keyset.c); corm_close calls release(state) */
        void (*release)(void *state);
    } ks_mac;
};

/*
** The error model's entry rule (corm.h, "Errors"): every public call that
** takes a corm_db starts with CORM__DB_ENTER(db, value-if-NULL), which
** returns that value for a NULL db and otherwise clears db's error, so
** corm_db_error describes the last call (sqlite3's rule).  Calls that
** reach a db through a queryset or an object (evaluation, accessors)
** clear that db's error with corm__db_enter.  Getters that cannot fail
** (corm_db_error, corm_db_vendor, ...) leave it.
*/
/* corm_open's check (drift.c): CORM_OK when db's schema has no compiled
** migrations or the database has exactly those applied; else CORM_SCHEMA
** in err ("database at 0003_x, this program expects 0004_y: run corm
** migrate"). */
corm_rc corm__db_check_migrations(corm_db *db, corm_error *err);

#define CORM__DB_ENTER(db, if_null) \
    do {                            \
        if (!(db)) return if_null;  \
        corm__db_enter(db);         \
    } while (0)
static inline void corm__db_enter(corm_db *db)
{
    /* an accessor reading its cache runs this too: test before writing */
    if (db && (db->err.rc != CORM_OK || db->err.message[0] || db->err.sql[0]))
        corm__err_clear(&db->err);
}

/* db runs the next query for home (corm_db.serving); returns what to
** restore with corm__db_serve(db, previous) when it is done. */
static inline corm_db *corm__db_serve(corm_db *db, corm_db *home)
{
    corm_db *prev = db->serving;
    db->serving = home == db ? NULL : home;
    return prev;
}

/* What the layer above tells of the next statement (kind, parent batch,
** path...): written through this pointer only, which marks it written, so
** corm__db_query takes and clears it (a statement whose layer told
** nothing costs no copy). */
static inline corm_event *corm__db_next(corm_db *db)
{
    db->next_set = true;
    return &db->next;
}

typedef struct corm__cursor {
    corm_event ev; /* its event as classified before it ran (first:
                   ** corm__db_query clears the members after it); its
                   ** sql, nparams, site, built and origin are the cursor's */
    corm_db *db;
    corm__stmt *stmt;
    double t0;
    int64_t rows;
    corm_rc rc;
    uint64_t statements;         /* run_many: the rows it ran; else 0 (one) */
    bool emitted;                /* corm__cursor_emit: its event is out */
    bool classified;             /* ev went through corm__instr_before */
    corm__seen seen;             /* what corm__instr_before learnt (its hash
                                 ** of sql, the origin interned), or zeros */
    struct corm__replay *replay; /* stmt is served from the cache */
    struct corm__qrec *rec;      /* the rows read are recorded for it */
} corm__cursor;

/* Start a statement.  On failure the cursor is already closed (the event
** was emitted) and db->err holds the error with the SQL. */
corm_rc corm__db_query(corm_db *db, corm__cursor *cur, const char *sql, const corm_value *params,
                       int nparams, corm_site site, corm_site built, const char *origin);
/* Next row; errors land on db->err.  Counts rows. */
corm_rc corm__cursor_step(corm__cursor *cur, bool *has_row);
/* Give the statement back and emit the event.  Safe to call twice. */
void corm__cursor_close(corm__cursor *cur);
/* Emit the event now, with the rows read so far (a cursor read chunk by
** chunk, whose objects cause statements before it ends); close then
** emits nothing more. */
void corm__cursor_emit(corm__cursor *cur);
/* A statement without result rows; *changes (may be NULL) gets the count. */
corm_rc corm__db_run(corm_db *db, const char *sql, const corm_value *params, int nparams,
                     corm_site site, const char *origin, int64_t *changes);
/* A read snapshot for the queries of one evaluation (a queryset and its
** prefetch levels): BEGIN unless a transaction is already open; *opened
** tells whether snapshot_end must COMMIT.  Both are internal statements:
** events marked internal, not counted. */
corm_rc corm__db_snapshot_begin(corm_db *db, bool *opened);
void corm__db_snapshot_end(corm_db *db, bool opened);
/* A statement without parameters or rows that corm adds on its own (the
** BEGIN / SAVEPOINT / COMMIT that make a bulk write atomic): its event is
** marked internal and not counted.  Errors in err. */
corm_rc corm__db_exec_internal(corm_db *db, const char *sql, const char *origin, corm_error *err);
/* An executemany: run sql once per row, the params of row i filled by
** fill(ud, i, params) (nparams of them).  One event for all of it, whose
** rows are the total changes.  Stops at the first error (db->err) and
** sets *failed (may be NULL) to its row.  *changes may be NULL.
** after (may be NULL) is called once each row has run, with that row's
** changes and id: the first column of the first row it returned (INSERT
** ... RETURNING "id"), else the backend's last insert id - meaningful
** only when the row inserted one (changes > 0; an INSERT OR IGNORE that
** skipped leaves the previous row's id there). */
typedef corm_rc (*corm__fill_fn)(void *ud, size_t row, corm_value *params);
typedef void (*corm__after_fn)(void *ud, size_t row, int64_t changes, int64_t id);
corm_rc corm__db_run_many(corm_db *db, const char *sql, int nparams, size_t nrows,
                          corm__fill_fn fill, corm__after_fn after, void *ud, corm_site site,
                          const char *origin, int64_t *changes, size_t *failed);
/* A statement returning one row with one integer column (INSERT ...
** RETURNING "id"): *id gets it.  One event, like corm__db_run. */
corm_rc corm__db_run_id(corm_db *db, const char *sql, const corm_value *params, int nparams,
                        corm_site site, const char *origin, int64_t *id);
/* Routing (router.c).  The database a statement on db goes to: the
** attached database named `using` ("default" or NULL: db itself, unless
** db's router picks one for `model`: for reads only outside a
** transaction, so a transaction reads its own writes).  NULL with err set
** for an unknown name. */
corm_db *corm__db_route(corm_db *db, const corm_model *model, const char *using, bool write,
                        corm_error *err);
/* Close and free db's attached databases (corm_close). */
void corm__db_aliases_free(corm_db *db);
/* ---- the statement cache (stmt_cache.c) */
/* The driver that reads the rows of st: the cache's replay for a
** statement served from the cache, else db's.  Every reader of result
** cells (hydration, values rows, counts) asks it. */
extern const corm__backend corm__replay_backend;
bool corm__replay_owns(const corm_db *db, const corm__stmt *st);
static inline const corm__backend *corm__row_be(const corm_db *db, const corm__stmt *st)
{
    return db->qc.replays && corm__replay_owns(db, st) ? &corm__replay_backend : db->be;
}
/* corm__db_query's part: serve sql from the cache (CORM_OK with cur->stmt
** a replay and cur->replay set), or arrange for its rows to be recorded
** (cur->rec) - CORM_NOTFOUND either way the database runs it. */
corm_rc corm__qc_lookup(corm_db *db, corm__cursor *cur, const char *sql, const corm_value *params,
                        int nparams);
/* After the database ran a recorded statement: its columns. */
void corm__qc_record_start(corm__cursor *cur);
/* A row was read (record it), or the end was reached (has_row false). */
void corm__qc_record_row(corm__cursor *cur, bool has_row);
/* The cursor closes: store what was recorded (when read to its end), free
** the replay. */
void corm__qc_close(corm__cursor *cur);
/* Every statement's event: a write notes its tables; outside a
** transaction the versions of the noted tables move (sql NULL: no
** statement, a transaction ended). */
void corm__qc_after(corm_db *db, const char *sql);
/* Drop the hooks' state (corm_close, corm_db_use_cache(db, NULL)). */
void corm__qc_reset(corm_db *db);
/* The tables of db's schema that sql names (pointers into the schema),
** at most max; *n gets the count.  False when there were more. */
bool corm__qc_tables(const corm_db *db, const char *sql, const char **out, size_t max, size_t *n);

/* The site used for statements the library runs on its own. */
#define CORM__LIB_SITE ((corm_site){__FILE__, __LINE__, __func__})

#endif
