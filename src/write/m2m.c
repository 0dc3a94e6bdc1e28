/*
** m2m.c - many-to-many writes (include/corm/m2m.h): Django's related
** manager add / remove / clear / set, with the fewest statements - one per
** kind of change, only the differences for set().  The SQL is src/sql's
** (link.c).
*/
#include "write_int.h"

#include <stdlib.h>
#include <string.h>

/* obj's m2m relation rel and obj's id, or NULL with the error on db. */
static const corm_relation *m2m_of(corm_db *db, void *obj, int rel, const char *what, int64_t *src)
{
    corm_obj *h = obj;
    if (!h || !h->model || !h->model->size) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: the object has no model", what);
        corm__err_hint(&db->err, "pass a loaded or saved object (Book *)");
        return NULL;
    }
    const corm_model *m = h->model;
    if (rel < 0 || rel >= m->nrels ||
        (m->rels[rel].kind != CORM_REL_M2M && m->rels[rel].kind != CORM_REL_REVERSE_M2M)) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: relation %d of %s is not many-to-many", what, rel,
                      m->name);
        corm__err_hint(&db->err, "pass a <MODEL>_REL_<NAME> constant of an m2m relation");
        return NULL;
    }
    *src = *(const int64_t *)corm__field_ptr(obj, &m->fields[0]);
    if (*src <= 0) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: the %s has no id (never saved)", what, m->name);
        corm__err_hint(&db->err, "save it first: Django refuses related writes on unsaved objects");
        return NULL;
    }
    return &m->rels[rel];
}

static bool ids_ok(corm_db *db, const int64_t *ids, size_t n, const char *what)
{
    if (n && !ids) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: the id array is NULL and n = %zu", what, n);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (ids[i] <= 0) {
            corm__err_set(&db->err, CORM_INVALID, "%s: id %zu is %lld", what, i, (long long)ids[i]);
            corm__err_hint(&db->err, "pass ids of saved objects (> 0)");
            return false;
        }
    return true;
}

/* The related set cached on obj is stale after a write (Django drops its
** prefetch cache for the relation). */
static void forget(void *obj, const corm_relation *r)
{
    ((corm_obj *)obj)->rel_loaded &= ~((uint64_t)1 << r->slot);
}

typedef enum { LINK_ADD, LINK_REMOVE, LINK_CLEAR } link_op;

static corm_rc link_run(corm_db *db, const corm_relation *r, int64_t src, link_op op,
                        const int64_t *ids, size_t n, corm_site site)
{
    corm__compiled cp;
    corm__compiled_init(&cp);
    corm_rc rc = op == LINK_ADD
                     ? corm__compile_link_add(r, db->dialect, src, ids, n, &cp, &db->err)
                     : corm__compile_link_remove(r, db->dialect, src, op == LINK_CLEAR ? NULL : ids,
                                                 n, &cp, &db->err);
    if (rc == CORM_OK)
        rc = corm__db_run(db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, site,
                          op == LINK_ADD ? "insert" : "delete", NULL);
    corm__compiled_free(&cp);
    return rc;
}

static corm_rc link_write(corm_db *db, void *obj, int rel, link_op op, const int64_t *ids, size_t n,
                          const char *what, corm_site site)
{
    int64_t src;
    const corm_relation *r = m2m_of(db, obj, rel, what, &src);
    if (!r) return CORM_MISUSE;
    if (!ids_ok(db, ids, n, what)) return db->err.rc;
    if (op != LINK_CLEAR && n == 0) return CORM_OK; /* nothing to do, no query (Django) */
    corm_rc rc = link_run(db, r, src, op, ids, n, site);
    forget(obj, r);
    return rc;
}

corm_rc corm_m2m_add_ids_at(corm_db *db, void *obj, int rel, const int64_t *ids, size_t n,
                            corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return link_write(db, obj, rel, LINK_ADD, ids, n, "corm_m2m_add_ids", site);
}

corm_rc corm_m2m_remove_ids_at(corm_db *db, void *obj, int rel, const int64_t *ids, size_t n,
                               corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return link_write(db, obj, rel, LINK_REMOVE, ids, n, "corm_m2m_remove_ids", site);
}

corm_rc corm_m2m_clear_at(corm_db *db, void *obj, int rel, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return link_write(db, obj, rel, LINK_CLEAR, NULL, 0, "corm_m2m_clear", site);
}

/* The ids of objs, in a new array (corm__free), or NULL with the error. */
static int64_t *ids_of(corm_db *db, void *const *objs, size_t n, const char *what)
{
    if (n && !objs) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: the object array is NULL and n = %zu", what, n);
        return NULL;
    }
    int64_t *ids = corm__malloc((n ? n : 1) * sizeof *ids);
    if (!ids) {
        corm__err_set(&db->err, CORM_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const corm_obj *h = objs[i];
        if (!h || !h->model) {
            corm__err_set(&db->err, CORM_MISUSE, "%s: object %zu is %s", what, i,
                          h ? "not a model object" : "NULL");
            corm__free(ids);
            return NULL;
        }
        ids[i] = *(const int64_t *)((const char *)h + h->model->fields[0].offset);
    }
    return ids;
}

