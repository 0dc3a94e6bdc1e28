/*
** hydrate.c - rows -> generated structs, through the descriptors' offsets.
** Every object of one query goes into one arena as one batch; a
** select_related node whose key matched nothing (LEFT JOIN) is cached on
** its parent as NULL, so reading it later runs no query.
*/
#include "fetch_int.h"

#include <stdint.h>
#include <string.h>

/* Whether the C value of field f is its zero (NULL pointer, 0, false). */
static bool is_zero(const void *p, const corm_field *f)
{
    switch (f->type) {
    case CORM_FT_INTEGER: return *(const int32_t *)p == 0;
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return *(const int64_t *)p == 0;
    case CORM_FT_FLOAT: return *(const double *)p == 0;
    case CORM_FT_DECIMAL: return ((const corm_decimal *)p)->units == 0;
    case CORM_FT_BOOL: return !*(const bool *)p;
    case CORM_FT_BLOB: return ((const corm_blob *)p)->data == NULL;
    default: return *(char *const *)p == NULL;
    }
}

/* NULL when the field's null bit is set and its C value is still the zero
** it was left with (docs/writes.md, "New objects"): a value assigned in
** plain C after CORM_NEW, corm_set_null or a load of a NULL wins over the
** bit.  A nullable fk of 0 is NULL too: no row has id 0. */
bool corm__field_null(const void *obj, const corm_field *f)
{
    const corm_obj *h = obj;
    int fi = (int)(f - h->model->fields);
    const void *p = (const char *)obj + f->offset;
    if (h->nulls & ((uint64_t)1 << fi)) return is_zero(p, f);
    return (f->flags & CORM_FF_NULL) && (f->type == CORM_FT_FK || f->type == CORM_FT_O2O) &&
           *(const int64_t *)p == 0;
}

void corm__field_set_null(void *obj, const corm_field *f, bool is_null)
{
    corm_obj *h = obj;
    uint64_t bit = (uint64_t)1 << (f - h->model->fields);
    if (!is_null) {
        h->nulls &= ~bit;
        return;
    }
    h->nulls |= bit;
    void *p = (char *)obj + f->offset;
    switch (f->type) {
    case CORM_FT_INTEGER: *(int32_t *)p = 0; break;
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: *(int64_t *)p = 0; break;
    case CORM_FT_FLOAT: *(double *)p = 0; break;
    case CORM_FT_DECIMAL: *(corm_decimal *)p = corm_dec_units(0, f->scale); break;
    case CORM_FT_BOOL: *(bool *)p = false; break;
    case CORM_FT_BLOB: *(corm_blob *)p = (corm_blob){0}; break;
    default: *(char **)p = NULL; break;
    }
}

corm_value corm__field_value(const void *obj, const corm_field *f)
{
    if (corm__field_null(obj, f)) return corm_null();
    const void *p = (const char *)obj + f->offset;
    switch (f->type) {
    case CORM_FT_INTEGER: return corm_int(*(const int32_t *)p);
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return corm_int(*(const int64_t *)p);
    case CORM_FT_FLOAT: return corm_float(*(const double *)p);
    case CORM_FT_DECIMAL: return corm_decv(*(const corm_decimal *)p);
    case CORM_FT_BOOL: return corm_bool(*(const bool *)p);
    case CORM_FT_BLOB: {
        const corm_blob *b = p;
        return b->data ? corm_blobv(b->data, b->len) : corm_null();
    }
    default: return corm_text(*(char *const *)p);
    }
}

/* How column_cell reads a field's cell: as its C type's value type; a
** decimal as the type the cell has (dec_of). */
static corm_vtype field_want(const corm_field *f)
{
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O:
    case CORM_FT_BOOL: return CORM_V_INT;
    case CORM_FT_FLOAT: return CORM_V_FLOAT;
    case CORM_FT_DECIMAL: return CORM_V_NULL;
    case CORM_FT_BLOB: return CORM_V_BLOB;
    default: return CORM_V_TEXT;
    }
}

/* A decimal field's value at the field's scale from its cell as
** column_cell or read_decimal read it: exact from PostgreSQL's numeric text, from an
** INTEGER and (up to 15 significant digits, what SQLite's REAL keeps:
** docs/schema.md) from a REAL.  More places than the field's (a row
** another program wrote) round; a value no corm_decimal holds (text, more
** than 18 digits) reads as not a number, which a save refuses, rather
** than failing the whole query. */
static corm_decimal dec_of(const corm_value *v, int scale)
{
    corm_decimal d;
    if (v->type == CORM_V_INT) {
        d = corm_dec_units(v->u.i, 0);
    } else if (v->type == CORM_V_FLOAT) {
        /* at scale already (or not a number): rounding would not change it */
        return corm_dec_from_double(v->u.f, scale);
    } else { /* numeric's text, or text (or a blob) someone stored */
        const char *p = v->u.s.p ? v->u.s.p : "";
        if (!corm__dec_from_text(p, v->u.s.p ? v->u.s.n : 0, true, &d)) d = corm_dec_units(0, -1);
    }
    return corm_dec_round(d, scale);
}

