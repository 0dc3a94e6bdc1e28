/*
** test_django_aggregation.c - scenarios of Django's tests/aggregation,
** tests/aggregation_regress and the aggregation topic guide, on corm's
** bookstore fixture (tests/support/test.h): exact rows and exact query
** counts on both backends.  Each test names the Django test it mirrors.
*/
#include "test.h"

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

/* "col=v col=v;..." of every row of qs, evaluated here in one query.
** Numbers as test_num_text prints them (the same on both backends), other
** text as it is. */
static const char *rows(corm_qs *qs)
{
    static char out[2048];
    size_t len = 0;
    out[0] = '\0';
    CORM_ASSERT_NUM_QUERIES(db, corm_qs_failed(qs) ? 0 : 1)
    {
        if (corm_eval(qs) != CORM_OK) {
            char e[2048];
            fail_msg("evaluation failed: %s", corm_error_format(corm_qs_error(qs), e, sizeof e));
        }
    }
    for (size_t r = 0; r < corm_qs_len(qs) && len < sizeof out; r++) {
        for (size_t c = 0; c < corm_qs_ncols(qs) && len < sizeof out; c++) {
            const corm_value *v = corm_qs_cell(qs, r, c);
            char num[64], *end = NULL;
            const char *cell = test_num_text(v, num, sizeof num);
            if (v->type == CORM_V_TEXT && (strtod(v->u.s.p, &end), !end || *end || end == v->u.s.p))
                cell = v->u.s.p;
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s", c ? " " : "",
                                    corm_qs_colname(qs, c), cell);
        }
        if (len < sizeof out) len += (size_t)snprintf(out + len, sizeof out - len, ";");
    }
    return out;
}

/* ------------------------------------------- mixed annotations group */

/* Django tests/aggregation test_annotate_values_aggregate /
** aggregation_regress test_values_annotate_values and the rule of
** BaseExpression.get_group_by_cols: an annotation mixing row values and an
** aggregate groups by its row part.  values("author") +
** x = F("publisher") * 1000 + Count("id") is one row per (author,
** publisher * 1000): author 1 has a book of publisher 1 and one of none,
** author 2 two of publisher 1 and one of none, author 3 one of none.  The
** filter's value, GROUP BY's and HAVING's stay in text order. */
static void test_mixed_annotation_groups(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(100));
    corm_values(qs, "author");
    corm_annotate(
        qs, "x",
        corm_arith(qs, corm_arith(qs, corm_F(qs, "publisher"), '*', corm_V(qs, corm_int(1000))),
                   '+', corm_Count(qs, "id", false)));
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_filter(qs, "n__gte", corm_int(1));
    corm_order_by(qs, "author", "-n");
    assert_string_equal(rows(qs), "author=1 x=1001 n=1;author=1 x=NULL n=1;"
                                  "author=2 x=1002 n=2;author=2 x=NULL n=1;"
                                  "author=3 x=NULL n=1;");
    /* the number is a literal in both places: PostgreSQL matches the
    ** select list's expression to GROUP BY's by their text */
    assert_non_null(
        strstr(corm_qs_sql(qs), "((T0.\"publisher_id\" * 1000) + COUNT(T0.\"id\")) AS \"x\""));
    assert_non_null(
        strstr(corm_qs_sql(qs), " GROUP BY T0.\"author_id\", (T0.\"publisher_id\" * 1000) HAVING"));
    corm_qs_free(qs);

    /* its count counts the groups */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "x",
                  corm_arith(qs, corm_F(qs, "publisher"), '+', corm_Count(qs, "id", false)));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 5); }
    corm_qs_free(qs);

    /* a field also named in values() is not grouped twice; Sum of the
    ** rows plus the field: pages + Sum(pages) per (author, pages) */
    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    corm_values(qs, "pages");
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "pages"), '+', corm_Sum(qs, "pages")));
    corm_order_by(qs, "pages");
    assert_string_equal(rows(qs), "pages=296 x=592;pages=505 x=1010;pages=928 x=1856;");
    assert_non_null(strstr(corm_qs_sql(qs), " GROUP BY T0.\"pages\" ORDER BY"));
    corm_qs_free(qs);

    /* through another annotation: y = F("x") + Count("id") with x =
    ** F("publisher") groups by publisher (x's own position already) */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "x", corm_F(qs, "publisher"));
    corm_annotate(qs, "y", corm_arith(qs, corm_F(qs, "x"), '+', corm_Count(qs, "id", false)));
    corm_order_by(qs, "author", "y");
    assert_string_equal(rows(qs), TEST_SQL("author=1 x=NULL y=NULL;author=1 x=1 y=2;"
                                           "author=2 x=NULL y=NULL;author=2 x=1 y=3;"
                                           "author=3 x=NULL y=NULL;",
                                           "author=1 x=1 y=2;author=1 x=NULL y=NULL;"
                                           "author=2 x=1 y=3;author=2 x=NULL y=NULL;"
                                           "author=3 x=NULL y=NULL;"));
    corm_qs_free(qs);
}

