#include "planner/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "planner/report_internal.h"

static const char *const s_format_names[] = {"table", "json", "csv",
                                             "markdown", "html"};

int cwx_report_format_parse(const char *s, enum cwx_report_format *out)
{
    for (size_t i = 0; i < sizeof s_format_names / sizeof *s_format_names; i++) {
        if (strcmp(s, s_format_names[i]) == 0) {
            *out = (enum cwx_report_format)i;
            return 0;
        }
    }
    return CWX_EINVAL;
}

static int s_json_str_or_null(struct cwx_buf *b, const char *s)
{
    return s ? cwx_buf_json_str(b, s) : cwx_buf_puts(b, "null");
}

static int s_json_field(struct cwx_buf *b, const char *key, const char *val)
{
    int rc = cwx_buf_puts(b, key);
    if (!rc)
        rc = s_json_str_or_null(b, val);
    return rc;
}

/* n fields: each key (with its separator and colon) and its value, a
 * string or null. */
static int s_json_fields(struct cwx_buf *b, const char *const *keys, const char *const *vals,
                         size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = s_json_field(b, keys[i], vals[i]);
    return rc;
}

/* Seconds with millisecond precision: "61.5". */
static int s_json_calls(struct cwx_buf *b, const struct cwx_estimate_calls *c)
{
    return cwx_buf_printf(b, "{\"create_export_task\": %" PRIu64
                             ", \"describe_export_tasks\": %" PRIu64
                             ", \"list_objects\": %" PRIu64 ", \"put_object\": %" PRIu64
                             ", \"total\": %" PRIu64 "}",
                          c->create, c->describe, c->list, c->put,
                          c->create + c->describe + c->list + c->put);
}

/* "tasks": {...}, "backfill_seconds": {...} of one lane's savings. */
static int s_json_savings(struct cwx_buf *b, const struct cwx_plan_savings *sv)
{
    static const char *const names[3] = {"per_window", "skip_empty", "skip_empty_coalesce"};
    int rc = cwx_buf_puts(b, ", \"tasks\": {");
    for (int i = 0; i < 3 && !rc; i++)
        rc = cwx_buf_printf(b, "%s\"%s\": %" PRIu64, i ? ", " : "", names[i], sv->tasks[i]);
    if (!rc) rc = cwx_buf_puts(b, "}, \"backfill_seconds\": {");
    for (int i = 0; i < 3 && !rc; i++) {
        rc = cwx_buf_printf(b, "%s\"%s\": ", i ? ", " : "", names[i]);
        if (!rc) rc = cwx__report_put_seconds(b, sv->backfill_ms[i]);
    }
    return rc ? rc : cwx_buf_putc(b, '}');
}

/* "coalesced": every range job with its task and covered windows. */
static int s_json_coalesced(struct cwx_buf *b, const struct cwx_plan *plan,
                            struct cwx_buf *prefix)
{
    int rc = cwx_buf_puts(b, ",\n \"coalesced\": [");
    size_t n = 0;
    for (size_t j = 0; j < plan->n_jobs && !rc; j++) {
        struct cwx_job tmp;
        const struct cwx_job *job = cwx_plan_job(plan, j, &tmp, 0);
        if (job->covered || job->span < 2)
            continue;
        const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
        const struct cwx_plan_target *t = &plan->targets[g->target];
        const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
        uint32_t last = cwx_plan_job_last(plan, job);
        cwx_buf_reset(prefix);
        rc = cwx_buf_puts(b, n++ ? ",\n  {" : "\n  {");
        if (!rc) rc = s_json_field(b, "\"account\": ", plan->cfg->accounts[t->account].name);
        if (!rc) rc = s_json_field(b, ", \"region\": ", t->region);
        if (!rc) rc = s_json_field(b, ", \"log_group\": ", g->name);
        if (!rc) rc = cwx_buf_puts(b, ", \"from\": ");
        if (!rc) rc = cwx__report_put_i64(b, ws->windows[job->window].start_ms);
        if (!rc) rc = cwx_buf_puts(b, ", \"to\": ");
        if (!rc) rc = cwx__report_put_i64(b, ws->windows[last].end_ms - 1);
        if (!rc)
            rc = s_json_field(b, ", \"prefix\": ",
                              cwx_plan_job_prefix(plan, job, prefix) == 0 ? prefix->ptr : NULL);
        if (!rc) rc = s_json_field(b, ", \"task_name\": ", job->task_name[0] ? job->task_name : NULL);
        if (!rc) rc = s_json_field(b, ", \"status\": ", cwx_job_status_name(job->status));
        if (!rc) rc = cwx_buf_puts(b, ", \"windows\": [");
        for (uint32_t w = job->window; w <= last && !rc; w++) {
            if (w > job->window)
                rc = cwx_buf_puts(b, ", ");
            if (!rc) rc = s_json_field(b, "", ws->windows[w].label);
        }
        if (!rc) rc = cwx_buf_puts(b, "]}");
    }
    return rc ? rc : cwx_buf_puts(b, n ? "\n ]" : "]");
}

