/*
** corm/paginate.h - pagination: Django's Paginator (pages by number, one
** cached COUNT, orphans) over a queryset, and keyset pages (by signed
** cursor).  Included by <corm.h>; include that.  docs/pagination.md.
*/
#ifndef CORM_PAGINATE_H
#define CORM_PAGINATE_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corm_paginator corm_paginator;

/* A page of a paginator.  Owned by the caller (corm_page_free). */
typedef struct corm_page {
    int64_t number;              /* 1-based */
    int64_t start_index;         /* 1-based index of its first object; 0 when empty */
    int64_t end_index;           /* 1-based index of its last object; 0 when empty */
    bool has_next, has_previous; /* next_number = number + 1, previous = number - 1 */
    corm_qs *objects;            /* the page's slice of the queryset, not yet
                                   ** evaluated (corm_foreach it); owned by the page */
} corm_page;

/*
** corm_paginator_new - Django's Paginator(object_list, per_page, orphans,
** allow_empty_first_page) over a copy of qs (qs stays the caller's).
** per_page >= 1; orphans >= 0: a last page of at most orphans objects is
** merged into the previous one.  NULL with the error on qs's db for a bad
** argument (CORM_MISUSE).  An unordered queryset (no order_by and no default
** ordering) gets Django's UnorderedObjectListWarning as one line on stderr,
** also kept in corm_paginator_warning.  Since: 0.2
*/
CORM_API corm_paginator *corm_paginator_new(const corm_qs *qs, int64_t per_page, int64_t orphans,
                                            bool allow_empty_first_page);
CORM_API void corm_paginator_free(corm_paginator *p);
/* The paginator's last error (CORM_OK when the last call succeeded). */
CORM_API const corm_error *corm_paginator_error(const corm_paginator *p);
/* The warning given at creation, or NULL. */
CORM_API const char *corm_paginator_warning(const corm_paginator *p);
/* The number of objects: one COUNT query, the first time only; -1 on error. */
#define corm_paginator_count(p) corm_paginator_count_at((p), CORM_SITE)
CORM_API int64_t corm_paginator_count_at(corm_paginator *p, corm_site site);
/* The number of pages (counts first if needed); -1 on error. */
#define corm_paginator_num_pages(p) corm_paginator_num_pages_at((p), CORM_SITE)
CORM_API int64_t corm_paginator_num_pages_at(corm_paginator *p, corm_site site);
/* Page number n, or NULL with the error on p: Django's EmptyPage is
** CORM_NOTFOUND ("That page number is less than 1", "That page contains no
** results"). */
#define corm_paginator_page(p, n) corm_paginator_page_at((p), (n), CORM_SITE)
CORM_API corm_page *corm_paginator_page_at(corm_paginator *p, int64_t number, corm_site site);
/* The page named by text (a request parameter), read as Python's int()
** reads it (spaces around and a sign allowed; an integer too large is past
** the last page): PageNotAnInteger is CORM_INVALID ("That page number is
** not an integer"), then as above. */
#define corm_paginator_page_str(p, s) corm_paginator_page_str_at((p), (s), CORM_SITE)
CORM_API corm_page *corm_paginator_page_str_at(corm_paginator *p, const char *number,
                                               corm_site site);
/* Django's get_page: never an error for a bad number - text that is not an
** integer gives the first page, a number out of range the last.  NULL when
** the database fails, and (Django's EmptyPage, CORM_NOTFOUND) when there
** are no pages at all: no objects and allow_empty_first_page false. */
#define corm_paginator_get_page(p, s) corm_paginator_get_page_at((p), (s), CORM_SITE)
CORM_API corm_page *corm_paginator_get_page_at(corm_paginator *p, const char *number,
                                               corm_site site);
CORM_API void corm_page_free(corm_page *page);

/* ---- keyset (seek) pagination: docs/pagination.md, "Keyset pages" ----
**
** Pages by the queryset's ordering, made total by appending the primary
** key unless the ordering already ends in a unique, non-NULL field.  A page
** is one query (`WHERE (ordering) > (cursor values) ... LIMIT per_page+1`),
** as fast at page 900 as at page 1 with an index on the ordering columns.
** NULLs sort as corm orders them on every backend: before every value
** ascending, after every value descending.  The ordering's terms are fields
** of the model itself ("-published_date", "title", "author" for its key).
**
** Cursors are opaque URL-safe text: the ordering values of the page's
** first or last row, signed with HMAC-SHA256 under the application's key
** (at least 16 bytes, kept secret), so a client cannot forge or alter one:
** a tampered cursor, one signed with another key, or one made for another
** ordering is refused with CORM_INVALID. */
typedef struct corm_keyset_page {
    corm_qs *objects;      /* the page's objects, evaluated, in the ordering's order
                      ** (corm_qs_len / corm_qs_at / corm_foreach); owned by the page */
    bool has_next;         /* exact going forward; true when reached backward */
    bool has_previous;     /* exact going backward; true when reached forward by a cursor */
    char *next_cursor;     /* the page after this one, or NULL (no next page) */
    char *previous_cursor; /* the page before this one, or NULL */
} corm_keyset_page;

/*
** corm_keyset_page - the page of qs (not changed; its ordering, filters,
** select_related and prefetches apply) named by cursor: NULL or "" for the
** first page, else a next_cursor or previous_cursor of an earlier page of
** the same ordering.  per_page >= 1; key/key_len: the signing key.  NULL
** on failure, with the error on qs's db (corm_db_error): CORM_MISUSE for a
** bad argument or a queryset keyset pages cannot order (sliced, values(),
** raw, or an ordering term that is not a field of the model), CORM_INVALID
** for a cursor refused, or the database's error.  Since: 0.2
*/
#define corm_keyset_page(qs, per_page, cursor, key, key_len) \
    corm_keyset_page_at((qs), (per_page), (cursor), (key), (key_len), false, CORM_SITE)
/* The last page (the last per_page objects), without a cursor. */
#define corm_keyset_last_page(qs, per_page, key, key_len) \
    corm_keyset_page_at((qs), (per_page), NULL, (key), (key_len), true, CORM_SITE)
CORM_API corm_keyset_page *corm_keyset_page_at(const corm_qs *qs, int64_t per_page,
                                               const char *cursor, const void *key, size_t key_len,
                                               bool last, corm_site site);
CORM_API void corm_keyset_page_free(corm_keyset_page *page);
/* The cursor of the page that starts right after obj (an object of qs's
** model, loaded or built: its ordering fields are read) in qs's ordering,
** written into buf: to resume a listing after a known object.  CORM_OK, or
** the error on qs's db (CORM_MISUSE: obj of another model, buf too small -
** 256 bytes hold a cursor of short values).  Since: 0.2 */
CORM_API CORM_WARN_UNUSED corm_rc corm_keyset_cursor(const corm_qs *qs, const void *obj,
                                                     const void *key, size_t key_len, char *buf,
                                                     size_t size);

#ifdef __cplusplus
}
#endif
#endif
