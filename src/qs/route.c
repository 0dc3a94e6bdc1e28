/*
** route.c - which database a queryset runs on: corm_using(qs, alias), or
** the router of the database it was made on (src/db/router.c).  The
** choice is made at each evaluation entry point, not when the queryset is
** built, so "reads outside a transaction" means outside one when it runs.
** Objects remember the database they came from (their batch), so their
** lazy loads read from the same one, as Django's instance._state.db.
*/
#include "qs_int.h"

void corm_using(corm_qs *qs, const char *alias)
{
    if (!qs || qs->err.rc != CORM_OK) return;
    if (qs->evaluated) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_using on a queryset that was already evaluated");
        corm__err_hint(&qs->err, "call corm_using before iterating, counting or getting; or "
                                 "corm_qs_clone() it");
        return;
    }
    corm__qs_uncache(qs); /* another database: query it */
    const char *copy = alias ? corm__arena_strdup(&qs->build, alias) : NULL;
    if (alias && !copy) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory building a queryset");
        return;
    }
    qs->using = copy;
    (void)corm__qs_route(qs); /* an unknown alias is reported now */
}

/* corm__qs_route's case of an alias or a router (qs_int.h) */
bool corm__qs_route_by(corm_qs *qs)
{
    if (!qs->home) qs->home = qs->db;
    corm_db *db = corm__db_route(qs->home, qs->q.model, qs->using, false, &qs->err);
    if (!db) return false;
    qs->db = db;
    return true;
}
