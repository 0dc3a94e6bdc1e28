/*
** write.c - single-object INSERT / UPDATE / DELETE and m2m links.  Values
** are read from the struct through the descriptor and always bound; the
** statements' text comes from src/sql.
** auto_now / auto_now_add columns get the current time (atomic.c).  A
** delete goes through the collector (delete.c) for on_delete.
*/
#include "write_int.h"

#include <stdio.h>
#include <string.h>

static bool check_obj(corm_db *db, void *obj, const char *what)
{
    corm_obj *h = obj;
    if (db && h && h->model && h->model->size) return true;
    if (db) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: the object has no model", what);
        corm__err_hint(&db->err,
                       "initialize new objects with CORM_NEW(Model) or load them with a queryset");
    }
    return false;
}

static bool is_auto(const corm_field *f, bool insert)
{
    return (f->flags & CORM_FF_AUTO_NOW) || (insert && (f->flags & CORM_FF_AUTO_NOW_ADD));
}

static bool listed(const char *const *names, const char *name)
{
    for (; names && *names; names++)
        if (strcmp(*names, name) == 0) return true;
    return false;
}

/* INSERT obj (with its id when with_id), or UPDATE the fields named
** (every loaded field when names is NULL: deferred ones are left alone,
** as Django saves only loaded fields).  auto_now fields always, and
** auto_now_add ones on INSERT, get the current time, as Django's pre_save.
** The statement's text comes from the compiler (src/sql/insert.c,
** update.c); its parameters are the columns' values, then the id. */
static corm_rc write_obj(corm_db *db, void *obj, bool insert, bool with_id,
                         const char *const *names, corm_site site)
{
    corm_obj *h = obj;
    const corm_model *m = h->model;
    int64_t *id = (int64_t *)corm__field_ptr(obj, &m->fields[0]);
    const corm__dialect *d = db->dialect;
    if (CORM_NEVER(!d)) {
        corm__err_set(&db->err, CORM_MISUSE, "no SQL dialect for %s", db->be->vendor);
        return CORM_MISUSE;
    }
    const corm_field *cols[CORM_MAX_FIELDS];
    corm_value params[CORM_MAX_FIELDS + 1];
    int np = 0;
    char now[32], today[16];
    corm__now_text(now);
    corm__strlcpy(today, now, 11);
    if (insert && with_id) {
        cols[np] = &m->fields[0];
        params[np++] = corm_int(*id);
    }
    bool any_auto = false;
    for (int fi = 1; fi < m->nfields; fi++) {
        const corm_field *f = &m->fields[fi];
        bool autov = is_auto(f, insert);
        if (!insert) {
            if (f->flags & CORM_FF_AUTO_NOW_ADD) continue;
            if (names && !autov && !listed(names, f->name)) continue;
            if (!names && (h->deferred & ((uint64_t)1 << fi))) continue;
        }
        corm_value v =
            autov ? corm_text(f->type == CORM_FT_DATE ? today : now) : corm__field_value(obj, f);
        bool skip_default = insert && v.type == CORM_V_NULL && (f->flags & CORM_FF_HAS_DEFAULT) &&
                            !(f->flags & CORM_FF_NULL);
        if (skip_default) continue; /* let the column default apply */
        any_auto = any_auto || autov;
        cols[np] = f;
        params[np++] = v;
    }
    for (int i = 0; i < np; i++)
        if (corm__check_max_length(db, m, cols[i], params[i], insert ? "insert" : "update", -1) !=
            CORM_OK)
            return CORM_CONSTRAINT;
    /* Django: save(update_fields=[]) runs no query */
    if (!insert && np == 0) return CORM_OK;
    /* a required field left unset, an impossible date: said before any SQL */
    corm__objs self = {.ptrs = &obj, .n = 1};
    corm_rc bad =
        corm__check_write(db, m, insert ? "insert" : "update", &self, cols, np, insert, false);
    if (bad != CORM_OK) return bad;
    /* the new id: RETURNING where the dialect reads it so (PostgreSQL),
    ** else the backend's last insert id (SQLite) */
    bool returning = insert && !with_id && d->insert_returning_id;
    corm_buf b;
    corm__buf_init(&b);
    corm_rc rc;
    if (insert) {
        corm__insert ins = {.model = m, .cols = cols, .ncols = np, .returning_id = returning};
        rc = corm__compile_insert_row(&ins, d, &b, &db->err);
    } else {
        rc = corm__compile_update_row(m, cols, np, d, &b, &db->err);
        params[np++] = corm_int(*id);
    }
    int64_t changed = 0;
    if (rc == CORM_OK && returning)
        rc = corm__db_run_id(db, corm__buf_cstr(&b), params, np, site, "insert", id);
    else if (rc == CORM_OK)
        rc = corm__db_run(db, corm__buf_cstr(&b), params, np, site, insert ? "insert" : "update",
                          &changed);
    if (rc == CORM_OK && insert && !returning && !with_id) *id = db->be->last_insert_id(db->conn);
    if (rc == CORM_OK && insert && with_id) {
        /* the next generated id must be past this one (dialect.h) */
        corm__buf_reset(&b);
        rc = corm__compile_sync_ids(m, d, &b, &db->err);
        if (rc == CORM_OK && b.len)
            rc = corm__db_exec_internal(db, corm__buf_cstr(&b), "insert", &db->err);
    }
    if (rc == CORM_OK && !insert && changed == 0) {
        corm__err_set(&db->err, CORM_NOTFOUND, "%s with id %lld does not exist", m->name,
                      (long long)*id);
        corm__err_hint(&db->err, "set id to 0 to insert a new row");
        rc = CORM_NOTFOUND;
    }
    if (rc == CORM_CONSTRAINT) {
        corm__objs one = {.ptrs = &obj, .n = 1};
        corm__constraint_explain(db, m, insert ? "insert" : "update", &one, 0, 1, false);
    }
    if (rc == CORM_OK && any_auto) {
        for (int fi = 1; fi < m->nfields; fi++) {
            const corm_field *f = &m->fields[fi];
            if (is_auto(f, insert))
                corm__obj_set_text(obj, f, f->type == CORM_FT_DATE ? today : now);
        }
    }
    corm__buf_free(&b);
    return rc;
}

