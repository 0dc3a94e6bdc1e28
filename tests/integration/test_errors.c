/*
** test_errors.c - the error model of corm.h ("Errors"), on SQLite and on
** PostgreSQL: every call that takes a db clears its error on entry (a
** failed save, then a success, reads CORM_OK), a queryset's error stays on
** the queryset, accessors report on the db and return NULL only for a NULL
** key, strict mode fails like a test assertion (the README's idiom, run in
** a child process, dies with the finding and the line), an object corm did
** not load has no db to report on and goes to the failure hook, and the
** macros: corm_foreach evaluates its queryset once and checks the loop
** variable, corm_field keeps its error.  Routed (replica) errors:
** test_routing.c and test_replica.c.
*/
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

static const char *at(int line)
{
    static char buf[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s:%d", __FILE__, line);
    return buf[k];
}

/* A failed call leaves an error on db: what the next call must clear.
** In a transaction a misuse (PostgreSQL aborts a transaction on a failed
** statement). */
static void stale(void)
{
    if (corm_tx_depth(db) > 0) {
        assert_int_equal(corm_exec(db, NULL), CORM_MISUSE);
        assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
        return;
    }
    assert_int_equal(corm_exec(db, "SELEKT 1"), CORM_DB);
    assert_int_equal(corm_db_error(db)->rc, CORM_DB);
    assert_string_equal(corm_db_error(db)->sql, "SELEKT 1");
}

static void assert_clear(int line)
{
    const corm_error *e = corm_db_error(db);
    if (e->rc != CORM_OK)
        fail_msg("line %d: corm_db_error(db) is still %s: %s", line, corm_rc_name(e->rc),
                 e->message);
    assert_string_equal(e->message, "");
    assert_string_equal(e->sql, "");
}
/* the call succeeds, and leaves the db's error clear */
#define CLEARS(call)            \
    do {                        \
        stale();                \
        call;                   \
        assert_clear(__LINE__); \
    } while (0)

/* ------------------------------------------------------------ the entry rule */

static void test_failed_save_then_success(void **state)
{
    (void)state;
    Book b = CORM_NEW(Book);
    b.title = "Duplicate";
    b.author_id = 1;
    corm_set_null(&b, "publisher", true);
    corm_set_null(&b, "published_date", true);
    b.isbn = "9780000000001"; /* Les Miserables' */
    b.description = "";
    assert_int_equal(corm_save(db, &b), CORM_CONSTRAINT);
    assert_int_equal(corm_db_error(db)->rc, CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "isbn"));
    /* any successful call that takes db: the error describes it now */
    Tag t = CORM_NEW(Tag);
    t.name = "after a failure";
    assert_int_equal(corm_save(db, &t), CORM_OK);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    /* the documented way to tell a NULL key from an error works again */
    assert_int_equal(corm_save(db, &b), CORM_CONSTRAINT);
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(6));
    Book *beowulf = corm_get(qs);
    assert_non_null(beowulf);
    assert_null(book_publisher(beowulf));             /* a NULL key ... */
    assert_int_equal(corm_db_error(db)->rc, CORM_OK); /* ... not an error */
    corm_qs_free(qs);
    assert_int_equal(corm_delete(db, &t), CORM_OK);
}

static int64_t count_of(corm_qs *qs)
{
    int64_t n = corm_count(qs);
    corm_qs_free(qs);
    return n;
}

static corm_rc atomic_ok(corm_db *d, void *ud)
{
    (void)ud;
    Tag t = CORM_NEW(Tag);
    t.name = "in atomic";
    return corm_save(d, &t);
}

static void on_event(void *ud, const corm_event *ev)
{
    (void)ud;
    (void)ev;
}

