/*
** qs.c - the lazy queryset builder and its evaluation.  Builder calls only
** record; the first error sticks and makes later calls no-ops.  Evaluation
** runs one query and caches the objects; later reads use the cache.
*/
#include "qs_int.h"

#include <stddef.h>
#include <string.h>

static inline bool usable(corm_qs *qs) { return qs && qs->err.rc == CORM_OK && corm__qs_route(qs); }

/* Builder calls after evaluation would silently do nothing in Django's
** list-after-evaluation trap; here they are an error that says so. */
static bool building_paths(corm_qs *qs, const char *what, const char *const *paths)
{
    if (!usable(qs)) return false;
    if (qs->evaluated && strstr(what, "related")) {
        /* Django: an eager load after evaluation has no effect.  Kept a
        ** no-op so code behaves the same, and reported by the detector,
        ** whose fix names each path given.  Builder calls carry no site:
        ** name the queryset's. */
        qs->late_eager++;
        int i = 0;
        do
            corm__instr_late_eager(qs->db->instr, qs->built, qs->built, qs->q.model->name, what,
                                   paths ? paths[i] : NULL);
        while (paths && paths[i] && paths[++i]);
        return false;
    }
    if (qs->evaluated) {
        corm__err_set(&qs->err, CORM_MISUSE, "%s on a queryset that was already evaluated", what);
        corm__err_hint(
            &qs->err, "call %s before iterating, counting or getting; or corm_qs_clone() it", what);
        return false;
    }
    corm__qs_uncache(qs); /* a changed related queryset queries again */
    return true;
}

/* building_paths without paths; the common case (no error, not evaluated)
** without the call */
static inline bool building(corm_qs *qs, const char *what)
{
    if (!qs || qs->err.rc != CORM_OK || qs->evaluated) return building_paths(qs, what, NULL);
    if (!corm__qs_route(qs)) return false;
    corm__qs_uncache(qs); /* a changed related queryset queries again */
    return true;
}

bool corm__qs_unsliced(corm_qs *qs, const char *what, const char *verb)
{
    if (qs->q.limit < 0 && qs->q.offset == 0) return true;
    if (qs->err.rc != CORM_OK) return false; /* sticky: the first error wins */
    corm__err_set(&qs->err, CORM_INVALID,
                  "%s after corm_slice: cannot %s a query once a slice has "
                  "been taken",
                  what, verb);
    corm__err_hint(&qs->err,
                   "call %s before corm_slice (the slice applies last, as in Django); "
                   "to narrow the slice's own rows, filter a new queryset on their ids "
                   "(\"pk__in\")",
                   what);
    return false;
}

static void oom(corm_qs *qs)
{
    if (qs->err.rc == CORM_OK)
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory building a queryset");
}

corm_qs *corm_qs_new_at(corm_db *db, const corm_model *model, corm_site site)
{
    corm__db_enter(db); /* NULL: a queryset that says so */
    corm_qs *qs = corm__qs_new(db, model, site);
    /* (no call for a model without default eager loads) */
    if (model && (model->ndefault_related || model->ndefault_prefetch)) corm__qs_default_eager(qs);
    return qs;
}

/* The model's default eager loads (`default ...` in the schema), as
** Django's default manager whose get_queryset() asks for them;
** corm_select_related_clear / corm_prefetch_clear take them off. */
void corm__qs_default_eager(corm_qs *qs)
{
    const corm_model *m = qs ? qs->q.model : NULL;
    if (!m || qs->err.rc != CORM_OK) return;
    for (int i = 0; i < m->ndefault_related; i++)
        corm_select_related_v(qs, (const char *const[]){m->default_related[i], NULL});
    for (int i = 0; i < m->ndefault_prefetch; i++)
        corm_prefetch(qs, m->default_prefetch[i], NULL, NULL);
}

corm_qs *corm__qs_new(corm_db *db, const corm_model *model, corm_site site)
{
    /* from the db's block cache: a queryset built for one call in a loop
    ** reuses the memory of the one before (corm_qs_free gives it back).
    ** The queryset holds a reference to the pool, which it lends its two
    ** arenas: they take a block only at their first allocation (a count
    ** over inline filters takes none). */
    corm__blockpool *pool = db ? db->blocks : NULL;
    corm_qs *qs = corm__blockpool_get(pool, sizeof *qs);
    if (!qs) return NULL;
    /* home to err (sqltext, explain: corm__buf_init's state) */
    memset(&qs->home, 0, offsetof(corm_qs, err) - offsetof(corm_qs, home));
    qs->db = db;
    qs->built = site;
    /* with its header, a size malloc caches per thread */
    corm__arena_init_lent(&qs->build, 992, pool);
    corm__arena_init_lent(&qs->result, 8192, pool);
    qs->q.model = model;
    qs->q.limit = -1;
    qs->q.scopes = db ? &db->scopes : NULL; /* default scopes read the db's values */
    corm__err_clear(&qs->err);
    if (!db || !model) {
        if (db && !model) return qs; /* corm_sql: rows of raw SQL */
        corm__err_set(&qs->err, CORM_MISUSE, "corm_all needs a database and a model");
        corm__err_hint(&qs->err, "open the database with corm_open and pass a generated model");
    } else if (model->size == 0) {
        corm__err_set(&qs->err, CORM_MISUSE, "model %s has no generated struct", model->name);
        corm__err_hint(&qs->err, "querysets run on generated models: corm gen schema.corm -o DIR");
    }
    return qs;
}

