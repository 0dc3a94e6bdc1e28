/*
** corm/instr.h - the instrumentation family: the event of every statement,
** the query log, captures, the N+1 detector and its modes, budgets,
** metrics, the failure hook and the query-count assertions
** (docs/nplusone.md).  Included by <corm.h>; include that.
*/
#ifndef CORM_INSTR_H
#define CORM_INSTR_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- query events */

/* What made a statement run (corm_event.kind), as an enum: the part of the
** origin string before ':'.  Append only. */
#define CORM_ORIGIN_MAP(XX)                                                   \
    XX(OTHER, "other")           /* not classified */                         \
    XX(QUERYSET, "queryset")     /* a queryset evaluated (foreach/get/...) */ \
    XX(LOOKUP, "lookup")         /* a queryset filtered on its pk only */     \
    XX(FK, "fk")                 /* lazy forward fk / one-to-one */           \
    XX(SET, "set")               /* lazy reverse fk / m2m set */              \
    XX(SET_FILTER, "set_filter") /* a related queryset evaluated */           \
    XX(SET_COUNT, "set_count")   /* count() of a related queryset */          \
    XX(SET_EXISTS, "set_exists") /* exists() of a related queryset */         \
    XX(DEFERRED, "deferred")     /* a field only()/defer() left out */        \
    XX(PREFETCH, "prefetch")     /* one prefetch_related level */             \
    XX(COUNT, "count")                                                        \
    XX(EXISTS, "exists")                                                      \
    XX(VALUES, "values")                                                      \
    XX(AGGREGATE, "aggregate")                                                \
    XX(ITERATOR, "iterator")                                                  \
    XX(RAW, "raw")                                                            \
    XX(EXPLAIN, "explain")                                                    \
    XX(INSERT, "insert")                                                      \
    XX(UPDATE, "update")                                                      \
    XX(DELETE, "delete")                                                      \
    XX(EXEC, "exec")                                                          \
    XX(TRANSACTION, "transaction")                                            \
    XX(MIGRATE, "migrate")                                                    \
    XX(SNAPSHOT, "snapshot")

typedef enum corm_origin_kind {
#define CORM__ORIGIN_ENUM(name, str) CORM_ORIGIN_##name,
    CORM_ORIGIN_MAP(CORM__ORIGIN_ENUM)
#undef CORM__ORIGIN_ENUM
} corm_origin_kind;

/* "fk", "set_filter", ...; never NULL. */
CORM_API const char *corm_origin_kind_name(corm_origin_kind kind);

/* One statement the library ran.  Borrowed: valid during the callback. */
typedef struct corm_event {
    const char *sql;
    const char *vendor;
    int nparams;
    int64_t rows; /* rows returned (SELECT) or changed */
    double ms;    /* wall time of execute + fetch */
    corm_rc rc;
    corm_site site;     /* the application code that caused it */
    corm_site built;    /* where its queryset was made, or {0} */
    const char *origin; /* "queryset", "fk:Book.author", "set:Author.book_set",
                           "prefetch:Author.books", "count", "exists",
                           "insert", "update", "delete", "exec", "migrate",
                           "transaction", "snapshot" */
    bool internal;      /* a statement corm added on its own (the BEGIN and
                           COMMIT that give one evaluation a consistent
                           snapshot); not counted by corm_query_count */
    /* Filled by the instrumentation (docs/nplusone.md).  Strings are
    ** borrowed like the rest of the event. */
    corm_origin_kind kind;    /* origin as an enum */
    const char *model;        /* the model read or written ("Book"), or NULL;
                               for lazy loads the parent's model */
    const char *relation;     /* lazy loads and prefetch levels: the relation
                               ("author", "books") or deferred field */
    const corm_value *params; /* the bound values (nparams of them) */
    uint64_t fingerprint;     /* the SQL with literals and IN lists folded
                               (corm_sql_fingerprint), hashed */
    uint64_t seq;             /* 1, 2, ... per db, internal ones included */
    const char *scope;        /* name of the innermost open capture, or NULL */
    /* Lazy loads: the result the parent object came from (0 when not
    ** known) and its size.  An object loaded lazily one at a time from a
    ** multi-row result counts as part of that result. */
    uint64_t parent_batch;
    size_t parent_nobjs;
    /* Lazy loads: how the parent was reached from the queryset built at
    ** `built`: "" for its own rows, "author" for its (joined or lazily
    ** loaded) author; path_many when that crosses a to-many relation. */
    const char *path;
    bool path_many;
    bool auto_load; /* a batch load made by CORM_NPLUSONE_AUTO */
    /* The statements the database ran for this event: 1, or for an
    ** executemany (a bulk write run row by row: bulk_create and
    ** bulk_update on SQLite, m2m links) the number of rows it ran, while
    ** the event still counts as one query (Django's executemany). */
    uint64_t statements;
    /* Served from the cache (a cached queryset, docs/cache.md): no
    ** statement ran.  Logged and kept by captures, but not counted by
    ** corm_query_count, capture counts or query metrics. */
    bool cache_hit;
} corm_event;