/* Every call that takes a db, and every call that runs statements for a
** queryset or an object of db, clears the db's error on entry. */
static void test_every_entry_clears(void **state)
{
    (void)state;
    int h = -1;
    CLEARS(assert_int_equal(corm_exec(db, "SELECT 1"), CORM_OK));
    CLEARS(h = corm_on_query(db, on_event, NULL));
    assert_true(h >= 0);
    CLEARS(corm_off_query(db, h));
    CLEARS(assert_int_equal(corm_begin(db), CORM_OK));
    CLEARS(assert_int_equal(corm_commit(db), CORM_OK));
    assert_int_equal(corm_begin(db), CORM_OK);
    CLEARS(assert_int_equal(corm_rollback(db), CORM_OK));
    CLEARS(assert_int_equal(corm_atomic(db, atomic_ok, NULL), CORM_OK));
    CLEARS(assert_int_equal(corm_migrate(db), CORM_OK)); /* a no-op once migrated */
    CLEARS(assert_int_equal(corm_ping(db), CORM_OK));
    CLEARS(corm_set_router(db, NULL, NULL));
    CLEARS(assert_int_equal(corm_scope_set(db, "tenant_id", corm_int(1)), CORM_OK));
    CLEARS(corm_scope_clear(db, NULL));
    CLEARS(assert_int_equal(corm_db_attach(db, "other", test_db_url()), CORM_OK));

    /* writes */
    Tag t = CORM_NEW(Tag);
    t.name = "entry";
    CLEARS(assert_int_equal(corm_save(db, &t), CORM_OK));
    Tag t2 = CORM_NEW(Tag);
    t2.name = "entry 2";
    CLEARS(assert_int_equal(corm_create(db, &t2), CORM_OK));
    Tag arr[2] = {CORM_NEW(Tag), CORM_NEW(Tag)};
    arr[0].name = "a";
    arr[1].name = "b";
    CLEARS(assert_int_equal(corm_bulk_create_array(db, arr, 2, NULL), CORM_OK));
    Tag *ptrs[2] = {&t, &t2};
    Tag more = CORM_NEW(Tag);
    more.name = "c";
    Tag *mp[1] = {&more};
    CLEARS(assert_int_equal(corm_bulk_create(db, mp, 1, NULL), CORM_OK));
    CLEARS(assert_int_equal(corm_bulk_update(db, ptrs, 2, "name"), 2));
    CLEARS(assert_int_equal(
        corm_bulk_update_array_at(db, arr, 2, (const char *const[]){"name", NULL}, NULL, CORM_SITE),
        2));
    Post p = CORM_NEW(Post);
    p.title = "p";
    p.body = "";
    assert_int_equal(corm_save(db, &p), CORM_OK);
    CLEARS(assert_int_equal(corm_m2m_add(db, &p, POST_REL_TAGS, &t), CORM_OK));
    CLEARS(assert_int_equal(corm_delete(db, &p), CORM_OK));

    /* querysets: the db they were made on */
    corm_qs *qs = NULL;
    CLEARS(qs = corm_all(db, Book));
    CLEARS(assert_int_equal(corm_count(qs), 6));
    CLEARS(assert_int_equal(corm_exists(qs), 1));
    CLEARS(assert_non_null(corm_first(qs)));
    CLEARS(assert_non_null(corm_last(qs)));
    CLEARS(assert_non_null(corm_explain(qs)));
    CLEARS(assert_int_equal(corm_eval(qs), CORM_OK));
    Book *b = NULL;
    int n = 0;
    CLEARS(corm_foreach(b, qs) n++);
    assert_int_equal(n, 6);
    void *const *items = corm_qs_items(qs);
    CLEARS(assert_int_equal(corm_prefetch_objects(db, items, 6, "genres"), CORM_OK));
    b = corm_qs_at(qs, 0);
    CLEARS(assert_non_null(book_author(b)));
    CLEARS(assert_non_null(book_author(b))); /* from the cache: still a call */
    CLEARS(assert_non_null(book_genres(b)));
    corm_qs *rq = NULL;
    CLEARS(rq = book_genres_qs(b));
    CLEARS(assert_int_equal(corm_count(rq), 2));
    corm_qs_free(rq);
    corm_qs_free(qs);
    CLEARS(qs = corm_all(db, Book));
    corm_filter(qs, "pk", corm_int(1));
    CLEARS(assert_non_null(corm_get(qs)));
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_only(qs, "title");
    corm_filter(qs, "pk", corm_int(1));
    b = corm_get(qs);
    assert_non_null(b);
    CLEARS(assert_int_equal(corm_load_field_at(b, "pages", CORM_SITE), CORM_OK));
    CLEARS(assert_non_null(corm_field(b, description)));
    corm_qs_free(qs);
    qs = corm_all(db, Book);
    corm_iter *it = NULL;
    CLEARS(it = corm_iterator(qs, 4));
    CLEARS(assert_non_null(corm_iter_next(it)));
    corm_iter_free(it);
    corm_qs_free(qs);
    CLEARS(qs = corm_raw(
               db, Book,
               TEST_SQL("SELECT * FROM book WHERE id = ?", "SELECT * FROM book WHERE id = $1"),
               (const corm_value[]){corm_int(2)}, 1));
    CLEARS(assert_int_equal(corm_eval(qs), CORM_OK));
    corm_qs_free(qs);
    qs = corm_all(db, Tag);
    corm_filter(qs, "name", corm_text("entry"));
    CLEARS(assert_int_equal(corm_update(qs, CORM_SET("name", corm_text("entry!"))), 1));
    corm_qs_free(qs);
    qs = corm_all(db, Tag);
    corm_filter(qs, "name", corm_text("new"));
    Tag init = CORM_NEW(Tag);
    init.name = "new";
    bool created = false;
    CLEARS(assert_non_null(corm_get_or_create(qs, &init, &created)));
    assert_true(created);
    corm_qs_free(qs);
    qs = corm_all(db, Tag);
    corm_filter(qs, "name", corm_text("new"));
    static const char *const fields[] = {"name", NULL};
    CLEARS(assert_non_null(corm_update_or_create(qs, &init, fields, &created)));
    corm_qs_free(qs);
    qs = corm_all(db, Tag);
    CLEARS(assert_true(corm_qs_delete(qs) > 0));
    corm_qs_free(qs);
    assert_int_equal(count_of(corm_all(db, Tag)), 0);
}

