/*
** where.c - lookup paths, values and Q trees -> the WHERE of a query.
**
** Lookup paths ("author__country__name__iexact") are resolved against the
** model descriptors.  To-one hops become joins of the query (reused by every
** term that walks the same path); a to-many hop becomes a semi-join
** `key IN (SELECT ...)`, so a filter never multiplies rows - which is what
** Django gives for each filter() call followed by distinct(), and exactly
** Django's semantics for exclude().
**
** Every value becomes a placeholder; the WHERE clause is rendered before
** the clauses around it only when those hold no placeholders, so the order
** of out->params is the order of the placeholders in the text.
*/
#include "compile_int.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { TR_NONE, TR_YEAR, TR_MONTH, TR_DAY };
enum {
    LK_EXACT,
    LK_IEXACT,
    LK_CONTAINS,
    LK_ICONTAINS,
    LK_STARTSWITH,
    LK_ISTARTSWITH,
    LK_ENDSWITH,
    LK_IENDSWITH,
    LK_GT,
    LK_GTE,
    LK_LT,
    LK_LTE,
    LK_IN,
    LK_ISNULL,
    LK_RANGE,
    LK_SEARCH,
    LK_COUNT_
};

static const char *const lookup_names[LK_COUNT_] = {
    "exact",    "iexact",    "contains", "icontains", "startswith", "istartswith",
    "endswith", "iendswith", "gt",       "gte",       "lt",         "lte",
    "in",       "isnull",    "range",    "search",
};
static const char *const transform_names[] = {"year", "month", "day"};
static const char lookup_list[] =
    "exact, iexact, contains, icontains, startswith, istartswith, endswith, "
    "iendswith, gt, gte, lt, lte, in, isnull, range, search; year, month, day on dates";

int corm__find_lookup(const char *s)
{
    for (int i = 0; i < LK_COUNT_; i++)
        if (strcmp(s, lookup_names[i]) == 0) return i;
    return -1;
}

static int find_transform(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, transform_names[i]) == 0) return TR_YEAR + i;
    return -1;
}

bool corm__is_pk_name(const char *s) { return strcmp(s, "pk") == 0 || strcmp(s, "id") == 0; }

_Static_assert(offsetof(corm__compiled, sql) + sizeof(corm_buf) <= offsetof(corm__compiled, nodes),
               "corm__compiled_init's first memset clears the text's buffer");

void corm__compiled_init(corm__compiled *c)
{
    /* the plan's nodes are written when counted (nnodes) and the inline
    ** areas when used: neither is cleared (1.7 KB a statement) */
    memset(c, 0, offsetof(corm__compiled, nodes));
    memset(&c->nnodes, 0, offsetof(corm__compiled, inl_params) - offsetof(corm__compiled, nnodes));
    corm__arena_init(&c->arena, 1024); /* (the text's buffer: cleared above, as buf_init) */
}

void corm__compiled_reset(corm__compiled *c)
{
    corm__buf_reset(&c->sql);
    c->nparams = 0;
    c->no_empty_list = false; /* the memo's word on the statement compiled before */
    corm__arena_reset(&c->arena);
}

void corm__compiled_free(corm__compiled *c)
{
    corm__buf_free(&c->sql);
    if (c->params != c->inl_params) corm__free(c->params);
    /* an arena never given a block nor a pool (a memo hit's) has nothing to
    ** give back: corm__arena_free would only store what it holds */
    if (c->arena.head || c->arena.pool) corm__arena_free(&c->arena);
    c->params = NULL;
    c->nparams = c->cap = 0;
}

corm_rc corm__sql_nomem(corm__sqlctx *c)
{
    corm__err_set(c->err, CORM_NOMEM, "out of memory compiling a query");
    return CORM_NOMEM;
}

/* o's parameters in an array of cap (at least nparams); NULL: out of memory */
static corm_value *grow_params(corm__compiled *o, size_t cap)
{
    if (o->params != o->inl_params) return corm__realloc(o->params, cap * sizeof *o->params);
    corm_value *p = corm__malloc(cap * sizeof *p);
    if (p) memcpy(p, o->inl_params, (size_t)o->nparams * sizeof *p);
    return p;
}

corm_rc corm__compiled_reserve(corm__sqlctx *c, size_t n)
{
    corm__compiled *o = c->out;
    size_t need = (size_t)o->nparams + n;
    if (need <= (size_t)o->cap) return CORM_OK;
    if (need > INT32_MAX) return corm__sql_nomem(c);
    corm_value *p = grow_params(o, need);
    if (!p) return corm__sql_nomem(c);
    o->params = p;
    o->cap = (int)need;
    return CORM_OK;
}

corm_rc corm__sql_bind(corm__sqlctx *c, corm_buf *w, corm_value v)
{
    corm__compiled *o = c->out;
    if (o->nparams == o->cap) {
        int cap = o->cap ? o->cap * 2 : 16;
        corm_value *p = grow_params(o, (size_t)cap);
        if (!p) return corm__sql_nomem(c);
        o->params = p;
        o->cap = cap;
    }
    o->params[o->nparams++] = v;
    corm__sql_param(w, c->d, o->nparams);
    return CORM_OK;
}

/* ------------------------------------------------------------ scopes */

void corm__scope_init(corm__scope *s, const corm_model *base, char prefix)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->prefix = prefix;
    s->base_alias[0] = prefix;
    s->base_alias[1] = '0';
}

const char *corm__node_alias(const corm__scope *s, int node)
{
    return node < 0 ? s->base_alias : s->joins[node].alias;
}

const corm_model *corm__node_model(const corm__scope *s, int node)
{
    if (node < 0) return s->base;
    const corm__join *j = &s->joins[node];
    const corm_model *from = corm__node_model(s, j->parent);
    return corm__rel_target(from, j->rel);
}

/* The join of rel from node parent, made once and shared afterwards.
** Returns its index or -1 with the error set. */
int corm__scope_join(corm__sqlctx *c, corm__scope *s, int parent, const corm_relation *rel,
                     bool left)
{
    for (int i = 0; i < s->njoins; i++)
        if (s->joins[i].parent == parent && s->joins[i].rel == rel) {
            if (!left) s->joins[i].left = s->joins[i].left && left;
            return i;
        }
    if (s->njoins == MAX_JOINS) {
        corm__err_set(c->err, CORM_INVALID, "query needs more than %d joins", MAX_JOINS);
        corm__err_hint(c->err, "split the query or use prefetch_related");
        return -2;
    }
    corm__join *j = &s->joins[s->njoins];
    j->parent = parent;
    j->rel = rel;
    j->left = left;
    j->alias[0] = s->prefix;
    int n = s->njoins + 1;
    if (n < 10) {
        j->alias[1] = (char)('0' + n);
    } else {
        j->alias[1] = (char)('0' + n / 10);
        j->alias[2] = (char)('0' + n % 10);
    }
    return s->njoins++;
}

void corm__col_ref(corm_buf *b, const char *alias, const char *column)
{
    if (b->discard) return;
    corm__buf_adds(b, alias);
    corm__buf_addc(b, '.');
    corm__sql_ident(b, column);
}

