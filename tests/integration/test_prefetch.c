/*
** test_prefetch.c - prefetch_related and Prefetch objects: exact query
** counts (as Django's prefetch tests assert them) and exact rows.
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

/* "1,2" from a list of objects */
static const char *list_ids(const corm_list *l)
{
    static char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; l && i < l->n; i++) {
        const corm_obj *o = l->items[i];
        int64_t id = *(const int64_t *)((const char *)o + o->model->fields[0].offset);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", i ? "," : "", (long long)id);
    }
    return l ? buf : "(null)";
}

static corm_qs *authors(void)
{
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    return qs;
}

static corm_qs *books_by_id(void)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    return qs;
}

static void test_reverse_fk(void **state)
{
    (void)state;
    corm_qs *qs = authors();
    corm_prefetch_related(qs, "books");
    char got[256] = "";
    Author *a;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(a, qs)
        {
            strcat(got, list_ids(author_books(a)));
            strcat(got, ";");
        }
    }
    assert_string_equal(got, "1,2;3,4,5;6;;");
    corm_qs_free(qs);
}

static void test_m2m_both_ways(void **state)
{
    (void)state;
    corm_qs *qs = books_by_id();
    corm_qs *genres = corm_all(db, Genre);
    corm_order_by(genres, "name");
    corm_prefetch(qs, "genres", genres, NULL);
    char got[256] = "";
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(b, qs)
        {
            strcat(got, list_ids(book_genres(b)));
            strcat(got, ";");
        }
    }
    /* Fantasy 3, Fiction 1, History 2 ordered by name */
    assert_string_equal(got, "1,2;1;1;3,1;3;;");
    corm_qs_free(qs);

    qs = corm_all(db, Genre);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "books");
    got[0] = '\0';
    Genre *g;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(g, qs)
        {
            const corm_list *l = genre_books(g);
            char n[16];
            snprintf(n, sizeof n, "%zu;", l->n);
            strcat(got, n);
        }
    }
    assert_string_equal(got, "4;1;2;");
    corm_qs_free(qs);
}

static void test_nested_and_merged(void **state)
{
    (void)state;
    /* books and books__genres share the books level: 3 queries, not 4 */
    corm_qs *qs = authors();
    corm_prefetch_related(qs, "books", "books__genres", "books");
    size_t links = 0;
    Author *a;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(a, qs)
        {
            const corm_list *bl = author_books(a);
            for (size_t i = 0; i < bl->n; i++) links += book_genres(bl->items[i])->n;
        }
    }
    assert_int_equal(links, 7);
    corm_qs_free(qs);

    /* a nested path alone loads the levels it walks through */
    qs = corm_all(db, Country);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "authors__books__genres");
    links = 0;
    Country *c;
    CORM_ASSERT_NUM_QUERIES(db, 4)
    {
        corm_foreach(c, qs)
        {
            const corm_list *al = country_authors(c);
            for (size_t i = 0; i < al->n; i++) {
                const corm_list *bl = author_books(al->items[i]);
                for (size_t j = 0; j < bl->n; j++) links += book_genres(bl->items[j])->n;
            }
        }
    }
    assert_int_equal(links, 7);
    corm_qs_free(qs);

    /* forward fk through prefetch: 2 queries, NULL keys stay NULL */
    qs = books_by_id();
    corm_prefetch_related(qs, "author__country");
    char got[128] = "";
    Book *b;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(b, qs)
        {
            Country *co = author_country(book_author(b));
            strcat(got, co ? co->code : "-");
        }
    }
    assert_string_equal(got, "FRFRJPJPJP-");
    corm_qs_free(qs);
}

