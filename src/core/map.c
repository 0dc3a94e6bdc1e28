/*
** map.c - int64 -> pointer hash map with linear probing, for stitching
** prefetched rows to their parents and for per-object attribute tables.
** Invariant: cap is 0 or a power of two, and n <= cap / 2.
*/
#include "core_int.h"

#include <string.h>

void corm__map_init(corm_map *m, corm_arena *arena)
{
    memset(m, 0, sizeof *m);
    m->arena = arena;
}

static void *zalloc(corm_map *m, size_t n)
{
    return m->arena ? corm__arena_zalloc(m->arena, n) : corm__calloc(1, n);
}

static void release(corm_map *m)
{
    if (m->arena) return;
    corm__free(m->keys);
    corm__free(m->vals);
    corm__free(m->used);
}

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static bool grow(corm_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    corm_map next = {.cap = cap, .arena = m->arena};
    next.keys = zalloc(m, cap * sizeof *next.keys);
    next.vals = zalloc(m, cap * sizeof *next.vals);
    next.used = zalloc(m, cap);
    if (!next.keys || !next.vals || !next.used) {
        release(&next);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->used[i]) continue;
        size_t s = slot_of(m->keys[i], cap);
        while (next.used[s]) s = (s + 1) & (cap - 1);
        next.used[s] = 1;
        next.keys[s] = m->keys[i];
        next.vals[s] = m->vals[i];
    }
    next.n = m->n;
    release(m);
    *m = next;
    return true;
}

bool corm__map_put(corm_map *m, int64_t key, void *val)
{
    if ((m->n + 1) * 2 > m->cap && !grow(m)) return false;
    size_t s = slot_of(key, m->cap);
    while (m->used[s]) {
        if (m->keys[s] == key) {
            m->vals[s] = val;
            return true;
        }
        s = (s + 1) & (m->cap - 1);
    }
    m->used[s] = 1;
    m->keys[s] = key;
    m->vals[s] = val;
    m->n++;
    return true;
}

void **corm__map_get(const corm_map *m, int64_t key)
{
    if (!m->cap) return NULL;
    size_t s = slot_of(key, m->cap);
    while (m->used[s]) {
        if (m->keys[s] == key) return &m->vals[s];
        s = (s + 1) & (m->cap - 1);
    }
    return NULL;
}

void corm__map_free(corm_map *m)
{
    release(m);
    corm_arena *a = m->arena;
    corm__map_init(m, a);
}