void corm__render_joins(const corm__scope *s, corm_buf *b)
{
    for (int i = 0; i < s->njoins; i++) {
        const corm__join *j = &s->joins[i];
        const corm_model *from = corm__node_model(s, j->parent);
        const corm_model *to = corm__rel_target(from, j->rel);
        const char *kind = j->left ? " LEFT OUTER JOIN " : " INNER JOIN ";
        const char *palias = corm__node_alias(s, j->parent);
        switch (j->rel->kind) {
        case CORM_REL_M2M:
        case CORM_REL_REVERSE_M2M:
            /* through the link table, aliased <alias>j */
            corm__buf_adds(b, kind);
            corm__sql_ident(b, j->rel->through);
            corm__buf_addf(b, " %sj ON (%sj.", j->alias, j->alias);
            corm__sql_ident(b, j->rel->through_src);
            corm__buf_addf(b, " = %s.\"id\")", palias);
            corm__buf_adds(b, kind);
            corm__sql_ident(b, to->table);
            corm__buf_addf(b, " %s ON (%s.\"id\" = %sj.", j->alias, j->alias, j->alias);
            corm__sql_ident(b, j->rel->through_dst);
            corm__buf_addc(b, ')');
            continue;
        case CORM_REL_REVERSE_O2O:
        case CORM_REL_REVERSE_FK:
            corm__buf_adds(b, kind);
            corm__sql_ident(b, to->table);
            corm__buf_addf(b, " %s ON (", j->alias);
            corm__col_ref(b, j->alias, to->fields[j->rel->field].column);
            corm__buf_adds(b, " = ");
            corm__col_ref(b, palias, "id");
            corm__buf_addc(b, ')');
            continue;
        default:
            corm__buf_adds(b, kind);
            corm__sql_ident(b, to->table);
            corm__buf_addf(b, " %s ON (", j->alias);
            corm__col_ref(b, palias, from->fields[j->rel->field].column);
            corm__buf_adds(b, " = ");
            corm__col_ref(b, j->alias, "id");
            corm__buf_addc(b, ')');
        }
    }
}

/* ------------------------------------------------------------ errors */

corm_rc corm__unknown_name(corm__sqlctx *c, const corm_model *m, const char *name,
                           const char *lookup)
{
    const char *cands[CORM_MAX_FIELDS + CORM_MAX_RELS];
    size_t n = 0;
    for (int i = 0; i < m->nfields; i++) cands[n++] = m->fields[i].name;
    for (int i = 0; i < m->nrels; i++) cands[n++] = m->rels[i].name;
    const char *best = corm__did_you_mean(name, cands, n);
    corm_buf names;
    corm__buf_init(&names);
    corm__model_names(m, &names);
    corm__err_set(c->err, CORM_SCHEMA, "%s has no field or relation '%s' (in '%s')", m->name, name,
                  lookup);
    if (best)
        corm__err_hint(c->err, "did you mean '%s'? %s has: %s", best, m->name,
                       corm__buf_cstr(&names));
    else corm__err_hint(c->err, "%s has: %s", m->name, corm__buf_cstr(&names));
    corm__buf_free(&names);
    return CORM_SCHEMA;
}

/* ------------------------------------------------------------ values */

typedef enum { K_INT, K_NUM, K_BOOL, K_TEXT, K_BLOB } vkind;

static vkind field_kind(const corm_field *f, int transform)
{
    if (transform != TR_NONE) return K_INT;
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: return K_INT;
    case CORM_FT_FLOAT:
    case CORM_FT_DECIMAL: return K_NUM;
    case CORM_FT_BOOL: return K_BOOL;
    case CORM_FT_BLOB: return K_BLOB;
    default: return K_TEXT;
    }
}

static const char *kind_ctor(vkind k)
{
    switch (k) {
    case K_INT: return "corm_int()";
    case K_NUM: return "corm_float() or corm_int()";
    case K_BOOL: return "corm_bool()";
    case K_BLOB: return "corm_blobv()";
    default: return "corm_text()";
    }
}

static bool scalar_fits(vkind k, corm_vtype t)
{
    switch (k) {
    case K_INT: return t == CORM_V_INT;
    case K_NUM: return t == CORM_V_INT || t == CORM_V_FLOAT || t == CORM_V_DECIMAL;
    case K_BOOL: return t == CORM_V_BOOL || t == CORM_V_INT;
    case K_BLOB: return t == CORM_V_BLOB;
    default: return t == CORM_V_TEXT;
    }
}

static const char *vtype_name(corm_vtype t)
{
    static const char *const names[] = {"null", "int",       "float",      "bool", "text",
                                        "blob", "int array", "text array", "list", "decimal"};
    return (unsigned)t < CORM__ARRAY_LEN(names) ? names[t] : "?";
}

static corm_rc type_error(corm__sqlctx *c, const corm_model *m, const corm_field *f,
                          const char *lookup, const char *want, corm_vtype got)
{
    corm__err_set(c->err, CORM_TYPE, "'%s': %s.%s (%s) needs %s, got a %s value", lookup, m->name,
                  f->name, corm__ftype_name(f->type), want, vtype_name(got));
    corm__err_hint(c->err, "pass %s", want);
    return CORM_TYPE;
}

/* Escape a LIKE (backslash) or GLOB (brackets) pattern piece into b. */
static void add_like_escaped(corm_buf *b, const char *s, size_t n, bool glob)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (glob && (ch == '*' || ch == '?' || ch == '[')) {
            corm__buf_addc(b, '[');
            corm__buf_addc(b, ch);
            corm__buf_addc(b, ']');
        } else if (!glob && (ch == '%' || ch == '_' || ch == '\\')) {
            corm__buf_addc(b, '\\');
            corm__buf_addc(b, ch);
        } else {
            corm__buf_addc(b, ch);
        }
    }
}

static size_t text_len(const corm_value *v)
{
    return v->u.s.n == (size_t)-1 ? strlen(v->u.s.p) : v->u.s.n;
}

/* ------------------------------------------------------------ leaves */

/* `in` as `col = ANY($n)` with the values as one array parameter (dialects
** with in_as_array).  *done is false when a value cannot go into an array
** (a blob): the caller writes IN (...) instead. */
static corm_rc render_in_array(corm__sqlctx *c, corm_buf *w, const char *col_sql,
                               const corm_model *m, const corm_field *f, vkind k,
                               const corm_value *v, size_t n, const char *path, bool *done)
{
    *done = false;
    corm_value *items = corm__arena_alloc(&c->out->arena, n * sizeof *items);
    if (!items) return corm__sql_nomem(c);
    for (size_t i = 0; i < n; i++) {
        if (v->type == CORM_V_INTS) items[i] = corm_int(v->u.ints.p[i]);
        else if (v->type == CORM_V_TEXTS) items[i] = corm_text(v->u.texts.p[i]);
        else items[i] = v->u.list.p[i];
        if (!scalar_fits(k, items[i].type))
            return type_error(c, m, f, path, kind_ctor(k), items[i].type);
    }
    corm_buf arr;
    corm__buf_init(&arr);
    bool ok = corm__sql_array_text(&arr, items, n);
    char *p =
        ok && !arr.oom ? corm__arena_strndup(&c->out->arena, corm__buf_cstr(&arr), arr.len) : NULL;
    bool oom = ok && !p;
    corm__buf_free(&arr);
    if (oom) return corm__sql_nomem(c);
    if (!ok) return CORM_OK;
    corm__buf_addf(w, "%s = ANY(", col_sql);
    corm_rc rc = corm__sql_bind(c, w, corm_text(p));
    corm__buf_addc(w, ')');
    *done = true;
    return rc;
}

