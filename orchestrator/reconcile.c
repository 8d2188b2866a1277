/* Reconciliation with AWS state (docs/architecture.md §adoption): each target's marker index
 * in one paginated listing, its active tasks, its recent COMPLETED tasks. */
#include "orchestrator/orchestrator.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"

struct s_rec {
    struct cwx_session *s;
    struct cwx_plan *plan;
    struct cwx_reconcile_result *res;
    cwx_resolve_done_fn *cb;
    void *ud;
    int pending;
    int status;
    int completed_pages;
    struct cwx_index groups;   /* (target, name without leading '/') → group */
    struct cwx_index bare;     /* (target, name that has no leading '/') → group */
    struct cwx_index tasks;    /* task name → job */
    unsigned char *wset_sorted; /* per wset: labels sorted by strcmp */
    size_t cap_tasks, cap_foreign;
};

/* A marker under the key that cwexport used for a log group without a leading
 * '/' before such names got their own key form: the key is the one of
 * "/<name>" as well, so it counts only once its content names this group. */
struct s_legacy {
    uint32_t job;
    char *key;
};

/* One target's sequence: markers → log streams (skip_empty, then
 * coalesce) → active tasks → completed tasks. */
enum {
    S_STEP_MARKERS = 0,
    S_STEP_STREAMS,
    S_STEP_PENDING,
    S_STEP_RUNNING,
    S_STEP_COMPLETED,
    S_STEP_DONE,
};

struct s_target {
    struct s_rec *r;
    uint32_t target;
    int step;             /* S_STEP_* */
    struct s_legacy *legacy; /* read after the listing, one GetObject each */
    size_t n_legacy, cap_legacy, next_legacy;
    int reading_legacy;   /* between the listing and the streams step */
    int tries;            /* transient failures of the step so far */
    uint64_t markers;     /* markers read by the step's listing */
    char prefix[1100];    /* the marker index prefix */
    size_t prefix_len;
    /* S_STEP_STREAMS: the group being read, its pages so far, the next
     * page's token, the event intervals collected and the time before
     * which no stream matters (the start of its earliest pending window). */
    uint32_t group;
    int pages;
    char *token;
    struct cwx_plan_interval *iv;
    size_t n_iv, cap_iv;
    int64_t since_ms;
    uv_timer_t *pace;  /* DescribeLogStreams pacing (skip_empty.api_rate); freed on close */
    uint64_t next_ms;  /* loop time before which no DescribeLogStreams call starts */
};

static void s_fail_account(struct s_rec *r, uint32_t target, int status,
                           const struct cwx_aws_error *err, const char *what)
{
    uint32_t a = r->plan->targets[target].account;
    if (r->res->account_error[a])
        return;
    char e[320] = "";
    if (err)
        cwx_aws_error_format(err, e, sizeof(e));
    char detail[420];
    snprintf(detail, sizeof(detail), "%s: %s", what, e[0] ? e : cwx_strerror(status));
    r->res->account_error[a] = status;
    r->res->account_detail[a] = strdup(detail);
    CWX_LOGE("account %s, region %s: %s", r->plan->cfg->accounts[a].name,
             r->plan->targets[target].region, detail);
}

/* The window index of label in the group's window set, or -1. */
static int64_t s_window_of(struct s_rec *r, const struct cwx_plan_group *g, const char *label,
                           size_t len)
{
    const struct cwx_plan_wset *ws = &r->plan->wsets[g->wset];
    if (r->wset_sorted[g->wset]) {
        size_t lo = 0, hi = ws->n_windows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strncmp(ws->windows[mid].label, label, len);
            if (c == 0 && ws->windows[mid].label[len] != 0)
                c = 1;
            if (c == 0)
                return (int64_t)mid;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    }
    for (size_t i = 0; i < ws->n_windows; i++)
        if (strncmp(ws->windows[i].label, label, len) == 0 && ws->windows[i].label[len] == 0)
            return (int64_t)i;
    return -1;
}

