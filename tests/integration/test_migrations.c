/*
** test_migrations.c - schema evolution on a live database with rows, on
** SQLite and PostgreSQL: five schema versions, each migration made by
** corm_makemigrations, applied forward and back with the rows checked after
** each step; the chain from zero equals the schema created directly; a
** database made by corm_migrate is recognised as 0001_initial; a failing
** migration leaves database and history as before; data-loss and NOT NULL
** refusals; drift.
*/
#include "migtest.h"
#include "db/db_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const versions[] = {
    /* 1 */
    "model Author { name: char(100) }\n"
    "model Book { title: char(200) author: fk(Author, on_delete=cascade) }\n",
    /* 2: add fields (null, default), db_index, a model, m2m */
    "model Author { name: char(100) db_index born: integer null }\n"
    "model Book { title: char(200) pages: integer default=0\n"
    "             author: fk(Author, on_delete=cascade) genres: m2m(Genre) }\n"
    "model Genre { name: char(50) unique }\n",
    /* 3: composite descending index, unique constraint, type change */
    "model Author { name: char(100) db_index born: bigint null }\n"
    "model Book { title: char(200) pages: integer default=0\n"
    "             author: fk(Author, on_delete=cascade) genres: m2m(Genre)\n"
    "             index (title, -pages) unique (title, author) }\n"
    "model Genre { name: char(50) unique }\n",
    /* 4: rename (asked for), remove a field */
    "model Author { name: char(100) db_index }\n"
    "model Book { name: char(200) pages: integer default=0\n"
    "             author: fk(Author, on_delete=cascade) genres: m2m(Genre)\n"
    "             index (name, -pages) unique (name, author) }\n"
    "model Genre { name: char(50) unique }\n",
    /* 5: drop a model and its m2m, change a default */
    "model Author { name: char(100) db_index }\n"
    "model Book { name: char(200) pages: integer default=1\n"
    "             author: fk(Author, on_delete=cascade)\n"
    "             index (name, -pages) unique (name, author) }\n",
};

static char *names[8], *texts[8];
static int nmig;

static corm_schema *parse(const char *text)
{
    corm_error err;
    corm_schema *s = corm_schema_parse(text, strlen(text), "v.corm", &err);
    if (!s) fail_msg("schema: %s", err.message);
    return s;
}

static corm_migrations *chain(void)
{
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts((const char *const *)names,
                                                     (const char *const *)texts, nmig, &err);
    if (!ms) fail_msg("chain: %s (%s)", err.message, err.hint);
    return ms;
}

/* makemigrations for version v: the chain grows by one. */
static void make(int v, const char *rename)
{
    corm_migrations *ms = chain();
    corm_schema *s = parse(versions[v]);
    char *fn = NULL, *text = NULL;
    corm_error err;
    const char *r[1] = {rename};
    assert_int_equal(corm_makemigrations(ms, s, r, rename ? 1 : 0, NULL, &fn, &text, &err),
                     CORM_OK);
    assert_non_null(fn);
    *strstr(fn, ".corm-migration") = '\0';
    names[nmig] = fn;
    texts[nmig++] = text;
    corm_free_string(NULL);
    /* and now nothing is left to do */
    corm_migrations_free(ms);
    ms = chain();
    assert_int_equal(corm_makemigrations(ms, s, NULL, 0, NULL, &fn, &text, &err), CORM_OK);
    assert_null(fn);
    corm_migrations_free(ms);
    corm_schema_free(s);
}

static void run_ok(corm_db *db, const char *sql)
{
    if (corm_exec(db, sql) != CORM_OK) fail_msg("%s: %s", sql, corm_db_error(db)->message);
}

