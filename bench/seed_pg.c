/*
** seed_pg.c - the benchmark's bookstore on PostgreSQL, and the two small
** helpers bench/run.py manages its databases with (so it needs no Python
** driver of its own).
**
** The seeder fills a database the runner has just created (empty, owned by
** the bench): corm_migrate makes the tables on the url, as seed.c does on
** SQLite, then one transaction of COPY ... FROM STDIN (text format) loads
** exactly the rows seed.c inserts - same ids, same values, same order -
** and the identity sequences are moved past the ids given, so that
** bulk_create's new books get fresh ids.  VACUUM ANALYZE at the end sets
** the hint bits and the visibility map and gathers statistics: reads then
** measure reading, not the first reader cleaning up after the load, and
** every copy of the database (CREATE DATABASE ... TEMPLATE, for the
** writes) starts in that state.
**
** The row generation mirrors seed.c line by line: change both together
** (BENCH_SEED_VERSION in bench.h).  The runner checks that the read
** scenarios' checks agree across the three variants; that SQLite and
** PostgreSQL hold the same data shows in the checks being equal on both.
*/
#include "bench.h"

#include <corm.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookstore.h"

/* ------------------------------------------------------------ helpers */

const char *bench_pg_conninfo(const char *url)
{
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) return url;
    const char *colon = strchr(url, ':');
    return colon ? colon + 1 : url; /* corm's "postgresql:host=... dbname=..." */
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static PGconn *connect_or_die(const char *url, const char *who)
{
    const char *const keys[] = {"dbname", "client_encoding", NULL};
    const char *const vals[] = {bench_pg_conninfo(url), "UTF8", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK)
        bench_die("%s: cannot connect: %s", who, c ? PQerrorMessage(c) : "out of memory");
    PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
    return c;
}

static void put_quoted(char *out, size_t size, size_t *n, const char *s)
{
    /* libpq keyword values: single quotes, \ escapes ' and \ */
    if (*n < size) out[(*n)++] = '\'';
    for (; *s && *n + 2 < size; s++) {
        if (*s == '\'' || *s == '\\') out[(*n)++] = '\\';
        out[(*n)++] = *s;
    }
    if (*n < size) out[(*n)++] = '\'';
}

void bench_pg_url(const char *url, const char *dbname, char *out, size_t size)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(bench_pg_conninfo(url), &msg);
    if (!opts) bench_die("pg-url: %s: %s", url, msg ? msg : "out of memory");
    size_t n = (size_t)snprintf(out, size, "postgresql:");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !o->val[0] || strcmp(o->keyword, "dbname") == 0) continue;
        n += (size_t)snprintf(out + n, size - n, "%s=", o->keyword);
        put_quoted(out, size - 1, &n, o->val);
        if (n < size - 1) out[n++] = ' ';
    }
    n += (size_t)snprintf(out + n, size - n, "dbname=");
    put_quoted(out, size - 1, &n, dbname);
    if (n >= size - 1) bench_die("pg-url: url too long");
    out[n] = '\0';
    PQconninfoFree(opts);
}

