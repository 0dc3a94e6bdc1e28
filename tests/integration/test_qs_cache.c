/*
** test_qs_cache.c - cached querysets (corm/qscache.h, docs/cache.md) on
** both cache backends (the local LRU and a real Redis: CORM_TEST_REDIS,
** started by tools/redis-test-server.sh in make test) and both databases:
** identical objects, relations and values() rows from the cache with zero
** queries; keys that differ by parameters and schema; one invalidation
** test per write kind; a transaction's writes invalidating at its commit;
** a Redis server stopped mid-test; the error paths.
*/
#include "test.h"
#include "redis_proc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static corm_db *db;
static corm_cache *cache;
static const char *cache_url; /* NULL: local */
static int errors_seen;

static void count_error(void *ud, const corm_error *e)
{
    (void)ud;
    (void)e;
    errors_seen++;
}

static corm_cache *open_cache(const char *url)
{
    corm_cache_config cfg = {.url = url, .key_prefix = "qs", .on_error = count_error};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    if (!c) fail_msg("corm_cache_open(%s): %s", url ? url : "local:", err.message);
    return c;
}

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    cache = open_cache(cache_url);
    corm_error err;
    if (corm_cache_clear(cache, &err) != CORM_OK) return -1;
    TEST_OK_DB(db, corm_db_use_cache(db, cache));
    errors_seen = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    corm_cache_close(cache);
    return 0;
}

static int group_local(void **state)
{
    (void)state;
    cache_url = NULL;
    return 0;
}

static int group_redis(void **state)
{
    (void)state;
    cache_url = getenv("CORM_TEST_REDIS");
    if (!cache_url || !*cache_url) {
        print_error(
            "CORM_TEST_REDIS is not set: run under tools/redis-test-server.sh run -- ...\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ helpers */

/* Every book with its author (select_related), publisher's country
** (select_related two levels) and genres (prefetch), by id, cached. */
static corm_qs *books(corm_db *d)
{
    corm_qs *qs = corm_all(d, Book);
    corm_select_related(qs, "author", "publisher__country");
    corm_prefetch_related(qs, "genres");
    corm_order_by(qs, "id");
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    return qs;
}

/* What the objects hold, relations included (read with 0 queries). */
static char text[4096];
static const char *render(corm_qs *qs)
{
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        Book *b = corm_qs_at(qs, i);
        Author *a = book_author(b);
        Publisher *p = book_publisher(b);
        Country *c = p ? publisher_country(p) : NULL;
        char price[CORM_DEC_BUF];
        len += (size_t)snprintf(text + len, sizeof text - len, "%lld %s|%s|%s|%d|%s|%s|%d|%s|%s|",
                                (long long)b->id, b->title, a ? a->name : "-",
                                b->published_date ? b->published_date : "NULL", b->pages,
                                corm_dec_format(b->price, price), b->isbn, b->featured,
                                p ? p->name : "-", c ? c->code : "-");
        const corm_list *g = book_genres(b);
        for (size_t k = 0; g && k < g->n; k++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", k ? "," : "",
                                    ((Genre *)g->items[k])->name);
        len += (size_t)snprintf(text + len, sizeof text - len, "\n");
    }
    return text;
}

/* Evaluate books() with exactly `queries` statements run; its rendering. */
static char first[4096];
static const char *read_books(uint64_t queries)
{
    corm_qs *qs = books(db);
    CORM_ASSERT_NUM_QUERIES(db, queries)
    {
        TEST_OK_DB(db, corm_eval(qs));
        render(qs);
    }
    corm_qs_free(qs);
    return text;
}

/* The titles of every book, cached: "1:title,2:title..." */
static const char *read_titles(uint64_t queries)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_values(qs, "id", "title");
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    size_t len = 0;
    text[0] = '\0';
    CORM_ASSERT_NUM_QUERIES(db, queries) { TEST_OK_DB(db, corm_eval(qs)); }
    for (size_t i = 0; i < corm_qs_len(qs); i++)
        len +=
            (size_t)snprintf(text + len, sizeof text - len, "%s%lld:%s", i ? "," : "",
                             (long long)corm_row_int(qs, i, "id"), corm_row_text(qs, i, "title"));
    corm_qs_free(qs);
    return text;
}

static Book *get_book(corm_qs **qs, int64_t id)
{
    *qs = corm_all(db, Book);
    corm_filter(*qs, "id", corm_int(id));
    Book *b = corm_get(*qs);
    assert_non_null(b);
    return b;
}

/* ------------------------------------------------------------ reads */

static void test_objects_from_cache(void **state)
{
    (void)state;
    /* a miss reads the database: the books, then the genres level */
    strcpy(first, read_books(2));
    assert_non_null(strstr(first, "1 Les Miserables|Victor Hugo|1862-04-03|1400|"));
    assert_non_null(strstr(first, "|Gallimard|FR|Fiction,History\n"));
    assert_non_null(strstr(first, "6 Beowulf|Anonymous|1000-01-01|200|"));
    corm_cache_stats before = corm_cache_get_stats(cache);
    /* the same query again: the same objects and relations, no query */
    corm_capture *cap = corm_capture_begin(db, "cached");
    assert_string_equal(read_books(0), first);
    corm_capture_end(cap);
    assert_int_equal(corm_capture_count(cap), 0);
    /* the capture keeps both statements, as cache hits */
    assert_int_equal(corm_capture_nevents(cap), 2);
    for (size_t i = 0; i < 2; i++) {
        const corm_event *ev = corm_capture_event(cap, i);
        assert_true(ev->cache_hit);
        assert_non_null(strstr(ev->sql, "SELECT"));
    }
    assert_int_equal(corm_capture_event(cap, 0)->rows, 6);
    corm_capture_free(cap);
    /* and the cache counted the hits */
    corm_cache_stats after = corm_cache_get_stats(cache);
    assert_true(after.hits >= before.hits + 2);
    assert_int_equal(after.misses, before.misses);
    /* a cached object is a loaded object: lazy loads still work from it */
    corm_qs *qs = books(db);
    TEST_OK_DB(db, corm_eval(qs));
    Book *b = corm_qs_at(qs, 0);
    corm_qs *reviews = book_reviews_qs(b);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(reviews), 0); }
    corm_qs_free(reviews);
    corm_qs_free(qs);
}

