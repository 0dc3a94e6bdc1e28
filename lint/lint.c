/*
** lint.c - `corm lint` (the corm-lint program): N+1 queries and bad lookups
** found in C sources before the program runs.  It parses each file with
** libclang (the program's -I/-D flags), reads the schema, and reports:
**
**   lookup      a literal field path (filter, exclude, corm_q_new, order_by,
**               values, only, defer, select_related, prefetch_related,
**               corm_prefetch, corm_F, corm_Count & co) that the queryset's
**               model does not have; the message and did-you-mean are the
**               ones corm gives at run time, because the path is checked by
**               building that queryset (compiled, never run) on the schema.
**   n_plus_one  a generated relation accessor (book_author(b), author_books(a))
**               read on the loop variable of a corm_foreach over a queryset
**               whose eager loads do not cover it, directly or in a function
**               of the same file called with the loop variable; the fix is
**               the runtime detector's.
**
** A queryset's model is known from corm_all(db, Model) / corm_raw(...)
** assigned to a local variable; anything else (a queryset passed in, a
** variable set from two models, eager loads added by a helper) stays
** silent: what the linter cannot prove is left to the runtime detector.
** A line containing "corm-lint: ignore" is not reported.
*/
#define _DEFAULT_SOURCE /* realpath */
#include "corm.h"

#include <clang-c/CXCompilationDatabase.h>
#include <clang-c/Index.h>
#include <jansson.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 256
#define MAXP 64

typedef struct {
    char file[512];
    unsigned line, col;
    const char *kind; /* "lookup", "n_plus_one" */
    char msg[1200];
    char note[1200]; /* the hint / fix, or "" */
} finding;

static finding *findings;
static size_t nfindings, capfindings;

static const corm_schema *schema;
static corm_db *mem; /* the schema on an empty in-memory database */

/* ---------------------------------------------------------- utilities */

static char *str_of(CXString s)
{
    const char *c = clang_getCString(s);
    char *r = strdup(c ? c : "");
    clang_disposeString(s);
    return r;
}

static char *spelling(CXCursor c) { return str_of(clang_getCursorSpelling(c)); }

typedef struct {
    char file[512];
    unsigned line, col;
} where;

/* Where c is: where it is spelled, or (expansion) the line of the macro
** call it comes from, as CORM_SITE records it. */
static where location(CXCursor c, bool expansion)
{
    where w = {{0}, 0, 0};
    CXFile f;
    CXSourceLocation l = clang_getCursorLocation(c);
    if (expansion) clang_getExpansionLocation(l, &f, &w.line, &w.col, NULL);
    else clang_getSpellingLocation(l, &f, &w.line, &w.col, NULL);
    char *n = f ? str_of(clang_getFileName(f)) : strdup("?");
    snprintf(w.file, sizeof w.file, "%s", n);
    free(n);
    return w;
}

static where where_of(CXCursor c) { return location(c, false); }
static where expansion_of(CXCursor c) { return location(c, true); }

static bool suppressed(const char *file, unsigned line)
{
    FILE *fp = fopen(file, "r");
    if (!fp) return false;
    char buf[4096];
    unsigned n = 0;
    bool yes = false;
    while (fgets(buf, sizeof buf, fp))
        if (++n == line) {
            yes = strstr(buf, "corm-lint: ignore") != NULL;
            break;
        }
    fclose(fp);
    return yes;
}

static void add(where w, const char *kind, const char *note, const char *fmt, ...)
{
    if (suppressed(w.file, w.line)) return;
    for (size_t i = 0; i < nfindings; i++) /* one per place and kind */
        if (findings[i].line == w.line && findings[i].col == w.col &&
            strcmp(findings[i].file, w.file) == 0 && strcmp(findings[i].kind, kind) == 0)
            return;
    if (nfindings == capfindings) {
        capfindings = capfindings ? capfindings * 2 : 16;
        findings = realloc(findings, capfindings * sizeof *findings);
        if (!findings) abort();
    }
    finding *f = &findings[nfindings++];
    memset(f, 0, sizeof *f);
    snprintf(f->file, sizeof f->file, "%s", w.file);
    f->line = w.line;
    f->col = w.col;
    f->kind = kind;
    snprintf(f->note, sizeof f->note, "%s", note ? note : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
}

/* The first cursor of kind k at or under c (pre-order), or a null cursor. */
typedef struct {
    enum CXCursorKind kind;
    CXCursor found;
    bool any;
} findk;

static enum CXChildVisitResult find_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    findk *f = d;
    if (clang_getCursorKind(c) == f->kind) {
        f->found = c;
        f->any = true;
        return CXChildVisit_Break;
    }
    return CXChildVisit_Recurse;
}

static bool find_kind(CXCursor c, enum CXCursorKind k, CXCursor *out)
{
    if (clang_getCursorKind(c) == k) {
        *out = c;
        return true;
    }
    findk f = {k, clang_getNullCursor(), false};
    clang_visitChildren(c, find_visit, &f);
    *out = f.found;
    return f.any;
}

static enum CXChildVisitResult first_kid(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    *(CXCursor *)d = c;
    return CXChildVisit_Break;
}

/* An expression that is (casts and parentheses aside) a variable. */
static bool var_of(CXCursor e, CXCursor *var)
{
    for (int depth = 0; depth < 16; depth++) {
        enum CXCursorKind k = clang_getCursorKind(e);
        if (k == CXCursor_DeclRefExpr) {
            CXCursor d = clang_getCursorReferenced(e);
            enum CXCursorKind dk = clang_getCursorKind(d);
            if (dk != CXCursor_VarDecl && dk != CXCursor_ParmDecl) return false;
            *var = d;
            return true;
        }
        if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr) return false;
        CXCursor kid = clang_getNullCursor();
        clang_visitChildren(e, first_kid, &kid);
        if (clang_Cursor_isNull(kid)) return false;
        e = kid;
    }
    return false;
}

/* The call an expression is (casts and parentheses aside), by name. */
static bool call_of(CXCursor e, CXCursor *call)
{
    for (int depth = 0; depth < 16; depth++) {
        enum CXCursorKind k = clang_getCursorKind(e);
        if (k == CXCursor_CallExpr) {
            *call = e;
            return true;
        }
        if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr) return false;
        CXCursor kid = clang_getNullCursor();
        clang_visitChildren(e, first_kid, &kid);
        if (clang_Cursor_isNull(kid)) return false;
        e = kid;
    }
    return false;
}

/* String literals under c, in order, unquoted (escapes are not expected
** in field paths: a literal with one is skipped). */
typedef struct {
    char *s[MAXP];
    CXCursor at[MAXP];
    int n;
    bool other; /* a non-literal path (a variable): the list is incomplete */
} strs;

static enum CXChildVisitResult str_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    strs *v = d;
    if (clang_getCursorKind(c) == CXCursor_StringLiteral) {
        char *t = spelling(c);
        size_t n = strlen(t);
        if (n >= 2 && t[0] == '"' && t[n - 1] == '"' && !strchr(t, '\\') && v->n < MAXP) {
            t[n - 1] = 0;
            v->s[v->n] = strdup(t + 1);
            v->at[v->n++] = c;
        }
        free(t);
        return CXChildVisit_Continue;
    }
    if (clang_getCursorKind(c) == CXCursor_DeclRefExpr) {
        CXCursor d2 = clang_getCursorReferenced(c);
        if (clang_getCursorKind(d2) == CXCursor_VarDecl ||
            clang_getCursorKind(d2) == CXCursor_ParmDecl)
            v->other = true;
    }
    return CXChildVisit_Recurse;
}

static void strs_of(CXCursor c, strs *v)
{
    memset(v, 0, sizeof *v);
    if (clang_getCursorKind(c) == CXCursor_StringLiteral) {
        str_visit(c, c, v);
        return;
    }
    clang_visitChildren(c, str_visit, v);
}

static void strs_free(strs *v)
{
    for (int i = 0; i < v->n; i++) free(v->s[i]);
    v->n = 0;
}

static bool name_is(const char *n, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(n, *set) == 0) return true;
    return false;
}

static char *callee(CXCursor call) { return spelling(call); }

static CXCursor arg(CXCursor call, int i) { return clang_Cursor_getArgument(call, (unsigned)i); }

/* "BookReview" -> "book_review", as corm gen names accessors. */
static void snake(const char *m, char *out, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; m[i] && j + 2 < size; i++) {
        if (isupper((unsigned char)m[i]) && i > 0) out[j++] = '_';
        out[j++] = (char)tolower((unsigned char)m[i]);
    }
    out[j] = 0;
}

static const corm_model *target_of(const corm_model *m, const corm_relation *r)
{
    (void)m;
    return schema->models[r->target];
}

static bool to_many(const corm_relation *r)
{
    return r->kind == CORM_REL_REVERSE_FK || r->kind == CORM_REL_M2M ||
           r->kind == CORM_REL_REVERSE_M2M;
}

static const corm_relation *rel_named(const corm_model *m, const char *name, size_t len)
{
    for (int i = 0; i < m->nrels; i++)
        if (strlen(m->rels[i].name) == len && strncmp(m->rels[i].name, name, len) == 0)
            return &m->rels[i];
    return NULL;
}

/* The model a `&Book_model` argument names, or NULL. */
static const corm_model *model_arg(CXCursor e)
{
    CXCursor ref;
    if (!find_kind(e, CXCursor_DeclRefExpr, &ref)) return NULL;
    char *n = spelling(ref);
    size_t len = strlen(n);
    const corm_model *m = NULL;
    if (len > 6 && strcmp(n + len - 6, "_model") == 0) {
        n[len - 6] = 0;
        m = corm_schema_model(schema, n);
    }
    free(n);
    return m;
}

typedef struct {
    CXCursor a, b;
    int n;
} two;

static enum CXChildVisitResult two_kids(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    two *t = d;
    if (t->n == 0) t->a = c;
    else if (t->n == 1) t->b = c;
    t->n++;
    return CXChildVisit_Continue;
}

static CXTranslationUnit tu;

static bool first_token_is(CXCursor c, const char *tok)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(tu, clang_getCursorExtent(c), &toks, &n);
    bool yes = false;
    if (n) {
        char *t = str_of(clang_getTokenSpelling(tu, toks[0]));
        yes = strcmp(t, tok) == 0;
        free(t);
    }
    if (toks) clang_disposeTokens(tu, toks, n);
    return yes;
}

typedef struct {
    CXCursor kids[8];
    int n;
} kids;

static enum CXChildVisitResult kids_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    kids *k = d;
    if (k->n < 8) k->kids[k->n++] = c;
    return CXChildVisit_Continue;
}

/* The source text of c, its tokens joined. */
static char *text_of(CXCursor c)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(tu, clang_getCursorExtent(c), &toks, &n);
    char buf[512] = "";
    for (unsigned i = 0; i < n; i++) {
        char *t = str_of(clang_getTokenSpelling(tu, toks[i]));
        strncat(buf, t, sizeof buf - strlen(buf) - 1);
        free(t);
    }
    if (toks) clang_disposeTokens(tu, toks, n);
    return strdup(buf);
}

/* ------------------------------------------------------ querysets */

