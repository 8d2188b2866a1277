/* Account lanes (docs/architecture.md §scheduler): one export token each, a queue (oldest
 * window first, then log-group order), at most one active job, and the
 * slot-busy procedure of docs/architecture.md §slot-busy (adopt ours by task name, else poll the
 * foreign holder until it ends, then create). */
#include "orchestrator/orchestrator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"
#include "workers/workers.h"

static void s_next(struct cwx_lane *lane);
static int s_cancel_active(struct cwx_lane *lane);
static void s_on_lease(struct cwx_lease *l, enum cwx_lease_event ev, void *ud);

/* The lane stops starting work: the run stops, an error stopped it, or its
 * lease was lost (fenced). */
static int s_halting(const struct cwx_lane *lane)
{
    return lane->run->stopping || lane->stopped || lane->fenced;
}

/* A lane whose job found AWS unavailable (its step failed nine times in a
 * row) pauses for outage.pause (default CWX__PAUSE_FACTOR × the longest step
 * wait: 5 minutes with the default poll), then goes on with that job; after
 * outage.pauses (default 3) pauses with no job done in between it stops,
 * its windows pending. */
#define CWX__PAUSE_FACTOR 5

static const struct cwx_settings *s_settings(const struct cwx_lane *lane)
{
    return &lane->run->cfg->accounts[lane->account].settings;
}

static struct cwx_poll_policy s_policy(const struct cwx_lane *lane)
{
    return cwx_poll_policy_of(s_settings(lane));
}

/* ---- building ------------------------------------------------------------ */

/* The lane's lease object (docs/architecture.md §lane-lease):
 * <state_prefix>/<account_id>/_lease.json, or <…>/<account_id>/<region>/
 * _lease.json with token_scope region, in lease.bucket or else the bucket of
 * the lane's first target (config order). */
static int s_lease_init(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    const struct cwx_settings *st = s_settings(lane);
    if (st->lease_off)
        return 0;
    uint32_t t0 = UINT32_MAX;
    for (uint32_t t = 0; t < run->plan->n_targets && t0 == UINT32_MAX; t++)
        if (run->lane_of_target[t] == lane->idx)
            t0 = t;
    if (t0 == UINT32_MAX)
        return 0;
    const struct cwx_plan_target *tg = &run->plan->targets[t0];
    if (!tg->account_id || !tg->bucket)
        return 0; /* the account is not known: the lane stops before any export */
    struct cwx_lease_s3 *s3 = &lane->lease_s3;
    if (cwx_lease_location(st, tg->account_id, tg->region, lane->target >= 0, tg->bucket, s3))
        return CWX_ECONFIG;
    s3->client = cwx_session_client(run->session, t0);
    struct cwx_lease_params p = {
        .ttl_ms = cwx_lease_ttl_ms(st),
        .lane = lane->name,
        .host = run->host,
        .pid = (long)getpid(),
        .runner = run->runner_id,
    };
    int rc = cwx_lease_init(&lane->lease, &run->loop, cwx_lease_s3_ops(), s3, &p, s_on_lease,
                            lane);
    if (!rc)
        lane->lease_on = 1;
    return rc;
}

int cwx__lanes_build(struct cwx_run *run)
{
    const struct cwx_plan *plan = run->plan;
    const struct cwx_config *cfg = run->cfg;
    run->lane_of_target = calloc(plan->n_targets + 1, sizeof(uint32_t));
    run->lanes = calloc(plan->n_targets + 1, sizeof(struct cwx_lane));
    run->lane_of_job = calloc(plan->n_jobs + 1, sizeof(uint32_t));
    if (!run->lane_of_target || !run->lanes || !run->lane_of_job)
        return CWX_ENOMEM;
    for (uint32_t t = 0; t < plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &plan->targets[t];
        const struct cwx_account *acc = &cfg->accounts[tg->account];
        int per_region = acc->settings.token_scope == CWX_SCOPE_REGION;
        size_t l = run->n_lanes;
        if (!per_region) {
            for (size_t k = 0; k < run->n_lanes; k++)
                if (run->lanes[k].account == tg->account && run->lanes[k].target < 0)
                    l = k;
        }
        if (l == run->n_lanes) {
            struct cwx_lane *lane = &run->lanes[run->n_lanes++];
            lane->run = run;
            lane->idx = (uint32_t)l;
            lane->account = tg->account;
            lane->target = per_region ? (int32_t)t : -1;
            lane->requeue = -1;
            lane->other_job = -1;
            uv_timer_init(&run->loop, &lane->timer);
            lane->timer.data = lane;
            lane->timer_init = 1;
            if (per_region)
                snprintf(lane->name, sizeof(lane->name), "%s/%s", acc->name, tg->region);
            else
                snprintf(lane->name, sizeof(lane->name), "%s", acc->name);
        }
        run->lane_of_target[t] = (uint32_t)l;
    }
    /* Queues: pending jobs of each lane, oldest window first. */
    size_t *counts = calloc(run->n_lanes + 1, sizeof(size_t));
    if (!counts)
        return CWX_ENOMEM;
    for (uint32_t j = 0; j < plan->n_jobs; j++) {
        const struct cwx_job *job = &plan->jobs[j];
        uint32_t l = run->lane_of_target[plan->groups[job->group].target];
        run->lane_of_job[j] = l;
        run->lanes[l].total++;
        if (job->status == CWX_JOB_PENDING && !job->covered)
            counts[l]++;
        if (job->task_name[0] && cwx__index_put(&run->task_index, job->task_name, 0, j)) {
            free(counts);
            return CWX_ENOMEM;
        }
    }
    for (size_t l = 0; l < run->n_lanes; l++) {
        run->lanes[l].queue = malloc((counts[l] ? counts[l] : 1) * sizeof(uint32_t));
        if (!run->lanes[l].queue) {
            free(counts);
            return CWX_ENOMEM;
        }
    }
    free(counts);
    for (uint32_t j = 0; j < plan->n_jobs; j++) {
        const struct cwx_job *job = &plan->jobs[j];
        struct cwx_lane *lane = &run->lanes[run->lane_of_job[j]];
        if (job->status == CWX_JOB_PENDING && job->covered)
            continue; /* exported by its range's head */
        if (job->status == CWX_JOB_PENDING)
            lane->queue[lane->n_queue++] = j;
        else if (job->status == CWX_JOB_SKIPPED)
            lane->skipped++;
        else if (job->status == CWX_JOB_DONE && job->reason == CWX_REASON_MARKER) {
            lane->marked++;
            lane->done++;
        }
        else if (job->status == CWX_JOB_FAILED) {
            lane->failed++;
            cwx__report_failure(run, j, "error", "the log group does not exist");
        }
    }
    for (size_t l = 0; l < run->n_lanes; l++)
        cwx__queue_sort(plan, run->lanes[l].queue, run->lanes[l].n_queue);
    /* Tasks found in AWS: adopt (active) or verify and mark (completed). */
    for (size_t i = 0; i < run->rec.n_tasks; i++) {
        const struct cwx_known_task *k = &run->rec.tasks[i];
        struct cwx_lane *lane = &run->lanes[run->lane_of_job[k->job]];
        struct cwx_lane_prelude *p =
            realloc(lane->prelude, (lane->n_prelude + 1) * sizeof(*p));
        if (!p)
            return CWX_ENOMEM;
        lane->prelude = p;
        p = &p[lane->n_prelude++];
        p->job = k->job;
        p->completed = k->completed;
        snprintf(p->task_id, sizeof(p->task_id), "%s", k->task_id);
        p->creation_ms = k->creation_ms;
        p->completion_ms = k->completion_ms;
    }
    /* Active tasks first (they hold the slot), then completed ones. */
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        size_t w = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = w; i < lane->n_prelude; i++) {
                if (lane->prelude[i].completed == pass) {
                    struct cwx_lane_prelude tmp = lane->prelude[i];
                    memmove(&lane->prelude[w + 1], &lane->prelude[w], (i - w) * sizeof(tmp));
                    lane->prelude[w++] = tmp;
                }
            }
        }
    }
    /* Foreign holders found at start: wait on them before creating. */
    for (size_t i = 0; i < run->rec.n_foreign; i++) {
        const struct cwx_foreign_task *f = &run->rec.foreign[i];
        struct cwx_lane *lane = &run->lanes[run->lane_of_target[f->target]];
        if (!lane->foreign.task_id[0])
            lane->foreign = *f;
    }
    for (size_t l = 0; l < run->n_lanes; l++) {
        int rc = s_lease_init(&run->lanes[l]);
        if (rc)
            return rc;
    }
    return 0;
}

