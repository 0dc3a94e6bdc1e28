/*
** fetch_int.h - the fetch layer: run a compiled query through the db and
** hydrate its rows into generated structs in an arena (one batch per
** result), stitch select_related objects, and run prefetch levels as
** batched queries stitched by key.  Querysets (src/qs) call into it; it
** never calls back up: a Prefetch object reaches it as a description of
** its query, not as a queryset.
*/
#ifndef CORM_FETCH_INT_H
#define CORM_FETCH_INT_H

#include "../db/db_int.h"

/* A to_attr list per object of a batch, by attribute name. */
typedef struct corm__attr {
    const char *name;
    corm_map map; /* (intptr_t)obj -> corm_list * */
    struct corm__attr *next;
} corm__attr;

/* One evaluated result: the objects of one query and where they live. */
typedef struct corm_batch {
    corm_db *db;   /* the database the rows came from (maybe an attached one) */
    corm_db *home; /* the handle the caller used (the queryset's, before
                   ** routing): lazy loads from these objects run on db
                   ** and report their errors here (corm.h, "Errors") */
    corm_arena *arena;
    const corm_model *model;
    size_t nobjs;
    corm__attr *attrs;
    const corm__annot *annots; /* names of the objects' annots values */
    int nannots;
    /* What the N+1 tooling (src/instr) knows of it, set by corm__fetch */
    uint64_t serial;            /* > 0, unique in its db */
    void **items;               /* the base objects (auto mode loads for all) */
    uint64_t group;             /* the multi-row result its objects count in: */
    size_t group_n;             /* itself, or for one object loaded lazily
                               ** from a result, that result */
    corm_site built;            /* the queryset the objects came from */
    const char *path;           /* from that queryset's model to them ("") */
    bool path_many;             /* the path crosses a to-many relation */
    bool eager;                 /* it has eager loads whose reads count */
    uint32_t eval;              /* its evaluation (reads of eager loads) */
    struct corm__jpath *jpaths; /* its select_related objects, by model */
    int njpaths;
} corm_batch;

/* Objects joined into a batch by select_related: their model, the parent
** they hang from, and their path from the batch's own objects. */
typedef struct corm__jpath {
    const corm_model *model, *from;
    const corm_relation *rel;
    const char *path, *from_path;
} corm__jpath;

/* Whether path ("author__country") walks relations of m: 0 to-one ones
** only, 1 through a to-many one, -1 not a path of m. */
int corm__path_kind(const corm_model *m, const char *path);

/* One prefetch_related lookup, or a Prefetch object (inner, to_attr). */
typedef struct corm__pf_lookup {
    const char *path;
    const char *to_attr;
    /* A Prefetch object's queryset, described (fetch never sees the
    ** queryset itself): its query, where it was built and its own
    ** prefetch lookups.  NULL inner_q: the relation's default query. */
    const corm__query *inner_q;
    corm_site inner_built;
    const struct corm__pf_lookup *inner_pf;
    int inner_npf;
    corm_qs *owner; /* the queryset the description lives in,
                               ** owned by the one that holds the lookup
                               ** (src/qs frees it; fetch never reads it) */
} corm__pf_lookup;

/* A to-many relation's cache: the list its accessor returns, and whether
** the query that filled it was ordered (a plain prefetch or a lazy set: the
** target's default ordering; a Prefetch: its queryset's).  Django's
** first() on a prefetched set answers from the cache only when it is
** ordered (else it orders by pk: a query).  Every relation cache of a
** to-many relation is one of these (prefetch.c, src/qs/related.c). */
typedef struct corm__set {
    corm_list list;
    bool ordered;
} corm__set;

/* Rows of columns (values(), aggregate(), raw SQL): row-major cells, an
** owned array (corm__free); text and blobs they point to are in the arena. */
typedef struct corm__rows {
    corm_value *cells;
    size_t nrows, ncols;
    const char **colnames;
} corm__rows;

/* Run q and hydrate every row into arena (objects of one new batch).
** out and nout get the base objects.  Errors in err. */
corm_rc corm__fetch(corm_db *db, const corm__query *q, corm_arena *arena, corm_site site,
                    corm_site built, const char *origin, void ***out, size_t *nout, int64_t **keys,
                    corm_error *err);

