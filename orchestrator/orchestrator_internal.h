/* Inside the orchestrator: the pure parts (polling policy, throughput model,
 * loop guard, queue order, a string index) that the unit tests drive
 * directly, and what its files share. */
#ifndef CWX_ORCHESTRATOR_ORCHESTRATOR_INTERNAL_H
#define CWX_ORCHESTRATOR_ORCHESTRATOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "orchestrator/lane.h"
#include "orchestrator/lease_internal.h"
#include "orchestrator/orchestrator.h"
#include "planner/planner.h"

/* ---- polling policy and the lane time model ----------------------------- */

/* Both live in planner/lane_model.h, so that a plan replays the very
 * schedule a run polls with; orchestrator/model.c reads and writes the
 * lanes' models (docs/plan.md, "The lane time model"). */

/* ---- loop guard (guard.c) ------------------------------------------------ */

struct cwx_guard {
    int max_per_job;   /* tasks created per job (the largest account's, for reports) */
    int max_per_run;   /* CreateExportTask calls per run (defaults.loop_guard) */
    int run_calls;
    int tripped;       /* the run's cap or a contradiction: every lane stops */
    int lanes_tripped; /* lanes stopped by their own caps */
    char why[256];     /* the last trip's reason */
};

/* A lane's own caps: its account's loop_guard (docs/architecture.md §loop-guard). */
struct cwx_guard_lane {
    int max_per_job;   /* tasks created per job of this lane */
    int max_per_run;   /* CreateExportTask calls of this lane in this run */
    int calls;
    int tripped;
};

void cwx__guard_init(struct cwx_guard *g, int max_per_job, int max_per_run);
void cwx__guard_lane_init(struct cwx_guard_lane *l, int max_per_job, int max_per_run);
/* Asked before each CreateExportTask of job (its status and attempts as the
 * plan records them) in lane l (NULL: the run's caps only). Returns 0, or
 * CWX_ELOOPGUARD and trips (why says which rule): the job is already done
 * (a contradiction: it was planned again) or the run's cap is reached — the
 * whole run trips; the lane's cap or the job's cap is reached — the lane
 * trips (without a lane, the run). */
int cwx__guard_check(struct cwx_guard *g, struct cwx_guard_lane *l, const struct cwx_job *job,
                     const char *what);
/* Counts one CreateExportTask call (made == 1 when it made a task). */
void cwx__guard_count(struct cwx_guard *g, struct cwx_guard_lane *l, struct cwx_job *job,
                      int made);

/* ---- queue order (queue.c) ----------------------------------------------- */

/* Sorts job indices: oldest window first (start), then plan group order,
 * then window index. */
void cwx__queue_sort(const struct cwx_plan *plan, uint32_t *jobs, size_t n);

/* ---- string index (queue.c) ---------------------------------------------- */

/* Open addressing from a string key (borrowed, must outlive the index) and
 * a 32-bit tag to a uint32 value. */
struct cwx_index {
    struct cwx_index_slot {
        const char *key;
        uint32_t tag;
        uint32_t value;
    } *slots;
    size_t cap, n;
};
int cwx__index_put(struct cwx_index *ix, const char *key, uint32_t tag, uint32_t value);
/* Returns 1 and *value when found. */
int cwx__index_get(const struct cwx_index *ix, const char *key, size_t key_len, uint32_t tag,
                   uint32_t *value);
void cwx__index_free(struct cwx_index *ix);

/* ---- the run (run.c, lane.c, report.c) ------------------------------------ */

struct cwx_worker;
struct cwx_worker_aws;
struct cwx_worker_ops;

/* A lane's states (docs/architecture.md §lane). lane.c holds the one
 * function per state and cwx__lane_enter, the only place the state
 * changes; the lane's timer runs only in FOREIGN, RETRY and PAUSED, and
 * what it does when it fires follows from the state. */
