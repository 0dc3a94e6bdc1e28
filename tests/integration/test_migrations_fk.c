/*
** test_migrations_fk.c - a foreign key pointed at another model
** (`author: fk(Author)` becomes `author: fk(Writer)`) through
** makemigrations and migrate, on SQLite and PostgreSQL, with rows in the
** tables: forward with valid rows keeps them and the new constraint refuses
** an id with no writer; forward with rows that have no writer fails naming
** their values and leaves database and history as they were; backward
** restores the old target (and refuses, naming them, rows the old target
** cannot hold); a schema change that retargets a fk and drops its old
** target orders the alter before the drop; after a model and field rename
** the constraint carries the new names and a retarget finds it.
*/
#include "test.h"
#include "db/db_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const v1 = "model Author { name: char(100) }\n"
                              "model Writer { name: char(100) }\n"
                              "model Book { title: char(200) author: fk(Author, "
                              "on_delete=cascade) }\n";
static const char *const v2 = "model Author { name: char(100) }\n"
                              "model Writer { name: char(100) }\n"
                              "model Book { title: char(200) author: fk(Writer, "
                              "on_delete=cascade) }\n";

static char *names[4], *texts[4];
static int nmig;

static corm_migrations *chain(void)
{
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts((const char *const *)names,
                                                     (const char *const *)texts, nmig, &err);
    if (!ms) fail_msg("chain: %s (%s)", err.message, err.hint);
    return ms;
}

/* makemigrations for a schema text: the chain grows by one. */
static void make(const char *version)
{
    corm_migrations *ms = chain();
    corm_error err;
    corm_schema *s = corm_schema_parse(version, strlen(version), "v.corm", &err);
    if (!s) fail_msg("schema: %s", err.message);
    char *fn = NULL, *text = NULL;
    assert_int_equal(corm_makemigrations(ms, s, NULL, 0, NULL, &fn, &text, &err), CORM_OK);
    assert_non_null(fn);
    *strstr(fn, ".corm-migration") = '\0';
    names[nmig] = fn;
    texts[nmig++] = text;
    corm_migrations_free(ms);
    corm_schema_free(s);
}

static void reset_chain(void)
{
    for (int i = 0; i < nmig; i++) {
        corm_free_string(names[i]);
        corm_free_string(texts[i]);
    }
    nmig = 0;
}

static void run_ok(corm_db *db, const char *sql)
{
    if (corm_exec(db, sql) != CORM_OK) fail_msg("%s: %s", sql, corm_db_error(db)->message);
}

/* The rows of a query, "a|b;c|d". */
static const char *rows(corm_db *db, const char *sql)
{
    static char out[4096];
    out[0] = '\0';
    corm__cursor cur;
    corm_site none = {0};
    if (corm__db_query(db, &cur, sql, NULL, 0, none, none, "test") != CORM_OK)
        fail_msg("%s: %s", sql, corm_db_error(db)->message);
    size_t len = 0;
    for (;;) {
        bool row = false;
        assert_int_equal(corm__cursor_step(&cur, &row), CORM_OK);
        if (!row) break;
        int nc = db->be->column_count(cur.stmt);
        for (int i = 0; i < nc; i++) {
            size_t n = 0;
            bool null = db->be->column_null(cur.stmt, i);
            const char *t = null ? "NULL" : db->be->column_text(cur.stmt, i, &n);
            if (null) n = 4;
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%.*s",
                                    i     ? "|"
                                    : len ? ";"
                                          : "",
                                    (int)n, t);
            if (len >= sizeof out) fail_msg("rows: too long");
        }
    }
    corm__cursor_close(&cur);
    return out;
}

/* The table a column of book references, as the catalog says. */
static const char *book_fk(corm_db *db)
{
    return rows(db, TEST_SQL("SELECT \"from\" || '->' || \"table\" || '.' || \"to\" FROM "
                             "pragma_foreign_key_list('book') ORDER BY 1",
                             "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM "
                             "pg_constraint WHERE contype = 'f' AND conrelid = 'book'::regclass "
                             "ORDER BY 1"));
}

