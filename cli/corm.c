/*
** corm.c - the `corm` command: dispatch to one file per subcommand.
*/
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: corm <command> [options]\n"
            "\n"
            "commands:\n"
            "  gen SCHEMA.corm -o DIR        write DIR/<name>.h and DIR/<name>.c\n"
            "  makemigrations SCHEMA.corm [--dir DIR] [--name N] [--rename Old:New] [--check]\n"
            "                 [--dry-run]    write the next migration for the schema's changes\n"
            "  migrate [SCHEMA.corm] --db URL [--dir DIR] [--to NAME|zero] [--allow-data-loss]\n"
            "                                apply (or unapply) migrations\n"
            "  sqlmigrate NAME --db URL [--dir DIR] [--backwards]\n"
            "                                print the SQL of a migration\n"
            "  showmigrations --db URL [--dir DIR]\n"
            "                                list applied [X] and pending [ ] migrations\n"
#ifndef CORM_BOOTSTRAP
            "  demo [--db URL] [--scale N] [--only NAME] [--json] [--mode off|log|strict|auto]\n"
            "                                run the seed scenarios, naive vs fixed\n"
            "  serve [--db URL] [--port N] [--listen ADDR] [--token T] [--record PATH|off]\n"
            "                                the demo bookstore over HTTP, naive and fixed\n"
            "                                pages, with the corm panel at /__corm/\n"
#endif
            "  report LOG.jsonl [--db URL] [--schema SCHEMA.corm] [--top N] [--slow MS]\n"
            "                                top statements, N+1 fixes, duplicates, slow\n"
            "                                statements and index advice from a query log\n"
            "                                (CORM_LOG=json:LOG.jsonl)\n"
            "  lint --schema SCHEMA.corm [-I/-D flags] [--format gcc|sarif]\n"
            "       [--error-on=n_plus_one,lookup] FILE.c...\n"
            "                                N+1 loops and bad field paths in C sources,\n"
            "                                before they run (make lint builds corm-lint)\n"
            "  version                       print the library version\n"
            "\n"
            "URLs: sqlite:path/to/file.db, sqlite::memory:, postgresql://user@host:port/dbname\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "gen") == 0) return cli_gen(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0) return cli_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "makemigrations") == 0) return cli_makemigrations(argc - 1, argv + 1);
    if (strcmp(cmd, "sqlmigrate") == 0) return cli_sqlmigrate(argc - 1, argv + 1);
    if (strcmp(cmd, "showmigrations") == 0) return cli_showmigrations(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return cli_report(argc - 1, argv + 1);
    if (strcmp(cmd, "lint") == 0) return cli_lint(argc - 1, argv + 1, argv[0]);
#ifndef CORM_BOOTSTRAP
    if (strcmp(cmd, "demo") == 0) return cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0) return cli_serve(argc - 1, argv + 1);
#endif
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("corm %s\n", corm_version());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "corm: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
