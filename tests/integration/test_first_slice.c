/*
** test_first_slice.c - corm_first / corm_last on a sliced queryset, by
** Django's rules (first() is qs[:1] on an ordered queryset, else
** order_by("pk")[:1]; last() reverses): the first of an ordered slice is
** its first row; an unordered slice, or corm_last on any slice, is refused
** with no query, as Django's "Cannot reorder / reverse a query once a
** slice has been taken".
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

static void test_first_of_ordered_slice(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "-pages");
    corm_slice(qs, 2, 5); /* 1400 940 [928 505 296] 200 */
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 1) { b = corm_first(qs); }
    assert_non_null(b);
    assert_string_equal(b->title, "1Q84");
    corm_qs_free(qs);
    /* an offset alone */
    qs = corm_all(db, Book);
    corm_order_by(qs, "title");
    corm_slice(qs, 1, -1);
    b = corm_first(qs);
    assert_non_null(b);
    assert_string_equal(b->title, "Beowulf"); /* 1Q84, [Beowulf, ...] */
    corm_qs_free(qs);
    /* an empty ordered slice: nothing, no query */
    qs = corm_all(db, Book);
    corm_order_by(qs, "title");
    corm_slice(qs, 3, 3);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(corm_first(qs)); }
    assert_false(corm_qs_failed(qs));
    corm_qs_free(qs);
}

static void test_refused(void **state)
{
    (void)state;
    /* unordered and sliced: which row is first is the database's choice */
    corm_qs *qs = corm_all(db, Book);
    corm_slice(qs, 2, 5);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(corm_first(qs)); }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_string_equal(corm_qs_error(qs)->message,
                        "corm_first() on a sliced queryset without an ordering: cannot reorder "
                        "a query once a slice has been taken");
    assert_non_null(strstr(corm_qs_error(qs)->hint, "order it before corm_slice"));
    assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    corm_qs_free(qs);
    /* the default ordering cleared counts as unordered, as Django's
    ** order_by() */
    qs = corm_all(db, Book);
    corm_order_by_v(qs, NULL);
    corm_slice(qs, 0, 2);
    assert_null(corm_first(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    corm_qs_free(qs);
    /* last() of any slice, even ordered, even an offset alone */
    qs = corm_all(db, Book);
    corm_order_by(qs, "title");
    corm_slice(qs, 1, -1);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(corm_last(qs)); }
    assert_string_equal(corm_qs_error(qs)->message,
                        "corm_last() on a sliced queryset: cannot reverse a query once a slice "
                        "has been taken");
    corm_qs_free(qs);
    /* unsliced and unordered: by pk, as before */
    qs = corm_all(db, Book);
    corm_filter(qs, "pages__lt", corm_int(1000));
    Book *b = corm_first(qs);
    assert_non_null(b);
    assert_int_equal(b->id, 2);
    b = corm_last(qs);
    assert_non_null(b);
    assert_int_equal(b->id, 6);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_of_ordered_slice),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests_name("first_slice", tests, setup, teardown);
}
