/*
** test_bulk_pg_arrays.c - bulk_create and bulk_update over arrays: on
** PostgreSQL one statement per 32,768 rows, `INSERT ... SELECT ... FROM
** unnest(CAST($1 AS type[]), ...)` and `UPDATE ... FROM unnest(...)`, each
** column one array parameter (src/sql/unnest.c).  Every field type with
** the values an array literal must quote or escape (quotes, backslashes,
** commas, braces, the word NULL, empty strings, blobs with every byte),
** NULLs, schema defaults, an empty call, 40,000 rows, upserts, failures:
** each value read back exactly, each id the one of its object, exact
** query counts.  The same program runs on SQLite, where the writes are
** the executemany they were (one query).
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

/* Statements for n rows of one bulk call: one executemany on SQLite, one
** array statement per 32,768 rows on PostgreSQL. */
static uint64_t statements(size_t n) { return test_db_is_pg() ? (n + 32767) / 32768 : 1; }

static const unsigned char every_byte[256] = {
#define B4(x) x, x + 1, x + 2, x + 3
#define B16(x) B4(x), B4(x + 4), B4(x + 8), B4(x + 12)
#define B64(x) B16(x), B16(x + 16), B16(x + 32), B16(x + 48)
    B64(0), B64(64), B64(128), B64(192)};

static const char *const nasty[] = {
    "plain",
    "a \"quoted\" word",
    "back\\slash \\\\ two",
    "comma, and {braces}",
    "NULL",
    "",
    "  spaces around  ",
    "line\nbreak\ttab\rreturn",
    "it's 'single'",
    "\\\"",
    "{\"a\",NULL}",
    "é ✓ 日本",
    "}",
    "\"",
    "\\",
    ",",
};
#define NNASTY (sizeof nasty / sizeof *nasty)

static const char *const floats_text[] = {
    "0.1", "-0.5", "1e-300", "1.7976931348623157e308", "123456789.123456789", "-0"};

/* Object i of the nasty set: every column a value that needs quoting, or
** NULL, by turns. */
static Cell nasty_cell(size_t i, char *label, size_t lsize)
{
    Cell c = CORM_NEW(Cell);
    snprintf(label, lsize, "nasty %02zu", i);
    c.label = label;
    if (i == 0) return c; /* every nullable column NULL, the defaults */
    c.t = (char *)nasty[i % NNASTY];
    c.c = (char *)(i % 3 ? "a,\"b\"\\{}" : "NULL");
    c.n = (int32_t)(i % 2 ? -2147483647 - 1 : 2147483647);
    c.big = i % 2 ? INT64_MIN : INT64_MAX;
    corm_set_null(&c, "n", false);
    corm_set_null(&c, "big", false);
    c.f = strtod(floats_text[i % 6], NULL);
    corm_set_null(&c, "f", false);
    c.d = corm_dec(i % 2 ? "-99999999.9999" : "0.0001");
    corm_set_null(&c, "d", false);
    c.b = i % 2;
    corm_set_null(&c, "b", false);
    c.day = (char *)(i % 2 ? "2024-02-29" : "0001-01-01");
    c.at = (char *)(i % 2 ? "2024-02-29 23:59:59.123456" : "1999-12-31 00:00:00");
    c.j = (char *)(i % 2 ? "{\"a\": \"x\\\"y\\\\z {,}\", \"b\": [1, {\"c\": null}]}" : "[]");
    c.raw = (corm_blob){every_byte + (i * 7) % 200, 56};
    c.dflt = (int32_t)i;
    c.flag = false;
    c.word = i % 2 ? NULL : "w,\"}"; /* NULL: the schema default */
    return c;
}

static const char *dec_text(corm_decimal d, char *buf) { return corm_dec_format(d, buf); }

