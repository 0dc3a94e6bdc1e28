/*
** test_hardening_more.c - the rest of issue 13's defect 10: max_length on
** every write path (update(), bulk_update), and corm_qs_sql checking
** prefetch paths as evaluation does.  Both backends.
*/
#include "test.h"

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

#define assert_contains(s, part)                                                       \
    do {                                                                               \
        if (!strstr((s), (part))) fail_msg("'%s' does not contain '%s'", (s), (part)); \
    } while (0)

/* update(): CORM_SET of a text longer than max_length is refused before
** any SQL, with save's error shape. */
static void test_update_max_length(void **state)
{
    (void)state;
    char long_name[60];
    memset(long_name, 'x', 51);
    long_name[51] = '\0';
    corm_qs *qs = corm_all(db, Genre);
    corm_filter(qs, "id", corm_int(1));
    uint64_t before = corm_query_count(db);
    assert_int_equal(corm_update(qs, CORM_SET("name", corm_text(long_name))), -1);
    assert_int_equal(corm_query_count(db), before);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->rc, CORM_CONSTRAINT);
    assert_int_equal(e->constraint, CORM_CK_CHECK);
    assert_string_equal(e->constraint_name, "genre.name");
    assert_contains(e->message, "name is 51 characters, max_length is 50");
    assert_contains(e->hint, "max_length");
    assert_int_equal(corm_qs_error(qs)->rc, CORM_CONSTRAINT);
    corm_qs_free(qs);
    /* 50 characters (two bytes each) fit */
    char fits[128] = "";
    for (int i = 0; i < 50; i++) strcat(fits, "\xc3\xa9");
    qs = corm_all(db, Genre);
    corm_filter(qs, "id", corm_int(1));
    assert_int_equal(corm_update(qs, CORM_SET("name", corm_text(fits))), 1);
    assert_int_equal(corm_update(qs, CORM_SET("name", corm_text("Fiction"))), 1);
    corm_qs_free(qs);
}

/* bulk_update: which object, nothing written. */
static void test_bulk_update_max_length(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Genre);
    corm_order_by(qs, "id");
    TEST_OK_DB(db, corm_eval(qs));
    assert_int_equal(corm_qs_len(qs), 3);
    Genre *g[3];
    for (int i = 0; i < 3; i++) g[i] = corm_qs_at(qs, (size_t)i);
    char long_name[60];
    memset(long_name, 'y', 51);
    long_name[51] = '\0';
    g[0]->name = "Fiction 2";
    g[1]->name = long_name;
    uint64_t before = corm_query_count(db);
    assert_int_equal(corm_bulk_update(db, g, 3, "name"), -1);
    assert_int_equal(corm_query_count(db), before);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->rc, CORM_CONSTRAINT);
    assert_int_equal(e->constraint, CORM_CK_CHECK);
    assert_int_equal(e->row, 2);
    assert_contains(e->message, "object 2: name is 51 characters, max_length is 50");
    corm_qs_free(qs);
    qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("Fiction"));
    assert_int_equal(corm_count(qs), 1); /* nothing was written */
    corm_qs_free(qs);
}

/* corm_qs_sql refuses a prefetch path that evaluation would refuse. */
static void test_qs_sql_checks_prefetch(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books__nope");
    assert_null(corm_qs_sql(qs));
    const corm_error *e = corm_qs_error(qs);
    assert_int_not_equal(e->rc, CORM_OK);
    assert_contains(e->message, "nope");
    /* evaluation says the same */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", e->message);
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books__nope");
    assert_int_not_equal(corm_eval(qs), CORM_OK);
    assert_string_equal(corm_qs_error(qs)->message, msg);
    corm_qs_free(qs);
    /* a valid path: the SQL of the queryset itself, no query run */
    qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books__genres");
    uint64_t before = corm_query_count(db);
    assert_non_null(corm_qs_sql(qs));
    assert_int_equal(corm_query_count(db), before);
    corm_qs_free(qs);
}

