/*
** cached.c - corm_qs_cache: a queryset whose evaluation goes through the
** statement cache of its database (src/db/stmt_cache.c, filled by the
** cache layer's corm_db_use_cache).  The queryset only marks itself and
** opens the db's cache scope around its evaluation; keys, replay and
** invalidation are the db's.
*/
#include "qs_int.h"

void corm_qs_cache(corm_qs *qs, int64_t timeout_ms)
{
    if (!qs || qs->err.rc != CORM_OK) return;
    if (qs->evaluated) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_qs_cache on a queryset that was already evaluated");
        corm__err_hint(&qs->err,
                       "call it before iterating, counting or getting; or corm_qs_clone() it");
        return;
    }
    if (timeout_ms <= 0 && timeout_ms != CORM_CACHE_FOREVER && timeout_ms != CORM_CACHE_DEFAULT) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_qs_cache: a timeout of %lld ms would keep nothing",
                      (long long)timeout_ms);
        corm__err_hint(&qs->err, "give a positive number of ms, CORM_CACHE_DEFAULT or "
                                 "CORM_CACHE_FOREVER");
        return;
    }
    corm_db *db = qs->home ? qs->home : qs->db;
    if (!db || !db->qc.ops) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_qs_cache: the database of this queryset has no cache attached");
        corm__err_hint(&qs->err, "call corm_db_use_cache(db, cache) first, so that every write "
                                 "through db invalidates what the cache keeps");
        return;
    }
    qs->cache_ms = timeout_ms;
}

bool corm__qs_cache_begin(corm_qs *qs, bool *was)
{
    corm_db *db = qs->db;
    *was = db->qc.active;
    if (!qs->cache_ms) return true;
    if (!db->qc.ops) { /* routed to an attached database without one */
        corm__err_set(&qs->err, CORM_MISUSE,
                      "a cached queryset routed to a database that has no cache attached");
        corm__err_hint(&qs->err, "call corm_db_use_cache on that database too (the writes "
                                 "routed to it must invalidate the cache)");
        return false;
    }
    db->qc.active = true;
    db->qc.timeout_ms = qs->cache_ms;
    return true;
}

void corm__qs_cache_end(corm_qs *qs, bool was)
{
    if (qs->cache_ms) qs->db->qc.active = was;
}
