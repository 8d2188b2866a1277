/* cwexport doctor: preflight checks of a config against AWS, one pass/fail
 * line per account and destination with the fix for each failure. Changes
 * nothing in AWS but a small probe object it writes and deletes again
 * (and, with --publish-test, one SNS message). */
#include "cli/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/error.h"
#include "planner/planner.h"

#include <uv.h>

#include "aws/aws.h"
#include "orchestrator/orchestrator.h"

static void s_help(FILE *f)
{
    fprintf(f,
            "usage: cwexport doctor -c FILE [--publish-test] [--format table|json]\n\n"
            "Checks a config against AWS before a run and prints one line per check,\n"
            "with the fix for each failure:\n"
            "  credentials  sts:GetCallerIdentity with each account's credentials\n"
            "               (and the account id the config names, if any)\n"
            "  bucket       the destination bucket exists (s3:HeadBucket) and is in\n"
            "               the log groups' region\n"
            "  write        a small probe object put under the state prefix and\n"
            "               deleted again (s3:PutObject, s3:DeleteObject)\n"
            "  log group    each named log group exists (logs:DescribeLogGroups by\n"
            "               name); prefix and pattern selectors match something\n"
            "  sns topic    the notify topic exists (sns:GetTopicAttributes); with\n"
            "               --publish-test a test message is published instead\n\n"
            "  -c, --config FILE   the config\n"
            "      --publish-test  publish one test message to the SNS topic\n"
            "  -f, --format FMT    table (default) or json\n\n"
            "Exit codes: 0 every check passed (warnings allowed), 3 a credential or\n"
            "permission check failed, 1 any other check failed, 2 usage or config\n"
            "error.\n");
}


enum s_result { S_WAIT = 0, S_PASS, S_FAIL, S_WARN, S_SKIP };
static const char *const s_result_name[] = {"?", "pass", "FAIL", "warn", "not checked"};
static const char *const s_result_json[] = {"?", "pass", "fail", "warn", "skip"};

/* One line of the report. */
struct s_check {
    uint32_t account;
    const char *region;  /* borrowed from the config; NULL for account-wide checks */
    const char *check;   /* "credentials", "bucket", "write", "log group", "selector", "sns topic" */
    char subject[320];
    enum s_result result;
    int permission;      /* a failure of credentials or permissions (exit 3) */
    int found;           /* log group: DescribeLogGroups returned it */
    uint32_t target;
    char detail[640];
    char fix[640];
};

struct s_doctor {
    uv_loop_t loop;
    const struct cwx_config *cfg;
    struct cwx_plan *plan;
    struct cwx_session *session;
    struct s_check *checks;
    size_t n_checks;
    int publish_test;
    /* Per account: its credentials record; per target: bucket and write. */
    size_t *cred_of;          /* account → check index */
    size_t *bucket_of;        /* target → check index */
    size_t *write_of;         /* target → check index */
    char **probe_key;         /* target → key written, or NULL */
};

