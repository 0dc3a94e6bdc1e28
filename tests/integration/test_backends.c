/*
** test_backends.c - where SQLite and PostgreSQL differ underneath and corm
** makes them behave the same (docs/postgresql.md): ids after explicit ids,
** NULLs in ordering, case in pattern lookups, date parts, booleans, `in`
** lists with awkward text, numbers and text round trips.  Runs on both.
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

static const char *ids(corm_qs *qs)
{
    static char keep[1024];
    snprintf(keep, sizeof keep, "%s", test_ids(qs));
    corm_qs_free(qs);
    return keep;
}

static const char *books_where(const char *lookup, corm_value v)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, lookup, v);
    corm_order_by(qs, "id");
    return ids(qs);
}

static void test_explicit_ids(void **state)
{
    (void)state;
    Genre g = CORM_NEW(Genre);
    g.id = 100;
    g.name = "Explicit";
    assert_int_equal(corm_create(db, &g), CORM_OK);
    /* the next generated id is past it, as SQLite's AUTOINCREMENT gives */
    Genre h = CORM_NEW(Genre);
    h.name = "Generated";
    assert_int_equal(corm_save(db, &h), CORM_OK);
    assert_int_equal(h.id, 101);
    /* a lower explicit id does not move it back */
    Genre k = CORM_NEW(Genre);
    k.id = 50;
    k.name = "Lower";
    assert_int_equal(corm_create(db, &k), CORM_OK);
    Genre l = CORM_NEW(Genre);
    l.name = "Next";
    assert_int_equal(corm_save(db, &l), CORM_OK);
    assert_int_equal(l.id, 102);
}

static void test_null_ordering(void **state)
{
    (void)state;
    Book b = CORM_NEW(Book);
    b.title = "Unpublished";
    b.author_id = 3;
    corm_set_null(&b, "publisher", true);
    corm_set_null(&b, "published_date", true);
    b.isbn = "9780000000099";
    b.description = "";
    assert_int_equal(corm_save(db, &b), CORM_OK);
    /* NULL first ascending, last descending, on both */
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "published_date");
    assert_string_equal(ids(qs), "7,6,2,1,3,4,5");
    qs = corm_all(db, Book);
    corm_order_by(qs, "-published_date");
    assert_string_equal(ids(qs), "5,4,3,1,2,6,7");
    /* through a nullable relation too (no publisher: NULL name) */
    qs = corm_all(db, Book);
    corm_order_by(qs, "publisher__name", "id");
    assert_string_equal(ids(qs), "2,4,6,7,1,3,5");
    qs = corm_all(db, Book);
    corm_order_by(qs, "-publisher__name", "id");
    assert_string_equal(ids(qs), "1,3,5,2,4,6,7");
    corm_qs *one = corm_all(db, Book);
    corm_order_by(one, "published_date");
    Book *first = corm_first(one);
    assert_non_null(first);
    assert_string_equal(first->title, "Unpublished");
    corm_qs_free(one);
    assert_int_equal(corm_delete(db, &b), CORM_OK);
}

static void test_lookups(void **state)
{
    (void)state;
    /* case: contains keeps it, icontains ignores it (ASCII) */
    assert_string_equal(books_where("title__contains", corm_text("wood")), "");
    assert_string_equal(books_where("title__contains", corm_text("Wood")), "3");
    assert_string_equal(books_where("title__startswith", corm_text("les")), "");
    assert_string_equal(books_where("title__istartswith", corm_text("les")), "1");
    assert_string_equal(books_where("title__iexact", corm_text("BEOWULF")), "6");
    assert_string_equal(books_where("title__endswith", corm_text("%")), "");
    /* pattern lookups on a date column */
    assert_string_equal(books_where("published_date__startswith", corm_text("19")), "3");
    assert_string_equal(books_where("published_date__contains", corm_text("-09-")), "3,4");
    /* date parts are integers */
    assert_string_equal(books_where("published_date__year__lt", corm_int(1862)), "2,6");
    assert_string_equal(
        books_where("published_date__month__in", corm_ints((const int64_t[]){1, 4}, 2)), "1,2,6");
    assert_string_equal(
        books_where("published_date__day__range", corm_range(corm_int(1), corm_int(4))), "1,3,6");
    /* booleans: a bool or an int */
    assert_string_equal(books_where("featured", corm_bool(false)), "1,2,3,4,5,6");
    assert_string_equal(books_where("featured", corm_int(1)), "");
    /* `in` lists with text that means something in array or SQL syntax */
    const char *odd[] = {"Beowulf", "a\"b", "c\\d", "{e,f}", "NULL", "'; DROP TABLE book; --"};
    assert_string_equal(books_where("title__in", corm_texts(odd, 6)), "6");
    static int64_t many[10000];
    for (int i = 0; i < 10000; i++) many[i] = 10000 - i;
    assert_string_equal(books_where("pk__in", corm_ints(many, 10000)), "1,2,3,4,5,6");
    corm_value mixed[] = {corm_int(296), corm_float(505.0)};
    assert_string_equal(books_where("pages__in", corm_vlist(mixed, 1)), "3");
    assert_string_equal(books_where("price__in", corm_vlist(mixed, 2)), "");
    corm_value prices[] = {corm_float(10.5), corm_int(12)};
    assert_string_equal(books_where("price__in", corm_vlist(prices, 2)), "1");
}

static void test_round_trips(void **state)
{
    (void)state;
    Author a = CORM_NEW(Author);
    a.name = "Ünïcødé 'quoted' \"double\" back\\slash %_*?[";
    a.email = "x@example.com";
    corm_set_null(&a, "country", true);
    a.bio = "line one\nline two\ttab";
    assert_int_equal(corm_save(db, &a), CORM_OK);
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "name", corm_text(a.name));
    Author *got = corm_get(qs);
    assert_non_null(got);
    assert_string_equal(got->name, a.name);
    assert_string_equal(got->bio, a.bio);
    assert_true(corm_is_null(got, "country"));
    corm_qs_free(qs);
    /* decimals and integers */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    Book *b = corm_qs_at(qs, 0);
    assert_int_equal(corm_dec_cmp(b->price, corm_dec("10.50")), 0);
    assert_int_equal(b->pages, 1400);
    assert_string_equal(b->published_date, "1862-04-03");
    assert_false(b->featured);
    corm_qs_free(qs);
    /* count and exists */
    qs = corm_all(db, Book);
    corm_filter(qs, "author__name__icontains", corm_text("HUGO"));
    assert_int_equal(corm_count(qs), 2);
    assert_int_equal(corm_exists(qs), 1);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explicit_ids),
        cmocka_unit_test(test_null_ordering),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests_name("backends", tests, setup, teardown);
}
