/*
** metrics.c - per-fingerprint statement metrics (pg_stat_statements' idea:
** calls, total and max time, rows, errors per normalised statement), per
** capture-name counts, findings per kind; exported in the Prometheus text
** exposition format (version 0.0.4) for any HTTP server to serve.
** Bounded: at most CORM__MAX_METRICS fingerprints, the rest is "other".
*/
#include "instr_int.h"

#include <string.h>

static void add_to(corm__metric *m, const corm_event *ev)
{
    m->calls++;
    m->rows += ev->rows > 0 ? (uint64_t)ev->rows : 0;
    if (ev->rc != CORM_OK) m->errors++;
    m->total_ms += ev->ms;
    if (ev->ms > m->max_ms) m->max_ms = ev->ms;
}

void corm__metrics_event(corm_instr *in, const corm_event *ev)
{
    /* a loop's statements repeat a few fingerprints: tried before the map */
    uint16_t *recent = &in->metric_recent[ev->fingerprint % CORM__ARRAY_LEN(in->metric_recent)];
    size_t i = (size_t)*recent - 1; /* SIZE_MAX for an empty slot */
    if (i < in->nmetrics && in->metrics[i].fp == ev->fingerprint) {
        add_to(&in->metrics[i], ev);
        return;
    }
    void **have = corm__map_get(&in->metric_map, (int64_t)ev->fingerprint);
    if (have) {
        i = (size_t)(intptr_t)*have - 1;
        *recent = (uint16_t)(i + 1);
        add_to(&in->metrics[i], ev);
        return;
    }
    if (in->nmetrics >= CORM__MAX_METRICS) {
        add_to(&in->other, ev);
        return;
    }
    if (in->nmetrics == in->capmetrics) {
        size_t cap = in->capmetrics ? in->capmetrics * 2 : 32;
        corm__metric *p = corm__realloc(in->metrics, cap * sizeof *p);
        if (!p) return;
        in->metrics = p;
        in->capmetrics = cap;
    }
    corm_buf b;
    corm__buf_init(&b);
    corm__fingerprint(ev->sql, &b);
    if (b.len > 300) b.len = 300; /* a label, not the whole statement */
    char *sql = b.oom ? NULL : corm__strndup(corm__buf_cstr(&b), b.len);
    corm__buf_free(&b);
    if (!sql) return;
    corm__metric *m = &in->metrics[in->nmetrics];
    memset(m, 0, sizeof *m);
    m->fp = ev->fingerprint;
    m->sql = sql;
    m->kind = ev->kind;
    if (!corm__map_put(&in->metric_map, (int64_t)ev->fingerprint,
                       (void *)(intptr_t)(in->nmetrics + 1))) {
        corm__free(sql);
        return;
    }
    *recent = (uint16_t)(in->nmetrics + 1);
    in->nmetrics++;
    add_to(m, ev);
}

void corm__metrics_capture(corm_instr *in, const corm_capture *c)
{
    corm__capmetric *m = NULL;
    for (size_t i = 0; i < in->ncapm && !m; i++)
        if (strcmp(in->capm[i].name, c->name) == 0) m = &in->capm[i];
    if (!m) {
        if (in->ncapm >= CORM__MAX_CAPMETRICS) return;
        corm__capmetric *p = corm__realloc(in->capm, (in->ncapm + 1) * sizeof *p);
        if (!p) return;
        in->capm = p;
        m = &in->capm[in->ncapm];
        memset(m, 0, sizeof *m);
        if (!(m->name = corm__strdup(c->name))) return;
        in->ncapm++;
    }
    m->captures++;
    m->queries += c->count;
    m->ms += c->ms;
}

static void metrics_clear(corm_instr *in)
{
    for (size_t i = 0; i < in->nmetrics; i++) corm__free(in->metrics[i].sql);
    for (size_t i = 0; i < in->ncapm; i++) corm__free(in->capm[i].name);
    in->nmetrics = 0;
    in->ncapm = 0;
    memset(&in->other, 0, sizeof in->other);
    corm__map_free(&in->metric_map);
    corm__map_init(&in->metric_map, NULL);
}

void corm__metrics_free(corm_instr *in)
{
    metrics_clear(in);
    corm__free(in->metrics);
    corm__free(in->capm);
    corm__map_free(&in->metric_map);
    in->metrics = NULL;
    in->capm = NULL;
    in->capmetrics = 0;
}

