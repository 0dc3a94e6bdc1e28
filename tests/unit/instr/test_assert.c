/*
** test_assert.c - CORM_ASSERT_NUM_QUERIES / CORM_ASSERT_MAX_QUERIES from
** corm.h as another test framework would use them: with its own
** CORM_ASSERT_FAIL (here one that records the message), and with the
** default one, which prints and aborts (run in a forked child).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* "another framework": remember the failure instead of reporting it */
static char failed_msg[8192];
static const char *failed_file;
static int failed_line, nfailed;
static void record(const char *msg, const char *file, int line)
{
    snprintf(failed_msg, sizeof failed_msg, "%s", msg);
    failed_file = file;
    failed_line = line;
    nfailed++;
}
#define CORM_ASSERT_FAIL(msg, file, line) record((msg), (file), (line))
#include <corm.h>
#include "bookstore.h"

/* tests/support: the fixture database (declared here: test.h would set
** CORM_ASSERT_FAIL to cmocka's) */
corm_db *test_db_open(void);
void test_db_close(corm_db *db);

static corm_db *db;
static size_t sink;

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    corm_nplusone_mode(db, CORM_NPLUSONE_OFF); /* only the counts here */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static void lazy_loop(int nbooks)
{
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    corm_slice(qs, 0, nbooks);
    Book *b;
    corm_foreach(b, qs) sink += strlen(book_author(b)->name);
    corm_qs_free(qs);
}

static void test_passes(void **state)
{
    (void)state;
    nfailed = 0;
    CORM_ASSERT_NUM_QUERIES(db, 3) { lazy_loop(2); }
    CORM_ASSERT_MAX_QUERIES(db, 3) { lazy_loop(1); }
    CORM_ASSERT_MAX_QUERIES(db, 3) { lazy_loop(2); }
    CORM_ASSERT_NUM_QUERIES(db, 0) { sink++; }
    assert_int_equal(nfailed, 0);
}

static void test_fails_readably(void **state)
{
    (void)state;
    nfailed = 0;
    int line = __LINE__ + 1;
    CORM_ASSERT_NUM_QUERIES(db, 2) { lazy_loop(2); }
    assert_int_equal(nfailed, 1);
    assert_string_equal(failed_file, __FILE__);
    assert_int_equal(failed_line, line);
    char head[256];
    snprintf(head, sizeof head,
             "%s:%d: 3 queries executed, 2 expected.\nCaptured queries were:\n"
             "  1. SELECT T0.\"id\", T0.\"title\"",
             __FILE__, line);
    assert_true(strncmp(failed_msg, head, strlen(head)) == 0);
    /* every statement with its call site, the lazy loads with their values */
    assert_non_null(strstr(failed_msg, "     queryset at tests/unit/instr/test_assert.c:"));
    assert_non_null(
        strstr(failed_msg, "(lazy_loop); queryset built at tests/unit/instr/test_assert.c:"));
    assert_non_null(strstr(failed_msg, "  2. SELECT T0.\"id\", T0.\"name\""));
    assert_non_null(strstr(
        failed_msg, "     params: (1)\n     fk:Book.author at tests/unit/instr/test_assert.c:"));
    assert_null(strstr(failed_msg, "  4. "));

    nfailed = 0;
    line = __LINE__ + 1;
    CORM_ASSERT_MAX_QUERIES(db, 2) { lazy_loop(3); }
    assert_int_equal(nfailed, 1);
    assert_int_equal(failed_line, line);
    assert_non_null(strstr(failed_msg, ": 4 queries executed, at most 2 expected.\n"));
}

/* With the detector on, the message ends with the findings and fixes. */
static void test_message_has_fix(void **state)
{
    (void)state;
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
    nfailed = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1) { lazy_loop(3); }
    corm_nplusone_mode(db, CORM_NPLUSONE_OFF);
    assert_int_equal(nfailed, 1);
    assert_non_null(strstr(failed_msg,
                           "Findings:\n  - n_plus_one: Book.author loaded one object at "
                           "a time: 3 queries at tests/unit/instr/test_assert.c:"));
    assert_non_null(strstr(failed_msg, "    fix: corm_select_related(qs, \"author\") at "
                                       "tests/unit/instr/test_assert.c:"));
}

/* The default CORM_ASSERT_FAIL prints the message and aborts. */
static void test_default_aborts(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        corm_capture *c = corm_capture_begin(db, "child");
        lazy_loop(1);
        const char *msg = corm_capture_check(c, 1, false, "views.c", 7);
        corm_assert_fail(msg, "views.c", 7);
        _exit(0); /* not reached */
    }
    close(fds[1]);
    char out[8192];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], out + len, sizeof out - 1 - len)) > 0) len += (size_t)n;
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(
        strstr(out, "views.c:7: 2 queries executed, 1 expected.\nCaptured queries were:\n"));
    assert_non_null(strstr(out, "fk:Book.author at tests/unit/instr/test_assert.c:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passes),
        cmocka_unit_test(test_fails_readably),
        cmocka_unit_test(test_message_has_fix),
        cmocka_unit_test(test_default_aborts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
