/* The online plan's bytes per window from CloudWatch (docs/plan.md, "Bytes
 * per window"): the daily Sum of AWS/Logs IncomingBytes of each group with a
 * pending window inside the 455 days CloudWatch keeps them, up to 500
 * groups a GetMetricData call, through each target's client (its rate
 * limiter). A call that fails leaves its groups to storedBytes, with one
 * warning for the whole plan. */
#include "orchestrator/orchestrator.h"

#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "common/mem.h"
#include "planner/planner.h"

#define S_DAY_MS 86400000LL
/* GetMetricData calls in flight at once (each client paces its own). */
#define S_IN_FLIGHT 4

struct s_metrics;

/* Up to CWX_MONITORING_MAX_QUERIES groups of one target, read page by page. */
struct s_batch {
    struct s_metrics *m;
    uint32_t target;
    uint32_t *groups;
    const char **names; /* borrowed from the plan's groups */
    size_t n;
    int64_t start_ms;
    char *next_token;
};

struct s_metrics {
    struct cwx_session *session;
    struct cwx_plan *plan;
    cwx_resolve_done_fn *cb;
    void *ud;
    struct s_batch *batches;
    size_t n_batches, next, in_flight;
    int64_t end_ms;
    int warned;
    int status; /* CWX_ENOMEM only: failures of AWS are not the plan's */
};

static int s_send(struct s_batch *b);
static void s_fail(struct s_batch *b, int status, const struct cwx_aws_error *err);

/* Frees m; calls its callback unless it was cleared. */
static void s_finish(struct s_metrics *m)
{
    cwx_ingest_finish(m->plan);
    for (size_t i = 0; i < m->n_batches; i++)
        CWX_FREE_ALL(m->batches[i].groups, m->batches[i].names, m->batches[i].next_token);
    free(m->batches);
    cwx_resolve_done_fn *cb = m->cb;
    void *ud = m->ud;
    int status = m->status;
    free(m);
    if (cb)
        cb(status, ud);
}

/* Starts batches until S_IN_FLIGHT are out. Returns the number in flight:
 * 0 means every batch has ended. */
static size_t s_pump(struct s_metrics *m)
{
    while (m->in_flight < S_IN_FLIGHT && m->next < m->n_batches) {
        struct s_batch *b = &m->batches[m->next++];
        int rc = s_send(b);
        if (rc)
            s_fail(b, rc, NULL);
        else
            m->in_flight++;
    }
    return m->in_flight;
}

/* The batch failed: its groups fall back to storedBytes. */
static void s_fail(struct s_batch *b, int status, const struct cwx_aws_error *err)
{
    struct s_metrics *m = b->m;
    for (size_t i = 0; i < b->n; i++)
        cwx_ingest_forget(m->plan, b->groups[i]);
    if (status == CWX_ENOMEM)
        m->status = status;
    if (m->warned++)
        return;
    char detail[400] = "";
    if (err && err->code[0])
        cwx_aws_error_format(err, detail, sizeof detail);
    const struct cwx_plan_target *t = &m->plan->targets[b->target];
    CWX_LOGW("plan: no CloudWatch metrics for %s/%s (%s%s): byte estimates from storedBytes%s",
             m->plan->cfg->accounts[t->account].name, t->region,
             detail[0] ? detail : cwx_strerror(status),
             status == CWX_EDENIED ? "; cloudwatch:GetMetricData is needed" : "",
             m->n_batches > 1 ? " where this happens" : "");
}

static void s_on_page(int status, const struct cwx_monitoring_page *page,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_batch *b = ud;
    struct s_metrics *m = b->m;
    for (size_t i = 0; !status && i < page->n_series; i++) {
        const struct cwx_monitoring_series *se = &page->series[i];
        for (size_t k = 0; !status && k < se->n; k++)
            status = cwx_ingest_add(m->plan, b->groups[se->query], se->ts_ms[k], se->values[k]);
    }
    free(b->next_token);
    b->next_token = NULL;
    if (!status && page->next_token && !cwx_session_stopping(m->session)) {
        b->next_token = strdup(page->next_token);
        status = b->next_token ? s_send(b) : CWX_ENOMEM;
        if (!status)
            return;
    }
    if (status)
        s_fail(b, status, err);
    m->in_flight--;
    if (!s_pump(m))
        s_finish(m);
}

