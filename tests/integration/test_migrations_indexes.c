/*
** test_migrations_indexes.c - index kinds made by migrations, on SQLite and
** PostgreSQL, on a table with rows: a partial index (`index (a) where b =
** true`) exists with its condition (the catalog says so), the planner
** picks it for a query whose filter implies the condition and not for one
** that does not, a unique partial index enforces uniqueness only where its
** condition holds, and changing the condition migrates forward and back
** (tests/migrations/partial: v1.corm, v2.corm and their migrations).
** Text indexes (tests/migrations/text, generated as library.h): a trigram
** index the planner uses for icontains and iexact on PostgreSQL (pg_trgm;
** a clear error when the role may not create it), the `search` lookup
** over a tsvector GIN index (PostgreSQL) or an FTS5 table kept in sync by
** triggers (SQLite), forward and back on a table with rows.
** Run from the repository root.
*/
#include "test.h"
#include "library/library.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ------------------------------------------------------------ text indexes */

/* The fresh url with `public` after the test schema on the search path
** (PostgreSQL): pg_trgm is created once in public, as a database has it
** once, and its operator classes resolve from every test schema. */
static const char *text_url(void)
{
    static char url[1100];
    const char *u = test_db_fresh_url();
    if (!test_db_is_pg()) return u;
    corm_error err;
    corm_db *m = corm_open(getenv("CORM_TEST_DB"), NULL, &err);
    assert_non_null(m);
    /* one creator at a time: concurrent test programs share the server */
    exec_ok(m, "SELECT pg_advisory_lock(1717)");
    exec_ok(m, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
    exec_ok(m, "SELECT pg_advisory_unlock(1717)");
    corm_close(m);
    snprintf(url, sizeof url, "%s%%2Cpublic", u);
    return url;
}

static int64_t count_where(corm_db *db, const char *lookup, const char *value, bool exclude)
{
    corm_qs *qs = corm_all(db, Article);
    if (exclude) corm_exclude(qs, lookup, corm_text(value));
    else corm_filter(qs, lookup, corm_text(value));
    int64_t n = corm_count(qs);
    if (n < 0) fail_msg("%s: %s", lookup, corm_qs_error(qs)->message);
    corm_qs_free(qs);
    return n;
}

static const char *plan_where(corm_db *db, const char *lookup, const char *value)
{
    static char out[4096];
    corm_qs *qs = corm_all(db, Article);
    corm_filter(qs, lookup, corm_text(value));
    const char *plan = corm_explain(qs);
    if (!plan) fail_msg("explain %s: %s", lookup, corm_qs_error(qs)->message);
    snprintf(out, sizeof out, "%s", plan);
    corm_qs_free(qs);
    return out;
}

static const char *ids_where(corm_db *db, const char *lookup, const char *value)
{
    static char out[256];
    corm_qs *qs = corm_all(db, Article);
    corm_filter(qs, lookup, corm_text(value));
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 4);
    snprintf(out, sizeof out, "%s", test_ids(qs));
    corm_qs_free(qs);
    return out;
}

/* What the catalog says of article's text indexes, one a line. */
static const char *text_catalog(corm_db *db)
{
    static char out[4096];
    const char *sql = TEST_SQL(
        "SELECT coalesce(group_concat(type || ' ' || name, char(10)), '') FROM (SELECT type, name "
        "FROM sqlite_master WHERE name LIKE 'article_%' AND name NOT LIKE 'article_body_search_%' "
        "OR type = 'trigger' ORDER BY name)",
        "SELECT coalesce(string_agg(indexname || ': ' || replace(indexdef, current_schema() || "
        "'.', ''), E'\\n' ORDER BY indexname), '') FROM pg_indexes WHERE schemaname = "
        "current_schema() AND tablename = 'article' AND indexname <> 'article_pkey'");
    corm_qs *qs = corm_sql(db, sql, NULL, 0);
    if (corm_eval(qs) != CORM_OK) fail_msg("%s: %s", sql, corm_qs_error(qs)->message);
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    snprintf(out, sizeof out, "%s", v && v->type == CORM_V_TEXT ? v->u.s.p : "NULL");
    corm_qs_free(qs);
    return out;
}

