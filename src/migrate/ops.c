/*
** ops.c - the SQL of one operation, from the descriptors of the state
** before it and after it (backwards: the inverse operation, `before` being
** the later state).
**
** SQLite cannot alter or drop most columns in place: the table is rebuilt
** as Django does (CREATE TABLE "new__t" with the new columns, INSERT ...
** SELECT the common ones, DROP TABLE "t", ALTER TABLE "new__t" RENAME TO
** "t", the indexes created again); the runner turns foreign keys off
** around the transaction and runs PRAGMA foreign_key_check before COMMIT.
** PostgreSQL uses ALTER TABLE (types change with USING col::type).
**
** Checks that depend on the rows (data loss, NOT NULL without a default,
** a relation pointed at another table) are pseudo-statements in the list:
** "\1" kind ("L" data loss, "N" needs a default, "F" values without a row
** in the new target), the SELECT that finds a row (for "F": the values, the
** runner names them), "\2", the message.  The runner runs them; sqlmigrate
** shows them as comments.
*/
#include "mig_int.h"

#include <stdio.h>
#include <string.h>

static corm_rc nomem(corm_error *err)
{
    corm__err_set(err, CORM_NOMEM, "out of memory writing migration SQL");
    return CORM_NOMEM;
}

static corm_rc push(corm__ddl *out, corm_buf *b, corm_error *err)
{
    corm__ddl_push(out, b);
    corm__buf_reset(b);
    return out->oom ? nomem(err) : CORM_OK;
}

static corm_rc missing(corm_error *err, const char *what, const char *name)
{
    corm__err_set(err, CORM_SCHEMA, "migration state has no %s %s", what, name);
    corm__err_hint(err, "the migration does not fit the ones before it");
    return CORM_SCHEMA;
}

static const corm_field *field_of(const corm_model *m, const char *name)
{
    return corm__model_field(m, name, strlen(name));
}

static const corm_relation *m2m_of(const corm_model *m, const char *name)
{
    const corm_relation *r = corm__model_rel(m, name, strlen(name));
    return r && r->kind == CORM_REL_M2M ? r : NULL;
}

static const corm_index *index_named(const corm_model *m, const char *name)
{
    for (int i = 0; i < m->nindexes; i++)
        if (strcmp(m->indexes[i].name, name) == 0) return &m->indexes[i];
    return NULL;
}

/* The index name of an index line: "[unique ]index NAME (...)". */
static void index_line_name(const char *line, char *out, size_t size)
{
    const char *p = strstr(line, "index ");
    p = p ? p + 6 : line;
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '(' && n + 1 < size) n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void add_check(corm__ddl *out, char kind, const char *select, const char *msg)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_addf(&b, "\1%c%s\2%s", kind, select, msg);
    corm__ddl_push(out, &b);
    corm__buf_free(&b);
}

static void stmt2(corm_buf *b, const char *a, const char *id1, const char *mid, const char *id2)
{
    corm__buf_adds(b, a);
    corm__sql_ident(b, id1);
    if (mid) {
        corm__buf_adds(b, mid);
        if (id2) corm__sql_ident(b, id2);
    }
}

/* ------------------------------------------------------------ SQLite rebuild */

static corm_rc rebuild(const corm__dialect *d, const corm_model *mb, const corm_model *ma,
                       corm__ddl *out, corm_error *err)
{
    corm_buf b, tmp;
    corm__buf_init(&b);
    corm__buf_init(&tmp);
    corm__buf_addf(&tmp, "new__%s", ma->table);
    corm_model copy = *ma;
    copy.table = corm__buf_cstr(&tmp);
    corm_rc rc = corm__ddl_create_table(d, &copy, out, err);
    if (rc == CORM_OK) {
        corm_buf sel;
        corm__buf_init(&sel);
        stmt2(&b, "INSERT INTO ", copy.table, " (", NULL);
        corm__buf_adds(&sel, ") SELECT ");
        int n = 0;
        for (int i = 0; i < ma->nfields; i++) {
            const corm_field *fa = &ma->fields[i];
            const corm_field *fb = field_of(mb, fa->name);
            if (!fb) continue;
            if (n++) {
                corm__buf_adds(&b, ", ");
                corm__buf_adds(&sel, ", ");
            }
            corm__sql_ident(&b, fa->column);
            bool fill =
                (fb->flags & CORM_FF_NULL) && !(fa->flags & CORM_FF_NULL) && fa->default_sql;
            if (fill) corm__buf_adds(&sel, "COALESCE(");
            corm__sql_ident(&sel, fb->column);
            if (fill) corm__buf_addf(&sel, ", %s)", fa->default_sql);
        }
        corm__buf_adds(&sel, " FROM ");
        corm__sql_ident(&sel, mb->table);
        corm__buf_add(&b, sel.p, sel.len);
        if (sel.oom) b.oom = true;
        corm__buf_free(&sel);
        rc = push(out, &b, err);
    }
    /* AUTOINCREMENT never gives an id twice: the new table goes on from
    ** the old one's counter, not from its largest id still there */
    if (rc == CORM_OK) {
        corm__buf_adds(&b, "DELETE FROM sqlite_sequence WHERE name = ");
        corm__ddl_quoted(&b, copy.table);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK) {
        corm__buf_adds(&b, "INSERT INTO sqlite_sequence (name, seq) SELECT ");
        corm__ddl_quoted(&b, copy.table);
        corm__buf_adds(&b, ", seq FROM sqlite_sequence WHERE name = ");
        corm__ddl_quoted(&b, mb->table);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK) rc = corm__ddl_drop_search_tables(d, mb, out, err);
    if (rc == CORM_OK) {
        stmt2(&b, "DROP TABLE ", mb->table, NULL, NULL);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK) {
        stmt2(&b, "ALTER TABLE ", copy.table, " RENAME TO ", ma->table);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK) rc = corm__ddl_create_indexes(d, ma, out, err);
    corm__buf_free(&b);
    corm__buf_free(&tmp);
    return rc;
}

