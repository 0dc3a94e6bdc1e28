/*
** test_compile_dml.c - every statement the write path runs, compiled
** without a database, with its exact text on SQLite and on PostgreSQL:
** INSERT of one row (save; the executemany row with COALESCE defaults; ON
** CONFLICT; RETURNING; DEFAULT VALUES), the multi-row INSERT, the m2m link
** row, the id generator's sync, UPDATE of one row, of a queryset (values,
** F, filters, the checks on assignments), bulk_update's CASE and VALUES,
** the delete collector's keyed DELETE / SET NULL / SELECT, a queryset's
** DELETE and id SELECT, EXPLAIN and the transaction statements.
*/
#include "test.h"
#include "sql/compile_int.h"

#include <string.h>

static char text[8192];
static int nparams;
static corm_error err;

static const corm__dialect *const SQLITE = &corm__sqlite_dialect;
static const corm__dialect *const PG = &corm__pg_dialect;

static const corm_field *field(const corm_model *m, const char *name)
{
    const corm_field *f = corm__model_field(m, name, strlen(name));
    assert_non_null(f);
    return f;
}

static const corm_relation *rel(const corm_model *m, const char *name)
{
    for (int i = 0; i < m->nrels; i++)
        if (strcmp(m->rels[i].name, name) == 0) return &m->rels[i];
    fail_msg("%s has no relation %s", m->name, name);
    return NULL;
}

/* A row statement's text into `text`. */
static void keep_buf(corm_rc rc, corm_buf *b)
{
    assert_int_equal(rc, CORM_OK);
    snprintf(text, sizeof text, "%s", corm__buf_cstr(b));
    corm__buf_free(b);
}

/* A data statement's text and parameter count; the compiled is freed. */
static corm_rc keep(corm_rc rc, corm__compiled *c)
{
    snprintf(text, sizeof text, "%s", rc == CORM_OK ? corm__buf_cstr(&c->sql) : "");
    nparams = c->nparams;
    corm__compiled_free(c);
    return rc;
}

static void insert_row(const corm__insert *ins, const corm__dialect *d)
{
    corm_buf b;
    corm__buf_init(&b);
    keep_buf(corm__compile_insert_row(ins, d, &b, &err), &b);
}

static void test_insert_row(void **state)
{
    (void)state;
    /* save: the columns given, then RETURNING where the dialect reads ids so */
    const corm_field *cols[] = {field(&Book_model, "title"), field(&Book_model, "pages")};
    corm__insert ins = {.model = &Book_model, .cols = cols, .ncols = 2};
    insert_row(&ins, SQLITE);
    assert_string_equal(text, "INSERT INTO \"book\" (\"title\", \"pages\") VALUES (?, ?)");
    ins.returning_id = true;
    insert_row(&ins, PG);
    assert_string_equal(
        text, "INSERT INTO \"book\" (\"title\", \"pages\") VALUES ($1, $2) RETURNING \"id\"");

    /* with the id; no column at all */
    const corm_field *withid[] = {&Genre_model.fields[0], field(&Genre_model, "name")};
    corm__insert g = {.model = &Genre_model, .cols = withid, .ncols = 2};
    insert_row(&g, PG);
    assert_string_equal(text, "INSERT INTO \"genre\" (\"id\", \"name\") VALUES ($1, $2)");
    g.ncols = 0;
    insert_row(&g, SQLITE);
    assert_string_equal(text, "INSERT INTO \"genre\" DEFAULT VALUES");
    g.returning_id = true;
    insert_row(&g, PG);
    assert_string_equal(text, "INSERT INTO \"genre\" DEFAULT VALUES RETURNING \"id\"");

    /* the executemany row: a NULL takes the schema default */
    const corm_field *bcols[] = {field(&Book_model, "title"), field(&Book_model, "featured")};
    corm__insert row = {.model = &Book_model, .cols = bcols, .ncols = 2, .coalesce_defaults = true};
    insert_row(&row, SQLITE);
    assert_string_equal(
        text, "INSERT INTO \"book\" (\"title\", \"featured\") VALUES (?, COALESCE(?, FALSE))");
    row.coalesce_defaults = false;
    insert_row(&row, PG);
    assert_string_equal(text, "INSERT INTO \"book\" (\"title\", \"featured\") VALUES ($1, $2)");
}

