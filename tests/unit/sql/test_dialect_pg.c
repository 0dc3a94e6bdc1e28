/*
** test_dialect_pg.c - the PostgreSQL dialect without a server: the exact
** SQL of the shapes where it differs from SQLite (placeholders, LIKE/ILIKE,
** `= ANY($n)` with one array parameter, prefetch keys, date parts, NULL
** ordering, OFFSET without LIMIT, the m2m link join) and its DDL (types,
** identity ids, foreign keys after the tables, NULLS in index columns).
*/
#include "test.h"
#include "sql/sql_int.h"
#include "migrate/migrate_int.h"

#include <string.h>

static const corm__dialect *pg = &corm__pg_dialect;
static char sql[4096];
static corm_value params[64];
static int nparams;
static corm_error err;

static corm_rc compile_q(const corm__query *q, corm__sel_kind kind)
{
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select(q, kind, pg, &c, &err);
    snprintf(sql, sizeof sql, "%s", rc == CORM_OK ? corm__buf_cstr(&c.sql) : "");
    nparams = c.nparams;
    /* text parameters point into c's arena: keep copies of what we read */
    static char texts[8][256];
    for (int i = 0; i < c.nparams && i < 64; i++) {
        params[i] = c.params[i];
        if (params[i].type == CORM_V_TEXT && i < 8) {
            snprintf(texts[i], sizeof texts[i], "%s", params[i].u.s.p);
            params[i].u.s.p = texts[i];
        }
    }
    corm__compiled_free(&c);
    return rc;
}

static corm_rc compile1(const corm_model *m, const char *lookup, corm_value v)
{
    struct corm_q leaf = {.kind = CORM__Q_LEAF, .lookup = lookup, .value = v};
    corm__query q = {.model = m, .where = &leaf, .limit = -1};
    return compile_q(&q, CORM__SEL_COUNT);
}

#define COUNT_BOOK "SELECT COUNT(*) FROM \"book\" T0 WHERE "

static void test_lookups(void **state)
{
    (void)state;
    /* case-sensitive patterns are LIKE (PostgreSQL's keeps case), i-ones ILIKE */
    assert_int_equal(compile1(&Book_model, "title__contains", corm_text("50%_off")), CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "T0.\"title\" LIKE $1 ESCAPE '\\'");
    assert_string_equal(params[0].u.s.p, "%50\\%\\_off%");
    assert_int_equal(compile1(&Book_model, "title__istartswith", corm_text("no")), CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "T0.\"title\" ILIKE $1 ESCAPE '\\'");
    assert_string_equal(params[0].u.s.p, "no%");
    assert_int_equal(compile1(&Book_model, "title__iexact", corm_text("1q84")), CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "T0.\"title\" ILIKE $1 ESCAPE '\\'");
    /* LIKE on a date: through text */
    assert_int_equal(compile1(&Book_model, "published_date__startswith", corm_text("2009")),
                     CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "CAST(T0.\"published_date\" AS text) LIKE $1 ESCAPE '\\'");
    /* date parts are integers */
    assert_int_equal(compile1(&Book_model, "published_date__year__gte", corm_int(2000)), CORM_OK);
    assert_string_equal(sql, COUNT_BOOK
                        "CAST(EXTRACT(YEAR FROM T0.\"published_date\") AS integer) >= $1");

    /* `in`: one array parameter, whatever the number of values */
    assert_int_equal(compile1(&Book_model, "id__in", corm_ints((const int64_t[]){3, 1, 2}, 3)),
                     CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "T0.\"id\" = ANY($1)");
    assert_int_equal(nparams, 1);
    assert_string_equal(params[0].u.s.p, "{3,1,2}");
    const char *titles[] = {"a \"quoted\" one", "back\\slash", "{braces}, commas", "NULL"};
    assert_int_equal(compile1(&Book_model, "title__in", corm_texts(titles, 4)), CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "T0.\"title\" = ANY($1)");
    assert_string_equal(
        params[0].u.s.p,
        "{\"a \\\"quoted\\\" one\",\"back\\\\slash\",\"{braces}, commas\",\"NULL\"}");
    corm_value mixed[] = {corm_int(1), corm_float(2.5)};
    assert_int_equal(compile1(&Book_model, "price__in", corm_vlist(mixed, 2)), CORM_OK);
    assert_string_equal(params[0].u.s.p, "{1,2.5}");
    assert_int_equal(compile1(&Book_model, "id__in", corm_ints(NULL, 0)), CORM_OK);
    assert_string_equal(sql, COUNT_BOOK "1 = 0");
    /* type errors stay errors */
    assert_int_equal(compile1(&Book_model, "id__in", corm_texts(titles, 1)), CORM_TYPE);
    /* far past SQLite's bound-variable limit: still one parameter */
    static int64_t many[70000];
    for (size_t i = 0; i < 70000; i++) many[i] = (int64_t)i;
    assert_int_equal(compile1(&Book_model, "id__in", corm_ints(many, 70000)), CORM_OK);
    assert_int_equal(nparams, 1);
}