enum cwx_lane_state {
    CWX_LANE_IDLE = 0, /* no job holds the token: the next one takes it */
    CWX_LANE_WORKING,  /* a job holds the token (its create, its task) */
    CWX_LANE_LISTING,  /* slot busy: listing the active tasks */
    CWX_LANE_FOREIGN,  /* a foreign task holds the slot: polling it (timer) */
    CWX_LANE_RETRY,    /* slot busy, no holder found: create again (timer) */
    CWX_LANE_PAUSED,   /* AWS kept failing: waiting before going on (timer) */
    CWX_LANE_LEASE,    /* waiting for the lane's lease (another runner
                          drives the lane, or it is being acquired) */
    CWX_LANE_HALTING,  /* no new work (stopping, stopped, fenced): waiting
                          for the jobs still going to end */
    CWX_LANE_FINISHED, /* nothing left, or stopped (the lease is released) */
};
#define CWX_LANE_STATES (CWX_LANE_FINISHED + 1)
const char *cwx__lane_state_name(enum cwx_lane_state s);

struct cwx_lane_job;

/* A job found in AWS that the lane must take up before its queue. */
struct cwx_lane_prelude {
    uint32_t job;
    int completed; /* 1: verify and mark; 0: adopt and wait */
    char task_id[64];
    int64_t creation_ms, completion_ms;
};

/* One account lane: one export token (account, or account+region). */
struct cwx_lane {
    struct cwx_run *run;
    uint32_t idx;
    uint32_t account;
    int32_t target;            /* the target for token_scope region; -1: every region */
    char name[160];            /* "prod" or "prod/us-east-1" */
    uint32_t *queue;           /* pending jobs, queue order */
    size_t n_queue, head;
    struct cwx_lane_prelude *prelude;
    size_t n_prelude, prelude_head;
    int64_t requeue;           /* a job put back before the queue; -1 none */
    /* The token (docs/architecture.md §token): `active` holds it from its CreateExportTask
     * until the task ends. `next` is the following job, checked while
     * `active` runs and READY, so that its create starts the moment the token
     * is free. `finishing` are jobs whose task is COMPLETED: they verify and
     * mark without the token, concurrently with the next job's task. */
    struct cwx_worker *active;
    struct cwx_worker *next;
    struct cwx_worker **finishing;
    size_t n_finishing, cap_finishing;
    /* Workers that reached their end (or were stopped idle), settled by
     * the next step from the loop, never inside the caller's stack. */
    struct cwx_lane_job *ended;
    enum cwx_lane_state state;
    /* Slot busy. */
    int listing_pending;
    int listing_error;
    char ours_task[64];        /* the blocked job's own task, found listing */
    int64_t ours_creation;
    int64_t other_job;         /* another job of ours found active; -1 none */
    char other_task[64];
    int64_t other_creation;
    struct cwx_foreign_task foreign; /* valid in CWX_LANE_FOREIGN */
    int foreign_polls;
    int busy_creates;          /* slot-busy answers for the blocked job */
    uv_timer_t timer;          /* FOREIGN, RETRY and PAUSED (the AWS ops) */
    uv_idle_t soon;            /* the deferred step (the AWS ops) */
    int timer_init;            /* timer and soon initialised (closed at shutdown) */
    int step_due;              /* a step is deferred already */
    /* The lane lease (docs/architecture.md §lane-lease); lease_on is 0 with
     * `lease: off`. */
    int lease_on;
    struct cwx_lease lease;
    struct cwx_lease_s3 lease_s3;
    int lease_fresh;           /* the renew asked for the next create succeeded */
    int fenced;                /* the lease was lost: halt, then wait for it */
    int finished_told;         /* run->lane_over was called */
    struct cwx_lane_model model; /* the time model: remembered, then learnt */
    int64_t model_tasks_read;  /* model.tasks as read at start (0: none) */
    int64_t model_saved_tasks; /* model.tasks at the last write */
    int64_t model_tried_tasks; /* model.tasks at the last write started */
    int model_writing;         /* a write of this lane's model is in flight */
    struct cwx_guard_lane guard; /* the account's loop_guard caps */
    /* Counters. */
    uint64_t total, done, exported, empty, marked, failed, skipped, stopped_jobs;
    uint64_t objects, bytes, retries, creates, slot_busy, adopted, foreign_waits;
    uint64_t step_retries;     /* job steps redone after a transient failure */
    int pauses;                /* in a row: AWS unavailable, no job done since */
    int64_t pause_until_ms;    /* CWX_LANE_PAUSED: when the pause ends */
    uint64_t pauses_total;
    int64_t started_ms, finished_ms;
    int64_t last_end_ms;       /* completion of the lane's last task */
    double gap_sum_ms, gap_max_ms;
    uint64_t gaps;
    int64_t task_ms;           /* sum of the durations of tasks seen */
    int stopped;               /* stopped by an error or the loop guard */
    int stop_error;            /* CWX_EDENIED, CWX_ECRED, CWX_ELOOPGUARD … */
    char stop_reason[400];
};

