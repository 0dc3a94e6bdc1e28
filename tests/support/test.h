/*
** test.h - what every corm test includes: cmocka, the generated bookstore,
** a throwaway database with a small fixed fixture, and query-count
** assertions that print the captured SQL with call sites on failure (as
** Django's assertNumQueries does).
*/
#ifndef CORM_TEST_H
#define CORM_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

/* The query-count assertions are the library's (corm.h); they report
** through cmocka here. */
#define CORM_ASSERT_FAIL(msg, file, line) (print_error("%s\n", (msg)), _fail((file), (line)))
#include <corm.h>
#include "bookstore.h"

/* A migrated database, filled with the fixture below, whose failure hook
** (strict mode) is cmocka's, through CORM_ASSERT_FAIL.  CORM_TEST_DB picks
** the backend: unset or "sqlite", a file in a fresh temporary directory; a
** postgresql:// url (tools/pg-test-server.sh), a fresh schema on that
** server, used through search_path, dropped by test_db_close. */
corm_db *test_db_open(void);
/* test_db_open with the N+1 detector in log mode and findings not
** printed: for suites that read events and findings through captures. */
corm_db *test_db_open_logging(void);
/* A finding hook that does nothing (corm_instr_on_finding). */
void test_ignore_finding(void *ud, const corm_finding *f);
void test_db_close(corm_db *db);
/* The url of a new, empty database on the backend under test (nothing
** migrated); test_db_close(NULL) removes it. */
const char *test_db_fresh_url(void);
/* Whether the suite runs on PostgreSQL (CORM_TEST_DB is a postgresql url). */
bool test_db_is_pg(void);
/* The url of the last test_db_open, to open a second connection to it. */
const char *test_db_url(void);
/* Raw SQL is the database's own (placeholders ? on SQLite, $1 on
** PostgreSQL; functions differ): the text for the backend under test. */
#define TEST_SQL(sqlite_sql, pg_sql) (test_db_is_pg() ? (pg_sql) : (sqlite_sql))

/*
** The fixture (ids in insertion order):
**  Country   1 France FR, 2 Japan JP, 3 Peru PE
**  Author    1 Victor Hugo (France), 2 Haruki Murakami (Japan),
**            3 Anonymous (no country), 4 Mario Vargas Llosa (Peru, no books)
**  Publisher 1 Gallimard (France)
**  Genre     1 Fiction, 2 History, 3 Fantasy
**  Book      1 Les Miserables      a1 p1   1862-04-03 1400p  Fiction, History
**            2 Notre-Dame de Paris a1 -    1831-01-14  940p  Fiction
**            3 Norwegian Wood      a2 p1   1987-09-04  296p  Fiction
**            4 Kafka on the Shore  a2 -    2002-09-12  505p  Fiction, Fantasy
**            5 1Q84                a2 p1   2009-05-29  928p  Fantasy
**            6 Beowulf             a3 -    1000-01-01  200p  (none)
*/
void test_fixture(corm_db *db);

/* Queries captured between begin and end, with their SQL and call sites. */
typedef struct test_capture {
    corm_db *db;
    int handle;
    uint64_t count;
    char log[8192];
    size_t len;
} test_capture;

void test_capture_begin(test_capture *c, corm_db *db);
void test_capture_end(test_capture *c);
void test_assert_queries(test_capture *c, uint64_t want, bool at_most, const char *file, int line);

/* CORM_ASSERT_NUM_QUERIES(db, n) { ... } and CORM_ASSERT_MAX_QUERIES come
** from corm.h (the library's, usable from any framework). */

/* tests/oom: run program with allocation 0, 1, 2, ... failing, once
** (transient) and then from that point on (persistent), until a run makes
** fewer allocations than the failing index.  Each failing run must end in
** CORM_NOMEM or, when corm absorbed the failure, in a correct success;
** leaks are LeakSanitizer's to find. */
void test_oom_run(corm_rc (*program)(void));
/* The same with another source of failures: inject(n, persistent) makes the
** n-th allocation fail (n < 0: none), done() says whether it did. */
typedef struct {
    const char *what;
    void (*inject)(long n, bool persistent);
    bool (*done)(void);
    long stride; /* fail every stride-th allocation only (CORM_TEST_FAULT_STRIDE=1: all) */
} test_fault;
void test_fault_run(corm_rc (*program)(void), const test_fault *f);

/* A number cell as text, the same on both backends: integers as such,
** floats, numeric text and decimals with %g, bools true/false, "NULL". */
const char *test_num_text(const corm_value *v, char *buf, size_t n);
/* "id:annotation,..." of qs's objects (evaluated here, failing the test
** on an error), each annotation as test_num_text prints it.  Valid until
** the next call. */
const char *test_annots(corm_qs *qs, const char *name);
/* The ids of an evaluated queryset's objects, joined by commas: "1,2,5". */
const char *test_ids(corm_qs *qs);
/* The first cell of sql (the backend's own SQL) as text, "NULL" for NULL;
** fails the test on an error.  Valid until the next call. */
const char *test_scalar(corm_db *db, const char *sql);
/* Fail the test with db's error, formatted, unless call is CORM_OK. */
#define TEST_OK_DB(db, call)                                                                \
    do {                                                                                    \
        corm_rc rc_ = (call);                                                               \
        if (rc_ != CORM_OK) {                                                               \
            char b_[2048];                                                                  \
            fail_msg("%s: %s", #call, corm_error_format(corm_db_error(db), b_, sizeof b_)); \
        }                                                                                   \
    } while (0)

/* Evaluate a queryset filtered with one lookup and return test_ids. */
#define assert_ids(qs, want) assert_string_equal(test_ids(qs), (want))

/* Every row of sql (the backend's own SQL): cells joined by '|', rows by
** '\n', NULL as "NULL", numbers as test_num_text prints them; fails the
** test on an error.  Valid until the next call. */
const char *test_sql_rows(corm_db *db, const char *sql);

#endif