/* The same on objects: Django's annotate(x=F("pages") + Count("genres"))
** (tests/aggregation test_annotate_with_aggregation /
** test_combine_different_types): one row per book. */
static void test_mixed_annotation_objects(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_annotate(qs, "x",
                  corm_arith(qs, corm_F(qs, "pages"), '+', corm_Count(qs, "genres", false)));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "x"), "1:1402,2:941,3:297,4:507,5:929,6:200");
    corm_qs_free(qs);

    /* a local aggregate: Count("id") of each book's own row */
    qs = corm_all(db, Book);
    corm_annotate(qs, "x",
                  corm_arith(qs, corm_F(qs, "author__country"), '+', corm_Count(qs, "id", false)));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "x"), "1:2,2:2,3:3,4:3,5:3,6:NULL");
    corm_qs_free(qs);
}

/* ------------------------------------------------------- the sweep */

/* Django tests/aggregation test_count_distinct, test_annotate_m2m and
** aggregation_regress test_annotate_distinct_aggregate: Count(...,
** distinct=True) over a to-many path and in aggregate(). */
static void test_count_distinct(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "genres", corm_Count(qs, "books__genres", true));
    corm_annotate(qs, "links", corm_Count(qs, "books__genres", false));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "genres"), "1:2,2:2,3:0,4:0");
    assert_string_equal(test_annots(qs, "links"), "1:3,2:4,3:0,4:0");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_aggregate(qs, "genres__count", corm_Count(qs, "genres", true));
    corm_aggregate(qs, "links", corm_Count(qs, "genres", false));
    corm_aggregate(qs, "authors", corm_Count(qs, "author", true));
    corm_aggregate(qs, "books", corm_Count(qs, "id", false));
    /* the genres join repeats a book per genre (and keeps Beowulf, with
    ** none): Count("id") beside it counts 8 rows, as Django's join does */
    assert_string_equal(rows(qs), "genres__count=3 links=7 authors=3 books=8;");
    corm_qs_free(qs);
}

/* Django tests/aggregation test_aggregate_multi_join / test_empty_aggregate
** and aggregation_regress test_empty_filter_aggregate: over no rows, Count
** is 0 and Sum, Avg, Min, Max are NULL (Django's None). */
static void test_empty_set_aggregates(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(5000));
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    corm_aggregate(qs, "sum", corm_Sum(qs, "pages"));
    corm_aggregate(qs, "avg", corm_Avg(qs, "pages"));
    corm_aggregate(qs, "min", corm_Min(qs, "published_date"));
    corm_aggregate(qs, "max", corm_Max(qs, "price"));
    assert_string_equal(rows(qs), "n=0 sum=NULL avg=NULL min=NULL max=NULL;");
    corm_qs_free(qs);

    /* annotate: an author without books counts 0, sums NULL */
    qs = corm_all(db, Author);
    corm_annotate(qs, "pages", corm_Sum(qs, "books__pages"));
    corm_annotate(qs, "avg", corm_Avg(qs, "books__pages"));
    corm_filter(qs, "pk__in", corm_ints((const int64_t[]){3, 4}, 2));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "pages"), "3:200,4:NULL");
    assert_string_equal(test_annots(qs, "avg"), "3:200,4:NULL");
    corm_qs_free(qs);
}

