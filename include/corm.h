/*
** corm.h - a Django-style ORM for C.  The only header applications include.
**
** Threads: corm has no mutable global state.  A corm_db and everything
** reached through it (querysets, results, objects) is used by one thread at a
** time; different corm_dbs run concurrently.  A generated schema is immutable
** and shareable.  An evaluated result is read-only and may be read from
** several threads, but its lazy accessors query its corm_db and follow that
** rule.  Event sinks shared between dbs must be thread-safe.
**
** Ownership: _open/_new/_clone return owned objects for _close/_free; every
** destructor accepts NULL.  Getters return borrowed pointers valid until the
** owner dies.  Strings passed in are copied.
**
** Errors - one model.  An error is a corm_error {rc, message, hint, sql,
** sqlstate, file, line, constraint...}, kept on the object the call was
** made on (no global, no errno).  Where each call reports:
**
**   the call                                   its error
**   ----------------------------------------   ------------------------------
**   corm_open, corm_schema_parse(_file),       the caller's corm_error *err
**   corm_pool_open, corm_pool_acquire          (no object exists yet)
**   a queryset's builders (filter, order_by,   corm_qs_error(qs), sticky: the
**   select_related, ...)                       first error wins, later calls
**                                              are no-ops, evaluation says it
**   a queryset's evaluation (foreach, eval,    corm_qs_error(qs) (sticky), and
**   count, exists, get, first, values,         corm_db_error(db) of the db it
**   iterator, explain) and writes (update,     was made on (it is a call on
**   qs_delete, get_or_create, ...)             db too) until db's next call
**   a call taking a corm_db (save, create,     corm_db_error(db)
**   delete, bulk, m2m_add, begin/commit,
**   atomic, exec, migrate, attach, ping,
**   scope_set, prefetch_objects, ...)
**   an object's accessor: book_author(b),      corm_db_error(db) of the db the
**   corm_related_set_at, corm_load_field,      object's queryset was made on -
**   corm_field                                 never an attached replica's,
**                                              even when the rows came from it
**   instrumentation settings (corm_instr_log)  corm_instr_error(in)
**   what fails like a test assertion: strict   the failure hook of the db
**   mode's refused N+1, an accessor of an      (corm_instr_on_fail; default:
**   object corm did not load (no db to report  print, abort); only if it
**   on), CORM_ASSERT_NUM_QUERIES               returns: NULL as above
**
** Findings of the N+1 detector and budgets are not errors: they go to
** captures, the log and corm_instr_on_finding (corm/instr.h).
**
** The entry rule (sqlite3's): every call that takes a corm_db clears that
** db's error on entry, and so does every call that runs statements for a
** queryset or an object of it (evaluation, accessors): corm_db_error(db)
** describes the last call - CORM_OK after a success, whatever failed
** before.  The getters that cannot fail leave it (corm_db_error,
** corm_db_vendor, corm_db_schema, corm_db_alias, corm_db_instr,
** corm_query_count, corm_tx_depth).
**
** Return values: calls that only succeed or fail return corm_rc (and are
** CORM_WARN_UNUSED); a count returns int64_t, -1 on error; an object or
** list returns NULL on error.  Accessors return NULL only for a NULL
** foreign key or a missing reverse one-to-one (with the db's rc CORM_OK);
** every other failure is on the db or went to the failure hook.
**
** Misuse (a NULL handle, a wrong argument, a call in the wrong state)
** returns CORM_MISUSE with a message saying what to do, in every build:
** it is the caller's bug, reported like any error (and tested so).  Debug
** builds (-DCORM_DEBUG, the `make test` build) also abort on a broken
** internal invariant (CORM_ALWAYS / CORM_NEVER in src/), which is corm's
** bug; a misuse never aborts.
*/
#ifndef CORM_H
#define CORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <corm/version.h>
#include <corm/model.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CORM_API __attribute__((visibility("default")))
#define CORM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CORM_API
#define CORM_WARN_UNUSED
#endif

/* ------------------------------------------------------------------ errors */

/* Return codes.  Append only: values never change between versions. */
#define CORM_RC_MAP(XX)                               \
    XX(OK, 0, "success")                              \
    XX(NOMEM, 1, "out of memory")                     \
    XX(MISUSE, 2, "API misuse")                       \
    XX(INVALID, 3, "invalid argument")                \
    XX(SCHEMA, 4, "unknown model, field or relation") \
    XX(TYPE, 5, "wrong value type")                   \
    XX(NOTFOUND, 6, "object does not exist")          \
    XX(MULTIPLE, 7, "more than one object returned")  \
    XX(CONSTRAINT, 8, "constraint violated")          \
    XX(BUSY, 9, "database is busy")                   \
    XX(CONN, 10, "connection failed or lost")         \
    XX(DB, 11, "database error")                      \
    XX(IO, 12, "input/output error")

typedef enum corm_rc {
#define CORM__RC_ENUM(name, val, msg) CORM_##name = val,
    CORM_RC_MAP(CORM__RC_ENUM)
#undef CORM__RC_ENUM
} corm_rc;

/* "CORM_NOTFOUND" and "object does not exist"; never NULL. */
CORM_API const char *corm_rc_name(corm_rc rc);
CORM_API const char *corm_rc_str(corm_rc rc);

/*
** corm_error - a failure, filled by the object that failed (or, before an
** object exists, in a caller-owned struct).  Fixed buffers: reportable even
** out of memory.  Strings are always NUL-terminated, empty when unknown.
*/
/* Which constraint a CORM_CONSTRAINT error is about (corm_error.constraint). */
typedef enum corm_ckind {
    CORM_CK_NONE,        /* not a constraint error, or not known */
    CORM_CK_UNIQUE,      /* unique field, unique (a, b), primary key */
    CORM_CK_NOT_NULL,    /* a field without `null` got NULL */
    CORM_CK_FOREIGN_KEY, /* an fk names a row that does not exist */
    CORM_CK_CHECK,       /* a CHECK constraint */
    CORM_CK_PROTECT,     /* delete refused: on_delete=protect */
    CORM_CK_RESTRICT     /* delete refused: on_delete=restrict */
} corm_ckind;

