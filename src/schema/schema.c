/*
** schema.c - the public face of the schema layer: corm_schema_parse(_file),
** corm_schema_free, corm_schema_model, and the descriptor lookups other
** layers use (corm__model_field, corm__model_rel, ...).
**
** A parsed schema is one allocation holding the corm_schema (first, so the
** public pointer is the allocation) and the arena everything else lives in:
** freeing it is one arena walk.  Generated schemas are static and must
** never reach corm_schema_free.
*/
#include "parse_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct schema_impl {
    corm_schema pub; /* first: &impl->pub == impl */
    corm_arena arena;
    corm__schema_src src;
} schema_impl;

/* ---------------------------------------------------------- helpers */

corm_rc corm__perr(corm__pctx *c, corm__pos pos, const char *hint, const char *fmt, ...)
{
    corm_error *e = c->err;
    e->rc = CORM_SCHEMA;
    e->hint[0] = e->sql[0] = e->sqlstate[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    if (hint) corm__strlcpy(e->hint, hint, sizeof e->hint);
    corm__strlcpy(e->file, c->path, sizeof e->file);
    e->line = pos.line > 0 ? pos.line : 1;
    e->col = pos.col > 0 ? pos.col : 1;
    return CORM_SCHEMA;
}

corm_rc corm__pnomem(corm__pctx *c)
{
    corm__err_set(c->err, CORM_NOMEM, "out of memory while reading the schema");
    corm__strlcpy(c->err->file, c->path, sizeof c->err->file);
    return CORM_NOMEM;
}

/* "dir/book-store.corm" -> "book_store": a C identifier for the generated
** names (book_store_schema, book_store.h).  "-" or NULL -> "schema". */
static char *schema_name(corm_arena *a, const char *path)
{
    if (!path || !*path || strcmp(path, "-") == 0) return corm__arena_strdup(a, "schema");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) n = (size_t)(dot - base);
    if (n > CORM__IDENT_MAX) n = CORM__IDENT_MAX;
    if (n == 0) return corm__arena_strdup(a, "schema");
    bool digit = base[0] >= '0' && base[0] <= '9';
    char *out = corm__arena_alloc(a, n + 3);
    if (!out) return NULL;
    size_t k = 0;
    if (digit) {
        out[k++] = 's';
        out[k++] = '_';
    }
    for (size_t i = 0; i < n; i++) {
        char c = base[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
    return out;
}

/* ------------------------------------------------------------ public */

corm_schema *corm_schema_parse(const char *text, size_t len, const char *path, corm_error *err)
{
    corm_error local;
    if (!err) err = &local;
    corm__err_clear(err);
    if (!path) path = "-";
    if (!text && len) {
        corm__err_set(err, CORM_MISUSE, "corm_schema_parse: text is NULL");
        return NULL;
    }
    if (!text) text = "";
    schema_impl *s = corm__calloc(1, sizeof *s);
    if (!s) {
        corm__err_set(err, CORM_NOMEM, "out of memory while reading the schema");
        return NULL;
    }
    corm__arena_init(&s->arena, 8192);
    corm__pctx c = {&s->arena, err, path};
    corm__ast ast;
    corm_rc rc = CORM_OK;
    if (len > CORM__TEXT_MAX) {
        rc = corm__perr(&c, (corm__pos){1, 1}, "split it or trim it: schemas are small",
                        "the schema is larger than %u MiB", CORM__TEXT_MAX >> 20);
    }
    if (!rc) rc = corm__parse_ast(&c, text, len, &ast);
    if (!rc) {
        s->src.path = corm__arena_strdup(&s->arena, path);
        s->pub.name = schema_name(&s->arena, path);
        s->pub.hash = corm__hash_str(text, len);
        if (!s->src.path || !s->pub.name) rc = corm__pnomem(&c);
    }
    if (!rc && (strcmp(s->pub.name, "corm") == 0 || strncmp(s->pub.name, "corm_", 5) == 0 ||
                corm__c_reserved(s->pub.name))) {
        rc = corm__perr(&c, (corm__pos){1, 1}, "rename the file: its name names the generated code",
                        "schema name '%s' (from the file name) is reserved", s->pub.name);
    }
    if (!rc) rc = corm__build_schema(&c, &ast, &s->pub);
    if (rc) {
        corm__arena_free(&s->arena);
        corm__free(s);
        return NULL;
    }
    return &s->pub;
}

corm_schema *corm_schema_parse_file(const char *path, corm_error *err)
{
    corm_error local;
    if (!err) err = &local;
    corm__err_clear(err);
    if (!path) {
        corm__err_set(err, CORM_MISUSE, "corm_schema_parse_file: path is NULL");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        corm__err_set(err, CORM_IO, "cannot open schema '%s': %s", path, strerror(errno));
        corm__err_hint(err, "check the path: corm gen path/to/schema.corm");
        corm__strlcpy(err->file, path, sizeof err->file);
        return NULL;
    }
    corm_buf b;
    corm__buf_init(&b);
    char chunk[8192];
    size_t n;
    bool big = false;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        corm__buf_add(&b, chunk, n);
        if (b.len > CORM__TEXT_MAX) {
            big = true;
            break;
        }
    }
    int failed = ferror(f);
    int e = errno;
    fclose(f);
    corm_schema *s = NULL;
    if (failed) {
        corm__err_set(err, CORM_IO, "cannot read schema '%s': %s", path, strerror(e));
        corm__strlcpy(err->file, path, sizeof err->file);
    } else if (b.oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory while reading '%s'", path);
        corm__strlcpy(err->file, path, sizeof err->file);
    } else {
        /* An oversized file is cut at the limit + 1: the parser reports it. */
        s = corm_schema_parse(b.p ? b.p : "", big ? CORM__TEXT_MAX + 1 : b.len, path, err);
    }
    corm__buf_free(&b);
    return s;
}

void corm_schema_free(corm_schema *schema)
{
    if (!schema) return;
    schema_impl *s = (schema_impl *)schema;
    corm__arena_free(&s->arena);
    corm__free(s);
}

const corm_model *corm_schema_model(const corm_schema *schema, const char *name)
{
    if (!schema || !name) return NULL;
    for (int i = 0; i < schema->nmodels; i++)
        if (strcmp(schema->models[i]->name, name) == 0) return schema->models[i];
    return NULL;
}

/* -------------------------------------------------------- descriptors */

static bool name_is(const char *s, const char *name, size_t len)
{
    return s && strncmp(s, name, len) == 0 && s[len] == '\0';
}

const corm_field *corm__model_field(const corm_model *m, const char *name, size_t len)
{
    if (!m || !name) return NULL;
    for (int i = 0; i < m->nfields; i++)
        if (name_is(m->fields[i].name, name, len)) return &m->fields[i];
    if (name_is("pk", name, len)) {
        for (int i = 0; i < m->nfields; i++)
            if (m->fields[i].flags & CORM_FF_PK) return &m->fields[i];
        return NULL;
    }
    for (int i = 0; i < m->nfields; i++)
        if ((m->fields[i].type == CORM_FT_FK || m->fields[i].type == CORM_FT_O2O) &&
            name_is(m->fields[i].column, name, len))
            return &m->fields[i];
    return NULL;
}

const corm_relation *corm__model_rel(const corm_model *m, const char *name, size_t len)
{
    if (!m || !name) return NULL;
    for (int i = 0; i < m->nrels; i++)
        if (name_is(m->rels[i].name, name, len)) return &m->rels[i];
    return NULL;
}

const corm_model *corm__rel_target(const corm_model *m, const corm_relation *r)
{
    if (!m || !r || !m->schema || r->target < 0 || r->target >= m->schema->nmodels) return NULL;
    return m->schema->models[r->target];
}

void corm__model_names(const corm_model *m, corm_buf *out)
{
    if (!m) return;
    bool first = true;
    for (int i = 0; i < m->nfields; i++) {
        corm__buf_addf(out, "%s%s", first ? "" : ", ", m->fields[i].name);
        first = false;
    }
    for (int i = 0; i < m->nrels; i++) {
        const corm_relation *r = &m->rels[i];
        if ((r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O) && r->field >= 0) continue;
        corm__buf_addf(out, "%s%s", first ? "" : ", ", r->name);
        first = false;
    }
}
