/*
** recorder.c - Silk's model: sampled requests and their statements and
** findings in a SQLite file of their own, written by one thread.
**
** The request path only links a finished record into a bounded queue
** (a mutex held for a few pointer writes); a full queue drops the record
** and counts it, it never waits.  The writer takes the whole queue at
** once and writes it in one transaction, then trims the oldest requests
** past the retention limit.  The file is in WAL mode so the panel reads
** while the writer writes.
*/
#include "inspect_int.h"
#include "../backend/backend.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct corm__recorder {
    sqlite3 *db;
    sqlite3_stmt *ins_req, *ins_q, *ins_f;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work, idle;
    corm__rec *head, *tail;
    size_t n, cap;
    bool stop;
    uint64_t next_id, since_trim;
    uint64_t done_id; /* every request up to this id is written (or failed) */
    int keep;
    uint64_t recorded, dropped, failed;
};

static const char *const schema_sql =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS requests ("
    " id INTEGER PRIMARY KEY, started REAL NOT NULL, method TEXT NOT NULL,"
    " route TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,"
    " ms REAL NOT NULL, db_ms REAL NOT NULL, nqueries INTEGER NOT NULL,"
    " ndups INTEGER NOT NULL, nsimilar INTEGER NOT NULL, nfindings INTEGER NOT NULL,"
    " nplusone INTEGER NOT NULL, worst_n1 INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS requests_route ON requests(route);"
    "CREATE TABLE IF NOT EXISTS queries ("
    " request_id INTEGER NOT NULL, seq INTEGER NOT NULL, sql TEXT NOT NULL,"
    " params TEXT NOT NULL, binds TEXT NOT NULL, redacted INTEGER NOT NULL,"
    " ms REAL NOT NULL, rows INTEGER NOT NULL, kind TEXT NOT NULL, origin TEXT NOT NULL,"
    " site TEXT, built TEXT, fingerprint TEXT NOT NULL, dupkey TEXT NOT NULL,"
    " rc INTEGER NOT NULL, PRIMARY KEY (request_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS findings ("
    " request_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
    " model TEXT, relation TEXT, count INTEGER NOT NULL, ms REAL NOT NULL,"
    " site TEXT, built TEXT, sql TEXT, fix TEXT, message TEXT,"
    " PRIMARY KEY (request_id, seq)) WITHOUT ROWID;";

static void *writer(void *arg);

static bool prep(corm__recorder *rc, const char *sql, sqlite3_stmt **st, corm_error *err)
{
    if (sqlite3_prepare_v2(rc->db, sql, -1, st, NULL) == SQLITE_OK) return true;
    corm__err_set(err, CORM_IO, "recorder: %s", sqlite3_errmsg(rc->db));
    return false;
}

corm__recorder *corm__recorder_open(const char *path, int keep, int queue_size, corm_error *err)
{
    corm__recorder *rc = corm__calloc(1, sizeof *rc);
    if (!rc) {
        corm__err_set(err, CORM_NOMEM, "out of memory opening the recorder");
        return NULL;
    }
    rc->keep = keep > 0 ? keep : 10000;
    rc->cap = queue_size > 0 ? (size_t)queue_size : 1024;
    pthread_mutex_init(&rc->mu, NULL);
    pthread_cond_init(&rc->work, NULL);
    pthread_cond_init(&rc->idle, NULL);
    /* several server processes may share the file and open it together */
    bool opened = sqlite3_open_v2(path, &rc->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                  NULL) == SQLITE_OK;
    if (opened) sqlite3_busy_timeout(rc->db, 2000);
    if (!opened || corm__sqlite_exec_waiting(rc->db, schema_sql) != SQLITE_OK) {
        corm__err_set(err, CORM_IO, "recorder file %s: %s", path,
                      rc->db ? sqlite3_errmsg(rc->db) : "cannot open");
        corm__err_hint(err, "record_path names a SQLite file of the recorder's own, in a "
                            "writable directory (never the application's database)");
        goto fail;
    }
    sqlite3_stmt *st;
    if (!prep(rc, "SELECT coalesce(max(id), 0) FROM requests", &st, err)) goto fail;
    if (sqlite3_step(st) == SQLITE_ROW) rc->next_id = (uint64_t)sqlite3_column_int64(st, 0);
    rc->done_id = rc->next_id;
    sqlite3_finalize(st);
    if (!prep(rc, "INSERT INTO requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &rc->ins_req, err) ||
        !prep(rc, "INSERT INTO queries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &rc->ins_q, err) ||
        !prep(rc, "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", &rc->ins_f, err))
        goto fail;
    if (pthread_create(&rc->thread, NULL, writer, rc) != 0) {
        corm__err_set(err, CORM_IO, "recorder: cannot start its writer thread");
        goto fail;
    }
    return rc;
fail:
    sqlite3_finalize(rc->ins_req);
    sqlite3_finalize(rc->ins_q);
    sqlite3_finalize(rc->ins_f);
    sqlite3_close(rc->db);
    pthread_mutex_destroy(&rc->mu);
    pthread_cond_destroy(&rc->work);
    pthread_cond_destroy(&rc->idle);
    corm__free(rc);
    return NULL;
}

uint64_t corm__recorder_push(corm__recorder *rc, corm__rec *r)
{
    pthread_mutex_lock(&rc->mu);
    if (rc->n >= rc->cap || rc->stop) {
        rc->dropped++;
        pthread_mutex_unlock(&rc->mu);
        return 0;
    }
    uint64_t id = r->id = ++rc->next_id;
    r->next = NULL;
    if (rc->tail) rc->tail->next = r;
    else rc->head = r;
    rc->tail = r;
    rc->n++;
    pthread_cond_signal(&rc->work);
    pthread_mutex_unlock(&rc->mu);
    return id;
}

static void text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

static bool step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE;
}

static bool write_one(corm__recorder *rc, const corm__rec *r)
{
    sqlite3_stmt *st = rc->ins_req;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
    sqlite3_bind_double(st, 2, r->started);
    text(st, 3, r->method);
    text(st, 4, r->route);
    text(st, 5, r->path);
    sqlite3_bind_int(st, 6, r->status);
    sqlite3_bind_double(st, 7, r->ms);
    sqlite3_bind_double(st, 8, r->db_ms);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)r->nqueries);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)r->ndups);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)r->nsimilar);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)r->nf);
    sqlite3_bind_int64(st, 13, (sqlite3_int64)r->nplusone);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)r->worst_n1);
    if (!step(st)) return false;
    char fp[24], dk[24];
    for (size_t i = 0; i < r->nq; i++) {
        const corm__qrec *q = &r->q[i];
        st = rc->ins_q;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i + 1);
        text(st, 3, q->sql);
        text(st, 4, q->params);
        text(st, 5, q->binds);
        sqlite3_bind_int(st, 6, q->redacted);
        sqlite3_bind_double(st, 7, q->ms);
        sqlite3_bind_int64(st, 8, q->rows);
        text(st, 9, corm_origin_kind_name((corm_origin_kind)q->kind));
        text(st, 10, q->origin);
        text(st, 11, q->site);
        text(st, 12, q->built);
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)q->fp);
        snprintf(dk, sizeof dk, "%016llx", (unsigned long long)q->dupkey);
        text(st, 13, fp);
        text(st, 14, dk);
        sqlite3_bind_int(st, 15, q->rc);
        if (!step(st)) return false;
    }
    for (size_t i = 0; i < r->nf; i++) {
        const corm_finding *f = &r->f[i].f;
        st = rc->ins_f;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i + 1);
        text(st, 3, corm_finding_kind_name(f->kind));
        text(st, 4, f->model);
        text(st, 5, f->relation);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)f->count);
        sqlite3_bind_double(st, 7, f->ms);
        text(st, 8, r->f[i].site);
        text(st, 9, r->f[i].built);
        text(st, 10, f->sql);
        text(st, 11, f->fix);
        text(st, 12, f->message);
        if (!step(st)) return false;
    }
    return true;
}

