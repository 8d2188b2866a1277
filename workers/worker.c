/* One export job's state machine, its steps and starting points (see
 * workers.h for the diagram; the object itself is made in worker_object.c). */
#include "workers/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "workers/workers_internal.h"

typedef int s_step_fn(struct cwx_worker *w);

/* ---- transitions --------------------------------------------------------- */

static void s_set_state(struct cwx_worker *w, enum cwx_work_state to)
{
    enum cwx_work_state from = w->state;
    w->state = to;
    if (w->hooks.on_transition && from != to)
        w->hooks.on_transition(w, from, to, w->hooks_ud);
}

/* Enters a final state and tells the owner; the worker may be freed by the
 * time this returns, so callers return at once. */
static void s_finish(struct cwx_worker *w, enum cwx_work_state state,
                     enum cwx_work_reason reason)
{
    w->reason = reason;
    s_set_state(w, state);
    w->hooks.on_final(w, w->hooks_ud);
}

static void s_fail(struct cwx_worker *w, enum cwx_work_reason reason, int error,
                   const char *permission, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void s_fail(struct cwx_worker *w, enum cwx_work_reason reason, int error,
                   const char *permission, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->detail, sizeof(w->detail), fmt, ap);
    va_end(ap);
    w->error = error;
    w->permission = permission;
    s_finish(w, CWX_WORK_FAILED, reason);
}

static void s_stop(struct cwx_worker *w)
{
    if (!w->detail[0])
        snprintf(w->detail, sizeof(w->detail), "interrupted in state %s",
                 cwx_work_state_name(w->state));
    s_finish(w, CWX_WORK_STOPPED, CWX_WR_INTERRUPTED);
}

static int s_do_check(struct cwx_worker *w);
static int s_do_data_check(struct cwx_worker *w);
static int s_do_completed_check(struct cwx_worker *w);
static int s_do_lost_check(struct cwx_worker *w);
static int s_do_create(struct cwx_worker *w);
static int s_do_poll(struct cwx_worker *w);
static int s_do_verify(struct cwx_worker *w);
static int s_do_mark(struct cwx_worker *w);

/* Runs step now; a synchronous failure to start it fails the job (called
 * from callbacks only: on_final may run). */
static void s_run(struct cwx_worker *w, s_step_fn *step)
{
    int rc = step(w);
    if (rc == 0 || cwx_work_state_is_final(w->state))
        return;
    s_fail(w, CWX_WR_ERROR, rc, NULL, "could not start %s: %s",
           cwx_work_state_name(w->state), cwx_strerror(rc));
}

static void s_on_timer(int status, const struct cwx_work_result *res, void *ud)
{
    (void)res;
    struct cwx_worker *w = ud;
    w->timer = 0;
    if (w->interrupted || status == CWX_ECANCELED) {
        s_stop(w);
        return;
    }
    s_run(w, w->after_timer);
}

/* Waits delay_ms, then runs step. */
static int s_later(struct cwx_worker *w, uint64_t delay_ms, s_step_fn *step)
{
    w->after_timer = step;
    int rc = w->ops->start_timer(w->ctx, w, delay_ms, s_on_timer, w);
    if (rc == 0)
        w->timer = 1;
    return rc;
}

/* Common handling of a failed operation. Returns after finishing or after
 * scheduling the step again. `permission` names what the step needs. */
static void s_step_error(struct cwx_worker *w, int status, const struct cwx_work_result *res,
                         const char *op, const char *permission, s_step_fn *redo)
{
    const char *detail = res && res->detail[0] ? res->detail : cwx_strerror(status);
    if (status == CWX_ECANCELED) {
        s_stop(w);
        return;
    }
    if (status == CWX_EDENIED || status == CWX_ECRED) {
        s_fail(w, CWX_WR_DENIED, status, permission, "%s %s: %s", permission,
               status == CWX_ECRED ? "has no usable credentials" : "denied", detail);
        return;
    }
    if (status == CWX_ETLS) {
        s_fail(w, CWX_WR_UNAVAILABLE, status, NULL, "%s: %s", op, detail);
        return;
    }
    /* The task goes on whatever a poll meets: any AWS error while waiting
     * is retried. */
    int transient = cwx_err_transient(status) ||
                    (status == CWX_EAWS && w->state == CWX_WORK_WAIT);
    if (!transient) {
        s_fail(w, CWX_WR_ERROR, status, NULL, "%s failed: %s", op, detail);
        return;
    }
    if (++w->step_errors >= CWX_PATIENCE_TRIES) {
        s_fail(w, CWX_WR_UNAVAILABLE, status, NULL, "%s failed %d times in a row: %s", op,
               w->step_errors, detail);
        return;
    }
    uint64_t delay = cwx_patience_delay(&w->spec.patience, w->step_errors);
    w->step_retries++;
    CWX_LOGW("%s %s: %s failed (%s); trying again in %llu ms", w->spec.log_group,
             w->spec.window ? w->spec.window : "", op, detail, (unsigned long long)delay);
    int rc = s_later(w, delay, redo);
    if (rc)
        s_fail(w, CWX_WR_ERROR, rc, NULL, "%s failed: %s", op, detail);
}

