/*
** test_migrations_indexes.c - index kinds made by migrations, on SQLite and
** PostgreSQL, on a table with rows: a partial index (`index (a) where b =
** true`) exists with its condition (the catalog says so), the planner
** picks it for a query whose filter implies the condition and not for one
** that does not, a unique partial index enforces uniqueness only where its
** condition holds, and changing the condition migrates forward and back
** (tests/migrations/partial: v1.corm, v2.corm and their migrations).
** Run from the repository root.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define ROWS 20000

static corm_db *open_url(const char *url, const corm_schema *s)
{
    corm_error err;
    corm_db *db = corm_open(url, s, &err);
    if (!db) fail_msg("open: %s", err.message);
    return db;
}

static void migrate_ok(corm_db *db, const corm_migrations *ms, const char *to)
{
    if (corm_migrate_to(db, ms, to, 0) != CORM_OK) {
        char buf[2048];
        fail_msg("migrate to %s: %s", to ? to : "latest",
                 corm_error_format(corm_db_error(db), buf, sizeof buf));
    }
}

static void exec_ok(corm_db *db, const char *sql)
{
    if (corm_exec(db, sql) != CORM_OK) fail_msg("%s: %s", sql, corm_db_error(db)->message);
}

/* The definitions of the table's indexes, as the catalog holds them, one
** per line in name order ("name: definition"). */
static const char *indexes(corm_db *db)
{
    static char out[4096];
    const char *sql = TEST_SQL(
        "SELECT group_concat(name || ': ' || sql, char(10)) FROM (SELECT name, sql FROM "
        "sqlite_master WHERE type = 'index' AND tbl_name = 'post' AND sql IS NOT NULL "
        "ORDER BY name)",
        "SELECT string_agg(indexname || ': ' || replace(indexdef, current_schema() || '.', ''), "
        "E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = current_schema() AND "
        "tablename = 'post' AND indexname <> 'post_pkey'");
    corm_qs *qs = corm_sql(db, sql, NULL, 0);
    if (corm_eval(qs) != CORM_OK) fail_msg("%s: %s", sql, corm_qs_error(qs)->message);
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    snprintf(out, sizeof out, "%s", v && v->type == CORM_V_TEXT ? v->u.s.p : "NULL");
    corm_qs_free(qs);
    return out;
}

/* Posts in a date range, the SQL the compiler writes for
** filter(is_published=true, published_on__gte=..., published_on__lt=...)
** with bound parameters (explain: its plan, one step a line); without
** only_published the first term goes. */
static corm_qs *published_between(corm_db *db, bool only_published, bool explain)
{
    static corm_value params[3];
    params[0] = corm_bool(true);
    params[1] = corm_text("2020-03-01");
    params[2] = corm_text("2020-03-11");
    char sql[512];
    snprintf(
        sql, sizeof sql,
        "%sSELECT count(*) FROM \"post\" WHERE %s\"published_on\" >= %s AND "
        "\"published_on\" < %s",
        explain ? TEST_SQL("EXPLAIN QUERY PLAN ", "EXPLAIN ") : "",
        only_published ? TEST_SQL("\"is_published\" = ? AND ", "\"is_published\" = $1 AND ") : "",
        TEST_SQL("?", only_published ? "$2" : "$1"), TEST_SQL("?", only_published ? "$3" : "$2"));
    return corm_sql(db, sql, only_published ? params : params + 1, only_published ? 3 : 2);
}

static const char *plan_of(corm_db *db, bool only_published)
{
    static char out[4096];
    corm_qs *qs = published_between(db, only_published, true);
    if (corm_eval(qs) != CORM_OK) fail_msg("explain: %s", corm_qs_error(qs)->message);
    size_t len = 0;
    out[0] = '\0';
    size_t last = corm_qs_ncols(qs) - 1;
    for (size_t r = 0; r < corm_qs_len(qs); r++) {
        const corm_value *v = corm_qs_cell(qs, r, last);
        if (v && v->type == CORM_V_TEXT && len < sizeof out)
            len += (size_t)snprintf(out + len, sizeof out - len, "%s\n", v->u.s.p);
    }
    corm_qs_free(qs);
    return out;
}

static int64_t count_of(corm_qs *qs)
{
    if (corm_eval(qs) != CORM_OK) fail_msg("count: %s", corm_qs_error(qs)->message);
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    assert_non_null(v);
    assert_int_equal(v->type, CORM_V_INT);
    return v->u.i;
}

