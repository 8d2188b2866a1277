/* `cwexport sfn`: the plan's pending jobs as a Step Functions state machine
 * that runs them with AWS SDK integrations only (docs/step-functions.md).
 * The task names, data prefixes and marker keys are the planner's own; the
 * poll waits come from the scheduler's polling policy (docs/architecture.md
 * "polling"), so the machine and `cwexport run` agree on every name and
 * poll alike. */
#include "orchestrator/orchestrator.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/mem.h"
#include "orchestrator/orchestrator_internal.h"
#include "orchestrator/sfn_asl.h"
#include "orchestrator/sfn_internal.h"
#include "planner/planner.h"

#ifndef CWX_VERSION
#define CWX_VERSION "0"
#endif

/* Step Functions' limit on an execution's input (and on any state's data):
 * 256 KiB. */
#define CWX__SFN_INPUT_MAX (256 * 1024)
/* Polls planned ahead per job; the last wait repeats after them. */
#define CWX__SFN_POLLS_MAX 24

/* The lane's lease, where and for how long `cwexport run` takes it
 * (cwx_lease_location); "Lease" is null with `lease: off`. */
static int s_lease_json(const struct cwx_account *acc, const struct cwx_plan_target *tg,
                        cJSON *lane)
{
    const struct cwx_settings *st = &acc->settings;
    if (st->lease_off)
        return cJSON_AddNullToObject(lane, "Lease") ? 0 : CWX_ENOMEM;
    struct cwx_lease_s3 where = {0};
    if (cwx_lease_location(st, tg->account_id, tg->region,
                           st->token_scope == CWX_SCOPE_REGION, tg->bucket, &where))
        return CWX_EINVAL;
    cJSON *l = cJSON_AddObjectToObject(lane, "Lease");
    if (!l || !cJSON_AddStringToObject(l, "Bucket", where.bucket) ||
        !cJSON_AddStringToObject(l, "Key", where.key) ||
        !cJSON_AddNumberToObject(l, "TtlMs", (double)cwx_lease_ttl_ms(st)))
        return CWX_ENOMEM;
    return 0;
}

/* Whole seconds of ms, at least 1 (a Wait state counts in seconds). */
static int64_t s_seconds(int64_t ms)
{
    int64_t s = (ms + 999) / 1000;
    return s < 1 ? 1 : s;
}

int cwx_sfn_check_config(const struct cwx_config *cfg, char *why, size_t why_size)
{
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        const struct cwx_account *acc = &cfg->accounts[a];
        if (acc->n_regions != 1) {
            snprintf(why, why_size,
                     "account %s has %zu regions: a state machine calls CloudWatch Logs and S3 "
                     "in its own region only (AWS SDK integrations are not cross-region); "
                     "emit one region at a time with --region",
                     acc->name, acc->n_regions);
            return CWX_EINVAL;
        }
        const char *n = acc->name;
        if (!n[0] || strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
            strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
                strlen(n)) {
            snprintf(why, why_size,
                     "account name \"%s\" cannot name a folder: use letters, digits, '.', '_' "
                     "and '-'",
                     n);
            return CWX_EINVAL;
        }
    }
    return 0;
}

/* The waits before each poll of a task predicted to take predicted_ms, as
 * the scheduler's policy spaces them (seconds, rounded up): first soon,
 * then aimed at the predicted end, then backing off to poll.max. */
static int s_poll_schedule(const struct cwx_settings *st, int64_t predicted_ms, cJSON *arr)
{
    struct cwx_poll_policy p = cwx_poll_policy_of(st);
    struct cwx_poll_input in = {.predicted_ms = predicted_ms};
    int64_t age = 0;
    for (int i = 0; i < CWX__SFN_POLLS_MAX; i++) {
        in.polls = i;
        in.age_ms = age;
        uint64_t d = cwx_poll_delay(&p, &in);
        int64_t s = s_seconds((int64_t)d);
        if (!cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)s)))
            return CWX_ENOMEM;
        age += s * 1000;
        /* Past the prediction and at the longest wait: it only repeats. */
        if (d >= p.max_ms && (predicted_ms <= 0 || age > predicted_ms + predicted_ms / 10))
            break;
    }
    /* The machine repeats the last wait: equal waits at the end are one. */
    int n = cJSON_GetArraySize(arr);
    while (n >= 2 && cJSON_GetArrayItem(arr, n - 1)->valuedouble ==
                         cJSON_GetArrayItem(arr, n - 2)->valuedouble)
        cJSON_DeleteItemFromArray(arr, --n);
    return 0;
}