/* Tables, columns and indexes, to compare before and after a failure. */
static const char *catalog(corm_db *db)
{
    return rows(db, TEST_SQL("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM "
                             "sqlite_master ORDER BY 1",
                             "SELECT table_name || '.' || column_name || ' ' || data_type FROM "
                             "information_schema.columns WHERE table_schema = current_schema() "
                             "UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM "
                             "pg_constraint WHERE connamespace = current_schema()::regnamespace "
                             "UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = "
                             "current_schema() ORDER BY 1"));
}

static corm_db *open_fresh(void)
{
    corm_error err;
    corm_db *db = corm_open(test_db_fresh_url(), NULL, &err);
    if (!db) fail_msg("open: %s", err.message);
    return db;
}

static void migrate_ok(corm_db *db, const corm_migrations *ms, const char *to, unsigned flags)
{
    if (corm_migrate_to(db, ms, to, flags) != CORM_OK) {
        char buf[2048];
        fail_msg("migrate to %s: %s", to ? to : "latest",
                 corm_error_format(corm_db_error(db), buf, sizeof buf));
    }
}

/* A statement that must fail (a constraint refuses it). */
static void refused(corm_db *db, const char *sql)
{
    assert_int_not_equal(corm_exec(db, sql), CORM_OK);
    if (!test_db_is_pg()) return;
    /* PostgreSQL: an autocommit statement that failed leaves no transaction */
    assert_false(db->be->in_transaction(db->conn));
}

static const char *const fk_v1_sqlite = "author_id->author.id";
static const char *const fk_v1_pg = "book_author_id_fk: FOREIGN KEY (author_id) REFERENCES "
                                    "author(id) DEFERRABLE INITIALLY DEFERRED";
static const char *const fk_v2_sqlite = "author_id->writer.id";
static const char *const fk_v2_pg = "book_author_id_fk: FOREIGN KEY (author_id) REFERENCES "
                                    "writer(id) DEFERRABLE INITIALLY DEFERRED";

