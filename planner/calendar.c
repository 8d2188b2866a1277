/* Windows of wall-clock time in an IANA zone.
 *
 * Zones are read by tz.c into a sorted table of the instants at which the
 * UTC offset changes (struct cwx_tz, planner_internal.h).
 *
 * Why not glibc's localtime_r/mktime under setenv("TZ"): TZ is process-wide
 * state (a second zone in the same run, or a thread, would race), mktime's
 * answer for skipped and repeated local times depends on tm_isdst guesses,
 * and every call takes glibc's tz lock. With the table, an offset lookup is
 * a binary search over ~1,000 entries, with no lock, no allocation and no
 * global state, and each struct cwx_tz is independent.
 *
 * Window boundaries (see calendar.h and docs/windows.md for the contract).
 * For month, week and day windows a period that starts at local civil time L
 * starts at the first instant whose local time is >= L: a skipped midnight
 * starts the day at the first instant that exists; a repeated one starts it
 * at its first occurrence. Hour windows follow the clock: a window is a run
 * of real time during which the local clock stays in one hour and the UTC
 * offset does not go backwards; see s_hour_window.
 *
 * Times are seconds inside this file (every boundary is a whole second) and
 * milliseconds at the interface.
 */
#include "planner/calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "planner/planner_internal.h"

/* Windows are representable for civil years 1970-9999, the years
 * cwx_civil_parse accepts. */
#define MIN_YEAR 1970
#define MAX_YEAR 9999

/* ---------------------------------------------------------------------- */
/* Small arithmetic                                                       */
/* ---------------------------------------------------------------------- */

/* Number of transitions at or before t, i.e. the index into off[] of the
 * offset in force at t. */
static size_t s_index(const struct cwx_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first instant whose local time is >= the local time l. Local time is
 * increasing inside each interval of constant offset; interval i spans
 * [at[i-1], at[i]) and shows local times up to at[i] + off[i]. The answer
 * lies in the first interval whose clock passes l. */
static int64_t s_first_instant(const struct cwx_tz *tz, int64_t l)
{
    size_t lo = 0, hi = tz->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] + tz->off[mid] > l)
            hi = mid;
        else
            lo = mid + 1;
    }
    int64_t t = l - tz->off[lo];
    if (lo > 0 && t < tz->at[lo - 1])
        t = tz->at[lo - 1];
    return t;
}

/* ---------------------------------------------------------------------- */
/* Periods in local time                                                  */
/* ---------------------------------------------------------------------- */

/* Start (local seconds) of the period of granularity g containing local l. */
static int64_t s_period_floor(enum cwx_granularity g, int64_t l)
{
    int64_t days = cwx__floor_div(l, 86400);
    int y, m, d;
    switch (g) {
    case CWX_WINDOW_MONTH:
        cwx_civil_from_days(days, &y, &m, &d);
        return cwx_days_from_civil(y, m, 1) * 86400;
    case CWX_WINDOW_WEEK:
        return (days - cwx_weekday(days)) * 86400;
    case CWX_WINDOW_DAY:
        return days * 86400;
    case CWX_WINDOW_HOUR:
        return cwx__floor_div(l, 3600) * 3600;
    }
    return l;
}

/* Start of the period k periods after the one starting at local ls. */
static int64_t s_period_add(enum cwx_granularity g, int64_t ls, int k)
{
    switch (g) {
    case CWX_WINDOW_MONTH: {
        int y, m, d;
        cwx_civil_from_days(cwx__floor_div(ls, 86400), &y, &m, &d);
        int mi = y * 12 + (m - 1) + k;
        return cwx_days_from_civil(mi / 12, mi % 12 + 1, 1) * 86400;
    }
    case CWX_WINDOW_WEEK:
        return ls + (int64_t)k * 7 * 86400;
    case CWX_WINDOW_DAY:
        return ls + (int64_t)k * 86400;
    case CWX_WINDOW_HOUR:
        return ls + (int64_t)k * 3600;
    }
    return ls;
}

/* Writes the label of the period starting at local ls; for a repeated hour
 * (repeat_off != NULL) the UTC offset in force is appended. CWX_EINVAL when
 * the year is outside MIN_YEAR..MAX_YEAR. */
