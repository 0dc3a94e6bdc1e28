/*
** test_hardening.c - regression tests of issue 13 ("Hardening"), on SQLite
** and on PostgreSQL: each defect found by probing corm as an attacker and
** as a careless user, fixed, stays fixed.  An annotation that refers to
** itself is a builder error naming the cycle; iterating a queryset of rows
** is a misuse with a message; a pool connection released twice is refused.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define assert_contains(s, sub)                                              \
    do {                                                                     \
        const char *s_ = (s);                                                \
        if (!strstr(s_, (sub))) fail_msg("'%s' is not in\n  %s", (sub), s_); \
    } while (0)

/* ---------------------------------------------------- 1: annotation cycles */

static void test_annotation_cycle(void **state)
{
    (void)state;
    /* x = F(x) + 1: itself */
    corm_qs *qs = corm_all(db, Book);
    corm_annotate(qs, "x", corm_arith(qs, corm_F(qs, "x"), '+', corm_V(qs, corm_int(1))));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_contains(corm_qs_error(qs)->message, "'x' refers to itself (x -> x)");
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    corm_qs_free(qs);
    /* a = F(b), b = F(a): through another */
    qs = corm_all(db, Book);
    corm_annotate(qs, "a", corm_F(qs, "b"));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_annotate(qs, "b", corm_arith(qs, corm_F(qs, "pages"), '*', corm_F(qs, "a")));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_contains(corm_qs_error(qs)->message, "(b -> a -> b)");
    assert_contains(corm_qs_error(qs)->hint, "never itself");
    corm_qs_free(qs);
    /* three long, in aggregate() */
    qs = corm_all(db, Book);
    corm_aggregate(qs, "a", corm_F(qs, "b"));
    corm_aggregate(qs, "b", corm_F(qs, "c"));
    corm_aggregate(qs, "c", corm_F(qs, "a"));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_contains(corm_qs_error(qs)->message,
                    "corm_aggregate: 'c' refers to itself (c -> a -> b -> c)");
    corm_qs_free(qs);
    /* a chain without a cycle still works */
    qs = corm_all(db, Book);
    corm_annotate(qs, "a", corm_arith(qs, corm_F(qs, "pages"), '+', corm_V(qs, corm_int(1))));
    corm_annotate(qs, "b", corm_arith(qs, corm_F(qs, "a"), '+', corm_F(qs, "a")));
    corm_filter(qs, "id", corm_int(6));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 1);
    assert_int_equal(corm_annotation(corm_qs_at(qs, 0), "b")->u.i, 402);
    corm_qs_free(qs);
}

/* ------------------------------------------ 2: iterating a queryset of rows */

static void test_rows_are_not_objects(void **state)
{
    (void)state;
    /* values(): corm_qs_at says why it has no object */
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "title");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_null(corm_qs_at(qs, 0));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_contains(corm_qs_error(qs)->message, "corm_qs_at(0) on a queryset of rows");
    assert_contains(corm_qs_error(qs)->hint, "corm_row_");
    corm_qs_free(qs);
    /* aggregate(): one row, no object */
    qs = corm_all(db, Book);
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    Book *b;
    int seen = 0;
    corm_foreach(b, qs) seen++;
    assert_int_equal(seen, 0);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_null(corm_qs_at(qs, 0));
    corm_qs_free(qs);
    /* values() with no row at all is still not a queryset of objects */
    qs = corm_all(db, Book);
    corm_filter(qs, "id", corm_int(999));
    corm_values(qs, "title");
    corm_foreach(b, qs) seen++;
    assert_int_equal(seen, 0);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_contains(corm_qs_error(qs)->message, "queryset of rows");
    corm_qs_free(qs);
    /* out of range on objects stays a plain NULL */
    qs = corm_all(db, Book);
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_null(corm_qs_at(qs, 6));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_qs_free(qs);
}

/* ------------------------------------------------- 3: pool double release */