typedef struct {
    CXCursor decl;
    const corm_model *model;
    bool conflict; /* set from two models or from anything else */
    bool raw;
    bool eager_unknown;    /* eager loads the linter cannot see */
    unsigned unknown_line; /* given to an unknown function there first */
    bool names_unknown;    /* annotations it cannot name */
    where built;           /* the last corm_all assigned to it before a loop */
    where sites[16];       /* every one, in source order */
    int nsites;
    char *related[MAXP], *prefetched[MAXP], *annots[MAXP], *nulls[MAXP];
    int nrelated, nprefetched, nannots, nnulls;
    /* the line of each annotation, and the lines where the variable was
    ** given a new queryset: a lookup sees the annotations of its binding */
    unsigned annot_line[MAXP], bind_line[16];
    int nbinds;
    /* each annotation's call (its expression cannot name it) and whether it
    ** was given to aggregate() (a filter on it is then refused) */
    unsigned annot_from[MAXP][2], annot_to[MAXP][2];
    bool annot_agg[MAXP];
    /* eager loads under `if (param)`, one parameter: the naive variant of
    ** a scenario written as one body with a `fixed` flag */
    char *crelated[MAXP], *cprefetched[MAXP];
    int ncrelated, ncprefetched;
    /* only()/defer() field names, the same way */
    char *only[MAXP], *conly[MAXP], *defer[MAXP], *cdefer[MAXP];
    int nonly, nconly, ndefer, ncdefer;
    bool fields_unknown;
    /* an inner queryset given to corm_Subquery / corm_Exists of outer: its
    ** OuterRef paths are outer's (outers: how many such calls) */
    int outer, nouters;
    CXCursor cparam;
    bool has_cparam;
} qsvar;

typedef struct {
    qsvar v[MAXV];
    int n;
    CXCursor cond; /* inside `if (param)`: that parameter, else null */
} scope;

static qsvar *var_find(scope *s, CXCursor decl)
{
    for (int i = 0; i < s->n; i++)
        if (clang_equalCursors(s->v[i].decl, decl)) return &s->v[i];
    return NULL;
}

static qsvar *var_get(scope *s, CXCursor decl)
{
    qsvar *v = var_find(s, decl);
    if (v || s->n == MAXV) return v;
    v = &s->v[s->n++];
    memset(v, 0, sizeof *v);
    v->decl = decl;
    return v;
}

static void scope_free(scope *s)
{
    for (int i = 0; i < s->n; i++) {
        for (int j = 0; j < s->v[i].nrelated; j++) free(s->v[i].related[j]);
        for (int j = 0; j < s->v[i].nprefetched; j++) free(s->v[i].prefetched[j]);
        for (int j = 0; j < s->v[i].nannots; j++) free(s->v[i].annots[j]);
        for (int j = 0; j < s->v[i].nnulls; j++) free(s->v[i].nulls[j]);
        for (int j = 0; j < s->v[i].ncrelated; j++) free(s->v[i].crelated[j]);
        for (int j = 0; j < s->v[i].ncprefetched; j++) free(s->v[i].cprefetched[j]);
        for (int j = 0; j < s->v[i].nonly; j++) free(s->v[i].only[j]);
        for (int j = 0; j < s->v[i].nconly; j++) free(s->v[i].conly[j]);
        for (int j = 0; j < s->v[i].ndefer; j++) free(s->v[i].defer[j]);
        for (int j = 0; j < s->v[i].ncdefer; j++) free(s->v[i].cdefer[j]);
    }
    s->n = 0;
}

/* A queryset made by a call: corm_all / corm_raw (model known), NULL else. */
static const corm_model *made_by(CXCursor call, bool *raw)
{
    char *n = callee(call);
    const corm_model *m = NULL;
    *raw = false;
    if (strcmp(n, "corm_qs_new_at") == 0) m = model_arg(arg(call, 1));
    else if (strcmp(n, "corm_raw_at") == 0) {
        m = model_arg(arg(call, 1));
        *raw = true;
    }
    free(n);
    return m;
}

static void push(char **arr, int *n, const char *s);

/* The model's `default` eager loads (schema): every corm_all queryset of
** it has them (its default manager; corm_raw does not). */
static void seed_defaults(qsvar *v, const corm_model *m)
{
    for (int i = 0; i < m->ndefault_related; i++)
        push(v->related, &v->nrelated, m->default_related[i]);
    for (int i = 0; i < m->ndefault_prefetch; i++)
        push(v->prefetched, &v->nprefetched, m->default_prefetch[i]);
}

static void bind(scope *s, CXCursor decl, CXCursor rhs)
{
    CXCursor call;
    bool raw = false;
    const corm_model *m = call_of(rhs, &call) ? made_by(call, &raw) : NULL;
    qsvar *v = var_find(s, decl);
    if (!m) {
        if (v) v->conflict = true; /* set from something else too */
        else if ((v = var_get(s, decl))) v->conflict = true;
        return;
    }
    if (!v) {
        v = var_get(s, decl);
        if (!v) return;
        v->model = m;
        v->raw = raw;
        if (!raw) seed_defaults(v, m);
    } else if (v->model != m || v->raw != raw) {
        v->conflict = true;
    }
    /* a new queryset in the same variable has none of the old one's
    ** annotations (`qs = corm_all(...)` again, later in the function) */
    if (v->nbinds < 16) v->bind_line[v->nbinds++] = expansion_of(call).line;
    else v->names_unknown = true;
    v->built = expansion_of(call);
    if (v->nsites < 16) v->sites[v->nsites++] = v->built;
    else v->conflict = true;
}

static bool is_qs_type(CXCursor decl)
{
    char *t = str_of(clang_getTypeSpelling(clang_getCursorType(decl)));
    bool yes = strstr(t, "corm_qs") != NULL;
    free(t);
    return yes;
}

static const char *const EAGER[] = {"corm_select_related_v", "corm_prefetch_related_v",
                                    "corm_prefetch", NULL};
static const char *const PATHS1[] = {"corm_filter",
                                     "corm_exclude",
                                     "corm_q_new",
                                     "corm_prefetch",
                                     "corm_F",
                                     "corm_Count",
                                     "corm_Sum",
                                     "corm_Avg",
                                     "corm_Min",
                                     "corm_Max",
                                     "corm_select_related_v",
                                     "corm_prefetch_related_v",
                                     "corm_order_by_v",
                                     "corm_only_v",
                                     "corm_defer_v",
                                     "corm_values_v",
                                     NULL};

static void push(char **arr, int *n, const char *s)
{
    if (*n < MAXP) arr[(*n)++] = strdup(s);
}

static void drop_all(char **arr, int *n)
{
    for (int i = 0; i < *n; i++) free(arr[i]);
    *n = 0;
}

static CXCursor fns[1024];
static int nfns;
static bool fn_named(const char *name, CXCursor *out);

/* A function of this file that adds no eager load or annotation to any
** queryset (and calls only such functions and corm's). */
typedef struct {
    int depth;
    bool bad;
} harm;

static bool harmless(const char *name, int depth);

static enum CXChildVisitResult harm_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    harm *h = d;
    if (clang_getCursorKind(c) != CXCursor_CallExpr) return CXChildVisit_Recurse;
    char *n = callee(c);
    if (name_is(n, EAGER) || strcmp(n, "corm_annotate") == 0 || strcmp(n, "corm_aggregate") == 0 ||
        (strncmp(n, "corm_", 5) != 0 && !harmless(n, h->depth + 1)))
        h->bad = true;
    free(n);
    return h->bad ? CXChildVisit_Break : CXChildVisit_Recurse;
}

static bool harmless(const char *name, int depth)
{
    CXCursor def;
    if (depth > 3 || !*name || !fn_named(name, &def)) return false;
    harm h = {depth, false};
    clang_visitChildren(def, harm_visit, &h);
    return !h.bad;
}

/* v given to a function the linter does not know: its eager loads and
** annotations from there on are unknown (those after a loop are no-ops
** for it: the loop evaluated the queryset). */
static void unknown_at(qsvar *v, CXCursor call)
{
    unsigned line = expansion_of(call).line;
    v->names_unknown = true;
    if (!v->unknown_line || line < v->unknown_line) v->unknown_line = line;
}

/* corm_prefetch(v, "path", inner, NULL): inner's own eager loads continue
** the path ("path__x") for v's objects. */
static void prefetch_inner(scope *s, qsvar *v, const char *path, CXCursor e, bool cond)
{
    CXCursor var;
    char full[512];
    if (!var_of(e, &var)) return; /* NULL: the plain relation */
    const qsvar *in = var_find(s, var);
    if (!in || in->conflict || in->eager_unknown || in->unknown_line) {
        v->eager_unknown = true;
        return;
    }
    for (int k = 0; k < 2; k++) {
        char *const *list = k ? in->prefetched : in->related;
        int cnt = k ? in->nprefetched : in->nrelated;
        for (int i = 0; i < cnt; i++) {
            snprintf(full, sizeof full, "%s__%s", path, list[i]);
            if (cond) push(v->cprefetched, &v->ncprefetched, full);
            else push(v->prefetched, &v->nprefetched, full);
        }
    }
}

static enum CXChildVisitResult pass_a(CXCursor c, CXCursor parent, CXClientData d);
static CXCursor strip(CXCursor e);

typedef struct {
    scope *s;
    CXCursor var;
    int nvars;  /* returns of a variable (0, 1, or 2: more than one) */
    bool other; /* a return of anything else but NULL */
} retfind;

static enum CXChildVisitResult ret_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    retfind *r = d;
    if (clang_getCursorKind(c) != CXCursor_ReturnStmt) return CXChildVisit_Recurse;
    CXCursor e = clang_getNullCursor(), var;
    clang_visitChildren(c, first_kid, &e);
    if (clang_Cursor_isNull(e)) return CXChildVisit_Continue;
    if (var_of(e, &var)) {
        if (!r->nvars) r->var = var;
        if (r->nvars == 0 || !clang_equalCursors(r->var, var)) r->nvars++;
    } else if (clang_getCursorKind(strip(e)) != CXCursor_IntegerLiteral) {
        r->other = true; /* NULL aside */
    }
    return CXChildVisit_Continue;
}

static void copy_list(char **dst, int *n, char *const *src, int ns)
{
    for (int i = 0; i < ns; i++) push(dst, n, src[i]);
}

/* decl = helper(...), helper a function of this file that builds and
** returns one local queryset (`return qs;`, NULL aside): decl is that
** queryset, with the model and eager loads the helper gave it. */
static bool from_helper(scope *s, CXCursor decl, CXCursor call)
{
    static int depth;
    char *n = callee(call);
    CXCursor def;
    bool found = strncmp(n, "corm_", 5) != 0 && fn_named(n, &def);
    free(n);
    if (!found || depth > 2 || !is_qs_type(decl)) return false;
    scope *hs = calloc(1, sizeof *hs);
    if (!hs) abort();
    hs->cond = clang_getNullCursor();
    depth++;
    clang_visitChildren(def, pass_a, hs);
    depth--;
    retfind r = {hs, clang_getNullCursor(), 0, false};
    clang_visitChildren(def, ret_visit, &r);
    const qsvar *h = r.nvars == 1 && !r.other ? var_find(hs, r.var) : NULL;
    bool ok = h && h->model && !h->conflict && !h->eager_unknown && !h->has_cparam &&
              !h->unknown_line && !h->fields_unknown;
    qsvar *v = ok ? var_find(s, decl) : NULL;
    if (ok && v) ok = false; /* assigned twice: not followed */
    if (ok && (v = var_get(s, decl))) {
        v->model = h->model;
        v->raw = h->raw;
        v->built = h->built;
        v->sites[v->nsites++] = h->built;
        copy_list(v->related, &v->nrelated, h->related, h->nrelated);
        copy_list(v->prefetched, &v->nprefetched, h->prefetched, h->nprefetched);
        copy_list(v->nulls, &v->nnulls, h->nulls, h->nnulls);
        v->bind_line[v->nbinds++] = expansion_of(call).line;
        for (int i = 0; i < h->nannots && v->nannots < MAXP; i++) {
            v->annot_line[v->nannots] = expansion_of(call).line;
            v->annot_agg[v->nannots] = h->annot_agg[i];
            push(v->annots, &v->nannots, h->annots[i]);
        }
        copy_list(v->only, &v->nonly, h->only, h->nonly);
        copy_list(v->defer, &v->ndefer, h->defer, h->ndefer);
    } else if ((v = var_get(s, decl))) {
        v->conflict = true;
    }
    scope_free(hs);
    free(hs);
    return true;
}

