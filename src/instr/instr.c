/*
** instr.c - the instrumentation state of one db: modes and the
** environment, the path of every statement (classify, strict check, log,
** capture, detect, metrics), capture scopes with budgets, the registry of
** related querysets, and the query-count assertions.
**
** A statement reaches us twice: corm__instr_before when it is about to run
** (to classify it and, in strict mode, refuse an N+1) and corm__instr_event
** when it has run.  The layer above tells what it knows through the event's
** fields (kind, parent batch, path); the rest comes from the origin string.
*/
#include "instr_int.h"

#include <stdlib.h>
#include <string.h>

const char *const corm__origin_names[] = {
#define CORM__ORIGIN_NAME(name, str) str,
    CORM_ORIGIN_MAP(CORM__ORIGIN_NAME)
#undef CORM__ORIGIN_NAME
};

static const char *const finding_names[] = {
#define CORM__FINDING_NAME(name, str) str,
    CORM_FINDING_MAP(CORM__FINDING_NAME)
#undef CORM__FINDING_NAME
};

const char *corm_origin_kind_name(corm_origin_kind kind)
{
    return (unsigned)kind < CORM__ARRAY_LEN(corm__origin_names) ? corm__origin_names[kind]
                                                                : "other";
}

const char *corm_finding_kind_name(corm_finding_kind kind)
{
    return (unsigned)kind < CORM__ARRAY_LEN(finding_names) ? finding_names[kind] : "unknown";
}

const char *corm_nplusone_name(corm_nplusone mode)
{
    switch (mode) {
    case CORM_NPLUSONE_OFF: return "off";
    case CORM_NPLUSONE_LOG: return "log";
    case CORM_NPLUSONE_STRICT: return "strict";
    case CORM_NPLUSONE_AUTO: return "auto";
    }
    return "log";
}

static bool parse_mode(const char *s, corm_nplusone *out)
{
    static const char *const names[] = {"off", "log", "strict", "auto"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (corm_nplusone)i;
            return true;
        }
    return false;
}

/* ------------------------------------------------------------ names */

const char *corm__instr_intern(corm_instr *in, const char *s, size_t n)
{
    if (!s) return NULL;
    uint64_t h = corm__hash_fast(s, n);
    for (uint64_t k = h;; k++) {
        void **v = corm__map_get(&in->name_map, (int64_t)k);
        if (!v) break;
        const char *have = *v;
        if (strlen(have) == n && memcmp(have, s, n) == 0) return have;
    }
    char *copy = corm__arena_strndup(&in->names, s, n);
    if (!copy) return NULL;
    for (uint64_t k = h;; k++) {
        if (corm__map_get(&in->name_map, (int64_t)k)) continue;
        if (!corm__map_put(&in->name_map, (int64_t)k, copy)) return NULL;
        break;
    }
    return copy;
}

static const char *intern0(corm_instr *in, const char *s)
{
    return s ? corm__instr_intern(in, s, strlen(s)) : NULL;
}

/* ------------------------------------------------------------ captures */

static corm_capture *capture_new(corm_instr *in, const char *name, corm_site site, bool root)
{
    corm_capture *c = corm__calloc(1, sizeof *c);
    if (!c) return NULL;
    c->name = corm__strdup(name ? name : "capture");
    if (!c->name) {
        corm__free(c);
        return NULL;
    }
    c->in = in;
    c->site = site;
    c->root = root;
    c->open = true;
    corm__arena_init(&c->arena, 4096);
    corm__map_init(&c->groups, NULL);
    corm__map_init(&c->dups, NULL);
    corm__buf_init(&c->report);
    c->first_eager = in->neager;
    c->next_all = in->all;
    in->all = c;
    return c;
}

/* Forget what a capture collected (the root, after reporting). */
static void capture_reset(corm_capture *c)
{
    corm__detect_free(c);
    corm__map_init(&c->groups, NULL);
    corm__map_init(&c->dups, NULL);
    corm__arena_free(&c->arena);
    c->events = NULL;
    c->nevents = c->cap = 0;
    c->findings = NULL;
    c->nfindings = c->capfindings = 0;
    c->count = 0;
    c->ms = 0;
    c->reported = false;
}

static void capture_release(corm_capture *c)
{
    corm__detect_free(c);
    corm__arena_free(&c->arena);
    corm__buf_free(&c->report);
    corm__free(c->name);
    corm__free(c);
}

corm_nplusone corm__instr_mode_now(const corm_instr *in)
{
    for (const corm_capture *c = in->top; c; c = c->outer)
        if (c->mode_set) return c->mode;
    return in->mode;
}

static corm_nplusone capture_mode(const corm_instr *in, const corm_capture *c)
{
    for (; c && !c->root; c = c->outer)
        if (c->mode_set) return c->mode;
    return in->mode;
}

/* The assertion macros' captures leave the unused-eager check to the
** enclosing capture, if any: a test often evaluates inside the block and
** reads the relations after it. */
static bool is_assertion(const corm_capture *c)
{
    return strncmp(c->name, "CORM_ASSERT_", 12) == 0;
}

