/* The slot-busy procedure of docs/architecture.md §slot-busy: list the
 * active tasks, adopt ours by task name, else poll the foreign holder until
 * it ends, then create; and --cancel-on-exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "orchestrator/lane_internal.h"

/* ---- listing the active tasks --------------------------------------------- */

struct s_listing {
    struct cwx_lane *lane;
    uint32_t target;
};

/* One active task found while listing: the blocked job's own, another job
 * of this lane (a cooperating process runs it), or a foreign holder. */
static void s_found_active(struct cwx_lane *lane, uint32_t target,
                           const struct cwx_logs_export_task *t)
{
    struct cwx_run *run = lane->run;
    const char *mine = lane->active ? cwx_worker_spec(lane->active)->task_name : "";
    uint32_t j;
    if (t->task_name[0] && strcmp(t->task_name, mine) == 0) {
        snprintf(lane->ours_task, sizeof(lane->ours_task), "%s", t->task_id);
        lane->ours_creation = t->creation_time_ms;
    } else if (t->task_name[0] &&
               cwx__index_get(&run->task_index, t->task_name, strlen(t->task_name), 0, &j) &&
               run->lane_of_job[j] == lane->idx &&
               (run->plan->jobs[j].status == CWX_JOB_PENDING ||
                run->plan->jobs[j].status == CWX_JOB_RUNNING)) {
        lane->other_job = j;
        snprintf(lane->other_task, sizeof(lane->other_task), "%s", t->task_id);
        lane->other_creation = t->creation_time_ms;
    } else if (!lane->foreign.task_id[0]) {
        cwx__foreign_task_set(&lane->foreign, target, t);
    }
}

static void s_on_active(int status, struct cwx_logs_export_tasks *all,
                        const struct cwx_aws_error *err, void *ud)
{
    struct s_listing *li = ud;
    struct cwx_lane *lane = li->lane;
    if (status) {
        char e[320];
        CWX_LOGW("lane %s: listing active tasks failed: %s", lane->name,
                 cwx__why(status, err, e, sizeof(e)));
        if (!lane->listing_error)
            lane->listing_error = status;
    } else {
        for (size_t i = 0; i < all->n; i++)
            if (cwx_export_status_is_active(all->tasks[i].status))
                s_found_active(lane, li->target, &all->tasks[i]);
        cwx_logs_export_tasks_free(all);
    }
    int left = --lane->listing_pending;
    free(li);
    if (left == 0)
        cwx__lane_kick(lane); /* LISTING decides */
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
    int rc = run->lane_ops->list_tasks(run->lane_ctx, t, st, s_on_active, li);
    if (rc) {
        lane->listing_pending--;
        lane->listing_error = rc;
        free(li);
    }
}

void cwx__lane_slot_busy(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    cwx__lane_enter(lane, CWX_LANE_LISTING);
    lane->ours_task[0] = 0;
    lane->other_job = -1;
    lane->listing_error = 0;
    memset(&lane->foreign, 0, sizeof(lane->foreign));
    lane->listing_pending = 0;
    for (uint32_t t = 0; t < run->plan->n_targets; t++) {
        if (run->lane_of_target[t] != lane->idx)
            continue;
        s_list_target(lane, t, CWX_EXPORT_PENDING);
        s_list_target(lane, t, CWX_EXPORT_RUNNING);
    }
    /* Every listing started answers later, from the loop; if none started,
     * the next step decides (after the worker's callback has returned). */
    cwx__lane_kick(lane);
}

/* Another job of this lane is running (a cooperating process): wait on it,
 * and put ours back in front of the queue. */
static void s_adopt_other(struct cwx_lane *lane)
{
    struct cwx_worker *w = lane->active;
    uint32_t j = (uint32_t)lane->other_job;
    lane->requeue = (int64_t)cwx_worker_spec(w)->job;
    lane->active = NULL;
    /* The blocked job steps aside: dropped, its end frees it. */
    if (cwx__lane_finishing_add(lane, w) == 0) {
        cwx__lane_job_of(w)->dropped = 1;
        cwx__lane_interrupt(lane, w);
    } else {
        lane->active = w; /* no room: it stays and creates again later */
        cwx__lane_enter(lane, CWX_LANE_RETRY);
        cwx__lane_arm(lane, cwx__lane_policy(lane).min_ms);
        return;
    }
    if (lane->next && cwx_worker_spec(lane->next)->job == j)
        cwx__lane_drop_next(lane); /* the job checked ahead is the one running */
    struct cwx_worker *nw = NULL;
    int rc = cwx__lane_new_worker(lane, j, &nw);
    if (rc) {
        /* Not adopted: the lane goes on after a short wait. */
        cwx__lane_enter(lane, CWX_LANE_RETRY);
        cwx__lane_arm(lane, cwx__lane_policy(lane).min_ms);
        return;
    }
    lane->adopted++;
    lane->active = nw;
    cwx__lane_enter(lane, CWX_LANE_WORKING);
    cwx__lane_started(lane, nw, cwx_worker_start_wait(nw, lane->other_task,
                                                      lane->other_creation));
}

