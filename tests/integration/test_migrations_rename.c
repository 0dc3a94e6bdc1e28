/*
** test_migrations_rename.c - what a migration renames besides the table
** or the column, on SQLite and PostgreSQL, with rows in the tables, each
** step compared with the schema created directly (the whole catalog:
** columns with types, nullability and defaults, constraints with their
** names and definitions, indexes, sequences, triggers):
**   - a plain column made a foreign key and back (`author: integer` ->
**     `author: fk(Author)`): the column becomes author_id, the constraint
**     and index come (after a check that names the values with no target)
**     and go, the values stay;
**   - a model, a unique field, an fk field and an m2m renamed, and the
**     m2m's target renamed: PostgreSQL's own names (book_pkey, the identity
**     sequence book_id_seq, book_isbn_key, the join table's pkey, UNIQUE and
**     REFERENCES names) follow, so a later migration dropping the UNIQUE
**     finds it; the sequence still numbers new rows; a model's m2m to
**     itself (both join-table columns name the model);
**   - a `search` index across a model rename and a field rename: SQLite's
**     FTS5 table and triggers follow, `search` returns the right rows after
**     each step, forward and backward, and new rows are indexed.
*/
#include "migtest.h"

#include <stdlib.h>
#include <string.h>

static void run_ok(corm_db *db, const char *sql) { TEST_OK_DB(db, corm_exec(db, sql)); }

/* A statement a constraint refuses (the tests give such an INSERT its id:
** on PostgreSQL a failed INSERT still takes a value of the sequence). */
static void refused(corm_db *db, const char *sql)
{
    assert_int_not_equal(corm_exec(db, sql), CORM_OK);
}

/* ------------------------------------------------------------ int <-> fk */

static const char *const plain = "model Author { name: char(100) }\n"
                                 "model Book { title: char(200) author: integer null }\n";
static const char *const related = "model Author { name: char(100) }\n"
                                   "model Book { title: char(200) "
                                   "author: fk(Author, on_delete=set_null) null }\n";

static void test_plain_column_to_fk_and_back(void **state)
{
    (void)state;
    mt_reset();
    mt_make(plain);
    mt_make(related);
    assert_string_equal(mt_text(1),
                        "# corm migration 0002_alter_book_author (corm makemigrations)\n"
                        "depends 0001_initial\n\n"
                        "alter_field Book\n"
                        "  - author: integer null\n"
                        "  + author: fk(Author, on_delete=set_null) null\n");
    corm_migrations *ms = mt_chain();
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    char *sql = NULL;
    TEST_OK_DB(db, corm_sqlmigrate(db, ms, mt_name(1), false, &sql));
    assert_string_equal(
        sql,
        TEST_SQL(
            "BEGIN;\n"
            "-- check: making Book.author a foreign key to Author: rows of \"book\" hold "
            "author values with no row in \"author\"\n"
            "CREATE TABLE \"new__book\" (\"id\" integer NOT NULL PRIMARY KEY "
            "AUTOINCREMENT, \"title\" varchar(200) NOT NULL, \"author_id\" bigint "
            "REFERENCES \"author\" (\"id\") DEFERRABLE INITIALLY DEFERRED);\n"
            "INSERT INTO \"new__book\" (\"id\", \"title\", \"author_id\") SELECT "
            "\"id\", \"title\", \"author\" FROM \"book\";\n"
            "DELETE FROM sqlite_sequence WHERE name = 'new__book';\n"
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'new__book', seq FROM sqlite_sequence "
            "WHERE name = 'book';\n"
            "DROP TABLE \"book\";\n"
            "ALTER TABLE \"new__book\" RENAME TO \"book\";\n"
            "CREATE INDEX \"book_author_id_idx\" ON \"book\" (\"author_id\");\n"
            "COMMIT;\n",
            "BEGIN;\n"
            "-- check: making Book.author a foreign key to Author: rows of \"book\" hold "
            "author values with no row in \"author\"\n"
            "ALTER TABLE \"book\" RENAME COLUMN \"author\" TO \"author_id\";\n"
            "ALTER TABLE \"book\" ALTER COLUMN \"author_id\" TYPE bigint USING "
            "\"author_id\"::bigint;\n"
            "CREATE INDEX \"book_author_id_idx\" ON \"book\" (\"author_id\" NULLS "
            "FIRST);\n"
            "ALTER TABLE \"book\" ADD CONSTRAINT \"book_author_id_fk\" FOREIGN KEY "
            "(\"author_id\") REFERENCES \"author\" (\"id\") DEFERRABLE INITIALLY "
            "DEFERRED;\n"
            "COMMIT;\n"));
    corm_free_string(sql);

    run_ok(db, "INSERT INTO author (name) VALUES ('Ann'), ('Bob')");
    run_ok(db, "INSERT INTO book (title, author) VALUES ('b1', 1), ('b2', 2), ('b3', NULL), "
               "('b4', 9), ('b5', 7)");
    /* values with no author: nothing applied, the values named */
    char *before = strdup(mt_catalog(db));
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_CONSTRAINT);
    assert_string_equal(corm_db_error(db)->message,
                        "migration 0002_alter_book_author: making Book.author a foreign key to "
                        "Author: rows of \"book\" hold author values with no row in \"author\": "
                        "7, 9");
    assert_string_equal(mt_catalog(db), before);
    assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations"), "0001_initial");
    free(before);

    /* forward: the column is author_id, the values stay, the fk holds */
    run_ok(db, "UPDATE book SET author = NULL WHERE author > 2");
    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, related);
    assert_string_equal(test_sql_rows(db, "SELECT id, title, author_id FROM book ORDER BY id"),
                        "1|b1|1\n2|b2|2\n3|b3|NULL\n4|b4|NULL\n5|b5|NULL");
    refused(db, "INSERT INTO book (id, title, author_id) VALUES (100, 'x', 99)");
    run_ok(db, "INSERT INTO book (title, author_id) VALUES ('b6', 2)");

    /* backward: a plain column again, values kept, no constraint */
    mt_migrate(db, ms, "0001", 0);
    mt_same_as_direct(db, plain);
    assert_string_equal(test_sql_rows(db, "SELECT id, title, author FROM book ORDER BY id"),
                        "1|b1|1\n2|b2|2\n3|b3|NULL\n4|b4|NULL\n5|b5|NULL\n6|b6|2");
    run_ok(db, "INSERT INTO book (title, author) VALUES ('b7', 99)");
    assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations"), "0001_initial");
    /* and forward once more refuses 99, naming it */
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "no row in \"author\": 99"));
    corm_close(db);
    corm_migrations_free(ms);
    mt_reset();
    test_db_close(NULL);
}

