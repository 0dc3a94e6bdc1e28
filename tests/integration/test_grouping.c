/*
** test_grouping.c - values() grouping by non-aggregate annotations (as
** Django groups by them; PostgreSQL refuses the query otherwise), explain
** of a raw SQL queryset, and the late eager load finding's fix naming the
** path given.  Exact rows and query counts on both backends.
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

/* "a=1 x=2 n=1;..." of every row of an evaluated values() queryset */
static const char *rows_text(corm_qs *qs)
{
    static char buf[1024];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t r = 0; r < corm_qs_len(qs); r++) {
        for (size_t c = 0; c < corm_qs_ncols(qs); c++) {
            const corm_value *v = corm_qs_cell(qs, r, c);
            const char *name = corm_qs_colname(qs, c);
            if (v->type == CORM_V_NULL)
                len +=
                    (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=NULL", c ? " " : "", name);
            else
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%lld", c ? " " : "",
                                        name, (long long)corm_row_int(qs, r, name));
        }
        len += (size_t)snprintf(buf + len, sizeof buf - len, ";");
    }
    return buf;
}

/* values("author") + x = F("publisher") + n = Count("id"): one row per
** (author, publisher), as in Django (the non-aggregate annotation is a
** grouping column).  Fixture: author 1 has books of publisher 1 and none;
** author 2 two of publisher 1 and one of none; author 3 one of none. */
static void test_field_annotation_groups(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "x", corm_F(qs, "publisher"));
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "author", "x");
    /* its count counts the groups */
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 5); }
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    /* NULL sorts first on SQLite, last on PostgreSQL (as in Django) */
    assert_string_equal(rows_text(qs),
                        TEST_SQL("author=1 x=NULL n=1;author=1 x=1 n=1;"
                                 "author=2 x=NULL n=1;author=2 x=1 n=2;author=3 x=NULL n=1;",
                                 "author=1 x=1 n=1;author=1 x=NULL n=1;"
                                 "author=2 x=1 n=2;author=2 x=NULL n=1;author=3 x=NULL n=1;"));
    assert_non_null(strstr(corm_qs_sql(qs), " GROUP BY T0.\"author_id\", 2"));
    corm_qs_free(qs);
}

/* An expression over fields with a bound value: grouped by its column
** position, so the value is bound once and the text does not depend on it.
** pages / 500: author 1 has 1400 (2) and 940 (1); author 2 296 (0), 505
** and 928 (1); author 3 200 (0). */
static void test_expression_annotation_groups(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "pages"), '/', corm_V(qs, corm_int(500))));
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_annotate(qs, "total", corm_Sum(qs, "pages"));
    corm_order_by(qs, "author", "x");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_string_equal(rows_text(qs), "author=1 x=1 n=1 total=940;author=1 x=2 n=1 total=1400;"
                                       "author=2 x=0 n=1 total=296;author=2 x=1 n=2 total=1433;"
                                       "author=3 x=0 n=1 total=200;");
    corm_qs_free(qs);

    /* F("pages") * 2: one group per book, the doubled pages */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "pages"), '*', corm_V(qs, corm_int(2))));
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "x");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_string_equal(rows_text(qs), "author=3 x=400 n=1;author=2 x=592 n=1;"
                                       "author=2 x=1010 n=1;author=2 x=1856 n=1;"
                                       "author=1 x=1880 n=1;author=1 x=2800 n=1;");
    corm_qs_free(qs);

    /* the annotation named in values() itself groups too; a constant
    ** annotation groups nothing (Django's Value) */
    qs = corm_all(db, Book);
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "pages"), '/', corm_V(qs, corm_int(1000))));
    corm_values(qs, "x");
    corm_annotate(qs, "one", corm_V(qs, corm_int(1)));
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "x");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_string_equal(rows_text(qs), "x=0 one=1 n=5;x=1 one=1 n=1;");
    corm_qs_free(qs);
}