corm_q *corm__q_copy(corm_qs *dst, const corm_qs *src, const corm_q *q)
{
    if (!q) return NULL;
    corm_q *c = corm__arena_zalloc(&dst->build, sizeof *c);
    if (!c) return NULL;
    c->kind = q->kind;
    c->chain = q->chain;
    if (q->kind == CORM__Q_LEAF) {
        c->lookup = corm__arena_strdup(&dst->build, q->lookup);
        if (!c->lookup || corm__value_copy(&dst->build, &c->value, &q->value) != CORM_OK)
            return NULL;
        if (q->rhs && !(c->rhs = corm__expr_copy(dst, src, q->rhs))) return NULL;
        return c;
    }
    c->a = corm__q_copy(dst, src, q->a);
    if (!c->a) return NULL;
    if (q->b && !(c->b = corm__q_copy(dst, src, q->b))) return NULL;
    return c;
}

static const char **copy_strs(corm_arena *a, const char *const *src, int n)
{
    const char **p = corm__arena_alloc(a, (size_t)(n ? n : 1) * sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < n; i++)
        if (!(p[i] = corm__arena_strdup(a, src[i]))) return NULL;
    return p;
}

corm_qs *corm_qs_clone(const corm_qs *src)
{
    if (!src) return NULL;
    corm_qs *qs = corm__qs_new(src->home ? src->home : src->db, src->q.model, src->built);
    if (!qs) return NULL;
    corm__err_copy(&qs->err, &src->err);
    if (src->using) corm_using(qs, src->using);
    qs->q.norder = src->q.norder;
    qs->q.order_set = src->q.order_set;
    qs->q.nrelated = src->q.nrelated;
    qs->q.offset = src->q.offset;
    qs->q.limit = src->q.limit;
    qs->q.unscoped = src->q.unscoped;
    qs->cache_ms = src->cache_ms;
    for (int i = 0; i < src->npf && qs->err.rc == CORM_OK; i++) {
        const corm__pf_lookup *l = &src->pf[i];
        corm_qs *inner = l->owner ? corm_qs_clone(l->owner) : NULL;
        if (l->owner && !inner) oom(qs);
        else corm_prefetch(qs, l->path, inner, l->to_attr);
    }
    if (qs->err.rc == CORM_OK && corm__clone_shape(qs, src) != CORM_OK) oom(qs);
    if ((src->q.where && !(qs->q.where = corm__q_copy(qs, src, src->q.where))) ||
        !(qs->q.order = copy_strs(&qs->build, src->q.order, src->q.norder)) ||
        !(qs->q.related = copy_strs(&qs->build, src->q.related, src->q.nrelated)))
        oom(qs);
    return qs;
}

void corm_qs_free(corm_qs *qs)
{
    if (!qs) return;
    /* members a queryset built for one call never used are not freed one
    ** by one (each test spares a call) */
    for (int i = 0; i < qs->nowned; i++) corm_qs_free(qs->owned[i]);
    if (qs->rows.cells) corm__free(qs->rows.cells);
    if (qs->owned) corm__free(qs->owned);
    if (qs->explain.p) corm__buf_free(&qs->explain);
    for (int i = 0; i < qs->npf; i++) corm_qs_free(qs->pf[i].owner);
    if (qs->pf) corm__free(qs->pf);
    if (qs->sqltext.p) corm__buf_free(&qs->sqltext);
    /* the arenas' blocks go back first (the pool keeps as much as its
    ** largest arena), then the queryset's memory with its reference to
    ** the pool, which stays alive through both even when the db was
    ** closed; an arena that took no block has nothing to give back */
    corm__blockpool *pool = qs->result.pool;
    if (qs->build.head) corm__arena_free(&qs->build);
    if (qs->result.head) corm__arena_free(&qs->result);
    corm__blockpool_put(pool, qs);
}

/* A text list with a NULL element: false, with the error on qs. */
static bool texts_ok(corm_qs *qs, const char *lookup, const corm_value *v)
{
    for (size_t i = 0; v->type == CORM_V_TEXTS && i < v->u.texts.n; i++)
        if (!v->u.texts.p || !v->u.texts.p[i]) {
            /* not '' (a value nobody wrote) */
            corm__err_set(&qs->err, CORM_MISUSE, "'%s': element %zu of the text list is NULL",
                          lookup ? lookup : "", i);
            corm__err_hint(&qs->err, "drop it (a NULL matches no IN), or filter with "
                                     "\"__isnull\" in a corm_Q OR");
            return false;
        }
    return true;
}

corm_q *corm_q_new(corm_qs *qs, const char *lookup, corm_value v)
{
    if (!usable(qs)) return NULL;
    corm_q *q = corm__arena_zalloc(&qs->build, sizeof *q);
    if (!q) {
        oom(qs);
        return NULL;
    }
    if (!texts_ok(qs, lookup, &v)) return NULL;
    q->kind = CORM__Q_LEAF;
    q->lookup = corm__arena_strdup(&qs->build, lookup ? lookup : "");
    if (!q->lookup || corm__value_copy(&qs->build, &q->value, &v) != CORM_OK) {
        oom(qs);
        return NULL;
    }
    return q;
}

