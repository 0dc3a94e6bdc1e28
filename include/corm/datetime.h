/*
** corm/datetime.h - checked dates and datetimes (docs/schema.md, "Dates
** and times").
**
** A `date` field holds "YYYY-MM-DD"; a `datetime` field holds UTC as
** "YYYY-MM-DD HH:MM:SS[.ffffff]" (1 to 6 fraction digits): the text both
** databases store and order correctly.  Every write checks them: a
** malformed or impossible value (2023-02-29, 24:00:00), or a datetime
** with a 'T' or an offset, is refused before any SQL with CORM_INVALID.
** These helpers build the stored text from struct tm / time_t and read it
** back, and give an ISO 8601 form with an explicit offset for output.
*/
#ifndef CORM_DATETIME_H
#define CORM_DATETIME_H

#include <stdbool.h>
#include <corm.h>
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a date ("YYYY-MM-DD"), a stored datetime and an ISO 8601 one
** with its offset ("YYYY-MM-DDTHH:MM:SS.ffffff+00:00"), NUL included. */
#define CORM_DATE_BUF 11
#define CORM_DATETIME_BUF 27
#define CORM_DATETIME_ISO_BUF 33

/* Whether s is a real date "YYYY-MM-DD" (years 0001-9999, leap years). */
CORM_API bool corm_date_valid(const char *s);
/* Whether s is a stored datetime "YYYY-MM-DD HH:MM:SS[.f...]" (UTC, no
** offset; seconds 00-59, 1-6 fraction digits). */
CORM_API bool corm_datetime_valid(const char *s);

/* The date of tm (its tm_year, tm_mon, tm_mday) into out; false (out "")
** when it is not a real date. */
CORM_API bool corm_date_from_tm(const struct tm *tm, char out[CORM_DATE_BUF]);
/* tm, read as UTC (as gmtime_r fills it), into out "YYYY-MM-DD HH:MM:SS";
** false (out "") when it is not a real date and time. */
CORM_API bool corm_datetime_from_tm(const struct tm *tm, char out[CORM_DATETIME_BUF]);
/* The instant t into out, in UTC: "YYYY-MM-DD HH:MM:SS". */
CORM_API bool corm_datetime_from_time_t(time_t t, char out[CORM_DATETIME_BUF]);

/* A date or stored datetime into tm (UTC; a date at 00:00:00; tm_wday
** and tm_yday filled); false when s is neither. */
CORM_API bool corm_datetime_to_tm(const char *s, struct tm *tm);
/* A date or stored datetime as the instant it names (UTC; the fraction
** dropped); false when s is neither. */
CORM_API bool corm_datetime_to_time_t(const char *s, time_t *t);
/* A stored datetime as ISO 8601 with its offset, for output:
** "2024-05-01 10:00:00.5" -> "2024-05-01T10:00:00.5+00:00".  Returns out,
** or NULL when s is not a stored datetime. */
CORM_API const char *corm_datetime_iso(const char *s, char out[CORM_DATETIME_ISO_BUF]);

#ifdef __cplusplus
}
#endif
#endif