/* Report the findings of c: to the log sinks, the callback, else stderr. */
static void report(corm_instr *in, corm_capture *c)
{
    if (c->reported) return;
    c->reported = true;
    for (size_t i = 0; i < c->nfindings; i++) {
        corm_finding *f = &c->findings[i].f;
        in->nfindings++;
        if ((unsigned)f->kind < CORM__ARRAY_LEN(in->nkind)) in->nkind[f->kind]++;
        corm__log_finding(in, f);
        if (in->on_finding) in->on_finding(in->on_finding_ud, f);
    }
}

/* The end-of-scope work: findings, budget, report when outermost. */
static void capture_finish(corm_instr *in, corm_capture *c)
{
    if (capture_mode(in, c) != CORM_NPLUSONE_OFF) {
        corm__detect_finish(c);
        /* unused eager loads are judged at the end of a scope the program
        ** drew (a request, a test), not at corm_close */
        if (!is_assertion(c) && !c->root) corm__eager_finish(c);
    }
    bool over =
        (c->budget_q && c->count > c->budget_q) || (c->budget_ms > 0 && c->ms > c->budget_ms);
    if (over) {
        corm_event ev;
        memset(&ev, 0, sizeof ev);
        ev.site = c->site;
        ev.model = c->name;
        corm__finding *f = corm__detect_add(c, CORM_FINDING_OVER_BUDGET, &ev, c->count, c->ms);
        if (f) corm__detect_fix(c, f);
    }
}

corm_capture *corm_capture_begin_at(corm_instr *in, const char *name, corm_site site)
{
    if (!in) return NULL;
    corm_capture *c = capture_new(in, name, site, false);
    if (!c) return NULL;
    c->outer = in->top;
    in->top = c;
    return c;
}

void corm_capture_end(corm_capture *c)
{
    if (!c || !c->open || c->root) return;
    corm_instr *in = c->in;
    if (!in) return;
    /* inner captures end first */
    while (in->top && in->top != c) corm_capture_end(in->top);
    c->open = false;
    in->top = c->outer;
    capture_finish(in, c);
    if (!c->outer) {
        report(in, c);
        corm__log_capture(in, c);
        corm__metrics_capture(in, c);
        corm__eager_drop(in, c->first_eager);
    }
}

void corm_capture_free(corm_capture *c)
{
    if (!c || c->root) return;
    corm_instr *in = c->in;
    corm_capture_end(c);
    for (corm_capture **p = &in->all; *p; p = &(*p)->next_all)
        if (*p == c) {
            *p = c->next_all;
            break;
        }
    capture_release(c);
}

uint64_t corm_capture_count(const corm_capture *c) { return c ? c->count : 0; }
double corm_capture_ms(const corm_capture *c) { return c ? c->ms : 0; }
size_t corm_capture_nevents(const corm_capture *c) { return c ? c->nevents : 0; }

const corm_event *corm_capture_event(const corm_capture *c, size_t i)
{
    return c && i < c->nevents ? &c->events[i] : NULL;
}

size_t corm_capture_nfindings(const corm_capture *c) { return c ? c->nfindings : 0; }

const corm_finding *corm_capture_finding(const corm_capture *c, size_t i)
{
    return c && i < c->nfindings ? &c->findings[i].f : NULL;
}

size_t corm_capture_nfindings_of(const corm_capture *c, corm_finding_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->nfindings; i++) n += c->findings[i].f.kind == kind;
    return n;
}

void corm_capture_set_mode(corm_capture *c, corm_nplusone mode)
{
    if (!c) return;
    c->mode = mode;
    c->mode_set = true;
}

void corm_capture_budget(corm_capture *c, uint64_t max_queries, double max_ms)
{
    if (!c) return;
    c->budget_q = max_queries;
    c->budget_ms = max_ms;
}

bool corm_capture_over_budget(const corm_capture *c)
{
    return c &&
           ((c->budget_q && c->count > c->budget_q) || (c->budget_ms > 0 && c->ms > c->budget_ms));
}

