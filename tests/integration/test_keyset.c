/*
** test_keyset.c - keyset pagination: every page one query, forward and
** backward round trips over orderings with duplicates and NULLs (ascending,
** descending, mixed), first and last pages, the row-value comparison an
** index serves (EXPLAIN), and refused cursors (tampered, another key,
** another ordering, not a cursor) and bad arguments.
*/
#include "test.h"

#include <string.h>

static corm_db *db;
static const char key[] = "0123456789abcdef-test-signing-key";

/* Eight more books: published_date NULL for three, 2002-09-12 (Kafka's)
** for two more; pages 296 (Norwegian Wood's) for three more; prices 10.5
** and 12.99 four times each; three featured. */
static void add_books(void)
{
    static const struct {
        const char *title, *date;
        int pages;
        int64_t publisher;
    } more[] = {
        {"Draft A", NULL, 296, 0},
        {"Draft B", NULL, 505, 1},
        {"Draft C", NULL, 296, 0},
        {"Same Day 1", "2002-09-12", 296, 1},
        {"Same Day 2", "2002-09-12", 100, 0},
        {"Old", "1831-01-14", 940, 0},
        {"New", "2020-01-01", 1400, 1},
        {"Zero", "2020-01-01", 0, 0},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        Book b = CORM_NEW(Book);
        char isbn[16];
        snprintf(isbn, sizeof isbn, "97899000000%02zu", i);
        b.title = (char *)more[i].title;
        b.author_id = 1 + (int64_t)(i % 3);
        b.publisher_id = more[i].publisher;
        corm_set_null(&b, "publisher", more[i].publisher == 0);
        b.published_date = (char *)more[i].date;
        corm_set_null(&b, "published_date", more[i].date == NULL);
        b.isbn = isbn;
        b.pages = more[i].pages;
        b.description = "";
        b.price = corm_dec(i % 2 ? "12.99" : "10.50"); /* 10.50: Les Miserables' */
        b.featured = i % 3 == 0;
        assert_int_equal(corm_save(db, &b), CORM_OK);
    }
}

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    add_books();
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* Books ordered by terms (NULL-terminated), as keyset pages order them. */
static corm_qs *books(const char *const *terms)
{
    corm_qs *qs = corm_all(db, Book);
    if (terms) corm_order_by_v(qs, terms);
    return qs;
}

static void append_ids(char *all, size_t cap, const char *ids)
{
    if (!*ids) return;
    size_t len = strlen(all);
    snprintf(all + len, cap - len, "%s%s", len ? "," : "", ids);
}

/* Walk every page forward from the first, then backward from the last,
** one query per page; both give the full ordering's ids. */
static void round_trip(const char *const *terms, const char *const *total, int64_t per_page)
{
    corm_qs *want_qs = books(total);
    char want[1024];
    snprintf(want, sizeof want, "%s", test_ids(want_qs));
    corm_qs_free(want_qs);

    corm_qs *qs = books(terms);
    char fwd[1024] = "", cursors[64][256], fwd_pages[64][256], back_to[64][256];
    int npages = 0;
    corm_keyset_page *pg;
    const char *cursor = NULL;
    for (;;) {
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            pg = corm_keyset_page(qs, per_page, cursor, key, sizeof key - 1);
        }
        assert_non_null(pg);
        assert_int_equal(pg->has_previous, npages > 0);
        assert_int_equal(pg->previous_cursor != NULL, npages > 0);
        assert_true(corm_qs_len(pg->objects) <= (size_t)per_page);
        assert_true(npages < 64);
        CORM_ASSERT_NUM_QUERIES(db, 0)
        {
            snprintf(fwd_pages[npages], sizeof fwd_pages[0], "%s", test_ids(pg->objects));
        }
        append_ids(fwd, sizeof fwd, fwd_pages[npages]);
        if (npages) snprintf(back_to[npages], sizeof back_to[0], "%s", pg->previous_cursor);
        bool next = pg->has_next;
        if (next) {
            assert_int_equal(corm_qs_len(pg->objects), per_page);
            snprintf(cursors[npages], sizeof cursors[0], "%s", pg->next_cursor);
        } else assert_null(pg->next_cursor);
        npages++;
        corm_keyset_page_free(pg);
        if (!next) break;
        cursor = cursors[npages - 1];
    }
    assert_string_equal(fwd, want);
    /* each page's previous cursor gives exactly the page before it */
    for (int i = 1; i < npages; i++) {
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            pg = corm_keyset_page(qs, per_page, back_to[i], key, sizeof key - 1);
        }
        assert_non_null(pg);
        assert_string_equal(test_ids(pg->objects), fwd_pages[i - 1]);
        assert_int_equal(pg->has_previous, i > 1);
        assert_true(pg->has_next);
        corm_keyset_page_free(pg);
    }

    /* backward: the last page, then previous cursors to the first */
    char back[1024] = "", page_ids[64][256], prev[256];
    int n = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        pg = corm_keyset_last_page(qs, per_page, key, sizeof key - 1);
    }
    assert_non_null(pg);
    assert_false(pg->has_next);
    assert_null(pg->next_cursor);
    for (;;) {
        assert_true(n < 64);
        snprintf(page_ids[n++], sizeof page_ids[0], "%s", test_ids(pg->objects));
        bool more = pg->has_previous;
        if (more) snprintf(prev, sizeof prev, "%s", pg->previous_cursor);
        else assert_null(pg->previous_cursor);
        if (n > 1) assert_true(pg->has_next);
        corm_keyset_page_free(pg);
        if (!more) break;
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            pg = corm_keyset_page(qs, per_page, prev, key, sizeof key - 1);
        }
        assert_non_null(pg);
    }
    for (int i = n - 1; i >= 0; i--) append_ids(back, sizeof back, page_ids[i]);
    assert_string_equal(back, want);
    corm_qs_free(qs);
}

