/*
** test_semantics_query.c - Django's query semantics (issue 14, "Filters,
** aggregation and expressions"): conditional aggregates, aggregates of
** expressions, the order of filter() and annotate(), conditions on a
** multi-valued relation within one filter() call and across calls.  Each
** test names the Django doc section or test it mirrors; data is the
** fixture (tests/support/test.h) unless a test adds its own.
*/
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
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

/* A cell of row 0 of an evaluated rows queryset, as test_num_text prints it. */
static const char *cell(corm_qs *qs, const char *col)
{
    static char buf[64];
    if (corm_eval(qs) != CORM_OK) {
        char e[2048];
        fail_msg("evaluation failed: %s", corm_error_format(corm_qs_error(qs), e, sizeof e));
    }
    int k = corm_qs_colindex(qs, col);
    if (k < 0) fail_msg("no column %s", col);
    return test_num_text(corm_qs_cell(qs, 0, (size_t)k), buf, sizeof buf);
}

/* ------------------------------------------------- conditional aggregates */

/* Django tests/aggregation/test_filter_argument.py (FilteredAggregateTests:
** test_filtered_aggregates, test_related_aggregates_m2m, test_sum_star_exception
** aside) and the QuerySet reference, "filter" argument of Aggregate:
** Count("book", filter=Q(book__rating__gt=...)) in annotate() counts only
** the related rows the Q keeps; the others of the author count 0. */
static void test_count_filter_annotate(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "long_books",
                  corm_agg_filter(qs, corm_Count(qs, "books", false),
                                  corm_q_new(qs, "books__pages__gt", corm_int(500))));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_string_equal(test_annots(qs, "long_books"), "1:2,2:2,3:0,4:0");
    }
    assert_non_null(strstr(corm_qs_sql(qs), "(SELECT COUNT(U0.\"id\") FROM \"book\" U0 WHERE "
                                            "U0.\"author_id\" = T0.\"id\" AND U0.\"pages\" > "));
    corm_qs_free(qs);

    /* Sum with a filter: NULL where no row is kept, as SQL (and Django) */
    qs = corm_all(db, Author);
    corm_annotate(qs, "short_pages",
                  corm_agg_filter(qs, corm_Sum(qs, "books__pages"),
                                  corm_q_new(qs, "books__pages__lt", corm_int(1000))));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "short_pages"), "1:940,2:1729,3:200,4:NULL");
    corm_qs_free(qs);

    /* a Q mixing the counted row and the author's own fields, per row:
    ** Anonymous's one short book counts through its name */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n",
                  corm_agg_filter(qs, corm_Count(qs, "books", false),
                                  corm_q_or(qs, corm_q_new(qs, "books__pages__gt", corm_int(300)),
                                            corm_q_new(qs, "name", corm_text("Anonymous")))));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "n"), "1:2,2:2,3:1,4:0");
    corm_qs_free(qs);

    /* through a many-to-many: genres counted only when named Fiction */
    qs = corm_all(db, Book);
    corm_annotate(qs, "fiction",
                  corm_agg_filter(qs, corm_Count(qs, "genres", false),
                                  corm_q_new(qs, "genres__name", corm_text("Fiction"))));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "fiction"), "1:1,2:1,3:1,4:1,5:0,6:0");
    corm_qs_free(qs);

    /* over the group's own rows (values() + annotate: GROUP BY), the
    ** filter is FILTER (WHERE ...) */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "n",
                  corm_agg_filter(qs, corm_Count(qs, "pk", false),
                                  corm_q_new(qs, "pages__gt", corm_int(500))));
    corm_order_by(qs, "author");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_int_equal(corm_row_int(qs, 0, "n"), 2);
    assert_int_equal(corm_row_int(qs, 1, "n"), 2);
    assert_int_equal(corm_row_int(qs, 2, "n"), 0);
    assert_non_null(strstr(corm_qs_sql(qs), "FILTER (WHERE T0.\"pages\" > "));
    corm_qs_free(qs);
}