static void test_values_from_cache(void **state)
{
    (void)state;
    char want[512];
    strcpy(want, read_titles(1));
    assert_string_equal(want, "1:Les Miserables,2:Notre-Dame de Paris,3:Norwegian Wood,"
                              "4:Kafka on the Shore,5:1Q84,6:Beowulf");
    assert_string_equal(read_titles(0), want);
    /* values_list with an aggregate annotation, rows typed as before */
    for (int round = 0; round < 2; round++) {
        corm_qs *qs = corm_all(db, Author);
        corm_annotate(qs, "n", corm_Count(qs, "books", false));
        corm_order_by(qs, "id");
        corm_values_list(qs, "name", "n");
        corm_qs_cache(qs, 60000);
        CORM_ASSERT_NUM_QUERIES(db, round == 0 ? 1 : 0) { TEST_OK_DB(db, corm_eval(qs)); }
        assert_int_equal(corm_qs_len(qs), 4);
        assert_string_equal(corm_row_text(qs, 1, "name"), "Haruki Murakami");
        assert_int_equal(corm_row_int(qs, 1, "n"), 3);
        assert_int_equal(corm_qs_cell(qs, 3, 1)->type, CORM_V_INT);
        assert_int_equal(corm_row_int(qs, 3, "n"), 0);
        corm_qs_free(qs);
    }
}

