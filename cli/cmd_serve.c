/*
** cmd_serve.c - `corm serve`: the demo bookstore over HTTP (libmicrohttpd)
** with the debug panel on.  Each page has a naive variant (what the seeds
** warn about) and a fixed one (?fixed=1); the panel at /__corm/ shows what
** each request ran, its N+1 findings and their fixes.  It is how a newcomer
** sees what corm does (docs/inspect.md), and what the HTTP and browser
** tests drive.
**
** Every request takes a connection from a pool through its request scope,
** so the recorder sees its statements; the panel's EXPLAIN uses the same
** pool.  Binds loopback unless told otherwise, and then needs --token.
**
** With --cache URL, the per-view cache (corm_cache_page_get/store, Django's
** cache_page) keeps the author report for everybody and /account per user
** (the vary key is the user of the corm_user cookie, the demo's stand-in
** for a session) for 60 s: a second request runs no query.
*/
#include "cli.h"
#include "demo.h"

#include <microhttpd.h>
#include <corm/inspect_mhd.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct server {
    corm_inspect *ins;
    corm_pool *pool;
    int64_t nbooks;
    corm_cache *cache; /* --cache, or NULL */
} server;

/* The pages the per-view cache keeps (with --cache). */
static const corm_cache_page authors_cached = {.route = "/authors", .timeout_ms = 60000};
static const corm_cache_page account_cached = {
    .route = "/account", .timeout_ms = 60000, .per_user = true};

static const char xss_title[] = "<script>document.title='XSS';window.__xss=1</script>";

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void page_head(FILE *out, const char *title, const char *path, bool fixed)
{
    fprintf(out,
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title>"
            "<style>body{font:15px/1.5 system-ui,sans-serif;margin:24px;max-width:900px}"
            "td,th{padding:2px 10px;text-align:left}</style></head><body>"
            "<p><a href=\"/\">bookstore</a> &middot; <a href=\"/__corm/\">corm panel</a></p>"
            "<h1>%s <small>(%s)</small></h1><p>",
            title, title, fixed ? "fixed" : "naive");
    if (fixed) fprintf(out, "<a id=\"variant\" href=\"%s\">see the naive variant</a>", path);
    else fprintf(out, "<a id=\"variant\" href=\"%s?fixed=1\">see the fixed variant</a>", path);
    fputs("</p>", out);
}

/* /books: every book with its author's name (?q=: titles containing q).
** Naive: one query per book for its author (N+1); fixed:
** select_related("author"), one JOIN. */
static int books_page(corm_db *db, bool fixed, const char *search, FILE *out)
{
    page_head(out, "Books", "/books", fixed);
    corm_qs *qs = corm_all(db, Book);
    if (fixed) corm_select_related(qs, "author");
    if (search && *search) corm_filter(qs, "title__icontains", corm_text(search));
    corm_order_by(qs, "id");
    fputs("<table><tr><th>title</th><th>author</th></tr>", out);
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        fputs("<tr><td class=\"title\">", out);
        esc(out, b->title);
        fputs("</td><td>", out);
        esc(out, a ? a->name : "?");
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
    int status = corm_qs_failed(qs) ? 500 : 200;
    corm_qs_free(qs);
    return status;
}

/* /authors: each author's number of books.  Naive: count() per author;
** fixed: annotate(Count("books")). */
static int authors_page(corm_db *db, bool fixed, FILE *out)
{
    page_head(out, "Author report", "/authors", fixed);
    corm_qs *qs = corm_all(db, Author);
    corm_order_by(qs, "id");
    if (fixed) corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    fputs("<table><tr><th>author</th><th>books</th></tr>", out);
    Author *a;
    int status = 200;
    corm_foreach(a, qs)
    {
        int64_t n;
        if (fixed) {
            n = corm_annotation(a, "book_count")->u.i;
        } else {
            corm_qs *mine = author_books_qs(a);
            n = corm_count(mine);
            corm_qs_free(mine);
        }
        if (n < 0) status = 500;
        fputs("<tr><td>", out);
        esc(out, a->name);
        fprintf(out, "</td><td>%lld</td></tr>", (long long)n);
    }
    fputs("</table>", out);
    if (corm_qs_failed(qs)) status = 500;
    corm_qs_free(qs);
    return status;
}