/* The calls test_every_entry_clears checks (and the pool's, below), and
** the ones that take a db without the rule: corm_close, and the getters
** that cannot fail.  Every public function taking a (non-const) corm_db *
** must be in one of the lists: a new one is checked here, not forgotten. */
static const char *const entry_checked[] = {"corm_exec_at",
                                            "corm_on_query",
                                            "corm_off_query",
                                            "corm_qs_new_at",
                                            "corm_prefetch_objects_v",
                                            "corm_raw_at",
                                            "corm_save_at",
                                            "corm_delete_at",
                                            "corm_m2m_add_at",
                                            "corm_begin_at",
                                            "corm_commit_at",
                                            "corm_rollback_at",
                                            "corm_create_at",
                                            "corm_bulk_create_at",
                                            "corm_bulk_create_array_at",
                                            "corm_bulk_update_at",
                                            "corm_bulk_update_array_at",
                                            "corm_atomic_at",
                                            "corm_scope_set",
                                            "corm_scope_clear",
                                            "corm_migrate",
                                            "corm_db_attach",
                                            "corm_set_router",
                                            "corm_ping",
                                            "corm_pool_release"};
static const char *const entry_exempt[] = {"corm_close", "corm_db_alias", "corm_db_instr"};

static bool listed(const char *name, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0) return true;
    return false;
}

/* The CORM_API declarations of a header with a corm_db * parameter. */
static void check_header(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("%s: cannot read it (run from the top of the tree)", path);
    static char text[200000];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    for (const char *p = text; (p = strstr(p, "CORM_API ")); p++) {
        const char *end = strchr(p, ';'), *open = strchr(p, '(');
        if (!end || !open || open > end) continue;
        const char *name = open;
        while (name > p && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
                            (name[-1] >= '0' && name[-1] <= '9')))
            name--;
        char fn[64];
        snprintf(fn, sizeof fn, "%.*s", (int)(open - name), name);
        for (const char *q = open; (q = strstr(q, "corm_db *")) && q < end; q++) {
            if (q - 6 >= open && strncmp(q - 6, "const ", 6) == 0) continue;
            if (!listed(fn, entry_checked, sizeof entry_checked / sizeof *entry_checked) &&
                !listed(fn, entry_exempt, sizeof entry_exempt / sizeof *entry_exempt))
                fail_msg("%s: %s takes a corm_db: check that it clears the db's error on "
                         "entry (CORM__DB_ENTER) in test_every_entry_clears and list it",
                         path, fn);
            break;
        }
    }
}

