/*
** test_found.c - what the fuzz targets (tests/fuzz) and the property suite
** (test_invariants.c) found, each held by an exact test on both backends.
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

/* A grouped queryset (a local aggregate) with an annotation whose
** aggregate runs in a correlated subquery over a to-one join's key:
** PostgreSQL refused it ("subquery uses ungrouped column T1.id"), SQLite
** ran it.  The GROUP BY now lists every to-one join's key. */
static void test_grouped_with_correlated_aggregate(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_annotate(qs, "ngenres", corm_Count(qs, "genres", false));
    corm_annotate(qs, "longest", corm_Max(qs, "author__books__pages"));
    char got[256] = "";
    size_t len = 0;
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_foreach(b, qs)
        {
            len += (size_t)snprintf(got + len, sizeof got - len, "%lld:%lld,%lld;",
                                    (long long)b->id, (long long)corm_annotation(b, "ngenres")->u.i,
                                    (long long)corm_annotation(b, "longest")->u.i);
        }
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    assert_string_equal(got, "1:2,1400;2:1,1400;3:1,928;4:2,928;5:1,928;6:0,200;");
    corm_qs_free(qs);

    /* the shape the property suite found: Publisher, Min over its
    ** country's publishers, with local aggregates around it */
    qs = corm_all(db, Publisher);
    corm_order_by(qs, "id");
    corm_annotate(qs, "a0", corm_Min(qs, "id"));
    corm_annotate(qs, "a1", corm_Min(qs, "country__publisher_set__id"));
    corm_distinct(qs);
    corm_slice(qs, 0, 3);
    assert_int_equal(corm_exists(qs), 1);
    assert_int_equal(corm_count(qs), 1);
    corm_qs_free(qs);
}

/* exclude() on an annotation whose expression has a parameter: the NULL
** guard repeated the expression's text without its parameter (found by the
** lookup target: more placeholders than parameters).  SQLite refused the
** statement ("4 placeholders but 3 parameters"); PostgreSQL's $n made it
** work there by accident. */
static void test_exclude_on_annotation_with_parameter(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_annotate(qs, "p2", corm_arith(qs, corm_F(qs, "pages"), '-', corm_V(qs, corm_int(200))));
    corm_exclude(qs, "p2__gt", corm_int(700));
    assert_ids(qs, "3,4,6");
    corm_qs_free(qs);

    /* and a filter with the same shape, not negated */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_annotate(qs, "p2", corm_arith(qs, corm_F(qs, "pages"), '-', corm_V(qs, corm_int(200))));
    corm_filter(qs, "p2__gt", corm_int(700));
    assert_ids(qs, "1,2,5");
    corm_qs_free(qs);

    /* an empty `in` on it: the expression's parameter was bound for no
    ** placeholder (found by the lookup target too) */
    for (int exclude = 0; exclude < 2; exclude++) {
        qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        corm_annotate(qs, "p2",
                      corm_arith(qs, corm_F(qs, "pages"), '-', corm_V(qs, corm_int(200))));
        if (exclude) corm_exclude(qs, "p2__in", corm_ints(NULL, 0));
        else corm_filter(qs, "p2__in", corm_ints(NULL, 0));
        assert_ids(qs, exclude ? "1,2,3,4,5,6" : "");
        corm_qs_free(qs);
    }
}

/* values() grouped by a local aggregate, with an aggregate over a to-many
** path (a correlated subquery per row): PostgreSQL refused it ("subquery
** uses ungrouped column"), SQLite returned one arbitrary row's value per
** group.  Now a builder error on both, naming both annotations. */
static void test_values_grouped_with_per_row_aggregate(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "publisher__name");
    corm_annotate(qs, "a0", corm_Sum(qs, "genres__books__id"));
    corm_annotate(qs, "a1", corm_Sum(qs, "id"));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    const corm_error *e = corm_qs_error(qs);
    assert_non_null(strstr(e->message, "'a1'"));
    assert_non_null(strstr(e->message, "'a0'"));
    assert_non_null(strstr(e->hint, "separate"));
    corm_qs_free(qs);

    /* each alone still works: the per-row aggregate on objects, the local
    ** one grouped */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_annotate(qs, "a0", corm_Count(qs, "genres__books", false));
    Book *b;
    char got[128] = "";
    size_t len = 0;
    corm_foreach(b, qs)
    {
        len += (size_t)snprintf(got + len, sizeof got - len, "%lld ",
                                (long long)corm_annotation(b, "a0")->u.i);
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    /* Fiction has 4 books, History 1, Fantasy 2 */
    assert_string_equal(got, "5 4 4 6 2 0 ");
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "author");
    TEST_OK_DB(db, corm_eval(qs));
    assert_int_equal(corm_qs_len(qs), 3);
    assert_int_equal(corm_row_int(qs, 1, "n"), 3);
    corm_qs_free(qs);
}

/* An integer outside an `integer` column's range: PostgreSQL refused the
** parameter (22003, CORM_INVALID), SQLite compared it.  Now the same
** answer on both, as numbers compare (Django 5's rule for exact, gt, lt). */
static corm_qs *books_where(const char *lookup, corm_value v, bool exclude)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    if (exclude) corm_exclude(qs, lookup, v);
    else corm_filter(qs, lookup, v);
    return qs;
}

static void test_integer_out_of_range(void **state)
{
    (void)state;
    const int64_t big = 3000000000LL;
    static const int64_t ins[] = {1400, 5000000000LL, -5000000000LL};
    struct {
        const char *lookup;
        corm_value v;
        bool exclude;
        const char *ids;
    } cases[] = {
        {"pages", corm_int(big), false, ""},
        {"pages", corm_int(big), true, "1,2,3,4,5,6"},
        {"pages__gt", corm_int(-big), false, "1,2,3,4,5,6"},
        {"pages__gte", corm_int(big), false, ""},
        {"pages__lt", corm_int(big), false, "1,2,3,4,5,6"},
        {"pages__lte", corm_int(-big), false, ""},
        {"pages__lt", corm_int(-big), true, "1,2,3,4,5,6"},
        {"pages__in", corm_ints(ins, 3), false, "1"},
        {"pages__in", corm_ints(ins + 1, 2), false, ""},
        {"pages__range", corm_range(corm_int(-big), corm_int(300)), false, "3,6"},
        {"pages__range", corm_range(corm_int(900), corm_int(big)), false, "1,2,5"},
        {"pages__range", corm_range(corm_int(big), corm_int(2 * big)), false, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_qs *qs = books_where(cases[i].lookup, cases[i].v, cases[i].exclude);
        if (strcmp(test_ids(qs), cases[i].ids) != 0)
            fail_msg("case %zu (%s): [%s], want [%s]", i, cases[i].lookup, test_ids(qs),
                     cases[i].ids);
        assert_int_equal(corm_count(qs), (int64_t)corm_qs_len(qs));
        corm_qs_free(qs);
    }
    /* the same query with a value inside the range after one outside it
    ** (the compiled-SQL memo keys the side of the range) */
    corm_qs *qs = books_where("pages__lt", corm_int(big), false);
    assert_int_equal(corm_count(qs), 6);
    corm_qs_free(qs);
    qs = books_where("pages__lt", corm_int(300), false);
    assert_int_equal(corm_count(qs), 2);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouped_with_correlated_aggregate),
        cmocka_unit_test(test_exclude_on_annotation_with_parameter),
        cmocka_unit_test(test_values_grouped_with_per_row_aggregate),
        cmocka_unit_test(test_integer_out_of_range),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
