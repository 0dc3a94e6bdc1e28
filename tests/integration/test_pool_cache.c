/*
** test_pool_cache.c - a pool's cache (corm_pool_use_cache, docs/cache.md
** "Cached querysets") on both cache backends (the local LRU and a real
** Redis: CORM_TEST_REDIS, tools/redis-test-server.sh) and both databases:
** a write through one pooled connection invalidates a queryset cached
** through another; a connection whose holder detached the cache, or that
** the health check reconnected, is handed out with it; the error paths.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static corm_db *db; /* the test's own connection (fixtures, the server kill) */
static corm_cache *cache;
static const char *cache_url; /* NULL: local */

static corm_cache *open_cache(const char *url)
{
    corm_cache_config cfg = {.url = url, .key_prefix = "pc"};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    if (!c) fail_msg("corm_cache_open(%s): %s", url ? url : "local:", err.message);
    return c;
}

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    cache = open_cache(cache_url);
    corm_error err;
    return corm_cache_clear(cache, &err) == CORM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    corm_cache_close(cache);
    return 0;
}

static int group_local(void **state)
{
    (void)state;
    cache_url = NULL;
    return 0;
}

static int group_redis(void **state)
{
    (void)state;
    cache_url = getenv("CORM_TEST_REDIS");
    if (!cache_url || !*cache_url) {
        print_error(
            "CORM_TEST_REDIS is not set: run under tools/redis-test-server.sh run -- ...\n");
        return -1;
    }
    return 0;
}

static corm_pool *open_pool(int size, int check_idle_ms)
{
    corm_pool_config cfg = {.url = test_db_url(),
                            .schema = &bookstore_schema,
                            .size = size,
                            .check_idle_ms = check_idle_ms};
    corm_error err;
    corm_pool *p = corm_pool_open(&cfg, &err);
    if (!p) fail_msg("corm_pool_open: %s", err.message);
    return p;
}

static corm_db *acquire(corm_pool *p)
{
    corm_error err;
    corm_db *d = corm_pool_acquire(p, 0, &err);
    if (!d) fail_msg("corm_pool_acquire: %s", err.message);
    return d;
}

/* The titles of books 1 and 2, cached, read on d with exactly `queries`
** statements run: "1:title,2:title". */
static char text[512];
static const char *read_titles(corm_db *d, uint64_t queries)
{
    corm_qs *qs = corm_all(d, Book);
    corm_filter(qs, "id__lte", corm_int(2));
    corm_order_by(qs, "id");
    corm_values(qs, "id", "title");
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    CORM_ASSERT_NUM_QUERIES(d, queries) { TEST_OK_DB(d, corm_eval(qs)); }
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < corm_qs_len(qs); i++)
        len +=
            (size_t)snprintf(text + len, sizeof text - len, "%s%lld:%s", i ? "," : "",
                             (long long)corm_row_int(qs, i, "id"), corm_row_text(qs, i, "title"));
    corm_qs_free(qs);
    return text;
}

/* Rename book 1 through d (one UPDATE). */
static void rename_book(corm_db *d, const char *title)
{
    corm_qs *qs = corm_all(d, Book);
    corm_filter(qs, "id", corm_int(1));
    CORM_ASSERT_NUM_QUERIES(d, 1)
    {
        assert_int_equal(corm_update(qs, CORM_SET("title", corm_text(title))), 1);
    }
    corm_qs_free(qs);
}

static const char *const ORIGINAL = "1:Les Miserables,2:Notre-Dame de Paris";

/* ------------------------------------------------------------ tests */

/* Two connections held at once: what one reads is cached for the other,
** and what the other writes invalidates it for both. */
static void test_write_invalidates_across_connections(void **s)
{
    (void)s;
    corm_pool *p = open_pool(2, -1);
    corm_error err;
    assert_int_equal(corm_pool_use_cache(p, cache, &err), CORM_OK);
    assert_ptr_equal(corm_pool_cache(p), cache);
    corm_db *a = acquire(p), *b = acquire(p);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(corm_db_cache(a), cache);
    assert_ptr_equal(corm_db_cache(b), cache);

    assert_string_equal(read_titles(a, 1), ORIGINAL); /* miss */
    assert_string_equal(read_titles(b, 0), ORIGINAL); /* the other's hit */
    assert_string_equal(read_titles(a, 0), ORIGINAL);

    rename_book(b, "Les Mis");
    assert_string_equal(read_titles(a, 1), "1:Les Mis,2:Notre-Dame de Paris");
    assert_string_equal(read_titles(a, 0), "1:Les Mis,2:Notre-Dame de Paris");
    assert_string_equal(read_titles(b, 0), "1:Les Mis,2:Notre-Dame de Paris");

    /* a write inside a transaction invalidates at its commit */
    TEST_OK_DB(a, corm_begin(a));
    rename_book(a, "Les Miserables");
    assert_string_equal(read_titles(b, 0), "1:Les Mis,2:Notre-Dame de Paris");
    TEST_OK_DB(a, corm_commit(a));
    assert_string_equal(read_titles(b, 1), ORIGINAL);
    assert_string_equal(read_titles(a, 0), ORIGINAL);

    corm_pool_release(p, a);
    corm_pool_release(p, b);
    corm_pool_close(p);
}

