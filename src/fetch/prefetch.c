/*
** prefetch.c - prefetch_related and Prefetch objects.
**
** The lookups of a queryset are merged into a tree first ("books" and
** "books__genres" share the books level), so every relation level runs
** exactly one query, whatever the number of parents: the parent keys go
** to the database as one parameter (src/sql: json_each on SQLite), or not
** at all when the parents are a whole table (parents_whole).  Rows
** come back with their parent key as an extra column and are stitched to
** their parents through a hash map, keeping the queryset's ordering within
** each parent.  A slice in a Prefetch queryset means "per parent" and is a
** window function in SQL.  Everything lands in the parents' result arena.
*/
#include "fetch_int.h"

#include <string.h>

typedef struct pf_node {
    const char *name; /* to_attr, or the relation's name */
    const corm_model *from, *to;
    const corm_relation *rel;
    const char *to_attr;
    const corm__pf_lookup *inner; /* its Prefetch's description, borrowed */
    struct pf_node *kids, *next;
    struct pf_node *up; /* the level above; NULL at the root */
    /* a to-many level without a Prefetch queryset: read through the target
    ** model's default manager, so its default eager loads apply */
    bool defaults;
    /* a lookup of the Prefetch queryset of the level above (Django runs it
    ** while that queryset is evaluated, before the level's back-references
    ** are set: so a back relation asked there is fetched, not the parent) */
    bool from_inner;
} pf_node;

typedef struct run {
    corm_db *db;
    corm_arena *arena; /* where prefetched objects go */
    corm_arena tmp;    /* the tree and other scratch */
    corm_site site, built;
    corm_error *err;
    const pf_node *whole; /* the root when its parents are a whole table */
    bool adding_inner;    /* add_lookup is adding a Prefetch queryset's lookups */
} run;

static corm_rc nomem(run *r)
{
    corm__err_set(r->err, CORM_NOMEM, "out of memory prefetching");
    return CORM_NOMEM;
}

static bool is_to_many(const corm_relation *rel)
{
    return rel->kind == CORM_REL_REVERSE_FK || rel->kind == CORM_REL_M2M ||
           rel->kind == CORM_REL_REVERSE_M2M;
}

static corm_rc unknown_relation(run *r, const corm_model *m, const char *seg, const char *path)
{
    const char *names[CORM_MAX_RELS];
    corm_buf list;
    corm__buf_init(&list);
    for (int i = 0; i < m->nrels; i++) {
        names[i] = m->rels[i].name;
        corm__buf_addf(&list, i ? ", %s" : "%s", m->rels[i].name);
    }
    const char *best = corm__did_you_mean(seg, names, (size_t)m->nrels);
    corm__err_set(r->err, CORM_SCHEMA, "prefetch_related('%s'): %s has no relation '%s'", path,
                  m->name, seg);
    if (best)
        corm__err_hint(r->err, "did you mean '%s'? %s has: %s", best, m->name,
                       corm__buf_cstr(&list));
    else
        corm__err_hint(r->err, "%s has: %s", m->name,
                       m->nrels ? corm__buf_cstr(&list) : "no relations");
    corm__buf_free(&list);
    return CORM_SCHEMA;
}

static corm_rc add_lookups(run *r, pf_node *root, const corm__pf_lookup *pf, int npf);

