/*
** corm/inspect.h - see it in the browser: request scopes for any C web
** server, a recorder of requests and their queries (Silk), the debug panel
** (django-debug-toolbar + Silk), query-stats middleware and /metrics.
** docs/inspect.md shows how to add them to a server in a few lines.
**
**   corm_inspect   one per program: configuration, per-route statistics,
**                  the recorder (its own SQLite file and writer thread)
**   corm_request   one per HTTP request: begin, attach the connections it
**                  uses (or take them from a pool through it), end with the
**                  status, read the count, time, findings, Server-Timing
**   corm_panel_handle  the panel and /metrics as a server-independent
**                  handler: fill a corm_http_request, send the response
**
** The scope API depends on no HTTP server.  include/corm/inspect_mhd.h
** adapts it to libmicrohttpd (a header: only programs that use it link it).
**
** Threads: a corm_inspect is thread-safe (requests of many server threads
** end concurrently; the recorder has its own thread).  A corm_request is
** used by the thread serving the request.  Since: 0.1
*/
#ifndef CORM_INSPECT_H
#define CORM_INSPECT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corm_inspect corm_inspect;
typedef struct corm_request corm_request;

/* Whether to record this request (the recorder's sampling callback). */
typedef bool (*corm_sample_fn)(void *ud, const char *method, const char *route, const char *path);
/* A warning line of the middleware (over a threshold or a budget). */
typedef void (*corm_warn_fn)(void *ud, const char *line);

typedef struct corm_inspect_config {
    /* The recorder: off unless record_path is set (a SQLite file of its
    ** own, never the application's database; created when missing). */
    const char *record_path;
    double sample_percent; /* requests recorded, 0..100 (spread evenly) */
    corm_sample_fn sample; /* or decide per request (overrides percent) */
    void *sample_ud;
    int keep_requests;            /* retention: the newest N are kept (0: 10000) */
    int queue_size;               /* requests waiting for the writer (0: 1024);
                               a full queue drops the request and counts it */
    bool record_params;           /* keep parameter values (statements that touch a
                               sensitive field are redacted regardless) */
    const char *const *sensitive; /* "Model.field" names to redact besides
                                     the schema's `sensitive` fields; NULL-
                                     terminated, copied; may be NULL */
    /* The panel. */
    const char *prefix;      /* where it is mounted (NULL: "/__corm") */
    const char *token;       /* required from non-loopback clients (header
                               X-Corm-Token, or ?token= once: a cookie);
                               NULL: loopback clients only */
    corm_pool *explain_pool; /* connections EXPLAIN may use (NULL: no EXPLAIN
                                button); corm_inspect_set_explain_pool later */
    bool explain_analyze;    /* allow EXPLAIN ANALYZE on PostgreSQL when the
                               user asks (?analyze=1); the default never does */
    int explain_timeout_ms;  /* statement timeout of an EXPLAIN (0: 2000) */
    /* The middleware: a warning line when a request runs more statements or
    ** takes longer (0: no threshold), for warn_percent of such requests. */
    uint64_t warn_queries;
    double warn_ms;
    double warn_percent;
    corm_warn_fn warn; /* NULL: stderr */
    void *warn_ud;
    /* Inject the toolbar into HTML responses (corm_request_inject). */
    bool toolbar;
} corm_inspect_config;

/* Defaults: recorder off, everything sampled once on, all warnings shown. */
#define CORM_INSPECT_CONFIG_INIT                                                               \
    {                                                                                          \
        NULL, 100.0, NULL, NULL, 0, 0, false, NULL, NULL, NULL, NULL, false, 0, 0, 0.0, 100.0, \
            NULL, NULL, true                                                                   \
    }

/*
** corm_inspect_open(cfg, err) - the inspection state of a program: opens
** (creates) the recorder's file and starts its writer when record_path is
** set.  cfg's strings are copied.  NULL with err filled when the recorder's
** file cannot be opened (CORM_IO) or cfg is invalid (CORM_INVALID).
** corm_inspect_close writes what is queued, stops the writer, frees.
*/
CORM_API corm_inspect *corm_inspect_open(const corm_inspect_config *cfg, corm_error *err);
CORM_API void corm_inspect_close(corm_inspect *ins);
/* The pool EXPLAIN takes a connection from (borrowed; NULL: none). */
CORM_API void corm_inspect_set_explain_pool(corm_inspect *ins, corm_pool *pool);

typedef enum corm_budget_action {
    CORM_BUDGET_LOG, /* a warning line and an over_budget finding */
    CORM_BUDGET_FAIL /* the same, and corm_request_end returns CORM_INVALID */
} corm_budget_action;
/* A budget for every request of route (a pattern such as "/books/{id}";
** "*" for routes without one of their own): more statements (0: no limit)
** or more milliseconds (0: no limit).  CORM_NOMEM, else CORM_OK. */
CORM_API CORM_WARN_UNUSED corm_rc corm_inspect_budget(corm_inspect *ins, const char *route,
                                                      uint64_t max_queries, double max_ms,
                                                      corm_budget_action action);

