/*
** test_json.c - objects, results and rows to JSON and JSON to new objects
** (include/corm/json.h): exact text, NULLs, deferred fields, nested loaded
** relations written with no query, the choice of fields, round trips
** through the database with every field type of the bookstore, and the
** validation error that names every bad field.
*/
#include "test.h"

#include <corm/json.h>
#include <stdlib.h>
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

/* j as compact text with sorted keys (then j is released). */
static const char *text(json_t *j)
{
    static char buf[8192];
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(s);
    snprintf(buf, sizeof buf, "%s", s);
    free(s);
    json_decref(j);
    return buf;
}

#define BOOK1_FIELDS                                                                    \
    "\"author_id\":1,\"description\":\"fixture\",\"featured\":false,\"id\":1,\"isbn\":" \
    "\"9780000000001\",\"pages\":1400,\"price\":\"10.50\",\"published_date\":"          \
    "\"1862-04-03\",\"publisher_id\":1,\"title\":\"Les Miserables\""

static void test_object_fields(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_error err;
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(text(corm_json_obj(corm_qs_at(qs, 0), NULL, &err)),
                            "{" BOOK1_FIELDS "}");
        /* a NULL foreign key is null */
        assert_string_equal(
            text(corm_json_obj(corm_qs_at(qs, 1), corm_json_fields("publisher"), &err)),
            "{\"publisher_id\":null}");
        /* flat: no relation (none is loaded here anyway), same fields */
        assert_string_equal(
            text(corm_json_obj(corm_qs_at(qs, 0), &(corm_json_opts){.flat = true}, &err)),
            "{" BOOK1_FIELDS "}");
    }
    /* an unknown name: CORM_SCHEMA with the names there are */
    assert_null(corm_json_obj(corm_qs_at(qs, 0), corm_json_fields("title", "titel"), &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_string_equal(err.message,
                        "corm_json: no field, relation or column called 'titel' on Book");
    assert_non_null(strstr(err.hint, "name one of: id, title, author, publisher,"));
    assert_null(corm_json_obj(NULL, NULL, &err));
    assert_int_equal(err.rc, CORM_MISUSE);
    corm_qs_free(qs);

    /* deferred fields are left out (the pk always loads), and reading
    ** them is not done for JSON: no query */
    qs = corm_all(db, Author);
    corm_only(qs, "name", "bio");
    corm_filter(qs, "pk", corm_int(1));
    Author *a = corm_get(qs);
    assert_non_null(a);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(text(corm_json_obj(a, NULL, &err)),
                            "{\"bio\":null,\"id\":1,\"name\":\"Victor Hugo\"}");
    }
    corm_qs_free(qs);
}

