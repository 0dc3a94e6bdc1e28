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
#include "corm.h"

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

static where where_of(CXCursor c)
{
    where w = {{0}, 0, 0};
    CXFile f;
    clang_getSpellingLocation(clang_getCursorLocation(c), &f, &w.line, &w.col, NULL);
    char *n = f ? str_of(clang_getFileName(f)) : strdup("?");
    snprintf(w.file, sizeof w.file, "%s", n);
    free(n);
    return w;
}

/* The line of the expansion (a macro call's line, as CORM_SITE records). */
static where expansion_of(CXCursor c)
{
    where w = {{0}, 0, 0};
    CXFile f;
    clang_getExpansionLocation(clang_getCursorLocation(c), &f, &w.line, &w.col, NULL);
    char *n = f ? str_of(clang_getFileName(f)) : strdup("?");
    snprintf(w.file, sizeof w.file, "%s", n);
    free(n);
    return w;
}

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
    /* eager loads under `if (param)`, one parameter: the naive variant of
    ** a scenario written as one body with a `fixed` flag */
    char *crelated[MAXP], *cprefetched[MAXP];
    int ncrelated, ncprefetched;
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
    } else if (v->model != m || v->raw != raw) {
        v->conflict = true;
    }
    /* a new queryset in the same variable has none of the old one's
    ** annotations (`qs = corm_all(...)` again, later in the function) */
    for (int i = 0; i < v->nannots; i++) free(v->annots[i]);
    v->nannots = 0;
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

/* Pass A: what each local queryset is and what eager loads it has. */

