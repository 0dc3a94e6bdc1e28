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

/* One evaluated result: the objects of one query and where they live. */
typedef struct corm_batch {
    corm_db *db;
    corm_arena *arena;
    const corm_model *model;
    size_t nobjs;
} corm_batch;

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
};

/* Run q and hydrate every row into arena (objects of one new batch).
** out and nout get the base objects.  Errors in err. */
corm_rc corm__fetch(corm_db *db, const corm__query *q, corm_arena *arena,
                    corm_site site, corm_site built, const char *origin,
                    void ***out, size_t *nout, corm_error *err);

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
