/* The lane's states, one function each, and the one place its state
 * changes (see lane.h for the diagram). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "orchestrator/lane_internal.h"

static const char *const s_state_names[CWX_LANE_STATES] = {
    "idle", "working", "listing", "foreign", "retry", "paused", "lease", "halting", "finished",
};

const char *cwx__lane_state_name(enum cwx_lane_state s)
{
    return (unsigned)s < CWX_LANE_STATES ? s_state_names[s] : "?";
}

const struct cwx_settings *cwx__lane_settings(const struct cwx_lane *lane)
{
    return &lane->run->cfg->accounts[lane->account].settings;
}

struct cwx_poll_policy cwx__lane_policy(const struct cwx_lane *lane)
{
    return cwx_poll_policy_of(cwx__lane_settings(lane));
}

int64_t cwx__lane_now(const struct cwx_lane *lane)
{
    return lane->run->lane_ops->now_ms(lane->run->lane_ctx);
}

int cwx__lane_halting(const struct cwx_lane *lane)
{
    return lane->run->stopping || lane->stopped || lane->fenced || lane->run->guard.tripped;
}

/* The states in which the lane's timer runs (and says what it waits for). */
static int s_timed(enum cwx_lane_state s)
{
    return s == CWX_LANE_FOREIGN || s == CWX_LANE_RETRY || s == CWX_LANE_PAUSED;
}

void cwx__lane_enter(struct cwx_lane *lane, enum cwx_lane_state to)
{
    enum cwx_lane_state from = lane->state;
    if (from == to)
        return;
    if (s_timed(from))
        lane->run->lane_ops->stop_timer(lane->run->lane_ctx, lane);
    if (from == CWX_LANE_FOREIGN)
        memset(&lane->foreign, 0, sizeof(lane->foreign));
    lane->state = to;
    CWX_LOGD("lane %s: %s -> %s", lane->name, cwx__lane_state_name(from),
             cwx__lane_state_name(to));
}

void cwx__lane_kick(struct cwx_lane *lane)
{
    if (lane->step_due || lane->state == CWX_LANE_FINISHED)
        return;
    lane->step_due = 1;
    lane->run->lane_ops->defer(lane->run->lane_ctx, lane);
}

void cwx__lane_arm(struct cwx_lane *lane, uint64_t delay_ms)
{
    lane->run->lane_ops->start_timer(lane->run->lane_ctx, lane, delay_ms ? delay_ms : 1);
}

void cwx__lane_stop(struct cwx_lane *lane, int error, const char *fmt, ...)
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
    cwx__lane_kick(lane);
}

/* ---- the end of a lane ---------------------------------------------------- */

/* Tells the run, once, that the lane is over (its lease released). */
static void s_lane_over(struct cwx_lane *lane)
{
    if (lane->finished_told)
        return;
    lane->finished_told = 1;
    if (lane->lease_on)
        cwx_lease_stop(&lane->lease);
    lane->run->lane_over(lane->run, lane);
}

static void s_finish(struct cwx_lane *lane)
{
    cwx__lane_enter(lane, CWX_LANE_FINISHED);
    lane->finished_ms = cwx__lane_now(lane);
    /* A held lease is released (DeleteObject) so that another runner may
     * take the lane at once; after a second signal it is left to expire. */
    if (lane->lease_on && !lane->run->aborting && cwx_lease_release(&lane->lease) == 0)
        return; /* RELEASED ends the lane */
    s_lane_over(lane);
}

/* The lease was lost and every worker of the lane has ended: the lane's
 * unfinished jobs go back in its queue and it waits for the lease again. */
static void s_lease_again(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    lane->fenced = 0;
    lane->lease_fresh = 0;
    /* Every job of the lane still to do, those whose task was left running
     * (adopted at start, or created here) included. The prelude's entries
     * not taken up yet stay where they are. */
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
    cwx__lane_enter(lane, CWX_LANE_LEASE);
    int rc = cwx_lease_start(&lane->lease, 0);
    if (rc) {
        cwx__lane_stop(lane, rc, "cannot wait for the lease: %s", cwx_strerror(rc));
        cwx__lane_enter(lane, CWX_LANE_HALTING);
    }
}

/* ---- halting -------------------------------------------------------------- */

/* Whether halting stops the active job now: always when fenced (its task is
 * left to the lease's holder) or aborting; else only a job with no call or
 * task of its own going (the others end by themselves: a task is waited
 * for, a create refused). */
static int s_stops_active(const struct cwx_lane *lane, const struct cwx_worker *w)
{
    if (lane->fenced || lane->run->aborting)
        return 1;
    enum cwx_work_state st = cwx_worker_state(w);
    return st == CWX_WORK_BLOCKED || st == CWX_WORK_READY || st == CWX_WORK_BACKOFF ||
           st == CWX_WORK_CHECK;
}

