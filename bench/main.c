/*
** main.c - corm-bench: seed the file, or time one scenario of one variant
** and print one JSON line.  bench/run.py runs it once per scenario, variant
** and round, in a child process each, so the child's ru_maxrss (read by the
** runner with wait4) is that scenario's peak memory.
**
**   corm-bench seed --db FILE --scale N
**   corm-bench run --db FILE --scale N --variant corm|raw --scenario NAME
**                  [--warmup W] [--reps R]
**   corm-bench sql --db FILE --scale N
**   corm-bench list
**   corm-bench pg-url --db URL --dbname NAME
**   corm-bench pg-exec --db URL --sql SQL [--sql SQL ...]
**
** --db FILE is a SQLite file, or a postgresql:// url (bench.h): then raw C
** is bench/raw_pg.c and the seeder bench/seed_pg.c.
**
** A write scenario runs once, with no warm-up, on the file the runner has
** just copied from the seeded one; its check is read afterwards (untimed)
** with the scenario's post_sql.
*/
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Under callgrind (run.py --callgrind, valgrind --collect-atstart=no),
** instructions are collected around the timed runs only. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_COLLECT() CALLGRIND_TOGGLE_COLLECT
#endif
#endif
#ifndef BENCH_COLLECT
#define BENCH_COLLECT() ((void)0)
#endif

static void usage(void)
{
    fputs("usage: corm-bench seed|run|sql|list --db FILE|URL --scale N [--variant corm|raw]\n"
          "                  [--scenario NAME] [--warmup W] [--reps R]\n"
          "       corm-bench pg-url --db URL --dbname NAME\n"
          "       corm-bench pg-exec --db URL --sql SQL [--sql SQL ...]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    const char *cmd = argv[1], *db = NULL, *variant = "corm", *scenario = NULL, *dbname = NULL;
    const char *sql[64];
    int nsql = 0;
    int64_t scale = 10000;
    int warmup = 1, reps = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (strcmp(a, "--db") == 0) db = v;
        else if (strcmp(a, "--scale") == 0) scale = atoll(v);
        else if (strcmp(a, "--variant") == 0) variant = v;
        else if (strcmp(a, "--scenario") == 0) scenario = v;
        else if (strcmp(a, "--warmup") == 0) warmup = atoi(v);
        else if (strcmp(a, "--reps") == 0) reps = atoi(v);
        else if (strcmp(a, "--dbname") == 0) dbname = v;
        else if (strcmp(a, "--sql") == 0 && nsql < 64) sql[nsql++] = v;
        else usage();
        i++;
    }
    if (strcmp(cmd, "list") == 0) {
        for (int i = 0; i < bench_nscenarios; i++)
            printf("%s %s\n", bench_scenarios[i].name, bench_scenarios[i].write ? "write" : "read");
        return 0;
    }
    if (strcmp(cmd, "pg-url") == 0) {
        if (!db || !dbname || !bench_is_pg(db)) usage();
        char url[4096];
        bench_pg_url(db, dbname, url, sizeof url);
        puts(url);
        return 0;
    }
    if (strcmp(cmd, "pg-exec") == 0) {
        if (!db || !nsql || !bench_is_pg(db)) usage();
        return bench_pg_exec(db, sql, nsql);
    }
    if (!db || scale < 10) usage();
    bool pg = bench_is_pg(db);
    bench_params p;
    bench_params_init(&p, scale);

    if (strcmp(cmd, "seed") == 0) return pg ? bench_seed_pg(db, &p) : bench_seed(db, &p);
    if (strcmp(cmd, "sql") == 0) {
        void *h = bench_corm_open(db);
        bench_corm_sql(h, &p);
        bench_corm_close(h);
        return 0;
    }
    if (strcmp(cmd, "run") != 0 || !scenario) usage();

    const bench_scenario *sc = bench_scenario_find(scenario);
    if (!sc) bench_die("unknown scenario '%s' (corm-bench list)", scenario);
    bool is_corm = strcmp(variant, "corm") == 0;
    if (!is_corm && strcmp(variant, "raw") != 0) bench_die("unknown variant '%s'", variant);
    const bench_impl *impl = is_corm ? bench_corm_impl(scenario)
                             : pg    ? bench_rawpg_impl(scenario)
                                     : bench_raw_impl(scenario);
    if (!impl || !impl->run) {
        printf("{\"scenario\":\"%s\",\"variant\":\"%s\",\"na\":true}\n", scenario, variant);
        return 0;
    }
    if (sc->write) {
        warmup = 0;
        reps = 1;
    }
    void *h = is_corm ? bench_corm_open(db) : pg ? bench_rawpg_open(db) : bench_raw_open(db);
    long base_kb = bench_maxrss_kb();
    double *ms = bench_xmalloc((size_t)(reps > 0 ? reps : 1) * sizeof *ms);
    double *cpu = bench_xmalloc((size_t)(reps > 0 ? reps : 1) * sizeof *cpu);
    bench_ctx c = {.p = &p, .handle = h};
    for (int r = -warmup; r < reps; r++) {
        c.state = NULL;
        c.check = c.queries = 0;
        if (impl->prepare) impl->prepare(&c);
        int64_t q0 = is_corm ? bench_corm_queries(h) : 0;
        double c0 = bench_cpu_ms(), t0 = bench_now_ms();
        if (r >= 0) BENCH_COLLECT();
        impl->run(&c);
        if (r >= 0) BENCH_COLLECT();
        double t1 = bench_now_ms(), c1 = bench_cpu_ms();
        if (is_corm) c.queries = bench_corm_queries(h) - q0;
        if (impl->release) impl->release(&c);
        if (r >= 0) {
            ms[r] = t1 - t0;
            cpu[r] = c1 - c0;
        }
    }
    const char *post = pg ? sc->post_sql_pg : sc->post_sql;
    if (post)
        c.check = is_corm ? bench_corm_scalar(h, post)
                  : pg    ? bench_rawpg_scalar(h, post)
                          : bench_raw_scalar(h, post);
    printf("{\"scenario\":\"%s\",\"variant\":\"%s\",\"ms\":[", scenario, variant);
    for (int r = 0; r < reps; r++) printf("%s%.3f", r ? "," : "", ms[r]);
    printf("],\"cpu_ms\":[");
    for (int r = 0; r < reps; r++) printf("%s%.3f", r ? "," : "", cpu[r]);
    printf("],\"check\":%lld,\"queries\":%lld,\"base_kb\":%ld,\"peak_kb\":%ld}\n",
           (long long)c.check, (long long)c.queries, base_kb, bench_maxrss_kb());
    free(ms);
    free(cpu);
    if (is_corm) bench_corm_close(h);
    else if (pg) bench_rawpg_close(h);
    else bench_raw_close(h);
    return 0;
}
