/*
** corm.c - the `corm` command: a table of subcommands (command.h), each in
** its own file; `corm --help`, `corm help CMD` and `corm CMD --help` are
** written from the table.
*/
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int cli_version(int argc, char **argv);
static int cli_help_cmd(int argc, char **argv);

static const cli_cmd cli_cmd_version = {
    "version", "", "print the library version", NULL, NULL, NULL, 0, 0, cli_version};
static const char *const help_examples[] = {"corm help", "corm help migrate", NULL};
static const cli_cmd cli_cmd_help = {
    "help", "[COMMAND]", "show the commands, or one command's help", NULL, NULL, help_examples, 0,
    1,      cli_help_cmd};

/* Every command, in the order `corm --help` lists them. */
static const cli_cmd *const commands[] = {&cli_cmd_gen,    &cli_cmd_migrate,
#ifndef CORM_BOOTSTRAP
                                          &cli_cmd_demo,
#endif
                                          &cli_cmd_report, &cli_cmd_version, &cli_cmd_help, NULL};

static const cli_cmd *find(const char *name)
{
    for (const cli_cmd *const *c = commands; *c; c++)
        if (strcmp((*c)->name, name) == 0) return *c;
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "corm: unknown command '%s'\ncommands:", name);
    for (const cli_cmd *const *c = commands; *c; c++) fprintf(stderr, " %s", (*c)->name);
    fprintf(stderr, "\nrun 'corm --help' for what each does\n");
    return CLI_USAGE;
}

static int cli_version(int argc, char **argv)
{
    cli_args a;
    int code = cli_parse(&cli_cmd_version, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    printf("corm %s\n", corm_version());
    return CLI_OK;
}

static int cli_help_cmd(int argc, char **argv)
{
    cli_args a;
    int code = cli_parse(&cli_cmd_help, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    if (a.nargs == 0) {
        cli_help_all(commands, stdout);
        return CLI_OK;
    }
    const cli_cmd *c = find(a.args[0]);
    if (!c) return unknown_command(a.args[0]);
    cli_help(c, stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_help_all(commands, stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        cli_help_all(commands, stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) name = "version";
    const cli_cmd *c = find(name);
    if (!c) return unknown_command(name);
    return c->run(argc - 1, argv + 1);
}
