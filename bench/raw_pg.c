/*
** raw_pg.c - the scenarios written by hand on libpq, the way a careful C
** programmer would, the PostgreSQL twin of raw.c:
**   - a statement run in a loop is prepared once for the loop (PQprepare)
**     and run by name (PQexecPrepared); a statement run once goes through
**     PQexecParams (parse, bind and execute in one round trip);
**   - to-one relations with a JOIN; children with a second query whose
**     parent keys travel as one int8[] parameter (`= ANY($1)`), stitched
**     through a hash map;
**   - rows copied out of the PGresult into malloc'd structs with malloc'd
**     strings, and the PGresult cleared;
**   - results as text (as corm reads them: docs/postgresql.md measured
**     binary results as no faster for rows like these);
**   - bulk writes as one statement over arrays (`INSERT ... SELECT * FROM
**     unnest($1::text[], ...) RETURNING id`, `UPDATE ... FROM unnest(...)`),
**     the PostgreSQL idiom: a prepared single-row statement per object would
**     pay one round trip per row, which no careful programmer does on a
**     client/server database;
**   - iterator: a cursor in a transaction (DECLARE, FETCH FORWARD n, CLOSE).
** The connection gets corm's session settings (client_encoding UTF8,
** TimeZone UTC, DateStyle ISO), so only the code in between differs.
** The objects, their freeing, the stitching and the checks are raw.c's
** (raw_common.c); this file is the libpq side: statements, parameters
** and reading values out of the PGresult.
*/
#include "raw_common.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static void check(PGconn *db, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        bench_die("raw_pg: %s: %s", what, PQerrorMessage(db));
}

static void exec(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    check(db, r, sql);
    PQclear(r);
}

/* one round trip: the unnamed statement, text parameters and results */
static PGresult *query(PGconn *db, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, vals, NULL, NULL, 0);
    check(db, r, sql);
    return r;
}

static void prepare(PGconn *db, const char *name, const char *sql, int n)
{
    PGresult *r = PQprepare(db, name, sql, n, NULL);
    check(db, r, sql);
    PQclear(r);
}

static PGresult *run(PGconn *db, const char *name, int n, const char *const *vals)
{
    PGresult *r = PQexecPrepared(db, name, n, vals, NULL, NULL, 0);
    check(db, r, name);
    return r;
}

static void deallocate(PGconn *db, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", name);
    exec(db, sql);
}

static char *dup_col(PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return NULL;
    size_t n = (size_t)PQgetlength(r, row, col);
    char *d = bench_xmalloc(n + 1);
    memcpy(d, PQgetvalue(r, row, col), n + 1);
    return d;
}

static int64_t col_i64(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}
static double col_f(PGresult *r, int row, int col) { return strtod(PQgetvalue(r, row, col), NULL); }
static bool col_b(PGresult *r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }
static bool col_null(PGresult *r, int row, int col) { return PQgetisnull(r, row, col) != 0; }

/* A growable text buffer for array literals. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_reserve(sbuf *b, size_t n)
{
    if (b->n + n + 1 <= b->cap) return;
    b->cap = (b->n + n + 1) * 2;
    b->p = bench_xrealloc(b->p, b->cap);
}

static void sb_add(sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_open(sbuf *b)
{
    b->n = 0;
    sb_add(b, "{", 1);
}

static void sb_sep(sbuf *b)
{
    if (b->n > 1) sb_add(b, ",", 1);
}

static void sb_close(sbuf *b) { sb_add(b, "}", 1); }

static void arr_i64(sbuf *b, int64_t v)
{
    char t[24];
    sb_sep(b);
    sb_add(b, t, (size_t)snprintf(t, sizeof t, "%lld", (long long)v));
}

static void arr_money(sbuf *b, double v)
{
    char t[48];
    sb_sep(b);
    sb_add(b, t, (size_t)snprintf(t, sizeof t, "%.2f", v));
}

static void arr_null(sbuf *b)
{
    sb_sep(b);
    sb_add(b, "NULL", 4);
}

/* an array element: double-quoted, " and \ escaped */
static void arr_text(sbuf *b, const char *s)
{
    if (!s) {
        arr_null(b);
        return;
    }
    size_t n = strlen(s);
    sb_sep(b);
    sb_reserve(b, 2 * n + 2);
    char *o = b->p + b->n;
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"';
    b->n = (size_t)(o - b->p);
    b->p[b->n] = '\0';
}

