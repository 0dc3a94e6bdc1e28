/*
** test_core.c - arena, buffers, errors and "did you mean".
*/
#include "test.h"
#include "core/core_int.h"

#include <stdio.h>
#include <string.h>

static void test_arena_alignment_and_growth(void **state)
{
    (void)state;
    corm_arena a;
    corm__arena_init(&a, 64);
    for (size_t n = 1; n < 5000; n += 37) {
        void *p = corm__arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, n);
    }
    size_t before = corm__arena_size(&a);
    void *big = corm__arena_alloc(&a, 1 << 20);
    assert_non_null(big);
    assert_true(corm__arena_size(&a) >= before + (1 << 20));
    /* the head block still serves small requests after a big one */
    void *small = corm__arena_alloc(&a, 8);
    assert_non_null(small);
    assert_string_equal(corm__arena_strdup(&a, "hello"), "hello");
    assert_string_equal(corm__arena_strndup(&a, "hello", 2), "he");
    assert_null(corm__arena_strdup(&a, NULL));
    corm__arena_free(&a);
    assert_int_equal(corm__arena_size(&a), 0);
    corm__arena_free(&a); /* twice is fine */
}

static void test_buf(void **state)
{
    (void)state;
    corm_buf b;
    corm__buf_init(&b);
    assert_string_equal(corm__buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++) corm__buf_addf(&b, "%d,", i);
    assert_int_equal(strncmp(corm__buf_cstr(&b), "0,1,2,", 6), 0);
    assert_false(b.oom);
    corm__buf_reset(&b);
    corm__buf_adds(&b, "x");
    corm__buf_addc(&b, 'y');
    assert_string_equal(corm__buf_cstr(&b), "xy");
    corm__buf_free(&b);
}

static void test_errors_and_names(void **state)
{
    (void)state;
    assert_string_equal(corm_rc_name(CORM_NOTFOUND), "CORM_NOTFOUND");
    assert_string_equal(corm_rc_str(CORM_CONSTRAINT), "constraint violated");
    assert_string_equal(corm_rc_name((corm_rc)999), "CORM_UNKNOWN");
    corm_error e;
    corm__err_set(&e, CORM_SCHEMA, "no field '%s'", "titel");
    corm__err_hint(&e, "did you mean '%s'?", "title");
    corm__strlcpy(e.file, "app.corm", sizeof e.file);
    e.line = 3;
    e.col = 7;
    char buf[256];
    assert_string_equal(corm_error_format(&e, buf, sizeof buf),
                        "app.corm:3:7: no field 'titel'\nhint: did you mean 'title'?");
    /* a tiny buffer truncates, never overflows */
    char tiny[8];
    assert_int_equal(strlen(corm_error_format(&e, tiny, sizeof tiny)), 7);

    const char *cands[] = {"title", "author", "pages", "published_date"};
    assert_string_equal(corm__did_you_mean("titel", cands, 4), "title");
    assert_string_equal(corm__did_you_mean("publish_date", cands, 4), "published_date");
    assert_null(corm__did_you_mean("zzzzzz", cands, 4));
    assert_string_equal(corm_version(), CORM_VERSION_STRING);
}

/* The memo keeps CORM__MEMO_WAYS keys of one set (hashes chosen to land in
** one set): a loop alternating between them hits every time; one more key
** evicts the least recently used. */
static void test_memo_sets(void **state)
{
    (void)state;
    corm__memo m = {0};
    const uint64_t sets = CORM__MEMO_SLOTS; /* a multiple of the number of sets */
    char key[16];
    for (int i = 0; i < CORM__MEMO_WAYS; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_non_null(corm__memo_put(&m, key, strlen(key), 7 + sets * (uint64_t)i, &i, sizeof i));
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < CORM__MEMO_WAYS; i++) {
            size_t vlen = 0;
            snprintf(key, sizeof key, "k%d", i);
            const void *v = corm__memo_get(&m, key, strlen(key), 7 + sets * (uint64_t)i, &vlen);
            assert_non_null(v);
            assert_int_equal(vlen, sizeof(int));
            assert_memory_equal(v, &i, sizeof i); /* stored unaligned */
        }
    assert_int_equal(m.misses, 0);
    /* k0 is now the least recently used: the next key takes its place */
    int five = 5;
    assert_non_null(corm__memo_put(&m, "k5", 2, 7 + sets * 9, &five, sizeof five));
    assert_null(corm__memo_get(&m, "k0", 2, 7, NULL));
    assert_non_null(corm__memo_get(&m, "k1", 2, 7 + sets, NULL));
    assert_non_null(corm__memo_get(&m, "k5", 2, 7 + sets * 9, NULL));
    /* the same key again replaces its value in place */
    int six = 6;
    assert_non_null(corm__memo_put(&m, "k5", 2, 7 + sets * 9, &six, sizeof six));
    const void *v = corm__memo_get(&m, "k5", 2, 7 + sets * 9, NULL);
    assert_non_null(v);
    assert_memory_equal(v, &six, sizeof six);
    assert_non_null(corm__memo_get(&m, "k1", 2, 7 + sets, NULL));
    assert_non_null(corm__memo_get(&m, "k2", 2, 7 + 2 * sets, NULL));
    assert_non_null(corm__memo_get(&m, "k3", 2, 7 + 3 * sets, NULL));
    corm__memo_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alignment_and_growth),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_errors_and_names),
        cmocka_unit_test(test_memo_sets),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