/* One job of the input. */
static int s_job_json(const struct cwx_plan *plan, const struct cwx_job *job,
                      const struct cwx_estimate_rate *rate, cJSON *jobs, struct cwx_buf *prefix,
                      struct cwx_buf *marker, cJSON *roots)
{
    const struct cwx_plan_group *g = cwx_plan_job_group(plan, job);
    const struct cwx_window *w = cwx_plan_job_window(plan, job);
    const struct cwx_account *acc = cwx_plan_job_account(plan, job);
    cwx_buf_reset(prefix);
    cwx_buf_reset(marker);
    int rc = cwx_plan_job_prefix(plan, job, prefix);
    if (!rc)
        rc = cwx_plan_job_marker_key(plan, job, marker);
    if (rc)
        return rc;
    struct cwx_job_identity id;
    cwx_plan_job_identity(plan, job, prefix->ptr, &id);
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddItemToArray(jobs, j))
        return CWX_ENOMEM;
    cJSON *poll = cJSON_CreateArray();
    int64_t predicted = cwx_estimate_job_ms(rate, cwx_estimate_window_bytes(plan, g, w));
    if (!cJSON_AddStringToObject(j, "LogGroup", g->name) ||
        !(id.log_stream_prefix && id.log_stream_prefix[0]
              ? cJSON_AddStringToObject(j, "LogStreamPrefix", id.log_stream_prefix)
              : cJSON_AddNullToObject(j, "LogStreamPrefix")) ||
        !cJSON_AddStringToObject(j, "Window", w->label) ||
        !cJSON_AddNumberToObject(j, "From", (double)id.from_ms) ||
        !cJSON_AddNumberToObject(j, "To", (double)id.to_ms) ||
        !cJSON_AddStringToObject(j, "Prefix", prefix->ptr) ||
        !cJSON_AddStringToObject(j, "TaskName", job->task_name) ||
        !cJSON_AddStringToObject(j, "MarkerKey", marker->ptr) || !poll ||
        !cJSON_AddItemToObject(j, "Poll", poll))
        return CWX_ENOMEM;
    rc = s_poll_schedule(&acc->settings, predicted, poll);
    if (rc)
        return rc;
    if (!cJSON_AddNumberToObject(j, "PollLast", (double)(cJSON_GetArraySize(poll) - 1)))
        return CWX_ENOMEM;
    /* The data roots the role may list: each prefix's folder. */
    char *slash = strrchr(prefix->ptr, '/');
    size_t n = slash ? (size_t)(slash - prefix->ptr) + 1 : 0;
    char root[CWX_PREFIX_MAX + 2];
    snprintf(root, sizeof root, "%.*s*", (int)n, prefix->ptr);
    cJSON *it;
    cJSON_ArrayForEach(it, roots)
        if (strcmp(it->valuestring, root) == 0)
            return 0;
    return cJSON_AddItemToArray(roots, cJSON_CreateString(root)) ? 0 : CWX_ENOMEM;
}

/* Replaces ` by " and @NAME@ by the value of NAME in vars (pairs, NULL
 * ended) in tmpl, into out. */