static bool is_sqlite(const corm__dialect *d) { return strcmp(d->vendor, "sqlite") == 0; }

/* ------------------------------------------------------------ operations */

static corm_rc create_model(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                            corm_error *err)
{
    corm_rc rc = corm__ddl_create_table(d, m, out, err);
    if (rc == CORM_OK) rc = corm__ddl_foreign_keys(d, m, out, err);
    if (rc == CORM_OK) rc = corm__ddl_create_indexes(d, m, out, err);
    for (int i = 0; i < m->nrels && rc == CORM_OK; i++)
        if (m->rels[i].kind == CORM_REL_M2M) {
            rc = corm__ddl_m2m_table(d, m, &m->rels[i], out, err);
            if (rc == CORM_OK) rc = corm__ddl_m2m_indexes(d, m, &m->rels[i], out, err);
        }
    return rc;
}

static corm_rc drop_model(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                          corm_error *err)
{
    corm_buf b, q;
    corm__buf_init(&b);
    corm__buf_init(&q);
    stmt2(&q, "SELECT 1 FROM ", m->table, NULL, NULL);
    corm__buf_adds(&q, " LIMIT 1");
    corm__buf_addf(&b, "deleting model %s would drop table \"%s\", which holds rows", m->name,
                   m->table);
    add_check(out, 'L', corm__buf_cstr(&q), corm__buf_cstr(&b));
    corm__buf_reset(&b);
    corm_rc rc = out->oom ? nomem(err) : CORM_OK;
    for (int i = 0; i < m->nrels && rc == CORM_OK; i++)
        if (m->rels[i].kind == CORM_REL_M2M) {
            stmt2(&b, "DROP TABLE ", m->rels[i].through, NULL, NULL);
            rc = push(out, &b, err);
        }
    if (rc == CORM_OK) rc = corm__ddl_drop_search_tables(d, m, out, err);
    if (rc == CORM_OK) {
        stmt2(&b, "DROP TABLE ", m->table, NULL, NULL);
        rc = push(out, &b, err);
    }
    corm__buf_free(&b);
    corm__buf_free(&q);
    return rc;
}

static corm_rc add_field(const corm__dialect *d, const corm_model *mb, const corm_model *ma,
                         const char *name, corm__ddl *out, corm_error *err)
{
    const corm_relation *r = m2m_of(ma, name);
    if (r) {
        corm_rc rc = corm__ddl_m2m_table(d, ma, r, out, err);
        return rc == CORM_OK ? corm__ddl_m2m_indexes(d, ma, r, out, err) : rc;
    }
    const corm_field *f = field_of(ma, name);
    if (!f) return missing(err, "field", name);
    bool nullable = (f->flags & CORM_FF_NULL) != 0;
    if (!nullable && !f->default_sql) {
        corm_buf q, msg;
        corm__buf_init(&q);
        corm__buf_init(&msg);
        stmt2(&q, "SELECT 1 FROM ", mb->table, NULL, NULL);
        corm__buf_adds(&q, " LIMIT 1");
        corm__buf_addf(&msg,
                       "cannot add NOT NULL field %s.%s without a default: table \"%s\" has "
                       "rows",
                       ma->name, f->name, mb->table);
        add_check(out, 'N', corm__buf_cstr(&q), corm__buf_cstr(&msg));
        corm__buf_free(&q);
        corm__buf_free(&msg);
    }
    bool unique = (f->flags & CORM_FF_UNIQUE) || f->type == CORM_FT_O2O;
    bool rel = f->type == CORM_FT_FK || f->type == CORM_FT_O2O;
    bool volatile_default = f->default_sql && strncmp(f->default_sql, "CURRENT_", 8) == 0;
    if (is_sqlite(d) &&
        (unique || (rel && !nullable) || volatile_default || (!nullable && !f->default_sql)))
        return rebuild(d, mb, ma, out, err);
    corm_buf b;
    corm__buf_init(&b);
    stmt2(&b, "ALTER TABLE ", ma->table, " ADD COLUMN ", NULL);
    corm_rc rc = corm__ddl_column(d, ma, f, &b, err);
    if (rc == CORM_OK) rc = push(out, &b, err);
    corm__buf_free(&b);
    if (rc == CORM_OK) rc = corm__ddl_foreign_key(d, ma, f, out, err);
    if (rc == CORM_OK) rc = corm__ddl_field_index(d, ma, f, out, err);
    return rc;
}

