/*
** cmd_report.c - `corm report LOG.jsonl [--db URL] [--schema S.corm]`:
** read a JSON-lines query log (CORM_LOG=json:FILE, corm_instr_log) and
** print what to fix first:
**   - the top statements by total time and by count (per fingerprint);
**   - every N+1 group the detector reported, with its fix;
**   - duplicates and similar statements;
**   - slow statements;
**   - index advice: with --db, EXPLAIN of the slowest SELECT fingerprints
**     (in a transaction that is rolled back, under a statement timeout on
**     PostgreSQL); a table scan on a filtered or ordered column names the
**     index to add, as the schema line when --schema is given.
*/
#include "cli.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ model */

typedef struct fpstat {
    char *fp, *norm, *sql, *kind;
    json_t *params; /* of one run (NULL when redacted) */
    int nparams;
    uint64_t calls, rows;
    double total, max;
} fpstat;

typedef struct fstat {
    char *kind, *model, *relation, *site, *fix, *message;
    uint64_t count, seen;
    bool is_auto, blocked;
} fstat;

typedef struct slow {
    char *sql, *site;
    double ms;
    bool flagged; /* over the threshold of the program that logged it */
} slow;

typedef struct report {
    fpstat *fps;
    size_t nfps, capfps;
    fstat *fs;
    size_t nfs, capfs;
    slow *slows;
    size_t nslows, capslows;
    uint64_t statements, captures, capture_statements, lines, bad;
    double total_ms;
    bool any_slow_flag;
} report;

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static bool same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static void add_query(report *r, json_t *o)
{
    const char *sql = str(o, "sql");
    if (!sql) return;
    double ms = num(o, "ms");
    r->statements++;
    r->total_ms += ms;
    char fp[32];
    const char *f = str(o, "fingerprint");
    if (!f) {
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)corm_sql_fingerprint(sql, NULL, 0));
        f = fp;
    }
    fpstat *s = NULL;
    for (size_t i = 0; i < r->nfps && !s; i++)
        if (strcmp(r->fps[i].fp, f) == 0) s = &r->fps[i];
    if (!s) {
        if (r->nfps == r->capfps) {
            r->capfps = r->capfps ? r->capfps * 2 : 64;
            r->fps = realloc(r->fps, r->capfps * sizeof *r->fps);
        }
        s = &r->fps[r->nfps++];
        memset(s, 0, sizeof *s);
        char norm[2048];
        corm_sql_fingerprint(sql, norm, sizeof norm);
        s->fp = dupstr(f);
        s->norm = dupstr(norm);
        s->sql = dupstr(sql);
        s->kind = dupstr(str(o, "kind") ? str(o, "kind") : "?");
        json_t *p = json_object_get(o, "params");
        s->params = json_is_array(p) ? json_incref(p) : NULL;
        s->nparams = (int)num(o, "nparams");
    }
    s->calls++;
    s->rows += (uint64_t)num(o, "rows");
    s->total += ms;
    if (ms > s->max) s->max = ms;
    bool flagged = json_is_true(json_object_get(o, "slow"));
    r->any_slow_flag |= flagged;
    if (r->nslows == r->capslows) {
        r->capslows = r->capslows ? r->capslows * 2 : 64;
        r->slows = realloc(r->slows, r->capslows * sizeof *r->slows);
    }
    r->slows[r->nslows++] = (slow){dupstr(sql), dupstr(str(o, "site")), ms, flagged};
}

static void add_finding(report *r, json_t *o)
{
    const char *kind = str(o, "kind"), *model = str(o, "model"), *rel = str(o, "relation"),
               *site = str(o, "site"), *fix = str(o, "fix");
    fstat *s = NULL;
    for (size_t i = 0; i < r->nfs && !s; i++)
        if (same(r->fs[i].kind, kind) && same(r->fs[i].model, model) &&
            same(r->fs[i].relation, rel) && same(r->fs[i].site, site) && same(r->fs[i].fix, fix))
            s = &r->fs[i];
    if (!s) {
        if (r->nfs == r->capfs) {
            r->capfs = r->capfs ? r->capfs * 2 : 32;
            r->fs = realloc(r->fs, r->capfs * sizeof *r->fs);
        }
        s = &r->fs[r->nfs++];
        memset(s, 0, sizeof *s);
        s->kind = dupstr(kind);
        s->model = dupstr(model);
        s->relation = dupstr(rel);
        s->site = dupstr(site);
        s->fix = dupstr(fix);
        s->message = dupstr(str(o, "message"));
    }
    s->count += (uint64_t)num(o, "count");
    s->seen++;
    s->is_auto |= json_is_true(json_object_get(o, "auto"));
    s->blocked |= json_is_true(json_object_get(o, "blocked"));
}

