/* The doctor: preflight checks of a config against AWS, one pass/fail line
 * per account and destination with the fix for each failure. Changes
 * nothing in AWS but a small probe object it writes and deletes again (and,
 * with publish_test, one SNS message). */
#include "preflight/preflight.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "aws/aws.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/mem.h"
#include "orchestrator/orchestrator.h"
#include "planner/planner.h"
#include "preflight/preflight_internal.h"

static void s_set(struct cwx__check *c, enum cwx__result r, int permission, const char *fix,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void s_set(struct cwx__check *c, enum cwx__result r, int permission, const char *fix,
                  const char *fmt, ...)
{
    c->result = r;
    c->permission = permission;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    snprintf(c->fix, sizeof c->fix, "%s", fix ? fix : "");
}

/* "CODE: message (HTTP …)" of a failed call, on one line. */
static void s_err(int status, const struct cwx_aws_error *err, char *buf, size_t size)
{
    if (err && (err->code[0] || err->http_status))
        cwx_aws_error_format(err, buf, size);
    else
        snprintf(buf, size, "%s", cwx_strerror(status));
    buf[strcspn(buf, "\r\n")] = '\0';
}

/* Where the account's credentials come from, for the reader. */
static void s_cred_subject(const struct cwx_account *acc, char *buf, size_t size)
{
    if (acc->role_arn)
        snprintf(buf, size, "role %s", acc->role_arn);
    else if (acc->profile)
        snprintf(buf, size, "profile %s", acc->profile);
    else
        snprintf(buf, size, "default credential chain");
}

static struct cwx__check *s_add(struct cwx__doctor *d, uint32_t account, const char *region,
                             const char *check, uint32_t target)
{
    struct cwx__check *c = &d->checks[d->n_checks++];
    memset(c, 0, sizeof *c);
    c->account = account;
    c->region = region;
    c->check = check;
    c->target = target;
    return c;
}

/* ---- credentials ---------------------------------------------------------- */

/* One check's call in flight: its doctor, the check it answers and what it
 * checks. */
struct s_call {
    struct cwx__doctor *d;
    size_t check; /* its line in d->checks */
    union {
        uint32_t account; /* the caller identity */
        uint32_t target;  /* the bucket, the write probe */
    };
};

/* A call of d for the check at index check, about account or target i (0
 * for the SNS topic); NULL when out of memory. */
static struct s_call *s_call_new(struct cwx__doctor *d, size_t check, uint32_t i)
{
    struct s_call *call = malloc(sizeof *call);
    if (call)
        *call = (struct s_call){.d = d, .check = check, .target = i};
    return call;
}

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    struct cwx__doctor *d = call->d;
    const struct cwx_account *acc = &d->cfg->accounts[call->account];
    struct cwx__check *c = &d->checks[call->check];
    char fix[600];
    if (acc->role_arn)
        snprintf(fix, sizeof fix,
                 "the base credentials must be allowed sts:AssumeRole on %s and the role "
                 "must trust them%s; try `aws sts assume-role --role-arn %s "
                 "--role-session-name test`",
                 acc->role_arn, acc->external_id ? " with this external_id" : "", acc->role_arn);
    else if (acc->profile)
        snprintf(fix, sizeof fix,
                 "check profile [%s] in ~/.aws/credentials or ~/.aws/config; try `aws sts "
                 "get-caller-identity --profile %s`",
                 acc->profile, acc->profile);
    else
        snprintf(fix, sizeof fix,
                 "give cwexport credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                 "AWS_PROFILE, or a profile/role_arn for this account in the config");
    if (status || !res || !res->account || !res->account[0]) {
        char e[400];
        s_err(status ? status : CWX_EPARSE, err, e, sizeof e);
        s_set(c, CWX_CHECK_FAIL, 1, fix, "no caller identity: %s", e);
    } else if (acc->account_id && strcmp(acc->account_id, res->account) != 0) {
        snprintf(fix, sizeof fix,
                 "set account_id: \"%s\" for account %s, or give it the credentials of "
                 "account %s",
                 res->account, acc->name, acc->account_id);
        s_set(c, CWX_CHECK_FAIL, 1, fix, "%s is in account %s; the config says account_id %s",
              res->arn ? res->arn : "the caller", res->account, acc->account_id);
    } else {
        s_set(c, CWX_CHECK_PASS, 0, NULL, "%s (account %s)", res->arn ? res->arn : "", res->account);
        if (!acc->account_id && cwx_plan_set_account_id(d->plan, call->account, res->account))
            s_set(c, CWX_CHECK_FAIL, 0, NULL, "out of memory");
    }
    free(call);
}

/* ---- bucket --------------------------------------------------------------- */

static void s_on_head_bucket(int status, const struct cwx_s3_head_bucket_result *res,
                             const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    struct cwx__doctor *d = call->d;
    const struct cwx_plan_target *tg = &d->plan->targets[call->target];
    struct cwx__check *c = &d->checks[call->check];
    char fix[600];
    const char *where = res && res->region ? res->region : "";
    if (status == CWX_ENOTFOUND) {
        snprintf(fix, sizeof fix,
                 "create it in %s (`aws s3api create-bucket --bucket %s --region %s`), or "
                 "correct destination.bucket",
                 tg->region, tg->bucket, tg->region);
        s_set(c, CWX_CHECK_FAIL, 0, fix, "bucket %s does not exist", tg->bucket);
    } else if (status) {
        char e[400];
        s_err(status, err, e, sizeof e);
        snprintf(fix, sizeof fix,
                 "allow s3:ListBucket on arn:aws:s3:::%s to these credentials "
                 "(`cwexport bucket-policy` prints the identity policy)",
                 tg->bucket);
        s_set(c, CWX_CHECK_FAIL, cwx_err_access(status), cwx_err_access(status) ? fix : NULL,
              "HeadBucket %s failed: %s", tg->bucket, e);
    } else if (where[0] && strcmp(where, tg->region) != 0) {
        snprintf(fix, sizeof fix,
                 "use a bucket in %s: export tasks write only to a bucket of the log group's "
                 "region (a bucket template such as \"archive-{account_id}-{region}\" names "
                 "one per region)",
                 tg->region);
        s_set(c, CWX_CHECK_FAIL, 0, fix, "bucket %s is in %s, the log groups are in %s", tg->bucket,
              where, tg->region);
    } else if (res && res->access_denied) {
        snprintf(fix, sizeof fix,
                 "allow s3:ListBucket on arn:aws:s3:::%s to these credentials "
                 "(`cwexport bucket-policy` prints the identity policy)",
                 tg->bucket);
        s_set(c, CWX_CHECK_FAIL, 1, fix, "bucket %s exists%s%s but these credentials may not access it",
              tg->bucket, where[0] ? " in " : "", where);
    } else if (!where[0]) {
        s_set(c, CWX_CHECK_WARN, 0, NULL, "bucket %s exists; S3 did not say its region", tg->bucket);
    } else {
        s_set(c, CWX_CHECK_PASS, 0, NULL, "bucket %s exists in %s", tg->bucket, where);
    }
    free(call);
}

/* ---- write probe ----------------------------------------------------------- */

static void s_on_delete(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    struct cwx__doctor *d = call->d;
    struct cwx__check *c = &d->checks[call->check];
    const char *bucket = d->plan->targets[call->target].bucket;
    const char *key = d->probe_key[call->target];
    if (status) {
        char e[300], fix[600];
        s_err(status, err, e, sizeof e);
        snprintf(fix, sizeof fix,
                 "allow s3:DeleteObject on the state prefix (only doctor needs it), then "
                 "delete s3://%s/%s by hand",
                 bucket, key);
        /* A run never deletes: writable is what matters, hence a warning. */
        s_set(c, CWX_CHECK_WARN, 0, fix, "probe written, but not deleted: %s", e);
    } else {
        s_set(c, CWX_CHECK_PASS, 0, NULL, "probe s3://%s/%s written and deleted", bucket, key);
    }
    free(call);
}

static void s_on_put(int status, const struct cwx_s3_put_object_result *res,
                     const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    struct s_call *call = ud;
    struct cwx__doctor *d = call->d;
    struct cwx__check *c = &d->checks[call->check];
    const struct cwx_plan_target *tg = &d->plan->targets[call->target];
    if (status) {
        char e[300], fix[600];
        s_err(status, err, e, sizeof e);
        const char *sp = d->cfg->accounts[tg->account].settings.destination.state_prefix;
        snprintf(fix, sizeof fix,
                 "allow s3:PutObject (and s3:GetObject, s3:DeleteObject) on "
                 "arn:aws:s3:::%s/%s/* to these credentials, and check that no bucket policy "
                 "denies them (`cwexport bucket-policy`)",
                 tg->bucket, sp && sp[0] ? sp : "_cwexport");
        s_set(c, CWX_CHECK_FAIL, cwx_err_access(status), fix, "cannot write s3://%s/%s: %s",
              tg->bucket, d->probe_key[call->target], e);
        free(d->probe_key[call->target]);
        d->probe_key[call->target] = NULL;
    } else {
        s_set(c, CWX_CHECK_PASS, 0, NULL, "probe written");
    }
    free(call);
}

/* ---- log groups ------------------------------------------------------------- */

struct s_groups_call {
    struct cwx__doctor *d;
    size_t first, n;   /* the checks of this batch (named groups) or one selector */
    int selector;      /* 1: a prefix/pattern probe */
    const char *names[50];
};

static void s_on_groups(int status, const struct cwx_logs_log_groups *res,
                        const struct cwx_aws_error *err, void *ud)
{
    struct s_groups_call *call = ud;
    struct cwx__doctor *d = call->d;
    for (size_t i = call->first; i < call->first + call->n; i++) {
        struct cwx__check *c = &d->checks[i];
        if (status) {
            char e[400];
            s_err(status, err, e, sizeof e);
            int perm = cwx_err_access(status);
            s_set(c, CWX_CHECK_FAIL, perm,
                  perm ? "allow logs:DescribeLogGroups on the account's log groups "
                         "(`cwexport bucket-policy` prints the identity policy)"
                       : NULL,
                  "DescribeLogGroups failed: %s", e);
            continue;
        }
        if (call->selector) {
            if (res->n)
                s_set(c, CWX_CHECK_PASS, 0, NULL, "matches %s%s%s", res->groups[0].name,
                      res->n > 1 || res->next_token ? " and more" : "", "");
            else
                s_set(c, CWX_CHECK_WARN, 0,
                      "check the selector and the region; names are case-sensitive",
                      "matches no log group in %s", c->region);
            continue;
        }
        for (size_t k = 0; k < res->n; k++)
            if (strcmp(res->groups[k].name, c->subject) == 0) {
                c->found = 1;
                if (res->groups[k].retention_days > 0)
                    s_set(c, CWX_CHECK_PASS, 0, NULL, "exists (retention %d days)",
                          res->groups[k].retention_days);
                else
                    s_set(c, CWX_CHECK_PASS, 0, NULL, "exists");
            }
        if (!c->found) {
            char fix[600];
            snprintf(fix, sizeof fix,
                     "create it, correct the name (case-sensitive) or its region, or remove "
                     "it from log_groups; `aws logs describe-log-groups --region %s "
                     "--log-group-name-prefix %s` shows what exists",
                     c->region, c->subject);
            s_set(c, CWX_CHECK_FAIL, 0, fix, "log group %s does not exist in %s", c->subject, c->region);
        }
    }
    free(call);
}

/* ---- SNS --------------------------------------------------------------------- */

static const char *s_sns_fix(const struct cwx__doctor *d, char *buf, size_t size)
{
    snprintf(buf, size,
             "create the topic or correct notify.sns_topic_arn (its region is part of the "
             "ARN); the default credentials need sns:Publish on %s",
             d->cfg->sns_topic_arn);
    return buf;
}

static void s_on_topic(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    struct cwx__doctor *d = call->d;
    struct cwx__check *c = &d->checks[call->check];
    char e[400], fix[600];
    if (!status) {
        s_set(c, CWX_CHECK_PASS, 0, NULL, "topic exists (sns:GetTopicAttributes)");
    } else if (cwx_err_access(status) && status != CWX_ECRED && status != CWX_ETLS) {
        s_err(status, err, e, sizeof e);
        s_set(c, CWX_CHECK_WARN, 0,
              "a run needs only sns:Publish: `cwexport doctor --publish-test` sends a test "
              "message to check it",
              "not checked: sns:GetTopicAttributes refused (%s)", e);
    } else {
        s_err(status, err, e, sizeof e);
        s_set(c, CWX_CHECK_FAIL, cwx_err_access(status), s_sns_fix(d, fix, sizeof fix),
              "topic not reachable: %s", e);
    }
    free(call);
}

static void s_on_publish(int status, const struct cwx_sns_publish_result *res,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    struct cwx__doctor *d = call->d;
    struct cwx__check *c = &d->checks[call->check];
    char e[400], fix[600];
    if (!status) {
        s_set(c, CWX_CHECK_PASS, 0, NULL, "test message published (MessageId %s)",
              res && res->message_id ? res->message_id : "?");
    } else {
        s_err(status, err, e, sizeof e);
        s_set(c, CWX_CHECK_FAIL, cwx_err_access(status), s_sns_fix(d, fix, sizeof fix),
              "cannot publish: %s", e);
    }
    free(call);
}

static void s_check_sns(struct cwx__doctor *d, size_t check)
{
    struct cwx__check *c = &d->checks[check];
    const char *arn = d->cfg->sns_topic_arn;
    struct cwx_aws_client *client = cwx_session_sns_client(d->session, arn);
    char fix[600];
    if (!client) {
        s_set(c, CWX_CHECK_FAIL, 0, s_sns_fix(d, fix, sizeof fix),
              "cannot make an SNS client for %s (is it an SNS topic ARN?)", arn);
        return;
    }
    struct s_call *call = s_call_new(d, check, 0);
    if (!call) {
        s_set(c, CWX_CHECK_FAIL, 0, NULL, "out of memory");
        return;
    }
    int rc;
    if (d->publish_test) {
        char msg[256], host[128] = "";
        gethostname(host, sizeof host - 1);
        snprintf(msg, sizeof msg,
                 "cwexport doctor: test message from %s for %s; nothing to do.", host,
                 d->cfg->path ? d->cfg->path : "a config");
        struct cwx_sns_publish_req req = {.topic_arn = arn, .message = msg,
                                          .subject = "cwexport doctor test"};
        rc = cwx_sns_publish(client, &req, s_on_publish, call);
    } else {
        /* GetTopicAttributes: cheap, silent, and proves the topic exists. */
        rc = cwx_sns_check_topic(client, arn, s_on_topic, call);
    }
    if (rc) {
        free(call);
        s_set(c, CWX_CHECK_FAIL, 0, NULL, "cannot start the SNS call: %s", cwx_strerror(rc));
    }
}

/* ---- driving --------------------------------------------------------------- */

static int s_account_ok(const struct cwx__doctor *d, uint32_t account)
{
    return d->checks[d->cred_of[account]].result == CWX_CHECK_PASS;
}

static void s_start_identity(struct cwx__doctor *d)
{
    for (uint32_t a = 0; a < d->cfg->n_accounts; a++) {
        struct cwx__check *c = &d->checks[d->cred_of[a]];
        uint32_t first = UINT32_MAX;
        for (uint32_t t = 0; t < d->plan->n_targets && first == UINT32_MAX; t++)
            if (d->plan->targets[t].account == a)
                first = t;
        struct s_call *call = s_call_new(d, d->cred_of[a], a);
        if (first == UINT32_MAX || !call) {
            free(call);
            s_set(c, CWX_CHECK_FAIL, 0, NULL, "no region to ask in");
            continue;
        }
        int rc = cwx_sts_get_caller_identity(cwx_session_client(d->session, first),
                                             s_on_identity, call);
        if (rc) {
            free(call);
            s_set(c, CWX_CHECK_FAIL, 1, NULL, "cannot ask for the caller identity: %s", cwx_strerror(rc));
        }
    }
}

void cwx__doctor_start_bucket(struct cwx__doctor *d, uint32_t t)
{
    const struct cwx_plan_target *tg = &d->plan->targets[t];
    struct cwx__check *b = &d->checks[d->bucket_of[t]];
    snprintf(b->subject, sizeof b->subject, "%s", tg->bucket ? tg->bucket : "?");
    const char *sp = d->cfg->accounts[tg->account].settings.destination.state_prefix;
    snprintf(d->checks[d->write_of[t]].subject, sizeof b->subject, "s3://%s/%s/",
             tg->bucket ? tg->bucket : "?", sp && sp[0] ? sp : "_cwexport");
    if (!tg->bucket) {
        /* Not out of memory: the name is a template of an account id that
         * is not known. */
        s_set(b, CWX_CHECK_FAIL, 0, "set account_id in the config, or allow sts:GetCallerIdentity",
              "no bucket name: destination.bucket needs the account id, which is not known");
        return;
    }
    struct s_call *call = s_call_new(d, d->bucket_of[t], t);
    int rc = call ? 0 : CWX_ENOMEM;
    if (!rc)
        rc = cwx_s3_head_bucket(cwx_session_client(d->session, t), tg->bucket, s_on_head_bucket,
                                call);
    if (rc) {
        free(call);
        s_set(b, CWX_CHECK_FAIL, 0, NULL, "cannot check the bucket: %s", cwx_strerror(rc));
    }
}

/* Fills call (and req) with the run of named log-group checks that starts at
 * *i: up to 50 consecutive checks of one target. */
static void s_named_batch(struct cwx__doctor *d, size_t *i, struct s_groups_call *call,
                          struct cwx_logs_describe_log_groups_req *req)
{
    uint32_t target = d->checks[*i].target;
    while (*i < d->n_checks && call->n < 50 && d->checks[*i].result == CWX_CHECK_WAIT &&
           d->checks[*i].target == target && strcmp(d->checks[*i].check, "log group") == 0) {
        call->names[call->n++] = d->checks[*i].subject;
        (*i)++;
    }
    req->identifiers = call->names;
    req->n_identifiers = call->n;
}

/* Fills call (and req) with the selector check c: one page of its prefix or
 * pattern. */
static void s_selector(struct cwx__doctor *d, const struct cwx__check *c,
                       struct s_groups_call *call, struct cwx_logs_describe_log_groups_req *req)
{
    const struct cwx_account *acc = &d->cfg->accounts[c->account];
    const struct cwx_group_sel *gs = NULL;
    for (size_t s = 0; s < acc->n_groups && !gs; s++)
        if (acc->groups[s].kind != CWX_GROUP_NAME &&
            strcmp(strchr(c->subject, ' ') + 1, acc->groups[s].value) == 0)
            gs = &acc->groups[s];
    call->n = 1;
    call->selector = 1;
    req->prefix = gs && gs->kind == CWX_GROUP_PREFIX ? gs->value : NULL;
    req->pattern = gs && gs->kind == CWX_GROUP_PATTERN ? gs->value : NULL;
    req->limit = 5;
}

/* Named groups in batches of 50 (runs of consecutive checks of a target),
 * selectors one page each. */
static void s_start_groups(struct cwx__doctor *d)
{
    for (size_t i = 0; i < d->n_checks;) {
        struct cwx__check *c = &d->checks[i];
        int named = strcmp(c->check, "log group") == 0;
        if (c->result != CWX_CHECK_WAIT || (!named && strcmp(c->check, "selector") != 0)) {
            i++;
            continue;
        }
        struct s_groups_call *call = calloc(1, sizeof *call);
        if (!call) {
            s_set(c, CWX_CHECK_FAIL, 0, NULL, "out of memory");
            i++;
            continue;
        }
        call->d = d;
        call->first = i;
        struct cwx_logs_describe_log_groups_req req = {0};
        if (named) {
            s_named_batch(d, &i, call, &req);
        } else {
            s_selector(d, c, call, &req);
            i++;
        }
        int rc = cwx_logs_describe_log_groups(cwx_session_client(d->session, c->target), &req,
                                              s_on_groups, call);
        if (rc) {
            for (size_t k = call->first; k < call->first + call->n; k++)
                s_set(&d->checks[k], CWX_CHECK_FAIL, 0, NULL, "cannot start DescribeLogGroups: %s",
                      cwx_strerror(rc));
            free(call);
        }
    }
}

/* Buckets, log groups and selectors of every target whose account has
 * credentials; the others' checks are "not checked". */
static void s_start_targets(struct cwx__doctor *d)
{
    for (size_t i = 0; i < d->n_checks; i++) {
        struct cwx__check *c = &d->checks[i];
        if (c->result == CWX_CHECK_WAIT && c->region && !s_account_ok(d, c->account))
            s_set(c, CWX_CHECK_SKIP, 0, NULL, "no credentials");
    }
    for (uint32_t t = 0; t < d->plan->n_targets; t++)
        if (s_account_ok(d, d->plan->targets[t].account))
            cwx__doctor_start_bucket(d, t);
    s_start_groups(d);
    if (d->cfg->sns_topic_arn)
        s_check_sns(d, d->n_checks - 1);
}

static void s_start_probes(struct cwx__doctor *d, int phase)
{
    for (uint32_t t = 0; t < d->plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &d->plan->targets[t];
        struct cwx__check *w = &d->checks[d->write_of[t]];
        struct cwx__check *b = &d->checks[d->bucket_of[t]];
        if (phase == 0) {
            if (w->result != CWX_CHECK_WAIT)
                continue;
            if (b->result != CWX_CHECK_PASS && b->result != CWX_CHECK_WARN) {
                s_set(w, CWX_CHECK_SKIP, 0, NULL, "the bucket check failed");
                continue;
            }
            const char *sp = d->cfg->accounts[tg->account].settings.destination.state_prefix;
            size_t sl = sp ? strlen(sp) : 0;
            while (sl && sp[sl - 1] == '/')
                sl--;
            struct cwx_buf key;
            cwx_buf_init(&key, 0);
            int rc = cwx_buf_printf(&key, "%.*s%s%s/%s/.cwexport-doctor-probe-%ld-%lld", (int)sl,
                                    sl ? sp : "", sl ? "/" : "", tg->account_id, tg->region,
                                    (long)getpid(), (long long)time(NULL));
            struct s_call *call = rc ? NULL : s_call_new(d, d->write_of[t], t);
            if (!call) {
                cwx_buf_free(&key);
                s_set(w, CWX_CHECK_FAIL, 0, NULL, "out of memory");
                continue;
            }
            d->probe_key[t] = strdup(key.ptr);
            cwx_buf_free(&key);
            static const char body[] = "cwexport doctor probe: safe to delete\n";
            struct cwx_s3_put_object_req req = {
                .bucket = tg->bucket,
                .key = d->probe_key[t],
                .body = body,
                .body_len = sizeof body - 1,
                .content_type = "text/plain",
            };
            rc = d->probe_key[t] ? cwx_s3_put_object(cwx_session_client(d->session, t), &req,
                                                     s_on_put, call)
                                 : CWX_ENOMEM;
            if (rc) {
                free(call);
                s_set(w, CWX_CHECK_FAIL, 0, NULL, "cannot start PutObject: %s", cwx_strerror(rc));
            }
        } else if (w->result == CWX_CHECK_PASS && d->probe_key[t]) {
            struct s_call *call = s_call_new(d, d->write_of[t], t);
            int rc = call ? 0 : CWX_ENOMEM;
            if (!rc)
                rc = cwx_s3_delete_object(cwx_session_client(d->session, t), tg->bucket,
                                          d->probe_key[t], s_on_delete, call);
            if (rc) {
                free(call);
                s_set(w, CWX_CHECK_WARN, 0, NULL, "probe written; cannot start DeleteObject: %s",
                      cwx_strerror(rc));
            }
        }
    }
}

/* Allocates the report's lines and the indexes into them; returns 0 or
 * CWX_ENOMEM. */
static int s_alloc(struct cwx__doctor *d)
{
    const struct cwx_config *cfg = d->cfg;
    size_t n_named = 0;
    for (size_t t = 0; t < d->plan->n_targets; t++)
        n_named += cfg->accounts[d->plan->targets[t].account].n_groups;
    size_t cap = cfg->n_accounts + 2 * d->plan->n_targets + n_named + 1;
    d->checks = calloc(cap, sizeof *d->checks);
    d->cred_of = calloc(cfg->n_accounts + 1, sizeof *d->cred_of);
    d->bucket_of = calloc(d->plan->n_targets + 1, sizeof *d->bucket_of);
    d->write_of = calloc(d->plan->n_targets + 1, sizeof *d->write_of);
    d->probe_key = calloc(d->plan->n_targets + 1, sizeof *d->probe_key);
    if (!d->checks || !d->cred_of || !d->bucket_of || !d->write_of || !d->probe_key)
        return CWX_ENOMEM;
    return 0;
}

/* The lines of target t of account a: the bucket, the write probe and the
 * log groups. */
static void s_add_target(struct cwx__doctor *d, uint32_t a, uint32_t t)
{
    const struct cwx_account *acc = &d->cfg->accounts[a];
    const struct cwx_plan_target *tg = &d->plan->targets[t];
    d->bucket_of[t] = d->n_checks;
    snprintf(s_add(d, a, tg->region, "bucket", t)->subject, 320, "%s",
             acc->settings.destination.bucket);
    d->write_of[t] = d->n_checks;
    const char *sp = acc->settings.destination.state_prefix;
    snprintf(s_add(d, a, tg->region, "write", t)->subject, 320, "s3://%s/%s/",
             tg->bucket ? tg->bucket : acc->settings.destination.bucket,
             sp && sp[0] ? sp : "_cwexport");
    for (size_t s = 0; s < acc->n_groups; s++) {
        const struct cwx_group_sel *gs = &acc->groups[s];
        struct cwx__check *c =
            s_add(d, a, tg->region, gs->kind == CWX_GROUP_NAME ? "log group" : "selector", t);
        if (gs->kind == CWX_GROUP_NAME)
            snprintf(c->subject, sizeof c->subject, "%s", gs->value);
        else
            snprintf(c->subject, sizeof c->subject, "%s %s",
                     gs->kind == CWX_GROUP_PREFIX ? "prefix" : "pattern", gs->value);
    }
}

/* The report's lines, in order: per account its credentials, then per
 * region the bucket, the write probe and the log groups; SNS last. */
static void s_add_checks(struct cwx__doctor *d)
{
    const struct cwx_config *cfg = d->cfg;
    for (uint32_t a = 0; a < cfg->n_accounts; a++) {
        d->cred_of[a] = d->n_checks;
        s_cred_subject(&cfg->accounts[a], s_add(d, a, NULL, "credentials", 0)->subject, 320);
        for (uint32_t t = 0; t < d->plan->n_targets; t++)
            if (d->plan->targets[t].account == a)
                s_add_target(d, a, t);
    }
    if (cfg->sns_topic_arn)
        snprintf(s_add(d, UINT32_MAX, NULL, "sns topic", 0)->subject, 320, "%s",
                 cfg->sns_topic_arn);
}

/* Runs the checks phase by phase (each phase needs the one before) and
 * returns the exit code they make. */
static int s_run_checks(struct cwx__doctor *d)
{
    s_start_identity(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    s_start_targets(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    s_start_probes(d, 0);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    s_start_probes(d, 1);
    uv_run(&d->loop, UV_RUN_DEFAULT);

    int failed = 0, permission = 0;
    for (size_t i = 0; i < d->n_checks; i++) {
        struct cwx__check *c = &d->checks[i];
        if (c->result == CWX_CHECK_WAIT)
            s_set(c, CWX_CHECK_SKIP, 0, NULL, "not checked");
        if (c->result == CWX_CHECK_FAIL) {
            failed = 1;
            permission |= c->permission;
        }
    }
    return permission ? CWX_EXIT_CREDENTIALS : failed ? CWX_EXIT_FAILED : CWX_EXIT_OK;
}

static void s_free(struct cwx__doctor *d)
{
    for (size_t t = 0; d->probe_key && t < d->plan->n_targets; t++)
        free(d->probe_key[t]);
    CWX_FREE_ALL(d->probe_key, d->write_of, d->bucket_of, d->cred_of, d->checks);
    cwx_plan_free(d->plan);
}

int cwx_preflight_doctor(const struct cwx_config *cfg, const struct cwx_doctor_opts *opts,
                         FILE *out)
{
    struct cwx__doctor d = {.cfg = cfg, .publish_test = opts->publish_test};
    char why[512] = "";
    int exit_code = CWX_EXIT_OK;
    int rc = cwx_plan_new(cfg, cwx_wall_ms() / 1000 * 1000, &d.plan, why, sizeof why);
    if (rc) {
        fprintf(stderr, "cwexport doctor: error: %s\n", why[0] ? why : cwx_strerror(rc));
        return CWX_EXIT_USAGE;
    }
    if (uv_loop_init(&d.loop)) {
        cwx_plan_free(d.plan);
        return CWX_EXIT_FAILED;
    }
    if (s_alloc(&d)) {
        exit_code = CWX_EXIT_FAILED;
        goto cleanup;
    }
    s_add_checks(&d);
    rc = cwx_session_new(&d.loop, cfg, d.plan, &d.session, why, sizeof why);
    if (rc) {
        fprintf(stderr, "cwexport doctor: error: %s\n", why[0] ? why : cwx_strerror(rc));
        exit_code = cwx_err_access(rc) ? CWX_EXIT_CREDENTIALS : CWX_EXIT_FAILED;
        goto cleanup;
    }
    exit_code = s_run_checks(&d);
    cwx__doctor_print(cfg, d.checks, d.n_checks, out, opts->json, exit_code);
cleanup:
    cwx_session_free(d.session);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop))
        fprintf(stderr, "cwexport doctor: warning: the event loop did not close cleanly\n");
    s_free(&d);
    return exit_code;
}
