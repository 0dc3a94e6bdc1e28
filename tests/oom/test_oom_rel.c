/*
** test_oom_rel.c - every allocation fails in turn (tests/oom/test_oom.c's
** method) through the relation-cache and write calls of issue 14:
** in_bulk, a related queryset answered from a prefetch, prefetch_objects
** into a holder, and a delete with per-model counts.  Each run ends in
** success with the right results, or CORM_NOMEM; LeakSanitizer checks
** for leaks at exit.
*/
#include "test.h"

#include <string.h>

static corm_rc check(bool ok) { return ok ? CORM_OK : CORM_DB; }

static corm_rc qs_rc(corm_qs *qs, corm_rc rc)
{
    if (rc == CORM_OK && qs && corm_qs_failed(qs)) rc = corm_qs_error(qs)->rc;
    return rc;
}

static corm_rc program(void)
{
    corm_error err;
    corm_db *db = corm_open("sqlite::memory:", &bookstore_schema, &err);
    if (!db) return err.rc;
    corm_rc rc = corm_migrate(db);
    Author a = CORM_NEW(Author);
    a.name = "Ann";
    a.email = "ann@example.com";
    if (rc == CORM_OK) rc = corm_save(db, &a);
    Genre g = CORM_NEW(Genre);
    g.name = "Fiction";
    if (rc == CORM_OK) rc = corm_save(db, &g);
    for (int i = 0; rc == CORM_OK && i < 2; i++) {
        Book b = CORM_NEW(Book);
        char isbn[32];
        snprintf(isbn, sizeof isbn, "isbn-%d", i);
        b.title = "Title";
        b.author_id = a.id;
        b.isbn = isbn;
        b.description = "d";
        rc = corm_save(db, &b);
        if (rc == CORM_OK) rc = corm_m2m_add(db, &b, BOOK_REL_GENRES, &g);
    }
    /* in_bulk by a unique text field */
    corm_qs *qs = rc == CORM_OK ? corm_all(db, Book) : NULL;
    if (rc == CORM_OK) {
        static const char *const keys[] = {"isbn-1", "nope"};
        rc = corm_in_bulk_by(qs, "isbn", corm_texts(keys, 2));
        if (rc == CORM_OK) rc = check(corm_in_bulk_get(qs, corm_text("isbn-1")) != NULL);
    }
    corm_qs_free(qs);
    /* a prefetched set counted through its related queryset */
    qs = rc == CORM_OK ? corm_all(db, Author) : NULL;
    if (rc == CORM_OK) {
        corm_prefetch_related(qs, "books");
        rc = corm_eval(qs);
        Author *x = rc == CORM_OK ? corm_qs_at(qs, 0) : NULL;
        corm_qs *mine = x ? author_books_qs(x) : NULL;
        if (rc == CORM_OK && !mine) rc = CORM_NOMEM;
        if (rc == CORM_OK) {
            int64_t n = corm_count(mine);
            rc = n < 0 ? qs_rc(mine, CORM_OK) : check(n == 2);
        }
        corm_qs_free(mine);
    }
    corm_qs_free(qs);
    /* objects made by hand, prefetched into a holder */
    corm_qs *holder = rc == CORM_OK ? corm_all(db, Book) : NULL;
    if (rc == CORM_OK) {
        Author h = CORM_NEW(Author);
        h.id = a.id;
        void *objs[] = {&h};
        rc = corm_prefetch_objects_in(holder, objs, 1, "books__genres");
        if (rc == CORM_OK) rc = check(author_books(&h)->n == 2);
    }
    corm_qs_free(holder);
    /* delete with counts: 2 books, 2 links, the author */
    if (rc == CORM_OK) {
        corm_deleted d;
        rc = corm_delete_counts(db, &a, &d);
        if (rc == CORM_OK)
            rc = check(d.total == 5 && corm_deleted_get(&d, "bookstore.Book_genres") == 2);
    }
    corm_close(db);
    return rc;
}

static void test_every_allocation_fails(void **state)
{
    (void)state;
    test_oom_run(program);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_allocation_fails)};
    return cmocka_run_group_tests_name("oom_rel", tests, NULL, NULL);
}