corm_rc corm__render_q(corm__sqlctx *c, corm__scope *s, const struct corm_q *q, bool negated,
                       corm_buf *w);

/* -1, 0, 1: below, inside, above the range of an `integer` column. */
static int i32_side(int64_t x) { return x < INT32_MIN ? -1 : x > INT32_MAX ? 1 : 0; }

/* An integer value outside an `integer` column's range compares as
** numbers do, on every backend (PostgreSQL would refuse the parameter,
** SQLite compares it): exact matches nothing, gt/gte below the range and
** lt/lte above it match every non-NULL row, `in` ignores such items and
** `range` is clipped to the column's range (memo.c keys the side of each
** integer).  Returns true when the condition is written; else *v may be
** replaced by the clipped value to render as usual. */
static bool i32_outside(corm__sqlctx *c, corm_buf *w, const char *col_sql, int lookup,
                        const corm_value **v, corm_value *copy, corm_rc *rc)
{
    const corm_value *x = *v;
    if (x->type == CORM_V_INT && i32_side(x->u.i) &&
        (lookup == LK_EXACT || lookup == LK_GT || lookup == LK_GTE || lookup == LK_LT ||
         lookup == LK_LTE)) {
        int side = i32_side(x->u.i);
        bool all = ((lookup == LK_GT || lookup == LK_GTE) && side < 0) ||
                   ((lookup == LK_LT || lookup == LK_LTE) && side > 0);
        if (all) corm__buf_addf(w, "%s IS NOT NULL", col_sql);
        else corm__buf_adds(w, "1 = 0");
        return true;
    }
    if (lookup == LK_RANGE && x->type == CORM_V_LIST && x->u.list.n == 2 &&
        x->u.list.p[0].type == CORM_V_INT && x->u.list.p[1].type == CORM_V_INT) {
        int64_t lo = x->u.list.p[0].u.i, hi = x->u.list.p[1].u.i;
        if (!i32_side(lo) && !i32_side(hi)) return false;
        if (i32_side(lo) > 0 || i32_side(hi) < 0) {
            corm__buf_adds(w, "1 = 0");
            return true;
        }
        corm_value *b = corm__arena_alloc(&c->out->arena, 2 * sizeof *b);
        if (!b) {
            *rc = corm__sql_nomem(c);
            return true;
        }
        b[0] = corm_int(lo < INT32_MIN ? INT32_MIN : lo);
        b[1] = corm_int(hi > INT32_MAX ? INT32_MAX : hi);
        *copy = corm_vlist(b, 2);
        *v = copy;
        return false;
    }
    if (lookup == LK_IN && (x->type == CORM_V_INTS || x->type == CORM_V_LIST)) {
        size_t n = x->type == CORM_V_INTS ? x->u.ints.n : x->u.list.n, kept = 0;
        corm_value *b = corm__arena_alloc(&c->out->arena, (n ? n : 1) * sizeof *b);
        if (!b) {
            *rc = corm__sql_nomem(c);
            return true;
        }
        for (size_t i = 0; i < n; i++) {
            corm_value item = x->type == CORM_V_INTS ? corm_int(x->u.ints.p[i]) : x->u.list.p[i];
            if (item.type != CORM_V_INT || !i32_side(item.u.i)) b[kept++] = item;
        }
        if (kept == n) return false;
        *copy = corm_vlist(b, kept);
        *v = copy;
    }
    return false;
}

