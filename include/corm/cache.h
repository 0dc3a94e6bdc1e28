/*
** corm/cache.h - the cache family, after Django's low-level cache API:
** get, set with a timeout (or forever), add, delete, get_or_set, incr/decr,
** touch, the _many variants, clear, versioned keys and a key prefix, with
** an in-process LRU backend and a Redis backend (hiredis).  Included by
** <corm.h>; include that.  docs/cache.md.
*/
#ifndef CORM_CACHE_H
#define CORM_CACHE_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corm_cache corm_cache;

/* Timeouts are in milliseconds.  0 (or any other negative value than the two
** below) expires the key at once, as Django's timeout=0 does. */
#define CORM_CACHE_FOREVER (-1) /* never expires (Django's timeout=None) */
#define CORM_CACHE_DEFAULT (-2) /* the cache's default_timeout_ms */

typedef struct corm_cache_config {
    /* "local:" (or NULL): an LRU in this process; "redis://[:password@]
    ** host[:port][/db]" or "unix:/path/redis.sock[?db=N]": a Redis server
    ** shared by every process that uses it.  Copied. */
    const char *url;
    const char *key_prefix;     /* Django's KEY_PREFIX; copied, NULL: "" */
    int version;                /* Django's VERSION, the default (0: 1) */
    int64_t default_timeout_ms; /* CORM_CACHE_DEFAULT's value (0: 300000, as
                                ** Django's 300 s; CORM_CACHE_FOREVER: never) */
    size_t max_bytes;           /* local: the memory cap, keys + values +
                                ** bookkeeping; least recently used keys go
                                ** first (0: 64 MiB) */
    int connect_timeout_ms;     /* redis: connecting (0: 1000) */
    int command_timeout_ms;     /* redis: one command (0: 1000) */
    /* Called (from the calling thread) for every backend failure, also the
    ** ones a read turns into a miss.  NULL: one line on stderr. */
    void (*on_error)(void *ud, const corm_error *err);
    void *on_error_ud;
} corm_cache_config;

/* Bytes from the cache: data is owned (free with corm_cache_value_free),
** NUL-terminated for convenience; len does not count that NUL.  Values are
** binary-safe. */
typedef struct corm_cache_value {
    void *data;
    size_t len;
} corm_cache_value;

/*
** corm_cache_open - a cache handle; NULL with err filled when the url is
** wrong (a Redis server that is down is not an error: the handle connects
** when a call needs it).  corm_cache_close accepts NULL.
** Threads: a corm_cache is thread-safe (one mutex per handle); share one
** between a pool's threads.
** Errors: every call below takes an optional caller-owned err (NULL: not
** wanted); it is cleared on entry.  A cache that is down never breaks a
** read: corm_cache_get reports a miss (CORM_NOTFOUND) with err CORM_CONN, the
** on_error hook is called and the errors counter grows; writes return
** CORM_CONN.  Since: 0.2
*/
CORM_API corm_cache *corm_cache_open(const corm_cache_config *cfg, corm_error *err);
CORM_API void corm_cache_close(corm_cache *c);
/* "local" or "redis". */
CORM_API const char *corm_cache_backend(const corm_cache *c);

/* Keys: 1 to 250 bytes with no space or control character (Django's
** memcached-safe rule); the stored key is "prefix:version:key".  A bad key is
** CORM_INVALID. */

/* CORM_OK with *out filled (free it), CORM_NOTFOUND on a miss (out zeroed). */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_get(corm_cache *c, const char *key,
                                                 corm_cache_value *out, corm_error *err);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_get_v(corm_cache *c, const char *key, int version,
                                                   corm_cache_value *out, corm_error *err);
