/*
** test_inspect.c - request scopes, the recorder and the panel
** (include/corm/inspect.h), on SQLite and on PostgreSQL, without an HTTP
** server: the panel is a function of a corm_http_request.  The HTTP and
** browser tests (tests/inspect, tests/browser) drive `corm serve`.
*/
#include "test.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static corm_db *db;
static corm_pool *pool;
static char dir[256], recfile[300];

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    corm_error err;
    corm_pool_config cfg = {.url = test_db_url(), .schema = &bookstore_schema, .size = 3};
    pool = corm_pool_open(&cfg, &err);
    if (!pool) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/corm-inspect-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_pool_close(pool);
    test_db_close(db);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int nfile;
static const char *new_recfile(void)
{
    snprintf(recfile, sizeof recfile, "%s/rec%d.db", dir, ++nfile);
    return recfile;
}

/* The naive book list: one query for the books, one per book for its author. */
static void naive_books(corm_db *d)
{
    corm_qs *qs = corm_all(d, Book);
    corm_order_by(qs, "id");
    Book *b;
    corm_foreach(b, qs) assert_non_null(book_author(b));
    assert_false(corm_qs_failed(qs));
    corm_qs_free(qs);
}

static void fixed_books(corm_db *d)
{
    corm_qs *qs = corm_all(d, Book);
    corm_select_related(qs, "author");
    corm_order_by(qs, "id");
    Book *b;
    corm_foreach(b, qs) assert_non_null(book_author(b));
    corm_qs_free(qs);
}

static void quiet(void *ud, const corm_finding *f)
{
    (void)ud;
    (void)f;
}

/* ------------------------------------------------------------ scopes */

static void test_scope_across_pool(void **state)
{
    (void)state;
    corm_error err;
    corm_inspect *ins = corm_inspect_open(NULL, &err);
    assert_non_null(ins);
    corm_request *req = corm_request_begin(ins, "GET", "/books", "/books");
    corm_db *a = corm_request_acquire(req, pool, -1, &err);
    corm_db *b = corm_request_acquire(req, pool, -1, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    corm_instr_on_finding(corm_db_instr(a), quiet, NULL);
    naive_books(a); /* 1 + 6 */
    fixed_books(b); /* 1 */
    corm_request_release(req, pool, a);
    corm_request_release(req, pool, b);
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    assert_int_equal(corm_request_count(req), 8);
    assert_true(corm_request_db_ms(req) > 0);
    assert_true(corm_request_ms(req) >= corm_request_db_ms(req));
    assert_int_equal(corm_request_nfindings(req), 1);
    const corm_finding *f = corm_request_finding(req, 0);
    assert_int_equal(f->kind, CORM_FINDING_N_PLUS_ONE);
    assert_string_equal(f->model, "Book");
    assert_string_equal(f->relation, "author");
    assert_int_equal(f->count, 6);
    assert_non_null(strstr(f->fix, "corm_select_related(qs, \"author\")"));
    assert_int_equal(corm_request_id(req), 0); /* no recorder */
    const char *st = corm_request_server_timing(req);
    assert_non_null(strstr(st, "db;dur="));
    assert_non_null(strstr(st, "desc=\"8 queries\", app;dur="));
    size_t len = 0;
    const char *page = corm_request_inject(req, "<html><body><p>x</p></BODY></html>", 34, &len);
    assert_non_null(strstr(page, "<p>x</p><div id=\"corm-toolbar\""));
    assert_non_null(strstr(page, "8 queries"));
    assert_non_null(strstr(page, "</div></BODY></html>"));
    assert_int_equal(len, strlen(page));
    /* attaching twice is misuse; ending twice returns the same */
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    corm_request_free(req);

    req = corm_request_begin(ins, "GET", "/x", "/x");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    assert_int_equal(corm_request_attach(req, db), CORM_MISUSE);
    assert_non_null(strstr(corm_request_error(req)->message, "already attached"));
    corm_request_free(req); /* never ended: frees its capture */
    corm_inspect_stats s = corm_inspect_get_stats(ins);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.recorded, 0);
    corm_inspect_close(ins);
}

