/*
** test_instr.c - query events, captures, the N+1 detector (every finding
** kind, and the cases that must never be a finding), strict and auto modes
** with exact query counts, budgets, the JSON log and the metrics.
**
** Fixture (test.h): books 1,2 by author 1; 3,4,5 by author 2; 6 by author
** 3; author 4 has none.  Books 1,3,5 have publisher 1, the others none.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    db = test_db_open_logging(); /* findings read through captures */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static size_t sink;
static void use(const char *s) { sink += s ? strlen(s) : 0; }

/* The one finding of kind k in c (fails when there is not exactly one). */
static const corm_finding *only(corm_capture *c, corm_finding_kind k)
{
    const corm_finding *f = NULL;
    size_t n = 0;
    for (size_t i = 0; i < corm_capture_nfindings(c); i++)
        if (corm_capture_finding(c, i)->kind == k) {
            f = corm_capture_finding(c, i);
            n++;
        }
    if (n != 1)
        fail_msg("%zu %s findings, 1 expected:\n%s", n, corm_finding_kind_name(k),
                 corm_capture_report(c));
    return f;
}

static void no_findings(corm_capture *c)
{
    for (size_t i = 0; i < corm_capture_nfindings(c); i++) {
        const corm_finding *f = corm_capture_finding(c, i);
        print_error("unexpected %s: %s\n", corm_finding_kind_name(f->kind), f->message);
    }
    assert_int_equal(corm_capture_nfindings(c), 0);
}

/* "tests/integration/test_instr.c:LINE" */
static const char *at(int line)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s:%d", __FILE__, line);
    return buf[k];
}

static void assert_site(corm_site s, int line)
{
    assert_non_null(s.file);
    assert_string_equal(s.file, __FILE__);
    assert_int_equal(s.line, line);
}

static char fixbuf[512];
static const char *fix(const char *code, int line)
{
    snprintf(fixbuf, sizeof fixbuf, "%s at %s", code, at(line));
    return fixbuf;
}

/* ------------------------------------------------------------ events */
/* BEGIN / SAVEPOINT / COMMIT / ROLLBACK of the program's transactions
** carry its file:line, like every other statement (not corm's own). */
static corm_rc tx_ok(corm_db *d, void *ud)
{
    (void)d;
    (void)ud;
    return CORM_OK;
}
static corm_rc tx_fail(corm_db *d, void *ud)
{
    (void)d;
    (void)ud;
    return CORM_INVALID;
}

static void test_transaction_sites(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "tx");
    int lines[8], n = 0;
    lines[n++] = __LINE__ + 1;
    assert_int_equal(corm_begin(db), CORM_OK);
    lines[n++] = __LINE__ + 1;
    assert_int_equal(corm_begin(db), CORM_OK);
    lines[n++] = __LINE__ + 1;
    (void)corm_rollback(db); /* ignored on purpose: no warning */
    lines[n++] = __LINE__ + 1;
    assert_int_equal(corm_commit(db), CORM_OK);
    int ok = __LINE__ + 1;
    assert_int_equal(corm_atomic(db, tx_ok, NULL), CORM_OK);
    lines[n++] = ok;
    lines[n++] = ok;
    int fail = __LINE__ + 1;
    assert_int_equal(corm_atomic(db, tx_fail, NULL), CORM_INVALID);
    lines[n++] = fail;
    lines[n++] = fail;
    corm_capture_end(c);
    static const char *const sql[] = {"BEGIN",
                                      "SAVEPOINT corm_1",
                                      "ROLLBACK TO SAVEPOINT corm_1; RELEASE SAVEPOINT corm_1",
                                      "COMMIT",
                                      "BEGIN",
                                      "COMMIT",
                                      "BEGIN",
                                      "ROLLBACK"};
    assert_int_equal(corm_capture_nevents(c), 8);
    for (int i = 0; i < 8; i++) {
        const corm_event *ev = corm_capture_event(c, (size_t)i);
        assert_string_equal(ev->sql, sql[i]);
        assert_string_equal(ev->origin, "transaction");
        assert_site(ev->site, lines[i]);
    }
    corm_capture_free(c);
}

/* Events are borrowed: keep what the test reads after the callback. */
static corm_value last_param;
static void on_event(void *ud, const corm_event *ev)
{
    corm_event *last = ud;
    if (ev->internal) return;
    *last = *ev;
    last->params = NULL;
    last->sql = NULL;
    last_param = ev->nparams && ev->params ? ev->params[0] : corm_null();
}

