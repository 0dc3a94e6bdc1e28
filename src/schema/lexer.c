/*
** lexer.c - .corm text into tokens, on demand, with a small lookahead ring.
**
** Keywords are not reserved: `unique`, `table`, `index` are identifiers
** whose meaning the parser decides from the next tokens.  A lexical error
** becomes an ERROR token carrying its message, reported only when the
** parser reaches it, so errors come out in text order.
**
** Invariants: any byte sequence lexes without reading past `end`; ERROR
** and EOF repeat forever; line and col are 1-based and count bytes (a tab
** is one column); decoded strings contain no NUL and are valid UTF-8.
*/
#include "parse_int.h"

#include <stdio.h>
#include <string.h>

void corm__lex_init(corm__lexer *lx, const char *text, size_t len, corm_arena *arena)
{
    memset(lx, 0, sizeof *lx);
    lx->src = lx->cur = text;
    lx->end = text + len;
    lx->line = lx->col = 1;
    lx->arena = arena;
}

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }

static int peekc(const corm__lexer *lx, size_t k)
{
    return (size_t)(lx->end - lx->cur) > k ? (unsigned char)lx->cur[k] : -1;
}

/* Advances n bytes that contain no newline. */
static void adv(corm__lexer *lx, size_t n)
{
    lx->cur += n;
    lx->col += (int)n;
}

/* A message in the arena; on OOM a fixed one (and the parser reports NOMEM). */
static const char *msg(corm__lexer *lx, const char *fmt, ...) CORM__FMT(2, 3);
static const char *msg(corm__lexer *lx, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    const char *s = corm__arena_strdup(lx->arena, tmp);
    if (!s) {
        lx->nomem = true;
        return "out of memory";
    }
    return s;
}

/* Makes t an ERROR at (line, col) and parks the lexer at the end: after an
** error nothing else is lexed. */
static void error_at(corm__lexer *lx, corm__token *t, int line, int col, const char *message,
                     const char *hint)
{
    t->kind = CORM__T_ERROR;
    t->line = line;
    t->col = col;
    t->str = message;
    t->hint = hint;
    lx->cur = lx->end;
}

static void skip_space(corm__lexer *lx)
{
    for (;;) {
        int c = peekc(lx, 0);
        if (c == ' ' || c == '\t' || c == '\r') {
            adv(lx, 1);
        } else if (c == '\n') {
            lx->cur++;
            lx->line++;
            lx->col = 1;
        } else if (c == '#' || (c == '/' && peekc(lx, 1) == '/')) {
            while (lx->cur < lx->end && *lx->cur != '\n') adv(lx, 1);
        } else {
            return;
        }
    }
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
    } else return 0;
    if (n < len) return 0;
    unsigned cp = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static void lex_string(corm__lexer *lx, corm__token *t)
{
    /* Pass 1: find the end, check escapes, control bytes and UTF-8. */
    const char *p = lx->cur + 1;
    size_t declen = 0;
    int col = lx->col + 1;
    for (;;) {
        if (p >= lx->end || *p == '\n') {
            error_at(lx, t, t->line, t->col, msg(lx, "unterminated string"),
                     "close the string with \" on the same line");
            return;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c == '\\') {
            int e = p + 1 < lx->end ? (unsigned char)p[1] : -1;
            if (e != '\\' && e != '"' && e != 'n' && e != 't' && e != 'r') {
                char shown[8];
                if (e > 0x20 && e < 0x7F) snprintf(shown, sizeof shown, "\\%c", e);
                else snprintf(shown, sizeof shown, "\\");
                error_at(lx, t, t->line, col, msg(lx, "unknown escape '%s' in string", shown),
                         "the escapes are \\\\ \\\" \\n \\t \\r");
                return;
            }
            p += 2;
            col += 2;
            declen++;
        } else if (c < 0x20 || c == 0x7F) {
            error_at(lx, t, t->line, col, msg(lx, "control character '\\x%02X' in string", c),
                     "write a newline as \\n and a tab as \\t");
            return;
        } else {
            size_t n = utf8_len((const unsigned char *)p, (size_t)(lx->end - p));
            if (!n) {
                error_at(lx, t, t->line, col, msg(lx, "invalid UTF-8 byte '\\x%02X' in string", c),
                         "save the schema file as UTF-8");
                return;
            }
            p += n;
            col += (int)n;
            declen += n;
        }
        if (declen > CORM__STRING_MAX) {
            error_at(lx, t, t->line, t->col,
                     msg(lx, "string is longer than %d bytes", CORM__STRING_MAX),
                     "schema strings are names and default values: keep them short");
            return;
        }
    }
    /* Pass 2: decode. */
    char *out = corm__arena_alloc(lx->arena, declen + 1);
    if (!out) {
        lx->nomem = true;
        error_at(lx, t, t->line, t->col, "out of memory", NULL);
        return;
    }
    size_t k = 0;
    for (const char *q = lx->cur + 1; q < p; q++) {
        if (*q == '\\') {
            q++;
            out[k++] = *q == 'n' ? '\n' : *q == 't' ? '\t' : *q == 'r' ? '\r' : *q;
        } else {
            out[k++] = *q;
        }
    }
    out[k] = '\0';
    t->kind = CORM__T_STRING;
    t->str = out;
    t->len = k;
    adv(lx, (size_t)(p + 1 - lx->cur));
}

