/*
** bench-writes.c - the measurements behind docs/writes.md: bulk_create
** against a loop of saves and raw sqlite3, and the three bulk_update
** strategies (one prepared single-row UPDATE per object, CASE WHEN
** batches, UPDATE ... FROM (VALUES ...) batches), on the bookstore schema.
** Not part of `make test` (timings never are); run by hand:
**
**   make B=build/rel lib build/rel/corm
**   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Ibuild/rel/gen \
**      tools/bench-writes.c build/rel/obj/gen/bookstore.o build/rel/libcorm.a \
**      -lsqlite3 -lpq -lm -pthread -o build/rel/bench-writes
**   build/rel/bench-writes [sqlite:/tmp/bench.db | postgresql://...] [N]
**
** Prints the median of 5 runs of each, in milliseconds.
*/
#include <corm.h>
#include "bookstore.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

static void die(corm_db *db, const char *what)
{
    char buf[2048];
    fprintf(stderr, "%s: %s\n", what, corm_error_format(corm_db_error(db), buf, sizeof buf));
    exit(1);
}

static corm_db *fresh(const char *url)
{
    if (strncmp(url, "sqlite:", 7) == 0) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", url + 7, url + 7, url + 7);
        if (system(cmd) != 0) exit(1);
    }
    corm_error err;
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) {
        char buf[2048];
        fprintf(stderr, "open: %s\n", corm_error_format(&err, buf, sizeof buf));
        exit(1);
    }
    if (strncmp(url, "postgresql", 10) == 0) {
        /* start from empty tables */
        if (corm_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") != CORM_OK)
            die(db, "drop");
    }
    if (corm_migrate(db) != CORM_OK) die(db, "migrate");
    Author a = CORM_NEW(Author);
    a.name = "A";
    a.email = "a@example.com";
    corm_set_null(&a, "country", true);
    corm_set_null(&a, "bio", true);
    if (corm_save(db, &a) != CORM_OK) die(db, "author");
    return db;
}

static Book *books_new(size_t n, char (**isbn)[16])
{
    Book *b = calloc(n, sizeof *b);
    *isbn = calloc(n, 16);
    for (size_t i = 0; i < n; i++) {
        b[i] = CORM_NEW(Book);
        snprintf((*isbn)[i], 16, "979%010zu", i);
        b[i].title = "A bulk book with a title";
        b[i].author_id = 1;
        corm_set_null(&b[i], "publisher", true);
        b[i].published_date = "2024-01-01";
        b[i].isbn = (*isbn)[i];
        b[i].pages = (int32_t)(i % 500);
        b[i].price = 9.99;
        b[i].description = "A book of the benchmark, with a description of some length.";
    }
    return b;
}

static void reset_ids(Book *b, size_t n)
{
    for (size_t i = 0; i < n; i++) b[i].id = 0;
}

/* One bulk_update with one strategy, for instruction counts:
**   valgrind --tool=callgrind --toggle-collect=corm_bulk_update_array_at \
**     build/rel/bench-writes sqlite:/dev/shm/b.db 10000 update 2 1 */
static int update_once(const char *url, size_t n, int strategy, int nfields)
{
    char(*isbn)[16];
    Book *b = books_new(n, &isbn);
    corm_db *db = fresh(url);
    if (corm_bulk_create_array(db, b, n, NULL) != CORM_OK) die(db, "bulk_create");
    for (size_t i = 0; i < n; i++) b[i].pages = (int32_t)(i % 77);
    static const char *const f1[] = {"pages", NULL};
    static const char *const f2[] = {"pages", "title", NULL};
    corm_bulk_opts o = {.strategy = strategy};
    if (corm_bulk_update_array_at(db, b, n, nfields == 1 ? f1 : f2, &o, CORM_SITE) != (int64_t)n)
        die(db, "bulk_update");
    corm_close(db);
    free(b);
    free(isbn);
    return 0;
}

