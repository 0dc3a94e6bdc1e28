/*
** fuzz_queryset.c - random queryset operation sequences, evaluated on
** SQLite and, when CORM_TEST_DB names a PostgreSQL server, on PostgreSQL
** too, over the test fixture (tests/support).  The input is decoded into
** filter / exclude / Q / order_by / select_related / prefetch_related /
** annotate / values / slice / distinct calls on a model of the test
** schema, with values of the field's type (printable ASCII text, valid
** dates: what both databases read the same way), then an evaluation
** (objects or rows, count, exists).  Invariants:
**   - no crash, no sanitizer report;
**   - an error has a message;
**   - both databases give the same outcome: the same error code, or the
**     same number of results and, for objects of an unsliced queryset, the
**     same ids.
*/
#include "test.h" /* first: its CORM_ASSERT_FAIL is cmocka's */
#include "fuzz.h"

#include <string.h>

const char fuzz_name[] = "queryset";

static corm_db *lite, *pg;

static void close_dbs(void)
{
    corm_close(lite);
    test_db_close(pg); /* removes the SQLite file and the PostgreSQL schema */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char url[1024];
    const char *env = getenv("CORM_TEST_DB");
    if (test_db_is_pg()) {
        snprintf(url, sizeof url, "%s", env);
        pg = test_db_open();
        unsetenv("CORM_TEST_DB");
    }
    lite = test_db_open();
    if (pg) setenv("CORM_TEST_DB", url, 1);
    /* a refused N+1 is not what is fuzzed here */
    corm_instr_on_fail(corm_db_instr(lite), NULL, NULL);
    if (pg) corm_instr_on_fail(corm_db_instr(pg), NULL, NULL);
    atexit(close_dbs);
    return 0;
}

typedef struct outcome {
    corm_rc rc;
    char message[512];
    int64_t n;
    int64_t ids[64];
    int nids;
} outcome;

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void run(const uint8_t *data, size_t size, corm_db *db, outcome *o, bool *sliced)
{
    static qsgen d;
    memset(&d, 0, sizeof d);
    memset(o, 0, sizeof *o);
    d.in = (fz){data, size};
    corm_qs *qs = qsgen_build(&d, db);
    int how = d.how;
    *sliced = d.sliced;
    if (how == 1) o->n = corm_count(qs);
    else if (how == 2) o->n = corm_exists(qs);
    else if (corm_eval(qs) == CORM_OK) {
        o->n = (int64_t)corm_qs_len(qs);
        if (!corm_qs_ncols(qs)) {
            /* objects: their ids */
            const corm_model *m = NULL;
            for (size_t i = 0; i < corm_qs_len(qs) && o->nids < 64; i++) {
                const corm_obj *obj = corm_qs_at(qs, i);
                FUZZ_CHECK(obj, "object %zu of %zu is NULL", i, corm_qs_len(qs));
                m = obj->model;
                o->ids[o->nids++] = *(const int64_t *)((const char *)obj + m->fields[0].offset);
            }
            qsort(o->ids, (size_t)o->nids, sizeof o->ids[0], by_value);
        }
    }
    const corm_error *e = corm_qs_error(qs);
    o->rc = e->rc;
    if (e->rc != CORM_OK) {
        FUZZ_CHECK(e->message[0], "error %s without a message", corm_rc_name(e->rc));
        /* the database refusing corm's SQL is corm's bug */
        FUZZ_CHECK(e->rc != CORM_DB, "%s refused the SQL of a valid queryset: %s\nsql: %s",
                   corm_db_vendor(db), e->message, e->sql);
        snprintf(o->message, sizeof o->message, "%s", e->message);
    }
    corm_qs_free(qs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512) return 0;
    outcome a, b;
    bool sliced;
    run(data, size, lite, &a, &sliced);
    if (!pg) return 0;
    run(data, size, pg, &b, &sliced);
    FUZZ_CHECK(a.rc == b.rc, "SQLite: %s (%s), PostgreSQL: %s (%s)", corm_rc_name(a.rc), a.message,
               corm_rc_name(b.rc), b.message);
    FUZZ_CHECK(a.n == b.n, "SQLite: %lld results, PostgreSQL: %lld", (long long)a.n,
               (long long)b.n);
    if (!sliced) {
        FUZZ_CHECK(a.nids == b.nids, "different objects");
        for (int i = 0; i < a.nids; i++)
            FUZZ_CHECK(a.ids[i] == b.ids[i], "SQLite and PostgreSQL return different objects");
    }
    return 0;
}
