/*
** test_django.c - Django's semantics, rule by rule (issue 14): each test
** names the Django test or documentation section it mirrors, with the
** same rows and the same number of queries, on SQLite and PostgreSQL.
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

static void eval_ok(corm_qs *qs)
{
    if (corm_eval(qs) != CORM_OK) fail_msg("%s", corm_qs_error(qs)->message);
}

/* Django tests/aggregation_regress test_sliced_conditional_aggregate and
** the QuerySet reference (aggregate() of a sliced queryset aggregates the
** slice, as a subquery): Book.objects.order_by("-pages")[:2]
** .aggregate(total=Sum("pages")) sums the two longest books, one query. */
static void test_aggregate_over_slice(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "-pages");
    corm_slice(qs, 0, 2);
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    CORM_ASSERT_NUM_QUERIES(db, 1) { eval_ok(qs); }
    assert_int_equal(corm_qs_len(qs), 1);
    assert_int_equal(corm_qs_ncols(qs), 2);
    assert_int_equal(corm_row_int(qs, 0, "total"), 1400 + 940);
    assert_int_equal(corm_row_int(qs, 0, "n"), 2);
    corm_qs_free(qs);

    /* with an offset: [1:4] by title is Beowulf, Kafka, Les Miserables */
    qs = corm_all(db, Book);
    corm_order_by(qs, "title");
    corm_slice(qs, 1, 4);
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { eval_ok(qs); }
    assert_int_equal(corm_row_int(qs, 0, "total"), 200 + 505 + 1400);
    corm_qs_free(qs);

    /* an offset with no end, and a filter inside the slice */
    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    corm_order_by(qs, "pages");
    corm_slice(qs, 1, -1);
    corm_aggregate(qs, "longest", corm_Max(qs, "pages"));
    corm_aggregate(qs, "shortest", corm_Min(qs, "pages"));
    eval_ok(qs);
    assert_int_equal(corm_row_int(qs, 0, "longest"), 928);
    assert_int_equal(corm_row_int(qs, 0, "shortest"), 505);
    corm_qs_free(qs);

    /* an aggregate over a to-many path of the slice's rows: the two first
    ** authors by id (Hugo 2 books, Murakami 3) */
    qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 2);
    corm_aggregate(qs, "nbooks", corm_Count(qs, "books", false));
    eval_ok(qs);
    assert_int_equal(corm_row_int(qs, 0, "nbooks"), 5);
    corm_qs_free(qs);

    /* an empty slice: Sum is NULL, Count 0 */
    qs = corm_all(db, Book);
    corm_slice(qs, 10, 20);
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    eval_ok(qs);
    assert_true(corm_row_isnull(qs, 0, "total"));
    assert_int_equal(corm_row_int(qs, 0, "n"), 0);
    corm_qs_free(qs);
}

