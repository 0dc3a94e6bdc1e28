/*
** test_cache.c - the cache API (corm/cache.h) on both backends: the local
** LRU and a real Redis (CORM_TEST_REDIS, started by
** tools/redis-test-server.sh in make test).  The same tests run on each;
** then what only one backend has: the local memory cap, and a Redis
** server stopped mid-test (this program starts and stops its own).
*/
#include "test.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis.h>

#include "redis_proc.h"

static int errors_seen;
static void count_error(void *ud, const corm_error *e)
{
    (void)ud;
    (void)e;
    errors_seen++;
}

static corm_cache *open_cache(const char *url, const char *prefix)
{
    corm_cache_config cfg = {.url = url, .key_prefix = prefix, .on_error = count_error};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    if (!c) fail_msg("corm_cache_open(%s): %s", url ? url : "local:", err.message);
    return c;
}

static int setup_local(void **state)
{
    *state = open_cache("local:", "t");
    return 0;
}

static int setup_redis(void **state)
{
    const char *url = test_redis_url();
    if (!url) return -1;
    *state = open_cache(url, "t");
    return 0;
}

static int teardown(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    if (c && corm_cache_clear(c, &err) != CORM_OK) print_error("clear: %s\n", err.message);
    corm_cache_close(c);
    return 0;
}

/* the value of key as a string, or NULL on a miss (freed next call) */
static char *got;
static const char *get_str(corm_cache *c, const char *key)
{
    free(got);
    got = NULL;
    corm_cache_value v;
    corm_error err;
    corm_rc rc = corm_cache_get(c, key, &v, &err);
    if (rc == CORM_NOTFOUND) return NULL;
    assert_int_equal(rc, CORM_OK);
    assert_int_equal(strlen(v.data), v.len);
    got = strdup(v.data);
    corm_cache_value_free(&v);
    return got;
}

static void set_str(corm_cache *c, const char *key, const char *val, int64_t timeout)
{
    corm_error err;
    assert_int_equal(corm_cache_set(c, key, val, strlen(val), timeout, &err), CORM_OK);
}

static void test_get_set_delete(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    assert_null(get_str(c, "a"));
    set_str(c, "a", "one", CORM_CACHE_DEFAULT);
    assert_string_equal(get_str(c, "a"), "one");
    set_str(c, "a", "uno", CORM_CACHE_FOREVER);
    assert_string_equal(get_str(c, "a"), "uno");
    assert_true(corm_cache_has_key(c, "a", &err));
    assert_int_equal(corm_cache_delete(c, "a", &err), CORM_OK);
    assert_int_equal(corm_cache_delete(c, "a", &err), CORM_NOTFOUND);
    assert_false(corm_cache_has_key(c, "a", &err));
    corm_cache_stats st = corm_cache_get_stats(c);
    assert_int_equal(st.hits, 3); /* has_key is a get */
    assert_int_equal(st.sets, 2);
    assert_int_equal(st.deletes, 1);
    assert_int_equal(st.errors, 0);
}

static void test_binary_values(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    const unsigned char bin[] = {0, 1, 2, 0, 255, '\n', ' ', 0};
    assert_int_equal(corm_cache_set(c, "bin", bin, sizeof bin, CORM_CACHE_DEFAULT, &err), CORM_OK);
    corm_cache_value v;
    assert_int_equal(corm_cache_get(c, "bin", &v, &err), CORM_OK);
    assert_int_equal(v.len, sizeof bin);
    assert_memory_equal(v.data, bin, sizeof bin);
    corm_cache_value_free(&v);
    assert_int_equal(corm_cache_set(c, "empty", NULL, 0, CORM_CACHE_DEFAULT, &err), CORM_OK);
    assert_int_equal(corm_cache_get(c, "empty", &v, &err), CORM_OK);
    assert_int_equal(v.len, 0);
    assert_string_equal(v.data, "");
    corm_cache_value_free(&v);
}