/* Django tests/aggregation/test_filter_argument.py test_filtered_aggregates
** (Sum/Avg/Min/Max with filter= in aggregate()), on the whole table. */
static void test_filter_aggregate(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_aggregate(qs, "n",
                   corm_agg_filter(qs, corm_Count(qs, "pk", false),
                                   corm_q_new(qs, "pages__gt", corm_int(500))));
    corm_aggregate(qs, "hugo",
                   corm_agg_filter(qs, corm_Sum(qs, "pages"),
                                   corm_q_new(qs, "author__name", corm_text("Victor Hugo"))));
    corm_aggregate(qs, "longest_unpublished",
                   corm_agg_filter(qs, corm_Max(qs, "pages"),
                                   corm_q_new(qs, "publisher__isnull", corm_bool(true))));
    corm_aggregate(qs, "shortest_fantasy",
                   corm_agg_filter(qs, corm_Min(qs, "pages"),
                                   corm_q_new(qs, "genres__name", corm_text("Fantasy"))));
    corm_aggregate(
        qs, "avg_murakami",
        corm_agg_filter(qs, corm_Avg(qs, "pages"), corm_q_new(qs, "author", corm_int(2))));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(cell(qs, "n"), "4"); }
    assert_string_equal(cell(qs, "hugo"), "2340");
    assert_string_equal(cell(qs, "longest_unpublished"), "940");
    assert_string_equal(cell(qs, "shortest_fantasy"), "505");
    assert_string_equal(cell(qs, "avg_murakami"), "576.333");
    assert_non_null(strstr(corm_qs_sql(qs), "COUNT(T0.\"id\") FILTER (WHERE T0.\"pages\" > "));
    corm_qs_free(qs);

    /* aggregate() over a to-many join: the Q on the joined row
    ** (Django: Author.objects.aggregate(Count("book", filter=Q(...)))) */
    qs = corm_all(db, Author);
    corm_aggregate(qs, "n",
                   corm_agg_filter(qs, corm_Count(qs, "books", false),
                                   corm_q_new(qs, "books__pages__gt", corm_int(900))));
    assert_string_equal(cell(qs, "n"), "3");
    corm_qs_free(qs);

    /* aggregate() over an annotation, with a filter (QuerySet reference,
    ** aggregate(): "aggregate over an annotation"; Django wraps it) */
    qs = corm_all(db, Author);
    corm_annotate(qs, "nbooks", corm_Count(qs, "books", false));
    corm_aggregate(qs, "most", corm_Max(qs, "nbooks"));
    corm_aggregate(qs, "with_country",
                   corm_agg_filter(qs, corm_Sum(qs, "nbooks"),
                                   corm_q_new(qs, "country__isnull", corm_bool(false))));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(cell(qs, "most"), "3"); }
    assert_string_equal(cell(qs, "with_country"), "5");
    corm_qs_free(qs);
}