static int s_expand(const char *tmpl, const char *const *vars, struct cwx_buf *out)
{
    for (const char *p = tmpl; *p; p++) {
        if (*p == '`') {
            if (cwx_buf_putc(out, '"'))
                return CWX_ENOMEM;
            continue;
        }
        if (*p == '@') {
            const char *end = strchr(p + 1, '@');
            size_t len = end ? (size_t)(end - p - 1) : 0;
            const char *const *v = vars;
            for (; end && v[0]; v += 2)
                if (strlen(v[0]) == len && strncmp(v[0], p + 1, len) == 0)
                    break;
            if (!end || !v[0])
                return CWX_EINVAL; /* a token the template does not define */
            if (cwx_buf_puts(out, v[1]))
                return CWX_ENOMEM;
            p = end;
            continue;
        }
        if (cwx_buf_putc(out, *p))
            return CWX_ENOMEM;
    }
    return 0;
}

static int s_json_value(struct cwx_buf *b, const char *s)
{
    cwx_buf_reset(b);
    return cwx_buf_json_str(b, s);
}

static cJSON *s_asl(const struct cwx_account *acc, const char *account_id, const char *region)
{
    struct cwx_buf vals[5], text;
    for (int i = 0; i < 5; i++)
        cwx_buf_init(&vals[i], 0);
    cwx_buf_init(&text, 0);
    char comment[300], cap[24], attempts[24], wait[24], backoff[24], lease_wait[24];
    snprintf(comment, sizeof comment,
             "cwexport %s: export tasks of account %s (%s) in %s, one at a time per lane; "
             "see docs/step-functions.md",
             CWX_VERSION, acc->name, account_id, region);
    snprintf(cap, sizeof cap, "%d", acc->settings.max_creates_per_job > 0
                                        ? acc->settings.max_creates_per_job : 6);
    snprintf(attempts, sizeof attempts, "%d",
             acc->settings.max_attempts > 0 ? acc->settings.max_attempts : 3);
    snprintf(wait, sizeof wait, "%lld", (long long)s_seconds(acc->settings.poll_max_ms));
    snprintf(backoff, sizeof backoff, "%lld", (long long)s_seconds(acc->settings.poll_max_ms));
    snprintf(lease_wait, sizeof lease_wait, "%lld", (long long)s_seconds((int64_t)cwx_lease_ttl_ms(&acc->settings) / 2));
    cJSON *doc = NULL;
    if (s_json_value(&vals[0], comment) || s_json_value(&vals[1], CWX_VERSION) ||
        s_json_value(&vals[2], acc->name) || s_json_value(&vals[3], account_id) ||
        s_json_value(&vals[4], region))
        goto cleanup;
    const char *vars[] = {
        "COMMENT", vals[0].ptr, "VERSION", vals[1].ptr, "ACCOUNT", vals[2].ptr,
        "ACCOUNT_ID", vals[3].ptr, "REGION", vals[4].ptr, "PARTITION", cwx_region_partition(region),
        "CREATE_CAP", cap, "MAX_ATTEMPTS", attempts, "HOLDER_WAIT", wait,
        "BACKOFF", backoff, "LEASE_WAIT", lease_wait, NULL, NULL,
    };
    if (s_expand(CWX__ASL_MACHINE, vars, &text))
        goto cleanup;
    doc = cJSON_ParseWithLength(text.ptr, text.len);
cleanup:
    for (int i = 0; i < 5; i++)
        cwx_buf_free(&vals[i]);
    cwx_buf_free(&text);
    return doc;
}

static cJSON *s_statement(cJSON *stmts, const char *sid)
{
    cJSON *s = cJSON_CreateObject();
    if (!s || !cJSON_AddItemToArray(stmts, s))
        return NULL;
    if (!cJSON_AddStringToObject(s, "Sid", sid) || !cJSON_AddStringToObject(s, "Effect", "Allow"))
        return NULL;
    return s;
}

static int s_add_strings(cJSON *obj, const char *key, const char *const *v)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, key);
    if (!arr)
        return CWX_ENOMEM;
    for (; *v; v++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(*v)))
            return CWX_ENOMEM;
    return 0;
}

/* The statements on the log groups exported (their names in groups) and on
 * the export tasks. */
