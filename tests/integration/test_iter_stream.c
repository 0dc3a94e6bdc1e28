/*
** test_iter_stream.c - corm_iterator outside a transaction.  On PostgreSQL
** the cursor now streams in a transaction corm opens for it (BEGIN; DECLARE
** ... NO SCROLL CURSOR; FETCH; COMMIT), where it was a WITH HOLD cursor the
** server materialized whole (src/backend/pg.c, "streaming").  The loop's
** statements keep the semantics of docs/postgresql.md on both backends:
** reads (lazy loads, counts, the per-chunk prefetch, a second iterator) run
** while the cursor streams; a write is committed when its call returns
** (seen from another connection), and the loop goes on over every row;
** corm_begin / corm_commit inside the loop work as outside it.  What is
** checked only on PostgreSQL: the cursor is a plain one (not holdable)
** while it streams, gone once a write ended corm's transaction, and a
** statement that fails in the loop loses the rows not fetched yet (the
** iterator says so; the connection goes on).
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

#define OK_DB(call) TEST_OK_DB(db, call)

static int64_t scalar_on(corm_db *on, const char *sql)
{
    corm_qs *qs = corm_sql(on, sql, NULL, 0);
    if (corm_eval(qs) != CORM_OK) fail_msg("%s: %s", sql, corm_qs_error(qs)->message);
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    int64_t n = v && v->type == CORM_V_INT ? v->u.i : -1;
    corm_qs_free(qs);
    return n;
}

/* corm's cursors open on db's session: streaming (not holdable), held. */
static int64_t cursors(bool holdable)
{
    if (!test_db_is_pg()) return 0;
    return scalar_on(db, holdable ? "SELECT count(*) FROM pg_cursors WHERE is_holdable AND name "
                                    "LIKE 'corm\\_cur\\_%'"
                                  : "SELECT count(*) FROM pg_cursors WHERE NOT is_holdable AND "
                                    "name LIKE 'corm\\_cur\\_%'");
}

/* One streaming cursor open while the loop runs (PostgreSQL). */
#define STREAMING (test_db_is_pg() ? 1 : 0)

static int64_t tags_seen_by(corm_db *other) { return scalar_on(other, "SELECT count(*) FROM tag"); }

/* Reads in the loop: the cursor streams all along (PostgreSQL), every book
** comes once, exact queries. */
static void test_reads_in_the_loop(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 2);
    int64_t ids = 0, pages = 0;
    int n = 0;
    Book *b;
    while ((b = corm_iter_next(it))) {
        n++;
        ids = ids * 10 + b->id;
        /* a lazy load and a count: one query each */
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            const Author *a = book_author(b);
            assert_non_null(a);
            corm_qs *mine = corm_all(db, Book);
            corm_filter(mine, "author", corm_int(a->id));
            pages += corm_count(mine);
            corm_qs_free(mine);
        }
        assert_int_equal(cursors(false), STREAMING); /* still streaming */
        assert_int_equal(cursors(true), 0);
        assert_int_equal(corm_tx_depth(db), 0); /* corm's, not the program's */
    }
    assert_int_equal(n, 6);
    assert_int_equal(ids, 123456);
    assert_int_equal(pages, 2 + 2 + 3 + 3 + 3 + 1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
    assert_int_equal(cursors(false), 0);
}

/* The per-chunk prefetch and a second iterator inside the first. */
static void test_prefetch_and_nested(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "books");
    corm_iter *it = corm_iterator(qs, 1);
    int authors = 0, books = 0, inner = 0;
    Author *a;
    while ((a = corm_iter_next(it))) {
        authors++;
        books += (int)author_books(a)->n;
        corm_qs *g = corm_all(db, Genre);
        corm_iter *gi = corm_iterator(g, 2);
        while (corm_iter_next(gi)) inner++;
        assert_int_equal(corm_qs_error(g)->rc, CORM_OK);
        corm_iter_free(gi);
        corm_qs_free(g);
        assert_int_equal(cursors(false), STREAMING);
    }
    assert_int_equal(authors, 4);
    assert_int_equal(books, 6);
    assert_int_equal(inner, 4 * 3);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
    assert_int_equal(cursors(false), 0);
}

/* A write in the loop is committed when its call returns; the loop goes on
** over every row (read ahead by then, on PostgreSQL). */
static void test_write_in_the_loop(void **state)
{
    (void)state;
    corm_error err;
    corm_db *other = corm_open(test_db_url(), &bookstore_schema, &err);
    assert_non_null(other);
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 2);
    int n = 0;
    Book *b;
    while ((b = corm_iter_next(it))) {
        n++;
        assert_int_equal(b->id, n);
        if (n == 1 || n == 4) {
            Tag t = CORM_NEW(Tag);
            t.name = b->title;
            OK_DB(corm_save(db, &t));
            /* committed: another connection sees it now */
            assert_int_equal(tags_seen_by(other), n == 1 ? 1 : 2);
            assert_int_equal(cursors(false), 0); /* the rest was read */
        }
    }
    assert_int_equal(n, 6);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
    corm_close(other);
}

