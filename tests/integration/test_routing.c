/*
** test_routing.c - several databases behind one handle, on SQLite and on
** PostgreSQL: corm_db_attach, corm_using, a router sending reads to an
** attached database while transactions stay on the primary, and lazy
** loads following the database their object came from.  The "replica"
** here is a second test database with its own fixture and one book more,
** so every answer tells which database gave it (test_replica.c does the
** same against a real streaming replica, with lag).
*/
#include "test.h"

#include <string.h>

static corm_db *db, *other;
static char other_url[1024];

static int setup(void **state)
{
    (void)state;
    other = test_db_open();
    snprintf(other_url, sizeof other_url, "%s", test_db_url());
    Book b = CORM_NEW(Book);
    b.title = "Only on the other one";
    b.author_id = 1;
    corm_set_null(&b, "publisher", true);
    b.published_date = "2001-01-01";
    b.isbn = "0000000000000";
    b.description = "";
    if (corm_save(other, &b) != CORM_OK) return -1;
    db = test_db_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_close(other);
    test_db_close(db);
    return 0;
}

static int64_t books(corm_qs *qs)
{
    int64_t n = corm_count(qs);
    corm_qs_free(qs);
    return n;
}

static int nqueries;
static void count_query(void *ud, const corm_event *ev)
{
    (void)ud;
    if (!ev->internal) nqueries++;
}

static void test_attach_and_using(void **state)
{
    (void)state;
    assert_int_equal(corm_db_attach(db, "replica", other_url), CORM_OK);
    assert_non_null(corm_db_alias(db, "replica"));
    assert_ptr_equal(corm_db_alias(db, "default"), db);
    assert_null(corm_db_alias(db, "nope"));
    /* names are unique, "default" is the db itself */
    assert_int_equal(corm_db_attach(db, "replica", other_url), CORM_INVALID);
    assert_int_equal(corm_db_attach(db, "default", other_url), CORM_INVALID);
    assert_int_equal(corm_db_attach(db, "down", "sqlite:/nonexistent-dir/x.db"), CORM_CONN);

    assert_int_equal(books(corm_all(db, Book)), 6);
    corm_qs *qs = corm_all(db, Book);
    corm_using(qs, "replica");
    assert_int_equal(books(qs), 7);
    qs = corm_all(db, Book);
    corm_using(qs, "default");
    assert_int_equal(books(qs), 6);
    /* an unknown name: a sticky error naming the attached ones */
    qs = corm_all(db, Book);
    corm_using(qs, "replika");
    assert_int_equal(corm_count(qs), -1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "attached: default, replica"));
    corm_qs_free(qs);
    /* a clone keeps its database */
    qs = corm_all(db, Book);
    corm_using(qs, "replica");
    corm_qs *copy = corm_qs_clone(qs);
    assert_int_equal(books(copy), 7);
    corm_qs_free(qs);
    /* after evaluation it is too late */
    qs = corm_all(db, Book);
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_using(qs, "replica");
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    corm_qs_free(qs);
}

static void test_router(void **state)
{
    (void)state;
    corm_set_router(db, corm_router_replica, "replica");
    /* reads go to the replica: every kind of read */
    assert_int_equal(books(corm_all(db, Book)), 7);
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "isbn", corm_text("0000000000000"));
    assert_int_equal(corm_exists(qs), 1);
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_order_by(qs, "-id");
    Book *last = corm_first(qs);
    assert_non_null(last);
    assert_string_equal(last->title, "Only on the other one");
    /* its lazy loads read from where it came from */
    corm_db *replica = corm_db_alias(db, "replica");
    int h = corm_on_query(replica, count_query, NULL);
    nqueries = 0;
    assert_string_equal(book_author(last)->name, "Victor Hugo");
    assert_int_equal(nqueries, 1);
    corm_off_query(replica, h);
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_iter *it = corm_iterator(qs, 2);
    int n = 0;
    while (corm_iter_next(it)) n++;
    corm_iter_free(it);
    corm_qs_free(qs);
    assert_int_equal(n, 7);

    /* writes go to the db they are given: the primary */
    Tag t = CORM_NEW(Tag);
    t.name = "written";
    assert_int_equal(corm_save(db, &t), CORM_OK);
    assert_int_equal(books(corm_all(db, Tag)), 0); /* the replica has none */
    qs = corm_all(db, Tag);
    corm_using(qs, "default");
    assert_int_equal(books(qs), 1);

    /* inside a transaction everything stays on the primary: it reads its
    ** own writes */
    assert_int_equal(corm_begin(db), CORM_OK);
    assert_int_equal(books(corm_all(db, Tag)), 1);
    assert_int_equal(books(corm_all(db, Book)), 6);
    qs = corm_all(db, Book);
    corm_using(qs, "replica"); /* explicit wins */
    assert_int_equal(books(qs), 7);
    assert_int_equal(corm_commit(db), CORM_OK);
    assert_int_equal(books(corm_all(db, Book)), 7);

    /* a router naming a database that is not attached */
    corm_set_router(db, corm_router_replica, "gone");
    qs = corm_all(db, Book);
    assert_int_equal(corm_count(qs), -1);
    assert_non_null(strstr(corm_qs_error(qs)->message, "the router chose database 'gone'"));
    corm_qs_free(qs);
    corm_set_router(db, NULL, NULL);
    assert_int_equal(books(corm_all(db, Book)), 6);
}