static void read_book(PGresult *r, int row, int c, r_book *b)
{
    memset(b, 0, sizeof *b);
    b->id = col_i64(r, row, c);
    b->title = dup_col(r, row, c + 1);
    b->author_id = col_i64(r, row, c + 2);
    b->publisher_null = col_null(r, row, c + 3);
    b->publisher_id = b->publisher_null ? 0 : col_i64(r, row, c + 3);
    b->published_date = dup_col(r, row, c + 4);
    b->isbn = dup_col(r, row, c + 5);
    b->pages = (int32_t)col_i64(r, row, c + 6);
    b->price = col_f(r, row, c + 7);
    b->description = dup_col(r, row, c + 8);
    b->featured = col_b(r, row, c + 9);
}

static void read_author(PGresult *r, int row, int c, r_author *a)
{
    memset(a, 0, sizeof *a);
    a->id = col_i64(r, row, c);
    a->name = dup_col(r, row, c + 1);
    a->email = dup_col(r, row, c + 2);
    a->country_null = col_null(r, row, c + 3);
    a->country_id = a->country_null ? 0 : col_i64(r, row, c + 3);
    a->bio = dup_col(r, row, c + 4);
}

/* Every row of sql (BOOK_COLS first) as a book, in one round trip. */
static r_book *query_books(PGconn *db, const char *sql, int nparams, const char *const *vals,
                           size_t *nout)
{
    PGresult *r = query(db, sql, nparams, vals);
    size_t n = (size_t)PQntuples(r);
    r_book *v = bench_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) read_book(r, (int)i, 0, &v[i]);
    PQclear(r);
    *nout = n;
    return v;
}

/* The parents' ids as one int8[] literal ("{1,2,...}", malloc'd) for
** "= ANY($1::int8[])", each parent also put into idx (initialized here)
** for the stitching.  v holds n parents of size bytes, each with its
** int64_t id as first member (r_author, r_book, r_user). */
static char *parent_keys(bench_map *idx, void *v, size_t n, size_t size)
{
    sbuf keys = {0};
    bench_map_init(idx, n);
    sb_open(&keys);
    for (size_t i = 0; i < n; i++) {
        void *parent = (char *)v + i * size;
        int64_t id = *(const int64_t *)parent;
        bench_map_put(idx, id, parent);
        arr_i64(&keys, id);
    }
    sb_close(&keys);
    return keys.p;
}

/* ------------------------------------------------------------ scenarios */

static void rawpg_n_plus_one(bench_ctx *c)
{
    PGconn *db = c->handle;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)c->p->nplus1_books);
    const char *pv[1] = {lim};
    size_t n;
    r_book *v =
        query_books(db, "SELECT " BOOK_COLS " FROM book b ORDER BY b.id LIMIT $1", 1, pv, &n);
    c->queries = 1;
    /* the naive loop: book.author, one query per book */
    prepare(db, "np_author", "SELECT " AUTHOR_COLS " FROM author a WHERE a.id = $1", 1);
    int64_t chk = 0;
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)v[i].author_id);
        const char *av[1] = {id};
        PGresult *r = run(db, "np_author", 1, av);
        if (PQntuples(r) == 1) {
            v[i].author = bench_xmalloc(sizeof *v[i].author);
            read_author(r, 0, 0, v[i].author);
        }
        PQclear(r);
        c->queries++;
        chk += (int64_t)raw_slen(v[i].author->name) + 1;
    }
    deallocate(db, "np_author");
    raw_books_free(v, n);
    c->check = chk;
}

/* select_related (the book's publisher) or, nested, the author's country:
** one JOIN, each row a book (columns 0-9) with its author (10-14); limit >
** 0: the first limit books by id (uncached_read, cached_read). */
static void select_related_limit(bench_ctx *c, bool nested, int64_t limit)
{
    char lim[32];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *pv[1] = {lim};
    PGresult *r =
        limit > 0
            ? query(c->handle, SQL_SELECT_RELATED " ORDER BY b.id LIMIT $1", 1, pv)
            : query(c->handle, nested ? SQL_SELECT_RELATED_NESTED : SQL_SELECT_RELATED, 0, NULL);
    size_t n = (size_t)PQntuples(r);
    r_book *v = bench_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        r_book *b = &v[i];
        int row = (int)i;
        read_book(r, row, 0, b);
        b->author = bench_xmalloc(sizeof *b->author);
        read_author(r, row, 10, b->author);
        if (col_null(r, row, 15)) continue;
        if (nested) {
            r_country *co = b->author->country = bench_xmalloc(sizeof *co);
            co->id = col_i64(r, row, 15);
            co->name = dup_col(r, row, 16);
            co->code = dup_col(r, row, 17);
        } else {
            r_publisher *p = b->publisher = bench_xmalloc(sizeof *p);
            p->id = col_i64(r, row, 15);
            p->name = dup_col(r, row, 16);
            p->country_null = col_null(r, row, 17);
            p->country_id = p->country_null ? 0 : col_i64(r, row, 17);
        }
    }
    PQclear(r);
    c->queries = 1;
    c->check = nested ? raw_check_select_related_nested(v, n) : raw_check_select_related(v, n);
    raw_books_free(v, n);
}

