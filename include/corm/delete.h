/*
** corm/delete.h - what a delete removed, per model: Django's
** `(total, {"app.Model": n})` from QuerySet.delete() and Model.delete().
** Included by <corm.h>.
**
** corm_qs_delete and corm_delete keep their plain results; the _counts
** variants run the same statements (the same query count) and also fill
** a caller-owned corm_deleted:
**   total      rows deleted in every table, m2m link rows included (the
**              same number corm_qs_delete returns)
**   models[]   one entry per label with a non-zero count, in the order the
**              deletes ran.  A label is "<schema>.<Model>" (the schema
**              name plays Django's app label: "bookstore.Book"); the link
**              rows of an m2m count under its through model, named as
**              Django names an auto-created one: "<schema>.<Model>_<field>"
**              of the model that declares the m2m ("bookstore.Book_genres").
**              Rows a SET_NULL only updates are not counted (as Django).
** Nothing deleted: total 0 and no entries (Django's (0, {})).  Fixed
** buffers, like corm_error: the struct stays usable after any error (it
** is zeroed on entry).  Threads: as the corm_db.  Since: 0.1
*/
#ifndef CORM_DELETE_H
#define CORM_DELETE_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most labels one delete reports; a delete reaching more models sets
** `truncated` (total stays exact). */
#define CORM_DELETED_MAX 32

typedef struct corm_deleted_model {
    char label[128]; /* "bookstore.Book", "bookstore.Book_genres" */
    int64_t count;
} corm_deleted_model;

typedef struct corm_deleted {
    int64_t total;
    int n; /* entries of models[] used */
    bool truncated;
    corm_deleted_model models[CORM_DELETED_MAX];
} corm_deleted;

/*
** corm_qs_delete_counts(qs, out) - corm_qs_delete, and the per-model counts
** into out (may be NULL).  Returns the total, or -1 with the error on qs
** (out then reports nothing deleted: the delete is atomic).
*/
#define corm_qs_delete_counts(qs, out) corm_qs_delete_counts_at((qs), (out), CORM_SITE)
CORM_API int64_t corm_qs_delete_counts_at(corm_qs *qs, corm_deleted *out, corm_site site);

/*
** corm_delete_counts(db, obj, out) - corm_delete of one object, and the
** per-model counts into out (may be NULL).  Errors on db, as corm_delete.
*/
#define corm_delete_counts(db, obj, out) corm_delete_counts_at((db), (obj), (out), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_delete_counts_at(corm_db *db, void *obj, corm_deleted *out,
                                                        corm_site site);

/* The count of one label in d ("bookstore.Book"), 0 when it is absent
** (Django's deleted_objs.get(label, 0)). */
CORM_API int64_t corm_deleted_get(const corm_deleted *d, const char *label);

#ifdef __cplusplus
}
#endif
#endif
