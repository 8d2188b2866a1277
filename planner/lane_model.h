/* A lane's time model and its polling schedule (docs/architecture.md,
 * "polling"): how long an export task of a lane takes (a fixed overhead plus
 * bytes at the lane's throughput, fitted over the tasks seen), how far off
 * its predictions were, and when to poll a task given that. The run's
 * lanes poll with it; the plan counts DescribeExportTasks and projects
 * makespans with the very same functions. It is remembered across runs as
 * `<state_prefix>/<account_id>/<region>/_model.json` in the lane's bucket
 * (docs/plan.md, "The lane time model"). Pure: no I/O, no clock. */
#ifndef CWX_PLANNER_LANE_MODEL_H
#define CWX_PLANNER_LANE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "planner/config.h"

/* ---- the polling policy -------------------------------------------------- */

struct cwx_poll_policy {
    uint64_t min_ms;  /* poll.min: the shortest interval */
    uint64_t max_ms;  /* poll.max: never wait longer than this */
    double growth;    /* interval ≈ age × (growth - 1) when nothing is known */
};

/* The policy of an account's settings (poll.min, poll.max; 5 s and 60 s
 * when unset), as every lane of a run and the plan use it. */
struct cwx_poll_policy cwx_poll_policy_of(const struct cwx_settings *st);

struct cwx_poll_input {
    int polls;            /* polls already made of this task */
    int64_t age_ms;       /* now - the task's creation */
    int64_t predicted_ms; /* predicted duration from creation; <= 0 unknown */
    /* Around the prediction (ms, signed offsets): the first poll near the
     * end is aimed at pred + aim_ms; the end is expected by pred + late_ms
     * (>= aim_ms). Both 0 with no history: the band is ±10 % of the
     * prediction, polled from its early edge. */
    int64_t aim_ms, late_ms;
};

/* The delay before the next poll:
 * - the first poll comes after min_ms (a task may be empty and quick, and
 *   the answer gives AWS's own creation time);
 * - with no prediction, intervals grow geometrically with the task's age,
 *   clamped to [min_ms, max_ms];
 * - with a prediction, one poll at pred + aim (cwx_lane_model_aim puts it
 *   just after most recent ends: a RUNNING answer just before the end
 *   would cost a whole min_ms of idle slot), then every min_ms until
 *   pred + late; the wait towards the aim is cut into equal intervals of at
 *   most max_ms, the last one landing on the aim. Past the band the task is
 *   overdue: intervals grow again with how late it is.
 * Never less than min_ms, never more than max_ms. */
uint64_t cwx_poll_delay(const struct cwx_poll_policy *p, const struct cwx_poll_input *in);

/* ---- the lane model ------------------------------------------------------- */

/* Prediction errors kept for the polling aim. */
#define CWX_LANE_MODEL_ERRORS 16

/* duration ≈ overhead + estimated_bytes / rate, fitted by least squares
 * over the tasks seen (recent ones weigh more; a task far off the line is
 * clipped to the edge of the recent errors' band, so one stuck export does
 * not bend it), and the errors of its recent predictions. All zero:
 * nothing known. */
struct cwx_lane_model {
    double n, sx, sy, sxx, sxy; /* decayed sums over (bytes, duration_ms) */
    double err_n, err_s;        /* decayed relative prediction errors */
    int samples;                /* tasks in the sums (not decayed) */
    int64_t err_ms[CWX_LANE_MODEL_ERRORS]; /* recent (actual - predicted), ms */
    int64_t pred_ms[CWX_LANE_MODEL_ERRORS]; /* … and those predictions, ms */
    int n_err, err_next;
    /* Totals over every task the model has seen, across runs. */
    int64_t tasks;
    int64_t min_ms;             /* the shortest task, 0 unknown */
    double est_bytes;           /* sum of estimated bytes of tasks whose size is known… */
    double exported_bytes;      /* … and the bytes they exported (calibration) */
    double incoming_bytes;      /* CloudWatch IncomingBytes of exported windows… */
    double incoming_exported;   /* … and the bytes those exported (0 0: unknown;
                                 * absent from older files) */
    /* How the run's schedule went against its replay (decayed sums): the
     * DescribeExportTasks polls made of tasks and those the replay of the
     * same tasks counts (their ratio carries what the replay cannot know,
     * such as the calls' own latency); the idle slot between a task's end
     * and the next task's creation. */
    double polls_made, polls_replayed;
    double gap_n, gap_ms;
};

/* Learns one task of estimated size est_bytes (< 0 unknown) that took
 * duration_ms from creation to completion (<= 0: ignored). */
void cwx_lane_model_add(struct cwx_lane_model *m, int64_t est_bytes, int64_t duration_ms);
/* Learns how many polls a task of est_bytes that took duration_ms needed
 * (polls > 0), against the replay of the model as it was before the task
 * (call it before cwx_lane_model_add). */