/* Django tests/aggregation test_avg_duration_field / test_single_aggregate
** and the guide's "Avg returns a float": Avg of an integer field is a
** float on both backends; Sum of integers an integer. */
static void test_avg_sum_types(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    corm_aggregate(qs, "avg", corm_Avg(qs, "pages"));
    corm_aggregate(qs, "sum", corm_Sum(qs, "pages"));
    corm_aggregate(qs, "price", corm_Sum(qs, "price"));
    assert_string_equal(rows(qs), "avg=576.333 sum=1729 price=40.5;");
    assert_int_equal(corm_qs_cell(qs, 0, 0)->type, CORM_V_FLOAT);
    assert_int_equal(corm_qs_cell(qs, 0, 1)->type, CORM_V_INT);
    corm_qs_free(qs);

    /* Django's default aliases ("pages__avg") and a field's own name
    ** (aggregate(price=Sum("price"))) name aggregate() results; a filter
    ** on price is still the field's */
    qs = corm_all(db, Book);
    corm_filter(qs, "price__gt", corm_decv(corm_dec("12")));
    corm_aggregate(qs, "pages__avg", corm_Avg(qs, "pages"));
    corm_aggregate(qs, "price", corm_Max(qs, "price"));
    corm_aggregate(
        qs, "pages",
        corm_MinOf(qs, corm_arith(qs, corm_F(qs, "pages"), '*', corm_V(qs, corm_int(2)))));
    assert_string_equal(rows(qs), "pages__avg=482.25 price=15.5 pages=400;");
    assert_int_equal(corm_row_int(qs, 0, "pages"), 400);
    corm_qs_free(qs);

    /* annotate() names still may not shadow a field, nor hold "__" */
    qs = corm_all(db, Book);
    corm_annotate(qs, "pages", corm_Count(qs, "genres", false));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "conflicts with a field of Book"));
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_annotate(qs, "genres__count", corm_Count(qs, "genres", false));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "is not a valid name"));
    corm_qs_free(qs);
}

/* Django tests/aggregation test_aggregate_annotation and
** aggregation_regress test_aggregate_annotation: aggregate() over an
** annotation of a to-many Count. */
static void test_aggregate_over_annotation(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_aggregate(qs, "avg", corm_Avg(qs, "n"));
    corm_aggregate(qs, "max", corm_Max(qs, "n"));
    corm_aggregate(qs, "sum", corm_Sum(qs, "n"));
    assert_string_equal(rows(qs), "avg=1.5 max=3 sum=6;");
    corm_qs_free(qs);

    /* with a filter on the annotation first (HAVING in the subquery) */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gte", corm_int(2));
    corm_aggregate(qs, "sum", corm_Sum(qs, "n"));
    corm_aggregate(qs, "authors", corm_Count(qs, "id", false));
    assert_string_equal(rows(qs), "sum=5 authors=2;");
    corm_qs_free(qs);
}

/* Django tests/aggregation test_annotate_values_list / test_values_annotation
** and the guide's "Interaction with order_by()": a field of order_by()
** joins GROUP BY of values().annotate(), so ordering by pages gives a row
** per (author, pages). */
static void test_values_order_by_groups(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "pages");
    assert_string_equal(rows(qs), "author=3 n=1;author=2 n=1;author=2 n=1;author=2 n=1;"
                                  "author=1 n=1;author=1 n=1;");
    corm_qs_free(qs);

    /* ordered by the aggregate: one row per author */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "total", corm_Sum(qs, "pages"));
    corm_order_by(qs, "-total");
    assert_string_equal(rows(qs), "author=1 total=2340;author=2 total=1729;author=3 total=200;");
    corm_qs_free(qs);

    /* ordered by a related field: grouped by it too */
    qs = corm_all(db, Book);
    corm_values(qs, "author__country");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "author__country__name");
    assert_string_equal(rows(qs), TEST_SQL("author__country=NULL n=1;author__country=1 n=2;"
                                           "author__country=2 n=3;",
                                           "author__country=NULL n=1;author__country=1 n=2;"
                                           "author__country=2 n=3;"));
    corm_qs_free(qs);
}

