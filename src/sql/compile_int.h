/*
** compile_int.h - what the files of the SQL compiler share: the join scope
** of one SELECT (nested scopes for subqueries), the compile context, and
** the helpers that resolve paths and write SQL.  Private to src/sql.
**
**   where.c   lookup paths, values, Q trees -> WHERE text
**   select.c  select_related, ordering, prefetch keys, the SELECT itself
**   expr.c    F, aggregates, annotations, Subquery/OuterRef/Exists
**   compile_write.c  the WHERE and SET of a queryset's UPDATE / DELETE
**   insert.c, update.c, delete.c, tx.c  the write statements (sql_int.h)
*/
#ifndef CORM_COMPILE_INT_H
#define CORM_COMPILE_INT_H

#include "sql_int.h"

#define MAX_JOINS 32
#define MAX_PARTS 16

typedef struct corm__join {
    int parent;               /* join index, -1 = the scope's base */
    const corm_relation *rel; /* to-one; to-many only in aggregate() */
    bool left;
    char alias[8]; /* an m2m join also uses alias + "j" */
} corm__join;

typedef struct corm__scope {
    const corm_model *base;
    char prefix; /* alias letter of this nesting level */
    char base_alias[8];
    corm__join joins[MAX_JOINS];
    int njoins;
    const corm__query *q;       /* its annotations name columns */
    struct corm__scope *parent; /* the enclosing query, for OuterRef */
    /* aggregate() over a subquery (select.c): the base is that subquery,
    ** whose annotations are columns an aggregate names */
    const corm__query *wrapped;
    /* the one to-many aggregate of an annotate() a filter() names,
    ** written as LEFT JOIN + GROUP BY (HAVING) rather than a correlated
    ** subquery repeated in WHERE (corm__pick_join_agg) */
    const struct corm_expr *join_agg;
} corm__scope;

typedef struct corm__sqlctx {
    const corm__dialect *d;
    corm__compiled *out;
    corm_error *err;
    /* the leaf being written compares with an expression (F, Subquery,
    ** OuterRef) rather than a value, resolved in rhs_scope */
    const struct corm_expr *rhs;
    corm__scope *rhs_scope;
    /* an aggregate's filter=Q(...): leaves whose lookup starts with the
    ** aggregate's to-many path `strip` (strip_len bytes, then "__") are
    ** conditions on the aggregated row, written without that prefix from
    ** node strip_node of strip_scope; the others on the outer row */
    const char *strip;
    size_t strip_len;
    corm__scope *strip_scope;
    int strip_node;
    /* integer and float values are written as literals, not bound: an
    ** expression grouped by its text (select.c group_by_mixed) must be the
    ** same text in the select list and in GROUP BY for PostgreSQL, and
    ** two parameters are two different expressions to it */
    bool inline_numbers;
} corm__sqlctx;

corm_rc corm__sql_nomem(corm__sqlctx *c);
/* Bind v as the next parameter and write its placeholder into w. */
corm_rc corm__sql_bind(corm__sqlctx *c, corm_buf *w, corm_value v);
void corm__scope_init(corm__scope *s, const corm_model *base, char prefix);
const char *corm__node_alias(const corm__scope *s, int node);
const corm_model *corm__node_model(const corm__scope *s, int node);
/* The join of rel from node parent (-1: the base), shared by every path
** that walks it.  Returns its index, or < -1 with the error set. */
int corm__scope_join(corm__sqlctx *c, corm__scope *s, int parent, const corm_relation *rel,
                     bool left);
void corm__col_ref(corm_buf *b, const char *alias, const char *column);
void corm__render_joins(const corm__scope *s, corm_buf *b);
corm_rc corm__unknown_name(corm__sqlctx *c, const corm_model *m, const char *name,
                           const char *lookup);
/* Split "a__b__c" into at most MAX_PARTS parts, copied into the compile arena. */
corm_rc corm__split_path(corm__sqlctx *c, const char *path, char **parts, int *n);
corm_rc corm__render_q(corm__sqlctx *c, corm__scope *s, const struct corm_q *q, bool negated,
                       corm_buf *w);
int corm__find_lookup(const char *s);
/* An order_by term: "-name nulls last" -> name (copied into buf), desc,
** nulls (0 the backend's default made SQLite's, 1 NULLS FIRST, 2 NULLS
** LAST).  NULL when it does not fit buf. */
const char *corm__order_term(const char *term, bool *desc, int *nulls, char *buf, size_t n);
/* A path's column through to-one and (LEFT JOINed) to-many relations:
** values("books__title") and order_by("books__title"), a row per related
** row as Django. */
corm_rc corm__path_column_many(corm__sqlctx *c, corm__scope *s, const char *path, corm_buf *w,
                               const corm_field **field);
/* The length of q's to-many prefix from model m: "books" of
** "books__pages__gt" (to-one hops before it included: "author__books"),
** when every leaf of q starts with the same one and goes on past it (not
** "books__isnull"), without NOT or expressions; 0 otherwise. */
size_t corm__q_tomany_prefix(const corm_model *m, const struct corm_q *q, const char **prefix);
/* A copy of q (compile arena) with every lookup after its first len + 2
** bytes: the conditions of a to-many prefix, seen from the related row. */
struct corm_q *corm__q_strip(corm__sqlctx *c, const struct corm_q *q, size_t len);
/* The conjuncts of filter() calls [0, ncalls) of where whose to-many
** prefix is `prefix` (len bytes), stripped of it and ANDed; NULL if none
** (or out of memory: then *rc says so).  strip false: as they are. */
struct corm_q *corm__q_calls_on(corm__sqlctx *c, const corm_model *m, const struct corm_q *where,
                                int ncalls, const char *prefix, size_t len, bool strip,
                                corm_rc *rc);