void cwx__lanes_free(struct cwx_run *run)
{
    for (size_t l = 0; l < run->n_lanes; l++) {
        free(run->lanes[l].queue);
        free(run->lanes[l].prelude);
        free(run->lanes[l].finishing);
    }
    free(run->lanes);
    free(run->lane_of_target);
    free(run->lane_of_job);
    cwx__index_free(&run->task_index);
}

/* ---- the worker's hooks -------------------------------------------------- */

static struct cwx_lane *s_lane_of(struct cwx_worker *w)
{
    return cwx_worker_data(w);
}

/* Jobs verifying and marking without the token. */
static int s_finishing_add(struct cwx_lane *lane, struct cwx_worker *w)
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

/* Returns 1 when w was among the finishing jobs (and is no more). */
static int s_finishing_remove(struct cwx_lane *lane, struct cwx_worker *w)
{
    for (size_t i = 0; i < lane->n_finishing; i++) {
        if (lane->finishing[i] == w) {
            memmove(&lane->finishing[i], &lane->finishing[i + 1],
                    (lane->n_finishing - i - 1) * sizeof(*lane->finishing));
            lane->n_finishing--;
            return 1;
        }
    }
    return 0;
}

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
    if (!cwx_worker_data(w))
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
    if (to == CWX_WORK_VERIFY && s_finishing_add(lane, w) == 0) {
        /* The task is COMPLETED and the slot free: hand the token over now.
         * Listing the export and writing the marker go on beside the next
         * job's task; they never sit between this poll and the next
         * CreateExportTask. (Out of memory: the job keeps the token until
         * it is marked, as a safe fallback.) */
        lane->active = NULL;
        s_next(lane);
    } else if (to == CWX_WORK_WAIT) {
        struct cwx_run *run = lane->run;
        /* A task created after the signal (its create was in flight). */
        if (run->stopping && !run->aborting && run->opts->cancel_on_exit &&
            s_cancel_active(lane))
            return;
        s_next(lane); /* check the next job while this task runs */
    }
}

