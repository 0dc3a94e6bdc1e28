/*
** request.c - corm_inspect and corm_request (include/corm/inspect.h).
**
** A request attaches the connections it uses; each gets a capture (the
** detector runs per connection, as the statements of one connection are
** what an N+1 repeats).  Detaching ends the capture and copies its
** statements and findings into the request's record, so a pool connection
** can go back to the pool in the middle of the request.  corm_request_end
** folds the record into the route's statistics and the fingerprint
** metrics (under ins->mu), writes the middleware's warning line, and hands
** the record to the recorder when the request is sampled.
*/
#include "inspect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ATTACH 8
#define MAX_ROUTES 200
#define MAX_FPS 500

const double corm__hms_le[CORM__NHMS] = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
const double corm__hq_le[CORM__NHQ] = {1, 2, 5, 10, 20, 50, 100, 500};

typedef struct attached {
    corm_db *db;
    corm_capture *cap;
} attached;

struct corm_request {
    corm_inspect *ins;
    corm__rec *rec; /* NULL once queued */
    double t0;
    bool ended;
    attached at[MAX_ATTACH];
    int nat;
    /* what stays readable after end */
    uint64_t id, count;
    double ms, db_ms;
    corm_finding *findings;
    size_t nfindings;
    corm_arena arena; /* the findings' strings, when the rec is queued */
    corm_error err;
    corm_buf timing, page;
};

/* ------------------------------------------------------------ inspect */

static char *dup_or_null(const char *s) { return s ? corm__strdup(s) : NULL; }

corm_inspect *corm_inspect_open(const corm_inspect_config *cfg, corm_error *err)
{
    corm_inspect_config def = CORM_INSPECT_CONFIG_INIT;
    if (err) corm__err_clear(err);
    if (!cfg) cfg = &def;
    corm_error tmp;
    if (!err) err = &tmp;
    if (cfg->sample_percent < 0 || cfg->sample_percent > 100 || cfg->warn_percent < 0 ||
        cfg->warn_percent > 100) {
        corm__err_set(err, CORM_INVALID, "sample_percent and warn_percent are percentages");
        corm__err_hint(err, "use a value from 0 to 100 (100: every request)");
        return NULL;
    }
    if (cfg->prefix && (cfg->prefix[0] != '/' || strlen(cfg->prefix) < 2)) {
        corm__err_set(err, CORM_INVALID, "panel prefix '%s' is not a path", cfg->prefix);
        corm__err_hint(err, "use a path such as \"/__corm\" (NULL for that default)");
        return NULL;
    }
    corm_inspect *ins = corm__calloc(1, sizeof *ins);
    if (!ins) goto oom;
    ins->cfg = *cfg;
    pthread_mutex_init(&ins->mu, NULL);
    ins->record_path = dup_or_null(cfg->record_path);
    ins->prefix = corm__strdup(cfg->prefix ? cfg->prefix : "/__corm");
    ins->token = cfg->token && cfg->token[0] ? corm__strdup(cfg->token) : NULL;
    if ((cfg->record_path && !ins->record_path) || !ins->prefix ||
        (cfg->token && cfg->token[0] && !ins->token))
        goto oom_free;
    size_t len = strlen(ins->prefix);
    if (len > 1 && ins->prefix[len - 1] == '/') ins->prefix[len - 1] = '\0';
    for (size_t i = 0; cfg->sensitive && cfg->sensitive[i]; i++) {
        if (!strchr(cfg->sensitive[i], '.')) {
            corm__err_set(err, CORM_INVALID, "sensitive field '%s' is not Model.field",
                          cfg->sensitive[i]);
            corm__err_hint(err, "name it with its model: \"User.email\"");
            corm_inspect_close(ins);
            return NULL;
        }
        char **n = corm__realloc(ins->sensitive, (ins->nsensitive + 1) * sizeof *n);
        if (!n) goto oom_free;
        ins->sensitive = n;
        if (!(n[ins->nsensitive] = corm__strdup(cfg->sensitive[i]))) goto oom_free;
        ins->nsensitive++;
    }
    ins->cfg.record_path = ins->record_path;
    ins->cfg.prefix = ins->prefix;
    ins->cfg.token = ins->token;
    ins->cfg.sensitive = NULL;
    ins->explain_pool = cfg->explain_pool;
    if (ins->record_path) {
        ins->rec = corm__recorder_open(ins->record_path, cfg->keep_requests, cfg->queue_size, err);
        if (!ins->rec) {
            corm_inspect_close(ins);
            return NULL;
        }
    }
    return ins;
oom_free:
    corm_inspect_close(ins);
oom:
    corm__err_set(err, CORM_NOMEM, "out of memory opening the inspection state");
    return NULL;
}

