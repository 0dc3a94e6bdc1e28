/*
** run.c - migrate forward and back, sqlmigrate, showmigrations, drift.
**
** Each migration runs in one transaction with its history row (inserted
** forwards, deleted backwards): a failing statement rolls it back whole and
** the error names the migration, the statement and its position.  Before
** the work, the migrator takes a lock for the whole database (SQLite:
** BEGIN IMMEDIATE; PostgreSQL: pg_advisory_xact_lock) and reads the
** history again inside it, so two processes migrating at once serialise
** and the second finds the work done.  SQLite runs with foreign keys off
** (the table rebuilds would otherwise cascade) and PRAGMA
** foreign_key_check before COMMIT.  A PostgreSQL migration with a
** concurrent index runs without a transaction (CREATE INDEX CONCURRENTLY
** cannot run in one), statement by statement.
*/
#include "mig_int.h"
#include "../db/db_int.h"

#include <stdio.h>
#include <string.h>

#define PG_LOCK_KEY "7163920514"

static corm_rc run(corm_db *db, const char *sql)
{
    return corm__db_run(db, sql, NULL, 0, CORM__LIB_SITE, "migrate", NULL);
}

static bool sqlite(const corm_db *db) { return strcmp(db->dialect->vendor, "sqlite") == 0; }

/* ------------------------------------------------------------ history */

static void roll_back(corm_db *db);

/* CREATE TABLE IF NOT EXISTS for the history.  On PostgreSQL two sessions
** running it at once can both try to create the table (unique violation
** on pg_type), so it runs under the migrator's advisory lock there. */
static corm_rc history_table(corm_db *db)
{
    corm__ddl h;
    corm__ddl_init(&h);
    corm_rc rc = corm__ddl_history_table(db->dialect, &h, &db->err);
    bool locked = rc == CORM_OK && !sqlite(db);
    if (locked) {
        rc = run(db, "BEGIN");
        if (rc == CORM_OK) rc = run(db, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")");
    }
    if (rc == CORM_OK) rc = run(db, corm__ddl_at(&h, 0));
    if (locked && rc == CORM_OK) rc = run(db, "COMMIT");
    if (locked && rc != CORM_OK) roll_back(db);
    corm__ddl_free(&h);
    return rc;
}

/* The applied migration names, in order (owned strings in *out). */
static corm_rc applied(corm_db *db, corm_vec *out)
{
    corm_buf q;
    corm__buf_init(&q);
    corm__buf_adds(&q, "SELECT ");
    corm__sql_ident(&q, "name");
    corm__buf_adds(&q, " FROM ");
    corm__sql_ident(&q, CORM__HISTORY_TABLE);
    corm__buf_adds(&q, " ORDER BY ");
    corm__sql_ident(&q, "id");
    corm__cursor cur;
    corm_site none = {0};
    corm_rc rc =
        corm__db_query(db, &cur, corm__buf_cstr(&q), NULL, 0, CORM__LIB_SITE, none, "migrate");
    if (rc != CORM_OK) {
        corm__buf_free(&q);
        return rc;
    }
    for (;;) {
        bool row = false;
        rc = corm__cursor_step(&cur, &row);
        if (rc != CORM_OK || !row) break;
        size_t n = 0;
        const char *t = db->be->column_text(cur.stmt, 0, &n);
        char *s = corm__strndup(t ? t : "", n);
        if (!s || !corm__vec_push(out, s)) {
            corm__free(s);
            corm__err_set(&db->err, CORM_NOMEM, "out of memory reading the migration history");
            rc = CORM_NOMEM;
            break;
        }
    }
    corm__cursor_close(&cur); /* before its SQL goes */
    corm__buf_free(&q);
    return rc;
}

static void free_names(corm_vec *v)
{
    for (size_t i = 0; i < v->n; i++) corm__free(v->p[i]);
    corm__vec_free(v);
}

/* How many migrations of ms the history holds (a prefix), or -1 with the
** error set when the history is not a prefix of the chain. */
static int applied_prefix(corm_db *db, const corm_migrations *ms, const corm_vec *names)
{
    for (size_t i = 0; i < names->n; i++) {
        const char *n = names->p[i];
        if ((int)i >= ms->nmigs || strcmp(ms->migs[i].name, n) != 0) {
            corm__err_set(&db->err, CORM_SCHEMA, "the database has migration %s applied, which %s",
                          n,
                          (int)i >= ms->nmigs ? "this program's migrations do not have"
                                              : "is not next in this program's migrations");
            corm__err_hint(&db->err, "the database was migrated by another version of the "
                                     "program: use its migrations, or migrate back with it");
            return -1;
        }
    }
    return (int)names->n;
}

