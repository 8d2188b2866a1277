/* The lane's state machine without a server: a plan from a small config,
 * the lane's and the workers' operations scripted here (every call is held
 * until the test answers it), the lane's steps run when the test settles. */
#include "testmain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "orchestrator/orchestrator_internal.h"
#include "planner/config.h"
#include "planner/plan.h"
#include "workers/workers.h"

enum op_kind { OP_HEAD, OP_COMPLETED, OP_ACTIVE, OP_CREATE, OP_DESCRIBE, OP_LIST, OP_PUT, OP_TIMER };

struct op {
    enum op_kind kind;
    struct cwx_worker *w;
    cwx_work_op_fn *cb;
    void *ud;
    int live;
};

struct h {
    struct cwx_run run;
    struct cwx_run_options opts;
    struct cwx_config *cfg;
    struct op ops[32];
    int creates, head_fail;
    /* The lane's own operations. */
    int deferred, in_step, nested_steps;
    int timer_on;
    uint64_t timer_delay;
    cwx_logs_export_tasks_all_fn *list_cb[4];
    void *list_ud[4];
    int n_list;
    cwx_logs_describe_export_tasks_fn *desc_cb;
    void *desc_ud;
    int lanes_over;
    int64_t now;
};

static struct h *s_h;

/* ---- the workers' operations ---------------------------------------------- */

static int s_hold(enum op_kind k, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    for (size_t i = 0; i < 32; i++) {
        if (!s_h->ops[i].live) {
            s_h->ops[i] = (struct op){k, w, cb, ud, 1};
            return 0;
        }
    }
    fail_msg("too many operations held");
    return CWX_ENOMEM;
}

static int f_head(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)ctx;
    if (s_h->head_fail)
        return CWX_ENOMEM; /* cannot start: the worker is FAILED */
    return s_hold(OP_HEAD, w, cb, ud);
}
static int f_completed(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)ctx;
    return s_hold(OP_COMPLETED, w, cb, ud);
}
static int f_create(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)ctx;
    s_h->creates++;
    return s_hold(OP_CREATE, w, cb, ud);
}
static int f_describe(void *ctx, struct cwx_worker *w, const char *id, cwx_work_op_fn *cb,
                      void *ud)
{
    (void)ctx;
    (void)id;
    return s_hold(OP_DESCRIBE, w, cb, ud);
}
static int f_list(void *ctx, struct cwx_worker *w, const char *id, cwx_work_op_fn *cb, void *ud)
{
    (void)ctx;
    (void)id;
    return s_hold(OP_LIST, w, cb, ud);
}
static int f_put(void *ctx, struct cwx_worker *w, const char *body, size_t len,
                 cwx_work_op_fn *cb, void *ud)
{
    (void)ctx;
    (void)body;
    (void)len;
    return s_hold(OP_PUT, w, cb, ud);
}
static int f_timer(void *ctx, struct cwx_worker *w, uint64_t delay, cwx_work_op_fn *cb, void *ud)
{
    (void)ctx;
    (void)delay;
    return s_hold(OP_TIMER, w, cb, ud);
}
static void f_stop_timer(void *ctx, struct cwx_worker *w)
{
    (void)ctx;
    for (size_t i = 0; i < 32; i++)
        if (s_h->ops[i].live && s_h->ops[i].kind == OP_TIMER && s_h->ops[i].w == w)
            s_h->ops[i].live = 0;
}
static int64_t f_now(void *ctx)
{
    (void)ctx;
    return s_h->now;
}
static uint64_t f_poll_delay(void *ctx, struct cwx_worker *w)
{
    (void)ctx;
    (void)w;
    return 1000;
}

static const struct cwx_worker_ops s_worker_ops = {
    .marker_exists = f_head,
    .completed_task = f_completed,
    .create_task = f_create,
    .describe_task = f_describe,
    .list_export = f_list,
    .put_marker = f_put,
    .start_timer = f_timer,
    .stop_timer = f_stop_timer,
    .now_ms = f_now,
    .poll_delay_ms = f_poll_delay,
};

/* ---- the lane's operations ------------------------------------------------ */