static void test_timeouts(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    set_str(c, "long", "y", CORM_CACHE_FOREVER);
    short_ttl t = {.ms = 60};
    const char *v;
    do {
        short_ttl_start(&t);
        set_str(c, "short", "x", t.ms);
        v = get_str(c, "short");
    } while (short_ttl_again(&t, v != NULL));
    assert_non_null(v);
    assert_string_equal(v, "x");
    sleep_ms(t.ms + 90);
    assert_null(get_str(c, "short"));
    assert_string_equal(get_str(c, "long"), "y");
    /* 0 expires at once (and removes what was there), as Django's timeout=0 */
    set_str(c, "long", "z", 0);
    assert_null(get_str(c, "long"));
    /* touch gives a new timeout, only to a key that is there */
    corm_rc rc;
    t.ms = 60;
    do {
        short_ttl_start(&t);
        set_str(c, "t", "1", t.ms);
        rc = corm_cache_touch(c, "t", CORM_CACHE_FOREVER, &err);
    } while (short_ttl_again(&t, rc == CORM_OK));
    assert_int_equal(rc, CORM_OK);
    sleep_ms(t.ms + 90);
    assert_string_equal(get_str(c, "t"), "1");
    assert_int_equal(corm_cache_touch(c, "t", 60, &err), CORM_OK);
    sleep_ms(150);
    assert_null(get_str(c, "t"));
    assert_int_equal(corm_cache_touch(c, "t", 60, &err), CORM_NOTFOUND);
}

static void test_add(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    bool added = false;
    assert_int_equal(corm_cache_add(c, "k", "1", 1, CORM_CACHE_DEFAULT, &added, &err), CORM_OK);
    assert_true(added);
    assert_int_equal(corm_cache_add(c, "k", "2", 1, CORM_CACHE_DEFAULT, &added, &err), CORM_OK);
    assert_false(added);
    assert_string_equal(get_str(c, "k"), "1");
    /* an expired key is absent */
    set_str(c, "gone", "old", 30);
    sleep_ms(100);
    assert_int_equal(corm_cache_add(c, "gone", "new", 3, CORM_CACHE_DEFAULT, &added, &err),
                     CORM_OK);
    assert_true(added);
    assert_string_equal(get_str(c, "gone"), "new");
}

static int makes;
static corm_rc make_value(void *ud, const void **data, size_t *len)
{
    makes++;
    *data = ud;
    *len = strlen(ud);
    return CORM_OK;
}
static corm_rc make_fails(void *ud, const void **data, size_t *len)
{
    (void)ud;
    (void)data;
    (void)len;
    return CORM_DB;
}

static void test_get_or_set(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    corm_cache_value v;
    makes = 0;
    assert_int_equal(
        corm_cache_get_or_set(c, "g", make_value, "made", CORM_CACHE_DEFAULT, &v, &err), CORM_OK);
    assert_string_equal(v.data, "made");
    corm_cache_value_free(&v);
    assert_int_equal(
        corm_cache_get_or_set(c, "g", make_value, "again", CORM_CACHE_DEFAULT, &v, &err), CORM_OK);
    assert_string_equal(v.data, "made");
    corm_cache_value_free(&v);
    assert_int_equal(makes, 1);
    assert_int_equal(corm_cache_get_or_set(c, "h", make_fails, NULL, CORM_CACHE_DEFAULT, &v, &err),
                     CORM_DB);
    assert_non_null(strstr(err.message, "make callback failed"));
    assert_null(v.data);
    assert_null(get_str(c, "h"));
}

static void test_incr_decr(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    int64_t n = 0;
    assert_int_equal(corm_cache_incr(c, "n", 1, &n, &err), CORM_NOTFOUND);
    assert_non_null(strstr(err.message, "not found"));
    set_str(c, "n", "10", CORM_CACHE_DEFAULT);
    assert_int_equal(corm_cache_incr(c, "n", 5, &n, &err), CORM_OK);
    assert_int_equal(n, 15);
    assert_int_equal(corm_cache_decr(c, "n", 20, &n, &err), CORM_OK);
    assert_int_equal(n, -5);
    assert_string_equal(get_str(c, "n"), "-5");
    set_str(c, "s", "abc", CORM_CACHE_DEFAULT);
    assert_int_equal(corm_cache_incr(c, "s", 1, &n, &err), CORM_TYPE);
    assert_non_null(strstr(err.message, "not an integer"));
    /* incr keeps the timeout */
    short_ttl t = {.ms = 80};
    corm_rc rc;
    do {
        short_ttl_start(&t);
        set_str(c, "e", "1", t.ms);
        rc = corm_cache_incr(c, "e", 1, &n, &err);
    } while (short_ttl_again(&t, rc == CORM_OK));
    assert_int_equal(rc, CORM_OK);
    sleep_ms(t.ms + 120);
    assert_null(get_str(c, "e"));
    assert_int_equal(corm_cache_get_stats(c).errors, 0);
}

