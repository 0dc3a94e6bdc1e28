/*
** read.c - a new object from a JSON object (corm_json_new): every field
** checked, every bad one reported in one error, then the object and its
** strings made as one block.
*/
#include "json_int.h"

#include <stdio.h>
#include <string.h>

/* What the JSON gives one field. */
typedef struct slot {
    enum { ABSENT, GIVEN_NULL, GIVEN } state;
    corm_value v;
    void *owned; /* a json field's text, a blob's bytes */
} slot;

/* Fields JSON does not fill: the primary key (the object is new:
** corm_save inserts it) and auto_now / auto_now_add ones (set on save),
** as Django's forms and REST serializers leave them read-only. */
static bool read_only(const corm_field *f)
{
    return (f->flags & (CORM_FF_PK | CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD)) != 0;
}

static bool required(const corm_field *f)
{
    return !(f->flags & (CORM_FF_NULL | CORM_FF_HAS_DEFAULT)) && !read_only(f);
}

/* The JSON value for f: its name, or for a foreign key "<name>_id", or
** "<name>" when that holds a key (an integer or null, not the nested
** object corm_json_obj writes). */
static const json_t *lookup(const json_t *in, const corm_field *f)
{
    if (f->type != CORM_FT_FK && f->type != CORM_FT_O2O) return json_object_get(in, f->name);
    char key[136];
    snprintf(key, sizeof key, "%s_id", f->name);
    const json_t *v = json_object_get(in, key);
    if (v) return v;
    v = json_object_get(in, f->name);
    return v && (json_is_integer(v) || json_is_null(v)) ? v : NULL;
}

/* One bad field: into the message, and into errors when asked. */
static void bad(corm_buf *msg, json_t *errors, int *nbad, const char *field, const char *why)
{
    corm__buf_addf(msg, "%s%s: %s", (*nbad)++ ? "; " : "", field, why);
    if (errors) json_object_set_new(errors, field, json_string(why));
}

static size_t value_bytes(const corm_field *f, corm_value v)
{
    if (f->type == CORM_FT_BLOB) return v.u.s.n;
    return v.type == CORM_V_TEXT ? strlen(v.u.s.p) + 1 : 0;
}

static void *fill(const corm_model *m, const void *init, slot *s, corm_error *err)
{
    size_t bytes = m->size;
    for (int i = 0; i < m->nfields; i++)
        if (s[i].state == GIVEN) bytes += value_bytes(&m->fields[i], s[i].v);
    char *obj = corm__malloc(bytes);
    if (!obj) {
        corm__err_set(err, CORM_NOMEM, "out of memory making a %s from JSON", m->name);
        return NULL;
    }
    memcpy(obj, init, m->size);
    corm_obj *h = (corm_obj *)obj;
    h->batch = NULL;
    h->deferred = h->rel_loaded = 0;
    h->annots = NULL;
    char *heap = obj + m->size;
    for (int i = 0; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        if (s[i].state == ABSENT) continue;
        if (s[i].state == GIVEN) corm__json_store(obj, f, s[i].v, &heap);
        corm_set_null(obj, f->name, s[i].state == GIVEN_NULL);
    }
    return obj;
}

void *corm_json_new_from(const void *init, const json_t *in, json_t *errors, corm_error *err)
{
    corm_error scratch;
    if (!err) err = &scratch;
    corm__err_clear(err);
    const corm_obj *h = init;
    if (!h || !h->model || !h->model->size) {
        corm__err_set(err, CORM_MISUSE, "corm_json_new: %s",
                      !h ? "the initial object is NULL"
                         : "the initial object is not one of a generated model");
        corm__err_hint(err, "use corm_json_new(Model, in, errors, err) with a generated Model");
        return NULL;
    }
    const corm_model *m = h->model;
    if (!json_is_object(in)) {
        corm__err_set(err, CORM_MISUSE, "corm_json_new: a %s is made from a JSON object, not %s",
                      m->name, in ? "this JSON value" : "NULL");
        corm__err_hint(err, "parse the request body with json_loads and pass the object");
        return NULL;
    }
    slot s[CORM_MAX_FIELDS] = {0};
    corm_buf msg;
    corm__buf_init(&msg);
    int nbad = 0;
    char why[160];
    for (int i = 0; i < m->nfields; i++) {
        const corm_field *f = &m->fields[i];
        const json_t *v = read_only(f) ? NULL : lookup(in, f);
        if (!v) {
            if (required(f)) bad(&msg, errors, &nbad, f->name, "required");
        } else if (json_is_null(v)) {
            if (f->flags & CORM_FF_NULL) s[i].state = GIVEN_NULL;
            else bad(&msg, errors, &nbad, f->name, "may not be null");
        } else {
            const char *r = corm__json_decode(f, v, &s[i].v, &s[i].owned, why, sizeof why);
            if (r) bad(&msg, errors, &nbad, f->name, r);
            else s[i].state = GIVEN;
        }
    }
    void *obj = NULL;
    if (nbad) {
        corm__err_set(err, CORM_INVALID, "%s: %d invalid field%s: %s", m->name, nbad,
                      nbad == 1 ? "" : "s", corm__buf_cstr(&msg));
        corm__err_hint(err, "send each field as docs/json.md says; nothing was made");
    } else {
        obj = fill(m, init, s, err);
    }
    for (int i = 0; i < m->nfields; i++) corm__free(s[i].owned);
    corm__buf_free(&msg);
    return obj;
}

void corm_json_free(void *obj) { corm__free(obj); }
