/*
** cmd_demo.c - `corm demo`: build the bookstore, run every scenario naive
** and fixed, print a table (or JSON lines with --json, one object per
** scenario and variant: scenario, variant, queries, rows, ms, findings).
**
** Each variant runs in its own capture with the N+1 detector in the mode
** of --mode (log by default): the naive variants show their findings and
** the fix, the fixed ones none.  --mode auto shows what auto mode makes of
** the naive code; --mode strict shows which lazy load it refuses.
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

/* "file:line" of a site, or null. */
static json_t *json_site(corm_site site)
{
    if (!site.file) return json_null();
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%d", site.file, site.line);
    return json_string(buf);
}

static json_t *json_str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* The findings of a variant's capture, for --json. */
static json_t *json_findings(const corm_capture *cap)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < corm_capture_nfindings(cap); i++) {
        const corm_finding *f = corm_capture_finding(cap, i);
        json_t *o = json_object();
        if (!o) continue;
        json_object_set_new(o, "kind", json_string(corm_finding_kind_name(f->kind)));
        json_object_set_new(o, "model", json_str_or_null(f->model));
        json_object_set_new(o, "relation", json_str_or_null(f->relation));
        json_object_set_new(o, "count", json_integer((json_int_t)f->count));
        json_object_set_new(o, "site", json_site(f->site));
        json_object_set_new(o, "fix", json_str_or_null(f->fix));
        if (f->auto_loaded) json_object_set_new(o, "auto", json_true());
        if (f->blocked) json_object_set_new(o, "blocked", json_true());
        json_array_append_new(a, o);
    }
    return a;
}

static void print_findings(const corm_capture *cap)
{
    for (size_t i = 0; i < corm_capture_nfindings(cap); i++) {
        const corm_finding *f = corm_capture_finding(cap, i);
        printf("    %s%s%s: %s\n", corm_finding_kind_name(f->kind),
               f->auto_loaded ? " (auto-loaded)" : "", f->blocked ? " (refused)" : "",
               f->message ? f->message : "");
        if (f->fix) printf("      fix: %s\n", f->fix);
    }
}

/* Findings are read from each variant's capture, not printed by corm. */
static void quiet(void *ud, const corm_finding *f)
{
    (void)ud;
    (void)f;
}

static int print_json(const char *scenario, const char *variant, uint64_t queries, int64_t rows,
                      double ms, size_t peak_bytes, const corm_capture *cap)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:f}", "scenario", scenario, "variant", variant,
                          "queries", (json_int_t)queries, "rows", (json_int_t)rows, "ms", ms);
    if (o && peak_bytes)
        json_object_set_new(o, "peak_kb", json_integer((json_int_t)(peak_bytes / 1024)));
    if (o) json_object_set_new(o, "findings", json_findings(cap));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(o);
    return s ? 0 : 1;
}

static const cli_opt demo_opts[] = {
    {"--db", NULL, "URL", "the database to build the bookstore in (default: sqlite::memory:)"},
    {"--scale", NULL, "N", "books in the bookstore, N/10 authors, N/2 orders (default: 100)"},
    {"--only", NULL, "NAME", "run one scenario"},
    {"--json", NULL, NULL, "one JSON object per scenario and variant"},
    {"--mode", NULL, "MODE", "the N+1 detector: off, log, strict or auto (default: log)"},
    {0}};
static const char *const demo_examples[] = {"corm demo",
                                            "corm demo --only books_author --scale 1000",
                                            "corm demo --json --db sqlite:demo.db",
                                            "corm demo --mode auto",
                                            "corm demo index --rows 100000",
                                            NULL};
const cli_cmd cli_cmd_demo = {
    "demo",
    "[index] [--db URL] [--scale N] [--only NAME] [--json] [--mode MODE]",
    "run the seed scenarios, naive vs fixed",
    "Builds the bookstore of the seed articles with deterministic data and runs\n"
    "each scenario twice, naive (the N+1) and fixed, printing queries, rows and\n"
    "milliseconds, with the detector's finding and the fix under each naive one.\n"
    "`corm demo index [--db URL] [--rows N]` shows the index workflow instead: a\n"
    "filter's plan and time, db_index added, makemigrations and migrate, again.",
    demo_opts,
    demo_examples,
    0,
    0,
    cli_demo};

