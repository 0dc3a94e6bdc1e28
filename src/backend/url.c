/*
** url.c - database urls to backends.
**
**   sqlite:PATH          a file, relative to the working directory or absolute
**   sqlite://PATH        the same ("sqlite:///tmp/x.db" is /tmp/x.db)
**   sqlite::memory:      a private in-memory database (also sqlite://:memory:)
**   postgresql://user:pass@host:port/db?opt=val   (and postgres://): libpq's
**                        URI, handed to libpq whole
**   postgresql:host=... dbname=...   libpq's keyword form after the scheme
**
** The target handed to the backend is a suffix of the url, so nothing is
** allocated here and *target lives as long as the url.
*/
#include "backend.h"

#include <string.h>

#define ACCEPTED_FORMS                                                                     \
    "use \"sqlite:path/to/file.db\", \"sqlite:///absolute/path.db\", \"sqlite::memory:\" " \
    "or \"postgresql://user@host:port/dbname\""

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

const corm__backend *corm__backend_for_url(const char *url, const char **target, corm_error *err)
{
    if (target) *target = NULL;
    if (!url || !url[0]) {
        corm__err_set(err, CORM_INVALID, "no database url given");
        corm__err_hint(err, ACCEPTED_FORMS);
        return NULL;
    }
    if (has_prefix(url, "sqlite:")) {
        const char *rest = url + strlen("sqlite:");
        if (has_prefix(rest, "//")) rest += 2;
        if (!rest[0]) {
            /* SQLite would make a private temporary file of "": never what
            ** was meant. */
            corm__err_set(err, CORM_INVALID, "database url '%s' names no file", url);
            corm__err_hint(err, ACCEPTED_FORMS);
            return NULL;
        }
        if (target) *target = rest;
        return &corm__sqlite_backend;
    }
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) {
        if (target) *target = url;
        return &corm__pg_backend;
    }
    if (has_prefix(url, "postgresql:") || has_prefix(url, "postgres:")) {
        const char *rest = strchr(url, ':') + 1;
        if (!strchr(rest, '=')) {
            corm__err_set(err, CORM_INVALID,
                          "database url '%s' is not a PostgreSQL "
                          "connection string",
                          url);
            corm__err_hint(err, "use \"postgresql://user@host:port/dbname\" or "
                                "\"postgresql:host=HOST dbname=DB user=USER\"");
            return NULL;
        }
        if (target) *target = rest;
        return &corm__pg_backend;
    }
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    if (!colon || (slash && slash < colon)) {
        /* A bare path: say exactly what to write instead. */
        corm__err_set(err, CORM_INVALID, "database url '%s' has no scheme", url);
        corm__err_hint(err, "did you mean \"sqlite:%s\"? (%s)", url, ACCEPTED_FORMS);
        return NULL;
    }
    corm__err_set(err, CORM_INVALID, "unknown database url scheme in '%s'", url);
    corm__err_hint(err, ACCEPTED_FORMS);
    return NULL;
}

corm_rc corm__bad_decimal(int i, const char *sql, corm_error *err)
{
    corm__err_set(err, CORM_INVALID, "parameter %d is a decimal that is not a number", i);
    corm__err_hint(err, "check the text given to corm_dec (corm_dec_valid) and "
                        "arithmetic that overflowed 18 digits");
    corm__err_sql(err, sql);
    return CORM_INVALID;
}
