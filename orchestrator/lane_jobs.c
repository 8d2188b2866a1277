/* A lane's workers: making them, their hooks, and what each one's end
 * means for its job and the lane (settled from the lane's step, never
 * inside the caller's stack). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/lane_internal.h"
#include "planner/planner.h"

struct cwx_lane_job *cwx__lane_job_of(const struct cwx_worker *w)
{
    return cwx_worker_data(w);
}

/* ---- the token's bookkeeping ---------------------------------------------- */

/* Jobs verifying and marking without the token. */
int cwx__lane_finishing_add(struct cwx_lane *lane, struct cwx_worker *w)
{
    if (lane->n_finishing == lane->cap_finishing) {
        size_t cap = lane->cap_finishing ? lane->cap_finishing * 2 : 8;
        struct cwx_worker **f = realloc(lane->finishing, cap * sizeof(*f));
        if (!f)
            return CWX_ENOMEM;
        lane->finishing = f;
        lane->cap_finishing = cap;
    }
    lane->finishing[lane->n_finishing++] = w;
    return 0;
}

static void s_finishing_remove(struct cwx_lane *lane, struct cwx_worker *w)
{
    for (size_t i = 0; i < lane->n_finishing; i++) {
        if (lane->finishing[i] == w) {
            memmove(&lane->finishing[i], &lane->finishing[i + 1],
                    (lane->n_finishing - i - 1) * sizeof(*lane->finishing));
            lane->n_finishing--;
            return;
        }
    }
}

void cwx__lane_worker_ended(struct cwx_worker *w)
{
    struct cwx_lane_job *rec = cwx__lane_job_of(w);
    if (rec->ended)
        return;
    rec->ended = 1;
    /* Appended: ends are settled in the order they happened. */
    struct cwx_lane_job **tail = &rec->lane->ended;
    while (*tail)
        tail = &(*tail)->next_ended;
    *tail = rec;
    cwx__lane_kick(rec->lane);
}

void cwx__lane_interrupt(struct cwx_lane *lane, struct cwx_worker *w)
{
    (void)lane;
    if (cwx_worker_interrupt(w))
        cwx__lane_worker_ended(w); /* idle: stopped now, on_final never comes */
}

void cwx__lane_started(struct cwx_lane *lane, struct cwx_worker *w, int rc)
{
    (void)lane;
    if (rc && cwx_work_state_is_final(cwx_worker_state(w)))
        cwx__lane_worker_ended(w);
}

/* Frees a worker of the lane, keeping its retry counts for the summary. */
static void s_free_worker(struct cwx_lane *lane, struct cwx_worker *w)
{
    struct cwx_lane_job *rec = cwx__lane_job_of(w);
    lane->retries += (uint64_t)cwx_worker_retries(w);
    lane->step_retries += (uint64_t)cwx_worker_step_retries(w);
    cwx_worker_free(w);
    free(rec);
}

void cwx__lane_drop_next(struct cwx_lane *lane)
{
    struct cwx_worker *w = lane->next;
    if (!w)
        return;
    /* The lane waits for its end among the finishing jobs; without room
     * there it stays `next`, and is dropped again by the next step. */
    if (cwx__lane_finishing_add(lane, w) != 0)
        return;
    lane->next = NULL;
    cwx__lane_job_of(w)->dropped = 1;
    cwx__lane_interrupt(lane, w);
}

void cwx__lane_resume_active(struct cwx_lane *lane, int recheck)
{
    struct cwx_worker *w = lane->active;
    if (!w)
        return;
    int rc = recheck ? cwx_worker_recheck(w) : cwx_worker_create_again(w);
    /* Any other refusal (it is not BLOCKED or READY) leaves it to its own
     * callbacks. */
    cwx__lane_started(lane, w, rc);
}

int cwx__lane_take_job(struct cwx_lane *lane, uint32_t *out)
{
    const struct cwx_plan *plan = lane->run->plan;
    if (lane->requeue >= 0) {
        uint32_t j = (uint32_t)lane->requeue;
        lane->requeue = -1;
        if (plan->jobs[j].status == CWX_JOB_PENDING) {
            *out = j;
            return 1;
        }
    }
    while (lane->head < lane->n_queue) {
        uint32_t j = lane->queue[lane->head++];
        if (plan->jobs[j].status == CWX_JOB_PENDING) { /* else done meanwhile */
            *out = j;
            return 1;
        }
    }
    return 0;
}

