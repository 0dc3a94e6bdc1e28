/*
** sqlite_opts.c - the options of a SQLite url: "sqlite:PATH?name=value&...".
**
**   journal_mode=delete|truncate|persist|memory|wal|off   (PRAGMA journal_mode)
**   synchronous=off|normal|full|extra                     (PRAGMA synchronous)
**   foreign_keys=on|off, busy_timeout=MS, cache_size=N, mmap_size=BYTES,
**   temp_store=default|file|memory                        (the same pragmas)
**   mode=ro|rw|rwc     read-only, read-write (the file must exist), or
**                      read-write and created when missing (the default)
**
** Without journal_mode, a database corm creates (the file is new or empty)
** is switched to WAL, which is stored in the file; an existing file keeps
** the mode it has, so a file another program also opens is never changed
** behind its back.  synchronous is NORMAL when the file is in WAL mode (safe
** there), SQLite's default (FULL) otherwise, unless the url says.
** Anything else after '?' is refused with the list of what is known.
*/
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct opt_def {
    const char *name;
    const char *values; /* "a|b|c", or NULL: an integer */
} opt_def;

static const opt_def defs[] = {
    {"journal_mode", "delete|truncate|persist|memory|wal|off"},
    {"synchronous", "off|normal|full|extra"},
    {"foreign_keys", "on|off"},
    {"busy_timeout", NULL},
    {"cache_size", NULL},
    {"mmap_size", NULL},
    {"temp_store", "default|file|memory"},
    {"mode", "ro|rw|rwc"},
};

#define KNOWN                                                                        \
    "journal_mode, synchronous, foreign_keys, busy_timeout, cache_size, mmap_size, " \
    "temp_store, mode"

/* v (n bytes) is one of the '|'-separated words of list */
static bool in_list(const char *list, const char *v, size_t n)
{
    for (const char *p = list;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return true;
        if (!bar) return false;
        p = bar + 1;
    }
}

static bool is_integer(const char *v, size_t n)
{
    size_t i = (n && v[0] == '-') ? 1 : 0;
    if (i == n || n > 20) return false;
    for (; i < n; i++)
        if (v[i] < '0' || v[i] > '9') return false;
    return true;
}

/* Check one "name=value" (n bytes) and record it in o. */
static corm_rc parse_one(const char *url, const char *p, size_t n, corm__sqlite_opts *o,
                         corm_error *err)
{
    const char *eq = memchr(p, '=', n);
    size_t nlen = eq ? (size_t)(eq - p) : n;
    const opt_def *d = NULL;
    for (size_t i = 0; i < CORM__ARRAY_LEN(defs); i++)
        if (strlen(defs[i].name) == nlen && strncmp(defs[i].name, p, nlen) == 0) d = &defs[i];
    if (!d) {
        corm__err_set(err, CORM_INVALID, "unknown option '%.*s' in SQLite url '%s'", (int)nlen, p,
                      url);
        corm__err_hint(err, "the options are %s (\"sqlite:app.db?journal_mode=wal\")", KNOWN);
        return CORM_INVALID;
    }
    const char *v = eq ? eq + 1 : "";
    size_t vlen = eq ? n - nlen - 1 : 0;
    bool ok = d->values ? in_list(d->values, v, vlen) : is_integer(v, vlen);
    if (!ok) {
        corm__err_set(err, CORM_INVALID, "option %s=%.*s in SQLite url '%s' is not valid", d->name,
                      (int)vlen, v, url);
        corm__err_hint(err, "%s takes %s", d->name,
                       d->values ? d->values : "an integer (e.g. busy_timeout=5000)");
        return CORM_INVALID;
    }
    if (strcmp(d->name, "mode") == 0) {
        o->read_only = vlen == 2 && v[1] == 'o';
        o->no_create = vlen == 2;
        return CORM_OK;
    }
    if (strcmp(d->name, "journal_mode") == 0) o->journal_mode = true;
    if (strcmp(d->name, "synchronous") == 0) o->synchronous = true;
    if (o->npragmas == CORM__ARRAY_LEN(o->pragmas)) {
        corm__err_set(err, CORM_INVALID, "too many options in SQLite url '%s'", url);
        corm__err_hint(err, "give each option once");
        return CORM_INVALID;
    }
    snprintf(o->pragmas[o->npragmas++], sizeof o->pragmas[0], "PRAGMA %.*s=%.*s", (int)nlen, p,
             (int)vlen, v);
    return CORM_OK;
}

corm_rc corm__sqlite_opts_parse(const char *target, corm__sqlite_opts *o, corm_error *err)
{
    memset(o, 0, sizeof *o);
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    o->path = corm__malloc(plen + 1);
    if (!o->path) {
        corm__err_set(err, CORM_NOMEM, "out of memory opening '%s'", target);
        return CORM_NOMEM;
    }
    memcpy(o->path, target, plen);
    o->path[plen] = '\0';
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        corm_rc rc = n ? parse_one(target, p, n, o, err) : CORM_OK;
        if (rc != CORM_OK) {
            corm__sqlite_opts_free(o);
            return rc;
        }
        p = amp ? amp + 1 : NULL;
    }
    return CORM_OK;
}

void corm__sqlite_opts_free(corm__sqlite_opts *o)
{
    corm__free(o->path);
    o->path = NULL;
}
