/* What a run tells: the events log (JSONL of every job transition), live
 * progress on a terminal or JSON lines on stderr, the summary JSON and the
 * SNS notification. */
#include "orchestrator/orchestrator.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/grow.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"
#include "workers/workers.h"

/* ---- failures ------------------------------------------------------------ */

void cwx__report_failure(struct cwx_run *run, uint32_t job, const char *reason,
                         const char *detail)
{
    struct cwx_failure *f =
        cwx_grow(run->failures, run->n_failures, &run->cap_failures, sizeof(*f), 16);
    if (!f)
        return;
    run->failures = f;
    f = &run->failures[run->n_failures++];
    f->job = job;
    snprintf(f->reason, sizeof(f->reason), "%s", reason);
    snprintf(f->detail, sizeof(f->detail), "%s", detail ? detail : "");
    const struct cwx_plan *plan = run->plan;
    const struct cwx_job *j = &plan->jobs[job];
    CWX_LOGE("%s %s (%s/%s): failed: %s", cwx_plan_job_group(plan, j)->name,
             cwx_plan_job_window(plan, j)->label, cwx_plan_job_account(plan, j)->name,
             cwx_plan_job_target(plan, j)->region, f->detail);
}

/* ---- events -------------------------------------------------------------- */

void cwx__report_transition(struct cwx_run *run, struct cwx_lane *lane, struct cwx_worker *w,
                            int from, int to)
{
    const struct cwx_work_spec *spec = cwx_worker_spec(w);
    int final = cwx_work_state_is_final((enum cwx_work_state)to);
    if (!run->events && !(run->json_progress && (final || to == CWX_WORK_WAIT)))
        return;
    char ts[32];
    int64_t now = cwx__now_ms();
    cwx__iso(now, ts, sizeof(ts));
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int rc = cwx_buf_printf(&b, "{\"ts\":\"%s\",\"t_ms\":%lld,\"event\":\"job\",\"lane\":", ts,
                            (long long)now);
    rc = rc ? rc : cwx_buf_json_str(&b, lane->name);
    rc = rc ? rc : cwx_buf_puts(&b, ",\"account\":");
    rc = rc ? rc : cwx_buf_json_str(&b, spec->account);
    rc = rc ? rc : cwx_buf_puts(&b, ",\"account_id\":");
    rc = rc ? rc : cwx_buf_json_str(&b, spec->account_id);
    rc = rc ? rc : cwx_buf_puts(&b, ",\"region\":");
    rc = rc ? rc : cwx_buf_json_str(&b, spec->region);
    rc = rc ? rc : cwx_buf_puts(&b, ",\"log_group\":");
    rc = rc ? rc : cwx_buf_json_str(&b, spec->log_group);
    rc = rc ? rc : cwx_buf_puts(&b, ",\"window\":");
    rc = rc ? rc : cwx_buf_json_str(&b, spec->window);
    rc = rc ? rc : cwx_buf_printf(&b, ",\"job\":%u,\"task_name\":\"%s\",\"from\":\"%s\","
                                      "\"to\":\"%s\",\"task_id\":",
                                  spec->job, spec->task_name,
                                  cwx_work_state_name((enum cwx_work_state)from),
                                  cwx_work_state_name((enum cwx_work_state)to));
    rc = rc ? rc : cwx_buf_json_str(&b, cwx_worker_task_id(w));
    rc = rc ? rc : cwx_buf_printf(&b, ",\"attempts\":%d", cwx_worker_attempts(w));
    if (final) {
        rc = rc ? rc : cwx_buf_printf(&b, ",\"reason\":\"%s\",\"objects\":%llu,\"bytes\":%llu,"
                                          "\"detail\":",
                                      cwx_work_reason_name(cwx_worker_reason(w)),
                                      (unsigned long long)cwx_worker_objects(w),
                                      (unsigned long long)cwx_worker_bytes(w));
        rc = rc ? rc : cwx_buf_json_str(&b, cwx_worker_detail(w));
    }
    rc = rc ? rc : cwx_buf_puts(&b, "}\n");
    if (!rc) {
        if (run->events) {
            fputs(b.ptr, run->events);
            fflush(run->events);
        }
        if (run->json_progress && (final || to == CWX_WORK_WAIT))
            fputs(b.ptr, stderr);
    }
    cwx_buf_free(&b);
}

