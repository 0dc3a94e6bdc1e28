/*
** test_having_join.c - a filter on the one to-many aggregate of an
** annotate() (issue 16, "annotate Count + HAVING"): LEFT JOIN, GROUP BY and
** HAVING, the relation read once, with the rows and counts of the
** correlated subquery it replaces; the subquery stays where the join
** would change them (several to-many aggregates, filter() before
** annotate() on the relation, filter=Q, an ordering across a to-many
** relation).  Data is the fixture (tests/support/test.h).
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

/* "id:annotation,..." of a queryset of objects, evaluated in one query
** (none when it was already). */
static const char *annots(corm_qs *qs, const char *name)
{
    const char *out = NULL;
    const uint64_t want = corm_qs_len(qs) ? 0 : 1;
    CORM_ASSERT_NUM_QUERIES(db, want) { out = test_annots(qs, name); }
    return out;
}

static bool joined(corm_qs *qs)
{
    const char *sql = corm_qs_sql(qs);
    return strstr(sql, " HAVING ") && !strstr(sql, "(SELECT COUNT(") &&
           !strstr(sql, "(SELECT SUM(");
}

/* The bench's query: Count("books") > n as LEFT JOIN + GROUP BY + HAVING;
** the authors without books are there for n < 1 (LEFT JOIN), count() and
** exists() count the groups kept. */
static void test_count_having(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(1));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "1:2,2:3");
    assert_string_equal(
        corm_qs_sql(qs),
        TEST_SQL("SELECT T0.\"id\", T0.\"name\", T0.\"email\", T0.\"country_id\", "
                 "T0.\"bio\", COUNT(T1.\"id\") AS \"n\" FROM \"author\" T0 LEFT OUTER "
                 "JOIN \"book\" T1 ON (T1.\"author_id\" = T0.\"id\") GROUP BY T0.\"id\" HAVING "
                 "(COUNT(T1.\"id\")) > ? ORDER BY T0.\"id\" ASC",
                 "SELECT T0.\"id\", T0.\"name\", T0.\"email\", T0.\"country_id\", "
                 "T0.\"bio\", COUNT(T1.\"id\") AS \"n\" FROM \"author\" T0 LEFT OUTER "
                 "JOIN \"book\" T1 ON (T1.\"author_id\" = T0.\"id\") GROUP BY T0.\"id\" HAVING "
                 "(COUNT(T1.\"id\")) > $1 ORDER BY T0.\"id\" ASC"));
    corm_qs_free(qs);

    /* count() and exists() of it count the groups kept (not evaluated
    ** first: an evaluated queryset answers from its rows) */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(1));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 2); }
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_exists(qs), 1); }
    corm_qs_free(qs);

    /* no books: kept by the LEFT JOIN, counted 0 */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n", corm_int(0));
    assert_string_equal(annots(qs, "n"), "4:0");
    assert_true(joined(qs));
    corm_qs_free(qs);

    /* exclude(), a row condition beside it, ordered by the count */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_exclude(qs, "n__gte", corm_int(3));
    corm_filter(qs, "name__contains", corm_text("o"));
    corm_order_by(qs, "-n", "id");
    assert_string_equal(annots(qs, "n"), "1:2,3:1,4:0");
    assert_true(joined(qs));
    corm_qs_free(qs);

    /* an OR of the count and a row condition: all of it in HAVING */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter_q(qs, corm_q_or(qs, corm_q_new(qs, "n__gte", corm_int(3)),
                                corm_q_new(qs, "name", corm_text("Anonymous"))));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "2:3,3:1");
    assert_true(joined(qs));
    corm_qs_free(qs);
}

/* Sum, Max and a distinct Count over the related rows; a many-to-many. */
static void test_other_aggregates(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "p", corm_Sum(qs, "books__pages"));
    corm_filter(qs, "p__gt", corm_int(1000));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "p"), "1:2340,2:1729");
    assert_true(joined(qs));
    corm_qs_free(qs);

    /* NULL where there is no related row, as the subquery */
    qs = corm_all(db, Author);
    corm_annotate(qs, "p", corm_Max(qs, "books__pages"));
    corm_filter(qs, "p__isnull", corm_bool(true));
    assert_string_equal(annots(qs, "p"), "4:NULL");
    assert_true(joined(qs));
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_annotate(qs, "d", corm_Count(qs, "books__publisher", true));
    corm_filter(qs, "d", corm_int(1));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "d"), "1:1,2:1");
    assert_true(joined(qs));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_annotate(qs, "g", corm_Count(qs, "genres", false));
    corm_filter(qs, "g__gte", corm_int(2));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "g"), "1:2,4:2");
    assert_true(joined(qs));
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_annotate(qs, "g", corm_Count(qs, "genres", false));
    corm_filter(qs, "g", corm_int(0));
    assert_string_equal(annots(qs, "g"), "6:0");
    corm_qs_free(qs);
}