static void test_select_shapes(void **state)
{
    (void)state;
    /* nullable ORDER BY terms sort NULLs as SQLite does */
    static const char *order[] = {"-published_date", "title", "publisher__name"};
    corm__query q = {.model = &Book_model,
                     .order = order,
                     .norder = 3,
                     .order_set = true,
                     .limit = -1,
                     .offset = 5};
    assert_int_equal(compile_q(&q, CORM__SEL_OBJECTS), CORM_OK);
    assert_non_null(strstr(sql,
                           " ORDER BY T0.\"published_date\" DESC NULLS LAST, T0.\"title\" ASC, "
                           "T1.\"name\" ASC NULLS FIRST OFFSET $1"));
    assert_null(strstr(sql, "LIMIT"));

    /* prefetch keys: one int8[] parameter; m2m through the link table */
    static const int64_t keys[] = {4, 5, 6};
    const corm_relation *genres = corm__model_rel(&Book_model, "genres", 6);
    assert_non_null(genres);
    corm__query p = {.model = &Genre_model,
                     .limit = -1,
                     .via_from = &Book_model,
                     .via = genres,
                     .via_keys = keys,
                     .nvia_keys = 3};
    assert_int_equal(compile_q(&p, CORM__SEL_OBJECTS), CORM_OK);
    assert_non_null(strstr(
        sql, " FROM \"book_genres\" J0 INNER JOIN \"genre\" T0 ON (T0.\"id\" = J0.\"genre_id\")"
             " WHERE J0.\"book_id\" = ANY($1)"));
    assert_int_equal(nparams, 1);
    assert_string_equal(params[0].u.s.p, "{4,5,6}");
    /* placeholders are numbered in text order */
    struct corm_q a = {.kind = CORM__Q_LEAF, .lookup = "pages__gt", .value = corm_int(1)};
    corm__query r = {.model = &Book_model, .where = &a, .limit = 10, .offset = 20};
    assert_int_equal(compile_q(&r, CORM__SEL_OBJECTS), CORM_OK);
    assert_non_null(strstr(sql, "WHERE T0.\"pages\" > $1 LIMIT $2 OFFSET $3"));
}

static void test_ddl(void **state)
{
    (void)state;
    corm__ddl l;
    corm__ddl_init(&l);
    assert_int_equal(corm__ddl_schema(pg, &bookstore_schema, &l, &err), CORM_OK);
    corm_buf all;
    corm__buf_init(&all);
    for (size_t i = 0; i < corm__ddl_count(&l); i++) {
        corm__buf_adds(&all, corm__ddl_at(&l, i));
        corm__buf_addc(&all, '\n');
    }
    const char *s = corm__buf_cstr(&all);
    /* Django's PostgreSQL types */
    assert_non_null(strstr(s,
                           "CREATE TABLE \"book\" (\"id\" bigint NOT NULL PRIMARY KEY GENERATED BY "
                           "DEFAULT AS IDENTITY, \"title\" varchar(200) NOT NULL, \"author_id\" "
                           "bigint NOT NULL, \"publisher_id\" bigint, \"published_date\" date, "
                           "\"isbn\" varchar(13) NOT NULL UNIQUE, \"pages\" integer NOT NULL, "
                           "\"price\" numeric(8, 2) NOT NULL, \"description\" text NOT NULL, "
                           "\"featured\" boolean NOT NULL DEFAULT FALSE)"));
    assert_non_null(strstr(s, "\"is_active\" boolean NOT NULL DEFAULT TRUE"));
    assert_non_null(strstr(s, "\"created_at\" timestamp"));
    assert_non_null(strstr(s, "\"metadata\" jsonb"));
    /* the references come once every table exists */
    assert_null(strstr(s, "bigint NOT NULL REFERENCES \"author\""));
    const char *fk =
        strstr(s, "ALTER TABLE \"book\" ADD CONSTRAINT \"book_author_id_fk\" FOREIGN KEY "
                  "(\"author_id\") REFERENCES \"author\" (\"id\") DEFERRABLE INITIALLY DEFERRED");
    assert_non_null(fk);
    assert_true(fk > strstr(s, "CREATE TABLE \"review\"")); /* after the last table */
    /* join tables keep theirs inline: they come after every model table */
    assert_non_null(
        strstr(s, "CREATE TABLE \"book_genres\" (\"id\" bigint NOT NULL PRIMARY KEY GENERATED BY "
                  "DEFAULT AS IDENTITY, \"book_id\" bigint NOT NULL REFERENCES \"book\""));
    /* a nullable index column sorts NULLs as the queries do */
    assert_non_null(strstr(s, "(\"published_date\" DESC NULLS LAST)"));
    assert_non_null(strstr(s, "(\"published_date\" NULLS FIRST, \"title\")"));
    /* no SQLite-only text */
    assert_null(strstr(s, "AUTOINCREMENT"));
    assert_null(strstr(s, "JSON_VALID"));
    corm__buf_free(&all);
    corm__ddl_free(&l);
}

/* Placeholders: $n with every digit, ? on SQLite. */
static void test_placeholders(void **state)
{
    (void)state;
    static const struct {
        int n;
        const char *text;
    } cases[] = {{1, "$1"}, {9, "$9"}, {10, "$10"}, {65535, "$65535"}, {100000, "$100000"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_buf b;
        corm__buf_init(&b);
        corm__buf_adds(&b, "x = ");
        corm__sql_param(&b, &corm__pg_dialect, cases[i].n);
        corm__sql_param(&b, &corm__sqlite_dialect, cases[i].n);
        char want[32];
        snprintf(want, sizeof want, "x = %s?", cases[i].text);
        assert_string_equal(corm__buf_cstr(&b), want);
        corm__buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_select_shapes),
        cmocka_unit_test(test_ddl),
        cmocka_unit_test(test_placeholders),
    };
    return cmocka_run_group_tests_name("dialect_pg", tests, NULL, NULL);
}