static void test_insert_conflicts(void **state)
{
    (void)state;
    const corm_field *cols[] = {field(&Genre_model, "name")};
    corm__insert ins = {
        .model = &Genre_model, .cols = cols, .ncols = 1, .conflict = CORM__CONFLICT_IGNORE};
    insert_row(&ins, SQLITE);
    assert_string_equal(text, "INSERT INTO \"genre\" (\"name\") VALUES (?) ON CONFLICT DO NOTHING");

    const corm_field *bcols[] = {field(&Book_model, "isbn"), field(&Book_model, "title"),
                                 field(&Book_model, "pages")};
    const corm_field *target[] = {field(&Book_model, "isbn")};
    const corm_field *update[] = {field(&Book_model, "title"), field(&Book_model, "pages")};
    corm__insert up = {.model = &Book_model,
                       .cols = bcols,
                       .ncols = 3,
                       .conflict = CORM__CONFLICT_UPDATE,
                       .target = target,
                       .ntarget = 1,
                       .update = update,
                       .nupdate = 2,
                       .returning_id = true};
    insert_row(&up, SQLITE);
    assert_string_equal(text,
                        "INSERT INTO \"book\" (\"isbn\", \"title\", \"pages\") VALUES (?, ?, ?)"
                        " ON CONFLICT (\"isbn\") DO UPDATE SET \"title\" = EXCLUDED.\"title\","
                        " \"pages\" = EXCLUDED.\"pages\" RETURNING \"id\"");
    insert_row(&up, PG);
    assert_string_equal(text,
                        "INSERT INTO \"book\" (\"isbn\", \"title\", \"pages\") VALUES ($1, $2, $3)"
                        " ON CONFLICT (\"isbn\") DO UPDATE SET \"title\" = EXCLUDED.\"title\","
                        " \"pages\" = EXCLUDED.\"pages\" RETURNING \"id\"");
}

/* Rows of (title, featured): row r is "t<r>", featured NULL on odd rows. */
static corm_rc book_row(void *ud, size_t row, corm_value *cells)
{
    static const char *titles[] = {"t0", "t1", "t2"};
    (void)ud;
    cells[0] = corm_text(titles[row]);
    cells[1] = row % 2 ? corm_null() : corm_bool(true);
    return CORM_OK;
}

static void test_insert_rows(void **state)
{
    (void)state;
    const corm_field *cols[] = {field(&Book_model, "title"), field(&Book_model, "featured")};
    corm__insert ins = {.model = &Book_model, .cols = cols, .ncols = 2};
    corm__compiled c;
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_insert_rows(&ins, SQLITE, 3, book_row, NULL, &c, &err), &c),
                     CORM_OK);
    assert_string_equal(text, "INSERT INTO \"book\" (\"title\", \"featured\") VALUES (?, ?), "
                              "(?, FALSE), (?, ?)");
    assert_int_equal(nparams, 5);

    /* PostgreSQL numbers them; the conflict clause and RETURNING follow */
    ins.conflict = CORM__CONFLICT_IGNORE;
    ins.returning_id = true;
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_insert_rows(&ins, PG, 2, book_row, NULL, &c, &err), &c),
                     CORM_OK);
    assert_string_equal(text, "INSERT INTO \"book\" (\"title\", \"featured\") VALUES ($1, $2), "
                              "($3, FALSE) ON CONFLICT DO NOTHING RETURNING \"id\"");
    assert_int_equal(nparams, 3);

    /* a compiled reused for the next batch starts over */
    corm__compiled_init(&c);
    assert_int_equal(corm__compile_insert_rows(&ins, PG, 1, book_row, NULL, &c, &err), CORM_OK);
    corm__compiled_reset(&c);
    assert_int_equal(keep(corm__compile_insert_rows(&ins, PG, 1, book_row, NULL, &c, &err), &c),
                     CORM_OK);
    assert_string_equal(text, "INSERT INTO \"book\" (\"title\", \"featured\") VALUES ($1, $2) "
                              "ON CONFLICT DO NOTHING RETURNING \"id\"");
    assert_int_equal(nparams, 2);
}

