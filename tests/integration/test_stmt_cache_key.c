/*
** test_stmt_cache_key.c - the drivers' prepared-statement cache found by a
** hash handed in with the text (backend.h, query_hashed: the statement
** path hashes each text once and the driver does not hash it again).  A
** hash finds a text, it never names one: the same text hits; different
** texts never share a statement, even with the same hash (forced here),
** after eviction, on another connection, after a schema change, after
** the server forgot its statements (PostgreSQL's DEALLOCATE, a lost
** connection); a hash that is wrong for its text only misses.  Through
** the db layer: a loop of one shape reuses one statement, raw SQL is found
** by its text, and more shapes than the compiled-SQL memo holds keep
** their answers; integers bound as parameters come back as themselves.
** Runs on both backends.
*/
#include "test.h"
#include "backend/backend.h"
#include "db/db_int.h"

#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static int cached(corm_db *d)
{
    return test_db_is_pg() ? corm__pg_cache_count(d->conn) : corm__sqlite_cache_count(d->conn);
}

static uint64_t text_hash(const char *sql) { return corm__hash_fast(sql, strlen(sql)); }

static void exec_ok(corm_db *d, const char *sql)
{
    if (corm_exec(d, sql) != CORM_OK) {
        char buf[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_db_error(d), buf, sizeof buf));
    }
}

/* The first cell of sql run through query_hashed with hash and at most
** one int parameter (np 0 or 1); *ncols gets the row's column count. */
static int64_t keyed_n(corm_db *d, const char *sql, uint64_t hash, int64_t param, int np,
                       int *ncols)
{
    corm__stmt *s = NULL;
    corm_error err;
    corm_value p = corm_int(param);
    corm_rc rc = d->be->query_hashed(d->conn, sql, strlen(sql), hash, &p, np, &s, &err);
    if (rc != CORM_OK) fail_msg("%s: %s", sql, err.message);
    bool row = false;
    assert_int_equal(d->be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    if (ncols) *ncols = d->be->column_count(s);
    int64_t v = d->be->column_int(s, 0);
    d->be->finish(s);
    return v;
}

static int64_t keyed(corm_db *d, const char *sql, uint64_t hash, int64_t param)
{
    return keyed_n(d, sql, hash, param, 1, NULL);
}

/* The run on which a statement is kept: PostgreSQL runs it unnamed until
** the connection's prepare_threshold-th run, which prepares it (pg.c; 5
** unless the url says); SQLite keeps it on its first. */
static int keep_run(corm_db *d)
{
    return test_db_is_pg() ? corm__pg_prepare_threshold(d->conn) : 1;
}

/* "SELECT <k> + ?" (the backend's placeholder), k from 0 */
static const char *plus(char *buf, size_t n, int k)
{
    snprintf(buf, n, test_db_is_pg() ? "SELECT %d + $1::int" : "SELECT %d + ?", k);
    return buf;
}

/* ------------------------------------------------------------ driver */

static void test_same_text_hits(void **state)
{
    (void)state;
    char sql[64];
    plus(sql, sizeof sql, 40);
    int before = cached(db);
    /* kept on its keep_run-th run, not before */
    for (int i = 1; i < keep_run(db); i++) {
        assert_int_equal(keyed(db, sql, text_hash(sql), 2), 42);
        assert_int_equal(cached(db), before);
    }
    assert_int_equal(keyed(db, sql, text_hash(sql), 2), 42);
    assert_int_equal(cached(db), before + 1);
    for (int i = 0; i < 10; i++) assert_int_equal(keyed(db, sql, text_hash(sql), i), 40 + i);
    assert_int_equal(cached(db), before + 1);
    /* query() hashes the text as the statement path does: the same one */
    corm__stmt *s;
    corm_error err;
    corm_value p = corm_int(1);
    assert_int_equal(db->be->query(db->conn, sql, &p, 1, &s, &err), CORM_OK);
    db->be->finish(s);
    assert_int_equal(cached(db), before + 1);
}

static void test_same_hash_other_text(void **state)
{
    (void)state;
    /* every text with the same hash (one bucket, one chain): equal
    ** lengths, a prefix of another, a longer one */
    const char *sqls[4];
    char a[64], b[64], c[64];
    sqls[0] = plus(a, sizeof a, 1);
    sqls[1] = plus(b, sizeof b, 2);
    sqls[2] = plus(c, sizeof c, 100);
    sqls[3] = TEST_SQL("SELECT 1 + ? + 1000", "SELECT 1 + $1::int + 1000");
    const int64_t add[4] = {1, 2, 100, 1001};
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 4; i++)
            for (uint64_t h = 0; h < 3; h++) /* 0 too: nothing special */
                assert_int_equal(keyed(db, sqls[i], h * 0x9e3779b97f4a7c15ull, 5), add[i] + 5);
    /* and the right hash still finds its own text */
    for (int i = 0; i < 4; i++)
        assert_int_equal(keyed(db, sqls[i], text_hash(sqls[i]), 7), add[i] + 7);
}

