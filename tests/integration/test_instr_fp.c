/*
** test_instr_fp.c - the fingerprint a memoized statement's event carries
** (computed once for its compiled-SQL memo entry, not looked up again by
** the instrumentation) is the fingerprint of the text that ran, on the
** miss that made the entry and on every hit; and the detector that no
** longer hashes the values of lazy loads, nor of statements outside
** captures, still finds duplicates and similar statements where it must.
**
** Fixture (test.h): books 1,2 by author 1; 3,4,5 by author 2; 6 by author
** 3; author 4 has none.
*/
#include "test.h"

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

/* Every event's fingerprint against the one of its text. */
typedef struct seen {
    size_t n, wrong;
    uint64_t fp[64];
} seen;

static void on_event(void *ud, const corm_event *ev)
{
    seen *s = ud;
    uint64_t want = corm_sql_fingerprint(ev->sql, NULL, 0);
    if (ev->fingerprint != want || want == 0) s->wrong++;
    if (s->n < 64) s->fp[s->n] = ev->fingerprint;
    s->n++;
}

static void test_memo_fingerprint(void **state)
{
    (void)state;
    seen s = {0};
    int h = corm_on_query(db, on_event, &s);
    assert_true(h >= 0);
    /* each shape three times: the first a memo miss, then hits */
    for (int64_t a = 1; a <= 3; a++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(a));
        assert_true(corm_count(qs) > 0);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(a));
        corm_filter(qs, "pages__gt", corm_int(0));
        assert_true(corm_exists(qs) >= 0);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(a));
        corm_order_by(qs, "id");
        assert_int_equal(corm_eval(qs), CORM_OK);
        corm_qs_free(qs);
    }
    assert_int_equal(s.n, 9);
    assert_int_equal(s.wrong, 0);
    for (int i = 3; i < 9; i++) assert_true(s.fp[i] == s.fp[i % 3]);
    assert_true(s.fp[0] != s.fp[1] && s.fp[1] != s.fp[2] && s.fp[0] != s.fp[2]);

    /* a shape of the same model with another text: another fingerprint */
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_null());
    assert_int_equal(corm_count(qs), 0);
    corm_qs_free(qs);
    assert_int_equal(s.n, 10);
    assert_true(s.fp[9] != s.fp[0]);

    /* a lazy load (the fetch layer's statement) and a query the memo does
    ** not keep (values: compiled every time) */
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    Book *b = corm_qs_at(qs, 0);
    assert_non_null(b);
    assert_non_null(book_author(b));
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_values(qs, "title");
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_qs_free(qs);
    assert_int_equal(s.n, 13);
    assert_int_equal(s.wrong, 0);

    /* nothing left over for a statement that did not run (an empty in) */
    qs = corm_all(db, Book);
    int64_t none[1];
    corm_filter(qs, "id__in", corm_ints(none, 0));
    assert_int_equal(corm_count(qs), 0);
    corm_qs_free(qs);
    assert_int_equal(corm_exec(db, "SELECT 1"), CORM_OK);
    assert_int_equal(s.n, 14);
    assert_int_equal(s.wrong, 0);
    corm_off_query(db, h);
}

static size_t nof(corm_capture *c, corm_finding_kind k) { return corm_capture_nfindings_of(c, k); }

/* count() and exists() from a memo hit in an explicit capture: the same
** values twice are a duplicate, other values a similar statement. */
static void test_duplicates_of_hits(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "dups");
    for (int i = 0; i < 3; i++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(2));
        assert_int_equal(corm_count(qs), 3);
        corm_qs_free(qs);
    }
    for (int64_t a = 1; a <= 2; a++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(a));
        corm_filter(qs, "pages__gt", corm_int(0));
        assert_true(corm_exists(qs) >= 0);
        corm_qs_free(qs);
    }
    corm_capture_end(c);
    assert_int_equal(nof(c, CORM_FINDING_DUPLICATE), 1);
    assert_int_equal(nof(c, CORM_FINDING_SIMILAR), 1);
    for (size_t i = 0; i < corm_capture_nfindings(c); i++) {
        const corm_finding *f = corm_capture_finding(c, i);
        if (f->kind == CORM_FINDING_DUPLICATE) assert_int_equal(f->count, 3);
        if (f->kind == CORM_FINDING_SIMILAR) assert_int_equal(f->count, 2);
    }
    corm_capture_free(c);

    /* the same loops with no capture open, then a capture: the root's
    ** statements make no duplicate in it */
    for (int i = 0; i < 2; i++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(3));
        assert_int_equal(corm_count(qs), 1);
        corm_qs_free(qs);
    }
    c = corm_capture_begin(db, "after");
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(3));
    assert_int_equal(corm_count(qs), 1);
    corm_qs_free(qs);
    corm_capture_end(c);
    assert_int_equal(corm_capture_nfindings(c), 0);
    corm_capture_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_fingerprint),
        cmocka_unit_test(test_duplicates_of_hits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
