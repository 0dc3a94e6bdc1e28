/*
** test_shaping.c - fetching less and pushing work into the database:
** only/defer, values, annotate/aggregate, F, Subquery/OuterRef/Exists,
** distinct, explain, raw SQL, iterator, and the evaluation semantics the
** seeds describe (count vs len, exists vs truthiness, evaluate twice).
*/
#include "test.h"

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

static void test_only_defer(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_only(qs, "title");
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_non_null(strstr(corm_qs_sql(qs), "SELECT T0.\"id\", T0.\"title\" FROM"));
    Book *b = corm_qs_at(qs, 0);
    assert_string_equal(b->title, "Les Miserables");
    assert_true(corm_is_loaded(b, "title"));
    assert_false(corm_is_loaded(b, "pages"));
    assert_null(b->description);
    /* reading a deferred field: one query for that object, then cached */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_field(b, pages), 1400);
        assert_int_equal(corm_field(b, pages), 1400);
    }
    assert_true(corm_is_loaded(b, "pages"));
    /* a deferred nullable field comes back NULL */
    Book *b2 = corm_qs_at(qs, 1);
    CORM_ASSERT_NUM_QUERIES(db, 1) { (void)corm_field(b2, publisher_id); }
    assert_true(corm_is_null(b2, "publisher"));
    corm_qs_free(qs);

    /* defer, and only() across select_related */
    qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    corm_only(qs, "title", "author__name");
    corm_filter(qs, "pk", corm_int(3));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        b = corm_get(qs);
        assert_string_equal(book_author(b)->name, "Haruki Murakami");
    }
    assert_false(corm_is_loaded(book_author(b), "email"));
    assert_true(corm_is_loaded(b, "author")); /* the key it joins through */
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_defer(qs, "description", "isbn");
    corm_filter(qs, "pk", corm_int(1));
    b = corm_get(qs);
    assert_false(corm_is_loaded(b, "description"));
    assert_true(corm_is_loaded(b, "pages"));
    corm_qs_free(qs);

    /* Django: a key both deferred and traversed is an error */
    qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    corm_defer(qs, "author");
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "cannot be both deferred and traversed"));
    corm_qs_free(qs);

    /* keys are never deferred away: only("title") inside a Prefetch still
    ** stitches by author_id - the seeds' author_report in 2 queries */
    qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    corm_qs *inner = corm_all(db, Book);
    corm_only(inner, "title");
    corm_prefetch(qs, "books", inner, NULL);
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        Author *a;
        size_t n = 0;
        corm_foreach(a, qs) n += author_books(a)->n;
        assert_int_equal(n, 6);
    }
    corm_qs_free(qs);
}

static void test_values(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "title", "author__name", "pages");
    corm_filter(qs, "pages__gt", corm_int(900));
    corm_order_by(qs, "-pages");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 3);
    assert_int_equal(corm_qs_ncols(qs), 3);
    assert_string_equal(corm_qs_colname(qs, 1), "author__name");
    assert_string_equal(corm_row_text(qs, 0, "title"), "Les Miserables");
    assert_string_equal(corm_row_text(qs, 2, "author__name"), "Haruki Murakami");
    assert_int_equal(corm_row_int(qs, 1, "pages"), 940);
    assert_null(corm_row_text(qs, 0, "nope"));
    assert_int_equal(corm_qs_colindex(qs, "pages"), 2);
    assert_null(corm_get(qs)); /* rows, not objects */
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_values_flat(qs, "isbn");
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_ncols(qs), 1);
    assert_string_equal(corm_qs_cell(qs, 5, 0)->u.s.p, "9780000000006");
    corm_qs_free(qs);

    /* every field; NULLs are NULL cells */
    qs = corm_all(db, Book);
    corm_values_v(qs, NULL);
    corm_filter(qs, "pk", corm_int(2));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_ncols(qs), (size_t)Book_model.nfields);
    assert_true(corm_row_isnull(qs, 0, "publisher_id"));
    corm_qs_free(qs);

    /* values + annotate groups by the values (Django's GROUP BY idiom) */
    qs = corm_all(db, Book);
    corm_values(qs, "author__name");
    corm_annotate(qs, "n", corm_Count(qs, "id", false));
    corm_order_by(qs, "-n");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 3);
    assert_string_equal(corm_row_text(qs, 0, "author__name"), "Haruki Murakami");
    assert_int_equal(corm_row_int(qs, 0, "n"), 3);
    corm_qs_free(qs);
}

