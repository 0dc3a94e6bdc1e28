/*
** core_int.h - the bottom layer: allocation, arenas, growable buffers and
** vectors, errors.  Depends on nothing but libc.  Nothing in src/ calls
** malloc/free/strdup/sprintf directly; it goes through these (checked by
** `make check-src`), so allocation has one seam.
*/
#ifndef CORM_CORE_INT_H
#define CORM_CORE_INT_H

#include <corm.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>

#define CORM__FMT(a, b) __attribute__((format(printf, a, b)))
/* An error path kept out of line, so the hot path's frame stays small
** (a corm_error is 2.7 KB). */
#define CORM__COLD __attribute__((cold, noinline))
/* Invariants (SQLite's ALWAYS/NEVER): a defensive check of something the
** library itself guarantees, written `if (CORM_NEVER(!d)) return ...`.
** Release builds keep the check and its recovery; debug builds
** (-DCORM_DEBUG, the `make test` build) stop at the first broken one, so
** a test that reaches it fails instead of recovering quietly.  Misuse by
** the caller is not an invariant: it returns CORM_MISUSE with a message
** (corm.h, "Errors"), in every build. */
#ifdef CORM_DEBUG
#define CORM_ALWAYS(x) ((x) ? 1 : (corm__invariant_failed(#x, __FILE__, __LINE__), 0))
#define CORM_NEVER(x) ((x) ? (corm__invariant_failed("!(" #x ")", __FILE__, __LINE__), 1) : 0)
#else
#define CORM_ALWAYS(x) (x)
#define CORM_NEVER(x) (x)
#endif
/* Prints "corm: invariant failed at file:line: expr" and aborts. */
_Noreturn void corm__invariant_failed(const char *expr, const char *file, int line);
#define CORM__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- decimals (decimal.c) */
/* n bytes of decimal text at s; with round (a database's value), trailing
** zeros of the fraction are dropped and fraction digits beyond 18 digits
** rounded.  False when it is not a decimal that fits. */
bool corm__dec_from_text(const char *s, size_t n, bool round, corm_decimal *out);
/* The shortest decimal that gives the double x back (15 or 17 digits). */
corm_decimal corm__dec_shortest(double x);
/* A database's cell of a decimal(p, scale) value (an integer, a REAL or a
** decimal) made the decimal at scale, in place, when that is exact (the
** REAL is the nearest double of it); other cells are left as they are. */
void corm__dec_cell(corm_value *v, int scale);

/* ---- allocation (alloc.c) */
void *corm__malloc(size_t n);
void *corm__calloc(size_t count, size_t size); /* overflow-checked */
void *corm__realloc(void *p, size_t n);
/* Room for element n of the heap array *arr of *cap elements of size
** bytes: doubled (to first, at least) with corm__realloc when full.  False
** on OOM, *arr and *cap unchanged. */
bool corm__heap_grow(void **arr, size_t n, size_t *cap, size_t size, size_t first);
void corm__free(void *p);
char *corm__strdup(const char *s);
char *corm__strndup(const char *s, size_t n);
/* tests/oom: fail the allocation n from now (0 = the next one), and every
** later one when persistent; n < 0 turns injection off. */
void corm__test_fail_alloc(long n, bool persistent);
/* Whether the injected failure has fired (false: fewer allocations ran). */
bool corm__test_fail_alloc_done(void);

/* ---- arena (arena.c): chained blocks, bump allocation, max_align_t
** alignment; big requests get a block of their own.  One free for all. */
typedef struct corm__ablock corm__ablock;
typedef struct corm__blockpool corm__blockpool;
typedef struct corm_arena {
    corm__ablock *head;
    uint32_t next_size;    /* size of the next ordinary block */
    bool lent;             /* pool is lent (corm__arena_init_lent): no reference */
    size_t total;          /* bytes held in blocks */
    corm__blockpool *pool; /* where blocks come from and go back, or NULL */
} corm_arena;

/* first_block: the first ordinary block's size (0: 4096), at most 1 MiB */
static inline void corm__arena_init(corm_arena *a, size_t first_block)
{
    a->head = NULL;
    a->next_size = first_block ? (uint32_t)first_block : 4096;
    a->lent = false;
    a->total = 0;
    a->pool = NULL;
}
void *corm__arena_alloc(corm_arena *a, size_t n); /* NULL on OOM */
/* Room for element n of the array *arr of *cap elements of size bytes,
** kept in a: when full, a new array of twice the elements (8 at first)
** is allocated in a and the n elements copied (the old one stays
** in the arena until it is freed).  False on OOM, *arr unchanged. */
bool corm__arena_grow(corm_arena *a, void **arr, int n, int *cap, size_t size);
void *corm__arena_zalloc(corm_arena *a, size_t n);
char *corm__arena_strdup(corm_arena *a, const char *s);
char *corm__arena_strndup(corm_arena *a, const char *s, size_t n);
void *corm__arena_memdup(corm_arena *a, const void *p, size_t n);
/* Give every block back (to the pool, or the system) and leave the pool;
** the arena is reusable after, without a pool. */
void corm__arena_free(corm_arena *a);
/* Forget every allocation but keep the memory (as one block), so refilling
** it with as much again allocates nothing. */
void corm__arena_reset(corm_arena *a);
size_t corm__arena_size(const corm_arena *a);