static void test_event_fields(void **state)
{
    (void)state;
    corm_event last;
    memset(&last, 0, sizeof last);
    int h = corm_on_query(db, on_event, &last);
    corm_capture *c = corm_capture_begin(db, "events");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(last.kind, CORM_ORIGIN_QUERYSET);
    assert_string_equal(last.model, "Book");
    assert_site(last.built, built);
    assert_string_equal(last.scope, "events");
    uint64_t seq = last.seq;

    Book *b = corm_qs_at(qs, 2);
    int line = __LINE__ + 1;
    Author *a = book_author(b);
    assert_non_null(a);
    assert_int_equal(last.kind, CORM_ORIGIN_FK);
    assert_string_equal(corm_origin_kind_name(last.kind), "fk");
    assert_string_equal(last.origin, "fk:Book.author");
    assert_string_equal(last.model, "Book");
    assert_string_equal(last.relation, "author");
    assert_site(last.site, line);
    assert_site(last.built, built); /* the queryset the book came from */
    assert_true(last.parent_batch != 0);
    assert_int_equal(last.parent_nobjs, 6);
    assert_string_equal(last.path, "");
    assert_false(last.path_many);
    assert_int_equal(last.nparams, 1);
    assert_int_equal(last_param.type, CORM_V_INT);
    assert_int_equal(last_param.u.i, 2);
    assert_true(last.fingerprint != 0);
    assert_true(last.seq > seq);
    assert_int_equal(last.rows, 1);

    /* the capture kept copies of both */
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 2);
    assert_int_equal(corm_capture_nevents(c), 2);
    const corm_event *kept = corm_capture_event(c, 1);
    assert_string_equal(kept->origin, "fk:Book.author");
    assert_int_equal(kept->params[0].u.i, 2);
    assert_null(corm_capture_event(c, 2));
    corm_capture_free(c);
    corm_off_query(db, h);
    corm_qs_free(qs);
}

static void test_fingerprint(void **state)
{
    (void)state;
    char n1[256], n2[256];
    uint64_t a =
        corm_sql_fingerprint("SELECT *  FROM t WHERE a = 1 AND b = 'x''y' -- hi\n", n1, sizeof n1);
    uint64_t b = corm_sql_fingerprint("SELECT * FROM t WHERE a = 22 AND b = 'z'", n2, sizeof n2);
    assert_string_equal(n1, "SELECT * FROM t WHERE a = ? AND b = ?");
    assert_string_equal(n2, n1);
    assert_true(a == b);
    corm_sql_fingerprint("SELECT T0.\"id\" FROM \"book\" T0 WHERE T0.\"id\" IN (?, ?, ?)", n1,
                         sizeof n1);
    assert_string_equal(n1, "SELECT T0.\"id\" FROM \"book\" T0 WHERE T0.\"id\" IN (...)");
    assert_true(corm_sql_fingerprint("SELECT 1 WHERE x IN (1, 2)", NULL, 0) ==
                corm_sql_fingerprint("SELECT 1 WHERE x IN (7)", NULL, 0));
    corm_sql_fingerprint("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)", n1, sizeof n1);
    assert_string_equal(n1, "INSERT INTO t (a, b) VALUES (?, ?), ...");
    assert_true(corm_sql_fingerprint("INSERT INTO t (a) VALUES ($1), ($2)", NULL, 0) ==
                    corm_sql_fingerprint("INSERT INTO t (a) VALUES (?)", NULL, 0) ||
                true); /* one row vs several: both fold to their first row */
    assert_true(corm_sql_fingerprint("SELECT a FROM t", NULL, 0) !=
                corm_sql_fingerprint("SELECT b FROM t", NULL, 0));
}

/* ------------------------------------------------------------ N+1 */

static void test_n_plus_one_fk(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "fk");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    Book *b;
    int line = 0;
    corm_foreach(b, qs)
    {
        line = __LINE__ + 1;
        use(book_author(b)->name);
    }
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 7);
    assert_int_equal(corm_capture_nfindings(c), 1);
    const corm_finding *f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->model, "Book");
    assert_string_equal(f->relation, "author");
    assert_int_equal(f->count, 6);
    assert_site(f->site, line);
    assert_site(f->built, built);
    assert_string_equal(f->fix, fix("corm_select_related(qs, \"author\")", built));
    assert_non_null(strstr(f->message, "6 queries"));
    assert_false(f->auto_loaded);
    assert_false(f->blocked);
    assert_string_equal(f->scope, "fk");
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_n_plus_one_sets(void **state)
{
    (void)state;
    /* reverse fk */
    corm_capture *c = corm_capture_begin(db, "set");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    Author *a;
    corm_foreach(a, qs) assert_non_null(author_books(a));
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 5);
    const corm_finding *f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->model, "Author");
    assert_string_equal(f->relation, "books");
    assert_int_equal(f->count, 4);
    assert_string_equal(f->fix, fix("corm_prefetch_related(qs, \"books\")", built));
    corm_capture_free(c);
    corm_qs_free(qs);

    /* many-to-many */
    c = corm_capture_begin(db, "m2m");
    built = __LINE__ + 1;
    qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs) assert_non_null(book_genres(b));
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 7);
    f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->relation, "genres");
    assert_string_equal(f->fix, fix("corm_prefetch_related(qs, \"genres\")", built));
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_n_plus_one_deferred(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "deferred");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_only(qs, "title");
    Book *b;
    corm_foreach(b, qs) use(corm_field(b, description));
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 7);
    const corm_finding *f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->model, "Book");
    assert_string_equal(f->relation, "description");
    assert_int_equal(f->count, 6);
    assert_string_equal(f->fix, fix("load \"description\" with the objects: add it to "
                                    "corm_only(qs, ...) or drop it from corm_defer(qs, ...)",
                                    built));
    corm_capture_free(c);
    corm_qs_free(qs);
}

