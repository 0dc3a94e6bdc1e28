/*
** test_bulk_diagnose.c - which object broke a bulk write.  When a
** multi-row statement (PostgreSQL's unnest arrays, 32,768 rows; a VALUES
** join on request) fails a constraint that the objects' own values do not
** explain (here a label some row outside the call already has), the
** failing batch is bisected in a transaction rolled back after: halves
** run in savepoints until one row is left, log2(rows) statements (origin
** "diagnose") instead of one per row.  A failing row at the start, the
** middle and the end of a batch is named; the statement count is exact;
** nothing is written, no id is kept, and the db works afterwards.  The
** same program runs on SQLite, where bulk_create's executemany names the
** row itself (no diagnosis) and bulk_update bisects its VALUES batch.
*/
#include "test.h"

#include "bulk_arrays/bulk_arrays.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    corm_error err;
    db = corm_open(test_db_fresh_url(), &bulk_arrays_schema, &err);
    if (!db) {
        char buf[2048];
        fail_msg("corm_open: %s", corm_error_format(&err, buf, sizeof buf));
    }
    if (corm_migrate(db) != CORM_OK) fail_msg("corm_migrate: %s", corm_db_error(db)->message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_close(db);
    test_db_close(NULL);
    return 0;
}

#define OK_DB(call) TEST_OK_DB(db, call)

/* One batch: PostgreSQL's array statement holds 32,768 rows; SQLite's
** VALUES join is given 8,192 (its parameter limit allows 16,383). */
static size_t batch_rows(void) { return test_db_is_pg() ? 32768 : 8192; }

/* log2 of a power of two */
static uint64_t halvings(size_t n)
{
    uint64_t k = 0;
    while (n > 1) n >>= 1, k++;
    return k;
}

/* The row "taken", outside every call: the constraint the calls break. */
static void insert_taken(void)
{
    Cell c = CORM_NEW(Cell);
    c.label = "taken";
    OK_DB(corm_bulk_create_array(db, &c, 1, NULL));
}

static Cell *new_cells(size_t n, char (**labels)[32])
{
    Cell *cells = calloc(n, sizeof *cells);
    *labels = calloc(n, sizeof **labels);
    assert_non_null(cells);
    assert_non_null(*labels);
    for (size_t i = 0; i < n; i++) {
        cells[i] = CORM_NEW(Cell);
        snprintf((*labels)[i], sizeof(*labels)[i], "row %zu", i);
        cells[i].label = (*labels)[i];
    }
    return cells;
}

static uint64_t count_origin(corm_capture *cap, const char *origin)
{
    uint64_t k = 0;
    for (size_t i = 0; i < corm_capture_count(cap); i++)
        if (strcmp(corm_capture_event(cap, i)->origin, origin) == 0) k++;
    return k;
}

static int64_t count_cells(void)
{
    corm_qs *qs = corm_all(db, Cell);
    int64_t n = corm_count(qs);
    corm_qs_free(qs);
    return n;
}

/* The db works after the failure: a write and a read. */
static void still_usable(int64_t before)
{
    Cell c = CORM_NEW(Cell);
    c.label = "after";
    OK_DB(corm_bulk_create_array(db, &c, 1, NULL));
    assert_true(c.id > 0);
    assert_int_equal(count_cells(), before + 1);
}

/* The error the call left: the object at pos, the label it repeats. */
static void assert_names(size_t pos, const char *what)
{
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->rc, CORM_CONSTRAINT);
    assert_int_equal(e->constraint, CORM_CK_UNIQUE);
    assert_int_equal(e->row, (int64_t)pos + 1);
    assert_string_equal(e->values, "label='taken'");
    char want[96];
    snprintf(want, sizeof want, "%s of Cell: object %zu", what, pos + 1);
    if (strncmp(e->message, want, strlen(want)) != 0)
        fail_msg("message '%s', want it to start '%s'", e->message, want);
}

