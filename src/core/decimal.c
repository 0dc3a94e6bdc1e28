/*
** decimal.c - exact decimals (include/corm/decimal.h): a scaled int64 of at
** most 18 digits, so every sum of two fits int64 before the range check.
** Invariant: a valid decimal has 0 <= scale <= 18 and |units| <= 10^18 - 1;
** an operation on an invalid one returns an invalid one.
*/
#include "core_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXU 999999999999999999LL

static const int64_t p10[19] = {1LL,
                                10LL,
                                100LL,
                                1000LL,
                                10000LL,
                                100000LL,
                                1000000LL,
                                10000000LL,
                                100000000LL,
                                1000000000LL,
                                10000000000LL,
                                100000000000LL,
                                1000000000000LL,
                                10000000000000LL,
                                100000000000000LL,
                                1000000000000000LL,
                                10000000000000000LL,
                                100000000000000000LL,
                                1000000000000000000LL};

static const corm_decimal nan_ = {0, -1};

static corm_decimal mk(int64_t units, int scale)
{
    corm_decimal d = {units, scale};
    return corm_dec_valid(d) ? d : nan_;
}

corm_decimal corm_dec_units(int64_t units, int scale) { return mk(units, scale); }

/* d at a scale >= its own, or not a number when that overflows. */
static corm_decimal up(corm_decimal d, int scale)
{
    if (!corm_dec_valid(d) || scale < d.scale || scale > CORM_DEC_DIGITS) return nan_;
    int64_t m = p10[scale - d.scale];
    if (d.units > MAXU / m || d.units < -MAXU / m) return nan_;
    return mk(d.units * m, scale);
}

bool corm_dec_to_units(corm_decimal d, int scale, int64_t *units)
{
    if (!corm_dec_valid(d) || scale < 0 || scale > CORM_DEC_DIGITS) return false;
    if (scale >= d.scale) {
        corm_decimal u = up(d, scale);
        if (!corm_dec_valid(u)) return false;
        *units = u.units;
        return true;
    }
    int64_t m = p10[d.scale - scale];
    if (d.units % m) return false;
    *units = d.units / m;
    return true;
}

bool corm__dec_from_text(const char *s, size_t n, bool round, corm_decimal *out)
{
    if (!s) return false;
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    /* the digits without the point, where the point was, and their span */
    size_t start = i, point = (size_t)-1;
    for (; i < n; i++) {
        if (s[i] == '.' && point == (size_t)-1) point = i;
        else if (s[i] < '0' || s[i] > '9') return false;
    }
    size_t end = n, ndig = n - start - (point != (size_t)-1);
    if (ndig == 0) return false;
    size_t frac = point == (size_t)-1 ? 0 : end - point - 1;
    /* a rounding reader drops trailing zeros of the fraction first, as
    ** far as needed to fit (AVG on PostgreSQL gives 16 places) */
    size_t lead = start;
    while (lead < n && (s[lead] == '0' || s[lead] == '.')) lead++;
    size_t nsig = end - lead - (point != (size_t)-1 && point > lead);
    while (round && frac > 0 && s[end - 1] == '0' &&
           (nsig > CORM_DEC_DIGITS || frac > CORM_DEC_DIGITS))
        end--, frac--, nsig--;
    if (round && frac == 0 && point == end - 1) end--; /* "12." */
    int64_t units = 0;
    int sig = 0, scale = 0;
    bool bump = false;
    for (i = start; i < end; i++) {
        if (s[i] == '.') continue;
        bool in_frac = point != (size_t)-1 && i > point;
        if (sig == CORM_DEC_DIGITS || (in_frac && scale == CORM_DEC_DIGITS)) {
            /* a digit beyond what fits: an error, or rounding for a reader
            ** of a database's value (only fraction digits may go) */
            if (!round || !in_frac) return false;
            bump = s[i] >= '5';
            break;
        }
        units = units * 10 + (s[i] - '0');
        if (units) sig++;
        if (in_frac) scale++;
    }
    if (bump && ++units > MAXU) return false;
    *out = mk(neg ? -units : units, scale);
    return true;
}

bool corm_dec_parse(const char *text, corm_decimal *out)
{
    corm_decimal d;
    if (!text || !corm__dec_from_text(text, strlen(text), false, &d)) return false;
    *out = d;
    return true;
}

corm_decimal corm_dec(const char *text)
{
    corm_decimal d = nan_;
    return corm_dec_parse(text, &d) ? d : nan_;
}