/* explain of corm_sql / corm_raw: the plan of the SQL as written (its
** placeholders translated, its parameters bound); one query each. */
static void test_explain_raw(void **state)
{
    (void)state;
    corm_value p[] = {corm_int(900)};
    corm_qs *qs = corm_sql(db, "SELECT title FROM book WHERE pages > %s ORDER BY id", p, 1);
    const char *plan = NULL;
    CORM_ASSERT_NUM_QUERIES(db, 1) { plan = corm_explain(qs); }
    assert_non_null(plan);
    assert_non_null(strstr(plan, TEST_SQL("book", "on book")));
    assert_string_equal(corm_qs_sql(qs),
                        TEST_SQL("SELECT title FROM book WHERE pages > ? ORDER BY id",
                                 "SELECT title FROM book WHERE pages > $1 ORDER BY id"));
    const corm_value *params = NULL;
    assert_int_equal(corm_qs_sql_params(qs, &params), 1);
    assert_int_equal(params[0].u.i, 900);
    /* still evaluates to its rows */
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 3);
    assert_string_equal(corm_row_text(qs, 2, "title"), "1Q84");
    corm_qs_free(qs);

    /* objects from raw SQL: its plan, not the model's SELECT's */
    qs = corm_raw(db, Book, "SELECT * FROM book WHERE id = %s", (corm_value[]){corm_int(2)}, 1);
    CORM_ASSERT_NUM_QUERIES(db, 1) { plan = corm_explain(qs); }
    assert_non_null(plan);
    assert_string_equal(corm_qs_sql(qs), TEST_SQL("SELECT * FROM book WHERE id = ?",
                                                  "SELECT * FROM book WHERE id = $1"));
    corm_qs_free(qs);

    /* bad SQL: no plan, the database's error on the queryset */
    qs = corm_sql(db, "SELECT nope FROM book", NULL, 0);
    assert_null(corm_explain(qs));
    assert_true(corm_qs_failed(qs));
    assert_non_null(strstr(corm_qs_error(qs)->message, "nope"));
    corm_qs_free(qs);
}

static const corm_finding *only_finding(corm_capture *c, corm_finding_kind kind)
{
    const corm_finding *found = NULL;
    for (size_t i = 0; i < corm_capture_nfindings(c); i++)
        if (corm_capture_finding(c, i)->kind == kind) {
            assert_null(found);
            found = corm_capture_finding(c, i);
        }
    assert_non_null(found);
    return found;
}

/* A late eager load: the fix names the path given, not the model. */
static void test_late_eager_fix_names_path(void **state)
{
    (void)state;
    char want[512], built[64];
    corm_capture *cap = corm_capture_begin(db, "late");
    corm_qs *qs = corm_all(db, Author);
    snprintf(built, sizeof built, "%s:%d", __FILE__, __LINE__ - 1);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { corm_prefetch_related(qs, "books__genres"); }
    assert_int_equal(corm_qs_late_eager(qs), 1);
    corm_capture_end(cap);
    const corm_finding *f = only_finding(cap, CORM_FINDING_LATE_EAGER);
    snprintf(want, sizeof want,
             "call corm_prefetch_related(qs, \"books__genres\") before the queryset is evaluated "
             "(before corm_foreach, corm_eval, corm_count or corm_get), right after it is built "
             "at %s",
             built);
    assert_string_equal(f->fix, want);
    snprintf(want, sizeof want,
             "corm_prefetch_related(\"books__genres\") at %s came after the Author queryset was "
             "evaluated: it did nothing",
             built);
    assert_string_equal(f->message, want);
    corm_capture_free(cap);
    corm_qs_free(qs);

    /* select_related of two paths: a finding (and a fix) for each */
    cap = corm_capture_begin(db, "late2");
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    corm_select_related(qs, "author", "publisher");
    assert_int_equal(corm_qs_late_eager(qs), 1);
    corm_capture_end(cap);
    assert_int_equal(corm_capture_nfindings_of(cap, CORM_FINDING_LATE_EAGER), 2);
    const char *fixes[2] = {NULL, NULL};
    for (size_t i = 0, k = 0; i < corm_capture_nfindings(cap); i++)
        if (corm_capture_finding(cap, i)->kind == CORM_FINDING_LATE_EAGER)
            fixes[k++] = corm_capture_finding(cap, i)->fix;
    assert_non_null(strstr(fixes[0], "call corm_select_related(qs, \"author\") before"));
    assert_non_null(strstr(fixes[1], "call corm_select_related(qs, \"publisher\") before"));
    corm_capture_free(cap);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_field_annotation_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expression_annotation_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_eager_fix_names_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
