/* Reconciliation with AWS state (docs/architecture.md §adoption): each
 * target's marker index (reconcile_markers.c), its log streams
 * (reconcile_streams.c), its active tasks and its recent COMPLETED tasks,
 * driven here step by step. */
#include "orchestrator/orchestrator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/log.h"
#include "orchestrator/reconcile_internal.h"

void cwx__rec_fail_account(struct cwx_rec *r, uint32_t target, int status,
                           const struct cwx_aws_error *err, const char *what)
{
    uint32_t a = r->plan->targets[target].account;
    if (r->res->account_error[a])
        return;
    char e[320], detail[420], who[200];
    snprintf(detail, sizeof(detail), "%s: %s", what, cwx__why(status, err, e, sizeof(e)));
    snprintf(who, sizeof(who), "account %s, region %s", r->plan->cfg->accounts[a].name,
             r->plan->targets[target].region);
    cwx__account_gives_up(r->res->account_error, r->res->account_detail, a, status, detail, who);
}

/* k says that job's task is t: completed (its marker missing) or active
 * (which has no completion time). */
static void s_known_set(struct cwx_known_task *k, uint32_t job,
                        const struct cwx_logs_export_task *t, int completed)
{
    *k = (struct cwx_known_task){
        .job = job,
        .completed = completed,
        .creation_ms = t->creation_time_ms,
        .completion_ms = completed ? t->completion_time_ms : 0,
    };
    snprintf(k->task_id, sizeof(k->task_id), "%s", t->task_id);
}

static int s_add_known(struct cwx_rec *r, uint32_t job, const struct cwx_logs_export_task *t,
                       int completed)
{
    struct cwx_reconcile_result *res = r->res;
    for (size_t i = 0; i < res->n_tasks; i++) {
        if (res->tasks[i].job != job)
            continue;
        /* An active task wins over a completed one; else the first seen
         * (listings are newest first). */
        if (res->tasks[i].completed && !completed)
            s_known_set(&res->tasks[i], job, t, completed);
        return 0;
    }
    struct cwx_known_task *k =
        cwx_grow(res->tasks, res->n_tasks, &r->cap_tasks, sizeof(*k), 16);
    if (!k)
        return CWX_ENOMEM;
    res->tasks = k;
    s_known_set(&res->tasks[res->n_tasks++], job, t, completed);
    return 0;
}

static int s_add_foreign(struct cwx_rec *r, uint32_t target, const struct cwx_logs_export_task *t)
{
    struct cwx_reconcile_result *res = r->res;
    for (size_t i = 0; i < res->n_foreign; i++)
        if (strcmp(res->foreign[i].task_id, t->task_id) == 0)
            return 0;
    struct cwx_foreign_task *f =
        cwx_grow(res->foreign, res->n_foreign, &r->cap_foreign, sizeof(*f), 8);
    if (!f)
        return CWX_ENOMEM;
    res->foreign = f;
    cwx__foreign_task_set(&res->foreign[res->n_foreign++], target, t);
    return 0;
}

void cwx__foreign_task_set(struct cwx_foreign_task *f, uint32_t target,
                           const struct cwx_logs_export_task *t)
{
    memset(f, 0, sizeof(*f));
    f->target = target;
    snprintf(f->task_id, sizeof(f->task_id), "%s", t->task_id);
    snprintf(f->task_name, sizeof(f->task_name), "%s", t->task_name);
    snprintf(f->log_group, sizeof(f->log_group), "%s", t->log_group_name);
    snprintf(f->status, sizeof(f->status), "%s", cwx_export_status_name(t->status));
    f->creation_ms = t->creation_time_ms;
}

static void s_follow_head(struct cwx_plan *plan, uint32_t head);

static void s_step_again(void *ud)
{
    struct cwx_rec_target *t = ud;
    if (cwx_session_stopping(t->r->s)) {
        cwx__rec_fail_account(t->r, t->target, CWX_ECANCELED, NULL, "interrupted");
        t->step = CWX_REC_DONE;
        t->reading_legacy = 0;
    }
    cwx__rec_step(t);
}

int cwx__rec_retry_later(struct cwx_rec_target *t, int status, const struct cwx_aws_error *err,
                         const char *what)
{
    struct cwx_rec *r = t->r;
    uint32_t a = r->plan->targets[t->target].account;
    if (r->res->account_error[a])
        return 0;
    char who[200];
    snprintf(who, sizeof(who), "account %s, region %s", r->plan->cfg->accounts[a].name,
             r->plan->targets[t->target].region);
    t->markers = 0;
    return cwx_session_retry_later(r->s, &r->plan->cfg->accounts[a].settings, &t->tries,
                                   status, err, who, what, s_step_again, t);
}

