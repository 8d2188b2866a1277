/* The lanes' remembered time models (docs/plan.md, "The lane time model"):
 * read from `<state_prefix>/<account_id>/<region>/_model.json` in each
 * target's bucket before the lanes start, written back when they end (and
 * every CWX__MODEL_SAVE_EVERY tasks of a long run). A model is an
 * optimisation, never state of record: a read or write that fails is a
 * warning, and a lane without a model learns from its own tasks. One
 * PutObject is atomic in S3 (a reader sees the old or the new object,
 * never a mix), so no temporary key is needed. */
#include "orchestrator/orchestrator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"

struct s_model_op {
    struct cwx_run *run;
    struct cwx_lane *lane;
    uint32_t target;
    int64_t tasks; /* write: model.tasks written */
    char where[1200]; /* s3://bucket/key, for messages */
};

static void s_op_end(struct s_model_op *op)
{
    struct cwx_run *run = op->run;
    free(op);
    if (--run->models_inflight == 0 && run->models_done) {
        void (*done)(struct cwx_run *) = run->models_done;
        run->models_done = NULL;
        done(run);
    }
}

/* The key and client of a target's model; 0 when it has both. */
static int s_target(struct cwx_run *run, uint32_t t, struct cwx_buf *key,
                    struct cwx_aws_client **client)
{
    const struct cwx_plan_target *tg = &run->plan->targets[t];
    if (!tg->bucket || !tg->account_id)
        return CWX_EINVAL;
    *client = cwx_session_client(run->session, t);
    if (!*client)
        return CWX_EINVAL;
    const char *sp = run->cfg->accounts[tg->account].settings.destination.state_prefix;
    cwx_buf_reset(key);
    return cwx_lane_model_key(sp, tg->account_id, tg->region, key);
}

/* ---- reading ---------------------------------------------------------------- */

static void s_on_read(int status, const struct cwx_s3_get_object_result *res,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_model_op *op = ud;
    struct cwx_lane *lane = op->lane;
    if (status == 0 && res) {
        struct cwx_lane_model m;
        char why[200];
        if (cwx_lane_model_parse(res->body.ptr, res->body.len, &m, why, sizeof(why)) == 0) {
            if (m.tasks > lane->model_tasks_read || !lane->model_tasks_read) {
                lane->model = m;
                lane->model_tasks_read = m.tasks;
                lane->model_saved_tasks = m.tasks;
                lane->model_tried_tasks = m.tasks;
            }
            CWX_LOGD("lane %s: time model %s: %lld tasks", lane->name, op->where,
                     (long long)m.tasks);
        } else {
            CWX_LOGW("lane %s: ignoring the time model %s: %s", lane->name, op->where, why);
        }
    } else if (status == CWX_ETOOBIG) {
        CWX_LOGW("lane %s: ignoring the time model %s: larger than %d bytes", lane->name,
                 op->where, CWX_LANE_MODEL_MAX_BYTES);
    } else if (status && status != CWX_ENOTFOUND) {
        char e[320];
        CWX_LOGW("lane %s: cannot read the time model %s: %s", lane->name, op->where,
                 cwx__why(status, err, e, sizeof(e)));
    }
    s_op_end(op);
}

