/* Time windows in an IANA time zone (docs/architecture.md §window; docs/windows.md).
 *
 * A window is a half-open interval [start_ms, end_ms) of real time, the
 * part of the time line during which the wall clock of the zone shows one
 * month, ISO week (Monday to Sunday), day or hour. Windows of one
 * granularity tile the time line without gaps or overlaps.
 *
 * Month, week and day: the period whose civil start is L (e.g. 2024-03-10
 * 00:00) begins at the first instant whose wall-clock time is >= L, and
 * ends where the next period begins. So a day with a DST change lasts 23 or
 * 25 hours (23.5 or 24.5 in Australia/Lord_Howe); a skipped midnight
 * (America/Santiago, Asia/Beirut) starts the day at the first instant that
 * exists; when the clock goes back across midnight the repeated time
 * belongs to the later day (it comes after that day's first midnight); a
 * day the zone skipped entirely (Pacific/Apia, 2011-12-30) has no window.
 *
 * Hour: a new window begins whenever the wall clock enters another hour or
 * goes back. In a fall-back the repeated clock hour gives two windows; the
 * first is labelled as usual, the second (whose hour the clock already
 * showed) gets the UTC offset in force appended: 2024-11-03T01 is
 * 01:00-02:00 EDT and 2024-11-03T01-0500 is 01:00-02:00 EST. Offsets are
 * +HHMM, or +HHMMSS when they have seconds. A skipped hour
 * (2024-03-10T02 in New York) has no window. Where DST shifts by 30
 * minutes (Lord_Howe, +10:30/+11), the shifted hour is a half-hour window:
 * in spring 2024-10-06T02 lasts 30 minutes (02:30-03:00 +11); in autumn
 * 2024-04-07T01 is an hour (01:00-02:00 +11), then 2024-04-07T01+1030
 * lasts 30 minutes (01:30-02:00 +10:30), then 2024-04-07T02 an hour.
 * Every label names one window of its zone, so labels stay unique keys.
 *
 * Civil years 1970-9999 are supported (the years cwx_civil_parse accepts);
 * instants whose window would fall outside give CWX_EINVAL. Zone rules are
 * exact through year 2500 (see calendar.c).
 *
 * Changes to the first draft of this header: the semantics above,
 * cwx_window_label_civil, and the error codes of each function. */
#ifndef CWX_PLANNER_CALENDAR_H
#define CWX_PLANNER_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

enum cwx_granularity {
    CWX_WINDOW_MONTH = 0,
    CWX_WINDOW_WEEK,
    CWX_WINDOW_DAY,
    CWX_WINDOW_HOUR,
};

/* A window reference as written in a config (`2024-03`, `2024-03-07`,
 * `2024-03-07T05`, `2024-W10`): a civil (wall-clock) time in the config's
 * zone, the start of the named period. The window of the configured
 * granularity that contains this civil time is the one referred to. */
struct cwx_civil {
    int year;  /* e.g. 2024 */
    int month; /* 1-12 */
    int day;   /* 1-31 */
    int hour;  /* 0-23 */
    enum cwx_granularity written; /* which form was written */
};

/* Parses a window reference. Returns 0, or CWX_EINVAL when s is not one of
 * the four forms or names an impossible date (2023-02-29, 2024-W54); then
 * *why (if not NULL) points at a static phrase describing the problem. */
int cwx_civil_parse(const char *s, struct cwx_civil *out, const char **why);

/* A half-open interval [start_ms, end_ms) of real time (epoch ms). */
struct cwx_window {
    int64_t start_ms;
    int64_t end_ms;
    char label[24]; /* 2024-03, 2024-W10, 2024-03-07, 2024-03-07T05 */
};

/* A loaded time zone. Opaque; cheap to query; immutable once loaded, so
 * queries from several threads are safe. */
struct cwx_tz;

/* Loads the IANA zone `name` ("UTC", "Asia/Tokyo") from the TZif file under
 * $TZDIR or /usr/share/zoneinfo; "UTC", "Etc/UTC" and "GMT" work without
 * tzdata installed. CWX_ENOTFOUND when the zone does not exist or the name
 * is not a zone name (absolute paths and ".." are refused; so are "right/"
 * zones, which count leap seconds), CWX_ENOMEM, CWX_EIO. Reads no other
 * global state (TZ is ignored). The caller frees *out with cwx_tz_free. */
int cwx_tz_load(const char *name, struct cwx_tz **out);
void cwx_tz_free(struct cwx_tz *tz);
const char *cwx_tz_name(const struct cwx_tz *tz);

/* The window of granularity g that contains the instant t_ms. CWX_EINVAL
 * when that window's label would lie outside the years 1970-9999 or g is
 * not a granularity. Allocates nothing; about 100 ns. */
int cwx_window_at(const struct cwx_tz *tz, enum cwx_granularity g,
                  int64_t t_ms, struct cwx_window *out);
/* The window of granularity g that contains the civil time c (c is
 * truncated to the granularity first: the day window of 2024-03-07T05 is
 * 2024-03-07). A civil time that occurs twice gives its first occurrence; one
 * that does not exist gives the window of the first instant after it (the
 * hour 2024-03-10T02 in New York gives 2024-03-10T03). c->written is
 * ignored. CWX_EINVAL when c is not a valid date of 1970-9999. */
int cwx_window_of_civil(const struct cwx_tz *tz, enum cwx_granularity g,
                        const struct cwx_civil *c, struct cwx_window *out);
/* The window that follows w (its start is w->end_ms): the window containing
 * the instant w->end_ms, so a period without a window is skipped. */
int cwx_window_next(const struct cwx_tz *tz, enum cwx_granularity g,
                    const struct cwx_window *w, struct cwx_window *out);

/* The newest window of granularity g that has settled at now_ms, i.e. whose
 * end_ms + settle_ms <= now_ms. CWX_EINVAL when settle_ms < 0. */
int cwx_window_latest_settled(const struct cwx_tz *tz, enum cwx_granularity g,
                              int64_t now_ms, int64_t settle_ms,
                              struct cwx_window *out);

/* Parses a window label of granularity g back into its window: the exact
 * inverse of the labels the functions above produce. CWX_EINVAL when label
 * is not a label of granularity g; CWX_ENOTFOUND when it is well-formed but
 * names no window of this zone (a skipped hour or day, or an offset suffix
 * that matches no repeated hour). */
int cwx_window_from_label(const struct cwx_tz *tz, enum cwx_granularity g,
                          const char *label, struct cwx_window *out);

/* The civil start of the period a window label names, in the label's own
 * zone: `2024-03` -> 2024-03-01T00, `2024-W01` -> its Monday 2024-01-01T00,
 * `2024-03-07` -> T00, `2024-03-07T05` and `2024-11-03T01-0500` -> that hour.
 * out->written is the label's granularity. Needs no zone: used to expand
 * {yyyy} {mm} {dd} {hh}. CWX_EINVAL when label is not a window label. */
int cwx_window_label_civil(const char *label, struct cwx_civil *out);

const char *cwx_granularity_name(enum cwx_granularity g);

#endif
