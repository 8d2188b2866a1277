#include "planner/estimate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/mem.h"

/* DescribeExportTasks calls a lane makes when it starts: the in-flight
 * tasks (RUNNING, PENDING) and the recent COMPLETED ones, one page each. */
#define CWX_ESTIMATE_START_DESCRIBES 3

void cwx_estimate_observe(struct cwx_plan *plan, uint32_t target, int64_t bytes,
                          int64_t duration_ms)
{
    if (target >= plan->n_targets || duration_ms <= 0)
        return;
    struct cwx_plan_target *t = &plan->targets[target];
    t->rate_samples++;
    t->rate_bytes += bytes > 0 ? bytes : 0;
    t->rate_ms += duration_ms;
}

void cwx_estimate_rate_of(const struct cwx_plan *plan, uint32_t target,
                          struct cwx_estimate_rate *out)
{
    *out = (struct cwx_estimate_rate){
        .bytes_per_s = CWX_ESTIMATE_DEFAULT_BYTES_PER_S,
        .overhead_ms = CWX_ESTIMATE_TASK_OVERHEAD_MS,
        .source = "default",
    };
    if (target >= plan->n_targets)
        return;
    const struct cwx_plan_target *t = &plan->targets[target];
    if (t->model) {
        /* The lane model: the fit a run polls with. */
        double rate = cwx_lane_model_rate(t->model);
        int64_t overhead = cwx_lane_model_overhead(t->model);
        if (rate > 0 && overhead >= 0) {
            out->bytes_per_s = rate;
            out->overhead_ms = overhead;
            out->samples = t->model->tasks > UINT32_MAX ? UINT32_MAX : (uint32_t)t->model->tasks;
            out->source = "model";
            return;
        }
    }
    if (!t->rate_samples || t->rate_ms <= 0)
        return;
    out->samples = t->rate_samples;
    out->source = "observed";
    int64_t mean_ms = t->rate_ms / t->rate_samples;
    /* Small exports are all overhead: never assume more overhead than the
     * mean observed duration. */
    if (mean_ms < out->overhead_ms)
        out->overhead_ms = mean_ms / 2;
    int64_t data_ms = t->rate_ms - (int64_t)t->rate_samples * out->overhead_ms;
    int64_t floor_ms = (int64_t)t->rate_samples * 1000;
    if (data_ms < floor_ms)
        data_ms = floor_ms;
    if (t->rate_bytes > 0)
        out->bytes_per_s = (double)t->rate_bytes * 1000.0 / (double)data_ms;
}

int64_t cwx_estimate_job_ms(const struct cwx_estimate_rate *r, int64_t bytes)
{
    int64_t ms = r->overhead_ms;
    if (bytes > 0 && r->bytes_per_s > 0)
        ms += (int64_t)((double)bytes * 1000.0 / r->bytes_per_s + 0.5);
    return ms;
}

/* One lane's replay of the poll schedule, and its memo once frozen. */
struct s_replay {
    struct cwx_lane_model sim;
    int learnt;
    int64_t memo_bytes, memo_ms;
    uint64_t memo_min, memo_max;
    double memo_polls, memo_seen;
    double polls, seen; /* expected, summed over the lane's pending jobs */
    double busy;        /* their estimated durations, summed */
    size_t jobs;
};

static void s_add_calls(struct cwx_estimate_calls *a, const struct cwx_estimate_calls *b)
{
    a->create += b->create;
    a->describe += b->describe;
    a->list += b->list;
    a->put += b->put;
}

static void s_count(struct cwx_plan_totals *t, uint8_t status)
{
    t->jobs++;
    switch (status) {
    case CWX_JOB_DONE: t->done++; break;
    case CWX_JOB_RUNNING: t->running++; break;
    case CWX_JOB_SKIPPED: t->skipped++; break;
    case CWX_JOB_FAILED: t->failed++; break;
    default: t->pending++; break;
    }
}

/* Groups the plan's targets into lanes (out->lanes, out->target_lane) and
 * fills each target's rate. Targets are ordered by account, then region: a
 * lane of scope `account` is a run of consecutive targets. */
static void s_lanes(const struct cwx_plan *plan, struct cwx_estimate *out,
                    struct cwx_estimate_rate *rates)
{
    for (size_t i = 0; i < plan->n_targets; i++) {
        const struct cwx_plan_target *t = &plan->targets[i];
        const struct cwx_account *acc = &plan->cfg->accounts[t->account];
        bool per_region = acc->settings.token_scope == CWX_SCOPE_REGION;
        struct cwx_estimate_lane *prev = out->n_lanes ? &out->lanes[out->n_lanes - 1] : NULL;
        cwx_estimate_rate_of(plan, (uint32_t)i, &rates[i]);
        const char *cal = cwx_ingest_calibration(plan, (uint32_t)i, NULL);
        if (prev && !per_region && prev->account == t->account) {
            out->target_lane[i] = (uint32_t)(out->n_lanes - 1);
            if (!prev->rate.samples && rates[i].samples)
                prev->rate = rates[i];
            /* As the run: the model with the most tasks. */
            if (t->model && t->model->tasks > prev->model.tasks)
                prev->model = *t->model;
            if (!prev->calibration)
                prev->calibration = cal;
            continue;
        }
        out->target_lane[i] = (uint32_t)out->n_lanes;
        out->lanes[out->n_lanes++] = (struct cwx_estimate_lane){
            .account = t->account,
            .region = per_region ? t->region : NULL,
            .rate = rates[i],
            .calibration = cal,
        };
        if (t->model)
            out->lanes[out->n_lanes - 1].model = *t->model;
    }
}