static corm_rc record(corm_db *db, const char *name, uint32_t hash, bool add)
{
    corm_buf b;
    corm__buf_init(&b);
    const corm__dialect *d = db->dialect;
    if (add) {
        corm__buf_adds(&b, "INSERT INTO ");
        corm__sql_ident(&b, CORM__HISTORY_TABLE);
        corm__buf_adds(&b, " (\"name\", \"schema_hash\", \"applied_at\") VALUES (");
        corm__sql_param(&b, d, 1);
        corm__buf_adds(&b, ", ");
        corm__sql_param(&b, d, 2);
        corm__buf_adds(&b, ", CURRENT_TIMESTAMP)");
    } else {
        corm__buf_adds(&b, "DELETE FROM ");
        corm__sql_ident(&b, CORM__HISTORY_TABLE);
        corm__buf_adds(&b, " WHERE \"name\" = ");
        corm__sql_param(&b, d, 1);
    }
    corm_value p[2] = {corm_text(name), corm_int((int64_t)hash)};
    corm_rc rc =
        corm__db_run(db, corm__buf_cstr(&b), p, add ? 2 : 1, CORM__LIB_SITE, "migrate", NULL);
    corm__buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------ SQL of a migration */

/* The state before the first migration (the parser wants a model). */
static corm_schema empty_schema = {.name = "empty"};

/* The state before migration i (arena a). */
static corm_rc state_before(const corm_migrations *ms, int i, corm__state *s, corm_error *err)
{
    corm_rc rc = CORM_OK;
    for (int k = 0; k < i && rc == CORM_OK; k++)
        for (int j = 0; j < ms->migs[k].nops && rc == CORM_OK; j++)
            rc = corm__state_apply(s, &ms->migs[k], &ms->migs[k].ops[j], err);
    return rc;
}

/* Every statement of migration i (backwards: to unapply it), checks
** included, and the hash of the state it leaves. */
static corm_rc migration_sql(const corm__dialect *d, const corm_migrations *ms, int i,
                             bool backwards, corm__ddl *out, uint32_t *hash, corm_error *err)
{
    const corm__migration *m = &ms->migs[i];
    corm_arena a;
    corm__arena_init(&a, 4096);
    corm__state *states = corm__arena_zalloc(&a, (size_t)(m->nops + 1) * sizeof *states);
    corm_rc rc = states ? CORM_OK : CORM_NOMEM;
    if (!states) corm__err_set(err, CORM_NOMEM, "out of memory");
    if (rc == CORM_OK) {
        corm__state_init(&states[0], &a);
        rc = state_before(ms, i, &states[0], err);
    }
    for (int j = 0; j < m->nops && rc == CORM_OK; j++) {
        if (!corm__state_copy(&states[j + 1], &states[j])) {
            corm__err_set(err, CORM_NOMEM, "out of memory");
            rc = CORM_NOMEM;
            break;
        }
        rc = corm__state_apply(&states[j + 1], m, &m->ops[j], err);
    }
    corm_schema **sch = corm__arena_zalloc(&a, (size_t)(m->nops + 1) * sizeof *sch);
    for (int j = 0; j <= m->nops && rc == CORM_OK && sch; j++) {
        sch[j] = states[j].nmodels ? corm__state_schema(&states[j], err) : &empty_schema;
        if (!sch[j]) {
            char tmp[sizeof err->message];
            snprintf(tmp, sizeof tmp, "%s", err->message);
            corm__err_set(err, CORM_SCHEMA, "migration %s: the state %s is not a valid schema: %s",
                          m->name, j ? "after an operation" : "before it", tmp);
            rc = CORM_SCHEMA;
        }
    }
    if (rc == CORM_OK && hash) {
        corm_buf b;
        corm__buf_init(&b);
        corm__state_render(&states[backwards ? 0 : m->nops], &b);
        *hash = corm__hash_str(b.p ? b.p : "", b.len);
        corm__buf_free(&b);
    }
    for (int n = 0; n < m->nops && rc == CORM_OK; n++) {
        int j = backwards ? m->nops - 1 - n : n;
        rc = backwards ? corm__op_sql(d, &m->ops[j], true, sch[j + 1], sch[j], out, err)
                       : corm__op_sql(d, &m->ops[j], false, sch[j], sch[j + 1], out, err);
        if (rc != CORM_OK) {
            char tmp[sizeof err->message];
            snprintf(tmp, sizeof tmp, "%s", err->message);
            corm__err_set(err, rc, "migration %s, %s %s (line %d): %s", m->name,
                          corm__op_names[m->ops[j].kind], m->ops[j].model, m->ops[j].line, tmp);
        }
    }
    if (sch)
        for (int j = 0; j <= m->nops; j++)
            if (sch[j] != &empty_schema) corm_schema_free(sch[j]);
    corm__arena_free(&a);
    return rc;
}

static bool has_concurrent(const corm__migration *m)
{
    for (int j = 0; j < m->nops; j++)
        if (m->ops[j].concurrently) return true;
    return false;
}

/* ------------------------------------------------------------ running */

static void roll_back(corm_db *db)
{
    if (!db->be->in_transaction(db->conn)) return;
    corm_error keep;
    corm__err_copy(&keep, &db->err);
    (void)run(db, "ROLLBACK");
    corm__err_copy(&db->err, &keep);
}

/* The quoted name of the index a CREATE [UNIQUE] INDEX CONCURRENTLY
** statement creates (pointer into sql, length in *len), or NULL. */
static const char *concurrent_index(const char *sql, size_t *len)
{
    static const char *const heads[] = {"CREATE INDEX CONCURRENTLY ",
                                        "CREATE UNIQUE INDEX CONCURRENTLY "};
    for (size_t h = 0; h < 2; h++) {
        size_t hn = strlen(heads[h]);
        if (strncmp(sql, heads[h], hn) != 0 || sql[hn] != '"') continue;
        const char *p = sql + hn, *q = p + 1;
        while (*q && !(*q == '"' && q[1] != '"')) q += *q == '"' ? 2 : 1;
        if (!*q) return NULL;
        *len = (size_t)(q + 1 - p);
        return p;
    }
    return NULL;
}

/* A migration outside a transaction (CREATE INDEX CONCURRENTLY) failed at
** statement `failed`: PostgreSQL leaves the index being built there as an
** INVALID index, and those built before stay; they are dropped again, so
** that the database is as before whenever the statements before were all
** such indexes (*all).  db's error is kept. */
static void undo_concurrent(corm_db *db, const corm__ddl *sql, size_t failed)
{
    corm_error keep;
    corm__err_copy(&keep, &db->err);
    for (size_t j = 0; j <= failed; j++) {
        size_t len = 0;
        const char *name = concurrent_index(corm__ddl_at(sql, j), &len);
        if (!name) continue;
        corm_buf b;
        corm__buf_init(&b);
        corm__buf_adds(&b, "DROP INDEX CONCURRENTLY IF EXISTS ");
        corm__buf_add(&b, name, len);
        if (!b.oom) (void)run(db, corm__buf_cstr(&b));
        corm__buf_free(&b);
    }
    corm__err_copy(&db->err, &keep);
}

/* Whether statements 0..failed-1 are all undone by undo_concurrent. */
static bool undoable(const corm__ddl *sql, size_t failed)
{
    for (size_t j = 0; j < failed; j++) {
        size_t len = 0;
        const char *s = corm__ddl_at(sql, j);
        if (s[0] != '\1' && !concurrent_index(s, &len)) return false;
    }
    return true;
}

static void name_failure(corm_db *db, const char *mig, size_t i, size_t n, const char *sql,
                         const corm__ddl *all, bool tx)
{
    corm_error e;
    corm__err_copy(&e, &db->err);
    char head[100];
    corm__strlcpy(head, sql, sizeof head);
    if (strlen(sql) >= sizeof head) memcpy(head + sizeof head - 4, "...", 4);
    corm__err_set(&db->err, e.rc ? e.rc : CORM_DB,
                  "migration %s failed at statement %zu of %zu (%s): %s", mig, i + 1, n, head,
                  e.message);
    if (strncmp(sql, "CREATE EXTENSION IF NOT EXISTS pg_trgm", 38) == 0)
        /* the role may not create it: say who may and what then */
        corm__err_hint(&db->err,
                       "a trigram index needs PostgreSQL's extension pg_trgm, and this role may "
                       "not create it: have a superuser (or a role with CREATE on the database) "
                       "run CREATE EXTENSION pg_trgm; in this database, then migrate again; "
                       "nothing of %s was applied",
                       mig);
    else if (tx)
        corm__err_hint(&db->err, "nothing of %s was applied (it was rolled back whole)%s%s", mig,
                       e.hint[0] ? "; " : "", e.hint);
    else if (undoable(all, i))
        corm__err_hint(&db->err,
                       "nothing of %s was applied (it runs outside a transaction: the indexes it "
                       "had begun were dropped again)%s%s",
                       mig, e.hint[0] ? "; " : "", e.hint);
    else
        corm__err_hint(&db->err,
                       "%s runs outside a transaction (CREATE INDEX CONCURRENTLY): its statements "
                       "before this one stay applied, except the indexes it created, which were "
                       "dropped again; it is not recorded%s%s",
                       mig, e.hint[0] ? "; " : "", e.hint);
    corm__err_sql(&db->err, sql);
    corm__strlcpy(db->err.sqlstate, e.sqlstate, sizeof db->err.sqlstate);
}

/* What to do when a check of this kind fails. */
static const char *check_advice(char kind)
{
    switch (kind) {
    case 'L': return "pass --allow-data-loss (CORM_MIGRATE_ALLOW_DATA_LOSS) to drop it anyway";
    case 'F':
        return "point those rows at rows that exist, set them to null or delete them, then "
               "migrate again";
    default: return "give the field a default or make it null, then makemigrations again";
    }
}

/* A check pseudo-statement: CORM_OK when it passes. */
static corm_rc run_check(corm_db *db, const char *stmt, unsigned flags)
{
    char kind = stmt[1];
    const char *sep = strchr(stmt, '\2');
    if (!sep) return CORM_OK;
    if (kind == 'L' && (flags & CORM_MIGRATE_ALLOW_DATA_LOSS)) return CORM_OK;
    char *sql = corm__strndup(stmt + 2, (size_t)(sep - stmt - 2));
    if (!sql) {
        corm__err_set(&db->err, CORM_NOMEM, "out of memory");
        return CORM_NOMEM;
    }
    corm__cursor cur;
    corm_site none = {0};
    corm_rc rc = corm__db_query(db, &cur, sql, NULL, 0, CORM__LIB_SITE, none, "migrate");
    bool row = false;
    if (rc == CORM_OK) rc = corm__cursor_step(&cur, &row);
    /* "F": the values without a target, the first five named */
    bool found = row;
    corm_buf vals;
    corm__buf_init(&vals);
    for (int n = 0; rc == CORM_OK && row && kind == 'F'; n++) {
        if (n == 5) {
            corm__buf_adds(&vals, ", ...");
            break;
        }
        size_t tn = 0;
        const char *t = db->be->column_text(cur.stmt, 0, &tn);
        corm__buf_addf(&vals, "%s%.*s", n ? ", " : ": ", (int)tn, t ? t : "");
        rc = corm__cursor_step(&cur, &row);
    }
    corm__cursor_close(&cur);
    corm__free(sql);
    if (rc != CORM_OK || !found) {
        corm__buf_free(&vals);
        return rc;
    }
    corm__err_set(&db->err, kind == 'L' ? CORM_INVALID : CORM_CONSTRAINT, "%s%s", sep + 1,
                  corm__buf_cstr(&vals));
    corm__buf_free(&vals);
    corm__err_hint(&db->err, "nothing was changed; %s", check_advice(kind));
    return kind == 'L' ? CORM_INVALID : CORM_CONSTRAINT;
}

static corm_rc lock_db(corm_db *db, bool tx)
{
    if (sqlite(db)) return run(db, "BEGIN IMMEDIATE");
    corm_rc rc = tx ? run(db, "BEGIN") : CORM_OK;
    if (rc == CORM_OK)
        rc = run(db, tx ? "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")"
                        : "SELECT pg_advisory_lock(" PG_LOCK_KEY ")");
    return rc;
}

