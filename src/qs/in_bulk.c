/*
** in_bulk.c - Django's QuerySet.in_bulk(): qs filtered by `<field>__in
** keys`, evaluated once, its objects indexed by the field (corm/in_bulk.h).
**
** The index is a corm_map in qs's result arena: an integer key maps to its
** object; a text key goes in by a 64-bit hash (FNV-1a) and a lookup checks
** the object's text, scanning the objects in the (never yet seen) event of
** two keys with one hash.  Keys are unique (the field must be), so one
** object per key.
*/
#include "qs_int.h"

#include <string.h>

typedef struct corm__bulk {
    const corm_field *field;
    bool text;
    corm_map map;
} corm__bulk;

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Whether f is unique on its own: the pk, `unique`, a one_to_one, or the
** only field of a unique constraint (Django's total_unique_constraints). */
static bool field_unique(const corm_model *m, const corm_field *f)
{
    if (f->flags & (CORM_FF_PK | CORM_FF_UNIQUE) || f->type == CORM_FT_O2O) return true;
    for (int i = 0; i < m->nindexes; i++) {
        const corm_index *x = &m->indexes[i];
        if (x->unique && x->nfields == 1 && strcmp(x->fields[0], f->name) == 0) return true;
    }
    return false;
}

static bool key_type(const corm_field *f, bool *text)
{
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: *text = false; return true;
    case CORM_FT_CHAR:
    case CORM_FT_TEXT:
    case CORM_FT_EMAIL:
    case CORM_FT_DATE:
    case CORM_FT_DATETIME: *text = true; return true;
    default: return false;
    }
}

static corm_rc fail(corm_qs *qs, corm_rc rc, const char *hint, const char *fmt, const char *a,
                    const char *b)
{
    corm__err_set(&qs->err, rc, fmt, a, b);
    if (hint) corm__err_hint(&qs->err, hint);
    return rc;
}

/* The field in_bulk indexes by, or NULL with the error on qs. */
static const corm_field *bulk_field(corm_qs *qs, const char *name, bool *text)
{
    const corm_model *m = qs->q.model;
    const corm_field *f = NULL;
    if (!name || strcmp(name, "pk") == 0) f = &m->fields[0];
    for (int i = 0; !f && i < m->nfields; i++)
        if (strcmp(m->fields[i].name, name) == 0 || strcmp(m->fields[i].column, name) == 0)
            f = &m->fields[i];
    if (!f) {
        fail(qs, CORM_SCHEMA, "pass \"pk\" or the name of a unique field of the model",
             "in_bulk: %s has no field '%s'", m->name, name);
        return NULL;
    }
    if (!field_unique(m, f)) {
        fail(qs, CORM_INVALID,
             "in_bulk maps each key to one object: use the pk or a field declared unique (or "
             "alone in a unique constraint); for other fields, filter and iterate",
             "in_bulk()'s field must be a unique field but '%s' of %s isn't", f->name, m->name);
        return NULL;
    }
    if (!key_type(f, text)) {
        fail(qs, CORM_INVALID, "index by an integer, fk or text field",
             "in_bulk: field '%s' of %s is not a key type (integer, fk or text)", f->name, m->name);
        return NULL;
    }
    return f;
}

static corm_rc check_qs(corm_qs *qs)
{
    const corm__query *q = &qs->q;
    if (!q->model)
        return fail(qs, CORM_MISUSE, "use a queryset of a model: corm_all(db, Model)",
                    "corm_in_bulk on a raw queryset%s%s", "", "");
    if (qs->evaluated || qs->bulk)
        return fail(qs, CORM_MISUSE,
                    "in_bulk filters and evaluates qs: give it a queryset not yet evaluated "
                    "(corm_qs_clone of this one)",
                    "corm_in_bulk on a queryset of %s that is already evaluated%s", q->model->name,
                    "");
    if (q->limit >= 0 || q->offset > 0)
        return fail(qs, CORM_INVALID,
                    "slice after in_bulk is not possible: filter the keys instead, as Django "
                    "requires",
                    "cannot use a slice (limit or offset) with in_bulk on %s%s", q->model->name,
                    "");
    if (q->values_mode || q->aggregate)
        return fail(qs, CORM_INVALID, "call in_bulk on a queryset of objects",
                    "in_bulk cannot be used with values(), values_list() or aggregate() (%s)%s",
                    q->model->name, "");
    return CORM_OK;
}

