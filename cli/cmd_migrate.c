/*
** cmd_migrate.c - corm makemigrations / migrate / sqlmigrate / showmigrations
** (docs/migrations.md).
*/
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct opts {
    const char *schema, *url, *dir, *to, *name, *mig;
    const char *renames[32];
    int nrenames;
    bool check, dry_run, allow_data_loss, fake, backwards;
} opts;

/* The command line of cmd through the shared parser (command.h) and its
** table entry (cli/commands.c): an unknown option names the ones that
** exist, with exit status 2.  CLI_CONTINUE to go on, else the exit status.
** A positional SCHEMA.corm (a name ending in .corm) and NAME are told
** apart by that ending. */
static int parse(const cli_cmd *cmd, int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    cli_args a;
    int code = cli_parse(cmd, argc, argv, &a);
    if (code != CLI_CONTINUE) return code;
    o->url = cli_value(&a, "--db", NULL);
    o->dir = cli_value(&a, "--dir", "migrations");
    o->to = cli_value(&a, "--to", NULL);
    o->name = cli_value(&a, "--name", NULL);
    o->nrenames = cli_values(&a, "--rename", o->renames, 32);
    o->check = cli_flag(&a, "--check");
    o->dry_run = cli_flag(&a, "--dry-run");
    o->allow_data_loss = cli_flag(&a, "--allow-data-loss");
    o->fake = cli_flag(&a, "--fake");
    o->backwards = cli_flag(&a, "--backwards");
    for (int i = 0; i < a.nargs; i++) {
        const char *arg = a.args[i];
        size_t n = strlen(arg);
        if (n > 5 && strcmp(arg + n - 5, ".corm") == 0 && !o->schema) o->schema = arg;
        else if (!o->mig) o->mig = arg;
        else return cli_usage_error(cmd, "unexpected argument '%s'", arg);
    }
    return CLI_CONTINUE;
}

static corm_migrations *load(const char *dir)
{
    corm_error err;
    corm_migrations *ms = corm_migrations_load(dir, &err);
    if (!ms) cli_print_error(&err);
    return ms;
}

int cli_makemigrations(int argc, char **argv)
{
    opts o;
    int rc = parse(&cli_cmd_makemigrations, argc, argv, &o);
    if (rc != CLI_CONTINUE) return rc;
    if (!o.schema)
        return cli_usage_error(&cli_cmd_makemigrations, "'%s' is not a SCHEMA.corm file", o.mig);
    corm_error err;
    corm_schema *s = corm_schema_parse_file(o.schema, &err);
    if (!s) {
        cli_print_error(&err);
        return 1;
    }
    corm_migrations *ms = load(o.dir);
    if (!ms) {
        corm_schema_free(s);
        return 1;
    }
    char *fname = NULL, *text = NULL;
    int code = 0;
    if (corm_makemigrations(ms, s, o.renames, o.nrenames, o.name, &fname, &text, &err) != CORM_OK) {
        cli_print_error(&err);
        code = 1;
    } else if (!fname) {
        printf("No changes detected\n");
    } else if (o.check) {
        printf("%s has changes without a migration: %s would be written\n", o.schema, fname);
        printf("run: corm makemigrations %s --dir %s\n", o.schema, o.dir);
        code = 1;
    } else if (o.dry_run) {
        printf("would write %s/%s:\n%s", o.dir, fname, text);
    } else {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", o.dir, fname);
        if (mkdir(o.dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "corm: cannot create %s: %s\n", o.dir, strerror(errno));
            code = 1;
        } else {
            FILE *f = fopen(path, "wx");
            if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                fprintf(stderr, "corm: cannot write %s: %s\n", path, strerror(errno));
                code = 1;
            } else {
                printf("wrote %s\n", path);
            }
        }
    }
    corm_free_string(fname);
    corm_free_string(text);
    corm_migrations_free(ms);
    corm_schema_free(s);
    return code;
}

static corm_db *open_db(const char *url, const corm_schema *s)
{
    corm_error err;
    corm_db *db = corm_open(url, s, &err);
    if (!db) cli_print_error(&err);
    return db;
}

/* Whether the schema has changes the migrations do not have. */
static int drift(const corm_migrations *ms, const char *path, const char *dir)
{
    corm_error err;
    corm_schema *s = corm_schema_parse_file(path, &err);
    if (!s) {
        cli_print_error(&err);
        return 1;
    }
    char *fname = NULL, *text = NULL;
    int code = 0;
    if (corm_makemigrations(ms, s, NULL, 0, NULL, &fname, &text, &err) != CORM_OK) {
        cli_print_error(&err);
        code = 1;
    } else if (fname) {
        fprintf(stderr,
                "corm: %s has changes that no migration in %s/ has\n"
                "hint: run corm makemigrations %s --dir %s, review the file, then corm migrate\n",
                path, dir, path, dir);
        code = 1;
    }
    corm_free_string(fname);
    corm_free_string(text);
    corm_schema_free(s);
    return code;
}

