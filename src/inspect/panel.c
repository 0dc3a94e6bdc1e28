/*
** panel.c - the debug panel and /metrics as one server-independent HTTP
** handler (corm_panel_handle).
**
** Pages read the recorder's file through a read-only connection of their
** own (WAL: the writer goes on writing), after what is queued for it is
** written, so the request just made is listed; nothing here writes to the
** application's database.  EXPLAIN takes a connection from the explain
** pool, runs EXPLAIN (never ANALYZE unless configured and asked) of a
** recorded SELECT inside a transaction it rolls back, with a statement
** timeout on PostgreSQL (SQLite's EXPLAIN QUERY PLAN does not run the
** statement).  Every value written into a page goes through corm__html.
** The pages are plain HTML with inline CSS; the little JavaScript (the
** EXPLAIN button fetching the plan in place, the route filter submitting
** on change) only shortens what the links and forms already do.
*/
#include "inspect_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}"
    "header{background:#1d2733;color:#fff;padding:8px 16px}header a{color:#9cf;margin-right:14px}"
    "header b{margin-right:20px}main{padding:12px 16px}"
    "table{border-collapse:collapse;background:#fff;width:100%}"
    "th,td{border-bottom:1px solid #e1e4e8;padding:4px 8px;text-align:left;vertical-align:top}"
    "th a{color:inherit}td.n,th.n{text-align:right}tr.n1{background:#fff4e5}"
    "pre{margin:0;white-space:pre-wrap;font:12px/1.4 ui-monospace,monospace}"
    ".finding{background:#fff4e5;border-left:4px solid #f90;padding:8px 12px;margin:8px 0}"
    ".fix{background:#eaf7ea;border-left:4px solid #2a2;padding:4px 8px;display:block;"
    "font:12px ui-monospace,monospace}.plan{background:#eef3ff;padding:6px;margin-top:4px}"
    ".muted{color:#6a737d}h2{font-size:16px;margin:18px 0 6px}"
    "button,select,input{font:inherit}";

static const char js[] =
    "document.querySelectorAll('form.explain').forEach(function(f){"
    "f.addEventListener('submit',function(e){e.preventDefault();"
    "var out=f.parentNode.querySelector('.plan');"
    "fetch(f.action+(f.action.indexOf('?')<0?'?':'&')+'fragment=1',{credentials:'same-origin'})"
    ".then(function(r){return r.text()}).then(function(t){out.textContent=t;out.hidden=false})})});"
    "var rs=document.getElementById('route');if(rs)rs.addEventListener('change',function(){"
    "rs.form.submit()});";

bool corm__is_loopback(const char *addr)
{
    if (!addr || !*addr || strcmp(addr, "unix") == 0) return true; /* a unix socket */
    if (strncmp(addr, "127.", 4) == 0) return true;
    if (strcmp(addr, "::1") == 0) return true;
    if (strncmp(addr, "::ffff:127.", 11) == 0) return true;
    return false;
}

static bool same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* The token of a "corm_token=..." cookie, into out. */
static bool cookie_token(const char *cookie, char *out, size_t size)
{
    const char *p = cookie ? strstr(cookie, "corm_token=") : NULL;
    if (!p) return false;
    p += 11;
    size_t n = strcspn(p, "; ");
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static void respond(corm_http_response *resp, int status, const char *type, corm_buf *b)
{
    resp->status = status;
    resp->content_type = type;
    if (b->oom) {
        corm__buf_free(b);
        resp->status = 500;
        resp->content_type = "text/plain; charset=utf-8";
        resp->body = corm__strdup("corm panel: out of memory\n");
        resp->len = resp->body ? strlen(resp->body) : 0;
        return;
    }
    corm__buf_cstr(b);
    resp->body = b->p;
    resp->len = b->len;
    if (!resp->body) {
        resp->body = corm__strdup("");
        resp->len = 0;
    }
}

static void text_page(corm_http_response *resp, int status, const char *msg)
{
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, msg);
    corm__buf_addc(&b, '\n');
    respond(resp, status, "text/plain; charset=utf-8", &b);
}

