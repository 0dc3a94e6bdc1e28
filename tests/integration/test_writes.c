/*
** test_writes.c - writes and transactions on a real database, each test on
** a fresh fixture (tests/support/test.h): save/create/delete, auto_now,
** get_or_create/update_or_create, every on_delete mode with Django's query
** counts, corm_atomic at every nesting level, bulk_create / bulk_update of
** 100,000 rows, a constraint failure at row 70,000 that writes nothing,
** queryset update() with F and delete(), typed constraint errors, and the
** default scopes (Invoice: tenant_id at run time, is_void = false).
*/
#include "test.h"
#include "sql/dialect.h"

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

#define OK_DB(call)                                                                         \
    do {                                                                                    \
        corm_rc rc_ = (call);                                                               \
        if (rc_ != CORM_OK) {                                                               \
            char b_[2048];                                                                  \
            fail_msg("%s: %s", #call, corm_error_format(corm_db_error(db), b_, sizeof b_)); \
        }                                                                                   \
    } while (0)

static int64_t count_of(const corm_model *m)
{
    corm_qs *qs = corm_qs_new_at(db, m, CORM_SITE);
    corm_unscoped(qs);
    int64_t n = corm_count(qs);
    if (n < 0) {
        char b[2048];
        fail_msg("count: %s", corm_error_format(corm_qs_error(qs), b, sizeof b));
    }
    corm_qs_free(qs);
    return n;
}
#define COUNT(Model) count_of(&Model##_model)

/* ids of Model matching lookup = v, by id, unscoped */
static const char *ids_where(const corm_model *m, const char *lookup, corm_value v)
{
    static char keep[1024];
    corm_qs *qs = corm_qs_new_at(db, m, CORM_SITE);
    corm_unscoped(qs);
    if (lookup) corm_filter(qs, lookup, v);
    corm_order_by(qs, "id");
    snprintf(keep, sizeof keep, "%s", test_ids(qs));
    corm_qs_free(qs);
    return keep;
}

static const char *scalar(const char *sql)
{
    static char keep[256];
    corm_qs *qs = corm_sql(db, sql, NULL, 0);
    keep[0] = '\0';
    if (corm_eval(qs) != CORM_OK) {
        char b[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_qs_error(qs), b, sizeof b));
    }
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    if (!v || v->type == CORM_V_NULL) snprintf(keep, sizeof keep, "NULL");
    else if (v->type == CORM_V_INT) snprintf(keep, sizeof keep, "%lld", (long long)v->u.i);
    else if (v->type == CORM_V_FLOAT) snprintf(keep, sizeof keep, "%g", v->u.f);
    else if (v->type == CORM_V_TEXT) snprintf(keep, sizeof keep, "%s", v->u.s.p);
    corm_qs_free(qs);
    return keep;
}

/* A user, a category, a product, an order of that product by the user with
** one item, a payment method: the shop rows the on_delete tests use. */
typedef struct shop {
    int64_t user, category, product, order, item, pm;
} shop;

static shop make_shop(const char *email)
{
    shop s;
    User u = CORM_NEW(User);
    u.email = (char *)email;
    u.name = "Shopper";
    u.is_active = true;
    u.tenant_id = 1;
    corm_set_null(&u, "account_manager", true);
    OK_DB(corm_save(db, &u));
    s.user = u.id;
    Category c = CORM_NEW(Category);
    c.name = "Books";
    OK_DB(corm_save(db, &c));
    s.category = c.id;
    Product p = CORM_NEW(Product);
    p.name = "Reading lamp";
    p.category_id = c.id;
    p.price = corm_dec("20");
    corm_set_null(&p, "description", true);
    corm_set_null(&p, "metadata", true);
    OK_DB(corm_save(db, &p));
    s.product = p.id;
    PaymentMethod pm = CORM_NEW(PaymentMethod);
    pm.user_id = u.id;
    pm.kind = "card";
    OK_DB(corm_save(db, &pm));
    s.pm = pm.id;
    Order o = CORM_NEW(Order);
    o.user_id = u.id;
    o.product_id = p.id;
    o.payment_method_id = pm.id;
    o.total = corm_dec("20");
    o.status = "paid";
    o.created_at = "2024-05-01 10:00:00";
    o.tenant_id = 1;
    OK_DB(corm_save(db, &o));
    s.order = o.id;
    OrderItem it = CORM_NEW(OrderItem);
    it.order_id = o.id;
    it.product_id = p.id;
    it.quantity = 1;
    it.price = corm_dec("20");
    OK_DB(corm_save(db, &it));
    s.item = it.id;
    return s;
}

/* ------------------------------------------------------------ single objects */

static void test_save_create_delete(void **state)
{
    (void)state;
    /* create with an explicit id inserts it */
    Genre g = CORM_NEW(Genre);
    g.id = 40;
    g.name = "Essay";
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_create(db, &g)); }
    assert_int_equal(g.id, 40);
    assert_string_equal(ids_where(&Genre_model, "name", corm_text("Essay")), "40");
    /* save with an id updates; an id that does not exist is NOTFOUND */
    g.name = "Essays";
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_save(db, &g)); }
    assert_string_equal(ids_where(&Genre_model, "name", corm_text("Essays")), "40");
    Genre ghost = CORM_NEW(Genre);
    ghost.id = 999;
    ghost.name = "Ghost";
    assert_int_equal(corm_save(db, &ghost), CORM_NOTFOUND);
    /* a duplicate unique value: typed, named, with the value */
    Genre dup = CORM_NEW(Genre);
    dup.name = "Fiction";
    assert_int_equal(corm_create(db, &dup), CORM_CONSTRAINT);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_UNIQUE);
    assert_string_equal(e->constraint_name, "genre.name");
    assert_string_equal(e->values, "name='Fiction'");
    assert_non_null(strstr(e->message, "Genre"));
    assert_int_equal(dup.id, 0);
    /* NOT NULL */
    Genre nameless = CORM_NEW(Genre);
    assert_int_equal(corm_create(db, &nameless), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->constraint, CORM_CK_NOT_NULL);
    assert_string_equal(corm_db_error(db)->values, "name=NULL");
    /* an object with nothing pointing at it: one DELETE, id back to 0 */
    Review r = CORM_NEW(Review);
    make_shop("r@example.com");
    r.book_id = 1;
    r.user_id = 1;
    r.rating = 5;
    r.body = "Great";
    r.created_at = "2024-01-01 00:00:00";
    OK_DB(corm_save(db, &r));
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_delete(db, &r)); }
    assert_int_equal(r.id, 0);
    assert_int_equal(COUNT(Review), 0);
    assert_int_equal(corm_delete(db, &r), CORM_MISUSE);
}

