/*
** cmd_gen.c - `corm gen SCHEMA.corm -o DIR`.
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

static const cli_opt gen_opts[] = {
    {"--out", "-o", "DIR", "the directory to write to, created if missing (default: .)"},
    {"--migrations", NULL, "DIR",
     "compile the migrations in DIR into the generated C (corm_migrate)"},
    {0}};
static const char *const gen_examples[] = {"corm gen examples/bookstore.corm -o gen/",
                                           "corm gen app.corm -o gen/ --migrations migrations/",
                                           NULL};
const cli_cmd cli_cmd_gen = {
    "gen",
    "SCHEMA.corm [-o DIR] [--migrations DIR]",
    "generate the C structs and descriptors of a schema",
    "Writes DIR/<schema>.h (one struct per model, field and relation enums, typed\n"
    "accessors, CORM_NEW) and DIR/<schema>.c (the model descriptors).  Files whose\n"
    "content is unchanged are left alone, so make does not rebuild them.",
    gen_opts,
    gen_examples,
    1,
    1,
    cli_gen};

int cli_gen(int argc, char **argv)
{
    cli_args a;
    int code = cli_parse(&cli_cmd_gen, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    const char *in = a.args[0], *dir = cli_value(&a, "--out", ".");
    const char *migrations = cli_value(&a, "--migrations", NULL);
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