int bench_pg_exec(const char *url, const char *const *sql, int nsql)
{
    PGconn *c = connect_or_die(url, "pg-exec");
    for (int i = 0; i < nsql; i++) {
        PGresult *r = PQexec(c, sql[i]);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            bench_die("pg-exec: %s: %s", sql[i], PQerrorMessage(c));
        if (st == PGRES_TUPLES_OK) puts(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
        PQclear(r);
    }
    PQfinish(c);
    return 0;
}

/* ------------------------------------------------------------ COPY */

static PGconn *sc; /* the seeding connection */
static char *cbuf; /* COPY data waiting to be sent */
static size_t clen, ccap;
static int ccol; /* columns written in the current row */

static void exec(const char *sql)
{
    PGresult *r = PQexec(sc, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        bench_die("seed: %s: %s", sql, PQerrorMessage(sc));
    PQclear(r);
}

static void flush(void)
{
    if (clen && PQputCopyData(sc, cbuf, (int)clen) != 1)
        bench_die("seed: COPY: %s", PQerrorMessage(sc));
    clen = 0;
}

static void reserve(size_t n)
{
    if (clen + n <= ccap) return;
    if (clen > 1 << 16) flush();
    if (clen + n <= ccap) return;
    ccap = (clen + n) * 2;
    cbuf = bench_xrealloc(cbuf, ccap);
}

static void copy_begin(const char *sql)
{
    PGresult *r = PQexec(sc, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) bench_die("seed: %s: %s", sql, PQerrorMessage(sc));
    PQclear(r);
    clen = 0;
    ccol = 0;
}

static void copy_end(void)
{
    flush();
    if (PQputCopyEnd(sc, NULL) != 1) bench_die("seed: COPY end: %s", PQerrorMessage(sc));
    PGresult *r;
    while ((r = PQgetResult(sc)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) bench_die("seed: COPY: %s", PQerrorMessage(sc));
        PQclear(r);
    }
}

static void sep(void)
{
    reserve(1);
    if (ccol++) cbuf[clen++] = '\t';
}

static void end_row(void)
{
    reserve(1);
    cbuf[clen++] = '\n';
    ccol = 0;
}

/* COPY's text format: \N is NULL; backslash, tab, newline and CR escaped. */
static void text(const char *s)
{
    sep();
    if (!s) {
        reserve(2);
        memcpy(cbuf + clen, "\\N", 2);
        clen += 2;
        return;
    }
    size_t n = strlen(s);
    reserve(2 * n);
    for (; *s; s++) {
        char ch = *s;
        if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
            cbuf[clen++] = '\\';
            ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
        }
        cbuf[clen++] = ch;
    }
}

static void null(void) { text(NULL); }

static void i64(int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    text(b);
}

/* numeric(p, 2): the double seed.c binds, to the cent */
static void money(double v)
{
    char b[48];
    snprintf(b, sizeof b, "%.2f", v);
    text(b);
}

static void boolean(bool v) { text(v ? "t" : "f"); }

/* identity sequences past the ids COPY gave explicitly */
static void sync_ids(const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
             "(SELECT COALESCE(MAX(id), 0) + 1 FROM %s), false)",
             table, table);
    exec(sql);
}

/* ------------------------------------------------------------ seed */