static void test_wrong_hash_misses(void **state)
{
    (void)state;
    char sql[64];
    plus(sql, sizeof sql, 7);
    int before = cached(db);
    assert_int_equal(keyed(db, sql, text_hash(sql), 1), 8);
    /* another text's hash: no statement of another text, a miss */
    char other[64];
    plus(other, sizeof other, 8);
    assert_int_equal(keyed(db, other, text_hash(other), 1), 9);
    assert_int_equal(keyed(db, sql, text_hash(other), 2), 9);
    assert_int_equal(keyed(db, other, text_hash(sql), 2), 10);
    assert_true(cached(db) <= before + 4);
    assert_int_equal(keyed(db, sql, text_hash(sql), 3), 10);
    assert_int_equal(keyed(db, other, text_hash(other), 3), 11);
}

static void test_busy_statement_same_key(void **state)
{
    (void)state;
    const char *sql = TEST_SQL("SELECT v FROM (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT "
                               "3) AS t WHERE v >= ? ORDER BY v",
                               "SELECT g FROM generate_series($1::int, 3) g ORDER BY g");
    uint64_t h = text_hash(sql);
    corm__stmt *outer, *inner;
    corm_error err;
    corm_value p = corm_int(1);
    bool row;
    assert_int_equal(db->be->query_hashed(db->conn, sql, strlen(sql), h, &p, 1, &outer, &err),
                     CORM_OK);
    int64_t sum = 0;
    while (db->be->step(outer, &row, &err) == CORM_OK && row) {
        /* the same text and hash while the first is read: its own rows */
        corm_value q = corm_int(db->be->column_int(outer, 0) + 1);
        assert_int_equal(db->be->query_hashed(db->conn, sql, strlen(sql), h, &q, 1, &inner, &err),
                         CORM_OK);
        assert_ptr_not_equal(inner, outer);
        while (db->be->step(inner, &row, &err) == CORM_OK && row)
            sum += db->be->column_int(inner, 0);
        db->be->finish(inner);
    }
    db->be->finish(outer);
    assert_int_equal(sum, (2 + 3) + 3 + 0);
}

static void test_after_eviction(void **state)
{
    (void)state;
    /* 300 texts under one hash: the cache holds 256, the first ones are
    ** evicted (DEALLOCATEd on PostgreSQL) and come back as themselves.
    ** Each text runs keep_run times in a row: PostgreSQL prepares a
    ** statement on its prepare_threshold-th run (pg.c) */
    const uint64_t h = 12345;
    char sql[64];
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 300; k++)
            for (int again = 0; again < keep_run(db); again++)
                assert_int_equal(keyed(db, plus(sql, sizeof sql, 1000 + k), h, round),
                                 1000 + k + round);
    assert_int_equal(cached(db), 256);
    /* the same texts under their own hashes */
    for (int k = 0; k < 300; k += 7)
        assert_int_equal(keyed(db, plus(sql, sizeof sql, 1000 + k), text_hash(sql), 5), 1005 + k);
    assert_int_equal(cached(db), 256);
}

static void test_schema_change(void **state)
{
    (void)state;
    exec_ok(db, "CREATE TABLE sck (a integer)");
    exec_ok(db, "INSERT INTO sck VALUES (4)");
    const char *sql = "SELECT * FROM sck";
    int ncols = 0;
    /* keep_run times: PostgreSQL prepares a statement on its
    ** prepare_threshold-th run */
    for (int i = 0; i < keep_run(db); i++) {
        assert_int_equal(keyed_n(db, sql, text_hash(sql), 0, 0, &ncols), 4);
        assert_int_equal(ncols, 1);
    }
    /* the cached statement is prepared again for the new shape */
    exec_ok(db, "ALTER TABLE sck ADD COLUMN b integer");
    assert_int_equal(keyed_n(db, sql, text_hash(sql), 0, 0, &ncols), 4);
    assert_int_equal(ncols, 2);
    exec_ok(db, "DROP TABLE sck");
    exec_ok(db, "CREATE TABLE sck (z integer, a integer, c integer)");
    exec_ok(db, "INSERT INTO sck VALUES (9, 8, 7)");
    assert_int_equal(keyed_n(db, sql, text_hash(sql), 0, 0, &ncols), 9);
    assert_int_equal(ncols, 3);
    exec_ok(db, "DROP TABLE sck");
}