/* Apply (or unapply) migration i: CORM_OK, also when another process did it
** first. */
static corm_rc step(corm_db *db, const corm_migrations *ms, int i, bool backwards, unsigned flags)
{
    const corm__migration *m = &ms->migs[i];
    corm__ddl sql;
    corm__ddl_init(&sql);
    uint32_t hash = 0;
    corm_rc rc = migration_sql(db->dialect, ms, i, backwards, &sql, &hash, &db->err);
    if (rc != CORM_OK) {
        corm__ddl_free(&sql);
        return rc;
    }
    bool tx = sqlite(db) || !has_concurrent(m);
    bool fk_off = sqlite(db);
    if (fk_off) rc = run(db, "PRAGMA foreign_keys=OFF");
    if (rc == CORM_OK) rc = lock_db(db, tx);
    corm_vec names = {0};
    if (rc == CORM_OK) rc = applied(db, &names);
    int have = rc == CORM_OK ? applied_prefix(db, ms, &names) : -1;
    free_names(&names);
    if (have < 0 && rc == CORM_OK) rc = CORM_SCHEMA;
    bool todo = rc == CORM_OK && (backwards ? have == i + 1 : have == i);
    if (rc == CORM_OK && !todo && (backwards ? have > i + 1 : have < i)) {
        corm__err_set(&db->err, CORM_BUSY, "migration %s: the history changed while migrating",
                      m->name);
        rc = CORM_BUSY;
    }
    if (rc == CORM_OK && todo && !sqlite(db)) {
        char set[160];
        /* in the transaction: SET LOCAL; outside one: SET, RESET after */
        const char *scope = tx ? "SET LOCAL" : "SET";
        if (m->lock_timeout) {
            snprintf(set, sizeof set, "%s lock_timeout = '%s'", scope, m->lock_timeout);
            rc = run(db, set);
        }
        if (rc == CORM_OK && m->statement_timeout) {
            snprintf(set, sizeof set, "%s statement_timeout = '%s'", scope, m->statement_timeout);
            rc = run(db, set);
        }
    }
    size_t n = corm__ddl_count(&sql);
    for (size_t k = 0; k < n && rc == CORM_OK && todo; k++) {
        const char *s = corm__ddl_at(&sql, k);
        if (s[0] == '\1') {
            rc = run_check(db, s, flags);
            if (rc != CORM_OK) {
                char tmp[sizeof db->err.message];
                snprintf(tmp, sizeof tmp, "%s", db->err.message);
                corm__err_set(&db->err, rc, "migration %s: %s", m->name, tmp);
                corm__err_hint(&db->err, "nothing of %s was applied; %s", m->name,
                               check_advice(s[1]));
            }
            continue;
        }
        if (flags & CORM_MIGRATE_FAKE) continue;
        rc = run(db, s);
        if (rc != CORM_OK) {
            name_failure(db, m->name, k, n, s, &sql, tx);
            if (!tx) undo_concurrent(db, &sql, k);
        }
    }
    if (rc == CORM_OK && todo && fk_off) {
        corm__cursor cur;
        corm_site none = {0};
        rc = corm__db_query(db, &cur, "PRAGMA foreign_key_check", NULL, 0, CORM__LIB_SITE, none,
                            "migrate");
        bool row = false;
        if (rc == CORM_OK) rc = corm__cursor_step(&cur, &row);
        if (rc == CORM_OK && row) {
            size_t tn = 0;
            const char *t = db->be->column_text(cur.stmt, 0, &tn);
            corm__err_set(&db->err, CORM_CONSTRAINT,
                          "migration %s would leave rows of \"%.*s\" pointing at rows that do "
                          "not exist",
                          m->name, (int)tn, t ? t : "");
            corm__err_hint(&db->err, "nothing was applied; fix or delete those rows first");
            rc = CORM_CONSTRAINT;
        }
        corm__cursor_close(&cur);
    }
    if (rc == CORM_OK && todo) rc = record(db, m->name, hash, !backwards);
    if (!tx && !sqlite(db) && (m->lock_timeout || m->statement_timeout)) {
        corm_error keep;
        corm__err_copy(&keep, &db->err);
        if (m->lock_timeout) (void)run(db, "RESET lock_timeout");
        if (m->statement_timeout) (void)run(db, "RESET statement_timeout");
        corm__err_copy(&db->err, &keep);
    }
    if (rc == CORM_OK)
        rc = tx ? run(db, "COMMIT") : run(db, "SELECT pg_advisory_unlock(" PG_LOCK_KEY ")");
    if (rc != CORM_OK) {
        roll_back(db);
        if (!tx && !sqlite(db)) {
            corm_error keep;
            corm__err_copy(&keep, &db->err);
            (void)run(db, "SELECT pg_advisory_unlock(" PG_LOCK_KEY ")");
            corm__err_copy(&db->err, &keep);
        }
    }
    if (fk_off) {
        corm_error keep;
        corm__err_copy(&keep, &db->err);
        (void)run(db, "PRAGMA foreign_keys=ON");
        corm__err_copy(&db->err, &keep);
    }
    corm__ddl_free(&sql);
    return rc;
}