/* ---- progress ------------------------------------------------------------ */

static uint64_t s_lane_left(const struct cwx_lane *lane)
{
    uint64_t finished = lane->done + lane->failed + lane->skipped;
    return lane->total > finished ? lane->total - finished : 0;
}

/* Seconds left in a lane: the jobs left × the mean task duration seen. */
static int64_t s_eta_s(const struct cwx_lane *lane)
{
    uint64_t tasks = lane->exported + lane->empty;
    if (!tasks)
        return -1;
    double mean = (double)lane->task_ms / (double)tasks;
    return (int64_t)(mean * (double)s_lane_left(lane) / 1000.0);
}

static void s_lane_line(struct cwx_run *run, const struct cwx_lane *lane, struct cwx_buf *b,
                        int json)
{
    int64_t now = cwx__now_ms();
    const char *state = "idle", *task = "";
    /* The job holding the token; else one marking; else the one checked. */
    const struct cwx_worker *shown = lane->active       ? lane->active
                                     : lane->n_finishing ? lane->finishing[0]
                                                         : lane->next;
    int64_t age_s = -1, resume_s = -1;
    char resume[64] = "";
    if (lane->state == CWX_LANE_FINISHED)
        state = lane->stopped ? "stopped" : "finished";
    else if (lane->state == CWX_LANE_FOREIGN)
        state = "foreign", task = lane->foreign.task_id;
    else if (lane->state == CWX_LANE_LISTING)
        state = "slot-busy";
    else if (lane->state == CWX_LANE_PAUSED) {
        state = "paused";
        resume_s = lane->pause_until_ms > now ? (lane->pause_until_ms - now + 999) / 1000 : 0;
        snprintf(resume, sizeof(resume), "AWS unavailable: resumes in %llds",
                 (long long)resume_s);
        task = resume;
    }
    else if (shown) {
        state = cwx_work_state_name(cwx_worker_state(shown));
        task = cwx_worker_task_id(shown);
        int64_t c = cwx_worker_task_creation_ms(shown);
        if (task[0] && c > 0)
            age_s = (now - c) / 1000;
        if (task[0] && cwx_worker_state(shown) == CWX_WORK_WAIT)
            state = cwx_export_status_name(cwx_worker_task_status(shown));
    }
    uint64_t finished = lane->done + lane->failed + lane->skipped;
    int64_t eta = s_eta_s(lane);
    const char *window = shown ? cwx_worker_spec(shown)->window : "";
    const char *group = shown ? cwx_worker_spec(shown)->log_group : "";
    (void)run;
    if (json) {
        cwx_buf_printf(b, "{\"event\":\"progress\",\"lane\":");
        cwx_buf_json_str(b, lane->name);
        cwx_buf_printf(b, ",\"done\":%llu,\"total\":%llu,\"failed\":%llu,\"state\":\"%s\","
                          "\"task_id\":",
                       (unsigned long long)finished, (unsigned long long)lane->total,
                       (unsigned long long)lane->failed, state);
        cwx_buf_json_str(b, resume_s >= 0 ? "" : task);
        if (resume_s >= 0)
            cwx_buf_printf(b, ",\"resume_s\":%lld", (long long)resume_s);
        cwx_buf_puts(b, ",\"log_group\":");
        cwx_buf_json_str(b, group);
        cwx_buf_puts(b, ",\"window\":");
        cwx_buf_json_str(b, window);
        cwx_buf_printf(b, ",\"age_s\":%lld,\"eta_s\":%lld}\n", (long long)age_s, (long long)eta);
        return;
    }
    char age[24] = "", etas[32] = "";
    if (age_s >= 0)
        snprintf(age, sizeof(age), " %llds", (long long)age_s);
    if (eta >= 0 && lane->state != CWX_LANE_FINISHED)
        snprintf(etas, sizeof(etas), " eta %lldm%02llds", (long long)(eta / 60),
                 (long long)(eta % 60));
    cwx_buf_printf(b, "%-24.24s %6llu/%-6llu %-10s %-36.36s%s %s %s%s", lane->name,
                   (unsigned long long)finished, (unsigned long long)lane->total, state, task,
                   age, group, window, etas);
}

