/* corm lint: relation reads in corm_foreach loops (tests/lint/check.sh
** compares the output with loops.expected). */
#include "bookstore.h"

#include <stdio.h>

static void show_author(Book *b) { printf("%s\n", book_author(b)->name); }

static void show(Book *b) { show_author(b); }

void naive(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs)
    {
        printf("%s %zu\n", book_author(b)->name, book_genres(b)->n);
        printf("%s\n", author_country(book_author(b))->name);
    }
    corm_qs_free(qs);
}

void through_helpers(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "title");
    Book *b;
    corm_foreach(b, qs) show(b);
    corm_qs_free(qs);
}

void sets(corm_db *db)
{
    corm_qs *authors = corm_all(db, Author);
    Author *a;
    corm_foreach(a, authors) printf("%zu\n", author_books(a)->n);
    corm_qs_free(authors);
}

void raw(corm_db *db)
{
    corm_qs *qs = corm_raw(db, Book, "SELECT * FROM book", NULL, 0);
    Book *b;
    corm_foreach(b, qs) printf("%s\n", book_author(b)->name);
    corm_qs_free(qs);
}

void to_attr(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_qs *recent = corm_all(db, Book);
    corm_prefetch(qs, "books", recent, "recent_books");
    Author *a;
    corm_foreach(a, qs) printf("%zu %zu\n", corm_attr(a, "recent_books")->n, author_books(a)->n);
    corm_qs_free(qs);
}

void covered(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author__country");
    corm_prefetch_related(qs, "genres");
    Book *b;
    corm_foreach(b, qs)
    {
        printf("%s %s %zu\n", book_author(b)->name, author_country(book_author(b))->name,
               book_genres(b)->n);
        show(b);
    }
    corm_qs_free(qs);

    corm_qs *authors = corm_all(db, Author);
    corm_prefetch(authors, "books", NULL, NULL);
    Author *a;
    corm_foreach(a, authors) printf("%zu\n", author_books(a)->n);
    corm_qs_free(authors);

    corm_qs *raw = corm_raw(db, Book, "SELECT * FROM book", NULL, 0);
    corm_prefetch_related(raw, "author");
    corm_foreach(b, raw) printf("%s\n", book_author(b)->name);
    corm_qs_free(raw);
}

void suppressed(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    Book *b;
    corm_foreach(b, qs) printf("%s\n", book_author(b)->name); /* corm-lint: ignore */
    corm_qs_free(qs);
}

/* eager loads the linter cannot see: silent, left to the runtime */
void add_eager(corm_qs *qs);
void cannot_follow(corm_db *db, corm_qs *given)
{
    Book *b;
    corm_foreach(b, given) show(b);
    corm_qs *qs = corm_all(db, Book);
    add_eager(qs);
    corm_foreach(b, qs) show(b);
    corm_qs_free(qs);
}

/* one body for both variants of a scenario: the branch is followed */
static void scenario(corm_db *db, bool fixed)
{
    corm_qs *qs = corm_all(db, Book);
    if (fixed) corm_select_related(qs, "author__country");
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        printf("%s %s\n", a->name, author_country(a)->name);
        if (fixed) printf("%s\n", book_author(b)->name);
    }
    corm_qs_free(qs);
}
void scenario_fixed(corm_db *db) { scenario(db, true); }
void scenario_naive(corm_db *db) { scenario(db, false); }
