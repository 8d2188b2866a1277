#include "planner/report.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

/* Flush the row buffer to the file once it holds this much. */
#define CWX_REPORT_CHUNK (256 * 1024)

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

/* What every format prints of one job. */
struct s_row {
    const char *account;
    const char *account_id; /* NULL when unknown */
    const char *region;
    const char *log_group;
    const char *window;
    int64_t from_ms, to_ms;
    const char *bucket;     /* NULL when unknown */
    const char *prefix;     /* NULL when unknown */
    const char *task_name;  /* NULL when unknown */
    const char *status;
    const char *reason;     /* NULL when none */
};

static void s_fill_row(const struct cwx_plan *plan, const struct cwx_job *job,
                       struct cwx_buf *prefix, struct s_row *row)
{
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_plan_target *t = &plan->targets[g->target];
    const struct cwx_window *w = cwx_plan_job_window(plan, job);
    cwx_buf_reset(prefix);
    *row = (struct s_row){
        .account = plan->cfg->accounts[t->account].name,
        .account_id = t->account_id,
        .region = t->region,
        .log_group = g->name,
        .window = w->label,
        .from_ms = w->start_ms,
        .to_ms = w->end_ms - 1,
        .bucket = t->bucket,
        .prefix = cwx_plan_job_prefix(plan, job, prefix) == 0 ? prefix->ptr : NULL,
        .task_name = job->task_name[0] ? job->task_name : NULL,
        .status = cwx_job_status_name(job->status),
        .reason = cwx_job_reason_text(job->reason),
    };
}

static int s_flush(struct cwx_buf *b, FILE *f, size_t at_least)
{
    if (b->len < at_least)
        return 0;
    if (b->len && fwrite(b->ptr, 1, b->len, f) != b->len)
        return CWX_EIO;
    cwx_buf_reset(b);
    return 0;
}

