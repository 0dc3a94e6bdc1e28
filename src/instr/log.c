/*
** log.c - the query log: Django-style lines on stderr, and JSON lines in a
** file (one object per statement, finding and top-level capture; the input
** of `corm report`).  JSON is written by hand: the library depends on
** nothing but the database drivers.
**
** JSON line shapes ("type" tells them apart):
**   {"type":"query","seq":..,"ts":..,"sql":..,"params":[..],"nparams":..,
**    "fingerprint":"16 hex","ms":..,"rows":..,"statements":..,"rc":"CORM_OK",
**    "origin":..,
**    "kind":..,"model":..,"relation":..,"site":"file:line","func":..,
**    "built":..,"parent_batch":..,"parent_nobjs":..,"path":..,
**    "scope":..,"slow":bool,"auto":bool,"vendor":..}
**   {"type":"finding","kind":..,"model":..,"relation":..,"count":..,
**    "ms":..,"site":..,"func":..,"built":..,"fix":..,"message":..,
**    "sql":..,"scope":..,"auto":bool,"blocked":bool}
**   {"type":"capture","name":..,"queries":..,"ms":..,"findings":..,
**    "site":..,"over_budget":bool}
*/
#include "instr_int.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* The length of the valid UTF-8 sequence at p (of n bytes left), 0 when
** it is not one (a stray continuation, an overlong form, a surrogate,
** past U+10FFFF, or cut short). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80) return 1;
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (!len || p[0] > 0xF4 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (len == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))) return 0;
    if (len == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))) return 0;
    return len;
}

/* s[0..n) as a JSON string: always valid JSON whatever the bytes (an
** invalid UTF-8 byte becomes U+FFFD, a control character or NUL \u00XX),
** cut at max bytes on a character boundary and then marked
** "...[cut: N bytes]". */
static void json_strn_max(corm_buf *b, const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    corm__buf_addc(b, '"');
    while (i < n) {
        size_t len = utf8_len(p + i, n - i);
        if (i + (len ? len : 1) > max) break;
        if (!len) {
            corm__buf_adds(b, "\\ufffd");
            i++;
            continue;
        }
        if (len > 1) {
            corm__buf_add(b, s + i, len);
            i += len;
            continue;
        }
        switch (p[i]) {
        case '"': corm__buf_adds(b, "\\\""); break;
        case '\\': corm__buf_adds(b, "\\\\"); break;
        case '\n': corm__buf_adds(b, "\\n"); break;
        case '\r': corm__buf_adds(b, "\\r"); break;
        case '\t': corm__buf_adds(b, "\\t"); break;
        default:
            if (p[i] < 0x20 || p[i] == 0x7F) corm__buf_addf(b, "\\u%04x", p[i]);
            else corm__buf_addc(b, (char)p[i]);
        }
        i++;
    }
    if (i < n) corm__buf_addf(b, "...[cut: %zu bytes]", n - i);
    corm__buf_addc(b, '"');
}

void corm__json_str(corm_buf *b, const char *s)
{
    if (!s) corm__buf_adds(b, "null");
    else json_strn_max(b, s, strlen(s), SIZE_MAX);
}

/* s[0..n) for the text log, on one line: control characters and
** backslashes escaped (\n, \x1b, \\), invalid UTF-8 as \xNN, cut at max
** bytes on a character boundary ("..."), so no value can forge a line. */
void corm__text_escaped(corm_buf *b, const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_len(p + i, n - i);
        if (i + (len ? len : 1) > max) break;
        if (len > 1) {
            corm__buf_add(b, s + i, len);
            i += len;
            continue;
        }
        switch (p[i]) {
        case '\n': corm__buf_adds(b, "\\n"); break;
        case '\r': corm__buf_adds(b, "\\r"); break;
        case '\t': corm__buf_adds(b, "\\t"); break;
        case '\\': corm__buf_adds(b, "\\\\"); break;
        default:
            if (!len || p[i] < 0x20 || p[i] == 0x7F) corm__buf_addf(b, "\\x%02x", p[i]);
            else corm__buf_addc(b, (char)p[i]);
        }
        i++;
    }
    if (i < n) corm__buf_adds(b, "...");
}

