/* Plan estimates: bytes per window, export time per lane, AWS calls a run
 * would make (docs/plan.md gives the model and its default numbers). Pure
 * arithmetic over a plan; nothing here calls AWS. */
#ifndef CWX_PLANNER_ESTIMATE_H
#define CWX_PLANNER_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "planner/lane_model.h"
#include "planner/plan.h"

/* Throughput assumed when a lane has no observed exports: 10 MB/s. */
#define CWX_ESTIMATE_DEFAULT_BYTES_PER_S 10000000.0
/* Fixed cost of one export task (queueing, the write test, the listing of
 * what it wrote): 60 s. */
#define CWX_ESTIMATE_TASK_OVERHEAD_MS 60000
/* Markers listed per ListObjectsV2 page. */
#define CWX_ESTIMATE_LIST_PAGE 1000

/* Where a window's byte estimate came from (docs/plan.md, "Bytes per
 * window"). */
enum cwx_bytes_source {
    CWX_BYTES_UNKNOWN = 0, /* no storedBytes, no metrics */
    CWX_BYTES_STORED,      /* the group's storedBytes, spread */
    CWX_BYTES_METRICS,     /* CloudWatch IncomingBytes of its days, calibrated */
    CWX_BYTES__COUNT
};
/* "unknown", "stored_bytes", "metrics". */
const char *cwx_bytes_source_name(enum cwx_bytes_source s);

/* How fast one export runs on a target: duration = overhead_ms + bytes /
 * bytes_per_s. samples is the number of observed exports it was derived
 * from; 0 means the documented defaults. */
struct cwx_estimate_rate {
    double bytes_per_s;
    int64_t overhead_ms;
    uint32_t samples;
    const char *source; /* "model" (the remembered lane model), "observed"
                         * (sampled markers) or "default" */
};

/* AWS calls a run would make. */
struct cwx_estimate_calls {
    uint64_t create;   /* logs:CreateExportTask, one per pending job */
    uint64_t describe; /* logs:DescribeExportTasks: polls + lane start */
    uint64_t list;     /* s3:ListObjectsV2: marker index + one per job */
    uint64_t put;      /* s3:PutObject: one marker per job */
};

/* One lane (docs/architecture.md §token): an account, or an account and a region
 * with token_scope: region. Jobs of a lane run one at a time. */
struct cwx_estimate_lane {
    uint32_t account;          /* index into cfg->accounts */
    const char *region;        /* borrowed; NULL when the lane spans every
                                * region of the account */
    struct cwx_plan_totals totals;
    int64_t bytes;             /* estimated bytes of the pending jobs */
    size_t bytes_unknown;      /* pending jobs of groups without storedBytes */
    size_t bytes_jobs[CWX_BYTES__COUNT]; /* pending jobs by bytes source */
    const char *calibration;   /* of its metrics estimates; NULL without */
    int64_t backfill_ms;       /* projected makespan: the pending jobs one
                                * after the other, each until a poll of the
                                * run's schedule sees it end */
    int64_t backfill_low_ms, backfill_high_ms; /* its likely range */
    uint64_t describe_low, describe_high;      /* range of calls.describe */
    struct cwx_estimate_rate rate; /* of the lane's first target */
    struct cwx_estimate_calls calls;
    struct cwx_lane_model model;   /* the lane's remembered model; all zero
                                    * when none (the run starts from nothing) */
};

/* All the lanes of a plan, and the plan-wide sums. */
struct cwx_estimate {
    struct cwx_estimate_lane *lanes; /* owned */
    size_t n_lanes;
    uint32_t *target_lane;           /* owned: lane index of each target */
    int64_t bytes;                   /* sum over lanes; see cwx_estimate_bytes_shown */
    size_t bytes_unknown;
    int64_t wall_ms;                 /* the longest lane: lanes run in parallel */
    int64_t serial_ms;               /* sum over lanes */
    struct cwx_estimate_calls calls;
};

/* Records one observed export of target: its bytes and how long it took
 * from creation to completion. Durations <= 0 are ignored. */
void cwx_estimate_observe(struct cwx_plan *plan, uint32_t target, int64_t bytes,
                          int64_t duration_ms);

/* The rate of a target: from its observations when it has any, else the
 * defaults above. */
void cwx_estimate_rate_of(const struct cwx_plan *plan, uint32_t target,
                          struct cwx_estimate_rate *out);

