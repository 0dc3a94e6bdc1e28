/*
** corm/migrate.h - schema evolution (docs/migrations.md): migration files,
** makemigrations, migrate forward and back, sqlmigrate, showmigrations.
**
** A corm_migrations is a loaded, ordered chain of migrations (a directory
** of NNNN_name.corm-migration files, or texts compiled into a program).
** It is immutable once loaded; free it with corm_migrations_free.
*/
#ifndef CORM_MIGRATE_H
#define CORM_MIGRATE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corm_migrations corm_migrations;

/* Every *.corm-migration file of dir, checked (each depends on the one
** before).  A missing or empty directory is an empty chain.  Returns an
** owned chain, or NULL with err filled. */
CORM_API corm_migrations *corm_migrations_load(const char *dir, corm_error *err);
/* A chain from n texts in order (names[i] without the extension): what a
** program compiled with its migrations uses. */
CORM_API corm_migrations *corm_migrations_from_texts(const char *const *names,
                                                     const char *const *texts, int n,
                                                     corm_error *err);
CORM_API void corm_migrations_free(corm_migrations *ms);
CORM_API int corm_migrations_count(const corm_migrations *ms);
/* The name of migration i (borrowed), NULL past the end. */
CORM_API const char *corm_migrations_name(const corm_migrations *ms, int i);
/* The text of migration i as read (borrowed), NULL past the end. */
CORM_API const char *corm_migrations_text(const corm_migrations *ms, int i);

/* makemigrations: the next migration from the chain's state to schema.
** renames: "Old:New" for a model, "Model.old:new" for a field (never
** guessed).  name: the migration's name after its number, or NULL for one
** made from the operations.  On changes: *file_name ("0002_x.corm-migration")
** and *text are set (owned: corm_free_string) and CORM_OK returned; with no
** changes both are NULL. */
CORM_API corm_rc corm_makemigrations(const corm_migrations *ms, const corm_schema *schema,
                                     const char *const *renames, int nrenames, const char *name,
                                     char **file_name, char **text, corm_error *err);
CORM_API void corm_free_string(char *s);

/* Flags of corm_migrate_to. */
enum {
    CORM_MIGRATE_ALLOW_DATA_LOSS = 1 << 0, /* drop columns and tables that hold data */
    CORM_MIGRATE_FAKE = 1 << 1             /* record without running the SQL */
};

/* Apply the pending migrations of ms in order, each in one transaction
** recorded in corm_migrations, up to target (NULL: the last one); or,
** when target names an applied migration or is "zero", unapply the later
** ones, newest first.  A failing statement rolls its migration back whole
** and the error names it.  Two processes migrating at once serialise. */
CORM_API corm_rc corm_migrate_to(corm_db *db, const corm_migrations *ms, const char *target,
                                 unsigned flags);
/* The SQL migration `name` runs on db's backend (backwards: to unapply
** it), one statement a line, owned (corm_free_string). */
CORM_API corm_rc corm_sqlmigrate(corm_db *db, const corm_migrations *ms, const char *name,
                                 bool backwards, char **sql);
/* "[X] 0001_initial\n[ ] 0002_x\n" (owned: corm_free_string). */
CORM_API corm_rc corm_showmigrations(corm_db *db, const corm_migrations *ms, char **out);
/* CORM_OK when db's applied migrations are exactly those of ms; else
** CORM_SCHEMA with "database at 0003_x, this program expects 0004_y". */
CORM_API corm_rc corm_migrations_check(corm_db *db, const corm_migrations *ms);

/* Flags of corm_open_flags. */
enum {
    /* open a database whose applied migrations are not those compiled into
    ** the schema (to migrate it with corm_migrate, or to inspect it) */
    CORM_OPEN_NO_MIGRATION_CHECK = 1 << 0
};
/* corm_open with flags.  corm_open(url, schema, err) is corm_open_flags(url,
** schema, 0, err): when schema has compiled migrations (`corm gen
** --migrations DIR`) it refuses a database that does not have exactly
** those applied, with CORM_SCHEMA "database at 0003_x, this program
** expects 0004_y: run corm migrate". */
CORM_API corm_db *corm_open_flags(const char *url, const corm_schema *schema, unsigned flags,
                                  corm_error *err);

#ifdef __cplusplus
}
#endif
#endif