static corm_q *combine(corm_qs *qs, corm__qkind kind, corm_q *a, corm_q *b)
{
    if (!usable(qs)) return NULL;
    if (!a || (kind != CORM__Q_NOT && !b)) {
        corm__err_set(&qs->err, CORM_MISUSE, "a Q combinator got a NULL operand");
        corm__err_hint(&qs->err, "build operands with corm_q_new on the same queryset");
        return NULL;
    }
    corm_q *q = corm__arena_zalloc(&qs->build, sizeof *q);
    if (!q) {
        oom(qs);
        return NULL;
    }
    q->kind = kind;
    q->a = a;
    q->b = b;
    return q;
}

corm_q *corm_q_and(corm_qs *qs, corm_q *a, corm_q *b) { return combine(qs, CORM__Q_AND, a, b); }
corm_q *corm_q_or(corm_qs *qs, corm_q *a, corm_q *b) { return combine(qs, CORM__Q_OR, a, b); }
corm_q *corm_q_not(corm_qs *qs, corm_q *a) { return combine(qs, CORM__Q_NOT, a, NULL); }

void corm_filter_q(corm_qs *qs, corm_q *q)
{
    if (!building(qs, "corm_filter")) return;
    if (!corm__qs_unsliced(qs, "corm_filter", "filter")) return;
    if (!q) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_filter_q got a NULL Q");
        return;
    }
    if (!qs->q.where) qs->q.where = q;
    else if ((qs->q.where = combine(qs, CORM__Q_AND, qs->q.where, q))) qs->q.where->chain = true;
}

void corm_exclude_q(corm_qs *qs, corm_q *q)
{
    if (!building(qs, "corm_exclude")) return;
    if (!corm__qs_unsliced(qs, "corm_exclude", "filter")) return;
    corm_filter_q(qs, corm_q_not(qs, q));
}

/* corm_filter_q(qs, corm_q_new(qs, lookup, v)) with the builder's checks
** made once and one allocation for the call (in qs->inl while it has
** room, else the build arena): the leaf, the AND that chains it to the
** filters before (when there are), and the lookup's copy (the caller's
** buffer may change after the call).  The same tree. */
void corm_filter(corm_qs *qs, const char *lookup, corm_value v)
{
    if (!building(qs, "corm_filter")) return;
    if (!corm__qs_unsliced(qs, "corm_filter", "filter")) return;
    if (v.type == CORM_V_TEXTS && !texts_ok(qs, lookup, &v)) return;
    if (!lookup) lookup = "";
    size_t len = strlen(lookup), nq = qs->q.where ? 2 : 1;
    size_t need = (nq * sizeof(corm_q) + len + 1 + 15) & ~(size_t)15;
    corm_q *q;
    if (need <= sizeof qs->inl - qs->inl_used) {
        q = (corm_q *)(void *)(qs->inl + qs->inl_used);
        qs->inl_used += need;
    } else {
        q = corm__arena_alloc(&qs->build, need);
    }
    if (!q) {
        oom(qs);
        return;
    }
    char *copy = (char *)(q + nq);
    memcpy(copy, lookup, len + 1);
    q[0] = (corm_q){.kind = CORM__Q_LEAF, .lookup = copy, .value = v};
    /* a value that points to memory gets its copy (corm__value_copy's
    ** cases); a number, a bool, NULL or a decimal is all in v */
    bool points = v.type == CORM_V_TEXT || v.type == CORM_V_BLOB || v.type == CORM_V_INTS ||
                  v.type == CORM_V_TEXTS || v.type == CORM_V_LIST;
    if (points && corm__value_copy(&qs->build, &q[0].value, &v) != CORM_OK) {
        oom(qs);
        return;
    }
    if (nq == 2) q[1] = (corm_q){.kind = CORM__Q_AND, .a = qs->q.where, .b = q, .chain = true};
    qs->q.where = &q[nq - 1];
}

void corm_exclude(corm_qs *qs, const char *lookup, corm_value v)
{
    if (!building(qs, "corm_exclude")) return;
    if (!corm__qs_unsliced(qs, "corm_exclude", "filter")) return;
    corm_exclude_q(qs, corm_q_new(qs, lookup, v));
}

static int count_strs(const char *const *v)
{
    int n = 0;
    while (v && v[n]) n++;
    return n;
}

void corm_order_by_v(corm_qs *qs, const char *const *fields)
{
    if (!building(qs, "corm_order_by")) return;
    if (!corm__qs_unsliced(qs, "corm_order_by", "reorder")) return;
    int n = count_strs(fields);
    const char **p = copy_strs(&qs->build, fields, n);
    if (!p) {
        oom(qs);
        return;
    }
    qs->q.order = p;
    qs->q.norder = n;
    qs->q.order_set = true;
}

void corm_select_related_v(corm_qs *qs, const char *const *paths)
{
    if (!building_paths(qs, "corm_select_related", paths)) return;
    if (qs->q.values_mode) { /* Django's TypeError */
        corm__err_set(&qs->err, CORM_INVALID,
                      "cannot call corm_select_related after corm_values or corm_values_list");
        corm__err_hint(&qs->err,
                       "rows name related fields by their path (\"%s__name\"): drop "
                       "corm_select_related, or call it before corm_values",
                       paths && paths[0] ? paths[0] : "author");
        return;
    }
    int n = count_strs(paths);
    int total = qs->q.nrelated + n;
    const char **p = corm__arena_alloc(&qs->build, (size_t)(total ? total : 1) * sizeof *p);
    if (!p) {
        oom(qs);
        return;
    }
    for (int i = 0; i < qs->q.nrelated; i++) p[i] = qs->q.related[i];
    for (int i = 0; i < n; i++)
        if (!(p[qs->q.nrelated + i] = corm__arena_strdup(&qs->build, paths[i]))) {
            oom(qs);
            return;
        }
    qs->q.related = p;
    qs->q.nrelated = total;
}

