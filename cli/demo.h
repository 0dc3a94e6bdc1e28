/*
** demo.h - the seed scenarios behind `corm demo`.  A scenario is a name,
** the seed it comes from, and two functions over the same data: the naive
** variant (what the seeds warn about) and the fixed one.  Each function
** counts the rows it produced in *rows and returns 0, or 1 on failure
** (after printing the error).  The runner counts queries and time.
**
** To add a scenario: write its two functions in demo_scenarios.c and add a
** line to demo_scenarios[].  Names and fields are a contract with scripts:
** never rename or drop one.
*/
#ifndef CORM_DEMO_H
#define CORM_DEMO_H

#include <corm.h>
#include "bookstore.h"

typedef struct demo_ctx {
    corm_db *db;
    int64_t scale;
    int64_t rows;
    size_t peak_bytes; /* result memory held at once, when a scenario reports it */
} demo_ctx;

typedef struct demo_scenario {
    const char *name;
    const char *what;
    int (*naive)(demo_ctx *c);
    int (*fixed)(demo_ctx *c);
} demo_scenario;

/* What a long-running program did before the scenario's request, run once
** before its variants, neither counted nor timed: 0, or 1 on failure. */
int demo_prepare(const demo_scenario *s, demo_ctx *c);

extern const demo_scenario demo_scenarios[];
extern const int demo_nscenarios;

/* Fill an empty, migrated database with the deterministic bookstore. */
int demo_seed(corm_db *db, int64_t scale);

/* Report a failed queryset or db call; returns 1. */
int demo_fail_qs(corm_qs *qs);
int demo_fail_db(corm_db *db);

#endif
