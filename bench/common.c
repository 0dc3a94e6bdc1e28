/*
** common.c - sizes, deterministic data, timing and a small int64 map
** shared by the seeder and both C variants.  The data functions are
** mirrored exactly in bench/django_bench.py (bulk_create writes the same
** rows from every variant).
*/
#define _DEFAULT_SOURCE
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define POST_BOOKS "SELECT COUNT(*) + SUM(pages) FROM book"
#define POST_PRICES "SELECT SUM(pages) + CAST(ROUND(SUM(price) * 100) AS INTEGER) FROM book"
/* PostgreSQL's INTEGER is 32 bits: the sum of prices overflows it at 1M books. */
#define POST_PRICES_PG "SELECT SUM(pages) + CAST(ROUND(SUM(price) * 100) AS BIGINT) FROM book"

const bench_scenario bench_scenarios[] = {
    {"n_plus_one", false, NULL, NULL},
    {"select_related", false, NULL, NULL},
    {"select_related_nested", false, NULL, NULL},
    {"prefetch_books", false, NULL, NULL},
    {"prefetch_genres", false, NULL, NULL},
    {"prefetch_to_attr", false, NULL, NULL},
    {"values_list_flat", false, NULL, NULL},
    {"annotate_having", false, NULL, NULL},
    {"count_exists", false, NULL, NULL},
    {"bulk_create", true, POST_BOOKS, POST_BOOKS},
    {"update", true, POST_BOOKS, POST_BOOKS},
    {"bulk_update", true, POST_PRICES, POST_PRICES_PG},
    {"iterator", false, NULL, NULL},
    {"only", false, NULL, NULL},
    {"deep_offset", false, NULL, NULL},
    {"deep_keyset", false, NULL, NULL},
    {"uncached_read", false, NULL, NULL},
    {"cached_read", false, NULL, NULL},
};
const int bench_nscenarios = (int)(sizeof bench_scenarios / sizeof bench_scenarios[0]);

const bench_scenario *bench_scenario_find(const char *name)
{
    for (int i = 0; i < bench_nscenarios; i++)
        if (strcmp(bench_scenarios[i].name, name) == 0) return &bench_scenarios[i];
    return NULL;
}

