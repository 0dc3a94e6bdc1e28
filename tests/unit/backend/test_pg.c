/*
** test_pg.c - the PostgreSQL backend on a real server (CORM_TEST_DB, from
** tools/pg-test-server.sh): urls, every value type in text and binary
** results, the prepared-statement cache, SQLSTATE mapping, failed and lost
** transactions, and lost connections (a second connection terminates the
** first one's server process with pg_terminate_backend).  Run only in the
** PostgreSQL pass of `make test`; without a server every test fails.
*/
#include "test.h"
#include "backend/backend.h"
#include "db/db_int.h"

#include <stdlib.h>
#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    if (!test_db_is_pg()) {
        fprintf(stderr, "test_pg: CORM_TEST_DB is not a postgresql:// url: run it under "
                        "tools/pg-test-server.sh run\n");
        return -1;
    }
    db = test_db_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static void exec_ok(corm_db *d, const char *sql)
{
    if (corm_exec(d, sql) != CORM_OK) {
        char buf[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_db_error(d), buf, sizeof buf));
    }
}

/* The first column of the first row of sql (with params), as text. */
static const char *scalar_p(corm_db *d, const char *sql, const corm_value *p, int n)
{
    static char out[256];
    corm__stmt *s;
    corm_error err;
    corm_rc rc = d->be->query(d->conn, sql, p, n, &s, &err);
    if (rc != CORM_OK) fail_msg("%s: %s", sql, err.message);
    bool row;
    assert_int_equal(d->be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    size_t len;
    const char *t = d->be->column_text(s, 0, &len);
    snprintf(out, sizeof out, "%.*s", (int)len, t ? t : "(null)");
    d->be->finish(s);
    return out;
}

static const char *scalar(corm_db *d, const char *sql) { return scalar_p(d, sql, NULL, 0); }

/* A second connection to the test schema. */
static corm_db *second(void)
{
    corm_error err;
    corm_db *d = corm_open(test_db_url(), NULL, &err);
    if (!d) fail_msg("second connection: %s", err.message);
    return d;
}

/* Terminate the server process of d's connection from another one. */
static void kill_connection(corm_db *d)
{
    corm_db *k = second();
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", corm__pg_backend_pid(d->conn));
    assert_string_equal(scalar(k, sql), "t");
    corm_close(k);
}

/* ------------------------------------------------------------ urls */

static void test_urls(void **state)
{
    (void)state;
    corm_error err;
    const char *target = NULL;
    assert_ptr_equal(corm__backend_for_url("postgresql://u@h:5/db", &target, &err),
                     &corm__pg_backend);
    assert_string_equal(target, "postgresql://u@h:5/db"); /* libpq reads it whole */
    assert_ptr_equal(corm__backend_for_url("postgres://h/db", &target, &err), &corm__pg_backend);
    assert_string_equal(target, "postgres://h/db");
    assert_ptr_equal(corm__backend_for_url("postgresql:host=/tmp dbname=x", &target, &err),
                     &corm__pg_backend);
    assert_string_equal(target, "host=/tmp dbname=x");
    assert_null(corm__backend_for_url("postgresql:mydb", &target, &err));
    assert_int_equal(err.rc, CORM_INVALID);
    assert_non_null(strstr(err.hint, "postgresql://"));

    /* the keyword form reaches the same server */
    const char *url = getenv("CORM_TEST_DB");
    const char *h = strstr(url, "host="), *p = strstr(url, "port=");
    assert_non_null(h);
    assert_non_null(p);
    char kw[512];
    snprintf(kw, sizeof kw, "postgresql:user=postgres dbname=postgres host=%.*s port=%.*s",
             (int)strcspn(h + 5, "&"), h + 5, (int)strcspn(p + 5, "&"), p + 5);
    corm_db *d = corm_open(kw, NULL, &err);
    assert_non_null(d);
    assert_string_equal(corm_db_vendor(d), "postgresql");
    /* the session corm sets up */
    assert_string_equal(scalar(d, "SHOW TimeZone"), "UTC");
    assert_string_equal(scalar(d, "SHOW client_encoding"), "UTF8");
    corm_close(d);

    /* no server there: CORM_CONN with what to check */
    d = corm_open("postgresql://postgres@/postgres?host=/nonexistent-dir&port=1", NULL, &err);
    assert_null(d);
    assert_int_equal(err.rc, CORM_CONN);
    assert_non_null(strstr(err.message, "cannot connect"));
    assert_non_null(strstr(err.hint, "postgresql://"));
    d = corm_open("postgresql://postgres@/no_such_db_at_all?host=/tmp&port=1", NULL, &err);
    assert_null(d);
    assert_int_equal(err.rc, CORM_CONN);
}

/* ------------------------------------------------------------ values */

static void check_values(bool binary)
{
    corm__pg_set_binary(db->conn, binary);
    const corm__backend *be = db->be;
    exec_ok(db, "DROP TABLE IF EXISTS v; CREATE TABLE v (i integer, b bigint, s smallint, "
                "f double precision, n numeric(10, 3), ok boolean, t text, c varchar(20), "
                "d date, ts timestamp, j jsonb, bl bytea)");
    static const unsigned char blob[] = {0, 1, 2, 0xff, '\\', 'x', 0};
    const char *long_text = "not NUL-terminated here";
    corm_value p[] = {corm_int(-42),
                      corm_int(INT64_MIN + 1),
                      corm_int(7),
                      corm_float(0.1),
                      corm_float(-12.5),
                      corm_bool(true),
                      corm_text("héllo 'q' \"dq\" \\"),
                      {.type = CORM_V_TEXT, .u.s = {long_text, 3}},
                      corm_text("1862-04-03"),
                      corm_text("2024-02-29 13:14:15.5"),
                      corm_text("{\"a\": [1, 2]}"),
                      corm_blobv(blob, sizeof blob)};
    corm__stmt *s;
    corm_error err;
    assert_int_equal(be->query(db->conn,
                               "INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                               "$9, $10, $11, $12)",
                               p, 12, &s, &err),
                     CORM_OK);
    be->finish(s);
    assert_int_equal(be->changes(db->conn), 1);
    exec_ok(db, "INSERT INTO v DEFAULT VALUES");
    assert_int_equal(
        be->query(db->conn, "SELECT * FROM v ORDER BY i NULLS LAST", NULL, 0, &s, &err), CORM_OK);
    bool row;
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    assert_int_equal(be->column_count(s), 12);
    assert_string_equal(be->column_name(s, 3), "f");
    assert_int_equal(be->column_int(s, 0), -42);
    assert_int_equal(be->column_int(s, 1), INT64_MIN + 1);
    assert_int_equal(be->column_int(s, 2), 7);
    assert_true(be->column_double(s, 3) == 0.1);
    assert_true(be->column_double(s, 4) == -12.5);
    assert_int_equal(be->column_int(s, 5), 1);
    size_t n;
    assert_string_equal(be->column_text(s, 4, &n), "-12.500");
    assert_int_equal(n, 7);
    assert_string_equal(be->column_text(s, 6, &n), "héllo 'q' \"dq\" \\");
    assert_string_equal(be->column_text(s, 7, &n), "not");
    assert_string_equal(be->column_text(s, 8, &n), "1862-04-03");
    assert_string_equal(be->column_text(s, 9, &n), "2024-02-29 13:14:15.5");
    assert_string_equal(be->column_text(s, 10, &n), "{\"a\": [1, 2]}");
    const void *bl = be->column_blob(s, 11, &n);
    assert_int_equal(n, sizeof blob);
    assert_memory_equal(bl, blob, sizeof blob);
    /* types of cells, for values() and raw rows */
    assert_int_equal(be->column_type(s, 0), CORM_V_INT);
    assert_int_equal(be->column_type(s, 3), CORM_V_FLOAT);
    assert_int_equal(be->column_type(s, 4), CORM_V_FLOAT);
    assert_int_equal(be->column_type(s, 5), CORM_V_INT);
    assert_int_equal(be->column_type(s, 6), CORM_V_TEXT);
    assert_int_equal(be->column_type(s, 11), CORM_V_BLOB);
    for (int i = 0; i < 12; i++) assert_false(be->column_null(s, i));
    /* the row of defaults: every cell NULL */
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    for (int i = 0; i < 12; i++) {
        assert_true(be->column_null(s, i));
        assert_int_equal(be->column_type(s, i), CORM_V_NULL);
    }
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_false(row);
    be->finish(s);

    /* whole numbers of numeric are integers (SUM of bigints) */
    assert_string_equal(scalar(db, "SELECT sum(b) FROM v"), "-9223372036854775807");
    assert_int_equal(
        be->query(db->conn, "SELECT sum(s)::numeric, 2.5::numeric FROM v", NULL, 0, &s, &err),
        CORM_OK);
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_int_equal(be->column_type(s, 0), CORM_V_INT);
    assert_int_equal(be->column_int(s, 0), 7);
    assert_int_equal(be->column_type(s, 1), CORM_V_FLOAT);
    be->finish(s);
    /* dates before year 1 and far ahead; timestamps with and without zone */
    assert_string_equal(scalar(db, "SELECT '0044-03-15 BC'::date"), "0044-03-15 BC");
    assert_string_equal(scalar(db, "SELECT '9999-12-31'::date"), "9999-12-31");
    assert_string_equal(scalar(db, "SELECT '1999-12-31 23:59:59.000001'::timestamp"),
                        "1999-12-31 23:59:59.000001");
    assert_string_equal(scalar(db, "SELECT '2024-01-01 10:00:00+02'::timestamptz"),
                        "2024-01-01 08:00:00+00");
    assert_string_equal(scalar(db, "SELECT 'infinity'::date"), "infinity");
    assert_string_equal(scalar(db, "SELECT 0.0001::numeric(10, 5)"), "0.00010");
    assert_string_equal(scalar(db, "SELECT -123456789.98765::numeric"), "-123456789.98765");
    assert_string_equal(scalar(db, "SELECT 100000000::numeric"), "100000000");
    assert_string_equal(scalar(db, "SELECT 'NaN'::numeric"), "NaN");
    assert_string_equal(scalar(db, "SELECT true"), "t");
    corm__pg_set_binary(db->conn, false);
}