static int s_json_lanes(struct cwx_buf *b, const struct cwx_plan *plan,
                        const struct cwx_estimate *est)
{
    struct cwx_plan_savings *sv = cwx__report_savings(plan, est);
    if (!sv)
        return CWX_ENOMEM;
    int rc = cwx_buf_puts(b, "\n ],\n \"lanes\": [");
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        const struct cwx_estimate_lane *l = &est->lanes[i];
        const struct cwx_account *acc = &plan->cfg->accounts[l->account];
        const char *account_id = cwx__report_lane_account_id(plan, est, i);
        rc = cwx_buf_puts(b, i ? ",\n  {" : "\n  {");
        if (!rc) rc = s_json_field(b, "\"account\": ", acc->name);
        if (!rc) rc = s_json_field(b, ", \"account_id\": ", account_id);
        if (!rc) rc = s_json_field(b, ", \"region\": ", l->region);
        if (!rc)
            rc = cwx_buf_printf(b, ", \"jobs\": %zu, \"pending\": %zu, \"done\": %zu, "
                                   "\"running\": %zu, \"skipped\": %zu, \"failed\": %zu, "
                                   "\"est_bytes\": %" PRId64 ", \"est_bytes_unknown_jobs\": %zu, "
                                   "\"bytes_per_second\": %.0f, \"task_overhead_seconds\": ",
                                l->totals.jobs, l->totals.pending, l->totals.done,
                                l->totals.running, l->totals.skipped, l->totals.failed,
                                l->bytes, l->bytes_unknown, l->rate.bytes_per_s);
        if (!rc) rc = cwx__report_put_seconds(b, l->rate.overhead_ms);
        if (!rc)
            rc = cwx_buf_printf(b, ", \"rate_source\": \"%s\", \"rate_samples\": %u, "
                                   "\"est_backfill_seconds\": ",
                                l->rate.source, l->rate.samples);
        if (!rc) rc = cwx__report_put_seconds(b, l->backfill_ms);
        /* Each estimate with its source and its likely range. */
        if (!rc) rc = cwx_buf_puts(b, ", \"estimates\": {\"makespan_seconds\": {\"value\": ");
        if (!rc) rc = cwx__report_put_seconds(b, l->backfill_ms);
        if (!rc) rc = cwx_buf_puts(b, ", \"low\": ");
        if (!rc) rc = cwx__report_put_seconds(b, l->backfill_low_ms);
        if (!rc) rc = cwx_buf_puts(b, ", \"high\": ");
        if (!rc) rc = cwx__report_put_seconds(b, l->backfill_high_ms);
        if (!rc)
            rc = cwx_buf_printf(b, ", \"source\": \"%s\"}, \"describe_export_tasks\": "
                                   "{\"value\": %" PRIu64 ", \"low\": %" PRIu64
                                   ", \"high\": %" PRIu64 ", \"source\": \"poll schedule, "
                                   "%s\"}, \"bytes\": {\"value\": ",
                                l->rate.source, l->calls.describe, l->describe_low,
                                l->describe_high, l->model.tasks ? "lane model" : "learnt as the run does");
        if (!rc) {
            int64_t shown = cwx_estimate_bytes_shown(l->bytes, l->bytes_unknown);
            rc = shown < 0 ? cwx_buf_puts(b, "null") : cwx__report_put_i64(b, shown);
        }
        if (!rc)
            rc = cwx_buf_printf(b, ", \"source\": \"%s\", \"unknown_jobs\": %zu",
                                cwx_estimate_bytes_source(l), l->bytes_unknown);
        if (!rc && l->calibration && l->bytes_jobs[CWX_BYTES_METRICS])
            rc = cwx_buf_printf(b, ", \"metrics_jobs\": %zu, \"stored_bytes_jobs\": %zu, "
                                   "\"calibration\": \"%s\"",
                                l->bytes_jobs[CWX_BYTES_METRICS], l->bytes_jobs[CWX_BYTES_STORED],
                                l->calibration);
        if (!rc)
            rc = cwx_buf_puts(b, "}}");
        if (!rc) rc = s_json_savings(b, &sv[i]);
        if (!rc) rc = cwx_buf_puts(b, ", \"aws_calls\": ");
        if (!rc) rc = s_json_calls(b, &l->calls);
        if (!rc) rc = cwx_buf_putc(b, '}');
    }
    free(sv);
    return rc;
}