static void test_auto_now(void **state)
{
    (void)state;
    Post p = CORM_NEW(Post);
    p.title = "Hello";
    p.body = "...";
    OK_DB(corm_save(db, &p));
    Comment c = CORM_NEW(Comment);
    c.post_id = p.id;
    corm_set_null(&c, "author", true);
    c.body = "first";
    c.created_at = "1999-01-01 00:00:00"; /* auto_now_add wins, as Django */
    OK_DB(corm_save(db, &c));
    corm_qs *qs = corm_all(db, Comment);
    Comment *got = corm_get(qs);
    assert_non_null(got);
    /* YYYY-MM-DD HH:MM:SS.ffffff (PostgreSQL drops trailing zeros) */
    assert_true(strlen(got->created_at) >= 19);
    assert_true(strcmp(got->created_at, "2020-01-01") > 0);
    char created[32];
    snprintf(created, sizeof created, "%s", got->created_at);
    /* an update leaves auto_now_add alone */
    got->body = "edited";
    OK_DB(corm_save(db, got));
    corm_qs *again = corm_all(db, Comment);
    Comment *c2 = corm_get(again);
    assert_string_equal(c2->created_at, created);
    assert_string_equal(c2->body, "edited");
    corm_qs_free(again);
    corm_qs_free(qs);

    /* auto_now: set on every save, and on the loaded object itself */
    make_shop("a@example.com");
    assert_int_equal(corm_scope_set(db, "tenant_id", corm_int(1)), CORM_OK);
    Invoice inv = CORM_NEW(Invoice);
    inv.user_id = 1;
    corm_set_null(&inv, "order", true);
    inv.number = "A-1";
    inv.total = corm_dec("5");
    inv.tenant_id = 1;
    OK_DB(corm_save(db, &inv));
    corm_qs *iq = corm_all(db, Invoice);
    Invoice *li = corm_get(iq);
    assert_non_null(li);
    char first[32];
    snprintf(first, sizeof first, "%s", li->updated_at);
    li->total = corm_dec("6");
    OK_DB(corm_save(db, li));
    assert_true(strcmp(li->updated_at, first) >= 0);
    assert_true(strlen(li->updated_at) >= 19);
    corm_qs_free(iq);
}

static void test_get_or_create(void **state)
{
    (void)state;
    bool created = true;
    corm_qs *qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("Fiction"));
    Genre init = CORM_NEW(Genre);
    init.name = "Fiction";
    Genre *g;
    CORM_ASSERT_NUM_QUERIES(db, 1) { g = corm_get_or_create(qs, &init, &created); }
    assert_non_null(g);
    assert_false(created);
    assert_int_equal(g->id, 1);
    corm_qs_free(qs);

    qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("Poetry"));
    init.name = "Poetry";
    CORM_ASSERT_NUM_QUERIES(db, 2) { g = corm_get_or_create(qs, &init, &created); }
    assert_non_null(g);
    assert_true(created);
    assert_int_equal(g->id, 4);
    assert_int_equal(init.id, 4);
    assert_string_equal(g->name, "Poetry");
    /* the new object lives in qs: lazy accessors work */
    const corm_list *books = genre_books(g);
    assert_non_null(books);
    assert_int_equal(books->n, 0);
    corm_qs_free(qs);

    /* update_or_create: found -> UPDATE of the named fields */
    qs = corm_all(db, Book);
    corm_filter(qs, "isbn", corm_text("9780000000003"));
    Book b = CORM_NEW(Book);
    b.pages = 300;
    b.title = "Norwegian Wood (2nd ed.)";
    Book *got;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        got = corm_update_or_create(qs, &b, ((const char *const[]){"pages", "title", NULL}),
                                    &created);
    }
    assert_non_null(got);
    assert_false(created);
    assert_int_equal(got->id, 3);
    assert_int_equal(got->pages, 300);
    assert_string_equal(got->title, "Norwegian Wood (2nd ed.)");
    assert_string_equal(ids_where(&Book_model, "title", corm_text("Norwegian Wood (2nd ed.)")),
                        "3");
    corm_qs_free(qs);
    /* not found -> INSERT */
    qs = corm_all(db, Book);
    corm_filter(qs, "isbn", corm_text("9781111111111"));
    b.isbn = "9781111111111";
    b.author_id = 4;
    corm_set_null(&b, "publisher", true);
    corm_set_null(&b, "published_date", true);
    b.price = corm_dec("3");
    b.description = "new";
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        got = corm_update_or_create(qs, &b, ((const char *const[]){"pages", NULL}), &created);
    }
    assert_non_null(got);
    assert_true(created);
    assert_int_equal(got->id, 7);
    corm_qs_free(qs);
    /* several matches: CORM_MULTIPLE on the qs, nothing written */
    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    assert_null(corm_get_or_create(qs, &b, &created));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MULTIPLE);
    corm_qs_free(qs);
    assert_int_equal(COUNT(Book), 7);
}

/* ------------------------------------------------------------ on_delete */

static void test_cascade(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Author);
    corm_filter(qs, "pk", corm_int(1));
    Author *a = corm_get(qs);
    assert_non_null(a);
    /* SELECT books; DELETE reviews and book_genres of them (fast: nothing
    ** points at those); DELETE books; DELETE the author: 5, as Django */
    CORM_ASSERT_NUM_QUERIES(db, 5) { OK_DB(corm_delete(db, a)); }
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Book_model, NULL, corm_null()), "3,4,5,6");
    assert_string_equal(ids_where(&Author_model, NULL, corm_null()), "2,3,4");
    assert_string_equal(scalar("SELECT count(*) FROM book_genres"), "4");
    /* an author without books: the SELECT finds none, then the DELETE */
    Author four = CORM_NEW(Author);
    four.id = 4;
    four._corm.model = &Author_model;
    CORM_ASSERT_NUM_QUERIES(db, 2) { OK_DB(corm_delete(db, &four)); }
    /* a queryset: SELECT ids + the same fast deletes + DELETE, counted */
    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    int64_t n;
    CORM_ASSERT_NUM_QUERIES(db, 4) { n = corm_qs_delete(qs); }
    assert_int_equal(n, 3 + 4); /* books 3, 4, 5 and their 4 genre links */
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Book_model, NULL, corm_null()), "6");
    assert_string_equal(scalar("SELECT count(*) FROM book_genres"), "0");
}

