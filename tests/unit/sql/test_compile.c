/*
** test_compile.c - the SQL compiler without a database: exact SQL for the
** main shapes, and a deterministic fuzz of lookup paths and values whose
** invariant is "an error, or SQL whose placeholders are exactly the
** parameters, with no value text in it".
*/
#include "test.h"
#include "sql/sql_int.h"

#include <string.h>

static char sql[4096];
static int nparams;
static corm_error err;

static corm_rc compile_q(const corm__query *q, corm__sel_kind kind)
{
    corm__compiled c;
    corm__compiled_init(&c);
    corm_rc rc = corm__compile_select(q, kind, &corm__sqlite_dialect, &c, &err);
    snprintf(sql, sizeof sql, "%s", rc == CORM_OK ? corm__buf_cstr(&c.sql) : "");
    nparams = c.nparams;
    corm__compiled_free(&c);
    return rc;
}

static corm_rc compile1(const corm_model *m, const char *lookup, corm_value v)
{
    struct corm_q leaf = {.kind = CORM__Q_LEAF, .lookup = lookup, .value = v};
    corm__query q = {.model = m, .where = &leaf, .limit = -1};
    return compile_q(&q, CORM__SEL_COUNT);
}

static void test_shapes(void **state)
{
    (void)state;
    assert_int_equal(compile1(&Book_model, "title__icontains", corm_text("50%_off")), CORM_OK);
    assert_string_equal(sql, "SELECT COUNT(*) FROM \"book\" T0 WHERE T0.\"title\" LIKE ? ESCAPE '\\'");
    assert_int_equal(nparams, 1);

    assert_int_equal(compile1(&Book_model, "author__country__code", corm_text("FR")), CORM_OK);
    assert_string_equal(sql, "SELECT COUNT(*) FROM \"book\" T0 INNER JOIN \"author\" T1 ON (T0.\"author_id\" = T1.\"id\")"
                             " LEFT OUTER JOIN \"country\" T2 ON (T1.\"country_id\" = T2.\"id\") WHERE T2.\"code\" = ?");

    assert_int_equal(compile1(&Author_model, "books__genres__name", corm_text("x")), CORM_OK);
    assert_string_equal(sql, "SELECT COUNT(*) FROM \"author\" T0 WHERE T0.\"id\" IN (SELECT U0.\"author_id\" FROM \"book\" U0"
                             " WHERE U0.\"author_id\" IS NOT NULL AND U0.\"id\" IN (SELECT VJ.\"book_id\" FROM \"book_genres\" VJ"
                             " INNER JOIN \"genre\" V0 ON (V0.\"id\" = VJ.\"genre_id\") WHERE VJ.\"book_id\" IS NOT NULL AND V0.\"name\" = ?))");

    assert_int_equal(compile1(&Book_model, "published_date__year__gte", corm_int(2000)), CORM_OK);
    assert_string_equal(sql, "SELECT COUNT(*) FROM \"book\" T0 WHERE CAST(strftime('%Y', T0.\"published_date\") AS INTEGER) >= ?");

    const char *rel[] = {"author"};
    static const char *order[] = {"-pages"};
    corm__query q = {.model = &Book_model, .related = rel, .nrelated = 1, .order = order,
                     .norder = 1, .order_set = true, .limit = 10, .offset = 20};
    assert_int_equal(compile_q(&q, CORM__SEL_OBJECTS), CORM_OK);
    assert_non_null(strstr(sql, " FROM \"book\" T0 LEFT OUTER JOIN \"author\" T1 ON (T0.\"author_id\" = T1.\"id\")"
                                " ORDER BY T0.\"pages\" DESC LIMIT ? OFFSET ?"));
    assert_int_equal(nparams, 2);
}

/* Count '?' outside string literals. */
static int placeholders(const char *s)
{
    int n = 0;
    bool quoted = false;
    for (; *s; s++) {
        if (*s == '\'') quoted = !quoted;
        else if (*s == '?' && !quoted) n++;
    }
    return n;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static void test_fuzz_paths(void **state)
{
    (void)state;
    static const char *const parts[] = {
        "title", "author", "country", "name", "books", "genres", "pk", "id", "pages",
        "published_date", "year", "month", "in", "isnull", "gt", "icontains", "range",
        "book_set", "publisher", "authors", "x", "", "__", "\"; DROP TABLE book; --", "exact",
    };
    const corm_model *models[] = {&Book_model, &Author_model, &Genre_model, &Country_model};
    int ok = 0, failed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char path[256] = "";
        int nparts = 1 + (int)(rnd() % 5);
        for (int i = 0; i < nparts; i++) {
            if (i) strcat(path, "__");
            strcat(path, parts[rnd() % (sizeof parts / sizeof parts[0])]);
        }
        static const int64_t ints[] = {1, 2, 3};
        corm_value vals[] = {corm_int(7), corm_text("'; DROP TABLE book; --"), corm_bool(true),
                             corm_ints(ints, 3), corm_range(corm_int(1), corm_int(9)), corm_null(),
                             corm_float(1.5)};
        corm_value v = vals[rnd() % (sizeof vals / sizeof vals[0])];
        corm_rc rc = compile1(models[rnd() % 4], path, v);
        if (rc == CORM_OK) {
            ok++;
            assert_int_equal(placeholders(sql), nparams);
            assert_null(strstr(sql, "DROP"));
        } else {
            failed++;
            assert_true(err.message[0] != '\0');
            assert_true(rc == CORM_SCHEMA || rc == CORM_INVALID || rc == CORM_TYPE);
        }
    }
    assert_true(ok > 100);
    assert_true(failed > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_fuzz_paths),
    };
    return cmocka_run_group_tests_name("sql", tests, NULL, NULL);
}
