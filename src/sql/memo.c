/*
** memo.c - compiled SQL remembered by the query's shape.  A lazy load, a
** count() or an exists() in a loop builds the same query again and again
** with other values: its text, columns and select_related plan do not
** change, only the parameters do.  The shape key holds everything the text
** depends on (model, kind, dialect, lookups, the type of each value and
** whatever of a value changes the text: NULL, a bool, the length of an in
** list, ordering, select_related, only/defer, slices, default scopes); on
** a hit the text comes from the memo, and the compiler runs once more
** without writing any text (its buffers discard) for the parameters and
** the column plan, so both are always the compiler's own.
**
** Queries with annotations, values(), aggregate(), expressions in filters
** or prefetch keys are compiled every time (their text depends on more
** than this key says).  With memo->verify (CORM_SQL_MEMO_VERIFY=1, set by
** the test suite) every hit is compiled again and compared: a key that
** misses something aborts the run instead of running the wrong SQL.
*/
#include "compile_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key: bytes written into a fixed buffer; too long = not memoized. */
typedef struct keyw {
    char p[1024];
    size_t n;
    bool full;
} keyw;

static void put(keyw *k, const void *s, size_t n)
{
    if (k->full || n > sizeof k->p - k->n) {
        k->full = true;
        return;
    }
    memcpy(k->p + k->n, s, n);
    k->n += n;
}

static void put_ptr(keyw *k, const void *p) { put(k, &p, sizeof p); }

static void put_byte(keyw *k, int b)
{
    unsigned char c = (unsigned char)b;
    put(k, &c, 1);
}

/* NUL-terminated, so "ab"+"c" and "a"+"bc" differ; NULL as 0xff. */
static void put_str(keyw *k, const char *s)
{
    if (s) put(k, s, strlen(s) + 1);
    else put_byte(k, 0xff);
}

static void put_strs(keyw *k, const char *const *v, int n)
{
    put(k, &n, sizeof n);
    for (int i = 0; i < n; i++) put_str(k, v[i]);
}

/* What of a value the text depends on: its type, NULL-ness, a bool's or
** int's truth (isnull=1), the length of a list and its items' types. */
static void put_value(keyw *k, const corm_value *v)
{
    put_byte(k, v->type);
    switch (v->type) {
    case CORM_V_BOOL: put_byte(k, v->u.b); break;
    /* zero (isnull), and the side of an `integer` column's range
    ** (where.c: a value outside it changes the text) */
    case CORM_V_INT:
        put_byte(k, v->u.i == 0 ? 0 : v->u.i < INT32_MIN ? 2 : v->u.i > INT32_MAX ? 3 : 1);
        break;
    case CORM_V_INTS:
        put(k, &v->u.ints.n, sizeof v->u.ints.n);
        for (size_t i = 0; i < v->u.ints.n && !k->full; i++)
            put_byte(k, v->u.ints.p[i] < INT32_MIN || v->u.ints.p[i] > INT32_MAX);
        break;
    case CORM_V_TEXTS: put(k, &v->u.texts.n, sizeof v->u.texts.n); break;
    case CORM_V_LIST:
        put(k, &v->u.list.n, sizeof v->u.list.n);
        for (size_t i = 0; i < v->u.list.n && !k->full; i++) put_value(k, &v->u.list.p[i]);
        break;
    default: break;
    }
}

static bool put_q(keyw *k, const struct corm_q *q)
{
    put_byte(k, q->kind);
    switch (q->kind) {
    case CORM__Q_LEAF:
        if (q->rhs) return false;
        put_str(k, q->lookup);
        put_value(k, &q->value);
        return true;
    case CORM__Q_NOT: return put_q(k, q->a);
    default: return put_q(k, q->a) && put_q(k, q->b);
    }
}