static void test_set_null_and_m2m(void **state)
{
    (void)state;
    /* France: publishers and authors keep living, their country NULL */
    Country fr = CORM_NEW(Country);
    fr.id = 1;
    CORM_ASSERT_NUM_QUERIES(db, 3) { OK_DB(corm_delete(db, &fr)); }
    assert_string_equal(ids_where(&Author_model, "country__isnull", corm_bool(true)), "1,3");
    assert_string_equal(ids_where(&Publisher_model, "country__isnull", corm_bool(true)), "1");
    assert_int_equal(COUNT(Country), 2);
    /* an m2m target: SELECT its ids, DELETE the link rows (the books stay),
    ** DELETE it */
    corm_qs *qs = corm_all(db, Genre);
    corm_filter(qs, "pk", corm_int(1));
    int64_t n;
    CORM_ASSERT_NUM_QUERIES(db, 3) { n = corm_qs_delete(qs); }
    assert_int_equal(n, 4 + 1);
    corm_qs_free(qs);
    assert_int_equal(COUNT(Book), 6);
    assert_string_equal(scalar("SELECT count(*) FROM book_genres"), "3");
    /* a model nothing points at: a queryset delete is one DELETE */
    make_shop("s@example.com");
    qs = corm_all(db, OrderItem);
    CORM_ASSERT_NUM_QUERIES(db, 1) { n = corm_qs_delete(qs); }
    assert_int_equal(n, 1);
    corm_qs_free(qs);
}

static void test_protect(void **state)
{
    (void)state;
    shop s = make_shop("p@example.com");
    Product p = CORM_NEW(Product);
    p.id = s.product;
    /* one SELECT per protected relation (orders, order items), then the
    ** refusal naming every object; nothing deleted */
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_int_equal(corm_delete(db, &p), CORM_CONSTRAINT); }
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_PROTECT);
    assert_string_equal(e->constraint_name, "Order.product");
    assert_non_null(strstr(e->message, "Order.product"));
    assert_non_null(strstr(e->message, "OrderItem.product"));
    assert_string_equal(e->values, "Order 1; OrderItem 1");
    assert_int_equal(p.id, s.product);
    assert_int_equal(COUNT(Product), 1);
    assert_int_equal(COUNT(Order), 1);
    /* deleting the category cascades to the product, which is protected */
    corm_qs *qs = corm_all(db, Category);
    assert_int_equal(corm_qs_delete(qs), -1);
    assert_int_equal(corm_qs_error(qs)->constraint, CORM_CK_PROTECT);
    corm_qs_free(qs);
    assert_int_equal(COUNT(Category), 1);
    /* once the orders are gone, the product goes */
    qs = corm_all(db, Order);
    assert_int_equal(corm_qs_delete(qs), 2); /* the order and its item */
    corm_qs_free(qs);
    CORM_ASSERT_NUM_QUERIES(db, 3) { OK_DB(corm_delete(db, &p)); }
}

static void test_restrict(void **state)
{
    (void)state;
    shop s = make_shop("x@example.com");
    Profile pr = CORM_NEW(Profile);
    pr.user_id = s.user;
    pr.bio = "hi";
    OK_DB(corm_save(db, &pr));
    Invoice inv = CORM_NEW(Invoice);
    inv.user_id = s.user;
    inv.order_id = s.order;
    inv.number = "INV-1";
    inv.total = corm_dec("20");
    inv.tenant_id = 1;
    OK_DB(corm_save(db, &inv));
    /* the order itself: its invoice restricts it (one SELECT), nothing goes */
    Order o = CORM_NEW(Order);
    o.id = s.order;
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_delete(db, &o), CORM_CONSTRAINT); }
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_RESTRICT);
    assert_string_equal(e->constraint_name, "Invoice.order");
    assert_string_equal(e->values, "Invoice 1");
    assert_int_equal(COUNT(OrderItem), 1);
    /* the user: the cascade takes the order and the invoice, so the
    ** restriction does not apply.  SELECTs: payment methods, orders, the
    ** order's invoices (3); fast deletes: profile, reviews, invoices, order
    ** items (4); SET NULL: managed users, comments, orders' payment method
    ** (3); DELETE users, payment methods, orders (3).  Django: 14, one more
    ** SELECT to see the fast delete covers the restricted invoice. */
    User u = CORM_NEW(User);
    u.id = s.user;
    CORM_ASSERT_NUM_QUERIES(db, 13) { OK_DB(corm_delete(db, &u)); }
    assert_int_equal(COUNT(User), 0);
    assert_int_equal(COUNT(Order), 0);
    assert_int_equal(COUNT(OrderItem), 0);
    assert_int_equal(COUNT(Invoice), 0);
    assert_int_equal(COUNT(Profile), 0);
    assert_int_equal(COUNT(PaymentMethod), 0);
    assert_int_equal(COUNT(Product), 1);
}

/* ------------------------------------------------------------ transactions */

static Tag tag(const char *name)
{
    Tag t = CORM_NEW(Tag);
    t.name = (char *)name;
    return t;
}

static void test_nesting(void **state)
{
    (void)state;
    /* rollback at every level: each undoes exactly its own writes */
    for (int level = 1; level <= 3; level++) {
        OK_DB(corm_begin(db));
        Tag a = tag("level1");
        OK_DB(corm_save(db, &a));
        OK_DB(corm_begin(db));
        Tag b = tag("level2");
        OK_DB(corm_save(db, &b));
        OK_DB(corm_begin(db));
        Tag c = tag("level3");
        OK_DB(corm_save(db, &c));
        assert_int_equal(corm_tx_depth(db), 3);
        /* roll back `level` (counting from the innermost), commit the rest */
        for (int d = 3; d >= 1; d--) {
            if (d == 4 - level) OK_DB(corm_rollback(db));
            else OK_DB(corm_commit(db));
        }
        assert_int_equal(corm_tx_depth(db), 0);
        const char *want = level == 1 ? "2" : level == 2 ? "1" : "0";
        assert_string_equal(scalar("SELECT count(*) FROM tag"), want);
        OK_DB(corm_exec(db, "DELETE FROM tag"));
    }
}

