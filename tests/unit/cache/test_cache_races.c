/*
** test_cache_races.c - what issue 20 asks of the cache under concurrency
** and time, beyond test_cache.c, on both backends (local, and the Redis of
** CORM_TEST_REDIS): get_or_set racers all get the stored value (Django
** reads it again after its add), add has one winner among threads, incr
** and decr from threads on two Redis connections (two processes sharing a
** cache) lose no update, expired keys are gone for every call, and a Redis
** server stopped and started again while threads use the cache breaks
** nothing.
*/
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "redis_proc.h"

static int errors_seen;
static pthread_mutex_t errors_mu = PTHREAD_MUTEX_INITIALIZER;
static void count_error(void *ud, const corm_error *e)
{
    (void)ud;
    (void)e;
    pthread_mutex_lock(&errors_mu);
    errors_seen++;
    pthread_mutex_unlock(&errors_mu);
}

static corm_cache *open_cache(const char *url)
{
    corm_cache_config cfg = {.url = url, .key_prefix = "r", .on_error = count_error};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    if (!c) fail_msg("corm_cache_open(%s): %s", url, err.message);
    return c;
}

static const char *url_of(void **state) { return *state; }

static int setup_local(void **state)
{
    *state = "local:";
    return 0;
}

static int setup_redis(void **state)
{
    const char *url = test_redis_url();
    *state = (void *)url;
    return url ? 0 : -1;
}

/* ---- get_or_set: every caller gets the value the cache holds ---- */

static corm_cache *racing_cache;
static corm_rc make_after_another(void *ud, const void **data, size_t *len)
{
    /* another caller stores the key while this one computes */
    corm_error err;
    assert_int_equal(corm_cache_set(racing_cache, "report", "theirs", 6, CORM_CACHE_DEFAULT, &err),
                     CORM_OK);
    *data = ud;
    *len = strlen(ud);
    return CORM_OK;
}

static void test_get_or_set_returns_the_winner(void **state)
{
    corm_cache *c = racing_cache = open_cache(url_of(state));
    corm_error err;
    corm_cache_value v;
    assert_int_equal(corm_cache_get_or_set(c, "report", make_after_another, "mine",
                                           CORM_CACHE_DEFAULT, &v, &err),
                     CORM_OK);
    assert_string_equal(v.data, "theirs");
    corm_cache_value_free(&v);
    assert_int_equal(corm_cache_get(c, "report", &v, &err), CORM_OK);
    assert_string_equal(v.data, "theirs");
    corm_cache_value_free(&v);
    corm_cache_close(c);
}

#define NTHREADS 8
static pthread_barrier_t go;

typedef struct racer {
    corm_cache *c;
    char mine[24];
    char got[24];
    bool added;
    int failures;
} racer;

static corm_rc make_mine(void *ud, const void **data, size_t *len)
{
    racer *r = ud;
    *data = r->mine;
    *len = strlen(r->mine);
    return CORM_OK;
}

static void *get_or_set_thread(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(&go);
    corm_cache_value v;
    corm_error err;
    if (corm_cache_get_or_set(r->c, "shared", make_mine, r, CORM_CACHE_DEFAULT, &v, &err) !=
        CORM_OK) {
        r->failures++;
        return NULL;
    }
    snprintf(r->got, sizeof r->got, "%s", (const char *)v.data);
    corm_cache_value_free(&v);
    return NULL;
}

static void *add_thread(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(&go);
    corm_error err;
    if (corm_cache_add(r->c, "once", r->mine, strlen(r->mine), CORM_CACHE_DEFAULT, &r->added,
                       &err) != CORM_OK)
        r->failures++;
    return NULL;
}