/* ---- the worker's hooks -------------------------------------------------- */

/* A task of the lane ended COMPLETED: what it teaches the throughput model
 * (and the prediction errors behind the polling margins), and when the slot
 * became free (the handoff gap is measured from there). */
static void s_observe_end(struct cwx_lane *lane, struct cwx_worker *w)
{
    int64_t c = cwx_worker_task_creation_ms(w), e = cwx_worker_task_completion_ms(w);
    if (c > 0 && e > c) {
        cwx__model_task_ended(lane, cwx_worker_spec(w)->estimated_bytes, e - c,
                              cwx_worker_polls(w));
        lane->task_ms += e - c;
    }
    if (e > lane->last_end_ms)
        lane->last_end_ms = e;
}

static void h_transition(struct cwx_worker *w, enum cwx_work_state from, enum cwx_work_state to,
                         void *ud)
{
    struct cwx_lane *lane = ud;
    if (cwx__lane_job_of(w)->dropped)
        return; /* a job checked ahead and dropped: it reports nothing */
    struct cwx_job *job = &lane->run->plan->jobs[cwx_worker_spec(w)->job];
    if (to == CWX_WORK_WAIT && job->status == CWX_JOB_PENDING) {
        job->status = CWX_JOB_RUNNING;
        job->reason = CWX_REASON_TASK_ACTIVE;
    }
    if (to == CWX_WORK_VERIFY)
        s_observe_end(lane, w);
    cwx__report_transition(lane->run, lane, w, (int)from, (int)to);
    if (w != lane->active)
        return;
    if (to == CWX_WORK_VERIFY && cwx__lane_finishing_add(lane, w) == 0) {
        /* The task is COMPLETED and the slot free: hand the token over now.
         * Listing the export and writing the marker go on beside the next
         * job's task; they never sit between this poll and the next
         * CreateExportTask. (Out of memory: the job keeps the token until
         * it is marked, as a safe fallback.) */
        lane->active = NULL;
        cwx__lane_enter(lane, CWX_LANE_IDLE);
        cwx__lane_kick(lane);
    } else if (to == CWX_WORK_WAIT) {
        struct cwx_run *run = lane->run;
        /* A task created after the signal (its create was in flight). */
        if (run->stopping && !run->aborting && run->opts->cancel_on_exit &&
            cwx__lane_cancel_active(lane))
            return;
        cwx__lane_kick(lane); /* check the next job while this task runs */
    }
}

/* The token: one job of the lane between its create and its task's end,
 * and none while a foreign task is known to hold the slot. Returns 0 when w
 * holds it (now), CWX_WORK_HOLD when it must wait. */
static int s_take_token(struct cwx_lane *lane, struct cwx_worker *w)
{
    if (w == lane->active)
        return 0;
    if (lane->active || lane->foreign.task_id[0] ||
        (lane->state != CWX_LANE_IDLE && lane->state != CWX_LANE_WORKING))
        return CWX_WORK_HOLD;
    if (lane->next == w)
        lane->next = NULL;
    lane->active = w;
    cwx__lane_enter(lane, CWX_LANE_WORKING);
    return 0;
}

static int h_may_create(struct cwx_worker *w, void *ud)
{
    struct cwx_lane *lane = ud;
    struct cwx_run *run = lane->run;
    if (cwx__lane_halting(lane) || cwx__lane_job_of(w)->dropped)
        return CWX_ECANCELED;
    if (s_take_token(lane, w))
        return CWX_WORK_HOLD;
    if (lane->lease_on) {
        /* Fencing: a renew of the lease right before every create; the
         * worker waits READY until it answers (FRESH: lane.c). */
        if (!lane->lease_fresh || !cwx_lease_valid(&lane->lease)) {
            lane->lease_fresh = 0;
            if (cwx_lease_refresh(&lane->lease) != 0) {
                lane->fenced = 1; /* not held: create nothing */
                cwx__lane_kick(lane);
                return CWX_ECANCELED;
            }
            return CWX_WORK_HOLD;
        }
        lane->lease_fresh = 0;
    }
    const struct cwx_work_spec *spec = cwx_worker_spec(w);
    char what[700];
    snprintf(what, sizeof(what), "%s %s (%s/%s)", spec->log_group, spec->window, spec->account,
             spec->region);
    return cwx__guard_check(&run->guard, &lane->guard, &run->plan->jobs[spec->job], what);
}