static void test_link_and_sync(void **state)
{
    (void)state;
    corm_buf b;
    corm__buf_init(&b);
    keep_buf(corm__compile_link_insert(rel(&Book_model, "genres"), SQLITE, &b, &err), &b);
    assert_string_equal(text,
                        "INSERT INTO \"book_genres\" (\"book_id\", \"genre_id\") VALUES (?, ?)");
    corm__buf_init(&b);
    keep_buf(corm__compile_link_insert(rel(&Genre_model, "books"), PG, &b, &err), &b);
    assert_string_equal(text,
                        "INSERT INTO \"book_genres\" (\"genre_id\", \"book_id\") VALUES ($1, $2)");

    /* SQLite's AUTOINCREMENT follows explicit ids: nothing to run */
    corm__buf_init(&b);
    keep_buf(corm__compile_sync_ids(&Genre_model, SQLITE, &b, &err), &b);
    assert_string_equal(text, "");
    corm__buf_init(&b);
    keep_buf(corm__compile_sync_ids(&User_model, PG, &b, &err), &b);
    assert_string_equal(text,
                        "SELECT setval(pg_get_serial_sequence('\"users\"', 'id'), GREATEST((SELECT "
                        "max(\"id\") FROM \"users\"), nextval(pg_get_serial_sequence('\"users\"', "
                        "'id')) - 1))");
}

static void test_update_row(void **state)
{
    (void)state;
    const corm_field *cols[] = {field(&Book_model, "title"), field(&Book_model, "pages")};
    corm_buf b;
    corm__buf_init(&b);
    keep_buf(corm__compile_update_row(&Book_model, cols, 2, SQLITE, &b, &err), &b);
    assert_string_equal(text, "UPDATE \"book\" SET \"title\" = ?, \"pages\" = ? WHERE \"id\" = ?");
    const corm_field *ucols[] = {field(&User_model, "name")};
    corm__buf_init(&b);
    keep_buf(corm__compile_update_row(&User_model, ucols, 1, PG, &b, &err), &b);
    assert_string_equal(text, "UPDATE \"users\" SET \"name\" = $1 WHERE \"id\" = $2");
}

static corm_rc update_of(const corm__query *q, const corm_assign *set, size_t n,
                         const corm__dialect *d)
{
    corm__compiled c;
    corm__compiled_init(&c);
    return keep(corm__compile_update(q, set, n, d, &c, &err), &c);
}

static void test_update_queryset(void **state)
{
    (void)state;
    corm__query all = {.model = &Book_model, .limit = -1};
    corm_assign set[] = {CORM_SET("pages", corm_int(10)),
                         CORM_SET_F("price", "price", '*', corm_float(1.5))};
    assert_int_equal(update_of(&all, set, 2, SQLITE), CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" AS T0 SET \"pages\" = ?, \"price\" = (T0.\"price\" "
                              "* ?)");
    assert_int_equal(nparams, 2);

    /* the SET parameters first, then the WHERE's; a join is a semi-join */
    struct corm_q leaf = {.kind = CORM__Q_LEAF, .lookup = "author__name", .value = corm_text("x")};
    corm__query q = {.model = &Book_model, .where = &leaf, .limit = -1};
    assert_int_equal(update_of(&q, set, 1, PG), CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" AS T0 SET \"pages\" = $1 WHERE T0.\"id\" IN (SELECT "
                              "T0.\"id\" FROM \"book\" T0 INNER JOIN \"author\" T1 ON "
                              "(T0.\"author_id\" = T1.\"id\") WHERE T1.\"name\" = $2)");
    assert_int_equal(nparams, 2);
    corm_assign f = CORM_SET_F("pages", "pages", 0, corm_null());
    assert_int_equal(update_of(&all, &f, 1, PG), CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" AS T0 SET \"pages\" = T0.\"pages\"");
}

