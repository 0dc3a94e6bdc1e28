/*
** test_decimal.c - exact decimals (issue 15), on both backends: the
** corm_decimal helpers; decimal(12, 2) values (0.1 + 0.2, the largest and
** smallest, negatives) round-trip exactly and filter and order exactly;
** values that do not fit decimal(p, s) are refused before any SQL, naming
** the field, by save, bulk_create and update(); Sum and Avg over 100,000
** rows are exact.  Schema: tests/integration/decimals.corm.
*/
#include "test.h"

#include "decimals/decimals.h"

#include <string.h>

static corm_db *db;

static int setup(void **state)
{
    (void)state;
    corm_error err;
    db = corm_open(test_db_fresh_url(), &decimals_schema, &err);
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
    return 0;
}

#define OK_DB(call) TEST_OK_DB(db, call)
#define D(text) corm_dec(text)

static const char *fmt(corm_decimal d)
{
    static char bufs[4][CORM_DEC_BUF];
    static int k;
    return corm_dec_format(d, bufs[k++ % 4]);
}

static void test_helpers(void **state)
{
    (void)state;
    /* 0.1 + 0.2 is 0.3, exactly */
    assert_string_equal(fmt(corm_dec_add(D("0.1"), D("0.2"))), "0.3");
    assert_int_equal(corm_dec_cmp(corm_dec_add(D("0.1"), D("0.2")), D("0.30")), 0);
    assert_string_equal(fmt(corm_dec_sub(D("0.1"), D("0.30"))), "-0.20");
    assert_string_equal(fmt(D("12.30")), "12.30");
    assert_string_equal(fmt(D("-0.05")), "-0.05");
    assert_string_equal(fmt(D("+.25")), "0.25");
    assert_string_equal(fmt(D("007")), "7");
    assert_string_equal(fmt(corm_dec_units(1230, 2)), "12.30");
    assert_string_equal(fmt(D("999999999999999999")), "999999999999999999");
    assert_string_equal(fmt(D("-0.000000000000000001")), "-0.000000000000000001");
    /* not decimals: not a number, and it stays so */
    const char *bad[] = {"",
                         "-",
                         ".",
                         "1e2",
                         "1.2.3",
                         " 1",
                         "1 ",
                         "abc",
                         "0x10",
                         "1000000000000000000",
                         "0.0000000000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        corm_decimal d = {7, 0};
        assert_false(corm_dec_parse(bad[i], &d));
        assert_int_equal(d.units, 7); /* unchanged */
        assert_false(corm_dec_valid(D(bad[i])));
    }
    assert_false(corm_dec_valid(D(NULL)));
    assert_string_equal(fmt(D("x")), "NaN");
    assert_false(corm_dec_valid(corm_dec_add(D("x"), D("1"))));
    assert_false(corm_dec_valid(corm_dec_units(1, 19)));
    /* overflow: not a number, never a wrapped value */
    assert_false(corm_dec_valid(corm_dec_add(D("999999999999999999"), D("1"))));
    assert_false(corm_dec_valid(corm_dec_mul_int(D("500000000000000000"), 2)));
    assert_false(corm_dec_valid(corm_dec_add(D("999999999999999999"), D("0.1"))));
    assert_string_equal(fmt(corm_dec_mul_int(D("19.99"), 3)), "59.97");
    assert_string_equal(fmt(corm_dec_mul_int(D("19.99"), -3)), "-59.97");
    /* comparison across scales, and with what is not a number */
    assert_int_equal(corm_dec_cmp(D("12.3"), D("12.300")), 0);
    assert_int_equal(corm_dec_cmp(D("-1"), D("0.5")), -1);
    assert_int_equal(corm_dec_cmp(D("999999999999999999"), D("0.5")), 1);
    assert_int_equal(corm_dec_cmp(D("-999999999999999999"), D("0.5")), -1);
    assert_int_equal(corm_dec_cmp(D("0.5"), D("99999999999999999.9")), -1);
    assert_int_equal(corm_dec_cmp(D("x"), D("-5")), -1);
    /* rounding: halves away from zero */
    assert_string_equal(fmt(corm_dec_round(D("2.345"), 2)), "2.35");
    assert_string_equal(fmt(corm_dec_round(D("-2.345"), 2)), "-2.35");
    assert_string_equal(fmt(corm_dec_round(D("2.344"), 2)), "2.34");
    assert_string_equal(fmt(corm_dec_round(D("2.5"), 0)), "3");
    assert_string_equal(fmt(corm_dec_round(D("2.5"), 3)), "2.500");
    /* units */
    int64_t u = 0;
    assert_true(corm_dec_to_units(D("12.3"), 2, &u));
    assert_int_equal(u, 1230);
    assert_true(corm_dec_to_units(D("12.300"), 2, &u));
    assert_int_equal(u, 1230);
    assert_false(corm_dec_to_units(D("12.345"), 2, &u));
    assert_int_equal(u, 1230);
    /* fits decimal(12, 2): the largest and smallest, and one digit more */
    assert_true(corm_dec_fits(D("9999999999.99"), 12, 2));
    assert_true(corm_dec_fits(D("-9999999999.99"), 12, 2));
    assert_true(corm_dec_fits(D("9999999999.990"), 12, 2));
    assert_false(corm_dec_fits(D("10000000000.00"), 12, 2));
    assert_false(corm_dec_fits(D("0.001"), 12, 2));
    assert_false(corm_dec_fits(D("x"), 12, 2));
    /* doubles, for display and for moving off them */
    assert_true(corm_dec_to_double(D("12.30")) == 12.3);
    assert_string_equal(fmt(corm_dec_from_double(0.1 + 0.2, 2)), "0.30");
    assert_string_equal(fmt(corm_dec_from_double(-9999999999.99, 2)), "-9999999999.99");
    assert_false(corm_dec_valid(corm_dec_from_double(1e300, 2)));
}

