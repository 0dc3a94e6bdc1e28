/*
** fuzz_lookup.c - lookup paths and values through the builder and the SQL
** compiler, both dialects, no database.  The input is decoded into a few
** filter / exclude / Q / F-expression / annotation calls on a model of the
** test schema, with paths made of the schema's names, the lookups and raw
** bytes, and values of every type (lists with NULL elements, hostile text).
** Invariants, for each dialect and for objects and COUNT(*):
**   - the builder and the compiler end in SQL or in an error with a message;
**   - the SQL's placeholders are exactly its parameters (? counted outside
**     quotes on SQLite, $1..$n each once on PostgreSQL);
**   - no value text reaches the SQL: the same calls with every text value
**     replaced give the same SQL text.
*/
#include "fuzz.h"
#include "qs/qs_int.h"

#include <string.h>

const char fuzz_name[] = "lookup";

static corm_db *db;
static const char *words[512];
static int nwords;

static void add_word(const char *w)
{
    for (int i = 0; i < nwords; i++)
        if (!strcmp(words[i], w)) return;
    if (nwords < (int)(sizeof words / sizeof words[0])) words[nwords++] = w;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    corm_error err;
    db = corm_open("sqlite::memory:", &bookstore_schema, &err);
    FUZZ_CHECK(db, "open: %s", err.message);
    static const char *const lookups[] = {
        "exact",     "iexact", "contains", "icontains", "startswith", "istartswith", "endswith",
        "iendswith", "in",     "gt",       "gte",       "lt",         "lte",         "isnull",
        "range",     "year",   "month",    "day",       "pk",         "id",          ""};
    for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++) add_word(lookups[i]);
    for (int m = 0; m < bookstore_schema.nmodels; m++) {
        const corm_model *model = bookstore_schema.models[m];
        for (int f = 0; f < model->nfields; f++) add_word(model->fields[f].name);
        for (int r = 0; r < model->nrels; r++) add_word(model->rels[r].name);
    }
    return 0;
}

/* Storage for one decoding: the texts handed to the builder. */
typedef struct dec {
    fz in;
    bool probe; /* every text value replaced by PROBE */
    char buf[64][80];
    int nbuf;
    const char *tlist[4];
    int64_t ilist[4];
    corm_value vlist[4];
} dec;

#define PROBE "corm-fuzz-probe"

static char *next_buf(dec *d) { return d->buf[d->nbuf++ % 64]; }

static const char *path(dec *d)
{
    char *out = next_buf(d);
    out[0] = '\0';
    int ntok = 1 + (int)fz_pick(&d->in, 4);
    size_t len = 0;
    for (int i = 0; i < ntok; i++) {
        char raw[24];
        const char *tok;
        if (fz_pick(&d->in, 8) == 0) {
            fz_text(&d->in, raw, 16, false);
            tok = raw;
        } else tok = words[fz_pick(&d->in, (unsigned)nwords)];
        int n = snprintf(out + len, 80 - len, "%s%s", i ? "__" : "", tok);
        if (n < 0 || (size_t)n >= 80 - len) break;
        len += (size_t)n;
    }
    return out;
}

static const char *text(dec *d)
{
    char *out = next_buf(d);
    fz_text(&d->in, out, 40, false);
    return d->probe ? PROBE : out;
}

static corm_value value(dec *d)
{
    switch (fz_pick(&d->in, 10)) {
    case 0: return corm_int(fz_int(&d->in));
    case 1: return corm_float((double)fz_int(&d->in) / 4.0);
    case 2: return corm_bool(fz_byte(&d->in) & 1);
    case 3: return corm_text(text(d));
    case 4: {
        const char *t = text(d);
        return corm_blobv(t, strlen(t));
    }
    case 5: return corm_null();
    case 6: {
        size_t n = fz_pick(&d->in, 5);
        for (size_t i = 0; i < n; i++) d->ilist[i] = fz_int(&d->in);
        return corm_ints(d->ilist, n);
    }
    case 7: {
        size_t n = fz_pick(&d->in, 5);
        for (size_t i = 0; i < n; i++) d->tlist[i] = fz_pick(&d->in, 6) ? text(d) : NULL;
        return corm_texts(d->tlist, n);
    }
    case 8: {
        size_t n = fz_pick(&d->in, 5);
        for (size_t i = 0; i < n; i++)
            d->vlist[i] = fz_pick(&d->in, 3) == 0   ? corm_text(text(d))
                          : fz_pick(&d->in, 4) == 0 ? corm_null()
                                                    : corm_int(fz_int(&d->in));
        return corm_vlist(d->vlist, n);
    }
    default: {
        d->vlist[0] = corm_int(fz_int(&d->in));
        d->vlist[1] = corm_int(fz_int(&d->in));
        return corm_vlist(d->vlist, 2);
    }
    }
}

static corm_expr *expr(dec *d, corm_qs *qs)
{
    switch (fz_pick(&d->in, 6)) {
    case 0: return corm_F(qs, path(d));
    case 1: return corm_V(qs, value(d));
    case 2: return corm_Count(qs, path(d), fz_byte(&d->in) & 1);
    case 3: return corm_Max(qs, path(d));
    case 4: return corm_Sum(qs, path(d));
    default: {
        static const char ops[] = "+-*/%";
        corm_expr *a = corm_F(qs, path(d));
        char op = ops[fz_pick(&d->in, 5)];
        return corm_arith(qs, a, op, corm_V(qs, value(d)));
    }
    }
}

