/*
** test_blind_spots.c - the N+1 detector on objects that do not come from
** a queryset's own evaluation: an iterator's chunks and a raw SELECT's
** objects are multi-row results like any other (log mode reports, strict
** mode refuses, auto mode batch-loads per chunk), select_related on a raw
** queryset is an error, and children reached through a prefetched reverse
** relation reading their parent back.
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

static char names[512];
static void add_name(const Author *a)
{
    strcat(names, a ? a->name : "(null)");
    strcat(names, ";");
}

static const char ALL_AUTHORS[] = "Victor Hugo;Victor Hugo;Haruki Murakami;Haruki Murakami;"
                                  "Haruki Murakami;Anonymous;";

static const char *at(int line)
{
    static char buf[2][160];
    static int k;
    k = (k + 1) % 2;
    snprintf(buf[k], sizeof buf[k], "%s:%d", __FILE__, line);
    return buf[k];
}

static char fixbuf[512];
static const char *fix(const char *code, int line)
{
    snprintf(fixbuf, sizeof fixbuf, "%s at %s", code, at(line));
    return fixbuf;
}

static const corm_finding *only_n_plus_one(corm_capture *c)
{
    if (corm_capture_nfindings(c) != 1)
        fail_msg("%zu findings, 1 expected:\n%s", corm_capture_nfindings(c),
                 corm_capture_report(c));
    const corm_finding *f = corm_capture_finding(c, 0);
    assert_int_equal(f->kind, CORM_FINDING_N_PLUS_ONE);
    return f;
}

static void assert_site(corm_site s, int line)
{
    assert_non_null(s.file);
    assert_string_equal(s.file, __FILE__);
    assert_int_equal(s.line, line);
}

static struct {
    int calls;
    char msg[2048];
    int line;
} failed;
static void record_fail(void *ud, const char *msg, const char *file, int line)
{
    (void)ud;
    (void)file;
    if (!failed.calls++) snprintf(failed.msg, sizeof failed.msg, "%s", msg);
    failed.line = line;
}

/* ------------------------------------------------------------ iterator */

static void test_iterator_log(void **state)
{
    (void)state;
    names[0] = 0;
    corm_capture *c = corm_capture_begin(db, "iterator");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 4); /* chunks of 4 and 2 books */
    Book *b;
    int line = 0;
    while ((b = corm_iter_next(it))) {
        line = __LINE__ + 1;
        add_name(book_author(b));
    }
    corm_iter_free(it);
    corm_capture_end(c);
    assert_string_equal(names, ALL_AUTHORS);
    assert_int_equal(corm_capture_count(c), 7);
    /* the iterator's statement is logged when it runs, before the lazy
    ** loads its objects caused */
    assert_string_equal(corm_capture_event(c, 0)->origin, "iterator");
    assert_int_equal(corm_capture_event(c, 0)->rows, 4); /* the first chunk's */
    assert_string_equal(corm_capture_event(c, 1)->origin, "fk:Book.author");
    const corm_finding *f = only_n_plus_one(c);
    assert_string_equal(f->model, "Book");
    assert_string_equal(f->relation, "author");
    assert_int_equal(f->count, 6);
    assert_site(f->site, line);
    assert_site(f->built, built);
    assert_string_equal(f->fix, fix("corm_select_related(qs, \"author\")", built));
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_iterator_covered(void **state)
{
    (void)state;
    /* select_related and prefetch_related on an iterator: no finding */
    names[0] = 0;
    corm_capture *c = corm_capture_begin(db, "iterator eager");
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_select_related(qs, "author");
    corm_prefetch_related(qs, "genres");
    corm_iter *it = corm_iterator(qs, 4);
    Book *b;
    size_t ngenres = 0;
    while ((b = corm_iter_next(it))) {
        add_name(book_author(b));
        ngenres += book_genres(b)->n;
    }
    corm_iter_free(it);
    corm_capture_end(c);
    assert_string_equal(names, ALL_AUTHORS);
    assert_int_equal(ngenres, 7);
    assert_int_equal(corm_capture_count(c), 3); /* books, genres per chunk */
    if (corm_capture_nfindings(c)) fail_msg("%s", corm_capture_report(c));
    corm_capture_free(c);
    corm_qs_free(qs);

    /* one object per chunk is never a finding */
    c = corm_capture_begin(db, "iterator chunk of 1");
    qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    it = corm_iterator(qs, 1);
    while ((b = corm_iter_next(it))) (void)book_author(b);
    corm_iter_free(it);
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 7);
    if (corm_capture_nfindings(c)) fail_msg("%s", corm_capture_report(c));
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_iterator_strict(void **state)
{
    (void)state;
    memset(&failed, 0, sizeof failed);
    names[0] = 0;
    corm_instr_on_fail(corm_db_instr(db), record_fail, NULL);
    corm_capture *c = corm_capture_begin(db, "iterator strict");
    corm_capture_set_mode(c, CORM_NPLUSONE_STRICT);
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 4);
    Book *b;
    int line = 0;
    while ((b = corm_iter_next(it))) {
        line = __LINE__ + 1;
        add_name(book_author(b));
    }
    corm_iter_free(it);
    corm_capture_end(c);
    /* the first load of each chunk runs; the others are refused */
    assert_string_equal(names, "Victor Hugo;(null);(null);(null);Haruki Murakami;(null);");
    assert_int_equal(failed.calls, 4);
    assert_int_equal(failed.line, line);
    assert_non_null(strstr(failed.msg, "N+1 query refused (CORM_NPLUSONE=strict): Book.author"));
    char want[512];
    snprintf(want, sizeof want, "fix: %s", fix("corm_select_related(qs, \"author\")", built));
    assert_non_null(strstr(failed.msg, want));
    assert_int_equal(corm_capture_count(c), 3); /* books, 1 author per chunk */
    assert_true(only_n_plus_one(c)->blocked);
    corm_capture_free(c);
    corm_qs_free(qs);
    corm_instr_on_fail(corm_db_instr(db), corm_assert_fail_hook, NULL); /* test_db_open's */
}

