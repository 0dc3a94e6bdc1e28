/*
** raw.c - the portable placeholder style of raw SQL (corm_raw, corm_sql).
** Django writes %s for every parameter on every backend; corm does the
** same and translates the text for the dialect: each %s outside string
** literals, quoted identifiers and comments becomes the dialect's
** placeholder for the next parameter (? or $n), and %% becomes one %.
** Text with neither is native SQL and runs as written (? on SQLite, $1 on
** PostgreSQL), so a lone % (the modulo operator) keeps working there.
*/
#include "sql_int.h"

#include <string.h>

/* The end of the quoted run that starts at s (a quote char q): a doubled
** quote stays inside; backslash escapes inside E'...' strings. */
static const char *skip_quoted(const char *s, char q, bool backslash)
{
    for (s++; *s; s++) {
        if (backslash && *s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == q) {
            if (s[1] != q) return s + 1;
            s++;
        }
    }
    return s;
}

/* The end of what starts at s when it is a literal, an identifier or a
** comment (which translation copies untouched), or s itself. */
static const char *skip_opaque(const char *start, const char *s)
{
    bool e_string =
        (*s == '\'') && s > start && (s[-1] == 'E' || s[-1] == 'e') &&
        (s - 1 == start || !(s[-2] == '_' || (s[-2] >= 'a' && s[-2] <= 'z') ||
                             (s[-2] >= 'A' && s[-2] <= 'Z') || (s[-2] >= '0' && s[-2] <= '9')));
    if (*s == '\'' || *s == '"' || *s == '`') return skip_quoted(s, *s, e_string);
    if (*s == '[') { /* SQLite's [identifier] */
        const char *e = strchr(s, ']');
        return e ? e + 1 : s + strlen(s);
    }
    if (s[0] == '-' && s[1] == '-') {
        const char *e = strchr(s, '\n');
        return e ? e + 1 : s + strlen(s);
    }
    if (s[0] == '/' && s[1] == '*') {
        const char *e = strstr(s + 2, "*/");
        return e ? e + 2 : s + strlen(s);
    }
    return s;
}

corm_rc corm__sql_raw_translate(const char *sql, const corm__dialect *d, int nparams, corm_buf *b,
                                bool *translated, corm_error *err)
{
    *translated = false;
    /* first pass: is it portable text, and is it well formed? */
    int nmarks = 0;
    bool portable = false;
    const char *lone = NULL;
    for (const char *s = sql; *s;) {
        const char *e = skip_opaque(sql, s);
        if (e != s) {
            s = e;
            continue;
        }
        if (s[0] == '%' && (s[1] == 's' || s[1] == '%')) {
            portable = true;
            nmarks += s[1] == 's';
            s += 2;
            continue;
        }
        if (s[0] == '%' && !lone) lone = s;
        s++;
    }
    if (!portable) return CORM_OK;
    if (lone) {
        corm__err_set(err, CORM_INVALID,
                      "raw SQL uses %%s placeholders and has a lone %% at offset %d (\"%.12s\")",
                      (int)(lone - sql), lone);
        corm__err_hint(err, "in SQL written with %%s placeholders write %%%% for a literal %% "
                            "(the modulo operator, a LIKE pattern outside quotes)");
        return CORM_INVALID;
    }
    if (nmarks != nparams) {
        corm__err_set(err, CORM_INVALID, "raw SQL has %d %%s placeholder%s and %d parameter%s",
                      nmarks, nmarks == 1 ? "" : "s", nparams, nparams == 1 ? "" : "s");
        corm__err_hint(err, "pass one value per %%s, in order; %%s inside quotes or comments is "
                            "text, not a placeholder");
        return CORM_INVALID;
    }
    int n = 0;
    for (const char *s = sql; *s;) {
        const char *e = skip_opaque(sql, s);
        if (e != s) {
            corm__buf_add(b, s, (size_t)(e - s));
            s = e;
            continue;
        }
        if (s[0] == '%' && s[1] == 's') {
            corm__sql_param(b, d, ++n);
            s += 2;
        } else if (s[0] == '%' && s[1] == '%') {
            corm__buf_addc(b, '%');
            s += 2;
        } else {
            corm__buf_addc(b, *s++);
        }
    }
    *translated = true;
    return CORM_OK;
}
