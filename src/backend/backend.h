/*
** backend.h - the driver interface.  A backend runs SQL text with bound
** parameters on one connection and hands back rows cell by cell.  It knows
** nothing of models or querysets (those live above it); the SQL it receives
** was written for its dialect by src/sql.
**
** Statements are prepared once per connection and cached by SQL text; a
** statement returned by query() is busy until finish() gives it back.
** Errors fill the caller's corm_error: rc, message, sqlstate, and the SQL.
*/
#ifndef CORM_BACKEND_H
#define CORM_BACKEND_H

#include "../core/core_int.h"

typedef struct corm__conn corm__conn;
typedef struct corm__stmt corm__stmt;

typedef struct corm__backend {
    const char *vendor; /* "sqlite", "postgresql" */
    int max_params;     /* most bound parameters in one statement */

    /* target: the url without its scheme ("path.db", ":memory:"), or for
    ** PostgreSQL what libpq takes (a postgresql:// URI or "key=value ...") */
    corm_rc (*open)(const char *target, corm__conn **out, corm_error *err);
    void (*close)(corm__conn *c);

    /* Prepare (or reuse from the cache) sql and bind params.  Params are
    ** scalars only: NULL, INT, FLOAT, BOOL, TEXT, BLOB (TEXT with n ==
    ** (size_t)-1 is NUL-terminated).  On success *out is ready to step.
    ** Lifetime: params and the text/blob memory they point to are bound
    ** without copying, so they must stay valid until finish(s); finish()
    ** drops every binding.  The number of params must equal the number of
    ** placeholders (else CORM_MISUSE), and sql must be one statement. */
    corm_rc (*query)(corm__conn *c, const char *sql, const corm_value *params, int nparams,
                     corm__stmt **out, corm_error *err);
    /* As query(), for a caller that has sql's length and hash already (the
    ** statement path hashes each text once): len == strlen(sql), hash
    ** corm__hash_fast(sql, len) as query() computes it.  The cache looks
    ** the text up by hash and takes a statement only when its text is the
    ** same, length and bytes: a hash that does not match the text costs a
    ** miss and a statement prepared again, never another text's statement
    ** (tests/integration/test_stmt_cache_key.c). */
    corm_rc (*query_hashed)(corm__conn *c, const char *sql, size_t len, uint64_t hash,
                            const corm_value *params, int nparams, corm__stmt **out,
                            corm_error *err);
    /* Next row: CORM_OK with *has_row set, or an error. */
    corm_rc (*step)(corm__stmt *s, bool *has_row, corm_error *err);
    int (*column_count)(corm__stmt *s);
    bool (*column_null)(corm__stmt *s, int i);
    int64_t (*column_int)(corm__stmt *s, int i);
    double (*column_double)(corm__stmt *s, int i);
    /* Valid until the next step/finish.  *len excludes the NUL. */
    const char *(*column_text)(corm__stmt *s, int i, size_t *len);
    const void *(*column_blob)(corm__stmt *s, int i, size_t *len);
    /* The value type of a cell (CORM_V_NULL/INT/FLOAT/TEXT/BLOB), for
    ** columns without a schema type (values, annotations, raw SQL). */
    corm_vtype (*column_type)(corm__stmt *s, int i);
    /* Optional: whether a FLOAT cell is an exact decimal whose column_text
    ** is exact (PostgreSQL numeric); NULL when the backend has none. */
    bool (*column_exact)(corm__stmt *s, int i);
    /* Optional (NULL: the calls above): cell i's NULL test and value in
    ** one call.  want CORM_V_INT, FLOAT, TEXT or BLOB reads a cell that is
    ** not NULL as column_int, _double, _text or _blob would (into u.i,
    ** u.f, u.s); CORM_V_NULL reads it as the type it has (column_type).
    ** Returns CORM_V_NULL for a NULL cell (out untouched), else the type
    ** read, also in out->type.  Text and blobs: as column_text/_blob.  Only
    ** for a backend without column_exact. */
    corm_vtype (*column_cell)(corm__stmt *s, int i, corm_vtype want, corm_value *out);
    /* The result column's name, valid until finish. */
    const char *(*column_name)(corm__stmt *s, int i);
    /* Optional: how many more rows step() will give, when the result is
    ** already whole in memory (a PostgreSQL result read at once), so a
    ** reader can size its arrays once; -1 when not known (a streamed
    ** cursor).  NULL: never known (SQLite computes rows as it steps). */
    int64_t (*row_count)(corm__stmt *s);
    /* Reset the statement and give it back to the cache. */
    void (*finish)(corm__stmt *s);

    /* Rows changed by the last INSERT/UPDATE/DELETE; id of the last insert. */
    int64_t (*changes)(corm__conn *c);
    int64_t (*last_insert_id)(corm__conn *c);
    /* One or more statements without parameters or rows. */
    corm_rc (*exec)(corm__conn *c, const char *sql, corm_error *err);
    bool (*in_transaction)(corm__conn *c);
    /* Whether the connection works, reconnecting a lost one (no statement
    ** of the caller is involved, so this is safe); CORM_CONN if it cannot.
    ** NULL: always fine (SQLite). */
    corm_rc (*ping)(corm__conn *c, corm_error *err);
    /* As query(), for a SELECT read a little at a time (the iterator):
    ** rows may come from the server fetch_rows at a time as step() needs
    ** them, and other statements may run on the connection in between.
    ** NULL: query() already streams (SQLite steps lazily). */
    corm_rc (*query_stream)(corm__conn *c, const char *sql, const corm_value *params, int nparams,
                            int fetch_rows, corm__stmt **out, corm_error *err);
} corm__backend;

