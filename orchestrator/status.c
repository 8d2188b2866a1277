/* `cwexport status` and `cwexport cancel`: the active export tasks of every
 * target, ours (by task name) or foreign; cancelling ours. */
#include "orchestrator/orchestrator.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"
#include "planner/planner.h"

struct s_st {
    uv_loop_t loop;
    const struct cwx_config *cfg;
    struct cwx_plan *plan;
    struct cwx_session *session;
    FILE *out;
    int json;
    int cancel;
    int dry_run;
    int pending;
    int error;        /* worst error */
    char detail[400];
    cJSON *rows;
    int ours, foreign, cancelled, cancel_failed;
    int all;               /* cancel: every cwexport-shaped task (--all-cwexport) */
    int others;            /* cancel: cwexport tasks of other configs, left alone */
    struct cwx_index jobs; /* cancel: task names of this config's jobs */
    struct cwx_resolve_result resolved;
};

struct s_one {
    struct s_st *st;
    uint32_t target;
    int step; /* 0 PENDING, 1 RUNNING */
    char task_id[64];
};

static const char *s_lane_name(struct s_st *st, uint32_t t, char *buf, size_t size)
{
    const struct cwx_plan_target *tg = &st->plan->targets[t];
    const struct cwx_account *acc = &st->cfg->accounts[tg->account];
    if (acc->settings.token_scope == CWX_SCOPE_REGION)
        snprintf(buf, size, "%s/%s", acc->name, tg->region);
    else
        snprintf(buf, size, "%s", acc->name);
    return buf;
}

static void s_error(struct s_st *st, int status, const struct cwx_aws_error *err, const char *what)
{
    char e[320];
    const char *why = cwx__why(status, err, e, sizeof(e));
    CWX_LOGE("%s: %s", what, why);
    if (!st->error || cwx_err_access(status)) {
        st->error = status;
        snprintf(st->detail, sizeof(st->detail), "%s: %s", what, why);
    }
}

static void s_on_cancelled(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_one *one = ud;
    struct s_st *st = one->st;
    if (status) {
        char what[128];
        snprintf(what, sizeof(what), "CancelExportTask %s", one->task_id);
        s_error(st, status, err, what);
        st->cancel_failed++;
    } else {
        char id[300];
        st->cancelled++;
        if (!st->json)
            fprintf(st->out, "cancelled %s\n", cwx_escape_ctl(one->task_id, id, sizeof(id)));
    }
    free(one);
    st->pending--;
}

static void s_list(struct s_st *st, uint32_t t, int step);

/* One task of the listing: a row of the JSON answer and, unless --json, a
 * line of the table. */
static void s_row(struct s_st *st, const char *lane, const char *region,
                  const struct cwx_logs_export_task *t, int ours, long long age)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "lane", lane);
    cJSON_AddStringToObject(row, "region", region);
    cJSON_AddStringToObject(row, "task_id", t->task_id);
    cJSON_AddStringToObject(row, "task_name", t->task_name);
    cJSON_AddStringToObject(row, "log_group", t->log_group_name);
    cJSON_AddStringToObject(row, "status", cwx_export_status_name(t->status));
    cJSON_AddBoolToObject(row, "ours", ours);
    cJSON_AddNumberToObject(row, "from", (double)t->from_ms);
    cJSON_AddNumberToObject(row, "to", (double)t->to_ms);
    cJSON_AddNumberToObject(row, "age_s", (double)age);
    cJSON_AddItemToArray(st->rows, row);
    if (st->json)
        return;
    /* Names come from AWS: control characters escaped. */
    char id[300], name[600], group[2100];
    fprintf(st->out, "%-20s %-14s %-8s %-8s %-36s %-26s %6llds %s\n", lane, region,
            cwx_export_status_name(t->status), ours ? "ours" : "foreign",
            cwx_escape_ctl(t->task_id, id, sizeof(id)),
            t->task_name[0] ? cwx_escape_ctl(t->task_name, name, sizeof(name)) : "-", age,
            cwx_escape_ctl(t->log_group_name, group, sizeof(group)));
}

