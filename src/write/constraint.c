/*
** constraint.c - typed constraint errors.  The backend reports a violated
** constraint as CORM_CONSTRAINT with its own text (SQLite: "UNIQUE
** constraint failed: book.isbn"; PostgreSQL: SQLSTATE 23505 and `Key
** (isbn)=(...)`); here it becomes a kind (corm_error.constraint), a name,
** the offending values read from the object that was being written, and a
** message that says which object of the call it was.
*/
#include "write_int.h"

#include <string.h>

#define MAX_COLS 16

typedef struct cinfo {
    corm_ckind kind;
    char name[128]; /* "book.isbn", or the PostgreSQL constraint */
    char cols[MAX_COLS][64];
    int ncols;
} cinfo;

/* "t.a, t.b" (SQLite) -> columns a, b and the name "t.a, t.b". */
static void sqlite_cols(const char *list, cinfo *ci)
{
    corm__strlcpy(ci->name, list, sizeof ci->name);
    const char *p = list;
    while (*p && ci->ncols < MAX_COLS) {
        while (*p == ' ' || *p == ',') p++;
        const char *end = p;
        while (*end && *end != ',') end++;
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *col = dot ? dot + 1 : p;
        size_t n = (size_t)(end - col);
        while (n && col[n - 1] == ' ') n--;
        if (n && n < sizeof ci->cols[0]) {
            memcpy(ci->cols[ci->ncols], col, n);
            ci->cols[ci->ncols][n] = '\0';
            ci->ncols++;
        }
        p = end;
    }
}

/* PostgreSQL's `Key (a, b)=(x, y)` anywhere in s -> columns a, b. */
static void pg_key_cols(const char *s, cinfo *ci)
{
    const char *k = strstr(s, "Key (");
    if (!k) return;
    k += 5;
    const char *end = strstr(k, ")=(");
    if (!end) return;
    while (k < end && ci->ncols < MAX_COLS) {
        while (k < end && (*k == ' ' || *k == ',' || *k == '"')) k++;
        const char *e = k;
        while (e < end && *e != ',' && *e != '"') e++;
        size_t n = (size_t)(e - k);
        if (n && n < sizeof ci->cols[0]) {
            memcpy(ci->cols[ci->ncols], k, n);
            ci->cols[ci->ncols][n] = '\0';
            ci->ncols++;
        }
        k = e;
        if (k < end && *k == '"') k++;
    }
}

/* The first "quoted" word after marker in s, into out. */
static void quoted_after(const char *s, const char *marker, char *out, size_t size)
{
    const char *p = strstr(s, marker);
    if (!p) return;
    p = strchr(p + strlen(marker), '"');
    if (!p) return;
    const char *e = strchr(p + 1, '"');
    if (!e || (size_t)(e - p - 1) >= size) return;
    memcpy(out, p + 1, (size_t)(e - p - 1));
    out[e - p - 1] = '\0';
}

static void classify(const corm_error *e, cinfo *ci)
{
    memset(ci, 0, sizeof *ci);
    const char *m = e->message;
    if (e->sqlstate[0]) {
        if (strcmp(e->sqlstate, "23505") == 0) ci->kind = CORM_CK_UNIQUE;
        else if (strcmp(e->sqlstate, "23502") == 0) ci->kind = CORM_CK_NOT_NULL;
        else if (strcmp(e->sqlstate, "23503") == 0) ci->kind = CORM_CK_FOREIGN_KEY;
        else if (strcmp(e->sqlstate, "23514") == 0) ci->kind = CORM_CK_CHECK;
        quoted_after(m, "constraint", ci->name, sizeof ci->name);
        pg_key_cols(m, ci);
        if (!ci->ncols) pg_key_cols(e->hint, ci);
        if (ci->kind == CORM_CK_NOT_NULL) {
            quoted_after(m, "column", ci->cols[0], sizeof ci->cols[0]);
            ci->ncols = ci->cols[0][0] ? 1 : 0;
            if (!ci->name[0]) corm__strlcpy(ci->name, ci->cols[0], sizeof ci->name);
        }
        return;
    }
    /* SQLite's texts, possibly behind a prefix corm added */
    static const struct {
        const char *text;
        corm_ckind kind;
    } kinds[] = {
        {"UNIQUE constraint failed: ", CORM_CK_UNIQUE},
        {"NOT NULL constraint failed: ", CORM_CK_NOT_NULL},
        {"CHECK constraint failed: ", CORM_CK_CHECK},
        {"FOREIGN KEY constraint failed", CORM_CK_FOREIGN_KEY},
        {"PRIMARY KEY must be unique", CORM_CK_UNIQUE},
    };
    for (size_t i = 0; i < CORM__ARRAY_LEN(kinds); i++) {
        const char *p = strstr(m, kinds[i].text);
        if (!p) continue;
        ci->kind = kinds[i].kind;
        p += strlen(kinds[i].text);
        if (ci->kind == CORM_CK_UNIQUE || ci->kind == CORM_CK_NOT_NULL) {
            char list[256];
            corm__strlcpy(list, p, sizeof list);
            char *cut = strpbrk(list, ";\n(");
            if (cut) *cut = '\0';
            sqlite_cols(list, ci);
        } else if (ci->kind == CORM_CK_CHECK) {
            corm__strlcpy(ci->name, p, sizeof ci->name);
        } else {
            corm__strlcpy(ci->name, "FOREIGN KEY", sizeof ci->name);
        }
        return;
    }
}