static corm_rc remove_field(const corm__dialect *d, const corm_model *mb, const corm_model *ma,
                            const char *name, corm__ddl *out, corm_error *err)
{
    corm_buf b, q;
    corm__buf_init(&b);
    corm__buf_init(&q);
    corm_rc rc = CORM_OK;
    const corm_relation *r = m2m_of(mb, name);
    const corm_field *f = r ? NULL : field_of(mb, name);
    if (!r && !f) rc = missing(err, "field", name);
    if (rc == CORM_OK) {
        stmt2(&q, "SELECT 1 FROM ", r ? r->through : mb->table, NULL, NULL);
        if (f) stmt2(&q, " WHERE ", f->column, NULL, NULL);
        corm__buf_adds(&q, f ? " IS NOT NULL LIMIT 1" : " LIMIT 1");
        corm__buf_addf(&b, "removing field %s.%s would lose the data it holds", mb->name, name);
        add_check(out, 'L', corm__buf_cstr(&q), corm__buf_cstr(&b));
        corm__buf_reset(&b);
        if (out->oom) rc = nomem(err);
    }
    if (rc == CORM_OK) {
        if (r) {
            stmt2(&b, "DROP TABLE ", r->through, NULL, NULL);
            rc = push(out, &b, err);
        } else if (is_sqlite(d)) {
            rc = rebuild(d, mb, ma, out, err);
        } else {
            stmt2(&b, "ALTER TABLE ", mb->table, " DROP COLUMN ", f->column);
            rc = push(out, &b, err);
        }
    }
    corm__buf_free(&b);
    corm__buf_free(&q);
    return rc;
}

static corm_rc alter_field_pg(const corm__dialect *d, const corm_model *ma, const corm_field *fb,
                              const corm_field *fa, corm__ddl *out, corm_error *err)
{
    corm_buf b;
    corm__buf_init(&b);
    corm_rc rc = CORM_OK;
    const char *t = ma->table, *c = fa->column;
    char b1[64], b2[64];
    const char *tb = d->column_type(fb, b1, sizeof b1), *ta = d->column_type(fa, b2, sizeof b2);
    if (tb && ta && strcmp(tb, ta) != 0) {
        stmt2(&b, "ALTER TABLE ", t, " ALTER COLUMN ", c);
        corm__buf_addf(&b, " TYPE %s USING ", ta);
        corm__sql_ident(&b, c);
        corm__buf_addf(&b, "::%s", ta);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK && (fb->flags & CORM_FF_NULL) && !(fa->flags & CORM_FF_NULL) &&
        fa->default_sql) {
        /* made NOT NULL with a default: the NULLs take it first (SQLite's
        ** rebuild copies them through COALESCE) */
        stmt2(&b, "UPDATE ", t, " SET ", c);
        corm__buf_addf(&b, " = %s WHERE ", fa->default_sql);
        corm__sql_ident(&b, c);
        corm__buf_adds(&b, " IS NULL");
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK && (fb->flags & CORM_FF_NULL) != (fa->flags & CORM_FF_NULL)) {
        stmt2(&b, "ALTER TABLE ", t, " ALTER COLUMN ", c);
        corm__buf_adds(&b, (fa->flags & CORM_FF_NULL) ? " DROP NOT NULL" : " SET NOT NULL");
        rc = push(out, &b, err);
    }
    const char *db = fb->default_sql ? fb->default_sql : "";
    const char *da = fa->default_sql ? fa->default_sql : "";
    if (rc == CORM_OK && strcmp(db, da) != 0) {
        stmt2(&b, "ALTER TABLE ", t, " ALTER COLUMN ", c);
        if (fa->default_sql) corm__buf_addf(&b, " SET DEFAULT %s", fa->default_sql);
        else corm__buf_adds(&b, " DROP DEFAULT");
        rc = push(out, &b, err);
    }
    corm__buf_free(&b);
    return rc;
}

/* A column's UNIQUE on PostgreSQL, under the name PostgreSQL gives it
** ("<table>_<column>_key", pgnames.c): added or dropped. */
static corm_rc unique_pg(const char *t, const char *c, bool add, corm__ddl *out, corm_error *err)
{
    corm_buf b, name;
    corm__buf_init(&b);
    corm__buf_init(&name);
    corm__pg_name(&name, t, c, "key");
    stmt2(&b, "ALTER TABLE ", t, add ? " ADD CONSTRAINT " : " DROP CONSTRAINT ",
          corm__buf_cstr(&name));
    if (add) {
        corm__buf_adds(&b, " UNIQUE (");
        corm__sql_ident(&b, c);
        corm__buf_addc(&b, ')');
    }
    if (name.oom) b.oom = true;
    corm_rc rc = push(out, &b, err);
    corm__buf_free(&name);
    corm__buf_free(&b);
    return rc;
}

static bool pg_unique(const corm_field *f)
{
    return (f->flags & CORM_FF_UNIQUE) || f->type == CORM_FT_O2O;
}

/* The model a fk or one-to-one field points at, else NULL. */
static const corm_model *rel_target(const corm_model *m, const corm_field *f)
{
    if ((f->type != CORM_FT_FK && f->type != CORM_FT_O2O) || f->rel < 0 || f->rel >= m->nrels ||
        !m->schema)
        return NULL;
    int t = m->rels[f->rel].target;
    return t >= 0 && t < m->schema->nmodels ? m->schema->models[t] : NULL;
}