static void test_values_text(void **state)
{
    (void)state;
    check_values(false);
}
static void test_values_binary(void **state)
{
    (void)state;
    check_values(true);
}

static void test_bind_errors(void **state)
{
    (void)state;
    const corm__backend *be = db->be;
    corm__stmt *s = NULL;
    corm_error err;
    /* a NUL inside text: PostgreSQL text cannot hold it */
    corm_value nul = {.type = CORM_V_TEXT, .u.s = {"a\0b", 3}};
    assert_int_equal(be->query(db->conn, "SELECT $1::text", &nul, 1, &s, &err), CORM_INVALID);
    assert_non_null(strstr(err.hint, "blob"));
    /* placeholders and parameters must match */
    corm_value one = corm_int(1);
    int cached = corm__pg_cache_count(db->conn);
    assert_int_equal(be->query(db->conn, "SELECT $1::int, $2::int", &one, 1, &s, &err),
                     CORM_MISUSE);
    assert_non_null(strstr(err.message, "supplies 1 parameters"));
    assert_non_null(strstr(err.hint, "one parameter per placeholder"));
    assert_int_equal(corm__pg_cache_count(db->conn), cached); /* not kept */
    assert_int_equal(be->query(db->conn, "SELECT 1", &one, 1, &s, &err), CORM_MISUSE);
    /* a statement that was prepared for 1 parameter, given 2 */
    assert_string_equal(scalar_p(db, "SELECT $1::int + 1", &one, 1), "2");
    corm_value two[] = {corm_int(1), corm_int(2)};
    assert_int_equal(be->query(db->conn, "SELECT $1::int + 1", two, 2, &s, &err), CORM_MISUSE);
    assert_non_null(strstr(err.message, "1 placeholder but 2 parameters"));
    /* lists are the compiler's business */
    corm_value list = corm_ints((const int64_t[]){1, 2}, 2);
    assert_int_equal(be->query(db->conn, "SELECT $1::int8[]", &list, 1, &s, &err), CORM_MISUSE);
    /* an array literal is one parameter */
    corm_value arr = corm_text("{1,2,3}");
    assert_string_equal(scalar_p(db, "SELECT cardinality($1::int8[])", &arr, 1), "3");
    /* floats: infinities and NaN */
    corm_value inf = corm_float(1.0 / 0.0);
    assert_string_equal(scalar_p(db, "SELECT $1::float8", &inf, 1), "Infinity");
    /* the connection still works */
    assert_string_equal(scalar(db, "SELECT 40 + 2"), "42");
}

