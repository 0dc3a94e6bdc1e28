/*
** test_instr_metrics_slot.c - the query metrics find a fingerprint's entry
** in a small direct-mapped slot before their map: statements whose
** fingerprints share a slot are still counted apart, and after
** corm_metrics_reset no slot counts into an entry that is gone.  Also the
** detector, which now matches a group's origin by its interned address:
** a loop of lazy loads is still one N+1 finding with its count.
**
** Fixture (test.h): books 1,2 by author 1; 3,4,5 by author 2; 6 by author
** 3; author 4 has none.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    db = test_db_open_logging();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* Statements of distinct fingerprints (more than the slots there are). */
static const char *const texts[] = {
    "SELECT 1 FROM book",      "SELECT 1 FROM author",       "SELECT id FROM book",
    "SELECT id FROM author",   "SELECT title FROM book",     "SELECT name FROM author",
    "SELECT pages FROM book",  "SELECT id, title FROM book", "SELECT id, name FROM author",
    "SELECT 1 FROM publisher", "SELECT id FROM publisher",   "SELECT 2, 3 FROM book",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

/* The metrics' statement counts: how many fingerprints, each counted
** `want` times (all must be). */
static size_t counted(int want)
{
    corm_instr *in = corm_db_instr(db);
    size_t need = corm_metrics_prometheus(in, NULL, 0);
    char *text = malloc(need + 1);
    assert_non_null(text);
    assert_int_equal(corm_metrics_prometheus(in, text, need + 1), need);
    size_t n = 0;
    const char *key = "corm_statements_total{fingerprint=\"";
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        const char *sp = eol;
        while (sp > p && sp[-1] != ' ') sp--;
        assert_int_equal(atoi(sp), want);
        n++;
    }
    free(text);
    return n;
}

static void test_slots_count_apart(void **state)
{
    (void)state;
    corm_metrics_reset(corm_db_instr(db));
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < NTEXTS; i++) {
            /* interleaved: a slot's entry changes between repeats */
            size_t k = round == 1 ? NTEXTS - 1 - i : i;
            assert_int_equal(corm_exec(db, texts[k]), CORM_OK);
        }
    assert_int_equal(counted(3), NTEXTS);
}

static void test_reset_leaves_no_stale_slot(void **state)
{
    (void)state;
    corm_instr *in = corm_db_instr(db);
    corm_metrics_reset(in);
    for (size_t i = 0; i < NTEXTS; i++) assert_int_equal(corm_exec(db, texts[i]), CORM_OK);
    corm_metrics_reset(in);
    /* the last statements' slots point past the (now empty) metrics */
    assert_int_equal(corm_exec(db, texts[NTEXTS - 1]), CORM_OK);
    assert_int_equal(corm_exec(db, texts[NTEXTS - 1]), CORM_OK);
    assert_int_equal(counted(2), 1);
    corm_metrics_reset(in);
    assert_int_equal(corm_exec(db, texts[0]), CORM_OK);
    assert_int_equal(corm_exec(db, texts[1]), CORM_OK);
    assert_int_equal(counted(1), 2);
}

static void test_lazy_loads_one_group(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "loop");
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs) assert_non_null(book_author(b));
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 7);
    size_t n = corm_capture_nfindings(c);
    assert_int_equal(n, 1);
    const corm_finding *f = corm_capture_finding(c, 0);
    assert_int_equal(f->kind, CORM_FINDING_N_PLUS_ONE);
    assert_int_equal(f->count, 6);
    corm_capture_free(c);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_count_apart),
        cmocka_unit_test(test_reset_leaves_no_stale_slot),
        cmocka_unit_test(test_lazy_loads_one_group),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