corm_ckind corm__constraint_kind(const corm_error *err)
{
    cinfo ci;
    classify(err, &ci);
    return ci.kind;
}

static const corm_field *field_by_column(const corm_model *m, const char *col)
{
    for (int i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].column, col) == 0) return &m->fields[i];
    return NULL;
}

int corm__constraint_columns(const corm_error *err, const corm_model *m, const corm_field **out,
                             int max)
{
    cinfo ci;
    classify(err, &ci);
    int n = 0;
    for (int i = 0; i < ci.ncols && n < max; i++) {
        const corm_field *f = field_by_column(m, ci.cols[i]);
        if (!f) return 0;
        out[n++] = f;
    }
    return n;
}

/* name='value' of field f of obj, for messages (text cut at 40 bytes). */
static void fmt_value(corm_buf *b, const void *obj, const corm_field *f)
{
    corm_value v = corm__field_value(obj, f);
    corm__buf_addf(b, "%s=", f->column);
    switch (v.type) {
    case CORM_V_NULL: corm__buf_adds(b, "NULL"); break;
    case CORM_V_INT: corm__buf_addf(b, "%lld", (long long)v.u.i); break;
    case CORM_V_FLOAT: corm__buf_addf(b, "%g", v.u.f); break;
    case CORM_V_DECIMAL: {
        char d[CORM_DEC_BUF];
        corm__buf_adds(b, corm_dec_format(v.u.d, d));
        break;
    }
    case CORM_V_BOOL: corm__buf_adds(b, v.u.b ? "true" : "false"); break;
    case CORM_V_BLOB: corm__buf_addf(b, "<%zu bytes>", v.u.s.n); break;
    default: {
        size_t n = strlen(v.u.s.p);
        corm__buf_addc(b, '\'');
        for (size_t i = 0; i < n && i < 40; i++) {
            char ch = v.u.s.p[i];
            if (ch == '\'') corm__buf_addc(b, '\'');
            corm__buf_addc(b, (unsigned char)ch < 0x20 ? '?' : ch);
        }
        if (n > 40) corm__buf_adds(b, "...");
        corm__buf_addc(b, '\'');
        break;
    }
    }
}

static const char *kind_name(corm_ckind k)
{
    switch (k) {
    case CORM_CK_UNIQUE: return "UNIQUE";
    case CORM_CK_NOT_NULL: return "NOT NULL";
    case CORM_CK_FOREIGN_KEY: return "FOREIGN KEY";
    case CORM_CK_CHECK: return "CHECK";
    case CORM_CK_PROTECT: return "PROTECT";
    case CORM_CK_RESTRICT: return "RESTRICT";
    default: return "a";
    }
}