void cwx_lane_model_observe_polls(struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                                  int64_t est_bytes, int64_t duration_ms, int polls);
/* Learns one idle gap of the slot (a task's end to the next creation). */
void cwx_lane_model_observe_gap(struct cwx_lane_model *m, int64_t gap_ms);
/* Polls made per poll replayed (1 when unknown; within [0.5, 2]). */
double cwx_lane_model_poll_factor(const struct cwx_lane_model *m);
/* The mean idle gap between tasks (ms), or -1 when none was seen. */
int64_t cwx_lane_model_gap(const struct cwx_lane_model *m);
/* Learns what a task of est_bytes (<= 0: ignored) exported, once listed. */
void cwx_lane_model_calibrate(struct cwx_lane_model *m, int64_t est_bytes,
                              int64_t exported_bytes);
/* Predicted duration in ms of a task of est_bytes (< 0 unknown), or -1. */
int64_t cwx_lane_model_predict(const struct cwx_lane_model *m, int64_t est_bytes);
/* How far off a prediction may be (ms), from the errors seen so far. */
int64_t cwx_lane_model_spread(const struct cwx_lane_model *m, int64_t predicted_ms);
/* Where to aim the poll near a predicted end, from the recent prediction
 * errors e (actual - predicted, ms): the offset m that minimises the idle
 * slot they would have cost, sum over e of (m - e) plus min_ms for each e
 * after m (that poll answers RUNNING and the next comes min_ms later).
 * *late is the latest recent error. Returns 0 (nothing set) with fewer
 * than 4 errors. */
int cwx_lane_model_aim(const struct cwx_lane_model *m, int64_t min_ms, int64_t *aim,
                       int64_t *late);
/* Observed bytes per second (slope), or 0 when unknown. */
double cwx_lane_model_rate(const struct cwx_lane_model *m);
/* The fitted fixed overhead of a task (ms), or -1 when unknown. */
int64_t cwx_lane_model_overhead(const struct cwx_lane_model *m);
/* Exported bytes per estimated byte over the tasks seen, or 0 unknown. */
double cwx_lane_model_calibration(const struct cwx_lane_model *m);
/* Learns that windows into which incoming_bytes came (CloudWatch
 * IncomingBytes, uncompressed; <= 0: ignored) exported exported_bytes. */
void cwx_lane_model_calibrate_incoming(struct cwx_lane_model *m, double incoming_bytes,
                                       double exported_bytes);
/* Exported bytes per IncomingByte over what was learnt, or 0 unknown. */
double cwx_lane_model_incoming_ratio(const struct cwx_lane_model *m);

/* The poll input of a task of est_bytes aged age_ms after `polls` polls,
 * as a lane computes it: the model's prediction, aim and band. */
void cwx_lane_model_poll_input(const struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                               int polls, int64_t age_ms, int64_t est_bytes,
                               struct cwx_poll_input *in);

/* Replays the schedule of a task of est_bytes that ends duration_ms after
 * its creation: returns the DescribeExportTasks polls made until one sees
 * it ended (at least 1), and in *seen_ms (optional) the age at that poll. */
uint64_t cwx_lane_model_polls(const struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                              int64_t est_bytes, int64_t duration_ms, int64_t *seen_ms);

/* The same replay averaged over the model's recent prediction errors, as
 * ratios (the task ending at duration_ms × actual / predicted of each
 * recent task; a single replay with fewer than 4): the expected polls and
 * the expected age at the poll that sees the end. */
void cwx_lane_model_expect(const struct cwx_lane_model *m, const struct cwx_poll_policy *p,
                           int64_t est_bytes, int64_t duration_ms, double *polls,
                           double *seen_ms);

/* ---- remembered: _model.json ---------------------------------------------- */

/* The object's name below `<state_prefix>/<account_id>/<region>/`. */
#define CWX_LANE_MODEL_FILE "_model.json"
/* Its format version; another version is ignored (with a warning). */
#define CWX_LANE_MODEL_VERSION 1
/* A larger object is not a model of ours: not read. */
#define CWX_LANE_MODEL_MAX_BYTES (64 * 1024)

/* The model's key: "<state_prefix>/<account_id>/<region>/_model.json"
 * (trailing '/' of state_prefix dropped; empty: from account_id). Appended
 * to out. CWX_EINVAL when a part is missing. */
int cwx_lane_model_key(const char *state_prefix, const char *account_id, const char *region,
                       struct cwx_buf *out);

/* Appends m as the JSON document stored in S3; updated_ms is written as
 * "updated_at", account_id and region name the lane. */
int cwx_lane_model_format(const struct cwx_lane_model *m, const char *account_id,
                          const char *region, int64_t updated_ms, struct cwx_buf *out);

/* Reads a stored model. Returns 0 and fills *m, or CWX_EPARSE with why
 * filled ("not JSON", "version 7 is not 1", "fit.n is not a number" …):
 * a model that is not well formed in every field is refused whole. */
int cwx_lane_model_parse(const char *text, size_t len, struct cwx_lane_model *m, char *why,
                         size_t why_size);

#endif