static void test_every_db_call_is_checked(void **state)
{
    (void)state;
    check_header("include/corm.h");
    check_header("include/corm/instr.h");
    check_header("include/corm/pool.h");
    /* the pool's: release clears the connection's error (acquire hands
    ** out a connection with none) */
    corm_pool_config cfg = {.url = test_db_url(), .schema = &bookstore_schema, .size = 1};
    corm_error err;
    corm_pool *p = corm_pool_open(&cfg, &err);
    assert_non_null(p);
    corm_db *d = corm_pool_acquire(p, -1, &err);
    assert_non_null(d);
    assert_int_equal(corm_exec(d, "SELEKT 1"), CORM_DB);
    corm_pool_release(p, d);
    assert_int_equal(corm_db_error(d)->rc, CORM_OK);
    d = corm_pool_acquire(p, -1, &err);
    assert_int_equal(corm_db_error(d)->rc, CORM_OK);
    /* a connection of another pool, or none: said on it */
    corm_pool_release(NULL, d);
    assert_int_equal(corm_db_error(d)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(d)->message, "not from a pool"));
    corm_pool_release(p, d);
    corm_pool_close(p);
}

/* An evaluation reports on the queryset (sticky), and - a call on its db
** too - on the db, until the db's next call. */
static void test_queryset_errors(void **state)
{
    (void)state;
    stale();
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "titel", corm_text("x"));         /* found when it compiles */
    assert_int_equal(corm_db_error(db)->rc, CORM_OK); /* corm_all cleared it */
    assert_int_equal(corm_count(qs), -1);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_SCHEMA);
    assert_int_equal(corm_db_error(db)->rc, CORM_SCHEMA);
    assert_string_equal(corm_db_error(db)->message, corm_qs_error(qs)->message);
    corm_qs_free(qs);
    /* a statement error of an evaluation: both, with its SQL */
    qs = corm_sql(db, "SELECT nope FROM book", NULL, 0);
    assert_int_equal(corm_eval(qs), CORM_DB);
    assert_non_null(strstr(corm_qs_error(qs)->sql, "SELECT nope"));
    assert_non_null(strstr(corm_db_error(db)->sql, "SELECT nope"));
    /* the queryset's stays (sticky), the db's describes the next call */
    assert_int_equal(corm_exec(db, "SELECT 1"), CORM_OK);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_DB);
    corm_qs_free(qs);
    /* get_or_create's lookup misses (CORM_NOTFOUND inside), then inserts:
    ** the call succeeded, and the db says so */
    qs = corm_all(db, Tag);
    corm_filter(qs, "name", corm_text("made by get_or_create"));
    Tag init = CORM_NEW(Tag);
    init.name = "made by get_or_create";
    bool created = false;
    assert_non_null(corm_get_or_create(qs, &init, &created));
    assert_true(created);
    assert_int_equal(corm_db_error(db)->rc, CORM_OK);
    corm_qs_free(qs);
    assert_int_equal(corm_delete(db, &init), CORM_OK);
}

/* ------------------------------------------------------------ return conventions */

