/*
** ddl.c - CREATE TABLE / CREATE INDEX text from model descriptors, for one
** dialect (see migrate_int.h for the shape of the SQL).
**
** Invariants: every identifier goes through corm__sql_ident; the only
** non-identifier text taken from a schema is a DEFAULT literal, and it must
** pass corm__ddl_is_literal (DDL has no bound parameters).  Nothing here
** touches a connection, so the output for a schema is a pure function of
** its descriptors (stable across runs: makemigrations will diff it).
*/
#include "migrate_int.h"

#include <ctype.h>
#include <string.h>

/* ------------------------------------------------------------ the list */

void corm__ddl_init(corm__ddl *l) { memset(l, 0, sizeof *l); }

void corm__ddl_free(corm__ddl *l)
{
    for (size_t i = 0; i < l->stmts.n; i++) corm__free(l->stmts.p[i]);
    corm__vec_free(&l->stmts);
    l->oom = false;
}

void corm__ddl_push(corm__ddl *l, corm_buf *b)
{
    if (b->oom) {
        l->oom = true;
        return;
    }
    char *s = corm__strndup(b->p ? b->p : "", b->len);
    if (!s || !corm__vec_push(&l->stmts, s)) {
        corm__free(s);
        l->oom = true;
    }
}

size_t corm__ddl_count(const corm__ddl *l) { return l->stmts.n; }

const char *corm__ddl_at(const corm__ddl *l, size_t i)
{
    return i < l->stmts.n ? l->stmts.p[i] : NULL;
}

/* ------------------------------------------------------------ helpers */

static corm_rc nomem(corm_error *err)
{
    corm__err_set(err, CORM_NOMEM, "out of memory writing DDL");
    return CORM_NOMEM;
}

/* Finish one statement: push it, reset the buffer. */
static corm_rc emit(corm__ddl *out, corm_buf *b, corm_error *err)
{
    corm__ddl_push(out, b);
    corm__buf_reset(b);
    return out->oom ? nomem(err) : CORM_OK;
}

static bool eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

bool corm__ddl_is_literal(const char *s)
{
    if (!s || !*s) return false;
    static const char *const words[] = {"NULL",         "TRUE",        "FALSE", "CURRENT_TIMESTAMP",
                                        "CURRENT_DATE", "CURRENT_TIME"};
    for (size_t i = 0; i < CORM__ARRAY_LEN(words); i++)
        if (eq_nocase(s, words[i])) return true;
    const char *p = s;
    if (*p == '\'') {
        /* 'text' with embedded quotes doubled, nothing after the close */
        for (p++; *p; p++) {
            if (*p == '\'') {
                if (p[1] == '\'') {
                    p++;
                    continue;
                }
                return p[1] == '\0';
            }
        }
        return false;
    }
    if ((p[0] == 'X' || p[0] == 'x') && p[1] == '\'') {
        size_t n = 0;
        for (p += 2; isxdigit((unsigned char)*p); p++) n++;
        return p[0] == '\'' && p[1] == '\0' && n % 2 == 0;
    }
    /* [+-]digits[.digits][e[+-]digits] */
    if (*p == '-' || *p == '+') p++;
    size_t nd = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        nd++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            nd++;
        }
    }
    if (!nd) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p == '\0';
}

void corm__ddl_index_name(corm_buf *out, const char *table, const char *const *cols,
                          const bool *desc, int ncols, bool unique)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, table);
    for (int i = 0; i < ncols; i++)
        corm__buf_addf(&b, "_%s%s", cols[i], desc && desc[i] ? "_desc" : "");
    corm__buf_adds(&b, unique ? "_uniq" : "_idx");
    if (b.len <= CORM__DDL_NAME_MAX) {
        corm__buf_add(out, b.p, b.len);
    } else {
        /* Cut to fit, keeping it unique: 54 bytes, '_', 8 hex of the whole. */
        uint32_t h = corm__hash_str(b.p, b.len);
        corm__buf_add(out, b.p, CORM__DDL_NAME_MAX - 9);
        corm__buf_addf(out, "_%08x", (unsigned)h);
    }
    if (b.oom) out->oom = true;
    corm__buf_free(&b);
}