static void test_nested_no_query(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author__country", "publisher");
    corm_prefetch_related(qs, "genres");
    corm_qs *fantasy = corm_all(db, Genre);
    corm_filter(fantasy, "name", corm_text("Fantasy"));
    corm_prefetch(qs, "genres", fantasy, "fantasy");
    corm_filter(qs, "pk__in", corm_ints((const int64_t[]){1, 4}, 2));
    corm_order_by(qs, "id");
    corm_only(qs, "title", "author__name", "author__country__code", "publisher__name");
    CORM_ASSERT_NUM_QUERIES(db, 3) { assert_int_equal(corm_eval(qs), CORM_OK); }
    corm_error err;
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(
            text(corm_json_qs(qs, NULL, &err)),
            "[{\"author\":{\"country\":{\"code\":\"FR\",\"id\":1},\"country_id\":1,\"id\":1,"
            "\"name\":\"Victor Hugo\"},\"author_id\":1,\"fantasy\":[],\"genres\":[{\"id\":1,"
            "\"name\":\"Fiction\"},{\"id\":2,\"name\":\"History\"}],\"id\":1,\"publisher\":{"
            "\"id\":1,\"name\":\"Gallimard\"},\"publisher_id\":1,\"title\":\"Les Miserables\"},"
            "{\"author\":{\"country\":{\"code\":\"JP\",\"id\":2},\"country_id\":2,\"id\":2,"
            "\"name\":\"Haruki Murakami\"},\"author_id\":2,\"fantasy\":[{\"id\":3,\"name\":"
            "\"Fantasy\"}],\"genres\":[{\"id\":1,\"name\":\"Fiction\"},{\"id\":3,\"name\":"
            "\"Fantasy\"}],\"id\":4,\"publisher\":null,\"publisher_id\":null,\"title\":"
            "\"Kafka on the Shore\"}]");
        /* a choice of fields: the fk's name picks its key and its object */
        assert_string_equal(text(corm_json_qs(qs, corm_json_fields("title", "publisher"), &err)),
                            "[{\"publisher\":{\"id\":1,\"name\":\"Gallimard\"},\"publisher_id\":1,"
                            "\"title\":\"Les Miserables\"},{\"publisher\":null,\"publisher_id\":"
                            "null,\"title\":\"Kafka on the Shore\"}]");
    }
    corm_qs_free(qs);

    /* a reverse fk prefetched: each book's author is the one being written
    ** (the back-reference), not nested again */
    qs = corm_all(db, Author);
    corm_filter(qs, "pk", corm_int(2));
    corm_qs *books = corm_all(db, Book);
    corm_only(books, "title", "author");
    corm_order_by(books, "id");
    corm_prefetch(qs, "books", books, NULL);
    corm_only(qs, "name");
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_int_equal(corm_eval(qs), CORM_OK); }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(text(corm_json_qs(qs, NULL, &err)),
                            "[{\"books\":[{\"author_id\":2,\"id\":3,\"title\":\"Norwegian Wood\"},"
                            "{\"author_id\":2,\"id\":4,\"title\":\"Kafka on the Shore\"},{"
                            "\"author_id\":2,\"id\":5,\"title\":\"1Q84\"}],\"id\":2,\"name\":"
                            "\"Haruki Murakami\"}]");
    }
    corm_qs_free(qs);

    /* not evaluated: refused, and still no query */
    qs = corm_all(db, Book);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(corm_json_qs(qs, NULL, &err)); }
    assert_int_equal(err.rc, CORM_MISUSE);
    assert_string_equal(err.message, "corm_json_qs: the queryset is not evaluated");
    corm_qs_free(qs);
}