static void s_set(struct s_check *c, enum s_result r, int permission, const char *fix,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void s_set(struct s_check *c, enum s_result r, int permission, const char *fix,
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

static int s_is_permission(int status, const struct cwx_aws_error *err)
{
    if (cwx_err_access(status))
        return 1;
    if (!err)
        return 0;
    return strstr(err->code, "AccessDenied") || strstr(err->code, "Authorization") ||
           strstr(err->code, "UnrecognizedClient") || strstr(err->code, "InvalidClientTokenId") ||
           strstr(err->code, "ExpiredToken") || strstr(err->code, "SignatureDoesNotMatch") ||
           strstr(err->code, "InvalidAccessKeyId");
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

static struct s_check *s_add(struct s_doctor *d, uint32_t account, const char *region,
                             const char *check, uint32_t target)
{
    struct s_check *c = &d->checks[d->n_checks++];
    memset(c, 0, sizeof *c);
    c->account = account;
    c->region = region;
    c->check = check;
    c->target = target;
    return c;
}

/* ---- credentials ---------------------------------------------------------- */

struct s_ident_call {
    struct s_doctor *d;
    uint32_t account;
};

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud)
{
    struct s_ident_call *call = ud;
    struct s_doctor *d = call->d;
    const struct cwx_account *acc = &d->cfg->accounts[call->account];
    struct s_check *c = &d->checks[d->cred_of[call->account]];
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
        s_set(c, S_FAIL, 1, fix, "no caller identity: %s", e);
    } else if (acc->account_id && strcmp(acc->account_id, res->account) != 0) {
        snprintf(fix, sizeof fix,
                 "set account_id: \"%s\" for account %s, or give it the credentials of "
                 "account %s",
                 res->account, acc->name, acc->account_id);
        s_set(c, S_FAIL, 1, fix, "%s is in account %s; the config says account_id %s",
              res->arn ? res->arn : "the caller", res->account, acc->account_id);
    } else {
        s_set(c, S_PASS, 0, NULL, "%s (account %s)", res->arn ? res->arn : "", res->account);
        if (!acc->account_id && cwx_plan_set_account_id(d->plan, call->account, res->account))
            s_set(c, S_FAIL, 0, NULL, "out of memory");
    }
    free(call);
}

/* ---- bucket --------------------------------------------------------------- */

struct s_target_call {
    struct s_doctor *d;
    uint32_t target;
};

static void s_on_head_bucket(int status, const struct cwx_s3_head_bucket_result *res,
                             const struct cwx_aws_error *err, void *ud)
{
    struct s_target_call *call = ud;
    struct s_doctor *d = call->d;
    const struct cwx_plan_target *tg = &d->plan->targets[call->target];
    struct s_check *c = &d->checks[d->bucket_of[call->target]];
    char fix[600];
    const char *where = res && res->region ? res->region : "";
    if (status == CWX_ENOTFOUND) {
        snprintf(fix, sizeof fix,
                 "create it in %s (`aws s3api create-bucket --bucket %s --region %s`), or "
                 "correct destination.bucket",
                 tg->region, tg->bucket, tg->region);
        s_set(c, S_FAIL, 0, fix, "bucket %s does not exist", tg->bucket);
    } else if (status) {
        char e[400];
        s_err(status, err, e, sizeof e);
        snprintf(fix, sizeof fix,
                 "allow s3:ListBucket on arn:aws:s3:::%s to these credentials "
                 "(`cwexport bucket-policy` prints the identity policy)",
                 tg->bucket);
        s_set(c, S_FAIL, s_is_permission(status, err), s_is_permission(status, err) ? fix : NULL,
              "HeadBucket %s failed: %s", tg->bucket, e);
    } else if (where[0] && strcmp(where, tg->region) != 0) {
        snprintf(fix, sizeof fix,
                 "use a bucket in %s: export tasks write only to a bucket of the log group's "
                 "region (a bucket template such as \"archive-{account_id}-{region}\" names "
                 "one per region)",
                 tg->region);
        s_set(c, S_FAIL, 0, fix, "bucket %s is in %s, the log groups are in %s", tg->bucket,
              where, tg->region);
    } else if (res && res->access_denied) {
        snprintf(fix, sizeof fix,
                 "allow s3:ListBucket on arn:aws:s3:::%s to these credentials "
                 "(`cwexport bucket-policy` prints the identity policy)",
                 tg->bucket);
        s_set(c, S_FAIL, 1, fix, "bucket %s exists%s%s but these credentials may not access it",
              tg->bucket, where[0] ? " in " : "", where);
    } else if (!where[0]) {
        s_set(c, S_WARN, 0, NULL, "bucket %s exists; S3 did not say its region", tg->bucket);
    } else {
        s_set(c, S_PASS, 0, NULL, "bucket %s exists in %s", tg->bucket, where);
    }
    free(call);
}

/* ---- write probe ----------------------------------------------------------- */

static void s_on_delete(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_target_call *call = ud;
    struct s_doctor *d = call->d;
    struct s_check *c = &d->checks[d->write_of[call->target]];
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
        s_set(c, S_WARN, 0, fix, "probe written, but not deleted: %s", e);
    } else {
        s_set(c, S_PASS, 0, NULL, "probe s3://%s/%s written and deleted", bucket, key);
    }
    free(call);
}

static void s_on_put(int status, const struct cwx_s3_put_object_result *res,
                     const struct cwx_aws_error *err, void *ud)
{
    (void)res;
    struct s_target_call *call = ud;
    struct s_doctor *d = call->d;
    struct s_check *c = &d->checks[d->write_of[call->target]];
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
        s_set(c, S_FAIL, s_is_permission(status, err), fix, "cannot write s3://%s/%s: %s",
              tg->bucket, d->probe_key[call->target], e);
        free(d->probe_key[call->target]);
        d->probe_key[call->target] = NULL;
    } else {
        s_set(c, S_PASS, 0, NULL, "probe written");
    }
    free(call);
}

