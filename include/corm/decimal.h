/*
** corm/decimal.h - exact decimals for decimal(p, s) fields (docs/schema.md,
** "Decimals").
**
** A corm_decimal is a scaled 64-bit integer: units / 10^scale, so 12.30 is
** {1230, 2}.  It holds up to 18 digits (decimal(18, s) and narrower), and
** the same number may have several scales (12.3 == 12.30 compare equal).
** A generated struct holds its decimal fields at the field's scale, so
** formatting one gives the text the database stores ("12.30").
**
** Helpers never fail loudly: a bad parse, an overflow or a scale out of
** 0..18 gives a "not a number" decimal (scale -1, corm_dec_valid false)
** that every later operation keeps, and writing one to a field is refused
** with CORM_INVALID naming the field, as is a value that does not fit the
** field's decimal(p, s) (docs/writes.md).  No rounding happens unless you
** ask for it (corm_dec_round, corm_dec_from_double).
**
** Threads: pure functions.  Since: 0.1
*/
#ifndef CORM_DECIMAL_H
#define CORM_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>
#include <corm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most digits a corm_decimal holds; room for its text, NUL included
** ("-0.000000000000000001"). */
#define CORM_DEC_DIGITS 18
#define CORM_DEC_BUF 24

/* Whether d is a number (not the result of a failed parse or operation). */
static inline bool corm_dec_valid(corm_decimal d)
{
    return d.scale >= 0 && d.scale <= CORM_DEC_DIGITS && d.units <= 999999999999999999LL &&
           d.units >= -999999999999999999LL;
}

/* "12.30", "-0.5", "7", "+.25": an optional sign, digits, an optional point
** and digits (no exponent, no spaces); the scale is the digits written
** after the point.  Not a number when text is anything else or NULL, or
** has more than 18 digits (leading zeros aside). */
CORM_API corm_decimal corm_dec(const char *text);
/* As corm_dec, saying whether text was a decimal (out unchanged if not). */
CORM_API bool corm_dec_parse(const char *text, corm_decimal *out);
/* units / 10^scale: corm_dec_units(1230, 2) is 12.30. */
CORM_API corm_decimal corm_dec_units(int64_t units, int scale);
/* d as a count of 10^-scale (cents of 12.30 at scale 2: 1230); false, *units
** unchanged, when that drops digits (12.345 at scale 2) or overflows. */
CORM_API bool corm_dec_to_units(corm_decimal d, int scale, int64_t *units);

/* d's exact text at its scale ("12.30", "-0.05"); "NaN" when d is not a
** number.  Returns out. */
CORM_API const char *corm_dec_format(corm_decimal d, char out[CORM_DEC_BUF]);

/* a + b, a - b (at the larger scale), d * k; not a number on overflow. */
CORM_API corm_decimal corm_dec_add(corm_decimal a, corm_decimal b);
CORM_API corm_decimal corm_dec_sub(corm_decimal a, corm_decimal b);
CORM_API corm_decimal corm_dec_mul_int(corm_decimal d, int64_t k);
/* d at scale, halves away from zero (PostgreSQL's round()): 2.345 -> 2.35. */
CORM_API corm_decimal corm_dec_round(corm_decimal d, int scale);
/* -1, 0, 1 as a < b, a == b, a > b, whatever their scales; a number that
** is not one orders before every number. */
CORM_API int corm_dec_cmp(corm_decimal a, corm_decimal b);
/* Whether d is stored exactly in a decimal(precision, scale) field: at
** most `scale` digits after the point (trailing zeros aside) and
** precision - scale before it. */
CORM_API bool corm_dec_fits(corm_decimal d, int precision, int scale);

/* For display and for moving off doubles (docs/schema.md): d as the
** nearest double (NaN when not a number), and x rounded to scale places
** (not a number when x is not finite or too large). */
CORM_API double corm_dec_to_double(corm_decimal d);
CORM_API corm_decimal corm_dec_from_double(double x, int scale);

/* A decimal to bind: corm_filter(qs, "price__gt", corm_decv(corm_dec("9.99"))). */
static inline corm_value corm_decv(corm_decimal d)
{
    corm_value v = {CORM_V_DECIMAL, {0}};
    v.u.d = d;
    return v;
}

/* The cell of an evaluated values(), aggregate() or corm_sql() row as a
** decimal.  A column reading a decimal field (its path, or a Sum, Min or
** Max of it) is a CORM_V_DECIMAL at the field's scale on both backends
** ("12.30"); other cells: exact for PostgreSQL numeric and for integers,
** a REAL (SQLite) is read as the shortest decimal that gives it back
** ("12.3"), so exact up to 15 significant digits.  Not a number when the
** cell is NULL, absent or not numeric. */
CORM_API corm_decimal corm_row_decimal(const corm_qs *qs, size_t row, const char *col);

#ifdef __cplusplus
}
#endif
#endif