/* A lazy load of an object read from the replica runs there, and its
** error lands on the handle the program used (db), never on the
** replica's internal one; so does a deferred field's, and an auto-mode
** batch load's. */
static void test_errors_on_the_callers_handle(void **state)
{
    (void)state;
    corm_db *replica = corm_db_alias(db, "replica");
    corm_set_router(db, corm_router_replica, "replica");
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 7); /* read from the replica */
    corm_qs *deferred = corm_all(db, Book);
    corm_only(deferred, "title");
    corm_order_by(deferred, "id");
    assert_int_equal(corm_eval(deferred), CORM_OK);
    assert_int_equal(corm_qs_len(deferred), 7);
    assert_int_equal(corm_exec(replica, "ALTER TABLE author RENAME TO author_gone"), CORM_OK);

    Book *b = corm_qs_at(qs, 0);
    assert_null(book_author(b));
    const corm_error *e = corm_db_error(db);
    assert_int_not_equal(e->rc, CORM_OK);
    assert_non_null(strstr(e->sql, "\"author\""));
    assert_int_equal(corm_db_error(replica)->rc, CORM_OK);
    /* a related set of a replica object: the same */
    corm_qs *authors = corm_all(db, Country);
    corm_order_by(authors, "id");
    assert_int_equal(corm_eval(authors), CORM_OK);
    assert_null(country_authors(corm_qs_at(authors, 0)));
    assert_int_not_equal(corm_db_error(db)->rc, CORM_OK);
    assert_int_equal(corm_db_error(replica)->rc, CORM_OK);
    /* auto mode loads the relation for the whole result: the same */
    corm_nplusone_mode(replica, CORM_NPLUSONE_AUTO);
    assert_null(book_author(corm_qs_at(qs, 1)));
    assert_int_not_equal(corm_db_error(db)->rc, CORM_OK);
    assert_int_equal(corm_db_error(replica)->rc, CORM_OK);
    corm_nplusone_mode(replica, CORM_NPLUSONE_LOG);
    assert_int_equal(corm_exec(replica, "ALTER TABLE author_gone RENAME TO author"), CORM_OK);

    /* a deferred field of a replica object */
    assert_int_equal(corm_exec(replica, "ALTER TABLE book RENAME TO book_gone"), CORM_OK);
    Book *d = corm_qs_at(deferred, 0);
    assert_int_not_equal(corm_load_field_at(d, "pages", CORM_SITE), CORM_OK);
    assert_int_not_equal(corm_db_error(db)->rc, CORM_OK);
    assert_non_null(strstr(corm_db_error(db)->sql, "\"book\""));
    assert_int_equal(corm_db_error(replica)->rc, CORM_OK);
    assert_int_equal(corm_exec(replica, "ALTER TABLE book_gone RENAME TO book"), CORM_OK);

    /* the next call that works clears it, and the load works again */
    Author *a = book_author(b);
    assert_non_null(a);
    assert_string_equal(a->name, "Victor Hugo");
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    assert_int_equal(corm_field(d, pages), 1400);
    corm_qs_free(authors);
    corm_qs_free(deferred);
    corm_qs_free(qs);
    corm_set_router(db, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_and_using),
        cmocka_unit_test(test_router),
        cmocka_unit_test(test_errors_on_the_callers_handle),
    };
    return cmocka_run_group_tests_name("routing", tests, setup, teardown);
}