/* /users/ID/orders: a user's orders with their items and products.  Naive:
** items and product per order; fixed: prefetch_related("items__product"). */
static int orders_page(corm_db *db, int64_t user, bool fixed, FILE *out)
{
    char path[64];
    snprintf(path, sizeof path, "/users/%lld/orders", (long long)user);
    page_head(out, "Orders of a user", path, fixed);
    corm_qs *qs = corm_all(db, Order);
    corm_filter(qs, "user", corm_int(user));
    corm_select_related(qs, "product");
    if (fixed) corm_prefetch_related(qs, "items__product");
    corm_order_by(qs, "id");
    fputs("<table><tr><th>order</th><th>status</th><th>items</th></tr>", out);
    Order *o;
    int status = 200;
    corm_foreach(o, qs)
    {
        const corm_list *items = order_items(o);
        if (!items) {
            status = 500;
            break;
        }
        fprintf(out, "<tr><td>#%lld</td><td>", (long long)o->id);
        esc(out, o->status);
        fputs("</td><td>", out);
        for (size_t i = 0; i < items->n; i++) {
            OrderItem *it = items->items[i];
            Product *p = order_item_product(it);
            if (i) fputs(", ", out);
            fprintf(out, "%d x ", it->quantity);
            esc(out, p ? p->name : "?");
        }
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
    if (corm_qs_failed(qs)) status = 500;
    corm_qs_free(qs);
    return status;
}

/* /account: the page of the user named by the corm_user cookie (a demo's
** stand-in for a session): its name and orders.  Personalised: cached per
** user. */
static int account_page(corm_db *db, int64_t user, FILE *out)
{
    fputs("<!doctype html><html><head><meta charset=\"utf-8\"><title>Your account</title>"
          "</head><body><p><a href=\"/\">bookstore</a></p>",
          out);
    corm_qs *users = corm_all(db, User);
    corm_filter(users, "id", corm_int(user));
    User *u = corm_get(users);
    if (!u) {
        int status = corm_qs_error(users)->rc == CORM_NOTFOUND ? 404 : 500;
        corm_qs_free(users);
        fprintf(out, "<p>no user %lld</p>", (long long)user);
        return status;
    }
    fputs("<h1>Your account</h1><p id=\"user\">", out);
    esc(out, u->name);
    fputs("</p>", out);
    corm_qs_free(users);
    corm_qs *qs = corm_all(db, Order);
    corm_filter(qs, "user", corm_int(user));
    corm_order_by(qs, "id");
    fputs("<ul id=\"orders\">", out);
    Order *o;
    corm_foreach(o, qs)
    {
        fprintf(out, "<li>#%lld ", (long long)o->id);
        esc(out, o->status);
        fputs("</li>", out);
    }
    fputs("</ul>", out);
    int status = corm_qs_failed(qs) ? 500 : 200;
    corm_qs_free(qs);
    return status;
}

/* /books/ID/feature: a write (an UPDATE), for the panel to refuse EXPLAIN. */
static int feature_page(corm_db *db, int64_t id, FILE *out)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "id", corm_int(id));
    int64_t n = corm_update(qs, CORM_SET("featured", corm_bool(true)));
    corm_qs_free(qs);
    fprintf(out, "<!doctype html><html><body><p>featured %lld book(s)</p></body></html>",
            (long long)n);
    return n < 0 ? 500 : 200;
}

