/* Account lanes (docs/architecture.md §scheduler, §lane): one export token
 * each, a queue (oldest window first, then log-group order), at most one
 * job holding the token, and the slot-busy procedure of
 * docs/architecture.md §slot-busy.
 *
 * The lane is a state machine (enum cwx_lane_state in
 * orchestrator_internal.h):
 *
 *   LEASE ──HELD──▶ IDLE ──a job takes the token──▶ WORKING ──its task ended──▶ IDLE
 *                    │ a foreign task known at start   │ LimitExceededException
 *                    ▼                                 ▼
 *                  FOREIGN ◀──a foreign holder────── LISTING ──ours / another job of
 *                    │ it ended: CHECK again, create     │          ours: adopt ──▶ WORKING
 *                    ▼                                 │ nothing found
 *                  WORKING                             ▼
 *                                                    RETRY ──poll.min──▶ CHECK again ──▶ WORKING
 *   IDLE/WORKING ──AWS unavailable, no task running──▶ PAUSED ──outage.pause──▶ IDLE
 *   any ──stopping, stopped, fenced, loop guard──▶ HALTING ──every job ended──▶ FINISHED
 *                                                      (fenced: LEASE again)
 *   IDLE ──queue empty, nothing running──▶ FINISHED (the lease is released)
 *
 * Everything a lane reacts to (a worker's end, a lease event, an answer,
 * its timer) changes its state through one function and asks for a step;
 * the step runs from the loop (deferred, like uv_close), settles the
 * workers that ended, then calls the function of the lane's state. No
 * step ever runs inside another.
 *
 * Every AWS call and timer of a lane goes through struct cwx_lane_ops, so
 * the unit tests drive a lane without a server (tests/unit/test_lane.c). */
#ifndef CWX_ORCHESTRATOR_LANE_H
#define CWX_ORCHESTRATOR_LANE_H

#include <stdint.h>

#include "aws/aws.h"

struct cwx_run;
struct cwx_lane;
struct cwx_worker;
struct cwx_aws_client;

/* The lane's operations (the workers have their own: run->worker_ops, with
 * run->worker_ctx). `ctx` is run->lane_ctx. Each starting function
 * returns 0 (cb runs exactly once, later, from the loop) or a CWX_E* code
 * (cb never runs). */
struct cwx_lane_ops {
    /* DescribeExportTasks with statusCode st in target t's account and
     * region, every page. */
    int (*list_tasks)(void *ctx, uint32_t target, enum cwx_export_status st,
                      cwx_logs_export_tasks_all_fn *cb, void *ud);
    /* DescribeExportTasks of one task id in target t. */
    int (*describe_task)(void *ctx, uint32_t target, const char *task_id,
                         cwx_logs_describe_export_tasks_fn *cb, void *ud);
    /* CancelExportTask of task_id in target t. */
    int (*cancel_task)(void *ctx, uint32_t target, const char *task_id,
                       cwx_logs_cancel_export_task_fn *cb, void *ud);
    /* The lane's one timer: cwx__lane_timer(lane) runs after delay_ms
     * (replacing any earlier start); stop_timer cancels it. */
    void (*start_timer)(void *ctx, struct cwx_lane *lane, uint64_t delay_ms);
    void (*stop_timer)(void *ctx, struct cwx_lane *lane);
    /* cwx__lane_step(lane) runs soon, from the loop. */
    void (*defer)(void *ctx, struct cwx_lane *lane);
    /* Epoch milliseconds. */
    int64_t (*now_ms)(void *ctx);
};

/* The operations on AWS (lane_aws.c): ctx is the run; its session's
 * clients, the run's loop for the timers. */
const struct cwx_lane_ops *cwx__lane_aws_ops(void);

/* lane_build.c: the lanes of run->plan (one per token), their queues, the
 * tasks found at start and the lease of each. On failure the lanes built
 * so far stay valid for cwx__lanes_close and cwx__lanes_free. */
int cwx__lanes_build(struct cwx_run *run);
/* Closes the lanes' handles (timers, leases); run the loop afterwards. */
void cwx__lanes_close(struct cwx_run *run);
void cwx__lanes_free(struct cwx_run *run);

/* lane.c */
void cwx__lanes_start(struct cwx_run *run);
/* First signal: no new work; blocked or waiting lanes end. */
void cwx__lanes_stop(struct cwx_run *run, int cancel_tasks);
/* Second signal: interrupt every worker. */
void cwx__lanes_abort(struct cwx_run *run);
/* The deferred step and the timer (called by the operations). */
void cwx__lane_step(struct cwx_lane *lane);
void cwx__lane_timer(struct cwx_lane *lane);

/* For the workers' operations on AWS (workers/aws_ops.c). */
uint64_t cwx__lane_poll_delay(struct cwx_worker *w, void *ud);
struct cwx_aws_client *cwx__lane_client(struct cwx_worker *w, void *ud);

#endif
