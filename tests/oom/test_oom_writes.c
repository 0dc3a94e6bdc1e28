/*
** test_oom_writes.c - the writes of docs/writes.md under allocation
** failure: every allocation fails in turn (once, then from that point on)
** during a program of bulk_create, bulk_update (each strategy), update()
** with F, get_or_create, a default scope, corm_atomic and a cascading
** queryset delete.  Each run ends in success with the right results or in
** CORM_NOMEM (never another code, a crash or a leak), and a run that fails
** leaves no half-written bulk behind.
*/
#include "test.h"
#include "core/core_int.h"

#include <string.h>

static corm_rc check(bool ok) { return ok ? CORM_OK : CORM_DB; }

static corm_rc add_tag(corm_db *db, void *ud)
{
    Tag t = CORM_NEW(Tag);
    t.name = ud;
    return corm_save(db, &t);
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
    corm_set_null(&a, "country", true);
    corm_set_null(&a, "bio", true);
    if (rc == CORM_OK) rc = corm_save(db, &a);

    Book books[5];
    char isbn[5][24];
    for (int i = 0; i < 5; i++) {
        books[i] = CORM_NEW(Book);
        snprintf(isbn[i], sizeof isbn[i], "isbn-%d", i);
        books[i].title = "Title";
        books[i].author_id = a.id;
        corm_set_null(&books[i], "publisher", true);
        books[i].published_date = "2020-01-01";
        books[i].isbn = isbn[i];
        books[i].description = "d";
    }
    corm_bulk_opts two = {.batch_size = 2};
    if (rc == CORM_OK) rc = corm_bulk_create_array(db, books, 5, &two);
    if (rc == CORM_OK) rc = check(books[4].id == 5 && books[0].id == 1);

    for (int s = CORM_BULK_CASE; rc == CORM_OK && s <= CORM_BULK_VALUES; s++) {
        for (int i = 0; i < 5; i++) books[i].pages = 10 * s + i;
        corm_bulk_opts o = {.strategy = s};
        int64_t n = corm_bulk_update_array_at(db, books, 5, (const char *const[]){"pages", NULL},
                                              &o, CORM_SITE);
        rc = n == 5 ? CORM_OK : n < 0 ? corm_db_error(db)->rc : CORM_DB;
    }

    corm_qs *qs = NULL;
    if (rc == CORM_OK) {
        qs = corm_all(db, Book);
        if (!qs) rc = CORM_NOMEM;
        corm_filter(qs, "author__name", corm_text("Ann"));
        int64_t n = corm_update(qs, CORM_SET_F("pages", "pages", '+', corm_int(1)));
        if (rc == CORM_OK) rc = n == 5 ? CORM_OK : n < 0 ? corm_qs_error(qs)->rc : CORM_DB;
        corm_qs_free(qs);
    }

    if (rc == CORM_OK) {
        qs = corm_all(db, Genre);
        if (!qs) rc = CORM_NOMEM;
        corm_filter(qs, "name", corm_text("Poetry"));
        Genre init = CORM_NEW(Genre);
        init.name = "Poetry";
        bool created = false;
        Genre *g = corm_get_or_create(qs, &init, &created);
        if (rc == CORM_OK)
            rc = g ? check(created && g->id == 1 && strcmp(g->name, "Poetry") == 0)
                   : corm_qs_error(qs)->rc;
        corm_qs_free(qs);
    }

    if (rc == CORM_OK) rc = corm_scope_set(db, "tenant_id", corm_int(3));
    if (rc == CORM_OK) {
        qs = corm_all(db, Invoice);
        if (!qs) rc = CORM_NOMEM;
        int64_t n = corm_count(qs);
        if (rc == CORM_OK) rc = n == 0 ? CORM_OK : n < 0 ? corm_qs_error(qs)->rc : CORM_DB;
        corm_qs_free(qs);
    }

    if (rc == CORM_OK) rc = corm_atomic(db, add_tag, "t");

    if (rc == CORM_OK) {
        qs = corm_all(db, Author);
        if (!qs) rc = CORM_NOMEM;
        int64_t n = corm_qs_delete(qs); /* the author, 5 books */
        if (rc == CORM_OK) rc = n == 6 ? CORM_OK : n < 0 ? corm_qs_error(qs)->rc : CORM_DB;
        corm_qs_free(qs);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails),
    };
    return cmocka_run_group_tests_name("oom_writes", tests, NULL, NULL);
}