static int read_log(report *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "corm report: cannot read '%s'\n", path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        r->lines++;
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        if (!json_is_object(o)) {
            r->bad++;
            json_decref(o);
            continue;
        }
        const char *type = str(o, "type");
        if (!type || strcmp(type, "query") == 0) add_query(r, o);
        else if (strcmp(type, "finding") == 0) add_finding(r, o);
        else if (strcmp(type, "capture") == 0) {
            r->captures++;
            r->capture_statements += (uint64_t)num(o, "queries");
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return 0;
}

/* ------------------------------------------------------------ printing */

static void clip(const char *s, int width, char *out, size_t size)
{
    size_t n = strlen(s);
    if ((int)n <= width) snprintf(out, size, "%s", s);
    else snprintf(out, size, "%.*s...", width - 3, s);
}

static int by_total(const void *a, const void *b)
{
    const fpstat *x = a, *y = b;
    return x->total < y->total ? 1 : x->total > y->total ? -1 : strcmp(x->fp, y->fp);
}

static int by_calls(const void *a, const void *b)
{
    const fpstat *x = a, *y = b;
    return x->calls < y->calls ? 1 : x->calls > y->calls ? -1 : by_total(a, b);
}

static int by_ms(const void *a, const void *b)
{
    const slow *x = a, *y = b;
    return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : 0;
}

static int by_count(const void *a, const void *b)
{
    const fstat *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static void print_fps(report *r, int top, int (*cmp)(const void *, const void *), const char *title)
{
    if (r->nfps > 1) qsort(r->fps, r->nfps, sizeof *r->fps, cmp);
    printf("\n%s\n", title);
    printf("  %8s %10s %9s %8s  %-11s %s\n", "calls", "total ms", "max ms", "rows", "origin",
           "statement (values folded)");
    for (size_t i = 0; i < r->nfps && (int)i < top; i++) {
        const fpstat *s = &r->fps[i];
        char sql[120];
        clip(s->norm, 100, sql, sizeof sql);
        printf("  %8llu %10.3f %9.3f %8llu  %-11s %s\n", (unsigned long long)s->calls, s->total,
               s->max, (unsigned long long)s->rows, s->kind, sql);
    }
}

static bool is_kind(const fstat *f, const char *const *kinds)
{
    for (; *kinds; kinds++)
        if (f->kind && strcmp(f->kind, *kinds) == 0) return true;
    return false;
}

static void print_findings(report *r, const char *title, const char *const *kinds)
{
    if (r->nfs > 1) qsort(r->fs, r->nfs, sizeof *r->fs, by_count);
    int n = 0;
    for (size_t i = 0; i < r->nfs; i++) n += is_kind(&r->fs[i], kinds);
    printf("\n%s: %d\n", title, n);
    for (size_t i = 0; i < r->nfs; i++) {
        const fstat *f = &r->fs[i];
        if (!is_kind(f, kinds)) continue;
        printf("  %s", f->kind);
        if (f->model)
            printf(" %s%s%s", f->model, f->relation ? "." : "", f->relation ? f->relation : "");
        printf(" x%llu", (unsigned long long)f->count);
        if (f->seen > 1) printf(" (%llu reports)", (unsigned long long)f->seen);
        printf(" at %s%s%s\n", f->site ? f->site : "?", f->is_auto ? " (auto mode loaded it)" : "",
               f->blocked ? " (strict mode refused it)" : "");
        if (f->message) printf("      %s\n", f->message);
        if (f->fix) printf("      fix: %s\n", f->fix);
    }
}

/* ------------------------------------------------------------ EXPLAIN */

typedef struct alias {
    char table[64], alias[64];
} alias;

/* "table" ALIAS pairs after FROM / JOIN. */
static int aliases_of(const char *sql, alias *out, int max)
{
    int n = 0;
    for (const char *p = sql; *p && n < max; p++) {
        if (strncmp(p, "FROM \"", 6) != 0 && strncmp(p, "JOIN \"", 6) != 0) continue;
        const char *t = p + 6, *e = strchr(t, '"');
        if (!e || e - t >= 64) continue;
        const char *a = e + 1;
        if (*a != ' ') continue;
        a++;
        size_t al = 0;
        while (isalnum((unsigned char)a[al]) || a[al] == '_') al++;
        if (!al || al >= 64 || (al == 5 && strncmp(a, "WHERE", 5) == 0) ||
            (al == 5 && strncmp(a, "INNER", 5) == 0) || (al == 4 && strncmp(a, "LEFT", 4) == 0) ||
            (al == 5 && strncmp(a, "ORDER", 5) == 0) || (al == 5 && strncmp(a, "LIMIT", 5) == 0))
            al = 0;
        snprintf(out[n].table, sizeof out[n].table, "%.*s", (int)(e - t), t);
        snprintf(out[n].alias, sizeof out[n].alias, "%.*s", (int)(al ? al : (size_t)(e - t)),
                 al ? a : t);
        n++;
    }
    return n;
}

/* Columns of alias a referenced in sql[from, to): ALIAS."col". */
static int columns_of(const char *sql, size_t from, size_t to, const char *a, char cols[][64],
                      bool *desc, int max)
{
    int n = 0;
    size_t al = strlen(a);
    for (size_t i = from; i + al + 2 < to && n < max; i++) {
        if (strncmp(sql + i, a, al) != 0 || sql[i + al] != '.' || sql[i + al + 1] != '"') continue;
        if (i > 0 && (isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_')) continue;
        const char *c = sql + i + al + 2, *e = strchr(c, '"');
        if (!e || e - c >= 64) continue;
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)(e - c), c);
        bool dup = false;
        for (int k = 0; k < n; k++) dup |= strcmp(cols[k], col) == 0;
        if (dup || strcmp(col, "id") == 0) continue;
        snprintf(cols[n], 64, "%s", col);
        if (desc) desc[n] = strncmp(e + 1, " DESC", 5) == 0;
        n++;
    }
    return n;
}

static size_t find_kw(const char *sql, const char *kw, size_t from)
{
    const char *p = strstr(sql + from, kw);
    return p ? (size_t)(p - sql) : strlen(sql);
}

static const char *type_of(const corm_field *f, const corm_schema *schema, char *buf, size_t size)
{
    static const char *const names[] = {"integer", "bigint", "float", "decimal",   "bool",
                                        "char",    "text",   "email", "date",      "datetime",
                                        "json",    "blob",   "fk",    "one_to_one"};
    if (f->type == CORM_FT_CHAR) snprintf(buf, size, "char(%d)", f->max_length);
    else if (f->type == CORM_FT_DECIMAL)
        snprintf(buf, size, "decimal(%d, %d)", f->precision, f->scale);
    else if (f->type == CORM_FT_FK || f->type == CORM_FT_O2O) {
        (void)schema;
        snprintf(buf, size, "%s(...)", names[f->type]);
    } else snprintf(buf, size, "%s", names[f->type]);
    if (f->flags & CORM_FF_NULL) strncat(buf, " null", size - strlen(buf) - 1);
    return buf;
}

static const corm_model *model_of(const corm_schema *s, const char *table)
{
    for (int i = 0; s && i < s->nmodels; i++)
        if (strcmp(s->models[i]->table, table) == 0) return s->models[i];
    return NULL;
}

static const corm_field *field_of(const corm_model *m, const char *column)
{
    for (int i = 0; m && i < m->nfields; i++)
        if (strcmp(m->fields[i].column, column) == 0) return &m->fields[i];
    return NULL;
}

/* Whether column leads an index of m (db_index, unique, an index's first). */
static bool indexed(const corm_model *m, const corm_field *f)
{
    if (!m || !f) return false;
    if (f->flags & (CORM_FF_DB_INDEX | CORM_FF_UNIQUE | CORM_FF_PK)) return true;
    if (f->type == CORM_FT_FK || f->type == CORM_FT_O2O) return true; /* corm indexes keys */
    for (int i = 0; i < m->nindexes; i++) {
        const char *first = m->indexes[i].fields[0];
        if (*first == '-') first++;
        if (strcmp(first, f->name) == 0) return true;
    }
    return false;
}

static json_t *param_of(json_t *params, int i)
{
    return params ? json_array_get(params, (size_t)i) : NULL;
}

/* The indexes the database has (its catalog, not the schema: an index
** made by a migration of its own counts too), per table: each as its
** columns, comma-terminated ("author_id,title,"); an expression column
** is "?". */
typedef struct catalog {
    char table[64];
    char idx[32][256];
    int n;
} catalog;

static void catalog_load(corm_db *db, bool pg, const char *table, catalog *cat)
{
    snprintf(cat->table, sizeof cat->table, "%.63s", table);
    cat->n = 0;
    const char *sql =
        pg ? "SELECT i.relname, a.attname FROM pg_index x"
             " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid"
             " CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)"
             " LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum"
             " WHERE t.relname = %s AND pg_table_is_visible(t.oid) ORDER BY i.relname, k.n"
           : "SELECT il.name, ii.name FROM pragma_index_list(%s) AS il,"
             " pragma_index_info(il.name) AS ii ORDER BY il.name, ii.seqno";
    corm_value v = corm_text(table);
    corm_qs *qs = corm_sql(db, sql, &v, 1);
    if (corm_eval(qs) == CORM_OK) {
        char last[128] = "";
        for (size_t r = 0; r < corm_qs_len(qs); r++) {
            const char *name = corm_row_text(qs, r, corm_qs_colname(qs, 0));
            const char *col = corm_row_text(qs, r, corm_qs_colname(qs, 1));
            if (!name) continue;
            if (strcmp(name, last) != 0) {
                if (cat->n == 32) break;
                snprintf(last, sizeof last, "%s", name);
                cat->idx[cat->n++][0] = '\0';
            }
            char *d = cat->idx[cat->n - 1];
            snprintf(d + strlen(d), 256 - strlen(d), "%s,", col ? col : "?");
        }
    }
    corm_qs_free(qs);
}

/* Whether an index of cat's table starts with the columns cols[0..n)
** (ASC or DESC alike: an index is read both ways). */
static bool catalog_has(const catalog *cat, char cols[][64], int n)
{
    char want[600] = "";
    for (int i = 0; i < n; i++) {
        const char *c = cols[i][0] == '-' ? cols[i] + 1 : cols[i];
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s,", c);
    }
    for (int i = 0; cat && i < cat->n; i++)
        if (strncmp(cat->idx[i], want, strlen(want)) == 0) return true;
    return false;
}

/* Whether every term of the statement's (outer, last) ORDER BY is a
** column of alias a: only then can an index of a's table serve the sort -
** an annotation, an aggregate or an expression cannot be indexed. */
static bool sort_servable(const char *sql, const char *a)
{
    const char *o = NULL;
    for (const char *p = strstr(sql, " ORDER BY "); p; p = strstr(p + 1, " ORDER BY ")) o = p;
    if (!o) return false;
    const char *p = o + 10, *end = strstr(p, " LIMIT ");
    if (!end) end = p + strlen(p);
    size_t al = strlen(a);
    while (p < end) {
        while (*p == ' ' || *p == ',') p++;
        if (strncmp(p, a, al) != 0 || p[al] != '.' || p[al + 1] != '"') return false;
        const char *q = strchr(p + al + 2, '"');
        if (!q || q >= end) return false;
        p = q + 1;
        while (p < end && *p != ',') { /* ASC, DESC, NULLS FIRST/LAST */
            if (*p == '(' || *p == '+' || *p == '-' || *p == '*' || *p == '/') return false;
            p++;
        }
    }
    return true;
}

/* Whether every use of alias a's column col in sql[from, to) is one an
** index can serve (col = ?, col > ?, col IN (...)): not inside a function
** call or a cast, not a LIKE. */
static bool plain_filter(const char *sql, size_t from, size_t to, const char *a, const char *col)
{
    char ref[160];
    int n = snprintf(ref, sizeof ref, "%s.\"%s\"", a, col);
    for (const char *p = strstr(sql + from, ref); p && (size_t)(p - sql) < to;
         p = strstr(p + 1, ref)) {
        const char *after = p + n;
        if (p > sql && p[-1] == '(' && p - 1 > sql &&
            (isalnum((unsigned char)p[-2]) || p[-2] == '_'))
            return false;
        if (strncmp(after, " LIKE", 5) == 0 || strncmp(after, " ILIKE", 6) == 0 ||
            strncmp(after, " GLOB", 5) == 0 || strncmp(after, "::", 2) == 0 ||
            strncmp(after, " COLLATE", 8) == 0 || strncmp(after, " AS ", 4) == 0)
            return false;
    }
    return true;
}

/* A search through an index on the equality columns in "(a=? AND b=?)",
** followed by a sort: an index on those columns then the ordering serves
** both.  eq: the plan's detail after the index name. */
static void advise_sort(const char *sql, const alias *a, const char *eq, const corm_schema *schema,
                        const catalog *cat, int *nadvice)
{
    if (!sort_servable(sql, a->alias)) return; /* a sort key no index serves */
    size_t order = find_kw(sql, " ORDER BY ", 0), limit = find_kw(sql, " LIMIT ", 0);
    char ocols[8][64];
    bool odesc[8];
    int no = order < strlen(sql) ? columns_of(sql, order, limit, a->alias, ocols, odesc, 8) : 0;
    if (!no) return;
    const corm_model *m = model_of(schema, a->table);
    char cols[512] = "", names[512] = "";
    int ncols = 0;
    for (const char *p = strchr(eq, '('); p && *p;) {
        p++;
        size_t n = 0;
        while (isalnum((unsigned char)p[n]) || p[n] == '_') n++;
        if (!n || strncmp(p + n, "=?", 2) != 0) break;
        char col[64];
        snprintf(col, sizeof col, "%.*s", (int)n, p);
        const corm_field *f = field_of(m, col);
        snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s", ncols ? ", " : "", col);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", ncols ? ", " : "",
                 f ? f->name : col);
        ncols++;
        p = strstr(p + n, " AND ");
        if (p) p += 4;
    }
    if (!ncols) return;
    char all[16][64];
    int nall = 0;
    for (const char *c = cols; *c && nall < 8;) { /* the equality columns, "a, b" */
        size_t n = strcspn(c, ",");
        snprintf(all[nall++], 64, "%.*s", (int)(n < 63 ? n : 63), c);
        c += n;
        while (*c == ',' || *c == ' ') c++;
    }
    for (int i = 0; i < no; i++) snprintf(all[nall++], 64, "%.63s", ocols[i]);
    if (catalog_has(cat, all, nall)) return; /* the database has it already */
    for (int i = 0; i < no; i++) {
        const corm_field *f = field_of(m, ocols[i]);
        /* names are at most 63 bytes (the schema's limit): %.63s says so */
        snprintf(cols + strlen(cols), sizeof cols - strlen(cols), ", %s%.63s", odesc[i] ? "-" : "",
                 ocols[i]);
        snprintf(names + strlen(names), sizeof names - strlen(names), ", %s%.63s",
                 odesc[i] ? "-" : "", f ? f->name : ocols[i]);
    }
    (*nadvice)++;
    printf("    %s is searched by index, then sorted in a temporary b-tree\n", a->table);
    if (m) printf("      add to model %s in the schema:  index (%s)\n", m->name, names);
    else
        printf("      add an index on %s(%s): `index (...)` in that model in the schema "
               "(--schema FILE.corm names the line)\n",
               a->table, cols);
}

/* One advice line for a scan of table (alias a) in sql. */
static void advise(const char *sql, const alias *a, bool temp_order, const corm_schema *schema,
                   const catalog *cat, int *nadvice)
{
    /* a sort key no index can serve (an annotation, an expression) is
    ** left to the sort: the advice is about the filter alone, if any */
    if (temp_order && !sort_servable(sql, a->alias)) temp_order = false;
    size_t where = find_kw(sql, " WHERE ", 0);
    size_t order = find_kw(sql, " ORDER BY ", 0);
    size_t stop = order;
    size_t group = find_kw(sql, " GROUP BY ", 0), limit = find_kw(sql, " LIMIT ", 0);
    if (group < stop) stop = group;
    if (limit < stop) stop = limit;
    char fcols[8][64], ocols[8][64];
    bool odesc[8];
    int nf = where < stop ? columns_of(sql, where, stop, a->alias, fcols, NULL, 8) : 0;
    int no = temp_order && order < strlen(sql)
                 ? columns_of(sql, order, limit < strlen(sql) ? limit : strlen(sql), a->alias,
                              ocols, odesc, 8)
                 : 0;
    if (!nf && !no) return;
    const corm_model *m = model_of(schema, a->table);
    const corm_field *f0 = nf ? field_of(m, fcols[0]) : NULL;
    bool has = nf ? catalog_has(cat, fcols, 1) || indexed(m, f0) : false;
    if (nf && has && plain_filter(sql, where, stop, a->alias, fcols[0])) {
        /* indexed, and the filter could use it: the planner chose to scan
        ** (a small table, a filter that keeps most rows) - nothing to add */
        if (!no) return;
    }
    /* the index: the first filtered column, then the ordering */
    char cols[512] = "", names[512] = "";
    int ncols = 0;
    for (int i = 0; i < nf && ncols < 1; i++, ncols++) {
        const corm_field *f = field_of(m, fcols[i]);
        snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%.63s", ncols ? ", " : "",
                 fcols[i]);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%.63s", ncols ? ", " : "",
                 f ? f->name : fcols[i]);
    }
    for (int i = 0; i < no; i++, ncols++) {
        const corm_field *f = field_of(m, ocols[i]);
        snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s%.63s", ncols ? ", " : "",
                 odesc[i] ? "-" : "", ocols[i]);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s%.63s",
                 ncols ? ", " : "", odesc[i] ? "-" : "", f ? f->name : ocols[i]);
    }
    if (no) { /* the proposed index, as the database would need it */
        char want[17][64];
        int nw = 0;
        if (nf) snprintf(want[nw++], 64, "%.63s", fcols[0]);
        for (int i = 0; i < no; i++) snprintf(want[nw++], 64, "%.63s", ocols[i]);
        if (catalog_has(cat, want, nw)) return;
    }
    (*nadvice)++;
    printf("    %s is scanned, %s %s%s%s\n", a->table, nf ? "filtered on" : "ordered by",
           nf ? fcols[0] : cols, nf && no ? " and ordered by the rest of " : "",
           nf && no ? cols : "");
    if (ncols == 1 && nf) {
        const corm_field *f = f0;
        if (has) {
            printf("      %s.%s is indexed, but this filter cannot use the index (a LIKE, a "
                   "function or a cast on the column): filter on the stored value, or add an "
                   "expression index in a migration\n",
                   m ? m->name : a->table, f ? f->name : fcols[0]);
            return;
        }
        if (m && f) {
            char t[128];
            printf("      add to model %s in the schema:  %s: %s db_index\n", m->name, f->name,
                   type_of(f, schema, t, sizeof t));
        } else {
            printf("      add an index on %s(%s): `db_index` on that field in the schema "
                   "(--schema FILE.corm names the line)\n",
                   a->table, cols);
        }
    } else if (m) {
        printf("      add to model %s in the schema:  index (%s)\n", m->name, names);
    } else {
        printf("      add an index on %s(%s): `index (...)` in that model in the schema "
               "(--schema FILE.corm names the line)\n",
               a->table, cols);
    }
}