/* Aggregation guide, cheat sheet: Book.objects.aggregate(price_per_page=
** Sum(F("price") / F("pages"))); tests/aggregation test_aggregation_expressions
** (Sum(F("price") * F("pages"))): an aggregate of an expression. */
static void test_aggregate_of_expression(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_aggregate(
        qs, "total",
        corm_SumOf(qs, corm_arith(qs, corm_F(qs, "pages"), '*', corm_V(qs, corm_int(2)))));
    corm_aggregate(qs, "biggest",
                   corm_MaxOf(qs, corm_arith(qs, corm_F(qs, "pages"), '+', corm_F(qs, "author"))));
    corm_aggregate(qs, "long_total",
                   corm_agg_filter(qs, corm_SumOf(qs, corm_F(qs, "pages")),
                                   corm_q_new(qs, "pages__gte", corm_int(928))));
    corm_aggregate(qs, "countries", corm_CountOf(qs, corm_F(qs, "author__country"), true));
    /* a decimal Sum (SQLite sums whole units) with a filter: 10.50 + 11.50 + 14.50 */
    corm_aggregate(
        qs, "long_price",
        corm_agg_filter(qs, corm_Sum(qs, "price"), corm_q_new(qs, "pages__gte", corm_int(928))));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(cell(qs, "total"), "8538"); }
    assert_int_equal((int)(corm_row_float(qs, 0, "long_price") * 100 + 0.5), 3650);
    assert_string_equal(cell(qs, "biggest"), "1401");
    assert_string_equal(cell(qs, "long_total"), "3268");
    assert_string_equal(cell(qs, "countries"), "2");
    corm_qs_free(qs);

    /* per row, in annotate(): Sum over the author's own rows (GROUP BY) */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(
        qs, "weight",
        corm_SumOf(qs, corm_arith(qs, corm_F(qs, "pages"), '/', corm_V(qs, corm_int(2)))));
    corm_order_by(qs, "author");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_int_equal(corm_row_int(qs, 0, "weight"), 1170);
    assert_int_equal(corm_row_int(qs, 1, "weight"), 864);
    assert_int_equal(corm_row_int(qs, 2, "weight"), 100);
    corm_qs_free(qs);

    /* errors: no expression; an aggregate inside; a filter twice */
    qs = corm_all(db, Book);
    assert_null(corm_SumOf(qs, NULL));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_SumOf"));
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    corm_aggregate(qs, "x", corm_SumOf(qs, corm_Count(qs, "books", false)));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "an aggregate of an aggregate"));
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    corm_expr *e = corm_agg_filter(qs, corm_Count(qs, "books", false),
                                   corm_q_new(qs, "books__pages__gt", corm_int(1)));
    assert_null(corm_agg_filter(qs, e, corm_q_new(qs, "name", corm_text("x"))));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_q_and"));
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    assert_null(corm_agg_filter(qs, corm_F(qs, "name"), corm_q_new(qs, "name", corm_text("x"))));
    assert_non_null(strstr(corm_qs_error(qs)->message, "needs an aggregate"));
    corm_qs_free(qs);
}

/* ------------------------------------------- filter() and annotate() order */

static void add_publisher(const char *name, const int *pages, int n, int *isbn)
{
    Publisher p = CORM_NEW(Publisher);
    p.name = (char *)name;
    corm_set_null(&p, "country", true);
    TEST_OK_DB(db, corm_save(db, &p));
    for (int i = 0; i < n; i++) {
        Book b = CORM_NEW(Book);
        char buf[32], title[64];
        snprintf(buf, sizeof buf, "97811111111%02d", ++*isbn);
        snprintf(title, sizeof title, "%s %d", name, i);
        b.title = title;
        b.author_id = 4;
        b.publisher_id = p.id;
        corm_set_null(&b, "published_date", true);
        b.isbn = buf;
        b.pages = pages[i];
        b.price = corm_dec("1");
        b.description = "order";
        TEST_OK_DB(db, corm_save(db, &b));
    }
}

static corm_qs *publishers_abc(void)
{
    corm_qs *qs = corm_all(db, Publisher);
    static const char *const names[] = {"A", "B", "C"};
    corm_value v = {CORM_V_TEXTS, {0}};
    v.u.texts.p = names;
    v.u.texts.n = 3;
    corm_filter(qs, "name__in", v);
    return qs;
}

