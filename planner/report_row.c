/* What every plan report format shares: one job's row, the lanes' names
 * and savings, and the buffered writing (report_internal.h). */
#include "planner/report_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

void cwx__report_fill_row(const struct cwx_plan *plan, const struct cwx_estimate *est,
                          const struct cwx_job *job, struct cwx_buf *prefix,
                          struct cwx__report_row *row)
{
    (void)est;
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_plan_target *t = &plan->targets[g->target];
    const struct cwx_window *w = cwx_plan_job_window(plan, job);
    struct cwx_estimate_rate rate;
    cwx_estimate_rate_of(plan, g->target, &rate);
    cwx_buf_reset(prefix);
    int64_t bytes = cwx_estimate_window_bytes(plan, g, w);
    const struct cwx_job *head = cwx_plan_job_head(plan, job);
    static _Thread_local char range[2 * sizeof(w->label) + 4];
    uint32_t last = cwx_plan_job_last(plan, head);
    if (last != head->window)
        snprintf(range, sizeof(range), "%s..%s",
                 plan->wsets[g->wset].windows[head->window].label,
                 plan->wsets[g->wset].windows[last].label);
    *row = (struct cwx__report_row){
        .account = plan->cfg->accounts[t->account].name,
        .account_id = t->account_id,
        .region = t->region,
        .log_group = g->name,
        .window = w->label,
        .from_ms = w->start_ms,
        .to_ms = w->end_ms - 1,
        .bucket = t->bucket,
        .prefix = cwx_plan_job_prefix(plan, head, prefix) == 0 ? prefix->ptr : NULL,
        .task_name = job->task_name[0] ? job->task_name : NULL,
        .status = cwx_job_status_name(job->status),
        .reason = cwx_job_reason_text(job->reason),
        .reason_code = cwx_job_reason_name(job->reason),
        .range = last != head->window ? range : NULL,
        .est_bytes = bytes,
        .est_ms = cwx_estimate_job_ms(&rate, bytes),
    };
}

int cwx__report_rows(const struct cwx_plan *plan, const struct cwx_estimate *est,
                     struct cwx_buf *b, FILE *f, cwx__report_row_fn *row, void *ud)
{
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, 0);
    int rc = 0;
    for (size_t i = 0; i < plan->n_jobs && !rc; i++) {
        struct cwx__report_row r;
        struct cwx_job tmp;
        const struct cwx_job *job = cwx_plan_job(plan, i, &tmp, 1);
        cwx__report_fill_row(plan, est, job, &prefix, &r);
        rc = row(b, &r, job, i, ud);
        if (!rc)
            rc = cwx__report_flush(b, f, CWX__REPORT_CHUNK);
    }
    cwx_buf_free(&prefix);
    return rc;
}

int cwx__report_cells(struct cwx_buf *b, const char *open, const char *const *cells, size_t n,
                      cwx__report_cell_fn *cell, const char *close)
{
    int rc = cwx_buf_puts(b, open);
    for (size_t k = 0; k < n && !rc; k++)
        rc = cell(b, cells[k]);
    return rc ? rc : cwx_buf_puts(b, close);
}

int cwx__report_flush(struct cwx_buf *b, FILE *f, size_t at_least)
{
    if (b->len < at_least)
        return 0;
    if (b->len && fwrite(b->ptr, 1, b->len, f) != b->len)
        return CWX_EIO;
    cwx_buf_reset(b);
    return 0;
}

int cwx__report_put_escaped(struct cwx_buf *b, const char *s, const char *chars,
                            const char *const *as)
{
    int rc = 0;
    for (const char *p = s ? s : ""; *p && !rc; p++) {
        const char *hit = strchr(chars, *p);
        rc = hit ? cwx_buf_puts(b, as[hit - chars]) : cwx_buf_putc(b, *p);
    }
    return rc;
}

int cwx__report_put_i64(struct cwx_buf *b, int64_t v)
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

void cwx__report_iso(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cwx__report_put_seconds(struct cwx_buf *b, int64_t ms)
{
    int rc = cwx__report_put_i64(b, ms / 1000);
    if (!rc && ms % 1000)
        rc = cwx_buf_printf(b, ".%03d", (int)(ms % 1000));
    return rc;
}

void cwx__report_lane_name(const struct cwx_plan *plan, const struct cwx_estimate_lane *l,
                           char *out, size_t size)
{
    const char *acc = plan->cfg->accounts[l->account].name;
    if (l->region)
        snprintf(out, size, "%s/%s", acc, l->region);
    else
        snprintf(out, size, "%s", acc);
}

const char *cwx__report_lane_account_id(const struct cwx_plan *plan,
                                        const struct cwx_estimate *est, size_t i)
{
    const char *account_id = NULL;
    for (size_t t = 0; t < plan->n_targets; t++)
        if (est->target_lane[t] == i && plan->targets[t].account_id)
            account_id = plan->targets[t].account_id;
    return account_id;
}

struct cwx_plan_savings *cwx__report_savings(const struct cwx_plan *plan,
                                             const struct cwx_estimate *est)
{
    struct cwx_plan_savings *sv = calloc(est->n_lanes + 1, sizeof(*sv));
    if (sv)
        cwx_plan_savings(plan, est, sv);
    return sv;
}

void cwx__report_head_fill(const struct cwx_plan *plan, const struct cwx_estimate *est,
                           struct cwx__report_head *head)
{
    cwx_plan_totals(plan, &head->tot);
    cwx__report_iso(plan->now_ms, head->now);
    cwx_estimate_format_bytes(cwx_estimate_bytes_shown(est->bytes, est->bytes_unknown),
                              head->bytes, sizeof head->bytes);
    cwx_estimate_format_ms(est->wall_ms, head->wall, sizeof head->wall);
    cwx_estimate_format_ms(est->serial_ms, head->serial, sizeof head->serial);
}

void cwx__report_unresolved(const struct cwx_plan *plan, size_t i, struct cwx__report_sel *sel)
{
    const struct cwx_plan_unresolved *u = &plan->unresolved[i];
    const struct cwx_plan_target *t = &plan->targets[u->target];
    const struct cwx_account *acc = &plan->cfg->accounts[t->account];
    const struct cwx_group_sel *gs = &acc->groups[u->sel];
    *sel = (struct cwx__report_sel){
        .account = acc->name,
        .region = t->region,
        .kind = gs->kind == CWX_GROUP_PREFIX ? "prefix" : "pattern",
        .value = gs->value,
    };
}

int cwx__report_unresolved_rows(const struct cwx_plan *plan, struct cwx_buf *b,
                                const char *open, cwx__report_cell_fn *cell, const char *close)
{
    int rc = 0;
    for (size_t i = 0; i < plan->n_unresolved && !rc; i++) {
        struct cwx__report_sel sel;
        cwx__report_unresolved(plan, i, &sel);
        const char *const cells[] = {sel.account, sel.region, sel.kind, sel.value};
        rc = cwx__report_cells(b, open, cells, 4, cell, close);
    }
    return rc;
}