/* Insert one lookup below root, creating the levels it walks through. */
static corm_rc add_lookup(run *r, pf_node *root, const corm__pf_lookup *l)
{
    char *copy = corm__arena_strdup(&r->tmp, l->path);
    if (!copy) return nomem(r);
    pf_node *cur = root;
    char *seg = copy;
    for (;;) {
        char *sep = strstr(seg, "__");
        if (sep) *sep = '\0';
        bool last = !sep;
        if (!*seg) {
            corm__err_set(r->err, CORM_INVALID, "prefetch_related('%s'): empty part in the path",
                          l->path);
            corm__err_hint(r->err, "separate relations with one '__', e.g. \"books__genres\"");
            return CORM_INVALID;
        }
        const char *name = last && l->to_attr ? l->to_attr : seg;
        pf_node *kid = cur->kids;
        while (kid && strcmp(kid->name, name) != 0) kid = kid->next;
        if (kid && last && l->inner_q) {
            corm__err_set(r->err, CORM_INVALID,
                          "prefetch_related: '%s' was already seen with a different queryset",
                          name);
            corm__err_hint(r->err,
                           "give the Prefetch a to_attr, or put it before the plain lookups "
                           "that walk through it");
            return CORM_INVALID;
        }
        if (!kid) {
            const corm_relation *rel = corm__model_rel(cur->to, seg, strlen(seg));
            if (!rel) return unknown_relation(r, cur->to, seg, l->path);
            kid = corm__arena_zalloc(&r->tmp, sizeof *kid);
            if (!kid) return nomem(r);
            kid->name = name;
            kid->from = cur->to;
            kid->rel = rel;
            kid->to = corm__rel_target(cur->to, rel);
            kid->up = cur;
            kid->from_inner = r->adding_inner;
            if (last) {
                kid->to_attr = l->to_attr;
                kid->inner = l->inner_q ? l : NULL;
            }
            kid->defaults = !kid->inner && is_to_many(rel) &&
                            (kid->to->ndefault_related || kid->to->ndefault_prefetch);
            if (kid->inner && kid->inner->inner_q->model != kid->to) {
                corm__err_set(r->err, CORM_INVALID,
                              "Prefetch('%s'): the queryset is over %s but %s.%s holds %s", l->path,
                              kid->inner->inner_q->model->name, cur->to->name, seg, kid->to->name);
                corm__err_hint(r->err, "build it with corm_all(db, %s)", kid->to->name);
                return CORM_INVALID;
            }
            /* append, keeping the order the lookups were given in */
            pf_node **tail = &cur->kids;
            while (*tail) tail = &(*tail)->next;
            *tail = kid;
            if (kid->inner && kid->inner->inner_npf) {
                bool was = r->adding_inner;
                r->adding_inner = true;
                corm_rc rc = add_lookups(r, kid, kid->inner->inner_pf, kid->inner->inner_npf);
                r->adding_inner = was;
                if (rc != CORM_OK) return rc;
            }
        }
        cur = kid;
        if (last) return CORM_OK;
        seg = sep + 2;
    }
}

