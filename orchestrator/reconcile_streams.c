/* Reconciliation, the log streams (docs/architecture.md §adoption): the
 * windows of a group that hold no events are skipped (skip_empty), then its
 * pending windows are coalesced into ranges (see reconcile_internal.h). */
#include "orchestrator/reconcile_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/log.h"

static void s_pace_closed(uv_handle_t *h)
{
    free(h);
}

static void s_pace_fired(uv_timer_t *h)
{
    cwx__rec_streams_next(h->data);
}

/* The start of group g's earliest pending window, or INT64_MAX when none. */
static int64_t s_earliest_pending(const struct cwx_plan *plan, const struct cwx_plan_group *g)
{
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    for (uint32_t k = 0; k < g->n_jobs; k++) {
        const struct cwx_job *job = &plan->jobs[g->first_job + k];
        if (job->status == CWX_JOB_PENDING)
            return ws->windows[job->window].start_ms;
    }
    return INT64_MAX;
}

static int s_skip_empty_on(const struct cwx_rec *r, const struct cwx_plan_group *g)
{
    const struct cwx_account *a = &r->plan->cfg->accounts[r->plan->targets[g->target].account];
    return a->settings.skip_empty == CWX_SKIP_EMPTY_STREAMS;
}

/* Ends the streams of the current group: records what they said (known:
 * every stream that matters was read) and moves to the next group. */
static void s_streams_group_done(struct cwx_rec_target *t, int known)
{
    struct cwx_rec *r = t->r;
    if (known) {
        if (cwx_plan_set_events(r->plan, t->group, t->iv, t->n_iv))
            r->status = CWX_ENOMEM;
        else
            r->res->no_events += cwx_plan_skip_no_events(r->plan, t->group);
    }
    free(t->token);
    t->token = NULL;
    t->n_iv = 0;
    t->pages = 0;
    t->tries = 0;
    t->group++;
    cwx__rec_step(t);
}

static void s_on_streams(int status, const struct cwx_logs_log_streams *res,
                         const struct cwx_aws_error *err, void *ud)
{
    struct cwx_rec_target *t = ud;
    struct cwx_rec *r = t->r;
    const struct cwx_plan_group *g = &r->plan->groups[t->group];
    if (status) {
        if (status != CWX_ENOTFOUND && !cwx_err_access(status) &&
            cwx__rec_retry_later(t, status, err, "logs:DescribeLogStreams"))
            return;
        char e[320];
        CWX_LOGW("log group %s: logs:DescribeLogStreams failed (%s): its windows are exported "
                 "whether they hold events or not",
                 g->name, cwx__why(status, err, e, sizeof(e)));
        s_streams_group_done(t, 0);
        return;
    }
    t->tries = 0;
    t->pages++;
    r->res->stream_pages++;
    int older = 0;
    for (size_t i = 0; i < res->n; i++) {
        const struct cwx_logs_log_stream *st = &res->streams[i];
        int64_t first = st->first_event_ms;
        int64_t last = st->last_event_ms ? st->last_event_ms : st->last_ingestion_ms;
        if (!first && !last)
            continue; /* a stream without events */
        if (!first)
            first = last;
        if (last < first)
            last = first;
        if (last < t->since_ms) {
            /* Newest last event first: every stream from here on ended
             * before the earliest pending window. */
            older = 1;
            break;
        }
        struct cwx_plan_interval *iv = cwx_grow(t->iv, t->n_iv, &t->cap_iv, sizeof(*iv), 64);
        if (!iv) {
            r->status = CWX_ENOMEM;
            s_streams_group_done(t, 0);
            return;
        }
        t->iv = iv;
        t->iv[t->n_iv++] = (struct cwx_plan_interval){first, last};
    }
    if (older || !res->next_token) {
        s_streams_group_done(t, 1);
        return;
    }
    const struct cwx_account *a = &r->plan->cfg->accounts[r->plan->targets[t->target].account];
    if (t->pages >= a->settings.skip_empty_max_pages) {
        CWX_LOGI("log group %s: more than %d pages of log streams; none of its windows is "
                 "skipped",
                 g->name, a->settings.skip_empty_max_pages);
        s_streams_group_done(t, 0);
        return;
    }
    char *tok = strdup(res->next_token);
    if (!tok) {
        r->status = CWX_ENOMEM;
        s_streams_group_done(t, 0);
        return;
    }
    free(t->token);
    t->token = tok;
    cwx__rec_step(t);
}