static void test_keys_differ(void **state)
{
    (void)state;
    /* another parameter is another key */
    for (int round = 0; round < 2; round++)
        for (int pages = 500; pages <= 1000; pages += 500) {
            corm_qs *qs = corm_all(db, Book);
            corm_filter(qs, "pages__gt", corm_int(pages));
            corm_order_by(qs, "id");
            corm_qs_cache(qs, CORM_CACHE_DEFAULT);
            CORM_ASSERT_NUM_QUERIES(db, round == 0 ? 1 : 0) { TEST_OK_DB(db, corm_eval(qs)); }
            assert_ids(qs, pages == 500 ? "1,2,4,5" : "1");
            corm_qs_free(qs);
        }
    /* another schema (hash) is another key: the same SQL reads again */
    corm_schema other = bookstore_schema;
    other.hash ^= 1;
    corm_error err;
    corm_db *db2 = corm_open_flags(test_db_url(), &other, CORM_OPEN_NO_MIGRATION_CHECK, &err);
    assert_non_null(db2);
    TEST_OK_DB(db2, corm_db_use_cache(db2, cache));
    assert_ptr_equal(corm_db_cache(db2), cache);
    for (int round = 0; round < 2; round++) {
        corm_qs *qs = corm_all(db2, Book);
        corm_filter(qs, "pages__gt", corm_int(1000));
        corm_order_by(qs, "id");
        corm_qs_cache(qs, CORM_CACHE_DEFAULT);
        CORM_ASSERT_NUM_QUERIES(db2, round == 0 ? 1 : 0) { TEST_OK_DB(db2, corm_eval(qs)); }
        assert_ids(qs, "1");
        corm_qs_free(qs);
    }
    corm_close(db2);
    /* not marked cached: always the database */
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pages__gt", corm_int(1000));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { TEST_OK_DB(db, corm_eval(qs)); }
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ writes */

/* books() cached, then write(), then books() reads the database again -
** exactly the statements whose tables write changed (`queries` of the two:
** the genres level has no key list, so a write to book alone leaves it
** cached) - and sees what write did (want in its rendering). */
static void invalidated_by(void (*write)(void), const char *want, uint64_t queries)
{
    read_books(2);
    read_books(0);
    write();
    const char *now = read_books(queries);
    if (!strstr(now, want)) fail_msg("'%s' not in:\n%s", want, now);
    read_books(0);
}

static void w_save(void)
{
    corm_qs *qs;
    Book *b = get_book(&qs, 3);
    b->pages = 297;
    TEST_OK_DB(db, corm_save(db, b));
    corm_qs_free(qs);
}
static void test_save(void **s)
{
    (void)s;
    invalidated_by(w_save, "3 Norwegian Wood|Haruki Murakami|1987-09-04|297|", 1);
}

static void w_create(void)
{
    Book b = CORM_NEW(Book);
    b.title = "Candide";
    b.author_id = 3;
    b.isbn = "9780000000007";
    b.pages = 120;
    b.description = "";
    TEST_OK_DB(db, corm_create(db, &b));
}
static void test_create(void **s)
{
    (void)s;
    invalidated_by(w_create, "7 Candide|Anonymous|NULL|120|", 1);
}

static void w_update(void)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    assert_int_equal(corm_update(qs, CORM_SET_F("pages", "pages", '+', corm_int(1))), 3);
    corm_qs_free(qs);
}
static void test_update(void **s)
{
    (void)s;
    invalidated_by(w_update, "5 1Q84|Haruki Murakami|2009-05-29|929|", 1);
}

static void w_delete_cascade(void)
{
    /* the author's books go with it: the books' version moves */
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "id", corm_int(1));
    Author *a = corm_get(qs);
    assert_non_null(a);
    TEST_OK_DB(db, corm_delete(db, a));
    corm_qs_free(qs);
}
static void test_delete_cascade(void **s)
{
    (void)s;
    invalidated_by(w_delete_cascade, "3 Norwegian Wood|", 2);
    assert_null(strstr(text, "Les Miserables"));
}

static void w_delete_set_null(void)
{
    /* on_delete=set_null: an UPDATE of book, a DELETE of publisher */
    corm_qs *qs = corm_all(db, Publisher);
    assert_int_equal(corm_qs_delete(qs), 1);
    corm_qs_free(qs);
}
static void test_delete_set_null(void **s)
{
    (void)s;
    invalidated_by(w_delete_set_null, "1 Les Miserables|Victor Hugo|1862-04-03|1400|", 1);
    assert_null(strstr(text, "Gallimard"));
}

