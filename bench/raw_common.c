/*
** raw_common.c - the part of the hand-written C variants that does not
** touch a driver (raw_common.h): freeing the program's objects, stitching
** children to parents, the checks, the bulk writes' objects and state.
** raw.c and raw_pg.c call these from their timed runs, so both pay the
** same for them, as one program written for two databases would.
*/
#include "raw_common.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ freeing */

void raw_book_fields_free(r_book *b)
{
    free(b->title);
    free(b->published_date);
    free(b->isbn);
    free(b->description);
}

void raw_author_free(r_author *a)
{
    if (!a) return;
    free(a->name);
    free(a->email);
    free(a->bio);
    if (a->country) {
        free(a->country->name);
        free(a->country->code);
        free(a->country);
    }
    free(a->books);
}

void raw_books_free(r_book *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        r_book *b = &v[i];
        if (b->author) {
            raw_author_free(b->author);
            free(b->author);
        }
        if (b->publisher) {
            free(b->publisher->name);
            free(b->publisher);
        }
        free(b->genres);
        raw_book_fields_free(b);
    }
    free(v);
}

void raw_authors_free(r_author *v, size_t n)
{
    for (size_t i = 0; i < n; i++) raw_author_free(&v[i]);
    free(v);
}

void raw_links_free(r_link *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].genre->name);
        free(v[i].genre);
    }
    free(v);
}

void raw_users_free(r_user *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].email);
        free(v[i].name);
        free(v[i].paid_orders);
    }
    free(v);
}

void raw_orders_free(r_order *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].status);
        free(v[i].created_at);
    }
    free(v);
}

void raw_strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ------------------------------------------------------------ stitching */

void raw_stitch_books(r_author *av, size_t na, r_book *bv, size_t nb, const bench_map *idx)
{
    for (size_t i = 0; i < nb; i++) {
        r_author *a = bench_map_get(idx, bv[i].author_id);
        if (a) a->nbooks++;
    }
    for (size_t i = 0; i < na; i++) {
        av[i].books = av[i].nbooks ? bench_xmalloc(av[i].nbooks * sizeof *av[i].books) : NULL;
        av[i].nbooks = 0;
    }
    for (size_t i = 0; i < nb; i++) {
        r_author *a = bench_map_get(idx, bv[i].author_id);
        if (a) a->books[a->nbooks++] = &bv[i];
    }
}

void raw_stitch_genres(r_book *v, size_t n, const r_link *lv, size_t nl)
{
    for (size_t i = 0; i < nl; i++)
        if (lv[i].book) lv[i].book->ngenres++;
    for (size_t i = 0; i < n; i++) {
        v[i].genres = v[i].ngenres ? bench_xmalloc(v[i].ngenres * sizeof *v[i].genres) : NULL;
        v[i].ngenres = 0;
    }
    for (size_t i = 0; i < nl; i++)
        if (lv[i].book) lv[i].book->genres[lv[i].book->ngenres++] = lv[i].genre;
}

void raw_stitch_paid_orders(r_user *uv, size_t nu, r_order *ov, size_t no, const bench_map *idx)
{
    for (size_t i = 0; i < no; i++) {
        r_user *u = bench_map_get(idx, ov[i].user_id);
        if (u) u->npaid++;
    }
    for (size_t i = 0; i < nu; i++) {
        uv[i].paid_orders =
            uv[i].npaid ? bench_xmalloc(uv[i].npaid * sizeof *uv[i].paid_orders) : NULL;
        uv[i].npaid = 0;
    }
    for (size_t i = 0; i < no; i++) {
        r_user *u = bench_map_get(idx, ov[i].user_id);
        if (u) u->paid_orders[u->npaid++] = &ov[i];
    }
}

/* ------------------------------------------------------------ checks */

int64_t raw_check_select_related(const r_book *v, size_t n)
{
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        const r_book *b = &v[i];
        check += b->id + (int64_t)raw_slen(b->title) + (int64_t)raw_slen(b->description) +
                 b->author->id + (int64_t)raw_slen(b->author->name);
        if (b->publisher) check += b->publisher->id + (int64_t)raw_slen(b->publisher->name);
    }
    return check;
}

int64_t raw_check_select_related_nested(const r_book *v, size_t n)
{
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        const r_book *b = &v[i];
        check += b->id + b->author->id;
        if (b->author->country)
            check += b->author->country->id + (int64_t)raw_slen(b->author->country->name);
    }
    return check;
}

int64_t raw_check_prefetch_books(const r_author *v, size_t n)
{
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        check += v[i].id;
        for (size_t j = 0; j < v[i].nbooks; j++)
            check += v[i].books[j]->id + (int64_t)raw_slen(v[i].books[j]->title);
    }
    return check;
}

int64_t raw_check_prefetch_genres(const r_book *v, size_t n)
{
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        check += v[i].id;
        for (size_t j = 0; j < v[i].ngenres; j++)
            check += v[i].genres[j]->id + (int64_t)raw_slen(v[i].genres[j]->name);
    }
    return check;
}

/* the position weighs each id: the orders' order counts */
int64_t raw_check_prefetch_to_attr(const r_user *v, size_t n)
{
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        check += v[i].id;
        for (size_t j = 0; j < v[i].npaid; j++) check += (int64_t)(j + 1) * v[i].paid_orders[j]->id;
    }
    return check;
}

int64_t raw_check_values_list_flat(char *const *v, size_t n)
{
    int64_t check = (int64_t)n;
    for (size_t i = 0; i < n; i++) check += (int64_t)raw_slen(v[i]);
    return check;
}

int64_t raw_check_annotate_having(const r_author *v, size_t n)
{
    int64_t check = (int64_t)n;
    for (size_t i = 0; i < n; i++) check += v[i].id + v[i].book_count;
    return check;
}

int64_t raw_check_titles(const r_book *v, size_t n)
{
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) check += v[i].id + (int64_t)raw_slen(v[i].title);
    return check;
}

/* ------------------------------------------------------------ writes */

r_book *raw_bulk_books(const bench_bulk_books *s)
{
    r_book *v = bench_xmalloc(s->n * sizeof *v);
    for (size_t i = 0; i < s->n; i++) {
        const bench_book *src = &s->src[i];
        r_book *b = &v[i];
        memset(b, 0, sizeof *b);
        b->title = (char *)src->title;
        b->author_id = src->author_id;
        b->publisher_id = src->publisher_id;
        b->publisher_null = src->publisher_id == 0;
        b->published_date = src->published_date[0] ? (char *)src->published_date : NULL;
        b->isbn = (char *)src->isbn;
        b->pages = src->pages;
        b->price = src->price;
        b->description = (char *)src->description;
        b->featured = src->featured;
    }
    return v;
}

void raw_bulk_update_release(bench_ctx *c)
{
    raw_bu_state *s = c->state;
    for (size_t i = 0; i < s->n; i++) raw_book_fields_free(&s->v[i]);
    free(s->v);
    free(s);
}