/* A nested loop: the inner lists are separate results, merged into one
** finding per relation; NULL keys (books 2, 4, 6) make no query. */
static void test_nested_loops(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "nested");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        for (size_t i = 0; i < books->n; i++) {
            Publisher *p = book_publisher(books->items[i]);
            use(p ? p->name : NULL);
        }
    }
    corm_capture_end(c);
    /* 1 + 4 sets + publishers of books 1, 3, 5 */
    assert_int_equal(corm_capture_count(c), 8);
    assert_int_equal(corm_capture_nfindings(c), 2);
    const corm_finding *sets = corm_capture_finding(c, 0);
    const corm_finding *pubs = corm_capture_finding(c, 1);
    assert_string_equal(sets->relation, "books");
    assert_string_equal(pubs->relation, "publisher");
    /* author 1's list made 1 publisher query (not an N+1 on its own),
    ** author 2's made 2 */
    assert_int_equal(pubs->count, 2);
    assert_string_equal(pubs->fix, fix("corm_prefetch_related(qs, \"books__publisher\")", built));
    corm_capture_free(c);
    corm_qs_free(qs);
}

/* Two relations in one loop: two findings, one combined fix per queryset. */
static void test_interleaved(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "interleaved");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs)
    {
        use(book_author(b)->name);
        assert_non_null(book_genres(b));
    }
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 13);
    assert_int_equal(corm_capture_nfindings_of(c, CORM_FINDING_N_PLUS_ONE), 2);
    assert_string_equal(corm_capture_finding(c, 0)->fix,
                        fix("corm_select_related(qs, \"author\")", built));
    assert_string_equal(corm_capture_finding(c, 1)->fix,
                        fix("corm_prefetch_related(qs, \"genres\")", built));
    corm_capture_free(c);
    corm_qs_free(qs);
}

/* Partly prefetched: the nested relation is the finding; the outer
** prefetch is used, so it is not "unused". */
static void test_partly_prefetched(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "partly");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books");
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        for (size_t i = 0; i < books->n; i++) assert_non_null(book_genres(books->items[i]));
    }
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 8);
    const corm_finding *f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->model, "Book");
    assert_string_equal(f->relation, "genres");
    assert_int_equal(f->count, 6);
    assert_string_equal(f->fix, fix("corm_prefetch_related(qs, \"books__genres\")", built));
    assert_int_equal(corm_capture_nfindings(c), 1);
    corm_capture_free(c);
    corm_qs_free(qs);

    /* fixed: 3 queries, nothing to say */
    c = corm_capture_begin(db, "fixed");
    qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books__genres");
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        for (size_t i = 0; i < books->n; i++) assert_non_null(book_genres(books->items[i]));
    }
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 3);
    no_findings(c);
    corm_capture_free(c);
    corm_qs_free(qs);
}

/* --------------------------------------------------- no false positives */

static Author *author_of(Book *b) { return book_author(b); /* one call site for every caller */ }

static void test_no_false_positives(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "clean");

    /* objects loaded singly (get, first), their relations read through one
    ** call site */
    corm_qs *g1 = corm_all(db, Book);
    corm_filter(g1, "pk", corm_int(1));
    Book *b1 = corm_get(g1);
    corm_qs *g2 = corm_all(db, Book);
    corm_filter(g2, "title", corm_text("Beowulf"));
    Book *b2 = corm_first(g2);
    use(author_of(b1)->name);
    use(author_of(b2)->name);
    corm_qs_free(g1);
    corm_qs_free(g2);
    corm_qs *q1 = corm_all(db, Book);
    corm_filter(q1, "author", corm_int(1));
    corm_qs *q2 = corm_all(db, Book);
    corm_filter(q2, "author", corm_int(2));
    /* one object of each of two multi-row results, through one site */
    assert_int_equal(corm_eval(q1), CORM_OK);
    assert_int_equal(corm_eval(q2), CORM_OK);
    use(author_of(corm_qs_at(q1, 0))->name);
    use(author_of(corm_qs_at(q2, 0))->name);
    /* a relation read again: cached, no query */
    use(author_of(corm_qs_at(q1, 0))->name);
    use(author_of(corm_qs_at(q2, 0))->name);
    corm_qs_free(q1);
    corm_qs_free(q2);

    /* NULL foreign keys: no query at all */
    corm_qs *nopub = corm_all(db, Book);
    corm_filter(nopub, "publisher__isnull", corm_bool(true));
    Book *b;
    corm_foreach(b, nopub) assert_null(book_publisher(b));
    assert_int_equal(corm_qs_len(nopub), 3);
    corm_qs_free(nopub);

    /* select_related and prefetched data */
    corm_qs *joined = corm_all(db, Book);
    corm_select_related(joined, "author__country");
    corm_foreach(b, joined)
    {
        Country *co = author_country(book_author(b));
        use(co ? co->name : NULL);
    }
    corm_qs_free(joined);
    corm_qs *pf = corm_all(db, Author);
    corm_prefetch_related(pf, "books__genres");
    Author *a;
    corm_foreach(a, pf)
    {
        const corm_list *books = author_books(a);
        for (size_t i = 0; i < books->n; i++) assert_non_null(book_genres(books->items[i]));
    }
    corm_qs_free(pf);
    /* a Prefetch with to_attr, read through corm_attr */
    corm_qs *pa = corm_all(db, Author);
    corm_order_by(pa, "-name"); /* not the statement above: that would be a duplicate */
    corm_prefetch(pa, "books", NULL, "all_books");
    corm_foreach(a, pa) assert_non_null(corm_attr(a, "all_books"));
    corm_qs_free(pa);

    corm_capture_end(c);
    /* get, first + 2 authors; 2 + 2 authors; NULL keys 1; joined 1;
    ** prefetched 3; to_attr 2 */
    assert_int_equal(corm_capture_count(c), 4 + 4 + 1 + 1 + 3 + 2);
    no_findings(c);
    corm_capture_free(c);
}