static void w_bulk_create(void)
{
    Book a = CORM_NEW(Book), b = CORM_NEW(Book);
    a.title = "Zadig";
    b.title = "Micromegas";
    a.author_id = b.author_id = 3;
    a.isbn = "9780000000014";
    b.isbn = "9780000000021";
    a.description = b.description = "";
    Book *objs[] = {&a, &b};
    TEST_OK_DB(db, corm_bulk_create(db, objs, 2, NULL));
}
static void test_bulk_create(void **s)
{
    (void)s;
    invalidated_by(w_bulk_create, "8 Micromegas|Anonymous|", 1);
}

static void w_bulk_update(void)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    TEST_OK_DB(db, corm_eval(qs));
    Book *b = corm_qs_at(qs, 5);
    b->title = "Beowulf (prose)";
    assert_int_equal(corm_bulk_update(db, corm_qs_items(qs), 6, "title"), 6);
    corm_qs_free(qs);
}
static void test_bulk_update(void **s)
{
    (void)s;
    invalidated_by(w_bulk_update, "6 Beowulf (prose)|", 1);
}

static void w_m2m_add(void)
{
    corm_qs *qs;
    Book *b = get_book(&qs, 6);
    const int64_t ids[] = {3};
    TEST_OK_DB(db, corm_m2m_add_ids(db, b, BOOK_REL_GENRES, ids, 1));
    corm_qs_free(qs);
}
static void test_m2m_add(void **s)
{
    (void)s;
    invalidated_by(w_m2m_add, "|Fantasy\n", 1);
    assert_non_null(strstr(text, "6 Beowulf|Anonymous|1000-01-01|200|"));
    assert_non_null(strstr(text, "|-|-|Fantasy\n"));
}

static void w_m2m_remove(void)
{
    corm_qs *qs;
    Book *b = get_book(&qs, 1);
    const int64_t ids[] = {2};
    TEST_OK_DB(db, corm_m2m_remove_ids(db, b, BOOK_REL_GENRES, ids, 1));
    corm_qs_free(qs);
}
static void test_m2m_remove(void **s)
{
    (void)s;
    invalidated_by(w_m2m_remove, "|Gallimard|FR|Fiction\n", 1);
}

static void w_m2m_clear(void)
{
    corm_qs *qs;
    Book *b = get_book(&qs, 1);
    TEST_OK_DB(db, corm_m2m_clear(db, b, BOOK_REL_GENRES));
    corm_qs_free(qs);
}
static void test_m2m_clear(void **s)
{
    (void)s;
    invalidated_by(w_m2m_clear, "|Gallimard|FR|\n", 1);
}

static void w_m2m_set(void)
{
    corm_qs *qs;
    Book *b = get_book(&qs, 1);
    const int64_t ids[] = {3};
    TEST_OK_DB(db, corm_m2m_set_ids(db, b, BOOK_REL_GENRES, ids, 1));
    corm_qs_free(qs);
}
static void test_m2m_set(void **s)
{
    (void)s;
    invalidated_by(w_m2m_set, "|Gallimard|FR|Fantasy\n", 1);
}

static void w_get_or_create(void)
{
    /* a new genre, linked: two writes */
    corm_qs *qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("Poetry"));
    Genre init = CORM_NEW(Genre);
    init.name = "Poetry";
    bool created = false;
    Genre *g = corm_get_or_create(qs, &init, &created);
    assert_non_null(g);
    assert_true(created);
    corm_qs_free(qs);
}
static void test_get_or_create(void **s)
{
    (void)s;
    /* a cached genre list sees the new one */
    for (int round = 0; round < 3; round++) {
        if (round == 2) w_get_or_create();
        corm_qs *qs = corm_all(db, Genre);
        corm_order_by(qs, "id");
        corm_qs_cache(qs, CORM_CACHE_FOREVER);
        CORM_ASSERT_NUM_QUERIES(db, round == 1 ? 0 : 1) { TEST_OK_DB(db, corm_eval(qs)); }
        assert_ids(qs, round == 2 ? "1,2,3,4" : "1,2,3");
        corm_qs_free(qs);
    }
}