void corm_inspect_close(corm_inspect *ins)
{
    if (!ins) return;
    if (ins->rec) corm__recorder_close(ins->rec);
    for (size_t i = 0; i < ins->nroutes; i++) corm__free(ins->routes[i].route);
    corm__free(ins->routes);
    for (size_t i = 0; i < ins->nfps; i++) corm__free(ins->fps[i].sql);
    corm__free(ins->fps);
    for (size_t i = 0; i < ins->nbudgets; i++) corm__free(ins->budgets[i].route);
    corm__free(ins->budgets);
    for (size_t i = 0; i < ins->nsens; i++) {
        corm__free(ins->sens[i].table);
        corm__free(ins->sens[i].column);
    }
    corm__free(ins->sens);
    for (size_t i = 0; i < ins->nsensitive; i++) corm__free(ins->sensitive[i]);
    corm__free(ins->sensitive);
    corm__free(ins->record_path);
    corm__free(ins->prefix);
    corm__free(ins->token);
    pthread_mutex_destroy(&ins->mu);
    corm__free(ins);
}

void corm_inspect_set_explain_pool(corm_inspect *ins, corm_pool *pool)
{
    if (!ins) return;
    pthread_mutex_lock(&ins->mu);
    ins->explain_pool = pool;
    pthread_mutex_unlock(&ins->mu);
}

corm_rc corm_inspect_budget(corm_inspect *ins, const char *route, uint64_t max_queries,
                            double max_ms, corm_budget_action action)
{
    if (!ins || !route) return CORM_MISUSE;
    pthread_mutex_lock(&ins->mu);
    corm_rc rc = CORM_OK;
    corm__budget *b = NULL;
    for (size_t i = 0; i < ins->nbudgets; i++)
        if (strcmp(ins->budgets[i].route, route) == 0) b = &ins->budgets[i];
    if (!b) {
        corm__budget *n = corm__realloc(ins->budgets, (ins->nbudgets + 1) * sizeof *n);
        char *r = corm__strdup(route);
        if (n) ins->budgets = n;
        if (!n || !r) {
            corm__free(r);
            rc = CORM_NOMEM;
            goto out;
        }
        b = &ins->budgets[ins->nbudgets++];
        b->route = r;
    }
    b->max_q = max_queries;
    b->max_ms = max_ms;
    b->action = action;
out:
    pthread_mutex_unlock(&ins->mu);
    return rc;
}

corm_inspect_stats corm_inspect_get_stats(corm_inspect *ins)
{
    corm_inspect_stats s = {0};
    if (!ins) return s;
    pthread_mutex_lock(&ins->mu);
    s.requests = ins->nreq;
    s.sampled = ins->nsampled;
    s.warnings = ins->nwarn;
    pthread_mutex_unlock(&ins->mu);
    if (ins->rec) corm__recorder_counts(ins->rec, &s.recorded, &s.dropped, &s.failed);
    return s;
}

void corm_inspect_flush(corm_inspect *ins)
{
    if (ins && ins->rec) corm__recorder_flush(ins->rec);
}

/* ------------------------------------------------- sensitive columns */