typedef struct corm_inspect_stats {
    uint64_t requests; /* ended */
    uint64_t sampled;  /* chosen for the recorder */
    uint64_t recorded; /* written to its file */
    uint64_t dropped;  /* sampled but dropped: the queue was full */
    uint64_t failed;   /* lost to a write error of the recorder's file */
    uint64_t warnings; /* middleware warning lines */
} corm_inspect_stats;
CORM_API corm_inspect_stats corm_inspect_get_stats(corm_inspect *ins);
/* Wait until every request queued before the call is written (tests,
** shutdown; each panel page does it). */
CORM_API void corm_inspect_flush(corm_inspect *ins);

/*
** corm_request_begin(ins, method, route, path) - a request scope: every
** statement of the connections attached to it until corm_request_end is
** the request's, with the N+1 detector's findings, the route's budget
** and the timings.  route is the pattern ("/authors/{id}": what statistics
** group by); path the URL path.  Strings are copied.  NULL when out of
** memory.  Used by one thread (the one serving the request).
*/
CORM_API corm_request *corm_request_begin(corm_inspect *ins, const char *method, const char *route,
                                          const char *path);
/* Collect db's statements into req (a capture on db until detached).  A db
** is attached to one request at a time.  CORM_MISUSE when already attached
** to req, CORM_NOMEM. */
CORM_API CORM_WARN_UNUSED corm_rc corm_request_attach(corm_request *req, corm_db *db);
/* Stop collecting db's statements (keeps what was collected). */
CORM_API void corm_request_detach(corm_request *req, corm_db *db);
/* corm_pool_acquire + attach; corm_pool_release after detach. */
CORM_API corm_db *corm_request_acquire(corm_request *req, corm_pool *pool, int timeout_ms,
                                       corm_error *err);
CORM_API void corm_request_release(corm_request *req, corm_pool *pool, corm_db *db);
/*
** corm_request_end(req, status) - detach everything, run the end-of-scope
** checks, update the route's statistics and metrics, write a warning line
** over a threshold, and queue the request for the recorder when sampled
** (never blocks: a full queue drops it and counts).  CORM_INVALID when a
** CORM_BUDGET_FAIL budget was exceeded (corm_request_error says which),
** else CORM_OK.  req stays readable until corm_request_free.
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_request_end(corm_request *req, int status);
CORM_API void corm_request_free(corm_request *req);
CORM_API const corm_error *corm_request_error(const corm_request *req);
/* Statements (internal ones excluded), their time, the request's time. */
CORM_API uint64_t corm_request_count(const corm_request *req);
CORM_API double corm_request_db_ms(const corm_request *req);
CORM_API double corm_request_ms(const corm_request *req);
/* Its id in the recorder (the panel's /request/ID), 0 when not recorded. */
CORM_API uint64_t corm_request_id(const corm_request *req);
/* Findings (after end), borrowed until corm_request_free. */
CORM_API size_t corm_request_nfindings(const corm_request *req);
CORM_API const corm_finding *corm_request_finding(const corm_request *req, size_t i);
/* The Server-Timing header's value: db;dur=..;desc="N queries", app;dur=..
** Borrowed until the next call on req. */
CORM_API const char *corm_request_server_timing(corm_request *req);
/* html with the toolbar (query count, time, findings, a link to the panel)
** inserted before </body> (appended when there is none); *out_len gets its
** length.  Borrowed until corm_request_free; NULL when out of memory. */
CORM_API const char *corm_request_inject(corm_request *req, const char *html, size_t len,
                                         size_t *out_len);

/* ------------------------------------------------------------ the panel */

/* One HTTP request to the panel, filled by the server's adapter. */
typedef struct corm_http_request {
    const char *method; /* "GET", "POST" */
    const char *path;   /* without the query string: "/__corm/request/12" */
    const char *query;  /* "sort=ms&route=%2Fbooks", or NULL */
    const char *remote; /* the client's address ("127.0.0.1", "::1"); NULL or
                           "" for a unix socket */
    const char *token;  /* header X-Corm-Token, or NULL */
    const char *cookie; /* header Cookie, or NULL */
} corm_http_request;

typedef struct corm_http_response {
    int status;
    const char *content_type;
    char *body; /* owned: corm_http_response_free */
    size_t len;
    char set_cookie[128]; /* a Set-Cookie header value, or "" */
} corm_http_response;

/*
** corm_panel_handle(ins, rq, resp) - serve rq when it is the panel's (its
** path under the prefix) or /metrics: returns true with resp filled (HTML,
** text or JSON; every value HTML-escaped), false when the path is not
** the panel's (resp untouched).  Pages: PREFIX/ (requests: ?sort=time|ms|
** queries|dups, ?route=), PREFIX/request/ID, PREFIX/explain/ID/SEQ
** (SELECT only, rolled back, with a timeout), PREFIX/routes,
** PREFIX/metrics and /metrics (Prometheus text).  A client that is not on
** loopback gets 403 unless it presents the token.  Never writes to the
** application's database.  Thread-safe.
*/
CORM_API bool corm_panel_handle(corm_inspect *ins, const corm_http_request *rq,
                                corm_http_response *resp);
CORM_API void corm_http_response_free(corm_http_response *resp);

/* The middleware's metrics in the Prometheus text format: per route
** (requests, statement and time histograms, findings) and per SQL
** fingerprint of the requests.  As snprintf: returns the whole length. */
CORM_API size_t corm_inspect_metrics(corm_inspect *ins, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
