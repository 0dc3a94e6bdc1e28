/*
** test_pg_prepare_threshold.c - PostgreSQL runs a statement through the
** unnamed statement (PQexecParams, one round trip) until its
** prepare_threshold-th run on the connection, which prepares it (pg.c; the
** url's prepare_threshold=N, default CORM__PG_PREPARE_THRESHOLD, 5, as the
** JDBC driver's prepareThreshold).  Pinned here: a statement run fewer
** times is not prepared on the server (pg_prepared_statements has nothing
** for it); on that run it is; the url's prepare_threshold=1 prepares on the
** first run (corm before the threshold), 0 never, 3 on the third;
** the rows are the same, text and binary, unnamed or prepared; the errors
** are the same either way (a failed run is not remembered, a failed
** prepare drops the statement); the round trips are counted through the
** driver's own counter (corm__pg_server_calls); statements seen once are
** bounded apart from the prepared ones, so one-off statements never push a
** prepared statement out.  PostgreSQL only (skipped on SQLite).
*/
#include "test.h"
#include "backend/backend.h"
#include "db/db_int.h"

#include <stdlib.h>
#include <string.h>

static corm_db *db;
static int thr; /* the connection's prepare_threshold */

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    /* a PostgreSQL connection's only (the tests skip on SQLite) */
    thr = test_db_is_pg() ? corm__pg_prepare_threshold(db->conn) : 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static void exec_ok(const char *sql)
{
    if (corm_exec(db, sql) != CORM_OK) {
        char buf[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_db_error(db), buf, sizeof buf));
    }
}

/* How many statements with exactly this text the server holds prepared
** (the text must not contain a quote). */
static int on_server(const char *sql)
{
    /* a new text each time, so that the question is never prepared itself */
    static int asked;
    char q[512];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM pg_prepared_statements WHERE statement = '%s' /* %d */", sql,
             ++asked);
    return atoi(test_scalar(db, q));
}

/* Run sql with at most one int parameter through the driver; the rows'
** cells as text joined by ',' and ';' in out, or the error in *err.  The
** round trips it took in *calls. */
static corm_rc run(const char *sql, const int64_t *param, char *out, size_t n, corm_error *err,
                   int64_t *calls)
{
    corm__stmt *s = NULL;
    corm_value p = corm_int(param ? *param : 0);
    int64_t before = corm__pg_server_calls(db->conn);
    corm_rc rc = db->be->query(db->conn, sql, param ? &p : NULL, param ? 1 : 0, &s, err);
    if (calls) *calls = corm__pg_server_calls(db->conn) - before;
    out[0] = '\0';
    if (rc != CORM_OK) return rc;
    bool row;
    size_t len = 0;
    while (db->be->step(s, &row, err) == CORM_OK && row) {
        for (int i = 0; i < db->be->column_count(s); i++) {
            const char *t = db->be->column_null(s, i) ? "NULL" : db->be->column_text(s, i, NULL);
            len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", t);
            assert_true(len < n);
        }
        len += (size_t)snprintf(out + len, n - len, ";");
        assert_true(len < n);
    }
    db->be->finish(s);
    return CORM_OK;
}

#define PG_ONLY()                     \
    do {                              \
        if (!test_db_is_pg()) skip(); \
    } while (0)