static int h_may_create(struct cwx_worker *w, void *ud)
{
    struct cwx_lane *lane = ud;
    struct cwx_run *run = lane->run;
    if (s_halting(lane) || !cwx_worker_data(w))
        return CWX_ECANCELED;
    if (w != lane->active) {
        /* The token: one job of the lane between its create and its task's
         * end, and none while a foreign task is known to hold the slot. */
        if (lane->active || lane->foreign.task_id[0] || lane->state == CWX_LANE_FOREIGN ||
            lane->state == CWX_LANE_LISTING || lane->state == CWX_LANE_PAUSED ||
            lane->state == CWX_LANE_LEASE)
            return CWX_WORK_HOLD;
        if (lane->next == w)
            lane->next = NULL;
        lane->active = w;
        lane->state = CWX_LANE_WORKING;
    }
    if (lane->lease_on) {
        /* Fencing: a renew of the lease right before every create; the
         * worker waits READY until it answers (s_on_lease, FRESH). */
        if (!lane->lease_fresh || !cwx_lease_valid(&lane->lease)) {
            lane->lease_fresh = 0;
            if (cwx_lease_refresh(&lane->lease) != 0) {
                lane->fenced = 1; /* not held: create nothing */
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
    if (status == 0) {
        lane->busy_creates = 0;
        int64_t now = cwx__now_ms();
        if (lane->last_end_ms > 0 && now >= lane->last_end_ms) {
            double gap = (double)(now - lane->last_end_ms);
            lane->gap_sum_ms += gap;
            lane->gaps++;
            cwx_lane_model_observe_gap(&lane->model, (int64_t)gap);
            if (gap > lane->gap_max_ms)
                lane->gap_max_ms = gap;
        }
    }
}

static void s_slot_busy(struct cwx_lane *lane);

static void h_slot_busy(struct cwx_worker *w, void *ud)
{
    (void)w;
    s_slot_busy(ud);
}

static void h_poll(struct cwx_worker *w, const struct cwx_work_result *res, void *ud)
{
    (void)w;
    (void)res;
    cwx__report_progress(((struct cwx_lane *)ud)->run, 0);
}

/* Frees a worker of the lane, keeping its retry counts for the summary. */
static void s_free_worker(struct cwx_lane *lane, struct cwx_worker *w)
{
    if (!w)
        return; /* s_new_worker failed: nothing was made */
    lane->retries += (uint64_t)cwx_worker_retries(w);
    lane->step_retries += (uint64_t)cwx_worker_step_retries(w);
    cwx_worker_free(w);
}

static void s_stop_lane(struct cwx_lane *lane, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_stop_lane(struct cwx_lane *lane, int error, const char *fmt, ...)
{
    if (lane->stopped)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lane->stop_reason, sizeof(lane->stop_reason), fmt, ap);
    va_end(ap);
    lane->stopped = 1;
    lane->stop_error = error;
    CWX_LOGE("lane %s stopped: %s", lane->name, lane->stop_reason);
}

static void s_pause(struct cwx_lane *lane, struct cwx_worker *w, int wait);

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
static int s_split(struct cwx_lane *lane, uint32_t j)
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
    return rc;
}

static void h_final(struct cwx_worker *w, void *ud)
{
    struct cwx_lane *lane = ud;
    struct cwx_run *run = lane->run;
    const struct cwx_work_spec *spec = cwx_worker_spec(w);
    struct cwx_job *job = &run->plan->jobs[spec->job];
    enum cwx_work_state st = cwx_worker_state(w);
    enum cwx_work_reason why = cwx_worker_reason(w);
    int was_active = w == lane->active;
    int was_next = w == lane->next;
    int dropped = !cwx_worker_data(w);
    s_finishing_remove(lane, w);
    if (was_active)
        lane->active = NULL;
    if (was_next)
        lane->next = NULL;
    if (dropped || (was_next && st == CWX_WORK_STOPPED)) {
        /* Checked ahead, never started: the job stays as it was. */
        s_free_worker(lane, w);
        s_next(lane);
        return;
    }
    int paused = 0;
    uint32_t covered = cwx_plan_job_last(run->plan, job) - job->window;
    if (st == CWX_WORK_FAILED && why == CWX_WR_SPLIT) {
        /* A range's task FAILED: its two halves go first in the queue. */
        int rc = s_split(lane, spec->job);
        if (rc) {
            job->status = CWX_JOB_FAILED;
            job->reason = CWX_REASON_ERROR;
            lane->failed++;
            cwx__report_failure(run, spec->job, "error", cwx_strerror(rc));
        }
        s_free_worker(lane, w);
        if (was_active && lane->state != CWX_LANE_PAUSED)
            lane->state = CWX_LANE_IDLE;
        s_next(lane);
        return;
    }
    if (st == CWX_WORK_DONE) {
        job->status = CWX_JOB_DONE;
        lane->done += 1 + covered;
        lane->pauses = 0;
        if (why == CWX_WR_MARKER || why == CWX_WR_OBJECTS) {
            job->reason = why == CWX_WR_MARKER ? CWX_REASON_MARKER : CWX_REASON_OBJECTS;
            lane->marked++;
        } else {
            job->reason = why == CWX_WR_EMPTY ? CWX_REASON_EMPTY : CWX_REASON_TASK_COMPLETED;
            if (why == CWX_WR_EMPTY)
                lane->empty++;
            else
                lane->exported++;
            lane->objects += cwx_worker_objects(w);
            lane->bytes += cwx_worker_bytes(w);
            cwx_lane_model_calibrate(&lane->model, spec->estimated_bytes,
                                     (int64_t)cwx_worker_bytes(w));
        }
    } else if (st == CWX_WORK_FAILED) {
        int64_t e = cwx_worker_task_completion_ms(w);
        if (e > lane->last_end_ms)
            lane->last_end_ms = e;
        if (why == CWX_WR_DENIED) {
            /* Not the window's fault: the lane cannot go on. */
            job->status = CWX_JOB_PENDING;
            s_stop_lane(lane, cwx_worker_error(w), "%s is needed: %s",
                        cwx_worker_permission(w) ? cwx_worker_permission(w) : "a permission",
                        cwx_worker_detail(w));
        } else if (why == CWX_WR_UNAVAILABLE) {
            /* Not the window's fault either: AWS kept failing (or cannot be
             * trusted). Wait and go on with it, a few times; then stop and
             * leave the window to the next run. */
            job->status = CWX_JOB_PENDING;
            if (cwx_worker_error(w) != CWX_ETLS &&
                lane->pauses < s_settings(lane)->outage_pauses && !run->stopping) {
                /* With no task of the lane running, the lane pauses; a
                 * job checked ahead of a running task goes back to the
                 * queue (and counts as a pause). */
                paused = !lane->active && !uv_is_active((uv_handle_t *)&lane->timer);
                s_pause(lane, w, paused);
            } else {
                s_stop_lane(lane, cwx_worker_error(w), "AWS unavailable: %s",
                            cwx_worker_detail(w));
            }
        } else if (why == CWX_WR_LOOP_GUARD) {
            job->status = CWX_JOB_PENDING;
            s_stop_lane(lane, CWX_ELOOPGUARD, "loop guard: %s", run->guard.why);
        } else {
            job->status = CWX_JOB_FAILED;
            job->reason = why == CWX_WR_ATTEMPTS ? CWX_REASON_ATTEMPTS : CWX_REASON_ERROR;
            lane->failed++;
            cwx__report_failure(run, spec->job, cwx_work_reason_name(why), cwx_worker_detail(w));
        }
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
    s_free_worker(lane, w);
    if (was_active && !paused && lane->state != CWX_LANE_PAUSED)
        lane->state = CWX_LANE_IDLE;
    cwx__report_progress(run, 0);
    s_next(lane);
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
    struct cwx_lane *lane = s_lane_of(w);
    struct cwx_poll_policy p = s_policy(lane);
    int64_t now = cwx__now_ms();
    int64_t created = cwx_worker_task_creation_ms(w);
    struct cwx_poll_input in;
    cwx_lane_model_poll_input(&lane->model, &p, cwx_worker_polls(w),
                              created > 0 ? now - created : 0,
                              cwx_worker_spec(w)->estimated_bytes, &in);
    return cwx_poll_delay(&p, &in);
}

/* ---- starting jobs ------------------------------------------------------- */

static int s_new_worker(struct cwx_lane *lane, uint32_t j, struct cwx_worker **out)
{
    struct cwx_run *run = lane->run;
    const struct cwx_plan *plan = run->plan;
    const struct cwx_job *job = &plan->jobs[j];
    const struct cwx_plan_target *tg = cwx_plan_job_target(plan, job);
    const struct cwx_account *acc = cwx_plan_job_account(plan, job);
    const struct cwx_window *win = cwx_plan_job_window(plan, job);
    const struct cwx_window *last = &plan->wsets[cwx_plan_job_group(plan, job)->wset]
                                          .windows[cwx_plan_job_last(plan, job)];
    size_t n_windows = cwx_plan_job_last(plan, job) - job->window + 1;
    struct cwx_buf prefix, marker, keys;
    cwx_buf_init(&prefix, CWX_S3_KEY_MAX);
    cwx_buf_init(&marker, CWX_S3_KEY_MAX);
    cwx_buf_init(&keys, 0);
    const char **windows = NULL, **marker_keys = NULL;
    int rc = cwx__job_strings(plan, job, &prefix, &marker);
    if (!rc && n_windows > 1) {
        /* One marker key per window of the range, NUL-separated in keys. */
        windows = calloc(2 * n_windows, sizeof(char *));
        size_t *offs = calloc(n_windows, sizeof(size_t));
        rc = windows && offs ? 0 : CWX_ENOMEM;
        for (size_t i = 0; !rc && i < n_windows; i++) {
            offs[i] = keys.len;
            rc = cwx_plan_job_marker_key(plan, job + i, &keys);
            if (!rc)
                rc = cwx_buf_putc(&keys, '\0');
        }
        if (!rc) {
            marker_keys = windows + n_windows;
            for (size_t i = 0; i < n_windows; i++) {
                windows[i] = cwx_plan_job_window(plan, job + i)->label;
                marker_keys[i] = keys.ptr + offs[i];
            }
        }
        free(offs);
    }
    if (!rc) {
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
            .prefix = prefix.ptr,
            .marker_key = marker.ptr,
            .task_name = job->task_name,
            .detect = acc->settings.destination.detect,
            .max_attempts = acc->settings.max_attempts,
            .estimated_bytes = cwx__job_estimated_bytes(plan, job),
            .backoff_min_ms = s_policy(lane).min_ms,
            .backoff_max_ms = s_policy(lane).max_ms * 4,
            .patience = cwx_patience_of(s_settings(lane)),
            .job = j,
            .windows = windows,
            .marker_keys = marker_keys,
            .n_windows = n_windows > 1 ? n_windows : 0,
        };
        rc = cwx_worker_new(&spec, cwx_worker_aws_ops(), run->wa, &s_hooks, lane, out);
        if (!rc)
            cwx_worker_set_data(*out, lane);
    }
    cwx_buf_free(&prefix);
    cwx_buf_free(&marker);
    cwx_buf_free(&keys);
    free(windows);
    return rc;
}

/* Tells the run, once, that the lane is over (its lease released). */
static void s_lane_over(struct cwx_lane *lane)
{
    if (lane->finished_told)
        return;
    lane->finished_told = 1;
    if (lane->lease_on)
        cwx_lease_stop(&lane->lease);
    cwx__run_lane_finished(lane->run, lane);
}

static void s_finish_lane(struct cwx_lane *lane)
{
    if (lane->state == CWX_LANE_FINISHED)
        return;
    lane->state = CWX_LANE_FINISHED;
    lane->finished_ms = cwx__now_ms();
    /* A held lease is released (DeleteObject) so that another runner may
     * take the lane at once; after a second signal it is left to expire. */
    if (lane->lease_on && !lane->run->aborting && cwx_lease_release(&lane->lease) == 0)
        return; /* s_on_lease: RELEASED */
    s_lane_over(lane);
}

static void s_foreign_poll(struct cwx_lane *lane);
static void s_lane_timer(uv_timer_t *h);

static void s_arm(struct cwx_lane *lane, int what, uint64_t delay)
{
    lane->timer_what = what;
    uv_timer_start(&lane->timer, s_lane_timer, delay ? delay : 1, 0);
}

/* Puts w's job back at the front of the queue and, when `wait`, pauses the
 * lane; the job checked ahead, if any, waits READY (h_may_create holds
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
    const struct cwx_settings *st = s_settings(lane);
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
    lane->state = CWX_LANE_PAUSED;
    lane->pause_until_ms = cwx__now_ms() + (int64_t)pause;
    s_arm(lane, 5, pause);
    cwx__report_progress(lane->run, 1); /* the pause shows at once */
}

/* The next job of the queue still to do (a requeued one first). */
static int s_take_job(struct cwx_lane *lane, uint32_t *out)
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

/* A worker that could not start is FAILED and its on_final never runs. */
static void s_start_failed(struct cwx_lane *lane, struct cwx_worker *w, uint32_t j, int rc)
{
    struct cwx_run *run = lane->run;
    char detail[200];
    snprintf(detail, sizeof(detail), "could not start: %s", cwx_strerror(rc));
    run->plan->jobs[j].status = CWX_JOB_FAILED;
    run->plan->jobs[j].reason = CWX_REASON_ERROR;
    lane->failed++;
    cwx__report_failure(run, j, "error", detail);
    s_free_worker(lane, w);
}

/* Drops the job checked ahead (stopping, or another process runs it). */
static void s_drop_next(struct cwx_lane *lane)
{
    struct cwx_worker *w = lane->next;
    if (!w)
        return;
    if (cwx_worker_interrupt(w)) {
        lane->next = NULL;
        s_free_worker(lane, w);
        return;
    }
    /* Its check is in flight: on_final follows, and frees it. */
    if (s_finishing_add(lane, w) == 0) {
        lane->next = NULL;
        cwx_worker_set_data(w, NULL);
    }
}

/* Moves the active worker (BLOCKED, or READY) on to its create; with
 * `recheck`, through CHECK first (after any wait another process may have
 * exported the window: docs/architecture.md §slot-busy). A worker that
 * could not start is FAILED without its on_final: finish it here. Any other
 * refusal (it is not BLOCKED or READY) leaves it to its own callbacks. */
static void s_resume_active(struct cwx_lane *lane, int recheck)
{
    struct cwx_worker *w = lane->active;
    if (!w)
        return;
    int rc = recheck ? cwx_worker_recheck(w) : cwx_worker_create_again(w);
    if (rc && lane->active == w && cwx_work_state_is_final(cwx_worker_state(w)))
        h_final(w, lane);
}

/* The lease was lost and every worker of the lane has stopped: put the
 * lane's unfinished jobs back and wait for the lease again. */
static void s_lease_again(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    lane->fenced = 0;
    lane->lease_fresh = 0;
    /* The queue again: every job of the lane still to do, those whose task
     * was left running (adopted at start, or created here) included. The
     * prelude's entries not taken up yet stay where they are. */
    size_t n = 0;
    for (uint32_t j = 0; j < run->plan->n_jobs; j++) {
        if (run->lane_of_job[j] != lane->idx)
            continue;
        if (run->plan->jobs[j].status == CWX_JOB_RUNNING)
            run->plan->jobs[j].status = CWX_JOB_PENDING;
        if (run->plan->jobs[j].status == CWX_JOB_PENDING)
            n++;
    }
    uint32_t *q = n > lane->n_queue ? realloc(lane->queue, n * sizeof(*q)) : lane->queue;
    if (q) {
        lane->queue = q;
        lane->n_queue = 0;
        for (uint32_t j = 0; j < run->plan->n_jobs; j++)
            if (run->lane_of_job[j] == lane->idx && run->plan->jobs[j].status == CWX_JOB_PENDING)
                q[lane->n_queue++] = j;
        cwx__queue_sort(run->plan, lane->queue, lane->n_queue);
    }
    lane->head = 0;
    lane->requeue = -1;
    memset(&lane->foreign, 0, sizeof(lane->foreign));
    lane->state = CWX_LANE_LEASE;
    int rc = cwx_lease_start(&lane->lease, 0);
    if (rc) {
        s_stop_lane(lane, rc, "cannot wait for the lease: %s", cwx_strerror(rc));
        lane->state = CWX_LANE_IDLE;
        lane->next_again = 1;
    }
}

/* The lease is lost: create nothing more, leave the active task to the
 * runner that holds the lease now (it adopts it by name), stop the job
 * checked ahead; jobs verifying and marking a COMPLETED task finish. */
static void s_fence(struct cwx_lane *lane)
{
    lane->fenced = 1;
    lane->lease_fresh = 0;
    s_drop_next(lane);
    if (lane->state == CWX_LANE_LISTING)
        return; /* s_listed_all sees `fenced` */
    uv_timer_stop(&lane->timer);
    memset(&lane->foreign, 0, sizeof(lane->foreign));
    if (lane->active) {
        if (cwx_worker_interrupt(lane->active))
            h_final(lane->active, lane); /* idle: finish it ourselves */
        return;                          /* else on_final follows */
    }
    lane->state = CWX_LANE_IDLE;
    s_next(lane);
}

static void s_on_lease(struct cwx_lease *l, enum cwx_lease_event ev, void *ud)
{
    struct cwx_lane *lane = ud;
    if (lane->state == CWX_LANE_FINISHED) {
        /* Finished: whatever ends the release ends the lane. */
        if (ev == CWX_LEASE_EV_RELEASED || ev == CWX_LEASE_EV_LOST ||
            ev == CWX_LEASE_EV_FAILED)
            s_lane_over(lane);
        return;
    }
    switch (ev) {
    case CWX_LEASE_EV_HELD:
        if (lane->state == CWX_LANE_LEASE) {
            lane->state = CWX_LANE_IDLE;
            s_next(lane);
        }
        return;
    case CWX_LEASE_EV_FRESH:
        lane->lease_fresh = 1;
        if (lane->active && cwx_worker_state(lane->active) == CWX_WORK_READY)
            s_resume_active(lane, 0);
        return;
    case CWX_LEASE_EV_LOST:
        s_fence(lane);
        return;
    case CWX_LEASE_EV_FAILED:
        s_stop_lane(lane, l->error ? l->error : CWX_EAWS, "%s", l->detail);
        if (lane->state == CWX_LANE_LEASE) {
            lane->state = CWX_LANE_IDLE;
            s_next(lane);
            return;
        }
        s_fence(lane); /* stopped: s_next_step finishes the lane */
        return;
    case CWX_LEASE_EV_RELEASED:
        return;
    }
}

/* Completed tasks found at start verify and mark a few at a time. */
#define CWX__PRELUDE_VERIFY_MAX 4

/* One step of s_next. Every start of a worker returns at once after
 * setting next_again (a start may end in on_final, which calls s_next). */
static void s_next_step(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    struct cwx_worker *w = NULL;
    uint32_t j;
    int rc;
    if (run->stopping || lane->stopped || run->guard.tripped || lane->fenced) {
        if (run->guard.tripped && !lane->stopped && lane->head < lane->n_queue)
            s_stop_lane(lane, CWX_ELOOPGUARD, "loop guard: %s", run->guard.why);
        s_drop_next(lane);
        if (!lane->active && !lane->next && !lane->n_finishing) {
            uv_timer_stop(&lane->timer);
            if (lane->fenced && !run->stopping && !lane->stopped && !run->guard.tripped)
                s_lease_again(lane);
            else
                s_finish_lane(lane);
        }
        return;
    }
    if (lane->state == CWX_LANE_LEASE)
        return; /* the lease decides (s_on_lease) */
    /* COMPLETED tasks of ours found in AWS: verify and mark (no token). */
    if (lane->prelude_head < lane->n_prelude && lane->prelude[lane->prelude_head].completed &&
        lane->n_finishing < CWX__PRELUDE_VERIFY_MAX) {
        const struct cwx_lane_prelude *p = &lane->prelude[lane->prelude_head++];
        j = p->job;
        lane->next_again = 1;
        rc = s_new_worker(lane, j, &w);
        if (!rc)
            rc = s_finishing_add(lane, w);
        if (!rc) {
            rc = cwx_worker_start_verify(w, p->task_id, p->creation_ms, p->completion_ms);
            if (rc)
                s_finishing_remove(lane, w);
        }
        if (rc)
            s_start_failed(lane, w, j, rc);
        return;
    }
    if (lane->state == CWX_LANE_FOREIGN || lane->state == CWX_LANE_PAUSED)
        return; /* the foreign holder's poll, or the pause's end, decides */
    if (!lane->active) {
        if (lane->foreign.task_id[0]) {
            /* Known holder (found at start): wait for it before creating. */
            lane->state = CWX_LANE_FOREIGN;
            lane->foreign_waits++;
            s_arm(lane, 1, 1);
            return;
        }
        if (lane->next) {
            if (cwx_worker_state(lane->next) != CWX_WORK_READY)
                return; /* still checking: it takes the token itself */
            w = lane->next;
            lane->next = NULL;
            lane->active = w;
            lane->state = CWX_LANE_WORKING;
            /* Checked while the previous task ran, which held the slot:
             * no task of this job could be created meanwhile but by a
             * runner ignoring the lease (with `lease: off`, one runner per
             * config). The lease's renew comes first (h_may_create). */
            s_resume_active(lane, 0);
            return;
        }
        if (lane->prelude_head < lane->n_prelude) {
            /* A task of ours found active at start: adopt it. */
            const struct cwx_lane_prelude *p = &lane->prelude[lane->prelude_head++];
            j = p->job;
            lane->next_again = 1;
            rc = s_new_worker(lane, j, &w);
            if (!rc) {
                lane->active = w;
                lane->state = CWX_LANE_WORKING;
                lane->adopted++;
                rc = cwx_worker_start_wait(w, p->task_id, p->creation_ms);
            }
            if (rc) {
                if (lane->active == w)
                    lane->active = NULL;
                s_start_failed(lane, w, j, rc);
            }
            return;
        }
    } else if (lane->next || cwx_worker_state(lane->active) != CWX_WORK_WAIT) {
        return; /* the next job is checked already, or the slot's task is not there yet */
    } else if (lane->prelude_head < lane->n_prelude) {
        return; /* adopted tasks come before the queue */
    }
    if (lane->next)
        return;
    if (!s_take_job(lane, &j)) {
        if (!lane->active && !lane->n_finishing && lane->prelude_head >= lane->n_prelude) {
            uv_timer_stop(&lane->timer);
            s_finish_lane(lane);
        }
        return;
    }
    /* Check it now: with the slot free it goes on to create at once; with a
     * task running it waits READY for the token. */
    lane->next_again = 1;
    rc = s_new_worker(lane, j, &w);
    if (!rc) {
        lane->next = w;
        lane->state = CWX_LANE_WORKING;
        rc = cwx_worker_start(w);
    }
    if (rc) {
        if (lane->next == w)
            lane->next = NULL;
        s_start_failed(lane, w, j, rc);
    }
}

/* Moves the lane on: verify COMPLETED tasks found at start, adopt active
 * ones, hand the token to the job checked ahead, check the next job while
 * a task runs, finish when nothing is left. Re-entrant: a call from inside
 * a call makes the outer one go round again. */
static void s_next(struct cwx_lane *lane)
{
    if (lane->state == CWX_LANE_FINISHED || lane->state == CWX_LANE_LISTING)
        return;
    if (lane->in_next) {
        lane->next_again = 1;
        return;
    }
    lane->in_next = 1;
    do {
        lane->next_again = 0;
        s_next_step(lane);
    } while (lane->next_again && lane->state != CWX_LANE_FINISHED &&
             lane->state != CWX_LANE_LISTING);
    lane->in_next = 0;
}

/* ---- slot busy ----------------------------------------------------------- */

struct s_listing {
    struct cwx_lane *lane;
    uint32_t target;
};

static void s_listed_all(struct cwx_lane *lane);

static void s_on_active(int status, struct cwx_logs_export_tasks *all,
                        const struct cwx_aws_error *err, void *ud)
{
    struct s_listing *li = ud;
    struct cwx_lane *lane = li->lane;
    struct cwx_run *run = lane->run;
    if (status) {
        char e[320] = "";
        if (err)
            cwx_aws_error_format(err, e, sizeof(e));
        CWX_LOGW("lane %s: listing active tasks failed: %s", lane->name,
                 e[0] ? e : cwx_strerror(status));
        if (!lane->listing_error)
            lane->listing_error = status;
    } else {
        const char *mine = lane->active ? cwx_worker_spec(lane->active)->task_name : "";
        for (size_t i = 0; i < all->n; i++) {
            const struct cwx_logs_export_task *t = &all->tasks[i];
            if (!cwx_export_status_is_active(t->status))
                continue;
            uint32_t j;
            if (t->task_name[0] && strcmp(t->task_name, mine) == 0) {
                snprintf(lane->ours_task, sizeof(lane->ours_task), "%s", t->task_id);
                lane->ours_creation = t->creation_time_ms;
            } else if (t->task_name[0] &&
                       cwx__index_get(&run->task_index, t->task_name, strlen(t->task_name), 0,
                                      &j) &&
                       run->lane_of_job[j] == lane->idx &&
                       (run->plan->jobs[j].status == CWX_JOB_PENDING ||
                        run->plan->jobs[j].status == CWX_JOB_RUNNING)) {
                lane->other_job = j;
                snprintf(lane->other_task, sizeof(lane->other_task), "%s", t->task_id);
                lane->other_creation = t->creation_time_ms;
            } else if (!lane->foreign.task_id[0]) {
                struct cwx_foreign_task *f = &lane->foreign;
                memset(f, 0, sizeof(*f));
                f->target = li->target;
                snprintf(f->task_id, sizeof(f->task_id), "%s", t->task_id);
                snprintf(f->task_name, sizeof(f->task_name), "%s", t->task_name);
                snprintf(f->log_group, sizeof(f->log_group), "%s", t->log_group_name);
                snprintf(f->status, sizeof(f->status), "%s", cwx_export_status_name(t->status));
                f->creation_ms = t->creation_time_ms;
            }
        }
        cwx_logs_export_tasks_free(all);
    }
    free(li);
    if (--lane->listing_pending == 0)
        s_listed_all(lane);
}

static void s_list_target(struct cwx_lane *lane, uint32_t t, enum cwx_export_status st)
{
    struct cwx_run *run = lane->run;
    struct s_listing *li = calloc(1, sizeof(*li));
    if (!li) {
        lane->listing_error = CWX_ENOMEM;
        return;
    }
    li->lane = lane;
    li->target = t;
    lane->listing_pending++;
    int rc = cwx_logs_describe_export_tasks_all(cwx_session_client(run->session, t), st, 50, 20,
                                                s_on_active, li);
    if (rc) {
        lane->listing_pending--;
        lane->listing_error = rc;
        free(li);
    }
}

static void s_slot_busy(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    lane->state = CWX_LANE_LISTING;
    lane->ours_task[0] = 0;
    lane->other_job = -1;
    lane->listing_error = 0;
    memset(&lane->foreign, 0, sizeof(lane->foreign));
    lane->listing_pending = 1; /* held while starting */
    for (uint32_t t = 0; t < run->plan->n_targets; t++) {
        if (run->lane_of_target[t] != lane->idx)
            continue;
        s_list_target(lane, t, CWX_EXPORT_PENDING);
        s_list_target(lane, t, CWX_EXPORT_RUNNING);
    }
    /* Every listing started answers later, from the loop; if none started,
     * decide from a timer so the worker's callback has returned first. */
    if (--lane->listing_pending == 0)
        s_arm(lane, 3, 1);
}

static void s_listed_all(struct cwx_lane *lane)
{
    struct cwx_worker *w = lane->active;
    lane->state = CWX_LANE_WORKING;
    if (!w)
        return;
    if (s_halting(lane)) {
        if (cwx_worker_interrupt(w)) {
            h_final(w, lane); /* idle: finish it ourselves */
        }
        return;
    }
    if (lane->ours_task[0]) {
        /* Another process (or our earlier self) created this very job. */
        lane->adopted++;
        int rc = cwx_worker_adopt(w, lane->ours_task, lane->ours_creation);
        if (rc == 0)
            return;
    }
    if (lane->other_job >= 0) {
        /* Another job of this lane is running (a cooperating process):
         * wait on it, and put ours back in front of the queue. */
        uint32_t j = (uint32_t)lane->other_job;
        lane->requeue = (int64_t)cwx_worker_spec(w)->job;
        lane->active = NULL;
        if (cwx_worker_interrupt(w))
            s_free_worker(lane, w);
        else
            cwx_worker_set_data(w, NULL); /* in flight: h_final frees it, dropped */
        if (lane->next && cwx_worker_spec(lane->next)->job == j)
            s_drop_next(lane); /* the job checked ahead is the one running */
        struct cwx_worker *nw = NULL;
        int rc = s_new_worker(lane, j, &nw);
        if (!rc) {
            lane->adopted++;
            lane->active = nw;
            rc = cwx_worker_start_wait(nw, lane->other_task, lane->other_creation);
        }
        if (rc) {
            if (lane->active == nw)
                lane->active = NULL;
            s_free_worker(lane, nw);
            lane->state = CWX_LANE_IDLE;
            s_arm(lane, 4, s_policy(lane).min_ms);
            return;
        }
        return;
    }
    if (lane->foreign.task_id[0]) {
        lane->state = CWX_LANE_FOREIGN;
        lane->foreign_waits++;
        lane->foreign_polls = 0;
        CWX_LOGI("lane %s: export slot held by task %s (%s%s%s); waiting for it", lane->name,
                 lane->foreign.task_id, lane->foreign.log_group,
                 lane->foreign.task_name[0] ? ", " : "", lane->foreign.task_name);
        s_arm(lane, 1, s_policy(lane).min_ms);
        return;
    }
    /* Nothing active any more (it ended meanwhile), or the listing failed:
     * create again after one short interval — never at once, never blind
     * for long. */
    s_arm(lane, 2, s_policy(lane).min_ms);
}

/* ---- the foreign holder -------------------------------------------------- */

static void s_foreign_ended(struct cwx_lane *lane)
{
    memset(&lane->foreign, 0, sizeof(lane->foreign));
    lane->state = lane->active ? CWX_LANE_WORKING : CWX_LANE_IDLE;
    if (lane->active) {
        if (s_halting(lane)) {
            if (cwx_worker_interrupt(lane->active))
                h_final(lane->active, lane);
            return;
        }
        s_resume_active(lane, 1);
        return;
    }
    s_next(lane);
}

static void s_on_foreign(int status, const struct cwx_logs_export_tasks *res,
                         const struct cwx_aws_error *err, void *ud)
{
    (void)err;
    struct cwx_lane *lane = ud;
    struct cwx_run *run = lane->run;
    if (run->aborting || s_halting(lane)) {
        lane->state = lane->active ? CWX_LANE_WORKING : CWX_LANE_IDLE;
        memset(&lane->foreign, 0, sizeof(lane->foreign));
        if (lane->active) {
            if (cwx_worker_interrupt(lane->active))
                h_final(lane->active, lane);
        } else {
            s_next(lane);
        }
        return;
    }
    int active = 1;
    if (status == 0)
        active = res && res->n > 0 && cwx_export_status_is_active(res->tasks[0].status);
    else if (status == CWX_ENOTFOUND)
        active = 0;
    if (!active) {
        s_foreign_ended(lane);
        return;
    }
    lane->foreign_polls++;
    struct cwx_poll_policy p = s_policy(lane);
    struct cwx_poll_input in = {
        .polls = lane->foreign_polls,
        .age_ms = lane->foreign.creation_ms > 0 ? cwx__now_ms() - lane->foreign.creation_ms : 0,
    };
    s_arm(lane, 1, cwx_poll_delay(&p, &in));
}

static void s_foreign_poll(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    struct cwx_logs_describe_export_tasks_req req = {.task_id = lane->foreign.task_id};
    int rc = cwx_logs_describe_export_tasks(cwx_session_client(run->session, lane->foreign.target),
                                            &req, s_on_foreign, lane);
    if (rc)
        s_arm(lane, 1, s_policy(lane).max_ms);
}

static void s_lane_timer(uv_timer_t *h)
{
    struct cwx_lane *lane = h->data;
    struct cwx_run *run = lane->run;
    switch (lane->timer_what) {
    case 1: /* poll the foreign holder */
        if (s_halting(lane) || run->aborting) {
            s_on_foreign(0, NULL, NULL, lane); /* stop path */
            return;
        }
        s_foreign_poll(lane);
        return;
    case 2: /* create again */
        lane->state = CWX_LANE_WORKING;
        if (lane->active) {
            if (s_halting(lane)) {
                if (cwx_worker_interrupt(lane->active))
                    h_final(lane->active, lane);
                return;
            }
            s_resume_active(lane, 1);
            return;
        }
        s_next(lane);
        return;
    case 3: /* listing started nothing */
        s_listed_all(lane);
        return;
    case 5: /* the pause is over */
        if (lane->state == CWX_LANE_PAUSED)
            lane->state = lane->active ? CWX_LANE_WORKING : CWX_LANE_IDLE;
        s_next(lane);
        return;
    default:
        s_next(lane);
        return;
    }
}

/* ---- run control --------------------------------------------------------- */

/* A lane with work takes its lease before anything else (a store without
 * conditional writes stops it before any export). */
static int s_wants_lease(const struct cwx_lane *lane)
{
    return lane->lease_on && !s_halting(lane) && lane->state != CWX_LANE_FINISHED &&
           (lane->n_queue || lane->n_prelude);
}

/* With several lanes, each lane's first acquire waits a random moment up to
 * this long (at most a quarter of the ttl), so that runners started together
 * split the lanes between them instead of the first one taking them all. */
#define CWX__LEASE_SPREAD_MS 1000

void cwx__lanes_start(struct cwx_run *run)
{
    int64_t now = cwx__now_ms();
    size_t leased = 0;
    for (size_t l = 0; l < run->n_lanes; l++)
        leased += s_wants_lease(&run->lanes[l]) ? 1 : 0;
    uint64_t rnd = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15u;
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        lane->started_ms = now;
        if (s_wants_lease(lane)) {
            lane->state = CWX_LANE_LEASE;
            uint64_t spread = lane->lease.ttl_ms / 4 < CWX__LEASE_SPREAD_MS
                                  ? lane->lease.ttl_ms / 4
                                  : CWX__LEASE_SPREAD_MS;
            uint64_t delay = 0;
            if (leased > 1 && spread) {
                rnd ^= rnd << 13;
                rnd ^= rnd >> 7;
                rnd ^= rnd << 17;
                delay = rnd % spread;
            }
            if (cwx_lease_start(&lane->lease, delay) == 0)
                continue;
            lane->state = CWX_LANE_IDLE;
            s_stop_lane(lane, CWX_EIO, "cannot start the lease");
        }
        s_next(lane);
    }
}

