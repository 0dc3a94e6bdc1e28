/*
** raw.c - the scenarios written by hand on the sqlite3 API, the way a
** careful C programmer would: prepared statements (prepared once per loop),
** a JOIN for to-one relations, a second query with an IN list (chunked at
** SQLite's 32,766-parameter limit) for children, rows copied into
** malloc'd structs with malloc'd strings, children stitched through a hash
** map, writes in one transaction with one prepared statement per row.
** This is the practical limit an ORM is measured against.  The connection
** is set up as corm sets up its own (WAL, foreign keys, synchronous=NORMAL,
** 5 s busy timeout), so only the code in between differs.
** The objects, their freeing, the stitching and the checks are shared with
** raw_pg.c (raw_common.c); this file is the sqlite3 side: statements,
** binds, steps and reading columns.
*/
#include "raw_common.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VARS 32766

/* ------------------------------------------------------------ helpers */

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        bench_die("raw: %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static void done(sqlite3 *db, sqlite3_stmt *st, int rc)
{
    if (rc != SQLITE_DONE) bench_die("raw: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) bench_die("raw: %s: %s", sql, msg);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    if (!s) return NULL;
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *d = bench_xmalloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

static void read_book(sqlite3_stmt *st, int c, r_book *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(st, c);
    b->title = dup_col(st, c + 1);
    b->author_id = sqlite3_column_int64(st, c + 2);
    b->publisher_null = sqlite3_column_type(st, c + 3) == SQLITE_NULL;
    b->publisher_id = sqlite3_column_int64(st, c + 3);
    b->published_date = dup_col(st, c + 4);
    b->isbn = dup_col(st, c + 5);
    b->pages = sqlite3_column_int(st, c + 6);
    b->price = sqlite3_column_double(st, c + 7);
    b->description = dup_col(st, c + 8);
    b->featured = sqlite3_column_int(st, c + 9) != 0;
}

static void read_author(sqlite3_stmt *st, int c, r_author *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, c);
    a->name = dup_col(st, c + 1);
    a->email = dup_col(st, c + 2);
    a->country_null = sqlite3_column_type(st, c + 3) == SQLITE_NULL;
    a->country_id = sqlite3_column_int64(st, c + 3);
    a->bio = dup_col(st, c + 4);
}

static r_book *books_grow(r_book *v, size_t n, size_t *cap)
{
    if (n < *cap) return v;
    *cap = *cap ? *cap * 2 : 1024;
    return bench_xrealloc(v, *cap * sizeof *v);
}

/* "SELECT ... WHERE col IN (?, ?, ...)" for n keys: sql_head + list + tail. */
static char *in_sql(const char *head, size_t n, const char *tail)
{
    size_t hl = strlen(head), tl = strlen(tail);
    char *s = bench_xmalloc(hl + 2 * n + tl + 4);
    memcpy(s, head, hl);
    char *p = s + hl;
    *p++ = '(';
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        *p++ = '?';
    }
    *p++ = ')';
    memcpy(p, tail, tl + 1);
    return s;
}

/* ------------------------------------------------------------ scenarios */

static void raw_n_plus_one(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT " BOOK_COLS " FROM book b ORDER BY b.id LIMIT ?");
    sqlite3_bind_int64(st, 1, c->p->nplus1_books);
    r_book *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = books_grow(v, n, &cap);
        read_book(st, 0, &v[n++]);
    }
    done(db, st, rc);
    c->queries = 1;
    /* the naive loop: book.author, one query per book */
    sqlite3_stmt *au = prep(db, "SELECT " AUTHOR_COLS " FROM author a WHERE a.id = ?");
    int64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(au, 1, v[i].author_id);
        if (sqlite3_step(au) == SQLITE_ROW) {
            v[i].author = bench_xmalloc(sizeof *v[i].author);
            read_author(au, 0, v[i].author);
        }
        sqlite3_reset(au);
        c->queries++;
        check += (int64_t)raw_slen(v[i].author->name) + 1;
    }
    sqlite3_finalize(au);
    raw_books_free(v, n);
    c->check = check;
}

