/* One export job's life as an explicit state machine (docs/architecture.md §job):
 *
 *   CHECK ──marker (or data, detect: objects) present──────────────▶ DONE
 *     │ absent;  a COMPLETED task of the job's name found ──────────▶ VERIFY
 *     ▼
 *     │ (the lane holds the job until the export slot is its own)
 *   READY ─────────────────────────────────▶ CREATE when the lane says so
 *     ▼
 *   CREATE ──LimitExceededException──▶ BLOCKED (the lane decides: adopt a
 *     │ taskId                          task, or create again later)
 *     │ no answer (reset, timeout, unreadable): the job's task name among
 *     │ the active tasks (found: WAIT on it), then among the COMPLETED ones
 *     │ (found: VERIFY), else CREATE again
 *     ▼
 *   WAIT ◀──PENDING/RUNNING── poll (DescribeExportTasks by taskId)
 *     │ COMPLETED                   │ FAILED            │ CANCELLED
 *     ▼                             ▼                   ▼
 *   VERIFY (list <prefix>/<taskId>/) BACKOFF → CREATE    FAILED (reason)
 *     ▼                             (max_attempts → FAILED)
 *   MARK (PutObject of the marker JSON)
 *     ▼
 *   DONE
 *
 * A call that fails transiently (throttled, 5xx or no answer on every one
 * of its own attempts) redoes its step after a growing delay
 * (spec.patience); after CWX_PATIENCE_TRIES such failures in a row the job ends as "unavailable" and its window stays
 * pending.
 *
 * Every AWS call and every timer goes through a small table of operations
 * (struct cwx_worker_ops), so the machine runs on libuv + AWS in cwexport
 * and on a scripted fake in the unit tests. */
#ifndef CWX_WORKERS_WORKERS_H
#define CWX_WORKERS_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aws/aws.h"
#include "common/buf.h"
#include "planner/planner.h"

struct cwx_aws_client;

/* How long to wait before trying again a call that failed transiently
 * (after its own attempts), in a job step or a phase before the lanes: the
 * smaller of 1 s and poll.min, doubling up to the smaller of 60 s and
 * 4 × poll.max; after CWX_PATIENCE_TRIES failures in a row the caller gives
 * up. */
#define CWX_PATIENCE_TRIES 9
struct cwx_patience {
    uint64_t min_ms, max_ms;
};
struct cwx_patience cwx_patience_of(const struct cwx_settings *st);
/* The delay before retry n (1 = after the first failure). */
uint64_t cwx_patience_delay(const struct cwx_patience *p, int n);

enum cwx_work_state {
    CWX_WORK_INIT = 0,
    CWX_WORK_CHECK,   /* is the window already done? */
    CWX_WORK_READY,   /* checked, not done: waiting for the lane's token */
    CWX_WORK_CREATE,  /* CreateExportTask in flight */
    CWX_WORK_BLOCKED, /* slot busy: waiting for the lane's decision */
    CWX_WORK_WAIT,    /* a task is active: polling it */
    CWX_WORK_VERIFY,  /* COMPLETED: listing what it wrote */
    CWX_WORK_MARK,    /* writing the marker */
    CWX_WORK_BACKOFF, /* the task FAILED: waiting before the next attempt */
    CWX_WORK_DONE,    /* terminal: the window is done */
    CWX_WORK_FAILED,  /* terminal: the window failed (reason says why) */
    CWX_WORK_STOPPED, /* terminal: interrupted; the job is left for next run */
};
const char *cwx_work_state_name(enum cwx_work_state s);
/* 1 for DONE, FAILED and STOPPED. */
int cwx_work_state_is_final(enum cwx_work_state s);

/* What the worker is given about its job. Every string is copied by
 * cwx_worker_new; NULL optional strings stay NULL. */
