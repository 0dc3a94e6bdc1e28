/*
** local.c - the in-process cache backend: a hash table of keys threaded on
** a doubly linked LRU list, under a memory cap.  The handle's mutex
** serializes every call (cache.c).  Expired keys are dropped when they are
** met (a get, a store) or when the cap needs room.
*/
#include "cache_int.h"

#include <string.h>
#include <stdio.h>
#include <time.h>

typedef struct entry entry;
struct entry {
    entry *hnext;       /* hash chain */
    entry *prev, *next; /* LRU list: head is the most recently used */
    uint64_t hash;
    int64_t expires; /* monotonic ms; 0: never */
    size_t klen, len;
    char *key;           /* klen bytes + NUL */
    unsigned char *data; /* len bytes + NUL */
};

typedef struct local {
    corm__cache_be be;
    entry **buckets;
    size_t nbuckets, nkeys;
    entry *head, *tail;
    size_t bytes, max_bytes;
    uint64_t evictions;
} local;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t entry_cost(size_t klen, size_t len) { return sizeof(entry) + klen + 1 + len + 1; }

static entry **slot_of(local *l, const char *key, size_t klen, uint64_t h)
{
    entry **p = &l->buckets[h & (l->nbuckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && memcmp((*p)->key, key, klen) == 0))
        p = &(*p)->hnext;
    return p;
}

static void lru_unlink(local *l, entry *x)
{
    if (x->prev) x->prev->next = x->next;
    else l->head = x->next;
    if (x->next) x->next->prev = x->prev;
    else l->tail = x->prev;
    x->prev = x->next = NULL;
}

static void lru_push(local *l, entry *x)
{
    x->next = l->head;
    x->prev = NULL;
    if (l->head) l->head->prev = x;
    l->head = x;
    if (!l->tail) l->tail = x;
}

static void entry_free(entry *x)
{
    corm__free(x->key);
    corm__free(x->data);
    corm__free(x);
}

/* Removes the entry *p points at (a hash slot). */
static void drop(local *l, entry **p)
{
    entry *x = *p;
    *p = x->hnext;
    lru_unlink(l, x);
    l->bytes -= entry_cost(x->klen, x->len);
    l->nkeys--;
    entry_free(x);
}

/* The live entry's slot for key, or NULL (an expired one is dropped). */
static entry **find(local *l, const char *key, uint64_t *hash)
{
    size_t klen = strlen(key);
    *hash = corm__hash_fast(key, klen);
    entry **p = slot_of(l, key, klen, *hash);
    if (!*p) return NULL;
    if ((*p)->expires && (*p)->expires <= now_ms()) {
        drop(l, p);
        return NULL;
    }
    return p;
}

static corm_rc l_get(corm__cache_be *be, const char *key, corm_cache_value *out, corm_error *e)
{
    local *l = (local *)be;
    uint64_t h;
    entry **p = find(l, key, &h);
    if (!p) return CORM_NOTFOUND;
    lru_unlink(l, *p);
    lru_push(l, *p);
    if (!corm__cache_value_dup(out, (*p)->data, (*p)->len)) {
        corm__err_set(e, CORM_NOMEM, "out of memory copying a cached value of %zu bytes",
                      (*p)->len);
        return CORM_NOMEM;
    }
    return CORM_OK;
}

static bool grow(local *l)
{
    size_t n = l->nbuckets * 2;
    entry **b = corm__calloc(n, sizeof *b);
    if (!b) return false; /* a longer chain is still correct */
    for (size_t i = 0; i < l->nbuckets; i++) {
        for (entry *x = l->buckets[i], *nx; x; x = nx) {
            nx = x->hnext;
            x->hnext = b[x->hash & (n - 1)];
            b[x->hash & (n - 1)] = x;
        }
    }
    corm__free(l->buckets);
    l->buckets = b;
    l->nbuckets = n;
    return true;
}

