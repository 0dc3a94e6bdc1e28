/*
** test_migrations_pg_options.c - the PostgreSQL production options of a
** migration, on both backends (SQLite ignores them): an index added
** `concurrently` (CREATE INDEX CONCURRENTLY, outside a transaction) forward
** and back with rows; when it fails, PostgreSQL's INVALID index is dropped
** again, so database and history are as before; `lock_timeout` and
** `statement_timeout` (SET LOCAL in a transaction; SET and RESET around a
** migration outside one) and a lock_timeout that stops a migration waiting
** for a lock another session holds.
*/
#include "migtest.h"

#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"0001_initial", "0002_pages_uniq", "0003_note"};
static const char *const texts[] = {
    "create_model Book\n    title: char(200)\n    pages: integer\n",
    "depends 0001_initial\nlock_timeout 5s\nstatement_timeout 1min\n\n"
    "add_index Book concurrently\n    unique index book_pages_uniq (-pages)\n",
    "depends 0002_pages_uniq\nlock_timeout 200ms\n\nadd_field Book\n    note: text null\n"};
static const char *const v1 = "model Book { title: char(200) pages: integer }\n";
static const char *const v2 = "model Book { title: char(200) pages: integer "
                              "unique index book_pages_uniq (-pages) }\n";

static corm_migrations *chain(int n)
{
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts(names, texts, n, &err);
    if (!ms) fail_msg("chain: %s", err.message);
    return ms;
}

static void test_concurrent_index(void **state)
{
    (void)state;
    corm_migrations *ms = chain(2);
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    TEST_OK_DB(db, corm_exec(db, "INSERT INTO book (title, pages) VALUES ('a', 1), ('b', 1)"));
    char *sql = NULL;
    TEST_OK_DB(db, corm_sqlmigrate(db, ms, "0002", false, &sql));
    assert_string_equal(sql, TEST_SQL("BEGIN;\n"
                                      "CREATE UNIQUE INDEX \"book_pages_uniq\" ON \"book\" "
                                      "(\"pages\" DESC);\n"
                                      "COMMIT;\n",
                                      "-- runs outside a transaction: CREATE INDEX CONCURRENTLY\n"
                                      "SET lock_timeout = '5s';\n"
                                      "SET statement_timeout = '1min';\n"
                                      "CREATE UNIQUE INDEX CONCURRENTLY \"book_pages_uniq\" ON "
                                      "\"book\" (\"pages\" DESC);\n"
                                      "RESET lock_timeout;\n"
                                      "RESET statement_timeout;\n"));
    corm_free_string(sql);
    TEST_OK_DB(db, corm_sqlmigrate(db, ms, "0002", true, &sql));
    assert_string_equal(sql, TEST_SQL("BEGIN;\nDROP INDEX \"book_pages_uniq\";\nCOMMIT;\n",
                                      "-- runs outside a transaction: CREATE INDEX CONCURRENTLY\n"
                                      "SET lock_timeout = '5s';\n"
                                      "SET statement_timeout = '1min';\n"
                                      "DROP INDEX CONCURRENTLY \"book_pages_uniq\";\n"
                                      "RESET lock_timeout;\n"
                                      "RESET statement_timeout;\n"));
    corm_free_string(sql);

    /* duplicates: it fails, and leaves no (INVALID) index behind */
    char *before = strdup(mt_catalog(db));
    assert_int_not_equal(corm_migrate_to(db, ms, NULL, 0), CORM_OK);
    const corm_error *e = corm_db_error(db);
    assert_non_null(strstr(e->message, "migration 0002_pages_uniq failed at statement 1 of 1"));
    assert_non_null(strstr(e->hint, TEST_SQL("nothing of 0002_pages_uniq was applied (it was "
                                             "rolled back whole)",
                                             "nothing of 0002_pages_uniq was applied (it runs "
                                             "outside a transaction: the indexes it had begun "
                                             "were dropped again)")));
    assert_string_equal(mt_catalog(db), before);
    free(before);
    assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations"), "0001_initial");
    if (test_db_is_pg())
        assert_string_equal(test_sql_rows(db, "SHOW lock_timeout"), "0"); /* reset */

    /* forward with distinct rows, back, forward again */
    TEST_OK_DB(db, corm_exec(db, "UPDATE book SET pages = 2 WHERE title = 'b'"));
    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, v2);
    assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations ORDER BY id"),
                        "0001_initial\n0002_pages_uniq");
    assert_int_not_equal(corm_exec(db, "INSERT INTO book (id, title, pages) VALUES (9, 'c', 2)"),
                         CORM_OK);
    if (test_db_is_pg()) {
        assert_string_equal(test_sql_rows(db, "SELECT indisvalid FROM pg_index WHERE "
                                              "indexrelid = 'book_pages_uniq'::regclass"),
                            "1");
        assert_string_equal(test_sql_rows(db, "SHOW statement_timeout"), "0");
    }
    mt_migrate(db, ms, "0001", 0);
    mt_same_as_direct(db, v1);
    assert_string_equal(test_sql_rows(db, "SELECT title, pages FROM book ORDER BY id"), "a|1\nb|2");
    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, v2);
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

/* lock_timeout: a migration waiting for a lock another session holds
** stops after it, names the statement, and changes nothing. */
static void test_lock_timeout(void **state)
{
    (void)state;
    if (!test_db_is_pg()) skip();
    corm_migrations *ms = chain(3);
    char url[1024];
    snprintf(url, sizeof url, "%s", test_db_fresh_url());
    corm_error err;
    corm_db *db = corm_open(url, NULL, &err);
    corm_db *other = corm_open(url, NULL, &err);
    assert_non_null(db);
    assert_non_null(other);
    mt_migrate(db, ms, "0002", 0);
    TEST_OK_DB(other, corm_begin(other));
    TEST_OK_DB(other, corm_exec(other, "LOCK TABLE book IN ACCESS EXCLUSIVE MODE"));
    assert_int_not_equal(corm_migrate_to(db, ms, NULL, 0), CORM_OK);
    const corm_error *e = corm_db_error(db);
    assert_non_null(strstr(e->message, "migration 0003_note failed at statement 1 of 1 "
                                       "(ALTER TABLE \"book\" ADD COLUMN \"note\" text)"));
    assert_non_null(strstr(e->message, "lock timeout"));
    TEST_OK_DB(other, corm_rollback(other));
    assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations ORDER BY id"),
                        "0001_initial\n0002_pages_uniq");
    assert_string_equal(test_sql_rows(db, "SHOW lock_timeout"), "0"); /* SET LOCAL */
    mt_migrate(db, ms, NULL, 0);
    assert_string_equal(test_sql_rows(db, "SELECT count(*) FROM corm_migrations"), "3");
    corm_close(other);
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_index),
        cmocka_unit_test(test_lock_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