/* Loaded object got equals what was written (with NULLs and defaults). */
static void assert_same(const Cell *want, const Cell *got)
{
    char a[CORM_DEC_BUF], b[CORM_DEC_BUF];
    assert_int_equal(got->id, want->id);
    assert_string_equal(got->label, want->label);
    static const char *const nullable[] = {"t", "c",   "n",  "big", "f",  "d",
                                           "b", "day", "at", "j",   "raw"};
    for (size_t k = 0; k < sizeof nullable / sizeof *nullable; k++)
        if (corm_is_null(want, nullable[k]) != corm_is_null(got, nullable[k]))
            fail_msg("%s: %s NULL %d, read back %d", want->label, nullable[k],
                     corm_is_null(want, nullable[k]), corm_is_null(got, nullable[k]));
    if (!corm_is_null(want, "t")) assert_string_equal(got->t, want->t);
    if (!corm_is_null(want, "c")) assert_string_equal(got->c, want->c);
    if (!corm_is_null(want, "n")) assert_int_equal(got->n, want->n);
    if (!corm_is_null(want, "big")) assert_true(got->big == want->big);
    if (!corm_is_null(want, "f") && got->f != want->f)
        fail_msg("%s: f %.17g read back %.17g", want->label, want->f, got->f);
    if (!corm_is_null(want, "d"))
        assert_string_equal(dec_text(corm_dec_round(got->d, 4), a),
                            dec_text(corm_dec_round(want->d, 4), b));
    if (!corm_is_null(want, "b")) assert_int_equal(got->b, want->b);
    if (!corm_is_null(want, "day")) assert_string_equal(got->day, want->day);
    if (!corm_is_null(want, "at")) assert_string_equal(got->at, want->at);
    if (!corm_is_null(want, "j")) assert_string_equal(got->j, want->j);
    if (!corm_is_null(want, "raw")) {
        assert_int_equal(got->raw.len, want->raw.len);
        assert_memory_equal(got->raw.data, want->raw.data, want->raw.len);
    }
    assert_int_equal(got->dflt, want->dflt);
    assert_int_equal(got->flag, want->flag);
    assert_string_equal(got->word, want->word ? want->word : "dflt");
}

/* Every Cell, by id. */
static corm_qs *all_cells(void)
{
    corm_qs *qs = corm_all(db, Cell);
    corm_order_by(qs, "id");
    if (corm_eval(qs) != CORM_OK) fail_msg("eval: %s", corm_qs_error(qs)->message);
    return qs;
}

#define NCELLS 40

static void test_nasty_values_round_trip(void **state)
{
    (void)state;
    Cell cells[NCELLS];
    char labels[NCELLS][16];
    for (size_t i = 0; i < NCELLS; i++) cells[i] = nasty_cell(i, labels[i], sizeof labels[i]);
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, cells, NCELLS, NULL)); }
    /* each object has the id of its own row, in order */
    for (size_t i = 0; i < NCELLS; i++) assert_int_equal(cells[i].id, (int64_t)i + 1);
    corm_qs *qs = all_cells();
    assert_int_equal(corm_qs_len(qs), NCELLS);
    for (size_t i = 0; i < NCELLS; i++) assert_same(&cells[i], corm_qs_at(qs, i));

    /* bulk_update writes the values of another object into each row: the
    ** nasty set shifted by one, so every value changes (NULLs included) */
    Cell *const *rows = (Cell *const *)corm_qs_items(qs);
    Cell want[NCELLS];
    for (size_t i = 0; i < NCELLS; i++) {
        Cell *r = rows[i];
        Cell src = cells[(i + 1) % NCELLS];
        static const char *const f[] = {"t", "c",   "n",  "big", "f",  "d",
                                        "b", "day", "at", "j",   "raw"};
        for (size_t k = 0; k < sizeof f / sizeof *f; k++)
            corm_set_null(r, f[k], corm_is_null(&src, f[k]));
        r->t = src.t, r->c = src.c, r->n = src.n, r->big = src.big, r->f = src.f, r->d = src.d;
        r->b = src.b, r->day = src.day, r->at = src.at, r->j = src.j, r->raw = src.raw;
        for (size_t k = 0; k < sizeof f / sizeof *f; k++)
            corm_set_null(r, f[k], corm_is_null(&src, f[k]));
        r->dflt = src.dflt;
        want[i] = *r;
    }
    int64_t n = -1;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        n = corm_bulk_update(db, corm_qs_items(qs), NCELLS, "t", "c", "n", "big", "f", "d", "b",
                             "day", "at", "j", "raw", "dflt");
    }
    assert_int_equal(n, NCELLS);
    corm_qs *again = all_cells();
    for (size_t i = 0; i < NCELLS; i++) {
        Cell w = want[i];
        w.word = rows[i]->word; /* not written: as it was */
        assert_same(&w, corm_qs_at(again, i));
    }
    corm_qs_free(again);
    corm_qs_free(qs);
}

static void test_empty_and_one(void **state)
{
    (void)state;
    CORM_ASSERT_NUM_QUERIES(db, 0) { OK_DB(corm_bulk_create_array(db, (Cell *)NULL, 0, NULL)); }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_bulk_update(db, (void *const *)NULL, 0, "t"), 0);
    }
    Cell one = CORM_NEW(Cell);
    one.label = "only";
    one.t = "{}";
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, &one, 1, NULL)); }
    assert_int_equal(one.id, 1);
    corm_qs *qs = all_cells();
    assert_int_equal(corm_qs_len(qs), 1);
    assert_same(&one, corm_qs_at(qs, 0));
    corm_qs_free(qs);
}