/* The condition on one column: col_sql is the column (or date part). */
static corm_rc render_cond(corm__sqlctx *c, corm_buf *w, const char *col_sql, const corm_model *m,
                           const corm_field *f, int transform, int lookup, const corm_value *v,
                           const char *path, bool nullable, bool negated)
{
    vkind k = field_kind(f, transform);
    corm_rc rc = CORM_OK;
    /* Django: exclude() keeps rows whose column is NULL. */
    bool in_subquery = c->rhs && lookup == LK_IN && c->rhs->kind == CORM__E_SUBQUERY;
    if (c->rhs && !in_subquery && lookup != LK_EXACT && lookup != LK_GT && lookup != LK_GTE &&
        lookup != LK_LT && lookup != LK_LTE) {
        corm__err_set(c->err, CORM_INVALID, "'%s': lookup '%s' cannot compare with an expression",
                      path, lookup_names[lookup]);
        corm__err_hint(c->err, "compare an expression with exact, gt, gte, lt or lte");
        return CORM_INVALID;
    }
    bool guard = negated && nullable && lookup != LK_ISNULL &&
                 !(lookup == LK_EXACT && v->type == CORM_V_NULL);
    if (guard) corm__buf_addc(w, '(');
    corm_value clipped;
    if (f->type == CORM_FT_INTEGER && transform == TR_NONE && !c->rhs &&
        i32_outside(c, w, col_sql, lookup, &v, &clipped, &rc)) {
        if (guard) corm__buf_addf(w, " AND %s IS NOT NULL)", col_sql);
        return rc;
    }

    switch (lookup) {
    case LK_ISNULL: {
        if (v->type != CORM_V_BOOL && v->type != CORM_V_INT)
            return type_error(c, m, f, path, "corm_bool()", v->type);
        bool yes = v->type == CORM_V_BOOL ? v->u.b : v->u.i != 0;
        corm__buf_addf(w, "%s IS %sNULL", col_sql, yes ? "" : "NOT ");
        break;
    }
    case LK_IN: {
        if (in_subquery) {
            /* filter(author__in=<queryset>): one subquery (corm_filter_in) */
            bool agg = false;
            corm__buf_addf(w, "%s IN ", col_sql);
            rc = corm__render_expr(c, c->rhs_scope, c->rhs, w, &agg);
            break;
        }
        size_t n;
        if (v->type == CORM_V_INTS) n = v->u.ints.n;
        else if (v->type == CORM_V_TEXTS) n = v->u.texts.n;
        else if (v->type == CORM_V_LIST) n = v->u.list.n;
        else return type_error(c, m, f, path, "corm_ints(), corm_texts() or corm_vlist()", v->type);
        if (n == 0) {
            corm__buf_adds(w, "1 = 0");
            break;
        }
        if (c->d->in_as_array) {
            /* `col = ANY($n)`: one array parameter, whatever the length */
            bool done = false;
            rc = render_in_array(c, w, col_sql, m, f, k, v, n, path, &done);
            if (rc != CORM_OK || done) break;
        }
        if (c->out->nparams + (long)n > c->d->max_params) {
            corm__err_set(c->err, CORM_INVALID,
                          "'%s' has %zu values; %s binds at most %d parameters", path, n,
                          c->d->vendor, c->d->max_params);
            corm__err_hint(c->err, "filter on a subquery, or split the list");
            return CORM_INVALID;
        }
        corm__buf_addf(w, "%s IN (", col_sql);
        for (size_t i = 0; i < n && rc == CORM_OK; i++) {
            corm_value item;
            if (v->type == CORM_V_INTS) item = corm_int(v->u.ints.p[i]);
            else if (v->type == CORM_V_TEXTS) item = corm_text(v->u.texts.p[i]);
            else item = v->u.list.p[i];
            if (!scalar_fits(k, item.type))
                return type_error(c, m, f, path, kind_ctor(k), item.type);
            if (i) corm__buf_adds(w, ", ");
            rc = corm__sql_bind(c, w, item);
        }
        corm__buf_addc(w, ')');
        break;
    }
    case LK_RANGE: {
        if (v->type != CORM_V_LIST || v->u.list.n != 2)
            return type_error(c, m, f, path, "corm_range(lo, hi)", v->type);
        for (int i = 0; i < 2; i++)
            if (!scalar_fits(k, v->u.list.p[i].type))
                return type_error(c, m, f, path, kind_ctor(k), v->u.list.p[i].type);
        corm__buf_addf(w, "%s BETWEEN ", col_sql);
        rc = corm__sql_bind(c, w, v->u.list.p[0]);
        corm__buf_adds(w, " AND ");
        if (rc == CORM_OK) rc = corm__sql_bind(c, w, v->u.list.p[1]);
        break;
    }
    case LK_EXACT:
    case LK_GT:
    case LK_GTE:
    case LK_LT:
    case LK_LTE: {
        static const char *const ops[] = {
            [LK_EXACT] = "=", [LK_GT] = ">", [LK_GTE] = ">=", [LK_LT] = "<", [LK_LTE] = "<="};
        if (c->rhs) {
            /* filter(pages__gt=F("price")): compare with an expression */
            bool agg = false;
            corm__buf_addf(w, "%s %s (", col_sql, ops[lookup]);
            rc = corm__render_expr(c, c->rhs_scope, c->rhs, w, &agg);
            corm__buf_addc(w, ')');
            break;
        }
        if (v->type == CORM_V_NULL) {
            if (lookup != LK_EXACT) return type_error(c, m, f, path, kind_ctor(k), v->type);
            corm__buf_addf(w, "%s IS NULL", col_sql);
            break;
        }
        if (!scalar_fits(k, v->type)) return type_error(c, m, f, path, kind_ctor(k), v->type);
        corm__buf_addf(w, "%s %s ", col_sql, ops[lookup]);
        rc = corm__sql_bind(c, w, *v);
        break;
    }
    case LK_SEARCH:
        if (k == K_TEXT) {
            rc = corm__sql_search(c, w, col_sql, m, f, v, path);
            break;
        }
        /* fall through */
    default: { /* the text pattern lookups */
        if (k != K_TEXT) {
            corm__err_set(c->err, CORM_INVALID, "'%s': lookup '%s' needs a text field; %s.%s is %s",
                          path, lookup_names[lookup], m->name, f->name, corm__ftype_name(f->type));
            corm__err_hint(c->err, "use exact, gt, gte, lt, lte, in or range");
            return CORM_INVALID;
        }
        if (v->type != CORM_V_TEXT) return type_error(c, m, f, path, "corm_text()", v->type);
        bool ci = lookup == LK_IEXACT || lookup == LK_ICONTAINS || lookup == LK_ISTARTSWITH ||
                  lookup == LK_IENDSWITH;
        /* SQLite's LIKE ignores ASCII case and GLOB keeps it; PostgreSQL has
        ** LIKE and ILIKE. */
        bool glob = !ci && !c->d->has_ilike;
        bool lead = lookup == LK_CONTAINS || lookup == LK_ICONTAINS || lookup == LK_ENDSWITH ||
                    lookup == LK_IENDSWITH;
        bool trail = lookup == LK_CONTAINS || lookup == LK_ICONTAINS || lookup == LK_STARTSWITH ||
                     lookup == LK_ISTARTSWITH;
        const char *any = glob ? "*" : "%";
        corm_buf pat;
        corm__buf_init(&pat);
        if (lead) corm__buf_adds(&pat, any);
        add_like_escaped(&pat, v->u.s.p, text_len(v), glob);
        if (trail) corm__buf_adds(&pat, any);
        if (pat.oom) {
            corm__buf_free(&pat);
            return corm__sql_nomem(c);
        }
        char *p = corm__arena_strndup(&c->out->arena, pat.p ? pat.p : "", pat.len);
        corm__buf_free(&pat);
        if (!p) return corm__sql_nomem(c);
        if (glob) corm__buf_addf(w, "%s GLOB ", col_sql);
        else if (c->d->text_cast && f->type != CORM_FT_CHAR && f->type != CORM_FT_TEXT &&
                 f->type != CORM_FT_EMAIL) /* dates, JSON: LIKE wants text */
            corm__buf_addf(w, "CAST(%s AS %s) %s ", col_sql, c->d->text_cast,
                           ci && c->d->has_ilike ? "ILIKE" : "LIKE");
        else corm__buf_addf(w, "%s %s ", col_sql, ci && c->d->has_ilike ? "ILIKE" : "LIKE");
        rc = corm__sql_bind(c, w, corm_text(p));
        if (!glob) corm__buf_adds(w, c->d->like_escape);
        break;
    }
    }
    if (guard) corm__buf_addf(w, " AND %s IS NOT NULL)", col_sql);
    return rc;
}

/* Parse the tail of a path after the field: [transform] [lookup]. */
static corm_rc parse_tail(corm__sqlctx *c, const corm_model *m, const corm_field *f, char **parts,
                          int n, const char *path, int *transform, int *lookup)
{
    *transform = TR_NONE;
    *lookup = LK_EXACT;
    int i = 0;
    if (i < n) {
        int t = find_transform(parts[i]);
        if (t >= 0) {
            if (f->type != CORM_FT_DATE && f->type != CORM_FT_DATETIME) {
                corm__err_set(c->err, CORM_INVALID,
                              "'%s': '%s' applies to date and datetime fields; %s.%s is %s", path,
                              parts[i], m->name, f->name, corm__ftype_name(f->type));
                corm__err_hint(c->err, "remove '__%s'", parts[i]);
                return CORM_INVALID;
            }
            *transform = t;
            i++;
        }
    }
    if (i < n) {
        int l = corm__find_lookup(parts[i]);
        if (l < 0) {
            const char *best = corm__did_you_mean(parts[i], lookup_names, LK_COUNT_);
            corm__err_set(c->err, CORM_INVALID, "'%s': unknown lookup '%s' on %s.%s", path,
                          parts[i], m->name, f->name);
            if (best) corm__err_hint(c->err, "did you mean '%s'? lookups: %s", best, lookup_list);
            else corm__err_hint(c->err, "lookups: %s", lookup_list);
            return l < 0 ? CORM_INVALID : CORM_OK;
        }
        *lookup = l;
        i++;
    }
    if (i < n) {
        corm__err_set(c->err, CORM_INVALID, "'%s': nothing may follow '%s'", path, parts[i - 1]);
        corm__err_hint(c->err, "a path is relation__...__field[__year|month|day][__lookup]");
        return CORM_INVALID;
    }
    return CORM_OK;
}

static corm_rc render_leaf_at(corm__sqlctx *c, corm__scope *s, int node, char **parts, int n,
                              const corm_value *v, const char *path, bool nullable, bool negated,
                              corm_buf *w);