static void test_retarget_forward_and_back(void **state)
{
    (void)state;
    reset_chain();
    make(v1);
    make(v2);
    /* the file: one alter_field, the old line and the new */
    assert_string_equal(texts[1], "# corm migration 0002_alter_book_author (corm makemigrations)\n"
                                  "depends 0001_initial\n\n"
                                  "alter_field Book\n"
                                  "  - author: fk(Author, on_delete=cascade)\n"
                                  "  + author: fk(Writer, on_delete=cascade)\n");
    corm_migrations *ms = chain();
    corm_db *db = open_fresh();
    migrate_ok(db, ms, "0001", 0);
    assert_string_equal(book_fk(db), TEST_SQL(fk_v1_sqlite, fk_v1_pg));
    run_ok(db, "INSERT INTO author (id, name) VALUES (1, 'Ann'), (2, 'Bob')");
    run_ok(db, "INSERT INTO writer (id, name) VALUES (1, 'W1'), (2, 'W2'), (3, 'W3')");
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (1, 'b1', 1), (2, 'b2', 2), "
               "(3, 'b3', 2)");

    /* sqlmigrate shows the check and, on PostgreSQL, the constraint swapped */
    char *sql = NULL;
    assert_int_equal(corm_sqlmigrate(db, ms, names[1], false, &sql), CORM_OK);
    static const char *const check =
        "BEGIN;\n-- check: changing Book.author to point at Writer: rows of \"book\" hold "
        "author_id values with no row in \"writer\"\n";
    static const char *const sqlite_sql =
        "CREATE TABLE \"new__book\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        "\"title\" varchar(200) NOT NULL, \"author_id\" bigint NOT NULL REFERENCES \"writer\" "
        "(\"id\") DEFERRABLE INITIALLY DEFERRED);\n"
        "INSERT INTO \"new__book\" (\"id\", \"title\", \"author_id\") SELECT \"id\", "
        "\"title\", \"author_id\" FROM \"book\";\n"
        "DELETE FROM sqlite_sequence WHERE name = 'new__book';\n"
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__book', seq FROM sqlite_sequence "
        "WHERE name = 'book';\n"
        "DROP TABLE \"book\";\n"
        "ALTER TABLE \"new__book\" RENAME TO \"book\";\n"
        "CREATE INDEX \"book_author_id_idx\" ON \"book\" (\"author_id\");\n"
        "COMMIT;\n";
    static const char *const pg_sql =
        "ALTER TABLE \"book\" DROP CONSTRAINT \"book_author_id_fk\";\n"
        "ALTER TABLE \"book\" ADD CONSTRAINT \"book_author_id_fk\" FOREIGN KEY "
        "(\"author_id\") REFERENCES \"writer\" (\"id\") DEFERRABLE INITIALLY DEFERRED;\n"
        "COMMIT;\n";
    if (strncmp(sql, check, strlen(check)) != 0) fail_msg("%s", sql);
    assert_string_equal(sql + strlen(check), TEST_SQL(sqlite_sql, pg_sql));
    corm_free_string(sql);

    /* forward: rows kept, the new target enforced */
    migrate_ok(db, ms, NULL, 0);
    assert_string_equal(book_fk(db), TEST_SQL(fk_v2_sqlite, fk_v2_pg));
    assert_string_equal(rows(db, "SELECT id, title, author_id FROM book ORDER BY id"),
                        "1|b1|1;2|b2|2;3|b3|2");
    assert_string_equal(rows(db, "SELECT name FROM corm_migrations ORDER BY id"),
                        "0001_initial;0002_alter_book_author");
    refused(db, "INSERT INTO book (id, title, author_id) VALUES (4, 'x', 99)");
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (4, 'b4', 3)"); /* writer 3 */
    /* the fk index is still there */
    assert_string_equal(rows(db, TEST_SQL("SELECT name FROM sqlite_master WHERE type = 'index' "
                                          "AND tbl_name = 'book' ORDER BY 1",
                                          "SELECT indexname FROM pg_indexes WHERE tablename = "
                                          "'book' AND schemaname = current_schema() ORDER BY 1")),
                        TEST_SQL("book_author_id_idx", "book_author_id_idx;book_pkey"));

    /* backward: book 4 points at writer 3, and there is no author 3 */
    char before[4096];
    snprintf(before, sizeof before, "%s", catalog(db));
    assert_int_equal(corm_migrate_to(db, ms, "0001", 0), CORM_CONSTRAINT);
    const corm_error *e = corm_db_error(db);
    assert_string_equal(e->message,
                        "migration 0002_alter_book_author: changing Book.author to point at "
                        "Author: rows of \"book\" hold author_id values with no row in "
                        "\"author\": 3");
    assert_string_equal(e->hint, "nothing of 0002_alter_book_author was applied; point those "
                                 "rows at rows that exist, set them to null or delete them, "
                                 "then migrate again");
    assert_string_equal(before, catalog(db));
    assert_string_equal(book_fk(db), TEST_SQL(fk_v2_sqlite, fk_v2_pg));
    assert_string_equal(rows(db, "SELECT name FROM corm_migrations ORDER BY id"),
                        "0001_initial;0002_alter_book_author");

    /* without it, backward restores the old target, rows kept */
    run_ok(db, "DELETE FROM book WHERE id = 4");
    migrate_ok(db, ms, "0001", 0);
    assert_string_equal(book_fk(db), TEST_SQL(fk_v1_sqlite, fk_v1_pg));
    assert_string_equal(rows(db, "SELECT id, title, author_id FROM book ORDER BY id"),
                        "1|b1|1;2|b2|2;3|b3|2");
    assert_string_equal(rows(db, "SELECT name FROM corm_migrations ORDER BY id"), "0001_initial");
    refused(db, "INSERT INTO book (id, title, author_id) VALUES (4, 'x', 3)"); /* no author 3 */
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (4, 'b4', 1)");
    assert_string_equal(rows(db, "SELECT id, author_id FROM book ORDER BY id"), "1|1;2|2;3|2;4|1");
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

