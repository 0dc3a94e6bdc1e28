/*
** alloc.c - the one place corm allocates from the C library.  Every other
** file goes through these, so allocation has a single seam (for a future
** per-db allocator hook and for fault injection).
*/
#include "core_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fault injection for tests/oom: the Nth allocation from now fails (and,
** when persistent, every one after it).  Test-only and not thread-safe: a
** program never sets it, so corm keeps no mutable global state in use. */
static long fail_countdown = -1;
static bool fail_persistent;

void corm__test_fail_alloc(long n, bool persistent)
{
    fail_countdown = n;
    fail_persistent = persistent;
}

bool corm__test_fail_alloc_done(void)
{
    /* transient: reset after firing; persistent: stuck at 0 */
    return fail_countdown < 0 || (fail_persistent && fail_countdown == 0);
}

static bool injected_failure(void)
{
    if (fail_countdown < 0) return false;
    if (fail_countdown > 0) {
        fail_countdown--;
        return false;
    }
    if (!fail_persistent) fail_countdown = -1;
    return true;
}

void *corm__malloc(size_t n) { return injected_failure() ? NULL : malloc(n ? n : 1); }

void *corm__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return injected_failure() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *corm__realloc(void *p, size_t n) { return injected_failure() ? NULL : realloc(p, n ? n : 1); }

void corm__free(void *p) { free(p); }

bool corm__heap_grow(void **arr, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : first;
    if (nc <= n || nc > SIZE_MAX / size) return false;
    void *p = corm__realloc(*arr, nc * size);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

char *corm__strndup(const char *s, size_t n)
{
    char *d = corm__malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *corm__strdup(const char *s) { return s ? corm__strndup(s, strlen(s)) : NULL; }