static void h_create(struct cwx_worker *w, int status, void *ud)
{
    struct cwx_lane *lane = ud;
    struct cwx_run *run = lane->run;
    /* A call whose answer was lost or unreadable may have created a task:
     * the per-job cap counts it as one. */
    int maybe_made = status == 0 || status == CWX_EPARSE || status == CWX_EHTTP ||
                     status == CWX_ETIMEDOUT;
    cwx__guard_count(&run->guard, &lane->guard, &run->plan->jobs[cwx_worker_spec(w)->job],
                     maybe_made);
    lane->creates++;
    if (status == CWX_ESLOTBUSY) {
        lane->slot_busy++;
        lane->busy_creates++;
    }
    if (status != 0)
        return;
    lane->busy_creates = 0;
    int64_t now = cwx__lane_now(lane);
    if (lane->last_end_ms > 0 && now >= lane->last_end_ms) {
        double gap = (double)(now - lane->last_end_ms);
        lane->gap_sum_ms += gap;
        lane->gaps++;
        cwx_lane_model_observe_gap(&lane->model, (int64_t)gap);
        if (gap > lane->gap_max_ms)
            lane->gap_max_ms = gap;
    }
}

static void h_slot_busy(struct cwx_worker *w, void *ud)
{
    (void)w;
    cwx__lane_slot_busy(ud);
}

static void h_poll(struct cwx_worker *w, const struct cwx_work_result *res, void *ud)
{
    (void)w;
    (void)res;
    cwx__report_progress(((struct cwx_lane *)ud)->run, 0);
}

static void h_final(struct cwx_worker *w, void *ud)
{
    (void)ud;
    cwx__lane_worker_ended(w);
}

static const struct cwx_worker_hooks s_hooks = {
    .on_transition = h_transition,
    .may_create = h_may_create,
    .on_create = h_create,
    .on_slot_busy = h_slot_busy,
    .on_poll = h_poll,
    .on_final = h_final,
};

struct cwx_aws_client *cwx__lane_client(struct cwx_worker *w, void *ud)
{
    struct cwx_run *run = ud;
    const struct cwx_job *job = &run->plan->jobs[cwx_worker_spec(w)->job];
    return cwx_session_client(run->session, run->plan->groups[job->group].target);
}

uint64_t cwx__lane_poll_delay(struct cwx_worker *w, void *ud)
{
    (void)ud;
    struct cwx_lane *lane = cwx__lane_job_of(w)->lane;
    struct cwx_poll_policy p = cwx__lane_policy(lane);
    int64_t now = cwx__lane_now(lane);
    int64_t created = cwx_worker_task_creation_ms(w);
    struct cwx_poll_input in;
    cwx_lane_model_poll_input(&lane->model, &p, cwx_worker_polls(w),
                              created > 0 ? now - created : 0,
                              cwx_worker_spec(w)->estimated_bytes, &in);
    return cwx_poll_delay(&p, &in);
}

/* ---- making workers ------------------------------------------------------ */

/* One marker key per window of a range (NUL-separated in keys), and the
 * windows' labels: windows[0..n) then marker_keys at windows + n. */
static int s_range_strings(const struct cwx_plan *plan, const struct cwx_job *job, size_t n,
                           struct cwx_buf *keys, const char ***out)
{
    const char **windows = calloc(2 * n, sizeof(char *));
    size_t *offs = calloc(n, sizeof(size_t));
    int rc = windows && offs ? 0 : CWX_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        offs[i] = keys->len;
        rc = cwx_plan_job_marker_key(plan, job + i, keys);
        if (!rc)
            rc = cwx_buf_putc(keys, '\0');
    }
    for (size_t i = 0; !rc && i < n; i++) {
        windows[i] = cwx_plan_job_window(plan, job + i)->label;
        windows[n + i] = keys->ptr + offs[i];
    }
    free(offs);
    if (rc)
        free(windows);
    *out = rc ? NULL : windows;
    return rc;
}

