/*
** sql_int.h - the query representation the queryset builds, and the
** compiler that turns it into SQL text plus bound parameters for one
** dialect.  Knows models (src/schema) and dialects; never a connection.
**
** Invariants of compiled SQL: identifiers come only from the schema and are
** quoted; every value is a placeholder whose parameter is in out->params,
** in order (so "number of placeholders == nparams").
*/
#ifndef CORM_SQL_INT_H
#define CORM_SQL_INT_H

#include "../core/core_int.h"
#include "../schema/schema_int.h"
#include "dialect.h"

/* ---- default-scope values of one db (corm_scope_set): plain named
** values the compiler reads (the db, src/db, stores them).  Text values
** point into `text` of their own slot. */
#define CORM__MAX_SCOPES 8
typedef struct corm__scope_env {
    int n;
    struct {
        char name[64];
        corm_value v;
        char text[256];
    } vals[CORM__MAX_SCOPES];
} corm__scope_env;

/* An expression: F("pages"), a value, an aggregate over a path, arithmetic,
** a subquery, Exists, OuterRef.  Lives in the builder's arena. */
typedef enum {
    CORM__E_FIELD,
    CORM__E_VALUE,
    CORM__E_AGG,
    CORM__E_BINOP,
    CORM__E_SUBQUERY,
    CORM__E_EXISTS,
    CORM__E_OUTER
} corm__ekind;

typedef enum {
    CORM__AGG_COUNT,
    CORM__AGG_SUM,
    CORM__AGG_AVG,
    CORM__AGG_MIN,
    CORM__AGG_MAX
} corm__agg;

struct corm__query;
struct corm__annot;
/* The op of a BINOP that is COALESCE(a, b) (Django's Coalesce, and an
** aggregate's default=), not arithmetic. */
#define CORM__OP_COALESCE 'C'

struct corm_expr {
    corm__ekind kind;
    const char *path; /* FIELD, AGG, OUTER */
    corm_value value; /* VALUE */
    corm__agg agg;
    bool distinct;
    char op; /* BINOP: + - * / */
    struct corm_expr *a, *b;
    const struct corm__query *sub; /* SUBQUERY (selects sub->values[0]), EXISTS */
    /* AGG: Django's filter=Q(...): only the rows where it holds count
    ** (paths from the queryset's model, as the aggregate's own) */
    struct corm_q *filter;
    /* AGG in annotate(): how many filter() calls the queryset had then;
    ** the conditions of those on the aggregate's to-many relation restrict
    ** the rows it aggregates (Django's "filter() then annotate()") */
    int calls_before;
    bool calls_set;
};

/* A Q tree node.  Leaves hold a lookup and a deep-copied value, or an
** expression (rhs) to compare with: filter(pages__gt=F("price")). */
/* CORM__Q_ROW_GT / _LT: a row-value comparison `(c1, c2, ...) > (?, ?, ...)`
** (keyset pagination, src/qs/keyset.c): `a` is the first column's leaf
** (lookup: a field of the base model or "pk"; value: the bound value), `b`
** the next ROW node of the same kind or, for the last column, a leaf. */
typedef enum {
    CORM__Q_LEAF,
    CORM__Q_AND,
    CORM__Q_OR,
    CORM__Q_NOT,
    CORM__Q_ROW_GT,
    CORM__Q_ROW_LT
} corm__qkind;

struct corm_q {
    corm__qkind kind;
    struct corm_q *a, *b;
    const char *lookup;
    corm_value value;
    struct corm_expr *rhs;
    /* an AND joining two filter() calls (not an AND inside one call's Q):
    ** conditions on a to-many relation within one call hold for the same
    ** related row, across calls for any (Django's multi-valued rule) */
    bool chain;
};

/* Whether e (of query q) is a boolean: Exists, a bool field, an
** annotation or Subquery of one.  Both backends return those as 0/1. */
bool corm__expr_is_bool(const struct corm__query *q, const struct corm_expr *e);
/* Whether path (from m, through to-one relations) is a bool field. */
bool corm__path_is_bool(const corm_model *m, const char *path);
/* The field path names (from m, through relations), or NULL. */
const corm_field *corm__path_field(const corm_model *m, const char *path);
/* The field whose values e gives (a field path, an annotation or Subquery
** of one), or the decimal field of a Sum, Min or Max over one; else NULL. */
const corm_field *corm__expr_field(const struct corm__query *q, const struct corm_expr *e);

