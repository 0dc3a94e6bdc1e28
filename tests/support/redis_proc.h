/*
** redis_proc.h - for the cache tests: a redis-server of the test's own, on
** a unix socket in a temporary directory, so it can be stopped mid-test
** (by its pid); the url of the shared test Redis (CORM_TEST_REDIS), a
** sleep and a clock in milliseconds.  Include it after test.h.
*/
#ifndef CORM_TEST_REDIS_PROC_H
#define CORM_TEST_REDIS_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A check that something stored with a short timeout is still there, on
** a machine that may stall: a miss after the timeout has run out says
** nothing, so the attempt runs again with a timeout four times longer
** (never over about 4 s), once what it stored has expired too:
**
**     short_ttl t = {.ms = 60};
**     do {
**         short_ttl_start(&t);
**         ...store with t.ms, then hit = whether it is there...
**     } while (short_ttl_again(&t, hit));
**     ...assert hit: a miss inside the timeout is a failure...
*/
typedef struct short_ttl {
    int ms;
    double t0;
} short_ttl;

static inline void short_ttl_start(short_ttl *t) { t->t0 = now_ms(); }

static inline bool short_ttl_again(short_ttl *t, bool hit)
{
    if (hit || now_ms() - t->t0 < t->ms || t->ms > 1000) return false;
    sleep_ms(t->ms + 50);
    t->ms *= 4;
    return true;
}

/* Whether a server listens on the unix socket sock: redis-server creates
** the socket file at bind(), before listen(), and a connection in between
** is refused, so the file alone does not say it is ready. */
static inline bool redis_listening(const char *sock)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(sock);
    if (n >= sizeof a.sun_path) return false;
    memcpy(a.sun_path, sock, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return false;
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A redis-server of this test's own, on a unix socket in a temporary
** directory, so it can be stopped mid-test (by its pid); returned once it
** accepts connections. */
static inline pid_t start_redis(const char *dir, const char *sock)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--dir", dir,
               "--save", "", "--appendonly", "no", "--logfile", "/dev/null", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (redis_listening(sock)) return pid;
        sleep_ms(10);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    fail_msg("redis-server did not start (is it installed? tools/deps.sh cache)");
    return -1;
}

static inline void stop_redis(pid_t pid, const char *sock)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(sock);
}

/* The url of the Redis tools/redis-test-server.sh started (CORM_TEST_REDIS)
** with its database emptied, or NULL, said on stderr, when there is none:
** a group's setup then fails. */
static inline const char *test_redis_url(void)
{
    const char *url = getenv("CORM_TEST_REDIS");
    if (!url || !*url) {
        print_error(
            "CORM_TEST_REDIS is not set: run under tools/redis-test-server.sh run -- ...\n");
        return NULL;
    }
    corm_cache_config cfg = {.url = url};
    corm_error err;
    corm_cache *c = corm_cache_open(&cfg, &err);
    if (!c || corm_cache_clear(c, &err) != CORM_OK) {
        print_error("the test Redis at %s: %s\n", url, err.message);
        corm_cache_close(c);
        return NULL;
    }
    corm_cache_close(c);
    return url;
}

#endif
