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

/* An accessor's error goes to the handle the object's queryset was made
** on (corm_batch.home; corm.h, "Errors"), never to an attached database's.
** An object corm did not load (NULL, CORM_NEW, a copy) has no handle: the
** failure hook says what was wrong (by default it prints and aborts), as
** returning NULL would read as "no related object". */
void corm__obj_report(const corm_obj *h, corm_site site, corm_error *e)
{
    if (h && h->model && h->batch) {
        corm__err_copy(&h->batch->home->err, e);
        return;
    }
    if (site.file) {
        corm__strlcpy(e->file, site.file, sizeof e->file);
        e->line = site.line;
    }
    char msg[1536];
    corm__instr_fail(NULL, corm_error_format(e, msg, sizeof msg), site.file, site.line);
}

/* check()'s failures, out of the accessors' hot path. */
CORM__COLD static bool bad_call(const corm_obj *h, int rel, corm_site site, const char *what)
{
    corm_error e;
    if (!h || !h->model) {
        corm__err_set(&e, CORM_MISUSE, "%s: the object is %s", what,
                      h ? "not a model object" : "NULL");
        corm__err_hint(&e, "pass an object loaded by a queryset");
        corm__obj_report(NULL, site, &e);
        return false;
    }
    if (h->batch) corm__db_enter(h->batch->home);
    corm__err_set(&e, CORM_MISUSE, "%s: %s has no relation %d", what, h->model->name, rel);
    corm__err_hint(&e, "pass a %s_REL_<NAME> constant, or use the generated accessor",
                   h->model->name);
    corm__obj_report(h, site, &e);
    return false;
}

/* The accessors' entry: the object and relation index are valid (else the
** error is reported and false returned), and the home db's error is
** cleared (the entry rule). */
static inline bool check(void *obj, int rel, corm_site site, const char *what, corm_obj **h,
                         const corm_relation **r)
{
    corm_obj *o = obj;
    *h = o;
    if (!o || !o->model || rel < 0 || rel >= o->model->nrels) return bad_call(o, rel, site, what);
    if (o->batch) corm__db_enter(o->batch->home);
    *r = &o->model->rels[rel];
    return true;
}

/* A relation asked through the accessor of the other arity. */
CORM__COLD static void *wrong_kind(const corm_obj *h, const corm_relation *r, corm_site site,
                                   bool is_many)
{
    corm_error e;
    corm__err_set(&e, CORM_MISUSE, "%s.%s is %s", h->model->name, r->name,
                  is_many ? "to-many" : "to-one");
    corm__err_hint(&e, is_many ? "use the related set accessor (corm_related_set_at)"
                               : "use its object accessor (corm_related_at)");
    corm__obj_report(h, site, &e);
    return NULL;
}

/* A relation of an object corm did not load: nothing to load it from. */
CORM__COLD static void *no_batch(const corm_obj *h, const corm_relation *r, corm_site site)
{
    corm_error e;
    corm__err_set(&e, CORM_MISUSE, "%s.%s: the %s was not loaded by corm (CORM_NEW, or a copy)",
                  h->model->name, r->name, h->model->name);
    corm__err_hint(&e, "load it with a queryset (corm_get) to follow its relations%s",
                   r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O ? ", or read its key field"
                                                                     : "");
    corm__obj_report(h, site, &e);
    return NULL;
}

/* "fk:Book.author": interned by the instrumentation, made once per text. */
static const char *origin_of(corm_db *db, const corm_model *m, const corm_relation *r,
                             const char *kind)
{
    for (size_t i = 0; i < CORM__ARRAY_LEN(db->origins); i++)
        if (db->origins[i].model == m && db->origins[i].rel == r && db->origins[i].kind == kind)
            return db->origins[i].origin;
    char buf[256];
    size_t nk = strlen(kind), nm = strlen(m->name), nr = strlen(r->name);
    if (nk + nm + nr + 2 >= sizeof buf) return kind;
    memcpy(buf, kind, nk);
    buf[nk] = ':';
    memcpy(buf + nk + 1, m->name, nm);
    buf[nk + 1 + nm] = '.';
    memcpy(buf + nk + nm + 2, r->name, nr);
    const char *s = corm__instr_intern(db->instr, buf, nk + nm + nr + 2);
    if (!s) return kind;
    unsigned i = db->origins_next++ % CORM__ARRAY_LEN(db->origins);
    db->origins[i].model = m;
    db->origins[i].rel = r;
    db->origins[i].kind = kind;
    db->origins[i].origin = s;
    return s;
}