#define LARGE 40000

static void test_large(void **state)
{
    (void)state;
    Cell *cells = calloc(LARGE, sizeof *cells);
    char(*labels)[24] = calloc(LARGE, sizeof *labels);
    assert_non_null(cells);
    assert_non_null(labels);
    for (size_t i = 0; i < LARGE; i++) {
        cells[i] = CORM_NEW(Cell);
        snprintf(labels[i], sizeof labels[i], "row %zu", i);
        cells[i].label = labels[i];
        cells[i].t = (char *)nasty[i % NNASTY];
        cells[i].n = (int32_t)i;
        corm_set_null(&cells[i], "n", false);
    }
    CORM_ASSERT_NUM_QUERIES(db, statements(LARGE))
    {
        OK_DB(corm_bulk_create_array(db, cells, LARGE, NULL));
    }
    for (size_t i = 0; i < LARGE; i++)
        if (cells[i].id != (int64_t)i + 1)
            fail_msg("object %zu has id %lld", i, (long long)cells[i].id);
    corm_qs *qs = all_cells();
    assert_int_equal(corm_qs_len(qs), LARGE);
    for (size_t i = 0; i < LARGE; i += 997) assert_same(&cells[i], corm_qs_at(qs, i));
    assert_same(&cells[LARGE - 1], corm_qs_at(qs, LARGE - 1));
    /* every object's row has its label and its n */
    for (size_t i = 0; i < LARGE; i++) {
        const Cell *r = corm_qs_at(qs, i);
        if (strcmp(r->label, cells[i].label) != 0 || r->n != (int32_t)i)
            fail_msg("row %zu: %s n=%d", i, r->label, r->n);
    }
    corm_qs_free(qs);

    /* bulk_update of all of them: the same number of statements */
    for (size_t i = 0; i < LARGE; i++) {
        cells[i].n = (int32_t)(LARGE - i);
        cells[i].t = (char *)nasty[(i + 5) % NNASTY];
    }
    int64_t n = -1;
    CORM_ASSERT_NUM_QUERIES(db, statements(LARGE))
    {
        n = corm_bulk_update_array_at(db, cells, LARGE, (const char *const[]){"n", "t", NULL}, NULL,
                                      CORM_SITE);
    }
    assert_int_equal(n, LARGE);
    qs = all_cells();
    for (size_t i = 0; i < LARGE; i++) {
        const Cell *r = corm_qs_at(qs, i);
        if (r->n != (int32_t)(LARGE - i) || strcmp(r->t, nasty[(i + 5) % NNASTY]) != 0)
            fail_msg("row %zu after update: n=%d t=%s", i, r->n, r->t);
    }
    corm_qs_free(qs);

    /* batch_size still caps the rows per statement (per executemany on
    ** SQLite) */
    corm_bulk_opts small = {.batch_size = 15000};
    for (size_t i = 0; i < LARGE; i++) cells[i].n = 1;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        n = corm_bulk_update_array_at(db, cells, LARGE, (const char *const[]){"n", NULL}, &small,
                                      CORM_SITE);
    }
    assert_int_equal(n, LARGE);
    free(cells);
    free(labels);
}

/* A failure in the second statement writes nothing and names the object;
** the ids filled in are taken back. */
static void test_failure_writes_nothing(void **state)
{
    (void)state;
    Cell *cells = calloc(LARGE, sizeof *cells);
    char(*labels)[24] = calloc(LARGE, sizeof *labels);
    assert_non_null(cells);
    for (size_t i = 0; i < LARGE; i++) {
        cells[i] = CORM_NEW(Cell);
        snprintf(labels[i], sizeof labels[i], "row %zu", i);
        cells[i].label = labels[i];
    }
    cells[34999].label = labels[3]; /* unique: repeats object 4 */
    assert_int_equal(corm_bulk_create_array(db, cells, LARGE, NULL), CORM_CONSTRAINT);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_UNIQUE);
    assert_int_equal(e->row, 35000);
    assert_string_equal(e->values, "label='row 3'");
    corm_qs *qs = all_cells();
    assert_int_equal(corm_qs_len(qs), 0);
    corm_qs_free(qs);
    for (size_t i = 0; i < LARGE; i++)
        if (cells[i].id != 0) fail_msg("object %zu kept id %lld", i, (long long)cells[i].id);
    free(cells);
    free(labels);
}