static void test_return_conventions(void **state)
{
    (void)state;
    /* getters accept NULL, as corm_qs_error does */
    assert_int_equal(corm_db_error(NULL)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(NULL)->hint, "corm_open"));
    assert_null(corm_db_schema(NULL));
    assert_string_equal(corm_db_vendor(NULL), "");
    assert_int_equal(corm_query_count(NULL), 0);
    /* misuse says what was wrong, on the db */
    assert_int_equal(corm_exec(db, NULL), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "NULL"));
    assert_int_equal(corm_atomic(db, NULL, NULL), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "corm_atomic"));
    assert_int_equal(corm_bulk_create(db, (Tag **)NULL, 2, NULL), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "corm_bulk_create"));
    assert_int_equal(corm_bulk_update(db, (Tag **)NULL, 2, "name"), -1);
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    int slots[8], n = 0;
    while (n < 8 && (slots[n] = corm_on_query(db, on_event, NULL)) >= 0) n++;
    assert_int_equal(corm_on_query(db, on_event, NULL), -1); /* all taken */
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "subscriber slots"));
    for (int i = 0; i < n; i++) corm_off_query(db, slots[i]);
    Post p = CORM_NEW(Post);
    p.id = 1;
    assert_int_equal(corm_m2m_add(db, &p, POST_REL_TAGS, NULL), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "other object"));
    /* a queryset of rows has no objects: corm_qs_at is NULL, foreach refuses */
    corm_qs *qs = corm_all(db, Book);
    corm_values(qs, "title");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 6);
    assert_null(corm_qs_at(qs, 0));
    Book *b;
    int seen = 0;
    corm_foreach(b, qs) seen++;
    assert_int_equal(seen, 0);
    assert_int_equal(corm_qs_error(qs)->rc, CORM_MISUSE);
    corm_qs_free(qs);
    /* accessors: a bad relation index is a misuse on the object's db */
    qs = corm_all(db, Book);
    corm_filter(qs, "pk", corm_int(1));
    b = corm_get(qs);
    assert_null(corm_related_at(b, 99, CORM_SITE));
    assert_int_equal(corm_db_error(db)->rc, CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(db)->message, "no relation 99"));
    assert_null(corm_related_at(b, BOOK_REL_GENRES, CORM_SITE));
    assert_non_null(strstr(corm_db_error(db)->message, "Book.genres is to-many"));
    assert_null(corm_related_set_at(b, BOOK_REL_AUTHOR, CORM_SITE));
    assert_non_null(strstr(corm_db_error(db)->message, "Book.author is to-one"));
    assert_int_equal(corm_load_field_at(b, "nope", CORM_SITE), CORM_SCHEMA);
    assert_non_null(strstr(corm_db_error(db)->message, "Book has no field 'nope'"));
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ macros */

static int nmade;
static corm_qs *make_qs(void)
{
    nmade++;
    corm_qs *qs = corm_all(db, Book);
    corm_order_by(qs, "id");
    return qs;
}

static void test_foreach(void **state)
{
    (void)state;
    /* the queryset expression is evaluated once */
    nmade = 0;
    corm_qs *keep = NULL;
    Book *b;
    int n = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1) { corm_foreach(b, (keep = make_qs())) n++; }
    assert_int_equal(nmade, 1);
    assert_int_equal(n, 6);
    /* break and continue */
    n = 0;
    corm_foreach(b, keep)
    {
        if (b->id == 2) continue;
        if (b->id == 4) break;
        n++;
    }
    assert_int_equal(n, 2);
    corm_qs_free(keep);
    /* a loop variable of another model: refused before the body runs */
    corm_qs *qs = corm_all(db, Book);
    Author *a;
    n = 0;
    corm_foreach(a, qs) n++;
    assert_int_equal(n, 0);
    assert_true(corm_qs_failed(qs));
    assert_int_equal(corm_qs_error(qs)->rc, CORM_TYPE);
    assert_non_null(strstr(corm_qs_error(qs)->hint, "Book *"));
    corm_qs_free(qs);
    /* a NULL queryset (corm_all out of memory): no iteration */
    n = 0;
    corm_foreach(b, (corm_qs *)NULL) n++;
    assert_int_equal(n, 0);
}