static bool is_select(const char *sql)
{
    while (isspace((unsigned char)*sql)) sql++;
    return strncasecmp(sql, "SELECT", 6) == 0 && !strchr(sql, ';');
}

static int explain(report *r, const char *url, const corm_schema *schema, const char *schema_path,
                   int top)
{
    corm_error err;
    corm_db *db = corm_open(url, schema, &err);
    if (!db) {
        cli_print_error(&err);
        return 1;
    }
    corm_nplusone_mode(db, CORM_NPLUSONE_OFF);
    bool pg = strcmp(corm_db_vendor(db), "sqlite") != 0;
    if (r->nfps > 1) qsort(r->fps, r->nfps, sizeof *r->fps, by_total);
    printf("\nIndex advice (EXPLAIN on %s, slowest SELECT statements first)\n", url);
    int done = 0, nadvice = 0;
    /* the indexes the database has, per table, read once */
    catalog *cats = calloc(16, sizeof *cats);
    int ncats = 0;
    const catalog *acat[16];
    for (size_t i = 0; cats && i < r->nfps && done < top; i++) {
        const fpstat *s = &r->fps[i];
        if (!is_select(s->sql)) continue;
        done++;
        corm_value vals[256];
        char *texts[256];
        int n = s->nparams < 256 ? s->nparams : 256;
        for (int k = 0; k < n; k++) {
            json_t *v = param_of(s->params, k);
            texts[k] = NULL;
            if (json_is_integer(v)) vals[k] = corm_int(json_integer_value(v));
            else if (json_is_real(v)) vals[k] = corm_float(json_real_value(v));
            else if (json_is_boolean(v)) vals[k] = corm_bool(json_is_true(v));
            else if (json_is_string(v))
                vals[k] = corm_text(texts[k] = strdup(json_string_value(v)));
            else vals[k] = corm_null(); /* redacted: the plan rarely depends on values */
        }
        size_t len = strlen(s->sql) + 32;
        char *sql = malloc(len);
        snprintf(sql, len, "%s%s", pg ? "EXPLAIN " : "EXPLAIN QUERY PLAN ", s->sql);
        /* inside a transaction that is rolled back, with a timeout */
        corm_rc rc = corm_begin(db);
        if (rc == CORM_OK && pg) rc = corm_exec(db, "SET LOCAL statement_timeout = '5s'");
        corm_qs *qs = rc == CORM_OK ? corm_sql(db, sql, vals, n) : NULL;
        rc = qs ? corm_eval(qs) : rc;
        char sqlc[120];
        clip(s->norm, 100, sqlc, sizeof sqlc);
        printf("  %s\n    %llu calls, %.3f ms in all\n", sqlc, (unsigned long long)s->calls,
               s->total);
        if (rc != CORM_OK) {
            printf("    (EXPLAIN failed: %s)\n", qs && corm_qs_failed(qs)
                                                     ? corm_qs_error(qs)->message
                                                     : corm_db_error(db)->message);
        } else {
            alias as[16];
            int na = aliases_of(s->sql, as, 16);
            for (int k = 0; k < na; k++) {
                catalog *c = NULL;
                for (int j = 0; j < ncats && !c; j++)
                    if (strcmp(cats[j].table, as[k].table) == 0) c = &cats[j];
                if (!c && ncats < 16) catalog_load(db, pg, as[k].table, c = &cats[ncats++]);
                acat[k] = c;
            }
            bool temp_order = false;
            size_t ncols = corm_qs_ncols(qs);
            for (size_t row = 0; row < corm_qs_len(qs); row++) {
                const corm_value *v = corm_qs_cell(qs, row, ncols - 1);
                if (v && v->type == CORM_V_TEXT && strstr(v->u.s.p, "TEMP B-TREE FOR ORDER BY"))
                    temp_order = true;
            }
            for (size_t row = 0; row < corm_qs_len(qs); row++) {
                const corm_value *v = corm_qs_cell(qs, row, ncols - 1);
                if (!v || v->type != CORM_V_TEXT) continue;
                const char *d = v->u.s.p;
                printf("    plan: %s\n", d);
                char name[64] = "";
                while (*d == ' ' || *d == '-' || *d == '>') d++;
                if (strncmp(d, "SCAN ", 5) == 0 && !strstr(d, "USING") && !strstr(d, "VIRTUAL"))
                    sscanf(d + 5, "%63s", name);
                if (temp_order && strncmp(d, "SEARCH ", 7) == 0 && strstr(d, " INDEX ")) {
                    char who[64] = "";
                    sscanf(d + 7, "%63s", who);
                    for (int k = 0; k < na; k++)
                        if (strcasecmp(as[k].alias, who) == 0)
                            advise_sort(s->sql, &as[k], strstr(d, " INDEX "), schema, acat[k],
                                        &nadvice);
                } else if (strncmp(d, "Seq Scan on ", 12) == 0) {
                    char t[64] = "", al[64] = "";
                    if (sscanf(d + 12, "%63s %63s", t, al) >= 1)
                        snprintf(name, sizeof name, "%s", al[0] && strcmp(al, "(cost") ? al : t);
                }
                for (int k = 0; name[0] && k < na; k++)
                    if (strcasecmp(as[k].alias, name) == 0 || strcmp(as[k].table, name) == 0)
                        advise(s->sql, &as[k], temp_order, schema, acat[k], &nadvice);
            }
        }
        corm_qs_free(qs);
        if (corm_tx_depth(db) > 0 && corm_rollback(db) != CORM_OK)
            cli_print_error(corm_db_error(db));
        free(sql);
        for (int k = 0; k < n; k++) free(texts[k]);
    }
    free(cats);
    if (!done) printf("  no SELECT statements in the log\n");
    else if (!nadvice) printf("  no table scan on a filtered or ordered column: nothing to add\n");
    else /* the schema change becomes a migration (docs/migrations.md) */
        printf("  then make the migration and apply it:\n"
               "      corm makemigrations %s --dir migrations\n"
               "      corm migrate %s --db %s --dir migrations\n",
               schema_path ? schema_path : "SCHEMA.corm", schema_path ? schema_path : "SCHEMA.corm",
               url);
    corm_close(db);
    return 0;
}