typedef struct corm_error {
    corm_rc rc;
    char message[512]; /* what was wrong */
    char hint[512];    /* what to do about it */
    char sql[1024];    /* the statement that failed, truncated */
    char sqlstate[6];  /* PostgreSQL SQLSTATE, or "" */
    char file[256];    /* schema file, or the C file of the call */
    int line, col;
    /* CORM_CONSTRAINT from a write: the constraint, by kind and name
    ** ("book.isbn", "Order.product" for a protect), the offending values
    ** ("isbn='9780000000001'", or the protected objects), and for bulk
    ** writes the 1-based position of the offending object in the call
    ** (0 when not known).  Empty / CORM_CK_NONE otherwise. */
    corm_ckind constraint;
    char constraint_name[128];
    char values[256];
    int64_t row;
} corm_error;

/* "file:line:col: message\nhint: ...\nsql: ..." into buf (the parts that
** are known), truncated to size.  Returns buf. */
CORM_API const char *corm_error_format(const corm_error *err, char *buf, size_t size);

/* ------------------------------------------------------------- call sites */

/* Where in the application a query was caused.  Macros below record it. */
typedef struct corm_site {
    const char *file;
    int line;
    const char *func;
} corm_site;

#define CORM_SITE ((corm_site){__FILE__, __LINE__, __func__})

/* ----------------------------------------------------------------- values */

typedef enum corm_vtype {
    CORM_V_NULL,
    CORM_V_INT,
    CORM_V_FLOAT,
    CORM_V_BOOL,
    CORM_V_TEXT,
    CORM_V_BLOB,
    CORM_V_INTS,   /* array of int64_t, for `in` */
    CORM_V_TEXTS,  /* array of strings, for `in` */
    CORM_V_LIST,   /* array of corm_value, for `in` and `range` */
    CORM_V_DECIMAL /* an exact decimal (corm/decimal.h) */
} corm_vtype;

/* An exact decimal: units / 10^scale, so 12.30 is {1230, 2}.  Helpers
** and rules in <corm/decimal.h>; {0} is zero. */
typedef struct corm_decimal {
    int64_t units; /* at most 18 digits */
    int scale;     /* digits after the point, 0..18; -1: not a number */
} corm_decimal;

/* A value to bind.  Borrowed: corm copies what it keeps. */
typedef struct corm_value {
    corm_vtype type;
    union {
        int64_t i;
        double f;
        bool b;
        struct {
            const char *p;
            size_t n;
        } s; /* TEXT, BLOB */
        struct {
            const int64_t *p;
            size_t n;
        } ints; /* INTS */
        struct {
            const char *const *p;
            size_t n;
        } texts; /* TEXTS */
        struct {
            const struct corm_value *p;
            size_t n;
        } list;
        corm_decimal d; /* DECIMAL */
    } u;
} corm_value;

static inline corm_value corm_null(void)
{
    corm_value v = {CORM_V_NULL, {0}};
    return v;
}
static inline corm_value corm_int(int64_t i)
{
    corm_value v = {CORM_V_INT, {0}};
    v.u.i = i;
    return v;
}
static inline corm_value corm_float(double f)
{
    corm_value v = {CORM_V_FLOAT, {0}};
    v.u.f = f;
    return v;
}
static inline corm_value corm_bool(bool b)
{
    corm_value v = {CORM_V_BOOL, {0}};
    v.u.b = b;
    return v;
}
/* NUL-terminated text; NULL gives corm_null(). */
static inline corm_value corm_text(const char *s)
{
    corm_value v = {CORM_V_NULL, {0}};
    if (s) {
        v.type = CORM_V_TEXT;
        v.u.s.p = s;
        v.u.s.n = (size_t)-1;
    }
    return v;
}
static inline corm_value corm_blobv(const void *p, size_t n)
{
    corm_value v = {CORM_V_BLOB, {0}};
    v.u.s.p = (const char *)p;
    v.u.s.n = n;
    return v;
}
static inline corm_value corm_ints(const int64_t *p, size_t n)
{
    corm_value v = {CORM_V_INTS, {0}};
    v.u.ints.p = p;
    v.u.ints.n = n;
    return v;
}
static inline corm_value corm_texts(const char *const *p, size_t n)
{
    corm_value v = {CORM_V_TEXTS, {0}};
    v.u.texts.p = p;
    v.u.texts.n = n;
    return v;
}
static inline corm_value corm_vlist(const corm_value *p, size_t n)
{
    corm_value v = {CORM_V_LIST, {0}};
    v.u.list.p = p;
    v.u.list.n = n;
    return v;
}
/* corm_range(lo, hi): both ends included, as Django's __range. */
#define corm_range(lo, hi) corm_vlist((const corm_value[]){(lo), (hi)}, 2)

/* --------------------------------------------------------------- database */

typedef struct corm_db corm_db;

/*
** corm_open - connect to a database for one schema.
**   url     "sqlite:path/to/file.db", "sqlite::memory:",
**           "postgresql://user:password@host:port/dbname?sslmode=...",
**           "postgresql:host=... dbname=..." (libpq's forms); copied
**   schema  a generated schema (e.g. &bookstore_schema); borrowed, must
**           outlive the db; NULL is allowed for raw use (no querysets)
**   err     filled on failure; may be NULL
** SQLite: WAL journal, foreign keys on, 5 s busy timeout.  PostgreSQL:
** TimeZone UTC, DateStyle ISO, client_encoding UTF8 (docs/postgresql.md).
** Returns NULL on failure (CORM_INVALID bad url, CORM_CONN cannot open).
*/
CORM_API corm_db *corm_open(const char *url, const corm_schema *schema, corm_error *err);
/* Closes db.  Free its querysets first: objects loaded through db must not
** be used after corm_close (their accessors and the N+1 bookkeeping of
** their reads refer to db), as sqlite3 statements before sqlite3_close. */
CORM_API void corm_close(corm_db *db);

/* The error of the last call on db (see "Errors" above: saves, raw
** statements, accessors of db's objects...); rc CORM_OK when it
** succeeded.  Borrowed, valid until the next call on db.  Never NULL: for
** a NULL db, a static CORM_MISUSE "no database". */
CORM_API const corm_error *corm_db_error(const corm_db *db);
CORM_API const corm_schema *corm_db_schema(const corm_db *db);
/* "sqlite" or "postgresql". */
CORM_API const char *corm_db_vendor(const corm_db *db);

/* Run SQL with no parameters and no result rows (DDL, PRAGMA). */
CORM_API CORM_WARN_UNUSED corm_rc corm_exec_at(corm_db *db, const char *sql, corm_site site);
#define corm_exec(db, sql) corm_exec_at((db), (sql), CORM_SITE)

/* ------------------------------------------------------------ querysets */

typedef struct corm_qs corm_qs;
typedef struct corm_q corm_q;