/* A to-many hop: `outer_key IN (SELECT inner_key FROM ... WHERE ...)`. */
/* subq (not NULL): the conditions of one filter() call on this relation,
** stripped of its path (corm__q_strip), all on the same related row. */
static corm_rc render_tomany(corm__sqlctx *c, corm__scope *s, int node, const corm_relation *r,
                             char **rest, int nrest, const corm_value *v, const char *path,
                             const struct corm_q *subq, corm_buf *w)
{
    const corm_model *from = corm__node_model(s, node);
    const corm_model *to = corm__rel_target(from, r);
    bool m2m = r->kind == CORM_REL_M2M || r->kind == CORM_REL_REVERSE_M2M;
    corm__scope sub;
    corm__scope_init(&sub, to, (char)(s->prefix + 1));
    if (sub.prefix > 'Z') {
        corm__err_set(c->err, CORM_INVALID, "'%s' nests too deep", path);
        return CORM_INVALID;
    }
    char jalias[8] = {sub.prefix, 'J', 0};

    /* Does the path end at the relation itself (r, r__in, r__pk__gt, r__isnull)? */
    int k = 0;
    if (k < nrest && corm__is_pk_name(rest[k])) k++;
    bool ends_here = !subq && (k == nrest || (k + 1 == nrest && corm__find_lookup(rest[k]) >= 0));
    bool isnull = ends_here && k < nrest && strcmp(rest[k], "isnull") == 0;

    const char *inner_key; /* column selected by the subquery */
    const char *key_alias;
    if (m2m) {
        inner_key = r->through_src;
        key_alias = jalias;
    } else {
        inner_key = to->fields[r->field].column;
        key_alias = sub.base_alias;
    }

    corm_buf where;
    corm__buf_init(&where);
    corm_rc rc = CORM_OK;
    bool positive = true;
    if (subq) {
        rc = corm__render_q(c, &sub, subq, false, &where);
    } else if (isnull) {
        if (v->type != CORM_V_BOOL && v->type != CORM_V_INT) {
            corm__buf_free(&where);
            return type_error(c, to, &to->fields[0], path, "corm_bool()", v->type);
        }
        positive = !(v->type == CORM_V_BOOL ? v->u.b : v->u.i != 0);
    } else if (ends_here) {
        /* compare the join table's target column, no join needed (or the
        ** related row's pk: "books__in") */
        char col[300];
        corm_buf cb;
        corm__buf_init(&cb);
        if (m2m) corm__col_ref(&cb, jalias, r->through_dst);
        else corm__col_ref(&cb, sub.base_alias, to->fields[0].column);
        corm__strlcpy(col, corm__buf_cstr(&cb), sizeof col);
        corm__buf_free(&cb);
        int tr, lk;
        rc = parse_tail(c, to, &to->fields[0], rest + k, nrest - k, path, &tr, &lk);
        if (rc == CORM_OK)
            rc = render_cond(c, &where, col, to, &to->fields[0], tr, lk, v, path, false, false);
    } else {
        rc = render_leaf_at(c, &sub, -1, rest, nrest, v, path, false, false, &where);
    }
    if (rc == CORM_OK && where.oom) rc = corm__sql_nomem(c);
    if (rc != CORM_OK) {
        corm__buf_free(&where);
        return rc;
    }

    corm__buf_adds(w, corm__node_alias(s, node));
    corm__buf_adds(w, ".\"id\"");
    corm__buf_adds(w, positive ? " IN (SELECT " : " NOT IN (SELECT ");
    corm__col_ref(w, key_alias, inner_key);
    corm__buf_adds(w, " FROM ");
    if (m2m) {
        corm__sql_ident(w, r->through);
        corm__buf_addf(w, " %s", jalias);
        if (!ends_here) {
            corm__buf_adds(w, " INNER JOIN ");
            corm__sql_ident(w, to->table);
            corm__buf_addf(w, " %s ON (", sub.base_alias);
            corm__col_ref(w, sub.base_alias, "id");
            corm__buf_adds(w, " = ");
            corm__col_ref(w, jalias, r->through_dst);
            corm__buf_addc(w, ')');
        }
    } else {
        corm__sql_ident(w, to->table);
        corm__buf_addf(w, " %s", sub.base_alias);
    }
    corm__render_joins(&sub, w);
    corm__buf_adds(w, " WHERE ");
    corm__col_ref(w, key_alias, inner_key);
    corm__buf_adds(w, " IS NOT NULL");
    if (where.len) {
        corm__buf_adds(w, " AND ");
        corm__buf_add(w, where.p, where.len);
    }
    corm__buf_addc(w, ')');
    corm__buf_free(&where);
    return CORM_OK;
}

/* Resolve parts from node and render the condition. */
static corm_rc render_leaf_at(corm__sqlctx *c, corm__scope *s, int node, char **parts, int n,
                              const corm_value *v, const char *path, bool nullable, bool negated,
                              corm_buf *w)
{
    const corm_field *f = NULL;
    int i = 0;
    while (i < n) {
        const corm_model *m = corm__node_model(s, node);
        const char *p = parts[i];
        const corm_relation *r = corm__model_rel(m, p, strlen(p));
        if (r && (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O)) {
            const corm_field *fk = &m->fields[r->field];
            /* author, author__in, author__id: the key column, no join */
            int k = i + 1;
            if (k < n && corm__is_pk_name(parts[k])) k++;
            if (k == n || corm__find_lookup(parts[k]) >= 0) {
                f = fk;
                i = k;
                nullable = nullable || (fk->flags & CORM_FF_NULL);
                break;
            }
            bool left = (fk->flags & CORM_FF_NULL) != 0;
            int j = corm__scope_join(c, s, node, r, left);
            if (j < -1) return c->err->rc;
            nullable = nullable || left;
            node = j;
            i++;
            continue;
        }
        if (r && r->kind == CORM_REL_REVERSE_O2O) {
            int j = corm__scope_join(c, s, node, r, true);
            if (j < -1) return c->err->rc;
            nullable = true;
            node = j;
            i++;
            if (i == n || corm__find_lookup(parts[i]) >= 0) {
                f = &corm__node_model(s, node)->fields[0];
                break;
            }
            continue;
        }
        if (r) /* to-many */
            return render_tomany(c, s, node, r, parts + i + 1, n - i - 1, v, path, NULL, w);
        f = corm__model_field(m, p, strlen(p));
        if (!f) return corm__unknown_name(c, m, p, path);
        nullable = nullable || (f->flags & CORM_FF_NULL);
        i++;
        break;
    }
    if (!f) f = &corm__node_model(s, node)->fields[0];
    const corm_model *m = corm__node_model(s, node);
    int tr, lk;
    corm_rc rc = parse_tail(c, m, f, parts + i, n - i, path, &tr, &lk);
    if (rc != CORM_OK) return rc;
    corm_buf col;
    corm__buf_init(&col);
    if (w->discard) corm__buf_discard(&col); /* no text wanted: none for the column */
    if (tr != TR_NONE) {
        corm_buf raw;
        corm__buf_init(&raw);
        corm__col_ref(&raw, corm__node_alias(s, node), f->column);
        c->d->date_part(&col, transform_names[tr - TR_YEAR], corm__buf_cstr(&raw));
        corm__buf_free(&raw);
    } else {
        corm__col_ref(&col, corm__node_alias(s, node), f->column);
    }
    if (col.oom) {
        corm__buf_free(&col);
        return corm__sql_nomem(c);
    }
    rc = render_cond(c, w, corm__buf_cstr(&col), m, f, tr, lk, v, path, nullable, negated);
    corm__buf_free(&col);
    return rc;
}

