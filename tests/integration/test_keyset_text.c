/*
** test_keyset_text.c - keyset pages over a nullable text column (Author.bio)
** whose values are NULL, the empty string (not NULL), duplicates, quotes,
** LIKE wildcards and non-ASCII text, on both databases: every page one
** query, the walk forward and the walk backward both give the database's
** own ordering, and a cursor that carries such a value is refused when it
** is altered or signed with another key.
*/
#include "test.h"

#include <string.h>

static corm_db *db;
static const char key[] = "text-cursor-signing-key-0123456789";

/* Authors 5..16, after the fixture's four (whose bios are NULL). */
static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    static const char *const bios[] = {"",      "",    "same", "same", "same", "O'Brien \"quoted\"",
                                       "a%b_c", "Zoë", "ä",    NULL,   "same", "z"};
    for (size_t i = 0; i < sizeof bios / sizeof bios[0]; i++) {
        Author a = CORM_NEW(Author);
        char name[16];
        snprintf(name, sizeof name, "A%02zu", i % 5); /* duplicate names too */
        a.name = name;
        a.email = "a@example.com";
        corm_set_null(&a, "country", true);
        a.bio = (char *)bios[i];
        corm_set_null(&a, "bio", bios[i] == NULL);
        assert_int_equal(corm_save(db, &a), CORM_OK);
    }
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static corm_qs *authors_by(const char *const *terms)
{
    corm_qs *qs = corm_all(db, Author);
    corm_order_by_v(qs, terms);
    return qs;
}

static void add_ids(char *all, size_t cap, const char *ids, bool front)
{
    if (!*ids) return;
    char tmp[1024];
    size_t len = strlen(all);
    if (front) snprintf(tmp, sizeof tmp, "%s%s%s", ids, len ? "," : "", all);
    else snprintf(tmp, sizeof tmp, "%s%s%s", all, len ? "," : "", ids);
    size_t n = strlen(tmp);
    assert_true(n < cap);
    memcpy(all, tmp, n + 1);
}

/* Forward from the first page, backward from the last: both the ordering. */
static void walk(const char *const *terms, const char *const *total, int64_t per_page)
{
    corm_qs *want_qs = authors_by(total);
    char want[512];
    snprintf(want, sizeof want, "%s", test_ids(want_qs));
    corm_qs_free(want_qs);
    corm_qs *qs = authors_by(terms);
    for (int dir = 0; dir < 2; dir++) {
        char got[512] = "", cursor[512] = "";
        corm_keyset_page *pg;
        for (int n = 0;; n++) {
            assert_true(n < 40);
            CORM_ASSERT_NUM_QUERIES(db, 1)
            {
                pg = dir == 0
                         ? corm_keyset_page(qs, per_page, n ? cursor : NULL, key, sizeof key - 1)
                     : n ? corm_keyset_page(qs, per_page, cursor, key, sizeof key - 1)
                         : corm_keyset_last_page(qs, per_page, key, sizeof key - 1);
            }
            if (!pg) fail_msg("page %d: %s", n, corm_db_error(db)->message);
            add_ids(got, sizeof got, test_ids(pg->objects), dir == 1);
            const char *next = dir == 0 ? pg->next_cursor : pg->previous_cursor;
            if (next) snprintf(cursor, sizeof cursor, "%s", next);
            corm_keyset_page_free(pg);
            if (!next) break;
        }
        if (strcmp(got, want) != 0)
            fail_msg("%s, %lld per page: got %s, want %s", dir ? "backward" : "forward",
                     (long long)per_page, got, want);
    }
    corm_qs_free(qs);
}

#define TERMS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_nullable_text(void **state)
{
    (void)state;
    for (int64_t per_page = 1; per_page <= 4; per_page++) {
        walk(TERMS("bio"), TERMS("bio", "pk"), per_page);
        walk(TERMS("-bio"), TERMS("-bio", "-pk"), per_page);
        walk(TERMS("bio", "-name"), TERMS("bio", "-name", "-pk"), per_page);
        walk(TERMS("-name", "bio"), TERMS("-name", "bio", "pk"), per_page);
    }
}

/* NULL sorts before '' ascending (corm's rule on both backends): the
** first page of 6 is the five NULLs, then an empty bio. */
static void test_null_before_empty(void **state)
{
    (void)state;
    corm_qs *qs = authors_by(TERMS("bio"));
    corm_keyset_page *pg = corm_keyset_page(qs, 6, NULL, key, sizeof key - 1);
    assert_string_equal(test_ids(pg->objects), "1,2,3,4,14,5");
    corm_keyset_page *p2 = corm_keyset_page(qs, 2, pg->next_cursor, key, sizeof key - 1);
    /* the other '', then the first text by the database's collation */
    assert_int_equal(strncmp(test_ids(p2->objects), "6,", 2), 0);
    corm_keyset_page_free(p2);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

/* A cursor holding quotes and non-ASCII text: any change is refused. */
static void test_text_cursor_refused(void **state)
{
    (void)state;
    corm_qs *qs = authors_by(TERMS("-bio"));
    corm_keyset_page *pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1);
    char good[512];
    snprintf(good, sizeof good, "%s", pg->next_cursor);
    corm_keyset_page_free(pg);
    size_t n = strlen(good);
    for (size_t i = 0; i < n; i += 3) {
        char bad[512];
        snprintf(bad, sizeof bad, "%s", good);
        bad[i] = bad[i] == 'x' ? 'y' : 'x';
        CORM_ASSERT_NUM_QUERIES(db, 0) { pg = corm_keyset_page(qs, 3, bad, key, sizeof key - 1); }
        assert_null(pg);
        assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    }
    static const char other[] = "another-signing-key-for-text-xx";
    assert_null(corm_keyset_page(qs, 3, good, other, sizeof other - 1));
    assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    pg = corm_keyset_page(qs, 3, good, key, sizeof key - 1);
    assert_non_null(pg);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nullable_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_before_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_cursor_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