static void index_page(FILE *out)
{
    fputs("<!doctype html><html><head><meta charset=\"utf-8\"><title>corm bookstore</title>"
          "</head><body style=\"font:15px/1.5 system-ui,sans-serif;margin:24px\">"
          "<h1>The corm demo bookstore</h1><p>Each page runs naive code (N+1 queries) or its "
          "fix. Open a page, then the <a href=\"/__corm/\">corm panel</a> to see its queries, "
          "the N+1 findings and the exact fix.</p><ul>"
          "<li><a href=\"/books\">Books</a> (<a href=\"/books?fixed=1\">fixed</a>)</li>"
          "<li><a href=\"/authors\">Author report</a> (<a href=\"/authors?fixed=1\">fixed</a>)"
          "</li><li><a href=\"/users/1/orders\">Orders of user 1</a> (<a "
          "href=\"/users/1/orders?fixed=1\">fixed</a>)</li>"
          "<li><a href=\"/account\">Your account</a> (per user: the corm_user cookie; "
          "cached per user with --cache)</li>"
          "<li><a href=\"/__corm/routes\">Per-route statistics</a> &middot; <a "
          "href=\"/metrics\">/metrics</a></li></ul></body></html>",
          out);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    server *s = cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    enum MHD_Result ret;
    if (corm_mhd_panel(s->ins, c, url, method, &ret)) return ret;

    const char *fixed_arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fixed");
    bool fixed = fixed_arg && strcmp(fixed_arg, "1") == 0;
    long long id = 0;
    int used = 0;
    const char *route = NULL;
    int kind = 0;
    if (strcmp(url, "/") == 0) route = "/", kind = 1;
    else if (strcmp(url, "/books") == 0) route = "/books", kind = 2;
    else if (strcmp(url, "/authors") == 0) route = "/authors", kind = 3;
    else if (sscanf(url, "/users/%lld/orders%n", &id, &used) == 1 && url[used] == '\0')
        route = "/users/{id}/orders", kind = 4;
    else if (sscanf(url, "/books/%lld/feature%n", &id, &used) == 1 && url[used] == '\0')
        route = "/books/{id}/feature", kind = 5;
    else if (strcmp(url, "/account") == 0) route = "/account", kind = 6;
    if (!route) {
        static char nf[] = "not found\n";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(nf), nf, MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(c, 404, r);
        MHD_destroy_response(r);
        return ret;
    }
    char *html = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&html, &len);
    if (!out) return MHD_NO;
    corm_request *req = corm_request_begin(s->ins, method, route, url);
    int status = 200;
    /* the per-view cache: the key is the method, route, path, query string
    ** and, for /account, the user */
    const char *user_arg = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "corm_user");
    long long user = 0;
    char vary[40], query[2048];
    corm__mhd_q q = {query, 0, sizeof query};
    query[0] = '\0';
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, corm__mhd_arg, &q);
    const corm_cache_page *cpage = NULL;
    if (kind == 6 && user_arg && sscanf(user_arg, "%lld%n", &user, &used) == 1 &&
        user_arg[used] == '\0') {
        snprintf(vary, sizeof vary, "user:%lld", user);
        cpage = s->cache ? &account_cached : NULL;
    } else if (kind == 6) {
        status = 403; /* nobody: not a page to cache */
        fputs("<!doctype html><html><body><p>not logged in: send the cookie corm_user=ID"
              "</p></body></html>",
              out);
    } else if (kind == 3 && s->cache) {
        cpage = &authors_cached;
    }
    corm_cache_request crq = {method, url, query, cpage == &account_cached ? vary : NULL};
    corm_cache_headers ch = {{0}, {0}, {0}};
    const char *cache_state = cpage ? "miss" : "";
    if (cpage) {
        corm_cached_response cr;
        corm_error cerr;
        corm_rc crc = corm_cache_page_get(s->cache, cpage, &crq, &cr, &cerr);
        if (crc == CORM_OK) {
            fclose(out);
            free(html);
            const char *h[] = {"Cache-Control",
                               cr.headers.cache_control,
                               "Expires",
                               cr.headers.expires,
                               "Age",
                               cr.headers.age,
                               "X-Corm-Cache",
                               "hit",
                               NULL};
            ret = req ? corm_mhd_respond_headers(req, c, (unsigned)cr.status, cr.content_type,
                                                 cr.body, cr.len, h)
                      : MHD_NO;
            corm_cached_response_free(&cr);
            corm_request_free(req);
            return ret;
        }
        if (crc == CORM_MISUSE) { /* a page marked per_user asked without its user */
            status = 500;
            cpage = NULL;
            fprintf(out, "corm: %s\nhint: %s\n", cerr.message, cerr.hint);
        }
    }
    if (kind == 1) {
        index_page(out);
    } else if (status == 200) {
        corm_error err;
        corm_db *db = req ? corm_request_acquire(req, s->pool, -1, &err) : NULL;
        if (!db) {
            status = 503;
            fputs("no database connection\n", out);
        } else {
            if (kind == 2)
                status = books_page(
                    db, fixed, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q"), out);
            else if (kind == 3) status = authors_page(db, fixed, out);
            else if (kind == 4) status = orders_page(db, id, fixed, out);
            else if (kind == 6) status = account_page(db, user, out);
            else status = feature_page(db, id, out);
            if (kind != 5) fputs("</body></html>", out);
            corm_request_release(req, s->pool, db);
        }
    }
    fclose(out);
    if (cpage) { /* stored before the toolbar goes in: that is per request */
        corm_error cerr;
        corm_rc crc = corm_cache_page_store(
            s->cache, cpage, &crq, status, "text/html; charset=utf-8", html, len, &ch, NULL, &cerr);
        (void)crc; /* a cache that is down: the page is still good to send */
    }
    const char *h[] = {"Cache-Control", ch.cache_control, "Expires", ch.expires,
                       "X-Corm-Cache",  cache_state,      NULL};
    if (req)
        ret = corm_mhd_respond_headers(req, c, (unsigned)status, "text/html; charset=utf-8", html,
                                       len, h);
    else {
        struct MHD_Response *r = MHD_create_response_from_buffer(len, html, MHD_RESPMEM_MUST_COPY);
        ret = MHD_queue_response(c, (unsigned)status, r);
        MHD_destroy_response(r);
    }
    corm_request_free(req);
    free(html);
    return ret;
}

