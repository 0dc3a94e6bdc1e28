/* cli.h - the subcommands of `corm`.  Each returns the process exit code:
** 0 success, 1 failure, 2 bad usage. */
#ifndef CORM_CLI_H
#define CORM_CLI_H

#include <corm.h>

#include "command.h"

/* The commands' table entries (command.h), listed in cli/corm.c. */
extern const cli_cmd cli_cmd_gen;
extern const cli_cmd cli_cmd_demo;
extern const cli_cmd cli_cmd_report;
/* in cli/commands.c: the commands whose handlers parse their own options */
extern const cli_cmd cli_cmd_makemigrations;
extern const cli_cmd cli_cmd_migrate;
extern const cli_cmd cli_cmd_sqlmigrate;
extern const cli_cmd cli_cmd_showmigrations;
extern const cli_cmd cli_cmd_serve;
extern const cli_cmd cli_cmd_lint;

/* argv[0] of corm (corm lint runs corm-lint from its directory). */
extern const char *cli_program;

int cli_gen(int argc, char **argv);
int cli_migrate(int argc, char **argv);
int cli_makemigrations(int argc, char **argv);
int cli_sqlmigrate(int argc, char **argv);
int cli_showmigrations(int argc, char **argv);
int cli_demo(int argc, char **argv);
/* corm demo index (demo_index.c): the index workflow on a populated table. */
int cli_demo_index(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_lint(int argc, char **argv, const char *self);

/* corm gen --migrations DIR (cmd_migrate.c): compile DIR's migrations into
** s, checked against it; NULL after printing what is wrong.  Free the
** returned chain after generating. */
corm_migrations *cli_gen_migrations(corm_schema *s, const char *schema_path, const char *dir);

/* Print err as "corm: file:line:col: message\nhint: ..." to stderr. */
void cli_print_error(const corm_error *err);

#endif