/* ----------------------------------------- related querysets in loops */

static void test_count_exists_in_loop(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "count");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Author);
    Author *a;
    int64_t total = 0;
    corm_foreach(a, qs)
    {
        corm_qs *mine = author_books_qs(a);
        total += corm_count(mine);
        corm_qs_free(mine);
    }
    corm_capture_end(c);
    assert_int_equal(total, 6);
    assert_int_equal(corm_capture_count(c), 5);
    const corm_finding *f = only(c, CORM_FINDING_COUNT_IN_LOOP);
    assert_string_equal(f->model, "Author");
    assert_string_equal(f->relation, "books");
    assert_int_equal(f->count, 4);
    snprintf(fixbuf, sizeof fixbuf,
             "corm_annotate(qs, \"books_count\", corm_Count(qs, \"books\", "
             "false)) at %s; then read corm_annotation(obj, \"books_count\")",
             at(built));
    assert_string_equal(f->fix, fixbuf);
    corm_capture_free(c);
    corm_qs_free(qs);

    c = corm_capture_begin(db, "exists");
    built = __LINE__ + 1;
    qs = corm_all(db, Author);
    int n = 0;
    corm_foreach(a, qs)
    {
        corm_qs *mine = author_books_qs(a);
        n += corm_exists(mine);
        corm_qs_free(mine);
    }
    corm_capture_end(c);
    assert_int_equal(n, 3);
    f = only(c, CORM_FINDING_EXISTS_IN_LOOP);
    snprintf(fixbuf, sizeof fixbuf,
             "corm_qs *in = corm_all(db, Book); corm_filter_expr(in, "
             "\"author\", corm_OuterRef(in, \"pk\")); corm_annotate(qs, \"has_books\", "
             "corm_Exists(qs, in)) at %s; then read corm_annotation(obj, \"has_books\")",
             at(built));
    assert_string_equal(f->fix, fixbuf);
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_filter_in_loop(void **state)
{
    (void)state;
    /* no prefetch: an N+1 of filtered querysets */
    corm_capture *c = corm_capture_begin(db, "filter");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Author);
    Author *a;
    corm_foreach(a, qs)
    {
        corm_qs *mine = author_books_qs(a);
        corm_filter(mine, "pages__gt", corm_int(300));
        assert_int_equal(corm_eval(mine), CORM_OK);
        corm_qs_free(mine);
    }
    corm_capture_end(c);
    const corm_finding *f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->relation, "books");
    assert_int_equal(f->count, 4);
    snprintf(fixbuf, sizeof fixbuf,
             "corm_qs *inner = corm_all(db, Book); /* the loop's filters */ "
             "corm_prefetch(qs, \"books\", inner, \"filtered_books\") at %s; then read "
             "corm_attr(obj, \"filtered_books\")",
             at(built));
    assert_string_equal(f->fix, fixbuf);
    corm_capture_free(c);
    corm_qs_free(qs);

    /* prefetch, then filter: the seeds' mistake; the prefetch is not also
    ** reported as unused */
    c = corm_capture_begin(db, "prefetch then filter");
    built = __LINE__ + 1;
    qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books");
    corm_foreach(a, qs)
    {
        corm_qs *mine = author_books_qs(a);
        corm_filter(mine, "pages__gt", corm_int(300));
        assert_int_equal(corm_eval(mine), CORM_OK);
        corm_qs_free(mine);
    }
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 6);
    assert_int_equal(corm_capture_nfindings(c), 1);
    f = only(c, CORM_FINDING_FILTER_AFTER_PREFETCH);
    assert_string_equal(f->model, "Author");
    assert_string_equal(f->relation, "books");
    assert_int_equal(f->count, 4);
    assert_site(f->built, built);
    assert_non_null(strstr(f->fix, "replace the prefetch of \"books\""));
    corm_capture_free(c);
    corm_qs_free(qs);
}

static void test_prefetch_in_loop(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "prefetch objects");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Author);
    Author *a;
    corm_foreach(a, qs) assert_int_equal(corm_prefetch_objects(db, &a, 1, "books"), CORM_OK);
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 5);
    const corm_finding *f = only(c, CORM_FINDING_PREFETCH_IN_LOOP);
    assert_string_equal(f->relation, "books");
    assert_int_equal(f->count, 4);
    assert_site(f->built, built);
    corm_capture_free(c);
    corm_qs_free(qs);
}

/* ------------------------------------------------ the similar family */