static void test_annotate_aggregate(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    corm_annotate(qs, "genre_links", corm_Count(qs, "books__genres", false));
    corm_annotate(qs, "pages", corm_Sum(qs, "books__pages"));
    corm_order_by(qs, "-book_count", "id");
    char got[256] = "";
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        Author *a;
        corm_foreach(a, qs)
        {
            char one[64];
            const corm_value *p = corm_annotation(a, "pages");
            snprintf(one, sizeof one, "%lld:%lld/%lld/%lld;", (long long)a->id,
                     (long long)corm_annotation(a, "book_count")->u.i,
                     (long long)corm_annotation(a, "genre_links")->u.i,
                     p->type == CORM_V_NULL ? -1LL : (long long)p->u.i);
            strcat(got, one);
        }
    }
    /* two to-many aggregates do not multiply each other */
    assert_string_equal(got, "2:3/4/1729;1:2/3/2340;3:1/0/200;4:0/0/-1;");
    assert_null(corm_annotation(corm_qs_at(qs, 0), "nope"));
    corm_qs_free(qs);

    /* filter on an annotation (HAVING for a local aggregate, WHERE for a
    ** subquery one) */
    qs = corm_all(db, Author);
    corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    corm_filter(qs, "book_count__gte", corm_int(2));
    corm_order_by(qs, "id");
    assert_ids(qs, "1,2");
    corm_qs_free(qs);

    qs = corm_all(db, Genre);
    corm_values(qs, "name");
    corm_annotate(qs, "n", corm_Count(qs, "books", true));
    corm_filter(qs, "n__gt", corm_int(1));
    corm_order_by(qs, "name");
    if (corm_eval(qs) != CORM_OK) fail_msg("%s", corm_qs_error(qs)->message);
    assert_int_equal(corm_qs_len(qs), 2);
    assert_string_equal(corm_row_text(qs, 0, "name"), "Fantasy");
    corm_qs_free(qs);

    /* aggregate: one row */
    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    corm_aggregate(qs, "avg", corm_Avg(qs, "pages"));
    corm_aggregate(qs, "longest", corm_Max(qs, "pages"));
    corm_aggregate(qs, "shortest", corm_Min(qs, "pages"));
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 1);
    assert_int_equal(corm_row_int(qs, 0, "total"), 1729);
    assert_true(corm_row_float(qs, 0, "avg") > 576.3 && corm_row_float(qs, 0, "avg") < 576.4);
    assert_int_equal(corm_row_int(qs, 0, "longest"), 928);
    assert_int_equal(corm_row_int(qs, 0, "shortest"), 296);
    assert_int_equal(corm_row_int(qs, 0, "n"), 3);
    corm_qs_free(qs);

    /* aggregate across a to-many path joins, as Django */
    qs = corm_all(db, Author);
    corm_aggregate(qs, "nbooks", corm_Count(qs, "books", false));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_row_int(qs, 0, "nbooks"), 6);
    corm_qs_free(qs);

    /* errors */
    qs = corm_all(db, Author);
    corm_annotate(qs, "name", corm_Count(qs, "books", false));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "conflicts with a field"));
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_annotate(qs, "x", corm_Sum(qs, "books__nope"));
    assert_int_equal(corm_eval(qs), CORM_SCHEMA);
    corm_qs_free(qs);
}

static void test_f_subquery_exists(void **state)
{
    (void)state;
    /* F with arithmetic in filter and annotate, and order by annotation */
    corm_qs *qs = corm_all(db, Book);
    corm_filter_expr(qs, "pages__gt",
                     corm_arith(qs, corm_F(qs, "price"), '*', corm_V(qs, corm_int(60))));
    corm_annotate(qs, "per_page", corm_arith(qs, corm_F(qs, "price"), '/', corm_F(qs, "pages")));
    corm_order_by(qs, "per_page");
    /* price = 10.5 + i: pages > price * 60 for books 1 (1400 > 630), 2 (940 > 690),
    ** 5 (928 > 870) */
    assert_ids(qs, "1,2,5");
    corm_qs_free(qs);

    /* each author's latest book title (Subquery + OuterRef) */
    qs = corm_all(db, Author);
    corm_qs *latest = corm_all(db, Book);
    corm_filter_expr(latest, "author", corm_OuterRef(latest, "pk"));
    corm_order_by(latest, "-published_date");
    corm_slice(latest, 0, 1);
    corm_annotate(qs, "latest", corm_Subquery(qs, latest, "title"));
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_string_equal(corm_annotation(corm_qs_at(qs, 0), "latest")->u.s.p, "Les Miserables");
    assert_string_equal(corm_annotation(corm_qs_at(qs, 1), "latest")->u.s.p, "1Q84");
    assert_int_equal(corm_annotation(corm_qs_at(qs, 3), "latest")->type, CORM_V_NULL);
    corm_qs_free(qs);

    /* authors that have a book over 1000 pages (Exists), as a filter */
    qs = corm_all(db, Author);
    corm_qs *big = corm_all(db, Book);
    corm_filter_expr(big, "author", corm_OuterRef(big, "pk"));
    corm_filter(big, "pages__gt", corm_int(1000));
    corm_annotate(qs, "has_big", corm_Exists(qs, big));
    corm_filter(qs, "has_big", corm_bool(true));
    assert_ids(qs, "1");
    corm_qs_free(qs);

    /* OuterRef outside a subquery is an error */
    qs = corm_all(db, Book);
    corm_filter_expr(qs, "author", corm_OuterRef(qs, "pk"));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    corm_qs_free(qs);
}

