/* The worker's operations on AWS: S3 for markers and listings, CloudWatch
 * Logs for export tasks, uv timers for waits. */
#include "workers/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws.h"
#include "common/clock.h"
#include "common/error.h"
#include "workers/workers_internal.h"

struct cwx_worker_aws {
    uv_loop_t *loop;
    cwx_worker_client_fn *client_of;
    cwx_worker_poll_fn *poll_delay;
    void *ud;
};

int cwx_worker_aws_new(uv_loop_t *loop, cwx_worker_client_fn *client_of,
                       cwx_worker_poll_fn *poll_delay, void *ud,
                       struct cwx_worker_aws **out)
{
    struct cwx_worker_aws *wa = malloc(sizeof(*wa));
    if (!wa)
        return CWX_ENOMEM;
    *wa = (struct cwx_worker_aws){.loop = loop, .client_of = client_of,
                                  .poll_delay = poll_delay, .ud = ud};
    *out = wa;
    return 0;
}

void cwx_worker_aws_free(struct cwx_worker_aws *wa)
{
    free(wa);
}

/* One operation in flight. */
struct s_op {
    struct cwx_worker_aws *wa;
    struct cwx_worker *w;
    cwx_work_op_fn *cb;
    void *ud;
    struct cwx_work_result res;
};

static struct s_op *s_op_new(struct cwx_worker_aws *wa, struct cwx_worker *w,
                             cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = malloc(sizeof(*op));
    if (op)
        *op = (struct s_op){.wa = wa, .w = w, .cb = cb, .ud = ud};
    return op;
}

/* Frees op and calls its callback (after the free: the callback may free
 * the worker and everything else). */
static void s_op_done(struct s_op *op, int status, const struct cwx_aws_error *err)
{
    struct cwx_work_result res = op->res;
    cwx_work_op_fn *cb = op->cb;
    void *ud = op->ud;
    if (status && err)
        cwx_aws_error_format(err, res.detail, sizeof(res.detail));
    free(op);
    cb(status, &res, ud);
}

/* After starting op's call: op is freed when it did not start (its
 * callback never runs). Returns rc. */
static int s_started(struct s_op *op, int rc)
{
    if (rc)
        free(op);
    return rc;
}

/* The result names task t. */
static void s_result_task(struct cwx_work_result *res, const struct cwx_logs_export_task *t)
{
    snprintf(res->task_id, sizeof(res->task_id), "%s", t->task_id);
    res->task_status = t->status;
    res->creation_ms = t->creation_time_ms;
    res->completion_ms = t->completion_time_ms;
}

static struct cwx_aws_client *s_client(struct cwx_worker_aws *wa, struct cwx_worker *w)
{
    return wa->client_of(w, wa->ud);
}

/* ---- marker_exists ------------------------------------------------------- */

static void s_on_head(int status, const struct cwx_s3_head_object_result *res,
                      const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    struct s_op *op = ud;
    if (status == 0)
        op->res.exists = 1;
    else if (status == CWX_ENOTFOUND)
        status = 0;
    s_op_done(op, status, err);
}

static int s_marker_exists(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = s_op_new(ctx, w, cb, ud);
    if (!op)
        return CWX_ENOMEM;
    const struct cwx_work_spec *spec = cwx_worker_spec(w);
    int rc = cwx_s3_head_object(s_client(ctx, w), spec->bucket, spec->marker_key, s_on_head, op);
    return s_started(op, rc);
}

/* ---- listings: data_exists and list_export ------------------------------- */

static int s_on_page(const struct cwx_s3_list_page *page, void *ud)
{
    struct s_op *op = ud;
    for (size_t i = 0; i < page->n_objects; i++) {
        const struct cwx_s3_object *o = &page->objects[i];
        if (cwx__is_write_test(o->key)) {
            op->res.write_test = 1;
            continue;
        }
        op->res.objects++;
        op->res.bytes += o->size > 0 ? (uint64_t)o->size : 0;
    }
    if (op->res.exists == -1 && op->res.objects) /* data_exists: enough */
        return 1;
    return 0;
}

static void s_on_list_done(int status, int pages, int truncated,
                           const struct cwx_aws_error *err, void *ud)
{
    (void)pages;
    (void)truncated;
    struct s_op *op = ud;
    if (op->res.exists == -1)
        op->res.exists = op->res.objects > 0;
    s_op_done(op, status, err);
}

static int s_list(struct cwx_worker_aws *wa, struct cwx_worker *w, const char *prefix,
                  int probe, cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = s_op_new(wa, w, cb, ud);
    if (!op)
        return CWX_ENOMEM;
    if (probe)
        op->res.exists = -1;
    struct cwx_s3_list_req req = {
        .bucket = cwx_worker_spec(w)->bucket,
        .prefix = prefix,
    };
    int rc = cwx_s3_list_objects_v2_all(s_client(wa, w), &req, 0, s_on_page, s_on_list_done, op);
    return s_started(op, rc);
}

