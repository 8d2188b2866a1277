/* The lanes' operations on AWS: the session's clients of each target, the
 * lane's uv timer and its deferred step (a uv_idle_t: the step runs in the
 * loop's next iteration, without a 0 ms timer). */
#include "orchestrator/lane_internal.h"

static int s_list_tasks(void *ctx, uint32_t target, enum cwx_export_status st,
                        cwx_logs_export_tasks_all_fn *cb, void *ud)
{
    struct cwx_run *run = ctx;
    return cwx_logs_describe_export_tasks_all(cwx_session_client(run->session, target), st, 50,
                                              20, cb, ud);
}

static int s_describe_task(void *ctx, uint32_t target, const char *task_id,
                           cwx_logs_describe_export_tasks_fn *cb, void *ud)
{
    struct cwx_run *run = ctx;
    struct cwx_logs_describe_export_tasks_req req = {.task_id = task_id};
    return cwx_logs_describe_export_tasks(cwx_session_client(run->session, target), &req, cb,
                                          ud);
}

static int s_cancel_task(void *ctx, uint32_t target, const char *task_id,
                         cwx_logs_cancel_export_task_fn *cb, void *ud)
{
    struct cwx_run *run = ctx;
    return cwx_logs_cancel_export_task(cwx_session_client(run->session, target), task_id, cb,
                                       ud);
}

static void s_timer_fired(uv_timer_t *h)
{
    cwx__lane_timer(h->data);
}

static void s_start_timer(void *ctx, struct cwx_lane *lane, uint64_t delay_ms)
{
    (void)ctx;
    /* libuv 1.44 busy-loops on 0 ms timers (docs/contributing.md §libuv-timers): at least 1 ms. */
    uv_timer_start(&lane->timer, s_timer_fired, delay_ms ? delay_ms : 1, 0);
}

static void s_stop_timer(void *ctx, struct cwx_lane *lane)
{
    (void)ctx;
    uv_timer_stop(&lane->timer);
}

static void s_soon(uv_idle_t *h)
{
    uv_idle_stop(h);
    cwx__lane_step(h->data);
}

static void s_defer(void *ctx, struct cwx_lane *lane)
{
    (void)ctx;
    uv_idle_start(&lane->soon, s_soon);
}

static int64_t s_now_ms(void *ctx)
{
    (void)ctx;
    return cwx__now_ms();
}

static const struct cwx_lane_ops s_ops = {
    .list_tasks = s_list_tasks,
    .describe_task = s_describe_task,
    .cancel_task = s_cancel_task,
    .start_timer = s_start_timer,
    .stop_timer = s_stop_timer,
    .defer = s_defer,
    .now_ms = s_now_ms,
};

const struct cwx_lane_ops *cwx__lane_aws_ops(void)
{
    return &s_ops;
}