static int s_policy_logs(cJSON *stmts, const char *part, const char *account_id,
                         const char *region, cJSON *groups)
{
    char arn[1200];
    cJSON *s = s_statement(stmts, "CreateExportTasks");
    cJSON *res = s ? cJSON_CreateArray() : NULL;
    if (!res || !cJSON_AddStringToObject(s, "Action", "logs:CreateExportTask") ||
        !cJSON_AddItemToObject(s, "Resource", res))
        return CWX_ENOMEM;
    cJSON *g;
    cJSON_ArrayForEach(g, groups) {
        snprintf(arn, sizeof arn, "arn:%s:logs:%s:%s:log-group:%s", part, region, account_id,
                 g->valuestring);
        if (!cJSON_AddItemToArray(res, cJSON_CreateString(arn)))
            return CWX_ENOMEM;
        snprintf(arn, sizeof arn, "arn:%s:logs:%s:%s:log-group:%s:*", part, region, account_id,
                 g->valuestring);
        if (!cJSON_AddItemToArray(res, cJSON_CreateString(arn)))
            return CWX_ENOMEM;
    }
    /* DescribeExportTasks has no resource-level permission. */
    s = s_statement(stmts, "DescribeExportTasks");
    if (!s || !cJSON_AddStringToObject(s, "Action", "logs:DescribeExportTasks") ||
        !cJSON_AddStringToObject(s, "Resource", "*"))
        return CWX_ENOMEM;
    return 0;
}

/* The statements on the bucket: list the markers and the data roots (in
 * roots), write the markers. */
static int s_policy_bucket(cJSON *stmts, const struct cwx_account *acc, const char *part,
                           const char *account_id, const char *bucket, cJSON *roots)
{
    char arn[1200], state[600];
    const char *sp = acc->settings.destination.state_prefix;
    size_t spn = sp ? strlen(sp) : 0;
    while (spn && sp[spn - 1] == '/')
        spn--;
    snprintf(state, sizeof state, "%.*s%s%s/*", (int)spn, sp ? sp : "", spn ? "/" : "",
             account_id);
    cJSON *s = s_statement(stmts, "ListMarkersAndData");
    snprintf(arn, sizeof arn, "arn:%s:s3:::%s", part, bucket);
    cJSON *cond = s ? cJSON_CreateObject() : NULL;
    cJSON *like = cond ? cJSON_AddObjectToObject(cond, "StringLike") : NULL;
    cJSON *prefixes = like ? cJSON_AddArrayToObject(like, "s3:prefix") : NULL;
    if (!prefixes || !cJSON_AddStringToObject(s, "Action", "s3:ListBucket") ||
        !cJSON_AddStringToObject(s, "Resource", arn) || !cJSON_AddItemToObject(s, "Condition", cond) ||
        !cJSON_AddItemToArray(prefixes, cJSON_CreateString(state)))
        return CWX_ENOMEM;
    cJSON *r;
    cJSON_ArrayForEach(r, roots)
        if (!cJSON_AddItemToArray(prefixes, cJSON_CreateString(r->valuestring)))
            return CWX_ENOMEM;

    s = s_statement(stmts, "WriteMarkers");
    snprintf(arn, sizeof arn, "arn:%s:s3:::%s/%s", part, bucket, state);
    if (!s || !cJSON_AddStringToObject(s, "Action", "s3:PutObject") ||
        !cJSON_AddStringToObject(s, "Resource", arn))
        return CWX_ENOMEM;
    return 0;
}

/* The lane lease (in the lease bucket when lease.bucket names one):
 * written, read back and deleted (a conditional delete needs s3:GetObject). */
