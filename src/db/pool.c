/*
** pool.c - a fixed-size connection pool for threaded servers.
**
** Every connection is opened by corm_pool_open (with the pool's attached
** databases and router), so a running pool never connects except to
** replace a dead connection.  A mutex guards the slots; acquire waits on a
** condition variable (CLOCK_MONOTONIC deadline) until a slot is free.
** Invariants: a slot is either idle (in no thread's hands) or busy (handed
** to exactly one thread); nidle counts the idle ones; a connection is only
** touched by the thread that holds it, or under the mutex while idle.  The
** health check (a ping, which reconnects a dead connection) runs after the
** slot is taken, outside the mutex, so a slow server never blocks the other
** threads' acquires.  Idle connections are handed out most recent first:
** their prepared statements and caches are warm, and the others may idle
** long enough for the health check to notice when they die.  Once the
** pool has a cache (corm_pool_use_cache), acquire attaches it to a
** connection that has another or none (detached by its last holder, or
** any connection the pool opens), so every connection handed out has it.
*/
#include "db_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define DEFAULT_SIZE 4
#define MAX_SIZE 1024 /* connections of one pool */
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_CHECK_IDLE_MS 1000

struct corm_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    int size, nidle;
    corm_db **dbs;
    bool *busy;
    double *idle_since; /* monotonic ms */
    int timeout_ms, check_idle_ms;
    corm_pool_stats stats;
    corm__pool_attach_fn attach; /* the pool's cache (corm__pool_set_cache): */
    void *cache;                 /* set once attach is */
};

static void close_all(corm_pool *p)
{
    for (int i = 0; i < p->size; i++) corm_close(p->dbs[i]);
}

static void pool_free(corm_pool *p)
{
    corm__free(p->dbs);
    corm__free(p->busy);
    corm__free(p->idle_since);
    corm__free(p);
}

/* One connection with the pool's aliases and router. */
static corm_db *open_one(const corm_pool_config *cfg, corm_error *err)
{
    corm_db *db = corm_open_flags(cfg->url, cfg->schema, cfg->open_flags, err);
    if (!db) return NULL;
    for (int i = 0; i < cfg->naliases; i++) {
        if (corm_db_attach(db, cfg->aliases[i].name, cfg->aliases[i].url) != CORM_OK) {
            corm__err_copy(err, &db->err);
            corm_close(db);
            return NULL;
        }
    }
    corm_set_router(db, cfg->router, cfg->router_ud);
    return db;
}

corm_pool *corm_pool_open(const corm_pool_config *cfg, corm_error *err)
{
    corm__err_clear(err);
    if (!cfg || !cfg->url || cfg->size < 0 || cfg->naliases < 0 ||
        (cfg->naliases > 0 && !cfg->aliases)) {
        corm__err_set(err, CORM_MISUSE, "corm_pool_open: bad configuration");
        corm__err_hint(err, "give a url, a size >= 0 (0: %d) and naliases aliases", DEFAULT_SIZE);
        return NULL;
    }
    if (cfg->size > MAX_SIZE) {
        corm__err_set(err, CORM_INVALID, "corm_pool_open: a pool of %d connections", cfg->size);
        corm__err_hint(err,
                       "at most %d: each is a database connection, opened up front "
                       "(PostgreSQL's default max_connections is 100)",
                       MAX_SIZE);
        return NULL;
    }
    corm_pool *p = corm__calloc(1, sizeof *p);
    int size = cfg->size ? cfg->size : DEFAULT_SIZE;
    if (p) {
        p->dbs = corm__calloc((size_t)size, sizeof *p->dbs);
        p->busy = corm__calloc((size_t)size, sizeof *p->busy);
        p->idle_since = corm__calloc((size_t)size, sizeof *p->idle_since);
    }
    if (!p || !p->dbs || !p->busy || !p->idle_since) {
        if (p) pool_free(p);
        corm__err_set(err, CORM_NOMEM, "out of memory opening a pool of %d", size);
        return NULL;
    }
    p->size = size;
    p->timeout_ms = cfg->acquire_timeout_ms ? cfg->acquire_timeout_ms : DEFAULT_TIMEOUT_MS;
    p->check_idle_ms = cfg->check_idle_ms ? cfg->check_idle_ms : DEFAULT_CHECK_IDLE_MS;
    for (int i = 0; i < size; i++) {
        p->dbs[i] = open_one(cfg, err);
        if (!p->dbs[i]) {
            char msg[sizeof err->message];
            corm__strlcpy(msg, err->message, sizeof msg);
            corm__err_set(err, err->rc ? err->rc : CORM_CONN, "pool connection %d of %d: %s", i + 1,
                          size, msg);
            close_all(p);
            pool_free(p);
            return NULL;
        }
        p->idle_since[i] = corm__now_ms();
    }
    pthread_condattr_t ca;
    bool ok = pthread_mutex_init(&p->mu, NULL) == 0;
    if (ok && pthread_condattr_init(&ca) == 0) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&p->freed, &ca) == 0;
        pthread_condattr_destroy(&ca);
    } else if (ok) {
        pthread_mutex_destroy(&p->mu);
        ok = false;
    }
    if (!ok) {
        corm__err_set(err, CORM_NOMEM, "cannot create the pool's mutex");
        close_all(p);
        pool_free(p);
        return NULL;
    }
    p->nidle = size;
    p->stats.size = size;
    return p;
}