int bench_seed_pg(const char *url, const bench_params *p)
{
    char a[1024], b[1024];
    corm_error err;
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) bench_die("seed: %s", err.message);
    if (corm_migrate(db) != CORM_OK) bench_die("seed: migrate: %s", corm_db_error(db)->message);
    corm_close(db);

    sc = connect_or_die(url, "seed");
    exec("SET synchronous_commit = off");
    exec("BEGIN");

    copy_begin("COPY country (id, name, code) FROM STDIN");
    for (int64_t i = 1; i <= p->countries; i++) {
        snprintf(a, sizeof a, "Country %lld", (long long)i);
        snprintf(b, sizeof b, "%c%c", 'A' + (int)(i / 26), 'A' + (int)(i % 26));
        i64(i);
        text(a);
        text(b);
        end_row();
    }
    copy_end();

    copy_begin("COPY publisher (id, name, country_id) FROM STDIN");
    for (int64_t i = 1; i <= p->publishers; i++) {
        snprintf(a, sizeof a, "Publisher %lld", (long long)i);
        i64(i);
        text(a);
        i64(1 + i % p->countries);
        end_row();
    }
    copy_end();

    copy_begin("COPY genre (id, name) FROM STDIN");
    for (int64_t i = 1; i <= p->genres; i++) {
        snprintf(a, sizeof a, "Genre %lld", (long long)i);
        i64(i);
        text(a);
        end_row();
    }
    copy_end();

    copy_begin("COPY author (id, name, email, country_id, bio) FROM STDIN");
    for (int64_t i = 1; i <= p->authors; i++) {
        i64(i);
        snprintf(a, sizeof a, "Author %lld", (long long)i);
        text(a);
        snprintf(a, sizeof a, "author%lld@example.com", (long long)i);
        text(a);
        if (i % 13 == 0) null();
        else i64(1 + i % p->countries);
        if (i % 2) {
            null();
        } else {
            bench_text(3000000u + (uint64_t)i, 100, b, sizeof b);
            text(b);
        }
        end_row();
    }
    copy_end();

    /* seed.c interleaves a book's row and its three genre links; one COPY
    ** runs at a time, so the links follow in a second pass (same rows,
    ** same order, so the same ids). */
    copy_begin("COPY book (id, title, author_id, publisher_id, published_date, isbn, pages, "
               "price, description, featured) FROM STDIN");
    for (int64_t i = 1; i <= p->books; i++) {
        bench_book bk;
        bench_text(1000000u + (uint64_t)i, 480 + (size_t)(i % 41), b, sizeof b);
        bench_book_fill(p, i, &bk, b);
        i64(i);
        text(bk.title);
        i64(bk.author_id);
        if (bk.publisher_id) i64(bk.publisher_id);
        else null();
        text(bk.published_date[0] ? bk.published_date : NULL);
        text(bk.isbn);
        i64(bk.pages);
        money(bk.price);
        text(bk.description);
        boolean(bk.featured);
        end_row();
    }
    copy_end();
    copy_begin("COPY book_genres (book_id, genre_id) FROM STDIN");
    for (int64_t i = 1; i <= p->books; i++) {
        int64_t g = (int64_t)(bench_mix((uint64_t)i * 11 + 5) % (uint64_t)p->genres);
        const int64_t off[3] = {0, 7, 19};
        for (int k = 0; k < 3; k++) {
            i64(i);
            i64(1 + (g + off[k]) % p->genres);
            end_row();
        }
    }
    copy_end();

    copy_begin("COPY users (id, email, name, account_manager_id, is_active, tenant_id) FROM STDIN");
    for (int64_t i = 1; i <= p->users; i++) {
        i64(i);
        snprintf(a, sizeof a, "user%lld@example.com", (long long)i);
        text(a);
        snprintf(a, sizeof a, "User %lld", (long long)i);
        text(a);
        if (i == 1) null();
        else i64(1 + (i - 2) % 10);
        boolean(i % 17 != 0);
        i64(1 + i % 3);
        end_row();
    }
    copy_end();
    copy_begin("COPY payment_method (id, user_id, kind) FROM STDIN");
    for (int64_t i = 1; i <= p->users; i++) {
        i64(i);
        i64(i);
        text(i % 2 ? "card" : "invoice");
        end_row();
    }
    copy_end();

    copy_begin("COPY category (id, name) FROM STDIN");
    for (int64_t i = 1; i <= p->categories; i++) {
        snprintf(a, sizeof a, "Category %lld", (long long)i);
        i64(i);
        text(a);
        end_row();
    }
    copy_end();

    copy_begin("COPY product (id, name, category_id, price, description, metadata) FROM STDIN");
    for (int64_t i = 1; i <= p->products; i++) {
        snprintf(a, sizeof a, "Product %lld", (long long)i);
        i64(i);
        text(a);
        i64(1 + i % p->categories);
        money((double)(100 + i * 37 % 900) / 10.0);
        bench_text(5000000u + (uint64_t)i, 200, b, sizeof b);
        text(b);
        null();
        end_row();
    }
    copy_end();

    static const char *const statuses[5] = {"paid", "new", "paid", "shipped", "cancelled"};
    copy_begin("COPY orders (id, user_id, product_id, payment_method_id, total, status, "
               "created_at, tenant_id) FROM STDIN");
    for (int64_t i = 1; i <= p->orders; i++) {
        uint64_t h = bench_mix((uint64_t)i * 13 + 7);
        int64_t user = 1 + (int64_t)(h % (uint64_t)p->users);
        i64(i);
        i64(user);
        if (i % 50 == 0) null();
        else i64(1 + i % p->products);
        i64(user);
        money((double)(1000 + (h >> 20) % 50000) / 100.0);
        text(statuses[(h >> 8) % 5]);
        bench_datetime(i * 300, a, sizeof a); /* distinct: ordering is total */
        text(a);
        i64(1 + user % 3);
        end_row();
    }
    copy_end();
    copy_begin("COPY order_item (order_id, product_id, quantity, price, is_cancelled) FROM STDIN");
    for (int64_t i = 1; i <= p->orders; i++) {
        for (int64_t k = 0; k < p->items_per_order; k++) {
            i64(i);
            i64(1 + (i * 3 + k) % p->products);
            i64(1 + k);
            money((double)(100 + (i + k) % 900) / 10.0);
            boolean((i * 3 + k) % 4 == 0);
            end_row();
        }
    }
    copy_end();

    static const char *const with_ids[] = {"country", "publisher", "genre",          "author",
                                           "book",    "users",     "payment_method", "category",
                                           "product", "orders"};
    for (size_t i = 0; i < sizeof with_ids / sizeof with_ids[0]; i++) sync_ids(with_ids[i]);
    exec("COMMIT");
    exec("VACUUM (ANALYZE)");
    PQfinish(sc);
    free(cbuf);
    cbuf = NULL;
    clen = ccap = 0;
    return 0;
}
