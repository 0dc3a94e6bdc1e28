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
} corm_batch;

/* One prefetch_related lookup, or a Prefetch object (inner, to_attr). */
typedef struct corm__pf_lookup {
    const char *path;
    struct corm_qs *inner;     /* owned by the queryset that holds it */
    const char *to_attr;
} corm__pf_lookup;

struct corm_qs {
    corm_db *db;
    corm_site built;
    corm_arena build;
    corm__query q;
    corm_error err;
    bool evaluated;
    corm_arena result;
    void **items;
    size_t n;
    corm_buf sqltext;
    corm__pf_lookup *pf;
    int npf;
    int late_eager;            /* eager loads asked after evaluation (no-ops) */
};

/* Run q and hydrate every row into arena (objects of one new batch).
** out and nout get the base objects.  Errors in err. */
corm_rc corm__fetch(corm_db *db, const corm__query *q, corm_arena *arena,
                    corm_site site, corm_site built, const char *origin,
                    void ***out, size_t *nout, int64_t **keys, corm_error *err);

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

#endif