static void test_prefetch_objects_to_attr(void **state)
{
    (void)state;
    corm_qs *qs = authors();
    corm_qs *longb = corm_all(db, Book);
    corm_filter(longb, "pages__gt", corm_int(900));
    corm_order_by(longb, "-pages");
    corm_prefetch(qs, "books", longb, "long_books");
    corm_qs *all = corm_all(db, Book);
    corm_order_by(all, "id");
    corm_prefetch(qs, "books", all, "all_books");
    corm_qs *top = corm_all(db, Book);
    corm_order_by(top, "-published_date");
    corm_slice(top, 0, 2); /* the two newest per author */
    corm_select_related(top, "publisher");
    corm_prefetch(qs, "books", top, "newest");
    char got[256] = "";
    Author *a;
    CORM_ASSERT_NUM_QUERIES(db, 4)
    {
        corm_foreach(a, qs)
        {
            strcat(got, list_ids(corm_attr(a, "long_books")));
            strcat(got, "|");
            strcat(got, list_ids(corm_attr(a, "all_books")));
            strcat(got, "|");
            const corm_list *nb = corm_attr(a, "newest");
            strcat(got, list_ids(nb));
            for (size_t i = 0; i < nb->n; i++) /* select_related inside: no query */
                strcat(got, book_publisher(nb->items[i]) ? "P" : "_");
            strcat(got, ";");
        }
    }
    assert_string_equal(got, "1,2|1,2|1,2P_;5|3,4,5|5,4P_;|6|6_;||;");
    /* to_attr leaves the relation's own cache alone: this is a new query */
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(author_books(corm_qs_at(qs, 0))->n, 2); }
    assert_null(corm_attr(corm_qs_at(qs, 0), "nope"));
    corm_qs_free(qs);
}

static void test_related_set_semantics(void **state)
{
    (void)state;
    corm_qs *qs = authors();
    corm_prefetch_related(qs, "books");
    assert_int_equal(corm_eval(qs), CORM_OK);
    Author *hugo = corm_qs_at(qs, 0);
    /* all() on the prefetched set: no query; filter(): always a query */
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(author_books(hugo)->n, 2); }
    corm_qs *rq = author_books_qs(hugo);
    corm_filter(rq, "pages__gt", corm_int(1000));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(rq), 1); }
    corm_qs_free(rq);
    /* prefetch after evaluation: a no-op, counted for the detector */
    corm_prefetch_related(qs, "books__genres");
    assert_int_equal(corm_qs_late_eager(qs), 1);
    assert_false(corm_qs_failed(qs));
    corm_qs_free(qs);
}

static void test_objects_in_hand_and_empty(void **state)
{
    (void)state;
    corm_qs *qs = authors();
    assert_int_equal(corm_eval(qs), CORM_OK);
    void *items[4];
    for (size_t i = 0; i < 4; i++) items[i] = corm_qs_at(qs, i);
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_int_equal(corm_prefetch_objects(db, items, 4, "books", "books__genres"), CORM_OK);
    }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(list_ids(author_books(items[1])), "3,4,5");
    }
    corm_qs_free(qs);

    /* no parents: no prefetch query at all */
    qs = corm_all(db, Author);
    corm_filter(qs, "name", corm_text("nobody"));
    corm_prefetch_related(qs, "books__genres");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    corm_qs_free(qs);

    /* a get() prefetches too */
    qs = corm_all(db, Author);
    corm_filter(qs, "pk", corm_int(2));
    corm_prefetch_related(qs, "books");
    Author *a;
    CORM_ASSERT_NUM_QUERIES(db, 2) { a = corm_get(qs); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(author_books(a)->n, 3); }
    corm_qs_free(qs);
}

static void test_errors(void **state)
{
    (void)state;
    corm_qs *qs = authors();
    corm_prefetch_related(qs, "bokos");
    assert_int_equal(corm_eval(qs), CORM_SCHEMA);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "did you mean 'books'?"));
    corm_qs_free(qs);

    qs = authors();
    corm_prefetch(qs, "books", corm_all(db, Genre), NULL);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "the queryset is over Genre"));
    corm_qs_free(qs);

    qs = authors();
    corm_prefetch_related(qs, "books");
    corm_prefetch(qs, "books", corm_all(db, Book), NULL);
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "already seen with a different queryset"));
    corm_qs_free(qs);

    /* an error in the inner queryset surfaces on the outer one */
    qs = authors();
    corm_qs *inner = corm_all(db, Book);
    corm_filter(inner, "nope", corm_int(1));
    corm_prefetch(qs, "books", inner, "x");
    assert_int_equal(corm_eval(qs), CORM_SCHEMA);
    corm_qs_free(qs);
}

/* users 1..3: 1 manages 2 and 3; profiles for 1 and 3 only */
static void add_users(void)
{
    for (int i = 1; i <= 3; i++) {
        User u = CORM_NEW(User);
        char email[32];
        snprintf(email, sizeof email, "u%d@example.com", i);
        u.email = email;
        u.name = "user";
        u.is_active = true;
        u.tenant_id = 1;
        if (i == 1) corm_set_null(&u, "account_manager", true);
        else u.account_manager_id = 1;
        assert_int_equal(corm_save(db, &u), CORM_OK);
        if (i == 2) continue;
        Profile p = CORM_NEW(Profile);
        p.user_id = u.id;
        p.bio = i == 1 ? "first" : "third";
        assert_int_equal(corm_save(db, &p), CORM_OK);
    }
}

