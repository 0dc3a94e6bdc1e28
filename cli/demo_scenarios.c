/*
** demo_scenarios.c - the seeds' scenarios, each naive and fixed.
** Reading a related object's field is the "use" that makes the naive
** variant lazy-load it, exactly as a template or serializer would.
*/
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
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
    corm_foreach(b, qs)
    {
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
    corm_foreach(o, qs)
    {
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
    corm_foreach(b, qs)
    {
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

/* Fail the scenario when a lazy load returned nothing because of an error. */
#define NEED(ptr, qs)                   \
    do {                                \
        if (!(ptr)) {                   \
            corm_qs_free(qs);           \
            return demo_fail_db(c->db); \
        }                               \
    } while (0)

/* Count and use a list of books. */
static void use_books(demo_ctx *c, const corm_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        use(((Book *)l->items[i])->title);
        c->rows++;
    }
}

/* -- authors_books (seed 003): every author with their books (reverse fk) */
static int authors_books(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Author);
    corm_order_by(qs, "id");
    if (fixed) corm_prefetch_related(qs, "books");
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        NEED(books, qs);
        use(a->name);
        use_books(c, books);
    }
    return finish(qs);
}
static int authors_books_naive(demo_ctx *c) { return authors_books(c, false); }
static int authors_books_fixed(demo_ctx *c) { return authors_books(c, true); }

/* -- posts_tags (seed 002): posts with their tags (many-to-many) */
static int posts_tags(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Post);
    corm_order_by(qs, "id");
    if (fixed) corm_prefetch_related(qs, "tags");
    Post *p;
    corm_foreach(p, qs)
    {
        const corm_list *tags = post_tags(p);
        NEED(tags, qs);
        for (size_t i = 0; i < tags->n; i++) use(((Tag *)tags->items[i])->name);
        c->rows++;
    }
    return finish(qs);
}
static int posts_tags_naive(demo_ctx *c) { return posts_tags(c, false); }
static int posts_tags_fixed(demo_ctx *c) { return posts_tags(c, true); }

/* -- books_author_genres (seed 000): select_related + prefetch_related */
static int books_author_genres(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_select_related(qs, "author");
        corm_prefetch_related(qs, "genres");
    }
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        const corm_list *g = book_genres(b);
        NEED(a, qs);
        NEED(g, qs);
        use(a->name);
        for (size_t i = 0; i < g->n; i++) use(((Genre *)g->items[i])->name);
        c->rows++;
    }
    return finish(qs);
}
static int books_author_genres_naive(demo_ctx *c) { return books_author_genres(c, false); }
static int books_author_genres_fixed(demo_ctx *c) { return books_author_genres(c, true); }

/* -- authors_published_books (seed 000): Prefetch(queryset=published, to_attr) */
static int authors_published_books(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Author);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *published = corm_all(c->db, Book);
        corm_filter(published, "published_date__isnull", corm_bool(false));
        corm_prefetch(qs, "books", published, "published_books");
    }
    Author *a;
    corm_foreach(a, qs)
    {
        if (fixed) {
            use_books(c, corm_attr(a, "published_books"));
            continue;
        }
        corm_qs *mine = author_books_qs(a);
        corm_filter(mine, "published_date__isnull", corm_bool(false));
        Book *b;
        corm_foreach(b, mine)
        {
            use(b->title);
            c->rows++;
        }
        if (finish(mine)) return corm_qs_free(qs), 1;
    }
    return finish(qs);
}
static int authors_published_books_naive(demo_ctx *c) { return authors_published_books(c, false); }
static int authors_published_books_fixed(demo_ctx *c) { return authors_published_books(c, true); }

/* -- author_report (seed 000): authors, their books and each book's genres */
static int author_report(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Author);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *books = corm_all(c->db, Book);
        corm_prefetch_related(books, "genres");
        corm_prefetch(qs, "books", books, NULL);
    }
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        NEED(books, qs);
        for (size_t i = 0; i < books->n; i++) {
            const corm_list *g = book_genres(books->items[i]);
            NEED(g, qs);
            for (size_t k = 0; k < g->n; k++) use(((Genre *)g->items[k])->name);
            c->rows++;
        }
    }
    return finish(qs);
}
static int author_report_naive(demo_ctx *c) { return author_report(c, false); }
static int author_report_fixed(demo_ctx *c) { return author_report(c, true); }