static void test_text_indexes(void **state)
{
    (void)state;
    corm_error err;
    corm_migrations *ms = corm_migrations_load("tests/migrations/text/migrations", &err);
    if (!ms) fail_msg("load: %s", err.message);
    corm_db *db = open_url(text_url(), &library_schema);
    migrate_ok(db, ms, "0001_initial");
    /* 20000 articles; "Zephyr" in 20 titles, "quixotic" in 40 bodies */
    exec_ok(db, TEST_SQL("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                         "i < 20000) INSERT INTO article (title, body) SELECT 'Volume ' || i || "
                         "CASE WHEN i % 1000 = 7 THEN ' Zephyr' ELSE '' END, 'chapter ' || i || "
                         "' of the ' || CASE WHEN i % 500 = 3 THEN 'quixotic' ELSE 'ordinary' END "
                         "|| ' story' FROM n",
                         "INSERT INTO article (title, body) SELECT 'Volume ' || i || CASE WHEN "
                         "i % 1000 = 7 THEN ' Zephyr' ELSE '' END, 'chapter ' || i || ' of the ' "
                         "|| CASE WHEN i % 500 = 3 THEN 'quixotic' ELSE 'ordinary' END || ' story' "
                         "FROM generate_series(1, 20000) i"));
    exec_ok(db, "ANALYZE");
    assert_int_equal(count_where(db, "title__icontains", "zephyr", false), 20);
    if (test_db_is_pg()) {
        const char *plan = plan_where(db, "title__icontains", "zephyr");
        if (!strstr(plan, "Seq Scan")) fail_msg("no index yet, yet: %s", plan);
    }
    migrate_ok(db, ms, NULL);
    exec_ok(db, "ANALYZE");
    assert_string_equal(
        text_catalog(db),
        TEST_SQL("table article_body_search\n"
                 "trigger article_body_search_ad\n"
                 "trigger article_body_search_ai\n"
                 "trigger article_body_search_au",
                 "article_body_search: CREATE INDEX article_body_search ON article USING gin "
                 "(to_tsvector('simple'::regconfig, body))\n"
                 "article_title_trgm: CREATE INDEX article_title_trgm ON article USING gin "
                 "(title gin_trgm_ops)"));
    /* icontains and iexact use the trigram index on PostgreSQL */
    assert_int_equal(count_where(db, "title__icontains", "zephyr", false), 20);
    assert_int_equal(count_where(db, "title__iexact", "volume 7 ZEPHYR", false), 1);
    assert_string_equal(ids_where(db, "title__icontains", "ZEPHYR"), "7,1007,2007,3007");
    if (test_db_is_pg()) {
        const char *plan = plan_where(db, "title__icontains", "zephyr");
        if (!strstr(plan, "article_title_trgm")) fail_msg("icontains without the index: %s", plan);
        plan = plan_where(db, "title__iexact", "volume 7 zephyr");
        if (!strstr(plan, "article_title_trgm")) fail_msg("iexact without the index: %s", plan);
    }
    /* search: every word, any case, through the index */
    assert_int_equal(count_where(db, "body__search", "quixotic", false), 40);
    assert_int_equal(count_where(db, "body__search", "QUIXOTIC story", false), 40);
    assert_string_equal(ids_where(db, "body__search", "quixotic"), "3,503,1003,1503");
    assert_int_equal(count_where(db, "body__search", "quixotic ordinary", false), 0);
    assert_int_equal(count_where(db, "body__search", "quixotic OR ordinary", false), 0);
    assert_int_equal(count_where(db, "body__search", "\"story", false), 20000);
    assert_int_equal(count_where(db, "body__search", "  ", false), 0);
    assert_int_equal(count_where(db, "body__search", "quixotic", true), 19960);
    const char *plan = plan_where(db, "body__search", "quixotic");
    if (!strstr(plan, "article_body_search")) fail_msg("search without the index: %s", plan);
    /* the index follows inserts, updates and deletes */
    exec_ok(db, "INSERT INTO article (title, body) VALUES ('New', 'a quixotic tale')");
    assert_int_equal(count_where(db, "body__search", "quixotic tale", false), 1);
    exec_ok(db, "UPDATE article SET body = 'a plain tale' WHERE title = 'New'");
    assert_int_equal(count_where(db, "body__search", "quixotic tale", false), 0);
    assert_int_equal(count_where(db, "body__search", "plain tale", false), 1);
    exec_ok(db, "DELETE FROM article WHERE title = 'New'");
    assert_int_equal(count_where(db, "body__search", "tale", false), 0);
    /* a search on a field without the index */
    corm_qs *qs = corm_all(db, Article);
    corm_filter(qs, "title__search", corm_text("zephyr"));
    assert_int_equal(corm_count(qs), -1);
    assert_string_equal(corm_qs_error(qs)->message,
                        "'title__search': Article.title has no search index");
    assert_string_equal(corm_qs_error(qs)->hint,
                        "add `index (title) using search` to model Article in the schema, then "
                        "corm makemigrations and corm migrate");
    corm_qs_free(qs);

    /* back to 0001: the indexes (and SQLite's table and triggers) go */
    migrate_ok(db, ms, "0001_initial");
    assert_string_equal(text_catalog(db), "");
    exec_ok(db, "INSERT INTO article (title, body) VALUES ('Later', 'quixotic again')");
    assert_int_equal(count_where(db, "title__icontains", "zephyr", false), 20);
    /* and forward again on the rows: the search index holds them all */
    migrate_ok(db, ms, NULL);
    assert_int_equal(count_where(db, "body__search", "quixotic", false), 41);
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM article"), "20001");

    /* 0003 alters title: SQLite rebuilds the table, and with it the search
    ** table and its triggers; the index still finds every row, new ones too */
    const char *names[3] = {corm_migrations_name(ms, 0), corm_migrations_name(ms, 1),
                            "0003_alter_article_title"};
    const char *texts[3] = {corm_migrations_text(ms, 0), corm_migrations_text(ms, 1),
                            "depends 0002_article_title_trgm_article_body_search\n\n"
                            "alter_field Article\n"
                            "  - title: char(200)\n"
                            "  + title: char(100) null\n"};
    corm_migrations *ms3 = corm_migrations_from_texts(names, texts, 3, &err);
    if (!ms3) fail_msg("chain: %s", err.message);
    migrate_ok(db, ms3, NULL);
    assert_int_equal(count_where(db, "body__search", "quixotic", false), 41);
    exec_ok(db, "INSERT INTO article (title, body) VALUES (NULL, 'quixotic once more')");
    assert_int_equal(count_where(db, "body__search", "quixotic", false), 42);
    assert_string_equal(
        text_catalog(db),
        TEST_SQL("table article_body_search\n"
                 "trigger article_body_search_ad\n"
                 "trigger article_body_search_ai\n"
                 "trigger article_body_search_au",
                 "article_body_search: CREATE INDEX article_body_search ON article USING gin "
                 "(to_tsvector('simple'::regconfig, body))\n"
                 "article_title_trgm: CREATE INDEX article_title_trgm ON article USING gin "
                 "(title gin_trgm_ops)"));
    exec_ok(db, "DELETE FROM article WHERE title IS NULL");
    migrate_ok(db, ms3, "0002");
    assert_int_equal(count_where(db, "body__search", "quixotic", false), 41);
    corm_migrations_free(ms3);
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