static int s_data_exists(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, 0);
    int rc = cwx_buf_printf(&prefix, "%s/", cwx_worker_spec(w)->prefix);
    if (rc == 0)
        rc = s_list(ctx, w, prefix.ptr, 1, cb, ud);
    cwx_buf_free(&prefix);
    return rc;
}

static int s_list_export(void *ctx, struct cwx_worker *w, const char *task_id,
                         cwx_work_op_fn *cb, void *ud)
{
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, 0);
    int rc = cwx_buf_printf(&prefix, "%s/%s/", cwx_worker_spec(w)->prefix, task_id);
    if (rc == 0)
        rc = s_list(ctx, w, prefix.ptr, 0, cb, ud);
    cwx_buf_free(&prefix);
    return rc;
}

/* ---- export tasks -------------------------------------------------------- */

static void s_on_created(int status, const struct cwx_logs_create_export_task_result *res,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_op *op = ud;
    if (status == 0 && res && res->task_id)
        snprintf(op->res.task_id, sizeof(op->res.task_id), "%s", res->task_id);
    else if (status == 0)
        status = CWX_EPARSE;
    /* CloudWatch Logs checks the bucket policy at creation and says so in an
     * InvalidParameterException: that is a permission problem. */
    if (status == CWX_EAWS && err && strstr(err->code, "InvalidParameter") &&
        (strstr(err->message, "ermission") || strstr(err->message, "GetBucketAcl")))
        status = CWX_EDENIED;
    s_op_done(op, status, err);
}

static int s_create_task(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = s_op_new(ctx, w, cb, ud);
    if (!op)
        return CWX_ENOMEM;
    const struct cwx_work_spec *spec = cwx_worker_spec(w);
    struct cwx_logs_create_export_task_req req = {
        .task_name = spec->task_name,
        .log_group_name = spec->log_group,
        .log_stream_name_prefix =
            spec->log_stream_prefix && spec->log_stream_prefix[0] ? spec->log_stream_prefix : NULL,
        .from_ms = spec->from_ms,
        .to_ms = spec->to_ms,
        .destination = spec->bucket,
        .destination_prefix = spec->prefix,
    };
    return s_started(op, cwx_logs_create_export_task(s_client(ctx, w), &req, s_on_created, op));
}

static void s_on_described(int status, const struct cwx_logs_export_tasks *res,
                           const struct cwx_aws_error *err, void *ud)
{
    struct s_op *op = ud;
    if (status == 0) {
        if (!res || res->n == 0) {
            status = CWX_ENOTFOUND;
        } else {
            const struct cwx_logs_export_task *t = &res->tasks[0];
            s_result_task(&op->res, t);
            snprintf(op->res.task_message, sizeof(op->res.task_message), "%s",
                     t->status_message);
        }
    }
    s_op_done(op, status, err);
}

/* Starts an operation of w (cb and ud as for every operation) that asks
 * DescribeExportTasks for req; on answers it. Returns as s_started. */
static int s_describe(struct cwx_worker_aws *wa, struct cwx_worker *w,
                      const struct cwx_logs_describe_export_tasks_req *req,
                      cwx_logs_describe_export_tasks_fn *on, cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = s_op_new(wa, w, cb, ud);
    if (!op)
        return CWX_ENOMEM;
    return s_started(op, cwx_logs_describe_export_tasks(s_client(wa, w), req, on, op));
}

static int s_describe_task(void *ctx, struct cwx_worker *w, const char *task_id,
                           cwx_work_op_fn *cb, void *ud)
{
    struct cwx_logs_describe_export_tasks_req req = {.task_id = task_id};
    return s_describe(ctx, w, &req, s_on_described, cb, ud);
}

static void s_on_completed(int status, const struct cwx_logs_export_tasks *res,
                           const struct cwx_aws_error *err, void *ud)
{
    struct s_op *op = ud;
    if (status == 0 && res) {
        const char *name = cwx_worker_spec(op->w)->task_name;
        for (size_t i = 0; i < res->n; i++) {
            const struct cwx_logs_export_task *t = &res->tasks[i];
            if (t->status != CWX_EXPORT_COMPLETED || strcmp(t->task_name, name) != 0)
                continue;
            op->res.exists = 1;
            s_result_task(&op->res, t);
            break;
        }
    }
    s_op_done(op, status, err);
}

/* One page (the 50 newest) is enough: a task that another process is about
 * to mark completed moments ago. */
static int s_completed_task(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    struct cwx_logs_describe_export_tasks_req req = {.status = CWX_EXPORT_COMPLETED, .limit = 50};
    return s_describe(ctx, w, &req, s_on_completed, cb, ud);
}

/* active_task: DescribeExportTasks by status, PENDING then RUNNING. A task
 * only moves forward (PENDING, RUNNING, then an end), so asking PENDING
 * first never misses one that changes state between the two calls. */
static int s_active_page(struct s_op *op, enum cwx_export_status status);

