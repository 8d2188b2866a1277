/* The orchestrator: owns the libuv loop and drives every account lane
 * (docs/architecture.md §scheduler). Also the online parts of planning that `cwexport plan`
 * shares with `cwexport run`: the AWS session (credentials and one client per
 * account+region), the resolver (account ids, log-group selectors) and the
 * reconciliation with AWS state (markers, active and completed tasks). */
#ifndef CWX_ORCHESTRATOR_ORCHESTRATOR_H
#define CWX_ORCHESTRATOR_ORCHESTRATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "common/exit.h"
#include "planner/planner.h"


/* ---- session: credentials and clients ------------------------------------ */

struct cwx_aws;
struct cwx_aws_client;
struct cwx_session;

/* Creates the AWS context on loop, a credentials provider per account
 * (profile, or role_arn + external_id, else the default chain) and a client
 * per plan target (account × region) rate-limited at the account's
 * api_rate. cfg and plan are borrowed and must outlive the session.
 * Returns 0 or CWX_E*; *why says why on failure. */
/* The profile whose shared-config settings (endpoints, retries, CA bundle)
 * apply to the whole process: the one every account names, when they all
 * name the same (--profile, or a one-profile config); else NULL (AWS_PROFILE
 * or "default"). Borrowed from cfg. */
const char *cwx_session_profile(const struct cwx_config *cfg);
int cwx_session_new(uv_loop_t *loop, const struct cwx_config *cfg,
                    const struct cwx_plan *plan, struct cwx_session **out, char *why,
                    size_t why_size);
/* Frees every client and provider and the context. Run the loop afterwards
 * until it is empty to finish closing the transport. */
void cwx_session_free(struct cwx_session *s);
struct cwx_aws *cwx_session_aws(struct cwx_session *s);
struct cwx_aws_client *cwx_session_client(struct cwx_session *s, uint32_t target);
/* A client for SNS in the topic's region with the default credentials
 * (made on first use; NULL when it cannot be made). */
struct cwx_aws_client *cwx_session_sns_client(struct cwx_session *s, const char *topic_arn);
/* API calls made through every client so far. */
uint64_t cwx_session_api_calls(const struct cwx_session *s);
/* After a call of a phase before the lanes (resolve, reconcile) failed with
 * status: 1 when it failed transiently and is to be made again — fn(ud)
 * runs on the session's loop after the wait of failure *tries (counted
 * here) under the account settings st, and the wait is logged for `who`
 * ("account prod"); 0 when the caller gives up (not transient, stopping,
 * or CWX_PATIENCE_TRIES failures). Once the session is stopping, pending
 * waits run fn at once: fn checks cwx_session_stopping and gives up. Every
 * wait must have run before the session is freed. */
struct cwx_aws_error;
int cwx_session_retry_later(struct cwx_session *s, const struct cwx_settings *st, int *tries,
                            int status, const struct cwx_aws_error *err, const char *who,
                            const char *what, void (*fn)(void *ud), void *ud);
/* Waits started so far: calls of the phases made again after a transient
 * failure. */
uint64_t cwx_session_waits(const struct cwx_session *s);
/* From now on no call is retried later: pending waits run at once. */
void cwx_session_stop(struct cwx_session *s);
int cwx_session_stopping(const struct cwx_session *s);

/* Counters of what the session's calls met, for the run summary. */
struct cwx_session_stats {
    uint64_t calls;        /* logical API calls */
    uint64_t retries;      /* attempts made again (throttled, 5xx, no answer,
                              expired credentials, clock skew) */
    uint64_t throttles;    /* answers that said "slow down" */
    uint64_t cred_fetches; /* credentials fetched from their source */
    uint64_t cred_failures;/* fetches that failed (after their own retries) */
};
/* Adds the counters of target's client (account × region) to *out. */
void cwx_session_target_stats(const struct cwx_session *s, uint32_t target,
                              struct cwx_session_stats *out);
/* Adds the counters of account's credentials provider to *out. */
void cwx_session_account_stats(const struct cwx_session *s, uint32_t account,
                               struct cwx_session_stats *out);

/* ---- the online plan ------------------------------------------------------ */

