/*
** test_hydrate_cells.c - what hydration reads from each cell, pinned so a
** faster read cannot change it (docs/benchmarks.md, "Hydration: one call
** a cell"): a NULL in a column the schema says is NOT NULL (a table
** another program changed) still loads as NULL, never as 0, "" or false,
** through a model, values() and raw(); on SQLite, a cell stored in another
** storage class than its column's (text in an integer column, a REAL in a
** bool, a blob in a decimal) converts as SQLite converts it; and decimal
** fields read exactly the same value, scale and rounding from every way
** a number can be stored (INTEGER, REAL, TEXT, BLOB; many digits, negative,
** zero, huge).  Schema: tests/integration/bulk_arrays.corm.
*/
#include "test.h"

#include "bulk_arrays/bulk_arrays.h"

#include <stdio.h>
#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    corm_error err;
    db = corm_open(test_db_fresh_url(), &bulk_arrays_schema, &err);
    if (!db) {
        char buf[2048];
        fail_msg("corm_open: %s", corm_error_format(&err, buf, sizeof buf));
    }
    if (corm_migrate(db) != CORM_OK) fail_msg("corm_migrate: %s", corm_db_error(db)->message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_close(db);
    test_db_close(NULL);
    return 0;
}

#define OK_DB(call) TEST_OK_DB(db, call)

static const char *const fields[] = {"label", "t",  "c", "n",   "big",  "f",    "d",    "b",
                                     "day",   "at", "j", "raw", "dflt", "flag", "word", NULL};
#define NFIELDS (sizeof fields / sizeof *fields - 1)

static void put(char *buf, size_t cap, size_t *len, const char *fmt_, const char *s)
{
    int k = snprintf(buf + *len, cap - *len, fmt_, s);
    if (k > 0 && (size_t)k < cap - *len) *len += (size_t)k;
}

/* One cell as text: NULL, 'text', numbers, decimals (NaN for not a
** number), blobs as x'hex'. */
static void cell_text(const corm_value *v, char *out, size_t n)
{
    char dec[CORM_DEC_BUF];
    switch (v->type) {
    case CORM_V_NULL: snprintf(out, n, "NULL"); break;
    case CORM_V_INT: snprintf(out, n, "%lld", (long long)v->u.i); break;
    case CORM_V_FLOAT: snprintf(out, n, "%.17g", v->u.f); break;
    case CORM_V_BOOL: snprintf(out, n, "%s", v->u.b ? "true" : "false"); break;
    case CORM_V_DECIMAL: snprintf(out, n, "%s", corm_dec_format(v->u.d, dec)); break;
    case CORM_V_TEXT: snprintf(out, n, "'%s'", v->u.s.p ? v->u.s.p : ""); break;
    case CORM_V_BLOB: {
        size_t len = (size_t)snprintf(out, n, "x'");
        const unsigned char *p = (const unsigned char *)v->u.s.p;
        for (size_t i = 0; i < v->u.s.n && len + 3 < n; i++)
            len += (size_t)snprintf(out + len, n - len, "%02x", p[i]);
        snprintf(out + len, n - len, "'");
        break;
    }
    default: snprintf(out, n, "?%d", (int)v->type); break;
    }
}

/* Every field of a loaded Cell, "name=value" joined by spaces. */
static const char *obj_text(const Cell *o)
{
    static char buf[2048];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NFIELDS; i++) {
        corm_value v = corm_null();
        const char *k = fields[i];
        if (!corm_is_null(o, k)) {
            if (!strcmp(k, "label")) v = corm_text(o->label);
            else if (!strcmp(k, "t")) v = corm_text(o->t);
            else if (!strcmp(k, "c")) v = corm_text(o->c);
            else if (!strcmp(k, "n")) v = corm_int(o->n);
            else if (!strcmp(k, "big")) v = corm_int(o->big);
            else if (!strcmp(k, "f")) v = corm_float(o->f);
            else if (!strcmp(k, "d")) v = corm_decv(o->d);
            else if (!strcmp(k, "b")) v = corm_bool(o->b);
            else if (!strcmp(k, "day")) v = corm_text(o->day);
            else if (!strcmp(k, "at")) v = corm_text(o->at);
            else if (!strcmp(k, "j")) v = corm_text(o->j);
            else if (!strcmp(k, "raw")) v = corm_blobv(o->raw.data, o->raw.len);
            else if (!strcmp(k, "dflt")) v = corm_int(o->dflt);
            else if (!strcmp(k, "flag")) v = corm_bool(o->flag);
            else if (!strcmp(k, "word")) v = corm_text(o->word);
        }
        char c[256];
        cell_text(&v, c, sizeof c);
        put(buf, sizeof buf, &len, i ? " %s" : "%s", k);
        put(buf, sizeof buf, &len, "=%s", c);
    }
    return buf;
}

