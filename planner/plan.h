/* The plan: the config expanded into export jobs (log group × window) for
 * each target (account × region), with each job's status. No libuv, no AWS:
 * the online planner and the scheduler feed it what they learn from AWS. */
#ifndef CWX_PLANNER_PLAN_H
#define CWX_PLANNER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "planner/calendar.h"
#include "planner/config.h"
#include "planner/job.h"

enum cwx_job_status {
    CWX_JOB_PENDING = 0,
    CWX_JOB_DONE,
    CWX_JOB_RUNNING,
    CWX_JOB_SKIPPED,
    CWX_JOB_FAILED,
};
const char *cwx_job_status_name(enum cwx_job_status s);

/* Why a job has its status (NULL reason in reports when NONE). */
enum cwx_job_reason {
    CWX_REASON_NONE = 0,
    CWX_REASON_BEFORE_CREATION,  /* window ends before the group existed */
    CWX_REASON_BEYOND_RETENTION, /* window wholly older than the retention */
    CWX_REASON_MARKER,           /* done: its marker exists */
    CWX_REASON_OBJECTS,          /* done: data objects found (detect: objects) */
    CWX_REASON_EMPTY,            /* done: exported, no data in the window */
    CWX_REASON_TASK_ACTIVE,      /* running: a task with its name is active */
    CWX_REASON_TASK_COMPLETED,   /* done: task completed, marker pending */
    CWX_REASON_ATTEMPTS,         /* failed: max_attempts exhausted */
    CWX_REASON_ERROR,            /* failed: an error stopped it */
    CWX_REASON_NO_GROUP,         /* failed: the named log group does not exist */
    CWX_REASON_NO_EVENTS,        /* skipped: no log stream has events in it */
    CWX_REASON__COUNT
};
const char *cwx_job_reason_text(enum cwx_job_reason r);
/* A short stable code for r ("no_events", "marker", …); NULL for NONE. */
const char *cwx_job_reason_name(enum cwx_job_reason r);

/* A set of windows shared by every group with the same zone, granularity,
 * range and settle. */
struct cwx_plan_wset {
    struct cwx_tz *tz;
    enum cwx_granularity granularity;
    struct cwx_window *windows; /* oldest first */
    size_t n_windows;
};

/* An (account, region) pair: where export tasks run and land. */
struct cwx_plan_target {
    uint32_t account;    /* index into cfg->accounts */
    uint32_t region_idx; /* index into the account's regions */
    const char *region;  /* borrowed from the config */
    char *account_id;    /* owned; NULL until known */
    char *bucket;        /* destination bucket with {account_id}/{region} expanded; NULL until account_id known */
    /* Observed exports of this target (online plan, from sampled markers):
     * how many, their bytes and their durations in total. Zero when none;
     * see planner/estimate.h. */
    uint32_t rate_samples;
    int64_t rate_bytes;
    int64_t rate_ms;
    /* The lane time model remembered in the target's bucket (online plan,
     * planner/lane_model.h); owned, NULL when none was read. */
    struct cwx_lane_model *model;
};

/* Event timestamps [from_ms, to_ms], both inclusive. */
struct cwx_plan_interval {
    int64_t from_ms, to_ms;
};

/* One log group of one target, selected by one selector. */
struct cwx_plan_group {
    char *name;
    uint32_t target;
    uint32_t sel;        /* index into the account's groups (selectors) */
    uint32_t wset;
    int64_t creation_ms; /* 0 = unknown */
    int retention_days;  /* 0 = never expires or unknown */
    int64_t stored_bytes;/* -1 = unknown */
    uint32_t first_job;  /* its jobs are jobs[first_job .. first_job+n_jobs) */
    uint32_t n_jobs;
    /* What the log streams say (skip_empty: streams): the union of their
     * [firstEventTimestamp, lastEventTimestamp], sorted and disjoint.
     * Owned; meaningful only when events_known. */
    struct cwx_plan_interval *events;
    uint32_t n_events;
    uint8_t events_known;
};

/* A selector (prefix or pattern) that the offline plan could not resolve. */
struct cwx_plan_unresolved {
    uint32_t target;
    uint32_t sel;
};

/* One export: a group × a window. Compact: a million of them fit in memory.
 * With coalesce, one job (the head) exports a range of its group's windows
 * with one task: its span counts the windows from its own, and each later
 * window of the range is `covered` (it has no task of its own; its status
 * follows the head's, and it still gets its own marker). */
