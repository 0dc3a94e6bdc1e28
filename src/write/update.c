/*
** update.c - QuerySet.update(): one UPDATE of every row a queryset
** matches, with values or F expressions (Django's F("pages") + 1), never a
** loop.  The statement, its checks of the assignments included, is the
** compiler's (src/sql/update.c): filters across relations, Q trees and
** default scopes mean what they mean for a SELECT.
*/
#include "write_int.h"

#include <string.h>

int64_t corm_update_v(corm_qs *qs, const corm_assign *set, size_t nset, corm_site site)
{
    CORM__QS_ENTER(qs);
    if (!qs || qs->err.rc != CORM_OK) return -1;
    const corm__query *q = &qs->q;
    const corm_model *m = q->model;
    if (!m) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_update on a raw queryset");
        return -1;
    }
    if (q->limit >= 0 || q->offset > 0) {
        corm__err_set(&qs->err, CORM_INVALID, "cannot update a sliced queryset of %s", m->name);
        corm__err_hint(&qs->err, "filter on the ids instead (id__in), as Django requires");
        return -1;
    }
    if (!set || nset == 0) {
        corm__err_set(&qs->err, CORM_INVALID, "update() of %s with no field to set", m->name);
        corm__err_hint(&qs->err, "corm_update(qs, CORM_SET(\"field\", value), ...)");
        return -1;
    }
    const corm__dialect *d = qs->db->dialect;
    if (CORM_NEVER(!d)) {
        corm__err_set(&qs->err, CORM_MISUSE, "no SQL dialect for %s", qs->db->be->vendor);
        return -1;
    }
    corm__compiled cp;
    corm__compiled_init(&cp);
    corm_rc rc = corm__compile_update(q, set, nset, d, &cp, &qs->err);
    /* max_length, as save checks it: before any SQL, on every backend */
    for (size_t i = 0; rc == CORM_OK && i < nset; i++) {
        const corm_field *f = set[i].f || set[i].expr
                                  ? NULL
                                  : corm__model_field(m, set[i].field, strlen(set[i].field));
        if (f && corm__check_max_length(qs->db, m, f, set[i].value, "update", -1) != CORM_OK) {
            corm__err_take(&qs->err, &qs->db->err);
            rc = CORM_CONSTRAINT;
        }
    }
    int64_t changed = 0;
    /* nothing matches whatever the data (an `in` of an empty list): no
    ** statement, as Django's EmptyResultSet */
    if (rc == CORM_OK && !corm__query_empty(q)) {
        rc = corm__db_run(qs->db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, site, "update",
                          &changed);
        if (rc == CORM_CONSTRAINT) {
            corm__objs none = {0};
            corm__constraint_explain(qs->db, m, "update", &none, 0, 0, false);
        }
        if (rc != CORM_OK) corm__err_take(&qs->err, &qs->db->err);
    }
    corm__compiled_free(&cp);
    return rc == CORM_OK ? changed : -1;
}