static void s_mark(struct s_target *t, uint32_t ji);
static int s_add_legacy(struct s_target *t, uint32_t ji, const char *key);

static int s_on_marker_page(const struct cwx_s3_list_page *page, void *ud)
{
    struct s_target *t = ud;
    struct s_rec *r = t->r;
    for (size_t i = 0; i < page->n_objects; i++) {
        const char *key = page->objects[i].key;
        if (strncmp(key, t->prefix, t->prefix_len) != 0)
            continue;
        const char *rest = key + t->prefix_len;
        const char *slash = strrchr(rest, '/');
        size_t n = strlen(rest);
        if (!slash || n < 6 || strcmp(rest + n - 5, ".json") != 0)
            continue;
        const char *label = slash + 1;
        size_t label_len = (size_t)(rest + n - 5 - label);
        uint32_t gi;
        int64_t wi;
        if (rest[0] == CWX_BARE_GROUP_MARK) {
            if (cwx__index_get(&r->bare, rest + 1, (size_t)(slash - rest - 1), t->target,
                               &gi) &&
                (wi = s_window_of(r, &r->plan->groups[gi], label, label_len)) >= 0)
                s_mark(t, r->plan->groups[gi].first_job + (uint32_t)wi);
            continue;
        }
        if (cwx__index_get(&r->groups, rest, (size_t)(slash - rest), t->target, &gi) &&
            (wi = s_window_of(r, &r->plan->groups[gi], label, label_len)) >= 0)
            s_mark(t, r->plan->groups[gi].first_job + (uint32_t)wi);
        /* The same key may be a legacy marker of the bare name. */
        if (cwx__index_get(&r->bare, rest, (size_t)(slash - rest), t->target, &gi) &&
            (wi = s_window_of(r, &r->plan->groups[gi], label, label_len)) >= 0 &&
            r->plan->jobs[r->plan->groups[gi].first_job + (uint32_t)wi].status ==
                CWX_JOB_PENDING &&
            s_add_legacy(t, r->plan->groups[gi].first_job + (uint32_t)wi, key)) {
            r->status = CWX_ENOMEM;
            return 1; /* stop the listing */
        }
    }
    return 0;
}

/* The marker of job was listed: the window is done. */
static void s_mark(struct s_target *t, uint32_t ji)
{
    struct cwx_job *job = &t->r->plan->jobs[ji];
    t->markers++;
    if (job->status == CWX_JOB_PENDING || job->status == CWX_JOB_RUNNING) {
        job->status = CWX_JOB_DONE;
        job->reason = CWX_REASON_MARKER;
    }
}

static int s_add_legacy(struct s_target *t, uint32_t ji, const char *key)
{
    if (t->n_legacy == t->cap_legacy) {
        size_t cap = t->cap_legacy ? t->cap_legacy * 2 : 8;
        struct s_legacy *l = realloc(t->legacy, cap * sizeof(*l));
        if (!l)
            return CWX_ENOMEM;
        t->legacy = l;
        t->cap_legacy = cap;
    }
    char *copy = strdup(key);
    if (!copy)
        return CWX_ENOMEM;
    t->legacy[t->n_legacy++] = (struct s_legacy){ji, copy};
    return 0;
}