static void s_on_active(int status, const struct cwx_logs_export_tasks *res,
                        const struct cwx_aws_error *err, void *ud)
{
    struct s_op *op = ud;
    enum cwx_export_status asked = op->res.task_status;
    if (status == 0 && res) {
        const char *name = cwx_worker_spec(op->w)->task_name;
        for (size_t i = 0; i < res->n && !op->res.exists; i++) {
            const struct cwx_logs_export_task *t = &res->tasks[i];
            if (!cwx_export_status_is_active(t->status) || strcmp(t->task_name, name) != 0)
                continue;
            op->res.exists = 1;
            s_result_task(&op->res, t);
        }
    }
    if (status == 0 && !op->res.exists && asked == CWX_EXPORT_PENDING) {
        status = s_active_page(op, CWX_EXPORT_RUNNING);
        if (status == 0)
            return;
        err = NULL;
    }
    if (!op->res.exists)
        op->res.task_status = CWX_EXPORT_UNKNOWN;
    s_op_done(op, status, err);
}

static int s_active_page(struct s_op *op, enum cwx_export_status status)
{
    op->res.task_status = status; /* which page is asked, until one is found */
    struct cwx_logs_describe_export_tasks_req req = {.status = status, .limit = 50};
    return cwx_logs_describe_export_tasks(s_client(op->wa, op->w), &req, s_on_active, op);
}

static int s_active_task(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = s_op_new(ctx, w, cb, ud);
    if (!op)
        return CWX_ENOMEM;
    return s_started(op, s_active_page(op, CWX_EXPORT_PENDING));
}

/* ---- marker -------------------------------------------------------------- */

static void s_on_put(int status, const struct cwx_s3_put_object_result *res,
                     const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    s_op_done(ud, status, err);
}

static int s_put_marker(void *ctx, struct cwx_worker *w, const char *body, size_t len,
                        cwx_work_op_fn *cb, void *ud)
{
    struct s_op *op = s_op_new(ctx, w, cb, ud);
    if (!op)
        return CWX_ENOMEM;
    const struct cwx_work_spec *spec = cwx_worker_spec(w);
    struct cwx_s3_put_object_req req = {
        .bucket = spec->bucket,
        .key = spec->marker_key,
        .body = body,
        .body_len = len,
        .content_type = "application/json",
    };
    return s_started(op, cwx_s3_put_object(s_client(ctx, w), &req, s_on_put, op));
}

/* ---- timers -------------------------------------------------------------- */

struct s_timer {
    uv_timer_t handle;
    struct cwx_worker *w;
    cwx_work_op_fn *cb;
    void *ud;
};

static void s_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void s_timer_fired(uv_timer_t *h)
{
    struct s_timer *t = h->data;
    cwx_work_op_fn *cb = t->cb;
    void *ud = t->ud;
    *cwx_worker_ops_slot(t->w) = NULL;
    uv_close((uv_handle_t *)&t->handle, s_timer_closed);
    struct cwx_work_result res;
    memset(&res, 0, sizeof(res));
    cb(0, &res, ud);
}

static int s_start_timer(void *ctx, struct cwx_worker *w, uint64_t delay_ms,
                         cwx_work_op_fn *cb, void *ud)
{
    struct cwx_worker_aws *wa = ctx;
    void **slot = cwx_worker_ops_slot(w);
    if (*slot)
        return CWX_ESTATE;
    struct s_timer *t = malloc(sizeof(*t));
    if (!t)
        return CWX_ENOMEM;
    *t = (struct s_timer){.w = w, .cb = cb, .ud = ud};
    uv_timer_init(wa->loop, &t->handle);
    t->handle.data = t;
    /* libuv 1.44 busy-loops on 0 ms timers (docs/contributing.md §libuv-timers): at least 1 ms. */
    uv_timer_start(&t->handle, s_timer_fired, delay_ms ? delay_ms : 1, 0);
    *slot = t;
    return 0;
}

static void s_stop_timer(void *ctx, struct cwx_worker *w)
{
    (void)ctx;
    void **slot = cwx_worker_ops_slot(w);
    struct s_timer *t = *slot;
    if (!t)
        return;
    *slot = NULL;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, s_timer_closed);
}

static int64_t s_now_ms(void *ctx)
{
    (void)ctx;
    return cwx_wall_ms();
}

static uint64_t s_poll_delay(void *ctx, struct cwx_worker *w)
{
    struct cwx_worker_aws *wa = ctx;
    return wa->poll_delay(w, wa->ud);
}

static const struct cwx_worker_ops s_ops = {
    .marker_exists = s_marker_exists,
    .data_exists = s_data_exists,
    .completed_task = s_completed_task,
    .active_task = s_active_task,
    .create_task = s_create_task,
    .describe_task = s_describe_task,
    .list_export = s_list_export,
    .put_marker = s_put_marker,
    .start_timer = s_start_timer,
    .stop_timer = s_stop_timer,
    .now_ms = s_now_ms,
    .poll_delay_ms = s_poll_delay,
};

const struct cwx_worker_ops *cwx_worker_aws_ops(void)
{
    return &s_ops;
}
