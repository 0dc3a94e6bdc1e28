/*
** stmt_cache.c - the statement cache under cached querysets (docs/cache.md,
** "Cached querysets").  While a cached queryset evaluates (db->qc.active),
** every SELECT it runs - its own, and each prefetch level's - is looked up
** in the cache by its key material: the database, the schema's hash, the
** SQL, its parameters and the versions of the tables it names.  A hit is
** served by a replay "driver" (corm__replay_backend) that hands the
** recorded cells to the same hydration and stitching code; a miss runs on
** the database and records the cells it reads, stored when the statement
** was read to its end.  Every write statement the db runs notes the tables
** it names (or the epoch, when it names none of the schema's), and their
** versions move when the write is durable: at once outside a transaction,
** at its end inside one.  The cache itself is reached only through the
** hooks the cache layer fills (db->qc.ops).
*/
#include "db_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QC_MAX_TABLES 64
#define QC_MAX_BYTES ((size_t)16 << 20) /* a larger result is not cached */
#define QC_MAGIC "corm-qs1"

enum { CELL_NULL, CELL_INT, CELL_FLOAT, CELL_TEXT, CELL_BLOB, CELL_EXACT };

typedef struct qcell {
    unsigned char type;
    int64_t i;
    double d;
    const char *p; /* TEXT, BLOB, EXACT's text: NUL-terminated */
    size_t n;
} qcell;

struct corm__replay {
    struct corm__replay *next;
    void *data; /* the cache's bytes, released at the end */
    corm_db *db;
    size_t ncols, nrows;
    long row; /* -1 before the first step */
    const char **names;
    qcell *cells;
    char scratch[64]; /* a number's text */
};

struct corm__qrec {
    corm_buf key; /* the key material */
    corm_buf out; /* magic, key material, columns, then the rows */
    bool done, failed;
};

/* ------------------------------------------------------------ tables */

static bool ident_char(int c) { return isalnum(c) || c == '_'; }

/* Calls fn for each identifier of sql (quoted ones unquoted, string
** literals skipped); stops when fn returns false. */
typedef bool (*ident_fn)(void *ud, const char *p, size_t n, bool quoted);
static void scan_idents(const char *sql, ident_fn fn, void *ud)
{
    const char *p = sql;
    while (*p) {
        if (*p == '\'') { /* a string literal, '' inside */
            for (p++; *p; p++)
                if (*p == '\'' && *++p != '\'') break;
            continue;
        }
        if (*p == '"' || *p == '`') {
            char q = *p++;
            const char *s = p;
            while (*p && *p != q) p++;
            if (!fn(ud, s, (size_t)(p - s), true)) return;
            if (*p) p++;
            continue;
        }
        if (isalpha((unsigned char)*p) || *p == '_') {
            const char *s = p;
            while (ident_char((unsigned char)*p)) p++;
            if (!fn(ud, s, (size_t)(p - s), false)) return;
            continue;
        }
        p++;
    }
}

typedef struct tables_ud {
    const corm_schema *schema;
    const char **out;
    size_t max, n;
    bool over, write;
    bool keywords_only; /* looking for a write keyword only */
} tables_ud;

static bool same_word(const char *p, size_t n, const char *w, bool fold)
{
    if (strlen(w) != n) return false;
    return fold ? strncasecmp(p, w, n) == 0 : memcmp(p, w, n) == 0;
}

static void add_table(tables_ud *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->out[i] == name) return;
    if (t->n < t->max) t->out[t->n++] = name;
    else t->over = true;
}

static bool on_ident(void *ud, const char *p, size_t n, bool quoted)
{
    tables_ud *t = ud;
    static const char *const writes[] = {"insert", "update", "delete",   "replace", "create",
                                         "drop",   "alter",  "truncate", "merge",   "copy"};
    if (!quoted)
        for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
            if (same_word(p, n, writes[i], true)) t->write = true;
    const corm_schema *s = t->keywords_only ? NULL : t->schema;
    for (int i = 0; s && i < s->nmodels; i++)
        if (same_word(p, n, s->models[i]->table, !quoted)) add_table(t, s->models[i]->table);
    for (int i = 0; s && i < s->nm2m; i++)
        if (same_word(p, n, s->m2m_tables[i], !quoted)) add_table(t, s->m2m_tables[i]);
    return true;
}

static void scan(const corm_db *db, const char *sql, tables_ud *t)
{
    t->schema = db->schema;
    t->n = 0;
    t->over = t->write = false;
    scan_idents(sql, on_ident, t);
}