int cli_demo(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "index") == 0) return cli_demo_index(argc - 1, argv + 1);
    cli_args a;
    int code = cli_parse(&cli_cmd_demo, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    const char *url = cli_value(&a, "--db", "sqlite::memory:"),
               *only = cli_value(&a, "--only", NULL);
    int64_t scale = 100;
    bool json = cli_flag(&a, "--json");
    corm_nplusone mode = CORM_NPLUSONE_LOG;
    const char *sc = cli_value(&a, "--scale", NULL);
    if (sc) {
        char *end;
        scale = strtoll(sc, &end, 10);
        if (!*sc || *end || scale < 1)
            return cli_usage_error(&cli_cmd_demo, "--scale needs a positive number, got '%s'", sc);
    }
    const char *m = cli_value(&a, "--mode", NULL);
    if (m) {
        if (strcmp(m, "off") == 0) mode = CORM_NPLUSONE_OFF;
        else if (strcmp(m, "log") == 0) mode = CORM_NPLUSONE_LOG;
        else if (strcmp(m, "strict") == 0) mode = CORM_NPLUSONE_STRICT;
        else if (strcmp(m, "auto") == 0) mode = CORM_NPLUSONE_AUTO;
        else
            return cli_usage_error(&cli_cmd_demo, "--mode is off, log, strict or auto, not '%s'",
                                   m);
    }
    if (only) {
        bool found = false;
        for (int i = 0; i < demo_nscenarios; i++)
            found = found || strcmp(demo_scenarios[i].name, only) == 0;
        if (!found) {
            fprintf(stderr, "corm demo: no scenario '%s'; scenarios:", only);
            for (int i = 0; i < demo_nscenarios; i++)
                fprintf(stderr, " %s", demo_scenarios[i].name);
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
    code = 0;
    corm_instr_on_finding(corm_db_instr(db), quiet, NULL);
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
        printf("corm demo on %s, scale %lld, N+1 detector: %s\n\n", url, (long long)scale,
               corm_nplusone_name(mode));
        printf("%-28s %-13s %8s %8s %10s\n", "scenario", "variant", "queries", "rows", "ms");
    }
    for (int i = 0; i < demo_nscenarios && !code; i++) {
        const demo_scenario *s = &demo_scenarios[i];
        if (only && strcmp(only, s->name) != 0) continue;
        /* auto mode: the naive code twice, as a program runs it again and
        ** again; the second run uses what the first one taught auto mode */
        int runs = mode == CORM_NPLUSONE_AUTO ? 3 : 2;
        demo_ctx pc = {db, scale, 0, 0};
        code = demo_prepare(s, &pc);
        for (int r = 0; r < runs && !code; r++) {
            int v = r == runs - 1;
            bool again = r == 1 && runs == 3;
            demo_ctx c = {db, scale, 0, 0};
            const char *variant = v ? "fixed" : again ? "naive_learned" : "naive";
            char name[128];
            snprintf(name, sizeof name, "%s/%s", s->name, variant);
            corm_capture *cap = corm_capture_begin(db, name);
            corm_capture_set_mode(cap, mode);
            uint64_t q0 = corm_query_count(db);
            double t0 = now_ms();
            code = (v ? s->fixed : s->naive)(&c);
            double ms = now_ms() - t0;
            uint64_t queries = corm_query_count(db) - q0;
            corm_capture_end(cap);
            if (code && mode == CORM_NPLUSONE_STRICT && corm_capture_nfindings(cap)) {
                code = 0; /* strict mode refused the N+1: shown below */
                variant = v ? "fixed (refused)" : "naive (refused)";
            }
            if (code) {
                corm_capture_free(cap);
                break;
            }
            if (json)
                code = print_json(s->name,
                                  v       ? "fixed"
                                  : again ? "naive_learned"
                                          : "naive",
                                  queries, c.rows, ms, c.peak_bytes, cap);
            else if (c.peak_bytes)
                printf("%-28s %-13s %8llu %8lld %10.2f  peak %zu KiB\n", r ? "" : s->name, variant,
                       (unsigned long long)queries, (long long)c.rows, ms, c.peak_bytes / 1024);
            else
                printf("%-28s %-13s %8llu %8lld %10.2f\n", r ? "" : s->name, variant,
                       (unsigned long long)queries, (long long)c.rows, ms);
            if (!json) print_findings(cap);
            corm_capture_free(cap);
        }
    }
    corm_close(db);
    return code;
}