/* ------------------------------------------------------------ cache */

static void test_statement_cache(void **state)
{
    (void)state;
    corm__conn *c = db->conn;
    int before = corm__pg_cache_count(c);
    corm_value v = corm_int(2);
    /* the runs before the connection's prepare_threshold-th go unnamed
    ** (PQexecParams), that one prepares it, the next reuses the name */
    const int thr = corm__pg_prepare_threshold(c);
    assert_int_equal(thr, CORM__PG_PREPARE_THRESHOLD);
    for (int i = 1; i < thr; i++) {
        assert_string_equal(scalar_p(db, "SELECT $1::int * 21", &v, 1), "42");
        assert_int_equal(corm__pg_cache_count(c), before);
    }
    assert_string_equal(scalar_p(db, "SELECT $1::int * 21", &v, 1), "42");
    assert_int_equal(corm__pg_cache_count(c), before + 1);
    assert_string_equal(scalar_p(db, "SELECT $1::int * 21", &v, 1), "42");
    assert_int_equal(corm__pg_cache_count(c), before + 1); /* reused */
    /* statements without parameters that are not queries run unnamed */
    exec_ok(db, "SET application_name = 'x'");
    corm__stmt *s;
    corm_error err;
    assert_int_equal(db->be->query(c, "SET application_name = 'corm'", NULL, 0, &s, &err), CORM_OK);
    db->be->finish(s);
    assert_int_equal(corm__pg_cache_count(c), before + 1);
    /* nested: the same statement while its first result is still open */
    corm__stmt *outer, *inner;
    assert_int_equal(
        db->be->query(c, "SELECT g FROM generate_series(1, $1::int) g", &v, 1, &outer, &err),
        CORM_OK);
    bool row;
    int n = 0;
    while (db->be->step(outer, &row, &err) == CORM_OK && row) {
        corm_value w = corm_int(db->be->column_int(outer, 0));
        assert_int_equal(
            db->be->query(c, "SELECT g FROM generate_series(1, $1::int) g", &w, 1, &inner, &err),
            CORM_OK);
        while (db->be->step(inner, &row, &err) == CORM_OK && row) n++;
        db->be->finish(inner);
    }
    db->be->finish(outer);
    assert_int_equal(n, 1 + 2);
    /* bounded: 300 distinct statements keep 256, each still answers (each
    ** run thr times: a statement is prepared on its thr-th run) */
    for (int i = 0; i < 300; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + $1::int", i);
        char want[16];
        snprintf(want, sizeof want, "%d", i + 2);
        for (int k = 0; k < thr; k++) assert_string_equal(scalar_p(db, sql, &v, 1), want);
    }
    assert_int_equal(corm__pg_cache_count(c), 256);
    /* the evicted ones were deallocated on the server */
    assert_string_equal(scalar(db, "SELECT count(*) FROM pg_prepared_statements"), "256");
    /* a statement the server forgot (DISCARD ALL) or whose result changed
    ** shape (ALTER TABLE) is prepared again, outside a transaction */
    exec_ok(db,
            "DROP TABLE IF EXISTS shape; CREATE TABLE shape (a int); INSERT INTO shape VALUES (1)");
    for (int k = 0; k < thr; k++) /* prepared on the last */
        assert_string_equal(scalar(db, "SELECT * FROM shape"), "1");
    assert_string_equal(scalar(db, "SELECT count(*) FROM pg_prepared_statements "
                                   "WHERE statement = 'SELECT * FROM shape'"),
                        "1");
    exec_ok(db, "ALTER TABLE shape ADD COLUMN b int");
    assert_string_equal(scalar(db, "SELECT * FROM shape"), "1");
    exec_ok(db, "DISCARD ALL");
    exec_ok(db, "SET TimeZone = 'UTC'");
    assert_string_equal(scalar(db, "SELECT * FROM shape"), "1");
    assert_string_equal(scalar_p(db, "SELECT $1::int * 21", &v, 1), "42");
}