bool corm__qc_tables(const corm_db *db, const char *sql, const char **out, size_t max, size_t *n)
{
    tables_ud t = {.out = out, .max = max};
    scan(db, sql, &t);
    *n = t.n;
    return !t.over;
}

/* ------------------------------------------------------------ writes */

static bool in_tx(corm_db *db)
{
    return db->tx_depth > 0 || (db->be->in_transaction(db->conn) && !db->qc.snapshot);
}

static void note(corm_db *db, const char *table)
{
    corm__qc *q = &db->qc;
    for (size_t i = 0; i < q->npending; i++)
        if (q->pending[i] == table) return;
    if (q->npending == q->cappending) {
        size_t cap = q->cappending ? q->cappending * 2 : 8;
        const char **p = corm__realloc((void *)q->pending, cap * sizeof *p);
        if (!p) { /* cannot remember it: move everything */
            q->pending_epoch = true;
            return;
        }
        q->pending = p;
        q->cappending = cap;
    }
    q->pending[q->npending++] = table;
}

static bool flush(corm_db *db)
{
    corm__qc *q = &db->qc;
    if (!q->npending && !q->pending_epoch) return true;
    if (!q->ops->bump(q->ud, q->pending, q->npending, q->pending_epoch)) return false;
    q->npending = 0;
    q->pending_epoch = false;
    return true;
}

void corm__qc_after(corm_db *db, const char *sql)
{
    corm__qc *q = &db->qc;
    if (!q->ops) return;
    const char *tables[QC_MAX_TABLES];
    /* a read (most statements) is told by its keywords alone */
    tables_ud t = {.out = tables, .max = QC_MAX_TABLES, .keywords_only = true};
    if (sql) scan(db, sql, &t);
    if (t.write) {
        t.keywords_only = false;
        scan(db, sql, &t);
        for (size_t i = 0; i < t.n; i++) note(db, tables[i]);
        /* a write naming none of the schema's tables (or too many to
        ** list): every cached result goes */
        if (t.n == 0 || t.over) q->pending_epoch = true;
    }
    if ((q->npending || q->pending_epoch) && !in_tx(db)) (void)flush(db);
}

void corm__qc_reset(corm_db *db)
{
    corm__free((void *)db->qc.pending);
    db->qc.pending = NULL;
    db->qc.npending = db->qc.cappending = 0;
    db->qc.pending_epoch = false;
}

/* ------------------------------------------------------------ encoding */

static void put_u32(corm_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    corm__buf_add(b, (const char *)x, 4);
}
static void put_u64(corm_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}
static void put_bytes(corm_buf *b, const void *p, size_t n)
{
    put_u32(b, (uint32_t)n);
    corm__buf_add(b, p ? p : "", n);
    corm__buf_addc(b, '\0'); /* so a text cell read back is a C string */
}

/* The parameters, typed; false for a kind that is never bound. */
static bool put_params(corm_buf *b, const corm_value *params, int nparams)
{
    put_u32(b, (uint32_t)nparams);
    for (int i = 0; i < nparams; i++) {
        const corm_value *v = &params[i];
        corm__buf_addc(b, (char)v->type);
        switch (v->type) {
        case CORM_V_NULL: break;
        case CORM_V_INT: put_u64(b, (uint64_t)v->u.i); break;
        case CORM_V_BOOL: corm__buf_addc(b, v->u.b ? 1 : 0); break;
        case CORM_V_FLOAT: {
            uint64_t bits;
            memcpy(&bits, &v->u.f, 8);
            put_u64(b, bits);
            break;
        }
        case CORM_V_TEXT:
        case CORM_V_BLOB: {
            size_t n = v->type == CORM_V_TEXT && v->u.s.n == (size_t)-1 && v->u.s.p
                           ? strlen(v->u.s.p)
                           : v->u.s.n;
            put_bytes(b, v->u.s.p, n);
            break;
        }
        case CORM_V_DECIMAL:
            put_u64(b, (uint64_t)v->u.d.units);
            put_u32(b, (uint32_t)v->u.d.scale);
            break;
        default: return false;
        }
    }
    return true;
}

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint32_t get_u32(reader *r)
{
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                 (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}
static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}
static const char *get_bytes(reader *r, size_t *n)
{
    *n = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < *n + 1 || r->p[*n] != '\0') {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += *n + 1;
    return s;
}

/* ------------------------------------------------------------ replay */

static struct corm__replay *R(corm__stmt *s) { return (struct corm__replay *)(void *)s; }

