/*
** validate.c - from the parsed tree to the run-time descriptors, resolving
** everything that spans declarations:
**
**   tables        lower_snake(Model) unless `table "..."`; all tables, m2m
**                 join tables and index names share one namespace (they do
**                 in SQLite and PostgreSQL), compared case-insensitively
**   fields        fields[0] is the implicit `id`; fk/one_to_one `author`
**                 has column author_id; m2m fields are relations only
**   relations     per model: its forward fk/one_to_one/m2m in field order,
**                 then the reverses other models add, in schema order
**                 (Django's defaults: book_set, profile, book_set)
**   indexes       single-column ones of db_index fields (fk fields have one
**                 unless unique), then the declared ones, in order
**   C names       every name the generator emits (Book, BOOK_F_TITLE,
**                 book_author, book_author_at, ...) is unique and not a C
**                 keyword, so generated code always compiles
** Every error points at the declaration that causes it.
*/
#include "parse_int.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per model, while building. */
typedef struct mstate {
    const corm__ast_model *am;
    const char *table, *snake, *lower;
    corm__pos table_pos;
    int *fidx; /* ast field -> field index, -1 for m2m */
    int *ridx; /* ast field -> forward relation index, or -1 */
    int nfields, nfwd, nrev, nrev_filled;
    corm_field *fields;
    corm_relation *rels;
    corm__pos *rel_pos;    /* where each relation is declared */
    const char **rel_from; /* "Book.author": the field declaring it */
    corm_index *indexes;
    int nindexes, capindexes;
} mstate;

typedef struct vctx {
    corm__pctx *c;
    const corm__ast *ast;
    corm_schema *out;
    mstate *ms;
} vctx;

static void *zalloc(vctx *v, size_t count, size_t size)
{
    if (count == 0) count = 1;
    return corm__arena_zalloc(v->c->arena, count * size); /* count, size bounded by parser */
}

static int ci_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z') x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z') y += 'a' - 'A';
        if (x != y || !x) return x - y;
    }
}

static bool ci_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        int x = (unsigned char)*s;
        if (x >= 'A' && x <= 'Z') x += 'a' - 'A';
        if (x != *prefix) return false;
    }
    return true;
}

static bool pos_before(corm__pos a, corm__pos b)
{
    return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* Names longer than PostgreSQL keeps are cut and given a hash suffix, as
** Django does, so two long names stay distinct. */
static const char *fit_name(vctx *v, const char *s)
{
    size_t n = strlen(s);
    if (n <= CORM__IDENT_MAX) return s;
    char buf[CORM__IDENT_MAX + 1];
    snprintf(buf, sizeof buf, "%.54s_%08x", s, (unsigned)corm__hash_str(s, n));
    return corm__arena_strdup(v->c->arena, buf);
}

static const char *cat(vctx *v, const char *a, const char *b, const char *c2)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c2);
    char *s = corm__arena_alloc(v->c->arena, la + lb + lc + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c2, lc + 1);
    return s;
}

static int find_model(const corm__ast *ast, const char *name)
{
    for (int i = 0; i < ast->nmodels; i++)
        if (strcmp(ast->models[i].name, name) == 0) return i;
    return -1;
}

/* ---------------------------------------------------------- models, tables */