/* ------------------------------------------------- the N+1 tooling
** What a lazy load tells the instrumentation: the result its object came
** from, the path from that result's queryset, and where it was built.
** Reading a relation from its cache marks an eager load as used; in auto
** mode the first lazy load of a relation loads it for the whole result. */

static bool to_many(const corm_relation *r)
{
    return r->kind == CORM_REL_REVERSE_FK || r->kind == CORM_REL_M2M ||
           r->kind == CORM_REL_REVERSE_M2M;
}

/* obj's path from its batch's queryset: the batch's, then the joins. */
static const char *path_of(const corm_obj *h)
{
    const corm_batch *b = h->batch;
    const char *jp = "";
    if (h->model != b->model)
        for (int j = 0; j < b->njpaths; j++)
            if (b->jpaths[j].model == h->model) {
                jp = b->jpaths[j].path;
                break;
            }
    if (!*jp) return b->path ? b->path : "";
    if (!b->path || !*b->path) return jp;
    corm_buf buf;
    corm__buf_init(&buf);
    corm__buf_addf(&buf, "%s__%s", b->path, jp);
    const char *s = buf.oom ? NULL : corm__instr_intern(b->db->instr, buf.p, buf.len);
    corm__buf_free(&buf);
    return s ? s : jp;
}

static void tag_of(const corm_obj *h, corm_origin_kind kind, const char *what, corm_event *ev)
{
    const corm_batch *b = h->batch;
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->model = h->model->name;
    ev->relation = what;
    ev->parent_batch = b->group;
    ev->parent_nobjs = b->group_n;
    ev->built = b->built;
    ev->path = path_of(h);
    ev->path_many = b->path_many;
}

void corm__lazy_note(void *obj, corm_origin_kind kind, const char *what)
{
    corm_obj *h = obj;
    if (!h || !h->batch) return;
    tag_of(h, kind, what, corm__db_next(h->batch->db));
}

/* A relation of h came from its cache: an eager load was used. */
static void read_mark(const corm_obj *h, const corm_relation *r)
{
    if (h->batch && h->batch->eager)
        corm__instr_read(h->batch->db->instr, h->batch->eval, h->model, r->slot);
}

/* Objects of h's model in h's batch (its own, or joined into it) that
** still need relation r.  Owned array (corm__free), *n of them. */
static void **siblings(corm_obj *h, const corm_relation *r, size_t *n)
{
    corm_batch *b = h->batch;
    uint64_t bit = (uint64_t)1 << r->slot;
    corm_vec v = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < b->nobjs; i++) {
        /* the batch's object, or the joined objects of its row */
        corm_obj *row[CORM__MAX_NODES];
        int nrow = 0;
        row[nrow++] = b->items[i];
        for (int k = 0; k < nrow; k++) {
            corm_obj *o = row[k];
            if (o->model == h->model) {
                bool null_key = (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O) &&
                                corm__field_null(o, &o->model->fields[r->field]);
                if (!(o->rel_loaded & bit) && !null_key) ok = corm__vec_push(&v, o);
                continue;
            }
            for (int j = 0; j < b->njpaths && nrow < CORM__MAX_NODES; j++) {
                const corm__jpath *jp = &b->jpaths[j];
                if (jp->from != o->model) continue;
                corm_obj *kid = (o->rel_loaded & ((uint64_t)1 << jp->rel->slot))
                                    ? corm__rel_slots(o)[jp->rel->slot]
                                    : NULL;
                if (kid && kid->batch == b) row[nrow++] = kid;
            }
        }
    }
    if (!ok) {
        corm__vec_free(&v);
        *n = 0;
        return NULL;
    }
    *n = v.n;
    return v.p;
}

