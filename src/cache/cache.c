/*
** cache.c - the corm_cache handle (include/corm/cache.h): key making and
** checking, timeouts, versions, stats and the "a cache that is down never
** breaks a read" rule, over a backend (local.c, redis.c) it serializes
** with one mutex.
*/
#include "cache_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct corm_cache {
    pthread_mutex_t mu;
    corm__cache_be *be;
    char *prefix;
    int version;
    int64_t default_timeout_ms;
    void (*on_error)(void *ud, const corm_error *err);
    void *on_error_ud;
    corm_cache_stats st;
};

#define KEY_MAX 250

bool corm__cache_value_dup(corm_cache_value *out, const void *data, size_t len)
{
    out->data = corm__malloc(len + 1);
    out->len = 0;
    if (!out->data) return false;
    if (len) memcpy(out->data, data, len);
    ((char *)out->data)[len] = 0;
    out->len = len;
    return true;
}

bool corm__cache_parse_int(const void *data, size_t len, int64_t *out)
{
    const char *s = data;
    size_t i = 0;
    bool neg = false;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
    if (i == len || len - i > 19) return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + neg) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

corm_cache *corm_cache_open(const corm_cache_config *cfg, corm_error *err)
{
    corm__err_clear(err);
    corm_cache_config none = {0};
    if (!cfg) cfg = &none;
    const char *url = cfg->url ? cfg->url : "local:";
    if (cfg->version < 0 ||
        (cfg->default_timeout_ms < 0 && cfg->default_timeout_ms != CORM_CACHE_FOREVER)) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_open: %s",
                      cfg->version < 0 ? "version must not be negative"
                                       : "default_timeout_ms must be > 0, 0 (300000) or "
                                         "CORM_CACHE_FOREVER");
        return NULL;
    }
    corm_cache *c = corm__calloc(1, sizeof *c);
    if (!c) {
        corm__err_set(err, CORM_NOMEM, "out of memory opening a cache");
        return NULL;
    }
    c->prefix = corm__strdup(cfg->key_prefix ? cfg->key_prefix : "");
    c->version = cfg->version ? cfg->version : 1;
    c->default_timeout_ms = cfg->default_timeout_ms ? cfg->default_timeout_ms : 300000;
    c->on_error = cfg->on_error;
    c->on_error_ud = cfg->on_error_ud;
    if (strcmp(url, "local:") == 0 || strcmp(url, "local") == 0) {
        c->be = corm__cache_local_open(cfg->max_bytes ? cfg->max_bytes : (size_t)64 << 20, err);
    } else if (strncmp(url, "redis://", 8) == 0 || strncmp(url, "unix:", 5) == 0) {
        c->be = corm__cache_redis_open(
            url, cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 1000,
            cfg->command_timeout_ms > 0 ? cfg->command_timeout_ms : 1000, err);
    } else {
        corm__err_set(err, CORM_INVALID, "unknown cache url '%s'", url);
        corm__err_hint(
            err,
            "use local:, redis://[:password@]host[:port][/db] or unix:/path/redis.sock[?db=N]");
    }
    if (!c->be || !c->prefix || pthread_mutex_init(&c->mu, NULL) != 0) {
        if (c->be) c->be->close(c->be);
        if (c->be || !c->prefix) corm__err_set(err, CORM_NOMEM, "out of memory opening a cache");
        corm__free(c->prefix);
        corm__free(c);
        return NULL;
    }
    return c;
}

void corm_cache_close(corm_cache *c)
{
    if (!c) return;
    c->be->close(c->be);
    pthread_mutex_destroy(&c->mu);
    corm__free(c->prefix);
    corm__free(c);
}

const char *corm_cache_backend(const corm_cache *c) { return c ? c->be->name : NULL; }

int64_t corm__cache_default_timeout(const corm_cache *c) { return c->default_timeout_ms; }

void corm_cache_value_free(corm_cache_value *v)
{
    if (!v) return;
    corm__free(v->data);
    v->data = NULL;
    v->len = 0;
}