/* Copy an event into the capture's arena (strings and parameters too). */
static void keep_event(corm_capture *c, const corm_event *ev)
{
    if (c->nevents >= CORM__KEEP_EVENTS) return;
    if (c->nevents == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        corm_event *p = corm__arena_alloc(&c->arena, cap * sizeof *p);
        if (!p) return;
        if (c->nevents) memcpy(p, c->events, c->nevents * sizeof *p);
        c->events = p;
        c->cap = cap;
    }
    corm_event e = *ev;
    corm_arena *a = &c->arena;
    e.sql = ev->sql ? corm__arena_strdup(a, ev->sql) : NULL;
    e.origin = ev->origin ? corm__arena_strdup(a, ev->origin) : NULL;
    e.scope = ev->scope ? corm__arena_strdup(a, ev->scope) : NULL;
    e.path = ev->path ? corm__arena_strdup(a, ev->path) : NULL;
    e.params = NULL;
    if (ev->params && ev->nparams > 0) {
        corm_value *pv = corm__arena_alloc(a, (size_t)ev->nparams * sizeof *pv);
        if (pv) {
            for (int i = 0; i < ev->nparams; i++) {
                pv[i] = ev->params[i];
                if (pv[i].type == CORM_V_TEXT || pv[i].type == CORM_V_BLOB) {
                    size_t n = pv[i].u.s.n == (size_t)-1 ? strlen(pv[i].u.s.p) : pv[i].u.s.n;
                    char *d = corm__arena_alloc(a, n + 1);
                    if (d) {
                        if (n) memcpy(d, pv[i].u.s.p, n);
                        d[n] = '\0';
                    }
                    pv[i].u.s.p = d;
                    pv[i].u.s.n = n;
                    if (!d) pv[i].type = CORM_V_NULL;
                } else if (pv[i].type > CORM_V_BLOB) {
                    pv[i].type = CORM_V_NULL; /* lists are not bound as such */
                }
            }
            e.params = pv;
        }
    }
    c->events[c->nevents++] = e;
}

static void capture_event(corm_capture *c, const corm_event *ev, const corm__relreg *reg,
                          bool detect, const corm__seen *seen)
{
    c->count++;
    c->ms += ev->ms;
    if (!c->root) keep_event(c, ev);
    if (detect) corm__detect_event(c, ev, reg, seen);
}

/* ------------------------------------------------------------ state */

static void log_env(corm_instr *in)
{
    const char *mode = getenv("CORM_NPLUSONE");
    if (mode && *mode && !parse_mode(mode, &in->mode))
        fprintf(stderr, "corm: CORM_NPLUSONE='%s' is not one of off, log, strict, auto; using %s\n",
                mode, corm_nplusone_name(in->mode));
    const char *slow = getenv("CORM_SLOW_MS");
    if (slow && *slow) {
        char *end;
        double ms = strtod(slow, &end);
        if (*end || ms < 0)
            fprintf(stderr, "corm: CORM_SLOW_MS='%s' is not a number of ms\n", slow);
        else in->slow_ms = ms;
    }
    const char *log = getenv("CORM_LOG");
    if (log && *log && corm_instr_log(in, log) != CORM_OK)
        fprintf(stderr, "corm: CORM_LOG: %s\n", in->err.message);
}

corm_instr *corm__instr_new(const char *vendor)
{
    corm_instr *in = corm__calloc(1, sizeof *in);
    if (!in) return NULL;
    corm__strlcpy(in->vendor, vendor ? vendor : "", sizeof in->vendor);
#ifdef NDEBUG
    in->mode = CORM_NPLUSONE_OFF;
#else
    in->mode = CORM_NPLUSONE_LOG;
#endif
    in->min_count = 2;
    corm__err_clear(&in->err);
    corm__arena_init(&in->names, 1024);
    corm__map_init(&in->name_map, &in->names);
    corm__map_init(&in->eager_map, NULL);
    corm__map_init(&in->metric_map, NULL);
    in->other.sql = NULL;
    corm_site none = {0};
    in->root = capture_new(in, "(outside captures)", none, true);
    if (!in->root) {
        corm__arena_free(&in->names);
        corm__free(in);
        return NULL;
    }
    log_env(in);
    return in;
}

void corm__instr_free(corm_instr *in)
{
    if (!in) return;
    while (in->top) corm_capture_end(in->top);
    corm_instr_flush(in);
    while (in->all) {
        corm_capture *c = in->all;
        in->all = c->next_all;
        capture_release(c);
    }
    corm__log_close(in);
    corm__metrics_free(in);
    corm__memo_free(&in->fpmemo);
    corm__eager_free(in);
    corm__free(in->plans);
    corm__free(in->levels);
    corm__map_free(&in->eager_map);
    corm__arena_free(&in->names);
    corm__free(in);
}

void corm_instr_flush(corm_instr *in)
{
    if (!in) return;
    corm_capture *r = in->root;
    if (!in->top) {
        capture_finish(in, r);
        report(in, r);
        corm__eager_drop(in, 0);
    } else if (in->mode != CORM_NPLUSONE_OFF) {
        corm__detect_finish(r);
        report(in, r);
    }
    capture_reset(r);
}

void corm_instr_set_mode(corm_instr *in, corm_nplusone mode)
{
    if (in && (unsigned)mode <= CORM_NPLUSONE_AUTO) in->mode = mode;
}

corm_nplusone corm_instr_mode(const corm_instr *in)
{
    return in ? corm__instr_mode_now(in) : CORM_NPLUSONE_OFF;
}

const corm_error *corm_instr_error(const corm_instr *in)
{
    static const corm_error none = {.rc = CORM_MISUSE, .message = "no instrumentation"};
    return in ? &in->err : &none;
}

