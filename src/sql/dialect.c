/*
** dialect.c - the SQL dialect tables and the two primitives every SQL writer
** uses: identifier quoting and placeholders.
**
** SQLite column types follow what Django writes for the same model fields
** (django/db/backends/sqlite3/base.py data_types), so that a database made
** by corm can be opened by a Django program and the other way round:
** "integer NOT NULL PRIMARY KEY AUTOINCREMENT" for the id, "bigint" for
** foreign keys to it, "varchar(n)", "bool", "datetime", "text" for JSON.
*/
#include "dialect.h"

#include <stdio.h>
#include <string.h>

static const char *sqlite_column_type(const corm_field *f, char *buf, size_t size)
{
    switch (f->type) {
    case CORM_FT_INTEGER: return "integer";
    case CORM_FT_BIGINT: return "bigint";
    case CORM_FT_FLOAT: return "real";
    case CORM_FT_DECIMAL: return "decimal";
    case CORM_FT_BOOL: return "bool";
    case CORM_FT_CHAR:
        /* varchar(n) is documentation on SQLite (no length check): corm
        ** checks max_length on write, as Django's validators do. */
        if (f->max_length <= 0) return "text";
        if (!buf || size < 24) return NULL; /* callers pass 64 bytes */
        snprintf(buf, size, "varchar(%d)", f->max_length);
        return buf;
    case CORM_FT_EMAIL:
        /* Django's EmailField: max_length 254 (RFC 5321) unless given */
        if (!buf || size < 24) return NULL;
        snprintf(buf, size, "varchar(%d)", f->max_length > 0 ? f->max_length : 254);
        return buf;
    case CORM_FT_TEXT: return "text";
    case CORM_FT_DATE: return "date";
    case CORM_FT_DATETIME: return "datetime";
    case CORM_FT_JSON: return "text";
    case CORM_FT_BLOB: return "BLOB";
    case CORM_FT_FK:
    case CORM_FT_O2O:
        /* The type of the referenced id as Django's rel_db_type gives it
        ** for a BigAutoField: bigint. */
        return "bigint";
    }
    return NULL;
}

/* strftime() returns text; the CAST makes `published_date__year = 2024`
** compare integers, as Django's django_date_extract does. */
static void sqlite_date_part(corm_buf *b, const char *part, const char *col_sql)
{
    static const struct {
        const char *part, *fmt;
    } parts[] = {
        {"year", "%Y"}, {"month", "%m"},  {"day", "%d"},
        {"hour", "%H"}, {"minute", "%M"}, {"second", "%S"},
    };
    for (size_t i = 0; i < CORM__ARRAY_LEN(parts); i++) {
        if (strcmp(part, parts[i].part) == 0) {
            corm__buf_addf(b, "CAST(strftime('%s', %s) AS INTEGER)", parts[i].fmt, col_sql);
            return;
        }
    }
    if (strcmp(part, "week_day") == 0) {
        /* Django: 1 = Sunday .. 7 = Saturday */
        corm__buf_addf(b, "(CAST(strftime('%%w', %s) AS INTEGER) + 1)", col_sql);
        return;
    }
    if (strcmp(part, "quarter") == 0) {
        corm__buf_addf(b, "((CAST(strftime('%%m', %s) AS INTEGER) + 2) / 3)", col_sql);
        return;
    }
    /* The compiler only passes parts it knows; NULL never matches. */
    corm__buf_adds(b, "NULL");
}

void corm__sql_int_list(corm_buf *b, const int64_t *keys, size_t n, char open, char close)
{
    corm__buf_addc(b, open);
    for (size_t i = 0; i < n; i++) corm__buf_addf(b, i ? ",%lld" : "%lld", (long long)keys[i]);
    corm__buf_addc(b, close);
}

/* The parent keys of a prefetch level as a JSON array, for json_each. */
static void sqlite_keys_text(corm_buf *b, const int64_t *keys, size_t n)
{
    corm__sql_int_list(b, keys, n, '[', ']');
}

const corm__dialect corm__sqlite_dialect = {
    .vendor = "sqlite",
    .max_params = 32766, /* SQLITE_MAX_VARIABLE_NUMBER since 3.32 */
    .numbered_params = false,
    .has_ilike = false,
    .has_returning = true, /* RETURNING since 3.35; Debian 12 has 3.40 */
    .real_decimals = true,
    .like_escape = " ESCAPE '\\'",
    .column_type = sqlite_column_type,
    .date_part = sqlite_date_part,
    .true_literal = "1",
    .false_literal = "0",
    .pk_column_def = "integer NOT NULL PRIMARY KEY AUTOINCREMENT",
    .explain_prefix = "EXPLAIN QUERY PLAN ",
    .keys_open = " IN (SELECT value FROM json_each(",
    .keys_close = "))",
    .keys_text = sqlite_keys_text,
    .in_as_array = false,
    .insert_returning_id = false,
    .link_join = " CROSS JOIN ",
    .no_limit = " LIMIT -1",
    .nulls_first = NULL, /* SQLite's own order is the reference */
    .nulls_last = NULL,
    .text_cast = NULL,
    .bulk_update_rows = true,
    .cast_bulk_params = false,
};

const corm__dialect *corm__dialect_for(const char *vendor)
{
    if (!vendor) return NULL;
    if (strcmp(vendor, "sqlite") == 0) return &corm__sqlite_dialect;
    if (strcmp(vendor, "postgresql") == 0) return &corm__pg_dialect;
    return NULL;
}

void corm__sql_ident(corm_buf *b, const char *name)
{
    if (b->discard) return; /* nothing to write: skip the scan */
    if (!name) name = "";
    corm__buf_addc(b, '"');
    for (const char *p = name;;) {
        const char *q = strchr(p, '"');
        if (!q) {
            corm__buf_adds(b, p);
            break;
        }
        corm__buf_add(b, p, (size_t)(q - p) + 1); /* up to and with the quote */
        corm__buf_addc(b, '"');                   /* doubled */
        p = q + 1;
    }
    corm__buf_addc(b, '"');
}

void corm__sql_param(corm_buf *b, const corm__dialect *d, int n)
{
    if (!d || !d->numbered_params) {
        corm__buf_addc(b, '?');
        return;
    }
    /* "$n" by hand: a multi-row statement writes tens of thousands, and
    ** formatting them with vsnprintf cost more than the rest of its text */
    char digits[16];
    size_t i = sizeof digits;
    unsigned u = n > 0 ? (unsigned)n : 0;
    do {
        digits[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    digits[--i] = '$';
    corm__buf_add(b, digits + i, sizeof digits - i);
}