CORM_API void corm_cache_value_free(corm_cache_value *v);
/* Stores len bytes of data under key for timeout_ms. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_set(corm_cache *c, const char *key, const void *data,
                                                 size_t len, int64_t timeout_ms, corm_error *err);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_set_v(corm_cache *c, const char *key, int version,
                                                   const void *data, size_t len, int64_t timeout_ms,
                                                   corm_error *err);
/* Stores only when key is absent (atomically): *added says whether it did. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_add(corm_cache *c, const char *key, const void *data,
                                                 size_t len, int64_t timeout_ms, bool *added,
                                                 corm_error *err);
/* CORM_OK when key was there, CORM_NOTFOUND when it was not. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_delete(corm_cache *c, const char *key,
                                                    corm_error *err);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_delete_v(corm_cache *c, const char *key, int version,
                                                      corm_error *err);
/* A new timeout for an existing key: CORM_OK, or CORM_NOTFOUND. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_touch(corm_cache *c, const char *key,
                                                   int64_t timeout_ms, corm_error *err);
/* Whether key is present (a read: false when the cache is down). */
CORM_API bool corm_cache_has_key(corm_cache *c, const char *key, corm_error *err);

/* The value of key, or make's (stored for timeout_ms, as add does): make sets
** *data and *len to bytes that stay valid until corm_cache_get_or_set returns;
** a make that fails (not CORM_OK) is returned and nothing is stored.  When
** another caller stored the key between the read and the add, the value the
** cache holds is returned (Django reads it again), so concurrent callers
** all get the same value.  When the cache is down, make's value is returned
** (reads never break). */
typedef corm_rc (*corm_cache_make_fn)(void *ud, const void **data, size_t *len);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_get_or_set(corm_cache *c, const char *key,
                                                        corm_cache_make_fn make, void *ud,
                                                        int64_t timeout_ms, corm_cache_value *out,
                                                        corm_error *err);

/* Adds delta to the integer (decimal text) under key, atomically, keeping
** its timeout; *out (may be NULL) gets the new value.  A missing key is
** CORM_NOTFOUND (Django raises ValueError), a value that is not an integer
** CORM_TYPE. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_incr(corm_cache *c, const char *key, int64_t delta,
                                                  int64_t *out, corm_error *err);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_decr(corm_cache *c, const char *key, int64_t delta,
                                                  int64_t *out, corm_error *err);
/* Moves key from version to version + delta (Django's incr_version);
** CORM_NOTFOUND when it is absent. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_incr_version(corm_cache *c, const char *key,
                                                          int version, int delta, corm_error *err);

/* out[i] for keys[i]: data NULL on a miss.  Free each with
** corm_cache_value_free.  A cache that is down gives misses (as get). */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_get_many(corm_cache *c, const char *const *keys,
                                                      size_t n, corm_cache_value *out,
                                                      corm_error *err);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_set_many(corm_cache *c, const char *const *keys,
                                                      const corm_cache_value *values, size_t n,
                                                      int64_t timeout_ms, corm_error *err);
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_delete_many(corm_cache *c, const char *const *keys,
                                                         size_t n, corm_error *err);
/* Removes every key of the cache - on Redis, of its database (FLUSHDB), as
** Django's clear() does, whatever the prefix. */
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_clear(corm_cache *c, corm_error *err);

typedef struct corm_cache_stats {
    uint64_t hits, misses, sets, deletes;
    uint64_t errors;    /* backend failures (reads among them became misses) */
    uint64_t evictions; /* local: keys dropped for the memory cap */
    uint64_t bytes_in;  /* value bytes stored */
    uint64_t bytes_out; /* value bytes returned by hits */
    size_t bytes;       /* local: memory in use now (keys, values, bookkeeping) */
    size_t keys;        /* local: keys held now (expired ones until touched) */
} corm_cache_stats;
CORM_API corm_cache_stats corm_cache_get_stats(corm_cache *c);
/* The stats in the Prometheus text format, labelled cache="name" (several
** caches can share one /metrics page: concatenate), as
** corm_metrics_prometheus: at most size bytes written (NUL-terminated when
** size > 0), the length of the whole text returned. */
CORM_API size_t corm_cache_metrics_prometheus(corm_cache *c, const char *name, char *buf,
                                              size_t size);