/* Django tests/expressions test_filter_with_join / test_arithmetic and
** tests/lookup's F() comparisons: F() arithmetic across a to-one join,
** compared in filter() and exclude(). */
static void test_f_comparisons(void **state)
{
    (void)state;
    /* pages > author_id * 500: 1400 > 500, 940 > 500; 296, 505, 928 > 1000
    ** no; 200 > 1500 no */
    corm_qs *qs = corm_all(db, Book);
    corm_filter_expr(qs, "pages__gt",
                     corm_arith(qs, corm_F(qs, "author__id"), '*', corm_V(qs, corm_int(500))));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_exclude_expr(qs, "pages__gt",
                      corm_arith(qs, corm_F(qs, "author__id"), '*', corm_V(qs, corm_int(500))));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4,5,6");
    corm_qs_free(qs);

    /* an annotation compared with a field: F("pages") - F("id") * 100 */
    qs = corm_all(db, Book);
    corm_annotate(qs, "x",
                  corm_arith(qs, corm_F(qs, "pages"), '-',
                             corm_arith(qs, corm_F(qs, "id"), '*', corm_V(qs, corm_int(100)))));
    corm_filter(qs, "x__lt", corm_int(300));
    corm_order_by(qs, "x");
    assert_string_equal(test_annots(qs, "x"), "6:-400,3:-4,4:105");
    corm_qs_free(qs);
}

/* Django tests/lookup test_exclude_multivalued / "Making queries",
** Spanning multi-valued relationships (exclude): exclude(books__title__
** contains="Wood", books__pages__gt=900) excludes the authors having a
** book of each, not necessarily the same one. */
static void test_exclude_multivalued(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_exclude_q(qs, corm_q_and(qs, corm_q_new(qs, "books__title__contains", corm_text("Wood")),
                                  corm_q_new(qs, "books__pages__gt", corm_int(900))));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,3,4");
    corm_qs_free(qs);

    /* one condition: the authors without any such book, bookless ones too */
    qs = corm_all(db, Author);
    corm_exclude(qs, "books__pages__gt", corm_int(1000));
    corm_order_by(qs, "id");
    assert_ids(qs, "2,3,4");
    corm_qs_free(qs);

    /* exclude over an m2m two hops away */
    qs = corm_all(db, Author);
    corm_exclude(qs, "books__genres__name", corm_text("Fiction"));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4");
    corm_qs_free(qs);
}

/* Django tests/lookup test_isnull_reverse / null_queries test_reverse_
** relations: isnull on a reverse fk and an m2m. */
static void test_isnull_reverse(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "books__isnull", corm_bool(true));
    assert_ids(qs, "4");
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_filter(qs, "books__isnull", corm_bool(false));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2,3");
    corm_qs_free(qs);

    qs = corm_all(db, Genre);
    corm_filter(qs, "books__isnull", corm_bool(true));
    assert_ids(qs, "");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "genres__isnull", corm_bool(true));
    assert_ids(qs, "6");
    corm_qs_free(qs);

    /* a nullable forward fk through a join */
    qs = corm_all(db, Book);
    corm_filter(qs, "author__country__isnull", corm_bool(true));
    assert_ids(qs, "6");
    corm_qs_free(qs);
}

/* Django tests/lookup test_range / test_year_lookup / test_month_lookup
** (lookup.tests.LookupTests and tests/lookup/test_lookups.py). */
static void test_range_year_month(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "published_date__range",
                corm_range(corm_text("1800-01-01"), corm_text("1900-01-01")));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "pages__range", corm_range(corm_int(296), corm_int(928)));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4,5");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "published_date__year", corm_int(1987));
    assert_ids(qs, "3");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "published_date__month", corm_int(9));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,4");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "published_date__year__gte", corm_int(2000));
    corm_order_by(qs, "id");
    assert_ids(qs, "4,5");
    corm_qs_free(qs);

    /* year 1000: no leading-zero trap */
    qs = corm_all(db, Book);
    corm_filter(qs, "published_date__year__lt", corm_int(1500));
    assert_ids(qs, "6");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_exclude(qs, "published_date__day", corm_int(4));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2,4,5,6");
    corm_qs_free(qs);
}