/* One bulk_create of n books, for instruction counts:
**   valgrind --tool=callgrind --toggle-collect=corm_bulk_create_array_at \
**     build/rel/bench-writes sqlite:/dev/shm/b.db 100000 create */
static int create_once(const char *url, size_t n)
{
    char(*isbn)[16];
    Book *b = books_new(n, &isbn);
    corm_db *db = fresh(url);
    if (corm_bulk_create_array(db, b, n, NULL) != CORM_OK) die(db, "bulk_create");
    corm_close(db);
    free(b);
    free(isbn);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[3], "create") == 0)
        return create_once(argv[1], (size_t)atol(argv[2]));
    const char *url = argc > 1 ? argv[1] : "sqlite:/tmp/corm-bench-writes.db";
    size_t n = argc > 2 ? (size_t)atol(argv[2]) : 100000;
    if (argc > 5 && strcmp(argv[3], "update") == 0)
        return update_once(url, n, atoi(argv[4]), atoi(argv[5]));
    bool sqlite = strncmp(url, "sqlite:", 7) == 0;
    char(*isbn)[16];
    Book *b = books_new(n, &isbn);
    double t[RUNS];
    printf("%s, %zu books\n", url, n);

    /* ---- inserts */
    const size_t batches[] = {0, 1000, 250, 100};
    for (size_t k = 0; k < 4; k++) {
        for (int r = 0; r < RUNS; r++) {
            corm_db *db = fresh(url);
            reset_ids(b, n);
            corm_bulk_opts o = {.batch_size = batches[k]};
            double t0 = now_ms();
            if (corm_bulk_create_array(db, b, n, &o) != CORM_OK) die(db, "bulk_create");
            t[r] = now_ms() - t0;
            corm_close(db);
        }
        printf("bulk_create batch %-6zu            %9.1f ms\n", batches[k], median(t, RUNS));
    }
    for (int r = 0; r < RUNS; r++) {
        corm_db *db = fresh(url);
        reset_ids(b, n);
        double t0 = now_ms();
        if (corm_begin(db) != CORM_OK) die(db, "begin");
        for (size_t i = 0; i < n; i++)
            if (corm_save(db, &b[i]) != CORM_OK) die(db, "save");
        if (corm_commit(db) != CORM_OK) die(db, "commit");
        t[r] = now_ms() - t0;
        corm_close(db);
    }
    printf("save loop in a transaction          %9.1f ms\n", median(t, RUNS));
    if (sqlite) {
        for (int r = 0; r < RUNS; r++) {
            corm_db *db = fresh(url);
            corm_close(db);
            sqlite3 *s;
            sqlite3_open(url + 7, &s);
            sqlite3_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", 0, 0, 0);
            double t0 = now_ms();
            sqlite3_exec(s, "BEGIN", 0, 0, 0);
            sqlite3_stmt *st;
            /* no RETURNING: on SQLite 3.40 it makes a single-row INSERT 4x
            ** slower; last_insert_rowid is what a careful program reads */
            sqlite3_prepare_v2(s,
                               "INSERT INTO book (title, author_id, publisher_id, "
                               "published_date, isbn, pages, price, description, featured) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               -1, &st, 0);
            for (size_t i = 0; i < n; i++) {
                sqlite3_bind_text(st, 1, b[i].title, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, b[i].author_id);
                sqlite3_bind_null(st, 3);
                sqlite3_bind_text(st, 4, b[i].published_date, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 5, b[i].isbn, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 6, b[i].pages);
                sqlite3_bind_double(st, 7, b[i].price);
                sqlite3_bind_text(st, 8, b[i].description, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 9, 0);
                if (sqlite3_step(st) == SQLITE_DONE) b[i].id = sqlite3_last_insert_rowid(s);
                sqlite3_reset(st);
            }
            sqlite3_finalize(st);
            sqlite3_exec(s, "COMMIT", 0, 0, 0);
            t[r] = now_ms() - t0;
            sqlite3_close(s);
        }
        printf("raw sqlite3 prepared INSERT loop    %9.1f ms\n", median(t, RUNS));
    }

    /* ---- updates: the books inserted once, then each strategy */
    corm_db *db = fresh(url);
    reset_ids(b, n);
    if (corm_bulk_create_array(db, b, n, NULL) != CORM_OK) die(db, "bulk_create");
    static const char *const names[] = {"", "CASE WHEN (batches of 1000)", "rows (executemany)",
                                        "FROM (VALUES ...)"};
    static const char *const f1[] = {"pages", NULL};
    static const char *const f2[] = {"pages", "title", NULL};
    for (int nf = 1; nf <= 2; nf++) {
        for (int s = CORM_BULK_CASE; s <= CORM_BULK_VALUES; s++) {
            for (int r = 0; r < RUNS; r++) {
                for (size_t i = 0; i < n; i++) b[i].pages = (int32_t)(r * 7 + (int)i % 100);
                corm_bulk_opts o = {.strategy = s};
                double t0 = now_ms();
                if (corm_bulk_update_array_at(db, b, n, nf == 1 ? f1 : f2, &o, CORM_SITE) !=
                    (int64_t)n)
                    die(db, "bulk_update");
                t[r] = now_ms() - t0;
            }
            printf("bulk_update %d field%s %-28s %9.1f ms\n", nf, nf > 1 ? "s" : " ", names[s],
                   median(t, RUNS));
        }
    }
    for (int nf = 1; nf <= 2; nf++) {
        for (int r = 0; r < RUNS; r++) {
            for (size_t i = 0; i < n; i++) b[i].pages = (int32_t)(r * 5 + (int)i % 100);
            corm_bulk_opts o = {.strategy = CORM_BULK_VALUES, .batch_size = 1000};
            double t0 = now_ms();
            if (corm_bulk_update_array_at(db, b, n, nf == 1 ? f1 : f2, &o, CORM_SITE) != (int64_t)n)
                die(db, "bulk_update");
            t[r] = now_ms() - t0;
        }
        printf("bulk_update %d field%s %-28s %9.1f ms\n", nf, nf > 1 ? "s" : " ",
               "FROM (VALUES ...) batch 1000", median(t, RUNS));
    }
    for (int r = 0; r < RUNS; r++) {
        corm_qs *qs = corm_all(db, Book);
        double t0 = now_ms();
        if (corm_update(qs, CORM_SET_F("pages", "pages", '+', corm_int(1))) != (int64_t)n)
            die(db, "update");
        t[r] = now_ms() - t0;
        corm_qs_free(qs);
    }
    printf("update() F(pages) + 1, one statement %8.1f ms\n", median(t, RUNS));
    for (int r = 0; r < RUNS; r++) {
        if (corm_begin(db) != CORM_OK) die(db, "begin");
        double t0 = now_ms();
        for (size_t i = 0; i < n; i++) {
            b[i].pages++;
            if (corm_save(db, &b[i]) != CORM_OK) die(db, "save");
        }
        t[r] = now_ms() - t0;
        if (corm_commit(db) != CORM_OK) die(db, "commit");
    }
    printf("save loop (all fields) in a tx       %8.1f ms\n", median(t, RUNS));
    corm_close(db);
    free(b);
    free(isbn);
    return 0;
}