void corm__constraint_explain(corm_db *db, const corm_model *m, const char *what,
                              const corm__objs *objs, size_t row0, size_t nrows, bool bulk)
{
    corm_error *e = &db->err;
    if (e->rc != CORM_CONSTRAINT) return;
    cinfo ci;
    classify(e, &ci);
    const corm_field *cols[MAX_COLS];
    int ncols = 0;
    for (int i = 0; i < ci.ncols; i++) {
        const corm_field *f = field_by_column(m, ci.cols[i]);
        if (f) cols[ncols++] = f;
    }
    /* which object: for NOT NULL the first whose column is NULL, else the
    ** first of the range (callers narrow the range when they know) */
    size_t row = row0;
    if (ci.kind == CORM_CK_NOT_NULL && ncols == 1) {
        for (size_t i = row0; i < row0 + nrows; i++) {
            if (corm__field_value(corm__objs_at(objs, i), cols[0]).type == CORM_V_NULL) {
                row = i;
                break;
            }
        }
    }
    const void *obj = nrows ? corm__objs_at(objs, row) : NULL;
    corm_buf vals;
    corm__buf_init(&vals);
    for (int i = 0; obj && i < ncols; i++) {
        if (i) corm__buf_adds(&vals, ", ");
        fmt_value(&vals, obj, cols[i]);
    }
    if (obj && ci.kind == CORM_CK_FOREIGN_KEY && !e->values[0]) {
        /* the fk columns of the object: one of them names no row */
        for (int i = 0; i < m->nfields; i++) {
            const corm_field *f = &m->fields[i];
            if (f->type != CORM_FT_FK && f->type != CORM_FT_O2O) continue;
            if (vals.len) corm__buf_adds(&vals, ", ");
            fmt_value(&vals, obj, f);
        }
    }
    e->constraint = ci.kind;
    if (!e->constraint_name[0]) {
        /* "table.column[, table.column]" on every backend (SQLite's own
        ** words); else the backend's constraint name */
        corm_buf name;
        corm__buf_init(&name);
        for (int i = 0; i < ncols; i++)
            corm__buf_addf(&name, "%s%s.%s", i ? ", " : "", m->table, cols[i]->column);
        corm__strlcpy(e->constraint_name,
                      name.len     ? corm__buf_cstr(&name)
                      : ci.name[0] ? ci.name
                                   : kind_name(ci.kind),
                      sizeof e->constraint_name);
        corm__buf_free(&name);
    }
    if (!e->values[0]) corm__strlcpy(e->values, corm__buf_cstr(&vals), sizeof e->values);
    if (bulk && nrows) e->row = (int64_t)row + 1;

    corm_buf msg;
    corm__buf_init(&msg);
    corm__buf_addf(&msg, "%s of %s", what, m->name);
    if (bulk && nrows) corm__buf_addf(&msg, ": object %zu", row + 1);
    if (e->values[0]) corm__buf_addf(&msg, " (%s)", e->values);
    corm__buf_addf(&msg, ": %s%s", e->message, bulk ? "; nothing was written" : "");
    if (!msg.oom) corm__strlcpy(e->message, corm__buf_cstr(&msg), sizeof e->message);
    corm__buf_free(&msg);
    if (bulk && nrows)
        corm__err_hint(e,
                       "the whole call was rolled back: fix or drop object %zu (objs[%zu]) "
                       "and call again%s",
                       row + 1, row,
                       ci.kind == CORM_CK_UNIQUE ? ", or pass ignore_conflicts / "
                                                   "update_conflicts"
                                                 : "");
    corm__buf_free(&vals);
}

/* A char field with a max_length: SQLite does not enforce char(n). */
static bool has_max_length(const corm_field *f)
{
    return f->type == CORM_FT_CHAR && f->max_length > 0;
}

corm_rc corm__check_max_length(corm_db *db, const corm_model *m, const corm_field *f, corm_value v,
                               const char *what, int64_t row)
{
    if (!has_max_length(f) || v.type != CORM_V_TEXT) return CORM_OK;
    size_t n = v.u.s.n == (size_t)-1 ? strlen(v.u.s.p) : v.u.s.n, chars = 0;
    for (size_t i = 0; i < n; i++) chars += ((unsigned char)v.u.s.p[i] & 0xC0) != 0x80;
    if (chars <= (size_t)f->max_length) return CORM_OK;
    corm_error *e = &db->err;
    corm__err_set(e, CORM_CONSTRAINT, "%s of %s", what, m->name);
    e->constraint = CORM_CK_CHECK;
    snprintf(e->constraint_name, sizeof e->constraint_name, "%s.%s", m->table, f->column);
    snprintf(e->values, sizeof e->values, "%s='%.*s%s'", f->name, 40, v.u.s.p, n > 40 ? "..." : "");
    e->row = row >= 0 ? row + 1 : 0;
    char msg[sizeof e->message];
    snprintf(msg, sizeof msg, "%s of %s%s%.0lld: %s is %zu characters, max_length is %d%s", what,
             m->name, row >= 0 ? ": object " : "", (long long)(row >= 0 ? row + 1 : 0), f->name,
             chars, f->max_length, row >= 0 ? "; nothing was written" : "");
    corm__strlcpy(e->message, msg, sizeof e->message);
    corm__err_hint(e,
                   "shorten %s.%s to %d characters, or raise max_length in the schema (and "
                   "migrate)",
                   m->name, f->name, f->max_length);
    return CORM_CONSTRAINT;
}