/* Estimated bytes of one window of group g (planner/estimate_bytes.c).
 * When the online plan read the group's daily IncomingBytes (cwx_ingest_*
 * below) and the window starts inside the days they cover: the bytes that
 * came in over the part of the window after creation and the retention
 * horizon (days cut by overlap), times the target's calibration. Else the
 * group's storedBytes spread evenly over the span its data covers, from
 * max(creation, now - retention) to now (when neither is known, from the
 * start of the group's first window), times the part of that span the
 * window overlaps; when the group's events are known (skip_empty: streams),
 * storedBytes is spread over the time its streams' event intervals cover
 * instead. -1 when neither is known. *src (may be NULL) says which. */
int64_t cwx_estimate_window_bytes_src(const struct cwx_plan *plan,
                                      const struct cwx_plan_group *g,
                                      const struct cwx_window *w, enum cwx_bytes_source *src);
int64_t cwx_estimate_window_bytes(const struct cwx_plan *plan,
                                  const struct cwx_plan_group *g,
                                  const struct cwx_window *w);

/* ---- IncomingBytes, as the online plan reads them --------------------------- */

/* Gives plan an empty record of n_days days of IncomingBytes from
 * first_day_ms (a UTC midnight), freed with the plan. Call after the plan's
 * groups are added. CWX_EINVAL when it has one already. */
int cwx_ingest_attach(struct cwx_plan *plan, int64_t first_day_ms, uint32_t n_days);
/* Records that group's metrics were read, and bytes (the Sum of the day
 * starting at day_ms; <= 0 or outside the record: nothing more). A group
 * whose metrics were read has 0 bytes on the days without a data point. */
int cwx_ingest_add(struct cwx_plan *plan, uint32_t group, int64_t day_ms, double bytes);
/* Forgets what was recorded of group (its metrics could not all be read):
 * its windows fall back to storedBytes. */
void cwx_ingest_forget(struct cwx_plan *plan, uint32_t group);
/* After the last cwx_ingest_add: sums the days and calibrates each target.
 * IncomingBytes counts bytes as they came in, uncompressed: a target's
 * estimated bytes per IncomingByte are, in order of preference, the lane
 * model's exported bytes per IncomingByte over its exported bytes per
 * estimated byte ("lane model"); what storedBytes spreads over the days the
 * metrics cover against what came in then ("stored_bytes"); the lane
 * model's exported bytes per IncomingByte ("exported bytes"); else 1
 * ("none"). */
void cwx_ingest_finish(struct cwx_plan *plan);
void cwx_ingest_free(struct cwx_ingest *in);
/* The calibration of target's metrics estimates (*k, may be NULL) and where
 * it came from; NULL when the plan has no metrics. */
const char *cwx_ingest_calibration(const struct cwx_plan *plan, uint32_t target, double *k);
/* The IncomingBytes, as read, uncalibrated, that came in over the windows
 * job covers (each clipped like an estimate); -1 when the metrics of its
 * group were not read or a window starts before the days they cover. The
 * run records them against the bytes the job exported
 * (cwx_lane_model_calibrate_incoming). */
double cwx_ingest_job_bytes(const struct cwx_plan *plan, const struct cwx_job *job);
/* The first day the metrics cover (epoch ms), or -1 when none were read. */
int64_t cwx_ingest_first_day(const struct cwx_plan *plan);

/* Estimated duration of one export of `bytes` (-1 = unknown: overhead
 * only) at rate r. */
int64_t cwx_estimate_job_ms(const struct cwx_estimate_rate *r, int64_t bytes);

/* Tasks of a lane the plan lets its replayed model learn from, as the run
 * does, before freezing it (then one replay per distinct size). */
#define CWX_ESTIMATE_LEARN_TASKS 32

/* Computes every lane's totals and estimates. On success the caller frees
 * *out with cwx_estimate_free. Returns 0 or CWX_ENOMEM. */
int cwx_estimate_plan(const struct cwx_plan *plan, struct cwx_estimate *out);
void cwx_estimate_free(struct cwx_estimate *e);

/* Where a lane's byte estimate came from: "metrics", "stored_bytes",
 * both ("metrics, stored_bytes"), each with " (some unknown)" when some
 * pending jobs have no estimate, or "unknown". */
const char *cwx_estimate_bytes_source(const struct cwx_estimate_lane *l);

/* The bytes a report shows: -1 (unknown) when no pending job has a known
 * size but some have an unknown one. */
static inline int64_t cwx_estimate_bytes_shown(int64_t bytes, size_t unknown)
{
    return bytes == 0 && unknown ? -1 : bytes;
}

/* Formats a duration as "3d 4h", "2h 05m", "4m 10s", "12s" into out. */
void cwx_estimate_format_ms(int64_t ms, char *out, size_t size);
/* Formats bytes as "1.5 GB" (SI units, as AWS's console shows storedBytes);
 * "unknown" when bytes < 0. */
void cwx_estimate_format_bytes(int64_t bytes, char *out, size_t size);

#endif