static corm_rc add_tag(corm_db *d, void *ud)
{
    Tag t = tag(ud);
    return corm_save(d, &t);
}

static corm_rc inner_fails(corm_db *d, void *ud)
{
    (void)ud;
    Tag t = tag("inner");
    corm_rc rc = corm_save(d, &t);
    if (rc != CORM_OK) return rc;
    Tag bad = CORM_NEW(Tag); /* name NULL: NOT NULL constraint */
    return corm_save(d, &bad);
}

static corm_rc outer(corm_db *d, void *ud)
{
    int *inner_rc = ud;
    Tag t = tag("outer");
    corm_rc rc = corm_save(d, &t);
    if (rc != CORM_OK) return rc;
    *inner_rc = corm_atomic(d, inner_fails, NULL); /* rolled back alone */
    return corm_atomic(d, add_tag, "sibling");
}

static void test_atomic(void **state)
{
    (void)state;
    /* BEGIN, INSERT, COMMIT */
    CORM_ASSERT_NUM_QUERIES(db, 3) { OK_DB(corm_atomic(db, add_tag, "one")); }
    assert_string_equal(scalar("SELECT count(*) FROM tag"), "1");
    int inner_rc = CORM_OK;
    OK_DB(corm_atomic(db, outer, &inner_rc));
    assert_int_equal(inner_rc, CORM_CONSTRAINT);
    assert_string_equal(
        scalar(TEST_SQL("SELECT group_concat(name, ',') FROM (SELECT name FROM tag ORDER BY id)",
                        "SELECT string_agg(name, ',' ORDER BY id) FROM tag")),
        "one,outer,sibling");
    /* a failing block leaves its error on db and nothing written */
    assert_int_equal(corm_atomic(db, inner_fails, NULL), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->constraint, CORM_CK_NOT_NULL);
    assert_string_equal(scalar("SELECT count(*) FROM tag"), "3");
    assert_int_equal(corm_tx_depth(db), 0);
    /* a deferred foreign key fails the COMMIT, which rolls back */
    assert_int_equal(corm_commit(db), CORM_MISUSE);
}

/* ------------------------------------------------------------ bulk_create */

static void test_bulk_create_small(void **state)
{
    (void)state;
    Tag tags[5];
    Tag *ptrs[5];
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        tags[i] = tag(names[i]);
        ptrs[i] = &tags[i];
    }
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create(db, ptrs, 5, NULL)); }
    for (int i = 0; i < 5; i++) assert_int_equal(tags[i].id, i + 1);
    /* batches of 2: 3 INSERTs (the transaction around them is internal) */
    for (int i = 0; i < 5; i++) tags[i] = tag(names[i]);
    corm_bulk_opts two = {.batch_size = 2};
    CORM_ASSERT_NUM_QUERIES(db, 3) { OK_DB(corm_bulk_create_array(db, tags, 5, &two)); }
    for (int i = 0; i < 5; i++) assert_int_equal(tags[i].id, 6 + i);
    /* nothing to do: no query */
    CORM_ASSERT_NUM_QUERIES(db, 0) { OK_DB(corm_bulk_create(db, ptrs, 0, NULL)); }

    /* ignore_conflicts: the duplicate genre is skipped, ids left at 0 */
    Genre g[3] = {CORM_NEW(Genre), CORM_NEW(Genre), CORM_NEW(Genre)};
    g[0].name = "Poetry";
    g[1].name = "Fiction";
    g[2].name = "Drama";
    corm_bulk_opts ignore = {.ignore_conflicts = true};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, g, 3, &ignore)); }
    assert_int_equal(g[0].id, 0);
    assert_int_equal(COUNT(Genre), 5);

    /* update_conflicts: an upsert on isbn, ids of both kinds filled */
    Book b[2] = {CORM_NEW(Book), CORM_NEW(Book)};
    for (int i = 0; i < 2; i++) {
        b[i].author_id = 4;
        corm_set_null(&b[i], "publisher", true);
        corm_set_null(&b[i], "published_date", true);
        b[i].pages = 111;
        b[i].price = corm_dec("1");
        b[i].description = "upsert";
    }
    b[0].title = "Les Miserables (new)";
    b[0].isbn = "9780000000001";
    b[1].title = "Brand new";
    b[1].isbn = "9782222222222";
    corm_bulk_opts upsert = {.update_conflicts = true,
                             .unique_fields = (const char *const[]){"isbn", NULL},
                             .update_fields = (const char *const[]){"title", "pages", NULL}};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, b, 2, &upsert)); }
    /* the conflicting row took a sequence value before updating: ids skip */
    assert_int_equal(b[0].id, 1);
    assert_true(b[1].id > 6);
    char want[32];
    snprintf(want, sizeof want, "1,%lld", (long long)b[1].id);
    assert_string_equal(ids_where(&Book_model, "pages", corm_int(111)), want);
    assert_string_equal(ids_where(&Book_model, "author", corm_int(1)), "1,2"); /* not updated */
    /* misuse */
    corm_bulk_opts both = {.ignore_conflicts = true, .update_conflicts = true};
    assert_int_equal(corm_bulk_create_array(db, b, 2, &both), CORM_INVALID);
    corm_bulk_opts nofields = {.update_conflicts = true,
                               .unique_fields = (const char *const[]){"isbn", NULL}};
    assert_int_equal(corm_bulk_create_array(db, b, 2, &nofields), CORM_INVALID);
    void *mixed[2] = {&b[0], &g[0]};
    assert_int_equal(corm_bulk_create(db, mixed, 2, NULL), CORM_MISUSE);
}

#define BIG 100000

typedef struct big {
    Book *books;
    char (*isbn)[16];
} big;

static big big_books(void)
{
    big g = {calloc(BIG, sizeof(Book)), calloc(BIG, 16)};
    assert_non_null(g.books);
    assert_non_null(g.isbn);
    for (int i = 0; i < BIG; i++) {
        Book *b = &g.books[i];
        *b = CORM_NEW(Book);
        snprintf(g.isbn[i], 16, "979%010d", i);
        b->title = "Bulk";
        b->author_id = 1 + i % 4;
        corm_set_null(b, "publisher", true);
        b->published_date = "2024-01-01";
        b->isbn = g.isbn[i];
        b->pages = i % 500;
        b->price = corm_dec("9.99");
        b->description = "bulk";
    }
    return g;
}

