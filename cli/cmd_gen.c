/*
** cmd_gen.c - `corm gen SCHEMA.corm -o DIR` and `corm migrate`.
*/
#include "cli.h"
#include "../src/gen/gen.h"

#include <stdio.h>
#include <string.h>

void cli_print_error(const corm_error *err)
{
    char buf[4096];
    fprintf(stderr, "corm: %s\n", corm_error_format(err, buf, sizeof buf));
}

int cli_gen(int argc, char **argv)
{
    const char *in = NULL, *dir = ".", *migrations = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--out") == 0) && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--migrations") == 0 && i + 1 < argc) migrations = argv[++i];
        else if (argv[i][0] != '-' && !in) in = argv[i];
        else {
            fprintf(stderr,
                    "corm gen: unexpected argument '%s'\nusage: corm gen SCHEMA.corm -o DIR "
                    "[--migrations DIR]\n",
                    argv[i]);
            return 2;
        }
    }
    if (!in) {
        fprintf(stderr, "usage: corm gen SCHEMA.corm -o DIR [--migrations DIR]\n");
        return 2;
    }
    corm_error err;
    corm_schema *s = corm_schema_parse_file(in, &err);
    if (!s) {
        cli_print_error(&err);
        return 1;
    }
    corm_migrations *ms = migrations ? cli_gen_migrations(s, in, migrations) : NULL;
    if (migrations && !ms) {
        corm_schema_free(s);
        return 1;
    }
    corm_rc rc = corm__gen(s, dir, &err);
    corm_migrations_free(ms);
    corm_schema_free(s);
    if (rc != CORM_OK) {
        cli_print_error(&err);
        return 1;
    }
    return 0;
}
