/*
** test_view_cache.c - the per-view cache (corm_cache_page_get/store,
** Django's cache_page) on both cache backends (local, and the Redis of
** CORM_TEST_REDIS) and both databases: a second request runs 0 queries,
** only GET/HEAD answered 200 are stored, Cache-Control/Expires/Age, the
** key's parts (path, query string, vary key, prefix, version), timeouts,
** personalised pages that never leak between users and are refused
** without a vary key, a cache that is down (the page renders from the
** database), bad arguments.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_proc.h"

static corm_db *db;
static corm_cache *cache;

static corm_cache *open_cache(const char *url, int64_t default_timeout_ms)
{
    corm_cache_config cfg = {
        .url = url, .key_prefix = "vc", .default_timeout_ms = default_timeout_ms};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    if (!c) fail_msg("corm_cache_open(%s): %s", url, err.message);
    return c;
}

static int setup_with(void **state, const char *url)
{
    (void)state;
    if (!url) return -1;
    db = test_db_open();
    cache = open_cache(url, 60000);
    corm_error err;
    assert_int_equal(corm_cache_clear(cache, &err), CORM_OK);
    return 0;
}
static int setup_local(void **state) { return setup_with(state, "local:"); }
static int setup_redis(void **state) { return setup_with(state, test_redis_url()); }

static int teardown(void **state)
{
    (void)state;
    corm_error err;
    if (corm_cache_clear(cache, &err) != CORM_OK) print_error("clear: %s\n", err.message);
    corm_cache_close(cache);
    test_db_close(db);
    return 0;
}

/* What a handler answered. */
typedef struct answer {
    int status;
    bool hit;
    char type[64];
    char body[1024];
    size_t len;
    corm_cache_headers h;
} answer;

/* A handler with the page cache in front: the titles of the books (of
** author `vary` when given, or of the author in ?author=), 404 when there
** are none.  `status` other than 0 overrides the rendered status. */
static void handle(corm_cache *c, const corm_cache_page *page, const char *method, const char *path,
                   const char *query, const char *vary, int status, answer *a)
{
    memset(a, 0, sizeof *a);
    corm_cache_request rq = {.method = method, .path = path, .query = query, .vary = vary};
    corm_cached_response cr;
    corm_error err;
    corm_rc rc = corm_cache_page_get(c, page, &rq, &cr, &err);
    if (rc == CORM_OK) {
        a->hit = true;
        a->status = cr.status;
        snprintf(a->type, sizeof a->type, "%s", cr.content_type);
        assert_true(cr.len < sizeof a->body);
        memcpy(a->body, cr.body, cr.len);
        a->len = cr.len;
        a->h = cr.headers;
        corm_cached_response_free(&cr);
        return;
    }
    assert_int_equal(rc, CORM_NOTFOUND);
    corm_qs *qs = corm_all(db, Book);
    const char *who = vary ? vary : query && strncmp(query, "author=", 7) == 0 ? query + 7 : NULL;
    if (who) corm_filter(qs, "author", corm_int(atoll(who)));
    corm_order_by(qs, "id");
    Book *b;
    corm_foreach(b, qs)
    {
        size_t n = strlen(b->title);
        assert_true(a->len + n + 2 < sizeof a->body);
        memcpy(a->body + a->len, b->title, n);
        a->len += n;
        a->body[a->len++] = ';';
    }
    assert_false(corm_qs_failed(qs));
    a->status = status ? status : a->len ? 200 : 404;
    corm_qs_free(qs);
    snprintf(a->type, sizeof a->type, "text/plain; charset=utf-8");
    bool stored;
    rc = corm_cache_page_store(c, page, &rq, a->status, a->type, a->body, a->len, &a->h, &stored,
                               &err);
    if (rc != CORM_OK && rc != CORM_CONN) fail_msg("store: %s", err.message);
}

static const corm_cache_page books_page = {.route = "/books", .timeout_ms = 60000};
static const corm_cache_page mine_page = {
    .route = "/me/books", .timeout_ms = 60000, .per_user = true};

/* Expires is now + max-age as an HTTP date (the second may tick). */
static void assert_expires(const char *expires, int64_t max_age)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    for (int back = 0; back <= 2; back++) {
        time_t t = now - back + (time_t)max_age;
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[40];
        snprintf(want, sizeof want, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        if (strcmp(want, expires) == 0) return;
    }
    fail_msg("Expires '%s' is not now + %lld s", expires, (long long)max_age);
}