static void trim(corm__recorder *rc, uint64_t last_id)
{
    if (last_id <= (uint64_t)rc->keep) return;
    char sql[256];
    unsigned long long cut = (unsigned long long)(last_id - (uint64_t)rc->keep);
    snprintf(sql, sizeof sql,
             "DELETE FROM requests WHERE id <= %llu; DELETE FROM queries WHERE request_id <= "
             "%llu; DELETE FROM findings WHERE request_id <= %llu;",
             cut, cut, cut);
    sqlite3_exec(rc->db, sql, NULL, NULL, NULL);
}

static void *writer(void *arg)
{
    corm__recorder *rc = arg;
    pthread_mutex_lock(&rc->mu);
    for (;;) {
        while (!rc->head && !rc->stop) pthread_cond_wait(&rc->work, &rc->mu);
        if (!rc->head && rc->stop) break;
        corm__rec *list = rc->head;
        rc->head = rc->tail = NULL;
        rc->n = 0;
        pthread_mutex_unlock(&rc->mu);

        uint64_t ok = 0, bad = 0, last = 0;
        sqlite3_exec(rc->db, "BEGIN", NULL, NULL, NULL);
        for (corm__rec *r = list; r; r = r->next) {
            if (write_one(rc, r)) ok++;
            else bad++;
            last = r->id;
        }
        rc->since_trim += ok;
        if (rc->since_trim >= 100 || rc->since_trim >= (uint64_t)rc->keep / 10) {
            trim(rc, last);
            rc->since_trim = 0;
        }
        if (sqlite3_exec(rc->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            sqlite3_exec(rc->db, "ROLLBACK", NULL, NULL, NULL);
            bad += ok;
            ok = 0;
        }
        while (list) {
            corm__rec *next = list->next;
            corm__rec_free(list);
            list = next;
        }
        pthread_mutex_lock(&rc->mu);
        rc->recorded += ok;
        rc->failed += bad;
        rc->done_id = last;
        pthread_cond_broadcast(&rc->idle);
    }
    pthread_cond_broadcast(&rc->idle);
    pthread_mutex_unlock(&rc->mu);
    return NULL;
}

void corm__recorder_flush(corm__recorder *rc)
{
    pthread_mutex_lock(&rc->mu);
    /* what is queued now, not what comes later: under steady traffic the
    ** queue is never empty, and a panel page must not wait for it to be */
    uint64_t mark = rc->next_id;
    while (rc->done_id < mark) pthread_cond_wait(&rc->idle, &rc->mu);
    pthread_mutex_unlock(&rc->mu);
}

void corm__recorder_counts(corm__recorder *rc, uint64_t *recorded, uint64_t *dropped,
                           uint64_t *failed)
{
    pthread_mutex_lock(&rc->mu);
    *recorded = rc->recorded;
    *dropped = rc->dropped;
    *failed = rc->failed;
    pthread_mutex_unlock(&rc->mu);
}

void corm__recorder_close(corm__recorder *rc)
{
    if (!rc) return;
    pthread_mutex_lock(&rc->mu);
    rc->stop = true;
    pthread_cond_signal(&rc->work);
    pthread_mutex_unlock(&rc->mu);
    pthread_join(rc->thread, NULL);
    sqlite3_finalize(rc->ins_req);
    sqlite3_finalize(rc->ins_q);
    sqlite3_finalize(rc->ins_f);
    sqlite3_close(rc->db);
    pthread_mutex_destroy(&rc->mu);
    pthread_cond_destroy(&rc->work);
    pthread_cond_destroy(&rc->idle);
    corm__free(rc);
}

/* ---------------------------------------------------------------- binds
** The values of a statement for EXPLAIN, one per line: "i<int>", "f<float>",
** "b0"/"b1", "n" (NULL, and every redacted or unsupported value), "t<text>"
** with \n and \\ escaped.  EXPLAIN needs the types; a redacted value binds
** NULL, which gives the same plan for the equality and range tests corm
** compiles. */
void corm__binds_encode(corm_buf *b, const corm_value *vals, int n, bool redacted)
{
    for (int i = 0; i < n; i++) {
        const corm_value *v = &vals[i];
        if (i) corm__buf_addc(b, '\n');
        if (redacted) {
            corm__buf_addc(b, 'n');
            continue;
        }
        switch (v->type) {
        case CORM_V_INT: corm__buf_addf(b, "i%lld", (long long)v->u.i); break;
        case CORM_V_FLOAT: corm__buf_addf(b, "f%.17g", v->u.f); break;
        case CORM_V_DECIMAL: {
            char d[CORM_DEC_BUF];
            corm__buf_addf(b, "d%s", corm_dec_format(v->u.d, d));
            break;
        }
        case CORM_V_BOOL: corm__buf_addf(b, "b%d", v->u.b ? 1 : 0); break;
        case CORM_V_TEXT: {
            size_t len = v->u.s.n == (size_t)-1 ? strlen(v->u.s.p) : v->u.s.n;
            corm__buf_addc(b, 't');
            for (size_t k = 0; k < len; k++) {
                char c = v->u.s.p[k];
                if (c == '\n') corm__buf_adds(b, "\\n");
                else if (c == '\\') corm__buf_adds(b, "\\\\");
                else if (c) corm__buf_addc(b, c);
            }
            break;
        }
        default: corm__buf_addc(b, 'n'); break;
        }
    }
}

int corm__binds_decode(char *enc, corm_value *vals, int max)
{
    int n = 0;
    if (!enc || !*enc) return 0;
    char *p = enc;
    for (;;) {
        char *end = strchr(p, '\n');
        if (end) *end = '\0';
        if (n == max) return -1;
        corm_value *v = &vals[n++];
        switch (p[0]) {
        case 'i': *v = corm_int(strtoll(p + 1, NULL, 10)); break;
        case 'f': *v = corm_float(strtod(p + 1, NULL)); break;
        case 'd': *v = corm_decv(corm_dec(p + 1)); break;
        case 'b': *v = corm_bool(p[1] == '1'); break;
        case 'n': *v = corm_null(); break;
        case 't': {
            char *w = p + 1, *r = p + 1;
            while (*r) {
                if (r[0] == '\\' && r[1] == 'n') *w++ = '\n', r += 2;
                else if (r[0] == '\\' && r[1] == '\\') *w++ = '\\', r += 2;
                else *w++ = *r++;
            }
            *w = '\0';
            *v = corm_text(p + 1);
            break;
        }
        default: return -1;
        }
        if (!end) break;
        p = end + 1;
    }
    return n;
}