static void big_free(big *g)
{
    free(g->books);
    free(g->isbn);
}

/* bulk_create runs one prepared single-row INSERT per object (an
** executemany) where bulk_update runs rows (SQLite), else multi-row
** INSERTs. */
static bool create_per_row(void)
{
    const corm__dialect *d = corm__dialect_for(corm_db_vendor(db));
    return d->bulk_update_rows && !d->insert_returning_id;
}

static void test_bulk_create_100k(void **state)
{
    (void)state;
    big g = big_books();
    /* SQLite: one executemany, one query as bulk_update's (and Django's
    ** executemany); PostgreSQL: INSERT ... SELECT FROM unnest() of one
    ** array per column, 32,768 rows per statement (4) */
    CORM_ASSERT_NUM_QUERIES(db, create_per_row() ? 1 : 4)
    {
        OK_DB(corm_bulk_create_array(db, g.books, BIG, NULL));
    }
    assert_int_equal(COUNT(Book), 6 + BIG);
    for (int i = 0; i < BIG; i++)
        if (g.books[i].id != 7 + i) fail_msg("object %d has id %lld", i, (long long)g.books[i].id);
    assert_string_equal(ids_where(&Book_model, "isbn", corm_text("9790000070000")), "70007");
    big_free(&g);
}

static void test_bulk_create_fails_whole(void **state)
{
    (void)state;
    big g = big_books();
    /* object 70,000 repeats an isbn already in the table */
    g.books[69999].isbn = "9780000000004";
    assert_int_equal(corm_bulk_create_array(db, g.books, BIG, NULL), CORM_CONSTRAINT);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_UNIQUE);
    assert_string_equal(e->constraint_name, "book.isbn");
    assert_string_equal(e->values, "isbn='9780000000004'");
    assert_int_equal(e->row, 70000);
    assert_non_null(strstr(e->message, "object 70000"));
    assert_non_null(strstr(e->message, "nothing was written"));
    assert_int_equal(COUNT(Book), 6);
    for (int i = 0; i < BIG; i++)
        if (g.books[i].id != 0) fail_msg("object %d kept id %lld", i, (long long)g.books[i].id);
    /* object 70,000 repeats object 10 of the same call */
    g.books[69999].isbn = g.isbn[9];
    assert_int_equal(corm_bulk_create_array(db, g.books, BIG, NULL), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->row, 70000);
    assert_string_equal(corm_db_error(db)->values, "isbn='9790000000009'");
    assert_int_equal(COUNT(Book), 6);
    /* NOT NULL at 70,000 */
    g.books[69999].isbn = g.isbn[69999];
    g.books[69999].title = NULL;
    assert_int_equal(corm_bulk_create_array(db, g.books, BIG, NULL), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->constraint, CORM_CK_NOT_NULL);
    assert_int_equal(corm_db_error(db)->row, 70000);
    assert_int_equal(COUNT(Book), 6);
    /* a foreign key to nothing at 70,000: found at COMMIT, named after */
    g.books[69999].title = "Bulk";
    g.books[69999].author_id = 999;
    assert_int_equal(corm_bulk_create_array(db, g.books, BIG, NULL), CORM_CONSTRAINT);
    e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_FOREIGN_KEY);
    assert_int_equal(e->row, 70000);
    assert_string_equal(e->values, "author_id=999 names no Author");
    assert_int_equal(COUNT(Book), 6);
    /* inside the caller's transaction: a savepoint, the transaction lives */
    OK_DB(corm_begin(db));
    Tag t = tag("kept");
    OK_DB(corm_save(db, &t));
    g.books[69999].author_id = 1;
    g.books[69999].isbn = "9780000000004";
    assert_int_equal(corm_bulk_create_array(db, g.books, BIG, NULL), CORM_CONSTRAINT);
    OK_DB(corm_commit(db));
    assert_int_equal(COUNT(Book), 6);
    assert_int_equal(COUNT(Tag), 1);
    big_free(&g);
}

static Book ids_book(char *isbn, int i)
{
    Book b = CORM_NEW(Book);
    snprintf(isbn, 16, "97955500000%02d", i);
    b.title = "Ids";
    b.author_id = 1;
    corm_set_null(&b, "publisher", true);
    corm_set_null(&b, "published_date", true);
    b.isbn = isbn;
    b.pages = 10 + i;
    b.price = corm_dec("1");
    b.description = "ids";
    return b;
}