/* A filter on an annotation: book_count__gt=5, latest_title="x". */
static corm_rc render_annot_leaf(corm__sqlctx *c, corm__scope *s, const corm__annot *an,
                                 char **rest, int nrest, const corm_value *v, const char *path,
                                 bool negated, corm_buf *w)
{
    int lk = LK_EXACT;
    if (nrest > 1 || (nrest == 1 && (lk = corm__find_lookup(rest[0])) < 0)) {
        corm__err_set(c->err, CORM_INVALID,
                      "'%s': after the annotation '%s' only a lookup may follow", path, an->name);
        corm__err_hint(c->err, "lookups: %s", lookup_list);
        return CORM_INVALID;
    }
    /* an annotation has no schema type: take the value's (numbers compare
    ** with numbers, text with text) */
    corm_field f = {.name = an->name,
                    .column = an->name,
                    .rel = -1,
                    .type = v->type == CORM_V_TEXT || v->type == CORM_V_TEXTS ? CORM_FT_TEXT
                            : v->type == CORM_V_BOOL                          ? CORM_FT_BOOL
                                                                              : CORM_FT_FLOAT,
                    .flags = CORM_FF_NULL};
    /* an empty `in` matches nothing and names no column: rendering the
    ** expression would bind its parameters for no placeholder */
    if (lk == LK_IN &&
        ((v->type == CORM_V_INTS && !v->u.ints.n) || (v->type == CORM_V_TEXTS && !v->u.texts.n) ||
         (v->type == CORM_V_LIST && !v->u.list.n))) {
        corm__buf_adds(w, "1 = 0");
        return CORM_OK;
    }
    corm_buf col;
    corm__buf_init(&col);
    bool agg = false;
    corm__buf_addc(&col, '(');
    corm_rc rc = corm__render_expr(c, s, an->e, &col, &agg);
    corm__buf_addc(&col, ')');
    if (rc == CORM_OK && col.oom) rc = corm__sql_nomem(c);
    /* exclude() keeps the rows where the annotation is NULL, as
    ** render_cond's guard does for a column; here the guard renders the
    ** expression again, as its parameters (F() - 2, V(x)) are bound once
    ** per use: the text of col cannot be repeated */
    bool guard = negated && lk != LK_ISNULL && !(lk == LK_EXACT && v->type == CORM_V_NULL);
    if (guard) corm__buf_addc(w, '(');
    if (rc == CORM_OK)
        rc = render_cond(c, w, corm__buf_cstr(&col), s->base, &f, TR_NONE, lk, v, path, false,
                         negated);
    if (rc == CORM_OK && guard) {
        corm__buf_adds(w, " AND (");
        rc = corm__render_expr(c, s, an->e, w, &agg);
        corm__buf_adds(w, ") IS NOT NULL)");
    }
    corm__buf_free(&col);
    return rc;
}

/* Split "a__b__c" into parts (copied into the compile arena). */
/* Split path, copied into copy (as long as path), at "__". */
static corm_rc split_into(corm__sqlctx *c, const char *path, char *copy, char **parts, int *n)
{
    *n = 0;
    if (!path || !*path) {
        corm__err_set(c->err, CORM_INVALID, "empty lookup path");
        corm__err_hint(c->err, "name a field, e.g. \"title\" or \"author__name\"");
        return CORM_INVALID;
    }
    memcpy(copy, path, strlen(path) + 1);
    char *p = copy;
    for (;;) {
        char *sep = strstr(p, "__");
        if (sep) *sep = '\0';
        if (!*p || *n == MAX_PARTS) {
            corm__err_set(c->err, CORM_INVALID,
                          *n == MAX_PARTS ? "lookup path '%s' is too long"
                                          : "lookup path '%s' has an empty part",
                          path);
            corm__err_hint(c->err,
                           "a path is relation__...__field[__lookup], parts separated by one '__'");
            return CORM_INVALID;
        }
        parts[(*n)++] = p;
        if (!sep) break;
        p = sep + 2;
    }
    return CORM_OK;
}

corm_rc corm__split_path(corm__sqlctx *c, const char *path, char **parts, int *n)
{
    char *copy = corm__arena_alloc(&c->out->arena, path ? strlen(path) + 1 : 1);
    if (!copy) return corm__sql_nomem(c);
    return split_into(c, path, copy, parts, n);
}

/* ------------------------------------------------- empty results */

/* What a Q tree is whatever the rows: 1 never true (an `in` of an empty
** list), 2 always (its negation), 0 it depends. */
static int q_truth(const struct corm_q *q)
{
    if (!q) return 0;
    switch (q->kind) {
    case CORM__Q_LEAF: {
        const corm_value *v = &q->value;
        bool empty = (v->type == CORM_V_INTS && !v->u.ints.n) ||
                     (v->type == CORM_V_TEXTS && !v->u.texts.n) ||
                     (v->type == CORM_V_LIST && !v->u.list.n);
        if (!empty || q->rhs) return 0; /* the lookup read only for an empty list */
        size_t len = q->lookup ? strlen(q->lookup) : 0;
        return len >= 4 && strcmp(q->lookup + len - 4, "__in") == 0 ? 1 : 0;
    }
    case CORM__Q_AND: {
        int a = q_truth(q->a), b = q_truth(q->b);
        return a == 1 || b == 1 ? 1 : a == 2 && b == 2 ? 2 : 0;
    }
    case CORM__Q_OR: {
        int a = q_truth(q->a), b = q_truth(q->b);
        return a == 2 || b == 2 ? 2 : a == 1 && b == 1 ? 1 : 0;
    }
    case CORM__Q_NOT: {
        int a = q_truth(q->a);
        return a ? 3 - a : 0;
    }
    default: return 0;
    }
}

bool corm__query_empty(const corm__query *q) { return q->limit == 0 || q_truth(q->where) == 1; }

/* ------------------------------------------------- multi-valued filters */

int corm__q_ncalls(const struct corm_q *w)
{
    if (!w) return 0;
    if (w->kind == CORM__Q_AND && w->chain) return corm__q_ncalls(w->a) + 1;
    return 1;
}

/* The to-many prefix of one lookup (see corm__q_tomany_prefix). */
static size_t leaf_prefix(const corm_model *m, const char *lookup)
{
    const char *p = lookup;
    while (m && *p) {
        const char *sep = strstr(p, "__");
        size_t len = sep ? (size_t)(sep - p) : strlen(p);
        const corm_relation *r = corm__model_rel(m, p, len);
        if (!r || !sep) return 0;
        if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O || r->kind == CORM_REL_REVERSE_O2O) {
            m = corm__rel_target(m, r);
            p = sep + 2;
            continue;
        }
        /* to-many: something of the related row must follow, not a lookup
        ** on the relation itself ("books__isnull", "books__in") */
        const char *rest = sep + 2;
        const char *sep2 = strstr(rest, "__");
        size_t l2 = sep2 ? (size_t)(sep2 - rest) : strlen(rest);
        char first[32];
        if (l2 < sizeof first) {
            memcpy(first, rest, l2);
            first[l2] = '\0';
            if (corm__find_lookup(first) >= 0) return 0;
        }
        return (size_t)(sep - lookup);
    }
    return 0;
}

size_t corm__q_tomany_prefix(const corm_model *m, const struct corm_q *q, const char **prefix)
{
    if (!q) return 0;
    switch (q->kind) {
    case CORM__Q_LEAF:
        if (q->rhs || !q->lookup) return 0;
        *prefix = q->lookup;
        return leaf_prefix(m, q->lookup);
    case CORM__Q_NOT: return 0;
    default: {
        if (q->chain) return 0;
        const char *pa = NULL, *pb = NULL;
        size_t a = corm__q_tomany_prefix(m, q->a, &pa);
        size_t b = a ? corm__q_tomany_prefix(m, q->b, &pb) : 0;
        if (!a || a != b || strncmp(pa, pb, a) != 0) return 0;
        *prefix = pa;
        return a;
    }
    }
}