#define TERMS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void trips(const char *const *terms, const char *const *total)
{
    for (int64_t per_page = 1; per_page <= 5; per_page++) round_trip(terms, total, per_page);
    round_trip(terms, total, 14); /* one page: everything */
    round_trip(terms, total, 100);
}

static void test_ascending_nulls(void **state)
{
    (void)state;
    trips(TERMS("published_date"), TERMS("published_date", "pk"));
}

static void test_descending_nulls(void **state)
{
    (void)state;
    trips(TERMS("-published_date"), TERMS("-published_date", "-pk"));
}

static void test_duplicates_row_value(void **state)
{
    (void)state;
    trips(TERMS("pages"), TERMS("pages", "pk"));
    trips(TERMS("-pages"), TERMS("-pages", "-pk"));
    trips(TERMS("pages", "-title"), TERMS("pages", "-title", "-pk"));
}

static void test_mixed_and_nullable_fk(void **state)
{
    (void)state;
    trips(TERMS("-published_date", "title"), TERMS("-published_date", "title", "pk"));
    trips(TERMS("publisher", "-pages"), TERMS("publisher", "-pages", "-pk"));
    trips(TERMS("-publisher", "published_date"), TERMS("-publisher", "published_date", "pk"));
    /* a decimal (exact, units and scale in the cursor) and a bool */
    trips(TERMS("-price"), TERMS("-price", "-pk"));
    trips(TERMS("featured", "price"), TERMS("featured", "price", "pk"));
}

static void test_unique_and_default_orderings(void **state)
{
    (void)state;
    /* a unique non-NULL last term: no key appended, terms after it dropped */
    trips(TERMS("isbn"), TERMS("isbn"));
    trips(TERMS("-pk", "title"), TERMS("-pk"));
    /* no ordering at all: by the key */
    trips(NULL, TERMS("pk"));
}

static void test_filtered_and_empty(void **state)
{
    (void)state;
    corm_qs *qs = books(TERMS("-pages"));
    corm_filter(qs, "author", corm_int(2));
    corm_keyset_page *pg = corm_keyset_page(qs, 2, NULL, key, sizeof key - 1);
    assert_string_equal(test_ids(pg->objects), "5,8"); /* 928, 505 pages */
    assert_true(pg->has_next);
    char next[256];
    snprintf(next, sizeof next, "%s", pg->next_cursor);
    corm_keyset_page_free(pg);
    pg = corm_keyset_page(qs, 2, next, key, sizeof key - 1);
    assert_string_equal(test_ids(pg->objects), "4,3"); /* 505, 296 */
    corm_keyset_page_free(pg);
    corm_qs_free(qs);

    qs = books(TERMS("title"));
    corm_filter(qs, "pages__gt", corm_int(100000));
    CORM_ASSERT_NUM_QUERIES(db, 1) { pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1); }
    assert_string_equal(test_ids(pg->objects), "");
    assert_false(pg->has_next);
    assert_false(pg->has_previous);
    assert_null(pg->next_cursor);
    assert_null(pg->previous_cursor);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