struct cwx_work_spec {
    const char *account;           /* the config's account name */
    const char *account_id;
    const char *region;
    const char *log_group;
    const char *log_stream_prefix; /* NULL = every stream */
    const char *window;            /* the window's label, "2024-03" */
    int64_t from_ms, to_ms;        /* CreateExportTask from/to */
    const char *bucket;
    const char *prefix;            /* the expanded data prefix */
    const char *marker_key;
    const char *task_name;         /* cwexport-<16 hex> */
    enum cwx_detect detect;
    int max_attempts;              /* FAILED tasks retried up to this */
    int prior_attempts;            /* creates already made (this run) */
    int64_t estimated_bytes;       /* -1 unknown */
    uint64_t backoff_min_ms;       /* first retry delay after a FAILED task */
    uint64_t backoff_max_ms;
    struct cwx_patience patience;  /* redoing a step whose call failed
                                      transiently; zeros: 1 s doubling to 60 s */
    uint32_t job;                  /* the plan's job index (opaque here) */
    /* A range (coalesce): the task covers n_windows windows, from_ms/to_ms
     * span them, and one marker per window is written after the export is
     * verified: marker_keys[i] for windows[i]. windows[0] and
     * marker_keys[0] must equal `window` and `marker_key` (the head's);
     * the head's marker is written last, so that a head marker present
     * means the whole range is marked. A range task that ends FAILED ends
     * the worker at once (FAILED, reason CWX_WR_SPLIT) without counting an
     * attempt: the owner splits the range. n_windows 0 or 1: one window. */
    const char *const *windows;
    const char *const *marker_keys;
    size_t n_windows;
};

/* What one operation learned. Only the fields of that operation are set. */
struct cwx_work_result {
    int exists;                  /* marker_exists, data_exists */
    char task_id[64];            /* create_task, describe_task */
    enum cwx_export_status task_status; /* describe_task */
    char task_message[256];      /* describe_task: the status message */
    int64_t creation_ms;         /* describe_task */
    int64_t completion_ms;       /* describe_task; 0 while active */
    uint64_t objects, bytes;     /* list_export: data files and their bytes */
    int write_test;              /* list_export: aws-logs-write-test seen */
    char detail[320];            /* failures: the AWS error, formatted */
};

struct cwx_worker;

/* may_create's answer "not yet": the worker waits in READY. */
#define CWX_WORK_HOLD 1

/* Called exactly once for each operation that started (returned 0), later,
 * never from inside the starting call. status is 0 or a CWX_E* code; res is
 * never NULL (zeroed fields when not set). */
typedef void cwx_work_op_fn(int status, const struct cwx_work_result *res, void *ud);

/* The world as the worker sees it. Each starting function returns 0 (cb will
 * run exactly once) or a CWX_E* code (cb will not run). `ctx` is the table's
 * owner; `w` is passed so the owner can read cwx_worker_spec(w). */
struct cwx_worker_ops {
    /* HeadObject of the marker: res->exists. */
    int (*marker_exists)(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud);
    /* detect: objects — is there a data object (not aws-logs-write-test)
     * under the data prefix? res->exists. */
    int (*data_exists)(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud);
    /* Optional (NULL: skipped). Looks among the account's most recent
     * COMPLETED tasks for one named like the job (another process may have
     * exported the window and not marked it yet): res->exists, and then
     * res->task_id, creation_ms, completion_ms. */
    int (*completed_task)(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud);
    /* Optional (NULL: skipped). Looks among the account's active (PENDING,
     * then RUNNING) tasks for one named like the job: res->exists, and then
     * res->task_id, task_status, creation_ms. Asked after a CreateExportTask
     * whose answer was lost, before looking among COMPLETED tasks. */
    int (*active_task)(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud);
    /* CreateExportTask with the spec: res->task_id; CWX_ESLOTBUSY when the
     * export slot is taken. */
    int (*create_task)(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud);
    /* DescribeExportTasks by task id: res->task_status, times, message;
     * CWX_ENOTFOUND when AWS does not know the task. */
    int (*describe_task)(void *ctx, struct cwx_worker *w, const char *task_id,
                         cwx_work_op_fn *cb, void *ud);
    /* Lists <prefix>/<task_id>/: res->objects, res->bytes. */
    int (*list_export)(void *ctx, struct cwx_worker *w, const char *task_id,
                       cwx_work_op_fn *cb, void *ud);
    /* PutObject of the marker (body is borrowed during this call only). */
    int (*put_marker)(void *ctx, struct cwx_worker *w, const char *body, size_t len,
                      cwx_work_op_fn *cb, void *ud);
    /* One-shot timer; at most one per worker at a time. stop_timer cancels
     * it (its cb then never runs). */
    int (*start_timer)(void *ctx, struct cwx_worker *w, uint64_t delay_ms,
                       cwx_work_op_fn *cb, void *ud);
    void (*stop_timer)(void *ctx, struct cwx_worker *w);
    /* Epoch ms. */
    int64_t (*now_ms)(void *ctx);
    /* How long to wait before the next poll of the worker's task
     * (cwx_worker_polls(w) polls made so far, task creation time known). */
    uint64_t (*poll_delay_ms)(void *ctx, struct cwx_worker *w);
};