/* -- users_orders_items (seed 002): Prefetch("orders", Order.select_related(
** "payment_method").prefetch_related("items")) */
static int users_orders_items(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, User);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *orders = corm_all(c->db, Order);
        corm_select_related(orders, "payment_method");
        corm_prefetch_related(orders, "items");
        corm_prefetch(qs, "orders", orders, NULL);
    }
    User *u;
    corm_foreach(u, qs)
    {
        const corm_list *orders = user_orders(u);
        NEED(orders, qs);
        for (size_t i = 0; i < orders->n; i++) {
            Order *o = orders->items[i];
            PaymentMethod *pm = order_payment_method(o);
            const corm_list *items = order_items(o);
            NEED(pm, qs);
            NEED(items, qs);
            use(pm->kind);
            c->rows += (int64_t)items->n;
        }
    }
    return finish(qs);
}
static int users_orders_items_naive(demo_ctx *c) { return users_orders_items(c, false); }
static int users_orders_items_fixed(demo_ctx *c) { return users_orders_items(c, true); }

/* -- orders_active_items_product (seed 003): Prefetch("items",
** OrderItem.filter(is_cancelled=False).select_related("product"), to_attr) */
static int orders_active_items_product(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Order);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *items = corm_all(c->db, OrderItem);
        corm_filter(items, "is_cancelled", corm_bool(false));
        corm_select_related(items, "product");
        corm_prefetch(qs, "items", items, "active_items");
    }
    Order *o;
    corm_foreach(o, qs)
    {
        corm_qs *mine = NULL;
        const corm_list *items;
        if (fixed) {
            items = corm_attr(o, "active_items");
        } else {
            mine = order_items_qs(o);
            corm_filter(mine, "is_cancelled", corm_bool(false));
            if (corm_eval(mine) != CORM_OK) return corm_qs_free(qs), finish(mine);
            items = NULL;
            for (size_t i = 0; i < corm_qs_len(mine); i++) {
                Product *p = order_item_product(corm_qs_at(mine, i));
                NEED(p, qs);
                use(p->name);
                c->rows++;
            }
        }
        for (size_t i = 0; items && i < items->n; i++) {
            Product *p = order_item_product(items->items[i]);
            NEED(p, qs);
            use(p->name);
            c->rows++;
        }
        corm_qs_free(mine);
    }
    return finish(qs);
}
static int orders_active_items_product_naive(demo_ctx *c)
{
    return orders_active_items_product(c, false);
}
static int orders_active_items_product_fixed(demo_ctx *c)
{
    return orders_active_items_product(c, true);
}

/* -- customers_orders_multi (seed 003): three Prefetch on orders: all,
** recent (a to_attr) and high value (a to_attr) */
static const char recent_since[] = "2024-07-01 00:00:00";
static int customers_orders_multi(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, User);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_prefetch(qs, "orders", NULL, NULL);
        corm_qs *recent = corm_all(c->db, Order);
        corm_filter(recent, "created_at__gte", corm_text(recent_since));
        corm_prefetch(qs, "orders", recent, "recent_orders");
        corm_qs *high = corm_all(c->db, Order);
        corm_filter(high, "total__gte", corm_float(100.0));
        corm_prefetch(qs, "orders", high, "high_value_orders");
    }
    User *u;
    corm_foreach(u, qs)
    {
        size_t n[3];
        if (fixed) {
            n[0] = user_orders(u)->n;
            n[1] = corm_attr(u, "recent_orders")->n;
            n[2] = corm_attr(u, "high_value_orders")->n;
        } else {
            const corm_list *all = user_orders(u);
            NEED(all, qs);
            n[0] = all->n;
            corm_qs *recent = user_orders_qs(u);
            corm_filter(recent, "created_at__gte", corm_text(recent_since));
            corm_qs *high = user_orders_qs(u);
            corm_filter(high, "total__gte", corm_float(100.0));
            int64_t r = corm_count(recent), h = corm_count(high);
            corm_qs_free(recent);
            corm_qs_free(high);
            if (r < 0 || h < 0) return corm_qs_free(qs), demo_fail_db(c->db);
            /* a count query reads no rows; count them like the fixed list */
            n[1] = (size_t)r;
            n[2] = (size_t)h;
        }
        c->rows += (int64_t)(n[0] + n[1] + n[2]);
    }
    return finish(qs);
}
static int customers_orders_multi_naive(demo_ctx *c) { return customers_orders_multi(c, false); }
static int customers_orders_multi_fixed(demo_ctx *c) { return customers_orders_multi(c, true); }