/* cancel: cancels task t of target (one of ours and active), unless it is
 * not this config's (without --all-cwexport) or this is a dry run. */
static void s_cancel_task(struct s_st *st, uint32_t target,
                          const struct cwx_logs_export_task *t)
{
    uint32_t job;
    char idbuf[300];
    if (!st->all && !cwx__index_get(&st->jobs, t->task_name, strlen(t->task_name), 0, &job)) {
        /* Named like ours, but no job of this config has that name:
         * another config's (or another cwexport's) task. */
        st->others++;
        if (!st->json)
            fprintf(st->out, "not this config's task, left alone: %s\n",
                    cwx_escape_ctl(t->task_id, idbuf, sizeof(idbuf)));
        return;
    }
    if (st->dry_run) {
        if (!st->json)
            fprintf(st->out, "would cancel %s\n",
                    cwx_escape_ctl(t->task_id, idbuf, sizeof(idbuf)));
        return;
    }
    struct s_one *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->st = st;
    c->target = target;
    snprintf(c->task_id, sizeof(c->task_id), "%s", t->task_id);
    st->pending++;
    int rc = cwx_logs_cancel_export_task(cwx_session_client(st->session, target), t->task_id,
                                         s_on_cancelled, c);
    if (rc) {
        st->pending--;
        free(c);
        s_error(st, rc, NULL, "CancelExportTask");
    }
}

static void s_on_tasks(int status, struct cwx_logs_export_tasks *all,
                       const struct cwx_aws_error *err, void *ud)
{
    struct s_one *one = ud;
    struct s_st *st = one->st;
    char lane[200];
    s_lane_name(st, one->target, lane, sizeof(lane));
    const struct cwx_plan_target *tg = &st->plan->targets[one->target];
    if (status) {
        char what[300];
        snprintf(what, sizeof(what), "%s (%s): logs:DescribeExportTasks", lane, tg->region);
        s_error(st, status, err, what);
    } else {
        int64_t now = cwx__now_ms();
        for (size_t i = 0; i < all->n; i++) {
            const struct cwx_logs_export_task *t = &all->tasks[i];
            int ours = cwx_task_name_is_ours(t->task_name);
            ours ? st->ours++ : st->foreign++;
            long long age = t->creation_time_ms ? (now - t->creation_time_ms) / 1000 : -1;
            s_row(st, lane, tg->region, t, ours, age);
            if (st->cancel && ours && cwx_export_status_is_active(t->status))
                s_cancel_task(st, one->target, t);
        }
        cwx_logs_export_tasks_free(all);
        if (one->step == 0)
            s_list(st, one->target, 1);
    }
    free(one);
    st->pending--;
}

static void s_list(struct s_st *st, uint32_t t, int step)
{
    struct s_one *one = calloc(1, sizeof(*one));
    if (!one)
        return;
    one->st = st;
    one->target = t;
    one->step = step;
    st->pending++;
    int rc = cwx_logs_describe_export_tasks_all(cwx_session_client(st->session, t),
                                                step == 0 ? CWX_EXPORT_PENDING : CWX_EXPORT_RUNNING,
                                                50, 20, s_on_tasks, one);
    if (rc) {
        st->pending--;
        free(one);
        s_error(st, rc, NULL, "DescribeExportTasks");
    }
}

static void s_on_resolved(int status, void *ud)
{
    struct s_st *st = ud;
    st->pending--;
    if (status) {
        s_error(st, status, NULL, "resolving the log groups");
        return;
    }
    for (uint32_t j = 0; j < st->plan->n_jobs; j++)
        if (st->plan->jobs[j].task_name[0] &&
            cwx__index_put(&st->jobs, st->plan->jobs[j].task_name, 0, j)) {
            s_error(st, CWX_ENOMEM, NULL, "indexing the jobs");
            return;
        }
    for (uint32_t t = 0; t < st->plan->n_targets; t++) {
        uint32_t a = st->plan->targets[t].account;
        if (st->resolved.account_error && st->resolved.account_error[a]) {
            if (!st->error || cwx_err_access(st->resolved.account_error[a])) {
                st->error = st->resolved.account_error[a];
                snprintf(st->detail, sizeof(st->detail), "account %s: %s",
                         st->cfg->accounts[a].name,
                         st->resolved.account_detail[a] ? st->resolved.account_detail[a] : "");
            }
            continue;
        }
        s_list(st, t, 0);
    }
}