static void test_clone_keeps_shape(void **state)
{
    (void)state;
    /* a clone owns its copy of everything: free the original first */
    corm_qs *qs = corm_all(db, Author);
    corm_qs *latest = corm_all(db, Book);
    corm_filter_expr(latest, "author", corm_OuterRef(latest, "pk"));
    corm_order_by(latest, "-published_date");
    corm_slice(latest, 0, 1);
    corm_annotate(qs, "latest", corm_Subquery(qs, latest, "title"));
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter_expr(qs, "id__lte",
                     corm_arith(qs, corm_V(qs, corm_int(1)), '+', corm_V(qs, corm_int(1))));
    corm_values(qs, "name", "latest", "n");
    corm_order_by(qs, "-n");
    corm_qs *c = corm_qs_clone(qs);
    corm_qs_free(qs);
    assert_int_equal(corm_eval(c), CORM_OK);
    assert_int_equal(corm_qs_len(c), 2);
    assert_string_equal(corm_row_text(c, 0, "name"), "Haruki Murakami");
    assert_string_equal(corm_row_text(c, 0, "latest"), "1Q84");
    assert_int_equal(corm_row_int(c, 1, "n"), 2);
    corm_qs_free(c);

    qs = corm_all(db, Book);
    corm_only(qs, "title");
    corm_distinct(qs);
    c = corm_qs_clone(qs);
    corm_qs_free(qs);
    corm_filter(c, "pk", corm_int(1));
    Book *b = corm_get(c);
    assert_non_null(b);
    assert_false(corm_is_loaded(b, "pages"));
    corm_qs_free(c);
}

static void test_distinct_explain_sql(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_values_flat(qs, "author");
    corm_distinct(qs);
    corm_order_by(qs, "author");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 3); }
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 3);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "title", corm_text("1Q84"));
    const char *plan = corm_explain(qs);
    assert_non_null(plan);
    assert_non_null(strstr(plan, "book"));
    const char *sql = corm_qs_sql(qs);
    assert_non_null(strstr(sql, TEST_SQL("WHERE T0.\"title\" = ?", "WHERE T0.\"title\" = $1")));
    const corm_value *params;
    assert_int_equal(corm_qs_sql_params(qs, &params), 1);
    assert_string_equal(params[0].u.s.p, "1Q84");
    corm_qs_free(qs);
}

static void test_raw(void **state)
{
    (void)state;
    corm_value p[] = {corm_int(900), corm_text("'; DROP TABLE book; --")};
    corm_qs *qs = corm_raw(
        db, Book,
        TEST_SQL("SELECT id, title, pages FROM book WHERE pages > ? AND title <> ? ORDER BY id",
                 "SELECT id, title, pages FROM book WHERE pages > $1 AND title <> $2 ORDER BY id"),
        p, 2);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1,2,5"); }
    Book *b = corm_qs_at(qs, 0);
    assert_string_equal(b->title, "Les Miserables");
    assert_false(corm_is_loaded(b, "isbn"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_string_equal(corm_field(b, isbn), "9780000000001"); }
    /* the fk itself was not selected: Django loads it, then the author */
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_string_equal(book_author(b)->name, "Victor Hugo"); }
    corm_qs_free(qs);

    qs = corm_sql(
        db,
        TEST_SQL("SELECT count(*) AS n, max(pages) AS most FROM book WHERE author_id = ?",
                 "SELECT count(*) AS n, max(pages) AS most FROM book WHERE author_id = $1"),
        (corm_value[]){corm_int(2)}, 1);
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_row_int(qs, 0, "n"), 3);
    assert_int_equal(corm_row_int(qs, 0, "most"), 928);
    corm_qs_free(qs);

    qs = corm_raw(db, Book, "SELECT title FROM book", NULL, 0);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "id"));
    corm_qs_free(qs);

    qs = corm_sql(db, "SELEKT 1", NULL, 0);
    assert_int_equal(corm_eval(qs), CORM_DB);
    assert_string_equal(corm_qs_error(qs)->sql, "SELEKT 1");
    corm_qs_free(qs);
}

