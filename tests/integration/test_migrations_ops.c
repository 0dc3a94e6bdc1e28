/*
** test_migrations_ops.c - every migration operation, one at a time, on
** SQLite and PostgreSQL, on a table with rows: the migration is made by
** corm_makemigrations from two schema versions (and must be the operation
** named), applied forward, then backward; after each step the rows are
** checked and the whole catalog is compared with the schema of that
** version created directly.  An operation that loses data is refused
** first, with the database unchanged, and applied with the flag.
** (Renames: test_migrations_rename.c; index kinds: test_migrations_
** indexes.c; fk targets: test_migrations_fk.c.)
*/
#include "migtest.h"

#include <stdlib.h>
#include <string.h>

typedef struct opcase {
    const char *op; /* in the migration's text */
    const char *v1, *v2;
    const char *seed[4];
    const char *fwd_sql, *fwd_rows;   /* after forward */
    const char *back_sql, *back_rows; /* after backward */
    bool loses;                       /* forward refused without allow-data-loss */
} opcase;

#define AUTHOR "model Author { name: char(100) }\n"
#define BOOK(fields) AUTHOR "model Book { title: char(200) " fields " }\n"
#define BASE "pages: integer null author: fk(Author, on_delete=cascade)"
#define SEED                                                                           \
    {                                                                                  \
        "INSERT INTO author (name) VALUES ('Ann')",                                    \
            "INSERT INTO book (title, pages, author_id) VALUES ('b1', 10, 1), ('b2', " \
            "NULL, 1)"                                                                 \
    }
#define ROWS "SELECT id, title, pages, author_id FROM book ORDER BY id"
#define ROWS_WANT "1|b1|10|1\n2|b2|NULL|1"