/* A cache of freed arena blocks, one per db: a program that evaluates
** querysets in a loop reuses the memory of the last result instead of
** getting it from the system again (big blocks are mmap'd, and faulting
** them in cost more than building the objects).  It keeps at most
** CORM__POOL_MIN, or as much as the largest arena given back when that is
** more, up to CORM__POOL_MAX: a small call gives back several arenas in
** turn (its queryset's, its result's, its statement's), and each comes
** back from the pool on the next call where the heap would hand out memory
** not touched before (page faults and cache misses on a call of 20 us:
** docs/benchmarks.md, "Round six: the whole table").  Reference
** counted: the db holds one reference, every arena using it one and every
** object from corm__blockpool_get one (for its lent arenas too), so an
** arena freed after its db is closed is still fine.  Not thread-safe: the
** arenas of a pool are freed by the thread that uses its db. */
#define CORM__POOL_MIN ((size_t)256 << 10)
#define CORM__POOL_MAX ((size_t)64 << 20)
corm__blockpool *corm__blockpool_new(void); /* NULL on OOM */
/* The owner is done with it: cache nothing more, free what it holds and
** the pool itself once no arena uses it. */
void corm__blockpool_close(corm__blockpool *p);
/* Let a's blocks come from (and return to) p; a must hold no block. */
void corm__arena_use_pool(corm_arena *a, corm__blockpool *p);
/* corm__arena_init with p lent (may be NULL): a takes no reference to p,
** its owner holds one (as a queryset's memory from corm__blockpool_get
** does) until a is freed.  Nothing is taken from p before a's first
** allocation; an arena that never allocated holds nothing to free. */
static inline void corm__arena_init_lent(corm_arena *a, size_t first_block, corm__blockpool *p)
{
    a->head = NULL;
    a->next_size = first_block ? (uint32_t)first_block : 4096;
    a->lent = true;
    a->total = 0;
    a->pool = p;
}
/* One object of n bytes (aligned for max_align_t) in a block of p's cache,
** or from malloc; p may be NULL.  NULL on OOM.  The object holds a
** reference to p (none when NULL is returned), so arenas it owns can be
** lent p (corm__arena_init_lent).  Give it back with corm__blockpool_put,
** to the same pool: a statement's queryset built and freed in a loop
** reuses its memory. */
void *corm__blockpool_get(corm__blockpool *p, size_t n);
/* Cached in p while p is open and holds no more than its arenas' share
** (so at most one such block above it), else freed; p may be NULL.  Drops
** the object's reference to p (the pool itself goes when it was the last). */
void corm__blockpool_put(corm__blockpool *p, void *mem);
/* A reference for a caller that gives blocks back after its arenas have
** dropped theirs (p may be NULL); corm__blockpool_release ends it. */
void corm__blockpool_hold(corm__blockpool *p);
void corm__blockpool_release(corm__blockpool *p);

/* ---- growable string buffer (buf.c).  An OOM is sticky: later appends
** are no-ops and buf.oom tells. */
typedef struct corm_buf {
    char *p; /* NUL-terminated when len > 0 or after buf_cstr */
    size_t len, cap;
    bool oom;
    bool discard;  /* appends are dropped unformatted (corm__buf_discard) */
    bool borrowed; /* p is the caller's (corm__buf_over): never freed or realloc'd */
} corm_buf;

void corm__buf_init(corm_buf *b);
void corm__buf_free(corm_buf *b);
void corm__buf_reset(corm_buf *b); /* len = 0, keeps memory */
/* A buffer whose appends cost nothing and keep nothing: for code run only
** for its other effects (binding a query's parameters again). */
void corm__buf_discard(corm_buf *b);
void corm__buf_add(corm_buf *b, const char *s, size_t n);
void corm__buf_adds(corm_buf *b, const char *s);
void corm__buf_addc(corm_buf *b, char c);
/* x in decimal, without printf (a bound parameter, an array element). */
void corm__buf_addi(corm_buf *b, int64_t x);
void corm__buf_addf(corm_buf *b, const char *fmt, ...) CORM__FMT(2, 3);
void corm__buf_vaddf(corm_buf *b, const char *fmt, va_list ap);
const char *corm__buf_cstr(corm_buf *b); /* "" when empty/oom */
/* b empty over the caller's mem[cap] (cap > 0), which outlives b's use:
** appends that fit stay there; a longer text moves to the heap. */
void corm__buf_over(corm_buf *b, char *mem, size_t cap);

