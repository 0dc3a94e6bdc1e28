/*
** search.c - the `search` lookup (Django's full-text `search`):
** corm_filter(qs, "title__search", corm_text("quick fox")) keeps the rows
** whose field holds every word, case-insensitively, with no stemming.  It
** needs the field's search index (`index (title) using search`, created by
** migrations: ddl_text.c), whose form the SQL must match:
**   PostgreSQL  to_tsvector('simple', "t0"."title") @@ plainto_tsquery('simple', $1)
**               (the expression of the GIN index)
**   SQLite      "t0"."id" IN (SELECT rowid FROM "post_title_search"
**               WHERE "post_title_search" MATCH ?), the words each quoted
**               ("quick" "fox": all of them, FTS5 syntax never interpreted;
**               no words: "", which matches nothing)
** Without the index it is an error on both backends, naming the schema line.
*/
#include "compile_int.h"

#include <string.h>

static const corm_index *search_index(const corm_model *m, const corm_field *f)
{
    for (int i = 0; i < m->nindexes; i++)
        if (m->indexes[i].kind == CORM_INDEX_SEARCH && m->indexes[i].nfields == 1 &&
            strcmp(m->indexes[i].fields[0], f->name) == 0)
            return &m->indexes[i];
    return NULL;
}

/* "quick fox" -> "\"quick\" \"fox\"": FTS5 strings, implicitly ANDed. */
static bool fts_words(corm_buf *b, const char *s, size_t n)
{
    bool any = false;
    for (size_t i = 0; i < n;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        if (i == n) break;
        if (any) corm__buf_addc(b, ' ');
        corm__buf_addc(b, '"');
        for (; i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r'; i++) {
            if (s[i] == '"') corm__buf_addc(b, '"');
            corm__buf_addc(b, s[i]);
        }
        corm__buf_addc(b, '"');
        any = true;
    }
    return any;
}

corm_rc corm__sql_search(corm__sqlctx *c, corm_buf *w, const char *col_sql, const corm_model *m,
                         const corm_field *f, const corm_value *v, const char *path)
{
    if (v->type != CORM_V_TEXT) {
        corm__err_set(c->err, CORM_INVALID, "'%s': search takes the words as corm_text()", path);
        corm__err_hint(c->err, "corm_filter(qs, \"%s\", corm_text(\"quick fox\"))", path);
        return CORM_INVALID;
    }
    const corm_index *ix = search_index(m, f);
    if (!ix) {
        corm__err_set(c->err, CORM_INVALID, "'%s': %s.%s has no search index", path, m->name,
                      f->name);
        corm__err_hint(c->err,
                       "add `index (%s) using search` to model %s in the schema, then corm "
                       "makemigrations and corm migrate",
                       f->name, m->name);
        return CORM_INVALID;
    }
    const char *s = v->u.s.p ? v->u.s.p : "";
    size_t n = v->u.s.n ? v->u.s.n : strlen(s);
    if (strcmp(c->d->vendor, "sqlite") != 0) {
        corm__buf_addf(w,
                       "to_tsvector('" CORM__SEARCH_CONFIG
                       "', %s) @@ plainto_tsquery('" CORM__SEARCH_CONFIG "', ",
                       col_sql);
        corm_rc rc = corm__sql_bind(c, w, corm_text(s));
        corm__buf_addc(w, ')');
        return rc;
    }
    corm_buf q;
    corm__buf_init(&q);
    /* no words: the empty phrase "", which matches nothing (as an empty
    ** plainto_tsquery); the SQL text never depends on the value */
    if (!fts_words(&q, s, n)) corm__buf_adds(&q, "\"\"");
    char *words = q.oom ? NULL : corm__arena_strndup(&c->out->arena, q.p, q.len);
    corm__buf_free(&q);
    if (!words) return corm__sql_nomem(c);
    const char *dot = strchr(col_sql, '.');
    corm__buf_add(w, col_sql, dot ? (size_t)(dot - col_sql) + 1 : 0);
    corm__sql_ident(w, m->fields[0].column);
    corm__buf_adds(w, " IN (SELECT rowid FROM ");
    corm__sql_ident(w, ix->name);
    corm__buf_adds(w, " WHERE ");
    corm__sql_ident(w, ix->name);
    corm__buf_adds(w, " MATCH ");
    corm_rc rc = corm__sql_bind(c, w, corm_text(words));
    corm__buf_addc(w, ')');
    return rc;
}
