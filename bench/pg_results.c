/*
** pg_results.c - text or binary results from PostgreSQL: which one corm
** should ask libpq for.  Measures, on one server and in one run:
**   books     100,000 rows of the bookstore's Book (bigint, varchar, date,
**             integer, numeric, text, boolean) read and hydrated by a
**             queryset, as an application reads them
**   ints      1,000,000 rows of three integers read through the backend
**             (column_int), the best case for binary
**   dates     200,000 rows of date + timestamp + numeric read as text
**             (column_text), the worst case for binary (corm formats them)
** Median of 7 runs each (after one warm-up), milliseconds.  Usage:
**   tools/pg-test-server.sh run -- sh -c 'build/bench/pg_results "$CORM_TEST_DB"'
** (make bench-pg).  The numbers are in docs/postgresql.md.
*/
#include <corm.h>
#include "bookstore.h"
#include "db/db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7

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

static void die(corm_db *db, const char *what)
{
    fprintf(stderr, "pg_results: %s: %s\n", what, db ? corm_db_error(db)->message : "");
    exit(1);
}

static int64_t books(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    if (corm_eval(qs) != CORM_OK) die(db, corm_qs_error(qs)->message);
    int64_t sum = 0;
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        Book *b = corm_qs_at(qs, i);
        sum += b->pages + (int64_t)strlen(b->title) + (int64_t)strlen(b->published_date) +
               (int64_t)corm_dec_to_double(b->price) + b->featured;
    }
    corm_qs_free(qs);
    return sum;
}

static int64_t scan(corm_db *db, const char *sql, bool text)
{
    corm__stmt *s;
    corm_error err;
    if (db->be->query(db->conn, sql, NULL, 0, &s, &err) != CORM_OK) die(NULL, err.message);
    bool row;
    int64_t sum = 0;
    int n = db->be->column_count(s);
    while (db->be->step(s, &row, &err) == CORM_OK && row) {
        for (int i = 0; i < n; i++) {
            if (text) {
                size_t len;
                db->be->column_text(s, i, &len);
                sum += (int64_t)len;
            } else {
                sum += db->be->column_int(s, i);
            }
        }
    }
    db->be->finish(s);
    return sum;
}

static int64_t ints(corm_db *db)
{
    return scan(db, "SELECT g, g * 2, g * 3 FROM generate_series(1, 1000000) g", false);
}

static int64_t dates(corm_db *db)
{
    return scan(db,
                "SELECT DATE '2000-01-01' + g % 9000, TIMESTAMP '2020-01-01 00:00:00' + "
                "g * INTERVAL '1 second', (g / 7.0)::numeric(12, 2) "
                "FROM generate_series(1, 200000) g",
                true);
}

static double measure(corm_db *db, bool binary, int64_t (*fn)(corm_db *), int64_t *check)
{
    corm__pg_set_binary(db->conn, binary);
    double t[RUNS];
    *check = fn(db); /* warm-up: plans, caches */
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_ms();
        int64_t c = fn(db);
        t[r] = now_ms() - t0;
        if (c != *check) die(NULL, "results differ between runs");
    }
    qsort(t, RUNS, sizeof *t, cmp);
    return t[RUNS / 2];
}

int main(int argc, char **argv)
{
    if (argc != 2 || strncmp(argv[1], "postgres", 8) != 0) {
        fprintf(stderr, "usage: pg_results postgresql://...\n");
        return 2;
    }
    corm_error err;
    corm_db *db = corm_open(argv[1], &bookstore_schema, &err);
    if (!db) {
        fprintf(stderr, "pg_results: %s\n", err.message);
        return 1;
    }
    if (corm_exec(db, "DROP SCHEMA IF EXISTS corm_bench CASCADE; CREATE SCHEMA corm_bench; "
                      "SET search_path = corm_bench") != CORM_OK)
        die(db, "schema");
    if (corm_migrate(db) != CORM_OK) die(db, "migrate");
    if (corm_exec(
            db,
            "INSERT INTO country (name, code) VALUES ('France', 'FR'); "
            "INSERT INTO author (name, email) VALUES ('A', 'a@example.com'); "
            "INSERT INTO book (title, author_id, published_date, isbn, pages, price, "
            "description, featured) SELECT 'Book number ' || g, 1, DATE '1990-01-01' + g % 9000, "
            "'isbn-' || g, g % 1000, (g % 5000) / 100.0, repeat('d', 60), g % 2 = 0 "
            "FROM generate_series(1, 100000) g; ANALYZE") != CORM_OK)
        die(db, "seed");
    static const struct {
        const char *name;
        int64_t (*fn)(corm_db *);
    } cases[] = {
        {"books (100k rows, queryset)", books},
        {"ints (1M rows x 3 int)", ints},
        {"dates (200k x date, timestamp, numeric)", dates},
    };
    printf("%-42s %10s %10s %8s\n", "case", "text ms", "binary ms", "bin/text");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t c1, c2;
        double text = measure(db, false, cases[i].fn, &c1);
        double bin = measure(db, true, cases[i].fn, &c2);
        if (c1 != c2) die(NULL, "text and binary read different values");
        printf("%-42s %10.1f %10.1f %8.2f\n", cases[i].name, text, bin, bin / text);
    }
    if (corm_exec(db, "DROP SCHEMA corm_bench CASCADE") != CORM_OK) die(db, "drop schema");
    corm_close(db);
    return 0;
}