void cwx__report_progress(struct cwx_run *run, int force)
{
    int64_t now = cwx__now_ms();
    if (run->live) {
        if (!force)
            return; /* redrawn by the tick, a few times a second */
        struct cwx_buf b;
        cwx_buf_init(&b, 0);
        if (run->live_lines)
            cwx_buf_printf(&b, "\033[%dA", run->live_lines);
        int lines = 0;
        size_t shown = run->n_lanes < 30 ? run->n_lanes : 30;
        for (size_t l = 0; l < shown; l++) {
            cwx_buf_puts(&b, "\r\033[K");
            s_lane_line(run, &run->lanes[l], &b, 0);
            cwx_buf_putc(&b, '\n');
            lines++;
        }
        if (run->n_lanes > shown) {
            cwx_buf_printf(&b, "\r\033[K… and %zu more lanes\n", run->n_lanes - shown);
            lines++;
        }
        fputs(b.ptr ? b.ptr : "", stderr);
        fflush(stderr);
        run->live_lines = lines;
        cwx_buf_free(&b);
        return;
    }
    if (!run->json_progress || !force)
        return;
    if (now - run->last_json_ms < 1000)
        return;
    run->last_json_ms = now;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    for (size_t l = 0; l < run->n_lanes; l++)
        if (run->lanes[l].state != CWX_LANE_FINISHED)
            s_lane_line(run, &run->lanes[l], &b, 1);
    if (b.ptr)
        fputs(b.ptr, stderr);
    cwx_buf_free(&b);
}

void cwx__report_progress_end(struct cwx_run *run)
{
    if (run->live && run->n_lanes)
        cwx__report_progress(run, 1);
    uint64_t exported = 0, failed = 0, skipped = 0, total = 0, bytes = 0;
    for (size_t l = 0; l < run->n_lanes; l++) {
        const struct cwx_lane *lane = &run->lanes[l];
        exported += lane->exported + lane->empty;
        failed += lane->failed;
        skipped += lane->skipped;
        total += lane->total;
        bytes += lane->bytes;
    }
    CWX_LOGI("finished in %.1f s: %llu windows, %llu exported (%llu bytes), %llu skipped, "
             "%llu failed",
             (double)(run->finished_ms - run->started_ms) / 1000.0, (unsigned long long)total,
             (unsigned long long)exported, (unsigned long long)bytes, (unsigned long long)skipped,
             (unsigned long long)failed);
}

/* ---- summary ------------------------------------------------------------- */

static cJSON *s_failure_json(struct cwx_run *run, const struct cwx_failure *f)
{
    const struct cwx_plan *plan = run->plan;
    const struct cwx_job *j = &plan->jobs[f->job];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "account", cwx_plan_job_account(plan, j)->name);
    const char *id = cwx_plan_job_target(plan, j)->account_id;
    cJSON_AddStringToObject(o, "account_id", id ? id : "");
    cJSON_AddStringToObject(o, "region", cwx_plan_job_target(plan, j)->region);
    cJSON_AddStringToObject(o, "log_group", cwx_plan_job_group(plan, j)->name);
    cJSON_AddStringToObject(o, "window", cwx_plan_job_window(plan, j)->label);
    cJSON_AddStringToObject(o, "task_name", j->task_name);
    cJSON_AddStringToObject(o, "reason", f->reason);
    cJSON_AddStringToObject(o, "detail", f->detail);
    return o;
}

/* The counters of a lane in the summary, in this order; the totals add
 * them up. */
enum { S_N_COUNTS = 18 };
static const char *const s_count_names[S_N_COUNTS] = {
    "jobs",         "done",          "exported",     "empty",     "already_done", "skipped",
    "failed",       "objects",       "bytes",        "retries",   "creates",      "slot_busy",
    "adopted",      "foreign_waits", "step_retries", "api_calls", "api_retries",
    "api_throttles"};