typedef struct lines {
    char text[4096];
    int n;
} lines;
static void collect_warn(void *ud, const char *line)
{
    lines *l = ud;
    l->n++;
    strncat(l->text, line, sizeof l->text - strlen(l->text) - 2);
    strcat(l->text, "\n");
}

static void test_budgets_and_warnings(void **state)
{
    (void)state;
    lines w = {{0}, 0};
    corm_inspect_config cfg = CORM_INSPECT_CONFIG_INIT;
    cfg.warn = collect_warn;
    cfg.warn_ud = &w;
    cfg.warn_queries = 5;
    corm_error err;
    corm_inspect *ins = corm_inspect_open(&cfg, &err);
    assert_non_null(ins);
    assert_int_equal(corm_inspect_budget(ins, "/books", 3, 0, CORM_BUDGET_LOG), CORM_OK);
    assert_int_equal(corm_inspect_budget(ins, "/strict", 3, 0, CORM_BUDGET_FAIL), CORM_OK);
    corm_instr_on_finding(corm_db_instr(db), quiet, NULL);

    corm_request *req = corm_request_begin(ins, "GET", "/books", "/books");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    naive_books(db);
    assert_int_equal(corm_request_end(req, 200), CORM_OK); /* log: not an error */
    assert_int_equal(corm_request_nfindings(req), 2);
    assert_int_equal(corm_request_finding(req, 1)->kind, CORM_FINDING_OVER_BUDGET);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(w.text, "corm: over budget: GET /books ran 7 statements"));
    assert_non_null(strstr(w.text, "corm: slow request GET /books (route /books, status 200): 7 "
                                   "statements"));
    assert_non_null(strstr(w.text, "n_plus_one Book.author x6: corm_select_related"));
    corm_request_free(req);

    req = corm_request_begin(ins, "GET", "/strict", "/strict");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    naive_books(db);
    assert_int_equal(corm_request_end(req, 200), CORM_INVALID);
    assert_non_null(strstr(corm_request_error(req)->message, "over the route's budget"));
    corm_request_free(req);

    /* within budget, under the threshold: nothing */
    req = corm_request_begin(ins, "GET", "/books", "/books?fixed=1");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    fixed_books(db);
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    assert_int_equal(corm_request_nfindings(req), 0);
    corm_request_free(req);
    assert_int_equal(w.n, 2);
    assert_int_equal(corm_inspect_get_stats(ins).warnings, 2);

    /* the metrics */
    size_t n = corm_inspect_metrics(ins, NULL, 0);
    char *m = malloc(n + 1);
    assert_int_equal(corm_inspect_metrics(ins, m, n + 1), n);
    assert_non_null(strstr(m, "corm_http_requests_total{route=\"/books\"} 2\n"));
    assert_non_null(strstr(m, "corm_http_request_queries_bucket{route=\"/books\",le=\"1\"} 1\n"));
    assert_non_null(strstr(m, "corm_http_request_queries_sum{route=\"/books\"} 8\n"));
    assert_non_null(
        strstr(m, "corm_http_request_findings_total{route=\"/strict\",kind=\"n_plus_one\"} 1\n"));
    assert_non_null(strstr(m, "corm_request_statements_total{fingerprint="));
    free(m);
    corm_inspect_close(ins);

    /* bad configurations say what to do */
    cfg = (corm_inspect_config)CORM_INSPECT_CONFIG_INIT;
    cfg.sample_percent = 150;
    assert_null(corm_inspect_open(&cfg, &err));
    assert_int_equal(err.rc, CORM_INVALID);
    assert_non_null(strstr(err.hint, "0 to 100"));
    cfg.sample_percent = 100;
    cfg.prefix = "corm";
    assert_null(corm_inspect_open(&cfg, &err));
    assert_non_null(strstr(err.message, "not a path"));
    cfg.prefix = NULL;
    static const char *const bad[] = {"email", NULL};
    cfg.sensitive = bad;
    assert_null(corm_inspect_open(&cfg, &err));
    assert_non_null(strstr(err.hint, "User.email"));
    cfg.sensitive = NULL;
    cfg.record_path = "/nonexistent-dir/x/rec.db";
    assert_null(corm_inspect_open(&cfg, &err));
    assert_int_equal(err.rc, CORM_IO);
}

