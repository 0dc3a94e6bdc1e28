/*
** defaults.c - `default=` literals: type-checked against their field and
** turned into SQL literals for the migrator's DEFAULT clause.
**
**   integer, bigint, fk   whole numbers in range         -> 42, -1
**   float                 numbers                        -> 1.5e3 (as written)
**   decimal(p, s)         numbers that fit, no exponent  -> 9.99
**   bool                  true / false                   -> TRUE / FALSE
**   char(n)               strings of at most n characters -> 'it''s'
**   text, email, json,    strings (email has one '@', json parses,
**   date, datetime        dates are real ISO 8601 dates)
**   any nullable field    null                           -> NULL
**   blob                  no default
** Strings are quoted with '' doubling; the lexer guarantees they hold no NUL
** and are valid UTF-8, so the literal is safe in SQL and, escaped, in C.
*/
#include "parse_int.h"

#include <stdio.h>
#include <string.h>

static bool digit(int c) { return c >= '0' && c <= '9'; }

/* ------------------------------------------------------------ dates */

static bool ndigits(const char *s, size_t len, size_t at, size_t n, int *out)
{
    if (at + n > len) return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!digit(s[at + i])) return false;
        v = v * 10 + (s[at + i] - '0');
    }
    *out = v;
    return true;
}

static bool valid_date(const char *s, size_t len)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (len < 10 || s[4] != '-' || s[7] != '-') return false;
    if (!ndigits(s, len, 0, 4, &y) || !ndigits(s, len, 5, 2, &m) || !ndigits(s, len, 8, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]] */
static bool valid_datetime(const char *s, size_t len)
{
    int h, mi, sec;
    if (len < 16 || !valid_date(s, 10) || (s[10] != ' ' && s[10] != 'T')) return false;
    if (!ndigits(s, len, 11, 2, &h) || s[13] != ':' || !ndigits(s, len, 14, 2, &mi)) return false;
    if (h > 23 || mi > 59) return false;
    size_t i = 16;
    if (i == len) return true;
    if (s[i] != ':' || !ndigits(s, len, i + 1, 2, &sec) || sec > 59) return false;
    i += 3;
    if (i == len) return true;
    if (s[i] != '.') return false;
    size_t nf = 0;
    for (i++; i < len && digit(s[i]); i++) nf++;
    return i == len && nf >= 1 && nf <= 6;
}

/* ------------------------------------------------------------- json */

typedef struct jp {
    const char *s, *end;
    int depth;
} jp;

static void jws(jp *j)
{
    while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r'))
        j->s++;
}

static bool jlit(jp *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->s) < n || memcmp(j->s, w, n) != 0) return false;
    j->s += n;
    return true;
}

static bool jstring(jp *j)
{
    if (j->s >= j->end || *j->s != '"') return false;
    for (j->s++; j->s < j->end; j->s++) {
        unsigned char c = (unsigned char)*j->s;
        if (c == '"') {
            j->s++;
            return true;
        }
        if (c < 0x20) return false;
        if (c == '\\') {
            if (++j->s >= j->end) return false;
            if (*j->s == 'u') {
                for (int i = 0; i < 4; i++) {
                    if (j->end - j->s < 2) return false;
                    char h = *++j->s;
                    if (!digit(h) && !((h | 0x20) >= 'a' && (h | 0x20) <= 'f')) return false;
                }
            } else if (!strchr("\"\\/bfnrt", *j->s) || !*j->s) {
                return false;
            }
        }
    }
    return false;
}

static bool jnumber(jp *j)
{
    const char *s = j->s;
    if (s < j->end && *s == '-') s++;
    if (s >= j->end || !digit(*s)) return false;
    if (*s == '0') s++;
    else
        while (s < j->end && digit(*s)) s++;
    if (s < j->end && *s == '.') {
        s++;
        if (s >= j->end || !digit(*s)) return false;
        while (s < j->end && digit(*s)) s++;
    }
    if (s < j->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < j->end && (*s == '+' || *s == '-')) s++;
        if (s >= j->end || !digit(*s)) return false;
        while (s < j->end && digit(*s)) s++;
    }
    j->s = s;
    return true;
}