/* One job of the "jobs" array (cwx__report_row_fn). */
static int s_json_job(struct cwx_buf *b, const struct cwx__report_row *r,
                      const struct cwx_job *job, size_t i, void *ud)
{
    (void)job;
    (void)ud;
    static const char *const where[] = {"\"account\": ", ", \"account_id\": ", ", \"region\": ",
                                        ", \"log_group\": ", ", \"window\": "};
    static const char *const what[] = {", \"bucket\": ", ", \"prefix\": ", ", \"task_name\": ",
                                       ", \"status\": ", ", \"reason\": ", ", \"reason_code\": ",
                                       ", \"range\": "};
    const char *const where_v[] = {r->account, r->account_id, r->region, r->log_group, r->window};
    const char *const what_v[] = {r->bucket, r->prefix, r->task_name, r->status,
                                  r->reason, r->reason_code, r->range};
    int rc = cwx_buf_puts(b, i ? ",\n  {" : "\n  {");
    if (!rc) rc = s_json_fields(b, where, where_v, 5);
    if (!rc) rc = cwx_buf_puts(b, ", \"from\": ");
    if (!rc) rc = cwx__report_put_i64(b, r->from_ms);
    if (!rc) rc = cwx_buf_puts(b, ", \"to\": ");
    if (!rc) rc = cwx__report_put_i64(b, r->to_ms);
    if (!rc) rc = s_json_fields(b, what, what_v, 7);
    if (!rc) rc = cwx_buf_puts(b, ", \"est_bytes\": ");
    if (!rc) rc = r->est_bytes < 0 ? cwx_buf_puts(b, "null") : cwx__report_put_i64(b, r->est_bytes);
    if (!rc) rc = cwx_buf_puts(b, ", \"est_seconds\": ");
    if (!rc) rc = cwx__report_put_seconds(b, r->est_ms);
    return rc ? rc : cwx_buf_putc(b, '}');
}

/* The "unresolved" array, each selector the plan could not resolve
 * offline. */
static int s_json_unresolved(struct cwx_buf *b, const struct cwx_plan *plan)
{
    int rc = cwx_buf_puts(b, ",\n \"unresolved\": [");
    for (size_t i = 0; i < plan->n_unresolved && !rc; i++) {
        struct cwx__report_sel sel;
        cwx__report_unresolved(plan, i, &sel);
        static const char *const keys[] = {"\"account\": ", ", \"region\": ", ", \"kind\": ",
                                           ", \"value\": "};
        const char *const vals[] = {sel.account, sel.region, sel.kind, sel.value};
        rc = cwx_buf_puts(b, i ? ",\n  {" : "\n  {");
        if (!rc) rc = s_json_fields(b, keys, vals, 4);
        if (!rc) rc = cwx_buf_putc(b, '}');
    }
    return rc;
}