/* Pass A: what each local queryset is and what eager loads it has. */

static enum CXChildVisitResult pass_a(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    scope *s = d;
    enum CXCursorKind k = clang_getCursorKind(c);
    /* what a return statement does to a queryset is not seen after it */
    if (k == CXCursor_ReturnStmt) return CXChildVisit_Continue;
    if (k == CXCursor_IfStmt) {
        kids ks = {{{0}}, 0};
        clang_visitChildren(c, kids_visit, &ks);
        CXCursor var;
        if (ks.n < 2 || !var_of(ks.kids[0], &var) ||
            clang_getCursorKind(var) != CXCursor_ParmDecl || !clang_Cursor_isNull(s->cond))
            return CXChildVisit_Recurse;
        /* if (param) THEN [else ELSE]: THEN's eager loads hang on param */
        s->cond = var;
        if (pass_a(ks.kids[1], c, s) == CXChildVisit_Recurse)
            clang_visitChildren(ks.kids[1], pass_a, s);
        s->cond = clang_getNullCursor();
        for (int i = 2; i < ks.n; i++)
            if (pass_a(ks.kids[i], c, s) == CXChildVisit_Recurse)
                clang_visitChildren(ks.kids[i], pass_a, s);
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_VarDecl) {
        CXCursor init = clang_Cursor_getVarDeclInitializer(c);
        CXCursor call;
        bool raw;
        if (!clang_Cursor_isNull(init) && call_of(init, &call) && made_by(call, &raw))
            bind(s, c, init);
        else if (!clang_Cursor_isNull(init) && call_of(init, &call) && from_helper(s, c, call))
            ;
        else if (!clang_Cursor_isNull(init) && is_qs_type(c) && !clang_Cursor_isNull(init)) {
            /* a queryset from elsewhere (NULL aside, as in `qs = NULL;`) */
            char *t = text_of(init);
            bool null = strcmp(t, "NULL") == 0 || strcmp(t, "0") == 0;
            free(t);
            qsvar *v = null ? NULL : var_get(s, c);
            if (v) v->conflict = true;
        }
        return CXChildVisit_Recurse;
    }
    if (k == CXCursor_BinaryOperator) {
        two t = {clang_getNullCursor(), clang_getNullCursor(), 0};
        clang_visitChildren(c, two_kids, &t);
        CXCursor lhs = t.a, rhs = t.b;
        CXCursor var;
        if (t.n == 2 && var_of(lhs, &var)) {
            CXCursor call;
            bool raw;
            if (call_of(rhs, &call) && made_by(call, &raw)) bind(s, var, rhs);
            else if (call_of(rhs, &call) && from_helper(s, var, call)) {
            } else if (var_find(s, var)) var_find(s, var)->conflict = true;
        }
        return CXChildVisit_Recurse;
    }
    if (k == CXCursor_CallExpr) {
        char *n = callee(c);
        int nargs = clang_Cursor_getNumArguments(c);
        CXCursor var;
        qsvar *v = nargs > 0 && var_of(arg(c, 0), &var) ? var_find(s, var) : NULL;
        if (v && name_is(n, EAGER)) {
            strs p;
            strs_of(arg(c, 1), &p);
            if (p.other || !p.n) v->eager_unknown = true;
            if (strcmp(n, "corm_prefetch") == 0 && nargs > 3) {
                /* a Prefetch with to_attr fills a list, not the relation */
                strs attr;
                strs_of(arg(c, 3), &attr);
                if (attr.n) p.n = (strs_free(&p), 0);
                if (attr.other) v->eager_unknown = true;
                strs_free(&attr);
            }
            bool cond = !clang_Cursor_isNull(s->cond) &&
                        (!v->has_cparam || clang_equalCursors(v->cparam, s->cond));
            if (cond) {
                v->cparam = s->cond;
                v->has_cparam = true;
            }
            for (int i = 0; i < p.n; i++) {
                bool sel = strcmp(n, "corm_select_related_v") == 0;
                if (cond && sel) push(v->crelated, &v->ncrelated, p.s[i]);
                else if (cond) push(v->cprefetched, &v->ncprefetched, p.s[i]);
                else if (sel) push(v->related, &v->nrelated, p.s[i]);
                else push(v->prefetched, &v->nprefetched, p.s[i]);
            }
            if (strcmp(n, "corm_prefetch") == 0 && nargs > 2 && p.n == 1)
                prefetch_inner(s, v, p.s[0], arg(c, 2), cond);
            strs_free(&p);
        } else if (v && (strcmp(n, "corm_prefetch_clear") == 0 ||
                         strcmp(n, "corm_select_related_clear") == 0)) {
            /* Django's prefetch_related(None) / select_related(None): the
            ** loads given so far, the model's defaults included, are gone;
            ** under a condition the linter cannot tell which remain */
            bool sel = strcmp(n, "corm_select_related_clear") == 0;
            if (!clang_Cursor_isNull(s->cond)) v->eager_unknown = true;
            else if (sel) drop_all(v->related, &v->nrelated);
            else drop_all(v->prefetched, &v->nprefetched);
        } else if (v && (strcmp(n, "corm_only_v") == 0 || strcmp(n, "corm_defer_v") == 0)) {
            strs p;
            strs_of(arg(c, 1), &p);
            bool only = strcmp(n, "corm_only_v") == 0;
            bool cond = !clang_Cursor_isNull(s->cond) &&
                        (!v->has_cparam || clang_equalCursors(v->cparam, s->cond));
            if (cond) {
                v->cparam = s->cond;
                v->has_cparam = true;
            }
            if (p.other) v->fields_unknown = true;
            for (int i = 0; i < p.n; i++) {
                if (strstr(p.s[i], "__")) continue; /* a related model's field */
                if (only) push(cond ? v->conly : v->only, cond ? &v->nconly : &v->nonly, p.s[i]);
                else push(cond ? v->cdefer : v->defer, cond ? &v->ncdefer : &v->ndefer, p.s[i]);
            }
            if (only && !p.n) v->fields_unknown = true;
            strs_free(&p);
        } else if (v && strcmp(n, "corm_filter") == 0 && nargs == 3) {
            /* filtered on path__isnull = true: reading path runs nothing */
            strs p;
            strs_of(arg(c, 1), &p);
            CXCursor vc;
            char *vf = call_of(arg(c, 2), &vc) ? callee(vc) : NULL;
            char *val = vf && strcmp(vf, "corm_bool") == 0 ? text_of(vc) : NULL;
            size_t len = p.n == 1 ? strlen(p.s[0]) : 0;
            if (val && len > 8 && strcmp(p.s[0] + len - 8, "__isnull") == 0 &&
                (strcmp(val, "corm_bool(true)") == 0 || strcmp(val, "corm_bool(1)") == 0)) {
                p.s[0][len - 8] = 0;
                push(v->nulls, &v->nnulls, p.s[0]);
            }
            free(vf);
            free(val);
            strs_free(&p);
        } else if (v && (strcmp(n, "corm_Subquery") == 0 || strcmp(n, "corm_Exists") == 0) &&
                   nargs >= 2 && var_of(arg(c, 1), &var) && var_find(s, var)) {
            qsvar *in = var_find(s, var);
            in->outer = (int)(v - s->v);
            in->nouters++;
        } else if (v && (strcmp(n, "corm_annotate") == 0 || strcmp(n, "corm_aggregate") == 0)) {
            strs p;
            strs_of(arg(c, 1), &p);
            if (p.other || p.n != 1) v->names_unknown = true;
            CXSourceRange ext = clang_getCursorExtent(c);
            unsigned l0, c0, l1, c1;
            clang_getExpansionLocation(clang_getRangeStart(ext), NULL, &l0, &c0, NULL);
            clang_getExpansionLocation(clang_getRangeEnd(ext), NULL, &l1, &c1, NULL);
            for (int i = 0; i < p.n && v->nannots < MAXP; i++) {
                int ai = v->nannots;
                v->annot_line[ai] = expansion_of(c).line;
                v->annot_from[ai][0] = l0;
                v->annot_from[ai][1] = c0;
                v->annot_to[ai][0] = l1;
                v->annot_to[ai][1] = c1;
                v->annot_agg[ai] = strcmp(n, "corm_aggregate") == 0;
                push(v->annots, &v->nannots, p.s[i]);
            }
            strs_free(&p);
        } else if (strncmp(n, "corm_", 5) != 0 && !harmless(n, 0)) {
            /* a queryset given to a function the linter does not know may
            ** get eager loads or annotations there */
            for (int i = 0; i < nargs; i++) {
                CXCursor a = arg(c, i);
                CXCursor ref;
                if (var_of(a, &var) && (v = var_find(s, var))) {
                    unknown_at(v, c);
                } else if (find_kind(a, CXCursor_DeclRefExpr, &ref)) {
                    CXCursor dd = clang_getCursorReferenced(ref);
                    if ((v = var_find(s, dd))) unknown_at(v, c);
                }
            }
        }
        free(n);
        return CXChildVisit_Recurse;
    }
    if (k == CXCursor_UnaryOperator && first_token_is(c, "&")) {
        /* &qs: it may be changed anywhere */
        CXCursor var;
        CXCursor kid = clang_getNullCursor();
        clang_visitChildren(c, first_kid, &kid);
        qsvar *v;
        if (!clang_Cursor_isNull(kid) && var_of(kid, &var) && (v = var_find(s, var)))
            v->eager_unknown = true;
    }
    return CXChildVisit_Recurse;
}

/* ------------------------------------------------------ lookups */

/* A fresh queryset of v's model with the annotations v has at w (for a
** filter, aggregate() results as such: a filter on one is refused). */
static corm_qs *probe(const qsvar *v, where w, bool filter)
{
    corm_site site = {w.file, (int)w.line, NULL};
    corm_qs *q = corm_qs_new_at(mem, v->model, site);
    /* the annotations given to the queryset the variable holds at w: from
    ** its last binding before w to the next one */
    unsigned from = 0, to = ~0u;
    for (int i = 0; i < v->nbinds; i++) {
        if (v->bind_line[i] <= w.line && v->bind_line[i] >= from) from = v->bind_line[i];
        if (v->bind_line[i] > w.line && v->bind_line[i] < to) to = v->bind_line[i];
    }
    for (int i = 0; q && i < v->nannots; i++) {
        bool inside = (w.line > v->annot_from[i][0] ||
                       (w.line == v->annot_from[i][0] && w.col >= v->annot_from[i][1])) &&
                      (w.line < v->annot_to[i][0] ||
                       (w.line == v->annot_to[i][0] && w.col <= v->annot_to[i][1]));
        if (v->annot_line[i] < from || v->annot_line[i] >= to || inside) continue;
        if (filter && v->annot_agg[i]) corm_aggregate(q, v->annots[i], corm_V(q, corm_int(0)));
        else corm_annotate(q, v->annots[i], corm_V(q, corm_int(0)));
    }
    return q;
}