/* Django's QuerySet reference, aggregate(): the ordering of an unsliced
** queryset does not change an aggregate (Django clears it); DISTINCT makes
** the rows distinct first (get_aggregation's subquery). */
static void test_aggregate_over_ordered_distinct(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "-pages");
    corm_aggregate(qs, "total", corm_Sum(qs, "pages"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { eval_ok(qs); }
    assert_int_equal(corm_row_int(qs, 0, "total"), 4269);
    assert_null(strstr(corm_qs_sql(qs), "ORDER BY"));
    corm_qs_free(qs);

    /* Fiction and Fantasy both match book 4: distinct() counts it once */
    static const char *const names[] = {"Fiction", "Fantasy"};
    qs = corm_all(db, Book);
    corm_filter(qs, "genres__name__in", corm_texts(names, 2));
    corm_distinct(qs);
    corm_order_by(qs, "id");
    corm_aggregate(qs, "n", corm_Count(qs, "id", false));
    eval_ok(qs);
    assert_int_equal(corm_row_int(qs, 0, "n"), 5);
    corm_qs_free(qs);
}

/* Django tests/aggregation test_aggregate_annotation:
** Book.objects.annotate(num_authors=Count("authors__id"))
**     .aggregate(Avg("num_authors")) - an aggregate over an annotation
** aggregates the annotated rows (a subquery), one query. */
static void test_aggregate_over_annotation(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    corm_aggregate(qs, "most", corm_Max(qs, "book_count"));
    corm_aggregate(qs, "total", corm_Sum(qs, "book_count"));
    corm_aggregate(qs, "avg", corm_Avg(qs, "book_count"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { eval_ok(qs); }
    assert_int_equal(corm_qs_ncols(qs), 3); /* only the aggregates, as Django's dict */
    assert_int_equal(corm_row_int(qs, 0, "most"), 3);
    assert_int_equal(corm_row_int(qs, 0, "total"), 6);
    assert_true(corm_row_float(qs, 0, "avg") > 1.49 && corm_row_float(qs, 0, "avg") < 1.51);
    corm_qs_free(qs);

    /* the annotation filtered (HAVING/WHERE inside), then sliced */
    qs = corm_all(db, Author);
    corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    corm_filter(qs, "book_count__gte", corm_int(1));
    corm_order_by(qs, "-book_count");
    corm_slice(qs, 0, 2);
    corm_aggregate(qs, "total", corm_Sum(qs, "book_count"));
    eval_ok(qs);
    assert_int_equal(corm_row_int(qs, 0, "total"), 5);
    corm_qs_free(qs);
}

/* Django tests/prefetch_related test_foreignkey_reverse /
** known_related_objects tests (test_reverse_fk_caches): a book reached
** through author.books.all() knows its author - book.author runs no query,
** after a lazy related set or a prefetch. */
static void test_back_references(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "pk", corm_int(2));
    Author *a = corm_get(qs);
    assert_non_null(a);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        const corm_list *books = author_books(a);
        assert_int_equal(books->n, 3);
        for (size_t i = 0; i < books->n; i++) assert_ptr_equal(book_author(books->items[i]), a);
    }
    corm_qs_free(qs);

    qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books");
    corm_order_by(qs, "id");
    char got[128] = "";
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        Author *x;
        corm_foreach(x, qs)
        {
            const corm_list *books = author_books(x);
            for (size_t i = 0; i < books->n; i++) {
                char one[16];
                snprintf(one, sizeof one, "%lld>%lld;", (long long)((Book *)books->items[i])->id,
                         (long long)book_author(books->items[i])->id);
                strcat(got, one);
            }
        }
    }
    assert_string_equal(got, "1>1;2>1;3>2;4>2;5>2;6>3;");
    corm_qs_free(qs);

    /* a Prefetch with a queryset and to_attr sets it too */
    qs = corm_all(db, Author);
    corm_qs *inner = corm_all(db, Book);
    corm_filter(inner, "pages__gt", corm_int(900));
    corm_prefetch(qs, "books", inner, "long_books");
    corm_filter(qs, "pk", corm_int(1));
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        a = corm_get(qs);
        const corm_list *l = corm_attr(a, "long_books");
        assert_int_equal(l->n, 2);
        assert_ptr_equal(book_author(l->items[0]), a);
    }
    corm_qs_free(qs);
}

/* Django tests/prefetch_related test_foreign_key_then_m2m:
** select_related("first_book").prefetch_related("first_book__read_by") is 2
** queries - the joined level is not fetched again, the prefetch continues
** from the joined objects. */
static void test_prefetch_continues_from_select_related(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    corm_prefetch_related(qs, "author__books");
    corm_order_by(qs, "id");
    char got[128] = "";
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        Book *b;
        corm_foreach(b, qs)
        {
            char one[16];
            snprintf(one, sizeof one, "%lld:%zu;", (long long)b->id,
                     author_books(book_author(b))->n);
            strcat(got, one);
        }
    }
    assert_string_equal(got, "1:2;2:2;3:3;4:3;5:3;6:1;");
    corm_qs_free(qs);

    /* an earlier lookup's level is reused the same way: "books" then
    ** "books__author" - the author is the back-reference, no query */
    qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books", "books__author");
    CORM_ASSERT_NUM_QUERIES(db, 2) { eval_ok(qs); }
    corm_qs_free(qs);

    /* Django test_reverse_one_to_one_then_m2m: a level with no parent
    ** objects (every joined publisher NULL) runs no query */
    qs = corm_all(db, Book);
    corm_filter(qs, "publisher__isnull", corm_bool(true));
    corm_select_related(qs, "publisher");
    corm_prefetch_related(qs, "publisher__books");
    CORM_ASSERT_NUM_QUERIES(db, 1) { eval_ok(qs); }
    assert_int_equal(corm_qs_len(qs), 3);
    corm_qs_free(qs);

    /* prefetch_related_objects on objects whose relation is loaded for
    ** some: the IN list holds only the others (one query), and a second
    ** call runs none */
    qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    eval_ok(qs);
    void *objs[4];
    for (size_t i = 0; i < 4; i++) objs[i] = corm_qs_at(qs, i);
    CORM_ASSERT_NUM_QUERIES(db, 1) { (void)author_books(objs[0]); }
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_prefetch_objects(db, objs, 4, "books"), CORM_OK);
    }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_prefetch_objects(db, objs, 4, "books"), CORM_OK);
        assert_int_equal(author_books(objs[1])->n, 3);
        assert_int_equal(author_books(objs[3])->n, 0);
    }
    corm_qs_free(qs);
}

