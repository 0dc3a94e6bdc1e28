/*
** delete.c - deleting with on_delete applied, as Django's Collector does.
**
** Collection walks every relation that points at the rows being deleted:
**   - CASCADE to a model nothing points at: a "fast delete", one
**     `DELETE FROM r WHERE fk IN <keys>` with no SELECT (m2m link rows too);
**   - CASCADE otherwise: one SELECT of the related rows per relation (for
**     any number of parents: the keys travel as one parameter), then the
**     same walk from them, depth first;
**   - SET_NULL: one `UPDATE r SET fk = NULL WHERE fk IN <keys>`, no SELECT
**     (Django >= 4.2's lazy sub-objects);
**   - PROTECT: the SELECT, and the objects are refused (collection goes on
**     so the error names every one); RESTRICT: the same, except objects
**     that the delete removes anyway through a cascade.
** Nothing is written until collection is complete: a refusal deletes
** nothing.  Then fast deletes, SET NULL updates, and one DELETE per model,
** the last-collected first, in one transaction (internal statements).
** A model nothing points at is deleted with one statement and no
** transaction, as Django's single-object fast path.
**
** Differences from Django, all in query counts for big deletes only:
** Django batches the collection SELECTs (500 parents on SQLite) and the
** DELETEs (100 ids); corm sends the keys as one parameter (json_each on
** SQLite, = ANY on PostgreSQL) and never splits.  For RESTRICT, Django may
** run one more SELECT to see whether a fast delete covers a restricted
** row; corm reads the row's keys with the first SELECT and checks in
** memory.
*/
#include "write_int.h"

#include <stdio.h>
#include <string.h>

#define NAMED_MAX 6 /* objects named per relation in a refusal */

typedef struct idset {
    corm_map seen;
    int64_t *ids;
    size_t n, cap;
} idset;

/* DELETE FROM table WHERE column IN keys (model NULL: an m2m link table,
** counted under the through model of owner's relation rel). */
typedef struct fast_del {
    const corm_model *model;
    const char *table, *column;
    int64_t *keys;
    size_t n;
    const corm_model *owner;
    const char *rel;
} fast_del;

/* UPDATE model SET field = NULL WHERE field IN keys. */
typedef struct set_null {
    const corm_model *model;
    const corm_field *field;
    idset keys;
} set_null;

/* Objects of `model` that point through `field` at rows being deleted and
** refuse it (PROTECT, RESTRICT).  fks: every fk column of each object, in
** field order (INT64_MIN for NULL), to tell whether a cascade takes them. */
typedef struct refusal {
    const corm_model *model;
    const corm_field *field;
    corm_on_delete how;
    int64_t *ids, *fks;
    size_t n;
    int nfk;
} refusal;

typedef struct collector {
    corm_db *db;
    const corm__dialect *d;
    corm_site site;
    const corm_schema *schema;
    idset *data; /* per model index: rows to delete */
    int *order;  /* model indexes in the order first collected */
    int norder;
    fast_del *fast;
    size_t nfast, capfast;
    set_null *nulls;
    size_t nnulls, capnulls;
    refusal *refused;
    size_t nrefused, caprefused;
    int64_t deleted;
    corm_deleted *out; /* per-label counts, or NULL */
} collector;

static corm_rc nomem(collector *c)
{
    corm__err_set(&c->db->err, CORM_NOMEM, "out of memory collecting rows to delete");
    return CORM_NOMEM;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need) n *= 2;
    void *q = corm__realloc(*p, n * size);
    if (!q) return false;
    *p = q;
    *cap = n;
    return true;
}

/* Add id to s; *added tells whether it was new. */
static bool idset_add(idset *s, int64_t id, bool *added)
{
    *added = false;
    if (corm__map_get(&s->seen, id)) return true;
    if (!grow((void **)&s->ids, &s->cap, s->n + 1, sizeof *s->ids)) return false;
    if (!corm__map_put(&s->seen, id, (void *)1)) return false;
    s->ids[s->n++] = id;
    *added = true;
    return true;
}

static void idset_free(idset *s)
{
    corm__map_free(&s->seen);
    corm__free(s->ids);
}

