/*
** dialect.h - what differs between SQL dialects, as data.  The compiler and
** the migrator write SQL through this table; they never ask a connection.
*/
#ifndef CORM_DIALECT_H
#define CORM_DIALECT_H

#include "../core/core_int.h"

typedef struct corm__dialect {
    const char *vendor;          /* "sqlite", "postgresql" */
    int max_params;              /* bound parameters per statement */
    bool numbered_params;        /* $1, $2 (PostgreSQL) vs ? (SQLite) */
    bool has_ilike;              /* ILIKE for i* lookups */
    bool has_returning;          /* INSERT ... RETURNING id */
    const char *like_escape;     /* " ESCAPE '\\'" */
    /* SQL column type of a field type ("TEXT", "varchar(%d)") */
    const char *(*column_type)(const corm_field *f, char *buf, size_t size);
    /* Append an expression extracting year/month/day (part "year") of col. */
    void (*date_part)(corm_buf *b, const char *part, const char *col_sql);
    const char *true_literal, *false_literal;
    const char *pk_column_def;   /* the id column: "INTEGER PRIMARY KEY AUTOINCREMENT" */
} corm__dialect;

extern const corm__dialect corm__sqlite_dialect;

/* The dialect of a vendor name, or NULL. */
const corm__dialect *corm__dialect_for(const char *vendor);

/* Append an identifier, double-quoted with embedded quotes doubled. */
void corm__sql_ident(corm_buf *b, const char *name);
/* Append a placeholder for parameter number n (1-based). */
void corm__sql_param(corm_buf *b, const corm__dialect *d, int n);

#endif
