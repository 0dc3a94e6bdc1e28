/*
** update.c - QuerySet.update(): one UPDATE of every row a queryset
** matches, with values or F expressions (Django's F("pages") + 1), never a
** loop.  The WHERE comes from the compiler (compile_write.c), so filters
** across relations, Q trees and default scopes mean what they mean for a
** SELECT; the SET values are rendered first, so their parameters come
** first.
*/
#include "write_int.h"

#include <string.h>

static bool fits(const corm_field *f, corm_vtype t)
{
    if (t == CORM_V_NULL) return true; /* NOT NULL is the database's to say */
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return t == CORM_V_INT;
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL: return t == CORM_V_INT || t == CORM_V_FLOAT;
    case CORM_FT_BOOL: return t == CORM_V_BOOL || t == CORM_V_INT;
    case CORM_FT_BLOB: return t == CORM_V_BLOB;
    default: return t == CORM_V_TEXT;
    }
}

static const char *ctor_for(const corm_field *f)
{
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return "corm_int()";
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL: return "corm_float() or corm_int()";
    case CORM_FT_BOOL: return "corm_bool()";
    case CORM_FT_BLOB: return "corm_blobv()";
    default: return "corm_text()";
    }
}

/* The field an assignment names, or NULL with the error on qs. */
static const corm_field *set_field(corm_qs *qs, const char *name)
{
    const corm_model *m = qs->q.model;
    const corm_field *f = name ? corm__model_field(m, name, strlen(name)) : NULL;
    if (!f) {
        corm_buf names;
        corm__buf_init(&names);
        corm__model_names(m, &names);
        corm__err_set(&qs->err, CORM_SCHEMA, "update(): %s has no field '%s'", m->name,
                      name ? name : "(null)");
        corm__err_hint(&qs->err, "%s has: %s", m->name, corm__buf_cstr(&names));
        corm__buf_free(&names);
        return NULL;
    }
    if (f == &m->fields[0]) {
        corm__err_set(&qs->err, CORM_INVALID,
                      "update(): the primary key of %s is not updated "
                      "in bulk",
                      m->name);
        corm__err_hint(&qs->err, "create new rows and delete the old ones");
        return NULL;
    }
    return f;
}

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
    corm_buf sql;
    corm__buf_init(&sql);
    corm__buf_adds(&sql, "UPDATE ");
    corm__sql_ident(&sql, m->table);
    corm__buf_adds(&sql, " AS T0 SET ");
    corm_rc rc = CORM_OK;
    for (size_t i = 0; i < nset && rc == CORM_OK; i++) {
        const corm_assign *a = &set[i];
        const corm_field *f = set_field(qs, a->field);
        if (!f) {
            rc = qs->err.rc;
            break;
        }
        for (size_t k = 0; k < i; k++) {
            if (set_field(qs, set[k].field) == f) {
                corm__err_set(&qs->err, CORM_INVALID, "update(): %s.%s is set twice", m->name,
                              f->name);
                rc = CORM_INVALID;
            }
        }
        if (rc != CORM_OK) break;
        if (i) corm__buf_adds(&sql, ", ");
        corm__sql_ident(&sql, f->column);
        corm__buf_adds(&sql, " = ");
        if (a->expr) {
            rc = corm__compile_set_expr(q, d, &cp, &sql, a->expr, &qs->err);
        } else if (a->f) {
            /* F(f) [op value], through the compiler's expressions */
            if (a->op && !strchr("+-*/", a->op)) {
                corm__err_set(&qs->err, CORM_INVALID, "update(): operator '%c' in F(\"%s\")", a->op,
                              a->f);
                corm__err_hint(&qs->err, "use one of + - * /");
                rc = CORM_INVALID;
                break;
            }
            struct corm_expr fe, ve, be;
            memset(&fe, 0, sizeof fe);
            memset(&ve, 0, sizeof ve);
            memset(&be, 0, sizeof be);
            fe.kind = CORM__E_FIELD;
            fe.path = a->f;
            ve.kind = CORM__E_VALUE;
            ve.value = a->value;
            be.kind = CORM__E_BINOP;
            be.op = a->op;
            be.a = &fe;
            be.b = &ve;
            rc = corm__compile_set_expr(q, d, &cp, &sql, a->op ? &be : &fe, &qs->err);
        } else {
            if (!fits(f, a->value.type)) {
                corm__err_set(&qs->err, CORM_TYPE, "update(): %s.%s (%s) needs %s", m->name,
                              f->name, corm__ftype_name(f->type), ctor_for(f));
                corm__err_hint(&qs->err, "pass %s, or CORM_SET_F for an F expression", ctor_for(f));
                rc = CORM_TYPE;
                break;
            }
            rc = corm__compiled_param(&cp, d, &sql, a->value, &qs->err);
        }
    }
    bool empty = true;
    corm_buf where;
    corm__buf_init(&where);
    if (rc == CORM_OK) rc = corm__compile_where(q, d, &cp, &where, &empty, &qs->err);
    if (rc == CORM_OK && !empty) {
        corm__buf_adds(&sql, " WHERE ");
        corm__buf_add(&sql, where.p, where.len);
    }
    if (rc == CORM_OK && sql.oom) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory building an UPDATE");
        rc = CORM_NOMEM;
    }
    int64_t changed = 0;
    if (rc == CORM_OK) {
        rc = corm__db_run(qs->db, corm__buf_cstr(&sql), cp.params, cp.nparams, site, "update",
                          &changed);
        if (rc == CORM_CONSTRAINT) {
            corm__objs none = {0};
            corm__constraint_explain(qs->db, m, "update", &none, 0, 0, false);
        }
        if (rc != CORM_OK) corm__err_take(&qs->err, &qs->db->err);
    }
    corm__buf_free(&where);
    corm__buf_free(&sql);
    corm__compiled_free(&cp);
    return rc == CORM_OK ? changed : -1;
}