/* ------------------------------------------------------------ main */

static void report_free(report *r)
{
    for (size_t i = 0; i < r->nfps; i++) {
        free(r->fps[i].fp);
        free(r->fps[i].norm);
        free(r->fps[i].sql);
        free(r->fps[i].kind);
        json_decref(r->fps[i].params);
    }
    for (size_t i = 0; i < r->nfs; i++) {
        free(r->fs[i].kind);
        free(r->fs[i].model);
        free(r->fs[i].relation);
        free(r->fs[i].site);
        free(r->fs[i].fix);
        free(r->fs[i].message);
    }
    for (size_t i = 0; i < r->nslows; i++) {
        free(r->slows[i].sql);
        free(r->slows[i].site);
    }
    free(r->fps);
    free(r->fs);
    free(r->slows);
}

static const cli_opt report_opts[] = {
    {"--db", NULL, "URL",
     "the database the log came from: index advice from EXPLAIN of the "
     "slowest SELECTs (rolled back)"},
    {"--schema", NULL, "SCHEMA.corm", "the models: index advice as the schema line to add"},
    {"--top", NULL, "N", "statements to list (default: 10)"},
    {"--slow", NULL, "MS", "list the statements slower than MS milliseconds"},
    {0}};
static const char *const report_examples[] = {
    "CORM_LOG=json:queries.jsonl ./app && corm report queries.jsonl",
    "corm report queries.jsonl --db sqlite:app.db --schema app.corm --top 5 --slow 20", NULL};