/* Whether the queryset compiles; else the runtime's error in *e. */
static bool compiles(corm_qs *q, corm_error *e)
{
    (void)corm_qs_sql(q);
    const corm_error *qe = corm_qs_error(q);
    bool ok = qe->rc == CORM_OK;
    if (!ok) *e = *qe;
    corm_qs_free(q);
    return ok;
}

/* A prefetch path: relations all the way (the runtime checks it when the
** prefetch runs; the same words here). */
static bool prefetch_path_ok(const corm_model *m, const char *path, corm_error *e)
{
    const char *seg = path;
    for (;;) {
        const char *sep = strstr(seg, "__");
        size_t len = sep ? (size_t)(sep - seg) : strlen(seg);
        const corm_relation *r = rel_named(m, seg, len);
        if (!r) {
            const char *cands[CORM_MAX_RELS];
            char list[400] = "";
            for (int i = 0; i < m->nrels; i++) {
                cands[i] = m->rels[i].name;
                if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, m->rels[i].name, sizeof list - strlen(list) - 1);
            }
            memset(e, 0, sizeof *e);
            e->rc = CORM_SCHEMA;
            snprintf(e->message, sizeof e->message,
                     "prefetch_related('%s'): %s has no relation '%.*s'", path, m->name, (int)len,
                     seg);
            const char *best = NULL;
            size_t bestd = (size_t)-1;
            for (int i = 0; i < m->nrels; i++) {
                /* the closest name by a simple edit distance */
                const char *a = cands[i];
                size_t la = strlen(a), lb = len, dist[64][64];
                if (la > 62 || lb > 62) continue;
                for (size_t x = 0; x <= la; x++) dist[x][0] = x;
                for (size_t y = 0; y <= lb; y++) dist[0][y] = y;
                for (size_t x = 1; x <= la; x++)
                    for (size_t y = 1; y <= lb; y++) {
                        size_t c = dist[x - 1][y - 1] + (a[x - 1] != seg[y - 1]);
                        if (dist[x - 1][y] + 1 < c) c = dist[x - 1][y] + 1;
                        if (dist[x][y - 1] + 1 < c) c = dist[x][y - 1] + 1;
                        dist[x][y] = c;
                    }
                size_t lim = len / 3 > 2 ? len / 3 : 2;
                if (dist[la][lb] <= lim && dist[la][lb] < bestd) {
                    bestd = dist[la][lb];
                    best = a;
                }
            }
            if (best)
                snprintf(e->hint, sizeof e->hint, "did you mean '%s'? %s has: %s", best, m->name,
                         list);
            else
                snprintf(e->hint, sizeof e->hint, "%s has: %s", m->name,
                         m->nrels ? list : "no relations");
            return false;
        }
        m = target_of(m, r);
        if (!sep) return true;
        seg = sep + 2;
    }
}

static const char *const VALUE_FNS[] = {"corm_int",  "corm_text", "corm_float",
                                        "corm_bool", "corm_ints", "corm_texts",
                                        "corm_null", "corm_decv", NULL};

static corm_value sample(const char *fn)
{
    static const int64_t one[] = {1};
    static const char *const word[] = {"x"};
    if (strcmp(fn, "corm_int") == 0) return corm_int(1);
    if (strcmp(fn, "corm_text") == 0) return corm_text("x");
    if (strcmp(fn, "corm_float") == 0) return corm_float(1.5);
    if (strcmp(fn, "corm_bool") == 0) return corm_bool(true);
    if (strcmp(fn, "corm_ints") == 0) return corm_ints(one, 1);
    if (strcmp(fn, "corm_texts") == 0) return corm_texts(word, 1);
    if (strcmp(fn, "corm_decv") == 0) return corm_decv(corm_dec("1.5"));
    return corm_null();
}

/* A filter lookup: with the value's kind when the call shows it, else
** silent unless no kind of value makes it compile. */
static bool lookup_ok(const qsvar *v, where w, const char *fn, const char *lookup,
                      const char *value_fn, corm_error *e)
{
    corm_error first;
    bool have = false;
    for (int i = 0; VALUE_FNS[i]; i++) {
        if (value_fn && strcmp(value_fn, VALUE_FNS[i]) != 0) continue;
        corm_qs *q = probe(v, w, true);
        corm_value val = sample(VALUE_FNS[i]);
        if (strcmp(fn, "corm_exclude") == 0) corm_exclude(q, lookup, val);
        else corm_filter(q, lookup, val);
        corm_error got;
        if (compiles(q, &got)) return true;
        if (!have) first = got;
        have = true;
    }
    if (have) *e = first;
    return !have;
}

static bool path_ok(const qsvar *v, where w, const char *fn, const char *path, corm_error *e)
{
    const char *one[] = {path, NULL};
    if (strcmp(fn, "corm_prefetch_related_v") == 0 || strcmp(fn, "corm_prefetch") == 0)
        return prefetch_path_ok(v->model, path, e);
    corm_qs *q = probe(v, w, false);
    if (strcmp(fn, "corm_select_related_v") == 0) corm_select_related_v(q, one);
    else if (strcmp(fn, "corm_order_by_v") == 0) corm_order_by_v(q, one);
    else if (strcmp(fn, "corm_only_v") == 0) corm_only_v(q, one);
    else if (strcmp(fn, "corm_defer_v") == 0) corm_defer_v(q, one);
    else if (strcmp(fn, "corm_values_v") == 0) corm_values_v(q, one);
    else if (strcmp(fn, "corm_F") == 0) corm_annotate(q, "corm_lint_probe", corm_F(q, path));
    else if (strcmp(fn, "corm_Count") == 0)
        corm_annotate(q, "corm_lint_probe", corm_Count(q, path, false));
    else if (strcmp(fn, "corm_Sum") == 0) corm_annotate(q, "corm_lint_probe", corm_Sum(q, path));
    else if (strcmp(fn, "corm_Avg") == 0) corm_annotate(q, "corm_lint_probe", corm_Avg(q, path));
    else if (strcmp(fn, "corm_Min") == 0) corm_annotate(q, "corm_lint_probe", corm_Min(q, path));
    else if (strcmp(fn, "corm_Max") == 0) corm_annotate(q, "corm_lint_probe", corm_Max(q, path));
    return compiles(q, e);
}

static enum CXChildVisitResult pass_b(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    scope *s = d;
    if (clang_getCursorKind(c) != CXCursor_CallExpr) return CXChildVisit_Recurse;
    char *n = callee(c);
    int nargs = clang_Cursor_getNumArguments(c);
    CXCursor var;
    qsvar *v = NULL;
    if (name_is(n, PATHS1) && nargs >= 2 && var_of(arg(c, 0), &var)) v = var_find(s, var);
    if (strcmp(n, "corm_OuterRef") == 0 && nargs == 2 && var_of(arg(c, 0), &var)) {
        /* a path of the outer queryset: known when the inner one is given
        ** to exactly one corm_Subquery / corm_Exists */
        qsvar *in = var_find(s, var);
        v = in && in->nouters == 1 ? &s->v[in->outer] : NULL;
        free(n);
        n = strdup("corm_F");
    }
    if (v && v->model && !v->conflict && !v->names_unknown) {
        bool is_filter = strcmp(n, "corm_filter") == 0 || strcmp(n, "corm_exclude") == 0 ||
                         strcmp(n, "corm_q_new") == 0;
        strs p;
        strs_of(arg(c, 1), &p);
        char *value_fn = NULL;
        CXCursor vcall;
        if (is_filter && nargs >= 3 && call_of(arg(c, 2), &vcall)) {
            value_fn = callee(vcall);
            if (!name_is(value_fn, VALUE_FNS)) {
                free(value_fn);
                value_fn = NULL;
            }
        }
        for (int i = 0; i < p.n; i++) {
            where w = where_of(p.at[i]);
            corm_error e;
            bool ok =
                is_filter ? lookup_ok(v, w, n, p.s[i], value_fn, &e) : path_ok(v, w, n, p.s[i], &e);
            if (!ok) add(w, "lookup", e.hint[0] ? e.hint : NULL, "%s", e.message);
        }
        free(value_fn);
        strs_free(&p);
    }
    free(n);
    return CXChildVisit_Recurse;
}

/* ------------------------------------------------------ reads in loops */

/* The functions defined in the file, for reads in helpers. */
static bool fn_named(const char *name, CXCursor *out)
{
    for (int i = 0; i < nfns; i++) {
        char *n = spelling(fns[i]);
        bool same = strcmp(n, name) == 0;
        free(n);
        if (same) {
            *out = fns[i];
            return true;
        }
    }
    return false;
}

/* An object the loop reaches: its model, its path from the queryset that
** loaded it (root), and whether that path crosses a to-many relation. */
typedef struct {
    const corm_model *model;
    char path[512];
    bool many;
    const qsvar *root;
    const corm_relation *via; /* the relation that reached it, if one did */
    bool backref;             /* reached by reading its parent back: cached */
} objref;

/* A related queryset made in the loop (author_books_qs(a)): one query per
** object when evaluated, unless it is the prefetched relation unchanged. */
typedef struct {
    qsvar q; /* its model, its creation site, its own eager loads */
    const qsvar *root;
    const corm_model *owner;
    const corm_relation *rel;
    char path[512];
    bool modified, evaluated, unknown;
} relqs;

#define MAXA 16

/* A loop being read: its variable, its queryset, and locals holding an
** object reached from the variable (Author *a = book_author(b), Order *o =
** orders->items[i]), a related list (const corm_list *l = author_books(a))
** or a related queryset (corm_qs *q = author_books_qs(a)). */
typedef struct {
    CXCursor loopvar;
    const qsvar *qs;
    int depth;
    bool cond_true; /* inside `if (param)` of the queryset's conditional loads */
    CXCursor alias[MAXA];
    objref aref[MAXA];
    bool alist[MAXA]; /* a list of objects, read through ->items[i] */
    int nalias;
    CXCursor rvar[MAXA]; /* variables naming a related queryset */
    int rindex[MAXA];
    int nrvar;
    relqs rq[MAXA];
    int nrq;
    bool in_return; /* what a return statement does is not seen later */
} loopctx;

/* Casts and parentheses aside. */
static CXCursor strip(CXCursor e)
{
    for (int depth = 0; depth < 16; depth++) {
        enum CXCursorKind k = clang_getCursorKind(e);
        if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr && k != CXCursor_CStyleCastExpr)
            return e;
        kids ks = {{{0}}, 0};
        clang_visitChildren(e, kids_visit, &ks);
        if (!ks.n) return e;
        e = ks.kids[ks.n - 1]; /* a cast's type comes first */
    }
    return e;
}

static const objref *alias_of(const loopctx *lc, CXCursor var, bool list)
{
    for (int i = lc->nalias - 1; i >= 0; i--)
        if (lc->alist[i] == list && clang_equalCursors(lc->alias[i], var)) return &lc->aref[i];
    return NULL;
}

static relqs *relqs_of(loopctx *lc, CXCursor e)
{
    CXCursor v;
    if (!var_of(strip(e), &v)) return NULL;
    for (int i = lc->nrvar - 1; i >= 0; i--)
        if (clang_equalCursors(lc->rvar[i], v)) return &lc->rq[lc->rindex[i]];
    return NULL;
}

