/*
** test_new_objects.c - new objects start right (issue 15), on both
** backends: CORM_NEW leaves nullable fields NULL and fields with a schema
** default at it; a value assigned in plain C makes a nullable field non-NULL
** (new and loaded objects alike); a required field left unset is refused
** before any SQL, naming the field, by save, create, bulk_create,
** bulk_update and update_or_create; auto_now / auto_now_add values are
** written back into new objects, one at a time and in bulk; dates and
** datetimes checked on write, and the struct tm / time_t helpers.
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

#define OK_DB(call) TEST_OK_DB(db, call)
#define scalar(sql) test_scalar(db, (sql))

static void test_new_nulls_and_defaults(void **state)
{
    (void)state;
    /* the README's Author: no corm_set_null anywhere */
    Author a = CORM_NEW(Author);
    assert_true(corm_is_null(&a, "country"));
    assert_true(corm_is_null(&a, "bio"));
    assert_false(corm_is_null(&a, "name"));
    a.name = "Ursula K. Le Guin";
    a.email = "ursula@example.com";
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_save(db, &a)); }
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM author WHERE id = %lld AND country_id IS NULL AND bio IS NULL",
             (long long)a.id);
    assert_string_equal(scalar(sql), "1");

    /* assigned in plain C: no longer NULL */
    Author b = CORM_NEW(Author);
    b.name = "Ted Chiang";
    b.email = "ted@example.com";
    b.country_id = 2;
    b.bio = "Stories of your life";
    assert_false(corm_is_null(&b, "country"));
    assert_false(corm_is_null(&b, "bio"));
    OK_DB(corm_save(db, &b));
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM author WHERE id = %lld AND country_id = 2 AND "
             "bio = 'Stories of your life'",
             (long long)b.id);
    assert_string_equal(scalar(sql), "1");
    /* corm_set_null(true) wins again, and clears the C value */
    corm_set_null(&b, "bio", true);
    assert_null(b.bio);
    OK_DB(corm_save(db, &b));
    snprintf(sql, sizeof sql, "SELECT count(*) FROM author WHERE id = %lld AND bio IS NULL",
             (long long)b.id);
    assert_string_equal(scalar(sql), "1");

    /* defaults are in the C object before the save, as Django's Model() */
    User u = CORM_NEW(User);
    assert_true(u.is_active);
    assert_int_equal(u.tenant_id, 1);
    assert_true(corm_is_null(&u, "account_manager"));
    u.email = "new@example.com";
    u.name = "New";
    OK_DB(corm_save(db, &u));
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM users WHERE id = %lld AND is_active AND tenant_id = 1 AND "
             "account_manager_id IS NULL",
             (long long)u.id);
    assert_string_equal(scalar(sql), "1");
    Order o = CORM_NEW(Order);
    assert_string_equal(o.status, "new");
    assert_int_equal(o.tenant_id, 1);
    assert_true(corm_is_null(&o, "product"));
    assert_true(corm_is_null(&o, "payment_method"));
    Book bk = CORM_NEW(Book);
    assert_false(bk.featured);
    assert_true(corm_is_null(&bk, "publisher"));
    assert_true(corm_is_null(&bk, "published_date"));

    /* a loaded object with a NULL field: a plain C assignment is saved */
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "pk", corm_int(3)); /* Anonymous, no country */
    Author *anon = corm_get(qs);
    assert_non_null(anon);
    assert_true(corm_is_null(anon, "country"));
    anon->country_id = 3;
    assert_false(corm_is_null(anon, "country"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_save(db, anon)); }
    corm_qs_free(qs);
    assert_string_equal(scalar("SELECT country_id FROM author WHERE id = 3"), "3");

    /* bulk_create: every object's unset nullable fields go in as NULL */
    Author many[3] = {CORM_NEW(Author), CORM_NEW(Author), CORM_NEW(Author)};
    static const char *const names[3] = {"Bulk A", "Bulk B", "Bulk C"};
    for (int i = 0; i < 3; i++) {
        many[i].name = (char *)names[i];
        many[i].email = "bulk@example.com";
    }
    many[1].country_id = 1;
    OK_DB(corm_bulk_create_array(db, many, 3, NULL));
    assert_string_equal(scalar("SELECT count(*) FROM author WHERE name LIKE 'Bulk %' AND "
                               "country_id IS NULL AND bio IS NULL"),
                        "2");
    assert_string_equal(scalar("SELECT country_id FROM author WHERE name = 'Bulk B'"), "1");
}

