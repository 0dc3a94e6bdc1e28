/*
** test_blockpool.c - a db's block pool serving single objects (a queryset
** built for one call in a loop reuses the memory of the one before) and
** the buffer over the caller's memory (a memo hit's SQL text).
*/
#include "test.h"
#include "core/core_int.h"

#include <stdint.h>
#include <string.h>

/* An object given back is served again; an arena's block stays cached
** beside it; a pool closed by its owner caches nothing more. */
static void test_object_reused(void **state)
{
    (void)state;
    corm__blockpool *p = corm__blockpool_new();
    assert_non_null(p);
    char *a = corm__blockpool_get(p, 3000);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % _Alignof(max_align_t), 0);
    memset(a, 0xab, 3000);
    corm_arena ar;
    corm__arena_init(&ar, 992);
    corm__arena_use_pool(&ar, p);
    char *s = corm__arena_strdup(&ar, "a filter's lookup");
    assert_non_null(s);
    /* as corm_qs_free: the arena's blocks first, then the object */
    corm__blockpool_hold(p);
    corm__arena_free(&ar);
    corm__blockpool_put(p, a);
    corm__blockpool_release(p);
    char *b = corm__blockpool_get(p, 3000);
    assert_ptr_equal(b, a); /* the same memory again */
    corm__arena_init(&ar, 992);
    corm__arena_use_pool(&ar, p);
    assert_ptr_equal(corm__arena_strdup(&ar, "again"), s); /* its block too */
    corm__arena_free(&ar);
    /* a size it does not hold: a new one */
    char *c = corm__blockpool_get(p, 100);
    assert_non_null(c);
    assert_ptr_not_equal(c, b);
    corm__blockpool_put(p, c);
    corm__blockpool_put(p, NULL); /* nothing */
    /* the owner closes it while b is out: b is freed when it comes back
    ** (ASan would report a leak or a use after free otherwise) */
    corm__blockpool_hold(p);
    corm__blockpool_close(p);
    corm__blockpool_put(p, b);
    corm__blockpool_release(p);
}

/* A call's several small arenas, given back in turn, are all kept (up to
** CORM__POOL_MIN, though each is smaller than the one before): the next
** call's arenas are served from the pool without asking the heap. */
static void test_small_arenas_kept(void **state)
{
    (void)state;
    enum { N = 4 };
    corm__blockpool *p = corm__blockpool_new();
    assert_non_null(p);
    corm_arena ar[N];
    for (int round = 0; round < 2; round++) {
        /* second round: every allocation from the heap fails */
        if (round == 1) corm__test_fail_alloc(0, true);
        for (int i = 0; i < N; i++) {
            corm__arena_init(&ar[i], (size_t)(4096 >> i));
            corm__arena_use_pool(&ar[i], p);
            assert_non_null(corm__arena_strdup(&ar[i], "a row's text"));
        }
        for (int i = 0; i < N; i++) corm__arena_free(&ar[i]);
    }
    corm__test_fail_alloc(-1, false);
    corm__blockpool_close(p);
}

/* Without a pool, get is malloc and put is free. */
static void test_no_pool(void **state)
{
    (void)state;
    char *a = corm__blockpool_get(NULL, 64);
    assert_non_null(a);
    memset(a, 1, 64);
    corm__blockpool_put(NULL, a);
}

/* A buffer over the caller's memory keeps what fits there and moves to
** the heap, with what it held, when it grows past it. */
static void test_buf_over(void **state)
{
    (void)state;
    char mem[8];
    corm_buf b;
    corm__buf_over(&b, mem, sizeof mem);
    assert_string_equal(corm__buf_cstr(&b), "");
    corm__buf_adds(&b, "SELECT");
    assert_ptr_equal(b.p, mem);
    assert_string_equal(mem, "SELECT");
    corm__buf_adds(&b, " 1 AS \"a\"");
    assert_ptr_not_equal(b.p, mem);
    assert_string_equal(corm__buf_cstr(&b), "SELECT 1 AS \"a\"");
    assert_string_equal(mem, "SELECT"); /* left as it was */
    corm__buf_free(&b);
    corm__buf_over(&b, mem, sizeof mem);
    corm__buf_adds(&b, "x");
    corm__buf_free(&b); /* the caller's memory is not freed */
    assert_null(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_reused),
        cmocka_unit_test(test_small_arenas_kept),
        cmocka_unit_test(test_no_pool),
        cmocka_unit_test(test_buf_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