/* The "totals" and "estimates" objects that close the document. */
static int s_json_totals(struct cwx_buf *b, const struct cwx_plan *plan,
                         const struct cwx_estimate *est)
{
    struct cwx_plan_totals tot;
    cwx_plan_totals(plan, &tot);
    int rc = cwx_buf_printf(b, "%s],\n \"totals\": {\"jobs\": %zu, \"pending\": %zu, "
                               "\"done\": %zu, \"running\": %zu, \"skipped\": %zu, "
                               "\"failed\": %zu, \"unresolved\": %zu, \"tasks\": %zu, "
                               "\"no_events\": %zu},\n"
                               " \"estimates\": {\"lanes\": %zu, \"bytes\": %" PRId64
                               ", \"bytes_unknown_jobs\": %zu, \"wall_seconds\": ",
                            plan->n_unresolved ? "\n " : "", tot.jobs, tot.pending,
                            tot.done, tot.running, tot.skipped, tot.failed,
                            plan->n_unresolved, tot.tasks, tot.no_events, est->n_lanes,
                            est->bytes, est->bytes_unknown);
    if (!rc) rc = cwx__report_put_seconds(b, est->wall_ms);
    if (!rc) rc = cwx_buf_puts(b, ", \"serial_seconds\": ");
    if (!rc) rc = cwx__report_put_seconds(b, est->serial_ms);
    if (!rc) rc = cwx_buf_puts(b, ", \"aws_calls\": ");
    if (!rc) rc = s_json_calls(b, &est->calls);
    return rc ? rc : cwx_buf_puts(b, "}}\n");
}

static int s_write_json(const struct cwx_plan *plan, const struct cwx_estimate *est,
                        const struct cwx_report_options *opts, FILE *f)
{
    struct cwx_buf b, prefix;
    cwx_buf_init(&b, 0);
    cwx_buf_init(&prefix, 0);
    char now[32];
    cwx__report_iso(plan->now_ms, now);
    int rc = cwx_buf_printf(&b, "{\"version\": 1, \"generated_at\": \"%s\", \"offline\": %s,\n \"jobs\": [",
                            now, opts->offline ? "true" : "false");
    if (!rc) rc = cwx__report_rows(plan, est, &b, f, s_json_job, NULL);
    if (!rc) rc = s_json_lanes(&b, plan, est);
    if (!rc) rc = cwx_buf_puts(&b, "\n ]");
    if (!rc) rc = s_json_coalesced(&b, plan, &prefix);
    if (!rc) rc = s_json_unresolved(&b, plan);
    if (!rc) rc = s_json_totals(&b, plan, est);
    if (!rc) rc = cwx__report_flush(&b, f, 0);
    cwx_buf_free(&b);
    cwx_buf_free(&prefix);
    return rc;
}

/* RFC 4180: quote when the field holds a comma, quote or line break. */
static int s_csv_field(struct cwx_buf *b, const char *s, int last)
{
    int rc = 0;
    if (s && strpbrk(s, ",\"\r\n")) {
        rc = cwx_buf_putc(b, '"');
        for (const char *p = s; *p && !rc; p++)
            rc = *p == '"' ? cwx_buf_puts(b, "\"\"") : cwx_buf_putc(b, *p);
        if (!rc)
            rc = cwx_buf_putc(b, '"');
    } else if (s) {
        rc = cwx_buf_puts(b, s);
    }
    if (!rc)
        rc = last ? cwx_buf_puts(b, "\r\n") : cwx_buf_putc(b, ',');
    return rc;
}

/* One line of the CSV (cwx__report_row_fn). */
static int s_csv_row(struct cwx_buf *b, const struct cwx__report_row *r,
                     const struct cwx_job *job, size_t i, void *ud)
{
    (void)job;
    (void)i;
    (void)ud;
    char from[24], to[24], bytes[24], secs[32];
    snprintf(from, sizeof from, "%" PRId64, r->from_ms);
    snprintf(to, sizeof to, "%" PRId64, r->to_ms);
    snprintf(bytes, sizeof bytes, "%" PRId64, r->est_bytes);
    snprintf(secs, sizeof secs, "%" PRId64 ".%03d", r->est_ms / 1000, (int)(r->est_ms % 1000));
    const char *fields[] = {r->account, r->account_id, r->region, r->log_group,
                            r->window, from, to, r->bucket, r->prefix,
                            r->task_name, r->status, r->reason,
                            r->est_bytes < 0 ? NULL : bytes, secs, r->reason_code,
                            r->range};
    size_t n = sizeof fields / sizeof *fields;
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++)
        rc = s_csv_field(b, fields[k], k + 1 == n);
    return rc;
}