static void test_update_refusals(void **state)
{
    (void)state;
    corm__query all = {.model = &Book_model, .limit = -1};
    corm_assign nofield = CORM_SET("pagez", corm_int(1));
    assert_int_equal(update_of(&all, &nofield, 1, SQLITE), CORM_SCHEMA);
    assert_string_equal(err.message, "update(): Book has no field 'pagez'");
    assert_non_null(strstr(err.hint, "pages"));
    corm_assign pk = CORM_SET("id", corm_int(1));
    assert_int_equal(update_of(&all, &pk, 1, SQLITE), CORM_INVALID);
    assert_non_null(strstr(err.message, "primary key"));
    corm_assign twice[] = {CORM_SET("pages", corm_int(1)), CORM_SET("pages", corm_int(2))};
    assert_int_equal(update_of(&all, twice, 2, SQLITE), CORM_INVALID);
    assert_string_equal(err.message, "update(): Book.pages is set twice");
    corm_assign type = CORM_SET("pages", corm_text("many"));
    assert_int_equal(update_of(&all, &type, 1, SQLITE), CORM_TYPE);
    assert_non_null(strstr(err.message, "needs corm_int()"));
    corm_assign op = CORM_SET_F("pages", "pages", '%', corm_int(2));
    assert_int_equal(update_of(&all, &op, 1, PG), CORM_INVALID);
    assert_string_equal(err.message, "update(): operator '%' in F(\"pages\")");
    corm_assign joined = CORM_SET_F("pages", "author__name", 0, corm_null());
    assert_int_equal(update_of(&all, &joined, 1, PG), CORM_INVALID);
    assert_non_null(strstr(err.message, "joined field"));
}

/* bulk_update rows of n fields (pages, price), then the id: row r has
** pages 100 + r and id 10 + r. */
static corm_rc upd_row(void *ud, size_t row, corm_value *cells)
{
    int n = *(const int *)ud;
    cells[0] = corm_int(100 + (int64_t)row);
    if (n == 2) cells[1] = corm_float(1.5);
    cells[n] = corm_int(10 + (int64_t)row);
    return CORM_OK;
}

static void test_bulk_update(void **state)
{
    (void)state;
    const corm_field *f[] = {field(&Book_model, "pages"), field(&Book_model, "price")};
    int one = 1, two = 2;
    corm__compiled c;
    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_update_case(&Book_model, f, 2, 2, upd_row, &two, SQLITE, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" SET \"pages\" = CASE \"id\" WHEN ? THEN ? WHEN ? "
                              "THEN ? ELSE \"pages\" END, \"price\" = CASE \"id\" WHEN ? THEN ? "
                              "WHEN ? THEN ? ELSE \"price\" END WHERE \"id\" IN (SELECT value FROM "
                              "json_each(?))");
    assert_int_equal(nparams, 9);

    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_update_case(&Book_model, f, 1, 2, upd_row, &one, PG, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" SET \"pages\" = CAST(CASE \"id\" WHEN $1 THEN $2 "
                              "WHEN $3 THEN $4 ELSE \"pages\" END AS integer) WHERE \"id\" = "
                              "ANY($5)");
    assert_int_equal(nparams, 5);

    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_update_values(&Book_model, f, 2, 2, upd_row, &two, SQLITE, &c, &err),
             &c),
        CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" SET \"pages\" = corm_v.column2, \"price\" = "
                              "corm_v.column3 FROM (VALUES (?, ?, ?), (?, ?, ?)) AS corm_v WHERE "
                              "\"book\".\"id\" = corm_v.column1");
    assert_int_equal(nparams, 6);

    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_update_values(&Book_model, f, 2, 2, upd_row, &two, PG, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" SET \"pages\" = corm_v.column2, \"price\" = "
                              "corm_v.column3 FROM (VALUES (CAST($1 AS bigint), CAST($2 AS "
                              "integer), CAST($3 AS numeric(8, 2))), ($4, $5, $6)) AS corm_v WHERE "
                              "\"book\".\"id\" = corm_v.column1");
    assert_int_equal(nparams, 6);
}

static void test_collector(void **state)
{
    (void)state;
    int64_t keys[] = {3, 5};
    corm__compiled c;
    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_delete_in("book_genres", "book_id", keys, 2, SQLITE, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "DELETE FROM \"book_genres\" WHERE \"book_id\" IN (SELECT value FROM "
                              "json_each(?))");
    assert_int_equal(nparams, 1);
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_delete_in("book", "id", keys, 2, PG, &c, &err), &c),
                     CORM_OK);
    assert_string_equal(text, "DELETE FROM \"book\" WHERE \"id\" = ANY($1)");

    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_set_null_in("book", "publisher_id", keys, 2, SQLITE, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "UPDATE \"book\" SET \"publisher_id\" = NULL WHERE \"publisher_id\" "
                              "IN (SELECT value FROM json_each(?))");
    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_set_null_in("book", "publisher_id", keys, 2, PG, &c, &err), &c),
        CORM_OK);
    assert_string_equal(
        text, "UPDATE \"book\" SET \"publisher_id\" = NULL WHERE \"publisher_id\" = ANY($1)");

    const corm_field *cols[] = {&Book_model.fields[0], field(&Book_model, "author"),
                                field(&Book_model, "publisher")};
    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_select_in(&Book_model, cols, 3, cols[1], keys, 2, SQLITE, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "SELECT \"id\", \"author_id\", \"publisher_id\" FROM \"book\" WHERE "
                              "\"author_id\" IN (SELECT value FROM json_each(?))");
    corm__compiled_init(&c);
    assert_int_equal(
        keep(corm__compile_select_in(&Book_model, cols, 1, cols[0], keys, 2, PG, &c, &err), &c),
        CORM_OK);
    assert_string_equal(text, "SELECT \"id\" FROM \"book\" WHERE \"id\" = ANY($1)");
}

