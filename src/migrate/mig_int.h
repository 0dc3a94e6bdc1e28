/*
** mig_int.h - schema evolution: the migration state, migration files,
** the autodetector and the operations' SQL.
**
** The state of a database's schema after some migrations is kept as text:
** an ordered list of models, each an ordered list of member lines in the
** schema language ("isbn: char(13) unique", "index book_pub_idx (-date)").
** Operations edit those lines; rendering the state gives a .corm text that
** the schema parser turns into descriptors, and the DDL writers (ddl.c)
** turn descriptors into SQL.  So an operation's SQL is a function of the
** state before and after it, both ways (backwards = swap them), and the
** autodetector compares two renderings of descriptors (canonical lines).
**
** Everything a corm_migrations owns lives in its arena.
*/
#ifndef CORM_MIG_INT_H
#define CORM_MIG_INT_H

#include "migrate_int.h"
#include "../schema/schema_int.h"
#include <corm/migrate.h>

typedef enum corm__opkind {
    CORM__OP_CREATE_MODEL,
    CORM__OP_DROP_MODEL,
    CORM__OP_ADD_FIELD,
    CORM__OP_REMOVE_FIELD,
    CORM__OP_ALTER_FIELD,
    CORM__OP_RENAME_FIELD,
    CORM__OP_RENAME_MODEL,
    CORM__OP_ADD_INDEX,
    CORM__OP_REMOVE_INDEX,
    CORM__OP_ALTER_MODEL,
    CORM__OP_COUNT
} corm__opkind;

/* One operation.  lines: member lines (create/drop: the model's; add/
** remove field or index: one; alter: from, to).  For renames model/name
** hold the old names and to the new one. */
typedef struct corm__op {
    corm__opkind kind;
    const char *model;
    const char *name; /* rename_field: old field name */
    const char *to;   /* rename_*: the new name */
    const char **lines;
    int nlines;
    bool concurrently; /* add/remove index on PostgreSQL */
    int line;          /* in the file, for messages */
} corm__op;

typedef struct corm__migration {
    const char *name;    /* "0002_add_book_isbn" */
    const char *depends; /* previous migration, NULL for the first */
    const char *path;    /* the file, NULL when embedded */
    const char *text;    /* the file's text, as read */
    corm__op *ops;
    int nops;
    const char *lock_timeout, *statement_timeout; /* PostgreSQL, or NULL */
} corm__migration;

/* A model of the state: name and member lines. */
typedef struct corm__smodel {
    const char *name;
    const char **lines;
    int nlines, cap;
} corm__smodel;

typedef struct corm__state {
    corm_arena *arena; /* borrowed: the migrations' arena */
    corm__smodel *models;
    int nmodels, cap;
} corm__state;

struct corm_migrations {
    corm_arena arena;
    corm__migration *migs;
    int nmigs, cap;
    const char *dir;
};

extern const char *const corm__op_names[CORM__OP_COUNT];

/* The state: copy, apply one operation (false + err when it does not fit
** the state: unknown model, field exists...), render to .corm text, parse
** to descriptors (owned by the caller: corm_schema_free). */
void corm__state_init(corm__state *s, corm_arena *a);
bool corm__state_copy(corm__state *dst, const corm__state *src);
corm_rc corm__state_apply(corm__state *s, const corm__migration *m, const corm__op *op,
                          corm_error *err);
void corm__state_render(const corm__state *s, corm_buf *out);
corm_schema *corm__state_schema(const corm__state *s, corm_error *err);
/* The canonical lines of a schema (descriptors -> lines). */
corm_rc corm__state_from_schema(corm__state *s, const corm_schema *schema, corm_error *err);
/* The key of a member line: the field name for a field, else the line. */
size_t corm__line_key(const char *line, const char **key);
bool corm__line_is_field(const char *line);
bool corm__line_is_index(const char *line);

/* Migration files: parse one (text of path), write one (text to out). */
corm_rc corm__mfile_parse(corm_migrations *ms, const char *text, const char *path, const char *name,
                          corm_error *err);
void corm__mfile_write(const corm__migration *m, corm_buf *out);

/* The autodetector: the operations from state `from` to schema `to`.
** renames: "Old:New" (models) or "Model.old:new" (fields); hints: the
** schema's renamed_from, in the same form, applied only where the old name
** is in `from` and the new one is not.  Ops and their
** strings in a. */
corm_rc corm__autodetect(corm_arena *a, const corm__state *from, const corm__state *to,
                         const char *const *renames, int nrenames, const char *const *hints,
                         int nhints, corm__migration *out, corm_error *err);

/* The SQL of one operation between two states' descriptors (backwards:
** the inverse operation, before = the later state). */
corm_rc corm__op_sql(const corm__dialect *d, const corm__op *op, bool backwards,
                     const corm_schema *before, const corm_schema *after, corm__ddl *out,
                     corm_error *err);

/* pgnames.c: the names PostgreSQL gives a table's pkey, identity sequence,
** UNIQUE and inline REFERENCES ("<n1>[_<n2>]_<label>", at most 63 bytes, as
** PostgreSQL cuts them), and the statements renaming one from the names
** before to the names after (none when equal or not PostgreSQL).  label
** "seq" renames a sequence, any other a constraint of `table`.  _table: a
** model table's pkey and sequence; _join: a join table's pkey, sequence,
** UNIQUE (c1, c2) and the REFERENCES of c1 and c2. */
void corm__pg_name(corm_buf *out, const char *n1, const char *n2, const char *label);
corm_rc corm__pg_rename(const corm__dialect *d, const char *table, const char *label,
                        const char *n1b, const char *n2b, const char *n1a, const char *n2a,
                        corm__ddl *out, corm_error *err);
corm_rc corm__pg_rename_table(const corm__dialect *d, const char *tb, const char *pkb,
                              const char *ta, const char *pka, corm__ddl *out, corm_error *err);
corm_rc corm__pg_rename_join(const corm__dialect *d, const char *tb, const char *b1, const char *b2,
                             const char *ta, const char *a1, const char *a2, corm__ddl *out,
                             corm_error *err);

#endif