corm_rc corm__check_max_lengths(corm_db *db, const corm_model *m, const corm__objs *objs,
                                const corm_field *const *cols, int ncols, const char *what)
{
    const corm_field *limited[CORM_MAX_FIELDS];
    int n = 0;
    for (int k = 0; k < ncols && n < CORM_MAX_FIELDS; k++)
        if (has_max_length(cols[k])) limited[n++] = cols[k];
    for (size_t i = 0; n > 0 && i < objs->n; i++) {
        const void *obj = corm__objs_at(objs, i);
        for (int k = 0; k < n; k++)
            if (corm__check_max_length(db, m, limited[k], corm__field_value(obj, limited[k]), what,
                                       (int64_t)i) != CORM_OK)
                return CORM_CONSTRAINT;
    }
    return CORM_OK;
}

/* The required field of obj that a write would send as NULL: NOT NULL,
** not the pk, not set by the write itself (auto_now), without a default an
** INSERT could fall back on; a NOT NULL fk of 0 names no row and counts as
** unset.  NULL when there is none. */
static const corm_field *missing(const void *obj, const corm_field *const *cols, int ncols,
                                 bool insert)
{
    for (int i = 0; i < ncols; i++) {
        const corm_field *f = cols[i];
        if (f->flags & (CORM_FF_PK | CORM_FF_NULL | CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD))
            continue;
        if (insert && (f->flags & CORM_FF_HAS_DEFAULT)) continue;
        corm_value v = corm__field_value(obj, f);
        if (v.type == CORM_V_NULL) return f;
        if ((f->type == CORM_FT_FK || f->type == CORM_FT_O2O) && v.u.i == 0) return f;
    }
    return NULL;
}

/* Why decimal d cannot go to field f exactly on db's backend, or NULL. */
static const char *decimal_misfit(const corm_db *db, const corm_field *f, corm_decimal d)
{
    if (!corm_dec_valid(d)) return "not a number (a failed corm_dec or an overflow)";
    if (!corm_dec_fits(d, f->precision, f->scale)) return "does not fit";
    /* SQLite keeps a fraction as REAL: 15 significant digits survive
    ** (counted without the trailing zeros of the fraction) */
    if (!db->dialect->real_decimals) return NULL;
    while (d.scale > 0 && d.units % 10 == 0) d = corm_dec_units(d.units / 10, d.scale - 1);
    if (d.scale > 0 && (d.units > 999999999999999LL || d.units < -999999999999999LL))
        return "has more than the 15 significant digits SQLite keeps of a fraction";
    return NULL;
}

/* The date or datetime field of obj whose text is not a real date or a
** stored UTC datetime (include/corm/datetime.h), or the decimal field whose
** value does not fit it (decimal_misfit), or NULL. */
static const corm_field *bad_value(const corm_db *db, const void *obj,
                                   const corm_field *const *cols, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        const corm_field *f = cols[i];
        if (f->type == CORM_FT_DECIMAL) {
            corm_value v = corm__field_value(obj, f);
            if (v.type == CORM_V_DECIMAL && decimal_misfit(db, f, v.u.d)) return f;
            continue;
        }
        if (f->type != CORM_FT_DATE && f->type != CORM_FT_DATETIME) continue;
        if (f->flags & (CORM_FF_AUTO_NOW | CORM_FF_AUTO_NOW_ADD)) continue;
        corm_value v = corm__field_value(obj, f);
        if (v.type != CORM_V_TEXT) continue;
        if (f->type == CORM_FT_DATE ? !corm_date_valid(v.u.s.p) : !corm_datetime_valid(v.u.s.p))
            return f;
    }
    return NULL;
}

