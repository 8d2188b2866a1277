/* Bytes per window (docs/plan.md, "Bytes per window"): from CloudWatch's
 * daily IncomingBytes of the group where the online plan read them and the
 * window lies inside their 455 days, else from the group's storedBytes
 * spread over the time its data covers. Pure: the online plan feeds the
 * data points in. */
#include "planner/estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/mem.h"

#define S_DAY_MS 86400000LL

/* What the plan knows of its groups' IncomingBytes. */
struct cwx_ingest {
    int64_t first_day_ms;  /* UTC midnight of day 0 */
    uint32_t n_days;
    size_t n_groups;
    double **cum;          /* per group: NULL (not read), or n_days + 1
                            * running sums: cum[d] = bytes of days [0, d) */
    size_t n_targets;
    double *k;             /* per target: estimated bytes per IncomingByte */
    const char **calibration; /* per target: where k came from */
};

/* ---- storedBytes ---------------------------------------------------------- */

/* Where the group's data starts, as far as storedBytes can tell: creation
 * and the retention horizon; INT64_MIN when neither is known. */
static int64_t s_span_start(const struct cwx_plan *plan, const struct cwx_plan_group *g)
{
    int64_t span_start = INT64_MIN;
    if (g->creation_ms > 0)
        span_start = g->creation_ms;
    if (g->retention_days > 0) {
        int64_t horizon = plan->now_ms - (int64_t)g->retention_days * S_DAY_MS;
        if (horizon > span_start)
            span_start = horizon;
    }
    return span_start;
}

static int64_t s_stored_bytes(const struct cwx_plan *plan, const struct cwx_plan_group *g,
                              int64_t start_ms, int64_t end_ms)
{
    if (g->stored_bytes <= 0)
        return g->stored_bytes < 0 ? -1 : 0;
    int64_t now = plan->now_ms;
    int64_t span_start = s_span_start(plan, g);
    if (g->events_known) {
        /* The streams say where the events are: spread storedBytes over
         * the event time inside the span, by overlap with the window. */
        int64_t all = cwx_plan_events_overlap(g, span_start, now);
        /* span_start may be INT64_MIN here: overlap clips to the events. */
        int64_t mine = cwx_plan_events_overlap(g, start_ms > span_start ? start_ms : span_start,
                                               end_ms < now ? end_ms : now);
        if (all <= 0 || mine <= 0)
            return 0;
        return (int64_t)((double)g->stored_bytes * ((double)mine / (double)all) + 0.5);
    }
    if (span_start == INT64_MIN) {
        const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
        span_start = ws->n_windows ? ws->windows[0].start_ms : start_ms;
    }
    if (span_start >= now)
        return end_ms > span_start ? g->stored_bytes : 0;
    int64_t lo = start_ms > span_start ? start_ms : span_start;
    int64_t hi = end_ms < now ? end_ms : now;
    if (hi <= lo)
        return 0;
    /* In double: storedBytes × overlap can exceed int64. */
    double share = (double)(hi - lo) / (double)(now - span_start);
    return (int64_t)((double)g->stored_bytes * share + 0.5);
}

/* ---- IncomingBytes --------------------------------------------------------- */

/* Bytes the group took in over [lo, hi), days cut by overlap; -1 when its
 * metrics were not read or the range starts before them. */
static double s_incoming(const struct cwx_ingest *in, size_t gi, int64_t lo, int64_t hi)
{
    if (!in || gi >= in->n_groups || !in->cum[gi] || lo < in->first_day_ms)
        return -1;
    if (hi <= lo)
        return 0;
    const double *cum = in->cum[gi];
    double d0 = (double)(lo - in->first_day_ms) / S_DAY_MS;
    double d1 = (double)(hi - in->first_day_ms) / S_DAY_MS;
    double n = in->n_days;
    d0 = d0 > n ? n : d0;
    d1 = d1 > n ? n : d1;
    /* The running sum at a fractional day: linear inside the day. */
    double at0 = cum[(size_t)d0] + (d0 < n ? (d0 - floor(d0)) * (cum[(size_t)d0 + 1] - cum[(size_t)d0]) : 0);
    double at1 = cum[(size_t)d1] + (d1 < n ? (d1 - floor(d1)) * (cum[(size_t)d1 + 1] - cum[(size_t)d1]) : 0);
    return at1 > at0 ? at1 - at0 : 0;
}