static void head(corm_buf *b, const corm_inspect *ins, const char *title)
{
    corm__buf_adds(b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    corm__html(b, title);
    corm__buf_adds(b, " - corm panel</title><style>");
    corm__buf_adds(b, css);
    corm__buf_adds(b, "</style></head><body><header><b>corm panel</b><a href=\"");
    corm__html(b, ins->prefix);
    corm__buf_adds(b, "/\">Requests</a><a href=\"");
    corm__html(b, ins->prefix);
    corm__buf_adds(b, "/routes\">Routes</a><a href=\"");
    corm__html(b, ins->prefix);
    corm__buf_adds(b, "/metrics\">Metrics</a></header><main>");
}

static void tail(corm_buf *b)
{
    corm__buf_adds(b, "</main><script>");
    corm__buf_adds(b, js);
    corm__buf_adds(b, "</script></body></html>\n");
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

static sqlite3 *open_ro(const corm_inspect *ins, corm_http_response *resp)
{
    sqlite3 *db = NULL;
    if (!ins->record_path) {
        text_page(resp, 404,
                  "corm panel: the recorder is off: set corm_inspect_config.record_path to keep "
                  "requests (/metrics works without it)");
        return NULL;
    }
    /* a request that ended just before this one shows: its record is
    ** written first (the writer thread may not have reached it yet) */
    if (ins->rec) corm__recorder_flush(ins->rec);
    if (sqlite3_open_v2(ins->record_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        text_page(resp, 500, "corm panel: cannot open the recorder's file");
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    return db;
}

/* ------------------------------------------------------ request list */

static void list_page(corm_inspect *ins, const corm_http_request *rq, corm_http_response *resp)
{
    sqlite3 *db = open_ro(ins, resp);
    if (!db) return;
    char sort[16] = "time", route[512] = "";
    corm__query_get(rq->query, "sort", sort, sizeof sort);
    bool by_route = corm__query_get(rq->query, "route", route, sizeof route) && route[0];
    const char *order = "id DESC";
    if (strcmp(sort, "ms") == 0) order = "ms DESC, id DESC";
    else if (strcmp(sort, "queries") == 0) order = "nqueries DESC, id DESC";
    else if (strcmp(sort, "dups") == 0) order = "ndups DESC, id DESC";
    else if (strcmp(sort, "findings") == 0) order = "nfindings DESC, id DESC";
    else corm__strlcpy(sort, "time", sizeof sort);
    corm_buf b;
    corm__buf_init(&b);
    head(&b, ins, "Requests");
    corm__buf_adds(&b, "<h2>Requests</h2><form method=\"get\" action=\"");
    corm__html(&b, ins->prefix);
    corm__buf_adds(&b, "/\"><input type=\"hidden\" name=\"sort\" value=\"");
    corm__html(&b, sort);
    corm__buf_adds(&b, "\"><label>Route <select id=\"route\" name=\"route\"><option value=\"\">all "
                       "routes</option>");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT route FROM requests ORDER BY route", -1, &st,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            corm__buf_adds(&b, "<option value=\"");
            corm__html(&b, col(st, 0));
            corm__buf_adds(&b, strcmp(col(st, 0), route) == 0 ? "\" selected>" : "\">");
            corm__html(&b, col(st, 0));
            corm__buf_adds(&b, "</option>");
        }
    }
    sqlite3_finalize(st);
    corm__buf_adds(&b, "</select></label> <button>Filter</button></form>");
    static const char *const cols[][3] = {
        {"time", "Request", ""},     {"", "Method", ""},
        {"", "Route", ""},           {"", "Path", ""},
        {"", "Status", "n"},         {"ms", "Time (ms)", "n"},
        {"", "DB (ms)", "n"},        {"queries", "Queries", "n"},
        {"dups", "Duplicates", "n"}, {"findings", "Findings", "n"}};
    corm__buf_adds(&b, "<table id=\"requests\"><thead><tr>");
    for (size_t i = 0; i < CORM__ARRAY_LEN(cols); i++) {
        corm__buf_addf(&b, "<th class=\"%s\">", cols[i][2]);
        if (cols[i][0][0]) {
            corm__buf_addf(&b, "<a class=\"sort\" data-sort=\"%s\" href=\"?sort=%s", cols[i][0],
                           cols[i][0]);
            if (by_route) {
                corm__buf_adds(&b, "&amp;route=");
                corm_buf enc;
                corm__buf_init(&enc);
                corm__url_encode(&enc, route);
                corm__html(&b, corm__buf_cstr(&enc));
                corm__buf_free(&enc);
            }
            corm__buf_addf(&b, "\">%s%s</a>", cols[i][1],
                           strcmp(sort, cols[i][0]) == 0 ? " &#9660;" : "");
        } else {
            corm__buf_adds(&b, cols[i][1]);
        }
        corm__buf_adds(&b, "</th>");
    }
    corm__buf_adds(&b, "</tr></thead><tbody>");
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT id, started, method, route, path, status, ms, db_ms, nqueries, ndups, "
             "nfindings, nplusone FROM requests %s ORDER BY %s LIMIT 500",
             by_route ? "WHERE route = ?1" : "", order);
    st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (by_route) sqlite3_bind_text(st, 1, route, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            n++;
            long long id = sqlite3_column_int64(st, 0);
            time_t t = (time_t)sqlite3_column_double(st, 1);
            struct tm tm;
            char when[32];
            strftime(when, sizeof when, "%H:%M:%S", localtime_r(&t, &tm));
            corm__buf_addf(&b, "<tr class=\"req%s\" data-id=\"%lld\"><td><a href=\"",
                           sqlite3_column_int64(st, 11) ? " n1" : "", id);
            corm__html(&b, ins->prefix);
            corm__buf_addf(&b, "/request/%lld\">#%lld</a> <span class=\"muted\">%s</span></td><td>",
                           id, id, when);
            corm__html(&b, col(st, 2));
            corm__buf_adds(&b, "</td><td class=\"route\">");
            corm__html(&b, col(st, 3));
            corm__buf_adds(&b, "</td><td>");
            corm__html(&b, col(st, 4));
            corm__buf_addf(&b,
                           "</td><td class=\"n\">%d</td><td class=\"n ms\">%.2f</td><td "
                           "class=\"n\">%.2f</td><td class=\"n queries\">%lld</td><td "
                           "class=\"n dups\">%lld</td><td class=\"n\">%lld</td></tr>",
                           sqlite3_column_int(st, 5), sqlite3_column_double(st, 6),
                           sqlite3_column_double(st, 7), sqlite3_column_int64(st, 8),
                           sqlite3_column_int64(st, 9), sqlite3_column_int64(st, 10));
        }
    }
    sqlite3_finalize(st);
    corm__buf_adds(&b, "</tbody></table>");
    if (!n) corm__buf_adds(&b, "<p class=\"muted\">No request recorded yet.</p>");
    tail(&b);
    sqlite3_close(db);
    respond(resp, 200, "text/html; charset=utf-8", &b);
}