int corm_qs_late_eager(const corm_qs *qs) { return qs ? qs->late_eager : 0; }

void corm_prefetch(corm_qs *qs, const char *path, corm_qs *inner, const char *to_attr)
{
    if (!building_paths(qs, "corm_prefetch_related", (const char *const[]){path, NULL})) {
        corm_qs_free(inner);
        return;
    }
    if (!path || !*path) {
        corm__err_set(&qs->err, CORM_INVALID, "corm_prefetch needs a relation path");
        corm__err_hint(&qs->err, "e.g. corm_prefetch(qs, \"books\", inner, \"recent_books\")");
        corm_qs_free(inner);
        return;
    }
    if (inner && inner->err.rc == CORM_OK &&
        (inner->q.values_mode || inner->q.aggregate || inner->raw_sql)) {
        /* Django's ValueError, when the Prefetch is made */
        corm__err_set(&inner->err, CORM_INVALID,
                      "Prefetch('%s'): Prefetch querysets cannot use corm_raw() or "
                      "values (corm_values, corm_values_list, corm_values_flat)",
                      path);
        corm__err_hint(&inner->err,
                       "give a queryset of %s objects (corm_all with filters, "
                       "ordering, select_related); read columns from the objects",
                       inner->q.model ? inner->q.model->name : "model");
    }
    if (inner && inner->err.rc != CORM_OK) {
        corm__err_copy(&qs->err, &inner->err);
        corm_qs_free(inner);
        return;
    }
    if (to_attr && !corm__to_attr_free(qs, path, to_attr)) {
        corm_qs_free(inner);
        return;
    }
    corm__pf_lookup *pf = corm__realloc(qs->pf, (size_t)(qs->npf + 1) * sizeof *pf);
    const char *p = corm__arena_strdup(&qs->build, path);
    const char *t = to_attr ? corm__arena_strdup(&qs->build, to_attr) : NULL;
    if (!pf || !p || (to_attr && !t)) {
        if (pf) qs->pf = pf;
        corm_qs_free(inner);
        oom(qs);
        return;
    }
    qs->pf = pf;
    qs->pf[qs->npf++] = corm__pf_describe(p, inner, t);
}

corm__pf_lookup corm__pf_describe(const char *path, corm_qs *inner, const char *to_attr)
{
    corm__pf_lookup l = {path, to_attr, NULL, {0}, NULL, 0, inner};
    if (inner) {
        l.inner_q = &inner->q;
        l.inner_built = inner->built;
        l.inner_pf = inner->pf;
        l.inner_npf = inner->npf;
    }
    return l;
}

void corm_prefetch_related_v(corm_qs *qs, const char *const *paths)
{
    for (int i = 0; paths && paths[i]; i++) corm_prefetch(qs, paths[i], NULL, NULL);
}

void corm_prefetch_clear(corm_qs *qs)
{
    if (!building(qs, "corm_prefetch_clear")) return;
    for (int i = 0; i < qs->npf; i++) corm_qs_free(qs->pf[i].owner);
    qs->npf = 0;
}

void corm_select_related_clear(corm_qs *qs)
{
    if (qs && qs->evaluated && qs->err.rc == CORM_OK) {
        /* not a late eager load (building() would count it as one) */
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_select_related_clear on a queryset that was already evaluated");
        corm__err_hint(&qs->err, "call it before iterating, counting or getting; or "
                                 "corm_qs_clone() it");
        return;
    }
    if (!building(qs, "corm_select_related_clear")) return;
    qs->q.nrelated = 0;
}

void corm_slice(corm_qs *qs, int64_t start, int64_t stop)
{
    struct corm__relcache *cached = qs ? qs->cached : NULL;
    if (!building(qs, "corm_slice")) return;
    if (start < 0 || (stop >= 0 && stop < start)) {
        corm__err_set(&qs->err, CORM_INVALID, "corm_slice(%lld, %lld): negative or reversed bounds",
                      (long long)start, (long long)stop);
        corm__err_hint(&qs->err, "use 0 <= start <= stop, or stop = -1 for no end (negative "
                                 "indexing is not supported, as in Django)");
        return;
    }
    /* slicing a slice composes, as Django's qs[a:b][c:d] */
    int64_t base = qs->q.offset, old_limit = qs->q.limit;
    int64_t off = base + start;
    int64_t lim = stop >= 0 ? stop - start : -1;
    if (old_limit >= 0) {
        int64_t room = old_limit - start;
        if (room < 0) room = 0;
        lim = lim < 0 || lim > room ? room : lim;
    }
    qs->q.offset = off;
    qs->q.limit = lim;
    /* Django's qs[a:b] on a prefetched related set slices its result cache:
    ** no query (count, exists and evaluation read the slice of it) */
    qs->cached = cached;
}

bool corm_qs_failed(const corm_qs *qs) { return !qs || qs->err.rc != CORM_OK; }

const corm_error *corm_qs_error(const corm_qs *qs)
{
    static const corm_error nomem = {.rc = CORM_NOMEM, .message = "out of memory: no queryset"};
    return qs ? &qs->err : &nomem;
}

size_t corm_qs_memory_size(const corm_qs *qs)
{
    if (!qs) return 0;
    return corm__arena_size(&qs->result) + qs->rows.nrows * qs->rows.ncols * sizeof(corm_value);
}

