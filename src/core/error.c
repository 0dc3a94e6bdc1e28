/*
** error.c - return codes, corm_error filling, "did you mean".
*/
#include "core_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *corm_rc_name(corm_rc rc)
{
    switch (rc) {
#define XX(name, val, msg) \
    case CORM_##name: return "CORM_" #name;
        CORM_RC_MAP(XX)
#undef XX
    }
    return "CORM_UNKNOWN";
}

const char *corm_rc_str(corm_rc rc)
{
    switch (rc) {
#define XX(name, val, msg) \
    case CORM_##name: return msg;
        CORM_RC_MAP(XX)
#undef XX
    }
    return "unknown error code";
}

const char *corm_version(void) { return CORM_VERSION_STRING; }

void corm__strlcpy(char *dst, const char *src, size_t size)
{
    if (!size) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= size) n = size - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

void corm__err_clear(corm_error *e)
{
    if (!e) return;
    e->rc = CORM_OK;
    e->message[0] = e->hint[0] = e->sql[0] = e->sqlstate[0] = e->file[0] = '\0';
    e->line = e->col = 0;
    e->constraint = CORM_CK_NONE;
    e->constraint_name[0] = e->values[0] = '\0';
    e->row = 0;
}

void corm__err_take(corm_error *dst, corm_error *src)
{
    if (!dst || dst == src) return;
    corm__err_copy(dst, src);
    corm__err_clear(src);
}

void corm__invariant_failed(const char *expr, const char *file, int line)
{
    fprintf(stderr, "corm: invariant failed at %s:%d: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}

void corm__err_set(corm_error *e, corm_rc rc, const char *fmt, ...)
{
    if (!e) return;
    corm__err_clear(e);
    e->rc = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void corm__err_hint(corm_error *e, const char *fmt, ...)
{
    if (!e) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, fmt, ap);
    va_end(ap);
}

void corm__err_sql(corm_error *e, const char *sql)
{
    if (e) corm__strlcpy(e->sql, sql, sizeof e->sql);
}

void corm__err_copy(corm_error *dst, const corm_error *src)
{
    if (dst && src && dst != src) memcpy(dst, src, sizeof *dst);
}

const char *corm_error_format(const corm_error *err, char *buf, size_t size)
{
    if (!buf || !size) return "";
    if (!err) {
        corm__strlcpy(buf, "", size);
        return buf;
    }
    char where[300] = "";
    if (err->file[0] && err->line > 0 && err->col > 0)
        snprintf(where, sizeof where, "%s:%d:%d: ", err->file, err->line, err->col);
    else if (err->file[0] && err->line > 0)
        snprintf(where, sizeof where, "%s:%d: ", err->file, err->line);
    snprintf(buf, size, "%s%s%s%s%s%s", where,
             err->message[0] ? err->message : corm_rc_str(err->rc), err->hint[0] ? "\nhint: " : "",
             err->hint, err->sql[0] ? "\nsql: " : "", err->sql);
    return buf;
}

/* Levenshtein distance, capped: strings longer than 64 are never close. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *corm__did_you_mean(const char *word, const char *const *cands, size_t n)
{
    if (!word) return NULL;
    size_t len = strlen(word);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i]) continue;
        size_t d = distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

uint32_t corm__hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}