static void test_unnamed_until_threshold(void **state)
{
    (void)state;
    PG_ONLY();
    /* the default: prepared on the 5th run, as JDBC's prepareThreshold 5
    ** (psycopg's prepare_threshold 5 prepares on the 6th) */
    assert_int_equal(thr, CORM__PG_PREPARE_THRESHOLD);
    assert_int_equal(thr, 5);
    const char *sql = "SELECT g, g * $1::int, g::text || $1::text FROM generate_series(1, 3) g";
    int held = corm__pg_cache_count(db->conn);
    char first[256], second[256], third[256];
    corm_error err;
    int64_t calls;
    int64_t v = 7;
    /* runs 1 .. thr-1: unnamed, one round trip each, nothing on the server */
    for (int i = 1; i < thr; i++) {
        assert_int_equal(run(sql, &v, first, sizeof first, &err, &calls), CORM_OK);
        assert_string_equal(first, "1,7,17;2,14,27;3,21,37;");
        assert_int_equal(calls, 1);
        assert_int_equal(on_server(sql), 0);
        assert_int_equal(corm__pg_cache_count(db->conn), held);
    }
    /* run thr: prepared (PQprepare + PQexecPrepared), the same rows */
    assert_int_equal(run(sql, &v, second, sizeof second, &err, &calls), CORM_OK);
    assert_string_equal(second, first);
    assert_int_equal(calls, 2);
    assert_int_equal(on_server(sql), 1);
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
    /* run thr+1: the name again, one round trip */
    assert_int_equal(run(sql, &v, third, sizeof third, &err, &calls), CORM_OK);
    assert_string_equal(third, first);
    assert_int_equal(calls, 1);
    assert_int_equal(on_server(sql), 1);
    /* statements that are never cached (SET, BEGIN): one round trip each */
    assert_int_equal(run("SET application_name = corm_t", NULL, first, sizeof first, &err, &calls),
                     CORM_OK);
    assert_int_equal(calls, 1);
}

static void test_binary_results_the_same(void **state)
{
    (void)state;
    PG_ONLY();
    corm__pg_set_binary(db->conn, true);
    const char *sql = "SELECT $1::int8 + 1, 2.5::float8, NULL::int, $1::text, true, "
                      "1.25::numeric, 7::int2";
    char a[256], b[256], c[256];
    corm_error err;
    int64_t v = 41;
    for (int i = 1; i < thr; i++) {
        assert_int_equal(run(sql, &v, b, sizeof b, &err, NULL), CORM_OK); /* unnamed */
        if (i > 1) assert_string_equal(b, a);
        memcpy(a, b, sizeof a);
    }
    assert_int_equal(run(sql, &v, b, sizeof b, &err, NULL), CORM_OK); /* prepared */
    assert_int_equal(run(sql, &v, c, sizeof c, &err, NULL), CORM_OK); /* the name */
    assert_int_equal(on_server(sql), 1);
    assert_string_equal(b, a);
    assert_string_equal(c, a);
    corm__pg_set_binary(db->conn, false);
    char t[256];
    assert_int_equal(run(sql, &v, t, sizeof t, &err, NULL), CORM_OK);
    assert_string_equal(t, a);
}

/* The error a run gives: its code, SQLSTATE and message (the SQL too). */
static void same_error(const corm_error *a, const corm_error *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_string_equal(a->sqlstate, b->sqlstate);
    assert_string_equal(a->message, b->message);
    assert_string_equal(a->hint, b->hint);
    assert_string_equal(a->sql, b->sql);
}