bool corm__replay_owns(const corm_db *db, const corm__stmt *st)
{
    for (const struct corm__replay *r = db->qc.replays; r; r = r->next)
        if ((const void *)r == (const void *)st) return true;
    return false;
}

static const qcell *cell(corm__stmt *s, int i)
{
    static const qcell none = {.type = CELL_NULL};
    struct corm__replay *r = R(s);
    if (r->row < 0 || (size_t)r->row >= r->nrows || i < 0 || (size_t)i >= r->ncols) return &none;
    return &r->cells[(size_t)r->row * r->ncols + (size_t)i];
}

static corm_rc rp_step(corm__stmt *s, bool *has_row, corm_error *err)
{
    (void)err;
    struct corm__replay *r = R(s);
    if ((size_t)(r->row + 1) <= r->nrows) r->row++;
    *has_row = (size_t)r->row < r->nrows;
    return CORM_OK;
}
static int rp_column_count(corm__stmt *s) { return (int)R(s)->ncols; }
static bool rp_column_null(corm__stmt *s, int i) { return cell(s, i)->type == CELL_NULL; }
static int64_t rp_column_int(corm__stmt *s, int i)
{
    const qcell *c = cell(s, i);
    switch (c->type) {
    case CELL_INT: return c->i;
    case CELL_FLOAT:
    case CELL_EXACT: return (int64_t)c->d;
    case CELL_TEXT: return strtoll(c->p, NULL, 10);
    default: return 0;
    }
}
static double rp_column_double(corm__stmt *s, int i)
{
    const qcell *c = cell(s, i);
    switch (c->type) {
    case CELL_INT: return (double)c->i;
    case CELL_FLOAT:
    case CELL_EXACT: return c->d;
    case CELL_TEXT: return strtod(c->p, NULL);
    default: return 0;
    }
}
static const char *rp_column_text(corm__stmt *s, int i, size_t *len)
{
    const qcell *c = cell(s, i);
    struct corm__replay *r = R(s);
    size_t dummy;
    if (!len) len = &dummy;
    *len = 0;
    switch (c->type) {
    case CELL_INT: snprintf(r->scratch, sizeof r->scratch, "%lld", (long long)c->i); break;
    case CELL_FLOAT:
        snprintf(r->scratch, sizeof r->scratch, "%.15g", c->d);
        if (!strpbrk(r->scratch, ".eEn")) corm__strlcpy(r->scratch + strlen(r->scratch), ".0", 3);
        break;
    case CELL_TEXT:
    case CELL_BLOB:
    case CELL_EXACT: *len = c->n; return c->p;
    default: return NULL;
    }
    *len = strlen(r->scratch);
    return r->scratch;
}
static const void *rp_column_blob(corm__stmt *s, int i, size_t *len)
{
    const qcell *c = cell(s, i);
    if (c->type == CELL_BLOB || c->type == CELL_TEXT || c->type == CELL_EXACT) {
        if (len) *len = c->n;
        return c->p;
    }
    return rp_column_text(s, i, len);
}
static corm_vtype rp_column_type(corm__stmt *s, int i)
{
    switch (cell(s, i)->type) {
    case CELL_INT: return CORM_V_INT;
    case CELL_FLOAT:
    case CELL_EXACT: return CORM_V_FLOAT;
    case CELL_TEXT: return CORM_V_TEXT;
    case CELL_BLOB: return CORM_V_BLOB;
    default: return CORM_V_NULL;
    }
}
static bool rp_column_exact(corm__stmt *s, int i) { return cell(s, i)->type == CELL_EXACT; }
static const char *rp_column_name(corm__stmt *s, int i)
{
    struct corm__replay *r = R(s);
    return i >= 0 && (size_t)i < r->ncols ? r->names[i] : "";
}
static void rp_finish(corm__stmt *s) { (void)s; /* corm__qc_close frees it */ }

const corm__backend corm__replay_backend = {
    .vendor = "cache",
    .step = rp_step,
    .column_count = rp_column_count,
    .column_null = rp_column_null,
    .column_int = rp_column_int,
    .column_double = rp_column_double,
    .column_text = rp_column_text,
    .column_blob = rp_column_blob,
    .column_type = rp_column_type,
    .column_exact = rp_column_exact,
    .column_name = rp_column_name,
    .finish = rp_finish,
};

static void replay_free(struct corm__replay *r)
{
    if (!r) return;
    if (r->data) r->db->qc.ops->release(r->db->qc.ud, r->data);
    corm__free(r->names);
    corm__free(r->cells);
    corm__free(r);
}

