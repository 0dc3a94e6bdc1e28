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
struct corm_expr {
    corm__ekind kind;
    const char *path; /* FIELD, AGG, OUTER */
    corm_value value; /* VALUE */
    corm__agg agg;
    bool distinct;
    char op; /* BINOP: + - * / */
    struct corm_expr *a, *b;
    const struct corm__query *sub; /* SUBQUERY (selects sub->values[0]), EXISTS */
};

/* A Q tree node.  Leaves hold a lookup and a deep-copied value, or an
** expression (rhs) to compare with: filter(pages__gt=F("price")). */
typedef enum { CORM__Q_LEAF, CORM__Q_AND, CORM__Q_OR, CORM__Q_NOT } corm__qkind;

struct corm_q {
    corm__qkind kind;
    struct corm_q *a, *b;
    const char *lookup;
    corm_value value;
    struct corm_expr *rhs;
};

typedef struct corm__annot {
    const char *name;
    struct corm_expr *e;
} corm__annot;

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
    unsigned char spare_[5]; /* padding, spelled out (see above) */
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
    const char **colnames; /* values/aggregate mode: the column names */
    corm_arena arena;      /* strings made while compiling */
} corm__compiled;

void corm__compiled_init(corm__compiled *c);
void corm__compiled_free(corm__compiled *c);

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
/* The WHERE of q (filters and default scopes; ordering, slices and
** select_related ignored) for an UPDATE or DELETE whose target table is
** aliased T0 (`UPDATE "book" AS T0 ...`): appended to w, its parameters to
** out->params after those already there, numbered on from them.  Filters
** that need a join become `T0."id" IN (SELECT T0."id" FROM ... WHERE ...)`.
** *empty is set when there is no condition at all (w untouched). */
corm_rc corm__compile_where(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                            corm_buf *w, bool *empty, corm_error *err);
/* Expression e (corm_F, corm_arith, ...) as the value of a SET clause of an
** UPDATE of q's model aliased T0: no aggregates, no joined fields. */
corm_rc corm__compile_set_expr(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                               corm_buf *w, const struct corm_expr *e, corm_error *err);
/* Append a placeholder for v to w and v to out->params (numbered in turn). */
corm_rc corm__compiled_param(corm__compiled *out, const corm__dialect *d, corm_buf *w, corm_value v,
                             corm_error *err);

/* Deep-copy v into a (lists and strings), for builders that keep values. */
corm_rc corm__value_copy(corm_arena *a, corm_value *dst, const corm_value *src);

#endif