/* The aggregation guide, "Order of annotate() and filter() clauses", with
** its data: publisher A has two books rated 4 and 5, B two rated 1 and 4,
** C one rated 1 (the rating is Book.pages here).  Its four queries and
** their numbers, exactly. */
static void test_filter_annotate_order(void **state)
{
    (void)state;
    int isbn = 0;
    add_publisher("A", (const int[]){4, 5}, 2, &isbn);
    add_publisher("B", (const int[]){1, 4}, 2, &isbn);
    add_publisher("C", (const int[]){1}, 1, &isbn);

    /* annotate(num_books=Count("book", distinct=True)).filter(book__rating__gt=3.0):
    ** A 2, B 2 - the filter after the annotation does not change it */
    corm_qs *qs = publishers_abc();
    corm_annotate(qs, "num_books", corm_Count(qs, "books", true));
    corm_filter(qs, "books__pages__gt", corm_int(3));
    corm_order_by(qs, "name");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(test_annots(qs, "num_books"), "2:2,3:2"); }
    corm_qs_free(qs);

    /* filter(book__rating__gt=3.0).annotate(num_books=Count("book")):
    ** A 2, B 1 - only the books the filter kept are counted */
    qs = publishers_abc();
    corm_filter(qs, "books__pages__gt", corm_int(3));
    corm_annotate(qs, "num_books", corm_Count(qs, "books", false));
    corm_order_by(qs, "name");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(test_annots(qs, "num_books"), "2:2,3:1"); }
    corm_qs_free(qs);

    /* annotate(avg_rating=Avg("book__rating")).filter(book__rating__gt=3.0):
    ** A 4.5, B 2.5 */
    qs = publishers_abc();
    corm_annotate(qs, "avg_rating", corm_Avg(qs, "books__pages"));
    corm_filter(qs, "books__pages__gt", corm_int(3));
    corm_order_by(qs, "name");
    assert_string_equal(test_annots(qs, "avg_rating"), "2:4.5,3:2.5");
    corm_qs_free(qs);

    /* filter(book__rating__gt=3.0).annotate(avg_rating=Avg("book__rating")):
    ** A 4.5, B 4.0 */
    qs = publishers_abc();
    corm_filter(qs, "books__pages__gt", corm_int(3));
    corm_annotate(qs, "avg_rating", corm_Avg(qs, "books__pages"));
    corm_order_by(qs, "name");
    assert_string_equal(test_annots(qs, "avg_rating"), "2:4.5,3:4");
    corm_qs_free(qs);

    /* a filter that is not on the relation leaves the count alone; one on
    ** it in the same call with another condition: both hold per book */
    qs = publishers_abc();
    corm_filter_q(qs, corm_q_and(qs, corm_q_new(qs, "books__pages__gt", corm_int(1)),
                                 corm_q_new(qs, "books__pages__lt", corm_int(5))));
    corm_annotate(qs, "num_books", corm_Count(qs, "books", false));
    corm_order_by(qs, "name");
    assert_string_equal(test_annots(qs, "num_books"), "2:1,3:1");
    corm_qs_free(qs);

    /* exclude() is not a join Django reuses: the count is of every book */
    qs = publishers_abc();
    corm_exclude(qs, "books__pages", corm_int(5));
    corm_annotate(qs, "num_books", corm_Count(qs, "books", false));
    corm_order_by(qs, "name");
    assert_string_equal(test_annots(qs, "num_books"), "3:2,4:1");
    corm_qs_free(qs);

    /* aggregate() after filter() on the relation: the same rows
    ** (Publisher.objects.filter(book__rating__gt=3).aggregate(Count("book"))) */
    qs = publishers_abc();
    corm_filter(qs, "books__pages__gt", corm_int(3));
    corm_aggregate(qs, "n", corm_Count(qs, "books", false));
    corm_aggregate(qs, "avg", corm_Avg(qs, "books__pages"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(cell(qs, "n"), "3"); }
    assert_string_equal(cell(qs, "avg"), "4.33333");
    corm_qs_free(qs);
}

/* ------------------------------------------- multi-valued relationships */