static bool accessor(CXCursor call, loopctx *lc, bool qs, objref *out, const corm_model **mo,
                     const corm_relation **ro);

/* The object an expression is: the loop variable, an alias, a to-one
** accessor's result, an item of a related list, or an object of a related
** queryset (corm_qs_at(q, i)). */
static bool base_of(CXCursor e, loopctx *lc, objref *out)
{
    CXCursor v, call;
    e = strip(e);
    const objref *a;
    if (var_of(e, &v)) {
        if (clang_equalCursors(v, lc->loopvar)) {
            memset(out, 0, sizeof *out);
            out->model = lc->qs->model;
            out->root = lc->qs;
            return true;
        }
        if ((a = alias_of(lc, v, false))) return *out = *a, true;
        return false;
    }
    if (call_of(e, &call)) {
        const corm_model *m;
        const corm_relation *r;
        char *n = callee(call);
        bool at = strcmp(n, "corm_qs_at") == 0;
        free(n);
        if (at) {
            relqs *q = clang_Cursor_getNumArguments(call) == 2 ? relqs_of(lc, arg(call, 0)) : NULL;
            if (!q || q->unknown) return false;
            memset(out, 0, sizeof *out);
            out->model = q->q.model;
            out->root = &q->q;
            return true;
        }
        return accessor(call, lc, false, out, &m, &r) && !to_many(r);
    }
    if (clang_getCursorKind(e) == CXCursor_ArraySubscriptExpr) {
        /* list->items[i] */
        kids ks = {{{0}}, 0};
        clang_visitChildren(e, kids_visit, &ks);
        CXCursor member = ks.n == 2 ? strip(ks.kids[0]) : clang_getNullCursor();
        if (clang_Cursor_isNull(member) || clang_getCursorKind(member) != CXCursor_MemberRefExpr)
            return false;
        char *field = spelling(member);
        bool items = strcmp(field, "items") == 0;
        free(field);
        kids km = {{{0}}, 0};
        clang_visitChildren(member, kids_visit, &km);
        if (!items || km.n != 1 || !var_of(strip(km.kids[0]), &v)) return false;
        if ((a = alias_of(lc, v, true))) return *out = *a, true;
    }
    return false;
}

/* A generated accessor call (name_at, or name_qs_at when qs) on an object
** the loop reaches: the object it returns (its path from the root), and
** the relation read. */
static bool accessor(CXCursor call, loopctx *lc, bool qs, objref *out, const corm_model **mo,
                     const corm_relation **ro)
{
    char *name = callee(call);
    const char *suffix = qs ? "_qs_at" : "_at";
    size_t len = strlen(name), ls = strlen(suffix);
    objref base;
    bool ok = false;
    if (len > ls && strcmp(name + len - ls, suffix) == 0 &&
        clang_Cursor_getNumArguments(call) >= 1 && base_of(arg(call, 0), lc, &base)) {
        char sn[256];
        snake(base.model->name, sn, sizeof sn);
        size_t lb = strlen(sn);
        if (strncmp(name, sn, lb) == 0 && name[lb] == '_' && len > lb + 1 + ls) {
            const corm_relation *r = rel_named(base.model, name + lb + 1, len - lb - 1 - ls);
            if (r) {
                const corm_relation *v = base.via;
                *out = base;
                /* a child loaded through a reverse FK or a one-to-one knows
                ** its parent (corm sets the back-reference) */
                out->backref = v && v->kind != CORM_REL_FK && v->kind != CORM_REL_M2M &&
                               v->kind != CORM_REL_REVERSE_M2M &&
                               r == &base.model->rels[v->reverse];
                out->via = r;
                snprintf(out->path, sizeof out->path, "%.400s%s%.100s", base.path,
                         *base.path ? "__" : "", r->name);
                out->model = target_of(base.model, r);
                out->many = base.many || to_many(r);
                *mo = base.model;
                *ro = r;
                ok = true;
            }
        }
    }
    free(name);
    return ok;
}

static bool covered(const qsvar *v, const char *path, bool with_cond)
{
    size_t n = strlen(path);
    for (int i = 0; i < v->nnulls; i++)
        if (strcmp(v->nulls[i], path) == 0) return true;
    for (int k = 0; k < (with_cond ? 4 : 2); k++) {
        char *const *list = k == 0   ? v->related
                            : k == 1 ? v->prefetched
                            : k == 2 ? v->crelated
                                     : v->cprefetched;
        int cnt = k == 0   ? v->nrelated
                  : k == 1 ? v->nprefetched
                  : k == 2 ? v->ncrelated
                           : v->ncprefetched;
        for (int i = 0; i < cnt; i++)
            if (strncmp(list[i], path, n) == 0 &&
                (!list[i][n] || strncmp(list[i] + n, "__", 2) == 0))
                return true;
    }
    return false;
}

static CXCursor cur_fn; /* the function being linted */

typedef struct {
    const char *fn;
    int index;
    where at;
    bool found;
} callfind;

static enum CXChildVisitResult call_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    callfind *cf = d;
    if (clang_getCursorKind(c) == CXCursor_CallExpr &&
        clang_Cursor_getNumArguments(c) > cf->index) {
        char *n = callee(c);
        if (strcmp(n, cf->fn) == 0) {
            CXEvalResult ev = clang_Cursor_Evaluate(arg(c, cf->index));
            if (ev && clang_EvalResult_getKind(ev) == CXEval_Int &&
                clang_EvalResult_getAsInt(ev) == 0) {
                cf->at = expansion_of(c);
                cf->found = true;
            }
            if (ev) clang_EvalResult_dispose(ev);
        }
        free(n);
        if (cf->found) return CXChildVisit_Break;
    }
    return CXChildVisit_Recurse;
}

/* The eager load hangs on `if (param)`: a call of this function with
** param false in the file (the naive variant) runs the loop without it. */
static bool naive_call(CXCursor param, char *when, size_t size)
{
    int np = clang_Cursor_getNumArguments(cur_fn), index = -1;
    for (int i = 0; i < np; i++)
        if (clang_equalLocations(
                clang_getCursorLocation(clang_Cursor_getArgument(cur_fn, (unsigned)i)),
                clang_getCursorLocation(param)))
            index = i;
    if (index < 0) return false;
    char *fn = spelling(cur_fn), *pn = spelling(param);
    callfind cf = {fn, index, {{0}, 0, 0}, false};
    for (int i = 0; i < nfns && !cf.found; i++) clang_visitChildren(fns[i], call_visit, &cf);
    if (cf.found)
        snprintf(when, size, ", when %.100s is false (%.100s called at %.400s:%u)", pn, fn,
                 cf.at.file, cf.at.line);
    free(fn);
    free(pn);
    return cf.found;
}