static int s_policy_lease(cJSON *stmts, const struct cwx_account *acc, const char *part,
                          const char *account_id, const char *region, const char *bucket)
{
    static const char *const lease[] = {"s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                                        NULL};
    char arn[1200];
    struct cwx_lease_s3 where = {0};
    if (cwx_lease_location(&acc->settings, account_id, region,
                           acc->settings.token_scope == CWX_SCOPE_REGION, bucket, &where))
        return CWX_ENOMEM;
    cJSON *s = s_statement(stmts, "LaneLease");
    snprintf(arn, sizeof arn, "arn:%s:s3:::%s/%s", part, where.bucket, where.key);
    if (!s || s_add_strings(s, "Action", lease) || !cJSON_AddStringToObject(s, "Resource", arn))
        return CWX_ENOMEM;
    return 0;
}

/* The least-privilege policy of the execution role. groups: the names of
 * the log groups exported; roots: the data roots listed. */
static cJSON *s_policy(const struct cwx_account *acc, const char *account_id, const char *region,
                       const char *bucket, cJSON *groups, cJSON *roots)
{
    /* Execution history to CloudWatch Logs: Step Functions' log delivery
     * needs these on "*". */
    static const char *const deliv[] = {
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", NULL,
    };
    const char *part = cwx_region_partition(region);
    cJSON *doc = cJSON_CreateObject();
    cJSON *stmts = doc && cJSON_AddStringToObject(doc, "Version", "2012-10-17")
                       ? cJSON_AddArrayToObject(doc, "Statement")
                       : NULL;
    int rc = stmts ? 0 : CWX_ENOMEM;
    if (!rc)
        rc = s_policy_logs(stmts, part, account_id, region, groups);
    if (!rc)
        rc = s_policy_bucket(stmts, acc, part, account_id, bucket, roots);
    if (!rc && !acc->settings.lease_off)
        rc = s_policy_lease(stmts, acc, part, account_id, region, bucket);
    cJSON *s = rc ? NULL : s_statement(stmts, "ExecutionHistoryLogs");
    if (!s || s_add_strings(s, "Action", deliv) || !cJSON_AddStringToObject(s, "Resource", "*")) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static int s_write(const char *dir, const char *name, const char *text, char *why,
                   size_t why_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(why, why_size, "cannot write %s: %s", path, strerror(errno));
        return CWX_EIO;
    }
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    if (fclose(f) != 0 || bad) {
        snprintf(why, why_size, "cannot write %s: %s", path, strerror(errno));
        return CWX_EIO;
    }
    return 0;
}

static int s_mkdir(const char *path, char *why, size_t why_size)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return 0;
    snprintf(why, why_size, "cannot create %s: %s", path, strerror(errno));
    return CWX_EIO;
}

/* Pretty JSON text with a final newline; NULL on ENOMEM. */
static char *s_print(const cJSON *doc)
{
    char *t = doc ? cJSON_Print(doc) : NULL;
    if (!t)
        return NULL;
    size_t n = strlen(t);
    char *out = realloc(t, n + 2);
    if (!out) {
        cJSON_free(t);
        return NULL;
    }
    out[n] = '\n';
    out[n + 1] = '\0';
    return out;
}

/* The pending jobs of target t, in the scheduler's order (the run's queue
 * order: oldest window first, then the group order), in a new array of *n;
 * NULL on ENOMEM. */
static uint32_t *s_pending_of(const struct cwx_plan *plan, uint32_t t, size_t *n)
{
    uint32_t *pend = calloc(plan->n_jobs ? plan->n_jobs : 1, sizeof *pend);
    *n = 0;
    if (!pend)
        return NULL;
    for (size_t j = 0; j < plan->n_jobs; j++) {
        const struct cwx_job *job = &plan->jobs[j];
        if (job->status == CWX_JOB_PENDING && plan->groups[job->group].target == t)
            pend[(*n)++] = (uint32_t)j;
    }
    cwx__queue_sort(plan, pend, *n);
    return pend;
}

/* What one account's files are made of, and the texts written. */
struct s_files {
    cJSON *asl, *policy, *input;
    cJSON *groups, *roots; /* the log group names and the prefix roots of the jobs */
    char *asl_text, *input_text, *policy_text, *policy_flow;
    struct cwx_buf tmpl;
};