/* -- books_recent_reviews (seed 003/004): the 5 newest reviews of each book
** with their user: a sliced Prefetch is top-N per parent, one query */
static int books_recent_reviews(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_filter(qs, "reviews__isnull", corm_bool(false));
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *recent = corm_all(c->db, Review);
        corm_order_by(recent, "-created_at");
        corm_select_related(recent, "user");
        corm_slice(recent, 0, 5);
        corm_prefetch(qs, "reviews", recent, "recent_reviews");
    }
    Book *b;
    corm_foreach(b, qs)
    {
        corm_qs *mine = NULL;
        const corm_list *reviews;
        if (fixed) {
            reviews = corm_attr(b, "recent_reviews");
        } else {
            mine = book_reviews_qs(b);
            corm_order_by(mine, "-created_at");
            corm_slice(mine, 0, 5);
            if (corm_eval(mine) != CORM_OK) return corm_qs_free(qs), finish(mine);
            reviews = NULL;
            for (size_t i = 0; i < corm_qs_len(mine); i++) {
                User *u = review_user(corm_qs_at(mine, i));
                NEED(u, qs);
                use(u->email);
                c->rows++;
            }
        }
        for (size_t i = 0; reviews && i < reviews->n; i++) {
            User *u = review_user(reviews->items[i]);
            NEED(u, qs);
            use(u->email);
            c->rows++;
        }
        corm_qs_free(mine);
    }
    return finish(qs);
}
static int books_recent_reviews_naive(demo_ctx *c) { return books_recent_reviews(c, false); }
static int books_recent_reviews_fixed(demo_ctx *c) { return books_recent_reviews(c, true); }

/* -- prefetch_then_filter (seed 003, mistake 1): prefetching books, then
** filtering the related set in the loop, queries again per author */
static int prefetch_then_filter(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Author);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *recent = corm_all(c->db, Book);
        corm_filter(recent, "published_date__year__gte", corm_int(2020));
        corm_prefetch(qs, "books", recent, "recent_books");
    } else {
        corm_prefetch_related(qs, "books");
    }
    Author *a;
    corm_foreach(a, qs)
    {
        if (fixed) {
            use_books(c, corm_attr(a, "recent_books"));
            continue;
        }
        corm_qs *recent = author_books_qs(a); /* a new query: the prefetch is unused */
        corm_filter(recent, "published_date__year__gte", corm_int(2020));
        Book *b;
        corm_foreach(b, recent)
        {
            use(b->title);
            c->rows++;
        }
        if (finish(recent)) return corm_qs_free(qs), 1;
    }
    return finish(qs);
}
static int prefetch_then_filter_naive(demo_ctx *c) { return prefetch_then_filter(c, false); }
static int prefetch_then_filter_fixed(demo_ctx *c) { return prefetch_then_filter(c, true); }

/* -- authors_book_count (seed 001): a count per author in a loop (1 + N)
** vs annotate(book_count=Count("books")) (1) */
static int authors_book_count(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Author);
    corm_order_by(qs, "id");
    if (fixed) corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    Author *a;
    corm_foreach(a, qs)
    {
        int64_t n;
        if (fixed) {
            n = corm_annotation(a, "book_count")->u.i;
        } else {
            corm_qs *mine = author_books_qs(a);
            n = corm_count(mine);
            corm_qs_free(mine);
            if (n < 0) return corm_qs_free(qs), demo_fail_db(c->db);
        }
        use(a->name);
        c->rows += n > 0;
    }
    return finish(qs);
}
static int authors_book_count_naive(demo_ctx *c) { return authors_book_count(c, false); }
static int authors_book_count_fixed(demo_ctx *c) { return authors_book_count(c, true); }