/* ------------------------------------------------------------ errors */

static void test_error_mapping(void **state)
{
    (void)state;
    const corm_error *e = corm_db_error(db);
    /* unique: through corm_save, as an application sees it */
    Country c = CORM_NEW(Country);
    c.name = "France again";
    c.code = "FR";
    assert_int_equal(corm_save(db, &c), CORM_CONSTRAINT);
    assert_string_equal(e->sqlstate, "23505");
    assert_non_null(strstr(e->message, "country_code_key"));
    assert_non_null(strstr(e->message, "(code)=(FR)"));
    assert_non_null(strstr(e->hint, "already exists"));
    assert_non_null(strstr(e->sql, "INSERT INTO \"country\""));
    /* not null */
    assert_int_equal(corm_exec(db, "INSERT INTO \"genre\" (\"name\") VALUES (NULL)"),
                     CORM_CONSTRAINT);
    assert_string_equal(e->sqlstate, "23502");
    assert_non_null(strstr(e->hint, "null"));
    /* foreign key: deferred to COMMIT */
    assert_int_equal(corm_begin(db), CORM_OK);
    exec_ok(db, "INSERT INTO \"publisher\" (\"name\", \"country_id\") VALUES ('p', 999)");
    assert_int_equal(corm_commit(db), CORM_CONSTRAINT);
    assert_string_equal(e->sqlstate, "23503");
    assert_false(db->be->in_transaction(db->conn));
    /* syntax, undefined table: CORM_DB with the SQLSTATE */
    assert_int_equal(corm_exec(db, "SELEKT 1"), CORM_DB);
    assert_string_equal(e->sqlstate, "42601");
    assert_int_equal(corm_exec(db, "SELECT * FROM no_such_table"), CORM_DB);
    assert_string_equal(e->sqlstate, "42P01");
    /* data exceptions */
    assert_int_equal(corm_exec(db, "SELECT 1 / 0"), CORM_INVALID);
    assert_string_equal(e->sqlstate, "22012");
    /* a lock not granted in time: CORM_BUSY */
    corm_db *other = second();
    assert_int_equal(corm_begin(other), CORM_OK);
    exec_ok(other, "LOCK TABLE \"genre\" IN ACCESS EXCLUSIVE MODE");
    exec_ok(db, "SET lock_timeout = '50ms'");
    assert_int_equal(corm_exec(db, "SELECT * FROM \"genre\""), CORM_BUSY);
    assert_string_equal(e->sqlstate, "55P03");
    assert_non_null(strstr(e->hint, "retry"));
    assert_int_equal(corm_rollback(other), CORM_OK);
    corm_close(other);
    exec_ok(db, "SET lock_timeout = 0");
}

