/*
** redis.c - the Redis cache backend through hiredis (synchronous, one
** connection per handle; the handle's mutex serializes it, hiredis' context
** is not thread-safe).  A lost or refused connection is retried by the
** next call, so a server that comes back is used again; while it is down
** every call fails fast with CORM_CONN.
*/
#include "cache_int.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

typedef struct redis {
    corm__cache_be be;
    redisContext *ctx;
    char *host, *path, *password; /* path: a unix socket, else host:port */
    int port, db;
    int connect_timeout_ms, command_timeout_ms;
} redis;

static struct timeval tv_of(int ms) { return (struct timeval){ms / 1000, (ms % 1000) * 1000}; }

static const char *where(redis *r, char *buf, size_t size)
{
    if (r->path) snprintf(buf, size, "unix:%s", r->path);
    else snprintf(buf, size, "%s:%d", r->host, r->port);
    return buf;
}

static void drop_ctx(redis *r)
{
    if (r->ctx) redisFree(r->ctx);
    r->ctx = NULL;
}

static corm_rc conn_error(redis *r, const char *what, corm_error *e)
{
    char w[300];
    corm__err_set(e, CORM_CONN, "redis cache at %s: %s", where(r, w, sizeof w), what);
    corm__err_hint(
        e, "is the Redis server running? reads fall back to misses until it answers; the next call "
           "reconnects");
    drop_ctx(r);
    return CORM_CONN;
}

/* Writing to a server that went away raises SIGPIPE, which would kill the
** program: while a command runs the calling thread blocks it, and a SIGPIPE
** it caused is consumed before it is unblocked (libpq does the same). */
typedef struct sigpipe_guard {
    sigset_t old;
    bool was_pending;
} sigpipe_guard;

static void sigpipe_block(sigpipe_guard *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
}

static void sigpipe_restore(sigpipe_guard *g)
{
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static redisReply *run_guarded(redis *r, corm_error *e, int argc, const char **argv,
                               const size_t *lens);

/* Runs a command on a working connection (connecting first when there is
** none): the reply, or NULL with e filled. */
static redisReply *run(redis *r, corm_error *e, int argc, const char **argv, const size_t *lens)
{
    sigpipe_guard g;
    sigpipe_block(&g);
    redisReply *rep = run_guarded(r, e, argc, argv, lens);
    sigpipe_restore(&g);
    return rep;
}

static redisReply *run_guarded(redis *r, corm_error *e, int argc, const char **argv,
                               const size_t *lens)
{
    if (!r->ctx) {
        struct timeval ct = tv_of(r->connect_timeout_ms);
        r->ctx = r->path ? redisConnectUnixWithTimeout(r->path, ct)
                         : redisConnectWithTimeout(r->host, r->port, ct);
        if (!r->ctx || r->ctx->err) {
            char msg[200];
            snprintf(msg, sizeof msg, "cannot connect: %s",
                     r->ctx ? r->ctx->errstr : "out of memory");
            conn_error(r, msg, e);
            return NULL;
        }
        redisSetTimeout(r->ctx, tv_of(r->command_timeout_ms));
        char dbtxt[16];
        snprintf(dbtxt, sizeof dbtxt, "%d", r->db);
        const char *auth[] = {"AUTH", r->password}, *sel[] = {"SELECT", dbtxt};
        for (int i = r->password ? 0 : 1; i < 2; i++) {
            redisReply *rep = redisCommandArgv(r->ctx, 2, i == 0 ? auth : sel, NULL);
            bool bad = !rep || rep->type == REDIS_REPLY_ERROR;
            char msg[300];
            snprintf(msg, sizeof msg, "%s failed: %s", i == 0 ? "AUTH" : "SELECT",
                     rep ? rep->str : r->ctx->errstr);
            if (rep) freeReplyObject(rep);
            if (bad) {
                conn_error(r, msg, e);
                return NULL;
            }
        }
    }
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, lens);
    if (!rep) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s failed: %s", argv[0], r->ctx->errstr);
        conn_error(r, msg, e);
        return NULL;
    }
    return rep;
}

static corm_rc reply_error(redisReply *rep, const char *cmd, corm_error *e)
{
    corm_rc rc = strstr(rep->str, "not an integer") ? CORM_TYPE : CORM_DB;
    if (rc == CORM_TYPE)
        corm__err_set(e, rc, "the cached value is not an integer, it cannot be incremented");
    else corm__err_set(e, rc, "redis cache: %s: %s", cmd, rep->str);
    freeReplyObject(rep);
    return rc;
}

static corm_rc r_get(corm__cache_be *be, const char *key, corm_cache_value *out, corm_error *e)
{
    const char *argv[] = {"GET", key};
    redisReply *rep = run((redis *)be, e, 2, argv, NULL);
    if (!rep) return CORM_CONN;
    if (rep->type == REDIS_REPLY_ERROR) return reply_error(rep, "GET", e);
    corm_rc rc = CORM_NOTFOUND;
    if (rep->type == REDIS_REPLY_STRING) {
        rc = CORM_OK;
        if (!corm__cache_value_dup(out, rep->str, rep->len)) {
            corm__err_set(e, CORM_NOMEM, "out of memory copying a cached value of %zu bytes",
                          (size_t)rep->len);
            rc = CORM_NOMEM;
        }
    }
    freeReplyObject(rep);
    return rc;
}