static void test_pool_double_release(void **state)
{
    (void)state;
    corm_error err;
    corm_pool_config cfg = {.url = test_db_url(), .schema = &bookstore_schema, .size = 2};
    corm_pool *p = corm_pool_open(&cfg, &err);
    assert_non_null(p);
    corm_db *a = corm_pool_acquire(p, 0, &err);
    assert_non_null(a);
    corm_pool_release(p, a);
    assert_int_equal(corm_db_error(a)->rc, CORM_OK);
    corm_pool_release(p, a); /* twice */
    assert_int_equal(corm_db_error(a)->rc, CORM_MISUSE);
    assert_contains(corm_db_error(a)->message, "already released");
    assert_int_equal(corm_pool_get_stats(p).idle, 2);
    /* the pool still hands out two distinct connections, then none */
    corm_db *x = corm_pool_acquire(p, 0, &err), *y = corm_pool_acquire(p, 0, &err);
    assert_non_null(x);
    assert_non_null(y);
    assert_ptr_not_equal(x, y);
    assert_null(corm_pool_acquire(p, 0, &err));
    assert_int_equal(err.rc, CORM_BUSY);
    corm_pool_release(p, x);
    corm_pool_release(p, y);
    assert_int_equal(corm_pool_get_stats(p).idle, 2);
    corm_pool_close(p);
}

/* ----------------------------------------- 5: names over PostgreSQL's 63 bytes */

/* two aliases of 70 bytes sharing their first 63 */
#define LONG63 "a_very_long_annotation_name_that_goes_past_the_postgresql_limit_"
#define LONG_A LONG63 "count_a"
#define LONG_B LONG63 "pages_b"