static void test_failed_transaction(void **state)
{
    (void)state;
    const corm_error *e = corm_db_error(db);
    assert_int_equal(corm_begin(db), CORM_OK);
    exec_ok(db, "INSERT INTO \"tag\" (\"name\") VALUES ('kept?')");
    assert_int_equal(corm_exec(db, "SELEKT 1"), CORM_DB);
    /* PostgreSQL refuses the rest of a failed transaction */
    Tag t = CORM_NEW(Tag);
    t.name = "after";
    assert_int_equal(corm_save(db, &t), CORM_DB);
    assert_string_equal(e->sqlstate, "25P02");
    assert_non_null(strstr(e->hint, "corm_rollback"));
    /* and COMMIT of it is a failure, never reported as committed */
    assert_int_equal(corm_commit(db), CORM_DB);
    assert_non_null(strstr(e->message, "rolled back"));
    assert_string_equal(scalar(db, "SELECT count(*) FROM \"tag\""), "0");
    /* a savepoint (nested corm_begin) keeps the outer transaction usable */
    assert_int_equal(corm_begin(db), CORM_OK);
    exec_ok(db, "INSERT INTO \"tag\" (\"name\") VALUES ('kept')");
    assert_int_equal(corm_begin(db), CORM_OK);
    assert_int_equal(corm_exec(db, "SELEKT 1"), CORM_DB);
    assert_int_equal(corm_rollback(db), CORM_OK);
    exec_ok(db, "INSERT INTO \"tag\" (\"name\") VALUES ('kept too')");
    assert_int_equal(corm_commit(db), CORM_OK);
    assert_string_equal(scalar(db, "SELECT count(*) FROM \"tag\""), "2");
}

/* ------------------------------------------------------- lost connections */

