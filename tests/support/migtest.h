/*
** migtest.h - helpers for the migration tests: a chain of migrations made
** by corm_makemigrations from schema texts, one version at a time, and the
** whole catalog of a database (columns with types, nullability and
** defaults, constraints with their names and definitions, indexes,
** sequences, triggers; not the history table), compared with the schema
** created directly.
*/
#ifndef CORM_TEST_MIGTEST_H
#define CORM_TEST_MIGTEST_H

#include "test.h"

/* Forget the chain (frees its names and texts). */
void mt_reset(void);
/* makemigrations for schema text v against the chain: it grows by one.
** The new migration's name and text. */
const char *mt_make(const char *v);
const char *mt_text(int i);
const char *mt_name(int i);
/* The chain as a corm_migrations (the caller frees it). */
corm_migrations *mt_chain(void);
/* Parse a schema text (fails the test on an error; corm_schema_free). */
corm_schema *mt_parse(const char *v);
/* A fresh database (schema s may be NULL). */
corm_db *mt_open_fresh(const corm_schema *s);
/* The catalog, one object a line, sorted; valid until the next call. */
const char *mt_catalog(corm_db *db);
/* Fail unless db's catalog equals the one schema text v creates directly
** (corm_migrate on a fresh database). */
void mt_same_as_direct(corm_db *db, const char *v);
/* corm_migrate_to, failing the test with the db's error. */
void mt_migrate(corm_db *db, const corm_migrations *ms, const char *to, unsigned flags);

#endif
