/*
** test_report.c - `corm report`: the report of a recorded log
** (tests/report/recorded.jsonl, a `corm demo` run with CORM_LOG=json:...)
** matches tests/report/expected.txt; and on a log this test writes, the
** report names the N+1 with its fix and, from EXPLAIN on the test
** database, the index to add for a scan on a filtered column.
** Runs the CLI built beside the tests ($B/corm).
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static corm_db *db;

static void quiet(void *ud, const corm_finding *f)
{
    (void)ud;
    (void)f;
}

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    corm_instr_on_finding(corm_db_instr(db), quiet, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* The output of `corm report ARGS` (owned), and its exit status. */
static char *run_report(const char *args, int *status)
{
    /* the build this program is part of: B/tests/integration/test_report
    ** (B=... from make overrides) */
    const char *b = getenv("B");
    char self[1024] = "build";
    ssize_t n_self = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n_self > 0) {
        self[n_self] = '\0';
        char *cut = strstr(self, "/tests/integration/");
        if (cut) *cut = '\0';
        else snprintf(self, sizeof self, "build");
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/corm report %s 2>&1", b && *b ? b : self, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap) out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    *status = pclose(p);
    return out;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static void test_recorded_log(void **state)
{
    (void)state;
    int status;
    char *out = run_report("tests/report/recorded.jsonl --top 4", &status);
    char *want = slurp("tests/report/expected.txt");
    assert_int_equal(status, 0);
    assert_string_equal(out, want);
    free(out);
    free(want);
    out = run_report("tests/report/no-such-log.jsonl", &status);
    assert_int_not_equal(status, 0);
    assert_non_null(strstr(out, "cannot read 'tests/report/no-such-log.jsonl'"));
    free(out);
}

static size_t sink;

static void test_live_log_with_explain(void **state)
{
    (void)state;
    char path[] = "/tmp/corm-report-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char spec[300];
    snprintf(spec, sizeof spec, "json:%s", path);
    corm_instr *in = corm_db_instr(db);
    assert_int_equal(corm_instr_log(in, spec), CORM_OK);

    corm_capture *c = corm_capture_begin(db, "GET /books");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs) sink += strlen(book_author(b)->name);
    corm_qs_free(qs);
    /* a filter on a column with no index, a few times */
    for (int i = 0; i < 3; i++) {
        corm_qs *big = corm_all(db, Book);
        corm_filter(big, "pages__gt", corm_int(300 + i));
        assert_int_equal(corm_eval(big), CORM_OK);
        corm_qs_free(big);
    }
    corm_capture_end(c);
    corm_capture_free(c);
    assert_int_equal(corm_instr_log(in, "off"), CORM_OK);

    char args[1024];
    snprintf(args, sizeof args, "%s --db '%s' --schema examples/bookstore.corm", path,
             test_db_url());
    int status;
    char *out = run_report(args, &status);
    unlink(path);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "10 statements"));
    char want[512];
    snprintf(want, sizeof want, "  n_plus_one Book.author x6 at %s:", __FILE__);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "      fix: corm_select_related(qs, \"author\") at %s:%d\n",
             __FILE__, built);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "  similar Book x3 at "));
    assert_non_null(strstr(out, "\nIndex advice (EXPLAIN on "));
    if (!test_db_is_pg()) {
        /* SQLite plans even tiny tables by their indexes */
        assert_non_null(
            strstr(out, "    plan: SCAN T0\n    book is scanned, filtered on pages\n"
                        "      add to model Book in the schema:  pages: integer db_index\n"));
        /* and how the schema change reaches the database */
        char mig[1400];
        snprintf(mig, sizeof mig,
                 "  then make the migration and apply it:\n"
                 "      corm makemigrations examples/bookstore.corm --dir migrations\n"
                 "      corm migrate examples/bookstore.corm --db %s --dir migrations\n",
                 test_db_url());
        assert_non_null(strstr(out, mig));
        /* the filter on the primary key needs nothing */
        assert_null(strstr(out, "filtered on id"));
    }
    free(out);
}

/* Index advice that is true (issue 21): none for a column the database
** has an index on (its catalog, here an index the schema does not
** declare), none for a sort key no index can serve (an annotation); and
** still the advice for a filter on a column with no index. */
static void test_index_advice_checked(void **state)
{
    (void)state;
    TEST_OK_DB(db, corm_exec(db, "CREATE INDEX book_pages_by_hand ON book (pages)"));
    char path[] = "/tmp/corm-report-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char spec[300];
    snprintf(spec, sizeof spec, "json:%s", path);
    corm_instr *in = corm_db_instr(db);
    assert_int_equal(corm_instr_log(in, spec), CORM_OK);
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(300)); /* indexed by hand */
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_qs_free(qs);
    corm_qs *rated = corm_all(db, Book);
    corm_annotate(rated, "avg_rating", corm_Avg(rated, "reviews__rating"));
    corm_order_by(rated, "-avg_rating", "title"); /* sorted by a computed value */
    assert_int_equal(corm_eval(rated), CORM_OK);
    corm_qs_free(rated);
    qs = corm_all(db, Book);
    corm_filter(qs, "description", corm_text("fixture")); /* no index */
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_qs_free(qs);
    assert_int_equal(corm_instr_log(in, "off"), CORM_OK);

    char args[1024];
    snprintf(args, sizeof args, "%s --db '%s' --schema examples/bookstore.corm", path,
             test_db_url());
    int status;
    char *out = run_report(args, &status); /* EXPLAIN while the index exists */
    unlink(path);
    TEST_OK_DB(db, corm_exec(db, "DROP INDEX book_pages_by_hand"));
    assert_int_equal(status, 0);
    const char *advice = strstr(out, "\nIndex advice (EXPLAIN on ");
    assert_non_null(advice);
    if (getenv("CORM_TEST_VERBOSE")) printf("%s", advice);
    if (!strstr(advice, "      add to model Book in the schema:  description: text db_index\n"))
        fail_msg("no advice for the filter on description:\n%s", advice);
    if (strstr(advice, "pages: integer db_index") || strstr(advice, "index (title") ||
        strstr(advice, "index (-title") || strstr(advice, "avg_rating)") ||
        strstr(advice, "is indexed, but"))
        fail_msg("advice that is not true:\n%s", advice);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_log),
        cmocka_unit_test(test_live_log_with_explain),
        cmocka_unit_test(test_index_advice_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
