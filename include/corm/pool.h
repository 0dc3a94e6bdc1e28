/*
** corm/pool.h - the connection pool family: a fixed set of corm_db
** connections for a threaded server.  Included by <corm.h>; include that.
*/
#ifndef CORM_POOL_H
#define CORM_POOL_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ pool */

typedef struct corm_pool corm_pool;

/* A database to attach to every connection of a pool (corm_db_attach). */
typedef struct corm_alias {
    const char *name;
    const char *url;
} corm_alias;

typedef struct corm_pool_config {
    const char *url;           /* every connection's database; copied */
    const corm_schema *schema; /* borrowed; outlives the pool */
    int size;                  /* connections, all opened up front (0: 4) */
    int acquire_timeout_ms;    /* corm_pool_acquire's wait (0: 5000; < 0: forever) */
    int check_idle_ms;         /* ping a connection idle longer than this when it is
                                  ** handed out, reconnecting a dead one (0: 1000; < 0:
                                  ** never) */
    const corm_alias *aliases; /* attached to every connection (replicas); copied */
    int naliases;
    corm_router_fn router; /* installed on every connection, or NULL */
    void *router_ud;
    unsigned open_flags; /* corm_open_flags' flags for every connection:
                            CORM_OPEN_NO_MIGRATION_CHECK opts out of the
                            drift check (docs/migrations.md); 0: checked */
} corm_pool_config;

/*
** corm_pool - a fixed set of connections for a threaded server.  Each
** thread takes one with corm_pool_acquire, uses it (one thread at a time,
** as any corm_db), and gives it back with corm_pool_release.
**   corm_pool_open   opens cfg->size connections (and their aliases); NULL
**                    with err filled when one cannot be opened
**   corm_pool_acquire  blocks until a connection is free, at most
**                    timeout_ms (-1: the pool's acquire_timeout_ms; 0: do not
**                    wait).  NULL with err CORM_BUSY on timeout, CORM_CONN when
**                    the health check cannot reconnect.  A connection idle for
**                    longer than check_idle_ms is pinged first (a dead one is
**                    reconnected: no statement of the caller is involved).
**   corm_pool_release  gives it back: an open transaction is rolled back
**                    (it is a bug in the caller, reported in the stats).
**                    Free its querysets first: their objects belong to the
**                    connection (its result memory is reused by the next
**                    holder), as for corm_close
**   corm_pool_close  closes every connection; all must have been released
** Threads: the pool itself is thread-safe (a mutex and a condition
** variable); its connections follow the corm_db rule.  Cached querysets:
** corm_pool_use_cache (corm/qscache.h) gives every connection handed out
** the pool's cache.  Since: 0.1
*/
CORM_API corm_pool *corm_pool_open(const corm_pool_config *cfg, corm_error *err);
CORM_API corm_db *corm_pool_acquire(corm_pool *pool, int timeout_ms, corm_error *err);
CORM_API void corm_pool_release(corm_pool *pool, corm_db *db);
CORM_API void corm_pool_close(corm_pool *pool);

typedef struct corm_pool_stats {
    int size, idle;       /* connections; of them not handed out */
    uint64_t acquired;    /* successful acquires */
    uint64_t waited;      /* acquires that had to wait */
    uint64_t timeouts;    /* acquires that gave up */
    uint64_t reconnects;  /* dead connections the health check replaced */
    uint64_t rolled_back; /* releases with a transaction still open */
} corm_pool_stats;
CORM_API corm_pool_stats corm_pool_get_stats(corm_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