/* The part of [start, end) where the group can still hold data: after its
 * creation and its retention horizon, before now. */
static void s_clip(const struct cwx_plan *plan, const struct cwx_plan_group *g, int64_t *lo,
                   int64_t *hi)
{
    int64_t s = s_span_start(plan, g);
    if (s > *lo)
        *lo = s;
    if (plan->now_ms < *hi)
        *hi = plan->now_ms;
}

int64_t cwx_estimate_window_bytes_src(const struct cwx_plan *plan,
                                      const struct cwx_plan_group *g,
                                      const struct cwx_window *w, enum cwx_bytes_source *src)
{
    const struct cwx_ingest *in = plan->ingest;
    size_t gi = (size_t)(g - plan->groups);
    if (in && gi < in->n_groups && in->cum[gi] && w->start_ms >= in->first_day_ms) {
        int64_t lo = w->start_ms, hi = w->end_ms;
        s_clip(plan, g, &lo, &hi);
        double b = s_incoming(in, gi, lo, hi > lo ? hi : lo);
        if (src)
            *src = CWX_BYTES_METRICS;
        return (int64_t)(b * in->k[g->target] + 0.5);
    }
    int64_t b = s_stored_bytes(plan, g, w->start_ms, w->end_ms);
    if (src)
        *src = b < 0 ? CWX_BYTES_UNKNOWN : CWX_BYTES_STORED;
    return b;
}

double cwx_ingest_job_bytes(const struct cwx_plan *plan, const struct cwx_job *job)
{
    const struct cwx_ingest *in = plan->ingest;
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    size_t gi = (size_t)(g - plan->groups);
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    double sum = 0;
    for (uint32_t w = job->window; w <= cwx_plan_job_last(plan, job); w++) {
        int64_t lo = ws->windows[w].start_ms, hi = ws->windows[w].end_ms;
        if (!in || lo < in->first_day_ms)
            return -1;
        s_clip(plan, g, &lo, &hi);
        double b = s_incoming(in, gi, lo, hi > lo ? hi : lo);
        if (b < 0)
            return -1;
        sum += b;
    }
    return sum;
}

int64_t cwx_estimate_window_bytes(const struct cwx_plan *plan,
                                  const struct cwx_plan_group *g,
                                  const struct cwx_window *w)
{
    return cwx_estimate_window_bytes_src(plan, g, w, NULL);
}

const char *cwx_bytes_source_name(enum cwx_bytes_source s)
{
    static const char *const names[CWX_BYTES__COUNT] = {
        [CWX_BYTES_UNKNOWN] = "unknown",
        [CWX_BYTES_STORED] = "stored_bytes",
        [CWX_BYTES_METRICS] = "metrics",
    };
    return (unsigned)s < CWX_BYTES__COUNT ? names[s] : "unknown";
}

/* ---- the record of data points ---------------------------------------------- */

void cwx_ingest_free(struct cwx_ingest *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n_groups; i++)
        free(in->cum[i]);
    CWX_FREE_ALL(in->cum, in->k, in->calibration, in);
}

int cwx_ingest_attach(struct cwx_plan *plan, int64_t first_day_ms, uint32_t n_days)
{
    if (plan->ingest || first_day_ms % S_DAY_MS || n_days == 0 || n_days > 4000)
        return CWX_EINVAL;
    struct cwx_ingest *in = calloc(1, sizeof *in);
    if (!in)
        return CWX_ENOMEM;
    *in = (struct cwx_ingest){.first_day_ms = first_day_ms, .n_days = n_days,
                              .n_groups = plan->n_groups, .n_targets = plan->n_targets};
    in->cum = calloc(in->n_groups ? in->n_groups : 1, sizeof *in->cum);
    in->k = calloc(in->n_targets ? in->n_targets : 1, sizeof *in->k);
    in->calibration = calloc(in->n_targets ? in->n_targets : 1, sizeof *in->calibration);
    if (!in->cum || !in->k || !in->calibration) {
        cwx_ingest_free(in);
        return CWX_ENOMEM;
    }
    for (size_t t = 0; t < in->n_targets; t++) {
        in->k[t] = 1.0;
        in->calibration[t] = "none";
    }
    plan->ingest = in;
    return 0;
}