/* The SQL: a row-value comparison for a uniform ordering without NULLs, the
** OR expansion (with the index bound in front) otherwise. */
static void test_sql_forms(void **state)
{
    (void)state;
    const char *row = "(T0.\"title\", T0.\"id\") > (";
    corm_qs *qs = books(TERMS("title"));
    corm_keyset_page *pg = corm_keyset_page(qs, 2, NULL, key, sizeof key - 1);
    corm_keyset_page *p2 = corm_keyset_page(qs, 2, pg->next_cursor, key, sizeof key - 1);
    const char *sql = corm_qs_sql(p2->objects);
    assert_non_null(sql);
    if (!strstr(sql, row)) fail_msg("no row comparison %s in: %s", row, sql);
    corm_keyset_page_free(pg);
    corm_keyset_page_free(p2);
    corm_qs_free(qs);

    qs = books(TERMS("title", "-pages"));
    pg = corm_keyset_page(qs, 2, NULL, key, sizeof key - 1);
    p2 = corm_keyset_page(qs, 2, pg->next_cursor, key, sizeof key - 1);
    sql = corm_qs_sql(p2->objects);
    if (!strstr(sql, "T0.\"title\" >= ") || !strstr(sql, " OR ") || strstr(sql, ") > ("))
        fail_msg("no expanded form in: %s", sql);
    corm_keyset_page_free(pg);
    corm_keyset_page_free(p2);
    corm_qs_free(qs);
}

/* An index on the ordering columns serves the page (not a full scan). */
/* The plan of the second page of qs ordered by terms (borrowed). */
static void second_page_plan(const char *const *terms, char *plan, size_t size)
{
    corm_qs *qs = books(terms);
    corm_keyset_page *pg = corm_keyset_page(qs, 2, NULL, key, sizeof key - 1);
    corm_keyset_page *p2 = corm_keyset_page(qs, 2, pg->next_cursor, key, sizeof key - 1);
    const char *text = corm_explain(p2->objects);
    assert_non_null(text);
    snprintf(plan, size, "%s", text);
    corm_keyset_page_free(pg);
    corm_keyset_page_free(p2);
    corm_qs_free(qs);
}

#define assert_plan_has(plan, want) \
    if (!strstr((plan), (want))) fail_msg("'%s' not in the plan:\n%s", (want), (plan))

/* An index on the ordering columns serves the page: the row comparison is
** the index's bound (SQLite: a SEARCH on it; PostgreSQL: its Index Cond),
** and so is the leading column of the expanded form. */
static void test_explain_uses_index(void **state)
{
    (void)state;
    char plan[2048];
    /* a few rows: PostgreSQL would rather scan them; ask it not to */
    if (test_db_is_pg()) assert_int_equal(corm_exec(db, "SET enable_seqscan = off"), CORM_OK);
    assert_int_equal(corm_exec(db, "CREATE INDEX keyset_pages_id ON book (pages, id)"), CORM_OK);
    second_page_plan(TERMS("pages"), plan, sizeof plan);
    if (test_db_is_pg()) {
        assert_plan_has(plan, "Index Scan using keyset_pages_id");
        assert_plan_has(plan, "Index Cond: (ROW(pages, id) > ROW(");
    } else assert_plan_has(plan, "SEARCH T0 USING INDEX keyset_pages_id (pages>?)");
    /* descending: the same index, read backward */
    second_page_plan(TERMS("-pages"), plan, sizeof plan);
    if (test_db_is_pg()) {
        assert_plan_has(plan, "Index Scan Backward using keyset_pages_id");
        assert_plan_has(plan, "Index Cond: (ROW(pages, id) < ROW(");
    } else assert_plan_has(plan, "SEARCH T0 USING INDEX keyset_pages_id (pages<?)");
    /* the schema's index on title, and the bound of a mixed ordering */
    second_page_plan(TERMS("title"), plan, sizeof plan);
    assert_plan_has(plan, test_db_is_pg() ? "using book_title_idx" : "INDEX book_title_idx");
    second_page_plan(TERMS("title", "-pages"), plan, sizeof plan);
    assert_plan_has(plan, test_db_is_pg() ? "Index Cond: ((title)::text >= "
                                          : "INDEX book_title_idx (title>?)");
}

