/*
** test_makemigrations.c - golden tests of the migration file format and of
** makemigrations' output (run from the repository root):
**   tests/migrations/bookstore-0001_initial.corm-migration  the initial
**       migration of examples/bookstore.corm
**   tests/migrations/evolve/  v1.corm, v2.corm and the two migrations
**       makemigrations writes for them
** and that each chain, read back, leaves nothing to detect.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <corm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s (run from the repository root)", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static corm_schema *schema(const char *path)
{
    corm_error err;
    corm_schema *s = corm_schema_parse_file(path, &err);
    if (!s) fail_msg("%s: %s", path, err.message);
    return s;
}

/* makemigrations from ms to the schema at path equals the golden file. */
static void expect(const corm_migrations *ms, const char *path, const char *golden_name,
                   const char *golden)
{
    corm_schema *s = schema(path);
    char *fn = NULL, *text = NULL;
    corm_error err;
    assert_int_equal(corm_makemigrations(ms, s, NULL, 0, NULL, &fn, &text, &err), CORM_OK);
    assert_non_null(fn);
    assert_string_equal(fn, golden_name);
    assert_string_equal(text, slurp(golden));
    corm_free_string(fn);
    corm_free_string(text);
    corm_schema_free(s);
}

static void no_changes(const corm_migrations *ms, const char *path)
{
    corm_schema *s = schema(path);
    char *fn = NULL, *text = NULL;
    corm_error err;
    assert_int_equal(corm_makemigrations(ms, s, NULL, 0, NULL, &fn, &text, &err), CORM_OK);
    assert_null(fn);
    assert_null(text);
    corm_schema_free(s);
}

static void test_bookstore_initial(void **state)
{
    (void)state;
    corm_error err;
    corm_migrations *none = corm_migrations_load("tests/migrations/no-such-dir", &err);
    assert_non_null(none);
    assert_int_equal(corm_migrations_count(none), 0);
    expect(none, "examples/bookstore.corm", "0001_initial.corm-migration",
           "tests/migrations/bookstore-0001_initial.corm-migration");
    corm_migrations_free(none);
    const char *name = "0001_initial";
    const char *text = slurp("tests/migrations/bookstore-0001_initial.corm-migration");
    corm_migrations *ms = corm_migrations_from_texts(&name, &text, 1, &err);
    assert_non_null(ms);
    no_changes(ms, "examples/bookstore.corm");
    corm_migrations_free(ms);
}

static void test_evolve(void **state)
{
    (void)state;
    corm_error err;
    corm_migrations *ms = corm_migrations_load("tests/migrations/evolve", &err);
    assert_non_null(ms);
    assert_int_equal(corm_migrations_count(ms), 2);
    assert_string_equal(corm_migrations_name(ms, 1),
                        "0002_genre_alter_author_name_author_born_and_more");
    no_changes(ms, "tests/migrations/evolve/v2.corm");
    corm_migrations_free(ms);
    /* the first alone, to v2: the second file */
    const char *name = "0001_initial";
    const char *text = slurp("tests/migrations/evolve/0001_initial.corm-migration");
    char *copy = strdup(text);
    const char *t = copy;
    ms = corm_migrations_from_texts(&name, &t, 1, &err);
    assert_non_null(ms);
    expect(
        ms, "tests/migrations/evolve/v2.corm",
        "0002_genre_alter_author_name_author_born_and_more.corm-migration",
        "tests/migrations/evolve/0002_genre_alter_author_name_author_born_and_more.corm-migration");
    /* a rename must be asked for; a bad one says what is wrong */
    corm_schema *s = schema("tests/migrations/evolve/v2.corm");
    char *fn = NULL, *out = NULL;
    const char *bad = "Book.nope:name";
    assert_int_equal(corm_makemigrations(ms, s, &bad, 1, NULL, &fn, &out, &err), CORM_INVALID);
    assert_string_equal(err.message, "--rename Book.nope:name: model Book has no field nope");
    corm_schema_free(s);
    corm_migrations_free(ms);
    free(copy);
}

/* Partial indexes: the condition is part of the index line, so changing
** it is a remove and an add of the index (tests/migrations/partial). */
static void test_partial_index(void **state)
{
    (void)state;
    corm_error err;
    corm_migrations *none = corm_migrations_load("tests/migrations/no-such-dir", &err);
    assert_non_null(none);
    expect(none, "tests/migrations/partial/v1.corm", "0001_initial.corm-migration",
           "tests/migrations/partial/0001_initial.corm-migration");
    corm_migrations_free(none);
    const char *name = "0001_initial";
    char *copy = strdup(slurp("tests/migrations/partial/0001_initial.corm-migration"));
    const char *t = copy;
    corm_migrations *ms = corm_migrations_from_texts(&name, &t, 1, &err);
    assert_non_null(ms);
    no_changes(ms, "tests/migrations/partial/v1.corm");
    expect(ms, "tests/migrations/partial/v2.corm",
           "0002_remove_post_published_on_partial_idx_and_more.corm-migration",
           "tests/migrations/partial/0002_remove_post_published_on_partial_idx_and_more"
           ".corm-migration");
    corm_migrations_free(ms);
    free(copy);
    ms = corm_migrations_load("tests/migrations/partial", &err);
    assert_non_null(ms);
    assert_int_equal(corm_migrations_count(ms), 2);
    no_changes(ms, "tests/migrations/partial/v2.corm");
    corm_migrations_free(ms);
    /* a migration file's condition is checked like the schema's */
    const char *bad =
        "create_model Post\n    views: integer\n    index (views) where views = \"x\"\n";
    ms = corm_migrations_from_texts(&name, &bad, 1, &err);
    assert_non_null(ms);
    corm_db *db = corm_open("sqlite::memory:", NULL, &err);
    assert_non_null(db);
    char *sql = NULL;
    assert_int_equal(corm_sqlmigrate(db, ms, "0001", false, &sql), CORM_SCHEMA);
    assert_null(sql);
    assert_non_null(strstr(corm_db_error(db)->message,
                           "condition value \"x\" does not fit integer field 'views'"));
    corm_close(db);
    corm_migrations_free(ms);
}

/* Index kinds (tests/migrations/text): `using trigram` / `using search`
** are part of the index line. */
static void test_text_indexes(void **state)
{
    (void)state;
    corm_error err;
    const char *name = "0001_initial";
    char *copy = strdup(slurp("tests/migrations/text/migrations/0001_initial.corm-migration"));
    const char *t = copy;
    corm_migrations *ms = corm_migrations_from_texts(&name, &t, 1, &err);
    assert_non_null(ms);
    no_changes(ms, "tests/migrations/text/v1.corm");
    expect(ms, "tests/migrations/text/library.corm",
           "0002_article_title_trgm_article_body_search.corm-migration",
           "tests/migrations/text/migrations/0002_article_title_trgm_article_body_search"
           ".corm-migration");
    corm_migrations_free(ms);
    free(copy);
    ms = corm_migrations_load("tests/migrations/text/migrations", &err);
    assert_non_null(ms);
    no_changes(ms, "tests/migrations/text/library.corm");
    corm_migrations_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bookstore_initial),
        cmocka_unit_test(test_evolve),
        cmocka_unit_test(test_partial_index),
        cmocka_unit_test(test_text_indexes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