static corm_rc add_lookups(run *r, pf_node *root, const corm__pf_lookup *pf, int npf)
{
    for (int i = 0; i < npf; i++) {
        corm_rc rc = add_lookup(r, root, &pf[i]);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

/* Django's prefetch of a to-many relation reads through the target's
** default manager: its prefetch_related lookups run below the level (after
** the ones the program gave, which win on the same name; select_related
** goes into the level's own query, run_node).  A model's defaults are not
** applied again below a level that applied them: a cycle of defaults
** (Book -> genres -> books -> ...) stops at its first repeat. */
static corm_rc add_default_lookups(run *r, pf_node *node)
{
    for (pf_node *kid = node->kids; kid; kid = kid->next) {
        if (kid->defaults) {
            for (const pf_node *a = kid->up; a && kid->defaults; a = a->up)
                if (a->defaults && a->to == kid->to) kid->defaults = false;
        }
        for (int i = 0; kid->defaults && i < kid->to->ndefault_prefetch; i++) {
            const char *path = kid->to->default_prefetch[i];
            const char *sep = strstr(path, "__");
            size_t len = sep ? (size_t)(sep - path) : strlen(path);
            const pf_node *have = kid->kids;
            while (have && (strlen(have->name) != len || strncmp(have->name, path, len) != 0))
                have = have->next;
            if (have) continue; /* the program's own lookup through it wins */
            corm__pf_lookup l = {.path = path};
            corm_rc rc = add_lookup(r, kid, &l);
            if (rc != CORM_OK) return rc;
        }
        corm_rc rc = add_default_lookups(r, kid);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ storing */

static int64_t id_of(const void *obj)
{
    const corm_obj *h = obj;
    return *(const int64_t *)((const char *)obj + h->model->fields[0].offset);
}

static corm_rc set_attr(run *r, void *parent, const char *name, corm_list *list)
{
    corm_obj *h = parent;
    corm_batch *b = h->batch;
    corm__attr *a = b->attrs;
    while (a && strcmp(a->name, name) != 0) a = a->next;
    if (!a) {
        a = corm__arena_zalloc(r->arena, sizeof *a);
        if (!a || !(a->name = corm__arena_strdup(r->arena, name))) return nomem(r);
        corm__map_init(&a->map, r->arena);
        a->next = b->attrs;
        b->attrs = a;
    }
    return corm__map_put(&a->map, (int64_t)(intptr_t)parent, list) ? CORM_OK : nomem(r);
}

/* Store v (an object, or a corm_list for to-many) on parent. */
static corm_rc assign(run *r, const pf_node *n, void *parent, void *v)
{
    if (n->to_attr) {
        corm_list *list = v;
        if (!is_to_many(n->rel)) {
            /* a to-one Prefetch with to_attr: a list of zero or one */
            list = corm__arena_zalloc(r->arena, sizeof *list);
            if (!list) return nomem(r);
            if (v) {
                list->items = corm__arena_alloc(r->arena, sizeof *list->items);
                if (!list->items) return nomem(r);
                list->items[0] = v;
                list->n = 1;
            }
        }
        return set_attr(r, parent, n->to_attr, list);
    }
    corm_obj *h = parent;
    corm__rel_slots(parent)[n->rel->slot] = v;
    h->rel_loaded |= (uint64_t)1 << n->rel->slot;
    return CORM_OK;
}

/* ------------------------------------------------------------ one level */

static corm_rc run_level(run *r, const pf_node *parent_node, void **parents, size_t np);

/* The key each parent is matched by: its id, or for a forward fk its key
** value (absent when NULL). */
static bool parent_key(const pf_node *n, const void *parent, int64_t *key)
{
    if (n->rel->kind == CORM_REL_FK || n->rel->kind == CORM_REL_O2O) {
        const corm_obj *h = parent;
        if (h->nulls & ((uint64_t)1 << n->rel->field)) return false;
        *key = *(const int64_t *)((const char *)parent + n->from->fields[n->rel->field].offset);
        return true;
    }
    *key = id_of(parent);
    return true;
}

/* The key passing of a level (docs/eager-loading.md, "How the parent keys
** travel"): a to-many level right below parents that are a whole table
** reads the related rows of the whole table, with no key list; any other
** level sends its keys as one parameter (src/sql). */
static bool parents_whole(const run *r, const pf_node *n)
{
    if (!r->whole || !is_to_many(n->rel)) return false;
    for (const pf_node *k = r->whole->kids; k; k = k->next)
        if (k == n) return true;
    return false;
}

/* Django's prefetch_related_objects: a parent whose relation is already
** loaded (select_related joined it, an earlier level or lookup loaded it,
** or the caller's objects had it) is not fetched again; the level
** continues from its cached objects.  *todo gets the parents to fetch,
** *carried the objects already cached on the others (next level's
** parents too).  A to_attr is always computed. */
static corm_rc split_fetched(run *r, const pf_node *n, void **parents, size_t np, void ***todo,
                             size_t *ntodo, void ***carried, size_t *ncarried)
{
    *todo = parents;
    *ntodo = np;
    *carried = NULL;
    *ncarried = 0;
    uint64_t bit = (uint64_t)1 << n->rel->slot;
    size_t nloaded = 0, nkids = 0;
    for (size_t i = 0; !n->to_attr && i < np; i++) {
        const corm_obj *h = parents[i];
        if (!(h->rel_loaded & bit)) continue;
        nloaded++;
        void *v = corm__rel_slots(parents[i])[n->rel->slot];
        nkids += !v ? 0 : is_to_many(n->rel) ? ((corm_list *)v)->n : 1;
    }
    if (!nloaded) return CORM_OK;
    void **t = corm__arena_alloc(&r->tmp, (np - nloaded + 1) * sizeof *t);
    void **c = corm__arena_alloc(&r->tmp, (nkids + 1) * sizeof *c);
    if (!t || !c) return nomem(r);
    *ntodo = 0;
    for (size_t i = 0; i < np; i++) {
        const corm_obj *h = parents[i];
        if (!(h->rel_loaded & bit)) {
            t[(*ntodo)++] = parents[i];
            continue;
        }
        void *v = corm__rel_slots(parents[i])[n->rel->slot];
        if (v && is_to_many(n->rel))
            for (size_t k = 0; k < ((corm_list *)v)->n; k++)
                c[(*ncarried)++] = ((corm_list *)v)->items[k];
        else if (v) c[(*ncarried)++] = v;
    }
    *todo = t;
    *carried = c;
    return CORM_OK;
}

/* The next level's parents: the rows fetched, then the carried ones. */
static corm_rc next_parents(run *r, void **objs, size_t nobjs, void **carried, size_t ncarried,
                            void ***out, size_t *nout)
{
    *out = objs;
    *nout = nobjs;
    if (!ncarried) return CORM_OK;
    void **all = corm__arena_alloc(&r->tmp, (nobjs + ncarried) * sizeof *all);
    if (!all) return nomem(r);
    if (nobjs) memcpy(all, objs, nobjs * sizeof *all);
    memcpy(all + nobjs, carried, ncarried * sizeof *all);
    *out = all;
    *nout = nobjs + ncarried;
    return CORM_OK;
}

/* Whether n's Prefetch queryset itself prefetches the relation back to
** n's parents (Prefetch("rooms", Room.objects.prefetch_related("house"))):
** Django evaluates that queryset, its lookups included, before it sets the
** back-references, so the level below fetches it (tests/prefetch_related
** test_nested_prefetch_is_not_overwritten_by_related_object). */
static bool asks_back(const pf_node *n)
{
    const corm_relation *back = &n->to->rels[n->rel->reverse];
    for (const pf_node *k = n->kids; k; k = k->next)
        if (k->from_inner && !k->to_attr && k->rel == back) return true;
    return false;
}

static corm_rc run_node(run *r, const pf_node *n, void **all_parents, size_t nall)
{
    void **parents, **carried;
    size_t np, ncarried;
    corm_rc src = split_fetched(r, n, all_parents, nall, &parents, &np, &carried, &ncarried);
    if (src != CORM_OK) return src;
    /* the distinct keys, in parent order */
    corm_map seen;
    corm__map_init(&seen, NULL);
    int64_t *keys = corm__arena_alloc(&r->tmp, (np ? np : 1) * sizeof *keys);
    size_t nkeys = 0;
    if (!keys) return nomem(r);
    for (size_t i = 0; i < np; i++) {
        int64_t k;
        if (!parent_key(n, parents[i], &k) || corm__map_get(&seen, k)) continue;
        if (!corm__map_put(&seen, k, (void *)(intptr_t)(nkeys + 1))) {
            corm__map_free(&seen);
            return nomem(r);
        }
        keys[nkeys++] = k;
    }

    corm__query q;
    if (n->inner) {
        q = *n->inner->inner_q;
    } else {
        memset(&q, 0, sizeof q);
        q.model = n->to;
        q.limit = -1;
        q.scopes = &r->db->scopes; /* the default scopes, as Django's default manager */
        if (n->defaults && n->to->ndefault_related) {
            q.related = (const char **)n->to->default_related;
            q.nrelated = n->to->ndefault_related;
        }
    }
    q.via_from = n->from;
    q.via = n->rel;
    q.via_keys = keys;
    q.nvia_keys = nkeys;
    q.via_all = parents_whole(r, n);

    corm_buf origin;
    corm__buf_init(&origin);
    corm__buf_addf(&origin, "prefetch:%s.%s", n->from->name, n->rel->name);
    void **objs = NULL;
    size_t nobjs = 0;
    int64_t *okeys = NULL;
    corm_rc rc = CORM_OK;
    if (nkeys) {
        rc = corm__fetch(r->db, &q, r->arena, r->site, n->inner ? n->inner->inner_built : r->built,
                         corm__buf_cstr(&origin), &objs, &nobjs, &okeys, r->err);
    }
    corm__buf_free(&origin);

    /* group the rows by key: slot s of key keys[s-1] gets its rows */
    size_t *counts = NULL;
    corm__set *lists = NULL;
    bool ordered = q.order_set ? q.norder > 0 : n->to->nordering > 0;
    if (rc == CORM_OK) {
        counts = corm__arena_zalloc(&r->tmp, (nkeys + 1) * sizeof *counts);
        lists = corm__arena_zalloc(r->arena, (nkeys + 1) * sizeof *lists);
        if (!counts || !lists) rc = nomem(r);
    }
    for (size_t s = 0; rc == CORM_OK && s <= nkeys; s++) lists[s].ordered = ordered;
    for (size_t i = 0; rc == CORM_OK && i < nobjs; i++) {
        void **slot = corm__map_get(&seen, okeys[i]);
        if (slot) counts[(intptr_t)*slot]++;
    }
    for (size_t s = 1; rc == CORM_OK && s <= nkeys; s++) {
        if (!counts[s]) continue;
        lists[s].list.items = corm__arena_alloc(r->arena, counts[s] * sizeof(void *));
        if (!lists[s].list.items) rc = nomem(r);
    }
    for (size_t i = 0; rc == CORM_OK && i < nobjs; i++) {
        void **slot = corm__map_get(&seen, okeys[i]);
        if (!slot) continue;
        corm_list *l = &lists[(intptr_t)*slot].list;
        l->items[l->n++] = objs[i];
    }
    bool backref = !asks_back(n);
    for (size_t i = 0; rc == CORM_OK && i < np; i++) {
        int64_t k;
        void **slot = parent_key(n, parents[i], &k) ? corm__map_get(&seen, k) : NULL;
        corm_list *l = &lists[slot ? (intptr_t)*slot : 0].list; /* lists[0]: empty */
        for (size_t c = 0; backref && c < l->n; c++)
            corm__set_backref(n->from, n->rel, parents[i], l->items[c]);
        void *v = l;
        if (!is_to_many(n->rel)) v = l->n ? l->items[0] : NULL;
        rc = assign(r, n, parents[i], v);
    }
    corm__map_free(&seen);
    void **next = objs;
    size_t nnext = nobjs;
    if (rc == CORM_OK && n->kids)
        rc = next_parents(r, objs, nobjs, carried, ncarried, &next, &nnext);
    if (rc == CORM_OK && n->kids) rc = run_level(r, n, next, nnext);
    return rc;
}

static corm_rc run_level(run *r, const pf_node *parent_node, void **parents, size_t np)
{
    for (const pf_node *n = parent_node->kids; n; n = n->next) {
        corm_rc rc = run_node(r, n, parents, np);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

static corm_rc prefetch_run(corm_db *db, corm_arena *arena, const corm_model *model, void **objs,
                            size_t n, const corm__pf_lookup *pf, int npf, corm_site site,
                            corm_site built, bool whole, corm_error *err)
{
    run r = {.db = db, .arena = arena, .site = site, .built = built, .err = err};
    corm__arena_init(&r.tmp, 4096);
    pf_node root = {.name = "", .to = model};
    if (whole) r.whole = &root;
    corm_rc rc = add_lookups(&r, &root, pf, npf);
    if (rc == CORM_OK) rc = add_default_lookups(&r, &root);
    if (rc == CORM_OK && n) rc = run_level(&r, &root, objs, n);
    corm__arena_free(&r.tmp);
    return rc;
}

corm_rc corm__prefetch_run(corm_db *db, corm_arena *arena, const corm_model *model, void **objs,
                           size_t n, const corm__pf_lookup *pf, int npf, corm_site site,
                           corm_site built, corm_error *err)
{
    return prefetch_run(db, arena, model, objs, n, pf, npf, site, built, false, err);
}

/* Every row of the table, as of the snapshot the prefetch reads: no filter,
** no slice, no default scope (the rows were loaded from q's own SELECT). */
static bool query_is_whole(const corm__query *q)
{
    return !q->where && q->limit < 0 && q->offset == 0 && !q->via && !q->values_mode &&
           !q->aggregate && (q->unscoped || q->model->nscopes <= 0);
}

corm_rc corm__prefetch_run_q(corm_db *db, corm_arena *arena, const corm__query *q, void **objs,
                             size_t n, const corm__pf_lookup *pf, int npf, corm_site site,
                             corm_site built, corm_error *err)
{
    return prefetch_run(db, arena, q->model, objs, n, pf, npf, site, built, query_is_whole(q), err);
}

const corm_list *corm_attr(const void *obj, const char *to_attr)
{
    const corm_obj *h = obj;
    if (!h || !h->batch || !to_attr) return NULL;
    for (const corm__attr *a = h->batch->attrs; a; a = a->next) {
        if (strcmp(a->name, to_attr) != 0) continue;
        void **v = corm__map_get(&a->map, (int64_t)(intptr_t)obj);
        return v ? *v : NULL;
    }
    return NULL;
}

/* The objects of a prefetch_related_objects call: all of one model (the
** first's), none NULL; they may come from different results or none.
** False with the error on err. */
static bool check_objects(void *const *objs, size_t n, corm_error *err, const corm_obj **anchor)
{
    *anchor = NULL;
    if (!objs) {
        corm__err_set(err, CORM_MISUSE, "corm_prefetch_objects: the array is NULL and n > 0");
        return false;
    }
    const corm_obj *first = objs[0];
    for (size_t i = 0; i < n; i++) {
        const corm_obj *h = objs[i];
        if (!h || !h->model || !first->model || h->model != first->model) {
            corm__err_set(err, CORM_MISUSE,
                          "corm_prefetch_objects: object %zu is %s, not a %s as object 0", i,
                          !h         ? "NULL"
                          : h->model ? h->model->name
                                     : "not a model object",
                          first && first->model ? first->model->name : "model object");
            corm__err_hint(err, "pass objects of one model (loaded, or made with CORM_NEW "
                                "and an id)");
            return false;
        }
        if (!*anchor && h->batch) *anchor = h;
    }
    return true;
}

corm_rc corm__prefetch_objects(corm_db *db, corm_arena *arena, void *const *objs, size_t n,
                               const char *const *paths, corm_site site, corm_error *err)
{
    const corm_obj *anchor;
    if (n == 0) return CORM_OK;
    if (!check_objects(objs, n, err, &anchor)) return CORM_MISUSE;
    if (!arena && !anchor) {
        corm__err_set(err, CORM_MISUSE,
                      "corm_prefetch_objects: no object of the %zu was loaded by a queryset, so "
                      "the related objects have nowhere to live",
                      n);
        corm__err_hint(err, "use corm_prefetch_objects_in(holder, objs, n, ...): the related "
                            "objects live in the holder queryset until corm_qs_free(holder)");
        return CORM_MISUSE;
    }
    if (!arena) arena = anchor->batch->arena;
    const corm_model *model = ((const corm_obj *)objs[0])->model;
    int npf = 0;
    while (paths && paths[npf]) npf++;
    corm__pf_lookup *pf = corm__calloc((size_t)(npf ? npf : 1), sizeof *pf);
    if (!pf) {
        corm__err_set(err, CORM_NOMEM, "out of memory prefetching");
        return CORM_NOMEM;
    }
    for (int i = 0; i < npf; i++) pf[i].path = paths[i];
    corm_site none = {0};
    bool snap = false;
    corm_rc rc = corm__db_snapshot_begin(db, &snap);
    if (rc != CORM_OK && err != &db->err) corm__err_take(err, &db->err);
    if (rc == CORM_OK)
        rc = corm__prefetch_run(db, arena, model, (void **)objs, n, pf, npf, site, none, err);
    corm__db_snapshot_end(db, snap);
    corm__free(pf);
    return rc;
}

corm_rc corm_prefetch_objects_v(corm_db *db, void *const *objs, size_t n, const char *const *paths,
                                corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return corm__prefetch_objects(db, NULL, objs, n, paths, site, &db->err);
}
