/*
** demo_seed.c - the deterministic bookstore of the seeds.  At --scale N:
** N books (every 10th unpublished: no date) with 3 genres each, N/10
** authors (the seeds' 10 authors and 100 books at 100), 5 countries,
** 5 publishers, 5 genres, 5 tags, max(10, N/10) posts with 2 tags each,
** max(2, N/5) users with a profile and a payment method, max(20, N/2)
** orders with 3 items each (every 4th item cancelled), 7 reviews for
** each of the first 1,000 books, and an invoice per order in the order's
** tenant (every 10th void).
*/
#include "demo.h"

#include <stdio.h>

#define SAVE(obj)                                                      \
    do {                                                               \
        if (corm_save(db, &(obj)) != CORM_OK) return demo_fail_db(db); \
    } while (0)

static int64_t at_least(int64_t v, int64_t min) { return v < min ? min : v; }

int demo_seed(corm_db *db, int64_t scale)
{
    char a[128], b[128], c[128];
    int64_t nauthors = at_least(scale / 10, 1), nusers = at_least(scale / 5, 2);
    int64_t norders = at_least(scale / 2, 20), nposts = at_least(scale / 10, 10);
    Genre genres[5];
    Tag tags[5];
    if (corm_begin(db) != CORM_OK) return demo_fail_db(db);
    for (int i = 1; i <= 5; i++) {
        Country co = CORM_NEW(Country);
        snprintf(a, sizeof a, "Country %d", i);
        snprintf(b, sizeof b, "C%d", i);
        co.name = a;
        co.code = b;
        SAVE(co);
        Publisher p = CORM_NEW(Publisher);
        snprintf(a, sizeof a, "Publisher %d", i);
        p.name = a;
        p.country_id = i;
        SAVE(p);
        static const char *const gnames[] = {"Fiction", "History", "Science", "Poetry", "Travel"};
        genres[i - 1] = CORM_NEW(Genre);
        genres[i - 1].name = (char *)gnames[i - 1];
        SAVE(genres[i - 1]);
        static const char *const tnames[] = {"django", "c", "sql", "performance", "orm"};
        tags[i - 1] = CORM_NEW(Tag);
        tags[i - 1].name = (char *)tnames[i - 1];
        SAVE(tags[i - 1]);
        Category cat = CORM_NEW(Category);
        snprintf(a, sizeof a, "Category %d", i);
        cat.name = a;
        SAVE(cat);
    }
    for (int64_t i = 1; i <= nauthors; i++) {
        Author au = CORM_NEW(Author);
        snprintf(a, sizeof a, "Author %lld", (long long)i);
        snprintf(b, sizeof b, "author%lld@example.com", (long long)i);
        au.name = a;
        au.email = b;
        au.country_id = (i - 1) % 5 + 1;
        corm_set_null(&au, "bio", true);
        SAVE(au);
    }
    for (int64_t i = 1; i <= scale; i++) {
        Book bk = CORM_NEW(Book);
        snprintf(a, sizeof a, "Book %lld", (long long)i);
        snprintf(b, sizeof b, "%04lld-%02lld-%02lld", (long long)(2010 + i % 15),
                 (long long)(i % 12 + 1), (long long)(i % 28 + 1));
        snprintf(c, sizeof c, "978%010lld", (long long)i);
        bk.title = a;
        bk.author_id = (i - 1) % nauthors + 1;
        bk.publisher_id = (i - 1) % 5 + 1;
        bk.published_date = b;
        if (i % 10 == 0) {
            bk.published_date = NULL;
            corm_set_null(&bk, "published_date", true);
        }
        bk.isbn = c;
        bk.pages = (int32_t)(100 + i % 400);
        bk.price = corm_dec_units(500 + 100 * (i % 50), 2); /* 5.00 + i % 50 */
        bk.description = "A book of the demo bookstore.";
        bk.featured = i % 10 == 0;
        SAVE(bk);
        for (int64_t k = 0; k < 3; k++)
            if (corm_m2m_add(db, &bk, BOOK_REL_GENRES, &genres[(i + k) % 5]) != CORM_OK)
                return demo_fail_db(db);
    }
    for (int64_t i = 1; i <= nposts; i++) {
        Post p = CORM_NEW(Post);
        snprintf(a, sizeof a, "Post %lld", (long long)i);
        p.title = a;
        p.body = "Notes on the ORM.";
        SAVE(p);
        for (int64_t k = 0; k < 2; k++)
            if (corm_m2m_add(db, &p, POST_REL_TAGS, &tags[(i + k) % 5]) != CORM_OK)
                return demo_fail_db(db);
    }
    for (int64_t i = 1; i <= 10; i++) {
        Product p = CORM_NEW(Product);
        snprintf(a, sizeof a, "Product %lld", (long long)i);
        p.name = a;
        p.category_id = (i - 1) % 5 + 1;
        p.price = corm_dec_units(1000 * (int64_t)i, 2); /* 10.00 * i */
        SAVE(p);
    }
    for (int64_t i = 1; i <= nusers; i++) {
        User u = CORM_NEW(User);
        snprintf(a, sizeof a, "user%lld@example.com", (long long)i);
        snprintf(b, sizeof b, "User %lld", (long long)i);
        u.email = a;
        u.name = b;
        u.is_active = true;
        u.tenant_id = i % 2 + 1;
        if (i > 1) u.account_manager_id = 1;
        else corm_set_null(&u, "account_manager", true);
        SAVE(u);
        Profile pr = CORM_NEW(Profile);
        pr.user_id = u.id;
        pr.bio = "Reader.";
        SAVE(pr);
        PaymentMethod pm = CORM_NEW(PaymentMethod);
        pm.user_id = u.id;
        pm.kind = i % 2 ? "card" : "invoice";
        SAVE(pm);
    }
    for (int64_t i = 1; i <= norders; i++) {
        Order o = CORM_NEW(Order);
        snprintf(b, sizeof b, "2024-%02lld-%02lld 12:00:00", (long long)(i % 12 + 1),
                 (long long)(i % 28 + 1));
        o.user_id = (i - 1) % nusers + 1;
        o.product_id = (i - 1) % 10 + 1;
        o.payment_method_id = o.user_id; /* one payment method per user, same ids */
        o.total = corm_dec_units(2000 + 100 * (i % 100), 2); /* 20.00 + i % 100 */
        o.status = i % 3 ? "paid" : "new";
        o.created_at = b;
        o.tenant_id = i % 2 + 1;
        SAVE(o);
        for (int64_t k = 0; k < 3; k++) {
            OrderItem it = CORM_NEW(OrderItem);
            it.order_id = o.id;
            it.product_id = (i + k) % 10 + 1;
            it.quantity = (int32_t)(k + 1);
            it.price = corm_dec_units(1000 * ((i + k) % 10 + 1), 2); /* 10.00 * (...) */
            it.is_cancelled = (i * 3 + k) % 4 == 0;
            SAVE(it);
        }
    }
    int64_t nreviewed = scale < 1000 ? scale : 1000;
    for (int64_t i = 1; i <= nreviewed; i++) {
        for (int64_t k = 0; k < 7; k++) {
            Review r = CORM_NEW(Review);
            snprintf(b, sizeof b, "2024-%02lld-%02lld 10:00:00", (long long)(k + 1),
                     (long long)(i % 28 + 1));
            r.book_id = i;
            r.user_id = (i + k) % nusers + 1;
            r.rating = (int32_t)(k % 5 + 1);
            r.body = "Worth reading.";
            r.created_at = b;
            SAVE(r);
        }
    }
    /* one invoice per order, in the order's tenant; every 10th void */
    for (int64_t i = 1; i <= norders; i++) {
        Invoice inv = CORM_NEW(Invoice);
        snprintf(a, sizeof a, "INV-%06lld", (long long)i);
        inv.user_id = (i - 1) % nusers + 1;
        inv.order_id = i;
        inv.number = a;
        inv.total = corm_dec_units(2000 + 100 * (i % 100), 2); /* 20.00 + i % 100 */
        inv.tenant_id = i % 2 + 1;
        inv.is_void = i % 10 == 0;
        SAVE(inv);
    }
    if (corm_commit(db) != CORM_OK) return demo_fail_db(db);
    return 0;
}