static int l_list(void *ctx, uint32_t target, enum cwx_export_status st,
                  cwx_logs_export_tasks_all_fn *cb, void *ud)
{
    (void)ctx;
    (void)target;
    (void)st;
    assert_true(s_h->n_list < 4);
    s_h->list_cb[s_h->n_list] = cb;
    s_h->list_ud[s_h->n_list++] = ud;
    return 0;
}
static int l_describe(void *ctx, uint32_t target, const char *task_id,
                      cwx_logs_describe_export_tasks_fn *cb, void *ud)
{
    (void)ctx;
    (void)target;
    (void)task_id;
    s_h->desc_cb = cb;
    s_h->desc_ud = ud;
    return 0;
}
static int l_cancel(void *ctx, uint32_t target, const char *task_id,
                    cwx_logs_cancel_export_task_fn *cb, void *ud)
{
    (void)ctx;
    (void)target;
    (void)task_id;
    (void)cb;
    (void)ud;
    return CWX_ENOTSUP;
}
static void l_start_timer(void *ctx, struct cwx_lane *lane, uint64_t delay)
{
    (void)ctx;
    (void)lane;
    s_h->timer_on = 1;
    s_h->timer_delay = delay;
}
static void l_stop_timer(void *ctx, struct cwx_lane *lane)
{
    (void)ctx;
    (void)lane;
    s_h->timer_on = 0;
}
static void l_defer(void *ctx, struct cwx_lane *lane)
{
    (void)ctx;
    (void)lane;
    s_h->deferred = 1;
}
static int64_t l_now(void *ctx)
{
    (void)ctx;
    return s_h->now;
}

static const struct cwx_lane_ops s_lane_ops = {
    .list_tasks = l_list,
    .describe_task = l_describe,
    .cancel_task = l_cancel,
    .start_timer = l_start_timer,
    .stop_timer = l_stop_timer,
    .defer = l_defer,
    .now_ms = l_now,
};

static void s_lane_over(struct cwx_run *run, struct cwx_lane *lane)
{
    (void)run;
    (void)lane;
    s_h->lanes_over++;
}

/* ---- the harness ---------------------------------------------------------- */

/* One account, lease off, two months of one group: two jobs. */
static struct h *s_new(void)
{
    static const char yaml[] =
        "version: 1\n"
        "defaults:\n"
        "  destination: {bucket: archive}\n"
        "  lease: off\n"
        "  poll: {min: 1s, max: 4s}\n"
        "range: {from: 2024-01, to: 2024-02}\n"
        "accounts:\n"
        "  - name: a\n"
        "    account_id: \"123456789012\"\n"
        "    regions: [us-east-1]\n"
        "    log_groups:\n"
        "      - name: /g/one\n";
    struct h *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    s_h = h;
    h->now = 1735689600000LL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", yaml, strlen(yaml), &h->cfg, &err), 0);
    struct cwx_run *run = &h->run;
    char why[256];
    assert_int_equal(cwx_plan_new(h->cfg, h->now, &run->plan, why, sizeof(why)), 0);
    assert_int_equal(cwx_plan_add_named_groups(run->plan), 0);
    assert_int_equal(cwx_plan_expand(run->plan), 0);
    assert_int_equal(run->plan->n_jobs, 2);
    run->cfg = h->cfg;
    run->opts = &h->opts;
    run->lane_ops = &s_lane_ops;
    run->worker_ops = &s_worker_ops;
    run->lane_over = s_lane_over;
    cwx__guard_init(&run->guard, 6, 100);
    assert_int_equal(uv_loop_init(&run->loop), 0);
    assert_int_equal(cwx__lanes_build(run), 0);
    assert_int_equal(run->n_lanes, 1);
    cwx__guard_lane_init(&run->lanes[0].guard, 6, 100);
    run->lanes_open = 1;
    return h;
}

static void s_free(struct h *h)
{
    struct cwx_run *run = &h->run;
    cwx__lanes_close(run);
    uv_run(&run->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&run->loop), 0);
    cwx__lanes_free(run);
    cwx_plan_free(run->plan);
    free(run->failures);
    cwx_config_free(h->cfg);
    free(h);
    s_h = NULL;
}

static struct cwx_lane *s_lane(struct h *h)
{
    return &h->run.lanes[0];
}