#define NTHREADS 4
#define NINCR 300
static void *incr_thread(void *arg)
{
    corm_cache *c = arg;
    for (int i = 0; i < NINCR; i++) {
        corm_error err;
        if (corm_cache_incr(c, "race", 1, NULL, &err) != CORM_OK) return (void *)1;
    }
    return NULL;
}

static void test_incr_race(void **state)
{
    corm_cache *c = *state;
    bool added;
    corm_error err;
    assert_int_equal(corm_cache_add(c, "race", "0", 1, CORM_CACHE_FOREVER, &added, &err), CORM_OK);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, incr_thread, c), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    char want[16];
    snprintf(want, sizeof want, "%d", NTHREADS * NINCR);
    assert_string_equal(get_str(c, "race"), want);
}

static void test_versions_and_prefix(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    corm_cache_value v;
    assert_int_equal(corm_cache_set_v(c, "top", 2, "v2", 2, CORM_CACHE_DEFAULT, &err), CORM_OK);
    assert_null(get_str(c, "top")); /* the default version is 1 */
    assert_int_equal(corm_cache_get_v(c, "top", 2, &v, &err), CORM_OK);
    assert_string_equal(v.data, "v2");
    corm_cache_value_free(&v);
    assert_int_equal(corm_cache_incr_version(c, "top", 2, 1, &err), CORM_OK);
    assert_int_equal(corm_cache_get_v(c, "top", 2, &v, &err), CORM_NOTFOUND);
    assert_int_equal(corm_cache_get_v(c, "top", 3, &v, &err), CORM_OK);
    assert_string_equal(v.data, "v2");
    corm_cache_value_free(&v);
    assert_int_equal(corm_cache_incr_version(c, "missing", 0, 1, &err), CORM_NOTFOUND);
    assert_int_equal(corm_cache_delete_v(c, "top", 3, &err), CORM_OK);
    /* another prefix on the same backend does not see these keys */
    set_str(c, "shared", "mine", CORM_CACHE_DEFAULT);
    const char *url = getenv("CORM_TEST_REDIS");
    if (strcmp(corm_cache_backend(c), "redis") == 0) {
        corm_cache *other = open_cache(url, "other");
        assert_null(get_str(other, "shared"));
        set_str(other, "shared", "theirs", CORM_CACHE_DEFAULT);
        assert_string_equal(get_str(c, "shared"), "mine");
        corm_cache_close(other);
    }
}

static void test_many(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    const char *keys[] = {"m1", "m2", "m3"};
    corm_cache_value vals[] = {{"one", 3}, {"two", 3}, {"three", 5}};
    assert_int_equal(corm_cache_set_many(c, keys, vals, 2, CORM_CACHE_DEFAULT, &err), CORM_OK);
    corm_cache_value out[3];
    assert_int_equal(corm_cache_get_many(c, keys, 3, out, &err), CORM_OK);
    assert_string_equal(out[0].data, "one");
    assert_string_equal(out[1].data, "two");
    assert_null(out[2].data);
    for (int i = 0; i < 3; i++) corm_cache_value_free(&out[i]);
    assert_int_equal(corm_cache_delete_many(c, keys, 3, &err), CORM_OK);
    assert_null(get_str(c, "m1"));
    assert_null(get_str(c, "m2"));
    set_str(c, "x", "1", CORM_CACHE_DEFAULT);
    assert_int_equal(corm_cache_clear(c, &err), CORM_OK);
    assert_null(get_str(c, "x"));
}

