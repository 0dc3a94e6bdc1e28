/*
** qs_int.h - querysets: the lazy builder, evaluation (through src/fetch),
** lazy accessors, values/annotations, raw SQL, the iterator and routing.
**
** Memory: a queryset has two arenas.  `build` holds what the builder was
** given (lookups, values, Q nodes), `result` the evaluated objects, their
** strings, joined objects and everything lazily loaded from them later
** (the batch points at it), so corm_qs_free releases all of it at once.
*/
#ifndef CORM_QS_INT_H
#define CORM_QS_INT_H

#include "../fetch/fetch_int.h"

struct corm_qs {
    corm_db *db; /* where it runs: home, or where routing sent it */
    corm_site built;
    corm_arena build;
    corm_arena result;
    /* corm__qs_new writes the four members above and zeroes from here to
    ** err */
    corm_db *home;     /* the db it was made on (route.c); NULL until routed */
    const char *using; /* corm_using alias, in build; NULL: the router decides */
    bool pinned;       /* runs on db whatever the router says (a related
                       ** queryset of objects from an attached database) */
    corm__query q;
    bool evaluated;
    void **items;
    size_t n;
    corm_buf sqltext;
    corm__pf_lookup *pf;
    int npf;
    int late_eager;         /* eager loads asked after evaluation (no-ops) */
    corm__rows rows;        /* values()/aggregate()/raw rows results */
    struct corm_qs **owned; /* querysets it took (Subquery, Exists) */
    int nowned;
    const char *raw_sql; /* corm_raw / corm_sql: the statement as given */
    corm_value *raw_params;
    int nraw_params;
    bool raw_rows; /* corm_sql: rows, not objects */
    corm_buf explain;
    corm_value *sql_params; /* the parameters of corm_qs_sql's text */
    int nsql_params;
    struct corm__bulk *bulk; /* corm_in_bulk's map (in_bulk.c), in result */
    /* a related queryset made while its relation was cached on the object
    ** (prefetched or loaded): it answers from that set until a builder
    ** call changes it (related.c) */
    struct corm__relcache *cached;
    /* a related queryset's object (Django's known related objects): the
    ** objects it loads get it as their back-reference (related.c) */
    struct corm__relcache *known;
    int64_t cache_ms; /* corm_qs_cache: how long (cached.c); 0: not cached */
    size_t inl_used;  /* bytes of inl taken */
    corm_error err;   /* corm_qs_new zeroes what is above it (from home)
                               ** and only clears this (2.7 KB of text) */
    /* the first corm_filter calls' nodes and lookups (qs.c): a queryset
    ** built for one call in a loop takes no block for its build arena.
    ** Not cleared (inl_used says what is taken); lives as the queryset. */
    _Alignas(16) unsigned char inl[384];
};

/*
** The entry rule for calls that run statements through a queryset
** (evaluation, count, get, update, delete...; corm.h, "Errors"): such a
** call is a call on the db the queryset was made on too.  CORM__QS_ENTER,
** the first line of each, clears that db's error (as CORM__DB_ENTER does,
** db_int.h) and, when the call returns, leaves the db's error saying what
** the queryset's says: the call's error (its statements' errors are moved
** to the queryset, so an attached database that ran them keeps none), or
** CORM_OK.  (GCC/Clang's cleanup attribute: one line, every return.)
*/
static inline void corm__qs_enter(corm_qs *qs)
{
    if (qs) corm__db_enter(qs->home ? qs->home : qs->db);
}
static inline void corm__qs_leave(corm_qs *const *qsp)
{
    corm_qs *qs = *qsp;
    corm_db *home = qs ? (qs->home ? qs->home : qs->db) : NULL;
    if (!home) return;
    if (qs->err.rc != CORM_OK) corm__err_copy(&home->err, &qs->err);
    else if (home->err.rc != CORM_OK) corm__err_clear(&home->err);
}
#define CORM__QS_ENTER(qs) \
    corm__qs_enter(qs);    \
    corm_qs *const corm__qs_call __attribute__((cleanup(corm__qs_leave))) = (qs)

/* An accessor's error (related.c): on the handle h's queryset was made on
** (corm_batch.home); for an object corm did not load (h NULL, or without
** a batch), the failure hook, with e formatted and the site's file:line. */
CORM__COLD void corm__obj_report(const corm_obj *h, corm_site site, corm_error *e);