/* The start of each target: its marker index, its task listings. */
static int s_start_calls(const struct cwx_plan *plan, struct cwx_estimate *out)
{
    size_t nt = plan->n_targets;
    size_t *target_jobs = calloc(nt ? nt : 1, sizeof *target_jobs);
    if (!target_jobs)
        return CWX_ENOMEM;
    for (size_t gi = 0; gi < plan->n_groups; gi++)
        target_jobs[plan->groups[gi].target] += plan->groups[gi].n_jobs;
    for (size_t i = 0; i < nt; i++) {
        struct cwx_estimate_lane *l = &out->lanes[out->target_lane[i]];
        l->calls.list += (target_jobs[i] + CWX_ESTIMATE_LIST_PAGE - 1) / CWX_ESTIMATE_LIST_PAGE
                         + (target_jobs[i] == 0);
        l->calls.describe += CWX_ESTIMATE_START_DESCRIBES;
    }
    free(target_jobs);
    return 0;
}

/* One pending job of `bytes` lasting ms replayed on its lane: the polls its
 * task costs and when the end is seen (learning from the first
 * CWX_ESTIMATE_LEARN_TASKS jobs, then frozen and memoised by size). */
static void s_replay_job(struct s_replay *r, struct cwx_estimate_lane *l,
                         const struct cwx_poll_policy *policy, int64_t bytes, int64_t ms)
{
    double seen = (double)ms, polls;
    if (r->learnt < CWX_ESTIMATE_LEARN_TASKS) {
        cwx_lane_model_expect(&r->sim, policy, bytes, ms, &polls, &seen);
        cwx_lane_model_add(&r->sim, bytes, ms);
        r->learnt++;
    } else if (r->memo_bytes == bytes && r->memo_ms == ms && r->memo_min == policy->min_ms &&
               r->memo_max == policy->max_ms) {
        polls = r->memo_polls;
        seen = r->memo_seen;
    } else {
        cwx_lane_model_expect(&r->sim, policy, bytes, ms, &polls, &seen);
        r->memo_bytes = bytes;
        r->memo_ms = ms;
        r->memo_min = policy->min_ms;
        r->memo_max = policy->max_ms;
        r->memo_polls = polls;
        r->memo_seen = seen;
    }
    r->polls += polls;
    r->seen += seen;
    r->busy += (double)ms;
    r->jobs++;
    l->calls.create++;
    l->calls.describe += polls;
    l->calls.list++;
    l->calls.put++;
}

/* Counts the jobs of group gi on its lane and replays its pending ones. */
static void s_replay_group(const struct cwx_plan *plan, struct cwx_estimate *out,
                           struct s_replay *rp, const struct cwx_estimate_rate *rates,
                           size_t gi)
{
    const struct cwx_plan_group *g = &plan->groups[gi];
    uint32_t lane_i = out->target_lane[g->target];
    struct cwx_estimate_lane *l = &out->lanes[lane_i];
    const struct cwx_estimate_rate *rate = &rates[g->target];
    const struct cwx_account *acc = &plan->cfg->accounts[plan->targets[g->target].account];
    struct cwx_poll_policy policy = cwx_poll_policy_of(&acc->settings);
    const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
    for (uint32_t k = 0; k < g->n_jobs; k++) {
        struct cwx_job tmp;
        const struct cwx_job *job = cwx_plan_job(plan, g->first_job + k, &tmp, 0);
        s_count(&l->totals, job->status);
        if (job->status != CWX_JOB_PENDING)
            continue;
        enum cwx_bytes_source src;
        int64_t bytes = cwx_estimate_window_bytes_src(plan, g, &ws->windows[job->window], &src);
        l->bytes_jobs[src]++;
        if (bytes < 0)
            l->bytes_unknown++;
        else
            l->bytes += bytes;
        int64_t ms = cwx_estimate_job_ms(rate, bytes);
        if (job->covered) {
            /* Exported by its range's task (coalesce): its bytes and its
             * marker, no task of its own. */
            rp[lane_i].busy += (double)(ms - rate->overhead_ms);
            l->calls.put++;
            continue;
        }
        s_replay_job(&rp[lane_i], l, &policy, bytes, ms);
    }
}

/* What the remembered runs teach about the schedule itself: the polls they
 * made per poll replayed, and their idle gap between tasks (the end seen
 * late, the next create's own time) in place of the replayed lateness. */
