/* `cwexport run`: the loop, the phases (resolve → reconcile → lanes →
 * reports), signals and the exit code. */
#include "orchestrator/orchestrator.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/mem.h"
#include "orchestrator/orchestrator_internal.h"
#include "workers/workers.h"

static void s_shutdown(struct cwx_run *run);
static void s_finish(struct cwx_run *run);
static void s_start_lanes(struct cwx_run *run);
static void s_read_metrics(struct cwx_run *run);

static int s_exit_for_error(int err)
{
    return cwx_err_access(err) ? CWX_EXIT_CREDENTIALS : CWX_EXIT_FAILED;
}

static int s_exit_code(struct cwx_run *run)
{
    if (run->signals)
        return CWX_EXIT_INTERRUPTED;
    if (run->guard.tripped)
        return CWX_EXIT_LOOP_GUARD;
    int code = run->exit_code;
    for (size_t a = 0; run->resolved.account_error && a < run->resolved.n_accounts; a++)
        if (run->resolved.account_error[a]) {
            int c = s_exit_for_error(run->resolved.account_error[a]);
            code = c > code ? c : code;
        }
    for (size_t a = 0; run->rec.account_error && a < run->rec.n_accounts; a++)
        if (run->rec.account_error[a]) {
            int c = s_exit_for_error(run->rec.account_error[a]);
            code = c > code ? c : code;
        }
    for (size_t l = 0; l < run->n_lanes; l++) {
        const struct cwx_lane *lane = &run->lanes[l];
        if (lane->stopped) {
            int c = lane->stop_error == CWX_ELOOPGUARD ? CWX_EXIT_LOOP_GUARD
                                                       : s_exit_for_error(lane->stop_error);
            code = c > code ? c : code;
        }
        if (lane->failed && code < CWX_EXIT_FAILED)
            code = CWX_EXIT_FAILED;
    }
    return code;
}

/* ---- signals ------------------------------------------------------------- */

static void s_on_signal(uv_signal_t *h, int signum)
{
    struct cwx_run *run = h->data;
    run->signals++;
    if (run->finishing)
        return;
    if (run->signals == 1) {
        run->stopping = 1;
        if (run->session)
            cwx_session_stop(run->session); /* no more waiting out failures */
        CWX_LOGW("%s: no new export tasks; %s the active ones (signal again to exit now)",
                 signum == SIGINT ? "interrupted" : signum == SIGHUP ? "hung up" : "terminated",
                 run->opts->cancel_on_exit ? "cancelling" : "waiting for");
        /* Lanes still reading their models see `stopping` when they start. */
        if (run->lanes_started)
            cwx__lanes_stop(run, run->opts->cancel_on_exit);
        return;
    }
    run->aborting = 1;
    CWX_LOGW("exiting now; the next run adopts the tasks left running");
    if (run->lanes_started)
        cwx__lanes_abort(run);
}

/* Who this runner is, in the lane leases: host name, pid (the lease) and
 * 64 random bits, so that a later process with the same pid differs. */
static void s_runner_identity(struct cwx_run *run)
{
    if (gethostname(run->host, sizeof(run->host) - 1) != 0 || !run->host[0])
        snprintf(run->host, sizeof(run->host), "unknown");
    uint8_t r[8] = {0};
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        uint64_t x = (uint64_t)cwx__now_ms() ^ ((uint64_t)getpid() << 40) ^ uv_hrtime();
        memcpy(r, &x, sizeof(r));
    }
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(run->runner_id + 2 * i, 3, "%02x", r[i]);
}

static void s_on_tick(uv_timer_t *h)
{
    cwx__report_progress(h->data, 1);
}

/* ---- phases -------------------------------------------------------------- */

/* A lane is over (run->lane_over): after the last one, the models and the
 * reports. */
static void s_lane_over(struct cwx_run *run, struct cwx_lane *lane)
{
    (void)lane;
    if (--run->lanes_open != 0)
        return;
    /* What the lanes learnt is written before the reports (not after a
     * second signal: that exits at once). */
    if (!run->aborting && cwx__models_write(run, s_finish) == 0)
        return;
    s_finish(run);
}

static void s_after_notify(struct cwx_run *run)
{
    s_shutdown(run);
}