/* Tell the instrumentation that the next statement lazily loads `what` (a
** relation, or a deferred field) of obj, kind CORM_ORIGIN_FK / SET /
** DEFERRED: its parent result, path and queryset go to the event (and
** strict mode can refuse it).  Runs no query. */
void corm__lazy_note(void *obj, corm_origin_kind kind, const char *what);

/* A prefetch lookup for fetch: path, to_attr and inner (NULL, or the
** Prefetch queryset, which the lookup then owns) described. */
corm__pf_lookup corm__pf_describe(const char *path, corm_qs *inner, const char *to_attr);

/* corm_qs_new_at without the entry rule: for querysets the library makes
** inside another call (clone, related querysets, auto mode). */
corm_qs *corm__qs_new(corm_db *db, const corm_model *model, corm_site site);
/* Apply the model's default eager loads (corm_all and related sets). */
void corm__qs_default_eager(corm_qs *qs);

/* Point qs->db at the database this evaluation runs on (corm_using, the
** router; route.c).  False with the error on qs for an unknown alias.
** Called by every evaluation entry point and builder call; an evaluated
** qs stays put.  Inline for the common case - no alias and no router on
** the db it was made on: its home - and corm__qs_route_by otherwise. */
bool corm__qs_route_by(corm_qs *qs);
static inline bool corm__qs_route(corm_qs *qs)
{
    if (qs->evaluated || !qs->db || (qs->pinned && !qs->using)) return true;
    corm_db *home = qs->home ? qs->home : qs->db;
    if (qs->using || home->router) return corm__qs_route_by(qs);
    qs->home = home; /* corm__db_route's answer, without the call */
    qs->db = home;
    return true;
}

/* A related queryset over a cached set (corm_related_qs_at): whether qs
** answers from it (not changed since), and then the set's size, or
** evaluate qs from it (0 queries, the cached objects).  Any builder call
** drops the cache first (corm__qs_uncache), as Django's related manager
** .filter() queries again. */
static inline bool corm__qs_cached(const corm_qs *qs) { return qs->cached && !qs->evaluated; }
size_t corm__qs_cached_n(corm_qs *qs);
void corm__qs_adopt_cache(corm_qs *qs);
/* Django's first() on a prefetched set: when the cached set is ordered,
** its first object (NULL: none) from the cache, true; false when it is
** not (first() orders by pk: a query). */
bool corm__qs_cached_first(corm_qs *qs, void **first);
static inline void corm__qs_uncache(corm_qs *qs) { qs->cached = NULL; }
/* The objects a related queryset loaded (n of them) know the object it was
** made from, as Django's related manager's querysets set it on every
** object they return (a to-one inverse only; not over a cached one). */
void corm__qs_known(const corm_qs *qs, void **items, size_t n);

/* Django's "to_attr=X conflicts with a field on the M model": false, with
** the error on qs, when to_attr names a field or relation of the model
** whose objects the lookup path's last relation hangs from (related.c). */
bool corm__to_attr_free(corm_qs *qs, const char *path, const char *to_attr);

/* Clone support (shape.c): deep copies of expressions (subqueries are
** cloned and taken by dst) and of values/only/annotations. */
corm_q *corm__q_copy(corm_qs *dst, const corm_qs *src, const corm_q *q);
corm_expr *corm__expr_copy(corm_qs *dst, const corm_qs *src, const corm_expr *e);
corm_rc corm__clone_shape(corm_qs *dst, const corm_qs *src);

/* A cached queryset's evaluation (cached.c): its statements go through
** the cache of qs->db from begin to end.  begin returns false, with the
** error on qs, when qs->db has no cache; *was gets what end restores. */
bool corm__qs_cache_begin(corm_qs *qs, bool *was);
void corm__qs_cache_end(corm_qs *qs, bool was);

/* Evaluate a corm_raw / corm_sql queryset (raw.c). */
/* Django's rule: no filter, reordering or distinct once a slice was taken
** (LIMIT/OFFSET apply last).  False, with the error on qs, when qs is
** sliced; `what` names the call ("corm_filter"), `verb` what it would do. */
bool corm__qs_unsliced(corm_qs *qs, const char *what, const char *verb);
corm_rc corm__eval_raw(corm_qs *qs, corm_site site);
/* corm_qs_sql of a corm_raw / corm_sql queryset: its SQL as the database
** runs it (placeholders translated), its parameters as given. */
const char *corm__raw_sql(corm_qs *qs);

#endif