static int s_main(const struct cwx_config *cfg, FILE *out, int json, int cancel, int dry_run,
                  int all)
{
    struct s_st st = {.cfg = cfg, .out = out, .json = json, .cancel = cancel, .dry_run = dry_run,
                      .all = all};
    int code = CWX_EXIT_OK;
    char why[512] = "";
    if (uv_loop_init(&st.loop))
        return CWX_EXIT_FAILED;
    int rc = cwx_plan_new(cfg, cwx__now_ms(), &st.plan, why, sizeof(why));
    if (rc) {
        CWX_LOGE("%s", why[0] ? why : cwx_strerror(rc));
        uv_loop_close(&st.loop);
        return CWX_EXIT_USAGE;
    }
    rc = cwx_session_new(&st.loop, cfg, st.plan, &st.session, why, sizeof(why));
    if (rc) {
        CWX_LOGE("%s", why[0] ? why : cwx_strerror(rc));
        cwx_plan_free(st.plan);
        uv_loop_close(&st.loop);
        return cwx_err_access(rc) ? CWX_EXIT_CREDENTIALS : CWX_EXIT_FAILED;
    }
    st.rows = cJSON_CreateArray();
    if (!json)
        fprintf(out, "%-20s %-14s %-8s %-8s %-36s %-26s %7s %s\n", "LANE", "REGION", "STATUS",
                "OWNER", "TASK ID", "TASK NAME", "AGE", "LOG GROUP");
    if (cancel && !st.all) {
        /* The names of this config's jobs: resolve the log groups and
         * expand the plan first. */
        st.pending++;
        rc = cwx_resolve(st.session, st.plan, &st.resolved, s_on_resolved, &st);
        if (rc) {
            st.pending--;
            s_error(&st, rc, NULL, "resolving the log groups");
        }
    } else {
        for (uint32_t t = 0; t < st.plan->n_targets; t++)
            s_list(&st, t, 0);
    }
    uv_run(&st.loop, UV_RUN_DEFAULT);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "tasks", st.rows);
        st.rows = NULL;
        cJSON_AddNumberToObject(root, "ours", st.ours);
        cJSON_AddNumberToObject(root, "foreign", st.foreign);
        if (cancel) {
            cJSON_AddNumberToObject(root, "cancelled", st.cancelled);
            cJSON_AddNumberToObject(root, "other_configs", st.others);
        }
        if (st.error)
            cJSON_AddStringToObject(root, "error", st.detail);
        char *text = cJSON_Print(root);
        if (text)
            fprintf(out, "%s\n", text);
        cJSON_free(text);
        cJSON_Delete(root);
    } else {
        fprintf(out, "%d active task%s: %d ours, %d foreign%s\n", st.ours + st.foreign,
                st.ours + st.foreign == 1 ? "" : "s", st.ours, st.foreign,
                cancel ? (dry_run ? " (dry run: nothing cancelled)" : "") : "");
        if (cancel && !dry_run)
            fprintf(out, "%d cancelled\n", st.cancelled);
    }
    cJSON_Delete(st.rows);
    cwx__index_free(&st.jobs);
    cwx_resolve_result_free(&st.resolved);
    cwx_session_free(st.session);
    uv_run(&st.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&st.loop))
        CWX_LOGW("the event loop did not close cleanly");
    cwx_plan_free(st.plan);
    if (st.error)
        code = cwx_err_access(st.error) ? CWX_EXIT_CREDENTIALS
                                                                : CWX_EXIT_FAILED;
    else if (st.cancel_failed)
        code = CWX_EXIT_FAILED;
    return code;
}

int cwx_status(const struct cwx_config *cfg, FILE *out, bool json)
{
    return s_main(cfg, out, json, 0, 0, 0);
}

int cwx_cancel(const struct cwx_config *cfg, FILE *out, bool json, bool dry_run, bool all)
{
    return s_main(cfg, out, json, 1, dry_run, all);
}
