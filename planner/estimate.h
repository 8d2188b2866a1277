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

/* Estimated bytes of one window of group g: the group's storedBytes spread
 * evenly over the span its data covers, from max(creation, now - retention)
 * to now (when neither is known, from the start of the group's first
 * window), times the part of that span the window overlaps. When the
 * group's events are known (skip_empty: streams), storedBytes is spread over
 * the time its streams' event intervals cover instead. -1 when the group's
 * storedBytes is unknown. */
int64_t cwx_estimate_window_bytes(const struct cwx_plan *plan,
                                  const struct cwx_plan_group *g,
                                  const struct cwx_window *w);

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