void corm_instr_set_slow_ms(corm_instr *in, double ms)
{
    if (in && ms >= 0) in->slow_ms = ms;
}

void corm_instr_set_threshold(corm_instr *in, unsigned min_count, double min_ms)
{
    if (!in) return;
    in->min_count = min_count < 2 ? 2 : min_count;
    in->min_ms = min_ms > 0 ? min_ms : 0;
}

void corm_instr_on_finding(corm_instr *in, corm_finding_fn fn, void *ud)
{
    if (!in) return;
    in->on_finding = fn;
    in->on_finding_ud = ud;
}

uint64_t corm_instr_nfindings(const corm_instr *in) { return in ? in->nfindings : 0; }

void corm_instr_on_fail(corm_instr *in, corm_fail_fn fn, void *ud)
{
    if (!in) return;
    in->on_fail = fn;
    in->on_fail_ud = fn ? ud : NULL;
}

void corm__instr_fail(corm_instr *in, const char *msg, const char *file, int line)
{
    if (in && in->on_fail) in->on_fail(in->on_fail_ud, msg, file, line);
    else corm_assert_fail(msg, file, line);
}

void corm_capture_fail(corm_capture *c, const char *msg, const char *file, int line)
{
    corm__instr_fail(c ? c->in : NULL, msg, file, line);
}

/* ------------------------------------------------------------ log spec */

corm_rc corm_instr_log(corm_instr *in, const char *spec)
{
    if (!in) return CORM_MISUSE;
    if (!spec) spec = "off";
    /* parse everything first: a bad spec changes nothing */
    bool want_stderr = false, only_slow = false, redact = false, off = false;
    double slow = -1;
    const char *path = NULL;
    size_t pathlen = 0;
    for (const char *p = spec; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 6 && memcmp(p, "stderr", 6) == 0) want_stderr = true;
        else if (n == 3 && memcmp(p, "off", 3) == 0) off = true;
        else if (n == 9 && memcmp(p, "only-slow", 9) == 0) only_slow = true;
        else if (n == 6 && memcmp(p, "redact", 6) == 0) redact = true;
        else if (n > 5 && memcmp(p, "json:", 5) == 0) {
            path = p + 5;
            pathlen = n - 5;
        } else if (n > 5 && memcmp(p, "slow=", 5) == 0) {
            char num[32];
            char *end;
            corm__strlcpy(num, p + 5, n - 5 + 1 < sizeof num ? n - 5 + 1 : sizeof num);
            slow = strtod(num, &end);
            if (*end || slow < 0) {
                corm__err_set(&in->err, CORM_INVALID,
                              "log spec '%s': '%.*s' is not slow=MILLISECONDS", spec, (int)n, p);
                return CORM_INVALID;
            }
        } else if (n) {
            corm__err_set(&in->err, CORM_INVALID, "log spec '%s': unknown item '%.*s'", spec,
                          (int)n, p);
            corm__err_hint(&in->err, "use stderr, json:PATH, slow=MS, only-slow, redact or off, "
                                     "separated by commas");
            return CORM_INVALID;
        }
        p += n;
        if (*p == ',') p++;
    }
    FILE *f = NULL;
    char *copy = NULL;
    if (path) {
        copy = corm__strndup(path, pathlen);
        if (!copy) {
            corm__err_set(&in->err, CORM_NOMEM, "out of memory opening the query log");
            return CORM_NOMEM;
        }
        f = fopen(copy, "a");
        if (!f) {
            corm__err_set(&in->err, CORM_IO, "cannot open the query log '%s' for appending", copy);
            corm__err_hint(&in->err, "check that the directory exists and is writable");
            corm__free(copy);
            return CORM_IO;
        }
    }
    if (off || path) corm__log_close(in);
    if (off) {
        in->log_stderr = false;
        in->only_slow = false;
    }
    if (want_stderr) in->log_stderr = true;
    if (only_slow) in->only_slow = true;
    if (redact) in->redact = true;
    if (slow >= 0) in->slow_ms = slow;
    if (f) {
        in->json = f;
        in->json_path = copy;
    }
    corm__err_clear(&in->err);
    return CORM_OK;
}

/* ------------------------------------------------------------ events */

uint64_t corm__fingerprint_of(corm_instr *in, const char *sql, uint64_t *text_hash)
{
    size_t len = strlen(sql);
    uint64_t h = corm__hash_fast(sql, len);
    if (text_hash) *text_hash = h;
    const void *known = corm__memo_get(&in->fpmemo, sql, len, h, NULL);
    uint64_t fp;
    if (known) {
        memcpy(&fp, known, sizeof fp);
        return fp;
    }
    corm_buf b;
    corm__buf_init(&b);
    fp = corm__fingerprint(sql, &b);
    corm__buf_free(&b);
    if (fp && len <= CORM__FP_MEMO_MAX)
        (void)corm__memo_put(&in->fpmemo, sql, len, h, &fp, sizeof fp);
    return fp;
}