/* Row r of an evaluated values()/raw SQL queryset: "col=value ...". */
static const char *row_text(const corm_qs *qs, size_t r)
{
    static char buf[2048];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < corm_qs_ncols(qs); i++) {
        char c[256];
        cell_text(corm_qs_cell(qs, r, i), c, sizeof c);
        put(buf, sizeof buf, &len, i ? " %s" : "%s", c);
    }
    return buf;
}

/* The Cell objects in id order, through the model and through raw(). */
static const char *load(bool raw, size_t row)
{
    corm_qs *qs;
    if (raw) {
        qs = corm_raw(db, Cell, "SELECT * FROM cell ORDER BY id", NULL, 0);
    } else {
        qs = corm_all(db, Cell);
        corm_order_by(qs, "id");
    }
    OK_DB(corm_eval(qs));
    assert_true(row < corm_qs_len(qs));
    static char out[2048];
    snprintf(out, sizeof out, "%s", obj_text(corm_qs_at(qs, row)));
    corm_qs_free(qs);
    return out;
}

static void exec_ok(const char *sql) { OK_DB(corm_exec(db, sql)); }

/* NOT NULL columns (label, dflt, flag, word) hold NULL: a table altered
** outside corm.  Every field loads as NULL; a save names the field. */
static void test_null_in_not_null(void **state)
{
    (void)state;
    if (test_db_is_pg()) {
        exec_ok("ALTER TABLE cell ALTER COLUMN label DROP NOT NULL, ALTER COLUMN dflt DROP NOT "
                "NULL, ALTER COLUMN flag DROP NOT NULL, ALTER COLUMN word DROP NOT NULL");
    } else {
        /* CREATE TABLE AS keeps the columns' affinities, not their NOT NULL */
        exec_ok("ALTER TABLE cell RENAME TO cell_strict");
        exec_ok("CREATE TABLE cell AS SELECT * FROM cell_strict WHERE 0");
    }
    exec_ok("INSERT INTO cell (id, label, dflt, flag, word) VALUES (1, NULL, NULL, NULL, NULL)");
    const char *want = "label=NULL t=NULL c=NULL n=NULL big=NULL f=NULL d=NULL b=NULL "
                       "day=NULL at=NULL j=NULL raw=NULL dflt=NULL flag=NULL word=NULL";
    assert_string_equal(load(false, 0), want);
    assert_string_equal(load(true, 0), want);

    /* values(): NULL cells, not zeros */
    corm_qs *qs = corm_all(db, Cell);
    corm_values_v(qs, fields);
    OK_DB(corm_eval(qs));
    assert_int_equal(corm_qs_len(qs), 1);
    assert_string_equal(
        row_text(qs, 0),
        "NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL");
    for (size_t i = 0; i < NFIELDS; i++) assert_true(corm_row_isnull(qs, 0, fields[i]));
    corm_qs_free(qs);

    /* the loaded object is not silently valid: saving it names a field */
    qs = corm_all(db, Cell);
    Cell *o = corm_get(qs);
    assert_non_null(o);
    assert_true(corm_is_null(o, "label"));
    assert_null(o->label);
    assert_int_equal(o->dflt, 0);
    assert_false(o->flag);
    assert_int_not_equal(corm_save(db, o), CORM_OK);
    assert_non_null(strstr(corm_db_error(db)->message, "'label'"));
    corm_qs_free(qs);
}

/* SQLite: a cell stored in another class than its column's converts as
** SQLite's own sqlite3_column_* convert it (text in an integer, a blob in
** a char, a REAL in a bool, an integer that overflows an int32). */
static void test_storage_classes(void **state)
{
    (void)state;
    if (test_db_is_pg()) skip();
    exec_ok(
        "INSERT INTO cell (id, label, t, c, n, big, f, d, b, day, at, j, raw, dflt, flag, word) "
        "VALUES (1, 42, 3.5, x'6869', 'abc', '12x', 'nan?', 'text', 'yes', 20240101, 1.25, "
        "7, 'as text', 2.75, 0.0, 9)");
    exec_ok(
        "INSERT INTO cell (id, label, t, c, n, big, f, d, b, day, at, j, raw, dflt, flag, word) "
        "VALUES (2, x'', '', '', 3.99, -7.5, 12, x'31322e35', 2, '', '', '[]', x'', -1, 0.5, "
        "-0.0)");
    exec_ok(
        "INSERT INTO cell (id, label, t, c, n, big, f, d, b, day, at, j, raw, dflt, flag, word) "
        "VALUES (3, 'x', 9223372036854775807, -9223372036854775808, 4294967297, "
        "9223372036854775807, 1e308, '  12.5  ', -1, 'd', 'a', '{}', 12, 99999999999, "
        "'true', 1e20)");
    const char *want[] = {
        "label='42' t='3.5' c='hi' n=0 big=12 f=0 d=NaN b=false day='20240101' at='1.25' j='7' "
        "raw=x'61732074657874' dflt=2 flag=false word='9'",
        "label='' t='' c='' n=3 big=-7 f=12 d=12.5000 b=true day='' at='' j='[]' raw=x'' dflt=-1 "
        "flag=false word='0.0'",
        "label='x' t='9223372036854775807' c='-9223372036854775808' n=1 big=9223372036854775807 "
        "f=1e+308 d=12.5000 b=true day='d' at='a' j='{}' raw=x'3132' dflt=1215752191 flag=false "
        "word='1.0e+20'",
    };
    /* raw() objects read their fields as the model's hydration does (it
    ** read the cell by the class it was stored in: text in an integer
    ** column gave the text's address as the number, an integer in a char
    ** field "") */
    for (size_t r = 0; r < 3; r++) {
        assert_string_equal(load(false, r), want[r]);
        assert_string_equal(load(true, r), want[r]);
    }
}