/* -- authors_latest_book (seed 004): each author's latest book title, a
** query per author vs one Subquery(OuterRef) annotation */
static int authors_latest_book(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Author);
    corm_order_by(qs, "id");
    if (fixed) {
        corm_qs *latest = corm_all(c->db, Book);
        corm_filter_expr(latest, "author", corm_OuterRef(latest, "pk"));
        corm_order_by(latest, "-published_date");
        corm_slice(latest, 0, 1);
        corm_annotate(qs, "latest_title", corm_Subquery(qs, latest, "title"));
    }
    Author *a;
    corm_foreach(a, qs)
    {
        if (fixed) {
            const corm_value *t = corm_annotation(a, "latest_title");
            if (t && t->type == CORM_V_TEXT) use(t->u.s.p);
        } else {
            corm_qs *mine = author_books_qs(a);
            corm_order_by(mine, "-published_date");
            Book *b = corm_first(mine);
            if (b) use(b->title);
            if (finish(mine)) return corm_qs_free(qs), 1;
        }
        c->rows++;
    }
    return finish(qs);
}
static int authors_latest_book_naive(demo_ctx *c) { return authors_latest_book(c, false); }
static int authors_latest_book_fixed(demo_ctx *c) { return authors_latest_book(c, true); }

/* -- only_deferred_access (seed 000): only("title") then reading the
** description loads it per book (1 + N); only the fields read (1) */
static int only_deferred_access(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_order_by(qs, "id");
    if (fixed) corm_only(qs, "title", "description");
    else corm_only(qs, "title");
    Book *b;
    corm_foreach(b, qs)
    {
        use(b->title);
        use(corm_field(b, description));
        c->rows++;
    }
    return finish(qs);
}
static int only_deferred_access_naive(demo_ctx *c) { return only_deferred_access(c, false); }
static int only_deferred_access_fixed(demo_ctx *c) { return only_deferred_access(c, true); }

/* -- values_list_titles (seed 000): titles as structs vs values_list(flat) */
static int values_list_titles(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_order_by(qs, "id");
    if (fixed) corm_values_flat(qs, "title");
    if (corm_eval(qs) != CORM_OK) return finish(qs);
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        use(fixed ? corm_qs_cell(qs, i, 0)->u.s.p : ((Book *)corm_qs_at(qs, i))->title);
        c->rows++;
    }
    c->peak_bytes = corm_qs_memory_size(qs);
    return finish(qs);
}
static int values_list_titles_naive(demo_ctx *c) { return values_list_titles(c, false); }
static int values_list_titles_fixed(demo_ctx *c) { return values_list_titles(c, true); }

/* -- count_vs_len (seed 001): len() loads every row to count them; count()
** is one COUNT(*) row.  rows = rows the database sent. */
static int count_vs_len(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    int64_t n;
    if (fixed) {
        n = corm_count(qs);
        c->rows = 1;
    } else {
        n = corm_eval(qs) == CORM_OK ? (int64_t)corm_qs_len(qs) : -1;
        c->rows = n;
    }
    use(n >= 0 ? "counted" : NULL);
    return finish(qs);
}
static int count_vs_len_naive(demo_ctx *c) { return count_vs_len(c, false); }
static int count_vs_len_fixed(demo_ctx *c) { return count_vs_len(c, true); }

/* -- exists_vs_len (seed 001): `if (len(qs))` loads every row; exists()
** asks for one */
static int exists_vs_len(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_filter(qs, "featured", corm_bool(true));
    bool any;
    if (fixed) {
        any = corm_exists(qs) == 1;
        c->rows = any;
    } else {
        any = corm_eval(qs) == CORM_OK && corm_qs_len(qs) > 0;
        c->rows = (int64_t)corm_qs_len(qs);
    }
    use(any ? "yes" : "no");
    return finish(qs);
}
static int exists_vs_len_naive(demo_ctx *c) { return exists_vs_len(c, false); }
static int exists_vs_len_fixed(demo_ctx *c) { return exists_vs_len(c, true); }