static void test_second_request_zero_queries(void **state)
{
    (void)state;
    answer a, b;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "GET", "/books", NULL, NULL, 0, &a);
    }
    assert_false(a.hit);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.h.cache_control, "max-age=60");
    assert_expires(a.h.expires, 60);
    assert_string_equal(a.h.age, "");
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &books_page, "GET", "/books", NULL, NULL, 0, &b);
    }
    assert_true(b.hit);
    assert_int_equal(b.status, 200);
    assert_string_equal(b.type, "text/plain; charset=utf-8");
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.body, a.body, a.len);
    assert_string_equal(b.body, "Les Miserables;Notre-Dame de Paris;Norwegian Wood;Kafka on the "
                                "Shore;1Q84;Beowulf;");
    /* the stored headers, and the age of the copy */
    assert_string_equal(b.h.cache_control, "max-age=60");
    assert_string_equal(b.h.expires, a.h.expires);
    assert_true(strcmp(b.h.age, "0") == 0 || strcmp(b.h.age, "1") == 0);
    /* a HEAD finds the GET's copy */
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &books_page, "HEAD", "/books", NULL, NULL, 0, &b);
    }
    assert_true(b.hit);
    /* the query string, the path and the route are parts of the key */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "GET", "/books", "author=2", NULL, 0, &b);
    }
    assert_false(b.hit);
    assert_string_equal(b.body, "Norwegian Wood;Kafka on the Shore;1Q84;");
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &books_page, "GET", "/books", "author=2", NULL, 0, &b);
    }
    assert_string_equal(b.body, "Norwegian Wood;Kafka on the Shore;1Q84;");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "GET", "/books/", NULL, NULL, 0, &b);
    }
    corm_cache_page other = books_page;
    other.route = "/books/{all}";
    CORM_ASSERT_NUM_QUERIES(db, 1) { handle(cache, &other, "GET", "/books", NULL, NULL, 0, &b); }
    corm_cache_stats st = corm_cache_get_stats(cache);
    assert_int_equal(st.hits, 3);
    assert_int_equal(st.sets, 4);
}

/* Only GET and HEAD answered 200 are stored; 200 and 304 get the headers. */
static void test_methods_and_statuses(void **state)
{
    (void)state;
    answer a;
    for (int i = 0; i < 2; i++) {
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(cache, &books_page, "POST", "/books", NULL, NULL, 0, &a);
        }
        assert_false(a.hit);
        assert_string_equal(a.h.cache_control, "");
        assert_string_equal(a.h.expires, "");
    }
    /* a HEAD is stored under HEAD: a GET does not take it */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "HEAD", "/books", NULL, NULL, 0, &a);
    }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &books_page, "HEAD", "/books", NULL, NULL, 0, &a);
    }
    assert_true(a.hit);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "GET", "/books", NULL, NULL, 0, &a);
    }
    assert_false(a.hit);
    /* 404 (no books of author 4) is not stored, and has no headers */
    for (int i = 0; i < 2; i++) {
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(cache, &books_page, "GET", "/books", "author=4", NULL, 0, &a);
        }
        assert_int_equal(a.status, 404);
        assert_false(a.hit);
        assert_string_equal(a.h.cache_control, "");
    }
    /* 304: the headers, not stored; 500: neither */
    for (int i = 0; i < 2; i++) {
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(cache, &books_page, "GET", "/books", "author=1", NULL, 304, &a);
        }
        assert_false(a.hit);
        assert_string_equal(a.h.cache_control, "max-age=60");
        assert_expires(a.h.expires, 60);
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(cache, &books_page, "GET", "/books", "author=3", NULL, 500, &a);
        }
        assert_string_equal(a.h.cache_control, "");
    }
    corm_cache_stats st = corm_cache_get_stats(cache);
    assert_int_equal(st.sets, 2); /* the HEAD and the GET */
}