/* A failed window, for the summary and notifications. */
struct cwx_failure {
    uint32_t job;
    char reason[24];
    char detail[400];
};

struct cwx_run {
    uv_loop_t loop;
    const struct cwx_run_options *opts;
    const struct cwx_config *cfg;
    struct cwx_plan *plan;
    struct cwx_session *session;
    struct cwx_worker_aws *wa;
    /* The lanes' operations (lane_aws.c on AWS; the unit tests script
     * their own) and what the run does when a lane is over. */
    const struct cwx_lane_ops *lane_ops;
    void *lane_ctx;
    const struct cwx_worker_ops *worker_ops;
    void *worker_ctx;
    void (*lane_over)(struct cwx_run *run, struct cwx_lane *lane);
    struct cwx_resolve_result resolved;
    struct cwx_reconcile_result rec;
    struct cwx_lane *lanes;
    size_t n_lanes;
    uint32_t *lane_of_target;
    struct cwx_index task_index; /* task name → job */
    uint32_t *lane_of_job;       /* per job */
    struct cwx_guard guard;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t tick;
    int signals;
    int stopping;                /* first signal: no new tasks */
    int aborting;                /* second signal: stop everything now */
    int finishing;
    int lanes_open;
    int notify_pending;
    struct cwx_failure *failures;
    size_t n_failures, cap_failures;
    FILE *events;
    int live;                    /* live progress on a terminal */
    int json_progress;
    int live_lines;              /* lines drawn last time */
    int64_t started_ms, finished_ms, last_json_ms;
    uint64_t api_calls;
    char host[256];              /* this runner: host name, pid, random id */
    char runner_id[40];
    int lanes_started;           /* the lanes run (after their models were read) */
    int models_inflight;         /* model reads or writes in flight */
    void (*models_done)(struct cwx_run *run); /* called when they reach 0 */
    int exit_code;
    char nothing_msg[200];
};

/* model.c: the lanes' remembered time models. */
/* Reads the model of every lane (its targets' _model.json; the one with the
 * most tasks wins); a missing one is no model, a corrupt or foreign one is
 * ignored with one warning. Returns 0 and calls done once every read has
 * answered, or 1 when nothing was read (done is not called). */
int cwx__models_read(struct cwx_run *run, void (*done)(struct cwx_run *run));
/* Writes the model of every lane that learnt from a task in this run, to
 * each of its targets that had jobs. Returns 0 and calls done once every
 * write (and any earlier one still in flight) has answered, or 1 when
 * nothing is left to wait for (done is not called). */
int cwx__models_write(struct cwx_run *run, void (*done)(struct cwx_run *run));
/* A task of the lane ended after duration_ms, seen after `polls` polls;
 * est_bytes its estimate. Every CWX__MODEL_SAVE_EVERY tasks the model is
 * written (long runs). */