static void test_refused_cursors(void **state)
{
    (void)state;
    corm_qs *qs = books(TERMS("published_date"));
    corm_keyset_page *pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1);
    char good[256];
    snprintf(good, sizeof good, "%s", pg->next_cursor);
    corm_keyset_page_free(pg);

    /* every character changed in turn is refused, before any query */
    char bad[256];
    for (size_t i = 0; good[i]; i++) {
        snprintf(bad, sizeof bad, "%s", good);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        CORM_ASSERT_NUM_QUERIES(db, 0) { pg = corm_keyset_page(qs, 3, bad, key, sizeof key - 1); }
        assert_null(pg);
        assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    }
    snprintf(bad, sizeof bad, "%s", good);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    assert_null(corm_keyset_page(qs, 3, bad, key, sizeof key - 1));
    assert_non_null(strstr(corm_db_error(db)->message, "signature does not match"));
    assert_non_null(corm_db_error(db)->hint);

    /* another key */
    static const char other[] = "another-key-0123456789";
    assert_null(corm_keyset_page(qs, 3, good, other, sizeof other - 1));
    assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    assert_non_null(strstr(corm_db_error(db)->message, "signature does not match"));
    /* the db keeps the HMAC set up for its last key: switching keys back
    ** and forth, or to a key that is the first bytes of the other, must
    ** sign with the key of the call */
    pg = corm_keyset_page(qs, 3, good, key, sizeof key - 1);
    assert_non_null(pg);
    corm_keyset_page_free(pg);
    char mine[512];
    pg = corm_keyset_page(qs, 3, NULL, other, sizeof other - 1);
    assert_non_null(pg);
    snprintf(mine, sizeof mine, "%s", pg->next_cursor);
    corm_keyset_page_free(pg);
    assert_null(corm_keyset_page(qs, 3, mine, key, sizeof key - 1));
    assert_null(corm_keyset_page(qs, 3, mine, other, sizeof other - 2));
    assert_non_null(strstr(corm_db_error(db)->message, "signature does not match"));
    pg = corm_keyset_page(qs, 3, mine, other, sizeof other - 1);
    assert_non_null(pg);
    corm_keyset_page_free(pg);

    /* cut short, or not a cursor at all */
    good[20] = '\0';
    assert_null(corm_keyset_page(qs, 3, good, key, sizeof key - 1));
    assert_non_null(strstr(corm_db_error(db)->message, "is not a cursor (too short)"));
    assert_null(corm_keyset_page(qs, 3, "page=2&x=<script>", key, sizeof key - 1));
    assert_non_null(strstr(corm_db_error(db)->message, "is not a cursor"));
    corm_qs_free(qs);

    /* a good cursor of another ordering */
    qs = books(TERMS("pages"));
    pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1);
    snprintf(good, sizeof good, "%s", pg->next_cursor);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
    qs = books(TERMS("-pages"));
    assert_null(corm_keyset_page(qs, 3, good, key, sizeof key - 1));
    assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    assert_non_null(strstr(corm_db_error(db)->message, "another model or ordering"));
    /* the same ordering on another queryset of it (a filter) takes it */
    corm_filter(qs, "pages__gt", corm_int(0));
    corm_qs_free(qs);
    qs = books(TERMS("pages"));
    corm_filter(qs, "author", corm_int(1));
    pg = corm_keyset_page(qs, 3, good, key, sizeof key - 1);
    assert_non_null(pg);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    corm_qs *qs = books(TERMS("title"));
    assert_null(corm_keyset_page(qs, 0, NULL, key, sizeof key - 1));
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "per_page must be at least 1"));
    assert_null(corm_keyset_page(qs, 5, NULL, "short", 5));
    assert_non_null(strstr(corm_db_error(db)->message, "shorter than 16 bytes"));
    assert_null(corm_keyset_page(qs, 5, NULL, NULL, 0));
    assert_non_null(strstr(corm_db_error(db)->message, "signing key is NULL"));
    corm_qs_free(qs);

    qs = books(TERMS("author__name"));
    assert_null(corm_keyset_page(qs, 5, NULL, key, sizeof key - 1));
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "'author__name' is not a field"));
    corm_qs_free(qs);

    qs = books(TERMS("title"));
    corm_slice(qs, 0, 10);
    assert_null(corm_keyset_page(qs, 5, NULL, key, sizeof key - 1));
    assert_non_null(strstr(corm_db_error(db)->message, "cannot page a sliced queryset"));
    corm_qs_free(qs);

    qs = books(TERMS("title"));
    corm_values(qs, "title");
    assert_null(corm_keyset_page(qs, 5, NULL, key, sizeof key - 1));
    assert_non_null(strstr(corm_db_error(db)->message, "values()"));
    corm_qs_free(qs);

    /* success clears the db's error */
    qs = books(TERMS("title"));
    corm_keyset_page *pg = corm_keyset_page(qs, 5, NULL, key, sizeof key - 1);
    assert_non_null(pg);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