static const opcase cases[] = {
    {"create_model Shelf", BOOK(BASE), BOOK(BASE) "model Shelf { label: char(20) }\n", SEED,
     "SELECT count(*), (SELECT count(*) FROM book) FROM shelf", "0|2", ROWS, ROWS_WANT, false},
    {"drop_model Shelf",
     BOOK(BASE) "model Shelf { label: char(20) }\n",
     BOOK(BASE),
     {"INSERT INTO author (name) VALUES ('Ann')",
      "INSERT INTO book (title, pages, author_id) VALUES ('b1', 10, 1), ('b2', NULL, 1)",
      "INSERT INTO shelf (label) VALUES ('top')"},
     ROWS,
     ROWS_WANT,
     "SELECT count(*) FROM shelf",
     "0",
     true},
    {"add_field Book\n    isbn: char(13) null", BOOK(BASE), BOOK(BASE " isbn: char(13) null"), SEED,
     "SELECT id, isbn FROM book ORDER BY id", "1|NULL\n2|NULL", ROWS, ROWS_WANT, false},
    {"add_field Book\n    rating: integer default=3", BOOK(BASE),
     BOOK(BASE " rating: integer default=3"), SEED, "SELECT id, rating FROM book ORDER BY id",
     "1|3\n2|3", ROWS, ROWS_WANT, false},
    {"add_field Book\n    shelf: fk(Author, on_delete=set_null, related_name=shelved) null",
     BOOK(BASE), BOOK(BASE " shelf: fk(Author, on_delete=set_null, related_name=shelved) null"),
     SEED, "SELECT id, shelf_id FROM book ORDER BY id", "1|NULL\n2|NULL", ROWS, ROWS_WANT, false},
    {"remove_field Book\n    pages: integer null", BOOK(BASE),
     BOOK("author: fk(Author, on_delete=cascade)"), SEED,
     "SELECT id, title, author_id FROM book ORDER BY id", "1|b1|1\n2|b2|1",
     "SELECT id, title, pages FROM book ORDER BY id", "1|b1|NULL\n2|b2|NULL", true},
    {"  + pages: bigint null", BOOK(BASE),
     BOOK("pages: bigint null author: fk(Author, on_delete=cascade)"), SEED, ROWS, ROWS_WANT, ROWS,
     ROWS_WANT, false},
    {"  + title: char(50)", BOOK(BASE), AUTHOR "model Book { title: char(50) " BASE " }\n", SEED,
     ROWS, ROWS_WANT, ROWS, ROWS_WANT, false},
    {"  + pages: integer default=0", BOOK(BASE),
     BOOK("pages: integer default=0 author: fk(Author, on_delete=cascade)"), SEED, ROWS,
     "1|b1|10|1\n2|b2|0|1", ROWS, "1|b1|10|1\n2|b2|0|1", false},
    {"  + pages: integer default=0", BOOK(BASE " index (title, -pages)"),
     BOOK("pages: integer default=0 author: fk(Author, on_delete=cascade) index (title, -pages)"),
     SEED, ROWS, "1|b1|10|1\n2|b2|0|1", ROWS, "1|b1|10|1\n2|b2|0|1", false},
    {"  + pages: integer null default=5", BOOK(BASE),
     BOOK("pages: integer null default=5 author: fk(Author, on_delete=cascade)"), SEED, ROWS,
     ROWS_WANT, ROWS, ROWS_WANT, false},
    {"  + title: char(200) unique", BOOK(BASE),
     AUTHOR "model Book { title: char(200) unique " BASE " }\n", SEED, ROWS, ROWS_WANT, ROWS,
     ROWS_WANT, false},
    {"  + title: char(200) db_index", BOOK(BASE),
     AUTHOR "model Book { title: char(200) db_index " BASE " }\n", SEED, ROWS, ROWS_WANT, ROWS,
     ROWS_WANT, false},
    {"  + author: fk(Author, on_delete=protect)", BOOK(BASE),
     BOOK("pages: integer null author: fk(Author, on_delete=protect)"), SEED, ROWS, ROWS_WANT, ROWS,
     ROWS_WANT, false},
    {"  + author: fk(Author, on_delete=set_null) null", BOOK(BASE),
     BOOK("pages: integer null author: fk(Author, on_delete=set_null) null"), SEED, ROWS, ROWS_WANT,
     ROWS, ROWS_WANT, false},
    {"add_index Book\n    index book_title_pages_desc_idx (title, -pages)", BOOK(BASE),
     BOOK(BASE " index (title, -pages)"), SEED, ROWS, ROWS_WANT, ROWS, ROWS_WANT, false},
    {"remove_index Book\n    index book_title_pages_desc_idx (title, -pages)",
     BOOK(BASE " index (title, -pages)"), BOOK(BASE), SEED, ROWS, ROWS_WANT, ROWS, ROWS_WANT,
     false},
    {"add_index Book\n    unique index book_title_author_id_uniq (title, author)", BOOK(BASE),
     BOOK(BASE " unique (title, author)"), SEED, ROWS, ROWS_WANT, ROWS, ROWS_WANT, false},
    {"remove_index Book\n    unique index book_title_author_id_uniq (title, author)",
     BOOK(BASE " unique (title, author)"), BOOK(BASE), SEED, ROWS, ROWS_WANT, ROWS, ROWS_WANT,
     false},
    {"add_field Book\n    genres: m2m(Genre)", BOOK(BASE) "model Genre { name: char(50) }\n",
     BOOK(BASE " genres: m2m(Genre)") "model Genre { name: char(50) }\n", SEED,
     "SELECT count(*), (SELECT count(*) FROM book) FROM book_genres", "0|2", ROWS, ROWS_WANT,
     false},
    {"remove_field Book\n    genres: m2m(Genre)",
     BOOK(BASE " genres: m2m(Genre)") "model Genre { name: char(50) }\n",
     BOOK(BASE) "model Genre { name: char(50) }\n",
     {"INSERT INTO author (name) VALUES ('Ann')",
      "INSERT INTO book (title, pages, author_id) VALUES ('b1', 10, 1), ('b2', NULL, 1)",
      "INSERT INTO genre (name) VALUES ('g')",
      "INSERT INTO book_genres (book_id, genre_id) VALUES (1, 1)"},
     ROWS,
     ROWS_WANT,
     "SELECT count(*), (SELECT count(*) FROM genre) FROM book_genres",
     "0|1",
     true},
    {"  + table \"books\"", BOOK(BASE),
     AUTHOR "model Book { table \"books\" title: char(200) " BASE " }\n", SEED,
     "SELECT id, title, pages, author_id FROM books ORDER BY id", ROWS_WANT, ROWS, ROWS_WANT,
     false},
    {"  + ordering -title", BOOK(BASE),
     AUTHOR "model Book { title: char(200) " BASE " ordering -title }\n", SEED, ROWS, ROWS_WANT,
     ROWS, ROWS_WANT, false},
    {"rename_field Book title name", BOOK(BASE),
     AUTHOR "model Book { name: char(200) renamed_from title " BASE " }\n", SEED,
     "SELECT id, name, pages, author_id FROM book ORDER BY id", ROWS_WANT, ROWS, ROWS_WANT, false},
    {"rename_field Book cover jacket",
     BOOK(BASE " cover: one_to_one(Author, on_delete=cascade, related_name=covered) null"),
     BOOK(BASE " jacket: one_to_one(Author, on_delete=cascade, related_name=covered) null "
               "renamed_from cover"),
     {"INSERT INTO author (name) VALUES ('Ann')",
      "INSERT INTO book (title, pages, author_id, cover_id) VALUES ('b1', 10, 1, 1), ('b2', "
      "NULL, 1, NULL)"},
     "SELECT id, jacket_id FROM book ORDER BY id",
     "1|1\n2|NULL",
     "SELECT id, cover_id FROM book ORDER BY id",
     "1|1\n2|NULL",
     false},
    {"rename_model Book Volume",
     BOOK(BASE " cover: one_to_one(Author, on_delete=cascade, related_name=covered) null"),
     AUTHOR "model Volume renamed_from Book { title: char(200) " BASE
            " cover: one_to_one(Author, on_delete=cascade, related_name=covered) null }\n",
     SEED, "SELECT id, title, pages, author_id, cover_id FROM volume ORDER BY id",
     "1|b1|10|1|NULL\n2|b2|NULL|1|NULL", ROWS, ROWS_WANT, false},
    {"rename_model Book Volume", BOOK(BASE),
     AUTHOR "model Volume renamed_from Book { title: char(200) " BASE " }\n", SEED,
     "SELECT id, title, pages, author_id FROM volume ORDER BY id", ROWS_WANT, ROWS, ROWS_WANT,
     false},
};