static bool in_list(char *const *list, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

/* A field of v's objects left unloaded by only()/defer(): in the naive
** variant (with_cond false) or with the `if (param)` loads too. */
static bool deferred(const qsvar *v, const char *field, bool with_cond)
{
    if (v->fields_unknown) return false;
    if (strcmp(v->model->fields[0].name, field) == 0 || strcmp(field, "pk") == 0) return false;
    if (in_list(v->defer, v->ndefer, field)) return true;
    if (with_cond && in_list(v->cdefer, v->ncdefer, field)) return true;
    if (with_cond && v->nconly) return !in_list(v->conly, v->nconly, field);
    return v->nonly && !in_list(v->only, v->nonly, field);
}

/* Whether path (from m) continues, after a to-many step, with one of the
** `default` eager loads of that step's model: a prefetched or lazily
** loaded related set applies them (its default manager; a forward
** relation uses the base manager, which does not). */
static bool below_defaults(const corm_model *m, const char *path)
{
    const char *p = path;
    while (m && *p) {
        const char *sep = strstr(p, "__");
        if (!sep) return false;
        const corm_relation *r = rel_named(m, p, (size_t)(sep - p));
        if (!r) return false;
        m = target_of(m, r);
        p = sep + 2;
        if (!to_many(r)) continue;
        size_t n = strlen(p);
        for (int k = 0; k < 2; k++) {
            const char *const *list = k ? m->default_prefetch : m->default_related;
            int cnt = k ? m->ndefault_prefetch : m->ndefault_related;
            for (int i = 0; i < cnt; i++) {
                size_t l = strlen(list[i]);
                if (strncmp(p, list[i], l < n ? l : n) == 0 &&
                    (l == n || (l > n && strncmp(list[i] + n, "__", 2) == 0) ||
                     (n > l && strncmp(p + l, "__", 2) == 0)))
                    return true;
            }
        }
    }
    return false;
}

static void report_read(loopctx *lc, CXCursor c, const objref *o, const corm_model *m,
                        const corm_relation *r)
{
    const qsvar *v = o->root;
    char when[700] = "";
    if (o->backref || below_defaults(v->model, o->path)) return;
    bool naive = !covered(v, o->path, false);
    if (naive && lc->cond_true && covered(v, o->path, true)) naive = false;
    if (naive && covered(v, o->path, true)) naive = naive_call(v->cparam, when, sizeof when);
    if (!naive || v->eager_unknown) return;
    char fix[1200], built[560];
    snprintf(built, sizeof built, "%.500s:%u", v->built.file, v->built.line);
    snprintf(fix, sizeof fix, "fix: %s(qs, \"%s\") at %s",
             o->many || v->raw ? "corm_prefetch_related" : "corm_select_related", o->path, built);
    add(expansion_of(c), "n_plus_one", fix,
        "%s.%s loaded one object at a time: one query per object of the loop over the "
        "%s%s queryset built at %s%s",
        m->name, r->name, v->model->name, v->raw ? " raw" : "", built, when);
}

/* corm_field(obj, f) on an object whose field f was deferred. */
static void report_field(loopctx *lc, CXCursor call)
{
    objref o;
    strs f;
    if (clang_Cursor_getNumArguments(call) < 2 || !base_of(arg(call, 0), lc, &o) || *o.path) return;
    const qsvar *v = o.root;
    strs_of(arg(call, 1), &f);
    if (f.n == 1 && !f.other && !v->eager_unknown && deferred(v, f.s[0], false) &&
        !(lc->cond_true && !deferred(v, f.s[0], true))) {
        char when[700] = "", built[560], fix[1200];
        if (deferred(v, f.s[0], true) || naive_call(v->cparam, when, sizeof when)) {
            snprintf(built, sizeof built, "%.500s:%u", v->built.file, v->built.line);
            snprintf(fix, sizeof fix,
                     "fix: load \"%s\" with the objects: add it to corm_only(qs, ...) or drop it "
                     "from corm_defer(qs, ...) at %s",
                     f.s[0], built);
            add(expansion_of(call), "n_plus_one", fix,
                "%s.%s was deferred (only/defer) and loaded one object at a time: one query per "
                "object of the loop over the %s queryset built at %s%s",
                v->model->name, f.s[0], v->model->name, built, when);
        }
    }
    strs_free(&f);
}

/* corm_save / corm_delete of the loop's own objects, one per object: the
** detector's write_in_loop. */
static const char *const WRITES[] = {"corm_save_at", "corm_delete_at", NULL};

static void report_write(loopctx *lc, CXCursor call, const char *fn)
{
    objref o;
    if (lc->cond_true || !base_of(arg(call, 1), lc, &o) || *o.path || o.root != lc->qs) return;
    const qsvar *v = lc->qs;
    char built[560];
    snprintf(built, sizeof built, "%.500s:%u", v->built.file, v->built.line);
    bool del = strcmp(fn, "corm_delete_at") == 0;
    add(expansion_of(call), "write_in_loop",
        del ? "fix: one corm_qs_delete(qs) of the queryset (filtered to the objects you delete)"
            : "fix: corm_bulk_update(db, objs, n, \"field\", ...) for the changed fields (or "
              "one corm_update(qs, CORM_SET(...)) when every row gets the same values)",
        "%s.%s of each object of the loop over the %s queryset built at %s: one statement per "
        "object",
        v->model->name, del ? "delete" : "save", v->model->name, built);
}

static const char *const RQ_EVAL[] = {"corm_eval_at",   "corm_foreach_begin_at", "corm_get_at",
                                      "corm_first_at",  "corm_last_at",          "corm_count_at",
                                      "corm_exists_at", "corm_iterator_at",      NULL};
/* Calls that read a related queryset without changing or running it. */
static const char *const RQ_READ[] = {"corm_qs_len",   "corm_qs_at",    "corm_qs_free",
                                      "corm_qs_error", "corm_qs_items", NULL};

/* A related queryset evaluated in the loop (at c, by fn). */
static void report_relqs(loopctx *lc, relqs *q, CXCursor c, const char *fn)
{
    bool count = strcmp(fn, "corm_count_at") == 0, exists = strcmp(fn, "corm_exists_at") == 0;
    const qsvar *v = q->root;
    if (q->unknown || q->evaluated || lc->cond_true || v->eager_unknown) return;
    if (!count && !exists) q->evaluated = true; /* later reads use its result */
    char when[700] = "";
    bool pre = covered(v, q->path, false);
    if (!q->modified && pre) return;
    if (!q->modified && covered(v, q->path, true) && !naive_call(v->cparam, when, sizeof when))
        return;
    char built[560], fix[2400];
    const char *model = q->owner->name, *rel = q->rel->name, *target = q->q.model->name;
    bool top = !strstr(q->path, "__");
    snprintf(built, sizeof built, "%.500s:%u", v->built.file, v->built.line);
    char prefetch[1400];
    snprintf(prefetch, sizeof prefetch,
             "corm_qs *inner = corm_all(db, %.100s); /* the loop's filters */ corm_prefetch(qs, "
             "\"%.400s\", inner, \"filtered_%.100s\") at %s",
             target, q->path, rel, built);
    const char *kind = "n_plus_one";
    char what[300];
    if (count || exists) {
        kind = count ? "count_in_loop" : "exists_in_loop";
        if (count && top && !q->modified)
            snprintf(fix, sizeof fix,
                     "fix: corm_annotate(qs, \"%s_count\", corm_Count(qs, \"%s\", false)) at %s; "
                     "then read corm_annotation(obj, \"%s_count\")",
                     rel, rel, built, rel);
        else
            snprintf(fix, sizeof fix, "fix: %s; then %s corm_attr(obj, \"filtered_%s\")->n",
                     prefetch, count ? "count" : "test", rel);
        snprintf(what, sizeof what, "%s.%s %s for each object", model, rel,
                 count ? "counted (corm_count)" : "tested (corm_exists)");
    } else if (q->modified && pre) {
        kind = "filter_after_prefetch";
        snprintf(fix, sizeof fix,
                 "fix: replace the prefetch of \"%.200s\" with %.700s; then read "
                 "corm_attr(obj, \"filtered_%s\")",
                 q->path, prefetch, rel);
        snprintf(what, sizeof what,
                 "%s.%s was prefetched, then filtered per object (the prefetch is wasted)", model,
                 rel);
    } else if (q->modified) {
        snprintf(fix, sizeof fix, "fix: %s; then read corm_attr(obj, \"filtered_%s\")", prefetch,
                 rel);
        snprintf(what, sizeof what,
                 "%s.%s queried again, with filters, ordering or a slice, for each object", model,
                 rel);
    } else {
        snprintf(fix, sizeof fix, "fix: corm_prefetch_related(qs, \"%s\") at %s", q->path, built);
        snprintf(what, sizeof what, "%s.%s (a related set) loaded one object at a time", model,
                 rel);
    }
    add(expansion_of(c), kind, fix,
        "%s: one query per object of the loop over the %s%s queryset built at %s%s", what,
        v->model->name, v->raw ? " raw" : "", built, when);
}

static void reads_in(CXCursor body, loopctx *lc);

static void relqs_free(loopctx *lc)
{
    for (int i = 0; i < lc->nrq; i++) {
        for (int j = 0; j < lc->rq[i].q.nrelated; j++) free(lc->rq[i].q.related[j]);
        for (int j = 0; j < lc->rq[i].q.nprefetched; j++) free(lc->rq[i].q.prefetched[j]);
    }
    lc->nrq = 0;
}

/* lhs = rhs between pointers (libclang 14 does not name a binary
** operator): == and - give an integer, p + n has an integer operand, the
** comma operator's left side is not a variable here. */
static bool is_assign(CXCursor c, CXCursor rhs)
{
    return clang_getCursorType(c).kind == CXType_Pointer &&
           clang_getCanonicalType(clang_getCursorType(rhs)).kind == CXType_Pointer;
}

/* var = expr (a declaration's initializer or an assignment): an alias of
** an object, a related list or a related queryset, when expr is one. */
static void track(loopctx *lc, CXCursor var, CXCursor init)
{
    objref o;
    const corm_model *m;
    const corm_relation *r;
    CXCursor call;
    relqs *q;
    if ((q = relqs_of(lc, init))) {
        /* another name for it: corm_foreach's corm__q<line> */
        if (lc->nrvar < MAXA) {
            lc->rvar[lc->nrvar] = var;
            lc->rindex[lc->nrvar++] = (int)(q - lc->rq);
        }
        return;
    }
    if (call_of(strip(init), &call) && accessor(call, lc, true, &o, &m, &r)) {
        if (lc->nrq == MAXA || lc->nrvar == MAXA) return;
        q = &lc->rq[lc->nrq];
        memset(q, 0, sizeof *q);
        q->q.model = o.model;
        q->q.built = expansion_of(call);
        seed_defaults(&q->q, o.model); /* a related manager is the default one */
        q->root = o.root;
        q->owner = m;
        q->rel = r;
        snprintf(q->path, sizeof q->path, "%s", o.path);
        lc->rvar[lc->nrvar] = var;
        lc->rindex[lc->nrvar++] = lc->nrq++;
        return;
    }
    bool list = false;
    if (call_of(strip(init), &call) && accessor(call, lc, false, &o, &m, &r)) list = to_many(r);
    else if (clang_getCursorKind(strip(init)) == CXCursor_IntegerLiteral) {
        return; /* NULL: corm_foreach's end (visited before its body) */
    } else if (!base_of(init, lc, &o)) {
        /* set from something else: no longer what it was */
        for (int i = 0; i < lc->nalias; i++)
            if (clang_equalCursors(lc->alias[i], var)) lc->alias[i] = clang_getNullCursor();
        for (int i = 0; i < lc->nrvar; i++)
            if (clang_equalCursors(lc->rvar[i], var)) lc->rvar[i] = clang_getNullCursor();
        return;
    }
    if (lc->nalias == MAXA) return;
    lc->alias[lc->nalias] = var;
    lc->aref[lc->nalias] = o;
    lc->alist[lc->nalias++] = list;
}

static enum CXChildVisitResult reads_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    loopctx *lc = d;
    enum CXCursorKind k = clang_getCursorKind(c);
    objref o;
    const corm_model *m;
    const corm_relation *r;
    if (k == CXCursor_VarDecl) {
        CXCursor init = clang_Cursor_getVarDeclInitializer(c);
        if (!clang_Cursor_isNull(init)) {
            /* the initializer is read first */
            if (reads_visit(init, c, lc) == CXChildVisit_Recurse)
                clang_visitChildren(init, reads_visit, lc);
            track(lc, c, init);
        }
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_BinaryOperator) {
        two t = {clang_getNullCursor(), clang_getNullCursor(), 0};
        clang_visitChildren(c, two_kids, &t);
        CXCursor var;
        if (t.n == 2 && var_of(t.a, &var) && is_assign(c, t.b)) {
            if (reads_visit(t.b, c, lc) == CXChildVisit_Recurse)
                clang_visitChildren(t.b, reads_visit, lc);
            track(lc, var, t.b);
            return CXChildVisit_Continue;
        }
        return CXChildVisit_Recurse;
    }
    if (k == CXCursor_IfStmt && lc->qs->has_cparam && !lc->cond_true) {
        kids ks = {{{0}}, 0};
        clang_visitChildren(c, kids_visit, &ks);
        CXCursor var;
        if (ks.n >= 2 && var_of(ks.kids[0], &var) && clang_equalCursors(var, lc->qs->cparam)) {
            /* if (fixed) {...}: not run by the naive variant */
            lc->cond_true = true;
            if (reads_visit(ks.kids[1], c, lc) == CXChildVisit_Recurse)
                clang_visitChildren(ks.kids[1], reads_visit, lc);
            lc->cond_true = false;
            for (int i = 2; i < ks.n; i++)
                if (reads_visit(ks.kids[i], c, lc) == CXChildVisit_Recurse)
                    clang_visitChildren(ks.kids[i], reads_visit, lc);
            return CXChildVisit_Continue;
        }
        return CXChildVisit_Recurse;
    }
    if (k == CXCursor_ReturnStmt && !lc->in_return) {
        lc->in_return = true;
        clang_visitChildren(c, reads_visit, lc);
        lc->in_return = false;
        return CXChildVisit_Continue;
    }
    if (k != CXCursor_CallExpr) return CXChildVisit_Recurse;
    if (accessor(c, lc, false, &o, &m, &r)) {
        report_read(lc, c, &o, m, r);
        return CXChildVisit_Recurse;
    }
    char *n = callee(c);
    int nargs = clang_Cursor_getNumArguments(c);
    relqs *q = nargs >= 1 ? relqs_of(lc, arg(c, 0)) : NULL;
    if (strcmp(n, "corm__field_load") == 0) report_field(lc, c);
    else if (name_is(n, WRITES) && nargs >= 2) report_write(lc, c, n);
    else if (q && name_is(n, RQ_EVAL)) report_relqs(lc, q, c, n);
    else if (q && strcmp(n, "corm_select_related_clear") == 0) {
        drop_all(q->q.related, &q->q.nrelated);
        q->modified = true;
    } else if (q && strcmp(n, "corm_prefetch_clear") == 0) {
        drop_all(q->q.prefetched, &q->q.nprefetched);
        q->modified = true;
    } else if (q && strcmp(n, "corm_select_related_v") == 0) {
        strs p;
        strs_of(arg(c, 1), &p);
        for (int i = 0; i < p.n; i++) push(q->q.related, &q->q.nrelated, p.s[i]);
        if (p.other) q->q.eager_unknown = true;
        q->modified = true;
        strs_free(&p);
    } else if (q && strncmp(n, "corm_", 5) == 0 && !name_is(n, RQ_READ)) {
        q->modified = true; /* filtered, ordered, sliced, prefetched... */
    } else if (strncmp(n, "corm_", 5) != 0 && !lc->in_return && !harmless(n, 0)) {
        /* a related queryset given to another function: anything may
        ** happen to it there */
        for (int i = 0; i < nargs; i++)
            if ((q = relqs_of(lc, arg(c, i)))) q->unknown = true;
    }
    /* a function of this file given the loop variable: its reads count */
    CXCursor def;
    if (lc->depth < 4 && strncmp(n, "corm_", 5) != 0 && fn_named(n, &def)) {
        for (int i = 0; i < nargs && i < clang_Cursor_getNumArguments(def); i++) {
            CXCursor v;
            if (var_of(arg(c, i), &v) && clang_equalCursors(v, lc->loopvar)) {
                loopctx *inner = calloc(1, sizeof *inner);
                if (!inner) abort();
                inner->loopvar = clang_Cursor_getArgument(def, (unsigned)i);
                inner->qs = lc->qs;
                inner->depth = lc->depth + 1;
                inner->cond_true = lc->cond_true;
                reads_in(def, inner);
                relqs_free(inner);
                free(inner);
            }
        }
    }
    free(n);
    return CXChildVisit_Recurse;
}