static bool same_site(corm_site a, corm_site b)
{
    if (a.line != b.line || !a.file || !b.file) return false;
    return a.file == b.file || strcmp(a.file, b.file) == 0;
}

/* What an origin tells: kind, and model and relation (interned). */
static inline void classify_apply(corm_instr *in, corm_event *ev, corm_origin_kind kind,
                                  const char *model, const char *relation)
{
    if (ev->kind == CORM_ORIGIN_OTHER) ev->kind = kind;
    if (!ev->model && model) ev->model = model;
    if (!ev->relation && relation) ev->relation = relation;
    if (!ev->model && ev->sql &&
        (ev->kind == CORM_ORIGIN_INSERT || ev->kind == CORM_ORIGIN_UPDATE ||
         ev->kind == CORM_ORIGIN_DELETE)) {
        /* writes name no model (but an m2m link, "insert:Post.tags"):
        ** their table will do ("book") */
        const char *q = strchr(ev->sql, '"');
        const char *e = q ? strchr(q + 1, '"') : NULL;
        if (e) ev->model = corm__instr_intern(in, q + 1, (size_t)(e - q - 1));
    }
}

/* classify, when the origin is not found by its address: by its text in
** the cache, else parsed (and cached). */
static const char *classify_text(corm_instr *in, corm_event *ev)
{
    const char *o = ev->origin ? ev->origin : "";
    corm_origin_kind kind = CORM_ORIGIN_OTHER;
    const char *model = NULL, *relation = NULL, *interned = NULL;
    size_t c = 0;
    while (c < CORM__ARRAY_LEN(in->ocache) &&
           (!o[0] || in->ocache[c].text[0] != o[0] || strcmp(in->ocache[c].text, o) != 0))
        c++;
    if (c < CORM__ARRAY_LEN(in->ocache)) {
        kind = in->ocache[c].kind;
        model = in->ocache[c].model;
        relation = in->ocache[c].relation;
        interned = in->ocache[c].interned;
    } else {
        const char *colon = strchr(o, ':');
        size_t n = colon ? (size_t)(colon - o) : strlen(o);
        for (size_t i = 0; i < CORM__ARRAY_LEN(corm__origin_names); i++)
            if (strlen(corm__origin_names[i]) == n && memcmp(corm__origin_names[i], o, n) == 0) {
                kind = (corm_origin_kind)i;
                break;
            }
        if (kind == CORM_ORIGIN_OTHER && n >= 4 && memcmp(o, "bulk", 4) == 0)
            kind = strstr(o, "update")   ? CORM_ORIGIN_UPDATE
                   : strstr(o, "delete") ? CORM_ORIGIN_DELETE
                                         : CORM_ORIGIN_INSERT;
        if (colon) {
            const char *m = colon + 1;
            const char *dot = strchr(m, '.');
            if (dot) {
                model = corm__instr_intern(in, m, (size_t)(dot - m));
                relation = intern0(in, dot + 1);
            } else {
                model = intern0(in, m);
            }
        }
        size_t len = strlen(o);
        if (len > 0 && len < sizeof in->ocache[0].text && (!colon || model)) {
            unsigned i = in->ocache_next++ % CORM__ARRAY_LEN(in->ocache);
            memcpy(in->ocache[i].text, o, len + 1);
            in->ocache[i].interned = interned = corm__instr_intern(in, o, len);
            /* the name's own string (corm__origin_names[kind], what
            ** corm_origin_kind_name returns): an origin at that address is
            ** this text; any other address is compared by its text */
            in->ocache[i].name = !colon && strcmp(corm__origin_names[kind], o) == 0
                                     ? corm__origin_names[kind]
                                     : NULL;
            in->ocache[i].kind = kind;
            in->ocache[i].model = model;
            in->ocache[i].relation = relation;
        }
    }
    classify_apply(in, ev, kind, model, relation);
    return interned;
}

/* kind, model and relation from the origin string ("fk:Book.author"),
** remembered for the next statement with the same origin: found by its
** address when it is an interned origin (a lazy load's) or an origin
** name's own string (corm__origin_names: count, exists...), else by its
** text.  Returns the origin interned, or NULL. */
static inline __attribute__((always_inline)) const char *classify(corm_instr *in, corm_event *ev)
{
    const char *o = ev->origin;
    for (size_t c = 0; o && c < CORM__ARRAY_LEN(in->ocache); c++)
        if (in->ocache[c].interned == o || in->ocache[c].name == o) {
            classify_apply(in, ev, in->ocache[c].kind, in->ocache[c].model, in->ocache[c].relation);
            return in->ocache[c].interned;
        }
    return classify_text(in, ev);
}