/* Decimal field d (decimal(12, 4)) from every storage: the value, its
** scale and its rounding are what they were. */

/* The SQL of each value; what the model, raw() and values() read. */
static const char *const sqlite_decs[] = {
    "0",
    "0.0",
    "-0.0",
    "1",
    "-1",
    "12.3",
    "-12.3",
    "0.1",
    "54.98",
    "4.99",
    "12.34565",
    "-12.34565",
    "12.34564999",
    "0.00005",
    "-0.00005",
    "0.00004999",
    "99999999.9999",
    "-99999999.9999",
    "99999999.99995",
    "123456789.123456789",
    "12345678.123456789",
    "1234567890123456",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "1e15",
    "1e17",
    "1e300",
    "-1e300",
    "1e-20",
    "-1e-20",
    "0.30000000000000004",
    "1.0000000000000002",
    "'12.30'",
    "'-0.05'",
    "'1.23456789'",
    "'abc'",
    "'1e2'",
    "''",
    "x'2d372e3235'",
    "x'7a'",
    "CAST('0.123456789012345678' AS TEXT)",
    "CAST(7 AS REAL)",
    "CAST(2.5 AS INTEGER)",
};
static const char sqlite_want[] =
    "0: 0.0000 0.0000 0.0000\n"
    "0.0: 0.0000 0.0000 0.0000\n"
    "-0.0: 0.0000 0.0000 0.0000\n"
    "1: 1.0000 1.0000 1.0000\n"
    "-1: -1.0000 -1.0000 -1.0000\n"
    "12.3: 12.3000 12.3000 12.3000\n"
    "-12.3: -12.3000 -12.3000 -12.3000\n"
    "0.1: 0.1000 0.1000 0.1000\n"
    "54.98: 54.9800 54.9800 54.9800\n"
    "4.99: 4.9900 4.9900 4.9900\n"
    "12.34565: 12.3456 12.3456 12.345649999999999\n"
    "-12.34565: -12.3456 -12.3456 -12.345649999999999\n"
    "12.34564999: 12.3456 12.3456 12.34564999\n"
    "0.00005: 0.0001 0.0001 5.0000000000000002e-05\n"
    "-0.00005: -0.0001 -0.0001 -5.0000000000000002e-05\n"
    "0.00004999: 0.0000 0.0000 4.9990000000000001e-05\n"
    "99999999.9999: 99999999.9999 99999999.9999 99999999.9999\n"
    "-99999999.9999: -99999999.9999 -99999999.9999 -99999999.9999\n"
    "99999999.99995: 100000000.0000 100000000.0000 99999999.999950007\n"
    "123456789.123456789: 123456789.1235 123456789.1235 123456789.12345679\n"
    "12345678.123456789: 12345678.1235 12345678.1235 12345678.123456789\n"
    "1234567890123456: NaN NaN 1234567890123456\n"
    "9007199254740993: NaN NaN 9007199254740993\n"
    "9223372036854775807: NaN NaN 9223372036854775807\n"
    "-9223372036854775808: NaN NaN -9223372036854775808\n"
    "1e15: NaN NaN 1000000000000000\n"
    "1e17: NaN NaN 100000000000000000\n"
    "1e300: NaN NaN 1.0000000000000001e+300\n"
    "-1e300: NaN NaN -1.0000000000000001e+300\n"
    "1e-20: 0.0000 0.0000 9.9999999999999995e-21\n"
    "-1e-20: 0.0000 0.0000 -9.9999999999999995e-21\n"
    "0.30000000000000004: 0.3000 0.3000 0.30000000000000004\n"
    "1.0000000000000002: 1.0000 1.0000 1.0000000000000002\n"
    "'12.30': 12.3000 12.3000 12.3000\n"
    "'-0.05': -0.0500 -0.0500 -0.0500\n"
    "'1.23456789': 1.2346 1.2346 1.2345678899999999\n"
    "'abc': NaN NaN 'abc'\n"
    "'1e2': 100.0000 100.0000 100.0000\n"
    "'': NaN NaN ''\n"
    "x'2d372e3235': -7.2500 -7.2500 x'2d372e3235'\n"
    "x'7a': NaN NaN x'7a'\n"
    "CAST('0.123456789012345678' AS TEXT): 0.1235 0.1235 0.12345678901234568\n"
    "CAST(7 AS REAL): 7.0000 7.0000 7.0000\n"
    "CAST(2.5 AS INTEGER): 2.0000 2.0000 2.0000\n";