static void test_retarget_with_orphans_changes_nothing(void **state)
{
    (void)state;
    reset_chain();
    make(v1);
    make(v2);
    corm_migrations *ms = chain();
    corm_db *db = open_fresh();
    migrate_ok(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO author (id, name) VALUES (1, 'Ann'), (2, 'Bob'), (5, 'Eve'), "
               "(6, 'F'), (7, 'G'), (8, 'H'), (9, 'I')");
    run_ok(db, "INSERT INTO writer (id, name) VALUES (1, 'W1')");
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (1, 'b1', 1), (2, 'b2', 2), "
               "(3, 'b3', 5), (4, 'b4', 5)");
    char before[4096];
    snprintf(before, sizeof before, "%s", catalog(db));
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_CONSTRAINT);
    const corm_error *e = corm_db_error(db);
    assert_string_equal(e->message,
                        "migration 0002_alter_book_author: changing Book.author to point at "
                        "Writer: rows of \"book\" hold author_id values with no row in "
                        "\"writer\": 2, 5");
    assert_string_equal(before, catalog(db));
    assert_string_equal(book_fk(db), TEST_SQL(fk_v1_sqlite, fk_v1_pg));
    assert_string_equal(rows(db, "SELECT id, title, author_id FROM book ORDER BY id"),
                        "1|b1|1;2|b2|2;3|b3|5;4|b4|5");
    assert_string_equal(rows(db, "SELECT name FROM corm_migrations ORDER BY id"), "0001_initial");

    /* more than five values: the first five, then "..." */
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (5, 'b5', 6), (6, 'b6', 7), "
               "(7, 'b7', 8), (8, 'b8', 9)");
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "\"writer\": 2, 5, 6, 7, 8, ..."));

    /* the old constraint still works, the database is usable */
    refused(db, "INSERT INTO book (id, title, author_id) VALUES (20, 'x', 99)");
    run_ok(db, "DELETE FROM book WHERE author_id <> 1");
    migrate_ok(db, ms, NULL, 0);
    assert_string_equal(rows(db, "SELECT id, title, author_id FROM book ORDER BY id"), "1|b1|1");
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

/* Retarget to a new model and drop the old one in one change: the alter
** comes before the drop (Book.author must not point at a dropped table). */
static void test_retarget_then_drop_old_target(void **state)
{
    (void)state;
    static const char *const a = "model Author { name: char(100) }\n"
                                 "model Book { title: char(200) author: fk(Author, "
                                 "on_delete=cascade) }\n";
    static const char *const b = "model Book { title: char(200) author: fk(Writer, "
                                 "on_delete=cascade) }\n"
                                 "model Writer { name: char(100) }\n";
    reset_chain();
    make(a);
    make(b);
    assert_string_equal(texts[1], "# corm migration 0002_writer_alter_book_author_delete_author "
                                  "(corm makemigrations)\n"
                                  "depends 0001_initial\n\n"
                                  "create_model Writer\n"
                                  "    name: char(100)\n\n"
                                  "alter_field Book\n"
                                  "  - author: fk(Author, on_delete=cascade)\n"
                                  "  + author: fk(Writer, on_delete=cascade)\n\n"
                                  "drop_model Author\n"
                                  "    name: char(100)\n");
    corm_migrations *ms = chain();
    corm_db *db = open_fresh();
    migrate_ok(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO author (id, name) VALUES (1, 'Ann')");
    migrate_ok(db, ms, NULL, CORM_MIGRATE_ALLOW_DATA_LOSS);
    assert_string_equal(book_fk(db), TEST_SQL(fk_v2_sqlite, fk_v2_pg));
    run_ok(db, "INSERT INTO writer (id, name) VALUES (1, 'W1')");
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (1, 'b1', 1)");
    refused(db, "INSERT INTO book (id, title, author_id) VALUES (2, 'x', 2)");
    /* back: Author comes back empty, so book 1 has no target and it says so */
    assert_int_equal(corm_migrate_to(db, ms, "0001", CORM_MIGRATE_ALLOW_DATA_LOSS),
                     CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "no row in \"author\": 1"));
    run_ok(db, "DELETE FROM book");
    migrate_ok(db, ms, "0001", CORM_MIGRATE_ALLOW_DATA_LOSS);
    assert_string_equal(book_fk(db), TEST_SQL(fk_v1_sqlite, fk_v1_pg));
    assert_string_equal(rows(db, "SELECT name FROM corm_migrations ORDER BY id"), "0001_initial");
    corm_close(db);
    corm_migrations_free(ms);
    reset_chain();
    test_db_close(NULL);
}

