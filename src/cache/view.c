/*
** view.c - the per-view cache (include/corm/cache.h, corm_cache_page_get
** and corm_cache_page_store): Django's cache_page over a corm_cache.
**
** Key: "view.PREFIX.METHOD.U.V", U the first 128 bits of SHA-256(route NUL
** path NUL query) and V those of SHA-256(vary) ("-" without one), in hex,
** under the page's version.  Value: "CVP1", status (2 bytes), stored at
** (8, Unix seconds), max-age (8, seconds), content type length (2), the
** content type, then the body: binary-safe, big-endian numbers.
*/
#include "cache_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAGIC "CVP1"
#define HEAD_LEN (4 + 2 + 8 + 8 + 2)

static bool is_method(const char *m, const char *want) { return m && strcmp(m, want) == 0; }

/* Checks page and rq: false with e filled (CORM_MISUSE). */
static bool check_call(corm_cache *c, const corm_cache_page *page, const corm_cache_request *rq,
                       const char *fn, corm_error *e)
{
    const char *bad = !c                  ? "the cache is NULL"
                      : !page             ? "the page is NULL"
                      : !page->route      ? "the page has no route"
                      : !rq               ? "the request is NULL"
                      : !rq->method       ? "the request has no method"
                      : !rq->path         ? "the request has no path"
                      : page->version < 0 ? "the page's version is negative"
                                          : NULL;
    if (bad) {
        corm__err_set(e, CORM_MISUSE, "%s: %s", fn, bad);
        return false;
    }
    if (page->per_user && (!rq->vary || !*rq->vary)) {
        corm__err_set(e, CORM_MISUSE,
                      "%s: page '%s' is marked per_user but the request for %s gives no vary key",
                      fn, page->route, rq->path);
        corm__err_hint(e, "set corm_cache_request.vary to who the page is for (the user's id or "
                          "session; \"anonymous\" for nobody): without it one user's page would "
                          "be served to every user");
        return false;
    }
    int64_t t = page->timeout_ms;
    if (t == CORM_CACHE_DEFAULT) t = corm__cache_default_timeout(c);
    if (t < 0) {
        corm__err_set(e, CORM_MISUSE, "%s: page '%s' has timeout_ms %lld", fn, page->route,
                      (long long)page->timeout_ms);
        corm__err_hint(e, page->timeout_ms == CORM_CACHE_DEFAULT
                              ? "the cache's default timeout is forever: give the page a finite "
                                "timeout_ms (a page's max-age is finite)"
                              : "a page's timeout_ms is > 0, 0 (not stored) or CORM_CACHE_DEFAULT");
        return false;
    }
    return true;
}

static int64_t page_timeout_ms(corm_cache *c, const corm_cache_page *page)
{
    return page->timeout_ms == CORM_CACHE_DEFAULT ? corm__cache_default_timeout(c)
                                                  : page->timeout_ms;
}