/* A relation pointed at another table (author: fk(Author) -> fk(Writer)),
** or a plain column made a relation (author: integer -> fk(Author)): the
** check that every row's value has a row in the new target (kind "F": the
** runner lists the values that do not), run before the table changes; on
** PostgreSQL the old constraint (if any) is dropped here and the new one
** added after the column's other changes (*readd).  The constraint is the same
** shape as the one CREATE TABLE writes (no ON DELETE: corm applies
** on_delete, as Django does). */
static corm_rc retarget(const corm__dialect *d, const corm_model *mb, const corm_field *fb,
                        const corm_model *ma, const corm_field *fa, bool *readd, corm__ddl *out,
                        corm_error *err)
{
    const corm_model *tb = rel_target(mb, fb), *ta = rel_target(ma, fa);
    *readd = false;
    if (!ta || (tb && strcmp(tb->table, ta->table) == 0 &&
                strcmp(tb->fields[0].column, ta->fields[0].column) == 0))
        return CORM_OK;
    corm_buf q, msg;
    corm__buf_init(&q);
    corm__buf_init(&msg);
    stmt2(&q, "SELECT DISTINCT t.", fb->column, " FROM ", mb->table);
    stmt2(&q, " t WHERE t.", fb->column, " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ", ta->table);
    stmt2(&q, " r WHERE r.", ta->fields[0].column, " = t.", fb->column);
    corm__buf_adds(&q, ") ORDER BY 1 LIMIT 6");
    corm__buf_addf(&msg, tb ? "changing %s.%s to point at %s" : "making %s.%s a foreign key to %s",
                   ma->name, fa->name, ta->name);
    corm__buf_addf(&msg, ": rows of \"%s\" hold %s values with no row in \"%s\"", mb->table,
                   fb->column, ta->table);
    add_check(out, 'F', corm__buf_cstr(&q), corm__buf_cstr(&msg));
    corm_rc rc = out->oom || q.oom || msg.oom ? nomem(err) : CORM_OK;
    corm__buf_free(&q);
    corm__buf_free(&msg);
    if (rc != CORM_OK || !d->fk_after_tables) return rc; /* SQLite: the rebuild writes it */
    *readd = true;
    if (!tb) return CORM_OK;
    corm_buf b;
    corm__buf_init(&b);
    stmt2(&b, "ALTER TABLE ", mb->table, " DROP CONSTRAINT ", NULL);
    corm__ddl_fk_name(&b, mb->table, fb->column);
    rc = push(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

static bool is_rel(const corm_field *f) { return f->type == CORM_FT_FK || f->type == CORM_FT_O2O; }

/* PostgreSQL: an index sorts a nullable column's NULLs as ORDER BY does
** (ddl.c: NULLS FIRST ascending, NULLS LAST descending), so when fa's
** nullability changes, its indexes (its own, kept: field_index; declared
** b-tree indexes naming it) are created again as the schema writes them. */
static corm_rc reindex_nulls(const corm__dialect *d, const corm_model *ma, const corm_field *fa,
                             bool field_index, corm__ddl *out, corm_error *err)
{
    corm_rc rc = CORM_OK;
    corm_buf b, n;
    corm__buf_init(&b);
    corm__buf_init(&n);
    if (field_index) {
        corm__ddl_index_name(&n, ma->table, &fa->column, NULL, 1, false);
        stmt2(&b, "DROP INDEX ", corm__buf_cstr(&n), NULL, NULL);
        rc = push(out, &b, err);
        if (rc == CORM_OK) rc = corm__ddl_field_index(d, ma, fa, out, err);
    }
    for (int i = 0; i < ma->nindexes && rc == CORM_OK; i++) {
        const corm_index *ix = &ma->indexes[i];
        if (ix->kind != CORM_INDEX_BTREE || corm__ddl_index_is_constraint(ix)) continue;
        bool names = false;
        for (int j = 0; j < ix->nfields && !names; j++) {
            const char *f = ix->fields[j] + (ix->fields[j][0] == '-');
            names = strcmp(f, fa->name) == 0;
        }
        if (!names || (field_index && ix->nfields == 1 && !ix->where)) continue;
        stmt2(&b, "DROP INDEX ", ix->name, NULL, NULL);
        rc = push(out, &b, err);
        if (rc == CORM_OK) rc = corm__ddl_index(d, ma, ix, out, err);
    }
    corm__buf_free(&b);
    corm__buf_free(&n);
    return rc;
}

static corm_rc follow_column(const corm__dialect *d, const char *tb, const corm_field *fb,
                             const char *ta, const corm_field *fa, bool index, bool unique, bool fk,
                             corm__ddl *out, corm_error *err);

static corm_rc alter_field(const corm__dialect *d, const corm_model *mb, const corm_model *ma,
                           const char *name, corm__ddl *out, corm_error *err)
{
    const corm_field *fb = field_of(mb, name), *fa = field_of(ma, name);
    if (!fb || !fa) {
        if (m2m_of(mb, name) && m2m_of(ma, name)) return CORM_OK; /* related_name: no SQL */
        return missing(err, "field", name);
    }
    if ((fb->flags & CORM_FF_NULL) && !(fa->flags & CORM_FF_NULL) && !fa->default_sql) {
        corm_buf q, msg;
        corm__buf_init(&q);
        corm__buf_init(&msg);
        stmt2(&q, "SELECT 1 FROM ", mb->table, " WHERE ", fb->column);
        corm__buf_adds(&q, " IS NULL LIMIT 1");
        corm__buf_addf(&msg,
                       "cannot make %s.%s NOT NULL without a default: rows of \"%s\" hold NULL in "
                       "%s",
                       ma->name, fa->name, mb->table, fb->column);
        add_check(out, 'N', corm__buf_cstr(&q), corm__buf_cstr(&msg));
        bool oom = q.oom || msg.oom || out->oom;
        corm__buf_free(&q);
        corm__buf_free(&msg);
        if (oom) return nomem(err);
    }
    bool readd = false;
    corm_rc rc0 = retarget(d, mb, fb, ma, fa, &readd, out, err);
    if (rc0 != CORM_OK) return rc0;
    if (is_sqlite(d)) {
        /* a change the table does not see (on_delete, related_name) needs no rebuild */
        corm_buf cb, ca;
        corm__buf_init(&cb);
        corm__buf_init(&ca);
        corm_rc rc = corm__ddl_column(d, mb, fb, &cb, err);
        if (rc == CORM_OK) rc = corm__ddl_column(d, ma, fa, &ca, err);
        bool same = rc == CORM_OK && strcmp(corm__buf_cstr(&cb), corm__buf_cstr(&ca)) == 0 &&
                    corm__ddl_field_indexed(mb, fb) == corm__ddl_field_indexed(ma, fa);
        corm__buf_free(&cb);
        corm__buf_free(&ca);
        if (rc != CORM_OK || same) return rc;
        return rebuild(d, mb, ma, out, err);
    }
    /* PostgreSQL: first what goes away, under the names it has (a
    ** relation made a plain column: its constraint; an index; a UNIQUE),
    ** then the column's new name (fk(Author) names its column author_id,
    ** an integer field `author`), the column's other changes, and last
    ** what comes (index, UNIQUE, the constraint). */
    corm_rc rc = CORM_OK;
    bool ib = corm__ddl_field_indexed(mb, fb), ia = corm__ddl_field_indexed(ma, fa);
    bool ub = pg_unique(fb), ua = pg_unique(fa);
    corm_buf b, n;
    corm__buf_init(&b);
    corm__buf_init(&n);
    if (is_rel(fb) && !is_rel(fa)) {
        stmt2(&b, "ALTER TABLE ", mb->table, " DROP CONSTRAINT ", NULL);
        corm__ddl_fk_name(&b, mb->table, fb->column);
        rc = push(out, &b, err);
    }
    if (rc == CORM_OK && ib && !ia) {
        corm__ddl_index_name(&n, mb->table, &fb->column, NULL, 1, false);
        stmt2(&b, "DROP INDEX ", corm__buf_cstr(&n), NULL, NULL);
        rc = push(out, &b, err);
    }
    corm__buf_free(&b);
    corm__buf_free(&n);
    if (rc == CORM_OK && ub && !ua) rc = unique_pg(mb->table, fb->column, false, out, err);
    if (rc == CORM_OK)
        rc = follow_column(d, mb->table, fb, ma->table, fa, ib && ia, ub && ua,
                           is_rel(fb) && is_rel(fa) && !readd, out, err);
    if (rc == CORM_OK) rc = alter_field_pg(d, ma, fb, fa, out, err);
    if (rc == CORM_OK && (fb->flags & CORM_FF_NULL) != (fa->flags & CORM_FF_NULL))
        rc = reindex_nulls(d, ma, fa, ib && ia, out, err);
    if (rc == CORM_OK && ua && !ub) rc = unique_pg(ma->table, fa->column, true, out, err);
    if (rc == CORM_OK && ia && !ib) rc = corm__ddl_field_index(d, ma, fa, out, err);
    if (rc == CORM_OK && readd) rc = corm__ddl_foreign_key(d, ma, fa, out, err);
    return rc;
}

/* ALTER TABLE a RENAME TO b when the names differ. */
static corm_rc rename_table(const char *a, const char *b, corm__ddl *out, corm_error *err)
{
    if (strcmp(a, b) == 0) return CORM_OK;
    corm_buf s;
    corm__buf_init(&s);
    stmt2(&s, "ALTER TABLE ", a, " RENAME TO ", b);
    corm_rc rc = push(out, &s, err);
    corm__buf_free(&s);
    return rc;
}

static corm_rc rename_column(const char *t, const char *a, const char *b, corm__ddl *out,
                             corm_error *err)
{
    if (strcmp(a, b) == 0) return CORM_OK;
    corm_buf s;
    corm__buf_init(&s);
    stmt2(&s, "ALTER TABLE ", t, " RENAME COLUMN ", a);
    stmt2(&s, " TO ", b, NULL, NULL);
    corm_rc rc = push(out, &s, err);
    corm__buf_free(&s);
    return rc;
}

/* The single-column index on column cb of table tb, named as corm names
** it (<table>_<column>_idx), renamed to match table ta and column ca:
** ALTER INDEX on PostgreSQL; SQLite has none, so DROP and CREATE. */
static corm_rc rename_index(const corm__dialect *d, const char *tb, const char *cb, const char *ta,
                            const char *ca, corm__ddl *out, corm_error *err)
{
    corm_buf nb, na, s;
    corm__buf_init(&nb);
    corm__buf_init(&na);
    corm__buf_init(&s);
    corm__ddl_index_name(&nb, tb, &cb, NULL, 1, false);
    corm__ddl_index_name(&na, ta, &ca, NULL, 1, false);
    corm_rc rc = CORM_OK;
    if (nb.oom || na.oom) rc = nomem(err);
    else if (strcmp(corm__buf_cstr(&nb), corm__buf_cstr(&na)) != 0) {
        if (is_sqlite(d)) {
            stmt2(&s, "DROP INDEX ", corm__buf_cstr(&nb), NULL, NULL);
            rc = push(out, &s, err);
            stmt2(&s, "CREATE INDEX ", corm__buf_cstr(&na), " ON ", ta);
            corm__buf_adds(&s, " (");
            corm__sql_ident(&s, ca);
            corm__buf_addc(&s, ')');
        } else {
            stmt2(&s, "ALTER INDEX ", corm__buf_cstr(&nb), " RENAME TO ", corm__buf_cstr(&na));
        }
        if (rc == CORM_OK) rc = push(out, &s, err);
    }
    corm__buf_free(&nb);
    corm__buf_free(&na);
    corm__buf_free(&s);
    return rc;
}

/* PostgreSQL: the fk constraint of column cb of table tb, named as corm
** names it (<table>_<column>_fk), renamed to match table ta (already
** renamed) and column ca, so a later change finds it by its name. */
static corm_rc rename_fk(const corm__dialect *d, const char *tb, const char *cb, const char *ta,
                         const char *ca, corm__ddl *out, corm_error *err)
{
    if (!d->fk_after_tables) return CORM_OK;
    corm_buf nb, na, s;
    corm__buf_init(&nb);
    corm__buf_init(&na);
    corm__buf_init(&s);
    corm__ddl_fk_name(&nb, tb, cb);
    corm__ddl_fk_name(&na, ta, ca);
    corm_rc rc = CORM_OK;
    if (nb.oom || na.oom) rc = nomem(err);
    else if (strcmp(corm__buf_cstr(&nb), corm__buf_cstr(&na)) != 0) {
        stmt2(&s, "ALTER TABLE ", ta, " RENAME CONSTRAINT ", NULL);
        corm__buf_add(&s, nb.p, nb.len);
        corm__buf_adds(&s, " TO ");
        corm__buf_add(&s, na.p, na.len);
        rc = push(out, &s, err);
    }
    corm__buf_free(&nb);
    corm__buf_free(&na);
    corm__buf_free(&s);
    return rc;
}

/* Column fb of table tb renamed as fa of table ta (already renamed), with
** what is named after it: its index (corm's name), its UNIQUE (PostgreSQL's
** name) and its fk constraint (PostgreSQL, corm's name), as the flags say
** it has them before and after. */
static corm_rc follow_column(const corm__dialect *d, const char *tb, const corm_field *fb,
                             const char *ta, const corm_field *fa, bool index, bool unique, bool fk,
                             corm__ddl *out, corm_error *err)
{
    corm_rc rc = rename_column(ta, fb->column, fa->column, out, err);
    if (rc == CORM_OK && index) rc = rename_index(d, tb, fb->column, ta, fa->column, out, err);
    if (rc == CORM_OK && unique)
        rc = corm__pg_rename(d, ta, "key", tb, fb->column, ta, fa->column, out, err);
    if (rc == CORM_OK && fk) rc = rename_fk(d, tb, fb->column, ta, fa->column, out, err);
    return rc;
}

/* SQLite: a search index's FTS5 table names its model's table (content=)
** and reads its column by name, and its triggers name both: around a
** rename of the table or the column they are dropped (create false, the
** state before) and created again, filled from the rows (create true, the
** state after).  col: only the search indexes on that column; NULL: all of
** m's.  Nothing on PostgreSQL (its search index is an expression index on
** the column, which follows a rename by itself). */
static corm_rc search_tables(const corm__dialect *d, const corm_model *m, const char *col,
                             bool create, corm__ddl *out, corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int i = 0; i < m->nindexes && rc == CORM_OK && is_sqlite(d); i++) {
        const corm_index *ix = &m->indexes[i];
        if (ix->kind != CORM_INDEX_SEARCH) continue;
        const corm_field *f = ix->nfields == 1 ? field_of(m, ix->fields[0]) : NULL;
        if (col && (!f || strcmp(f->column, col) != 0)) continue;
        rc = create ? corm__ddl_text_index(d, m, ix, out, err)
                    : corm__ddl_drop_text_index(d, ix, false, out, err);
    }
    return rc;
}

/* The indexes of mb's db_index and fk fields, renamed as ma's (the model,
** its table or the field was renamed). */
static corm_rc rename_field_indexes(const corm__dialect *d, const corm_model *mb,
                                    const corm_model *ma, corm__ddl *out, corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int i = 1; i < mb->nfields && i < ma->nfields && rc == CORM_OK; i++) {
        const corm_field *fb = &mb->fields[i], *fa = &ma->fields[i];
        if (corm__ddl_field_indexed(mb, fb) && corm__ddl_field_indexed(ma, fa))
            rc = rename_index(d, mb->table, fb->column, ma->table, fa->column, out, err);
        if (rc == CORM_OK && is_rel(fb) && is_rel(fa))
            rc = rename_fk(d, mb->table, fb->column, ma->table, fa->column, out, err);
        if (rc == CORM_OK && pg_unique(fb) && pg_unique(fa))
            rc = corm__pg_rename(d, ma->table, "key", mb->table, fb->column, ma->table, fa->column,
                                 out, err);
    }
    return rc;
}

