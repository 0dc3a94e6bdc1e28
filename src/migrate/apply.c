/*
** apply.c - corm_migrate: bring an empty database to db's schema in one
** transaction and record it in the history table.
**
** Order of work:
**   1. write all the DDL first (pure; a bad descriptor fails here, before
**      the database is touched);
**   2. BEGIN (IMMEDIATE on SQLite: the write lock is taken before the
**      history is read, so two processes migrating at once serialise and
**      the second one sees the first one's row instead of failing);
**   3. CREATE TABLE IF NOT EXISTS corm_migrations; if "0001_initial" is in
**      it, COMMIT: nothing to do;
**   4. every DDL statement, then the history row, then COMMIT.
** Any failure rolls back everything (SQLite and PostgreSQL both have
** transactional DDL): no table, no index, no history table, no row.  The
** error left on db names the statement that failed and its position.
**
** A schema compiled with its migrations (corm gen --migrations) is
** migrated by its chain instead: the pending migrations are applied
** (src/migrate/run.c), as `corm migrate` would.
**
** Every statement goes through corm__db_run with origin "migrate", so it is
** counted and seen by the query log like any other.
*/
#include "migrate_int.h"
#include "../db/db_int.h"

#include <string.h>

#define HISTORY_HINT                                                                  \
    "a table or view named " CORM__HISTORY_TABLE " that corm did not make is in the " \
    "way: rename it"

/* Run one statement of the migration. */
static corm_rc run(corm_db *db, const char *sql, const corm_value *params, int n)
{
    return corm__db_run(db, sql, params, n, CORM__LIB_SITE, "migrate", NULL);
}

/* Roll back after a failure, keeping the failure's error on db. */
static void roll_back(corm_db *db)
{
    if (!db->be->in_transaction(db->conn)) return; /* SQLite may have done it */
    corm_error keep;
    corm__err_copy(&keep, &db->err);
    (void)run(db, "ROLLBACK", NULL, 0);
    corm__err_copy(&db->err, &keep);
}

/* Rewrite db->err after a step of the migration failed: say which step
** (`where`), keep the database's message, rc, sqlstate and SQL. */
static void explain_failure(corm_db *db, const char *where, const char *sql, const char *hint)
{
    corm_error e;
    corm__err_copy(&e, &db->err);
    corm__err_set(&db->err, e.rc ? e.rc : CORM_DB, "migration %s failed %s: %s",
                  CORM__MIGRATION_INITIAL, where, e.message[0] ? e.message : corm_rc_str(e.rc));
    corm__err_hint(&db->err, "nothing was applied (the migration was rolled back); %s", hint);
    corm__err_sql(&db->err, sql);
    corm__strlcpy(db->err.sqlstate, e.sqlstate, sizeof db->err.sqlstate);
}

static void explain_ddl_failure(corm_db *db, size_t i, size_t n, const char *sql)
{
    char head[96];
    corm__strlcpy(head, sql, sizeof head);
    if (strlen(sql) >= sizeof head) memcpy(head + sizeof head - 4, "...", 4);
    corm_buf where;
    corm__buf_init(&where);
    corm__buf_addf(&where, "at statement %zu of %zu (%s)", i + 1, n, head);
    explain_failure(db, corm__buf_cstr(&where), sql,
                    "corm_migrate expects a database without the schema's tables: use a "
                    "new file or drop the conflicting table");
    corm__buf_free(&where);
}

/* Whether the initial migration is recorded: 1, 0, or -1 on error. */
static int already_applied(corm_db *db, const char *select_sql)
{
    corm__cursor cur;
    corm_value name = corm_text(CORM__MIGRATION_INITIAL);
    corm_site none = {0};
    if (corm__db_query(db, &cur, select_sql, &name, 1, CORM__LIB_SITE, none, "migrate") != CORM_OK)
        return -1;
    bool row = false;
    corm_rc rc = corm__cursor_step(&cur, &row);
    corm__cursor_close(&cur);
    return rc != CORM_OK ? -1 : row ? 1 : 0;
}

/* A schema compiled with its migrations (`corm gen --migrations DIR`):
** apply the pending ones, as corm_migrate_to(db, chain, NULL, 0). */
static corm_rc migrate_compiled(corm_db *db, const corm_schema *s)
{
    corm_migrations *ms = corm_migrations_from_texts(s->migration_names, s->migration_texts,
                                                     s->nmigrations, &db->err);
    if (!ms) return db->err.rc ? db->err.rc : CORM_NOMEM;
    corm_rc rc = corm_migrate_to(db, ms, NULL, 0);
    corm_migrations_free(ms);
    return rc;
}