static bool add_sens(corm_inspect *ins, const corm_model *m, const corm_field *f)
{
    corm__sens *n = corm__realloc(ins->sens, (ins->nsens + 1) * sizeof *n);
    if (!n) return false;
    ins->sens = n;
    corm_buf t, c;
    corm__buf_init(&t);
    corm__buf_init(&c);
    corm__buf_addf(&t, "\"%s\"", m->table);
    corm__buf_addf(&c, "\"%s\"", f->column);
    n[ins->nsens].table = t.oom ? NULL : corm__strdup(corm__buf_cstr(&t));
    n[ins->nsens].column = c.oom ? NULL : corm__strdup(corm__buf_cstr(&c));
    corm__buf_free(&t);
    corm__buf_free(&c);
    ins->nsens++;
    return n[ins->nsens - 1].table && n[ins->nsens - 1].column;
}

/* The quoted table and column of every sensitive field of schema (the
** schema's own, and cfg->sensitive's).  Under ins->mu. */
static void resolve_sensitive(corm_inspect *ins, const corm_schema *schema)
{
    if (!schema || ins->sens_schema == schema) return;
    for (size_t i = 0; i < ins->nsens; i++) {
        corm__free(ins->sens[i].table);
        corm__free(ins->sens[i].column);
    }
    ins->nsens = 0;
    ins->sens_schema = schema;
    for (int mi = 0; mi < schema->nmodels; mi++) {
        const corm_model *m = schema->models[mi];
        for (int fi = 0; fi < m->nfields; fi++) {
            const corm_field *f = &m->fields[fi];
            bool want = (f->flags & CORM_FF_SENSITIVE) != 0;
            size_t ml = strlen(m->name);
            for (size_t k = 0; !want && k < ins->nsensitive; k++) {
                const char *s = ins->sensitive[k];
                want = strncmp(s, m->name, ml) == 0 && s[ml] == '.' &&
                       strcmp(s + ml + 1, f->name) == 0;
            }
            if (want) add_sens(ins, m, f);
        }
    }
}

/* Whether a statement binds a value of a sensitive field: it names the
** field's table and its column (quoted, as corm's compiler writes them) -
** in a SELECT only where values are bound (WHERE/HAVING), anywhere in a
** write.  Conservative: all of its parameters are redacted.  Under ins->mu. */
static bool is_sensitive(const corm_inspect *ins, const char *sql)
{
    const char *from = sql;
    while (*from == ' ' || *from == '(') from++;
    if (strncasecmp(from, "SELECT", 6) == 0) {
        from = strstr(sql, " WHERE ");
        if (!from) from = strstr(sql, " HAVING ");
        if (!from) return false;
    }
    for (size_t i = 0; i < ins->nsens; i++) {
        const corm__sens *s = &ins->sens[i];
        if (s->table && s->column && strstr(from, s->column) && strstr(sql, s->table)) return true;
    }
    return false;
}

/* ----------------------------------------------------------- request */

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *adup(corm_arena *a, const char *s) { return corm__arena_strdup(a, s ? s : ""); }

corm_request *corm_request_begin(corm_inspect *ins, const char *method, const char *route,
                                 const char *path)
{
    if (!ins) return NULL;
    corm_request *req = corm__calloc(1, sizeof *req);
    if (!req) return NULL;
    req->ins = ins;
    req->t0 = corm__now_ms();
    corm__arena_init(&req->arena, 1024);
    corm__buf_init(&req->timing);
    corm__buf_init(&req->page);
    req->rec = corm__calloc(1, sizeof *req->rec);
    if (!req->rec) goto oom;
    corm__rec *r = req->rec;
    corm__arena_init(&r->arena, 8192);
    r->started = unix_now();
    r->method = adup(&r->arena, method ? method : "GET");
    r->route = adup(&r->arena, route ? route : (path ? path : "/"));
    r->path = adup(&r->arena, path ? path : "/");
    if (!r->method || !r->route || !r->path) goto oom;
    return req;
oom:
    corm_request_free(req);
    return NULL;
}

