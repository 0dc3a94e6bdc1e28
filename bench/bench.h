/*
** bench.h - the benchmark suite of issue 8: corm against hand-written C on
** the raw sqlite3 API, and (bench/django_bench.py) against Django's ORM, on
** one SQLite file.
**
** One binary, build/bench/corm-bench:
**   corm-bench seed --db FILE --scale N        build the bookstore file
**   corm-bench run  --db FILE --scale N --variant corm|raw --scenario NAME
**                   [--warmup W] [--reps R]    time one scenario, print JSON
**   corm-bench sql  --db FILE --scale N        the SQL corm runs per scenario
** bench/run.py drives it (one child process per scenario and variant, so
** getrusage's ru_maxrss is that scenario's peak) and prints the table.
**
** On PostgreSQL (make bench DB=postgresql://...), --db is a connection url
** instead of a file: corm opens it as it is, raw C is bench/raw_pg.c on
** libpq, the seeder is bench/seed_pg.c (COPY), and two helpers let the
** runner manage its databases without a Python driver:
**   corm-bench pg-url  --db URL --dbname NAME  the same server, database NAME
**   corm-bench pg-exec --db URL --sql SQL [--sql SQL ...]
**
** Every scenario computes a `check` from what it read (ids, string
** lengths, counts); the runner compares the checks of the three variants,
** so they provably did the same work.  The numbers and data shapes here
** are mirrored in bench/django_bench.py: change both together.
*/
#ifndef CORM_BENCH_H
#define CORM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bump when the seeded data changes: the runner re-seeds cached files. */
#define BENCH_SEED_VERSION 3

/* Sizes derived from --scale N (N books; "full" is 100,000). */
typedef struct bench_params {
    int64_t scale;
    int64_t books, authors, users, orders, items_per_order;
    int64_t genres, countries, publishers, products, categories;
    int64_t nplus1_books;         /* naive N+1: the first N books */
    int64_t count_exists_authors; /* count/exists loop: authors 1..N */
    int64_t bulk_create_books;
    int64_t bulk_update_books;
    int64_t annotate_min; /* HAVING COUNT(books) > this */
    int64_t exists_pages; /* exists(): pages > this */
    int iter_chunk;       /* iterator chunk size (Django's default) */
    /* deep_offset / deep_keyset: page 900 of 1,000 by id (books/1000 a
    ** page): the page after book id deep_after (ids are 1..books) */
    int64_t deep_per_page, deep_after;
} bench_params;

void bench_params_init(bench_params *p, int64_t scale);

/* Deterministic data, identical in bench/django_bench.py. */
uint64_t bench_mix(uint64_t x);
/* Text of about `len` bytes (words from a fixed vocabulary) into buf. */
size_t bench_text(uint64_t seed, size_t len, char *buf, size_t size);
size_t bench_title(int64_t i, char *buf, size_t size);
/* "YYYY-MM-DD HH:MM:SS", t seconds after 2023-01-01 00:00:00 UTC. */
void bench_datetime(int64_t t, char *buf, size_t size);
/* The fields of book number i (seed and bulk_create). */
typedef struct bench_book {
    char title[96];
    int64_t author_id;
    int64_t publisher_id;    /* 0: NULL */
    char published_date[16]; /* "": NULL */
    char isbn[16];
    int32_t pages;
    double price;
    const char *description;
    bool featured;
} bench_book;
void bench_book_fill(const bench_params *p, int64_t i, bench_book *b, const char *description);
/* 64 descriptions of ~500 bytes, used by bulk_create (pool[i % 64]). */
const char *const *bench_desc_pool(void);

double bench_now_ms(void);
/* CPU time of this process (user + system): immune to being preempted on
** a busy machine, blind to waiting (fsync, locks). */
double bench_cpu_ms(void);
long bench_maxrss_kb(void);

/* int64 -> pointer map (open addressing), for the raw C stitching. */
typedef struct bench_map {
    int64_t *keys;
    void **vals;
    size_t cap, n;
} bench_map;
void bench_map_init(bench_map *m, size_t expect);
void bench_map_put(bench_map *m, int64_t k, void *v);
void *bench_map_get(const bench_map *m, int64_t k);
void bench_map_free(bench_map *m);

void *bench_xmalloc(size_t n);
void *bench_xrealloc(void *p, size_t n);
void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* One scenario run.  prepare (untimed) may set state; run (timed) does the
** work and sets check (reads) and queries; release (untimed) frees state.
** A read's run includes freeing what it loaded: that is part of the cost. */
typedef struct bench_ctx {
    const bench_params *p;
    void *handle; /* corm_db *, sqlite3 * or PGconn * */
    void *state;
    int64_t check;
    int64_t queries;
} bench_ctx;

typedef void (*bench_fn)(bench_ctx *c);

/* bulk_create's prepare and release in every variant: the values to write
** (books p->books + 1 ... on, bench_book_fill) are made before the clock
** starts, into c->state as a bench_bulk_books; the timed part builds the
** program's objects from them and writes. */
typedef struct bench_bulk_books {
    bench_book *src;
    size_t n;
} bench_bulk_books;
void bench_bulk_create_prepare(bench_ctx *c);
void bench_bulk_create_release(bench_ctx *c);

typedef struct bench_impl {
    const char *name;
    bench_fn prepare, run, release;
} bench_impl;

typedef struct bench_scenario {
    const char *name;
    bool write;              /* on a fresh copy of the file, no warm-up */
    const char *post_sql;    /* writes: the check, read after the run (untimed) */
    const char *post_sql_pg; /* the same on PostgreSQL (64-bit cast) */
} bench_scenario;

extern const bench_scenario bench_scenarios[];
extern const int bench_nscenarios;
const bench_scenario *bench_scenario_find(const char *name);

/* Per variant: the connection and the scenarios.  A NULL impl or run means
** "not available in this build" (corm's bulk writes before they land). */
void *bench_corm_open(const char *path);
void bench_corm_close(void *h);
const bench_impl *bench_corm_impl(const char *name);
int64_t bench_corm_scalar(void *h, const char *sql);
int64_t bench_corm_queries(void *h); /* statements run so far */
void bench_corm_sql(void *h, const bench_params *p);

void *bench_raw_open(const char *path);
void bench_raw_close(void *h);
const bench_impl *bench_raw_impl(const char *name);
int64_t bench_raw_scalar(void *h, const char *sql);

int bench_seed(const char *path, const bench_params *p);

/* PostgreSQL: --db starting with postgresql: or postgres: (corm's url forms). */
bool bench_is_pg(const char *db);

void *bench_rawpg_open(const char *url);
void bench_rawpg_close(void *h);
const bench_impl *bench_rawpg_impl(const char *name);
int64_t bench_rawpg_scalar(void *h, const char *sql);

/* seed_pg.c: fill the (empty, freshly created) database url names. */
int bench_seed_pg(const char *url, const bench_params *p);
/* url with its database replaced by dbname, in corm's keyword form
** ("postgresql:host='...' port='...' dbname='...'"), into out. */
void bench_pg_url(const char *url, const char *dbname, char *out, size_t size);
/* Each statement on its own (CREATE DATABASE cannot share a transaction);
** prints the first cell of each one that returns rows. */
int bench_pg_exec(const char *url, const char *const *sql, int nsql);
/* libpq's conninfo for a corm url: drops the "postgresql:" of the keyword form. */
const char *bench_pg_conninfo(const char *url);

#endif