/* Every operation callback starts here: clears busy, honours interrupts.
 * Returns 1 when the worker stopped (return at once). */
static int s_op_returned(struct cwx_worker *w)
{
    w->busy = 0;
    if (w->interrupted) {
        s_stop(w);
        return 1;
    }
    return 0;
}

/* An operation's answer: 1 when the caller returns at once (the worker
 * stopped, or the failure was handled: the job ended or `redo` runs
 * later); 0 when it succeeded (the step's failures in a row start again). */
static int s_answered(struct cwx_worker *w, int status, const struct cwx_work_result *res,
                      const char *op, const char *permission, s_step_fn *redo)
{
    if (s_op_returned(w))
        return 1;
    if (status) {
        s_step_error(w, status, res, op, permission, redo);
        return 1;
    }
    w->step_errors = 0;
    return 0;
}

static int s_busy(struct cwx_worker *w, int rc)
{
    if (rc == 0)
        w->busy = 1;
    return rc;
}

/* The job's task is task_id, created at creation_ms (0: now). */
static void s_take_task(struct cwx_worker *w, const char *task_id, int64_t creation_ms)
{
    snprintf(w->task_id, sizeof(w->task_id), "%s", task_id);
    w->task_status = CWX_EXPORT_PENDING;
    w->creation_ms = creation_ms ? creation_ms : w->ops->now_ms(w->ctx);
    w->completion_ms = 0;
    w->polls = 0;
}

/* ---- CHECK ------------------------------------------------------------- */

/* A check's answer: when it found what it looked for, the job is done for
 * reason, its detail what followed by name, and 1 is returned; else 0. */
static int s_found(struct cwx_worker *w, const struct cwx_work_result *res,
                   enum cwx_work_reason reason, const char *what, const char *name)
{
    if (!res->exists)
        return 0;
    snprintf(w->detail, sizeof(w->detail), "%s%s", what, name);
    s_finish(w, CWX_WORK_DONE, reason);
    return 1;
}

static void s_on_data_exists(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_answered(w, status, res, "listing the data prefix", "s3:ListBucket", s_do_data_check) ||
        s_found(w, res, CWX_WR_OBJECTS, "data objects under ", w->spec.prefix))
        return;
    s_run(w, s_do_completed_check);
}

static int s_do_data_check(struct cwx_worker *w)
{
    return s_busy(w, w->ops->data_exists(w->ctx, w, s_on_data_exists, w));
}

static void s_on_marker_exists(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_answered(w, status, res, "reading the marker", "s3:GetObject", s_do_check) ||
        s_found(w, res, CWX_WR_MARKER, "marker ", w->spec.marker_key))
        return;
    s_run(w, w->spec.detect == CWX_DETECT_OBJECTS ? s_do_data_check : s_do_completed_check);
}

static int s_do_check(struct cwx_worker *w)
{
    return s_busy(w, w->ops->marker_exists(w->ctx, w, s_on_marker_exists, w));
}

static int s_do_verify(struct cwx_worker *w);

static void s_on_completed_found(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_answered(w, status, res, "listing COMPLETED tasks", "logs:DescribeExportTasks",
                   s_do_completed_check))
        return;
    if (res->exists && res->task_id[0]) {
        /* Exported already (by another process, or by us before a crash):
         * verify and mark it instead of exporting again. */
        snprintf(w->task_id, sizeof(w->task_id), "%s", res->task_id);
        w->task_status = CWX_EXPORT_COMPLETED;
        w->creation_ms = res->creation_ms;
        w->completion_ms = res->completion_ms ? res->completion_ms : w->ops->now_ms(w->ctx);
        s_set_state(w, CWX_WORK_VERIFY);
        s_run(w, s_do_verify);
        return;
    }
    s_run(w, s_do_create);
}