/* The run's times, exit code and loop guard. */
static void s_summary_head(const struct cwx_run *run, cJSON *root)
{
    char ts[32];
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "cwexport_version", CWX_VERSION);
    cwx__iso(run->started_ms, ts, sizeof(ts));
    cJSON_AddStringToObject(root, "started_at", ts);
    cwx__iso(run->finished_ms, ts, sizeof(ts));
    cJSON_AddStringToObject(root, "finished_at", ts);
    cJSON_AddNumberToObject(root, "duration_s",
                            (double)(run->finished_ms - run->started_ms) / 1000.0);
    cJSON_AddNumberToObject(root, "exit_code", run->exit_code);
    cJSON_AddBoolToObject(root, "interrupted", run->signals > 0);
    if (run->nothing_msg[0])
        cJSON_AddStringToObject(root, "message", run->nothing_msg);
    cJSON *guard = cJSON_AddObjectToObject(root, "loop_guard");
    cJSON_AddBoolToObject(guard, "tripped", run->guard.tripped || run->guard.lanes_tripped);
    cJSON_AddNumberToObject(guard, "lanes_tripped", run->guard.lanes_tripped);
    cJSON_AddStringToObject(guard, "why", run->guard.why);
    cJSON_AddNumberToObject(guard, "create_calls", run->guard.run_calls);
    cJSON_AddNumberToObject(guard, "max_creates_per_run", run->guard.max_per_run);
    cJSON_AddNumberToObject(guard, "max_creates_per_job", run->guard.max_per_job);
}

/* The lane's account id into *id and its API counters into *api. */
static void s_lane_api(const struct cwx_run *run, const struct cwx_lane *lane, const char **id,
                       struct cwx_session_stats *api)
{
    *id = NULL;
    for (size_t tg = 0; tg < run->plan->n_targets; tg++) {
        if (run->plan->targets[tg].account != lane->account)
            continue;
        if (!*id)
            *id = run->plan->targets[tg].account_id;
        if (run->session && (lane->target < 0 || (size_t)lane->target == tg))
            cwx_session_target_stats(run->session, (uint32_t)tg, api);
    }
}

/* The lane's times, guard, lease and stop. */
static void s_lane_tail(const struct cwx_run *run, const struct cwx_lane *lane, cJSON *o)
{
    int64_t end = lane->finished_ms ? lane->finished_ms : run->finished_ms;
    cJSON_AddNumberToObject(o, "duration_s",
                            lane->started_ms ? (double)(end - lane->started_ms) / 1000.0 : 0);
    cJSON_AddNumberToObject(o, "task_s", (double)lane->task_ms / 1000.0);
    cJSON_AddNumberToObject(o, "gap_mean_s",
                            lane->gaps ? lane->gap_sum_ms / (double)lane->gaps / 1000.0 : 0);
    cJSON_AddNumberToObject(o, "gap_max_s", lane->gap_max_ms / 1000.0);
    cJSON_AddNumberToObject(o, "throughput_bps", cwx_lane_model_rate(&lane->model));
    cJSON_AddNumberToObject(o, "max_creates_per_run", lane->guard.max_per_run);
    cJSON_AddBoolToObject(o, "loop_guard_tripped", lane->guard.tripped);
    cJSON_AddNumberToObject(o, "pauses", (double)lane->pauses_total);
    if (lane->lease_on) {
        /* The lane lease (docs/runners.md): its S3 calls and how it went. */
        cJSON *ls = cJSON_AddObjectToObject(o, "lease");
        cJSON_AddNumberToObject(ls, "requests", (double)lane->lease.requests);
        cJSON_AddNumberToObject(ls, "acquired", (double)lane->lease.acquired);
        cJSON_AddNumberToObject(ls, "takeovers", (double)lane->lease.takeovers);
        cJSON_AddNumberToObject(ls, "renews", (double)lane->lease.renewed);
        cJSON_AddNumberToObject(ls, "lost", (double)lane->lease.lost);
        cJSON_AddNumberToObject(ls, "watched", (double)lane->lease.watched);
    }
    cJSON_AddBoolToObject(o, "stopped", lane->stopped);
    if (lane->stopped)
        cJSON_AddStringToObject(o, "stop_reason", lane->stop_reason);
}

/* One lane of the summary; its counters are added to t. */
static cJSON *s_lane_json(const struct cwx_run *run, const struct cwx_lane *lane, uint64_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "lane", lane->name);
    cJSON_AddStringToObject(o, "account", run->cfg->accounts[lane->account].name);
    const char *id;
    struct cwx_session_stats api = {0};
    s_lane_api(run, lane, &id, &api);
    cJSON_AddStringToObject(o, "account_id", id ? id : "");
    cJSON_AddStringToObject(o, "token_scope", lane->target >= 0 ? "region" : "account");
    uint64_t v[S_N_COUNTS] = {
        lane->total,   lane->done,          lane->exported,     lane->empty,
        lane->marked,  lane->skipped,       lane->failed,       lane->objects,
        lane->bytes,   lane->retries,       lane->creates,      lane->slot_busy,
        lane->adopted, lane->foreign_waits, lane->step_retries, api.calls,
        api.retries,   api.throttles};
    for (int i = 0; i < S_N_COUNTS; i++) {
        cJSON_AddNumberToObject(o, s_count_names[i], (double)v[i]);
        t[i] += v[i];
    }
    uint64_t left = lane->total - (lane->done + lane->skipped + lane->failed <= lane->total
                                       ? lane->done + lane->skipped + lane->failed
                                       : lane->total);
    cJSON_AddNumberToObject(o, "pending", (double)left);
    s_lane_tail(run, lane, o);
    return o;
}