static const corm_model *model_at(const corm_model *m, int index)
{
    const corm_schema *s = m->schema;
    if (!s || index < 0 || index >= s->nmodels) return NULL;
    return s->models[index];
}

static const corm_model *fk_target(const corm_model *m, const corm_field *f)
{
    if (f->rel < 0 || f->rel >= m->nrels) return NULL;
    return model_at(m, m->rels[f->rel].target);
}

/* The column of field `name` (or "-name") in m, or NULL. */
static const corm_field *field_named(const corm_model *m, const char *name)
{
    for (int i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].name, name) == 0) return &m->fields[i];
    for (int i = 0; i < m->nfields; i++)
        if (m->fields[i].column && strcmp(m->fields[i].column, name) == 0) return &m->fields[i];
    return NULL;
}

static bool is_pk(const corm_field *f) { return (f->flags & CORM_FF_PK) != 0; }

static bool is_unique(const corm_field *f)
{
    return (f->flags & CORM_FF_UNIQUE) || f->type == CORM_FT_O2O;
}

/* A unique index that is written as a table constraint (see header). */
static bool is_table_unique(const corm_index *ix)
{
    if (!ix->unique || !ix->fields || ix->where) return false;
    for (int i = 0; i < ix->nfields; i++)
        if (!ix->fields[i] || ix->fields[i][0] == '-') return false;
    return true;
}

static corm_rc unknown_index_field(const corm_model *m, const corm_index *ix, const char *name,
                                   corm_error *err)
{
    corm__err_set(err, CORM_SCHEMA, "index '%s' of %s names unknown field '%s'",
                  ix->name ? ix->name : "(unnamed)", m->name, name);
    corm_buf b;
    corm__buf_init(&b);
    for (int i = 0; i < m->nfields; i++) {
        if (i) corm__buf_adds(&b, ", ");
        corm__buf_adds(&b, m->fields[i].name);
    }
    corm__err_hint(err, "%s has: %s", m->name, corm__buf_cstr(&b));
    corm__buf_free(&b);
    return CORM_SCHEMA;
}

