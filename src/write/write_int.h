/*
** write_int.h - writes: save/create, bulk_create/bulk_update, update and
** delete (with Django's on_delete collector), constraint errors explained,
** and the transactions that make each write all-or-nothing
** (docs/writes.md).  Writes that take a queryset (update, delete,
** get_or_create) sit above src/qs; the SQL text comes from src/sql.
*/
#ifndef CORM_WRITE_INT_H
#define CORM_WRITE_INT_H

#include "../qs/qs_int.h"

/* ---- writes: atomic.c, constraint.c, write.c, create.c, bulk.c,
** update.c, delete.c, scope.c (docs/writes.md) */

/* The transaction one write runs in so it is all-or-nothing: BEGIN when
** none is open, else SAVEPOINT corm_op (so a failure leaves the caller's
** transaction usable).  Its statements are internal events, as Django's
** atomic(savepoint=False) adds none to assertNumQueries. */
typedef struct corm__tx {
    int kind; /* 0: nothing opened, 1: BEGIN, 2: savepoint */
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
** it has one, else into the room a new object's struct keeps for it
** (corm_model.now_offset). */
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
/* max_length on every backend (SQLite does not enforce char(n)): a text
** value of field f longer than f->max_length characters is CORM_CONSTRAINT
** (kind CHECK, name "table.column", the value) on db, before any SQL.
** row: the 0-based object of a bulk call, or -1 for one object. */
corm_rc corm__check_max_length(corm_db *db, const corm_model *m, const corm_field *f, corm_value v,
                               const char *what, int64_t row);
/* corm__check_max_length for every object of objs and every field of cols
** that has a max_length; the other fields are not read. */
corm_rc corm__check_max_lengths(corm_db *db, const corm_model *m, const corm__objs *objs,
                                const corm_field *const *cols, int ncols, const char *what);
void corm__constraint_explain(corm_db *db, const corm_model *m, const char *what,
                              const corm__objs *objs, size_t row0, size_t nrows, bool bulk);
/* The constraint's columns (parsed from db->err), for callers that look
** for the offending row themselves.  Returns how many (at most max). */
int corm__constraint_columns(const corm_error *err, const corm_model *m, const corm_field **out,
                             int max);
/* Before any SQL: the first of objs whose column cols[i] would go in as
** NULL though the field is required (NOT NULL, not auto, and for an
** INSERT without a default; a NOT NULL fk of 0 too) is a CORM_CONSTRAINT
** (CORM_CK_NOT_NULL) on db naming the field, its object's position when
** bulk.  Then a date or datetime field whose text is not a real date /
** a stored UTC datetime (corm/datetime.h) is a CORM_INVALID naming it.
** what: "insert", "bulk_create", ... */
corm_rc corm__check_write(corm_db *db, const corm_model *m, const char *what,
                          const corm__objs *objs, const corm_field *const *cols, int ncols,
                          bool insert, bool bulk);
/* The kind of constraint a CORM_CONSTRAINT error is about. */
corm_ckind corm__constraint_kind(const corm_error *err);

/* INSERT obj (with its id when with_id), the object's auto fields set. */
corm_rc corm__insert_obj(corm_db *db, void *obj, bool with_id, corm_site site);
/* UPDATE the named fields of obj (all but the pk when names is NULL) and
** its auto_now fields; CORM_NOTFOUND when no row has its id. */
corm_rc corm__update_obj(corm_db *db, void *obj, const char *const *names, corm_site site);
/* Delete the rows ids of m with on_delete applied (Django's collector).
** *deleted gets the rows deleted in every table, out (may be NULL) the
** same per label (corm/delete.h). */
corm_rc corm__delete_ids(corm_db *db, const corm_model *m, const int64_t *ids, size_t n,
                         corm_site site, int64_t *deleted, corm_deleted *out);

#endif