static int s_do_create(struct cwx_worker *w);

static int s_do_completed_check(struct cwx_worker *w)
{
    if (!w->ops->completed_task)
        return s_do_create(w);
    return s_busy(w, w->ops->completed_task(w->ctx, w, s_on_completed_found, w));
}

/* ---- CREATE ------------------------------------------------------------ */

static void s_schedule_poll(struct cwx_worker *w);

static void s_on_created(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    w->busy = 0;
    if (w->hooks.on_create)
        w->hooks.on_create(w, status, w->hooks_ud);
    if (status == 0) {
        /* A task exists now even when we were interrupted: wait on it (the
         * lane decides whether to cancel it), unless told to stop at once. */
        w->step_errors = 0;
        w->attempts++;
        s_take_task(w, res->task_id, 0);
        if (w->interrupted) {
            s_stop(w);
            return;
        }
        s_set_state(w, CWX_WORK_WAIT);
        s_schedule_poll(w);
        return;
    }
    if (w->interrupted) {
        s_stop(w);
        return;
    }
    if (status == CWX_ESLOTBUSY) {
        w->step_errors = 0;
        s_set_state(w, CWX_WORK_BLOCKED);
        if (w->hooks.on_slot_busy)
            w->hooks.on_slot_busy(w, w->hooks_ud);
        return;
    }
    /* The request may have created a task whose answer was lost (a reset, a
     * truncated or garbled 200): look the job's task name up among the
     * active tasks (adopt it), then among the completed ones (verify it),
     * and create again only when neither knows it. The active ones come
     * first: a task that ends between the two look-ups is then seen by the
     * second. */
    s_step_error(w, status, res, "CreateExportTask", "logs:CreateExportTask", s_do_lost_check);
}

static void s_on_active_found(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_answered(w, status, res, "listing active tasks", "logs:DescribeExportTasks",
                   s_do_lost_check))
        return;
    if (res->exists && res->task_id[0]) {
        /* The lost answer's task: wait on it, as on one just created. */
        w->attempts++;
        s_take_task(w, res->task_id, res->creation_ms);
        w->task_status = res->task_status;
        s_set_state(w, CWX_WORK_WAIT);
        s_schedule_poll(w);
        return;
    }
    s_run(w, s_do_completed_check);
}

static int s_do_lost_check(struct cwx_worker *w)
{
    if (!w->ops->active_task)
        return s_do_completed_check(w);
    return s_busy(w, w->ops->active_task(w->ctx, w, s_on_active_found, w));
}

static int s_do_create(struct cwx_worker *w)
{
    if (w->hooks.may_create) {
        int rc = w->hooks.may_create(w, w->hooks_ud);
        if (rc == CWX_WORK_HOLD) {
            s_set_state(w, CWX_WORK_READY); /* idle until create_again */
            return 0;
        }
        if (rc == CWX_ECANCELED) {
            s_stop(w);
            return 0;
        }
        if (rc) {
            s_fail(w, CWX_WR_LOOP_GUARD, rc, NULL,
                   "the loop guard refused CreateExportTask (%s)", cwx_strerror(rc));
            return 0;
        }
    }
    s_set_state(w, CWX_WORK_CREATE);
    return s_busy(w, w->ops->create_task(w->ctx, w, s_on_created, w));
}

/* ---- WAIT ---------------------------------------------------------------- */

static void s_on_described(int status, const struct cwx_work_result *res, void *ud);

static int s_do_poll(struct cwx_worker *w)
{
    return s_busy(w, w->ops->describe_task(w->ctx, w, w->task_id, s_on_described, w));
}

static void s_schedule_poll(struct cwx_worker *w)
{
    uint64_t delay = w->ops->poll_delay_ms(w->ctx, w);
    int rc = s_later(w, delay, s_do_poll);
    if (rc)
        s_fail(w, CWX_WR_ERROR, rc, NULL, "could not schedule a poll: %s", cwx_strerror(rc));
}