static corm_rc objs_write(corm_db *db, void *obj, int rel, link_op op, void *const *objs, size_t n,
                          const char *what, corm_site site)
{
    int64_t *ids = ids_of(db, objs, n, what);
    if (!ids) return db->err.rc;
    corm_rc rc = link_write(db, obj, rel, op, ids, n, what, site);
    corm__free(ids);
    return rc;
}

corm_rc corm_m2m_add_objs_at(corm_db *db, void *obj, int rel, void *const *objs, size_t n,
                             corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return objs_write(db, obj, rel, LINK_ADD, objs, n, "corm_m2m_add_objs", site);
}

corm_rc corm_m2m_remove_objs_at(corm_db *db, void *obj, int rel, void *const *objs, size_t n,
                                corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return objs_write(db, obj, rel, LINK_REMOVE, objs, n, "corm_m2m_remove_objs", site);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool has_id(const int64_t *sorted, size_t n, int64_t id)
{
    return bsearch(&id, sorted, n, sizeof id, cmp_id) != NULL;
}

/* The ids src is linked to now, sorted (corm__free), *n of them. */
static corm_rc current_links(corm_db *db, const corm_relation *r, int64_t src, corm_site site,
                             int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    corm__compiled cp;
    corm__compiled_init(&cp);
    corm_rc rc = corm__compile_link_targets(r, db->dialect, src, &cp, &db->err);
    corm__cursor cur = {0};
    corm_site none = {0};
    if (rc == CORM_OK)
        rc = corm__db_query(db, &cur, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, site, none,
                            "queryset");
    size_t cap = 0;
    for (bool row = true; rc == CORM_OK && row;) {
        rc = corm__cursor_step(&cur, &row);
        if (rc != CORM_OK || !row) break;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *p = corm__realloc(*out, cap * sizeof *p);
            if (!p) {
                corm__err_set(&db->err, CORM_NOMEM, "corm_m2m_set_ids: out of memory");
                rc = CORM_NOMEM;
                break;
            }
            *out = p;
        }
        (*out)[(*n)++] = db->be->column_int(cur.stmt, 0);
    }
    if (cur.db) corm__cursor_close(&cur);
    corm__compiled_free(&cp);
    if (rc == CORM_OK && *n) qsort(*out, *n, sizeof **out, cmp_id);
    return rc;
}

corm_rc corm_m2m_set_ids_at(corm_db *db, void *obj, int rel, const int64_t *ids, size_t n,
                            corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    const char *what = "corm_m2m_set_ids";
    int64_t src;
    const corm_relation *r = m2m_of(db, obj, rel, what, &src);
    if (!r) return CORM_MISUSE;
    if (!ids_ok(db, ids, n, what)) return db->err.rc;
    int64_t *want = corm__malloc((n ? n : 1) * sizeof *want);
    if (!want) {
        corm__err_set(&db->err, CORM_NOMEM, "%s: out of memory", what);
        return CORM_NOMEM;
    }
    if (n) memcpy(want, ids, n * sizeof *want);
    qsort(want, n, sizeof *want, cmp_id);
    corm__tx tx = {0};
    corm_rc rc = corm__tx_begin(db, &tx);
    int64_t *have = NULL, *gone = NULL, *added = NULL;
    size_t nhave = 0, ngone = 0, nadded = 0;
    if (rc == CORM_OK) rc = current_links(db, r, src, site, &have, &nhave);
    if (rc == CORM_OK) {
        gone = corm__malloc((nhave ? nhave : 1) * sizeof *gone);
        added = corm__malloc((n ? n : 1) * sizeof *added);
        if (!gone || !added) {
            corm__err_set(&db->err, CORM_NOMEM, "%s: out of memory", what);
            rc = CORM_NOMEM;
        }
    }
    for (size_t i = 0; rc == CORM_OK && i < nhave; i++)
        if (!has_id(want, n, have[i])) gone[ngone++] = have[i];
    for (size_t i = 0; rc == CORM_OK && i < n; i++)
        if ((i == 0 || want[i] != want[i - 1]) && !has_id(have, nhave, want[i]))
            added[nadded++] = want[i];
    if (rc == CORM_OK && ngone) rc = link_run(db, r, src, LINK_REMOVE, gone, ngone, site);
    if (rc == CORM_OK && nadded) rc = link_run(db, r, src, LINK_ADD, added, nadded, site);
    rc = corm__tx_end(db, &tx, rc);
    forget(obj, r);
    corm__free(want);
    corm__free(have);
    corm__free(gone);
    corm__free(added);
    return rc;
}
