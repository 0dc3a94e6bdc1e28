/*
** write.c - objects, results and rows as JSON (include/corm/json.h).
** Reads what is in memory: loaded fields, annotations, relation caches
** (through the accessors, which do not query a loaded relation) and
** to_attr lists.  Never runs a statement.
*/
#include "json_int.h"

#include <stdio.h>
#include <string.h>

/* The objects being written, outermost first: one of them met again (a
** back-reference a prefetch set) is not nested a second time. */
#define MAX_NEST 32
typedef struct wctx {
    const void *stack[MAX_NEST];
    int depth;
    corm_error *err;
} wctx;

static bool on_stack(const wctx *c, const void *obj)
{
    for (int i = 0; i < c->depth; i++)
        if (c->stack[i] == obj) return true;
    return false;
}

static bool picked(const char *const *pick, const char *name)
{
    if (!pick) return true;
    for (; *pick; pick++)
        if (strcmp(*pick, name) == 0) return true;
    return false;
}

static bool put(wctx *c, json_t *o, const char *key, json_t *v)
{
    if (v && json_object_set_new(o, key, v) == 0) return true;
    if (v || c->err->rc == CORM_OK)
        corm__err_set(c->err, CORM_NOMEM, "out of memory writing %s as JSON", key);
    return false;
}

static json_t *obj_json(wctx *c, const void *obj, const char *const *pick, bool flat);