/* Whether any relation points at m's rows (then a delete must collect). */
static bool pointed_at(const corm_model *m)
{
    for (int i = 0; i < m->nrels; i++) {
        corm_rkind k = m->rels[i].kind;
        if (k == CORM_REL_REVERSE_FK || k == CORM_REL_REVERSE_O2O || k == CORM_REL_M2M ||
            k == CORM_REL_REVERSE_M2M)
            return true;
    }
    return false;
}

/* The statement of the write phase (src/sql: delete_in or set_null_in),
** run. */
static corm_rc run_keyed(collector *c, bool nullify, const char *table, const char *column,
                         const int64_t *keys, size_t n, const char *origin, int64_t *changes)
{
    corm__compiled cp;
    corm__compiled_init(&cp);
    corm_rc rc = nullify ? corm__compile_set_null_in(table, column, keys, n, c->d, &cp, &c->db->err)
                         : corm__compile_delete_in(table, column, keys, n, c->d, &cp, &c->db->err);
    if (rc == CORM_OK)
        rc = corm__db_run(c->db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, c->site, origin,
                          changes);
    corm__compiled_free(&cp);
    return rc;
}

static int fk_count(const corm_model *m)
{
    int n = 0;
    for (int i = 0; i < m->nfields; i++)
        n += m->fields[i].type == CORM_FT_FK || m->fields[i].type == CORM_FT_O2O;
    return n;
}

/* SELECT id and every fk column of model r WHERE field IN keys: the rows
** that point at the keys through field.  Arrays are malloc'd. */
static corm_rc select_related_rows(collector *c, const corm_model *r, const corm_field *field,
                                   const int64_t *keys, size_t n, int64_t **ids, int64_t **fks,
                                   size_t *nrows)
{
    *ids = *fks = NULL;
    *nrows = 0;
    const corm_field *cols[CORM_MAX_FIELDS];
    int ncols = 0;
    cols[ncols++] = &r->fields[0];
    for (int i = 0; i < r->nfields; i++)
        if (r->fields[i].type == CORM_FT_FK || r->fields[i].type == CORM_FT_O2O)
            cols[ncols++] = &r->fields[i];
    corm__compiled cp;
    corm__compiled_init(&cp);
    corm_rc rc = corm__compile_select_in(r, cols, ncols, field, keys, n, c->d, &cp, &c->db->err);
    int nfk = fk_count(r);
    size_t cap = 0, capf = 0;
    if (rc == CORM_OK) {
        corm__cursor cur;
        rc = corm__db_query(c->db, &cur, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, c->site,
                            (corm_site){0}, "collect");
        for (bool row = true; rc == CORM_OK && row;) {
            rc = corm__cursor_step(&cur, &row);
            if (rc != CORM_OK || !row) break;
            if (!grow((void **)ids, &cap, *nrows + 1, sizeof **ids) ||
                (nfk && !grow((void **)fks, &capf, (*nrows + 1) * (size_t)nfk, sizeof **fks))) {
                rc = nomem(c);
                break;
            }
            (*ids)[*nrows] = c->db->be->column_int(cur.stmt, 0);
            for (int k = 0; k < nfk; k++)
                (*fks)[*nrows * (size_t)nfk + (size_t)k] =
                    c->db->be->column_null(cur.stmt, 1 + k)
                        ? INT64_MIN
                        : c->db->be->column_int(cur.stmt, 1 + k);
            (*nrows)++;
        }
        if (cur.db) corm__cursor_close(&cur);
    }
    corm__compiled_free(&cp);
    if (rc != CORM_OK) {
        corm__free(*ids);
        corm__free(*fks);
        *ids = *fks = NULL;
        *nrows = 0;
    }
    return rc;
}

static corm_rc add_fast(collector *c, const fast_del *what, const int64_t *keys, size_t n)
{
    if (!grow((void **)&c->fast, &c->capfast, c->nfast + 1, sizeof *c->fast)) return nomem(c);
    int64_t *k = corm__malloc(n * sizeof *k);
    if (!k) return nomem(c);
    memcpy(k, keys, n * sizeof *k);
    fast_del *f = &c->fast[c->nfast++];
    *f = *what;
    f->keys = k;
    f->n = n;
    return CORM_OK;
}