static void w_update_or_create(void)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "isbn", corm_text("9780099448822"));
    Book b = CORM_NEW(Book);
    b.title = "Norwegian Wood (2000)";
    bool created = true;
    const char *const fields[] = {"title", NULL};
    assert_non_null(corm_update_or_create(qs, &b, fields, &created));
    assert_false(created);
    corm_qs_free(qs);
}
static void test_update_or_create(void **s)
{
    (void)s;
    /* the fixture's isbn of book 3 */
    corm_qs *qs;
    Book *b = get_book(&qs, 3);
    b->isbn = "9780099448822";
    TEST_OK_DB(db, corm_save(db, b));
    corm_qs_free(qs);
    invalidated_by(w_update_or_create, "3 Norwegian Wood (2000)|", 1);
}

static void w_raw_exec(void)
{
    TEST_OK_DB(db, corm_exec(db, "UPDATE book SET pages = 7 WHERE id = 2"));
}
static void test_raw_exec(void **s)
{
    (void)s;
    invalidated_by(w_raw_exec, "2 Notre-Dame de Paris|Victor Hugo|1831-01-14|7|", 1);
}

static void w_raw_unknown(void)
{
    /* names no table of the schema: the epoch moves, everything goes */
    TEST_OK_DB(db, corm_exec(db, "CREATE TABLE qs_cache_scratch (x integer)"));
    TEST_OK_DB(db, corm_exec(db, "DROP TABLE qs_cache_scratch"));
}
static void test_raw_unknown_table(void **s)
{
    (void)s;
    invalidated_by(w_raw_unknown, "1 Les Miserables|", 2);
}

/* A write inside a transaction: reads in it go to the database (and are
** not stored); another connection caching the old rows before the commit
** does not survive it. */
static void test_transaction(void **s)
{
    (void)s;
    read_books(2);
    corm_error err;
    corm_db *other = corm_open(test_db_url(), &bookstore_schema, &err);
    assert_non_null(other);
    TEST_OK_DB(other, corm_db_use_cache(other, cache));
    TEST_OK_DB(db, corm_begin(db));
    w_save(); /* book 3: 297 pages, not committed */
    assert_non_null(strstr(read_books(2), "|297|"));
    assert_non_null(strstr(read_books(2), "|297|")); /* not stored */
    /* the other connection: the old rows, from the cache */
    corm_qs *qs = books(other);
    CORM_ASSERT_NUM_QUERIES(other, 0) { TEST_OK_DB(other, corm_eval(qs)); }
    assert_non_null(strstr(render(qs), "|Haruki Murakami|1987-09-04|296|"));
    corm_qs_free(qs);
    TEST_OK_DB(db, corm_commit(db));
    /* the commit moved the version: both read the new rows */
    qs = books(other);
    CORM_ASSERT_NUM_QUERIES(other, 1) { TEST_OK_DB(other, corm_eval(qs)); }
    assert_non_null(strstr(render(qs), "|Haruki Murakami|1987-09-04|297|"));
    corm_qs_free(qs);
    assert_non_null(strstr(read_books(0), "|297|"));
    corm_close(other);
    /* corm_atomic the same */
    read_books(0);
}

static corm_rc atomic_write(corm_db *d, void *ud)
{
    (void)d;
    (void)ud;
    w_update();
    return CORM_OK;
}
static void test_atomic(void **s)
{
    (void)s;
    read_books(2);
    read_books(0);
    TEST_OK_DB(db, corm_atomic(db, atomic_write, NULL));
    assert_non_null(strstr(read_books(1), "5 1Q84|Haruki Murakami|2009-05-29|929|"));
}

/* ------------------------------------------------------------ errors */