/* -- iterate_twice (seed 001): building the queryset twice runs it twice;
** one evaluated queryset iterated twice runs once */
static int iterate_twice(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    Book *b;
    corm_foreach(b, qs) c->rows += b->id > 0;
    if (!fixed) {
        if (finish(qs)) return 1;
        qs = corm_all(c->db, Book);
    }
    corm_foreach(b, qs) use(b->title);
    return finish(qs);
}
static int iterate_twice_naive(demo_ctx *c) { return iterate_twice(c, false); }
static int iterate_twice_fixed(demo_ctx *c) { return iterate_twice(c, true); }

/* -- iterator_chunked (seed 001): every book, all in memory at once vs
** streamed with iterator(chunk_size=2000); peak result memory reported */
static int iterator_chunked(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    Book *b;
    if (!fixed) {
        corm_foreach(b, qs)
        {
            use(b->title);
            c->rows++;
        }
        c->peak_bytes = corm_qs_memory_size(qs);
        return finish(qs);
    }
    corm_iter *it = corm_iterator(qs, 2000);
    while ((b = corm_iter_next(it)) != NULL) {
        use(b->title);
        c->rows++;
        size_t mem = corm_iter_memory_size(it);
        if (mem > c->peak_bytes) c->peak_bytes = mem;
    }
    corm_iter_free(it);
    return finish(qs);
}
static int iterator_chunked_naive(demo_ctx *c) { return iterator_chunked(c, false); }
static int iterator_chunked_fixed(demo_ctx *c) { return iterator_chunked(c, true); }

/* -- create_loop_vs_bulk (seed 000, "Inefficient Bulk Operations"): N
** comments created one save at a time (N INSERTs) vs one bulk_create (one
** multi-row INSERT per batch) */
static int create_loop_vs_bulk(demo_ctx *c, bool fixed)
{
    size_t n = (size_t)c->scale;
    Comment *cs = calloc(n ? n : 1, sizeof *cs);
    if (!cs) return 1;
    for (size_t i = 0; i < n; i++) {
        cs[i] = CORM_NEW(Comment);
        cs[i].post_id = (int64_t)(i % 10) + 1;
        corm_set_null(&cs[i], "author", true);
        cs[i].body = "Thanks for the article.";
    }
    int rc = 0;
    if (fixed) {
        if (corm_bulk_create_array(c->db, cs, n, NULL) != CORM_OK) rc = demo_fail_db(c->db);
    } else {
        for (size_t i = 0; i < n && !rc; i++)
            if (corm_save(c->db, &cs[i]) != CORM_OK) rc = demo_fail_db(c->db);
    }
    if (!rc) c->rows += (int64_t)n;
    free(cs);
    return rc;
}
static int create_loop_vs_bulk_naive(demo_ctx *c) { return create_loop_vs_bulk(c, false); }
static int create_loop_vs_bulk_fixed(demo_ctx *c) { return create_loop_vs_bulk(c, true); }

/* -- update_loop_vs_update (seed 001, 004): feature every unpublished
** book: load and save each (1 + N) vs one queryset update() (1) */
static int update_loop_vs_update(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_filter(qs, "published_date__isnull", corm_bool(true));
    if (fixed) {
        int64_t n = corm_update(qs, CORM_SET("featured", corm_bool(true)));
        if (n < 0) return finish(qs);
        c->rows += n;
        return finish(qs);
    }
    corm_order_by(qs, "id");
    Book *b;
    corm_foreach(b, qs)
    {
        b->featured = true;
        if (corm_save(c->db, b) != CORM_OK) return corm_qs_free(qs), demo_fail_db(c->db);
        c->rows++;
    }
    return finish(qs);
}
static int update_loop_vs_update_naive(demo_ctx *c) { return update_loop_vs_update(c, false); }
static int update_loop_vs_update_fixed(demo_ctx *c) { return update_loop_vs_update(c, true); }

