/*
** test_oom.c - every allocation corm makes fails in turn (once, then from
** that point on) during a whole program: open, migrate, writes, a queryset
** with filters, select_related, prefetch, annotate, values, lazy loads.
** Then the same for every allocation SQLite makes (its allocator replaced
** through sqlite3_config).  Each run must end in success or CORM_NOMEM -
** never a crash, a wrong result or a leak (LeakSanitizer checks the whole
** process at exit).
*/
#include "test.h"
#include "core/core_int.h"

#include <sqlite3.h>
#include <string.h>

static corm_rc fail_with(corm_rc rc) { return rc == CORM_OK ? CORM_DB : rc; }

/* The program under test; returns CORM_OK only when every step worked and
** every result was right. */
static corm_rc program(void)
{
    corm_error err;
    corm_db *db = corm_open("sqlite::memory:", &bookstore_schema, &err);
    if (!db) return err.rc;
    corm_rc rc = corm_migrate(db);
    Author a = CORM_NEW(Author);
    a.name = "Ann";
    a.email = "ann@example.com";
    corm_set_null(&a, "country", true);
    corm_set_null(&a, "bio", true);
    if (rc == CORM_OK) rc = corm_save(db, &a);
    Genre g = CORM_NEW(Genre);
    g.name = "Fiction";
    if (rc == CORM_OK) rc = corm_save(db, &g);
    for (int i = 0; rc == CORM_OK && i < 3; i++) {
        Book b = CORM_NEW(Book);
        char isbn[32];
        snprintf(isbn, sizeof isbn, "isbn-%d", i);
        b.title = "Title";
        b.author_id = a.id;
        corm_set_null(&b, "publisher", true);
        b.published_date = "2020-01-01";
        b.isbn = isbn;
        b.description = "d";
        rc = corm_save(db, &b);
        if (rc == CORM_OK) rc = corm_m2m_add(db, &b, BOOK_REL_GENRES, &g);
    }

    corm_qs *qs = NULL;
    if (rc == CORM_OK) {
        qs = corm_all(db, Author);
        if (!qs) rc = CORM_NOMEM;
    }
    if (rc == CORM_OK) {
        corm_filter(qs, "name__icontains", corm_text("an"));
        corm_prefetch_related(qs, "books__genres");
        corm_annotate(qs, "n", corm_Count(qs, "books", false));
        corm_order_by(qs, "-n");
        rc = corm_eval(qs);
        if (rc == CORM_OK) {
            Author *x = corm_qs_at(qs, 0);
            const corm_list *books = x ? author_books(x) : NULL;
            if (!x || !books || books->n != 3 || corm_annotation(x, "n")->u.i != 3 ||
                book_genres(books->items[0])->n != 1)
                rc = CORM_DB; /* a wrong result is a failure too */
        }
    }
    corm_qs_free(qs);

    if (rc == CORM_OK) {
        qs = corm_all(db, Book);
        if (!qs) rc = CORM_NOMEM;
        else {
            corm_select_related(qs, "author");
            corm_values(qs, "title", "author__name");
            rc = corm_eval(qs);
            if (rc == CORM_OK &&
                (corm_qs_len(qs) != 3 || strcmp(corm_row_text(qs, 0, "author__name"), "Ann")))
                rc = CORM_DB;
            corm_qs_free(qs);
        }
    }
    if (rc == CORM_OK) {
        qs = corm_all(db, Book);
        if (!qs) rc = CORM_NOMEM;
        else {
            Book *b = corm_first(qs);
            Author *x = b ? book_author(b) : NULL;
            if (!x)
                rc = fail_with(corm_qs_failed(qs) ? corm_qs_error(qs)->rc : corm_db_error(db)->rc);
            corm_qs_free(qs);
        }
    }
    corm_close(db);
    return rc;
}

static void test_every_allocation_fails(void **state)
{
    (void)state;
    test_oom_run(program);
}

/* SQLite's allocator, with the n-th allocation (or reallocation) failing. */
static sqlite3_mem_methods sqlite_real;
static long sqlite_fail_at = -1, sqlite_count;
static bool sqlite_persistent, sqlite_fired;

static bool sqlite_should_fail(void)
{
    if (sqlite_fail_at < 0) return false;
    long i = sqlite_count++;
    if (i == sqlite_fail_at || (sqlite_persistent && i > sqlite_fail_at)) {
        sqlite_fired = true;
        return true;
    }
    return false;
}

static void *sqlite_malloc(int n) { return sqlite_should_fail() ? NULL : sqlite_real.xMalloc(n); }

static void *sqlite_realloc(void *p, int n)
{
    return sqlite_should_fail() ? NULL : sqlite_real.xRealloc(p, n);
}

static void sqlite_fail(long n, bool persistent)
{
    sqlite_fail_at = n;
    sqlite_persistent = persistent;
    sqlite_count = 0;
    sqlite_fired = false;
}

static bool sqlite_done(void) { return sqlite_fired; }

static void test_every_sqlite_allocation_fails(void **state)
{
    (void)state;
    /* SQLite takes an allocator only while it is shut down */
    assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_real), SQLITE_OK);
    sqlite3_mem_methods failing = sqlite_real;
    failing.xMalloc = sqlite_malloc;
    failing.xRealloc = sqlite_realloc;
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &failing), SQLITE_OK);
    assert_int_equal(sqlite3_initialize(), SQLITE_OK);
    /* about 9,500 allocations: every 31st in make test (CORM_TEST_FAULT_STRIDE=1
    ** runs all of them: minutes) */
    static const test_fault sqlite_allocations = {"SQLite allocation", sqlite_fail, sqlite_done,
                                                  31};
    test_fault_run(program, &sqlite_allocations);
    assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
    assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &sqlite_real), SQLITE_OK);
    assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails),
        cmocka_unit_test(test_every_sqlite_allocation_fails),
    };
    return cmocka_run_group_tests_name("oom", tests, NULL, NULL);
}
