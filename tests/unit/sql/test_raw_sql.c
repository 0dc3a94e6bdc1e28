/*
** test_raw_sql.c - the portable placeholders of raw SQL: %s becomes each
** dialect's placeholder outside string literals, quoted identifiers and
** comments, %% a literal %, native text is left alone, and malformed text
** (a lone %, a wrong number of %s) is an error that says what to write.
*/
#include "test.h"
#include "sql/sql_int.h"

#include <string.h>

static char out[1024];
static corm_error err;

/* The translation of sql for d with n parameters, "<native>" when the
** text is left as written, "<error>" on an error (in err). */
static const char *tr(const corm__dialect *d, const char *sql, int n)
{
    corm_buf b;
    corm__buf_init(&b);
    bool translated;
    memset(&err, 0, sizeof err);
    corm_rc rc = corm__sql_raw_translate(sql, d, n, &b, &translated, &err);
    snprintf(out, sizeof out, "%s",
             rc != CORM_OK ? "<error>"
             : translated  ? corm__buf_cstr(&b)
                           : "<native>");
    corm__buf_free(&b);
    return out;
}

static void test_placeholders(void **state)
{
    (void)state;
    const corm__dialect *lite = &corm__sqlite_dialect, *pg = &corm__pg_dialect;
    const char *sql = "SELECT id FROM book WHERE pages > %s AND title <> %s";
    assert_string_equal(tr(lite, sql, 2), "SELECT id FROM book WHERE pages > ? AND title <> ?");
    assert_string_equal(tr(pg, sql, 2), "SELECT id FROM book WHERE pages > $1 AND title <> $2");
    /* %% is one %, outside quotes: modulo, and with a placeholder */
    assert_string_equal(tr(pg, "SELECT pages %% 7 FROM book WHERE id = %s", 1),
                        "SELECT pages % 7 FROM book WHERE id = $1");
    assert_string_equal(tr(lite, "SELECT 10 %% 3", 0), "SELECT 10 % 3");
    /* inside literals, identifiers and comments the text is text */
    assert_string_equal(tr(pg,
                           "SELECT '%s', 'it''s %s', \"a%sb\" -- %s\n"
                           "/* %s %% */ FROM t WHERE x LIKE 'a%' AND y = %s",
                           1),
                        "SELECT '%s', 'it''s %s', \"a%sb\" -- %s\n"
                        "/* %s %% */ FROM t WHERE x LIKE 'a%' AND y = $1");
    assert_string_equal(tr(pg, "SELECT E'\\'%s' WHERE a = %s", 1), "SELECT E'\\'%s' WHERE a = $1");
    assert_string_equal(tr(lite, "SELECT [w%s] FROM t WHERE a = %s", 1),
                        "SELECT [w%s] FROM t WHERE a = ?");
    /* ten and more parameters on PostgreSQL */
    assert_string_equal(tr(pg, "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", 11),
                        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)");
}

static void test_native(void **state)
{
    (void)state;
    /* no %s nor %%: the text is the dialect's own and runs as written */
    assert_string_equal(tr(&corm__sqlite_dialect, "SELECT x % 4 FROM t WHERE a = ?", 1),
                        "<native>");
    assert_string_equal(tr(&corm__pg_dialect, "SELECT x % 4 FROM t WHERE a = $1", 1), "<native>");
    assert_string_equal(tr(&corm__pg_dialect, "SELECT '%s' -- %s", 0), "<native>");
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(tr(&corm__pg_dialect, "SELECT x % 4 FROM t WHERE a = %s", 1), "<error>");
    assert_int_equal(err.rc, CORM_INVALID);
    assert_string_equal(err.message, "raw SQL uses %s placeholders and has a lone % at offset 9 "
                                     "(\"% 4 FROM t W\")");
    assert_non_null(strstr(err.hint, "write %% for a literal %"));
    assert_string_equal(tr(&corm__sqlite_dialect, "SELECT %s, %s", 1), "<error>");
    assert_string_equal(err.message, "raw SQL has 2 %s placeholders and 1 parameter");
    assert_non_null(strstr(err.hint, "one value per %s"));
    assert_string_equal(tr(&corm__sqlite_dialect, "SELECT '%s' WHERE a = %s", 2), "<error>");
    assert_string_equal(err.message, "raw SQL has 1 %s placeholder and 2 parameters");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_native),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