static void test_errors(void **s)
{
    (void)s;
    /* no cache attached */
    TEST_OK_DB(db, corm_db_use_cache(db, NULL));
    assert_null(corm_db_cache(db));
    corm_qs *qs = corm_all(db, Book);
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    assert_int_equal(corm_eval(qs), CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->message, "no cache attached"));
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_db_use_cache"));
    corm_qs_free(qs);
    TEST_OK_DB(db, corm_db_use_cache(db, cache));
    /* a timeout that keeps nothing */
    qs = corm_all(db, Book);
    corm_qs_cache(qs, 0);
    assert_int_equal(corm_eval(qs), CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->message, "a timeout of 0 ms"));
    corm_qs_free(qs);
    /* too late */
    qs = corm_all(db, Book);
    TEST_OK_DB(db, corm_eval(qs));
    corm_qs_cache(qs, 1000);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->message, "already evaluated"));
    corm_qs_free(qs);
    /* no database */
    assert_int_equal(corm_db_use_cache(NULL, cache), CORM_MISUSE);
    corm_qs_cache(NULL, 1000); /* nothing to report it on: no crash */
}

/* count() and exists() of a cached queryset are cached too, and so are a
** Paginator's count and pages (its queryset is a clone: it keeps the mark). */
static void test_count_exists_paginator(void **s)
{
    (void)s;
    for (int round = 0; round < 2; round++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "pages__gt", corm_int(900));
        corm_qs_cache(qs, CORM_CACHE_FOREVER);
        CORM_ASSERT_NUM_QUERIES(db, round == 0 ? 2 : 0)
        {
            assert_int_equal(corm_count(qs), 3);
            assert_int_equal(corm_exists(qs), 1);
        }
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        corm_qs_cache(qs, CORM_CACHE_FOREVER);
        corm_paginator *p = corm_paginator_new(qs, 4, 0, true);
        corm_qs_free(qs);
        CORM_ASSERT_NUM_QUERIES(db, round == 0 ? 2 : 0)
        {
            assert_int_equal(corm_paginator_count(p), 6);
            corm_page *pg = corm_paginator_page(p, 2);
            assert_non_null(pg);
            assert_ids(pg->objects, "5,6");
            corm_page_free(pg);
        }
        corm_paginator_free(p);
    }
    /* a write to book: the count reads again, and sees it */
    w_create();
    corm_qs *qs = corm_all(db, Book);
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    corm_filter(qs, "pages__gt", corm_int(900));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 3); }
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 7); }
    corm_qs_free(qs);
}

/* Routed to an attached database without the cache: refused (its writes
** would not invalidate); with it: cached there. */
static void test_routed(void **s)
{
    (void)s;
    TEST_OK_DB(db, corm_db_attach(db, "again", test_db_url()));
    corm_qs *qs = corm_all(db, Genre);
    corm_using(qs, "again");
    corm_qs_cache(qs, CORM_CACHE_FOREVER);
    assert_int_equal(corm_eval(qs), CORM_MISUSE);
    assert_non_null(strstr(corm_qs_error(qs)->message, "routed to a database that has no cache"));
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_db_use_cache on that database"));
    corm_qs_free(qs);
    corm_db *again = corm_db_alias(db, "again");
    TEST_OK_DB(again, corm_db_use_cache(again, cache));
    for (int round = 0; round < 2; round++) {
        qs = corm_all(db, Genre);
        corm_using(qs, "again");
        corm_order_by(qs, "id");
        corm_qs_cache(qs, CORM_CACHE_FOREVER);
        CORM_ASSERT_NUM_QUERIES(again, round == 0 ? 1 : 0) { TEST_OK_DB(db, corm_eval(qs)); }
        assert_ids(qs, "1,2,3");
        corm_qs_free(qs);
    }
}