static void test_rows(void **state)
{
    (void)state;
    corm_error err;
    /* values(): columns by name, decimals exact, dates as stored */
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "id", "price", "published_date", "author__name", "featured");
    corm_filter(qs, "pk__lte", corm_int(2));
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(text(corm_json_qs(qs, NULL, &err)),
                            "[{\"author__name\":\"Victor Hugo\",\"featured\":false,\"id\":1,"
                            "\"price\":\"10.50\",\"published_date\":\"1862-04-03\"},{"
                            "\"author__name\":\"Victor Hugo\",\"featured\":false,\"id\":2,"
                            "\"price\":\"11.50\",\"published_date\":\"1831-01-14\"}]");
        assert_string_equal(text(corm_json_qs(qs, corm_json_fields("id"), &err)),
                            "[{\"id\":1},{\"id\":2}]");
    }
    assert_null(corm_json_qs(qs, corm_json_fields("title"), &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_string_equal(err.hint, "name one of: id, price, published_date, author__name, featured");
    corm_qs_free(qs);

    /* annotate() on objects: the annotation is a key */
    qs = corm_all(db, Author);
    corm_annotate(qs, "nbooks", corm_Count(qs, "books", false));
    corm_only(qs, "name");
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(text(corm_json_qs(qs, corm_json_fields("name", "nbooks"), &err)),
                            "[{\"name\":\"Victor Hugo\",\"nbooks\":2},{\"name\":\"Haruki "
                            "Murakami\",\"nbooks\":3},{\"name\":\"Anonymous\",\"nbooks\":1},{"
                            "\"name\":\"Mario Vargas Llosa\",\"nbooks\":0}]");
    }
    corm_qs_free(qs);

    /* aggregate(): one row */
    qs = corm_all(db, Book);
    corm_aggregate(qs, "total_pages", corm_Sum(qs, "pages"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_string_equal(text(corm_json_qs(qs, NULL, &err)), "[{\"total_pages\":4269}]");
    corm_qs_free(qs);
}

/* Every field of obj read back, through JSON, into a new object saved and
** loaded again: the same JSON but for the id and what the schema sets. */
static void test_round_trips(void **state)
{
    (void)state;
    corm_error err;
    /* every field type of the bookstore: char, email, text, integer,
    ** bigint, decimal, bool, date, datetime, json, fk, one_to_one, NULLs */
    User u = CORM_NEW(User);
    u.email = "ann@example.com";
    u.name = "Ann \"Q\" \xc3\x89lise"; /* quotes and UTF-8 */
    u.tenant_id = 5000000000LL;
    TEST_OK_DB(db, corm_save(db, &u));
    Profile pr = CORM_NEW(Profile);
    pr.user_id = u.id;
    pr.bio = "line\nbreak";
    TEST_OK_DB(db, corm_save(db, &pr));
    Category cat = CORM_NEW(Category);
    cat.name = "Tools";
    TEST_OK_DB(db, corm_save(db, &cat));
    Product p = CORM_NEW(Product);
    p.name = "Hammer";
    p.category_id = cat.id;
    p.price = corm_dec("123456.78");
    p.metadata = "{\"tags\":[\"a\",\"b\"],\"weight\":1.5}";
    TEST_OK_DB(db, corm_save(db, &p));
    Order o = CORM_NEW(Order);
    o.user_id = u.id;
    o.product_id = p.id;
    o.total = corm_dec("0.1");
    o.created_at = "2024-05-01 10:00:00.5";
    TEST_OK_DB(db, corm_save(db, &o));

    struct {
        const corm_model *m;
        int64_t id;
        const void *init;
    } cases[] = {
        {&User_model, u.id, &CORM_NEW(User)},       {&Profile_model, pr.id, &CORM_NEW(Profile)},
        {&Product_model, p.id, &CORM_NEW(Product)}, {&Order_model, o.id, &CORM_NEW(Order)},
        {&Book_model, 2, &CORM_NEW(Book)},
    };
    const char *want[] = {
        "{\"account_manager_id\":null,\"email\":\"ann@example.com\",\"id\":%lld,\"is_active\":"
        "true,\"name\":\"Ann \\\"Q\\\" \xc3\x89lise\",\"tenant_id\":5000000000}",
        "{\"bio\":\"line\\nbreak\",\"id\":%lld,\"user_id\":%lld}",
        "{\"category_id\":%lld,\"description\":null,\"id\":%lld,\"metadata\":{\"tags\":[\"a\","
        "\"b\"],\"weight\":1.5},\"name\":\"Hammer\",\"price\":\"123456.78\"}",
        NULL,
        NULL,
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        corm_qs *qs = corm_qs_new_at(db, cases[i].m, CORM_SITE);
        corm_filter(qs, "pk", corm_int(cases[i].id));
        void *obj = corm_get(qs);
        assert_non_null(obj);
        json_t *j = corm_json_obj(obj, NULL, &err);
        assert_non_null(j);
        char *before = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (i == 0) {
            char w[512];
            snprintf(w, sizeof w, want[0], (long long)u.id);
            assert_string_equal(before, w);
        } else if (i == 1) {
            char w[512];
            snprintf(w, sizeof w, want[1], (long long)pr.id, (long long)u.id);
            assert_string_equal(before, w);
        } else if (i == 2) {
            char w[512];
            snprintf(w, sizeof w, want[2], (long long)cat.id, (long long)p.id);
            assert_string_equal(before, w);
        }
        /* JSON -> a new object -> the database -> JSON */
        if (cases[i].m == &Profile_model) {
            User u2 = CORM_NEW(User);
            u2.email = "bob@example.com";
            u2.name = "Bob";
            TEST_OK_DB(db, corm_save(db, &u2));
            json_object_set_new(j, "user_id", json_integer(u2.id));
        }
        if (cases[i].m == &User_model) json_object_set_new(j, "email", json_string("c@x.org"));
        if (cases[i].m == &Book_model) json_object_set_new(j, "isbn", json_string("9781111111111"));
        void *fresh = corm_json_new_from(cases[i].init, j, NULL, &err);
        if (!fresh) fail_msg("%s: %s", cases[i].m->name, err.message);
        TEST_OK_DB(db, corm_save(db, fresh));
        int64_t id = *(int64_t *)((char *)fresh + cases[i].m->fields[0].offset);
        assert_true(id > cases[i].id);
        corm_json_free(fresh);
        corm_qs *again = corm_qs_new_at(db, cases[i].m, CORM_SITE);
        corm_filter(again, "pk", corm_int(id));
        json_t *j2 = corm_json_obj(corm_get(again), NULL, &err);
        assert_non_null(j2);
        /* the same but for the id (and the keys changed above) */
        json_object_set_new(j2, "id", json_integer(cases[i].id));
        char *after = json_dumps(j2, JSON_COMPACT | JSON_SORT_KEYS);
        char *edited = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(after, edited);
        free(before);
        free(after);
        free(edited);
        json_decref(j);
        json_decref(j2);
        corm_qs_free(again);
        corm_qs_free(qs);
    }
}

static void test_validation(void **state)
{
    (void)state;
    corm_error err;
    char title[260];
    memset(title, 'x', 201);
    title[201] = '\0';
    json_error_t jerr;
    json_t *in = json_pack_ex(&jerr, 0, "{s:s, s:s, s:s, s:s, s:s, s:i, s:n, s:s, s:s}", "title",
                              title, "author_id", "1", "pages", "12", "price", "1234567.891",
                              "published_date", "2023-02-29", "featured", 1, "description", "isbn",
                              "9780000000099", "unknown", "ignored");
    assert_non_null(in);
    json_t *errors = json_object();
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_null(corm_json_new(Book, in, errors, &err)); }
    assert_int_equal(err.rc, CORM_INVALID);
    assert_string_equal(err.message,
                        "Book: 7 invalid fields: title: 201 characters, max_length is 200; "
                        "author: expected an integer, got a string; published_date: not a "
                        "date (\"YYYY-MM-DD\", a real day); pages: expected an integer, got a "
                        "string; price: more than 8 digits in total (decimal(8, 2)); "
                        "description: may not be null; featured: expected true or false, got "
                        "an integer");
    assert_string_equal(text(errors),
                        "{\"author\":\"expected an integer, got a string\",\"description\":\"may "
                        "not be null\",\"featured\":\"expected true or false, got an "
                        "integer\",\"pages\":\"expected an integer, got a string\",\"price\":"
                        "\"more than 8 digits in total (decimal(8, 2))\",\"published_date\":\"not "
                        "a date (\\\"YYYY-MM-DD\\\", a real day)\",\"title\":\"201 characters, "
                        "max_length is 200\"}");
    json_decref(in);

    /* required fields, decimal places and digits before the point, email,
    ** datetime, range */
    in = json_pack("{s:s, s:f, s:s, s:s}", "name", "x", "price", 1.234, "status", "new",
                   "created_at", "2024-05-01T10:00:00Z");
    assert_null(corm_json_new(Order, in, NULL, &err));
    assert_string_equal(err.message,
                        "Order: 3 invalid fields: user: required; total: required; created_at: "
                        "not a datetime (UTC \"YYYY-MM-DD HH:MM:SS[.ffffff]\", no 'T', no offset)");
    json_decref(in);
    in = json_pack("{s:s, s:i, s:s}", "name", "x", "category_id", 1, "price", "123456789");
    assert_null(corm_json_new(Product, in, NULL, &err));
    assert_string_equal(err.message, "Product: 1 invalid field: price: more than 8 digits in total "
                                     "(decimal(8, 2))");
    json_decref(in);
    in = json_pack("{s:s, s:i, s:s}", "name", "x", "category_id", 1, "price", "1234567.5");
    assert_null(corm_json_new(Product, in, NULL, &err));
    assert_string_equal(err.message, "Product: 1 invalid field: price: more than 6 digits before "
                                     "the decimal point (decimal(8, 2))");
    json_decref(in);
    in = json_pack("{s:s, s:i, s:f}", "name", "x", "category_id", 1, "price", 19.999);
    assert_null(corm_json_new(Product, in, NULL, &err));
    assert_string_equal(err.message, "Product: 1 invalid field: price: more than 2 decimal "
                                     "places (decimal(8, 2))");
    json_decref(in);
    in = json_pack("{s:s, s:s, s:i}", "email", "not-an-email", "name", "x", "tenant_id", 1);
    assert_null(corm_json_new(User, in, NULL, &err));
    assert_string_equal(err.message,
                        "User: 1 invalid field: email: not an email address (local@domain)");
    json_decref(in);
    in = json_pack("{s:i, s:i, s:I, s:s}", "order_id", 1, "product_id", 1, "quantity",
                   (json_int_t)5000000000LL, "price", "1.00");
    assert_null(corm_json_new(OrderItem, in, NULL, &err));
    assert_string_equal(err.message, "OrderItem: 1 invalid field: quantity: out of range for an "
                                     "integer field (-2147483648 to 2147483647)");
    json_decref(in);

    /* a good one: defaults kept, null for a nullable fk, strings copied,
    ** the id read-only; saved and read back */
    in = json_pack("{s:i, s:s, s:i, s:s, s:s, s:i, s:f, s:s, s:n, s:s}", "id", 99, "title", "Dune",
                   "author", 3, "isbn", "9780441172719", "published_date", "1965-08-01", "pages",
                   412, "price", 19.9, "description", "sand", "publisher", "nested", "ignored");
    Book *b = corm_json_new(Book, in, NULL, &err);
    json_decref(in);
    if (!b) fail_msg("%s", err.message);
    assert_int_equal(b->id, 0);
    assert_false(b->featured);
    assert_true(corm_is_null(b, "publisher"));
    assert_string_equal(b->title, "Dune");
    TEST_OK_DB(db, corm_save(db, b));
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(b->id));
    char want[512];
    snprintf(want, sizeof want,
             "{\"author_id\":3,\"description\":\"sand\",\"featured\":false,\"id\":%lld,"
             "\"isbn\":\"9780441172719\",\"pages\":412,\"price\":\"19.90\",\"published_date\":"
             "\"1965-08-01\",\"publisher_id\":null,\"title\":\"Dune\"}",
             (long long)b->id);
    assert_string_equal(text(corm_json_obj(corm_get(qs), NULL, &err)), want);
    Book *got = corm_get(qs);
    assert_string_equal(got->title, "Dune");
    assert_int_equal(got->author_id, 3);
    assert_true(corm_is_null(got, "publisher"));
    assert_string_equal(got->published_date, "1965-08-01");
    assert_int_equal(corm_dec_cmp(got->price, corm_dec("19.90")), 0);
    corm_qs_free(qs);
    corm_json_free(b);

    /* not an object */
    json_t *arr = json_array();
    assert_null(corm_json_new(Book, arr, NULL, &err));
    assert_int_equal(err.rc, CORM_MISUSE);
    assert_string_equal(err.message,
                        "corm_json_new: a Book is made from a JSON object, not this JSON value");
    json_decref(arr);
}