/* The columns of ix into cols/desc (CORM_MAX_FIELDS each). */
static corm_rc index_columns(const corm_model *m, const corm_index *ix, const char **cols,
                             bool *desc, corm_error *err)
{
    if (ix->nfields < 1 || ix->nfields > CORM_MAX_FIELDS || !ix->fields) {
        corm__err_set(err, CORM_SCHEMA, "index '%s' of %s has %d fields",
                      ix->name ? ix->name : "(unnamed)", m->name, ix->nfields);
        corm__err_hint(err, "an index has 1 to %d fields", CORM_MAX_FIELDS);
        return CORM_SCHEMA;
    }
    for (int j = 0; j < ix->nfields; j++) {
        const char *name = ix->fields[j] ? ix->fields[j] : "";
        desc[j] = name[0] == '-';
        const corm_field *f = field_named(m, name + desc[j]);
        if (!f) return unknown_index_field(m, ix, name + desc[j], err);
        cols[j] = f->column;
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ columns */

corm_rc corm__ddl_column(const corm__dialect *d, const corm_model *m, const corm_field *f,
                         corm_buf *out, corm_error *err)
{
    corm__sql_ident(out, f->column);
    corm__buf_addc(out, ' ');
    if (is_pk(f)) {
        corm__buf_adds(out, d->pk_column_def);
        return CORM_OK;
    }
    char tbuf[64];
    const char *type = d->column_type(f, tbuf, sizeof tbuf);
    if (!type) {
        corm__err_set(err, CORM_SCHEMA, "%s.%s: field type %d has no %s column type", m->name,
                      f->name, (int)f->type, d->vendor);
        return CORM_SCHEMA;
    }
    corm__buf_adds(out, type);
    if (!(f->flags & CORM_FF_NULL)) corm__buf_adds(out, " NOT NULL");
    if (is_unique(f)) corm__buf_adds(out, " UNIQUE");
    if ((f->flags & CORM_FF_HAS_DEFAULT) || f->default_sql) {
        if (!corm__ddl_is_literal(f->default_sql)) {
            corm__err_set(err, CORM_SCHEMA, "%s.%s: default %s%s%s is not a SQL literal", m->name,
                          f->name, f->default_sql ? "`" : "",
                          f->default_sql ? f->default_sql : "(missing)", f->default_sql ? "`" : "");
            corm__err_hint(err, "defaults are numbers, 'quoted strings', true, false, "
                                "null or CURRENT_TIMESTAMP");
            return CORM_SCHEMA;
        }
        /* The schema writes booleans as TRUE/FALSE; the dialect says how
        ** its columns store them (SQLite: 1/0, as Django writes). */
        const char *lit = f->default_sql;
        if (eq_nocase(lit, "TRUE")) lit = d->true_literal;
        else if (eq_nocase(lit, "FALSE")) lit = d->false_literal;
        corm__buf_adds(out, " DEFAULT ");
        corm__buf_adds(out, lit);
    }
    if (f->type == CORM_FT_JSON && strcmp(d->vendor, "sqlite") == 0) {
        /* Django's check on SQLite: stored JSON is always valid JSON. */
        corm__buf_adds(out, " CHECK ((JSON_VALID(");
        corm__sql_ident(out, f->column);
        corm__buf_adds(out, ") OR ");
        corm__sql_ident(out, f->column);
        corm__buf_adds(out, " IS NULL))");
    }
    if (f->type == CORM_FT_FK || f->type == CORM_FT_O2O) {
        const corm_model *t = fk_target(m, f);
        if (!t) {
            corm__err_set(err, CORM_SCHEMA, "%s.%s: relation has no target model", m->name,
                          f->name);
            corm__err_hint(err, "the descriptors are inconsistent; regenerate them");
            return CORM_SCHEMA;
        }
        /* No ON DELETE: on_delete is applied by corm, as by Django.
        ** Deferred, so rows can be inserted in any order in a transaction.
        ** Some dialects add it after the tables (corm__ddl_foreign_keys). */
        if (d->fk_after_tables) return CORM_OK;
        corm__buf_adds(out, " REFERENCES ");
        corm__sql_ident(out, t->table);
        corm__buf_adds(out, " (");
        corm__sql_ident(out, t->fields[0].column);
        corm__buf_adds(out, ") DEFERRABLE INITIALLY DEFERRED");
    }
    return CORM_OK;
}

/* ------------------------------------------------------------ tables */

corm_rc corm__ddl_create_table(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                               corm_error *err)
{
    if (m->nfields < 1 || !is_pk(&m->fields[0])) {
        corm__err_set(err, CORM_SCHEMA, "model %s has no primary key as its first field", m->name);
        corm__err_hint(err, "the descriptors are inconsistent; regenerate them");
        return CORM_SCHEMA;
    }
    corm_buf b;
    corm__buf_init(&b);
    corm_rc rc = CORM_OK;
    corm__buf_adds(&b, "CREATE TABLE ");
    corm__sql_ident(&b, m->table);
    corm__buf_adds(&b, " (");
    for (int i = 0; i < m->nfields && rc == CORM_OK; i++) {
        if (i) corm__buf_adds(&b, ", ");
        rc = corm__ddl_column(d, m, &m->fields[i], &b, err);
    }
    for (int i = 0; i < m->nindexes && rc == CORM_OK; i++) {
        const corm_index *ix = &m->indexes[i];
        if (!is_table_unique(ix)) continue;
        const char *cols[CORM_MAX_FIELDS];
        bool desc[CORM_MAX_FIELDS];
        rc = index_columns(m, ix, cols, desc, err);
        if (rc != CORM_OK) break;
        int n = ix->nfields;
        corm__buf_adds(&b, ", CONSTRAINT ");
        if (ix->name && ix->name[0]) {
            corm__sql_ident(&b, ix->name);
        } else {
            corm_buf nb;
            corm__buf_init(&nb);
            corm__ddl_index_name(&nb, m->table, cols, NULL, n, true);
            corm__sql_ident(&b, corm__buf_cstr(&nb));
            corm__buf_free(&nb);
        }
        corm__buf_adds(&b, " UNIQUE (");
        for (int j = 0; j < n; j++) {
            if (j) corm__buf_adds(&b, ", ");
            corm__sql_ident(&b, cols[j]);
        }
        corm__buf_addc(&b, ')');
    }
    corm__buf_addc(&b, ')');
    if (rc == CORM_OK) rc = emit(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

/* Whether column `col` of m may hold NULL (m NULL: a join table, never). */
static bool column_nullable(const corm_model *m, const char *col)
{
    if (!m) return false;
    const corm_field *f = field_named(m, col);
    return f && (f->flags & CORM_FF_NULL);
}

/* One CREATE [UNIQUE] INDEX.  desc[i] marks descending columns.  A nullable
** column sorts its NULLs as ORDER BY does on the dialect (dialect.h:
** nulls_first/last), so the index still serves the ordering. */
/* A partial index's condition (the schema layer built it from checked
** literals and quoted columns) with TRUE/FALSE written as the dialect
** stores booleans, as DEFAULT does: SQLite's planner matches a query's
** `= 1` against the index's `= 1`, not against `= TRUE`. */
static void add_where(const corm__dialect *d, corm_buf *b, const char *where)
{
    corm__buf_adds(b, " WHERE ");
    for (const char *p = where; *p;) {
        if (*p == '\'' || *p == '"') { /* a string or identifier, doubled quotes inside */
            const char *q = p + 1;
            while (*q && !(*q == *p && q[1] != *p)) q += *q == *p ? 2 : 1;
            if (*q) q++;
            corm__buf_add(b, p, (size_t)(q - p));
            p = q;
        } else if (strncmp(p, "TRUE", 4) == 0 || strncmp(p, "FALSE", 5) == 0) {
            bool t = *p == 'T';
            corm__buf_adds(b, t ? d->true_literal : d->false_literal);
            p += t ? 4 : 5;
        } else {
            corm__buf_addc(b, *p++);
        }
    }
}

static corm_rc index_stmt(const corm__dialect *d, const corm_model *m, const char *name,
                          bool unique, const char *table, const char *const *cols, const bool *desc,
                          int n, const char *where, corm__ddl *out, corm_error *err)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    if (name && name[0]) {
        corm__sql_ident(&b, name);
    } else {
        corm_buf nb;
        corm__buf_init(&nb);
        corm__ddl_index_name(&nb, table, cols, desc, n, unique);
        corm__sql_ident(&b, corm__buf_cstr(&nb));
        corm__buf_free(&nb);
    }
    corm__buf_adds(&b, " ON ");
    corm__sql_ident(&b, table);
    corm__buf_adds(&b, " (");
    for (int i = 0; i < n; i++) {
        if (i) corm__buf_adds(&b, ", ");
        corm__sql_ident(&b, cols[i]);
        bool dsc = desc && desc[i];
        if (dsc) corm__buf_adds(&b, " DESC");
        const char *nulls = dsc ? d->nulls_last : d->nulls_first;
        if (nulls && column_nullable(m, cols[i])) corm__buf_adds(&b, nulls);
    }
    corm__buf_addc(&b, ')');
    if (where) add_where(d, &b, where);
    corm_rc rc = emit(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

/* Whether m's index list already indexes f on its own (the schema
** validator lists the db_index and fk indexes it names there). */
static bool listed_single(const corm_model *m, const corm_field *f)
{
    for (int i = 0; i < m->nindexes; i++) {
        const corm_index *ix = &m->indexes[i];
        if (ix->nfields != 1 || !ix->fields || !ix->fields[0] || ix->where ||
            ix->kind != CORM_INDEX_BTREE)
            continue;
        const char *name = ix->fields[0] + (ix->fields[0][0] == '-');
        if (field_named(m, name) == f) return true;
    }
    return false;
}

corm_rc corm__ddl_create_indexes(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                                 corm_error *err)
{
    (void)d;
    corm_rc rc = CORM_OK;
    /* Single columns: db_index fields and foreign keys (Django indexes
    ** every fk); a unique column has its index already. */
    for (int i = 0; i < m->nfields && rc == CORM_OK; i++) {
        const corm_field *f = &m->fields[i];
        if (is_pk(f) || is_unique(f)) continue;
        if (!(f->flags & CORM_FF_DB_INDEX) && f->type != CORM_FT_FK) continue;
        if (listed_single(m, f)) continue;
        rc = index_stmt(d, m, NULL, false, m->table, &f->column, NULL, 1, NULL, out, err);
    }
    for (int i = 0; i < m->nindexes && rc == CORM_OK; i++) {
        const corm_index *ix = &m->indexes[i];
        if (is_table_unique(ix)) continue;
        if (ix->kind != CORM_INDEX_BTREE) {
            rc = corm__ddl_text_index(d, m, ix, out, err);
            continue;
        }
        const char *cols[CORM_MAX_FIELDS];
        bool desc[CORM_MAX_FIELDS];
        rc = index_columns(m, ix, cols, desc, err);
        if (rc != CORM_OK) return rc;
        rc = index_stmt(d, m, ix->name, ix->unique, m->table, cols, desc, ix->nfields, ix->where,
                        out, err);
    }
    return rc;
}

/* ------------------------------------------------------------ m2m */

static corm_rc check_m2m(const corm_model *m, const corm_relation *r, const corm_model **target,
                         corm_error *err)
{
    *target = model_at(m, r->target);
    if (r->kind != CORM_REL_M2M || !r->through || !r->through_src || !r->through_dst || !*target) {
        corm__err_set(err, CORM_SCHEMA,
                      "%s.%s is not a forward many-to-many relation "
                      "with a join table",
                      m->name, r->name);
        corm__err_hint(err, "the descriptors are inconsistent; regenerate them");
        return CORM_SCHEMA;
    }
    return CORM_OK;
}

corm_rc corm__ddl_m2m_table(const corm__dialect *d, const corm_model *m, const corm_relation *r,
                            corm__ddl *out, corm_error *err)
{
    const corm_model *t;
    corm_rc rc = check_m2m(m, r, &t, err);
    if (rc != CORM_OK) return rc;
    const char *ends[2][2] = {{r->through_src, m->table}, {r->through_dst, t->table}};
    const char *pks[2] = {m->fields[0].column, t->fields[0].column};
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, "CREATE TABLE ");
    corm__sql_ident(&b, r->through);
    corm__buf_adds(&b, " (");
    corm__sql_ident(&b, "id");
    corm__buf_addc(&b, ' ');
    corm__buf_adds(&b, d->pk_column_def);
    corm_field fk = {.type = CORM_FT_FK};
    char tbuf[64];
    const char *fktype = d->column_type(&fk, tbuf, sizeof tbuf);
    for (int i = 0; i < 2; i++) {
        corm__buf_adds(&b, ", ");
        corm__sql_ident(&b, ends[i][0]);
        corm__buf_addf(&b, " %s NOT NULL REFERENCES ", fktype ? fktype : "bigint");
        corm__sql_ident(&b, ends[i][1]);
        corm__buf_adds(&b, " (");
        corm__sql_ident(&b, pks[i]);
        corm__buf_adds(&b, ") DEFERRABLE INITIALLY DEFERRED");
    }
    corm__buf_adds(&b, ", UNIQUE (");
    corm__sql_ident(&b, r->through_src);
    corm__buf_adds(&b, ", ");
    corm__sql_ident(&b, r->through_dst);
    corm__buf_adds(&b, "))");
    rc = emit(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

corm_rc corm__ddl_m2m_indexes(const corm__dialect *d, const corm_model *m, const corm_relation *r,
                              corm__ddl *out, corm_error *err)
{
    (void)d;
    const corm_model *t;
    corm_rc rc = check_m2m(m, r, &t, err);
    if (rc != CORM_OK) return rc;
    return index_stmt(d, NULL, NULL, false, r->through, &r->through_dst, NULL, 1, NULL, out, err);
}

/* ------------------------------------------------------------ schema */

/* The forward m2m relations of the schema, each join table once. */
static bool first_use_of_through(const corm_schema *s, int mi, int ri)
{
    const char *through = s->models[mi]->rels[ri].through;
    for (int i = 0; i <= mi; i++) {
        const corm_model *m = s->models[i];
        int nr = i == mi ? ri : m->nrels;
        for (int j = 0; j < nr; j++)
            if (m->rels[j].kind == CORM_REL_M2M && m->rels[j].through &&
                strcmp(m->rels[j].through, through) == 0)
                return false;
    }
    return true;
}

corm_rc corm__ddl_foreign_key(const corm__dialect *d, const corm_model *m, const corm_field *f,
                              corm__ddl *out, corm_error *err)
{
    if (!d->fk_after_tables || (f->type != CORM_FT_FK && f->type != CORM_FT_O2O)) return CORM_OK;
    const corm_model *t = fk_target(m, f);
    if (!t) {
        corm__err_set(err, CORM_SCHEMA, "%s.%s: relation has no target model", m->name, f->name);
        corm__err_hint(err, "the descriptors are inconsistent; regenerate them");
        return CORM_SCHEMA;
    }
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, "ALTER TABLE ");
    corm__sql_ident(&b, m->table);
    corm__buf_adds(&b, " ADD CONSTRAINT ");
    corm__ddl_fk_name(&b, m->table, f->column);
    corm__buf_adds(&b, " FOREIGN KEY (");
    corm__sql_ident(&b, f->column);
    corm__buf_adds(&b, ") REFERENCES ");
    corm__sql_ident(&b, t->table);
    corm__buf_adds(&b, " (");
    corm__sql_ident(&b, t->fields[0].column);
    corm__buf_adds(&b, ") DEFERRABLE INITIALLY DEFERRED");
    corm_rc rc = emit(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

void corm__ddl_fk_name(corm_buf *b, const char *table, const char *column)
{
    /* "<table>_<column>_fk", cut to 63 bytes as index names are */
    corm_buf name;
    corm__buf_init(&name);
    corm__buf_addf(&name, "%s_%s_fk", table, column);
    if (name.len > CORM__DDL_NAME_MAX) {
        uint32_t h = corm__hash_str(name.p, name.len);
        name.len = CORM__DDL_NAME_MAX - 9;
        corm__buf_addf(&name, "_%08x", (unsigned)h);
    }
    corm__sql_ident(b, corm__buf_cstr(&name));
    if (name.oom) b->oom = true;
    corm__buf_free(&name);
}

corm_rc corm__ddl_foreign_keys(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                               corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int i = 0; i < m->nfields && rc == CORM_OK; i++)
        rc = corm__ddl_foreign_key(d, m, &m->fields[i], out, err);
    return rc;
}

corm_rc corm__ddl_field_index(const corm__dialect *d, const corm_model *m, const corm_field *f,
                              corm__ddl *out, corm_error *err)
{
    if (!corm__ddl_field_indexed(m, f)) return CORM_OK;
    return index_stmt(d, m, NULL, false, m->table, &f->column, NULL, 1, NULL, out, err);
}

bool corm__ddl_field_indexed(const corm_model *m, const corm_field *f)
{
    (void)m;
    if (is_pk(f) || is_unique(f)) return false;
    return (f->flags & CORM_FF_DB_INDEX) || f->type == CORM_FT_FK;
}

bool corm__ddl_index_is_constraint(const corm_index *ix) { return is_table_unique(ix); }

corm_rc corm__ddl_index(const corm__dialect *d, const corm_model *m, const corm_index *ix,
                        corm__ddl *out, corm_error *err)
{
    if (ix->kind != CORM_INDEX_BTREE) return corm__ddl_text_index(d, m, ix, out, err);
    const char *cols[CORM_MAX_FIELDS];
    bool desc[CORM_MAX_FIELDS];
    corm_rc rc = index_columns(m, ix, cols, desc, err);
    if (rc != CORM_OK) return rc;
    if (!is_table_unique(ix))
        return index_stmt(d, m, ix->name, ix->unique, m->table, cols, desc, ix->nfields, ix->where,
                          out, err);
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, "ALTER TABLE ");
    corm__sql_ident(&b, m->table);
    corm__buf_adds(&b, " ADD CONSTRAINT ");
    corm__sql_ident(&b, ix->name);
    corm__buf_adds(&b, " UNIQUE (");
    for (int j = 0; j < ix->nfields; j++) {
        if (j) corm__buf_adds(&b, ", ");
        corm__sql_ident(&b, cols[j]);
    }
    corm__buf_addc(&b, ')');
    rc = emit(out, &b, err);
    corm__buf_free(&b);
    return rc;
}

corm_rc corm__ddl_schema(const corm__dialect *d, const corm_schema *s, corm__ddl *out,
                         corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int i = 0; i < s->nmodels && rc == CORM_OK; i++)
        rc = corm__ddl_create_table(d, s->models[i], out, err);
    for (int i = 0; i < s->nmodels && rc == CORM_OK; i++)
        rc = corm__ddl_foreign_keys(d, s->models[i], out, err);
    for (int pass = 0; pass < 3 && rc == CORM_OK; pass++) {
        /* pass 0: join tables; 1: model indexes; 2: join-table indexes */
        for (int i = 0; i < s->nmodels && rc == CORM_OK; i++) {
            const corm_model *m = s->models[i];
            if (pass == 1) {
                rc = corm__ddl_create_indexes(d, m, out, err);
                continue;
            }
            for (int j = 0; j < m->nrels && rc == CORM_OK; j++) {
                const corm_relation *r = &m->rels[j];
                if (r->kind != CORM_REL_M2M) continue;
                if (r->through && !first_use_of_through(s, i, j)) continue;
                rc = pass == 0 ? corm__ddl_m2m_table(d, m, r, out, err)
                               : corm__ddl_m2m_indexes(d, m, r, out, err);
            }
        }
    }
    return rc;
}

corm_rc corm__ddl_history_table(const corm__dialect *d, corm__ddl *out, corm_error *err)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, "CREATE TABLE IF NOT EXISTS ");
    corm__sql_ident(&b, CORM__HISTORY_TABLE);
    corm__buf_adds(&b, " (");
    corm__sql_ident(&b, "id");
    corm__buf_addf(&b, " %s, ", d->pk_column_def);
    corm__sql_ident(&b, "name");
    corm__buf_adds(&b, " text NOT NULL, ");
    corm__sql_ident(&b, "schema_hash");
    corm__buf_adds(&b, " bigint NOT NULL, ");
    corm__sql_ident(&b, "applied_at");
    corm__buf_adds(&b, " text NOT NULL)");
    corm_rc rc = emit(out, &b, err);
    corm__buf_free(&b);
    return rc;
}