/* The checks every public call of this file makes after CORM__DB_ENTER
** (which cleared db's error): what is wrong goes on db. */
static corm_rc check_db(corm_db *db, const char *fn, const corm_migrations *ms)
{
    if (!ms) {
        corm__err_set(&db->err, CORM_MISUSE, "%s: no migrations given", fn);
        corm__err_hint(&db->err, "load them first: corm_migrations_load(dir, &err) or "
                                 "corm_migrations_from_texts");
        return CORM_MISUSE;
    }
    if (db->tx_depth > 0 || db->be->in_transaction(db->conn)) {
        corm__err_set(&db->err, CORM_MISUSE, "migrating inside a transaction");
        corm__err_hint(&db->err, "commit or roll back first: each migration runs in a "
                                 "transaction of its own");
        return CORM_MISUSE;
    }
    return CORM_OK;
}

/* The applied prefix length, the history table created when missing. */
static int current(corm_db *db, const corm_migrations *ms)
{
    if (history_table(db) != CORM_OK) return -1;
    corm_vec names = {0};
    int have = applied(db, &names) == CORM_OK ? applied_prefix(db, ms, &names) : -1;
    free_names(&names);
    return have;
}

static int index_of(const corm_migrations *ms, const char *name)
{
    for (int i = 0; i < ms->nmigs; i++)
        if (strcmp(ms->migs[i].name, name) == 0 ||
            (strlen(name) >= 4 && strncmp(ms->migs[i].name, name, strlen(name)) == 0))
            return i;
    return -1;
}

