/* Reconciliation, the marker index: one paginated listing per target, then
 * one GetObject for each legacy marker (see reconcile_internal.h). */
#include "orchestrator/reconcile_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/grow.h"
#include "common/log.h"

/* The window index of label in the group's window set, or -1. */
static int64_t s_window_of(struct cwx_rec *r, const struct cwx_plan_group *g, const char *label,
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

/* The marker of job was listed: the window is done. */
static void s_mark(struct cwx_rec_target *t, uint32_t ji)
{
    struct cwx_job *job = &t->r->plan->jobs[ji];
    t->markers++;
    if (job->status == CWX_JOB_PENDING || job->status == CWX_JOB_RUNNING) {
        job->status = CWX_JOB_DONE;
        job->reason = CWX_REASON_MARKER;
    }
}

static int s_add_legacy(struct cwx_rec_target *t, uint32_t ji, const char *key)
{
    struct cwx_rec_legacy *l =
        cwx_grow(t->legacy, t->n_legacy, &t->cap_legacy, sizeof(*l), 8);
    if (!l)
        return CWX_ENOMEM;
    t->legacy = l;
    char *copy = strdup(key);
    if (!copy)
        return CWX_ENOMEM;
    t->legacy[t->n_legacy++] = (struct cwx_rec_legacy){ji, copy};
    return 0;
}

static int s_on_marker_page(const struct cwx_s3_list_page *page, void *ud)
{
    struct cwx_rec_target *t = ud;
    struct cwx_rec *r = t->r;
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

static void s_on_markers_done(int status, int pages, int truncated,
                              const struct cwx_aws_error *err, void *ud)
{
    (void)pages;
    (void)truncated;
    struct cwx_rec_target *t = ud;
    if (status) {
        if (cwx__rec_retry_later(t, status, err, "s3:ListBucket (marker index)"))
            return;
        cwx__rec_fail_account(t->r, t->target, status, err, "s3:ListBucket (marker index)");
        cwx__rec_target_done(t);
        return;
    }
    t->r->res->markers += t->markers;
    t->tries = 0;
    t->group = 0;
    t->reading_legacy = t->n_legacy > 0;
    if (!t->reading_legacy)
        t->step = CWX_REC_STREAMS;
    cwx__rec_step(t);
}

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
    struct cwx_rec_target *t = ud;
    struct cwx_rec *r = t->r;
    if (status && status != CWX_ENOTFOUND && status != CWX_ETOOBIG) {
        if (cwx__rec_retry_later(t, status, err, CWX_REC_LEGACY_WHAT))
            return;
        cwx__rec_fail_account(r, t->target, status, err, CWX_REC_LEGACY_WHAT);
        cwx__rec_target_done(t);
        return;
    }
    const struct cwx_rec_legacy *l = &t->legacy[t->next_legacy++];
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
    cwx__rec_step(t);
}

/* The next legacy marker, or step 1 after the last. */
int cwx__rec_legacy_next(struct cwx_rec_target *t)
{
    if (t->next_legacy >= t->n_legacy) {
        cwx__rec_legacy_clear(t);
        t->step = CWX_REC_STREAMS;
        t->group = 0;
        return 1;
    }
    return cwx_s3_get_object(cwx_session_client(t->r->s, t->target),
                             t->r->plan->targets[t->target].bucket,
                             t->legacy[t->next_legacy].key, 64 * 1024, s_on_legacy, t);
}

void cwx__rec_legacy_clear(struct cwx_rec_target *t)
{
    for (size_t i = 0; i < t->n_legacy; i++)
        free(t->legacy[i].key);
    free(t->legacy);
    t->legacy = NULL;
    t->n_legacy = t->cap_legacy = t->next_legacy = 0;
    t->reading_legacy = 0;
}

int cwx__rec_markers_prepare(struct cwx_rec *r)
{
    const struct cwx_plan *plan = r->plan;
    r->wset_sorted = calloc(plan->n_wsets + 1, 1);
    if (!r->wset_sorted)
        return CWX_ENOMEM;
    for (size_t w = 0; w < plan->n_wsets; w++) {
        const struct cwx_plan_wset *ws = &plan->wsets[w];
        r->wset_sorted[w] = 1;
        for (size_t i = 1; i < ws->n_windows; i++)
            if (strcmp(ws->windows[i - 1].label, ws->windows[i].label) >= 0)
                r->wset_sorted[w] = 0;
    }
    int rc = 0;
    for (uint32_t g = 0; g < plan->n_groups && !rc; g++) {
        const char *name = plan->groups[g].name;
        if (name[0] == '/')
            rc = cwx__index_put(&r->groups, name + 1, plan->groups[g].target, g);
        else
            rc = cwx__index_put(&r->bare, name, plan->groups[g].target, g);
    }
    return rc;
}

int cwx__rec_markers_list(struct cwx_rec_target *t)
{
    cwx__rec_legacy_clear(t);
    struct cwx_s3_list_req req = {
        .bucket = t->r->plan->targets[t->target].bucket,
        .prefix = t->prefix,
    };
    return cwx_s3_list_objects_v2_all(cwx_session_client(t->r->s, t->target), &req, 0,
                                      s_on_marker_page, s_on_markers_done, t);
}