/* Field fi of obj from its cell v as column_cell read it (type t). */
static corm_rc store_field(void *obj, const corm_field *f, int fi, corm_vtype t,
                           const corm_value *v, corm_arena *a)
{
    if (t == CORM_V_NULL) {
        ((corm_obj *)obj)->nulls |= (uint64_t)1 << fi;
        return CORM_OK;
    }
    void *p = corm__field_ptr(obj, f);
    switch (f->type) {
    case CORM_FT_INTEGER: *(int32_t *)p = (int32_t)v->u.i; break;
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: *(int64_t *)p = v->u.i; break;
    case CORM_FT_FLOAT: *(double *)p = v->u.f; break;
    case CORM_FT_DECIMAL: *(corm_decimal *)p = dec_of(v, f->scale); break;
    case CORM_FT_BOOL: *(bool *)p = v->u.i != 0; break;
    case CORM_FT_BLOB: {
        corm_blob *b = p;
        b->data = corm__arena_memdup(a, v->u.s.p, v->u.s.n);
        b->len = v->u.s.n;
        if (!b->data) return CORM_NOMEM;
        break;
    }
    default: {
        char *d = corm__arena_strndup(a, v->u.s.p ? v->u.s.p : "", v->u.s.p ? v->u.s.n : 0);
        if (!d) return CORM_NOMEM;
        *(char **)p = d;
        break;
    }
    }
    return CORM_OK;
}

/* A field's cell where the backend has column_cell (SQLite): the NULL
** test is part of the one read, so a NOT NULL column that holds NULL
** still reads as NULL. */
static corm_rc read_field_cell(const corm__backend *be, corm__stmt *st, int col, void *obj,
                               const corm_field *f, int fi, corm_arena *a)
{
    corm_value v;
    return store_field(obj, f, fi, be->column_cell(st, col, field_want(f), &v), &v, a);
}

/* The fields held as text (read_field's default case). */
static bool is_text_field(const corm_field *f) { return field_want(f) == CORM_V_TEXT; }

/* A decimal field's cell (not NULL) on a backend without column_cell: an
** INTEGER, a REAL, or text (PostgreSQL's numeric, column_exact; text or a
** blob someone stored). */
static corm_decimal read_decimal(const corm__backend *be, corm__stmt *st, int col, int scale)
{
    corm_value v;
    v.type = be->column_type(st, col);
    if (v.type == CORM_V_INT) {
        v.u.i = be->column_int(st, col);
    } else if (v.type == CORM_V_FLOAT && !(be->column_exact && be->column_exact(st, col))) {
        v.u.f = be->column_double(st, col);
    } else {
        v.type = CORM_V_TEXT;
        v.u.s.p = be->column_text(st, col, &v.u.s.n);
    }
    return dec_of(&v, scale);
}

/* A field's cell on a backend whose NULL test is cheap on its own
** (PostgreSQL's PQgetisnull): the test, then the reader of its type. */
static corm_rc read_field(const corm__backend *be, corm__stmt *st, int col, void *obj,
                          const corm_field *f, int fi, corm_arena *a)
{
    corm_obj *h = obj;
    void *p = corm__field_ptr(obj, f);
    if (is_text_field(f)) {
        /* one call where NULL-then-value was two (a text cell is most of a
        ** row: docs/benchmarks.md, "memory floor"): NULL comes back as no
        ** text, and only then is the cell asked whether it is NULL */
        size_t n = 0;
        const char *s = be->column_text(st, col, &n);
        if (!s && be->column_null(st, col)) {
            h->nulls |= (uint64_t)1 << fi;
            return CORM_OK;
        }
        char *d = corm__arena_strndup(a, s ? s : "", s ? n : 0);
        if (!d) return CORM_NOMEM;
        *(char **)p = d;
        return CORM_OK;
    }
    if (be->column_null(st, col)) {
        h->nulls |= (uint64_t)1 << fi;
        return CORM_OK;
    }
    switch (f->type) {
    case CORM_FT_INTEGER: *(int32_t *)p = (int32_t)be->column_int(st, col); break;
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: *(int64_t *)p = be->column_int(st, col); break;
    case CORM_FT_FLOAT: *(double *)p = be->column_double(st, col); break;
    case CORM_FT_DECIMAL: *(corm_decimal *)p = read_decimal(be, st, col, f->scale); break;
    case CORM_FT_BOOL: *(bool *)p = be->column_int(st, col) != 0; break;
    default: { /* CORM_FT_BLOB */
        size_t n = 0;
        const void *data = be->column_blob(st, col, &n);
        corm_blob *b = p;
        b->data = corm__arena_memdup(a, data, n);
        b->len = n;
        if (!b->data) return CORM_NOMEM;
        break;
    }
    }
    return CORM_OK;
}