static int s_period_label(enum cwx_granularity g, int64_t ls,
                          const int32_t *repeat_off, char label[24])
{
    int64_t days = cwx__floor_div(ls, 86400);
    int y, m, d;
    cwx_civil_from_days(days, &y, &m, &d);
    if (g == CWX_WINDOW_WEEK) {
        int64_t thursday = days + 3; /* ISO: the week belongs to its Thursday's year */
        int ty, tm, td;
        cwx_civil_from_days(thursday, &ty, &tm, &td);
        if (ty < MIN_YEAR || ty > MAX_YEAR)
            return CWX_EINVAL;
        int week = (int)((days - cwx_iso_week1_monday(ty)) / 7) + 1;
        snprintf(label, 24, "%04d-W%02d", ty, week);
        return 0;
    }
    if (y < MIN_YEAR || y > MAX_YEAR)
        return CWX_EINVAL;
    switch (g) {
    case CWX_WINDOW_MONTH:
        snprintf(label, 24, "%04d-%02d", y, m);
        break;
    case CWX_WINDOW_DAY:
        snprintf(label, 24, "%04d-%02d-%02d", y, m, d);
        break;
    default: {
        int h = (int)((ls - days * 86400) / 3600);
        int n = snprintf(label, 24, "%04d-%02d-%02dT%02d", y, m, d, h);
        if (repeat_off) {
            int32_t o = *repeat_off;
            char sign = o < 0 ? '-' : '+';
            if (o < 0)
                o = -o;
            int oh = o / 3600, om = o / 60 % 60, os = o % 60;
            if (os)
                snprintf(label + n, 24 - (size_t)n, "%c%02d%02d%02d", sign, oh, om, os);
            else
                snprintf(label + n, 24 - (size_t)n, "%c%02d%02d", sign, oh, om);
        }
        break;
    }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Windows                                                                */
/* ---------------------------------------------------------------------- */

static int s_fill(struct cwx_window *out, int64_t s, int64_t e)
{
    out->start_ms = s * 1000;
    out->end_ms = e * 1000;
    return 0;
}

/* The hour window containing instant t. The local clock hour [lh, lh+1h)
 * under the offset in force at t is cut by offset changes:
 *  - a backward change (fall-back) starts a new window at the change; when
 *    the clock had already shown hour lh before the change, the window is a
 *    repeat and its label carries the offset ("2024-11-03T01-0500");
 *  - a forward change that lands inside the same clock hour (00:20 ->
 *    00:40) does not cut: the hour stays one window, shorter than an hour;
 *  - a forward change that skips past the hour's end ends the window there
 *    (the skipped clock hours have no window). */
static int s_hour_window(const struct cwx_tz *tz, int64_t t, struct cwx_window *out)
{
    size_t i = s_index(tz, t);
    int64_t off = tz->off[i];
    int64_t lh = cwx__floor_div(t + off, 3600) * 3600;
    int64_t s = lh - off;
    int repeat = 0;
    if (i > 0) {
        int64_t tp = tz->at[i - 1], off_old = tz->off[i - 1];
        if (off_old > off && tp + off_old > lh)
            repeat = 1;
        if (s < tp) {
            s = tp;
            if (off_old < off && tp + off_old > lh) {
                s = lh - off_old;
                if (i > 1 && s < tz->at[i - 2])
                    s = tz->at[i - 2];
            }
        }
    }
    int64_t e = lh + 3600 - off;
    if (i < tz->n && e > tz->at[i]) {
        int64_t tn = tz->at[i], off_new = tz->off[i + 1];
        if (off_new > off && tn + off_new < lh + 3600) {
            e = lh + 3600 - off_new;
            if (i + 1 < tz->n && e > tz->at[i + 1])
                e = tz->at[i + 1];
        } else {
            e = tn;
        }
    }
    int32_t roff = (int32_t)off;
    int rc = s_period_label(CWX_WINDOW_HOUR, lh, repeat ? &roff : NULL, out->label);
    if (rc)
        return rc;
    return s_fill(out, s, e);
}

static int s_window_at_s(const struct cwx_tz *tz, enum cwx_granularity g,
                         int64_t t, struct cwx_window *out)
{
    if (g == CWX_WINDOW_HOUR)
        return s_hour_window(tz, t, out);
    int64_t l = t + tz->off[s_index(tz, t)];
    int64_t ls = s_period_floor(g, l);
    int64_t s = s_first_instant(tz, ls);
    int64_t e = s_first_instant(tz, s_period_add(g, ls, 1));
    /* t >= s always holds (s is the first instant at or after local ls);
     * t can lie past e when the clock went back over the period's end,
     * e.g. a fall-back from 00:30 to 23:30: that real time belongs to the
     * next period, which started at the first 00:00. */
    for (int guard = 0; t >= e && guard < 4; guard++) {
        ls = s_period_add(g, ls, 1);
        s = e;
        e = s_first_instant(tz, s_period_add(g, ls, 1));
    }
    int rc = s_period_label(g, ls, NULL, out->label);
    if (rc)
        return rc;
    return s_fill(out, s, e);
}

/* Instants of years 0001-9999 (with a day of slack for offsets); outside,
 * the civil arithmetic would not be meaningful. */
#define T_MIN_S (-62135596800LL + 86400)
#define T_MAX_S (253402300800LL - 86400)

int cwx_window_at(const struct cwx_tz *tz, enum cwx_granularity g,
                  int64_t t_ms, struct cwx_window *out)
{
    if (!tz || !out || (unsigned)g > CWX_WINDOW_HOUR)
        return CWX_EINVAL;
    int64_t t = cwx__floor_div(t_ms, 1000);
    if (t < T_MIN_S || t > T_MAX_S)
        return CWX_EINVAL;
    return s_window_at_s(tz, g, t, out);
}

static int s_civil_check(const struct cwx_civil *c)
{
    if (c->year < MIN_YEAR || c->year > MAX_YEAR || c->month < 1 || c->month > 12 ||
        c->day < 1 || c->day > cwx_days_in_month(c->year, c->month) || c->hour < 0 ||
        c->hour > 23)
        return CWX_EINVAL;
    return 0;
}

int cwx_window_of_civil(const struct cwx_tz *tz, enum cwx_granularity g,
                        const struct cwx_civil *c, struct cwx_window *out)
{
    if (!tz || !c || !out || (unsigned)g > CWX_WINDOW_HOUR || s_civil_check(c))
        return CWX_EINVAL;
    int64_t l = cwx_days_from_civil(c->year, c->month, c->day) * 86400 +
                (int64_t)c->hour * 3600;
    int64_t ls = s_period_floor(g, l);
    return s_window_at_s(tz, g, s_first_instant(tz, ls), out);
}

int cwx_window_next(const struct cwx_tz *tz, enum cwx_granularity g,
                    const struct cwx_window *w, struct cwx_window *out)
{
    if (!w)
        return CWX_EINVAL;
    return cwx_window_at(tz, g, w->end_ms, out);
}

int cwx_window_latest_settled(const struct cwx_tz *tz, enum cwx_granularity g,
                              int64_t now_ms, int64_t settle_ms,
                              struct cwx_window *out)
{
    if (settle_ms < 0)
        return CWX_EINVAL;
    struct cwx_window w;
    /* The window containing now - settle has not settled (its end is later);
     * the one before it ended at or before now - settle. */
    int rc = cwx_window_at(tz, g, now_ms - settle_ms, &w);
    if (!rc)
        rc = cwx_window_at(tz, g, w.start_ms - 1, out);
    return rc;
}

/* Parses "[+-]HHMM" or "[+-]HHMMSS" into seconds east of UTC. */
static int s_parse_offset_suffix(const char *p, int32_t *off)
{
    size_t n = strlen(p);
    if ((n != 5 && n != 7) || (p[0] != '+' && p[0] != '-'))
        return CWX_EINVAL;
    int v[3] = {0, 0, 0};
    for (size_t k = 1; k < n; k++) {
        if (p[k] < '0' || p[k] > '9')
            return CWX_EINVAL;
        v[(k - 1) / 2] = v[(k - 1) / 2] * 10 + (p[k] - '0');
    }
    if (v[1] > 59 || v[2] > 59 || (n == 7 && v[2] == 0))
        return CWX_EINVAL;
    int32_t o = v[0] * 3600 + v[1] * 60 + v[2];
    *off = p[0] == '-' ? -o : o;
    return 0;
}

int cwx_window_label_civil(const char *label, struct cwx_civil *out)
{
    if (!label || !out)
        return CWX_EINVAL;
    size_t n = strlen(label);
    char base[16];
    /* An hour label is 13 bytes ("2024-11-03T01"), a repeated hour adds an
     * offset suffix. */
    if (n > 13 && label[10] == 'T') {
        int32_t off;
        if (s_parse_offset_suffix(label + 13, &off))
            return CWX_EINVAL;
        n = 13;
    }
    if (n >= sizeof base)
        return CWX_EINVAL;
    memcpy(base, label, n);
    base[n] = '\0';
    return cwx_civil_parse(base, out, NULL);
}

int cwx_window_from_label(const struct cwx_tz *tz, enum cwx_granularity g,
                          const char *label, struct cwx_window *out)
{
    struct cwx_civil c;
    if (!tz || !out || cwx_window_label_civil(label, &c) || c.written != g)
        return CWX_EINVAL;
    struct cwx_window w;
    int rc = cwx_window_of_civil(tz, g, &c, &w);
    if (rc)
        return rc;
    /* A repeated hour is the window after its first occurrence (or, after a
     * multi-hour fall-back, a few windows later). */
    for (int k = 0; k < 4 && strcmp(w.label, label) != 0 && strlen(label) > 13; k++) {
        rc = cwx_window_next(tz, g, &w, &w);
        if (rc)
            return rc;
    }
    if (strcmp(w.label, label) != 0)
        return CWX_ENOTFOUND; /* well-formed, but no such window in this zone */
    *out = w;
    return 0;
}

const char *cwx_granularity_name(enum cwx_granularity g)
{
    static const char *const names[] = {
        [CWX_WINDOW_MONTH] = "month",
        [CWX_WINDOW_WEEK] = "week",
        [CWX_WINDOW_DAY] = "day",
        [CWX_WINDOW_HOUR] = "hour",
    };
    return (unsigned)g < sizeof names / sizeof *names ? names[g] : "?";
}