extern const corm__backend corm__sqlite_backend;
extern const corm__backend corm__pg_backend;

/* PostgreSQL internals for tests, the pool and the benchmark; c must be a
** connection of corm__pg_backend. */
int corm__pg_cache_count(const corm__conn *c); /* prepared statements held */
/* Server calls the statement path made (PQexecParams, PQprepare,
** PQexecPrepared, DEALLOCATE): its round trips. */
int64_t corm__pg_server_calls(const corm__conn *c);
int corm__pg_backend_pid(const corm__conn *c); /* the server process */
/* The run on which the connection prepares a statement (its url's
** prepare_threshold, else CORM__PG_PREPARE_THRESHOLD; 0 never). */
int corm__pg_prepare_threshold(const corm__conn *c);
/* Results in binary (true) or text (false, the default: docs/postgresql.md). */
void corm__pg_set_binary(corm__conn *c, bool binary);

/* Statements held in c's prepared-statement cache (at most 256), for tests
** and diagnostics.  c must be a connection of corm__sqlite_backend. */
int corm__sqlite_cache_count(const corm__conn *c);

/* CORM_INVALID for parameter i (from 1), a decimal that is not a number
** (the write path names the field first; this catches filters). */
corm_rc corm__bad_decimal(int i, const char *sql, corm_error *err);

/* The backend for a url ("sqlite:..."); sets *target to the part after the
** scheme.  NULL with err filled (CORM_INVALID) for an unknown scheme. */
const corm__backend *corm__backend_for_url(const char *url, const char **target, corm_error *err);

/* sqlite3_exec, retried while the database is busy, for as long as the
** connection's busy timeout, in growing steps.  For setup statements:
** changing the journal mode takes the exclusive lock without calling
** SQLite's busy handler, so it fails at once while another process reads
** the file (two programs opening a new database together).  sql runs
** again whole: its statements must be safe to repeat. */
struct sqlite3;
int corm__sqlite_exec_waiting(struct sqlite3 *db, const char *sql);

/* The options of a SQLite url ("path.db?journal_mode=wal&mode=ro",
** sqlite_opts.c): the path (owned), the PRAGMA statements asked for, in
** url order, and the open mode.  Unknown or invalid options: CORM_INVALID
** naming the option and what it takes. */
typedef struct corm__sqlite_opts {
    char *path;
    char pragmas[8][64];
    int npragmas;
    bool journal_mode, synchronous; /* given in the url */
    bool read_only, no_create;      /* mode=ro / mode=rw */
} corm__sqlite_opts;
corm_rc corm__sqlite_opts_parse(const char *target, corm__sqlite_opts *o, corm_error *err);
void corm__sqlite_opts_free(corm__sqlite_opts *o);

/* corm's options of a PostgreSQL url (pg_opts.c), taken out of it before
** libpq reads the rest: conninfo is the url without them (owned).
** prepare_threshold: the run on which a cacheable statement is prepared
** on a connection (1 the first, 0 never); "?prepare_threshold=N" in a URI,
** "prepare_threshold=N" in the keyword form.  A bad value: CORM_INVALID
** saying what was wrong and what it takes. */
#define CORM__PG_PREPARE_THRESHOLD 5
#define CORM__PG_PREPARE_THRESHOLD_MAX 1000000
typedef struct corm__pg_opts {
    char *conninfo;
    int prepare_threshold;
    bool threshold_given;
} corm__pg_opts;
corm_rc corm__pg_opts_parse(const char *target, corm__pg_opts *o, corm_error *err);
void corm__pg_opts_free(corm__pg_opts *o);

/* The oldest SQLite corm runs on: 3.35.0 (RETURNING; FILTER on aggregates
** and NULLS FIRST/LAST since 3.30, window functions since 3.25).  corm
** writes those, never an emulation (docs/differences-from-django.md). */
#define CORM__SQLITE_MIN_VERSION 3035000
#define CORM__SQLITE_MIN_TEXT "3.35.0"
/* CORM_OK when the library (sqlite3_libversion_number(), its text) is
** new enough; otherwise CORM_DB with err naming both versions. */
corm_rc corm__sqlite_check_version(int number, const char *text, corm_error *err);

#endif