/* "Making queries", Spanning multi-valued relationships:
**   Blog.objects.filter(entry__headline__contains="Lennon", entry__pub_date__year=2008)
** needs one entry with both; filter(...).filter(...) may be met by two
** entries.  Here: an author with one book whose title has "o" and that is
** longer than 900 pages (Hugo: Notre-Dame de Paris), against one book
** with "o" and one (maybe another) longer than 900 (Hugo, and Murakami:
** Kafka on the Shore + 1Q84).  corm never repeats a row (no JOIN: a
** semi-join per call), which Django gives with distinct(). */
static void test_multivalued_same_row(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_filter_q(qs, corm_q_and(qs, corm_q_new(qs, "books__title__contains", corm_text("o")),
                                 corm_q_new(qs, "books__pages__gt", corm_int(900))));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1"); }
    /* one semi-join, both conditions inside */
    const char *sql = corm_qs_sql(qs);
    assert_non_null(strstr(sql, "IN (SELECT"));
    assert_null(strstr(strstr(sql, "IN (SELECT") + 1, "IN (SELECT"));
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_filter(qs, "books__title__contains", corm_text("o"));
    corm_filter(qs, "books__pages__gt", corm_int(900));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1,2"); }
    corm_qs_free(qs);

    /* the same through a many-to-many: no genre is both Fiction and
    ** History, but book 1 has one of each */
    qs = corm_all(db, Book);
    corm_filter_q(qs, corm_q_and(qs, corm_q_new(qs, "genres__name", corm_text("Fiction")),
                                 corm_q_new(qs, "genres__name", corm_text("History"))));
    assert_ids(qs, "");
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_filter(qs, "genres__name", corm_text("Fiction"));
    corm_filter(qs, "genres__name", corm_text("History"));
    assert_ids(qs, "1");
    corm_qs_free(qs);

    /* a condition on the row itself in the same call stays outside; a
    ** nested OR of the relation's conditions joins the group */
    qs = corm_all(db, Author);
    corm_filter_q(
        qs, corm_q_and(qs,
                       corm_q_and(qs, corm_q_new(qs, "books__pages__lt", corm_int(300)),
                                  corm_q_new(qs, "name__icontains", corm_text("a"))),
                       corm_q_or(qs, corm_q_new(qs, "books__title__startswith", corm_text("N")),
                                 corm_q_new(qs, "books__title__startswith", corm_text("B")))));
    corm_order_by(qs, "id");
    assert_ids(qs, "2,3"); /* Norwegian Wood 296, Beowulf 200 */
    corm_qs_free(qs);

    /* through a to-one hop first (Country -> authors -> books): the book
    ** must have both, per row */
    qs = corm_all(db, Country);
    corm_filter_q(qs,
                  corm_q_and(qs, corm_q_new(qs, "authors__books__pages__gt", corm_int(900)),
                             corm_q_new(qs, "authors__books__title__contains", corm_text("Q"))));
    assert_ids(qs, "2"); /* 1Q84, 928 pages, by Murakami (Japan) */
    corm_qs_free(qs);
    qs = corm_all(db, Country);
    corm_filter_q(qs,
                  corm_q_and(qs, corm_q_new(qs, "authors__books__pages__gt", corm_int(1000)),
                             corm_q_new(qs, "authors__books__title__contains", corm_text("Q"))));
    assert_ids(qs, "");
    corm_qs_free(qs);

    /* exclude() with two conditions in one call (the same docs): Django
    ** excludes rows with a match of each, not of both on one row */
    qs = corm_all(db, Author);
    corm_exclude_q(qs, corm_q_and(qs, corm_q_new(qs, "books__title__contains", corm_text("o")),
                                  corm_q_new(qs, "books__pages__gt", corm_int(900))));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4");
    corm_qs_free(qs);

    /* a count and an update through the same filter agree */
    qs = corm_all(db, Author);
    corm_filter_q(qs, corm_q_and(qs, corm_q_new(qs, "books__title__contains", corm_text("o")),
                                 corm_q_new(qs, "books__pages__gt", corm_int(900))));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 1); }
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ subqueries */