/* ---------------------------------------------------------- recorder */

typedef struct worker {
    corm_inspect *ins;
    int n, failed;
} worker;

static void *run_requests(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        corm_request *req = corm_request_begin(w->ins, "GET", "/books", "/books?fixed=1");
        corm_error err;
        corm_db *d = corm_request_acquire(req, pool, -1, &err);
        if (!d) {
            w->failed++;
            corm_request_free(req);
            continue;
        }
        corm_qs *qs = corm_all(d, Book);
        if (corm_eval(qs) != CORM_OK) w->failed++;
        corm_qs_free(qs);
        corm_request_release(req, pool, d);
        if (corm_request_end(req, 200) != CORM_OK) w->failed++;
        corm_request_free(req);
    }
    return NULL;
}

static corm_inspect_stats run_threads(corm_inspect *ins, int nthreads, int per)
{
    pthread_t th[8];
    worker w[8];
    for (int i = 0; i < nthreads; i++) {
        w[i] = (worker){ins, per, 0};
        pthread_create(&th[i], NULL, run_requests, &w[i]);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failed, 0);
    }
    corm_inspect_flush(ins);
    return corm_inspect_get_stats(ins);
}

static long long count_rows(const char *sql)
{
    corm_error err;
    char url[400];
    snprintf(url, sizeof url, "sqlite:%s", recfile);
    corm_db *r = corm_open(url, NULL, &err);
    assert_non_null(r);
    corm_qs *qs = corm_sql(r, sql, NULL, 0);
    assert_int_equal(corm_eval(qs), CORM_OK);
    long long n = corm_row_int(qs, 0, corm_qs_colname(qs, 0));
    corm_qs_free(qs);
    corm_close(r);
    return n;
}

/* Request scopes recording every request into a new file (recfile). */
static corm_inspect *open_recording(void)
{
    corm_inspect_config cfg = CORM_INSPECT_CONFIG_INIT;
    cfg.record_path = new_recfile();
    corm_error err;
    corm_inspect *ins = corm_inspect_open(&cfg, &err);
    if (!ins) fail_msg("corm_inspect_open: %s", err.message);
    return ins;
}

static void test_recorder_keeps_every_sampled_request(void **state)
{
    (void)state;
    corm_inspect_config cfg = CORM_INSPECT_CONFIG_INIT;
    cfg.record_path = new_recfile();
    corm_error err;
    corm_inspect *ins = corm_inspect_open(&cfg, &err);
    assert_non_null(ins);
    corm_inspect_stats s = run_threads(ins, 4, 50);
    assert_int_equal(s.requests, 200);
    assert_int_equal(s.sampled, 200);
    assert_int_equal(s.recorded + s.dropped, 200);
    assert_int_equal(s.failed, 0);
    corm_inspect_close(ins);
    assert_int_equal(count_rows("SELECT count(*) FROM requests"), (long long)s.recorded);
    assert_int_equal(count_rows("SELECT count(*) FROM queries"), (long long)s.recorded);
    assert_int_equal(count_rows("SELECT count(DISTINCT id) FROM requests"), (long long)s.recorded);

    /* the same file again: ids go on from the last one */
    ins = corm_inspect_open(&cfg, &err);
    assert_non_null(ins);
    corm_request *req = corm_request_begin(ins, "GET", "/x", "/x");
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    assert_int_equal(corm_request_id(req), (long long)s.recorded + 1);
    corm_request_free(req);
    corm_inspect_close(ins);
}

