/*
** test_pool.c - the connection pool with several threads, on SQLite and on
** PostgreSQL: every acquire gets a connection no other thread holds, a
** full pool makes acquire wait (and time out), a released connection wakes
** a waiter, an open transaction does not survive release, and the health
** check replaces a connection that died while idle.  Threads never call
** cmocka (it longjmps); they count what went wrong and the main thread
** asserts.
*/
#include "test.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define NTHREADS 12
#define NITERS 25
#define POOL_SIZE 4

static corm_db *db;
static corm_pool *pool;

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    corm_error err;
    corm_pool_config cfg = {.url = test_db_url(), .schema = &bookstore_schema, .size = POOL_SIZE};
    pool = corm_pool_open(&cfg, &err);
    if (!pool) {
        fprintf(stderr, "corm_pool_open: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_pool_close(pool);
    test_db_close(db);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ threads */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start; /* every thread starts at once: contention */
static struct {
    corm_db *db;
    int holders;
} held[POOL_SIZE];
static int shared_use, failures, timeouts;
static char first_failure[512];

static void note_failure(const char *what, const corm_error *e)
{
    pthread_mutex_lock(&mu);
    if (!failures++)
        snprintf(first_failure, sizeof first_failure, "%s: %.400s", what, e ? e->message : "");
    pthread_mutex_unlock(&mu);
}

/* Record that this thread holds d (+1) or gave it back (-1). */
static void hold(corm_db *d, int delta)
{
    pthread_mutex_lock(&mu);
    int i = 0;
    while (i < POOL_SIZE && held[i].db && held[i].db != d) i++;
    if (i == POOL_SIZE) {
        failures++; /* more distinct connections than the pool has */
    } else {
        held[i].db = d;
        held[i].holders += delta;
        if (held[i].holders > 1) shared_use++;
    }
    pthread_mutex_unlock(&mu);
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    pthread_barrier_wait(&start);
    for (int k = 0; k < NITERS; k++) {
        corm_error err;
        corm_db *d = corm_pool_acquire(pool, 20000, &err);
        if (!d) {
            pthread_mutex_lock(&mu);
            timeouts++;
            pthread_mutex_unlock(&mu);
            note_failure("acquire", &err);
            continue;
        }
        hold(d, +1);
        /* a read and a write, as one request would */
        corm_qs *qs = corm_all(d, Book);
        if (corm_count(qs) != 6) note_failure("count", corm_qs_error(qs));
        corm_qs_free(qs);
        char name[32];
        snprintf(name, sizeof name, "t%d-%d", id, k);
        Tag t = CORM_NEW(Tag);
        t.name = name;
        if (corm_save(d, &t) != CORM_OK) note_failure("save", corm_db_error(d));
        sleep_ms(1); /* a request takes a while: the others must wait */
        hold(d, -1);
        corm_pool_release(pool, d);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[NTHREADS];
    assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    if (failures) fail_msg("%d failures, first: %s", failures, first_failure);
    assert_int_equal(shared_use, 0);
    assert_int_equal(timeouts, 0);
    corm_pool_stats st = corm_pool_get_stats(pool);
    assert_int_equal(st.size, POOL_SIZE);
    assert_int_equal(st.idle, POOL_SIZE);
    assert_int_equal(st.acquired, NTHREADS * NITERS);
    assert_true(st.waited > 0); /* 12 threads, 4 connections */
    corm_qs *qs = corm_all(db, Tag);
    assert_int_equal(corm_count(qs), NTHREADS * NITERS);
    corm_qs_free(qs);
}

/* ------------------------------------------------------- waiting */

static void test_timeout(void **state)
{
    (void)state;
    corm_db *all[POOL_SIZE];
    corm_error err;
    for (int i = 0; i < POOL_SIZE; i++) {
        all[i] = corm_pool_acquire(pool, 0, &err);
        assert_non_null(all[i]);
    }
    /* full: no wait fails at once, a wait fails after its timeout */
    assert_null(corm_pool_acquire(pool, 0, &err));
    assert_int_equal(err.rc, CORM_BUSY);
    double t0 = now_ms();
    assert_null(corm_pool_acquire(pool, 100, &err));
    assert_true(now_ms() - t0 >= 90);
    assert_int_equal(err.rc, CORM_BUSY);
    assert_non_null(strstr(err.message, "all 4 are in use"));
    assert_non_null(strstr(err.hint, "corm_pool_release"));
    corm_pool_stats st = corm_pool_get_stats(pool);
    assert_int_equal(st.idle, 0);
    assert_int_equal(st.timeouts, 2);
    for (int i = 0; i < POOL_SIZE; i++) corm_pool_release(pool, all[i]);
    assert_int_equal(corm_pool_get_stats(pool).idle, POOL_SIZE);
    /* a connection not from this pool is ignored */
    corm_pool_release(pool, db);
    assert_int_equal(corm_pool_get_stats(pool).idle, POOL_SIZE);
}

static corm_db *late;
static int late_ms;

static void *late_release(void *arg)
{
    (void)arg;
    sleep_ms(late_ms);
    corm_pool_release(pool, late);
    return NULL;
}

static void test_wakeup(void **state)
{
    (void)state;
    corm_db *all[POOL_SIZE];
    corm_error err;
    for (int i = 0; i < POOL_SIZE; i++) all[i] = corm_pool_acquire(pool, 0, &err);
    /* The other thread gives one back after late_ms.  On a stalled machine
    ** it can do so before this thread reaches the wait, and then nothing
    ** waited: the scenario runs again with a longer delay. */
    bool waited_once = false;
    for (late_ms = 50; !waited_once && late_ms <= 3200; late_ms *= 4) {
        late = all[0];
        uint64_t waited = corm_pool_get_stats(pool).waited;
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, late_release, NULL), 0);
        /* blocks until the other thread gives one back: that very one */
        corm_db *got = corm_pool_acquire(pool, -1, &err);
        pthread_join(th, NULL);
        assert_ptr_equal(got, late);
        uint64_t now = corm_pool_get_stats(pool).waited;
        assert_true(now == waited || now == waited + 1);
        waited_once = now == waited + 1;
    }
    assert_true(waited_once);
    corm_pool_release(pool, all[0]);
    for (int i = 1; i < POOL_SIZE; i++) corm_pool_release(pool, all[i]);
}

/* ------------------------------------------------------- hygiene */

static void test_release_rolls_back(void **state)
{
    (void)state;
    corm_error err;
    corm_db *d = corm_pool_acquire(pool, -1, &err);
    assert_non_null(d);
    assert_int_equal(corm_begin(d), CORM_OK);
    Genre g = CORM_NEW(Genre);
    g.name = "never committed";
    assert_int_equal(corm_save(d, &g), CORM_OK);
    corm_pool_release(pool, d); /* forgot to commit */
    assert_int_equal(corm_pool_get_stats(pool).rolled_back, 1);
    corm_qs *qs = corm_all(db, Genre);
    corm_filter(qs, "name", corm_text("never committed"));
    assert_int_equal(corm_count(qs), 0);
    corm_qs_free(qs);
    /* the next holder starts outside any transaction */
    d = corm_pool_acquire(pool, -1, &err);
    assert_int_equal(corm_begin(d), CORM_OK);
    assert_int_equal(corm_rollback(d), CORM_OK);
    corm_pool_release(pool, d);
}

static void test_health_check(void **state)
{
    (void)state;
    corm_error err;
    corm_pool_config cfg = {
        .url = test_db_url(), .schema = &bookstore_schema, .size = 1, .check_idle_ms = 1};
    corm_pool *p = corm_pool_open(&cfg, &err);
    assert_non_null(p);
    corm_db *d = corm_pool_acquire(p, -1, &err);
    assert_non_null(d);
    if (test_db_is_pg()) {
        /* the server ends the idle connection (a restart, an idle timeout) */
        corm_qs *pid = corm_sql(d, "SELECT pg_backend_pid() AS pid", NULL, 0);
        assert_int_equal(corm_eval(pid), CORM_OK);
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)",
                 (long long)corm_row_int(pid, 0, "pid"));
        corm_qs_free(pid);
        corm_pool_release(p, d);
        corm_qs *kill = corm_sql(db, sql, NULL, 0);
        assert_int_equal(corm_eval(kill), CORM_OK);
        corm_qs_free(kill);
    } else {
        corm_pool_release(p, d);
    }
    sleep_ms(5);
    /* the acquire pings it, finds it dead and reconnects: the caller sees
    ** a working connection, no error */
    d = corm_pool_acquire(p, -1, &err);
    assert_non_null(d);
    corm_qs *qs = corm_all(d, Book);
    assert_int_equal(corm_count(qs), 6);
    corm_qs_free(qs);
    corm_pool_release(p, d);
    assert_int_equal(corm_pool_get_stats(p).reconnects, test_db_is_pg() ? 1 : 0);
    corm_pool_close(p);
}

static void test_open_errors(void **state)
{
    (void)state;
    corm_error err;
    corm_pool_config cfg = {.url = "nope:x", .schema = &bookstore_schema};
    assert_null(corm_pool_open(&cfg, &err));
    assert_int_equal(err.rc, CORM_INVALID);
    assert_non_null(strstr(err.message, "pool connection 1 of 4"));
    assert_null(corm_pool_open(NULL, &err));
    assert_int_equal(err.rc, CORM_MISUSE);
    corm_pool_config bad_alias = {.url = test_db_url(),
                                  .schema = &bookstore_schema,
                                  .size = 2,
                                  .aliases = (const corm_alias[]){{"default", "sqlite::memory:"}},
                                  .naliases = 1};
    assert_null(corm_pool_open(&bad_alias, &err));
    assert_int_equal(err.rc, CORM_INVALID);
    assert_null(corm_pool_acquire(NULL, 0, &err));
    corm_pool_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),      cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_wakeup),       cmocka_unit_test(test_release_rolls_back),
        cmocka_unit_test(test_health_check), cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests_name("pool", tests, setup, teardown);
}
