/*
** redis_proc.h - for the cache tests: a redis-server of the test's own, on
** a unix socket in a temporary directory, so it can be stopped mid-test
** (by its pid), and a sleep in milliseconds.  Static functions: include it
** once per test program.
*/
#ifndef CORM_TEST_REDIS_PROC_H
#define CORM_TEST_REDIS_PROC_H

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A redis-server of this test's own, on a unix socket in a temporary
** directory, so it can be stopped mid-test (by its pid). */
static pid_t start_redis(const char *dir, const char *sock)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--dir", dir,
               "--save", "", "--appendonly", "no", "--logfile", "/dev/null", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct stat sb;
        if (stat(sock, &sb) == 0) return pid;
        sleep_ms(10);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    fail_msg("redis-server did not start (is it installed? tools/deps.sh cache)");
    return -1;
}

static void stop_redis(pid_t pid, const char *sock)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(sock);
}

#endif