corm_rc corm__read_field(corm_db *db, corm__stmt *st, int col, void *obj, const corm_field *f,
                         int fi, corm_arena *a)
{
    const corm__backend *be = corm__row_be(db, st);
    return be->column_cell ? read_field_cell(be, st, col, obj, f, fi, a)
                           : read_field(be, st, col, obj, f, fi, a);
}

/* Hydrate node j of the current row; NULL when a LEFT JOIN found nothing. */
static corm_rc hydrate_node(corm_db *db, corm__stmt *st, const corm__sel_node *node, corm_arena *a,
                            corm_batch *batch, void **out)
{
    const corm_model *m = node->model;
    const corm__backend *be = corm__row_be(db, st); /* once a row's node, not a cell */
    *out = NULL;
    if (node->parent >= 0 && be->column_null(st, node->first_col)) return CORM_OK;
    void *obj = corm__arena_zalloc(a, m->size);
    if (!obj) return CORM_NOMEM;
    corm_obj *h = obj;
    h->model = m;
    h->batch = batch;
    int col = node->first_col;
    for (int fi = 0; fi < m->nfields; fi++) {
        if (!(node->mask & ((uint64_t)1 << fi))) {
            h->deferred |= (uint64_t)1 << fi; /* only()/defer(): not loaded */
            continue;
        }
        const corm_field *f = &m->fields[fi];
        corm_rc rc = be->column_cell ? read_field_cell(be, st, col, obj, f, fi, a)
                                     : read_field(be, st, col, obj, f, fi, a);
        col++;
        if (rc != CORM_OK) return rc;
    }
    *out = obj;
    return CORM_OK;
}

corm_rc corm__read_cell(corm_db *db, corm__stmt *st, int col, corm_arena *a, corm_value *out)
{
    const corm__backend *be = corm__row_be(db, st);
    /* column_cell: type and value in one call; else the type, then the
    ** value read by it */
    corm_value v;
    bool cell = be->column_cell != NULL;
    switch (cell ? be->column_cell(st, col, CORM_V_NULL, &v) : be->column_type(st, col)) {
    case CORM_V_INT: *out = corm_int(cell ? v.u.i : be->column_int(st, col)); return CORM_OK;
    case CORM_V_FLOAT:
        if (!cell && be->column_exact && be->column_exact(st, col)) {
            /* PostgreSQL numeric: exact when it fits 18 digits */
            size_t n = 0;
            const char *p = be->column_text(st, col, &n);
            corm_decimal d;
            if (p && corm__dec_from_text(p, n, true, &d)) {
                *out = corm_decv(d);
                return CORM_OK;
            }
        }
        *out = corm_float(cell ? v.u.f : be->column_double(st, col));
        return CORM_OK;
    case CORM_V_TEXT: {
        if (!cell) v.u.s.p = be->column_text(st, col, &v.u.s.n);
        char *d = corm__arena_strndup(a, v.u.s.p ? v.u.s.p : "", v.u.s.n);
        if (!d) return CORM_NOMEM;
        *out = corm_text(d);
        out->u.s.n = v.u.s.n;
        return CORM_OK;
    }
    case CORM_V_BLOB: {
        if (!cell) v.u.s.p = be->column_blob(st, col, &v.u.s.n);
        void *d = corm__arena_memdup(a, v.u.s.p, v.u.s.n);
        if (!d) return CORM_NOMEM;
        *out = corm_blobv(d, v.u.s.n);
        return CORM_OK;
    }
    default: *out = corm_null(); return CORM_OK;
    }
}

/* The annotate() columns of the current row, onto the base object. */
static corm_rc hydrate_annots(corm_db *db, corm__stmt *st, const corm__compiled *c, corm_arena *a,
                              void *obj)
{
    corm_value *v = corm__arena_alloc(a, (size_t)c->nannots * sizeof *v);
    if (!v) return CORM_NOMEM;
    for (int i = 0; i < c->nannots; i++) {
        corm_rc rc = corm__read_cell(db, st, c->annot_col + i, a, &v[i]);
        if (rc != CORM_OK) return rc;
    }
    ((corm_obj *)obj)->annots = v;
    return CORM_OK;
}

