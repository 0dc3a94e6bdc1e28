/*
** demo_index.c - `corm demo index [--db URL] [--rows N]`: the seeds' index
** workflow end to end on a populated table (docs/migrations.md): time and
** plan of a filter on an unindexed column, the schema line to add,
** makemigrations and migrate on the populated database, then the new plan
** and time.  The database must be empty (default: a private in-memory
** SQLite).
*/
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FILTER "SELECT count(*) FROM book WHERE pages = 1234"

static const char *const schemas[] = {
    "model Book {\n    title: char(200)\n    pages: integer\n}\n",
    "model Book {\n    title: char(200)\n    pages: integer db_index\n}\n",
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Print the plan of FILTER; 0, or 1 after printing the error. */
static int plan(corm_db *db, bool pg)
{
    corm_qs *qs = corm_sql(db, pg ? "EXPLAIN " FILTER : "EXPLAIN QUERY PLAN " FILTER, NULL, 0);
    if (!qs || corm_eval(qs) != CORM_OK) {
        cli_print_error(qs ? corm_qs_error(qs) : corm_db_error(db));
        corm_qs_free(qs);
        return 1;
    }
    size_t ncols = corm_qs_ncols(qs);
    for (size_t r = 0; r < corm_qs_len(qs); r++) {
        const corm_value *v = corm_qs_cell(qs, r, ncols - 1);
        if (v && v->type == CORM_V_TEXT) printf("   plan: %s\n", v->u.s.p);
    }
    corm_qs_free(qs);
    return 0;
}

/* The mean time of FILTER over n runs, in ms (< 0 after an error). */
static double timed(corm_db *db, int n)
{
    double t0 = now_ms();
    for (int i = 0; i < n; i++)
        if (corm_exec(db, FILTER) != CORM_OK) {
            cli_print_error(corm_db_error(db));
            return -1;
        }
    return (now_ms() - t0) / n;
}

/* makemigrations for schemas[v] on top of the chain (names/texts grow). */
static int make(int v, char **names, char **texts, int *n)
{
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts((const char *const *)names,
                                                     (const char *const *)texts, *n, &err);
    corm_schema *s =
        ms ? corm_schema_parse(schemas[v], strlen(schemas[v]), "shop.corm", &err) : NULL;
    char *fn = NULL, *text = NULL;
    int rc = 1;
    if (s && corm_makemigrations(ms, s, NULL, 0, NULL, &fn, &text, &err) == CORM_OK && fn) {
        *strstr(fn, ".corm-migration") = '\0';
        names[*n] = fn;
        texts[(*n)++] = text;
        rc = 0;
    } else {
        cli_print_error(&err);
    }
    corm_schema_free(s);
    corm_migrations_free(ms);
    return rc;
}

static int migrate(corm_db *db, char **names, char **texts, int n)
{
    corm_error err;
    corm_migrations *ms =
        corm_migrations_from_texts((const char *const *)names, (const char *const *)texts, n, &err);
    if (!ms) {
        cli_print_error(&err);
        return 1;
    }
    int rc = corm_migrate_to(db, ms, NULL, 0) == CORM_OK ? 0 : 1;
    if (rc) cli_print_error(corm_db_error(db));
    corm_migrations_free(ms);
    return rc;
}

int cli_demo_index(int argc, char **argv)
{
    const char *url = "sqlite::memory:";
    long rows = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) url = argv[++i];
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            char *end;
            rows = strtol(argv[++i], &end, 10);
            if (*end || rows < 1 || rows > 10000000) {
                fprintf(stderr,
                        "corm demo index: --rows needs a number from 1 to 10000000, "
                        "got '%s'\n",
                        argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: corm demo index [--db URL of an empty database] [--rows N]\n");
            return 2;
        }
    }
    corm_error err;
    corm_db *db = corm_open(url, NULL, &err);
    if (!db) {
        cli_print_error(&err);
        return 1;
    }
    bool pg = strcmp(corm_db_vendor(db), "sqlite") != 0;
    char *names[2] = {0}, *texts[2] = {0};
    int n = 0, code = 1;
    printf("corm demo index: the index workflow on %s\n\n", url);
    printf("1. the schema, migrated (0001_initial):\n%s", schemas[0]);
    if (make(0, names, texts, &n) || migrate(db, names, texts, n)) goto done;
    char fill[300];
    snprintf(fill, sizeof fill,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld) "
             "INSERT INTO book (title, pages) SELECT 'Book ' || i, i %% 5000 FROM n",
             rows);
    if (corm_exec(db, fill) != CORM_OK) {
        cli_print_error(corm_db_error(db));
        goto done;
    }
    if (pg && corm_exec(db, "ANALYZE book") != CORM_OK) {
        cli_print_error(corm_db_error(db));
        goto done;
    }
    printf("   %ld books\n\n2. a filter on an unindexed column:\n   %s\n", rows, FILTER);
    if (plan(db, pg)) goto done;
    double before = timed(db, 20);
    if (before < 0) goto done;
    printf("   time: %.3f ms (mean of 20)\n\n", before);
    printf("3. add db_index to the schema:\n       pages: integer db_index\n"
           "   corm makemigrations shop.corm --dir migrations\n");
    if (make(1, names, texts, &n)) goto done;
    printf("   wrote migrations/%s.corm-migration:\n", names[1]);
    for (const char *p = texts[1]; *p;) {
        const char *e = strchr(p, '\n');
        int len = e ? (int)(e - p) : (int)strlen(p);
        if (len) printf("       %.*s\n", len, p);
        p += len + (e ? 1 : 0);
    }
    printf("   corm migrate shop.corm --db %s --dir migrations   (on the %ld rows)\n", url, rows);
    double t0 = now_ms();
    if (migrate(db, names, texts, n)) goto done;
    printf("   applied %s in %.1f ms\n\n4. the same filter now:\n", names[1], now_ms() - t0);
    if (pg && corm_exec(db, "ANALYZE book") != CORM_OK) {
        cli_print_error(corm_db_error(db));
        goto done;
    }
    if (plan(db, pg)) goto done;
    double after = timed(db, 20);
    if (after < 0) goto done;
    printf("   time: %.3f ms (mean of 20), %.0fx faster\n", after,
           after > 0 ? before / after : 0.0);
    code = 0;
done:
    for (int i = 0; i < n; i++) {
        corm_free_string(names[i]);
        corm_free_string(texts[i]);
    }
    corm_close(db);
    return code;
}