/* The rows of a query, "a|b;c|d". */
static const char *rows(corm_db *db, const char *sql)
{
    static char out[8192];
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
            const char *t =
                db->be->column_null(cur.stmt, i) ? "NULL" : db->be->column_text(cur.stmt, i, &n);
            if (db->be->column_null(cur.stmt, i)) n = 4;
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

/* The whole catalog (tests/support/migtest.c): columns, constraints with
** their names and definitions, indexes, sequences, triggers. */
static const char *catalog(corm_db *db) { return mt_catalog(db); }

static corm_db *open_url(const char *url)
{
    corm_error err;
    corm_db *db = corm_open(url, NULL, &err);
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

static void test_chain_forward_and_back(void **state)
{
    (void)state;
    nmig = 0;
    make(0, NULL);
    make(1, NULL);
    make(2, NULL);
    make(3, "Book.title:name");
    make(4, NULL);
    assert_string_equal(names[0], "0001_initial");
    assert_non_null(strstr(texts[3], "rename_field Book title name"));

    corm_migrations *ms = chain();
    corm_db *db = open_url(test_db_fresh_url());
    migrate_ok(db, ms, "0001_initial", 0);
    run_ok(db, "INSERT INTO author (name) VALUES ('Hugo')");
    run_ok(db, "INSERT INTO book (title, author_id) VALUES ('Les Miserables', 1)");
    run_ok(db, "INSERT INTO book (title, author_id) VALUES ('Notre-Dame', 1)");

    migrate_ok(db, ms, "0002", 0);
    assert_string_equal(rows(db, "SELECT id, title, pages, author_id FROM book ORDER BY id"),
                        "1|Les Miserables|0|1;2|Notre-Dame|0|1");
    assert_string_equal(rows(db, "SELECT id, name, born FROM author"), "1|Hugo|NULL");
    run_ok(db, "INSERT INTO genre (name) VALUES ('Fiction')");
    run_ok(db, "INSERT INTO book_genres (book_id, genre_id) VALUES (1, 1)");
    run_ok(db, "UPDATE author SET born = 1802");

    migrate_ok(db, ms, "0003", 0);
    assert_string_equal(rows(db, "SELECT id, name, born FROM author"), "1|Hugo|1802");
    assert_string_equal(rows(db, "SELECT book_id, genre_id FROM book_genres"), "1|1");

    /* 0004 removes Author.born, which holds data: refused, nothing changed */
    assert_int_equal(corm_migrate_to(db, ms, "0004", 0), CORM_INVALID);
    assert_non_null(strstr(corm_db_error(db)->message, "Author.born"));
    char *show = NULL;
    assert_int_equal(corm_showmigrations(db, ms, &show), CORM_OK);
    assert_non_null(strstr(show, "[X] 0003"));
    assert_non_null(strstr(show, "[ ] 0004"));
    corm_free_string(show);
    migrate_ok(db, ms, "0004", CORM_MIGRATE_ALLOW_DATA_LOSS);
    assert_string_equal(rows(db, "SELECT id, name, pages FROM book ORDER BY id"),
                        "1|Les Miserables|0;2|Notre-Dame|0");

    migrate_ok(db, ms, NULL, CORM_MIGRATE_ALLOW_DATA_LOSS);
    assert_string_equal(rows(db, "SELECT id, name, pages, author_id FROM book ORDER BY id"),
                        "1|Les Miserables|0|1;2|Notre-Dame|0|1");

    /* the chain equals the schema created directly */
    char chained[8192];
    snprintf(chained, sizeof chained, "%s", catalog(db));
    corm_schema *s5 = parse(versions[4]);
    corm_error err;
    corm_db *direct = corm_open(test_db_fresh_url(), s5, &err);
    assert_non_null(direct);
    assert_int_equal(corm_migrate(direct), CORM_OK);
    assert_string_equal(chained, catalog(direct));
    corm_close(direct);
    corm_schema_free(s5);

    /* back one step at a time, each equal to the schema created directly,
    ** the rows kept (a field or model dropped forward comes back empty) */
    migrate_ok(db, ms, "0004", CORM_MIGRATE_ALLOW_DATA_LOSS);
    mt_same_as_direct(db, versions[3]);
    assert_string_equal(rows(db, "SELECT id, name, pages, author_id FROM book ORDER BY id"),
                        "1|Les Miserables|0|1;2|Notre-Dame|0|1");
    assert_string_equal(rows(db, "SELECT count(*) FROM genre"), "0");
    migrate_ok(db, ms, "0003", CORM_MIGRATE_ALLOW_DATA_LOSS);
    mt_same_as_direct(db, versions[2]);
    assert_string_equal(rows(db, "SELECT id, title, pages, author_id FROM book ORDER BY id"),
                        "1|Les Miserables|0|1;2|Notre-Dame|0|1");
    assert_string_equal(rows(db, "SELECT id, name, born FROM author"), "1|Hugo|NULL");
    run_ok(db, "UPDATE author SET born = 1802");
    migrate_ok(db, ms, "0002", CORM_MIGRATE_ALLOW_DATA_LOSS);
    mt_same_as_direct(db, versions[1]);
    assert_string_equal(rows(db, "SELECT id, name, born FROM author"), "1|Hugo|1802");
    assert_string_equal(rows(db, "SELECT id, title, pages, author_id FROM book ORDER BY id"),
                        "1|Les Miserables|0|1;2|Notre-Dame|0|1");

    /* and back to 0001 (data loss allowed: fields and models go), rows kept */
    migrate_ok(db, ms, "0001_initial", CORM_MIGRATE_ALLOW_DATA_LOSS);
    assert_string_equal(rows(db, "SELECT id, title, author_id FROM book ORDER BY id"),
                        "1|Les Miserables|1;2|Notre-Dame|1");
    migrate_ok(db, ms, "zero", CORM_MIGRATE_ALLOW_DATA_LOSS);
    assert_int_equal(corm_showmigrations(db, ms, &show), CORM_OK);
    assert_null(strstr(show, "[X]"));
    corm_free_string(show);
    corm_close(db);
    corm_migrations_free(ms);
    for (int i = 0; i < nmig; i++) {
        corm_free_string(names[i]);
        corm_free_string(texts[i]);
    }
    test_db_close(NULL);
}

static void test_legacy_database_is_0001(void **state)
{
    (void)state;
    nmig = 0;
    make(0, NULL);
    make(1, NULL);
    corm_schema *s1 = parse(versions[0]);
    corm_error err;
    corm_db *db = corm_open(test_db_fresh_url(), s1, &err);
    assert_non_null(db);
    assert_int_equal(corm_migrate(db), CORM_OK); /* today's single-step migrate */
    run_ok(db, "INSERT INTO author (name) VALUES ('Hugo')");
    corm_migrations *ms = chain();
    assert_int_equal(corm_migrations_check(db, ms), CORM_SCHEMA);
    assert_non_null(strstr(corm_db_error(db)->message, "database at 0001_initial, this program "
                                                       "expects 0002_"));
    migrate_ok(db, ms, NULL, 0);
    assert_int_equal(corm_migrations_check(db, ms), CORM_OK);
    assert_string_equal(rows(db, "SELECT id, name, born FROM author"), "1|Hugo|NULL");
    corm_close(db);
    corm_schema_free(s1);
    corm_migrations_free(ms);
    for (int i = 0; i < nmig; i++) {
        corm_free_string(names[i]);
        corm_free_string(texts[i]);
    }
    test_db_close(NULL);
}

static void test_failure_rolls_back_whole(void **state)
{
    (void)state;
    static const char *const n[] = {"0001_initial", "0002_bad", "0003_isbn"};
    static const char *const t[] = {
        "create_model Book\n    title: char(200)\n    pages: integer\n",
        "depends 0001_initial\n\nadd_field Book\n    note: text null\n\n"
        "add_index Book\n    unique index book_pages_desc_uniq (-pages)\n",
        "depends 0002_bad\n\nadd_field Book\n    isbn: char(13)\n"};
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts(n, t, 2, &err);
    assert_non_null(ms);
    corm_db *db = open_url(test_db_fresh_url());
    migrate_ok(db, ms, "0001", 0);
    run_ok(db, "INSERT INTO book (title, pages) VALUES ('a', 10)");
    run_ok(db, "INSERT INTO book (title, pages) VALUES ('b', 10)");
    char before[8192];
    snprintf(before, sizeof before, "%s", catalog(db));
    assert_int_not_equal(corm_migrate_to(db, ms, NULL, 0), CORM_OK);
    const corm_error *e = corm_db_error(db);
    assert_non_null(strstr(e->message, "migration 0002_bad failed at statement"));
    assert_non_null(strstr(e->sql, "book_pages_desc_uniq"));
    assert_string_equal(before, catalog(db));
    assert_string_equal(rows(db, "SELECT name FROM corm_migrations"), "0001_initial");
    assert_string_equal(rows(db, "SELECT id, title, pages FROM book ORDER BY id"), "1|a|10;2|b|10");
    corm_migrations_free(ms);

    /* NOT NULL without a default on a table with rows: refused, named */
    const char *const t2[] = {t[0], "depends 0001_initial\n\nadd_field Book\n    isbn: "
                                    "char(13)\n"};
    ms = corm_migrations_from_texts(n, t2, 2, &err);
    assert_non_null(ms);
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "Book.isbn"));
    assert_string_equal(before, catalog(db));
    corm_migrations_free(ms);

    /* a file that does not parse says where */
    static const char *const t3[] = {"create_model Book\n  title: char(10)\nfrobnicate Book\n"};
    assert_null(corm_migrations_from_texts(n, t3, 1, &err));
    assert_non_null(strstr(err.message, "0001_initial:3: unknown line 'frobnicate'"));
    corm_close(db);
    test_db_close(NULL);
}