/* The default scopes' part of the text: which runtime values are set and
** whether they are NULL (the literal ones are the model's). */
static void put_scopes(keyw *k, const corm__query *q)
{
    const corm_model *m = q->model;
    put_byte(k, q->unscoped);
    if (q->unscoped) return;
    for (int i = 0; i < m->nscopes; i++) {
        const corm_scope *sc = &m->scopes[i];
        if (sc->kind != CORM_SCOPE_RUNTIME || sc->field < 0 || sc->field >= m->nfields) continue;
        const corm__scope_env *env = q->scopes;
        int type = 0xff;
        for (int j = 0; env && j < env->n; j++)
            if (strcmp(env->vals[j].name, m->fields[sc->field].name) == 0)
                type = env->vals[j].v.type;
        put_byte(k, type);
    }
}

/*
** The tripwire: every member of corm__query, and how shape_key covers it.
** corm__query has no padding on LP64 (sql_int.h), so adding a member - or
** taking a byte of spare_ for one - changes one side of this sum and stops
** the build here.  Whoever does: make shape_key cover the new member (in
** the key, or "not memoized when set"), then list it below.
**   in the key:        model, where (put_q; an expression: not memoized),
**                      order/norder, related/nrelated, only/nonly, defer,
**                      order_set, reverse_order, distinct, unscoped and
**                      scopes (put_scopes: which runtime values are set),
**                      limit/offset (whether set; the numbers are bound)
**   not memoized when set (their text depends on more): annots/nannots,
**                      aggregate, values/nvalues, values_mode, via (with
**                      via_from, via_keys, nvia_keys, via_all: prefetch keys)
**   not a member:      spare_
*/
#if UINTPTR_MAX == UINT64_MAX
#define M(f) sizeof(((corm__query *)0)->f)
_Static_assert(sizeof(corm__query) ==
                   M(model) + M(where) + M(order) + M(related) + M(offset) + M(limit) + M(annots) +
                       M(values) + M(only) + M(via_from) + M(via) + M(via_keys) + M(nvia_keys) +
                       M(scopes) + M(norder) + M(nrelated) + M(nannots) + M(nvalues) + M(nonly) +
                       M(order_set) + M(reverse_order) + M(distinct) + M(aggregate) +
                       M(values_mode) + M(defer) + M(unscoped) + M(via_all) + M(spare_),
               "corm__query changed: cover the new member in shape_key (src/sql/memo.c), then "
               "add it to this list");
#undef M
#endif

static bool shape_key(keyw *k, const corm__query *q, corm__sel_kind kind, const corm__dialect *d)
{
    if (!q->model || q->nannots || q->aggregate || q->values_mode || q->nvalues || q->via)
        return false;
    put_ptr(k, d);
    put_ptr(k, q->model);
    put_byte(k, kind);
    put_byte(k, (q->order_set << 0) | (q->reverse_order << 1) | (q->distinct << 2) |
                    (q->defer << 3) | ((q->limit >= 0) << 4) | ((q->offset > 0) << 5));
    put_strs(k, q->order, q->norder);
    put_strs(k, q->related, q->nrelated);
    put_strs(k, q->only, q->nonly);
    put_scopes(k, q);
    if (q->where && !put_q(k, q->where)) return false;
    return !k->full;
}

/* ------------------------------------------------------------ entries */

typedef struct head {
    int nparams;
    size_t sqllen;
} head;

static void remember(corm__memo *memo, const keyw *k, uint64_t h, const corm__compiled *c)
{
    head hd = {c->nparams, c->sql.len};
    size_t n = sizeof hd + c->sql.len;
    char *v = corm__malloc(n);
    if (!v) return; /* not remembered: the next one compiles again */
    memcpy(v, &hd, sizeof hd);
    memcpy(v + sizeof hd, c->sql.p, c->sql.len);
    (void)corm__memo_put(memo, k->p, k->n, h, v, n);
    corm__free(v);
}