/* Credentials per account: a refresh that failed is retried by the call
 * that needed it. Their sums go to *total. */
static void s_credentials(const struct cwx_run *run, cJSON *root,
                          struct cwx_session_stats *total)
{
    cJSON *creds = cJSON_AddArrayToObject(root, "credentials");
    for (size_t a = 0; run->session && a < run->cfg->n_accounts; a++) {
        struct cwx_session_stats cs = {0};
        cwx_session_account_stats(run->session, (uint32_t)a, &cs);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account", run->cfg->accounts[a].name);
        cJSON_AddNumberToObject(o, "fetches", (double)cs.cred_fetches);
        cJSON_AddNumberToObject(o, "failures", (double)cs.cred_failures);
        cJSON_AddItemToArray(creds, o);
        total->cred_fetches += cs.cred_fetches;
        total->cred_failures += cs.cred_failures;
    }
}

static void s_totals(const struct cwx_run *run, cJSON *root, const uint64_t *t,
                     const struct cwx_session_stats *cred_total)
{
    cJSON *tot = cJSON_AddObjectToObject(root, "totals");
    /* api_calls of the totals also counts calls made for accounts without
     * a lane (resolution, reconciliation) and SNS: every client's calls. */
    for (int i = 0; i < S_N_COUNTS; i++)
        if (strcmp(s_count_names[i], "api_calls") != 0)
            cJSON_AddNumberToObject(tot, s_count_names[i], (double)t[i]);
    cJSON_AddNumberToObject(tot, "phase_retries",
                            run->session ? (double)cwx_session_waits(run->session) : 0);
    cJSON_AddNumberToObject(tot, "credential_fetches", (double)cred_total->cred_fetches);
    cJSON_AddNumberToObject(tot, "credential_failures", (double)cred_total->cred_failures);
    struct cwx_plan_totals pt;
    cwx_plan_totals(run->plan, &pt);
    cJSON_AddNumberToObject(tot, "pending", (double)(pt.pending + pt.running));
    cJSON_AddNumberToObject(tot, "api_calls", (double)run->api_calls);
}

/* The accounts that resolution or reconciliation gave up on. */
static void s_account_errors(const struct cwx_run *run, cJSON *root)
{
    cJSON *accts = cJSON_AddArrayToObject(root, "account_errors");
    for (size_t a = 0; a < run->cfg->n_accounts; a++) {
        const char *d = NULL;
        if (run->resolved.account_error && run->resolved.account_error[a])
            d = run->resolved.account_detail[a];
        else if (run->rec.account_error && run->rec.account_error[a])
            d = run->rec.account_detail[a];
        if (!d)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "account", run->cfg->accounts[a].name);
        cJSON_AddStringToObject(o, "error", d);
        cJSON_AddItemToArray(accts, o);
    }
}

static cJSON *s_summary(struct cwx_run *run)
{
    cJSON *root = cJSON_CreateObject();
    s_summary_head(run, root);
    uint64_t t[S_N_COUNTS] = {0};
    cJSON *lanes = cJSON_AddArrayToObject(root, "lanes");
    for (size_t l = 0; l < run->n_lanes; l++)
        cJSON_AddItemToArray(lanes, s_lane_json(run, &run->lanes[l], t));
    struct cwx_session_stats cred_total = {0};
    s_credentials(run, root, &cred_total);
    s_totals(run, root, t, &cred_total);
    cJSON *fails = cJSON_AddArrayToObject(root, "failures");
    for (size_t i = 0; i < run->n_failures; i++)
        cJSON_AddItemToArray(fails, s_failure_json(run, &run->failures[i]));
    s_account_errors(run, root);
    return root;
}

