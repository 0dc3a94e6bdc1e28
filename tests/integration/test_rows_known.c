/*
** test_rows_known.c - a result already whole in memory says how many rows
** it has (the backend's row_count: a PostgreSQL result read at once), so
** rows of columns (values(), corm_sql) are read into an array of that
** size at once instead of one grown by doubling (docs/benchmarks.md,
** "PostgreSQL memory"): the count before, during and after stepping, none
** for a streamed cursor or for SQLite, and the rows read exactly with it.
*/
#include "test.h"
#include "backend/backend.h"
#include "db/db_int.h"

#include <stdio.h>
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

/* 1..n, with every third t NULL, on both databases */
#define SERIES                                                                      \
    "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %d) " \
    "SELECT g, CASE WHEN g %% 3 = 0 THEN NULL ELSE 'r' || g END AS t FROM s ORDER BY g"

static corm__stmt *run(const char *sql)
{
    corm__stmt *s = NULL;
    corm_error err;
    if (db->be->query(db->conn, sql, NULL, 0, &s, &err) != CORM_OK)
        fail_msg("%s: %s", sql, err.message);
    return s;
}

static void test_backend_row_count(void **state)
{
    (void)state;
    const corm__backend *be = db->be;
    if (!test_db_is_pg()) {
        /* SQLite computes its rows as it steps: never known */
        assert_null(be->row_count);
        return;
    }
    assert_non_null(be->row_count);
    char sql[256];
    snprintf(sql, sizeof sql, SERIES, 100);
    corm__stmt *s = run(sql);
    corm_error err;
    bool row;
    assert_int_equal(be->row_count(s), 100);
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    assert_int_equal(be->row_count(s), 99); /* the rows still to give */
    for (int i = 1; i < 100; i++) assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    assert_int_equal(be->row_count(s), 0);
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_false(row);
    assert_int_equal(be->row_count(s), 0);
    be->finish(s);
    /* no rows, and a statement without rows */
    s = run("SELECT 1 WHERE 1 = 0");
    assert_int_equal(be->row_count(s), 0);
    be->finish(s);
    s = run("CREATE TEMPORARY TABLE rows_known_t (x int)");
    assert_int_equal(be->row_count(s), 0);
    be->finish(s);
    /* a cursor read FETCH by FETCH: its count is not known */
    snprintf(sql, sizeof sql, SERIES, 10);
    assert_int_equal(be->query_stream(db->conn, sql, NULL, 0, 3, &s, &err), CORM_OK);
    assert_int_equal(be->row_count(s), -1);
    int n = 0;
    while (be->step(s, &row, &err) == CORM_OK && row) {
        assert_int_equal(be->row_count(s), -1);
        n++;
    }
    assert_int_equal(n, 10);
    be->finish(s);
}

/* corm_sql's rows, read into an array sized by the count where there is
** one: every row and NULL in place, for 0, 1, 64 (the doubling's first
** size) and 1000 rows. */
static void test_sql_rows_exact(void **state)
{
    (void)state;
    const int sizes[] = {0, 1, 64, 65, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int n = sizes[k];
        char sql[256];
        if (n) snprintf(sql, sizeof sql, SERIES, n);
        else snprintf(sql, sizeof sql, "SELECT 1 AS g, 'x' AS t WHERE 1 = 0");
        corm_qs *qs = corm_sql(db, sql, NULL, 0);
        CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
        assert_int_equal(corm_qs_len(qs), (size_t)n);
        assert_int_equal(corm_qs_ncols(qs), 2);
        for (int i = 0; i < n; i++) {
            int g = i + 1;
            assert_int_equal(corm_row_int(qs, (size_t)i, "g"), g);
            if (g % 3 == 0) {
                assert_true(corm_row_isnull(qs, (size_t)i, "t"));
            } else {
                char want[32];
                snprintf(want, sizeof want, "r%d", g);
                assert_false(corm_row_isnull(qs, (size_t)i, "t"));
                assert_string_equal(corm_row_text(qs, (size_t)i, "t"), want);
            }
        }
        assert_null(corm_qs_cell(qs, (size_t)n, 0)); /* nothing past the last row */
        corm_qs_free(qs);
    }
}

/* values_list(flat) over a model: the same rows as the objects. */
static void test_values_flat_exact(void **state)
{
    (void)state;
    corm_qs *objs = corm_all(db, Book);
    corm_order_by(objs, "id");
    corm_qs *flat = corm_all(db, Book);
    corm_order_by(flat, "id");
    corm_values_flat(flat, "title");
    assert_int_equal(corm_eval(objs), CORM_OK);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(flat), CORM_OK); }
    assert_true(corm_qs_len(objs) > 0);
    assert_int_equal(corm_qs_len(flat), corm_qs_len(objs));
    for (size_t i = 0; i < corm_qs_len(objs); i++) {
        const Book *b = corm_qs_at(objs, i);
        assert_string_equal(corm_qs_cell(flat, i, 0)->u.s.p, b->title);
    }
    corm_qs_free(flat);
    corm_qs_free(objs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_row_count),
        cmocka_unit_test(test_sql_rows_exact),
        cmocka_unit_test(test_values_flat_exact),
    };
    return cmocka_run_group_tests_name("rows_known", tests, setup, teardown);
}