static int s_make_worker(struct cwx_lane *lane, uint32_t j, const char *prefix,
                         const char *marker, const char **windows, size_t n_windows,
                         struct cwx_lane_job *rec)
{
    struct cwx_run *run = lane->run;
    const struct cwx_plan *plan = run->plan;
    const struct cwx_job *job = &plan->jobs[j];
    const struct cwx_plan_target *tg = cwx_plan_job_target(plan, job);
    const struct cwx_account *acc = cwx_plan_job_account(plan, job);
    const struct cwx_window *win = cwx_plan_job_window(plan, job);
    const struct cwx_window *last = &plan->wsets[cwx_plan_job_group(plan, job)->wset]
                                          .windows[cwx_plan_job_last(plan, job)];
    struct cwx_poll_policy policy = cwx__lane_policy(lane);
    struct cwx_work_spec spec = {
        .account = acc->name,
        .account_id = tg->account_id,
        .region = tg->region,
        .log_group = cwx_plan_job_group(plan, job)->name,
        .log_stream_prefix = cwx_plan_job_sel(plan, job)->log_stream_prefix,
        .window = win->label,
        .from_ms = win->start_ms,
        .to_ms = last->end_ms - 1,
        .bucket = tg->bucket,
        .prefix = prefix,
        .marker_key = marker,
        .task_name = job->task_name,
        .detect = acc->settings.destination.detect,
        .max_attempts = acc->settings.max_attempts,
        .estimated_bytes = cwx__job_estimated_bytes(plan, job),
        .backoff_min_ms = policy.min_ms,
        .backoff_max_ms = policy.max_ms * 4,
        .patience = cwx_patience_of(cwx__lane_settings(lane)),
        .job = j,
        .windows = windows,
        .marker_keys = windows ? windows + n_windows : NULL,
        .n_windows = n_windows > 1 ? n_windows : 0,
    };
    int rc = cwx_worker_new(&spec, run->worker_ops, run->worker_ctx, &s_hooks, lane,
                            &rec->w);
    if (!rc)
        cwx_worker_set_data(rec->w, rec);
    return rc;
}

int cwx__lane_new_worker(struct cwx_lane *lane, uint32_t j, struct cwx_worker **out)
{
    const struct cwx_plan *plan = lane->run->plan;
    const struct cwx_job *job = &plan->jobs[j];
    size_t n_windows = cwx_plan_job_last(plan, job) - job->window + 1;
    struct cwx_buf prefix, marker, keys;
    cwx_buf_init(&prefix, CWX_S3_KEY_MAX);
    cwx_buf_init(&marker, CWX_S3_KEY_MAX);
    cwx_buf_init(&keys, 0);
    const char **windows = NULL;
    *out = NULL;
    struct cwx_lane_job *rec = calloc(1, sizeof(*rec));
    int rc = rec ? cwx__job_strings(plan, job, &prefix, &marker) : CWX_ENOMEM;
    if (!rc && n_windows > 1)
        rc = s_range_strings(plan, job, n_windows, &keys, &windows);
    if (!rc) {
        rec->lane = lane;
        rc = s_make_worker(lane, j, prefix.ptr, marker.ptr, windows, n_windows, rec);
    }
    if (rc)
        free(rec);
    else
        *out = rec->w;
    cwx_buf_free(&prefix);
    cwx_buf_free(&marker);
    cwx_buf_free(&keys);
    free(windows);
    return rc;
}

/* ---- what an end means --------------------------------------------------- */

/* Puts job j before the rest of the lane's queue. */
static int s_push_front(struct cwx_lane *lane, uint32_t j)
{
    if (lane->head == 0) {
        size_t room = 8;
        uint32_t *q = realloc(lane->queue, (lane->n_queue + room) * sizeof(*q));
        if (!q)
            return CWX_ENOMEM;
        memmove(q + room, q, lane->n_queue * sizeof(*q));
        lane->queue = q;
        lane->n_queue += room;
        lane->head = room;
        for (size_t i = 0; i < room; i++)
            q[i] = j; /* never read: head is past them */
    }
    lane->queue[--lane->head] = j;
    return 0;
}

/* Splits the range of head job j in two (docs/architecture.md §job):
 * each half has its own task name (known to the lane for adoption) and
 * both go first in the queue, the older half first. */