/* Django tests/lookup test_iexact / test_icontains / test_contains: the
** i-lookups ignore case on both backends; contains keeps it (on SQLite
** too, where Django's LIKE would not: docs/differences-from-django.md). */
static void test_case_lookups(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "title__iexact", corm_text("1q84"));
    assert_ids(qs, "5");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "title__icontains", corm_text("WOOD"));
    assert_ids(qs, "3");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "title__contains", corm_text("wood"));
    assert_ids(qs, "");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "title__istartswith", corm_text("no"));
    corm_order_by(qs, "id");
    assert_ids(qs, "2,3");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "title__endswith", corm_text("Shore"));
    assert_ids(qs, "4");
    corm_qs_free(qs);

    /* a % in the value is literal */
    qs = corm_all(db, Book);
    corm_filter(qs, "title__icontains", corm_text("%"));
    assert_ids(qs, "");
    corm_qs_free(qs);
}

/* Django tests/ordering test_order_by_annotation / test_order_by_fk_attname
** and aggregation test_annotate_ordering: ordering by an annotation and by
** a related field with NULLs (sorted first ascending, as SQLite, on both:
** docs/differences-from-django.md). */
static void test_order_annotation_related(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_order_by(qs, "-n", "name");
    assert_string_equal(test_annots(qs, "n"), "2:3,1:2,3:1,4:0");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_order_by(qs, "publisher__name", "-id");
    assert_ids(qs, "6,4,2,5,3,1");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_order_by(qs, "-author__country__name", "id");
    assert_ids(qs, "3,4,5,1,2,6");
    corm_qs_free(qs);
}

/* Django aggregation_regress test_empty (#10089) and tests/queries'
** EmptyResultSet cases: filter(id__in=[]) selects nothing whatever the
** data, so no query runs: count() 0, aggregate() Count 0 and the others
** None, values() no row, update() and delete() 0. */
static void test_empty_in_no_query(void **state)
{
    (void)state;
    const int64_t none[1] = {0};
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "id__in", corm_ints(none, 0));
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_count(qs), 0);
        assert_int_equal(corm_exists(qs), 0);
        assert_int_equal(corm_eval(qs), CORM_OK);
        assert_int_equal(corm_qs_len(qs), 0);
        assert_null(corm_first(qs));
    }
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "id__in", corm_ints(none, 0));
    corm_aggregate(qs, "num_authors", corm_Count(qs, "author", false));
    corm_aggregate(qs, "avg_pages", corm_Avg(qs, "pages"));
    corm_aggregate(qs, "max_price", corm_Max(qs, "price"));
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 1);
    assert_int_equal(corm_qs_ncols(qs), 3);
    assert_int_equal(corm_row_int(qs, 0, "num_authors"), 0);
    assert_true(corm_row_isnull(qs, 0, "avg_pages"));
    assert_true(corm_row_isnull(qs, 0, "max_price"));
    corm_qs_free(qs);

    /* values(): no rows, the columns still named */
    qs = corm_all(db, Author);
    corm_filter(qs, "books__title__in", corm_texts((const char *const[]){""}, 0));
    corm_values(qs, "name");
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 0);
    assert_int_equal(corm_qs_ncols(qs), 2);
    corm_qs_free(qs);

    /* update and delete: nothing to do, no statement */
    qs = corm_all(db, Book);
    corm_filter(qs, "pk__in", corm_ints(none, 0));
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_update(qs, CORM_SET("pages", corm_int(1))), 0);
    }
    corm_qs_free(qs);
    qs = corm_all(db, Author); /* with cascades: the collector's path */
    corm_filter(qs, "pk__in", corm_ints(none, 0));
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_qs_delete(qs), 0); }
    corm_qs_free(qs);

    /* a slice [2:2] selects nothing either (Django's set_limits) */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_slice(qs, 2, 2);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_count(qs), 0); }
    corm_qs_free(qs);

    /* still compiled: a mistake beside the empty list is reported */
    qs = corm_all(db, Book);
    corm_filter(qs, "id__in", corm_ints(none, 0));
    corm_filter(qs, "titel", corm_text("x"));
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_SCHEMA); }
    assert_int_equal(corm_count(qs), -1);
    corm_qs_free(qs);

    /* negated it matches every row; in an OR the other side decides:
    ** those run their query */
    qs = corm_all(db, Book);
    corm_exclude(qs, "id__in", corm_ints(none, 0));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 6); }
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_filter_q(qs, corm_q_or(qs, corm_q_new(qs, "id__in", corm_ints(none, 0)),
                                corm_q_new(qs, "pages__lt", corm_int(300))));
    corm_order_by(qs, "id");
    assert_ids(qs, "3,6");
    corm_qs_free(qs);
    /* nothing changed */
    assert_string_equal(test_scalar(db, "SELECT COUNT(*) FROM book WHERE pages = 1"), "0");
    assert_string_equal(test_scalar(db, "SELECT COUNT(*) FROM author"), "4");
}