/* A personalised page varies by the vary key: nobody sees another's. */
static void test_per_user_no_leak(void **state)
{
    (void)state;
    answer a;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &mine_page, "GET", "/me/books", NULL, "1", 0, &a);
    }
    assert_string_equal(a.body, "Les Miserables;Notre-Dame de Paris;");
    assert_string_equal(a.h.cache_control, "max-age=60, private");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &mine_page, "GET", "/me/books", NULL, "2", 0, &a);
    }
    assert_false(a.hit);
    assert_string_equal(a.body, "Norwegian Wood;Kafka on the Shore;1Q84;");
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &mine_page, "GET", "/me/books", NULL, "1", 0, &a);
    }
    assert_true(a.hit);
    assert_string_equal(a.body, "Les Miserables;Notre-Dame de Paris;");
    assert_string_equal(a.h.cache_control, "max-age=60, private");
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &mine_page, "GET", "/me/books", NULL, "2", 0, &a);
    }
    assert_string_equal(a.body, "Norwegian Wood;Kafka on the Shore;1Q84;");
    /* vary keys that share a prefix, or differ only in case, are others */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &mine_page, "GET", "/me/books", NULL, "11", 0, &a);
    }
    assert_int_equal(a.status, 404);
    /* a shared page given a vary key varies too */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "GET", "/books", NULL, "3", 0, &a);
    }
    assert_string_equal(a.body, "Beowulf;");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        handle(cache, &books_page, "GET", "/books", NULL, NULL, 0, &a);
    }
    assert_int_equal(a.len, strlen("Les Miserables;Notre-Dame de Paris;Norwegian Wood;Kafka on the "
                                   "Shore;1Q84;Beowulf;"));
}

/* A page marked per_user without a vary key: refused before the cache is
** read or written. */
static void test_per_user_refused(void **state)
{
    (void)state;
    const char *none[] = {NULL, ""};
    for (int i = 0; i < 2; i++) {
        corm_cache_request rq = {.method = "GET", .path = "/me/books", .vary = none[i]};
        corm_cached_response cr;
        corm_error err;
        assert_int_equal(corm_cache_page_get(cache, &mine_page, &rq, &cr, &err), CORM_MISUSE);
        assert_int_equal(err.rc, CORM_MISUSE);
        assert_string_equal(err.message, "corm_cache_page_get: page '/me/books' is marked per_user "
                                         "but the request for /me/books gives no vary key");
        assert_non_null(strstr(err.hint, "one user's page would be served to every user"));
        assert_null(cr.body);
        corm_cache_headers h;
        bool stored = true;
        assert_int_equal(corm_cache_page_store(cache, &mine_page, &rq, 200, "text/html", "x", 1, &h,
                                               &stored, &err),
                         CORM_MISUSE);
        assert_non_null(strstr(err.message, "corm_cache_page_store: page '/me/books' is marked "
                                            "per_user"));
        assert_false(stored);
        assert_string_equal(h.cache_control, "");
        /* even a POST: the page is refused, not the method */
        rq.method = "POST";
        assert_int_equal(corm_cache_page_get(cache, &mine_page, &rq, &cr, &err), CORM_MISUSE);
    }
    corm_cache_stats st = corm_cache_get_stats(cache);
    assert_int_equal(st.hits + st.misses + st.sets, 0);
}

