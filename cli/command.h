/*
** command.h - how a `corm` subcommand describes itself: its usage, options
** and examples in one table entry, from which `corm --help`, `corm help
** CMD`, `corm CMD --help` and every usage error are written, so none of
** them can drift from what the command accepts.
**
** Adding a command (say `corm serve`, in cli/cmd_serve.c):
**
**   static const cli_opt serve_opts[] = {
**       {"--db", NULL, "URL", "the database (default: sqlite::memory:)"},
**       {"--port", "-p", "N", "the port to listen on"},
**       {0}};
**   static const char *const serve_examples[] = {"corm serve --db sqlite:app.db -p 8000",
**                                                NULL};
**   const cli_cmd cli_cmd_serve = {"serve", "[options]", "serve the admin over HTTP",
**       NULL, serve_opts, serve_examples, 0, 0, cli_serve};
**
**   int cli_serve(int argc, char **argv)
**   {
**       cli_args a;
**       int code = cli_parse(&cli_cmd_serve, argc, argv, &a);
**       if (code != CLI_CONTINUE) return code;        (help printed, or a usage error)
**       const char *url = cli_value(&a, "--db", "sqlite::memory:");
**       ...
**   }
**
** then one line in cli.h (extern const cli_cmd cli_cmd_serve;) and one in
** the table of cli/corm.c.  The help text is checked against golden files
** by tests/cli/check-help.sh (regenerate them with CORM_HELP_UPDATE=1).
*/
#ifndef CORM_CLI_COMMAND_H
#define CORM_CLI_COMMAND_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes of every command (printed in every help). */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2, CLI_CONTINUE = -1 };

/* One option.  arg NULL: a flag (cli_flag); else it takes a value, named
** arg in the help (cli_value). */
typedef struct cli_opt {
    const char *name;  /* "--db" */
    const char *alias; /* "-o", or NULL */
    const char *arg;   /* "URL", or NULL for a flag */
    const char *help;  /* one line */
} cli_opt;

typedef struct cli_cmd {
    const char *name;                  /* "gen" */
    const char *synopsis;              /* what follows the name: "SCHEMA.corm [-o DIR]" */
    const char *summary;               /* one line, for `corm --help` */
    const char *description;           /* a paragraph for `corm help CMD`, or NULL */
    const cli_opt *opts;               /* ends with {0}; --help is implied */
    const char *const *examples;       /* NULL-terminated command lines */
    int min_args, max_args;            /* positional arguments allowed */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
} cli_cmd;

#define CLI_MAX_OPTS 16
#define CLI_MAX_ARGS 8
#define CLI_MAX_VALUES 32

/* The parsed command line of one command. */
typedef struct cli_args {
    const cli_cmd *cmd;
    const char *values[CLI_MAX_OPTS]; /* by option index; a flag: "" when given */
    const char *args[CLI_MAX_ARGS];   /* positional arguments */
    int nargs;
    /* every value given, in order, with its option's index (cli_values) */
    const char *all[CLI_MAX_VALUES];
    int all_opt[CLI_MAX_VALUES];
    int nall;
} cli_args;

/* Parse argv (argv[0] the command's name) against cmd.  Returns
** CLI_CONTINUE to go on; CLI_OK after printing the help (--help, -h); or
** CLI_USAGE after printing what was wrong - an unknown option (with the
** options that exist and the closest one), a missing value, too many or
** too few arguments - and the usage line, to stderr. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *out);
/* The value of option name, or def when it was not given. */
const char *cli_value(const cli_args *a, const char *name, const char *def);
/* Whether flag name was given. */
bool cli_flag(const cli_args *a, const char *name);
/* Every value of a repeatable option (--rename A --rename B), in order,
** into out (at most max); returns how many. */
int cli_values(const cli_args *a, const char *name, const char **out, int max);
/* A usage error found after parsing ("--scale needs a positive number"):
** "corm CMD: message", the usage line and the pointer to --help, to
** stderr.  Returns CLI_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An unknown option arg of cmd: what was given, the options that exist
** and the closest one, and the usage line, to stderr.  Returns CLI_USAGE
** (for a handler with options cli_parse cannot read, as lint's -IDIR). */
int cli_unknown_option(const cli_cmd *cmd, const char *arg);

/* The full help of cmd (usage, description, options, examples, exit
** status). */
void cli_help(const cli_cmd *cmd, FILE *out);
/* `corm --help`: every command of the NULL-terminated table. */
void cli_help_all(const cli_cmd *const *cmds, FILE *out);

#endif