/* Whether q selects no row whatever the data, so it needs no query:
** Django's EmptyResultSet (a filter with an `in` of an empty list, not
** negated) and a slice [n:n]. */
bool corm__query_empty(const struct corm__query *q);

/* Whether annotation an of q is out of reach by name: an aggregate()
** result named like a field of q's model (aggregate(price=Sum("price")))
** names its column only, and F("price") is the field. */
bool corm__annot_hidden(const struct corm__query *q, const struct corm__annot *an);

/* The number of filter() calls in a WHERE tree (the AND chain of them). */
int corm__q_ncalls(const struct corm_q *where);

typedef struct corm__annot {
    const char *name;
    struct corm_expr *e;
    bool aggregate; /* given to aggregate(), not annotate() */
} corm__annot;

/* An annotation name whose expression e would refer back to it, through
** F() of annotations[0..n) (which are free of cycles): CORM_INVALID on err
** naming the cycle ("a -> b -> a"), else CORM_OK.  `what` names the call. */
corm_rc corm__annot_check_cycle(const corm__annot *annots, int n, const char *name,
                                const struct corm_expr *e, const char *what, corm_error *err);

/* What a queryset asks for; strings and values live in the builder arena.
** The compiled-SQL memo keys on it (src/sql/memo.c): a new member must go
** into that key, and a compile-time tripwire there lists every member.
** For the tripwire the struct has no padding (on LP64): 8-byte members,
** then the ints, then the bools, then spare_ to fill the last word. */
typedef struct corm__query {
    const corm_model *model;
    struct corm_q *where;  /* NULL: every row */
    const char **order;    /* "-field" descending */
    const char **related;  /* select_related paths */
    int64_t offset, limit; /* limit < 0: none */
    corm__annot *annots;   /* annotate(): extra columns, filterable */
    const char **values;   /* values(): columns instead of objects */
    const char **only;     /* only() fields, or defer() fields */
    /* Prefetch: only the rows related through `via` (a relation of
    ** via_from) to the parents whose keys are given - parent ids, or for a
    ** forward fk the key values.  The SELECT gets one more column, the
    ** parent key (corm__compiled.key_col).  A slice then means "per
    ** parent" and becomes a ROW_NUMBER() window, never a LIMIT. */
    const corm_model *via_from;
    const corm_relation *via;
    const int64_t *via_keys;
    size_t nvia_keys;
    /* Default scopes (corm_model.scopes) are ANDed to the WHERE of the
    ** base model unless `unscoped`; runtime ones read their value from
    ** `scopes` (the db's, may be NULL: then they fail with CORM_MISUSE). */
    const corm__scope_env *scopes;
    int norder, nrelated, nannots, nvalues, nonly;
    bool order_set;     /* order_by called (even with nothing) */
    bool reverse_order; /* last(): flip every ordering term */
    bool distinct;
    bool aggregate;   /* aggregate(): one row of the annotations */
    bool values_mode; /* values() */
    bool defer;       /* `only` lists defer() fields */
    bool unscoped;
    /* Prefetch: the parents are every row of via_from's table (an
    ** unfiltered, unsliced queryset, read in the same snapshot), so no key
    ** list is sent: the query reads the related rows of the whole table and
    ** the stitching drops rows of parents it does not have.  to-many only. */
    bool via_all;
    unsigned char spare_[4]; /* padding, spelled out (see above) */
} corm__query;

typedef enum {
    CORM__SEL_OBJECTS, /* every column of the model and joined models */
    CORM__SEL_COUNT,   /* one row: COUNT(*) */
    CORM__SEL_EXISTS   /* at most one row */
} corm__sel_kind;

#define CORM__MAX_NODES 32

/* One model instance per result row: the base (node 0) or a select_related
** relation of an earlier node.  Columns first_col .. first_col+nfields-1. */
typedef struct corm__sel_node {
    const corm_model *model;
    int parent;               /* -1 for the base */
    const corm_relation *rel; /* relation from the parent */
    int first_col;
    uint64_t mask; /* fields selected (only/defer), in order */
} corm__sel_node;