static int s_write_csv(const struct cwx_plan *plan, const struct cwx_estimate *est, FILE *f)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int rc = cwx_buf_puts(&b, "account,account_id,region,log_group,window,from,to,"
                              "bucket,prefix,task_name,status,reason,est_bytes,est_seconds,"
                              "reason_code,range\r\n");
    if (!rc)
        rc = cwx__report_rows(plan, est, &b, f, s_csv_row, NULL);
    if (!rc)
        rc = cwx__report_flush(&b, f, 0);
    cwx_buf_free(&b);
    return rc;
}

static const char *s_status_color(const char *status)
{
    if (strcmp(status, "done") == 0) return "\033[32m";
    if (strcmp(status, "running") == 0) return "\033[36m";
    if (strcmp(status, "failed") == 0) return "\033[31m";
    if (strcmp(status, "skipped") == 0) return "\033[2m";
    return "\033[33m";
}

static void s_rate_text(const struct cwx_estimate_rate *r, char *out, size_t size)
{
    char bps[32];
    cwx_estimate_format_bytes((int64_t)r->bytes_per_s, bps, sizeof bps);
    snprintf(out, size, "%s/s + %" PRId64 "s/task (%s)", bps, r->overhead_ms / 1000,
             r->source ? r->source : "default");
}

static int s_md_cell(struct cwx_buf *b, const char *s);

/* The saving of skip_empty and coalesce per lane: a text table (md 0) or a
 * markdown one (md 1). */
static int s_write_savings(struct cwx_buf *b, const struct cwx_plan *plan,
                           const struct cwx_estimate *est, int md)
{
    struct cwx_plan_savings *sv = cwx__report_savings(plan, est);
    if (!sv)
        return CWX_ENOMEM;
    int rc = md ? cwx_buf_puts(b, "\n## Fewest tasks\n\n"
                                  "Export tasks and backfill time per lane: one task per "
                                  "window, without the windows that have no events "
                                  "(`skip_empty`), and as planned (with `coalesce`).\n\n"
                                  "| lane | tasks per window | backfill | tasks with skip_empty "
                                  "| backfill | tasks as planned | backfill |\n"
                                  "|---|---:|---:|---:|---:|---:|---:|\n")
                : cwx_buf_printf(b, "\n%-24s %9s %10s %9s %10s %9s %10s\n", "FEWEST TASKS",
                                 "PER-WIN", "BACKFILL", "SKIP-EMPTY", "BACKFILL", "PLANNED",
                                 "BACKFILL");
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        char name[256], d[3][24];
        cwx__report_lane_name(plan, &est->lanes[i], name, sizeof name);
        for (int k = 0; k < 3; k++)
            cwx_estimate_format_ms(sv[i].backfill_ms[k], d[k], sizeof d[k]);
        if (md) {
            rc = cwx_buf_putc(b, '|');
            if (!rc) rc = s_md_cell(b, name);
            if (!rc)
                rc = cwx_buf_printf(b, " %" PRIu64 " | %s | %" PRIu64 " | %s | %" PRIu64
                                       " | %s |\n",
                                    sv[i].tasks[0], d[0], sv[i].tasks[1], d[1], sv[i].tasks[2],
                                    d[2]);
        } else {
            rc = cwx_buf_printf(b, "%-24s %9" PRIu64 " %10s %9" PRIu64 " %10s %9" PRIu64
                                   " %10s\n",
                                name, sv[i].tasks[0], d[0], sv[i].tasks[1], d[1],
                                sv[i].tasks[2], d[2]);
        }
    }
    free(sv);
    return rc;
}

/* Column widths of the jobs table, from the data: one pass over the
 * groups suffices. */
struct s_widths {
    int acc, reg, grp, win;
};

static struct s_widths s_table_widths(const struct cwx_plan *plan)
{
    struct s_widths w = {7, 6, 9, 6};
    for (size_t i = 0; i < plan->n_groups; i++) {
        const struct cwx_plan_group *g = &plan->groups[i];
        const struct cwx_plan_target *t = &plan->targets[g->target];
        int la = (int)strlen(plan->cfg->accounts[t->account].name);
        int lr = (int)strlen(t->region), lg = (int)strlen(g->name);
        w.acc = la > w.acc ? la : w.acc;
        w.reg = lr > w.reg ? lr : w.reg;
        w.grp = lg > w.grp ? lg : w.grp;
        const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
        if (ws->n_windows > 0) {
            int lw = (int)strlen(ws->windows[0].label);
            w.win = lw > w.win ? lw : w.win;
        }
    }
    return w;
}