/* The replay of a stored result whose key material is k; NULL when the
** bytes are not one (another key's, hashed alike; damaged). */
static struct corm__replay *replay_parse(corm_db *db, void *data, size_t len, const corm_buf *k)
{
    reader rd = {data, (const unsigned char *)data + len, false};
    size_t n;
    const char *magic = get_bytes(&rd, &n);
    const char *key = get_bytes(&rd, &n);
    if (rd.bad || strcmp(magic, QC_MAGIC) != 0 || n != k->len || memcmp(key, k->p, n) != 0)
        return NULL;
    struct corm__replay *r = corm__calloc(1, sizeof *r);
    if (!r) return NULL;
    r->db = db;
    r->row = -1;
    r->ncols = get_u32(&rd);
    r->nrows = get_u32(&rd);
    if (rd.bad || r->ncols > 4096) goto bad;
    r->names = corm__calloc(r->ncols ? r->ncols : 1, sizeof *r->names);
    size_t ncells = r->ncols * r->nrows;
    if (ncells / (r->ncols ? r->ncols : 1) != r->nrows || ncells > len) goto bad;
    r->cells = corm__calloc(ncells ? ncells : 1, sizeof *r->cells);
    if (!r->names || !r->cells) goto bad;
    for (size_t i = 0; i < r->ncols && !rd.bad; i++) r->names[i] = get_bytes(&rd, &n);
    for (size_t i = 0; i < ncells && !rd.bad; i++) {
        qcell *c = &r->cells[i];
        if (rd.p >= rd.end) {
            rd.bad = true;
            break;
        }
        c->type = *rd.p++;
        switch (c->type) {
        case CELL_NULL: break;
        case CELL_INT: c->i = (int64_t)get_u64(&rd); break;
        case CELL_FLOAT:
        case CELL_EXACT: {
            uint64_t bits = get_u64(&rd);
            memcpy(&c->d, &bits, 8);
            if (c->type == CELL_EXACT) c->p = get_bytes(&rd, &c->n);
            break;
        }
        case CELL_TEXT:
        case CELL_BLOB: c->p = get_bytes(&rd, &c->n); break;
        default: rd.bad = true;
        }
    }
    if (rd.bad || rd.p != rd.end) goto bad;
    r->data = data;
    return r;
bad:
    replay_free(r);
    return NULL;
}

/* ------------------------------------------------------------ lookup */

static bool key_material(corm_db *db, corm_buf *k, const char *sql, const corm_value *params,
                         int nparams)
{
    const char *tables[QC_MAX_TABLES];
    tables_ud t = {.out = tables, .max = QC_MAX_TABLES};
    scan(db, sql, &t);
    if (t.write || t.over) return false; /* not a plain read */
    uint64_t versions[QC_MAX_TABLES + 1];
    if (!db->qc.ops->versions(db->qc.ud, tables, t.n, versions)) return false;
    corm__buf_adds(k, QC_MAGIC);
    put_bytes(k, db->be->vendor, strlen(db->be->vendor));
    /* the database by its url's hash: the stored bytes repeat the key
    ** material, and a url may hold a password */
    put_u64(k, corm__hash_fast(db->url, strlen(db->url)));
    put_u32(k, db->schema ? db->schema->hash : 0);
    put_bytes(k, sql, strlen(sql));
    if (!put_params(k, params, nparams)) return false;
    for (size_t i = 0; i < t.n; i++) {
        put_bytes(k, tables[i], strlen(tables[i]));
        put_u64(k, versions[i]);
    }
    put_u64(k, versions[t.n]); /* the epoch */
    return !k->oom;
}