void cwx__model_task_ended(struct cwx_lane *lane, int64_t est_bytes, int64_t duration_ms,
                           int polls);
#define CWX__MODEL_SAVE_EVERY 50

/* report.c */
void cwx__report_transition(struct cwx_run *run, struct cwx_lane *lane, struct cwx_worker *w,
                            int from, int to);
void cwx__report_progress(struct cwx_run *run, int force);
void cwx__report_progress_end(struct cwx_run *run);
int cwx__report_summary(struct cwx_run *run);
/* Writes --metrics (when set) from the summary. Returns 0 or a CWX_E* code
 * with why. */
int cwx__report_metrics(struct cwx_run *run, char *why, size_t why_size);

/* metrics.c: the summary (as s_summary builds it, a cJSON *) as Prometheus
 * text exposition. finished_s and last_success_s are Unix times. */
struct cwx_buf;
struct cJSON;
int cwx__metrics_render(const struct cJSON *summary, double finished_s, double last_success_s,
                        struct cwx_buf *out);
/* Renders and replaces path atomically; the last success time is this
 * run's when its exit code is 0, else the one path holds. */
int cwx__metrics_write(const char *path, const struct cJSON *summary, double finished_s, char *why,
                       size_t why_size);
/* Publishes to SNS when configured for what happened; calls done when the
 * publish ended (or at once, returning 0, when there is nothing to send). */
int cwx__report_notify(struct cwx_run *run, void (*done)(struct cwx_run *run));
void cwx__report_failure(struct cwx_run *run, uint32_t job, const char *reason,
                         const char *detail);

/* ---- the session (session.c) --------------------------------------------- */

/* Sets the account that must own target's bucket on the target's client:
 * the destination's expected_bucket_owner, else the target's account id
 * once it is known (docs/trust.md). */
void cwx__session_owner(struct cwx_session *s, uint32_t target);
/* Calls fn(ud) once from the loop, never inside this call. Returns 0, or
 * CWX_ENOMEM (fn is never called). */
int cwx__session_soon(struct cwx_session *s, void (*fn)(void *ud), void *ud);

struct cwx_aws_error;
/* Why a call failed, for a message: the AWS error formatted into buf, else
 * status's own message. */
const char *cwx__why(int status, const struct cwx_aws_error *err, char *buf, size_t size);

/* The accounts that gave up during resolving or reconciling: errors[a] is
 * 0 or the CWX_E* code, details[a] one line (owned) or NULL. _new makes
 * both arrays for n accounts (0 or CWX_ENOMEM, nothing made); _free frees
 * them. */
int cwx__account_errors_new(size_t n, int **errors, char ***details);
void cwx__account_errors_free(size_t n, int *errors, char **details);
/* Records that account gives up (status, a copy of detail) and logs
 * "<who>: <detail>". */
void cwx__account_gives_up(int *errors, char **details, uint32_t account, int status,
                           const char *detail, const char *who);

/* ---- tasks found in AWS (reconcile.c) ------------------------------------ */

struct cwx_logs_export_task;
/* Fills f from t, a task of target that is not ours. */
void cwx__foreign_task_set(struct cwx_foreign_task *f, uint32_t target,
                           const struct cwx_logs_export_task *t);

/* ---- small shared helpers ------------------------------------------------- */

int64_t cwx__now_ms(void);
/* "2024-03-01T00:00:00Z" */
void cwx__iso(int64_t ms, char *out, size_t size);
/* The expanded data prefix and marker key of a job (appended to out). */
int cwx__job_strings(const struct cwx_plan *plan, const struct cwx_job *job,
                     struct cwx_buf *prefix, struct cwx_buf *marker);
/* Estimated bytes of a job: its group's storedBytes spread over the span
 * its data covers (creation or retention horizon to now), times the part
 * of it the job's window overlaps; -1 unknown. */
int64_t cwx__job_estimated_bytes(const struct cwx_plan *plan, const struct cwx_job *job);

#endif
