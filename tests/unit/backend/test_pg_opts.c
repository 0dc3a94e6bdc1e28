/*
** test_pg_opts.c - corm's options in a PostgreSQL url (pg_opts.c):
** prepare_threshold is taken out of a URI's query and out of libpq's
** keyword form, everything else is left for libpq as written, and every
** bad value is refused saying what was wrong and what it takes, without
** repeating the url (it may hold a password).  No server needed: the
** options are read before connecting.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <corm.h>
#include "backend/backend.h"

#include <string.h>

/* target parsed: its conninfo must be want, its threshold thr */
static void parses(const char *target, const char *want, int thr, bool given)
{
    corm__pg_opts o;
    corm_error err = {0};
    assert_int_equal(corm__pg_opts_parse(target, &o, &err), CORM_OK);
    assert_string_equal(o.conninfo, want);
    assert_int_equal(o.prepare_threshold, thr);
    assert_int_equal(o.threshold_given, given);
    corm__pg_opts_free(&o);
    assert_null(o.conninfo);
}

static void test_uri(void **state)
{
    (void)state;
    const char *plain = "postgresql://u@/db?host=/tmp/x&port=5432";
    parses(plain, plain, CORM__PG_PREPARE_THRESHOLD, false);
    parses("postgresql://u@h/db", "postgresql://u@h/db", 5, false);
    parses("postgresql://u@h/db?prepare_threshold=3", "postgresql://u@h/db", 3, true);
    parses("postgres://u@h/db?prepare_threshold=0&sslmode=disable",
           "postgres://u@h/db?sslmode=disable", 0, true);
    parses("postgresql://u@/db?host=/tmp/x&prepare_threshold=1&port=5432",
           "postgresql://u@/db?host=/tmp/x&port=5432", 1, true);
    parses("postgresql://u@/db?host=/tmp/x&port=5432&prepare_threshold=1000000",
           "postgresql://u@/db?host=/tmp/x&port=5432", 1000000, true);
    /* a name that only starts like ours is libpq's */
    parses("postgresql://h/db?prepare_threshold_x=1", "postgresql://h/db?prepare_threshold_x=1", 5,
           false);
    parses("postgresql://h/db?prepare_threshold=007", "postgresql://h/db", 7, true);
}

static void test_keywords(void **state)
{
    (void)state;
    parses("host=/tmp/x dbname=db", "host=/tmp/x dbname=db", 5, false);
    parses("host=/tmp/x prepare_threshold=2 dbname=db", "host=/tmp/x dbname=db", 2, true);
    parses("prepare_threshold = 0 host=h", " host=h", 0, true);
    parses("host=h prepare_threshold='4'", "host=h", 4, true);
    /* inside a quoted value it is not an option */
    parses("password='a prepare_threshold=9 \\' b' dbname=db",
           "password='a prepare_threshold=9 \\' b' dbname=db", 5, false);
    /* a text libpq will refuse is handed over as it is */
    parses("host=h prepare_threshold", "host=h prepare_threshold", 5, false);
}

/* target refused: message and hint hold the given pieces, never the
** password */
static void refused(const char *target, const char *msg, const char *hint)
{
    corm__pg_opts o;
    corm_error err = {0};
    assert_int_equal(corm__pg_opts_parse(target, &o, &err), CORM_INVALID);
    assert_int_equal(err.rc, CORM_INVALID);
    if (!strstr(err.message, msg)) fail_msg("message '%s' lacks '%s'", err.message, msg);
    if (!strstr(err.hint, hint)) fail_msg("hint '%s' lacks '%s'", err.hint, hint);
    assert_null(strstr(err.message, "secret"));
    assert_null(strstr(err.hint, "secret"));
    assert_null(o.conninfo);
}

static void test_bad_values(void **state)
{
    (void)state;
    const char *takes = "0 to never prepare";
    refused("postgresql://u:secret@h/db?prepare_threshold=abc",
            "option prepare_threshold=abc in the PostgreSQL url is not a number", takes);
    refused("postgresql://u:secret@h/db?prepare_threshold=5x", "prepare_threshold=5x", takes);
    refused("postgresql://u:secret@h/db?prepare_threshold=-1",
            "option prepare_threshold=-1 in the PostgreSQL url is negative", takes);
    refused("postgresql://u:secret@h/db?prepare_threshold=-x", "is not a number", takes);
    refused("postgresql://u:secret@h/db?prepare_threshold=1000001",
            "option prepare_threshold=1000001 in the PostgreSQL url is too big",
            "the most is 1000000; use prepare_threshold=0 to never prepare");
    refused("postgresql://u:secret@h/db?prepare_threshold=99999999999999999999999", "is too big",
            "the most is 1000000");
    refused("postgresql://u:secret@h/db?prepare_threshold=",
            "option prepare_threshold in the PostgreSQL url has no value",
            "write it as prepare_threshold=5");
    refused("postgresql://u:secret@h/db?prepare_threshold", "has no value", "prepare_threshold=5");
    refused("postgresql://u:secret@h/db?prepare_threshold=1&prepare_threshold=2",
            "option prepare_threshold is given twice in the PostgreSQL url", "give it once");
    refused("host=h password=secret prepare_threshold=many", "prepare_threshold=many", takes);
    refused("host=h password=secret prepare_threshold=''", "has no value", takes);
}

/* Through corm_open: the url is refused before any connection is tried. */
static void test_open_refuses(void **state)
{
    (void)state;
    corm_error err = {0};
    corm_db *db =
        corm_open("postgresql://u:secret@127.0.0.1:1/db?prepare_threshold=-3", NULL, &err);
    assert_null(db);
    assert_int_equal(err.rc, CORM_INVALID);
    assert_non_null(strstr(err.message, "prepare_threshold=-3"));
    assert_non_null(strstr(err.hint, "0 to never prepare"));
    assert_null(strstr(err.message, "secret"));
    db = corm_open("postgresql:host=/nowhere prepare_threshold=x", NULL, &err);
    assert_null(db);
    assert_int_equal(err.rc, CORM_INVALID);
    assert_non_null(strstr(err.message, "is not a number"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_open_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
