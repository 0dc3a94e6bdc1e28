/*
** test_queryset.c - the lazy QuerySet core on a real database: lookups,
** Q trees, ordering, slicing, get/first/last/count/exists, evaluation
** caching, lazy accessors, select_related and their exact query counts.
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

/* ids of Book filtered by one lookup, ordered by id */
static const char *books_where(const char *lookup, corm_value v)
{
    static char keep[1024];
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, lookup, v);
    corm_order_by(qs, "id");
    snprintf(keep, sizeof keep, "%s", test_ids(qs));
    corm_qs_free(qs);
    return keep;
}

static void test_lookups(void **state)
{
    (void)state;
    assert_string_equal(books_where("title", corm_text("1Q84")), "5");
    assert_string_equal(books_where("title__exact", corm_text("1q84")), "");
    assert_string_equal(books_where("title__iexact", corm_text("1q84")), "5");
    assert_string_equal(books_where("title__contains", corm_text("Wood")), "3");
    assert_string_equal(books_where("title__contains", corm_text("wood")), "");
    assert_string_equal(books_where("title__icontains", corm_text("wood")), "3");
    assert_string_equal(books_where("title__startswith", corm_text("Nor")), "3");
    assert_string_equal(books_where("title__istartswith", corm_text("no")), "2,3");
    assert_string_equal(books_where("title__endswith", corm_text("Shore")), "4");
    assert_string_equal(books_where("title__iendswith", corm_text("SHORE")), "4");
    assert_string_equal(books_where("pages__gt", corm_int(928)), "1,2");
    assert_string_equal(books_where("pages__gte", corm_int(928)), "1,2,5");
    assert_string_equal(books_where("pages__lt", corm_int(296)), "6");
    assert_string_equal(books_where("pages__lte", corm_int(296)), "3,6");
    assert_string_equal(books_where("id__in", corm_ints((const int64_t[]){2, 4, 99}, 3)), "2,4");
    assert_string_equal(books_where("pk__in", corm_ints(NULL, 0)), "");
    assert_string_equal(
        books_where("title__in", corm_texts((const char *const[]){"1Q84", "Beowulf"}, 2)), "5,6");
    assert_string_equal(books_where("publisher__isnull", corm_bool(true)), "2,4,6");
    assert_string_equal(books_where("publisher__isnull", corm_bool(false)), "1,3,5");
    assert_string_equal(books_where("pages__range", corm_range(corm_int(296), corm_int(940))),
                        "2,3,4,5");
    assert_string_equal(books_where("published_date__year", corm_int(2009)), "5");
    assert_string_equal(books_where("published_date__year__gte", corm_int(1987)), "3,4,5");
    assert_string_equal(books_where("published_date__month", corm_int(9)), "3,4");
    assert_string_equal(books_where("published_date__day", corm_int(1)), "6");
    assert_string_equal(books_where("publisher", corm_null()), "2,4,6");
    /* LIKE/GLOB metacharacters in values are data, not patterns */
    assert_string_equal(books_where("title__contains", corm_text("%")), "");
    assert_string_equal(books_where("title__icontains", corm_text("_")), "");
    assert_string_equal(books_where("title__contains", corm_text("*")), "");
    assert_string_equal(books_where("title", corm_text("'; DROP TABLE book; --")), "");
    assert_string_equal(books_where("pk__gt", corm_int(0)), "1,2,3,4,5,6");
}

static void test_relation_paths(void **state)
{
    (void)state;
    assert_string_equal(books_where("author__name", corm_text("Haruki Murakami")), "3,4,5");
    assert_string_equal(books_where("author", corm_int(1)), "1,2");
    assert_string_equal(books_where("author__id__in", corm_ints((const int64_t[]){3}, 1)), "6");
    assert_string_equal(books_where("author__country__code", corm_text("FR")), "1,2");
    assert_string_equal(books_where("author__country__name__iexact", corm_text("japan")), "3,4,5");
    assert_string_equal(books_where("genres__name", corm_text("Fantasy")), "4,5");
    assert_string_equal(books_where("genres", corm_int(2)), "1");
    assert_string_equal(books_where("genres__isnull", corm_bool(true)), "6");

    /* reverse fk and reverse m2m: a semi-join, never duplicate rows */
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "books__title__icontains", corm_text("o"));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2,3");
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_filter(qs, "books__isnull", corm_bool(true));
    assert_ids(qs, "4");
    corm_qs_free(qs);

    qs = corm_all(db, Genre);
    corm_filter(qs, "books__author__name", corm_text("Victor Hugo"));
    corm_order_by(qs, "name");
    assert_ids(qs, "1,2");
    corm_qs_free(qs);

    qs = corm_all(db, Country);
    corm_filter(qs, "authors__books__pages__gt", corm_int(1000));
    assert_ids(qs, "1");
    corm_qs_free(qs);
}

