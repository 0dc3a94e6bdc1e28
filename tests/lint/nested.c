/* corm lint: objects reached through related lists and related querysets,
** counts in loops, deferred fields (tests/lint/check.sh compares the
** output with nested.expected). */
#include "bookstore.h"

#include <stdio.h>

/* an item of a related list reads a relation of its own */
void list_items(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books");
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = author_books(a);
        for (size_t i = 0; i < books->n; i++) {
            Book *b = books->items[i];
            printf("%zu\n", book_genres(b)->n);                 /* books__genres: a query each */
            printf("%s\n", book_author(books->items[i])->name); /* its parent: cached */
        }
    }
    corm_qs_free(qs);
}

/* a Prefetch whose queryset has eager loads of its own covers them */
void prefetch_with_queryset(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_qs *books = corm_all(db, Book);
    corm_prefetch_related(books, "genres");
    corm_select_related(books, "publisher");
    corm_prefetch(qs, "books", books, NULL);
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *list = author_books(a);
        for (size_t i = 0; i < list->n; i++) {
            printf("%zu\n", book_genres(list->items[i])->n);
            Publisher *p = book_publisher((Book *)list->items[i]);
            printf("%s\n", p ? p->name : "-");
        }
    }
    corm_qs_free(qs);
}

/* a related queryset: unchanged over a prefetch it is free, filtered it is
** a query per object, counted it is a COUNT per object */
void related_querysets(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books");
    Author *a;
    corm_foreach(a, qs)
    {
        corm_qs *all = author_books_qs(a);
        Book *b;
        corm_foreach(b, all) printf("%s\n", b->title);
        corm_qs_free(all);

        corm_qs *recent = author_books_qs(a);
        corm_filter(recent, "published_date__year__gte", corm_int(2020));
        corm_foreach(b, recent) printf("%s\n", b->title);
        corm_qs_free(recent);
    }
    corm_qs_free(qs);

    corm_qs *plain = corm_all(db, Author);
    corm_foreach(a, plain)
    {
        corm_qs *mine = author_books_qs(a);
        printf("%lld\n", (long long)corm_count(mine));
        corm_qs_free(mine);
    }
    corm_qs_free(plain);
}

/* objects of a related queryset read their own relations */
void inner_objects(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs)
    {
        corm_qs *mine = book_reviews_qs(b);
        corm_order_by(mine, "-created_at");
        if (corm_eval(mine) != CORM_OK) return;
        for (size_t i = 0; i < corm_qs_len(mine); i++)
            printf("%s\n", review_user(corm_qs_at(mine, i))->email);
        corm_qs_free(mine);
    }
    corm_qs_free(qs);
}

/* a field left out by only() */
void deferred(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_only(qs, "title");
    Book *b;
    corm_foreach(b, qs) printf("%s %s\n", b->title, corm_field(b, description));
    corm_qs_free(qs);

    corm_qs *both = corm_all(db, Book);
    corm_only(both, "title", "description");
    corm_foreach(b, both) printf("%s\n", corm_field(b, description));
    corm_qs_free(both);
}

/* a related queryset handed to a function the linter cannot read */
void unknown_helper(corm_db *db, void (*use)(corm_qs *))
{
    corm_qs *qs = corm_all(db, Author);
    Author *a;
    corm_foreach(a, qs)
    {
        corm_qs *mine = author_books_qs(a);
        use(mine);
        printf("%lld\n", (long long)corm_count(mine));
        corm_qs_free(mine);
    }
    corm_qs_free(qs);
}

/* an iterator's chunks are results like any other */
void iterated(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_iter *it = corm_iterator(qs, 100);
    Book *b;
    while ((b = corm_iter_next(it))) printf("%s\n", book_author(b)->name);
    corm_iter_free(it);
    corm_qs_free(qs);

    corm_qs *joined = corm_all(db, Book);
    corm_select_related(joined, "author");
    it = corm_iterator(joined, 100);
    while ((b = corm_iter_next(it))) printf("%s\n", book_author(b)->name);
    corm_iter_free(it);
    corm_qs_free(joined);
}

/* a queryset built by a helper of the file keeps the helper's eager loads */
static corm_qs *books_with_authors(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    if (!qs) return NULL;
    corm_select_related(qs, "author");
    return qs;
}

void from_helpers(corm_db *db)
{
    corm_qs *qs = books_with_authors(db);
    Book *b;
    corm_foreach(b, qs)
    {
        printf("%s\n", book_author(b)->name); /* joined by the helper */
        printf("%zu\n", book_genres(b)->n);   /* a query per book */
    }
    corm_qs_free(qs);
}

/* objects of a queryset saved one by one, in a foreach or an index loop */
void saves(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs)
    {
        b->pages += 1;
        if (corm_save(db, b) != CORM_OK) return;
    }
    corm_qs_free(qs);

    corm_qs *all = corm_all(db, Book);
    if (corm_eval(all) != CORM_OK) return;
    for (size_t i = 0; i < corm_qs_len(all); i++) {
        Book *one = corm_qs_at(all, i);
        printf("%s\n", book_author(one)->name);
    }
    corm_qs_free(all);
}
