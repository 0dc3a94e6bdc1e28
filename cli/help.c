/*
** help.c - option parsing and help text for every `corm` subcommand, from
** its cli_cmd entry (command.h).
*/
#include "command.h"

#include <stdarg.h>
#include <string.h>

static const char exit_status[] = "exit status: 0 success, 1 error, 2 usage error\n";

static void usage_line(const cli_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: corm %s%s%s\n", cmd->name, cmd->synopsis && *cmd->synopsis ? " " : "",
            cmd->synopsis ? cmd->synopsis : "");
}

/* "-o, --out DIR" */
static int opt_label(const cli_opt *o, char *buf, size_t size)
{
    return snprintf(buf, size, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
                    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_help(const cli_cmd *cmd, FILE *out)
{
    usage_line(cmd, out);
    fprintf(out, "\n%s\n", cmd->summary);
    if (cmd->description) fprintf(out, "\n%s\n", cmd->description);
    static const cli_opt help = {"--help", "-h", NULL, "show this help and exit"};
    int width = 0;
    char label[96];
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        int n = opt_label(o, label, sizeof label);
        if (n > width) width = n;
    }
    int n = opt_label(&help, label, sizeof label);
    if (n > width) width = n;
    fprintf(out, "\noptions:\n");
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        opt_label(o, label, sizeof label);
        fprintf(out, "  %-*s  %s\n", width, label, o->help);
    }
    opt_label(&help, label, sizeof label);
    fprintf(out, "  %-*s  %s\n", width, label, help.help);
    if (cmd->examples && cmd->examples[0]) {
        fprintf(out, "\nexamples:\n");
        for (const char *const *e = cmd->examples; *e; e++) fprintf(out, "  %s\n", *e);
    }
    fprintf(out, "\n%s", exit_status);
}

void cli_help_all(const cli_cmd *const *cmds, FILE *out)
{
    fprintf(out, "usage: corm <command> [options]\n\ncommands:\n");
    int width = 0;
    for (const cli_cmd *const *c = cmds; *c; c++) {
        int n = (int)strlen((*c)->name);
        if (n > width) width = n;
    }
    for (const cli_cmd *const *c = cmds; *c; c++)
        fprintf(out, "  %-*s  %s\n", width, (*c)->name, (*c)->summary);
    fprintf(out,
            "\n'corm help COMMAND' or 'corm COMMAND --help' shows a command's options and "
            "examples.\n"
            "URLs: sqlite:path/to/file.db, sqlite::memory:, "
            "postgresql://user@host:port/dbname\n%s",
            exit_status);
}

static void see_help(const cli_cmd *cmd)
{
    usage_line(cmd, stderr);
    fprintf(stderr, "run 'corm %s --help' for the options and examples\n", cmd->name);
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "corm %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    see_help(cmd);
    return CLI_USAGE;
}

/* Edit distance of two short strings (capped), for "did you mean". */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31) return 99;
    int d[32][32];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

int cli_unknown_option(const cli_cmd *cmd, const char *arg)
{
    char given[64];
    snprintf(given, sizeof given, "%.*s", (int)strcspn(arg, "="), arg);
    const char *close = NULL;
    int best = 3;
    fprintf(stderr, "corm %s: unknown option '%s'\n", cmd->name, given);
    fprintf(stderr, "options:");
    for (const cli_opt *o = cmd->opts; o && o->name; o++) {
        fprintf(stderr, " %s", o->name);
        int dist = distance(given, o->name);
        if (dist < best) {
            best = dist;
            close = o->name;
        }
    }
    fprintf(stderr, " --help\n");
    if (close) fprintf(stderr, "did you mean '%s'?\n", close);
    see_help(cmd);
    return CLI_USAGE;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *out)
{
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            cli_help(cmd, stdout);
            return CLI_OK;
        }
        if (arg[0] == '-' && arg[1] != '\0') {
            size_t len = strcspn(arg, "=");
            const char *inline_value = arg[len] == '=' ? arg + len + 1 : NULL;
            int k = 0;
            const cli_opt *o = cmd->opts;
            for (; o && o->name; o++, k++)
                if ((strlen(o->name) == len && strncmp(o->name, arg, len) == 0) ||
                    (o->alias && strlen(o->alias) == len && strncmp(o->alias, arg, len) == 0))
                    break;
            if (!o || !o->name || k >= CLI_MAX_OPTS) return cli_unknown_option(cmd, arg);
            if (!o->arg) {
                if (inline_value) return cli_usage_error(cmd, "%s takes no value", o->name);
                out->values[k] = "";
            } else if (inline_value) {
                out->values[k] = inline_value;
            } else if (i + 1 < argc) {
                out->values[k] = argv[++i];
            } else {
                return cli_usage_error(cmd, "%s needs a value (%s)", o->name, o->arg);
            }
            if (o->arg) {
                if (out->nall == CLI_MAX_VALUES)
                    return cli_usage_error(cmd, "more than %d option values", CLI_MAX_VALUES);
                out->all_opt[out->nall] = k;
                out->all[out->nall++] = out->values[k];
            }
            continue;
        }
        if (out->nargs >= cmd->max_args || out->nargs >= CLI_MAX_ARGS)
            return cli_usage_error(cmd, "unexpected argument '%s'", arg);
        out->args[out->nargs++] = arg;
    }
    if (out->nargs < cmd->min_args) return cli_usage_error(cmd, "missing argument");
    return CLI_CONTINUE;
}

static int index_of(const cli_args *a, const char *name)
{
    int k = 0;
    for (const cli_opt *o = a->cmd->opts; o && o->name && k < CLI_MAX_OPTS; o++, k++)
        if (strcmp(o->name, name) == 0) return k;
    return -1;
}

const char *cli_value(const cli_args *a, const char *name, const char *def)
{
    int k = index_of(a, name);
    return k >= 0 && a->values[k] ? a->values[k] : def;
}

bool cli_flag(const cli_args *a, const char *name)
{
    int k = index_of(a, name);
    return k >= 0 && a->values[k] != NULL;
}

int cli_values(const cli_args *a, const char *name, const char **out, int max)
{
    int k = index_of(a, name), n = 0;
    for (int i = 0; k >= 0 && i < a->nall && n < max; i++)
        if (a->all_opt[i] == k) out[n++] = a->all[i];
    return n;
}
