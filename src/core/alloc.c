/*
** alloc.c - the one place corm allocates from the C library.  Every other
** file goes through these, so allocation has a single seam (for a future
** per-db allocator hook and for fault injection).
*/
#include "core_int.h"

#include <stdlib.h>
#include <string.h>

void *corm__malloc(size_t n) { return malloc(n ? n : 1); }

void *corm__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *corm__realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }

void corm__free(void *p) { free(p); }

char *corm__strndup(const char *s, size_t n)
{
    char *d = corm__malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *corm__strdup(const char *s) { return s ? corm__strndup(s, strlen(s)) : NULL; }
