/* The online plan (`cwexport plan` without --offline, `cwexport sfn`):
 * resolves the plan's groups, reconciles it with S3 and the export tasks,
 * lists the data roots of groups with detect: objects, and samples markers
 * and each lane's time model for the estimates. */
#include "orchestrator/orchestrator.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "aws/aws.h"
#include "common/error.h"
#include "planner/planner.h"

/* Markers read per target to learn the lane's export throughput. */
#define CWX_PLAN_RATE_SAMPLES 16
/* Pages of recent COMPLETED tasks read per target (50 tasks a page). */
#define CWX_PLAN_COMPLETED_PAGES 4

/* ---- the online plan ------------------------------------------------------ */

struct s_online {
    uv_loop_t loop;
    FILE *msgs;        /* where warnings and errors are written */
    struct cwx_session *session;
    struct cwx_plan *plan;
    int status;        /* of the last resolve/reconcile step */
    int outstanding;   /* marker reads or data-root listings in flight */
    uint64_t marker_reads;
    /* detect: objects — one listing per group's data root. */
    const int *skip_account; /* per account: 1 when it failed earlier */
    uint32_t next_group;     /* the next group to consider */
    uint64_t object_listings, object_pages;
    int object_error;        /* the first listing's failure, or 0 */
    char object_detail[400];
};

static void s_step_done(int status, void *ud)
{
    struct s_online *o = ud;
    o->status = status;
}

struct s_sample {
    struct s_online *o;
    uint32_t target;
};

