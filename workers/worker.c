/* One export job's state machine (see workers.h for the diagram). */
#include "workers/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "workers/workers_internal.h"

/* A step whose call failed transiently (each call has already made its own
 * attempts) is redone after the delays of spec.patience (default 1 s
 * doubling to 60 s); after CWX_PATIENCE_TRIES failures in a row (about three
 * minutes of waiting with the defaults) the job gives up as "unavailable":
 * its window stays pending, it has not failed. */
#define CWX__PATIENCE_MIN_MS 1000
#define CWX__PATIENCE_MAX_MS 60000

struct cwx_patience cwx_patience_of(const struct cwx_settings *st)
{
    uint64_t pmin = st->poll_min_ms > 0 ? (uint64_t)st->poll_min_ms : 5000;
    uint64_t pmax = st->poll_max_ms > 0 ? (uint64_t)st->poll_max_ms : 60000;
    struct cwx_patience p = {
        .min_ms = pmin < CWX__PATIENCE_MIN_MS ? pmin : CWX__PATIENCE_MIN_MS,
        .max_ms = 4 * pmax < CWX__PATIENCE_MAX_MS ? 4 * pmax : CWX__PATIENCE_MAX_MS,
    };
    if (p.max_ms < p.min_ms)
        p.max_ms = p.min_ms;
    return p;
}

uint64_t cwx_patience_delay(const struct cwx_patience *p, int n)
{
    int shift = n <= 1 ? 0 : n - 1 < 20 ? n - 1 : 20;
    uint64_t d = p->min_ms << shift;
    return d < p->max_ms ? d : p->max_ms;
}

typedef int s_step_fn(struct cwx_worker *w);

struct cwx_worker {
    struct cwx_work_spec spec; /* strings point into `strings` */
    char *strings;
    const char **range_strings; /* spec.windows then spec.marker_keys (owned) */
    size_t marks_left;          /* MARK of a range: markers still to write */
    const struct cwx_worker_ops *ops;
    void *ctx;
    struct cwx_worker_hooks hooks;
    void *hooks_ud;

    enum cwx_work_state state;
    enum cwx_work_reason reason;
    int error;
    const char *permission;
    char detail[400];

    char task_id[64];
    enum cwx_export_status task_status;
    int64_t creation_ms;
    int64_t completion_ms;
    int polls;
    int attempts;   /* creates that made a task (this run) */
    int failures;   /* FAILED tasks seen */
    int retries;
    int step_errors;  /* transient failures of the current step in a row */
    int step_retries; /* steps redone after a transient failure (this run) */
    uint64_t objects, bytes;

    int busy;        /* an operation is in flight */
    int timer;       /* a timer is pending */
    int interrupted; /* stop at the next safe point */
    s_step_fn *after_timer;

    void *data;
    void *ops_slot;
};

static const char *const s_state_names[] = {
    "init", "check", "ready", "create", "blocked", "wait", "verify",
    "mark", "backoff", "done", "failed", "stopped",
};

const char *cwx_work_state_name(enum cwx_work_state s)
{
    if ((unsigned)s < sizeof(s_state_names) / sizeof(s_state_names[0]))
        return s_state_names[s];
    return "?";
}

int cwx_work_state_is_final(enum cwx_work_state s)
{
    return s == CWX_WORK_DONE || s == CWX_WORK_FAILED || s == CWX_WORK_STOPPED;
}

static const char *const s_reason_names[] = {
    "none", "marker", "objects", "exported", "empty", "attempts",
    "cancelled", "error", "denied", "loop_guard", "unavailable", "interrupted", "split",
};

const char *cwx_work_reason_name(enum cwx_work_reason r)
{
    if ((unsigned)r < sizeof(s_reason_names) / sizeof(s_reason_names[0]))
        return s_reason_names[r];
    return "?";
}

/* ---- construction -------------------------------------------------------- */

