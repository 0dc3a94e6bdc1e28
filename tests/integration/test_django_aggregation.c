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
    corm_annotate(qs, "x",
                  corm_arith(qs,
                             corm_arith(qs, corm_F(qs, "publisher"), '*',
                                        corm_V(qs, corm_int(1000))),
                             '+', corm_Count(qs, "id", false)));
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_filter(qs, "n__gte", corm_int(1));
    corm_order_by(qs, "author", "-n");
    assert_string_equal(rows(qs), "author=1 x=1001 n=1;author=1 x=NULL n=1;"
                                  "author=2 x=1002 n=2;author=2 x=NULL n=1;"
                                  "author=3 x=NULL n=1;");
    /* the number is a literal in both places: PostgreSQL matches the
    ** select list's expression to GROUP BY's by their text */
    assert_non_null(strstr(corm_qs_sql(qs), "((T0.\"publisher_id\" * 1000) + COUNT(T0.\"id\")) AS \"x\""));
    assert_non_null(strstr(corm_qs_sql(qs), " GROUP BY T0.\"author_id\", (T0.\"publisher_id\" * 1000) HAVING"));
    corm_qs_free(qs);

    /* its count counts the groups */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "publisher"), '+', corm_Count(qs, "id", false)));
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
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "pages"), '+', corm_Count(qs, "genres", false)));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "x"), "1:1402,2:941,3:297,4:507,5:929,6:200");
    corm_qs_free(qs);

    /* a local aggregate: Count("id") of each book's own row */
    qs = corm_all(db, Book);
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "author__country"), '+', corm_Count(qs, "id", false)));
    corm_order_by(qs, "id");
    assert_string_equal(test_annots(qs, "x"), "1:2,2:2,3:3,4:3,5:3,6:NULL");
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mixed_annotation_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_annotation_objects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