/* Whatever a holder did to its connection's cache, the next one gets the
** pool's: a connection without it would write without invalidating. */
static void test_reattached_at_acquire(void **s)
{
    (void)s;
    corm_pool *p = open_pool(1, -1);
    corm_error err;
    assert_int_equal(corm_pool_use_cache(p, cache, &err), CORM_OK);
    corm_db *d = acquire(p);
    assert_string_equal(read_titles(d, 1), ORIGINAL);
    TEST_OK_DB(d, corm_db_use_cache(d, NULL));
    corm_pool_release(p, d);

    d = acquire(p);
    assert_ptr_equal(corm_db_cache(d), cache);
    rename_book(d, "Les Mis");
    /* another cache attached by hand lasts until the release too */
    corm_cache *other = open_cache(NULL);
    TEST_OK_DB(d, corm_db_use_cache(d, other));
    corm_pool_release(p, d);

    d = acquire(p);
    assert_ptr_equal(corm_db_cache(d), cache);
    assert_string_equal(read_titles(d, 1), "1:Les Mis,2:Notre-Dame de Paris");
    assert_string_equal(read_titles(d, 0), "1:Les Mis,2:Notre-Dame de Paris");
    /* the test's own connection, with the same cache, sees the pool's
    ** writes (and the pool its) */
    TEST_OK_DB(db, corm_db_use_cache(db, cache));
    assert_string_equal(read_titles(db, 0), "1:Les Mis,2:Notre-Dame de Paris");
    rename_book(db, "Les Miserables");
    assert_string_equal(read_titles(d, 1), ORIGINAL);
    corm_pool_release(p, d);

    /* the pool's cache removed: its connections are handed out without */
    assert_int_equal(corm_pool_use_cache(p, NULL, &err), CORM_OK);
    assert_null(corm_pool_cache(p));
    d = acquire(p);
    assert_null(corm_db_cache(d));
    corm_pool_release(p, d);
    corm_pool_close(p);
    TEST_OK_DB(db, corm_db_use_cache(db, NULL));
    corm_cache_close(other);
}

/* A connection the health check reopened (PostgreSQL: the server ended
** it) is handed out with the cache, and its writes invalidate. */
static void test_reconnected_connection(void **s)
{
    (void)s;
    corm_pool *p = open_pool(1, 1);
    corm_error err;
    assert_int_equal(corm_pool_use_cache(p, cache, &err), CORM_OK);
    TEST_OK_DB(db, corm_db_use_cache(db, cache));
    corm_db *d = acquire(p);
    assert_string_equal(read_titles(d, 1), ORIGINAL);
    if (test_db_is_pg()) {
        corm_qs *pid = corm_sql(d, "SELECT pg_backend_pid() AS pid", NULL, 0);
        TEST_OK_DB(d, corm_eval(pid));
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)",
                 (long long)corm_row_int(pid, 0, "pid"));
        corm_qs_free(pid);
        corm_pool_release(p, d);
        corm_qs *kill = corm_sql(db, sql, NULL, 0);
        TEST_OK_DB(db, corm_eval(kill));
        corm_qs_free(kill);
    } else {
        corm_pool_release(p, d);
    }
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);

    d = acquire(p);
    assert_int_equal(corm_pool_get_stats(p).reconnects, test_db_is_pg() ? 1 : 0);
    assert_ptr_equal(corm_db_cache(d), cache);
    assert_string_equal(read_titles(db, 0), ORIGINAL);
    rename_book(d, "Les Mis");
    assert_string_equal(read_titles(db, 1), "1:Les Mis,2:Notre-Dame de Paris");
    assert_string_equal(read_titles(d, 0), "1:Les Mis,2:Notre-Dame de Paris");
    corm_pool_release(p, d);
    corm_pool_close(p);
    TEST_OK_DB(db, corm_db_use_cache(db, NULL));
}

static void test_errors(void **s)
{
    (void)s;
    corm_error err;
    /* no pool */
    assert_int_equal(corm_pool_use_cache(NULL, cache, &err), CORM_MISUSE);
    assert_non_null(strstr(err.message, "corm_pool_use_cache: no pool"));
    assert_null(corm_pool_cache(NULL));

    /* a connection handed out: refused, the pool unchanged */
    corm_pool *p = open_pool(2, -1);
    assert_null(corm_pool_cache(p));
    corm_db *d = acquire(p);
    assert_int_equal(corm_pool_use_cache(p, cache, &err), CORM_MISUSE);
    assert_non_null(strstr(err.message, "1 connection of the pool is handed out"));
    assert_non_null(strstr(err.hint, "every connection is released"));
    assert_null(corm_pool_cache(p));
    corm_db *e = acquire(p);
    assert_int_equal(corm_pool_use_cache(p, NULL, &err), CORM_MISUSE);
    assert_non_null(strstr(err.message, "2 connections of the pool are handed out"));
    /* a pool that never had a cache leaves a connection's own alone */
    assert_null(corm_db_cache(e));
    TEST_OK_DB(e, corm_db_use_cache(e, cache));
    corm_pool_release(p, e);
    e = acquire(p);
    assert_ptr_equal(corm_db_cache(e), cache);
    corm_pool_release(p, e);
    corm_pool_release(p, d);
    assert_int_equal(corm_pool_use_cache(p, cache, &err), CORM_OK);
    assert_int_equal(err.rc, CORM_OK);
    assert_ptr_equal(corm_pool_cache(p), cache);
    corm_pool_close(p);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_invalidates_across_connections),
        T(test_reattached_at_acquire),
        T(test_reconnected_connection),
        T(test_errors),
    };
    int rc = cmocka_run_group_tests_name("pool_cache_local", tests, group_local, NULL);
    rc += cmocka_run_group_tests_name("pool_cache_redis", tests, group_redis, NULL);
    return rc;
}
