/* The worker object: made from a copy of its spec (strings in one block,
 * defaults filled in), the names of its states and reasons, the patience of
 * its steps and its accessors; its steps are in worker.c. */
#include "workers/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/mem.h"
#include "workers/workers_internal.h"

/* A step whose call failed transiently (each call has already made its own
 * attempts) is redone after the delays of spec.patience (default 1 s
 * doubling to 60 s); after CWX_PATIENCE_TRIES failures in a row (about three
 * minutes of waiting with the defaults) the job gives up as "unavailable":
 * its window stays pending, it has not failed. */
struct cwx_patience cwx_patience_of(const struct cwx_settings *st)
{
    uint64_t pmin = st->poll_min_ms > 0 ? (uint64_t)st->poll_min_ms : 5000;
    uint64_t pmax = st->poll_max_ms > 0 ? (uint64_t)st->poll_max_ms : 60000;
    struct cwx_patience p = {
        .min_ms = pmin < CWX__PATIENCE_MIN_MS ? pmin : CWX__PATIENCE_MIN_MS,
        .max_ms = 4 * pmax < CWX__PATIENCE_MAX_MS ? 4 * pmax : CWX__PATIENCE_MAX_MS,
    };
    if (p.max_ms < p.min_ms)
        p.max_ms = p.min_ms;
    return p;
}

uint64_t cwx_patience_delay(const struct cwx_patience *p, int n)
{
    int shift = n <= 1 ? 0 : n - 1 < 20 ? n - 1 : 20;
    uint64_t d = p->min_ms << shift;
    return d < p->max_ms ? d : p->max_ms;
}

static const char *const s_state_names[] = {
    "init", "check", "ready", "create", "blocked", "wait", "verify",
    "mark", "backoff", "done", "failed", "stopped",
};

const char *cwx_work_state_name(enum cwx_work_state s)
{
    if ((unsigned)s < sizeof(s_state_names) / sizeof(s_state_names[0]))
        return s_state_names[s];
    return "?";
}

int cwx_work_state_is_final(enum cwx_work_state s)
{
    return s == CWX_WORK_DONE || s == CWX_WORK_FAILED || s == CWX_WORK_STOPPED;
}

static const char *const s_reason_names[] = {
    "none", "marker", "objects", "exported", "empty", "attempts",
    "cancelled", "error", "denied", "loop_guard", "unavailable", "interrupted", "split",
};

const char *cwx_work_reason_name(enum cwx_work_reason r)
{
    if ((unsigned)r < sizeof(s_reason_names) / sizeof(s_reason_names[0]))
        return s_reason_names[r];
    return "?";
}

/* ---- construction -------------------------------------------------------- */