/* Many keys: hits, misses and binary values in order, each counted. */
static void test_get_many_large(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    enum { N = 300 };
    static char names[N][24];
    static const char *keys[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "many-%d", i);
        keys[i] = names[i];
        char val[8] = {'v', 0, (char)i, (char)(i >> 8), 'x'};
        if (i % 3 != 2)
            assert_int_equal(corm_cache_set(c, keys[i], val, 5, CORM_CACHE_DEFAULT, &err), CORM_OK);
    }
    corm_cache_stats before = corm_cache_get_stats(c);
    static corm_cache_value out[N];
    assert_int_equal(corm_cache_get_many(c, keys, N, out, &err), CORM_OK);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 2) {
            assert_null(out[i].data);
            continue;
        }
        assert_int_equal(out[i].len, 5);
        const unsigned char *d = out[i].data;
        assert_true(d[0] == 'v' && d[1] == 0 && d[2] == (unsigned char)i &&
                    d[3] == (unsigned char)(i >> 8) && d[4] == 'x');
        corm_cache_value_free(&out[i]);
    }
    corm_cache_stats after = corm_cache_get_stats(c);
    assert_int_equal(after.hits - before.hits, 200);
    assert_int_equal(after.misses - before.misses, 100);
    assert_int_equal(after.bytes_out - before.bytes_out, 1000);
    /* no keys: nothing to do; a bad key: refused, nothing filled */
    assert_int_equal(corm_cache_get_many(c, keys, 0, NULL, &err), CORM_OK);
    const char *bad[] = {"many-0", "has space"};
    assert_int_equal(corm_cache_get_many(c, bad, 2, out, &err), CORM_INVALID);
    assert_non_null(strstr(err.message, "space or a control character"));
    assert_null(out[0].data);
}

/* Redis: get_many is one MGET, not a GET per key (INFO commandstats). */
static long long redis_calls(const char *cmd)
{
    const char *url = getenv("CORM_TEST_REDIS");
    assert_true(url && strncmp(url, "unix:", 5) == 0);
    redisContext *ctx = redisConnectUnix(url + 5);
    assert_true(ctx && !ctx->err);
    redisReply *rep = redisCommand(ctx, "INFO commandstats");
    assert_true(rep && rep->type == REDIS_REPLY_STRING);
    char want[64];
    snprintf(want, sizeof want, "cmdstat_%s:calls=", cmd);
    const char *at = strstr(rep->str, want);
    long long n = at ? atoll(at + strlen(want)) : 0;
    freeReplyObject(rep);
    redisFree(ctx);
    return n;
}

static void test_redis_mget_one_round_trip(void **state)
{
    (void)state;
    corm_cache *c = open_cache(getenv("CORM_TEST_REDIS"), "mget");
    corm_error err;
    const char *keys[50];
    char names[50][24];
    for (int i = 0; i < 50; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        keys[i] = names[i];
    }
    assert_int_equal(corm_cache_set(c, "m7", "seven", 5, CORM_CACHE_DEFAULT, &err), CORM_OK);
    long long mget = redis_calls("mget"), get = redis_calls("get");
    corm_cache_value out[50];
    assert_int_equal(corm_cache_get_many(c, keys, 50, out, &err), CORM_OK);
    assert_int_equal(redis_calls("mget"), mget + 1);
    assert_int_equal(redis_calls("get"), get);
    for (int i = 0; i < 50; i++) {
        if (i == 7) assert_string_equal(out[i].data, "seven");
        else assert_null(out[i].data);
        corm_cache_value_free(&out[i]);
    }
    assert_int_equal(corm_cache_clear(c, &err), CORM_OK);
    corm_cache_close(c);
}