static void test_errors_the_same(void **state)
{
    (void)state;
    PG_ONLY();
    const char *sql = "SELECT 100 / $1::int";
    char out[64];
    corm_error unnamed, again, prepared;
    int64_t zero = 0, four = 4;
    int held = corm__pg_cache_count(db->conn);
    /* a failed first run is not remembered: the next is unnamed too */
    assert_int_equal(run(sql, &zero, out, sizeof out, &unnamed, NULL), CORM_INVALID);
    assert_string_equal(unnamed.sqlstate, "22012");
    assert_int_equal(run(sql, &zero, out, sizeof out, &again, NULL), CORM_INVALID);
    same_error(&unnamed, &again);
    assert_int_equal(on_server(sql), 0);
    /* thr good runs prepare it; then the same failure through the name */
    for (int i = 1; i < thr; i++) {
        assert_int_equal(run(sql, &four, out, sizeof out, &again, NULL), CORM_OK);
        assert_string_equal(out, "25;");
        assert_int_equal(on_server(sql), 0);
    }
    assert_int_equal(run(sql, &four, out, sizeof out, &again, NULL), CORM_OK);
    assert_int_equal(on_server(sql), 1);
    assert_int_equal(run(sql, &zero, out, sizeof out, &prepared, NULL), CORM_INVALID);
    same_error(&unnamed, &prepared);
    assert_int_equal(on_server(sql), 1); /* kept: it ran before */
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
    /* placeholders and parameters that do not match, on a first run */
    corm__stmt *s = NULL;
    corm_error err;
    corm_value one = corm_int(1);
    assert_int_equal(db->be->query(db->conn, "SELECT $1::int, $2::int", &one, 1, &s, &err),
                     CORM_MISUSE);
    assert_non_null(strstr(err.message, "supplies 1 parameters"));
    assert_non_null(strstr(err.hint, "one parameter per placeholder"));
    /* ... and on a statement seen once (not prepared) with one parameter */
    assert_int_equal(run("SELECT $1::int - 1", &four, out, sizeof out, &err, NULL), CORM_OK);
    corm_value two[] = {corm_int(1), corm_int(2)};
    assert_int_equal(db->be->query(db->conn, "SELECT $1::int - 1", two, 2, &s, &err), CORM_MISUSE);
    assert_non_null(strstr(err.message, "1 placeholder but 2 parameters"));
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
}

static void test_failed_prepare(void **state)
{
    (void)state;
    PG_ONLY();
    exec_ok("DROP TABLE IF EXISTS thr_t");
    exec_ok("CREATE TABLE thr_t (a int)");
    exec_ok("INSERT INTO thr_t VALUES (3)");
    const char *sql = "SELECT a FROM thr_t";
    char out[64];
    corm_error err, unnamed;
    int held = corm__pg_cache_count(db->conn);
    for (int i = 1; i < thr; i++) {
        assert_int_equal(run(sql, NULL, out, sizeof out, &err, NULL), CORM_OK); /* seen */
        assert_string_equal(out, "3;");
    }
    /* the thr-th run prepares it, and the prepare fails: the error of the
    ** statement, nothing kept */
    exec_ok("DROP TABLE thr_t");
    int64_t calls;
    assert_int_equal(run(sql, NULL, out, sizeof out, &err, &calls), CORM_DB);
    assert_int_equal(calls, 1); /* the PREPARE only */
    assert_string_equal(err.sqlstate, "42P01");
    assert_non_null(strstr(err.hint, "migrat"));
    assert_int_equal(corm__pg_cache_count(db->conn), held);
    /* forgotten: the next run is unnamed again, with the same error */
    assert_int_equal(run(sql, NULL, out, sizeof out, &unnamed, &calls), CORM_DB);
    assert_int_equal(calls, 1);
    same_error(&err, &unnamed);
    exec_ok("CREATE TABLE thr_t (a int, b int)");
    exec_ok("INSERT INTO thr_t VALUES (5, 6)");
    for (int i = 1; i < thr; i++) {
        assert_int_equal(run(sql, NULL, out, sizeof out, &err, NULL), CORM_OK);
        assert_string_equal(out, "5;");
        assert_int_equal(on_server(sql), 0);
    }
    assert_int_equal(run(sql, NULL, out, sizeof out, &err, NULL), CORM_OK);
    assert_string_equal(out, "5;");
    assert_int_equal(on_server(sql), 1);
    /* in a failed transaction nothing is prepared, the error is 25P02 */
    assert_int_equal(corm_begin(db), CORM_OK);
    assert_int_not_equal(corm_exec(db, "SELECT 1 / 0"), CORM_OK);
    assert_int_not_equal(run("SELECT a + 1 FROM thr_t", NULL, out, sizeof out, &err, NULL),
                         CORM_OK);
    assert_string_equal(err.sqlstate, "25P02");
    assert_int_equal(corm_rollback(db), CORM_OK);
    exec_ok("DROP TABLE thr_t");
}

