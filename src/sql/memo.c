/*
** memo.c - compiled SQL remembered by the query's shape.  A lazy load, a
** count() or an exists() in a loop builds the same query again and again
** with other values: its text, columns and select_related plan do not
** change, only the parameters do.  The shape key holds everything the text
** depends on (model, kind, dialect, lookups, the type of each value and
** whatever of a value changes the text: NULL, a bool, the length of an in
** list, ordering, select_related, only/defer, slices, default scopes); on
** a hit the text and the column plan come from the memo, and the
** parameters from the entry's binding program (below), proved on the miss
** that made the entry: the compiler does not run.  A shape without a
** program (a value the compiler transforms, `in` lists, runtime scopes)
** runs the compiler once more without writing any text (its buffers
** discard) for the parameters and the plan.
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

/* The where tree's leaves' values, in put_q's order (the slots of the
** binding program, below); n counts past MAX_SLOTS, which then no
** program fits. */
#define MAX_SLOTS 32
typedef struct slots {
    const corm_value *v[MAX_SLOTS];
    corm_value lim[2]; /* the limit and offset, as values */
    int n;
    int empty_lists; /* leaves of an empty list (corm__query_empty's `in`) */
} slots;

static bool put_q(keyw *k, slots *s, const struct corm_q *q)
{
    int kb = q->kind | (q->chain ? 0x10 : 0);
    switch (q->kind) {
    case CORM__Q_LEAF: {
        if (q->rhs) return false;
        if (s->n < MAX_SLOTS) s->v[s->n] = &q->value;
        s->n++;
        const corm_value *v = &q->value;
        size_t len = q->lookup && v->type == CORM_V_INT ? strlen(q->lookup) + 1 : 0;
        if (len && !k->full && len + 3 <= sizeof k->p - k->n) {
            /* an int's leaf (the common one), at once: the same bytes as
            ** the three calls below write */
            char *w = k->p + k->n;
            *w++ = (char)kb;
            memcpy(w, q->lookup, len);
            w += len;
            *w++ = CORM_V_INT;
            *w++ = (char)(v->u.i == 0 ? 0 : v->u.i < INT32_MIN ? 2 : v->u.i > INT32_MAX ? 3 : 1);
            k->n = (size_t)(w - k->p);
            return true;
        }
        put_byte(k, kb);
        put_str(k, q->lookup);
        put_value(k, v);
        s->empty_lists += (v->type == CORM_V_INTS && !v->u.ints.n) ||
                          (v->type == CORM_V_TEXTS && !v->u.texts.n) ||
                          (v->type == CORM_V_LIST && !v->u.list.n);
        return true;
    }
    case CORM__Q_NOT: put_byte(k, kb); return put_q(k, s, q->a);
    default: put_byte(k, kb); return put_q(k, s, q->a) && put_q(k, s, q->b);
    }
}