/* -- bulk_update (seed 001: "bulk_update for differing values"): each
** book's page count recomputed and saved one by one (1 + N) vs written with
** one bulk_update (1 + 1) */
static int bulk_update_pages(demo_ctx *c, bool fixed)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_order_by(qs, "id");
    if (corm_eval(qs) != CORM_OK) return finish(qs);
    size_t n = corm_qs_len(qs);
    for (size_t i = 0; i < n; i++) {
        Book *b = corm_qs_at(qs, i);
        b->pages = (int32_t)(100 + b->id % 400); /* the seed's values: re-runnable */
        if (!fixed && corm_save(c->db, b) != CORM_OK) return corm_qs_free(qs), demo_fail_db(c->db);
    }
    if (fixed && corm_bulk_update(c->db, corm_qs_items(qs), n, "pages") < 0)
        return corm_qs_free(qs), demo_fail_db(c->db);
    c->rows += (int64_t)n;
    return finish(qs);
}
static int bulk_update_naive(demo_ctx *c) { return bulk_update_pages(c, false); }
static int bulk_update_fixed(demo_ctx *c) { return bulk_update_pages(c, true); }

/* -- tenant_manager (seed 001: "push tenant filters into a custom Manager
** so developers cannot forget them"): tenant 1's invoices, and a look at
** invoice 1 (tenant 2's).  Naive: no default scope (corm_unscoped), every
** tenant's rows come back; fixed: Invoice's `scope tenant_id` and `scope
** is_void = false` apply, invoice 1 does not exist for tenant 1. */
static int tenant_manager(demo_ctx *c, bool fixed)
{
    if (fixed && corm_scope_set(c->db, "tenant_id", corm_int(1)) != CORM_OK)
        return demo_fail_db(c->db);
    corm_qs *qs = corm_all(c->db, Invoice);
    if (!fixed) corm_unscoped(qs); /* what a plain manager gives */
    corm_order_by(qs, "id");
    Invoice *inv;
    corm_foreach(inv, qs)
    {
        use(inv->number);
        c->rows++;
    }
    int rc = finish(qs);
    corm_qs *other = corm_all(c->db, Invoice);
    if (!fixed) corm_unscoped(other);
    corm_filter(other, "pk", corm_int(1));
    inv = rc ? NULL : corm_get(other);
    if (inv) c->rows++;
    else if (!rc && corm_qs_error(other)->rc != CORM_NOTFOUND) rc = demo_fail_qs(other);
    corm_qs_free(other);
    corm_scope_clear(c->db, "tenant_id");
    return rc;
}
static int tenant_manager_naive(demo_ctx *c) { return tenant_manager(c, false); }
static int tenant_manager_fixed(demo_ctx *c) { return tenant_manager(c, true); }