static void s_finish(struct cwx_run *run)
{
    if (run->finishing)
        return;
    run->finishing = 1;
    run->finished_ms = cwx__now_ms();
    if (run->session)
        run->api_calls = cwx_session_api_calls(run->session);
    run->exit_code = s_exit_code(run);
    cwx__report_progress_end(run);
    if (cwx__report_summary(run))
        CWX_LOGE("could not write the summary to %s", run->opts->summary_path);
    char why[512];
    if (cwx__report_metrics(run, why, sizeof(why)))
        CWX_LOGE("could not write the metrics to %s: %s", run->opts->metrics_path, why);
    if (run->session && cwx__report_notify(run, s_after_notify) == 0)
        return;
    s_shutdown(run);
}

/* The loop guard's caps: the run's, and each lane's (its account's). */
static void s_guard_caps(struct cwx_run *run)
{
    size_t todo = 0;
    for (size_t j = 0; j < run->plan->n_jobs; j++)
        if (run->plan->jobs[j].status == CWX_JOB_PENDING ||
            run->plan->jobs[j].status == CWX_JOB_RUNNING ||
            run->plan->jobs[j].reason == CWX_REASON_TASK_COMPLETED)
            todo++;
    int per_job = 0;
    for (size_t a = 0; a < run->cfg->n_accounts; a++)
        if (run->cfg->accounts[a].settings.max_creates_per_job > per_job)
            per_job = run->cfg->accounts[a].settings.max_creates_per_job;
    /* max_creates_per_run 0 means automatic: 3 × the jobs to do + 10. */
    int per_run = run->cfg->defaults.max_creates_per_run;
    if (per_run <= 0)
        per_run = (int)(3 * todo + 10);
    cwx__guard_init(&run->guard, per_job ? per_job : 6, per_run);
    /* Each lane has its account's caps too (an account's own loop_guard, or
     * the defaults it inherits); automatic is 3 × the lane's jobs + 10. */
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        const struct cwx_settings *st = &run->cfg->accounts[lane->account].settings;
        size_t lane_todo = 0;
        for (size_t j = 0; j < run->plan->n_jobs; j++)
            if (run->lane_of_job[j] == l &&
                (run->plan->jobs[j].status == CWX_JOB_PENDING ||
                 run->plan->jobs[j].status == CWX_JOB_RUNNING ||
                 run->plan->jobs[j].reason == CWX_REASON_TASK_COMPLETED))
                lane_todo++;
        int lane_cap = st->max_creates_per_run > 0 ? st->max_creates_per_run
                                                   : (int)(3 * lane_todo + 10);
        cwx__guard_lane_init(&lane->guard, st->max_creates_per_job, lane_cap);
    }
}

static void s_on_reconciled(int status, void *ud)
{
    struct cwx_run *run = ud;
    if (status) {
        CWX_LOGE("reading the state in AWS failed: %s", cwx_strerror(status));
        run->exit_code = CWX_EXIT_FAILED;
        s_finish(run);
        return;
    }
    int rc = cwx__lanes_build(run);
    if (rc) {
        CWX_LOGE("cannot build the lanes: %s", cwx_strerror(rc));
        run->exit_code = CWX_EXIT_FAILED;
        s_finish(run);
        return;
    }
    s_guard_caps(run);
    /* Accounts that could not be resolved or read: their lanes stop. */
    for (size_t l = 0; l < run->n_lanes; l++) {
        struct cwx_lane *lane = &run->lanes[l];
        uint32_t a = lane->account;
        int err = run->resolved.account_error[a] ? run->resolved.account_error[a]
                                                 : run->rec.account_error[a];
        const char *detail = run->resolved.account_error[a] ? run->resolved.account_detail[a]
                                                            : run->rec.account_detail[a];
        if (err) {
            lane->stopped = 1;
            lane->stop_error = err;
            snprintf(lane->stop_reason, sizeof(lane->stop_reason), "%s",
                     detail ? detail : cwx_strerror(err));
        }
    }
    struct cwx_plan_totals tot;
    cwx_plan_totals(run->plan, &tot);
    size_t adopt = run->rec.n_tasks;
    if (tot.pending == 0 && adopt == 0) {
        snprintf(run->nothing_msg, sizeof(run->nothing_msg),
                 "nothing to export: %zu windows done, %zu skipped, %zu failed%s", tot.done,
                 tot.skipped, tot.failed,
                 tot.jobs == 0 ? " (no window has settled yet)" : "");
        CWX_LOGI("%s", run->nothing_msg);
    } else {
        CWX_LOGI("%zu windows: %zu to export, %zu running, %zu done, %zu skipped, %zu failed; "
                 "%zu lanes",
                 tot.jobs, tot.pending, tot.running, tot.done, tot.skipped, tot.failed,
                 run->n_lanes);
    }
    run->lanes_open = (int)run->n_lanes;
    if (run->n_lanes == 0) {
        s_finish(run);
        return;
    }
    /* The lanes poll with their remembered time models from the first task. */
    if ((tot.pending || adopt) && !run->stopping && cwx__models_read(run, s_read_metrics) == 0)
        return;
    s_read_metrics(run);
}

