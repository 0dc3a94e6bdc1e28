/*
** test_stmt_next.c - what the layer above tells the statement path about
** the next statement (db->next: kind, parent result, relation, path; the
** memo's fingerprint, length and hash of the text) is copied only when a
** layer wrote it, and classify finds an origin by its address when it is
** an origin name's own string (count(), exists()) or interned (a lazy
** load's), by its text otherwise.  Pinned here: no statement inherits what
** was told of the one before it (a lazy load's parent and relation, a
** count's fingerprint), and origins at one address with different texts
** (a stack buffer reused) or one text at different addresses are each
** classified by their text.
**
** Fixture (test.h): books 1,2 by author 1; 3,4,5 by author 2; 6 by author
** 3; author 4 has none.  Genres 1..3.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    db = test_db_open_logging();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* What each statement's event said (copied: events are borrowed). */
typedef struct seen_ev {
    char origin[64], model[32], relation[32], path[32];
    corm_origin_kind kind;
    uint64_t parent_batch, fingerprint, text_fp;
    size_t parent_nobjs;
} seen_ev;

static seen_ev evs[64];
static size_t nevs;

static void copy_str(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s ? s : "(null)");
}

static void on_event(void *ud, const corm_event *ev)
{
    (void)ud;
    if (ev->internal || nevs >= sizeof evs / sizeof evs[0]) return;
    seen_ev *e = &evs[nevs++];
    copy_str(e->origin, sizeof e->origin, ev->origin);
    copy_str(e->model, sizeof e->model, ev->model);
    copy_str(e->relation, sizeof e->relation, ev->relation);
    copy_str(e->path, sizeof e->path, ev->path);
    e->kind = ev->kind;
    e->parent_batch = ev->parent_batch;
    e->parent_nobjs = ev->parent_nobjs;
    e->fingerprint = ev->fingerprint;
    e->text_fp = ev->sql ? corm_sql_fingerprint(ev->sql, NULL, 0) : 0;
}

/* Listen from now on (a test that failed while listening stops first). */
static int listening = -1;
static int listen(void)
{
    if (listening >= 0) corm_off_query(db, listening);
    nevs = 0;
    listening = corm_on_query(db, on_event, NULL);
    assert_true(listening >= 0);
    return listening;
}

/* Every event's fingerprint is its own text's. */
static void assert_fingerprints(void)
{
    for (size_t i = 0; i < nevs; i++) assert_true(evs[i].fingerprint == evs[i].text_fp);
}

static void assert_told_nothing(const seen_ev *e)
{
    assert_int_equal(e->parent_batch, 0);
    assert_int_equal(e->parent_nobjs, 0);
    assert_string_equal(e->relation, "(null)");
    assert_string_equal(e->path, "(null)");
}

/* A lazy load (the accessor tells its parent result and relation) and
** then count()/exists(), whose layer tells only the memo's fingerprint:
** the counts carry nothing of the lazy load, and the next lazy load is
** told again. */
static void test_lazy_load_then_count(void **state)
{
    (void)state;
    int h = listen();
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    Book *b0 = corm_qs_at(qs, 0), *b2 = corm_qs_at(qs, 2);
    assert_non_null(book_author(b0)); /* a lazy load */
    corm_qs *cnt = corm_all(db, Book);
    corm_filter(cnt, "pages__gt", corm_int(500));
    assert_int_equal(corm_count(cnt), 4);
    assert_true(corm_exists(cnt));
    assert_non_null(book_author(b2)); /* another lazy load */
    assert_int_equal(corm_count(cnt), 4);
    assert_int_equal(nevs, 6);

    assert_int_equal(evs[0].kind, CORM_ORIGIN_QUERYSET);
    assert_int_equal(evs[1].kind, CORM_ORIGIN_FK);
    assert_string_equal(evs[1].relation, "author");
    assert_string_equal(evs[1].model, "Book");
    assert_true(evs[1].parent_batch != 0);
    assert_int_equal(evs[1].parent_nobjs, 6);

    assert_int_equal(evs[2].kind, CORM_ORIGIN_COUNT);
    assert_string_equal(evs[2].origin, "count");
    assert_told_nothing(&evs[2]);
    assert_int_equal(evs[3].kind, CORM_ORIGIN_EXISTS);
    assert_string_equal(evs[3].origin, "exists");
    assert_told_nothing(&evs[3]);

    assert_int_equal(evs[4].kind, CORM_ORIGIN_FK);
    assert_string_equal(evs[4].relation, "author");
    assert_true(evs[4].parent_batch == evs[1].parent_batch);
    assert_int_equal(evs[4].parent_nobjs, 6);
    assert_int_equal(evs[5].kind, CORM_ORIGIN_COUNT);
    assert_told_nothing(&evs[5]);
    assert_fingerprints();
    /* the two counts are one statement shape, the exists another */
    assert_true(evs[2].fingerprint == evs[5].fingerprint);
    assert_true(evs[2].fingerprint != evs[3].fingerprint);

    corm_qs_free(cnt);
    corm_qs_free(qs);
    corm_off_query(db, h);
    listening = -1;
}