void corm__set_backref(const corm_model *from, const corm_relation *r, void *parent, void *child)
{
    if (!child || !parent || r->kind == CORM_REL_FK || r->kind == CORM_REL_M2M ||
        r->kind == CORM_REL_REVERSE_M2M)
        return;
    corm_obj *ch = child;
    const corm_relation *inv = &ch->model->rels[r->reverse];
    (void)from;
    /* Django's known related objects do not overwrite an object the child
    ** already has (joined by the level's select_related, or prefetched by
    ** its Prefetch queryset's own lookups) */
    if (ch->rel_loaded & ((uint64_t)1 << inv->slot)) return;
    corm__rel_slots(child)[inv->slot] = parent;
    ch->rel_loaded |= (uint64_t)1 << inv->slot;
}

corm_rc corm__hydrate_row(corm_db *db, corm__stmt *st, const corm__compiled *c, corm_arena *arena,
                          corm_batch *batch, void **out)
{
    void *row_objs[CORM__MAX_NODES];
    corm_rc rc = CORM_OK;
    for (int j = 0; j < c->nnodes && rc == CORM_OK; j++) {
        rc = hydrate_node(db, st, &c->nodes[j], arena, batch, &row_objs[j]);
        if (rc != CORM_OK || j == 0) continue;
        /* cache the joined object (or its absence) on its parent */
        void *parent = row_objs[c->nodes[j].parent];
        if (!parent) continue; /* the parent itself was NULL */
        corm_obj *ph = parent;
        int slot = c->nodes[j].rel->slot;
        corm__rel_slots(parent)[slot] = row_objs[j];
        ph->rel_loaded |= (uint64_t)1 << slot;
        corm__set_backref(c->nodes[c->nodes[j].parent].model, c->nodes[j].rel, parent, row_objs[j]);
    }
    if (rc == CORM_OK && c->nannots) rc = hydrate_annots(db, st, c, arena, row_objs[0]);
    *out = rc == CORM_OK ? row_objs[0] : NULL;
    return rc;
}

static corm_batch *batch_make(corm_db *db, const corm__query *q, corm_arena *arena);

corm_batch *corm__batch_new(corm_db *db, const corm__query *q, corm_arena *arena)
{
    /* a result made outside corm__fetch (an iterator's chunk, whose arena
    ** is reset in place): no evaluation level may outlive it */
    corm__instr_levels_clear(db->instr);
    return batch_make(db, q, arena);
}

static corm_batch *batch_make(corm_db *db, const corm__query *q, corm_arena *arena)
{
    corm_batch *batch = corm__arena_zalloc(arena, sizeof *batch);
    if (!batch) return NULL;
    batch->db = db;
    batch->home = db->serving ? db->serving : db;
    batch->arena = arena;
    batch->model = q->model;
    batch->annots = q->annots;
    batch->nannots = q->nannots;
    batch->serial = ++db->nbatches;
    batch->group = batch->serial;
    batch->path = "";
    return batch;
}

/* ------------------------------------------------- the N+1 tooling's view
** A batch learns where its objects came from (the queryset, the path from
** its model) so that a lazy load from one of them can name the fix; the
** statement learns what it is (a lookup by id, a prefetch per object...);
** eager loads are recorded so reads can be matched (src/instr/eager.c). */

static const char *join_path(corm_arena *a, const char *path, const char *rel)
{
    if (!path || !*path) return rel;
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_addf(&b, "%s__%s", path, rel);
    const char *s = b.oom ? NULL : corm__arena_strdup(a, corm__buf_cstr(&b));
    corm__buf_free(&b);
    return s ? s : rel;
}

static bool same_site(corm_site a, corm_site b)
{
    return a.line == b.line &&
           (a.file == b.file || (a.file && b.file && strcmp(a.file, b.file) == 0));
}

/* A queryset filtered on its primary key and nothing else. */
static bool by_pk(const corm__query *q)
{
    const struct corm_q *w = q->where;
    if (!w || w->kind != CORM__Q_LEAF || w->rhs || q->via) return false;
    const char *l = w->lookup;
    const char *id = q->model->fields[0].name;
    return strcmp(l, "pk") == 0 || strcmp(l, "pk__exact") == 0 || strcmp(l, id) == 0 ||
           (strncmp(l, id, strlen(id)) == 0 && strcmp(l + strlen(id), "__exact") == 0);
}

/* Before the statement: the batch's evaluation and lineage, the event's
** kind.  note: what a lazy accessor told (db->next), kept for the event. */
static void set_jpaths(const corm__compiled *c, corm_arena *arena, corm_batch *batch);

