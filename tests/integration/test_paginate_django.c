/*
** test_paginate_django.c - the Paginator against Django's own pagination
** tests (tests/pagination): count and num_pages for 0, 1, 9, 10 and 11
** objects with every orphans and allow_empty_first_page combination, the
** first and last pages' start and end indexes, every page's objects (one
** query each), page numbers as Django's int() reads them (surrounding
** spaces, a sign, numbers past the last page however large), get_page on
** an empty list without an empty first page, a sliced queryset, and a
** queryset that cannot run.
*/
#include "test.h"

#include <string.h>

static corm_db *db;

/* Eleven books: the fixture's six and five more (ids 7..11). */
static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    for (int i = 7; i <= 11; i++) {
        Book b = CORM_NEW(Book);
        char title[24], isbn[32];
        snprintf(title, sizeof title, "Book %d", i);
        snprintf(isbn, sizeof isbn, "97800000001%02d", i);
        b.title = title;
        b.author_id = 1;
        corm_set_null(&b, "publisher", true);
        corm_set_null(&b, "published_date", true);
        b.isbn = isbn;
        b.pages = i;
        b.description = "";
        b.price = corm_dec("1.00");
        assert_int_equal(corm_save(db, &b), CORM_OK);
    }
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* The first n books by id. */
static corm_qs *first_books(int n)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "id__lte", corm_int(n));
    corm_order_by(qs, "id");
    return qs;
}

static corm_paginator *paginator(int n, int64_t per_page, int64_t orphans, bool allow_empty)
{
    corm_qs *qs = first_books(n);
    corm_paginator *p = corm_paginator_new(qs, per_page, orphans, allow_empty);
    corm_qs_free(qs);
    assert_non_null(p);
    return p;
}

/* Django's test_paginator: (objects, per_page, orphans, allow_empty_first_page)
** -> (count, num_pages). */
static void test_count_and_num_pages(void **state)
{
    (void)state;
    static const struct {
        int n, per_page, orphans;
        bool allow;
        int count, pages;
    } cases[] = {
        /* ten objects, varying orphans, with and without an empty first page */
        {10, 4, 0, false, 10, 3},
        {10, 4, 1, false, 10, 3},
        {10, 4, 2, false, 10, 2},
        {10, 4, 5, false, 10, 2},
        {10, 4, 6, false, 10, 1},
        {10, 4, 0, true, 10, 3},
        {10, 4, 1, true, 10, 3},
        {10, 4, 2, true, 10, 2},
        {10, 4, 5, true, 10, 2},
        {10, 4, 6, true, 10, 1},
        /* one object */
        {1, 4, 0, false, 1, 1},
        {1, 4, 1, false, 1, 1},
        {1, 4, 2, false, 1, 1},
        {1, 4, 0, true, 1, 1},
        {1, 4, 1, true, 1, 1},
        {1, 4, 2, true, 1, 1},
        /* none */
        {0, 4, 0, false, 0, 0},
        {0, 4, 1, false, 0, 0},
        {0, 4, 2, false, 0, 0},
        {0, 4, 0, true, 0, 1},
        {0, 4, 1, true, 0, 1},
        {0, 4, 2, true, 0, 1},
        /* one less than per_page, equal, one more, one more with an orphan */
        {0, 1, 0, true, 0, 1},
        {0, 1, 0, false, 0, 0},
        {1, 2, 0, true, 1, 1},
        {9, 10, 0, true, 9, 1},
        {1, 1, 0, true, 1, 1},
        {2, 2, 0, true, 2, 1},
        {10, 10, 0, true, 10, 1},
        {2, 1, 0, true, 2, 2},
        {3, 2, 0, true, 3, 2},
        {11, 10, 0, true, 11, 2},
        {2, 1, 1, true, 2, 1},
        {3, 2, 1, true, 3, 1},
        {11, 10, 1, true, 11, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_paginator *p =
            paginator(cases[i].n, cases[i].per_page, cases[i].orphans, cases[i].allow);
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            if (corm_paginator_count(p) != cases[i].count ||
                corm_paginator_num_pages(p) != cases[i].pages)
                fail_msg("case %zu (%d objects, per_page %d, orphans %d, allow %d): count %lld, "
                         "%lld pages; want %d, %d",
                         i, cases[i].n, cases[i].per_page, cases[i].orphans, cases[i].allow,
                         (long long)corm_paginator_count(p), (long long)corm_paginator_num_pages(p),
                         cases[i].count, cases[i].pages);
        }
        corm_paginator_free(p);
    }
}