/* "prefix:version:key" into buf; false with e filled for a bad key. */
static bool make_key(corm_cache *c, const char *key, int version, char *buf, size_t size,
                     corm_error *e)
{
    size_t n = key ? strlen(key) : 0;
    const char *bad = !key          ? "is NULL"
                      : n == 0      ? "is empty"
                      : n > KEY_MAX ? "is longer than 250 bytes"
                                    : NULL;
    for (size_t i = 0; !bad && i < n; i++)
        if ((unsigned char)key[i] <= ' ' || key[i] == 0x7f)
            bad = "contains a space or a control character";
    if (bad) {
        corm__err_set(e, key ? CORM_INVALID : CORM_MISUSE, "cache key '%.60s%s' %s", key ? key : "",
                      n > 60 ? "..." : "", bad);
        corm__err_hint(
            e, "keys are 1 to 250 bytes without spaces or control characters (hash longer ones)");
        return false;
    }
    if (version < 0) {
        corm__err_set(e, CORM_MISUSE, "cache key '%s': version %d is negative", key, version);
        return false;
    }
    int w = snprintf(buf, size, "%s:%d:%s", c->prefix, version ? version : c->version, key);
    if (w < 0 || (size_t)w >= size) {
        corm__err_set(e, CORM_INVALID, "cache key '%.60s' with its prefix is too long", key);
        corm__err_hint(e, "use a shorter key_prefix");
        return false;
    }
    return true;
}

/* A timeout as the backends take it: > 0 ms or CORM_CACHE_FOREVER; 0 means
** "expire now". */
static int64_t ttl_of(corm_cache *c, int64_t timeout_ms)
{
    if (timeout_ms == CORM_CACHE_DEFAULT) timeout_ms = c->default_timeout_ms;
    if (timeout_ms == CORM_CACHE_FOREVER) return CORM_CACHE_FOREVER;
    return timeout_ms > 0 ? timeout_ms : 0;
}

/* Counts a backend failure and reports it (on_error or stderr). */
static void failed(corm_cache *c, const corm_error *e)
{
    c->st.errors++;
    if (c->on_error) {
        c->on_error(c->on_error_ud, e);
    } else {
        char buf[1200];
        fprintf(stderr, "corm cache: %s\n", corm_error_format(e, buf, sizeof buf));
    }
}

static bool is_failure(corm_rc rc)
{
    return rc != CORM_OK && rc != CORM_NOTFOUND && rc != CORM_MULTIPLE;
}

/* Everything below: lock, make the key, call, count, unlock. */
#define KEYBUF (KEY_MAX + 512)

static corm_rc get_locked(corm_cache *c, const char *k, corm_cache_value *out, corm_error *e)
{
    corm_rc rc = c->be->get(c->be, k, out, e);
    if (rc == CORM_OK) {
        c->st.hits++;
        c->st.bytes_out += out->len;
        return CORM_OK;
    }
    c->st.misses++;
    if (is_failure(rc)) failed(c, e);
    return CORM_NOTFOUND; /* a read never breaks: a failure is a miss */
}

corm_rc corm_cache_get_v(corm_cache *c, const char *key, int version, corm_cache_value *out,
                         corm_error *err)
{
    corm_error e;
    corm__err_clear(&e);
    corm__err_clear(err);
    if (out) *out = (corm_cache_value){0};
    if (!c || !out) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_get: %s is NULL", c ? "out" : "the cache");
        return CORM_MISUSE;
    }
    char k[KEYBUF];
    if (!make_key(c, key, version, k, sizeof k, err)) return err ? err->rc : CORM_INVALID;
    pthread_mutex_lock(&c->mu);
    corm_rc rc = get_locked(c, k, out, &e);
    pthread_mutex_unlock(&c->mu);
    corm__err_copy(err, &e);
    return rc;
}

corm_rc corm_cache_get(corm_cache *c, const char *key, corm_cache_value *out, corm_error *err)
{
    return corm_cache_get_v(c, key, 0, out, err);
}

bool corm_cache_has_key(corm_cache *c, const char *key, corm_error *err)
{
    corm_cache_value v;
    corm_rc rc = corm_cache_get(c, key, &v, err);
    corm_cache_value_free(&v);
    return rc == CORM_OK;
}

static corm_rc store(corm_cache *c, corm__cache_mode mode, const char *key, int version,
                     const void *data, size_t len, int64_t timeout_ms, corm_error *err)
{
    corm_error e;
    corm__err_clear(&e);
    corm__err_clear(err);
    if (!c || (!data && len)) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_set: %s",
                      c ? "data is NULL with a length" : "the cache is NULL");
        return CORM_MISUSE;
    }
    char k[KEYBUF];
    if (!make_key(c, key, version, k, sizeof k, err)) return err ? err->rc : CORM_INVALID;
    int64_t ttl = ttl_of(c, timeout_ms);
    pthread_mutex_lock(&c->mu);
    corm_rc rc;
    if (ttl == 0) { /* expire now: what was there goes, nothing is stored */
        rc = c->be->del(c->be, k, &e);
        if (mode == CORM__CACHE_ADD && rc == CORM_OK) rc = CORM_MULTIPLE;
        else if (mode == CORM__CACHE_SET && rc == CORM_NOTFOUND) rc = CORM_OK;
        else if (mode == CORM__CACHE_ADD && rc == CORM_NOTFOUND) rc = CORM_OK;
    } else {
        rc = c->be->store(c->be, mode, k, data, len, ttl, &e);
        if (rc == CORM_OK && mode != CORM__CACHE_TOUCH) {
            c->st.sets++;
            c->st.bytes_in += len;
        }
    }
    if (is_failure(rc)) failed(c, &e);
    pthread_mutex_unlock(&c->mu);
    corm__err_copy(err, &e);
    return rc;
}