/* QuerySet reference, "in": "You can also use a queryset to dynamically
** evaluate the list of values instead of providing a list of literal
** values" (inner_qs = Blog.objects.filter(name__contains="Cheddar");
** Entry.objects.filter(blog__in=inner_qs)) - one query, a subquery; the
** inner queryset's values() names the column, else its pk.  Django
** tests/queries: test_ticket7076 / values_list in __in. */
static void test_in_subquery(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_qs *inner = corm_all(db, Book);
    corm_filter(inner, "pages__gt", corm_int(900));
    corm_values_flat(inner, "author");
    corm_filter_in(qs, "pk", inner);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1,2"); }
    assert_non_null(
        strstr(corm_qs_sql(qs), "T0.\"id\" IN (SELECT U0.\"author_id\" FROM \"book\" U0"));
    corm_qs_free(qs);

    /* objects, no values(): their pks; "__in" may be spelled out */
    qs = corm_all(db, Book);
    inner = corm_all(db, Author);
    corm_filter(inner, "country__isnull", corm_bool(false));
    corm_filter_in(qs, "author__in", inner);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1,2,3,4,5"); }
    corm_qs_free(qs);

    /* exclude: the authors with no book; a nullable key keeps its NULLs
    ** (Django's exclude() adds IS NOT NULL) */
    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_values_flat(inner, "author");
    corm_exclude_in(qs, "pk", inner);
    assert_ids(qs, "4");
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    inner = corm_all(db, Publisher);
    corm_filter(inner, "name", corm_text("Gallimard"));
    corm_exclude_in(qs, "publisher", inner);
    corm_order_by(qs, "id");
    assert_ids(qs, "2,4,6");
    corm_qs_free(qs);

    /* across a to-many relation: authors with a book in the inner set */
    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_filter(inner, "title__startswith", corm_text("N"));
    corm_filter_in(qs, "books", inner);
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2");
    corm_qs_free(qs);

    /* errors: two columns; no lookup (the inner queryset is freed) */
    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_values(inner, "author", "title");
    corm_filter_in(qs, "pk", inner);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "selects 2 columns"));
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_values_flat"));
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    corm_filter_in(qs, NULL, corm_all(db, Book));
    assert_int_equal(corm_eval(qs), CORM_MISUSE);
    corm_qs_free(qs);
}

/* Query expressions, "Filtering on a Subquery() or Exists() expressions":
** Post.objects.filter(Exists(recent_comments)) and ~Exists(...); Django
** tests/expressions test_exists_in_filter / test_filter_with_join. */
static void test_filter_exists(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_qs *inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_filter(inner, "pages__gt", corm_int(900));
    corm_filter_q(qs, corm_q_expr(qs, corm_Exists(qs, inner)));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1,2"); }
    assert_non_null(strstr(corm_qs_sql(qs), "WHERE EXISTS(SELECT 1 FROM \"book\" U0 WHERE"));
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_filter(inner, "pages__gt", corm_int(900));
    corm_filter_q(qs, corm_q_not(qs, corm_q_expr(qs, corm_Exists(qs, inner))));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4");
    corm_qs_free(qs);

    /* in a Q with other conditions */
    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_filter(inner, "pages__gt", corm_int(900));
    corm_filter_q(qs, corm_q_or(qs, corm_q_expr(qs, corm_Exists(qs, inner)),
                                corm_q_new(qs, "name", corm_text("Anonymous"))));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2,3");
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    assert_null(corm_q_expr(qs, NULL));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    corm_qs_free(qs);
}

/* Query expressions, "Using aggregates within a Subquery expression":
** Subquery(Book.objects.filter(author=OuterRef("pk")).values("author")
** .annotate(n=Count("pk")).values("n")) - grouped by the author, so an
** author with no book gets no row: NULL, not 0. */
static void test_subquery_grouped_values(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_qs *inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_values(inner, "author");
    corm_annotate(inner, "n", corm_Count(inner, "pk", false));
    corm_annotate(qs, "nbooks", corm_Subquery(qs, inner, "n"));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_string_equal(test_annots(qs, "nbooks"), "1:2,2:3,3:1,4:NULL");
    }
    assert_non_null(strstr(corm_qs_sql(qs), "GROUP BY U0.\"author_id\""));
    corm_qs_free(qs);
}

/* -------------------------------------------------------------- ordering */

