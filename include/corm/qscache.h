/*
** corm/qscache.h - cached querysets (docs/cache.md, "Cached querysets"):
** a queryset marked with corm_qs_cache is served from a corm_cache when the
** same query ran before and no table it reads was written since, through
** corm, by any process sharing the cache.  Included by <corm.h>; include
** that.
*/
#ifndef CORM_QSCACHE_H
#define CORM_QSCACHE_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** corm_db_use_cache - attach cache to db (NULL detaches): from now on every
** write db runs (save, create, update, delete and its cascades, the bulk
** calls, m2m changes, get_or_create/update_or_create, corm_exec and raw
** statements) moves the version, kept in cache, of each table it names -
** at once outside a transaction, at the transaction's end inside one; a
** write naming no table of the schema moves a global epoch.  Querysets on
** db may then be cached (corm_qs_cache).  Every process (and every pooled
** connection) that writes the database must attach the same cache: writes
** it does not see cannot invalidate it (a pool: corm_pool_use_cache).
** cache is borrowed: it outlives db, or is detached first.  CORM_MISUSE
** for a NULL db.  Since: 0.2
*/
CORM_API corm_rc corm_db_use_cache(corm_db *db, corm_cache *cache);
/* The cache attached to db, or NULL. */
CORM_API corm_cache *corm_db_cache(const corm_db *db);

/*
** corm_pool_use_cache - the pool's cache (NULL: none): from now on every
** connection corm_pool_acquire hands out has cache attached, as by
** corm_db_use_cache - each of them, one whose last holder detached it or
** attached another, one the health check reconnected.  So every write
** through the pool invalidates the querysets cached by any connection.
** Call it while no connection is handed out (right after corm_pool_open):
** CORM_MISUSE on err otherwise, and for a NULL pool; the pool is then
** unchanged.  cache is borrowed: it outlives the pool.  A pool that never
** had a cache leaves its connections' caches alone.  Since: 0.2
*/
CORM_API corm_rc corm_pool_use_cache(corm_pool *pool, corm_cache *cache, corm_error *err);
/* The pool's cache, or NULL. */
CORM_API corm_cache *corm_pool_cache(corm_pool *pool);

/*
** corm_qs_cache - mark qs cached for timeout_ms (CORM_CACHE_DEFAULT: the
** cache's default; CORM_CACHE_FOREVER: until a write invalidates it).  Its
** evaluation - the queryset's own SELECT and each prefetch level's, objects
** (select_related included) or values() rows, and its count() and
** exists() - is served from the cache of its database when the same
** statements ran before with the same parameters, schema and table
** versions: no query runs (the query log and
** captures show cache hits, counted as 0 queries).  Otherwise it reads the
** database and stores what it read.  Inside the application's transaction
** a cached queryset reads the database and stores nothing.  A cache that is
** down never breaks it: it reads the database.  Errors (on qs, at
** evaluation, CORM_MISUSE): no cache attached to the database (call
** corm_db_use_cache first), a timeout of 0 or below other than the two
** constants, qs already evaluated.  Since: 0.2
*/
CORM_API void corm_qs_cache(corm_qs *qs, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