/* Ids, conflicts and failures row by row (SQLite's executemany) as with
** multi-row INSERTs (PostgreSQL): the same results and counts on both. */
static void test_bulk_create_ids(void **state)
{
    (void)state;
    char isbn[5][16];
    Book b[5];
    for (int i = 0; i < 5; i++) {
        b[i] = ids_book(isbn[i], i);
        /* NOT NULL with default=false: a NULL takes the default */
        corm_set_null(&b[i], "featured", true);
    }
    /* an object with an id goes in first, with it; then the others, ids
    ** filled in in order, each the id of its own row */
    b[2].id = 50;
    CORM_ASSERT_NUM_QUERIES(db, 2) { OK_DB(corm_bulk_create_array(db, b, 5, NULL)); }
    static const int64_t want_ids[5] = {51, 52, 50, 53, 54};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(b[i].id, want_ids[i]);
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)want_ids[i]);
        assert_string_equal(ids_where(&Book_model, "isbn", corm_text(isbn[i])), want);
    }
    assert_string_equal(
        scalar("SELECT count(*) FROM book WHERE description = 'ids' AND NOT featured"), "5");

    /* ignore_conflicts: rows 2 and 4 exist; the others go in, and no
    ** object gets an id, as Django - not a skipped row (the last insert
    ** id is then the previous row's), nor an inserted one */
    Genre g[5] = {CORM_NEW(Genre), CORM_NEW(Genre), CORM_NEW(Genre), CORM_NEW(Genre),
                  CORM_NEW(Genre)};
    static const char *const names[5] = {"Poetry", "Fiction", "Drama", "History", "Essay"};
    for (int i = 0; i < 5; i++) g[i].name = (char *)names[i];
    corm_bulk_opts ignore = {.ignore_conflicts = true};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, g, 5, &ignore)); }
    for (int i = 0; i < 5; i++) assert_int_equal(g[i].id, 0);
    assert_int_equal(COUNT(Genre), 6);
    assert_string_equal(scalar("SELECT count(*) FROM genre WHERE name IN ('Poetry', 'Drama', "
                               "'Essay')"),
                        "3");

    /* update_conflicts: the middle row updates book 3, the rows around it
    ** are new; each object gets its own row's id */
    Book u[3];
    char uisbn[3][16];
    for (int i = 0; i < 3; i++) u[i] = ids_book(uisbn[i], 10 + i);
    u[1].isbn = "9780000000003";
    u[1].title = "Upserted";
    corm_bulk_opts upsert = {.update_conflicts = true,
                             .unique_fields = (const char *const[]){"isbn", NULL},
                             .update_fields = (const char *const[]){"title", NULL}};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_bulk_create_array(db, u, 3, &upsert)); }
    assert_int_equal(u[1].id, 3);
    assert_true(u[0].id > 54);
    assert_true(u[2].id > u[0].id);
    assert_string_equal(ids_where(&Book_model, "title", corm_text("Upserted")), "3");
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)u[2].id);
    assert_string_equal(ids_where(&Book_model, "isbn", corm_text(uisbn[2])), want);
    int64_t nbooks = COUNT(Book);

    /* a failure at row k names row k and writes nothing: object 4 repeats
    ** the isbn of a row in the table (no duplicate among the call's own
    ** objects: the row that failed is the one); batches of 2, so objects 1
    ** and 2 had been written, with ids, before */
    Book c[5];
    char cisbn[5][16];
    for (int i = 0; i < 5; i++) c[i] = ids_book(cisbn[i], 20 + i);
    c[3].isbn = "9780000000002";
    corm_bulk_opts two = {.batch_size = 2};
    assert_int_equal(corm_bulk_create_array(db, c, 5, &two), CORM_CONSTRAINT);
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->constraint, CORM_CK_UNIQUE);
    assert_string_equal(e->constraint_name, "book.isbn");
    assert_string_equal(e->values, "isbn='9780000000002'");
    assert_int_equal(e->row, 4);
    assert_non_null(strstr(e->message, "object 4 "));
    assert_non_null(strstr(e->message, "nothing was written"));
    assert_int_equal(COUNT(Book), nbooks);
    for (int i = 0; i < 5; i++) assert_int_equal(c[i].id, 0);
    /* NOT NULL at row 3 */
    c[3].isbn = cisbn[3];
    c[2].title = NULL;
    assert_int_equal(corm_bulk_create_array(db, c, 5, NULL), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->constraint, CORM_CK_NOT_NULL);
    assert_int_equal(corm_db_error(db)->row, 3);
    assert_int_equal(COUNT(Book), nbooks);
    /* an explicit id that exists, at row 2: the first pass fails */
    c[2].title = "Ids";
    c[1].id = 2;
    assert_int_equal(corm_bulk_create_array(db, c, 5, NULL), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->constraint, CORM_CK_UNIQUE);
    assert_int_equal(corm_db_error(db)->row, 2);
    assert_string_equal(corm_db_error(db)->values, "id=2");
    assert_int_equal(COUNT(Book), nbooks);
    assert_int_equal(c[1].id, 2); /* the caller's id is left as it was */
    assert_int_equal(c[0].id, 0);
    /* fixed, it all goes in */
    c[1].id = 0;
    OK_DB(corm_bulk_create_array(db, c, 5, &two));
    assert_int_equal(COUNT(Book), nbooks + 5);
    for (int i = 1; i < 5; i++) assert_int_equal(c[i].id, c[0].id + i);
}

/* ------------------------------------------------------------ bulk_update */

static void test_bulk_update(void **state)
{
    (void)state;
    for (int strategy = CORM_BULK_CASE; strategy <= CORM_BULK_VALUES; strategy++) {
        corm_qs *qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        assert_int_equal(corm_eval(qs), CORM_OK);
        Book *const *books = (Book *const *)corm_qs_items(qs);
        for (size_t i = 0; i < corm_qs_len(qs); i++) {
            books[i]->pages = 1000 + strategy * 10 + (int32_t)i;
            books[i]->title = strategy == CORM_BULK_CASE ? "case" : "rows"; /* or values */
        }
        corm_bulk_opts o = {.strategy = strategy};
        int64_t n;
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            n = corm_bulk_update_at(db, (void *const *)books, corm_qs_len(qs),
                                    (const char *const[]){"pages", "title", NULL}, &o, CORM_SITE);
        }
        assert_int_equal(n, 6);
        corm_qs_free(qs);
        char want[64];
        snprintf(want, sizeof want, "%d", 1000 + strategy * 10 + 5);
        assert_string_equal(scalar("SELECT max(pages) FROM book"), want);
        assert_string_equal(
            scalar("SELECT count(*) FROM book WHERE title = 'case' OR title = 'rows'"), "6");
        /* batches: one query each */
        o.batch_size = 4;
        qs = corm_all(db, Book);
        assert_int_equal(corm_eval(qs), CORM_OK);
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            n = corm_bulk_update_at(db, corm_qs_items(qs), corm_qs_len(qs),
                                    (const char *const[]){"pages", NULL}, &o, CORM_SITE);
        }
        assert_int_equal(n, 6);
        /* a constraint failure names the object and writes nothing */
        Book *b5 = corm_qs_at(qs, 4);
        b5->isbn = "9780000000002";
        o.batch_size = 0;
        assert_int_equal(corm_bulk_update_at(db, corm_qs_items(qs), corm_qs_len(qs),
                                             (const char *const[]){"isbn", "pages", NULL}, &o,
                                             CORM_SITE),
                         -1);
        const corm_error *e = corm_db_error(db);
        assert_int_equal(e->constraint, CORM_CK_UNIQUE);
        assert_int_equal(e->row, 5);
        assert_string_equal(e->values, "isbn='9780000000002'");
        assert_string_equal(ids_where(&Book_model, "isbn", corm_text("9780000000005")), "5");
        corm_qs_free(qs);
    }
    /* misuse: no fields, unknown field, the pk, an unsaved object */
    Book fresh = CORM_NEW(Book);
    void *one[1] = {&fresh};
    assert_int_equal(corm_bulk_update(db, one, 1, "pages"), -1);
    assert_int_equal(corm_db_error(db)->rc, CORM_INVALID);
    fresh.id = 1;
    assert_int_equal(corm_bulk_update(db, one, 1, "nope"), -1);
    assert_int_equal(corm_bulk_update(db, one, 1, "id"), -1);
}