struct s_cancel {
    struct cwx_lane *lane;
};

static void s_on_cancel(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_cancel *c = ud;
    struct cwx_lane *lane = c->lane;
    free(c);
    char e[320] = "";
    if (status && err)
        cwx_aws_error_format(err, e, sizeof(e));
    if (status)
        CWX_LOGW("lane %s: CancelExportTask failed: %s", lane->name,
                 e[0] ? e : cwx_strerror(status));
    if (lane->active && cwx_worker_interrupt(lane->active))
        h_final(lane->active, lane);
}

/* --cancel-on-exit: cancels the active worker's task. Returns 1 when the
 * cancel call started (the worker stops when it answers). */
static int s_cancel_active(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    struct cwx_worker *w = lane->active;
    if (!w || cwx_worker_state(w) != CWX_WORK_WAIT || !cwx_worker_task_id(w)[0])
        return 0;
    struct s_cancel *c = calloc(1, sizeof(*c));
    if (!c)
        return 0;
    const struct cwx_job *job = &run->plan->jobs[cwx_worker_spec(w)->job];
    c->lane = lane;
    uint32_t t = run->plan->groups[job->group].target;
    if (cwx_logs_cancel_export_task(cwx_session_client(run->session, t), cwx_worker_task_id(w),
                                    s_on_cancel, c) != 0) {
        free(c);
        return 0;
    }
    CWX_LOGI("lane %s: cancelling task %s", lane->name, cwx_worker_task_id(w));
    return 1;
}

