/*
** corm/inspect_mhd.h - the request scope and the panel for libmicrohttpd
** (Debian's libmicrohttpd-dev).  A header of static functions: include it
** after <microhttpd.h> in the file that has your access handler; libcorm
** itself does not link libmicrohttpd.
**
**     static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
**             const char *url, const char *method, ...)
**     {
**         enum MHD_Result ret;
**         if (corm_mhd_panel(ins, c, url, method, &ret)) return ret; // /__corm/, /metrics
**         corm_request *req = corm_request_begin(ins, method, "/books", url);
**         corm_db *db = corm_request_acquire(req, pool, -1, &err);
**         ... your page, into html ...
**         corm_request_release(req, pool, db);
**         ret = corm_mhd_respond(req, c, 200, "text/html; charset=utf-8", html, len);
**         corm_request_free(req);
**         return ret;
**     }
**
** Threads: as libmicrohttpd calls the handler (any of its modes).
*/
#ifndef CORM_INSPECT_MHD_H
#define CORM_INSPECT_MHD_H

#include <corm.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The client's address as text ("127.0.0.1", "::1"; "" for a unix socket). */
static inline void corm_mhd_client(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

typedef struct corm__mhd_q {
    char *p;
    size_t len, size;
} corm__mhd_q;

static inline void corm__mhd_qadd(corm__mhd_q *q, const char *s, bool enc)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s && q->len + 4 < q->size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!enc || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
            (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_' || ch == '.' || ch == '/') {
            q->p[q->len++] = (char)ch;
        } else {
            q->p[q->len++] = '%';
            q->p[q->len++] = hex[ch >> 4];
            q->p[q->len++] = hex[ch & 15];
        }
    }
    q->p[q->len] = '\0';
}

static inline enum MHD_Result corm__mhd_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                            const char *value)
{
    corm__mhd_q *q = (corm__mhd_q *)cls;
    (void)kind;
    if (q->len) corm__mhd_qadd(q, "&", false);
    corm__mhd_qadd(q, key, true);
    if (value) {
        corm__mhd_qadd(q, "=", false);
        corm__mhd_qadd(q, value, true);
    }
    return MHD_YES;
}

/*
** corm_mhd_panel(ins, c, url, method, &ret) - serve the panel (and
** /metrics) when url is one of its pages: true with *ret set, else false.
*/
static inline bool corm_mhd_panel(corm_inspect *ins, struct MHD_Connection *c, const char *url,
                                  const char *method, enum MHD_Result *ret)
{
    char addr[64], query[2048];
    corm__mhd_q q = {query, 0, sizeof query};
    query[0] = '\0';
    corm_mhd_client(c, addr, sizeof addr);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, corm__mhd_arg, &q);
    corm_http_request rq = {method,
                            url,
                            query,
                            addr,
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Corm-Token"),
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie")};
    corm_http_response resp;
    if (!corm_panel_handle(ins, &rq, &resp)) return false;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp.len, resp.body, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        corm_http_response_free(&resp);
        *ret = MHD_NO;
        return true;
    }
    MHD_add_response_header(r, "Content-Type", resp.content_type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp.set_cookie[0]) MHD_add_response_header(r, "Set-Cookie", resp.set_cookie);
    *ret = MHD_queue_response(c, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    corm_http_response_free(&resp);
    return true;
}

/*
** corm_mhd_respond(req, c, status, type, body, len) - end req (when not
** ended) and queue the response with a Server-Timing header, the toolbar
** injected into an HTML body.  A request over a CORM_BUDGET_FAIL budget
** gets a 500 saying so instead.  Does not free req.
*/
/* As corm_mhd_respond, with more headers: headers is NULL or name, value,
** name, value, ..., NULL (an empty value is not sent); they are not sent
** on the 500 of a failed budget. */
static inline enum MHD_Result corm_mhd_respond_headers(corm_request *req, struct MHD_Connection *c,
                                                       unsigned status, const char *type,
                                                       const char *body, size_t len,
                                                       const char *const *headers)
{
    if (corm_request_end(req, (int)status) != CORM_OK) {
        const corm_error *e = corm_request_error(req);
        static char fallback[] = "corm: request failed its budget\n";
        char msg[700];
        int n = snprintf(msg, sizeof msg, "corm: %s\nhint: %s\n", e->message, e->hint);
        status = 500;
        type = "text/plain; charset=utf-8";
        body = n > 0 ? msg : fallback;
        len = strlen(body);
        struct MHD_Response *r =
            MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", type);
        const char *st = corm_request_server_timing(req);
        if (st) MHD_add_response_header(r, "Server-Timing", st);
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (type && strncmp(type, "text/html", 9) == 0) {
        size_t n = 0;
        const char *page = corm_request_inject(req, body, len, &n);
        if (page) body = page, len = n;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (type) MHD_add_response_header(r, "Content-Type", type);
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        if (headers[i + 1][0]) MHD_add_response_header(r, headers[i], headers[i + 1]);
    const char *st = corm_request_server_timing(req);
    if (st) MHD_add_response_header(r, "Server-Timing", st);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static inline enum MHD_Result corm_mhd_respond(corm_request *req, struct MHD_Connection *c,
                                               unsigned status, const char *type, const char *body,
                                               size_t len)
{
    return corm_mhd_respond_headers(req, c, status, type, body, len, NULL);
}

#endif