static corm_rc date_error(corm_db *db, const corm_model *m, const char *what, const void *obj,
                          const corm_field *f, size_t i, bool bulk)
{
    corm_error *e = &db->err;
    bool date = f->type == CORM_FT_DATE;
    corm_buf pos, val;
    corm__buf_init(&pos);
    corm__buf_init(&val);
    if (bulk) corm__buf_addf(&pos, ": object %zu", i + 1);
    fmt_value(&val, obj, f);
    if (f->type == CORM_FT_DECIMAL) {
        corm__err_set(e, CORM_INVALID,
                      "%s of %s%s: %s %s decimal(%d, %d); nothing was sent to the database", what,
                      m->name, pos.len ? corm__buf_cstr(&pos) : "", corm__buf_cstr(&val),
                      decimal_misfit(db, f, corm__field_value(obj, f).u.d), f->precision, f->scale);
        corm__err_hint(e,
                       "decimal(%d, %d) holds %d digits before the point and %d after: round "
                       "with corm_dec_round, or widen the field in the schema (and migrate)",
                       f->precision, f->scale, f->precision - f->scale, f->scale);
    } else
        corm__err_set(e, CORM_INVALID,
                      "%s of %s%s: %s is not a %s; nothing was sent to the database", what, m->name,
                      pos.len ? corm__buf_cstr(&pos) : "", val.len ? corm__buf_cstr(&val) : f->name,
                      date ? "real date (YYYY-MM-DD)"
                           : "real UTC datetime (YYYY-MM-DD HH:MM:SS[.ffffff], no 'T', no offset)");
    if (f->type != CORM_FT_DECIMAL)
        corm__err_hint(e, "%s",
                       date ? "write dates as YYYY-MM-DD; corm_date_from_tm builds one"
                            : "write datetimes in UTC as YYYY-MM-DD HH:MM:SS[.ffffff]; "
                              "corm_datetime_from_time_t builds one");
    if (bulk) e->row = (int64_t)i + 1;
    corm__buf_free(&pos);
    corm__buf_free(&val);
    return CORM_INVALID;
}

corm_rc corm__check_write(corm_db *db, const corm_model *m, const char *what,
                          const corm__objs *objs, const corm_field *const *cols, int ncols,
                          bool insert, bool bulk)
{
    for (size_t i = 0; i < objs->n; i++) {
        const void *obj = corm__objs_at(objs, i);
        const corm_field *f = missing(obj, cols, ncols, insert);
        if (!f) {
            if ((f = bad_value(db, obj, cols, ncols)))
                return date_error(db, m, what, obj, f, i, bulk);
            continue;
        }
        corm_error *e = &db->err;
        bool key = f->type == CORM_FT_FK || f->type == CORM_FT_O2O;
        corm_buf pos;
        corm__buf_init(&pos);
        if (bulk) corm__buf_addf(&pos, ": object %zu", i + 1);
        corm__err_set(e, CORM_CONSTRAINT,
                      "%s of %s%s: field '%s' is required (NOT NULL, no default) and %s; "
                      "nothing was sent to the database",
                      what, m->name, pos.len ? corm__buf_cstr(&pos) : "", f->name,
                      key ? "its key is 0 (unset)" : "is NULL (unset)");
        corm__buf_free(&pos);
        if (bulk) e->row = (int64_t)i + 1;
        if (key)
            corm__err_hint(e,
                           "set %s to the id of a saved %s before saving, or declare `%s` "
                           "with `null` in the schema",
                           f->column,
                           f->rel >= 0 ? m->schema->models[m->rels[f->rel].target]->name : "object",
                           f->name);
        else
            corm__err_hint(e,
                           "set %s before saving, or declare `%s` with `null` or `default=` in "
                           "the schema",
                           f->name, f->name);
        e->constraint = CORM_CK_NOT_NULL;
        corm_buf name;
        corm__buf_init(&name);
        corm__buf_addf(&name, "%s.%s", m->table, f->column);
        corm__strlcpy(e->constraint_name, name.len ? corm__buf_cstr(&name) : "",
                      sizeof e->constraint_name);
        corm__buf_reset(&name);
        corm__buf_addf(&name, "%s=%s", f->column, key ? "0" : "NULL");
        corm__strlcpy(e->values, name.len ? corm__buf_cstr(&name) : "", sizeof e->values);
        corm__buf_free(&name);
        return CORM_CONSTRAINT;
    }
    return CORM_OK;
}