static void test_lost_connection_read(void **state)
{
    (void)state;
    const corm_error *e = corm_db_error(db);
    corm_qs *qs = corm_all(db, Book);
    assert_int_equal(corm_count(qs), 6);
    int pid = corm__pg_backend_pid(db->conn);
    kill_connection(db);
    /* the call that hits it fails, clearly */
    assert_int_equal(corm_count(qs), -1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_CONN);
    assert_non_null(strstr(corm_qs_error(qs)->message, "lost the connection"));
    assert_non_null(strstr(corm_qs_error(qs)->hint, "next call"));
    assert_int_equal(e->rc, CORM_CONN);
    corm_qs_free(qs);
    /* the next one reconnects: a new server process, the cache rebuilt */
    qs = corm_all(db, Book);
    assert_int_equal(corm_count(qs), 6);
    corm_qs_free(qs);
    assert_int_not_equal(corm__pg_backend_pid(db->conn), pid);
    /* the count ran once on the new session: seen, not prepared until its
    ** prepare_threshold-th run */
    assert_int_equal(corm__pg_cache_count(db->conn), 0);
    for (int i = 1; i < corm__pg_prepare_threshold(db->conn); i++) {
        assert_int_equal(corm__pg_cache_count(db->conn), 0);
        qs = corm_all(db, Book);
        assert_int_equal(corm_count(qs), 6);
        corm_qs_free(qs);
    }
    assert_int_equal(corm__pg_cache_count(db->conn), 1);     /* its last run prepared it */
    assert_string_equal(scalar(db, "SHOW TimeZone"), "UTC"); /* session set up again */
}

static void test_lost_connection_write_not_retried(void **state)
{
    (void)state;
    exec_ok(db, "DELETE FROM \"tag\"");
    kill_connection(db);
    Tag t = CORM_NEW(Tag);
    t.name = "once";
    assert_int_equal(corm_save(db, &t), CORM_CONN);
    assert_int_equal(t.id, 0);
    assert_non_null(strstr(corm_db_error(db)->hint, "not retried"));
    /* nothing was written behind the application's back */
    corm_db *other = second();
    assert_string_equal(scalar(other, "SELECT count(*) FROM \"tag\""), "0");
    /* the next call reconnects and writes once */
    assert_int_equal(corm_save(db, &t), CORM_OK);
    assert_true(t.id > 0);
    assert_string_equal(scalar(other, "SELECT count(*) FROM \"tag\""), "1");
    corm_close(other);
}

static void test_lost_transaction(void **state)
{
    (void)state;
    const corm_error *e = corm_db_error(db);
    exec_ok(db, "DELETE FROM \"tag\"");
    assert_int_equal(corm_begin(db), CORM_OK);
    Tag t = CORM_NEW(Tag);
    t.name = "first half";
    assert_int_equal(corm_save(db, &t), CORM_OK);
    kill_connection(db);
    Tag u = CORM_NEW(Tag);
    u.name = "second half";
    assert_int_equal(corm_save(db, &u), CORM_CONN);
    assert_non_null(strstr(e->message, "transaction was lost"));
    /* every later statement is refused: no half transaction in autocommit */
    assert_int_equal(corm_save(db, &u), CORM_CONN);
    assert_non_null(strstr(e->message, "statement refused"));
    assert_non_null(strstr(e->hint, "corm_rollback"));
    assert_true(db->be->in_transaction(db->conn));
    /* COMMIT says nothing was committed */
    assert_int_equal(corm_commit(db), CORM_CONN);
    assert_non_null(strstr(e->message, "nothing of it was committed"));
    assert_string_equal(scalar(db, "SELECT count(*) FROM \"tag\""), "0");

    /* the same with corm_rollback, inside a savepoint */
    assert_int_equal(corm_begin(db), CORM_OK);
    assert_int_equal(corm_begin(db), CORM_OK);
    t.id = 0;
    assert_int_equal(corm_save(db, &t), CORM_OK);
    kill_connection(db);
    assert_int_equal(corm_exec(db, "SELECT 1"), CORM_CONN);
    assert_int_equal(corm_rollback(db), CORM_CONN); /* the savepoint went with it */
    assert_int_equal(corm_rollback(db), CORM_OK);   /* the server rolled back */
    assert_false(db->be->in_transaction(db->conn));
    assert_string_equal(scalar(db, "SELECT count(*) FROM \"tag\""), "0");
    t.id = 0;
    assert_int_equal(corm_save(db, &t), CORM_OK);
    assert_string_equal(scalar(db, "SELECT count(*) FROM \"tag\""), "1");
}

/* ------------------------------------------------------------ streaming */

static int open_cursors(void)
{
    return atoi(scalar(db, "SELECT count(*) FROM pg_cursors WHERE name LIKE 'corm\\_cur\\_%'"));
}