/* What the worker tells its owner. Any hook may be NULL except on_final. */
struct cwx_worker_hooks {
    /* Every state change, before the new state's work starts. */
    void (*on_transition)(struct cwx_worker *w, enum cwx_work_state from,
                          enum cwx_work_state to, void *ud);
    /* Asked before every CreateExportTask: return 0 to go on,
     * CWX_WORK_HOLD to wait in READY until the owner calls
     * cwx_worker_create_again (the export slot is not the job's yet), or a
     * CWX_E* code (CWX_ELOOPGUARD) and the worker fails with it. */
    int (*may_create)(struct cwx_worker *w, void *ud);
    /* Called after a create call returned (ok or slot busy): counts calls. */
    void (*on_create)(struct cwx_worker *w, int status, void *ud);
    /* The worker entered BLOCKED (CreateExportTask said slot busy). The
     * owner later calls cwx_worker_adopt or cwx_worker_create_again. */
    void (*on_slot_busy)(struct cwx_worker *w, void *ud);
    /* A poll saw the task's state (observed throughput and progress). */
    void (*on_poll)(struct cwx_worker *w, const struct cwx_work_result *res, void *ud);
    /* The worker reached DONE, FAILED or STOPPED. Called last in a
     * dispatch: the owner may free the worker inside it. */
    void (*on_final)(struct cwx_worker *w, void *ud);
};

/* Creates a worker for spec (copied). The worker does nothing until started.
 * Returns 0 or CWX_ENOMEM/CWX_EINVAL. */
int cwx_worker_new(const struct cwx_work_spec *spec, const struct cwx_worker_ops *ops,
                   void *ops_ctx, const struct cwx_worker_hooks *hooks, void *hooks_ud,
                   struct cwx_worker **out);
/* Frees a worker that is final, or idle (not started, READY, BLOCKED, or waiting on
 * a timer: the timer is stopped). Never while an operation is in flight:
 * see cwx_worker_interrupt. */
void cwx_worker_free(struct cwx_worker *w);

/* Starting points. Each starts the first operation and returns 0, or a
 * CWX_E* code when it could not start (the worker is then FAILED and
 * on_final is NOT called: the caller knows). */
int cwx_worker_start(struct cwx_worker *w);                       /* CHECK */
int cwx_worker_start_create(struct cwx_worker *w);                /* CREATE, no check */
int cwx_worker_start_wait(struct cwx_worker *w, const char *task_id,
                          int64_t creation_ms);                   /* adopt at start */
int cwx_worker_start_verify(struct cwx_worker *w, const char *task_id,
                            int64_t creation_ms, int64_t completion_ms); /* completed */

/* From BLOCKED: adopt the active task task_id (ours by name) and wait on it. */
int cwx_worker_adopt(struct cwx_worker *w, const char *task_id, int64_t creation_ms);
/* From BLOCKED or READY: try CreateExportTask (again) now. */
int cwx_worker_create_again(struct cwx_worker *w);
/* From BLOCKED or READY, after a wait: CHECK again (the marker, then the
 * account's recent COMPLETED tasks for the job's name), then create. Another
 * process may have exported the window while this one waited; a create is
 * not idempotent. Returns as cwx_worker_create_again. */
int cwx_worker_recheck(struct cwx_worker *w);

/* Stops the worker at the next safe point: returns 1 when it was idle (the
 * caller may free it now; on_final is not called), 0 when an operation is in
 * flight (on_final with STOPPED follows when it returns — unless the
 * operation's answer makes the job DONE or FAILED first). */
int cwx_worker_interrupt(struct cwx_worker *w);

/* Accessors. */
const struct cwx_work_spec *cwx_worker_spec(const struct cwx_worker *w);
enum cwx_work_state cwx_worker_state(const struct cwx_worker *w);
const char *cwx_worker_task_id(const struct cwx_worker *w); /* "" when none */
enum cwx_export_status cwx_worker_task_status(const struct cwx_worker *w);
int64_t cwx_worker_task_creation_ms(const struct cwx_worker *w); /* 0 unknown */
int64_t cwx_worker_task_completion_ms(const struct cwx_worker *w);
int cwx_worker_polls(const struct cwx_worker *w);     /* polls of the current task */
int cwx_worker_attempts(const struct cwx_worker *w);  /* creates that made a task */
int cwx_worker_retries(const struct cwx_worker *w);   /* FAILED tasks retried */
/* Steps redone after a call failed transiently (throttled, 5xx, no answer
 * on every attempt of the call). */
