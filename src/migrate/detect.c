/*
** detect.c - the autodetector (Django's MigrationAutodetector): the
** operations that take state `from` to state `to`, both canonical lines.
**
** Renames are never guessed: a model or field missing on one side and new
** on the other is a drop and a create unless the caller names the rename
** ("Old:New", "Model.old:new").  The order keeps every intermediate state
** a valid schema:
**   1. renames asked for;
**   2. new models, a model before the models whose fks point at it, without
**      their m2m fields;
**   3. relations pointed at another model (before their old target may be
**      dropped), removed indexes, then removed fields of kept models;
**   4. dropped models, one pointed at after the ones pointing at it;
**   5. added and altered fields (m2m of new models too);
**   6. added indexes; 7. changed options (table, ordering, scope).
*/
#include "mig_int.h"

#include <stdio.h>
#include <string.h>

typedef struct det {
    corm_arena *a;
    corm__migration *out;
    int cap;
    corm_error *err;
} det;

static corm_rc nomem(corm_error *err)
{
    corm__err_set(err, CORM_NOMEM, "out of memory in makemigrations");
    return CORM_NOMEM;
}

static corm__op *new_op(det *d, corm__opkind kind, const char *model)
{
    corm__migration *m = d->out;
    if (!corm__arena_grow(d->a, (void **)&m->ops, m->nops, &d->cap, sizeof *m->ops)) return NULL;
    corm__op *op = &m->ops[m->nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->model = model;
    return op;
}

static bool op_line(det *d, corm__op *op, const char *line, char sign)
{
    const char **p = corm__arena_alloc(d->a, (size_t)(op->nlines + 1) * sizeof *p);
    if (!p) return false;
    if (op->nlines) memcpy(p, op->lines, (size_t)op->nlines * sizeof *p);
    if (sign) {
        size_t n = strlen(line);
        char *l = corm__arena_alloc(d->a, n + 2);
        if (!l) return false;
        l[0] = sign;
        memcpy(l + 1, line, n + 1);
        line = l;
    }
    p[op->nlines++] = line;
    op->lines = p;
    return true;
}

static const corm__smodel *find(const corm__state *s, const char *name)
{
    for (int i = 0; i < s->nmodels; i++)
        if (strcmp(s->models[i].name, name) == 0) return &s->models[i];
    return NULL;
}

static const char *line_with_key(const corm__smodel *m, const char *key, size_t n)
{
    for (int i = 0; i < m->nlines; i++) {
        const char *k;
        size_t kn = corm__line_key(m->lines[i], &k);
        if (kn == n && strncmp(k, key, n) == 0) return m->lines[i];
    }
    return NULL;
}

/* The type of a field line, after "name: " ("m2m(Tag, ...)"): never a
** match inside a default string. */
static const char *field_type(const char *line)
{
    const char *c = strstr(line, ": ");
    return c ? c + 2 : "";
}

static bool is_m2m(const char *line)
{
    return corm__line_is_field(line) && strncmp(field_type(line), "m2m(", 4) == 0;
}

/* The model a relation line points at ("author: fk(Author, ...)"). */
static bool points_at(const char *line, const char *model)
{
    if (!corm__line_is_field(line)) return false;
    const char *t = field_type(line);
    const char *p = strchr(t, '(');
    if (!p || !(strncmp(t, "fk(", 3) == 0 || strncmp(t, "one_to_one(", 11) == 0 ||
                strncmp(t, "m2m(", 4) == 0))
        return false;
    size_t n = strlen(model);
    return strncmp(p + 1, model, n) == 0 && (p[1 + n] == ',' || p[1 + n] == ')');
}

/* The target of a fk or one-to-one line ("fk(Author, ...)": "Author"),
** its length in *n, or NULL. */
static const char *fk_target(const char *line, size_t *n)
{
    if (!corm__line_is_field(line)) return NULL;
    const char *t = field_type(line);
    if (strncmp(t, "fk(", 3) != 0 && strncmp(t, "one_to_one(", 11) != 0) return NULL;
    const char *p = strchr(t, '(') + 1;
    *n = strcspn(p, ",)");
    return p;
}

/* A kept relation field that points at another model now: altered before
** models are dropped (its old target may be one of them). */
static bool retargeted(const char *old, const char *line)
{
    size_t n1 = 0, n2 = 0;
    const char *t1 = fk_target(old, &n1), *t2 = fk_target(line, &n2);
    return t1 && t2 && (n1 != n2 || strncmp(t1, t2, n1) != 0);
}

static bool refers_to(const corm__smodel *m, const char *model, bool with_m2m)
{
    for (int i = 0; i < m->nlines; i++)
        if (points_at(m->lines[i], model) && (with_m2m || !is_m2m(m->lines[i])) &&
            strcmp(model, m->name) != 0)
            return true;
    return false;
}

static corm_rc apply_renames(det *d, corm__state *from, const corm__state *to,
                             const char *const *renames, int n)
{
    for (int i = 0; i < n; i++) {
        const char *r = renames[i];
        const char *colon = strchr(r, ':');
        const char *dot = strchr(r, '.');
        if (!colon || colon == r || !colon[1] || (dot && dot > colon)) {
            corm__err_set(d->err, CORM_INVALID, "--rename %s: expected Old:New or Model.old:new",
                          r);
            corm__err_hint(d->err, "e.g. --rename Book:Volume or --rename Book.title:name");
            return CORM_INVALID;
        }
        corm__op *op;
        if (dot) {
            op = new_op(d, CORM__OP_RENAME_FIELD, corm__arena_strndup(d->a, r, (size_t)(dot - r)));
            if (op) op->name = corm__arena_strndup(d->a, dot + 1, (size_t)(colon - dot - 1));
        } else {
            op =
                new_op(d, CORM__OP_RENAME_MODEL, corm__arena_strndup(d->a, r, (size_t)(colon - r)));
        }
        if (!op || !op->model || (dot && !op->name) ||
            !(op->to = corm__arena_strdup(d->a, colon + 1)))
            return nomem(d->err);
        const corm__smodel *m = find(from, op->model);
        if (!m) {
            corm__err_set(d->err, CORM_INVALID, "--rename %s: the migrations have no model %s", r,
                          op->model);
            corm__err_hint(d->err, "name the model as the last migration knows it");
            return CORM_INVALID;
        }
        if (dot && !line_with_key(m, op->name, strlen(op->name))) {
            corm__err_set(d->err, CORM_INVALID, "--rename %s: model %s has no field %s", r,
                          op->model, op->name);
            return CORM_INVALID;
        }
        if (!dot && !find(to, op->to)) {
            corm__err_set(d->err, CORM_INVALID, "--rename %s: the schema has no model %s", r,
                          op->to);
            return CORM_INVALID;
        }
        corm_rc rc = corm__state_apply(from, NULL, op, d->err);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

#define DET_NAME_MAX 63 /* schema names are at most 63 bytes */

/* The schema's renamed_from hints that still apply: the old name is in
** the migrations' state and the new one is not (a hint left in the schema
** after its migration is made does nothing). */
static corm_rc apply_hints(det *d, corm__state *from, const corm__state *to,
                           const char *const *hints, int n)
{
    for (int i = 0; i < n; i++) {
        const char *h = hints[i], *colon = strchr(h, ':'), *dot = strchr(h, '.');
        if (!colon) continue;
        char model[DET_NAME_MAX + 1], old[DET_NAME_MAX + 1];
        size_t ml = (size_t)((dot && dot < colon ? dot : colon) - h);
        if (ml > DET_NAME_MAX) continue;
        memcpy(model, h, ml);
        model[ml] = '\0';
        const corm__smodel *m;
        if (!dot || dot > colon) { /* Old:New */
            if (!find(from, model) || find(from, colon + 1)) continue;
        } else { /* Model.old:new */
            size_t ol = (size_t)(colon - dot - 1);
            if (ol > DET_NAME_MAX) continue;
            memcpy(old, dot + 1, ol);
            old[ol] = '\0';
            if (!(m = find(from, model)) || !line_with_key(m, old, ol) ||
                line_with_key(m, colon + 1, strlen(colon + 1)))
                continue;
        }
        corm_rc rc = apply_renames(d, from, to, &h, 1);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

corm_rc corm__autodetect(corm_arena *a, const corm__state *from0, const corm__state *to,
                         const char *const *renames, int nrenames, const char *const *hints,
                         int nhints, corm__migration *out, corm_error *err)
{
    det d = {a, out, 0, err};
    memset(out, 0, sizeof *out);
    corm__state from;
    if (!corm__state_copy(&from, from0)) return nomem(err);
    corm_rc rc = apply_renames(&d, &from, to, renames, nrenames);
    if (rc == CORM_OK) rc = apply_hints(&d, &from, to, hints, nhints);
    if (rc != CORM_OK) return rc;

    /* 2. new models, in an order where a model comes after its targets */
    int nnew = 0;
    bool *done = corm__arena_zalloc(a, (size_t)(to->nmodels + 1) * sizeof *done);
    if (!done) return nomem(err);
    for (int i = 0; i < to->nmodels; i++)
        if (find(&from, to->models[i].name)) done[i] = true;
        else nnew++;
    while (nnew > 0) {
        int picked = -1;
        for (int i = 0; i < to->nmodels && picked < 0; i++) {
            if (done[i]) continue;
            bool ready = true;
            for (int j = 0; j < to->nmodels && ready; j++)
                if (!done[j] && j != i && refers_to(&to->models[i], to->models[j].name, false))
                    ready = false;
            if (ready) picked = i;
        }
        if (picked < 0) /* a cycle of fks: take the first, SQLite does not mind */
            for (int i = 0; i < to->nmodels && picked < 0; i++)
                if (!done[i]) picked = i;
        const corm__smodel *m = &to->models[picked];
        corm__op *op = new_op(&d, CORM__OP_CREATE_MODEL, m->name);
        if (!op) return nomem(err);
        for (int j = 0; j < m->nlines; j++)
            if (!is_m2m(m->lines[j]) && !op_line(&d, op, m->lines[j], 0)) return nomem(err);
        done[picked] = true;
        nnew--;
    }

    /* 3. relations pointed at another model; removed indexes, then
    ** removed fields, of kept models */
    for (int i = 0; i < to->nmodels; i++) {
        const corm__smodel *tm = &to->models[i], *fm = find(&from, tm->name);
        for (int j = 0; fm && j < tm->nlines; j++) {
            const char *k, *l = tm->lines[j];
            size_t n = corm__line_key(l, &k);
            const char *old = line_with_key(fm, k, n);
            if (!old || !retargeted(old, l)) continue;
            corm__op *op = new_op(&d, CORM__OP_ALTER_FIELD, tm->name);
            if (!op || !op_line(&d, op, old, '-') || !op_line(&d, op, l, '+')) return nomem(err);
        }
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < from.nmodels; i++) {
            const corm__smodel *fm = &from.models[i];
            const corm__smodel *tm = find(to, fm->name);
            if (!tm) continue;
            for (int j = 0; j < fm->nlines; j++) {
                const char *l = fm->lines[j];
                bool want = pass == 0 ? corm__line_is_index(l) : corm__line_is_field(l);
                if (!want) continue;
                const char *k;
                size_t n = corm__line_key(l, &k);
                if (line_with_key(tm, k, n)) continue;
                corm__op *op =
                    new_op(&d, pass == 0 ? CORM__OP_REMOVE_INDEX : CORM__OP_REMOVE_FIELD, fm->name);
                if (!op || !op_line(&d, op, l, 0)) return nomem(err);
            }
        }

    /* 4. dropped models: one nobody (still to drop) points at first */
    int ndrop = 0;
    bool *gone = corm__arena_zalloc(a, (size_t)(from.nmodels + 1) * sizeof *gone);
    if (!gone) return nomem(err);
    for (int i = 0; i < from.nmodels; i++)
        if (find(to, from.models[i].name)) gone[i] = true;
        else ndrop++;
    while (ndrop > 0) {
        int picked = -1;
        for (int i = 0; i < from.nmodels && picked < 0; i++) {
            if (gone[i]) continue;
            bool free_ = true;
            for (int j = 0; j < from.nmodels && free_; j++)
                if (!gone[j] && j != i && refers_to(&from.models[j], from.models[i].name, true))
                    free_ = false;
            if (free_) picked = i;
        }
        if (picked < 0)
            for (int i = 0; i < from.nmodels && picked < 0; i++)
                if (!gone[i]) picked = i;
        const corm__smodel *m = &from.models[picked];
        corm__op *op = new_op(&d, CORM__OP_DROP_MODEL, m->name);
        if (!op) return nomem(err);
        for (int j = 0; j < m->nlines; j++)
            if (!op_line(&d, op, m->lines[j], 0)) return nomem(err);
        gone[picked] = true;
        ndrop--;
    }

    /* 5. added and altered fields; 6. added indexes; 7. options */
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < to->nmodels; i++) {
            const corm__smodel *tm = &to->models[i];
            const corm__smodel *fm = find(&from, tm->name);
            corm__op *opts = NULL;
            for (int j = 0; j < tm->nlines; j++) {
                const char *l = tm->lines[j];
                const char *k;
                size_t n = corm__line_key(l, &k);
                if (!fm) { /* a new model: only its m2m fields are left */
                    if (pass == 0 && is_m2m(l)) {
                        corm__op *op = new_op(&d, CORM__OP_ADD_FIELD, tm->name);
                        if (!op || !op_line(&d, op, l, 0)) return nomem(err);
                    }
                    continue;
                }
                const char *old = line_with_key(fm, k, n);
                if (pass == 0 && corm__line_is_field(l)) {
                    if (!old) {
                        corm__op *op = new_op(&d, CORM__OP_ADD_FIELD, tm->name);
                        if (!op || !op_line(&d, op, l, 0)) return nomem(err);
                    } else if (strcmp(old, l) != 0 && !retargeted(old, l)) {
                        corm__op *op = new_op(&d, CORM__OP_ALTER_FIELD, tm->name);
                        if (!op || !op_line(&d, op, old, '-') || !op_line(&d, op, l, '+'))
                            return nomem(err);
                    }
                } else if (pass == 1 && corm__line_is_index(l) && !old) {
                    corm__op *op = new_op(&d, CORM__OP_ADD_INDEX, tm->name);
                    if (!op || !op_line(&d, op, l, 0)) return nomem(err);
                } else if (pass == 2 && !corm__line_is_field(l) && !corm__line_is_index(l) &&
                           !old) {
                    if (!opts && !(opts = new_op(&d, CORM__OP_ALTER_MODEL, tm->name)))
                        return nomem(err);
                    if (!op_line(&d, opts, l, '+')) return nomem(err);
                }
            }
            if (pass != 2 || !fm) continue;
            for (int j = 0; j < fm->nlines; j++) {
                const char *l = fm->lines[j];
                if (corm__line_is_field(l) || corm__line_is_index(l)) continue;
                if (line_with_key(tm, l, strlen(l))) continue;
                if (!opts && !(opts = new_op(&d, CORM__OP_ALTER_MODEL, tm->name)))
                    return nomem(err);
                if (!op_line(&d, opts, l, '-')) return nomem(err);
            }
        }
    return CORM_OK;
}