/* Runs the deferred steps, as the loop would. */
static void s_settle(struct h *h)
{
    for (int i = 0; h->deferred && i < 100; i++) {
        h->deferred = 0;
        cwx__lane_step(s_lane(h));
    }
    assert_int_equal(h->deferred, 0);
}

static int s_held(struct h *h, enum op_kind k)
{
    int n = 0;
    for (size_t i = 0; i < 32; i++)
        n += h->ops[i].live && h->ops[i].kind == k;
    return n;
}

/* Answers the oldest held operation of kind k (of worker w, or any). */
static void s_answer_w(struct h *h, enum op_kind k, struct cwx_worker *w, int status,
                       const struct cwx_work_result *res)
{
    struct cwx_work_result zero;
    memset(&zero, 0, sizeof(zero));
    for (size_t i = 0; i < 32; i++) {
        struct op *o = &h->ops[i];
        if (o->live && o->kind == k && (!w || o->w == w)) {
            o->live = 0;
            o->cb(status, res ? res : &zero, o->ud);
            s_settle(h);
            return;
        }
    }
    fail_msg("no operation of kind %d held", (int)k);
}

static void s_answer(struct h *h, enum op_kind k, int status, const struct cwx_work_result *res)
{
    s_answer_w(h, k, NULL, status, res);
}

static void s_created(struct h *h, const char *id)
{
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    snprintf(r.task_id, sizeof(r.task_id), "%s", id);
    s_answer(h, OP_CREATE, 0, &r);
}

static void s_completed(struct h *h, struct cwx_worker *w)
{
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    r.task_status = CWX_EXPORT_COMPLETED;
    r.creation_ms = h->now - 5000;
    r.completion_ms = h->now - 10;
    s_answer_w(h, OP_TIMER, w, 0, NULL);
    s_answer_w(h, OP_DESCRIBE, w, 0, &r);
}

/* A job from its check to its create: marker absent, no COMPLETED task. */
static void s_checked(struct h *h)
{
    s_answer(h, OP_HEAD, 0, NULL);
    s_answer(h, OP_COMPLETED, 0, NULL);
}

/* The active job verifies and marks; w is the worker. */
static void s_marked(struct h *h, struct cwx_worker *w)
{
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    r.objects = 1;
    r.bytes = 10;
    s_answer_w(h, OP_LIST, w, 0, &r);
    s_answer_w(h, OP_PUT, w, 0, NULL);
}

static void s_start(struct h *h)
{
    cwx__lanes_start(&h->run);
    assert_int_equal(h->deferred, 1); /* nothing inside the caller's stack */
    s_settle(h);
}

/* A listing's answer: one task (id NULL: none), owned by the callee. */
static struct cwx_logs_export_tasks s_tasks(const char *id, const char *name,
                                            enum cwx_export_status st)
{
    struct cwx_logs_export_tasks all = {0};
    if (!id)
        return all;
    all.tasks = calloc(1, sizeof(*all.tasks));
    assert_non_null(all.tasks);
    all.n = 1;
    struct cwx_logs_export_task *t = &all.tasks[0];
    t->task_id = strdup(id);
    t->task_name = strdup(name);
    t->log_group_name = strdup("/other");
    t->destination = strdup("archive");
    t->destination_prefix = strdup("x");
    t->status_code = strdup(cwx_export_status_name(st));
    t->status_message = strdup("");
    t->status = st;
    return all;
}

/* Answers listing i with one task (or none). */
static void s_listed(struct h *h, int i, const char *id, const char *name,
                     enum cwx_export_status st)
{
    struct cwx_logs_export_tasks all = s_tasks(id, name, st);
    h->list_cb[i](0, &all, NULL, h->list_ud[i]);
}

/* ---- tests ---------------------------------------------------------------- */

/* Two jobs: the first creates at once, the second is checked while the
 * first task runs and creates the moment it ends; the lane finishes once,
 * from a step, after both are marked. */
