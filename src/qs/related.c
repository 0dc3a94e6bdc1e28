/*
** related.c - lazy accessors: a forward fk / one-to-one loads its object on
** first access and caches it on the object; a reverse fk / m2m set loads
** every related object with one query on first access.  Loaded objects go
** into the arena of the result the object came from, so they live exactly
** as long as it does.  Each load is one query, as in Django: the N+1 the
** seeds warn about is real here and visible to the instrumentation.
*/
#include "qs_int.h"

#include <string.h>

static bool check(void *obj, int rel, corm_obj **h, const corm_relation **r)
{
    *h = obj;
    if (!obj || !(*h)->model || rel < 0 || rel >= (*h)->model->nrels) return false;
    *r = &(*h)->model->rels[rel];
    return true;
}

static bool misuse_batch(corm_obj *h, const char *name)
{
    if (h->batch) return false;
    (void)name;
    return true;  /* no db to report on: the object was not loaded by corm */
}

static const char *origin_of(corm_arena *a, const corm_model *m, const corm_relation *r,
                             const char *kind)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_addf(&b, "%s:%s.%s", kind, m->name, r->name);
    const char *s = corm__arena_strdup(a, corm__buf_cstr(&b));
    corm__buf_free(&b);
    return s ? s : kind;
}

/* The query over r's target restricted to obj's related rows. */
static void related_query(const corm_obj *h, const corm_relation *r, corm__query *q,
                          struct corm_q *leaf)
{
    const corm_model *m = h->model;
    const corm_model *target = corm__rel_target(m, r);
    memset(q, 0, sizeof *q);
    q->model = target;
    q->limit = -1;
    /* default scopes as Django's managers: a to-one accessor reads through
    ** the base manager (unscoped), a related set through the default one */
    q->scopes = h->batch ? &h->batch->db->scopes : NULL;
    q->unscoped = r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O ||
                  r->kind == CORM_REL_REVERSE_O2O;
    memset(leaf, 0, sizeof *leaf);
    leaf->kind = CORM__Q_LEAF;
    if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O) {
        leaf->lookup = "pk";
        leaf->value = corm_int(*(const int64_t *)((const char *)h + m->fields[r->field].offset));
    } else {
        leaf->lookup = target->rels[r->reverse].name;
        leaf->value = corm_int(*(const int64_t *)((const char *)h + m->fields[0].offset));
    }
    q->where = leaf;
}

void *corm_related_at(void *obj, int rel, corm_site site)
{
    corm_obj *h;
    const corm_relation *r;
    if (!check(obj, rel, &h, &r)) return NULL;
    void **slots = corm__rel_slots(obj);
    if (h->rel_loaded & ((uint64_t)1 << r->slot)) return slots[r->slot];
    if (r->kind != CORM_REL_FK && r->kind != CORM_REL_O2O && r->kind != CORM_REL_REVERSE_O2O) {
        if (h->batch) {
            corm__err_set(&h->batch->db->err, CORM_MISUSE, "%s.%s is to-many", h->model->name, r->name);
            corm__err_hint(&h->batch->db->err, "use the related set accessor (corm_related_set_at)");
        }
        return NULL;
    }
    if (r->kind != CORM_REL_REVERSE_O2O && (h->deferred & ((uint64_t)1 << r->field)) &&
        corm_load_field_at(obj, h->model->fields[r->field].name, site) != CORM_OK)
        return NULL;  /* the key itself was deferred: load it first, as Django */
    if (r->kind != CORM_REL_REVERSE_O2O && (h->nulls & ((uint64_t)1 << r->field))) {
        /* a NULL key: nothing to load, and no query */
        slots[r->slot] = NULL;
        h->rel_loaded |= (uint64_t)1 << r->slot;
        return NULL;
    }
    if (misuse_batch(h, r->name)) return NULL;
    corm_batch *b = h->batch;
    corm__query q;
    struct corm_q leaf;
    related_query(h, r, &q, &leaf);
    void **items;
    size_t n;
    corm_site none = {0};
    const char *origin = origin_of(b->arena, h->model, r, "fk");
    if (corm__fetch(b->db, &q, b->arena, site, none, origin, &items, &n, NULL, &b->db->err) != CORM_OK)
        return NULL;
    slots[r->slot] = n ? items[0] : NULL;
    h->rel_loaded |= (uint64_t)1 << r->slot;
    return slots[r->slot];
}

const corm_list *corm_related_set_at(void *obj, int rel, corm_site site)
{
    corm_obj *h;
    const corm_relation *r;
    if (!check(obj, rel, &h, &r)) return NULL;
    void **slots = corm__rel_slots(obj);
    if (h->rel_loaded & ((uint64_t)1 << r->slot)) return slots[r->slot];
    if (misuse_batch(h, r->name)) return NULL;
    corm_batch *b = h->batch;
    if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O || r->kind == CORM_REL_REVERSE_O2O) {
        corm__err_set(&b->db->err, CORM_MISUSE, "%s.%s is to-one", h->model->name, r->name);
        corm__err_hint(&b->db->err, "use its object accessor (corm_related_at)");
        return NULL;
    }
    corm__query q;
    struct corm_q leaf;
    related_query(h, r, &q, &leaf);
    corm_list *list = corm__arena_zalloc(b->arena, sizeof *list);
    if (!list) {
        corm__err_set(&b->db->err, CORM_NOMEM, "out of memory loading %s.%s", h->model->name, r->name);
        return NULL;
    }
    corm_site none = {0};
    const char *origin = origin_of(b->arena, h->model, r, "set");
    if (corm__fetch(b->db, &q, b->arena, site, none, origin, &list->items, &list->n, NULL,
                    &b->db->err) != CORM_OK)
        return NULL;
    slots[r->slot] = list;
    h->rel_loaded |= (uint64_t)1 << r->slot;
    return list;
}

corm_qs *corm_related_qs_at(void *obj, int rel, corm_site site)
{
    corm_obj *h;
    const corm_relation *r;
    if (!check(obj, rel, &h, &r) || !h->batch) return NULL;
    corm__query q;
    struct corm_q leaf;
    related_query(h, r, &q, &leaf);
    corm_qs *qs = corm_qs_new_at(h->batch->db, q.model, site);
    if (qs) corm_filter(qs, leaf.lookup, leaf.value);
    return qs;
}

static int field_index(const corm_model *m, const char *name)
{
    const corm_field *f = corm__model_field(m, name, strlen(name));
    return f ? (int)(f - m->fields) : -1;
}

bool corm_is_null(const void *obj, const char *name)
{
    const corm_obj *h = obj;
    if (!h || !h->model || !name) return false;
    int i = field_index(h->model, name);
    return i >= 0 && (h->nulls & ((uint64_t)1 << i));
}

void corm_set_null(void *obj, const char *name, bool is_null)
{
    corm_obj *h = obj;
    if (!h || !h->model || !name) return;
    int i = field_index(h->model, name);
    if (i < 0) return;
    if (is_null) h->nulls |= (uint64_t)1 << i;
    else h->nulls &= ~((uint64_t)1 << i);
}