/* Django's %s placeholders: the same text runs on every backend. */
static void test_raw_portable(void **state)
{
    (void)state;
    corm_value p[] = {corm_int(900), corm_text("'; DROP TABLE book; --")};
    const char *sql = "SELECT id, title, pages FROM book -- pages > %s\n"
                      "WHERE pages > %s AND title <> %s AND title NOT LIKE '%zz%s' ORDER BY id";
    corm_qs *qs = corm_raw(db, Book, sql, p, 2);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_ids(qs, "1,2,5"); }
    assert_string_equal(((Book *)corm_qs_at(qs, 0))->title, "Les Miserables");
    corm_qs_free(qs);

    /* %% is a literal % (modulo), rows of any statement */
    qs = corm_sql(db,
                  "SELECT count(*) AS n, max(pages) %% 100 AS rest, '%s' AS lit FROM book "
                  "WHERE author_id = %s",
                  (corm_value[]){corm_int(2)}, 1);
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_row_int(qs, 0, "n"), 3);
    assert_int_equal(corm_row_int(qs, 0, "rest"), 28);
    assert_string_equal(corm_row_text(qs, 0, "lit"), "%s");
    corm_qs_free(qs);

    /* wrong count: the builder's error, before any query */
    uint64_t before = corm_query_count(db);
    qs = corm_sql(db, "SELECT id FROM book WHERE id = %s OR id = %s", (corm_value[]){corm_int(1)},
                  1);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_string_equal(corm_qs_error(qs)->message,
                        "raw SQL has 2 %s placeholders and 1 parameter");
    corm_qs_free(qs);
    qs = corm_sql(db, "SELECT pages % 7 FROM book WHERE id = %s", (corm_value[]){corm_int(1)}, 1);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "write %% for a literal %"));
    corm_qs_free(qs);
    assert_int_equal(corm_query_count(db), before);
}

static void test_iterator(void **state)
{
    (void)state;
    /* 5,000 more books, iterated 100 at a time with their genres */
#define BULK_BOOKS(description)                                                                 \
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000) "           \
    "INSERT INTO \"book\" (\"title\", \"author_id\", \"published_date\", \"isbn\", \"pages\", " \
    "\"price\", \"description\", \"featured\") SELECT 'bulk ' || x, 1 + x % 4, '2020-01-01', "  \
    "'it-' || x, x, 1, " description ", FALSE FROM n"
    assert_int_equal(corm_exec(db, TEST_SQL(BULK_BOOKS("printf('%.500c', 'x')"),
                                            BULK_BOOKS("repeat('x', 500)"))),
                     CORM_OK);
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "title__startswith", corm_text("bulk "));
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "genres");
    uint64_t before = corm_query_count(db);
    corm_iter *it = corm_iterator(qs, 100);
    Book *b;
    size_t n = 0, first_chunk = 0, max_mem = 0;
    int64_t sum = 0;
    while ((b = corm_iter_next(it)) != NULL) {
        n++;
        sum += b->pages;
        assert_int_equal(book_genres(b)->n, 0); /* prefetched: no query */
        size_t mem = corm_iter_memory_size(it);
        if (n == 50) first_chunk = mem;
        if (mem > max_mem) max_mem = mem;
    }
    assert_false(corm_qs_failed(qs));
    assert_int_equal(n, 5000);
    assert_int_equal(sum, 5000LL * 5001 / 2);
    /* one cursor + one prefetch per chunk of 100 */
    assert_int_equal(corm_query_count(db) - before, 1 + 50);
    /* memory stays flat: no chunk holds more than the first one did */
    assert_true(max_mem <= first_chunk);
    corm_iter_free(it);
    assert_int_equal(corm_qs_len(qs), 0); /* iterator() caches nothing */
    corm_qs_free(qs);
}

static void test_evaluation_semantics(void **state)
{
    (void)state;
    /* count() is a COUNT query that loads no rows; len() loads them */
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 3); }
    assert_int_equal(corm_qs_memory_size(qs), 0);
    /* exists() is a LIMIT 1 query */
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_exists(qs), 1); }
    assert_int_equal(corm_qs_memory_size(qs), 0);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 3);
    assert_true(corm_qs_memory_size(qs) > 0);
    /* evaluated: count, exists and iterating again run nothing */
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_count(qs), 3);
        assert_int_equal(corm_exists(qs), 1);
        Book *b;
        int k = 0;
        corm_foreach(b, qs) k += b->id > 0;
        assert_int_equal(k, 3);
    }
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_defer),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_annotate_aggregate),
        cmocka_unit_test(test_f_subquery_exists),
        cmocka_unit_test(test_clone_keeps_shape),
        cmocka_unit_test(test_distinct_explain_sql),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_raw_portable),
        cmocka_unit_test(test_evaluation_semantics),
        cmocka_unit_test(test_iterator),
    };
    return cmocka_run_group_tests_name("shaping", tests, setup, teardown);
}