static Entry entry(const char *amount)
{
    Entry e = CORM_NEW(Entry);
    e.amount = D(amount);
    return e;
}

static const char *const amounts[] = {"0.10",          "0.20",           "-0.30",
                                      "9999999999.99", "-9999999999.99", "0.01",
                                      "-0.01",         "1234567890.12",  "0"};
#define NAMOUNTS (sizeof amounts / sizeof *amounts)

static void test_round_trip(void **state)
{
    (void)state;
    /* a new object: nullable NULL, the default at the field's scale */
    Entry n = CORM_NEW(Entry);
    assert_string_equal(fmt(n.fee), "1.50");
    assert_true(corm_is_null(&n, "rate"));
    for (size_t i = 0; i < NAMOUNTS; i++) {
        Entry e = entry(amounts[i]);
        CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_save(db, &e)); }
    }
    /* stored as the exact number: the database compares it */
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM entry WHERE amount = 9999999999.99"),
                        "1");
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM entry WHERE rate IS NULL"), "9");
    corm_qs *qs = corm_all(db, Entry);
    corm_order_by(qs, "id");
    Entry *e;
    size_t i = 0;
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_foreach(e, qs)
        {
            /* at the field's scale, whatever was written */
            const char *want = i == NAMOUNTS - 1 ? "0.00" : amounts[i];
            assert_string_equal(fmt(e->amount), want);
            assert_int_equal(e->amount.scale, 2);
            assert_string_equal(fmt(e->fee), "1.50");
            assert_true(corm_is_null(e, "rate"));
            i++;
        }
    }
    assert_int_equal(i, NAMOUNTS);
    corm_qs_free(qs);

    /* filters take decimals, compared exactly */
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount__gt", corm_decv(D("0.1")));
    assert_int_equal(corm_count(qs), 3); /* 0.20, 9999999999.99, 1234567890.12 */
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount", corm_decv(D("0.3")));
    corm_exclude(qs, "amount", corm_decv(D("-0.30")));
    assert_int_equal(corm_count(qs), 0);
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount", corm_decv(D("-0.300")));
    assert_int_equal(corm_count(qs), 1);
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount__range", corm_range(corm_decv(D("-0.01")), corm_decv(D("0.1"))));
    assert_int_equal(corm_count(qs), 4); /* 0.10, 0.01, -0.01, 0.00 */
    corm_qs_free(qs);
    /* a decimal that is not a number is refused, not sent as 0 */
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount__gt", corm_decv(D("1,5")));
    assert_int_equal(corm_eval(qs), CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "not a number"));
    corm_qs_free(qs);

    /* 0.1 + 0.2 in the database: 0.3 exactly */
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount__in",
                corm_vlist((const corm_value[]){corm_decv(D("0.1")), corm_decv(D("0.2"))}, 2));
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_dec_cmp(corm_row_decimal(qs, 0, "total"), D("0.3")), 0);
    if (test_db_is_pg()) assert_string_equal(fmt(corm_row_decimal(qs, 0, "total")), "0.30");
    corm_qs_free(qs);

    /* ordered by value, smallest and largest at the ends */
    qs = corm_all(db, Entry);
    corm_order_by(qs, "amount");
    const char *order[] = {"-9999999999.99", "-0.30", "-0.01",         "0.00",         "0.01",
                           "0.10",           "0.20",  "1234567890.12", "9999999999.99"};
    i = 0;
    corm_foreach(e, qs) assert_string_equal(fmt(e->amount), order[i++]);
    assert_int_equal(i, NAMOUNTS);
    corm_qs_free(qs);

    /* an object read, changed with the helpers and saved back */
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount", corm_decv(D("0.10")));
    e = corm_get(qs);
    assert_non_null(e);
    e->amount = corm_dec_add(e->amount, D("0.2"));
    e->rate = D("-1234.123456"); /* decimal(18, 6) */
    OK_DB(corm_save(db, e));
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount", corm_decv(D("0.30")));
    e = corm_get(qs);
    assert_non_null(e);
    assert_string_equal(fmt(e->rate), "-1234.123456");
    corm_qs_free(qs);
}