static void select_related(bench_ctx *c, bool nested) { select_related_limit(c, nested, 0); }
static void rawpg_select_related(bench_ctx *c) { select_related(c, false); }
static void rawpg_select_related_nested(bench_ctx *c) { select_related(c, true); }
/* raw C has no cache: both read the database */
static void rawpg_read_page(bench_ctx *c) { select_related_limit(c, false, c->p->nplus1_books); }

static void rawpg_prefetch_books(bench_ctx *c)
{
    PGconn *db = c->handle;
    PGresult *r = query(db, "SELECT " AUTHOR_COLS " FROM author a", 0, NULL);
    size_t na = (size_t)PQntuples(r);
    r_author *av = bench_xmalloc(na * sizeof *av);
    for (size_t i = 0; i < na; i++) read_author(r, (int)i, 0, &av[i]);
    PQclear(r);
    c->queries = 1;
    bench_map idx;
    char *keys = parent_keys(&idx, av, na, sizeof *av);

    /* the children: the parents' keys as one array parameter */
    const char *pv[1] = {keys};
    r = query(db, "SELECT " BOOK_COLS " FROM book b WHERE b.author_id = ANY($1::int8[])", 1, pv);
    free(keys);
    size_t nb = (size_t)PQntuples(r);
    r_book *bv = bench_xmalloc(nb * sizeof *bv);
    for (size_t i = 0; i < nb; i++) read_book(r, (int)i, 0, &bv[i]);
    PQclear(r);
    c->queries++;
    raw_stitch_books(av, na, bv, nb, &idx);
    bench_map_free(&idx);
    c->check = raw_check_prefetch_books(av, na);
    raw_books_free(bv, nb);
    raw_authors_free(av, na);
}

static void rawpg_prefetch_genres(bench_ctx *c)
{
    PGconn *db = c->handle;
    size_t n;
    r_book *v = query_books(db, "SELECT " BOOK_COLS " FROM book b", 0, NULL, &n);
    c->queries = 1;
    bench_map idx;
    char *keys = parent_keys(&idx, v, n, sizeof *v);

    const char *pv[1] = {keys};
    PGresult *r = query(db,
                        "SELECT bg.book_id, g.id, g.name FROM book_genres bg "
                        "JOIN genre g ON g.id = bg.genre_id WHERE bg.book_id = ANY($1::int8[])",
                        1, pv);
    free(keys);
    size_t nl = (size_t)PQntuples(r);
    r_link *lv = bench_xmalloc(nl * sizeof *lv);
    for (size_t i = 0; i < nl; i++) {
        r_genre *g = bench_xmalloc(sizeof *g);
        g->id = col_i64(r, (int)i, 1);
        g->name = dup_col(r, (int)i, 2);
        lv[i].book = bench_map_get(&idx, col_i64(r, (int)i, 0));
        lv[i].genre = g;
    }
    PQclear(r);
    c->queries++;
    bench_map_free(&idx);
    raw_stitch_genres(v, n, lv, nl);
    c->check = raw_check_prefetch_genres(v, n);
    raw_links_free(lv, nl);
    raw_books_free(v, n);
}