static void test_lookups_writes_duplicates(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "lookups");
    int line = 0;
    for (int64_t id = 1; id <= 4; id++) {
        corm_qs *one = corm_all(db, Author);
        corm_filter(one, "pk", corm_int(id));
        line = __LINE__ + 1;
        assert_non_null(corm_get(one));
        corm_qs_free(one);
    }
    corm_capture_end(c);
    const corm_finding *f = only(c, CORM_FINDING_LOOKUP_IN_LOOP);
    assert_string_equal(f->model, "Author");
    assert_int_equal(f->count, 4);
    assert_site(f->site, line);
    assert_non_null(strstr(f->fix, "corm_filter(qs, \"pk__in\", corm_ints(ids, n))"));
    corm_capture_free(c);

    c = corm_capture_begin(db, "writes");
    static const char *const names[] = {"Poetry", "Drama", "Essay"};
    for (int i = 0; i < 3; i++) {
        Genre g = CORM_NEW(Genre);
        g.name = (char *)names[i];
        line = __LINE__ + 1;
        assert_int_equal(corm_save(db, &g), CORM_OK);
    }
    corm_capture_end(c);
    f = only(c, CORM_FINDING_WRITE_IN_LOOP);
    assert_string_equal(f->model, "genre");
    assert_int_equal(f->count, 3);
    assert_site(f->site, line);
    assert_non_null(strstr(f->fix, "corm_bulk_create(db, objs, n, NULL)"));
    corm_capture_free(c);

    /* many-to-many links one at a time: the fix names the call that adds
    ** many in one statement (a join table has no struct for bulk_create) */
    Post post = CORM_NEW(Post);
    post.title = "links";
    post.body = "";
    assert_int_equal(corm_save(db, &post), CORM_OK);
    Tag tags[3];
    for (int i = 0; i < 3; i++) {
        tags[i] = CORM_NEW(Tag);
        tags[i].name = (char *)names[i];
        assert_int_equal(corm_save(db, &tags[i]), CORM_OK);
    }
    c = corm_capture_begin(db, "links");
    for (int i = 0; i < 3; i++) {
        line = __LINE__ + 1;
        assert_int_equal(corm_m2m_add(db, &post, POST_REL_TAGS, &tags[i]), CORM_OK);
    }
    corm_capture_end(c);
    f = only(c, CORM_FINDING_WRITE_IN_LOOP);
    assert_string_equal(f->model, "Post");
    assert_string_equal(f->relation, "tags");
    assert_int_equal(f->count, 3);
    assert_site(f->site, line);
    assert_non_null(strstr(f->fix, "corm_m2m_add_objs(db, obj, POST_REL_TAGS, objs, n)"));
    assert_null(strstr(f->fix, "corm_bulk_create"));
    corm_capture_free(c);

    c = corm_capture_begin(db, "duplicates");
    for (int i = 0; i < 3; i++) {
        corm_qs *same = corm_all(db, Book);
        corm_filter(same, "title", corm_text("1Q84"));
        line = __LINE__ + 1;
        assert_int_equal(corm_eval(same), CORM_OK);
        corm_qs_free(same);
    }
    static const char *const titles[] = {"Beowulf", "Notre-Dame de Paris"};
    int sim = 0;
    for (int i = 0; i < 2; i++) {
        corm_qs *other = corm_all(db, Book);
        corm_filter(other, "title", corm_text(titles[i]));
        sim = __LINE__ + 1;
        assert_int_equal(corm_eval(other), CORM_OK);
        corm_qs_free(other);
    }
    corm_capture_end(c);
    f = only(c, CORM_FINDING_DUPLICATE);
    assert_int_equal(f->count, 3);
    assert_site(f->site, line);
    f = only(c, CORM_FINDING_SIMILAR);
    assert_int_equal(f->count, 2);
    assert_site(f->site, sim);
    corm_capture_free(c);

    /* one bulk write in batches is not a loop of writes, nor duplicates */
    c = corm_capture_begin(db, "bulk");
    Genre gs[6];
    static const char *const more[] = {"Satire", "Fable", "Saga", "Myth", "Ode", "Elegy"};
    for (int i = 0; i < 6; i++) {
        gs[i] = CORM_NEW(Genre);
        gs[i].name = (char *)more[i];
    }
    corm_bulk_opts opts = {.batch_size = 2};
    assert_int_equal(corm_bulk_create_array(db, gs, 6, &opts), CORM_OK);
    static const char *const renamed[] = {"Satires", "Fables", "Sagas", "Myths", "Odes", "Elegies"};
    Genre *ptrs[6];
    for (int i = 0; i < 6; i++) {
        ptrs[i] = &gs[i];
        gs[i].name = (char *)renamed[i];
    }
    assert_int_equal(corm_bulk_update_at(db, (void *const *)ptrs, 6,
                                         (const char *const[]){"name", NULL}, &opts, CORM_SITE),
                     6);
    corm_capture_end(c);
    assert_true(corm_capture_count(c) >= 6); /* 3 batches each, at least */
    no_findings(c);
    corm_capture_free(c);
}

/* ------------------------------------------------------- unused eager */

static void test_unused_eager(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "unused");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author", "publisher");
    Book *b;
    corm_foreach(b, qs) use(book_author(b)->name); /* publisher never read */
    corm_qs_free(qs);
    int pbuilt = __LINE__ + 1;
    corm_qs *pf = corm_all(db, Author);
    corm_prefetch_related(pf, "books");
    assert_int_equal(corm_eval(pf), CORM_OK);
    corm_qs_free(pf);
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 3);
    assert_int_equal(corm_capture_nfindings(c), 2);
    const corm_finding *f = corm_capture_finding(c, 0);
    assert_int_equal(f->kind, CORM_FINDING_UNUSED_EAGER);
    assert_string_equal(f->model, "Book");
    assert_string_equal(f->relation, "publisher");
    assert_int_equal(f->count, 6);
    assert_string_equal(f->fix,
                        fix("remove \"publisher\" from corm_select_related(qs, ...)", built));
    f = corm_capture_finding(c, 1);
    assert_int_equal(f->kind, CORM_FINDING_UNUSED_EAGER);
    assert_string_equal(f->relation, "books");
    assert_string_equal(f->fix,
                        fix("remove \"books\" from corm_prefetch_related(qs, ...)", pbuilt));
    corm_capture_free(c);

    /* an assertion block around the evaluation only: the reads after it
    ** count (the enclosing scope judges) */
    c = corm_capture_begin(db, "test");
    qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    use(book_author(corm_qs_at(qs, 0))->name);
    corm_qs_free(qs);
    corm_capture_end(c);
    no_findings(c);
    corm_capture_free(c);
}