static void test_one_to_one_and_self(void **state)
{
    (void)state;
    add_users();
    /* reverse one-to-one through select_related: one query, and a missing
    ** profile is NULL with no later query */
    corm_qs *qs = corm_all(db, User);
    corm_select_related(qs, "profile", "account_manager__profile");
    corm_order_by(qs, "id");
    char got[128] = "";
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        User *u;
        corm_foreach(u, qs)
        {
            Profile *p = user_profile(u);
            User *m = user_account_manager(u);
            strcat(got, p ? p->bio : "-");
            strcat(got, m ? user_profile(m)->bio : "-");
            strcat(got, ";");
        }
    }
    assert_string_equal(got, "first-;-first;thirdfirst;");
    corm_qs_free(qs);

    /* forward one-to-one, and the reverse through prefetch_related */
    qs = corm_all(db, Profile);
    corm_select_related(qs, "user");
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_eval(qs), CORM_OK);
        assert_string_equal(profile_user(corm_qs_at(qs, 1))->email, "u3@example.com");
    }
    corm_qs_free(qs);

    qs = corm_all(db, User);
    corm_prefetch_related(qs, "profile", "managed_users");
    corm_order_by(qs, "id");
    got[0] = '\0';
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        User *u;
        corm_foreach(u, qs)
        {
            Profile *p = user_profile(u);
            char one[32];
            snprintf(one, sizeof one, "%s/%zu;", p ? p->bio : "-", user_managed_users(u)->n);
            strcat(got, one);
        }
    }
    assert_string_equal(got, "first/2;-/0;third/0;");
    corm_qs_free(qs);
}

static void count_internal(void *ud, const corm_event *ev)
{
    if (ev->internal) {
        char *log = ud;
        strcat(log, ev->sql);
        strcat(log, ";");
    }
}

static void test_one_snapshot(void **state)
{
    (void)state;
    /* parents and every prefetch level read one snapshot: an internal
    ** BEGIN/COMMIT around them, not counted as queries */
    char log[256] = "";
    int h = corm_on_query(db, count_internal, log);
    corm_qs *qs = authors();
    corm_prefetch_related(qs, "books__genres");
    uint64_t before = corm_query_count(db);
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_query_count(db) - before, 3);
    assert_string_equal(log, "BEGIN;COMMIT;");
    corm_qs_free(qs);

    /* inside the caller's transaction: nothing added */
    log[0] = '\0';
    assert_int_equal(corm_begin(db), CORM_OK);
    qs = authors();
    corm_prefetch_related(qs, "books");
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_qs_free(qs);
    assert_int_equal(corm_commit(db), CORM_OK);
    assert_string_equal(log, "");

    /* no prefetch: a single statement needs no transaction */
    qs = authors();
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_qs_free(qs);
    assert_string_equal(log, "");
    corm_off_query(db, h);
}

static void test_many_parents(void **state)
{
    (void)state;
    /* 100,000 parents: far past SQLite's 32,766 bound variables, still one
    ** query per level */
    assert_int_equal(
        corm_exec(
            db, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) "
                "INSERT INTO \"author\" (\"name\", \"email\") SELECT 'bulk ' || x, 'b@example.com' "
                "FROM n"),
        CORM_OK);
    assert_int_equal(corm_exec(db, "INSERT INTO \"book\" (\"title\", \"author_id\", "
                                   "\"published_date\", \"isbn\", \"pages\", "
                                   "\"price\", \"description\", \"featured\") SELECT 'last', "
                                   "max(id), '2020-01-01', 'x-last', 1, 1, '', FALSE "
                                   "FROM \"author\""),
                     CORM_OK);
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "name__startswith", corm_text("bulk "));
    corm_prefetch_related(qs, "books");
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 100000);
    size_t with_books = 0;
    for (size_t i = 0; i < corm_qs_len(qs); i++) with_books += author_books(corm_qs_at(qs, i))->n;
    assert_int_equal(with_books, 1);
    corm_qs_free(qs);
}

/* The SQL of the prefetch level (event i of a capture) and how it passed
** its keys: "none" (the parents are a whole table), "param" (one
** parameter: json_each / = ANY), "list" (an IN list). */
static const char *key_passing(const corm_capture *c, size_t i)
{
    const char *sql = corm_capture_event(c, i)->sql;
    if (strstr(sql, "json_each(") || strstr(sql, "= ANY(")) return "param";
    if (strstr(sql, " IN (")) return "list";
    return "none";
}