static void json_value(corm_buf *b, const corm_value *v)
{
    switch (v->type) {
    case CORM_V_INT: corm__buf_addf(b, "%lld", (long long)v->u.i); break;
    case CORM_V_FLOAT:
        if (isfinite(v->u.f)) corm__buf_addf(b, "%.17g", v->u.f);
        else corm__buf_adds(b, "null");
        break;
    case CORM_V_DECIMAL: {
        /* a JSON number, exactly as written */
        char d[CORM_DEC_BUF];
        corm__buf_adds(b, corm_dec_valid(v->u.d) ? corm_dec_format(v->u.d, d) : "null");
        break;
    }
    case CORM_V_BOOL: corm__buf_adds(b, v->u.b ? "true" : "false"); break;
    case CORM_V_TEXT: {
        size_t n = v->u.s.n == (size_t)-1 ? strlen(v->u.s.p) : v->u.s.n;
        json_strn_max(b, v->u.s.p, n, 1000);
        break;
    }
    case CORM_V_BLOB: corm__buf_addf(b, "\"<blob %zu bytes>\"", v->u.s.n); break;
    default: corm__buf_adds(b, "null"); break;
    }
}

void corm__value_text(corm_buf *b, const corm_value *v)
{
    switch (v->type) {
    case CORM_V_NULL: corm__buf_adds(b, "NULL"); break;
    case CORM_V_INT: corm__buf_addf(b, "%lld", (long long)v->u.i); break;
    case CORM_V_FLOAT: corm__buf_addf(b, "%g", v->u.f); break;
    case CORM_V_DECIMAL: {
        char d[CORM_DEC_BUF];
        corm__buf_adds(b, corm_dec_format(v->u.d, d));
        break;
    }
    case CORM_V_BOOL: corm__buf_adds(b, v->u.b ? "true" : "false"); break;
    case CORM_V_TEXT: {
        size_t n = v->u.s.n == (size_t)-1 ? strlen(v->u.s.p) : v->u.s.n;
        corm__buf_addc(b, '\'');
        corm__text_escaped(b, v->u.s.p, n, 80);
        corm__buf_addc(b, '\'');
        break;
    }
    case CORM_V_BLOB: corm__buf_addf(b, "<blob %zu bytes>", v->u.s.n); break;
    default: corm__buf_adds(b, "<list>"); break;
    }
}

static void json_site(corm_buf *b, const char *key, corm_site s)
{
    corm__buf_addf(b, ",\"%s\":", key);
    if (!s.file) {
        corm__buf_adds(b, "null");
        return;
    }
    char buf[300];
    corm__json_str(b, corm__site_str(s, buf, sizeof buf));
}

static void write_line(corm_instr *in, corm_buf *b)
{
    if (b->oom || !in->json) return;
    corm__buf_addc(b, '\n');
    fwrite(b->p, 1, b->len, in->json);
    fflush(in->json);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An executemany's real statement count: "; 100000 statements" (the
** event counts as one query; its line says what the database ran). */
static void log_statements(corm_buf *b, const corm_event *ev)
{
    if (ev->statements > 1)
        corm__buf_addf(b, "; %llu statements", (unsigned long long)ev->statements);
}

void corm__log_event(corm_instr *in, const corm_event *ev)
{
    bool slow = in->slow_ms > 0 && ev->ms >= in->slow_ms;
    if (in->only_slow && !slow) return;
    char site[300];
    corm__site_str(ev->site, site, sizeof site);
    corm_buf b;
    corm__buf_init(&b);
    if (in->log_stderr) {
        corm__buf_addf(&b, "corm: %s(%.3f ms) ", slow ? "SLOW " : "", ev->ms);
        if (ev->sql) corm__text_escaped(&b, ev->sql, strlen(ev->sql), SIZE_MAX);
        corm__buf_adds(&b, "; args=(");
        for (int i = 0; i < ev->nparams && ev->params; i++) {
            if (i) corm__buf_adds(&b, ", ");
            if (in->redact) corm__buf_adds(&b, "?");
            else corm__value_text(&b, &ev->params[i]);
        }
        corm__buf_addf(&b, "); rows=%lld; %s at %s", (long long)ev->rows,
                       ev->origin ? ev->origin : "?", site);
        log_statements(&b, ev);
        if (ev->cache_hit) corm__buf_adds(&b, "; cache hit");
        if (ev->rc != CORM_OK) corm__buf_addf(&b, "; %s", corm_rc_name(ev->rc));
        if (!b.oom) fprintf(stderr, "%s\n", corm__buf_cstr(&b));
    }
    if (in->json) {
        corm__buf_reset(&b);
        corm__buf_addf(&b, "{\"type\":\"query\",\"seq\":%llu,\"ts\":%.6f,\"sql\":",
                       (unsigned long long)ev->seq, now_s());
        corm__json_str(&b, ev->sql);
        corm__buf_adds(&b, ",\"params\":");
        if (in->redact || !ev->params) {
            corm__buf_adds(&b, "null");
        } else {
            corm__buf_addc(&b, '[');
            for (int i = 0; i < ev->nparams; i++) {
                if (i) corm__buf_addc(&b, ',');
                json_value(&b, &ev->params[i]);
            }
            corm__buf_addc(&b, ']');
        }
        corm__buf_addf(&b,
                       ",\"nparams\":%d,\"fingerprint\":\"%016llx\",\"ms\":%.6f,\"rows\":%lld,"
                       "\"statements\":%llu,\"rc\":\"%s\",\"origin\":",
                       ev->nparams, (unsigned long long)ev->fingerprint, ev->ms,
                       (long long)ev->rows, (unsigned long long)ev->statements,
                       corm_rc_name(ev->rc));
        corm__json_str(&b, ev->origin);
        corm__buf_addf(&b, ",\"kind\":\"%s\",\"model\":", corm_origin_kind_name(ev->kind));
        corm__json_str(&b, ev->model);
        corm__buf_adds(&b, ",\"relation\":");
        corm__json_str(&b, ev->relation);
        json_site(&b, "site", ev->site);
        corm__buf_adds(&b, ",\"func\":");
        corm__json_str(&b, ev->site.func);
        json_site(&b, "built", ev->built);
        corm__buf_addf(&b, ",\"parent_batch\":%llu,\"parent_nobjs\":%zu,\"path\":",
                       (unsigned long long)ev->parent_batch, ev->parent_nobjs);
        corm__json_str(&b, ev->path);
        corm__buf_adds(&b, ",\"scope\":");
        corm__json_str(&b, ev->scope);
        corm__buf_addf(&b, ",\"slow\":%s,\"auto\":%s,\"vendor\":", slow ? "true" : "false",
                       ev->auto_load ? "true" : "false");
        corm__json_str(&b, ev->vendor);
        if (ev->cache_hit) corm__buf_adds(&b, ",\"cache_hit\":true");
        corm__buf_addc(&b, '}');
        write_line(in, &b);
    }
    corm__buf_free(&b);
}