/* Two processes migrating the same database at once serialise: both
** succeed, every migration is applied once and recorded once. */
static void test_concurrent_migrate_serialises(void **state)
{
    (void)state;
    static const char *const n[] = {"0001_initial", "0002_pages", "0003_idx"};
    static const char *const t[] = {
        "create_model Book\n    title: char(200)\n",
        "depends 0001_initial\n\nadd_field Book\n    pages: integer default=0\n",
        "depends 0002_pages\n\nadd_index Book\n    index book_pages_idx (pages)\n"};
    for (int round = 0; round < 3; round++) {
        char url[1024];
        snprintf(url, sizeof url, "%s", test_db_fresh_url());
        pid_t pids[2];
        for (int k = 0; k < 2; k++) {
            pids[k] = fork();
            assert_true(pids[k] >= 0);
            if (pids[k] == 0) {
                corm_error err;
                corm_migrations *ms = corm_migrations_from_texts(n, t, 3, &err);
                corm_db *db = ms ? corm_open(url, NULL, &err) : NULL;
                int code = 3;
                if (db) {
                    code = corm_migrate_to(db, ms, NULL, 0) == CORM_OK ? 0 : 1;
                    if (code) fprintf(stderr, "child: %s\n", corm_db_error(db)->message);
                } else {
                    fprintf(stderr, "child: %s\n", err.message);
                }
                corm_close(db);
                corm_migrations_free(ms);
                _exit(code);
            }
        }
        for (int k = 0; k < 2; k++) {
            int st = 0;
            assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
            assert_true(WIFEXITED(st));
            assert_int_equal(WEXITSTATUS(st), 0);
        }
        corm_db *db = open_url(url);
        assert_string_equal(rows(db, "SELECT name FROM corm_migrations ORDER BY id"),
                            "0001_initial;0002_pages;0003_idx");
        run_ok(db, "INSERT INTO book (title, pages) VALUES ('a', 1)");
        corm_close(db);
    }
    test_db_close(NULL);
}