struct cwx_job {
    uint32_t group;
    uint32_t window;      /* index into the group's wset */
    uint8_t status;       /* enum cwx_job_status */
    uint8_t reason;       /* enum cwx_job_reason */
    uint8_t attempts;     /* CreateExportTask calls made for it */
    uint8_t covered;      /* 1: exported by an earlier job's range */
    char task_name[CWX_TASK_NAME_SIZE]; /* "" while account_id unknown; a
                                         * covered job holds its head's */
    uint16_t span;        /* windows its task covers (0 or 1: its own) */
};

/* What a lazy plan (cwx_plan_expand_lazy) keeps instead of its jobs. */
struct cwx_plan_lazy {
    uint32_t group;        /* the group of the job made last: a hint */
    struct cwx_buf prefix; /* the data prefix of the job named last */
    uint32_t prefix_group, prefix_window; /* whose prefix it is, */
    bool prefix_valid;                    /* when this is true */
};

struct cwx_plan {
    const struct cwx_config *cfg; /* borrowed */
    int64_t now_ms;
    struct cwx_plan_wset *wsets;
    size_t n_wsets;
    uint32_t *sel_wset; /* per (account, selector): flattened, see cwx_plan_sel_wset */
    size_t *sel_base;   /* per account: offset into sel_wset */
    struct cwx_plan_target *targets;
    size_t n_targets;
    struct cwx_plan_group *groups;
    size_t n_groups, cap_groups;
    struct cwx_plan_unresolved *unresolved;
    size_t n_unresolved, cap_unresolved;
    struct cwx_job *jobs; /* NULL in a lazy plan (see cwx_plan_job) */
    size_t n_jobs;
    struct cwx_plan_lazy *lazy; /* owned; non-NULL only in a lazy plan */
    struct {
        uint32_t *slots; /* open addressing over (target, name): group index + 1 */
        size_t cap;
    } names;
    struct cwx_ingest *ingest; /* owned: IncomingBytes read online, NULL
                                * without (planner/estimate.h) */
};

/* Creates an empty plan for cfg at now_ms: the targets and window sets.
 * cfg must outlive the plan. Returns 0 or CWX_E*; on error *why says why. */
int cwx_plan_new(const struct cwx_config *cfg, int64_t now_ms,
                 struct cwx_plan **out, char *why, size_t why_size);
void cwx_plan_free(struct cwx_plan *plan);

/* Records the account id of an account (all its targets). */
int cwx_plan_set_account_id(struct cwx_plan *plan, uint32_t account,
                            const char *account_id);

/* Adds the log groups named by `name` selectors, and records prefix and
 * pattern selectors as unresolved (the offline plan). */
int cwx_plan_add_named_groups(struct cwx_plan *plan);

/* Adds one group found for selector sel of target (online). Groups a name
 * matches through several selectors are added once (the first selector
 * wins); exclude globs are applied here. creation_ms 0, retention 0 and
 * stored_bytes -1 mean unknown. Returns 0, or 1 when the group was excluded
 * or already present. */
int cwx_plan_add_group(struct cwx_plan *plan, uint32_t target, uint32_t sel,
                       const char *name, int64_t creation_ms, int retention_days,
                       int64_t stored_bytes);

/* Creates the jobs of every group (oldest window first within a group),
 * names their tasks (when the account id is known) and marks the windows
 * before creation or beyond retention as skipped. Call once, after the
 * groups are added. CWX_ETOOBIG, with nothing allocated, when the jobs
 * would be more than cwx_plan_max_jobs. */
int cwx_plan_expand(struct cwx_plan *plan);

/* Like cwx_plan_expand, but makes no job: it sets every group's first_job
 * and n_jobs, and plan->n_jobs, and leaves plan->jobs NULL; cwx_plan_job
 * then makes each job when it is asked for, so that the memory of the plan
 * does not grow with its jobs (plan --offline streams its report so). A
 * lazy plan is read-only: for the plans that AWS never changes. It checks
 * the first window of every group for a valid data prefix and task name,
 * so that a report fails before it writes a row. CWX_ETOOBIG, with nothing
 * allocated, when the jobs would be more than cwx_plan_max_jobs. */
int cwx_plan_expand_lazy(struct cwx_plan *plan);

/* Job j of the plan (j < plan->n_jobs): &plan->jobs[j], or in a lazy plan
 * job j made into *tmp, with its task name when `named` (the task name
 * costs a SHA-256; estimates do not need it) and "" otherwise. tmp is
 * returned and stays valid until the caller reuses it. A lazy plan keeps a
 * hint of the last group asked for, so a lazy plan must not be read from
 * two threads at once; reading its jobs in order is the fast path. */
const struct cwx_job *cwx_plan_job(const struct cwx_plan *plan, size_t j,
                                   struct cwx_job *tmp, int named);

