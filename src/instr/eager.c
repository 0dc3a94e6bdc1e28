/*
** eager.c - evaluations, eager loads and their reads: the unused_eager
** finding (the seeds' over-prefetching: a select_related or prefetch_related
** relation nothing read before the scope ended).
**
** Objects die with their queryset, often before the scope ends, so nothing
** here keeps a pointer to an object past its evaluation.  Each evaluation
** has an id that its batches carry; an eager load is recorded as (id,
** model, relation slot), and a read of a cached relation marks the record
** with the same key.  A prefetch level counts only once we saw it fill the
** relation's cache of all its parents (a Prefetch with to_attr fills a list
** read through corm_attr instead, whose reads we do not see; one that
** failed half-way filled some, and its evaluation failed): that check
** runs while the evaluation's objects are alive, at the next level or at
** the end of its snapshot; an eager load never checked is never reported.
*/
#include "instr_int.h"

#include <string.h>

static uint64_t key_of(uint32_t eval, const corm_model *model, int slot)
{
    uint64_t h = corm__hash64(&eval, sizeof eval, CORM__FNV64);
    h = corm__hash64(&model, sizeof model, h);
    return corm__hash64(&slot, sizeof slot, h);
}

uint32_t corm__instr_eval_begin(corm_instr *in)
{
    if (!in) return 0;
    /* the previous evaluation's objects may be gone: forget its levels
    ** (pending checks of it stay unverified, hence unreported) */
    in->nlevels = 0;
    if (++in->eval == 0) in->eval = 1;
    return in->eval;
}

uint32_t corm__instr_eval_current(const corm_instr *in) { return in ? in->eval : 0; }

void corm__instr_level(corm_instr *in, const void *arena, const corm_model *model, void **items,
                       size_t n, corm_site built, const char *path, bool many)
{
    if (!in) return;
    if (in->nlevels == in->caplevels) {
        size_t cap = in->caplevels ? in->caplevels * 2 : 8;
        corm__level *p = corm__realloc(in->levels, cap * sizeof *p);
        if (!p) return;
        in->levels = p;
        in->caplevels = cap;
    }
    in->levels[in->nlevels++] = (corm__level){arena, model, items, n, built, path, many};
}

void corm__instr_levels_clear(corm_instr *in)
{
    if (in) in->nlevels = 0;
}

const corm__level *corm__instr_level_of(const corm_instr *in, const corm_model *from,
                                        const void *arena)
{
    for (size_t i = in ? in->nlevels : 0; i > 0; i--)
        if (in->levels[i - 1].model == from && in->levels[i - 1].arena == arena)
            return &in->levels[i - 1];
    return NULL;
}

const corm__level *corm__instr_level_root(const corm_instr *in)
{
    return in && in->nlevels ? &in->levels[0] : NULL;
}

void corm__instr_eager(corm_instr *in, uint32_t eval, const corm_model *model, int slot,
                       bool prefetch, const char *relation, const char *path, corm_site built,
                       corm_site site, size_t nobjs)
{
    /* judged at the end of an explicit capture only: none open, no record */
    if (!in || !eval || !in->top || corm__instr_mode_now(in) == CORM_NPLUSONE_OFF) return;
    uint64_t k = key_of(eval, model, slot);
    void **have = corm__map_get(&in->eager_map, (int64_t)k);
    if (have) {
        corm__eager *e = &in->eager[(size_t)(intptr_t)*have - 1];
        if (!prefetch) e->verified = true;
        return;
    }
    if (in->neager == in->capeager) {
        size_t cap = in->capeager ? in->capeager * 2 : 16;
        corm__eager *p = corm__realloc(in->eager, cap * sizeof *p);
        if (!p) return;
        in->eager = p;
        in->capeager = cap;
    }
    corm__eager *e = &in->eager[in->neager];
    memset(e, 0, sizeof *e);
    e->eval = eval;
    e->model = model;
    e->slot = slot;
    e->prefetch = prefetch;
    e->verified = !prefetch;
    e->model_name = corm__instr_intern(in, model->name, strlen(model->name));
    e->relation = relation ? corm__instr_intern(in, relation, strlen(relation)) : NULL;
    e->path = corm__instr_intern(in, path ? path : "", path ? strlen(path) : 0);
    e->built = built;
    e->site = site;
    e->nobjs = nobjs;
    if (!corm__map_put(&in->eager_map, (int64_t)k, (void *)(intptr_t)(in->neager + 1))) return;
    in->neager++;
}