/* A role that may not create pg_trgm (no CREATE on its database): the
** migration stops at CREATE EXTENSION, names the extension and says who
** may create it; nothing of 0002 is applied. */
static void test_trigram_extension_refused(void **state)
{
    (void)state;
    const char *base = getenv("CORM_TEST_DB");
    const char *at = base ? strstr(base, "postgres@/postgres?") : NULL;
    if (!test_db_is_pg() || !at) skip();
    char name[64], sql[256], admin_url[1100], role_url[1100];
    snprintf(name, sizeof name, "corm_noext_%ld", (long)getpid());
    snprintf(admin_url, sizeof admin_url, "%.*spostgres@/%s?%s", (int)(at - base), base, name,
             at + strlen("postgres@/postgres?"));
    snprintf(role_url, sizeof role_url, "%.*s%s@/%s?%s", (int)(at - base), base, name, name,
             at + strlen("postgres@/postgres?"));
    corm_db *server = open_url(base, NULL);
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN", name);
    exec_ok(server, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    exec_ok(server, sql);
    corm_db *admin = open_url(admin_url, NULL);
    snprintf(sql, sizeof sql, "GRANT CREATE ON SCHEMA public TO %s", name);
    exec_ok(admin, sql);
    corm_close(admin);

    corm_error err;
    corm_migrations *ms = corm_migrations_load("tests/migrations/text/migrations", &err);
    if (!ms) fail_msg("load: %s", err.message);
    corm_db *db = open_url(role_url, NULL);
    assert_int_equal(corm_migrate_to(db, ms, NULL, 0), CORM_DB);
    const corm_error *e = corm_db_error(db);
    if (!strstr(e->message, "migration 0002_article_title_trgm_article_body_search failed at "
                            "statement 1 of 3 (CREATE EXTENSION IF NOT EXISTS pg_trgm): "
                            "permission denied to create extension \"pg_trgm\""))
        fail_msg("message: %s", e->message);
    assert_string_equal(e->hint,
                        "a trigram index needs PostgreSQL's extension pg_trgm, and this role may "
                        "not create it: have a superuser (or a role with CREATE on the database) "
                        "run CREATE EXTENSION pg_trgm; in this database, then migrate again; "
                        "nothing of 0002_article_title_trgm_article_body_search was applied");
    char *show = NULL;
    assert_int_equal(corm_showmigrations(db, ms, &show), CORM_OK);
    assert_string_equal(show,
                        "[X] 0001_initial\n[ ] 0002_article_title_trgm_article_body_search\n");
    corm_free_string(show);
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM pg_indexes WHERE tablename = "
                                        "'article' AND indexname <> 'article_pkey'"),
                        "0");
    /* once a superuser created it, the same migration goes through */
    admin = open_url(admin_url, NULL);
    exec_ok(admin, "CREATE EXTENSION pg_trgm");
    corm_close(admin);
    migrate_ok(db, ms, NULL);
    corm_close(db);
    corm_migrations_free(ms);
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", name);
    exec_ok(server, sql);
    snprintf(sql, sizeof sql, "DROP ROLE %s", name);
    exec_ok(server, sql);
    corm_close(server);
}