/* CORM_NPLUSONE_AUTO: load r for every object of h's result that needs it,
** with one prefetch query.  1 done (h's cache is filled), 0 not applicable
** (do the lazy load), -1 failed (error on the home db). */
static int auto_load(corm_obj *h, const corm_relation *r, corm_origin_kind kind, corm_site site)
{
    corm_batch *b = h->batch;
    corm_db *db = b->db;
    corm_instr *in = db->instr;
    if (!in || corm__instr_mode_now(in) != CORM_NPLUSONE_AUTO || b->nobjs < 2 || !b->items)
        return 0;
    size_t n = 0;
    void **objs = siblings(h, r, &n);
    if (n < 2) {
        corm__free(objs);
        return 0;
    }
    corm_event tag;
    tag_of(h, kind, r->name, &tag);
    tag.site = site;
    /* what earlier runs had to batch-load below r comes with it: a
    ** Prefetch whose queryset joins or prefetches it */
    const corm__plan *plans[32], *deep[32];
    size_t nplans = corm__instr_plans(in, b->built, plans, 32), ndeep = 0;
    corm_buf pre;
    corm__buf_init(&pre);
    corm__buf_addf(&pre, "%s%s%s__", tag.path, *tag.path ? "__" : "", r->name);
    corm_qs *inner = NULL;
    const corm_model *target = corm__rel_target(h->model, r);
    for (size_t i = 0; i < nplans && !pre.oom; i++) {
        if (strncmp(plans[i]->path, pre.p, pre.len) != 0) continue;
        const char *rest = plans[i]->path + pre.len;
        int k = corm__path_kind(target, rest);
        if (k < 0) continue;
        if (!inner) {
            if (!(inner = corm__qs_new(db, target, b->built))) break;
            /* the queryset of a to-many level is the target's default
            ** manager's, as the plain lookup's (its eager loads apply); a
            ** to-one's is the base manager's */
            if (to_many(r)) corm__qs_default_eager(inner);
        }
        const char *one[] = {rest, NULL};
        if (k == 0) corm_select_related_v(inner, one);
        else corm_prefetch_related_v(inner, one);
        deep[ndeep++] = plans[i];
    }
    corm__buf_free(&pre);
    corm__pf_lookup pf = corm__pf_describe(r->name, inner, NULL);
    corm__instr_auto_begin(in);
    (void)corm__instr_eval_begin(in);
    corm__instr_level(in, b->arena, h->model, objs, n, b->built, tag.path, b->path_many);
    corm_db *prev = corm__db_serve(db, b->home);
    corm_rc rc =
        corm__prefetch_run(db, b->arena, h->model, objs, n, &pf, 1, site, b->built, &b->home->err);
    corm__db_serve(db, prev);
    corm__instr_levels_clear(in);
    corm__instr_auto_end(in);
    corm__free(objs);
    corm_qs_free(inner);
    if (rc != CORM_OK) return -1;
    corm__instr_auto(in, &tag, n, false);
    corm__instr_learn(in, &tag, to_many(r));
    for (size_t i = 0; i < ndeep; i++) {
        corm_event t = deep[i]->tag;
        t.site = site;
        corm__instr_auto(in, &t, n, true);
    }
    return (h->rel_loaded & ((uint64_t)1 << r->slot)) ? 1 : 0;
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
    q->unscoped =
        r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O || r->kind == CORM_REL_REVERSE_O2O;
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
    const corm_relation *r = NULL;
    if (!check(obj, rel, site, "corm_related_at", &h, &r)) return NULL;
    void **slots = corm__rel_slots(obj);
    if (h->rel_loaded & ((uint64_t)1 << r->slot)) {
        read_mark(h, r);
        return slots[r->slot];
    }
    if (r->kind != CORM_REL_FK && r->kind != CORM_REL_O2O && r->kind != CORM_REL_REVERSE_O2O)
        return wrong_kind(h, r, site, true);
    if (r->kind != CORM_REL_REVERSE_O2O && (h->deferred & ((uint64_t)1 << r->field)) &&
        corm_load_field_at(obj, h->model->fields[r->field].name, site) != CORM_OK)
        return NULL; /* the key itself was deferred: load it first, as Django */
    if (r->kind != CORM_REL_REVERSE_O2O && corm__field_null(obj, &h->model->fields[r->field])) {
        /* a NULL key: nothing to load, and no query */
        slots[r->slot] = NULL;
        h->rel_loaded |= (uint64_t)1 << r->slot;
        return NULL;
    }
    if (!h->batch) return no_batch(h, r, site);
    corm_batch *b = h->batch;
    int a = auto_load(h, r, CORM_ORIGIN_FK, site);
    if (a) return a > 0 ? slots[r->slot] : NULL;
    corm__query q;
    struct corm_q leaf;
    related_query(h, r, &q, &leaf);
    void **items;
    size_t n;
    corm_site none = {0};
    const char *origin = origin_of(b->db, h->model, r, "fk");
    corm__lazy_note(h, CORM_ORIGIN_FK, r->name);
    corm_db *prev = corm__db_serve(b->db, b->home);
    corm_rc rc =
        corm__fetch(b->db, &q, b->arena, site, none, origin, &items, &n, NULL, &b->home->err);
    corm__db_serve(b->db, prev);
    if (rc != CORM_OK) return NULL;
    slots[r->slot] = n ? items[0] : NULL;
    h->rel_loaded |= (uint64_t)1 << r->slot;
    corm__set_backref(h->model, r, obj, slots[r->slot]);
    return slots[r->slot];
}