/* expr.c: the annotation aggregate q's SELECT (scope s) can write over a
** LEFT JOIN with GROUP BY, its filter going to HAVING: the only aggregate
** of q's annotations, over one to-many relation of the base (then at most
** a field), without filter=Q or filter() calls before it on that
** relation, named by a filter of q; no ordering crossing a to-many
** relation, no filter comparing with an expression.  NULL: keep the
** correlated subquery. */
const struct corm_expr *corm__pick_join_agg(corm__sqlctx *c, const corm__scope *s,
                                            const corm__query *q);
/* search.c: the `search` lookup on f (col_sql its column). */
corm_rc corm__sql_search(corm__sqlctx *c, corm_buf *w, const char *col_sql, const corm_model *m,
                         const corm_field *f, const corm_value *v, const char *path);
bool corm__is_pk_name(const char *s);

/* compile_write.c: the pieces UPDATE and DELETE statements share */
/* The model's default scopes (corm_model.scopes) of the scope's base as
** conditions ANDed to w; nothing when q->unscoped. */
corm_rc corm__render_scopes(corm__sqlctx *c, corm__scope *s, const corm__query *q, corm_buf *w);
/* The WHERE of q (filters and default scopes; ordering, slices and
** select_related ignored) for an UPDATE or DELETE whose target table is
** aliased T0 (`UPDATE "book" AS T0 ...`): appended to w, its parameters to
** out->params after those already there, numbered on from them.  Filters
** that need a join become `T0."id" IN (SELECT T0."id" FROM ... WHERE ...)`.
** *empty is set when there is no condition at all (w untouched). */
corm_rc corm__compile_where(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                            corm_buf *w, bool *empty, corm_error *err);
/* ` WHERE <the same>` appended to out->sql, or nothing when q has no
** condition. */
corm_rc corm__render_write_where(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                                 corm_error *err);
/* Expression e (corm_F, corm_arith, ...) as the value of a SET clause of an
** UPDATE of q's model aliased T0: no aggregates, no joined fields. */
corm_rc corm__compile_set_expr(const corm__query *q, const corm__dialect *d, corm__compiled *out,
                               corm_buf *w, const struct corm_expr *e, corm_error *err);
/* Room in out->params for n more parameters, so the binds of a statement
** whose size is known grow nothing (where.c). */
corm_rc corm__compiled_reserve(corm__sqlctx *c, size_t n);
/* corm__sql_bind into room reserved before: no check, nothing grows. */
static inline void corm__sql_bind_reserved(corm__sqlctx *c, corm_buf *w, corm_value v)
{
    c->out->params[c->out->nparams++] = v;
    corm__sql_param(w, c->d, c->out->nparams);
}
/* Append a placeholder for v to w and v to out->params (numbered in turn). */
corm_rc corm__compiled_param(corm__compiled *out, const corm__dialect *d, corm_buf *w, corm_value v,
                             corm_error *err);
/* select.c: ` IN <keys>` after a key column: keys[0..n) (n > 0) as one
** parameter between the dialect's keys_open and keys_close. */
corm_rc corm__render_keys(corm__sqlctx *c, corm_buf *w, const int64_t *keys, size_t n);

/* insert.c: the pieces unnest.c's INSERT shares with the others */
/* A NOT NULL column with a schema default: a NULL in it takes the
** default, as a single save leaves the column out. */
bool corm__sql_has_default(const corm_field *f);
/* INSERT INTO t (c1, c2)<then> */
void corm__sql_insert_head(const corm__insert *ins, corm_buf *b, const char *then);
/* The conflict clause, then RETURNING. */
void corm__sql_insert_tail(const corm__insert *ins, corm_buf *b);

/* expr.c */
/* Write expression e (resolved in scope s) into w.  *local_agg is set
** when e aggregates rows of this query itself (needs GROUP BY). */
corm_rc corm__render_expr(corm__sqlctx *c, corm__scope *s, const struct corm_expr *e, corm_buf *w,
                          bool *local_agg);
/* The annotation of s's query called name, or NULL. */
const corm__annot *corm__find_annot(const corm__scope *s, const char *name);
/* Whether a Q tree refers to an annotation that aggregates locally (then it
** belongs in HAVING). */
bool corm__q_has_local_agg(corm__sqlctx *c, corm__scope *s, const struct corm_q *q);
/* Whether e aggregates the query's own rows (an aggregate not over a
** to-many path, or an annotation that does). */
bool corm__expr_local_agg(const struct corm_expr *e, const corm__scope *s);
/* Resolve a to-one path to its column, adding joins: "author__name". */
corm_rc corm__path_column(corm__sqlctx *c, corm__scope *s, const char *path, corm_buf *w,
                          const corm_field **field);
/* A whole SELECT for a subquery, in a scope nested in parent: columns are
** `select_sql` (e.g. "1") or, when NULL, q->values[0]. */
corm_rc corm__render_subselect(corm__sqlctx *c, corm__scope *parent, const corm__query *q,
                               const char *select_sql, corm_buf *w);

#endif