/* Threads on handles of their own (several processes) or one shared; the
** shared handle is returned, to check what the race left (the caller closes
** it: a local cache lives as long as its handle). */
static corm_cache *race(void **state, void *(*fn)(void *), bool own_handles, racer *r)
{
    corm_cache *shared = open_cache(url_of(state));
    bool local = strcmp(corm_cache_backend(shared), "local") == 0;
    pthread_t t[NTHREADS];
    assert_int_equal(pthread_barrier_init(&go, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++) {
        /* the local cache is per handle: its racers share one */
        r[i].c = own_handles && !local ? open_cache(url_of(state)) : shared;
        snprintf(r[i].mine, sizeof r[i].mine, "value-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, fn, &r[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(r[i].failures, 0);
        if (r[i].c != shared) corm_cache_close(r[i].c);
    }
    return shared;
}

static void test_get_or_set_threads(void **state)
{
    for (int own = 0; own < 2; own++) {
        racer r[NTHREADS] = {0};
        corm_cache *c = race(state, get_or_set_thread, own, r);
        corm_cache_value v;
        corm_error err;
        assert_int_equal(corm_cache_get(c, "shared", &v, &err), CORM_OK);
        for (int i = 0; i < NTHREADS; i++)
            if (strcmp(r[i].got, v.data) != 0)
                fail_msg("racer %d got '%s', the cache holds '%s'", i, r[i].got, (char *)v.data);
        corm_cache_value_free(&v);
        assert_int_equal(corm_cache_delete(c, "shared", &err), CORM_OK);
        corm_cache_close(c);
    }
}

static void test_add_one_winner(void **state)
{
    for (int own = 0; own < 2; own++) {
        racer r[NTHREADS] = {0};
        corm_cache *c = race(state, add_thread, own, r);
        int winners = 0, winner = -1;
        for (int i = 0; i < NTHREADS; i++)
            if (r[i].added) winners++, winner = i;
        assert_int_equal(winners, 1);
        corm_cache_value v;
        corm_error err;
        assert_int_equal(corm_cache_get(c, "once", &v, &err), CORM_OK);
        assert_string_equal(v.data, r[winner].mine);
        corm_cache_value_free(&v);
        assert_int_equal(corm_cache_delete(c, "once", &err), CORM_OK);
        corm_cache_close(c);
    }
}

/* ---- incr/decr from threads, on one handle or on a handle each ---- */

#define NINCR 250
typedef struct counter {
    corm_cache *c;
    int64_t delta;
    int failures;
} counter;

static void *count_thread(void *arg)
{
    counter *k = arg;
    pthread_barrier_wait(&go);
    for (int i = 0; i < NINCR; i++) {
        corm_error err;
        corm_rc rc = k->delta > 0 ? corm_cache_incr(k->c, "n", k->delta, NULL, &err)
                                  : corm_cache_decr(k->c, "n", -k->delta, NULL, &err);
        if (rc != CORM_OK) k->failures++;
    }
    return NULL;
}

static void test_incr_decr_race(void **state)
{
    for (int own = 0; own < 2; own++) {
        corm_cache *c = open_cache(url_of(state));
        bool local = strcmp(corm_cache_backend(c), "local") == 0;
        corm_error err;
        assert_int_equal(corm_cache_set(c, "n", "1000", 4, CORM_CACHE_FOREVER, &err), CORM_OK);
        counter k[NTHREADS];
        pthread_t t[NTHREADS];
        assert_int_equal(pthread_barrier_init(&go, NULL, NTHREADS), 0);
        for (int i = 0; i < NTHREADS; i++) {
            k[i] = (counter){own && !local ? open_cache(url_of(state)) : c, i % 2 ? -1 : 3, 0};
            assert_int_equal(pthread_create(&t[i], NULL, count_thread, &k[i]), 0);
        }
        for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < NTHREADS; i++) {
            assert_int_equal(k[i].failures, 0);
            if (k[i].c != c) corm_cache_close(k[i].c);
        }
        int64_t n = 0;
        assert_int_equal(corm_cache_incr(c, "n", 0, &n, &err), CORM_OK);
        /* 4 threads +3 and 4 threads -1, NINCR times each */
        assert_int_equal(n, 1000 + NTHREADS / 2 * NINCR * 3 - NTHREADS / 2 * NINCR);
        assert_int_equal(corm_cache_get_stats(c).errors, 0);
        corm_cache_close(c);
    }
}

/* ---- an expired key is gone for every call ---- */

static void test_expired_everywhere(void **state)
{
    corm_cache *c = open_cache(url_of(state));
    corm_error err;
    assert_int_equal(corm_cache_set(c, "gone", "7", 1, 50, &err), CORM_OK);
    assert_int_equal(corm_cache_set(c, "kept", "8", 1, CORM_CACHE_FOREVER, &err), CORM_OK);
    sleep_ms(150);
    corm_cache_value v;
    assert_int_equal(corm_cache_get(c, "gone", &v, &err), CORM_NOTFOUND);
    assert_false(corm_cache_has_key(c, "gone", &err));
    int64_t n;
    assert_int_equal(corm_cache_incr(c, "gone", 1, &n, &err), CORM_NOTFOUND);
    assert_int_equal(corm_cache_touch(c, "gone", CORM_CACHE_FOREVER, &err), CORM_NOTFOUND);
    assert_int_equal(corm_cache_incr_version(c, "gone", 0, 1, &err), CORM_NOTFOUND);
    const char *const keys[] = {"gone", "kept"};
    corm_cache_value many[2];
    assert_int_equal(corm_cache_get_many(c, keys, 2, many, &err), CORM_OK);
    assert_null(many[0].data);
    assert_string_equal(many[1].data, "8");
    corm_cache_value_free(&many[1]);
    bool added;
    assert_int_equal(corm_cache_add(c, "gone", "9", 1, CORM_CACHE_DEFAULT, &added, &err), CORM_OK);
    assert_true(added);
    assert_int_equal(corm_cache_incr(c, "gone", 1, &n, &err), CORM_OK);
    assert_int_equal(n, 10);
    /* a version moved keeps the data, and is a key of its own timeout */
    short_ttl t = {.ms = 50};
    corm_rc rc;
    do {
        short_ttl_start(&t);
        assert_int_equal(corm_cache_set(c, "v", "x", 1, t.ms, &err), CORM_OK);
        rc = corm_cache_incr_version(c, "v", 0, 1, &err);
    } while (short_ttl_again(&t, rc == CORM_OK));
    assert_int_equal(rc, CORM_OK);
    sleep_ms(t.ms + 100);
    assert_int_equal(corm_cache_get_v(c, "v", 2, &v, &err), CORM_OK); /* the default timeout */
    corm_cache_value_free(&v);
    assert_int_equal(corm_cache_get_stats(c).errors, 0);
    assert_int_equal(corm_cache_clear(c, &err), CORM_OK);
    corm_cache_close(c);
}

/* ---- a Redis server stopped and started while threads use the cache ---- */

static volatile int stop_workers;
static void *worker(void *arg)
{
    corm_cache *c = arg;
    char key[32];
    unsigned seed = (unsigned)(uintptr_t)&key;
    while (!stop_workers) {
        snprintf(key, sizeof key, "w%u", rand_r(&seed) % 16);
        corm_error err;
        corm_cache_value v;
        corm_rc rc = corm_cache_get(c, key, &v, &err);
        if (rc == CORM_OK) corm_cache_value_free(&v);
        else if (rc != CORM_NOTFOUND) return (void *)1; /* a read never fails */
        rc = corm_cache_set(c, key, "1", 1, CORM_CACHE_DEFAULT, &err);
        if (rc != CORM_OK && rc != CORM_CONN) return (void *)2;
        rc = corm_cache_incr(c, key, 1, NULL, &err);
        if (rc != CORM_OK && rc != CORM_CONN && rc != CORM_NOTFOUND) return (void *)3;
        sleep_ms(1);
    }
    return NULL;
}

static void test_redis_down_under_threads(void **state)
{
    (void)state;
    char dir[] = "/tmp/corm-redis-threads.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sock[128], url[160];
    snprintf(sock, sizeof sock, "%s/r.sock", dir);
    snprintf(url, sizeof url, "unix:%s", sock);
    pid_t pid = start_redis(dir, sock);
    corm_cache_config cfg = {.url = url,
                             .key_prefix = "t",
                             .on_error = count_error,
                             .connect_timeout_ms = 200,
                             .command_timeout_ms = 1000}; /* a stalled server is not down */
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    assert_non_null(c);
    errors_seen = 0;
    stop_workers = 0;
    pthread_t t[4];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, worker, c), 0);
    sleep_ms(200);
    stop_redis(pid, sock); /* mid-flight */
    sleep_ms(300);
    uint64_t errors_down = corm_cache_get_stats(c).errors;
    pid = start_redis(dir, sock);
    sleep_ms(300);
    stop_workers = 1;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r) fail_msg("worker %d: a call failed in a way it must not (%d)", i, (int)(intptr_t)r);
    }
    corm_cache_stats st = corm_cache_get_stats(c);
    assert_true(errors_down > 0);
    assert_int_equal(st.errors, (uint64_t)errors_seen);
    /* back: the next calls work, no new error */
    assert_int_equal(corm_cache_set(c, "after", "ok", 2, CORM_CACHE_DEFAULT, &err), CORM_OK);
    corm_cache_value v;
    assert_int_equal(corm_cache_get(c, "after", &v, &err), CORM_OK);
    assert_string_equal(v.data, "ok");
    corm_cache_value_free(&v);
    assert_int_equal(corm_cache_get_stats(c).errors, st.errors);
    corm_cache_close(c);
    stop_redis(pid, sock);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest both[] = {
        cmocka_unit_test(test_get_or_set_returns_the_winner),
        cmocka_unit_test(test_get_or_set_threads),
        cmocka_unit_test(test_add_one_winner),
        cmocka_unit_test(test_incr_decr_race),
        cmocka_unit_test(test_expired_everywhere),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_redis_down_under_threads),
    };
    int rc = cmocka_run_group_tests_name("cache races: local", both, setup_local, NULL);
    rc |= cmocka_run_group_tests_name("cache races: redis", both, setup_redis, NULL);
    rc |= cmocka_run_group_tests_name("cache races: redis stopped", own, NULL, NULL);
    return rc;
}