static corm_rc unknown_name(corm_db *db, const corm_migrations *ms, const char *name)
{
    corm__err_set(&db->err, CORM_NOTFOUND, "no migration named %s", name);
    corm_buf b;
    corm__buf_init(&b);
    for (int i = 0; i < ms->nmigs; i++) corm__buf_addf(&b, "%s%s", i ? ", " : "", ms->migs[i].name);
    corm__err_hint(&db->err, "the migrations are: %s%s", ms->nmigs ? corm__buf_cstr(&b) : "(none)",
                   "; or zero to unapply them all");
    corm__buf_free(&b);
    return CORM_NOTFOUND;
}

corm_rc corm_migrate_to(corm_db *db, const corm_migrations *ms, const char *target, unsigned flags)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    corm_rc rc = check_db(db, "corm_migrate_to", ms);
    if (rc != CORM_OK) return rc;
    int want = ms->nmigs;
    if (target && strcmp(target, "zero") == 0) want = 0;
    else if (target) {
        int i = index_of(ms, target);
        if (i < 0) return unknown_name(db, ms, target);
        want = i + 1;
    }
    int have = current(db, ms);
    if (have < 0) return db->err.rc ? db->err.rc : CORM_DB;
    for (int i = have; i < want && rc == CORM_OK; i++) rc = step(db, ms, i, false, flags);
    for (int i = have - 1; i >= want && rc == CORM_OK; i--) rc = step(db, ms, i, true, flags);
    return rc;
}

