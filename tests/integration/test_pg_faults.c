/*
** test_pg_faults.c - the PostgreSQL connection dies at every step of a
** program (PostgreSQL only).  A proxy on a unix socket stands between corm
** and the server; it forwards the protocol and, in run k, closes both ends
** right after the server's k-th message: during the startup, after a
** Parse, in the middle of a result, before a COMMIT's answer...  Every run
** must end in a correct success (the cut came after the last message) or
** in an error that says the connection was lost (CORM_CONN, with the
** message) - never a crash, a hang, a wrong result or a leak - and the
** handle must still close.
*/
#include "test.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---------------------------------------------------------------- proxy */

typedef struct {
    int client, server;
    unsigned char head[5]; /* the server message being read: type + length */
    size_t got;            /* bytes of the current message seen */
    uint32_t len;          /* its length (after the type byte) once known */
} pair;

static struct {
    int listen_fd;
    char dir[64], server_path[100];
    pthread_t thread;
    pthread_mutex_t mu;
    long limit;    /* close everything after this many server messages (<0: never) */
    long messages; /* server messages forwarded in this run */
    bool stop;
    pair pairs[8];
    int npairs;
} px = {.listen_fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

static void pair_close(pair *p)
{
    close(p->client);
    close(p->server);
    *p = px.pairs[--px.npairs];
}

static int connect_server(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", px.server_path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

/* Forward n bytes of server data, counting whole messages; true when the
** limit was reached (the connection must die now). */
static bool count_messages(pair *p, const unsigned char *b, size_t n, size_t *forward)
{
    for (size_t i = 0; i < n; i++) {
        if (p->got < 5) p->head[p->got] = b[i];
        p->got++;
        if (p->got == 5)
            p->len = (uint32_t)p->head[1] << 24 | (uint32_t)p->head[2] << 16 |
                     (uint32_t)p->head[3] << 8 | p->head[4];
        if (p->got >= 5 && p->got == (size_t)p->len + 1) {
            p->got = 0;
            if (++px.messages == px.limit) {
                *forward = i + 1;
                return true;
            }
        }
    }
    *forward = n;
    return false;
}

static void *proxy_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&px.mu);
        if (px.stop) {
            while (px.npairs) pair_close(&px.pairs[0]);
            pthread_mutex_unlock(&px.mu);
            return NULL;
        }
        struct pollfd fds[1 + 2 * 8];
        int nfds = 0;
        fds[nfds++] = (struct pollfd){px.listen_fd, POLLIN, 0};
        for (int i = 0; i < px.npairs; i++) {
            fds[nfds++] = (struct pollfd){px.pairs[i].client, POLLIN, 0};
            fds[nfds++] = (struct pollfd){px.pairs[i].server, POLLIN, 0};
        }
        pthread_mutex_unlock(&px.mu);
        if (poll(fds, (nfds_t)nfds, 50) <= 0) continue;
        pthread_mutex_lock(&px.mu);
        if (fds[0].revents & POLLIN) {
            int c = accept(px.listen_fd, NULL, NULL);
            int s = c >= 0 ? connect_server() : -1;
            if (c >= 0 && s >= 0 && px.npairs < 8) px.pairs[px.npairs++] = (pair){c, s, {0}, 0, 0};
            else {
                if (c >= 0) close(c);
                if (s >= 0) close(s);
            }
        }
        /* the pairs polled are the first ones: a new one waits a round */
        for (int i = (nfds - 1) / 2 - 1; i >= 0; i--) {
            pair *p = &px.pairs[i];
            short cev = fds[1 + 2 * i].revents, sev = fds[2 + 2 * i].revents;
            unsigned char buf[16384];
            bool dead = false;
            if (cev & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = read(p->client, buf, sizeof buf);
                dead = n <= 0 || write(p->server, buf, (size_t)n) != n;
            }
            if (!dead && (sev & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t n = read(p->server, buf, sizeof buf);
                size_t fwd = 0;
                bool cut = n > 0 && px.limit >= 0 && count_messages(p, buf, (size_t)n, &fwd);
                if (n > 0 && !cut) fwd = (size_t)n;
                dead = n <= 0 || (fwd && write(p->client, buf, fwd) != (ssize_t)fwd) || cut;
            }
            if (dead) pair_close(p);
        }
        pthread_mutex_unlock(&px.mu);
    }
}

/* The url of the test database, through the proxy. */
static char proxy_url[1200];

