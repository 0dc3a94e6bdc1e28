/*
** test_paginate.c - Django's Paginator over a queryset: counts (one COUNT,
** cached), pages with orphans, empty lists, invalid page numbers and the
** warning for an unordered queryset.
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

static corm_qs *books_by_id(void)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    return qs;
}

static void test_pages(void **state)
{
    (void)state;
    corm_qs *qs = books_by_id();
    corm_paginator *p = corm_paginator_new(qs, 4, 0, true);
    corm_qs_free(qs); /* the paginator has its own copy */
    assert_non_null(p);
    assert_null(corm_paginator_warning(p));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_paginator_count(p), 6);
        assert_int_equal(corm_paginator_num_pages(p), 2);
        assert_int_equal(corm_paginator_count(p), 6);
    }
    corm_page *pg = corm_paginator_page(p, 1);
    assert_non_null(pg);
    assert_int_equal(pg->number, 1);
    assert_true(pg->has_next);
    assert_false(pg->has_previous);
    assert_int_equal(pg->start_index, 1);
    assert_int_equal(pg->end_index, 4);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(pg->objects, "1,2,3,4"); }
    corm_page_free(pg);
    pg = corm_paginator_page(p, 2);
    assert_false(pg->has_next);
    assert_true(pg->has_previous);
    assert_int_equal(pg->start_index, 5);
    assert_int_equal(pg->end_index, 6);
    assert_ids(pg->objects, "5,6");
    corm_page_free(pg);
    corm_paginator_free(p);
}

static void test_orphans(void **state)
{
    (void)state;
    corm_qs *qs = books_by_id();
    /* 6 objects, 4 per page: a last page of 2 <= orphans is merged */
    corm_paginator *p = corm_paginator_new(qs, 4, 2, true);
    assert_int_equal(corm_paginator_num_pages(p), 1);
    corm_page *pg = corm_paginator_page(p, 1);
    assert_false(pg->has_next);
    assert_int_equal(pg->end_index, 6);
    assert_ids(pg->objects, "1,2,3,4,5,6");
    corm_page_free(pg);
    corm_paginator_free(p);
    /* orphans = 1: two pages, the last with 2 */
    p = corm_paginator_new(qs, 4, 1, true);
    assert_int_equal(corm_paginator_num_pages(p), 2);
    pg = corm_paginator_page(p, 2);
    assert_ids(pg->objects, "5,6");
    corm_page_free(pg);
    corm_paginator_free(p);
    /* 5 per page, orphans 1: the sixth object joins page 1 */
    p = corm_paginator_new(qs, 5, 1, true);
    assert_int_equal(corm_paginator_num_pages(p), 1);
    pg = corm_paginator_page(p, 1);
    assert_ids(pg->objects, "1,2,3,4,5,6");
    corm_page_free(pg);
    corm_paginator_free(p);
    corm_qs_free(qs);
}

static void test_empty(void **state)
{
    (void)state;
    corm_qs *qs = books_by_id();
    corm_filter(qs, "pages__gt", corm_int(100000));
    corm_paginator *p = corm_paginator_new(qs, 10, 0, true);
    assert_int_equal(corm_paginator_count(p), 0);
    assert_int_equal(corm_paginator_num_pages(p), 1);
    corm_page *pg = corm_paginator_page(p, 1);
    assert_non_null(pg);
    assert_int_equal(pg->start_index, 0);
    assert_int_equal(pg->end_index, 0);
    assert_false(pg->has_next);
    assert_ids(pg->objects, "");
    corm_page_free(pg);
    corm_paginator_free(p);
    /* allow_empty_first_page false: no pages at all */
    p = corm_paginator_new(qs, 10, 0, false);
    assert_int_equal(corm_paginator_num_pages(p), 0);
    assert_null(corm_paginator_page(p, 1));
    assert_int_equal(corm_paginator_error(p)->rc, CORM_NOTFOUND);
    assert_non_null(strstr(corm_paginator_error(p)->message, "That page contains no results"));
    corm_paginator_free(p);
    corm_qs_free(qs);
}

static void test_invalid_pages(void **state)
{
    (void)state;
    corm_qs *qs = books_by_id();
    corm_paginator *p = corm_paginator_new(qs, 4, 0, true);
    assert_null(corm_paginator_page(p, 0));
    assert_int_equal(corm_paginator_error(p)->rc, CORM_NOTFOUND);
    assert_non_null(
        strstr(corm_paginator_error(p)->message, "EmptyPage: That page number is less than 1"));
    assert_null(corm_paginator_page(p, 3));
    assert_non_null(
        strstr(corm_paginator_error(p)->message, "That page contains no results (page 3 of 2)"));
    assert_non_null(strstr(corm_paginator_error(p)->hint, "corm_paginator_get_page"));
    const char *bad[] = {"x", "", "1.5", "2a", NULL};
    for (int i = 0; i < 5; i++) {
        assert_null(corm_paginator_page_str(p, bad[i]));
        assert_int_equal(corm_paginator_error(p)->rc, CORM_INVALID);
        assert_non_null(strstr(corm_paginator_error(p)->message, "PageNotAnInteger"));
    }
    corm_page *pg = corm_paginator_page_str(p, "2");
    assert_int_equal(corm_paginator_error(p)->rc, CORM_OK);
    assert_int_equal(pg->number, 2);
    corm_page_free(pg);
    /* get_page: lenient, as Django's */
    pg = corm_paginator_get_page(p, "x");
    assert_int_equal(pg->number, 1);
    corm_page_free(pg);
    pg = corm_paginator_get_page(p, "99");
    assert_int_equal(pg->number, 2);
    corm_page_free(pg);
    pg = corm_paginator_get_page(p, "-3");
    assert_int_equal(pg->number, 2);
    corm_page_free(pg);
    corm_paginator_free(p);
    /* bad arguments */
    assert_null(corm_paginator_new(qs, 0, 0, true));
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "per_page must be at least 1"));
    assert_null(corm_paginator_new(qs, 2, -1, true));
    assert_non_null(strstr(corm_db_error(db)->message, "orphans must not be negative"));
    corm_qs_free(qs);
}

static void test_unordered_warning(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_paginator *p = corm_paginator_new(qs, 2, 0, true);
    assert_non_null(corm_paginator_warning(p));
    assert_non_null(strstr(corm_paginator_warning(p), "unordered object_list: Book"));
    assert_non_null(strstr(corm_paginator_warning(p), "test_paginate.c"));
    corm_paginator_free(p);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_orphans),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_invalid_pages),
        cmocka_unit_test(test_unordered_warning),
    };
    return cmocka_run_group_tests_name("paginate", tests, setup, teardown);
}
