/*
** qs_int.h - querysets: the lazy builder, evaluation, hydration of rows
** into generated structs, lazy accessors and single-object writes.
**
** Memory: a queryset has two arenas.  `build` holds what the builder was
** given (lookups, values, Q nodes), `result` the evaluated objects, their
** strings, joined objects and everything lazily loaded from them later
** (the batch points at it), so corm_qs_free releases all of it at once.
*/
#ifndef CORM_QS_INT_H
#define CORM_QS_INT_H

#include "../backend/db_int.h"
#include "../sql/sql_int.h"
#include "../instr/instr_int.h"

/* A to_attr list per object of a batch, by attribute name. */
typedef struct corm__attr {
    const char *name;
    corm_map map;              /* (intptr_t)obj -> corm_list * */
    struct corm__attr *next;
} corm__attr;

/* One evaluated result: the objects of one query and where they live. */
typedef struct corm_batch {
    corm_db *db;
    corm_arena *arena;
    const corm_model *model;
    size_t nobjs;
    corm__attr *attrs;
    const corm__annot *annots; /* names of the objects' annots values */
    int nannots;
    /* What the N+1 tooling (src/instr) knows of it, set by corm__fetch */
    uint64_t serial;           /* > 0, unique in its db */
    void **items;              /* the base objects (auto mode loads for all) */
    uint64_t group;            /* the multi-row result its objects count in: */
    size_t group_n;            /* itself, or for one object loaded lazily
                               ** from a result, that result */
    corm_site built;           /* the queryset the objects came from */
    const char *path;          /* from that queryset's model to them ("") */
    bool path_many;            /* the path crosses a to-many relation */
    bool eager;                /* it has eager loads whose reads count */
    uint32_t eval;             /* its evaluation (reads of eager loads) */
    struct corm__jpath *jpaths;/* its select_related objects, by model */
    int njpaths;
} corm_batch;

/* Objects joined into a batch by select_related: their model, the parent
** they hang from, and their path from the batch's own objects. */
typedef struct corm__jpath {
    const corm_model *model, *from;
    const corm_relation *rel;
    const char *path, *from_path;
} corm__jpath;

/* Tell the instrumentation that the next statement lazily loads `what` (a
** relation, or a deferred field) of obj, kind CORM_ORIGIN_FK / SET /
** DEFERRED: its parent result, path and queryset go to the event (and
** strict mode can refuse it).  Runs no query. */
void corm__lazy_note(void *obj, corm_origin_kind kind, const char *what);
/* Whether path ("author__country") walks relations of m: 0 to-one ones
** only, 1 through a to-many one, -1 not a path of m. */
int corm__path_kind(const corm_model *m, const char *path);

/* One prefetch_related lookup, or a Prefetch object (inner, to_attr). */
typedef struct corm__pf_lookup {
    const char *path;
    struct corm_qs *inner;     /* owned by the queryset that holds it */
    const char *to_attr;
} corm__pf_lookup;

/* Rows of columns (values(), aggregate(), raw SQL): row-major cells, an
** owned array (corm__free); text and blobs they point to are in the arena. */
typedef struct corm__rows {
    corm_value *cells;
    size_t nrows, ncols;
    const char **colnames;
} corm__rows;

struct corm_qs {
    corm_db *db;               /* where it runs: home, or where routing sent it */
    corm_site built;
    corm_db *home;             /* the db it was made on (route.c); NULL until routed */
    const char *using;         /* corm_using alias, in build; NULL: the router decides */
    corm_arena build;
    corm__query q;
    bool evaluated;
    corm_arena result;
    void **items;
    size_t n;
    corm_buf sqltext;
    corm__pf_lookup *pf;
    int npf;
    int late_eager;            /* eager loads asked after evaluation (no-ops) */
    corm__rows rows;           /* values()/aggregate()/raw rows results */
    struct corm_qs **owned;    /* querysets it took (Subquery, Exists) */
    int nowned;
    const char *raw_sql;       /* corm_raw / corm_sql: the statement as given */
    corm_value *raw_params;
    int nraw_params;
    bool raw_rows;             /* corm_sql: rows, not objects */
    corm_buf explain;
    corm_value *sql_params;    /* the parameters of corm_qs_sql's text */
    int nsql_params;
    corm_error err;            /* last: corm_qs_new zeroes what is above it
                               ** and only clears this (2.7 KB of text) */
};

/* Point qs->db at the database this evaluation runs on (corm_using, the
** router; route.c).  False with the error on qs for an unknown alias.
** Called by every evaluation entry point; an evaluated qs stays put. */
bool corm__qs_route(corm_qs *qs);

/* Run q and hydrate every row into arena (objects of one new batch).
** out and nout get the base objects.  Errors in err. */
corm_rc corm__fetch(corm_db *db, const corm__query *q, corm_arena *arena,
                    corm_site site, corm_site built, const char *origin,
                    void ***out, size_t *nout, int64_t **keys, corm_error *err);

/* One result row: the base object and its select_related objects (and
** annotations), hydrated into arena as part of batch. */
corm_rc corm__hydrate_row(corm_db *db, corm__stmt *st, const corm__compiled *c,
                          corm_arena *arena, corm_batch *batch, void **out);
