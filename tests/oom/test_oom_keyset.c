/*
** test_oom_keyset.c - keyset pages with every allocation failing in turn
** (once, then from that point on): a page, the next one from its cursor,
** and back, on a NULL-aware (expanded) and a row-value ordering.  Each run
** ends in the right pages or CORM_NOMEM - never a crash, a wrong page, a
** leak, or another error (a cursor refused for want of memory would be).
** The database is made once, outside the failing runs.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>

static corm_db *db;
static const char key[] = "oom-test-signing-key-0123456789";

static corm_rc nomem_or(corm_rc rc) { return rc == CORM_OK ? CORM_DB : rc; }

/* The ids of a page, or "" when there is none. */
static const char *ids(const corm_keyset_page *pg, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; pg && i < corm_qs_len(pg->objects); i++) {
        const Book *b = corm_qs_at(pg->objects, i);
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? "," : "", (long long)b->id);
    }
    return buf;
}

/* Page 1, page 2 from its cursor, then page 1 again from page 2's
** previous cursor: want1 and want2. */
static corm_rc walk(const char *order, const char *want1, const char *want2)
{
    corm_qs *qs = corm_all(db, Book);
    if (!qs) return CORM_NOMEM;
    corm_order_by(qs, order);
    char buf[128], next[256] = "", prev[256] = "";
    corm_rc rc = CORM_OK;
    corm_keyset_page *pg = corm_keyset_page(qs, 2, NULL, key, sizeof key - 1);
    if (!pg) rc = nomem_or(corm_db_error(db)->rc);
    else if (strcmp(ids(pg, buf, sizeof buf), want1) != 0 || !pg->next_cursor) rc = CORM_DB;
    else snprintf(next, sizeof next, "%s", pg->next_cursor);
    corm_keyset_page_free(pg);
    pg = NULL;
    if (rc == CORM_OK) {
        pg = corm_keyset_page(qs, 2, next, key, sizeof key - 1);
        if (!pg) rc = nomem_or(corm_db_error(db)->rc);
        else if (strcmp(ids(pg, buf, sizeof buf), want2) != 0 || !pg->previous_cursor) rc = CORM_DB;
        else snprintf(prev, sizeof prev, "%s", pg->previous_cursor);
        corm_keyset_page_free(pg);
    }
    if (rc == CORM_OK) {
        pg = corm_keyset_page(qs, 2, prev, key, sizeof key - 1);
        if (!pg) rc = nomem_or(corm_db_error(db)->rc);
        else if (strcmp(ids(pg, buf, sizeof buf), want1) != 0) rc = CORM_DB;
        corm_keyset_page_free(pg);
    }
    corm_qs_free(qs);
    return rc;
}

static corm_rc program(void)
{
    /* published_date: NULL first (book 3), then 1 and 2 (same day), 4, 5 */
    corm_rc rc = walk("published_date", "3,1", "2,4");
    if (rc == CORM_OK) rc = walk("-pages", "5,4", "3,2"); /* 500 400 300 200 100 */
    /* every title the same: the pk breaks the ties */
    if (rc == CORM_OK) rc = walk("title", "1,2", "3,4");
    /* on the pk alone, both ways (a result's objects no longer need an
    ** allocation of their own: these keep the count well above the floor) */
    if (rc == CORM_OK) rc = walk("-id", "5,4", "3,2");
    if (rc == CORM_OK) rc = walk("id", "1,2", "3,4");
    return rc;
}

static void test_every_allocation_fails(void **state)
{
    (void)state;
    corm_error err;
    /* The suite's memo check (CORM_SQL_MEMO_VERIFY=1) compiles again on
    ** every memo hit and aborts on any difference - an allocation failed
    ** here in that second compile too: off for this one long-lived db. */
    unsetenv("CORM_SQL_MEMO_VERIFY");
    db = corm_open("sqlite::memory:", &bookstore_schema, &err);
    assert_non_null(db);
    assert_int_equal(corm_migrate(db), CORM_OK);
    Author a = CORM_NEW(Author);
    a.name = "Ann";
    a.email = "ann@example.com";
    corm_set_null(&a, "country", true);
    corm_set_null(&a, "bio", true);
    assert_int_equal(corm_save(db, &a), CORM_OK);
    static const char *const dates[] = {"2020-01-01", "2020-01-01", NULL, "2021-01-01",
                                        "2022-01-01"};
    for (int i = 0; i < 5; i++) {
        Book b = CORM_NEW(Book);
        char isbn[32];
        snprintf(isbn, sizeof isbn, "isbn-%d", i);
        b.title = "Title";
        b.author_id = a.id;
        corm_set_null(&b, "publisher", true);
        b.published_date = (char *)dates[i];
        corm_set_null(&b, "published_date", dates[i] == NULL);
        b.isbn = isbn;
        b.description = "d";
        b.pages = 100 * (i + 1);
        assert_int_equal(corm_save(db, &b), CORM_OK);
    }
    assert_int_equal(program(), CORM_OK);
    test_oom_run(program);
    corm_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_fails),
    };
    return cmocka_run_group_tests_name("oom: keyset", tests, NULL, NULL);
}
