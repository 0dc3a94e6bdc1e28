/*
** mfile.c - the migration file format, loading a chain, makemigrations.
**
** A migration file (NNNN_name.corm-migration) is line-oriented text, made
** to be read in review and diffed:
**
**   # corm migration 0002_add_book_isbn
**   depends 0001_initial
**
**   add_field Book
**       isbn: char(13) null
**
**   alter_field Book
**     - title: char(200)
**     + title: char(200) db_index
**
**   rename_field Book title name
**   add_index Book concurrently
**       index book_pub_idx (-published_date)
**
** An operation starts at column 0: its name, the model, then words; its
** member lines follow, indented, in the schema language (alter_*: "- "
** the old line, "+ " the new one).  `depends` names the migration before
** (none in the first); `lock_timeout 5s` and `statement_timeout 1min` set
** PostgreSQL's timeouts for the migration.  `#` lines are comments.
*/
#include "mig_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXT ".corm-migration"

static corm_rc nomem(corm_error *err)
{
    corm__err_set(err, CORM_NOMEM, "out of memory reading migrations");
    return CORM_NOMEM;
}

static corm_rc bad(corm_error *err, const char *where, int line, const char *hint, const char *fmt,
                   const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    corm__err_set(err, CORM_SCHEMA, "%s:%d: %s", where, line, msg);
    if (hint) corm__err_hint(err, "%s", hint);
    return CORM_SCHEMA;
}

static int kind_of(const char *w, size_t n)
{
    for (int k = 0; k < CORM__OP_COUNT; k++)
        if (strlen(corm__op_names[k]) == n && strncmp(corm__op_names[k], w, n) == 0) return k;
    return -1;
}

/* Split s into at most max words (arena copies). */
static int words(corm_arena *a, const char *s, size_t len, const char **out, int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
        size_t st = i;
        while (i < len && s[i] != ' ' && s[i] != '\t') i++;
        if (i > st) {
            if (n == max) return max + 1;
            if (!(out[n++] = corm__arena_strndup(a, s + st, i - st))) return -1;
        }
    }
    return n;
}

static bool add_op_line(corm_arena *a, corm__op *op, int *cap, const char *line)
{
    if (!corm__arena_grow(a, (void **)&op->lines, op->nlines, cap, sizeof *op->lines)) return false;
    op->lines[op->nlines++] = line;
    return true;
}

