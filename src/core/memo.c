/*
** memo.c - a small memo from byte keys to byte values, for work that
** repeats with the same input: the SQL of a query's shape, the
** fingerprint of a statement's text.  A slot holds one key and its value
** in one allocation; a new key evicts the least recently used of its set.  Nothing
** here is required for correctness: a miss (or an allocation failure
** while remembering) only means the caller does the work again.
*/
#include "core_int.h"

#include <string.h>

uint64_t corm__hash_fast(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = (uint64_t)n * 0x9e3779b97f4a7c15ull;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    for (; n; s++, n--) h = (h ^ *s) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* The set of a hash: CORM__MEMO_WAYS slots, the most recently used first.
** Sets (not one slot per hash) so that two shapes a loop alternates
** between do not evict each other - the keys hold addresses, so which
** shapes would collide changed from run to run. */
static corm__memo_slot *set_of(corm__memo *m, uint64_t hash)
{
    return &m->slots[(hash % (CORM__MEMO_SLOTS / CORM__MEMO_WAYS)) * CORM__MEMO_WAYS];
}

/* Moves set[w] to the front, the ones before it one down. */
static void to_front(corm__memo_slot *set, int w)
{
    corm__memo_slot e = set[w];
    memmove(set + 1, set, (size_t)w * sizeof *set);
    set[0] = e;
}

static int find(const corm__memo_slot *set, const void *key, size_t klen, uint64_t hash)
{
    for (int w = 0; w < CORM__MEMO_WAYS && set[w].mem; w++)
        if (set[w].hash == hash && set[w].klen == klen && memcmp(set[w].mem, key, klen) == 0)
            return w;
    return -1;
}

const void *corm__memo_get(corm__memo *m, const void *key, size_t klen, uint64_t hash, size_t *vlen)
{
    corm__memo_slot *set = set_of(m, hash);
    int w = find(set, key, klen, hash);
    if (w < 0) {
        m->misses++;
        return NULL;
    }
    m->hits++;
    if (w) to_front(set, w);
    if (vlen) *vlen = set[0].vlen;
    return set[0].mem + klen;
}

void *corm__memo_put(corm__memo *m, const void *key, size_t klen, uint64_t hash, const void *val,
                     size_t vlen)
{
    if (klen > SIZE_MAX / 2 || vlen > SIZE_MAX / 2) return NULL;
    char *mem = corm__malloc(klen + vlen + 1);
    if (!mem) return NULL;
    memcpy(mem, key, klen);
    if (vlen) memcpy(mem + klen, val, vlen);
    mem[klen + vlen] = '\0';
    corm__memo_slot *set = set_of(m, hash);
    int w = find(set, key, klen, hash);
    if (w < 0) w = CORM__MEMO_WAYS - 1; /* the least recently used goes */
    corm__free(set[w].mem);
    set[w] = (corm__memo_slot){mem, klen, vlen, hash};
    to_front(set, w);
    return mem + klen;
}

void corm__memo_free(corm__memo *m)
{
    for (size_t i = 0; i < CORM__MEMO_SLOTS; i++) corm__free(m->slots[i].mem);
    memset(m, 0, sizeof *m);
}