/* ---------------------------------------------------------- request */

typedef struct qrow {
    int seq;
    char *sql, *params, *kind, *origin, *site, *built, *fp, *dupkey;
    double ms;
    long long rows;
    bool redacted;
} qrow;

static bool explainable(const char *sql, const char *kind)
{
    static const char *const writes[] = {"insert",      "update",  "delete",   "exec",
                                         "transaction", "migrate", "snapshot", "explain"};
    for (size_t i = 0; i < CORM__ARRAY_LEN(writes); i++)
        if (strcmp(kind, writes[i]) == 0) return false;
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(') sql++;
    if (strncasecmp(sql, "SELECT", 6) != 0) return false;
    /* one statement: no ';' outside quotes */
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote) quote = 0;
        } else if (*p == '\'' || *p == '"') quote = *p;
        else if (*p == ';') return false;
    }
    return true;
}

static void finding_html(corm_buf *b, sqlite3_stmt *st)
{
    /* kind, model, relation, count, ms, site, built, sql, fix, message */
    corm__buf_adds(b, "<div class=\"finding\" data-kind=\"");
    corm__html(b, col(st, 0));
    corm__buf_adds(b, "\"><b>");
    corm__html(b, col(st, 0));
    corm__buf_adds(b, "</b>: ");
    corm__html(b, col(st, 9));
    corm__buf_addf(b, " <span class=\"muted\">(%lld queries, %.2f ms)</span>",
                   sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4));
    if (*col(st, 8)) {
        corm__buf_adds(b, "<div>Fix:</div><code class=\"fix\">");
        corm__html(b, col(st, 8));
        corm__buf_adds(b, "</code>");
    }
    corm__buf_adds(b, "<div>Access at <code class=\"site\">");
    corm__html(b, *col(st, 5) ? col(st, 5) : "?");
    corm__buf_adds(b, "</code>");
    if (*col(st, 6)) {
        corm__buf_adds(b, "; queryset built at <code class=\"built\">");
        corm__html(b, col(st, 6));
        corm__buf_adds(b, "</code>");
    }
    corm__buf_adds(b, "</div>");
    if (*col(st, 7)) {
        corm__buf_adds(b, "<details><summary>one statement of the group</summary><pre>");
        corm__html_sql(b, col(st, 7));
        corm__buf_adds(b, "</pre></details>");
    }
    corm__buf_adds(b, "</div>");
}

static void query_cells(corm_buf *b, const corm_inspect *ins, long long id, const qrow *q,
                        bool explain)
{
    corm__buf_addf(b,
                   "<td class=\"n\">%d</td><td class=\"n\">%.3f</td><td class=\"n\">%lld</td><td>",
                   q->seq, q->ms, q->rows);
    corm__html(b, q->origin);
    corm__buf_adds(b, "</td><td><pre class=\"sql\">");
    corm__html_sql(b, q->sql);
    corm__buf_adds(b, "</pre>");
    if (q->params[0]) {
        corm__buf_adds(b, "<div class=\"muted params\">params: ");
        corm__html(b, q->params);
        if (q->redacted) corm__buf_adds(b, " (redacted)");
        corm__buf_adds(b, "</div>");
    }
    if (explain && explainable(q->sql, q->kind)) {
        corm__buf_adds(b, "<form class=\"explain\" method=\"get\" action=\"");
        corm__html(b, ins->prefix);
        corm__buf_addf(b,
                       "/explain/%lld/%d\"><button>EXPLAIN</button></form>"
                       "<pre class=\"plan\" hidden></pre>",
                       id, q->seq);
    }
    corm__buf_adds(b, "</td><td><code>");
    corm__html(b, q->site ? q->site : "");
    corm__buf_adds(b, "</code></td>");
}

static char *sdup(const char *s) { return corm__strdup(s ? s : ""); }