static void expect_rows(corm_db *db, const opcase *c, const char *when, const char *sql,
                        const char *want)
{
    const char *got = test_sql_rows(db, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s, %s: %s\ngot:\n%s\nwant:\n%s", c->op, when, sql, got, want);
}

static void test_op(void **state)
{
    const opcase *c = *state;
    mt_reset();
    mt_make(c->v1);
    const char *text = mt_make(c->v2);
    if (!strstr(text, c->op)) fail_msg("the migration is not %s:\n%s", c->op, text);
    corm_migrations *ms = mt_chain();
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    for (int i = 0; i < 4 && c->seed[i]; i++) TEST_OK_DB(db, corm_exec(db, c->seed[i]));
    if (c->loses) {
        char *before = strdup(mt_catalog(db));
        assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_INVALID);
        if (!strstr(corm_db_error(db)->message, "would lose the data") &&
            !strstr(corm_db_error(db)->message, "which holds rows"))
            fail_msg("%s: %s", c->op, corm_db_error(db)->message);
        assert_string_equal(mt_catalog(db), before);
        assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations"), "0001_initial");
        free(before);
    }
    mt_migrate(db, ms, NULL, CORM_MIGRATE_ALLOW_DATA_LOSS);
    mt_same_as_direct(db, c->v2);
    expect_rows(db, c, "forward", c->fwd_sql, c->fwd_rows);
    mt_migrate(db, ms, "0001", CORM_MIGRATE_ALLOW_DATA_LOSS);
    mt_same_as_direct(db, c->v1);
    expect_rows(db, c, "backward", c->back_sql, c->back_rows);
    /* and forward again on the same rows */
    mt_migrate(db, ms, NULL, CORM_MIGRATE_ALLOW_DATA_LOSS);
    mt_same_as_direct(db, c->v2);
    assert_string_equal(test_sql_rows(db, "SELECT count(*) FROM corm_migrations"), "2");
    corm_close(db);
    corm_migrations_free(ms);
    mt_reset();
    test_db_close(NULL);
}

/* A nullable field made NOT NULL without a default, on a table holding
** NULLs in it: refused before anything changes, the field named. */
static void test_not_null_without_default(void **state)
{
    (void)state;
    mt_reset();
    mt_make(BOOK(BASE));
    mt_make(BOOK("pages: integer author: fk(Author, on_delete=cascade)"));
    corm_migrations *ms = mt_chain();
    corm_db *db = mt_open_fresh(NULL);
    mt_migrate(db, ms, "0001", 0);
    static const char *const seed[] = SEED;
    for (int i = 0; i < 2; i++) TEST_OK_DB(db, corm_exec(db, seed[i]));
    char *before = strdup(mt_catalog(db));
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_CONSTRAINT);
    assert_string_equal(corm_db_error(db)->message,
                        "migration 0002_alter_book_pages: cannot make Book.pages NOT NULL "
                        "without a default: rows of \"book\" hold NULL in pages");
    assert_string_equal(corm_db_error(db)->hint,
                        "nothing of 0002_alter_book_pages was applied; give the field a default "
                        "or make it null, then makemigrations again");
    assert_string_equal(mt_catalog(db), before);
    free(before);
    assert_string_equal(test_sql_rows(db, "SELECT name FROM corm_migrations"), "0001_initial");
    /* with the NULL given a value, it applies */
    TEST_OK_DB(db, corm_exec(db, "UPDATE book SET pages = 1 WHERE pages IS NULL"));
    mt_migrate(db, ms, NULL, 0);
    mt_same_as_direct(db, BOOK("pages: integer author: fk(Author, on_delete=cascade)"));
    assert_string_equal(test_sql_rows(db, ROWS), "1|b1|10|1\n2|b2|1|1");
    corm_close(db);
    corm_migrations_free(ms);
    mt_reset();
    test_db_close(NULL);
}

int main(void)
{
    enum { N = sizeof cases / sizeof cases[0] };
    struct CMUnitTest tests[N + 1];
    static char names[N][64];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "%.*s", (int)strcspn(cases[i].op, "\n"), cases[i].op);
        tests[i] = (struct CMUnitTest){names[i], test_op, NULL, NULL, (void *)&cases[i]};
    }
    tests[N] = (struct CMUnitTest)cmocka_unit_test(test_not_null_without_default);
    return _cmocka_run_group_tests("test_migrations_ops", tests, N + 1, NULL, NULL);
}