/* Frees r and what it holds (not the result). */
static void s_rec_free(struct cwx_rec *r)
{
    if (!r)
        return;
    cwx__index_free(&r->groups);
    cwx__index_free(&r->bare);
    cwx__index_free(&r->tasks);
    free(r->wset_sorted);
    free(r);
}

/* Drops one of the counts that keep the reconciliation going; the last one
 * ends it. */
static void s_rec_put(void *rec)
{
    struct cwx_rec *r = rec;
    if (--r->pending == 0) {
        r->res->api_calls = cwx_session_api_calls(r->s);
        cwx_resolve_done_fn *cb = r->cb;
        void *ud = r->ud;
        int status = r->status;
        s_rec_free(r);
        cb(status, ud);
    }
}

void cwx__rec_target_done(struct cwx_rec_target *t)
{
    struct cwx_rec *r = t->r;
    cwx__rec_streams_clear(t);
    cwx__rec_legacy_clear(t);
    free(t);
    s_rec_put(r);
}

static void s_on_tasks(int status, struct cwx_logs_export_tasks *all,
                       const struct cwx_aws_error *err, void *ud)
{
    struct cwx_rec_target *t = ud;
    struct cwx_rec *r = t->r;
    if (status) {
        if (cwx__rec_retry_later(t, status, err, "logs:DescribeExportTasks"))
            return;
        cwx__rec_fail_account(r, t->target, status, err, "logs:DescribeExportTasks");
        cwx__rec_target_done(t);
        return;
    }
    t->tries = 0;
    int completed_step = t->step == CWX_REC_COMPLETED;
    for (size_t i = 0; i < all->n; i++) {
        const struct cwx_logs_export_task *task = &all->tasks[i];
        uint32_t ji;
        int ours = task->task_name[0] &&
                   cwx__index_get(&r->tasks, task->task_name, strlen(task->task_name), 0, &ji) &&
                   cwx_plan_job_target(r->plan, &r->plan->jobs[ji]) ==
                       &r->plan->targets[t->target];
        if (completed_step) {
            if (!ours || task->status != CWX_EXPORT_COMPLETED)
                continue;
            struct cwx_job *job = &r->plan->jobs[ji];
            if (job->status != CWX_JOB_PENDING)
                continue; /* marked already, or an active task is known */
            job->status = CWX_JOB_DONE;
            job->reason = CWX_REASON_TASK_COMPLETED;
            s_follow_head(r->plan, ji);
            if (s_add_known(r, ji, task, 1))
                r->status = CWX_ENOMEM;
            continue;
        }
        if (!cwx_export_status_is_active(task->status))
            continue;
        if (ours) {
            struct cwx_job *job = &r->plan->jobs[ji];
            if (job->status == CWX_JOB_PENDING) {
                job->status = CWX_JOB_RUNNING;
                job->reason = CWX_REASON_TASK_ACTIVE;
                s_follow_head(r->plan, ji);
            }
            if (job->status != CWX_JOB_SKIPPED && job->status != CWX_JOB_FAILED &&
                s_add_known(r, ji, task, 0))
                r->status = CWX_ENOMEM;
        } else if (s_add_foreign(r, t->target, task)) {
            r->status = CWX_ENOMEM;
        }
    }
    cwx_logs_export_tasks_free(all);
    t->step++;
    cwx__rec_step(t);
}


/* ---- log streams: windows without events, then ranges ------------------- */

/* Covered jobs take the status of their range's head. */
static void s_follow_head(struct cwx_plan *plan, uint32_t head)
{
    const struct cwx_job *h = &plan->jobs[head];
    uint32_t last = cwx_plan_job_last(plan, h);
    for (uint32_t w = h->window + 1; w <= last; w++) {
        struct cwx_job *c = &plan->jobs[head + (w - h->window)];
        c->status = h->status;
        c->reason = h->reason;
    }
}