/* The JSON query log marks a cache hit; the stderr log says so. */
static void test_log(void **s)
{
    (void)s;
    char path[] = "/tmp/corm-qs-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof spec, "json:%s", path);
    TEST_OK_DB(db, corm_instr_log(corm_db_instr(db), spec));
    read_titles(1);
    read_titles(0);
    TEST_OK_DB(db, corm_instr_log(corm_db_instr(db), "off"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int queries = 0, hits = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "\"type\":\"query\"")) continue;
        queries++;
        hits += strstr(line, "\"cache_hit\":true") != NULL;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(queries, 2);
    assert_int_equal(hits, 1);
}

/* A cached queryset streamed by the iterator is not cached (it reads the
** database a chunk at a time); a clone keeps the mark. */
static void test_clone_and_iterator(void **s)
{
    (void)s;
    corm_qs *qs = books(db);
    corm_qs *copy = corm_qs_clone(qs);
    CORM_ASSERT_NUM_QUERIES(db, 2) { TEST_OK_DB(db, corm_eval(qs)); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { TEST_OK_DB(db, corm_eval(copy)); }
    assert_string_equal(render(copy), render(qs));
    corm_qs_free(copy);
    corm_qs_free(qs);
    /* the iterator reads the database, each time */
    for (int round = 0; round < 2; round++) {
        qs = corm_all(db, Genre);
        corm_order_by(qs, "id");
        corm_qs_cache(qs, CORM_CACHE_FOREVER);
        uint64_t before = corm_query_count(db);
        corm_iter *it = corm_iterator(qs, 2);
        int n = 0;
        while (corm_iter_next(it)) n++;
        corm_iter_free(it);
        assert_int_equal(n, 3);
        assert_true(corm_query_count(db) > before);
        corm_qs_free(qs);
    }
}

/* ------------------------------------------------------------ Redis down */

static void test_redis_down(void **s)
{
    (void)s;
    char dir[] = "/tmp/corm-qs-redis.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sock[128], url[160];
    snprintf(sock, sizeof sock, "%s/r.sock", dir);
    snprintf(url, sizeof url, "unix:%s", sock);
    pid_t pid = start_redis(dir, sock);
    corm_cache *mine = open_cache(url);
    TEST_OK_DB(db, corm_db_use_cache(db, mine));
    char want[4096];
    strcpy(want, read_books(2));
    read_books(0);

    stop_redis(pid, sock);
    errors_seen = 0;
    /* reads go to the database, every time, with the same result */
    assert_string_equal(read_books(2), want);
    assert_string_equal(read_books(2), want);
    assert_true(errors_seen >= 2);
    /* a write cannot move its version now: it stays pending */
    w_save();
    assert_non_null(strstr(read_books(2), "|297|"));

    /* the server comes back (empty): the pending version moves, then the
    ** cache serves again */
    pid = start_redis(dir, sock);
    assert_non_null(strstr(read_books(2), "|297|"));
    assert_non_null(strstr(read_books(0), "|297|"));
    TEST_OK_DB(db, corm_db_use_cache(db, cache));
    corm_cache_close(mine);
    stop_redis(pid, sock);
    rmdir(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_objects_from_cache),
        T(test_values_from_cache),
        T(test_keys_differ),
        T(test_save),
        T(test_create),
        T(test_update),
        T(test_delete_cascade),
        T(test_delete_set_null),
        T(test_bulk_create),
        T(test_bulk_update),
        T(test_m2m_add),
        T(test_m2m_remove),
        T(test_m2m_clear),
        T(test_m2m_set),
        T(test_get_or_create),
        T(test_update_or_create),
        T(test_raw_exec),
        T(test_raw_unknown_table),
        T(test_transaction),
        T(test_atomic),
        T(test_errors),
        T(test_clone_and_iterator),
        T(test_routed),
        T(test_count_exists_paginator),
        T(test_log),
    };
    const struct CMUnitTest redis_only[] = {T(test_redis_down)};
    int rc = cmocka_run_group_tests_name("qs_cache_local", tests, group_local, NULL);
    rc += cmocka_run_group_tests_name("qs_cache_redis", tests, group_redis, NULL);
    rc += cmocka_run_group_tests_name("qs_cache_redis_down", redis_only, group_redis, NULL);
    return rc;
}