bool bench_is_pg(const char *db)
{
    return strncmp(db, "postgresql:", 11) == 0 || strncmp(db, "postgres:", 9) == 0;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void bench_params_init(bench_params *p, int64_t scale)
{
    memset(p, 0, sizeof *p);
    p->scale = scale;
    p->books = scale;
    p->authors = max64(1, scale / 10);
    p->users = max64(1, scale / 10);
    p->orders = scale;
    p->items_per_order = 3;
    p->genres = 50;
    p->countries = 20;
    p->publishers = 50;
    p->products = 100;
    p->categories = 10;
    p->nplus1_books = min64(1000, scale);
    p->count_exists_authors = min64(1000, p->authors);
    p->bulk_create_books = scale;
    p->bulk_update_books = max64(1, scale / 10);
    p->annotate_min = 10;
    p->exists_pages = 900;
    p->iter_chunk = 2000;
    p->deep_per_page = max64(1, scale / 1000);
    int64_t pages = (scale + p->deep_per_page - 1) / p->deep_per_page;
    p->deep_after = max64(0, pages * 9 / 10 - 1) * p->deep_per_page;
}

/* splitmix64's finalizer: a fixed, portable scramble. */
uint64_t bench_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static const char *const words[32] = {
    "ancient",  "river",  "shadow",  "garden",  "empire",   "winter",  "machine", "letters",
    "silent",   "harbor", "crimson", "journey", "mountain", "library", "glass",   "orchard",
    "northern", "voices", "lantern", "forest",  "hidden",   "atlas",   "copper",  "tide",
    "stranger", "island", "morning", "archive", "thunder",  "compass", "velvet",  "frontier",
};

size_t bench_text(uint64_t seed, size_t len, char *buf, size_t size)
{
    size_t n = 0;
    for (uint64_t k = 0; n < len && n + 16 < size; k++) {
        const char *w = words[bench_mix(seed * 1000003u + k) % 32];
        if (n) buf[n++] = ' ';
        size_t wl = strlen(w);
        memcpy(buf + n, w, wl);
        n += wl;
    }
    buf[n] = '\0';
    return n;
}

size_t bench_title(int64_t i, char *buf, size_t size)
{
    uint64_t h = bench_mix((uint64_t)i);
    int n = snprintf(buf, size, "The %s %s of %s, vol. %lld", words[h % 32], words[(h >> 8) % 32],
                     words[(h >> 16) % 32], (long long)i);
    return n < 0 ? 0 : (size_t)n;
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

void bench_datetime(int64_t t, char *buf, size_t size)
{
    int64_t s = 1672531200 + t; /* 2023-01-01 00:00:00 UTC */
    int y, m, d;
    civil(s / 86400, &y, &m, &d);
    int64_t r = s % 86400;
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, (int)(r / 3600),
             (int)(r / 60 % 60), (int)(r % 60));
}

void bench_book_fill(const bench_params *p, int64_t i, bench_book *b, const char *description)
{
    uint64_t u = (uint64_t)i;
    bench_title(i, b->title, sizeof b->title);
    b->author_id = 1 + (int64_t)(bench_mix(u * 2 + 1) % (uint64_t)p->authors);
    b->publisher_id = i % 7 == 0 ? 0 : 1 + (i * 31) % p->publishers;
    if (i % 10 == 0) {
        b->published_date[0] = '\0';
    } else {
        char dt[32];
        bench_datetime((int64_t)(bench_mix(u * 3 + 2) % (15u * 365)) * 86400 - 8 * 365 * 86400, dt,
                       sizeof dt);
        memcpy(b->published_date, dt, 10);
        b->published_date[10] = '\0';
    }
    snprintf(b->isbn, sizeof b->isbn, "978%010lld", (long long)i);
    b->pages = (int32_t)(50 + bench_mix(u * 5 + 3) % 950);
    b->price = (double)(499 + bench_mix(u * 7 + 4) % 5000) / 100.0;
    b->description = description;
    b->featured = i % 10 == 0;
}

const char *const *bench_desc_pool(void)
{
    static char bufs[64][600];
    static const char *pool[64];
    if (!pool[0]) {
        for (int j = 0; j < 64; j++) {
            bench_text(7000000u + (uint64_t)j, 480 + (size_t)j % 41, bufs[j], sizeof bufs[j]);
            pool[j] = bufs[j];
        }
    }
    return pool;
}

void bench_bulk_create_prepare(bench_ctx *c)
{
    bench_bulk_books *s = bench_xmalloc(sizeof *s);
    const char *const *pool = bench_desc_pool();
    s->n = (size_t)c->p->bulk_create_books;
    s->src = bench_xmalloc(s->n * sizeof *s->src);
    for (size_t i = 0; i < s->n; i++) {
        int64_t k = c->p->books + 1 + (int64_t)i;
        bench_book_fill(c->p, k, &s->src[i], pool[k % 64]);
    }
    c->state = s;
}

void bench_bulk_create_release(bench_ctx *c)
{
    bench_bulk_books *s = c->state;
    free(s->src);
    free(s);
}

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Peak RSS of this process image: VmHWM, not getrusage's ru_maxrss, which
** Linux carries over exec from the process that forked us (the Python
** runner's own ~15 MB would hide the small scenarios). */
double bench_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

long bench_maxrss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("corm-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) bench_die("out of memory (%zu bytes)", n);
    return p;
}

void *bench_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) bench_die("out of memory (%zu bytes)", n);
    return q;
}

/* ------------------------------------------------------------------ map */

static size_t slot_of(int64_t k, size_t cap) { return (size_t)bench_mix((uint64_t)k) & (cap - 1); }

void bench_map_init(bench_map *m, size_t expect)
{
    size_t cap = 16;
    while (cap < expect * 2) cap *= 2;
    m->cap = cap;
    m->n = 0;
    m->keys = bench_xmalloc(cap * sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    if (!m->vals) bench_die("out of memory");
}

void bench_map_put(bench_map *m, int64_t k, void *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        bench_map old = *m;
        bench_map_init(m, old.cap);
        for (size_t i = 0; i < old.cap; i++)
            if (old.vals[i]) bench_map_put(m, old.keys[i], old.vals[i]);
        bench_map_free(&old);
    }
    size_t i = slot_of(k, m->cap);
    while (m->vals[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
    if (!m->vals[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
}

void *bench_map_get(const bench_map *m, int64_t k)
{
    size_t i = slot_of(k, m->cap);
    while (m->vals[i]) {
        if (m->keys[i] == k) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

void bench_map_free(bench_map *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
}