/* select_related (the book's publisher) or, nested, the author's country:
** one JOIN, each row a book (columns 0-9) with its author (10-14); limit >
** 0: the first limit books by id (uncached_read, cached_read). */
static void select_related_limit(bench_ctx *c, bool nested, int64_t limit)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, limit > 0 ? SQL_SELECT_RELATED " ORDER BY b.id LIMIT ?"
                                : nested  ? SQL_SELECT_RELATED_NESTED
                                          : SQL_SELECT_RELATED);
    if (limit > 0) sqlite3_bind_int64(st, 1, limit);
    r_book *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = books_grow(v, n, &cap);
        r_book *b = &v[n++];
        read_book(st, 0, b);
        b->author = bench_xmalloc(sizeof *b->author);
        read_author(st, 10, b->author);
        if (sqlite3_column_type(st, 15) == SQLITE_NULL) continue;
        if (nested) {
            r_country *co = b->author->country = bench_xmalloc(sizeof *co);
            co->id = sqlite3_column_int64(st, 15);
            co->name = dup_col(st, 16);
            co->code = dup_col(st, 17);
        } else {
            r_publisher *p = b->publisher = bench_xmalloc(sizeof *p);
            p->id = sqlite3_column_int64(st, 15);
            p->name = dup_col(st, 16);
            p->country_null = sqlite3_column_type(st, 17) == SQLITE_NULL;
            p->country_id = sqlite3_column_int64(st, 17);
        }
    }
    done(db, st, rc);
    c->queries = 1;
    c->check = nested ? raw_check_select_related_nested(v, n) : raw_check_select_related(v, n);
    raw_books_free(v, n);
}

static void select_related(bench_ctx *c, bool nested) { select_related_limit(c, nested, 0); }
static void raw_select_related(bench_ctx *c) { select_related(c, false); }
static void raw_select_related_nested(bench_ctx *c) { select_related(c, true); }
/* raw C has no cache: both read the database */
static void raw_read_page(bench_ctx *c) { select_related_limit(c, false, c->p->nplus1_books); }

static void raw_prefetch_books(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT " AUTHOR_COLS " FROM author a");
    r_author *av = NULL;
    size_t na = 0, acap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (na == acap) {
            acap = acap ? acap * 2 : 1024;
            av = bench_xrealloc(av, acap * sizeof *av);
        }
        read_author(st, 0, &av[na++]);
    }
    done(db, st, rc);
    c->queries = 1;
    bench_map idx;
    bench_map_init(&idx, na);
    for (size_t i = 0; i < na; i++) bench_map_put(&idx, av[i].id, &av[i]);

    /* the children, with the parents' keys in IN lists */
    r_book *bv = NULL;
    size_t nb = 0, bcap = 0;
    for (size_t off = 0; off < na; off += MAX_VARS) {
        size_t k = na - off < MAX_VARS ? na - off : MAX_VARS;
        char *sql = in_sql("SELECT " BOOK_COLS " FROM book b WHERE b.author_id IN ", k, "");
        st = prep(db, sql);
        free(sql);
        for (size_t i = 0; i < k; i++) sqlite3_bind_int64(st, (int)i + 1, av[off + i].id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            bv = books_grow(bv, nb, &bcap);
            read_book(st, 0, &bv[nb++]);
        }
        done(db, st, rc);
        c->queries++;
    }
    raw_stitch_books(av, na, bv, nb, &idx);
    bench_map_free(&idx);
    c->check = raw_check_prefetch_books(av, na);
    raw_books_free(bv, nb);
    raw_authors_free(av, na);
}

static void raw_prefetch_genres(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT " BOOK_COLS " FROM book b");
    r_book *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = books_grow(v, n, &cap);
        read_book(st, 0, &v[n++]);
    }
    done(db, st, rc);
    c->queries = 1;
    bench_map idx;
    bench_map_init(&idx, n);
    for (size_t i = 0; i < n; i++) bench_map_put(&idx, v[i].id, &v[i]);

    r_link *lv = NULL;
    size_t nl = 0, lcap = 0;
    for (size_t off = 0; off < n; off += MAX_VARS) {
        size_t k = n - off < MAX_VARS ? n - off : MAX_VARS;
        char *sql = in_sql("SELECT bg.book_id, g.id, g.name FROM book_genres bg "
                           "JOIN genre g ON g.id = bg.genre_id WHERE bg.book_id IN ",
                           k, "");
        st = prep(db, sql);
        free(sql);
        for (size_t i = 0; i < k; i++) sqlite3_bind_int64(st, (int)i + 1, v[off + i].id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (nl == lcap) {
                lcap = lcap ? lcap * 2 : 4096;
                lv = bench_xrealloc(lv, lcap * sizeof *lv);
            }
            r_genre *g = bench_xmalloc(sizeof *g);
            g->id = sqlite3_column_int64(st, 1);
            g->name = dup_col(st, 2);
            lv[nl].book = bench_map_get(&idx, sqlite3_column_int64(st, 0));
            lv[nl++].genre = g;
        }
        done(db, st, rc);
        c->queries++;
    }
    bench_map_free(&idx);
    raw_stitch_genres(v, n, lv, nl);
    c->check = raw_check_prefetch_genres(v, n);
    raw_links_free(lv, nl);
    raw_books_free(v, n);
}