/* What a line of the jobs table needs besides the row. */
struct s_table_ctx {
    struct s_widths w;
    bool color;
};

/* One line of the jobs table (cwx__report_row_fn). */
static int s_table_row(struct cwx_buf *b, const struct cwx__report_row *r,
                       const struct cwx_job *job, size_t i, void *ud)
{
    const struct s_table_ctx *t = ud;
    (void)i;
    char bytes[24], dur[24];
    cwx_estimate_format_bytes(r->est_bytes, bytes, sizeof bytes);
    cwx_estimate_format_ms(r->est_ms, dur, sizeof dur);
    bool todo = job->status == CWX_JOB_PENDING;
    char grp[2100]; /* a name from AWS: control characters escaped */
    return cwx_buf_printf(b, "%-*s  %-*s  %-*s  %-*s  %s%-8s%s  %9s  %8s  %s\n", t->w.acc,
                          r->account, t->w.reg, r->region, t->w.grp,
                          cwx_escape_ctl(r->log_group, grp, sizeof grp), t->w.win, r->window,
                          t->color ? s_status_color(r->status) : "", r->status,
                          t->color ? "\033[0m" : "", todo || r->est_bytes >= 0 ? bytes : "",
                          todo ? dur : "", r->reason ? r->reason : "");
}

/* The jobs table (its heading and a line a job), then the selectors left
 * unresolved. */
static int s_table_jobs(struct cwx_buf *b, const struct cwx_plan *plan,
                        const struct cwx_estimate *est, const struct cwx_report_options *opts,
                        FILE *f)
{
    struct s_table_ctx t = {s_table_widths(plan), opts->color};
    int rc = cwx_buf_printf(b, "%-*s  %-*s  %-*s  %-*s  %-8s  %9s  %8s  %s\n", t.w.acc,
                            "ACCOUNT", t.w.reg, "REGION", t.w.grp, "LOG GROUP", t.w.win,
                            "WINDOW", "STATUS", "EST.BYTES", "EST.TIME", "REASON");
    if (!rc)
        rc = cwx__report_rows(plan, est, b, f, s_table_row, &t);
    for (size_t i = 0; i < plan->n_unresolved && !rc; i++) {
        struct cwx__report_sel sel;
        cwx__report_unresolved(plan, i, &sel);
        rc = cwx_buf_printf(b, "%-*s  %-*s  %s %s: unresolved offline (needs DescribeLogGroups)\n",
                            t.w.acc, sel.account, t.w.reg, sel.region, sel.kind, sel.value);
    }
    return rc;
}

/* The lanes table: a line a lane. */
static int s_table_lanes(struct cwx_buf *b, const struct cwx_plan *plan,
                         const struct cwx_estimate *est)
{
    int rc = cwx_buf_printf(b, "\n%-24s %7s %7s %7s %7s %7s %7s %10s %10s %9s  %s\n", "LANE",
                            "JOBS", "PENDING", "DONE", "RUNNING", "SKIPPED", "FAILED",
                            "EST.BYTES", "BACKFILL", "AWS CALLS", "RATE");
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        const struct cwx_estimate_lane *l = &est->lanes[i];
        char name[256], bytes[24], dur[24], rate[96];
        cwx__report_lane_name(plan, l, name, sizeof name);
        cwx_estimate_format_bytes(cwx_estimate_bytes_shown(l->bytes, l->bytes_unknown), bytes,
                                  sizeof bytes);
        cwx_estimate_format_ms(l->backfill_ms, dur, sizeof dur);
        s_rate_text(&l->rate, rate, sizeof rate);
        rc = cwx_buf_printf(b, "%-24s %7zu %7zu %7zu %7zu %7zu %7zu %10s %10s %9" PRIu64 "  %s\n",
                            name, l->totals.jobs, l->totals.pending, l->totals.done,
                            l->totals.running, l->totals.skipped, l->totals.failed, bytes,
                            dur, l->calls.create + l->calls.describe + l->calls.list + l->calls.put,
                            rate);
    }
    return rc;
}

