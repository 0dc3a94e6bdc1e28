/*
** qs_cache.c - what a cached queryset needs of a corm_cache: the hooks the
** db's statement cache calls (corm__qc_ops, src/db/db_int.h), filled by
** corm_db_use_cache.  Keys:
**   corm.tv.<table>  a table's version, an integer (CORM_CACHE_FOREVER)
**   corm.tv..epoch   the global epoch (writes naming no table of the schema)
**   corm.qs.<hash>   a statement's rows: 128 bits of the SHA-256 of its key
**                    material (which the stored bytes repeat, so the db
**                    checks it on a hit)
** A version key that is missing (never written, evicted, a flushed Redis)
** starts at a random value, so a version never comes back to one a stored
** result was keyed with.
*/
#include "cache_int.h"
#include "../db/db_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TV_PREFIX "corm.tv."
#define TV_EPOCH "corm.tv..epoch"
#define TV_KEYMAX 300

static bool tv_key(const char *table, char *buf, size_t size)
{
    int n = table ? snprintf(buf, size, TV_PREFIX "%s", table) : snprintf(buf, size, TV_EPOCH);
    return n > 0 && (size_t)n < size;
}

/* A start no earlier version is likely to equal: clock and address mixed,
** below 2^52 so increments never overflow. */
static int64_t fresh_version(const void *salt)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
                 ((uint64_t)(uintptr_t)salt << 7);
    x = corm__hash_fast(&x, sizeof x);
    return (int64_t)(x & ((1ull << 52) - 1)) + 1;
}

static bool down(const corm_error *e) { return e->rc != CORM_OK && e->rc != CORM_NOTFOUND; }

/* A missing version: start it (add: another process may just have). */
static bool start_version(corm_cache *c, const char *key, uint64_t *out)
{
    char text[32];
    int64_t v = fresh_version(key);
    int n = snprintf(text, sizeof text, "%lld", (long long)v);
    bool added = false;
    corm_error e;
    if (corm_cache_add(c, key, text, (size_t)n, CORM_CACHE_FOREVER, &added, &e) != CORM_OK)
        return false;
    if (added) {
        *out = (uint64_t)v;
        return true;
    }
    corm_cache_value got;
    int64_t have;
    if (corm_cache_get(c, key, &got, &e) != CORM_OK) return false;
    bool ok = corm__cache_parse_int(got.data, got.len, &have);
    corm_cache_value_free(&got);
    *out = (uint64_t)have;
    return ok;
}

static bool qc_versions(void *ud, const char *const *tables, size_t n, uint64_t *out)
{
    corm_cache *c = ud;
    char buf[(64 + 1) * TV_KEYMAX];
    const char *keys[65];
    corm_cache_value vals[65];
    if (n > 64) return false;
    for (size_t i = 0; i <= n; i++) {
        keys[i] = buf + i * TV_KEYMAX;
        if (!tv_key(i < n ? tables[i] : NULL, buf + i * TV_KEYMAX, TV_KEYMAX)) return false;
    }
    corm_error e;
    if (corm_cache_get_many(c, keys, n + 1, vals, &e) != CORM_OK || down(&e)) return false;
    bool ok = true;
    for (size_t i = 0; i <= n; i++) {
        int64_t v;
        if (!vals[i].data) ok = ok && start_version(c, keys[i], &out[i]);
        else if (corm__cache_parse_int(vals[i].data, vals[i].len, &v)) out[i] = (uint64_t)v;
        else ok = false; /* someone else's value under our key */
        corm_cache_value_free(&vals[i]);
    }
    return ok;
}

static bool bump_one(corm_cache *c, const char *table)
{
    char key[TV_KEYMAX];
    if (!tv_key(table, key, sizeof key)) return false;
    corm_error e;
    for (int tries = 0; tries < 3; tries++) {
        corm_rc rc = corm_cache_incr(c, key, 1, NULL, &e);
        if (rc == CORM_OK) return true;
        if (rc != CORM_NOTFOUND) return false;
        /* never read: a fresh start is as good as a move */
        uint64_t v;
        if (start_version(c, key, &v)) return true;
    }
    return false;
}

static bool qc_bump(void *ud, const char *const *tables, size_t n, bool epoch)
{
    corm_cache *c = ud;
    for (size_t i = 0; i < n; i++)
        if (!bump_one(c, tables[i])) return false;
    return !epoch || bump_one(c, NULL);
}

static bool entry_key(const void *k, size_t klen, char *out, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (size < 8 + 33 || !EVP_Digest(k, klen, md, &mdlen, EVP_sha256(), NULL) || mdlen < 16)
        return false;
    memcpy(out, "corm.qs.", 8);
    for (int i = 0; i < 16; i++) snprintf(out + 8 + 2 * i, 3, "%02x", md[i]);
    return true;
}

static bool qc_get(void *ud, const void *k, size_t klen, void **data, size_t *len)
{
    char key[64];
    corm_cache_value v;
    corm_error e;
    if (!entry_key(k, klen, key, sizeof key) || corm_cache_get(ud, key, &v, &e) != CORM_OK)
        return false;
    *data = v.data;
    *len = v.len;
    return true;
}

static void qc_release(void *ud, void *data)
{
    (void)ud;
    corm_cache_value v = {data, 0};
    corm_cache_value_free(&v);
}

static void qc_put(void *ud, const void *k, size_t klen, const void *data, size_t len,
                   int64_t timeout_ms)
{
    char key[64];
    corm_error e;
    /* a failure is counted and reported by the cache; the read is done */
    if (entry_key(k, klen, key, sizeof key) &&
        corm_cache_set(ud, key, data, len, timeout_ms, &e) != CORM_OK)
        return;
}

static const corm__qc_ops qs_ops = {
    .versions = qc_versions,
    .get = qc_get,
    .release = qc_release,
    .put = qc_put,
    .bump = qc_bump,
};

corm_rc corm_db_use_cache(corm_db *db, corm_cache *cache)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (db->qc.replays) {
        corm__err_set(&db->err, CORM_MISUSE,
                      "corm_db_use_cache: a cached result is being read on this database");
        corm__err_hint(&db->err, "attach or detach the cache between evaluations");
        return CORM_MISUSE;
    }
    /* versions still to move go to the cache they were noted for (if it
    ** is up: a cache that stays down was not going to see them) */
    if (db->qc.ops && (db->qc.npending || db->qc.pending_epoch))
        (void)db->qc.ops->bump(db->qc.ud, db->qc.pending, db->qc.npending, db->qc.pending_epoch);
    corm__qc_reset(db);
    db->qc.ops = cache ? &qs_ops : NULL;
    db->qc.ud = cache;
    return CORM_OK;
}

corm_cache *corm_db_cache(const corm_db *db) { return db && db->qc.ops ? db->qc.ud : NULL; }

static corm_rc pool_attach(corm_db *db, void *cache) { return corm_db_use_cache(db, cache); }

corm_rc corm_pool_use_cache(corm_pool *pool, corm_cache *cache, corm_error *err)
{
    return corm__pool_set_cache(pool, pool_attach, cache, err);
}

corm_cache *corm_pool_cache(corm_pool *pool) { return corm__pool_cache(pool); }