/* The error model of the migration calls (include/corm.h): a NULL db is
** CORM_MISUSE; each call clears the db's error on entry; misuse names
** the argument. */
static void test_error_model(void **state)
{
    (void)state;
    static const char *const n[] = {"0001_initial"};
    static const char *const t[] = {"create_model Book\n    title: char(200)\n"};
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts(n, t, 1, &err);
    assert_non_null(ms);
    char *out = NULL;
    assert_int_equal(corm_migrate_to(NULL, ms, NULL, 0), CORM_MISUSE);
    assert_int_equal(corm_sqlmigrate(NULL, ms, "0001", false, &out), CORM_MISUSE);
    assert_int_equal(corm_showmigrations(NULL, ms, &out), CORM_MISUSE);
    assert_int_equal(corm_migrations_check(NULL, ms), CORM_MISUSE);
    assert_null(out);

    corm_db *db = open_url(test_db_fresh_url());
    assert_int_equal(corm_migrate_to(db, NULL, NULL, 0), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "corm_migrate_to: no migrations given"));
    assert_int_equal(corm_sqlmigrate(db, ms, NULL, false, &out), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "the migration's name is NULL"));
    assert_int_equal(corm_showmigrations(db, ms, NULL), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "the output pointer is NULL"));
    assert_int_equal(corm_sqlmigrate(db, ms, "0009", false, &out), CORM_NOTFOUND);
    assert_string_equal(corm_db_error(db)->message, "no migration named 0009");
    assert_non_null(strstr(corm_db_error(db)->hint, "0001_initial"));
    /* the next call clears it */
    assert_int_equal(corm_showmigrations(db, ms, &out), CORM_OK);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    assert_string_equal(corm_db_error(db)->message, "");
    corm_free_string(out);
    assert_int_equal(corm_migrations_check(db, ms), CORM_SCHEMA);
    assert_string_equal(corm_db_error(db)->message,
                        "database at zero (no migrations applied), this program expects "
                        "0001_initial: run corm migrate");
    migrate_ok(db, ms, NULL, 0);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    assert_int_equal(corm_migrations_check(db, ms), CORM_OK);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    /* inside a transaction: refused, said why */
    assert_int_equal(corm_begin(db), CORM_OK);
    assert_int_equal(corm_migrate_to(db, ms, "zero", 0), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->hint, "commit or roll back first"));
    assert_int_equal(corm_rollback(db), CORM_OK);
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_forward_and_back),
        cmocka_unit_test(test_legacy_database_is_0001),
        cmocka_unit_test(test_failure_rolls_back_whole),
        cmocka_unit_test(test_concurrent_migrate_serialises),
        cmocka_unit_test(test_error_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
