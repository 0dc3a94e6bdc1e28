/*
** buf.c - growable NUL-terminated string buffer and pointer vector.
** An allocation failure is sticky (b->oom): callers check once at the end.
*/
#include "core_int.h"

#include <stdio.h>
#include <string.h>

void corm__buf_init(corm_buf *b) { memset(b, 0, sizeof *b); }

void corm__buf_free(corm_buf *b)
{
    if (!b->borrowed) corm__free(b->p);
    corm__buf_init(b);
}

void corm__buf_reset(corm_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->p) b->p[0] = '\0';
}

void corm__buf_over(corm_buf *b, char *mem, size_t cap)
{
    corm__buf_init(b);
    b->p = mem;
    b->cap = cap;
    b->borrowed = true;
    mem[0] = '\0';
}

void corm__buf_discard(corm_buf *b)
{
    corm__buf_init(b);
    b->discard = true;
}

static bool reserve(corm_buf *b, size_t extra)
{
    if (b->oom || b->discard) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = corm__realloc(b->borrowed ? NULL : b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    if (b->borrowed) memcpy(p, b->p, b->len + 1);
    b->borrowed = false;
    b->p = p;
    b->cap = cap;
    return true;
}

void corm__buf_add(corm_buf *b, const char *s, size_t n)
{
    if (!n) return;
    if (!reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void corm__buf_adds(corm_buf *b, const char *s) { corm__buf_add(b, s, strlen(s)); }

void corm__buf_addc(corm_buf *b, char c)
{
    if (!reserve(b, 1)) return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void corm__buf_addi(corm_buf *b, int64_t x)
{
    uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    int n = 1 + (x < 0);
    for (uint64_t t = u; t >= 10; t /= 10) n++;
    if (!reserve(b, (size_t)n)) return;
    char *p = b->p + b->len + n; /* written from its end */
    b->len += (size_t)n;
    *p = '\0';
    do *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (x < 0) *--p = '-';
}

void corm__buf_vaddf(corm_buf *b, const char *fmt, va_list ap)
{
    /* one vsnprintf into the room there is (most appends are short); a
    ** second only when it did not fit */
    if (!reserve(b, 64)) return;
    size_t room = b->cap - b->len;
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(b->p + b->len, room, fmt, cp);
    va_end(cp);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n >= room) {
        if (!reserve(b, (size_t)n)) return;
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void corm__buf_addf(corm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    corm__buf_vaddf(b, fmt, ap);
    va_end(ap);
}

const char *corm__buf_cstr(corm_buf *b) { return (b->p && !b->oom) ? b->p : ""; }

bool corm__vec_push(corm_vec *v, void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **p = corm__realloc(v->p, cap * sizeof *p);
        if (!p) return false;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = item;
    return true;
}

void corm__vec_free(corm_vec *v)
{
    corm__free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}
