/* Window names in a config ("2024-01", "2024-W05", ...): cwx_civil_parse. */
#include "planner/calendar.h"

#include <ctype.h>
#include <string.h>

#include "common/error.h"
#include "planner/planner_internal.h"

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
        if (w < 1 || w > cwx_iso_weeks_in_year(y)) {
            *why = "no such ISO week in that year";
            return CWX_EINVAL;
        }
        int64_t days = cwx_iso_week1_monday(y) + (int64_t)(w - 1) * 7;
        cwx_civil_from_days(days, &c.year, &c.month, &c.day);
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
    if (d < 1 || d > cwx_days_in_month(y, m)) {
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
