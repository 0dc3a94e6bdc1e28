/*
** detect.c - the N+1 detector of one capture.
**
** Every statement joins a group: same kind, fingerprint, call site and
** origin, and for lazy loads the same parent result.  When the capture
** ends, a group of lazy loads is a finding only if it has at least
** min_count statements (2) and its parents come from one multi-row result:
** objects loaded singly (get, first) never count, and a lazy access that
** ran no query (a NULL key, a cached or eagerly loaded relation) never made
** a statement to count.  That is what keeps false positives out (the rule
** of nplusone, Bullet and Sentry's detector: same origin, same parent
** list, repeated).  Findings of one site and relation from several parent
** results merge, so a nested loop is one finding with its total count.
**
** Statements that are not lazy loads make the "similar" family: the same
** fingerprint from one site with different values (lookups by id, writes,
** other querysets in a loop), and duplicates (same SQL and values).  Those
** are judged in explicit captures only (a request, a test), where "one
** site ran it N times" means something.
*/
#include "instr_int.h"

#include <ctype.h>

#include <string.h>

struct corm__group {
    uint64_t key;
    corm_origin_kind kind;
    uint64_t fp, phash;
    corm_site site, built;
    const char *origin, *model, *relation, *path, *sql;
    const char *target, *rev;
    bool many, varied, prefetched;
    uint64_t parent;
    size_t parent_n;
    int nparams;
    uint64_t count;
    double ms;
    struct corm__group *next;
};

struct corm__dup {
    uint64_t key, phash;
    corm_origin_kind kind;
    corm_site site, built, other; /* the first site, and another one */
    const char *sql, *model;
    uint64_t count;
    double ms;
    struct corm__dup *next;
};

const char *corm__site_str(corm_site s, char *buf, size_t size)
{
    if (!s.file) corm__strlcpy(buf, "?", size);
    else snprintf(buf, size, "%s:%d", s.file, s.line);
    return buf;
}

/* Keys of groups and duplicates (in memory only): a word at a time. */
static uint64_t hnum(uint64_t v, uint64_t h)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

static uint64_t hstr(const char *s, uint64_t h)
{
    return hnum(s ? corm__hash_fast(s, strlen(s)) : 1, h);
}

static uint64_t params_hash(const corm_event *ev)
{
    uint64_t h = CORM__FNV64;
    for (int i = 0; ev->params && i < ev->nparams; i++) {
        const corm_value *v = &ev->params[i];
        h = hnum((uint64_t)v->type, h);
        switch (v->type) {
        case CORM_V_INT: h = hnum((uint64_t)v->u.i, h); break;
        case CORM_V_BOOL: h = hnum(v->u.b, h); break;
        case CORM_V_FLOAT: h = hnum(corm__hash_fast(&v->u.f, sizeof v->u.f), h); break;
        case CORM_V_DECIMAL:
            h = hnum((uint64_t)v->u.d.units * 31 + (uint64_t)v->u.d.scale, h);
            break;
        case CORM_V_TEXT:
        case CORM_V_BLOB: {
            size_t n = v->u.s.n == (size_t)-1 ? strlen(v->u.s.p) : v->u.s.n;
            h = hnum(corm__hash_fast(v->u.s.p, n), h);
            break;
        }
        default: break;
        }
    }
    return h;
}