static void fetch_begin(corm_db *db, const corm__query *q, const corm__compiled *c,
                        corm_arena *arena, corm_batch *batch, corm_site site, corm_site built,
                        const char *origin)
{
    corm_instr *in = db->instr;
    corm_event *note = corm__db_next(db);
    bool is_auto = corm__instr_auto_active(in);
    if (q->via) {
        /* a prefetch level: the previous levels are stitched by now */
        corm__instr_eval_check(in, arena, false);
        batch->eval = corm__instr_eval_current(in);
        /* an evaluation's levels have its queryset's site; corm_prefetch_objects
        ** has none, and its objects' evaluation is over */
        const corm__level *parent =
            built.file ? corm__instr_level_of(in, q->via_from, arena) : NULL;
        const corm__level *root = corm__instr_level_root(in);
        note->model = q->via_from->name;
        note->relation = q->via->name;
        if (parent &&
            (same_site(built, parent->built) || (root && same_site(built, root->built)))) {
            batch->built = parent->built;
            batch->path = join_path(arena, parent->path, q->via->name);
            batch->path_many = parent->many || q->via->kind == CORM_REL_REVERSE_FK ||
                               q->via->kind == CORM_REL_M2M || q->via->kind == CORM_REL_REVERSE_M2M;
        } else if (parent) {
            batch->built = built; /* a Prefetch's own queryset: paths start over */
        } else {
            /* corm_prefetch_objects (or an iterator's chunk): the parents'
            ** result is the root result of their arena */
            uint64_t g;
            size_t n;
            corm_site rb = {0};
            if (!built.file && corm__instr_arena_lookup(in, arena, &g, &n, &rb)) {
                note->kind = CORM_ORIGIN_PREFETCH;
                note->parent_batch = g;
                note->parent_nobjs = n;
                note->built = rb;
                note->path = "";
            }
            batch->built = built.file ? built : rb;
        }
        if (parent && parent->n && !is_auto && built.file) {
            corm__instr_eager(in, batch->eval, q->via_from, q->via->slot, true, q->via->name,
                              parent->path, parent->built, site, parent->n);
            ((corm_obj *)parent->items[0])->batch->eager = true;
        }
    } else {
        batch->eval = corm__instr_eval_begin(in);
        if (note->parent_batch || note->kind) {
            /* a lazy load from an object: the loaded objects continue its path */
            batch->built = note->built;
            batch->path = join_path(arena, note->path, note->relation ? note->relation : "");
            batch->path_many = note->path_many || note->kind == CORM_ORIGIN_SET;
        } else {
            batch->built = built;
            if (origin && strncmp(origin, "deferred:", 9) == 0) {
                uint64_t g;
                size_t n;
                corm_site rb;
                if (corm__instr_arena_lookup(in, arena, &g, &n, &rb)) {
                    note->kind = CORM_ORIGIN_DEFERRED;
                    note->parent_batch = g;
                    note->parent_nobjs = n;
                    note->built = rb;
                    note->path = "";
                    batch->built = rb;
                }
            } else if (by_pk(q)) {
                note->kind = CORM_ORIGIN_LOOKUP;
            }
        }
    }
    if (!note->model) note->model = q->model->name;
    if (is_auto) note->auto_load = true;
    set_jpaths(c, arena, batch);
}

/* select_related: where the joined objects hang */
static void set_jpaths(const corm__compiled *c, corm_arena *arena, corm_batch *batch)
{
    if (c->nnodes > 1) {
        batch->jpaths = corm__arena_zalloc(arena, (size_t)(c->nnodes - 1) * sizeof *batch->jpaths);
        for (int j = 1; batch->jpaths && j < c->nnodes; j++) {
            const corm__sel_node *node = &c->nodes[j];
            corm__jpath *jp = &batch->jpaths[batch->njpaths++];
            jp->model = node->model;
            jp->from = c->nodes[node->parent].model;
            jp->rel = node->rel;
            jp->from_path = node->parent > 0 ? batch->jpaths[node->parent - 1].path : "";
            jp->path = join_path(arena, jp->from_path, node->rel->name);
        }
    }
}

/* ------------------------------------------------ auto mode's plans */

int corm__path_kind(const corm_model *m, const char *path)
{
    const char *seg = path;
    for (;;) {
        const char *sep = strstr(seg, "__");
        size_t len = sep ? (size_t)(sep - seg) : strlen(seg);
        const corm_relation *r = corm__model_rel(m, seg, len);
        if (!r) return -1;
        if (r->kind == CORM_REL_REVERSE_FK || r->kind == CORM_REL_M2M ||
            r->kind == CORM_REL_REVERSE_M2M)
            return 1;
        m = corm__rel_target(m, r);
        if (!sep) return 0;
        seg = sep + 2;
    }
}

