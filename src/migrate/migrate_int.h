/*
** migrate_int.h - DDL from model descriptors, per dialect, and the history
** table.  The DDL writers are pure (descriptors in, SQL text out, no
** connection), one per kind of object, so that a later makemigrations can
** diff two schemas and emit only what changed with the same functions.
**
** What the SQL looks like (SQLite, as Django writes it, so both can share a
** file):
**   CREATE TABLE "book" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
**     "title" varchar(200) NOT NULL, "isbn" varchar(13) NOT NULL UNIQUE,
**     "author_id" bigint NOT NULL REFERENCES "author" ("id")
**       DEFERRABLE INITIALLY DEFERRED,
**     CONSTRAINT "book_title_uniq" UNIQUE ("title", "author_id"))
**   CREATE INDEX "book_author_id_idx" ON "book" ("author_id")
**   CREATE INDEX "book_pub_idx" ON "book" ("published_date" DESC)
** Foreign keys carry no ON DELETE clause: corm applies on_delete (CASCADE,
** PROTECT, SET_NULL, RESTRICT) in the library, as Django does, so that the
** objects deleted are known (events, counts) and PROTECT can name them.
**
** Unique indexes: a unique index whose columns are all ascending becomes a
** table constraint CONSTRAINT "name" UNIQUE (...) (Django's UniqueConstraint);
** one with a descending column becomes CREATE UNIQUE INDEX.
**
** Single-column indexes: every db_index field and every foreign key that
** is not unique gets one, unless the model's index list has it already
** (the schema validator lists them there, named "<table>_<column>_idx").
** Index names not given by the schema follow the same convention and are
** at most 63 bytes (PostgreSQL's identifier limit); two runs produce the
** same DDL.
*/
#ifndef CORM_MIGRATE_INT_H
#define CORM_MIGRATE_INT_H

#include "../core/core_int.h"
#include "../sql/dialect.h"

#define CORM__HISTORY_TABLE "corm_migrations"
#define CORM__MIGRATION_INITIAL "0001_initial"
#define CORM__DDL_NAME_MAX 63

/* An ordered list of DDL statements, each an owned NUL-terminated string. */
typedef struct corm__ddl {
    corm_vec stmts; /* char *, from corm__malloc */
    bool oom;       /* sticky: a statement could not be stored */
} corm__ddl;

void corm__ddl_init(corm__ddl *l);
void corm__ddl_free(corm__ddl *l);
/* Append a copy of the text of b as one statement (sets l->oom on OOM or
** when b->oom). */
void corm__ddl_push(corm__ddl *l, corm_buf *b);
size_t corm__ddl_count(const corm__ddl *l);
/* Statement i (borrowed, valid until corm__ddl_free). */
const char *corm__ddl_at(const corm__ddl *l, size_t i);

/* One column definition: "\"title\" varchar(200) NOT NULL DEFAULT 'x'"
** (appended to out).  Errors: CORM_SCHEMA for a field the dialect cannot
** express (unknown type, default that is not a SQL literal). */
corm_rc corm__ddl_column(const corm__dialect *d, const corm_model *m, const corm_field *f,
                         corm_buf *out, corm_error *err);

/* CREATE TABLE for m with its columns in field order and its table-level
** UNIQUE constraints.  One statement. */
corm_rc corm__ddl_create_table(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                               corm_error *err);

/* One of those (none for a field that is not a relation or a dialect
** whose fks are in the columns). */
corm_rc corm__ddl_foreign_key(const corm__dialect *d, const corm_model *m, const corm_field *f,
                              corm__ddl *out, corm_error *err);
/* The quoted name of that constraint, appended to b. */
void corm__ddl_fk_name(corm_buf *b, const char *table, const char *column);
/* The single-column index of f (db_index or fk, not unique), if it has one. */
corm_rc corm__ddl_field_index(const corm__dialect *d, const corm_model *m, const corm_field *f,
                              corm__ddl *out, corm_error *err);
bool corm__ddl_field_indexed(const corm_model *m, const corm_field *f);
/* One declared index: CREATE [UNIQUE] INDEX, or for a unique index that is
** a table constraint ALTER TABLE ... ADD CONSTRAINT ... UNIQUE. */
corm_rc corm__ddl_index(const corm__dialect *d, const corm_model *m, const corm_index *ix,
                        corm__ddl *out, corm_error *err);
bool corm__ddl_index_is_constraint(const corm_index *ix);

/* The foreign keys of m as ALTER TABLE ... ADD CONSTRAINT "<table>_<col>_fk"
** FOREIGN KEY ... DEFERRABLE INITIALLY DEFERRED, for dialects with
** fk_after_tables (PostgreSQL); none otherwise (they are in the columns). */
corm_rc corm__ddl_foreign_keys(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                               corm_error *err);

/* CREATE [UNIQUE] INDEX for m: db_index fields, every foreign key column
** that is not already unique, and m's index list (unique ones that are
** not table constraints).  Zero or more statements. */
corm_rc corm__ddl_create_indexes(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                                 corm_error *err);

/* The join table of the forward m2m relation r of m: id, src and dst
** foreign keys, UNIQUE (src, dst).  One statement. */
corm_rc corm__ddl_m2m_table(const corm__dialect *d, const corm_model *m, const corm_relation *r,
                            corm__ddl *out, corm_error *err);
/* The index on the join table's dst column (src is the leading column of
** the UNIQUE constraint, so it has one already).  One statement. */
corm_rc corm__ddl_m2m_indexes(const corm__dialect *d, const corm_model *m, const corm_relation *r,
                              corm__ddl *out, corm_error *err);

/* Everything for a new database, in the order it can run: every model
** table, their foreign keys when added apart, every join table, then every
** index. */
corm_rc corm__ddl_schema(const corm__dialect *d, const corm_schema *s, corm__ddl *out,
                         corm_error *err);

/* CREATE TABLE IF NOT EXISTS for the migration history. */
corm_rc corm__ddl_history_table(const corm__dialect *d, corm__ddl *out, corm_error *err);

/* The name of an index the schema does not name, appended to out
** unquoted: "<table>_<col>[_desc]..._idx" ("_uniq" when unique), the
** convention of the schema validator; over 63 bytes it is cut to 54 and
** "_<8 hex of the whole name>" added. */
void corm__ddl_index_name(corm_buf *out, const char *table, const char *const *cols,
                          const bool *desc, int ncols, bool unique);

/* Whether s is a SQL literal safe to put in DEFAULT: a number, a
** 'single-quoted' string, X'hex', TRUE/FALSE/NULL or CURRENT_TIMESTAMP/
** CURRENT_DATE/CURRENT_TIME.  DDL cannot bind parameters, so this is the
** gate that keeps schema text from becoming SQL. */
bool corm__ddl_is_literal(const char *s);

/* ddl_text.c: an index `using trigram` or `using search` (one or more
** statements; none for a trigram index on SQLite), its removal, and on
** SQLite the search tables of m, dropped before DROP TABLE of m. */
corm_rc corm__ddl_text_index(const corm__dialect *d, const corm_model *m, const corm_index *ix,
                             corm__ddl *out, corm_error *err);
corm_rc corm__ddl_drop_text_index(const corm__dialect *d, const corm_index *ix, bool concurrently,
                                  corm__ddl *out, corm_error *err);
corm_rc corm__ddl_drop_search_tables(const corm__dialect *d, const corm_model *m, corm__ddl *out,
                                     corm_error *err);

/* s as a SQL string literal ('...', quotes doubled), appended to b. */
void corm__ddl_quoted(corm_buf *b, const char *s);

#endif
