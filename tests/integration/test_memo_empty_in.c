/*
** test_memo_empty_in.c - count() and exists() through the compiled-SQL
** memo answer "nothing to count" (an `in` of an empty list, a slice [n:n])
** without a statement exactly as they did when they walked the where tree
** each time: the memo's key walk says whether the tree has an empty list,
** and a hit of a shape without one reads only the limit.  Each shape is run
** several times (a miss, then hits), alternating with shapes that differ
** only in the list's emptiness, under a negation and under an OR.
*/
#include "test.h"

static corm_db *db;
static int64_t nbooks;

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    corm_qs *qs = corm_all(db, Book);
    nbooks = corm_count(qs);
    corm_qs_free(qs);
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static const int64_t some[] = {1, 2, 3};

/* id__in some (n items) or an empty list; negated when `not` */
static corm_qs *by_ids(size_t n, bool not )
{
    corm_qs *qs = corm_all(db, Book);
    if (not ) corm_exclude(qs, "id__in", corm_ints(some, n));
    else corm_filter(qs, "id__in", corm_ints(some, n));
    return qs;
}

static void expect_count(corm_qs *qs, int64_t want, int queries)
{
    int64_t got = -1;
    CORM_ASSERT_NUM_QUERIES(db, queries) { got = corm_count(qs); }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    assert_int_equal(got, want);
    corm_qs_free(qs);
}

static void expect_exists(corm_qs *qs, int want, int queries)
{
    int got = -1;
    CORM_ASSERT_NUM_QUERIES(db, queries) { got = corm_exists(qs); }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    assert_int_equal(got, want);
    corm_qs_free(qs);
}

static void test_in_lists(void **state)
{
    (void)state;
    assert_true(nbooks >= 3);
    for (int round = 0; round < 3; round++) {
        expect_count(by_ids(0, false), 0, 0);
        expect_count(by_ids(3, false), 3, 1);
        expect_count(by_ids(0, false), 0, 0);
        expect_exists(by_ids(0, false), 0, 0);
        expect_exists(by_ids(1, false), 1, 1);
        expect_exists(by_ids(0, false), 0, 0);
        /* `in []` negated matches every row: a query */
        expect_count(by_ids(0, true), nbooks, 1);
        expect_count(by_ids(3, true), nbooks - 3, 1);
        expect_exists(by_ids(0, true), 1, 1);
    }
}

static void test_trees(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        /* an empty `in` ANDed to an int leaf: nothing; ORed: the int leaf */
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "id__gt", corm_int(0));
        corm_filter(qs, "id__in", corm_ints(some, 0));
        expect_count(qs, 0, 0);
        qs = corm_all(db, Book);
        corm_filter(qs, "id__gt", corm_int(0));
        corm_filter(qs, "id__in", corm_ints(some, 2));
        expect_count(qs, 2, 1);
        qs = corm_all(db, Book);
        corm_filter_q(qs, corm_q_or(qs, corm_q_new(qs, "id__in", corm_ints(some, 0)),
                                    corm_q_new(qs, "id__gt", corm_int(0))));
        expect_count(qs, nbooks, 1);
        qs = corm_all(db, Book);
        corm_filter_q(qs, corm_q_or(qs, corm_q_new(qs, "id__in", corm_ints(some, 0)),
                                    corm_q_new(qs, "id__in", corm_ints(some, 0))));
        expect_exists(qs, 0, 0);
        qs = corm_all(db, Book);
        corm_filter_q(qs, corm_q_not(qs, corm_q_or(qs, corm_q_new(qs, "id__in", corm_ints(some, 0)),
                                                   corm_q_new(qs, "id__gt", corm_int(0)))));
        expect_count(qs, 0, 1);
    }
}

static void test_slices(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        /* the same int-leaf shape, sliced empty and not */
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "id__gt", corm_int(0));
        corm_slice(qs, 1, 1);
        expect_count(qs, 0, 0);
        qs = corm_all(db, Book);
        corm_filter(qs, "id__gt", corm_int(0));
        corm_slice(qs, 0, 2);
        expect_count(qs, 2, 1);
        qs = corm_all(db, Book);
        corm_filter(qs, "id__gt", corm_int(0));
        corm_slice(qs, 2, 2);
        expect_exists(qs, 0, 0);
        qs = corm_all(db, Book);
        corm_filter(qs, "id__gt", corm_int(0));
        expect_exists(qs, 1, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_lists),
        cmocka_unit_test(test_trees),
        cmocka_unit_test(test_slices),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