/* The select_related path was asked by the code (not learned). */
static bool user_asked(const corm__query *q, const char *path)
{
    size_t n = strlen(path);
    for (int i = 0; i < q->nrelated; i++)
        if (strncmp(q->related[i], path, n) == 0 &&
            (!q->related[i][n] || strncmp(q->related[i] + n, "__", 2) == 0))
            return true;
    return false;
}

#define MAX_PLANS 32

typedef struct learned {
    const corm__plan *plans[MAX_PLANS];
    size_t n;
    corm__query q; /* q with the learned joins */
    const char *related[CORM__MAX_NODES];
} learned;

/* A root evaluation in auto mode: the plans learned for its site, and the
** query with their to-one chains joined.  Returns the query to run. */
static const corm__query *learn_apply(corm_db *db, const corm__query *q, corm_site built,
                                      const char *origin, learned *L)
{
    L->n = 0;
    corm_instr *in = db->instr;
    if (corm__instr_mode_now(in) != CORM_NPLUSONE_AUTO || q->via || !built.file || !origin ||
        strcmp(origin, "queryset") != 0 || db->next.parent_batch || db->next.kind ||
        corm__instr_auto_active(in))
        return q;
    const corm__plan *all[MAX_PLANS];
    size_t n = corm__instr_plans(in, built, all, MAX_PLANS);
    int nrel = q->nrelated;
    if (!n || nrel >= CORM__MAX_NODES) return q;
    for (int i = 0; i < nrel; i++) L->related[i] = q->related[i];
    for (size_t i = 0; i < n; i++) {
        /* to-many, or another queryset built at that line */
        if (corm__path_kind(q->model, all[i]->path) != 0) continue;
        if (user_asked(q, all[i]->path) || nrel >= CORM__MAX_NODES - 1) continue;
        L->related[nrel++] = all[i]->path;
        L->plans[L->n++] = all[i];
    }
    if (nrel == q->nrelated) return q;
    L->q = *q;
    L->q.related = L->related;
    L->q.nrelated = nrel;
    return &L->q;
}

/* After the root query: the findings of the learned joins.  (Learned
** relations under a to-many one are loaded with it by the auto load of
** that relation, src/qs/related.c; a learned prefetch here could not see
** the queryset's own prefetch lookups.) */
static void learn_finish(corm_db *db, size_t n, corm_site site, const learned *L)
{
    for (size_t i = 0; i < L->n; i++) {
        corm_event tag = L->plans[i]->tag;
        tag.site = site;
        corm__instr_auto(db->instr, &tag, n, true);
    }
}

/* After it: the batch's objects, its result group, its eager loads. */
static void fetch_done(corm_db *db, const corm__query *q, const corm__query *asked,
                       corm_arena *arena, corm_batch *batch, void **items, size_t n, corm_site site,
                       const corm_event *note, const char *origin)
{
    corm_instr *in = db->instr;
    batch->items = items;
    if (n < 2 && note->parent_batch && note->kind != CORM_ORIGIN_PREFETCH) {
        /* one object loaded lazily from a result counts as part of it */
        batch->group = note->parent_batch;
        batch->group_n = note->parent_nobjs;
    } else {
        batch->group_n = n;
    }
    corm__instr_level(in, arena, q->model, items, n, batch->built, batch->path, batch->path_many);
    if (!q->via && !note->parent_batch && origin && strcmp(origin, "queryset") == 0)
        corm__instr_arena_root(in, arena, batch->group, batch->group_n, batch->built);
    if (corm__instr_auto_active(in) || !batch->built.file) return;
    for (int j = 0; j < batch->njpaths; j++) {
        const corm__jpath *jp = &batch->jpaths[j];
        if (!user_asked(asked, jp->path)) continue; /* auto mode's, learned */
        corm__instr_eager(in, batch->eval, jp->from, jp->rel->slot, false, jp->rel->name,
                          join_path(arena, batch->path, jp->from_path), batch->built, site, n);
        batch->eager = true;
    }
}

void corm__batch_result(corm_db *db, const corm__query *q, const corm__compiled *c,
                        corm_batch *batch, void **items, size_t n, corm_site site, corm_site built)
{
    corm_event none;
    memset(&none, 0, sizeof none);
    batch->eval = corm__instr_eval_begin(db->instr);
    batch->built = built;
    batch->path = "";
    batch->path_many = !c; /* raw SQL: nothing can be joined to it */
    if (c) set_jpaths(c, batch->arena, batch);
    fetch_done(db, q, q, batch->arena, batch, items, n, site, &none, "queryset");
}