static void test_refused(void **state)
{
    (void)state;
    const char *bad[][2] = {{"10000000000.00", "does not fit decimal(12, 2)"},
                            {"-10000000000", "does not fit decimal(12, 2)"},
                            {"0.001", "does not fit decimal(12, 2)"},
                            {"1,5", "not a number"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        Entry e = entry(bad[i][0]);
        CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_save(db, &e), CORM_INVALID); }
        const corm_error *err = corm_db_error(db);
        assert_non_null(strstr(err->message, "amount="));
        assert_non_null(strstr(err->message, bad[i][1]));
        assert_non_null(strstr(err->message, "nothing was sent"));
        assert_non_null(strstr(err->hint, "corm_dec_round"));
    }
    /* trailing zeros beyond the scale are the same number: accepted */
    Entry ok = entry("12.3000");
    OK_DB(corm_save(db, &ok));
    /* bulk: the object's position, nothing written */
    Entry es[3] = {entry("1.00"), entry("2.005"), entry("3.00")};
    Entry *ptrs[3] = {&es[0], &es[1], &es[2]};
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_bulk_create(db, ptrs, 3, NULL), CORM_INVALID);
    }
    assert_non_null(strstr(corm_db_error(db)->message, "object 2"));
    assert_non_null(strstr(corm_db_error(db)->message, "amount=2.005"));
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM entry"), "1");
    /* update(): checked before SQL too */
    corm_qs *qs = corm_all(db, Entry);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_update(qs, CORM_SET("amount", corm_decv(D("123456789012.5")))), -1);
    }
    assert_int_equal(corm_qs_error(qs)->rc, CORM_INVALID);
    assert_non_null(strstr(corm_qs_error(qs)->message, "does not fit decimal(12, 2)"));
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    assert_int_equal(corm_update(qs, CORM_SET("amount", corm_decv(D("-0.5")))), 1);
    corm_qs_free(qs);
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM entry WHERE amount = -0.5"), "1");
    /* SQLite keeps 15 significant digits of a fraction: more is refused
    ** there, exact on PostgreSQL */
    Entry wide = entry("1.00");
    wide.rate = D("123456789012.123456");
    corm_rc rc = corm_save(db, &wide);
    if (test_db_is_pg()) {
        assert_int_equal(rc, CORM_OK);
    } else {
        assert_int_equal(rc, CORM_INVALID);
        assert_non_null(strstr(corm_db_error(db)->message, "15 significant digits"));
    }
    /* trailing zeros do not count */
    wide.rate = D("1.50000000000000000");
    OK_DB(corm_save(db, &wide));
    assert_string_equal(test_scalar(db, "SELECT count(*) FROM entry WHERE rate = 1.5"), "1");
}