static void test_one_offs_do_not_evict(void **state)
{
    (void)state;
    PG_ONLY();
    /* a statement prepared first, then 300 statements run once each: none
    ** of them is prepared, and the first stays prepared */
    const char *kept = "SELECT $1::int + 1000000";
    char out[64];
    corm_error err;
    int64_t v = 1;
    for (int i = 0; i < thr; i++)
        assert_int_equal(run(kept, &v, out, sizeof out, &err, NULL), CORM_OK);
    int held = corm__pg_cache_count(db->conn);
    char sql[64];
    for (int k = 0; k < 300; k++) {
        snprintf(sql, sizeof sql, "SELECT %d + $1::int", k);
        int64_t calls;
        assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
        assert_int_equal(calls, 1);
        assert_int_equal(atoi(out), k + 1);
    }
    assert_int_equal(corm__pg_cache_count(db->conn), held);
    assert_int_equal(on_server(kept), 1);
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM pg_prepared_statements "
                                        "WHERE statement LIKE 'SELECT % + $1::int'"),
                        "0");
    /* 256 seen statements are remembered: the last one run thr-1 times
    ** again is prepared on the last of them; the first was forgotten, so
    ** its second run is unnamed */
    int64_t calls;
    snprintf(sql, sizeof sql, "SELECT %d + $1::int", 299);
    for (int i = 2; i <= thr; i++) {
        assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
        assert_int_equal(calls, i == thr ? 2 : 1);
        assert_int_equal(on_server(sql), i == thr ? 1 : 0);
    }
    snprintf(sql, sizeof sql, "SELECT %d + $1::int", 0);
    assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(on_server(sql), 0);
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
}

/* Through the db layer: an update run once is one round trip (it was
** two: PQprepare, then PQexecPrepared), and a count run in a loop is
** prepared once and then run by name. */
static void test_through_the_session(void **state)
{
    (void)state;
    PG_ONLY();
    int64_t start = corm__pg_server_calls(db->conn);
    int held = corm__pg_cache_count(db->conn);
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(0));
    int64_t n = corm_update(qs, CORM_SET_F("pages", "pages", '+', corm_int(1)));
    corm_qs_free(qs);
    assert_true(n > 0);
    assert_int_equal(corm__pg_server_calls(db->conn) - start, 1);
    assert_int_equal(corm__pg_cache_count(db->conn), held);
    int64_t counts[64];
    assert_true(thr + 3 <= 64);
    for (int i = 0; i < thr + 3; i++) {
        qs = corm_all(db, Book);
        corm_filter(qs, "author_id", corm_int(1));
        counts[i] = corm_count(qs);
        corm_qs_free(qs);
        assert_int_equal(counts[i], counts[0]);
    }
    /* 1 + (thr - 1) + 2 (the update, the first thr - 1 counts, the
    ** thr-th's prepare and run) + 3 more by name */
    assert_int_equal(corm__pg_server_calls(db->conn) - start, 1 + (thr - 1) + 2 + 3);
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
}

/* A second connection to the test's schema with a url option added; the
** file's helpers then run on it (db) until back(). */
static corm_db *first;

static void reopen(const char *opt)
{
    char url[1200];
    const char *base = test_db_url();
    snprintf(url, sizeof url, "%s%c%s", base, strchr(base, '?') ? '&' : '?', opt);
    corm_error err;
    corm_db *d = corm_open(url, &bookstore_schema, &err);
    if (!d) {
        char buf[2048];
        fail_msg("%s: %s", url, corm_error_format(&err, buf, sizeof buf));
    }
    first = db;
    db = d;
    thr = corm__pg_prepare_threshold(db->conn);
}

static void back(void)
{
    corm_close(db);
    db = first;
    thr = corm__pg_prepare_threshold(db->conn);
}