static int64_t s_json_i64(const cJSON *doc, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* One marker read: its bytes and its task's duration feed the estimate. */
static void s_on_marker(int status, const struct cwx_s3_get_object_result *res,
                        const struct cwx_aws_error *err, void *ud)
{
    (void)err;
    struct s_sample *sm = ud;
    sm->o->outstanding--;
    if (status == 0 && res) {
        cJSON *doc = cJSON_ParseWithLength(res->body.ptr, res->body.len);
        if (doc) {
            int64_t bytes = s_json_i64(doc, "bytes");
            int64_t t0 = s_json_i64(doc, "task_creation_time");
            int64_t t1 = s_json_i64(doc, "task_completion_time");
            if (bytes >= 0 && t0 > 0 && t1 > t0)
                cwx_estimate_observe(sm->o->plan, sm->target, bytes, t1 - t0);
            cJSON_Delete(doc);
        }
    }
    free(sm);
}

/* One target's remembered lane model (planner/lane_model.h): what the run
 * will poll with, so the plan's estimates follow it. */
struct s_model_read {
    struct s_online *o;
    uint32_t target;
    char where[1200];
};

static void s_on_model(int status, const struct cwx_s3_get_object_result *res,
                       const struct cwx_aws_error *err, void *ud)
{
    (void)err;
    struct s_model_read *mr = ud;
    struct s_online *o = mr->o;
    o->outstanding--;
    char why[200] = "";
    if (status == 0 && res) {
        struct cwx_lane_model m;
        if (cwx_lane_model_parse(res->body.ptr, res->body.len, &m, why, sizeof(why)) == 0) {
            struct cwx_plan_target *tg = &o->plan->targets[mr->target];
            if (!tg->model)
                tg->model = malloc(sizeof(*tg->model));
            if (tg->model)
                *tg->model = m;
        }
    } else if (status == CWX_ETOOBIG) {
        snprintf(why, sizeof(why), "larger than %d bytes", CWX_LANE_MODEL_MAX_BYTES);
    }
    if (why[0])
        fprintf(o->msgs, "cwexport plan: warning: ignoring the time model %s: %s\n", mr->where,
                why);
    free(mr);
}

/* Reads the newest CWX_PLAN_RATE_SAMPLES markers of each target, and its
 * lane model. */
static void s_sample_markers(struct s_online *o)
{
    struct cwx_plan *plan = o->plan;
    struct cwx_buf key;
    cwx_buf_init(&key, 0);
    for (uint32_t t = 0; t < plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &plan->targets[t];
        struct cwx_aws_client *client = cwx_session_client(o->session, t);
        if (!client || !tg->bucket)
            continue;
        cwx_buf_reset(&key);
        struct s_model_read *mr = NULL;
        if (tg->account_id &&
            cwx_lane_model_key(plan->cfg->accounts[tg->account].settings.destination.state_prefix,
                               tg->account_id, tg->region, &key) == 0 &&
            (mr = malloc(sizeof(*mr))) != NULL) {
            *mr = (struct s_model_read){.o = o, .target = t};
            snprintf(mr->where, sizeof(mr->where), "s3://%s/%s", tg->bucket, key.ptr);
            if (cwx_s3_get_object(client, tg->bucket, key.ptr, CWX_LANE_MODEL_MAX_BYTES,
                                  s_on_model, mr)) {
                free(mr);
            } else {
                o->outstanding++;
                o->marker_reads++;
            }
        }
        int picked = 0;
        /* Newest windows first: scan each group's last jobs, round-robin
         * would be fairer but the newest jobs say most about today. */
        for (size_t j = plan->n_jobs; j-- > 0 && picked < CWX_PLAN_RATE_SAMPLES;) {
            const struct cwx_job *job = &plan->jobs[j];
            if (job->status != CWX_JOB_DONE || job->reason != CWX_REASON_MARKER ||
                plan->groups[job->group].target != t)
                continue;
            cwx_buf_reset(&key);
            if (cwx_plan_job_marker_key(plan, job, &key))
                continue;
            struct s_sample *sm = malloc(sizeof *sm);
            if (!sm)
                break;
            *sm = (struct s_sample){.o = o, .target = t};
            if (cwx_s3_get_object(client, tg->bucket, key.ptr, 64 * 1024, s_on_marker, sm)) {
                free(sm);
                continue;
            }
            o->outstanding++;
            o->marker_reads++;
            picked++;
        }
    }
    cwx_buf_free(&key);
}

/* ---- detect: objects ------------------------------------------------------- */

/* Data-root listings in flight at once (each account+region client also
 * rate-limits its calls). */
#define CWX_PLAN_OBJECT_LISTINGS 16

/* One job's expanded data prefix with "/" appended, for exact lookups. */
struct s_jprefix {
    char *prefix;
    uint32_t job;
};

/* One group's data-root listing. */
struct s_objlist {
    struct s_online *o;
    uint32_t group;
    struct s_jprefix *jp; /* sorted by prefix */
    size_t n_jp;
    char *root;
    size_t root_len;
    struct cwx_buf probe; /* scratch for lookups */
};

static int s_jprefix_cmp(const void *a, const void *b)
{
    return strcmp(((const struct s_jprefix *)a)->prefix, ((const struct s_jprefix *)b)->prefix);
}

static void s_objlist_free(struct s_objlist *l)
{
    for (size_t i = 0; i < l->n_jp; i++)
        free(l->jp[i].prefix);
    free(l->jp);
    free(l->root);
    cwx_buf_free(&l->probe);
    free(l);
}

static int s_is_write_test(const char *key)
{
    const char *base = strrchr(key, '/');
    return strcmp(base ? base + 1 : key, "aws-logs-write-test") == 0;
}

/* Marks done the pending job whose data prefix holds key, if any. A key can
 * sit several levels below its window's prefix ("<taskId>/<stream>/000000.gz"),
 * so every "/" after the root is tried. */
static int s_on_object_page(const struct cwx_s3_list_page *page, void *ud)
{
    struct s_objlist *l = ud;
    struct cwx_plan *plan = l->o->plan;
    for (size_t i = 0; i < page->n_objects; i++) {
        const char *key = page->objects[i].key;
        if (s_is_write_test(key) || strncmp(key, l->root, l->root_len) != 0)
            continue;
        for (const char *p = strchr(key + l->root_len, '/'); p; p = strchr(p + 1, '/')) {
            cwx_buf_reset(&l->probe);
            if (cwx_buf_append(&l->probe, key, (size_t)(p - key) + 1))
                return 1;
            struct s_jprefix want = {.prefix = l->probe.ptr};
            struct s_jprefix *hit = bsearch(&want, l->jp, l->n_jp, sizeof *l->jp, s_jprefix_cmp);
            if (!hit)
                continue;
            struct cwx_job *job = &plan->jobs[hit->job];
            if (job->status == CWX_JOB_PENDING) {
                job->status = CWX_JOB_DONE;
                job->reason = CWX_REASON_OBJECTS;
            }
            break;
        }
    }
    return 0;
}

static void s_objects_next(struct s_online *o);

static void s_on_objects_done(int status, int pages, int truncated,
                              const struct cwx_aws_error *err, void *ud)
{
    (void)truncated;
    struct s_objlist *l = ud;
    struct s_online *o = l->o;
    o->object_pages += (uint64_t)pages;
    if (status && !o->object_error) {
        o->object_error = status;
        if (err)
            cwx_aws_error_format(err, o->object_detail, sizeof o->object_detail);
        else
            snprintf(o->object_detail, sizeof o->object_detail, "%s", cwx_strerror(status));
    }
    o->outstanding--;
    s_objlist_free(l);
    s_objects_next(o);
}

/* Whether group g wants its data root listed: its account detects objects,
 * its account did not fail, and it has a window still pending. */
static int s_wants_objects(const struct s_online *o, uint32_t g)
{
    const struct cwx_plan *plan = o->plan;
    const struct cwx_plan_group *pg = &plan->groups[g];
    uint32_t a = plan->targets[pg->target].account;
    if (plan->cfg->accounts[a].settings.destination.detect != CWX_DETECT_OBJECTS ||
        (o->skip_account && o->skip_account[a]) || !plan->targets[pg->target].bucket)
        return 0;
    for (uint32_t j = 0; j < pg->n_jobs; j++)
        if (plan->jobs[pg->first_job + j].status == CWX_JOB_PENDING)
            return 1;
    return 0;
}

/* Builds the listing of group g: the sorted data prefixes of its pending
 * jobs and their common root (cut after its last "/"). NULL on ENOMEM or
 * when no prefix can be expanded. */
static struct s_objlist *s_objlist_new(struct s_online *o, uint32_t g)
{
    const struct cwx_plan *plan = o->plan;
    const struct cwx_plan_group *pg = &plan->groups[g];
    struct s_objlist *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->o = o;
    l->group = g;
    cwx_buf_init(&l->probe, 0);
    l->jp = calloc(pg->n_jobs ? pg->n_jobs : 1, sizeof *l->jp);
    if (!l->jp)
        goto fail;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    for (uint32_t j = 0; j < pg->n_jobs; j++) {
        const struct cwx_job *job = &plan->jobs[pg->first_job + j];
        if (job->status != CWX_JOB_PENDING)
            continue;
        cwx_buf_reset(&b);
        if (cwx_plan_job_prefix(plan, job, &b) || cwx_buf_putc(&b, '/'))
            continue;
        char *copy = strdup(b.ptr);
        if (!copy)
            break;
        l->jp[l->n_jp++] = (struct s_jprefix){.prefix = copy, .job = pg->first_job + j};
        /* The root: the common start of every prefix. */
        if (!l->root) {
            l->root = strdup(copy);
            l->root_len = l->root ? strlen(l->root) : 0;
        } else {
            size_t k = 0;
            while (k < l->root_len && l->root[k] == copy[k])
                k++;
            l->root_len = k;
        }
    }
    cwx_buf_free(&b);
    if (!l->n_jp || !l->root)
        goto fail;
    /* Cut after the last "/" so that the root names a folder. */
    while (l->root_len && l->root[l->root_len - 1] != '/')
        l->root_len--;
    l->root[l->root_len] = '\0';
    qsort(l->jp, l->n_jp, sizeof *l->jp, s_jprefix_cmp);
    return l;
fail:
    s_objlist_free(l);
    return NULL;
}

/* Starts data-root listings until CWX_PLAN_OBJECT_LISTINGS are in flight or
 * every group was considered. */
static void s_objects_next(struct s_online *o)
{
    struct cwx_plan *plan = o->plan;
    while (o->outstanding < CWX_PLAN_OBJECT_LISTINGS && o->next_group < plan->n_groups) {
        uint32_t g = o->next_group++;
        if (!s_wants_objects(o, g))
            continue;
        struct s_objlist *l = s_objlist_new(o, g);
        if (!l)
            continue;
        uint32_t t = plan->groups[g].target;
        struct cwx_s3_list_req req = {.bucket = plan->targets[t].bucket, .prefix = l->root};
        int rc = cwx_s3_list_objects_v2_all(cwx_session_client(o->session, t), &req, 0,
                                            s_on_object_page, s_on_objects_done, l);
        if (rc) {
            s_objlist_free(l);
            if (!o->object_error) {
                o->object_error = rc;
                snprintf(o->object_detail, sizeof o->object_detail, "%s", cwx_strerror(rc));
            }
            continue;
        }
        o->outstanding++;
        o->object_listings++;
    }
}

/* Starts one phase (resolve or reconcile) and runs the loop until its
 * callback has said how it ended. Returns 0 or the phase's CWX_E*. */
static int s_phase(struct s_online *o, int rc)
{
    if (rc)
        return rc;
    uv_run(&o->loop, UV_RUN_DEFAULT);
    return o->status;
}

static int s_exit_of(int rc)
{
    return cwx_err_access(rc) ? CWX_EXIT_CREDENTIALS : CWX_EXIT_FAILED;
}

/* detect: objects: after the markers and the tasks, one listing of each
 * group's data root for the windows still pending, in the accounts that
 * did not fail. Returns an exit code. */
static int s_detect_objects(struct s_online *o, const struct cwx_config *cfg,
                            const struct cwx_resolve_result *res,
                            const struct cwx_reconcile_result *rec)
{
    int *skip = calloc(cfg->n_accounts + 1, sizeof *skip);
    if (!skip)
        return CWX_EXIT_FAILED;
    for (size_t a = 0; a < cfg->n_accounts; a++)
        skip[a] = (res->account_error && res->account_error[a]) ||
                  (rec->account_error && rec->account_error[a]);
    o->skip_account = skip;
    s_objects_next(o);
    if (o->outstanding)
        uv_run(&o->loop, UV_RUN_DEFAULT);
    o->skip_account = NULL;
    free(skip);
    if (!o->object_error)
        return CWX_EXIT_OK;
    fprintf(o->msgs, "cwexport plan: cannot list the data prefixes (detect: objects): %s\n",
            o->object_detail);
    return s_exit_of(o->object_error);
}

/* Says what stopped an account and which foreign tasks a run waits for.
 * Returns CWX_EXIT_CREDENTIALS when an account failed, else exit_code. */
static int s_tell(const struct s_online *o, const struct cwx_config *cfg,
                  const struct cwx_resolve_result *res,
                  const struct cwx_reconcile_result *rec, int exit_code)
{
    const struct cwx_plan *plan = o->plan;
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        int e = a < res->n_accounts && res->account_error ? res->account_error[a] : 0;
        const char *d = e && res->account_detail ? res->account_detail[a] : NULL;
        if (!e && a < rec->n_accounts && rec->account_error && rec->account_error[a]) {
            e = rec->account_error[a];
            d = rec->account_detail ? rec->account_detail[a] : NULL;
        }
        if (!e)
            continue;
        fprintf(o->msgs, "cwexport plan: account %s: %s\n", cfg->accounts[a].name,
                d ? d : cwx_strerror(e));
        exit_code = CWX_EXIT_CREDENTIALS;
    }
    for (size_t i = 0; i < rec->n_foreign; i++)
        fprintf(o->msgs, "cwexport plan: note: foreign export task %s (%s) is %s in %s/%s: "
                         "a run waits for it\n",
                rec->foreign[i].task_id, rec->foreign[i].log_group, rec->foreign[i].status,
                cfg->accounts[plan->targets[rec->foreign[i].target].account].name,
                plan->targets[rec->foreign[i].target].region);
    return exit_code;
}