static void raw_prefetch_to_attr(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT id, email, name, account_manager_id, is_active, tenant_id "
                                "FROM users");
    r_user *uv = NULL;
    size_t nu = 0, ucap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nu == ucap) {
            ucap = ucap ? ucap * 2 : 1024;
            uv = bench_xrealloc(uv, ucap * sizeof *uv);
        }
        r_user *u = &uv[nu++];
        memset(u, 0, sizeof *u);
        u->id = sqlite3_column_int64(st, 0);
        u->email = dup_col(st, 1);
        u->name = dup_col(st, 2);
        u->account_manager_id = sqlite3_column_int64(st, 3);
        u->is_active = sqlite3_column_int(st, 4) != 0;
        u->tenant_id = sqlite3_column_int64(st, 5);
    }
    done(db, st, rc);
    c->queries = 1;
    bench_map idx;
    bench_map_init(&idx, nu);
    for (size_t i = 0; i < nu; i++) bench_map_put(&idx, uv[i].id, &uv[i]);

    r_order *ov = NULL;
    size_t no = 0, ocap = 0;
    for (size_t off = 0; off < nu; off += MAX_VARS - 1) {
        size_t k = nu - off < MAX_VARS - 1 ? nu - off : MAX_VARS - 1;
        char *sql = in_sql("SELECT id, user_id, product_id, payment_method_id, total, status, "
                           "created_at, tenant_id FROM orders WHERE status = ? AND user_id IN ",
                           k, " ORDER BY created_at DESC");
        st = prep(db, sql);
        free(sql);
        sqlite3_bind_text(st, 1, "paid", -1, SQLITE_STATIC);
        for (size_t i = 0; i < k; i++) sqlite3_bind_int64(st, (int)i + 2, uv[off + i].id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (no == ocap) {
                ocap = ocap ? ocap * 2 : 4096;
                ov = bench_xrealloc(ov, ocap * sizeof *ov);
            }
            r_order *o = &ov[no++];
            o->id = sqlite3_column_int64(st, 0);
            o->user_id = sqlite3_column_int64(st, 1);
            o->product_id = sqlite3_column_int64(st, 2);
            o->payment_method_id = sqlite3_column_int64(st, 3);
            o->total = sqlite3_column_double(st, 4);
            o->status = dup_col(st, 5);
            o->created_at = dup_col(st, 6);
            o->tenant_id = sqlite3_column_int64(st, 7);
        }
        done(db, st, rc);
        c->queries++;
    }
    raw_stitch_paid_orders(uv, nu, ov, no, &idx);
    bench_map_free(&idx);
    c->check = raw_check_prefetch_to_attr(uv, nu);
    raw_orders_free(ov, no);
    raw_users_free(uv, nu);
}

static void raw_values_list_flat(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT title FROM book");
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = bench_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = dup_col(st, 0);
    }
    done(db, st, rc);
    c->queries = 1;
    c->check = raw_check_values_list_flat(v, n);
    raw_strings_free(v, n);
}

static void raw_annotate_having(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT " AUTHOR_COLS ", COUNT(b.id) FROM author a "
                                "LEFT JOIN book b ON b.author_id = a.id "
                                "GROUP BY a.id HAVING COUNT(b.id) > ?");
    sqlite3_bind_int64(st, 1, c->p->annotate_min);
    r_author *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = bench_xrealloc(v, cap * sizeof *v);
        }
        read_author(st, 0, &v[n]);
        v[n++].book_count = sqlite3_column_int64(st, 5);
    }
    done(db, st, rc);
    c->queries = 1;
    c->check = raw_check_annotate_having(v, n);
    raw_authors_free(v, n);
}