static void lex_number(corm__lexer *lx, corm__token *t)
{
    const char *p = lx->cur;
    uint64_t u = 0;
    bool big = false, is_float = false;
    while (p < lx->end && is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (u > (UINT64_MAX - d) / 10) big = true;
        else u = u * 10 + d;
        p++;
    }
    if (p + 1 < lx->end && *p == '.' && is_digit(p[1])) {
        is_float = true;
        p++;
        while (p < lx->end && is_digit(*p)) p++;
    }
    if (p < lx->end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        if (q < lx->end && (*q == '+' || *q == '-')) q++;
        if (q < lx->end && is_digit(*q)) {
            is_float = true;
            p = q;
            while (p < lx->end && is_digit(*p)) p++;
        }
    }
    if (p < lx->end && (is_alnum(*p) || *p == '.')) {
        const char *q = p;
        while (q < lx->end && (is_alnum(*q) || *q == '.') && q - lx->cur < 40) q++;
        error_at(lx, t, t->line, t->col,
                 msg(lx, "malformed number '%.*s'", (int)(q - lx->cur), lx->cur),
                 "numbers are 42, 1.5 or 2e10; names start with a letter");
        return;
    }
    if (u > (uint64_t)INT64_MAX + 1) big = true;
    t->kind = is_float ? CORM__T_FLOAT : CORM__T_INT;
    t->u = u;
    t->big = big;
    adv(lx, (size_t)(p - lx->cur));
}