int cwx__report_summary(struct cwx_run *run)
{
    if (!run->opts->summary_path)
        return 0;
    cJSON *root = s_summary(run);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return CWX_ENOMEM;
    /* Replaced whole: a crash while writing leaves the previous summary. */
    struct cwx_file_atomic a;
    int rc = cwx_file_atomic_open(&a, run->opts->summary_path,
                                  run->opts->private_outputs ? 0600 : 0644);
    if (!rc) {
        if (fputs(text, a.f) < 0 || fputc('\n', a.f) < 0) {
            cwx_file_atomic_abort(&a);
            rc = CWX_EIO;
        } else {
            rc = cwx_file_atomic_commit(&a);
        }
    }
    cJSON_free(text);
    return rc;
}

int cwx__report_metrics(struct cwx_run *run, char *why, size_t why_size)
{
    if (!run->opts->metrics_path)
        return 0;
    cJSON *root = s_summary(run);
    if (!root)
        return CWX_ENOMEM;
    int rc = cwx__metrics_write(run->opts->metrics_path, root,
                                (double)run->finished_ms / 1000.0, why, why_size);
    cJSON_Delete(root);
    return rc;
}

/* ---- SNS ----------------------------------------------------------------- */

struct s_notify {
    struct cwx_run *run;
    void (*done)(struct cwx_run *run);
};

static void s_on_published(int status, const struct cwx_sns_publish_result *res,
                           const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    struct s_notify *n = ud;
    if (status) {
        char e[320];
        CWX_LOGE("SNS Publish failed: %s", cwx__why(status, err, e, sizeof(e)));
    } else {
        CWX_LOGI("notified %s", n->run->cfg->sns_topic_arn);
    }
    struct cwx_run *run = n->run;
    void (*done)(struct cwx_run *) = n->done;
    free(n);
    done(run);
}

int cwx__report_notify(struct cwx_run *run, void (*done)(struct cwx_run *run))
{
    const struct cwx_config *cfg = run->cfg;
    if (!cfg->sns_topic_arn || run->aborting)
        return CWX_ENOTFOUND;
    const char *what = NULL;
    if (run->guard.tripped || run->guard.lanes_tripped ||
        run->exit_code == CWX_EXIT_LOOP_GUARD) {
        if (cfg->notify_on & CWX_NOTIFY_LOOP_GUARD)
            what = "loop guard tripped";
    } else if (run->exit_code == CWX_EXIT_FAILED || run->exit_code == CWX_EXIT_CREDENTIALS) {
        if (cfg->notify_on & CWX_NOTIFY_FAILURE)
            what = run->exit_code == CWX_EXIT_FAILED ? "failures" : "credential or permission error";
    } else if (run->exit_code == CWX_EXIT_OK && (cfg->notify_on & CWX_NOTIFY_DONE)) {
        what = "done";
    }
    if (!what)
        return CWX_ENOTFOUND;
    struct cwx_aws_client *c = cwx_session_sns_client(run->session, cfg->sns_topic_arn);
    if (!c) {
        CWX_LOGE("cannot make an SNS client for %s", cfg->sns_topic_arn);
        return CWX_EINVAL;
    }
    cJSON *root = s_summary(run);
    /* Keep the message well under SNS's 256 KiB: at most 100 failures. */
    cJSON *fails = cJSON_GetObjectItem(root, "failures");
    while (fails && cJSON_GetArraySize(fails) > 100)
        cJSON_DeleteItemFromArray(fails, cJSON_GetArraySize(fails) - 1);
    cJSON_AddStringToObject(root, "event", what);
    cJSON_AddStringToObject(root, "config", cfg->path ? cfg->path : "");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    struct s_notify *n = calloc(1, sizeof(*n));
    if (!text || !n) {
        cJSON_free(text);
        free(n);
        return CWX_ENOMEM;
    }
    n->run = run;
    n->done = done;
    char subject[100];
    snprintf(subject, sizeof(subject), "cwexport: %s (exit %d)", what, run->exit_code);
    struct cwx_sns_publish_req req = {
        .topic_arn = cfg->sns_topic_arn,
        .message = text,
        .subject = subject,
    };
    int rc = cwx_sns_publish(c, &req, s_on_published, n);
    cJSON_free(text);
    if (rc) {
        free(n);
        CWX_LOGE("SNS Publish could not start: %s", cwx_strerror(rc));
    }
    return rc;
}