/* Appends a decimal int64 (faster than printf on the hot path). */
static int s_put_i64(struct cwx_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return cwx_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
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

static void s_iso_now(int64_t now_ms, char out[32])
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int s_write_json(const struct cwx_plan *plan, const struct cwx_report_options *opts,
                        FILE *f)
{
    struct cwx_buf b, prefix;
    cwx_buf_init(&b, 0);
    cwx_buf_init(&prefix, 0);
    char now[32];
    s_iso_now(plan->now_ms, now);
    int rc = cwx_buf_printf(&b, "{\"version\": 1, \"generated_at\": \"%s\", \"offline\": %s,\n \"jobs\": [",
                            now, opts->offline ? "true" : "false");
    for (size_t i = 0; i < plan->n_jobs && !rc; i++) {
        struct s_row r;
        s_fill_row(plan, &plan->jobs[i], &prefix, &r);
        rc = cwx_buf_puts(&b, i ? ",\n  {" : "\n  {");
        if (!rc) rc = s_json_field(&b, "\"account\": ", r.account);
        if (!rc) rc = s_json_field(&b, ", \"account_id\": ", r.account_id);
        if (!rc) rc = s_json_field(&b, ", \"region\": ", r.region);
        if (!rc) rc = s_json_field(&b, ", \"log_group\": ", r.log_group);
        if (!rc) rc = s_json_field(&b, ", \"window\": ", r.window);
        if (!rc) rc = cwx_buf_puts(&b, ", \"from\": ");
        if (!rc) rc = s_put_i64(&b, r.from_ms);
        if (!rc) rc = cwx_buf_puts(&b, ", \"to\": ");
        if (!rc) rc = s_put_i64(&b, r.to_ms);
        if (!rc) rc = s_json_field(&b, ", \"bucket\": ", r.bucket);
        if (!rc) rc = s_json_field(&b, ", \"prefix\": ", r.prefix);
        if (!rc) rc = s_json_field(&b, ", \"task_name\": ", r.task_name);
        if (!rc) rc = s_json_field(&b, ", \"status\": ", r.status);
        if (!rc) rc = s_json_field(&b, ", \"reason\": ", r.reason);
        if (!rc) rc = cwx_buf_putc(&b, '}');
        if (!rc) rc = s_flush(&b, f, CWX_REPORT_CHUNK);
    }
    if (!rc)
        rc = cwx_buf_puts(&b, "\n ],\n \"unresolved\": [");
    for (size_t i = 0; i < plan->n_unresolved && !rc; i++) {
        const struct cwx_plan_unresolved *u = &plan->unresolved[i];
        const struct cwx_plan_target *t = &plan->targets[u->target];
        const struct cwx_account *acc = &plan->cfg->accounts[t->account];
        const struct cwx_group_sel *gs = &acc->groups[u->sel];
        rc = cwx_buf_puts(&b, i ? ",\n  {" : "\n  {");
        if (!rc) rc = s_json_field(&b, "\"account\": ", acc->name);
        if (!rc) rc = s_json_field(&b, ", \"region\": ", t->region);
        if (!rc) rc = s_json_field(&b, ", \"kind\": ",
                                   gs->kind == CWX_GROUP_PREFIX ? "prefix" : "pattern");
        if (!rc) rc = s_json_field(&b, ", \"value\": ", gs->value);
        if (!rc) rc = cwx_buf_putc(&b, '}');
    }
    struct cwx_plan_totals tot;
    cwx_plan_totals(plan, &tot);
    if (!rc)
        rc = cwx_buf_printf(&b, "%s],\n \"totals\": {\"jobs\": %zu, \"pending\": %zu, "
                                "\"done\": %zu, \"running\": %zu, \"skipped\": %zu, "
                                "\"failed\": %zu, \"unresolved\": %zu}}\n",
                            plan->n_unresolved ? "\n " : "", tot.jobs, tot.pending,
                            tot.done, tot.running, tot.skipped, tot.failed,
                            plan->n_unresolved);
    if (!rc)
        rc = s_flush(&b, f, 0);
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

static int s_write_csv(const struct cwx_plan *plan, FILE *f)
{
    struct cwx_buf b, prefix;
    cwx_buf_init(&b, 0);
    cwx_buf_init(&prefix, 0);
    int rc = cwx_buf_puts(&b, "account,account_id,region,log_group,window,from,to,"
                              "bucket,prefix,task_name,status,reason\r\n");
    for (size_t i = 0; i < plan->n_jobs && !rc; i++) {
        struct s_row r;
        char from[24], to[24];
        s_fill_row(plan, &plan->jobs[i], &prefix, &r);
        snprintf(from, sizeof from, "%" PRId64, r.from_ms);
        snprintf(to, sizeof to, "%" PRId64, r.to_ms);
        const char *fields[] = {r.account, r.account_id, r.region, r.log_group,
                                r.window, from, to, r.bucket, r.prefix,
                                r.task_name, r.status, r.reason};
        size_t n = sizeof fields / sizeof *fields;
        for (size_t k = 0; k < n && !rc; k++)
            rc = s_csv_field(&b, fields[k], k + 1 == n);
        if (!rc)
            rc = s_flush(&b, f, CWX_REPORT_CHUNK);
    }
    if (!rc)
        rc = s_flush(&b, f, 0);
    cwx_buf_free(&b);
    cwx_buf_free(&prefix);
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

static int s_write_table(const struct cwx_plan *plan, const struct cwx_report_options *opts,
                         FILE *f)
{
    /* Column widths from the data: one pass over the groups suffices. */
    int w_acc = 7, w_reg = 6, w_grp = 9, w_win = 6;
    for (size_t i = 0; i < plan->n_groups; i++) {
        const struct cwx_plan_group *g = &plan->groups[i];
        const struct cwx_plan_target *t = &plan->targets[g->target];
        int la = (int)strlen(plan->cfg->accounts[t->account].name);
        int lr = (int)strlen(t->region), lg = (int)strlen(g->name);
        w_acc = la > w_acc ? la : w_acc;
        w_reg = lr > w_reg ? lr : w_reg;
        w_grp = lg > w_grp ? lg : w_grp;
        const struct cwx_plan_wset *ws = &plan->wsets[g->wset];
        for (size_t k = 0; k < ws->n_windows && k < 1; k++) {
            int lw = (int)strlen(ws->windows[k].label);
            w_win = lw > w_win ? lw : w_win;
        }
    }
    struct cwx_buf b, prefix;
    cwx_buf_init(&b, 0);
    cwx_buf_init(&prefix, 0);
    int rc = cwx_buf_printf(&b, "%-*s  %-*s  %-*s  %-*s  %-8s  %s\n", w_acc, "ACCOUNT",
                            w_reg, "REGION", w_grp, "LOG GROUP", w_win, "WINDOW",
                            "STATUS", "REASON");
    for (size_t i = 0; i < plan->n_jobs && !rc; i++) {
        struct s_row r;
        s_fill_row(plan, &plan->jobs[i], &prefix, &r);
        rc = cwx_buf_printf(&b, "%-*s  %-*s  %-*s  %-*s  %s%-8s%s  %s\n", w_acc, r.account,
                            w_reg, r.region, w_grp, r.log_group, w_win, r.window,
                            opts->color ? s_status_color(r.status) : "", r.status,
                            opts->color ? "\033[0m" : "", r.reason ? r.reason : "");
        if (!rc)
            rc = s_flush(&b, f, CWX_REPORT_CHUNK);
    }
    for (size_t i = 0; i < plan->n_unresolved && !rc; i++) {
        const struct cwx_plan_unresolved *u = &plan->unresolved[i];
        const struct cwx_plan_target *t = &plan->targets[u->target];
        const struct cwx_account *acc = &plan->cfg->accounts[t->account];
        const struct cwx_group_sel *gs = &acc->groups[u->sel];
        rc = cwx_buf_printf(&b, "%-*s  %-*s  %s %s: unresolved offline (needs DescribeLogGroups)\n",
                            w_acc, acc->name, w_reg, t->region,
                            gs->kind == CWX_GROUP_PREFIX ? "prefix" : "pattern", gs->value);
    }
    struct cwx_plan_totals tot;
    cwx_plan_totals(plan, &tot);
    if (!rc)
        rc = cwx_buf_printf(&b, "\n%zu jobs: %zu pending, %zu done, %zu running, %zu skipped, "
                                "%zu failed; %zu selectors unresolved\n",
                            tot.jobs, tot.pending, tot.done, tot.running, tot.skipped,
                            tot.failed, plan->n_unresolved);
    if (!rc)
        rc = s_flush(&b, f, 0);
    cwx_buf_free(&b);
    cwx_buf_free(&prefix);
    return rc;
}

int cwx_report_write(const struct cwx_plan *plan, enum cwx_report_format fmt,
                     const struct cwx_report_options *opts, FILE *f)
{
    int rc;
    switch (fmt) {
    case CWX_REPORT_JSON: rc = s_write_json(plan, opts, f); break;
    case CWX_REPORT_CSV: rc = s_write_csv(plan, f); break;
    case CWX_REPORT_TABLE: rc = s_write_table(plan, opts, f); break;
    default: return CWX_EINVAL;
    }
    if (!rc && fflush(f) != 0)
        rc = CWX_EIO;
    return rc;
}
