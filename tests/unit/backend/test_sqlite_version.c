/*
** test_sqlite_version.c - the oldest SQLite corm opens: an older library
** fails at open with both versions named (corm writes RETURNING, FILTER
** and NULLS FIRST/LAST, never an emulation).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <corm.h>
#include "backend/backend.h"

#include <sqlite3.h>
#include <string.h>

static void test_old_library_refused(void **state)
{
    (void)state;
    corm_error err = {0};
    assert_int_equal(corm__sqlite_check_version(3029000, "3.29.0", &err), CORM_DB);
    assert_string_equal(err.message, "SQLite 3.29.0 is too old: corm needs 3.35.0 or later");
    assert_non_null(strstr(err.hint, "RETURNING, FILTER (WHERE ...) and NULLS FIRST/LAST"));
    assert_int_equal(corm__sqlite_check_version(3034001, "3.34.1", &err), CORM_DB);
}

static void test_supported_library(void **state)
{
    (void)state;
    corm_error err = {0};
    assert_int_equal(corm__sqlite_check_version(3035000, "3.35.0", &err), CORM_OK);
    /* the library this program runs on (Debian 12: 3.40) */
    assert_int_equal(
        corm__sqlite_check_version(sqlite3_libversion_number(), sqlite3_libversion(), &err),
        CORM_OK);
    corm_db *db = corm_open("sqlite::memory:", NULL, &err);
    assert_non_null(db);
    corm_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_library_refused),
        cmocka_unit_test(test_supported_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
