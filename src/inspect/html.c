/*
** html.c - what the panel's pages are made of: HTML escaping (every value
** shown goes through corm__html: SQL text and parameters carry user data),
** SQL laid out one clause a line, and query strings.
*/
#include "inspect_int.h"

#include <ctype.h>
#include <string.h>

void corm__html(corm_buf *b, const char *s)
{
    if (!s) return;
    for (; *s; s++) {
        switch (*s) {
        case '&': corm__buf_adds(b, "&amp;"); break;
        case '<': corm__buf_adds(b, "&lt;"); break;
        case '>': corm__buf_adds(b, "&gt;"); break;
        case '"': corm__buf_adds(b, "&quot;"); break;
        case '\'': corm__buf_adds(b, "&#39;"); break;
        default: corm__buf_addc(b, *s);
        }
    }
}

static const char *const clauses[] = {"FROM ",      "WHERE ",    "INNER JOIN ", "LEFT OUTER JOIN ",
                                      "LEFT JOIN ", "GROUP BY ", "HAVING ",     "ORDER BY ",
                                      "LIMIT ",     "SET ",      "VALUES ",     "RETURNING "};

/* A newline (and indent) before the main clauses, outside quotes. */
void corm__html_sql(corm_buf *b, const char *sql)
{
    if (!sql) return;
    char quote = 0;
    char one[2] = {0, 0};
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote) quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (p > sql && p[-1] == ' ') {
            for (size_t i = 0; i < CORM__ARRAY_LEN(clauses); i++)
                if (strncmp(p, clauses[i], strlen(clauses[i])) == 0) {
                    if (b->len && b->p[b->len - 1] == ' ') b->len--;
                    corm__buf_adds(b, "\n  ");
                    break;
                }
        }
        one[0] = *p;
        corm__html(b, one);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void corm__url_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '+') *w++ = ' ';
        else if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
            *w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
            r += 2;
        } else *w++ = *r;
    }
    *w = '\0';
}

bool corm__query_get(const char *query, const char *key, char *out, size_t size)
{
    if (!query || size == 0) return false;
    size_t kl = strlen(key);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len >= kl && strncmp(p, key, kl) == 0 && (len == kl || p[kl] == '=')) {
            const char *v = len == kl ? p + kl : p + kl + 1;
            size_t vl = len - (size_t)(v - p);
            if (vl >= size) vl = size - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            corm__url_decode(out);
            return true;
        }
        if (!amp) break;
        p = amp + 1;
    }
    return false;
}

void corm__url_encode(corm_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/')
            corm__buf_addc(b, (char)c);
        else {
            corm__buf_addc(b, '%');
            corm__buf_addc(b, hex[c >> 4]);
            corm__buf_addc(b, hex[c & 15]);
        }
    }
}