static enum CXChildVisitResult pass_a(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    scope *s = d;
    enum CXCursorKind k = clang_getCursorKind(c);
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
            else if (var_find(s, var)) var_find(s, var)->conflict = true;
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
        } else if (v && (strcmp(n, "corm_annotate") == 0 || strcmp(n, "corm_aggregate") == 0)) {
            strs p;
            strs_of(arg(c, 1), &p);
            if (p.other || p.n != 1) v->names_unknown = true;
            for (int i = 0; i < p.n; i++) push(v->annots, &v->nannots, p.s[i]);
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

/* A fresh queryset of v's model on the schema, with v's annotations. */
static corm_qs *probe(const qsvar *v, where w)
{
    corm_site site = {w.file, (int)w.line, NULL};
    corm_qs *q = corm_qs_new_at(mem, v->model, site);
    for (int i = 0; q && i < v->nannots; i++)
        corm_annotate(q, v->annots[i], corm_V(q, corm_int(0)));
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
        corm_qs *q = probe(v, w);
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
    corm_qs *q = probe(v, w);
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

/* A loop being read: its variable, its queryset, and locals holding an
** object reached from the variable (Author *a = book_author(b)). */
typedef struct {
    CXCursor loopvar;
    const qsvar *qs;
    int depth;
    bool cond_true; /* inside `if (param)` of the queryset's conditional loads */
    CXCursor alias[16];
    char alias_path[16][512];
    const corm_model *alias_model[16];
    int nalias;
} loopctx;

/* A generated accessor call on the loop variable (or on an object such a
** call returned): the path from the loop's model, and its last relation. */
static bool accessor(CXCursor call, const loopctx *lc, char *path, size_t size,
                     const corm_model **mo, const corm_relation **ro, bool *many)
{
    CXCursor loopvar = lc->loopvar;
    const corm_model *root = lc->qs->model;
    char *name = callee(call);
    size_t len = strlen(name);
    bool ok = false;
    if (len > 3 && strcmp(name + len - 3, "_at") == 0 && clang_Cursor_getNumArguments(call) >= 1) {
        CXCursor a0 = arg(call, 0), v, inner;
        const corm_model *base = NULL;
        char prefix[512] = "";
        bool pmany = false;
        const corm_model *bm;
        const corm_relation *br;
        if (var_of(a0, &v) && clang_equalCursors(v, loopvar)) base = root;
        else if (var_of(a0, &v)) {
            for (int i = 0; i < lc->nalias; i++)
                if (clang_equalCursors(lc->alias[i], v)) {
                    base = lc->alias_model[i];
                    snprintf(prefix, sizeof prefix, "%s", lc->alias_path[i]);
                }
        } else if (call_of(a0, &inner) &&
                   accessor(inner, lc, prefix, sizeof prefix, &bm, &br, &pmany) && !to_many(br))
            base = target_of(bm, br);
        char sn[256];
        if (base) {
            snake(base->name, sn, sizeof sn);
            size_t ls = strlen(sn);
            if (strncmp(name, sn, ls) == 0 && name[ls] == '_' && len > ls + 4) {
                const corm_relation *r = rel_named(base, name + ls + 1, len - ls - 4);
                if (r) {
                    snprintf(path, size, "%s%s%s", prefix, *prefix ? "__" : "", r->name);
                    *mo = base;
                    *ro = r;
                    *many = pmany || to_many(r);
                    ok = true;
                }
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

static void reads_in(CXCursor body, loopctx *lc);

static enum CXChildVisitResult reads_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    loopctx *lc = d;
    enum CXCursorKind k = clang_getCursorKind(c);
    char path[512];
    const corm_model *m;
    const corm_relation *r;
    bool many;
    if (k == CXCursor_VarDecl && lc->nalias < 16) {
        /* Author *a = book_author(b): a continues the path */
        CXCursor init = clang_Cursor_getVarDeclInitializer(c), call;
        if (!clang_Cursor_isNull(init) && call_of(init, &call) &&
            accessor(call, lc, path, sizeof path, &m, &r, &many) && !to_many(r)) {
            lc->alias[lc->nalias] = c;
            snprintf(lc->alias_path[lc->nalias], sizeof lc->alias_path[0], "%s", path);
            lc->alias_model[lc->nalias++] = target_of(m, r);
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
    if (k != CXCursor_CallExpr) return CXChildVisit_Recurse;
    if (accessor(c, lc, path, sizeof path, &m, &r, &many)) {
        char when[700] = "";
        bool naive = !covered(lc->qs, path, false);
        if (naive && lc->cond_true && covered(lc->qs, path, true)) naive = false;
        if (naive && covered(lc->qs, path, true))
            naive = naive_call(lc->qs->cparam, when, sizeof when);
        if (naive) {
            const qsvar *v = lc->qs;
            char fix[1200], built[560];
            snprintf(built, sizeof built, "%.500s:%u", v->built.file, v->built.line);
            snprintf(fix, sizeof fix, "fix: %s(qs, \"%s\") at %s",
                     many || v->raw ? "corm_prefetch_related" : "corm_select_related", path, built);
            add(expansion_of(c), "n_plus_one", fix,
                "%s.%s loaded one object at a time: one query per object of the loop over the "
                "%s%s queryset built at %s%s",
                m->name, r->name, v->model->name, v->raw ? " raw" : "", built, when);
        }
        return CXChildVisit_Recurse;
    }
    /* a function of this file given the loop variable: its reads count */
    char *n = callee(c);
    CXCursor def;
    if (lc->depth < 4 && strncmp(n, "corm_", 5) != 0 && fn_named(n, &def)) {
        int nargs = clang_Cursor_getNumArguments(c);
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
    CXCursor loopvar;
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
            if (strcmp(n, "corm_qs_at") == 0) {
                f->loopvar = v;
                f->found = true;
            }
            free(n);
            if (f->found) return CXChildVisit_Break;
        }
    }
    return CXChildVisit_Recurse;
}

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
        v = &tmp;
    }
    if (!v || !v->model || v->conflict || v->eager_unknown) return;
    if (v->unknown_line && v->unknown_line <= expansion_of(outer).line) return;
    if (v != &tmp) {
        /* the queryset the loop reads: the last one assigned before it */
        unsigned line = expansion_of(outer).line;
        for (int i = 0; i < v->nsites; i++)
            if (v->sites[i].line <= line) v->built = v->sites[i];
    }
    loopvar_find lf = {clang_getNullCursor(), false};
    clang_visitChildren(inner, loopvar_visit, &lf);
    if (!lf.found) return;
    kids ki = {{{0}}, 0};
    clang_visitChildren(inner, kids_visit, &ki);
    loopctx *lc = calloc(1, sizeof *lc);
    if (!lc) abort();
    lc->loopvar = lf.loopvar;
    lc->qs = v;
    reads_in(ki.kids[ki.n - 1], lc);
    free(lc);
}

static enum CXChildVisitResult pass_c(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    if (clang_getCursorKind(c) == CXCursor_ForStmt) foreach_loop(c, d);
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

/* ------------------------------------------------------ output */

static void print_gcc(void)
{
    for (size_t i = 0; i < nfindings; i++) {
        const finding *f = &findings[i];
        printf("%s:%u:%u: warning: %s [%s]\n", f->file, f->line, f->col, f->msg, f->kind);
        if (f->note[0]) printf("%s:%u:%u: note: %s\n", f->file, f->line, f->col, f->note);
    }
}

static void print_sarif(void)
{
    json_t *rules = json_array();
    const char *ids[] = {"lookup", "n_plus_one"};
    const char *desc[] = {"a field path the queryset's model does not have",
                          "a relation loaded one object at a time in a loop"};
    for (int i = 0; i < 2; i++)
        json_array_append_new(
            rules, json_pack("{s:s, s:{s:s}}", "id", ids[i], "shortDescription", "text", desc[i]));
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
                 "                 [--error-on=n_plus_one,lookup] [-Idir] [-Dname[=value]] "
                 "FILE.c...\n"
                 "  N+1 loops and bad field paths found in C sources before they run.\n"
                 "  A line containing \"corm-lint: ignore\" is not reported.\n"
                 "  Exit status: 0, 1 when a finding of an --error-on kind was reported,\n"
                 "  2 on bad usage or a file that does not parse.\n");
}

int main(int argc, char **argv)
{
    const char *schema_path = NULL, *format = "gcc", *error_on = "";
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
        if (!((n == 6 && strncmp(p, "lookup", 6) == 0) ||
              (n == 10 && strncmp(p, "n_plus_one", 10) == 0))) {
            fprintf(stderr, "corm-lint: --error-on: unknown kind '%.*s' (use n_plus_one, lookup)\n",
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
    CXIndex idx = clang_createIndex(0, 0);
    int rc = 0;
    for (int i = 0; i < nfiles; i++) {
        int r = lint_file(idx, files[i], cargs, ncargs);
        if (r > rc) rc = r;
    }
    clang_disposeIndex(idx);
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
