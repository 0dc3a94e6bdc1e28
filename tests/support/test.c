/*
** test.c - fixture, temporary databases and query capture for the suite.
*/
#include "test.h"
#include "core/core_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dirs[64][256];
static int ndirs;
/* PostgreSQL: one schema per open database, dropped by test_db_close */
static char schemas[64][64];
static int nschemas;
static char last_url[1024];

bool test_db_is_pg(void)
{
    const char *env = getenv("CORM_TEST_DB");
    return env && strncmp(env, "postgres", 8) == 0;
}

const char *test_db_url(void) { return last_url; }

/* Run sql on the server named by CORM_TEST_DB itself (not a test schema). */
static void pg_maintenance(const char *sql)
{
    corm_error err;
    corm_db *m = corm_open(getenv("CORM_TEST_DB"), NULL, &err);
    if (!m) {
        char buf[2048];
        fail_msg("CORM_TEST_DB: %s", corm_error_format(&err, buf, sizeof buf));
    }
    if (corm_exec(m, sql) != CORM_OK) {
        char buf[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_db_error(m), buf, sizeof buf));
    }
    corm_close(m);
}

/* A fresh, empty schema on the PostgreSQL server of CORM_TEST_DB and the
** url of a connection whose search_path is that schema: new tables and
** sequences, so ids start at 1 as in a new SQLite file. */
static void pg_fresh_url(char *url, size_t size)
{
    static unsigned counter;
    const char *base = getenv("CORM_TEST_DB");
    char name[64];
    snprintf(name, sizeof name, "corm_t%ld_%u", (long)getpid(), ++counter);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", name);
    pg_maintenance(sql);
    if (nschemas < 64) snprintf(schemas[nschemas++], sizeof schemas[0], "%s", name);
    if (strstr(base, "://"))
        snprintf(url, size, "%s%coptions=-csearch_path%%3D%s", base, strchr(base, '?') ? '&' : '?',
                 name);
    else snprintf(url, size, "%s options='-csearch_path=%s'", base, name);
}

const char *test_db_fresh_url(void)
{
    char url[1024];
    if (test_db_is_pg()) {
        pg_fresh_url(url, sizeof url);
    } else {
        char dir[] = "/tmp/corm-test-XXXXXX";
        if (!mkdtemp(dir)) fail_msg("mkdtemp failed");
        snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
        if (ndirs < 64) snprintf(dirs[ndirs++], sizeof dirs[0], "%s", dir);
    }
    snprintf(last_url, sizeof last_url, "%s", url);
    return last_url;
}

corm_db *test_db_open(void)
{
    char url[1024];
    if (test_db_is_pg()) {
        pg_fresh_url(url, sizeof url);
    } else {
        char dir[] = "/tmp/corm-test-XXXXXX";
        if (!mkdtemp(dir)) fail_msg("mkdtemp failed");
        snprintf(url, sizeof url, "sqlite:%s/test.db", dir);
        if (ndirs < 64) snprintf(dirs[ndirs++], sizeof dirs[0], "%s", dir);
    }
    snprintf(last_url, sizeof last_url, "%s", url);
    corm_error err;
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) {
        char buf[2048];
        fail_msg("corm_open: %s", corm_error_format(&err, buf, sizeof buf));
    }
    if (corm_migrate(db) != CORM_OK) {
        char buf[2048];
        fail_msg("corm_migrate: %s", corm_error_format(corm_db_error(db), buf, sizeof buf));
    }
    /* strict mode's refusals fail the test through cmocka, not abort() */
    corm_instr_on_fail(corm_db_instr(db), corm_assert_fail_hook, NULL);
    test_fixture(db);
    return db;
}

void test_ignore_finding(void *ud, const corm_finding *f)
{
    (void)ud;
    (void)f;
}

corm_db *test_db_open_logging(void)
{
    corm_db *db = test_db_open();
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
    corm_instr_on_finding(corm_db_instr(db), test_ignore_finding, NULL);
    return db;
}

void test_db_close(corm_db *db)
{
    corm_close(db);
    for (int i = 0; i < nschemas; i++) {
        char sql[128];
        int n = snprintf(sql, sizeof sql, "DROP SCHEMA \"%s\" CASCADE", schemas[i]);
        if (n > 0 && (size_t)n < sizeof sql) pg_maintenance(sql);
    }
    nschemas = 0;
    for (int i = 0; i < ndirs; i++) {
        char cmd[400];
        int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dirs[i]);
        if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dirs[i]);
    }
    ndirs = 0;
}

#define SAVE(db, obj)                                                                       \
    do {                                                                                    \
        if (corm_save((db), &(obj)) != CORM_OK) {                                           \
            char buf[2048];                                                                 \
            fail_msg("fixture: %s", corm_error_format(corm_db_error(db), buf, sizeof buf)); \
        }                                                                                   \
    } while (0)