static void request_page(corm_inspect *ins, long long id, corm_http_response *resp)
{
    sqlite3 *db = open_ro(ins, resp);
    if (!db) return;
    sqlite3_stmt *st = NULL;
    corm_buf b;
    corm__buf_init(&b);
    if (sqlite3_prepare_v2(db,
                           "SELECT method, route, path, status, ms, db_ms, nqueries, ndups, "
                           "nsimilar, nfindings FROM requests WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK ||
        (sqlite3_bind_int64(st, 1, id), sqlite3_step(st)) != SQLITE_ROW) {
        sqlite3_finalize(st);
        sqlite3_close(db);
        char msg[200];
        snprintf(msg, sizeof msg,
                 "corm panel: no request #%lld in the recorder (never sampled, or past the "
                 "retention limit)",
                 id);
        text_page(resp, 404, msg);
        return;
    }
    char title[64];
    snprintf(title, sizeof title, "Request #%lld", id);
    head(&b, ins, title);
    corm__buf_addf(&b, "<h2 id=\"title\">Request #%lld: ", id);
    corm__html(&b, col(st, 0));
    corm__buf_adds(&b, " ");
    corm__html(&b, col(st, 2));
    corm__buf_adds(&b, "</h2><p>Route <code>");
    corm__html(&b, col(st, 1));
    corm__buf_addf(&b,
                   "</code>, status %d, %.2f ms (database %.2f ms), <b id=\"nqueries\">%lld "
                   "queries</b>, %lld duplicate, %lld similar, %lld finding(s).</p>",
                   sqlite3_column_int(st, 3), sqlite3_column_double(st, 4),
                   sqlite3_column_double(st, 5), sqlite3_column_int64(st, 6),
                   sqlite3_column_int64(st, 7), sqlite3_column_int64(st, 8),
                   sqlite3_column_int64(st, 9));
    sqlite3_finalize(st);

    /* findings */
    corm__buf_adds(&b, "<h2>Findings</h2><div id=\"findings\">");
    int nf = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT kind, model, relation, count, ms, site, built, sql, fix, "
                           "message FROM findings WHERE request_id = ? ORDER BY seq",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            finding_html(&b, st);
            nf++;
        }
    }
    sqlite3_finalize(st);
    if (!nf) corm__buf_adds(&b, "<p class=\"muted\">None: no N+1, no duplicate.</p>");
    corm__buf_adds(&b, "</div>");

    /* the statements */
    qrow *q = NULL;
    size_t nq = 0, capq = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, sql, params, kind, origin, site, built, fingerprint, "
                           "dupkey, ms, rows, redacted FROM queries WHERE request_id = ? ORDER "
                           "BY seq",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (nq == capq) {
                size_t cap = capq ? capq * 2 : 64;
                qrow *n = corm__realloc(q, cap * sizeof *n);
                if (!n) break;
                q = n;
                capq = cap;
            }
            qrow *r = &q[nq++];
            r->seq = sqlite3_column_int(st, 0);
            r->sql = sdup(col(st, 1));
            r->params = sdup(col(st, 2));
            r->kind = sdup(col(st, 3));
            r->origin = sdup(col(st, 4));
            r->site = sdup(col(st, 5));
            r->built = sdup(col(st, 6));
            r->fp = sdup(col(st, 7));
            r->dupkey = sdup(col(st, 8));
            r->ms = sqlite3_column_double(st, 9);
            r->rows = sqlite3_column_int64(st, 10);
            r->redacted = sqlite3_column_int(st, 11) != 0;
            if (!r->sql || !r->params || !r->kind || !r->origin || !r->site || !r->built ||
                !r->fp || !r->dupkey)
                b.oom = true;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    bool explain = ins->explain_pool != NULL;

    /* the slowest */
    if (nq && !b.oom) {
        corm__buf_adds(&b, "<h2>Slowest statements</h2><table id=\"slowest\"><tr><th>#</th><th "
                           "class=\"n\">ms</th><th class=\"n\">rows</th><th>origin</th><th>SQL</"
                           "th><th>call site</th></tr>");
        bool *used = corm__calloc(nq, sizeof *used);
        for (int k = 0; used && k < 5 && (size_t)k < nq; k++) {
            size_t best = nq;
            for (size_t i = 0; i < nq; i++)
                if (!used[i] && (best == nq || q[i].ms > q[best].ms)) best = i;
            used[best] = true;
            corm__buf_adds(&b, "<tr>");
            query_cells(&b, ins, id, &q[best], false);
            corm__buf_adds(&b, "</tr>");
        }
        corm__free(used);
        corm__buf_adds(&b, "</table>");
    }

    /* duplicates and similar, grouped */
    corm__buf_adds(&b, "<h2>Duplicates and similar</h2><table id=\"groups\"><tr><th>kind</th><th "
                       "class=\"n\">count</th><th>SQL</th><th>call sites</th></tr>");
    int ngroups = 0;
    for (size_t i = 0; i < nq; i++) {
        bool first_fp = true, first_dk = true;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(q[j].fp, q[i].fp) == 0) first_fp = false;
            if (strcmp(q[j].dupkey, q[i].dupkey) == 0 && strcmp(q[j].fp, q[i].fp) == 0)
                first_dk = false;
        }
        if (!first_fp && !first_dk) continue;
        size_t same_fp = 0, same_dk = 0;
        for (size_t j = i; j < nq; j++) {
            if (strcmp(q[j].fp, q[i].fp) != 0) continue;
            same_fp++;
            if (strcmp(q[j].dupkey, q[i].dupkey) == 0) same_dk++;
        }
        for (int kind = 0; kind < 2; kind++) {
            /* kind 0: the same statement and values again; 1: the same
            ** statement with other values */
            bool dup = kind == 0;
            if (dup ? !(first_dk && same_dk > 1) : !(first_fp && same_fp > 1 && same_dk < same_fp))
                continue;
            const char *what = dup ? "duplicate" : "similar";
            ngroups++;
            corm__buf_addf(&b,
                           "<tr class=\"group %s\"><td>%s</td><td class=\"n\">%zu</td><td><pre>",
                           what, what, dup ? same_dk : same_fp);
            corm__html_sql(&b, q[i].sql);
            corm__buf_adds(&b, "</pre></td><td>");
            /* the distinct call sites of the group */
            for (size_t j = i; j < nq; j++) {
                if (strcmp(q[j].fp, q[i].fp) != 0) continue;
                if (dup && strcmp(q[j].dupkey, q[i].dupkey) != 0) continue;
                bool seen = false;
                for (size_t k = i; k < j && !seen; k++)
                    seen = strcmp(q[k].fp, q[i].fp) == 0 && strcmp(q[k].site, q[j].site) == 0;
                if (seen) continue;
                corm__buf_adds(&b, "<code>");
                corm__html(&b, q[j].site);
                corm__buf_adds(&b, "</code><br>");
            }
            corm__buf_adds(&b, "</td></tr>");
        }
    }
    corm__buf_adds(&b, "</table>");
    if (!ngroups) corm__buf_adds(&b, "<p class=\"muted\">No statement repeats.</p>");

    corm__buf_adds(&b, "<h2>Statements in order</h2><table id=\"queries\"><tr><th>#</th><th "
                       "class=\"n\">ms</th><th class=\"n\">rows</th><th>origin</th><th>SQL</"
                       "th><th>call site</th></tr>");
    for (size_t i = 0; i < nq; i++) {
        corm__buf_addf(&b, "<tr class=\"query\" data-seq=\"%d\">", q[i].seq);
        query_cells(&b, ins, id, &q[i], explain);
        corm__buf_adds(&b, "</tr>");
    }
    corm__buf_adds(&b, "</table>");
    for (size_t i = 0; i < nq; i++) {
        corm__free(q[i].sql);
        corm__free(q[i].params);
        corm__free(q[i].kind);
        corm__free(q[i].origin);
        corm__free(q[i].site);
        corm__free(q[i].built);
        corm__free(q[i].fp);
        corm__free(q[i].dupkey);
    }
    corm__free(q);
    tail(&b);
    respond(resp, 200, "text/html; charset=utf-8", &b);
}

