/*
** cmd_gen.c - `corm gen SCHEMA.corm -o DIR` and `corm migrate SCHEMA.corm --db URL`.
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
    {"--out", "-o", "DIR", "the directory to write to, created if missing (default: .)"}, {0}};
static const char *const gen_examples[] = {"corm gen examples/bookstore.corm -o gen/", NULL};
const cli_cmd cli_cmd_gen = {
    "gen",
    "SCHEMA.corm [-o DIR]",
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
    corm_error err;
    corm_schema *s = corm_schema_parse_file(in, &err);
    if (!s) {
        cli_print_error(&err);
        return 1;
    }
    corm_rc rc = corm__gen(s, dir, &err);
    corm_schema_free(s);
    if (rc != CORM_OK) {
        cli_print_error(&err);
        return 1;
    }
    return 0;
}

static const cli_opt migrate_opts[] = {
    {"--db", NULL, "URL", "the database to create the tables in (required)"}, {0}};
static const char *const migrate_examples[] = {
    "corm migrate examples/bookstore.corm --db sqlite:bookstore.db",
    "corm migrate examples/bookstore.corm --db postgresql://app@localhost:5432/shop", NULL};
const cli_cmd cli_cmd_migrate = {
    "migrate",
    "SCHEMA.corm --db URL",
    "create the schema's tables and indexes",
    "Creates the tables, m2m join tables and indexes of the schema, and records\n"
    "the schema in the corm_migrations history table.",
    migrate_opts,
    migrate_examples,
    1,
    1,
    cli_migrate};

int cli_migrate(int argc, char **argv)
{
    cli_args a;
    int code = cli_parse(&cli_cmd_migrate, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    const char *in = a.args[0], *url = cli_value(&a, "--db", NULL);
    if (!url) return cli_usage_error(&cli_cmd_migrate, "--db URL is required");
    corm_error err;
    corm_schema *s = corm_schema_parse_file(in, &err);
    if (!s) {
        cli_print_error(&err);
        return 1;
    }
    corm_db *db = corm_open(url, s, &err);
    if (!db) {
        cli_print_error(&err);
        corm_schema_free(s);
        return 1;
    }
    code = 0;
    if (corm_migrate(db) != CORM_OK) {
        cli_print_error(corm_db_error(db));
        code = 1;
    } else {
        printf("migrated %s: %d models\n", url, s->nmodels);
    }
    corm_close(db);
    corm_schema_free(s);
    return code;
}