int cwx_worker_step_retries(const struct cwx_worker *w);
uint64_t cwx_worker_objects(const struct cwx_worker *w);
uint64_t cwx_worker_bytes(const struct cwx_worker *w);
/* Why a worker ended as it did. */
enum cwx_work_reason {
    CWX_WR_NONE = 0,
    CWX_WR_MARKER,      /* DONE: marker present */
    CWX_WR_OBJECTS,     /* DONE: data objects present (detect: objects) */
    CWX_WR_EXPORTED,    /* DONE: exported and marked */
    CWX_WR_EMPTY,       /* DONE: exported, nothing in the window */
    CWX_WR_ATTEMPTS,    /* FAILED: every attempt's task FAILED */
    CWX_WR_CANCELLED,   /* FAILED: the task was cancelled by someone else */
    CWX_WR_ERROR,       /* FAILED: an AWS error (error/detail say) */
    CWX_WR_DENIED,      /* FAILED: credentials or permission */
    CWX_WR_LOOP_GUARD,  /* FAILED: the loop guard refused a create */
    CWX_WR_UNAVAILABLE, /* FAILED: AWS kept failing transiently, or its
                           certificate does not verify; the window is not
                           at fault (it stays pending) */
    CWX_WR_INTERRUPTED, /* STOPPED */
    CWX_WR_SPLIT,       /* FAILED: a range's task FAILED; split the range
                           and export each half (no attempt counted) */
};
const char *cwx_work_reason_name(enum cwx_work_reason r);
enum cwx_work_reason cwx_worker_reason(const struct cwx_worker *w);
/* The CWX_E* error behind a FAILED worker (0 otherwise). */
int cwx_worker_error(const struct cwx_worker *w);
/* A one-line human explanation of a FAILED or STOPPED worker ("" when
 * none), e.g. "task FAILED 3 times: Export task failed" or
 * "s3:PutObject denied: AccessDenied: …". */
const char *cwx_worker_detail(const struct cwx_worker *w);
/* The IAM permission the failing step needed ("logs:CreateExportTask"), or
 * NULL. */
const char *cwx_worker_permission(const struct cwx_worker *w);
/* Caller's slot: the owner may hang its own pointer on the worker. */
void cwx_worker_set_data(struct cwx_worker *w, void *data);
void *cwx_worker_data(const struct cwx_worker *w);
/* A slot for the operations table's own per-worker state (its timer). */
void **cwx_worker_ops_slot(struct cwx_worker *w);

/* Builds the marker document of a finished export (docs/architecture.md §marker) into out
 * (appended): job identity, task id and name, from/to, data prefix, object
 * count and bytes, task creation and completion times, marking time and
 * CWX_VERSION. For a range (spec->n_windows > 1) the marker of spec->window
 * also names the range ("range": {"from", "to", "windows"}); from/to,
 * objects and bytes are the range's task's. */
int cwx_marker_build(const struct cwx_work_spec *spec, const char *task_id,
                     int64_t creation_ms, int64_t completion_ms, uint64_t objects,
                     uint64_t bytes, int64_t marked_ms, struct cwx_buf *out);

/* The operations on AWS: an implementation of struct cwx_worker_ops whose
 * calls go through the per-target clients the resolver supplies. Timers are
 * uv timers on loop; one per worker, allocated on demand. */
struct cwx_worker_aws;
/* Returns the client to use for (account_id, region) of w (never NULL for a
 * worker the owner started). */
typedef struct cwx_aws_client *cwx_worker_client_fn(struct cwx_worker *w, void *ud);
typedef uint64_t cwx_worker_poll_fn(struct cwx_worker *w, void *ud);

int cwx_worker_aws_new(uv_loop_t *loop, cwx_worker_client_fn *client_of,
                       cwx_worker_poll_fn *poll_delay, void *ud,
                       struct cwx_worker_aws **out);
/* Frees the table. Every worker using it must be freed first; closes the
 * timers it holds (run the loop afterwards). */
void cwx_worker_aws_free(struct cwx_worker_aws *wa);
const struct cwx_worker_ops *cwx_worker_aws_ops(void);

#endif
