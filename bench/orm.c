/*
** orm.c - the scenarios written with corm's public API, as an application
** would write them (corm.h and the generated bookstore.h only).
**
** The bulk writes (corm_bulk_create, corm_update, corm_bulk_update) are
** referenced weakly: a library built before they landed links, and the
** runner reports those scenarios as n/a for corm.
*/
#include "bench.h"

#include <corm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookstore.h"

#pragma weak corm_bulk_create_array_at
#pragma weak corm_bulk_update_at
#pragma weak corm_update_v

static int64_t slen(const char *s) { return s ? (int64_t)strlen(s) : 0; }

static void qs_done(corm_qs *qs, const char *what)
{
    if (corm_qs_failed(qs)) {
        char buf[2048];
        bench_die("corm: %s: %s", what, corm_error_format(corm_qs_error(qs), buf, sizeof buf));
    }
}

static void db_fail(corm_db *db, const char *what)
{
    char buf[2048];
    bench_die("corm: %s: %s", what, corm_error_format(corm_db_error(db), buf, sizeof buf));
}

/* ------------------------------------------------------------ scenarios */

static void orm_n_plus_one(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_slice(qs, 0, c->p->nplus1_books);
    int64_t check = 0;
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b); /* the N+1: one query per book */
        if (!a) db_fail(db, "book_author");
        check += slen(a->name) + 1;
    }
    qs_done(qs, "n_plus_one");
    corm_qs_free(qs);
    c->check = check;
}

/* select_related author+publisher of every book; limit > 0: of the first
** limit books by id, from a cached queryset when cache is set (a local
** cache attached to the db, warm after the first run). */
static void select_related_page(bench_ctx *c, int64_t limit, corm_cache *cache)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author", "publisher");
    if (limit > 0) {
        corm_order_by(qs, "id");
        corm_slice(qs, 0, limit);
    }
    if (cache) {
        if (corm_db_use_cache(db, cache) != CORM_OK) db_fail(db, "cached_read");
        corm_qs_cache(qs, CORM_CACHE_FOREVER);
    }
    int64_t check = 0;
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        Publisher *p = book_publisher(b);
        check += b->id + slen(b->title) + slen(b->description) + a->id + slen(a->name);
        if (p) check += p->id + slen(p->name);
    }
    qs_done(qs, "select_related");
    corm_qs_free(qs);
    c->check = check;
}

static void orm_select_related(bench_ctx *c) { select_related_page(c, 0, NULL); }
static void orm_uncached_read(bench_ctx *c) { select_related_page(c, c->p->nplus1_books, NULL); }
static void orm_cached_read(bench_ctx *c)
{
    static corm_cache *cache; /* one for the process: kept warm between runs */
    corm_error err;
    if (!cache && !(cache = corm_cache_open(NULL, &err))) bench_die("corm: cache: %s", err.message);
    select_related_page(c, c->p->nplus1_books, cache);
}

static void orm_select_related_nested(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author__country");
    int64_t check = 0;
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        Country *co = author_country(a);
        check += b->id + a->id;
        if (co) check += co->id + slen(co->name);
    }
    qs_done(qs, "select_related_nested");
    corm_qs_free(qs);
    c->check = check;
}

static void orm_prefetch_books(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Author);
    corm_prefetch_related(qs, "books");
    int64_t check = 0;
    Author *a;
    corm_foreach(a, qs)
    {
        const corm_list *l = author_books(a);
        check += a->id;
        for (size_t i = 0; i < l->n; i++) {
            Book *b = l->items[i];
            check += b->id + slen(b->title);
        }
    }
    qs_done(qs, "prefetch_books");
    corm_qs_free(qs);
    c->check = check;
}

static void orm_prefetch_genres(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_prefetch_related(qs, "genres");
    int64_t check = 0;
    Book *b;
    corm_foreach(b, qs)
    {
        const corm_list *l = book_genres(b);
        check += b->id;
        for (size_t i = 0; i < l->n; i++) {
            Genre *g = l->items[i];
            check += g->id + slen(g->name);
        }
    }
    qs_done(qs, "prefetch_genres");
    corm_qs_free(qs);
    c->check = check;
}

static void orm_prefetch_to_attr(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, User);
    corm_qs *paid = corm_all(db, Order);
    corm_filter(paid, "status", corm_text("paid"));
    corm_order_by(paid, "-created_at");
    corm_prefetch(qs, "orders", paid, "paid_orders");
    int64_t check = 0;
    User *u;
    corm_foreach(u, qs)
    {
        const corm_list *l = corm_attr(u, "paid_orders");
        check += u->id;
        for (size_t i = 0; l && i < l->n; i++)
            check += (int64_t)(i + 1) * ((Order *)l->items[i])->id;
    }
    qs_done(qs, "prefetch_to_attr");
    corm_qs_free(qs);
    c->check = check;
}

static void orm_values_list_flat(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_values_flat(qs, "title");
    if (corm_eval(qs) != CORM_OK) qs_done(qs, "values_list_flat");
    int64_t check = 0;
    const corm_value *v;
    for (size_t i = 0; (v = corm_qs_cell(qs, i, 0)) != NULL; i++)
        check += 1 + (v->type == CORM_V_TEXT ? (int64_t)v->u.s.n : 0);
    corm_qs_free(qs);
    c->check = check;
}