void corm_metrics_reset(corm_instr *in)
{
    if (!in) return;
    metrics_clear(in);
    memset(in->nkind, 0, sizeof in->nkind);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(corm_buf *b, const char *s)
{
    corm__buf_addc(b, '"');
    for (; s && *s; s++) {
        if (*s == '\\') corm__buf_adds(b, "\\\\");
        else if (*s == '"') corm__buf_adds(b, "\\\"");
        else if (*s == '\n') corm__buf_adds(b, "\\n");
        else corm__buf_addc(b, *s);
    }
    corm__buf_addc(b, '"');
}

static void fp_labels(corm_buf *b, const corm__metric *m)
{
    if (m->sql)
        corm__buf_addf(b, "{fingerprint=\"%016llx\",origin=\"%s\",sql=", (unsigned long long)m->fp,
                       corm_origin_kind_name(m->kind));
    else corm__buf_adds(b, "{fingerprint=\"other\",origin=\"other\",sql=");
    label(b, m->sql ? m->sql : "");
    corm__buf_addc(b, '}');
}

typedef enum { M_CALLS, M_SECONDS, M_MAX, M_ROWS, M_ERRORS } mfield;

static void family(corm_buf *b, const corm_instr *in, const char *name, const char *type,
                   const char *help, mfield field)
{
    corm__buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i <= in->nmetrics; i++) {
        const corm__metric *m = i < in->nmetrics ? &in->metrics[i] : &in->other;
        if (i == in->nmetrics && !m->calls) break;
        corm__buf_adds(b, name);
        fp_labels(b, m);
        switch (field) {
        case M_CALLS: corm__buf_addf(b, " %llu\n", (unsigned long long)m->calls); break;
        case M_SECONDS: corm__buf_addf(b, " %.9f\n", m->total_ms / 1000.0); break;
        case M_MAX: corm__buf_addf(b, " %.9f\n", m->max_ms / 1000.0); break;
        case M_ROWS: corm__buf_addf(b, " %llu\n", (unsigned long long)m->rows); break;
        case M_ERRORS: corm__buf_addf(b, " %llu\n", (unsigned long long)m->errors); break;
        }
    }
}

size_t corm_metrics_prometheus(const corm_instr *in, char *buf, size_t size)
{
    if (buf && size) buf[0] = '\0';
    if (!in) return 0;
    corm_buf b;
    corm__buf_init(&b);
    family(&b, in, "corm_statements_total", "counter",
           "Statements run, by SQL fingerprint (literals and IN lists folded).", M_CALLS);
    family(&b, in, "corm_statement_seconds_total", "counter",
           "Time spent in statements, by fingerprint.", M_SECONDS);
    family(&b, in, "corm_statement_seconds_max", "gauge", "Slowest run of each fingerprint.",
           M_MAX);
    family(&b, in, "corm_statement_rows_total", "counter",
           "Rows returned or changed, by fingerprint.", M_ROWS);
    family(&b, in, "corm_statement_errors_total", "counter",
           "Statements that failed, by fingerprint.", M_ERRORS);
    corm__buf_adds(&b, "# HELP corm_captures_total Captures (requests, tests) ended, by name.\n"
                       "# TYPE corm_captures_total counter\n");
    for (size_t i = 0; i < in->ncapm; i++) {
        corm__buf_adds(&b, "corm_captures_total{capture=");
        label(&b, in->capm[i].name);
        corm__buf_addf(&b, "} %llu\n", (unsigned long long)in->capm[i].captures);
    }
    corm__buf_adds(&b, "# HELP corm_capture_statements_total Statements run inside captures, by "
                       "name (divide by corm_captures_total for the per-capture mean).\n"
                       "# TYPE corm_capture_statements_total counter\n");
    for (size_t i = 0; i < in->ncapm; i++) {
        corm__buf_adds(&b, "corm_capture_statements_total{capture=");
        label(&b, in->capm[i].name);
        corm__buf_addf(&b, "} %llu\n", (unsigned long long)in->capm[i].queries);
    }
    corm__buf_adds(&b, "# HELP corm_findings_total N+1 detector findings reported, by kind.\n"
                       "# TYPE corm_findings_total counter\n");
    for (int k = 0; k <= CORM_FINDING_OVER_BUDGET; k++)
        corm__buf_addf(&b, "corm_findings_total{kind=\"%s\"} %llu\n",
                       corm_finding_kind_name((corm_finding_kind)k),
                       (unsigned long long)in->nkind[k]);
    size_t len = b.oom ? 0 : b.len;
    if (buf && size) corm__strlcpy(buf, corm__buf_cstr(&b), size);
    corm__buf_free(&b);
    return len;
}
