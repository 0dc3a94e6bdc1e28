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
#define CORM_RC_MAP(XX)                                                     \
    XX(OK, 0, "success")                                                    \
    XX(NOMEM, 1, "out of memory")                                           \
    XX(MISUSE, 2, "API misuse")                                             \
    XX(INVALID, 3, "invalid argument")                                      \
    XX(SCHEMA, 4, "unknown model, field or relation")                       \
    XX(TYPE, 5, "wrong value type")                                         \
    XX(NOTFOUND, 6, "object does not exist")                                \
    XX(MULTIPLE, 7, "more than one object returned")                        \
    XX(CONSTRAINT, 8, "constraint violated")                                \
    XX(BUSY, 9, "database is busy")                                         \
    XX(CONN, 10, "connection failed or lost")                               \
    XX(DB, 11, "database error")                                            \
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
typedef struct corm_error {
    corm_rc rc;
    char message[512];  /* what was wrong */
    char hint[512];     /* what to do about it */
    char sql[1024];     /* the statement that failed, truncated */
    char sqlstate[6];   /* PostgreSQL SQLSTATE, or "" */
    char file[256];     /* schema file, or the C file of the call */
    int line, col;
} corm_error;

/* "message (hint: ...)" with the file:line prefix when known, into buf. */
CORM_API const char *corm_error_format(const corm_error *err, char *buf,
                                       size_t size);

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
    CORM_V_INTS,  /* array of int64_t, for `in` */
    CORM_V_TEXTS, /* array of strings, for `in` */
    CORM_V_LIST   /* array of corm_value, for `in` and `range` */
} corm_vtype;

/* A value to bind.  Borrowed: corm copies what it keeps. */
typedef struct corm_value {
    corm_vtype type;
    union {
        int64_t i;
        double f;
        bool b;
        struct { const char *p; size_t n; } s;        /* TEXT, BLOB */
        struct { const int64_t *p; size_t n; } ints;  /* INTS */
        struct { const char *const *p; size_t n; } texts; /* TEXTS */
        struct { const struct corm_value *p; size_t n; } list;
    } u;
} corm_value;

static inline corm_value corm_null(void) { corm_value v = {CORM_V_NULL, {0}}; return v; }
static inline corm_value corm_int(int64_t i) { corm_value v = {CORM_V_INT, {0}}; v.u.i = i; return v; }
static inline corm_value corm_float(double f) { corm_value v = {CORM_V_FLOAT, {0}}; v.u.f = f; return v; }
static inline corm_value corm_bool(bool b) { corm_value v = {CORM_V_BOOL, {0}}; v.u.b = b; return v; }
/* NUL-terminated text; NULL gives corm_null(). */
static inline corm_value corm_text(const char *s) {
    corm_value v = {CORM_V_NULL, {0}};
    if (s) { v.type = CORM_V_TEXT; v.u.s.p = s; v.u.s.n = (size_t)-1; }
    return v;
}
static inline corm_value corm_blobv(const void *p, size_t n) { corm_value v = {CORM_V_BLOB, {0}}; v.u.s.p = (const char *)p; v.u.s.n = n; return v; }
static inline corm_value corm_ints(const int64_t *p, size_t n) { corm_value v = {CORM_V_INTS, {0}}; v.u.ints.p = p; v.u.ints.n = n; return v; }
static inline corm_value corm_texts(const char *const *p, size_t n) { corm_value v = {CORM_V_TEXTS, {0}}; v.u.texts.p = p; v.u.texts.n = n; return v; }
static inline corm_value corm_values(const corm_value *p, size_t n) { corm_value v = {CORM_V_LIST, {0}}; v.u.list.p = p; v.u.list.n = n; return v; }
/* corm_range(lo, hi): both ends included, as Django's __range. */
#define corm_range(lo, hi) corm_values((const corm_value[]){(lo), (hi)}, 2)

/* --------------------------------------------------------------- database */

typedef struct corm_db corm_db;

/*
** corm_open - connect to a database for one schema.
**   url     "sqlite:path/to/file.db", "sqlite::memory:"; copied
**   schema  a generated schema (e.g. &bookstore_schema); borrowed, must
**           outlive the db; NULL is allowed for raw use (no querysets)
**   err     filled on failure; may be NULL
** SQLite: WAL journal, foreign keys on, 5 s busy timeout.
** Returns NULL on failure (CORM_INVALID bad url, CORM_CONN cannot open).
*/
CORM_API corm_db *corm_open(const char *url, const corm_schema *schema,
                            corm_error *err);
CORM_API void corm_close(corm_db *db);

/* The last error of a call on db that has no object of its own to carry it
** (lazy accessors, saves, raw statements).  Borrowed; cleared by the next
** failing call only.  Never NULL. */
CORM_API const corm_error *corm_db_error(const corm_db *db);
CORM_API const corm_schema *corm_db_schema(const corm_db *db);
/* "sqlite" or "postgresql". */
CORM_API const char *corm_db_vendor(const corm_db *db);