static void orm_annotate_having(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(c->p->annotate_min));
    int64_t check = 0;
    Author *a;
    corm_foreach(a, qs) check += 1 + a->id + corm_annotation(a, "n")->u.i;
    qs_done(qs, "annotate_having");
    corm_qs_free(qs);
    c->check = check;
}

static void orm_count_exists(bench_ctx *c)
{
    corm_db *db = c->handle;
    int64_t total = 0, found = 0;
    for (int64_t a = 1; a <= c->p->count_exists_authors; a++) {
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(a));
        int64_t n = corm_count(qs);
        if (n < 0) qs_done(qs, "count");
        total += n;
        corm_qs_free(qs);
        qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(a));
        corm_filter(qs, "pages__gt", corm_int(c->p->exists_pages));
        int e = corm_exists(qs);
        if (e < 0) qs_done(qs, "exists");
        found += e;
        corm_qs_free(qs);
    }
    c->check = total + 100000 * found;
}

/* bulk_create: the values are made by bench_bulk_create_prepare (untimed). */
static void orm_bulk_create(bench_ctx *c)
{
    corm_db *db = c->handle;
    bench_bulk_books *s = c->state;
    Book *v = bench_xmalloc(s->n * sizeof *v);
    for (size_t i = 0; i < s->n; i++) {
        const bench_book *src = &s->src[i];
        Book *b = &v[i];
        *b = CORM_NEW(Book);
        b->title = (char *)src->title;
        b->author_id = src->author_id;
        if (src->publisher_id) b->publisher_id = src->publisher_id;
        else corm_set_null(b, "publisher", true);
        if (src->published_date[0]) b->published_date = (char *)src->published_date;
        else corm_set_null(b, "published_date", true);
        b->isbn = (char *)src->isbn;
        b->pages = src->pages;
        b->price = corm_dec_from_double(src->price, 2); /* the generator's cents */
        b->description = (char *)src->description;
        b->featured = src->featured;
    }
    uint64_t q0 = corm_query_count(db);
    if (corm_bulk_create_array(db, v, s->n, NULL) != CORM_OK) db_fail(db, "bulk_create");
    c->queries = (int64_t)(corm_query_count(db) - q0);
    free(v);
}

static void orm_update(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    int64_t rows = corm_update(qs, CORM_SET_F("pages", "pages", '+', corm_int(1)));
    if (rows < 0) qs_done(qs, "update");
    corm_qs_free(qs);
}

typedef struct bu_state {
    corm_qs *qs;
    void **items;
    size_t n;
} bu_state;

static void orm_bulk_update_prepare(bench_ctx *c)
{
    corm_db *db = c->handle;
    bu_state *s = bench_xmalloc(sizeof *s);
    s->qs = corm_all(db, Book);
    corm_order_by(s->qs, "id");
    corm_slice(s->qs, 0, c->p->bulk_update_books);
    if (corm_eval(s->qs) != CORM_OK) qs_done(s->qs, "bulk_update load");
    s->n = corm_qs_len(s->qs);
    s->items = bench_xmalloc(s->n * sizeof *s->items);
    for (size_t i = 0; i < s->n; i++) {
        Book *b = corm_qs_at(s->qs, i);
        b->pages += 1;
        b->price = corm_dec_add(b->price, corm_dec_units(1, 0));
        s->items[i] = b;
    }
    c->state = s;
}

static void orm_bulk_update_release(bench_ctx *c)
{
    bu_state *s = c->state;
    corm_qs_free(s->qs);
    free(s->items);
    free(s);
}

static void orm_bulk_update(bench_ctx *c)
{
    corm_db *db = c->handle;
    bu_state *s = c->state;
    uint64_t q0 = corm_query_count(db);
    if (corm_bulk_update(db, s->items, s->n, "pages", "price") < 0) db_fail(db, "bulk_update");
    c->queries = (int64_t)(corm_query_count(db) - q0);
}

static void orm_iterator(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_iter *it = corm_iterator(qs, (size_t)c->p->iter_chunk);
    int64_t check = 0;
    Book *b;
    while ((b = corm_iter_next(it)) != NULL) check += b->id + slen(b->title);
    qs_done(qs, "iterator");
    corm_iter_free(it);
    corm_qs_free(qs);
    c->check = check;
}

static void orm_only(bench_ctx *c)
{
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_only(qs, "id", "title");
    int64_t check = 0;
    Book *b;
    corm_foreach(b, qs) check += b->id + slen(b->title);
    qs_done(qs, "only");
    corm_qs_free(qs);
    c->check = check;
}

/* Page 900 of 1,000 by id, as a slice (OFFSET) and as a keyset page from
** the cursor of the last book of page 899 (made here: cheap once OpenSSL
** is set up, which the warmup run does). */
static int64_t page_check(corm_qs *qs)
{
    int64_t check = 0;
    Book *b;
    corm_foreach(b, qs) check += b->id + slen(b->title);
    return check;
}

