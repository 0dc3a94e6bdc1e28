/*
** fuzz_schema.c - the schema parser, and what is made of a schema that
** parses.  The input is schema text.  Invariants:
**   - parsing ends in a schema, or in an error with a message and a line;
**   - a schema that parses has DDL in both dialects, or a CORM_SCHEMA
**     error saying why;
**   - it migrates a new SQLite database (the DDL is valid SQL);
**   - makemigrations writes its initial migration, that file loads back,
**     applies to another new database, and a second makemigrations from
**     it finds no change.
*/
#include "fuzz.h"
#include "migrate/migrate_int.h"

#include <string.h>

const char fuzz_name[] = "schema";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_ddl(const corm__dialect *d, const corm_schema *s)
{
    corm__ddl ddl;
    corm__ddl_init(&ddl);
    corm_error err;
    memset(&err, 0, sizeof err);
    corm_rc rc = corm__ddl_schema(d, s, &ddl, &err);
    FUZZ_CHECK(rc == CORM_OK || (rc == CORM_SCHEMA && err.message[0]),
               "DDL (%s) of a schema that parsed: rc %d, '%s'", d->vendor, (int)rc, err.message);
    for (size_t i = 0; rc == CORM_OK && i < corm__ddl_count(&ddl); i++)
        FUZZ_CHECK(corm__ddl_at(&ddl, i)[0], "DDL (%s): empty statement %zu", d->vendor, i);
    corm__ddl_free(&ddl);
}

static void check_migrations(const corm_schema *s)
{
    corm_error err;
    corm_migrations *none = corm_migrations_from_texts(NULL, NULL, 0, &err);
    FUZZ_CHECK(none, "an empty chain: %s", err.message);
    char *file = NULL, *text = NULL;
    corm_rc rc = corm_makemigrations(none, s, NULL, 0, NULL, &file, &text, &err);
    corm_migrations_free(none);
    FUZZ_CHECK(rc == CORM_OK && text && file, "makemigrations of a schema that parsed: %s",
               err.message);
    /* the file loads back, under its name without the extension */
    char name[128];
    snprintf(name, sizeof name, "%s", file);
    char *dot = strstr(name, ".corm-migration");
    if (dot) *dot = '\0';
    const char *names[] = {name};
    const char *texts[] = {text};
    corm_migrations *ms = corm_migrations_from_texts(names, texts, 1, &err);
    FUZZ_CHECK(ms, "the migration makemigrations wrote does not load: %s\n%s", err.message, text);
    /* it applies to a new database */
    corm_db *db = corm_open_flags("sqlite::memory:", s, CORM_OPEN_NO_MIGRATION_CHECK, &err);
    FUZZ_CHECK(db, "open: %s", err.message);
    rc = corm_migrate_to(db, ms, NULL, 0);
    FUZZ_CHECK(rc == CORM_OK, "the initial migration does not apply: %s\n%s",
               corm_db_error(db)->message, text);
    corm_close(db);
    /* and nothing is left to migrate */
    char *file2 = NULL, *text2 = NULL;
    rc = corm_makemigrations(ms, s, NULL, 0, NULL, &file2, &text2, &err);
    FUZZ_CHECK(rc == CORM_OK && !text2, "makemigrations after the initial one: rc %d %s\n%s",
               (int)rc, err.message, text2 ? text2 : "");
    corm_migrations_free(ms);
    corm_free_string(file);
    corm_free_string(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) return 0;
    corm_error err;
    corm_schema *s = corm_schema_parse((const char *)data, size, "fuzz.corm", &err);
    if (!s) {
        FUZZ_CHECK(err.rc != CORM_OK && err.message[0], "no schema and no error message");
        return 0;
    }
    check_ddl(&corm__sqlite_dialect, s);
    check_ddl(&corm__pg_dialect, s);
    corm_db *db = corm_open("sqlite::memory:", s, &err);
    FUZZ_CHECK(db, "open: %s", err.message);
    corm_rc rc = corm_migrate(db);
    FUZZ_CHECK(rc == CORM_OK, "migrate of a schema that parsed: %s (%s)",
               corm_db_error(db)->message, corm_db_error(db)->sql);
    corm_close(db);
    if (s->nmodels) check_migrations(s);
    corm_schema_free(s);
    return 0;
}