const corm_list *corm_related_set_at(void *obj, int rel, corm_site site)
{
    corm_obj *h;
    const corm_relation *r = NULL;
    if (!check(obj, rel, site, "corm_related_set_at", &h, &r)) return NULL;
    void **slots = corm__rel_slots(obj);
    if (h->rel_loaded & ((uint64_t)1 << r->slot)) {
        read_mark(h, r);
        return slots[r->slot];
    }
    if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O || r->kind == CORM_REL_REVERSE_O2O)
        return (const corm_list *)wrong_kind(h, r, site, false);
    if (!h->batch) return no_batch(h, r, site);
    corm_batch *b = h->batch;
    int a = auto_load(h, r, CORM_ORIGIN_SET, site);
    if (a) return a > 0 ? slots[r->slot] : NULL;
    corm__query q;
    struct corm_q leaf;
    related_query(h, r, &q, &leaf);
    corm__set *set = corm__arena_zalloc(b->arena, sizeof *set);
    corm_list *list = set ? &set->list : NULL;
    if (!list) {
        corm__err_set(&b->home->err, CORM_NOMEM, "out of memory loading %s.%s", h->model->name,
                      r->name);
        return NULL;
    }
    corm_site none = {0};
    const char *origin = origin_of(b->db, h->model, r, "set");
    corm__lazy_note(h, CORM_ORIGIN_SET, r->name);
    corm_db *prev = corm__db_serve(b->db, b->home);
    /* the set is read through the target's default manager, as Django's
    ** related manager: the model's default eager loads apply */
    const corm_model *to = q.model;
    set->ordered = to->nordering > 0; /* the query's: the target's default ordering */
    q.related = (const char **)to->default_related;
    q.nrelated = to->ndefault_related;
    corm_rc rc = corm__fetch(b->db, &q, b->arena, site, none, origin, &list->items, &list->n, NULL,
                             &b->home->err);
    if (rc == CORM_OK && to->ndefault_prefetch && list->n) {
        corm__pf_lookup pf[CORM_MAX_DEFAULT_EAGER];
        int npf = 0;
        for (int i = 0; i < to->ndefault_prefetch && npf < CORM_MAX_DEFAULT_EAGER; i++)
            pf[npf++] = corm__pf_describe(to->default_prefetch[i], NULL, NULL);
        rc = corm__prefetch_run(b->db, b->arena, to, list->items, list->n, pf, npf, site, none,
                                &b->home->err);
    }
    corm__db_serve(b->db, prev);
    if (rc != CORM_OK) return NULL;
    for (size_t i = 0; i < list->n; i++) corm__set_backref(h->model, r, obj, list->items[i]);
    slots[r->slot] = list;
    h->rel_loaded |= (uint64_t)1 << r->slot;
    return list;
}

/* What a related queryset made over a cached set answers from. */
typedef struct corm__relcache {
    corm_obj *obj;
    const corm_relation *rel;
    const corm_list *list;
} corm__relcache;

void corm__qs_known(const corm_qs *qs, void **items, size_t n)
{
    const corm__relcache *c = qs->known;
    for (size_t i = 0; c && items && i < n; i++)
        corm__set_backref(c->obj->model, c->rel, c->obj, items[i]);
}

/* The cached set as qs sees it: the slice of qs taken (Django's qs[a:b] on
** a prefetched queryset slices its result cache), marking the prefetch as
** used.  *items gets the first object. */
static size_t cached_view(corm_qs *qs, void ***items)
{
    const corm__relcache *c = qs->cached;
    read_mark(c->obj, c->rel); /* the prefetch was used */
    size_t n = c->list->n, off = (size_t)qs->q.offset;
    if (off > n) off = n;
    n -= off;
    if (qs->q.limit >= 0 && (uint64_t)qs->q.limit < n) n = (size_t)qs->q.limit;
    *items = c->list->items ? c->list->items + off : NULL;
    return n;
}

size_t corm__qs_cached_n(corm_qs *qs)
{
    void **items;
    return cached_view(qs, &items);
}

void corm__qs_adopt_cache(corm_qs *qs)
{
    /* the cached objects themselves (they live in obj's result), as
    ** Django's related manager returns its prefetched list */
    qs->n = cached_view(qs, &qs->items);
    qs->evaluated = true;
}

bool corm__qs_cached_first(corm_qs *qs, void **first)
{
    const corm__relcache *c = qs->cached;
    if (!((const corm__set *)c->list)->ordered) return false;
    void **items;
    *first = cached_view(qs, &items) ? items[0] : NULL;
    return true;
}

