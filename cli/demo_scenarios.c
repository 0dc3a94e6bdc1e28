/*
** demo_scenarios.c - the seeds' scenarios, each naive and fixed.
** Reading a related object's field is the "use" that makes the naive
** variant lazy-load it, exactly as a template or serializer would.
*/
#include "demo.h"

#include <string.h>

/* Use a string so the compiler cannot drop the read. */
static size_t sink;
static void use(const char *s) { sink += s ? strlen(s) : 0; }

static int finish(corm_qs *qs)
{
    int rc = corm_qs_failed(qs) ? demo_fail_qs(qs) : 0;
    corm_qs_free(qs);
    return rc;
}

/* -- books_author (seed 000, 002): every book with its author's name */
static int books_author(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    if (fixed) corm_select_related(qs, "author");
    corm_order_by(qs, "id");
    Book *b;
    corm_foreach (b, qs) {
        Author *a = book_author(b);
        if (!a) return corm_qs_free(qs), demo_fail_db(c->db);
        use(b->title);
        use(a->name);
        c->rows++;
    }
    return finish(qs);
}
static int books_author_naive(demo_ctx *c) { return books_author(c, false); }
static int books_author_fixed(demo_ctx *c) { return books_author(c, true); }

/* -- orders_user_product (seed 001): the first 20 orders with the user's
** email and the product's name: 1 + 2 x 20 = 41 queries, or one JOIN */
static int orders_user_product(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Order);
    if (fixed) corm_select_related(qs, "user", "product");
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 20);
    Order *o;
    corm_foreach (o, qs) {
        User *u = order_user(o);
        Product *p = order_product(o);
        if (!u || !p) return corm_qs_free(qs), demo_fail_db(c->db);
        use(u->email);
        use(p->name);
        c->rows++;
    }
    return finish(qs);
}
static int orders_user_product_naive(demo_ctx *c) { return orders_user_product(c, false); }
static int orders_user_product_fixed(demo_ctx *c) { return orders_user_product(c, true); }

/* -- books_author_country (seed 000): nested select_related("author__country") */
static int books_author_country(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    if (fixed) corm_select_related(qs, "author__country");
    corm_order_by(qs, "id");
    Book *b;
    corm_foreach (b, qs) {
        Author *a = book_author(b);
        Country *co = a ? author_country(a) : NULL;
        if (!co) return corm_qs_free(qs), demo_fail_db(c->db);
        use(b->title);
        use(a->name);
        use(co->name);
        c->rows++;
    }
    return finish(qs);
}
static int books_author_country_naive(demo_ctx *c) { return books_author_country(c, false); }
static int books_author_country_fixed(demo_ctx *c) { return books_author_country(c, true); }

const demo_scenario demo_scenarios[] = {
    {"books_author", "every book with its author's name (select_related)",
     books_author_naive, books_author_fixed},
    {"orders_user_product", "first 20 orders with user email and product name",
     orders_user_product_naive, orders_user_product_fixed},
    {"books_author_country", "every book with its author's country (nested select_related)",
     books_author_country_naive, books_author_country_fixed},
};
const int demo_nscenarios = (int)(sizeof demo_scenarios / sizeof demo_scenarios[0]);