corm_rc corm_cache_set_v(corm_cache *c, const char *key, int version, const void *data, size_t len,
                         int64_t timeout_ms, corm_error *err)
{
    return store(c, CORM__CACHE_SET, key, version, data, len, timeout_ms, err);
}

corm_rc corm_cache_set(corm_cache *c, const char *key, const void *data, size_t len,
                       int64_t timeout_ms, corm_error *err)
{
    return store(c, CORM__CACHE_SET, key, 0, data, len, timeout_ms, err);
}

corm_rc corm_cache_add(corm_cache *c, const char *key, const void *data, size_t len,
                       int64_t timeout_ms, bool *added, corm_error *err)
{
    corm_rc rc = store(c, CORM__CACHE_ADD, key, 0, data, len, timeout_ms, err);
    if (added) *added = rc == CORM_OK;
    return rc == CORM_MULTIPLE ? CORM_OK : rc;
}

corm_rc corm_cache_touch(corm_cache *c, const char *key, int64_t timeout_ms, corm_error *err)
{
    return store(c, CORM__CACHE_TOUCH, key, 0, NULL, 0, timeout_ms, err);
}

corm_rc corm_cache_delete_v(corm_cache *c, const char *key, int version, corm_error *err)
{
    corm_error e;
    corm__err_clear(&e);
    corm__err_clear(err);
    if (!c) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_delete: the cache is NULL");
        return CORM_MISUSE;
    }
    char k[KEYBUF];
    if (!make_key(c, key, version, k, sizeof k, err)) return err ? err->rc : CORM_INVALID;
    pthread_mutex_lock(&c->mu);
    corm_rc rc = c->be->del(c->be, k, &e);
    if (rc == CORM_OK) c->st.deletes++;
    if (is_failure(rc)) failed(c, &e);
    pthread_mutex_unlock(&c->mu);
    corm__err_copy(err, &e);
    return rc;
}

corm_rc corm_cache_delete(corm_cache *c, const char *key, corm_error *err)
{
    return corm_cache_delete_v(c, key, 0, err);
}

corm_rc corm_cache_get_or_set(corm_cache *c, const char *key, corm_cache_make_fn make, void *ud,
                              int64_t timeout_ms, corm_cache_value *out, corm_error *err)
{
    if (!make || !out) {
        corm__err_clear(err);
        if (out) *out = (corm_cache_value){0};
        corm__err_set(err, CORM_MISUSE, "corm_cache_get_or_set: %s is NULL", make ? "out" : "make");
        return CORM_MISUSE;
    }
    corm_rc rc = corm_cache_get(c, key, out, err);
    if (rc != CORM_NOTFOUND) return rc;
    bool down = err && err->rc == CORM_CONN;
    const void *data = NULL;
    size_t len = 0;
    rc = make(ud, &data, &len);
    if (rc != CORM_OK) {
        corm__err_set(err, rc, "corm_cache_get_or_set('%s'): the make callback failed (%s)", key,
                      corm_rc_name(rc));
        return rc;
    }
    if (!down) {
        bool added = false;
        corm_error e;
        if (corm_cache_add(c, key, data, len, timeout_ms, &added, &e) != CORM_OK) {
            /* counted and logged by store(); the value is still returned */
        } else if (!added) {
            /* another caller stored it between the get and the add: return
            ** what the cache holds, as Django's get_or_set reads it again,
            ** so every racer gets the same value */
            corm_error e2;
            if (corm_cache_get(c, key, out, &e2) == CORM_OK) return CORM_OK;
        }
    }
    if (!corm__cache_value_dup(out, data, len)) {
        corm__err_set(err, CORM_NOMEM, "out of memory copying a value of %zu bytes", len);
        return CORM_NOMEM;
    }
    return CORM_OK;
}