const cli_cmd cli_cmd_report = {
    "report",
    "LOG.jsonl [--db URL] [--schema SCHEMA.corm] [--top N] [--slow MS]",
    "summarise a recorded query log: N+1 fixes, duplicates, slow statements",
    "Reads a log written with CORM_LOG=json:LOG.jsonl and prints the top\n"
    "statements, each N+1 with its fix, duplicates, slow statements and index\n"
    "advice.",
    report_opts,
    report_examples,
    1,
    1,
    cli_report};

int cli_report(int argc, char **argv)
{
    cli_args a;
    int code = cli_parse(&cli_cmd_report, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    const char *path = a.args[0], *url = cli_value(&a, "--db", NULL),
               *schema_path = cli_value(&a, "--schema", NULL);
    int top = atoi(cli_value(&a, "--top", "10"));
    const char *slow_arg = cli_value(&a, "--slow", NULL);
    double slow_ms = slow_arg ? atof(slow_arg) : -1;
    if (top < 1) return cli_usage_error(&cli_cmd_report, "--top needs a positive number");
    corm_schema *schema = NULL;
    if (schema_path) {
        corm_error err;
        if (!(schema = corm_schema_parse_file(schema_path, &err))) {
            cli_print_error(&err);
            return 1;
        }
    }
    report r;
    memset(&r, 0, sizeof r);
    code = read_log(&r, path);
    if (!code) {
        printf("corm report: %s\n", path);
        printf("  %llu statements, %.3f ms; %llu captures (%llu statements inside); %zu distinct "
               "findings",
               (unsigned long long)r.statements, r.total_ms, (unsigned long long)r.captures,
               (unsigned long long)r.capture_statements, r.nfs);
        if (r.bad) printf("; %llu unreadable lines", (unsigned long long)r.bad);
        printf("\n");
        print_fps(&r, top, by_total, "Top statements by total time");
        print_fps(&r, top, by_calls, "Top statements by count");
        static const char *const n1[] = {"n_plus_one",       "count_in_loop",
                                         "exists_in_loop",   "filter_after_prefetch",
                                         "prefetch_in_loop", "lookup_in_loop",
                                         "write_in_loop",    "unused_eager",
                                         "late_eager",       NULL};
        static const char *const dups[] = {"duplicate", "similar", NULL};
        static const char *const budget[] = {"over_budget", NULL};
        print_findings(&r, "N+1 and eager-loading findings, with their fix", n1);
        print_findings(&r, "Duplicate and similar statements", dups);
        size_t nb = 0;
        for (size_t i = 0; i < r.nfs; i++) nb += is_kind(&r.fs[i], budget);
        if (nb) print_findings(&r, "Captures over budget", budget);
        /* slow statements: the flagged ones, or those over --slow, else
        ** the slowest five */
        if (r.nslows > 1) qsort(r.slows, r.nslows, sizeof *r.slows, by_ms);
        size_t shown = 0;
        if (slow_ms >= 0) printf("\nSlow statements (%.3f ms or more)\n", slow_ms);
        else if (r.any_slow_flag) printf("\nSlow statements (over the log's threshold)\n");
        else printf("\nSlowest statements\n");
        for (size_t i = 0; i < r.nslows && shown < (size_t)top; i++) {
            if (slow_ms >= 0 && r.slows[i].ms < slow_ms) break;
            if (slow_ms < 0 && r.any_slow_flag && !r.slows[i].flagged) continue;
            if (slow_ms < 0 && !r.any_slow_flag && shown >= 5) break;
            char sql[120];
            clip(r.slows[i].sql, 100, sql, sizeof sql);
            printf("  %10.3f ms  %s  at %s\n", r.slows[i].ms, sql,
                   r.slows[i].site ? r.slows[i].site : "?");
            shown++;
        }
        if (!shown) printf("  none\n");
        if (url) code = explain(&r, url, schema, schema_path, top < 5 ? top : 5);
        else
            printf("\n(index advice: run again with --db URL to EXPLAIN the slowest statements)\n");
    }
    report_free(&r);
    corm_schema_free(schema);
    return code;
}