/* Run SQL with no parameters and no result rows (DDL, PRAGMA). */
CORM_API CORM_WARN_UNUSED corm_rc corm_exec_at(corm_db *db, const char *sql,
                                               corm_site site);
#define corm_exec(db, sql) corm_exec_at((db), (sql), CORM_SITE)

/* ------------------------------------------------------- query events */

/* One statement the library ran.  Borrowed: valid during the callback. */
typedef struct corm_event {
    const char *sql;
    const char *vendor;
    int nparams;
    int64_t rows;     /* rows returned (SELECT) or changed */
    double ms;        /* wall time of execute + fetch */
    corm_rc rc;
    corm_site site;   /* the application code that caused it */
    corm_site built;  /* where its queryset was made, or {0} */
    const char *origin; /* "queryset", "fk:Book.author", "set:Author.book_set",
                           "prefetch:Author.books", "count", "exists",
                           "insert", "update", "delete", "exec", "migrate",
                           "transaction", "snapshot" */
    bool internal;      /* a statement corm added on its own (the BEGIN and
                           COMMIT that give one evaluation a consistent
                           snapshot); not counted by corm_query_count */
} corm_event;

typedef void (*corm_event_fn)(void *ud, const corm_event *ev);

/* Subscribe fn to every statement db runs (one subscriber per slot; up to
** 8).  Returns a handle for corm_off_query, or -1 when full. */
CORM_API int corm_on_query(corm_db *db, corm_event_fn fn, void *ud);
CORM_API void corm_off_query(corm_db *db, int handle);
/* Statements run on db since it was opened, except internal ones. */
CORM_API uint64_t corm_query_count(const corm_db *db);

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
CORM_API corm_qs *corm_qs_new_at(corm_db *db, const corm_model *model,
                                 corm_site site);
/* An unevaluated copy of the builder state (not the result). */
CORM_API corm_qs *corm_qs_clone(const corm_qs *qs);
/* Frees the qs, its result and every object hydrated into it. */
CORM_API void corm_qs_free(corm_qs *qs);

/* filter(lookup=value): "title__icontains", "author__country__name",
** "published_date__year", "pk".  Lookups: exact iexact contains icontains
** startswith istartswith endswith iendswith gt gte lt lte in isnull range
** year month day. */
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
#define corm_order_by(qs, ...) \
    corm_order_by_v((qs), (const char *const[]){__VA_ARGS__, NULL})
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
CORM_API void corm_prefetch(corm_qs *qs, const char *path, corm_qs *inner,
                            const char *to_attr);
/* The list a Prefetch stored under to_attr on obj, or NULL if none. */
CORM_API const corm_list *corm_attr(const void *obj, const char *to_attr);
/* Eager loads (select/prefetch_related) asked after evaluation. */
CORM_API int corm_qs_late_eager(const corm_qs *qs);