static const corm__dialect *dialect(corm_qs *qs)
{
    const corm__dialect *d = qs->db->dialect;
    if (CORM_NEVER(!d))
        corm__err_set(&qs->err, CORM_MISUSE, "no SQL dialect for %s", qs->db->be->vendor);
    return d;
}

const char *corm_qs_sql(corm_qs *qs)
{
    if (!usable(qs)) return NULL;
    const corm__dialect *d = dialect(qs);
    if (!d) return NULL;
    /* raw SQL is run as written: that is its SQL (and what explain plans) */
    if (qs->raw_sql) return corm__raw_sql(qs);
    /* the prefetch paths, as evaluation checks them (no objects: no query) */
    if (qs->npf && corm__prefetch_run(qs->db, &qs->build, qs->q.model, NULL, 0, qs->pf, qs->npf,
                                      qs->built, qs->built, &qs->err) != CORM_OK)
        return NULL;
    corm__compiled c;
    corm__compiled_init(&c);
    const char *r = NULL;
    if (corm__compile_select(&qs->q, CORM__SEL_OBJECTS, d, &c, &qs->err) == CORM_OK) {
        corm__buf_reset(&qs->sqltext);
        corm__buf_add(&qs->sqltext, c.sql.p, c.sql.len);
        r = qs->sqltext.oom ? NULL : corm__buf_cstr(&qs->sqltext);
        /* keep the parameters (and their text) for corm_qs_sql_params */
        qs->sql_params = corm__arena_alloc(&qs->build, (size_t)(c.nparams ? c.nparams : 1) *
                                                           sizeof *qs->sql_params);
        qs->nsql_params = 0;
        for (int i = 0; qs->sql_params && i < c.nparams; i++)
            if (corm__value_copy(&qs->build, &qs->sql_params[i], &c.params[i]) == CORM_OK)
                qs->nsql_params = i + 1;
        if (!qs->sql_params || qs->nsql_params != c.nparams) {
            oom(qs);
            r = NULL;
        }
    }
    corm__compiled_free(&c);
    return r;
}

int corm_qs_sql_params(const corm_qs *qs, const corm_value **params)
{
    if (params) *params = qs ? qs->sql_params : NULL;
    return qs ? qs->nsql_params : 0;
}

const char *corm_explain_at(corm_qs *qs, corm_site site)
{
    CORM__QS_ENTER(qs);
    const char *sql = corm_qs_sql(qs);
    if (!sql) return NULL;
    const corm__dialect *d = dialect(qs);
    corm_buf b;
    corm__buf_init(&b);
    corm__compile_explain(sql, d, &b);
    corm__rows rows;
    corm_arena tmp;
    corm__arena_init(&tmp, 1024);
    corm_rc rc = b.oom
                     ? CORM_NOMEM
                     : corm__fetch_rows(qs->db, corm__buf_cstr(&b), qs->sql_params, qs->nsql_params,
                                        &tmp, site, qs->built, "explain", &rows, &qs->err);
    corm__buf_free(&b);
    corm__buf_reset(&qs->explain);
    /* one line per plan step: SQLite's detail column (the last), or
    ** PostgreSQL's single column */
    for (size_t i = 0; rc == CORM_OK && i < rows.nrows; i++) {
        const corm_value *v = &rows.cells[i * rows.ncols + rows.ncols - 1];
        if (v->type == CORM_V_TEXT) {
            corm__buf_adds(&qs->explain, v->u.s.p);
            corm__buf_addc(&qs->explain, '\n');
        }
    }
    if (rc == CORM_OK) corm__free(rows.cells);
    corm__arena_free(&tmp);
    if (rc != CORM_OK) return NULL;
    return qs->explain.oom ? NULL : corm__buf_cstr(&qs->explain);
}

/* ------------------------------------------------------------ evaluation */

/* values() / aggregate(): the compiled SELECT's rows as cells. */
static corm_rc eval_rows(corm_qs *qs, corm_site site)
{
    const corm__dialect *d = dialect(qs);
    if (!d) return qs->err.rc;
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select(&qs->q, CORM__SEL_OBJECTS, d, &c, &qs->err);
    if (rc == CORM_OK)
        rc = corm__fetch_rows(qs->db, c.sql.p, c.params, c.nparams, &qs->result, site, qs->built,
                              qs->q.aggregate ? "aggregate" : "values", &qs->rows, &qs->err);
    /* columns by position, named as the user named them: never by the
    ** server's alias text (PostgreSQL cuts aliases at 63 bytes) */
    for (size_t i = 0; rc == CORM_OK && i < qs->rows.ncols && (int)i < c.ncols; i++)
        if (c.colnames &&
            !(qs->rows.colnames[i] = corm__arena_strdup(&qs->result, c.colnames[i]))) {
            corm__err_set(&qs->err, CORM_NOMEM, "out of memory reading rows");
            rc = CORM_NOMEM;
        }
    /* booleans come back as 0/1 from both backends: make them bools */
    corm__rows *r = &qs->rows;
    for (size_t i = 0; rc == CORM_OK && c.colbool && i < r->ncols && (int)i < c.ncols; i++)
        for (size_t k = 0; c.colbool[i] && k < r->nrows; k++) {
            corm_value *v = &r->cells[k * r->ncols + i];
            if (v->type == CORM_V_INT) *v = corm_bool(v->u.i != 0);
        }
    /* a decimal field's cells at its scale, whatever the backend typed
    ** them (SQLite: an integer or a REAL), as PostgreSQL's numeric */
    for (size_t i = 0; rc == CORM_OK && c.colfield && i < r->ncols && (int)i < c.ncols; i++)
        for (size_t k = 0; c.colfield[i] && c.colfield[i]->type == CORM_FT_DECIMAL && k < r->nrows;
             k++)
            corm__dec_cell(&r->cells[k * r->ncols + i], c.colfield[i]->scale);
    /* columns past the requested ones (what a DISTINCT orders by) are
    ** not the user's: drop them, in place */
    if (rc == CORM_OK && c.colnames && (size_t)c.ncols < r->ncols) {
        size_t keep = (size_t)c.ncols;
        for (size_t i = 0; i < r->nrows; i++)
            memmove(&r->cells[i * keep], &r->cells[i * r->ncols], keep * sizeof *r->cells);
        r->ncols = keep;
    }
    corm__compiled_free(&c);
    if (rc == CORM_OK) qs->n = qs->rows.nrows;
    return rc;
}