corm_rc corm_request_attach(corm_request *req, corm_db *db)
{
    if (!req || !db || req->ended) return CORM_MISUSE;
    for (int i = 0; i < req->nat; i++)
        if (req->at[i].db == db) {
            corm__err_set(&req->err, CORM_MISUSE, "this connection is already attached");
            return CORM_MISUSE;
        }
    if (req->nat == MAX_ATTACH) {
        corm__err_set(&req->err, CORM_MISUSE, "a request attaches at most %d connections at once",
                      MAX_ATTACH);
        corm__err_hint(&req->err, "detach (or release) the ones it is done with");
        return CORM_MISUSE;
    }
    corm_capture *c = corm_capture_begin_at(corm_db_instr(db), req->rec->route, CORM_SITE);
    if (!c) return CORM_NOMEM;
    pthread_mutex_lock(&req->ins->mu);
    resolve_sensitive(req->ins, corm_db_schema(db));
    pthread_mutex_unlock(&req->ins->mu);
    req->at[req->nat++] = (attached){db, c};
    return CORM_OK;
}

static const char *site_dup(corm_arena *a, corm_site s)
{
    char buf[512];
    if (!s.file) return NULL;
    if (s.func) snprintf(buf, sizeof buf, "%s:%d (%s)", s.file, s.line, s.func);
    else snprintf(buf, sizeof buf, "%s:%d", s.file, s.line);
    return corm__arena_strdup(a, buf);
}

static uint64_t values_hash(const corm_value *v, int n, uint64_t h)
{
    for (int i = 0; i < n; i++) {
        h = corm__hash64(&v[i].type, sizeof v[i].type, h);
        switch (v[i].type) {
        case CORM_V_INT: h = corm__hash64(&v[i].u.i, sizeof v[i].u.i, h); break;
        case CORM_V_FLOAT: h = corm__hash64(&v[i].u.f, sizeof v[i].u.f, h); break;
        case CORM_V_DECIMAL:
            h = corm__hash64(&v[i].u.d.units, sizeof v[i].u.d.units, h);
            h = corm__hash64(&v[i].u.d.scale, sizeof v[i].u.d.scale, h);
            break;
        case CORM_V_BOOL: h = corm__hash64(&v[i].u.b, sizeof v[i].u.b, h); break;
        case CORM_V_TEXT:
        case CORM_V_BLOB: {
            size_t len = v[i].u.s.n == (size_t)-1 ? strlen(v[i].u.s.p) : v[i].u.s.n;
            h = corm__hash64(v[i].u.s.p, len, h);
            break;
        }
        default: break;
        }
    }
    return h;
}

static bool add_event(corm_request *req, const corm_event *ev, bool sensitive)
{
    corm__rec *r = req->rec;
    if (!corm__heap_grow((void **)&r->q, r->nq, &r->capq, sizeof *r->q, 32)) return false;
    corm__qrec *q = &r->q[r->nq];
    memset(q, 0, sizeof *q);
    bool redact = sensitive || !req->ins->cfg.record_params;
    corm_buf b;
    corm__buf_init(&b);
    for (int i = 0; i < ev->nparams; i++) {
        if (i) corm__buf_adds(&b, ", ");
        if (redact) corm__buf_adds(&b, "?");
        else corm__value_text(&b, &ev->params[i]);
    }
    q->redacted = redact && ev->nparams > 0;
    q->params = b.oom ? NULL : corm__arena_strdup(&r->arena, corm__buf_cstr(&b));
    corm__buf_reset(&b);
    corm__binds_encode(&b, ev->params, ev->nparams, redact);
    q->binds = b.oom ? NULL : corm__arena_strdup(&r->arena, corm__buf_cstr(&b));
    corm__buf_free(&b);
    q->sql = adup(&r->arena, ev->sql);
    q->origin = adup(&r->arena, ev->origin);
    q->site = site_dup(&r->arena, ev->site);
    q->built = site_dup(&r->arena, ev->built);
    q->ms = ev->ms;
    q->rows = ev->rows;
    q->kind = (int)ev->kind;
    q->fp = ev->fingerprint;
    q->dupkey = values_hash(ev->params, ev->nparams, ev->fingerprint ^ CORM__FNV64);
    q->rc = (int)ev->rc;
    if (!q->params || !q->binds || !q->sql || !q->origin) return false;
    r->nq++;
    r->db_ms += ev->ms;
    return true;
}