/* ---- vector of pointers (vec.c) */
typedef struct corm_vec {
    void **p;
    size_t n, cap;
} corm_vec;

bool corm__vec_push(corm_vec *v, void *item); /* false on OOM */
void corm__vec_free(corm_vec *v);

/* ---- int64 -> pointer hash map (map.c), open addressing.  With an arena
** its memory comes from (and goes with) the arena; else corm__map_free. */
typedef struct corm_map {
    int64_t *keys;
    void **vals;
    unsigned char *used;
    size_t cap, n;
    corm_arena *arena;
} corm_map;

void corm__map_init(corm_map *m, corm_arena *arena);
bool corm__map_put(corm_map *m, int64_t key, void *val); /* false on OOM */
void **corm__map_get(const corm_map *m, int64_t key);    /* NULL if absent */
void corm__map_free(corm_map *m);

/* ---- errors (error.c) */
void corm__err_clear(corm_error *e);
/* Sets rc and message (formatted); clears hint/sql.  e may be NULL. */
void corm__err_set(corm_error *e, corm_rc rc, const char *fmt, ...) CORM__FMT(3, 4);
void corm__err_hint(corm_error *e, const char *fmt, ...) CORM__FMT(2, 3);
void corm__err_sql(corm_error *e, const char *sql);
void corm__err_copy(corm_error *dst, const corm_error *src);
/* Move an error to where the call reports it: copy src to dst, then
** clear src (unless they are the same).  A statement's error lands on the
** connection that ran it (corm__db_query); the caller's channel takes it,
** so no other handle keeps a stale copy (corm.h, "Errors"). */
void corm__err_take(corm_error *dst, corm_error *src);
/* Copies at most size-1 bytes and always terminates. */
void corm__strlcpy(char *dst, const char *src, size_t size);
/* The candidate closest to word (edit distance <= max(2, len/3)), or NULL. */
const char *corm__did_you_mean(const char *word, const char *const *cands, size_t n);

/* ---- a small memo of byte keys -> byte values (memo.c): 4-way set
** associative, least recently used out.  A miss costs only the work it
** would have saved; values are copied in, and a value returned by get/put
** is valid until the next put or free.  64 sets of 4: the keys hold
** addresses, so which shapes share a set changes from run to run, and
** with 16 sets a program of 12 shapes (test_oom_keyset's) had five in
** one set about one run in 130, which then missed on every call. */
#define CORM__MEMO_SLOTS 256
#define CORM__MEMO_WAYS 4
_Static_assert(CORM__MEMO_SLOTS % CORM__MEMO_WAYS == 0, "whole sets");
typedef struct corm__memo_slot {
    char *mem; /* key, value, NUL; NULL: empty */
    size_t klen, vlen;
    uint64_t hash;
} corm__memo_slot;
typedef struct corm__memo {
    corm__memo_slot slots[CORM__MEMO_SLOTS];
    uint64_t hits, misses;
    bool verify; /* users recompute on a hit and compare (tests) */
} corm__memo;
uint64_t corm__hash_fast(const void *p, size_t n);
const void *corm__memo_get(corm__memo *m, const void *key, size_t klen, uint64_t hash,
                           size_t *vlen);
/* Remember val (copied) for key; returns the stored copy, or NULL when
** out of memory (nothing remembered, nothing lost). */
void *corm__memo_put(corm__memo *m, const void *key, size_t klen, uint64_t hash, const void *val,
                     size_t vlen);
void corm__memo_free(corm__memo *m);

/* ---- SQL fingerprints (fingerprint.c): the text with literals, placeholders
** and IN lists folded, normalised into b; returns its hash (0: out of
** memory).  corm_sql_fingerprint is the public face. */
uint64_t corm__fingerprint(const char *sql, corm_buf *b);
uint64_t corm__hash64(const void *p, size_t n, uint64_t h);
#define CORM__FNV64 0xcbf29ce484222325ull

/* ---- small helpers */
/* Monotonic milliseconds: inline, the statement path reads it twice a
** statement. */
static inline double corm__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
uint32_t corm__hash_str(const char *s, size_t n); /* FNV-1a */

#endif