static void test_timeouts_prefix_version(void **state)
{
    (void)state;
    answer a;
    /* a short timeout expires (max-age rounds down to whole seconds) */
    corm_cache_page quick = {.route = "/quick"};
    short_ttl t = {.ms = 100};
    uint64_t q0;
    do {
        short_ttl_start(&t);
        quick.timeout_ms = t.ms;
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(cache, &quick, "GET", "/quick", NULL, NULL, 0, &a);
        }
        char age[32];
        snprintf(age, sizeof age, "max-age=%d", t.ms / 1000);
        assert_string_equal(a.h.cache_control, age);
        q0 = corm_query_count(db);
        handle(cache, &quick, "GET", "/quick", NULL, NULL, 0, &a);
    } while (short_ttl_again(&t, a.hit));
    assert_true(a.hit);
    assert_int_equal(corm_query_count(db) - q0, 0);
    sleep_ms(t.ms + 150);
    CORM_ASSERT_NUM_QUERIES(db, 1) { handle(cache, &quick, "GET", "/quick", NULL, NULL, 0, &a); }
    /* timeout 0: headers (max-age=0), never stored */
    corm_cache_page never = {.route = "/never", .timeout_ms = 0};
    for (int i = 0; i < 2; i++) {
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(cache, &never, "GET", "/never", NULL, NULL, 0, &a);
        }
        assert_string_equal(a.h.cache_control, "max-age=0");
        assert_expires(a.h.expires, 0);
    }
    /* CORM_CACHE_DEFAULT: the cache's default (60 s here) */
    corm_cache_page dflt = {.route = "/d", .timeout_ms = CORM_CACHE_DEFAULT};
    handle(cache, &dflt, "GET", "/d", NULL, NULL, 0, &a);
    assert_string_equal(a.h.cache_control, "max-age=60");
    CORM_ASSERT_NUM_QUERIES(db, 0) { handle(cache, &dflt, "GET", "/d", NULL, NULL, 0, &a); }
    /* key_prefix and version separate copies; a new version drops them all */
    corm_cache_page site2 = books_page;
    site2.key_prefix = "site2";
    handle(cache, &books_page, "GET", "/books", NULL, NULL, 0, &a);
    CORM_ASSERT_NUM_QUERIES(db, 1) { handle(cache, &site2, "GET", "/books", NULL, NULL, 0, &a); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { handle(cache, &site2, "GET", "/books", NULL, NULL, 0, &a); }
    corm_cache_page v2 = books_page;
    v2.version = 2;
    CORM_ASSERT_NUM_QUERIES(db, 1) { handle(cache, &v2, "GET", "/books", NULL, NULL, 0, &a); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { handle(cache, &v2, "GET", "/books", NULL, NULL, 0, &a); }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        handle(cache, &books_page, "GET", "/books", NULL, NULL, 0, &a);
    }
}

/* Bodies are bytes: NULs and every byte value come back as stored. */
static void test_binary_body(void **state)
{
    (void)state;
    unsigned char body[300];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (unsigned char)(i * 7);
    corm_cache_page png = {.route = "/logo.png", .timeout_ms = 60000};
    corm_cache_request rq = {.method = "GET", .path = "/logo.png"};
    corm_error err;
    bool stored;
    assert_int_equal(corm_cache_page_store(cache, &png, &rq, 200, "image/png", body, sizeof body,
                                           NULL, &stored, &err),
                     CORM_OK);
    assert_true(stored);
    corm_cached_response cr;
    assert_int_equal(corm_cache_page_get(cache, &png, &rq, &cr, &err), CORM_OK);
    assert_int_equal(cr.len, sizeof body);
    assert_memory_equal(cr.body, body, sizeof body);
    assert_string_equal(cr.content_type, "image/png");
    corm_cached_response_free(&cr);
    assert_null(cr.body);
    /* an empty body and no content type */
    assert_int_equal(corm_cache_page_store(cache, &png, &rq, 200, NULL, NULL, 0, NULL, NULL, &err),
                     CORM_OK);
    assert_int_equal(corm_cache_page_get(cache, &png, &rq, &cr, &err), CORM_OK);
    assert_int_equal(cr.len, 0);
    assert_string_equal(cr.content_type, "");
    corm_cached_response_free(&cr);
}

/* A cache that is down: every request renders from the database, nothing
** breaks, each failure counted. */
static int down_errors;
static void count_down(void *ud, const corm_error *e)
{
    (void)ud;
    assert_int_equal(e->rc, CORM_CONN);
    down_errors++;
}