/* The two closing lines: the jobs by status and the estimate. */
static int s_table_totals(struct cwx_buf *b, const struct cwx_plan *plan,
                          const struct cwx_estimate *est)
{
    struct cwx__report_head h;
    cwx__report_head_fill(plan, est, &h);
    return cwx_buf_printf(b, "\n%zu jobs: %zu pending, %zu done, %zu running, %zu skipped, "
                             "%zu failed; %zu selectors unresolved\n"
                             "estimated: %s to export%s, %s with %zu lane%s in parallel; "
                             "AWS calls: %" PRIu64 " CreateExportTask, %" PRIu64
                             " DescribeExportTasks, %" PRIu64 " ListObjectsV2, %" PRIu64
                             " PutObject\n",
                          h.tot.jobs, h.tot.pending, h.tot.done, h.tot.running, h.tot.skipped,
                          h.tot.failed, plan->n_unresolved, h.bytes,
                          est->bytes_unknown && est->bytes ? " (plus groups of unknown size)" : "",
                          h.wall, est->n_lanes, est->n_lanes == 1 ? "" : "s", est->calls.create,
                          est->calls.describe, est->calls.list, est->calls.put);
}

static int s_write_table(const struct cwx_plan *plan, const struct cwx_estimate *est,
                         const struct cwx_report_options *opts, FILE *f)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int rc = s_table_jobs(&b, plan, est, opts, f);
    if (!rc) rc = s_table_lanes(&b, plan, est);
    if (!rc) rc = s_write_savings(&b, plan, est, 0);
    if (!rc) rc = s_table_totals(&b, plan, est);
    if (!rc) rc = cwx__report_flush(&b, f, 0);
    cwx_buf_free(&b);
    return rc;
}

/* A Markdown table cell: '|' and '\' escaped, '<' and '&' as entities,
 * line breaks as spaces. */
static int s_md_cell(struct cwx_buf *b, const char *s)
{
    static const char *const as[] = {"\\|", "\\\\", "&lt;", "&amp;", " ", " "};
    int rc = cwx_buf_puts(b, " ");
    if (!rc) rc = cwx__report_put_escaped(b, s, "|\\<&\r\n", as);
    return rc ? rc : cwx_buf_puts(b, " |");
}

/* The title, the totals and the heading of the lanes table. */
static int s_md_head(struct cwx_buf *b, const struct cwx_plan *plan,
                     const struct cwx_estimate *est, const struct cwx_report_options *opts)
{
    struct cwx__report_head h;
    cwx__report_head_fill(plan, est, &h);
    const struct cwx_estimate_calls *c = &est->calls;
    return cwx_buf_printf(
        b,
        "# cwexport plan\n\nGenerated %s%s from `%s`.\n\n## Totals\n\n"
        "| jobs | pending | done | running | skipped | failed | unresolved selectors |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        "| %zu | %zu | %zu | %zu | %zu | %zu | %zu |\n\n"
        "Estimated: **%s** to export%s; **%s** with the %zu lane%s in parallel "
        "(%s one after the other). AWS calls a run would make: %" PRIu64
        " CreateExportTask, %" PRIu64 " DescribeExportTasks, %" PRIu64
        " ListObjectsV2, %" PRIu64 " PutObject (%" PRIu64 " in all).\n\n"
        "## Lanes\n\n"
        "| lane | jobs | pending | done | running | skipped | failed | est. bytes | backfill "
        "| rate | AWS calls |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n",
        h.now, opts->offline ? " offline (no AWS calls)" : "", plan->cfg->path ? plan->cfg->path : "",
        h.tot.jobs, h.tot.pending, h.tot.done, h.tot.running, h.tot.skipped, h.tot.failed,
        plan->n_unresolved, h.bytes, est->bytes_unknown && est->bytes ? " (plus groups of unknown size)" : "",
        h.wall, est->n_lanes, est->n_lanes == 1 ? "" : "s", h.serial, c->create, c->describe,
        c->list, c->put, c->create + c->describe + c->list + c->put);
}