static bool same_site(corm_site a, corm_site b)
{
    if (a.line != b.line) return false;
    if (a.file == b.file) return true;
    return a.file && b.file && strcmp(a.file, b.file) == 0;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static char *dup_str(corm_capture *c, const char *s)
{
    return s ? corm__arena_strdup(&c->arena, s) : NULL;
}

/* Statements the detector leaves alone. */
static bool ignored(corm_origin_kind k)
{
    const unsigned none = 1u << CORM_ORIGIN_OTHER | 1u << CORM_ORIGIN_EXEC |
                          1u << CORM_ORIGIN_TRANSACTION | 1u << CORM_ORIGIN_MIGRATE |
                          1u << CORM_ORIGIN_SNAPSHOT | 1u << CORM_ORIGIN_EXPLAIN;
    return (unsigned)k < 32 && (none >> (unsigned)k & 1u);
}

static inline bool lazy_with_parent(const corm_event *ev)
{
    return corm__kind_is_lazy(ev->kind) && ev->parent_batch != 0;
}

static uint64_t group_key(const corm_event *ev)
{
    uint64_t h = hnum((uint64_t)ev->kind, CORM__FNV64);
    h = hnum(ev->fingerprint, h);
    h = hstr(ev->site.file, h);
    h = hnum((uint64_t)ev->site.line, h);
    h = hstr(ev->origin, h);
    h = hnum(lazy_with_parent(ev) ? ev->parent_batch : 0, h);
    return h;
}

/* origin: ev->origin interned, or NULL (a group's origin is interned too:
** the same text is the same address) */
static inline __attribute__((always_inline)) bool group_is(const corm__group *g,
                                                           const corm_event *ev, const char *origin)
{
    return g->kind == ev->kind && g->fp == ev->fingerprint && g->site.line == ev->site.line &&
           (g->site.file == ev->site.file || same_site(g->site, ev->site)) &&
           (origin ? g->origin == origin : same_str(g->origin, ev->origin)) &&
           g->parent == (lazy_with_parent(ev) ? ev->parent_batch : 0);
}

/* The group found last for a call site's line (a loop's statements come
** from a few lines): tried before hashing the key. */
static corm__group **recent_of(corm_capture *c, int line)
{
    return &c->recent[(unsigned)line % CORM__ARRAY_LEN(c->recent)];
}

static void recent_group(corm_capture *c, corm__group *g) { *recent_of(c, g->site.line) = g; }

/* The group of ev when it is not the one found last for its line. */
static corm__group *find_group_hashed(corm_capture *c, const corm_event *ev, const char *origin,
                                      uint64_t *slot)
{
    uint64_t k = group_key(ev);
    for (;; k++) {
        void **v = corm__map_get(&c->groups, (int64_t)k);
        if (!v) break;
        corm__group *g = *v;
        if (group_is(g, ev, origin)) {
            *slot = k;
            recent_group(c, g);
            return g;
        }
    }
    *slot = k;
    return NULL;
}

static inline __attribute__((always_inline)) corm__group *find_group(corm_capture *c,
                                                                     const corm_event *ev,
                                                                     const char *origin,
                                                                     uint64_t *slot)
{
    corm__group *last = *recent_of(c, ev->site.line);
    if (last && group_is(last, ev, origin)) {
        *slot = last->key;
        return last;
    }
    return find_group_hashed(c, ev, origin, slot);
}

bool corm__detect_would_repeat(corm_capture *c, const corm_event *ev)
{
    uint64_t slot;
    const corm__group *g = find_group(c, ev, NULL, &slot);
    unsigned min = c->in->min_count ? c->in->min_count : 2;
    return g && g->count + 1 >= min;
}

void corm__detect_event(corm_capture *c, const corm_event *ev, const corm__relreg *reg,
                        const corm__seen *seen)
{
    if (ignored(ev->kind)) return;
    /* prefetch levels of an evaluation are eager: only per-object
    ** prefetches (corm_prefetch_objects, with a known parent) can repeat */
    if (ev->kind == CORM_ORIGIN_PREFETCH && !ev->parent_batch) return;
    if (ev->auto_load) return;
    /* the batches of one bulk write are its own statements, not a loop of
    ** writes (and an executemany's event carries no values to compare) */
    if (ev->origin && ev->origin[0] == 'b' && strncmp(ev->origin, "bulk_", 5) == 0) return;
    uint64_t slot;
    corm__group *g = find_group(c, ev, seen->origin, &slot);
    /* the values matter only to the similar family and duplicates: not
    ** lazy loads (whose findings count statements), and only in explicit
    ** captures (corm__detect_finish judges them nowhere else) */
    bool values = !c->root && !corm__kind_is_lazy(ev->kind);
    uint64_t ph = values ? params_hash(ev) : 0;
    if (!g) {
        g = corm__arena_zalloc(&c->arena, sizeof *g);
        if (!g) return;
        g->key = slot;
        g->kind = ev->kind;
        g->fp = ev->fingerprint;
        g->site = ev->site;
        g->built = reg ? reg->tag.built : ev->built;
        /* interned: a later statement's interned origin (a lazy load's)
        ** is found equal by its address */
        g->origin = ev->origin ? corm__instr_intern(c->in, ev->origin, strlen(ev->origin)) : NULL;
        g->model = ev->model; /* interned: lives as long as the db */
        g->relation = ev->relation;
        g->path = dup_str(c, ev->path);
        g->sql = dup_str(c, ev->sql);
        g->many = ev->path_many;
        g->parent = lazy_with_parent(ev) ? ev->parent_batch : 0;
        g->parent_n = ev->parent_nobjs;
        g->nparams = ev->nparams;
        g->phash = ph;
        if (reg) {
            g->prefetched = reg->prefetched;
            g->target = reg->target;
            g->rev = reg->rev;
        }
        if (!corm__map_put(&c->groups, (int64_t)slot, g)) return;
        g->next = c->group_list;
        c->group_list = g;
        c->ngroups++;
        recent_group(c, g);
    }
    g->count++;
    g->ms += ev->ms;
    if (!values) return;
    if (ph != g->phash) g->varied = true;
    /* duplicates: the same SQL and values, from any site (as Django Debug
    ** Toolbar's "duplicated"): the statement ran for nothing */
    uint64_t k = seen->text_hash ? hnum(seen->text_hash, CORM__FNV64) : hstr(ev->sql, CORM__FNV64);
    k = hnum(ph, k);
    for (;; k++) {
        void **v = corm__map_get(&c->dups, (int64_t)k);
        if (!v) break;
        corm__dup *d = *v;
        if (d->phash == ph && same_str(d->sql, ev->sql)) {
            d->count++;
            d->ms += ev->ms;
            if (!same_site(d->site, ev->site) && !d->other.file) d->other = ev->site;
            return;
        }
    }
    corm__dup *d = corm__arena_zalloc(&c->arena, sizeof *d);
    if (!d) return;
    d->key = k;
    d->phash = ph;
    d->kind = ev->kind;
    d->site = ev->site;
    d->built = ev->built;
    d->sql = dup_str(c, ev->sql);
    d->model = ev->model;
    d->count = 1;
    d->ms = ev->ms;
    if (!corm__map_put(&c->dups, (int64_t)k, d)) return;
    d->next = c->dup_list;
    c->dup_list = d;
    c->ndups++;
}

/* ------------------------------------------------------------ findings */

static uint64_t finding_key(corm_finding_kind kind, const corm_event *ev)
{
    uint64_t h = hnum((uint64_t)kind, CORM__FNV64);
    h = hstr(ev->site.file, h);
    h = hnum((uint64_t)ev->site.line, h);
    h = hstr(ev->model, h);
    h = hstr(ev->relation, h);
    h = hstr(ev->built.file, h);
    h = hnum((uint64_t)ev->built.line, h);
    h = hstr(ev->path, h);
    h = hnum((uint64_t)ev->kind, h);
    /* one finding per statement shape: two filtered counts of one
    ** relation on one line are two fixes (auto findings have none) */
    return hnum(ev->fingerprint, h);
}

corm__finding *corm__detect_add(corm_capture *c, corm_finding_kind kind, const corm_event *ev,
                                uint64_t count, double ms)
{
    uint64_t key = finding_key(kind, ev);
    for (size_t i = 0; i < c->nfindings; i++) {
        corm__finding *f = &c->findings[i];
        if (f->key == key && f->f.kind == kind) {
            f->f.count += count;
            f->f.ms += ms;
            f->fresh = false;
            f->nresults++;
            if (ev->parent_nobjs > f->parent_n) f->parent_n = ev->parent_nobjs;
            return f;
        }
    }
    if (c->nfindings == c->capfindings) {
        size_t cap = c->capfindings ? c->capfindings * 2 : 8;
        corm__finding *p = corm__arena_alloc(&c->arena, cap * sizeof *p);
        if (!p) return NULL;
        if (c->nfindings) memcpy(p, c->findings, c->nfindings * sizeof *p);
        c->findings = p;
        c->capfindings = cap;
    }
    corm__finding *f = &c->findings[c->nfindings++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->fresh = true;
    f->okind = ev->kind;
    f->path = dup_str(c, ev->path ? ev->path : "");
    f->many = ev->path_many;
    f->nparams = ev->nparams;
    f->parent_n = ev->parent_nobjs;
    f->nresults = 1;
    f->f.kind = kind;
    f->f.model = dup_str(c, ev->model);
    f->f.relation = dup_str(c, ev->relation);
    f->f.count = count;
    f->f.ms = ms;
    f->f.site = ev->site;
    f->f.built = ev->built;
    f->f.sql = dup_str(c, ev->sql);
    f->f.scope = c->root ? NULL : c->name;
    return f;
}

static const char *join(corm_buf *b, const char *path, const char *rel)
{
    corm__buf_reset(b);
    if (path && *path) {
        corm__buf_adds(b, path);
        if (rel && *rel) corm__buf_adds(b, "__");
    }
    if (rel) corm__buf_adds(b, rel);
    return corm__buf_cstr(b);
}

/* " at views.c:30" for the queryset, or where it is not known. */
static void at_built(corm_buf *b, corm_site built)
{
    char s[300];
    if (built.file) corm__buf_addf(b, " at %s", corm__site_str(built, s, sizeof s));
    else corm__buf_adds(b, " on the queryset the objects came from");
}

void corm__detect_fix(corm_capture *c, corm__finding *f)
{
    corm_finding *F = &f->f;
    corm_buf fix, msg, pb;
    corm__buf_init(&fix);
    corm__buf_init(&msg);
    corm__buf_init(&pb);
    char site[300], built[300];
    corm__site_str(F->site, site, sizeof site);
    corm__site_str(F->built, built, sizeof built);
    const char *model = F->model ? F->model : "?";
    const char *rel = F->relation ? F->relation : "?";
    const char *target = f->target ? f->target : "Model";
    const char *P = join(&pb, f->path, F->relation);
    bool top = !f->path || !*f->path;
    unsigned long long n = (unsigned long long)F->count;

    switch (F->kind) {
    case CORM_FINDING_N_PLUS_ONE:
        if (f->okind == CORM_ORIGIN_DEFERRED) {
            corm__buf_addf(&fix,
                           "load \"%s\" with the objects: add it to corm_only(qs, ...) "
                           "or drop it from corm_defer(qs, ...)",
                           P);
            at_built(&fix, F->built);
            corm__buf_addf(&msg, "%s.%s was deferred (only/defer) and loaded one object at a time",
                           model, rel);
        } else if (f->okind == CORM_ORIGIN_SET_FILTER) {
            corm__buf_addf(&fix,
                           "corm_qs *inner = corm_all(db, %s); /* the loop's filters */ "
                           "corm_prefetch(qs, \"%s\", inner, \"filtered_%s\")",
                           target, P, rel);
            at_built(&fix, F->built);
            corm__buf_addf(&fix, "; then read corm_attr(obj, \"filtered_%s\")", rel);
            corm__buf_addf(&msg, "a filtered %s.%s queryset was evaluated for each object", model,
                           rel);
        } else if (f->okind == CORM_ORIGIN_SET) {
            corm__buf_addf(&fix, "corm_prefetch_related(qs, \"%s\")", P);
            at_built(&fix, F->built);
            corm__buf_addf(&msg, "%s.%s (a related set) loaded one object at a time", model, rel);
        } else {
            corm__buf_addf(&fix,
                           f->many ? "corm_prefetch_related(qs, \"%s\")"
                                   : "corm_select_related(qs, \"%s\")",
                           P);
            at_built(&fix, F->built);
            corm__buf_addf(&msg, "%s.%s loaded one object at a time", model, rel);
        }
        if (F->auto_loaded && f->learned) {
            corm__buf_reset(&msg);
            corm__buf_addf(&msg,
                           "auto mode loaded %s.%s up front for %llu objects of the queryset "
                           "built at %s, as an earlier run needed it (make it explicit)",
                           model, rel, n, built);
        } else if (F->auto_loaded) {
            corm__buf_reset(&msg);
            corm__buf_addf(&msg,
                           "%s.%s was about to be loaded one object at a time at %s; auto "
                           "mode loaded it for %llu objects in one query (make it explicit)",
                           model, rel, site, n);
        } else if (F->blocked) corm__buf_addf(&msg, "; strict mode refused the query at %s", site);
        else if (f->nresults > 1)
            corm__buf_addf(&msg,
                           ": %llu queries at %s for the objects of %zu results (up to %zu "
                           "objects each)",
                           n, site, f->nresults, f->parent_n);
        else
            corm__buf_addf(&msg, ": %llu queries at %s for the objects of one %zu-object result", n,
                           site, f->parent_n);
        break;
    case CORM_FINDING_FILTER_AFTER_PREFETCH:
        corm__buf_addf(&fix,
                       "replace the prefetch of \"%s\" with corm_qs *inner = corm_all(db, %s); "
                       "/* the loop's filters */ corm_prefetch(qs, \"%s\", inner, \"filtered_%s\")",
                       P, target, P, rel);
        at_built(&fix, F->built);
        corm__buf_addf(&fix, "; then read corm_attr(obj, \"filtered_%s\")", rel);
        corm__buf_addf(&msg,
                       "%s.%s was prefetched, then filtered per object: %llu queries at %s "
                       "and the prefetch is wasted",
                       model, rel, n, site);
        break;
    case CORM_FINDING_COUNT_IN_LOOP:
        if (top && f->nparams <= 1) {
            corm__buf_addf(&fix, "corm_annotate(qs, \"%s_count\", corm_Count(qs, \"%s\", false))",
                           rel, rel);
            at_built(&fix, F->built);
            corm__buf_addf(&fix, "; then read corm_annotation(obj, \"%s_count\")", rel);
        } else {
            corm__buf_addf(&fix,
                           "corm_qs *inner = corm_all(db, %s); /* the loop's filters */ "
                           "corm_prefetch(qs, \"%s\", inner, \"filtered_%s\")",
                           target, P, rel);
            at_built(&fix, F->built);
            corm__buf_addf(&fix, "; then count corm_attr(obj, \"filtered_%s\")->n", rel);
        }
        corm__buf_addf(&msg, "count() of %s.%s for each object: %llu queries at %s", model, rel, n,
                       site);
        break;
    case CORM_FINDING_EXISTS_IN_LOOP:
        if (top && f->nparams <= 1) {
            corm__buf_addf(&fix,
                           "corm_qs *in = corm_all(db, %s); corm_filter_expr(in, \"%s\", "
                           "corm_OuterRef(in, \"pk\")); corm_annotate(qs, \"has_%s\", "
                           "corm_Exists(qs, in))",
                           target, f->rev ? f->rev : "?", rel);
            at_built(&fix, F->built);
            corm__buf_addf(&fix, "; then read corm_annotation(obj, \"has_%s\")", rel);
        } else {
            corm__buf_addf(&fix,
                           "corm_qs *inner = corm_all(db, %s); /* the loop's filters */ "
                           "corm_prefetch(qs, \"%s\", inner, \"filtered_%s\")",
                           target, P, rel);
            at_built(&fix, F->built);
            corm__buf_addf(&fix, "; then test corm_attr(obj, \"filtered_%s\")->n", rel);
        }
        corm__buf_addf(&msg, "exists() of %s.%s for each object: %llu queries at %s", model, rel, n,
                       site);
        break;
    case CORM_FINDING_PREFETCH_IN_LOOP:
        corm__buf_addf(&fix, "corm_prefetch_related(qs, \"%s\")", P);
        at_built(&fix, F->built);
        corm__buf_addf(&fix,
                       " (or one corm_prefetch_objects(db, objs, n, \"%s\") for every object, "
                       "before the loop)",
                       rel);
        corm__buf_addf(&msg, "%s.%s prefetched one object at a time: %llu queries at %s", model,
                       rel, n, site);
        break;
    case CORM_FINDING_LOOKUP_IN_LOOP:
        corm__buf_addf(
            &fix,
            "one query for all the ids before the loop: corm_qs *qs = corm_all(db, %s); "
            "corm_filter(qs, \"pk__in\", corm_ints(ids, n)); then match the objects by id",
            model);
        corm__buf_addf(&msg, "%s looked up by id one at a time: %llu queries at %s", model, n,
                       site);
        break;
    case CORM_FINDING_WRITE_IN_LOOP:
        if (f->okind == CORM_ORIGIN_INSERT && F->relation) {
            /* many-to-many links (their origin names the relation) */
            corm__buf_adds(&fix, "add the links in one statement: corm_m2m_add_objs(db, obj, ");
            for (const char *p = model; *p; p++)
                corm__buf_addc(&fix, (char)toupper((unsigned char)*p));
            corm__buf_adds(&fix, "_REL_");
            for (const char *p = rel; *p; p++)
                corm__buf_addc(&fix, (char)toupper((unsigned char)*p));
            corm__buf_adds(&fix, ", objs, n) (or corm_m2m_add_ids with their ids)");
        } else if (f->okind == CORM_ORIGIN_INSERT)
            corm__buf_addf(&fix, "collect the objects and write them at once: "
                                 "corm_bulk_create(db, objs, n, NULL)");
        else if (f->okind == CORM_ORIGIN_UPDATE)
            corm__buf_addf(&fix,
                           "corm_bulk_update(db, objs, n, \"field\", ...) for the changed "
                           "fields (or one corm_update(qs, CORM_SET(...)) when every row gets the "
                           "same values)");
        else
            corm__buf_addf(&fix, "one corm_qs_delete(qs) of a %s queryset filtered on \"pk__in\"",
                           model);
        corm__buf_addf(&msg, "%s %s one row at a time: %llu statements at %s", model,
                       corm_origin_kind_name(f->okind), n, site);
        break;
    case CORM_FINDING_UNUSED_EAGER:
        corm__buf_addf(&fix, "remove \"%s\" from %s(qs, ...)", P,
                       f->okind == CORM_ORIGIN_PREFETCH ? "corm_prefetch_related"
                                                        : "corm_select_related");
        at_built(&fix, F->built);
        corm__buf_addf(&msg,
                       "%s.%s was loaded eagerly (%s) for %llu objects and never read before "
                       "the scope ended",
                       model, rel,
                       f->okind == CORM_ORIGIN_PREFETCH ? "prefetch_related" : "select_related", n);
        break;
    case CORM_FINDING_LATE_EAGER: {
        /* rel is the call, f->path the relation path it was given */
        const char *given = top ? "?" : f->path;
        corm__buf_addf(&fix,
                       "call %s(qs, \"%s\") before the queryset is evaluated (before "
                       "corm_foreach, corm_eval, corm_count or corm_get)",
                       rel, given);
        if (F->built.file) corm__buf_addf(&fix, ", right after it is built at %s", built);
        corm__buf_addf(&msg,
                       "%s(\"%s\") at %s came after the %s queryset was evaluated: it did "
                       "nothing",
                       rel, given, site, model);
        break;
    }
    case CORM_FINDING_DUPLICATE: {
        char other[300];
        if (f->other.file) {
            corm__site_str(f->other, other, sizeof other);
            corm__buf_addf(&fix,
                           "run it once and reuse the result (keep the evaluated queryset or "
                           "its objects) instead of running it again at %s",
                           other);
            corm__buf_addf(&msg,
                           "the same statement with the same values ran %llu times, at %s "
                           "and at %s",
                           n, site, other);
        } else {
            corm__buf_addf(&fix,
                           "run it once and reuse the result (keep the evaluated queryset or "
                           "its objects) instead of running it again at %s",
                           site);
            corm__buf_addf(&msg, "the same statement with the same values ran %llu times at %s", n,
                           site);
        }
        break;
    }
    case CORM_FINDING_SIMILAR:
        corm__buf_addf(&fix,
                       "make it one statement: an \"in\" filter over the values, or eager "
                       "loading on the queryset that drives the loop at %s",
                       site);
        corm__buf_addf(&msg, "%llu statements differing only in their values ran at %s", n, site);
        break;
    case CORM_FINDING_OVER_BUDGET:
        corm__buf_addf(&fix,
                       "fix the other findings of '%s' (or raise its budget with "
                       "corm_capture_budget at %s)",
                       model, site);
        corm__buf_addf(&msg, "capture '%s' ran %llu statements in %.3f ms, over its budget (",
                       model, n, F->ms);
        if (c->budget_q) corm__buf_addf(&msg, "%llu statements", (unsigned long long)c->budget_q);
        if (c->budget_q && c->budget_ms > 0) corm__buf_adds(&msg, ", ");
        if (c->budget_ms > 0) corm__buf_addf(&msg, "%.3f ms", c->budget_ms);
        corm__buf_adds(&msg, ")");
        break;
    }
    F->fix = fix.len ? dup_str(c, corm__buf_cstr(&fix)) : NULL;
    F->message = msg.len ? dup_str(c, corm__buf_cstr(&msg)) : NULL;
    corm__buf_free(&fix);
    corm__buf_free(&msg);
    corm__buf_free(&pb);
}

corm_finding_kind corm__detect_lazy_kind(corm_origin_kind k, bool prefetched)
{
    switch (k) {
    case CORM_ORIGIN_SET_FILTER:
        return prefetched ? CORM_FINDING_FILTER_AFTER_PREFETCH : CORM_FINDING_N_PLUS_ONE;
    case CORM_ORIGIN_SET_COUNT: return CORM_FINDING_COUNT_IN_LOOP;
    case CORM_ORIGIN_SET_EXISTS: return CORM_FINDING_EXISTS_IN_LOOP;
    case CORM_ORIGIN_PREFETCH: return CORM_FINDING_PREFETCH_IN_LOOP;
    default: return CORM_FINDING_N_PLUS_ONE;
    }
}

static void group_event(const corm__group *g, corm_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = g->kind;
    ev->fingerprint = g->fp;
    ev->site = g->site;
    ev->built = g->built;
    ev->origin = g->origin;
    ev->model = g->model;
    ev->relation = g->relation;
    ev->path = g->path;
    ev->path_many = g->many;
    ev->sql = g->sql;
    ev->nparams = g->nparams;
    ev->parent_batch = g->parent;
    ev->parent_nobjs = g->parent_n;
}

void corm__detect_finish(corm_capture *c)
{
    corm_instr *in = c->in;
    unsigned min = in->min_count ? in->min_count : 2;
    /* the list is newest first: walk it oldest first for a stable order */
    size_t n = c->ngroups;
    corm__group **v = n ? corm__arena_alloc(&c->arena, n * sizeof *v) : NULL;
    size_t i = n;
    for (corm__group *g = c->group_list; g && v && i > 0; g = g->next) v[--i] = g;
    for (i = 0; v && i < n; i++) {
        const corm__group *g = v[i];
        if (g->count < min || g->ms < in->min_ms) continue;
        int kind = -1;
        if (corm__kind_is_lazy(g->kind)) {
            if (!g->parent || g->parent_n < 2) continue; /* objects loaded singly */
            kind = (int)corm__detect_lazy_kind(g->kind, g->prefetched);
        } else if (c->root) {
            continue; /* the similar family: explicit captures only */
        } else if (g->kind == CORM_ORIGIN_LOOKUP) {
            if (g->varied) kind = CORM_FINDING_LOOKUP_IN_LOOP;
        } else if (g->kind == CORM_ORIGIN_INSERT || g->kind == CORM_ORIGIN_UPDATE ||
                   g->kind == CORM_ORIGIN_DELETE) {
            if (g->varied) kind = CORM_FINDING_WRITE_IN_LOOP;
        } else if (g->varied) {
            kind = CORM_FINDING_SIMILAR;
        }
        if (kind < 0) continue;
        corm_event ev;
        group_event(g, &ev);
        corm__finding *f = corm__detect_add(c, (corm_finding_kind)kind, &ev, g->count, g->ms);
        if (!f) continue;
        if (f->fresh) {
            f->target = g->target;
            f->rev = g->rev;
            corm__detect_fix(c, f);
        } else if (f->f.fix) {
            corm__detect_fix(c, f); /* the count changed: say it */
        }
    }
    if (c->root) return;
    size_t nd = c->ndups;
    corm__dup **dv = nd ? corm__arena_alloc(&c->arena, nd * sizeof *dv) : NULL;
    i = nd;
    for (corm__dup *d = c->dup_list; d && dv && i > 0; d = d->next) dv[--i] = d;
    for (i = 0; dv && i < nd; i++) {
        const corm__dup *d = dv[i];
        if (d->count < 2) continue;
        corm_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = d->kind;
        ev.site = d->site;
        ev.built = d->built;
        ev.sql = d->sql;
        ev.model = d->model;
        ev.fingerprint = d->key;
        corm__finding *f = corm__detect_add(c, CORM_FINDING_DUPLICATE, &ev, d->count, d->ms);
        if (!f) continue;
        f->other = d->other;
        corm__detect_fix(c, f);
    }
}

void corm__detect_free(corm_capture *c)
{
    corm__map_free(&c->groups);
    corm__map_free(&c->dups);
    c->group_list = NULL;
    memset(c->recent, 0, sizeof c->recent);
    c->dup_list = NULL;
    c->ngroups = c->ndups = 0;
}