const char *corm_dec_format(corm_decimal d, char out[CORM_DEC_BUF])
{
    if (!corm_dec_valid(d)) {
        memcpy(out, "NaN", 4);
        return out;
    }
    /* digits right to left, then the sign */
    char tmp[CORM_DEC_BUF];
    int k = CORM_DEC_BUF - 1;
    tmp[k] = '\0';
    uint64_t u = d.units < 0 ? (uint64_t)-d.units : (uint64_t)d.units;
    for (int i = 0; i < d.scale; i++, u /= 10) tmp[--k] = (char)('0' + u % 10);
    if (d.scale) tmp[--k] = '.';
    do {
        tmp[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (d.units < 0) tmp[--k] = '-';
    memcpy(out, tmp + k, (size_t)(CORM_DEC_BUF - k));
    return out;
}

corm_decimal corm_dec_add(corm_decimal a, corm_decimal b)
{
    int s = a.scale > b.scale ? a.scale : b.scale;
    a = up(a, s);
    b = up(b, s);
    if (!corm_dec_valid(a) || !corm_dec_valid(b)) return nan_;
    return mk(a.units + b.units, s); /* |sum| < 2 * 10^18 fits int64 */
}

corm_decimal corm_dec_sub(corm_decimal a, corm_decimal b)
{
    if (!corm_dec_valid(b)) return nan_;
    b.units = -b.units;
    return corm_dec_add(a, b);
}

corm_decimal corm_dec_mul_int(corm_decimal d, int64_t k)
{
    if (!corm_dec_valid(d)) return nan_;
    int64_t r;
    if (__builtin_mul_overflow(d.units, k, &r)) return nan_;
    return mk(r, d.scale);
}

corm_decimal corm_dec_round(corm_decimal d, int scale)
{
    if (!corm_dec_valid(d) || scale < 0 || scale > CORM_DEC_DIGITS) return nan_;
    if (scale >= d.scale) return up(d, scale);
    int64_t m = p10[d.scale - scale], q = d.units / m, r = d.units % m;
    if (r >= m - r) q++; /* r >= m/2, halves away from zero */
    else if (-r >= m + r) q--;
    return mk(q, scale);
}

int corm_dec_cmp(corm_decimal a, corm_decimal b)
{
    bool va = corm_dec_valid(a), vb = corm_dec_valid(b);
    if (!va || !vb) return va - vb;
    /* at the larger scale; when that overflows the one scaled up is larger
    ** in magnitude than any decimal of the other scale */
    int s = a.scale > b.scale ? a.scale : b.scale;
    corm_decimal x = up(a, s), y = up(b, s);
    if (!corm_dec_valid(x)) return a.units < 0 ? -1 : 1;
    if (!corm_dec_valid(y)) return b.units < 0 ? 1 : -1;
    return (x.units > y.units) - (x.units < y.units);
}

bool corm_dec_fits(corm_decimal d, int precision, int scale)
{
    int64_t u;
    if (scale < 0 || precision < scale || !corm_dec_to_units(d, scale, &u)) return false;
    return precision >= CORM_DEC_DIGITS || (u < 0 ? -u : u) < p10[precision];
}

double corm_dec_to_double(corm_decimal d)
{
    if (!corm_dec_valid(d)) return NAN;
    /* both exact below 2^53, so the quotient is correctly rounded */
    if (d.units < (1LL << 53) && d.units > -(1LL << 53))
        return (double)d.units / (double)p10[d.scale];
    char buf[CORM_DEC_BUF];
    return strtod(corm_dec_format(d, buf), NULL);
}

corm_decimal corm_dec_from_double(double x, int scale)
{
    if (!isfinite(x) || scale < 0 || scale > CORM_DEC_DIGITS) return nan_;
    double y = x * (double)p10[scale];
    /* below 2^53 units the product's error is far under half a unit */
    if (fabs(y) < 9007199254740992.0) return mk(llround(y), scale);
    if (fabs(x) >= 1e18) return nan_;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.*f", scale, x);
    corm_decimal d;
    if (n <= 0 || (size_t)n >= sizeof buf || !corm__dec_from_text(buf, (size_t)n, false, &d))
        return nan_;
    return d;
}

corm_decimal corm__dec_shortest(double x)
{
    if (!isfinite(x) || fabs(x) >= 1e18) return nan_;
    char buf[64];
    /* the shortest of 15 and 17 significant digits that gives x back */
    int n = snprintf(buf, sizeof buf, "%.15g", x);
    if (strtod(buf, NULL) != x) n = snprintf(buf, sizeof buf, "%.17g", x);
    corm_decimal d;
    if (n > 0 && (size_t)n < sizeof buf && strchr(buf, 'e')) {
        /* printed with an exponent: a whole number's digits, or a tiny
        ** value at 18 places */
        if (fabs(x) < 1) return corm_dec_from_double(x, CORM_DEC_DIGITS);
        n = snprintf(buf, sizeof buf, "%.0f", x);
    }
    if (n <= 0 || (size_t)n >= sizeof buf) return nan_;
    if (!corm__dec_from_text(buf, (size_t)n, true, &d)) return nan_;
    return d;
}

void corm__dec_cell(corm_value *v, int scale)
{
    corm_decimal d = corm_dec_units(0, -1);
    int64_t u;
    switch (v->type) {
    case CORM_V_INT: d = corm_dec_round(corm_dec_units(v->u.i, 0), scale); break;
    case CORM_V_FLOAT:
        d = corm_dec_from_double(v->u.f, scale);
        if (corm_dec_to_double(d) != v->u.f) return; /* more places than scale */
        break;
    case CORM_V_DECIMAL:
        if (corm_dec_to_units(v->u.d, scale, &u)) d = corm_dec_units(u, scale);
        break;
    default: return;
    }
    if (corm_dec_valid(d)) *v = corm_decv(d);
}