/* ---- log groups ------------------------------------------------------------- */

struct s_groups_call {
    struct s_doctor *d;
    size_t first, n;   /* the checks of this batch (named groups) or one selector */
    int selector;      /* 1: a prefix/pattern probe */
    const char *names[50];
};

static void s_on_groups(int status, const struct cwx_logs_log_groups *res,
                        const struct cwx_aws_error *err, void *ud)
{
    struct s_groups_call *call = ud;
    struct s_doctor *d = call->d;
    for (size_t i = call->first; i < call->first + call->n; i++) {
        struct s_check *c = &d->checks[i];
        if (status) {
            char e[400];
            s_err(status, err, e, sizeof e);
            int perm = s_is_permission(status, err);
            s_set(c, S_FAIL, perm,
                  perm ? "allow logs:DescribeLogGroups on the account's log groups "
                         "(`cwexport bucket-policy` prints the identity policy)"
                       : NULL,
                  "DescribeLogGroups failed: %s", e);
            continue;
        }
        if (call->selector) {
            if (res->n)
                s_set(c, S_PASS, 0, NULL, "matches %s%s%s", res->groups[0].name,
                      res->n > 1 || res->next_token ? " and more" : "", "");
            else
                s_set(c, S_WARN, 0,
                      "check the selector and the region; names are case-sensitive",
                      "matches no log group in %s", c->region);
            continue;
        }
        for (size_t k = 0; k < res->n; k++)
            if (strcmp(res->groups[k].name, c->subject) == 0) {
                c->found = 1;
                if (res->groups[k].retention_days > 0)
                    s_set(c, S_PASS, 0, NULL, "exists (retention %d days)",
                          res->groups[k].retention_days);
                else
                    s_set(c, S_PASS, 0, NULL, "exists");
            }
        if (!c->found) {
            char fix[600];
            snprintf(fix, sizeof fix,
                     "create it, correct the name (case-sensitive) or its region, or remove "
                     "it from log_groups; `aws logs describe-log-groups --region %s "
                     "--log-group-name-prefix %s` shows what exists",
                     c->region, c->subject);
            s_set(c, S_FAIL, 0, fix, "log group %s does not exist in %s", c->subject, c->region);
        }
    }
    free(call);
}

/* ---- SNS --------------------------------------------------------------------- */

struct s_sns_call {
    struct s_doctor *d;
    size_t check;
};

static const char *s_sns_fix(const struct s_doctor *d, char *buf, size_t size)
{
    snprintf(buf, size,
             "create the topic or correct notify.sns_topic_arn (its region is part of the "
             "ARN); the default credentials need sns:Publish on %s",
             d->cfg->sns_topic_arn);
    return buf;
}

static void s_on_topic(int status, const struct cwx_aws_error *err, void *ud)
{
    struct s_sns_call *call = ud;
    struct s_doctor *d = call->d;
    struct s_check *c = &d->checks[call->check];
    char e[400], fix[600];
    if (!status) {
        s_set(c, S_PASS, 0, NULL, "topic exists (sns:GetTopicAttributes)");
    } else if (s_is_permission(status, err) && status != CWX_ECRED && status != CWX_ETLS) {
        s_err(status, err, e, sizeof e);
        s_set(c, S_WARN, 0,
              "a run needs only sns:Publish: `cwexport doctor --publish-test` sends a test "
              "message to check it",
              "not checked: sns:GetTopicAttributes refused (%s)", e);
    } else {
        s_err(status, err, e, sizeof e);
        s_set(c, S_FAIL, s_is_permission(status, err), s_sns_fix(d, fix, sizeof fix),
              "topic not reachable: %s", e);
    }
    free(call);
}

static void s_on_publish(int status, const struct cwx_sns_publish_result *res,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_sns_call *call = ud;
    struct s_doctor *d = call->d;
    struct s_check *c = &d->checks[call->check];
    char e[400], fix[600];
    if (!status) {
        s_set(c, S_PASS, 0, NULL, "test message published (MessageId %s)",
              res && res->message_id ? res->message_id : "?");
    } else {
        s_err(status, err, e, sizeof e);
        s_set(c, S_FAIL, s_is_permission(status, err), s_sns_fix(d, fix, sizeof fix),
              "cannot publish: %s", e);
    }
    free(call);
}

