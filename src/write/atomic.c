/*
** atomic.c - transactions: corm_atomic (a block that commits or rolls back
** exactly its own level, nesting through savepoints) and the internal
** transaction every multi-statement write runs in.
**
** Counting: corm_begin/commit/rollback and corm_atomic are the program's
** own statements and count as queries (Django's assertNumQueries sees its
** SAVEPOINTs too).  The BEGIN / SAVEPOINT / COMMIT a write adds to make
** itself atomic are internal events, like the read snapshot's: Django's
** atomic(savepoint=False) inside bulk_create and delete adds none either.
**
** Invariant: corm__tx_end runs for every successful corm__tx_begin, and
** when it returns no transaction or savepoint of its own is left open.
*/
#include "write_int.h"

#include <string.h>
#include <time.h>

bool corm__tx_open(corm_db *db) { return db->tx_depth > 0 || db->be->in_transaction(db->conn); }

corm_rc corm__tx_begin(corm_db *db, corm__tx *tx)
{
    tx->kind = 0;
    bool nested = corm__tx_open(db);
    corm_rc rc = corm__db_exec_internal(
        db, corm__sql_tx(nested ? CORM__TX_SAVEPOINT : CORM__TX_BEGIN), "transaction", &db->err);
    if (rc == CORM_OK) tx->kind = nested ? 2 : 1;
    return rc;
}

corm_rc corm__tx_end(corm_db *db, corm__tx *tx, corm_rc rc)
{
    if (!tx->kind) return rc;
    if (rc == CORM_OK) {
        rc = corm__db_exec_internal(
            db, corm__sql_tx(tx->kind == 1 ? CORM__TX_COMMIT : CORM__TX_RELEASE), "transaction",
            &db->err);
        if (rc == CORM_OK) {
            tx->kind = 0;
            return CORM_OK;
        }
        /* a failed COMMIT (a deferred foreign key) leaves SQLite's
        ** transaction open: roll it back below */
    }
    corm_error scratch;
    corm__err_clear(&scratch);
    if (tx->kind == 1) {
        if (db->be->in_transaction(db->conn))
            (void)corm__db_exec_internal(db, corm__sql_tx(CORM__TX_ROLLBACK), "transaction",
                                         &scratch);
    } else {
        (void)corm__db_exec_internal(db, corm__sql_tx(CORM__TX_ROLLBACK_SAVEPOINT), "transaction",
                                     &scratch);
    }
    tx->kind = 0;
    return rc;
}

int corm_tx_depth(const corm_db *db) { return db ? db->tx_depth : 0; }

corm_rc corm_atomic_at(corm_db *db, corm_atomic_fn fn, void *ud, corm_site site)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!fn) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_atomic: the block function is NULL");
        return CORM_MISUSE;
    }
    corm_rc rc = corm_begin_at(db, site);
    if (rc != CORM_OK) return rc;
    int depth = db->tx_depth;
    rc = fn(db, ud);
    if (db->tx_depth != depth) {
        /* fn left levels of its own open (or closed ours): put it back */
        corm_error keep = db->err;
        while (db->tx_depth > depth)
            if (corm_rollback_at(db, site) != CORM_OK) break;
        db->err = keep;
        if (db->tx_depth < depth) {
            corm__err_set(&db->err, CORM_MISUSE,
                          "corm_atomic: the block committed or rolled back its own transaction");
            corm__err_hint(&db->err, "inside corm_atomic, pair every corm_begin with one "
                                     "corm_commit or corm_rollback, or nest corm_atomic");
            return CORM_MISUSE;
        }
        if (rc == CORM_OK) {
            corm__err_set(&db->err, CORM_MISUSE, "corm_atomic: the block left %s open",
                          "a transaction level");
            corm__err_hint(&db->err, "pair every corm_begin with one corm_commit or corm_rollback");
            rc = CORM_MISUSE;
        }
    }
    if (rc == CORM_OK) return corm_commit_at(db, site);
    corm_error keep = db->err;
    (void)corm_rollback_at(db, site); /* the level is gone either way */
    db->err = keep;
    return rc;
}

void corm__now_text(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    long us = ts.tv_nsec / 1000;
    /* ".ffffff", written by hand: no sprintf in src/ */
    if (n + 8 <= 32) {
        out[n++] = '.';
        for (int i = 5; i >= 0; i--) {
            out[n + (size_t)i] = (char)('0' + us % 10);
            us /= 10;
        }
        n += 6;
        out[n] = '\0';
    }
}

void corm__obj_set_text(void *obj, const corm_field *f, const char *text)
{
    corm_obj *h = obj;
    char *p = NULL;
    if (h->batch && h->batch->arena) {
        p = corm__arena_strdup(h->batch->arena, text);
    } else if (h->model->now_offset) {
        /* a new object: the room its struct keeps for these values */
        p = (char *)obj + h->model->now_offset + (f->type == CORM_FT_DATE ? CORM_NOW_DATE : 0);
        corm__strlcpy(p, text,
                      f->type == CORM_FT_DATE ? CORM_NOW_BUF - CORM_NOW_DATE : CORM_NOW_DATE);
    }
    if (!p) return;
    *(char **)corm__field_ptr(obj, f) = p;
    h->nulls &= ~((uint64_t)1 << (f - h->model->fields));
}