static void orm_deep_offset(bench_ctx *c)
{
    corm_qs *qs = corm_all(c->handle, Book);
    corm_only(qs, "id", "title");
    corm_order_by(qs, "id");
    corm_slice(qs, c->p->deep_after, c->p->deep_after + c->p->deep_per_page);
    c->check = page_check(qs);
    qs_done(qs, "deep_offset");
    corm_qs_free(qs);
}

static void orm_deep_keyset(bench_ctx *c)
{
    static const char key[] = "corm-bench-signing-key-0123456789";
    corm_db *db = c->handle;
    corm_qs *qs = corm_all(db, Book);
    corm_only(qs, "id", "title");
    corm_order_by(qs, "id");
    Book last = CORM_NEW(Book);
    last.id = c->p->deep_after;
    char cursor[256];
    if (corm_keyset_cursor(qs, &last, key, sizeof key - 1, cursor, sizeof cursor) != CORM_OK)
        db_fail(db, "deep_keyset");
    corm_keyset_page *page = corm_keyset_page(
        qs, c->p->deep_per_page, c->p->deep_after ? cursor : NULL, key, sizeof key - 1);
    if (!page) db_fail(db, "deep_keyset");
    c->check = page_check(page->objects);
    corm_keyset_page_free(page);
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ table */

void *bench_corm_open(const char *path)
{
    char url[4096];
    corm_error err;
    if (bench_is_pg(path)) snprintf(url, sizeof url, "%s", path); /* the url as it is */
    else snprintf(url, sizeof url, "sqlite:%s", path);
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) bench_die("corm: open %s: %s", path, err.message);
    return db;
}

void bench_corm_close(void *h) { corm_close(h); }

int64_t bench_corm_queries(void *h) { return (int64_t)corm_query_count(h); }

int64_t bench_corm_scalar(void *h, const char *sql)
{
    corm_qs *qs = corm_sql((corm_db *)h, sql, NULL, 0);
    if (corm_eval(qs) != CORM_OK) qs_done(qs, sql);
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    int64_t r = !v ? -1 : v->type == CORM_V_INT ? v->u.i : (int64_t)v->u.f;
    corm_qs_free(qs);
    return r;
}

const bench_impl *bench_corm_impl(const char *name)
{
    static const bench_impl t[] = {
        {"n_plus_one", NULL, orm_n_plus_one, NULL},
        {"select_related", NULL, orm_select_related, NULL},
        {"select_related_nested", NULL, orm_select_related_nested, NULL},
        {"prefetch_books", NULL, orm_prefetch_books, NULL},
        {"prefetch_genres", NULL, orm_prefetch_genres, NULL},
        {"prefetch_to_attr", NULL, orm_prefetch_to_attr, NULL},
        {"values_list_flat", NULL, orm_values_list_flat, NULL},
        {"annotate_having", NULL, orm_annotate_having, NULL},
        {"count_exists", NULL, orm_count_exists, NULL},
        {"bulk_create", bench_bulk_create_prepare, orm_bulk_create, bench_bulk_create_release},
        {"update", NULL, orm_update, NULL},
        {"bulk_update", orm_bulk_update_prepare, orm_bulk_update, orm_bulk_update_release},
        {"iterator", NULL, orm_iterator, NULL},
        {"only", NULL, orm_only, NULL},
        {"deep_offset", NULL, orm_deep_offset, NULL},
        {"deep_keyset", NULL, orm_deep_keyset, NULL},
        {"uncached_read", NULL, orm_uncached_read, NULL},
        {"cached_read", NULL, orm_cached_read, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcmp(t[i].name, name) != 0) continue;
        /* the bulk writes, until the library has them */
        if (t[i].run == orm_bulk_create && !corm_bulk_create_array_at) return NULL;
        if (t[i].run == orm_update && !corm_update_v) return NULL;
        if (t[i].run == orm_bulk_update && !corm_bulk_update_at) return NULL;
        return &t[i];
    }
    return NULL;
}

/* ------------------------------------------------------------ sql */

static void print_sql(void *ud, const corm_event *ev)
{
    const char **last = ud;
    if (ev->internal) return;
    if (*last && strcmp(*last, ev->sql) == 0) return; /* the N+1's repeats */
    free((void *)*last);
    *last = strdup(ev->sql);
    printf("  [%s] %s\n", ev->origin ? ev->origin : "", ev->sql);
}

void bench_corm_sql(void *h, const bench_params *p)
{
    corm_db *db = h;
    const char *last = NULL;
    int sub = corm_on_query(db, print_sql, &last);
    bench_params small = *p;
    small.count_exists_authors = 1;
    small.nplus1_books = 2;
    for (int i = 0; i < bench_nscenarios; i++) {
        if (bench_scenarios[i].write) continue;
        const bench_impl *impl = bench_corm_impl(bench_scenarios[i].name);
        printf("%s:\n", bench_scenarios[i].name);
        bench_ctx c = {.p = &small, .handle = db};
        impl->run(&c);
        free((void *)last);
        last = NULL;
    }
    corm_off_query(db, sub);
}