static void s_split(struct cwx_lane *lane, uint32_t j)
{
    struct cwx_run *run = lane->run;
    struct cwx_job *job = &run->plan->jobs[j];
    uint32_t half = job->span / 2;
    CWX_LOGW("%s: the task over %u windows FAILED; exporting its halves (%u and %u windows)",
             cwx_plan_job_group(run->plan, job)->name, (unsigned)job->span, (unsigned)half,
             (unsigned)(job->span - half));
    int rc = cwx_plan_split(run->plan, j);
    job->status = CWX_JOB_PENDING;
    job->reason = CWX_REASON_NONE;
    for (uint32_t k = 0; !rc && k < 2; k++) {
        uint32_t h = k ? j + half : j;
        rc = cwx__index_put(&run->task_index, run->plan->jobs[h].task_name, 0, h);
    }
    if (!rc)
        rc = s_push_front(lane, j + half);
    if (!rc)
        rc = s_push_front(lane, j);
    if (rc) {
        job->status = CWX_JOB_FAILED;
        job->reason = CWX_REASON_ERROR;
        lane->failed++;
        cwx__report_failure(run, j, "error", cwx_strerror(rc));
    }
}

/* Puts w's job back at the front of the queue and, when `wait`, pauses the
 * lane; the job checked ahead, if any, waits READY (the token is not given
 * while paused). */
static void s_pause(struct cwx_lane *lane, struct cwx_worker *w, int wait)
{
    uint32_t j = cwx_worker_spec(w)->job;
    if (lane->head > 0)
        lane->queue[--lane->head] = j; /* over a slot already taken */
    else if (lane->requeue < 0)
        lane->requeue = j;
    lane->pauses++;
    lane->pauses_total++;
    const struct cwx_settings *st = cwx__lane_settings(lane);
    uint64_t pause = st->outage_pause_ms > 0
                         ? (uint64_t)st->outage_pause_ms
                         : CWX__PAUSE_FACTOR * cwx_patience_of(st).max_ms;
    if (!wait) {
        CWX_LOGW("lane %s: AWS unavailable (%s); the job goes back to the queue (pause %d of "
                 "%d)",
                 lane->name, cwx_worker_detail(w), lane->pauses, st->outage_pauses);
        return;
    }
    CWX_LOGW("lane %s: AWS unavailable (%s); pausing %.1f s before going on (pause %d of %d)",
             lane->name, cwx_worker_detail(w), (double)pause / 1000.0, lane->pauses,
             st->outage_pauses);
    lane->pause_until_ms = cwx__lane_now(lane) + (int64_t)pause;
    cwx__lane_enter(lane, CWX_LANE_PAUSED);
    cwx__lane_arm(lane, pause);
    cwx__report_progress(lane->run, 1); /* the pause shows at once */
}

static void s_done(struct cwx_lane *lane, struct cwx_worker *w, struct cwx_job *job,
                   uint32_t covered)
{
    enum cwx_work_reason why = cwx_worker_reason(w);
    job->status = CWX_JOB_DONE;
    lane->done += 1 + covered;
    lane->pauses = 0;
    if (why == CWX_WR_MARKER || why == CWX_WR_OBJECTS) {
        job->reason = why == CWX_WR_MARKER ? CWX_REASON_MARKER : CWX_REASON_OBJECTS;
        lane->marked++;
        return;
    }
    job->reason = why == CWX_WR_EMPTY ? CWX_REASON_EMPTY : CWX_REASON_TASK_COMPLETED;
    if (why == CWX_WR_EMPTY)
        lane->empty++;
    else
        lane->exported++;
    lane->objects += cwx_worker_objects(w);
    lane->bytes += cwx_worker_bytes(w);
    cwx_lane_model_calibrate(&lane->model, cwx_worker_spec(w)->estimated_bytes,
                             (int64_t)cwx_worker_bytes(w));
    double incoming = cwx_ingest_job_bytes(lane->run->plan, job);
    if (incoming > 0)
        cwx_lane_model_calibrate_incoming(&lane->model, incoming, (double)cwx_worker_bytes(w));
}