static void s_check_sns(struct s_doctor *d, size_t check)
{
    struct s_check *c = &d->checks[check];
    const char *arn = d->cfg->sns_topic_arn;
    struct cwx_aws_client *client = cwx_session_sns_client(d->session, arn);
    char fix[600];
    if (!client) {
        s_set(c, S_FAIL, 0, s_sns_fix(d, fix, sizeof fix),
              "cannot make an SNS client for %s (is it an SNS topic ARN?)", arn);
        return;
    }
    struct s_sns_call *call = calloc(1, sizeof *call);
    if (!call) {
        s_set(c, S_FAIL, 0, NULL, "out of memory");
        return;
    }
    call->d = d;
    call->check = check;
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
        s_set(c, S_FAIL, 0, NULL, "cannot start the SNS call: %s", cwx_strerror(rc));
    }
}

/* ---- driving --------------------------------------------------------------- */

static int s_account_ok(const struct s_doctor *d, uint32_t account)
{
    return d->checks[d->cred_of[account]].result == S_PASS;
}

static void s_start_identity(struct s_doctor *d)
{
    for (uint32_t a = 0; a < d->cfg->n_accounts; a++) {
        struct s_check *c = &d->checks[d->cred_of[a]];
        uint32_t first = UINT32_MAX;
        for (uint32_t t = 0; t < d->plan->n_targets && first == UINT32_MAX; t++)
            if (d->plan->targets[t].account == a)
                first = t;
        struct s_ident_call *call = calloc(1, sizeof *call);
        if (first == UINT32_MAX || !call) {
            free(call);
            s_set(c, S_FAIL, 0, NULL, "no region to ask in");
            continue;
        }
        call->d = d;
        call->account = a;
        int rc = cwx_sts_get_caller_identity(cwx_session_client(d->session, first),
                                             s_on_identity, call);
        if (rc) {
            free(call);
            s_set(c, S_FAIL, 1, NULL, "cannot ask for the caller identity: %s", cwx_strerror(rc));
        }
    }
}

/* Buckets, log groups and selectors of every target whose account has
 * credentials; the others' checks are "not checked". */