/* The online plan (`cwexport plan` without --offline, `cwexport sfn`): on
 * its own loop and session, resolves the groups of plan (new, not
 * expanded), reconciles it with S3 and the export tasks, lists the data
 * roots of groups with detect: objects, and samples markers and each
 * lane's time model for the estimates. Returns an exit code (enum cwx_exit);
 * problems of one account are written to msgs and make it
 * CWX_EXIT_CREDENTIALS (the others' jobs are still planned). Messages start
 * with "cwexport plan:"; verbosity > 0 adds the count of AWS calls. */
int cwx_plan_online(struct cwx_plan *plan, const struct cwx_config *cfg, int verbosity,
                    FILE *msgs);

/* ---- resolver ------------------------------------------------------------ */

/* What the resolver learned besides what it put in the plan. */
struct cwx_resolve_result {
    /* Per account (cfg->n_accounts): 0, or the CWX_E* error that stopped
     * the account (credentials, permissions) with its explanation. */
    int *account_error;
    char **account_detail;
    size_t n_accounts;
    /* Per plan group (plan->n_groups): 1 when the group was named in the
     * config but does not exist. Its jobs are failed with a reason. */
    unsigned char *group_missing;
    size_t n_groups;
    uint64_t api_calls;
};
void cwx_resolve_result_free(struct cwx_resolve_result *r);

typedef void cwx_resolve_done_fn(int status, void *ud);

/* Resolves what the plan needs online, then expands it (cwx_plan_expand):
 * account ids with sts:GetCallerIdentity where the config has none; named
 * groups by logGroupIdentifiers (creation, retention, storedBytes); prefix
 * selectors with paged DescribeLogGroups; pattern selectors likewise, then
 * their details by logGroupIdentifiers in batches of 50. An account whose
 * calls fail is recorded in res and skipped (its targets get no groups).
 * Groups are added in config order (target, then selector, then name).
 * Returns 0 and cb runs exactly once, later; or CWX_E*. plan and res are
 * borrowed until cb. */
int cwx_resolve(struct cwx_session *s, struct cwx_plan *plan, struct cwx_resolve_result *res,
                cwx_resolve_done_fn *cb, void *ud);

/* ---- reconciliation ------------------------------------------------------ */

/* A task found in AWS that belongs to a job of the plan. */
struct cwx_known_task {
    uint32_t job;
    char task_id[64];
    int completed;          /* 1: COMPLETED (marker missing); 0: active */
    int64_t creation_ms;
    int64_t completion_ms;
};

/* A task found active that is not ours (or not this plan's). */
struct cwx_foreign_task {
    uint32_t target;
    char task_id[64];
    char task_name[128];
    char log_group[256];
    char status[24];
    int64_t creation_ms;
};

struct cwx_reconcile_result {
    struct cwx_known_task *tasks; /* ours, active or completed */
    size_t n_tasks;
    struct cwx_foreign_task *foreign; /* active, not ours */
    size_t n_foreign;
    /* Per account: 0 or the error that stopped it (with detail). */
    int *account_error;
    char **account_detail;
    size_t n_accounts;
    uint64_t markers;   /* markers read */
    uint64_t no_events; /* windows skipped for having no events */
    uint64_t stream_pages; /* DescribeLogStreams pages read */
    uint64_t api_calls;
};
void cwx_reconcile_result_free(struct cwx_reconcile_result *r);

/* Reads each target's marker index with one paginated ListObjectsV2 of
 * `<state_prefix>/<account_id>/<region>/` and marks those jobs done
 * (CWX_REASON_MARKER); with skip_empty: streams, reads each group's log
 * streams (DescribeLogStreams by last event time, newest first, until the
 * streams end before the group's earliest pending window) and skips the
 * pending windows without events (CWX_REASON_NO_EVENTS); merges pending
 * windows into ranges where coalesce says so; lists the PENDING and RUNNING tasks of each target
 * (running jobs: CWX_REASON_TASK_ACTIVE) and its recent COMPLETED tasks
 * (at most completed_pages pages of 50; CWX_REASON_TASK_COMPLETED). Accounts
 * flagged in skip_account (may be NULL) are left alone. Returns 0 and cb
 * runs exactly once, later; or CWX_E*. */
int cwx_reconcile(struct cwx_session *s, struct cwx_plan *plan, const int *skip_account,
                  int completed_pages, struct cwx_reconcile_result *res,
                  cwx_resolve_done_fn *cb, void *ud);

/* ---- bytes per window from CloudWatch (plan_metrics.c) ---------------------- */