static void s_lane_replayed(struct cwx_estimate_lane *l, const struct s_replay *r)
{
    l->calls.describe += (uint64_t)(r->polls * cwx_lane_model_poll_factor(&l->model) + 0.5);
    int64_t gap = cwx_lane_model_gap(&l->model);
    if (gap >= 0)
        l->backfill_ms += (int64_t)(r->busy + (double)gap * (double)r->jobs + 0.5);
    else
        l->backfill_ms += (int64_t)(r->seen + 0.5);
}

/* Ranges: with a model, its recent relative error; with markers only,
 * ±50 %; with the defaults, a factor of 4 either way. */
static void s_lane_range(struct cwx_estimate_lane *l)
{
    double lo = 0.25, hi = 4.0;
    if (l->model.tasks > 0 && l->model.err_n > 0) {
        double rel = 2.0 * l->model.err_s / l->model.err_n;
        rel = rel < 0.1 ? 0.1 : rel > 0.6 ? 0.6 : rel;
        lo = 1.0 - rel;
        hi = 1.0 + rel;
    } else if (l->rate.samples) {
        lo = 0.5;
        hi = 1.5;
    }
    l->backfill_low_ms = (int64_t)((double)l->backfill_ms * lo);
    l->backfill_high_ms = (int64_t)((double)l->backfill_ms * hi);
    /* Polls vary less than durations: the schedule scales with them only
     * between poll.min and poll.max. */
    l->describe_low = (uint64_t)((double)l->calls.describe * (lo > 0.5 ? lo : 0.5));
    l->describe_high = (uint64_t)((double)l->calls.describe * (hi < 2.0 ? hi : 2.0));
}

int cwx_estimate_plan(const struct cwx_plan *plan, struct cwx_estimate *out)
{
    *out = (struct cwx_estimate){0};
    size_t nt = plan->n_targets;
    out->target_lane = calloc(nt ? nt : 1, sizeof *out->target_lane);
    out->lanes = calloc(nt ? nt : 1, sizeof *out->lanes);
    struct cwx_estimate_rate *rates = calloc(nt ? nt : 1, sizeof *rates);
    struct s_replay *rp = NULL;
    int rc = CWX_ENOMEM;
    if (!out->target_lane || !out->lanes || !rates)
        goto cleanup;
    s_lanes(plan, out, rates);
    if ((rc = s_start_calls(plan, out)) != 0)
        goto cleanup;
    /* Each lane replays the run's poll schedule (planner/lane_model.h) on
     * its pending jobs, from its remembered model (a million offline jobs
     * all have the unknown size: the memo makes them cheap). */
    rc = CWX_ENOMEM;
    if (!(rp = calloc(out->n_lanes ? out->n_lanes : 1, sizeof *rp)))
        goto cleanup;
    for (size_t i = 0; i < out->n_lanes; i++)
        rp[i] = (struct s_replay){.sim = out->lanes[i].model, .memo_ms = -1};
    for (size_t gi = 0; gi < plan->n_groups; gi++)
        s_replay_group(plan, out, rp, rates, gi);
    for (size_t i = 0; i < out->n_lanes; i++) {
        struct cwx_estimate_lane *l = &out->lanes[i];
        s_lane_replayed(l, &rp[i]);
        s_lane_range(l);
        out->bytes += l->bytes;
        out->bytes_unknown += l->bytes_unknown;
        out->serial_ms += l->backfill_ms;
        if (l->backfill_ms > out->wall_ms)
            out->wall_ms = l->backfill_ms;
        s_add_calls(&out->calls, &l->calls);
    }
    rc = 0;
cleanup:
    CWX_FREE_ALL(rp, rates);
    if (rc)
        cwx_estimate_free(out);
    return rc;
}

const char *cwx_estimate_bytes_source(const struct cwx_estimate_lane *l)
{
    size_t m = l->bytes_jobs[CWX_BYTES_METRICS], st = l->bytes_jobs[CWX_BYTES_STORED];
    size_t un = l->bytes_jobs[CWX_BYTES_UNKNOWN];
    if (m && st)
        return un ? "metrics, stored_bytes (some unknown)" : "metrics, stored_bytes";
    if (m)
        return un ? "metrics (some unknown)" : "metrics";
    /* As before metrics: no pending job is "stored_bytes". */
    if (un && !st && !l->bytes)
        return "unknown";
    return un ? "stored_bytes (some unknown)" : "stored_bytes";
}

void cwx_estimate_free(struct cwx_estimate *e)
{
    free(e->lanes);
    free(e->target_lane);
    *e = (struct cwx_estimate){0};
}

void cwx_estimate_format_ms(int64_t ms, char *out, size_t size)
{
    int64_t s = ms < 0 ? 0 : (ms + 500) / 1000;
    if (s >= 86400)
        snprintf(out, size, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(out, size, "%" PRId64 "h %02" PRId64 "m", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(out, size, "%" PRId64 "m %02" PRId64 "s", s / 60, s % 60);
    else
        snprintf(out, size, "%" PRId64 "s", s);
}

void cwx_estimate_format_bytes(int64_t bytes, char *out, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    if (bytes < 0) {
        snprintf(out, size, "unknown");
        return;
    }
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < sizeof units / sizeof *units) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(out, size, "%" PRId64 " B", bytes);
    else
        snprintf(out, size, "%.1f %s", v, units[u]);
}
