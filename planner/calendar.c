/* Windows of wall-clock time in an IANA zone.
 *
 * Zone handling. A zone is read once from its TZif file (RFC 8536) under
 * $TZDIR or /usr/share/zoneinfo and turned into a sorted table of the
 * instants at which the UTC offset changes. The file's 64-bit (v2+) section
 * is used; past its last transition the POSIX TZ footer rule
 * ("EST5EDT,M3.2.0,M11.1.0") is expanded into more transitions, through the
 * year CWX__TZ_LAST_YEAR, so "slim" files (which stop at 2007 and leave the
 * rest to the footer) and "fat" ones (Debian's, which list transitions to
 * 2037) give the same table.
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

/* The footer rule is expanded through this year; later instants keep the
 * offset in force at its end (RFC 8536 allows footers to be evaluated
 * forever, but the planner has no use for the 26th century). */
#define CWX__TZ_LAST_YEAR 2500
#define TZIF_MAX_BYTES (4u << 20)

/* Windows are representable for civil years 1970-9999, the years
 * cwx_civil_parse accepts. */
#define MIN_YEAR 1970
#define MAX_YEAR 9999

struct cwx_tz {
    char *name;
    size_t n;     /* number of transitions */
    int64_t *at;  /* n instants (s), increasing; each changes the offset */
    int32_t *off; /* n + 1 UTC offsets (s, east positive): off[0] before
                     at[0], off[i + 1] from at[i] on */
};

/* ---------------------------------------------------------------------- */
/* Small arithmetic                                                       */
/* ---------------------------------------------------------------------- */

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

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
    int64_t days = s_floor_div(l, 86400);
    int y, m, d;
    switch (g) {
    case CWX_WINDOW_MONTH:
        cwx_civil_from_days(days, &y, &m, &d);
        return cwx_days_from_civil(y, m, 1) * 86400;
    case CWX_WINDOW_WEEK:
        return (days - cwx__weekday(days)) * 86400;
    case CWX_WINDOW_DAY:
        return days * 86400;
    case CWX_WINDOW_HOUR:
        return s_floor_div(l, 3600) * 3600;
    }
    return l;
}

/* Start of the period k periods after the one starting at local ls. */
static int64_t s_period_add(enum cwx_granularity g, int64_t ls, int k)
{
    switch (g) {
    case CWX_WINDOW_MONTH: {
        int y, m, d;
        cwx_civil_from_days(s_floor_div(ls, 86400), &y, &m, &d);
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
    int64_t days = s_floor_div(ls, 86400);
    int y, m, d;
    cwx_civil_from_days(days, &y, &m, &d);
    if (g == CWX_WINDOW_WEEK) {
        int64_t thursday = days + 3; /* ISO: the week belongs to its Thursday's year */
        int ty, tm, td;
        cwx_civil_from_days(thursday, &ty, &tm, &td);
        if (ty < MIN_YEAR || ty > MAX_YEAR)
            return CWX_EINVAL;
        int week = (int)((days - cwx__iso_week1_monday(ty)) / 7) + 1;
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
    int64_t lh = s_floor_div(t + off, 3600) * 3600;
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
    int64_t t = s_floor_div(t_ms, 1000);
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
    switch (g) {
    case CWX_WINDOW_MONTH:
        return "month";
    case CWX_WINDOW_WEEK:
        return "week";
    case CWX_WINDOW_DAY:
        return "day";
    case CWX_WINDOW_HOUR:
        return "hour";
    }
    return "?";
}

/* ---------------------------------------------------------------------- */
/* POSIX TZ footer rules (RFC 8536 §3.3, POSIX TZ with its extensions)     */
/* ---------------------------------------------------------------------- */

struct s_rule_date {
    char kind; /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' (month.week.day) */
    int a, b, c;
    int64_t time; /* seconds after local midnight; may be negative or > 24h */
};

struct s_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    int has_dst;
    struct s_rule_date start, end;
};

static int s_rule_name(const char **pp)
{
    const char *p = *pp;
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (!q || q - p < 4)
            return -1;
        *pp = q + 1;
        return 0;
    }
    const char *q = p;
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
        q++;
    if (q - p < 3)
        return -1;
    *pp = q;
    return 0;
}

/* [+-]h[h[h]][:mm[:ss]] into seconds; max_h bounds the hours. */
static int s_rule_hms(const char **pp, int max_h, int64_t *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9')
        return -1;
    int64_t v[3] = {0, 0, 0};
    for (int part = 0; part < 3; part++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v[part] = v[part] * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || (part > 0 && (digits != 2 || v[part] > 59)))
            return -1;
        if (*p != ':' || part == 2)
            break;
        p++;
    }
    if (v[0] > max_h)
        return -1;
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *pp = p;
    return 0;
}