struct corm_q *corm__q_strip(corm__sqlctx *c, const struct corm_q *q, size_t len)
{
    struct corm_q *d = corm__arena_alloc(&c->out->arena, sizeof *d);
    if (!d) return NULL;
    *d = *q;
    if (q->kind == CORM__Q_LEAF) {
        d->lookup = q->lookup + len + 2;
        return d;
    }
    if (q->a && !(d->a = corm__q_strip(c, q->a, len))) return NULL;
    if (q->b && !(d->b = corm__q_strip(c, q->b, len))) return NULL;
    return d;
}

static struct corm_q *and_of(corm__sqlctx *c, struct corm_q *acc, struct corm_q *x)
{
    if (!acc || !x) return x ? x : acc;
    struct corm_q *d = corm__arena_zalloc(&c->out->arena, sizeof *d);
    if (!d) return NULL;
    d->kind = CORM__Q_AND;
    d->a = acc;
    d->b = x;
    return d;
}

/* The conjuncts of one call (its top-level ANDs) on prefix, ANDed to *acc. */
static corm_rc conjuncts_on(corm__sqlctx *c, const corm_model *m, const struct corm_q *q,
                            const char *prefix, size_t len, bool strip, struct corm_q **acc)
{
    if (q->kind == CORM__Q_AND && !q->chain) {
        corm_rc rc = conjuncts_on(c, m, q->a, prefix, len, strip, acc);
        return rc == CORM_OK ? conjuncts_on(c, m, q->b, prefix, len, strip, acc) : rc;
    }
    const char *p = NULL;
    if (corm__q_tomany_prefix(m, q, &p) != len || strncmp(p, prefix, len) != 0) return CORM_OK;
    struct corm_q *x = strip ? corm__q_strip(c, q, len) : (struct corm_q *)q;
    if (!x || !(*acc = and_of(c, *acc, x))) return corm__sql_nomem(c);
    return CORM_OK;
}

static corm_rc calls_on(corm__sqlctx *c, const corm_model *m, const struct corm_q *w, int *left,
                        const char *prefix, size_t len, bool strip, struct corm_q **acc)
{
    if (w->kind == CORM__Q_AND && w->chain) {
        corm_rc rc = calls_on(c, m, w->a, left, prefix, len, strip, acc);
        if (rc != CORM_OK || *left <= 0) return rc;
        w = w->b;
    }
    if (*left <= 0) return CORM_OK;
    (*left)--;
    return conjuncts_on(c, m, w, prefix, len, strip, acc);
}

struct corm_q *corm__q_calls_on(corm__sqlctx *c, const corm_model *m, const struct corm_q *where,
                                int ncalls, const char *prefix, size_t len, bool strip, corm_rc *rc)
{
    struct corm_q *acc = NULL;
    int left = ncalls;
    *rc = where && ncalls > 0 ? calls_on(c, m, where, &left, prefix, len, strip, &acc) : CORM_OK;
    return *rc == CORM_OK ? acc : NULL;
}

/* One filter() call's conditions on the to-many prefix (len bytes of
** prefix), as one semi-join: `T0."id" IN (SELECT ... WHERE <all of them>)`,
** so they hold for the same related row (docs "Spanning multi-valued
** relationships"). */
static corm_rc render_group(corm__sqlctx *c, corm__scope *s, const char *prefix, size_t len,
                            const struct corm_q *stripped, corm_buf *w)
{
    char *path = corm__arena_strndup(&c->out->arena, prefix, len);
    if (!path) return corm__sql_nomem(c);
    char *parts[MAX_PARTS];
    int n;
    corm_rc rc = corm__split_path(c, path, parts, &n);
    if (rc != CORM_OK) return rc;
    int node = -1;
    for (int i = 0; i + 1 < n; i++) {
        const corm_model *m = corm__node_model(s, node);
        const corm_relation *r = corm__model_rel(m, parts[i], strlen(parts[i]));
        bool left = r->kind == CORM_REL_REVERSE_O2O || (m->fields[r->field].flags & CORM_FF_NULL);
        int j = corm__scope_join(c, s, node, r, left);
        if (j < -1) return c->err->rc;
        node = j;
    }
    const corm_model *m = corm__node_model(s, node);
    const corm_relation *r = corm__model_rel(m, parts[n - 1], strlen(parts[n - 1]));
    return render_tomany(c, s, node, r, NULL, 0, NULL, path, stripped, w);
}

/* An AND of one call whose conjuncts on a to-many relation share it: each
** such group is one semi-join.  *done false: nothing shared, render as is. */
static corm_rc render_and_grouped(corm__sqlctx *c, corm__scope *s, const struct corm_q *q,
                                  corm_buf *w, bool *done)
{
    *done = false;
    const struct corm_q *small[16], **conj = small;
    int n = 0, cap = 16;
    /* flatten the AND (left-deep from corm_q_and chains; any shape works) */
    const struct corm_q *stack[MAX_PARTS * 4];
    int top = 0;
    stack[top++] = q;
    while (top) {
        const struct corm_q *x = stack[--top];
        if (x->kind == CORM__Q_AND && !x->chain && top + 2 <= (int)CORM__ARRAY_LEN(stack)) {
            stack[top++] = x->b;
            stack[top++] = x->a;
            continue;
        }
        if (n == cap) {
            const struct corm_q **p =
                corm__arena_alloc(&c->out->arena, 2 * (size_t)cap * sizeof *p);
            if (!p) return corm__sql_nomem(c);
            memcpy(p, conj, (size_t)n * sizeof *p);
            conj = p;
            cap *= 2;
        }
        conj[n++] = x;
    }
    const char **pre = corm__arena_alloc(&c->out->arena, (size_t)n * sizeof *pre);
    size_t *len = corm__arena_alloc(&c->out->arena, (size_t)n * sizeof *len);
    if (!pre || !len) return corm__sql_nomem(c);
    bool shared = false;
    for (int i = 0; i < n; i++) {
        pre[i] = NULL;
        len[i] = corm__q_tomany_prefix(s->base, conj[i], &pre[i]);
        for (int j = 0; len[i] && j < i; j++)
            shared = shared || (len[j] == len[i] && strncmp(pre[j], pre[i], len[i]) == 0);
    }
    if (!shared) return CORM_OK;
    *done = true;
    corm__buf_addc(w, '(');
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (!conj[i]) continue; /* rendered with its group */
        if (!first) corm__buf_adds(w, " AND ");
        first = false;
        if (!len[i]) {
            corm_rc rc = corm__render_q(c, s, conj[i], false, w);
            if (rc != CORM_OK) return rc;
            continue;
        }
        struct corm_q *group = NULL;
        for (int j = i; j < n; j++) {
            if (!conj[j] || len[j] != len[i] || strncmp(pre[j], pre[i], len[i]) != 0) continue;
            struct corm_q *x = corm__q_strip(c, conj[j], len[i]);
            if (!x || !(group = and_of(c, group, x))) return corm__sql_nomem(c);
            if (j > i) conj[j] = NULL;
        }
        corm_rc rc = render_group(c, s, pre[i], len[i], group, w);
        if (rc != CORM_OK) return rc;
    }
    corm__buf_addc(w, ')');
    return CORM_OK;
}