/* Count n rows deleted under m's label ("schema.Model"), or, for an m2m's
** link rows, under its through model ("schema.Model_field", Django's name
** for an auto-created through model).  Zero counts are left out, as
** Django's Collector.delete does. */
static void tally(collector *c, const corm_model *m, const char *rel, int64_t n)
{
    c->deleted += n;
    corm_deleted *d = c->out;
    if (!d || n <= 0) return;
    d->total += n;
    char label[sizeof d->models[0].label];
    const char *app = c->schema && c->schema->name ? c->schema->name : "";
    if (rel) snprintf(label, sizeof label, "%s.%s_%s", app, m->name, rel);
    else snprintf(label, sizeof label, "%s.%s", app, m->name);
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->models[i].label, label) == 0) {
            d->models[i].count += n;
            return;
        }
    if (d->n == CORM_DELETED_MAX) {
        d->truncated = true;
        return;
    }
    corm__strlcpy(d->models[d->n].label, label, sizeof d->models[0].label);
    d->models[d->n++].count = n;
}

static corm_rc add_set_null(collector *c, const corm_model *m, const corm_field *f,
                            const int64_t *keys, size_t n)
{
    set_null *s = NULL;
    for (size_t i = 0; i < c->nnulls; i++)
        if (c->nulls[i].model == m && c->nulls[i].field == f) s = &c->nulls[i];
    if (!s) {
        if (!grow((void **)&c->nulls, &c->capnulls, c->nnulls + 1, sizeof *c->nulls))
            return nomem(c);
        s = &c->nulls[c->nnulls++];
        memset(s, 0, sizeof *s);
        s->model = m;
        s->field = f;
        corm__map_init(&s->keys.seen, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        bool added;
        if (!idset_add(&s->keys, keys[i], &added)) return nomem(c);
    }
    return CORM_OK;
}

static corm_rc collect(collector *c, const corm_model *m, const int64_t *ids, size_t n);

/* The rows of m just added (new) as parents: walk what points at them. */
static corm_rc collect_related(collector *c, const corm_model *m, const int64_t *keys, size_t n)
{
    corm_rc rc = CORM_OK;
    for (int i = 0; i < m->nrels && rc == CORM_OK; i++) {
        const corm_relation *rel = &m->rels[i];
        if (rel->kind == CORM_REL_M2M || rel->kind == CORM_REL_REVERSE_M2M) {
            /* the link rows: a cascade to a model nothing points at */
            fast_del f = {NULL, rel->through, rel->through_src, NULL, 0, m, rel->name};
            if (rel->kind == CORM_REL_REVERSE_M2M) {
                f.owner = corm__rel_target(m, rel);
                f.rel = f.owner->rels[rel->reverse].name;
            }
            rc = add_fast(c, &f, keys, n);
            continue;
        }
        if (rel->kind != CORM_REL_REVERSE_FK && rel->kind != CORM_REL_REVERSE_O2O) continue;
        const corm_model *r = corm__rel_target(m, rel);
        const corm_field *f = &r->fields[rel->field];
        corm_on_delete how = r->rels[rel->reverse].on_delete;
        if (how == CORM_CASCADE && !pointed_at(r)) {
            rc = add_fast(c, &(fast_del){r, r->table, f->column, NULL, 0, r, NULL}, keys, n);
            continue;
        }
        if (how == CORM_SET_NULL) {
            rc = add_set_null(c, r, f, keys, n);
            continue;
        }
        int64_t *rows = NULL, *fks = NULL;
        size_t nrows = 0;
        rc = select_related_rows(c, r, f, keys, n, &rows, &fks, &nrows);
        if (rc == CORM_OK && nrows) {
            if (how == CORM_CASCADE) {
                rc = collect(c, r, rows, nrows);
            } else {
                if (!grow((void **)&c->refused, &c->caprefused, c->nrefused + 1,
                          sizeof *c->refused)) {
                    rc = nomem(c);
                } else {
                    c->refused[c->nrefused++] = (refusal){r, f, how, rows, fks, nrows, fk_count(r)};
                    rows = fks = NULL; /* kept */
                }
            }
        }
        corm__free(rows);
        corm__free(fks);
    }
    return rc;
}

static corm_rc collect(collector *c, const corm_model *m, const int64_t *ids, size_t n)
{
    idset *s = &c->data[m->index];
    size_t first = s->n;
    if (!s->seen.cap && !s->n) {
        /* first rows of m: remember the order models were met */
        c->order[c->norder++] = m->index;
    }
    for (size_t i = 0; i < n; i++) {
        bool added;
        if (!idset_add(s, ids[i], &added)) return nomem(c);
    }
    if (s->n == first) return CORM_OK;
    /* the new rows only: a cycle stops when nothing new is found */
    int64_t *fresh = corm__malloc((s->n - first) * sizeof *fresh);
    if (!fresh) return nomem(c);
    memcpy(fresh, s->ids + first, (s->n - first) * sizeof *fresh);
    corm_rc rc = collect_related(c, m, fresh, s->n - first);
    corm__free(fresh);
    return rc;
}

/* Whether a restricted object (row i of f) goes anyway: collected for
** deletion, or matched by a fast delete of its model. */
static bool taken_anyway(collector *c, const refusal *f, size_t i)
{
    const corm_model *r = f->model;
    if (corm__map_get(&c->data[r->index].seen, f->ids[i])) return true;
    for (size_t k = 0; k < c->nfast; k++) {
        const fast_del *fd = &c->fast[k];
        if (fd->model != r) continue;
        int col = 0;
        for (int j = 0; j < r->nfields; j++) {
            const corm_field *x = &r->fields[j];
            if (x->type != CORM_FT_FK && x->type != CORM_FT_O2O) continue;
            if (strcmp(x->column, fd->column) == 0) {
                int64_t v = f->fks[i * (size_t)f->nfk + (size_t)col];
                for (size_t q = 0; v != INT64_MIN && q < fd->n; q++)
                    if (fd->keys[q] == v) return true;
            }
            col++;
        }
    }
    return false;
}

/* CORM_CONSTRAINT naming the refused objects; CORM_OK when none. */
static corm_rc refuse(collector *c, const corm_model *m, const int64_t *ids, size_t n)
{
    corm_on_delete kinds[2] = {CORM_PROTECT, CORM_RESTRICT};
    for (int k = 0; k < 2; k++) {
        corm_buf names, objs;
        corm__buf_init(&names);
        corm__buf_init(&objs);
        const char *first = NULL;
        size_t total = 0;
        char firstbuf[128] = "";
        for (size_t i = 0; i < c->nrefused; i++) {
            const refusal *f = &c->refused[i];
            if (f->how != kinds[k]) continue;
            size_t named = 0, kept = 0;
            for (size_t j = 0; j < f->n; j++) {
                if (kinds[k] == CORM_RESTRICT && taken_anyway(c, f, j)) continue;
                kept++;
                if (named == 0) {
                    corm__buf_addf(&names, "%s%s.%s", names.len ? ", " : "", f->model->name,
                                   f->field->name);
                    corm__buf_addf(&objs, "%s%s %lld", objs.len ? "; " : "", f->model->name,
                                   (long long)f->ids[j]);
                    if (!first) {
                        corm_buf t;
                        corm__buf_init(&t);
                        corm__buf_addf(&t, "%s.%s", f->model->name, f->field->name);
                        corm__strlcpy(firstbuf, corm__buf_cstr(&t), sizeof firstbuf);
                        corm__buf_free(&t);
                        first = firstbuf;
                    }
                } else if (named < NAMED_MAX) {
                    corm__buf_addf(&objs, ", %lld", (long long)f->ids[j]);
                }
                named++;
            }
            if (kept > NAMED_MAX) corm__buf_addf(&objs, " and %zu more", kept - NAMED_MAX);
            total += kept;
        }
        if (total) {
            corm_error *e = &c->db->err;
            corm_buf what;
            corm__buf_init(&what);
            if (n == 1) corm__buf_addf(&what, "%s %lld", m->name, (long long)ids[0]);
            else corm__buf_addf(&what, "%zu %s objects", n, m->name);
            bool protect = kinds[k] == CORM_PROTECT;
            corm__err_set(e, CORM_CONSTRAINT,
                          "cannot delete %s: %zu object%s refer to %s through %s foreign keys: "
                          "%s (%s); nothing was deleted",
                          corm__buf_cstr(&what), total, total == 1 ? "" : "s",
                          n == 1 ? "it" : "them", protect ? "protected" : "restricted",
                          corm__buf_cstr(&names), corm__buf_cstr(&objs));
            if (protect)
                corm__err_hint(e, "delete or re-point those objects first, or change "
                                  "on_delete=protect in the schema");
            else
                corm__err_hint(e, "delete those objects first, or delete through the model "
                                  "whose cascade also removes them");
            e->constraint = protect ? CORM_CK_PROTECT : CORM_CK_RESTRICT;
            corm__strlcpy(e->constraint_name, first ? first : "", sizeof e->constraint_name);
            corm__strlcpy(e->values, corm__buf_cstr(&objs), sizeof e->values);
            corm__buf_free(&what);
        }
        corm__buf_free(&names);
        corm__buf_free(&objs);
        if (total) return CORM_CONSTRAINT;
    }
    return CORM_OK;
}

static corm_rc execute(collector *c)
{
    corm_rc rc = CORM_OK;
    int64_t changes = 0;
    for (size_t i = 0; i < c->nfast && rc == CORM_OK; i++) {
        const fast_del *f = &c->fast[i];
        rc = run_keyed(c, false, f->table, f->column, f->keys, f->n, "delete", &changes);
        /* link rows of an m2m are not objects: Django counts them under the
        ** through model, and so do we */
        if (rc == CORM_OK) tally(c, f->owner, f->rel, changes);
    }
    for (size_t i = 0; i < c->nnulls && rc == CORM_OK; i++) {
        const set_null *s = &c->nulls[i];
        rc = run_keyed(c, true, s->model->table, s->field->column, s->keys.ids, s->keys.n, "update",
                       NULL);
    }
    for (int k = c->norder - 1; k >= 0 && rc == CORM_OK; k--) {
        const corm_model *m = c->schema->models[c->order[k]];
        const idset *s = &c->data[m->index];
        rc = run_keyed(c, false, m->table, m->fields[0].column, s->ids, s->n, "delete", &changes);
        if (rc == CORM_OK) tally(c, m, NULL, changes);
    }
    return rc;
}

static void collector_free(collector *c)
{
    for (int i = 0; c->data && i < c->schema->nmodels; i++) idset_free(&c->data[i]);
    corm__free(c->data);
    corm__free(c->order);
    for (size_t i = 0; i < c->nfast; i++) corm__free(c->fast[i].keys);
    corm__free(c->fast);
    for (size_t i = 0; i < c->nnulls; i++) idset_free(&c->nulls[i].keys);
    corm__free(c->nulls);
    for (size_t i = 0; i < c->nrefused; i++) {
        corm__free(c->refused[i].ids);
        corm__free(c->refused[i].fks);
    }
    corm__free(c->refused);
}

static corm_rc collector_init(collector *c, corm_db *db, const corm_model *m, corm_site site,
                              corm_deleted *out)
{
    memset(c, 0, sizeof *c);
    c->out = out;
    c->db = db;
    c->site = site;
    c->schema = m->schema;
    c->d = db->dialect;
    if (CORM_NEVER(!c->d || !c->schema)) {
        corm__err_set(&db->err, CORM_MISUSE, "delete: no SQL dialect or schema for %s", m->name);
        return CORM_MISUSE;
    }
    int nm = c->schema->nmodels;
    c->data = corm__calloc((size_t)nm, sizeof *c->data);
    c->order = corm__calloc((size_t)nm, sizeof *c->order);
    if (!c->data || !c->order) return nomem(c);
    for (int i = 0; i < nm; i++) corm__map_init(&c->data[i].seen, NULL);
    return CORM_OK;
}

/* Collect from ids of m and write, inside the caller's transaction. */
static corm_rc delete_collected(collector *c, const corm_model *m, const int64_t *ids, size_t n)
{
    corm_rc rc = collect(c, m, ids, n);
    if (rc == CORM_OK) rc = refuse(c, m, ids, n);
    if (rc == CORM_OK) rc = execute(c);
    return rc;
}

/* An error deletes nothing (each delete is atomic): out says so. */
static void deleted_reset(corm_deleted *out)
{
    if (out) memset(out, 0, sizeof *out);
}

corm_rc corm__delete_ids(corm_db *db, const corm_model *m, const int64_t *ids, size_t n,
                         corm_site site, int64_t *deleted, corm_deleted *out)
{
    *deleted = 0;
    deleted_reset(out);
    if (n == 0) return CORM_OK;
    collector c;
    corm_rc rc = collector_init(&c, db, m, site, out);
    corm__tx tx = {0};
    if (rc == CORM_OK && !pointed_at(m)) {
        /* nothing points here: one DELETE, atomic on its own */
        int64_t changes = 0;
        rc = run_keyed(&c, false, m->table, m->fields[0].column, ids, n, "delete", &changes);
        if (rc == CORM_OK) tally(&c, m, NULL, changes);
    } else {
        if (rc == CORM_OK) rc = corm__tx_begin(db, &tx);
        if (rc == CORM_OK) rc = delete_collected(&c, m, ids, n);
        rc = corm__tx_end(db, &tx, rc);
    }
    if (rc == CORM_OK) *deleted = c.deleted;
    else deleted_reset(out);
    collector_free(&c);
    return rc;
}

int64_t corm_qs_delete_at(corm_qs *qs, corm_site site)
{
    return corm_qs_delete_counts_at(qs, NULL, site);
}

int64_t corm_qs_delete_counts_at(corm_qs *qs, corm_deleted *out, corm_site site)
{
    deleted_reset(out);
    CORM__QS_ENTER(qs);
    if (!qs || qs->err.rc != CORM_OK) return -1;
    const corm__query *q = &qs->q;
    if (!q->model) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_qs_delete on a raw queryset");
        return -1;
    }
    if (q->limit >= 0 || q->offset > 0) {
        corm__err_set(&qs->err, CORM_INVALID, "cannot delete a sliced queryset of %s",
                      q->model->name);
        corm__err_hint(&qs->err, "filter on the ids instead: corm_filter(qs, \"id__in\", ...), "
                                 "as Django requires");
        return -1;
    }
    if (q->values_mode || q->aggregate) {
        corm__err_set(&qs->err, CORM_INVALID,
                      "cannot delete a values() or aggregate() "
                      "queryset of %s",
                      q->model->name);
        corm__err_hint(&qs->err, "delete from a queryset of objects");
        return -1;
    }
    corm_db *db = qs->db;
    collector c;
    corm_rc rc = collector_init(&c, db, q->model, site, out);
    corm__compiled cp;
    corm__compiled_init(&cp);
    int64_t deleted = 0;
    corm__tx tx = {0};
    if (rc == CORM_OK && !pointed_at(q->model)) {
        /* Django's fast path for a queryset: one DELETE with its WHERE */
        rc = corm__compile_delete(q, c.d, &cp, &db->err);
        /* nothing matches whatever the data: no statement (EmptyResultSet) */
        if (rc == CORM_OK && !corm__query_empty(q))
            rc = corm__db_run(db, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, site, "delete",
                              &deleted);
        if (rc == CORM_OK) tally(&c, q->model, NULL, deleted);
    } else if (rc == CORM_OK) {
        /* the ids, then the collector; one transaction for both */
        rc = corm__compile_select_ids(q, c.d, &cp, &db->err);
        bool none = rc == CORM_OK && corm__query_empty(q);
        if (rc == CORM_OK && !none) rc = corm__tx_begin(db, &tx);
        int64_t *ids = NULL;
        size_t n = 0, cap = 0;
        if (rc == CORM_OK && !none) {
            corm__cursor cur;
            rc = corm__db_query(db, &cur, corm__buf_cstr(&cp.sql), cp.params, cp.nparams, site,
                                qs->built, "delete");
            for (bool row = true; rc == CORM_OK && row;) {
                rc = corm__cursor_step(&cur, &row);
                if (rc != CORM_OK || !row) break;
                if (!grow((void **)&ids, &cap, n + 1, sizeof *ids)) {
                    rc = nomem(&c);
                    break;
                }
                ids[n++] = db->be->column_int(cur.stmt, 0);
            }
            if (cur.db) corm__cursor_close(&cur);
        }
        if (rc == CORM_OK && n) rc = delete_collected(&c, q->model, ids, n);
        rc = corm__tx_end(db, &tx, rc);
        if (rc == CORM_OK) deleted = c.deleted;
        corm__free(ids);
    }
    corm__compiled_free(&cp);
    collector_free(&c);
    if (rc != CORM_OK) {
        deleted_reset(out);
        corm__err_take(&qs->err, &db->err);
        return -1;
    }
    return deleted;
}

int64_t corm_deleted_get(const corm_deleted *d, const char *label)
{
    for (int i = 0; d && label && i < d->n; i++)
        if (strcmp(d->models[i].label, label) == 0) return d->models[i].count;
    return 0;
}
