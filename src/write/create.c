/*
** create.c - get_or_create and update_or_create: a lookup through a
** queryset, then an INSERT or an UPDATE of one object.  The object handed
** back lives in the queryset's result arena, like every object corm gives
** out, so one corm_qs_free releases it.
*/
#include "write_int.h"

#include <string.h>

/* A copy of src in qs's result arena, as an object of a new batch: its
** strings and blobs copied, its relation caches empty. */
static void *adopt(corm_qs *qs, const void *src)
{
    const corm_obj *sh = src;
    const corm_model *m = sh->model;
    corm_arena *a = &qs->result;
    corm_batch *batch = corm__batch_new(qs->db, &qs->q, a);
    void *dst = batch ? corm__arena_alloc(a, m->size) : NULL;
    if (!dst) return NULL;
    memcpy(dst, src, m->size);
    batch->home = qs->home ? qs->home : qs->db; /* where its accessors report */
    corm_obj *h = dst;
    h->batch = batch;
    h->rel_loaded = 0;
    h->deferred = 0;
    memset(corm__rel_slots(dst), 0, sizeof(void *) * (size_t)(m->nrels ? m->nrels : 0));
    batch->nobjs = 1;
    for (int i = 0; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        void *p = corm__field_ptr(dst, f);
        if (f->type == CORM_FT_BLOB) {
            corm_blob *b = p;
            if (b->data && !(b->data = corm__arena_memdup(a, b->data, b->len ? b->len : 1)))
                return NULL;
        } else if (corm__field_value(dst, f).type == CORM_V_TEXT) {
            char **s = p;
            if (!(*s = corm__arena_strdup(a, *s))) return NULL;
        }
    }
    return dst;
}

static bool same_model(corm_qs *qs, const void *obj, const char *what)
{
    const corm_obj *h = obj;
    if (h && h->model == qs->q.model && h->model && h->model->size) return true;
    corm__err_set(&qs->err, CORM_MISUSE, "%s: the object is not a %s", what,
                  qs->q.model ? qs->q.model->name : "model object");
    corm__err_hint(&qs->err, "pass an object made with CORM_NEW(%s) or loaded from a %s queryset",
                   qs->q.model ? qs->q.model->name : "Model",
                   qs->q.model ? qs->q.model->name : "model");
    return false;
}

/* The one object qs matches (true), none (true, *obj NULL, the error
** cleared), or an error on qs (false). */
static bool lookup(corm_qs *qs, corm_site site, void **obj)
{
    *obj = corm_get_at(qs, site);
    if (*obj) return true;
    if (qs->err.rc != CORM_NOTFOUND) return false;
    corm__err_clear(&qs->err);
    return true;
}

/* INSERT obj, in a savepoint when a transaction is open (so a failure
** leaves it usable, as Django's atomic in get_or_create). */
static corm_rc insert(corm_db *db, void *obj, corm_site site)
{
    const corm_obj *h = obj;
    bool with_id = *(const int64_t *)corm__field_ptr(obj, &h->model->fields[0]) != 0;
    corm__tx tx = {0};
    corm_rc rc = corm__tx_open(db) ? corm__tx_begin(db, &tx) : CORM_OK;
    if (rc == CORM_OK) rc = corm__insert_obj(db, obj, with_id, site);
    return corm__tx_end(db, &tx, rc);
}

void *corm_get_or_create_at(corm_qs *qs, void *init, bool *created, corm_site site)
{
    CORM__QS_ENTER(qs);
    if (created) *created = false;
    if (!qs || qs->err.rc != CORM_OK || !same_model(qs, init, "corm_get_or_create")) return NULL;
    void *obj;
    if (!lookup(qs, site, &obj)) return NULL;
    if (obj) return obj;
    corm_rc rc = insert(qs->db, init, site);
    if (rc == CORM_CONSTRAINT) {
        /* someone inserted it since the lookup: read it, as Django does */
        corm_error keep = qs->db->err;
        corm__query q = qs->q;
        q.limit = 2;
        void **items = NULL;
        size_t n = 0;
        if (corm__fetch(qs->db, &q, &qs->result, site, qs->built, "queryset", &items, &n, NULL,
                        &qs->err) == CORM_OK &&
            n == 1)
            return items[0];
        qs->db->err = keep;
    }
    if (rc != CORM_OK) {
        corm__err_take(&qs->err, &qs->db->err);
        return NULL;
    }
    obj = adopt(qs, init);
    if (!obj) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory keeping the new %s", qs->q.model->name);
        return NULL;
    }
    if (created) *created = true;
    return obj;
}