static int s_add_known(struct s_rec *r, uint32_t job, const struct cwx_logs_export_task *t,
                       int completed)
{
    struct cwx_reconcile_result *res = r->res;
    for (size_t i = 0; i < res->n_tasks; i++) {
        if (res->tasks[i].job != job)
            continue;
        /* An active task wins over a completed one; else the first seen
         * (listings are newest first). */
        if (res->tasks[i].completed && !completed) {
            snprintf(res->tasks[i].task_id, sizeof(res->tasks[i].task_id), "%s", t->task_id);
            res->tasks[i].completed = 0;
            res->tasks[i].creation_ms = t->creation_time_ms;
            res->tasks[i].completion_ms = 0;
        }
        return 0;
    }
    if (res->n_tasks == r->cap_tasks) {
        size_t cap = r->cap_tasks ? r->cap_tasks * 2 : 16;
        struct cwx_known_task *k = realloc(res->tasks, cap * sizeof(*k));
        if (!k)
            return CWX_ENOMEM;
        res->tasks = k;
        r->cap_tasks = cap;
    }
    struct cwx_known_task *k = &res->tasks[res->n_tasks++];
    memset(k, 0, sizeof(*k));
    k->job = job;
    snprintf(k->task_id, sizeof(k->task_id), "%s", t->task_id);
    k->completed = completed;
    k->creation_ms = t->creation_time_ms;
    k->completion_ms = t->completion_time_ms;
    return 0;
}

static int s_add_foreign(struct s_rec *r, uint32_t target, const struct cwx_logs_export_task *t)
{
    struct cwx_reconcile_result *res = r->res;
    for (size_t i = 0; i < res->n_foreign; i++)
        if (strcmp(res->foreign[i].task_id, t->task_id) == 0)
            return 0;
    if (res->n_foreign == r->cap_foreign) {
        size_t cap = r->cap_foreign ? r->cap_foreign * 2 : 8;
        struct cwx_foreign_task *f = realloc(res->foreign, cap * sizeof(*f));
        if (!f)
            return CWX_ENOMEM;
        res->foreign = f;
        r->cap_foreign = cap;
    }
    struct cwx_foreign_task *f = &res->foreign[res->n_foreign++];
    memset(f, 0, sizeof(*f));
    f->target = target;
    snprintf(f->task_id, sizeof(f->task_id), "%s", t->task_id);
    snprintf(f->task_name, sizeof(f->task_name), "%s", t->task_name);
    snprintf(f->log_group, sizeof(f->log_group), "%s", t->log_group_name);
    snprintf(f->status, sizeof(f->status), "%s", cwx_export_status_name(t->status));
    f->creation_ms = t->creation_time_ms;
    return 0;
}

static void s_step(struct s_target *t);
static void s_streams_next(struct s_target *t);

static void s_pace_closed(uv_handle_t *h)
{
    free(h);
}

static void s_pace_fired(uv_timer_t *h)
{
    s_streams_next(h->data);
}
static void s_follow_head(struct cwx_plan *plan, uint32_t head);

static void s_step_again(void *ud)
{
    struct s_target *t = ud;
    if (cwx_session_stopping(t->r->s)) {
        s_fail_account(t->r, t->target, CWX_ECANCELED, NULL, "interrupted");
        t->step = S_STEP_DONE;
        t->reading_legacy = 0;
    }
    s_step(t);
}

/* After the target's step failed: 1 when it failed transiently and is to
 * be made again later, 0 when the account gives up. */