/* The default scopes' part of the text: which runtime values are set and
** whether they are NULL (the literal ones are the model's). */
static void put_scopes(keyw *k, const corm__query *q)
{
    const corm_model *m = q->model;
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

/* The key's fixed part, written at once: every byte a member (no
** padding), the lengths of the string lists whose strings follow. */
typedef struct keyhead {
    const corm__dialect *d;
    const corm_model *model;
    unsigned char kind, flags, unscoped, norder, nrelated, nonly, zero_[2];
} keyhead;
_Static_assert(sizeof(keyhead) == 2 * sizeof(void *) + 8, "keyhead has padding");

/* q's key into k, and its where tree's values into s (the binding
** program's slots, then the limit and offset); false: not memoized. */
static bool shape_key(keyw *k, slots *s, const corm__query *q, corm__sel_kind kind,
                      const corm__dialect *d)
{
    if (!q->model || q->nannots || q->aggregate || q->values_mode || q->nvalues || q->via)
        return false;
    if ((unsigned)q->norder > 255 || (unsigned)q->nrelated > 255 || (unsigned)q->nonly > 255)
        return false;
    keyhead h = {d,
                 q->model,
                 (unsigned char)kind,
                 (unsigned char)((q->order_set << 0) | (q->reverse_order << 1) |
                                 (q->distinct << 2) | (q->defer << 3) | ((q->limit >= 0) << 4) |
                                 ((q->offset > 0) << 5)),
                 q->unscoped,
                 (unsigned char)q->norder,
                 (unsigned char)q->nrelated,
                 (unsigned char)q->nonly,
                 {0, 0}};
    memcpy(k->p, &h, sizeof h);
    k->n = sizeof h;
    for (int i = 0; i < q->norder; i++) put_str(k, q->order[i]);
    for (int i = 0; i < q->nrelated; i++) put_str(k, q->related[i]);
    for (int i = 0; i < q->nonly; i++) put_str(k, q->only[i]);
    if (!q->unscoped) put_scopes(k, q);
    s->n = 0;
    s->empty_lists = 0;
    if (q->where && !put_q(k, s, q->where)) return false;
    if (s->n + 2 <= MAX_SLOTS) {
        s->lim[0] = corm_int(q->limit);
        s->lim[1] = corm_int(q->offset);
        s->v[s->n++] = &s->lim[0];
        s->v[s->n++] = &s->lim[1];
    } else {
        s->n = MAX_SLOTS + 1; /* too many: no program fits */
    }
    return !k->full;
}

/* ------------------------------------------------------------ entries */

/*
** An entry: its head, then (when it has a binding program, nsteps >= 0)
** the plan's nodes and the program's steps, then the SQL text.  The
** program says where each parameter comes from: a value of the query
** (a slot: the where tree's leaves in put_q's order, then the limit and
** the offset) or a constant the key already fixes (a NULL, a bool, an int
** the key says is 0).  A hit with a program binds those values and copies
** the plan: the compiler does not run.  Without one (a value the compiler
** transforms, an `in` list, runtime scopes, ...) a hit runs the compiler
** without text, as before.  The entry is stored unaligned (after the key):
** every part is read with memcpy.
*/
typedef struct head {
    uint64_t fp;        /* the text's fingerprint, or 0 */
    uint64_t text_hash; /* corm__hash_fast of the text */
    int nparams;
    size_t sqllen;
    int nsteps; /* -1: no binding program */
    int nnodes, ncols, key_col, annot_col, nannots;
} head;

typedef struct step {
    int slot; /* >= 0: the query's value in that slot; -1: k */
    corm_value k;
} step;

#define MAX_QNODES 64

/* The query's values, in slot order; false when there are too many. */

static bool leaf_slots(slots *s, const struct corm_q *q)
{
    switch (q->kind) {
    case CORM__Q_LEAF:
        if (s->n == MAX_SLOTS) return false;
        s->v[s->n++] = &q->value;
        return true;
    case CORM__Q_NOT: return leaf_slots(s, q->a);
    default: return leaf_slots(s, q->a) && leaf_slots(s, q->b);
    }
}

static bool query_slots(slots *s, const corm__query *q)
{
    s->n = 0;
    if (q->where && !leaf_slots(s, q->where)) return false;
    if (s->n + 2 > MAX_SLOTS) return false;
    s->lim[0] = corm_int(q->limit);
    s->lim[1] = corm_int(q->offset);
    s->v[s->n++] = &s->lim[0];
    s->v[s->n++] = &s->lim[1];
    return true;
}

static bool same_value(const corm_value *a, const corm_value *b);

/* A copy of q whose every value the key does not fix is replaced by a
** tag unique to (run, slot); false when a value cannot be tagged.  The
** copy's where tree lives in nodes, its texts in texts. */
typedef struct tagged {
    corm__query q;
    struct corm_q nodes[MAX_QNODES];
    int nnodes, nslots;
    char texts[MAX_SLOTS][24];
} tagged;

static bool tag_value(tagged *t, corm_value *v, int run)
{
    int slot = t->nslots++;
    if (slot >= MAX_SLOTS) return false;
    switch (v->type) {
    case CORM_V_NULL:
    case CORM_V_BOOL: return true; /* in the key */
    case CORM_V_INT: {
        if (v->u.i == 0) return true; /* in the key */
        /* on the value's side of an `integer` column's range (in the key:
        ** where.c writes a value outside it as a condition, not a parameter) */
        int64_t tag = run * 0x100 + slot;
        v->u.i = v->u.i < INT32_MIN   ? -INT64_C(0x3c0a000000000000) - tag
                 : v->u.i > INT32_MAX ? INT64_C(0x3c0a000000000000) + tag
                                      : INT64_C(0x3c0a0000) + tag;
        return true;
    }
    case CORM_V_FLOAT: v->u.f = run * 1000.0 + slot + 0.25; return true;
    case CORM_V_TEXT:
    case CORM_V_BLOB:
        snprintf(t->texts[slot], sizeof t->texts[slot],
                 "\x1f"
                 "corm-tag-%d-%d",
                 run, slot);
        v->u.s.p = t->texts[slot];
        v->u.s.n = strlen(t->texts[slot]);
        return true;
    default: return false; /* in lists: bound item by item */
    }
}

static struct corm_q *tag_tree(tagged *t, const struct corm_q *q, int run)
{
    if (t->nnodes == MAX_QNODES) return NULL;
    struct corm_q *c = &t->nodes[t->nnodes++];
    *c = *q;
    switch (q->kind) {
    case CORM__Q_LEAF: return tag_value(t, &c->value, run) ? c : NULL;
    case CORM__Q_NOT: return (c->a = tag_tree(t, q->a, run)) ? c : NULL;
    default:
        if (!(c->a = tag_tree(t, q->a, run))) return NULL;
        return (c->b = tag_tree(t, q->b, run)) ? c : NULL;
    }
}

static bool tag_query(tagged *t, const corm__query *q, int run)
{
    t->q = *q;
    t->nnodes = t->nslots = 0;
    if (q->where && !(t->q.where = tag_tree(t, q->where, run))) return false;
    int lim = t->nslots;
    if (lim + 2 > MAX_SLOTS || q->limit == 0) return false; /* LIMIT 0: not tagged */
    if (q->limit > 0) t->q.limit = 0x3c0a00000 + run * 0x10000 + lim;
    if (q->offset > 0) t->q.offset = 0x3c0a00000 + run * 0x10000 + lim + 1;
    return true;
}

static bool same_plan(const corm__compiled *a, const corm__compiled *b)
{
    if (a->sql.len != b->sql.len || memcmp(a->sql.p, b->sql.p, a->sql.len) != 0 ||
        a->nparams != b->nparams || a->nnodes != b->nnodes || a->ncols != b->ncols ||
        a->key_col != b->key_col || a->annot_col != b->annot_col || a->nannots != b->nannots ||
        a->colnames || b->colnames)
        return false;
    for (int i = 0; i < a->nnodes; i++) {
        const corm__sel_node *x = &a->nodes[i], *y = &b->nodes[i];
        if (x->model != y->model || x->parent != y->parent || x->rel != y->rel ||
            x->first_col != y->first_col || x->mask != y->mask)
            return false;
    }
    return true;
}

/* The binding program of q's shape, compiled as c: q compiled twice more
** with two sets of tags; a parameter that is tag s in both runs comes
** from slot s, one equal in all three compiles to a NULL, bool or int is
** a constant; anything else (a transformed value, a text constant) means
** no program.  Then the program applied to q must give c's parameters. */
static bool program(const corm__query *q, corm__sel_kind kind, const corm__dialect *d,
                    const corm__compiled *c, step *steps)
{
    if (!q->unscoped)
        for (int i = 0; i < q->model->nscopes; i++)
            if (q->model->scopes[i].kind == CORM_SCOPE_RUNTIME) return false;
    if (c->nparams > MAX_SLOTS * 2) return false;
    static const corm_value none = {CORM_V_NULL, {0}};
    bool ok = true;
    tagged *t = corm__malloc(2 * sizeof *t);
    corm__compiled run[2];
    corm__compiled_init(&run[0]);
    corm__compiled_init(&run[1]);
    for (int r = 0; r < 2 && ok; r++) {
        corm_error err = {0};
        ok = t && tag_query(&t[r], q, r + 1) &&
             corm__compile_select(&t[r].q, kind, d, &run[r], &err) == CORM_OK &&
             same_plan(c, &run[r]);
    }
    slots s0, s1;
    ok = ok && query_slots(&s0, &t[0].q) && query_slots(&s1, &t[1].q);
    for (int i = 0; ok && i < c->nparams; i++) {
        const corm_value *a = &run[0].params[i], *b = &run[1].params[i];
        steps[i].slot = -1;
        steps[i].k = none;
        for (int j = 0; j < s0.n && steps[i].slot < 0; j++)
            if (!same_value(a, b) && same_value(a, s0.v[j]) && same_value(b, s1.v[j]))
                steps[i].slot = j;
        if (steps[i].slot >= 0) continue;
        ok = same_value(a, b) && same_value(a, &c->params[i]) &&
             (a->type == CORM_V_NULL || a->type == CORM_V_BOOL || a->type == CORM_V_INT);
        steps[i].k = *a;
    }
    slots sq;
    ok = ok && query_slots(&sq, q);
    for (int i = 0; ok && i < c->nparams; i++)
        ok = same_value(steps[i].slot >= 0 ? sq.v[steps[i].slot] : &steps[i].k, &c->params[i]);
    corm__compiled_free(&run[0]);
    corm__compiled_free(&run[1]);
    corm__free(t);
    return ok;
}

static void remember(corm__memo *memo, const keyw *k, uint64_t h, const corm__query *q,
                     corm__sel_kind kind, const corm__dialect *d, const corm__compiled *c)
{
    step steps[MAX_SLOTS * 2];
    bool prog = program(q, kind, d, c, steps);
    head hd = {c->fp,     c->text_hash, c->nparams, c->sql.len,   prog ? c->nparams : -1,
               c->nnodes, c->ncols,     c->key_col, c->annot_col, c->nannots};
    size_t nodes = prog ? (size_t)c->nnodes * sizeof c->nodes[0] : 0;
    size_t nsteps = prog ? (size_t)c->nparams * sizeof steps[0] : 0;
    size_t n = sizeof hd + nodes + nsteps + c->sql.len;
    char *v = corm__malloc(n);
    if (!v) return; /* not remembered: the next one compiles again */
    memcpy(v, &hd, sizeof hd);
    if (nodes) memcpy(v + sizeof hd, c->nodes, nodes);
    if (nsteps) memcpy(v + sizeof hd + nodes, steps, nsteps);
    memcpy(v + sizeof hd + nodes + nsteps, c->sql.p, c->sql.len);
    (void)corm__memo_put(memo, k->p, k->n, h, v, n);
    corm__free(v);
}

/* A hit with a program: the text, the plan, and q's values bound. */
static corm_rc bind(const char *v, const head *hd, const slots *s, corm__compiled *out,
                    corm_error *err)
{
    const char *p = v + sizeof *hd;
    size_t nodes = (size_t)hd->nnodes * sizeof out->nodes[0];
    if (CORM_NEVER(hd->nnodes > CORM__MAX_NODES || s->n > MAX_SLOTS)) goto misfit;
    memcpy(out->nodes, p, nodes);
    p += nodes;
    out->nnodes = hd->nnodes;
    out->ncols = hd->ncols;
    out->key_col = hd->key_col;
    out->annot_col = hd->annot_col;
    out->nannots = hd->nannots;
    if (hd->nparams > out->cap) {
        corm_value *inl = out->inl_params;
        if (out->params && out->params != inl) corm__free(out->params);
        int fits = (int)CORM__ARRAY_LEN(out->inl_params);
        out->params = hd->nparams <= fits ? inl : corm__malloc((size_t)hd->nparams * sizeof *inl);
        out->cap = 0;
        if (!out->params) goto nomem;
        out->cap = hd->nparams <= fits ? fits : hd->nparams;
    }
    for (int i = 0; i < hd->nparams; i++, p += sizeof(step)) {
        step st;
        memcpy(&st, p, sizeof st);
        if (CORM_NEVER(st.slot >= s->n)) goto misfit;
        out->params[i] = st.slot >= 0 ? *s->v[st.slot] : st.k;
    }
    out->nparams = hd->nparams;
    if (!out->sql.p && hd->sqllen < sizeof out->inl_sql) {
        /* the text copied at once into the inline area, and the buffer made
        ** over it as corm__buf_over then corm__buf_add would */
        memcpy(out->inl_sql, p, hd->sqllen);
        out->inl_sql[hd->sqllen] = '\0';
        out->sql = (corm_buf){
            .p = out->inl_sql, .len = hd->sqllen, .cap = sizeof out->inl_sql, .borrowed = true};
        return CORM_OK;
    }
    corm__buf_add(&out->sql, p, hd->sqllen);
    if (!out->sql.oom) return CORM_OK;
nomem:
    corm__err_set(err, CORM_NOMEM, "out of memory compiling a query");
    return CORM_NOMEM;
misfit: /* the key let a query of another shape in: a corm bug */
    corm__err_set(err, CORM_INVALID, "a compiled-SQL memo entry does not fit its query");
    return CORM_INVALID;
}

/* The entry's text into out, with q's parameters and plan from the
** compiler run without writing text; *placeholders gets the number the
** text has. */
static corm_rc recall(const char *v, const corm__query *q, const slots *s, corm__sel_kind kind,
                      const corm__dialect *d, corm__compiled *out, int *placeholders,
                      corm_error *err)
{
    head hd;
    memcpy(&hd, v, sizeof hd);
    *placeholders = hd.nparams;
    out->fp = hd.fp;
    out->text_hash = hd.text_hash;
    if (hd.nsteps >= 0) return bind(v, &hd, s, out, err);
    corm__buf_discard(&out->sql);
    corm_rc rc = corm__compile_select(q, kind, d, out, err);
    corm__buf_init(&out->sql);
    if (rc != CORM_OK) return rc;
    if (hd.sqllen < sizeof out->inl_sql)
        corm__buf_over(&out->sql, out->inl_sql, sizeof out->inl_sql);
    corm__buf_add(&out->sql, v + sizeof hd, hd.sqllen);
    if (out->sql.oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory compiling a query");
        return CORM_NOMEM;
    }
    return CORM_OK;
}

/* The fingerprint of c's text, for its entry: the statement's event
** carries it (corm_event.fingerprint), so the instrumentation does not
** look the text up for every hit. */
static uint64_t text_fp(const corm__compiled *c)
{
    corm_buf b;
    corm__buf_init(&b);
    uint64_t fp = corm__fingerprint(corm__buf_cstr((corm_buf *)&c->sql), &b);
    corm__buf_free(&b);
    return fp;
}

/* ------------------------------------------------------------ verify */

static bool same_value(const corm_value *a, const corm_value *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case CORM_V_NULL: return true;
    case CORM_V_INT: return a->u.i == b->u.i;
    case CORM_V_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case CORM_V_DECIMAL: return a->u.d.units == b->u.d.units && a->u.d.scale == b->u.d.scale;
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
    /* the key's walk saw every leaf: no empty list, no empty `in` */
    same = same && (!got->no_empty_list || corm__query_empty(q) == (q->limit == 0));
    same = same && got->fp == text_fp(&want) &&
           got->text_hash == corm__hash_fast(want.sql.p, want.sql.len);
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

/* The key's hash, which picks the memo's set (the key itself is then
** compared): whole 8-byte words, the last one read with zeros after the
** key (not a part of it; k->n stays). */
static uint64_t key_hash(keyw *k)
{
    if (k->n + 8 > sizeof k->p) return corm__hash_fast(k->p, k->n);
    memset(k->p + k->n, 0, 8);
    uint64_t h = (uint64_t)k->n * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < k->n; i += 8) {
        uint64_t w;
        memcpy(&w, k->p + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

corm_rc corm__compile_select_memo(corm__memo *memo, const corm__query *q, corm__sel_kind kind,
                                  const corm__dialect *d, corm__compiled *out, corm_error *err)
{
    keyw k;
    slots s;
    k.n = 0;
    k.full = false;
    if (!memo || !shape_key(&k, &s, q, kind, d)) return corm__compile_select(q, kind, d, out, err);
    uint64_t h = key_hash(&k);
    const char *v = corm__memo_get(memo, k.p, k.n, h, NULL);
    if (v) {
        int placeholders = 0;
        corm_rc rc = recall(v, q, &s, kind, d, out, &placeholders, err);
        out->no_empty_list = s.empty_lists == 0;
        if (rc == CORM_OK && memo->verify) verify(q, kind, d, out);
        if (rc != CORM_OK || out->nparams == placeholders) return rc;
        /* the binding disagrees with the text (a bug the verifying test
        ** suite would have stopped at): compile as if never seen */
        corm__compiled_free(out);
        corm__compiled_init(out);
    }
    corm_rc rc = corm__compile_select(q, kind, d, out, err);
    if (rc == CORM_OK) {
        out->fp = text_fp(out);
        out->text_hash = corm__hash_fast(out->sql.p, out->sql.len);
        remember(memo, &k, h, q, kind, d, out);
        out->no_empty_list = s.empty_lists == 0;
    }
    return rc;
}