/* The join table of m2m relation rb renamed as ra's (a model or the field
** it derives from was renamed): the table, the column pointing at this
** model (through_src, of a forward or reverse relation), the index on the
** forward relation's dst column, and PostgreSQL's names. */
static corm_rc rename_join(const corm__dialect *d, const corm_relation *rb, const corm_relation *ra,
                           bool self, corm__ddl *out, corm_error *err)
{
    corm_rc rc = rename_table(rb->through, ra->through, out, err);
    if (rc == CORM_OK) rc = rename_column(ra->through, rb->through_src, ra->through_src, out, err);
    /* a model's m2m to itself: both columns name it (from_x_id, to_x_id) */
    if (rc == CORM_OK && self)
        rc = rename_column(ra->through, rb->through_dst, ra->through_dst, out, err);
    bool fwd = rb->kind == CORM_REL_M2M;
    const char *b1 = fwd ? rb->through_src : rb->through_dst,
               *b2 = fwd ? rb->through_dst : rb->through_src;
    const char *a1 = fwd ? ra->through_src : ra->through_dst,
               *a2 = fwd ? ra->through_dst : ra->through_src;
    if (rc == CORM_OK) rc = rename_index(d, rb->through, b2, ra->through, a2, out, err);
    if (rc == CORM_OK)
        rc = corm__pg_rename_join(d, rb->through, b1, b2, ra->through, a1, a2, out, err);
    return rc;
}

