/*
** scope.c - default scopes (Django's custom default manager): the values
** of runtime scopes on a db, and opting a queryset out of its model's
** scopes.  The compiler applies them (src/sql/compile_write.c); a runtime
** scope without a value fails the query rather than show every tenant.
*/
#include "qs_int.h"

#include <string.h>

/* The fields of db's schema that a runtime scope called name filters. */
static int scoped_fields(const corm_schema *s, const char *name, const corm_field **out, int max)
{
    int n = 0;
    for (int i = 0; s && i < s->nmodels; i++) {
        const corm_model *m = s->models[i];
        for (int k = 0; k < m->nscopes; k++) {
            const corm_scope *sc = &m->scopes[k];
            if (sc->kind != CORM_SCOPE_RUNTIME || sc->field < 0 || sc->field >= m->nfields)
                continue;
            if (name && strcmp(m->fields[sc->field].name, name) != 0) continue;
            if (n < max) out[n] = &m->fields[sc->field];
            n++;
        }
    }
    return n;
}

static bool value_fits(const corm_field *f, corm_vtype t)
{
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return t == CORM_V_INT;
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL: return t == CORM_V_INT || t == CORM_V_FLOAT || t == CORM_V_DECIMAL;
    case CORM_FT_BOOL: return t == CORM_V_BOOL || t == CORM_V_INT;
    case CORM_FT_BLOB: return false;
    default: return t == CORM_V_TEXT;
    }
}

corm_rc corm_scope_set(corm_db *db, const char *name, corm_value v)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    corm__scope_env *env = &db->scopes;
    if (!name || !*name || strlen(name) >= sizeof env->vals[0].name) {
        corm__err_set(&db->err, CORM_INVALID, "corm_scope_set: no scope name");
        corm__err_hint(&db->err, "pass the scoped field's name, e.g. \"tenant_id\"");
        return CORM_INVALID;
    }
    const corm_field *fields[16];
    int nf = scoped_fields(db->schema, name, fields, 16);
    if (nf == 0) {
        corm_buf names;
        corm__buf_init(&names);
        const corm_field *all[64];
        int na = scoped_fields(db->schema, NULL, all, 64);
        for (int i = 0; i < na && i < 64; i++) {
            bool dup = false;
            for (int k = 0; k < i; k++) dup = dup || strcmp(all[k]->name, all[i]->name) == 0;
            if (!dup) corm__buf_addf(&names, "%s%s", names.len ? ", " : "", all[i]->name);
        }
        corm__err_set(&db->err, CORM_INVALID, "corm_scope_set: no model has a runtime scope '%s'",
                      name);
        if (names.len)
            corm__err_hint(&db->err, "runtime scopes of this schema: %s", corm__buf_cstr(&names));
        else
            corm__err_hint(&db->err,
                           "declare one in the schema: `scope %s` in a model with that "
                           "field",
                           name);
        corm__buf_free(&names);
        return CORM_INVALID;
    }
    for (int i = 0; i < nf && i < 16; i++) {
        if (!value_fits(fields[i], v.type)) {
            corm__err_set(&db->err, CORM_TYPE,
                          "corm_scope_set('%s'): the field is %s, the value "
                          "is not",
                          name, corm__ftype_name(fields[i]->type));
            corm__err_hint(&db->err, "pass %s",
                           fields[i]->type == CORM_FT_CHAR || fields[i]->type == CORM_FT_TEXT
                               ? "corm_text(...)"
                               : "corm_int(...)");
            return CORM_TYPE;
        }
    }
    int k = 0;
    while (k < env->n && strcmp(env->vals[k].name, name) != 0) k++;
    if (k == env->n && env->n == CORM__MAX_SCOPES) {
        corm__err_set(&db->err, CORM_INVALID, "corm_scope_set: more than %d scopes",
                      CORM__MAX_SCOPES);
        corm__err_hint(&db->err, "clear scopes no longer used with corm_scope_clear");
        return CORM_INVALID;
    }
    if (v.type == CORM_V_TEXT) {
        size_t n = v.u.s.n == (size_t)-1 ? strlen(v.u.s.p) : v.u.s.n;
        if (n >= sizeof env->vals[0].text || memchr(v.u.s.p, '\0', n)) {
            corm__err_set(&db->err, CORM_INVALID,
                          "corm_scope_set('%s'): the text is longer "
                          "than %zu bytes or holds a NUL",
                          name, sizeof env->vals[0].text - 1);
            return CORM_INVALID;
        }
        memcpy(env->vals[k].text, v.u.s.p, n);
        env->vals[k].text[n] = '\0';
        v = corm_text(env->vals[k].text);
    }
    corm__strlcpy(env->vals[k].name, name, sizeof env->vals[k].name);
    env->vals[k].v = v;
    if (k == env->n) env->n++;
    return CORM_OK;
}

void corm_scope_clear(corm_db *db, const char *name)
{
    CORM__DB_ENTER(db, );
    corm__scope_env *env = &db->scopes;
    if (!name) {
        env->n = 0;
        return;
    }
    for (int k = 0; k < env->n; k++) {
        if (strcmp(env->vals[k].name, name) != 0) continue;
        for (int j = k; j + 1 < env->n; j++) {
            env->vals[j] = env->vals[j + 1];
            /* a text value points into its own slot: follow the move */
            if (env->vals[j].v.type == CORM_V_TEXT) env->vals[j].v.u.s.p = env->vals[j].text;
        }
        env->n--;
        return;
    }
}

void corm_unscoped(corm_qs *qs)
{
    if (!qs || qs->err.rc != CORM_OK) return;
    if (qs->evaluated) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_unscoped on a queryset that was already "
                      "evaluated");
        corm__err_hint(&qs->err, "call corm_unscoped before iterating, counting or getting");
        return;
    }
    qs->q.unscoped = true;
    corm__qs_uncache(qs);
}

void *const *corm_qs_items(const corm_qs *qs) { return qs && qs->evaluated ? qs->items : NULL; }