/* The config's max_jobs (CWX_MAX_JOBS_DEFAULT when unset). */
size_t cwx_plan_max_jobs(const struct cwx_config *cfg);
/* The jobs the groups added so far make (what cwx_plan_expand would make). */
uint64_t cwx_plan_job_count(const struct cwx_plan *plan);

/* Accessors. */
const struct cwx_plan_group *cwx_plan_job_group(const struct cwx_plan *plan,
                                                const struct cwx_job *job);
const struct cwx_window *cwx_plan_job_window(const struct cwx_plan *plan,
                                             const struct cwx_job *job);
const struct cwx_account *cwx_plan_job_account(const struct cwx_plan *plan,
                                               const struct cwx_job *job);
const struct cwx_group_sel *cwx_plan_job_sel(const struct cwx_plan *plan,
                                             const struct cwx_job *job);
const struct cwx_plan_target *cwx_plan_job_target(const struct cwx_plan *plan,
                                                  const struct cwx_job *job);

/* Appends the job's expanded destination prefix to out. CWX_ENOTFOUND when
 * the template needs the account id and it is not known yet. */
int cwx_plan_job_prefix(const struct cwx_plan *plan, const struct cwx_job *job,
                        struct cwx_buf *out);
/* Appends the job's marker key to out (needs the account id). */
int cwx_plan_job_marker_key(const struct cwx_plan *plan,
                            const struct cwx_job *job, struct cwx_buf *out);
/* Fills the job's identity; `prefix` must hold the expanded prefix. */
void cwx_plan_job_identity(const struct cwx_plan *plan, const struct cwx_job *job,
                           const char *prefix, struct cwx_job_identity *out);

/* ---- fewest tasks (planner/fewest.c) ---- */

/* Records the event intervals of group gi (copied, then sorted and merged;
 * intervals with to < from are dropped) and marks the group's events as
 * known. n 0 means the group has no events at all. */
int cwx_plan_set_events(struct cwx_plan *plan, uint32_t gi,
                        const struct cwx_plan_interval *iv, size_t n);
/* Milliseconds of [lo, hi) that the group's event intervals touch (an
 * interval [a, b] counts as [a, b + 1)). 0 when the events are unknown. */
int64_t cwx_plan_events_overlap(const struct cwx_plan_group *g, int64_t lo, int64_t hi);
/* Marks each pending, uncovered job of group gi whose window no event
 * interval touches as skipped with CWX_REASON_NO_EVENTS. Needs the group's
 * events known (else does nothing). Returns the number of jobs skipped. */
size_t cwx_plan_skip_no_events(struct cwx_plan *plan, uint32_t gi);

/* The last window a job's task covers (its own unless it heads a range). */
uint32_t cwx_plan_job_last(const struct cwx_plan *plan, const struct cwx_job *job);
/* The job whose task covers job: job itself, or the head of its range. */
const struct cwx_job *cwx_plan_job_head(const struct cwx_plan *plan, const struct cwx_job *job);
/* Merges consecutive pending windows of group gi into ranges under the
 * group's coalesce settings (max_windows, max_bytes of estimated bytes);
 * no_events windows between two pending ones are covered too. Only groups
 * with a known storedBytes are coalesced. Renames each head's task after
 * its range. Returns 0 or CWX_E*. */
int cwx_plan_coalesce(struct cwx_plan *plan, uint32_t gi);
/* Undoes group gi's ranges that cover window wi's job (after a coalesced
 * task FAILED): the head's range is split in two halves, each named after
 * its own range. Returns 0 or CWX_E*. */
int cwx_plan_split(struct cwx_plan *plan, uint32_t head_job);

/* What skip_empty and coalesce save, per lane of an estimate: export tasks
 * and the backfill time of the windows still to export, [0] one task per
 * window (neither), [1] without the no_events windows (skip_empty), [2] as
 * planned (skip_empty and coalesce). */
struct cwx_estimate;
struct cwx_plan_savings {
    uint64_t tasks[3];
    int64_t backfill_ms[3];
};
/* Fills out[l] for each lane l of est (est->n_lanes entries). */
void cwx_plan_savings(const struct cwx_plan *plan, const struct cwx_estimate *est,
                      struct cwx_plan_savings *out);

/* Counts per status. */
struct cwx_plan_totals {
    size_t jobs, pending, done, running, skipped, failed;
    size_t tasks; /* export tasks the pending and running windows need */
    size_t no_events; /* skipped windows without events (uncovered) */
};
void cwx_plan_totals(const struct cwx_plan *plan, struct cwx_plan_totals *out);

#endif