corm_rc corm_sqlmigrate(corm_db *db, const corm_migrations *ms, const char *name, bool backwards,
                        char **out)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (out) *out = NULL;
    corm_rc rc = check_db(db, "corm_sqlmigrate", ms);
    if (rc == CORM_OK && (!name || !out)) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_sqlmigrate: %s is NULL",
                      !name ? "the migration's name" : "the output pointer");
        corm__err_hint(&db->err, "pass a migration's name (\"0002\" or \"0002_x\") and a "
                                 "char ** for the SQL");
        rc = CORM_MISUSE;
    }
    if (rc != CORM_OK) return rc;
    int i = index_of(ms, name);
    if (i < 0) return unknown_name(db, ms, name);
    corm__ddl sql;
    corm__ddl_init(&sql);
    rc = migration_sql(db->dialect, ms, i, backwards, &sql, NULL, &db->err);
    corm_buf b;
    corm__buf_init(&b);
    const corm__migration *m = &ms->migs[i];
    bool tx = sqlite(db) || !has_concurrent(m);
    if (rc == CORM_OK) {
        if (!tx) corm__buf_adds(&b, "-- runs outside a transaction: CREATE INDEX CONCURRENTLY\n");
        else corm__buf_adds(&b, "BEGIN;\n");
        const char *scope = tx ? "SET LOCAL" : "SET";
        if (!sqlite(db) && m->lock_timeout)
            corm__buf_addf(&b, "%s lock_timeout = '%s';\n", scope, m->lock_timeout);
        if (!sqlite(db) && m->statement_timeout)
            corm__buf_addf(&b, "%s statement_timeout = '%s';\n", scope, m->statement_timeout);
        for (size_t k = 0; k < corm__ddl_count(&sql); k++) {
            const char *s = corm__ddl_at(&sql, k);
            if (s[0] == '\1') {
                const char *sep = strchr(s, '\2');
                corm__buf_addf(&b, "-- check: %s\n", sep ? sep + 1 : "");
            } else {
                corm__buf_addf(&b, "%s;\n", s);
            }
        }
        if (tx) corm__buf_adds(&b, "COMMIT;\n");
        if (!tx && m->lock_timeout) corm__buf_adds(&b, "RESET lock_timeout;\n");
        if (!tx && m->statement_timeout) corm__buf_adds(&b, "RESET statement_timeout;\n");
        if (b.oom || !(*out = corm__strdup(corm__buf_cstr(&b)))) {
            corm__err_set(&db->err, CORM_NOMEM, "out of memory");
            rc = CORM_NOMEM;
        }
    }
    corm__buf_free(&b);
    corm__ddl_free(&sql);
    return rc;
}