/* Sum and Avg of 100,000 rows: exact, where adding doubles drifts. */
static void test_sum_100k(void **state)
{
    (void)state;
    enum { N = 100000 };
    Account acc = CORM_NEW(Account);
    acc.name = "main";
    OK_DB(corm_save(db, &acc));
    Entry *es = test_calloc(N, sizeof *es);
    Entry **ptrs = test_calloc(N, sizeof *ptrs);
    int64_t units = 0;
    double naive = 0;
    for (int i = 0; i < N; i++) {
        /* 0.10, 0.20, ... and some large and negative ones */
        int64_t u = i % 7 == 0   ? 9999999999LL - i
                    : i % 5 == 0 ? -(int64_t)(i % 1000) * 10 - 3
                                 : (int64_t)(i % 3 + 1) * 10;
        es[i] = CORM_NEW(Entry);
        es[i].amount = corm_dec_units(u, 2);
        es[i].account_id = acc.id;
        ptrs[i] = &es[i];
        units += u;
        naive += corm_dec_to_double(es[i].amount);
    }
    OK_DB(corm_bulk_create(db, ptrs, N, NULL));
    corm_decimal want = corm_dec_units(units, 2);
    assert_true(corm_dec_valid(want));
    /* doubles would not do */
    assert_int_not_equal(corm_dec_cmp(corm_dec_from_double(naive, 2), want), 0);

    corm_qs *qs = corm_all(db, Entry);
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    corm_aggregate(qs, "avg", corm_Avg(qs, "amount"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    /* PostgreSQL's numeric at scale 2; SQLite's REAL read back as the
    ** shortest decimal (exact up to 15 significant digits) */
    assert_int_equal(corm_dec_cmp(corm_row_decimal(qs, 0, "total"), want), 0);
    if (test_db_is_pg()) assert_string_equal(fmt(corm_row_decimal(qs, 0, "total")), fmt(want));
    /* the average to the cent: exact on PostgreSQL, the nearest double of
    ** the exact sum over the count on SQLite */
    corm_decimal avg = corm_dec_round(corm_row_decimal(qs, 0, "avg"), 2);
    assert_string_equal(fmt(avg), fmt(corm_dec_from_double((double)units / N / 100, 2)));
    corm_qs_free(qs);

    /* through a relation: the annotation of the account */
    qs = corm_all(db, Account);
    corm_annotate(qs, "total", corm_Sum(qs, "entries__amount"));
    Account *a = corm_get(qs);
    assert_non_null(a);
    const corm_value *v = corm_annotation(a, "total");
    assert_non_null(v);
    corm_decimal got = v->type == CORM_V_DECIMAL ? v->u.d : corm_dec_from_double(v->u.f, 2);
    assert_string_equal(fmt(got), fmt(want));
    corm_qs_free(qs);

    test_free(ptrs);
    test_free(es);
}

/* The cell of a values(), values_list() or aggregate() column reading a
** decimal field (or a Sum, Min or Max of one) is a CORM_V_DECIMAL at the
** field's scale on both backends, whatever SQLite stored (an integer for
** a whole value, else a REAL). */
static void assert_cell(const corm_qs *qs, size_t row, const char *col, const char *want)
{
    int i = corm_qs_colindex(qs, col);
    assert_true(i >= 0);
    const corm_value *v = corm_qs_cell(qs, row, (size_t)i);
    assert_non_null(v);
    if (!want) {
        assert_int_equal(v->type, CORM_V_NULL);
        return;
    }
    assert_int_equal(v->type, CORM_V_DECIMAL);
    assert_string_equal(fmt(v->u.d), want);
    assert_string_equal(fmt(corm_row_decimal(qs, row, col)), want);
}

static void test_cells(void **state)
{
    (void)state;
    Account a = CORM_NEW(Account), b = CORM_NEW(Account);
    a.name = "a";
    b.name = "b";
    OK_DB(corm_save(db, &a));
    OK_DB(corm_save(db, &b));
    static const char *const am[] = {"12.3", "0.10", "7", "-2.05"};
    static const char *const rates[] = {"0.5", NULL, "3", "-0.000001"};
    for (int i = 0; i < 4; i++) {
        Entry e = entry(am[i]);
        e.account_id = a.id;
        if (rates[i]) e.rate = D(rates[i]);
        OK_DB(corm_save(db, &e));
    }

    /* values(): each decimal column at its field's scale */
    corm_qs *qs = corm_all(db, Entry);
    corm_values(qs, "amount", "rate", "fee", "account__name");
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 4);
    static const char *const want_am[] = {"12.30", "0.10", "7.00", "-2.05"};
    static const char *const want_rate[] = {"0.500000", NULL, "3.000000", "-0.000001"};
    for (size_t i = 0; i < 4; i++) {
        assert_cell(qs, i, "amount", want_am[i]);
        assert_cell(qs, i, "rate", want_rate[i]);
        assert_cell(qs, i, "fee", "1.50");
        assert_string_equal(corm_row_text(qs, i, "account__name"), "a");
    }
    corm_qs_free(qs);

    /* values_list(flat): the one column, through a relation too */
    qs = corm_all(db, Entry);
    corm_values_flat(qs, "amount");
    corm_order_by(qs, "-amount");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    static const char *const desc[] = {"12.30", "7.00", "0.10", "-2.05"};
    for (size_t i = 0; i < 4; i++) assert_cell(qs, i, "amount", desc[i]);
    corm_qs_free(qs);
    qs = corm_all(db, Account);
    corm_values_list(qs, "name", "entries__amount");
    corm_filter(qs, "name", corm_text("a"));
    corm_order_by(qs, "entries__amount");
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_int_equal(corm_qs_len(qs), 4);
    for (size_t i = 0; i < 4; i++) assert_cell(qs, i, "entries__amount", desc[3 - i]);
    corm_qs_free(qs);

    /* aggregate(): Sum, Min, Max of a decimal field; a whole sum keeps the
    ** places; nothing to add is NULL */
    qs = corm_all(db, Entry);
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    corm_aggregate(qs, "low", corm_Min(qs, "amount"));
    corm_aggregate(qs, "high", corm_Max(qs, "amount"));
    corm_aggregate(qs, "rates", corm_Sum(qs, "rate"));
    corm_aggregate(qs, "top_rate", corm_Max(qs, "rate"));
    corm_aggregate(qs, "n", corm_Count(qs, "amount", false));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_cell(qs, 0, "total", "17.35");
    assert_cell(qs, 0, "low", "-2.05");
    assert_cell(qs, 0, "high", "12.30");
    assert_cell(qs, 0, "rates", "3.499999");
    assert_cell(qs, 0, "top_rate", "3.000000");
    assert_int_equal(corm_qs_cell(qs, 0, 5)->type, CORM_V_INT); /* a count stays one */
    assert_int_equal(corm_row_int(qs, 0, "n"), 4);
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount__in",
                corm_vlist((const corm_value[]){corm_decv(D("12.3")), corm_decv(D("-2.3"))}, 2));
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    corm_aggregate(qs, "whole", corm_Sum(qs, "fee"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_cell(qs, 0, "total", "12.30");
    assert_cell(qs, 0, "whole", "1.50");
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount", corm_decv(D("7")));
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_cell(qs, 0, "total", "7.00");
    corm_qs_free(qs);
    /* aggregate() of a slice: over a subquery of the first rows */
    qs = corm_all(db, Entry);
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 2);
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_cell(qs, 0, "total", "12.40");
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_filter(qs, "amount__gt", corm_decv(D("100")));
    corm_aggregate(qs, "total", corm_Sum(qs, "amount"));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_cell(qs, 0, "total", NULL);
    corm_qs_free(qs);

    /* annotate(): Sum over a to-many path, in values() and on objects; an
    ** F() of a decimal field */
    qs = corm_all(db, Account);
    corm_annotate(qs, "total", corm_Sum(qs, "entries__amount"));
    corm_annotate(qs, "top", corm_Max(qs, "entries__amount"));
    corm_values(qs, "name", "total", "top");
    corm_order_by(qs, "name");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_OK); }
    assert_int_equal(corm_qs_len(qs), 2);
    assert_cell(qs, 0, "total", "17.35");
    assert_cell(qs, 0, "top", "12.30");
    assert_cell(qs, 1, "total", NULL);
    corm_qs_free(qs);
    qs = corm_all(db, Account);
    corm_annotate(qs, "total", corm_Sum(qs, "entries__amount"));
    corm_filter(qs, "name", corm_text("a"));
    Account *acc = corm_get(qs);
    assert_non_null(acc);
    const corm_value *v = corm_annotation(acc, "total");
    assert_non_null(v);
    assert_int_equal(v->type, CORM_V_DECIMAL);
    assert_string_equal(fmt(v->u.d), "17.35");
    corm_qs_free(qs);
    qs = corm_all(db, Entry);
    corm_annotate(qs, "price", corm_F(qs, "amount"));
    corm_values(qs, "price");
    corm_filter(qs, "amount", corm_decv(D("7")));
    assert_int_equal(corm_eval(qs), CORM_OK);
    assert_cell(qs, 0, "price", "7.00");
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sum_100k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cells, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
