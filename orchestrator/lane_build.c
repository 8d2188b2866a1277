/* Building the lanes of a run: one per token, their queues, the tasks
 * found in AWS at start, the lease of each; and taking them down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/mem.h"
#include "orchestrator/lane_internal.h"

cwx_lease_event_fn *cwx__lane_lease_events(void);

/* The lane's lease object (docs/architecture.md §lane-lease):
 * <state_prefix>/<account_id>/_lease.json, or <…>/<account_id>/<region>/
 * _lease.json with token_scope region, in lease.bucket or else the bucket of
 * the lane's first target (config order). */
static int s_lease_init(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    const struct cwx_settings *st = cwx__lane_settings(lane);
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
    int rc = cwx_lease_init(&lane->lease, &run->loop, cwx_lease_s3_ops(), s3, &p,
                            cwx__lane_lease_events(), lane);
    if (!rc)
        lane->lease_on = 1;
    return rc;
}

/* A new lane for target t (its token: the account, or account+region). */
static int s_lane_new(struct cwx_run *run, uint32_t t, int per_region)
{
    const struct cwx_plan_target *tg = &run->plan->targets[t];
    const struct cwx_account *acc = &run->cfg->accounts[tg->account];
    struct cwx_lane *lane = &run->lanes[run->n_lanes];
    lane->run = run;
    lane->idx = (uint32_t)run->n_lanes;
    lane->account = tg->account;
    lane->target = per_region ? (int32_t)t : -1;
    lane->requeue = -1;
    lane->other_job = -1;
    if (uv_timer_init(&run->loop, &lane->timer) || uv_idle_init(&run->loop, &lane->soon))
        return CWX_EIO; /* neither fails on Linux; the lane is not counted */
    lane->timer.data = lane;
    lane->soon.data = lane;
    lane->timer_init = 1;
    if (per_region)
        snprintf(lane->name, sizeof(lane->name), "%s/%s", acc->name, tg->region);
    else
        snprintf(lane->name, sizeof(lane->name), "%s", acc->name);
    run->n_lanes++;
    return 0;
}

/* One lane per token: lane_of_target. */
static int s_lanes_of_targets(struct cwx_run *run)
{
    const struct cwx_plan *plan = run->plan;
    for (uint32_t t = 0; t < plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &plan->targets[t];
        int per_region = run->cfg->accounts[tg->account].settings.token_scope == CWX_SCOPE_REGION;
        size_t l = run->n_lanes;
        for (size_t k = 0; !per_region && k < run->n_lanes; k++)
            if (run->lanes[k].account == tg->account && run->lanes[k].target < 0)
                l = k;
        if (l == run->n_lanes) {
            int rc = s_lane_new(run, t, per_region);
            if (rc)
                return rc;
        }
        run->lane_of_target[t] = (uint32_t)l;
    }
    return 0;
}

/* Queues: the pending jobs of each lane, oldest window first; the counts of
 * jobs done or skipped before the run. */
static int s_queues(struct cwx_run *run)
{
    const struct cwx_plan *plan = run->plan;
    for (uint32_t j = 0; j < plan->n_jobs; j++) {
        const struct cwx_job *job = &plan->jobs[j];
        uint32_t l = run->lane_of_target[plan->groups[job->group].target];
        run->lane_of_job[j] = l;
        run->lanes[l].total++;
        if (job->status == CWX_JOB_PENDING && !job->covered)
            run->lanes[l].n_queue++; /* counted here, filled below */
        if (job->task_name[0] && cwx__index_put(&run->task_index, job->task_name, 0, j)) {
            for (size_t k = 0; k < run->n_lanes; k++)
                run->lanes[k].n_queue = 0; /* no queue was made */
            return CWX_ENOMEM;
        }
    }
    int rc = 0;
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        lane->queue = malloc((lane->n_queue ? lane->n_queue : 1) * sizeof(uint32_t));
        lane->n_queue = 0;
        if (!lane->queue)
            rc = CWX_ENOMEM;
    }
    if (rc)
        return rc;
    for (uint32_t j = 0; j < plan->n_jobs; j++) {
        const struct cwx_job *job = &plan->jobs[j];
        struct cwx_lane *lane = &run->lanes[run->lane_of_job[j]];
        if (job->status == CWX_JOB_PENDING && job->covered)
            continue; /* exported by its range's head */
        if (job->status == CWX_JOB_PENDING) {
            lane->queue[lane->n_queue++] = j;
        } else if (job->status == CWX_JOB_SKIPPED) {
            lane->skipped++;
        } else if (job->status == CWX_JOB_DONE && job->reason == CWX_REASON_MARKER) {
            lane->marked++;
            lane->done++;
        } else if (job->status == CWX_JOB_FAILED) {
            lane->failed++;
            cwx__report_failure(run, j, "error", "the log group does not exist");
        }
    }
    for (size_t l = 0; l < run->n_lanes; l++)
        cwx__queue_sort(plan, run->lanes[l].queue, run->lanes[l].n_queue);
    return 0;
}

/* Tasks of ours found in AWS: adopted (active) or verified and marked
 * (completed), the active ones first (they hold the slot); foreign holders
 * found at start are waited for before any create. */
static int s_found_at_start(struct cwx_run *run)
{
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
    for (size_t i = 0; i < run->rec.n_foreign; i++) {
        const struct cwx_foreign_task *f = &run->rec.foreign[i];
        struct cwx_lane *lane = &run->lanes[run->lane_of_target[f->target]];
        if (!lane->foreign.task_id[0])
            lane->foreign = *f;
    }
    return 0;
}

int cwx__lanes_build(struct cwx_run *run)
{
    const struct cwx_plan *plan = run->plan;
    run->lane_of_target = calloc(plan->n_targets + 1, sizeof(uint32_t));
    run->lanes = calloc(plan->n_targets + 1, sizeof(struct cwx_lane));
    run->lane_of_job = calloc(plan->n_jobs + 1, sizeof(uint32_t));
    if (!run->lane_of_target || !run->lanes || !run->lane_of_job)
        return CWX_ENOMEM;
    int rc = s_lanes_of_targets(run);
    if (!rc)
        rc = s_queues(run);
    if (!rc)
        rc = s_found_at_start(run);
    for (size_t l = 0; !rc && l < run->n_lanes; l++)
        rc = s_lease_init(&run->lanes[l]);
    return rc;
}

void cwx__lanes_close(struct cwx_run *run)
{
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        /* Only lanes that were counted have their handles initialised. */
        if (lane->timer_init) {
            uv_close((uv_handle_t *)&lane->timer, NULL);
            uv_close((uv_handle_t *)&lane->soon, NULL);
            lane->timer_init = 0;
        }
        cwx_lease_close(&lane->lease);
    }
}

void cwx__lanes_free(struct cwx_run *run)
{
    for (size_t l = 0; run->lanes && l < run->n_lanes; l++)
        CWX_FREE_ALL(run->lanes[l].queue, run->lanes[l].prelude, run->lanes[l].finishing);
    CWX_FREE_ALL(run->lanes, run->lane_of_target, run->lane_of_job);
    cwx__index_free(&run->task_index);
}