/* bulk_update of pages for objs in one statement: how many rows it updated. */
static int64_t update_pages(void *const *objs, size_t n, const corm_bulk_opts *o)
{
    int64_t updated = -1;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        updated =
            corm_bulk_update_at(db, objs, n, (const char *const[]){"pages", NULL}, o, CORM_SITE);
    }
    return updated;
}

/* Each id is written once, by its first object (as Django): with the
** objects in increasing id order (no map of ids seen is kept) and in any
** other order (the map), on every strategy. */
static void test_bulk_update_duplicates(void **state)
{
    (void)state;
    for (int strategy = CORM_BULK_AUTO; strategy <= CORM_BULK_VALUES; strategy++) {
        corm_qs *qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        assert_int_equal(corm_eval(qs), CORM_OK);
        Book *b[6];
        for (int i = 0; i < 6; i++) b[i] = corm_qs_at(qs, (size_t)i);
        corm_bulk_opts o = {.strategy = strategy};
        /* increasing, with gaps: 1, 3, 5 */
        for (int i = 0; i < 6; i++) b[i]->pages = 300 + i;
        void *inc[] = {b[0], b[2], b[4]};
        assert_int_equal(update_pages(inc, 3, &o), 3);
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 1"), "300");
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 3"), "302");
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 5"), "304");
        /* 3, 2, 3 again (a copy with other pages), 1: the first 3 wins */
        Book again = *b[2];
        again.pages = 999;
        for (int i = 0; i < 6; i++) b[i]->pages = 400 + i;
        void *mixed[] = {b[2], b[1], &again, b[0]};
        assert_int_equal(update_pages(mixed, 4, &o), 3);
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 1"), "400");
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 2"), "401");
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 3"), "402");
        /* increasing but for one repeat at the end: 1, 2, 2 */
        Book two = *b[1];
        two.pages = 777;
        void *tail[] = {b[0], b[1], &two};
        b[1]->pages = 555;
        assert_int_equal(update_pages(tail, 3, &o), 2);
        assert_string_equal(scalar("SELECT pages FROM book WHERE id = 2"), "555");
        corm_qs_free(qs);
    }
}

static void test_bulk_update_100k(void **state)
{
    (void)state;
    big g = big_books();
    OK_DB(corm_bulk_create_array(db, g.books, BIG, NULL));
    for (int i = 0; i < BIG; i++) g.books[i].pages = 7;
    int64_t n;
    /* the backend's choice: SQLite, one executemany of the prepared
    ** single-row UPDATE; PostgreSQL, UPDATE ... FROM unnest() of arrays,
    ** 32,768 objects per statement; else UPDATE ... FROM (VALUES ...)
    ** batches of max_params / 2 */
    const corm__dialect *d = corm__dialect_for(corm_db_vendor(db));
    int64_t per_batch = d->bulk_arrays ? 32768 : d->max_params / 2;
    CORM_ASSERT_NUM_QUERIES(db, d->bulk_update_rows ? 1 : (BIG + per_batch - 1) / per_batch)
    {
        n = corm_bulk_update_array_at(db, g.books, BIG, (const char *const[]){"pages", NULL}, NULL,
                                      CORM_SITE);
    }
    assert_int_equal(n, BIG);
    assert_string_equal(scalar("SELECT count(*) FROM book WHERE pages = 7"), "100000");
    /* UPDATE ... FROM (VALUES ...) batches: 32766 / (1 + 1) = 16383 objects
    ** per UPDATE on SQLite (7), 65535 / 2 = 32767 on PostgreSQL (4) */
    for (int i = 0; i < BIG; i++) g.books[i].pages = 8;
    corm_bulk_opts c = {.strategy = CORM_BULK_VALUES};
    CORM_ASSERT_NUM_QUERIES(db, test_db_is_pg() ? 4 : 7)
    {
        n = corm_bulk_update_array_at(db, g.books, BIG, (const char *const[]){"pages", NULL}, &c,
                                      CORM_SITE);
    }
    assert_int_equal(n, BIG);
    assert_string_equal(scalar("SELECT count(*) FROM book WHERE pages = 8"), "100000");
    /* a failure at object 70,000 writes nothing */
    for (int i = 0; i < BIG; i++) g.books[i].pages = 9;
    g.books[69999].isbn = "9780000000001";
    for (int s = CORM_BULK_ROWS; s <= CORM_BULK_VALUES; s++) {
        c.strategy = s;
        n = corm_bulk_update_array_at(db, g.books, BIG,
                                      (const char *const[]){"pages", "isbn", NULL}, &c, CORM_SITE);
        assert_int_equal(n, -1);
        assert_int_equal(corm_db_error(db)->row, 70000);
        assert_int_equal(corm_db_error(db)->constraint, CORM_CK_UNIQUE);
        assert_string_equal(scalar("SELECT count(*) FROM book WHERE pages = 9"), "0");
    }
    big_free(&g);
}

/* ------------------------------------------------------------ update() */