static void test_exclude_and_q(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    /* Django keeps NULL publishers in exclude(publisher=1) */
    corm_exclude(qs, "publisher", corm_int(1));
    corm_order_by(qs, "id");
    assert_ids(qs, "2,4,6");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_exclude(qs, "author__country__code", corm_text("FR"));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4,5,6");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_exclude(qs, "genres__name", corm_text("Fiction"));
    corm_order_by(qs, "id");
    assert_ids(qs, "5,6");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter_q(qs, corm_q_or(qs, corm_q_new(qs, "title__startswith", corm_text("Nor")),
                                corm_q_new(qs, "pages__gt", corm_int(1000))));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,3");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter_q(qs, corm_q_and(qs, corm_q_new(qs, "author", corm_int(2)),
                                 corm_q_not(qs, corm_q_new(qs, "title", corm_text("1Q84")))));
    corm_filter(qs, "pages__lt", corm_int(900));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4");
    corm_qs_free(qs);
}

static void test_order_slice(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "-pages");
    assert_ids(qs, "1,2,5,4,3,6");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_order_by(qs, "author__name", "-published_date");
    assert_ids(qs, "6,5,4,3,1,2");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_slice(qs, 1, 4);
    corm_slice(qs, 1, -1);
    assert_ids(qs, "3,4");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_slice(qs, 4, -1);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 2); }
    assert_ids(qs, "5,6");
    corm_qs_free(qs);
}

static void test_get_first_last_count_exists(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "isbn", corm_text("9780000000003"));
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 1) { b = corm_get(qs); }
    assert_non_null(b);
    assert_string_equal(b->title, "Norwegian Wood");
    assert_int_equal(b->pages, 296);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "pages", corm_int(1));
    assert_null(corm_get(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_NOTFOUND);
    assert_non_null(strstr(corm_qs_error(qs)->message, "Book matching query does not exist"));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    assert_null(corm_get(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MULTIPLE);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    CORM_ASSERT_NUM_QUERIES(db, 1) { b = corm_first(qs); }
    assert_int_equal(b->id, 1);
    b = corm_last(qs);
    assert_int_equal(b->id, 6);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_order_by(qs, "-pages");
    b = corm_first(qs);
    assert_string_equal(b->title, "Les Miserables");
    b = corm_last(qs);
    assert_string_equal(b->title, "Beowulf");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 3); }
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_exists(qs), 1); }
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(4));
    assert_int_equal(corm_exists(qs), 0);
    assert_null(corm_first(qs));
    corm_qs_free(qs);
}

static void test_evaluation_is_cached(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    int n = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_foreach(b, qs) n += b->id > 0;
        corm_foreach(b, qs) n += b->id > 0;
        assert_int_equal(corm_count(qs), 6);
        assert_int_equal(corm_exists(qs), 1);
    }
    assert_int_equal(n, 12);
    /* a builder call after evaluation is an error, not a silent no-op */
    corm_filter(qs, "pages", corm_int(1));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_qs_clone"));
    corm_qs_free(qs);

    /* a clone is unevaluated and independent */
    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(1));
    corm_qs *c = corm_qs_clone(qs);
    corm_filter(c, "pages__gt", corm_int(1000));
    assert_ids(qs, "1,2");
    assert_ids(c, "1");
    corm_qs_free(c);
    corm_qs_free(qs);
}