/* ------------------------------------------------------------ renames */

static const char *const shop1 = "model Author { name: char(100) }\n"
                                 "model Genre { name: char(50) unique }\n"
                                 "model Book { isbn: char(13) unique title: char(200) db_index "
                                 "author: fk(Author, on_delete=cascade) genres: m2m(Genre) }\n";
static const char *const shop2 = "model Author { name: char(100) }\n"
                                 "model Category renamed_from Genre { name: char(50) unique }\n"
                                 "model Volume renamed_from Book { "
                                 "code: char(13) unique renamed_from isbn "
                                 "title: char(200) db_index "
                                 "writer: fk(Author, on_delete=cascade) renamed_from author "
                                 "tags: m2m(Category) renamed_from genres }\n";
static const char *const shop3 = "model Author { name: char(100) }\n"
                                 "model Category { name: char(50) unique }\n"
                                 "model Volume { code: char(13) title: char(200) db_index "
                                 "writer: fk(Author, on_delete=cascade) tags: m2m(Category) }\n";

static void test_renames_follow_every_name(void **state)
{
    (void)state;
    mt_reset();
    mt_make(shop1);
    mt_make(shop2);
    mt_make(shop3);
    assert_non_null(strstr(mt_text(1), "rename_model Book Volume\n"));
    assert_non_null(strstr(mt_text(1), "rename_model Genre Category\n"));
    assert_non_null(strstr(mt_text(1), "rename_field Volume isbn code\n"));
    assert_non_null(strstr(mt_text(1), "rename_field Volume genres tags\n"));
    corm_migrations *ms = mt_chain();
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO author (name) VALUES ('Ann'), ('Bob')");
    run_ok(db, "INSERT INTO genre (name) VALUES ('Fiction'), ('Poetry')");
    run_ok(db, "INSERT INTO book (isbn, title, author_id) VALUES ('111', 'b1', 1), "
               "('222', 'b2', 2)");
    run_ok(db, "INSERT INTO book_genres (book_id, genre_id) VALUES (1, 1), (1, 2), (2, 2)");

    mt_migrate(db, ms, "0002", 0);
    mt_same_as_direct(db, shop2);
    assert_string_equal(
        test_sql_rows(db, "SELECT id, code, title, writer_id FROM volume ORDER BY id"),
        "1|111|b1|1\n2|222|b2|2");
    assert_string_equal(test_sql_rows(db, "SELECT volume_id, category_id FROM volume_tags ORDER BY "
                                          "1, 2"),
                        "1|1\n1|2\n2|2");
    /* the constraints work under their new names, the sequence numbers on */
    refused(db, "INSERT INTO volume (id, code, title, writer_id) VALUES (100, '111', 'x', 1)");
    refused(db, "INSERT INTO volume_tags (id, volume_id, category_id) VALUES (100, 1, 1)");
    refused(db, "INSERT INTO volume_tags (id, volume_id, category_id) VALUES (100, 1, 9)");
    run_ok(db, "INSERT INTO volume (code, title, writer_id) VALUES ('333', 'b3', 1)");
    run_ok(db, "INSERT INTO category (name) VALUES ('Drama')");
    run_ok(db, "INSERT INTO volume_tags (volume_id, category_id) VALUES (3, 3)");
    assert_string_equal(test_sql_rows(db, "SELECT max(id) FROM volume_tags"), "4");

    /* 0003 drops the UNIQUE of code: found under the name it has now */
    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, shop3);
    run_ok(db, "INSERT INTO volume (code, title, writer_id) VALUES ('111', 'b4', 2)");
    assert_string_equal(test_sql_rows(db, "SELECT id, code FROM volume ORDER BY id"),
                        "1|111\n2|222\n3|333\n4|111");

    /* backward, step by step, each equal to the schema created directly */
    run_ok(db, "DELETE FROM volume WHERE id = 4");
    mt_migrate(db, ms, "0002", 0);
    mt_same_as_direct(db, shop2);
    mt_migrate(db, ms, "0001", 0);
    mt_same_as_direct(db, shop1);
    assert_string_equal(
        test_sql_rows(db, "SELECT id, isbn, title, author_id FROM book ORDER BY id"),
        "1|111|b1|1\n2|222|b2|2\n3|333|b3|1");
    assert_string_equal(
        test_sql_rows(db, "SELECT book_id, genre_id FROM book_genres ORDER BY 1, 2"),
        "1|1\n1|2\n2|2\n3|3");
    assert_string_equal(test_sql_rows(db, "SELECT name FROM genre ORDER BY id"),
                        "Fiction\nPoetry\nDrama");
    refused(db, "INSERT INTO book (id, isbn, title, author_id) VALUES (100, '222', 'x', 1)");
    run_ok(db, "INSERT INTO book (isbn, title, author_id) VALUES ('444', 'b5', 1)");
    assert_string_equal(test_sql_rows(db, "SELECT max(id) FROM book"), "5");
    corm_close(db);
    corm_migrations_free(ms);
    mt_reset();
    test_db_close(NULL);
}