/* A count's fingerprint comes with it from the memo: a statement after it
** whose layer tells none (raw SQL, a write) is fingerprinted from its own
** text, not given the count's. */
static void test_fingerprint_not_left_over(void **state)
{
    (void)state;
    int h = listen();
    corm_qs *cnt = corm_all(db, Author);
    assert_int_equal(corm_count(cnt), 4);
    assert_int_equal(corm_exec(db, "SELECT 1"), CORM_OK);
    assert_int_equal(corm_count(cnt), 4);
    Genre g = CORM_NEW(Genre);
    g.name = "Poetry";
    assert_int_equal(corm_save(db, &g), CORM_OK);
    assert_true(corm_exists(cnt));
    assert_int_equal(corm_delete(db, &g), CORM_OK);
    assert_true(nevs >= 6);
    assert_int_equal(evs[0].kind, CORM_ORIGIN_COUNT);
    assert_int_equal(evs[1].kind, CORM_ORIGIN_EXEC);
    assert_int_equal(evs[2].kind, CORM_ORIGIN_COUNT);
    assert_int_equal(evs[3].kind, CORM_ORIGIN_INSERT);
    assert_string_equal(evs[3].model, "genre");
    assert_int_equal(evs[4].kind, CORM_ORIGIN_EXISTS);
    assert_fingerprints();
    assert_true(evs[1].fingerprint != evs[0].fingerprint);
    assert_true(evs[3].fingerprint != evs[2].fingerprint);
    corm_qs_free(cnt);
    corm_off_query(db, h);
    listening = -1;
}

/* m2m links name their relation in an origin written into a buffer on the
** stack ("insert:Book.genres"): one call after another, the same address
** holds another text.  Each is classified by its text, and a loop of them
** is still one finding per relation. */
static void test_one_address_two_origins(void **state)
{
    (void)state;
    Post post = CORM_NEW(Post);
    post.title = "p";
    post.body = "";
    assert_int_equal(corm_save(db, &post), CORM_OK);
    Tag tags[3];
    static const char *const names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        tags[i] = CORM_NEW(Tag);
        tags[i].name = (char *)names[i];
        assert_int_equal(corm_save(db, &tags[i]), CORM_OK);
    }
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    assert_int_equal(corm_eval(qs), CORM_OK);
    corm_qs *gq = corm_all(db, Genre);
    corm_order_by(gq, "id");
    assert_int_equal(corm_eval(gq), CORM_OK);
    Book *b6 = corm_qs_at(qs, 5); /* Beowulf: no genres */
    int h = listen();
    corm_capture *c = corm_capture_begin(db, "links");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(corm_m2m_add(db, b6, BOOK_REL_GENRES, corm_qs_at(gq, (size_t)i)), CORM_OK);
        assert_int_equal(corm_m2m_add(db, &post, POST_REL_TAGS, &tags[i]), CORM_OK);
    }
    corm_capture_end(c);
    assert_int_equal(nevs, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(evs[i].kind, CORM_ORIGIN_INSERT);
        assert_string_equal(evs[i].origin, i % 2 ? "insert:Post.tags" : "insert:Book.genres");
        assert_string_equal(evs[i].model, i % 2 ? "Post" : "Book");
        assert_string_equal(evs[i].relation, i % 2 ? "tags" : "genres");
    }
    assert_fingerprints();
    assert_int_equal(corm_capture_nfindings_of(c, CORM_FINDING_WRITE_IN_LOOP), 2);
    for (size_t i = 0; i < corm_capture_nfindings(c); i++) {
        const corm_finding *f = corm_capture_finding(c, i);
        if (f->kind != CORM_FINDING_WRITE_IN_LOOP) continue;
        assert_int_equal(f->count, 3);
        assert_true(strcmp(f->relation, "genres") == 0 || strcmp(f->relation, "tags") == 0);
    }
    corm_capture_free(c);
    corm_off_query(db, h);
    corm_qs_free(gq);
    corm_qs_free(qs);
}

/* count() in a loop over related querysets: the origin found by its
** address, the registration by the site, one finding with every count. */
static void test_count_loop_by_address(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        corm_capture *c = corm_capture_begin(db, "counts");
        corm_qs *qs = corm_all(db, Author);
        corm_order_by(qs, "id");
        Author *a;
        int64_t total = 0;
        int h = listen();
        corm_foreach(a, qs)
        {
            corm_qs *mine = author_books_qs(a);
            total += corm_count(mine);
            total += corm_exists(mine) ? 100 : 0;
            corm_qs_free(mine);
        }
        corm_off_query(db, h);
        listening = -1;
        corm_capture_end(c);
        assert_int_equal(total, 6 + 300);
        assert_int_equal(nevs, 9); /* the authors, then 4 counts and 4 exists */
        for (size_t i = 1; i < nevs; i++) {
            assert_int_equal(evs[i].kind, i % 2 ? CORM_ORIGIN_SET_COUNT : CORM_ORIGIN_SET_EXISTS);
            assert_string_equal(evs[i].origin, i % 2 ? "count" : "exists");
            assert_string_equal(evs[i].relation, "books");
        }
        assert_fingerprints();
        assert_int_equal(corm_capture_nfindings_of(c, CORM_FINDING_COUNT_IN_LOOP), 1);
        assert_int_equal(corm_capture_nfindings_of(c, CORM_FINDING_EXISTS_IN_LOOP), 1);
        for (size_t i = 0; i < corm_capture_nfindings(c); i++)
            assert_int_equal(corm_capture_finding(c, i)->count, 4);
        corm_capture_free(c);
        corm_qs_free(qs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_load_then_count),
        cmocka_unit_test(test_fingerprint_not_left_over),
        cmocka_unit_test(test_one_address_two_origins),
        cmocka_unit_test(test_count_loop_by_address),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
