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
    assert_string_equal(sql,
                        "SELECT COUNT(*) FROM \"book\" T0 WHERE T0.\"title\" LIKE ? ESCAPE '\\'");
    assert_int_equal(nparams, 1);

    assert_int_equal(compile1(&Book_model, "author__country__code", corm_text("FR")), CORM_OK);
    assert_string_equal(
        sql,
        "SELECT COUNT(*) FROM \"book\" T0 INNER JOIN \"author\" T1 ON (T0.\"author_id\" = "
        "T1.\"id\")"
        " LEFT OUTER JOIN \"country\" T2 ON (T1.\"country_id\" = T2.\"id\") WHERE T2.\"code\" = ?");

    assert_int_equal(compile1(&Author_model, "books__genres__name", corm_text("x")), CORM_OK);
    assert_string_equal(sql, "SELECT COUNT(*) FROM \"author\" T0 WHERE T0.\"id\" IN (SELECT "
                             "U0.\"author_id\" FROM \"book\" U0"
                             " WHERE U0.\"author_id\" IS NOT NULL AND U0.\"id\" IN (SELECT "
                             "VJ.\"book_id\" FROM \"book_genres\" VJ"
                             " INNER JOIN \"genre\" V0 ON (V0.\"id\" = VJ.\"genre_id\") WHERE "
                             "VJ.\"book_id\" IS NOT NULL AND V0.\"name\" = ?))");

    assert_int_equal(compile1(&Book_model, "published_date__year__gte", corm_int(2000)), CORM_OK);
    assert_string_equal(sql, "SELECT COUNT(*) FROM \"book\" T0 WHERE CAST(strftime('%Y', "
                             "T0.\"published_date\") AS INTEGER) >= ?");

    const char *rel[] = {"author"};
    static const char *order[] = {"-pages"};
    corm__query q = {.model = &Book_model,
                     .related = rel,
                     .nrelated = 1,
                     .order = order,
                     .norder = 1,
                     .order_set = true,
                     .limit = 10,
                     .offset = 20};
    assert_int_equal(compile_q(&q, CORM__SEL_OBJECTS), CORM_OK);
    assert_non_null(strstr(
        sql, " FROM \"book\" T0 LEFT OUTER JOIN \"author\" T1 ON (T0.\"author_id\" = T1.\"id\")"
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
        "title",     "author",
        "country",   "name",
        "books",     "genres",
        "pk",        "id",
        "pages",     "published_date",
        "year",      "month",
        "in",        "isnull",
        "gt",        "icontains",
        "range",     "book_set",
        "publisher", "authors",
        "x",         "",
        "__",        "\"; DROP TABLE book; --",
        "exact",
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
        corm_value vals[] = {
            corm_int(7),        corm_text("'; DROP TABLE book; --"),  corm_bool(true),
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

/* ------------------------------------------------ the compiled-SQL memo */

/* The dialect memo_vs_direct compiles for. */
static const corm__dialect *memo_dialect = &corm__sqlite_dialect;

/* Compile q through memo and directly; both must agree.  Returns rc. */
static corm_rc memo_vs_direct(corm__memo *memo, const corm__query *q, corm__sel_kind kind)
{
    corm__compiled a, b;
    corm__compiled_init(&a);
    corm__compiled_init(&b);
    corm_error e1 = {0}, e2 = {0};
    corm_rc r1 = corm__compile_select_memo(memo, q, kind, memo_dialect, &a, &e1);
    corm_rc r2 = corm__compile_select(q, kind, memo_dialect, &b, &e2);
    assert_int_equal(r1, r2);
    if (r1 == CORM_OK) {
        assert_string_equal(corm__buf_cstr(&a.sql), corm__buf_cstr(&b.sql));
        assert_int_equal(a.nparams, b.nparams);
        for (int i = 0; i < a.nparams; i++) {
            assert_int_equal(a.params[i].type, b.params[i].type);
            if (a.params[i].type == CORM_V_INT) assert_int_equal(a.params[i].u.i, b.params[i].u.i);
            if (a.params[i].type == CORM_V_TEXT)
                assert_string_equal(a.params[i].u.s.p, b.params[i].u.s.p);
        }
        assert_int_equal(a.nnodes, b.nnodes);
        assert_int_equal(a.ncols, b.ncols);
        snprintf(sql, sizeof sql, "%s", corm__buf_cstr(&a.sql));
        nparams = a.nparams;
    } else {
        assert_string_equal(e1.message, e2.message);
    }
    corm__compiled_free(&a);
    corm__compiled_free(&b);
    return r1;
}

static corm_rc memo1(corm__memo *memo, const char *lookup, corm_value v)
{
    struct corm_q leaf = {.kind = CORM__Q_LEAF, .lookup = lookup, .value = v};
    corm__query q = {.model = &Book_model, .where = &leaf, .limit = -1};
    return memo_vs_direct(memo, &q, CORM__SEL_OBJECTS);
}

static void test_memo(void **state)
{
    (void)state;
    corm__memo memo = {0};
    memo.verify = true;
    /* same shape, other values: the second is a hit with its own parameter */
    assert_int_equal(memo1(&memo, "author", corm_int(1)), CORM_OK);
    assert_int_equal(memo1(&memo, "author", corm_int(2)), CORM_OK);
    assert_int_equal(memo.hits, 1);
    assert_non_null(strstr(sql, "WHERE T0.\"author_id\" = ?"));
    /* what changes the text is part of the shape */
    assert_int_equal(memo1(&memo, "author", corm_null()), CORM_OK);
    assert_non_null(strstr(sql, "IS NULL"));
    assert_int_equal(memo1(&memo, "publisher__isnull", corm_bool(true)), CORM_OK);
    assert_non_null(strstr(sql, "IS NULL"));
    assert_int_equal(memo1(&memo, "publisher__isnull", corm_bool(false)), CORM_OK);
    assert_non_null(strstr(sql, "IS NOT NULL"));
    static const int64_t ids[] = {1, 2, 3};
    assert_int_equal(memo1(&memo, "id__in", corm_ints(ids, 3)), CORM_OK);
    assert_int_equal(nparams, 3);
    assert_int_equal(memo1(&memo, "id__in", corm_ints(ids, 2)), CORM_OK);
    assert_int_equal(nparams, 2);
    assert_int_equal(memo1(&memo, "id__in", corm_ints(ids, 0)), CORM_OK);
    assert_non_null(strstr(sql, "1 = 0"));
    assert_int_equal(memo.hits, 1);
    /* a pattern's parameter is made from the value on every hit */
    assert_int_equal(memo1(&memo, "title__icontains", corm_text("ab")), CORM_OK);
    assert_int_equal(memo1(&memo, "title__icontains", corm_text("50%")), CORM_OK);
    assert_int_equal(memo.hits, 2);
    /* a wrong value type is still refused on a hit */
    assert_int_equal(memo1(&memo, "pages", corm_int(1)), CORM_OK);
    assert_int_equal(memo1(&memo, "pages", corm_text("x")), CORM_TYPE);
    /* slices: LIMIT and OFFSET are parameters */
    corm__query q = {.model = &Book_model, .limit = 10, .offset = 5};
    assert_int_equal(memo_vs_direct(&memo, &q, CORM__SEL_COUNT), CORM_OK);
    q.limit = 3;
    q.offset = 1;
    assert_int_equal(memo_vs_direct(&memo, &q, CORM__SEL_COUNT), CORM_OK);
    q.offset = 0;
    assert_int_equal(memo_vs_direct(&memo, &q, CORM__SEL_COUNT), CORM_OK);
    assert_null(strstr(sql, "OFFSET"));
    /* expressions and annotations are not memoized */
    uint64_t before = memo.hits + memo.misses;
    corm__annot an = {"n", NULL, false};
    corm__query qa = {.model = &Book_model, .limit = -1, .annots = &an, .nannots = 1};
    corm__compiled c;
    corm__compiled_init(&c);
    (void)corm__compile_select_memo(&memo, &qa, CORM__SEL_OBJECTS, &corm__sqlite_dialect, &c, &err);
    corm__compiled_free(&c);
    assert_int_equal(memo.hits + memo.misses, before);
    corm__memo_free(&memo);
}

/* Random queries of few shapes, compiled through a memo and directly. */
static void test_memo_fuzz(void **state)
{
    (void)state;
    static const char *const lookups[] = {
        "title",
        "author",
        "author__name",
        "pages__gt",
        "publisher__isnull",
        "id__in",
        "author__country__code",
        "title__startswith",
        "published_date__year",
        "genres__name",
        "price__range",
        "pk",
        "nope",
    };
    static const char *const orders[] = {"-pages", "title", "author__name"};
    static const char *const related[] = {"author", "publisher", "author__country"};
    static const int64_t ints[] = {4, 5, 6, 7};
    corm__memo memo = {0};
    memo.verify = true;
    for (int iter = 0; iter < 20000; iter++) {
        corm_value vals[] = {corm_int((int64_t)(rnd() % 3)),
                             corm_text("ab"),
                             corm_bool(rnd() % 2),
                             corm_ints(ints, rnd() % 4),
                             corm_range(corm_int(1), corm_int(9)),
                             corm_null(),
                             corm_float(2.5)};
        struct corm_q l1 = {
            .kind = CORM__Q_LEAF, .lookup = lookups[rnd() % 13], .value = vals[rnd() % 7]};
        struct corm_q l2 = {
            .kind = CORM__Q_LEAF, .lookup = lookups[rnd() % 13], .value = vals[rnd() % 7]};
        struct corm_q not2 = {.kind = CORM__Q_NOT, .a = &l2};
        struct corm_q both = {
            .kind = rnd() % 2 ? CORM__Q_AND : CORM__Q_OR, .a = &l1, .b = rnd() % 2 ? &l2 : &not2};
        const char *ord[1] = {orders[rnd() % 3]};
        const char *rel[1] = {related[rnd() % 3]};
        corm__query q = {.model = &Book_model, .limit = -1};
        int shape = (int)(rnd() % 4);
        q.where = shape == 0 ? NULL : shape == 1 ? &l1 : &both;
        if (rnd() % 2) {
            q.order = ord;
            q.norder = 1;
            q.order_set = true;
        }
        if (rnd() % 2) {
            q.related = rel;
            q.nrelated = 1;
        }
        if (rnd() % 3 == 0) q.limit = (int64_t)(rnd() % 5);
        if (rnd() % 3 == 0) q.offset = (int64_t)(rnd() % 5);
        q.distinct = rnd() % 5 == 0;
        (void)memo_vs_direct(&memo, &q, (corm__sel_kind)(rnd() % 3));
    }
    uint64_t hits = memo.hits;
    corm__memo_free(&memo);
    printf("memo fuzz: %llu hits\n", (unsigned long long)hits);
    assert_true(hits > 1000);
}

/* The binding program of a memo entry: the same shapes with other values
** on every call (random ints, texts, floats, slices), each hit bound from
** the program and compared with the compiler's own parameters. */
static void memo_program(void)
{
    static const char *const lookups[] = {
        "title",        "author",     "pages__gt", "publisher__isnull",    "title__contains",
        "author__name", "price__lte", "id",        "published_date__year",
    };
    corm__memo memo = {0};
    memo.verify = true;
    char t1[32], t2[32];
    for (int iter = 0; iter < 20000; iter++) {
        snprintf(t1, sizeof t1, "t%u", (unsigned)(rnd() % 1000));
        snprintf(t2, sizeof t2, "%u%%_", (unsigned)(rnd() % 1000));
        corm_value vals[] = {corm_int((int64_t)(rnd() % 100000) - 50),
                             corm_text(t1),
                             corm_text(t2),
                             corm_bool(rnd() % 2),
                             corm_null(),
                             corm_float((double)(rnd() % 1000) / 8.0),
                             corm_int(0)};
        struct corm_q l1 = {
            .kind = CORM__Q_LEAF, .lookup = lookups[rnd() % 9], .value = vals[rnd() % 7]};
        struct corm_q l2 = {
            .kind = CORM__Q_LEAF, .lookup = lookups[rnd() % 9], .value = vals[rnd() % 7]};
        struct corm_q both = {.kind = rnd() % 2 ? CORM__Q_AND : CORM__Q_OR, .a = &l1, .b = &l2};
        corm__query q = {.model = &Book_model, .limit = -1};
        q.where = rnd() % 2 ? &l1 : &both;
        if (rnd() % 3 == 0) q.limit = (int64_t)(rnd() % 50);
        if (rnd() % 3 == 0) q.offset = (int64_t)(rnd() % 50);
        (void)memo_vs_direct(&memo, &q, (corm__sel_kind)(rnd() % 3));
    }
    uint64_t hits = memo.hits;
    corm__memo_free(&memo);
    printf("memo program fuzz (%s): %llu hits\n",
           memo_dialect == &corm__pg_dialect ? "postgresql" : "sqlite", (unsigned long long)hits);
    assert_true(hits > 500);
}

static void test_memo_program(void **state)
{
    (void)state;
    memo_program();
    memo_dialect = &corm__pg_dialect;
    memo_program();
    memo_dialect = &corm__sqlite_dialect;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),       cmocka_unit_test(test_fuzz_paths),
        cmocka_unit_test(test_memo),         cmocka_unit_test(test_memo_fuzz),
        cmocka_unit_test(test_memo_program),
    };
    return cmocka_run_group_tests_name("sql", tests, NULL, NULL);
}