static void test_long_aliases(void **state)
{
    (void)state;
    assert_true(strlen(LONG_A) > 63 && strncmp(LONG_A, LONG_B, 63) == 0);
    /* values() + annotate: rows named as the user named them */
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "id__lte", corm_int(3));
    corm_annotate(qs, LONG_A, corm_Count(qs, "books", false));
    corm_annotate(qs, LONG_B, corm_Sum(qs, "books__pages"));
    corm_values(qs, "name", LONG_A, LONG_B);
    corm_order_by(qs, "-" LONG_B);
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_string_equal(corm_row_text(qs, 0, "name"), "Victor Hugo");
    assert_int_equal(corm_row_int(qs, 0, LONG_A), 2);
    assert_int_equal(corm_row_int(qs, 0, LONG_B), 2340);
    assert_string_equal(corm_row_text(qs, 1, "name"), "Haruki Murakami");
    assert_int_equal(corm_row_int(qs, 1, LONG_A), 3);
    assert_int_equal(corm_row_int(qs, 1, LONG_B), 1729);
    assert_int_equal(corm_row_int(qs, 2, LONG_B), 200);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_OK);
    corm_qs_free(qs);
    /* objects: corm_annotation by the long name */
    qs = corm_all(db, Author);
    corm_annotate(qs, LONG_A, corm_Count(qs, "books", false));
    corm_annotate(qs, LONG_B, corm_Sum(qs, "books__pages"));
    corm_order_by(qs, LONG_A, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_ids(qs, "4,3,1,2");
    assert_int_equal(corm_annotation(corm_qs_at(qs, 3), LONG_A)->u.i, 3);
    assert_int_equal(corm_annotation(corm_qs_at(qs, 3), LONG_B)->u.i, 1729);
    corm_qs_free(qs);
    /* aggregate() */
    qs = corm_all(db, Book);
    corm_aggregate(qs, LONG_A, corm_Count(qs, "id", false));
    corm_aggregate(qs, LONG_B, corm_Sum(qs, "pages"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_row_int(qs, 0, LONG_A), 6);
    assert_int_equal(corm_row_int(qs, 0, LONG_B), 4269);
    corm_qs_free(qs);
}

/* ------------------------------- 4: grouped and distinct shapes on PostgreSQL */

#define EVAL_OK(qs)                                                                        \
    do {                                                                                   \
        if (corm_eval(qs) != CORM_OK)                                                      \
            fail_msg("%s\n  sql: %s", corm_qs_error(qs)->message, corm_qs_error(qs)->sql); \
    } while (0)

static void test_grouped_shapes(void **state)
{
    (void)state;
    /* select_related + annotate(Count of a joined column) */
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "author__name", false));
    corm_order_by(qs, "id");
    EVAL_OK(qs);
    assert_ids(qs, "1,2,3,4,5,6");
    Book *b = corm_qs_at(qs, 2);
    assert_string_equal(book_author(b)->name, "Haruki Murakami");
    assert_int_equal(corm_annotation(b, "n")->u.i, 1);
    corm_qs_free(qs);
    /* annotate + order_by a related column */
    qs = corm_all(db, Book);
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "author__name", "id");
    EVAL_OK(qs);
    assert_ids(qs, "6,3,4,5,1,2");
    corm_qs_free(qs);
    /* annotate + select_related */
    qs = corm_all(db, Author);
    corm_annotate(qs, "p", corm_Max(qs, "country__code"));
    corm_select_related(qs, "country");
    corm_order_by(qs, "id");
    EVAL_OK(qs);
    assert_ids(qs, "1,2,3,4");
    assert_string_equal(corm_annotation(corm_qs_at(qs, 1), "p")->u.s.p, "JP");
    corm_qs_free(qs);
    /* values().annotate().distinct().order_by(related) */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_distinct(qs);
    corm_order_by(qs, "author__name");
    EVAL_OK(qs);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_int_equal(corm_qs_cell(qs, 0, 1) ? 0 : 1, 0);
    assert_int_equal(corm_row_int(qs, 0, "author"), 3);
    assert_int_equal(corm_row_int(qs, 0, "n"), 1);
    assert_int_equal(corm_row_int(qs, 1, "author"), 2);
    assert_int_equal(corm_row_int(qs, 1, "n"), 3);
    assert_int_equal(corm_row_int(qs, 2, "author"), 1);
    assert_int_equal(corm_row_int(qs, 2, "n"), 2);
    assert_null(corm_qs_cell(qs, 0, 2)); /* the ordering column stays hidden */
    corm_qs_free(qs);
    /* values().distinct().order_by(related) */
    qs = corm_all(db, Book);
    corm_values(qs, "author");
    corm_distinct(qs);
    corm_order_by(qs, "-author__name");
    EVAL_OK(qs);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_int_equal(corm_row_int(qs, 0, "author"), 1);
    assert_int_equal(corm_row_int(qs, 1, "author"), 2);
    assert_int_equal(corm_row_int(qs, 2, "author"), 3);
    assert_null(corm_qs_cell(qs, 0, 1));
    corm_qs_free(qs);
}

/* ------------------------------------------------------ 9: an honest log */

/* Whether s[0..n) is valid UTF-8 with no raw control character. */
static bool clean_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (!len || i + len > n || (len == 1 && c < 0x20)) return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    *n = fread(buf, 1, sizeof buf - 1, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

static void test_log_is_safe_to_parse(void **state)
{
    (void)state;
    char path[] = "/tmp/corm-h13-log-XXXXXX", errpath[] = "/tmp/corm-h13-err-XXXXXX";
    int fd = mkstemp(path), efd = mkstemp(errpath);
    assert_true(fd >= 0 && efd >= 0);
    close(fd);
    /* a value: invalid bytes, a forged log line, then 600 two-byte
    ** characters starting at an odd offset (1,000 bytes falls inside one) */
    char value[1400];
    size_t n =
        (size_t)snprintf(value, sizeof value, "x\xff\xfe\xc0\xaf\ncorm: (0.1 ms) forged\x1b[2J");
    for (int i = 0; i < 600; i++) {
        value[n++] = (char)0xC3;
        value[n++] = (char)0xA9;
    }
    value[n] = '\0';
    corm_instr *in = corm_db_instr(db);
    char spec[300];
    snprintf(spec, sizeof spec, "json:%s,stderr", path);
    assert_int_equal(corm_instr_log(in, spec), CORM_OK);
    fflush(stderr);
    int saved = dup(2);
    dup2(efd, 2);
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "title", corm_text(value));
    /* PostgreSQL refuses the invalid bytes; the statement is logged anyway */
    int64_t count = corm_count(qs);
    corm_qs_free(qs);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(count, test_db_is_pg() ? -1 : 0);
    close(efd);
    assert_int_equal(corm_instr_log(in, "off"), CORM_OK);

    size_t len;
    char *json = slurp(path, &len);
    assert_true(clean_utf8((const unsigned char *)json, len - 1)); /* but the final \n */
    assert_int_equal(json[len - 1], '\n');
    assert_null(memchr(json, '\n', len - 1)); /* one line */
    assert_contains(json,
                    "\"x\\ufffd\\ufffd\\ufffd\\ufffd\\ncorm: (0.1 ms) forged\\u001b[2J\xc3\xa9");
    assert_contains(json, "\xc3\xa9...[cut: 232 bytes]\"");
    char *text = slurp(errpath, &len);
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1)); /* the value forged no line */
    assert_contains(text, "'x\\xff\\xfe\\xc0\\xaf\\ncorm: (0.1 ms) forged\\x1b[2J\xc3\xa9");
    assert_true(clean_utf8((const unsigned char *)text, len - 1));
    unlink(path);
    unlink(errpath);
}