static void s_start_targets(struct s_doctor *d)
{
    for (size_t i = 0; i < d->n_checks; i++) {
        struct s_check *c = &d->checks[i];
        if (c->result != S_WAIT || !c->region)
            continue;
        if (!s_account_ok(d, c->account)) {
            s_set(c, S_SKIP, 0, NULL, "no credentials");
            continue;
        }
    }
    for (uint32_t t = 0; t < d->plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &d->plan->targets[t];
        if (!s_account_ok(d, tg->account))
            continue;
        struct cwx_aws_client *client = cwx_session_client(d->session, t);
        struct s_check *b = &d->checks[d->bucket_of[t]];
        snprintf(b->subject, sizeof b->subject, "%s", tg->bucket ? tg->bucket : "?");
        const char *sp = d->cfg->accounts[tg->account].settings.destination.state_prefix;
        snprintf(d->checks[d->write_of[t]].subject, sizeof b->subject, "s3://%s/%s/",
                 tg->bucket ? tg->bucket : "?", sp && sp[0] ? sp : "_cwexport");
        if (!tg->bucket) {
            /* Not out of memory: the name is a template of an account id
             * that is not known. */
            s_set(b, S_FAIL, 0, "set account_id in the config, or allow sts:GetCallerIdentity",
                  "no bucket name: destination.bucket needs the account id, which is not known");
            continue;
        }
        struct s_target_call *call = calloc(1, sizeof *call);
        int rc = call ? 0 : CWX_ENOMEM;
        if (!rc) {
            call->d = d;
            call->target = t;
            rc = cwx_s3_head_bucket(client, tg->bucket, s_on_head_bucket, call);
        }
        if (rc) {
            free(call);
            s_set(b, S_FAIL, 0, NULL, "cannot check the bucket: %s", cwx_strerror(rc));
        }
    }
    /* Named groups in batches of 50 (runs of consecutive checks of a target),
     * selectors one page each. */
    for (size_t i = 0; i < d->n_checks;) {
        struct s_check *c = &d->checks[i];
        int named = strcmp(c->check, "log group") == 0;
        if (c->result != S_WAIT || (!named && strcmp(c->check, "selector") != 0)) {
            i++;
            continue;
        }
        struct s_groups_call *call = calloc(1, sizeof *call);
        if (!call) {
            s_set(c, S_FAIL, 0, NULL, "out of memory");
            i++;
            continue;
        }
        call->d = d;
        call->first = i;
        struct cwx_logs_describe_log_groups_req req = {0};
        const struct cwx_group_sel *gs = NULL;
        if (named) {
            while (i < d->n_checks && call->n < 50 && d->checks[i].result == S_WAIT &&
                   d->checks[i].target == c->target &&
                   strcmp(d->checks[i].check, "log group") == 0) {
                call->names[call->n++] = d->checks[i].subject;
                i++;
            }
            req.identifiers = call->names;
            req.n_identifiers = call->n;
        } else {
            const struct cwx_account *acc = &d->cfg->accounts[c->account];
            for (size_t s = 0; s < acc->n_groups && !gs; s++)
                if (acc->groups[s].kind != CWX_GROUP_NAME &&
                    strcmp(strchr(c->subject, ' ') + 1, acc->groups[s].value) == 0)
                    gs = &acc->groups[s];
            call->n = 1;
            call->selector = 1;
            i++;
            req.prefix = gs && gs->kind == CWX_GROUP_PREFIX ? gs->value : NULL;
            req.pattern = gs && gs->kind == CWX_GROUP_PATTERN ? gs->value : NULL;
            req.limit = 5;
        }
        int rc = cwx_logs_describe_log_groups(cwx_session_client(d->session, c->target), &req,
                                              s_on_groups, call);
        if (rc) {
            for (size_t k = call->first; k < call->first + call->n; k++)
                s_set(&d->checks[k], S_FAIL, 0, NULL, "cannot start DescribeLogGroups: %s",
                      cwx_strerror(rc));
            free(call);
        }
    }
    if (d->cfg->sns_topic_arn)
        s_check_sns(d, d->n_checks - 1);
}

static void s_start_probes(struct s_doctor *d, int phase)
{
    for (uint32_t t = 0; t < d->plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &d->plan->targets[t];
        struct s_check *w = &d->checks[d->write_of[t]];
        struct s_check *b = &d->checks[d->bucket_of[t]];
        if (phase == 0) {
            if (w->result != S_WAIT)
                continue;
            if (b->result != S_PASS && b->result != S_WARN) {
                s_set(w, S_SKIP, 0, NULL, "the bucket check failed");
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
            struct s_target_call *call = rc ? NULL : calloc(1, sizeof *call);
            if (!call) {
                cwx_buf_free(&key);
                s_set(w, S_FAIL, 0, NULL, "out of memory");
                continue;
            }
            d->probe_key[t] = strdup(key.ptr);
            cwx_buf_free(&key);
            call->d = d;
            call->target = t;
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
                s_set(w, S_FAIL, 0, NULL, "cannot start PutObject: %s", cwx_strerror(rc));
            }
        } else if (w->result == S_PASS && d->probe_key[t]) {
            struct s_target_call *call = calloc(1, sizeof *call);
            int rc = call ? 0 : CWX_ENOMEM;
            if (!rc) {
                call->d = d;
                call->target = t;
                rc = cwx_s3_delete_object(cwx_session_client(d->session, t), tg->bucket,
                                          d->probe_key[t], s_on_delete, call);
            }
            if (rc) {
                free(call);
                s_set(w, S_WARN, 0, NULL, "probe written; cannot start DeleteObject: %s",
                      cwx_strerror(rc));
            }
        }
    }
}

/* ---- output ---------------------------------------------------------------- */

static void s_json_str(FILE *f, const char *s)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    if (s && cwx_buf_json_str(&b, s) == 0)
        fputs(b.ptr, f);
    else
        fputs("null", f);
    cwx_buf_free(&b);
}