static void s_files_free(struct s_files *f)
{
    cJSON_Delete(f->asl);
    cJSON_Delete(f->policy);
    cJSON_Delete(f->input);
    cJSON_Delete(f->groups);
    cJSON_Delete(f->roots);
    CWX_FREE_ALL(f->asl_text, f->input_text, f->policy_text);
    cJSON_free(f->policy_flow);
    cwx_buf_free(&f->tmpl);
}

/* Adds name to the array of strings names unless it is there already. */
static int s_add_name(cJSON *names, const char *name)
{
    cJSON *it;
    cJSON_ArrayForEach(it, names)
        if (strcmp(it->valuestring, name) == 0)
            return 0;
    return cJSON_AddItemToArray(names, cJSON_CreateString(name)) ? 0 : CWX_ENOMEM;
}

/* The execution input of target tg: one lane with the jobs pend[0..n). */
static int s_input(const struct cwx_plan *plan, const struct cwx_plan_target *tg,
                   const uint32_t *pend, size_t n, struct s_files *f, char *why,
                   size_t why_size)
{
    const struct cwx_account *acc = &plan->cfg->accounts[tg->account];
    struct cwx_estimate_rate rate;
    cwx_estimate_rate_of(plan, (uint32_t)(tg - plan->targets), &rate);
    f->input = cJSON_CreateObject();
    f->groups = cJSON_CreateArray();
    f->roots = cJSON_CreateArray();
    cJSON *lanes = f->input ? cJSON_AddArrayToObject(f->input, "Lanes") : NULL;
    cJSON *lane = cJSON_CreateObject();
    if (!lane || !lanes || !cJSON_AddItemToArray(lanes, lane)) {
        cJSON_Delete(lane); /* not in lanes: still ours */
        return CWX_ENOMEM;
    }
    if (!f->groups || !f->roots)
        return CWX_ENOMEM;
    char lane_name[64];
    int region_scope = acc->settings.token_scope == CWX_SCOPE_REGION;
    snprintf(lane_name, sizeof lane_name, "%s%s%s", tg->account_id, region_scope ? "/" : "",
             region_scope ? tg->region : "");
    cJSON *jobs;
    if (!cJSON_AddStringToObject(lane, "Lane", lane_name) ||
        !cJSON_AddStringToObject(lane, "Region", tg->region) ||
        !cJSON_AddStringToObject(lane, "Bucket", tg->bucket) ||
        s_lease_json(acc, tg, lane) || !(jobs = cJSON_AddArrayToObject(lane, "Jobs")))
        return CWX_ENOMEM;
    struct cwx_buf prefix, marker;
    cwx_buf_init(&prefix, 0);
    cwx_buf_init(&marker, 0);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct cwx_job *job = &plan->jobs[pend[i]];
        rc = s_job_json(plan, job, &rate, jobs, &prefix, &marker, f->roots);
        if (rc)
            snprintf(why, why_size, "account %s: job %s of %s: %s", acc->name,
                     cwx_plan_job_window(plan, job)->label, plan->groups[job->group].name,
                     cwx_strerror(rc));
        else
            rc = s_add_name(f->groups, plan->groups[job->group].name);
    }
    cwx_buf_free(&prefix);
    cwx_buf_free(&marker);
    return rc;
}

/* The machine, the policy and the template of target tg as text, from the
 * input made by s_input (n jobs). */