static void test_key_passing(void **state)
{
    (void)state;
    /* every author: the books of the whole table, no key list */
    corm_qs *qs = authors();
    corm_prefetch_related(qs, "books__genres");
    char got[256] = "";
    corm_capture *c = corm_capture_begin(db, "keys");
    Author *a;
    corm_foreach(a, qs)
    {
        strcat(got, list_ids(author_books(a)));
        strcat(got, ";");
    }
    corm_capture_end(c);
    assert_string_equal(got, "1,2;3,4,5;6;;");
    assert_int_equal(corm_capture_count(c), 3);
    assert_string_equal(key_passing(c, 1), "none");
    assert_null(strstr(corm_capture_event(c, 1)->sql, " WHERE "));
    /* the next level's parents are some books: their keys */
    assert_string_equal(key_passing(c, 2), "param");
    assert_string_equal(list_ids(book_genres(author_books(corm_qs_at(qs, 0))->items[0])), "1,2");
    corm_capture_free(c);
    corm_qs_free(qs);

    /* a filtered queryset: its keys, the same rows for those parents */
    qs = authors();
    corm_filter(qs, "id__in", corm_ints((const int64_t[]){2, 4}, 2));
    corm_prefetch_related(qs, "books");
    got[0] = '\0';
    c = corm_capture_begin(db, "keys");
    corm_foreach(a, qs)
    {
        strcat(got, list_ids(author_books(a)));
        strcat(got, ";");
    }
    corm_capture_end(c);
    assert_string_equal(got, "3,4,5;;");
    assert_int_equal(corm_capture_count(c), 2);
    assert_string_equal(key_passing(c, 1), "param");
    corm_capture_free(c);
    corm_qs_free(qs);

    /* a slice: its keys */
    qs = authors();
    corm_slice(qs, 0, 1);
    corm_prefetch_related(qs, "books");
    c = corm_capture_begin(db, "keys");
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_capture_end(c);
    assert_string_equal(list_ids(author_books(corm_qs_at(qs, 0))), "1,2");
    assert_string_equal(key_passing(c, 1), "param");
    corm_capture_free(c);
    corm_qs_free(qs);

    /* a nullable foreign key: the rows that have a parent */
    corm_qs *pubs = corm_all(db, Publisher);
    corm_prefetch_related(pubs, "books");
    c = corm_capture_begin(db, "keys");
    assert_int_equal(corm_eval(pubs), CORM_OK);
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 2);
    assert_string_equal(key_passing(c, 1), "none");
    assert_non_null(strstr(corm_capture_event(c, 1)->sql, "\"publisher_id\" IS NOT NULL"));
    assert_string_equal(list_ids(publisher_books((Publisher *)corm_qs_at(pubs, 0))), "1,3,5");
    corm_capture_free(c);
    corm_qs_free(pubs);

    /* many-to-many, every book: the whole link table */
    qs = books_by_id();
    corm_prefetch_related(qs, "genres");
    got[0] = '\0';
    c = corm_capture_begin(db, "keys");
    Book *b;
    corm_foreach(b, qs)
    {
        strcat(got, list_ids(book_genres(b)));
        strcat(got, ";");
    }
    corm_capture_end(c);
    assert_int_equal(corm_capture_count(c), 2);
    assert_string_equal(key_passing(c, 1), "none");
    assert_string_equal(got, "1,2;1;1;1,3;3;;");
    corm_capture_free(c);
    corm_qs_free(qs);

    /* a forward foreign key keeps its keys (the target may be far larger) */
    qs = books_by_id();
    corm_prefetch_related(qs, "author");
    c = corm_capture_begin(db, "keys");
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_capture_end(c);
    assert_string_equal(key_passing(c, 1), "param");
    corm_capture_free(c);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reverse_fk),
        cmocka_unit_test(test_m2m_both_ways),
        cmocka_unit_test(test_nested_and_merged),
        cmocka_unit_test(test_prefetch_objects_to_attr),
        cmocka_unit_test(test_related_set_semantics),
        cmocka_unit_test(test_objects_in_hand_and_empty),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_one_snapshot),
        cmocka_unit_test(test_one_to_one_and_self),
        cmocka_unit_test(test_key_passing),
        cmocka_unit_test(test_many_parents),
    };
    return cmocka_run_group_tests_name("prefetch", tests, setup, teardown);
}