static void test_iterator_auto(void **state)
{
    (void)state;
    names[0] = 0;
    corm_nplusone_mode(db, CORM_NPLUSONE_AUTO);
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 4);
    Book *b;
    /* the books, then one load of the authors per chunk */
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        while ((b = corm_iter_next(it))) add_name(book_author(b));
    }
    corm_iter_free(it);
    corm_qs_free(qs);
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
    assert_string_equal(names, ALL_AUTHORS);
}

/* ------------------------------------------------------------ raw */

static void test_raw_log(void **state)
{
    (void)state;
    names[0] = 0;
    corm_capture *c = corm_capture_begin(db, "raw");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_raw(db, Book, "SELECT * FROM book ORDER BY id", NULL, 0);
    Book *b;
    int line = 0;
    corm_foreach(b, qs)
    {
        line = __LINE__ + 1;
        add_name(book_author(b));
    }
    corm_capture_end(c);
    assert_string_equal(names, ALL_AUTHORS);
    assert_int_equal(corm_capture_count(c), 7);
    const corm_finding *f = only_n_plus_one(c);
    assert_string_equal(f->relation, "author");
    assert_int_equal(f->count, 6);
    assert_site(f->site, line);
    assert_site(f->built, built);
    /* a raw queryset cannot join: the fix is a prefetch */
    assert_string_equal(f->fix, fix("corm_prefetch_related(qs, \"author\")", built));
    corm_capture_free(c);
    corm_qs_free(qs);

    /* the fix works: 2 queries, no finding */
    names[0] = 0;
    c = corm_capture_begin(db, "raw prefetched");
    qs = corm_raw(db, Book, "SELECT * FROM book ORDER BY id", NULL, 0);
    corm_prefetch_related(qs, "author");
    corm_foreach(b, qs) add_name(book_author(b));
    corm_capture_end(c);
    assert_string_equal(names, ALL_AUTHORS);
    assert_int_equal(corm_capture_count(c), 2);
    if (corm_capture_nfindings(c)) fail_msg("%s", corm_capture_report(c));
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_raw_strict_auto(void **state)
{
    (void)state;
    memset(&failed, 0, sizeof failed);
    names[0] = 0;
    corm_instr_on_fail(corm_db_instr(db), record_fail, NULL);
    corm_capture *c = corm_capture_begin(db, "raw strict");
    corm_capture_set_mode(c, CORM_NPLUSONE_STRICT);
    corm_qs *qs = corm_raw(db, Book, "SELECT * FROM book ORDER BY id", NULL, 0);
    Book *b;
    corm_foreach(b, qs) add_name(book_author(b));
    corm_capture_end(c);
    assert_string_equal(names, "Victor Hugo;(null);(null);(null);(null);(null);");
    assert_int_equal(failed.calls, 5);
    assert_non_null(strstr(failed.msg, "Book.author"));
    assert_non_null(strstr(failed.msg, "corm_prefetch_related(qs, \"author\")"));
    assert_int_equal(corm_capture_count(c), 2);
    corm_capture_free(c);
    corm_qs_free(qs);
    corm_instr_on_fail(corm_db_instr(db), corm_assert_fail_hook, NULL);

    names[0] = 0;
    corm_nplusone_mode(db, CORM_NPLUSONE_AUTO);
    qs = corm_raw(db, Book, "SELECT * FROM book ORDER BY id", NULL, 0);
    CORM_ASSERT_NUM_QUERIES(db, 2) { corm_foreach(b, qs) add_name(book_author(b)); }
    corm_qs_free(qs);
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
    assert_string_equal(names, ALL_AUTHORS);
}

static void test_raw_select_related(void **state)
{
    (void)state;
    corm_qs *qs = corm_raw(db, Book, "SELECT * FROM book ORDER BY id", NULL, 0);
    corm_select_related(qs, "author");
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_MISUSE); }
    const corm_error *e = corm_qs_error(qs);
    assert_string_equal(e->message,
                        "corm_select_related on a raw queryset: its SQL is run as written, "
                        "nothing can be joined to it");
    assert_non_null(strstr(e->hint, "corm_prefetch_objects(db, objs, n, \"author\")"));
    assert_non_null(strstr(e->hint, "corm_prefetch_related(qs, \"author\")"));
    assert_int_equal(corm_qs_len(qs), 0);
    corm_qs_free(qs);

    /* corm_prefetch_objects on raw objects: one query for all of them */
    names[0] = 0;
    qs = corm_raw(db, Book, "SELECT * FROM book ORDER BY id", NULL, 0);
    assert_int_equal(corm_eval(qs), CORM_OK);
    void *objs[8];
    size_t n = corm_qs_len(qs);
    for (size_t i = 0; i < n; i++) objs[i] = corm_qs_at(qs, i);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_prefetch_objects(db, objs, n, "author"), CORM_OK);
        for (size_t i = 0; i < n; i++) add_name(book_author(objs[i]));
    }
    assert_string_equal(names, ALL_AUTHORS);
    corm_qs_free(qs);
}

/* ------------------------------------ a prefetched reverse relation */

static void test_prefetched_children_read_parent(void **state)
{
    (void)state;
    /* Books prefetched from their authors reading book_author(b) back:
    ** with back-references (issue 14: the prefetch sets each child's
    ** forward relation to its parent) this costs nothing. */
    names[0] = 0;
    corm_capture *c = corm_capture_begin(db, "back-references");
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "books");
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        for (size_t i = 0; i < books->n; i++) add_name(book_author(books->items[i]));
    }
    corm_capture_end(c);
    assert_string_equal(names, ALL_AUTHORS);
    assert_int_equal(corm_capture_count(c), 2); /* authors, books: 0 extra */
    if (corm_capture_nfindings(c)) fail_msg("%s", corm_capture_report(c));
    corm_capture_free(c);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iterator_log),
        cmocka_unit_test(test_iterator_covered),
        cmocka_unit_test(test_iterator_strict),
        cmocka_unit_test(test_iterator_auto),
        cmocka_unit_test(test_raw_log),
        cmocka_unit_test(test_raw_strict_auto),
        cmocka_unit_test(test_raw_select_related),
        cmocka_unit_test(test_prefetched_children_read_parent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