static corm_rc check_models(vctx *v)
{
    const corm__ast *ast = v->ast;
    for (int i = 0; i < ast->nmodels; i++) {
        const corm__ast_model *am = &ast->models[i];
        mstate *ms = &v->ms[i];
        ms->am = am;
        for (int j = 0; j < i; j++) {
            if (strcmp(ast->models[j].name, am->name) == 0)
                return corm__perr(v->c, am->pos, "rename or remove one of them",
                                  "model '%s' is defined twice (first at line %d)", am->name,
                                  ast->models[j].pos.line);
            if (ci_cmp(ast->models[j].name, am->name) == 0)
                return corm__perr(v->c, am->pos, "model names may not differ only in case",
                                  "model '%s' clashes with model '%s'", am->name,
                                  ast->models[j].name);
        }
        if (!(ms->snake = corm__lower_snake(v->c->arena, am->name)) ||
            !(ms->lower = corm__lower(v->c->arena, am->name)))
            return corm__pnomem(v->c);
        ms->table = am->table ? am->table : ms->snake;
        ms->table_pos = am->table ? am->table_pos : am->pos;
        const char *t = ms->table;
        if (ci_prefix(t, "corm_") || ci_prefix(t, "sqlite_"))
            return corm__perr(
                v->c, ms->table_pos,
                "names starting with corm_ or sqlite_ are reserved: write table \"other_name\"",
                "table name '%s' of model '%s' is reserved", t, am->name);
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ fields */

static corm_rc unknown_model(vctx *v, const corm__ast_field *f, const corm__ast_model *am)
{
    const char *cands[4096];
    size_t n = 0;
    corm_buf list;
    corm__buf_init(&list);
    for (int i = 0; i < v->ast->nmodels && n < CORM__ARRAY_LEN(cands); i++) {
        cands[n++] = v->ast->models[i].name;
        corm__buf_addf(&list, "%s%s", i ? ", " : "", v->ast->models[i].name);
    }
    const char *best = corm__did_you_mean(f->target, cands, n);
    corm__perr(v->c, f->target_pos, NULL, "unknown model '%s' in %s field '%s.%s'", f->target,
               f->m2m ? "m2m" : corm__ftype_name(f->type), am->name, f->name);
    if (best)
        corm__err_hint(v->c->err, "did you mean '%s'? the models are: %s", best,
                       corm__buf_cstr(&list));
    else corm__err_hint(v->c->err, "the models are: %s", corm__buf_cstr(&list));
    bool oom = list.oom;
    corm__buf_free(&list);
    return oom ? corm__pnomem(v->c) : CORM_SCHEMA;
}

/* Fields of every model, forward relation slots, and the count of
** reverse relations each target receives. */
static corm_rc build_fields(vctx *v)
{
    const corm__ast *ast = v->ast;
    for (int i = 0; i < ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        const corm__ast_model *am = ms->am;
        ms->fidx = zalloc(v, (size_t)am->nfields, sizeof *ms->fidx);
        ms->ridx = zalloc(v, (size_t)am->nfields, sizeof *ms->ridx);
        ms->fields = zalloc(v, (size_t)am->nfields + 1, sizeof *ms->fields);
        if (!ms->fidx || !ms->ridx || !ms->fields) return corm__pnomem(v->c);
        corm_field *id = &ms->fields[0];
        id->name = id->column = "id";
        id->type = CORM_FT_BIGINT;
        id->flags = CORM_FF_PK;
        id->rel = -1;
        ms->nfields = 1;
        for (int j = 0; j < am->nfields; j++) {
            const corm__ast_field *f = &am->fields[j];
            ms->fidx[j] = ms->ridx[j] = -1;
            bool rel = f->m2m || f->type == CORM_FT_FK || f->type == CORM_FT_O2O;
            if (rel) {
                int t = find_model(ast, f->target);
                if (t < 0) return unknown_model(v, f, am);
                ms->ridx[j] = ms->nfwd++;
                v->ms[t].nrev++;
            }
            if (f->m2m) continue;
            corm_field *d = &ms->fields[ms->nfields];
            ms->fidx[j] = ms->nfields++;
            d->name = f->name;
            d->type = f->type;
            d->flags = f->flags;
            d->max_length = f->max_length;
            d->precision = f->precision;
            d->scale = f->scale;
            d->default_sql = f->default_sql;
            d->rel = ms->ridx[j];
            if (f->type == CORM_FT_FK || f->type == CORM_FT_O2O) {
                if (!(d->flags & CORM_FF_UNIQUE)) d->flags |= CORM_FF_DB_INDEX;
                if (!(d->column = cat(v, f->name, "_id", ""))) return corm__pnomem(v->c);
                if (strlen(d->column) > CORM__IDENT_MAX)
                    return corm__perr(v->c, f->pos, "shorten the field name",
                                      "column '%s' of field '%s.%s' is longer than %d characters",
                                      d->column, am->name, f->name, CORM__IDENT_MAX);
            } else {
                d->column = f->name;
            }
        }
    }
    /* Relation limits, reported at the declaration that goes over. */
    int *count = zalloc(v, (size_t)ast->nmodels, sizeof *count);
    if (!count) return corm__pnomem(v->c);
    for (int i = 0; i < ast->nmodels; i++) count[i] = v->ms[i].nfwd;
    for (int i = 0; i < ast->nmodels; i++) {
        const corm__ast_model *am = v->ms[i].am;
        for (int j = 0; j < am->nfields; j++) {
            if (v->ms[i].ridx[j] < 0) continue;
            int t = find_model(ast, am->fields[j].target);
            if (++count[t] > CORM_MAX_RELS)
                return corm__perr(
                    v->c, am->fields[j].pos,
                    "split the target model, e.g. with a one_to_one companion model",
                    "model '%s' gets more than %d relations with the reverse of '%s.%s'",
                    ast->models[t].name, CORM_MAX_RELS, am->name, am->fields[j].name);
        }
    }
    return CORM_OK;
}

/* --------------------------------------------------------- relations */

static corm_rc build_relations(vctx *v)
{
    const corm__ast *ast = v->ast;
    for (int i = 0; i < ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        int n = ms->nfwd + ms->nrev;
        ms->rels = zalloc(v, (size_t)n, sizeof *ms->rels);
        ms->rel_pos = zalloc(v, (size_t)n, sizeof *ms->rel_pos);
        ms->rel_from = zalloc(v, (size_t)n, sizeof *ms->rel_from);
        if (!ms->rels || !ms->rel_pos || !ms->rel_from) return corm__pnomem(v->c);
    }
    for (int i = 0; i < ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        const corm__ast_model *am = ms->am;
        for (int j = 0; j < am->nfields; j++) {
            int r = ms->ridx[j];
            if (r < 0) continue;
            const corm__ast_field *f = &am->fields[j];
            int t = find_model(ast, f->target);
            mstate *ts = &v->ms[t];
            int back = ts->nfwd + ts->nrev_filled++;
            corm_relation *fw = &ms->rels[r], *bw = &ts->rels[back];
            const char *from = cat(v, am->name, ".", f->name);
            if (!from) return corm__pnomem(v->c);
            fw->name = f->name;
            fw->target = t;
            fw->reverse = back;
            fw->slot = r;
            fw->on_delete = f->on_delete;
            fw->field = ms->fidx[j];
            ms->rel_pos[r] = f->pos;
            ms->rel_from[r] = from;
            bw->target = i;
            bw->reverse = r;
            bw->slot = back;
            bw->on_delete = f->on_delete;
            bw->field = ms->fidx[j];
            ts->rel_pos[back] = f->related_name ? f->related_name_pos : f->pos;
            ts->rel_from[back] = from;
            if (f->m2m) {
                fw->kind = CORM_REL_M2M;
                bw->kind = CORM_REL_REVERSE_M2M;
                fw->on_delete = bw->on_delete = CORM_CASCADE;
                fw->field = bw->field = -1;
                bw->name = f->related_name ? f->related_name : cat(v, ms->lower, "_set", "");
                const char *through = cat(v, ms->table, "_", f->name);
                const char *src, *dst;
                if (t == i) {
                    src = cat(v, "from_", ms->lower, "_id");
                    dst = cat(v, "to_", ms->lower, "_id");
                } else {
                    src = cat(v, ms->lower, "_id", "");
                    dst = cat(v, ts->lower, "_id", "");
                }
                if (!through || !src || !dst) return corm__pnomem(v->c);
                fw->through = bw->through = fit_name(v, through);
                fw->through_src = bw->through_dst = fit_name(v, src);
                fw->through_dst = bw->through_src = fit_name(v, dst);
                if (!fw->through || !fw->through_src || !fw->through_dst) return corm__pnomem(v->c);
            } else if (f->type == CORM_FT_O2O) {
                fw->kind = CORM_REL_O2O;
                bw->kind = CORM_REL_REVERSE_O2O;
                bw->name = f->related_name ? f->related_name : ms->lower;
            } else {
                fw->kind = CORM_REL_FK;
                bw->kind = CORM_REL_REVERSE_FK;
                bw->name = f->related_name ? f->related_name : cat(v, ms->lower, "_set", "");
            }
            if (!bw->name) return corm__pnomem(v->c);
        }
    }
    return CORM_OK;
}

/* ------------------------------------------------------------- clashes */

/* Fields, fk columns and relations of one model have distinct names
** (case-insensitively: SQLite columns and C enum names ignore case). */
static corm_rc check_member_clashes(vctx *v)
{
    for (int i = 0; i < v->ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        const corm__ast_model *am = ms->am;
        /* Declared names: fields (with m2m) and fk columns. */
        for (int j = 0; j < am->nfields; j++) {
            const corm__ast_field *f = &am->fields[j];
            for (int k = 0; k < j; k++) {
                const corm__ast_field *g = &am->fields[k];
                if (strcmp(f->name, g->name) == 0)
                    return corm__perr(
                        v->c, f->pos, "rename or remove one of them",
                        "field '%s' is declared twice in model '%s' (first at line %d)", f->name,
                        am->name, g->pos.line);
                if (ci_cmp(f->name, g->name) == 0)
                    return corm__perr(v->c, f->pos, "names may not differ only in case",
                                      "field '%s' clashes with field '%s' in model '%s'", f->name,
                                      g->name, am->name);
            }
            for (int k = 0; k < am->nfields; k++) {
                int fi = ms->fidx[k];
                if (k == j || fi < 0 ||
                    (am->fields[k].type != CORM_FT_FK && am->fields[k].type != CORM_FT_O2O))
                    continue;
                if (ci_cmp(f->name, ms->fields[fi].column) == 0)
                    return corm__perr(
                        v->c, f->pos, "rename the field: the relation already has this column",
                        "field '%s' clashes with column '%s' of %s field '%s' in model '%s'",
                        f->name, ms->fields[fi].column, corm__ftype_name(am->fields[k].type),
                        am->fields[k].name, am->name);
            }
        }
    }
    /* Reverse names, in the order they are added. */
    for (int i = 0; i < v->ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        const corm__ast_model *am = ms->am;
        for (int r = ms->nfwd; r < ms->nfwd + ms->nrev; r++) {
            const corm_relation *rel = &ms->rels[r];
            char hint[300];
            snprintf(hint, sizeof hint, "add related_name=<other name> to %s", ms->rel_from[r]);
            for (int f = 0; f < ms->nfields; f++) {
                const corm_field *fd = &ms->fields[f];
                const char *what = ci_cmp(rel->name, fd->name) == 0     ? fd->name
                                   : ci_cmp(rel->name, fd->column) == 0 ? fd->column
                                                                        : NULL;
                if (what)
                    return corm__perr(
                        v->c, ms->rel_pos[r], hint,
                        "reverse relation '%s' of %s clashes with %s '%s' of model '%s'", rel->name,
                        ms->rel_from[r], what == fd->name ? "field" : "column", what, am->name);
            }
            for (int q = 0; q < r; q++) {
                if (ci_cmp(ms->rels[q].name, rel->name) != 0) continue;
                if (q < ms->nfwd)
                    return corm__perr(
                        v->c, ms->rel_pos[r], hint,
                        "reverse relation '%s' of %s clashes with m2m field '%s' of model '%s'",
                        rel->name, ms->rel_from[r], ms->rels[q].name, am->name);
                return corm__perr(v->c, ms->rel_pos[r], hint,
                                  "reverse relation '%s' of %s clashes with reverse relation '%s' "
                                  "of %s on model '%s'",
                                  rel->name, ms->rel_from[r], ms->rels[q].name, ms->rel_from[q],
                                  am->name);
            }
        }
    }
    return CORM_OK;
}

/* ---------------------------------------------------- indexes, ordering */

/* The field a column list names: a field, id/pk, or an fk's column. */
static corm_rc resolve_col(vctx *v, mstate *ms, const corm__ast_col *col, const char *ctx,
                           const corm_field **out)
{
    const corm__ast_model *am = ms->am;
    if (strcmp(col->name, "pk") == 0) {
        *out = &ms->fields[0];
        return CORM_OK;
    }
    for (int f = 0; f < ms->nfields; f++)
        if (strcmp(ms->fields[f].name, col->name) == 0 ||
            ((ms->fields[f].type == CORM_FT_FK || ms->fields[f].type == CORM_FT_O2O) &&
             strcmp(ms->fields[f].column, col->name) == 0)) {
            *out = &ms->fields[f];
            return CORM_OK;
        }
    for (int j = 0; j < am->nfields; j++)
        if (am->fields[j].m2m && strcmp(am->fields[j].name, col->name) == 0)
            return corm__perr(v->c, col->pos,
                              "an m2m relation lives in its join table: it has no column here",
                              "m2m field '%s' cannot be used in %s", col->name, ctx);
    const char *cands[CORM_MAX_FIELDS];
    corm_buf list;
    corm__buf_init(&list);
    for (int f = 0; f < ms->nfields; f++) {
        cands[f] = ms->fields[f].name;
        corm__buf_addf(&list, "%s%s", f ? ", " : "", ms->fields[f].name);
    }
    const char *best = corm__did_you_mean(col->name, cands, (size_t)ms->nfields);
    corm__perr(v->c, col->pos, NULL, "unknown field '%s' in %s of model '%s'", col->name, ctx,
               am->name);
    if (best)
        corm__err_hint(v->c->err, "did you mean '%s'? %s has: %s", best, am->name,
                       corm__buf_cstr(&list));
    else corm__err_hint(v->c->err, "%s has: %s", am->name, corm__buf_cstr(&list));
    bool oom = list.oom;
    corm__buf_free(&list);
    return oom ? corm__pnomem(v->c) : CORM_SCHEMA;
}

static corm_index *new_index(vctx *v, mstate *ms)
{
    if (!corm__arena_grow(v->c->arena, (void **)&ms->indexes, ms->nindexes, &ms->capindexes,
                          sizeof *ms->indexes))
        return NULL;
    corm_index *ix = &ms->indexes[ms->nindexes++];
    memset(ix, 0, sizeof *ix);
    return ix;
}

/* A literal checked against its field as default= is, with the error's
** words made the caller's: "default X" -> "<what> X" in the message,
** "default=" -> "<hintword> <field> = " in the hint. */
static corm_rc check_value(vctx *v, const corm__ast_field *af, const char *fname,
                           const corm__literal *lit, const char *what, const char *hintword,
                           const char **sql)
{
    corm_rc rc = corm__check_default(v->c, af, lit, sql);
    if (rc == CORM_SCHEMA) {
        corm_error *e = v->c->err;
        if (strncmp(e->message, "default ", 8) == 0) {
            char m[sizeof e->message];
            corm__strlcpy(m, e->message + 8, sizeof m);
            corm_buf b;
            corm__buf_init(&b);
            corm__buf_addf(&b, "%s %s", what, m);
            corm__strlcpy(e->message, corm__buf_cstr(&b), sizeof e->message);
            corm__buf_free(&b);
        }
        char *h = strstr(e->hint, "default=");
        if (h) {
            char rest[sizeof e->hint];
            corm__strlcpy(rest, h + 8, sizeof rest);
            corm_buf b;
            corm__buf_init(&b);
            corm__buf_add(&b, e->hint, (size_t)(h - e->hint));
            corm__buf_addf(&b, "%s %s = %s", hintword, fname, rest);
            corm__strlcpy(e->hint, corm__buf_cstr(&b), sizeof e->hint);
            corm__buf_free(&b);
        }
    }
    return rc;
}

/* A literal as the schema writes it (canonical: strings re-escaped). */
static void put_literal(corm_buf *b, const corm__literal *lit)
{
    switch (lit->kind) {
    case CORM__LIT_INT:
    case CORM__LIT_FLOAT:
        corm__buf_addf(b, "%s%.*s", lit->neg ? "-" : "", (int)lit->textlen, lit->text);
        break;
    case CORM__LIT_STRING:
        corm__buf_addc(b, '"');
        for (size_t i = 0; i < lit->len; i++) {
            char c = lit->str[i];
            if (c == '"' || c == '\\') corm__buf_addc(b, '\\');
            if (c == '\n') corm__buf_adds(b, "\\n");
            else if (c == '\t') corm__buf_adds(b, "\\t");
            else if (c == '\r') corm__buf_adds(b, "\\r");
            else corm__buf_addc(b, c);
        }
        corm__buf_addc(b, '"');
        break;
    case CORM__LIT_TRUE: corm__buf_adds(b, "true"); break;
    case CORM__LIT_FALSE: corm__buf_adds(b, "false"); break;
    case CORM__LIT_NULL: corm__buf_adds(b, "null"); break;
    }
}

/* A partial index's `where` terms -> ix->condition (the schema's words,
** canonical) and ix->where (SQL on the columns, literals checked against
** their fields as default= is: no schema text reaches SQL unchecked). */
static corm_rc build_condition(vctx *v, mstate *ms, const corm__ast_index *ai, corm_index *ix)
{
    corm_buf text, sql;
    corm__buf_init(&text);
    corm__buf_init(&sql);
    corm_rc rc = CORM_OK;
    for (int k = 0; k < ai->nconds && !rc; k++) {
        const corm__ast_cond *c = &ai->conds[k];
        const corm_field *fd;
        if ((rc = resolve_col(v, ms, &c->col, "an index condition", &fd))) break;
        bool eq = strcmp(c->op, "=") == 0, ne = strcmp(c->op, "!=") == 0;
        const corm__literal *lit = c->lit;
        const char *lsql = NULL;
        if (fd->type == CORM_FT_BLOB) {
            rc = corm__perr(v->c, c->col.pos, "put a condition on another field",
                            "blob field '%s' cannot be in an index condition", fd->name);
        } else if (lit->kind == CORM__LIT_NULL) {
            if (!eq && !ne)
                rc = corm__perr(v->c, c->op_pos, "write = null or != null",
                                "null is compared with = or != only (IS NULL, IS NOT NULL)");
            else if (!(fd->flags & CORM_FF_NULL))
                rc = corm__perr(v->c, lit->pos, "declare the field null, or drop the term",
                                "field '%s' is not null: the condition %s %s null is always %s",
                                fd->name, fd->name, c->op, eq ? "false" : "true");
        } else if (fd->type == CORM_FT_BOOL && !eq && !ne) {
            rc = corm__perr(v->c, c->op_pos, "write = true or = false",
                            "bool field '%s' is compared with = or != only", fd->name);
        } else {
            corm__ast_field af;
            memset(&af, 0, sizeof af);
            af.name = fd->name;
            af.pos = c->col.pos;
            af.type = fd->type == CORM_FT_FK || fd->type == CORM_FT_O2O ? CORM_FT_BIGINT : fd->type;
            af.max_length = fd->max_length;
            af.precision = fd->precision;
            af.scale = fd->scale;
            af.flags = fd->flags;
            rc = check_value(v, &af, fd->name, lit, "condition value", "where", &lsql);
        }
        if (rc) break;
        corm__buf_addf(&text, "%s%s %s ", k ? " and " : "", fd->name, c->op);
        put_literal(&text, lit);
        if (lsql)
            corm__buf_addf(&sql, "%s\"%s\" %s %s", k ? " AND " : "", fd->column, ne ? "<>" : c->op,
                           lsql);
        else
            corm__buf_addf(&sql, "%s\"%s\" IS %sNULL", k ? " AND " : "", fd->column,
                           ne ? "NOT " : "");
    }
    if (!rc && (text.oom || sql.oom ||
                !(ix->condition = corm__arena_strdup(v->c->arena, corm__buf_cstr(&text))) ||
                !(ix->where = corm__arena_strdup(v->c->arena, corm__buf_cstr(&sql)))))
        rc = corm__pnomem(v->c);
    corm__buf_free(&text);
    corm__buf_free(&sql);
    return rc;
}

/* `using trigram` / `using search`: one text column, ascending, not
** unique, no condition. */
static corm_rc check_text_index(vctx *v, mstate *ms, const corm__ast_index *ai)
{
    const char *kind = ai->kind == CORM_INDEX_TRIGRAM ? "trigram" : "search";
    if (ai->unique)
        return corm__perr(v->c, ai->pos, "drop 'unique', or index the field with a plain index",
                          "a %s index cannot be unique", kind);
    if (ai->ncols != 1 || ai->cols[0].desc)
        return corm__perr(v->c, ai->using_pos,
                          ai->kind == CORM_INDEX_TRIGRAM
                              ? "index one text field, ascending: index (title) using trigram"
                              : "index one text field, ascending: index (body) using search",
                          "a %s index takes one field, ascending", kind);
    if (ai->nconds)
        return corm__perr(v->c, ai->where_pos, "drop the condition",
                          "a %s index takes no condition", kind);
    const corm_field *fd;
    corm_rc rc = resolve_col(v, ms, &ai->cols[0], "index", &fd);
    if (rc) return rc;
    if (fd->type != CORM_FT_CHAR && fd->type != CORM_FT_TEXT && fd->type != CORM_FT_EMAIL)
        return corm__perr(v->c, ai->cols[0].pos, "index a char, text or email field",
                          "a %s index needs a text field; %s.%s is %s", kind, ms->am->name,
                          fd->name, corm__ftype_name(fd->type));
    return CORM_OK;
}

static corm_rc build_indexes(vctx *v)
{
    for (int i = 0; i < v->ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        const corm__ast_model *am = ms->am;
        /* db_index fields first, in field order. */
        for (int f = 1; f < ms->nfields; f++) {
            const corm_field *fd = &ms->fields[f];
            if (!(fd->flags & CORM_FF_DB_INDEX) || (fd->flags & CORM_FF_UNIQUE)) continue;
            corm_index *ix = new_index(v, ms);
            const char **cols = zalloc(v, 1, sizeof *cols);
            const char *name = cat(v, ms->table, "_", fd->column);
            if (!ix || !cols || !name || !(name = cat(v, name, "_idx", "")) ||
                !(name = fit_name(v, name)))
                return corm__pnomem(v->c);
            cols[0] = fd->name;
            ix->name = name;
            ix->fields = cols;
            ix->nfields = 1;
        }
        for (int k = 0; k < am->nindexes; k++) {
            const corm__ast_index *ai = &am->indexes[k];
            const char *ctx = ai->unique ? "unique constraint" : "index";
            corm_index *ix = new_index(v, ms);
            const char **cols = zalloc(v, (size_t)ai->ncols, sizeof *cols);
            corm_buf name;
            corm__buf_init(&name);
            corm__buf_adds(&name, ms->table);
            if (!ix || !cols) return corm__pnomem(v->c);
            for (int c = 0; c < ai->ncols; c++) {
                const corm_field *fd;
                corm_rc rc = resolve_col(v, ms, &ai->cols[c], ctx, &fd);
                if (rc) {
                    corm__buf_free(&name);
                    return rc;
                }
                for (int d = 0; d < c; d++)
                    if (cols[d] && strcmp(cols[d] + (cols[d][0] == '-'), fd->name) == 0) {
                        corm__buf_free(&name);
                        return corm__perr(v->c, ai->cols[c].pos, "list each field once",
                                          "field '%s' appears twice in %s", fd->name, ctx);
                    }
                cols[c] = ai->cols[c].desc ? cat(v, "-", fd->name, "") : fd->name;
                corm__buf_addf(&name, "_%s%s", fd->column, ai->cols[c].desc ? "_desc" : "");
            }
            if (ai->nconds) corm__buf_adds(&name, "_partial");
            corm__buf_adds(&name, ai->kind == CORM_INDEX_TRIGRAM  ? "_trgm"
                                  : ai->kind == CORM_INDEX_SEARCH ? "_search"
                                  : ai->unique                    ? "_uniq"
                                                                  : "_idx");
            const char *nm = ai->name   ? ai->name
                             : name.oom ? NULL
                                        : corm__arena_strdup(v->c->arena, corm__buf_cstr(&name));
            corm__buf_free(&name);
            if (!nm || !(nm = fit_name(v, nm))) return corm__pnomem(v->c);
            for (int c = 0; c < ai->ncols; c++)
                if (!cols[c]) return corm__pnomem(v->c);
            ix->name = nm;
            ix->fields = cols;
            ix->nfields = ai->ncols;
            ix->unique = ai->unique;
            ix->kind = (corm_index_kind)ai->kind;
            if (ai->kind != CORM_INDEX_BTREE) {
                corm_rc rc = check_text_index(v, ms, ai);
                if (rc) return rc;
            }
            if (ai->nconds) {
                corm_rc rc = build_condition(v, ms, ai, ix);
                if (rc) return rc;
            }
        }
    }
    return CORM_OK;
}

static corm_rc build_ordering(vctx *v, int i, const char ***out)
{
    mstate *ms = &v->ms[i];
    const corm__ast_model *am = ms->am;
    *out = NULL;
    if (!am->nordering) return CORM_OK;
    const char **ord = zalloc(v, (size_t)am->nordering, sizeof *ord);
    if (!ord) return corm__pnomem(v->c);
    for (int k = 0; k < am->nordering; k++) {
        const corm_field *fd;
        corm_rc rc = resolve_col(v, ms, &am->ordering[k], "ordering", &fd);
        if (rc) return rc;
        for (int d = 0; d < k; d++)
            if (strcmp(ord[d] + (ord[d][0] == '-'), fd->name) == 0)
                return corm__perr(v->c, am->ordering[k].pos, "list each field once",
                                  "field '%s' appears twice in ordering", fd->name);
        ord[k] = am->ordering[k].desc ? cat(v, "-", fd->name, "") : fd->name;
        if (!ord[k]) return corm__pnomem(v->c);
    }
    *out = ord;
    return CORM_OK;
}

/* `scope` members -> corm_scope descriptors.  A value is checked against
** its field as default= is, and kept as a typed constant the compiler
** binds (never SQL text). */
static corm_rc build_scopes(vctx *v, int i, const corm_scope **out, int *nout)
{
    mstate *ms = &v->ms[i];
    const corm__ast_model *am = ms->am;
    *out = NULL;
    *nout = 0;
    if (!am->nscopes) return CORM_OK;
    corm_scope *sc = zalloc(v, (size_t)am->nscopes, sizeof *sc);
    if (!sc) return corm__pnomem(v->c);
    for (int k = 0; k < am->nscopes; k++) {
        const corm__ast_scope *as = &am->scopes[k];
        const corm_field *fd;
        corm_rc rc = resolve_col(v, ms, &as->col, "scope", &fd);
        if (rc) return rc;
        int fi = (int)(fd - ms->fields);
        if (fi == 0)
            return corm__perr(v->c, as->col.pos,
                              "scope a field such as tenant_id; filter on ids per query",
                              "scope on the primary key of model '%s'", am->name);
        if (fd->type == CORM_FT_BLOB)
            return corm__perr(v->c, as->col.pos, "scope a field such as tenant_id or is_deleted",
                              "blob field '%s' cannot be a scope", fd->name);
        for (int d = 0; d < k; d++)
            if (sc[d].field == fi)
                return corm__perr(v->c, as->col.pos, "keep one scope per field",
                                  "field '%s' is scoped twice", fd->name);
        sc[k].field = fi;
        const corm__literal *lit = as->lit;
        if (!lit) {
            sc[k].kind = CORM_SCOPE_RUNTIME;
            continue;
        }
        if (lit->kind == CORM__LIT_NULL) {
            if (!(fd->flags & CORM_FF_NULL))
                return corm__perr(
                    v->c, lit->pos, "declare the field null, or scope it on a value",
                    "scope %s = null on a field that is not null: it would hide every row",
                    fd->name);
            sc[k].kind = CORM_SCOPE_NULL;
            continue;
        }
        const corm__ast_field *af = NULL;
        for (int j = 0; j < am->nfields && !af; j++)
            if (ms->fidx[j] == fi) af = &am->fields[j];
        const char *sql;
        if (!af) return corm__pnomem(v->c);
        rc = check_value(v, af, fd->name, lit, "scope value", "scope", &sql);
        if (rc) return rc;
        switch (lit->kind) {
        case CORM__LIT_INT:
            if (fd->type == CORM_FT_FLOAT || fd->type == CORM_FT_DECIMAL) {
                sc[k].kind = CORM_SCOPE_FLOAT;
                sc[k].fval = lit->neg ? -(double)lit->u : (double)lit->u;
            } else {
                sc[k].kind = CORM_SCOPE_INT;
                sc[k].ival = lit->neg ? (int64_t)(0 - lit->u) : (int64_t)lit->u;
            }
            break;
        case CORM__LIT_FLOAT: {
            char num[80];
            size_t n = lit->textlen < sizeof num - 1 ? lit->textlen : sizeof num - 1;
            memcpy(num, lit->text, n);
            num[n] = '\0';
            double d = strtod(num, NULL);
            if (!(d <= DBL_MAX && d >= -DBL_MAX))
                return corm__perr(v->c, lit->pos, "write a smaller number",
                                  "scope value %s is out of range", lit->shown);
            sc[k].kind = CORM_SCOPE_FLOAT;
            sc[k].fval = lit->neg ? -d : d;
            break;
        }
        case CORM__LIT_TRUE:
        case CORM__LIT_FALSE:
            sc[k].kind = CORM_SCOPE_BOOL;
            sc[k].ival = lit->kind == CORM__LIT_TRUE;
            break;
        default:
            sc[k].kind = CORM_SCOPE_TEXT;
            if (!(sc[k].sval = corm__arena_strndup(v->c->arena, lit->str, lit->len)))
                return corm__pnomem(v->c);
            break;
        }
    }
    *out = sc;
    *nout = am->nscopes;
    return CORM_OK;
}

/* ------------------------------------------------- global namespaces */

typedef struct gname {
    const char *name;
    corm__pos pos;
    const char *what; /* "table of model Book", "accessor of Book.author" */
} gname;

static int gname_cmp(const void *a, const void *b)
{
    const gname *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return pos_before(x->pos, y->pos) ? -1 : pos_before(y->pos, x->pos) ? 1 : 0;
}

typedef struct gset {
    gname *p;
    size_t n, cap;
    bool oom;
    bool fold; /* compare case-insensitively (SQL names) */
} gset;

static void gadd(gset *g, vctx *v, const char *name, corm__pos pos, const char *what)
{
    if (g->oom) return;
    if (!name || !what) {
        g->oom = true;
        return;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        gname *p = corm__realloc(g->p, cap * sizeof *p);
        if (!p) {
            g->oom = true;
            return;
        }
        g->p = p;
        g->cap = cap;
    }
    if (g->fold) {
        name = corm__lower(v->c->arena, name);
        if (!name) {
            g->oom = true;
            return;
        }
    }
    g->p[g->n++] = (gname){name, pos, what};
}

/* The duplicate whose later declaration comes first in the text. */
static const gname *gfirst_dup(gset *g, const gname **first)
{
    qsort(g->p, g->n, sizeof *g->p, gname_cmp);
    const gname *best = NULL;
    for (size_t i = 1; i < g->n; i++)
        if (strcmp(g->p[i].name, g->p[i - 1].name) == 0) {
            /* within a run, entry i-1 is earlier than i; report i against
            ** the run's first entry */
            size_t s = i - 1;
            while (s > 0 && strcmp(g->p[s - 1].name, g->p[i].name) == 0) s--;
            if (!best || pos_before(g->p[i].pos, best->pos)) {
                best = &g->p[i];
                *first = &g->p[s];
            }
        }
    return best;
}

static const char *whatf(vctx *v, const char *fmt, const char *a, const char *b)
{
    char buf[300];
    snprintf(buf, sizeof buf, fmt, a, b);
    return corm__arena_strdup(v->c->arena, buf);
}

/* Tables, join tables and indexes share the SQL namespace. */
static corm_rc check_sql_names(vctx *v)
{
    gset g = {0};
    g.fold = true;
    for (int i = 0; i < v->ast->nmodels; i++) {
        mstate *ms = &v->ms[i];
        gadd(&g, v, ms->table, ms->table_pos,
             whatf(v, "the table of model %s%s", ms->am->name, ""));
        for (int r = 0; r < ms->nfwd; r++)
            if (ms->rels[r].kind == CORM_REL_M2M)
                gadd(&g, v, ms->rels[r].through, ms->rel_pos[r],
                     whatf(v, "the join table of %s%s", ms->rel_from[r], ""));
        int nauto = ms->nindexes - ms->am->nindexes;
        for (int k = 0; k < ms->nindexes; k++) {
            corm__pos at;
            const char *what;
            if (k < nauto) {
                const char *fname = ms->indexes[k].fields[0];
                at = ms->am->pos;
                for (int j = 0; j < ms->am->nfields; j++)
                    if (strcmp(ms->am->fields[j].name, fname) == 0) at = ms->am->fields[j].pos;
                what = whatf(v, "the db_index index of field %s.%s", ms->am->name, fname);
            } else {
                const corm__ast_index *ai = &ms->am->indexes[k - nauto];
                at = ai->name ? ai->name_pos : ai->pos;
                what = whatf(v, "an index of model %s%s", ms->am->name, "");
            }
            gadd(&g, v, ms->indexes[k].name, at, what);
        }
    }
    corm_rc rc = CORM_OK;
    const gname *first = NULL, *dup = g.oom ? NULL : gfirst_dup(&g, &first);
    if (g.oom) rc = corm__pnomem(v->c);
    else if (dup)
        rc = corm__perr(v->c, dup->pos,
                        "tables and indexes share one namespace: use table \"other\" or name the "
                        "index: index other_name (...)",
                        "name '%s' of %s is already used by %s (line %d)", dup->name, dup->what,
                        first->what, first->pos.line);
    corm__free(g.p);
    return rc;
}

static char *upper_dup(vctx *v, const char *s)
{
    char *u = corm__arena_strdup(v->c->arena, s);
    if (!u) return NULL;
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    return u;
}

static bool to_many(corm_rkind k)
{
    return k == CORM_REL_REVERSE_FK || k == CORM_REL_M2M || k == CORM_REL_REVERSE_M2M;
}

/* Every ordinary identifier the generator emits, checked for clashes and
** C keywords.  Kept in step with src/gen/gen.c. */
static corm_rc check_c_names(vctx *v)
{
    gset g = {0};
    corm__pos top = {1, 1};
    const char *sname = cat(v, v->out->name, "_schema", "");
    gadd(&g, v, sname, top, whatf(v, "the schema %s%s", v->out->name, ""));
    for (int i = 0; i < v->ast->nmodels && !g.oom; i++) {
        mstate *ms = &v->ms[i];
        const char *M = ms->am->name;
        char *P = upper_dup(v, ms->snake);
        if (!P) {
            g.oom = true;
            break;
        }
        gadd(&g, v, M, ms->am->pos, whatf(v, "model %s%s", M, ""));
        gadd(&g, v, cat(v, M, "_model", ""), ms->am->pos, whatf(v, "model %s%s", M, ""));
        for (int f = 0; f < ms->nfields; f++) {
            corm__pos at = ms->am->pos;
            for (int j = 0; j < ms->am->nfields; j++)
                if (ms->fidx[j] == f) at = ms->am->fields[j].pos;
            const char *up = upper_dup(v, ms->fields[f].name);
            gadd(&g, v, up ? cat(v, P, "_F_", up) : NULL, at,
                 whatf(v, "field %s.%s", M, ms->fields[f].name));
        }
        for (int r = 0; r < ms->nfwd + ms->nrev; r++) {
            const corm_relation *rel = &ms->rels[r];
            const char *what = whatf(v, "relation %s.%s", M, rel->name);
            const char *up = upper_dup(v, rel->name);
            const char *acc = cat(v, ms->snake, "_", rel->name);
            corm__pos at = ms->rel_pos[r];
            gadd(&g, v, up ? cat(v, P, "_REL_", up) : NULL, at, what);
            gadd(&g, v, acc, at, what);
            gadd(&g, v, acc ? cat(v, acc, "_at", "") : NULL, at, what);
            if (to_many(rel->kind)) {
                gadd(&g, v, acc ? cat(v, acc, "_qs", "") : NULL, at, what);
                gadd(&g, v, acc ? cat(v, acc, "_qs_at", "") : NULL, at, what);
            }
        }
    }
    corm_rc rc = CORM_OK;
    for (size_t k = 0; k < g.n && !g.oom; k++)
        if (corm__c_reserved(g.p[k].name)) {
            rc = corm__perr(v->c, g.p[k].pos, "rename it (or set related_name=)",
                            "%s generates the C name '%s', which is reserved in C", g.p[k].what,
                            g.p[k].name);
            break;
        }
    const gname *first = NULL, *dup = NULL;
    if (!rc && !g.oom) dup = gfirst_dup(&g, &first);
    if (g.oom) rc = corm__pnomem(v->c);
    else if (!rc && dup)
        rc = corm__perr(v->c, dup->pos, "rename one of them (or set related_name=)",
                        "%s generates the C name '%s', as does %s (line %d)", dup->what, dup->name,
                        first->what, first->pos.line);
    corm__free(g.p);
    return rc;
}

/* ---------------------------------------------------------------- all */

/* `renamed_from` hints -> out->renames: "Old:New", then "Model.old:new". */
static corm_rc build_renames(vctx *v)
{
    const corm__ast *ast = v->ast;
    int n = 0;
    for (int i = 0; i < ast->nmodels; i++) {
        const corm__ast_model *am = &ast->models[i];
        if (am->renamed_from) n++;
        for (int j = 0; j < am->nfields; j++) n += am->fields[j].renamed_from != NULL;
    }
    if (!n) return CORM_OK;
    const char **r = zalloc(v, (size_t)n, sizeof *r);
    if (!r) return corm__pnomem(v->c);
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < ast->nmodels; i++) {
            const corm__ast_model *am = &ast->models[i];
            for (int j = pass ? 0 : -1; j < (pass ? am->nfields : 0); j++) {
                const char *from = j < 0 ? am->renamed_from : am->fields[j].renamed_from;
                const char *to = j < 0 ? am->name : am->fields[j].name;
                if (!from) continue;
                if (strcmp(from, to) == 0)
                    return corm__perr(v->c,
                                      j < 0 ? am->renamed_from_pos : am->fields[j].renamed_from_pos,
                                      "drop renamed_from, or name the old name",
                                      "'%s' is renamed_from itself", to);
                r[k] = j < 0 ? cat(v, from, ":", to) : cat(v, am->name, ".", from);
                if (!r[k] || (j >= 0 && !(r[k] = cat(v, r[k], ":", to)))) return corm__pnomem(v->c);
                k++;
            }
        }
    v->out->renames = r;
    v->out->nrenames = k;
    return CORM_OK;
}

/* `default select_related(...) prefetch_related(...)` -> the model's
** default eager loads.  Each path walks relations of the schema (the
** models are built); a select_related path only to-one relations, as
** corm_select_related would require at every query. */
static corm_rc build_default_eager(vctx *v, int i, corm_model *m)
{
    const corm__ast_model *am = &v->ast->models[i];
    if (!am->neager) return CORM_OK;
    if (am->neager > CORM_MAX_DEFAULT_EAGER)
        return corm__perr(v->c, am->eager[CORM_MAX_DEFAULT_EAGER].pos,
                          "keep the defaults small; ask for the rest per queryset",
                          "model '%s' has more than %d default eager loads", am->name,
                          CORM_MAX_DEFAULT_EAGER);
    const char **sel = zalloc(v, (size_t)am->neager, sizeof *sel);
    const char **pre = zalloc(v, (size_t)am->neager, sizeof *pre);
    if (!sel || !pre) return corm__pnomem(v->c);
    for (int k = 0; k < am->neager; k++) {
        const corm__ast_eager *e = &am->eager[k];
        const char *what = e->prefetch ? "prefetch_related" : "select_related";
        const char **list = e->prefetch ? pre : sel;
        int n = e->prefetch ? m->ndefault_prefetch : m->ndefault_related;
        for (int j = 0; j < n; j++)
            if (!strcmp(list[j], e->path))
                return corm__perr(v->c, e->pos, "name each path once",
                                  "default %s(%s) of model '%s' is given twice", what, e->path,
                                  am->name);
        const corm_model *cur = m;
        for (const char *seg = e->path;;) {
            const char *sep = strstr(seg, "__");
            size_t len = sep ? (size_t)(sep - seg) : strlen(seg);
            const corm_relation *r = len ? corm__model_rel(cur, seg, len) : NULL;
            if (!r) {
                char h[400];
                size_t at = (size_t)snprintf(h, sizeof h, "%s has: ", cur->name);
                for (int j = 0; j < cur->nrels && at < sizeof h; j++)
                    at += (size_t)snprintf(h + at, sizeof h - at, j ? ", %s" : "%s",
                                           cur->rels[j].name);
                if (!cur->nrels) snprintf(h, sizeof h, "%s has no relations", cur->name);
                return corm__perr(v->c, e->pos, h,
                                  "default %s(%s) of model '%s': %s has no relation '%.*s'", what,
                                  e->path, am->name, cur->name, (int)len, seg);
            }
            if (!e->prefetch && r->kind != CORM_REL_FK && r->kind != CORM_REL_O2O &&
                r->kind != CORM_REL_REVERSE_O2O)
                return corm__perr(v->c, e->pos,
                                  "put reverse foreign keys and many-to-many in "
                                  "prefetch_related(...)",
                                  "default select_related(%s) of model '%s': %s.%.*s is a "
                                  "to-many relation",
                                  e->path, am->name, cur->name, (int)len, seg);
            cur = corm__rel_target(cur, r);
            if (!sep) break;
            seg = sep + 2;
        }
        list[n] = e->path;
        if (e->prefetch) m->ndefault_prefetch++;
        else m->ndefault_related++;
    }
    m->default_related = m->ndefault_related ? sel : NULL;
    m->default_prefetch = m->ndefault_prefetch ? pre : NULL;
    return CORM_OK;
}

corm_rc corm__build_schema(corm__pctx *c, const corm__ast *ast, corm_schema *out)
{
    corm_rc rc;
    vctx v = {c, ast, out, NULL};
    v.ms = zalloc(&v, (size_t)ast->nmodels, sizeof *v.ms);
    if (!v.ms) return corm__pnomem(c);
    if ((rc = check_models(&v))) return rc;
    if ((rc = build_fields(&v))) return rc;
    if ((rc = build_relations(&v))) return rc;
    if ((rc = check_member_clashes(&v))) return rc;
    if ((rc = build_indexes(&v))) return rc;

    corm_model *models = zalloc(&v, (size_t)ast->nmodels, sizeof *models);
    const corm_model **ptrs = zalloc(&v, (size_t)ast->nmodels, sizeof *ptrs);
    if (!models || !ptrs) return corm__pnomem(c);
    int nm2m = 0;
    for (int i = 0; i < ast->nmodels; i++) {
        mstate *ms = &v.ms[i];
        corm_model *m = &models[i];
        const char **ord;
        if ((rc = build_ordering(&v, i, &ord))) return rc;
        if ((rc = build_scopes(&v, i, &m->scopes, &m->nscopes))) return rc;
        m->name = ms->am->name;
        m->table = ms->table;
        m->schema = out;
        m->index = i;
        m->fields = ms->fields;
        m->nfields = ms->nfields;
        m->nrels = ms->nfwd + ms->nrev;
        m->rels = m->nrels ? ms->rels : NULL;
        m->ordering = ord;
        m->nordering = ms->am->nordering;
        m->indexes = ms->nindexes ? ms->indexes : NULL;
        m->nindexes = ms->nindexes;
        ptrs[i] = m;
        for (int r = 0; r < ms->nfwd; r++) nm2m += ms->rels[r].kind == CORM_REL_M2M;
    }
    const char **m2m = zalloc(&v, (size_t)nm2m, sizeof *m2m);
    if (!m2m) return corm__pnomem(c);
    nm2m = 0;
    for (int i = 0; i < ast->nmodels; i++)
        for (int r = 0; r < v.ms[i].nfwd; r++)
            if (v.ms[i].rels[r].kind == CORM_REL_M2M) m2m[nm2m++] = v.ms[i].rels[r].through;
    out->models = ptrs;
    out->nmodels = ast->nmodels;
    out->m2m_tables = nm2m ? m2m : NULL;
    out->nm2m = nm2m;
    for (int i = 0; i < ast->nmodels; i++)
        if ((rc = build_default_eager(&v, i, &models[i]))) return rc;
    if ((rc = check_sql_names(&v))) return rc;
    if ((rc = check_c_names(&v))) return rc;
    return build_renames(&v);
}