static int s_rule_num(const char **pp, int lo, int hi, int *out)
{
    const char *p = *pp;
    int v = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (!digits || v < lo || v > hi)
        return -1;
    *out = v;
    *pp = p;
    return 0;
}

static int s_rule_date_parse(const char **pp, struct s_rule_date *d)
{
    const char *p = *pp;
    if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (s_rule_num(&p, 1, 365, &d->a))
            return -1;
    } else if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (s_rule_num(&p, 1, 12, &d->a) || *p++ != '.' ||
            s_rule_num(&p, 1, 5, &d->b) || *p++ != '.' || s_rule_num(&p, 0, 6, &d->c))
            return -1;
    } else {
        d->kind = 'D';
        if (s_rule_num(&p, 0, 365, &d->a))
            return -1;
    }
    d->time = 7200;
    if (*p == '/') {
        p++;
        if (s_rule_hms(&p, 167, &d->time))
            return -1;
    }
    *pp = p;
    return 0;
}

static int s_rule_parse(const char *s, struct s_rule *r)
{
    const char *p = s;
    int64_t v;
    memset(r, 0, sizeof *r);
    if (s_rule_name(&p) || s_rule_hms(&p, 24, &v))
        return -1;
    r->std_off = (int32_t)-v; /* POSIX counts west as positive */
    if (!*p)
        return 0;
    if (s_rule_name(&p))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (s_rule_hms(&p, 24, &v))
            return -1;
        r->dst_off = (int32_t)-v;
    }
    if (*p != ',') {
        /* No rule: POSIX leaves it to the implementation; tzcode uses the
         * US rules. TZif footers always carry one, so refuse instead. */
        return -1;
    }
    p++;
    if (s_rule_date_parse(&p, &r->start) || *p++ != ',' ||
        s_rule_date_parse(&p, &r->end) || *p)
        return -1;
    return 0;
}

/* Local midnight (days since the epoch) of a rule date in year y. */
static int64_t s_rule_day(const struct s_rule_date *d, int y)
{
    int leap = cwx_days_in_month(y, 2) == 29;
    int64_t jan1 = cwx_days_from_civil(y, 1, 1);
    switch (d->kind) {
    case 'J':
        return jan1 + d->a - 1 + (leap && d->a >= 60);
    case 'D':
        return jan1 + d->a;
    default: {
        int64_t first = cwx_days_from_civil(y, d->a, 1);
        int wd_sun = (cwx__weekday(first) + 1) % 7; /* 0 = Sunday */
        int day = 1 + (d->c - wd_sun + 7) % 7 + 7 * (d->b - 1);
        while (day > cwx_days_in_month(y, d->a))
            day -= 7;
        return first + day - 1;
    }
    }
}

/* ---------------------------------------------------------------------- */
/* TZif loading                                                           */
/* ---------------------------------------------------------------------- */

struct s_trans {
    int64_t at;
    int32_t off;
};

/* A growable list of raw transitions, compacted at the end. */
struct s_list {
    struct s_trans *v;
    size_t n, cap;
};

static int s_list_push(struct s_list *l, int64_t at, int32_t off)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct s_trans *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CWX_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].at = at;
    l->v[l->n].off = off;
    l->n++;
    return 0;
}