void test_fixture(corm_db *db)
{
    static const char *const countries[][2] = {{"France", "FR"}, {"Japan", "JP"}, {"Peru", "PE"}};
    for (int i = 0; i < 3; i++) {
        Country c = CORM_NEW(Country);
        c.name = (char *)countries[i][0];
        c.code = (char *)countries[i][1];
        SAVE(db, c);
    }
    static const struct {
        const char *name;
        int64_t country;
    } authors[] = {
        {"Victor Hugo", 1}, {"Haruki Murakami", 2}, {"Anonymous", 0}, {"Mario Vargas Llosa", 3}};
    for (int i = 0; i < 4; i++) {
        Author a = CORM_NEW(Author);
        a.name = (char *)authors[i].name;
        a.email = "author@example.com";
        a.country_id = authors[i].country;
        if (!authors[i].country) corm_set_null(&a, "country", true);
        corm_set_null(&a, "bio", true);
        SAVE(db, a);
    }
    Publisher p = CORM_NEW(Publisher);
    p.name = "Gallimard";
    p.country_id = 1;
    SAVE(db, p);
    static const char *const genres[] = {"Fiction", "History", "Fantasy"};
    Genre g[3];
    for (int i = 0; i < 3; i++) {
        g[i] = CORM_NEW(Genre);
        g[i].name = (char *)genres[i];
        SAVE(db, g[i]);
    }
    static const struct {
        const char *title;
        int64_t author, publisher;
        const char *date;
        int pages;
        int genres[2];
    } books[] = {
        {"Les Miserables", 1, 1, "1862-04-03", 1400, {1, 2}},
        {"Notre-Dame de Paris", 1, 0, "1831-01-14", 940, {1, 0}},
        {"Norwegian Wood", 2, 1, "1987-09-04", 296, {1, 0}},
        {"Kafka on the Shore", 2, 0, "2002-09-12", 505, {1, 3}},
        {"1Q84", 2, 1, "2009-05-29", 928, {3, 0}},
        {"Beowulf", 3, 0, "1000-01-01", 200, {0, 0}},
    };
    for (int i = 0; i < 6; i++) {
        Book b = CORM_NEW(Book);
        char isbn[32];
        snprintf(isbn, sizeof isbn, "97800000000%02d", i + 1);
        b.title = (char *)books[i].title;
        b.author_id = books[i].author;
        b.publisher_id = books[i].publisher;
        if (!books[i].publisher) corm_set_null(&b, "publisher", true);
        b.published_date = (char *)books[i].date;
        b.isbn = isbn;
        b.pages = books[i].pages;
        b.price = corm_dec_add(corm_dec("10.5"), corm_dec_units(i, 0));
        b.description = "fixture";
        SAVE(db, b);
        for (int k = 0; k < 2; k++)
            if (books[i].genres[k] &&
                corm_m2m_add(db, &b, BOOK_REL_GENRES, &g[books[i].genres[k] - 1]) != CORM_OK)
                fail_msg("fixture: m2m add failed");
    }
}

static void on_query(void *ud, const corm_event *ev)
{
    test_capture *c = ud;
    if (ev->internal) return; /* the snapshot BEGIN/COMMIT, as corm_query_count */
    c->count++;
    int n = snprintf(c->log + c->len, sizeof c->log - c->len, "  %llu. %s\n     at %s:%d (%s)\n",
                     (unsigned long long)c->count, ev->sql, ev->site.file ? ev->site.file : "?",
                     ev->site.line, ev->origin ? ev->origin : "");
    if (n > 0 && c->len + (size_t)n < sizeof c->log) c->len += (size_t)n;
}

void test_capture_begin(test_capture *c, corm_db *db)
{
    memset(c, 0, sizeof *c);
    c->db = db;
    c->handle = corm_on_query(db, on_query, c);
}

void test_capture_end(test_capture *c) { corm_off_query(c->db, c->handle); }

void test_assert_queries(test_capture *c, uint64_t want, bool at_most, const char *file, int line)
{
    test_capture_end(c);
    bool ok = at_most ? c->count <= want : c->count == want;
    if (!ok) {
        print_error("%s:%d: %llu queries executed, %s%llu expected. Captured queries were:\n%s",
                    file, line, (unsigned long long)c->count, at_most ? "at most " : "",
                    (unsigned long long)want, c->log);
        _fail(file, line);
    }
}

const char *test_num_text(const corm_value *v, char *buf, size_t n)
{
    if (!v || v->type == CORM_V_NULL) snprintf(buf, n, "NULL");
    else if (v->type == CORM_V_INT) snprintf(buf, n, "%lld", (long long)v->u.i);
    else if (v->type == CORM_V_FLOAT) snprintf(buf, n, "%g", v->u.f);
    else if (v->type == CORM_V_BOOL) snprintf(buf, n, "%s", v->u.b ? "true" : "false");
    else if (v->type == CORM_V_TEXT) snprintf(buf, n, "%g", strtod(v->u.s.p, NULL));
    else if (v->type == CORM_V_DECIMAL) snprintf(buf, n, "%g", corm_dec_to_double(v->u.d));
    else snprintf(buf, n, "?");
    return buf;
}