corm_rc corm__mfile_parse(corm_migrations *ms, const char *text, const char *path, const char *name,
                          corm_error *err)
{
    corm_arena *a = &ms->arena;
    if (!corm__arena_grow(a, (void **)&ms->migs, ms->nmigs, &ms->cap, sizeof *ms->migs))
        return nomem(err);
    corm__migration *m = &ms->migs[ms->nmigs];
    memset(m, 0, sizeof *m);
    m->name = corm__arena_strdup(a, name);
    m->path = path ? corm__arena_strdup(a, path) : NULL;
    m->text = corm__arena_strdup(a, text);
    if (!m->name || !m->text || (path && !m->path)) return nomem(err);
    const char *where = path ? path : name;
    int capops = 0, caplines = 0;
    corm__op *op = NULL;
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *next = e ? e + 1 : p + len;
        lineno++;
        while (len && (p[len - 1] == '\r' || p[len - 1] == ' ')) len--;
        size_t ind = 0;
        while (ind < len && (p[ind] == ' ' || p[ind] == '\t')) ind++;
        if (ind == len || p[ind] == '#') {
            p = next;
            continue;
        }
        if (ind > 0) { /* a member line of the current operation */
            if (!op)
                return bad(err, where, lineno, "member lines follow an operation, indented",
                           "indented line outside an operation%s", "");
            const char *body = p + ind;
            size_t blen = len - ind;
            char sign = 0;
            if ((body[0] == '-' || body[0] == '+') && blen > 1 && body[1] == ' ') {
                sign = body[0];
                body += 2;
                blen -= 2;
            }
            bool alter = op->kind == CORM__OP_ALTER_FIELD || op->kind == CORM__OP_ALTER_MODEL;
            if (alter != (sign != 0))
                return bad(err, where, lineno,
                           "alter_field and alter_model lines start with '- ' (old) or '+ ' "
                           "(new); other operations' lines do not",
                           "unexpected member line for %s", corm__op_names[op->kind]);
            char *line = corm__arena_alloc(a, blen + 2);
            if (!line) return nomem(err);
            size_t o = 0;
            if (sign) line[o++] = sign;
            memcpy(line + o, body, blen);
            line[o + blen] = '\0';
            if (!add_op_line(a, op, &caplines, line)) return nomem(err);
            p = next;
            continue;
        }
        const char *w[6];
        int nw = words(a, p, len, w, 5);
        if (nw < 0) return nomem(err);
        if (nw == 2 && strcmp(w[0], "depends") == 0) {
            m->depends = w[1];
        } else if (nw == 2 && strcmp(w[0], "lock_timeout") == 0) {
            m->lock_timeout = w[1];
        } else if (nw == 2 && strcmp(w[0], "statement_timeout") == 0) {
            m->statement_timeout = w[1];
        } else {
            int k = nw >= 2 ? kind_of(w[0], strlen(w[0])) : -1;
            if (k < 0)
                return bad(err, where, lineno,
                           "operations: create_model, drop_model, add_field, remove_field, "
                           "alter_field, rename_field, rename_model, add_index, remove_index, "
                           "alter_model; or depends, lock_timeout, statement_timeout",
                           "unknown line '%s'", w[0]);
            if (m->nops == capops) {
                int nc = capops ? capops * 2 : 8;
                corm__op *ops = corm__arena_alloc(a, (size_t)nc * sizeof *ops);
                if (!ops) return nomem(err);
                if (m->nops) memcpy(ops, m->ops, (size_t)m->nops * sizeof *ops);
                m->ops = ops;
                capops = nc;
            }
            op = &m->ops[m->nops++];
            memset(op, 0, sizeof *op);
            caplines = 0;
            op->kind = (corm__opkind)k;
            op->model = w[1];
            op->line = lineno;
            int extra = 2;
            if (k == CORM__OP_RENAME_MODEL) {
                if (nw != 3)
                    return bad(err, where, lineno, "write: rename_model Old New",
                               "rename_model takes two names%s", "");
                op->to = w[2];
                extra = 3;
            } else if (k == CORM__OP_RENAME_FIELD) {
                if (nw != 4)
                    return bad(err, where, lineno, "write: rename_field Model old new",
                               "rename_field takes a model and two field names%s", "");
                op->name = w[2];
                op->to = w[3];
                extra = 4;
            }
            for (int i = extra; i < nw; i++) {
                if (strcmp(w[i], "concurrently") == 0 &&
                    (k == CORM__OP_ADD_INDEX || k == CORM__OP_REMOVE_INDEX))
                    op->concurrently = true;
                else
                    return bad(err, where, lineno,
                               "only add_index and remove_index take a word after the model: "
                               "concurrently",
                               "unexpected '%s'", w[i]);
            }
        }
        p = next;
    }
    ms->nmigs++;
    return CORM_OK;
}

void corm__mfile_write(const corm__migration *m, corm_buf *out)
{
    corm__buf_addf(out, "# corm migration %s (corm makemigrations)\n", m->name);
    if (m->depends) corm__buf_addf(out, "depends %s\n", m->depends);
    if (m->lock_timeout) corm__buf_addf(out, "lock_timeout %s\n", m->lock_timeout);
    if (m->statement_timeout) corm__buf_addf(out, "statement_timeout %s\n", m->statement_timeout);
    for (int i = 0; i < m->nops; i++) {
        const corm__op *op = &m->ops[i];
        corm__buf_addf(out, "\n%s %s", corm__op_names[op->kind], op->model);
        if (op->kind == CORM__OP_RENAME_FIELD) corm__buf_addf(out, " %s %s", op->name, op->to);
        if (op->kind == CORM__OP_RENAME_MODEL) corm__buf_addf(out, " %s", op->to);
        if (op->concurrently) corm__buf_adds(out, " concurrently");
        corm__buf_addc(out, '\n');
        for (int j = 0; j < op->nlines; j++) {
            const char *l = op->lines[j];
            if (l[0] == '-' || l[0] == '+') corm__buf_addf(out, "  %c %s\n", l[0], l + 1);
            else corm__buf_addf(out, "    %s\n", l);
        }
    }
}

/* ------------------------------------------------------------ chains */

static corm_migrations *new_chain(void)
{
    corm_migrations *ms = corm__calloc(1, sizeof *ms);
    if (ms) corm__arena_init(&ms->arena, 4096);
    return ms;
}

void corm_migrations_free(corm_migrations *ms)
{
    if (!ms) return;
    corm__arena_free(&ms->arena);
    corm__free(ms);
}

