/*
** typecheck.h - the builder's type rules for expressions (issue 13, defect
** 8): arithmetic on numbers, Sum/Avg of numbers, a comparison between
** operands of one kind, checked against the schema when the expression is
** built, so that SQLite (which coerces) and PostgreSQL (which refuses)
** give the same answer: CORM_TYPE on the queryset, naming the operands
** and their types.  A path the schema does not resolve is left to the
** compiler, which names it.
*/
#ifndef CORM_QS_TYPECHECK_H
#define CORM_QS_TYPECHECK_H

#include "qs_int.h"

/* Arithmetic a op b: both operands numbers (or of unknown type). */
bool corm__tc_arith(corm_qs *qs, const corm_expr *a, char op, const corm_expr *b);
/* Sum/Avg(path) (agg is the function's name): path is a number. */
bool corm__tc_agg(corm_qs *qs, const char *agg, const char *path);
/* filter(lookup=rhs): the field of lookup and rhs of one kind. */
bool corm__tc_compare(corm_qs *qs, const char *lookup, const corm_expr *rhs);

#endif
