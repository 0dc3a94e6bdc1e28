/*
** ddl_text.c - the DDL of the text index kinds (`using trigram`, `using
** search`, docs/migrations.md "Text search indexes"):
**
**   trigram  PostgreSQL: CREATE EXTENSION IF NOT EXISTS pg_trgm, then
**            CREATE INDEX "n" ON "t" USING gin ("col" gin_trgm_ops), which
**            LIKE and ILIKE (contains, icontains, iexact...) use.
**            SQLite: nothing (its LIKE uses no index for a leading %).
**   search   PostgreSQL: CREATE INDEX "n" ON "t" USING gin
**            (to_tsvector('simple', "col")), the expression the `search`
**            lookup compiles to.  SQLite: an FTS5 table "n" on the column
**            with the model's table as external content, three triggers
**            "n_ai" / "n_ad" / "n_au" keeping it in sync, and a 'rebuild'
**            that indexes the rows already there.
** A SQLite search table outlives DROP TABLE of its model's table, so every
** DROP TABLE of a model (drop_model, a rebuild) drops it first; a rebuild
** creates it again with the other indexes.
*/
#include "migrate_int.h"

#include <string.h>

static bool sqlite(const corm__dialect *d) { return strcmp(d->vendor, "sqlite") == 0; }

static corm_rc push(corm__ddl *out, corm_buf *b, corm_error *err)
{
    corm__ddl_push(out, b);
    corm__buf_reset(b);
    if (!out->oom) return CORM_OK;
    corm__err_set(err, CORM_NOMEM, "out of memory writing DDL");
    return CORM_NOMEM;
}

static const char *column_of(const corm_model *m, const corm_index *ix)
{
    for (int i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].name, ix->fields[0]) == 0) return m->fields[i].column;
    return NULL;
}

/* "n_ai" etc.: the trigger names of a search table. */
static void trigger(corm_buf *b, const corm_index *ix, const char *suffix)
{
    corm_buf n;
    corm__buf_init(&n);
    corm__buf_addf(&n, "%s_%s", ix->name, suffix);
    corm__sql_ident(b, corm__buf_cstr(&n));
    if (n.oom) b->oom = true;
    corm__buf_free(&n);
}

/* INSERT INTO "n" ("n", rowid, "col") VALUES ('delete', old."id", old."col")
** (del) or INSERT INTO "n" (rowid, "col") VALUES (new."id", new."col"). */
static void fts_row(corm_buf *b, const corm_index *ix, const char *pk, const char *col, bool del)
{
    corm__buf_adds(b, "INSERT INTO ");
    corm__sql_ident(b, ix->name);
    corm__buf_adds(b, " (");
    if (del) {
        corm__sql_ident(b, ix->name);
        corm__buf_adds(b, ", ");
    }
    corm__buf_adds(b, "rowid, ");
    corm__sql_ident(b, col);
    corm__buf_adds(b, del ? ") VALUES ('delete', old." : ") VALUES (new.");
    corm__sql_ident(b, pk);
    corm__buf_adds(b, del ? ", old." : ", new.");
    corm__sql_ident(b, col);
    corm__buf_adds(b, "); ");
}

/* 'name' with quotes doubled: FTS5 options take a string. */
void corm__ddl_quoted(corm_buf *b, const char *s)
{
    corm__buf_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') corm__buf_addc(b, '\'');
        corm__buf_addc(b, *s);
    }
    corm__buf_addc(b, '\'');
}