static void create_fails_at(size_t pos)
{
    insert_taken();
    size_t n = batch_rows();
    char(*labels)[32];
    Cell *cells = new_cells(n, &labels);
    cells[pos].label = "taken";
    corm_capture *cap = corm_capture_begin(db, "create");
    assert_int_equal(corm_bulk_create_array(db, cells, n, NULL), CORM_CONSTRAINT);
    corm_capture_end(cap);
    assert_names(pos, "bulk_create");
    /* SQLite's executemany names the row: no diagnosis.  PostgreSQL:
    ** one halving per power of two, and the last row alone to confirm
    ** it when no half failed */
    uint64_t diag = !test_db_is_pg() ? 0 : halvings(n) + (pos == n - 1 ? 1 : 0);
    assert_int_equal(count_origin(cap, "diagnose"), diag);
    assert_int_equal(count_origin(cap, "bulk_create"), 1);
    assert_int_equal(corm_capture_count(cap), 1 + diag);
    corm_capture_free(cap);
    /* nothing written, no id kept */
    assert_int_equal(count_cells(), 1);
    for (size_t i = 0; i < n; i++)
        if (cells[i].id != 0) fail_msg("object %zu kept id %lld", i, (long long)cells[i].id);
    still_usable(1);
    free(cells);
    free(labels);
}

static void test_create_first(void **state)
{
    (void)state;
    create_fails_at(0);
}

static void test_create_middle(void **state)
{
    (void)state;
    create_fails_at(batch_rows() / 2 + 123);
}

static void test_create_last(void **state)
{
    (void)state;
    create_fails_at(batch_rows() - 1);
}

static void update_fails_at(size_t pos)
{
    insert_taken();
    size_t n = batch_rows();
    char(*labels)[32];
    Cell *cells = new_cells(n, &labels);
    OK_DB(corm_bulk_create_array(db, cells, n, NULL));
    for (size_t i = 0; i < n; i++) cells[i].n = (int)i;
    cells[pos].label = "taken";
    /* one batch: PostgreSQL's arrays; SQLite's VALUES join (its own
    ** choice, an executemany, names the row itself) */
    corm_bulk_opts opts = {.strategy = test_db_is_pg() ? CORM_BULK_AUTO : CORM_BULK_VALUES,
                           .batch_size = n};
    corm_capture *cap = corm_capture_begin(db, "update");
    assert_int_equal(corm_bulk_update_array_at(
                         db, cells, n, (const char *const[]){"label", "n", NULL}, &opts, CORM_SITE),
                     -1);
    corm_capture_end(cap);
    assert_names(pos, "bulk_update");
    uint64_t diag = halvings(n) + (pos == n - 1 ? 1 : 0);
    assert_int_equal(count_origin(cap, "diagnose"), diag);
    assert_int_equal(count_origin(cap, "bulk_update"), 1);
    assert_int_equal(corm_capture_count(cap), 1 + diag);
    corm_capture_free(cap);
    /* nothing written: every row as bulk_create left it */
    corm_qs *qs = corm_all(db, Cell);
    corm_order_by(qs, "id");
    if (corm_eval(qs) != CORM_OK) fail_msg("eval: %s", corm_qs_error(qs)->message);
    assert_int_equal(corm_qs_len(qs), n + 1);
    assert_string_equal(((Cell *)corm_qs_at(qs, 0))->label, "taken");
    for (size_t i = 0; i < n; i++) {
        const Cell *r = corm_qs_at(qs, i + 1);
        if (strcmp(r->label, labels[i]) != 0 || r->n != 0)
            fail_msg("row %zu: label %s n %d", i, r->label, r->n);
    }
    corm_qs_free(qs);
    still_usable((int64_t)n + 1);
    free(cells);
    free(labels);
}

static void test_update_first(void **state)
{
    (void)state;
    update_fails_at(0);
}

static void test_update_middle(void **state)
{
    (void)state;
    update_fails_at(batch_rows() / 2 + 123);
}

static void test_update_last(void **state)
{
    (void)state;
    update_fails_at(batch_rows() - 1);
}

/* Inside the caller's transaction the diagnosis runs in a savepoint: the
** caller's earlier write stays, and its transaction goes on. */
static corm_rc in_atomic(corm_db *adb, void *ud)
{
    (void)ud;
    insert_taken();
    size_t n = batch_rows();
    char(*labels)[32];
    Cell *cells = new_cells(n, &labels);
    cells[n / 3].label = "taken";
    assert_int_equal(corm_bulk_create_array(adb, cells, n, NULL), CORM_CONSTRAINT);
    assert_names(n / 3, "bulk_create");
    assert_int_equal(count_cells(), 1);
    free(cells);
    free(labels);
    Cell c = CORM_NEW(Cell);
    c.label = "inside";
    return corm_bulk_create_array(adb, &c, 1, NULL);
}

static void test_inside_atomic(void **state)
{
    (void)state;
    OK_DB(corm_atomic(db, in_atomic, NULL));
    assert_int_equal(count_cells(), 2);
    still_usable(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inside_atomic, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