static bool add_finding(corm_request *req, const corm_finding *f)
{
    corm__rec *r = req->rec;
    if (!corm__heap_grow((void **)&r->f, r->nf, &r->capf, sizeof *r->f, 8)) return false;
    corm__frec *d = &r->f[r->nf];
    corm_arena *a = &r->arena;
    d->f = *f;
#define DUPS(x) d->f.x = f->x ? corm__arena_strdup(a, f->x) : NULL
    DUPS(model);
    DUPS(relation);
    DUPS(sql);
    DUPS(fix);
    DUPS(message);
    DUPS(scope);
#undef DUPS
    d->f.site = (corm_site){0};
    d->f.built = (corm_site){0};
    d->site = site_dup(a, f->site);
    d->built = site_dup(a, f->built);
    r->nf++;
    if (f->kind == CORM_FINDING_N_PLUS_ONE) {
        r->nplusone++;
        if (f->count > r->worst_n1) r->worst_n1 = f->count;
    }
    return true;
}

static void collect(corm_request *req, int i)
{
    attached *a = &req->at[i];
    corm_capture_end(a->cap);
    pthread_mutex_lock(&req->ins->mu);
    size_t n = corm_capture_nevents(a->cap);
    for (size_t k = 0; k < n; k++) {
        const corm_event *ev = corm_capture_event(a->cap, k);
        if (ev->internal) continue;
        if (!add_event(req, ev, ev->sql && is_sensitive(req->ins, ev->sql))) break;
    }
    pthread_mutex_unlock(&req->ins->mu);
    req->rec->nqueries += corm_capture_count(a->cap);
    size_t nf = corm_capture_nfindings(a->cap);
    for (size_t k = 0; k < nf; k++)
        if (!add_finding(req, corm_capture_finding(a->cap, k))) break;
    corm_capture_free(a->cap);
    req->at[i] = req->at[--req->nat];
}

void corm_request_detach(corm_request *req, corm_db *db)
{
    if (!req) return;
    for (int i = 0; i < req->nat; i++)
        if (req->at[i].db == db) {
            collect(req, i);
            return;
        }
}

corm_db *corm_request_acquire(corm_request *req, corm_pool *pool, int timeout_ms, corm_error *err)
{
    if (!req || !pool) return NULL;
    corm_db *db = corm_pool_acquire(pool, timeout_ms, err);
    if (!db) return NULL;
    if (corm_request_attach(req, db) != CORM_OK) {
        if (err) corm__err_copy(err, &req->err);
        corm_pool_release(pool, db);
        return NULL;
    }
    return db;
}

void corm_request_release(corm_request *req, corm_pool *pool, corm_db *db)
{
    if (!db) return;
    corm_request_detach(req, db);
    if (pool) corm_pool_release(pool, db);
}

/* ------------------------------------------------ end: stats, warnings */

static corm__route *route_of(corm_inspect *ins, const char *route)
{
    for (size_t i = 0; i < ins->nroutes; i++)
        if (strcmp(ins->routes[i].route, route) == 0) return &ins->routes[i];
    if (ins->nroutes >= MAX_ROUTES) route = "other";
    for (size_t i = 0; i < ins->nroutes; i++)
        if (strcmp(ins->routes[i].route, route) == 0) return &ins->routes[i];
    if (ins->nroutes == ins->caproutes) {
        size_t cap = ins->caproutes ? ins->caproutes * 2 : 16;
        corm__route *n = corm__realloc(ins->routes, cap * sizeof *n);
        if (!n) return NULL;
        ins->routes = n;
        ins->caproutes = cap;
    }
    corm__route *r = &ins->routes[ins->nroutes];
    memset(r, 0, sizeof *r);
    if (!(r->route = corm__strdup(route))) return NULL;
    ins->nroutes++;
    return r;
}