static void test_per_connection(void **state)
{
    (void)state;
    /* a temporary table of one connection: the same text and hash on
    ** another connection is that connection's statement (no such table) */
    corm_error err;
    corm_db *other = corm_open(test_db_url(), NULL, &err);
    if (!other) fail_msg("second connection: %s", err.message);
    exec_ok(db, "CREATE TEMPORARY TABLE sck_tmp (v integer)");
    exec_ok(db, "INSERT INTO sck_tmp VALUES (31)");
    const char *sql = "SELECT v FROM sck_tmp";
    assert_int_equal(keyed_n(db, sql, text_hash(sql), 0, 0, NULL), 31);
    corm__stmt *s = NULL;
    assert_int_not_equal(
        other->be->query_hashed(other->conn, sql, strlen(sql), text_hash(sql), NULL, 0, &s, &err),
        CORM_OK);
    assert_null(s);
    exec_ok(other, "CREATE TEMPORARY TABLE sck_tmp (v integer)");
    exec_ok(other, "INSERT INTO sck_tmp VALUES (32)");
    assert_int_equal(keyed_n(other, sql, text_hash(sql), 0, 0, NULL), 32);
    assert_int_equal(keyed_n(db, sql, text_hash(sql), 0, 0, NULL), 31);
    corm_close(other);
    /* a connection opened again starts with an empty cache */
    other = corm_open(test_db_url(), NULL, &err);
    if (!other) fail_msg("third connection: %s", err.message);
    int before = cached(other);
    assert_int_not_equal(
        other->be->query_hashed(other->conn, sql, strlen(sql), text_hash(sql), NULL, 0, &s, &err),
        CORM_OK);
    assert_int_equal(cached(other), before);
    corm_close(other);
    exec_ok(db, "DROP TABLE sck_tmp");
}

static void test_server_forgot(void **state)
{
    (void)state;
    if (!test_db_is_pg()) skip();
    char sql[64];
    plus(sql, sizeof sql, 50);
    /* prepared on its prepare_threshold-th run (pg.c) */
    const int keep = keep_run(db);
    int before = cached(db);
    for (int i = 1; i < keep; i++) {
        assert_int_equal(keyed(db, sql, text_hash(sql), 1), 51);
        assert_int_equal(cached(db), before);
    }
    assert_int_equal(keyed(db, sql, text_hash(sql), 1), 51);
    assert_int_equal(cached(db), before + 1);
    /* DEALLOCATE ALL: the name the cache holds is gone on the server */
    exec_ok(db, "DEALLOCATE ALL");
    assert_int_equal(keyed(db, sql, text_hash(sql), 2), 52);
    assert_int_equal(keyed(db, sql, text_hash(sql), 3), 53);
    /* a lost connection: the statement that finds it gone fails, the next
    ** one runs on a new session whose cache starts empty */
    corm_error err;
    corm_db *k = corm_open(test_db_url(), NULL, &err);
    if (!k) fail_msg("second connection: %s", err.message);
    char kill[96];
    snprintf(kill, sizeof kill, "SELECT pg_terminate_backend(%d)", corm__pg_backend_pid(db->conn));
    char killed[16];
    snprintf(killed, sizeof killed, "%s", test_scalar(k, kill));
    corm_close(k);
    assert_string_equal(killed, "1");
    corm__stmt *s = NULL;
    corm_value p = corm_int(4);
    assert_int_equal(
        db->be->query_hashed(db->conn, sql, strlen(sql), text_hash(sql), &p, 1, &s, &err),
        CORM_CONN);
    assert_int_equal(keyed(db, sql, text_hash(sql), 5), 55);
    /* the new session has seen it once: not prepared yet; prepared on its
    ** keep-th run (before the threshold: 1 here, prepared at its first run) */
    assert_int_equal(cached(db), 0);
    char other[64];
    assert_int_equal(keyed(db, plus(other, sizeof other, 60), text_hash(sql), 5), 65);
    for (int i = 2; i < keep; i++) {
        assert_int_equal(keyed(db, sql, text_hash(sql), 6), 56);
        assert_int_equal(cached(db), 0);
    }
    assert_int_equal(keyed(db, sql, text_hash(sql), 6), 56);
    assert_int_equal(cached(db), 1);
}