static corm_rc incr(corm_cache *c, const char *key, int64_t delta, int64_t *out, corm_error *err)
{
    corm_error e;
    corm__err_clear(&e);
    corm__err_clear(err);
    if (!c) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_incr: the cache is NULL");
        return CORM_MISUSE;
    }
    char k[KEYBUF];
    if (!make_key(c, key, 0, k, sizeof k, err)) return err ? err->rc : CORM_INVALID;
    pthread_mutex_lock(&c->mu);
    corm_rc rc = c->be->incr(c->be, k, delta, out, &e);
    if (rc == CORM_NOTFOUND) {
        corm__err_set(&e, CORM_NOTFOUND, "cache key '%s' not found: it cannot be incremented", key);
        corm__err_hint(&e, "set it first (corm_cache_add(key, \"0\") makes a counter)");
    } else if (is_failure(rc) && rc != CORM_TYPE && rc != CORM_INVALID) {
        failed(c, &e);
    }
    pthread_mutex_unlock(&c->mu);
    corm__err_copy(err, &e);
    return rc;
}

corm_rc corm_cache_incr(corm_cache *c, const char *key, int64_t delta, int64_t *out,
                        corm_error *err)
{
    return incr(c, key, delta, out, err);
}

corm_rc corm_cache_decr(corm_cache *c, const char *key, int64_t delta, int64_t *out,
                        corm_error *err)
{
    if (delta == INT64_MIN) {
        corm__err_clear(err);
        corm__err_set(err, CORM_INVALID, "corm_cache_decr: delta INT64_MIN cannot be negated");
        return CORM_INVALID;
    }
    return incr(c, key, -delta, out, err);
}

corm_rc corm_cache_incr_version(corm_cache *c, const char *key, int version, int delta,
                                corm_error *err)
{
    int from = version ? version : c ? c->version : 1;
    if (from + delta <= 0) {
        corm__err_clear(err);
        corm__err_set(err, CORM_INVALID,
                      "corm_cache_incr_version('%s'): version %d + %d is not positive",
                      key ? key : "", from, delta);
        return CORM_INVALID;
    }
    corm_cache_value v;
    corm_rc rc = corm_cache_get_v(c, key, from, &v, err);
    if (rc == CORM_NOTFOUND && !(err && err->rc != CORM_OK)) {
        corm__err_set(err, CORM_NOTFOUND, "cache key '%s' (version %d) not found", key, from);
        return rc;
    }
    if (rc != CORM_OK) return rc;
    rc = corm_cache_set_v(c, key, from + delta, v.data, v.len, CORM_CACHE_DEFAULT, err);
    corm_cache_value_free(&v);
    if (rc == CORM_OK) {
        rc = corm_cache_delete_v(c, key, from, err);
        if (rc == CORM_NOTFOUND) rc = CORM_OK;
    }
    return rc;
}

/* The backend's get_many (Redis: MGET): one round trip.  A failure is n
** misses (a read never breaks), counted and reported once. */
static corm_rc get_many_at_once(corm_cache *c, const char *const *keys, size_t n,
                                corm_cache_value *out, corm_error *err)
{
    char *buf = n <= SIZE_MAX / KEYBUF / 2 ? corm__malloc(n * KEYBUF) : NULL;
    const char **made = buf ? corm__malloc(n * sizeof *made) : NULL;
    corm_rc rc = CORM_OK;
    if (!made) {
        corm__err_set(err, CORM_NOMEM, "out of memory making %zu cache keys", n);
        rc = CORM_NOMEM;
    }
    for (size_t i = 0; rc == CORM_OK && i < n; i++) {
        made[i] = buf + i * KEYBUF;
        if (!make_key(c, keys[i], 0, buf + i * KEYBUF, KEYBUF, err))
            rc = err ? err->rc : CORM_INVALID;
    }
    if (rc == CORM_OK) {
        corm_error e;
        corm__err_clear(&e);
        pthread_mutex_lock(&c->mu);
        corm_rc got = c->be->get_many(c->be, made, n, out, &e);
        for (size_t i = 0; i < n; i++) {
            if (got == CORM_OK && out[i].data) {
                c->st.hits++;
                c->st.bytes_out += out[i].len;
            } else c->st.misses++;
        }
        if (got != CORM_OK) failed(c, &e);
        pthread_mutex_unlock(&c->mu);
        if (got != CORM_OK) corm__err_copy(err, &e); /* misses, and why (as get) */
    }
    corm__free(made);
    corm__free(buf);
    return rc;
}

