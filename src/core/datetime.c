/*
** datetime.c - checked dates and datetimes (include/corm/datetime.h):
** the stored forms "YYYY-MM-DD" and UTC "YYYY-MM-DD HH:MM:SS[.ffffff]",
** parsed and written by hand (no locale, no time zone, no sprintf).
*/
#include "core_int.h"

#include <string.h>

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD" at s: year, month, day; false when not a real date. */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-') return false;
    *y = digits(s, 4);
    *m = digits(s + 5, 2);
    *d = digits(s + 8, 2);
    return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in(*y, *m);
}

/* A stored datetime: the date, time and fraction digits; false if not. */
static bool parse_datetime(const char *s, int f[6])
{
    if (!parse_date(s, &f[0], &f[1], &f[2]) || s[10] != ' ' || strlen(s) < 19) return false;
    if (s[13] != ':' || s[16] != ':') return false;
    f[3] = digits(s + 11, 2);
    f[4] = digits(s + 14, 2);
    f[5] = digits(s + 17, 2);
    if (f[3] < 0 || f[3] > 23 || f[4] < 0 || f[4] > 59 || f[5] < 0 || f[5] > 59) return false;
    const char *p = s + 19;
    if (*p == '\0') return true;
    if (*p++ != '.') return false;
    size_t n = strspn(p, "0123456789");
    return n >= 1 && n <= 6 && p[n] == '\0';
}

bool corm_date_valid(const char *s)
{
    int y, m, d;
    return parse_date(s, &y, &m, &d) && s[10] == '\0';
}

bool corm_datetime_valid(const char *s)
{
    int f[6];
    return parse_datetime(s, f);
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

bool corm_date_from_tm(const struct tm *tm, char out[CORM_DATE_BUF])
{
    out[0] = '\0';
    if (!tm) return false;
    long y = (long)tm->tm_year + 1900;
    int m = tm->tm_mon + 1, d = tm->tm_mday;
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in((int)y, m)) return false;
    put2(out, (int)(y / 100));
    put2(out + 2, (int)(y % 100));
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = '\0';
    return true;
}

bool corm_datetime_from_tm(const struct tm *tm, char out[CORM_DATETIME_BUF])
{
    out[0] = '\0';
    if (!tm || tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59 ||
        tm->tm_sec < 0 || tm->tm_sec > 59 || !corm_date_from_tm(tm, out))
        return false;
    out[10] = ' ';
    put2(out + 11, tm->tm_hour);
    out[13] = ':';
    put2(out + 14, tm->tm_min);
    out[16] = ':';
    put2(out + 17, tm->tm_sec);
    out[19] = '\0';
    return true;
}

bool corm_datetime_from_time_t(time_t t, char out[CORM_DATETIME_BUF])
{
    struct tm tm;
    out[0] = '\0';
    return gmtime_r(&t, &tm) && corm_datetime_from_tm(&tm, out);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool corm_datetime_to_tm(const char *s, struct tm *tm)
{
    int f[6] = {0};
    bool ok = corm_date_valid(s) ? parse_date(s, &f[0], &f[1], &f[2]) : parse_datetime(s, f);
    if (!ok || !tm) return false;
    memset(tm, 0, sizeof *tm);
    tm->tm_year = f[0] - 1900;
    tm->tm_mon = f[1] - 1;
    tm->tm_mday = f[2];
    tm->tm_hour = f[3];
    tm->tm_min = f[4];
    tm->tm_sec = f[5];
    long long days = days_from_civil(f[0], f[1], f[2]);
    tm->tm_wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    tm->tm_yday = (int)(days - days_from_civil(f[0], 1, 1));
    return true;
}

bool corm_datetime_to_time_t(const char *s, time_t *t)
{
    struct tm tm;
    if (!corm_datetime_to_tm(s, &tm) || !t) return false;
    long long days = days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1, tm.tm_mday);
    *t = (time_t)(days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
    return true;
}

const char *corm_datetime_iso(const char *s, char out[CORM_DATETIME_ISO_BUF])
{
    if (!corm_datetime_valid(s)) return NULL;
    size_t n = strlen(s); /* at most 26: checked above */
    memcpy(out, s, n);
    out[10] = 'T';
    memcpy(out + n, "+00:00", 7);
    return out;
}