void corm__log_finding(corm_instr *in, const corm_finding *f)
{
    char site[300];
    corm__site_str(f->site, site, sizeof site);
    bool to_stderr = in->log_stderr || (!in->json && !in->on_finding);
    corm_buf b;
    corm__buf_init(&b);
    if (to_stderr) {
        corm__buf_addf(&b, "corm: %s: %s", corm_finding_kind_name(f->kind),
                       f->message ? f->message : "");
        if (f->fix) corm__buf_addf(&b, "\n      fix: %s", f->fix);
        if (!b.oom) fprintf(stderr, "%s\n", corm__buf_cstr(&b));
    }
    if (in->json) {
        corm__buf_reset(&b);
        corm__buf_addf(&b, "{\"type\":\"finding\",\"kind\":\"%s\",\"model\":",
                       corm_finding_kind_name(f->kind));
        corm__json_str(&b, f->model);
        corm__buf_adds(&b, ",\"relation\":");
        corm__json_str(&b, f->relation);
        corm__buf_addf(&b, ",\"count\":%llu,\"ms\":%.6f", (unsigned long long)f->count, f->ms);
        json_site(&b, "site", f->site);
        corm__buf_adds(&b, ",\"func\":");
        corm__json_str(&b, f->site.func);
        json_site(&b, "built", f->built);
        corm__buf_adds(&b, ",\"fix\":");
        corm__json_str(&b, f->fix);
        corm__buf_adds(&b, ",\"message\":");
        corm__json_str(&b, f->message);
        corm__buf_adds(&b, ",\"sql\":");
        corm__json_str(&b, f->sql);
        corm__buf_adds(&b, ",\"scope\":");
        corm__json_str(&b, f->scope);
        corm__buf_addf(&b, ",\"auto\":%s,\"blocked\":%s}", f->auto_loaded ? "true" : "false",
                       f->blocked ? "true" : "false");
        write_line(in, &b);
    }
    corm__buf_free(&b);
}

void corm__log_capture(corm_instr *in, const corm_capture *c)
{
    if (!in->json) return;
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_adds(&b, "{\"type\":\"capture\",\"name\":");
    corm__json_str(&b, c->name);
    corm__buf_addf(&b, ",\"queries\":%llu,\"ms\":%.6f,\"findings\":%zu",
                   (unsigned long long)c->count, c->ms, c->nfindings);
    json_site(&b, "site", c->site);
    corm__buf_addf(&b, ",\"over_budget\":%s}", corm_capture_over_budget(c) ? "true" : "false");
    write_line(in, &b);
    corm__buf_free(&b);
}

void corm__log_close(corm_instr *in)
{
    if (in->json) fclose(in->json);
    in->json = NULL;
    corm__free(in->json_path);
    in->json_path = NULL;
}
