/*
** compile_int.h - what the files of the SQL compiler share: the join scope
** of one SELECT (nested scopes for subqueries), the compile context, and
** the helpers that resolve paths and write SQL.  Private to src/sql.
**
**   where.c   lookup paths, values, Q trees -> WHERE text
**   select.c  select_related, ordering, prefetch keys, the SELECT itself
**   expr.c    F, aggregates, annotations, Subquery/OuterRef/Exists
*/
#ifndef CORM_COMPILE_INT_H
#define CORM_COMPILE_INT_H

#include "sql_int.h"

#define MAX_JOINS 32
#define MAX_PARTS 16

typedef struct corm__join {
    int parent;                   /* join index, -1 = the scope's base */
    const corm_relation *rel;     /* FK/O2O forward or REVERSE_O2O */
    bool left;
    char alias[8];
} corm__join;

typedef struct corm__scope {
    const corm_model *base;
    char prefix;                  /* alias letter of this nesting level */
    char base_alias[8];
    corm__join joins[MAX_JOINS];
    int njoins;
} corm__scope;

typedef struct corm__sqlctx {
    const corm__dialect *d;
    corm__compiled *out;
    corm_error *err;
} corm__sqlctx;


corm_rc corm__sql_nomem(corm__sqlctx *c);
/* Bind v as the next parameter and write its placeholder into w. */
corm_rc corm__sql_bind(corm__sqlctx *c, corm_buf *w, corm_value v);
void corm__scope_init(corm__scope *s, const corm_model *base, char prefix);
const char *corm__node_alias(const corm__scope *s, int node);
const corm_model *corm__node_model(const corm__scope *s, int node);
/* The join of rel from node parent (-1: the base), shared by every path
** that walks it.  Returns its index, or < -1 with the error set. */
int corm__scope_join(corm__sqlctx *c, corm__scope *s, int parent,
                     const corm_relation *rel, bool left);
void corm__col_ref(corm_buf *b, const char *alias, const char *column);
void corm__render_joins(const corm__scope *s, corm_buf *b);
corm_rc corm__unknown_name(corm__sqlctx *c, const corm_model *m, const char *name,
                           const char *lookup);
/* Split "a__b__c" into at most MAX_PARTS parts, copied into the compile arena. */
corm_rc corm__split_path(corm__sqlctx *c, const char *path, char **parts, int *n);
corm_rc corm__render_q(corm__sqlctx *c, corm__scope *s, const struct corm_q *q,
                       bool negated, corm_buf *w);
int corm__find_lookup(const char *s);
bool corm__is_pk_name(const char *s);

#endif
