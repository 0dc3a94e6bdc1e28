/*
** test_replica.c - routing against a real PostgreSQL streaming replica
** (tools/pg-test-server.sh makes it with pg_basebackup; its url is
** CORM_TEST_PG_REPLICA).  Replication lag is made visible on purpose: WAL
** replay is paused on the replica, so a read-after-write routed to it
** misses the write, deterministically, while reads in a transaction or
** with corm_using("default") see it.  Resumed, the replica catches up.
** PostgreSQL only: it runs in the PostgreSQL pass of `make test`.
*/
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static corm_db *db, *replica;

static void exec_ok(corm_db *d, const char *sql)
{
    if (corm_exec(d, sql) != CORM_OK) {
        char buf[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_db_error(d), buf, sizeof buf));
    }
}

static const char *text_of(corm_db *d, const char *sql)
{
    static char out[128];
    corm_qs *qs = corm_sql(d, sql, NULL, 0);
    corm_using(qs, "default"); /* d itself, whatever its router says */
    if (corm_eval(qs) != CORM_OK) fail_msg("%s: %s", sql, corm_qs_error(qs)->message);
    snprintf(out, sizeof out, "%s", corm_row_text(qs, 0, "v") ? corm_row_text(qs, 0, "v") : "");
    corm_qs_free(qs);
    return out;
}

/* Wait until the replica has replayed everything the primary wrote.  The
** insert position is where the next record goes: at the start of a page,
** past the page's header (24 bytes; 40 at the start of a 16 MiB segment),
** while the replica's replay position stops at the last record's end,
** before that header.  So the target is the page's start then. */
static void wait_caught_up(void)
{
    char lsn[64];
    snprintf(lsn, sizeof lsn, "%s", text_of(db, "SELECT pg_current_wal_insert_lsn()::text AS v"));
    unsigned hi = 0, lo = 0;
    assert_int_equal(sscanf(lsn, "%X/%X", &hi, &lo), 2);
    uint64_t at = (uint64_t)hi << 32 | lo;
    if (at % 8192 == 24 || at % (16u << 20) == 40) at -= at % 8192;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT (pg_last_wal_replay_lsn() >= '%X/%X'::pg_lsn)::text AS v",
             (unsigned)(at >> 32), (unsigned)at);
    for (int i = 0; i < 1000; i++) {
        if (strcmp(text_of(replica, sql), "true") == 0) return;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("the replica did not catch up with %s in 10 s", lsn);
}

static int setup(void **state)
{
    (void)state;
    const char *r = getenv("CORM_TEST_PG_REPLICA");
    if (!test_db_is_pg() || !r || strncmp(r, "postgres", 8) != 0) {
        fprintf(stderr, "test_replica: needs CORM_TEST_DB and CORM_TEST_PG_REPLICA (postgresql "
                        "urls): run it under tools/pg-test-server.sh run\n");
        return -1;
    }
    db = test_db_open();
    /* the replica url with the test schema's search_path */
    const char *opts = strstr(test_db_url(), "options=");
    char url[1024];
    snprintf(url, sizeof url, "%s&%s", r, opts ? opts : "");
    if (corm_db_attach(db, "replica", url) != CORM_OK) {
        fprintf(stderr, "attach: %s\n", corm_db_error(db)->message);
        return -1;
    }
    replica = corm_db_alias(db, "replica");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (replica && corm_exec(replica, "SELECT pg_wal_replay_resume()") != CORM_OK)
        fprintf(stderr, "could not resume replay: %s\n", corm_db_error(replica)->message);
    test_db_close(db);
    return 0;
}

static int64_t count(corm_qs *qs)
{
    int64_t n = corm_count(qs);
    if (n < 0) fail_msg("count: %s", corm_qs_error(qs)->message);
    corm_qs_free(qs);
    return n;
}

static void test_streaming_replica(void **state)
{
    (void)state;
    wait_caught_up();
    assert_string_equal(text_of(replica, "SELECT pg_is_in_recovery()::text AS v"), "true");
    assert_string_equal(text_of(db, "SELECT pg_is_in_recovery()::text AS v"), "false");
    /* the fixture arrived by streaming */
    corm_qs *qs = corm_all(db, Book);
    corm_using(qs, "replica");
    assert_int_equal(count(qs), 6);
    /* the replica is read-only */
    Tag t = CORM_NEW(Tag);
    t.name = "x";
    assert_int_equal(corm_save(replica, &t), CORM_DB);
    assert_string_equal(corm_db_error(replica)->sqlstate, "25006");
}

