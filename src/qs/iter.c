/*
** iter.c - iterator(chunk_size): one cursor, objects hydrated chunk by
** chunk into an arena that is emptied before the next chunk, so memory
** stays flat however many rows the cursor returns.  prefetch_related runs
** once per chunk (Django 4.1+: one prefetch batch per chunk_size rows).
*/
#include "qs_int.h"

#include <string.h>

struct corm_iter {
    corm_qs *qs;
    corm__compiled c;
    corm__cursor cur;
    bool open, done;
    corm_arena chunk;
    void **items;
    size_t n, i, cap, chunk_size;
    corm_site site;
};

static void *fail(corm_iter *it, corm_rc rc)
{
    if (rc == CORM_NOMEM) corm__err_set(&it->qs->err, CORM_NOMEM, "out of memory iterating");
    else if (it->qs->err.rc == CORM_OK) corm__err_take(&it->qs->err, &it->qs->db->err);
    it->done = true;
    it->n = it->i = 0;
    if (it->open) corm__cursor_close(&it->cur);
    it->open = false;
    return NULL;
}

corm_iter *corm_iterator_at(corm_qs *qs, size_t chunk_size, corm_site site)
{
    if (!qs) return NULL;
    CORM__QS_ENTER(qs);
    corm_iter *it = corm__calloc(1, sizeof *it);
    if (!it) return NULL;
    it->qs = qs;
    it->site = site;
    it->chunk_size = chunk_size ? chunk_size : 2000; /* Django's default */
    corm__compiled_init(&it->c);
    corm__arena_init(&it->chunk, 8192);
    it->done = true;
    if (qs->err.rc != CORM_OK || !corm__qs_route(qs)) return it;
    if (qs->evaluated || qs->raw_sql || qs->q.values_mode || qs->q.aggregate) {
        corm__err_set(&qs->err, CORM_MISUSE,
                      "corm_iterator needs an unevaluated queryset of objects");
        corm__err_hint(&qs->err, "iterate a fresh corm_all(...) queryset");
        return it;
    }
    const corm__dialect *d = qs->db->dialect;
    if (corm__compile_select(&qs->q, CORM__SEL_OBJECTS, d, &it->c, &qs->err) != CORM_OK) return it;
    /* nothing to select whatever the data (an `in` of an empty list, a
    ** slice [n:n]): an iterator that ends at once, no query (Django's
    ** EmptyResultSet); compiled first all the same, so its mistakes are
    ** reported */
    if (corm__query_empty(&qs->q)) return it;
    it->items = corm__malloc(it->chunk_size * sizeof *it->items);
    if (!it->items) {
        corm__err_set(&qs->err, CORM_NOMEM, "out of memory starting an iterator");
        return it;
    }
    it->cap = it->chunk_size;
    /* PostgreSQL: a server-side cursor, so the client holds one chunk */
    qs->db->stream_rows = it->chunk_size > INT32_MAX ? INT32_MAX : (int)it->chunk_size;
    if (corm__db_query(qs->db, &it->cur, it->c.sql.p, it->c.params, it->c.nparams, site, qs->built,
                       "iterator") != CORM_OK) {
        corm__err_take(&qs->err, &qs->db->err);
        return it;
    }
    it->open = true;
    it->done = false;
    return it;
}

/* Empty the chunk arena and hydrate the next chunk_size rows into it. */
static corm_rc next_chunk(corm_iter *it)
{
    corm_qs *qs = it->qs;
    corm__arena_reset(&it->chunk);
    it->n = it->i = 0;
    corm_batch *batch = corm__batch_new(qs->db, &qs->q, &it->chunk);
    if (!batch) return CORM_NOMEM;
    batch->home = qs->home ? qs->home : qs->db; /* where its objects report */
    while (it->n < it->chunk_size) {
        bool row;
        corm_rc rc = corm__cursor_step(&it->cur, &row);
        if (rc != CORM_OK) return rc;
        if (!row) {
            it->done = true;
            break;
        }
        void *obj;
        rc = corm__hydrate_row(qs->db, it->cur.stmt, &it->c, &it->chunk, batch, &obj);
        if (rc != CORM_OK) return rc;
        it->items[it->n++] = obj;
    }
    batch->nobjs = it->n;
    if (it->done) {
        corm__cursor_close(&it->cur);
        it->open = false;
    } else {
        corm__cursor_emit(&it->cur); /* logged when it runs, not at its end */
    }
    /* each chunk is one multi-row result to the N+1 tooling */
    corm__batch_result(qs->db, &qs->q, &it->c, batch, it->items, it->n, it->site, qs->built);
    corm__qs_known(qs, it->items, it->n); /* a related queryset's object */
    corm_rc rc = CORM_OK;
    if (it->n && qs->npf) {
        corm_db *prev = corm__db_serve(qs->db, qs->home);
        rc = corm__prefetch_run(qs->db, &it->chunk, qs->q.model, it->items, it->n, qs->pf, qs->npf,
                                it->site, qs->built, &qs->err);
        corm__db_serve(qs->db, prev);
    }
    return rc;
}

void *corm_iter_next(corm_iter *it)
{
    if (!it) return NULL;
    if (it->i < it->n) return it->items[it->i++]; /* from the chunk: no call on the db */
    CORM__QS_ENTER(it->qs);
    if (it->done) return NULL;
    corm_rc rc = next_chunk(it);
    if (rc != CORM_OK) return fail(it, rc);
    return it->i < it->n ? it->items[it->i++] : NULL;
}

size_t corm_iter_memory_size(const corm_iter *it) { return it ? corm__arena_size(&it->chunk) : 0; }

void corm_iter_free(corm_iter *it)
{
    if (!it) return;
    if (it->open) corm__cursor_close(&it->cur);
    corm__compiled_free(&it->c);
    corm__arena_free(&it->chunk);
    corm__free(it->items);
    corm__free(it);
}