/* -- deep_page (seed: "offset pagination grows slow at deep offsets"):
** page 900 of 1,000 (at --scale N: N/1000 books a page, the page 9/10 of
** the way), as a Paginator does it - a COUNT, then LIMIT/OFFSET, which
** reads and drops every row before the page - vs a keyset page: one query
** from the cursor the client got with page 899 (here made from the last
** book of page 899, whose id is known: the books are 1..N by id). */
static const char demo_key[] = "corm-demo-signing-key (not secret)";
static void deep_page_shape(const demo_ctx *c, int64_t *per_page, int64_t *page)
{
    *per_page = c->scale >= 1000 ? c->scale / 1000 : 1;
    int64_t pages = (c->scale + *per_page - 1) / *per_page;
    *page = pages * 9 / 10 > 0 ? pages * 9 / 10 : 1;
}
static int deep_page_count(demo_ctx *c, corm_qs *objects)
{
    Book *b;
    corm_foreach(b, objects)
    {
        use(b->title);
        c->rows++;
    }
    return corm_qs_failed(objects) ? demo_fail_qs(objects) : 0;
}
static int deep_page_naive(demo_ctx *c)
{
    int64_t per_page, number;
    deep_page_shape(c, &per_page, &number);
    corm_qs *qs = corm_all(c->db, Book);
    corm_order_by(qs, "id");
    corm_paginator *p = corm_paginator_new(qs, per_page, 0, true);
    corm_qs_free(qs);
    corm_page *page = p ? corm_paginator_page(p, number) : NULL;
    int rc = page ? deep_page_count(c, page->objects) : demo_fail_db(c->db);
    if (p && !page) fprintf(stderr, "%s\n", corm_paginator_error(p)->message);
    corm_page_free(page);
    corm_paginator_free(p);
    return rc;
}
/* A server signs cursors all day: OpenSSL's one-time set-up (~20 ms, the
** first HMAC of the process) belongs to no request. */
static int deep_page_prepare(demo_ctx *c)
{
    corm_qs *qs = corm_all(c->db, Book);
    Book b = CORM_NEW(Book);
    char cursor[256];
    corm_rc rc = corm_keyset_cursor(qs, &b, demo_key, sizeof demo_key - 1, cursor, sizeof cursor);
    corm_qs_free(qs);
    return rc == CORM_OK ? 0 : demo_fail_db(c->db);
}
static int cached_queryset_prepare(demo_ctx *c);
int demo_prepare(const demo_scenario *s, demo_ctx *c)
{
    if (strcmp(s->name, "cached_queryset") == 0) return cached_queryset_prepare(c);
    return strcmp(s->name, "deep_page") == 0 ? deep_page_prepare(c) : 0;
}
static int deep_page_fixed(demo_ctx *c)
{
    int64_t per_page, number;
    deep_page_shape(c, &per_page, &number);
    corm_qs *qs = corm_all(c->db, Book);
    corm_order_by(qs, "id");
    Book last = CORM_NEW(Book); /* the last book of page number - 1 */
    last.id = (number - 1) * per_page;
    char cursor[256];
    corm_keyset_page *page = NULL;
    if (corm_keyset_cursor(qs, &last, demo_key, sizeof demo_key - 1, cursor, sizeof cursor) ==
        CORM_OK)
        page = corm_keyset_page(qs, per_page, number > 1 ? cursor : NULL, demo_key,
                                sizeof demo_key - 1);
    int rc = page ? deep_page_count(c, page->objects) : demo_fail_db(c->db);
    corm_keyset_page_free(page);
    corm_qs_free(qs);
    return rc;
}

/* -- cached_queryset (seed: "cache the QuerySet result, explicitly"): the
** same page - the first 20 books with their author (select_related) and
** genres (prefetch) - read twice, as two requests would: from the
** database both times, or from a cached queryset (corm_qs_cache), whose
** second read runs no query.  The cache is a local one of this run's own,
** attached to the database so that every write through it invalidates
** what it keeps (docs/cache.md). */
static int cached_page(demo_ctx *c, bool cached)
{
    corm_qs *qs = corm_all(c->db, Book);
    corm_select_related(qs, "author");
    corm_prefetch_related(qs, "genres");
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 20);
    if (cached) corm_qs_cache(qs, 60000);
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        const corm_list *g = book_genres(b);
        if (!a || !g) return corm_qs_free(qs), demo_fail_db(c->db);
        use(b->title);
        use(a->name);
        for (size_t i = 0; i < g->n; i++) use(((Genre *)g->items[i])->name);
        c->rows++;
    }
    return finish(qs);
}
/* Open a cache, read the page twice through it, close it: the fixed
** variant's work; its first run in a process also sets OpenSSL's digests
** up (the cache keys are SHA-256), which belongs to no request. */
static int cached_reads(demo_ctx *c)
{
    corm_error err;
    corm_cache *cache = corm_cache_open(NULL, &err);
    if (!cache) return fprintf(stderr, "%s\n", err.message), 1;
    int rc = corm_db_use_cache(c->db, cache) == CORM_OK ? 0 : demo_fail_db(c->db);
    if (!rc) rc = cached_page(c, true);
    if (!rc) rc = cached_page(c, true); /* 0 queries */
    if (corm_db_use_cache(c->db, NULL) != CORM_OK && !rc) rc = demo_fail_db(c->db);
    corm_cache_close(cache);
    return rc;
}
static int cached_queryset_prepare(demo_ctx *c)
{
    demo_ctx quiet = *c;
    return cached_reads(&quiet);
}
static int cached_queryset_naive(demo_ctx *c)
{
    int rc = cached_page(c, false);
    return rc ? rc : cached_page(c, false);
}
static int cached_queryset_fixed(demo_ctx *c) { return cached_reads(c); }