/* After every group of the target is read: the ranges (coalesce), and their
 * task names join the index so that their tasks are recognised. */
static void s_streams_finish(struct cwx_rec_target *t)
{
    struct cwx_rec *r = t->r;
    struct cwx_plan *plan = r->plan;
    for (uint32_t gi = 0; gi < plan->n_groups && !r->status; gi++) {
        const struct cwx_plan_group *g = &plan->groups[gi];
        if (g->target != t->target)
            continue;
        int rc = cwx_plan_coalesce(plan, gi);
        for (uint32_t k = 0; !rc && k < g->n_jobs; k++) {
            const struct cwx_job *job = &plan->jobs[g->first_job + k];
            if (job->span > 1 && job->task_name[0])
                rc = cwx__index_put(&r->tasks, job->task_name, 0, g->first_job + k);
        }
        if (rc)
            r->status = rc;
    }
    t->step = CWX_REC_PENDING;
    cwx__rec_step(t);
}

/* Reads the log streams of the target's next group that needs it. A group
 * whose storedBytes is 0 has no events and no page to read. */
void cwx__rec_streams_next(struct cwx_rec_target *t)
{
    struct cwx_rec *r = t->r;
    struct cwx_plan *plan = r->plan;
    if (!t->token) {
        for (; t->group < plan->n_groups; t->group++) {
            const struct cwx_plan_group *g = &plan->groups[t->group];
            if (g->target != t->target || !s_skip_empty_on(r, g))
                continue;
            t->since_ms = s_earliest_pending(plan, g);
            if (t->since_ms == INT64_MAX)
                continue;
            if (g->stored_bytes == 0) {
                if (cwx_plan_set_events(plan, t->group, NULL, 0))
                    r->status = CWX_ENOMEM;
                else
                    r->res->no_events += cwx_plan_skip_no_events(plan, t->group);
                continue;
            }
            break;
        }
        if (t->group >= plan->n_groups) {
            s_streams_finish(t);
            return;
        }
    }
    const struct cwx_plan_group *g = &plan->groups[t->group];
    /* DescribeLogStreams has its own quota (5 per second per account and
     * Region), below the other calls' api_rate: pace the calls. */
    uv_loop_t *loop = cwx_aws_loop(cwx_session_aws(r->s));
    double rate = plan->cfg->accounts[plan->targets[t->target].account].settings.skip_empty_api_rate;
    uint64_t now = uv_now(loop);
    if (t->next_ms > now) {
        if (!t->pace && (t->pace = malloc(sizeof(*t->pace))) != NULL) {
            uv_timer_init(loop, t->pace);
            t->pace->data = t;
        }
        if (t->pace) {
            uv_timer_start(t->pace, s_pace_fired, t->next_ms - now, 0);
            return;
        }
    }
    t->next_ms = now + (uint64_t)(1000.0 / (rate > 0 ? rate : 5) + 0.5);
    struct cwx_logs_describe_log_streams_req req = {
        .log_group_name = g->name,
        .order_by = CWX_STREAMS_BY_LAST_EVENT,
        .descending = 1,
        .limit = 50,
        .next_token = t->token,
    };
    int rc = cwx_logs_describe_log_streams(cwx_session_client(r->s, t->target), &req,
                                           s_on_streams, t);
    if (rc) {
        CWX_LOGW("log group %s: cannot read its log streams: %s", g->name, cwx_strerror(rc));
        s_streams_group_done(t, 0);
    }
}

void cwx__rec_streams_clear(struct cwx_rec_target *t)
{
    free(t->token);
    t->token = NULL;
    free(t->iv);
    t->iv = NULL;
    if (t->pace)
        uv_close((uv_handle_t *)t->pace, s_pace_closed);
    t->pace = NULL;
}
