/*
** cache_int.h - the cache layer's internals: the backend vtable the handle
** (cache.c) calls with its mutex held, and the two backends (local.c,
** redis.c).  Keys reach a backend already made ("prefix:version:key").
*/
#ifndef CORM_CACHE_INT_H
#define CORM_CACHE_INT_H

#include <corm.h>
#include "../core/core_int.h"

typedef enum corm__cache_mode {
    CORM__CACHE_SET,  /* store */
    CORM__CACHE_ADD,  /* store only when absent: CORM_MULTIPLE when present */
    CORM__CACHE_TOUCH /* new timeout only: CORM_NOTFOUND when absent */
} corm__cache_mode;

/* A backend; every call runs with the handle's mutex held.  ttl_ms > 0, or
** CORM_CACHE_FOREVER.  Failures fill e (CORM_CONN for a server that is down)
** and return its rc. */
typedef struct corm__cache_be corm__cache_be;
struct corm__cache_be {
    const char *name;
    corm_rc (*get)(corm__cache_be *be, const char *key, corm_cache_value *out, corm_error *e);
    corm_rc (*store)(corm__cache_be *be, corm__cache_mode mode, const char *key, const void *data,
                     size_t len, int64_t ttl_ms, corm_error *e);
    corm_rc (*del)(corm__cache_be *be, const char *key,
                   corm_error *e); /* CORM_NOTFOUND when absent */
    corm_rc (*incr)(corm__cache_be *be, const char *key, int64_t delta, int64_t *out,
                    corm_error *e);
    corm_rc (*clear)(corm__cache_be *be, corm_error *e);
    void (*stats)(corm__cache_be *be, corm_cache_stats *st); /* bytes, keys, evictions */
    void (*close)(corm__cache_be *be);
    /* Optional (NULL: one get per key): n keys in one round trip; out[i]
    ** is filled for a hit and left zeroed for a miss.  CORM_OK, or the
    ** failure (nothing filled). */
    corm_rc (*get_many)(corm__cache_be *be, const char *const *keys, size_t n,
                        corm_cache_value *out, corm_error *e);
};

corm__cache_be *corm__cache_local_open(size_t max_bytes, corm_error *e);
corm__cache_be *corm__cache_redis_open(const char *url, int connect_timeout_ms,
                                       int command_timeout_ms, corm_error *e);
/* Copies len bytes into a new NUL-terminated value; false on OOM. */
bool corm__cache_value_dup(corm_cache_value *out, const void *data, size_t len);
/* Parses decimal text as an int64; false when it is not one. */
bool corm__cache_parse_int(const void *data, size_t len, int64_t *out);
/* The cache's default_timeout_ms (CORM_CACHE_DEFAULT's value): view.c. */
int64_t corm__cache_default_timeout(const corm_cache *c);

#endif