/* The join tables of mb's m2m relations (forward and reverse) renamed and
** their columns too, as the model or field names they derive from change;
** and the index on the column pointing at the forward relation's target. */
static corm_rc rename_joins(const corm__dialect *d, const corm_model *mb, const corm_model *ma,
                            corm__ddl *out, corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int i = 0; i < mb->nrels && rc == CORM_OK; i++) {
        const corm_relation *rb = &mb->rels[i];
        if (rb->kind != CORM_REL_M2M && rb->kind != CORM_REL_REVERSE_M2M) continue;
        /* to itself: the forward relation renames the whole join table */
        bool self = mb->schema->models[rb->target] == mb;
        if (self && rb->kind == CORM_REL_REVERSE_M2M) continue;
        const corm_relation *ra = NULL;
        for (int j = 0; j < ma->nrels && !ra; j++) {
            const corm_model *t = ma->schema->models[ma->rels[j].target];
            if (ma->rels[j].kind == rb->kind && ma->rels[j].through && rb->through &&
                (self ? t == ma : strcmp(t->name, mb->schema->models[rb->target]->name) == 0) &&
                (rb->kind == CORM_REL_REVERSE_M2M || strcmp(ma->rels[j].name, rb->name) == 0))
                ra = &ma->rels[j];
        }
        if (ra) rc = rename_join(d, rb, ra, self, out, err);
    }
    return rc;
}