/* The steps after the session is made: resolve, reconcile, detect objects,
 * sample markers. Returns an exit code. */
static int s_steps(struct s_online *o, const struct cwx_config *cfg, int verbosity,
                   struct cwx_resolve_result *res, struct cwx_reconcile_result *rec)
{
    struct cwx_plan *plan = o->plan;
    o->status = 1;
    int rc = s_phase(o, cwx_resolve(o->session, plan, res, s_step_done, o));
    if (rc) {
        fprintf(o->msgs, "cwexport plan: cannot resolve the log groups: %s\n", cwx_strerror(rc));
        return s_exit_of(rc);
    }
    o->status = 1;
    rc = s_phase(o, cwx_reconcile(o->session, plan, res->account_error,
                                  CWX_PLAN_COMPLETED_PAGES, rec, s_step_done, o));
    if (rc) {
        fprintf(o->msgs, "cwexport plan: cannot reconcile with AWS: %s\n", cwx_strerror(rc));
        return s_exit_of(rc);
    }
    int exit_code = s_detect_objects(o, cfg, res, rec);
    if (exit_code != CWX_EXIT_OK)
        return exit_code;
    s_sample_markers(o);
    if (o->outstanding)
        uv_run(&o->loop, UV_RUN_DEFAULT);
    /* Bytes per window from CloudWatch where it keeps them (never fatal). */
    if (cwx_plan_read_metrics(o->session, plan, s_step_done, o) == 0)
        uv_run(&o->loop, UV_RUN_DEFAULT);
    exit_code = s_tell(o, cfg, res, rec, exit_code);
    if (verbosity > 0)
        fprintf(o->msgs, "cwexport plan: %" PRIu64 " AWS calls (%" PRIu64 " markers listed, "
                         "%" PRIu64 " read for throughput, %" PRIu64 " data roots listed in %"
                         PRIu64 " pages)\n",
                cwx_session_api_calls(o->session), rec->markers, o->marker_reads,
                o->object_listings, o->object_pages);
    return exit_code;
}

int cwx_plan_online(struct cwx_plan *plan, const struct cwx_config *cfg, int verbosity,
                    FILE *msgs)
{
    struct s_online o = {.plan = plan, .msgs = msgs};
    char why[512] = "";
    if (uv_loop_init(&o.loop))
        return CWX_EXIT_FAILED;
    int rc = cwx_session_new(&o.loop, cfg, plan, &o.session, why, sizeof why);
    if (rc) {
        fprintf(msgs, "cwexport plan: error: %s\n", why[0] ? why : cwx_strerror(rc));
        uv_loop_close(&o.loop);
        return s_exit_of(rc);
    }
    struct cwx_resolve_result res = {0};
    struct cwx_reconcile_result rec = {0};
    int exit_code = s_steps(&o, cfg, verbosity, &res, &rec);
    cwx_resolve_result_free(&res);
    cwx_reconcile_result_free(&rec);
    cwx_session_free(o.session);
    uv_run(&o.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&o.loop))
        fprintf(msgs, "cwexport plan: warning: the event loop did not close cleanly\n");
    return exit_code;
}