static size_t s_len(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *s_copy(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *dst = *cursor;
    memcpy(dst, s, n);
    *cursor += n;
    return dst;
}

int cwx_worker_new(const struct cwx_work_spec *spec, const struct cwx_worker_ops *ops,
                   void *ops_ctx, const struct cwx_worker_hooks *hooks, void *hooks_ud,
                   struct cwx_worker **out)
{
    *out = NULL;
    if (!spec || !ops || !hooks || !hooks->on_final || !spec->bucket || !spec->prefix ||
        !spec->marker_key || !spec->task_name || !spec->log_group)
        return CWX_EINVAL;
    size_t total = s_len(spec->account) + s_len(spec->account_id) + s_len(spec->region) +
                   s_len(spec->log_group) + s_len(spec->log_stream_prefix) +
                   s_len(spec->window) + s_len(spec->bucket) + s_len(spec->prefix) +
                   s_len(spec->marker_key) + s_len(spec->task_name);
    struct cwx_worker *w = calloc(1, sizeof(*w));
    char *strings = malloc(total ? total : 1);
    if (!w || !strings) {
        free(w);
        free(strings);
        return CWX_ENOMEM;
    }
    w->spec = *spec;
    w->strings = strings;
    char *c = strings;
    w->spec.account = s_copy(&c, spec->account);
    w->spec.account_id = s_copy(&c, spec->account_id);
    w->spec.region = s_copy(&c, spec->region);
    w->spec.log_group = s_copy(&c, spec->log_group);
    w->spec.log_stream_prefix = s_copy(&c, spec->log_stream_prefix);
    w->spec.window = s_copy(&c, spec->window);
    w->spec.bucket = s_copy(&c, spec->bucket);
    w->spec.prefix = s_copy(&c, spec->prefix);
    w->spec.marker_key = s_copy(&c, spec->marker_key);
    w->spec.task_name = s_copy(&c, spec->task_name);
    if (spec->n_windows > 1) {
        size_t n = spec->n_windows, len = 0;
        for (size_t i = 0; i < n; i++) {
            if (!spec->windows || !spec->marker_keys || !spec->windows[i] ||
                !spec->marker_keys[i]) {
                cwx_worker_free(w);
                return CWX_EINVAL;
            }
            len += strlen(spec->windows[i]) + strlen(spec->marker_keys[i]) + 2;
        }
        w->range_strings = malloc(2 * n * sizeof(char *) + len);
        if (!w->range_strings) {
            cwx_worker_free(w);
            return CWX_ENOMEM;
        }
        char *cur = (char *)(w->range_strings + 2 * n);
        for (size_t i = 0; i < n; i++) {
            w->range_strings[i] = s_copy(&cur, spec->windows[i]);
            w->range_strings[n + i] = s_copy(&cur, spec->marker_keys[i]);
        }
        w->spec.windows = w->range_strings;
        w->spec.marker_keys = w->range_strings + n;
    } else {
        w->spec.windows = w->spec.marker_keys = NULL;
        w->spec.n_windows = 0;
    }
    if (w->spec.max_attempts < 1)
        w->spec.max_attempts = 1;
    if (!w->spec.backoff_min_ms)
        w->spec.backoff_min_ms = 5000;
    if (w->spec.backoff_max_ms < w->spec.backoff_min_ms)
        w->spec.backoff_max_ms = w->spec.backoff_min_ms * 16;
    if (!w->spec.patience.min_ms)
        w->spec.patience.min_ms = CWX__PATIENCE_MIN_MS;
    if (!w->spec.patience.max_ms)
        w->spec.patience.max_ms = CWX__PATIENCE_MAX_MS;
    if (w->spec.patience.max_ms < w->spec.patience.min_ms)
        w->spec.patience.max_ms = w->spec.patience.min_ms;
    w->ops = ops;
    w->ctx = ops_ctx;
    w->hooks = *hooks;
    w->hooks_ud = hooks_ud;
    w->state = CWX_WORK_INIT;
    *out = w;
    return 0;
}

void cwx_worker_free(struct cwx_worker *w)
{
    if (!w)
        return;
    if (w->timer) {
        w->ops->stop_timer(w->ctx, w);
        w->timer = 0;
    }
    free(w->strings);
    free(w->range_strings);
    free(w);
}

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

static int s_busy(struct cwx_worker *w, int rc)
{
    if (rc == 0)
        w->busy = 1;
    return rc;
}

/* ---- CHECK ------------------------------------------------------------- */

static void s_on_data_exists(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_op_returned(w))
        return;
    if (status) {
        s_step_error(w, status, res, "listing the data prefix", "s3:ListBucket",
                     s_do_data_check);
        return;
    }
    w->step_errors = 0;
    if (res->exists) {
        snprintf(w->detail, sizeof(w->detail), "data objects under %s", w->spec.prefix);
        s_finish(w, CWX_WORK_DONE, CWX_WR_OBJECTS);
        return;
    }
    s_run(w, s_do_completed_check);
}

static int s_do_data_check(struct cwx_worker *w)
{
    return s_busy(w, w->ops->data_exists(w->ctx, w, s_on_data_exists, w));
}

static void s_on_marker_exists(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_op_returned(w))
        return;
    if (status) {
        s_step_error(w, status, res, "reading the marker", "s3:GetObject", s_do_check);
        return;
    }
    w->step_errors = 0;
    if (res->exists) {
        snprintf(w->detail, sizeof(w->detail), "marker %s", w->spec.marker_key);
        s_finish(w, CWX_WORK_DONE, CWX_WR_MARKER);
        return;
    }
    if (w->spec.detect == CWX_DETECT_OBJECTS) {
        s_run(w, s_do_data_check);
        return;
    }
    s_run(w, s_do_completed_check);
}

static int s_do_check(struct cwx_worker *w)
{
    return s_busy(w, w->ops->marker_exists(w->ctx, w, s_on_marker_exists, w));
}

static int s_do_verify(struct cwx_worker *w);

