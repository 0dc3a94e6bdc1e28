/*
** corm/m2m.h - many-to-many writes, Django's related manager add(),
** remove(), clear() and set(), from either side of the relation
** (BOOK_REL_GENRES or GENRE_REL_BOOKS).  Included by <corm.h>.
**
** Each is at most one statement per kind of change, whatever the number of
** ids, and they are writes to the N+1 tooling and the router:
**   add     one INSERT of every link not there yet (ON CONFLICT DO NOTHING)
**   remove  one DELETE ... WHERE src = ? AND dst IN <ids>
**   clear   one DELETE ... WHERE src = ?
**   set     one SELECT of the current links, then a DELETE of those not
**           in ids and an INSERT of the new ones - each only when there is
**           something to do - in one transaction (Django's set()).
** obj must be saved (id != 0); ids are the other side's ids (> 0).  A
** related set cached on obj (lazy or prefetched) is dropped, so the next
** read queries again.  Errors on db: CORM_MISUSE (not an m2m relation, an
** unsaved object, a NULL array), CORM_INVALID (an id <= 0), CORM_CONSTRAINT
** (an id with no row), or the statement's.
*/
#ifndef CORM_M2M_H
#define CORM_M2M_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define corm_m2m_add_ids(db, obj, rel, ids, n) \
    corm_m2m_add_ids_at((db), (obj), (rel), (ids), (n), CORM_SITE)
#define corm_m2m_remove_ids(db, obj, rel, ids, n) \
    corm_m2m_remove_ids_at((db), (obj), (rel), (ids), (n), CORM_SITE)
#define corm_m2m_set_ids(db, obj, rel, ids, n) \
    corm_m2m_set_ids_at((db), (obj), (rel), (ids), (n), CORM_SITE)
#define corm_m2m_clear(db, obj, rel) corm_m2m_clear_at((db), (obj), (rel), CORM_SITE)
/* The same with objects of the other side (their ids are read). */
#define corm_m2m_add_objs(db, obj, rel, objs, n) \
    corm_m2m_add_objs_at((db), (obj), (rel), (void *const *)(objs), (n), CORM_SITE)
#define corm_m2m_remove_objs(db, obj, rel, objs, n) \
    corm_m2m_remove_objs_at((db), (obj), (rel), (void *const *)(objs), (n), CORM_SITE)

CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_add_ids_at(corm_db *db, void *obj, int rel,
                                                      const int64_t *ids, size_t n, corm_site site);
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_remove_ids_at(corm_db *db, void *obj, int rel,
                                                         const int64_t *ids, size_t n,
                                                         corm_site site);
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_set_ids_at(corm_db *db, void *obj, int rel,
                                                      const int64_t *ids, size_t n, corm_site site);
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_clear_at(corm_db *db, void *obj, int rel,
                                                    corm_site site);
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_add_objs_at(corm_db *db, void *obj, int rel,
                                                       void *const *objs, size_t n, corm_site site);
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_remove_objs_at(corm_db *db, void *obj, int rel,
                                                          void *const *objs, size_t n,
                                                          corm_site site);

#ifdef __cplusplus
}
#endif
#endif