static void lex_one(corm__lexer *lx, corm__token *t)
{
    memset(t, 0, sizeof *t);
    skip_space(lx);
    t->p = lx->cur;
    t->line = lx->line;
    t->col = lx->col;
    int c = peekc(lx, 0);
    if (c < 0) {
        t->kind = CORM__T_EOF;
        return;
    }
    if (is_alpha(c)) {
        const char *p = lx->cur;
        while (p < lx->end && is_alnum(*p)) p++;
        size_t n = (size_t)(p - lx->cur);
        if (n > CORM__IDENT_MAX) {
            error_at(
                lx, t, t->line, t->col,
                msg(lx, "name '%.20s...' is longer than %d characters", lx->cur, CORM__IDENT_MAX),
                "SQL and C names must be short: shorten it");
            return;
        }
        t->kind = CORM__T_IDENT;
        adv(lx, n);
    } else if (is_digit(c)) {
        lex_number(lx, t);
    } else if (c == '"') {
        lex_string(lx, t);
    } else {
        static const char punct[] = "{}():,=-";
        static const corm__tkind kinds[] = {CORM__T_LBRACE, CORM__T_RBRACE, CORM__T_LPAREN,
                                            CORM__T_RPAREN, CORM__T_COLON,  CORM__T_COMMA,
                                            CORM__T_EQUALS, CORM__T_MINUS};
        const char *hit = c ? strchr(punct, c) : NULL;
        char c1 = lx->cur + 1 < lx->end ? lx->cur[1] : '\0';
        if (c == '<' || c == '>' || (c == '!' && c1 == '=')) {
            t->kind = CORM__T_CMP;
            adv(lx, c1 == '=' ? 2 : 1);
        } else if (hit) {
            t->kind = kinds[hit - punct];
            adv(lx, 1);
        } else {
            const char *hint = NULL;
            if (c == '/') hint = "comments start with # or //";
            else if (c == '\'') hint = "strings use double quotes: \"text\"";
            else if (c == ';') hint = "members need no separator: put each on its own line";
            else if (c == '!') hint = "not equal is != (in an index condition: where views != 0)";
            else if (c == '[' || c == ']') hint = "list the columns in parentheses: index (a, b)";
            else if (c < 0x20 || c >= 0x7F)
                hint = "schema files are text: names use letters, digits and _, other bytes go in "
                       "strings";
            else hint = "names use letters, digits and _; other characters go in \"strings\"";
            char shown[8];
            if (c > 0x20 && c < 0x7F) snprintf(shown, sizeof shown, "%c", c);
            else snprintf(shown, sizeof shown, "\\x%02X", (unsigned)(c & 0xFF));
            error_at(lx, t, t->line, t->col, msg(lx, "unexpected character '%s'", shown), hint);
        }
    }
    t->n = t->kind == CORM__T_ERROR ? 0 : (size_t)(lx->cur - t->p);
}

const corm__token *corm__lex_peek(corm__lexer *lx, int k)
{
    if (k < 0) k = 0;
    if (k >= CORM__LOOKAHEAD) k = CORM__LOOKAHEAD - 1;
    while (lx->count <= k) {
        corm__token *t = &lx->ring[(lx->head + lx->count) % CORM__LOOKAHEAD];
        if (lx->count > 0) {
            const corm__token *last = &lx->ring[(lx->head + lx->count - 1) % CORM__LOOKAHEAD];
            if (last->kind == CORM__T_EOF || last->kind == CORM__T_ERROR) {
                *t = *last; /* sticky end */
                lx->count++;
                continue;
            }
        }
        lex_one(lx, t);
        lx->count++;
    }
    return &lx->ring[(lx->head + k) % CORM__LOOKAHEAD];
}

void corm__lex_next(corm__lexer *lx)
{
    const corm__token *t = corm__lex_peek(lx, 0);
    if (t->kind == CORM__T_EOF || t->kind == CORM__T_ERROR) return;
    lx->head = (lx->head + 1) % CORM__LOOKAHEAD;
    lx->count--;
}

const char *corm__tok_describe(const corm__token *t, char *out, size_t size)
{
    switch (t->kind) {
    case CORM__T_EOF: snprintf(out, size, "end of file"); break;
    case CORM__T_STRING: {
        char q[200];
        snprintf(out, size, "string \"%s\"", corm__quote(q, sizeof q, t->str, t->len, 40));
        break;
    }
    case CORM__T_ERROR: snprintf(out, size, "%s", t->str); break;
    default: snprintf(out, size, "'%.*s'", (int)(t->n > 60 ? 60 : t->n), t->p); break;
    }
    return out;
}

const char *corm__quote(char *out, size_t size, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    if (!size) return out;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[5];
        size_t m = 0;
        if (c == '"' || c == '\\') {
            tmp[m++] = '\\';
            tmp[m++] = (char)c;
        } else if (c == '\n') {
            tmp[m++] = '\\';
            tmp[m++] = 'n';
        } else if (c == '\t') {
            tmp[m++] = '\\';
            tmp[m++] = 't';
        } else if (c < 0x20 || c >= 0x7F) {
            tmp[m++] = '\\';
            tmp[m++] = 'x';
            tmp[m++] = hex[c >> 4];
            tmp[m++] = hex[c & 15];
        } else tmp[m++] = (char)c;
        if (k + m + 4 > size) break;
        memcpy(out + k, tmp, m);
        k += m;
    }
    if (n > max && k + 4 <= size) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}