void *corm_update_or_create_at(corm_qs *qs, void *obj, const char *const *fields, bool *created,
                               corm_site site)
{
    CORM__QS_ENTER(qs);
    if (created) *created = false;
    if (!qs || qs->err.rc != CORM_OK || !same_model(qs, obj, "corm_update_or_create")) return NULL;
    const corm_model *m = qs->q.model;
    for (int i = 0; fields && fields[i]; i++) {
        const corm_field *f = corm__model_field(m, fields[i], strlen(fields[i]));
        if (!f || f == &m->fields[0]) {
            corm__err_set(&qs->err, CORM_SCHEMA,
                          "corm_update_or_create: %s has no field '%s' "
                          "to update",
                          m->name, fields[i]);
            corm__err_hint(&qs->err, "name fields other than the primary key");
            return NULL;
        }
    }
    void *found;
    if (!lookup(qs, site, &found)) return NULL;
    if (!found) {
        corm_rc rc = insert(qs->db, obj, site);
        if (rc != CORM_OK) {
            corm__err_take(&qs->err, &qs->db->err);
            return NULL;
        }
        found = adopt(qs, obj);
        if (!found) {
            corm__err_set(&qs->err, CORM_NOMEM, "out of memory keeping the new %s", m->name);
            return NULL;
        }
        if (created) *created = true;
        return found;
    }
    /* the defaults onto the object found (strings copied into its arena),
    ** then an UPDATE of just those columns and the auto_now ones */
    corm_obj *fh = found;
    const corm_obj *oh = obj;
    for (int i = 0; fields && fields[i]; i++) {
        const corm_field *f = corm__model_field(m, fields[i], strlen(fields[i]));
        int fi = (int)(f - m->fields);
        uint64_t bit = (uint64_t)1 << fi;
        memcpy(corm__field_ptr(found, f), (const char *)obj + f->offset,
               f->type == CORM_FT_INTEGER   ? sizeof(int32_t)
               : f->type == CORM_FT_BOOL    ? sizeof(bool)
               : f->type == CORM_FT_FLOAT   ? sizeof(double)
               : f->type == CORM_FT_DECIMAL ? sizeof(corm_decimal)
               : f->type == CORM_FT_BIGINT || f->type == CORM_FT_FK || f->type == CORM_FT_O2O
                   ? sizeof(int64_t)
               : f->type == CORM_FT_BLOB ? sizeof(corm_blob)
                                         : sizeof(char *));
        fh->nulls = (fh->nulls & ~bit) | (oh->nulls & bit);
        fh->deferred &= ~bit;
        if (f->type == CORM_FT_BLOB) {
            corm_blob *b = corm__field_ptr(found, f);
            if (b->data &&
                !(b->data = corm__arena_memdup(fh->batch->arena, b->data, b->len ? b->len : 1)))
                goto nomem;
        } else if (corm__field_value(found, f).type == CORM_V_TEXT) {
            char **s = corm__field_ptr(found, f);
            if (!(*s = corm__arena_strdup(fh->batch->arena, *s))) goto nomem;
        }
    }
    static const char *const none[] = {NULL};
    corm_rc rc = corm__update_obj(qs->db, found, fields ? fields : none, site);
    if (rc != CORM_OK) {
        corm__err_take(&qs->err, &qs->db->err);
        return NULL;
    }
    return found;
nomem:
    corm__err_set(&qs->err, CORM_NOMEM, "out of memory updating a %s", m->name);
    return NULL;
}