static bool jvalue(jp *j)
{
    jws(j);
    if (j->s >= j->end) return false;
    char c = *j->s;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (++j->depth > 64) return false;
        j->s++;
        jws(j);
        if (j->s < j->end && *j->s == close) {
            j->s++;
            j->depth--;
            return true;
        }
        for (;;) {
            if (c == '{') {
                jws(j);
                if (!jstring(j)) return false;
                jws(j);
                if (j->s >= j->end || *j->s != ':') return false;
                j->s++;
            }
            if (!jvalue(j)) return false;
            jws(j);
            if (j->s < j->end && *j->s == ',') {
                j->s++;
                continue;
            }
            if (j->s < j->end && *j->s == close) {
                j->s++;
                j->depth--;
                return true;
            }
            return false;
        }
    }
    if (c == '"') return jstring(j);
    if (c == '-' || digit(c)) return jnumber(j);
    return jlit(j, "true") || jlit(j, "false") || jlit(j, "null");
}

static bool valid_json(const char *s, size_t len)
{
    jp j = {s, s + len, 0};
    if (!jvalue(&j)) return false;
    jws(&j);
    return j.s == j.end;
}

/* ------------------------------------------------------------ checks */

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

static bool valid_email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at == s + len - 1 || memchr(at + 1, '@', (size_t)(s + len - at - 1)))
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ') return false;
    return true;
}

static const char *sql_string(corm_arena *a, const char *s, size_t len)
{
    size_t n = 2;
    for (size_t i = 0; i < len; i++) n += s[i] == '\'' ? 2 : 1;
    char *out = corm__arena_alloc(a, n + 1);
    if (!out) return NULL;
    size_t k = 0;
    out[k++] = '\'';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'') out[k++] = '\'';
        out[k++] = s[i];
    }
    out[k++] = '\'';
    out[k] = '\0';
    return out;
}

static corm_rc mismatch(corm__pctx *c, const corm__ast_field *f, const corm__literal *lit,
                        const char *hint)
{
    char type[40];
    if (f->type == CORM_FT_CHAR) snprintf(type, sizeof type, "char(%d)", f->max_length);
    else if (f->type == CORM_FT_DECIMAL)
        snprintf(type, sizeof type, "decimal(%d, %d)", f->precision, f->scale);
    else snprintf(type, sizeof type, "%s", corm__ftype_name(f->type));
    return corm__perr(c, lit->pos, hint, "default %s does not fit %s field '%s'", lit->shown, type,
                      f->name);
}