static void s_on_completed_found(int status, const struct cwx_work_result *res, void *ud)
{
    struct cwx_worker *w = ud;
    if (s_op_returned(w))
        return;
    if (status) {
        s_step_error(w, status, res, "listing COMPLETED tasks", "logs:DescribeExportTasks",
                     s_do_completed_check);
        return;
    }
    w->step_errors = 0;
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
        snprintf(w->task_id, sizeof(w->task_id), "%s", res->task_id);
        w->task_status = CWX_EXPORT_PENDING;
        w->creation_ms = w->ops->now_ms(w->ctx);
        w->completion_ms = 0;
        w->polls = 0;
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
    if (s_op_returned(w))
        return;
    if (status) {
        s_step_error(w, status, res, "listing active tasks", "logs:DescribeExportTasks",
                     s_do_lost_check);
        return;
    }
    w->step_errors = 0;
    if (res->exists && res->task_id[0]) {
        /* The lost answer's task: wait on it, as on one just created. */
        w->attempts++;
        snprintf(w->task_id, sizeof(w->task_id), "%s", res->task_id);
        w->task_status = res->task_status;
        w->creation_ms = res->creation_ms ? res->creation_ms : w->ops->now_ms(w->ctx);
        w->completion_ms = 0;
        w->polls = 0;
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

static int s_do_recreate(struct cwx_worker *w)
{
    return s_do_create(w);
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
            int rc = s_later(w, delay, s_do_recreate);
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
    if (s_op_returned(w))
        return;
    if (status) {
        s_step_error(w, status, res, "listing the export", "s3:ListBucket", s_do_verify);
        return;
    }
    w->step_errors = 0;
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
    if (s_op_returned(w))
        return;
    if (status) {
        s_step_error(w, status, res, "writing the marker", "s3:PutObject", s_do_mark);
        return;
    }
    w->step_errors = 0;
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

static void s_take_task(struct cwx_worker *w, const char *task_id, int64_t creation_ms)
{
    snprintf(w->task_id, sizeof(w->task_id), "%s", task_id);
    w->task_status = CWX_EXPORT_PENDING;
    w->creation_ms = creation_ms ? creation_ms : w->ops->now_ms(w->ctx);
    w->completion_ms = 0;
    w->polls = 0;
}

int cwx_worker_start_wait(struct cwx_worker *w, const char *task_id, int64_t creation_ms)
{
    if (w->state != CWX_WORK_INIT || !task_id || !task_id[0])
        return CWX_ESTATE;
    s_take_task(w, task_id, creation_ms);
    /* An adopted task is polled at once: it may be about to end. */
    return s_start(w, CWX_WORK_WAIT, s_do_poll);
}

int cwx_worker_start_verify(struct cwx_worker *w, const char *task_id, int64_t creation_ms,
                            int64_t completion_ms)
{
    if (w->state != CWX_WORK_INIT || !task_id || !task_id[0])
        return CWX_ESTATE;
    s_take_task(w, task_id, creation_ms);
    w->task_status = CWX_EXPORT_COMPLETED;
    w->completion_ms = completion_ms;
    return s_start(w, CWX_WORK_VERIFY, s_do_verify);
}

int cwx_worker_adopt(struct cwx_worker *w, const char *task_id, int64_t creation_ms)
{
    if (w->state != CWX_WORK_BLOCKED || !task_id || !task_id[0])
        return CWX_ESTATE;
    s_take_task(w, task_id, creation_ms);
    return s_start(w, CWX_WORK_WAIT, s_do_first_poll);
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

/* ---- accessors ----------------------------------------------------------- */

const struct cwx_work_spec *cwx_worker_spec(const struct cwx_worker *w) { return &w->spec; }
enum cwx_work_state cwx_worker_state(const struct cwx_worker *w) { return w->state; }
const char *cwx_worker_task_id(const struct cwx_worker *w) { return w->task_id; }
enum cwx_export_status cwx_worker_task_status(const struct cwx_worker *w) { return w->task_status; }
int64_t cwx_worker_task_creation_ms(const struct cwx_worker *w) { return w->creation_ms; }
int64_t cwx_worker_task_completion_ms(const struct cwx_worker *w) { return w->completion_ms; }
int cwx_worker_polls(const struct cwx_worker *w) { return w->polls; }
int cwx_worker_attempts(const struct cwx_worker *w) { return w->attempts; }
int cwx_worker_retries(const struct cwx_worker *w) { return w->retries; }
int cwx_worker_step_retries(const struct cwx_worker *w) { return w->step_retries; }
uint64_t cwx_worker_objects(const struct cwx_worker *w) { return w->objects; }
uint64_t cwx_worker_bytes(const struct cwx_worker *w) { return w->bytes; }
enum cwx_work_reason cwx_worker_reason(const struct cwx_worker *w) { return w->reason; }
int cwx_worker_error(const struct cwx_worker *w) { return w->error; }
const char *cwx_worker_detail(const struct cwx_worker *w) { return w->detail; }
const char *cwx_worker_permission(const struct cwx_worker *w) { return w->permission; }
void cwx_worker_set_data(struct cwx_worker *w, void *data) { w->data = data; }
void *cwx_worker_data(const struct cwx_worker *w) { return w->data; }
void **cwx_worker_ops_slot(struct cwx_worker *w) { return &w->ops_slot; }
