/*
** replay.c - the fuzz targets without libFuzzer: runs each committed input
** (tests/fuzz/corpus/<target>/ and tests/fuzz/crash/<target>/, or the files
** and directories given as arguments) through LLVMFuzzerTestOneInput once.
** `make test` runs it under ASan + UBSan; a failing input aborts, naming
** the file first.  Run from the top of the tree.
*/
#include "fuzz.h"

#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

static int ninputs;
static char current[1024];

/* A failing input is named on stderr, whatever stopped the program: a
** sanitizer report (its death callback) or an abort. */
static void name_input(void)
{
    static const char head[] = "replay: the failing input is ";
    if (write(2, head, sizeof head - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}
static void on_abort(int sig)
{
    name_input();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "replay %s: cannot open %s\n", fuzz_name, path);
        exit(1);
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) abort();
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        if (!got) break;
        len += got;
    }
    fclose(fp);
    snprintf(current, sizeof current, "%s", path);
    /* an exact-size copy, so ASan sees a read past the input */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) abort();
    if (len) memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    ninputs++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir (not dot files), in name order; a missing
** directory has none. */
static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) return;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README")) continue;
        char **nn = realloc(names, (n + 1) * sizeof *names);
        if (!nn) abort();
        names = nn;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) abort();
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_abort);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(name_input);
#endif
    LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (int i = 1; i < argc; i++) run_path(argv[i]);
    } else {
        char dir[256];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", fuzz_name);
        run_path(dir);
        if (!ninputs) {
            fprintf(stderr, "replay %s: no input in %s (run from the top of the tree)\n", fuzz_name,
                    dir);
            return 1;
        }
        snprintf(dir, sizeof dir, "tests/fuzz/crash/%s", fuzz_name);
        run_path(dir);
    }
    /* one test, in the form tools/run-tests.sh counts */
    printf("replay %s: %d inputs, no failure\n[  PASSED  ] 1 test(s).\n", fuzz_name, ninputs);
    return 0;
}