/* select_related joins into the page's one query; a prefetch adds its own
** (one per level), and neither changes which rows a page has. */
static void test_related_and_prefetch(void **state)
{
    (void)state;
    corm_qs *qs = books(TERMS("-published_date"));
    corm_select_related(qs, "author");
    corm_prefetch_related(qs, "genres");
    corm_keyset_page *pg, *p2;
    CORM_ASSERT_NUM_QUERIES(db, 2) { pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1); }
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        p2 = corm_keyset_page(qs, 3, pg->next_cursor, key, sizeof key - 1);
    }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        /* 2020 (14 Zero, 13 New: the key descending too), 2009 (5 1Q84);
        ** 2002 (11, 10 Same Day, 4 Kafka) */
        assert_string_equal(test_ids(pg->objects), "14,13,5");
        assert_string_equal(test_ids(p2->objects), "11,10,4");
        const Book *kafka = corm_qs_at(p2->objects, 2);
        assert_string_equal(book_author((Book *)kafka)->name, "Haruki Murakami");
        assert_int_equal(book_genres((Book *)kafka)->n, 2);
    }
    corm_keyset_page_free(pg);
    corm_keyset_page_free(p2);
    corm_qs_free(qs);
}

/* The cursor after a known object is the one its page gave; a page whose
** ordering fields were deferred cannot make cursors. */
static void test_cursor_from_object(void **state)
{
    (void)state;
    corm_qs *qs = books(TERMS("-published_date", "title"));
    corm_keyset_page *pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1);
    char buf[256];
    const Book *third = corm_qs_at(pg->objects, 2);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_keyset_cursor(qs, third, key, sizeof key - 1, buf, sizeof buf),
                         CORM_OK);
    }
    assert_string_equal(buf, pg->next_cursor);
    /* a built object: the first book of 2020 (ids 13 "New", 14 "Zero") */
    Book b = CORM_NEW(Book);
    b.id = 13;
    b.title = "New";
    b.published_date = "2020-01-01";
    assert_int_equal(corm_keyset_cursor(qs, &b, key, sizeof key - 1, buf, sizeof buf), CORM_OK);
    corm_keyset_page *after = corm_keyset_page(qs, 2, buf, key, sizeof key - 1);
    assert_string_equal(test_ids(after->objects), "14,5"); /* Zero, then 1Q84 (2009) */
    corm_keyset_page_free(after);

    assert_int_equal(corm_keyset_cursor(qs, &b, key, sizeof key - 1, buf, 10), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "the buffer has 10"));
    Author a = CORM_NEW(Author);
    assert_int_equal(corm_keyset_cursor(qs, &a, key, sizeof key - 1, buf, sizeof buf), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "of another model"));
    corm_keyset_page_free(pg);
    corm_qs_free(qs);

    qs = books(TERMS("title"));
    corm_defer(qs, "title");
    assert_null(corm_keyset_page(qs, 3, NULL, key, sizeof key - 1));
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "'title' was not loaded"));
    corm_qs_free(qs);
    qs = books(TERMS("title"));
    corm_only(qs, "title");
    pg = corm_keyset_page(qs, 3, NULL, key, sizeof key - 1);
    assert_non_null(pg); /* the key is always loaded */
    corm_keyset_page_free(pg);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ascending_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descending_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_row_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_and_nullable_fk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_and_default_orderings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filtered_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_uses_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_from_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_related_and_prefetch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