static void test_stream(void **state)
{
    (void)state;
    const corm__backend *be = db->be;
    corm__stmt *s;
    corm_error err;
    corm_value hi = corm_int(10);
    for (int tx = 0; tx < 2; tx++) {
        /* outside a transaction: in one corm opens; inside one: in it */
        if (tx) assert_int_equal(corm_begin(db), CORM_OK);
        assert_int_equal(be->query_stream(db->conn,
                                          "SELECT g, 'row ' || g AS label FROM "
                                          "generate_series(1, $1::int) g ORDER BY g",
                                          &hi, 1, 3, &s, &err),
                         CORM_OK);
        assert_int_equal(be->column_count(s), 2);
        assert_string_equal(be->column_name(s, 1), "label");
        bool row;
        int n = 0;
        while (be->step(s, &row, &err) == CORM_OK && row) {
            n++;
            assert_int_equal(be->column_int(s, 0), n);
            size_t len;
            char want[16];
            snprintf(want, sizeof want, "row %d", n);
            assert_string_equal(be->column_text(s, 1, &len), want);
            /* other statements run on the connection between chunks */
            if (n == 4) assert_int_equal(open_cursors(), 1);
        }
        assert_int_equal(n, 10);
        be->finish(s);
        assert_int_equal(open_cursors(), 0);
        if (tx) assert_int_equal(corm_commit(db), CORM_OK);
    }
    /* given up half way: the cursor is closed all the same */
    assert_int_equal(
        be->query_stream(db->conn, "SELECT g FROM generate_series(1, 100) g", NULL, 0, 7, &s, &err),
        CORM_OK);
    bool row;
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    be->finish(s);
    assert_int_equal(open_cursors(), 0);
    /* exactly a chunk, and nothing */
    assert_int_equal(
        be->query_stream(db->conn, "SELECT g FROM generate_series(1, 6) g", NULL, 0, 3, &s, &err),
        CORM_OK);
    int n = 0;
    while (be->step(s, &row, &err) == CORM_OK && row) n++;
    assert_int_equal(n, 6);
    be->finish(s);
    assert_int_equal(be->query_stream(db->conn, "SELECT 1 WHERE false", NULL, 0, 3, &s, &err),
                     CORM_OK);
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_false(row);
    be->finish(s);
    /* errors come at the start, with the statement's SQL */
    assert_int_equal(
        be->query_stream(db->conn, "SELECT * FROM no_such_table", NULL, 0, 3, &s, &err), CORM_DB);
    assert_string_equal(err.sql, "SELECT * FROM no_such_table");
    assert_int_equal(open_cursors(), 0);
    /* the connection lost between chunks: the step that needs the server fails */
    assert_int_equal(
        be->query_stream(db->conn, "SELECT g FROM generate_series(1, 10) g", NULL, 0, 2, &s, &err),
        CORM_OK);
    for (int i = 0; i < 2; i++) assert_int_equal(be->step(s, &row, &err), CORM_OK);
    kill_connection(db);
    assert_int_equal(be->step(s, &row, &err), CORM_CONN);
    assert_false(row);
    be->finish(s);
    assert_string_equal(scalar(db, "SELECT 1"), "1"); /* reconnected */
    /* the iterator reads through one: one chunk in the client at a time */
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 2);
    assert_non_null(corm_iter_next(it));
    assert_int_equal(open_cursors(), 1);
    int books = 1;
    while (corm_iter_next(it)) books++;
    assert_int_equal(books, 6);
    corm_iter_free(it);
    corm_qs_free(qs);
    assert_int_equal(open_cursors(), 0);
}

static void test_ping(void **state)
{
    (void)state;
    corm_error err;
    assert_int_equal(db->be->ping(db->conn, &err), CORM_OK);
    int pid = corm__pg_backend_pid(db->conn);
    kill_connection(db);
    /* found dead while idle: reconnected, no statement lost */
    assert_int_equal(db->be->ping(db->conn, &err), CORM_OK);
    assert_int_not_equal(corm__pg_backend_pid(db->conn), pid);
    assert_string_equal(scalar(db, "SELECT 1"), "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_values_text),
        cmocka_unit_test(test_values_binary),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_statement_cache),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_failed_transaction),
        cmocka_unit_test(test_lost_connection_read),
        cmocka_unit_test(test_lost_connection_write_not_retried),
        cmocka_unit_test(test_lost_transaction),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_ping),
    };
    return cmocka_run_group_tests_name("pg", tests, setup, teardown);
}