static corm_rc index_items(corm_qs *qs, corm__bulk *b)
{
    for (size_t i = 0; i < qs->n; i++) {
        corm_value v = corm__field_value(qs->items[i], b->field);
        int64_t key;
        if (v.type == CORM_V_NULL) continue; /* NULL is no key (a unique column may hold many) */
        if (b->text) key = (int64_t)text_hash(v.u.s.p ? v.u.s.p : "");
        else key = v.u.i;
        if (!corm__map_put(&b->map, key, qs->items[i])) {
            corm__err_set(&qs->err, CORM_NOMEM, "out of memory indexing in_bulk's objects");
            return CORM_NOMEM;
        }
    }
    return CORM_OK;
}

corm_rc corm_in_bulk_at(corm_qs *qs, const char *field, corm_value keys, corm_site site)
{
    if (!qs) return CORM_NOMEM; /* corm_all ran out of memory */
    CORM__QS_ENTER(qs);
    if (qs->err.rc != CORM_OK) return qs->err.rc;
    corm__qs_uncache(qs); /* Django's in_bulk builds a new queryset: a query */
    corm_rc rc = check_qs(qs);
    if (rc != CORM_OK) return rc;
    bool text = false;
    const corm_field *f = bulk_field(qs, field, &text);
    if (!f) return qs->err.rc;
    bool all = keys.type == CORM_V_NULL;
    if (!all && keys.type != CORM_V_INTS && keys.type != CORM_V_TEXTS && keys.type != CORM_V_LIST)
        return fail(qs, CORM_TYPE,
                    "pass corm_ints(ids, n), corm_texts(keys, n) or corm_vlist(values, n); "
                    "corm_null() for every object",
                    "in_bulk on %s: the keys for '%s' are not a list", qs->q.model->name, f->name);
    corm__bulk *b = corm__arena_zalloc(&qs->result, sizeof *b);
    if (!b) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory starting in_bulk");
        return CORM_NOMEM;
    }
    b->field = f;
    b->text = text;
    corm__map_init(&b->map, &qs->result);
    size_t nkeys = keys.type == CORM_V_INTS    ? keys.u.ints.n
                   : keys.type == CORM_V_TEXTS ? keys.u.texts.n
                   : keys.type == CORM_V_LIST  ? keys.u.list.n
                                               : 0;
    if (!all && nkeys == 0) {
        /* Django: in_bulk([]) is {} without a query */
        qs->evaluated = true;
        qs->bulk = b;
        return CORM_OK;
    }
    if (!all) {
        char lookup[128];
        corm__strlcpy(lookup, f->name, sizeof lookup - 4);
        strcat(lookup, "__in");
        corm_filter(qs, lookup, keys);
    }
    rc = corm_eval_at(qs, site);
    if (rc == CORM_OK) rc = index_items(qs, b);
    if (rc == CORM_OK) qs->bulk = b;
    return rc;
}

static bool same_text(const void *obj, const corm_field *f, const char *want)
{
    corm_value v = corm__field_value(obj, f);
    return v.type == CORM_V_TEXT && v.u.s.p && strcmp(v.u.s.p, want) == 0;
}

void *corm_in_bulk_get(const corm_qs *qs, corm_value key)
{
    const corm__bulk *b = qs ? qs->bulk : NULL;
    if (!b) return NULL;
    if (!b->text) {
        if (key.type != CORM_V_INT) return NULL;
        void **p = corm__map_get(&b->map, key.u.i);
        return p ? *p : NULL;
    }
    const char *want = key.u.s.p;
    if (key.type != CORM_V_TEXT || !want) return NULL;
    void **p = corm__map_get(&b->map, (int64_t)text_hash(want));
    if (p && same_text(*p, b->field, want)) return *p;
    /* a hash collision (or no such key): look at every object */
    for (size_t i = 0; p && i < qs->n; i++)
        if (same_text(qs->items[i], b->field, want)) return qs->items[i];
    return NULL;
}