static void test_bad_keys(void **state)
{
    corm_cache *c = *state;
    corm_error err;
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    assert_int_equal(corm_cache_set(c, "has space", "1", 1, CORM_CACHE_DEFAULT, &err),
                     CORM_INVALID);
    assert_non_null(strstr(err.message, "space or a control character"));
    assert_non_null(strstr(err.hint, "1 to 250 bytes"));
    corm_cache_value v;
    assert_int_equal(corm_cache_get(c, long_key, &v, &err), CORM_INVALID);
    assert_non_null(strstr(err.message, "longer than 250"));
    assert_int_equal(corm_cache_get(c, "", &v, &err), CORM_INVALID);
    assert_int_equal(corm_cache_get(c, NULL, &v, &err), CORM_MISUSE);
    assert_int_equal(corm_cache_get(NULL, "k", &v, &err), CORM_MISUSE);
    assert_int_equal(corm_cache_set(c, "k", NULL, 3, CORM_CACHE_DEFAULT, &err), CORM_MISUSE);
    assert_int_equal(corm_cache_get_stats(c).errors, 0);
}

static void test_metrics(void **state)
{
    /* a handle of its own: the stats are per handle */
    bool redis = strcmp(corm_cache_backend(*state), "redis") == 0;
    corm_cache *c = open_cache(redis ? getenv("CORM_TEST_REDIS") : "local:", "metrics");
    set_str(c, "m", "12345", CORM_CACHE_DEFAULT);
    assert_non_null(get_str(c, "m"));
    assert_null(get_str(c, "nope"));
    size_t n = corm_cache_metrics_prometheus(c, "pages\"x", NULL, 0);
    char *text = malloc(n + 1);
    assert_int_equal(corm_cache_metrics_prometheus(c, "pages\"x", text, n + 1), n);
    char want[200];
    snprintf(want, sizeof want, "corm_cache_hits_total{cache=\"pages\\\"x\",backend=\"%s\"} 1\n",
             corm_cache_backend(c));
    if (!strstr(text, want)) fail_msg("no '%s' in:\n%s", want, text);
    assert_non_null(strstr(text, "# TYPE corm_cache_misses_total counter\n"));
    assert_non_null(strstr(text, "corm_cache_bytes_in_total{"));
    snprintf(want, sizeof want,
             "corm_cache_bytes_out_total{cache=\"pages\\\"x\",backend=\"%s\"} 5\n",
             corm_cache_backend(c));
    assert_non_null(strstr(text, want));
    free(text);
    char small[8];
    assert_int_equal(corm_cache_metrics_prometheus(c, NULL, small, sizeof small),
                     n - 10); /* 10 rows, each label 1 byte shorter */
    assert_int_equal(strlen(small), 7);
    corm_cache_close(c);
}

static void test_bad_urls(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"memcached://x", "unknown cache url"},
        {"redis://", "no host"},
        {"redis://h:0", "port must be a number"},
        {"redis://h:6379/x", "database number"},
        {"unix:relative.sock", "must be absolute"},
        {"unix:/tmp/r.sock?timeout=3", "only parameter"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        corm_cache_config cfg = {.url = bad[i][0]};
        corm_error err;
        assert_null(corm_cache_open(&cfg, &err));
        assert_int_equal(err.rc, CORM_INVALID);
        if (!strstr(err.message, bad[i][1])) fail_msg("%s: %s", bad[i][0], err.message);
        assert_non_null(strstr(err.hint, "redis://"));
    }
    corm_cache_close(NULL);
}

static void test_local_memory_cap(void **state)
{
    (void)state;
    corm_cache_config cfg = {.max_bytes = 4096, .on_error = count_error};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    assert_non_null(c);
    char val[200];
    memset(val, 'v', sizeof val);
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(corm_cache_set(c, key, val, sizeof val, CORM_CACHE_FOREVER, &err),
                         CORM_OK);
        assert_non_null(get_str(c, "k0")); /* k0 stays the most recently used */
    }
    corm_cache_stats st = corm_cache_get_stats(c);
    assert_true(st.bytes <= 4096);
    assert_true(st.evictions > 0);
    assert_int_equal(st.keys + st.evictions, 100);
    assert_non_null(get_str(c, "k99"));
    assert_non_null(get_str(c, "k0"));
    assert_null(get_str(c, "k1"));
    /* a value bigger than the cap is refused, with what to do */
    char big[5000] = {0};
    assert_int_equal(corm_cache_set(c, "big", big, sizeof big, CORM_CACHE_FOREVER, &err),
                     CORM_INVALID);
    assert_non_null(strstr(err.hint, "max_bytes"));
    corm_cache_close(c);
}

