/*
** test_compile_write.c - the compiler pieces of writes without a database:
** the WHERE of an UPDATE/DELETE (plain, and a semi-join when a filter needs
** a join), SET expressions, and default scopes on SELECTs (static values
** bound, runtime values read from the env, a missing one refused, none
** when unscoped) on both dialects.
*/
#include "test.h"
#include "sql/compile_int.h"

#include <string.h>

static char text[4096];
static corm_error err;

/* WHERE of q for a write, after `nbefore` parameters already bound. */
static corm_rc where_of(const corm__query *q, const corm__dialect *d, int nbefore, int *nparams,
                        bool *empty)
{
    corm__compiled c;
    corm__compiled_init(&c);
    corm_buf w;
    corm__buf_init(&w);
    corm_rc rc = CORM_OK;
    for (int i = 0; i < nbefore && rc == CORM_OK; i++)
        rc = corm__compiled_param(&c, d, &w, corm_int(i), &err);
    corm__buf_reset(&w);
    if (rc == CORM_OK) rc = corm__compile_where(q, d, &c, &w, empty, &err);
    snprintf(text, sizeof text, "%s", rc == CORM_OK ? corm__buf_cstr(&w) : "");
    *nparams = c.nparams;
    corm__buf_free(&w);
    corm__compiled_free(&c);
    return rc;
}

static void test_where_for_writes(void **state)
{
    (void)state;
    int n;
    bool empty;
    corm__query all = {.model = &Book_model, .limit = -1};
    assert_int_equal(where_of(&all, &corm__sqlite_dialect, 0, &n, &empty), CORM_OK);
    assert_true(empty);
    assert_string_equal(text, "");

    struct corm_q leaf = {.kind = CORM__Q_LEAF, .lookup = "pages__gt", .value = corm_int(100)};
    corm__query q = {.model = &Book_model, .where = &leaf, .limit = -1};
    assert_int_equal(where_of(&q, &corm__sqlite_dialect, 2, &n, &empty), CORM_OK);
    assert_false(empty);
    assert_string_equal(text, "T0.\"pages\" > ?");
    assert_int_equal(n, 3);
    /* numbered on after the SET parameters on PostgreSQL */
    assert_int_equal(where_of(&q, &corm__pg_dialect, 2, &n, &empty), CORM_OK);
    assert_string_equal(text, "T0.\"pages\" > $3");

    /* a join cannot be in an UPDATE/DELETE: a semi-join on the pk */
    struct corm_q joined = {
        .kind = CORM__Q_LEAF, .lookup = "author__name", .value = corm_text("x")};
    q.where = &joined;
    assert_int_equal(where_of(&q, &corm__sqlite_dialect, 0, &n, &empty), CORM_OK);
    assert_string_equal(text,
                        "T0.\"id\" IN (SELECT T0.\"id\" FROM \"book\" T0 INNER JOIN \"author\" T1"
                        " ON (T0.\"author_id\" = T1.\"id\") WHERE T1.\"name\" = ?)");
    assert_int_equal(n, 1);
}

static void test_set_expressions(void **state)
{
    (void)state;
    struct corm_expr f = {.kind = CORM__E_FIELD, .path = "pages"};
    struct corm_expr v = {.kind = CORM__E_VALUE, .value = corm_int(1)};
    struct corm_expr plus = {.kind = CORM__E_BINOP, .op = '+', .a = &f, .b = &v};
    corm__query q = {.model = &Book_model, .limit = -1};
    corm__compiled c;
    corm__compiled_init(&c);
    corm_buf w;
    corm__buf_init(&w);
    assert_int_equal(corm__compile_set_expr(&q, &corm__sqlite_dialect, &c, &w, &plus, &err),
                     CORM_OK);
    assert_non_null(strstr(corm__buf_cstr(&w), "T0.\"pages\""));
    assert_int_equal(c.nparams, 1);
    /* a joined field is refused, as Django */
    struct corm_expr joined = {.kind = CORM__E_FIELD, .path = "author__name"};
    corm__buf_reset(&w);
    assert_int_equal(corm__compile_set_expr(&q, &corm__sqlite_dialect, &c, &w, &joined, &err),
                     CORM_INVALID);
    assert_non_null(strstr(err.message, "joined field"));
    corm__buf_free(&w);
    corm__compiled_free(&c);
}

static corm_rc select_of(const corm__query *q, const corm__dialect *d, int *nparams)
{
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select(q, CORM__SEL_COUNT, d, &c, &err);
    snprintf(text, sizeof text, "%s", rc == CORM_OK ? corm__buf_cstr(&c.sql) : "");
    *nparams = c.nparams;
    corm__compiled_free(&c);
    return rc;
}

static void test_default_scopes(void **state)
{
    (void)state;
    int n;
    corm__query q = {.model = &Invoice_model, .limit = -1};
    /* a runtime scope without a value: refused, nothing compiled */
    assert_int_equal(select_of(&q, &corm__sqlite_dialect, &n), CORM_MISUSE);
    assert_non_null(strstr(err.message, "tenant_id"));
    assert_non_null(strstr(err.hint, "corm_scope_set"));

    corm__scope_env env = {0};
    env.n = 1;
    corm__strlcpy(env.vals[0].name, "tenant_id", sizeof env.vals[0].name);
    env.vals[0].v = corm_int(7);
    q.scopes = &env;
    assert_int_equal(select_of(&q, &corm__sqlite_dialect, &n), CORM_OK);
    assert_string_equal(text, "SELECT COUNT(*) FROM \"invoice\" T0 WHERE T0.\"tenant_id\" = ? AND "
                              "T0.\"is_void\" = ?");
    assert_int_equal(n, 2);
    /* with a filter: the scopes first, then the filter, in parameter order */
    struct corm_q leaf = {.kind = CORM__Q_LEAF, .lookup = "total__gt", .value = corm_int(5)};
    q.where = &leaf;
    assert_int_equal(select_of(&q, &corm__pg_dialect, &n), CORM_OK);
    assert_string_equal(text, "SELECT COUNT(*) FROM \"invoice\" T0 WHERE T0.\"tenant_id\" = $1 AND "
                              "T0.\"is_void\" = $2 AND T0.\"total\" > $3");
    /* unscoped: none of it */
    q.unscoped = true;
    assert_int_equal(select_of(&q, &corm__sqlite_dialect, &n), CORM_OK);
    assert_string_equal(text, "SELECT COUNT(*) FROM \"invoice\" T0 WHERE T0.\"total\" > ?");
    assert_int_equal(n, 1);
    /* models without scopes are untouched */
    corm__query b = {.model = &Book_model, .limit = -1, .scopes = &env};
    assert_int_equal(select_of(&b, &corm__sqlite_dialect, &n), CORM_OK);
    assert_string_equal(text, "SELECT COUNT(*) FROM \"book\" T0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where_for_writes),
        cmocka_unit_test(test_set_expressions),
        cmocka_unit_test(test_default_scopes),
    };
    return cmocka_run_group_tests_name("compile_write", tests, NULL, NULL);
}