static void test_recorder_sampling_retention_drops(void **state)
{
    (void)state;
    corm_inspect_config cfg = CORM_INSPECT_CONFIG_INIT;
    cfg.record_path = new_recfile();
    cfg.sample_percent = 25;
    cfg.keep_requests = 20;
    corm_error err;
    corm_inspect *ins = corm_inspect_open(&cfg, &err);
    corm_inspect_stats s = run_threads(ins, 2, 100);
    assert_int_equal(s.requests, 200);
    assert_int_equal(s.sampled, 50); /* spread evenly: exactly a quarter */
    assert_int_equal(s.recorded + s.dropped, 50);
    corm_inspect_close(ins);
    long long kept = count_rows("SELECT count(*) FROM requests");
    assert_true(kept >= 20 && kept <= 20 + 50);
    assert_int_equal(count_rows("SELECT min(id) FROM requests"),
                     count_rows("SELECT max(id) FROM requests") - kept + 1);

    /* a queue of one, many threads: drops are counted, never lost */
    cfg = (corm_inspect_config)CORM_INSPECT_CONFIG_INIT;
    cfg.record_path = new_recfile();
    cfg.queue_size = 1;
    ins = corm_inspect_open(&cfg, &err);
    s = run_threads(ins, 3, 60);
    assert_int_equal(s.sampled, 180);
    assert_int_equal(s.recorded + s.dropped, 180);
    corm_inspect_close(ins);
    assert_int_equal(count_rows("SELECT count(*) FROM requests"), (long long)s.recorded);
}

/* ------------------------------------------------------------- panel */

static corm_http_response get(corm_inspect *ins, const char *path, const char *query,
                              const char *remote)
{
    corm_http_request rq = {"GET", path, query, remote, NULL, NULL};
    corm_http_response resp;
    assert_true(corm_panel_handle(ins, &rq, &resp));
    return resp;
}