corm_rc corm_save_at(corm_db *db, void *obj, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!check_obj(db, obj, "corm_save")) return CORM_MISUSE;
    const corm_obj *h = obj;
    bool insert = *(const int64_t *)corm__field_ptr(obj, &h->model->fields[0]) == 0;
    return write_obj(db, obj, insert, false, NULL, site);
}

corm_rc corm_create_at(corm_db *db, void *obj, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!check_obj(db, obj, "corm_create")) return CORM_MISUSE;
    const corm_obj *h = obj;
    bool with_id = *(const int64_t *)corm__field_ptr(obj, &h->model->fields[0]) != 0;
    return write_obj(db, obj, true, with_id, NULL, site);
}

corm_rc corm__insert_obj(corm_db *db, void *obj, bool with_id, corm_site site)
{
    return write_obj(db, obj, true, with_id, NULL, site);
}

corm_rc corm__update_obj(corm_db *db, void *obj, const char *const *names, corm_site site)
{
    return write_obj(db, obj, false, false, names, site);
}

corm_rc corm_delete_at(corm_db *db, void *obj, corm_site site)
{
    return corm_delete_counts_at(db, obj, NULL, site);
}

corm_rc corm_delete_counts_at(corm_db *db, void *obj, corm_deleted *out, corm_site site)
{
    if (out) memset(out, 0, sizeof *out);
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!check_obj(db, obj, "corm_delete")) return CORM_MISUSE;
    corm_obj *h = obj;
    const corm_model *m = h->model;
    int64_t *id = (int64_t *)corm__field_ptr(obj, &m->fields[0]);
    if (*id == 0) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_delete: the %s has no id (never saved)",
                      m->name);
        corm__err_hint(&db->err, "only saved or loaded objects can be deleted");
        return CORM_MISUSE;
    }
    int64_t deleted = 0;
    corm_rc rc = corm__delete_ids(db, m, id, 1, site, &deleted, out);
    if (rc == CORM_OK) *id = 0; /* as Django sets pk to None */
    return rc;
}

corm_rc corm_m2m_add_at(corm_db *db, void *obj, int rel, const void *other, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!check_obj(db, obj, "corm_m2m_add")) return CORM_MISUSE;
    if (!other || !((const corm_obj *)other)->model) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_m2m_add: the other object is %s",
                      other ? "not a model object" : "NULL");
        corm__err_hint(&db->err, "pass a saved object of the relation's model");
        return CORM_MISUSE;
    }
    corm_obj *h = obj;
    const corm_model *m = h->model;
    if (rel < 0 || rel >= m->nrels ||
        (m->rels[rel].kind != CORM_REL_M2M && m->rels[rel].kind != CORM_REL_REVERSE_M2M)) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_m2m_add: relation %d of %s is not many-to-many",
                      rel, m->name);
        corm__err_hint(&db->err, "pass a <MODEL>_REL_<NAME> constant of an m2m relation");
        return CORM_MISUSE;
    }
    const corm_relation *r = &m->rels[rel];
    corm_buf b;
    corm__buf_init(&b);
    corm_value params[2] = {corm__field_value(obj, &m->fields[0]),
                            corm__field_value(other, &((const corm_obj *)other)->model->fields[0])};
    corm_rc rc = corm__compile_link_insert(r, db->dialect, &b, &db->err);
    /* the origin names the relation, so the detector's fix for links
    ** written one at a time can name the call that writes many */
    char origin[160];
    snprintf(origin, sizeof origin, "insert:%s.%s", m->name, r->name);
    if (rc == CORM_OK) rc = corm__db_run(db, corm__buf_cstr(&b), params, 2, site, origin, NULL);
    corm__buf_free(&b);
    /* a cached set on obj is now stale */
    if (rc == CORM_OK) h->rel_loaded &= ~((uint64_t)1 << r->slot);
    return rc;
}
