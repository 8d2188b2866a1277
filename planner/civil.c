#include "planner/calendar.h"

#include <ctype.h>
#include <string.h>

#include "common/error.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t s_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void s_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int s_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* Reads exactly n digits at *p into *out and advances *p. */
static int s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Monday of ISO week 1 of iso_year, as days since the epoch. */
static int64_t s_iso_week1_monday(int iso_year)
{
    int64_t jan4 = s_days_from_civil(iso_year, 1, 4);
    int wd = (int)(((jan4 % 7) + 7 + 3) % 7); /* 0 = Monday; 1970-01-01 was a Thursday */
    return jan4 - wd;
}

static int s_iso_weeks_in_year(int y)
{
    return (int)((s_iso_week1_monday(y + 1) - s_iso_week1_monday(y)) / 7);
}

int cwx_civil_parse(const char *s, struct cwx_civil *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "expected a window as YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH or YYYY-Www";
    if (!s)
        return CWX_EINVAL;
    const char *p = s;
    int y, m = 1, d = 1, h = 0, w;
    struct cwx_civil c = {0};
    if (s_digits(&p, 4, &y) || *p++ != '-')
        return CWX_EINVAL;
    if (y < 1970 || y > 9999) {
        *why = "year out of range (1970-9999)";
        return CWX_EINVAL;
    }
    if (*p == 'W') {
        p++;
        if (s_digits(&p, 2, &w) || *p)
            return CWX_EINVAL;
        if (w < 1 || w > s_iso_weeks_in_year(y)) {
            *why = "no such ISO week in that year";
            return CWX_EINVAL;
        }
        int64_t days = s_iso_week1_monday(y) + (int64_t)(w - 1) * 7;
        s_civil_from_days(days, &c.year, &c.month, &c.day);
        c.written = CWX_WINDOW_WEEK;
        *out = c;
        return 0;
    }
    if (s_digits(&p, 2, &m))
        return CWX_EINVAL;
    c.written = CWX_WINDOW_MONTH;
    if (*p == '-') {
        p++;
        if (s_digits(&p, 2, &d))
            return CWX_EINVAL;
        c.written = CWX_WINDOW_DAY;
        if (*p == 'T') {
            p++;
            if (s_digits(&p, 2, &h))
                return CWX_EINVAL;
            c.written = CWX_WINDOW_HOUR;
        }
    }
    if (*p)
        return CWX_EINVAL;
    if (m < 1 || m > 12) {
        *why = "month out of range (01-12)";
        return CWX_EINVAL;
    }
    if (d < 1 || d > s_days_in_month(y, m)) {
        *why = "no such day in that month";
        return CWX_EINVAL;
    }
    if (h > 23) {
        *why = "hour out of range (00-23)";
        return CWX_EINVAL;
    }
    c.year = y;
    c.month = m;
    c.day = d;
    c.hour = h;
    *out = c;
    return 0;
}