static void test_panel(void **state)
{
    (void)state;
    corm_inspect_config cfg = CORM_INSPECT_CONFIG_INIT;
    cfg.record_path = new_recfile();
    cfg.record_params = true;
    cfg.explain_pool = pool;
    cfg.token = "s3cret";
    static const char *const sens[] = {"Author.email", NULL};
    cfg.sensitive = sens;
    corm_error err;
    corm_inspect *ins = corm_inspect_open(&cfg, &err);
    assert_non_null(ins);
    corm_instr_on_finding(corm_db_instr(db), quiet, NULL);

    /* 1: the naive list, with a title that is HTML */
    corm_request *req = corm_request_begin(ins, "GET", "/books", "/books");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    corm_qs *u = corm_all(db, Book);
    corm_filter(u, "id", corm_int(6));
    assert_int_equal(corm_update(u, CORM_SET("title", corm_text("<script>alert(1)</script>"))), 1);
    corm_qs_free(u);
    naive_books(db);
    corm_qs *t = corm_all(db, Book);
    corm_filter(t, "title", corm_text("<script>alert(1)</script>"));
    assert_int_equal(corm_count(t), 1);
    corm_qs_free(t);
    corm_qs *e = corm_all(db, Author);
    corm_filter(e, "email", corm_text("victor@example.com"));
    assert_true(corm_count(e) >= 0);
    corm_qs_free(e);
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    uint64_t id = corm_request_id(req);
    assert_int_equal(id, 1);
    corm_request_free(req);
    /* 2: the fixed one */
    req = corm_request_begin(ins, "GET", "/books", "/books?fixed=1");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    fixed_books(db);
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    corm_request_free(req);
    corm_inspect_flush(ins);

    corm_http_response r = get(ins, "/__corm/", "sort=queries", "127.0.0.1");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<tr class=\"req n1\" data-id=\"1\">"));
    char *one = strstr(r.body, "data-id=\"1\""), *two = strstr(r.body, "data-id=\"2\"");
    assert_true(one && two && one < two); /* most queries first */
    corm_http_response_free(&r);
    r = get(ins, "/__corm", "sort=time&route=%2Fnothing", "::1");
    assert_null(strstr(r.body, "data-id="));
    corm_http_response_free(&r);

    r = get(ins, "/__corm/request/1", NULL, "127.0.0.1");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "data-kind=\"n_plus_one\""));
    assert_non_null(strstr(r.body, "corm_select_related(qs, &quot;author&quot;)"));
    assert_non_null(strstr(r.body, "tests/integration/test_inspect.c"));
    assert_null(strstr(r.body, "<script>alert"));
    assert_non_null(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(
        strstr(r.body, "<tr class=\"group similar\"><td>similar</td><td class=\"n\">6"));
    /* the author's email is sensitive: a statement binding it is redacted,
    ** one that only reads the column is not */
    assert_non_null(strstr(r.body, "params: ? (redacted)</div>"));
    assert_non_null(strstr(r.body, "params: 1</div>"));
    assert_non_null(strstr(r.body, "/__corm/explain/1/3\"><button>EXPLAIN</button>"));
    assert_null(strstr(r.body, "/__corm/explain/1/1\"")); /* the UPDATE */
    corm_http_response_free(&r);

    /* EXPLAIN: a SELECT gives a plan; the UPDATE is refused */
    r = get(ins, "/__corm/explain/1/2", "fragment=1", "127.0.0.1");
    assert_int_equal(r.status, 200);
    assert_true(strlen(r.body) > 3);
    if (test_db_is_pg()) assert_non_null(strstr(r.body, "Scan"));
    else assert_non_null(strstr(r.body, "SCAN"));
    corm_http_response_free(&r);
    r = get(ins, "/__corm/explain/1/1", NULL, "127.0.0.1");
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "EXPLAIN refused: statement 1 of request #1 is not a SELECT"));
    corm_http_response_free(&r);
    r = get(ins, "/__corm/explain/1/2", "analyze=1", "127.0.0.1");
    assert_int_equal(r.status, 403);
    corm_http_response_free(&r);
    r = get(ins, "/__corm/explain/9/1", NULL, "127.0.0.1");
    assert_int_equal(r.status, 404);
    corm_http_response_free(&r);
    assert_int_equal(corm_tx_depth(db), 0);

    /* routes, metrics, unknown pages */
    r = get(ins, "/__corm/routes", NULL, "127.0.0.1");
    assert_non_null(strstr(r.body, "<td class=\"route\">/books</td><td class=\"n\">2</td>"));
    corm_http_response_free(&r);
    r = get(ins, "/metrics", NULL, "127.0.0.1");
    assert_non_null(strstr(r.content_type, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "corm_recorder_requests_total{fate=\"recorded\"} 2"));
    corm_http_response_free(&r);
    r = get(ins, "/__corm/nope", NULL, "127.0.0.1");
    assert_int_equal(r.status, 404);
    corm_http_response_free(&r);
    r = get(ins, "/__corm/request/77", NULL, "127.0.0.1");
    assert_int_equal(r.status, 404);
    corm_http_response_free(&r);
    corm_http_request other = {"GET", "/books", NULL, "127.0.0.1", NULL, NULL};
    assert_false(corm_panel_handle(ins, &other, &r));

    /* access: loopback only, unless the token is shown */
    r = get(ins, "/__corm/", NULL, "10.1.2.3");
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "10.1.2.3 is not a loopback address"));
    corm_http_response_free(&r);
    r = get(ins, "/metrics", NULL, "192.168.1.9");
    assert_int_equal(r.status, 403);
    corm_http_response_free(&r);
    r = get(ins, "/__corm/", "token=wrong", "10.1.2.3");
    assert_int_equal(r.status, 403);
    corm_http_response_free(&r);
    r = get(ins, "/__corm/", "token=s3cret", "10.1.2.3");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.set_cookie, "corm_token=s3cret; Path=/; HttpOnly"));
    corm_http_response_free(&r);
    corm_http_request tk = {"GET", "/__corm/", NULL, "10.1.2.3", "s3cret", NULL};
    assert_true(corm_panel_handle(ins, &tk, &r));
    assert_int_equal(r.status, 200);
    corm_http_response_free(&r);
    corm_http_request ck = {"GET", "/__corm/", NULL, "10.1.2.3", NULL, "a=b; corm_token=s3cret"};
    assert_true(corm_panel_handle(ins, &ck, &r));
    assert_int_equal(r.status, 200);
    corm_http_response_free(&r);
    corm_http_request post = {"POST", "/__corm/", NULL, "127.0.0.1", NULL, NULL};
    assert_true(corm_panel_handle(ins, &post, &r));
    assert_int_equal(r.status, 405);
    corm_http_response_free(&r);
    corm_inspect_close(ins);

    /* without a token, a remote client cannot get in at all */
    cfg = (corm_inspect_config)CORM_INSPECT_CONFIG_INIT;
    ins = corm_inspect_open(&cfg, &err);
    r = get(ins, "/__corm/", "token=", "10.1.2.3");
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "serves only loopback clients unless it has a token"));
    corm_http_response_free(&r);
    r = get(ins, "/__corm/", NULL, "127.0.0.1");
    assert_int_equal(r.status, 404); /* the recorder is off */
    corm_http_response_free(&r);
    corm_inspect_close(ins);
}