static const char *const pg_decs[] = {
    "0",
    "-0.0",
    "1",
    "-1",
    "12.3",
    "-12.3",
    "54.98",
    "12.34565",
    "-12.34565",
    "0.00005",
    "-0.00005",
    "0.00004999",
    "99999999.9999",
    "-99999999.9999",
    "12345678.123456789",
    "'1.23456789'",
};
/* (numeric(12, 4) rounds as it stores) */
static const char pg_want[] = "0: 0.0000 0.0000 0.0000\n"
                              "-0.0: 0.0000 0.0000 0.0000\n"
                              "1: 1.0000 1.0000 1.0000\n"
                              "-1: -1.0000 -1.0000 -1.0000\n"
                              "12.3: 12.3000 12.3000 12.3000\n"
                              "-12.3: -12.3000 -12.3000 -12.3000\n"
                              "54.98: 54.9800 54.9800 54.9800\n"
                              "12.34565: 12.3457 12.3457 12.3457\n"
                              "-12.34565: -12.3457 -12.3457 -12.3457\n"
                              "0.00005: 0.0001 0.0001 0.0001\n"
                              "-0.00005: -0.0001 -0.0001 -0.0001\n"
                              "0.00004999: 0.0000 0.0000 0.0000\n"
                              "99999999.9999: 99999999.9999 99999999.9999 99999999.9999\n"
                              "-99999999.9999: -99999999.9999 -99999999.9999 -99999999.9999\n"
                              "12345678.123456789: 12345678.1235 12345678.1235 12345678.1235\n"
                              "'1.23456789': 1.2346 1.2346 1.2346\n";

static void check_decimals(const char *const *cases, size_t n, const char *want)
{
    char sql[256];
    for (size_t i = 0; i < n; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO cell (id, label, d) VALUES (%zu, 'r%zu', %s)", i + 1,
                 i + 1, cases[i]);
        exec_ok(sql);
    }
    /* the model, raw() and values() read the same decimals */
    corm_qs *m = corm_all(db, Cell);
    corm_order_by(m, "id");
    corm_qs *r = corm_raw(db, Cell, "SELECT * FROM cell ORDER BY id", NULL, 0);
    corm_qs *v = corm_all(db, Cell);
    corm_order_by(v, "id");
    corm_values(v, "d");
    OK_DB(corm_eval(m));
    OK_DB(corm_eval(r));
    OK_DB(corm_eval(v));
    assert_int_equal(corm_qs_len(m), n);
    assert_int_equal(corm_qs_len(r), n);
    assert_int_equal(corm_qs_len(v), n);
    static char got[8192];
    size_t gl = 0;
    for (size_t i = 0; i < n; i++) {
        /* values(): a decimal at the field's scale (NaN as it was) */
        char dm[CORM_DEC_BUF], dr[CORM_DEC_BUF], cv[256], line[600];
        const Cell *a = corm_qs_at(m, i), *b = corm_qs_at(r, i);
        assert_false(corm_is_null(a, "d"));
        assert_false(corm_is_null(b, "d"));
        cell_text(corm_qs_cell(v, i, 0), cv, sizeof cv);
        snprintf(line, sizeof line, "%s: %s %s %s\n", cases[i], corm_dec_format(a->d, dm),
                 corm_dec_format(b->d, dr), cv);
        put(got, sizeof got, &gl, "%s", line);
    }
    assert_string_equal(got, want);
    corm_qs_free(m);
    corm_qs_free(r);
    corm_qs_free(v);
}

static void test_decimals(void **state)
{
    (void)state;
    if (test_db_is_pg()) check_decimals(pg_decs, sizeof pg_decs / sizeof *pg_decs, pg_want);
    else check_decimals(sqlite_decs, sizeof sqlite_decs / sizeof *sqlite_decs, sqlite_want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_null_in_not_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decimals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