int corm_migrations_count(const corm_migrations *ms) { return ms ? ms->nmigs : 0; }

const char *corm_migrations_name(const corm_migrations *ms, int i)
{
    return ms && i >= 0 && i < ms->nmigs ? ms->migs[i].name : NULL;
}

const char *corm_migrations_text(const corm_migrations *ms, int i)
{
    return ms && i >= 0 && i < ms->nmigs ? ms->migs[i].text : NULL;
}

/* Each migration depends on the one before; names are unique. */
static corm_rc check_chain(corm_migrations *ms, corm_error *err)
{
    for (int i = 0; i < ms->nmigs; i++) {
        const corm__migration *m = &ms->migs[i];
        const char *want = i ? ms->migs[i - 1].name : NULL;
        bool ok = want ? m->depends && strcmp(m->depends, want) == 0 : !m->depends;
        if (!ok) {
            corm__err_set(err, CORM_SCHEMA, "migration %s depends on %s, expected %s", m->name,
                          m->depends ? m->depends : "nothing", want ? want : "nothing");
            corm__err_hint(err, "migrations form one chain in name order: two branches each "
                                "made a migration? rename one and fix its depends line");
            return CORM_SCHEMA;
        }
    }
    return CORM_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_file(const char *path, corm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        corm__err_set(err, CORM_IO, "cannot read %s", path);
        return NULL;
    }
    corm_buf b;
    corm__buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) corm__buf_add(&b, chunk, n);
    fclose(f);
    char *s = b.oom ? NULL : corm__strdup(corm__buf_cstr(&b));
    corm__buf_free(&b);
    if (!s) nomem(err);
    return s;
}

corm_migrations *corm_migrations_load(const char *dir, corm_error *err)
{
    corm__err_clear(err);
    corm_migrations *ms = new_chain();
    if (!ms) {
        nomem(err);
        return NULL;
    }
    ms->dir = corm__arena_strdup(&ms->arena, dir);
    DIR *d = opendir(dir);
    if (!d) return ms; /* no directory yet: no migrations */
    corm_vec names = {0};
    bool oom = false;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n <= strlen(EXT) || strcmp(de->d_name + n - strlen(EXT), EXT) != 0) continue;
        char *s = corm__strdup(de->d_name);
        if (!s || !corm__vec_push(&names, s)) {
            corm__free(s);
            oom = true;
        }
    }
    closedir(d);
    if (names.n) qsort(names.p, names.n, sizeof *names.p, cmp_names);
    corm_rc rc = oom ? nomem(err) : CORM_OK;
    for (size_t i = 0; i < names.n && rc == CORM_OK; i++) {
        const char *fn = names.p[i];
        corm_buf path;
        corm__buf_init(&path);
        corm__buf_addf(&path, "%s/%s", dir, fn);
        char *text = read_file(corm__buf_cstr(&path), err);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(fn) - strlen(EXT)), fn);
        rc = text      ? corm__mfile_parse(ms, text, corm__buf_cstr(&path), name, err)
             : err->rc ? err->rc
                       : CORM_IO;
        corm__free(text);
        corm__buf_free(&path);
    }
    for (size_t i = 0; i < names.n; i++) corm__free(names.p[i]);
    corm__vec_free(&names);
    if (rc == CORM_OK) rc = check_chain(ms, err);
    if (rc != CORM_OK) {
        corm_migrations_free(ms);
        return NULL;
    }
    return ms;
}

corm_migrations *corm_migrations_from_texts(const char *const *names, const char *const *texts,
                                            int n, corm_error *err)
{
    corm__err_clear(err);
    corm_migrations *ms = new_chain();
    if (!ms) {
        nomem(err);
        return NULL;
    }
    corm_rc rc = CORM_OK;
    for (int i = 0; i < n && rc == CORM_OK; i++)
        rc = corm__mfile_parse(ms, texts[i], NULL, names[i], err);
    if (rc == CORM_OK) rc = check_chain(ms, err);
    if (rc != CORM_OK) {
        corm_migrations_free(ms);
        return NULL;
    }
    return ms;
}

void corm_free_string(char *s) { corm__free(s); }

/* ------------------------------------------------------------ makemigrations */