static corm_rc l_store(corm__cache_be *be, corm__cache_mode mode, const char *key, const void *data,
                       size_t len, int64_t ttl_ms, corm_error *e)
{
    local *l = (local *)be;
    uint64_t h;
    entry **p = find(l, key, &h);
    int64_t expires = ttl_ms == CORM_CACHE_FOREVER ? 0 : now_ms() + ttl_ms;
    if (mode == CORM__CACHE_TOUCH) {
        if (!p) return CORM_NOTFOUND;
        (*p)->expires = expires;
        return CORM_OK;
    }
    if (mode == CORM__CACHE_ADD && p) return CORM_MULTIPLE;
    size_t klen = strlen(key), cost = entry_cost(klen, len);
    if (cost > l->max_bytes) {
        corm__err_set(e, CORM_INVALID,
                      "a value of %zu bytes does not fit the local cache's max_bytes (%zu)", len,
                      l->max_bytes);
        corm__err_hint(e, "raise corm_cache_config.max_bytes, or cache something smaller");
        return CORM_INVALID;
    }
    entry *x = corm__calloc(1, sizeof *x);
    if (x) {
        x->key = corm__strndup(key, klen);
        x->data = corm__malloc(len + 1);
    }
    if (!x || !x->key || !x->data) {
        if (x) entry_free(x);
        corm__err_set(e, CORM_NOMEM, "out of memory storing a cached value of %zu bytes", len);
        return CORM_NOMEM;
    }
    if (len) memcpy(x->data, data, len);
    x->data[len] = 0;
    x->klen = klen;
    x->len = len;
    x->hash = h;
    x->expires = expires;
    if (p) drop(l, p);
    while (l->tail && l->bytes + cost > l->max_bytes) {
        entry *t = l->tail;
        drop(l, slot_of(l, t->key, t->klen, t->hash));
        l->evictions++;
    }
    if (l->nkeys >= l->nbuckets) grow(l);
    entry **b = &l->buckets[h & (l->nbuckets - 1)];
    x->hnext = *b;
    *b = x;
    lru_push(l, x);
    l->bytes += cost;
    l->nkeys++;
    return CORM_OK;
}

static corm_rc l_del(corm__cache_be *be, const char *key, corm_error *e)
{
    (void)e;
    local *l = (local *)be;
    uint64_t h;
    entry **p = find(l, key, &h);
    if (!p) return CORM_NOTFOUND;
    drop(l, p);
    return CORM_OK;
}

static corm_rc l_incr(corm__cache_be *be, const char *key, int64_t delta, int64_t *out,
                      corm_error *e)
{
    local *l = (local *)be;
    uint64_t h;
    entry **p = find(l, key, &h);
    if (!p) return CORM_NOTFOUND;
    entry *x = *p;
    int64_t v;
    if (!corm__cache_parse_int(x->data, x->len, &v)) {
        corm__err_set(e, CORM_TYPE, "the cached value is not an integer, it cannot be incremented");
        return CORM_TYPE;
    }
    if ((delta > 0 && v > INT64_MAX - delta) || (delta < 0 && v < INT64_MIN - delta)) {
        corm__err_set(e, CORM_INVALID, "incrementing %lld by %lld overflows a 64-bit integer",
                      (long long)v, (long long)delta);
        return CORM_INVALID;
    }
    v += delta;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    int64_t left = x->expires ? x->expires - now_ms() : CORM_CACHE_FOREVER;
    if (x->expires && left <= 0) left = 1;
    corm_rc rc = l_store(be, CORM__CACHE_SET, key, buf, (size_t)n, left, e);
    if (rc == CORM_OK && out) *out = v;
    return rc;
}

static corm_rc l_clear(corm__cache_be *be, corm_error *e)
{
    (void)e;
    local *l = (local *)be;
    while (l->head) {
        entry *t = l->head;
        drop(l, slot_of(l, t->key, t->klen, t->hash));
    }
    return CORM_OK;
}

static void l_stats(corm__cache_be *be, corm_cache_stats *st)
{
    local *l = (local *)be;
    st->bytes = l->bytes;
    st->keys = l->nkeys;
    st->evictions = l->evictions;
}

static void l_close(corm__cache_be *be)
{
    local *l = (local *)be;
    (void)l_clear(be, NULL);
    corm__free(l->buckets);
    corm__free(l);
}

corm__cache_be *corm__cache_local_open(size_t max_bytes, corm_error *e)
{
    local *l = corm__calloc(1, sizeof *l);
    if (l) l->buckets = corm__calloc(64, sizeof *l->buckets);
    if (!l || !l->buckets) {
        corm__free(l);
        corm__err_set(e, CORM_NOMEM, "out of memory opening a local cache");
        return NULL;
    }
    l->nbuckets = 64;
    l->max_bytes = max_bytes;
    l->be = (corm__cache_be){
        "local", l_get,   l_store, l_del, l_incr,
        l_clear, l_stats, l_close, NULL /* get_many: one get per key (a lock, no round trip) */};
    return &l->be;
}