static void raw_count_exists(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *cnt = prep(db, "SELECT COUNT(*) FROM book WHERE author_id = ?");
    sqlite3_stmt *ex = prep(db, "SELECT 1 FROM book WHERE author_id = ? AND pages > ? LIMIT 1");
    int64_t total = 0, found = 0;
    for (int64_t a = 1; a <= c->p->count_exists_authors; a++) {
        sqlite3_bind_int64(cnt, 1, a);
        if (sqlite3_step(cnt) != SQLITE_ROW) bench_die("raw: count: %s", sqlite3_errmsg(db));
        total += sqlite3_column_int64(cnt, 0);
        sqlite3_reset(cnt);
        sqlite3_bind_int64(ex, 1, a);
        sqlite3_bind_int64(ex, 2, c->p->exists_pages);
        int rc = sqlite3_step(ex);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) bench_die("raw: exists: %s", sqlite3_errmsg(db));
        found += rc == SQLITE_ROW;
        sqlite3_reset(ex);
        c->queries += 2;
    }
    sqlite3_finalize(cnt);
    sqlite3_finalize(ex);
    c->check = total + 100000 * found;
}

/* bulk_create: the values come from bench_bulk_create_prepare (untimed);
** the timed part builds the program's objects and writes them. */
static void raw_bulk_create(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    const bench_bulk_books *s = c->state;
    size_t n = s->n;
    r_book *v = raw_bulk_books(s);
    exec(db, "BEGIN");
    sqlite3_stmt *st = prep(db, "INSERT INTO book (title, author_id, publisher_id, published_date, "
                                "isbn, pages, price, description, featured) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < n; i++) {
        r_book *b = &v[i];
        sqlite3_bind_text(st, 1, b->title, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, b->author_id);
        if (b->publisher_null) sqlite3_bind_null(st, 3);
        else sqlite3_bind_int64(st, 3, b->publisher_id);
        if (b->published_date) sqlite3_bind_text(st, 4, b->published_date, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 4);
        sqlite3_bind_text(st, 5, b->isbn, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, b->pages);
        sqlite3_bind_double(st, 7, b->price);
        sqlite3_bind_text(st, 8, b->description, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, b->featured);
        if (sqlite3_step(st) != SQLITE_DONE) bench_die("raw: insert: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
        b->id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    free(v);
    c->queries = (int64_t)n;
}

static void raw_update(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "UPDATE book SET pages = pages + ?");
    sqlite3_bind_int(st, 1, 1);
    int rc = sqlite3_step(st);
    done(db, st, rc);
    c->queries = 1;
}

/* bulk_update: the objects are loaded and changed before the clock starts. */
static void raw_bulk_update_prepare(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    raw_bu_state *s = bench_xmalloc(sizeof *s);
    sqlite3_stmt *st = prep(db, "SELECT " BOOK_COLS " FROM book b ORDER BY b.id LIMIT ?");
    sqlite3_bind_int64(st, 1, c->p->bulk_update_books);
    s->v = NULL;
    s->n = 0;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        s->v = books_grow(s->v, s->n, &cap);
        r_book *b = &s->v[s->n++];
        read_book(st, 0, b);
        b->pages += 1;
        b->price += 1.0;
    }
    done(db, st, rc);
    c->state = s;
}

static void raw_bulk_update(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    raw_bu_state *s = c->state;
    exec(db, "BEGIN");
    sqlite3_stmt *st = prep(db, "UPDATE book SET pages = ?, price = ? WHERE id = ?");
    for (size_t i = 0; i < s->n; i++) {
        sqlite3_bind_int(st, 1, s->v[i].pages);
        sqlite3_bind_double(st, 2, s->v[i].price);
        sqlite3_bind_int64(st, 3, s->v[i].id);
        if (sqlite3_step(st) != SQLITE_DONE) bench_die("raw: update: %s", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    c->queries = (int64_t)s->n;
}

static void raw_iterator(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    size_t chunk = (size_t)c->p->iter_chunk;
    r_book *v = bench_xmalloc(chunk * sizeof *v);
    sqlite3_stmt *st = prep(db, "SELECT " BOOK_COLS " FROM book b");
    int64_t check = 0;
    size_t n = 0;
    int rc;
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) read_book(st, 0, &v[n++]);
        if (n == chunk || (rc != SQLITE_ROW && n)) {
            check += raw_check_titles(v, n);
            for (size_t i = 0; i < n; i++) raw_book_fields_free(&v[i]);
            n = 0;
        }
        if (rc != SQLITE_ROW) break;
    }
    done(db, st, rc);
    free(v);
    c->queries = 1;
    c->check = check;
}