static void test_required_refused(void **state)
{
    (void)state;
    const corm_error *e = corm_db_error(db);
    /* a Book with its title left unset: no SQL, the field named */
    Book b = CORM_NEW(Book);
    b.author_id = 1;
    b.isbn = "9781111111111";
    b.description = "";
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_save(db, &b), CORM_CONSTRAINT); }
    assert_int_equal(e->constraint, CORM_CK_NOT_NULL);
    assert_string_equal(e->constraint_name, "book.title");
    assert_string_equal(e->values, "title=NULL");
    assert_string_equal(e->message, "insert of Book: field 'title' is required (NOT NULL, no "
                                    "default) and is NULL (unset); nothing was sent to the "
                                    "database");
    assert_string_equal(e->hint, "set title before saving, or declare `title` with `null` or "
                                 "`default=` in the schema");
    assert_int_equal(b.id, 0);
    /* a required fk left 0 */
    b.title = "Untitled";
    b.author_id = 0;
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_create(db, &b), CORM_CONSTRAINT); }
    assert_string_equal(e->values, "author_id=0");
    assert_non_null(strstr(e->message, "field 'author' is required"));
    assert_non_null(strstr(e->hint, "set author_id to the id of a saved Author"));
    /* fixed: one INSERT; featured took its default, published_date NULL */
    b.author_id = 1;
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_save(db, &b)); }
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM book WHERE id = %lld AND NOT featured AND published_date IS "
             "NULL AND publisher_id IS NULL",
             (long long)b.id);
    assert_string_equal(scalar(sql), "1");
    /* an UPDATE that would write NULL into a required field */
    b.description = NULL;
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_save(db, &b), CORM_CONSTRAINT); }
    assert_non_null(strstr(e->message, "update of Book: field 'description' is required"));

    /* bulk_create: object 3 of 4, nothing sent */
    Genre g[4] = {CORM_NEW(Genre), CORM_NEW(Genre), CORM_NEW(Genre), CORM_NEW(Genre)};
    g[0].name = "Poetry";
    g[1].name = "Drama";
    g[3].name = "Essay";
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_bulk_create_array(db, g, 4, NULL), CORM_CONSTRAINT);
    }
    assert_int_equal(e->row, 3);
    assert_string_equal(e->message, "bulk_create of Genre: object 3: field 'name' is required "
                                    "(NOT NULL, no default) and is NULL (unset); nothing was "
                                    "sent to the database");
    for (int i = 0; i < 4; i++) assert_int_equal(g[i].id, 0);
    assert_string_equal(scalar("SELECT count(*) FROM genre"), "3");

    /* bulk_update of a field made NULL */
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    OK_DB(corm_eval(qs));
    Book *b1 = corm_qs_at(qs, 0), *b2 = corm_qs_at(qs, 1);
    b2->title = NULL;
    void *objs[2] = {b1, b2};
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_bulk_update(db, objs, 2, "title"), -1); }
    assert_int_equal(e->row, 2);
    assert_non_null(strstr(e->message, "bulk_update of Book: object 2: field 'title'"));
    corm_qs_free(qs);

    /* update_or_create that would create an incomplete object: only the
    ** lookup runs */
    qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("Poetry"));
    Genre unnamed = CORM_NEW(Genre);
    bool created = true;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_null(corm_update_or_create(qs, &unnamed, NULL, &created));
    }
    assert_false(created);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_CONSTRAINT);
    assert_non_null(strstr(corm_qs_error(qs)->message, "field 'name' is required"));
    corm_qs_free(qs);
}