static corm_q *q(dec *d, corm_qs *qs, int depth)
{
    unsigned k = depth > 2 ? 0 : fz_pick(&d->in, 4);
    if (k == 1) return corm_q_and(qs, q(d, qs, depth + 1), q(d, qs, depth + 1));
    if (k == 2) return corm_q_or(qs, q(d, qs, depth + 1), q(d, qs, depth + 1));
    if (k == 3) return corm_q_not(qs, q(d, qs, depth + 1));
    const char *p = path(d);
    return corm_q_new(qs, p, value(d));
}

static corm_qs *build(dec *d)
{
    const corm_model *m =
        bookstore_schema.models[fz_pick(&d->in, (unsigned)bookstore_schema.nmodels)];
    corm_qs *qs = corm_qs_new_at(db, m, CORM_SITE);
    int nops = 1 + (int)fz_pick(&d->in, 4);
    for (int i = 0; i < nops; i++) {
        switch (fz_pick(&d->in, 6)) {
        case 0: {
            const char *p = path(d);
            corm_filter(qs, p, value(d));
            break;
        }
        case 1: {
            const char *p = path(d);
            corm_exclude(qs, p, value(d));
            break;
        }
        case 2: corm_filter_q(qs, q(d, qs, 0)); break;
        case 3: corm_exclude_q(qs, q(d, qs, 0)); break;
        case 4: {
            const char *p = path(d);
            corm_filter_expr(qs, p, expr(d, qs));
            break;
        }
        default: {
            /* a name is an identifier, not a value: never probed */
            char *name = next_buf(d);
            if (fz_pick(&d->in, 2))
                snprintf(name, 80, "%s", words[fz_pick(&d->in, (unsigned)nwords)]);
            else fz_text(&d->in, name, 24, false);
            corm_annotate(qs, name, expr(d, qs));
            break;
        }
        }
    }
    return qs;
}

/* The placeholders of sql outside quotes: '?' (SQLite), or for numbered
** ones each $k with k in 1..n exactly once (-1 when not so). */
static int placeholders(const char *s, bool numbered, int n)
{
    int count = 0;
    unsigned char seen[1024] = {0};
    char quote = 0;
    for (; *s; s++) {
        if (quote) {
            if (*s == quote) quote = 0;
        } else if (*s == '\'' || *s == '"') quote = *s;
        else if (!numbered && *s == '?') count++;
        else if (numbered && *s == '$' && s[1] >= '1' && s[1] <= '9') {
            long k = strtol(s + 1, NULL, 10);
            if (k < 1 || k > n || k > 1023 || seen[k]) return -1;
            seen[k] = 1;
            count++;
        }
    }
    return count;
}

typedef struct outcome {
    corm_rc rc;
    char sql[4][32768]; /* sqlite objects, sqlite count, pg objects, pg count */
    bool cut;           /* one did not fit: not compared */
} outcome;

static void compile(corm_qs *qs, outcome *o)
{
    memset(o, 0, sizeof *o);
    const corm__dialect *dialects[] = {&corm__sqlite_dialect, &corm__pg_dialect};
    const corm__sel_kind kinds[] = {CORM__SEL_OBJECTS, CORM__SEL_COUNT};
    o->rc = corm_qs_error(qs)->rc;
    for (int i = 0; i < 4 && o->rc == CORM_OK; i++) {
        const corm__dialect *dl = dialects[i / 2];
        corm__compiled c;
        corm__compiled_init(&c);
        corm_error err;
        memset(&err, 0, sizeof err);
        o->rc = corm__compile_select(&qs->q, kinds[i % 2], dl, &c, &err);
        if (o->rc == CORM_OK) {
            const char *sql = corm__buf_cstr(&c.sql);
            FUZZ_CHECK(placeholders(sql, dl->numbered_params, c.nparams) == c.nparams,
                       "%d parameters for the placeholders of %s", c.nparams, sql);
            if (strlen(sql) >= sizeof o->sql[i]) o->cut = true;
            snprintf(o->sql[i], sizeof o->sql[i], "%s", sql);
        } else {
            FUZZ_CHECK(err.message[0], "compile error %d without a message", (int)o->rc);
            FUZZ_CHECK(i == 0, "SQLite compiled it, %s did not: %s", dl->vendor, err.message);
        }
        corm__compiled_free(&c);
    }
    if (corm_qs_error(qs)->rc != CORM_OK)
        FUZZ_CHECK(corm_qs_error(qs)->message[0], "a builder error without a message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024) return 0;
    static dec d;
    static outcome real, probe;
    memset(&d, 0, sizeof d);
    d.in = (fz){data, size};
    corm_qs *qs = build(&d);
    compile(qs, &real);
    /* the public path agrees with the compiler */
    const char *sql = corm_qs_sql(qs);
    if (real.rc == CORM_OK && !real.cut)
        FUZZ_CHECK(sql && !strcmp(sql, real.sql[0]), "corm_qs_sql differs:\n%s\n%s",
                   sql ? sql : corm_qs_error(qs)->message, real.sql[0]);
    else FUZZ_CHECK(!sql && corm_qs_error(qs)->message[0], "corm_qs_sql of a failing queryset");
    corm_qs_free(qs);

    memset(&d, 0, sizeof d);
    d.in = (fz){data, size};
    d.probe = true;
    qs = build(&d);
    compile(qs, &probe);
    corm_qs_free(qs);
    if (real.rc == CORM_OK && probe.rc == CORM_OK && !real.cut && !probe.cut)
        for (int i = 0; i < 4; i++)
            FUZZ_CHECK(!strcmp(real.sql[i], probe.sql[i]),
                       "the SQL depends on a value's text:\n%s\n%s", real.sql[i], probe.sql[i]);
    return 0;
}