/* The objects of a to-many relation: borrowed from the owning result. */
typedef struct corm_list {
    size_t n;
    void **items;
} corm_list;

/*
** corm_all(db, Model) - a lazy queryset over every row of Model.  No query
** runs until evaluation (foreach, count, get, ...).  Errors of the builder
** calls below are sticky on the qs: the first wins, later calls are no-ops,
** evaluation reports it through corm_qs_error.
** Returns NULL only when out of memory.
*/
#define corm_all(db, Model) corm_qs_new_at((db), &Model##_model, CORM_SITE)
CORM_API corm_qs *corm_qs_new_at(corm_db *db, const corm_model *model, corm_site site);
/* An unevaluated copy of the builder state (not the result). */
CORM_API corm_qs *corm_qs_clone(const corm_qs *qs);
/* Frees the qs, its result and every object hydrated into it. */
CORM_API void corm_qs_free(corm_qs *qs);

/* filter(lookup=value): "title__icontains", "author__country__name",
** "published_date__year", "pk".  Lookups: exact iexact contains icontains
** startswith istartswith endswith iendswith gt gte lt lte in isnull range
** search (full text: needs `index (f) using search`) year month day. */
CORM_API void corm_filter(corm_qs *qs, const char *lookup, corm_value v);
CORM_API void corm_exclude(corm_qs *qs, const char *lookup, corm_value v);

/* Q trees, allocated in qs and freed with it. */
CORM_API corm_q *corm_q_new(corm_qs *qs, const char *lookup, corm_value v);
CORM_API corm_q *corm_q_and(corm_qs *qs, corm_q *a, corm_q *b);
CORM_API corm_q *corm_q_or(corm_qs *qs, corm_q *a, corm_q *b);
CORM_API corm_q *corm_q_not(corm_qs *qs, corm_q *a);
CORM_API void corm_filter_q(corm_qs *qs, corm_q *q);
CORM_API void corm_exclude_q(corm_qs *qs, corm_q *q);

/* order_by("-published_date", "title", "author__name"); replaces any
** earlier ordering, as Django.  No arguments: corm_order_by_v(qs, NULL)
** clears the default ordering. */
#define corm_order_by(qs, ...) corm_order_by_v((qs), (const char *const[]){__VA_ARGS__, NULL})
CORM_API void corm_order_by_v(corm_qs *qs, const char *const *fields);

/* select_related("author", "author__country"): follow forward fk and
** one-to-one in the same query (LEFT JOIN when nullable). */
#define corm_select_related(qs, ...) \
    corm_select_related_v((qs), (const char *const[]){__VA_ARGS__, NULL})
CORM_API void corm_select_related_v(corm_qs *qs, const char *const *paths);

/*
** corm_prefetch_related(qs, "books", "books__genres") - load to-many (and
** to-one) relations of every result object with one extra query per
** relation level, stitched by key in memory.  Overlapping lookups share
** their levels ("books" + "books__genres" is 3 queries in all).
**   Errors: CORM_SCHEMA unknown relation (with the model's relations).
**   Cost: 1 + one query per level, whatever the number of parents (the
**   parent keys travel as one parameter).  Memory: qs's arena.
** Asked after evaluation it does nothing, as in Django (counted for the
** N+1 tooling: corm_qs_late_eager).
*/
#define corm_prefetch_related(qs, ...) \
    corm_prefetch_related_v((qs), (const char *const[]){__VA_ARGS__, NULL})
CORM_API void corm_prefetch_related_v(corm_qs *qs, const char *const *paths);

/*
** corm_prefetch(qs, path, inner, to_attr) - Django's Prefetch object.
**   inner    a queryset over the relation's model (filter, order_by,
**            select_related, prefetch_related, a slice meaning "the first
**            N per parent"), or NULL; TAKEN: freed with qs, even on error
**   to_attr  store the objects as a list read by corm_attr(obj, to_attr)
**            instead of the relation's cache; NULL for the cache; copied
** Several corm_prefetch on one relation with different to_attr are fine.
*/
CORM_API void corm_prefetch(corm_qs *qs, const char *path, corm_qs *inner, const char *to_attr);
/* The list a Prefetch stored under to_attr on obj, or NULL if none. */
CORM_API const corm_list *corm_attr(const void *obj, const char *to_attr);
/* Eager loads (select/prefetch_related) asked after evaluation: each does
** nothing to the evaluated result (as Django, whose call returns a new
** queryset and leaves the evaluated one as it is), is counted here and
** is a `late_eager` finding of the N+1 tooling (docs/eager-loading.md). */
CORM_API int corm_qs_late_eager(const corm_qs *qs);

/* Django's prefetch_related(None) / select_related(None): drop every
** prefetch lookup (Prefetch querysets it took are freed) / every
** select_related path given so far.  qs not yet evaluated (else
** CORM_MISUSE, sticky on qs). */
CORM_API void corm_prefetch_clear(corm_qs *qs);
CORM_API void corm_select_related_clear(corm_qs *qs);