static void proxy_start(const char *url)
{
    /* postgresql://user@/db?host=DIR&port=P&options=... */
    const char *h = strstr(url, "host="), *p = strstr(url, "port=");
    assert_non_null(h);
    assert_non_null(p);
    size_t hl = strcspn(h + 5, "&"), pl = strcspn(p + 5, "&");
    snprintf(px.server_path, sizeof px.server_path, "%.*s/.s.PGSQL.%.*s", (int)hl, h + 5, (int)pl,
             p + 5);
    snprintf(px.dir, sizeof px.dir, "/tmp/corm-pgfault-XXXXXX");
    assert_non_null(mkdtemp(px.dir));
    px.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/.s.PGSQL.5999", px.dir);
    assert_int_equal(bind(px.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(px.listen_fd, 8), 0);
    /* the same url with the proxy's directory and port */
    char *out = proxy_url;
    size_t left = sizeof proxy_url;
    for (const char *s = url; *s && left > 1;) {
        int n;
        if (s == h) {
            n = snprintf(out, left, "host=%s", px.dir);
            s += 5 + hl;
        } else if (s == p) {
            n = snprintf(out, left, "port=5999");
            s += 5 + pl;
        } else {
            n = snprintf(out, left, "%c", *s);
            s++;
        }
        out += n;
        left -= (size_t)n;
    }
    px.limit = -1;
    assert_int_equal(pthread_create(&px.thread, NULL, proxy_main, NULL), 0);
}

static void proxy_stop(void)
{
    pthread_mutex_lock(&px.mu);
    px.stop = true;
    pthread_mutex_unlock(&px.mu);
    pthread_join(px.thread, NULL);
    close(px.listen_fd);
    char sock[128];
    snprintf(sock, sizeof sock, "%s/.s.PGSQL.5999", px.dir);
    unlink(sock);
    rmdir(px.dir);
}

static void proxy_limit(long limit)
{
    pthread_mutex_lock(&px.mu);
    px.limit = limit;
    px.messages = 0;
    pthread_mutex_unlock(&px.mu);
}

static bool proxy_cut(void)
{
    pthread_mutex_lock(&px.mu);
    bool cut = px.limit >= 0 && px.messages >= px.limit;
    pthread_mutex_unlock(&px.mu);
    return cut;
}

/* -------------------------------------------------------------- program */

static corm_rc failed(corm_db *db, corm_rc rc, char *why, size_t size)
{
    const corm_error *e = corm_db_error(db);
    /* a lazy load's error is on the handle; none at all: a wrong result */
    if (rc == CORM_OK) rc = e->rc != CORM_OK ? e->rc : CORM_DB;
    snprintf(why, size, "%s: %s", corm_rc_name(e->rc), e->message);
    return rc;
}

/* Reads, a lazy load, a transaction with writes, a count: the result of
** each checked.  why: the error on the handle, when one was returned. */
static corm_rc program(char *why, size_t size)
{
    corm_error err;
    why[0] = 0;
    corm_db *db = corm_open(proxy_url, &bookstore_schema, &err);
    if (!db) {
        snprintf(why, size, "%s: %s", corm_rc_name(err.rc), err.message);
        return err.rc;
    }
    corm_rc rc = CORM_OK;
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author");
    corm_prefetch_related(qs, "genres");
    corm_order_by(qs, "id");
    rc = corm_eval(qs);
    if (rc != CORM_OK) snprintf(why, size, "%s", corm_qs_error(qs)->message);
    else if (corm_qs_len(qs) != 6 || book_genres(corm_qs_at(qs, 0))->n != 2) rc = CORM_DB;
    corm_qs_free(qs);
    if (rc == CORM_OK) {
        qs = corm_all(db, Author);
        corm_order_by(qs, "id");
        Author *a = corm_first(qs);
        const corm_list *books = a ? author_books(a) : NULL;
        if (!books || books->n != 2)
            rc = failed(db, corm_qs_failed(qs) ? corm_qs_error(qs)->rc : CORM_OK, why, size);
        corm_qs_free(qs);
    }
    if (rc == CORM_OK) rc = corm_begin(db);
    if (rc == CORM_OK) {
        Genre g = CORM_NEW(Genre);
        g.name = "Poetry";
        rc = corm_save(db, &g);
        if (rc == CORM_OK) rc = corm_rollback(db);
        else (void)corm_rollback(db);
        if (rc != CORM_OK) failed(db, rc, why, size);
    } else if (!why[0]) failed(db, rc, why, size);
    if (rc == CORM_OK) {
        qs = corm_all(db, Genre);
        int64_t n = corm_count(qs);
        if (n != 3) rc = failed(db, n < 0 ? corm_qs_error(qs)->rc : CORM_OK, why, size);
        corm_qs_free(qs);
    }
    corm_close(db);
    return rc;
}

static void test_connection_dies_at_every_message(void **state)
{
    (void)state;
    corm_db *db = test_db_open();
    proxy_start(test_db_url());
    char why[1200];
    proxy_limit(-1);
    assert_int_equal(program(why, sizeof why), CORM_OK); /* through the proxy, uncut */
    long k, lost = 0;
    for (k = 1; k < 2000; k++) {
        proxy_limit(k);
        corm_rc rc = program(why, sizeof why);
        if (!proxy_cut()) {
            /* the program needed fewer than k messages: the end */
            assert_int_equal(rc, CORM_OK);
            break;
        }
        if (rc == CORM_OK) continue; /* cut after its last read: fine, results were checked */
        if (rc == CORM_CONN) lost++;
        else
            fail_msg("connection cut after server message %ld: %s, not CORM_CONN (%s)", k,
                     corm_rc_name(rc), why);
        if (!why[0])
            fail_msg("connection cut after server message %ld: no message on the handle", k);
    }
    proxy_stop();
    assert_true(k > 30); /* the program does talk to the server */
    print_message("the connection died after each of %ld server messages: %ld lost-connection "
                  "errors, the other runs had read all they needed\n",
                  k - 1, lost);
    test_db_close(db);
}

int main(void)
{
    if (!test_db_is_pg()) {
        print_message("test_pg_faults: PostgreSQL only (CORM_TEST_DB)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_dies_at_every_message),
    };
    return cmocka_run_group_tests_name("pg_faults", tests, NULL, NULL);
}