/* A multi-valued filter beside the count is a semi-join of its own: it
** picks authors, never multiplies the counted rows (Django's
** "Spanning multi-valued relationships" applies to it alone). */
static void test_multivalued_filter_beside(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gte", corm_int(1));
    corm_filter(qs, "books__title__startswith", corm_text("N"));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "1:2,2:3");
    assert_true(joined(qs));
    corm_qs_free(qs);

    /* in the same call */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter_q(qs, corm_q_and(qs, corm_q_new(qs, "n__gte", corm_int(1)),
                                 corm_q_new(qs, "books__pages__lt", corm_int(300))));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "2:3,3:1");
    assert_true(joined(qs));
    corm_qs_free(qs);

    /* books__isnull and a negated multi-valued condition beside it */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__lt", corm_int(2));
    corm_filter(qs, "books__isnull", corm_bool(true));
    assert_string_equal(annots(qs, "n"), "4:0");
    assert_true(joined(qs));
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "books__isnull", corm_bool(false));
    corm_filter(qs, "n__lt", corm_int(3));
    corm_exclude(qs, "books__pages__gt", corm_int(1000));
    assert_string_equal(annots(qs, "n"), "3:1");
    assert_true(joined(qs));
    corm_qs_free(qs);

    /* aggregate() over it: the grouped SELECT is the subquery summed */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(0));
    corm_aggregate(qs, "total", corm_Sum(qs, "n"));
    corm_aggregate(qs, "most", corm_Max(qs, "n"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_row_int(qs, 0, "total"), 6);
    assert_int_equal(corm_row_int(qs, 0, "most"), 3);
    assert_non_null(strstr(corm_qs_sql(qs), " HAVING "));
    corm_qs_free(qs);

    /* select_related beside it: the joined rows grouped with the author */
    qs = corm_all(db, Author);
    corm_select_related(qs, "country");
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(1));
    corm_order_by(qs, "country__name");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        Author *a;
        char got[128] = "";
        size_t len = 0;
        corm_foreach(a, qs)
        {
            len +=
                (size_t)snprintf(got + len, sizeof got - len, "%s:%lld ", author_country(a)->name,
                                 (long long)corm_annotation(a, "n")->u.i);
        }
        assert_string_equal(got, "France:2 Japan:3 ");
    }
    assert_true(joined(qs));
    corm_qs_free(qs);
}

/* Where the join would change the counts, the correlated subquery stays. */
static void test_subquery_kept(void **state)
{
    (void)state;
    /* filter() then annotate(): only the kept books count (Django's
    ** "Order of annotate() and filter() clauses") */
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "books__pages__gt", corm_int(500));
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gte", corm_int(2));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "1:2,2:2");
    assert_false(joined(qs));
    corm_qs_free(qs);

    /* a conditional aggregate */
    qs = corm_all(db, Author);
    corm_annotate(qs, "long",
                  corm_agg_filter(qs, corm_Count(qs, "books", false),
                                  corm_q_new(qs, "books__pages__gt", corm_int(900))));
    corm_filter(qs, "long__gt", corm_int(0));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "long"), "1:2,2:1");
    assert_false(joined(qs));
    corm_qs_free(qs);

    /* two to-many aggregates: a join would multiply one by the other */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_annotate(qs, "g", corm_Count(qs, "books__genres", false));
    corm_filter(qs, "n__gt", corm_int(1));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "1:2,2:3");
    assert_string_equal(annots(qs, "g"), "1:3,2:4");
    assert_false(joined(qs));
    corm_qs_free(qs);

    /* an ordering across the relation would share its join */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(2));
    corm_order_by(qs, "books__pages");
    assert_string_equal(annots(qs, "n"), "2:3,2:3,2:3");
    assert_false(joined(qs));
    corm_qs_free(qs);

    /* no filter on it: one subquery, nothing repeated */
    qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_order_by(qs, "id");
    assert_string_equal(annots(qs, "n"), "1:2,2:3,3:1,4:0");
    assert_non_null(strstr(corm_qs_sql(qs), "(SELECT COUNT("));
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_having, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_aggregates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multivalued_filter_beside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subquery_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