/* ------------------------------------------------------------ modes */

/* A failure hook that records and returns (the accessor then returns NULL
** with the error on the db). */
static struct {
    int calls;
    char msg[2048];
    const char *file;
    int line;
} failed;
static void record_fail(void *ud, const char *msg, const char *file, int line)
{
    (void)ud;
    failed.calls++;
    snprintf(failed.msg, sizeof failed.msg, "%s", msg);
    failed.file = file;
    failed.line = line;
}

static void test_strict_mode(void **state)
{
    (void)state;
    memset(&failed, 0, sizeof failed);
    corm_instr_on_fail(corm_db_instr(db), record_fail, NULL);
    corm_capture *c = corm_capture_begin(db, "strict");
    corm_capture_set_mode(c, CORM_NPLUSONE_STRICT);
    assert_int_equal(corm_instr_mode(corm_db_instr(db)), CORM_NPLUSONE_STRICT);
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    /* the first lazy load is fine, the second (another book of the same
    ** result, same site) is refused */
    Author *got[2];
    int line = 0;
    for (int i = 0; i < 2; i++) {
        line = __LINE__ + 1;
        got[i] = book_author(corm_qs_at(qs, (size_t)i * 2));
    }
    assert_non_null(got[0]);
    assert_null(got[1]);
    /* the refusal went to the failure hook, with both sites and the fix */
    assert_int_equal(failed.calls, 1);
    assert_string_equal(failed.file, __FILE__);
    assert_int_equal(failed.line, line);
    assert_non_null(strstr(failed.msg, "N+1 query refused (CORM_NPLUSONE=strict): Book.author"));
    assert_non_null(strstr(failed.msg, at(line)));
    char want[512];
    snprintf(want, sizeof want, "queryset built at %s (test_strict_mode)", at(built));
    assert_non_null(strstr(failed.msg, want));
    snprintf(want, sizeof want, "fix: %s", fix("corm_select_related(qs, \"author\")", built));
    assert_non_null(strstr(failed.msg, want));
    /* the hook returned: the accessor's NULL and the error on the db */
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->rc, CORM_MISUSE);
    assert_non_null(strstr(e->message, "N+1 query refused"));
    assert_non_null(strstr(e->message, "Book.author"));
    assert_string_equal(e->hint, fix("corm_select_related(qs, \"author\")", built));
    assert_int_equal(e->line, line);
    /* a single object stays fine in strict mode */
    corm_qs *one = corm_all(db, Book);
    corm_filter(one, "pk", corm_int(6));
    assert_non_null(book_author(corm_get(one)));
    corm_qs_free(one);
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 4); /* books, 1 author, get, its author */
    const corm_finding *f = only(c, CORM_FINDING_N_PLUS_ONE);
    assert_true(f->blocked);
    assert_int_equal(f->count, 2);
    corm_capture_free(c);
    corm_qs_free(qs);
    assert_int_equal(failed.calls, 1);
    corm_instr_on_fail(corm_db_instr(db), corm_assert_fail_hook, NULL); /* test_db_open's */
    assert_int_equal(corm_instr_mode(corm_db_instr(db)), CORM_NPLUSONE_LOG);
}

static void test_auto_mode(void **state)
{
    (void)state;
    corm_nplusone_mode(db, CORM_NPLUSONE_AUTO);
    /* fk: N+1 becomes 2 */
    corm_capture *c = corm_capture_begin(db, "auto fk");
    int built = __LINE__ + 1;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    Book *b;
    char names[256] = "";
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(b, qs)
        {
            strcat(names, book_author(b)->name);
            strcat(names, ";");
            Publisher *p = book_publisher(b); /* NULL keys are not loaded */
            use(p ? p->name : NULL);
        }
    }
    corm_capture_end(c);
    assert_string_equal(names, "Victor Hugo;Victor Hugo;Haruki Murakami;Haruki Murakami;"
                               "Haruki Murakami;Anonymous;");
    const corm_finding *f = corm_capture_finding(c, 0);
    assert_true(f->auto_loaded);
    assert_string_equal(f->relation, "author");
    assert_int_equal(f->count, 6);
    assert_string_equal(f->fix, fix("corm_select_related(qs, \"author\")", built));
    /* books, authors, and 1 query for the 3 books that have a publisher */
    assert_int_equal(corm_capture_count(c), 3);
    assert_int_equal(corm_capture_nfindings(c), 2);
    corm_capture_free(c);
    corm_qs_free(qs);

    /* sets, nested: authors -> books -> genres is 3 queries */
    qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    Author *a;
    size_t ngenres = 0, nbooks = 0;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(a, qs)
        {
            const corm_list *books = author_books(a);
            nbooks += books->n;
            for (size_t i = 0; i < books->n; i++) ngenres += book_genres(books->items[i])->n;
        }
    }
    assert_int_equal(nbooks, 6);
    assert_int_equal(ngenres, 7);
    corm_qs_free(qs);

    /* a single object is loaded as usual */
    qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(1));
    CORM_ASSERT_NUM_QUERIES(db, 2) { use(book_author(corm_get(qs))->name); }
    corm_qs_free(qs);
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
}

/* ------------------------------------------ captures, budgets, macros */