/* Django tests/aggregation test_aggregation_default_integer,
** test_aggregation_default_unset, test_aggregation_default_zero and
** test_aggregation_default_using_..._from_database, and tests/db_functions
** comparison/test_coalesce (test_basic, test_mixed_values): default= of
** an aggregate is Coalesce(aggregate, default); Count takes none. */
static void test_aggregate_default_coalesce(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(5000));
    corm_aggregate(qs, "sum", corm_agg_default(qs, corm_Sum(qs, "pages"), corm_int(42)));
    corm_aggregate(qs, "avg", corm_agg_default(qs, corm_Avg(qs, "pages"), corm_float(0.5)));
    corm_aggregate(qs, "unset", corm_Max(qs, "pages"));
    assert_string_equal(rows(qs), "sum=42 avg=0.5 unset=NULL;");
    assert_non_null(strstr(corm_qs_sql(qs), "COALESCE(SUM(T0.\"pages\"), "));
    corm_qs_free(qs);

    /* over rows, the aggregate itself */
    qs = corm_all(db, Book);
    corm_aggregate(qs, "sum", corm_agg_default(qs, corm_Sum(qs, "pages"), corm_int(42)));
    assert_string_equal(rows(qs), "sum=4269;");
    corm_qs_free(qs);

    /* an empty in: no query, the default */
    const int64_t none[1] = {0};
    qs = corm_all(db, Book);
    corm_filter(qs, "pk__in", corm_ints(none, 0));
    corm_aggregate(qs, "sum", corm_agg_default(qs, corm_Sum(qs, "pages"), corm_int(42)));
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_row_int(qs, 0, "sum"), 42);
    assert_int_equal(corm_row_int(qs, 0, "n"), 0);
    corm_qs_free(qs);

    /* annotate over a to-many path: 0 for the author without books */
    qs = corm_all(db, Author);
    corm_annotate(qs, "pages", corm_agg_default(qs, corm_Sum(qs, "books__pages"), corm_int(0)));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "pages"), "1:2340,2:1729,3:200,4:0");
    corm_qs_free(qs);

    /* and grouped in values() */
    qs = corm_all(db, Book);
    corm_values(qs, "publisher");
    corm_filter(qs, "pages__gt", corm_int(900));
    corm_annotate(qs, "top",
                  corm_agg_default(qs, corm_Max(qs, "published_date"), corm_text("1900-01-01")));
    corm_order_by(qs, "publisher");
    assert_string_equal(rows(qs), "publisher=NULL top=1831-01-14;publisher=1 top=2009-05-29;");
    corm_qs_free(qs);

    /* the default of a date over no rows: the value, typed as the date
    ** (a bare parameter on PostgreSQL) */
    qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(5000));
    corm_aggregate(qs, "top",
                   corm_agg_default(qs, corm_Max(qs, "published_date"), corm_text("1900-01-01")));
    assert_string_equal(rows(qs), "top=1900-01-01;");
    corm_qs_free(qs);

    /* Coalesce of fields: the bio, or the name where it is NULL */
    qs = corm_all(db, Author);
    corm_filter(qs, "pk__lte", corm_int(2));
    corm_annotate(qs, "display", corm_Coalesce(qs, corm_F(qs, "bio"), corm_F(qs, "name")));
    corm_values(qs, "display");
    corm_order_by(qs, "id");
    assert_string_equal(rows(qs), "display=Victor Hugo;display=Haruki Murakami;");
    corm_qs_free(qs);

    /* Count takes no default (Django: TypeError) */
    qs = corm_all(db, Book);
    assert_null(corm_agg_default(qs, corm_Count(qs, "id", false), corm_int(1)));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_string_equal(corm_qs_error(qs)->message, "Count does not allow a default");
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    assert_null(corm_agg_default(qs, corm_F(qs, "pages"), corm_int(1)));
    assert_int_equal(corm_eval(qs), CORM_MISUSE);
    corm_qs_free(qs);
}