void cwx__lane_halt(struct cwx_lane *lane)
{
    cwx__lane_drop_next(lane);
    if (lane->state == CWX_LANE_FINISHED || lane->state == CWX_LANE_LISTING)
        return; /* the listing's end halts it */
    cwx__lane_enter(lane, CWX_LANE_HALTING);
    if (lane->active && s_stops_active(lane, lane->active))
        cwx__lane_interrupt(lane, lane->active);
    cwx__lane_kick(lane);
}

static void s_state_halting(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    if (run->guard.tripped && !lane->stopped && lane->head < lane->n_queue)
        cwx__lane_stop(lane, CWX_ELOOPGUARD, "loop guard: %s", run->guard.why);
    cwx__lane_drop_next(lane);
    if (lane->active || lane->next || lane->n_finishing)
        return; /* their ends come back here */
    if (lane->fenced && !run->stopping && !lane->stopped && !run->guard.tripped)
        s_lease_again(lane);
    else
        s_finish(lane);
}

/* ---- the states that start work ------------------------------------------ */

/* Job j's worker could not be made: the job fails (and the lane goes on). */
static void s_unstartable(struct cwx_lane *lane, uint32_t j, int rc)
{
    struct cwx_job *job = &lane->run->plan->jobs[j];
    job->status = CWX_JOB_FAILED;
    job->reason = CWX_REASON_ERROR;
    lane->failed++;
    cwx__report_failure(lane->run, j, "error", cwx_strerror(rc));
    cwx__lane_kick(lane);
}

/* COMPLETED tasks of ours found at start verify and mark without the token,
 * a few at a time, whatever the lane waits for. Returns 1 when one started. */
static int s_verify_found(struct cwx_lane *lane)
{
    if (lane->prelude_head >= lane->n_prelude || !lane->prelude[lane->prelude_head].completed ||
        lane->n_finishing >= CWX__PRELUDE_VERIFY_MAX)
        return 0;
    const struct cwx_lane_prelude *p = &lane->prelude[lane->prelude_head++];
    struct cwx_worker *w = NULL;
    int rc = cwx__lane_new_worker(lane, p->job, &w);
    if (!rc)
        rc = cwx__lane_finishing_add(lane, w);
    if (rc) {
        s_unstartable(lane, p->job, rc);
        if (w) {
            cwx_worker_free(w);
            free(cwx__lane_job_of(w));
        }
        return 1;
    }
    rc = cwx_worker_start_verify(w, p->task_id, p->creation_ms, p->completion_ms);
    cwx__lane_started(lane, w, rc);
    return 1;
}

/* Checks job j ahead: with the token free it goes on to create at once;
 * with a task running it waits READY for the token. */
static void s_check_next(struct cwx_lane *lane, uint32_t j)
{
    struct cwx_worker *w = NULL;
    int rc = cwx__lane_new_worker(lane, j, &w);
    if (rc) {
        s_unstartable(lane, j, rc);
        return;
    }
    lane->next = w;
    cwx__lane_started(lane, w, cwx_worker_start(w));
}

/* A task of ours found active at start: adopt it (it holds the token). */
static void s_adopt_found(struct cwx_lane *lane)
{
    const struct cwx_lane_prelude *p = &lane->prelude[lane->prelude_head++];
    struct cwx_worker *w = NULL;
    int rc = cwx__lane_new_worker(lane, p->job, &w);
    if (rc) {
        s_unstartable(lane, p->job, rc);
        return;
    }
    lane->active = w;
    lane->adopted++;
    cwx__lane_enter(lane, CWX_LANE_WORKING);
    cwx__lane_started(lane, w, cwx_worker_start_wait(w, p->task_id, p->creation_ms));
}

/* IDLE: no job holds the token. */
static void s_state_idle(struct cwx_lane *lane)
{
    if (lane->foreign.task_id[0]) {
        /* A holder known at start: wait for it before creating. */
        lane->foreign_waits++;
        cwx__lane_enter(lane, CWX_LANE_FOREIGN);
        cwx__lane_arm(lane, 1);
        return;
    }
    if (lane->next) {
        if (cwx_worker_state(lane->next) != CWX_WORK_READY)
            return; /* still checking: it takes the token itself */
        /* Checked while the previous task ran, which held the slot: no
         * task of this job could be created meanwhile but by a runner
         * ignoring the lease (with `lease: off`, one runner per config).
         * The lease's renew comes first (h_may_create). */
        lane->active = lane->next;
        lane->next = NULL;
        cwx__lane_enter(lane, CWX_LANE_WORKING);
        cwx__lane_resume_active(lane, 0);
        return;
    }
    if (lane->prelude_head < lane->n_prelude) {
        s_adopt_found(lane);
        return;
    }
    uint32_t j;
    if (cwx__lane_take_job(lane, &j)) {
        s_check_next(lane, j);
        return;
    }
    if (!lane->n_finishing)
        s_finish(lane);
}