/* A statement of a queryset built where corm_related_qs_at was called
** (the event keeps that site as its `built`). */
static const corm__relreg *registered(corm_instr *in, const corm_event *ev)
{
    if (!ev->built.file || !in->reg_age) return NULL; /* none registered yet */
    bool set = ev->kind == CORM_ORIGIN_SET_FILTER || ev->kind == CORM_ORIGIN_SET_COUNT ||
               ev->kind == CORM_ORIGIN_SET_EXISTS;
    if (!set &&
        (ev->parent_batch || (ev->kind != CORM_ORIGIN_QUERYSET && ev->kind != CORM_ORIGIN_LOOKUP &&
                              ev->kind != CORM_ORIGIN_COUNT && ev->kind != CORM_ORIGIN_EXISTS)))
        return NULL;
    for (int i = 0; i < CORM__NREG; i++)
        if (in->reg[i].age && same_site(in->reg[i].site, ev->built)) return &in->reg[i];
    return NULL;
}

static inline __attribute__((always_inline)) const corm__relreg *tag(corm_instr *in, corm_event *ev,
                                                                     bool classified,
                                                                     const char **interned)
{
    if (!classified) *interned = classify(in, ev);
    /* registered's first test, before the call: none registered yet */
    const corm__relreg *r = ev->built.file && in->reg_age ? registered(in, ev) : NULL;
    if (r) {
        if (ev->kind == CORM_ORIGIN_COUNT) ev->kind = CORM_ORIGIN_SET_COUNT;
        else if (ev->kind == CORM_ORIGIN_EXISTS) ev->kind = CORM_ORIGIN_SET_EXISTS;
        else if (ev->kind == CORM_ORIGIN_QUERYSET || ev->kind == CORM_ORIGIN_LOOKUP)
            ev->kind = CORM_ORIGIN_SET_FILTER;
        ev->model = r->tag.model;
        ev->relation = r->tag.relation;
        ev->parent_batch = r->tag.parent_batch;
        ev->parent_nobjs = r->tag.parent_nobjs;
        ev->path = r->tag.path;
        ev->path_many = r->tag.path_many;
    }
    return r;
}

void corm__instr_related_qs(corm_instr *in, corm_site site, const corm_event *tg, bool prefetched,
                            const char *target, const char *rev)
{
    if (!in || !site.file) return;
    int slot = -1;
    uint64_t oldest = UINT64_MAX;
    for (int i = 0; i < CORM__NREG; i++) {
        if (in->reg[i].age && same_site(in->reg[i].site, site)) {
            slot = i;
            break;
        }
        if (in->reg[i].age < oldest) {
            oldest = in->reg[i].age;
            slot = i;
        }
    }
    corm__relreg *r = &in->reg[slot];
    memset(r, 0, sizeof *r);
    r->site = site;
    r->tag = *tg;
    r->tag.model = intern0(in, tg->model);
    r->tag.relation = intern0(in, tg->relation);
    r->tag.path = intern0(in, tg->path ? tg->path : "");
    r->prefetched = prefetched;
    r->target = intern0(in, target);
    r->rev = intern0(in, rev);
    r->age = ++in->reg_age;
}

/* The captures a statement goes to: every open one, else the root. */
#define FOR_CAPTURES(in, c) \
    for (corm_capture *c = (in)->top ? (in)->top : (in)->root; c; c = c->root ? NULL : c->outer)

/* Strict mode fails like a test assertion: the finding, with the lazy
** load's site, the site its queryset was built at, and the fix, goes to
** the failure hook (by default: printed, then abort).  Nothing runs and
** nothing is held here, so a hook that returns (or a test's that jumps
** out) leaves the db usable; a hook that returns gets the accessor's
** NULL and the error on the handle. */
static void refused(corm_instr *in, const corm_event *ev, const char *fix)
{
    char msg[2048], a[300], b[300]; /* on the stack: a hook may not return */
    const char *fn = ev->site.func, *bfn = ev->built.func;
    snprintf(msg, sizeof msg,
             "%s: N+1 query refused (CORM_NPLUSONE=strict): %s.%s loaded lazily at %s%s%s%s, "
             "again for another object of one %zu-object result\n"
             "  queryset built at %s%s%s%s\n"
             "  fix: %s",
             corm__site_str(ev->site, a, sizeof a), ev->model ? ev->model : "?",
             ev->relation ? ev->relation : "?", a, fn ? " (" : "", fn ? fn : "", fn ? ")" : "",
             ev->parent_nobjs, corm__site_str(ev->built, b, sizeof b), bfn ? " (" : "",
             bfn ? bfn : "", bfn ? ")" : "",
             fix ? fix : "load the relation eagerly (docs/nplusone.md)");
    corm__instr_fail(in, msg, ev->site.file, ev->site.line);
}