/* Asks for the batch's next page (the first when next_token is NULL).
 * Returns 0 (s_on_page will run) or CWX_E*. */
static int s_send(struct s_batch *b)
{
    struct s_metrics *m = b->m;
    struct cwx_monitoring_get_req req = {
        .namespace_ = "AWS/Logs",
        .metric_name = "IncomingBytes",
        .dimension = "LogGroupName",
        .stat = "Sum",
        .period_s = 86400,
        .values = b->names,
        .n_queries = b->n,
        .start_ms = b->start_ms,
        .end_ms = m->end_ms,
        .next_token = b->next_token,
    };
    struct cwx_aws_client *c = cwx_session_client(m->session, b->target);
    return c ? cwx_monitoring_get_metric_data(c, &req, s_on_page, b) : CWX_EINVAL;
}

/* Whether group gi has a pending window starting inside the metrics. */
static int s_wanted(const struct cwx_plan *plan, uint32_t gi, int64_t first_day)
{
    const struct cwx_plan_group *g = &plan->groups[gi];
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    for (uint32_t k = 0; k < g->n_jobs; k++) {
        struct cwx_job tmp;
        const struct cwx_job *job = cwx_plan_job(plan, g->first_job + k, &tmp, 0);
        if (job->status == CWX_JOB_PENDING && ws->windows[job->window].start_ms >= first_day)
            return 1;
    }
    return 0;
}

/* Cuts every target's wanted groups into batches. */
static int s_batches(struct s_metrics *m, int64_t first_day)
{
    struct cwx_plan *plan = m->plan;
    m->batches = calloc(plan->n_groups ? plan->n_groups : 1, sizeof *m->batches);
    if (!m->batches)
        return CWX_ENOMEM;
    struct s_batch *open = NULL;
    for (uint32_t t = 0; t < plan->n_targets; t++, open = NULL) {
        if (!cwx_session_client(m->session, t))
            continue;
        for (uint32_t gi = 0; gi < plan->n_groups; gi++) {
            if (plan->groups[gi].target != t || !s_wanted(plan, gi, first_day))
                continue;
            if (!open || open->n == CWX_MONITORING_MAX_QUERIES) {
                open = &m->batches[m->n_batches++];
                /* Every day of the metrics, also those before the group's
                 * first pending window: the calibration compares them all
                 * with storedBytes. */
                *open = (struct s_batch){.m = m, .target = t, .start_ms = first_day};
                open->groups = calloc(CWX_MONITORING_MAX_QUERIES, sizeof *open->groups);
                open->names = calloc(CWX_MONITORING_MAX_QUERIES, sizeof *open->names);
                if (!open->groups || !open->names)
                    return CWX_ENOMEM;
            }
            open->groups[open->n] = gi;
            open->names[open->n++] = plan->groups[gi].name;
            int rc = cwx_ingest_add(plan, gi, 0, 0);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int cwx_plan_read_metrics(struct cwx_session *s, struct cwx_plan *plan,
                          cwx_resolve_done_fn *cb, void *ud)
{
    if (!s || !plan || !cb)
        return CWX_EINVAL;
    /* Whole days inside the retention, up to today's (partial) day. */
    int64_t horizon = plan->now_ms - (int64_t)CWX_MONITORING_RETENTION_DAYS * S_DAY_MS;
    int64_t first_day = horizon - horizon % S_DAY_MS + S_DAY_MS;
    int64_t end = plan->now_ms - plan->now_ms % S_DAY_MS + S_DAY_MS;
    struct s_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return CWX_ENOMEM;
    *m = (struct s_metrics){.session = s, .plan = plan, .cb = cb, .ud = ud, .end_ms = end};
    int rc = cwx_ingest_attach(plan, first_day, (uint32_t)((end - first_day) / S_DAY_MS));
    if (!rc)
        rc = s_batches(m, first_day);
    if (rc || !m->n_batches) {
        m->cb = NULL;
        s_finish(m);
        return rc ? rc : CWX_ENOTFOUND;
    }
    if (!s_pump(m)) {
        /* Every call failed at once: the callback never runs. */
        rc = m->status ? m->status : CWX_EUNAVAIL;
        m->cb = NULL;
        s_finish(m);
        return rc;
    }
    return 0;
}