/* The objects of one result as they are read: the first eight in place (a
** lazy load, a get: no allocation), then a growing array as corm_vec's. */
typedef struct obj_list {
    void **p;
    size_t n, cap;
    void *first[8];
} obj_list;

static bool obj_push(obj_list *l, void *obj)
{
    if (l->n == l->cap) {
        bool inplace = l->p == l->first;
        void **p = corm__realloc(inplace ? NULL : l->p, l->cap * 2 * sizeof *p);
        if (!p) return false;
        if (inplace) memcpy(p, l->first, l->n * sizeof *p);
        l->p = p;
        l->cap *= 2;
    }
    l->p[l->n++] = obj;
    return true;
}

/* The rows st will still give when its backend knows (a PostgreSQL
** result read whole), else 0. */
static size_t rows_known(corm_db *db, corm__stmt *st)
{
    const corm__backend *be = corm__row_be(db, st);
    int64_t n = be->row_count ? be->row_count(st) : -1;
    return n > 0 ? (size_t)n : 0;
}

/* q matches one row at most: its filter is the primary key's exact value
** (a lazy to-one load, a get by pk), and it joins only to-one relations.
** Its reading stops at the first row: SQLite would otherwise be stepped
** once more only to say there is no other. */
static bool at_most_one(const corm__query *q)
{
    const struct corm_q *w = q->where;
    return w && w->kind == CORM__Q_LEAF && !w->rhs && w->value.type == CORM_V_INT &&
           strcmp(w->lookup, "pk") == 0 && !q->via;
}

corm_rc corm__fetch(corm_db *db, const corm__query *q, corm_arena *arena, corm_site site,
                    corm_site built, const char *origin, void ***out, size_t *nout, int64_t **keys,
                    corm_error *err)
{
    *out = NULL;
    *nout = 0;
    if (keys) *keys = NULL;
    const corm__dialect *d = db->dialect;
    if (CORM_NEVER(!d)) { /* corm_open resolved it */
        corm__err_set(err, CORM_MISUSE, "no SQL dialect for %s", db->be->vendor);
        return CORM_MISUSE;
    }
    const corm__query *asked = q; /* what the code asked for */
    corm_rc crc = corm__check_deferred_traversal(asked, err);
    if (crc != CORM_OK) {
        memset(&db->next, 0, sizeof db->next); /* no statement: no note */
        return crc;
    }
    learned L;
    q = learn_apply(db, q, built, origin, &L);
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select_memo(&db->sql_memo, q, CORM__SEL_OBJECTS, d, &c, err);
    if (rc != CORM_OK) {
        memset(&db->next, 0, sizeof db->next); /* no statement: no note */
        corm__compiled_free(&c);
        return rc;
    }
    /* a query that selects nothing whatever the data (an `in` of an empty
    ** list, a slice [n:n]): no statement, as Django's EmptyResultSet -
    ** first/last, a Prefetch queryset that matches nothing */
    if (corm__query_empty(q)) {
        memset(&db->next, 0, sizeof db->next); /* no statement: no note */
        corm__compiled_free(&c);
        return CORM_OK;
    }
    corm_batch *batch = batch_make(db, q, arena);
    obj_list objs;
    objs.p = objs.first;
    objs.n = 0;
    objs.cap = sizeof objs.first / sizeof *objs.first;
    int64_t *kv = NULL;
    size_t kcap = 0;
    if (!batch) {
        memset(&db->next, 0, sizeof db->next);
        corm__compiled_free(&c);
        corm__err_set(err, CORM_NOMEM, "out of memory loading %s", q->model->name);
        return CORM_NOMEM;
    }
    fetch_begin(db, q, &c, arena, batch, site, built, origin);
    corm_event note = db->next;

    corm__cursor cur;
    corm__db_note_compiled(db, &c);
    rc = corm__db_query(db, &cur, c.sql.p, c.params, c.nparams, site, built, origin);
    if (rc != CORM_OK) {
        corm__err_take(err, &db->err);
        corm__compiled_free(&c);
        return rc;
    }
    void *row_objs[1];
    bool one = at_most_one(q);
    for (;;) {
        bool has_row;
        rc = corm__cursor_step(&cur, &has_row);
        if (rc != CORM_OK) {
            corm__err_take(err, &db->err);
            break;
        }
        if (!has_row) break;
        void *obj = NULL;
        rc = corm__hydrate_row(db, cur.stmt, &c, arena, batch, &obj);
        row_objs[0] = obj;
        if (rc == CORM_OK && keys && c.key_col >= 0) {
            /* the parent key of a prefetch row, kept beside its object */
            if (objs.n == kcap) {
                kcap = kcap ? kcap * 2 : 64;
                int64_t *p = corm__realloc(kv, kcap * sizeof *kv);
                if (!p) rc = CORM_NOMEM;
                else kv = p;
            }
            if (rc == CORM_OK)
                kv[objs.n] = corm__row_be(db, cur.stmt)->column_int(cur.stmt, c.key_col);
        }
        if (rc == CORM_OK && !obj_push(&objs, row_objs[0])) rc = CORM_NOMEM;
        if (rc == CORM_NOMEM) {
            corm__err_set(err, CORM_NOMEM, "out of memory loading %s rows", q->model->name);
            break;
        }
        if (one) break;
    }
    corm__cursor_close(&cur);
    corm__compiled_free(&c);
    if (rc == CORM_OK) {
        void **items = corm__arena_memdup(arena, objs.p, objs.n * sizeof *items);
        if (!items && objs.n) {
            corm__err_set(err, CORM_NOMEM, "out of memory loading %s rows", q->model->name);
            rc = CORM_NOMEM;
        } else {
            *out = items;
            *nout = objs.n;
            batch->nobjs = objs.n;
            fetch_done(db, q, asked, arena, batch, items, objs.n, site, &note, origin);
            if (L.n) learn_finish(db, objs.n, site, &L);
            if (keys && kv) {
                *keys = corm__arena_memdup(arena, kv, objs.n * sizeof *kv);
                if (!*keys) rc = CORM_NOMEM;
            }
        }
    }
    corm__free(kv);
    if (objs.p != objs.first) corm__free(objs.p);
    if (rc != CORM_OK) corm__instr_eval_failed(db->instr);
    return rc;
}

