/*
** search.c - corm-bench-search: `icontains` and `search` on 100,000 titles
** (docs/benchmarks.md, "Text search"), through the public API and the
** generated model of tests/migrations/text (Article: title, body; its
** migrations 0001 without indexes, 0002 with `index (title) using trigram`
** and `index (body) using search`).
**
**   corm-bench-search --db URL [--rows N] [--reps R]
**
** On the empty database URL (sqlite:FILE or :memory:; on PostgreSQL a
** schema corm_bench_search is made afresh): migrate to 0001, insert N
** articles ("Zephyr" in one title of 1,000, "quixotic" in one body of
** 500), ANALYZE, time the queries, migrate to 0002 (timed: it builds the
** indexes over the rows), ANALYZE, time them again.  A time is the mean of
** R runs of corm_count after one warm-up run; each count is checked.
*/
#include "library/library.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const corm_error *e)
{
    char buf[2048];
    fprintf(stderr, "corm-bench-search: %s: %s\n", what, corm_error_format(e, buf, sizeof buf));
    exit(1);
}

static void exec_ok(corm_db *db, const char *sql)
{
    if (corm_exec(db, sql) != CORM_OK) die(sql, corm_db_error(db));
}

/* The plan's nodes, "Bitmap Heap Scan on article t0 / Bitmap Index Scan
** on article_title_trgm": no costs, conditions or filters. */
static const char *plan_nodes(const char *plan)
{
    static char out[512];
    size_t n = 0;
    out[0] = '\0';
    for (const char *l = plan ? plan : ""; *l;) {
        const char *end = strchr(l, '\n');
        if (!end) end = l + strlen(l);
        while (l < end && (*l == ' ' || *l == '-' || *l == '>')) l++;
        const char *cut = strstr(l, "  (cost");
        if (!cut || cut > end) cut = end;
        bool skip = strncmp(l, "Filter", 6) == 0 || strncmp(l, "Recheck", 7) == 0 ||
                    strncmp(l, "Index Cond", 10) == 0 || l == cut;
        if (!skip && n < sizeof out)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%.*s", n ? " / " : "", (int)(cut - l),
                                  l);
        l = *end ? end + 1 : end;
    }
    return out;
}

/* Mean ms of corm_count(filter(lookup=value)) over reps, after a warm-up;
** the count must be want. */
static double timed_count(corm_db *db, const char *lookup, const char *value, int64_t want,
                          int reps, const char **plan)
{
    double total = 0;
    for (int r = -1; r < reps; r++) {
        corm_qs *qs = corm_all(db, Article);
        corm_filter(qs, lookup, corm_text(value));
        double t0 = now_ms();
        int64_t n = corm_count(qs);
        double t = now_ms() - t0;
        if (n < 0) die(lookup, corm_qs_error(qs));
        if (n != want) {
            fprintf(stderr, "corm-bench-search: %s %s: %lld rows, expected %lld\n", lookup, value,
                    (long long)n, (long long)want);
            exit(1);
        }
        if (r >= 0) total += t;
        if (r == -1 && plan) { *plan = plan_nodes(corm_explain(qs)); }
        corm_qs_free(qs);
    }
    return total / reps;
}

static void row(const char *what, const char *lookup, double ms, const char *plan)
{
    printf("| %-34s | `%s` | %10.3f | %s |\n", what, lookup, ms, plan);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long rows = 100000;
    int reps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0) url = argv[i + 1];
        else if (strcmp(argv[i], "--rows") == 0) rows = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    }
    if (!url || rows < 1000 || rows % 1000 != 0 || reps < 1) {
        fputs("usage: corm-bench-search --db URL [--rows N (a multiple of 1000)] [--reps R]\n",
              stderr);
        return 2;
    }
    corm_error err;
    bool pg = strncmp(url, "postgres", 8) == 0;
    char pg_url[2048];
    if (pg) { /* a fresh schema, public after it (where pg_trgm may live) */
        corm_db *s = corm_open(url, NULL, &err);
        if (!s) die("open", &err);
        exec_ok(s, "DROP SCHEMA IF EXISTS corm_bench_search CASCADE");
        exec_ok(s, "CREATE SCHEMA corm_bench_search");
        corm_close(s);
        snprintf(pg_url, sizeof pg_url, "%s%coptions=-csearch_path%%3Dcorm_bench_search%%2Cpublic",
                 url, strchr(url, '?') ? '&' : '?');
        url = pg_url;
    }
    corm_migrations *ms = corm_migrations_load("tests/migrations/text/migrations", &err);
    if (!ms) die("migrations (run from the repository root)", &err);
    corm_db *db = corm_open(url, &library_schema, &err);
    if (!db) die("open", &err);
    if (corm_migrate_to(db, ms, "0001_initial", 0) != CORM_OK) die("migrate", corm_db_error(db));
    char sql[1024];
    snprintf(sql, sizeof sql,
             pg ? "INSERT INTO article (title, body) SELECT 'Volume ' || i || CASE WHEN i %% 1000 "
                  "= 7 THEN ' Zephyr' ELSE '' END, 'chapter ' || i || ' of the ' || CASE WHEN i "
                  "%% 500 = 3 THEN 'quixotic' ELSE 'ordinary' END || ' story' FROM "
                  "generate_series(1, %ld) i"
                : "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld) "
                  "INSERT INTO article (title, body) SELECT 'Volume ' || i || CASE WHEN i %% 1000 "
                  "= 7 THEN ' Zephyr' ELSE '' END, 'chapter ' || i || ' of the ' || CASE WHEN i "
                  "%% 500 = 3 THEN 'quixotic' ELSE 'ordinary' END || ' story' FROM n",
             rows);
    exec_ok(db, sql);
    exec_ok(db, "ANALYZE");
    int64_t zephyr = rows / 1000, quixotic = rows / 500;
    const char *plan = NULL;
    printf("corm-bench-search on %s: %ld articles, mean of %d runs (ms)\n\n",
           pg ? "PostgreSQL" : "SQLite", rows, reps);
    printf("| query | lookup | ms | plan |\n|---|---|---:|---|\n");
    double a = timed_count(db, "title__icontains", "zephyr", zephyr, reps, &plan);
    row("no index (0001)", "title__icontains=\"zephyr\"", a, plan);
    double b = timed_count(db, "body__icontains", "quixotic", quixotic, reps, &plan);
    row("no index (0001)", "body__icontains=\"quixotic\"", b, plan);
    double t0 = now_ms();
    if (corm_migrate_to(db, ms, NULL, 0) != CORM_OK) die("migrate", corm_db_error(db));
    double mig = now_ms() - t0;
    exec_ok(db, "ANALYZE");
    double c = timed_count(db, "title__icontains", "zephyr", zephyr, reps, &plan);
    row(pg ? "trigram index (0002)" : "0002 (a trigram index is PostgreSQL's)",
        "title__icontains=\"zephyr\"", c, plan);
    double d = timed_count(db, "body__search", "quixotic", quixotic, reps, &plan);
    row("search index (0002)", "body__search=\"quixotic\"", d, plan);
    printf("\nmigrate 0002 (builds the indexes over the rows): %.1f ms\n", mig);
    printf("icontains: %.1fx faster with 0002; search vs icontains on body: %.1fx faster\n", a / c,
           b / d);
    corm_close(db);
    corm_migrations_free(ms);
    return 0;
}