static void no_findings(void *ud, const corm_finding *f)
{
    (void)ud;
    (void)f; /* the panel shows them */
}

/* Migrate and seed an empty database; add the book whose title is HTML. */
static int prepare(const char *url, int64_t scale)
{
    corm_error err;
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    if (!db) {
        cli_print_error(&err);
        return 1;
    }
    corm_instr_on_finding(corm_db_instr(db), no_findings, NULL);
    int code = corm_migrate(db) != CORM_OK ? demo_fail_db(db) : 0;
    if (!code) {
        corm_qs *books = corm_all(db, Book);
        int64_t have = corm_count(books);
        if (have < 0) code = demo_fail_qs(books);
        corm_qs_free(books);
        if (!code && have == 0) code = demo_seed(db, scale);
    }
    if (!code) {
        corm_qs *x = corm_all(db, Book);
        corm_filter(x, "title", corm_text(xss_title));
        int64_t n = corm_count(x);
        corm_qs_free(x);
        if (n == 0) {
            Book bk = CORM_NEW(Book);
            bk.title = (char *)xss_title;
            bk.author_id = 1;
            corm_set_null(&bk, "publisher", true);
            corm_set_null(&bk, "published_date", true);
            bk.isbn = "9780000000000";
            bk.pages = 1;
            bk.price = corm_dec("1.00");
            bk.description = "A title that is HTML: the panel must show it as text.";
            if (corm_save(db, &bk) != CORM_OK) code = demo_fail_db(db);
        }
    }
    corm_close(db);
    return code;
}

/* Whether v is a whole number in lo..hi (into *out). */
static bool whole(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) return false;
    *out = n;
    return true;
}