int cwx__models_read(struct cwx_run *run, void (*done)(struct cwx_run *run))
{
    struct cwx_buf key;
    cwx_buf_init(&key, 0);
    int started = 0;
    for (uint32_t t = 0; t < run->plan->n_targets; t++) {
        struct cwx_lane *lane = &run->lanes[run->lane_of_target[t]];
        struct cwx_aws_client *client;
        if (lane->stopped || s_target(run, t, &key, &client))
            continue;
        struct s_model_op *op = calloc(1, sizeof(*op));
        if (!op)
            break;
        *op = (struct s_model_op){.run = run, .lane = lane, .target = t};
        snprintf(op->where, sizeof(op->where), "s3://%s/%s", run->plan->targets[t].bucket,
                 key.ptr);
        run->models_inflight++;
        if (cwx_s3_get_object(client, run->plan->targets[t].bucket, key.ptr,
                              CWX_LANE_MODEL_MAX_BYTES, s_on_read, op)) {
            run->models_inflight--;
            free(op);
            continue;
        }
        started++;
    }
    cwx_buf_free(&key);
    if (!started)
        return 1;
    run->models_done = done;
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */

static int s_write_lane(struct cwx_run *run, struct cwx_lane *lane);

/* The run waits for its final writes. */
static int s_final(const struct cwx_run *run)
{
    return run->models_done != NULL;
}

static void s_on_written(int status, const struct cwx_s3_put_object_result *res,
                         const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    struct s_model_op *op = ud;
    struct cwx_lane *lane = op->lane;
    if (status) {
        char e[320];
        CWX_LOGW("lane %s: cannot write the time model %s: %s", lane->name, op->where,
                 cwx__why(status, err, e, sizeof(e)));
    } else if (op->tasks > lane->model_saved_tasks) {
        lane->model_saved_tasks = op->tasks;
    }
    if (lane->model_writing > 0)
        lane->model_writing--;
    /* The final write waits for this one: then writes what came since. */
    if (s_final(op->run) && !lane->model_writing)
        s_write_lane(op->run, lane);
    s_op_end(op);
}

/* Starts the writes of one lane's model; returns how many started. */
static int s_write_lane(struct cwx_run *run, struct cwx_lane *lane)
{
    /* Once per state of the model: a failed write is not tried again
     * until the lane has learnt more. */
    if (lane->model.tasks <= lane->model_saved_tasks ||
        lane->model.tasks <= lane->model_tried_tasks || lane->model_writing)
        return 0;
    lane->model_tried_tasks = lane->model.tasks;
    const struct cwx_plan *plan = run->plan;
    struct cwx_buf key, body;
    cwx_buf_init(&key, 0);
    cwx_buf_init(&body, 0);
    int started = 0;
    for (uint32_t t = 0; t < plan->n_targets; t++) {
        if (run->lane_of_target[t] != lane->idx)
            continue;
        int has_jobs = 0;
        for (size_t g = 0; g < plan->n_groups && !has_jobs; g++)
            has_jobs = plan->groups[g].target == t && plan->groups[g].n_jobs > 0;
        struct cwx_aws_client *client;
        if (!has_jobs || s_target(run, t, &key, &client))
            continue;
        const struct cwx_plan_target *tg = &plan->targets[t];
        cwx_buf_reset(&body);
        if (cwx_lane_model_format(&lane->model, tg->account_id, tg->region, cwx__now_ms(),
                                  &body))
            continue;
        struct s_model_op *op = calloc(1, sizeof(*op));
        if (!op)
            break;
        *op = (struct s_model_op){
            .run = run, .lane = lane, .target = t, .tasks = lane->model.tasks};
        snprintf(op->where, sizeof(op->where), "s3://%s/%s", tg->bucket, key.ptr);
        struct cwx_s3_put_object_req req = {
            .bucket = tg->bucket,
            .key = key.ptr,
            .body = body.ptr,
            .body_len = body.len,
            .content_type = "application/json",
        };
        run->models_inflight++;
        lane->model_writing++;
        if (cwx_s3_put_object(client, &req, s_on_written, op)) {
            run->models_inflight--;
            lane->model_writing--;
            free(op);
            continue;
        }
        started++;
    }
    cwx_buf_free(&key);
    cwx_buf_free(&body);
    return started;
}

int cwx__models_write(struct cwx_run *run, void (*done)(struct cwx_run *run))
{
    for (size_t l = 0; l < run->n_lanes; l++)
        s_write_lane(run, &run->lanes[l]);
    if (!run->models_inflight)
        return 1;
    run->models_done = done;
    return 0;
}

void cwx__model_task_ended(struct cwx_lane *lane, int64_t est_bytes, int64_t duration_ms,
                           int polls)
{
    struct cwx_poll_policy p =
        cwx_poll_policy_of(&lane->run->cfg->accounts[lane->account].settings);
    cwx_lane_model_observe_polls(&lane->model, &p, est_bytes, duration_ms, polls);
    cwx_lane_model_add(&lane->model, est_bytes, duration_ms);
    if (lane->model.tasks - lane->model_tried_tasks >= CWX__MODEL_SAVE_EVERY &&
        !lane->run->aborting)
        s_write_lane(lane->run, lane);
}
