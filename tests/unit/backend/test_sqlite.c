/*
** test_sqlite.c - the SQLite backend on its own: urls, opening, PRAGMAs,
** binding and reading every value type, error mapping, and the prepared
** statement cache (reuse, nesting, eviction).  Talks to the backend vtable
** directly; corm_open is used where the url path matters.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <corm.h>
#include "backend/backend.h"
#include "db/db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

static const corm__backend *be = &corm__sqlite_backend;

/* ------------------------------------------------------------ fixture */

typedef struct fx {
    char dir[64];
    char path[128];
    corm__conn *c;
    corm_error err;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/corm-be-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    if (be->open(f->path, &f->c, &f->err) != CORM_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    be->close(f->c);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static void exec_ok(fx *f, const char *sql)
{
    corm_rc rc = be->exec(f->c, sql, &f->err);
    if (rc != CORM_OK) fail_msg("exec %s: %s", sql, f->err.message);
}

/* The first column of the first row of sql, as text, into out. */
static const char *scalar(corm__conn *c, const char *sql, char *out, size_t size)
{
    corm__stmt *s;
    corm_error err;
    assert_int_equal(be->query(c, sql, NULL, 0, &s, &err), CORM_OK);
    bool row;
    assert_int_equal(be->step(s, &row, &err), CORM_OK);
    assert_true(row);
    size_t n;
    const char *t = be->column_text(s, 0, &n);
    snprintf(out, size, "%.*s", (int)n, t ? t : "");
    be->finish(s);
    return out;
}

/* ------------------------------------------------------------ urls */

static void test_urls(void **state)
{
    (void)state;
    corm_error err;
    const char *target = "x";
    assert_ptr_equal(corm__backend_for_url("sqlite:a/b.db", &target, &err), be);
    assert_string_equal(target, "a/b.db");
    assert_ptr_equal(corm__backend_for_url("sqlite://a/b.db", &target, &err), be);
    assert_string_equal(target, "a/b.db");
    assert_ptr_equal(corm__backend_for_url("sqlite:///tmp/b.db", &target, &err), be);
    assert_string_equal(target, "/tmp/b.db");
    assert_ptr_equal(corm__backend_for_url("sqlite::memory:", &target, &err), be);
    assert_string_equal(target, ":memory:");
    assert_ptr_equal(corm__backend_for_url("sqlite://:memory:", &target, &err), be);
    assert_string_equal(target, ":memory:");

    static const char *const bad[] = {
        NULL,           "",         "sqlite:",    "sqlite://",
        "mysql://h/db", "books.db", "./books.db", "postgresql:nothing"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        target = "x";
        memset(&err, 0, sizeof err);
        assert_null(corm__backend_for_url(bad[i], &target, &err));
        assert_null(target);
        assert_int_equal(err.rc, CORM_INVALID);
        assert_true(err.message[0] != '\0');
        assert_true(err.hint[0] != '\0');
    }
    assert_null(corm__backend_for_url("books.db", NULL, &err)); /* NULL target ok */
    assert_non_null(strstr(err.hint, "sqlite:books.db"));
    /* PostgreSQL urls: tests/unit/backend/test_pg.c */
    assert_ptr_equal(corm__backend_for_url("postgres://h/db", &target, &err), &corm__pg_backend);
    assert_null(corm__backend_for_url("postgresql:nothing", &target, &err));
    assert_non_null(strstr(err.message, "PostgreSQL"));
    assert_null(corm__backend_for_url("mysql://h/db", &target, &err));
    assert_non_null(strstr(err.hint, "sqlite::memory:"));
    assert_null(corm__backend_for_url(NULL, NULL, NULL)); /* no err: no crash */

    /* through corm_open */
    assert_null(corm_open("nope://x", NULL, &err));
    assert_int_equal(err.rc, CORM_INVALID);
    assert_null(corm_open(NULL, NULL, &err));
    assert_int_equal(err.rc, CORM_INVALID);
}

/* ------------------------------------------------------------ open */

static void test_pragmas_file(void **state)
{
    fx *f = *state;
    char buf[64];
    assert_string_equal(scalar(f->c, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_string_equal(scalar(f->c, "PRAGMA foreign_keys", buf, sizeof buf), "1");
    assert_string_equal(scalar(f->c, "PRAGMA synchronous", buf, sizeof buf), "1");
    assert_string_equal(scalar(f->c, "PRAGMA busy_timeout", buf, sizeof buf), "5000");
    assert_int_equal(access(f->path, F_OK), 0);
}

static void test_pragmas_memory(void **state)
{
    (void)state;
    corm_error err;
    corm_db *db = corm_open("sqlite::memory:", NULL, &err);
    assert_non_null(db);
    assert_string_equal(corm_db_vendor(db), "sqlite");
    char buf[64];
    assert_string_equal(scalar(db->conn, "PRAGMA journal_mode", buf, sizeof buf), "memory");
    assert_string_equal(scalar(db->conn, "PRAGMA foreign_keys", buf, sizeof buf), "1");
    /* no file named ":memory:" appears */
    assert_int_equal(access(":memory:", F_OK), -1);
    corm_close(db);
}

static void test_open_errors(void **state)
{
    fx *f = *state;
    corm_error err;
    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/x.db", f->dir);
    corm__conn *c = (corm__conn *)1;
    assert_int_equal(be->open(path, &c, &err), CORM_CONN);
    assert_null(c);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "unable to open"));
    assert_non_null(strstr(err.hint, "directory"));

    /* a file that is not a database */
    snprintf(path, sizeof path, "%s/notes.txt", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++) fputs("this is not a database file\n", fp);
    fclose(fp);
    assert_int_equal(be->open(path, &c, &err), CORM_CONN);
    assert_non_null(strstr(err.message, "not a database"));
    assert_non_null(strstr(err.hint, "not a SQLite database"));

    char url[300];
    snprintf(url, sizeof url, "sqlite:%s", path);
    assert_null(corm_open(url, NULL, &err));
    assert_int_equal(err.rc, CORM_CONN);

    assert_int_equal(be->open("", &c, &err), CORM_INVALID);
}

/* Open target (a path with url options), check PRAGMA sql reads want. */
static void expect_pragma(const char *target, const char *sql, const char *want)
{
    corm__conn *c = NULL;
    corm_error err;
    if (be->open(target, &c, &err) != CORM_OK) fail_msg("open %s: %s", target, err.message);
    char buf[64];
    assert_string_equal(scalar(c, sql, buf, sizeof buf), want);
    be->close(c);
}

static void test_journal_mode(void **state)
{
    fx *f = *state;
    corm_error err;
    char t[300];
    /* a file corm creates asked for a rollback journal: it keeps it */
    snprintf(t, sizeof t, "%s/old.db?journal_mode=delete", f->dir);
    corm__conn *c = NULL;
    assert_int_equal(be->open(t, &c, &err), CORM_OK);
    assert_int_equal(be->exec(c, "CREATE TABLE t (x integer); INSERT INTO t VALUES (1)", &err),
                     CORM_OK);
    be->close(c);
    /* an existing file: its mode is left alone, synchronous is SQLite's FULL */
    snprintf(t, sizeof t, "%s/old.db", f->dir);
    expect_pragma(t, "PRAGMA journal_mode", "delete");
    expect_pragma(t, "PRAGMA synchronous", "2");
    expect_pragma(t, "PRAGMA foreign_keys", "1");
    /* options a url may set */
    snprintf(t, sizeof t, "%s/old.db?synchronous=normal&busy_timeout=100", f->dir);
    expect_pragma(t, "PRAGMA synchronous", "1");
    expect_pragma(t, "PRAGMA busy_timeout", "100");
    snprintf(t, sizeof t, "%s/old.db?cache_size=-4000&temp_store=memory&foreign_keys=off", f->dir);
    expect_pragma(t, "PRAGMA cache_size", "-4000");
    expect_pragma(t, "PRAGMA foreign_keys", "0");
    snprintf(t, sizeof t, "%s/old.db?mmap_size=0&&", f->dir); /* empty parts are ignored */
    expect_pragma(t, "PRAGMA mmap_size", "0");
    /* read-only: reads work, writes fail, nothing is changed */
    snprintf(t, sizeof t, "%s/old.db?mode=ro", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_OK);
    char buf[64];
    assert_string_equal(scalar(c, "SELECT count(*) FROM t", buf, sizeof buf), "1");
    assert_int_not_equal(be->exec(c, "INSERT INTO t VALUES (2)", &err), CORM_OK);
    assert_non_null(strstr(err.message, "readonly"));
    be->close(c);
    /* asked: the file switches to WAL, and stays so */
    snprintf(t, sizeof t, "%s/old.db?journal_mode=wal", f->dir);
    expect_pragma(t, "PRAGMA journal_mode", "wal");
    snprintf(t, sizeof t, "%s/old.db", f->dir);
    expect_pragma(t, "PRAGMA journal_mode", "wal");
    expect_pragma(t, "PRAGMA synchronous", "1");

    /* mode=rw and mode=ro never create the file */
    snprintf(t, sizeof t, "%s/missing.db?mode=rw", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_CONN);
    assert_null(c);
    snprintf(t, sizeof t, "%s/missing.db", f->dir);
    assert_int_equal(access(t, F_OK), -1);

    /* unknown options and bad values are refused, saying what is known */
    snprintf(t, sizeof t, "%s/old.db?journal=wal", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_INVALID);
    assert_non_null(strstr(err.message, "unknown option 'journal'"));
    assert_non_null(strstr(err.hint, "journal_mode"));
    snprintf(t, sizeof t, "%s/old.db?synchronous=fast", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_INVALID);
    assert_non_null(strstr(err.message, "synchronous=fast"));
    assert_non_null(strstr(err.hint, "off|normal|full|extra"));
    snprintf(t, sizeof t, "%s/old.db?busy_timeout=soon", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_INVALID);
    assert_non_null(strstr(err.hint, "an integer"));
    snprintf(t, sizeof t, "%s/old.db?mode", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_INVALID);

    /* through corm_open: the url's options reach the backend */
    char url[320];
    snprintf(url, sizeof url, "sqlite:%s/old.db?journal_mode=truncate", f->dir);
    corm_db *db = corm_open(url, NULL, &err);
    assert_non_null(db);
    assert_string_equal(scalar(db->conn, "PRAGMA journal_mode", buf, sizeof buf), "truncate");
    corm_close(db);
    snprintf(url, sizeof url, "sqlite:%s/old.db?nope=1", f->dir);
    assert_null(corm_open(url, NULL, &err));
    assert_int_equal(err.rc, CORM_INVALID);
}

/* A child process holds a read lock on a new, empty file; it has the lock
** when this returns.  It lets go after hold_ms, or with hold_ms < 0 when
** *release is closed.  Returns its pid. */
static pid_t hold_read_lock(const char *path, int hold_ms, int *release)
{
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        sqlite3 *db = NULL;
        int ok = sqlite3_open(path, &db) == SQLITE_OK &&
                 sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) ==
                     SQLITE_OK;
        char c = ok ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1) _exit(2);
        if (hold_ms >= 0) sqlite3_sleep(hold_ms);
        else
            while (read(go[0], &c, 1) > 0) continue;
        sqlite3_close(db);
        _exit(ok ? 0 : 1);
    }
    close(ready[1]);
    close(go[0]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(c, 'y');
    *release = go[1];
    return pid;
}