corm_rc corm_showmigrations(corm_db *db, const corm_migrations *ms, char **out)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (out) *out = NULL;
    corm_rc rc = check_db(db, "corm_showmigrations", ms);
    if (rc == CORM_OK && !out) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_showmigrations: the output pointer is NULL");
        corm__err_hint(&db->err, "pass a char ** for the listing (free it with "
                                 "corm_free_string)");
        rc = CORM_MISUSE;
    }
    if (rc != CORM_OK) return rc;
    int have = current(db, ms);
    if (have < 0) return db->err.rc ? db->err.rc : CORM_DB;
    corm_buf b;
    corm__buf_init(&b);
    for (int i = 0; i < ms->nmigs; i++)
        corm__buf_addf(&b, "[%c] %s\n", i < have ? 'X' : ' ', ms->migs[i].name);
    if (!ms->nmigs) corm__buf_adds(&b, "(no migrations)\n");
    if (b.oom || !(*out = corm__strdup(corm__buf_cstr(&b)))) {
        corm__err_set(&db->err, CORM_NOMEM, "out of memory");
        rc = CORM_NOMEM;
    }
    corm__buf_free(&b);
    return rc;
}

corm_rc corm_migrations_check(corm_db *db, const corm_migrations *ms)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    corm_rc rc = check_db(db, "corm_migrations_check", ms);
    if (rc != CORM_OK) return rc;
    int have = current(db, ms);
    if (have < 0) return db->err.rc ? db->err.rc : CORM_DB;
    if (have == ms->nmigs) return CORM_OK;
    corm__err_set(&db->err, CORM_SCHEMA,
                  "database at %s, this program expects %s: run corm migrate",
                  have ? ms->migs[have - 1].name : "zero (no migrations applied)",
                  ms->migs[ms->nmigs - 1].name);
    corm__err_hint(&db->err,
                   "run corm migrate (or corm_migrate_to) to apply the %d pending "
                   "migration%s",
                   ms->nmigs - have, ms->nmigs - have == 1 ? "" : "s");
    return CORM_SCHEMA;
}
