/*
** drift.c - corm_open's check that the database is at the migration the
** program was compiled with (schema->migration_names, from `corm gen
** --migrations DIR`).  A program whose schema has no compiled migrations
** is not checked.
**
** The check reads the history table the migrator keeps (src/migrate: the
** table "corm_migrations", one row per applied migration, in order of id)
** straight through the driver: it is not a query of the program, so it is
** neither counted nor seen by instrumentation.  It compares the names: the
** database must have exactly the program's migrations applied.
*/
#include "db_int.h"

#include <string.h>

#define HISTORY "corm_migrations"

/* Run sql; *out gets the first column of every row, joined by '\n'
** (owned by the caller); CORM_OK or the driver's error in err. */
static corm_rc read_rows(corm_db *db, const char *sql, corm_buf *out, corm_error *err)
{
    corm__stmt *st = NULL;
    corm_rc rc = db->be->query(db->conn, sql, NULL, 0, &st, err);
    if (rc != CORM_OK) return rc;
    for (;;) {
        bool row = false;
        rc = db->be->step(st, &row, err);
        if (rc != CORM_OK || !row) break;
        size_t n = 0;
        const char *t = db->be->column_text(st, 0, &n);
        if (out->len) corm__buf_addc(out, '\n');
        corm__buf_add(out, t ? t : "", t ? n : 0);
    }
    db->be->finish(st);
    if (rc == CORM_OK && out->oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory reading the migration history");
        rc = CORM_NOMEM;
    }
    return rc;
}

/* The last line of the history text (the last applied migration). */
static const char *last_line(corm_buf *b, size_t *len)
{
    const char *p = corm__buf_cstr(b);
    const char *nl = strrchr(p, '\n');
    const char *s = nl ? nl + 1 : p;
    *len = strlen(s);
    return s;
}

corm_rc corm__db_check_migrations(corm_db *db, corm_error *err)
{
    const corm_schema *s = db->schema;
    if (!s || s->nmigrations <= 0 || !s->migration_names) return CORM_OK;
    const char *expect = s->migration_names[s->nmigrations - 1];
    bool pg = strcmp(db->be->vendor, "sqlite") != 0;
    corm_buf exists, hist, want;
    corm__buf_init(&exists);
    corm__buf_init(&hist);
    corm__buf_init(&want);
    corm_rc rc =
        read_rows(db,
                  pg ? "SELECT 1 WHERE to_regclass('" HISTORY "') IS NOT NULL"
                     : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '" HISTORY "'",
                  &exists, err);
    if (rc == CORM_OK && exists.len)
        rc = read_rows(db, "SELECT \"name\" FROM \"" HISTORY "\" ORDER BY \"id\"", &hist, err);
    if (rc != CORM_OK) {
        char tmp[sizeof err->message];
        corm__strlcpy(tmp, err->message, sizeof tmp);
        corm__err_set(err, rc, "cannot read the migration history of '%s': %s", db->url, tmp);
        corm__err_hint(err, "corm_open checks that the database is at the program's last "
                            "migration; to open it without the check use corm_open_flags(url, "
                            "schema, CORM_OPEN_NO_MIGRATION_CHECK, &err)");
        goto done;
    }
    for (int i = 0; i < s->nmigrations; i++)
        corm__buf_addf(&want, "%s%s", i ? "\n" : "", s->migration_names[i]);
    if (want.oom) {
        corm__err_set(err, CORM_NOMEM, "out of memory checking the migration history");
        rc = CORM_NOMEM;
        goto done;
    }
    if (strcmp(corm__buf_cstr(&hist), corm__buf_cstr(&want)) == 0) goto done;
    size_t n = 0;
    const char *at = hist.len ? last_line(&hist, &n) : "zero (no migrations applied)";
    if (!hist.len) n = strlen(at);
    /* behind: the history is a prefix of the program's migrations */
    bool behind = hist.len < want.len && strncmp(want.p, corm__buf_cstr(&hist), hist.len) == 0 &&
                  (!hist.len || want.p[hist.len] == '\n');
    rc = CORM_SCHEMA;
    if (behind) {
        corm__err_set(err, rc, "database at %.*s, this program expects %s: run corm migrate",
                      (int)n, at, expect);
        corm__err_hint(err, "apply the pending migrations (`corm migrate --db URL`, or "
                            "corm_migrate(db) on a db opened with corm_open_flags(url, schema, "
                            "CORM_OPEN_NO_MIGRATION_CHECK, &err)), then open it again");
    } else {
        corm__err_set(err, rc,
                      "database at %.*s, this program expects %s: the database's migrations "
                      "are not this program's",
                      (int)n, at, expect);
        corm__err_hint(err,
                       "the database was migrated by another version of the program: run "
                       "that version's `corm migrate --to %s`, or this program's newer "
                       "build",
                       expect);
    }
done:
    corm__buf_free(&exists);
    corm__buf_free(&hist);
    corm__buf_free(&want);
    return rc;
}