static size_t s_len(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *s_copy(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *dst = *cursor;
    memcpy(dst, s, n);
    *cursor += n;
    return dst;
}

int cwx_worker_new(const struct cwx_work_spec *spec, const struct cwx_worker_ops *ops,
                   void *ops_ctx, const struct cwx_worker_hooks *hooks, void *hooks_ud,
                   struct cwx_worker **out)
{
    *out = NULL;
    if (!spec || !ops || !hooks || !hooks->on_final || !spec->bucket || !spec->prefix ||
        !spec->marker_key || !spec->task_name || !spec->log_group)
        return CWX_EINVAL;
    size_t total = s_len(spec->account) + s_len(spec->account_id) + s_len(spec->region) +
                   s_len(spec->log_group) + s_len(spec->log_stream_prefix) +
                   s_len(spec->window) + s_len(spec->bucket) + s_len(spec->prefix) +
                   s_len(spec->marker_key) + s_len(spec->task_name);
    struct cwx_worker *w = calloc(1, sizeof(*w));
    char *strings = malloc(total ? total : 1);
    if (!w || !strings) {
        free(w);
        free(strings);
        return CWX_ENOMEM;
    }
    w->spec = *spec;
    w->strings = strings;
    char *c = strings;
    w->spec.account = s_copy(&c, spec->account);
    w->spec.account_id = s_copy(&c, spec->account_id);
    w->spec.region = s_copy(&c, spec->region);
    w->spec.log_group = s_copy(&c, spec->log_group);
    w->spec.log_stream_prefix = s_copy(&c, spec->log_stream_prefix);
    w->spec.window = s_copy(&c, spec->window);
    w->spec.bucket = s_copy(&c, spec->bucket);
    w->spec.prefix = s_copy(&c, spec->prefix);
    w->spec.marker_key = s_copy(&c, spec->marker_key);
    w->spec.task_name = s_copy(&c, spec->task_name);
    if (spec->n_windows > 1) {
        size_t n = spec->n_windows, len = 0;
        for (size_t i = 0; i < n; i++) {
            if (!spec->windows || !spec->marker_keys || !spec->windows[i] ||
                !spec->marker_keys[i]) {
                cwx_worker_free(w);
                return CWX_EINVAL;
            }
            len += strlen(spec->windows[i]) + strlen(spec->marker_keys[i]) + 2;
        }
        w->range_strings = malloc(2 * n * sizeof(char *) + len);
        if (!w->range_strings) {
            cwx_worker_free(w);
            return CWX_ENOMEM;
        }
        char *cur = (char *)(w->range_strings + 2 * n);
        for (size_t i = 0; i < n; i++) {
            w->range_strings[i] = s_copy(&cur, spec->windows[i]);
            w->range_strings[n + i] = s_copy(&cur, spec->marker_keys[i]);
        }
        w->spec.windows = w->range_strings;
        w->spec.marker_keys = w->range_strings + n;
    } else {
        w->spec.windows = w->spec.marker_keys = NULL;
        w->spec.n_windows = 0;
    }
    if (w->spec.max_attempts < 1)
        w->spec.max_attempts = 1;
    if (!w->spec.backoff_min_ms)
        w->spec.backoff_min_ms = 5000;
    if (w->spec.backoff_max_ms < w->spec.backoff_min_ms)
        w->spec.backoff_max_ms = w->spec.backoff_min_ms * 16;
    if (!w->spec.patience.min_ms)
        w->spec.patience.min_ms = CWX__PATIENCE_MIN_MS;
    if (!w->spec.patience.max_ms)
        w->spec.patience.max_ms = CWX__PATIENCE_MAX_MS;
    if (w->spec.patience.max_ms < w->spec.patience.min_ms)
        w->spec.patience.max_ms = w->spec.patience.min_ms;
    w->ops = ops;
    w->ctx = ops_ctx;
    w->hooks = *hooks;
    w->hooks_ud = hooks_ud;
    w->state = CWX_WORK_INIT;
    *out = w;
    return 0;
}

void cwx_worker_free(struct cwx_worker *w)
{
    if (!w)
        return;
    if (w->timer) {
        w->ops->stop_timer(w->ctx, w);
        w->timer = 0;
    }
    CWX_FREE_ALL(w->strings, w->range_strings, w);
}

/* ---- accessors ----------------------------------------------------------- */

const struct cwx_work_spec *cwx_worker_spec(const struct cwx_worker *w) { return &w->spec; }
enum cwx_work_state cwx_worker_state(const struct cwx_worker *w) { return w->state; }
const char *cwx_worker_task_id(const struct cwx_worker *w) { return w->task_id; }
enum cwx_export_status cwx_worker_task_status(const struct cwx_worker *w) { return w->task_status; }
int64_t cwx_worker_task_creation_ms(const struct cwx_worker *w) { return w->creation_ms; }
int64_t cwx_worker_task_completion_ms(const struct cwx_worker *w) { return w->completion_ms; }
int cwx_worker_polls(const struct cwx_worker *w) { return w->polls; }
int cwx_worker_attempts(const struct cwx_worker *w) { return w->attempts; }
int cwx_worker_retries(const struct cwx_worker *w) { return w->retries; }
int cwx_worker_step_retries(const struct cwx_worker *w) { return w->step_retries; }
uint64_t cwx_worker_objects(const struct cwx_worker *w) { return w->objects; }
uint64_t cwx_worker_bytes(const struct cwx_worker *w) { return w->bytes; }
enum cwx_work_reason cwx_worker_reason(const struct cwx_worker *w) { return w->reason; }
int cwx_worker_error(const struct cwx_worker *w) { return w->error; }
const char *cwx_worker_detail(const struct cwx_worker *w) { return w->detail; }
const char *cwx_worker_permission(const struct cwx_worker *w) { return w->permission; }
void cwx_worker_set_data(struct cwx_worker *w, void *data) { w->data = data; }
void *cwx_worker_data(const struct cwx_worker *w) { return w->data; }
void **cwx_worker_ops_slot(struct cwx_worker *w) { return &w->ops_slot; }