static void test_lag_read_after_write(void **state)
{
    (void)state;
    corm_set_router(db, corm_router_replica, "replica");
    wait_caught_up();
    /* lag, on purpose: the replica stops applying WAL */
    exec_ok(replica, "SELECT pg_wal_replay_pause()");

    Author a = CORM_NEW(Author);
    a.name = "Ursula K. Le Guin";
    a.email = "ursula@example.com";
    corm_set_null(&a, "country", true);
    corm_set_null(&a, "bio", true);
    assert_int_equal(corm_save(db, &a), CORM_OK); /* writes: the primary */

    /* read-after-write through the router: the replica has not seen it */
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "name", corm_text("Ursula K. Le Guin"));
    assert_int_equal(count(qs), 0);
    assert_int_equal(count(corm_all(db, Author)), 4);
    /* the ways to read your own write: the primary by name ... */
    qs = corm_all(db, Author);
    corm_using(qs, "default");
    assert_int_equal(count(qs), 5);
    /* ... or a transaction, whose reads stay on the primary */
    assert_int_equal(corm_begin(db), CORM_OK);
    assert_int_equal(count(corm_all(db, Author)), 5);
    assert_int_equal(corm_commit(db), CORM_OK);
    /* still behind */
    assert_int_equal(count(corm_all(db, Author)), 4);

    /* replay resumes: the replica catches up and the router's reads see it */
    exec_ok(replica, "SELECT pg_wal_replay_resume()");
    wait_caught_up();
    assert_int_equal(count(corm_all(db, Author)), 5);
    qs = corm_all(db, Author);
    corm_filter(qs, "name", corm_text("Ursula K. Le Guin"));
    assert_int_equal(count(qs), 1);
    corm_set_router(db, NULL, NULL);
}

static void test_pool_with_replica(void **state)
{
    (void)state;
    const char *opts = strstr(test_db_url(), "options=");
    char rurl[1024];
    snprintf(rurl, sizeof rurl, "%s&%s", getenv("CORM_TEST_PG_REPLICA"), opts);
    corm_alias aliases[] = {{"replica", rurl}};
    corm_pool_config cfg = {.url = test_db_url(),
                            .schema = &bookstore_schema,
                            .size = 2,
                            .aliases = aliases,
                            .naliases = 1,
                            .router = corm_router_replica,
                            .router_ud = "replica"};
    corm_error err;
    corm_pool *p = corm_pool_open(&cfg, &err);
    assert_non_null(p);
    corm_db *d = corm_pool_acquire(p, -1, &err);
    assert_non_null(d);
    assert_string_equal(
        text_of(corm_db_alias(d, "replica"), "SELECT pg_is_in_recovery()::text AS v"), "true");
    wait_caught_up();
    assert_int_equal(count(corm_all(d, Book)), 6); /* routed to the replica */
    corm_pool_release(p, d);
    corm_pool_close(p);
}

/* A lazy load of an object read from the replica runs on the replica;
** when it fails, the error is on the handle the program holds (db), not
** on the replica's internal one. */
static void test_lazy_load_error_on_callers_handle(void **state)
{
    (void)state;
    wait_caught_up();
    corm_set_router(db, corm_router_replica, "replica");
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    Book *b = corm_first(qs); /* from the replica */
    assert_non_null(b);
    /* the replica's session stops finding the tables */
    exec_ok(replica, "SET search_path TO pg_catalog");
    assert_null(book_author(b));
    const corm_error *e = corm_db_error(db);
    assert_int_not_equal(e->rc, CORM_OK);
    assert_string_equal(e->sqlstate, "42P01"); /* undefined_table */
    assert_non_null(strstr(e->sql, "\"author\""));
    assert_int_equal(corm_db_error(replica)->rc, CORM_OK);
    exec_ok(replica, "RESET search_path");
    /* the next call that works clears it */
    assert_string_equal(book_author(b)->name, "Victor Hugo");
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    corm_qs_free(qs);
    corm_set_router(db, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streaming_replica),
        cmocka_unit_test(test_lag_read_after_write),
        cmocka_unit_test(test_pool_with_replica),
        cmocka_unit_test(test_lazy_load_error_on_callers_handle),
    };
    return cmocka_run_group_tests_name("replica", tests, setup, teardown);
}