bool corm__instr_before(corm_instr *in, corm_event *ev, corm__seen *seen, corm_error *err)
{
    seen->text_hash = 0;
    seen->origin = NULL;
    if (!in) return true;
    const corm__relreg *reg = tag(in, ev, false, &seen->origin);
    /* only an evaluation's prefetch levels may use its levels */
    if (ev->kind != CORM_ORIGIN_PREFETCH) in->nlevels = 0;
    if (!ev->fingerprint && ev->sql)
        ev->fingerprint = corm__fingerprint_of(in, ev->sql, &seen->text_hash);
    if (corm__instr_mode_now(in) != CORM_NPLUSONE_STRICT || !corm__kind_is_lazy(ev->kind) ||
        !ev->parent_batch || ev->parent_nobjs < 2 || ev->auto_load)
        return true;
    corm_capture *c = in->top ? in->top : in->root;
    if (!corm__detect_would_repeat(c, ev)) return true;
    /* refuse it: the finding goes to every capture, the fix into err */
    const corm__finding *first = NULL;
    FOR_CAPTURES(in, k)
    {
        corm__finding *f =
            corm__detect_add(k, corm__detect_lazy_kind(ev->kind, reg && reg->prefetched), ev, 1, 0);
        if (!f) continue;
        if (f->fresh) {
            f->f.count++; /* the one that ran, and this one */
            if (reg) {
                f->target = reg->target;
                f->rev = reg->rev;
            }
        }
        f->f.blocked = true;
        corm__detect_fix(k, f);
        if (!first) first = f;
    }
    char site[300];
    corm__err_set(err, CORM_MISUSE,
                  "N+1 query refused (CORM_NPLUSONE=strict): %s.%s loaded lazily "
                  "again at %s, for another object of one %zu-object result",
                  ev->model ? ev->model : "?", ev->relation ? ev->relation : "?",
                  corm__site_str(ev->site, site, sizeof site), ev->parent_nobjs);
    const char *fix = first && first->f.fix ? first->f.fix : NULL;
    if (fix) corm__err_hint(err, "%s", fix);
    if (err && ev->site.file) {
        corm__strlcpy(err->file, ev->site.file, sizeof err->file);
        err->line = ev->site.line;
    }
    refused(in, ev, fix);
    return false;
}

void corm__instr_event(corm_instr *in, corm_event *ev, bool classified, corm__seen seen)
{
    if (!in) return;
    /* classified before it ran: tagged then, unless a registration matches
    ** (none does without a built site or any registration) */
    const corm__relreg *reg = classified && (!ev->built.file || !in->reg_age)
                                  ? NULL
                                  : tag(in, ev, classified, &seen.origin);
    if (!ev->fingerprint) ev->fingerprint = corm__fingerprint_of(in, ev->sql, &seen.text_hash);
    ev->seq = ++in->seq;
    ev->scope = in->top ? in->top->name : NULL;
    if (ev->internal) {
        /* the end of an evaluation's snapshot: its prefetch levels are
        ** stitched, check them while the objects are alive */
        if (ev->kind == CORM_ORIGIN_SNAPSHOT && ev->sql && strncmp(ev->sql, "BEGIN", 5) != 0)
            corm__instr_eval_check(in, NULL, true);
        return;
    }
    if (in->log_stderr || in->json) corm__log_event(in, ev); /* else it writes nothing */
    if (ev->cache_hit) { /* no statement ran: kept, not counted */
        FOR_CAPTURES(in, c) if (!c->root) keep_event(c, ev);
        return;
    }
    corm__metrics_event(in, ev);
    bool detect = corm__instr_mode_now(in) != CORM_NPLUSONE_OFF;
    FOR_CAPTURES(in, c) capture_event(c, ev, reg, detect, &seen);
    if (!in->top && in->root->ngroups > CORM__ROOT_GROUPS) {
        /* code that never opens a capture: report what we have, forget
        ** the eager loads unjudged (their objects may still be read) */
        corm__eager_drop(in, 0);
        corm_instr_flush(in);
    }
}

/* ------------------------------------------------------------ auto, late */

void corm__instr_auto_begin(corm_instr *in)
{
    if (in) in->auto_depth++;
}
void corm__instr_auto_end(corm_instr *in)
{
    if (in && in->auto_depth > 0) in->auto_depth--;
}
bool corm__instr_auto_active(const corm_instr *in) { return in && in->auto_depth > 0; }

void corm__instr_auto(corm_instr *in, const corm_event *tg, uint64_t count, bool learned)
{
    if (!in) return;
    corm_event ev = *tg;
    classify_text(in, &ev);
    FOR_CAPTURES(in, c)
    {
        corm__finding *f = corm__detect_add(c, CORM_FINDING_N_PLUS_ONE, &ev, count, 0);
        if (!f) continue;
        f->f.auto_loaded = true;
        f->learned = learned;
        corm__detect_fix(c, f);
    }
}