/* ---- the per-view cache (Django's cache_page): docs/cache.md, "Caching a
** page" ----
**
** A handler asks corm_cache_page_get before it renders; on a miss it
** renders and hands the response to corm_cache_page_store.  The key is the
** method, the route, the path, the query string and the vary key (who the
** page is for), hashed (SHA-256), under the page's key_prefix and version.
** As Django's cache middleware: only GET and HEAD are looked up and stored
** (a HEAD finds the GET's copy), only a status 200 is stored, and the
** response gets Cache-Control: max-age and Expires (an Age too when it
** comes from the cache).
**
** Personalised pages: a page marked per_user varies by the vary key, and
** every call for it must give one (the user's id, the session's key, or
** "anonymous" said explicitly).  A call without one is refused with
** CORM_MISUSE before the cache is read or written, so one user's page is
** never served to another by a forgotten vary key.  Its Cache-Control is
** also "private" (a shared proxy must not keep it). */
typedef struct corm_cache_page {
    const char *route;      /* the route pattern, in the key and in messages
                               ("/users/{id}/orders"); required */
    int64_t timeout_ms;     /* cache_page(timeout): > 0, 0 (never stored,
                               max-age=0) or CORM_CACHE_DEFAULT (the cache's,
                               which must then be finite) */
    const char *key_prefix; /* cache_page's key_prefix (NULL: none) */
    bool per_user;          /* personalised: every call needs a vary key */
    int version;            /* the key's version (0: the cache's); raise it
                               to drop every cached copy of the page */
} corm_cache_page;

/* The request a page answers.  Strings are borrowed for the call. */
typedef struct corm_cache_request {
    const char *method; /* "GET", "HEAD", ...: only GET and HEAD are cached */
    const char *path;   /* the URL's path ("/users/7/orders") */
    const char *query;  /* the query string without '?' (NULL or "": none) */
    const char *vary;   /* who the page is for; NULL: nobody in particular
                           (refused for a per_user page) */
} corm_cache_request;

/* The headers of a cacheable response (empty strings: not to send). */
typedef struct corm_cache_headers {
    char cache_control[40]; /* "max-age=60" or "max-age=60, private" */
    char expires[40];       /* an HTTP date: "Wed, 02 Dec 2026 17:01:00 GMT" */
    char age[24];           /* seconds since it was stored: hits only */
} corm_cache_headers;

/* A response from the cache: owned, free with corm_cached_response_free. */
typedef struct corm_cached_response {
    int status;
    char *content_type; /* as stored ("" when none was given) */
    void *body;         /* NUL-terminated for convenience; len does not count it */
    size_t len;
    corm_cache_headers headers;
} corm_cached_response;

/*
** corm_cache_page_get - the cached response of page for rq: CORM_OK with
** *out filled (send it with its headers), CORM_NOTFOUND on a miss (render
** it, then corm_cache_page_store), also for a method that is not cached and
** for a cache that is down (err then says CORM_CONN, counted as for
** corm_cache_get: the page renders from the database).  CORM_MISUSE for a
** per_user page without a vary key, or a bad argument: do not serve the
** page from the cache nor store it.  Since: 0.2
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_page_get(corm_cache *c, const corm_cache_page *page,
                                                      const corm_cache_request *rq,
                                                      corm_cached_response *out, corm_error *err);
/*
** corm_cache_page_store - after rendering: stores the response (binary-safe
** body, content type, status) when rq is a GET or HEAD, status is 200 and
** the timeout is not 0; fills *headers (may be NULL) with what to send for
** a GET or HEAD answered 200 or 304 (Django's patch_response_headers), and
** empties them otherwise.  *stored (may be NULL) says whether it stored.
** CORM_OK also when nothing was stored; CORM_MISUSE as corm_cache_page_get;
** CORM_CONN for a cache that is down (the response is still good to send).
** Since: 0.2
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_cache_page_store(corm_cache *c, const corm_cache_page *page,
                                                        const corm_cache_request *rq, int status,
                                                        const char *content_type, const void *body,
                                                        size_t len, corm_cache_headers *headers,
                                                        bool *stored, corm_error *err);
CORM_API void corm_cached_response_free(corm_cached_response *r);

#ifdef __cplusplus
}
#endif
#endif