static corm__fpm *fp_of(corm_inspect *ins, const corm__qrec *q)
{
    for (size_t i = 0; i < ins->nfps; i++)
        if (ins->fps[i].fp == q->fp) return &ins->fps[i];
    uint64_t fp = ins->nfps >= MAX_FPS ? 0 : q->fp;
    for (size_t i = 0; i < ins->nfps; i++)
        if (ins->fps[i].fp == fp) return &ins->fps[i];
    if (!corm__heap_grow((void **)&ins->fps, ins->nfps, &ins->capfps, sizeof *ins->fps, 32))
        return NULL;
    corm__fpm *m = &ins->fps[ins->nfps];
    memset(m, 0, sizeof *m);
    m->fp = fp;
    char norm[200];
    if (fp) corm_sql_fingerprint(q->sql, norm, sizeof norm);
    else corm__strlcpy(norm, "other", sizeof norm);
    if (!(m->sql = corm__strdup(norm))) return NULL;
    ins->nfps++;
    return m;
}

static void count_dups(corm__rec *r)
{
    /* n^2 over a request's statements is fine up to a few thousand; past
    ** that only the first 2000 are compared. */
    size_t n = r->nq < 2000 ? r->nq : 2000;
    for (size_t i = 1; i < n; i++) {
        bool dup = false, sim = false;
        for (size_t j = 0; j < i && !dup; j++) {
            if (r->q[j].fp != r->q[i].fp) continue;
            if (r->q[j].dupkey == r->q[i].dupkey) dup = true;
            else sim = true;
        }
        if (dup) r->ndups++;
        else if (sim) r->nsimilar++;
    }
}

/* Every one of n is chosen when percent is 100, none at 0, and in
** between spread evenly (error diffusion: exact over any run). */
static bool spread(uint64_t n, double percent)
{
    if (percent >= 100) return true;
    if (percent <= 0) return false;
    return (uint64_t)((double)(n + 1) * percent / 100.0) > (uint64_t)((double)n * percent / 100.0);
}

static void warn_line(corm_inspect *ins, const char *line)
{
    if (ins->cfg.warn) ins->cfg.warn(ins->cfg.warn_ud, line);
    else fprintf(stderr, "%s\n", line);
}

static void over_budget(corm_request *req, const corm__budget *b, corm_buf *warn)
{
    corm__rec *r = req->rec;
    bool q = b->max_q && r->nqueries > b->max_q;
    bool t = b->max_ms > 0 && req->ms > b->max_ms;
    if (!q && !t) return;
    char msg[300];
    snprintf(msg, sizeof msg,
             "%s %s ran %llu statements in %.1f ms, over the route's budget (%s%s)", r->method,
             r->route, (unsigned long long)r->nqueries, req->ms, q ? "statements" : "",
             q && t ? ", time" : (t ? "time" : ""));
    corm_finding f = {0};
    f.kind = CORM_FINDING_OVER_BUDGET;
    f.count = r->nqueries;
    f.ms = req->ms;
    f.message = msg;
    f.scope = r->route;
    f.fix = "fix the findings above, or raise the route's budget (corm_inspect_budget)";
    add_finding(req, &f);
    corm__buf_addf(warn, "corm: over budget: %s", msg);
    if (b->action == CORM_BUDGET_FAIL) {
        corm__err_set(&req->err, CORM_INVALID, "%s", msg);
        corm__err_hint(&req->err, "%s", f.fix);
    }
}

static void keep_findings(corm_request *req)
{
    corm__rec *r = req->rec;
    req->nfindings = r->nf;
    if (!r->nf) return;
    req->findings = corm__arena_zalloc(&req->arena, r->nf * sizeof *req->findings);
    if (!req->findings) {
        req->nfindings = 0;
        return;
    }
    for (size_t i = 0; i < r->nf; i++) {
        corm_finding *d = &req->findings[i];
        const corm_finding *f = &r->f[i].f;
        *d = *f;
#define DUPS(x) d->x = f->x ? corm__arena_strdup(&req->arena, f->x) : NULL
        DUPS(model);
        DUPS(relation);
        DUPS(sql);
        DUPS(fix);
        DUPS(message);
        DUPS(scope);
#undef DUPS
    }
}