void corm_pool_close(corm_pool *p)
{
    if (!p) return;
    close_all(p);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    pool_free(p);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* The idle slot used most recently; the mutex is held and nidle > 0. */
static int take_slot(corm_pool *p)
{
    int best = -1;
    for (int i = 0; i < p->size; i++)
        if (!p->busy[i] && (best < 0 || p->idle_since[i] > p->idle_since[best])) best = i;
    p->busy[best] = true;
    p->nidle--;
    return best;
}

static void put_slot(corm_pool *p, int i)
{
    pthread_mutex_lock(&p->mu);
    p->busy[i] = false;
    p->idle_since[i] = corm__now_ms();
    p->nidle++;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

corm_db *corm_pool_acquire(corm_pool *p, int timeout_ms, corm_error *err)
{
    corm__err_clear(err);
    if (!p) {
        corm__err_set(err, CORM_MISUSE, "corm_pool_acquire: no pool");
        return NULL;
    }
    if (timeout_ms < 0) timeout_ms = p->timeout_ms;
    struct timespec deadline;
    if (timeout_ms > 0) deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&p->mu);
    bool waited = false;
    while (p->nidle == 0) {
        int rc = 0;
        if (timeout_ms == 0) rc = ETIMEDOUT;
        else if (timeout_ms < 0) rc = pthread_cond_wait(&p->freed, &p->mu);
        else rc = pthread_cond_timedwait(&p->freed, &p->mu, &deadline);
        waited = true;
        if (rc == ETIMEDOUT && p->nidle == 0) {
            p->stats.timeouts++;
            int size = p->size;
            pthread_mutex_unlock(&p->mu);
            corm__err_set(err, CORM_BUSY, "no free connection after %d ms: all %d are in use",
                          timeout_ms, size);
            corm__err_hint(err, "release connections as soon as a request is done "
                                "(corm_pool_release), make the pool larger, or wait longer");
            return NULL;
        }
    }
    int i = take_slot(p);
    double idle = corm__now_ms() - p->idle_since[i];
    corm__pool_attach_fn attach = p->attach;
    void *cache = p->cache;
    p->stats.acquired++;
    if (waited) p->stats.waited++;
    pthread_mutex_unlock(&p->mu);

    corm_db *db = p->dbs[i];
    corm__err_clear(&db->err);
    if (p->check_idle_ms >= 0 && idle >= p->check_idle_ms) {
        int pid = strcmp(db->be->vendor, "postgresql") == 0 ? corm__pg_backend_pid(db->conn) : 0;
        if (corm_ping(db) != CORM_OK) {
            corm__err_copy(err, &db->err);
            put_slot(p, i);
            return NULL;
        }
        if (pid && corm__pg_backend_pid(db->conn) != pid) {
            pthread_mutex_lock(&p->mu);
            p->stats.reconnects++;
            pthread_mutex_unlock(&p->mu);
        }
    }
    /* the pool's cache, whatever the last holder did: a connection
    ** without it would write without invalidating */
    if (attach && (db->qc.ops ? db->qc.ud : NULL) != cache && attach(db, cache) != CORM_OK) {
        corm__err_copy(err, &db->err);
        put_slot(p, i);
        return NULL;
    }
    return db;
}

corm_rc corm__pool_set_cache(corm_pool *p, corm__pool_attach_fn attach, void *ud, corm_error *err)
{
    corm__err_clear(err);
    if (!p || !attach) {
        corm__err_set(err, CORM_MISUSE, "corm_pool_use_cache: no pool");
        corm__err_hint(err, "give the pool of corm_pool_open");
        return CORM_MISUSE;
    }
    pthread_mutex_lock(&p->mu);
    int out = p->size - p->nidle;
    if (out == 0) {
        p->attach = attach;
        p->cache = ud;
    }
    pthread_mutex_unlock(&p->mu);
    if (out > 0) {
        /* a held connection would go on writing without invalidating the
        ** new cache (or with the old one) until its release */
        corm__err_set(err, CORM_MISUSE,
                      "corm_pool_use_cache: %d connection%s of the pool %s handed out", out,
                      out == 1 ? "" : "s", out == 1 ? "is" : "are");
        corm__err_hint(err, "set the pool's cache when every connection is released: right "
                            "after corm_pool_open, before the threads start");
        return CORM_MISUSE;
    }
    return CORM_OK;
}

void *corm__pool_cache(corm_pool *p)
{
    if (!p) return NULL;
    pthread_mutex_lock(&p->mu);
    void *c = p->attach ? p->cache : NULL;
    pthread_mutex_unlock(&p->mu);
    return c;
}

void corm_pool_release(corm_pool *p, corm_db *db)
{
    CORM__DB_ENTER(db, );
    int i = 0;
    while (p && i < p->size && p->dbs[i] != db) i++;
    if (!p || i == p->size) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_pool_release: the connection is not %s",
                      p ? "one of this pool's" : "from a pool (the pool is NULL)");
        corm__err_hint(&db->err, "give each connection back to the pool it was acquired from; "
                                 "close a connection of corm_open with corm_close");
        return;
    }
    /* released twice: the slot is idle (maybe already another thread's);
    ** counting it free again would hand one connection to two threads */
    pthread_mutex_lock(&p->mu);
    bool busy = p->busy[i];
    pthread_mutex_unlock(&p->mu);
    if (!busy) {
        corm__err_set(&db->err, CORM_MISUSE,
                      "corm_pool_release: connection %d of the pool was already released", i + 1);
        corm__err_hint(&db->err, "release each acquired connection once, and do not use it after "
                                 "corm_pool_release");
        return;
    }
    /* a transaction left open is the caller's bug: it must not leak into
    ** the next request */
    if (db->tx_depth > 0 || db->be->in_transaction(db->conn)) {
        corm_error ignore;
        (void)db->be->exec(db->conn, "ROLLBACK", &ignore);
        db->tx_depth = 0;
        pthread_mutex_lock(&p->mu);
        p->stats.rolled_back++;
        pthread_mutex_unlock(&p->mu);
    }
    put_slot(p, i);
}

corm_pool_stats corm_pool_get_stats(corm_pool *p)
{
    corm_pool_stats st = {0};
    if (!p) return st;
    pthread_mutex_lock(&p->mu);
    st = p->stats;
    st.idle = p->nidle;
    pthread_mutex_unlock(&p->mu);
    return st;
}