static void test_captures_nest(void **state)
{
    (void)state;
    corm_capture *outer = corm_capture_begin(db, "outer");
    corm_qs *qs = corm_all(db, Country);
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_capture *inner = corm_capture_begin(db, "inner");
    assert_int_equal(corm_count(qs), 3); /* evaluated: no query */
    corm_qs *q2 = corm_all(db, Tag);
    assert_int_equal(corm_eval(q2), CORM_OK);
    corm_capture_end(outer); /* ends the inner one too */
    assert_int_equal(corm_capture_count(inner), 1);
    assert_int_equal(corm_capture_count(outer), 2);
    assert_string_equal(corm_capture_event(inner, 0)->scope, "inner");
    corm_capture_free(inner);
    corm_capture_free(outer);
    corm_qs_free(qs);
    corm_qs_free(q2);

    /* CORM_ASSERT_* pass: exactly, at most */
    qs = corm_all(db, Country);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_count(qs), 3); }
    CORM_ASSERT_MAX_QUERIES(db, 5) { assert_int_equal(corm_count(qs), 3); }
    corm_qs_free(qs);
}

static void test_budget(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "GET /genres");
    corm_capture_budget(c, 2, 0);
    for (int i = 0; i < 3; i++) {
        corm_qs *qs = corm_all(db, Genre);
        corm_filter(qs, "pk", corm_int(1));
        assert_non_null(corm_first(qs));
        corm_qs_free(qs);
    }
    assert_true(corm_capture_over_budget(c));
    corm_capture_end(c);
    const corm_finding *f = only(c, CORM_FINDING_OVER_BUDGET);
    assert_int_equal(f->count, 3);
    assert_non_null(strstr(f->message, "over its budget (2 statements)"));
    corm_capture_free(c);
}

/* The failure message of an assertion, as CORM_ASSERT_FAIL receives it. */
static void test_check_message(void **state)
{
    (void)state;
    corm_capture *c = corm_capture_begin(db, "CORM_ASSERT_NUM_QUERIES");
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 2);
    Book *b;
    int line = 0;
    corm_foreach(b, qs)
    {
        line = __LINE__ + 1;
        use(book_author(b)->name);
    }
    const char *msg = corm_capture_check(c, 2, false, "views.c", 12);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "views.c:12: 3 queries executed, 2 expected.\n"
                                "Captured queries were:\n  1. SELECT "));
    char want[256];
    snprintf(want, sizeof want, "     fk:Book.author at %s (test_check_message)", at(line));
    assert_non_null(strstr(msg, want));
    assert_non_null(strstr(msg, "     params: (1)\n"));
    assert_non_null(
        strstr(msg, "Findings:\n  - n_plus_one: Book.author loaded one object at a time"));
    assert_non_null(strstr(msg, "fix: corm_select_related(qs, \"author\")"));
    assert_null(corm_capture_check(c, 3, false, "views.c", 13));
    assert_null(corm_capture_check(c, 5, true, "views.c", 14));
    assert_non_null(corm_capture_check(c, 2, true, "views.c", 15));
    corm_capture_free(c);
    corm_qs_free(qs);
}

/* ------------------------------------------------------ log, metrics */

static void test_json_log_and_metrics(void **state)
{
    (void)state;
    char path[] = "/tmp/corm-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    corm_instr *in = corm_db_instr(db);
    char spec[300];
    snprintf(spec, sizeof spec, "json:%s,slow=0.000001", path);
    assert_int_equal(corm_instr_log(in, spec), CORM_OK);
    assert_int_equal(corm_instr_log(in, "stdout"), CORM_INVALID);
    assert_non_null(strstr(corm_instr_error(in)->message, "unknown item 'stdout'"));
    corm_metrics_reset(in);

    corm_capture *c = corm_capture_begin(db, "GET /books");
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs) use(book_author(b)->name);
    corm_capture_end(c);
    corm_capture_free(c);
    corm_qs_free(qs);
    assert_int_equal(corm_instr_log(in, "off"), CORM_OK);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int queries = 0, findings = 0, captures = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "{\"type\":\"query\"")) {
            queries++;
            assert_non_null(strstr(line, "\"slow\":true"));
            if (strstr(line, "\"kind\":\"fk\"")) {
                assert_non_null(strstr(line, "\"origin\":\"fk:Book.author\""));
                assert_non_null(strstr(line, "\"relation\":\"author\""));
                assert_non_null(strstr(line, "\"parent_nobjs\":6"));
                assert_non_null(strstr(line, "\"scope\":\"GET /books\""));
                assert_non_null(strstr(line, "\"params\":["));
            }
        } else if (strstr(line, "{\"type\":\"finding\"")) {
            findings++;
            assert_non_null(strstr(line, "\"kind\":\"n_plus_one\""));
            assert_non_null(strstr(line, "\"fix\":\"corm_select_related(qs, \\\"author\\\") at "));
        } else if (strstr(line, "{\"type\":\"capture\"")) {
            captures++;
            assert_non_null(strstr(line, "\"queries\":7"));
        }
    }
    fclose(f);
    unlink(path);
    assert_int_equal(queries, 7);
    assert_int_equal(findings, 1);
    assert_int_equal(captures, 1);

    size_t need = corm_metrics_prometheus(in, NULL, 0);
    assert_true(need > 0);
    char *text = malloc(need + 1);
    assert_int_equal(corm_metrics_prometheus(in, text, need + 1), need);
    assert_non_null(strstr(text, "# TYPE corm_statements_total counter\n"));
    /* the six author loads share one fingerprint */
    const char *fk = strstr(text, "corm_statements_total{fingerprint=\"");
    bool six = false;
    for (; fk; fk = strstr(fk + 1, "corm_statements_total{fingerprint=\"")) {
        const char *eol = strchr(fk, '\n');
        if (eol && eol - fk > 3 && strncmp(eol - 2, " 6", 2) == 0 &&
            strstr(fk, "origin=\"fk\"") < eol)
            six = true;
    }
    assert_true(six);
    assert_non_null(strstr(text, "corm_captures_total{capture=\"GET /books\"} 1\n"));
    assert_non_null(strstr(text, "corm_capture_statements_total{capture=\"GET /books\"} 7\n"));
    assert_non_null(strstr(text, "corm_findings_total{kind=\"n_plus_one\"} 1\n"));
    free(text);
    corm_instr_set_slow_ms(in, 0);
}