static void s_print(const struct s_doctor *d, FILE *f, int json, int exit_code)
{
    const struct cwx_config *cfg = d->cfg;
    size_t counts[5] = {0};
    for (size_t i = 0; i < d->n_checks; i++)
        counts[d->checks[i].result]++;
    if (json) {
        fputs("{\"version\": 1, \"checks\": [", f);
        for (size_t i = 0; i < d->n_checks; i++) {
            const struct s_check *c = &d->checks[i];
            fputs(i ? ",\n  {" : "\n  {", f);
            fputs("\"account\": ", f);
            s_json_str(f, c->account < cfg->n_accounts ? cfg->accounts[c->account].name : NULL);
            fputs(", \"region\": ", f);
            s_json_str(f, c->region);
            fprintf(f, ", \"check\": \"%s\", \"subject\": ", c->check);
            s_json_str(f, c->subject);
            fprintf(f, ", \"result\": \"%s\", \"permission\": %s, \"detail\": ",
                    s_result_json[c->result], c->permission ? "true" : "false");
            s_json_str(f, c->detail);
            fputs(", \"fix\": ", f);
            s_json_str(f, c->fix[0] ? c->fix : NULL);
            fputc('}', f);
        }
        fprintf(f, "],\n\"totals\": {\"checks\": %zu, \"pass\": %zu, \"fail\": %zu, "
                   "\"warn\": %zu, \"skip\": %zu},\n\"exit_code\": %d}\n",
                d->n_checks, counts[S_PASS], counts[S_FAIL], counts[S_WARN], counts[S_SKIP],
                exit_code);
        return;
    }
    int wa = 7, wr = 6, wc = 5, ws = 7;
    for (size_t i = 0; i < d->n_checks; i++) {
        const struct s_check *c = &d->checks[i];
        int n = c->account < cfg->n_accounts ? (int)strlen(cfg->accounts[c->account].name) : 1;
        wa = n > wa ? n : wa;
        n = c->region ? (int)strlen(c->region) : 1;
        wr = n > wr ? n : wr;
        n = (int)strlen(c->check);
        wc = n > wc ? n : wc;
        n = (int)strlen(c->subject);
        ws = n > ws ? (n < 60 ? n : 60) : ws;
    }
    fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-11s  %s\n", wa, "ACCOUNT", wr, "REGION", wc, "CHECK", ws,
            "SUBJECT", "RESULT", "DETAIL");
    for (size_t i = 0; i < d->n_checks; i++) {
        const struct s_check *c = &d->checks[i];
        fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-11s  %s\n", wa,
                c->account < cfg->n_accounts ? cfg->accounts[c->account].name : "-", wr,
                c->region ? c->region : "-", wc, c->check, ws, c->subject,
                s_result_name[c->result], c->detail);
        if (c->fix[0] && (c->result == S_FAIL || c->result == S_WARN))
            fprintf(f, "%*s  fix: %s\n", wa + wr + wc + ws + 8 + 11, "", c->fix);
    }
    fprintf(f, "\n%zu checks: %zu passed, %zu failed, %zu warnings, %zu not checked\n",
            d->n_checks, counts[S_PASS], counts[S_FAIL], counts[S_WARN], counts[S_SKIP]);
}