/* Reads the daily Sum of AWS/Logs IncomingBytes (cloudwatch:GetMetricData,
 * up to 500 groups a call, paged) of every plan group that has a pending
 * window inside the 455 days CloudWatch keeps them, through each target's
 * client, into the plan (cwx_ingest_*, planner/estimate.h), then calibrates
 * it; reports read after this estimate those windows from the metrics. A
 * call that fails (AccessDenied, throttled past its retries, …) leaves its
 * groups to storedBytes with one warning for the whole plan. Call after the
 * lane models are read (they calibrate). Returns 0 and cb runs exactly
 * once, later, with 0 (or CWX_ENOMEM); or CWX_ENOTFOUND (no group wants
 * metrics) or another CWX_E*, and cb never runs. */
int cwx_plan_read_metrics(struct cwx_session *s, struct cwx_plan *plan,
                          cwx_resolve_done_fn *cb, void *ud);

/* ---- run, status, cancel -------------------------------------------------- */

enum cwx_progress_mode {
    CWX_PROGRESS_AUTO = 0, /* live on a terminal, else JSON lines */
    CWX_PROGRESS_LIVE,
    CWX_PROGRESS_JSON,
    CWX_PROGRESS_NONE,
};

struct cwx_run_options {
    const struct cwx_config *cfg; /* borrowed */
    const char *summary_path;     /* --summary FILE, or NULL */
    const char *events_path;      /* --events FILE, or NULL */
    const char *metrics_path;     /* --metrics FILE (Prometheus text), or NULL */
    bool cancel_on_exit;          /* first signal cancels the active tasks */
    enum cwx_progress_mode progress;
    int64_t now_ms;               /* plan time; 0 = now */
    int completed_pages;          /* COMPLETED tasks read per target; 0 = 4 */
    bool private_outputs;         /* summary and events mode 0600, not 0644 */
};

/* Runs the whole export and returns the exit code (enum cwx_exit). Installs
 * SIGINT/SIGTERM handlers on its own loop for the duration. */
int cwx_run(const struct cwx_run_options *opts);

/* Prints the active export tasks of every lane (ours or foreign) to out as
 * a table, or JSON when json is set. Returns an exit code. */
int cwx_status(const struct cwx_config *cfg, FILE *out, bool json);

/* Cancels the active tasks of the config's targets that belong to the
 * config's jobs: their names are among the task names of the plan, once the
 * log groups are resolved. With all, every task whose name has the shape of
 * cwexport's (cwx_task_name_is_ours) is cancelled, also other configs'.
 * Foreign tasks are listed, never touched. dry_run only lists. Output as
 * for cwx_status. Returns an exit code. */
int cwx_cancel(const struct cwx_config *cfg, FILE *out, bool json, bool dry_run, bool all);

/* ---- Step Functions: the plan as a state machine --------------------------- */

/* What cwx_sfn_write wrote for one account. Borrowed from the plan. */
struct cwx_sfn_account {
    const char *account;    /* the config's name: the folder under dir */
    const char *account_id;
    const char *region;
    size_t jobs;            /* pending windows in input.json */
    size_t pending;         /* pending windows of the account (>= jobs) */
    size_t input_bytes;     /* size of input.json */
};
typedef void cwx_sfn_account_fn(const struct cwx_sfn_account *info, void *ud);

/* Checks that every account of cfg can be run by a state machine: one
 * region each (AWS SDK integrations reach their own region only) and a
 * name usable as a folder. Returns 0 or CWX_EINVAL with *why saying what
 * is not supported. Makes no AWS call. */
int cwx_sfn_check_config(const struct cwx_config *cfg, char *why, size_t why_size);

/* Writes, for every account of plan, dir/<account>/state-machine.asl.json
 * (JSONPath ASL with aws-sdk: integrations only), input.json (the
 * account's pending jobs, oldest window first, at most max_windows of them
 * when max_windows > 0), execution-role-policy.json
 * and template.yaml (docs/step-functions.md). The plan must be expanded;
 * its pending jobs are the ones emitted. on_account (may be NULL) is
 * called after each account's files are written. Returns 0; CWX_EINVAL
 * when the config cannot be expressed (no account id, several regions),
 * CWX_ETOOBIG when an account's input is over Step Functions' 256 KiB,
 * CWX_EIO when a file cannot be written; *why says which and why. */
int cwx_sfn_write(const struct cwx_plan *plan, const char *dir, size_t max_windows,
                  cwx_sfn_account_fn *on_account, void *ud, char *why, size_t why_size);

#endif