static void test_lazy_fk(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    Book *b1 = corm_qs_at(qs, 0), *b2 = corm_qs_at(qs, 1);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_string_equal(book_author(b1)->name, "Victor Hugo");
        assert_string_equal(book_author(b1)->name, "Victor Hugo"); /* cached */
    }
    /* Django: one query per object, even for the same author */
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(book_author(b2)->name, "Victor Hugo"); }
    /* a NULL key is no query */
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(book_publisher(b2)); }
    assert_true(corm_is_null(b2, "publisher"));
    assert_false(corm_is_null(b1, "publisher"));
    /* nested lazy chain */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_string_equal(author_country(book_author(b1))->code, "FR");
    }
    corm_qs_free(qs);
}

static void test_select_related(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author__country", "publisher");
    corm_filter(qs, "pages__gt", corm_int(250));
    corm_order_by(qs, "-pages");
    corm_slice(qs, 0, 10);
    char seen[512] = "";
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_foreach(b, qs)
        {
            Author *a = book_author(b);
            Country *c = author_country(a);
            Publisher *p = book_publisher(b);
            strcat(seen, a->name);
            strcat(seen, c ? c->code : "-");
            strcat(seen, p ? "P;" : "_;");
        }
    }
    /* by pages: 1400 (1), 940 (2), 928 (5), 505 (4), 296 (3) */
    assert_string_equal(seen, "Victor HugoFRP;Victor HugoFR_;Haruki MurakamiJPP;"
                              "Haruki MurakamiJP_;Haruki MurakamiJPP;");
    corm_qs_free(qs);

    /* a NULL relation through a LEFT JOIN: NULL, and no later query */
    qs = corm_all(db, Book);
    corm_select_related(qs, "author__country");
    corm_filter(qs, "pk", corm_int(6));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        b = corm_get(qs);
        assert_non_null(b);
        assert_string_equal(book_author(b)->name, "Anonymous");
        assert_null(author_country(book_author(b)));
    }
    corm_qs_free(qs);

    /* reverse one-to-one and self fk are one query too */
    qs = corm_all(db, Order);
    corm_select_related(qs, "user__account_manager", "product");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 0);
    corm_qs_free(qs);
}

static void test_related_sets(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    Author *hugo = corm_qs_at(qs, 0), *llosa = corm_qs_at(qs, 3);
    const corm_list *books;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        books = author_books(hugo);
        books = author_books(hugo); /* cached on the object */
    }
    assert_int_equal(books->n, 2);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(author_books(llosa)->n, 0); }

    /* a filter on a related set always queries, as Django's */
    corm_qs *rq = author_books_qs(hugo);
    corm_filter(rq, "pages__gt", corm_int(1000));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(rq, "1"); }
    corm_qs_free(rq);
    corm_qs_free(qs);

    /* m2m both ways */
    qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(4));
    Book *kafka = corm_get(qs);
    const corm_list *g = book_genres(kafka);
    assert_int_equal(g->n, 2);
    corm_qs_free(qs);

    qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("Fiction"));
    Genre *fiction = corm_get(qs);
    assert_int_equal(genre_books(fiction)->n, 4);
    corm_qs_free(qs);
}