static void test_queryset_update(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(2));
    int64_t n;
    CORM_ASSERT_NUM_QUERIES(db, 1) { n = corm_update(qs, CORM_SET("featured", corm_bool(true))); }
    assert_int_equal(n, 3);
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Book_model, "featured", corm_bool(true)), "3,4,5");
    /* F expressions, a filter across a relation (a semi-join) */
    qs = corm_all(db, Book);
    corm_filter(qs, "author__name", corm_text("Victor Hugo"));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        n = corm_update(qs, CORM_SET_F("pages", "pages", '+', corm_int(1)),
                        CORM_SET_F("price", "price", '*', corm_float(2)),
                        CORM_SET("description", corm_text("classic")));
    }
    assert_int_equal(n, 2);
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Book_model, "pages", corm_int(1401)), "1");
    assert_string_equal(ids_where(&Book_model, "pages", corm_int(941)), "2");
    assert_string_equal(ids_where(&Book_model, "price", corm_float(21)), "1");
    assert_string_equal(ids_where(&Book_model, "description", corm_text("classic")), "1,2");
    /* any expression of the queryset: pages = pages * 2 + 5 */
    qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(6));
    corm_expr *x = corm_arith(qs, corm_arith(qs, corm_F(qs, "pages"), '*', corm_V(qs, corm_int(2))),
                              '+', corm_V(qs, corm_int(5)));
    CORM_ASSERT_NUM_QUERIES(db, 1) { n = corm_update(qs, CORM_SET_EXPR("pages", x)); }
    assert_int_equal(n, 1);
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Book_model, "pages", corm_int(200 * 2 + 5)), "6");
    /* every row; then none */
    qs = corm_all(db, Book);
    assert_int_equal(corm_update(qs, CORM_SET("pages", corm_int(1))), 6);
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(99));
    assert_int_equal(corm_update(qs, CORM_SET("pages", corm_int(2))), 0);
    corm_qs_free(qs);
    /* errors: on the qs, no query */
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        qs = corm_all(db, Book);
        corm_slice(qs, 0, 2);
        assert_int_equal(corm_update(qs, CORM_SET("pages", corm_int(2))), -1);
        assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        assert_int_equal(corm_update(qs, CORM_SET("pages", corm_text("many"))), -1);
        assert_int_equal(corm_qs_error(qs)->rc, CORM_TYPE);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        assert_int_equal(corm_update(qs, CORM_SET("pagez", corm_int(1))), -1);
        assert_int_equal(corm_qs_error(qs)->rc, CORM_SCHEMA);
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        assert_int_equal(corm_update(qs, CORM_SET_F("pages", "author__name", '+', corm_int(1))),
                         -1);
        assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
        corm_qs_free(qs);
    }
    /* a unique violation is typed */
    qs = corm_all(db, Book);
    assert_int_equal(corm_update(qs, CORM_SET("isbn", corm_text("same"))), -1);
    assert_int_equal(corm_qs_error(qs)->constraint, CORM_CK_UNIQUE);
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ default scopes */

static void add_invoice(int64_t user, const char *number, int64_t tenant, bool is_void)
{
    Invoice i = CORM_NEW(Invoice);
    i.user_id = user;
    corm_set_null(&i, "order", true);
    i.number = (char *)number;
    i.total = corm_dec("10");
    i.tenant_id = tenant;
    i.is_void = is_void;
    OK_DB(corm_save(db, &i));
}

static void test_default_scope(void **state)
{
    (void)state;
    shop s = make_shop("t@example.com");
    add_invoice(s.user, "T1-A", 1, false);
    add_invoice(s.user, "T1-VOID", 1, true);
    add_invoice(s.user, "T2-A", 2, false);
    add_invoice(s.user, "T2-B", 2, false);

    /* no tenant set: every query of Invoice fails, none runs */
    corm_qs *qs = corm_all(db, Invoice);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_MISUSE); }
    assert_non_null(strstr(corm_qs_error(qs)->message, "tenant_id"));
    assert_non_null(strstr(corm_qs_error(qs)->hint, "corm_scope_set"));
    corm_qs_free(qs);

    OK_DB(corm_scope_set(db, "tenant_id", corm_int(2)));
    qs = corm_all(db, Invoice);
    corm_order_by(qs, "id");
    assert_string_equal(test_ids(qs), "3,4");
    corm_qs_free(qs);
    qs = corm_all(db, Invoice);
    assert_int_equal(corm_count(qs), 2);
    corm_qs_free(qs);
    /* get by pk of another tenant's invoice: does not exist */
    qs = corm_all(db, Invoice);
    corm_filter(qs, "pk", corm_int(1));
    assert_null(corm_get(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_NOTFOUND);
    corm_qs_free(qs);
    /* the static scope hides void invoices of the tenant */
    OK_DB(corm_scope_set(db, "tenant_id", corm_int(1)));
    qs = corm_all(db, Invoice);
    assert_string_equal(test_ids(qs), "1");
    corm_qs_free(qs);
    /* unscoped: Django's base manager */
    qs = corm_all(db, Invoice);
    corm_unscoped(qs);
    corm_order_by(qs, "id");
    assert_string_equal(test_ids(qs), "1,2,3,4");
    corm_qs_free(qs);
    /* a related set is scoped (the default manager), the reverse is not */
    corm_qs *users = corm_all(db, User);
    User *u = corm_get(users);
    assert_non_null(u);
    const corm_list *mine = user_invoices(u);
    assert_non_null(mine);
    assert_int_equal(mine->n, 1);
    corm_qs_free(users);
    users = corm_all(db, User);
    corm_prefetch_related(users, "invoices");
    u = corm_get(users);
    assert_non_null(u);
    assert_int_equal(user_invoices(u)->n, 1);
    corm_qs_free(users);
    /* update() and delete() see only the tenant's rows */
    OK_DB(corm_scope_set(db, "tenant_id", corm_int(2)));
    qs = corm_all(db, Invoice);
    assert_int_equal(corm_update(qs, CORM_SET("total", corm_float(99))), 2);
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Invoice_model, "total", corm_float(99)), "3,4");
    qs = corm_all(db, Invoice);
    corm_filter(qs, "number", corm_text("T2-B"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_qs_delete(qs), 1); }
    corm_qs_free(qs);
    qs = corm_all(db, Invoice);
    assert_int_equal(corm_qs_delete(qs), 1); /* T2-A; tenant 1 untouched */
    corm_qs_free(qs);
    assert_string_equal(ids_where(&Invoice_model, NULL, corm_null()), "1,2");
    /* clearing brings the failure back; bad names and types are refused */
    corm_scope_clear(db, "tenant_id");
    qs = corm_all(db, Invoice);
    assert_int_equal(corm_count(qs), -1);
    corm_qs_free(qs);
    assert_int_equal(corm_scope_set(db, "tenant", corm_int(1)), CORM_INVALID);
    assert_non_null(strstr(corm_db_error(db)->hint, "tenant_id"));
    assert_int_equal(corm_scope_set(db, "tenant_id", corm_text("one")), CORM_TYPE);
    /* a model without scopes ignores them */
    OK_DB(corm_scope_set(db, "tenant_id", corm_int(2)));
    qs = corm_all(db, Order);
    assert_int_equal(corm_count(qs), 1);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_create_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_or_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_null_and_m2m, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restrict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_create_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_create_100k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_create_fails_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_create_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_update_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_update_100k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queryset_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_scope, setup, teardown),
    };
    return cmocka_run_group_tests_name("writes", tests, NULL, NULL);
}