int cwx_ingest_add(struct cwx_plan *plan, uint32_t group, int64_t day_ms, double bytes)
{
    struct cwx_ingest *in = plan->ingest;
    if (!in || group >= in->n_groups)
        return CWX_EINVAL;
    if (!in->cum[group] && !(in->cum[group] = calloc((size_t)in->n_days + 1, sizeof(double))))
        return CWX_ENOMEM;
    if (day_ms < in->first_day_ms || !isfinite(bytes) || bytes <= 0)
        return 0;
    int64_t d = (day_ms - in->first_day_ms) / S_DAY_MS;
    if (d < (int64_t)in->n_days)
        in->cum[group][d + 1] += bytes; /* a day's bytes until cwx_ingest_finish */
    return 0;
}

void cwx_ingest_forget(struct cwx_plan *plan, uint32_t group)
{
    struct cwx_ingest *in = plan->ingest;
    if (!in || group >= in->n_groups)
        return;
    free(in->cum[group]);
    in->cum[group] = NULL;
}

/* Estimated bytes per IncomingByte of target t, from its groups that have
 * both storedBytes and metrics: what storedBytes spreads over the days the
 * metrics cover, against what they say came in. 0 when none can tell. */
static double s_stored_ratio(const struct cwx_plan *plan, uint32_t t)
{
    const struct cwx_ingest *in = plan->ingest;
    double stored = 0, incoming = 0;
    for (size_t gi = 0; gi < plan->n_groups && gi < in->n_groups; gi++) {
        const struct cwx_plan_group *g = &plan->groups[gi];
        if (g->target != t || !in->cum[gi] || g->stored_bytes <= 0)
            continue;
        int64_t lo = in->first_day_ms, hi = plan->now_ms;
        s_clip(plan, g, &lo, &hi);
        double b = s_incoming(in, gi, lo, hi > lo ? hi : lo);
        int64_t s = s_stored_bytes(plan, g, lo, hi);
        if (b > 0 && s > 0) {
            stored += (double)s;
            incoming += b;
        }
    }
    return incoming > 0 ? stored / incoming : 0;
}

void cwx_ingest_finish(struct cwx_plan *plan)
{
    struct cwx_ingest *in = plan->ingest;
    if (!in)
        return;
    for (size_t gi = 0; gi < in->n_groups; gi++)
        for (uint32_t d = 0; in->cum[gi] && d < in->n_days; d++)
            in->cum[gi][d + 1] += in->cum[gi][d];
    for (uint32_t t = 0; t < in->n_targets && t < plan->n_targets; t++) {
        const struct cwx_lane_model *m = plan->targets[t].model;
        double r = m ? cwx_lane_model_incoming_ratio(m) : 0;
        double c = m ? cwx_lane_model_calibration(m) : 0;
        double s = s_stored_ratio(plan, t);
        if (r > 0 && c > 0) {
            in->k[t] = r / c;
            in->calibration[t] = "lane model";
        } else if (s > 0) {
            in->k[t] = s;
            in->calibration[t] = "stored_bytes";
        } else if (r > 0) {
            in->k[t] = r;
            in->calibration[t] = "exported bytes";
        }
    }
}

const char *cwx_ingest_calibration(const struct cwx_plan *plan, uint32_t target, double *k)
{
    const struct cwx_ingest *in = plan->ingest;
    if (!in || target >= in->n_targets)
        return NULL;
    if (k)
        *k = in->k[target];
    return in->calibration[target];
}

int64_t cwx_ingest_first_day(const struct cwx_plan *plan)
{
    return plan->ingest ? plan->ingest->first_day_ms : -1;
}