static void s_on_described(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_op_returned(w))
        return;
    if (status) {
        if (status == CWX_ENOTFOUND) {
            s_fail(w, CWX_WR_ERROR, status, NULL, "export task %s is unknown to AWS",
                   w->task_id);
            return;
        }
        s_step_error(w, status, res, "DescribeExportTasks", "logs:DescribeExportTasks",
                     s_do_poll);
        return;
    }
    w->step_errors = 0;
    w->polls++;
    w->task_status = res->task_status;
    if (res->creation_ms)
        w->creation_ms = res->creation_ms;
    if (w->hooks.on_poll)
        w->hooks.on_poll(w, res, w->hooks_ud);
    switch (res->task_status) {
    case CWX_EXPORT_COMPLETED:
        w->completion_ms = res->completion_ms ? res->completion_ms : w->ops->now_ms(w->ctx);
        s_set_state(w, CWX_WORK_VERIFY);
        s_run(w, s_do_verify);
        return;
    case CWX_EXPORT_FAILED:
        if (w->spec.n_windows > 1) {
            /* A range: its halves are exported instead (the owner splits
             * it), before any window's max_attempts is counted. */
            s_fail(w, CWX_WR_SPLIT, 0, NULL, "task %s over %zu windows FAILED: %s", w->task_id,
                   w->spec.n_windows,
                   res->task_message[0] ? res->task_message : "no message");
            return;
        }
        w->failures++;
        if (w->failures >= w->spec.max_attempts) {
            s_fail(w, CWX_WR_ATTEMPTS, 0, NULL, "task %s FAILED (attempt %d of %d): %s",
                   w->task_id, w->failures, w->spec.max_attempts,
                   res->task_message[0] ? res->task_message : "no message");
            return;
        }
        {
            uint64_t delay = w->spec.backoff_min_ms << (w->failures - 1 < 16 ? w->failures - 1 : 16);
            if (delay > w->spec.backoff_max_ms)
                delay = w->spec.backoff_max_ms;
            CWX_LOGW("%s %s: task %s FAILED (%s); attempt %d of %d in %llu ms",
                     w->spec.log_group, w->spec.window ? w->spec.window : "", w->task_id,
                     res->task_message, w->failures + 1, w->spec.max_attempts,
                     (unsigned long long)delay);
            w->retries++;
            w->task_id[0] = 0;
            s_set_state(w, CWX_WORK_BACKOFF);
            int rc = s_later(w, delay, s_do_create);
            if (rc)
                s_fail(w, CWX_WR_ERROR, rc, NULL, "could not schedule a retry: %s",
                       cwx_strerror(rc));
        }
        return;
    case CWX_EXPORT_CANCELLED:
        s_fail(w, CWX_WR_CANCELLED, 0, NULL, "task %s was cancelled%s%s", w->task_id,
               res->task_message[0] ? ": " : "", res->task_message);
        return;
    default: /* PENDING, RUNNING, PENDING_CANCEL, unknown codes */
        s_schedule_poll(w);
        return;
    }
}

/* ---- VERIFY and MARK ----------------------------------------------------- */

static void s_on_listed(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_answered(w, status, res, "listing the export", "s3:ListBucket", s_do_verify))
        return;
    w->objects = res->objects;
    w->bytes = res->bytes;
    s_set_state(w, CWX_WORK_MARK);
    s_run(w, s_do_mark);
}

static int s_do_verify(struct cwx_worker *w)
{
    return s_busy(w, w->ops->list_export(w->ctx, w, w->task_id, s_on_listed, w));
}

static void s_on_marked(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_answered(w, status, res, "writing the marker", "s3:PutObject", s_do_mark))
        return;
    if (w->marks_left > 1) {
        w->marks_left--;
        s_run(w, s_do_mark);
        return;
    }
    w->marks_left = 0;
    snprintf(w->detail, sizeof(w->detail), "%llu objects, %llu bytes, task %s",
             (unsigned long long)w->objects, (unsigned long long)w->bytes, w->task_id);
    s_finish(w, CWX_WORK_DONE, w->objects ? CWX_WR_EXPORTED : CWX_WR_EMPTY);
}

static int s_do_mark(struct cwx_worker *w)
{
    if (w->spec.n_windows > 1) {
        /* One marker per window of the range, the head's (index 0) last:
         * spec.window and spec.marker_key name the one being written and
         * end on the head's again. */
        if (!w->marks_left)
            w->marks_left = w->spec.n_windows;
        size_t i = w->marks_left - 1;
        w->spec.window = w->spec.windows[i];
        w->spec.marker_key = w->spec.marker_keys[i];
    }
    struct cwx_buf body;
    cwx_buf_init(&body, 64 * 1024);
    int rc = cwx_marker_build(&w->spec, w->task_id, w->creation_ms, w->completion_ms,
                              w->objects, w->bytes, w->ops->now_ms(w->ctx), &body);
    /* put_marker copies the body (cwx_s3_put_object does), so it is freed
     * here whatever happens. */
    if (rc == 0)
        rc = s_busy(w, w->ops->put_marker(w->ctx, w, body.ptr, body.len, s_on_marked, w));
    cwx_buf_free(&body);
    return rc;
}