void corm__instr_eval_failed(corm_instr *in)
{
    for (size_t i = in ? in->neager : 0; i > 0 && in->eager[i - 1].eval == in->eval; i--)
        in->eager[i - 1].dead = true;
}

void corm__instr_read(corm_instr *in, uint32_t eval, const corm_model *model, int slot)
{
    if (!in || !eval || !in->neager) return;
    void **have = corm__map_get(&in->eager_map, (int64_t)key_of(eval, model, slot));
    if (have) in->eager[(size_t)(intptr_t)*have - 1].read = true;
}

void corm__instr_eval_check(corm_instr *in, const void *arena, bool done)
{
    if (!in) return;
    if (!arena && in->nlevels) arena = in->levels[in->nlevels - 1].arena;
    for (size_t i = in->neager; arena && i > 0; i--) {
        corm__eager *e = &in->eager[i - 1];
        if (e->eval != in->eval) break; /* entries of older evaluations */
        if (e->verified || e->dead) continue;
        /* a whole prefetch fills the cache of every parent; a Prefetch with
        ** to_attr fills none, one that failed half-way some */
        for (size_t k = 0; k < in->nlevels && !e->verified; k++) {
            const corm__level *l = &in->levels[k];
            if (l->model != e->model || l->arena != arena || !l->n) continue;
            size_t j = 0;
            while (j < l->n && l->items[j] &&
                   (((const corm_obj *)l->items[j])->rel_loaded & ((uint64_t)1 << e->slot)))
                j++;
            e->verified = j == l->n;
        }
    }
    if (done) in->nlevels = 0;
}

void corm__instr_arena_root(corm_instr *in, const void *arena, uint64_t batch, size_t nobjs,
                            corm_site built)
{
    if (!in || !arena) return;
    for (size_t i = 0; i < CORM__NARENAS; i++)
        if (in->arenas[i].arena == arena) {
            in->arenas[i] = (corm__arenaroot){arena, batch, nobjs, built};
            return;
        }
    in->arenas[in->arena_next] = (corm__arenaroot){arena, batch, nobjs, built};
    in->arena_next = (in->arena_next + 1) % CORM__NARENAS;
}

bool corm__instr_arena_lookup(const corm_instr *in, const void *arena, uint64_t *batch,
                              size_t *nobjs, corm_site *built)
{
    for (size_t i = 0; in && arena && i < CORM__NARENAS; i++)
        if (in->arenas[i].arena == arena) {
            *batch = in->arenas[i].batch;
            *nobjs = in->arenas[i].nobjs;
            *built = in->arenas[i].built;
            return true;
        }
    return false;
}

void corm__eager_finish(corm_capture *c)
{
    corm_instr *in = c->in;
    size_t from = c->root ? 0 : c->first_eager;
    for (size_t i = from; i < in->neager; i++) {
        const corm__eager *e = &in->eager[i];
        if (!e->verified || e->read || e->dead || !e->nobjs)
            continue; /* no objects: nothing to read */
        /* a prefetched set filtered per object is already a finding that
        ** says to replace this prefetch */
        bool told = false;
        for (size_t k = 0; k < c->nfindings && !told; k++) {
            const corm_finding *f = &c->findings[k].f;
            told = f->kind == CORM_FINDING_FILTER_AFTER_PREFETCH && f->model && f->relation &&
                   e->relation && strcmp(f->model, e->model_name) == 0 &&
                   strcmp(f->relation, e->relation) == 0;
        }
        if (told) continue;
        corm_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = e->prefetch ? CORM_ORIGIN_PREFETCH : CORM_ORIGIN_QUERYSET;
        ev.model = e->model_name;
        ev.relation = e->relation;
        ev.path = e->path;
        ev.site = e->site;
        ev.built = e->built;
        corm__finding *f = corm__detect_add(c, CORM_FINDING_UNUSED_EAGER, &ev, e->nobjs, 0);
        if (f && f->fresh) corm__detect_fix(c, f);
    }
}

void corm__eager_drop(corm_instr *in, size_t from)
{
    if (from >= in->neager) return;
    in->neager = from;
    /* rebuild the index without the dropped entries */
    corm__map_free(&in->eager_map);
    corm__map_init(&in->eager_map, NULL);
    for (size_t i = 0; i < in->neager; i++) {
        const corm__eager *e = &in->eager[i];
        if (!corm__map_put(&in->eager_map, (int64_t)key_of(e->eval, e->model, e->slot),
                           (void *)(intptr_t)(i + 1)))
            break;
    }
}

void corm__eager_free(corm_instr *in)
{
    corm__free(in->eager);
    in->eager = NULL;
    in->neager = in->capeager = 0;
}