static void s_on_metrics(int status, void *ud)
{
    struct cwx_run *run = ud;
    if (status)
        CWX_LOGW("reading CloudWatch IncomingBytes failed: %s", cwx_strerror(status));
    s_start_lanes(run);
}

/* With the models read, the daily IncomingBytes of the groups with pending
 * windows inside CloudWatch's retention (as the online plan reads them): the
 * jobs' byte estimates use them, and each exported job records its bytes
 * against them in the lane model (the calibration the next plan uses). A
 * refused or failed read only warns; the run goes on with storedBytes. */
static void s_read_metrics(struct cwx_run *run)
{
    if (run->stopping || !run->session) {
        s_start_lanes(run);
        return;
    }
    for (uint32_t t = 0; t < run->plan->n_targets; t++) {
        const struct cwx_lane *lane = &run->lanes[run->lane_of_target[t]];
        struct cwx_plan_target *tg = &run->plan->targets[t];
        if (!lane->model_tasks_read || tg->model)
            continue;
        tg->model = malloc(sizeof(*tg->model));
        if (tg->model)
            *tg->model = lane->model;
    }
    if (cwx_plan_read_metrics(run->session, run->plan, s_on_metrics, run) != 0)
        s_start_lanes(run);
}

static void s_start_lanes(struct cwx_run *run)
{
    run->lanes_started = 1;
    if (run->live)
        uv_timer_start(&run->tick, s_on_tick, 250, 250);
    else if (run->json_progress)
        uv_timer_start(&run->tick, s_on_tick, 10000, 10000);
    if (run->stopping) {
        run->lanes_open = (int)run->n_lanes;
        cwx__lanes_stop(run, 0);
        cwx__lanes_start(run);
        return;
    }
    cwx__lanes_start(run);
}

static void s_on_resolved(int status, void *ud)
{
    struct cwx_run *run = ud;
    if (status) {
        CWX_LOGE("resolving the log groups failed: %s", cwx_strerror(status));
        run->exit_code = status == CWX_ETOOBIG ? CWX_EXIT_USAGE : CWX_EXIT_FAILED;
        s_finish(run);
        return;
    }
    if (run->stopping) {
        s_finish(run);
        return;
    }
    int pages = run->opts->completed_pages > 0 ? run->opts->completed_pages : 4;
    int rc = cwx_reconcile(run->session, run->plan, run->resolved.account_error, pages,
                           &run->rec, s_on_reconciled, run);
    if (rc) {
        CWX_LOGE("reading the state in AWS failed: %s", cwx_strerror(rc));
        run->exit_code = CWX_EXIT_FAILED;
        s_finish(run);
    }
}

/* ---- shutdown ------------------------------------------------------------ */

static void s_closed(uv_handle_t *h)
{
    (void)h;
}

static void s_shutdown(struct cwx_run *run)
{
    uv_close((uv_handle_t *)&run->sigint, s_closed);
    uv_close((uv_handle_t *)&run->sigterm, s_closed);
    uv_close((uv_handle_t *)&run->sighup, s_closed);
    uv_close((uv_handle_t *)&run->tick, s_closed);
    cwx__lanes_close(run);
    if (run->wa) {
        cwx_worker_aws_free(run->wa);
        run->wa = NULL;
    }
    if (run->session) {
        cwx_session_free(run->session);
        run->session = NULL;
    }
}

static void s_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The run's progress output: live lines on a terminal, else JSON lines. */
static void s_progress_mode(struct cwx_run *run, enum cwx_progress_mode progress)
{
    switch (progress) {
    case CWX_PROGRESS_LIVE: run->live = 1; break;
    case CWX_PROGRESS_JSON: run->json_progress = 1; break;
    case CWX_PROGRESS_NONE: break;
    default:
        if (isatty(STDERR_FILENO) && cwx_log_get_format() == CWX_LOG_TEXT)
            run->live = 1;
        else
            run->json_progress = 1;
    }
}