/* MGET: every key in one round trip. */
static corm_rc r_get_many(corm__cache_be *be, const char *const *keys, size_t n,
                          corm_cache_value *out, corm_error *e)
{
    if (n > INT32_MAX - 1) {
        corm__err_set(e, CORM_MISUSE, "redis cache: MGET of %zu keys is too many", n);
        return CORM_MISUSE;
    }
    const char **argv = corm__malloc((n + 1) * sizeof *argv);
    if (!argv) {
        corm__err_set(e, CORM_NOMEM, "out of memory for an MGET of %zu keys", n);
        return CORM_NOMEM;
    }
    argv[0] = "MGET";
    memcpy(argv + 1, keys, n * sizeof *argv);
    redisReply *rep = run((redis *)be, e, (int)n + 1, argv, NULL);
    corm__free(argv);
    if (!rep) return CORM_CONN;
    if (rep->type == REDIS_REPLY_ERROR) return reply_error(rep, "MGET", e);
    corm_rc rc = CORM_OK;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
        corm__err_set(e, CORM_DB, "redis cache: MGET answered %zu values for %zu keys",
                      rep->type == REDIS_REPLY_ARRAY ? (size_t)rep->elements : 0, n);
        rc = CORM_DB;
    }
    for (size_t i = 0; rc == CORM_OK && i < n; i++) {
        const redisReply *v = rep->element[i];
        if (v->type != REDIS_REPLY_STRING) continue; /* nil: a miss */
        if (!corm__cache_value_dup(&out[i], v->str, v->len)) {
            corm__err_set(e, CORM_NOMEM, "out of memory copying a cached value of %zu bytes",
                          (size_t)v->len);
            rc = CORM_NOMEM;
        }
    }
    if (rc != CORM_OK)
        for (size_t i = 0; i < n; i++) corm_cache_value_free(&out[i]);
    freeReplyObject(rep);
    return rc;
}

/* Sets a key's timeout when it exists: 1, else 0 (PERSIST alone answers 0
** for a key without a timeout too). */
static const char TOUCH_LUA[] = "if redis.call('exists', KEYS[1]) == 0 then return 0 end "
                                "if ARGV[1] == '-1' then redis.call('persist', KEYS[1]) "
                                "else redis.call('pexpire', KEYS[1], ARGV[1]) end return 1";
/* INCRBY on an existing key only (Django's incr raises on a missing one). */
static const char INCR_LUA[] = "if redis.call('exists', KEYS[1]) == 0 then return false end "
                               "return redis.call('incrby', KEYS[1], ARGV[1])";

static corm_rc r_store(corm__cache_be *be, corm__cache_mode mode, const char *key, const void *data,
                       size_t len, int64_t ttl_ms, corm_error *e)
{
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *argv[7];
    size_t lens[7];
    int argc = 0;
    if (mode == CORM__CACHE_TOUCH) {
        argv[argc++] = "EVAL";
        argv[argc++] = TOUCH_LUA;
        argv[argc++] = "1";
        argv[argc++] = key;
        argv[argc++] = ttl;
    } else {
        argv[argc++] = "SET";
        argv[argc++] = key;
        lens[argc] = len;
        argv[argc++] = data ? data : "";
        if (ttl_ms != CORM_CACHE_FOREVER) {
            argv[argc++] = "PX";
            argv[argc++] = ttl;
        }
        if (mode == CORM__CACHE_ADD) argv[argc++] = "NX";
    }
    for (int i = 0; i < argc; i++)
        if (!(mode != CORM__CACHE_TOUCH && i == 2)) lens[i] = strlen(argv[i]);
    redisReply *rep = run((redis *)be, e, argc, argv, lens);
    if (!rep) return CORM_CONN;
    if (rep->type == REDIS_REPLY_ERROR) return reply_error(rep, argv[0], e);
    corm_rc rc = CORM_OK;
    if (mode == CORM__CACHE_TOUCH)
        rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 ? CORM_OK : CORM_NOTFOUND;
    else if (mode == CORM__CACHE_ADD && rep->type == REDIS_REPLY_NIL) rc = CORM_MULTIPLE;
    freeReplyObject(rep);
    return rc;
}

static corm_rc r_del(corm__cache_be *be, const char *key, corm_error *e)
{
    const char *argv[] = {"DEL", key};
    redisReply *rep = run((redis *)be, e, 2, argv, NULL);
    if (!rep) return CORM_CONN;
    if (rep->type == REDIS_REPLY_ERROR) return reply_error(rep, "DEL", e);
    corm_rc rc = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 ? CORM_OK : CORM_NOTFOUND;
    freeReplyObject(rep);
    return rc;
}