/* ------------------------------ 7: aggregates where SQL cannot take them */

static void test_aggregate_misplaced(void **state)
{
    (void)state;
    /* a filter on an aggregate() alias: HAVING is annotate + filter */
    uint64_t before = corm_query_count(db);
    corm_qs *qs = corm_all(db, Book);
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    corm_filter(qs, "total__gt", corm_int(10));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_contains(corm_qs_error(qs)->message,
                    "'total__gt' filters on the aggregate() result 'total'");
    assert_contains(corm_qs_error(qs)->hint, "corm_annotate");
    assert_int_equal(corm_query_count(db), before); /* nothing ran */
    corm_qs_free(qs);
    /* an aggregate in update() */
    qs = corm_all(db, Book);
    corm_filter(qs, "id", corm_int(1));
    assert_int_equal(corm_update(qs, CORM_SET_EXPR("pages", corm_Count(qs, "id", false))), -1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_contains(corm_qs_error(qs)->message, "aggregate");
    assert_contains(corm_qs_error(qs)->hint, "Subquery");
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_filter(qs, "id", corm_int(1));
    assert_int_equal(corm_update(qs, CORM_SET_EXPR("pages", corm_arith(qs, corm_F(qs, "pages"), '+',
                                                                       corm_Max(qs, "pages")))),
                     -1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    corm_qs_free(qs);
    /* nothing was written */
    qs = corm_all(db, Book);
    corm_filter(qs, "id", corm_int(1));
    corm_filter(qs, "pages", corm_int(1400));
    assert_int_equal(corm_count(qs), 1);
    corm_qs_free(qs);
}

/* ------------------------------------------- 6: max_length on every backend */

static void test_max_length(void **state)
{
    (void)state;
    /* char(2): three characters are refused before any SQL, as on PostgreSQL */
    Country c = CORM_NEW(Country);
    c.name = "Nowhere";
    c.code = "NWH";
    uint64_t before = corm_query_count(db);
    assert_int_equal(corm_save(db, &c), CORM_CONSTRAINT);
    assert_int_equal(corm_query_count(db), before);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_CHECK);
    assert_string_equal(e->constraint_name, "country.code");
    assert_string_equal(e->values, "code='NWH'");
    assert_contains(e->message, "insert of Country: code is 3 characters, max_length is 2");
    assert_contains(e->hint, "max_length");
    assert_int_equal(c.id, 0);
    /* two characters of two bytes each fit */
    c.code = "\xc3\xa9\xc3\xa9";
    assert_int_equal(corm_save(db, &c), CORM_OK);
    /* an update too */
    c.code = "abc";
    assert_int_equal(corm_save(db, &c), CORM_CONSTRAINT);
    assert_contains(corm_db_error(db)->message, "update of Country");
    /* bulk_create: which object, nothing written */
    Tag t[3] = {CORM_NEW(Tag), CORM_NEW(Tag), CORM_NEW(Tag)};
    char long_name[60];
    memset(long_name, 'x', 51);
    long_name[51] = '\0';
    t[0].name = "ok";
    t[1].name = "fine";
    t[2].name = long_name;
    Tag *ts[3] = {&t[0], &t[1], &t[2]};
    corm_qs *qs = corm_all(db, Tag);
    int64_t tags = corm_count(qs);
    corm_qs_free(qs);
    assert_int_equal(corm_bulk_create(db, ts, 3, NULL), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->row, 3);
    assert_contains(corm_db_error(db)->message,
                    "object 3: name is 51 characters, max_length is 50; nothing was written");
    qs = corm_all(db, Tag);
    assert_int_equal(corm_count(qs), tags);
    corm_qs_free(qs);
    assert_int_equal(corm_delete(db, &c), CORM_OK);
}

/* ------------------------------------------------------- 10: smaller items */

static void test_smaller_items(void **state)
{
    (void)state;
    /* a NULL element of a text list is an error, not '' */
    const char *names[] = {"Fiction", NULL};
    corm_qs *qs = corm_all(db, Genre);
    corm_filter(qs, "name__in", corm_texts(names, 2));
    assert_int_equal(corm_count(qs), -1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    assert_contains(corm_qs_error(qs)->message, "'name__in': element 1 of the text list is NULL");
    corm_qs_free(qs);
    /* a pool of an absurd size fails at once, with the limit */
    corm_error err;
    corm_pool_config cfg = {.url = test_db_url(), .schema = &bookstore_schema, .size = 1000000};
    assert_null(corm_pool_open(&cfg, &err));
    assert_int_equal(err.rc, CORM_INVALID);
    assert_contains(err.message, "a pool of 1000000 connections");
    assert_contains(err.hint, "at most 1024");
    /* an unmigrated database says to migrate */
    corm_db *fresh = corm_open(test_db_fresh_url(), &bookstore_schema, &err);
    assert_non_null(fresh);
    qs = corm_all(fresh, Book);
    assert_int_equal(corm_count(qs), -1);
    assert_contains(corm_qs_error(qs)->hint, "Run the migrations");
    corm_qs_free(qs);
    if (!test_db_is_pg()) {
        /* a full database is CORM_IO with a hint */
        assert_int_equal(corm_migrate(fresh), CORM_OK);
        corm_qs *pc = corm_sql(fresh, "PRAGMA page_count", NULL, 0);
        assert_int_equal(corm_eval(pc), CORM_OK);
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
                 (long long)corm_row_int(pc, 0, "page_count"));
        corm_qs_free(pc);
        assert_int_equal(corm_exec(fresh, sql), CORM_OK);
        char big[4096];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        corm_rc rc = CORM_OK;
        for (int i = 0; i < 64 && rc == CORM_OK; i++) {
            Post p = CORM_NEW(Post);
            p.title = "t";
            p.body = big;
            rc = corm_save(fresh, &p);
        }
        assert_int_equal(rc, CORM_IO);
        assert_contains(corm_db_error(fresh)->hint, "full");
    }
    corm_close(fresh);
    test_db_close(NULL);
    /* corm_bulk_create(db, NULL, n) says why */
    assert_int_equal(corm_bulk_create(db, (Tag **)NULL, 2, NULL), CORM_MISUSE);
    assert_contains(corm_db_error(db)->message, "corm_bulk_create");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annotation_cycle),    cmocka_unit_test(test_rows_are_not_objects),
        cmocka_unit_test(test_pool_double_release), cmocka_unit_test(test_long_aliases),
        cmocka_unit_test(test_grouped_shapes),      cmocka_unit_test(test_log_is_safe_to_parse),
        cmocka_unit_test(test_aggregate_misplaced), cmocka_unit_test(test_max_length),
        cmocka_unit_test(test_smaller_items),
    };
    return cmocka_run_group_tests_name("hardening", tests, setup, teardown);
}