static void rawpg_prefetch_to_attr(bench_ctx *c)
{
    PGconn *db = c->handle;
    PGresult *r = query(db,
                        "SELECT id, email, name, account_manager_id, is_active, tenant_id "
                        "FROM users",
                        0, NULL);
    size_t nu = (size_t)PQntuples(r);
    r_user *uv = bench_xmalloc(nu * sizeof *uv);
    for (size_t i = 0; i < nu; i++) {
        r_user *u = &uv[i];
        int row = (int)i;
        memset(u, 0, sizeof *u);
        u->id = col_i64(r, row, 0);
        u->email = dup_col(r, row, 1);
        u->name = dup_col(r, row, 2);
        u->account_manager_id = col_null(r, row, 3) ? 0 : col_i64(r, row, 3);
        u->is_active = col_b(r, row, 4);
        u->tenant_id = col_i64(r, row, 5);
    }
    PQclear(r);
    c->queries = 1;
    bench_map idx;
    char *keys = parent_keys(&idx, uv, nu, sizeof *uv);

    const char *pv[2] = {"paid", keys};
    r = query(db,
              "SELECT id, user_id, product_id, payment_method_id, total, status, created_at, "
              "tenant_id FROM orders WHERE status = $1 AND user_id = ANY($2::int8[]) "
              "ORDER BY created_at DESC",
              2, pv);
    free(keys);
    size_t no = (size_t)PQntuples(r);
    r_order *ov = bench_xmalloc(no * sizeof *ov);
    for (size_t i = 0; i < no; i++) {
        r_order *o = &ov[i];
        int row = (int)i;
        o->id = col_i64(r, row, 0);
        o->user_id = col_i64(r, row, 1);
        o->product_id = col_null(r, row, 2) ? 0 : col_i64(r, row, 2);
        o->payment_method_id = col_null(r, row, 3) ? 0 : col_i64(r, row, 3);
        o->total = col_f(r, row, 4);
        o->status = dup_col(r, row, 5);
        o->created_at = dup_col(r, row, 6);
        o->tenant_id = col_i64(r, row, 7);
    }
    PQclear(r);
    c->queries++;
    raw_stitch_paid_orders(uv, nu, ov, no, &idx);
    bench_map_free(&idx);
    c->check = raw_check_prefetch_to_attr(uv, nu);
    raw_orders_free(ov, no);
    raw_users_free(uv, nu);
}

static void rawpg_values_list_flat(bench_ctx *c)
{
    PGconn *db = c->handle;
    PGresult *r = query(db, "SELECT title FROM book", 0, NULL);
    size_t n = (size_t)PQntuples(r);
    char **v = bench_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = dup_col(r, (int)i, 0);
    PQclear(r);
    c->queries = 1;
    c->check = raw_check_values_list_flat(v, n);
    raw_strings_free(v, n);
}

static void rawpg_annotate_having(bench_ctx *c)
{
    PGconn *db = c->handle;
    char min[24];
    snprintf(min, sizeof min, "%lld", (long long)c->p->annotate_min);
    const char *pv[1] = {min};
    PGresult *r = query(db,
                        "SELECT " AUTHOR_COLS ", COUNT(b.id) FROM author a "
                        "LEFT JOIN book b ON b.author_id = a.id "
                        "GROUP BY a.id HAVING COUNT(b.id) > $1",
                        1, pv);
    size_t n = (size_t)PQntuples(r);
    r_author *v = bench_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        read_author(r, (int)i, 0, &v[i]);
        v[i].book_count = col_i64(r, (int)i, 5);
    }
    PQclear(r);
    c->queries = 1;
    c->check = raw_check_annotate_having(v, n);
    raw_authors_free(v, n);
}

static void rawpg_count_exists(bench_ctx *c)
{
    PGconn *db = c->handle;
    prepare(db, "ce_count", "SELECT COUNT(*) FROM book WHERE author_id = $1", 1);
    prepare(db, "ce_exists", "SELECT 1 FROM book WHERE author_id = $1 AND pages > $2 LIMIT 1", 2);
    char pages[24];
    snprintf(pages, sizeof pages, "%lld", (long long)c->p->exists_pages);
    int64_t total = 0, found = 0;
    for (int64_t a = 1; a <= c->p->count_exists_authors; a++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)a);
        const char *cv[1] = {id};
        PGresult *r = run(db, "ce_count", 1, cv);
        total += col_i64(r, 0, 0);
        PQclear(r);
        const char *ev[2] = {id, pages};
        r = run(db, "ce_exists", 2, ev);
        found += PQntuples(r) > 0;
        PQclear(r);
        c->queries += 2;
    }
    deallocate(db, "ce_count");
    deallocate(db, "ce_exists");
    c->check = total + 100000 * found;
}