/* A queryset that selects nothing whatever the data (corm__query_empty:
** an `in` of an empty list, a slice [n:n]) runs no query, as Django's
** EmptyResultSet; it is compiled all the same, so its mistakes are
** reported.  values(): no row; aggregate(): one row, Count 0 and the
** others NULL (Django's empty_result_set_value). */
static corm_rc eval_empty(corm_qs *qs)
{
    const corm__dialect *d = dialect(qs);
    if (!d) return qs->err.rc;
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select(&qs->q, CORM__SEL_OBJECTS, d, &c, &qs->err);
    bool rows = qs->q.values_mode || qs->q.aggregate;
    corm__rows *r = &qs->rows;
    if (rc == CORM_OK && rows && c.colnames && c.ncols > 0) {
        size_t n = (size_t)c.ncols;
        r->colnames = corm__arena_zalloc(&qs->result, n * sizeof *r->colnames);
        r->cells = qs->q.aggregate ? corm__calloc(n, sizeof *r->cells) : NULL;
        for (size_t i = 0; r->colnames && i < n; i++)
            r->colnames[i] = corm__arena_strdup(&qs->result, c.colnames[i]);
        if (!r->colnames || (qs->q.aggregate && !r->cells) || (n && !r->colnames[n - 1])) {
            corm__err_set(&qs->err, CORM_NOMEM, "out of memory reading rows");
            rc = CORM_NOMEM;
        }
        for (size_t i = 0; rc == CORM_OK && r->cells && i < n; i++) {
            r->cells[i] = corm_null();
            for (int k = 0; k < qs->q.nannots; k++) {
                const corm__annot *an = &qs->q.annots[k];
                if (!an->aggregate || strcmp(an->name, c.colnames[i]) != 0) continue;
                const corm_expr *e = an->e;
                if (e->kind == CORM__E_AGG && e->agg == CORM__AGG_COUNT) r->cells[i] = corm_int(0);
                /* an aggregate's default= (Coalesce with a value): the value */
                if (e->kind == CORM__E_BINOP && e->op == CORM__OP_COALESCE &&
                    e->a->kind == CORM__E_AGG && e->b->kind == CORM__E_VALUE)
                    r->cells[i] = e->b->value;
            }
        }
        if (rc == CORM_OK) {
            r->ncols = n;
            r->nrows = qs->q.aggregate ? 1 : 0;
        }
    }
    corm__compiled_free(&c);
    qs->n = rc == CORM_OK && rows ? r->nrows : 0;
    qs->items = NULL;
    return rc;
}

corm_rc corm_eval_at(corm_qs *qs, corm_site site)
{
    if (!qs) return CORM_NOMEM; /* corm_all ran out of memory */
    CORM__QS_ENTER(qs);
    if (qs->err.rc != CORM_OK) return qs->err.rc;
    if (qs->evaluated) return CORM_OK;
    if (corm__qs_cached(qs)) {
        corm__qs_adopt_cache(qs); /* a prefetched related set: no query */
        return CORM_OK;
    }
    if (!corm__qs_route(qs)) return qs->err.rc;
    /* the queryset and its prefetch levels read one snapshot; their
    ** objects report to the handle qs was made on */
    bool was_cached;
    if (!corm__qs_cache_begin(qs, &was_cached)) return qs->err.rc;
    corm_db *prev = corm__db_serve(qs->db, qs->home);
    bool snap = false;
    corm_rc rc = qs->npf ? corm__db_snapshot_begin(qs->db, &snap) : CORM_OK;
    if (rc != CORM_OK) corm__err_take(&qs->err, &qs->db->err);
    if (rc == CORM_OK && qs->raw_sql) rc = corm__eval_raw(qs, site);
    else if (rc == CORM_OK && corm__query_empty(&qs->q)) rc = eval_empty(qs);
    else if (rc == CORM_OK && (qs->q.values_mode || qs->q.aggregate)) rc = eval_rows(qs, site);
    else if (rc == CORM_OK)
        rc = corm__fetch(qs->db, &qs->q, &qs->result, site, qs->built, "queryset", &qs->items,
                         &qs->n, NULL, &qs->err);
    if (rc == CORM_OK && !qs->raw_sql) corm__qs_known(qs, qs->items, qs->n);
    if (rc == CORM_OK && qs->npf && qs->items && !qs->raw_sql)
        rc = corm__prefetch_run_q(qs->db, &qs->result, &qs->q, qs->items, qs->n, qs->pf, qs->npf,
                                  site, qs->built, &qs->err);
    else if (rc == CORM_OK && qs->npf && qs->items)
        rc = corm__prefetch_run(qs->db, &qs->result, qs->q.model, qs->items, qs->n, qs->pf, qs->npf,
                                site, qs->built, &qs->err);
    corm__db_snapshot_end(qs->db, snap);
    corm__db_serve(qs->db, prev);
    corm__qs_cache_end(qs, was_cached);
    if (rc != CORM_OK) {
        qs->items = NULL;
        qs->n = 0;
        return rc;
    }
    qs->evaluated = true;
    return CORM_OK;
}

