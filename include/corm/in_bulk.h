/*
** corm/in_bulk.h - Django's QuerySet.in_bulk(): the objects whose key is in
** a list, as a lookup map, with one query.  Included by <corm.h>.
**
** corm_in_bulk_by(qs, field, keys) evaluates qs filtered by
** `<field>__in keys` and indexes its objects by field; qs is then the
** result: corm_in_bulk_get(qs, key) finds an object (borrowed, NULL when
** no object has that key), corm_qs_len / corm_qs_at / corm_foreach give
** them in the queryset's order (Django's dict order).  Django's rules
** (QuerySet API reference, "in_bulk()"; tests/lookup test_in_bulk*):
**   keys     corm_ints / corm_texts / corm_vlist of the field's values;
**            keys with no row are simply absent.  An empty list is an
**            empty map and runs no query.  corm_null() (Django's
**            id_list=None) indexes every object of qs (1 query).
**   field    "pk" (or "id"), or a field that is unique: declared unique,
**            a one_to_one, or alone in a unique constraint.  Integer, fk
**            and text fields (char, text, email, date, datetime).
** Errors (sticky on qs, returned): CORM_INVALID a sliced queryset
** (Django's TypeError "Cannot use 'limit' or 'offset' with in_bulk()"),
** a values() / aggregate() queryset, a field that is not unique (Django's
** ValueError) or not of a key type; CORM_SCHEMA an unknown field;
** CORM_MISUSE a raw or already evaluated queryset (in_bulk filters qs:
** give it a fresh one, corm_qs_clone of an evaluated one); CORM_TYPE keys
** that are not a list.
** Cost: 1 query (0 for an empty list), prefetch_related levels of qs
** included as usual; the keys travel as one parameter whatever their
** number (Django splits them at the backend's parameter limit).
** Memory: the map lives in qs's result arena, freed by corm_qs_free.
** Threads: as qs's corm_db.  Since: 0.1
*/
#ifndef CORM_IN_BULK_H
#define CORM_IN_BULK_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define corm_in_bulk_by(qs, field, keys) corm_in_bulk_at((qs), (field), (keys), CORM_SITE)
/* By primary key: corm_in_bulk(qs, ids, n). */
#define corm_in_bulk(qs, ids, n) corm_in_bulk_at((qs), "pk", corm_ints((ids), (n)), CORM_SITE)
/* Every object of qs by primary key (Django's in_bulk() with no list). */
#define corm_in_bulk_all(qs) corm_in_bulk_at((qs), "pk", corm_null(), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_in_bulk_at(corm_qs *qs, const char *field, corm_value keys,
                                                  corm_site site);

/* The object of an in_bulk result whose key is key (corm_int(3),
** corm_text("978...")); NULL when there is none, or qs is not an in_bulk
** result.  Borrowed: valid until corm_qs_free(qs).  No query. */
CORM_API void *corm_in_bulk_get(const corm_qs *qs, corm_value key);

#ifdef __cplusplus
}
#endif
#endif