static void test_errors(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "titel__icontains", corm_text("x"));
    corm_filter(qs, "pages", corm_int(1)); /* no-op after the first error */
    assert_int_not_equal(corm_eval(qs), CORM_OK);
    const corm_error *e = corm_qs_error(qs);
    assert_int_equal(e->rc, CORM_SCHEMA);
    assert_non_null(strstr(e->message, "Book has no field or relation 'titel'"));
    assert_non_null(strstr(e->hint, "did you mean 'title'?"));
    assert_int_equal(corm_count(qs), -1);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "title__icontain", corm_text("x"));
    assert_null(corm_first(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "did you mean 'icontains'?"));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "pages", corm_text("many"));
    assert_int_equal(corm_eval(qs), CORM_TYPE);
    assert_non_null(strstr(corm_qs_error(qs)->message, "Book.pages"));
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_int()"));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "pages__icontains", corm_text("1"));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_select_related(qs, "books");
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_prefetch_related"));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "author____name", corm_text("x"));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_slice(qs, 5, 2);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    corm_qs_free(qs);

    /* Django's rule: no filter, reordering or distinct after a slice (it
    ** would silently mean WHERE ... LIMIT); filter first */
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        static const char *const after[] = {"corm_filter",      "corm_exclude",
                                            "corm_filter_expr", "corm_exclude_expr",
                                            "corm_order_by",    "corm_distinct"};
        for (int i = 0; i < 6; i++) {
            qs = corm_all(db, Book);
            corm_order_by(qs, "id");
            corm_slice(qs, 0, 3);
            switch (i) {
            case 0: corm_filter(qs, "pages__gt", corm_int(300)); break;
            case 1: corm_exclude(qs, "pages__gt", corm_int(300)); break;
            case 2: corm_filter_expr(qs, "pages__gt", corm_F(qs, "id")); break;
            case 3: corm_exclude_expr(qs, "pages__gt", corm_F(qs, "id")); break;
            case 4: corm_order_by(qs, "-pages"); break;
            default: corm_distinct(qs); break;
            }
            assert_int_equal(corm_eval(qs), CORM_INVALID);
            char msg[160];
            snprintf(msg, sizeof msg,
                     "%s after corm_slice: cannot %s a query once a slice has "
                     "been taken",
                     after[i],
                     i < 4    ? "filter"
                     : i == 4 ? "reorder"
                              : "make distinct");
            assert_string_equal(corm_qs_error(qs)->message, msg);
            assert_non_null(strstr(corm_qs_error(qs)->hint, "before corm_slice"));
            corm_qs_free(qs);
        }
        /* an offset alone is a slice too; a slice of a slice is fine */
        qs = corm_all(db, Book);
        corm_slice(qs, 2, -1);
        corm_filter(qs, "pages__gt", corm_int(300));
        assert_int_equal(corm_eval(qs), CORM_INVALID);
        corm_qs_free(qs);
    }
    qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(300));
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 3);
    corm_slice(qs, 1, -1);
    assert_ids(qs, "2,4");
    corm_qs_free(qs);

    /* no query ran for any of the above */
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        qs = corm_all(db, Book);
        corm_order_by(qs, "-nope");
        assert_int_equal(corm_eval(qs), CORM_SCHEMA);
        corm_qs_free(qs);
    }

    /* a database error carries the SQL */
    assert_int_equal(corm_exec(db, "SELEKT 1"), CORM_DB);
    assert_string_equal(corm_db_error(db)->sql, "SELEKT 1");
}

static void test_writes(void **state)
{
    (void)state;
    Book b = CORM_NEW(Book);
    b.title = "New";
    b.author_id = 4;
    corm_set_null(&b, "publisher", true);
    b.published_date = "2020-01-01";
    b.isbn = "9780000000001"; /* duplicate */
    b.description = "";
    assert_int_equal(corm_save(db, &b), CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "isbn"));
    assert_int_equal(b.id, 0);

    b.isbn = "9999999999999";
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_save(db, &b), CORM_OK); }
    assert_true(b.id > 6);
    b.pages = 77;
    assert_int_equal(corm_save(db, &b), CORM_OK);
    /* 7 on SQLite; 8 on PostgreSQL, whose failed INSERT above used up an id
    ** (sequences are not transactional) */
    char want[24];
    snprintf(want, sizeof want, "%lld", (long long)b.id);
    assert_string_equal(books_where("pages", corm_int(77)), want);
    assert_int_equal(corm_delete(db, &b), CORM_OK);
    assert_string_equal(books_where("pages", corm_int(77)), "");

    /* an fk to a missing row is a constraint error at commit */
    assert_int_equal(corm_begin(db), CORM_OK);
    Book bad = b;
    bad.id = 0;
    bad.author_id = 999;
    bad.isbn = "0000000000000";
    corm_rc rc = corm_save(db, &bad);
    if (rc == CORM_OK) rc = corm_commit(db);
    else assert_int_equal(corm_rollback(db), CORM_OK);
    assert_int_equal(rc, CORM_CONSTRAINT);
    assert_string_equal(books_where("isbn", corm_text("0000000000000")), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_relation_paths),
        cmocka_unit_test(test_exclude_and_q),
        cmocka_unit_test(test_order_slice),
        cmocka_unit_test(test_get_first_last_count_exists),
        cmocka_unit_test(test_evaluation_is_cached),
        cmocka_unit_test(test_lazy_fk),
        cmocka_unit_test(test_select_related),
        cmocka_unit_test(test_related_sets),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_writes),
    };
    return cmocka_run_group_tests_name("queryset", tests, setup, teardown);
}