/* Django tests/ordering test_default_ordering_does_not_affect_group_by
** (Django 3.1: "Meta.ordering won't be used in GROUP BY queries"): a
** model's default ordering is not applied to values().annotate(Count),
** so it does not split the groups (assertCountEqual: any order).  A copy of Book's
** model ordered by "-pages". */
static void test_meta_ordering_not_grouped(void **state)
{
    (void)state;
    static const char *const by_pages[] = {"-pages"};
    corm_model ordered = Book_model;
    ordered.ordering = by_pages;
    ordered.nordering = 1;
    corm_qs *qs = corm_qs_new_at(db, &ordered, CORM_SITE);
    corm_values(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 3);
    assert_null(strstr(corm_qs_sql(qs), "ORDER BY"));
    long long n[4] = {0};
    for (size_t r = 0; r < 3; r++) n[corm_row_int(qs, r, "author")] = corm_row_int(qs, r, "n");
    assert_int_equal(n[1], 2);
    assert_int_equal(n[2], 3);
    assert_int_equal(n[3], 1);
    corm_qs_free(qs);

    /* without an aggregate the ordering applies */
    qs = corm_qs_new_at(db, &ordered, CORM_SITE);
    corm_values(qs, "pages");
    corm_slice(qs, 0, 2);
    assert_string_equal(rows(qs), "pages=1400;pages=940;");
    corm_qs_free(qs);

    /* and an explicit order_by() groups, as before */
    qs = corm_qs_new_at(db, &ordered, CORM_SITE);
    corm_values(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "-n");
    assert_string_equal(rows(qs), "author=2 n=3;author=1 n=2;author=3 n=1;");
    corm_qs_free(qs);
}

/* Django tests/aggregation test_annotate_values_aggregate (aggregate() of
** an annotation through values()), test_values_aggregation (aggregate()
** over values().annotate() groups) and test_annotate_over_annotate. */
static void test_aggregate_over_values(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_annotate(qs, "pages_alias", corm_F(qs, "pages"));
    corm_values(qs, "pages_alias");
    corm_aggregate(qs, "sum_pages", corm_Sum(qs, "pages_alias"));
    assert_string_equal(rows(qs), "sum_pages=4269;");
    corm_qs_free(qs);

    /* the largest number of books of one author */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_aggregate(qs, "most", corm_Max(qs, "n"));
    corm_aggregate(qs, "groups", corm_Count(qs, "author", false));
    assert_string_equal(rows(qs), "most=3 groups=3;");
    corm_qs_free(qs);

    /* an annotation over an annotation */
    qs = corm_all(db, Book);
    corm_annotate(qs, "doubled", corm_arith(qs, corm_F(qs, "pages"), '*', corm_V(qs, corm_int(2))));
    corm_annotate(qs, "plus", corm_arith(qs, corm_F(qs, "doubled"), '+', corm_V(qs, corm_int(1))));
    corm_filter(qs, "plus__gt", corm_int(1800));
    corm_order_by(qs, "-plus");
    assert_string_equal(test_annots(qs, "plus"), "1:2801,2:1881,5:1857");
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mixed_annotation_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_annotation_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_set_aggregates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avg_sum_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregate_over_annotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_order_by_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_f_comparisons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude_multivalued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isnull_reverse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_year_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_annotation_related, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_in_no_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregate_default_coalesce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_ordering_not_grouped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregate_over_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