static void test_partial_index(void **state)
{
    (void)state;
    corm_error err;
    corm_migrations *ms = corm_migrations_load("tests/migrations/partial", &err);
    if (!ms) fail_msg("load: %s", err.message);
    corm_schema *s = corm_schema_parse_file("tests/migrations/partial/v2.corm", &err);
    if (!s) fail_msg("schema: %s", err.message);
    corm_db *db = open_url(test_db_fresh_url(), s);
    migrate_ok(db, ms, "0001_initial");
    assert_string_equal(
        indexes(db),
        TEST_SQL("post_published_on_partial_idx: CREATE INDEX \"post_published_on_partial_idx\" "
                 "ON \"post\" (\"published_on\") WHERE \"is_published\" = 1",
                 "post_published_on_partial_idx: CREATE INDEX post_published_on_partial_idx ON "
                 "post USING btree (published_on NULLS FIRST) WHERE (is_published = true)"));

    /* 20000 posts over 2000 days from 2019-01-01, one in ten published */
    exec_ok(db, TEST_SQL("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                         "i < 20000) INSERT INTO post (title, published_on, is_published) SELECT "
                         "'t' || i, date('2019-01-01', '+' || (i % 2000) || ' days'), i % 10 = 0 "
                         "FROM n",
                         "INSERT INTO post (title, published_on, is_published) SELECT 't' || i, "
                         "date '2019-01-01' + (i % 2000), i % 10 = 0 FROM generate_series(1, "
                         "20000) i"));
    exec_ok(db, "ANALYZE");

    /* the planner picks the partial index when the filter implies its
    ** condition (offset 430 of 424..433, i = 430, 2430, ... 18430) ... */
    const char *plan = plan_of(db, true);
    if (!strstr(plan, "post_published_on_partial_idx"))
        fail_msg("plan without the index: %s", plan);
    corm_qs *qs = published_between(db, true, false);
    assert_int_equal(count_of(qs), 10);
    corm_qs_free(qs);
    /* ... and cannot when it does not (drafts are not in it) */
    plan = plan_of(db, false);
    if (strstr(plan, "post_published_on_partial_idx")) fail_msg("plan uses the index: %s", plan);
    qs = published_between(db, false, false);
    assert_int_equal(count_of(qs), 100);
    corm_qs_free(qs);

    /* 0002: the condition changes (remove + add), a unique partial index */
    migrate_ok(db, ms, NULL);
    assert_string_equal(
        indexes(db),
        TEST_SQL("one_draft_per_title: CREATE UNIQUE INDEX \"one_draft_per_title\" ON \"post\" "
                 "(\"title\") WHERE \"is_published\" = 0\n"
                 "post_published_on_partial_idx: CREATE INDEX \"post_published_on_partial_idx\" "
                 "ON \"post\" (\"published_on\") WHERE \"is_published\" = 1 AND "
                 "\"published_on\" IS NOT NULL",
                 "one_draft_per_title: CREATE UNIQUE INDEX one_draft_per_title ON post USING "
                 "btree (title) WHERE (is_published = false)\n"
                 "post_published_on_partial_idx: CREATE INDEX post_published_on_partial_idx ON "
                 "post USING btree (published_on NULLS FIRST) WHERE ((is_published = true) AND "
                 "(published_on IS NOT NULL))"));
    plan = plan_of(db, true);
    if (!strstr(plan, "post_published_on_partial_idx"))
        fail_msg("plan without the index: %s", plan);
    /* unique among drafts only: a second draft 'dup' fails, a published one does not */
    exec_ok(db, "INSERT INTO post (title, is_published) VALUES ('dup', FALSE)");
    exec_ok(db, "INSERT INTO post (title, is_published) VALUES ('dup', TRUE)");
    assert_int_equal(corm_exec(db, "INSERT INTO post (title, is_published) VALUES ('dup', FALSE)"),
                     CORM_CONSTRAINT);
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM post"), "20002");

    /* back to 0001: the first condition again, the unique index gone, rows kept */
    migrate_ok(db, ms, "0001_initial");
    assert_string_equal(
        indexes(db),
        TEST_SQL("post_published_on_partial_idx: CREATE INDEX \"post_published_on_partial_idx\" "
                 "ON \"post\" (\"published_on\") WHERE \"is_published\" = 1",
                 "post_published_on_partial_idx: CREATE INDEX post_published_on_partial_idx ON "
                 "post USING btree (published_on NULLS FIRST) WHERE (is_published = true)"));
    exec_ok(db, "INSERT INTO post (title, is_published) VALUES ('dup', FALSE)");
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM post"), "20003");

    /* sqlmigrate shows the condition in the dialect's words */
    char *sql = NULL;
    assert_int_equal(corm_sqlmigrate(db, ms, "0002", false, &sql), CORM_OK);
    assert_non_null(strstr(sql, TEST_SQL("CREATE UNIQUE INDEX \"one_draft_per_title\" ON \"post\" "
                                         "(\"title\") WHERE \"is_published\" = 0;",
                                         "CREATE UNIQUE INDEX \"one_draft_per_title\" ON \"post\" "
                                         "(\"title\") WHERE \"is_published\" = FALSE;")));
    corm_free_string(sql);
    corm_close(db);
    corm_schema_free(s);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