typedef struct corm__compiled {
    corm_buf sql;
    corm_value *params;
    int nparams, cap;
    corm__sel_node nodes[CORM__MAX_NODES];
    int nnodes;
    int ncols;
    int key_col;   /* the parent key column, or -1 */
    int annot_col; /* first annotation column (objects mode) */
    int nannots;
    /* set by the compiled-SQL memo when its key's walk of the where tree met
    ** no leaf of an empty list: the query is then empty only for a limit of
    ** 0 (corm__compiled_query_empty); false: not known */
    bool no_empty_list;
    /* a memoized text's fingerprint (corm__fingerprint), computed once for
    ** its memo entry; 0: not known (the instrumentation computes it) */
    uint64_t fp;
    uint64_t text_hash;    /* with fp: corm__hash_fast of the text, or 0 */
    const char **colnames; /* values/aggregate mode: the column names */
    const bool *colbool;   /* values/aggregate mode: which are booleans (or NULL) */
    /* values/aggregate mode: the field each column reads (corm__expr_field;
    ** NULL entries for others), or NULL */
    const corm_field *const *colfield;
    corm_arena arena; /* strings made while compiling */
    /* a memo hit's parameters and text when they fit: no allocation (last,
    ** and not cleared by corm__compiled_init; params/sql point in here) */
    corm_value inl_params[8];
    char inl_sql[512];
} corm__compiled;

/* corm__query_empty of the q that c was compiled from, the where tree not
** walked again when the memo's key walk said it has no empty list. */
static inline bool corm__compiled_query_empty(const corm__compiled *c, const corm__query *q)
{
    return c->no_empty_list ? q->limit == 0 : corm__query_empty(q);
}

void corm__compiled_init(corm__compiled *c);
void corm__compiled_free(corm__compiled *c);
/* Empty c for the next statement of a loop, keeping its memory (the
** text, parameters and strings of a write statement; not a SELECT plan). */
void corm__compiled_reset(corm__compiled *c);

/* Compile q.  On failure err says what (unknown field with did-you-mean,
** unknown lookup with the list, wrong value type) and out is freeable.
** With out->sql discarding (corm__buf_discard) no text is written: only
** the parameters and the plan, as the compiled-SQL memo needs on a hit. */
corm_rc corm__compile_select(const corm__query *q, corm__sel_kind kind, const corm__dialect *d,
                             corm__compiled *out, corm_error *err);

/* As corm__compile_select, through memo (a db's): a query whose shape was
** compiled before gets its text from there and only binds its parameters
** (src/sql/memo.c).  memo NULL: compile. */
corm_rc corm__compile_select_memo(corm__memo *memo, const corm__query *q, corm__sel_kind kind,
                                  const corm__dialect *d, corm__compiled *out, corm_error *err);

/* ---- writes: INSERT, UPDATE, DELETE and the statements around them
** (src/sql/insert.c, update.c, delete.c, tx.c).  The write layer (src/write)
** decides what to write; every byte of SQL text it runs comes from here.
**
** Two shapes of output:
**   - row statements (corm__compile_*_row, the m2m link insert): text
**     only, prepared once and bound per row, in a corm_buf.  Parameter i is
**     the value of column i in the order given, then the row's id where
**     the statement has a WHERE "id" = ?.
**   - data statements: values, keys and filters inlined as parameters, in
**     a corm__compiled (out->sql, out->params, strings in out->arena).
** Every function appends; on failure err says what and the output is
** freeable.  Identifiers come from the descriptors, always quoted. */

/* Fill cells[] with the values of row `row` of a multi-row statement
** (which values, in which order, each function says; at most
** CORM_MAX_FIELDS + 1).  The signature of the db's executemany fill, so
** one function serves a statement prepared once and one with every row
** inlined. */
typedef corm_rc (*corm__row_fn)(void *ud, size_t row, corm_value *cells);

typedef enum {
    CORM__CONFLICT_NONE,
    CORM__CONFLICT_IGNORE, /* ON CONFLICT DO NOTHING */
    CORM__CONFLICT_UPDATE  /* ON CONFLICT (target) DO UPDATE SET update = EXCLUDED.update */
} corm__conflict;

/* The shape of an INSERT into model's table. */
typedef struct corm__insert {
    const corm_model *model;
    const corm_field *const *cols; /* in VALUES order */
    int ncols;
    corm__conflict conflict;
    const corm_field *const *target; /* CORM__CONFLICT_UPDATE */
    int ntarget;
    const corm_field *const *update;
    int nupdate;
    bool returning_id; /* RETURNING "id" */
    /* Row form: a column with a schema default is COALESCE(?, default),
    ** so one prepared statement gives NULL the default in every row. */
    bool coalesce_defaults;
} corm__insert;