/* ------------------------------------------------------------ rename hints */

static const char *const rn_v1 =
    "model Author { name: char(100) }\n"
    "model Book { title: char(200) db_index pages: integer\n"
    "             author: fk(Author, on_delete=cascade) genres: m2m(Genre)\n"
    "             index (title, -pages) }\n"
    "model Genre { name: char(50) }\n";
static const char *const rn_v2 = "model Author { name: char(100) }\n"
                                 "model Volume renamed_from Book {\n"
                                 "    name: char(200) db_index renamed_from title\n"
                                 "    pages: integer\n"
                                 "    writer: fk(Author, on_delete=cascade) renamed_from author\n"
                                 "    genres: m2m(Kind)\n"
                                 "    index (name, -pages)\n"
                                 "}\n"
                                 "model Kind renamed_from Genre { name: char(50) }\n";

static corm_schema *parse_text(const char *text)
{
    corm_error err;
    corm_schema *s = corm_schema_parse(text, strlen(text), "v.corm", &err);
    if (!s) fail_msg("schema: %s (%s)", err.message, err.hint);
    return s;
}

/* The index names and tables ("name on table"), without PostgreSQL's own
** names for primary keys and unnamed UNIQUE constraints. */
static const char *index_names(corm_db *db)
{
    static char out[4096];
    const char *sql =
        TEST_SQL("SELECT group_concat(name || ' on ' || tbl_name, char(10)) FROM (SELECT name, "
                 "tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY "
                 "name)",
                 "SELECT string_agg(indexname || ' on ' || tablename, E'\\n' ORDER BY indexname) "
                 "FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE "
                 "'%\\_pkey' AND indexname NOT LIKE '%\\_key'");
    corm_qs *qs = corm_sql(db, sql, NULL, 0);
    if (corm_eval(qs) != CORM_OK) fail_msg("%s: %s", sql, corm_qs_error(qs)->message);
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    snprintf(out, sizeof out, "%s", v && v->type == CORM_V_TEXT ? v->u.s.p : "NULL");
    corm_qs_free(qs);
    return out;
}