const char *test_annots(corm_qs *qs, const char *name)
{
    static char out[512];
    out[0] = '\0';
    if (corm_eval(qs) != CORM_OK) {
        char e[2048];
        fail_msg("evaluation failed: %s", corm_error_format(corm_qs_error(qs), e, sizeof e));
    }
    size_t len = 0;
    for (size_t i = 0; i < corm_qs_len(qs) && len < sizeof out; i++) {
        const corm_obj *o = corm_qs_at(qs, i);
        int64_t id = *(const int64_t *)((const char *)o + o->model->fields[0].offset);
        char b[64];
        len +=
            (size_t)snprintf(out + len, sizeof out - len, "%s%lld:%s", i ? "," : "", (long long)id,
                             test_num_text(corm_annotation(o, name), b, sizeof b));
    }
    return out;
}

const char *test_ids(corm_qs *qs)
{
    static char buf[1024];
    buf[0] = '\0';
    if (corm_eval(qs) != CORM_OK) {
        char e[2048];
        fail_msg("evaluation failed: %s", corm_error_format(corm_qs_error(qs), e, sizeof e));
    }
    size_t len = 0;
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        const corm_obj *o = corm_qs_at(qs, i);
        int64_t id = *(const int64_t *)((const char *)o + o->model->fields[0].offset);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", i ? "," : "", (long long)id);
        if (len >= sizeof buf) break;
    }
    return buf;
}

const char *test_scalar(corm_db *db, const char *sql)
{
    static char keep[256];
    corm_qs *qs = corm_sql(db, sql, NULL, 0);
    keep[0] = '\0';
    if (corm_eval(qs) != CORM_OK) {
        char b[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_qs_error(qs), b, sizeof b));
    }
    const corm_value *v = corm_qs_cell(qs, 0, 0);
    if (!v || v->type == CORM_V_NULL) snprintf(keep, sizeof keep, "NULL");
    else if (v->type == CORM_V_INT) snprintf(keep, sizeof keep, "%lld", (long long)v->u.i);
    else if (v->type == CORM_V_FLOAT) snprintf(keep, sizeof keep, "%g", v->u.f);
    else if (v->type == CORM_V_BOOL) snprintf(keep, sizeof keep, "%d", v->u.b);
    else if (v->type == CORM_V_TEXT) snprintf(keep, sizeof keep, "%s", v->u.s.p);
    corm_qs_free(qs);
    return keep;
}

void test_fault_run(corm_rc (*program)(void), const test_fault *f)
{
    const char *env = getenv("CORM_TEST_FAULT_STRIDE");
    long stride = env && atol(env) > 0 ? atol(env) : f->stride > 0 ? f->stride : 1;
    for (int persistent = 0; persistent < 2; persistent++) {
        long n;
        int failures = 0, survived = 0;
        for (n = 0; n < 1000000; n += stride) {
            f->inject(n, persistent);
            corm_rc rc = program();
            bool fired = f->done();
            f->inject(-1, false);
            if (!fired) {
                /* the program made fewer than n + 1 allocations: done */
                assert_int_equal(rc, CORM_OK);
                break;
            }
            if (rc == CORM_OK) {
                /* a failure absorbed (an optional cache, a fallback name,
                ** SQLite's benign allocations): fine, as long as the
                ** program checked its results */
                survived++;
                continue;
            }
            failures++;
            if (rc != CORM_NOMEM)
                fail_msg("%s %ld failing (%s) gave %s instead of CORM_NOMEM", f->what, n,
                         persistent ? "persistent" : "transient", corm_rc_name(rc));
        }
        assert_true(failures * stride > 50); /* the program does allocate */
        print_message("%s, %s: about %ld allocations, one in %ld failed in turn: %d reported "
                      "CORM_NOMEM, %d absorbed\n",
                      f->what, persistent ? "persistent" : "transient", n, stride, failures,
                      survived);
    }
}

void test_oom_run(corm_rc (*program)(void))
{
    static const test_fault corm_allocations = {"corm allocation", corm__test_fail_alloc,
                                                corm__test_fail_alloc_done, 1};
    test_fault_run(program, &corm_allocations);
}

const char *test_sql_rows(corm_db *db, const char *sql)
{
    static char out[32768];
    corm_qs *qs = corm_sql(db, sql, NULL, 0);
    if (corm_eval(qs) != CORM_OK) {
        char b[2048];
        fail_msg("%s: %s", sql, corm_error_format(corm_qs_error(qs), b, sizeof b));
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t r = 0; r < corm_qs_len(qs); r++) {
        for (size_t c = 0; c < corm_qs_ncols(qs); c++) {
            const corm_value *v = corm_qs_cell(qs, r, c);
            char num[64];
            const char *t =
                v && v->type == CORM_V_TEXT ? v->u.s.p : test_num_text(v, num, sizeof num);
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%s",
                                    c   ? "|"
                                    : r ? "\n"
                                        : "",
                                    t);
            if (len >= sizeof out) fail_msg("test_sql_rows: more than %zu bytes", sizeof out);
        }
    }
    corm_qs_free(qs);
    return out;
}
