/*
** raw_common.h - what the two hand-written C variants share: raw.c on the
** sqlite3 API and raw_pg.c on libpq.  Both load the same program's objects
** (plain structs, malloc'd strings), stitch prefetched children through a
** hash map, compute the same checks and free the same way; only running a
** statement and reading a row's columns into these structs is theirs.
**
** Ownership: an object owns the strings it points to and what its comments
** call owned; the arrays of pointers a stitch fills (books, genres,
** paid_orders) are owned, the objects they point to are not.  The books
** raw_bulk_books makes borrow their strings from the bench_bulk_books.
*/
#ifndef CORM_BENCH_RAW_COMMON_H
#define CORM_BENCH_RAW_COMMON_H

#include "bench.h"

#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------ structs */

typedef struct r_country {
    int64_t id;
    char *name, *code;
} r_country;

typedef struct r_publisher {
    int64_t id;
    char *name;
    int64_t country_id;
    bool country_null;
} r_publisher;

struct r_book;

typedef struct r_author {
    int64_t id;
    char *name, *email;
    int64_t country_id;
    bool country_null;
    char *bio;
    r_country *country;    /* select_related author__country; owned */
    struct r_book **books; /* prefetch books */
    size_t nbooks;
    int64_t book_count; /* annotate */
} r_author;

typedef struct r_genre {
    int64_t id;
    char *name;
} r_genre;

typedef struct r_book {
    int64_t id;
    char *title;
    int64_t author_id, publisher_id;
    bool publisher_null;
    char *published_date, *isbn;
    int32_t pages;
    double price;
    char *description;
    bool featured;
    r_author *author;       /* select_related; owned */
    r_publisher *publisher; /* select_related; owned */
    r_genre **genres;       /* prefetch genres */
    size_t ngenres;
} r_book;

typedef struct r_order {
    int64_t id, user_id, product_id, payment_method_id;
    double total;
    char *status, *created_at;
    int64_t tenant_id;
} r_order;

typedef struct r_user {
    int64_t id;
    char *email, *name;
    int64_t account_manager_id;
    bool is_active;
    int64_t tenant_id;
    r_order **paid_orders; /* prefetch to_attr */
    size_t npaid;
} r_user;

/* raw_pg.c reads a parent's id through a pointer to the parent. */
_Static_assert(offsetof(r_author, id) == 0 && offsetof(r_book, id) == 0 &&
                   offsetof(r_user, id) == 0,
               "id first");

/* prefetch genres: one row of the book_genres JOIN genre query */
typedef struct r_link {
    r_book *book;   /* NULL: not a book of this query */
    r_genre *genre; /* owned */
} r_link;

/* The columns read_book and read_author expect, in this order. */
#define BOOK_COLS                                                            \
    "b.id, b.title, b.author_id, b.publisher_id, b.published_date, b.isbn, " \
    "b.pages, b.price, b.description, b.featured"
#define AUTHOR_COLS "a.id, a.name, a.email, a.country_id, a.bio"

/* select_related (the book's publisher) and select_related_nested (the
** author's country): one JOIN each, the same text on both databases; the
** related row's columns start at 15. */
#define SQL_SELECT_RELATED                                               \
    "SELECT " BOOK_COLS ", " AUTHOR_COLS ", p.id, p.name, p.country_id " \
    "FROM book b JOIN author a ON a.id = b.author_id "                   \
    "LEFT JOIN publisher p ON p.id = b.publisher_id"
#define SQL_SELECT_RELATED_NESTED                                     \
    "SELECT " BOOK_COLS ", " AUTHOR_COLS ", co.id, co.name, co.code " \
    "FROM book b JOIN author a ON a.id = b.author_id "                \
    "LEFT JOIN country co ON co.id = a.country_id"

static inline size_t raw_slen(const char *s) { return s ? strlen(s) : 0; }

/* ------------------------------------------------------------ freeing */

/* The strings of b (not its related objects, not b). */
void raw_book_fields_free(r_book *b);
/* The strings, country and books array of a (not a). */
void raw_author_free(r_author *a);
/* Each book with its owned author and publisher and its genres array, then v. */
void raw_books_free(r_book *v, size_t n);
void raw_authors_free(r_author *v, size_t n);
void raw_links_free(r_link *v, size_t n); /* and their genres */
void raw_users_free(r_user *v, size_t n);
void raw_orders_free(r_order *v, size_t n);
void raw_strings_free(char **v, size_t n);

/* ------------------------------------------------------------ stitching */

/* Give each parent one array of its children, in the children's order:
** count the children per parent, then place them.  idx maps a parent's id
** to the parent (built by the caller as it loads them); a child whose
** parent is not in idx (for links: whose book is NULL) is left out. */
void raw_stitch_books(r_author *av, size_t na, r_book *bv, size_t nb, const bench_map *idx);
void raw_stitch_genres(r_book *v, size_t n, const r_link *lv, size_t nl);
void raw_stitch_paid_orders(r_user *uv, size_t nu, r_order *ov, size_t no, const bench_map *idx);

/* ------------------------------------------------------------ checks */

/* What each scenario computes from what it read (bench.h: the runner
** compares them with corm's and Django's). */
int64_t raw_check_select_related(const r_book *v, size_t n);
int64_t raw_check_select_related_nested(const r_book *v, size_t n);
int64_t raw_check_prefetch_books(const r_author *v, size_t n);
int64_t raw_check_prefetch_genres(const r_book *v, size_t n);
int64_t raw_check_prefetch_to_attr(const r_user *v, size_t n);
int64_t raw_check_values_list_flat(char *const *v, size_t n);
int64_t raw_check_annotate_having(const r_author *v, size_t n);
/* iterator (per chunk) and only: ids and title lengths */
int64_t raw_check_titles(const r_book *v, size_t n);

/* ------------------------------------------------------------ writes */

/* bulk_create, timed: the program's objects for the rows to write (ids 0
** until written); their strings point into s.  Free with free(). */
r_book *raw_bulk_books(const bench_bulk_books *s);

/* bulk_update: the objects, loaded and changed before the clock starts by
** the variant's prepare (c->state); raw_bulk_update_release frees them. */
typedef struct raw_bu_state {
    r_book *v;
    size_t n;
} raw_bu_state;
void raw_bulk_update_release(bench_ctx *c);

#endif