/* renamed_from in the schema: makemigrations renames (no --rename), the
** rows stay, and every index corm named after the table or column is
** renamed with it: the result has the indexes of the schema created
** directly. */
static void test_rename_hints(void **state)
{
    (void)state;
    corm_error err;
    corm_migrations *none = corm_migrations_from_texts(NULL, NULL, 0, &err);
    assert_non_null(none);
    corm_schema *s1 = parse_text(rn_v1), *s2 = parse_text(rn_v2);
    char *n1 = NULL, *t1 = NULL, *n2 = NULL, *t2 = NULL;
    assert_int_equal(corm_makemigrations(none, s1, NULL, 0, NULL, &n1, &t1, &err), CORM_OK);
    *strstr(n1, ".corm-migration") = '\0';
    const char *names[2] = {n1, NULL}, *texts[2] = {t1, NULL};
    corm_migrations *ms = corm_migrations_from_texts(names, texts, 1, &err);
    assert_non_null(ms);
    assert_int_equal(corm_makemigrations(ms, s2, NULL, 0, "renames", &n2, &t2, &err), CORM_OK);
    assert_string_equal(t2, "# corm migration 0002_renames (corm makemigrations)\n"
                            "depends 0001_initial\n\n"
                            "rename_model Book Volume\n\n"
                            "rename_model Genre Kind\n\n"
                            "rename_field Volume title name\n\n"
                            "rename_field Volume author writer\n\n"
                            "remove_index Volume\n"
                            "    index book_title_pages_desc_idx (name, -pages)\n\n"
                            "add_index Volume\n"
                            "    index volume_name_pages_desc_idx (name, -pages)\n");
    corm_migrations_free(ms);
    *strstr(n2, ".corm-migration") = '\0';
    names[1] = n2;
    texts[1] = t2;
    ms = corm_migrations_from_texts(names, texts, 2, &err);
    assert_non_null(ms);
    /* the hints stay in the schema and do nothing once migrated */
    char *n3 = NULL, *t3 = NULL;
    assert_int_equal(corm_makemigrations(ms, s2, NULL, 0, NULL, &n3, &t3, &err), CORM_OK);
    assert_null(n3);

    corm_db *db = open_url(test_db_fresh_url(), NULL);
    migrate_ok(db, ms, "0001_initial");
    exec_ok(db, "INSERT INTO author (name) VALUES ('Hugo')");
    exec_ok(db, "INSERT INTO genre (name) VALUES ('Novel')");
    exec_ok(db, "INSERT INTO book (title, pages, author_id) VALUES ('Notre-Dame', 940, 1)");
    exec_ok(db, "INSERT INTO book_genres (book_id, genre_id) VALUES (1, 1)");
    migrate_ok(db, ms, NULL);
    assert_string_equal(test_scalar(db, "SELECT name || '|' || pages || '|' || writer_id FROM "
                                        "volume"),
                        "Notre-Dame|940|1");
    assert_string_equal(test_scalar(db, "SELECT volume_id || '|' || kind_id FROM volume_genres"),
                        "1|1");
    char migrated[4096];
    snprintf(migrated, sizeof migrated, "%s", index_names(db));
    assert_string_equal(migrated, "volume_genres_kind_id_idx on volume_genres\n"
                                  "volume_name_idx on volume\n"
                                  "volume_name_pages_desc_idx on volume\n"
                                  "volume_writer_id_idx on volume");
    corm_db *direct = open_url(test_db_fresh_url(), s2);
    assert_int_equal(corm_migrate(direct), CORM_OK);
    assert_string_equal(migrated, index_names(direct));
    corm_close(direct);
    /* and back: the old names again */
    migrate_ok(db, ms, "0001_initial");
    assert_string_equal(index_names(db), "book_author_id_idx on book\n"
                                         "book_genres_genre_id_idx on book_genres\n"
                                         "book_title_idx on book\n"
                                         "book_title_pages_desc_idx on book");
    assert_string_equal(test_scalar(db, "SELECT title FROM book"), "Notre-Dame");
    corm_close(db);
    corm_migrations_free(ms);
    corm_migrations_free(none);
    corm_free_string(n1);
    corm_free_string(t1);
    corm_free_string(n2);
    corm_free_string(t2);
    corm_schema_free(s1);
    corm_schema_free(s2);
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_index),
        cmocka_unit_test(test_text_indexes),
        cmocka_unit_test(test_trigram_extension_refused),
        cmocka_unit_test(test_rename_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