static void test_delete_queryset(void **state)
{
    (void)state;
    corm__query all = {.model = &Tag_model, .limit = -1};
    corm__compiled c;
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_delete(&all, SQLITE, &c, &err), &c), CORM_OK);
    assert_string_equal(text, "DELETE FROM \"tag\" AS T0");
    assert_int_equal(nparams, 0);
    struct corm_q leaf = {
        .kind = CORM__Q_LEAF, .lookup = "name__startswith", .value = corm_text("a")};
    corm__query q = {.model = &Tag_model, .where = &leaf, .limit = -1};
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_delete(&q, PG, &c, &err), &c), CORM_OK);
    assert_string_equal(text, "DELETE FROM \"tag\" AS T0 WHERE T0.\"name\" LIKE $1 ESCAPE '\\'");
    assert_int_equal(nparams, 1);

    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_select_ids(&all, PG, &c, &err), &c), CORM_OK);
    assert_string_equal(text, "SELECT T0.\"id\" FROM \"tag\" T0");
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_select_ids(&q, SQLITE, &c, &err), &c), CORM_OK);
    assert_string_equal(text, "SELECT T0.\"id\" FROM \"tag\" T0 WHERE T0.\"name\" GLOB ?");

    /* a filter the compiler refuses is reported, nothing compiled */
    struct corm_q bad = {.kind = CORM__Q_LEAF, .lookup = "nmae", .value = corm_text("a")};
    q.where = &bad;
    corm__compiled_init(&c);
    assert_int_equal(keep(corm__compile_delete(&q, SQLITE, &c, &err), &c), CORM_SCHEMA);
    assert_non_null(strstr(err.message, "nmae"));
}

static void test_explain_and_tx(void **state)
{
    (void)state;
    corm_buf b;
    corm__buf_init(&b);
    corm__compile_explain("SELECT 1", SQLITE, &b);
    keep_buf(CORM_OK, &b);
    assert_string_equal(text, "EXPLAIN QUERY PLAN SELECT 1");
    corm__buf_init(&b);
    corm__compile_explain("SELECT 1", PG, &b);
    keep_buf(CORM_OK, &b);
    assert_string_equal(text, "EXPLAIN SELECT 1");

    assert_string_equal(corm__sql_tx(CORM__TX_BEGIN), "BEGIN");
    assert_string_equal(corm__sql_tx(CORM__TX_COMMIT), "COMMIT");
    assert_string_equal(corm__sql_tx(CORM__TX_ROLLBACK), "ROLLBACK");
    assert_string_equal(corm__sql_tx(CORM__TX_SAVEPOINT), "SAVEPOINT corm_op");
    assert_string_equal(corm__sql_tx(CORM__TX_RELEASE), "RELEASE SAVEPOINT corm_op");
    assert_string_equal(corm__sql_tx(CORM__TX_ROLLBACK_SAVEPOINT),
                        "ROLLBACK TO SAVEPOINT corm_op; RELEASE SAVEPOINT corm_op");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_row),      cmocka_unit_test(test_insert_conflicts),
        cmocka_unit_test(test_insert_rows),     cmocka_unit_test(test_link_and_sync),
        cmocka_unit_test(test_update_row),      cmocka_unit_test(test_update_queryset),
        cmocka_unit_test(test_update_refusals), cmocka_unit_test(test_bulk_update),
        cmocka_unit_test(test_collector),       cmocka_unit_test(test_delete_queryset),
        cmocka_unit_test(test_explain_and_tx),
    };
    return cmocka_run_group_tests_name("compile_dml", tests, NULL, NULL);
}
