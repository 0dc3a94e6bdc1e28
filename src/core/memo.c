/*
** memo.c - a small direct-mapped memo from byte keys to byte values, for
** work that repeats with the same input: the SQL of a query's shape, the
** fingerprint of a statement's text.  A slot holds one key and its value
** in one allocation; a new key evicts whatever its slot held.  Nothing
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

const void *corm__memo_get(corm__memo *m, const void *key, size_t klen, uint64_t hash, size_t *vlen)
{
    corm__memo_slot *e = &m->slots[hash % CORM__MEMO_SLOTS];
    if (!e->mem || e->hash != hash || e->klen != klen || memcmp(e->mem, key, klen) != 0) {
        m->misses++;
        return NULL;
    }
    m->hits++;
    if (vlen) *vlen = e->vlen;
    return e->mem + klen;
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
    corm__memo_slot *e = &m->slots[hash % CORM__MEMO_SLOTS];
    corm__free(e->mem);
    *e = (corm__memo_slot){mem, klen, vlen, hash};
    return mem + klen;
}

void corm__memo_free(corm__memo *m)
{
    for (size_t i = 0; i < CORM__MEMO_SLOTS; i++) corm__free(m->slots[i].mem);
    memset(m, 0, sizeof *m);
}
