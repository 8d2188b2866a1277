/* Fewest tasks (docs/architecture.md §window, §job): windows that no
 * log stream's events touch are skipped, and consecutive small pending
 * windows of one group are exported by one task over their range. */
#include "planner/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "planner/estimate.h"
#include "planner/planner_internal.h"

static int s_cmp_interval(const void *a, const void *b)
{
    const struct cwx_plan_interval *x = a, *y = b;
    if (x->from_ms != y->from_ms)
        return x->from_ms < y->from_ms ? -1 : 1;
    return x->to_ms < y->to_ms ? -1 : x->to_ms > y->to_ms;
}

int cwx_plan_set_events(struct cwx_plan *plan, uint32_t gi,
                        const struct cwx_plan_interval *iv, size_t n)
{
    if (gi >= plan->n_groups || n > UINT32_MAX || (n && !iv))
        return CWX_EINVAL;
    struct cwx_plan_group *g = &plan->groups[gi];
    struct cwx_plan_interval *copy = NULL;
    size_t m = 0;
    if (n) {
        copy = malloc(n * sizeof(*copy));
        if (!copy)
            return CWX_ENOMEM;
        for (size_t i = 0; i < n; i++)
            if (iv[i].to_ms >= iv[i].from_ms)
                copy[m++] = iv[i];
        qsort(copy, m, sizeof(*copy), s_cmp_interval);
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            /* Touching or overlapping intervals merge: [a, b] and [b + 1, c]. */
            if (k && copy[i].from_ms <= copy[k - 1].to_ms + 1) {
                if (copy[i].to_ms > copy[k - 1].to_ms)
                    copy[k - 1].to_ms = copy[i].to_ms;
            } else {
                copy[k++] = copy[i];
            }
        }
        m = k;
    }
    free(g->events);
    g->events = copy;
    g->n_events = (uint32_t)m;
    g->events_known = 1;
    return 0;
}

int64_t cwx_plan_events_overlap(const struct cwx_plan_group *g, int64_t lo, int64_t hi)
{
    if (!g->events_known || hi <= lo)
        return 0;
    int64_t total = 0;
    for (uint32_t i = 0; i < g->n_events; i++) {
        int64_t a = g->events[i].from_ms, b = g->events[i].to_ms + 1;
        if (a < lo)
            a = lo;
        if (b > hi)
            b = hi;
        if (b > a)
            total += b - a;
    }
    return total;
}

size_t cwx_plan_skip_no_events(struct cwx_plan *plan, uint32_t gi)
{
    const struct cwx_plan_group *g = &plan->groups[gi];
    if (!g->events_known)
        return 0;
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    size_t skipped = 0;
    for (uint32_t k = 0; k < g->n_jobs; k++) {
        struct cwx_job *job = &plan->jobs[g->first_job + k];
        if (job->status != CWX_JOB_PENDING || job->covered || job->span > 1)
            continue;
        const struct cwx_window *w = &ws->windows[job->window];
        if (cwx_plan_events_overlap(g, w->start_ms, w->end_ms) > 0)
            continue;
        job->status = CWX_JOB_SKIPPED;
        job->reason = CWX_REASON_NO_EVENTS;
        skipped++;
    }
    return skipped;
}

uint32_t cwx_plan_job_last(const struct cwx_plan *plan, const struct cwx_job *job)
{
    (void)plan;
    return job->span > 1 ? job->window + job->span - 1u : job->window;
}

const struct cwx_job *cwx_plan_job_head(const struct cwx_plan *plan, const struct cwx_job *job)
{
    if (!job->covered)
        return job; /* also every job of a lazy plan, which has no ranges */
    const struct cwx_plan_group *g = &plan->groups[job->group];
    const struct cwx_job *first = &plan->jobs[g->first_job];
    while (job->covered && job > first)
        job--;
    return job;
}

/* Names the head job's task after its range (needs the account id). */
static int s_rename(struct cwx_plan *plan, struct cwx_job *head, struct cwx_buf *prefix)
{
    int rc = cwx__plan_job_name(plan, head, prefix);
    uint32_t last = cwx_plan_job_last(plan, head);
    for (uint32_t w = head->window + 1; !rc && w <= last; w++) {
        struct cwx_job *c = head + (w - head->window);
        memcpy(c->task_name, head->task_name, sizeof(c->task_name));
    }
    return rc;
}

/* A window a range may cover without exporting it on its own: pending, or
 * skipped for having no events (exported as part of the range, harmlessly). */
static int s_coverable(const struct cwx_job *job)
{
    if (job->covered || job->span > 1)
        return 0;
    return job->status == CWX_JOB_PENDING ||
           (job->status == CWX_JOB_SKIPPED && job->reason == CWX_REASON_NO_EVENTS);
}