static void test_cache_down(void **state)
{
    (void)state;
    corm_cache_config cfg = {.url = "unix:/nonexistent-corm-dir/redis.sock",
                             .connect_timeout_ms = 200,
                             .on_error = count_down};
    down_errors = 0;
    corm_error err;
    corm_cache *down = corm_cache_open(&cfg, &err);
    assert_non_null(down);
    corm_cache_request rq = {.method = "GET", .path = "/books"};
    corm_cached_response cr;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(corm_cache_page_get(down, &books_page, &rq, &cr, &err), CORM_NOTFOUND);
        assert_int_equal(err.rc, CORM_CONN);
        answer a;
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            handle(down, &books_page, "GET", "/books", NULL, NULL, 0, &a);
        }
        assert_int_equal(a.status, 200);
        assert_false(a.hit);
        assert_string_equal(a.h.cache_control, "max-age=60");
        bool stored = true;
        assert_int_equal(corm_cache_page_store(down, &books_page, &rq, 200, "text/plain", "x", 1,
                                               NULL, &stored, &err),
                         CORM_CONN);
        assert_false(stored);
    }
    /* per try: the get, the handler's get and store, the store */
    assert_int_equal(corm_cache_get_stats(down).errors, 8);
    assert_int_equal(down_errors, 8);
    corm_cache_close(down);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    corm_cache_request rq = {.method = "GET", .path = "/books"};
    corm_cached_response cr;
    corm_error err;
    struct {
        corm_cache *c;
        const corm_cache_page *page;
        const corm_cache_request *rq;
        const char *msg;
    } bad[] = {
        {NULL, &books_page, &rq, "the cache is NULL"},
        {cache, NULL, &rq, "the page is NULL"},
        {cache, &(corm_cache_page){.timeout_ms = 1}, &rq, "the page has no route"},
        {cache, &books_page, NULL, "the request is NULL"},
        {cache, &books_page, &(corm_cache_request){.path = "/"}, "the request has no method"},
        {cache, &books_page, &(corm_cache_request){.method = "GET"}, "the request has no path"},
        {cache, &(corm_cache_page){.route = "/x", .version = -1}, &rq, "version is negative"},
        {cache, &(corm_cache_page){.route = "/x", .timeout_ms = -5}, &rq, "has timeout_ms -5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(corm_cache_page_get(bad[i].c, bad[i].page, bad[i].rq, &cr, &err),
                         CORM_MISUSE);
        if (!strstr(err.message, bad[i].msg)) fail_msg("%zu: %s", i, err.message);
        assert_int_equal(corm_cache_page_store(bad[i].c, bad[i].page, bad[i].rq, 200, "t", "x", 1,
                                               NULL, NULL, &err),
                         CORM_MISUSE);
        if (!strstr(err.message, bad[i].msg)) fail_msg("%zu: %s", i, err.message);
    }
    assert_int_equal(corm_cache_page_get(cache, &books_page, &rq, NULL, &err), CORM_MISUSE);
    assert_int_equal(
        corm_cache_page_store(cache, &books_page, &rq, 42, "t", "x", 1, NULL, NULL, &err),
        CORM_MISUSE);
    assert_non_null(strstr(err.message, "not an HTTP status"));
    assert_int_equal(
        corm_cache_page_store(cache, &books_page, &rq, 200, "t", NULL, 3, NULL, NULL, &err),
        CORM_MISUSE);
    /* a key_prefix with a space: the cache's key rule */
    corm_cache_page spaced = {.route = "/x", .timeout_ms = 1000, .key_prefix = "my site"};
    assert_int_equal(corm_cache_page_get(cache, &spaced, &rq, &cr, &err), CORM_INVALID);
    assert_non_null(strstr(err.message, "space or a control character"));
    /* a page with the default timeout of a cache that keeps keys forever */
    corm_cache *forever = open_cache("local:", CORM_CACHE_FOREVER);
    corm_cache_page dflt = {.route = "/d", .timeout_ms = CORM_CACHE_DEFAULT};
    assert_int_equal(corm_cache_page_get(forever, &dflt, &rq, &cr, &err), CORM_MISUSE);
    assert_non_null(strstr(err.hint, "default timeout is forever"));
    corm_cache_close(forever);
    corm_cached_response_free(NULL);
}

#define T(fn) cmocka_unit_test(fn)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_second_request_zero_queries),
        T(test_methods_and_statuses),
        T(test_per_user_no_leak),
        T(test_per_user_refused),
        T(test_timeouts_prefix_version),
        T(test_binary_body),
        T(test_cache_down),
        T(test_bad_arguments),
    };
    /* each test gets a fresh database and an emptied cache */
    struct CMUnitTest local[sizeof tests / sizeof tests[0]], redis[sizeof tests / sizeof tests[0]];
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        local[i] = tests[i];
        local[i].setup_func = setup_local;
        local[i].teardown_func = teardown;
        redis[i] = tests[i];
        redis[i].setup_func = setup_redis;
        redis[i].teardown_func = teardown;
    }
    int rc = cmocka_run_group_tests_name("view cache: local", local, NULL, NULL);
    rc |= cmocka_run_group_tests_name("view cache: redis", redis, NULL, NULL);
    return rc;
}