static int s_doctor(const struct cwx_config *cfg, int publish_test, int json)
{
    struct s_doctor d = {.cfg = cfg, .publish_test = publish_test};
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
    size_t n_named = 0;
    for (size_t t = 0; t < d.plan->n_targets; t++)
        n_named += cfg->accounts[d.plan->targets[t].account].n_groups;
    size_t cap = cfg->n_accounts + 2 * d.plan->n_targets + n_named + 1;
    d.checks = calloc(cap, sizeof *d.checks);
    d.cred_of = calloc(cfg->n_accounts + 1, sizeof *d.cred_of);
    d.bucket_of = calloc(d.plan->n_targets + 1, sizeof *d.bucket_of);
    d.write_of = calloc(d.plan->n_targets + 1, sizeof *d.write_of);
    d.probe_key = calloc(d.plan->n_targets + 1, sizeof *d.probe_key);
    if (!d.checks || !d.cred_of || !d.bucket_of || !d.write_of || !d.probe_key) {
        exit_code = CWX_EXIT_FAILED;
        goto cleanup;
    }
    /* The report's lines, in order: per account its credentials, then per
     * region the bucket, the write probe and the log groups; SNS last. */
    for (uint32_t a = 0; a < cfg->n_accounts; a++) {
        const struct cwx_account *acc = &cfg->accounts[a];
        d.cred_of[a] = d.n_checks;
        s_cred_subject(acc, s_add(&d, a, NULL, "credentials", 0)->subject, 320);
        for (uint32_t t = 0; t < d.plan->n_targets; t++) {
            const struct cwx_plan_target *tg = &d.plan->targets[t];
            if (tg->account != a)
                continue;
            d.bucket_of[t] = d.n_checks;
            snprintf(s_add(&d, a, tg->region, "bucket", t)->subject, 320, "%s",
                     acc->settings.destination.bucket);
            d.write_of[t] = d.n_checks;
            const char *sp = acc->settings.destination.state_prefix;
            snprintf(s_add(&d, a, tg->region, "write", t)->subject, 320, "s3://%s/%s/",
                     tg->bucket ? tg->bucket : acc->settings.destination.bucket,
                     sp && sp[0] ? sp : "_cwexport");
            for (size_t s = 0; s < acc->n_groups; s++) {
                const struct cwx_group_sel *gs = &acc->groups[s];
                struct s_check *c =
                    s_add(&d, a, tg->region, gs->kind == CWX_GROUP_NAME ? "log group" : "selector",
                          t);
                if (gs->kind == CWX_GROUP_NAME)
                    snprintf(c->subject, sizeof c->subject, "%s", gs->value);
                else
                    snprintf(c->subject, sizeof c->subject, "%s %s",
                             gs->kind == CWX_GROUP_PREFIX ? "prefix" : "pattern", gs->value);
            }
        }
    }
    if (cfg->sns_topic_arn)
        snprintf(s_add(&d, UINT32_MAX, NULL, "sns topic", 0)->subject, 320, "%s",
                 cfg->sns_topic_arn);

    rc = cwx_session_new(&d.loop, cfg, d.plan, &d.session, why, sizeof why);
    if (rc) {
        fprintf(stderr, "cwexport doctor: error: %s\n", why[0] ? why : cwx_strerror(rc));
        exit_code = cwx_err_access(rc) ? CWX_EXIT_CREDENTIALS : CWX_EXIT_FAILED;
        goto cleanup;
    }
    s_start_identity(&d);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    s_start_targets(&d);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    s_start_probes(&d, 0);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    s_start_probes(&d, 1);
    uv_run(&d.loop, UV_RUN_DEFAULT);

    int failed = 0, permission = 0;
    for (size_t i = 0; i < d.n_checks; i++) {
        struct s_check *c = &d.checks[i];
        if (c->result == S_WAIT)
            s_set(c, S_SKIP, 0, NULL, "not checked");
        if (c->result == S_FAIL) {
            failed = 1;
            permission |= c->permission;
        }
    }
    exit_code = permission ? CWX_EXIT_CREDENTIALS : failed ? CWX_EXIT_FAILED : CWX_EXIT_OK;
    s_print(&d, stdout, json, exit_code);
cleanup:
    cwx_session_free(d.session);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop))
        fprintf(stderr, "cwexport doctor: warning: the event loop did not close cleanly\n");
    for (size_t t = 0; d.probe_key && t < d.plan->n_targets; t++)
        free(d.probe_key[t]);
    free(d.probe_key);
    free(d.write_of);
    free(d.bucket_of);
    free(d.cred_of);
    free(d.checks);
    cwx_plan_free(d.plan);
    return exit_code;
}

int cwx_cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"publish-test", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *format = "table";
    int publish_test = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'f': format = optarg; break;
        case 'P': publish_test = 1; break;
        case 'h': s_help(stdout); return CWX_EXIT_OK;
        default: s_help(stderr); return CWX_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cwexport doctor: unexpected argument \"%s\"\n", argv[optind]);
        return CWX_EXIT_USAGE;
    }
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "cwexport doctor: --format must be table or json, not \"%s\"\n", format);
        return CWX_EXIT_USAGE;
    }
    if (!path) {
        fprintf(stderr, "cwexport doctor: -c FILE is required\n");
        return CWX_EXIT_USAGE;
    }
    struct cwx_config *cfg = cwx_cli_load_config(path);
    if (!cfg)
        return CWX_EXIT_USAGE;
    int exit_code = s_doctor(cfg, publish_test, strcmp(format, "json") == 0);
    cwx_config_free(cfg);
    return exit_code;
}