void cwx__rec_step(struct cwx_rec_target *t)
{
    struct cwx_rec *r = t->r;
    struct cwx_aws_client *c = cwx_session_client(r->s, t->target);
    int rc;
    if (t->reading_legacy) {
        rc = cwx__rec_legacy_next(t);
        if (rc == 0)
            return;
        if (rc < 0) {
            cwx__rec_fail_account(r, t->target, rc, NULL, CWX_REC_LEGACY_WHAT);
            cwx__rec_target_done(t);
            return;
        }
    }
    switch (t->step) {
    case CWX_REC_STREAMS:
        cwx__rec_streams_next(t);
        return;
    case CWX_REC_MARKERS:
        rc = cwx__rec_markers_list(t);
        break;
    case CWX_REC_PENDING:
        rc = cwx_logs_describe_export_tasks_all(c, CWX_EXPORT_PENDING, 50, 20, s_on_tasks, t);
        break;
    case CWX_REC_RUNNING:
        rc = cwx_logs_describe_export_tasks_all(c, CWX_EXPORT_RUNNING, 50, 20, s_on_tasks, t);
        break;
    case CWX_REC_COMPLETED:
        if (r->completed_pages <= 0) {
            cwx__rec_target_done(t);
            return;
        }
        rc = cwx_logs_describe_export_tasks_all(c, CWX_EXPORT_COMPLETED, 50, r->completed_pages,
                                                s_on_tasks, t);
        break;
    default:
        cwx__rec_target_done(t);
        return;
    }
    if (rc) {
        cwx__rec_fail_account(r, t->target, rc, NULL, "starting a reconciliation call");
        cwx__rec_target_done(t);
    }
}

void cwx_reconcile_result_free(struct cwx_reconcile_result *r)
{
    if (!r)
        return;
    free(r->tasks);
    free(r->foreign);
    cwx__account_errors_free(r->n_accounts, r->account_error, r->account_detail);
    memset(r, 0, sizeof(*r));
}

/* Indexes the plan's task names, so that the tasks AWS lists find their
 * jobs. */
static int s_index_tasks(struct cwx_rec *r)
{
    int rc = 0;
    for (uint32_t j = 0; j < r->plan->n_jobs && !rc; j++)
        if (r->plan->jobs[j].task_name[0])
            rc = cwx__index_put(&r->tasks, r->plan->jobs[j].task_name, 0, j);
    return rc;
}

/* Starts the steps of target ti: its marker index prefix is
 * <state_prefix>/<account id>/<region>/. Returns 0 or CWX_ENOMEM. */
static int s_start_target(struct cwx_rec *r, uint32_t ti)
{
    const struct cwx_plan_target *tg = &r->plan->targets[ti];
    struct cwx_rec_target *t = calloc(1, sizeof(*t));
    if (!t)
        return CWX_ENOMEM;
    t->r = r;
    t->target = ti;
    const char *sp = r->plan->cfg->accounts[tg->account].settings.destination.state_prefix;
    size_t sl = sp ? strlen(sp) : 0;
    while (sl && sp[sl - 1] == '/')
        sl--;
    snprintf(t->prefix, sizeof(t->prefix), "%.*s%s%s/%s/", (int)sl, sl ? sp : "",
             sl ? "/" : "", tg->account_id, tg->region);
    t->prefix_len = strlen(t->prefix);
    r->pending++;
    cwx__rec_step(t);
    return 0;
}

int cwx_reconcile(struct cwx_session *s, struct cwx_plan *plan, const int *skip_account,
                  int completed_pages, struct cwx_reconcile_result *res,
                  cwx_resolve_done_fn *cb, void *ud)
{
    memset(res, 0, sizeof(*res));
    res->n_accounts = plan->cfg->n_accounts;
    struct cwx_rec *r = malloc(sizeof(*r));
    int rc = r ? cwx__account_errors_new(res->n_accounts, &res->account_error,
                                         &res->account_detail)
               : CWX_ENOMEM;
    if (rc)
        goto fail;
    *r = (struct cwx_rec){
        .s = s, .plan = plan, .res = res, .cb = cb, .ud = ud, .completed_pages = completed_pages};
    rc = cwx__rec_markers_prepare(r);
    if (!rc)
        rc = s_index_tasks(r);
    /* One count held while starting, dropped from the loop: cb never runs
     * inside this call. */
    if (!rc)
        rc = cwx__session_soon(s, s_rec_put, r);
    if (rc)
        goto fail;
    r->pending = 1;
    for (uint32_t ti = 0; ti < plan->n_targets; ti++) {
        const struct cwx_plan_target *tg = &plan->targets[ti];
        if ((skip_account && skip_account[tg->account]) || !tg->account_id || !tg->bucket)
            continue;
        if (s_start_target(r, ti)) {
            r->status = CWX_ENOMEM;
            break;
        }
    }
    return 0;
fail:
    s_rec_free(r);
    cwx_reconcile_result_free(res);
    return rc;
}
