/*
** test_buf_addi.c - integers written in decimal without printf (a bound
** PostgreSQL parameter, an array element): the same text as "%lld" for
** the extremes, the digit boundaries and the signs, appended after what
** the buffer holds, over the caller's memory and in a discarding buffer.
*/
#include "test.h"
#include "core/core_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void check(int64_t x)
{
    char want[48];
    snprintf(want, sizeof want, "a%lldb", (long long)x);
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_addc(&b, 'a');
    corm__buf_addi(&b, x);
    corm__buf_addc(&b, 'b');
    assert_false(b.oom);
    assert_string_equal(corm__buf_cstr(&b), want);
    assert_int_equal(b.len, strlen(want));
    corm__buf_free(&b);
}

static void test_same_as_printf(void **state)
{
    (void)state;
    check(0);
    check(INT64_MAX);
    check(INT64_MIN);
    check(INT64_MIN + 1);
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
        check(p - 1);
        check(p);
        check(p + 1);
        check(-p);
        check(1 - p);
        check(-p - 1);
    }
}

static void test_grows_and_discards(void **state)
{
    (void)state;
    /* over 4 bytes of the caller's: the text moves to the heap intact */
    char mem[4];
    corm_buf b;
    corm__buf_over(&b, mem, sizeof mem);
    corm__buf_adds(&b, "x=");
    corm__buf_addi(&b, -9223372036854775807LL - 1);
    assert_string_equal(corm__buf_cstr(&b), "x=-9223372036854775808");
    corm__buf_free(&b);
    /* a discarding buffer keeps nothing */
    corm__buf_discard(&b);
    corm__buf_addi(&b, 42);
    assert_int_equal(b.len, 0);
    corm__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_printf),
        cmocka_unit_test(test_grows_and_discards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