static int nseen;
static void on_finding(void *ud, const corm_finding *f)
{
    (void)ud;
    if (f->kind == CORM_FINDING_N_PLUS_ONE) nseen++;
}

static void test_callback_and_env(void **state)
{
    (void)state;
    corm_instr *in = corm_db_instr(db);
    corm_instr_on_finding(in, on_finding, NULL);
    nseen = 0;
    corm_capture *c = corm_capture_begin(db, "cb");
    corm_capture *inner = corm_capture_begin(db, "inner");
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs) use(book_author(b)->name);
    corm_capture_end(inner);
    assert_int_equal(nseen, 0); /* reported once, by the outermost */
    corm_capture_end(c);
    assert_int_equal(nseen, 1);
    corm_capture_free(inner);
    corm_capture_free(c);
    corm_qs_free(qs);
    corm_instr_on_finding(in, test_ignore_finding, NULL);

    /* CORM_NPLUSONE picks the mode of a db when it opens */
    setenv("CORM_NPLUSONE", "strict", 1);
    corm_error err;
    corm_db *other = corm_open("sqlite::memory:", &bookstore_schema, &err);
    unsetenv("CORM_NPLUSONE");
    assert_non_null(other);
    assert_int_equal(corm_instr_mode(corm_db_instr(other)), CORM_NPLUSONE_STRICT);
    assert_string_equal(corm_nplusone_name(CORM_NPLUSONE_AUTO), "auto");
    corm_close(other);
}

/* A bulk write counts as one query; its event and log line say how many
** statements the database ran. */
static void test_statement_count(void **state)
{
    (void)state;
    char path[] = "/tmp/corm-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    corm_instr *in = corm_db_instr(db);
    char spec[300];
    snprintf(spec, sizeof spec, "json:%s", path);
    assert_int_equal(corm_instr_log(in, spec), CORM_OK);
    corm_event last;
    memset(&last, 0, sizeof last);
    int h = corm_on_query(db, on_event, &last);

    Genre gs[5];
    static const char *const names[] = {"Stat 1", "Stat 2", "Stat 3", "Stat 4", "Stat 5"};
    for (int i = 0; i < 5; i++) {
        gs[i] = CORM_NEW(Genre);
        gs[i].name = (char *)names[i];
    }
    uint64_t before = corm_query_count(db);
    assert_int_equal(corm_bulk_create_array(db, gs, 5, NULL), CORM_OK);
    assert_int_equal(corm_query_count(db) - before, 1);
    assert_int_equal(last.rows, 5);
    /* SQLite inserts row by row (one prepared INSERT), PostgreSQL in one
    ** multi-row statement */
    uint64_t want = test_db_is_pg() ? 1 : 5;
    assert_int_equal(last.statements, want);
    corm_qs *qs = corm_all(db, Genre);
    assert_true(corm_count(qs) >= 5);
    assert_int_equal(last.statements, 1);
    corm_qs_free(qs);
    corm_off_query(db, h);
    assert_int_equal(corm_instr_log(in, "off"), CORM_OK);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096], key[64];
    snprintf(key, sizeof key, "\"rows\":5,\"statements\":%llu,", (unsigned long long)want);
    int bulk = 0, one = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, key)) bulk++;
        if (strstr(line, "\"statements\":1,")) one++;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(bulk, 1);
    assert_true(one >= 1);
    assert_int_equal(corm_exec(db, "DELETE FROM \"genre\" WHERE \"name\" LIKE 'Stat %'"), CORM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_n_plus_one_fk),
        cmocka_unit_test(test_n_plus_one_sets),
        cmocka_unit_test(test_n_plus_one_deferred),
        cmocka_unit_test(test_nested_loops),
        cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_partly_prefetched),
        cmocka_unit_test(test_no_false_positives),
        cmocka_unit_test(test_count_exists_in_loop),
        cmocka_unit_test(test_filter_in_loop),
        cmocka_unit_test(test_prefetch_in_loop),
        cmocka_unit_test(test_lookups_writes_duplicates),
        cmocka_unit_test(test_unused_eager),
        cmocka_unit_test(test_strict_mode),
        cmocka_unit_test(test_auto_mode),
        cmocka_unit_test(test_captures_nest),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_transaction_sites),
        cmocka_unit_test(test_check_message),
        cmocka_unit_test(test_json_log_and_metrics),
        cmocka_unit_test(test_callback_and_env),
        cmocka_unit_test(test_statement_count),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