static int s_retry_later(struct s_target *t, int status, const struct cwx_aws_error *err,
                         const char *what)
{
    struct s_rec *r = t->r;
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

static void s_legacy_clear(struct s_target *t)
{
    for (size_t i = 0; i < t->n_legacy; i++)
        free(t->legacy[i].key);
    free(t->legacy);
    t->legacy = NULL;
    t->n_legacy = t->cap_legacy = t->next_legacy = 0;
    t->reading_legacy = 0;
}

static void s_target_done(struct s_target *t)
{
    struct s_rec *r = t->r;
    free(t->token);
    free(t->iv);
    if (t->pace)
        uv_close((uv_handle_t *)t->pace, s_pace_closed);
    s_legacy_clear(t);
    free(t);
    if (--r->pending == 0) {
        r->res->api_calls = cwx_session_api_calls(r->s);
        cwx__index_free(&r->groups);
        cwx__index_free(&r->bare);
        cwx__index_free(&r->tasks);
        free(r->wset_sorted);
        cwx_resolve_done_fn *cb = r->cb;
        void *ud = r->ud;
        int status = r->status;
        free(r);
        cb(status, ud);
    }
}

static void s_on_markers_done(int status, int pages, int truncated,
                              const struct cwx_aws_error *err, void *ud)
{
    (void)pages;
    (void)truncated;
    struct s_target *t = ud;
    if (status) {
        if (s_retry_later(t, status, err, "s3:ListBucket (marker index)"))
            return;
        s_fail_account(t->r, t->target, status, err, "s3:ListBucket (marker index)");
        s_target_done(t);
        return;
    }
    t->r->res->markers += t->markers;
    t->tries = 0;
    t->group = 0;
    t->reading_legacy = t->n_legacy > 0;
    if (!t->reading_legacy)
        t->step = S_STEP_STREAMS;
    s_step(t);
}

#define S_LEGACY_WHAT "s3:GetObject (a marker written before bare log group names had a key of their own)"

/* Does the marker document name exactly this log group? */
static int s_names_group(const struct cwx_span *body, const char *group)
{
    cJSON *o = cJSON_ParseWithLength(body->ptr, body->len);
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(o, "log_group");
    int yes = cJSON_IsString(lg) && strcmp(lg->valuestring, group) == 0;
    cJSON_Delete(o);
    return yes;
}

static void s_on_legacy(int status, const struct cwx_s3_get_object_result *res,
                        const struct cwx_aws_error *err, void *ud)
{
    struct s_target *t = ud;
    struct s_rec *r = t->r;
    if (status && status != CWX_ENOTFOUND && status != CWX_ETOOBIG) {
        if (s_retry_later(t, status, err, S_LEGACY_WHAT))
            return;
        s_fail_account(r, t->target, status, err, S_LEGACY_WHAT);
        s_target_done(t);
        return;
    }
    const struct s_legacy *l = &t->legacy[t->next_legacy++];
    const struct cwx_job *job = &r->plan->jobs[l->job];
    const char *group = cwx_plan_job_group(r->plan, job)->name;
    if (status == 0 && s_names_group(&res->body, group)) {
        s_mark(t, l->job);
        r->res->markers++;
    } else {
        CWX_LOGI("account %s, region %s: %s is not the marker of log group %s (it names "
                 "another group): window %s stays to export",
                 r->plan->cfg->accounts[r->plan->targets[t->target].account].name,
                 r->plan->targets[t->target].region, l->key, group,
                 cwx_plan_job_window(r->plan, job)->label);
    }
    t->tries = 0;
    s_step(t);
}

/* The next legacy marker, or step 1 after the last. */
static int s_legacy_next(struct s_target *t)
{
    if (t->next_legacy >= t->n_legacy) {
        s_legacy_clear(t);
        t->step = S_STEP_STREAMS;
        t->group = 0;
        return 1;
    }
    return cwx_s3_get_object(cwx_session_client(t->r->s, t->target),
                             t->r->plan->targets[t->target].bucket,
                             t->legacy[t->next_legacy].key, 64 * 1024, s_on_legacy, t);
}

static void s_on_tasks(int status, struct cwx_logs_export_tasks *all,
                       const struct cwx_aws_error *err, void *ud)
{
    struct s_target *t = ud;
    struct s_rec *r = t->r;
    if (status) {
        if (s_retry_later(t, status, err, "logs:DescribeExportTasks"))
            return;
        s_fail_account(r, t->target, status, err, "logs:DescribeExportTasks");
        s_target_done(t);
        return;
    }
    t->tries = 0;
    int completed_step = t->step == S_STEP_COMPLETED;
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
    s_step(t);
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

static int s_skip_empty_on(const struct s_rec *r, const struct cwx_plan_group *g)
{
    const struct cwx_account *a = &r->plan->cfg->accounts[r->plan->targets[g->target].account];
    return a->settings.skip_empty == CWX_SKIP_EMPTY_STREAMS;
}

/* Ends the streams of the current group: records what they said (known:
 * every stream that matters was read) and moves to the next group. */
static void s_streams_group_done(struct s_target *t, int known)
{
    struct s_rec *r = t->r;
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
    s_step(t);
}

static void s_on_streams(int status, const struct cwx_logs_log_streams *res,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_target *t = ud;
    struct s_rec *r = t->r;
    const struct cwx_plan_group *g = &r->plan->groups[t->group];
    if (status) {
        if (status != CWX_ENOTFOUND && !cwx_err_access(status) &&
            s_retry_later(t, status, err, "logs:DescribeLogStreams"))
            return;
        char e[320] = "";
        if (err)
            cwx_aws_error_format(err, e, sizeof(e));
        CWX_LOGW("log group %s: logs:DescribeLogStreams failed (%s): its windows are exported "
                 "whether they hold events or not",
                 g->name, e[0] ? e : cwx_strerror(status));
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
        if (t->n_iv == t->cap_iv) {
            size_t cap = t->cap_iv ? t->cap_iv * 2 : 64;
            struct cwx_plan_interval *iv = realloc(t->iv, cap * sizeof(*iv));
            if (!iv) {
                r->status = CWX_ENOMEM;
                s_streams_group_done(t, 0);
                return;
            }
            t->iv = iv;
            t->cap_iv = cap;
        }
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
    s_step(t);
}

/* After every group of the target is read: the ranges (coalesce), and their
 * task names join the index so that their tasks are recognised. */
static void s_streams_finish(struct s_target *t)
{
    struct s_rec *r = t->r;
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
    t->step = S_STEP_PENDING;
    s_step(t);
}

/* Reads the log streams of the target's next group that needs it. A group
 * whose storedBytes is 0 has no events and no page to read. */
static void s_streams_next(struct s_target *t)
{
    struct s_rec *r = t->r;
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

static void s_step(struct s_target *t)
{
    struct s_rec *r = t->r;
    struct cwx_aws_client *c = cwx_session_client(r->s, t->target);
    int rc;
    if (t->reading_legacy) {
        rc = s_legacy_next(t);
        if (rc == 0)
            return;
        if (rc < 0) {
            s_fail_account(r, t->target, rc, NULL, S_LEGACY_WHAT);
            s_target_done(t);
            return;
        }
    }
    switch (t->step) {
    case S_STEP_STREAMS:
        s_streams_next(t);
        return;
    case S_STEP_MARKERS: {
        s_legacy_clear(t);
        struct cwx_s3_list_req req = {
            .bucket = r->plan->targets[t->target].bucket,
            .prefix = t->prefix,
        };
        rc = cwx_s3_list_objects_v2_all(c, &req, 0, s_on_marker_page, s_on_markers_done, t);
        break;
    }
    case S_STEP_PENDING:
        rc = cwx_logs_describe_export_tasks_all(c, CWX_EXPORT_PENDING, 50, 20, s_on_tasks, t);
        break;
    case S_STEP_RUNNING:
        rc = cwx_logs_describe_export_tasks_all(c, CWX_EXPORT_RUNNING, 50, 20, s_on_tasks, t);
        break;
    case S_STEP_COMPLETED:
        if (r->completed_pages <= 0) {
            s_target_done(t);
            return;
        }
        rc = cwx_logs_describe_export_tasks_all(c, CWX_EXPORT_COMPLETED, 50, r->completed_pages,
                                                s_on_tasks, t);
        break;
    default:
        s_target_done(t);
        return;
    }
    if (rc) {
        s_fail_account(r, t->target, rc, NULL, "starting a reconciliation call");
        s_target_done(t);
    }
}

void cwx_reconcile_result_free(struct cwx_reconcile_result *r)
{
    if (!r)
        return;
    free(r->tasks);
    free(r->foreign);
    free(r->account_error);
    for (size_t i = 0; r->account_detail && i < r->n_accounts; i++)
        free(r->account_detail[i]);
    free(r->account_detail);
    memset(r, 0, sizeof(*r));
}

static void s_soon_closed(uv_handle_t *h)
{
    free(h);
}

static void s_soon_fired(uv_timer_t *h)
{
    struct s_target *t = h->data;
    uv_close((uv_handle_t *)h, s_soon_closed);
    s_target_done(t);
}

int cwx_reconcile(struct cwx_session *s, struct cwx_plan *plan, const int *skip_account,
                  int completed_pages, struct cwx_reconcile_result *res,
                  cwx_resolve_done_fn *cb, void *ud)
{
    const struct cwx_config *cfg = plan->cfg;
    memset(res, 0, sizeof(*res));
    res->n_accounts = cfg->n_accounts;
    res->account_error = calloc(cfg->n_accounts + 1, sizeof(int));
    res->account_detail = calloc(cfg->n_accounts + 1, sizeof(char *));
    struct s_rec *r = calloc(1, sizeof(*r));
    struct s_target *guard = calloc(1, sizeof(*guard));
    uv_timer_t *soon = malloc(sizeof(*soon));
    int rc = 0;
    if (!res->account_error || !res->account_detail || !r || !guard || !soon) {
        rc = CWX_ENOMEM;
        goto fail;
    }
    r->s = s;
    r->plan = plan;
    r->res = res;
    r->cb = cb;
    r->ud = ud;
    r->completed_pages = completed_pages;
    r->wset_sorted = calloc(plan->n_wsets + 1, 1);
    if (!r->wset_sorted) {
        rc = CWX_ENOMEM;
        goto fail;
    }
    for (size_t w = 0; w < plan->n_wsets; w++) {
        const struct cwx_plan_wset *ws = &plan->wsets[w];
        r->wset_sorted[w] = 1;
        for (size_t i = 1; i < ws->n_windows; i++)
            if (strcmp(ws->windows[i - 1].label, ws->windows[i].label) >= 0)
                r->wset_sorted[w] = 0;
    }
    for (uint32_t g = 0; g < plan->n_groups && !rc; g++) {
        const char *name = plan->groups[g].name;
        if (name[0] == '/')
            rc = cwx__index_put(&r->groups, name + 1, plan->groups[g].target, g);
        else
            rc = cwx__index_put(&r->bare, name, plan->groups[g].target, g);
    }
    for (uint32_t j = 0; j < plan->n_jobs && !rc; j++)
        if (plan->jobs[j].task_name[0])
            rc = cwx__index_put(&r->tasks, plan->jobs[j].task_name, 0, j);
    if (rc)
        goto fail;

    guard->r = r;
    r->pending = 1; /* dropped from the loop: cb never runs inside this call */
    for (uint32_t ti = 0; ti < plan->n_targets; ti++) {
        const struct cwx_plan_target *tg = &plan->targets[ti];
        if ((skip_account && skip_account[tg->account]) || !tg->account_id || !tg->bucket)
            continue;
        struct s_target *t = calloc(1, sizeof(*t));
        if (!t) {
            r->status = CWX_ENOMEM;
            break;
        }
        t->r = r;
        t->target = ti;
        const char *sp = cfg->accounts[tg->account].settings.destination.state_prefix;
        size_t sl = sp ? strlen(sp) : 0;
        while (sl && sp[sl - 1] == '/')
            sl--;
        snprintf(t->prefix, sizeof(t->prefix), "%.*s%s%s/%s/", (int)sl, sl ? sp : "",
                 sl ? "/" : "", tg->account_id, tg->region);
        t->prefix_len = strlen(t->prefix);
        r->pending++;
        s_step(t);
    }
    uv_timer_init(cwx_aws_loop(cwx_session_aws(s)), soon);
    soon->data = guard;
    uv_timer_start(soon, s_soon_fired, 1, 0);
    return 0;
fail:
    if (r) {
        cwx__index_free(&r->groups);
        cwx__index_free(&r->bare);
        cwx__index_free(&r->tasks);
        free(r->wset_sorted);
    }
    free(r);
    free(guard);
    free(soon);
    cwx_reconcile_result_free(res);
    return rc;
}