static void reads_in(CXCursor body, loopctx *lc)
{
    /* a loop body may be one call, not a block */
    if (reads_visit(body, body, lc) == CXChildVisit_Recurse)
        clang_visitChildren(body, reads_visit, lc);
}

typedef struct {
    const char *fn; /* corm_qs_at, corm_iter_next */
    CXCursor loopvar;
    CXCursor call;
    bool found;
} loopvar_find;

static enum CXChildVisitResult loopvar_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    loopvar_find *f = d;
    if (clang_getCursorKind(c) == CXCursor_BinaryOperator) {
        two t = {clang_getNullCursor(), clang_getNullCursor(), 0};
        clang_visitChildren(c, two_kids, &t);
        CXCursor call, v;
        if (t.n == 2 && var_of(t.a, &v) && call_of(t.b, &call)) {
            char *n = callee(call);
            if (strcmp(n, f->fn) == 0) {
                f->loopvar = v;
                f->call = call;
                f->found = true;
            }
            free(n);
            if (f->found) return CXChildVisit_Break;
        }
    }
    return CXChildVisit_Recurse;
}

static void loop_reads(qsvar *v, bool fresh, CXCursor loopvar, CXCursor body, CXCursor loop);
static char *written_as(CXCursor c);

/* corm_foreach(var, qs) is two for loops; the outer one declares
** corm__q<line> = (qs). */
static void foreach_loop(CXCursor outer, scope *s)
{
    kids ko = {{{0}}, 0};
    clang_visitChildren(outer, kids_visit, &ko);
    if (ko.n < 2 || clang_getCursorKind(ko.kids[0]) != CXCursor_DeclStmt) return;
    CXCursor decl;
    if (!find_kind(ko.kids[0], CXCursor_VarDecl, &decl)) return;
    char *dn = spelling(decl);
    bool is = strncmp(dn, "corm__q", 7) == 0;
    free(dn);
    if (!is) return;
    CXCursor inner = ko.kids[ko.n - 1];
    if (clang_getCursorKind(inner) != CXCursor_ForStmt) return;
    CXCursor init = clang_Cursor_getVarDeclInitializer(decl), var, call;
    qsvar tmp, *v = NULL;
    if (var_of(init, &var)) v = var_find(s, var);
    else if (call_of(init, &call)) {
        memset(&tmp, 0, sizeof tmp);
        tmp.model = made_by(call, &tmp.raw);
        tmp.built = expansion_of(call);
        if (tmp.model && !tmp.raw) seed_defaults(&tmp, tmp.model);
        v = &tmp;
    }
    loopvar_find lf = {"corm_qs_at", clang_getNullCursor(), clang_getNullCursor(), false};
    clang_visitChildren(inner, loopvar_visit, &lf);
    kids ki = {{{0}}, 0};
    clang_visitChildren(inner, kids_visit, &ki);
    if (lf.found) loop_reads(v, v == &tmp, lf.loopvar, ki.kids[ki.n - 1], outer);
}

/* A loop over qs v (its objects in loopvar, body run per object): the
** reads in body. */
static void loop_reads(qsvar *v, bool fresh, CXCursor loopvar, CXCursor body, CXCursor loop)
{
    if (!v || !v->model || v->conflict || v->eager_unknown) return;
    unsigned line = expansion_of(loop).line;
    if (v->unknown_line && v->unknown_line <= line) return;
    if (!fresh) {
        /* the queryset the loop reads: the last one assigned before it */
        for (int i = 0; i < v->nsites; i++)
            if (v->sites[i].line <= line) v->built = v->sites[i];
    }
    loopctx *lc = calloc(1, sizeof *lc);
    if (!lc) abort();
    lc->loopvar = loopvar;
    lc->qs = v;
    reads_in(body, lc);
    relqs_free(lc);
    free(lc);
}

/* The queryset an iterator variable was made from (corm_iterator(qs, n)
** assigned to it last before line), in the function being linted. */
typedef struct {
    CXCursor it;
    unsigned line;
    CXCursor qs;
    bool found;
} iterfind;

static enum CXChildVisitResult iter_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    iterfind *f = d;
    CXCursor var = clang_getNullCursor(), rhs = clang_getNullCursor(), call, qv;
    if (clang_getCursorKind(c) == CXCursor_VarDecl) {
        var = c;
        rhs = clang_Cursor_getVarDeclInitializer(c);
    } else if (clang_getCursorKind(c) == CXCursor_BinaryOperator) {
        two t = {clang_getNullCursor(), clang_getNullCursor(), 0};
        clang_visitChildren(c, two_kids, &t);
        if (t.n != 2 || !var_of(t.a, &var)) return CXChildVisit_Recurse;
        rhs = t.b;
    }
    if (clang_Cursor_isNull(var) || clang_Cursor_isNull(rhs) || !clang_equalCursors(var, f->it) ||
        expansion_of(c).line > f->line)
        return CXChildVisit_Recurse;
    f->found = false;
    if (call_of(rhs, &call) && clang_Cursor_getNumArguments(call) >= 1 &&
        var_of(arg(call, 0), &qv)) {
        char *n = callee(call);
        if (strcmp(n, "corm_iterator_at") == 0) {
            f->qs = qv;
            f->found = true;
        }
        free(n);
    }
    return CXChildVisit_Recurse;
}

/* while ((b = corm_iter_next(it))) body: a loop over it's queryset. */
static void iterator_loop(CXCursor loop, scope *s)
{
    kids k = {{{0}}, 0};
    clang_visitChildren(loop, kids_visit, &k);
    if (k.n != 2) return;
    loopvar_find lf = {"corm_iter_next", clang_getNullCursor(), clang_getNullCursor(), false};
    if (loopvar_visit(k.kids[0], loop, &lf) == CXChildVisit_Recurse)
        clang_visitChildren(k.kids[0], loopvar_visit, &lf);
    CXCursor it;
    if (!lf.found || clang_Cursor_getNumArguments(lf.call) != 1 || !var_of(arg(lf.call, 0), &it))
        return;
    iterfind f = {it, expansion_of(loop).line, clang_getNullCursor(), false};
    clang_visitChildren(cur_fn, iter_visit, &f);
    if (f.found) loop_reads(var_find(s, f.qs), false, lf.loopvar, k.kids[1], loop);
}

/* The token a statement starts with where it is written: its keyword, or
** the name of the macro it comes from. */
static char *written_as(CXCursor c)
{
    CXFile f;
    unsigned line, col;
    clang_getExpansionLocation(clang_getRangeStart(clang_getCursorExtent(c)), &f, &line, &col,
                               NULL);
    CXToken *t = f ? clang_getToken(tu, clang_getLocation(tu, f, line, col)) : NULL;
    char *s = t ? str_of(clang_getTokenSpelling(tu, *t)) : strdup("");
    if (t) clang_disposeTokens(tu, t, 1);
    return s;
}

/* for (i = 0; i < n; i++) { Book *b = corm_qs_at(qs, i); ... }: a loop
** over qs too. */
typedef struct {
    scope *s;
    qsvar *v;
    CXCursor var;
} idxfind;

static enum CXChildVisitResult idx_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    idxfind *f = d;
    CXCursor var = clang_getNullCursor(), rhs = clang_getNullCursor(), call, q;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_ForStmt || k == CXCursor_WhileStmt || k == CXCursor_DoStmt)
        return CXChildVisit_Continue; /* an inner loop's objects are its own */
    if (k == CXCursor_VarDecl) {
        var = c;
        rhs = clang_Cursor_getVarDeclInitializer(c);
    } else if (k == CXCursor_BinaryOperator) {
        two t = {clang_getNullCursor(), clang_getNullCursor(), 0};
        clang_visitChildren(c, two_kids, &t);
        if (t.n == 2 && var_of(t.a, &var)) rhs = t.b;
    }
    if (clang_Cursor_isNull(rhs) || !call_of(strip(rhs), &call)) return CXChildVisit_Recurse;
    char *n = callee(call);
    if (strcmp(n, "corm_qs_at") == 0 && clang_Cursor_getNumArguments(call) == 2 &&
        var_of(arg(call, 0), &q) && var_find(f->s, q)) {
        f->v = var_find(f->s, q);
        f->var = var;
    }
    free(n);
    return f->v ? CXChildVisit_Break : CXChildVisit_Recurse;
}

static void index_loop(CXCursor loop, scope *s)
{
    kids ks = {{{0}}, 0};
    clang_visitChildren(loop, kids_visit, &ks);
    if (!ks.n) return;
    CXCursor body = ks.kids[ks.n - 1];
    idxfind f = {s, NULL, clang_getNullCursor()};
    if (idx_visit(body, loop, &f) == CXChildVisit_Recurse) clang_visitChildren(body, idx_visit, &f);
    if (f.v) loop_reads(f.v, false, f.var, body, loop);
}

static enum CXChildVisitResult pass_c(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    if (clang_getCursorKind(c) == CXCursor_ForStmt) {
        char *kw = written_as(c);
        if (strcmp(kw, "for") == 0) index_loop(c, d);
        else foreach_loop(c, d);
        free(kw);
    } else if (clang_getCursorKind(c) == CXCursor_WhileStmt) iterator_loop(c, d);
    return CXChildVisit_Recurse;
}

/* ------------------------------------------------------ files */

static enum CXChildVisitResult top(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    (void)d;
    if (!clang_Location_isFromMainFile(clang_getCursorLocation(c))) return CXChildVisit_Continue;
    if (clang_getCursorKind(c) == CXCursor_FunctionDecl && clang_isCursorDefinition(c) &&
        nfns < 1024)
        fns[nfns++] = c;
    return CXChildVisit_Continue;
}

static void lint_function(CXCursor fn)
{
    static scope s;
    cur_fn = fn;
    s.n = 0;
    s.cond = clang_getNullCursor();
    clang_visitChildren(fn, pass_a, &s);
    clang_visitChildren(fn, pass_b, &s);
    clang_visitChildren(fn, pass_c, &s);
    scope_free(&s);
}