corm_rc corm_request_end(corm_request *req, int status)
{
    if (!req) return CORM_MISUSE;
    if (req->ended) return req->err.rc;
    while (req->nat) collect(req, req->nat - 1);
    req->ended = true;
    corm_inspect *ins = req->ins;
    corm__rec *r = req->rec;
    req->ms = corm__now_ms() - req->t0;
    r->ms = req->ms;
    r->status = status;
    count_dups(r);
    req->count = r->nqueries;
    req->db_ms = r->db_ms;

    corm_buf warn;
    corm__buf_init(&warn);
    pthread_mutex_lock(&ins->mu);
    const corm__budget *b = NULL;
    for (size_t i = 0; i < ins->nbudgets; i++)
        if (strcmp(ins->budgets[i].route, r->route) == 0) b = &ins->budgets[i];
    for (size_t i = 0; !b && i < ins->nbudgets; i++)
        if (strcmp(ins->budgets[i].route, "*") == 0) b = &ins->budgets[i];
    if (b) over_budget(req, b, &warn);
    uint64_t nreq = ins->nreq++;
    corm__route *rt = route_of(ins, r->route);
    if (rt) {
        rt->requests++;
        rt->queries += r->nqueries;
        rt->findings += r->nf;
        rt->nplusone += r->nplusone;
        if (r->worst_n1 > rt->worst_n1) rt->worst_n1 = r->worst_n1;
        if (status >= 500) rt->errors++;
        rt->ms += req->ms;
        rt->db_ms += r->db_ms;
        int k = 0;
        while (k < CORM__NHMS && req->ms > corm__hms_le[k]) k++;
        rt->hms[k]++;
        k = 0;
        while (k < CORM__NHQ && (double)r->nqueries > corm__hq_le[k]) k++;
        rt->hq[k]++;
    }
    for (size_t i = 0; i < r->nq; i++) {
        corm__fpm *m = fp_of(ins, &r->q[i]);
        if (!m) break;
        m->calls++;
        m->ms += r->q[i].ms;
        if (r->q[i].rows > 0) m->rows += (uint64_t)r->q[i].rows;
    }
    bool over = (ins->cfg.warn_queries && r->nqueries > ins->cfg.warn_queries) ||
                (ins->cfg.warn_ms > 0 && req->ms > ins->cfg.warn_ms);
    if (over && spread(ins->nwarn_seen++, ins->cfg.warn_percent)) {
        if (warn.len) corm__buf_addc(&warn, '\n');
        corm__buf_addf(
            &warn,
            "corm: slow request %s %s (route %s, status %d): %llu statements, %.1f ms (db %.1f ms)",
            r->method, r->path, r->route, status, (unsigned long long)r->nqueries, req->ms,
            r->db_ms);
        for (size_t i = 0; i < r->nf; i++)
            if (r->f[i].f.kind != CORM_FINDING_OVER_BUDGET)
                corm__buf_addf(&warn, "; %s %s.%s x%llu%s%s",
                               corm_finding_kind_name(r->f[i].f.kind),
                               r->f[i].f.model ? r->f[i].f.model : "?",
                               r->f[i].f.relation ? r->f[i].f.relation : "?",
                               (unsigned long long)r->f[i].f.count, r->f[i].f.fix ? ": " : "",
                               r->f[i].f.fix ? r->f[i].f.fix : "");
    }
    if (warn.len) ins->nwarn++;
    bool sample = false;
    if (ins->rec) {
        sample = ins->cfg.sample ? ins->cfg.sample(ins->cfg.sample_ud, r->method, r->route, r->path)
                                 : spread(nreq, ins->cfg.sample_percent);
        if (sample) ins->nsampled++;
    }
    pthread_mutex_unlock(&ins->mu);
    if (warn.len && !warn.oom) warn_line(ins, corm__buf_cstr(&warn));
    corm__buf_free(&warn);

    keep_findings(req);
    if (sample) {
        if (!(req->id = corm__recorder_push(ins->rec, r))) corm__rec_free(r);
        req->rec = NULL;
    }
    return req->err.rc;
}