/* A name from the operations, Django's way: "initial", "add_book_isbn",
** "book_isbn_and_more"... */
static void auto_name(const corm__migration *m, bool first, corm_buf *out)
{
    if (first) {
        corm__buf_adds(out, "initial");
        return;
    }
    for (int i = 0; i < m->nops && out->len < 40; i++) {
        const corm__op *op = &m->ops[i];
        char low[64];
        size_t k = 0;
        for (const char *c = op->model; *c && k + 1 < sizeof low; c++)
            low[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        low[k] = '\0';
        if (i) corm__buf_addc(out, '_');
        const char *first_line = op->nlines ? op->lines[0] : "";
        if (first_line[0] == '-' || first_line[0] == '+') first_line++;
        const char *key;
        size_t n = corm__line_key(first_line, &key);
        switch (op->kind) {
        case CORM__OP_CREATE_MODEL: corm__buf_adds(out, low); break;
        case CORM__OP_DROP_MODEL: corm__buf_addf(out, "delete_%s", low); break;
        case CORM__OP_ADD_FIELD: corm__buf_addf(out, "%s_%.*s", low, (int)n, key); break;
        case CORM__OP_REMOVE_FIELD: corm__buf_addf(out, "remove_%s_%.*s", low, (int)n, key); break;
        case CORM__OP_ALTER_FIELD: corm__buf_addf(out, "alter_%s_%.*s", low, (int)n, key); break;
        case CORM__OP_RENAME_FIELD: corm__buf_addf(out, "rename_%s_%s", op->name, op->to); break;
        case CORM__OP_RENAME_MODEL: corm__buf_addf(out, "rename_%s", low); break;
        case CORM__OP_ADD_INDEX:
        case CORM__OP_REMOVE_INDEX: {
            /* "index NAME (...)": the name */
            const char *p = strstr(first_line, "index ");
            const char *q = p ? strchr(p + 6, ' ') : NULL;
            if (op->kind == CORM__OP_REMOVE_INDEX) corm__buf_adds(out, "remove_");
            if (p && q) corm__buf_add(out, p + 6, (size_t)(q - p - 6));
            else corm__buf_addf(out, "%s_index", low);
            break;
        }
        case CORM__OP_ALTER_MODEL: corm__buf_addf(out, "alter_%s_options", low); break;
        default: break;
        }
        if (out->len >= 40 && i + 1 < m->nops) {
            corm__buf_adds(out, "_and_more");
            break;
        }
    }
}

corm_rc corm_makemigrations(const corm_migrations *ms, const corm_schema *schema,
                            const char *const *renames, int nrenames, const char *name,
                            char **file_name, char **text, corm_error *err)
{
    corm__err_clear(err);
    *file_name = *text = NULL;
    if (!ms || !schema) {
        corm__err_set(err, CORM_MISUSE, "corm_makemigrations: no migrations or no schema");
        return CORM_MISUSE;
    }
    corm_arena a;
    corm__arena_init(&a, 4096);
    corm__state from, to;
    corm__state_init(&from, &a);
    corm__state_init(&to, &a);
    corm_rc rc = CORM_OK;
    for (int i = 0; i < ms->nmigs && rc == CORM_OK; i++)
        for (int j = 0; j < ms->migs[i].nops && rc == CORM_OK; j++)
            rc = corm__state_apply(&from, &ms->migs[i], &ms->migs[i].ops[j], err);
    if (rc == CORM_OK) rc = corm__state_from_schema(&to, schema, err);
    corm__migration m = {0};
    if (rc == CORM_OK)
        rc = corm__autodetect(&a, &from, &to, renames, nrenames, schema->renames, schema->nrenames,
                              &m, err);
    if (rc == CORM_OK && m.nops) {
        corm_buf nb, tb;
        corm__buf_init(&nb);
        corm__buf_init(&tb);
        int num = 1;
        if (ms->nmigs) num = atoi(ms->migs[ms->nmigs - 1].name) + 1;
        corm__buf_addf(&nb, "%04d_", num);
        if (name) corm__buf_adds(&nb, name);
        else auto_name(&m, ms->nmigs == 0, &nb);
        m.name = corm__buf_cstr(&nb);
        m.depends = ms->nmigs ? ms->migs[ms->nmigs - 1].name : NULL;
        corm__mfile_write(&m, &tb);
        corm__buf_adds(&nb, EXT);
        if (nb.oom || tb.oom || !(*file_name = corm__strdup(corm__buf_cstr(&nb))) ||
            !(*text = corm__strdup(corm__buf_cstr(&tb)))) {
            corm__free(*file_name);
            *file_name = NULL;
            rc = nomem(err);
        }
        corm__buf_free(&nb);
        corm__buf_free(&tb);
    }
    corm__arena_free(&a);
    return rc;
}