typedef void (*corm_event_fn)(void *ud, const corm_event *ev);

/* Subscribe fn to every statement db runs (one subscriber per slot; up to
** 8).  Returns a handle for corm_off_query, or -1 when full. */
CORM_API int corm_on_query(corm_db *db, corm_event_fn fn, void *ud);
CORM_API void corm_off_query(corm_db *db, int handle);
/* Statements run on db since it was opened, except internal ones. */
CORM_API uint64_t corm_query_count(const corm_db *db);

/* ---------------------------------------------------------- instrumentation */

/*
** corm_db_instr(db) - the instrumentation of db: what corm does with the
** event of every statement it runs (docs/nplusone.md):
**   - a query log: human-readable on stderr (Django's django.db.backends
**     logger) and/or JSON lines in a file, with a slow-query threshold
**     (corm_instr_log, or the environment: CORM_LOG, CORM_SLOW_MS);
**   - captures: nestable scopes (a request, a test) with the count, the
**     events and the findings of what ran inside, budgets, and
**     CORM_ASSERT_NUM_QUERIES for tests;
**   - the N+1 detector, which names the relation, the count, the call site
**     and the exact fix, in one of four modes (corm_nplusone);
**   - metrics per SQL fingerprint in the Prometheus text format.
** Owned by db (never NULL for an open db); valid until corm_close.
** Threads: as db.  Since: 0.1
*/
typedef struct corm_instr corm_instr;
CORM_API corm_instr *corm_db_instr(corm_db *db);

/*
** The detector's modes, per db (corm_instr_set_mode), per capture
** (corm_capture_set_mode) and from the environment (CORM_NPLUSONE=off|log|
** strict|auto, read by corm_open):
**   OFF     no detection (captures, log and metrics still work)
**   LOG     findings are collected and reported (the default): to the log
**           sinks, to the finding callback, else one line each on stderr
**   STRICT  a lazy load that would be the 2nd query of the same call site,
**           relation and parent result fails like a test assertion instead
**           of querying: the failure hook (corm_instr_on_fail; by default
**           print the finding - the lazy load's site, where its queryset
**           was built, the fix - and abort) gets it.  Only if the hook
**           returns does the accessor return NULL, with CORM_MISUSE on the
**           db (message: the N+1; hint: the fix).  For tests and CI
**   AUTO    the first lazy load of a relation of an object from a
**           multi-row result loads that relation for every object of the
**           result (one prefetch query): N+1 becomes 2 with no code change;
**           the finding (auto_loaded) still says how to make it explicit
*/
typedef enum corm_nplusone {
    CORM_NPLUSONE_OFF,
    CORM_NPLUSONE_LOG,
    CORM_NPLUSONE_STRICT,
    CORM_NPLUSONE_AUTO
} corm_nplusone;

CORM_API void corm_instr_set_mode(corm_instr *in, corm_nplusone mode);
/* The mode in effect: the innermost open capture's, else the db's. */
CORM_API corm_nplusone corm_instr_mode(const corm_instr *in);
/* "off", "log", "strict", "auto"; never NULL. */
CORM_API const char *corm_nplusone_name(corm_nplusone mode);
#define corm_nplusone_mode(db, mode) corm_instr_set_mode(corm_db_instr(db), (mode))