/* Opens --events (appended). Returns 0 or CWX_EIO. */
static int s_open_events(struct cwx_run *run, const struct cwx_run_options *opts)
{
    if (!opts->events_path)
        return 0;
    int fd = open(opts->events_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  opts->private_outputs ? 0600 : 0644);
    run->events = fd < 0 ? NULL : fdopen(fd, "a");
    if (fd >= 0 && !run->events)
        close(fd);
    if (!run->events) {
        CWX_LOGE("cannot open %s for the events", opts->events_path);
        return CWX_EIO;
    }
    return 0;
}

/* The plan, the session, the operations of the lanes and workers, the
 * signals. Returns 0, or the exit code when the run cannot start. */
static int s_prepare(struct cwx_run *run)
{
    char why[512] = "";
    int rc = cwx_plan_new(run->cfg, run->opts->now_ms ? run->opts->now_ms : run->started_ms,
                          &run->plan, why, sizeof(why));
    if (rc) {
        CWX_LOGE("cannot plan: %s", why[0] ? why : cwx_strerror(rc));
        return CWX_EXIT_USAGE;
    }
    rc = cwx_session_new(&run->loop, run->cfg, run->plan, &run->session, why, sizeof(why));
    if (rc) {
        CWX_LOGE("%s", why[0] ? why : cwx_strerror(rc));
        return s_exit_for_error(rc);
    }
    rc = cwx_worker_aws_new(&run->loop, cwx__lane_client, cwx__lane_poll_delay, run, &run->wa);
    if (rc)
        return CWX_EXIT_FAILED; /* the session is freed by the caller */
    run->lane_ops = cwx__lane_aws_ops();
    run->lane_ctx = run;
    run->worker_ops = cwx_worker_aws_ops();
    run->worker_ctx = run->wa;
    run->lane_over = s_lane_over;
    uv_signal_init(&run->loop, &run->sigint);
    uv_signal_init(&run->loop, &run->sigterm);
    uv_signal_init(&run->loop, &run->sighup); /* a closed terminal: as SIGTERM */
    run->sigint.data = run->sigterm.data = run->sighup.data = run;
    uv_signal_start(&run->sigint, s_on_signal, SIGINT);
    uv_signal_start(&run->sigterm, s_on_signal, SIGTERM);
    uv_signal_start(&run->sighup, s_on_signal, SIGHUP);
    uv_timer_init(&run->loop, &run->tick);
    run->tick.data = run;
    return 0;
}

/* Closes the loop, closing any handle left open rather than leak it. */
static void s_close_loop(struct cwx_run *run)
{
    uv_run(&run->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&run->loop) != 0) {
        uv_walk(&run->loop, s_walk_close, NULL);
        uv_run(&run->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&run->loop) != 0)
            CWX_LOGW("the event loop did not close cleanly");
    }
}

int cwx_run(const struct cwx_run_options *opts)
{
    struct cwx_run *run = calloc(1, sizeof(*run));
    if (!run) {
        CWX_LOGE("out of memory");
        return CWX_EXIT_FAILED;
    }
    run->opts = opts;
    run->cfg = opts->cfg;
    run->started_ms = cwx__now_ms();
    s_runner_identity(run);
    if (uv_loop_init(&run->loop)) {
        free(run);
        return CWX_EXIT_FAILED;
    }
    s_progress_mode(run, opts->progress);
    if (s_open_events(run, opts)) {
        uv_loop_close(&run->loop);
        free(run);
        return CWX_EXIT_USAGE;
    }
    int code = s_prepare(run);
    if (code == 0) {
        int rc = cwx_resolve(run->session, run->plan, &run->resolved, s_on_resolved, run);
        if (rc) {
            CWX_LOGE("cannot start: %s", cwx_strerror(rc));
            run->exit_code = CWX_EXIT_FAILED;
            s_finish(run);
        }
        uv_run(&run->loop, UV_RUN_DEFAULT);
        code = run->exit_code;
    }
    if (run->session) { /* failed before the loop ran */
        cwx_session_free(run->session);
        run->session = NULL;
    }
    if (run->wa) { /* s_shutdown frees it once the loop ran */
        cwx_worker_aws_free(run->wa);
        run->wa = NULL;
    }
    s_close_loop(run);
    if (run->events)
        fclose(run->events);
    cwx__lanes_free(run);
    cwx_resolve_result_free(&run->resolved);
    cwx_reconcile_result_free(&run->rec);
    cwx_plan_free(run->plan);
    CWX_FREE_ALL(run->failures, run);
    return code;
}
