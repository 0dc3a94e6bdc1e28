/*
** cmd_demo.c - `corm demo`: build the bookstore, run every scenario naive
** and fixed, print a table (or JSON lines with --json, one object per
** scenario and variant: scenario, variant, queries, rows, ms).
*/
#include "cli.h"
#include "demo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int demo_fail_qs(corm_qs *qs)
{
    cli_print_error(corm_qs_error(qs));
    return 1;
}

int demo_fail_db(corm_db *db)
{
    cli_print_error(corm_db_error(db));
    return 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int print_json(const char *scenario, const char *variant, uint64_t queries,
                      int64_t rows, double ms, size_t peak_bytes)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:f}", "scenario", scenario, "variant", variant,
                          "queries", (json_int_t)queries, "rows", (json_int_t)rows, "ms", ms);
    if (o && peak_bytes)
        json_object_set_new(o, "peak_kb", json_integer((json_int_t)(peak_bytes / 1024)));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(o);
    return s ? 0 : 1;
}

int cli_demo(int argc, char **argv)
{
    const char *url = "sqlite::memory:", *only = NULL;
    int64_t scale = 100;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) url = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
            char *end;
            scale = strtoll(argv[++i], &end, 10);
            if (*end || scale < 1) {
                fprintf(stderr, "corm demo: --scale needs a positive number, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--json") == 0) json = true;
        else {
            fprintf(stderr, "usage: corm demo [--db URL] [--scale N] [--only NAME] [--json]\n");
            return 2;
        }
    }
    if (only) {
        bool found = false;
        for (int i = 0; i < demo_nscenarios; i++) found = found || strcmp(demo_scenarios[i].name, only) == 0;
        if (!found) {
            fprintf(stderr, "corm demo: no scenario '%s'; scenarios:", only);
            for (int i = 0; i < demo_nscenarios; i++) fprintf(stderr, " %s", demo_scenarios[i].name);
            fputc('\n', stderr);
            return 2;
        }
    }
    corm_error err;
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) {
        cli_print_error(&err);
        return 1;
    }
    int code = 0;
    if (corm_migrate(db) != CORM_OK) code = demo_fail_db(db);
    if (!code) {
        /* seed only an empty database, so a kept file is reusable */
        corm_qs *books = corm_all(db, Book);
        int64_t have = corm_count(books);
        if (have < 0) code = demo_fail_qs(books);
        corm_qs_free(books);
        if (!code && have == 0) code = demo_seed(db, scale);
    }
    if (!code && !json) {
        printf("corm demo on %s, scale %lld\n\n", url, (long long)scale);
        printf("%-28s %-6s %8s %8s %10s\n", "scenario", "variant", "queries", "rows", "ms");
    }
    for (int i = 0; i < demo_nscenarios && !code; i++) {
        const demo_scenario *s = &demo_scenarios[i];
        if (only && strcmp(only, s->name) != 0) continue;
        for (int v = 0; v < 2 && !code; v++) {
            demo_ctx c = {db, scale, 0, 0};
            uint64_t q0 = corm_query_count(db);
            double t0 = now_ms();
            code = (v ? s->fixed : s->naive)(&c);
            double ms = now_ms() - t0;
            uint64_t queries = corm_query_count(db) - q0;
            const char *variant = v ? "fixed" : "naive";
            if (code) break;
            if (json) code = print_json(s->name, variant, queries, c.rows, ms, c.peak_bytes);
            else if (c.peak_bytes)
                printf("%-28s %-6s %8llu %8lld %10.2f  peak %zu KiB\n", v ? "" : s->name, variant,
                       (unsigned long long)queries, (long long)c.rows, ms, c.peak_bytes / 1024);
            else printf("%-28s %-6s %8llu %8lld %10.2f\n", v ? "" : s->name, variant,
                        (unsigned long long)queries, (long long)c.rows, ms);
        }
    }
    corm_close(db);
    return code;
}