void corm__rec_free(corm__rec *r)
{
    if (!r) return;
    corm__free(r->q);
    corm__free(r->f);
    corm__arena_free(&r->arena);
    corm__free(r);
}

void corm_request_free(corm_request *req)
{
    if (!req) return;
    while (req->nat) {
        corm_capture_free(req->at[req->nat - 1].cap);
        req->nat--;
    }
    corm__rec_free(req->rec);
    corm__arena_free(&req->arena);
    corm__buf_free(&req->timing);
    corm__buf_free(&req->page);
    corm__free(req);
}

const corm_error *corm_request_error(const corm_request *req) { return req ? &req->err : NULL; }
uint64_t corm_request_count(const corm_request *req) { return req ? req->count : 0; }
double corm_request_db_ms(const corm_request *req) { return req ? req->db_ms : 0; }
double corm_request_ms(const corm_request *req)
{
    if (!req) return 0;
    return req->ended ? req->ms : corm__now_ms() - req->t0;
}
uint64_t corm_request_id(const corm_request *req) { return req ? req->id : 0; }
size_t corm_request_nfindings(const corm_request *req) { return req ? req->nfindings : 0; }
const corm_finding *corm_request_finding(const corm_request *req, size_t i)
{
    return req && i < req->nfindings ? &req->findings[i] : NULL;
}

const char *corm_request_server_timing(corm_request *req)
{
    if (!req) return NULL;
    corm__buf_reset(&req->timing);
    corm__buf_addf(&req->timing, "db;dur=%.3f;desc=\"%llu queries\", app;dur=%.3f", req->db_ms,
                   (unsigned long long)req->count, corm_request_ms(req));
    return req->timing.oom ? NULL : corm__buf_cstr(&req->timing);
}

/* The last "</body" of html, case-insensitive, or NULL. */
static const char *body_end(const char *html, size_t len)
{
    for (size_t i = len; i >= 6; i--) {
        const char *p = html + i - 6;
        if (p[0] == '<' && p[1] == '/' && strncasecmp(p + 2, "body", 4) == 0) return p;
    }
    return NULL;
}

const char *corm_request_inject(corm_request *req, const char *html, size_t len, size_t *out_len)
{
    if (!req || !html) return NULL;
    if (!req->ins->cfg.toolbar) {
        if (out_len) *out_len = len;
        return html;
    }
    corm_buf *b = &req->page;
    corm__buf_reset(b);
    const char *at = body_end(html, len);
    size_t head = at ? (size_t)(at - html) : len;
    corm__buf_add(b, html, head);
    size_t nn1 = 0;
    for (size_t i = 0; i < req->nfindings; i++)
        if (req->findings[i].kind == CORM_FINDING_N_PLUS_ONE) nn1++;
    corm__buf_adds(b, "<div id=\"corm-toolbar\" style=\"position:fixed;right:8px;bottom:8px;"
                      "z-index:99999;background:#1d2733;color:#fff;font:13px/1.4 sans-serif;"
                      "padding:6px 10px;border-radius:6px;box-shadow:0 1px 4px #0006\">"
                      "<b>corm</b> ");
    corm__buf_addf(b, "<span id=\"corm-toolbar-queries\">%llu queries</span> &middot; %.1f ms",
                   (unsigned long long)req->count, req->db_ms);
    if (req->nfindings)
        corm__buf_addf(b, " &middot; <span style=\"color:#ffb347\">%zu finding%s%s</span>",
                       req->nfindings, req->nfindings == 1 ? "" : "s", nn1 ? " (N+1)" : "");
    corm__buf_adds(b, " &middot; <a style=\"color:#9cf\" href=\"");
    corm__html(b, req->ins->prefix);
    if (req->id) corm__buf_addf(b, "/request/%llu\">details</a>", (unsigned long long)req->id);
    else corm__buf_adds(b, "/\">panel</a>");
    corm__buf_adds(b, "</div>");
    corm__buf_add(b, html + head, len - head);
    if (b->oom) return NULL;
    if (out_len) *out_len = b->len;
    return corm__buf_cstr(b);
}
