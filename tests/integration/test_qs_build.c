/*
** test_qs_build.c - a queryset built for one call: corm_filter keeps its
** nodes and lookups in the queryset itself while they fit, then in the
** build arena, and copies the lookup (the caller's buffer may change
** after the call); the compiled-SQL memo's key (a fixed head with the
** lengths of the string lists, then the lists and the where tree) still
** tells apart every shape that compiles to other text.  The suite runs
** these with CORM_SQL_MEMO_VERIFY=1 (every memo hit compiled again and
** compared); the rows and counts below hold without it too.
*/
#include "test.h"

#include <stdio.h>
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

/* The lookup is the caller's buffer, rewritten after each call: the
** queryset kept its own copy. */
static void test_lookup_buffer_reused(void **state)
{
    (void)state;
    char lookup[32];
    corm_qs *qs = corm_all(db, Book);
    snprintf(lookup, sizeof lookup, "pages__gt");
    corm_filter(qs, lookup, corm_int(296));
    snprintf(lookup, sizeof lookup, "pages__lt");
    corm_filter(qs, lookup, corm_int(940));
    memset(lookup, 'x', sizeof lookup - 1);
    lookup[sizeof lookup - 1] = '\0';
    corm_order_by(qs, "id");
    assert_ids(qs, "4,5");
    corm_qs_free(qs);

    /* a text value's buffer too */
    char title[16];
    qs = corm_all(db, Book);
    snprintf(title, sizeof title, "1Q84");
    corm_filter(qs, "title", corm_text(title));
    snprintf(title, sizeof title, "Beowulf");
    assert_ids(qs, "5");
    corm_qs_free(qs);
}

/* More filters than the queryset's own area holds (the rest go to the
** build arena), with long lookups: the same rows as the short chain. */
static void test_many_filters(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    for (int i = 0; i < 12; i++) {
        corm_filter(qs, "pages__gte", corm_int(1 + i));
        corm_filter(qs, "publisher__isnull", corm_bool(false));
        corm_filter(qs, "author__name__icontains", corm_text(""));
    }
    corm_filter(qs, "pages__gt", corm_int(296));
    corm_order_by(qs, "id");
    assert_false(corm_qs_failed(qs));
    assert_ids(qs, "1,5");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "publisher__isnull", corm_bool(false));
    corm_filter(qs, "pages__gt", corm_int(296));
    assert_int_equal(corm_count(qs), 2);
    corm_qs_free(qs);
}

/* corm_filter and corm_filter_q of the same leaves: the same rows; and
** errors still stick (a NULL in a text list). */
static void test_filter_and_q_agree(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        corm_qs *a = corm_all(db, Book);
        corm_filter(a, "pages__gt", corm_int(296));
        corm_filter(a, "publisher__isnull", corm_bool(true));
        corm_order_by(a, "id");
        corm_qs *b = corm_all(db, Book);
        corm_filter_q(b, corm_q_new(b, "pages__gt", corm_int(296)));
        corm_filter_q(b, corm_q_new(b, "publisher__isnull", corm_bool(true)));
        corm_order_by(b, "id");
        assert_ids(a, "2,4");
        assert_ids(b, "2,4");
        corm_qs_free(a);
        corm_qs_free(b);
    }
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "title__in", corm_texts((const char *const[]){"1Q84", NULL}, 2));
    assert_true(corm_qs_failed(qs));
    assert_non_null(strstr(corm_qs_error(qs)->message, "element 1 of the text list is NULL"));
    corm_filter(qs, "pages__gt", corm_int(1)); /* the first error sticks */
    assert_non_null(strstr(corm_qs_error(qs)->message, "element 1"));
    assert_int_equal(corm_count(qs), -1);
    corm_qs_free(qs);
}

/* Shapes in a loop that differ in one thing the text depends on: each
** gets its own memo entry, none another's SQL. */
static void test_memo_shapes_apart(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "pages__gt", corm_int(928));
        assert_int_equal(corm_count(qs), 2);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "pages__gte", corm_int(928));
        assert_int_equal(corm_count(qs), 3);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "pages__gte", corm_int(0)); /* an int's zero: in the key */
        assert_int_equal(corm_count(qs), 6);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_exclude(qs, "pages__gt", corm_int(928));
        assert_int_equal(corm_count(qs), 4);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "pages__gt", corm_int(928));
        assert_int_equal(corm_exists(qs), 1);
        corm_qs_free(qs);
        /* the head: the number of ordering terms, only() against defer() */
        qs = corm_all(db, Book);
        corm_filter(qs, "pages__gt", corm_int(296));
        corm_order_by(qs, "-id");
        Book *b = corm_first(qs);
        assert_non_null(b);
        assert_int_equal(b->id, 5);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "pages__gt", corm_int(296));
        corm_order_by(qs, "author", "-id");
        assert_ids(qs, "2,1,5,4");
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "pk", corm_int(5));
        corm_only(qs, "title");
        b = corm_get(qs);
        assert_non_null(b);
        assert_string_equal(b->title, "1Q84");
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "pk", corm_int(5));
        corm_defer(qs, "title");
        b = corm_get(qs);
        assert_non_null(b);
        assert_int_equal(b->id, 5);
        corm_qs_free(qs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_buffer_reused),
        cmocka_unit_test(test_many_filters),
        cmocka_unit_test(test_filter_and_q_agree),
        cmocka_unit_test(test_memo_shapes_apart),
    };
    return cmocka_run_group_tests_name("qs_build", tests, setup, teardown);
}
