/*
** commands.c - the table entries (command.h) of makemigrations, migrate,
** sqlmigrate, showmigrations (cmd_migrate.c), serve (cmd_serve.c) and lint
** (cmd_lint.c).  Their handlers parse with cli_parse against these entries
** (lint checks its compiler-style options against its entry, then runs
** corm-lint), so the help and the accepted options are one table.
*/
#include "cli.h"

static const cli_opt makemigrations_opts[] = {
    {"--dir", NULL, "DIR", "the migrations directory (default: migrations)"},
    {"--name", NULL, "NAME", "the new migration's name (default: from its operations)"},
    {"--rename", NULL, "OLD:NEW", "a renamed model Old:New or field Model.old:new (repeatable)"},
    {"--check", NULL, NULL, "write nothing; exit 1 when the schema has unmigrated changes"},
    {"--dry-run", NULL, NULL, "print the migration that would be written, write nothing"},
    {0}};
static const char *const makemigrations_examples[] = {
    "corm makemigrations examples/bookstore.corm",
    "corm makemigrations app.corm --dir migrations --name add_isbn",
    "corm makemigrations app.corm --rename Writer:Author --rename Book.name:title",
    "corm makemigrations app.corm --check", NULL};
const cli_cmd cli_cmd_makemigrations = {
    "makemigrations",
    "SCHEMA.corm [--dir DIR] [--name NAME] [--rename OLD:NEW]... [options]",
    "write the next migration for the schema's changes",
    "Compares the schema with the state the migrations in DIR build and writes\n"
    "DIR/NNNN_<name>.corm-migration with the operations between them, or prints\n"
    "\"No changes detected\".  A renamed model or field is a drop and an add\n"
    "unless --rename names it.",
    makemigrations_opts,
    makemigrations_examples,
    1,
    1,
    cli_makemigrations};

static const cli_opt migrate_opts[] = {
    {"--db", NULL, "URL", "the database (required)"},
    {"--dir", NULL, "DIR", "the migrations directory (default: migrations)"},
    {"--to", NULL, "NAME|zero", "migrate forwards or back to NAME (or its number); zero: all"},
    {"--allow-data-loss", NULL, NULL, "let a migration drop a model or field that holds data"},
    {"--fake", NULL, NULL, "record the migrations as applied without running them"},
    {0}};
static const char *const migrate_examples[] = {
    "corm migrate --db sqlite:app.db",
    "corm migrate app.corm --db postgresql://app@localhost:5432/shop",
    "corm migrate --db sqlite:app.db --dir migrations --to 0001",
    "corm migrate --db sqlite:app.db --to zero --allow-data-loss", NULL};
const cli_cmd cli_cmd_migrate = {
    "migrate",
    "[SCHEMA.corm] --db URL [--dir DIR] [--to NAME|zero] [options]",
    "apply (or unapply) migrations",
    "Applies the pending migrations of DIR to the database and prints each one\n"
    "applied or unapplied, or \"No migrations to apply.\".  Given SCHEMA.corm, it\n"
    "first refuses when the schema has changes no migration has (run corm\n"
    "makemigrations); without a DIR it creates the schema's tables directly.",
    migrate_opts,
    migrate_examples,
    0,
    1,
    cli_migrate};

static const cli_opt sqlmigrate_opts[] = {
    {"--db", NULL, "URL", "the database whose dialect to print (required)"},
    {"--dir", NULL, "DIR", "the migrations directory (default: migrations)"},
    {"--backwards", NULL, NULL, "print the SQL that unapplies the migration"},
    {0}};
static const char *const sqlmigrate_examples[] = {
    "corm sqlmigrate 0001_initial --db sqlite:app.db",
    "corm sqlmigrate 0002_add_isbn --db postgresql://app@localhost:5432/shop --backwards", NULL};
const cli_cmd cli_cmd_sqlmigrate = {"sqlmigrate",
                                    "NAME --db URL [--dir DIR] [--backwards]",
                                    "print the SQL of a migration",
                                    "Prints the statements migrate would run for migration NAME,\n"
                                    "without running them.",
                                    sqlmigrate_opts,
                                    sqlmigrate_examples,
                                    1,
                                    1,
                                    cli_sqlmigrate};

