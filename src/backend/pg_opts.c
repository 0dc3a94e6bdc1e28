/*
** pg_opts.c - corm's own options in a PostgreSQL url, taken out before
** libpq reads the rest (libpq refuses a parameter it does not know):
**
**   postgresql://user@host/db?sslmode=require&prepare_threshold=5
**   postgresql:host=/run/postgresql dbname=db prepare_threshold=5
**
**   prepare_threshold=N   the run on which a statement is prepared on the
**                         connection: it runs unnamed (PQexecParams) its
**                         first N-1 times and is prepared on its N-th (the
**                         JDBC driver's prepareThreshold; psycopg's
**                         prepare_threshold counts one less: its 5 prepares
**                         on the 6th run).  1 prepares every cacheable
**                         statement on its first run; 0 never prepares.
**                         Default CORM__PG_PREPARE_THRESHOLD (5).
**
** Everything else is handed to libpq as written, so a bad libpq option is
** still libpq's error.  The messages never repeat the url: it may hold a
** password.
*/
#include "backend.h"

#include <ctype.h>
#include <string.h>

#define THRESHOLD "prepare_threshold"
#define THRESHOLD_TAKES                                                               \
    "prepare_threshold takes the run on which a statement is prepared: 1 (its first " \
    "run) to 1000000, or 0 to never prepare (the default is 5)"

/* The value of prepare_threshold (n bytes at v) into *out. */
static corm_rc threshold_value(const char *v, size_t n, int *out, corm_error *err)
{
    if (n == 0) {
        corm__err_set(err, CORM_INVALID, "option %s in the PostgreSQL url has no value", THRESHOLD);
        corm__err_hint(err, "write it as prepare_threshold=5; " THRESHOLD_TAKES);
        return CORM_INVALID;
    }
    size_t sign = v[0] == '-', end = sign;
    while (end < n && isdigit((unsigned char)v[end])) end++;
    if (end != n || end == sign) {
        corm__err_set(err, CORM_INVALID, "option %s=%.*s in the PostgreSQL url is not a number",
                      THRESHOLD, (int)n, v);
        corm__err_hint(err, THRESHOLD_TAKES);
        return CORM_INVALID;
    }
    if (sign) {
        corm__err_set(err, CORM_INVALID, "option %s=%.*s in the PostgreSQL url is negative",
                      THRESHOLD, (int)n, v);
        corm__err_hint(err, THRESHOLD_TAKES);
        return CORM_INVALID;
    }
    long value = 0;
    for (size_t i = 0; i < n; i++) {
        value = value * 10 + (v[i] - '0');
        if (value > CORM__PG_PREPARE_THRESHOLD_MAX) {
            corm__err_set(err, CORM_INVALID, "option %s=%.*s in the PostgreSQL url is too big",
                          THRESHOLD, (int)n, v);
            corm__err_hint(err, "the most is %d; use prepare_threshold=0 to never prepare",
                           CORM__PG_PREPARE_THRESHOLD_MAX);
            return CORM_INVALID;
        }
    }
    *out = (int)value;
    return CORM_OK;
}

/* One option found (key kn bytes, value vn bytes): ours or not. */
static corm_rc take(const char *k, size_t kn, const char *v, size_t vn, corm__pg_opts *o,
                    bool *ours, corm_error *err)
{
    *ours = kn == strlen(THRESHOLD) && memcmp(k, THRESHOLD, kn) == 0;
    if (!*ours) return CORM_OK;
    if (o->threshold_given) {
        corm__err_set(err, CORM_INVALID, "option %s is given twice in the PostgreSQL url",
                      THRESHOLD);
        corm__err_hint(err, "give it once");
        return CORM_INVALID;
    }
    o->threshold_given = true;
    return threshold_value(v, vn, &o->prepare_threshold, err);
}

/* A URI: its query parameters after '?', '&'-separated, ours dropped (with
** the '?' when none is left). */
static corm_rc parse_uri(const char *target, corm__pg_opts *o, corm_error *err)
{
    const char *q = strchr(target, '?');
    char *w = o->conninfo;
    size_t head = q ? (size_t)(q - target) : strlen(target);
    memcpy(w, target, head);
    w += head;
    bool first = true;
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        bool ours;
        corm_rc rc = take(p, kn, eq ? eq + 1 : p + n, eq ? n - kn - 1 : 0, o, &ours, err);
        if (rc != CORM_OK) return rc;
        if (!ours && n) {
            *w++ = first ? '?' : '&';
            memcpy(w, p, n);
            w += n;
            first = false;
        }
        p = amp ? amp + 1 : NULL;
    }
    *w = '\0';
    return CORM_OK;
}

/* libpq's keyword form: "key = value" pairs separated by spaces, a value
** in single quotes when it has spaces (backslash escapes a quote or a
** backslash).  A text that does not read that way is copied as it is, for
** libpq to say what is wrong. */
static corm_rc parse_keywords(const char *target, corm__pg_opts *o, corm_error *err)
{
    char *w = o->conninfo;
    const char *p = target;
    for (;;) {
        const char *start = p;
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *k = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p)) p++;
        size_t kn = (size_t)(p - k);
        while (isspace((unsigned char)*p)) p++;
        if (*p != '=') {
            p = start; /* libpq's error */
            break;
        }
        p++;
        while (isspace((unsigned char)*p)) p++;
        const char *v = p;
        size_t vn;
        if (*p == '\'') {
            v = ++p;
            while (*p && *p != '\'') p += p[0] == '\\' && p[1] ? 2 : 1;
            vn = (size_t)(p - v);
            if (*p) p++;
        } else {
            while (*p && !isspace((unsigned char)*p)) p += p[0] == '\\' && p[1] ? 2 : 1;
            vn = (size_t)(p - v);
        }
        bool ours;
        corm_rc rc = take(k, kn, v, vn, o, &ours, err);
        if (rc != CORM_OK) return rc;
        if (!ours) {
            memcpy(w, start, (size_t)(p - start));
            w += p - start;
        }
    }
    strcpy(w, p);
    return CORM_OK;
}

corm_rc corm__pg_opts_parse(const char *target, corm__pg_opts *o, corm_error *err)
{
    memset(o, 0, sizeof *o);
    o->prepare_threshold = CORM__PG_PREPARE_THRESHOLD;
    o->conninfo = corm__malloc(strlen(target) + 1);
    if (!o->conninfo) {
        corm__err_set(err, CORM_NOMEM, "out of memory opening a PostgreSQL connection");
        return CORM_NOMEM;
    }
    bool uri = strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0;
    corm_rc rc = uri ? parse_uri(target, o, err) : parse_keywords(target, o, err);
    if (rc != CORM_OK) corm__pg_opts_free(o);
    return rc;
}

void corm__pg_opts_free(corm__pg_opts *o)
{
    corm__free(o->conninfo);
    o->conninfo = NULL;
}