/*
** corm_prefetch_objects(db, objs, n, "books", ...) - Django's
** prefetch_related_objects: prefetch for objects you already have (all of
** one model, loaded by corm).  Related objects go to each object's result
** arena.  Errors on db.
*/
#define corm_prefetch_objects(db, objs, n, ...)                              \
    corm_prefetch_objects_v((db), (void *const *)(objs), (n),                \
                            (const char *const[]){__VA_ARGS__, NULL}, CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_prefetch_objects_v(corm_db *db, void *const *objs,
                                                          size_t n,
                                                          const char *const *paths,
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

/* Evaluates qs (one query) and iterates its objects.  Check
** corm_qs_failed(qs) after the loop. */
#define CORM__CAT2(a, b) a##b
#define CORM__CAT(a, b) CORM__CAT2(a, b)
#define corm_foreach(var, qs)                                               \
    for (size_t CORM__CAT(corm__i, __LINE__) =                              \
             corm_eval_at((qs), CORM_SITE) == CORM_OK ? 0 : SIZE_MAX;       \
         CORM__CAT(corm__i, __LINE__) < corm_qs_len(qs) &&                  \
         ((var) = corm_qs_at((qs), CORM__CAT(corm__i, __LINE__)), 1);       \
         CORM__CAT(corm__i, __LINE__)++)

/* SELECT COUNT(*); uses the result when already evaluated.  -1 on error. */
#define corm_count(qs) corm_count_at((qs), CORM_SITE)
CORM_API int64_t corm_count_at(corm_qs *qs, corm_site site);
/* SELECT 1 ... LIMIT 1: 1, 0, or -1 on error. */
#define corm_exists(qs) corm_exists_at((qs), CORM_SITE)
CORM_API int corm_exists_at(corm_qs *qs, corm_site site);
/* The one object matching: NULL with CORM_NOTFOUND or CORM_MULTIPLE on qs. */
#define corm_get(qs) corm_get_at((qs), CORM_SITE)
CORM_API void *corm_get_at(corm_qs *qs, corm_site site);
/* First / last by the ordering (by pk when unordered); NULL when empty. */
#define corm_first(qs) corm_first_at((qs), CORM_SITE)
#define corm_last(qs) corm_last_at((qs), CORM_SITE)
CORM_API void *corm_first_at(corm_qs *qs, corm_site site);
CORM_API void *corm_last_at(corm_qs *qs, corm_site site);

CORM_API bool corm_qs_failed(const corm_qs *qs);
/* The sticky error (rc CORM_OK when none).  Borrowed, valid until free. */
CORM_API const corm_error *corm_qs_error(const corm_qs *qs);
/* The SELECT the qs would run, for debugging; borrowed, valid until the next
** call on qs.  NULL (and the error on qs) when the builder failed. */
CORM_API const char *corm_qs_sql(corm_qs *qs);
/* Bytes held by the result arena, to check that memory stays flat. */
CORM_API size_t corm_qs_memory_size(const corm_qs *qs);

/* -------------------------------------------------------- related objects */

/* Forward fk / one-to-one: the related object, loaded on first access and
** cached on obj (one query, as Django).  NULL when the key is NULL, or on
** error (then corm_db_error(db)->rc != CORM_OK).  Generated accessors
** (book_author(b)) call this with the caller's site. */
CORM_API void *corm_related_at(void *obj, int rel, corm_site site);
/* Reverse fk / m2m: every related object, loaded with one query on first
** access and cached on obj.  NULL on error. */
CORM_API const corm_list *corm_related_set_at(void *obj, int rel,
                                              corm_site site);
/* A new queryset over the related objects of obj, to filter or count;
** always queries (as Django's related manager .filter()).  Owned. */
CORM_API corm_qs *corm_related_qs_at(void *obj, int rel, corm_site site);

/* Whether field `name` of obj is NULL (false for unknown names). */
CORM_API bool corm_is_null(const void *obj, const char *name);
CORM_API void corm_set_null(void *obj, const char *name, bool is_null);

/* ----------------------------------------------------------------- writes */

/* An object to fill and save: Book b = CORM_NEW(Book); */
#define CORM_NEW(Model) ((Model){._corm = {.model = &Model##_model}})

/* INSERT when obj's id is 0 (id is filled in), UPDATE otherwise.  Strings
** are read, not kept.  Errors on db (CORM_CONSTRAINT names the constraint). */
#define corm_save(db, obj) corm_save_at((db), (obj), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_save_at(corm_db *db, void *obj,
                                               corm_site site);
/* DELETE the row of obj (the database applies on_delete). */
#define corm_delete(db, obj) corm_delete_at((db), (obj), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_delete_at(corm_db *db, void *obj,
                                                 corm_site site);
/* Add / remove an m2m link: corm_m2m_add(db, book, BOOK_REL_GENRES, genre). */
#define corm_m2m_add(db, obj, rel, other) \
    corm_m2m_add_at((db), (obj), (rel), (other), CORM_SITE)
CORM_API CORM_WARN_UNUSED corm_rc corm_m2m_add_at(corm_db *db, void *obj,
                                                  int rel, const void *other,
                                                  corm_site site);

/* Transactions (nesting uses savepoints). */
CORM_API CORM_WARN_UNUSED corm_rc corm_begin(corm_db *db);
CORM_API CORM_WARN_UNUSED corm_rc corm_commit(corm_db *db);
CORM_API CORM_WARN_UNUSED corm_rc corm_rollback(corm_db *db);

/* ----------------------------------------------------------------- schema */

/*
** corm_schema_parse - read a .corm schema at run time (what `corm migrate`
** and `corm gen` do).  Generated code does not need it.
**   text  the schema source; copied.  path names it in errors ("-" if none)
**   err   filled with file:line:col, message and hint on failure
** Returns an owned schema for corm_schema_free, or NULL.
*/
CORM_API corm_schema *corm_schema_parse(const char *text, size_t len,
                                        const char *path, corm_error *err);
CORM_API corm_schema *corm_schema_parse_file(const char *path,
                                             corm_error *err);
CORM_API void corm_schema_free(corm_schema *schema);
/* The model called name, or NULL. */
CORM_API const corm_model *corm_schema_model(const corm_schema *schema,
                                             const char *name);

/* ------------------------------------------------------------- migrations */

/* Create the tables, indexes and constraints of db's schema on an empty
** database, in one transaction, and record it in corm_migrations.  Running
** it again on a migrated database is a no-op.  Errors on db. */
CORM_API CORM_WARN_UNUSED corm_rc corm_migrate(corm_db *db);

#ifdef __cplusplus
}
#endif
#endif