/* The entry's text into out, with q's parameters and plan from the
** compiler run without writing text; *placeholders gets the number the
** text has. */
static corm_rc recall(const char *v, const corm__query *q, corm__sel_kind kind,
                      const corm__dialect *d, corm__compiled *out, int *placeholders,
                      corm_error *err)
{
    head hd;
    memcpy(&hd, v, sizeof hd);
    *placeholders = hd.nparams;
    corm__buf_discard(&out->sql);
    corm_rc rc = corm__compile_select(q, kind, d, out, err);
    corm__buf_init(&out->sql);
    if (rc != CORM_OK) return rc;
    corm__buf_add(&out->sql, v + sizeof hd, hd.sqllen);
    if (out->sql.oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory compiling a query");
        return CORM_NOMEM;
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ verify */

static bool same_value(const corm_value *a, const corm_value *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case CORM_V_NULL: return true;
    case CORM_V_INT: return a->u.i == b->u.i;
    case CORM_V_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case CORM_V_BOOL: return a->u.b == b->u.b;
    case CORM_V_TEXT:
    case CORM_V_BLOB: {
        size_t na = a->u.s.n == (size_t)-1 ? strlen(a->u.s.p) : a->u.s.n;
        size_t nb = b->u.s.n == (size_t)-1 ? strlen(b->u.s.p) : b->u.s.n;
        return na == nb && memcmp(a->u.s.p, b->u.s.p, na) == 0;
    }
    default: return memcmp(&a->u, &b->u, sizeof a->u) == 0; /* the same arrays */
    }
}

static void verify(const corm__query *q, corm__sel_kind kind, const corm__dialect *d,
                   const corm__compiled *got)
{
    corm__compiled want;
    corm__compiled_init(&want);
    corm_error err = {0};
    corm_rc rc = corm__compile_select(q, kind, d, &want, &err);
    bool same = rc == CORM_OK && want.sql.len == got->sql.len &&
                memcmp(want.sql.p, got->sql.p, want.sql.len) == 0 && want.nparams == got->nparams &&
                want.nnodes == got->nnodes && want.ncols == got->ncols &&
                want.key_col == got->key_col && want.annot_col == got->annot_col &&
                want.nannots == got->nannots;
    for (int i = 0; same && i < want.nparams; i++)
        same = same_value(&want.params[i], &got->params[i]);
    for (int i = 0; same && i < want.nnodes; i++) {
        const corm__sel_node *a = &want.nodes[i], *b = &got->nodes[i];
        same = a->model == b->model && a->parent == b->parent && a->rel == b->rel &&
               a->first_col == b->first_col && a->mask == b->mask;
    }
    if (!same) {
        fprintf(stderr, "corm: compiled-SQL memo returned\n  %s\nwhere compiling gives\n  %s\n",
                corm__buf_cstr((corm_buf *)&got->sql), rc == CORM_OK ? want.sql.p : err.message);
        abort();
    }
    corm__compiled_free(&want);
}

corm_rc corm__compile_select_memo(corm__memo *memo, const corm__query *q, corm__sel_kind kind,
                                  const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    keyw k;
    k.n = 0;
    k.full = false;
    if (!memo || !shape_key(&k, q, kind, d)) return corm__compile_select(q, kind, d, out, err);
    uint64_t h = corm__hash_fast(k.p, k.n);
    const char *v = corm__memo_get(memo, k.p, k.n, h, NULL);
    if (v) {
        int placeholders = 0;
        corm_rc rc = recall(v, q, kind, d, out, &placeholders, err);
        if (rc == CORM_OK && memo->verify) verify(q, kind, d, out);
        if (rc != CORM_OK || out->nparams == placeholders) return rc;
        /* the binding disagrees with the text (a bug the verifying test
        ** suite would have stopped at): compile as if never seen */
        corm__compiled_free(out);
        corm__compiled_init(out);
    }
    corm_rc rc = corm__compile_select(q, kind, d, out, err);
    if (rc == CORM_OK) remember(memo, &k, h, out);
    return rc;
}