/*
** corm_instr_log(in, spec) - where statements and findings are logged.
** spec is a comma-separated list (the same as CORM_LOG):
**   "stderr"        every statement, Django-style: (0.123 ms) SQL; args=(..)
**   "json:PATH"     every statement, finding and capture as a JSON line
**                   appended to PATH (the input of `corm report`)
**   "slow=MS"       the slow-query threshold (also CORM_SLOW_MS): slower
**                   statements are marked "slow" (SLOW on stderr)
**   "only-slow"     log only the slow statements (findings still)
**   "redact"        never write parameter values
**   "off"           stop logging (closes the file)
** Returns CORM_INVALID for a bad spec, CORM_IO when PATH cannot be opened
** (corm_instr_error tells which).  Logging stays as it was on error.
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_instr_log(corm_instr *in, const char *spec);
CORM_API const corm_error *corm_instr_error(const corm_instr *in);
CORM_API void corm_instr_set_slow_ms(corm_instr *in, double ms);
/* Production thresholds: a group of queries is a finding from min_count
** queries (default 2) taking min_ms in all (default 0). */
CORM_API void corm_instr_set_threshold(corm_instr *in, unsigned min_count, double min_ms);

/* What the detector found (docs/nplusone.md has an example of each). */
#define CORM_FINDING_MAP(XX)                                                                      \
    XX(N_PLUS_ONE, "n_plus_one")         /* a relation or deferred field loaded per object */     \
    XX(COUNT_IN_LOOP, "count_in_loop")   /* count() of a related set per object */                \
    XX(EXISTS_IN_LOOP, "exists_in_loop") /* exists() of a related set per object */               \
    XX(FILTER_AFTER_PREFETCH, "filter_after_prefetch") /* a prefetched set filtered per object */ \
    XX(PREFETCH_IN_LOOP, "prefetch_in_loop")           /* corm_prefetch_objects per object */     \
    XX(LOOKUP_IN_LOOP, "lookup_in_loop")               /* get by id, one id at a time */          \
    XX(WRITE_IN_LOOP, "write_in_loop")                 /* save/create/delete one at a time */     \
    XX(UNUSED_EAGER, "unused_eager")                   /* select/prefetch_related nothing read */ \
    XX(LATE_EAGER, "late_eager")                       /* eager load asked after evaluation */    \
    XX(DUPLICATE, "duplicate")                         /* same SQL and parameters again */        \
    XX(SIMILAR, "similar")                             /* same SQL, other parameters, one site */ \
    XX(OVER_BUDGET, "over_budget")                     /* a capture ran over its budget */

typedef enum corm_finding_kind {
#define CORM__FINDING_ENUM(name, str) CORM_FINDING_##name,
    CORM_FINDING_MAP(CORM__FINDING_ENUM)
#undef CORM__FINDING_ENUM
} corm_finding_kind;

/* "n_plus_one", "unused_eager", ...; never NULL. */
CORM_API const char *corm_finding_kind_name(corm_finding_kind kind);

/* One finding.  Strings are owned by the capture (or, in a callback, valid
** during the call); NULL when not applicable. */
typedef struct corm_finding {
    corm_finding_kind kind;
    const char *model;    /* "Book" */
    const char *relation; /* "author", "books", a deferred field, an eager
                               path ("author__country") */
    uint64_t count;       /* queries in the group (auto: objects loaded
                               for; unused_eager: objects eagerly loaded) */
    double ms;            /* time the group took */
    corm_site site;       /* the access, or the statement, in your code */
    corm_site built;      /* where the queryset whose objects were used
                               was built ({0} when not known) */
    const char *sql;      /* one statement of the group */
    const char *fix;      /* the exact fix as C code, with where to put it */
    const char *message;  /* one line for humans */
    const char *scope;    /* the capture it was found in, or NULL */
    bool auto_loaded;     /* CORM_NPLUSONE_AUTO batch-loaded it */
    bool blocked;         /* CORM_NPLUSONE_STRICT refused the query */
} corm_finding;

typedef void (*corm_finding_fn)(void *ud, const corm_finding *f);
/* Call fn for every finding reported (when a top-level capture ends, and
** for code outside captures at corm_instr_flush or corm_close).  NULL
** removes it.  With a callback, findings no longer go to stderr unless
** "stderr" is logged. */
CORM_API void corm_instr_on_finding(corm_instr *in, corm_finding_fn fn, void *ud);
/* Report the findings of statements run outside any capture so far. */
CORM_API void corm_instr_flush(corm_instr *in);
/* Findings reported since the db was opened. */
CORM_API uint64_t corm_instr_nfindings(const corm_instr *in);