corm_rc corm__fetch_rows(corm_db *db, const char *sql, const corm_value *params, int nparams,
                         corm_arena *arena, corm_site site, corm_site built, const char *origin,
                         corm__rows *out, corm_error *err)
{
    memset(out, 0, sizeof *out);
    corm__cursor cur;
    corm_rc rc = corm__db_query(db, &cur, sql, params, nparams, site, built, origin);
    if (rc != CORM_OK) {
        corm__err_take(err, &db->err);
        return rc;
    }
    size_t ncols = (size_t)corm__row_be(db, cur.stmt)->column_count(cur.stmt);
    corm_value *cells = NULL;
    size_t cap = 0, nrows = 0;
    const char **names = corm__arena_alloc(arena, (ncols ? ncols : 1) * sizeof *names);
    if (!names) rc = CORM_NOMEM;
    for (size_t i = 0; rc == CORM_OK && i < ncols; i++)
        if (!(names[i] = corm__arena_strdup(
                  arena, corm__row_be(db, cur.stmt)->column_name(cur.stmt, (int)i))))
            rc = CORM_NOMEM;
    size_t known = rows_known(db, cur.stmt);
    if (rc == CORM_OK && known && ncols) {
        /* the rows' array at its size at once: grown by doubling, each
        ** step copied it and left the smaller one behind in the heap */
        if (known > SIZE_MAX / ncols / sizeof *cells) rc = CORM_NOMEM;
        else if (!(cells = corm__malloc(known * ncols * sizeof *cells))) rc = CORM_NOMEM;
        else cap = known;
    }
    while (rc == CORM_OK) {
        bool row;
        rc = corm__cursor_step(&cur, &row);
        if (rc != CORM_OK) {
            corm__err_take(err, &db->err);
            break;
        }
        if (!row) break;
        if (nrows == cap) {
            cap = cap ? cap * 2 : 64;
            corm_value *p = corm__realloc(cells, cap * (ncols ? ncols : 1) * sizeof *p);
            if (!p) {
                rc = CORM_NOMEM;
                break;
            }
            cells = p;
        }
        for (size_t i = 0; rc == CORM_OK && i < ncols; i++)
            rc = corm__read_cell(db, cur.stmt, (int)i, arena, &cells[nrows * ncols + i]);
        nrows++;
    }
    corm__cursor_close(&cur);
    if (rc == CORM_OK) {
        /* the grown array becomes the result (no second copy at the peak);
        ** give back what the last doubling did not use */
        if (nrows * ncols != 0 && nrows < cap) {
            corm_value *p = corm__realloc(cells, nrows * ncols * sizeof *cells);
            if (p) cells = p;
        }
        out->cells = cells;
        out->nrows = nrows;
        out->ncols = ncols;
        out->colnames = names;
        return CORM_OK;
    }
    if (rc == CORM_NOMEM) corm__err_set(err, CORM_NOMEM, "out of memory reading rows");
    corm__free(cells);
    return rc;
}