static const cli_opt showmigrations_opts[] = {
    {"--db", NULL, "URL", "the database (required)"},
    {"--dir", NULL, "DIR", "the migrations directory (default: migrations)"},
    {0}};
static const char *const showmigrations_examples[] = {"corm showmigrations --db sqlite:app.db",
                                                      NULL};
const cli_cmd cli_cmd_showmigrations = {"showmigrations",
                                        "--db URL [--dir DIR]",
                                        "list applied [X] and pending [ ] migrations",
                                        NULL,
                                        showmigrations_opts,
                                        showmigrations_examples,
                                        0,
                                        0,
                                        cli_showmigrations};

#ifndef CORM_BOOTSTRAP
static const cli_opt serve_opts[] = {
    {"--db", NULL, "URL", "default sqlite:corm-serve.db; an empty one is seeded"},
    {"--port", NULL, "N", "0..65535, 0: any free port (default: 8000)"},
    {"--listen", NULL, "ADDR", "IPv4 address (default: 127.0.0.1; any other needs --token)"},
    {"--token", NULL, "T", "clients send X-Corm-Token: T, or ?token=T once"},
    {"--record", NULL, "PATH|off", "the recorder's file (default: beside the database)"},
    {"--sample", NULL, "PCT", "percent of requests recorded, 0..100 (default: 100)"},
    {"--threads", NULL, "N", "worker threads and connections, 1..64 (default: 4)"},
    {"--scale", NULL, "N", "the seeded bookstore's size, at least 1 (default: 100)"},
    {"--warn-queries", NULL, "N", "warn when a request runs more statements (0: never)"},
    {"--port-file", NULL, "PATH", "write the port listened on to PATH"},
    {"--cache", NULL, "URL", "cache pages (local:, redis://..., unix:...; default: off)"},
    {0}};
static const char *const serve_examples[] = {
    "corm serve --db sqlite:build/serve.db --port 8000",
    "corm serve --db postgresql://app@localhost:5432/shop --record off",
    "corm serve --listen 0.0.0.0 --token s3cret --warn-queries 20", NULL};
const cli_cmd cli_cmd_serve = {
    "serve",
    "[--db URL] [--port N] [--listen ADDR] [--token T] [options]",
    "the demo bookstore over HTTP, with the corm panel",
    "Serves the demo bookstore's pages, each naive (the N+1) and fixed, with the\n"
    "corm panel at /__corm/ and Prometheus metrics at /metrics, until SIGINT or\n"
    "SIGTERM.  The panel shows SQL and parameters: a non-loopback --listen\n"
    "needs --token.",
    serve_opts,
    serve_examples,
    0,
    0,
    cli_serve};
#endif

static int run_lint(int argc, char **argv) { return cli_lint(argc, argv, cli_program); }

static const cli_opt lint_opts[] = {
    {"--schema", NULL, "SCHEMA.corm", "the schema the sources use (required)"},
    {"--format", NULL, "gcc|sarif", "gcc-style lines (default) or a SARIF document"},
    {"--error-on=KINDS", NULL, NULL, "exit 1 on a finding of these kinds: n_plus_one,lookup"},
    {"-IDIR", NULL, NULL, "an include directory of the C sources"},
    {"-DNAME[=VALUE]", NULL, NULL, "a macro of the C sources (-UNAME and -std=... too)"},
    {0}};
static const char *const lint_examples[] = {
    "corm lint --schema app.corm -Igen src/*.c",
    "corm lint --schema app.corm --format sarif --error-on=n_plus_one,lookup src/*.c", NULL};
const cli_cmd cli_cmd_lint = {
    "lint",
    "--schema SCHEMA.corm [--format gcc|sarif] [options] FILE.c...",
    "N+1 loops and bad field paths in C sources, before they run",
    "Parses the C sources with libclang and reports loops that run a query per\n"
    "row (n_plus_one) and field paths the schema does not have (lookup).  A line\n"
    "containing \"corm-lint: ignore\" is not reported.  It runs corm-lint from the\n"
    "directory of corm: build it with `make lint` (it needs libclang).  Exit\n"
    "status 1 means a finding of an --error-on kind; a file that does not parse\n"
    "is 2, as a usage error.",
    lint_opts,
    lint_examples,
    1,
    CLI_MAX_ARGS,
    run_lint};
