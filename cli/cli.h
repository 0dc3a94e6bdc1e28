/* cli.h - the subcommands of `corm`.  Each returns the process exit code:
** 0 success, 1 failure, 2 bad usage. */
#ifndef CORM_CLI_H
#define CORM_CLI_H

#include <corm.h>

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