/* WORKING: a job holds the token; once its task runs, the next job is
 * checked beside it (adopted tasks first). */
static void s_state_working(struct cwx_lane *lane)
{
    if (!lane->active) {
        cwx__lane_enter(lane, CWX_LANE_IDLE);
        s_state_idle(lane);
        return;
    }
    if (lane->next || cwx_worker_state(lane->active) != CWX_WORK_WAIT ||
        lane->prelude_head < lane->n_prelude)
        return;
    uint32_t j;
    if (cwx__lane_take_job(lane, &j))
        s_check_next(lane, j);
}

/* LISTING: decided when every listing has answered. */
static void s_state_listing(struct cwx_lane *lane)
{
    if (lane->listing_pending == 0)
        cwx__lane_listed_all(lane);
}

/* FOREIGN, RETRY, PAUSED (the timer decides), LEASE (the lease decides),
 * FINISHED. */
static void s_state_waiting(struct cwx_lane *lane)
{
    (void)lane;
}

typedef void s_state_fn(struct cwx_lane *lane);

static s_state_fn *const s_states[CWX_LANE_STATES] = {
    [CWX_LANE_IDLE] = s_state_idle,       [CWX_LANE_WORKING] = s_state_working,
    [CWX_LANE_LISTING] = s_state_listing, [CWX_LANE_FOREIGN] = s_state_waiting,
    [CWX_LANE_RETRY] = s_state_waiting,   [CWX_LANE_PAUSED] = s_state_waiting,
    [CWX_LANE_LEASE] = s_state_waiting,   [CWX_LANE_HALTING] = s_state_halting,
    [CWX_LANE_FINISHED] = s_state_waiting,
};

void cwx__lane_step(struct cwx_lane *lane)
{
    lane->step_due = 0;
    cwx__lane_settle(lane);
    if (lane->state == CWX_LANE_FINISHED)
        return;
    if (lane->state != CWX_LANE_LISTING && lane->state != CWX_LANE_HALTING &&
        cwx__lane_halting(lane)) {
        cwx__lane_halt(lane);
        return; /* halt asked for the next step */
    }
    if (lane->state != CWX_LANE_LEASE && lane->state != CWX_LANE_HALTING &&
        lane->state != CWX_LANE_LISTING && s_verify_found(lane)) {
        cwx__lane_kick(lane); /* one at a time: the next step goes on */
        return;
    }
    enum cwx_lane_state before = lane->state;
    s_states[lane->state](lane);
    /* A state that started something or changed goes round once more. */
    if (lane->state != before || lane->ended)
        cwx__lane_kick(lane);
}

/* ---- the timer -------------------------------------------------------------- */

void cwx__lane_waited(struct cwx_lane *lane)
{
    cwx__lane_enter(lane, lane->active ? CWX_LANE_WORKING : CWX_LANE_IDLE);
    if (lane->active && cwx__lane_halting(lane))
        cwx__lane_halt(lane);
    else if (lane->active)
        cwx__lane_resume_active(lane, 1);
    cwx__lane_kick(lane);
}

void cwx__lane_timer(struct cwx_lane *lane)
{
    switch (lane->state) {
    case CWX_LANE_FOREIGN: /* poll the holder */
        if (cwx__lane_halting(lane) || lane->run->aborting)
            cwx__lane_halt(lane);
        else
            cwx__lane_foreign_poll(lane);
        return;
    case CWX_LANE_RETRY: /* create again, through CHECK */
        cwx__lane_waited(lane);
        return;
    case CWX_LANE_PAUSED: /* the pause is over */
        cwx__lane_enter(lane, lane->active ? CWX_LANE_WORKING : CWX_LANE_IDLE);
        cwx__lane_kick(lane);
        return;
    default:
        cwx__lane_kick(lane);
        return;
    }
}

/* ---- the lease ------------------------------------------------------------ */

/* The lease is lost: create nothing more, leave the active task to the
 * runner that holds the lease now (it adopts it by name), stop the job
 * checked ahead; jobs verifying and marking a COMPLETED task finish. */
static void s_fence(struct cwx_lane *lane)
{
    lane->fenced = 1;
    lane->lease_fresh = 0;
    cwx__lane_halt(lane);
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
            cwx__lane_enter(lane, CWX_LANE_IDLE);
            cwx__lane_kick(lane);
        }
        return;
    case CWX_LEASE_EV_FRESH:
        lane->lease_fresh = 1;
        if (lane->active && cwx_worker_state(lane->active) == CWX_WORK_READY)
            cwx__lane_resume_active(lane, 0);
        return;
    case CWX_LEASE_EV_FAILED:
        cwx__lane_stop(lane, l->error ? l->error : CWX_EAWS, "%s", l->detail);
        if (lane->state == CWX_LANE_LEASE)
            cwx__lane_halt(lane); /* nothing ran: it finishes */
        else
            s_fence(lane); /* stopped, and the lease is not to be trusted */
        return;
    case CWX_LEASE_EV_LOST:
        s_fence(lane);
        return;
    case CWX_LEASE_EV_RELEASED:
        return;
    }
}