corm_batch *corm__batch_new(corm_db *db, const corm__query *q, corm_arena *arena);

/* Clone support (shape.c): deep copies of expressions (subqueries are
** cloned and taken by dst) and of values/only/annotations. */
corm_expr *corm__expr_copy(corm_qs *dst, const corm_qs *src, const corm_expr *e);
corm_rc corm__clone_shape(corm_qs *dst, const corm_qs *src);

/* Evaluate a corm_raw / corm_sql queryset (raw.c). */
corm_rc corm__eval_raw(corm_qs *qs, corm_site site);

/* Run sql and keep every row's cells (out->cells is owned by the caller;
** the strings they point to live in arena). */
corm_rc corm__fetch_rows(corm_db *db, const char *sql, const corm_value *params, int nparams,
                         corm_arena *arena, corm_site site, corm_site built,
                         const char *origin, corm__rows *out, corm_error *err);
/* One cell as a value (text and blobs copied into a). */
corm_rc corm__read_cell(corm_db *db, corm__stmt *st, int col, corm_arena *a, corm_value *out);

/* Run the prefetch lookups for objs (all of one model, in arena).
** Defined in src/prefetch; the queryset calls it after its own query. */
corm_rc corm__prefetch_run(corm_db *db, corm_arena *arena, const corm_model *model,
                           void **objs, size_t n, const corm__pf_lookup *pf, int npf,
                           corm_site site, corm_site built, corm_error *err);

/* Field access on a generated struct through its descriptor. */
static inline void *corm__field_ptr(void *obj, const corm_field *f)
{
    return (char *)obj + f->offset;
}
static inline void **corm__rel_slots(void *obj)
{
    const corm_obj *h = obj;
    return (void **)((char *)obj + h->model->rel_offset);
}
corm_value corm__field_value(const void *obj, const corm_field *f);

/* ---- writes: atomic.c, constraint.c, write.c, create.c, bulk.c,
** update.c, delete.c, scope.c (docs/writes.md) */

/* The transaction one write runs in so it is all-or-nothing: BEGIN when
** none is open, else SAVEPOINT corm_op (so a failure leaves the caller's
** transaction usable).  Its statements are internal events, as Django's
** atomic(savepoint=False) adds none to assertNumQueries. */
typedef struct corm__tx {
    int kind;                  /* 0: nothing opened, 1: BEGIN, 2: savepoint */
} corm__tx;
corm_rc corm__tx_begin(corm_db *db, corm__tx *tx);
/* Commit (release) when rc is CORM_OK, else roll back; db->err keeps the
** first error.  Returns rc, or the COMMIT's error (a deferred foreign key)
** after rolling back. */
corm_rc corm__tx_end(corm_db *db, corm__tx *tx, corm_rc rc);
/* Whether a transaction or savepoint is open on db. */
bool corm__tx_open(corm_db *db);

/* The value auto_now / auto_now_add fields get: UTC "YYYY-MM-DD
** HH:MM:SS.ffffff" (a date field gets its first 10 bytes). */
void corm__now_text(char out[32]);
/* Set field f of obj to text, copied into the object's result arena when
** it has one (objects made with CORM_NEW keep their value). */
void corm__obj_set_text(void *obj, const corm_field *f, const char *text);

/* Objects of a bulk call: an array of pointers, or a C array of structs. */
typedef struct corm__objs {
    void *const *ptrs;
    char *base;
    size_t n, stride;
} corm__objs;
static inline void *corm__objs_at(const corm__objs *o, size_t i)
{
    return o->ptrs ? o->ptrs[i] : o->base + i * o->stride;
}

/* A CORM_CONSTRAINT error on db->err from a write of model m: classify it
** (kind, constraint name, columns), name the offending values of
** objs[row0 .. row0+nrows) (the object that broke it when it can be told,
** else the first), and rewrite the message "<what> of <Model>: object N
** (<values>) violates <constraint>".  what: "bulk_create", "save", ... */
void corm__constraint_explain(corm_db *db, const corm_model *m, const char *what,
                              const corm__objs *objs, size_t row0, size_t nrows,
                              bool bulk);
/* The constraint's columns (parsed from db->err), for callers that look
** for the offending row themselves.  Returns how many (at most max). */
int corm__constraint_columns(const corm_error *err, const corm_model *m,
                             const corm_field **out, int max);
/* The kind of constraint a CORM_CONSTRAINT error is about. */
corm_ckind corm__constraint_kind(const corm_error *err);

/* INSERT obj (with its id when with_id), the object's auto fields set. */
corm_rc corm__insert_obj(corm_db *db, void *obj, bool with_id, corm_site site);
/* UPDATE the named fields of obj (all but the pk when names is NULL) and
** its auto_now fields; CORM_NOTFOUND when no row has its id. */
corm_rc corm__update_obj(corm_db *db, void *obj, const char *const *names,
                         corm_site site);
/* Delete the rows ids of m with on_delete applied (Django's collector).
** *deleted gets the rows deleted in every table. */
corm_rc corm__delete_ids(corm_db *db, const corm_model *m, const int64_t *ids, size_t n,
                         corm_site site, int64_t *deleted);

#endif