static int legacy_migrate(const char *in, const char *url)
{
    corm_error err;
    corm_schema *s = corm_schema_parse_file(in, &err);
    if (!s) {
        cli_print_error(&err);
        return 1;
    }
    corm_db *db = open_db(url, s);
    if (!db) {
        corm_schema_free(s);
        return 1;
    }
    int code = 0;
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

int cli_migrate(int argc, char **argv)
{
    opts o;
    int rc = parse(&cli_cmd_migrate, argc, argv, &o);
    if (rc != CLI_CONTINUE) return rc;
    if (o.mig) return cli_usage_error(&cli_cmd_migrate, "'%s' is not a SCHEMA.corm file", o.mig);
    if (!o.url) return cli_usage_error(&cli_cmd_migrate, "--db URL is required");
    struct stat st;
    if (o.schema && stat(o.dir, &st) != 0) return legacy_migrate(o.schema, o.url);
    corm_migrations *ms = load(o.dir);
    if (!ms) return 1;
    if (o.schema && !o.to && drift(ms, o.schema, o.dir)) {
        corm_migrations_free(ms);
        return 1;
    }
    corm_db *db = open_db(o.url, NULL);
    int code = 1;
    if (db) {
        unsigned flags = (o.allow_data_loss ? CORM_MIGRATE_ALLOW_DATA_LOSS : 0) |
                         (o.fake ? CORM_MIGRATE_FAKE : 0);
        char *before = NULL, *after = NULL;
        if (corm_showmigrations(db, ms, &before) == CORM_OK &&
            corm_migrate_to(db, ms, o.to, flags) == CORM_OK &&
            corm_showmigrations(db, ms, &after) == CORM_OK) {
            code = 0;
            /* what changed: lines that differ */
            const char *b = before, *a = after;
            int changed = 0;
            while (*a) {
                const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
                if (!ea || !eb) break;
                if (a[1] != b[1]) {
                    printf("%s %.*s\n", a[1] == 'X' ? "applied" : "unapplied", (int)(ea - a - 4),
                           a + 4);
                    changed++;
                }
                a = ea + 1;
                b = eb + 1;
            }
            if (!changed) printf("No migrations to apply.\n");
        } else {
            cli_print_error(corm_db_error(db));
        }
        corm_free_string(before);
        corm_free_string(after);
        corm_close(db);
    }
    corm_migrations_free(ms);
    return code;
}

int cli_sqlmigrate(int argc, char **argv)
{
    opts o;
    int rc = parse(&cli_cmd_sqlmigrate, argc, argv, &o);
    if (rc != CLI_CONTINUE) return rc;
    if (!o.mig) return cli_usage_error(&cli_cmd_sqlmigrate, "NAME is a migration, not a schema");
    if (!o.url) return cli_usage_error(&cli_cmd_sqlmigrate, "--db URL is required");
    corm_migrations *ms = load(o.dir);
    if (!ms) return 1;
    corm_db *db = open_db(o.url, NULL);
    int code = 1;
    char *sql = NULL;
    if (db && corm_sqlmigrate(db, ms, o.mig, o.backwards, &sql) == CORM_OK) {
        fputs(sql, stdout);
        code = 0;
    } else if (db) {
        cli_print_error(corm_db_error(db));
    }
    corm_free_string(sql);
    corm_close(db);
    corm_migrations_free(ms);
    return code;
}

int cli_showmigrations(int argc, char **argv)
{
    opts o;
    int rc = parse(&cli_cmd_showmigrations, argc, argv, &o);
    if (rc != CLI_CONTINUE) return rc;
    if (!o.url) return cli_usage_error(&cli_cmd_showmigrations, "--db URL is required");
    corm_migrations *ms = load(o.dir);
    if (!ms) return 1;
    corm_db *db = open_db(o.url, NULL);
    int code = 1;
    char *out = NULL;
    if (db && corm_showmigrations(db, ms, &out) == CORM_OK) {
        fputs(out, stdout);
        code = 0;
    } else if (db) {
        cli_print_error(corm_db_error(db));
    }
    corm_free_string(out);
    corm_close(db);
    corm_migrations_free(ms);
    return code;
}

/* corm gen --migrations DIR: the chain of DIR, checked against schema s
** (it must have no changes the migrations do not have), compiled into s
** (migration_names/texts point into the returned chain: free it after
** generating). */
corm_migrations *cli_gen_migrations(corm_schema *s, const char *schema_path, const char *dir)
{
    corm_migrations *ms = load(dir);
    if (!ms) return NULL;
    int n = corm_migrations_count(ms);
    if (n == 0) {
        fprintf(stderr,
                "corm gen: no migrations in %s/\n"
                "hint: run corm makemigrations %s --dir %s first\n",
                dir, schema_path, dir);
        corm_migrations_free(ms);
        return NULL;
    }
    char *fname = NULL, *text = NULL;
    corm_error err;
    if (corm_makemigrations(ms, s, NULL, 0, NULL, &fname, &text, &err) != CORM_OK) {
        cli_print_error(&err);
        corm_migrations_free(ms);
        return NULL;
    }
    if (fname) {
        fprintf(stderr,
                "corm gen: %s has changes that no migration in %s/ has (%s would be written)\n"
                "hint: run corm makemigrations %s --dir %s, review the file, then gen again\n",
                schema_path, dir, fname, schema_path, dir);
        corm_free_string(fname);
        corm_free_string(text);
        corm_migrations_free(ms);
        return NULL;
    }
    static const char *names[1024], *texts[1024];
    if (n > 1024) {
        fprintf(stderr,
                "corm gen: %s/ has %d migrations, more than 1024\n"
                "hint: squash the oldest ones into a new initial migration\n",
                dir, n);
        corm_migrations_free(ms);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        names[i] = corm_migrations_name(ms, i);
        texts[i] = corm_migrations_text(ms, i);
    }
    s->migration_names = names;
    s->migration_texts = texts;
    s->nmigrations = n;
    return ms;
}