/*
** corm_prefetch_objects(db, objs, n, "books", ...) - Django's
** prefetch_related_objects: prefetch for objects you already have, all of
** one model, from any results or made by hand (CORM_NEW with an id).
** An object whose relation is already cached is skipped (the IN list holds
** only the others; no query when every object has it).  The related
** objects live in the result of the first object loaded by a queryset:
** they are valid until that queryset is freed, whichever object they are
** read from (none loaded: CORM_MISUSE, use corm_prefetch_objects_in).
** Errors on db.  Cost: one query per path level that has objects to fetch.
*/
#define corm_prefetch_objects(db, objs, n, ...)               \
    corm_prefetch_objects_v((db), (void *const *)(objs), (n), \
                            (const char *const[]){__VA_ARGS__, NULL}, CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_prefetch_objects_v(corm_db *db, void *const *objs, size_t n,
                                                          const char *const *paths, corm_site site);
/* The same, the related objects kept by holder (any queryset of holder's
** db, evaluated or not; they live until corm_qs_free(holder)).  Errors on
** holder (and its db). */
#define corm_prefetch_objects_in(holder, objs, n, ...)               \
    corm_prefetch_objects_in_v((holder), (void *const *)(objs), (n), \
                               (const char *const[]){__VA_ARGS__, NULL}, CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_prefetch_objects_in_v(corm_qs *holder, void *const *objs,
                                                             size_t n, const char *const *paths,
                                                             corm_site site);

/* qs[start:stop] as LIMIT/OFFSET; stop < 0 means no end. */
CORM_API void corm_slice(corm_qs *qs, int64_t start, int64_t stop);

/* Evaluate (once; later calls return the cached state). */
#define corm_eval(qs) corm_eval_at((qs), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_eval_at(corm_qs *qs, corm_site site);
/* Rows of the evaluated result; 0 before evaluation or after an error. */
CORM_API size_t corm_qs_len(const corm_qs *qs);
/* Object i of the evaluated result (borrowed), NULL out of range. */
CORM_API void *corm_qs_at(const corm_qs *qs, size_t i);

/*
** corm_foreach(b, qs) - evaluate qs (one query) and iterate its objects:
** Book *b; corm_foreach (b, qs) printf("%s\n", b->title);
**   qs   evaluated once, whatever the expression: corm_foreach (b,
**        make_qs()) calls make_qs() once.  Must be a corm_qs * (another
**        pointer type does not compile under -Werror).
**   var  a pointer to a generated model (Book *): anything else does not
**        compile.  C cannot see which model a queryset holds, so a struct
**        of another model is refused when the loop starts: CORM_TYPE on qs,
**        as are querysets of rows (values(), aggregate(), corm_sql), with
**        CORM_MISUSE; the body then does not run.
** break and continue work.  Check corm_qs_failed(qs) after the loop.
*/
#define CORM__CAT2(a, b) a##b
#define CORM__CAT(a, b) CORM__CAT2(a, b)
#define corm_foreach(var, qs)                                                                     \
    for (corm_qs * CORM__CAT(corm__q, __LINE__) = (qs); CORM__CAT(corm__q, __LINE__);             \
         CORM__CAT(corm__q, __LINE__) = NULL)                                                     \
        for (size_t CORM__CAT(corm__i, __LINE__) = corm_foreach_begin_at(                         \
                 CORM__CAT(corm__q, __LINE__),                                                    \
                 sizeof *(var) + 0 * sizeof(&(var)->_corm == (corm_obj *)0), CORM_SITE);          \
             CORM__CAT(corm__i, __LINE__) < corm_qs_len(CORM__CAT(corm__q, __LINE__)) &&          \
             ((var) = corm_qs_at(CORM__CAT(corm__q, __LINE__), CORM__CAT(corm__i, __LINE__)), 1); \
             CORM__CAT(corm__i, __LINE__)++)
/* corm_foreach's start: evaluate qs and check that its objects are
** obj_size-byte structs: 0 to iterate, SIZE_MAX (error on qs) not to. */
CORM_API size_t corm_foreach_begin_at(corm_qs *qs, size_t obj_size, corm_site site);

/* SELECT COUNT(*); uses the result when already evaluated.  -1 on error. */
#define corm_count(qs) corm_count_at((qs), CORM_SITE)
CORM_API int64_t corm_count_at(corm_qs *qs, corm_site site);
/* SELECT 1 ... LIMIT 1: 1, 0, or -1 on error. */
#define corm_exists(qs) corm_exists_at((qs), CORM_SITE)
CORM_API int corm_exists_at(corm_qs *qs, corm_site site);
/* The one object matching: NULL with CORM_NOTFOUND or CORM_MULTIPLE on qs. */
#define corm_get(qs) corm_get_at((qs), CORM_SITE)
CORM_API void *corm_get_at(corm_qs *qs, corm_site site);
/* First / last by the ordering (by pk when unordered); NULL when empty.
** On a sliced queryset, as Django: the first of an ordered slice is its
** first row; corm_first of an unordered slice and corm_last of any slice
** are refused (CORM_INVALID on qs, no query). */
#define corm_first(qs) corm_first_at((qs), CORM_SITE)
#define corm_last(qs) corm_last_at((qs), CORM_SITE)
CORM_API void *corm_first_at(corm_qs *qs, corm_site site);
CORM_API void *corm_last_at(corm_qs *qs, corm_site site);

CORM_API bool corm_qs_failed(const corm_qs *qs);
/* The sticky error (rc CORM_OK when none).  Borrowed, valid until free. */
CORM_API const corm_error *corm_qs_error(const corm_qs *qs);
/* The SELECT the qs would run, for debugging (corm_raw / corm_sql: its SQL
** as the database runs it); borrowed, valid until the next call on qs.
** NULL (and the error on qs) when the builder failed. */
CORM_API const char *corm_qs_sql(corm_qs *qs);
/* Bytes held by the result arena, to check that memory stays flat. */
CORM_API size_t corm_qs_memory_size(const corm_qs *qs);

/* -------------------------------------------------------- related objects */

/*
** The accessors of an object's relations (generated ones, book_author(b),
** call these with the caller's site).  A lazy load runs on the database
** obj's rows came from (a replica, when routed there) and reports on the
** db obj's queryset was made on ("Errors" above):
**   NULL  a NULL foreign key, or no reverse one-to-one row: rc CORM_OK
**   NULL  an error: corm_db_error(db)->rc != CORM_OK (the statement's
**         error; CORM_MISUSE for a to-many relation asked as to-one, or
**         the reverse, or a bad relation index)
**   the failure hook, not NULL, for: strict mode's refused N+1 (NULL only
**   if the hook returns, with CORM_MISUSE on the db), and an object corm
**   did not load (NULL, CORM_NEW, a copy): it has no db to report on.
** Since: 0.1
*/
/* Forward fk / one-to-one: the related object, loaded on first access and
** cached on obj (one query, as Django). */
CORM_API void *corm_related_at(void *obj, int rel, corm_site site);
/* Reverse fk / m2m: every related object, loaded with one query on first
** access and cached on obj. */
CORM_API const corm_list *corm_related_set_at(void *obj, int rel, corm_site site);
/* A new queryset over the related objects of obj, to filter or count;
** always queries (as Django's related manager .filter()), on the database
** obj came from.  Owned.  Its own errors are on it. */
CORM_API corm_qs *corm_related_qs_at(void *obj, int rel, corm_site site);

/* Whether field `name` of obj is NULL (false for unknown names). */
CORM_API bool corm_is_null(const void *obj, const char *name);
CORM_API void corm_set_null(void *obj, const char *name, bool is_null);

/* ---------------------------------------------------- shaping the result */

/*
** corm_only(qs, "title", "author__name") / corm_defer(qs, "description") -
** load only some fields (across select_related too).  The others are
** marked not loaded; read them with corm_field(obj, name), which loads one
** field of one object with one query (as Django; the N+1 tooling sees it).
** The primary key and the keys select_related joins through always load.
*/
#define corm_only(qs, ...) corm_only_v((qs), (const char *const[]){__VA_ARGS__, NULL})
#define corm_defer(qs, ...) corm_defer_v((qs), (const char *const[]){__VA_ARGS__, NULL})
CORM_API void corm_only_v(corm_qs *qs, const char *const *fields);
CORM_API void corm_defer_v(corm_qs *qs, const char *const *fields);
/* Whether a field of obj was loaded (false after only()/defer() left it). */
CORM_API bool corm_is_loaded(const void *obj, const char *name);
/*
** corm_load_field_at(obj, name, site) - load field `name` of obj if it was
** deferred (one query; CORM_OK at once when it is loaded).  Errors as the
** accessors' (corm.h, "Errors"): on the db obj's queryset was made on
** (CORM_SCHEMA no such field, CORM_NOTFOUND the row is gone, or the
** statement's), or - for an object corm did not load - the failure hook.
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_load_field_at(void *obj, const char *name, corm_site site);
/*
** corm_field(b, description): the field's value, loaded first if
** deferred.  When the load fails the error is where corm_load_field_at
** puts it (never dropped: check corm_db_error(db)->rc, as after an
** accessor), the field stays marked not loaded and reads as its zero
** value (NULL for text).
*/
#define corm_field(obj, field) (corm__field_load((obj), #field, CORM_SITE), (obj)->field)
static inline void corm__field_load(void *obj, const char *name, corm_site site)
{
    /* the error is on the handle (or went to the failure hook) */
    if (corm_load_field_at(obj, name, site) != CORM_OK) return;
}

/* SELECT DISTINCT. */
CORM_API void corm_distinct(corm_qs *qs);

/*
** corm_values(qs, "title", "author__name") / corm_values_list(...) - rows
** of columns instead of structs: field paths (to-one joins) and annotation
** names.  corm_values_v(qs, NULL): every field.  corm_values_flat(qs, f):
** one column (values_list(f, flat=True)).  Read the rows with the
** corm_qs_cell / corm_row_* getters; no struct is hydrated.
*/
#define corm_values(qs, ...) corm_values_v((qs), (const char *const[]){__VA_ARGS__, NULL})
#define corm_values_list(qs, ...) corm_values_v((qs), (const char *const[]){__VA_ARGS__, NULL})
CORM_API void corm_values_v(corm_qs *qs, const char *const *fields);
CORM_API void corm_values_flat(corm_qs *qs, const char *field);

/* Rows of an evaluated values(), aggregate() or corm_sql() queryset. */
CORM_API size_t corm_qs_ncols(const corm_qs *qs);
CORM_API const char *corm_qs_colname(const corm_qs *qs, size_t col);
/* The column called name, or -1. */
CORM_API int corm_qs_colindex(const corm_qs *qs, const char *name);
/* A cell (borrowed), NULL out of range. */
CORM_API const corm_value *corm_qs_cell(const corm_qs *qs, size_t row, size_t col);
/* Typed getters by column name: 0 / 0.0 / NULL when NULL or absent. */
CORM_API int64_t corm_row_int(const corm_qs *qs, size_t row, const char *col);
CORM_API double corm_row_float(const corm_qs *qs, size_t row, const char *col);
CORM_API const char *corm_row_text(const corm_qs *qs, size_t row, const char *col);
CORM_API bool corm_row_isnull(const corm_qs *qs, size_t row, const char *col);
/* corm_row_decimal (exact decimals): <corm/decimal.h>. */

/* -------------------------------------------------------------- expressions */

/*
** Expressions, allocated in qs (freed with it): F("pages"), a value,
** arithmetic, aggregates over fields and relation paths, Subquery,
** OuterRef, Exists.  Use them in corm_annotate, corm_aggregate,
** corm_filter_expr and corm_order_by (by annotation name).
**
** An aggregate over a to-many path in corm_annotate is a correlated
** subquery, so Count("books") and Sum("orders__total") on one queryset do
** not multiply each other (docs/queryset.md).
*/
typedef struct corm_expr corm_expr;
CORM_API corm_expr *corm_F(corm_qs *qs, const char *path);
CORM_API corm_expr *corm_V(corm_qs *qs, corm_value v);
CORM_API corm_expr *corm_Count(corm_qs *qs, const char *path, bool distinct);
CORM_API corm_expr *corm_Sum(corm_qs *qs, const char *path);
CORM_API corm_expr *corm_Avg(corm_qs *qs, const char *path);
CORM_API corm_expr *corm_Min(corm_qs *qs, const char *path);
CORM_API corm_expr *corm_Max(corm_qs *qs, const char *path);
/* a + b, a - b, a * b, a / b (op is one of + - * /). */
CORM_API corm_expr *corm_arith(corm_qs *qs, corm_expr *a, char op, corm_expr *b);
/* A column of the outer query, inside a Subquery/Exists queryset. */
CORM_API corm_expr *corm_OuterRef(corm_qs *inner, const char *path);
/* (SELECT field FROM inner): inner is TAKEN (freed with qs). */
CORM_API corm_expr *corm_Subquery(corm_qs *qs, corm_qs *inner, const char *field);
/* EXISTS(inner): inner is TAKEN. */
CORM_API corm_expr *corm_Exists(corm_qs *qs, corm_qs *inner);

/* annotate(name=e): a column on every object (corm_annotation) or row;
** filterable (corm_filter(qs, "name__gt", ...): HAVING when it aggregates
** the query's own rows) and orderable (corm_order_by(qs, "-name")). */
CORM_API void corm_annotate(corm_qs *qs, const char *name, corm_expr *e);
/* The annotation `name` of an object (borrowed), NULL if none. */
CORM_API const corm_value *corm_annotation(const void *obj, const char *name);
/* aggregate(name=e): the queryset becomes one row of aggregates. */
CORM_API void corm_aggregate(corm_qs *qs, const char *name, corm_expr *e);
/* filter(lookup=expression): pages__gt=F("price") * 2, author=OuterRef("pk"). */
CORM_API void corm_filter_expr(corm_qs *qs, const char *lookup, corm_expr *rhs);
CORM_API void corm_exclude_expr(corm_qs *qs, const char *lookup, corm_expr *rhs);

/* ------------------------------------------------------- explain, raw SQL */

/* The database's plan of the SELECT (SQLite EXPLAIN QUERY PLAN), one line
** per step, also of corm_raw / corm_sql SQL; runs one query.  Borrowed
** until the next call on qs. */
#define corm_explain(qs) corm_explain_at((qs), CORM_SITE)
CORM_API const char *corm_explain_at(corm_qs *qs, corm_site site);
/* After corm_qs_sql: its parameters, in placeholder order (borrowed). */
CORM_API int corm_qs_sql_params(const corm_qs *qs, const corm_value **params);

/*
** corm_raw(db, Book, "SELECT * FROM book WHERE pages > %s", params, n) -
** model objects from your SQL (Django's Manager.raw): columns map to fields
** by name; missing fields are deferred.  corm_sql(db, sql, params, n):
** rows of any SQL, read with the corm_row_* getters.  Parameters are
** always bound (copied), never interpolated.  Both return a lazy queryset.
** Placeholders: %s as in Django, on every backend (translated per
** database; %% is a literal %, and %s in quotes or comments is text);
** text without %s or %% is the database's own (? / $1) and runs as is.
*/
#define corm_raw(db, Model, sql, params, n) \
    corm_raw_at((db), &Model##_model, (sql), (params), (n), CORM_SITE)
CORM_API corm_qs *corm_raw_at(corm_db *db, const corm_model *model, const char *sql,
                              const corm_value *params, int nparams, corm_site site);
#define corm_sql(db, sql, params, n) corm_raw_at((db), NULL, (sql), (params), (n), CORM_SITE)

/* ---------------------------------------------------------------- iterator */

/*
** corm_iterator(qs, chunk_size) - stream the objects of qs from one cursor,
** chunk_size at a time, with memory that does not grow with the table:
** each chunk's objects replace the previous chunk's (copy out what you
** keep).  prefetch_related runs once per chunk.  qs must not be evaluated;
** it caches nothing.  Errors: corm_iter_next returns NULL, corm_qs_error(qs).
*/
typedef struct corm_iter corm_iter;
#define corm_iterator(qs, chunk) corm_iterator_at((qs), (chunk), CORM_SITE)
CORM_API corm_iter *corm_iterator_at(corm_qs *qs, size_t chunk_size, corm_site site);
CORM_API void *corm_iter_next(corm_iter *it);
/* Bytes held by the current chunk (flat across chunks). */
CORM_API size_t corm_iter_memory_size(const corm_iter *it);
CORM_API void corm_iter_free(corm_iter *it);

/* ----------------------------------------------------------------- writes */

/* An object to fill and save: Book b = CORM_NEW(Book); nullable fields
** start NULL and fields with a schema default hold it.  Assign fields in
** plain C: a nullable field assigned a value (a pointer, a non-zero
** number) is no longer NULL; corm_set_null(&b, "pages", false) keeps an
** explicit 0 of a nullable number (docs/writes.md, "New objects"). */
#define CORM_NEW(Model) corm__new_##Model

/* INSERT when obj's id is 0 (id is filled in), UPDATE otherwise.  Strings
** are read, not kept.  Errors on db (CORM_CONSTRAINT names the constraint). */
#define corm_save(db, obj) corm_save_at((db), (obj), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_save_at(corm_db *db, void *obj, corm_site site);
/* DELETE the row of obj (the database applies on_delete). */
#define corm_delete(db, obj) corm_delete_at((db), (obj), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_delete_at(corm_db *db, void *obj, corm_site site);
/* Add / remove an m2m link: corm_m2m_add(db, book, BOOK_REL_GENRES, genre). */
#define corm_m2m_add(db, obj, rel, other) corm_m2m_add_at((db), (obj), (rel), (other), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_add_at(corm_db *db, void *obj, int rel,
                                                  const void *other, corm_site site);

/* Transactions (nesting uses savepoints).  Their BEGIN / SAVEPOINT /
** COMMIT / ROLLBACK carry the caller's file:line, as every statement.
** corm_rollback's result may be ignored on purpose (on an error path the
** level is gone either way), so it is not warn-unused: write
** `(void)corm_rollback(db);` (GCC ignores a (void) cast on warn-unused
** calls, docs/writes.md). */
#define corm_begin(db) corm_begin_at((db), CORM_SITE)
#define corm_commit(db) corm_commit_at((db), CORM_SITE)
#define corm_rollback(db) corm_rollback_at((db), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_begin_at(corm_db *db, corm_site site);
CORM_API CORM_WARN_UNUSED corm_rc corm_commit_at(corm_db *db, corm_site site);
CORM_API corm_rc corm_rollback_at(corm_db *db, corm_site site);

/* ------------------------------------------- writes, bulk, transactions */
/* docs/writes.md has the semantics, the query counts and examples. */

/*
** corm_create - INSERT obj, even when its id is set (then with that id).
** auto_now / auto_now_add fields get the current time (UTC, "YYYY-MM-DD
** HH:MM:SS.ffffff").  Errors on db; a constraint error is typed
** (corm_error.constraint) and names the constraint.  Cost: 1 query.
*/
#define corm_create(db, obj) corm_create_at((db), (obj), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_create_at(corm_db *db, void *obj, corm_site site);

/*
** corm_get_or_create(qs, init, &created) - Django's get_or_create: the one
** object qs matches, or, when there is none, init INSERTed (init's id is
** filled in).  Fill init with the lookup values and the defaults.
**   qs       a filtered queryset of init's model; errors sticky on qs
**   created  may be NULL; set to whether a row was inserted
** Returns the object, in qs's result arena (valid until corm_qs_free), or
** NULL: CORM_MULTIPLE, or the INSERT's error, on qs.  A concurrent insert
** (unique constraint) is resolved by reading the row again, as Django.
** Cost: 1 query when found, 2 when created.
*/
#define corm_get_or_create(qs, init, created) \
    corm_get_or_create_at((qs), (init), (created), CORM_SITE)
CORM_API void *corm_get_or_create_at(corm_qs *qs, void *init, bool *created, corm_site site);

/*
** corm_update_or_create(qs, obj, fields, &created) - Django's
** update_or_create: when qs matches one object, copy `fields` (NULL-
** terminated names: Django's `defaults`) from obj into it and UPDATE those
** columns (and auto_now ones); else INSERT obj.  Returns the object in
** qs's arena, or NULL with the error on qs.  Cost: 2 queries.
*/
#define corm_update_or_create(qs, obj, fields, created) \
    corm_update_or_create_at((qs), (obj), (fields), (created), CORM_SITE)
CORM_API void *corm_update_or_create_at(corm_qs *qs, void *obj, const char *const *fields,
                                        bool *created, corm_site site);

/* Options of the bulk writes; {0} (or NULL) means the defaults. */
typedef struct corm_bulk_opts {
    /* Objects per statement.  0: as many as the backend's bound-parameter
    ** limit allows.  On SQLite, where each object is one execution of one
    ** prepared INSERT (or UPDATE), objects per executemany: each is one
    ** query, all in one transaction; 0: all of them. */
    size_t batch_size;
    /* ON CONFLICT DO NOTHING: rows that would violate a unique constraint
    ** are skipped; ids are then not filled in (they stay 0), as Django. */
    bool ignore_conflicts;
    /* Upsert: on a conflict on unique_fields, UPDATE update_fields of the
    ** existing row from the new one.  Both NULL-terminated field names. */
    bool update_conflicts;
    const char *const *unique_fields;
    const char *const *update_fields;
    /* bulk_update only: CORM_BULK_AUTO (the backend's faster way),
    ** CORM_BULK_CASE (Django's UPDATE ... CASE WHEN per batch of at most
    ** 1000), CORM_BULK_ROWS (one prepared single-row UPDATE per object, as
    ** an executemany) or CORM_BULK_VALUES (UPDATE ... FROM (VALUES ...)
    ** per batch).  Measured in docs/writes.md. */
    int strategy;
} corm_bulk_opts;
enum { CORM_BULK_AUTO, CORM_BULK_CASE, CORM_BULK_ROWS, CORM_BULK_VALUES };

/*
** corm_bulk_create(db, objs, n, opts) - INSERT n objects (all of one model)
** with ids filled in: on SQLite one prepared single-row INSERT per object
** (an executemany, one query) reading last_insert_rowid, on PostgreSQL
** multi-row INSERTs with RETURNING (docs/writes.md).  Atomic: when any
** row fails, nothing is written, and the error names the constraint, the
** values and the object's position (corm_error.row).  Inside a
** transaction it uses a savepoint, so the transaction stays usable.
**   objs   an array of n pointers to objects (Book *objs[n])
** Cost: one query per batch (the transaction statements corm adds are
** internal, as the snapshot ones).  auto_now(_add) as corm_create.
*/
#define corm_bulk_create(db, objs, n, opts) \
    corm_bulk_create_at((db), (void *const *)(objs), (n), (opts), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_bulk_create_at(corm_db *db, void *const *objs, size_t n,
                                                      const corm_bulk_opts *opts, corm_site site);
/* The same for a C array of structs: Book books[n]. */
#define corm_bulk_create_array(db, array, n, opts) \
    corm_bulk_create_array_at((db), (array), (n), (opts), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_bulk_create_array_at(corm_db *db, void *array, size_t n,
                                                            const corm_bulk_opts *opts,
                                                            corm_site site);

/*
** corm_bulk_update(db, objs, n, "title", "pages") - write the named fields
** of n loaded objects (all of one model, ids set), atomically.  On SQLite
** one prepared single-row UPDATE runs once per object inside the
** transaction (measured faster than CASE WHEN batches: docs/writes.md);
** elsewhere one UPDATE ... CASE WHEN per batch.  Either way it is one
** query per batch in the counts (an executemany, as Django counts one).
** Returns the rows matched, or -1 with the error on db.
*/
#define corm_bulk_update(db, objs, n, ...)                \
    corm_bulk_update_at((db), (void *const *)(objs), (n), \
                        (const char *const[]){__VA_ARGS__, NULL}, NULL, CORM_SITE)
CORM_API int64_t corm_bulk_update_at(corm_db *db, void *const *objs, size_t n,
                                     const char *const *fields, const corm_bulk_opts *opts,
                                     corm_site site);
CORM_API int64_t corm_bulk_update_array_at(corm_db *db, void *array, size_t n,
                                           const char *const *fields, const corm_bulk_opts *opts,
                                           corm_site site);

/* One assignment of corm_update: field = value; field = F(f) op value
** (Django's F('pages') + 1) with op one of + - * / (0: field = F(f)); or
** field = any expression built on the same queryset (corm_F, corm_arith,
** corm_Subquery: CORM_SET_EXPR). */
typedef struct corm_assign {
    const char *field;
    corm_value value;
    const char *f;
    char op;
    corm_expr *expr;
} corm_assign;
#define CORM_SET(field, v) ((corm_assign){(field), (v), NULL, 0, NULL})
#define CORM_SET_F(field, f, op, v) ((corm_assign){(field), (v), (f), (op), NULL})
#define CORM_SET_EXPR(field, e) ((corm_assign){(field), corm_null(), NULL, 0, (e)})

/*
** corm_update(qs, CORM_SET("status", corm_text("expired")), ...) - one
** UPDATE of every row qs matches (filters, default scopes; a filter across
** relations becomes `id IN (SELECT ...)`).  Not on a sliced queryset.
** auto_now fields are not touched, as Django.  An evaluated qs keeps its
** (now stale) objects.  Returns the rows matched, or -1 with the error on
** qs.  Cost: 1 query.
*/
#define corm_update(qs, ...)                                \
    corm_update_v((qs), (const corm_assign[]){__VA_ARGS__}, \
                  sizeof((const corm_assign[]){__VA_ARGS__}) / sizeof(corm_assign), CORM_SITE)
CORM_API int64_t corm_update_v(corm_qs *qs, const corm_assign *set, size_t nset, corm_site site);

/*
** corm_qs_delete(qs) - delete every row qs matches, applying on_delete as
** Django's collector does: CASCADE collected level by level (one SELECT per
** relation and batch, never per row), SET_NULL as one UPDATE per relation,
** PROTECT / RESTRICT refusing with CORM_CONSTRAINT naming the objects (and
** nothing deleted), m2m join rows deleted.  Atomic.  A model nothing refers
** to is deleted with one DELETE.  Returns the rows deleted in all tables,
** or -1 with the error on qs.  corm_delete (one object) works the same.
*/
#define corm_qs_delete(qs) corm_qs_delete_at((qs), CORM_SITE)
CORM_API int64_t corm_qs_delete_at(corm_qs *qs, corm_site site);

/* The objects of an evaluated queryset as an array (for the bulk calls);
** NULL before evaluation.  Borrowed. */
CORM_API void *const *corm_qs_items(const corm_qs *qs);

/*
** corm_atomic(db, fn, ud) - run fn(db, ud) in a transaction: BEGIN, or a
** savepoint when one is open, so blocks nest.  CORM_OK from fn commits (or
** releases the savepoint); anything else rolls back exactly that level and
** is returned, with fn's error left on db.  A failing commit (a deferred
** foreign key) is returned and rolled back.
*/
typedef corm_rc (*corm_atomic_fn)(corm_db *db, void *ud);
#define corm_atomic(db, fn, ud) corm_atomic_at((db), (fn), (ud), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_atomic_at(corm_db *db, corm_atomic_fn fn, void *ud,
                                                 corm_site site);
/* Transactions and savepoints open on db (0: autocommit). */
CORM_API int corm_tx_depth(const corm_db *db);

/*
** Default scopes (docs/writes.md).  A model with `scope tenant_id` in the
** schema filters every queryset on tenant_id = the value set here; until
** one is set, its querysets fail (CORM_MISUSE) instead of showing every
** tenant.  corm_unscoped(qs) drops the model's scopes for one queryset.
**   name   the scoped field's name ("tenant_id"); copied
**   v      an int, float, bool or text (up to 255 bytes); copied
** Errors: CORM_INVALID no model of db's schema has a runtime scope called
** name (the hint lists them), or a value that is not a scalar.
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_scope_set(corm_db *db, const char *name, corm_value v);
/* Forget the value of scope name (NULL: of every scope). */
CORM_API void corm_scope_clear(corm_db *db, const char *name);
/* Django's base manager: this queryset ignores the default scopes. */
CORM_API void corm_unscoped(corm_qs *qs);

/* ----------------------------------------------------------------- schema */

/*
** corm_schema_parse - read a .corm schema at run time (what `corm migrate`
** and `corm gen` do).  Generated code does not need it.
**   text  the schema source; copied.  path names it in errors ("-" if none)
**   err   filled with file:line:col, message and hint on failure
** Returns an owned schema for corm_schema_free, or NULL.
*/
CORM_API corm_schema *corm_schema_parse(const char *text, size_t len, const char *path,
                                        corm_error *err);
CORM_API corm_schema *corm_schema_parse_file(const char *path, corm_error *err);
/* Frees a schema from corm_schema_parse*.  Never pass a generated (static)
** schema such as &bookstore_schema. */
CORM_API void corm_schema_free(corm_schema *schema);
/* The model called name, or NULL. */
CORM_API const corm_model *corm_schema_model(const corm_schema *schema, const char *name);

/* ------------------------------------------------------------- migrations */

/* Create the tables, indexes and constraints of db's schema on an empty
** database, in one transaction, and record it in corm_migrations.  Running
** it again on a migrated database is a no-op.  Errors on db. */
CORM_API CORM_WARN_UNUSED corm_rc corm_migrate(corm_db *db);

/* ------------------------------------------------- several databases */

/*
** corm_db_attach - open another database under a name: a read replica, a
** reporting copy.  Querysets reach it with corm_using(qs, alias) or
** through a router.  The schema is db's.
**   alias  "replica"; not "default" (db itself); copied
**   url    as corm_open; copied
** The attached connection belongs to db: corm_close(db) closes it, and it
** follows db's thread rule.  Errors on db (CORM_INVALID a name in use,
** CORM_CONN cannot connect).  Since: 0.1
*/
CORM_API CORM_WARN_UNUSED corm_rc corm_db_attach(corm_db *db, const char *alias, const char *url);
/* The database attached as alias ("default": db), or NULL.  Borrowed. */
CORM_API corm_db *corm_db_alias(corm_db *db, const char *alias);

typedef enum corm_route { CORM_ROUTE_READ, CORM_ROUTE_WRITE } corm_route;
/*
** A router picks the database of each queryset, as Django's db_for_read:
** it returns an attached alias, or NULL (or "default") for db itself.  It
** is asked (route CORM_ROUTE_READ) when a queryset runs (evaluation,
** count, exists, get, first, iterator, values, aggregate) outside a
** transaction: inside one, every statement goes to db, so a transaction
** reads its own writes.  Writes (corm_save, corm_delete, corm_m2m_add,
** bulk writes, transactions) always run on the db they are given: the
** primary.  CORM_ROUTE_WRITE is reserved for routing writes later.  An
** explicit corm_using wins.  Objects read from a replica load their lazy
** relations from it too.  The function must not call corm on db.
*/
typedef const char *(*corm_router_fn)(void *ud, const corm_model *model, corm_route route);
/* Install a router on db (NULL removes it); ud is passed back. */
CORM_API void corm_set_router(corm_db *db, corm_router_fn fn, void *ud);
/* A router for one read replica: reads to the alias named by ud (a
** const char *, e.g. "replica"), writes to db. */
CORM_API const char *corm_router_replica(void *ud, const corm_model *model, corm_route route);
/* Evaluate qs on the attached database alias ("default": the db it was
** made on), whatever the router says.  An unknown alias is a sticky
** CORM_INVALID naming the attached ones.  Builder: before evaluation. */
CORM_API void corm_using(corm_qs *qs, const char *alias);

/* ------------------------------------------------------------ health */

/* Whether db's connection works: a round trip on PostgreSQL, reconnecting
** a lost connection (safe: no statement of the caller is involved).
** CORM_CONN with the error on db when the server does not answer. */
CORM_API CORM_WARN_UNUSED corm_rc corm_ping(corm_db *db);

#ifdef __cplusplus
}
#endif

/* The families with a handle of their own (curl's easy.h / multi.h). */
#include <corm/instr.h>
#include <corm/pool.h>
/* Schema evolution: makemigrations, migrate, sqlmigrate (docs/migrations.md). */
#include <corm/migrate.h>
/* Request scopes, the recorder, the debug panel, /metrics (docs/inspect.md). */
#include <corm/inspect.h>
/* Many-to-many writes: add, remove, clear, set (docs/writes.md). */
#include <corm/m2m.h>
/* Django's low-level cache: local LRU and Redis backends (docs/cache.md). */
#include <corm/cache.h>
/* Paginator and keyset pages (docs/pagination.md). */
#include <corm/paginate.h>
/* Dates and datetimes: the stored UTC text from time_t / struct tm and back
** (docs/schema.md). */
#include <corm/datetime.h>
/* Exact decimals for decimal(p, s) fields (docs/schema.md). */
#include <corm/decimal.h>

/* Conditional aggregates, subqueries in filters, null ordering, booleans
** (docs/queryset.md). */
#include <corm/expr.h>
/* What a delete removed, per model (docs/writes.md). */
#include <corm/delete.h>
/* Objects by a list of keys, as a lookup map: in_bulk (docs/queryset.md). */
#include <corm/in_bulk.h>

/* Cached querysets: results kept in a corm_cache, invalidated by every
** corm write (docs/cache.md). */
#include <corm/qscache.h>

#endif
