/*
** test_qs_lent_arenas.c - a queryset holds one reference to its db's
** block pool and lends it to its two arenas, which take a block only at
** their first allocation (a count over a filter or two takes none) and
** give back nothing when they took nothing.  Pinned here: querysets that
** allocate and querysets that do not, in turn, give the same rows and
** statement counts; querysets freed after their db was closed, whether
** their arenas allocated or not; a failed first allocation of the build
** arena is reported and leaves a queryset that frees cleanly.
** (AddressSanitizer's leak and use-after-free checks are part of it.)
*/
#include "test.h"
#include "core/core_int.h"

#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* count / exists (no arena block), an evaluation (the result arena's
** blocks), many filters (the build arena's), in turn: the same answers
** each round, one statement each. */
static void test_alternating(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        uint64_t q0 = corm_query_count(db);
        corm_qs *qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(1));
        assert_int_equal(corm_count(qs), 2);
        corm_qs_free(qs);

        qs = corm_all(db, Book);
        corm_filter(qs, "author", corm_int(1));
        corm_filter(qs, "pages__gt", corm_int(300));
        assert_int_equal(corm_exists(qs), 1);
        corm_qs_free(qs);

        qs = corm_all(db, Book);
        corm_filter(qs, "pages__gt", corm_int(296));
        corm_order_by(qs, "id");
        assert_ids(qs, "1,2,4,5");
        corm_qs_free(qs);

        qs = corm_all(db, Book);
        for (int i = 0; i < 10; i++) corm_filter(qs, "author__name__icontains", corm_text(""));
        corm_filter(qs, "author", corm_int(1));
        assert_false(corm_qs_failed(qs));
        assert_int_equal(corm_count(qs), 2);
        corm_qs_free(qs);
        assert_int_equal(corm_query_count(db) - q0, 4);
    }
}

/* Querysets outlive their db: one that never allocated, one evaluated
** (result blocks), one past its inline area (build blocks), one never
** used at all. */
static void test_freed_after_close(void **state)
{
    (void)state;
    corm_db *other = test_db_open();
    corm_qs *counted = corm_all(other, Book);
    corm_filter(counted, "author", corm_int(1));
    assert_int_equal(corm_count(counted), 2);
    corm_qs *evaluated = corm_all(other, Author);
    corm_order_by(evaluated, "id");
    assert_int_equal(corm_eval(evaluated), CORM_OK);
    assert_true(corm_qs_len(evaluated) > 0);
    corm_qs *built = corm_all(other, Book);
    for (int i = 0; i < 10; i++) corm_filter(built, "pages__gte", corm_int(i));
    assert_false(corm_qs_failed(built));
    corm_qs *unused = corm_all(other, Book);
    test_db_close(other);
    corm_qs_free(counted);
    corm_qs_free(unused);
    corm_qs_free(built);
    corm_qs_free(evaluated);
}

/* The build arena's first block cannot be had: the filter that needed it
** says out of memory, the count refuses to run, the queryset frees; the
** next queryset is fine. */
static void test_first_block_fails(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Book);
    uint64_t q0 = corm_query_count(db);
    corm__test_fail_alloc(0, false); /* the next allocation of the library */
    int i = 0;
    while (!corm__test_fail_alloc_done() && i < 40) {
        corm_filter(qs, "pages__gte", corm_int(i));
        i++;
    }
    corm__test_fail_alloc(-1, false);
    assert_true(i > 1); /* the first filters took no allocation */
    assert_true(corm_qs_failed(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_NOMEM);
    assert_int_equal(corm_count(qs), -1);
    assert_int_equal(corm_query_count(db), q0);
    corm_qs_free(qs);

    qs = corm_all(db, Book);
    corm_filter(qs, "author", corm_int(1));
    assert_int_equal(corm_count(qs), 2);
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alternating, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freed_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_block_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