int cli_serve(int argc, char **argv)
{
    cli_args args;
    int rc = cli_parse(&cli_cmd_serve, argc, argv, &args);
    if (rc != CLI_CONTINUE) return rc;
    const char *url = cli_value(&args, "--db", "sqlite:corm-serve.db");
    const char *listen_addr = cli_value(&args, "--listen", "127.0.0.1");
    const char *token = cli_value(&args, "--token", NULL);
    const char *record = cli_value(&args, "--record", NULL);
    const char *port_file = cli_value(&args, "--port-file", NULL);
    const char *cache_url = cli_value(&args, "--cache", NULL);
    long long port_n, threads_n, scale_n, warn;
    if (!whole(cli_value(&args, "--port", "8000"), 0, 65535, &port_n))
        return cli_usage_error(&cli_cmd_serve, "--port is 0..65535 (0: any free port)");
    if (!whole(cli_value(&args, "--threads", "4"), 1, 64, &threads_n))
        return cli_usage_error(&cli_cmd_serve, "--threads is 1..64");
    if (!whole(cli_value(&args, "--scale", "100"), 1, INT64_MAX, &scale_n))
        return cli_usage_error(&cli_cmd_serve, "--scale is a whole number, at least 1");
    if (!whole(cli_value(&args, "--warn-queries", "0"), 0, INT64_MAX, &warn))
        return cli_usage_error(&cli_cmd_serve, "--warn-queries is a whole number (0: never)");
    const char *sample_text = cli_value(&args, "--sample", "100");
    char *sample_end;
    double sample = strtod(sample_text, &sample_end);
    if (sample_end == sample_text || *sample_end || !(sample >= 0 && sample <= 100))
        return cli_usage_error(&cli_cmd_serve, "--sample is a percentage, 0..100");
    uint64_t warn_queries = (uint64_t)warn;
    int port = (int)port_n, threads = (int)threads_n;
    int64_t scale = scale_n;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, listen_addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "corm serve: --listen '%s' is not an IPv4 address (127.0.0.1)\n",
                listen_addr);
        return 2;
    }
    if (strncmp(listen_addr, "127.", 4) != 0 && !token) {
        fprintf(stderr,
                "corm serve: --listen %s is not loopback: the panel shows SQL and parameters, "
                "so it needs --token T (clients send X-Corm-Token: T, or ?token=T once)\n",
                listen_addr);
        return 2;
    }
    char record_buf[1024];
    if (!record) {
        /* beside the database file, or in the current directory */
        const char *file = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : NULL;
        if (file && strcmp(file, ":memory:") != 0)
            snprintf(record_buf, sizeof record_buf, "%s.inspect", file);
        else snprintf(record_buf, sizeof record_buf, "corm-serve.inspect");
        record = record_buf;
    } else if (strcmp(record, "off") == 0) record = NULL;

    if (prepare(url, scale) != 0) return 1;
    corm_error err;
    corm_cache *cache = NULL;
    if (cache_url) {
        corm_cache_config cc = {.url = cache_url, .key_prefix = "serve"};
        cache = corm_cache_open(&cc, &err);
        if (!cache) {
            cli_print_error(&err);
            return 1;
        }
    }
    corm_pool_config pc = {0};
    pc.url = url;
    pc.schema = &bookstore_schema;
    pc.size = threads;
    corm_pool *pool = corm_pool_open(&pc, &err);
    if (!pool) {
        cli_print_error(&err);
        corm_cache_close(cache);
        return 1;
    }
    corm_inspect_config ic = CORM_INSPECT_CONFIG_INIT;
    static const char *const sensitive[] = {"User.email", "Author.email", NULL};
    ic.record_path = record;
    ic.sample_percent = sample;
    ic.record_params = true;
    ic.sensitive = sensitive;
    ic.token = token;
    ic.explain_pool = pool;
    ic.warn_queries = warn_queries;
    corm_inspect *ins = corm_inspect_open(&ic, &err);
    if (!ins) {
        cli_print_error(&err);
        corm_pool_close(pool);
        corm_cache_close(cache);
        return 1;
    }
    /* the findings are the panel's to show, not stderr's */
    corm_db *conns[64];
    int nconns = 0;
    while (nconns < threads && (conns[nconns] = corm_pool_acquire(pool, 0, NULL)))
        corm_instr_on_finding(corm_db_instr(conns[nconns++]), no_findings, NULL);
    while (nconns) corm_pool_release(pool, conns[--nconns]);
    server s = {ins, pool, scale, cache};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handler,
        &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "corm serve: cannot listen on %s:%d: %s\n", listen_addr, port,
                strerror(errno));
        corm_inspect_close(ins);
        corm_pool_close(pool);
        corm_cache_close(cache);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int bound = di ? di->port : port;
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", bound);
            fclose(f);
        }
    }
    printf("corm serve: http://%s:%d/ (panel: /__corm/, metrics: /metrics; recorder: %s; "
           "cache: %s)\n",
           listen_addr, bound, record ? record : "off", cache_url ? cache_url : "off");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    corm_inspect_flush(ins);
    corm_inspect_stats st = corm_inspect_get_stats(ins);
    corm_inspect_close(ins);
    corm_pool_close(pool);
    corm_cache_stats cst = corm_cache_get_stats(cache);
    corm_cache_close(cache);
    if (cache_url)
        fprintf(stderr, "corm serve: cache: %llu hits, %llu misses, %llu sets, %llu errors\n",
                (unsigned long long)cst.hits, (unsigned long long)cst.misses,
                (unsigned long long)cst.sets, (unsigned long long)cst.errors);
    fprintf(stderr,
            "corm serve: stopped: %llu requests, %llu sampled, %llu recorded, %llu dropped\n",
            (unsigned long long)st.requests, (unsigned long long)st.sampled,
            (unsigned long long)st.recorded, (unsigned long long)st.dropped);
    return 0;
}