/* After a model and field rename, the constraint has the new names
** (PostgreSQL: RENAME CONSTRAINT), so a retarget finds it. */
static void test_retarget_after_rename(void **state)
{
    (void)state;
    static const char *const b = "model Author { name: char(100) }\n"
                                 "model Writer { name: char(100) }\n"
                                 "model Volume renamed_from Book { title: char(200) "
                                 "writer: fk(Author, on_delete=cascade) renamed_from author }\n";
    static const char *const c = "model Author { name: char(100) }\n"
                                 "model Writer { name: char(100) }\n"
                                 "model Volume { title: char(200) "
                                 "writer: fk(Writer, on_delete=cascade) }\n";
    reset_chain();
    make(v1);
    make(b);
    make(c);
    corm_migrations *ms = chain();
    corm_db *db = open_fresh();
    migrate_ok(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO author (id, name) VALUES (1, 'Ann')");
    run_ok(db, "INSERT INTO writer (id, name) VALUES (1, 'W1'), (2, 'W2')");
    run_ok(db, "INSERT INTO book (id, title, author_id) VALUES (1, 'b1', 1)");
    const char *fk_sql =
        TEST_SQL("SELECT \"from\" || '->' || \"table\" FROM pragma_foreign_key_list('volume')",
                 "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE "
                 "contype = 'f' AND conrelid = 'volume'::regclass");
    migrate_ok(db, ms, "0002", 0);
    assert_string_equal(rows(db, fk_sql),
                        TEST_SQL("writer_id->author",
                                 "volume_writer_id_fk: FOREIGN KEY (writer_id) REFERENCES "
                                 "author(id) DEFERRABLE INITIALLY DEFERRED"));
    migrate_ok(db, ms, NULL, 0);
    assert_string_equal(rows(db, fk_sql),
                        TEST_SQL("writer_id->writer",
                                 "volume_writer_id_fk: FOREIGN KEY (writer_id) REFERENCES "
                                 "writer(id) DEFERRABLE INITIALLY DEFERRED"));
    assert_string_equal(rows(db, "SELECT id, title, writer_id FROM volume"), "1|b1|1");
    refused(db, "INSERT INTO volume (id, title, writer_id) VALUES (2, 'x', 3)");
    run_ok(db, "INSERT INTO volume (id, title, writer_id) VALUES (2, 'b2', 2)");
    run_ok(db, "DELETE FROM volume WHERE id = 2");
    migrate_ok(db, ms, "0001", 0);
    assert_string_equal(book_fk(db), TEST_SQL(fk_v1_sqlite, fk_v1_pg));
    assert_string_equal(rows(db, "SELECT id, title, author_id FROM book"), "1|b1|1");
    corm_close(db);
    corm_migrations_free(ms);
    reset_chain();
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retarget_forward_and_back),
        cmocka_unit_test(test_retarget_with_orphans_changes_nothing),
        cmocka_unit_test(test_retarget_then_drop_old_target),
        cmocka_unit_test(test_retarget_after_rename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