static void lane_exports_its_queue(void **state)
{
    (void)state;
    struct h *h = s_new();
    struct cwx_lane *lane = s_lane(h);
    s_start(h);
    assert_int_equal(lane->state, CWX_LANE_IDLE);
    s_checked(h);
    assert_int_equal(lane->state, CWX_LANE_WORKING);
    struct cwx_worker *first = lane->active;
    assert_non_null(first);
    s_created(h, "t1");
    assert_non_null(lane->next); /* checked beside the running task */
    s_checked(h);
    assert_int_equal(cwx_worker_state(lane->next), CWX_WORK_READY);
    assert_int_equal(h->creates, 1);
    s_completed(h, first);
    /* The token went to the next job as the task ended. */
    assert_int_equal(h->creates, 2);
    struct cwx_worker *second = lane->active;
    assert_true(second != first);
    s_marked(h, first);
    s_created(h, "t2");
    s_completed(h, second);
    assert_int_equal(h->lanes_over, 0);
    s_marked(h, second);
    assert_int_equal(lane->state, CWX_LANE_FINISHED);
    assert_int_equal(h->lanes_over, 1);
    assert_int_equal(lane->exported, 2);
    assert_int_equal(lane->done, 2);
    s_free(h);
}

/* Slot busy: the listing finds the job's own task (its create was made by
 * an earlier run) and the job adopts it. */
static void lane_slot_busy_adopts_ours(void **state)
{
    (void)state;
    struct h *h = s_new();
    struct cwx_lane *lane = s_lane(h);
    s_start(h);
    s_checked(h);
    struct cwx_worker *w = lane->active;
    s_answer(h, OP_CREATE, CWX_ESLOTBUSY, NULL);
    assert_int_equal(lane->state, CWX_LANE_LISTING);
    assert_int_equal(h->n_list, 2); /* PENDING and RUNNING */
    s_listed(h, 0, "ours", cwx_worker_spec(w)->task_name, CWX_EXPORT_RUNNING);
    assert_int_equal(lane->state, CWX_LANE_LISTING);
    s_listed(h, 1, NULL, NULL, CWX_EXPORT_RUNNING);
    assert_int_equal(h->deferred, 1); /* decided by the step */
    s_settle(h);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    assert_string_equal(cwx_worker_task_id(w), "ours");
    assert_int_equal(lane->adopted, 1);
    assert_int_equal(h->creates, 1);
    assert_non_null(lane->next); /* checked beside the adopted task */
    h->run.stopping = h->run.aborting = 1; /* a second signal */
    cwx__lanes_abort(&h->run);
    s_settle(h);
    assert_int_equal(lane->state, CWX_LANE_HALTING); /* the check is in flight */
    s_answer(h, OP_HEAD, 0, NULL);
    assert_int_equal(lane->state, CWX_LANE_FINISHED);
    assert_int_equal(h->lanes_over, 1);
    s_free(h);
}

/* Answers both listings with nothing: the lane waits poll.min (RETRY). */
static void s_listed_nothing(struct h *h)
{
    for (int i = 0; i < h->n_list; i++)
        s_listed(h, i, NULL, NULL, CWX_EXPORT_RUNNING);
    h->n_list = 0;
    s_settle(h);
}

/* Slot busy, no holder found: RETRY, whose timer checks again and creates.
 * A check that cannot even start (before: h_final called for a job that
 * was not final) ends the job FAILED once, and the lane goes on. */
static void lane_retry_checks_again(void **state)
{
    (void)state;
    struct h *h = s_new();
    struct cwx_lane *lane = s_lane(h);
    s_start(h);
    s_checked(h);
    s_answer(h, OP_CREATE, CWX_ESLOTBUSY, NULL);
    s_listed_nothing(h);
    assert_int_equal(lane->state, CWX_LANE_RETRY);
    assert_true(h->timer_on);
    assert_int_equal(h->timer_delay, 1000);
    h->head_fail = 1;
    cwx__lane_timer(lane);
    assert_int_equal(lane->failed, 0); /* settled by the step, not here */
    h->head_fail = 0;
    s_settle(h);
    assert_int_equal(lane->failed, 1);
    assert_int_equal(h->run.n_failures, 1);
    /* The second job goes on. */
    assert_int_equal(s_held(h, OP_HEAD), 1);
    s_checked(h);
    s_created(h, "t2");
    s_completed(h, lane->active);
    s_marked(h, NULL);
    assert_int_equal(lane->state, CWX_LANE_FINISHED);
    assert_int_equal(h->lanes_over, 1);
    assert_int_equal(lane->failed, 1);
    assert_int_equal(lane->exported, 1);
    s_free(h);
}