/* bulk_create: the values come from bench_bulk_create_prepare (untimed);
** the timed part builds the program's objects and writes them. */
static void rawpg_bulk_create(bench_ctx *c)
{
    PGconn *db = c->handle;
    const bench_bulk_books *s = c->state;
    size_t n = s->n;
    r_book *v = raw_bulk_books(s);
    /* one array per column */
    sbuf col[9] = {{0}};
    for (int k = 0; k < 9; k++) sb_open(&col[k]);
    for (size_t i = 0; i < n; i++) {
        r_book *b = &v[i];
        arr_text(&col[0], b->title);
        arr_i64(&col[1], b->author_id);
        if (b->publisher_null) arr_null(&col[2]);
        else arr_i64(&col[2], b->publisher_id);
        arr_text(&col[3], b->published_date);
        arr_text(&col[4], b->isbn);
        arr_i64(&col[5], b->pages);
        arr_money(&col[6], b->price);
        arr_text(&col[7], b->description);
        sb_sep(&col[8]);
        sb_add(&col[8], b->featured ? "t" : "f", 1);
    }
    const char *pv[9];
    for (int k = 0; k < 9; k++) {
        sb_close(&col[k]);
        pv[k] = col[k].p;
    }
    PGresult *r = query(db,
                        "INSERT INTO book (title, author_id, publisher_id, published_date, isbn, "
                        "pages, price, description, featured) "
                        "SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::date[], "
                        "$5::text[], $6::int4[], $7::numeric[], $8::text[], $9::bool[]) "
                        "RETURNING id",
                        9, pv);
    if ((size_t)PQntuples(r) != n)
        bench_die("raw_pg: bulk_create: %d ids for %zu rows", PQntuples(r), n);
    for (size_t i = 0; i < n; i++) v[i].id = col_i64(r, (int)i, 0);
    PQclear(r);
    for (int k = 0; k < 9; k++) free(col[k].p);
    free(v);
    c->queries = 1;
}

static void rawpg_update(bench_ctx *c)
{
    PGconn *db = c->handle;
    const char *pv[1] = {"1"};
    PQclear(query(db, "UPDATE book SET pages = pages + $1", 1, pv));
    c->queries = 1;
}

/* bulk_update: the objects are loaded and changed before the clock starts. */
static void rawpg_bulk_update_prepare(bench_ctx *c)
{
    PGconn *db = c->handle;
    raw_bu_state *s = bench_xmalloc(sizeof *s);
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)c->p->bulk_update_books);
    const char *pv[1] = {lim};
    s->v = query_books(db, "SELECT " BOOK_COLS " FROM book b ORDER BY b.id LIMIT $1", 1, pv, &s->n);
    for (size_t i = 0; i < s->n; i++) {
        s->v[i].pages += 1;
        s->v[i].price += 1.0;
    }
    c->state = s;
}

static void rawpg_bulk_update(bench_ctx *c)
{
    PGconn *db = c->handle;
    raw_bu_state *s = c->state;
    sbuf ids = {0}, pages = {0}, prices = {0};
    sb_open(&ids);
    sb_open(&pages);
    sb_open(&prices);
    for (size_t i = 0; i < s->n; i++) {
        arr_i64(&ids, s->v[i].id);
        arr_i64(&pages, s->v[i].pages);
        arr_money(&prices, s->v[i].price);
    }
    sb_close(&ids);
    sb_close(&pages);
    sb_close(&prices);
    const char *pv[3] = {ids.p, pages.p, prices.p};
    PQclear(query(db,
                  "UPDATE book SET pages = v.pages, price = v.price "
                  "FROM unnest($1::int8[], $2::int4[], $3::numeric[]) AS v(id, pages, price) "
                  "WHERE book.id = v.id",
                  3, pv));
    free(ids.p);
    free(pages.p);
    free(prices.p);
    c->queries = 1;
}

static void rawpg_iterator(bench_ctx *c)
{
    PGconn *db = c->handle;
    size_t chunk = (size_t)c->p->iter_chunk;
    r_book *v = bench_xmalloc(chunk * sizeof *v);
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %zu FROM bench_it", chunk);
    exec(db, "BEGIN");
    exec(db, "DECLARE bench_it NO SCROLL CURSOR FOR SELECT " BOOK_COLS " FROM book b");
    int64_t chk = 0;
    for (;;) {
        PGresult *r = PQexec(db, fetch);
        check(db, r, fetch);
        size_t n = (size_t)PQntuples(r);
        for (size_t i = 0; i < n; i++) read_book(r, (int)i, 0, &v[i]);
        PQclear(r);
        chk += raw_check_titles(v, n);
        for (size_t i = 0; i < n; i++) raw_book_fields_free(&v[i]);
        if (n < chunk) break;
    }
    exec(db, "CLOSE bench_it");
    exec(db, "COMMIT");
    free(v);
    c->queries = 1;
    c->check = chk;
}