void cwx__lanes_stop(struct cwx_run *run, int cancel_tasks)
{
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        if (lane->state == CWX_LANE_FINISHED)
            continue;
        /* The job checked ahead never starts; finishing ones go on to
         * their markers. */
        s_drop_next(lane);
        if (lane->state == CWX_LANE_LISTING)
            continue; /* s_listed_all sees `stopping` */
        if (lane->state == CWX_LANE_FOREIGN || !lane->active) {
            uv_timer_stop(&lane->timer);
            memset(&lane->foreign, 0, sizeof(lane->foreign));
            if (lane->active) {
                if (cwx_worker_interrupt(lane->active))
                    h_final(lane->active, lane);
            } else {
                lane->state = CWX_LANE_IDLE;
                s_next(lane);
            }
            continue;
        }
        struct cwx_worker *w = lane->active;
        enum cwx_work_state st = cwx_worker_state(w);
        if (st == CWX_WORK_BLOCKED || st == CWX_WORK_BACKOFF || st == CWX_WORK_CHECK) {
            if (cwx_worker_interrupt(w))
                h_final(w, lane);
            continue;
        }
        if (cancel_tasks)
            s_cancel_active(lane); /* a task still being created: when it is */
        /* Otherwise the active task is waited for (or left to the next run). */
    }
}

void cwx__lanes_abort(struct cwx_run *run)
{
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        if (lane->state == CWX_LANE_FINISHED)
            continue;
        uv_timer_stop(&lane->timer);
        s_drop_next(lane);
        /* Finishing jobs stop too (the next run verifies and marks them);
         * from the end, as h_final removes them from the list. */
        for (size_t i = lane->n_finishing; i-- > 0;) {
            if (i >= lane->n_finishing)
                continue;
            struct cwx_worker *f = lane->finishing[i];
            if (cwx_worker_interrupt(f))
                h_final(f, lane);
        }
        if (lane->state == CWX_LANE_FINISHED || lane->state == CWX_LANE_LISTING)
            continue;
        memset(&lane->foreign, 0, sizeof(lane->foreign));
        if (lane->active) {
            if (cwx_worker_interrupt(lane->active))
                h_final(lane->active, lane);
        } else {
            lane->state = CWX_LANE_IDLE;
            s_next(lane);
        }
    }
}