/* Defect 8: expression operands are checked against the schema when the
** expression is built (SQLite coerced, PostgreSQL refused): CORM_TYPE on
** the queryset, naming the operands and their types; no query runs. */
static void expect_type_error(corm_qs *qs, const char *part1, const char *part2)
{
    const corm_error *e = corm_qs_error(qs);
    if (e->rc != CORM_TYPE) fail_msg("want CORM_TYPE, got %s: %s", corm_rc_name(e->rc), e->message);
    assert_contains(e->message, part1);
    assert_contains(e->message, part2);
    assert_true(e->hint[0] != '\0');
    uint64_t before = corm_query_count(db);
    assert_int_equal(corm_eval(qs), CORM_TYPE);
    assert_int_equal(corm_query_count(db), before);
    corm_qs_free(qs);
}

static void test_expression_types(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "email"), '-', corm_V(qs, corm_int(2))));
    expect_type_error(qs, "'-' needs numbers: Author.email (email) is text", "a int value");

    qs = corm_all(db, Book);
    corm_annotate(qs, "s", corm_Sum(qs, "title"));
    expect_type_error(qs, "Sum('title'): Book.title (char) is text", "needs a number");

    qs = corm_all(db, Book);
    corm_aggregate(qs, "a", corm_Avg(qs, "author__name"));
    expect_type_error(qs, "Avg('author__name'): Author.name (char) is text", "needs a number");

    qs = corm_all(db, Book);
    corm_filter_expr(qs, "id", corm_F(qs, "title"));
    expect_type_error(qs, "compares Book.id (bigint), which is a number",
                      "Book.title (char), which is text");

    qs = corm_all(db, Book);
    corm_filter_expr(qs, "featured", corm_V(qs, corm_int(1)));
    expect_type_error(qs, "Book.featured (bool), which is a bool",
                      "a int value, which is a number");

    qs = corm_all(db, Book);
    corm_filter_expr(qs, "published_date__gt", corm_V(qs, corm_text("1850-01-01")));
    expect_type_error(qs, "Book.published_date (date), which is a date", "a text value");

    qs = corm_all(db, Book);
    corm_filter_expr(qs, "pages__gt", corm_F(qs, "published_date"));
    expect_type_error(qs, "Book.pages (integer)", "Book.published_date (date), which is a date");

    /* an annotation carries its type */
    qs = corm_all(db, Book);
    corm_annotate(qs, "t", corm_Max(qs, "title"));
    corm_annotate(qs, "y", corm_arith(qs, corm_F(qs, "t"), '+', corm_V(qs, corm_int(1))));
    expect_type_error(qs, "'+' needs numbers: Max('title') is text", "a int value");

    /* what is well typed runs, with the same rows on both backends */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_annotate(qs, "double", corm_arith(qs, corm_F(qs, "pages"), '*', corm_V(qs, corm_int(2))));
    corm_filter_expr(qs, "pages__gt",
                     corm_arith(qs, corm_F(qs, "id"), '*', corm_V(qs, corm_int(200))));
    corm_filter(qs, "published_date__gt", corm_text("1850-01-01"));
    corm_filter_expr(qs, "published_date__year__lt", corm_V(qs, corm_int(2005)));
    corm_filter_expr(qs, "featured", corm_V(qs, corm_bool(false)));
    corm_annotate(qs, "longest", corm_Max(qs, "author__books__title"));
    assert_ids(qs, "1");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    corm_aggregate(qs, "avg", corm_Avg(qs, "author__id"));
    TEST_OK_DB(db, corm_eval(qs));
    assert_int_equal(corm_row_int(qs, 0, "total"), 4269);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_max_length),
        cmocka_unit_test(test_bulk_update_max_length),
        cmocka_unit_test(test_qs_sql_checks_prefetch),
        cmocka_unit_test(test_expression_types),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
