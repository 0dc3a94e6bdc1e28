/*
** cmd_lint.c - `corm lint ...`: runs corm-lint (lint/lint.c, built by
** `make lint` as it needs libclang) from the directory of this program.
*/
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_lint(int argc, char **argv, const char *self)
{
    char path[4096];
    const char *slash = strrchr(self, '/');
    int n = slash ? (int)(slash - self) + 1 : 0;
    snprintf(path, sizeof path, "%.*scorm-lint", n, self);
    argv[0] = path;
    (void)argc;
    execv(path, argv);
    fprintf(stderr, "corm lint: cannot run %s: %s\n", path, strerror(errno));
    fprintf(stderr, "  build it with `make lint` (it needs libclang: tools/deps.sh lint)\n");
    return 2;
}
