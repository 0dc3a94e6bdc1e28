/*
** fingerprint.c - SQL normalisation, as pg_stat_statements does it: two
** statements that differ only in their values have one fingerprint.
** Literals (numbers, strings) and placeholders (?, ?NNN, $1, :name) become
** "?", whitespace runs one space, comments go, "IN (?, ?, ?)" becomes
** "IN (...)" whatever its length, and a multi-row "VALUES (..), (..)" keeps
** its first row and "...".  Quoted identifiers are kept as they are.
** In core: the instrumentation fingerprints every statement, and the
** compiled-SQL memo (src/sql/memo.c) each text it remembers, once.
*/
#include "core_int.h"

#include <ctype.h>
#include <string.h>

uint64_t corm__hash64(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '$'; }

/* s[0..n) is a list of placeholders: "?", "?, ?", ... */
static bool only_marks(const char *s, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '?') any = true;
        else if (s[i] != ',' && s[i] != ' ') return false;
    }
    return any;
}

/* Does p[0..end) end with the word kw (case-insensitive), maybe followed by
** spaces? */
static bool ends_with_word(const char *p, size_t end, const char *kw)
{
    size_t k = strlen(kw);
    while (end > 0 && p[end - 1] == ' ') end--;
    if (end < k) return false;
    for (size_t i = 0; i < k; i++)
        if (toupper((unsigned char)p[end - k + i]) != kw[i]) return false;
    return end == k || !ident_char(p[end - k - 1]);
}

uint64_t corm__fingerprint(const char *sql, corm_buf *b)
{
    corm__buf_reset(b);
    if (!sql) sql = "";
    size_t opens[64];
    int nopen = 0;
    bool space = false, values = false;
    for (const char *p = sql; *p;) {
        char c = *p;
        if (c == '-' && p[1] == '-') { /* -- comment */
            while (*p && *p != '\n') p++;
            space = true;
            continue;
        }
        if (c == '/' && p[1] == '*') { /* block comment */
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/')) p++;
            if (*p) p += 2;
            space = true;
            continue;
        }
        if (isspace((unsigned char)c)) {
            space = true;
            p++;
            continue;
        }
        if (space && b->len && b->p[b->len - 1] != '(') corm__buf_addc(b, ' ');
        space = false;
        if (c == '\'') { /* string literal */
            p++;
            while (*p) {
                if (*p == '\'' && p[1] == '\'') p += 2;
                else if (*p == '\'') {
                    p++;
                    break;
                } else p++;
            }
            corm__buf_addc(b, '?');
            continue;
        }
        if (c == '"' || c == '`' || c == '[') { /* quoted identifier */
            char close = c == '[' ? ']' : c;
            const char *s = p++;
            while (*p && *p != close) p++;
            if (*p) p++;
            corm__buf_add(b, s, (size_t)(p - s));
            continue;
        }
        bool prev_ident = b->len && ident_char(b->p[b->len - 1]);
        if ((isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p[1]))) &&
            !prev_ident) { /* number */
            if (c == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
            while (isalnum((unsigned char)*p) || *p == '.' ||
                   ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
                p++;
            corm__buf_addc(b, '?');
            continue;
        }
        if ((c == '?' || c == '$' || c == ':' || c == '@') && !prev_ident &&
            (c == '?' || isalnum((unsigned char)p[1]) || p[1] == '_')) { /* placeholder */
            p++;
            while (ident_char(*p)) p++;
            corm__buf_addc(b, '?');
            continue;
        }
        if (ident_char(c)) {
            const char *s = p;
            while (ident_char(*p)) p++;
            corm__buf_add(b, s, (size_t)(p - s));
            if (p - s == 6 && ends_with_word(b->p, b->len, "VALUES")) values = true;
            continue;
        }
        if (c == '(') {
            if (nopen < 64) opens[nopen] = b->len;
            nopen++;
            corm__buf_addc(b, '(');
            p++;
            continue;
        }
        if (c == ')') {
            p++;
            if (nopen > 0 && --nopen < 64 && !b->oom) {
                size_t at = opens[nopen];
                const char *inner = b->p + at + 1;
                size_t n = b->len - at - 1;
                if (only_marks(inner, n) && ends_with_word(b->p, at, "IN")) {
                    b->len = at;
                    corm__buf_adds(b, "(...)");
                    continue;
                }
                /* VALUES (?, ?), (?, ?), ...: keep the first row */
                if (values && only_marks(inner, n) && at >= 4 && b->p[at - 1] == ' ' &&
                    b->p[at - 2] == ',') {
                    size_t end = at - 2;
                    if (b->p[end - 1] == ')') {
                        b->len = end;
                        corm__buf_adds(b, ", ...");
                        continue;
                    }
                    if (end >= 3 && memcmp(b->p + end - 3, "...", 3) == 0) {
                        b->len = end;
                        b->p[end] = '\0'; /* buf_cstr relies on appends for it */
                        continue;
                    }
                }
            }
            corm__buf_addc(b, ')');
            continue;
        }
        corm__buf_addc(b, c);
        p++;
    }
    if (b->oom) return 0;
    const char *s = corm__buf_cstr(b);
    return corm__hash64(s, b->len, CORM__FNV64);
}

uint64_t corm_sql_fingerprint(const char *sql, char *normalized, size_t size)
{
    corm_buf b;
    corm__buf_init(&b);
    uint64_t h = corm__fingerprint(sql, &b);
    if (normalized && size) corm__strlcpy(normalized, corm__buf_cstr(&b), size);
    corm__buf_free(&b);
    return h;
}