corm_rc corm__qc_lookup(corm_db *db, corm__cursor *cur, const char *sql, const corm_value *params,
                        int nparams)
{
    corm__qc *q = &db->qc;
    /* inside the application's transaction the cache is not used: its
    ** reads may see its own writes, which are not durable yet */
    if (!q->ops || !q->active || in_tx(db)) return CORM_NOTFOUND;
    /* versions that could not move yet (the cache was down): try again,
    ** and read from the database until they have */
    if ((q->npending || q->pending_epoch) && !flush(db)) return CORM_NOTFOUND;
    struct corm__qrec *rec = corm__calloc(1, sizeof *rec);
    if (!rec) return CORM_NOTFOUND;
    corm__buf_init(&rec->key);
    corm__buf_init(&rec->out);
    if (!key_material(db, &rec->key, sql, params, nparams)) {
        corm__buf_free(&rec->key);
        corm__free(rec);
        return CORM_NOTFOUND;
    }
    void *data = NULL;
    size_t len = 0;
    if (q->ops->get(q->ud, rec->key.p, rec->key.len, &data, &len)) {
        struct corm__replay *r = replay_parse(db, data, len, &rec->key);
        if (!r) q->ops->release(q->ud, data);
        else {
            corm__buf_free(&rec->key);
            corm__free(rec);
            r->next = q->replays;
            q->replays = r;
            cur->replay = r;
            cur->stmt = (corm__stmt *)(void *)r;
            return CORM_OK;
        }
    }
    cur->rec = rec; /* a miss: record what the database returns */
    return CORM_NOTFOUND;
}

void corm__qc_record_start(corm__cursor *cur)
{
    struct corm__qrec *rec = cur->rec;
    const corm__backend *be = cur->db->be;
    int ncols = be->column_count(cur->stmt);
    put_bytes(&rec->out, QC_MAGIC, strlen(QC_MAGIC));
    put_bytes(&rec->out, rec->key.p, rec->key.len);
    put_u32(&rec->out, (uint32_t)ncols);
    put_u32(&rec->out, 0); /* the row count, set at the end */
    for (int i = 0; i < ncols; i++) {
        const char *name = be->column_name(cur->stmt, i);
        put_bytes(&rec->out, name, name ? strlen(name) : 0);
    }
}

void corm__qc_record_row(corm__cursor *cur, bool has_row)
{
    struct corm__qrec *rec = cur->rec;
    if (rec->failed) return;
    if (!has_row) {
        rec->done = true;
        return;
    }
    const corm__backend *be = cur->db->be;
    corm__stmt *st = cur->stmt;
    corm_buf *b = &rec->out;
    int ncols = be->column_count(st);
    for (int i = 0; i < ncols; i++) {
        size_t n = 0;
        switch (be->column_type(st, i)) {
        case CORM_V_INT:
            corm__buf_addc(b, CELL_INT);
            put_u64(b, (uint64_t)be->column_int(st, i));
            break;
        case CORM_V_FLOAT: {
            bool exact = be->column_exact && be->column_exact(st, i);
            double d = be->column_double(st, i);
            uint64_t bits;
            memcpy(&bits, &d, 8);
            corm__buf_addc(b, exact ? CELL_EXACT : CELL_FLOAT);
            put_u64(b, bits);
            if (exact) {
                const char *p = be->column_text(st, i, &n);
                put_bytes(b, p, p ? n : 0);
            }
            break;
        }
        case CORM_V_TEXT: {
            const char *p = be->column_text(st, i, &n);
            corm__buf_addc(b, CELL_TEXT);
            put_bytes(b, p, p ? n : 0);
            break;
        }
        case CORM_V_BLOB: {
            const void *p = be->column_blob(st, i, &n);
            corm__buf_addc(b, CELL_BLOB);
            put_bytes(b, p, p ? n : 0);
            break;
        }
        default: corm__buf_addc(b, CELL_NULL); break;
        }
    }
    if (b->oom || b->len > QC_MAX_BYTES) rec->failed = true;
}

void corm__qc_close(corm__cursor *cur)
{
    corm_db *db = cur->db;
    struct corm__qrec *rec = cur->rec;
    if (rec) {
        cur->rec = NULL;
        if (rec->done && !rec->failed && cur->rc == CORM_OK && !rec->out.oom && db->qc.ops &&
            cur->rows <= UINT32_MAX) {
            /* the row count after the magic, the key and the column count */
            size_t at = 4 + strlen(QC_MAGIC) + 1 + 4 + rec->key.len + 1 + 4;
            uint32_t n = (uint32_t)cur->rows;
            unsigned char x[4] = {(unsigned char)n, (unsigned char)(n >> 8),
                                  (unsigned char)(n >> 16), (unsigned char)(n >> 24)};
            memcpy(rec->out.p + at, x, 4);
            db->qc.ops->put(db->qc.ud, rec->key.p, rec->key.len, rec->out.p, rec->out.len,
                            db->qc.timeout_ms);
        }
        corm__buf_free(&rec->key);
        corm__buf_free(&rec->out);
        corm__free(rec);
    }
    struct corm__replay *r = cur->replay;
    if (r) {
        cur->replay = NULL;
        for (struct corm__replay **pp = &db->qc.replays; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        replay_free(r);
    }
}