/* QuerySet reference, order_by(): "asc() and desc() have arguments
** (nulls_first and nulls_last) that control how null values are sorted";
** Django tests/ordering test_order_by_nulls_first / _nulls_last (and
** test_order_by_nulls_first_and_last's reverse in last()).  Anonymous has
** no country. */
static void test_order_nulls(void **state)
{
    (void)state;
    static const struct {
        const char *term, *ids;
    } cases[] = {
        {"country__name", "3,1,2,4"},              /* corm's default: SQLite's */
        {"country__name nulls last", "1,2,4,3"},   /* F().asc(nulls_last=True) */
        {"country__name nulls first", "3,1,2,4"},  /* F().asc(nulls_first=True) */
        {"-country__name", "4,2,1,3"},             /* corm's default: SQLite's */
        {"-country__name nulls first", "3,4,2,1"}, /* F().desc(nulls_first=True) */
        {"-country__name nulls last", "4,2,1,3"},  /* F().desc(nulls_last=True) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_qs *qs = corm_all(db, Author);
        corm_order_by(qs, cases[i].term, "id");
        CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, cases[i].ids); }
        corm_qs_free(qs);
    }
    /* last() reverses the nulls placement too */
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "country__name nulls last");
    Author *a;
    CORM_ASSERT_NUM_QUERIES(db, 1) { a = corm_last(qs); }
    assert_string_equal(a->name, "Anonymous");
    corm_qs_free(qs);

    /* an annotation: the longest book, none for Vargas Llosa */
    qs = corm_all(db, Author);
    corm_annotate(qs, "longest", corm_Max(qs, "books__pages"));
    corm_order_by(qs, "-longest nulls last");
    assert_ids(qs, "1,2,3,4");
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    corm_annotate(qs, "longest", corm_Max(qs, "books__pages"));
    corm_order_by(qs, "longest nulls first");
    assert_ids(qs, "4,3,2,1");
    corm_qs_free(qs);

    /* in a Subquery's queryset: each author's book with no publisher
    ** first, else the first by title */
    qs = corm_all(db, Author);
    corm_qs *inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_order_by(inner, "publisher nulls first", "title");
    corm_slice(inner, 0, 1);
    corm_annotate(qs, "pick", corm_Subquery(qs, inner, "pk"));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "pick"), "1:2,2:4,3:6,4:NULL");
    corm_qs_free(qs);
}

/* Django tests/ordering test_order_by_fk_attname / "Making queries": an
** order_by() or values() over a multi-valued relation gives one row per
** related row (LEFT JOIN: one with NULL for none). */
static void test_order_values_tomany(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "books__pages");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "4,3,2,2,2,1,1"); }
    assert_non_null(strstr(corm_qs_sql(qs), "LEFT OUTER JOIN \"book\""));
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_values(qs, "name", "books__title");
    corm_order_by(qs, "id", "books__title");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 7);
    assert_string_equal(corm_row_text(qs, 0, "books__title"), "Les Miserables");
    assert_string_equal(corm_row_text(qs, 1, "books__title"), "Notre-Dame de Paris");
    assert_string_equal(corm_row_text(qs, 2, "books__title"), "1Q84");
    assert_string_equal(corm_row_text(qs, 5, "name"), "Anonymous");
    assert_string_equal(corm_row_text(qs, 6, "name"), "Mario Vargas Llosa");
    assert_true(corm_row_isnull(qs, 6, "books__title"));
    corm_qs_free(qs);

    /* through a many-to-many: one row per (book, genre) */
    qs = corm_all(db, Book);
    corm_values_flat(qs, "genres__name");
    corm_filter(qs, "pk__in", corm_ints(((const int64_t[]){1, 6}), 2));
    corm_order_by(qs, "id", "genres__name");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_string_equal(corm_row_text(qs, 0, "genres__name"), "Fiction");
    assert_string_equal(corm_row_text(qs, 1, "genres__name"), "History");
    assert_true(corm_row_isnull(qs, 2, "genres__name"));
    corm_qs_free(qs);
}

/* ------------------------------------------------------------- booleans */

