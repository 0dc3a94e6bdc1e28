/*
** managers.c - Django's managers in C: named queryset builders that encode
** an optimization once (the seeds' BookManager.for_list_view), and a
** default scope that a multi-tenant program cannot forget (Invoice's
** `scope tenant_id` in bookstore.corm).  docs/writes.md explains both.
**
**   build/examples/managers            (an in-memory database)
*/
#include <corm.h>
#include "bookstore.h"

#include <stdio.h>

/* ---- named querysets: plain functions returning a new queryset, so every
** view asks for the same joins and the call site names the intent.  They
** compose: the caller filters, orders or slices what they return. */

/* Book.objects.with_author() */
static corm_qs *books_with_author(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    return qs;
}

/* Book.objects.for_list_view(): what a list page reads, in 2 queries */
static corm_qs *books_for_list_view(corm_db *db)
{
    corm_qs *qs = books_with_author(db);
    corm_prefetch_related(qs, "genres");
    corm_order_by(qs, "-published_date", "title");
    return qs;
}

/* Invoice.objects.for_tenant(t): with a default scope there is nothing to
** remember here; the function documents where the tenant comes from. */
static corm_rc enter_tenant(corm_db *db, int64_t tenant)
{
    return corm_scope_set(db, "tenant_id", corm_int(tenant));
}

static int fail(corm_db *db)
{
    char buf[2048];
    fprintf(stderr, "%s\n", corm_error_format(corm_db_error(db), buf, sizeof buf));
    corm_close(db);
    return 1;
}

int main(void)
{
    corm_error err;
    corm_db *db = corm_open("sqlite::memory:", &bookstore_schema, &err);
    if (!db) return 1;
    if (corm_migrate(db) != CORM_OK) return fail(db);

    /* a little data: one author, two books, two tenants' invoices */
    Author a = CORM_NEW(Author);
    a.name = "Ursula K. Le Guin";
    a.email = "ursula@example.com";
    if (corm_save(db, &a) != CORM_OK) return fail(db);
    Book books[2] = {CORM_NEW(Book), CORM_NEW(Book)};
    const char *titles[2] = {"The Dispossessed", "The Left Hand of Darkness"};
    const char *isbns[2] = {"9780060512750", "9780441478125"};
    for (int i = 0; i < 2; i++) {
        books[i].title = (char *)titles[i];
        books[i].author_id = a.id;
        books[i].published_date = i ? "1969-03-01" : "1974-05-01";
        books[i].isbn = (char *)isbns[i];
        books[i].pages = 300;
        books[i].price = corm_dec("9.50");
        books[i].description = "";
    }
    if (corm_bulk_create_array(db, books, 2, NULL) != CORM_OK) return fail(db);

    corm_qs *qs = books_for_list_view(db);
    Book *b;
    corm_foreach(b, qs)
        printf("%s by %s (%zu genres)\n", b->title, book_author(b)->name, book_genres(b)->n);
    corm_qs_free(qs);

    User u = CORM_NEW(User);
    u.email = "buyer@example.com";
    u.name = "Buyer";
    if (corm_save(db, &u) != CORM_OK) return fail(db);
    for (int t = 1; t <= 2; t++) {
        Invoice inv = CORM_NEW(Invoice);
        inv.user_id = u.id;
        inv.number = t == 1 ? "T1-0001" : "T2-0001";
        inv.total = corm_dec("10.00");
        inv.tenant_id = t;
        if (corm_save(db, &inv) != CORM_OK) return fail(db);
    }
    /* no tenant yet: the scoped model refuses to answer */
    corm_qs *inv = corm_all(db, Invoice);
    if (corm_count(inv) < 0) printf("without a tenant: %s\n", corm_qs_error(inv)->message);
    corm_qs_free(inv);
    if (enter_tenant(db, 2) != CORM_OK) return fail(db);
    inv = corm_all(db, Invoice);
    Invoice *i;
    corm_foreach(i, inv) printf("tenant 2 sees %s\n", i->number);
    corm_qs_free(inv);
    corm_close(db);
    return 0;
}