/* ---- starting points ----------------------------------------------------- */

static int s_start(struct cwx_worker *w, enum cwx_work_state state, s_step_fn *step)
{
    if (w->state != CWX_WORK_INIT && w->state != CWX_WORK_BLOCKED &&
        w->state != CWX_WORK_READY)
        return CWX_ESTATE;
    s_set_state(w, state);
    int rc = step(w);
    if (rc && !cwx_work_state_is_final(w->state)) {
        w->error = rc;
        w->reason = CWX_WR_ERROR;
        snprintf(w->detail, sizeof(w->detail), "could not start: %s", cwx_strerror(rc));
        s_set_state(w, CWX_WORK_FAILED);
    }
    return rc;
}

int cwx_worker_start(struct cwx_worker *w)
{
    return s_start(w, CWX_WORK_CHECK, s_do_check);
}

int cwx_worker_start_create(struct cwx_worker *w)
{
    return s_start(w, w->state, s_do_create); /* CREATE, or READY if held */
}

static int s_do_first_poll(struct cwx_worker *w)
{
    uint64_t delay = w->ops->poll_delay_ms(w->ctx, w);
    return s_later(w, delay, s_do_poll);
}

/* The task of a starting point that begins with one: w must be in state
 * `from` and task_id a task's. Returns 0 or CWX_ESTATE. */
static int s_given_task(struct cwx_worker *w, enum cwx_work_state from, const char *task_id,
                        int64_t creation_ms)
{
    if (w->state != from || !task_id || !task_id[0])
        return CWX_ESTATE;
    s_take_task(w, task_id, creation_ms);
    return 0;
}

int cwx_worker_start_wait(struct cwx_worker *w, const char *task_id, int64_t creation_ms)
{
    int rc = s_given_task(w, CWX_WORK_INIT, task_id, creation_ms);
    /* An adopted task is polled at once: it may be about to end. */
    return rc ? rc : s_start(w, CWX_WORK_WAIT, s_do_poll);
}

int cwx_worker_start_verify(struct cwx_worker *w, const char *task_id, int64_t creation_ms,
                            int64_t completion_ms)
{
    int rc = s_given_task(w, CWX_WORK_INIT, task_id, creation_ms);
    if (rc)
        return rc;
    w->task_status = CWX_EXPORT_COMPLETED;
    w->completion_ms = completion_ms;
    return s_start(w, CWX_WORK_VERIFY, s_do_verify);
}

int cwx_worker_adopt(struct cwx_worker *w, const char *task_id, int64_t creation_ms)
{
    int rc = s_given_task(w, CWX_WORK_BLOCKED, task_id, creation_ms);
    return rc ? rc : s_start(w, CWX_WORK_WAIT, s_do_first_poll);
}

int cwx_worker_create_again(struct cwx_worker *w)
{
    if (w->state != CWX_WORK_BLOCKED && w->state != CWX_WORK_READY)
        return CWX_ESTATE;
    return s_start(w, w->state, s_do_create); /* CREATE, or READY if held */
}

int cwx_worker_recheck(struct cwx_worker *w)
{
    if (w->state != CWX_WORK_BLOCKED && w->state != CWX_WORK_READY)
        return CWX_ESTATE;
    w->step_errors = 0;
    return s_start(w, CWX_WORK_CHECK, s_do_check);
}

int cwx_worker_interrupt(struct cwx_worker *w)
{
    if (cwx_work_state_is_final(w->state))
        return 1;
    if (w->busy) {
        w->interrupted = 1;
        return 0;
    }
    if (w->timer) {
        w->ops->stop_timer(w->ctx, w);
        w->timer = 0;
    }
    w->interrupted = 1;
    w->reason = CWX_WR_INTERRUPTED;
    snprintf(w->detail, sizeof(w->detail), "interrupted in state %s",
             cwx_work_state_name(w->state));
    s_set_state(w, CWX_WORK_STOPPED);
    return 1;
}