/* Another connection holds the recorder's file for a moment: the writer
** thread waits on it.  A panel page asked for meanwhile waits for the
** writer, so the request that just ended is there (not a 404). */
static void *release_later(void *arg)
{
    struct timespec ts = {0, 150 * 1000000L};
    nanosleep(&ts, NULL);
    sqlite3_exec(arg, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

static void test_panel_waits_for_writer(void **state)
{
    (void)state;
    corm_inspect *ins = open_recording();
    sqlite3 *hold = NULL;
    assert_int_equal(sqlite3_open(recfile, &hold), SQLITE_OK);
    assert_int_equal(sqlite3_exec(hold, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    corm_request *req = corm_request_begin(ins, "GET", "/books", "/books?fixed=1");
    assert_int_equal(corm_request_attach(req, db), CORM_OK);
    fixed_books(db);
    assert_int_equal(corm_request_end(req, 200), CORM_OK);
    char path[64];
    snprintf(path, sizeof path, "/__corm/request/%llu", (unsigned long long)corm_request_id(req));
    corm_request_free(req);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, release_later, hold), 0);
    corm_http_response r = get(ins, path, NULL, "127.0.0.1");
    pthread_join(th, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/books?fixed=1"));
    corm_http_response_free(&r);
    sqlite3_close(hold);
    corm_inspect_stats st = corm_inspect_get_stats(ins);
    assert_int_equal(st.recorded, 1);
    assert_int_equal(st.failed, 0);
    corm_inspect_close(ins);
}

/* The schema's `sensitive` option redacts without any configuration. */
static void test_sensitive_schema_option(void **state)
{
    (void)state;
    static const char src[] = "model Member {\n  name: char(50)\n  secret: char(50) sensitive\n}\n";
    corm_error err;
    corm_schema *sc = corm_schema_parse(src, sizeof src - 1, "member.corm", &err);
    assert_non_null(sc);
    const corm_model *m = corm_schema_model(sc, "Member");
    assert_true(m->fields[2].flags & CORM_FF_SENSITIVE);
    assert_false(m->fields[1].flags & CORM_FF_SENSITIVE);
    corm_schema_free(sc);
    static const char twice[] = "model M {\n  s: text sensitive sensitive\n}\n";
    assert_null(corm_schema_parse(twice, sizeof twice - 1, "m.corm", &err));
    assert_non_null(strstr(err.message, "option 'sensitive' is given twice"));
    static const char typo[] = "model M {\n  s: text sensitiv\n}\n";
    assert_null(corm_schema_parse(typo, sizeof typo - 1, "m.corm", &err));
    assert_non_null(strstr(err.hint, "sensitive"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_across_pool),
        cmocka_unit_test(test_budgets_and_warnings),
        cmocka_unit_test(test_recorder_keeps_every_sampled_request),
        cmocka_unit_test(test_recorder_sampling_retention_drops),
        cmocka_unit_test(test_panel),
        cmocka_unit_test(test_panel_waits_for_writer),
        cmocka_unit_test(test_sensitive_schema_option),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
