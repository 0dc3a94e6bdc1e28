/*
** demo_seed.c - the deterministic bookstore of the seeds.  At --scale N:
** N books, N/10 authors (the seeds' 10 authors and 100 books at 100),
** 5 countries, 5 publishers, 5 genres, N/5 users, max(20, N/2) orders.
*/
#include "demo.h"

#include <stdio.h>

#define SAVE(obj)                                                         \
    do {                                                                  \
        if (corm_save(db, &(obj)) != CORM_OK) return demo_fail_db(db);    \
    } while (0)

static int64_t at_least(int64_t v, int64_t min) { return v < min ? min : v; }

int demo_seed(corm_db *db, int64_t scale)
{
    char a[128], b[128], c[128];
    int64_t nauthors = at_least(scale / 10, 1), nusers = at_least(scale / 5, 2);
    int64_t norders = at_least(scale / 2, 20);
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
        Genre g = CORM_NEW(Genre);
        static const char *const genres[] = {"Fiction", "History", "Science", "Poetry", "Travel"};
        g.name = (char *)genres[i - 1];
        SAVE(g);
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
        bk.isbn = c;
        bk.pages = (int32_t)(100 + i % 400);
        bk.price = 5.0 + (double)(i % 50);
        bk.description = "A book of the demo bookstore.";
        bk.featured = i % 10 == 0;
        SAVE(bk);
    }
    for (int64_t i = 1; i <= 10; i++) {
        Product p = CORM_NEW(Product);
        snprintf(a, sizeof a, "Product %lld", (long long)i);
        p.name = a;
        p.category_id = (i - 1) % 5 + 1;
        p.price = 10.0 * (double)i;
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
    }
    for (int64_t i = 1; i <= norders; i++) {
        Order o = CORM_NEW(Order);
        snprintf(b, sizeof b, "2024-%02lld-%02lld 12:00:00", (long long)(i % 12 + 1),
                 (long long)(i % 28 + 1));
        o.user_id = (i - 1) % nusers + 1;
        o.product_id = (i - 1) % 10 + 1;
        corm_set_null(&o, "payment_method", true);
        o.total = 20.0 + (double)(i % 100);
        o.status = i % 3 ? "paid" : "new";
        o.created_at = b;
        o.tenant_id = i % 2 + 1;
        SAVE(o);
    }
    if (corm_commit(db) != CORM_OK) return demo_fail_db(db);
    return 0;
}