/* ---------------------------------------------------------- explain */

#define MAX_BINDS 256

static void explain_page(corm_inspect *ins, const corm_http_request *rq, long long id, int seq,
                         corm_http_response *resp)
{
    sqlite3 *rdb = open_ro(ins, resp);
    if (!rdb) return;
    sqlite3_stmt *st = NULL;
    char *sql = NULL, *binds = NULL, *kind = NULL;
    bool redacted = false;
    if (sqlite3_prepare_v2(rdb,
                           "SELECT sql, binds, kind, redacted FROM queries WHERE request_id = ? "
                           "AND seq = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, seq);
        if (sqlite3_step(st) == SQLITE_ROW) {
            sql = sdup(col(st, 0));
            binds = sdup(col(st, 1));
            kind = sdup(col(st, 2));
            redacted = sqlite3_column_int(st, 3) != 0;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(rdb);
    char msg[512];
    corm_buf plan;
    corm__buf_init(&plan);
    int status = 200;
    corm_pool *pool;
    pthread_mutex_lock(&ins->mu);
    pool = ins->explain_pool;
    pthread_mutex_unlock(&ins->mu);
    char analyze_arg[8] = "";
    corm__query_get(rq->query, "analyze", analyze_arg, sizeof analyze_arg);
    bool analyze = analyze_arg[0] == '1';
    if (!sql || !binds || !kind) {
        status = 404;
        snprintf(msg, sizeof msg, "no statement %d in request #%lld of the recorder", seq, id);
        corm__buf_adds(&plan, msg);
    } else if (!explainable(sql, kind)) {
        status = 403;
        snprintf(msg, sizeof msg,
                 "EXPLAIN refused: statement %d of request #%lld is not a SELECT (it is a %s "
                 "statement); EXPLAIN runs only on recorded SELECTs, never on writes",
                 seq, id, kind);
        corm__buf_adds(&plan, msg);
    } else if (!pool) {
        status = 503;
        corm__buf_adds(&plan, "EXPLAIN is off: give the panel a pool (corm_inspect_config."
                              "explain_pool or corm_inspect_set_explain_pool)");
    } else if (analyze && !ins->cfg.explain_analyze) {
        status = 403;
        corm__buf_adds(&plan, "EXPLAIN ANALYZE runs the statement: allow it with "
                              "corm_inspect_config.explain_analyze");
    } else {
        corm_value vals[MAX_BINDS];
        int n = corm__binds_decode(binds, vals, MAX_BINDS);
        corm_error err;
        corm_db *db = n < 0 ? NULL : corm_pool_acquire(pool, 2000, &err);
        if (!db) {
            status = 503;
            corm__buf_adds(&plan, n < 0 ? "the recorded parameters cannot be read back"
                                        : "no connection free for EXPLAIN: try again");
        } else {
            bool pg = strcmp(corm_db_vendor(db), "postgresql") == 0;
            corm_buf q;
            corm__buf_init(&q);
            corm__buf_adds(&q, pg ? (analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ")
                                  : "EXPLAIN QUERY PLAN ");
            corm__buf_adds(&q, sql);
            corm_rc rc = corm_begin(db);
            if (rc == CORM_OK && pg) {
                char to[80];
                snprintf(to, sizeof to, "SET LOCAL statement_timeout = %d",
                         ins->cfg.explain_timeout_ms > 0 ? ins->cfg.explain_timeout_ms : 2000);
                rc = corm_exec_at(db, to, CORM_SITE);
            }
            corm_qs *qs = NULL;
            if (rc == CORM_OK && !q.oom) {
                qs = corm_raw_at(db, NULL, corm__buf_cstr(&q), vals, n, CORM_SITE);
                rc = qs ? corm_eval_at(qs, CORM_SITE) : CORM_NOMEM;
            }
            if (rc == CORM_OK) {
                int c = pg ? 0 : corm_qs_colindex(qs, "detail");
                if (c < 0) c = (int)corm_qs_ncols(qs) - 1;
                for (size_t r = 0; r < corm_qs_len(qs); r++) {
                    const corm_value *v = corm_qs_cell(qs, r, (size_t)c);
                    if (v && v->type == CORM_V_TEXT)
                        corm__buf_add(&plan, v->u.s.p,
                                      v->u.s.n == (size_t)-1 ? strlen(v->u.s.p) : v->u.s.n);
                    corm__buf_addc(&plan, '\n');
                }
                if (redacted)
                    corm__buf_adds(&plan, "(parameters were redacted: they were bound as NULL)\n");
            } else {
                status = 500;
                const corm_error *e = qs ? corm_qs_error(qs) : corm_db_error(db);
                corm__buf_addf(&plan, "EXPLAIN failed: %s",
                               e && e->message[0] ? e->message : corm_rc_str(rc));
            }
            corm_qs_free(qs);
            corm__buf_free(&q);
            if (corm_tx_depth(db) > 0 && corm_rollback(db) != CORM_OK) status = 500;
            corm_pool_release(pool, db);
        }
    }
    corm__free(sql);
    corm__free(binds);
    corm__free(kind);
    char frag[8] = "";
    if (corm__query_get(rq->query, "fragment", frag, sizeof frag)) {
        respond(resp, status, "text/plain; charset=utf-8", &plan);
        return;
    }
    corm_buf b;
    corm__buf_init(&b);
    head(&b, ins, "EXPLAIN");
    corm__buf_addf(&b, "<h2>EXPLAIN of statement %d of <a href=\"", seq);
    corm__html(&b, ins->prefix);
    corm__buf_addf(&b, "/request/%lld\">request #%lld</a></h2><pre id=\"plan\" class=\"plan\">", id,
                   id);
    corm__html(&b, corm__buf_cstr(&plan));
    corm__buf_adds(&b, "</pre>");
    corm__buf_free(&plan);
    tail(&b);
    respond(resp, status, "text/html; charset=utf-8", &b);
}

/* ----------------------------------------------------------- routes */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    if (!n) return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

static void route_row(corm_buf *b, const char *route, double *ms, size_t n, double queries,
                      long long worst)
{
    qsort(ms, n, sizeof *ms, cmp_double);
    corm__buf_adds(b, "<tr><td class=\"route\">");
    corm__html(b, route);
    corm__buf_addf(b,
                   "</td><td class=\"n\">%zu</td><td class=\"n\">%.2f</td><td class=\"n\">%.2f</"
                   "td><td class=\"n\">%.1f</td><td class=\"n\">%lld</td></tr>",
                   n, pct(ms, n, 50), pct(ms, n, 95), n ? queries / (double)n : 0, worst);
}

static void routes_page(corm_inspect *ins, corm_http_response *resp)
{
    sqlite3 *db = open_ro(ins, resp);
    if (!db) return;
    corm_buf b;
    corm__buf_init(&b);
    head(&b, ins, "Routes");
    corm__buf_adds(&b, "<h2>Routes (recorded requests)</h2><table id=\"routes\"><tr><th>route</"
                       "th><th class=\"n\">requests</th><th class=\"n\">p50 ms</th><th "
                       "class=\"n\">p95 ms</th><th class=\"n\">queries / request</th><th "
                       "class=\"n\">worst N+1</th></tr>");
    sqlite3_stmt *st = NULL;
    double *ms = NULL;
    size_t n = 0, cap = 0;
    char *cur = NULL;
    double queries = 0;
    long long worst = 0;
    if (sqlite3_prepare_v2(db, "SELECT route, ms, nqueries, worst_n1 FROM requests ORDER BY route",
                           -1, &st, NULL) == SQLITE_OK) {
        for (;;) {
            int rc = sqlite3_step(st);
            const char *route = rc == SQLITE_ROW ? col(st, 0) : NULL;
            if (cur && (!route || strcmp(route, cur) != 0)) {
                route_row(&b, cur, ms, n, queries, worst);
                corm__free(cur);
                cur = NULL;
                n = 0;
                queries = 0;
                worst = 0;
            }
            if (!route) break;
            if (!cur && !(cur = corm__strdup(route))) break;
            if (n == cap) {
                size_t c = cap ? cap * 2 : 256;
                double *m = corm__realloc(ms, c * sizeof *m);
                if (!m) break;
                ms = m;
                cap = c;
            }
            ms[n++] = sqlite3_column_double(st, 1);
            queries += (double)sqlite3_column_int64(st, 2);
            if (sqlite3_column_int64(st, 3) > worst) worst = sqlite3_column_int64(st, 3);
        }
    }
    corm__free(cur);
    corm__free(ms);
    sqlite3_finalize(st);
    sqlite3_close(db);
    corm__buf_adds(&b, "</table>");
    tail(&b);
    respond(resp, 200, "text/html; charset=utf-8", &b);
}

/* ----------------------------------------------------------- handler */

static void metrics_page(corm_inspect *ins, corm_http_response *resp)
{
    size_t n = corm_inspect_metrics(ins, NULL, 0);
    corm_buf b;
    corm__buf_init(&b);
    char *p = corm__malloc(n + 1);
    if (p) {
        corm_inspect_metrics(ins, p, n + 1);
        corm__buf_add(&b, p, n);
        corm__free(p);
    } else b.oom = true;
    respond(resp, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

bool corm_panel_handle(corm_inspect *ins, const corm_http_request *rq, corm_http_response *resp)
{
    if (!ins || !rq || !rq->path || !resp) return false;
    const char *path = rq->path;
    size_t pl = strlen(ins->prefix);
    bool metrics_root = strcmp(path, "/metrics") == 0;
    bool ours = strncmp(path, ins->prefix, pl) == 0 && (path[pl] == '\0' || path[pl] == '/');
    if (!ours && !metrics_root) return false;
    memset(resp, 0, sizeof *resp);

    char tok[128] = "";
    bool allowed = corm__is_loopback(rq->remote);
    bool from_query = false;
    if (!allowed && ins->token) {
        if (rq->token && same(rq->token, ins->token)) allowed = true;
        else if (cookie_token(rq->cookie, tok, sizeof tok) && same(tok, ins->token)) allowed = true;
        else if (corm__query_get(rq->query, "token", tok, sizeof tok) && same(tok, ins->token))
            allowed = from_query = true;
    }
    if (!allowed) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 ins->token ? "corm panel: forbidden: %s is not a loopback address; send the "
                              "panel's token (header X-Corm-Token, or ?token=)"
                            : "corm panel: forbidden: %s is not a loopback address, and the "
                              "panel serves only loopback clients unless it has a token "
                              "(corm_inspect_config.token)",
                 rq->remote);
        text_page(resp, 403, msg);
        return true;
    }
    if (from_query)
        snprintf(resp->set_cookie, sizeof resp->set_cookie,
                 "corm_token=%.80s; Path=/; HttpOnly; SameSite=Strict", ins->token);
    if (rq->method && strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        text_page(resp, 405, "corm panel: only GET: the panel never changes anything");
        return true;
    }
    const char *rest = metrics_root ? "/metrics" : path + pl;
    long long id = 0;
    int seq = 0, used = 0;
    if (rest[0] == '\0' || strcmp(rest, "/") == 0) list_page(ins, rq, resp);
    else if (strcmp(rest, "/metrics") == 0) metrics_page(ins, resp);
    else if (strcmp(rest, "/routes") == 0) routes_page(ins, resp);
    else if (sscanf(rest, "/request/%lld%n", &id, &used) == 1 && rest[used] == '\0')
        request_page(ins, id, resp);
    else if (sscanf(rest, "/explain/%lld/%d%n", &id, &seq, &used) == 2 && rest[used] == '\0')
        explain_page(ins, rq, id, seq, resp);
    else text_page(resp, 404, "corm panel: no such page (try the request list)");
    return true;
}

void corm_http_response_free(corm_http_response *resp)
{
    if (!resp) return;
    corm__free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

/* ----------------------------------------------------------- metrics */

static void label(corm_buf *b, const char *s)
{
    corm__buf_addc(b, '"');
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"') corm__buf_addc(b, '\\');
        if (*s == '\n') corm__buf_adds(b, "\\n");
        else corm__buf_addc(b, *s);
    }
    corm__buf_addc(b, '"');
}

size_t corm_inspect_metrics(corm_inspect *ins, char *buf, size_t size)
{
    corm_buf b;
    corm__buf_init(&b);
    if (ins) {
        pthread_mutex_lock(&ins->mu);
        corm__buf_adds(&b, "# HELP corm_http_requests_total Requests ended, by route.\n"
                           "# TYPE corm_http_requests_total counter\n");
        for (size_t i = 0; i < ins->nroutes; i++) {
            corm__buf_adds(&b, "corm_http_requests_total{route=");
            label(&b, ins->routes[i].route);
            corm__buf_addf(&b, "} %llu\n", (unsigned long long)ins->routes[i].requests);
        }
        corm__buf_adds(&b, "# HELP corm_http_request_duration_seconds Request time, by route.\n"
                           "# TYPE corm_http_request_duration_seconds histogram\n");
        for (size_t i = 0; i < ins->nroutes; i++) {
            const corm__route *r = &ins->routes[i];
            uint64_t cum = 0;
            for (int k = 0; k <= CORM__NHMS; k++) {
                cum += r->hms[k];
                corm__buf_adds(&b, "corm_http_request_duration_seconds_bucket{route=");
                label(&b, r->route);
                if (k < CORM__NHMS)
                    corm__buf_addf(&b, ",le=\"%g\"} %llu\n", corm__hms_le[k] / 1000,
                                   (unsigned long long)cum);
                else corm__buf_addf(&b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
            }
            corm__buf_adds(&b, "corm_http_request_duration_seconds_sum{route=");
            label(&b, r->route);
            corm__buf_addf(&b,
                           "} %.6f\ncorm_http_request_duration_seconds_count{route=", r->ms / 1000);
            label(&b, r->route);
            corm__buf_addf(&b, "} %llu\n", (unsigned long long)r->requests);
        }
        corm__buf_adds(&b, "# HELP corm_http_request_queries Statements per request, by route.\n"
                           "# TYPE corm_http_request_queries histogram\n");
        for (size_t i = 0; i < ins->nroutes; i++) {
            const corm__route *r = &ins->routes[i];
            uint64_t cum = 0;
            for (int k = 0; k <= CORM__NHQ; k++) {
                cum += r->hq[k];
                corm__buf_adds(&b, "corm_http_request_queries_bucket{route=");
                label(&b, r->route);
                if (k < CORM__NHQ)
                    corm__buf_addf(&b, ",le=\"%g\"} %llu\n", corm__hq_le[k],
                                   (unsigned long long)cum);
                else corm__buf_addf(&b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
            }
            corm__buf_adds(&b, "corm_http_request_queries_sum{route=");
            label(&b, r->route);
            corm__buf_addf(&b, "} %llu\ncorm_http_request_queries_count{route=",
                           (unsigned long long)r->queries);
            label(&b, r->route);
            corm__buf_addf(&b, "} %llu\n", (unsigned long long)r->requests);
        }
        corm__buf_adds(&b, "# HELP corm_http_request_findings_total N+1 detector findings in "
                           "requests, by route (n_plus_one: of them N+1).\n"
                           "# TYPE corm_http_request_findings_total counter\n");
        for (size_t i = 0; i < ins->nroutes; i++) {
            corm__buf_adds(&b, "corm_http_request_findings_total{route=");
            label(&b, ins->routes[i].route);
            corm__buf_addf(&b, ",kind=\"all\"} %llu\ncorm_http_request_findings_total{route=",
                           (unsigned long long)ins->routes[i].findings);
            label(&b, ins->routes[i].route);
            corm__buf_addf(&b, ",kind=\"n_plus_one\"} %llu\n",
                           (unsigned long long)ins->routes[i].nplusone);
        }
        corm__buf_adds(&b, "# HELP corm_request_statements_total Statements run in requests, by "
                           "SQL fingerprint.\n# TYPE corm_request_statements_total counter\n");
        for (size_t i = 0; i < ins->nfps; i++) {
            corm__buf_addf(&b, "corm_request_statements_total{fingerprint=\"%016llx\",sql=",
                           (unsigned long long)ins->fps[i].fp);
            label(&b, ins->fps[i].sql);
            corm__buf_addf(&b, "} %llu\n", (unsigned long long)ins->fps[i].calls);
        }
        corm__buf_adds(&b, "# HELP corm_request_statement_seconds_total Time of statements run "
                           "in requests, by SQL fingerprint.\n"
                           "# TYPE corm_request_statement_seconds_total counter\n");
        for (size_t i = 0; i < ins->nfps; i++) {
            corm__buf_addf(&b,
                           "corm_request_statement_seconds_total{fingerprint=\"%016llx\"} %.6f\n",
                           (unsigned long long)ins->fps[i].fp, ins->fps[i].ms / 1000);
        }
        corm__buf_addf(&b,
                       "# HELP corm_http_slow_requests_total Middleware warning lines.\n"
                       "# TYPE corm_http_slow_requests_total counter\n"
                       "corm_http_slow_requests_total %llu\n",
                       (unsigned long long)ins->nwarn);
        pthread_mutex_unlock(&ins->mu);
        if (ins->rec) {
            uint64_t rec, drop, fail;
            corm__recorder_counts(ins->rec, &rec, &drop, &fail);
            corm__buf_addf(&b,
                           "# HELP corm_recorder_requests_total Sampled requests, by fate.\n"
                           "# TYPE corm_recorder_requests_total counter\n"
                           "corm_recorder_requests_total{fate=\"recorded\"} %llu\n"
                           "corm_recorder_requests_total{fate=\"dropped\"} %llu\n"
                           "corm_recorder_requests_total{fate=\"failed\"} %llu\n",
                           (unsigned long long)rec, (unsigned long long)drop,
                           (unsigned long long)fail);
        }
    }
    size_t len = b.oom ? 0 : b.len;
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        if (n) memcpy(buf, b.p, n);
        buf[n] = '\0';
    }
    corm__buf_free(&b);
    return len;
}