size_t corm_qs_len(const corm_qs *qs) { return qs && qs->evaluated ? qs->n : 0; }

void *corm_qs_at(const corm_qs *qs, size_t i)
{
    if (!qs || !qs->evaluated || i >= qs->n) return NULL;
    if (!qs->items) {
        /* a queryset of rows (values, aggregate, corm_sql) has no objects;
        ** its error slot is state the caller owns (corm_qs is never const
        ** storage: every queryset comes from corm_all & co) */
        corm_qs *mq = (corm_qs *)qs;
        corm__err_set(&mq->err, CORM_MISUSE, "corm_qs_at(%zu) on a queryset of rows", i);
        corm__err_hint(&mq->err, "read rows with corm_qs_len and corm_qs_cell / corm_row_*");
        return NULL;
    }
    return qs->items[i];
}

size_t corm_foreach_begin_at(corm_qs *qs, size_t obj_size, corm_site site)
{
    if (!qs) return SIZE_MAX;
    CORM__QS_ENTER(qs);
    if (corm_eval_at(qs, site) != CORM_OK) return SIZE_MAX;
    if (!qs->items && (qs->n || qs->q.values_mode || qs->q.aggregate)) {
        corm__err_set(&qs->err, CORM_MISUSE, "corm_foreach over a queryset of rows");
        corm__err_hint(&qs->err, "read rows with corm_qs_len and corm_qs_cell / corm_row_*");
        return SIZE_MAX;
    }
    const corm_model *m = qs->q.model;
    if (m && m->size && obj_size != m->size) {
        corm__err_set(&qs->err, CORM_TYPE,
                      "corm_foreach: the loop variable points to a %zu-byte struct, the queryset "
                      "holds %s objects (%zu bytes)",
                      obj_size, m->name, m->size);
        corm__err_hint(&qs->err, "declare the loop variable as %s *", m->name);
        qs->n = 0; /* nothing to iterate, and corm_qs_len says so */
        return SIZE_MAX;
    }
    return 0;
}

/* COUNT / EXISTS: one scalar from a compiled query. */
static corm_rc scalar(corm_qs *qs, corm__sel_kind kind, corm_site site, int64_t *out)
{
    if (qs->raw_sql) {
        /* Django's RawQuerySet has no count() either: the SQL is opaque */
        corm_rc rc = corm_eval_at(qs, site);
        *out = rc == CORM_OK ? (kind == CORM__SEL_COUNT ? (int64_t)qs->n : qs->n > 0) : 0;
        return rc;
    }
    const corm__dialect *d = dialect(qs);
    if (!d) return qs->err.rc;
    bool was_cached = false; /* a cached queryset's count is cached too (cached.c) */
    if (qs->cache_ms && !corm__qs_cache_begin(qs, &was_cached)) return qs->err.rc;
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select_memo(&qs->db->sql_memo, &qs->q, kind, d, &c, &qs->err);
    /* nothing to count (corm__query_empty): no query, as Django */
    if (rc == CORM_OK && corm__compiled_query_empty(&c, &qs->q)) *out = 0;
    else if (rc == CORM_OK) {
        corm__cursor cur;
        corm__db_note_compiled(qs->db, &c);
        rc = corm__db_query(
            qs->db, &cur, c.sql.p, c.params, c.nparams, site, qs->built,
            corm__origin_names[kind == CORM__SEL_COUNT ? CORM_ORIGIN_COUNT : CORM_ORIGIN_EXISTS]);
        if (rc == CORM_OK) {
            bool row;
            rc = corm__cursor_step(&cur, &row);
            *out = rc == CORM_OK && row
                       ? (kind == CORM__SEL_COUNT
                              ? corm__row_be(qs->db, cur.stmt)->column_int(cur.stmt, 0)
                              : 1)
                       : 0;
            /* to its end (the one row): a statement read to its end can be
            ** stored by the cache */
            if (rc == CORM_OK && row && qs->cache_ms) rc = corm__cursor_step(&cur, &row);
            corm__cursor_close(&cur);
        }
        if (rc != CORM_OK) corm__err_take(&qs->err, &qs->db->err);
    }
    corm__compiled_free(&c);
    corm__qs_cache_end(qs, was_cached);
    return rc;
}

int64_t corm_count_at(corm_qs *qs, corm_site site)
{
    CORM__QS_ENTER(qs);
    if (!usable(qs)) return -1;
    if (qs->evaluated) return (int64_t)qs->n;
    if (corm__qs_cached(qs)) return (int64_t)corm__qs_cached_n(qs);
    int64_t n = 0;
    return scalar(qs, CORM__SEL_COUNT, site, &n) == CORM_OK ? n : -1;
}

int corm_exists_at(corm_qs *qs, corm_site site)
{
    CORM__QS_ENTER(qs);
    if (!usable(qs)) return -1;
    if (qs->evaluated) return qs->n > 0;
    if (corm__qs_cached(qs)) return corm__qs_cached_n(qs) > 0;
    int64_t n = 0;
    return scalar(qs, CORM__SEL_EXISTS, site, &n) == CORM_OK ? (int)n : -1;
}