/* Slot busy with a foreign holder: polled until it ends, then CHECK again
 * (it may have been ours, under another process) and create. A stop while
 * waiting ends the blocked job once and finishes the lane. */
static void lane_foreign_holder(void **state)
{
    (void)state;
    struct h *h = s_new();
    struct cwx_lane *lane = s_lane(h);
    s_start(h);
    s_checked(h);
    s_answer(h, OP_CREATE, CWX_ESLOTBUSY, NULL);
    s_listed(h, 0, "foreign", "someone-else", CWX_EXPORT_PENDING);
    s_listed(h, 1, NULL, NULL, CWX_EXPORT_RUNNING);
    h->n_list = 0;
    s_settle(h);
    assert_int_equal(lane->state, CWX_LANE_FOREIGN);
    assert_string_equal(lane->foreign.task_id, "foreign");
    cwx__lane_timer(lane);
    assert_non_null(h->desc_cb);
    struct cwx_logs_export_tasks gone = {0};
    h->desc_cb(0, &gone, NULL, h->desc_ud); /* not found any more: ended */
    s_settle(h);
    assert_int_equal(lane->state, CWX_LANE_WORKING);
    assert_int_equal(lane->foreign.task_id[0], 0);
    assert_int_equal(cwx_worker_state(lane->active), CWX_WORK_CHECK);
    s_checked(h);
    assert_int_equal(h->creates, 2);
    /* Busy again, a holder again; then the run stops. */
    s_answer(h, OP_CREATE, CWX_ESLOTBUSY, NULL);
    s_listed(h, 0, "foreign2", "", CWX_EXPORT_RUNNING);
    s_listed(h, 1, NULL, NULL, CWX_EXPORT_RUNNING);
    h->n_list = 0;
    s_settle(h);
    assert_int_equal(lane->state, CWX_LANE_FOREIGN);
    h->run.stopping = 1;
    cwx__lanes_stop(&h->run, 0);
    assert_int_equal(lane->stopped_jobs, 0); /* settled from the loop */
    s_settle(h);
    assert_false(h->timer_on);
    assert_int_equal(lane->state, CWX_LANE_FINISHED);
    assert_int_equal(lane->stopped_jobs, 1);
    assert_int_equal(h->lanes_over, 1);
    assert_int_equal(h->run.plan->jobs[0].status, CWX_JOB_PENDING);
    s_free(h);
}

/* AWS unavailable with no task running: the lane pauses, then goes on
 * with the same job. */
static void lane_pauses_when_aws_is_unavailable(void **state)
{
    (void)state;
    struct h *h = s_new();
    struct cwx_lane *lane = s_lane(h);
    s_start(h);
    for (int i = 0; i < CWX_PATIENCE_TRIES; i++) {
        s_answer(h, OP_HEAD, CWX_EUNAVAIL, NULL);
        if (i + 1 < CWX_PATIENCE_TRIES)
            s_answer(h, OP_TIMER, 0, NULL);
    }
    assert_int_equal(lane->state, CWX_LANE_PAUSED);
    assert_true(h->timer_on);
    assert_int_equal(lane->pauses, 1);
    cwx__lane_timer(lane);
    s_settle(h);
    assert_int_equal(s_held(h, OP_HEAD), 1); /* the same job, checked again */
    s_checked(h);
    s_created(h, "t1");
    h->run.stopping = h->run.aborting = 1; /* a second signal */
    cwx__lanes_abort(&h->run);
    s_settle(h);
    s_answer(h, OP_HEAD, 0, NULL); /* the next job's check, in flight */
    assert_int_equal(lane->state, CWX_LANE_FINISHED);
    assert_int_equal(h->lanes_over, 1);
    s_free(h);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(lane_exports_its_queue),
    cmocka_unit_test(lane_slot_busy_adopts_ours),
    cmocka_unit_test(lane_retry_checks_again),
    cmocka_unit_test(lane_foreign_holder),
    cmocka_unit_test(lane_pauses_when_aws_is_unavailable),
};

CWX_TEST_MAIN(tests)