/* One result row: the base object and its select_related objects (and
** annotations), hydrated into arena as part of batch. */
/* Tell the statement path what the compiled-SQL memo knows of c's text
** (its fingerprint, length and hash), just before corm__db_query runs it:
** nothing is measured, hashed or looked up again. */
static inline void corm__db_note_compiled(corm_db *db, const corm__compiled *c)
{
    db->next_text.fp = c->fp;
    db->next_text.len = c->text_hash ? c->sql.len : 0;
    db->next_text.hash = c->text_hash;
}

corm_rc corm__hydrate_row(corm_db *db, corm__stmt *st, const corm__compiled *c, corm_arena *arena,
                          corm_batch *batch, void **out);
corm_batch *corm__batch_new(corm_db *db, const corm__query *q, corm_arena *arena);
/* A result corm__fetch did not run (an iterator's chunk, a raw SELECT's
** objects), once its n objects are hydrated: what the N+1 tooling knows of
** it, as corm__fetch tells of its own results (a multi-row result built at
** built, its select_related joins from c).  c NULL: raw SQL, whose objects
** can only be prefetched into (the fixes the detector names say so). */
void corm__batch_result(corm_db *db, const corm__query *q, const corm__compiled *c,
                        corm_batch *batch, void **items, size_t n, corm_site site, corm_site built);

/* Run sql and keep every row's cells (out->cells is owned by the caller;
** the strings they point to live in arena). */
corm_rc corm__fetch_rows(corm_db *db, const char *sql, const corm_value *params, int nparams,
                         corm_arena *arena, corm_site site, corm_site built, const char *origin,
                         corm__rows *out, corm_error *err);
/* One cell as a value (text and blobs copied into a). */
corm_rc corm__read_cell(corm_db *db, corm__stmt *st, int col, corm_arena *a, corm_value *out);
/* Field fi (f) of obj from column col of st's row, as a model's hydration
** reads it: NULL sets its bit in obj's nulls, a cell stored in another type
** converts as the backend converts it (raw() objects, corm_raw). */
corm_rc corm__read_field(corm_db *db, corm__stmt *st, int col, void *obj, const corm_field *f,
                         int fi, corm_arena *a);

/* Run the prefetch lookups for objs (all of one model, in arena).
** Defined in prefetch.c; the queryset calls it after its own query. */
corm_rc corm__prefetch_run(corm_db *db, corm_arena *arena, const corm_model *model, void **objs,
                           size_t n, const corm__pf_lookup *pf, int npf, corm_site site,
                           corm_site built, corm_error *err);
/* As corm__prefetch_run for the objects q's own SELECT loaded: when q is
** every row of its table (no filter, slice or default scope), a to-many
** level below it sends no key list (docs/eager-loading.md). */
corm_rc corm__prefetch_run_q(corm_db *db, corm_arena *arena, const corm__query *q, void **objs,
                             size_t n, const corm__pf_lookup *pf, int npf, corm_site site,
                             corm_site built, corm_error *err);

/* Django's prefetch_related_objects for objs (one model; from any
** results, or made by hand): the related objects go to arena, or when
** it is NULL to the result of the first object that has one (none:
** CORM_MISUSE).  Parents whose relation is cached are skipped.  Errors on
** err. */
corm_rc corm__prefetch_objects(corm_db *db, corm_arena *arena, void *const *objs, size_t n,
                               const char *const *paths, corm_site site, corm_error *err);

/* Django's FieldError: a key select_related traverses that only() leaves
** out of a level it restricts, or that defer() names (eager_check.c).
** CORM_INVALID on err, before any SQL. */
corm_rc corm__check_deferred_traversal(const corm__query *q, corm_error *err);

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
/* child was loaded as parent's relation r (of model from): when r's
** inverse is to-one (a reverse fk's fk, one-to-one either way), cache
** parent as it on child, so child's accessor runs no query (Django's
** known related objects), unless child has it cached already.  Nothing
** for a to-many inverse. */
void corm__set_backref(const corm_model *from, const corm_relation *r, void *parent, void *child);
/* Whether field f of obj is NULL: its null bit set and its C value still
** zero, or a nullable fk of 0 (hydrate.c). */
bool corm__field_null(const void *obj, const corm_field *f);
/* Make field f NULL (bit set, C value zeroed) or not NULL (bit cleared). */
void corm__field_set_null(void *obj, const corm_field *f, bool is_null);

#endif