static void test_auto_now_written_back(void **state)
{
    (void)state;
    /* auto_now_add on a new object: the value it got is in the struct */
    Comment c = CORM_NEW(Comment);
    c.post_id = 0;
    assert_true(corm_is_null(&c, "author"));
    Post p = CORM_NEW(Post);
    p.title = "Hello";
    p.body = "World";
    OK_DB(corm_save(db, &p));
    c.post_id = p.id;
    c.body = "First";
    assert_null(c.created_at);
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_save(db, &c)); }
    assert_non_null(c.created_at);
    assert_int_equal(strlen(c.created_at), 26); /* YYYY-MM-DD HH:MM:SS.ffffff */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM comment WHERE id = %lld AND author_id IS NULL",
             (long long)c.id);
    assert_string_equal(scalar(sql), "1");
    corm_qs *qs = corm_all(db, Comment);
    corm_filter(qs, "pk", corm_int(c.id));
    Comment *back = corm_get(qs);
    assert_non_null(back);
    assert_int_equal(strncmp(back->created_at, c.created_at, 19), 0);
    corm_qs_free(qs);

    /* in bulk: each object gets the call's value */
    Comment cs[2] = {CORM_NEW(Comment), CORM_NEW(Comment)};
    for (int i = 0; i < 2; i++) {
        cs[i].post_id = p.id;
        cs[i].body = "Bulk";
    }
    OK_DB(corm_bulk_create_array(db, cs, 2, NULL));
    assert_non_null(cs[0].created_at);
    assert_non_null(cs[1].created_at);
    assert_string_equal(cs[0].created_at, cs[1].created_at);

    /* auto_now on a new object made through update_or_create (Invoice:
    ** updated_at), the returned copy and the caller's object alike */
    OK_DB(corm_scope_set(db, "tenant_id", corm_int(1)));
    qs = corm_all(db, Invoice);
    corm_filter(qs, "number", corm_text("INV-NEW"));
    User u = CORM_NEW(User);
    u.email = "inv@example.com";
    u.name = "Invoiced";
    OK_DB(corm_save(db, &u));
    Invoice inv = CORM_NEW(Invoice);
    inv.user_id = u.id;
    inv.number = "INV-NEW";
    inv.tenant_id = 1;
    assert_true(corm_is_null(&inv, "order"));
    bool created = false;
    Invoice *got = corm_update_or_create(qs, &inv, NULL, &created);
    if (!got) {
        char b[2048];
        fail_msg("%s", corm_error_format(corm_qs_error(qs), b, sizeof b));
    }
    assert_true(created);
    assert_non_null(inv.updated_at);
    assert_string_equal(got->updated_at, inv.updated_at);
    assert_true(corm_is_null(got, "order"));
    corm_qs_free(qs);
}