/* INSERT INTO t (c1, ...) VALUES (?, ...) [conflict] [RETURNING "id"]; no
** columns: INSERT INTO t DEFAULT VALUES. */
corm_rc corm__compile_insert_row(const corm__insert *ins, const corm__dialect *d, corm_buf *sql,
                                 corm_error *err);
/* The multi-row INSERT of rows 0..nrows): fill gives the values of
** ins->cols of a row; a NULL in a NOT NULL column with a schema default
** is the default's literal, as a single save leaves the column out.
** out->params is sized for every value at once. */
corm_rc corm__compile_insert_rows(const corm__insert *ins, const corm__dialect *d, size_t nrows,
                                  corm__row_fn fill, void *ud, corm__compiled *out,
                                  corm_error *err);
/* `UPDATE "t" SET "f" = corm_v.<col><first + i>, ...` (update.c): the
** head of a bulk update from a row source named corm_v. */
void corm__sql_update_set_from(corm_buf *sql, const corm_model *m, const corm_field *const *fields,
                               int nfields, const char *col, int first);

/* Dialects with bulk_arrays (unnest.c): rows from 0 until nrows, or until
** the arrays hold more than max_bytes (at least one row), as one array
** parameter per column, their text in arrays[] (the caller's buffers, one
** per column, reused from batch to batch; the parameters point into them):
**   INSERT INTO t (c1, ...) SELECT corm_v.c1, COALESCE(corm_v.c2, dflt), ...
**   FROM unnest(CAST($1 AS type[]), ...) AS corm_v(c1, ...) [conflict]
**   [RETURNING "id"]
** (ins->ncols >= 1; a NULL in a NOT NULL column with a schema default is
** the default).  *used = the rows written into the statement. */
corm_rc corm__compile_insert_arrays(const corm__insert *ins, const corm__dialect *d, size_t nrows,
                                    size_t max_bytes, corm__row_fn fill, void *ud, corm_buf *arrays,
                                    size_t *used, corm__compiled *out, corm_error *err);
/* INSERT INTO through (src, dst) VALUES (?, ?): a link row of m2m r. */
corm_rc corm__compile_link_insert(const corm_relation *r, const corm__dialect *d, corm_buf *sql,
                                  corm_error *err);
/* Many-to-many writes on r's link table, from the side whose id is src
** (link.c), as data statements: */
/* INSERT INTO through (src, dst) VALUES (?, ?), ... ON CONFLICT DO NOTHING:
** the links to dst[0..n) (n > 0) not there yet. */
corm_rc corm__compile_link_add(const corm_relation *r, const corm__dialect *d, int64_t src,
                               const int64_t *dst, size_t n, corm__compiled *out, corm_error *err);
/* DELETE FROM through WHERE src = ? [AND dst IN <dst[0..n)>]: dst NULL
** removes every link of src (clear()). */
corm_rc corm__compile_link_remove(const corm_relation *r, const corm__dialect *d, int64_t src,
                                  const int64_t *dst, size_t n, corm__compiled *out,
                                  corm_error *err);
/* SELECT dst FROM through WHERE src = ?: the ids src is linked to. */
corm_rc corm__compile_link_targets(const corm_relation *r, const corm__dialect *d, int64_t src,
                                   corm__compiled *out, corm_error *err);
/* After rows of m were inserted with ids of their own, the statement that
** moves the id generator past them (dialect.h sync_ids); sql is left
** empty when the dialect needs none. */
corm_rc corm__compile_sync_ids(const corm_model *m, const corm__dialect *d, corm_buf *sql,
                               corm_error *err);

/* UPDATE t SET c1 = ?, ... WHERE "id" = ? (save, bulk_update row by row). */
corm_rc corm__compile_update_row(const corm_model *m, const corm_field *const *cols, int ncols,
                                 const corm__dialect *d, corm_buf *sql, corm_error *err);
/* QuerySet.update(): UPDATE t AS T0 SET ... [WHERE <q's filters and
** scopes>].  Each assignment is checked (a field of the model but not its
** id, set once, a value of the field's type, an operator of + - * /, an
** expression without aggregates or joins); the SET parameters come first. */
corm_rc corm__compile_update(const corm__query *q, const corm_assign *set, size_t nset,
                             const corm__dialect *d, corm__compiled *out, corm_error *err);