static uint32_t s_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t s_be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)s_be32(p) << 32 | s_be32(p + 4));
}

static int s_year_of(int64_t t)
{
    int y, m, d;
    cwx_civil_from_days(s_floor_div(t, 86400), &y, &m, &d);
    return y;
}

/* Parses a TZif image into the list of transitions and the offset before
 * the first one. */
static int s_tzif_parse(const unsigned char *buf, size_t len, struct s_list *l,
                        int32_t *first_off)
{
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return CWX_EPARSE;
    int version = buf[4];
    size_t pos = 0;
    int tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if (len - pos < 44 || memcmp(buf + pos, "TZif", 4) != 0)
            return CWX_EPARSE;
        const unsigned char *h = buf + pos + 20;
        uint32_t isutcnt = s_be32(h), isstdcnt = s_be32(h + 4),
                 leapcnt = s_be32(h + 8), timecnt = s_be32(h + 12),
                 typecnt = s_be32(h + 16), charcnt = s_be32(h + 20);
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || charcnt > 65536 ||
            leapcnt > 100000 || isutcnt > typecnt || isstdcnt > typecnt)
            return CWX_EPARSE;
        size_t body = (size_t)timecnt * (size_t)tsize + timecnt + typecnt * 6u +
                      charcnt + leapcnt * (size_t)(tsize + 4) + isstdcnt + isutcnt;
        pos += 44;
        if (len - pos < body)
            return CWX_EPARSE;
        if (pass == 0 && version >= '2') {
            pos += body; /* skip the 32-bit data: the 64-bit block follows */
            tsize = 8;
            continue;
        }
        if (leapcnt)
            return CWX_EINVAL; /* "right/" zones count leap seconds: not civil time */
        const unsigned char *times = buf + pos;
        const unsigned char *idx = times + (size_t)timecnt * tsize;
        const unsigned char *types = idx + timecnt;
        *first_off = (int32_t)s_be32(types);
        for (uint32_t k = 0; k < timecnt; k++) {
            int64_t at = tsize == 8 ? s_be64(times + (size_t)k * 8)
                                    : (int64_t)(int32_t)s_be32(times + (size_t)k * 4);
            if (idx[k] >= typecnt)
                return CWX_EPARSE;
            int rc = s_list_push(l, at, (int32_t)s_be32(types + idx[k] * 6u));
            if (rc)
                return rc;
        }
        pos += body;
        break;
    }
    if (tsize == 4)
        return 0; /* v1: no footer */
    /* Footer: "\n<POSIX TZ>\n". */
    if (pos >= len || buf[pos] != '\n')
        return CWX_EPARSE;
    const unsigned char *nl = memchr(buf + pos + 1, '\n', len - pos - 1);
    if (!nl)
        return CWX_EPARSE;
    size_t flen = (size_t)(nl - (buf + pos + 1));
    if (flen == 0)
        return 0; /* no rule: the last type applies forever */
    char footer[128];
    if (flen >= sizeof footer)
        return CWX_EPARSE;
    memcpy(footer, buf + pos + 1, flen);
    footer[flen] = '\0';
    struct s_rule r;
    if (s_rule_parse(footer, &r))
        return CWX_EPARSE;
    int64_t last = l->n ? l->v[l->n - 1].at : INT64_MIN;
    if (!r.has_dst) {
        if (!l->n)
            *first_off = r.std_off;
        else if (l->v[l->n - 1].off != r.std_off)
            return s_list_push(l, last, r.std_off); /* inconsistent file */
        return 0;
    }
    int y0 = l->n ? s_year_of(last) : 1900;
    if (y0 < 1900)
        y0 = 1900;
    for (int y = y0; y <= CWX__TZ_LAST_YEAR; y++) {
        int64_t on = s_rule_day(&r.start, y) * 86400 + r.start.time - r.std_off;
        int64_t off = s_rule_day(&r.end, y) * 86400 + r.end.time - r.dst_off;
        struct s_trans pair[2] = {{on, r.dst_off}, {off, r.std_off}};
        if (off < on) {
            struct s_trans tmp = pair[0];
            pair[0] = pair[1];
            pair[1] = tmp;
        }
        for (int k = 0; k < 2; k++) {
            if (pair[k].at <= last)
                continue;
            int rc = s_list_push(l, pair[k].at, pair[k].off);
            if (rc)
                return rc;
            last = pair[k].at;
        }
    }
    return 0;
}