static void test_redis_down_mid_test(void **state)
{
    (void)state;
    char dir[] = "/tmp/corm-redis-down.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sock[128], url[160];
    snprintf(sock, sizeof sock, "%s/r.sock", dir);
    snprintf(url, sizeof url, "unix:%s", sock);
    pid_t pid = start_redis(dir, sock);
    corm_cache *c = open_cache(url, "d");
    corm_error err;
    set_str(c, "k", "v", CORM_CACHE_FOREVER);
    assert_string_equal(get_str(c, "k"), "v");

    stop_redis(pid, sock);
    errors_seen = 0;
    corm_cache_value v;
    /* a read is a miss, with the reason, a counter and the hook called */
    assert_int_equal(corm_cache_get(c, "k", &v, &err), CORM_NOTFOUND);
    assert_int_equal(err.rc, CORM_CONN);
    assert_non_null(strstr(err.message, "redis cache at unix:"));
    assert_non_null(strstr(err.hint, "Redis server running"));
    assert_null(v.data);
    assert_int_equal(corm_cache_get(c, "k", &v, &err), CORM_NOTFOUND);
    /* get_or_set still gives the made value */
    assert_int_equal(
        corm_cache_get_or_set(c, "k", make_value, "fresh", CORM_CACHE_DEFAULT, &v, &err), CORM_OK);
    assert_string_equal(v.data, "fresh");
    corm_cache_value_free(&v);
    /* writes say so */
    assert_int_equal(corm_cache_set(c, "k", "w", 1, CORM_CACHE_DEFAULT, &err), CORM_CONN);
    assert_int_equal(corm_cache_incr(c, "k", 1, NULL, &err), CORM_CONN);
    corm_cache_stats st = corm_cache_get_stats(c);
    assert_int_equal(st.errors, 5);
    assert_int_equal(errors_seen, 5);
    assert_int_equal(st.misses, 3);
    /* get_many (MGET): every key a miss, one error for the one round trip */
    const char *const keys[] = {"k", "k2", "k3"};
    corm_cache_value many[3];
    assert_int_equal(corm_cache_get_many(c, keys, 3, many, &err), CORM_OK);
    for (int i = 0; i < 3; i++) assert_null(many[i].data);
    st = corm_cache_get_stats(c);
    assert_int_equal(st.errors, 6);
    assert_int_equal(errors_seen, 6);
    assert_int_equal(st.misses, 6);

    /* the server comes back (empty): the next call reconnects */
    pid = start_redis(dir, sock);
    assert_null(get_str(c, "k"));
    set_str(c, "k", "back", CORM_CACHE_FOREVER);
    assert_string_equal(get_str(c, "k"), "back");
    corm_cache_close(c);
    stop_redis(pid, sock);
    rmdir(dir);
}

#define BOTH(fn) cmocka_unit_test(fn)
int main(void)
{
    const struct CMUnitTest shared[] = {
        BOTH(test_get_set_delete), BOTH(test_binary_values),
        BOTH(test_timeouts),       BOTH(test_add),
        BOTH(test_get_or_set),     BOTH(test_incr_decr),
        BOTH(test_incr_race),      BOTH(test_versions_and_prefix),
        BOTH(test_many),           BOTH(test_bad_keys),
        BOTH(test_metrics),        BOTH(test_get_many_large),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_local_memory_cap),
        cmocka_unit_test(test_redis_down_mid_test),
        cmocka_unit_test(test_redis_mget_one_round_trip),
    };
    int rc = cmocka_run_group_tests_name("cache: local", shared, setup_local, teardown);
    rc |= cmocka_run_group_tests_name("cache: redis", shared, setup_redis, teardown);
    rc |= cmocka_run_group_tests_name("cache: one backend", own, NULL, NULL);
    free(got);
    return rc;
}