static void test_field_keeps_its_error(void **state)
{
    (void)state;
    Tag t = CORM_NEW(Tag);
    t.name = "to delete";
    assert_int_equal(corm_save(db, &t), CORM_OK);
    corm_qs *qs = corm_all(db, Tag);
    corm_defer(qs, "name");
    corm_filter(qs, "pk", corm_int(t.id));
    Tag *got = corm_get(qs);
    assert_non_null(got);
    assert_false(corm_is_loaded(got, "name"));
    /* the row is gone before the deferred field is read */
    assert_int_equal(corm_delete(db, &t), CORM_OK);
    assert_null(corm_field(got, name));
    const corm_error *e = corm_db_error(db);
    assert_int_equal(e->rc, CORM_NOTFOUND);
    assert_non_null(strstr(e->message, "no longer exists"));
    assert_false(corm_is_loaded(got, "name"));
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ in a child process */

/* Run fn in a child with stderr into a pipe; its exit status and stderr. */
static int run_child(void (*fn)(void), char *err, size_t size)
{
    fflush(stdout);
    fflush(stderr);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        fn();
        _exit(0); /* fn did not fail: the parent sees exit 0 */
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < size && (r = read(fds[0], err + len, size - 1 - len)) > 0) len += (size_t)r;
    err[len] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static int readme_built, readme_lazy;

/* The README's idiom under CORM_NPLUSONE=strict, on a connection of the
** child's own (the parent's stays untouched).  run false: only note the
** lines, for the parent. */
static void readme_idiom(bool run)
{
    corm_db *d = NULL;
    if (run) {
        setenv("CORM_NPLUSONE", "strict", 1);
        corm_error err;
        if (!(d = corm_open(test_db_url(), &bookstore_schema, &err))) _exit(3);
    }
    Book *b;
    corm_qs *qs = NULL;
    readme_built = __LINE__ + 1;
    if (run) qs = corm_all(d, Book);
    readme_lazy = __LINE__ + 1;
    if (run) corm_foreach(b, qs) printf("%s\n", book_author(b)->name);
}
static void run_readme_idiom(void) { readme_idiom(true); }

static void test_strict_mode_fails_like_an_assertion(void **state)
{
    (void)state;
    char out[8192];
    readme_idiom(false);
    int status = run_child(run_readme_idiom, out, sizeof out);
    /* not a NULL dereference: the failure hook's abort, with the finding */
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("the child did not abort (status %d); its stderr:\n%s", status, out);
    char want[512];
    snprintf(want, sizeof want,
             "%s: N+1 query refused (CORM_NPLUSONE=strict): Book.author loaded lazily at %s "
             "(readme_idiom), again for another object of one 6-object result",
             at(readme_lazy), at(readme_lazy));
    if (!strstr(out, want)) fail_msg("missing\n  %s\nin\n%s", want, out);
    snprintf(want, sizeof want, "queryset built at %s (readme_idiom)", at(readme_built));
    if (!strstr(out, want)) fail_msg("missing\n  %s\nin\n%s", want, out);
    snprintf(want, sizeof want, "fix: corm_select_related(qs, \"author\") at %s", at(readme_built));
    if (!strstr(out, want)) fail_msg("missing\n  %s\nin\n%s", want, out);
}

static int no_db_line;
/* An object corm did not load has no db to report on. */
static void accessor_of_new_object(bool run)
{
    Book b = CORM_NEW(Book);
    b.author_id = 1;
    no_db_line = __LINE__ + 1;
    Author *a = run ? book_author(&b) : NULL;
    if (run) printf("%p\n", (void *)a);
}
static void run_accessor_of_new_object(void) { accessor_of_new_object(true); }

static void test_accessor_without_db_goes_to_the_hook(void **state)
{
    (void)state;
    char out[4096];
    accessor_of_new_object(false);
    int line = no_db_line;
    int status = run_child(run_accessor_of_new_object, out, sizeof out);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("the child did not abort (status %d); its stderr:\n%s", status, out);
    char want[512];
    snprintf(want, sizeof want,
             "%s: Book.author: the Book was not loaded by corm (CORM_NEW, or a copy)", at(line));
    if (!strstr(out, want)) fail_msg("missing\n  %s\nin\n%s", want, out);
    assert_non_null(strstr(out, "hint: load it with a queryset (corm_get)"));
    /* while a NULL key is no error at all, loaded or not */
    Book b = CORM_NEW(Book);
    corm_set_null(&b, "publisher", true);
    assert_null(book_publisher(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_save_then_success),
        cmocka_unit_test(test_every_entry_clears),
        cmocka_unit_test(test_every_db_call_is_checked),
        cmocka_unit_test(test_queryset_errors),
        cmocka_unit_test(test_return_conventions),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_field_keeps_its_error),
        cmocka_unit_test(test_strict_mode_fails_like_an_assertion),
        cmocka_unit_test(test_accessor_without_db_goes_to_the_hook),
    };
    return cmocka_run_group_tests_name("errors", tests, setup, teardown);
}