static corm_rc sqlite_search(const corm_model *m, const corm_index *ix, const char *col,
                             corm__ddl *out, corm_error *err)
{
    const char *pk = m->fields[0].column;
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, "CREATE VIRTUAL TABLE ");
    corm__sql_ident(&b, ix->name);
    corm__buf_adds(&b, " USING fts5(");
    corm__sql_ident(&b, col);
    corm__buf_adds(&b, ", content=");
    corm__ddl_quoted(&b, m->table);
    corm__buf_adds(&b, ", content_rowid=");
    corm__ddl_quoted(&b, pk);
    corm__buf_addc(&b, ')');
    corm_rc rc = push(out, &b, err);
    static const char *const when[] = {"ai",           "AFTER INSERT", "ad",
                                       "AFTER DELETE", "au",           "AFTER UPDATE"};
    for (int k = 0; k < 3 && rc == CORM_OK; k++) {
        corm__buf_adds(&b, "CREATE TRIGGER ");
        trigger(&b, ix, when[2 * k]);
        corm__buf_addf(&b, " %s ON ", when[2 * k + 1]);
        corm__sql_ident(&b, m->table);
        corm__buf_adds(&b, " BEGIN ");
        if (k != 0) fts_row(&b, ix, pk, col, true);
        if (k != 1) fts_row(&b, ix, pk, col, false);
        corm__buf_adds(&b, "END");
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK) {
        corm__buf_adds(&b, "INSERT INTO ");
        corm__sql_ident(&b, ix->name);
        corm__buf_adds(&b, " (");
        corm__sql_ident(&b, ix->name);
        corm__buf_adds(&b, ") VALUES ('rebuild')");
        rc = push(out, &b, err);
    }
    corm__buf_free(&b);
    return rc;
}

corm_rc corm__ddl_text_index(const corm__dialect *d, const corm_model *m, const corm_index *ix,
                             corm__ddl *out, corm_error *err)
{
    const char *col = ix->nfields == 1 ? column_of(m, ix) : NULL;
    if (!col) {
        corm__err_set(err, CORM_SCHEMA, "index '%s' of %s: a %s index takes one field", ix->name,
                      m->name, ix->kind == CORM_INDEX_TRIGRAM ? "trigram" : "search");
        return CORM_SCHEMA;
    }
    if (sqlite(d))
        return ix->kind == CORM_INDEX_SEARCH ? sqlite_search(m, ix, col, out, err) : CORM_OK;
    corm_buf b;
    corm__buf_init(&b);
    corm_rc rc = CORM_OK;
    if (ix->kind == CORM_INDEX_TRIGRAM) {
        corm__buf_adds(&b, "CREATE EXTENSION IF NOT EXISTS pg_trgm");
        rc = push(out, &b, err);
    }
    corm__buf_adds(&b, "CREATE INDEX ");
    corm__sql_ident(&b, ix->name);
    corm__buf_adds(&b, " ON ");
    corm__sql_ident(&b, m->table);
    if (ix->kind == CORM_INDEX_TRIGRAM) {
        corm__buf_adds(&b, " USING gin (");
        corm__sql_ident(&b, col);
        corm__buf_adds(&b, " gin_trgm_ops)");
    } else {
        corm__buf_adds(&b, " USING gin (to_tsvector('" CORM__SEARCH_CONFIG "', ");
        corm__sql_ident(&b, col);
        corm__buf_adds(&b, "))");
    }
    if (rc == CORM_OK) rc = push(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

static corm_rc drop_search_table(const corm_index *ix, corm__ddl *out, corm_error *err)
{
    static const char *const sfx[] = {"ai", "ad", "au"};
    corm_buf b;
    corm__buf_init(&b);
    corm_rc rc = CORM_OK;
    for (int k = 0; k < 3 && rc == CORM_OK; k++) {
        corm__buf_adds(&b, "DROP TRIGGER IF EXISTS ");
        trigger(&b, ix, sfx[k]);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK) {
        corm__buf_adds(&b, "DROP TABLE ");
        corm__sql_ident(&b, ix->name);
        rc = push(out, &b, err);
    }
    corm__buf_free(&b);
    return rc;
}

corm_rc corm__ddl_drop_text_index(const corm__dialect *d, const corm_index *ix, bool concurrently,
                                  corm__ddl *out, corm_error *err)
{
    if (sqlite(d)) return ix->kind == CORM_INDEX_SEARCH ? drop_search_table(ix, out, err) : CORM_OK;
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, concurrently ? "DROP INDEX CONCURRENTLY " : "DROP INDEX ");
    corm__sql_ident(&b, ix->name);
    corm_rc rc = push(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

corm_rc corm__ddl_drop_search_tables(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                                     corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int i = 0; i < m->nindexes && rc == CORM_OK && sqlite(d); i++)
        if (m->indexes[i].kind == CORM_INDEX_SEARCH)
            rc = drop_search_table(&m->indexes[i], out, err);
    return rc;
}