int cwx_plan_coalesce(struct cwx_plan *plan, uint32_t gi)
{
    struct cwx_plan_group *g = &plan->groups[gi];
    if (!g->n_jobs || g->stored_bytes < 0)
        return 0;
    const struct cwx_coalesce *co = &cwx_plan_job_sel(plan, &plan->jobs[g->first_job])->coalesce;
    if (co->max_windows < 2)
        return 0;
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, CWX_S3_KEY_MAX);
    int rc = 0;
    uint32_t k = 0;
    while (k < g->n_jobs && !rc) {
        struct cwx_job *head = &plan->jobs[g->first_job + k];
        if (head->status != CWX_JOB_PENDING || head->covered || head->span > 1) {
            k++;
            continue;
        }
        int64_t bytes = cwx_estimate_window_bytes(plan, g, &ws->windows[head->window]);
        uint32_t span = 1, last_pending = 1;
        while (k + span < g->n_jobs && span < (uint32_t)co->max_windows) {
            const struct cwx_job *next = head + span;
            if (!s_coverable(next))
                break;
            if (next->status == CWX_JOB_PENDING) {
                int64_t b = cwx_estimate_window_bytes(plan, g, &ws->windows[next->window]);
                if (b < 0 || bytes + b > co->max_bytes)
                    break;
                bytes += b;
                last_pending = span + 1;
            }
            span++;
        }
        /* A range ends on a pending window, never on a skipped one. */
        span = last_pending;
        if (span > 1 && bytes <= co->max_bytes) {
            head->span = (uint16_t)span;
            for (uint32_t i = 1; i < span; i++) {
                struct cwx_job *c = head + i;
                c->covered = 1;
                if (c->status == CWX_JOB_SKIPPED) {
                    c->status = CWX_JOB_PENDING;
                    c->reason = CWX_REASON_NONE;
                }
            }
            rc = s_rename(plan, head, &prefix);
        }
        k += span;
    }
    cwx_buf_free(&prefix);
    return rc;
}

int cwx_plan_split(struct cwx_plan *plan, uint32_t head_job)
{
    if (head_job >= plan->n_jobs)
        return CWX_EINVAL;
    struct cwx_job *head = &plan->jobs[head_job];
    if (head->covered || head->span < 2)
        return CWX_EINVAL;
    uint32_t span = head->span, left = span / 2;
    struct cwx_job *second = head + left;
    head->span = (uint16_t)left;
    second->covered = 0;
    second->span = (uint16_t)(span - left);
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, CWX_S3_KEY_MAX);
    int rc = s_rename(plan, head, &prefix);
    if (!rc)
        rc = s_rename(plan, second, &prefix);
    cwx_buf_free(&prefix);
    return rc;
}

void cwx_plan_savings(const struct cwx_plan *plan, const struct cwx_estimate *est,
                      struct cwx_plan_savings *out)
{
    memset(out, 0, est->n_lanes * sizeof(*out));
    for (uint32_t gi = 0; gi < plan->n_groups; gi++) {
        const struct cwx_plan_group *g = &plan->groups[gi];
        struct cwx_plan_savings *sv = &out[est->target_lane[g->target]];
        const struct cwx_estimate_rate *r = &est->lanes[est->target_lane[g->target]].rate;
        const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
        for (uint32_t k = 0; k < g->n_jobs; k++) {
            struct cwx_job tmp;
            const struct cwx_job *job = cwx_plan_job(plan, g->first_job + k, &tmp, 0);
            int todo = job->status == CWX_JOB_PENDING || job->status == CWX_JOB_RUNNING;
            int no_events = !job->covered && job->status == CWX_JOB_SKIPPED &&
                            job->reason == CWX_REASON_NO_EVENTS;
            if (!todo && !no_events)
                continue;
            int64_t bytes = cwx_estimate_window_bytes(plan, g, &ws->windows[job->window]);
            int64_t ms = cwx_estimate_job_ms(r, bytes);
            /* A covered window that had no events of its own would be
             * skipped without coalesce. */
            int events = !job->covered || !g->events_known ||
                         cwx_plan_events_overlap(g, ws->windows[job->window].start_ms,
                                                 ws->windows[job->window].end_ms) > 0;
            sv->tasks[0]++;
            sv->backfill_ms[0] += ms;
            if (todo && events) {
                sv->tasks[1]++;
                sv->backfill_ms[1] += ms;
            }
            if (todo) {
                sv->tasks[2] += !job->covered;
                sv->backfill_ms[2] += job->covered ? ms - r->overhead_ms : ms;
            }
        }
    }
}