static int lint_file(CXIndex idx, const char *path, const char *const *args, int nargs)
{
    tu = clang_parseTranslationUnit(idx, path, args, nargs, NULL, 0, CXTranslationUnit_None);
    if (!tu) {
        fprintf(stderr, "corm-lint: %s: could not be read\n", path);
        return 2;
    }
    int bad = 0;
    for (unsigned i = 0; i < clang_getNumDiagnostics(tu); i++) {
        CXDiagnostic dg = clang_getDiagnostic(tu, i);
        if (clang_getDiagnosticSeverity(dg) >= CXDiagnostic_Error) {
            char *t = str_of(clang_formatDiagnostic(dg, clang_defaultDiagnosticDisplayOptions()));
            fprintf(stderr, "corm-lint: %s\n", t);
            free(t);
            bad = 2;
        }
        clang_disposeDiagnostic(dg);
    }
    if (bad) {
        fprintf(stderr,
                "corm-lint: %s: not linted (fix the errors above, or pass its -I/-D flags)\n",
                path);
        clang_disposeTranslationUnit(tu);
        return bad;
    }
    nfns = 0;
    clang_visitChildren(clang_getTranslationUnitCursor(tu), top, NULL);
    for (int i = 0; i < nfns; i++) lint_function(fns[i]);
    clang_disposeTranslationUnit(tu);
    return 0;
}

/* The flags a compilation database (compile_commands.json, as CMake,
** Meson or bear write it) gives for path: the compiler, -c, -o and
** dependency-file options and the source itself left out; relative
** include directories made absolute from the entry's directory.  0 when
** the database has no entry for path. */
static int db_flags(CXCompilationDatabase cdb, const char *path, char **out, int max)
{
    char abs[4096];
    if (!realpath(path, abs)) return 0;
    CXCompileCommands cmds = clang_CompilationDatabase_getCompileCommands(cdb, abs);
    int n = 0;
    if (cmds && clang_CompileCommands_getSize(cmds) > 0) {
        CXCompileCommand cmd = clang_CompileCommands_getCommand(cmds, 0);
        char *dir = str_of(clang_CompileCommand_getDirectory(cmd));
        unsigned na = clang_CompileCommand_getNumArgs(cmd);
        for (unsigned i = 1; i < na && n < max; i++) {
            char *a = str_of(clang_CompileCommand_getArg(cmd, i));
            char full[4096];
            bool skip_next = strcmp(a, "-o") == 0 || strcmp(a, "-MF") == 0 ||
                             strcmp(a, "-MT") == 0 || strcmp(a, "-MQ") == 0;
            bool drop = skip_next || strcmp(a, "-c") == 0 || strncmp(a, "-M", 2) == 0 ||
                        (realpath(a, full) && strcmp(full, abs) == 0);
            const char *inc[] = {"-I", "-isystem", "-iquote", NULL};
            for (int k = 0; inc[k] && !drop; k++) {
                size_t l = strlen(inc[k]);
                if (strncmp(a, inc[k], l) == 0 && a[l] && a[l] != '/') {
                    snprintf(full, sizeof full, "%s%s/%s", inc[k], dir, a + l);
                    free(a);
                    a = strdup(full);
                } else if (strcmp(a, inc[k]) == 0 && i + 1 < na && n + 1 < max) {
                    char *d = str_of(clang_CompileCommand_getArg(cmd, ++i));
                    snprintf(full, sizeof full, "%s%s%s%s", inc[k], d[0] == '/' ? "" : dir,
                             d[0] == '/' ? "" : "/", d);
                    free(d);
                    free(a);
                    a = strdup(full);
                }
            }
            if (drop) {
                free(a);
                i += skip_next;
            } else out[n++] = a;
        }
        free(dir);
    }
    if (cmds) clang_CompileCommands_dispose(cmds);
    return n;
}

/* ------------------------------------------------------ output */

static void print_gcc(void)
{
    for (size_t i = 0; i < nfindings; i++) {
        const finding *f = &findings[i];
        printf("%s:%u:%u: warning: %s [%s]\n", f->file, f->line, f->col, f->msg, f->kind);
        if (f->note[0]) printf("%s:%u:%u: note: %s\n", f->file, f->line, f->col, f->note);
    }
}

/* The kinds of finding (the runtime detector's names), for --error-on and
** SARIF's rules. */
static const char *const KINDS[] = {
    "lookup", "n_plus_one", "count_in_loop", "exists_in_loop", "filter_after_prefetch", NULL};
static const char *const KIND_TEXT[] = {
    "a field path the queryset's model does not have",
    "a relation (or a deferred field) loaded one object at a time in a loop",
    "a related set counted once per object of a loop",
    "a related set tested for existence once per object of a loop",
    "a prefetched relation filtered again per object: the prefetch is wasted",
    "the loop's objects saved or deleted one statement each"};

static void print_sarif(void)
{
    json_t *rules = json_array();
    for (int i = 0; KINDS[i]; i++)
        json_array_append_new(rules, json_pack("{s:s, s:{s:s}}", "id", KINDS[i], "shortDescription",
                                               "text", KIND_TEXT[i]));
    json_t *results = json_array();
    for (size_t i = 0; i < nfindings; i++) {
        const finding *f = &findings[i];
        char text[2600];
        snprintf(text, sizeof text, "%s%s%s", f->msg, f->note[0] ? "\n" : "", f->note);
        json_array_append_new(
            results, json_pack("{s:s, s:s, s:{s:s}, s:[{s:{s:{s:s}, s:{s:i, s:i}}}]}", "ruleId",
                               f->kind, "level", "warning", "message", "text", text, "locations",
                               "physicalLocation", "artifactLocation", "uri", f->file, "region",
                               "startLine", (int)f->line, "startColumn", (int)f->col));
    }
    json_t *doc = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o}]}", "$schema",
                            "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0",
                            "runs", "tool", "driver", "name", "corm-lint", "informationUri",
                            "https://github.com/corm/corm", "rules", rules, "results", results);
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s);
    free(s);
    json_decref(doc);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: corm lint --schema SCHEMA.corm [--format gcc|sarif]\n"
                 "                 [--error-on=KIND,...] [-p BUILD_DIR] [-Idir] "
                 "[-Dname[=value]] FILE.c...\n"
                 "  N+1 loops and bad field paths found in C sources before they run.\n"
                 "  A line containing \"corm-lint: ignore\" is not reported.\n"
                 "  -p BUILD_DIR: each file's flags from BUILD_DIR/compile_commands.json\n"
                 "  (CMake, Meson, bear), before those given here.\n"
                 "  Kinds: lookup, n_plus_one, count_in_loop, exists_in_loop,\n"
                 "  filter_after_prefetch.\n"
                 "  Exit status: 0, 1 when a finding of an --error-on kind was reported,\n"
                 "  2 on bad usage or a file that does not parse.\n");
}

int main(int argc, char **argv)
{
    const char *schema_path = NULL, *format = "gcc", *error_on = "", *cdb_dir = NULL;
    const char *cargs[256];
    int ncargs = 0;
    const char *files[1024];
    int nfiles = 0;
    cargs[ncargs++] = "-std=c11";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--schema") == 0 && i + 1 < argc) schema_path = argv[++i];
        else if (strncmp(a, "--schema=", 9) == 0) schema_path = a + 9;
        else if (strcmp(a, "--format") == 0 && i + 1 < argc) format = argv[++i];
        else if (strncmp(a, "--format=", 9) == 0) format = a + 9;
        else if (strncmp(a, "--error-on=", 11) == 0) error_on = a + 11;
        else if (strcmp(a, "-p") == 0 && i + 1 < argc) cdb_dir = argv[++i];
        else if (strncmp(a, "-p=", 3) == 0) cdb_dir = a + 3;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' &&
                   (a[1] == 'I' || a[1] == 'D' || a[1] == 'U' || strncmp(a, "-std", 4) == 0)) {
            if (ncargs < 255) cargs[ncargs++] = a;
        } else if (a[0] == '-') {
            fprintf(stderr, "corm-lint: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (nfiles < 1024) files[nfiles++] = a;
    }
    if (strcmp(format, "gcc") != 0 && strcmp(format, "sarif") != 0) {
        fprintf(stderr, "corm-lint: unknown format '%s' (use gcc or sarif)\n", format);
        return 2;
    }
    for (const char *p = error_on; *p;) {
        size_t n = strcspn(p, ",");
        bool known = false;
        for (int k = 0; KINDS[k]; k++)
            if (strlen(KINDS[k]) == n && strncmp(p, KINDS[k], n) == 0) known = true;
        if (!known) {
            fprintf(stderr,
                    "corm-lint: --error-on: unknown kind '%.*s' (use lookup, n_plus_one, "
                    "count_in_loop, exists_in_loop, filter_after_prefetch, write_in_loop)\n",
                    (int)n, p);
            return 2;
        }
        p += n + (p[n] == ',');
    }
    if (!schema_path || !nfiles) {
        fprintf(stderr, "corm-lint: %s\n",
                !schema_path ? "--schema SCHEMA.corm is required" : "no C file to lint");
        usage(stderr);
        return 2;
    }
    corm_error err;
    corm_schema *sch = corm_schema_parse_file(schema_path, &err);
    if (!sch) {
        char buf[2048];
        fprintf(stderr, "corm-lint: %s\n", corm_error_format(&err, buf, sizeof buf));
        return 2;
    }
    schema = sch;
    /* Querysets want generated structs (their size); the linter only
    ** compiles them, never loads a row, so any size will do. */
    for (int i = 0; i < sch->nmodels; i++) {
        corm_model *m = (corm_model *)sch->models[i];
        if (!m->size) m->size = sizeof(corm_obj) + (size_t)m->nfields * 16 + 16;
    }
    mem = corm_open("sqlite::memory:", sch, &err);
    if (!mem) {
        char buf[2048];
        fprintf(stderr, "corm-lint: %s\n", corm_error_format(&err, buf, sizeof buf));
        corm_schema_free(sch);
        return 2;
    }
    corm_nplusone_mode(mem, CORM_NPLUSONE_OFF);
    CXCompilationDatabase cdb = NULL;
    if (cdb_dir) {
        CXCompilationDatabase_Error dberr;
        cdb = clang_CompilationDatabase_fromDirectory(cdb_dir, &dberr);
        if (dberr != CXCompilationDatabase_NoError) {
            fprintf(stderr, "corm-lint: -p %s: no readable compile_commands.json there\n", cdb_dir);
            corm_close(mem);
            corm_schema_free(sch);
            return 2;
        }
    }
    CXIndex idx = clang_createIndex(0, 0);
    int rc = 0;
    for (int i = 0; i < nfiles; i++) {
        const char *args[512];
        char *owned[256];
        int nown = cdb ? db_flags(cdb, files[i], owned, 256) : 0, nargs = 0;
        if (cdb && !nown) {
            fprintf(stderr,
                    "corm-lint: %s: not in %s/compile_commands.json; linted with the "
                    "command line's flags only\n",
                    files[i], cdb_dir);
        }
        for (int k = 0; k < nown; k++) args[nargs++] = owned[k];
        for (int k = 0; k < ncargs; k++) args[nargs++] = cargs[k];
        int r = lint_file(idx, files[i], args, nargs);
        for (int k = 0; k < nown; k++) free(owned[k]);
        if (r > rc) rc = r;
    }
    clang_disposeIndex(idx);
    if (cdb) clang_CompilationDatabase_dispose(cdb);
    if (strcmp(format, "sarif") == 0) print_sarif();
    else print_gcc();
    for (size_t i = 0; i < nfindings && rc == 0; i++) {
        const char *p = strstr(error_on, findings[i].kind);
        size_t n = strlen(findings[i].kind);
        if (p && (p == error_on || p[-1] == ',') && (!p[n] || p[n] == ',')) rc = 1;
    }
    corm_close(mem);
    corm_schema_free(sch);
    free(findings);
    return rc;
}