/* Upserts over arrays: update_conflicts returns every id (new or updated
** row), ignore_conflicts skips the conflicting rows and leaves ids alone. */
static void test_conflicts(void **state)
{
    (void)state;
    Cell a[3];
    const char *names[3] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        a[i] = CORM_NEW(Cell);
        a[i].label = (char *)names[i];
        a[i].t = "first";
    }
    OK_DB(corm_bulk_create_array(db, a, 2, NULL)); /* x, y */
    Cell b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = CORM_NEW(Cell);
        b[i].label = (char *)names[2 - i]; /* z, y, x */
        b[i].t = "second, \"quoted\"";
    }
    corm_bulk_opts up = {.update_conflicts = true,
                         .unique_fields = (const char *const[]){"label", NULL},
                         .update_fields = (const char *const[]){"t", NULL}};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, b, 3, &up)); }
    /* z is new (id 3 on both: PostgreSQL's sequence gave 3 to nothing
    ** else), y and x kept theirs */
    assert_int_equal(b[1].id, 2);
    assert_int_equal(b[2].id, 1);
    assert_true(b[0].id > 2);
    corm_qs *qs = all_cells();
    assert_int_equal(corm_qs_len(qs), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(((Cell *)corm_qs_at(qs, i))->t, "second, \"quoted\"");
    corm_qs_free(qs);

    Cell c[2];
    c[0] = CORM_NEW(Cell);
    c[0].label = "x"; /* conflicts */
    c[1] = CORM_NEW(Cell);
    c[1].label = "w";
    corm_bulk_opts ign = {.ignore_conflicts = true};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, c, 2, &ign)); }
    assert_int_equal(c[0].id, 0);
    assert_int_equal(c[1].id, 0);
    qs = all_cells();
    assert_int_equal(corm_qs_len(qs), 4);
    corm_qs_free(qs);
}

/* Objects that carry their ids go in first with them, the others after,
** with new ids past them. */
static void test_explicit_ids(void **state)
{
    (void)state;
    Cell c[3];
    const char *names[3] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        c[i] = CORM_NEW(Cell);
        c[i].label = (char *)names[i];
        c[i].t = "{\"}";
    }
    c[1].id = 50;
    OK_DB(corm_bulk_create_array(db, c, 3, NULL));
    assert_int_equal(c[1].id, 50);
    assert_true(c[0].id > 50);
    assert_int_equal(c[2].id, c[0].id + 1);
    corm_qs *qs = all_cells();
    assert_int_equal(corm_qs_len(qs), 3);
    assert_same(&c[1], corm_qs_at(qs, 0));
    assert_same(&c[0], corm_qs_at(qs, 1));
    assert_same(&c[2], corm_qs_at(qs, 2));
    corm_qs_free(qs);
}

/* The statement the write ran: PostgreSQL's reads the rows from unnest()
** with one parameter per column. */
static void test_statement_shape(void **state)
{
    (void)state;
    Cell c[5];
    char labels[5][16];
    for (size_t i = 0; i < 5; i++) c[i] = nasty_cell(i + 1, labels[i], sizeof labels[i]);
    corm_capture *cap = corm_capture_begin(db, "bulk");
    OK_DB(corm_bulk_create_array(db, c, 5, NULL));
    assert_int_equal(
        corm_bulk_update_array_at(db, c, 5, (const char *const[]){"t", "n", NULL}, NULL, CORM_SITE),
        5);
    corm_capture_end(cap);
    assert_int_equal(corm_capture_count(cap), 2);
    const corm_event *ins = corm_capture_event(cap, 0), *upd = corm_capture_event(cap, 1);
    if (test_db_is_pg()) {
        assert_non_null(strstr(ins->sql, "SELECT corm_v.c1, corm_v.c2"));
        assert_non_null(
            strstr(ins->sql, "FROM unnest(CAST($1 AS varchar(40)[]), CAST($2 AS text[])"));
        assert_non_null(strstr(ins->sql, "COALESCE(corm_v.c13, 7)"));
        assert_non_null(strstr(ins->sql, "COALESCE(corm_v.c15, 'dflt')"));
        assert_non_null(strstr(ins->sql, "CAST($12 AS bytea[])"));
        assert_non_null(strstr(ins->sql, " RETURNING \"id\""));
        assert_int_equal(ins->nparams, 15); /* the columns, not the values */
        assert_string_equal(upd->sql, "UPDATE \"cell\" SET \"t\" = corm_v.c1, \"n\" = corm_v.c2 "
                                      "FROM unnest(CAST($1 AS text[]), CAST($2 AS integer[]), "
                                      "CAST($3 AS bigint[])) AS corm_v(c1, c2, c3) WHERE "
                                      "\"cell\".\"id\" = corm_v.c3");
        assert_int_equal(upd->nparams, 3);
    } else {
        assert_null(strstr(ins->sql, "unnest"));
        assert_null(strstr(upd->sql, "unnest"));
    }
    corm_capture_free(cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nasty_values_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_shape, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