/* The two field types the bookstore lacks, float and blob, on a model made
** by hand as `corm gen` would (in memory: no table). */
typedef struct Sample {
    corm_obj _corm;
    int64_t id;
    double ratio;
    corm_blob data;
    void *_corm_rel[1];
} Sample;
static const corm_field sample_fields[] = {
    {"id", "id", CORM_FT_BIGINT, CORM_FF_PK, 0, 0, 0, NULL, offsetof(Sample, id), -1},
    {"ratio", "ratio", CORM_FT_FLOAT, CORM_FF_NULL, 0, 0, 0, NULL, offsetof(Sample, ratio), -1},
    {"data", "data", CORM_FT_BLOB, 0, 0, 0, 0, NULL, offsetof(Sample, data), -1},
};
static const corm_model Sample_model = {.name = "Sample",
                                        .table = "sample",
                                        .size = sizeof(Sample),
                                        .rel_offset = offsetof(Sample, _corm_rel),
                                        .fields = sample_fields,
                                        .nfields = 3};

static void test_float_blob(void **state)
{
    (void)state;
    corm_error err;
    const Sample init = {._corm = {.model = &Sample_model, .nulls = 0x2}};
    for (size_t n = 4; n <= 6; n++) {
        Sample s = init;
        s.id = 7;
        s.ratio = 0.25;
        s._corm.nulls = 0;
        s.data = (corm_blob){"\x00\x01\xff hi", n};
        json_t *j = corm_json_obj(&s, NULL, &err);
        char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        const char *want[] = {"{\"data\":\"AAH/IA==\",\"id\":7,\"ratio\":0.25}",
                              "{\"data\":\"AAH/IGg=\",\"id\":7,\"ratio\":0.25}",
                              "{\"data\":\"AAH/IGhp\",\"id\":7,\"ratio\":0.25}"};
        assert_string_equal(t, want[n - 4]);
        free(t);
        Sample *back = corm_json_new_from(&init, j, NULL, &err);
        json_decref(j);
        if (!back) fail_msg("%s", err.message);
        assert_int_equal(back->id, 0); /* the primary key is not read */
        assert_true(back->ratio == 0.25);
        assert_int_equal(back->data.len, n);
        assert_memory_equal(back->data.data, "\x00\x01\xff hi", n);
        corm_json_free(back);
    }
    /* NULL, an integer for a float, bad base64, a missing blob */
    json_t *in = json_pack("{s:n, s:s}", "ratio", "data", "AAH");
    assert_null(corm_json_new_from(&init, in, NULL, &err));
    assert_string_equal(err.message, "Sample: 1 invalid field: data: not base64 text");
    json_decref(in);
    in = json_pack("{s:i}", "ratio", 2);
    Sample *s = corm_json_new_from(&init, in, NULL, &err);
    assert_null(s);
    assert_string_equal(err.message, "Sample: 1 invalid field: data: required");
    json_object_set_new(in, "data", json_string(""));
    s = corm_json_new_from(&init, in, NULL, &err);
    assert_non_null(s);
    assert_true(s->ratio == 2.0);
    assert_false(corm_is_null(s, "ratio"));
    assert_int_equal(s->data.len, 0);
    assert_string_equal(text(corm_json_obj(s, NULL, &err)),
                        "{\"data\":\"\",\"id\":0,\"ratio\":2.0}");
    corm_json_free(s);
    json_decref(in);
}