static int s_render(const struct cwx_plan *plan, const struct cwx_plan_target *tg, size_t n,
                    struct s_files *f, char *why, size_t why_size)
{
    const struct cwx_account *acc = &plan->cfg->accounts[tg->account];
    f->asl = s_asl(acc, tg->account_id, tg->region);
    f->policy = s_policy(acc, tg->account_id, tg->region, tg->bucket, f->groups, f->roots);
    f->asl_text = s_print(f->asl);
    f->input_text = s_print(f->input);
    f->policy_text = s_print(f->policy);
    f->policy_flow = f->policy ? cJSON_PrintUnformatted(f->policy) : NULL;
    if (!f->asl_text || !f->input_text || !f->policy_text || !f->policy_flow)
        return CWX_ENOMEM;
    if (strlen(f->input_text) > CWX__SFN_INPUT_MAX) {
        snprintf(why, why_size,
                 "account %s: %zu pending windows make an execution input of %zu bytes, over "
                 "Step Functions' 256 KiB: lower --max-windows",
                 acc->name, n, strlen(f->input_text));
        return CWX_ETOOBIG;
    }
    return cwx__sfn_template(acc, tg->account_id, f->asl_text, f->policy_flow, f->input_text,
                             &f->tmpl);
}

/* Writes the four files into dir/<account name>/. */
static int s_write_files(const char *dir, const char *account, const struct s_files *f,
                         char *why, size_t why_size)
{
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/%s", dir, account);
    int rc = s_mkdir(sub, why, why_size);
    if (!rc)
        rc = s_write(sub, "state-machine.asl.json", f->asl_text, why, why_size);
    if (!rc)
        rc = s_write(sub, "input.json", f->input_text, why, why_size);
    if (!rc)
        rc = s_write(sub, "execution-role-policy.json", f->policy_text, why, why_size);
    if (!rc)
        rc = s_write(sub, "template.yaml", f->tmpl.ptr, why, why_size);
    return rc;
}

/* The account's first target (its machine's region), or NULL. */
static const struct cwx_plan_target *s_first_target(const struct cwx_plan *plan, uint32_t a)
{
    for (uint32_t t = 0; t < plan->n_targets; t++)
        if (plan->targets[t].account == a)
            return &plan->targets[t];
    return NULL;
}

/* The files of one account. */
static int s_account(const struct cwx_plan *plan, uint32_t a, const char *dir,
                     size_t max_windows, struct cwx_sfn_account *info, char *why, size_t why_size)
{
    const struct cwx_account *acc = &plan->cfg->accounts[a];
    const struct cwx_plan_target *tg = s_first_target(plan, a);
    if (!tg)
        return 0;
    if (!tg->account_id || !tg->bucket) {
        snprintf(why, why_size,
                 "account %s has no account_id: give it one in the config, or plan online "
                 "(without --offline) to learn it from sts:GetCallerIdentity",
                 acc->name);
        return CWX_EINVAL;
    }
    size_t n = 0;
    uint32_t *pend = s_pending_of(plan, (uint32_t)(tg - plan->targets), &n);
    if (!pend)
        return CWX_ENOMEM;
    size_t pending = n;
    if (max_windows && n > max_windows)
        n = max_windows;
    struct s_files f = {0};
    cwx_buf_init(&f.tmpl, 0);
    int rc = s_input(plan, tg, pend, n, &f, why, why_size);
    if (!rc)
        rc = s_render(plan, tg, n, &f, why, why_size);
    if (!rc)
        rc = s_write_files(dir, acc->name, &f, why, why_size);
    if (!rc && info) {
        info->account = acc->name;
        info->account_id = tg->account_id;
        info->region = tg->region;
        info->jobs = n;
        info->pending = pending;
        info->input_bytes = strlen(f.input_text);
    }
    if (rc == CWX_ENOMEM && why && !why[0])
        snprintf(why, why_size, "out of memory");
    free(pend);
    s_files_free(&f);
    return rc;
}

int cwx_sfn_write(const struct cwx_plan *plan, const char *dir, size_t max_windows,
                  cwx_sfn_account_fn *on_account, void *ud, char *why, size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    int rc = cwx_sfn_check_config(plan->cfg, why, why_size);
    if (!rc)
        rc = s_mkdir(dir, why, why_size);
    for (uint32_t a = 0; !rc && a < plan->cfg->n_accounts; a++) {
        struct cwx_sfn_account info = {0};
        rc = s_account(plan, a, dir, max_windows, &info, why, why_size);
        if (!rc && info.account && on_account)
            on_account(&info, ud);
    }
    return rc;
}
