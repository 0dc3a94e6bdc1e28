/*
** arena.c - chained blocks with bump allocation.  Every evaluated queryset
** owns one: structs, strings, joined and prefetched objects all live here
** and go away with one corm__arena_free (as libpq's PGresult).  Blocks
** may come from a db's pool of freed blocks, and go back to it.
** Invariant: every pointer returned is aligned for max_align_t.
*/
#include "core_int.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

/* A block kept in a pool is poisoned for AddressSanitizer until it is
** taken again: a use after corm_qs_free or corm__arena_free is still
** reported (as use-after-poison) although the memory was not freed. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct corm__ablock {
    corm__ablock *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
};

#define ALIGN (alignof(max_align_t))
#define BIG_BLOCK_MAX ((size_t)1 << 20)

struct corm__blockpool {
    size_t refs;        /* the owner's and each arena's */
    bool closed;        /* the owner is gone: cache nothing */
    corm__ablock *free; /* cached blocks, linked by next */
    size_t held, cap;   /* bytes cached, and the most to cache */
};

corm__blockpool *corm__blockpool_new(void)
{
    corm__blockpool *p = corm__calloc(1, sizeof *p);
    if (!p) return NULL;
    p->refs = 1;
    p->cap = CORM__POOL_MIN;
    return p;
}

static void pool_drain(corm__blockpool *p)
{
    while (p->free) {
        corm__ablock *b = p->free;
        p->free = b->next;
        corm__free(b);
    }
    p->held = 0;
}

static void pool_unref(corm__blockpool *p)
{
    if (--p->refs > 0) return;
    pool_drain(p);
    corm__free(p);
}

void corm__blockpool_close(corm__blockpool *p)
{
    if (!p) return;
    p->closed = true;
    pool_drain(p);
    pool_unref(p);
}

void corm__arena_use_pool(corm_arena *a, corm__blockpool *p)
{
    if (!p || a->pool || a->head) return;
    p->refs++;
    a->pool = p;
    a->lent = false;
}

/* b into p's cache, its bytes poisoned while there. */
static void pool_keep(corm__blockpool *p, corm__ablock *b)
{
    POISON(b->data, b->size);
    b->next = p->free;
    p->free = b;
    p->held += sizeof *b + b->size;
}

/* A cached block of size to 2 * size bytes, or NULL. */
static corm__ablock *pool_take(corm__blockpool *p, size_t size)
{
    for (corm__ablock **pp = &p->free; *pp; pp = &(*pp)->next) {
        corm__ablock *b = *pp;
        if (b->size >= size && b->size / 2 <= size) {
            *pp = b->next;
            p->held -= sizeof *b + b->size;
            UNPOISON(b->data, b->size);
            return b;
        }
    }
    return NULL;
}

void *corm__blockpool_get(corm__blockpool *p, size_t n)
{
    corm__ablock *b = p && !p->closed ? pool_take(p, n) : NULL;
    if (!b) {
        b = corm__malloc(sizeof *b + n);
        if (!b) return NULL;
        b->size = n;
    }
    b->next = NULL;
    b->used = n;
    if (p) p->refs++; /* the object's: its arenas are lent p */
    return b->data;
}

void corm__blockpool_put(corm__blockpool *p, void *mem)
{
    if (!mem) return;
    corm__ablock *b = (corm__ablock *)((unsigned char *)mem - offsetof(corm__ablock, data));
    if (p && !p->closed && p->held <= p->cap) pool_keep(p, b);
    else corm__free(b);
    if (p) pool_unref(p);
}

void corm__blockpool_hold(corm__blockpool *p)
{
    if (p) p->refs++;
}

void corm__blockpool_release(corm__blockpool *p)
{
    if (p) pool_unref(p);
}

static corm__ablock *new_block(corm_arena *a, size_t size)
{
    corm__ablock *b = a->pool ? pool_take(a->pool, size) : NULL;
    if (!b) {
        b = corm__malloc(sizeof *b + size);
        if (!b) return NULL;
        b->size = size;
    }
    b->used = 0;
    a->total += sizeof *b + b->size;
    return b;
}

/* Every block to the pool while it has room (it grows to the largest
** arena given back), else to the system. */
static void release_blocks(corm_arena *a)
{
    corm__blockpool *p = a->pool && !a->pool->closed ? a->pool : NULL;
    if (p && a->head) { /* the arena's bytes with their block headers: one block fits */
        size_t bytes = 0;
        for (corm__ablock *k = a->head; k; k = k->next) bytes += sizeof *k + k->size;
        if (bytes > p->cap) p->cap = bytes < CORM__POOL_MAX ? bytes : CORM__POOL_MAX;
    }
    corm__ablock *b = a->head;
    while (b) {
        corm__ablock *next = b->next;
        size_t n = sizeof *b + b->size;
        if (p && p->held + n <= p->cap) {
            pool_keep(p, b);
        } else {
            corm__free(b);
        }
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *corm__arena_alloc(corm_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (need < n) return NULL;
    corm__ablock *h = a->head;
    if (h && h->size - h->used >= need) {
        void *p = h->data + h->used;
        h->used += need;
        return p;
    }
    if (need > a->next_size / 4) {
        /* A big request gets a block of its own, behind the current head,
        ** so the head keeps serving small requests. */
        corm__ablock *b = new_block(a, need);
        if (!b) return NULL;
        b->used = need;
        if (h) {
            b->next = h->next;
            h->next = b;
        } else {
            b->next = NULL;
            a->head = b;
        }
        return b->data;
    }
    corm__ablock *b = new_block(a, a->next_size);
    if (!b) return NULL;
    if (a->next_size < BIG_BLOCK_MAX) a->next_size *= 2;
    b->next = h;
    a->head = b;
    b->used = need;
    return b->data;
}

void *corm__arena_zalloc(corm_arena *a, size_t n)
{
    void *p = corm__arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

void *corm__arena_memdup(corm_arena *a, const void *p, size_t n)
{
    void *d = corm__arena_alloc(a, n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

char *corm__arena_strndup(corm_arena *a, const char *s, size_t n)
{
    char *d = corm__arena_alloc(a, n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *corm__arena_strdup(corm_arena *a, const char *s)
{
    return s ? corm__arena_strndup(a, s, strlen(s)) : NULL;
}

void corm__arena_free(corm_arena *a)
{
    if (a->head) release_blocks(a); /* none taken: none to give back */
    if (a->pool && !a->lent) pool_unref(a->pool);
    a->pool = NULL;
    a->lent = false;
}

size_t corm__arena_size(const corm_arena *a) { return a->total; }

void corm__arena_reset(corm_arena *a)
{
    /* Keep one block as big as everything held, so the next fill of the
    ** same size needs no allocation and memory stays flat. */
    size_t total = 0;
    corm__ablock *keep = NULL;
    for (corm__ablock *b = a->head; b; b = b->next) total += b->size;
    if (a->head && !a->head->next) {
        keep = a->head;
    } else if (total) {
        release_blocks(a);
        keep = new_block(a, total);
        if (!keep) return; /* the arena is just empty */
        keep->next = NULL;
    }
    if (!keep) return;
    keep->used = 0;
    a->head = keep;
    a->total = sizeof *keep + keep->size;
}

bool corm__arena_grow(corm_arena *a, void **arr, int n, int *cap, size_t size)
{
    if (n < *cap) return true;
    int nc = *cap ? *cap * 2 : 8;
    if (nc <= n) return false;
    void *p = corm__arena_alloc(a, (size_t)nc * size);
    if (!p) return false;
    if (n) memcpy(p, *arr, (size_t)n * size);
    *arr = p;
    *cap = nc;
    return true;
}