/* hex of the first 16 bytes of SHA-256 of n parts, each followed by a NUL */
static bool digest(const char *const *parts, int n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (int i = 0; ok && i < n; i++) {
        const char *p = parts[i] ? parts[i] : "";
        ok = EVP_DigestUpdate(ctx, p, strlen(p) + 1) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= 16;
    EVP_MD_CTX_free(ctx);
    for (int i = 0; ok && i < 16; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return ok;
}

/* The key of page for rq under method: false with e filled. */
static bool page_key(const corm_cache_page *page, const corm_cache_request *rq, const char *method,
                     char *buf, size_t size, corm_error *e)
{
    const char *url[] = {page->route, rq->path, rq->query};
    char u[33], v[33] = "-";
    bool ok = digest(url, 3, u);
    if (ok && rq->vary && *rq->vary) ok = digest(&rq->vary, 1, v);
    if (!ok) {
        corm__err_set(e, CORM_NOMEM, "the page cache could not hash its key (libcrypto)");
        return false;
    }
    int w = snprintf(buf, size, "view.%s.%s.%s.%s", page->key_prefix ? page->key_prefix : "",
                     method, u, v);
    if (w < 0 || (size_t)w >= size) {
        corm__err_set(e, CORM_INVALID, "page '%s': its key_prefix is too long", page->route);
        corm__err_hint(e, "keep a page's key_prefix under 150 bytes");
        return false;
    }
    return true;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static void http_date(int64_t t, char *buf, size_t size)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        buf[0] = 0;
        return;
    }
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Django's patch_response_headers: max-age and Expires from stored_at. */
static void fill_headers(corm_cache_headers *h, bool per_user, int64_t stored_at, int64_t max_age)
{
    snprintf(h->cache_control, sizeof h->cache_control, "max-age=%lld%s", (long long)max_age,
             per_user ? ", private" : "");
    http_date(stored_at + max_age, h->expires, sizeof h->expires);
    h->age[0] = 0;
}

/* Reads a stored page into out: false when v is not one (out untouched). */
static bool decode(const corm_cache_value *v, bool per_user, corm_cached_response *out)
{
    const unsigned char *p = v->data;
    if (v->len < HEAD_LEN || memcmp(p, MAGIC, 4) != 0) return false;
    int status = (int)get_be(p + 4, 2);
    int64_t stored_at = (int64_t)get_be(p + 6, 8), max_age = (int64_t)get_be(p + 14, 8);
    size_t tlen = (size_t)get_be(p + 22, 2);
    if (v->len - HEAD_LEN < tlen) return false;
    corm_cached_response r = {.status = status};
    r.content_type = corm__malloc(tlen + 1);
    corm_cache_value body;
    if (!r.content_type ||
        !corm__cache_value_dup(&body, p + HEAD_LEN + tlen, v->len - HEAD_LEN - tlen)) {
        corm__free(r.content_type);
        return false;
    }
    memcpy(r.content_type, p + HEAD_LEN, tlen);
    r.content_type[tlen] = 0;
    r.body = body.data;
    r.len = body.len;
    fill_headers(&r.headers, per_user, stored_at, max_age);
    int64_t age = (int64_t)time(NULL) - stored_at;
    snprintf(r.headers.age, sizeof r.headers.age, "%lld", (long long)(age > 0 ? age : 0));
    *out = r;
    return true;
}

corm_rc corm_cache_page_get(corm_cache *c, const corm_cache_page *page,
                            const corm_cache_request *rq, corm_cached_response *out,
                            corm_error *err)
{
    corm__err_clear(err);
    if (out) *out = (corm_cached_response){0};
    if (!out) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_page_get: out is NULL");
        return CORM_MISUSE;
    }
    if (!check_call(c, page, rq, "corm_cache_page_get", err)) return err ? err->rc : CORM_MISUSE;
    bool head = is_method(rq->method, "HEAD");
    if (!head && !is_method(rq->method, "GET")) return CORM_NOTFOUND;
    /* a HEAD is answered from the GET's copy first, as Django's */
    const char *methods[] = {"GET", "HEAD"};
    for (int i = 0; i < (head ? 2 : 1); i++) {
        char key[256];
        if (!page_key(page, rq, methods[i], key, sizeof key, err))
            return err ? err->rc : CORM_INVALID;
        corm_cache_value v;
        corm_rc rc = corm_cache_get_v(c, key, page->version, &v, err);
        if (rc != CORM_OK) {
            if (rc != CORM_NOTFOUND || (err && err->rc != CORM_OK)) return rc;
            continue;
        }
        bool ok = decode(&v, page->per_user, out);
        corm_cache_value_free(&v);
        if (ok) return CORM_OK;
        corm__err_set(err, CORM_NOTFOUND,
                      "page '%s': the cached value is not a page (stored by something else?)",
                      page->route);
        return CORM_NOTFOUND;
    }
    return CORM_NOTFOUND;
}

corm_rc corm_cache_page_store(corm_cache *c, const corm_cache_page *page,
                              const corm_cache_request *rq, int status, const char *content_type,
                              const void *body, size_t len, corm_cache_headers *headers,
                              bool *stored, corm_error *err)
{
    corm__err_clear(err);
    if (headers) *headers = (corm_cache_headers){{0}, {0}, {0}};
    if (stored) *stored = false;
    if (!check_call(c, page, rq, "corm_cache_page_store", err)) return err ? err->rc : CORM_MISUSE;
    const char *ctype = content_type ? content_type : "";
    size_t tlen = strlen(ctype);
    if ((!body && len) || tlen > 0xffff || status < 100 || status > 999) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_page_store: %s",
                      !body && len    ? "body is NULL with a length"
                      : tlen > 0xffff ? "the content type is longer than 65535 bytes"
                                      : "status is not an HTTP status (100..999)");
        return CORM_MISUSE;
    }
    if (!is_method(rq->method, "GET") && !is_method(rq->method, "HEAD")) return CORM_OK;
    int64_t timeout = page_timeout_ms(c, page), max_age = timeout / 1000;
    int64_t now = (int64_t)time(NULL);
    if ((status == 200 || status == 304) && headers)
        fill_headers(headers, page->per_user, now, max_age);
    if (status != 200 || timeout == 0) return CORM_OK;
    char key[256];
    if (!page_key(page, rq, rq->method, key, sizeof key, err)) return err ? err->rc : CORM_INVALID;
    size_t n = HEAD_LEN + tlen + len;
    if (n < len) {
        corm__err_set(err, CORM_MISUSE, "corm_cache_page_store: the body is too large");
        return CORM_MISUSE;
    }
    unsigned char *v = corm__malloc(n ? n : 1);
    if (!v) {
        corm__err_set(err, CORM_NOMEM, "out of memory storing page '%s' (%zu bytes)", page->route,
                      n);
        return CORM_NOMEM;
    }
    memcpy(v, MAGIC, 4);
    put_be(v + 4, (uint64_t)status, 2);
    put_be(v + 6, (uint64_t)now, 8);
    put_be(v + 14, (uint64_t)max_age, 8);
    put_be(v + 22, (uint64_t)tlen, 2);
    memcpy(v + HEAD_LEN, ctype, tlen);
    if (len) memcpy(v + HEAD_LEN + tlen, body, len);
    corm_rc rc = corm_cache_set_v(c, key, page->version, v, n, timeout, err);
    corm__free(v);
    if (rc == CORM_OK && stored) *stored = true;
    return rc;
}

void corm_cached_response_free(corm_cached_response *r)
{
    if (!r) return;
    corm__free(r->content_type);
    corm__free(r->body);
    *r = (corm_cached_response){0};
}