static void test_dates_checked(void **state)
{
    (void)state;
    const corm_error *e = corm_db_error(db);
    /* impossible or malformed dates are refused before any SQL */
    static const char *const bad_dates[] = {
        "2023-02-29", "2024-13-01",          "2024-04-31", "2024-1-01",
        "yesterday",  "2024-05-01 10:00:00", "0000-01-01", ""};
    Book b = CORM_NEW(Book);
    b.title = "Dated";
    b.author_id = 1;
    b.isbn = "9782222222222";
    b.description = "";
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
        b.published_date = (char *)bad_dates[i];
        CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_save(db, &b), CORM_INVALID); }
        assert_non_null(strstr(e->message, "is not a real date (YYYY-MM-DD)"));
    }
    assert_string_equal(e->message, "insert of Book: published_date='' is not a real date "
                                    "(YYYY-MM-DD); nothing was sent to the database");
    assert_non_null(strstr(e->hint, "corm_date_from_tm"));
    b.published_date = "2024-02-29"; /* a leap day */
    OK_DB(corm_save(db, &b));
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM book WHERE id = %lld AND published_date = "
             "'2024-02-29'",
             (long long)b.id);
    assert_string_equal(scalar(sql), "1");

    /* datetimes: UTC text, no 'T', no offset, a real time */
    static const char *const bad_times[] = {"2024-05-01T10:00:00", "2024-05-01 10:00:00+02:00",
                                            "2024-05-01 24:00:00", "2024-05-01 10:60:00",
                                            "2024-05-01 10:00",    "2024-05-01 10:00:00.1234567",
                                            "2024-02-30 10:00:00", "2024-05-01"};
    User u = CORM_NEW(User);
    u.email = "dt@example.com";
    u.name = "Dt";
    OK_DB(corm_save(db, &u));
    Order o = CORM_NEW(Order);
    o.user_id = u.id;
    o.total = corm_dec("10");
    for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++) {
        o.created_at = (char *)bad_times[i];
        CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_save(db, &o), CORM_INVALID); }
        assert_non_null(strstr(e->message, "is not a real UTC datetime"));
    }
    /* in bulk: the object is named */
    Order os[2] = {CORM_NEW(Order), CORM_NEW(Order)};
    for (int i = 0; i < 2; i++) {
        os[i].user_id = u.id;
        os[i].total = corm_dec("1");
        os[i].created_at = "2024-05-01 10:00:00";
    }
    os[1].created_at = "2024-05-01 25:00:00";
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_bulk_create_array(db, os, 2, NULL), CORM_INVALID);
    }
    assert_int_equal(e->row, 2);
    assert_non_null(strstr(e->message, "bulk_create of Order: object 2: created_at="));

    /* built from time_t / struct tm, read back, given with its offset */
    char dt[CORM_DATETIME_BUF], iso[CORM_DATETIME_ISO_BUF], day[CORM_DATE_BUF];
    assert_true(corm_datetime_from_time_t((time_t)1714557600, dt)); /* 2024-05-01 10:00 UTC */
    assert_string_equal(dt, "2024-05-01 10:00:00");
    o.created_at = dt;
    OK_DB(corm_save(db, &o));
    corm_qs *qs = corm_all(db, Order);
    corm_filter(qs, "pk", corm_int(o.id));
    Order *back = corm_get(qs);
    assert_non_null(back);
    time_t t = 0;
    assert_true(corm_datetime_to_time_t(back->created_at, &t));
    assert_int_equal((long long)t, 1714557600LL);
    assert_string_equal(corm_datetime_iso(back->created_at, iso), "2024-05-01T10:00:00+00:00");
    corm_qs_free(qs);
    struct tm tm;
    assert_true(corm_datetime_to_tm("2024-02-29 23:59:59.5", &tm));
    assert_int_equal(tm.tm_year, 124);
    assert_int_equal(tm.tm_mon, 1);
    assert_int_equal(tm.tm_mday, 29);
    assert_int_equal(tm.tm_wday, 4); /* a Thursday */
    assert_int_equal(tm.tm_yday, 59);
    assert_true(corm_date_from_tm(&tm, day));
    assert_string_equal(day, "2024-02-29");
    tm.tm_mday = 30;
    assert_false(corm_date_from_tm(&tm, day));
    assert_string_equal(day, "");
    assert_string_equal(corm_datetime_iso("2024-05-01 10:00:00.25", iso),
                        "2024-05-01T10:00:00.25+00:00");
    assert_null(corm_datetime_iso("2024-05-01T10:00:00", iso));
    assert_true(corm_datetime_to_time_t("1969-12-31", &t));
    assert_int_equal((long long)t, -86400LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_nulls_and_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_now_written_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dates_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