/* Integers bound as parameters (PostgreSQL sends them as text, written
** without printf): the extremes come back as themselves. */
static void test_bound_integers(void **state)
{
    (void)state;
    const char *sql = TEST_SQL("SELECT ? + 0", "SELECT $1::int8 + 0");
    const int64_t v[] = {0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_true(keyed(db, sql, text_hash(sql), v[i]) == v[i]);
}

/* ------------------------------------------------------------ db layer */

static void test_loop_reuses_one_statement(void **state)
{
    (void)state;
    /* keep_run times: PostgreSQL prepares a statement on its
    ** prepare_threshold-th run */
    corm_qs *qs;
    for (int i = 0; i < keep_run(db); i++) {
        qs = corm_all(db, Book);
        corm_filter(qs, "author_id", corm_int(1));
        assert_int_equal(corm_count(qs), 2);
        corm_qs_free(qs);
    }
    int before = cached(db);
    for (int64_t a = 1; a <= 4; a++)
        for (int i = 0; i < 5; i++) {
            qs = corm_all(db, Book);
            corm_filter(qs, "author_id", corm_int(a));
            static const int64_t want[] = {0, 2, 3, 1, 0};
            assert_int_equal(corm_count(qs), want[a]);
            corm_qs_free(qs);
        }
    assert_int_equal(cached(db), before);
    /* raw SQL has no compiled-SQL memo entry: found by its text */
    const char *raw = TEST_SQL("SELECT * FROM book WHERE pages > ? ORDER BY id",
                               "SELECT * FROM book WHERE pages > $1 ORDER BY id");
    corm_value p = corm_int(900);
    for (int i = 0; i < keep_run(db) + 2; i++) {
        qs = corm_raw(db, Book, raw, &p, 1);
        assert_ids(qs, "1,2,5");
        corm_qs_free(qs);
    }
    assert_int_equal(cached(db), before + 1);
}

/* One of 96 shapes (more than the compiled-SQL memo's 64 entries): a
** field, a lookup and an order; the ids of the books it selects. */
static const char *shape_ids(corm_db *d, int k)
{
    static const char *const fields[] = {"id", "pages", "author_id", "title"};
    static const char *const lookups[] = {"", "__gt", "__gte", "__lt", "__lte", "__in"};
    static const char *const orders[] = {"id", "-id", "pages", "-title"};
    const char *field = fields[k % 4];
    const char *lookup = lookups[(k / 4) % 6];
    char name[32];
    snprintf(name, sizeof name, "%s%s", field, lookup);
    bool text = strcmp(field, "title") == 0;
    int64_t n = strcmp(field, "pages") == 0 ? 900 : 2;
    static const char *const titles[] = {"1Q84", "Beowulf"};
    const int64_t nums[] = {n, 1, 3};
    corm_value v;
    if (strcmp(lookup, "__in") == 0) v = text ? corm_texts(titles, 2) : corm_ints(nums, 3);
    else v = text ? corm_text("Kafka on the Shore") : corm_int(n);
    corm_qs *qs = corm_all(d, Book);
    corm_filter(qs, name, v);
    corm_order_by(qs, orders[(k / 24) % 4]);
    static char out[64];
    snprintf(out, sizeof out, "%s", test_ids(qs));
    corm_qs_free(qs);
    return out;
}

static void test_more_shapes_than_the_memo(void **state)
{
    (void)state;
    enum { N = 96 };
    static char first[N][64];
    for (int k = 0; k < N; k++) snprintf(first[k], sizeof first[k], "%s", shape_ids(db, k));
    /* the answers of a connection that never saw the others */
    corm_error err;
    corm_db *fresh = corm_open(test_db_url(), &bookstore_schema, &err);
    if (!fresh) fail_msg("second connection: %s", err.message);
    for (int k = 0; k < N; k += 5) assert_string_equal(shape_ids(fresh, k), first[k]);
    corm_close(fresh);
    /* again, in another order, twice: memo entries evicted and reused */
    for (int round = 0; round < 2; round++)
        for (int k = N - 1; k >= 0; k -= round + 1) assert_string_equal(shape_ids(db, k), first[k]);
    assert_string_equal(first[5], "1,2,5"); /* pages > 900 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_text_hits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_hash_other_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_hash_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_statement_same_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_forgot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_reuses_one_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_shapes_than_the_memo, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
