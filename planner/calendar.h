/* Time windows in an IANA time zone (DESIGN.md §4). */
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

/* A loaded time zone. Opaque; cheap to query; not thread-safe. */
struct cwx_tz;

/* Loads the IANA zone `name` ("UTC", "Asia/Tokyo"). CWX_ENOTFOUND when the
 * zone does not exist. The caller frees *out with cwx_tz_free. */
int cwx_tz_load(const char *name, struct cwx_tz **out);
void cwx_tz_free(struct cwx_tz *tz);
const char *cwx_tz_name(const struct cwx_tz *tz);

/* The window of granularity g that contains the instant t_ms. */
int cwx_window_at(const struct cwx_tz *tz, enum cwx_granularity g,
                  int64_t t_ms, struct cwx_window *out);
/* The window of granularity g that contains the civil time c. */
int cwx_window_of_civil(const struct cwx_tz *tz, enum cwx_granularity g,
                        const struct cwx_civil *c, struct cwx_window *out);
/* The window that follows w (its start is w->end_ms). */
int cwx_window_next(const struct cwx_tz *tz, enum cwx_granularity g,
                    const struct cwx_window *w, struct cwx_window *out);

/* The newest window of granularity g that has settled at now_ms, i.e. whose
 * end_ms + settle_ms <= now_ms. */
int cwx_window_latest_settled(const struct cwx_tz *tz, enum cwx_granularity g,
                              int64_t now_ms, int64_t settle_ms,
                              struct cwx_window *out);

/* Parses a window label of granularity g back into its window. */
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