/* bulk_update of rows 0..nrows) in one statement: fill gives a row's
** values of fields[0..nfields), then its id (the row UPDATE's parameters).
**   case:   UPDATE t SET f = CASE "id" WHEN ? THEN ? ... ELSE f END, ...
**           WHERE "id" <keys>  (Django's form)
**   values: UPDATE t SET f = corm_v.column2, ... FROM (VALUES (?, ?), ...)
**           AS corm_v WHERE t."id" = corm_v.column1
** Where the dialect casts bulk parameters (cast_bulk_params), the CASE
** and the first VALUES row are CAST to the columns' types.  The CASE,
** written field by field, reads every row first (one allocation). */
corm_rc corm__compile_update_case(const corm_model *m, const corm_field *const *fields, int nfields,
                                  size_t nrows, corm__row_fn fill, void *ud, const corm__dialect *d,
                                  corm__compiled *out, corm_error *err);
corm_rc corm__compile_update_values(const corm_model *m, const corm_field *const *fields,
                                    int nfields, size_t nrows, corm__row_fn fill, void *ud,
                                    const corm__dialect *d, corm__compiled *out, corm_error *err);

/*   arrays: UPDATE t SET f = corm_v.c1, ... FROM unnest(CAST($1 AS type[]),
**           ..., CAST($n AS bigint[])) AS corm_v(c1, ..., cn) WHERE t."id" =
**           corm_v.cn  (dialects with bulk_arrays; arrays and *used as
**           corm__compile_insert_arrays, nfields + 1 buffers) */
corm_rc corm__compile_update_arrays(const corm_model *m, const corm_field *const *fields,
                                    int nfields, size_t nrows, size_t max_bytes, corm__row_fn fill,
                                    void *ud, corm_buf *arrays, size_t *used,
                                    const corm__dialect *d, corm__compiled *out, corm_error *err);

/* QuerySet.delete() of a model nothing points at: DELETE FROM t AS T0
** [WHERE <q's filters and scopes>]. */
corm_rc corm__compile_delete(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                             corm_error *err);
/* The ids q matches, for the delete collector: SELECT T0."id" FROM t T0
** [WHERE ...]. */
corm_rc corm__compile_select_ids(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                                 corm_error *err);
/* The collector's statements on the rows whose `column` is one of keys[0..n)
** (n > 0), the keys as one parameter (dialect.h keys_*):
**   delete_in:   DELETE FROM table WHERE column <keys>
**   set_null_in: UPDATE table SET column = NULL WHERE column <keys>
**   select_in:   SELECT cols FROM m WHERE key <keys> */
corm_rc corm__compile_delete_in(const char *table, const char *column, const int64_t *keys,
                                size_t n, const corm__dialect *d, corm__compiled *out,
                                corm_error *err);
corm_rc corm__compile_set_null_in(const char *table, const char *column, const int64_t *keys,
                                  size_t n, const corm__dialect *d, corm__compiled *out,
                                  corm_error *err);
corm_rc corm__compile_select_in(const corm_model *m, const corm_field *const *cols, int ncols,
                                const corm_field *key, const int64_t *keys, size_t n,
                                const corm__dialect *d, corm__compiled *out, corm_error *err);

/* EXPLAIN of a compiled SELECT, the dialect's prefix: appended to out. */
void corm__compile_explain(const char *select_sql, const corm__dialect *d, corm_buf *out);

/* The transaction statements a write runs to be all-or-nothing (tx.c):
** its own savepoint is corm_op. */
typedef enum {
    CORM__TX_BEGIN,
    CORM__TX_COMMIT,
    CORM__TX_ROLLBACK,
    CORM__TX_SAVEPOINT,         /* SAVEPOINT corm_op */
    CORM__TX_RELEASE,           /* RELEASE SAVEPOINT corm_op */
    CORM__TX_ROLLBACK_SAVEPOINT /* back to corm_op, then released */
} corm__tx_stmt;
const char *corm__sql_tx(corm__tx_stmt s);

/* Deep-copy v into a (lists and strings), for builders that keep values. */
corm_rc corm__value_copy(corm_arena *a, corm_value *dst, const corm_value *src);

/* ---- raw SQL (raw.c): Django's portable placeholders.  When sql has a %s
** or %% outside string literals, quoted identifiers and comments, append
** its text for dialect d to b (%s -> the next placeholder, %% -> %) and
** set *translated; errors (a lone %, a count of %s other than nparams)
** go to err.  Native text (neither) is left alone: *translated false. */
corm_rc corm__sql_raw_translate(const char *sql, const corm__dialect *d, int nparams, corm_buf *b,
                                bool *translated, corm_error *err);

#endif
