/*
** seed.c - build the benchmark's bookstore file.  corm_migrate creates the
** schema (the tables and indexes every variant reads), then plain sqlite3
** prepared INSERTs in one transaction fill it: at --scale N, N books with
** ~500-byte descriptions and 3 genres each, N/10 authors, N/10 users with a
** payment method each, N orders with 3 items each, 50 genres, 20
** countries, 50 publishers, 10 categories, 100 products.  Every 7th book
** has no publisher and every 13th author no country (LEFT JOINs matter);
** authors get a Poisson-like number of books (the HAVING keeps ~40%).
** PRAGMA user_version records BENCH_SEED_VERSION for the runner's cache.
*/
#include "bench.h"

#include <corm.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "bookstore.h"

static sqlite3 *sdb;

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(sdb, sql, -1, &st, NULL) != SQLITE_OK)
        bench_die("seed: %s: %s", sql, sqlite3_errmsg(sdb));
    return st;
}

static void step(sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE) bench_die("seed: %s", sqlite3_errmsg(sdb));
    sqlite3_reset(st);
}

static void exec(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(sdb, sql, NULL, NULL, &msg) != SQLITE_OK) bench_die("seed: %s: %s", sql, msg);
}

static void text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

int bench_seed(const char *path, const bench_params *p)
{
    char url[4096], a[1024], b[1024];
    corm_error err;
    remove(path);
    snprintf(a, sizeof a, "%s-wal", path);
    remove(a);
    snprintf(a, sizeof a, "%s-shm", path);
    remove(a);
    snprintf(url, sizeof url, "sqlite:%s", path);
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) bench_die("seed: %s", err.message);
    if (corm_migrate(db) != CORM_OK) bench_die("seed: migrate: %s", corm_db_error(db)->message);
    corm_close(db);

    if (sqlite3_open(path, &sdb) != SQLITE_OK) bench_die("seed: open %s", path);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=OFF");
    exec("BEGIN");

    sqlite3_stmt *st = prep("INSERT INTO country (id, name, code) VALUES (?, ?, ?)");
    for (int64_t i = 1; i <= p->countries; i++) {
        snprintf(a, sizeof a, "Country %lld", (long long)i);
        snprintf(b, sizeof b, "%c%c", 'A' + (int)(i / 26), 'A' + (int)(i % 26));
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, a);
        text(st, 3, b);
        step(st);
    }
    sqlite3_finalize(st);

    st = prep("INSERT INTO publisher (id, name, country_id) VALUES (?, ?, ?)");
    for (int64_t i = 1; i <= p->publishers; i++) {
        snprintf(a, sizeof a, "Publisher %lld", (long long)i);
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, a);
        sqlite3_bind_int64(st, 3, 1 + i % p->countries);
        step(st);
    }
    sqlite3_finalize(st);

    st = prep("INSERT INTO genre (id, name) VALUES (?, ?)");
    for (int64_t i = 1; i <= p->genres; i++) {
        snprintf(a, sizeof a, "Genre %lld", (long long)i);
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, a);
        step(st);
    }
    sqlite3_finalize(st);

    st = prep("INSERT INTO author (id, name, email, country_id, bio) VALUES (?, ?, ?, ?, ?)");
    for (int64_t i = 1; i <= p->authors; i++) {
        snprintf(a, sizeof a, "Author %lld", (long long)i);
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, a);
        snprintf(a, sizeof a, "author%lld@example.com", (long long)i);
        text(st, 3, a);
        if (i % 13 == 0) sqlite3_bind_null(st, 4);
        else sqlite3_bind_int64(st, 4, 1 + i % p->countries);
        if (i % 2) {
            sqlite3_bind_null(st, 5);
        } else {
            bench_text(3000000u + (uint64_t)i, 100, b, sizeof b);
            text(st, 5, b);
        }
        step(st);
    }
    sqlite3_finalize(st);

    st = prep("INSERT INTO book (id, title, author_id, publisher_id, published_date, isbn, pages, "
              "price, description, featured) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *lk = prep("INSERT INTO book_genres (book_id, genre_id) VALUES (?, ?)");
    for (int64_t i = 1; i <= p->books; i++) {
        bench_book bk;
        bench_text(1000000u + (uint64_t)i, 480 + (size_t)(i % 41), b, sizeof b);
        bench_book_fill(p, i, &bk, b);
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, bk.title);
        sqlite3_bind_int64(st, 3, bk.author_id);
        if (bk.publisher_id) sqlite3_bind_int64(st, 4, bk.publisher_id);
        else sqlite3_bind_null(st, 4);
        text(st, 5, bk.published_date[0] ? bk.published_date : NULL);
        text(st, 6, bk.isbn);
        sqlite3_bind_int(st, 7, bk.pages);
        sqlite3_bind_double(st, 8, bk.price);
        text(st, 9, bk.description);
        sqlite3_bind_int(st, 10, bk.featured);
        step(st);
        int64_t g = (int64_t)(bench_mix((uint64_t)i * 11 + 5) % (uint64_t)p->genres);
        const int64_t off[3] = {0, 7, 19};
        for (int k = 0; k < 3; k++) {
            sqlite3_bind_int64(lk, 1, i);
            sqlite3_bind_int64(lk, 2, 1 + (g + off[k]) % p->genres);
            step(lk);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(lk);

    st = prep("INSERT INTO users (id, email, name, account_manager_id, is_active, tenant_id) "
              "VALUES (?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *pm = prep("INSERT INTO payment_method (id, user_id, kind) VALUES (?, ?, ?)");
    for (int64_t i = 1; i <= p->users; i++) {
        sqlite3_bind_int64(st, 1, i);
        snprintf(a, sizeof a, "user%lld@example.com", (long long)i);
        text(st, 2, a);
        snprintf(a, sizeof a, "User %lld", (long long)i);
        text(st, 3, a);
        if (i == 1) sqlite3_bind_null(st, 4);
        else sqlite3_bind_int64(st, 4, 1 + (i - 2) % 10);
        sqlite3_bind_int(st, 5, i % 17 != 0);
        sqlite3_bind_int64(st, 6, 1 + i % 3);
        step(st);
        sqlite3_bind_int64(pm, 1, i);
        sqlite3_bind_int64(pm, 2, i);
        text(pm, 3, i % 2 ? "card" : "invoice");
        step(pm);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(pm);

    st = prep("INSERT INTO category (id, name) VALUES (?, ?)");
    for (int64_t i = 1; i <= p->categories; i++) {
        snprintf(a, sizeof a, "Category %lld", (long long)i);
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, a);
        step(st);
    }
    sqlite3_finalize(st);

    st = prep("INSERT INTO product (id, name, category_id, price, description, metadata) "
              "VALUES (?, ?, ?, ?, ?, NULL)");
    for (int64_t i = 1; i <= p->products; i++) {
        snprintf(a, sizeof a, "Product %lld", (long long)i);
        sqlite3_bind_int64(st, 1, i);
        text(st, 2, a);
        sqlite3_bind_int64(st, 3, 1 + i % p->categories);
        sqlite3_bind_double(st, 4, (double)(100 + i * 37 % 900) / 10.0);
        bench_text(5000000u + (uint64_t)i, 200, b, sizeof b);
        text(st, 5, b);
        step(st);
    }
    sqlite3_finalize(st);

    static const char *const statuses[5] = {"paid", "new", "paid", "shipped", "cancelled"};
    st = prep("INSERT INTO orders (id, user_id, product_id, payment_method_id, total, status, "
              "created_at, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *it = prep("INSERT INTO order_item (order_id, product_id, quantity, price, "
                            "is_cancelled) VALUES (?, ?, ?, ?, ?)");
    for (int64_t i = 1; i <= p->orders; i++) {
        uint64_t h = bench_mix((uint64_t)i * 13 + 7);
        int64_t user = 1 + (int64_t)(h % (uint64_t)p->users);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, user);
        if (i % 50 == 0) sqlite3_bind_null(st, 3);
        else sqlite3_bind_int64(st, 3, 1 + i % p->products);
        sqlite3_bind_int64(st, 4, user);
        sqlite3_bind_double(st, 5, (double)(1000 + (h >> 20) % 50000) / 100.0);
        text(st, 6, statuses[(h >> 8) % 5]);
        bench_datetime(i * 300, a, sizeof a); /* distinct: ordering is total */
        text(st, 7, a);
        sqlite3_bind_int64(st, 8, 1 + user % 3);
        step(st);
        for (int64_t k = 0; k < p->items_per_order; k++) {
            sqlite3_bind_int64(it, 1, i);
            sqlite3_bind_int64(it, 2, 1 + (i * 3 + k) % p->products);
            sqlite3_bind_int64(it, 3, 1 + k);
            sqlite3_bind_double(it, 4, (double)(100 + (i + k) % 900) / 10.0);
            sqlite3_bind_int(it, 5, (i * 3 + k) % 4 == 0);
            step(it);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(it);

    exec("COMMIT");
    snprintf(a, sizeof a, "PRAGMA user_version=%d", BENCH_SEED_VERSION);
    exec(a);
    exec("PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(sdb);
    return 0;
}
