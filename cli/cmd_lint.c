/*
** cmd_lint.c - `corm lint ...`: runs corm-lint (lint/lint.c, built by
** `make lint` as it needs libclang) from the directory of this program.
*/
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The options of cli_cmd_lint (cli/commands.c) as corm-lint reads them:
** NULL when argv[i] is one (*i moved past a value it takes), "" when its
** value is missing, else the option to report.  -I, -D, -U and -std= take their value attached, as
** the compiler's. */
static const char *unknown(int argc, char **argv, int *i)
{
    static const char *const attached[] = {"-I", "-D", "-U", "-std", "--error-on=", NULL};
    static const char *const valued[] = {"--schema", "--format", NULL};
    const char *a = argv[*i];
    if (a[0] != '-') return NULL;
    for (int k = 0; attached[k]; k++)
        if (strncmp(a, attached[k], strlen(attached[k])) == 0 && a[strlen(attached[k])])
            return NULL;
    for (int k = 0; valued[k]; k++) {
        size_t n = strlen(valued[k]);
        if (strncmp(a, valued[k], n) != 0) continue;
        if (a[n] == '=') return NULL;
        if (!a[n] && *i + 1 < argc) {
            ++*i;
            return NULL;
        }
        if (!a[n]) return ""; /* its value is missing */
    }
    return a;
}

int cli_lint(int argc, char **argv, const char *self)
{
    for (int i = 1; i < argc; i++) {
        const char *bad = unknown(argc, argv, &i);
        if (bad && !*bad) return cli_usage_error(&cli_cmd_lint, "%s needs a value", argv[i]);
        if (bad) return cli_unknown_option(&cli_cmd_lint, bad);
    }
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