corm_qs *corm_related_qs_at(void *obj, int rel, corm_site site)
{
    corm_obj *h;
    const corm_relation *r = NULL;
    if (!check(obj, rel, site, "corm_related_qs_at", &h, &r)) return NULL;
    if (!h->batch) return no_batch(h, r, site);
    corm__query q;
    struct corm_q leaf;
    related_query(h, r, &q, &leaf);
    /* it reads where the object came from (its batch's db), and reports
    ** to the handle the object's queryset was made on */
    corm_qs *qs = corm__qs_new(h->batch->db, q.model, site);
    if (qs) {
        qs->home = h->batch->home;
        qs->pinned = true;
        corm_filter(qs, leaf.lookup, leaf.value);
        /* a to-many set is read through the target's default manager in
        ** Django (its eager loads apply); a forward relation through the
        ** base manager (they do not) */
        if (r->kind == CORM_REL_REVERSE_FK || r->kind == CORM_REL_M2M ||
            r->kind == CORM_REL_REVERSE_M2M)
            corm__qs_default_eager(qs);
        /* a to-many set already cached on obj (prefetched, even through a
        ** filtered Prefetch without to_attr, or loaded): count, exists and
        ** evaluation answer from it, as Django's prefetch cache does */
        void *set = corm__rel_slots(obj)[r->slot];
        corm__relcache *c = NULL;
        if (to_many(r) && qs->err.rc == CORM_OK && (c = corm__arena_alloc(&qs->build, sizeof *c))) {
            *c = (corm__relcache){h, r, set};
            qs->known = c;
        }
        if (c && (h->rel_loaded & ((uint64_t)1 << r->slot)) && set) qs->cached = c;
    }
    /* statements of querysets built here are this relation's (set_filter,
    ** set_count, set_exists) for the detector */
    corm_event tag;
    tag_of(h, to_many(r) ? CORM_ORIGIN_SET_FILTER : CORM_ORIGIN_FK, r->name, &tag);
    const corm_model *target = q.model;
    corm__instr_related_qs(h->batch->db->instr, site, &tag,
                           (h->rel_loaded & ((uint64_t)1 << r->slot)) != 0, target->name,
                           target->rels[r->reverse].name);
    return qs;
}

bool corm__to_attr_free(corm_qs *qs, const char *path, const char *to_attr)
{
    const corm_model *m = qs->q.model;
    const char *seg = path;
    for (const char *end; m && (end = strstr(seg, "__")); seg = end + 2) {
        const corm_relation *r = corm__model_rel(m, seg, (size_t)(end - seg));
        m = r ? corm__rel_target(m, r) : NULL; /* unknown: prefetch names it */
    }
    if (!m) return true;
    size_t n = strlen(to_attr);
    const char *what = corm__model_rel(m, to_attr, n) ? "relation" : NULL;
    if (!what) {
        for (int i = 0; i < m->nfields && !what; i++)
            if (strcmp(m->fields[i].name, to_attr) == 0 ||
                strcmp(m->fields[i].column, to_attr) == 0)
                what = "field";
    }
    if (!what) return true;
    corm__err_set(&qs->err, CORM_INVALID,
                  "Prefetch('%s', to_attr=\"%s\"): to_attr=%s conflicts with a %s on the %s model",
                  path, to_attr, to_attr, what, m->name);
    corm__err_hint(&qs->err,
                   "choose a name that is no field or relation of %s, e.g. \"%s_list\"; or drop "
                   "to_attr to fill the relation's own cache",
                   m->name, to_attr);
    return false;
}

corm_rc corm_prefetch_objects_in_v(corm_qs *holder, void *const *objs, size_t n,
                                   const char *const *paths, corm_site site)
{
    if (!holder) return CORM_NOMEM; /* corm_all ran out of memory */
    CORM__QS_ENTER(holder);
    if (holder->err.rc != CORM_OK) return holder->err.rc;
    corm_db *db = holder->home ? holder->home : holder->db;
    return corm__prefetch_objects(db, &holder->result, objs, n, paths, site, &holder->err);
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
    return i >= 0 && corm__field_null(obj, &h->model->fields[i]);
}

void corm_set_null(void *obj, const char *name, bool is_null)
{
    corm_obj *h = obj;
    if (!h || !h->model || !name) return;
    int i = field_index(h->model, name);
    if (i >= 0) corm__field_set_null(obj, &h->model->fields[i], is_null);
}