static int s_read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? CWX_ENOTFOUND : CWX_EIO;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return CWX_ENOTFOUND; /* "America" is a directory, not a zone */
    }
    size_t cap = 8192, n = 0;
    unsigned char *buf = malloc(cap);
    int rc = buf ? 0 : CWX_ENOMEM;
    while (!rc) {
        if (n == cap) {
            if (cap >= TZIF_MAX_BYTES) {
                rc = CWX_ETOOBIG;
                break;
            }
            unsigned char *p = realloc(buf, cap * 2);
            if (!p) {
                rc = CWX_ENOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = CWX_EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* IANA names: letters, digits, '_', '-', '+', '/' between components, no
 * "." or ".." component, no leading '/'. */
static int s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' ||
              c == '/' || c == '.'))
            return 0;
        if (c == '.' && (p == name || p[-1] == '/'))
            return 0; /* no hidden files, no "." or ".." */
        if (c == '/' && p[1] == '/')
            return 0;
    }
    return 1;
}

int cwx_tz_load(const char *name, struct cwx_tz **out)
{
    if (!name || !out)
        return CWX_EINVAL;
    *out = NULL;
    if (!s_name_ok(name))
        return CWX_ENOTFOUND;
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = "/usr/share/zoneinfo";
    char path[512];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return CWX_ENOTFOUND;
    unsigned char *buf = NULL;
    size_t len = 0;
    struct s_list l = {0};
    int32_t first_off = 0;
    int rc = s_read_file(path, &buf, &len);
    if (rc == CWX_ENOTFOUND &&
        (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") || !strcmp(name, "GMT")))
        rc = 0; /* no tzdata installed: UTC needs none */
    else if (!rc)
        rc = s_tzif_parse(buf, len, &l, &first_off);
    free(buf);
    if (rc == CWX_EPARSE || rc == CWX_EINVAL)
        rc = CWX_ENOTFOUND; /* not a usable zone file */
    struct cwx_tz *tz = NULL;
    if (!rc) {
        tz = calloc(1, sizeof *tz);
        if (tz) {
            tz->name = strdup(name);
            tz->at = malloc((l.n ? l.n : 1) * sizeof *tz->at);
            tz->off = malloc((l.n + 1) * sizeof *tz->off);
        }
        if (!tz || !tz->name || !tz->at || !tz->off)
            rc = CWX_ENOMEM;
    }
    if (!rc) {
        /* Keep increasing instants that change the offset; a later entry at
         * the same instant replaces an earlier one. */
        tz->off[0] = first_off;
        size_t n = 0;
        for (size_t k = 0; k < l.n; k++) {
            if (n && l.v[k].at <= tz->at[n - 1]) {
                tz->off[n] = l.v[k].off;
                if (tz->off[n] == tz->off[n - 1])
                    n--;
                continue;
            }
            if (l.v[k].off == tz->off[n])
                continue;
            tz->at[n] = l.v[k].at;
            tz->off[++n] = l.v[k].off;
        }
        tz->n = n;
        *out = tz;
        tz = NULL;
    }
    free(l.v);
    cwx_tz_free(tz);
    return rc;
}

void cwx_tz_free(struct cwx_tz *tz)
{
    if (!tz)
        return;
    free(tz->name);
    free(tz->at);
    free(tz->off);
    free(tz);
}

const char *cwx_tz_name(const struct cwx_tz *tz)
{
    return tz ? tz->name : NULL;
}