/* A FAILED job; returns 1 when the lane paused. */
static int s_failed(struct cwx_lane *lane, struct cwx_worker *w, struct cwx_job *job)
{
    struct cwx_run *run = lane->run;
    enum cwx_work_reason why = cwx_worker_reason(w);
    int64_t e = cwx_worker_task_completion_ms(w);
    if (e > lane->last_end_ms)
        lane->last_end_ms = e;
    if (why == CWX_WR_DENIED) {
        /* Not the window's fault: the lane cannot go on. */
        job->status = CWX_JOB_PENDING;
        cwx__lane_stop(lane, cwx_worker_error(w), "%s is needed: %s",
                       cwx_worker_permission(w) ? cwx_worker_permission(w) : "a permission",
                       cwx_worker_detail(w));
    } else if (why == CWX_WR_UNAVAILABLE) {
        /* Not the window's fault either: AWS kept failing (or cannot be
         * trusted). Wait and go on with it, a few times; then stop and
         * leave the window to the next run. With no task of the lane
         * running, the lane pauses; a job checked ahead of a running task
         * goes back to the queue (and counts as a pause). */
        job->status = CWX_JOB_PENDING;
        if (cwx_worker_error(w) != CWX_ETLS &&
            lane->pauses < cwx__lane_settings(lane)->outage_pauses && !run->stopping) {
            int wait = !lane->active && (lane->state == CWX_LANE_IDLE ||
                                         lane->state == CWX_LANE_WORKING);
            s_pause(lane, w, wait);
            return wait;
        }
        cwx__lane_stop(lane, cwx_worker_error(w), "AWS unavailable: %s", cwx_worker_detail(w));
    } else if (why == CWX_WR_LOOP_GUARD) {
        job->status = CWX_JOB_PENDING;
        cwx__lane_stop(lane, CWX_ELOOPGUARD, "loop guard: %s", run->guard.why);
    } else {
        job->status = CWX_JOB_FAILED;
        job->reason = why == CWX_WR_ATTEMPTS ? CWX_REASON_ATTEMPTS : CWX_REASON_ERROR;
        lane->failed++;
        cwx__report_failure(run, cwx_worker_spec(w)->job, cwx_work_reason_name(why),
                            cwx_worker_detail(w));
    }
    return 0;
}

/* The outcome of w's job: its status, the windows of its range, the
 * counters. */
static void s_outcome(struct cwx_lane *lane, struct cwx_worker *w)
{
    struct cwx_run *run = lane->run;
    struct cwx_job *job = &run->plan->jobs[cwx_worker_spec(w)->job];
    enum cwx_work_state st = cwx_worker_state(w);
    uint32_t covered = cwx_plan_job_last(run->plan, job) - job->window;
    if (st == CWX_WORK_FAILED && cwx_worker_reason(w) == CWX_WR_SPLIT) {
        /* A range's task FAILED: its two halves go first in the queue. */
        s_split(lane, cwx_worker_spec(w)->job);
        return;
    }
    if (st == CWX_WORK_DONE) {
        s_done(lane, w, job, covered);
    } else if (st == CWX_WORK_FAILED) {
        s_failed(lane, w, job);
    } else { /* STOPPED */
        job->status = cwx_worker_task_id(w)[0] &&
                              cwx_export_status_is_active(cwx_worker_task_status(w))
                          ? CWX_JOB_RUNNING
                          : CWX_JOB_PENDING;
        lane->stopped_jobs++;
    }
    /* The windows of its range follow the head. */
    for (uint32_t i = 1; i <= covered; i++) {
        job[i].status = job->status;
        job[i].reason = job->reason;
    }
    if (job->status == CWX_JOB_FAILED)
        lane->failed += covered;
    cwx__report_progress(run, 0);
}

/* One ended worker: its place in the lane, then its job's outcome. */
static void s_settle_one(struct cwx_lane *lane, struct cwx_worker *w)
{
    int was_active = w == lane->active;
    int was_next = w == lane->next;
    s_finishing_remove(lane, w);
    if (was_active)
        lane->active = NULL;
    if (was_next)
        lane->next = NULL;
    /* Checked ahead and never started (dropped, or stopped before its
     * create): the job stays as it was. */
    if (!cwx__lane_job_of(w)->dropped &&
        !(was_next && cwx_worker_state(w) == CWX_WORK_STOPPED))
        s_outcome(lane, w);
    s_free_worker(lane, w);
    /* The token is free again (unless a pause or a halt holds the lane). */
    if (was_active && (lane->state == CWX_LANE_WORKING || lane->state == CWX_LANE_RETRY ||
                       lane->state == CWX_LANE_FOREIGN))
        cwx__lane_enter(lane, CWX_LANE_IDLE);
}

void cwx__lane_settle(struct cwx_lane *lane)
{
    while (lane->ended) {
        struct cwx_lane_job *rec = lane->ended;
        lane->ended = rec->next_ended;
        s_settle_one(lane, rec->w);
    }
}