/*
** corm_capture_begin(db, name) - a capture scope: counts and keeps every
** statement db runs until corm_capture_end (Django's
** CaptureQueriesContext), and runs the detector over them.  Captures nest:
** an outer one sees the statements of the inner ones too, and findings are
** reported when a top-level capture ends (inner ones keep theirs for
** reading).  Owned by the db: free it with corm_capture_free, or
** corm_close frees it.  name is copied (NULL: "capture").
** Returns NULL when out of memory.
*/
typedef struct corm_capture corm_capture;
#define corm_capture_begin(db, name) corm_capture_begin_at(corm_db_instr(db), (name), CORM_SITE)
CORM_API corm_capture *corm_capture_begin_at(corm_instr *in, const char *name, corm_site site);
/* Stop capturing, run the end-of-scope checks (unused eager loads,
** budget) and report.  Ending an outer capture ends the inner ones.
** Idempotent; the capture stays readable until freed. */
CORM_API void corm_capture_end(corm_capture *c);
/* End (if needed) and free.  NULL is fine. */
CORM_API void corm_capture_free(corm_capture *c);
/* Statements run (internal ones excluded, as corm_query_count) and time. */
CORM_API uint64_t corm_capture_count(const corm_capture *c);
CORM_API double corm_capture_ms(const corm_capture *c);
/* The kept statements, in order (at most 10000, the count stays exact);
** borrowed until corm_capture_free. */
CORM_API size_t corm_capture_nevents(const corm_capture *c);
CORM_API const corm_event *corm_capture_event(const corm_capture *c, size_t i);
/* Findings: complete after corm_capture_end (strict and auto ones appear
** at once).  Borrowed until corm_capture_free. */
CORM_API size_t corm_capture_nfindings(const corm_capture *c);
CORM_API const corm_finding *corm_capture_finding(const corm_capture *c, size_t i);
/* The number of findings of one kind. */
CORM_API size_t corm_capture_nfindings_of(const corm_capture *c, corm_finding_kind kind);
/* The detector's mode while this capture is the innermost open one. */
CORM_API void corm_capture_set_mode(corm_capture *c, corm_nplusone mode);
/* A budget for production code: more statements (0: no limit) or more
** milliseconds (0: no limit) is reported as an over_budget finding when
** the capture ends - not an error. */
CORM_API void corm_capture_budget(corm_capture *c, uint64_t max_queries, double max_ms);
CORM_API bool corm_capture_over_budget(const corm_capture *c);
/* Every statement with its call site, then the findings with their fixes:
** what the assertion macros print.  Borrowed until the next call on c. */
CORM_API const char *corm_capture_report(corm_capture *c);

/*
** Query-count assertions for any C test framework (Django's
** assertNumQueries):
**     CORM_ASSERT_NUM_QUERIES(db, 2) {
**         ... code that must run exactly 2 statements ...
**     }
**     CORM_ASSERT_MAX_QUERIES(db, 10) { ... }   at most 10
** On failure the message has the count, every captured statement with
** its call site, and the findings; it goes to CORM_ASSERT_FAIL(msg, file,
** line) when the including file defines that macro before corm.h (cmocka:
** `print_error("%s", msg), _fail(file, line)`), else to the db's failure
** hook (corm_instr_on_fail below; by default: stderr, then abort).  Do
** not leave the block with break or return (the check would not run;
** corm_close frees the capture).
*/
CORM_API const char *corm_capture_check(corm_capture *c, uint64_t n, bool at_most, const char *file,
                                        int line);

