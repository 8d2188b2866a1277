/* Shared by the lane's files: lane.c (the states and their transitions),
 * lane_jobs.c (workers and what their ends mean), lane_slot.c (slot busy
 * and foreign holders), lane_build.c. */
#ifndef CWX_ORCHESTRATOR_LANE_INTERNAL_H
#define CWX_ORCHESTRATOR_LANE_INTERNAL_H

#include <stdint.h>

#include "orchestrator/orchestrator_internal.h"
#include "workers/workers.h"

/* What a lane keeps of each of its workers (cwx_worker_data). */
struct cwx_lane_job {
    struct cwx_lane *lane;
    struct cwx_worker *w;
    int dropped;                /* checked ahead, then dropped: reports nothing */
    int ended;                  /* on lane->ended (settled by the next step) */
    struct cwx_lane_job *next_ended;
};

/* A lane runs outage.pause (default CWX__PAUSE_FACTOR × the longest step
 * wait) after a job found AWS unavailable. */
#define CWX__PAUSE_FACTOR 5
/* Completed tasks found at start verify and mark a few at a time. */
#define CWX__PRELUDE_VERIFY_MAX 4

/* ---- lane.c --------------------------------------------------------------- */

/* The only place a lane's state changes. Stops the timer when leaving a
 * timed state. */
void cwx__lane_enter(struct cwx_lane *lane, enum cwx_lane_state to);
/* Asks for a step from the loop (once, however often asked). */
void cwx__lane_kick(struct cwx_lane *lane);
/* Starts the lane's timer (the state says what it is for). */
void cwx__lane_arm(struct cwx_lane *lane, uint64_t delay_ms);
/* The lane stops starting work: the run stops, an error stopped it, its
 * lease was lost (fenced), or the loop guard tripped. */
int cwx__lane_halting(const struct cwx_lane *lane);
/* Halts the lane: drops the job checked ahead, stops an active job that
 * has no task running (any, when fenced or aborting), enters HALTING. */
void cwx__lane_halt(struct cwx_lane *lane);
/* The wait of FOREIGN or RETRY is over: the blocked job checks again
 * (another process may have exported the window meanwhile), then creates;
 * halting, it stops instead. */
void cwx__lane_waited(struct cwx_lane *lane);
/* Stops the lane for an error (once; the first reason stays). */
void cwx__lane_stop(struct cwx_lane *lane, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const struct cwx_settings *cwx__lane_settings(const struct cwx_lane *lane);
struct cwx_poll_policy cwx__lane_policy(const struct cwx_lane *lane);
int64_t cwx__lane_now(const struct cwx_lane *lane);

/* ---- lane_jobs.c ---------------------------------------------------------- */

/* A worker for job j (its record hung on it). */
int cwx__lane_new_worker(struct cwx_lane *lane, uint32_t j, struct cwx_worker **out);
struct cwx_lane_job *cwx__lane_job_of(const struct cwx_worker *w);
/* w has ended (on_final), or was stopped idle, or could not start (FAILED
 * without on_final): its end is settled by the next step. Once per worker. */
void cwx__lane_worker_ended(struct cwx_worker *w);
/* Stops w: at once when idle, else when its call returns; its end is
 * settled by a later step either way. */
void cwx__lane_interrupt(struct cwx_lane *lane, struct cwx_worker *w);
/* Settles every ended worker: the job's outcome, the counters, the token. */
void cwx__lane_settle(struct cwx_lane *lane);
/* Drops the job checked ahead (its end frees it). */
void cwx__lane_drop_next(struct cwx_lane *lane);
/* Moves the active worker (BLOCKED or READY) on to its create; with
 * recheck, through CHECK first. */
void cwx__lane_resume_active(struct cwx_lane *lane, int recheck);
int cwx__lane_finishing_add(struct cwx_lane *lane, struct cwx_worker *w);
/* The next job of the queue still to do (a requeued one first). */
int cwx__lane_take_job(struct cwx_lane *lane, uint32_t *out);
/* After a cwx_worker_start* of w returned rc: a worker that could not
 * start is FAILED without on_final; its end is settled like any other. */
void cwx__lane_started(struct cwx_lane *lane, struct cwx_worker *w, int rc);

/* ---- lane_slot.c ---------------------------------------------------------- */

/* The active job's create said LimitExceededException: list the active
 * tasks of the lane's targets (LISTING). */
void cwx__lane_slot_busy(struct cwx_lane *lane);
/* LISTING: every listing answered; decide (adopt, wait, or retry). */
void cwx__lane_listed_all(struct cwx_lane *lane);
/* FOREIGN: poll the holder. */
void cwx__lane_foreign_poll(struct cwx_lane *lane);
/* --cancel-on-exit: cancels the active task. Returns 1 when the cancel
 * started (the worker stops when it answers). */
int cwx__lane_cancel_active(struct cwx_lane *lane);

#endif
