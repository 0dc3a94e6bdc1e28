/*
** test_arena_lent.c - an arena lent its pool (corm__arena_init_lent, a
** queryset's two arenas): it takes no reference and no block until its
** first allocation, gives nothing back when it took nothing, and after a
** failed first allocation is as it was (empty, freeable, usable).  The
** object from corm__blockpool_get holds the pool's reference for it, so
** the pool outlives its owner's close until the object is given back.
** AddressSanitizer's leak check and use-after-free reports are half of
** these tests: a reference taken twice leaks the pool, one dropped twice
** frees it while it is used.
*/
#include "test.h"
#include "core/core_int.h"

#include <stdint.h>
#include <string.h>

/* A block of the pool's cache, taken by a plain arena and given back:
** the address the next arena of that size gets first. */
static void *cache_one_block(corm__blockpool *p, size_t first_block)
{
    corm_arena ar;
    corm__arena_init(&ar, first_block);
    corm__arena_use_pool(&ar, p);
    void *m = corm__arena_alloc(&ar, 16);
    assert_non_null(m);
    corm__arena_free(&ar);
    return m;
}

/* Never allocated: freeing it gives nothing back and drops no reference
** (the object still holds the pool, which still serves its cache). */
static void test_untouched_arena(void **state)
{
    (void)state;
    corm__blockpool *p = corm__blockpool_new();
    assert_non_null(p);
    void *blk = cache_one_block(p, 992);
    char *obj = corm__blockpool_get(p, 3000);
    assert_non_null(obj);
    corm_arena a;
    corm__arena_init_lent(&a, 992, p);
    assert_null(a.head);
    assert_int_equal(corm__arena_size(&a), 0);
    corm__arena_free(&a);
    assert_null(a.pool);
    assert_false(a.lent);
    corm__arena_free(&a); /* twice: still nothing */
    /* the cached block was not taken by the untouched arena */
    corm_arena b;
    corm__arena_init_lent(&b, 992, p);
    assert_ptr_equal(corm__arena_alloc(&b, 8), blk);
    assert_true(corm__arena_size(&b) > 0);
    corm__arena_free(&b); /* back to the pool */
    assert_ptr_equal(cache_one_block(p, 992), blk);
    corm__blockpool_put(p, obj);
    /* the owner's reference is the last one: close frees the pool (a
    ** reference too many would leak it, one too few use it freed) */
    corm__blockpool_close(p);
}

/* A reset of an arena that holds nothing keeps nothing and takes no
** block; its first allocation after takes the pool's. */
static void test_reset_untouched(void **state)
{
    (void)state;
    corm__blockpool *p = corm__blockpool_new();
    assert_non_null(p);
    void *blk = cache_one_block(p, 992);
    char *obj = corm__blockpool_get(p, 3000);
    assert_non_null(obj);
    corm_arena a;
    corm__arena_init_lent(&a, 992, p);
    corm__arena_reset(&a);
    assert_null(a.head);
    assert_int_equal(corm__arena_size(&a), 0);
    char *s = corm__arena_strdup(&a, "pages__gt");
    assert_ptr_equal(s, blk);
    assert_string_equal(s, "pages__gt");
    corm__arena_reset(&a); /* one block: kept */
    assert_ptr_equal(corm__arena_alloc(&a, 8), blk);
    corm__arena_free(&a);
    corm__blockpool_put(p, obj);
    corm__blockpool_close(p);
}

/* The first allocation fails (an empty cache, malloc fails): NULL, the
** arena is still empty and takes nothing; freeing or resetting it is
** fine, and the next allocation works and goes back to the pool. */
static void test_failed_first_allocation(void **state)
{
    (void)state;
    corm__blockpool *p = corm__blockpool_new();
    assert_non_null(p);
    char *obj = corm__blockpool_get(p, 3000);
    assert_non_null(obj);
    corm_arena a;
    corm__arena_init_lent(&a, 992, p);
    corm__test_fail_alloc(0, false);
    assert_null(corm__arena_alloc(&a, 24));
    assert_true(corm__test_fail_alloc_done());
    corm__test_fail_alloc(-1, false);
    assert_null(a.head);
    assert_int_equal(corm__arena_size(&a), 0);
    corm__arena_free(&a); /* nothing to give back */
    /* freed after a failure: a plain arena now, without the pool */
    char *m = corm__arena_strdup(&a, "after");
    assert_non_null(m);
    corm__arena_free(&a);

    /* failed, reset, then used: the block comes from and goes to p */
    corm__arena_init_lent(&a, 992, p);
    corm__test_fail_alloc(0, false);
    assert_null(corm__arena_zalloc(&a, 24));
    corm__test_fail_alloc(-1, false);
    corm__arena_reset(&a);
    assert_null(a.head);
    void *blk = corm__arena_alloc(&a, 24);
    assert_non_null(blk);
    corm__arena_free(&a);
    assert_ptr_equal(cache_one_block(p, 992), blk); /* it went to the pool */

    /* the object itself failing takes no reference (close frees p) */
    corm__test_fail_alloc(0, false);
    char *none = corm__blockpool_get(p, 100000);
    corm__test_fail_alloc(-1, false);
    assert_null(none);
    corm__blockpool_put(p, NULL);
    corm__blockpool_put(p, obj);
    corm__blockpool_close(p);
}

/* The owner closes the pool while an object and its lent arenas are out:
** the arenas still allocate (from the system) and free, and the pool
** goes when the object is given back. */
static void test_owner_closed_first(void **state)
{
    (void)state;
    corm__blockpool *p = corm__blockpool_new();
    assert_non_null(p);
    cache_one_block(p, 8192);
    char *obj = corm__blockpool_get(p, 3000);
    assert_non_null(obj);
    memset(obj, 0x5a, 3000);
    corm_arena build, result;
    corm__arena_init_lent(&build, 992, p);
    corm__arena_init_lent(&result, 8192, p);
    assert_non_null(corm__arena_strdup(&result, "before the close"));
    corm__blockpool_close(p);
    assert_non_null(corm__arena_alloc(&result, 20000)); /* a big block of its own */
    assert_non_null(corm__arena_strdup(&build, "after the close"));
    corm__arena_free(&build);
    corm__arena_free(&result);
    corm__blockpool_put(p, obj); /* the last reference: p is freed */

    /* and with arenas that never allocated */
    p = corm__blockpool_new();
    assert_non_null(p);
    obj = corm__blockpool_get(p, 3000);
    assert_non_null(obj);
    corm__arena_init_lent(&build, 992, p);
    corm__blockpool_close(p);
    corm__arena_free(&build);
    corm__blockpool_put(p, obj);
}

/* Lent with no pool (a db whose pool could not be made): malloc and free. */
static void test_lent_no_pool(void **state)
{
    (void)state;
    char *obj = corm__blockpool_get(NULL, 64);
    assert_non_null(obj);
    corm_arena a;
    corm__arena_init_lent(&a, 0, NULL);
    assert_non_null(corm__arena_alloc(&a, 5000));
    assert_non_null(corm__arena_alloc(&a, 10));
    corm__arena_free(&a);
    corm__blockpool_put(NULL, obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untouched_arena),
        cmocka_unit_test(test_reset_untouched),
        cmocka_unit_test(test_failed_first_allocation),
        cmocka_unit_test(test_owner_closed_first),
        cmocka_unit_test(test_lent_no_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