void cwx__lane_listed_all(struct cwx_lane *lane)
{
    struct cwx_worker *w = lane->active;
    cwx__lane_enter(lane, w ? CWX_LANE_WORKING : CWX_LANE_IDLE);
    if (!w)
        return;
    if (cwx__lane_halting(lane)) {
        cwx__lane_halt(lane);
        return;
    }
    if (lane->ours_task[0]) {
        /* Another process (or our earlier self) created this very job. */
        lane->adopted++;
        if (cwx_worker_adopt(w, lane->ours_task, lane->ours_creation) == 0)
            return;
    }
    if (lane->other_job >= 0) {
        s_adopt_other(lane);
        return;
    }
    if (lane->foreign.task_id[0]) {
        const struct cwx_foreign_task *f = &lane->foreign;
        lane->foreign_waits++;
        lane->foreign_polls = 0;
        CWX_LOGI("lane %s: export slot held by task %s (%s%s%s); waiting for it", lane->name,
                 f->task_id, f->log_group, f->task_name[0] ? ", " : "", f->task_name);
        cwx__lane_enter(lane, CWX_LANE_FOREIGN);
        cwx__lane_arm(lane, cwx__lane_policy(lane).min_ms);
        return;
    }
    /* Nothing active any more (it ended meanwhile), or the listing failed:
     * create again after one short interval — never at once, never blind
     * for long. */
    cwx__lane_enter(lane, CWX_LANE_RETRY);
    cwx__lane_arm(lane, cwx__lane_policy(lane).min_ms);
}

/* ---- the foreign holder -------------------------------------------------- */

static void s_on_foreign(int status, const struct cwx_logs_export_tasks *res,
                         const struct cwx_aws_error *err, void *ud)
{
    (void)err;
    struct cwx_lane *lane = ud;
    if (lane->state != CWX_LANE_FOREIGN)
        return; /* halted meanwhile */
    if (lane->run->aborting || cwx__lane_halting(lane)) {
        cwx__lane_halt(lane);
        return;
    }
    int active = 1;
    if (status == 0)
        active = res && res->n > 0 && cwx_export_status_is_active(res->tasks[0].status);
    else if (status == CWX_ENOTFOUND)
        active = 0;
    if (!active) {
        cwx__lane_waited(lane); /* the holder ended */
        return;
    }
    lane->foreign_polls++;
    struct cwx_poll_policy p = cwx__lane_policy(lane);
    struct cwx_poll_input in = {
        .polls = lane->foreign_polls,
        .age_ms = lane->foreign.creation_ms > 0
                      ? cwx__lane_now(lane) - lane->foreign.creation_ms
                      : 0,
    };
    cwx__lane_arm(lane, cwx_poll_delay(&p, &in));
}

void cwx__lane_foreign_poll(struct cwx_lane *lane)
{
    struct cwx_run *run = lane->run;
    int rc = run->lane_ops->describe_task(run->lane_ctx, lane->foreign.target,
                                          lane->foreign.task_id, s_on_foreign, lane);
    if (rc)
        cwx__lane_arm(lane, cwx__lane_policy(lane).max_ms);
}

/* ---- --cancel-on-exit ----------------------------------------------------- */

struct s_cancel {
    struct cwx_lane *lane;
};

static void s_on_cancel(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_cancel *c = ud;
    struct cwx_lane *lane = c->lane;
    free(c);
    char e[320];
    if (status)
        CWX_LOGW("lane %s: CancelExportTask failed: %s", lane->name,
                 cwx__why(status, err, e, sizeof(e)));
    if (lane->active)
        cwx__lane_interrupt(lane, lane->active);
}

int cwx__lane_cancel_active(struct cwx_lane *lane)
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
    if (run->lane_ops->cancel_task(run->lane_ctx, t, cwx_worker_task_id(w), s_on_cancel, c)) {
        free(c);
        return 0;
    }
    CWX_LOGI("lane %s: cancelling task %s", lane->name, cwx_worker_task_id(w));
    return 1;
}
