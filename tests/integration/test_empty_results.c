/*
** test_empty_results.c - a queryset that matches nothing whatever the data
** (an `in` of an empty list, an empty slice [n:n]) runs no query at any
** entry point that evaluates it, as Django's EmptyResultSet (the compiler
** raises it, execute_sql answers an empty result without a statement):
** corm_iterator, corm_first / corm_last, corm_get (DoesNotExist), in_bulk
** of an empty list, the Paginator's count and pages, keyset pages, and a
** prefetch level whose Prefetch queryset matches nothing.  A mistake in
** such a queryset is still reported (it is compiled all the same).
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

static const char key[] = "0123456789abcdef-empty";

static corm_qs *no_books(void)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "id__in", corm_ints(NULL, 0));
    return qs;
}

static void test_iterator(void **state)
{
    (void)state;
    corm_qs *qs = no_books();
    corm_iter *it;
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        it = corm_iterator(qs, 2);
        assert_non_null(it);
        assert_null(corm_iter_next(it));
        assert_null(corm_iter_next(it));
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
    /* an empty slice, with a prefetch: nothing to prefetch either */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "genres");
    corm_slice(qs, 3, 3);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        it = corm_iterator(qs, 0);
        assert_null(corm_iter_next(it));
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
    /* `in []` under a negation matches everything: a query, every row */
    qs = corm_all(db, Book);
    corm_exclude(qs, "id__in", corm_ints(NULL, 0));
    corm_order_by(qs, "id");
    int n = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        it = corm_iterator(qs, 100);
        while (corm_iter_next(it)) n++;
    }
    assert_int_equal(n, 6);
    corm_iter_free(it);
    corm_qs_free(qs);
}

/* compiled all the same: an unknown field is reported, with no query */
static void test_mistake_still_reported(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "no_such_field__in", corm_ints(NULL, 0));
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        corm_iter *it = corm_iterator(qs, 2);
        assert_null(corm_iter_next(it));
        corm_iter_free(it);
    }
    assert_int_not_equal(corm_qs_error(qs)->rc, CORM_OK);
    assert_non_null(strstr(corm_qs_error(qs)->message, "no_such_field"));
    corm_qs_free(qs);
}

static void test_first_last_get(void **state)
{
    (void)state;
    corm_qs *qs = no_books();
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_null(corm_first(qs));
        assert_null(corm_last(qs));
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_qs_free(qs);
    /* ordered, with a prefetch: still nothing */
    qs = no_books();
    corm_order_by(qs, "-pages");
    corm_prefetch_related(qs, "genres");
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_null(corm_first(qs));
        assert_null(corm_last(qs));
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_qs_free(qs);
    /* get: DoesNotExist with no query, as Django */
    qs = no_books();
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(corm_get(qs)); }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_NOTFOUND);
    assert_string_equal(corm_qs_error(qs)->message, "Book matching query does not exist");
    corm_qs_free(qs);
    /* an `in []` ORed with a real condition is not empty: one query */
    qs = corm_all(db, Book);
    corm_filter_q(qs, corm_q_or(qs, corm_q_new(qs, "id__in", corm_ints(NULL, 0)),
                                corm_q_new(qs, "id", corm_int(3))));
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 1) { b = corm_get(qs); }
    assert_non_null(b);
    assert_string_equal(b->title, "Norwegian Wood");
    corm_qs_free(qs);
}

static void test_in_bulk(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_in_bulk(qs, NULL, 0), CORM_OK); }
    assert_null(corm_in_bulk_get(qs, corm_int(1)));
    corm_qs_free(qs);
    /* every object of a queryset that matches nothing */
    qs = no_books();
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_in_bulk_all(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 0);
    assert_null(corm_in_bulk_get(qs, corm_int(1)));
    corm_qs_free(qs);
}

static void test_paginator(void **state)
{
    (void)state;
    corm_qs *qs = no_books();
    corm_order_by(qs, "id");
    corm_paginator *p = corm_paginator_new(qs, 4, 0, true);
    assert_non_null(p);
    corm_page *pg;
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_paginator_count(p), 0);
        assert_int_equal(corm_paginator_num_pages(p), 1); /* allow_empty_first_page */
        pg = corm_paginator_page(p, 1);
        assert_non_null(pg);
        assert_int_equal(corm_eval(pg->objects), CORM_OK);
    }
    assert_int_equal(corm_qs_len(pg->objects), 0);
    assert_int_equal(pg->start_index, 0);
    assert_false(pg->has_next);
    corm_page_free(pg);
    corm_paginator_free(p);
    corm_qs_free(qs);
}

static void test_keyset(void **state)
{
    (void)state;
    corm_qs *qs = no_books();
    corm_order_by(qs, "title");
    corm_keyset_page *pg;
    CORM_ASSERT_NUM_QUERIES(db, 0) { pg = corm_keyset_page(qs, 2, NULL, key, sizeof key - 1); }
    assert_non_null(pg);
    assert_int_equal(corm_qs_len(pg->objects), 0);
    assert_false(pg->has_next);
    assert_null(pg->next_cursor);
    corm_keyset_page_free(pg);
    CORM_ASSERT_NUM_QUERIES(db, 0) { pg = corm_keyset_last_page(qs, 2, key, sizeof key - 1); }
    assert_non_null(pg);
    assert_int_equal(corm_qs_len(pg->objects), 0);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

/* A Prefetch whose queryset matches nothing: the level runs no query, every
** parent gets an empty list, and the levels under it have nothing to load. */
static void test_prefetch_level(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    corm_qs *inner = corm_all(db, Book);
    corm_filter(inner, "id__in", corm_ints(NULL, 0));
    corm_prefetch_related(inner, "genres");
    corm_prefetch(qs, "books", inner, "none");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 4);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        for (size_t i = 0; i < corm_qs_len(qs); i++) {
            const corm_list *l = corm_attr(corm_qs_at(qs, i), "none");
            assert_non_null(l);
            assert_int_equal(l->n, 0);
        }
    }
    corm_qs_free(qs);
    /* into the relation's cache, through the iterator (one level per chunk) */
    qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    inner = corm_all(db, Book);
    corm_slice(inner, 0, 0);
    corm_prefetch(qs, "books", inner, NULL);
    int authors = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_iter *it = corm_iterator(qs, 10);
        Author *a;
        while ((a = corm_iter_next(it))) {
            authors++;
            assert_int_equal(author_books(a)->n, 0);
        }
        corm_iter_free(it);
    }
    assert_int_equal(authors, 4);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_qs_free(qs);
    /* a Prefetch that matches nothing by the data: its query runs */
    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_filter(inner, "pages__gt", corm_int(100000));
    corm_prefetch(qs, "books", inner, "none");
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_int_equal(corm_eval(qs), CORM_OK); }
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iterator),       cmocka_unit_test(test_mistake_still_reported),
        cmocka_unit_test(test_first_last_get), cmocka_unit_test(test_in_bulk),
        cmocka_unit_test(test_paginator),      cmocka_unit_test(test_keyset),
        cmocka_unit_test(test_prefetch_level),
    };
    return cmocka_run_group_tests_name("empty_results", tests, setup, teardown);
}
