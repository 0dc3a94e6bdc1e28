/*
** dialect.h - what differs between SQL dialects, as data.  The compiler and
** the migrator write SQL through this table; they never ask a connection.
*/
#ifndef CORM_DIALECT_H
#define CORM_DIALECT_H

#include "../core/core_int.h"

typedef struct corm__dialect {
    const char *vendor;      /* "sqlite", "postgresql" */
    int max_params;          /* bound parameters per statement */
    bool numbered_params;    /* $1, $2 (PostgreSQL) vs ? (SQLite) */
    bool has_ilike;          /* ILIKE for i* lookups */
    bool has_returning;      /* INSERT ... RETURNING id */
    const char *like_escape; /* " ESCAPE '\\'" */
    /* SQL column type of a field type ("TEXT", "varchar(%d)") */
    const char *(*column_type)(const corm_field *f, char *buf, size_t size);
    /* Append an expression extracting year/month/day (part "year") of col. */
    void (*date_part)(corm_buf *b, const char *part, const char *col_sql);
    const char *true_literal, *false_literal;
    const char *pk_column_def;  /* the id column: "INTEGER PRIMARY KEY AUTOINCREMENT" */
    const char *explain_prefix; /* "EXPLAIN QUERY PLAN " */

    /* Where SQLite and PostgreSQL write the same thing differently. */
    /* A list of parent keys (prefetch) as ONE parameter: key_sql, then
    ** keys_open, the placeholder, keys_close; keys_text writes the
    ** parameter's text.  SQLite: ` IN (SELECT value FROM json_each(?))`
    ** with "[1,2]"; PostgreSQL: ` = ANY($1)` with the int8[] "{1,2}". */
    const char *keys_open, *keys_close;
    void (*keys_text)(corm_buf *b, const int64_t *keys, size_t n);
    /* `in` lookups as `col = ANY($n)` with one array parameter (text
    ** written by corm__sql_array_text) instead of one placeholder per
    ** value: one statement text, so one prepared plan, for any length. */
    bool in_as_array;
    /* INSERT ... RETURNING "id" gives the new row's id; else the backend's
    ** last_insert_id after the INSERT (SQLite: sqlite3_last_insert_rowid). */
    bool insert_returning_id;
    /* The join from the link table to the target of an m2m prefetch; it
    ** must keep the link table (and its index on the parent column)
    ** driving: " CROSS JOIN " on SQLite, " INNER JOIN " elsewhere. */
    const char *link_join;
    /* What stands for "no limit" before an OFFSET without a LIMIT
    ** (" LIMIT -1"), or NULL when OFFSET may stand alone. */
    const char *no_limit;
    /* Appended to an ORDER BY term (and index column) that may be NULL so
    ** NULLs sort as on SQLite: first ascending, last descending.  NULL
    ** when that is the dialect's own order. */
    const char *nulls_first, *nulls_last;
    /* The CAST type that makes a date/time/JSON column text for LIKE, or
    ** NULL when LIKE takes any column (SQLite). */
    const char *text_cast;
    /* Foreign keys as ALTER TABLE ... ADD CONSTRAINT once every table
    ** exists (PostgreSQL checks the referenced table at CREATE TABLE),
    ** instead of REFERENCES in the column. */
    bool fk_after_tables;
    /* After rows were inserted with ids of their own, the statement that
    ** moves the table's id generator past them (PostgreSQL: the identity
    ** sequence ignores explicit ids; SQLite's AUTOINCREMENT follows them),
    ** so the next generated id is new, as on SQLite.  NULL: not needed. */
    void (*sync_ids)(corm_buf *b, const char *table);
    /* bulk_update as one prepared single-row UPDATE executed per object
    ** in a transaction (SQLite: no round trips, measured faster than CASE
    ** WHEN batches, docs/writes.md) instead of UPDATE ... CASE per batch. */
    bool bulk_update_rows;
    /* bulk_update's CASE results and VALUES rows are parameters whose type
    ** nothing in the statement fixes: CAST them to the column type
    ** (PostgreSQL would take them as text), or leave them (SQLite). */
    bool cast_bulk_params;
    /* Decimals are stored as REAL (SQLite's NUMERIC affinity): Sum and Avg
    ** over a decimal field add its values as integers of units, exactly
    ** (docs/schema.md, "Decimals"), instead of adding doubles. */
    bool real_decimals;
    /* bulk_create and bulk_update bind each column as ONE array parameter
    ** and read the rows from unnest() (`INSERT ... SELECT ... FROM
    ** unnest(CAST($1 AS text[]), ...)`): one statement text, one prepared
    ** plan and a few parameters for any number of rows (PostgreSQL), in
    ** place of multi-row VALUES lists. */
    bool bulk_arrays;
} corm__dialect;

extern const corm__dialect corm__sqlite_dialect;
extern const corm__dialect corm__pg_dialect;

/* Append the text of a PostgreSQL array of n values (int, float, bool,
** text or NULL; "{1,2}", "{\"a\",NULL}").  False when a value cannot go
** into one (a blob, a nested list). */
bool corm__sql_array_text(corm_buf *b, const corm_value *vals, size_t n);
/* Append one element of a PostgreSQL array literal: NULL, a number, t/f,
** a double-quoted string (backslash before '"' and '\\'), a blob as
** bytea's quoted hex input.  False when v cannot be one (an invalid
** decimal, text holding NUL, a list). */
bool corm__sql_array_elem(corm_buf *b, const corm_value *v);

/* The dialect of a vendor name, or NULL. */
const corm__dialect *corm__dialect_for(const char *vendor);

/* Append an identifier, double-quoted with embedded quotes doubled. */
void corm__sql_ident(corm_buf *b, const char *name);
/* Append integers as open 1,2,3 close: a JSON array ('[' ']') or a
** PostgreSQL array literal ('{' '}'). */
void corm__sql_int_list(corm_buf *b, const int64_t *keys, size_t n, char open, char close);
/* Append a placeholder for parameter number n (1-based). */
void corm__sql_param(corm_buf *b, const corm__dialect *d, int n);

/* The text search configuration of the `search` lookup and of the
** PostgreSQL search index (they must match for the planner to use it):
** words lowercased, no stemming or stop words, as SQLite's FTS5 unicode61. */
#define CORM__SEARCH_CONFIG "simple"

#endif