corm_rc corm__op_sql(const corm__dialect *d, const corm__op *op, bool backwards,
                     const corm_schema *before, const corm_schema *after, corm__ddl *out,
                     corm_error *err)
{
    static const corm__opkind inverse[CORM__OP_COUNT] = {
        [CORM__OP_CREATE_MODEL] = CORM__OP_DROP_MODEL,
        [CORM__OP_DROP_MODEL] = CORM__OP_CREATE_MODEL,
        [CORM__OP_ADD_FIELD] = CORM__OP_REMOVE_FIELD,
        [CORM__OP_REMOVE_FIELD] = CORM__OP_ADD_FIELD,
        [CORM__OP_ALTER_FIELD] = CORM__OP_ALTER_FIELD,
        [CORM__OP_RENAME_FIELD] = CORM__OP_RENAME_FIELD,
        [CORM__OP_RENAME_MODEL] = CORM__OP_RENAME_MODEL,
        [CORM__OP_ADD_INDEX] = CORM__OP_REMOVE_INDEX,
        [CORM__OP_REMOVE_INDEX] = CORM__OP_ADD_INDEX,
        [CORM__OP_ALTER_MODEL] = CORM__OP_ALTER_MODEL};
    corm__opkind k = backwards ? inverse[op->kind] : op->kind;
    const char *name_b = op->model, *name_a = op->model;
    if (op->kind == CORM__OP_RENAME_MODEL) {
        name_b = backwards ? op->to : op->model;
        name_a = backwards ? op->model : op->to;
    }
    const corm_model *mb = corm_schema_model(before, name_b);
    const corm_model *ma = corm_schema_model(after, name_a);
    bool need_b = k != CORM__OP_CREATE_MODEL, need_a = k != CORM__OP_DROP_MODEL;
    if ((need_b && !mb) || (need_a && !ma))
        return missing(err, "model", need_b && !mb ? name_b : name_a);
    const char *line = op->nlines ? op->lines[0] : "";
    if (line[0] == '-' || line[0] == '+') line++;
    char key[128];
    const char *kp;
    size_t kn = corm__line_key(line, &kp);
    snprintf(key, sizeof key, "%.*s", (int)kn, kp);

    switch (k) {
    case CORM__OP_CREATE_MODEL: return create_model(d, ma, out, err);
    case CORM__OP_DROP_MODEL: return drop_model(d, mb, out, err);
    case CORM__OP_ADD_FIELD: return add_field(d, mb, ma, key, out, err);
    case CORM__OP_REMOVE_FIELD: return remove_field(d, mb, ma, key, out, err);
    case CORM__OP_ALTER_FIELD: return alter_field(d, mb, ma, key, out, err);
    case CORM__OP_RENAME_FIELD: {
        const char *fb_name = backwards ? op->to : op->name,
                   *fa_name = backwards ? op->name : op->to;
        const corm_field *fb = field_of(mb, fb_name), *fa = field_of(ma, fa_name);
        if (fb && fa) {
            corm_rc rc = search_tables(d, mb, fb->column, false, out, err);
            if (rc == CORM_OK)
                rc = follow_column(
                    d, ma->table, fb, ma->table, fa,
                    corm__ddl_field_indexed(mb, fb) && corm__ddl_field_indexed(ma, fa),
                    pg_unique(fb) && pg_unique(fa), is_rel(fb) && is_rel(fa), out, err);
            if (rc == CORM_OK) rc = search_tables(d, ma, fa->column, true, out, err);
            return rc;
        }
        const corm_relation *rb = m2m_of(mb, fb_name), *ra = m2m_of(ma, fa_name);
        if (rb && ra) return rename_join(d, rb, ra, mb->schema->models[rb->target] == mb, out, err);
        return missing(err, "field", fb_name);
    }
    case CORM__OP_RENAME_MODEL:
    case CORM__OP_ALTER_MODEL: {
        bool moved = strcmp(mb->table, ma->table) != 0;
        corm_rc rc = moved ? search_tables(d, mb, NULL, false, out, err) : CORM_OK;
        if (rc == CORM_OK) rc = rename_table(mb->table, ma->table, out, err);
        if (rc == CORM_OK)
            rc = corm__pg_rename_table(d, mb->table, mb->fields[0].column, ma->table,
                                       ma->fields[0].column, out, err);
        if (rc == CORM_OK) rc = rename_joins(d, mb, ma, out, err);
        if (rc == CORM_OK) rc = rename_field_indexes(d, mb, ma, out, err);
        if (rc == CORM_OK && moved) rc = search_tables(d, ma, NULL, true, out, err);
        return rc;
    }
    case CORM__OP_ADD_INDEX:
    case CORM__OP_REMOVE_INDEX: {
        bool add = k == CORM__OP_ADD_INDEX;
        char iname[128];
        index_line_name(line, iname, sizeof iname);
        const corm_index *ix = index_named(add ? ma : mb, iname);
        if (!ix) return missing(err, "index", iname);
        if (corm__ddl_index_is_constraint(ix) && is_sqlite(d)) return rebuild(d, mb, ma, out, err);
        if (!add && ix->kind != CORM_INDEX_BTREE)
            return corm__ddl_drop_text_index(d, ix, op->concurrently, out, err);
        if (add) {
            corm_rc rc = corm__ddl_index(d, ma, ix, out, err);
            if (rc == CORM_OK && op->concurrently && !is_sqlite(d) &&
                !corm__ddl_index_is_constraint(ix)) {
                /* CREATE [UNIQUE] INDEX -> ... INDEX CONCURRENTLY (the last
                ** statement: a trigram index creates its extension first) */
                size_t at = corm__ddl_count(out) - 1;
                char *s = out->stmts.p[at];
                corm_buf b;
                corm__buf_init(&b);
                const char *p = strstr(s, "INDEX ") + 6;
                corm__buf_add(&b, s, (size_t)(p - s));
                corm__buf_adds(&b, "CONCURRENTLY ");
                corm__buf_adds(&b, p);
                if (b.oom) rc = nomem(err);
                else {
                    corm__free(s);
                    out->stmts.p[at] = corm__strdup(corm__buf_cstr(&b));
                    if (!out->stmts.p[at]) rc = nomem(err);
                }
                corm__buf_free(&b);
            }
            return rc;
        }
        corm_buf b;
        corm__buf_init(&b);
        if (corm__ddl_index_is_constraint(ix)) {
            stmt2(&b, "ALTER TABLE ", mb->table, " DROP CONSTRAINT ", ix->name);
        } else {
            corm__buf_adds(&b, op->concurrently && !is_sqlite(d) ? "DROP INDEX CONCURRENTLY "
                                                                 : "DROP INDEX ");
            corm__sql_ident(&b, ix->name);
        }
        corm_rc rc = push(out, &b, err);
        corm__buf_free(&b);
        return rc;
    }
    default: return missing(err, "operation", "?");
    }
}