/* A model with an m2m to itself: the join table and both its columns
** (from_person_id, to_person_id) follow the model's rename. */
static void test_rename_self_m2m(void **state)
{
    (void)state;
    static const char *const p1 = "model Person { name: char(100) friends: m2m(Person) }\n";
    static const char *const p2 = "model Human renamed_from Person { name: char(100) "
                                  "friends: m2m(Human) }\n";
    mt_reset();
    mt_make(p1);
    mt_make(p2);
    corm_migrations *ms = mt_chain();
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO person (name) VALUES ('Ann'), ('Bob'), ('Cy')");
    run_ok(db, "INSERT INTO person_friends (from_person_id, to_person_id) VALUES (1, 2), (2, 3)");
    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, p2);
    assert_string_equal(test_sql_rows(db, "SELECT from_human_id, to_human_id FROM human_friends "
                                          "ORDER BY 1"),
                        "1|2\n2|3");
    refused(db, "INSERT INTO human_friends (id, from_human_id, to_human_id) VALUES (100, 1, 2)");
    run_ok(db, "INSERT INTO human_friends (from_human_id, to_human_id) VALUES (3, 1)");
    mt_migrate(db, ms, "0001", 0);
    mt_same_as_direct(db, p1);
    assert_string_equal(test_sql_rows(db, "SELECT id, from_person_id, to_person_id FROM "
                                          "person_friends ORDER BY 1"),
                        "1|1|2\n2|2|3\n3|3|1");
    corm_close(db);
    corm_migrations_free(ms);
    mt_reset();
    test_db_close(NULL);
}

/* ------------------------------------------------------------ search */

static const char *const doc1 = "model Article { title: char(100) body: text "
                                "index article_fts (body) using search }\n";
static const char *const doc2 = "model Post renamed_from Article { title: char(100) body: text "
                                "index article_fts (body) using search }\n";