/*
** The failure hook - how corm fails like a test assertion, per db:
** strict-mode refusals (corm_nplusone), an accessor with no handle to
** report on (an object corm did not load: corm.h, "Errors"), and the
** query-count assertions unless CORM_ASSERT_FAIL is defined.
**   fn(ud, msg, file, line)  msg: the whole report (borrowed, valid during
**        the call), file/line: the application code that failed.  fn may
**        end the program, or jump out of a test (cmocka's _fail; what the
**        failing call held then leaks, as any failed test may), or return:
**        the failing call then reports as documented (an accessor: NULL,
**        CORM_MISUSE on the db)
**   fn NULL: the default, corm_assert_fail.  Since: 0.1
** A library cannot see the application's CORM_ASSERT_FAIL macro: to send
** strict mode through it, install corm_assert_fail_hook below.
*/
typedef void (*corm_fail_fn)(void *ud, const char *msg, const char *file, int line);
CORM_API void corm_instr_on_fail(corm_instr *in, corm_fail_fn fn, void *ud);
/* c's db's hook (corm_assert_fail when c is NULL). */
CORM_API void corm_capture_fail(corm_capture *c, const char *msg, const char *file, int line);
/* The default: msg to stderr, then abort(). */
CORM_API void corm_assert_fail(const char *msg, const char *file, int line);

#ifndef CORM_ASSERT_FAIL
#define CORM__ASSERT_FAIL_HOOK 1
#define CORM_ASSERT_FAIL(msg, file, line) corm_assert_fail((msg), (file), (line))
#endif
/* A corm_fail_fn calling CORM_ASSERT_FAIL as the file that includes
** corm.h defines it: corm_instr_on_fail(corm_db_instr(db),
** corm_assert_fail_hook, NULL) makes strict mode fail your test. */
static inline void corm_assert_fail_hook(void *ud, const char *msg, const char *file, int line)
{
    (void)ud;
    CORM_ASSERT_FAIL(msg, file, line);
}
static inline void corm__assert_done(corm_capture *c, uint64_t n, bool at_most, const char *file,
                                     int line)
{
    const char *corm__msg = corm_capture_check(c, n, at_most, file, line);
#ifdef CORM__ASSERT_FAIL_HOOK
    if (corm__msg) corm_capture_fail(c, corm__msg, file, line);
#else
    if (corm__msg) { CORM_ASSERT_FAIL(corm__msg, file, line); }
#endif
    corm_capture_free(c);
}
/* The block runs once (also when the capture could not be made: then the
** check fails, saying so). */
#define CORM__ASSERT_QUERIES(db, n, at_most, name)                                            \
    for (corm_capture *                                                                       \
             CORM__CAT(corm__c, __LINE__) =                                                   \
             corm_capture_begin_at(corm_db_instr(db), (name), CORM_SITE),                     \
                                *CORM__CAT(corm__done, __LINE__) = NULL;                      \
         !CORM__CAT(corm__done, __LINE__);                                                    \
         corm__assert_done(CORM__CAT(corm__c, __LINE__), (n), (at_most), __FILE__, __LINE__), \
                                CORM__CAT(corm__done, __LINE__) =                             \
                                    (corm_capture *)(void *)&CORM__CAT(corm__c, __LINE__))
#define CORM_ASSERT_NUM_QUERIES(db, n) \
    CORM__ASSERT_QUERIES((db), (n), false, "CORM_ASSERT_NUM_QUERIES")
#define CORM_ASSERT_MAX_QUERIES(db, n) \
    CORM__ASSERT_QUERIES((db), (n), true, "CORM_ASSERT_MAX_QUERIES")

/*
** corm_metrics_prometheus(in, buf, size) - the metrics in the Prometheus
** text exposition format, for any HTTP server to serve at /metrics:
** statements, seconds (total, max), rows and errors per SQL fingerprint;
** captures and their statements per capture name; findings per kind.
** Writes at most size bytes (NUL-terminated when size > 0) and returns
** the length of the whole text, as snprintf: call with 0 to size it.
** At most 1000 fingerprints are kept; the rest count as fingerprint
** "other".
*/
CORM_API size_t corm_metrics_prometheus(const corm_instr *in, char *buf, size_t size);
CORM_API void corm_metrics_reset(corm_instr *in);

/*
** corm_sql_fingerprint(sql, normalized, size) - the statement with
** literals, placeholders and IN / VALUES lists folded (as
** pg_stat_statements does), hashed.  normalized (may be NULL) gets the
** folded text, truncated to size.
*/
CORM_API uint64_t corm_sql_fingerprint(const char *sql, char *normalized, size_t size);

#ifdef __cplusplus
}
#endif
#endif