/* A row of the lanes table a lane. */
static int s_md_lanes(struct cwx_buf *b, const struct cwx_plan *plan,
                      const struct cwx_estimate *est)
{
    int rc = 0;
    for (size_t i = 0; i < est->n_lanes && !rc; i++) {
        const struct cwx_estimate_lane *l = &est->lanes[i];
        char name[256], lb[24], dur[24], rate[96];
        cwx__report_lane_name(plan, l, name, sizeof name);
        cwx_estimate_format_bytes(cwx_estimate_bytes_shown(l->bytes, l->bytes_unknown), lb, sizeof lb);
        cwx_estimate_format_ms(l->backfill_ms, dur, sizeof dur);
        s_rate_text(&l->rate, rate, sizeof rate);
        rc = cwx_buf_putc(b, '|');
        if (!rc) rc = s_md_cell(b, name);
        if (!rc)
            rc = cwx_buf_printf(b, " %zu | %zu | %zu | %zu | %zu | %zu | %s | %s | %s | %" PRIu64
                                   " |\n",
                                l->totals.jobs, l->totals.pending, l->totals.done,
                                l->totals.running, l->totals.skipped, l->totals.failed, lb, dur,
                                rate, l->calls.create + l->calls.describe + l->calls.list +
                                          l->calls.put);
    }
    return rc;
}

/* The selectors left unresolved, when there are any. */
static int s_md_unresolved(struct cwx_buf *b, const struct cwx_plan *plan)
{
    if (!plan->n_unresolved)
        return 0;
    int rc = cwx_buf_puts(b, "\n## Unresolved selectors\n\nResolved only against AWS "
                             "(DescribeLogGroups):\n\n| account | region | kind | value |\n"
                             "|---|---|---|---|\n");
    return rc ? rc : cwx__report_unresolved_rows(plan, b, "|", s_md_cell, "\n");
}

/* One row of the jobs table (cwx__report_row_fn). */
static int s_md_row(struct cwx_buf *b, const struct cwx__report_row *r,
                    const struct cwx_job *job, size_t i, void *ud)
{
    (void)i;
    (void)ud;
    char jb[24], dur[24];
    cwx_estimate_format_bytes(r->est_bytes, jb, sizeof jb);
    cwx_estimate_format_ms(r->est_ms, dur, sizeof dur);
    const char *const cells[] = {r->account, r->region, r->log_group,
                                 r->window, r->status, r->reason, jb,
                                 job->status == CWX_JOB_PENDING ? dur : "", r->task_name};
    return cwx__report_cells(b, "|", cells, sizeof cells / sizeof *cells, s_md_cell, "\n");
}

/* The jobs table, a row a job, flushed to f as it grows. */
static int s_md_jobs(struct cwx_buf *b, const struct cwx_plan *plan,
                     const struct cwx_estimate *est, FILE *f)
{
    int rc = cwx_buf_puts(b, "\n## Jobs\n\n| account | region | log group | window | status "
                             "| reason | est. bytes | est. time | task name |\n"
                             "|---|---|---|---|---|---|---:|---:|---|\n");
    return rc ? rc : cwx__report_rows(plan, est, b, f, s_md_row, NULL);
}

static int s_write_markdown(const struct cwx_plan *plan, const struct cwx_estimate *est,
                            const struct cwx_report_options *opts, FILE *f)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int rc = s_md_head(&b, plan, est, opts);
    if (!rc) rc = s_md_lanes(&b, plan, est);
    if (!rc) rc = s_write_savings(&b, plan, est, 1);
    if (!rc) rc = s_md_unresolved(&b, plan);
    if (!rc) rc = s_md_jobs(&b, plan, est, f);
    if (!rc) rc = cwx__report_flush(&b, f, 0);
    cwx_buf_free(&b);
    return rc;
}

int cwx_report_write(const struct cwx_plan *plan, enum cwx_report_format fmt,
                     const struct cwx_report_options *opts, FILE *f)
{
    struct cwx_estimate est;
    int rc = cwx_estimate_plan(plan, &est);
    if (rc)
        return rc;
    switch (fmt) {
    case CWX_REPORT_JSON: rc = s_write_json(plan, &est, opts, f); break;
    case CWX_REPORT_CSV: rc = s_write_csv(plan, &est, f); break;
    case CWX_REPORT_TABLE: rc = s_write_table(plan, &est, opts, f); break;
    case CWX_REPORT_MARKDOWN: rc = s_write_markdown(plan, &est, opts, f); break;
    case CWX_REPORT_HTML: rc = cwx__report_write_html(plan, &est, opts, f); break;
    default: rc = CWX_EINVAL;
    }
    cwx_estimate_free(&est);
    if (!rc && fflush(f) != 0)
        rc = CWX_EIO;
    return rc;
}