/* Django returns Python bools for BooleanField and Exists() in values(),
** values_list() and annotations, on every backend (tests/expressions
** test_exists_in_values / BooleanField converters). */
static void test_booleans(void **state)
{
    (void)state;
    TEST_OK_DB(db, corm_exec(db, "UPDATE book SET featured = true WHERE id = 1"));
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "id", "featured", "author__name");
    corm_filter(qs, "pk__in", corm_ints(((const int64_t[]){1, 2}), 2));
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    int k = corm_qs_colindex(qs, "featured");
    assert_int_equal(corm_qs_cell(qs, 0, (size_t)k)->type, CORM_V_BOOL);
    assert_true(corm_row_bool(qs, 0, "featured"));
    assert_false(corm_row_bool(qs, 1, "featured"));
    assert_int_equal(corm_qs_cell(qs, 0, 0)->type, CORM_V_INT); /* the id stays a number */
    corm_qs_free(qs);

    /* Exists as an annotation, in values() and on objects */
    qs = corm_all(db, Author);
    corm_qs *inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_filter(inner, "pages__gt", corm_int(1000));
    corm_annotate(qs, "has_epic", corm_Exists(qs, inner));
    corm_values(qs, "id", "has_epic");
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    k = corm_qs_colindex(qs, "has_epic");
    char b[16];
    assert_string_equal(test_num_text(corm_qs_cell(qs, 0, (size_t)k), b, sizeof b), "true");
    assert_string_equal(test_num_text(corm_qs_cell(qs, 1, (size_t)k), b, sizeof b), "false");
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_filter(inner, "pages__gt", corm_int(1000));
    corm_annotate(qs, "has_epic", corm_Exists(qs, inner));
    corm_annotate(qs, "again", corm_F(qs, "has_epic"));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "has_epic"), "1:true,2:false,3:false,4:false");
    assert_string_equal(test_annots(qs, "again"), "1:true,2:false,3:false,4:false");
    corm_qs_free(qs);

    /* a Subquery of a bool field: each author's first book's flag */
    qs = corm_all(db, Author);
    inner = corm_all(db, Book);
    corm_filter_expr(inner, "author", corm_OuterRef(inner, "pk"));
    corm_order_by(inner, "id");
    corm_slice(inner, 0, 1);
    corm_annotate(qs, "first_featured", corm_Subquery(qs, inner, "featured"));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "first_featured"), "1:true,2:false,3:false,4:NULL");
    corm_qs_free(qs);

    /* the getter on other cells and absent columns */
    qs = corm_all(db, Book);
    corm_values(qs, "pages");
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_true(corm_row_bool(qs, 0, "pages"));
    assert_false(corm_row_bool(qs, 0, "nope"));
    assert_false(corm_row_bool(qs, 99, "pages"));
    corm_qs_free(qs);
}

/* ------------------------------------ values().distinct().aggregate() */

/* Django's Query.get_aggregation: a DISTINCT or sliced query is
** aggregated as a subquery (SELECT COUNT(author) FROM (SELECT DISTINCT
** author_id ...)), so values("author").distinct().aggregate(Count("author"))
** counts the distinct authors. */
static void test_values_distinct_aggregate(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_distinct(qs);
    corm_aggregate(qs, "n", corm_Count(qs, "author", false));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(cell(qs, "n"), "3"); }
    assert_non_null(strstr(corm_qs_sql(qs), "FROM (SELECT DISTINCT"));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_aggregate(qs, "n", corm_Count(qs, "author", false));
    assert_string_equal(cell(qs, "n"), "6");
    corm_qs_free(qs);

    /* a to-one path, NULL among the values (Anonymous has no country) */
    qs = corm_all(db, Book);
    corm_values(qs, "author__country");
    corm_distinct(qs);
    corm_aggregate(qs, "n", corm_Count(qs, "author__country", false));
    assert_string_equal(cell(qs, "n"), "2");
    corm_qs_free(qs);

    /* a slice of values(): the two longest books */
    qs = corm_all(db, Book);
    corm_values(qs, "pages");
    corm_order_by(qs, "-pages");
    corm_slice(qs, 0, 2);
    corm_aggregate(qs, "s", corm_Sum(qs, "pages"));
    assert_string_equal(cell(qs, "s"), "2340");
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_filter_annotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_aggregate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregate_of_expression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_annotate_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multivalued_same_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_subquery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subquery_grouped_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_values_tomany, setup, teardown),
        cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_distinct_aggregate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
