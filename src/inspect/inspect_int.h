/*
** inspect_int.h - request scopes, the recorder, the panel, /metrics
** (include/corm/inspect.h).  Depends on core and instr (events, captures,
** findings as the public API gives them); the connections it collects from
** are the application's, reached only through the public corm_db/pool API.
**
**   request.c   corm_inspect, corm_request: captures on the attached
**               connections, copies of their statements and findings,
**               budgets, route statistics, metrics, warnings, toolbar
**   recorder.c  the bounded queue and the one writer thread that keeps
**               sampled requests in a SQLite file of their own
**   panel.c     the HTTP handler: pages, EXPLAIN, /metrics, access control
**   html.c      escaping and SQL formatting for the pages
**
** Invariants: a corm__rec is immutable once queued (the writer owns it);
** everything shared between server threads is under ins->mu; the writer
** takes only the queue's lock; the request path never waits for the disk.
*/
#ifndef CORM_INSPECT_INT_H
#define CORM_INSPECT_INT_H

#include "../core/core_int.h"
#include "../instr/instr_int.h"

#include <pthread.h>

/* One statement of a request, as recorded.  Strings live in the rec's arena. */
typedef struct corm__qrec {
    const char *sql;
    const char *params; /* display text ("1, 'x'"), "" when none */
    const char *binds;  /* for EXPLAIN: the values, encoded (recorder.c) */
    bool redacted;
    double ms;
    int64_t rows;
    int kind; /* corm_origin_kind */
    const char *origin, *site, *built;
    uint64_t fp;
    uint64_t dupkey; /* fingerprint and values: equal for duplicates */
    int rc;
} corm__qrec;

typedef struct corm__frec {
    corm_finding f; /* strings in the rec's arena */
    const char *site, *built;
} corm__frec;

/* A request, as the recorder writes it. */
typedef struct corm__rec {
    uint64_t id;
    double started; /* unix time, seconds */
    const char *method, *route, *path;
    int status;
    double ms, db_ms;
    uint64_t nqueries, ndups, nsimilar, nplusone, worst_n1;
    corm__qrec *q;
    size_t nq, capq;
    corm__frec *f;
    size_t nf, capf;
    corm_arena arena;
    struct corm__rec *next;
} corm__rec;

void corm__rec_free(corm__rec *r);

/* ---- recorder.c */
typedef struct corm__recorder corm__recorder;
corm__recorder *corm__recorder_open(const char *path, int keep, int queue_size, corm_error *err);
/* Queue r (the writer frees it, maybe before this returns): returns its
** id, or 0 when the queue is full (r is the caller's to free; the drop is
** counted). */
uint64_t corm__recorder_push(corm__recorder *rc, corm__rec *r);
/* Wait until every request queued before the call is written (or failed);
** later ones are not waited for. */
void corm__recorder_flush(corm__recorder *rc);
void corm__recorder_close(corm__recorder *rc);
void corm__recorder_counts(corm__recorder *rc, uint64_t *recorded, uint64_t *dropped,
                           uint64_t *failed);
/* Binds: decode the EXPLAIN values of a recorded statement into vals (at
** most max; text points into enc, which is modified).  -1 when malformed. */
int corm__binds_decode(char *enc, corm_value *vals, int max);
void corm__binds_encode(corm_buf *b, const corm_value *vals, int n, bool redacted);

/* ---- html.c */
void corm__html(corm_buf *b, const char *s);       /* escaped text */
void corm__html_sql(corm_buf *b, const char *sql); /* escaped, one clause a line */
void corm__url_decode(char *s);
/* The value of key in a query string, decoded, into out; false if absent. */
bool corm__query_get(const char *query, const char *key, char *out, size_t size);
void corm__url_encode(corm_buf *b, const char *s);

/* ---- request.c: what the panel reads of the inspection state */
#define CORM__NHMS 10
#define CORM__NHQ 8
typedef struct corm__route {
    char *route;
    uint64_t requests, queries, findings, nplusone, errors, worst_n1;
    double ms, db_ms;
    uint64_t hms[CORM__NHMS + 1]; /* le buckets, then +Inf */
    uint64_t hq[CORM__NHQ + 1];
} corm__route;

typedef struct corm__fpm {
    uint64_t fp;
    char *sql;
    uint64_t calls, rows;
    double ms;
} corm__fpm;

typedef struct corm__budget {
    char *route;
    uint64_t max_q;
    double max_ms;
    corm_budget_action action;
} corm__budget;

typedef struct corm__sens {
    char *table, *column; /* quoted: "\"users\"", "\"email\"" */
} corm__sens;

struct corm_inspect {
    corm_inspect_config cfg; /* strings below are copies */
    char *record_path, *prefix, *token;
    char **sensitive;
    size_t nsensitive;
    corm__recorder *rec;
    pthread_mutex_t mu; /* everything below */
    corm_pool *explain_pool;
    uint64_t nreq, nsampled, nwarn, nover, nwarn_seen;
    corm__route *routes;
    size_t nroutes, caproutes;
    corm__fpm *fps;
    size_t nfps, capfps;
    corm__budget *budgets;
    size_t nbudgets;
    const corm_schema *sens_schema;
    corm__sens *sens;
    size_t nsens;
};

extern const double corm__hms_le[CORM__NHMS];
extern const double corm__hq_le[CORM__NHQ];

/* ---- panel.c */
bool corm__is_loopback(const char *addr);

#endif
