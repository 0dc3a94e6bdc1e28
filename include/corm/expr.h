/*
** corm/expr.h - more of Django's query expressions: conditional
** aggregates, subqueries in filters, null ordering, boolean rows.
** Included by <corm.h>; include that.  docs/queryset.md.
*/
#ifndef CORM_EXPR_H
#define CORM_EXPR_H

#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** corm_agg_filter(qs, agg, q) - Django's Count("books", filter=Q(...)):
** the aggregate agg (corm_Count, corm_Sum, corm_Avg, corm_Min, corm_Max on
** qs) takes only the rows where q (a Q on qs) holds.  q's lookups are
** paths from the queryset's model, as agg's: in
**   corm_agg_filter(qs, corm_Count(qs, "books", false),
**                   corm_q_new(qs, "books__pages__gt", corm_int(300)))
** "books__pages" is the pages of the counted book, and a lookup not on
** "books" (say "name") is the row's own.  SQL: FILTER (WHERE ...) on the
** aggregate, or the condition in the correlated subquery of a to-many
** annotation.  Returns agg (NULL, with the error on qs, when agg is not an
** aggregate, q is NULL, or agg has a filter already).
*/
CORM_API corm_expr *corm_agg_filter(corm_qs *qs, corm_expr *agg, corm_q *q);

/*
** Aggregates of an expression of the row: Django's Sum(F("price") *
** F("pages")).  The expression uses fields and to-one paths (F, corm_V,
** corm_arith), not a to-many path (aggregate that with corm_Sum(qs,
** "books__pages")) nor another aggregate (annotate it, then aggregate
** the annotation by name).  corm_agg_filter applies to these too.
*/
CORM_API corm_expr *corm_CountOf(corm_qs *qs, corm_expr *e, bool distinct);
CORM_API corm_expr *corm_SumOf(corm_qs *qs, corm_expr *e);
CORM_API corm_expr *corm_AvgOf(corm_qs *qs, corm_expr *e);
CORM_API corm_expr *corm_MinOf(corm_qs *qs, corm_expr *e);
CORM_API corm_expr *corm_MaxOf(corm_qs *qs, corm_expr *e);

/*
** corm_Coalesce(qs, a, b) - Django's Coalesce(a, b): a, or b where a is
** NULL (nest it for more arguments).  corm_agg_default(qs, agg, v) is
** Django's default= of an aggregate, Sum("pages", default=0): agg, or v
** over no rows (aggregate() of an empty queryset gives v with no query).
** Count takes no default (it is 0 over no rows), as in Django.
*/
CORM_API corm_expr *corm_Coalesce(corm_qs *qs, corm_expr *a, corm_expr *b);
CORM_API corm_expr *corm_agg_default(corm_qs *qs, corm_expr *agg, corm_value v);

/*
** corm_filter_in(qs, "author", inner) - Django's filter(author__in=inner)
** with a queryset: one subquery, not a list of values.  inner (TAKEN:
** freed with qs, even on error) selects one column: the field given to
** corm_values_flat(inner, ...), or its pk when it has no values().  The
** lookup may end in "__in" or not.  corm_exclude_in: exclude(...__in=).
*/
CORM_API void corm_filter_in(corm_qs *qs, const char *lookup, corm_qs *inner);
CORM_API void corm_exclude_in(corm_qs *qs, const char *lookup, corm_qs *inner);

/*
** corm_q_expr(qs, e) - a Q of a boolean expression, Django's
** filter(Exists(...)) and filter(~Exists(...)):
**   corm_filter_q(qs, corm_q_expr(qs, corm_Exists(qs, inner)));
**   corm_filter_q(qs, corm_q_not(qs, corm_q_expr(qs, corm_Exists(qs, inner))));
** Combines with other Qs (corm_q_and, corm_q_or) as any Q.
*/
CORM_API corm_q *corm_q_expr(corm_qs *qs, corm_expr *e);

/*
** Ordering where NULLs go: Django's F("x").asc(nulls_last=True) is the
** term "x nulls last", desc(nulls_first=True) "-x nulls first":
**   corm_order_by(qs, "-published_date nulls last", "title");
** NULLS FIRST / NULLS LAST on both backends (SQLite 3.30 or later), also
** on annotations and in Subquery querysets; corm_last() flips both.  A
** term without it sorts NULLs as SQLite does, on both (docs/queryset.md).
**
** To-many paths in corm_order_by and corm_values ("books__title"): a LEFT
** JOIN, one row per related row (and one with NULL for none), as Django.
*/

/* A boolean cell of a values()/aggregate() row: bool fields and boolean
** expressions (Exists) are CORM_V_BOOL cells on both backends, as are
** such annotations of objects (corm_annotation).  false when NULL/absent. */
CORM_API bool corm_row_bool(const corm_qs *qs, size_t row, const char *col);

#ifdef __cplusplus
}
#endif

#endif