static void raw_only(bench_ctx *c)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st = prep(db, "SELECT id, title FROM book");
    r_book *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = books_grow(v, n, &cap);
        r_book *b = &v[n++];
        memset(b, 0, sizeof *b);
        b->id = sqlite3_column_int64(st, 0);
        b->title = dup_col(st, 1);
    }
    done(db, st, rc);
    c->queries = 1;
    c->check = raw_check_titles(v, n);
    for (size_t i = 0; i < n; i++) free(v[i].title);
    free(v);
}

/* Page 900 of 1,000 by id: OFFSET, or the rows after the last id of page
** 899 (keyset). */
static void deep_page(bench_ctx *c, bool keyset)
{
    sqlite3 *db = c->handle;
    sqlite3_stmt *st =
        prep(db, keyset ? "SELECT id, title FROM book WHERE id > ? ORDER BY id LIMIT ?"
                        : "SELECT id, title FROM book ORDER BY id LIMIT ? OFFSET ?");
    sqlite3_bind_int64(st, keyset ? 2 : 1, c->p->deep_per_page);
    sqlite3_bind_int64(st, keyset ? 1 : 2, c->p->deep_after);
    r_book *v = bench_xmalloc((size_t)c->p->deep_per_page * sizeof *v);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r_book *b = &v[n++];
        memset(b, 0, sizeof *b);
        b->id = sqlite3_column_int64(st, 0);
        b->title = dup_col(st, 1);
    }
    done(db, st, rc);
    c->queries = 1;
    c->check = raw_check_titles(v, n);
    for (size_t i = 0; i < n; i++) free(v[i].title);
    free(v);
}
static void raw_deep_offset(bench_ctx *c) { deep_page(c, false); }
static void raw_deep_keyset(bench_ctx *c) { deep_page(c, true); }

/* ------------------------------------------------------------ table */

void *bench_raw_open(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        bench_die("raw: cannot open %s", path);
    sqlite3_busy_timeout(db, 5000);
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA foreign_keys=ON");
    exec(db, "PRAGMA synchronous=NORMAL");
    return db;
}

void bench_raw_close(void *h) { sqlite3_close(h); }

int64_t bench_raw_scalar(void *h, const char *sql)
{
    sqlite3_stmt *st = prep(h, sql);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

const bench_impl *bench_raw_impl(const char *name)
{
    static const bench_impl t[] = {
        {"n_plus_one", NULL, raw_n_plus_one, NULL},
        {"select_related", NULL, raw_select_related, NULL},
        {"select_related_nested", NULL, raw_select_related_nested, NULL},
        {"prefetch_books", NULL, raw_prefetch_books, NULL},
        {"prefetch_genres", NULL, raw_prefetch_genres, NULL},
        {"prefetch_to_attr", NULL, raw_prefetch_to_attr, NULL},
        {"values_list_flat", NULL, raw_values_list_flat, NULL},
        {"annotate_having", NULL, raw_annotate_having, NULL},
        {"count_exists", NULL, raw_count_exists, NULL},
        {"bulk_create", bench_bulk_create_prepare, raw_bulk_create, bench_bulk_create_release},
        {"update", NULL, raw_update, NULL},
        {"bulk_update", raw_bulk_update_prepare, raw_bulk_update, raw_bulk_update_release},
        {"iterator", NULL, raw_iterator, NULL},
        {"only", NULL, raw_only, NULL},
        {"deep_offset", NULL, raw_deep_offset, NULL},
        {"deep_keyset", NULL, raw_deep_keyset, NULL},
        {"uncached_read", NULL, raw_read_page, NULL},
        {"cached_read", NULL, raw_read_page, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    return NULL;
}