static const char *const doc3 = "model Post { title: char(100) "
                                "content: text renamed_from body "
                                "index article_fts (content) using search }\n";
/* with its generated name, the index is removed and added around a rename */
static const char *const doc4 = "model Note renamed_from Post { title: char(100) "
                                "content: text index (content) using search }\n";

/* The ids of model's rows whose field holds every word, through the
** `search` lookup of a model of the schema text v. */
static const char *found(corm_db *db, const char *v, const char *model, const char *field,
                         const char *words)
{
    static char out[256];
    corm_schema *s = mt_parse(v);
    /* a parsed model has no struct; values() rows need none */
    corm_model m = *corm_schema_model(s, model);
    m.size = sizeof(corm_obj) + 64;
    corm_qs *qs = corm_qs_new_at(db, &m, CORM_SITE);
    char path[64];
    snprintf(path, sizeof path, "%s__search", field);
    corm_filter(qs, path, corm_text(words));
    corm_order_by(qs, "id");
    corm_values_flat(qs, "id");
    if (corm_eval(qs) != CORM_OK) {
        char b[2048];
        fail_msg("%s: %s", path, corm_error_format(corm_qs_error(qs), b, sizeof b));
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < corm_qs_len(qs); i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", i ? "," : "",
                                (long long)corm_qs_cell(qs, i, 0)->u.i);
    corm_qs_free(qs);
    corm_schema_free(s);
    return out;
}

static void test_search_index_across_renames(void **state)
{
    (void)state;
    mt_reset();
    mt_make(doc1);
    mt_make(doc2);
    mt_make(doc3);
    mt_make(doc4);
    assert_non_null(strstr(mt_text(1), "rename_model Article Post\n"));
    assert_non_null(strstr(mt_text(2), "rename_field Post body content\n"));
    corm_migrations *ms = mt_chain();
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO article (title, body) VALUES ('a', 'the quixotic story'), "
               "('b', 'an ordinary story'), ('c', 'quixotic again')");
    assert_string_equal(found(db, doc1, "Article", "body", "quixotic"), "1,3");

    /* each step forward: the same rows found, new rows and updates indexed */
    mt_migrate(db, ms, "0002", 0);
    mt_same_as_direct(db, doc2);
    assert_string_equal(found(db, doc2, "Post", "body", "quixotic"), "1,3");
    run_ok(db, "INSERT INTO post (title, body) VALUES ('d', 'quixotic four')");
    run_ok(db, "UPDATE post SET body = 'plain now' WHERE id = 1");
    assert_string_equal(found(db, doc2, "Post", "body", "quixotic"), "3,4");

    mt_migrate(db, ms, "0003", 0);
    mt_same_as_direct(db, doc3);
    assert_string_equal(found(db, doc3, "Post", "content", "quixotic"), "3,4");
    run_ok(db, "INSERT INTO post (title, content) VALUES ('e', 'Quixotic five')");
    run_ok(db, "DELETE FROM post WHERE id = 3");
    assert_string_equal(found(db, doc3, "Post", "content", "quixotic"), "4,5");

    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, doc4);
    assert_string_equal(found(db, doc4, "Note", "content", "quixotic"), "4,5");
    assert_string_equal(found(db, doc4, "Note", "content", "plain"), "1");

    /* and back, step by step */
    mt_migrate(db, ms, "0003", 0);
    mt_same_as_direct(db, doc3);
    assert_string_equal(found(db, doc3, "Post", "content", "quixotic"), "4,5");
    mt_migrate(db, ms, "0002", 0);
    mt_same_as_direct(db, doc2);
    assert_string_equal(found(db, doc2, "Post", "body", "quixotic"), "4,5");
    mt_migrate(db, ms, "0001", 0);
    mt_same_as_direct(db, doc1);
    assert_string_equal(found(db, doc1, "Article", "body", "quixotic"), "4,5");
    run_ok(db, "INSERT INTO article (title, body) VALUES ('f', 'quixotic six')");
    assert_string_equal(found(db, doc1, "Article", "body", "quixotic story"), "");
    assert_string_equal(found(db, doc1, "Article", "body", "quixotic"), "4,5,6");
    assert_string_equal(found(db, doc1, "Article", "body", "story"), "2");
    corm_close(db);
    corm_migrations_free(ms);
    mt_reset();
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_column_to_fk_and_back),
        cmocka_unit_test(test_renames_follow_every_name),
        cmocka_unit_test(test_rename_self_m2m),
        cmocka_unit_test(test_search_index_across_renames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
