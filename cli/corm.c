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

/* Every command, in the order `corm --help` lists them.  The entries of
** gen, demo and report are beside their handlers; those of the commands
** that parse their own options are in cli/commands.c. */
static const cli_cmd *const commands[] = {&cli_cmd_gen,
                                          &cli_cmd_makemigrations,
                                          &cli_cmd_migrate,
                                          &cli_cmd_sqlmigrate,
                                          &cli_cmd_showmigrations,
#ifndef CORM_BOOTSTRAP
                                          &cli_cmd_demo,
                                          &cli_cmd_serve,
#endif
                                          &cli_cmd_report,
                                          &cli_cmd_lint,
                                          &cli_cmd_version,
                                          &cli_cmd_help,
                                          NULL};

const char *cli_program = "corm";

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
    cli_program = argv[0];
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
    /* --help / -h from the table entry, before the handler: the same text
    ** whether or not the handler parses its options with cli_parse */
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_help(c, stdout);
            return CLI_OK;
        }
    return c->run(argc - 1, argv + 1);
}