corm_rc corm__check_default(corm__pctx *c, const corm__ast_field *f, const corm__literal *lit,
                            const char **sql)
{
    char tmp[64];
    const char *out = NULL;
    if (lit->kind == CORM__LIT_NULL) {
        *sql = "NULL";
        return CORM_OK;
    }
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: {
        bool i32 = f->type == CORM_FT_INTEGER;
        if (lit->kind != CORM__LIT_INT)
            return mismatch(c, f, lit, "write a whole number: default=0");
        uint64_t lim = i32 ? (lit->neg ? 2147483648u : 2147483647u)
                           : (lit->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX);
        if (lit->big || lit->u > lim)
            return mismatch(c, f, lit,
                            i32 ? "integer holds -2147483648 to 2147483647; use bigint for more"
                                : "bigint holds -9223372036854775808 to 9223372036854775807");
        snprintf(tmp, sizeof tmp, "%s%llu", lit->neg && lit->u ? "-" : "",
                 (unsigned long long)lit->u);
        out = corm__arena_strdup(c->arena, tmp);
        break;
    }
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL: {
        if (lit->kind != CORM__LIT_INT && lit->kind != CORM__LIT_FLOAT)
            return mismatch(c, f, lit, "write a number: default=0.5");
        if (f->type == CORM_FT_DECIMAL) {
            size_t ni = 0, nf = 0, i = 0;
            const char *s = lit->text;
            while (i < lit->textlen && s[i] == '0') i++;
            for (; i < lit->textlen && digit(s[i]); i++) ni++;
            if (i < lit->textlen && s[i] == '.')
                for (i++; i < lit->textlen && digit(s[i]); i++) nf++;
            if (i < lit->textlen)
                return mismatch(c, f, lit, "write decimals without an exponent: default=1000.00");
            if (ni > (size_t)(f->precision - f->scale) || nf > (size_t)f->scale) {
                char h[160];
                snprintf(h, sizeof h,
                         "decimal(%d, %d) holds %d digits before the point and %d after",
                         f->precision, f->scale, f->precision - f->scale, f->scale);
                return mismatch(c, f, lit, h);
            }
        }
        char *s = corm__arena_alloc(c->arena, lit->textlen + 2);
        if (!s) return corm__pnomem(c);
        size_t k = 0;
        if (lit->neg) s[k++] = '-';
        memcpy(s + k, lit->text, lit->textlen);
        s[k + lit->textlen] = '\0';
        out = s;
        break;
    }
    case CORM_FT_BOOL:
        if (lit->kind != CORM__LIT_TRUE && lit->kind != CORM__LIT_FALSE)
            return mismatch(c, f, lit, "write default=true or default=false");
        /* The migrator maps TRUE/FALSE per dialect (SQLite >= 3.23 and
        ** PostgreSQL both accept them as they are). */
        out = lit->kind == CORM__LIT_TRUE ? "TRUE" : "FALSE";
        break;
    case CORM_FT_CHAR:
    case CORM_FT_TEXT:
    case CORM_FT_EMAIL:
    case CORM_FT_DATE:
    case CORM_FT_DATETIME:
    case CORM_FT_JSON:
        if (lit->kind != CORM__LIT_STRING)
            return mismatch(c, f, lit,
                            f->type == CORM_FT_JSON
                                ? "write JSON in a string: default=\"{}\""
                                : "write a string in double quotes: default=\"text\"");
        if (f->type == CORM_FT_CHAR && utf8_chars(lit->str, lit->len) > (size_t)f->max_length) {
            char h[100];
            snprintf(h, sizeof h, "the string has %zu characters, the field holds %d",
                     utf8_chars(lit->str, lit->len), f->max_length);
            return mismatch(c, f, lit, h);
        }
        if (f->type == CORM_FT_DATE && !valid_date(lit->str, lit->len < 10 ? lit->len : 10))
            return mismatch(c, f, lit, "write a real date as YYYY-MM-DD: default=\"2024-01-31\"");
        if (f->type == CORM_FT_DATE && lit->len != 10)
            return mismatch(c, f, lit, "write a real date as YYYY-MM-DD: default=\"2024-01-31\"");
        if (f->type == CORM_FT_DATETIME && !valid_datetime(lit->str, lit->len))
            return mismatch(
                c, f, lit, "write YYYY-MM-DD HH:MM[:SS[.ffffff]]: default=\"2024-01-31 12:00:00\"");
        if (f->type == CORM_FT_EMAIL && lit->len && !valid_email(lit->str, lit->len))
            return mismatch(c, f, lit, "write an address like default=\"info@example.com\"");
        if (f->type == CORM_FT_JSON && !valid_json(lit->str, lit->len))
            return mismatch(c, f, lit,
                            "write valid JSON in a string: default=\"{}\" or default=\"[1, 2]\"");
        out = sql_string(c->arena, lit->str, lit->len);
        break;
    case CORM_FT_BLOB:
        return corm__perr(c, lit->pos, "remove default= (set the value when saving)",
                          "blob field '%s' takes no default", f->name);
    }
    if (!out) return corm__pnomem(c);
    *sql = out;
    return CORM_OK;
}