/* The objects of a list, each nested, those already being written left out. */
static json_t *list_json(wctx *c, const corm_list *l)
{
    json_t *a = json_array();
    if (!a) return NULL;
    for (size_t i = 0; l && i < l->n; i++) {
        if (on_stack(c, l->items[i])) continue;
        json_t *o = obj_json(c, l->items[i], NULL, false);
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The loaded relations of obj, nested; false on failure (err set). */
static bool relations_json(wctx *c, json_t *o, const void *obj, const char *const *pick)
{
    const corm_obj *h = obj;
    const corm_model *m = h->model;
    for (int ri = 0; ri < m->nrels; ri++) {
        const corm_relation *r = &m->rels[ri];
        if (!(h->rel_loaded & ((uint64_t)1 << r->slot)) || !picked(pick, r->name)) continue;
        /* loaded: the accessor returns the cache (and tells the N+1
        ** tooling the eager load was used); it runs no query */
        void *self = (void *)obj;
        json_t *v;
        if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O || r->kind == CORM_REL_REVERSE_O2O) {
            void *kid = corm_related_at(self, ri, CORM_SITE);
            if (kid && on_stack(c, kid)) continue;
            v = kid ? obj_json(c, kid, NULL, false) : json_null();
        } else {
            v = list_json(c, corm_related_set_at(self, ri, CORM_SITE));
        }
        if (!put(c, o, r->name, v)) return false;
    }
    if (!h->batch) return true;
    for (const corm__attr *a = h->batch->attrs; a; a = a->next) {
        const corm_list *l = corm_attr(obj, a->name);
        if (!l || !picked(pick, a->name)) continue;
        if (!put(c, o, a->name, list_json(c, l))) return false;
    }
    return true;
}

static json_t *obj_json(wctx *c, const void *obj, const char *const *pick, bool flat)
{
    const corm_obj *h = obj;
    const corm_model *m = h->model;
    json_t *o = json_object();
    if (!o) {
        corm__err_set(c->err, CORM_NOMEM, "out of memory writing a %s as JSON", m->name);
        return NULL;
    }
    char what[160], key[136];
    for (int i = 0; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        if ((h->deferred & ((uint64_t)1 << i)) || !picked(pick, f->name)) continue;
        bool fk = f->type == CORM_FT_FK || f->type == CORM_FT_O2O;
        snprintf(key, sizeof key, fk ? "%s_id" : "%s", f->name);
        snprintf(what, sizeof what, "%s.%s", m->name, f->name);
        if (!put(c, o, key, corm__json_field(obj, f, what, c->err))) goto fail;
    }
    const corm_batch *b = h->batch;
    for (int i = 0; h->annots && b && i < b->nannots; i++) {
        const char *name = b->annots[i].name;
        if (!picked(pick, name)) continue;
        snprintf(what, sizeof what, "%s annotation %s", m->name, name);
        if (!put(c, o, name, corm__json_value(NULL, h->annots[i], what, c->err))) goto fail;
    }
    if (!flat && c->depth < MAX_NEST) {
        c->stack[c->depth++] = obj;
        bool ok = relations_json(c, o, obj, pick);
        c->depth--;
        if (!ok) goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* An unknown name in opts->fields: CORM_SCHEMA with the names there are. */
static bool check_pick(const corm_model *m, const corm_batch *b, const char *const *pick,
                       const corm_qs *rows, corm_error *err)
{
    for (; pick && *pick; pick++) {
        const char *p = *pick;
        bool known = false;
        if (rows) {
            known = corm_qs_colindex(rows, p) >= 0;
        } else {
            for (int i = 0; !known && i < m->nfields; i++) known = !strcmp(m->fields[i].name, p);
            for (int i = 0; !known && i < m->nrels; i++) known = !strcmp(m->rels[i].name, p);
            for (int i = 0; !known && b && i < b->nannots; i++)
                known = !strcmp(b->annots[i].name, p);
            for (const corm__attr *a = b ? b->attrs : NULL; !known && a; a = a->next)
                known = !strcmp(a->name, p);
        }
        if (known) continue;
        corm_buf names;
        corm__buf_init(&names);
        if (rows) {
            for (size_t i = 0; i < corm_qs_ncols(rows); i++)
                corm__buf_addf(&names, "%s%s", i ? ", " : "", corm_qs_colname(rows, i));
        } else {
            for (int i = 0; i < m->nfields; i++)
                corm__buf_addf(&names, "%s%s", i ? ", " : "", m->fields[i].name);
            for (int i = 0; i < m->nrels; i++) corm__buf_addf(&names, ", %s", m->rels[i].name);
            for (int i = 0; b && i < b->nannots; i++)
                corm__buf_addf(&names, ", %s", b->annots[i].name);
        }
        corm__err_set(err, CORM_SCHEMA, "corm_json: no field, relation or column called '%s'%s%s",
                      p, rows ? "" : " on ", rows ? "" : m->name);
        corm__err_hint(err, "name one of: %s", corm__buf_cstr(&names));
        corm__buf_free(&names);
        return false;
    }
    return true;
}

json_t *corm_json_obj(const void *obj, const corm_json_opts *opts, corm_error *err)
{
    corm_error scratch;
    if (!err) err = &scratch;
    corm__err_clear(err);
    const corm_obj *h = obj;
    if (!h || !h->model) {
        corm__err_set(err, CORM_MISUSE, "corm_json_obj: the object is NULL%s",
                      h ? " or not a model's" : "");
        corm__err_hint(err, "pass an object corm loaded, or one made with CORM_NEW(Model)");
        return NULL;
    }
    const char *const *pick = opts ? opts->fields : NULL;
    if (!check_pick(h->model, h->batch, pick, NULL, err)) return NULL;
    wctx c = {.err = err};
    return obj_json(&c, obj, pick, opts && opts->flat);
}

/* The field a values() column names ("price", "author__name"), for its
** type, or NULL (an annotation, a raw column). */
static const corm_field *column_field(const corm_model *m, const char *col)
{
    while (m) {
        const char *sep = strstr(col, "__");
        size_t n = sep ? (size_t)(sep - col) : strlen(col);
        if (!sep) {
            for (int i = 0; i < m->nfields; i++)
                if (strlen(m->fields[i].name) == n && !strncmp(m->fields[i].name, col, n))
                    return &m->fields[i];
            if (n == 2 && !strncmp(col, "pk", 2)) return &m->fields[0];
            return NULL;
        }
        const corm_model *next = NULL;
        for (int i = 0; i < m->nrels && !next; i++) {
            const corm_relation *r = &m->rels[i];
            if ((r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O ||
                 r->kind == CORM_REL_REVERSE_O2O) &&
                strlen(r->name) == n && !strncmp(r->name, col, n))
                next = m->schema->models[r->target];
        }
        m = next;
        col = sep + 2;
    }
    return NULL;
}

static json_t *rows_json(const corm_qs *qs, const char *const *pick, corm_error *err)
{
    json_t *a = json_array();
    size_t ncols = corm_qs_ncols(qs);
    const corm_model *m = qs->raw_rows ? NULL : qs->q.model;
    char what[160];
    for (size_t row = 0; a && row < qs->rows.nrows; row++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o) != 0) goto nomem;
        for (size_t col = 0; col < ncols; col++) {
            const char *name = corm_qs_colname(qs, col);
            if (!picked(pick, name)) continue;
            snprintf(what, sizeof what, "row %zu, column %s", row, name);
            json_t *v =
                corm__json_value(column_field(m, name), *corm_qs_cell(qs, row, col), what, err);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            if (json_object_set_new(o, name, v) != 0) goto nomem;
        }
    }
    if (a) return a;
nomem:
    json_decref(a);
    corm__err_set(err, CORM_NOMEM, "out of memory writing a result as JSON");
    return NULL;
}

json_t *corm_json_qs(const corm_qs *qs, const corm_json_opts *opts, corm_error *err)
{
    corm_error scratch;
    if (!err) err = &scratch;
    corm__err_clear(err);
    if (!qs || !qs->evaluated || qs->err.rc != CORM_OK) {
        corm__err_set(err, CORM_MISUSE, "corm_json_qs: the queryset is %s",
                      !qs                     ? "NULL"
                      : qs->err.rc != CORM_OK ? "failed"
                                              : "not evaluated");
        corm__err_hint(err, "%s",
                       qs && qs->err.rc != CORM_OK ? "read corm_qs_error(qs) for why"
                                                   : "evaluate it first (corm_eval, corm_foreach): "
                                                     "writing JSON runs no query");
        return NULL;
    }
    const char *const *pick = opts ? opts->fields : NULL;
    bool rows = qs->raw_rows || qs->q.values_mode || qs->q.aggregate;
    if (rows) return check_pick(NULL, NULL, pick, qs, err) ? rows_json(qs, pick, err) : NULL;
    const corm_batch *b = qs->n ? ((const corm_obj *)qs->items[0])->batch : NULL;
    if (!check_pick(qs->q.model, b, pick, NULL, err)) return NULL;
    json_t *a = json_array();
    wctx c = {.err = err};
    for (size_t i = 0; a && i < qs->n; i++) {
        json_t *o = obj_json(&c, qs->items[i], pick, opts && opts->flat);
        if (!o) {
            json_decref(a);
            return NULL;
        }
        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    if (!a) corm__err_set(err, CORM_NOMEM, "out of memory writing a result as JSON");
    return a;
}