/* Decimal columns of values() and aggregate() rows (a field, a Sum, Min,
** Max of one) are written at the field's scale on both backends. */
static void test_decimal_cells(void **state)
{
    (void)state;
    corm_error err;
    corm_qs *qs = corm_all(db, Book);
    corm_values_flat(qs, "price");
    corm_filter(qs, "pk__lte", corm_int(2));
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_string_equal(text(corm_json_qs(qs, NULL, &err)),
                        "[{\"price\":\"10.50\"},{\"price\":\"11.50\"}]");
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_filter(qs, "pk__lte", corm_int(2));
    corm_aggregate(qs, "total", corm_Sum(qs, "price"));
    corm_aggregate(qs, "low", corm_Min(qs, "price"));
    corm_aggregate(qs, "high", corm_Max(qs, "price"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(text(corm_json_qs(qs, NULL, &err)),
                            "[{\"high\":\"11.50\",\"low\":\"10.50\",\"total\":\"22.00\"}]");
    }
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_fields), cmocka_unit_test(test_nested_no_query),
        cmocka_unit_test(test_rows),          cmocka_unit_test(test_decimal_cells),
        cmocka_unit_test(test_round_trips),   cmocka_unit_test(test_validation),
        cmocka_unit_test(test_float_blob),
    };
    return cmocka_run_group_tests_name("json", tests, setup, teardown);
}