const demo_scenario demo_scenarios[] = {
    {"books_author", "every book with its author's name (select_related)", books_author_naive,
     books_author_fixed},
    {"orders_user_product", "first 20 orders with user email and product name",
     orders_user_product_naive, orders_user_product_fixed},
    {"books_author_country", "every book with its author's country (nested select_related)",
     books_author_country_naive, books_author_country_fixed},
    {"authors_books", "every author with their books (prefetch a reverse fk)", authors_books_naive,
     authors_books_fixed},
    {"posts_tags", "posts with their tags (prefetch a many-to-many)", posts_tags_naive,
     posts_tags_fixed},
    {"books_author_genres", "books with author (select_related) and genres (prefetch)",
     books_author_genres_naive, books_author_genres_fixed},
    {"authors_published_books", "authors with published books only (Prefetch + to_attr)",
     authors_published_books_naive, authors_published_books_fixed},
    {"author_report", "authors, their books and each book's genres (nested Prefetch)",
     author_report_naive, author_report_fixed},
    {"users_orders_items",
     "users' orders with payment method and items (Prefetch with "
     "select_related and prefetch_related inside)",
     users_orders_items_naive, users_orders_items_fixed},
    {"orders_active_items_product",
     "orders with non-cancelled items and their product "
     "(filtered Prefetch + select_related)",
     orders_active_items_product_naive, orders_active_items_product_fixed},
    {"customers_orders_multi",
     "customers with all, recent and high-value orders "
     "(three Prefetch on one relation)",
     customers_orders_multi_naive, customers_orders_multi_fixed},
    {"books_recent_reviews",
     "the 5 newest reviews of each book with their user "
     "(top-N per parent)",
     books_recent_reviews_naive, books_recent_reviews_fixed},
    {"prefetch_then_filter",
     "prefetch books then filter per author (the mistake) vs "
     "Prefetch with to_attr",
     prefetch_then_filter_naive, prefetch_then_filter_fixed},
    {"authors_book_count", "a count per author in a loop vs annotate(Count)",
     authors_book_count_naive, authors_book_count_fixed},
    {"authors_latest_book", "each author's latest book title: a query each vs a Subquery",
     authors_latest_book_naive, authors_latest_book_fixed},
    {"only_deferred_access", "only(title) then reading description vs only the fields read",
     only_deferred_access_naive, only_deferred_access_fixed},
    {"values_list_titles", "titles as structs vs values_list(flat): rows, not structs",
     values_list_titles_naive, values_list_titles_fixed},
    {"count_vs_len", "len() loads every row vs count() (rows = rows sent)", count_vs_len_naive,
     count_vs_len_fixed},
    {"exists_vs_len", "if (len) loads every row vs exists() (rows = rows sent)",
     exists_vs_len_naive, exists_vs_len_fixed},
    {"iterate_twice", "two querysets evaluated vs one evaluated and iterated twice",
     iterate_twice_naive, iterate_twice_fixed},
    {"iterator_chunked", "every book in memory vs iterator(chunk_size=2000) (peak memory)",
     iterator_chunked_naive, iterator_chunked_fixed},
    {"create_loop_vs_bulk",
     "N comments saved one by one vs one bulk_create (a query per "
     "batch)",
     create_loop_vs_bulk_naive, create_loop_vs_bulk_fixed},
    {"update_loop_vs_update",
     "feature unpublished books: load and save each vs one "
     "update()",
     update_loop_vs_update_naive, update_loop_vs_update_fixed},
    {"bulk_update", "new page counts saved one by one vs one bulk_update", bulk_update_naive,
     bulk_update_fixed},
    {"tenant_manager",
     "tenant 1's invoices: no default scope (every tenant's rows) vs "
     "`scope tenant_id`",
     tenant_manager_naive, tenant_manager_fixed},
    {"deep_page",
     "page 900 of 1,000: a Paginator (COUNT + OFFSET) vs a keyset page (one query from a "
     "cursor)",
     deep_page_naive, deep_page_fixed},
    {"cached_queryset",
     "the same page read twice: from the database both times vs a cached queryset (the second "
     "read runs no query)",
     cached_queryset_naive, cached_queryset_fixed},
};
const int demo_nscenarios = (int)(sizeof demo_scenarios / sizeof demo_scenarios[0]);