void corm__instr_learn(corm_instr *in, const corm_event *tg, bool to_many)
{
    if (!in || !tg->built.file || !tg->relation) return;
    const char *parent = tg->path ? tg->path : "";
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_addf(&b, "%s%s%s", parent, *parent ? "__" : "", tg->relation);
    const char *path = b.oom ? NULL : corm__instr_intern(in, b.p, b.len);
    corm__buf_free(&b);
    if (!path) return;
    for (size_t i = 0; i < in->nplans; i++)
        if (in->plans[i].path == path && same_site(in->plans[i].site, tg->built)) return;
    if (in->nplans >= CORM__MAX_PLANS) return;
    if (in->nplans == in->capplans) {
        size_t cap = in->capplans ? in->capplans * 2 : 16;
        corm__plan *p = corm__realloc(in->plans, cap * sizeof *p);
        if (!p) return;
        in->plans = p;
        in->capplans = cap;
    }
    corm__plan *pl = &in->plans[in->nplans++];
    memset(pl, 0, sizeof *pl);
    pl->site = tg->built;
    pl->path = path;
    pl->to_many = to_many;
    pl->tag.kind = tg->kind;
    pl->tag.model = intern0(in, tg->model);
    pl->tag.relation = intern0(in, tg->relation);
    pl->tag.path = intern0(in, parent);
    pl->tag.path_many = tg->path_many;
    pl->tag.built = tg->built;
}

size_t corm__instr_plans(const corm_instr *in, corm_site site, const corm__plan **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; in && i < in->nplans && n < max; i++)
        if (same_site(in->plans[i].site, site)) out[n++] = &in->plans[i];
    return n;
}

void corm__instr_late_eager(corm_instr *in, corm_site site, corm_site built, const char *model,
                            const char *what, const char *path)
{
    if (!in || corm__instr_mode_now(in) == CORM_NPLUSONE_OFF) return;
    corm_event ev;
    memset(&ev, 0, sizeof ev);
    ev.site = site;
    ev.built = built;
    ev.model = intern0(in, model);
    ev.relation = intern0(in, what);
    ev.path = path; /* copied by the finding */
    FOR_CAPTURES(in, c)
    {
        corm__finding *f = corm__detect_add(c, CORM_FINDING_LATE_EAGER, &ev, 1, 0);
        if (f) corm__detect_fix(c, f);
    }
}

/* ------------------------------------------------------------ assertions */

const char *corm_capture_report(corm_capture *c)
{
    if (!c) return "no capture (out of memory)";
    corm_buf *b = &c->report;
    corm__buf_reset(b);
    char s1[300], s2[300];
    for (size_t i = 0; i < c->nevents; i++) {
        const corm_event *e = &c->events[i];
        corm__buf_addf(b, "  %zu. %s\n", i + 1, e->sql ? e->sql : "");
        if (e->nparams > 0 && e->params) {
            corm__buf_adds(b, "     params: (");
            for (int k = 0; k < e->nparams; k++) {
                if (k) corm__buf_adds(b, ", ");
                corm__value_text(b, &e->params[k]);
            }
            corm__buf_adds(b, ")\n");
        }
        corm__buf_addf(b, "     %s at %s", e->origin ? e->origin : "?",
                       corm__site_str(e->site, s1, sizeof s1));
        if (e->site.func) corm__buf_addf(b, " (%s)", e->site.func);
        if (e->built.file)
            corm__buf_addf(b, "; queryset built at %s", corm__site_str(e->built, s2, sizeof s2));
        corm__buf_addc(b, '\n');
    }
    if (c->count > c->nevents)
        corm__buf_addf(b, "  ... and %llu more not kept\n",
                       (unsigned long long)(c->count - c->nevents));
    if (c->nfindings) corm__buf_adds(b, "Findings:\n");
    for (size_t i = 0; i < c->nfindings; i++) {
        const corm_finding *f = &c->findings[i].f;
        corm__buf_addf(b, "  - %s: %s\n", corm_finding_kind_name(f->kind),
                       f->message ? f->message : "");
        if (f->fix) corm__buf_addf(b, "    fix: %s\n", f->fix);
    }
    return b->oom ? "out of memory formatting the capture" : corm__buf_cstr(b);
}

const char *corm_capture_check(corm_capture *c, uint64_t n, bool at_most, const char *file,
                               int line)
{
    static const char nomem[] = "query-count assertion: out of memory starting the capture";
    if (!c) return nomem;
    corm_capture_end(c);
    bool ok = at_most ? c->count <= n : c->count == n;
    if (ok) return NULL;
    /* the listing first (it reuses the report buffer), then the header */
    corm_buf msg;
    corm__buf_init(&msg);
    corm__buf_addf(&msg, "%s:%d: %llu queries executed, %s%llu expected.\nCaptured queries were:\n",
                   file ? file : "?", line, (unsigned long long)c->count, at_most ? "at most " : "",
                   (unsigned long long)n);
    corm__buf_adds(&msg, corm_capture_report(c));
    corm__buf_reset(&c->report);
    if (!msg.oom) corm__buf_add(&c->report, msg.p, msg.len);
    else c->report.oom = true;
    corm__buf_free(&msg);
    return c->report.oom ? nomem : corm__buf_cstr(&c->report);
}

void corm_assert_fail(const char *msg, const char *file, int line)
{
    fprintf(stderr, "%s\n", msg ? msg : "query-count assertion failed");
    (void)file;
    (void)line;
    fflush(stderr);
    abort();
}