static void reap(pid_t pid)
{
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Switching a new file to WAL takes its exclusive lock without SQLite's
** busy handler: while another process reads the file, open waits (up to
** the busy timeout) instead of failing at once with "database is locked". */
static void test_journal_mode_waits(void **state)
{
    fx *f = *state;
    corm_error err;
    char t[300];
    int release;
    snprintf(t, sizeof t, "%s/new.db", f->dir);
    pid_t pid = hold_read_lock(t, 100, &release);
    corm__conn *c = NULL;
    corm_rc rc = be->open(t, &c, &err);
    if (rc != CORM_OK) fail_msg("open while another process reads: %s", err.message);
    char buf[64];
    assert_string_equal(scalar(c, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    be->close(c);
    close(release);
    reap(pid);

    /* held past the url's busy timeout: refused, saying why */
    snprintf(t, sizeof t, "%s/new2.db", f->dir);
    pid = hold_read_lock(t, -1, &release);
    snprintf(t, sizeof t, "%s/new2.db?busy_timeout=20", f->dir);
    assert_int_equal(be->open(t, &c, &err), CORM_CONN);
    assert_null(c);
    assert_non_null(strstr(err.message, "locked"));
    assert_non_null(strstr(err.hint, "another process holds the database locked"));
    close(release);
    reap(pid);
}

/* ------------------------------------------------------------ values */

static void test_bind_every_type(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE v (k integer PRIMARY KEY, x)");
    static const char blob[] = {'a', '\0', 'b', '\0', '\xff'};
    const char part[] = "hello world";
    corm_value vals[] = {
        corm_null(),
        corm_int(INT64_MIN),
        corm_int(INT64_MAX),
        corm_float(-2.5e300),
        corm_bool(true),
        corm_bool(false),
        corm_text("h\xc3\xa9llo"),
        {CORM_V_TEXT, {.s = {part, 5}}}, /* explicit length: "hello" */
        corm_text(""),
        corm_blobv(blob, sizeof blob), /* embedded NULs */
        corm_blobv(NULL, 0),           /* empty blob, not NULL */
    };
    int n = (int)(sizeof vals / sizeof *vals);
    for (int i = 0; i < n; i++) {
        corm_value p[2] = {corm_int(i), vals[i]};
        corm__stmt *s;
        assert_int_equal(be->query(f->c, "INSERT INTO v (k, x) VALUES (?, ?)", p, 2, &s, &f->err),
                         CORM_OK);
        bool row = true;
        assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
        assert_false(row);
        be->finish(s);
        assert_int_equal(be->changes(f->c), 1);
        assert_int_equal(be->last_insert_id(f->c), i);
    }
    corm__stmt *s;
    assert_int_equal(
        be->query(f->c, "SELECT k, x, typeof(x) FROM v ORDER BY k", NULL, 0, &s, &f->err), CORM_OK);
    assert_int_equal(be->column_count(s), 3);
    static const char *const types[] = {"null", "integer", "integer", "real", "integer", "integer",
                                        "text", "text",    "text",    "blob", "blob"};
    bool row;
    size_t len;
    for (int i = 0; i < n; i++) {
        assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
        assert_true(row);
        assert_int_equal(be->column_int(s, 0), i);
        assert_string_equal(be->column_text(s, 2, NULL), types[i]);
        switch (i) {
        case 0: assert_true(be->column_null(s, 1)); break;
        case 1: assert_true(be->column_int(s, 1) == INT64_MIN); break;
        case 2: assert_true(be->column_int(s, 1) == INT64_MAX); break;
        case 3: assert_true(be->column_double(s, 1) == -2.5e300); break;
        case 4: assert_int_equal(be->column_int(s, 1), 1); break;
        case 5: assert_int_equal(be->column_int(s, 1), 0); break;
        case 6:
            assert_string_equal(be->column_text(s, 1, &len), "h\xc3\xa9llo");
            assert_int_equal(len, 6);
            break;
        case 7:
            assert_string_equal(be->column_text(s, 1, &len), "hello");
            assert_int_equal(len, 5);
            break;
        case 8:
            assert_false(be->column_null(s, 1));
            assert_string_equal(be->column_text(s, 1, &len), "");
            assert_int_equal(len, 0);
            break;
        case 9: {
            const void *p = be->column_blob(s, 1, &len);
            assert_int_equal(len, sizeof blob);
            assert_memory_equal(p, blob, sizeof blob);
            break;
        }
        case 10:
            assert_false(be->column_null(s, 1));
            be->column_blob(s, 1, &len);
            assert_int_equal(len, 0);
            break;
        }
        if (i != 0) assert_false(be->column_null(s, 1));
    }
    assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
    assert_false(row);
    be->finish(s);
}

static void test_bind_misuse(void **state)
{
    fx *f = *state;
    const char *sql = "SELECT ?";
    int64_t ids[] = {1, 2};
    corm_value list = corm_ints(ids, 2);
    corm__stmt *s = (corm__stmt *)1;
    assert_int_equal(be->query(f->c, sql, &list, 1, &s, &f->err), CORM_MISUSE);
    assert_null(s);
    assert_string_equal(f->err.sql, sql);
    assert_non_null(strstr(f->err.message, "parameter 1"));
    corm_value vs[] = {corm_int(1), corm_int(2)};
    corm_value l2 = corm_vlist(vs, 2);
    assert_int_equal(be->query(f->c, sql, &l2, 1, &s, &f->err), CORM_MISUSE);

    /* placeholder count must match */
    corm_value two[] = {corm_int(1), corm_int(2)};
    assert_int_equal(be->query(f->c, sql, two, 2, &s, &f->err), CORM_MISUSE);
    assert_non_null(strstr(f->err.message, "1 placeholder"));
    assert_int_equal(be->query(f->c, sql, NULL, 0, &s, &f->err), CORM_MISUSE);

    /* the failed calls gave the cached statement back: it is reused */
    corm__stmt *a;
    assert_int_equal(be->query(f->c, sql, two, 1, &a, &f->err), CORM_OK);
    be->finish(a);
    corm__stmt *b;
    assert_int_equal(be->query(f->c, sql, two, 1, &b, &f->err), CORM_OK);
    assert_ptr_equal(a, b);
    be->finish(b);
    assert_int_equal(corm__sqlite_cache_count(f->c), 1);

    /* one statement per query; comments and semicolons after it are fine */
    assert_int_equal(be->query(f->c, "SELECT 1; SELECT 2", NULL, 0, &s, &f->err), CORM_MISUSE);
    assert_non_null(strstr(f->err.hint, "corm_exec"));
    assert_int_equal(be->query(f->c, "SELECT 1; -- done\n ;", NULL, 0, &s, &f->err), CORM_OK);
    be->finish(s);
    assert_int_equal(be->query(f->c, "  -- nothing", NULL, 0, &s, &f->err), CORM_MISUSE);
}

static void test_hostile_strings(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE x (id integer PRIMARY KEY, name text)");
    static const char *const evil[] = {
        "'; DROP TABLE x; --",
        "Robert'); DROP TABLE x;--",
        "\" OR 1=1 --",
        "?; SELECT ?",
        "%_\\",
        "\xf0\x9f\x93\x9a \xe2\x80\x94 unicode",
    };
    size_t n = sizeof evil / sizeof *evil;
    for (size_t i = 0; i < n; i++) {
        corm_value p = corm_text(evil[i]);
        corm__stmt *s;
        assert_int_equal(be->query(f->c, "INSERT INTO x (name) VALUES (?)", &p, 1, &s, &f->err),
                         CORM_OK);
        bool row;
        assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
        be->finish(s);
    }
    for (size_t i = 0; i < n; i++) {
        corm_value p = corm_text(evil[i]);
        corm__stmt *s;
        assert_int_equal(
            be->query(f->c, "SELECT id, name FROM x WHERE name = ?", &p, 1, &s, &f->err), CORM_OK);
        bool row;
        assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
        assert_true(row);
        assert_int_equal(be->column_int(s, 0), (int64_t)i + 1);
        assert_string_equal(be->column_text(s, 1, NULL), evil[i]);
        assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
        assert_false(row);
        be->finish(s);
    }
    char buf[32];
    assert_string_equal(scalar(f->c, "SELECT count(*) FROM x", buf, sizeof buf), "6");
}

/* ------------------------------------------------------------ errors */

static void test_constraint_errors(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE author (id integer PRIMARY KEY);"
               "CREATE TABLE book (id integer PRIMARY KEY, isbn text NOT NULL UNIQUE,"
               " author_id integer REFERENCES author (id));"
               "INSERT INTO author (id) VALUES (1)");
    const char *ins = "INSERT INTO book (isbn, author_id) VALUES (?, ?)";
    corm_value p[2] = {corm_text("978-0"), corm_int(1)};
    corm__stmt *s;
    bool row;
    assert_int_equal(be->query(f->c, ins, p, 2, &s, &f->err), CORM_OK);
    assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
    be->finish(s);

    assert_int_equal(be->query(f->c, ins, p, 2, &s, &f->err), CORM_OK);
    assert_int_equal(be->step(s, &row, &f->err), CORM_CONSTRAINT);
    assert_int_equal(f->err.rc, CORM_CONSTRAINT);
    assert_string_equal(f->err.message, "UNIQUE constraint failed: book.isbn");
    assert_non_null(strstr(f->err.hint, "already exists"));
    assert_string_equal(f->err.sql, ins);
    be->finish(s);

    p[0] = corm_null();
    assert_int_equal(be->query(f->c, ins, p, 2, &s, &f->err), CORM_OK);
    assert_int_equal(be->step(s, &row, &f->err), CORM_CONSTRAINT);
    assert_string_equal(f->err.message, "NOT NULL constraint failed: book.isbn");
    assert_non_null(strstr(f->err.hint, "null"));
    be->finish(s);

    p[0] = corm_text("978-1");
    p[1] = corm_int(42);
    assert_int_equal(be->query(f->c, ins, p, 2, &s, &f->err), CORM_OK);
    assert_int_equal(be->step(s, &row, &f->err), CORM_CONSTRAINT);
    assert_string_equal(f->err.message, "FOREIGN KEY constraint failed");
    assert_non_null(strstr(f->err.hint, "referenced row"));
    be->finish(s);

    /* the statement is still good after its errors */
    p[1] = corm_int(1);
    assert_int_equal(be->query(f->c, ins, p, 2, &s, &f->err), CORM_OK);
    assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
    be->finish(s);
    assert_int_equal(be->last_insert_id(f->c), 2);
}

static void test_syntax_errors(void **state)
{
    fx *f = *state;
    corm__stmt *s = (corm__stmt *)1;
    memset(&f->err, 0, sizeof f->err);
    assert_int_equal(be->query(f->c, "SELEC 1 FROM nowhere", NULL, 0, &s, &f->err), CORM_DB);
    assert_null(s);
    assert_int_equal(f->err.rc, CORM_DB);
    assert_non_null(strstr(f->err.message, "syntax error"));
    assert_string_equal(f->err.sql, "SELEC 1 FROM nowhere");

    assert_int_equal(be->query(f->c, "SELECT * FROM nowhere", NULL, 0, &s, &f->err), CORM_DB);
    assert_string_equal(f->err.message, "no such table: nowhere");
    assert_string_equal(f->err.sql, "SELECT * FROM nowhere");

    /* a double-quoted unknown name is an error, not a string literal */
    exec_ok(f, "CREATE TABLE t (a integer)");
    assert_int_equal(be->query(f->c, "SELECT \"b\" FROM t", NULL, 0, &s, &f->err), CORM_DB);
    assert_non_null(strstr(f->err.message, "no such column"));

    assert_int_equal(be->exec(f->c, "CREATE TABLE t (a); DROP nothing", &f->err), CORM_DB);
    assert_non_null(strstr(f->err.message, "already exists"));
    assert_string_equal(f->err.sql, "CREATE TABLE t (a); DROP nothing");

    /* through the db: the error carries the SQL */
    corm_error err;
    corm_db *db = corm_open("sqlite::memory:", NULL, &err);
    assert_non_null(db);
    assert_int_equal(corm_exec(db, "CREATE TABL y (a)"), CORM_DB);
    assert_string_equal(corm_db_error(db)->sql, "CREATE TABL y (a)");
    assert_non_null(strstr(corm_db_error(db)->message, "syntax error"));
    corm_close(db);
}

static void test_locked_is_busy(void **state)
{
    fx *f = *state;
    /* dropping a table that a pending read still uses: SQLITE_LOCKED */
    exec_ok(f, "CREATE TABLE t (a integer); INSERT INTO t VALUES (1), (2)");
    corm__stmt *r, *d;
    bool row;
    assert_int_equal(be->query(f->c, "SELECT a FROM t", NULL, 0, &r, &f->err), CORM_OK);
    assert_int_equal(be->step(r, &row, &f->err), CORM_OK);
    assert_int_equal(be->query(f->c, "DROP TABLE t", NULL, 0, &d, &f->err), CORM_OK);
    assert_int_equal(be->step(d, &row, &f->err), CORM_BUSY);
    assert_non_null(strstr(f->err.message, "locked"));
    assert_string_equal(f->err.sql, "DROP TABLE t");
    assert_true(f->err.hint[0] != '\0');
    be->finish(d);
    be->finish(r);
}

static void test_transactions(void **state)
{
    fx *f = *state;
    assert_false(be->in_transaction(f->c));
    exec_ok(f, "BEGIN");
    assert_true(be->in_transaction(f->c));
    exec_ok(f, "CREATE TABLE t (a integer); INSERT INTO t VALUES (1), (2), (3)");
    assert_int_equal(be->changes(f->c), 3);
    exec_ok(f, "ROLLBACK");
    assert_false(be->in_transaction(f->c));
    corm__stmt *s;
    assert_int_equal(be->query(f->c, "SELECT * FROM t", NULL, 0, &s, &f->err), CORM_DB);
}

/* ------------------------------------------------------------ cache */

static void test_cache_reuse(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE n (v integer); INSERT INTO n VALUES (1), (2), (3)");
    const char *sql = "SELECT v FROM n WHERE v >= ? ORDER BY v";
    corm_value p = corm_int(1);
    corm__stmt *a, *b, *c;
    bool row;
    assert_int_equal(be->query(f->c, sql, &p, 1, &a, &f->err), CORM_OK);
    be->finish(a);
    assert_int_equal(be->query(f->c, sql, &p, 1, &b, &f->err), CORM_OK);
    assert_ptr_equal(a, b); /* same prepared statement back */
    assert_int_equal(corm__sqlite_cache_count(f->c), 1);

    /* nested: b is busy, so the same SQL gets another statement */
    assert_int_equal(be->step(b, &row, &f->err), CORM_OK);
    assert_int_equal(be->column_int(b, 0), 1);
    corm_value p2 = corm_int(2);
    assert_int_equal(be->query(f->c, sql, &p2, 1, &c, &f->err), CORM_OK);
    assert_ptr_not_equal(c, b);
    int64_t inner = 0;
    while (be->step(c, &row, &f->err) == CORM_OK && row) inner += be->column_int(c, 0);
    assert_int_equal(inner, 2 + 3);
    be->finish(c);
    /* the outer one kept its place and its binding */
    assert_int_equal(be->step(b, &row, &f->err), CORM_OK);
    assert_true(row);
    assert_int_equal(be->column_int(b, 0), 2);
    assert_int_equal(be->step(b, &row, &f->err), CORM_OK);
    assert_int_equal(be->column_int(b, 0), 3);
    assert_int_equal(be->step(b, &row, &f->err), CORM_OK);
    assert_false(row);
    be->finish(b);
    assert_int_equal(corm__sqlite_cache_count(f->c), 1);

    /* three deep, then the cached one comes back */
    corm__stmt *d[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(be->query(f->c, sql, &p, 1, &d[i], &f->err), CORM_OK);
        for (int j = 0; j < i; j++) assert_ptr_not_equal(d[i], d[j]);
    }
    assert_ptr_equal(d[0], a);
    for (int i = 2; i >= 0; i--) be->finish(d[i]);
    assert_int_equal(be->query(f->c, sql, &p, 1, &b, &f->err), CORM_OK);
    assert_ptr_equal(b, a);
    be->finish(b);
}

static void test_cache_eviction(void **state)
{
    fx *f = *state;
    exec_ok(f, "CREATE TABLE n (v integer); INSERT INTO n VALUES (10), (20), (30)");
    /* hold one statement mid-iteration through the churn */
    corm__stmt *held;
    bool row;
    assert_int_equal(be->query(f->c, "SELECT v FROM n ORDER BY v", NULL, 0, &held, &f->err),
                     CORM_OK);
    assert_int_equal(be->step(held, &row, &f->err), CORM_OK);
    assert_int_equal(be->column_int(held, 0), 10);

    char sql[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 600; i++) {
            snprintf(sql, sizeof sql, "SELECT v + %d FROM n WHERE v = ?", i);
            corm_value p = corm_int(20);
            corm__stmt *s;
            assert_int_equal(be->query(f->c, sql, &p, 1, &s, &f->err), CORM_OK);
            assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
            assert_true(row);
            assert_int_equal(be->column_int(s, 0), 20 + i);
            be->finish(s);
            assert_true(corm__sqlite_cache_count(f->c) <= 256);
        }
    }
    assert_int_equal(corm__sqlite_cache_count(f->c), 256);
    /* the busy statement was never evicted */
    assert_int_equal(be->step(held, &row, &f->err), CORM_OK);
    assert_true(row);
    assert_int_equal(be->column_int(held, 0), 20);
    assert_int_equal(be->step(held, &row, &f->err), CORM_OK);
    assert_int_equal(be->column_int(held, 0), 30);
    be->finish(held);

    /* the most recent statements are cached: the same pointer comes back */
    corm__stmt *a, *b;
    corm_value p = corm_int(10);
    assert_int_equal(be->query(f->c, "SELECT v + 599 FROM n WHERE v = ?", &p, 1, &a, &f->err),
                     CORM_OK);
    be->finish(a);
    assert_int_equal(be->query(f->c, "SELECT v + 599 FROM n WHERE v = ?", &p, 1, &b, &f->err),
                     CORM_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(be->step(b, &row, &f->err), CORM_OK);
    assert_int_equal(be->column_int(b, 0), 609);
    be->finish(b);
}

static void test_cache_all_busy(void **state)
{
    fx *f = *state;
    /* more busy statements than the cache holds: the extra ones are
    ** uncached and everything still works and is freed */
    enum { N = 300 };
    corm__stmt *s[N];
    char sql[64];
    bool row;
    for (int i = 0; i < N; i++) {
        snprintf(sql, sizeof sql, "SELECT %d", i);
        assert_int_equal(be->query(f->c, sql, NULL, 0, &s[i], &f->err), CORM_OK);
    }
    assert_int_equal(corm__sqlite_cache_count(f->c), 256);
    for (int i = 0; i < N; i++) {
        assert_int_equal(be->step(s[i], &row, &f->err), CORM_OK);
        assert_int_equal(be->column_int(s[i], 0), i);
        be->finish(s[i]);
    }
    /* unfinished statements at close are finalized (LSan checks) */
    assert_int_equal(be->query(f->c, "SELECT 0", NULL, 0, &s[0], &f->err), CORM_OK);
    assert_int_equal(be->query(f->c, "SELECT 0", NULL, 0, &s[1], &f->err), CORM_OK);
    assert_int_equal(be->step(s[1], &row, &f->err), CORM_OK);
}

static void test_params_released(void **state)
{
    fx *f = *state;
    /* after finish, the cached statement holds no pointer to our text */
    exec_ok(f, "CREATE TABLE t (a text)");
    char *text = strdup("temporary");
    corm_value p = corm_text(text);
    corm__stmt *s;
    bool row;
    assert_int_equal(be->query(f->c, "INSERT INTO t VALUES (?)", &p, 1, &s, &f->err), CORM_OK);
    assert_int_equal(be->step(s, &row, &f->err), CORM_OK);
    be->finish(s);
    free(text);
    /* the same statement without binding: the parameter is NULL now */
    corm__stmt *again;
    corm_value none = corm_null();
    assert_int_equal(be->query(f->c, "INSERT INTO t VALUES (?)", &none, 1, &again, &f->err),
                     CORM_OK);
    assert_ptr_equal(again, s);
    assert_int_equal(be->step(again, &row, &f->err), CORM_OK);
    be->finish(again);
    char buf[64];
    assert_string_equal(
        scalar(f->c, "SELECT group_concat(coalesce(a, 'NULL')) FROM t", buf, sizeof buf),
        "temporary,NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test_setup_teardown(test_pragmas_file, setup, teardown),
        cmocka_unit_test(test_pragmas_memory),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_mode_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraint_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_all_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_released, setup, teardown),
    };
    return cmocka_run_group_tests_name("backend/sqlite", tests, NULL, NULL);
}