corm_rc corm_cache_get_many(corm_cache *c, const char *const *keys, size_t n, corm_cache_value *out,
                            corm_error *err)
{
    corm__err_clear(err);
    if (!keys || (n && !out)) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_get_many: keys or out is NULL");
        return CORM_MISUSE;
    }
    for (size_t i = 0; i < n; i++) out[i] = (corm_cache_value){0};
    if (c && n && c->be->get_many) return get_many_at_once(c, keys, n, out, err);
    for (size_t i = 0; i < n; i++) {
        corm_error e;
        corm_rc rc = corm_cache_get(c, keys[i], &out[i], &e);
        if (rc != CORM_OK && rc != CORM_NOTFOUND) {
            for (size_t j = 0; j < i; j++) corm_cache_value_free(&out[j]);
            corm__err_copy(err, &e);
            return rc;
        }
    }
    return CORM_OK;
}

corm_rc corm_cache_set_many(corm_cache *c, const char *const *keys, const corm_cache_value *values,
                            size_t n, int64_t timeout_ms, corm_error *err)
{
    corm__err_clear(err);
    if (!keys || (n && !values)) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_set_many: keys or values is NULL");
        return CORM_MISUSE;
    }
    for (size_t i = 0; i < n; i++) {
        corm_rc rc = corm_cache_set(c, keys[i], values[i].data, values[i].len, timeout_ms, err);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

corm_rc corm_cache_delete_many(corm_cache *c, const char *const *keys, size_t n, corm_error *err)
{
    corm__err_clear(err);
    if (!keys && n) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_delete_many: keys is NULL");
        return CORM_MISUSE;
    }
    for (size_t i = 0; i < n; i++) {
        corm_rc rc = corm_cache_delete(c, keys[i], err);
        if (rc != CORM_OK && rc != CORM_NOTFOUND) return rc;
    }
    corm__err_clear(err);
    return CORM_OK;
}

corm_rc corm_cache_clear(corm_cache *c, corm_error *err)
{
    corm_error e;
    corm__err_clear(&e);
    corm__err_clear(err);
    if (!c) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_clear: the cache is NULL");
        return CORM_MISUSE;
    }
    pthread_mutex_lock(&c->mu);
    corm_rc rc = c->be->clear(c->be, &e);
    if (rc != CORM_OK) failed(c, &e);
    pthread_mutex_unlock(&c->mu);
    corm__err_copy(err, &e);
    return rc;
}

corm_cache_stats corm_cache_get_stats(corm_cache *c)
{
    corm_cache_stats st = {0};
    if (!c) return st;
    pthread_mutex_lock(&c->mu);
    st = c->st;
    c->be->stats(c->be, &st);
    pthread_mutex_unlock(&c->mu);
    return st;
}

size_t corm_cache_metrics_prometheus(corm_cache *c, const char *name, char *buf, size_t size)
{
    if (buf && size) buf[0] = 0;
    if (!c) return 0;
    corm_cache_stats st = corm_cache_get_stats(c);
    corm_buf label;
    corm__buf_init(&label);
    for (const char *p = name && *name ? name : "default"; *p; p++) {
        if (*p == '"' || *p == '\\') corm__buf_addc(&label, '\\');
        if (*p == '\n') corm__buf_adds(&label, "\\n");
        else corm__buf_addc(&label, *p);
    }
    const struct {
        const char *metric, *type, *help;
        uint64_t v;
    } rows[] = {
        {"corm_cache_hits_total", "counter", "Cache reads that found their key.", st.hits},
        {"corm_cache_misses_total", "counter", "Cache reads that did not (failures included).",
         st.misses},
        {"corm_cache_sets_total", "counter", "Values stored.", st.sets},
        {"corm_cache_deletes_total", "counter", "Keys deleted.", st.deletes},
        {"corm_cache_errors_total", "counter", "Backend failures (a cache that is down).",
         st.errors},
        {"corm_cache_evictions_total", "counter", "Keys dropped for the memory cap (local).",
         st.evictions},
        {"corm_cache_bytes_in_total", "counter", "Value bytes stored.", st.bytes_in},
        {"corm_cache_bytes_out_total", "counter", "Value bytes returned by hits.", st.bytes_out},
        {"corm_cache_bytes", "gauge", "Memory in use (local).", st.bytes},
        {"corm_cache_keys", "gauge", "Keys held (local).", st.keys},
    };
    corm_buf b;
    corm__buf_init(&b);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        corm__buf_addf(&b, "# HELP %s %s\n# TYPE %s %s\n%s{cache=\"%s\",backend=\"%s\"} %llu\n",
                       rows[i].metric, rows[i].help, rows[i].metric, rows[i].type, rows[i].metric,
                       corm__buf_cstr(&label), c->be->name, (unsigned long long)rows[i].v);
    size_t len = b.len;
    if (buf && size) corm__strlcpy(buf, corm__buf_cstr(&b), size);
    corm__buf_free(&b);
    corm__buf_free(&label);
    return len;
}