/* A queryset with prefetch_related evaluated in the loop reads in a
** transaction of its own (one snapshot for its queries): its BEGIN ends
** corm's first, as a write does; the loop goes on over every row. */
static void test_prefetch_queryset_in_the_loop(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 2);
    int n = 0, books = 0;
    while (corm_iter_next(it)) {
        n++;
        if (n != 1) continue;
        corm_qs *authors = corm_all(db, Author);
        corm_prefetch_related(authors, "books");
        OK_DB(corm_eval(authors) == CORM_OK ? CORM_OK : corm_qs_error(authors)->rc);
        for (size_t i = 0; i < corm_qs_len(authors); i++)
            books += (int)author_books((Author *)corm_qs_at(authors, i))->n;
        corm_qs_free(authors);
        assert_int_equal(cursors(false), 0); /* the rest was read */
    }
    assert_int_equal(n, 6);
    assert_int_equal(books, 6);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
}

/* corm_begin / corm_commit in the loop: the program's transaction, as
** outside a loop (nothing seen by another connection before the commit). */
static void test_transaction_in_the_loop(void **state)
{
    (void)state;
    corm_error err;
    corm_db *other = corm_open(test_db_url(), &bookstore_schema, &err);
    assert_non_null(other);
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 4);
    int n = 0;
    Book *b;
    while ((b = corm_iter_next(it))) {
        n++;
        if (n != 2) continue;
        OK_DB(corm_begin(db));
        assert_int_equal(corm_tx_depth(db), 1);
        Tag t = CORM_NEW(Tag);
        t.name = "in a transaction";
        OK_DB(corm_save(db, &t));
        assert_int_equal(tags_seen_by(other), 0);
        OK_DB(corm_rollback(db));
        assert_int_equal(tags_seen_by(other), 0);
        OK_DB(corm_begin(db));
        t.id = 0;
        OK_DB(corm_save(db, &t));
        assert_int_equal(tags_seen_by(other), 0);
        OK_DB(corm_commit(db));
        assert_int_equal(tags_seen_by(other), 1);
        assert_int_equal(corm_tx_depth(db), 0);
    }
    assert_int_equal(n, 6);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_iter_free(it);
    corm_qs_free(qs);
    corm_close(other);
}

/* Inside the program's transaction the cursor is declared in it, as
** before; the writes of the loop commit with it. */
static void test_inside_a_transaction(void **state)
{
    (void)state;
    OK_DB(corm_begin(db));
    corm_qs *qs = corm_all(db, Book);
    corm_iter *it = corm_iterator(qs, 2);
    int n = 0;
    while (corm_iter_next(it)) {
        n++;
        assert_int_equal(cursors(false), STREAMING);
        Tag t = CORM_NEW(Tag);
        t.name = "x";
        OK_DB(corm_save(db, &t));
        assert_int_equal(cursors(false), STREAMING); /* still streaming: nothing to commit */
    }
    assert_int_equal(n, 6);
    corm_iter_free(it);
    corm_qs_free(qs);
    OK_DB(corm_commit(db));
    assert_int_equal(scalar_on(db, "SELECT count(*) FROM tag"), 6);
}

/* A statement that fails in the loop: on PostgreSQL it aborted corm's
** transaction, so the rows not fetched yet are lost and the iterator says
** so; the connection goes on. */
static void test_failure_in_the_loop(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_iter *it = corm_iterator(qs, 2);
    int n = 0;
    while (corm_iter_next(it)) {
        n++;
        if (n == 1) {
            corm_qs *bad = corm_sql(db, "SELECT * FROM no_such_table", NULL, 0);
            assert_int_not_equal(corm_eval(bad), CORM_OK);
            corm_qs_free(bad);
            /* the next statement runs normally */
            assert_int_equal(scalar_on(db, "SELECT count(*) FROM author"), 4);
        }
    }
    if (test_db_is_pg()) {
        assert_int_equal(n, 2); /* the first chunk */
        const corm_error *e = corm_qs_error(qs);
        assert_int_equal(e->rc, CORM_DB);
        assert_non_null(strstr(e->message, "the iterator's rows were lost"));
        assert_non_null(strstr(e->hint, "corm_begin"));
    } else {
        assert_int_equal(n, 6);
        assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    }
    corm_iter_free(it);
    corm_qs_free(qs);
    assert_int_equal(corm_tx_depth(db), 0);
    assert_int_equal(scalar_on(db, "SELECT count(*) FROM book"), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_in_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefetch_and_nested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_in_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefetch_queryset_in_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transaction_in_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inside_a_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_in_the_loop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