corm_rc corm_migrate(corm_db *db)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    const corm_schema *s = db->schema;
    if (!s) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_migrate: the database has no schema");
        corm__err_hint(&db->err, "pass the schema to corm_open (e.g. &bookstore_schema)");
        return CORM_MISUSE;
    }
    if (s->nmigrations > 0) return migrate_compiled(db, s);
    const corm__dialect *d = db->dialect;
    if (CORM_NEVER(!d)) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_migrate: no SQL dialect for %s", db->be->vendor);
        return CORM_MISUSE;
    }
    if (db->tx_depth > 0 || db->be->in_transaction(db->conn)) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_migrate called inside a transaction");
        corm__err_hint(&db->err, "commit or roll back first: the migration runs in a "
                                 "transaction of its own");
        return CORM_MISUSE;
    }

    corm__ddl hist, ddl;
    corm__ddl_init(&hist);
    corm__ddl_init(&ddl);
    corm_buf sel, ins;
    corm__buf_init(&sel);
    corm__buf_init(&ins);
    corm_rc rc = corm__ddl_history_table(d, &hist, &db->err);
    if (rc == CORM_OK) rc = corm__ddl_schema(d, s, &ddl, &db->err);

    corm__buf_adds(&sel, "SELECT 1 FROM ");
    corm__sql_ident(&sel, CORM__HISTORY_TABLE);
    corm__buf_adds(&sel, " WHERE ");
    corm__sql_ident(&sel, "name");
    corm__buf_adds(&sel, " = ");
    corm__sql_param(&sel, d, 1);

    corm__buf_adds(&ins, "INSERT INTO ");
    corm__sql_ident(&ins, CORM__HISTORY_TABLE);
    corm__buf_adds(&ins, " (");
    corm__sql_ident(&ins, "name");
    corm__buf_adds(&ins, ", ");
    corm__sql_ident(&ins, "schema_hash");
    corm__buf_adds(&ins, ", ");
    corm__sql_ident(&ins, "applied_at");
    corm__buf_adds(&ins, ") VALUES (");
    corm__sql_param(&ins, d, 1);
    corm__buf_adds(&ins, ", ");
    corm__sql_param(&ins, d, 2);
    corm__buf_adds(&ins, ", CURRENT_TIMESTAMP)");

    if (rc == CORM_OK && (sel.oom || ins.oom)) {
        corm__err_set(&db->err, CORM_NOMEM, "out of memory writing the migration");
        rc = CORM_NOMEM;
    }
    if (rc != CORM_OK) goto done;

    rc = run(db, strcmp(d->vendor, "sqlite") == 0 ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0);
    if (rc != CORM_OK) goto done;
    rc = run(db, corm__ddl_at(&hist, 0), NULL, 0);
    if (rc != CORM_OK) {
        explain_failure(db, "creating the history table " CORM__HISTORY_TABLE,
                        corm__ddl_at(&hist, 0), HISTORY_HINT);
        goto fail;
    }
    int applied = already_applied(db, corm__buf_cstr(&sel));
    if (applied < 0) {
        rc = db->err.rc ? db->err.rc : CORM_DB;
        explain_failure(db, "reading the history table " CORM__HISTORY_TABLE, corm__buf_cstr(&sel),
                        HISTORY_HINT);
        goto fail;
    }
    if (applied == 0) {
        size_t n = corm__ddl_count(&ddl);
        for (size_t i = 0; i < n; i++) {
            rc = run(db, corm__ddl_at(&ddl, i), NULL, 0);
            if (rc != CORM_OK) {
                explain_ddl_failure(db, i, n, corm__ddl_at(&ddl, i));
                goto fail;
            }
        }
        corm_value params[2] = {corm_text(CORM__MIGRATION_INITIAL), corm_int((int64_t)s->hash)};
        rc = run(db, corm__buf_cstr(&ins), params, 2);
        if (rc != CORM_OK) {
            explain_failure(db, "recording it in " CORM__HISTORY_TABLE, corm__buf_cstr(&ins),
                            HISTORY_HINT);
            goto fail;
        }
    }
    rc = run(db, "COMMIT", NULL, 0);
    if (rc != CORM_OK) goto fail;
    goto done;

fail:
    roll_back(db);
done:
    corm__buf_free(&sel);
    corm__buf_free(&ins);
    corm__ddl_free(&hist);
    corm__ddl_free(&ddl);
    return rc;
}