static corm_rc r_incr(corm__cache_be *be, const char *key, int64_t delta, int64_t *out,
                      corm_error *e)
{
    char d[32];
    snprintf(d, sizeof d, "%lld", (long long)delta);
    const char *argv[] = {"EVAL", INCR_LUA, "1", key, d};
    redisReply *rep = run((redis *)be, e, 5, argv, NULL);
    if (!rep) return CORM_CONN;
    if (rep->type == REDIS_REPLY_ERROR) return reply_error(rep, "INCRBY", e);
    corm_rc rc = CORM_NOTFOUND;
    if (rep->type == REDIS_REPLY_INTEGER) {
        rc = CORM_OK;
        if (out) *out = rep->integer;
    }
    freeReplyObject(rep);
    return rc;
}

static corm_rc r_clear(corm__cache_be *be, corm_error *e)
{
    const char *argv[] = {"FLUSHDB"};
    redisReply *rep = run((redis *)be, e, 1, argv, NULL);
    if (!rep) return CORM_CONN;
    if (rep->type == REDIS_REPLY_ERROR) return reply_error(rep, "FLUSHDB", e);
    freeReplyObject(rep);
    return CORM_OK;
}

static void r_stats(corm__cache_be *be, corm_cache_stats *st)
{
    (void)be;
    (void)st; /* the server keeps its own (INFO memory) */
}

static void r_close(corm__cache_be *be)
{
    redis *r = (redis *)be;
    drop_ctx(r);
    corm__free(r->host);
    corm__free(r->path);
    corm__free(r->password);
    corm__free(r);
}

static bool parse_int_range(const char *s, size_t n, int lo, int hi, int *out)
{
    int64_t v;
    if (!corm__cache_parse_int(s, n, &v) || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

/* redis://[:password@]host[:port][/db] or unix:PATH[?db=N] (unix:///PATH
** too).  false with e filled. */
static bool parse_url(redis *r, const char *url, corm_error *e)
{
    const char *bad = NULL;
    r->port = 6379;
    if (strncmp(url, "unix:", 5) == 0) {
        const char *p = url + 5;
        if (strncmp(p, "//", 2) == 0) p += 2;
        const char *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || p[0] != '/')
            bad = "the socket path must be absolute (unix:/run/redis/redis.sock)";
        else if (q && (strncmp(q, "?db=", 4) != 0 ||
                       !parse_int_range(q + 4, strlen(q + 4), 0, 1 << 20, &r->db)))
            bad = "the only parameter is ?db=N, N a database number";
        else r->path = corm__strndup(p, n);
    } else if (strncmp(url, "redis://", 8) == 0) {
        const char *p = url + 8, *at = strchr(p, '@');
        if (at) {
            const char *pw = memchr(p, ':', (size_t)(at - p));
            if (pw) r->password = corm__strndup(pw + 1, (size_t)(at - pw - 1));
            p = at + 1;
        }
        const char *slash = strchr(p, '/');
        size_t hn = slash ? (size_t)(slash - p) : strlen(p);
        const char *colon = memchr(p, ':', hn);
        size_t hlen = colon ? (size_t)(colon - p) : hn;
        if (hlen == 0) bad = "no host (redis://localhost:6379/0)";
        else if (colon && !parse_int_range(colon + 1, hn - hlen - 1, 1, 65535, &r->port))
            bad = "the port must be a number from 1 to 65535";
        else if (slash && slash[1] &&
                 !parse_int_range(slash + 1, strlen(slash + 1), 0, 1 << 20, &r->db))
            bad = "the path must be a database number (redis://host:6379/0)";
        else r->host = corm__strndup(p, hlen);
    } else {
        bad = "the scheme must be redis:// or unix:";
    }
    if (bad) {
        corm__err_set(e, CORM_INVALID, "bad cache url '%s': %s", url, bad);
        corm__err_hint(
            e, "use local:, redis://[:password@]host[:port][/db] or unix:/path/redis.sock[?db=N]");
        return false;
    }
    if (!r->host && !r->path) {
        corm__err_set(e, CORM_NOMEM, "out of memory opening a redis cache");
        return false;
    }
    return true;
}

corm__cache_be *corm__cache_redis_open(const char *url, int connect_timeout_ms,
                                       int command_timeout_ms, corm_error *e)
{
    redis *r = corm__calloc(1, sizeof *r);
    if (!r) {
        corm__err_set(e, CORM_NOMEM, "out of memory opening a redis cache");
        return NULL;
    }
    r->be = (corm__cache_be){"redis", r_get,   r_store, r_del,     r_incr,
                             r_clear, r_stats, r_close, r_get_many};
    if (!parse_url(r, url, e)) {
        r_close(&r->be);
        return NULL;
    }
    r->connect_timeout_ms = connect_timeout_ms;
    r->command_timeout_ms = command_timeout_ms;
    return &r->be;
}