static const char *genre_ids(corm_qs *owner, Book *b)
{
    static char buf[64];
    buf[0] = '\0';
    (void)owner;
    corm_qs *g = book_genres_qs(b);
    corm_order_by(g, "id");
    strcpy(buf, test_ids(g));
    corm_qs_free(g);
    return buf;
}

/* Django tests/many_to_many (test_add, test_add_remove_set_by_pk,
** test_remove, test_clear, test_set, test_reverse_add, ...) and the related
** managers reference: add() of several objects is one INSERT (ignoring
** links already there), remove() one DELETE, clear() one DELETE, set()
** a SELECT of the current links then only the differences; from either
** side.  Leaves the fixture as it found it (book 6 has no genres). */
static void test_m2m_writes(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(6));
    Book *b = corm_get(qs);
    assert_non_null(b);
    assert_string_equal(genre_ids(qs, b), "");

    static const int64_t three[] = {1, 2, 3}, odd[] = {1, 3}, six[] = {6};
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_add_ids(db, b, BOOK_REL_GENRES, three, 3), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "1,2,3");
    /* links already there stay once, still one statement */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_add_ids(db, b, BOOK_REL_GENRES, odd, 2), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "1,2,3");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_remove_ids(db, b, BOOK_REL_GENRES, odd, 2), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "2");
    /* nothing to add or remove: no query */
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_m2m_add_ids(db, b, BOOK_REL_GENRES, NULL, 0), CORM_OK);
    }

    /* the reverse side: Fantasy.books.add(book 6) */
    corm_qs *gq = corm_all(db, Genre);
    corm_filter(gq, "pk", corm_int(3));
    Genre *fantasy = corm_get(gq);
    assert_non_null(fantasy);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_add_ids(db, fantasy, GENRE_REL_BOOKS, six, 1), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "2,3");
    /* objects instead of ids */
    void *gs[] = {fantasy};
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_remove_objs(db, b, BOOK_REL_GENRES, gs, 1), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "2");

    /* set(): the current links, then only the differences */
    static const int64_t want[] = {3, 1};
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        assert_int_equal(corm_m2m_set_ids(db, b, BOOK_REL_GENRES, want, 2), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "1,3");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_set_ids(db, b, BOOK_REL_GENRES, want, 2), CORM_OK);
    }
    static const int64_t more[] = {1, 2, 3};
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_int_equal(corm_m2m_set_ids(db, b, BOOK_REL_GENRES, more, 3), CORM_OK);
    }
    assert_string_equal(genre_ids(qs, b), "1,2,3");

    /* a cached related set is dropped by a write: the next read queries */
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(book_genres(b)->n, 3); }
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_m2m_clear(db, b, BOOK_REL_GENRES), CORM_OK);
    }
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(book_genres(b)->n, 0); }
    assert_string_equal(genre_ids(qs, b), "");

    /* errors say what was wrong */
    assert_int_equal(corm_m2m_clear(db, b, BOOK_REL_AUTHOR), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "is not many-to-many"));
    static const int64_t bad[] = {2, 0};
    assert_int_equal(corm_m2m_add_ids(db, b, BOOK_REL_GENRES, bad, 2), CORM_INVALID);
    assert_non_null(strstr(corm_db_error(db)->message, "id 1 is 0"));
    Book fresh = CORM_NEW(Book);
    assert_int_equal(corm_m2m_add_ids(db, &fresh, BOOK_REL_GENRES, six, 1), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "never saved"));
    assert_int_equal(corm_m2m_set_ids(db, b, BOOK_REL_GENRES, NULL, 1), CORM_MISUSE);
    assert_string_equal(genre_ids(qs, b), "");
    corm_qs_free(gq);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregate_over_slice),
        cmocka_unit_test(test_aggregate_over_ordered_distinct),
        cmocka_unit_test(test_aggregate_over_annotation),
        cmocka_unit_test(test_back_references),
        cmocka_unit_test(test_prefetch_continues_from_select_related),
        cmocka_unit_test(test_m2m_writes),
    };
    return cmocka_run_group_tests_name("django", tests, setup, teardown);
}