/* Django's test_page_indexes: the first and the last page's start and end
** index; and every page's objects, one query each, cover the list once. */
static void test_page_indexes_and_objects(void **state)
{
    (void)state;
    static const struct {
        int n, per_page, orphans;
        bool allow;
        int first_start, first_end, last_start, last_end;
    } cases[] = {
        {10, 1, 0, true, 1, 1, 10, 10}, {10, 2, 0, true, 1, 2, 9, 10},
        {10, 3, 0, true, 1, 3, 10, 10}, {10, 5, 0, true, 1, 5, 6, 10},
        {10, 1, 1, true, 1, 1, 9, 10},  {10, 1, 2, true, 1, 1, 8, 10},
        {10, 3, 1, true, 1, 3, 7, 10},  {10, 3, 2, true, 1, 3, 7, 10},
        {10, 3, 4, true, 1, 3, 4, 10},  {10, 5, 1, true, 1, 5, 6, 10},
        {10, 5, 2, true, 1, 5, 6, 10},  {10, 5, 5, true, 1, 10, 1, 10},
        {1, 4, 0, false, 1, 1, 1, 1},   {1, 4, 1, false, 1, 1, 1, 1},
        {1, 4, 2, false, 1, 1, 1, 1},   {1, 4, 0, true, 1, 1, 1, 1},
        {1, 4, 1, true, 1, 1, 1, 1},    {1, 4, 2, true, 1, 1, 1, 1},
        {0, 4, 0, true, 0, 0, 0, 0},    {0, 4, 1, true, 0, 0, 0, 0},
        {0, 4, 2, true, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_paginator *p =
            paginator(cases[i].n, cases[i].per_page, cases[i].orphans, cases[i].allow);
        int64_t pages = corm_paginator_num_pages(p);
        corm_page *first = corm_paginator_page(p, 1), *last = corm_paginator_page(p, pages);
        assert_non_null(first);
        assert_non_null(last);
        if (first->start_index != cases[i].first_start || first->end_index != cases[i].first_end ||
            last->start_index != cases[i].last_start || last->end_index != cases[i].last_end)
            fail_msg("case %zu: first %lld-%lld, last %lld-%lld", i, (long long)first->start_index,
                     (long long)first->end_index, (long long)last->start_index,
                     (long long)last->end_index);
        assert_int_equal(first->has_previous, false);
        assert_int_equal(last->has_next, false);
        corm_page_free(first);
        corm_page_free(last);
        /* every page: its objects are its indexes, one query each */
        char all[512] = "", want[512] = "";
        for (int id = 1; id <= cases[i].n; id++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", id > 1 ? "," : "",
                     id);
        for (int64_t k = 1; k <= pages; k++) {
            corm_page *pg = corm_paginator_page(p, k);
            char ids[256];
            /* an empty page is the slice [0:0]: no query, as Django's
            ** qs[0:0] (set_empty) */
            CORM_ASSERT_NUM_QUERIES(db, cases[i].n > 0 ? 1 : 0)
            {
                snprintf(ids, sizeof ids, "%s", test_ids(pg->objects));
            }
            char idx[256] = "";
            for (int64_t id = pg->start_index; id && id <= pg->end_index; id++)
                snprintf(idx + strlen(idx), sizeof idx - strlen(idx), "%s%lld",
                         id > pg->start_index ? "," : "", (long long)id);
            assert_string_equal(ids, idx);
            assert_int_equal(pg->has_next, k < pages);
            assert_int_equal(pg->has_previous, k > 1);
            if (*ids)
                snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", *all ? "," : "", ids);
            corm_page_free(pg);
        }
        assert_string_equal(all, want);
        corm_paginator_free(p);
    }
}

/* Page numbers from text as Django's int() reads them. */
static void test_page_numbers_as_text(void **state)
{
    (void)state;
    corm_paginator *p = paginator(10, 4, 0, true); /* 3 pages */
    static const struct {
        const char *text;
        int64_t page; /* 0: an error */
        corm_rc rc;
        const char *msg;
    } cases[] = {
        {"2", 2, CORM_OK, NULL},
        {"+2", 2, CORM_OK, NULL},
        {" 3", 3, CORM_OK, NULL},
        {"3 \t\n", 3, CORM_OK, NULL},
        {"0", 0, CORM_NOTFOUND, "That page number is less than 1"},
        {"-1", 0, CORM_NOTFOUND, "That page number is less than 1"},
        {"4", 0, CORM_NOTFOUND, "That page contains no results"},
        /* an integer however large is an integer: past the last page */
        {"99999999999999999999999", 0, CORM_NOTFOUND, "That page contains no results"},
        {"-99999999999999999999999", 0, CORM_NOTFOUND, "That page number is less than 1"},
        {"", 0, CORM_INVALID, "PageNotAnInteger"},
        {" ", 0, CORM_INVALID, "PageNotAnInteger"},
        {"1.0", 0, CORM_INVALID, "PageNotAnInteger"},
        {"2 2", 0, CORM_INVALID, "PageNotAnInteger"},
        {"0x2", 0, CORM_INVALID, "PageNotAnInteger"},
        {"+", 0, CORM_INVALID, "PageNotAnInteger"},
        {NULL, 0, CORM_INVALID, "PageNotAnInteger"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_page *pg = corm_paginator_page_str(p, cases[i].text);
        const corm_error *e = corm_paginator_error(p);
        if (cases[i].page) {
            if (!pg) fail_msg("'%s': %s", cases[i].text, e->message);
            assert_int_equal(pg->number, cases[i].page);
            corm_page_free(pg);
            continue;
        }
        assert_null(pg);
        if (e->rc != cases[i].rc || !strstr(e->message, cases[i].msg))
            fail_msg("'%s': %s (%s)", cases[i].text ? cases[i].text : "NULL", e->message,
                     corm_rc_name(e->rc));
    }
    /* get_page: past the end is the last page, not an integer the first */
    corm_page *pg = corm_paginator_get_page(p, "99999999999999999999999");
    assert_int_equal(pg->number, 3);
    corm_page_free(pg);
    pg = corm_paginator_get_page(p, " 2 ");
    assert_int_equal(pg->number, 2);
    corm_page_free(pg);
    corm_paginator_free(p);
}

/* Django's test_get_page_empty_object_list_and_allow_empty_first_page_false:
** get_page raises EmptyPage (page(num_pages) is page(0)). */
static void test_get_page_no_pages(void **state)
{
    (void)state;
    corm_paginator *p = paginator(0, 2, 0, false);
    assert_null(corm_paginator_get_page(p, "1"));
    assert_int_equal(corm_paginator_error(p)->rc, CORM_NOTFOUND);
    assert_non_null(strstr(corm_paginator_error(p)->message, "That page number is less than 1"));
    assert_null(corm_paginator_get_page(p, "x"));
    assert_int_equal(corm_paginator_error(p)->rc, CORM_NOTFOUND);
    corm_paginator_free(p);
    /* with an empty first page, get_page gives it */
    p = paginator(0, 2, 0, true);
    corm_page *pg = corm_paginator_get_page(p, "7");
    assert_non_null(pg);
    assert_int_equal(pg->number, 1);
    assert_string_equal(test_ids(pg->objects), "");
    corm_page_free(pg);
    corm_paginator_free(p);
}

/* A sliced queryset pages within its slice, as Django's paginator does on
** qs[1:6]: count 5, and each page a slice of the slice. */
static void test_sliced_queryset(void **state)
{
    (void)state;
    corm_qs *qs = first_books(11);
    corm_slice(qs, 1, 6); /* ids 2..6 */
    corm_paginator *p = corm_paginator_new(qs, 2, 0, true);
    corm_qs_free(qs);
    assert_int_equal(corm_paginator_count(p), 5);
    assert_int_equal(corm_paginator_num_pages(p), 3);
    const char *want[] = {"2,3", "4,5", "6"};
    for (int k = 1; k <= 3; k++) {
        corm_page *pg = corm_paginator_page(p, k);
        assert_string_equal(test_ids(pg->objects), want[k - 1]);
        corm_page_free(pg);
    }
    corm_paginator_free(p);
}

/* A queryset that cannot run: -1 and its error on the paginator, no page. */
static void test_database_error(void **state)
{
    (void)state;
    corm_qs *qs = first_books(11);
    corm_filter(qs, "no_such_field", corm_int(1));
    corm_paginator *p = corm_paginator_new(qs, 2, 0, true);
    corm_qs_free(qs);
    assert_non_null(p);
    assert_int_equal(corm_paginator_count(p), -1);
    assert_int_not_equal(corm_paginator_error(p)->rc, CORM_OK);
    assert_int_equal(corm_paginator_num_pages(p), -1);
    assert_null(corm_paginator_page(p, 1));
    assert_int_not_equal(corm_paginator_error(p)->rc, CORM_OK);
    corm_paginator_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_and_num_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_indexes_and_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_numbers_as_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_page_no_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sliced_queryset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