/* prepare_threshold=1: prepared on the first run (what corm did before
** the threshold), then by name. */
static void test_url_threshold_one(void **state)
{
    (void)state;
    PG_ONLY();
    reopen("prepare_threshold=1");
    assert_int_equal(thr, 1);
    const char *sql = "SELECT $1::int * 3";
    char out[64];
    corm_error err;
    int64_t calls, v = 14;
    /* corm_open's own statements, and on_server's question, are prepared
    ** too: the count is taken around each run */
    int held = corm__pg_cache_count(db->conn);
    assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
    assert_string_equal(out, "42;");
    assert_int_equal(calls, 2); /* PQprepare, PQexecPrepared */
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
    assert_int_equal(on_server(sql), 1);
    held = corm__pg_cache_count(db->conn);
    assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
    assert_string_equal(out, "42;");
    assert_int_equal(calls, 1);
    /* a failed first prepare keeps nothing, and says what failed */
    assert_int_equal(run("SELECT no_such_column_x", NULL, out, sizeof out, &err, &calls), CORM_DB);
    assert_int_equal(calls, 1);
    assert_string_equal(err.sqlstate, "42703");
    assert_int_equal(corm__pg_cache_count(db->conn), held);
    /* through the session: a count is prepared at once */
    int64_t start = corm__pg_server_calls(db->conn);
    corm_qs *qs = corm_all(db, Book);
    int64_t n = corm_count(qs);
    corm_qs_free(qs);
    assert_true(n > 0);
    assert_int_equal(corm__pg_server_calls(db->conn) - start, 2);
    assert_int_equal(corm__pg_cache_count(db->conn), held + 1);
    back();
}

/* prepare_threshold=0: never prepared, one round trip a run. */
static void test_url_threshold_zero(void **state)
{
    (void)state;
    PG_ONLY();
    reopen("prepare_threshold=0");
    assert_int_equal(thr, 0);
    const char *sql = "SELECT $1::int + 100";
    char out[64], first_out[64];
    corm_error err;
    int64_t calls, v = 1;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
        assert_int_equal(calls, 1);
        assert_string_equal(out, "101;");
    }
    assert_int_equal(on_server(sql), 0);
    assert_int_equal(corm__pg_cache_count(db->conn), 0);
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM pg_prepared_statements"), "0");
    /* the errors are the statement's own, every time */
    int64_t zero = 0;
    corm_error e1, e2;
    assert_int_equal(run("SELECT 1 / $1::int", &zero, out, sizeof out, &e1, NULL), CORM_INVALID);
    assert_int_equal(run("SELECT 1 / $1::int", &zero, first_out, sizeof first_out, &e2, NULL),
                     CORM_INVALID);
    same_error(&e1, &e2);
    assert_string_equal(e1.sqlstate, "22012");
    /* a count in a loop: one round trip each */
    int64_t start = corm__pg_server_calls(db->conn);
    for (int i = 0; i < 8; i++) {
        corm_qs *qs = corm_all(db, Book);
        assert_true(corm_count(qs) > 0);
        corm_qs_free(qs);
    }
    assert_int_equal(corm__pg_server_calls(db->conn) - start, 8);
    assert_int_equal(corm__pg_cache_count(db->conn), 0);
    back();
}

/* prepare_threshold=3: unnamed twice, prepared on the third run. */
static void test_url_threshold_three(void **state)
{
    (void)state;
    PG_ONLY();
    reopen("prepare_threshold=3");
    assert_int_equal(thr, 3);
    const char *sql = "SELECT $1::int - 1";
    char out[64];
    corm_error err;
    int64_t calls, v = 43;
    static const int64_t want_calls[] = {1, 1, 2, 1, 1};
    static const int want_server[] = {0, 0, 1, 1, 1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(run(sql, &v, out, sizeof out, &err, &calls), CORM_OK);
        assert_string_equal(out, "42;");
        assert_int_equal(calls, want_calls[i]);
        assert_int_equal(on_server(sql), want_server[i]);
    }
    back();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unnamed_until_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_threshold_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_threshold_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_threshold_three, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_results_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_prepare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_offs_do_not_evict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_through_the_session, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