/* The (id, title) rows of r copied out as books, checked, freed; r cleared. */
static void id_titles(bench_ctx *c, PGresult *r)
{
    size_t n = (size_t)PQntuples(r);
    r_book *v = bench_xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        r_book *b = &v[i];
        memset(b, 0, sizeof *b);
        b->id = col_i64(r, (int)i, 0);
        b->title = dup_col(r, (int)i, 1);
    }
    PQclear(r);
    c->queries = 1;
    c->check = raw_check_titles(v, n);
    for (size_t i = 0; i < n; i++) free(v[i].title);
    free(v);
}

static void rawpg_only(bench_ctx *c)
{
    PGconn *db = c->handle;
    PGresult *r = query(db, "SELECT id, title FROM book", 0, NULL);
    id_titles(c, r);
}

/* Page 900 of 1,000 by id: OFFSET, or keyset (bench/raw.c). */
static void rawpg_deep_page(bench_ctx *c, bool keyset)
{
    PGconn *db = c->handle;
    char limit[24], after[24];
    snprintf(limit, sizeof limit, "%lld", (long long)c->p->deep_per_page);
    snprintf(after, sizeof after, "%lld", (long long)c->p->deep_after);
    const char *vals[] = {keyset ? after : limit, keyset ? limit : after};
    PGresult *r = query(db,
                        keyset ? "SELECT id, title FROM book WHERE id > $1 ORDER BY id LIMIT $2"
                               : "SELECT id, title FROM book ORDER BY id LIMIT $1 OFFSET $2",
                        2, vals);
    id_titles(c, r);
}
static void rawpg_deep_offset(bench_ctx *c) { rawpg_deep_page(c, false); }
static void rawpg_deep_keyset(bench_ctx *c) { rawpg_deep_page(c, true); }

/* ------------------------------------------------------------ table */

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

void *bench_rawpg_open(const char *url)
{
    const char *const keys[] = {"dbname", "client_encoding", NULL};
    const char *const vals[] = {bench_pg_conninfo(url), "UTF8", NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    if (!db || PQstatus(db) != CONNECTION_OK)
        bench_die("raw_pg: cannot connect: %s", db ? PQerrorMessage(db) : "out of memory");
    PQsetNoticeProcessor(db, quiet, NULL);
    exec(db, "SET TimeZone = 'UTC'");
    exec(db, "SET DateStyle = 'ISO'");
    return db;
}

void bench_rawpg_close(void *h) { PQfinish(h); }

int64_t bench_rawpg_scalar(void *h, const char *sql)
{
    PGresult *r = query(h, sql, 0, NULL);
    int64_t v = PQntuples(r) == 1 && !col_null(r, 0, 0) ? col_i64(r, 0, 0) : -1;
    PQclear(r);
    return v;
}

const bench_impl *bench_rawpg_impl(const char *name)
{
    static const bench_impl t[] = {
        {"n_plus_one", NULL, rawpg_n_plus_one, NULL},
        {"select_related", NULL, rawpg_select_related, NULL},
        {"select_related_nested", NULL, rawpg_select_related_nested, NULL},
        {"prefetch_books", NULL, rawpg_prefetch_books, NULL},
        {"prefetch_genres", NULL, rawpg_prefetch_genres, NULL},
        {"prefetch_to_attr", NULL, rawpg_prefetch_to_attr, NULL},
        {"values_list_flat", NULL, rawpg_values_list_flat, NULL},
        {"annotate_having", NULL, rawpg_annotate_having, NULL},
        {"count_exists", NULL, rawpg_count_exists, NULL},
        {"bulk_create", bench_bulk_create_prepare, rawpg_bulk_create, bench_bulk_create_release},
        {"update", NULL, rawpg_update, NULL},
        {"bulk_update", rawpg_bulk_update_prepare, rawpg_bulk_update, raw_bulk_update_release},
        {"iterator", NULL, rawpg_iterator, NULL},
        {"only", NULL, rawpg_only, NULL},
        {"deep_offset", NULL, rawpg_deep_offset, NULL},
        {"deep_keyset", NULL, rawpg_deep_keyset, NULL},
        {"uncached_read", NULL, rawpg_read_page, NULL},
        {"cached_read", NULL, rawpg_read_page, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    return NULL;
}