/* get/first/last return objects: not for rows (values, aggregate, SQL). */
static bool objects_only(corm_qs *qs, const char *what)
{
    if (!qs->q.values_mode && !qs->q.aggregate && !qs->raw_rows) return true;
    corm__err_set(&qs->err, CORM_MISUSE, "%s on a queryset of rows", what);
    corm__err_hint(&qs->err, "evaluate it and read rows with corm_qs_cell / corm_row_*");
    return false;
}

void *corm_get_at(corm_qs *qs, corm_site site)
{
    CORM__QS_ENTER(qs);
    if (!usable(qs) || !objects_only(qs, "corm_get")) return NULL;
    if (!qs->evaluated) corm__qs_uncache(qs); /* Django's get() filters: a query */
    if (!qs->evaluated) {
        /* Django fetches at most MAX_GET_RESULTS + 1 rows to name the count;
        ** two are enough to tell "one" from "several" */
        if (qs->q.limit < 0 || qs->q.limit > 2) {
            int64_t keep = qs->q.limit;
            qs->q.limit = 2;
            corm_rc rc = corm_eval_at(qs, site);
            qs->q.limit = keep;
            if (rc != CORM_OK) return NULL;
        } else if (corm_eval_at(qs, site) != CORM_OK) {
            return NULL;
        }
    }
    if (qs->n == 1) return qs->items[0];
    if (qs->n == 0) {
        corm__err_set(&qs->err, CORM_NOTFOUND, "%s matching query does not exist",
                      qs->q.model->name);
        corm__err_hint(&qs->err,
                       "check the filter, or use corm_first() when none is a normal outcome");
    } else {
        corm__err_set(&qs->err, CORM_MULTIPLE, "get() returned more than one %s",
                      qs->q.model->name);
        corm__err_hint(&qs->err,
                       "filter on a unique field (pk, a unique column), or use corm_first()");
    }
    return NULL;
}

static void *first_or_last(corm_qs *qs, corm_site site, bool last)
{
    CORM__QS_ENTER(qs);
    if (!usable(qs) || !objects_only(qs, last ? "corm_last" : "corm_first")) return NULL;
    if (qs->raw_sql && !qs->evaluated && corm_eval_at(qs, site) != CORM_OK) return NULL;
    if (qs->evaluated) return qs->n ? qs->items[last ? qs->n - 1 : 0] : NULL;
    /* Django's first() on a prefetched set that is ordered is its result
    ** cache's [:1]; unordered it orders by pk, and last() reverses: both
    ** a query (a slice of it: refused below, as any slice) */
    void *cached_first = NULL;
    if (!last && corm__qs_cached(qs) && corm__qs_cached_first(qs, &cached_first))
        return cached_first;
    /* as Django: first() is qs[:1] when qs is ordered, else orders by pk,
    ** and last() reverses the ordering - neither of which a sliced
    ** queryset allows (Django's "Cannot reorder / reverse a query once a
    ** slice has been taken"): the first of an ordered slice is its first
    ** row, anything else is refused. */
    corm__query one = qs->q;
    bool ordered = one.order_set ? one.norder > 0 : one.model->nordering > 0;
    if ((one.limit >= 0 || one.offset > 0) && (last || !ordered)) {
        corm__err_set(&qs->err, CORM_INVALID,
                      "%s on a sliced queryset%s: cannot %s a query once a slice has been taken",
                      last ? "corm_last()" : "corm_first()", last ? "" : " without an ordering",
                      last ? "reverse" : "reorder");
        corm__err_hint(&qs->err, "%s",
                       last ? "reverse the ordering before corm_slice and use corm_first(), as "
                              "Django requires"
                            : "order it before corm_slice (corm_order_by(qs, \"pk\")): the first "
                              "row of an unordered slice is whatever the database returns first");
        return NULL;
    }
    if (qs->q.limit == 0) return NULL;
    /* the object lands in qs's result arena (qs itself stays unevaluated) */
    static const char *pk[] = {"pk"};
    if (!ordered) {
        one.order = pk;
        one.norder = 1;
        one.order_set = true;
    }
    one.reverse_order = last;
    one.limit = 1;
    void **items = NULL;
    size_t n = 0;
    corm_db *prev = corm__db_serve(qs->db, qs->home);
    bool snap = false;
    corm_rc rc = qs->npf ? corm__db_snapshot_begin(qs->db, &snap) : CORM_OK;
    if (rc != CORM_OK) corm__err_take(&qs->err, &qs->db->err);
    if (rc == CORM_OK)
        rc = corm__fetch(qs->db, &one, &qs->result, site, qs->built, "queryset", &items, &n, NULL,
                         &qs->err);
    if (rc == CORM_OK) corm__qs_known(qs, items, n);
    if (rc == CORM_OK && n && qs->npf)
        rc = corm__prefetch_run(qs->db, &qs->result, one.model, items, n, qs->pf, qs->npf, site,
                                qs->built, &qs->err);
    corm__db_snapshot_end(qs->db, snap);
    corm__db_serve(qs->db, prev);
    return rc == CORM_OK && n ? items[0] : NULL;
}

void *corm_first_at(corm_qs *qs, corm_site site) { return first_or_last(qs, site, false); }
void *corm_last_at(corm_qs *qs, corm_site site) { return first_or_last(qs, site, true); }