/* For lane_build.c: the lease's events go to the lane. */
cwx_lease_event_fn *cwx__lane_lease_events(void);
cwx_lease_event_fn *cwx__lane_lease_events(void)
{
    return s_on_lease;
}

/* ---- run control --------------------------------------------------------- */

/* A lane with work takes its lease before anything else (a store without
 * conditional writes stops it before any export). */
static int s_wants_lease(const struct cwx_lane *lane)
{
    return lane->lease_on && !cwx__lane_halting(lane) && lane->state != CWX_LANE_FINISHED &&
           (lane->n_queue || lane->n_prelude);
}

/* With several lanes to lease, the first acquires are spread over a ramp:
 * the lanes are taken in a random order of the runner's own, the k-th of n
 * at k/n of the ramp (plus a jitter inside its step), the ramp being 1 s per
 * lane after the first, at most half the ttl. Runners started together (by
 * one scheduler on several hosts, whose start-up takes different times) then
 * find lanes still free when they reach them, and split the fleet instead of
 * leaving it to the first; a runner alone pays at most ttl/2 before its last
 * lane's first export. */
#define CWX__LEASE_STEP_MS 1000

static uint64_t s_next_random(uint64_t *rnd)
{
    *rnd ^= *rnd << 13;
    *rnd ^= *rnd >> 7;
    *rnd ^= *rnd << 17;
    return *rnd;
}

static uint64_t s_ramp(const struct cwx_lane *lane, size_t leased)
{
    uint64_t ramp = (uint64_t)(leased - 1) * CWX__LEASE_STEP_MS;
    return ramp < lane->lease.ttl_ms / 2 ? ramp : lane->lease.ttl_ms / 2;
}

/* The first-acquire delay of the lane at position k of the runner's order. */
static uint64_t s_spread(const struct cwx_lane *lane, size_t k, size_t leased, uint64_t *rnd)
{
    if (leased <= 1)
        return 0;
    uint64_t step = s_ramp(lane, leased) / leased;
    return k * step + (step ? s_next_random(rnd) % step : 0);
}

/* A random order of the lanes: order[k] is the k-th lane to lease. */
static void s_shuffle(size_t *order, size_t n, uint64_t *rnd)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(s_next_random(rnd) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

void cwx__lanes_start(struct cwx_run *run)
{
    int64_t now = run->lane_ops->now_ms(run->lane_ctx);
    size_t leased = 0;
    for (size_t l = 0; l < run->n_lanes; l++)
        leased += s_wants_lease(&run->lanes[l]) ? 1 : 0;
    uint64_t rnd = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15u;
    size_t *order = leased > 1 ? malloc(run->n_lanes * sizeof(*order)) : NULL;
    if (order)
        s_shuffle(order, run->n_lanes, &rnd);
    size_t k = 0;
    for (size_t i = 0; i < run->n_lanes; i++) {
        struct cwx_lane *lane = &run->lanes[order ? order[i] : i];
        lane->started_ms = now;
        if (s_wants_lease(lane)) {
            cwx__lane_enter(lane, CWX_LANE_LEASE);
            if (cwx_lease_start(&lane->lease, s_spread(lane, k++, leased, &rnd)) == 0)
                continue;
            cwx__lane_enter(lane, CWX_LANE_IDLE);
            cwx__lane_stop(lane, CWX_EIO, "cannot start the lease");
        }
        cwx__lane_kick(lane);
    }
    free(order);
}

void cwx__lanes_stop(struct cwx_run *run, int cancel_tasks)
{
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        if (lane->state == CWX_LANE_FINISHED)
            continue;
        /* A task still being created is cancelled when it is (its WAIT);
         * otherwise the active task is waited for (or left to the next
         * run). Finishing jobs go on to their markers. */
        if (cancel_tasks)
            cwx__lane_cancel_active(lane);
        cwx__lane_halt(lane);
    }
}

void cwx__lanes_abort(struct cwx_run *run)
{
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        if (lane->state == CWX_LANE_FINISHED)
            continue;
        /* Finishing jobs stop too (the next run verifies and marks them). */
        for (size_t i = 0; i < lane->n_finishing; i++)
            cwx__lane_interrupt(lane, lane->finishing[i]);
        cwx__lane_halt(lane);
    }
}