/* A leaf of an aggregate's filter on the aggregated row (sqlctx.strip). */
static bool strip_leaf(const corm__sqlctx *c, const char *lookup)
{
    return c->strip && lookup && strncmp(lookup, c->strip, c->strip_len) == 0 &&
           (lookup[c->strip_len] == '\0' ||
            (lookup[c->strip_len] == '_' && lookup[c->strip_len + 1] == '_'));
}

/* A row-value comparison (CORM__Q_ROW_*): the columns of the base model,
** then as many placeholders.  Both SQLite and PostgreSQL compare rows
** lexicographically and serve it from an index on those columns. */
static corm_rc render_row(corm__sqlctx *c, corm__scope *s, const struct corm_q *q, corm_buf *w)
{
    const corm_model *m = corm__node_model(s, -1);
    const struct corm_q *cols[MAX_PARTS];
    int n = 0;
    for (const struct corm_q *r = q; n < MAX_PARTS; r = r->b) {
        bool last = r->kind == CORM__Q_LEAF;
        cols[n++] = last ? r : r->a;
        if (last) break;
    }
    corm__buf_addc(w, '(');
    for (int i = 0; i < n; i++) {
        const char *name = cols[i]->lookup;
        const corm_field *f =
            corm__is_pk_name(name) ? &m->fields[0] : corm__model_field(m, name, strlen(name));
        if (!f) return corm__unknown_name(c, m, name, name);
        if (i) corm__buf_adds(w, ", ");
        corm__col_ref(w, corm__node_alias(s, -1), f->column);
    }
    corm__buf_adds(w, q->kind == CORM__Q_ROW_GT ? ") > (" : ") < (");
    corm_rc rc = CORM_OK;
    for (int i = 0; i < n && rc == CORM_OK; i++) {
        if (i) corm__buf_adds(w, ", ");
        rc = corm__sql_bind(c, w, cols[i]->value);
    }
    corm__buf_addc(w, ')');
    return rc;
}

corm_rc corm__render_q(corm__sqlctx *c, corm__scope *s, const struct corm_q *q, bool negated,
                       corm_buf *w)
{
    corm_rc rc;
    switch (q->kind) {
    case CORM__Q_LEAF: {
        if (q->rhs && q->lookup && !q->lookup[0]) {
            /* a boolean expression itself: filter(Exists(...)) */
            bool agg = false;
            return corm__render_expr(c, s, q->rhs, w, &agg);
        }
        if (strip_leaf(c, q->lookup)) {
            /* "books__pages__gt" of Count("books", filter=...): "pages__gt"
            ** of the counted book; "books" alone is its pk */
            const char *rest = q->lookup[c->strip_len] ? q->lookup + c->strip_len + 2 : "pk";
            corm__scope *in = c->strip_scope;
            int node = c->strip_node;
            char *parts[MAX_PARTS];
            int n;
            bool lookup_only = corm__find_lookup(rest) >= 0;
            rc = corm__split_path(c, rest, parts, &n);
            if (rc == CORM_OK && lookup_only) {
                /* "books__in": the pk, then the lookup */
                parts[1] = parts[0];
                parts[0] = "pk";
                n = 2;
            }
            if (rc != CORM_OK) return rc;
            const char *strip = c->strip;
            c->strip = NULL;
            c->rhs = q->rhs;
            c->rhs_scope = s;
            rc = render_leaf_at(c, in, node, parts, n, &q->value, q->lookup, false, negated, w);
            c->rhs = NULL;
            c->rhs_scope = NULL;
            c->strip = strip;
            return rc;
        }
        /* the parts are used only while this leaf is written: a short
        ** path is split on the stack */
        char *parts[MAX_PARTS], local[128];
        int n;
        if (q->lookup && strlen(q->lookup) < sizeof local)
            rc = split_into(c, q->lookup, local, parts, &n);
        else rc = corm__split_path(c, q->lookup, parts, &n);
        if (rc != CORM_OK) return rc;
        c->rhs = q->rhs;
        c->rhs_scope = s;
        const corm__annot *an = corm__find_annot(s, parts[0]);
        if (an)
            rc = render_annot_leaf(c, s, an, parts + 1, n - 1, &q->value, q->lookup, negated, w);
        else rc = render_leaf_at(c, s, -1, parts, n, &q->value, q->lookup, false, negated, w);
        c->rhs = NULL;
        c->rhs_scope = NULL;
        return rc;
    }
    case CORM__Q_ROW_GT:
    case CORM__Q_ROW_LT: return render_row(c, s, q, w);
    case CORM__Q_NOT:
        corm__buf_adds(w, "NOT (");
        rc = corm__render_q(c, s, q->a, !negated, w);
        corm__buf_addc(w, ')');
        return rc;
    default:
        if (q->kind == CORM__Q_AND && !q->chain && !negated && !c->strip) {
            bool done;
            rc = render_and_grouped(c, s, q, w, &done);
            if (rc != CORM_OK || done) return rc;
        }
        corm__buf_addc(w, '(');
        rc = corm__render_q(c, s, q->a, negated, w);
        if (rc != CORM_OK) return rc;
        corm__buf_adds(w, q->kind == CORM__Q_AND ? " AND " : " OR ");
        rc = corm__render_q(c, s, q->b, negated, w);
        corm__buf_addc(w, ')');
        return rc;
    }
}

/* ------------------------------------------------------------ values */

corm_rc corm__value_copy(corm_arena *a, corm_value *dst, const corm_value *src)
{
    *dst = *src;
    switch (src->type) {
    case CORM_V_TEXT: {
        size_t n = text_len(src);
        char *p = corm__arena_strndup(a, src->u.s.p, n);
        if (!p) return CORM_NOMEM;
        dst->u.s.p = p;
        dst->u.s.n = n;
        break;
    }
    case CORM_V_BLOB: {
        void *p = corm__arena_memdup(a, src->u.s.p, src->u.s.n);
        if (!p) return CORM_NOMEM;
        dst->u.s.p = p;
        break;
    }
    case CORM_V_INTS: {
        int64_t *p = corm__arena_alloc(a, (src->u.ints.n ? src->u.ints.n : 1) * sizeof *p);
        if (!p) return CORM_NOMEM;
        if (src->u.ints.n) memcpy(p, src->u.ints.p, src->u.ints.n * sizeof *p);
        dst->u.ints.p = p;
        break;
    }
    case CORM_V_TEXTS: {
        const char **p = corm__arena_alloc(a, (src->u.texts.n ? src->u.texts.n : 1) * sizeof *p);
        if (!p) return CORM_NOMEM;
        for (size_t i = 0; i < src->u.texts.n; i++) {
            p[i] = corm__arena_strdup(a, src->u.texts.p[i] ? src->u.texts.p[i] : "");
            if (!p[i]) return CORM_NOMEM;
        }
        dst->u.texts.p = p;
        break;
    }
    case CORM_V_LIST: {
        corm_value *p = corm__arena_alloc(a, (src->u.list.n ? src->u.list.n : 1) * sizeof *p);
        if (!p) return CORM_NOMEM;
        for (size_t i = 0; i < src->u.list.n; i++) {
            corm_rc rc = corm__value_copy(a, &p[i], &src->u.list.p[i]);
            if (rc != CORM_OK) return rc;
        }
        dst->u.list.p = p;
        break;
    }
    default: break;
    }
    return CORM_OK;
}
