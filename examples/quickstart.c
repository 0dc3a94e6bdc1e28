/*
** quickstart.c - the README's 30-second example, runnable:
**   build/examples/quickstart [sqlite:file.db]
** Creates the bookstore schema, adds an author and two books, and lists
** the books of 2024 with their author in one query.
*/
#include <corm.h>
#include <stdio.h>
#include "bookstore.h"

static int fail(corm_db *db)
{
    char buf[2048];
    fprintf(stderr, "%s\n", corm_error_format(corm_db_error(db), buf, sizeof buf));
    corm_close(db);
    return 1;
}

int main(int argc, char **argv)
{
    corm_error err;
    corm_db *db = corm_open(argc > 1 ? argv[1] : "sqlite::memory:", &bookstore_schema, &err);
    if (!db) {
        char buf[2048];
        fprintf(stderr, "%s\n", corm_error_format(&err, buf, sizeof buf));
        return 1;
    }
    if (corm_migrate(db) != CORM_OK) return fail(db);

    Author a = CORM_NEW(Author); /* country and bio start NULL */
    a.name = "Ursula K. Le Guin";
    a.email = "ursula@example.com";
    if (corm_save(db, &a) != CORM_OK) return fail(db);
    const char *titles[] = {"The Dispossessed", "The Lathe of Heaven"};
    for (int i = 0; i < 2; i++) {
        Book b = CORM_NEW(Book);
        char isbn[32];
        snprintf(isbn, sizeof isbn, "978000000000%d", i);
        b.title = (char *)titles[i];
        b.author_id = a.id; /* publisher stays NULL, featured its default */
        b.published_date = "2024-05-01";
        b.isbn = isbn;
        b.description = "";
        if (corm_save(db, &b) != CORM_OK) return fail(db);
    }

    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    corm_filter(qs, "published_date__year", corm_int(2024));
    corm_order_by(qs, "title");
    Book *b;
    uint64_t before = corm_query_count(db);
    corm_foreach(b, qs) printf("%s by %s\n", b->title, book_author(b)->name);
    if (corm_qs_failed(qs)) fprintf(stderr, "%s\n", corm_qs_error(qs)->message);
    printf("(%llu query)\n", (unsigned long long)(corm_query_count(db) - before));
    corm_qs_free(qs);
    corm_close(db);
    return 0;
}
