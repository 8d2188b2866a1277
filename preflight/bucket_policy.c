/* The policies a config needs, as one JSON document
 * ready to paste (docs/plan.md "bucket-policy"):
 *  - per destination (bucket × region), the bucket policy that lets
 *    CloudWatch Logs of the configured accounts write exports into it;
 *  - per destination with a kms_key_arn, the key-policy statement;
 *  - per account, the identity policy cwexport's own credentials need.
 * No AWS call: accounts without an account_id get a placeholder and a note. */
#include "preflight/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/grow.h"
#include "planner/planner.h"

/* ---- a small pretty JSON writer ------------------------------------------ */

/* Documents here are small and bounded; writing them by hand keeps the
 * key order of the AWS documentation (Sid, Effect, Principal, ...). */
struct s_json {
    struct cwx_buf b;
    int depth;
    bool first[32]; /* per depth: no element written yet */
    int rc;
};

static void s_indent(struct s_json *j)
{
    if (!j->rc)
        j->rc = cwx_buf_putc(&j->b, '\n');
    for (int i = 0; i < j->depth && !j->rc; i++)
        j->rc = cwx_buf_puts(&j->b, "  ");
}

/* Starts a member (key may be NULL inside arrays). */
static void s_member(struct s_json *j, const char *key)
{
    if (j->depth > 0) {
        if (!j->first[j->depth] && !j->rc)
            j->rc = cwx_buf_putc(&j->b, ',');
        j->first[j->depth] = false;
        s_indent(j);
    }
    if (key && !j->rc) {
        j->rc = cwx_buf_json_str(&j->b, key);
        if (!j->rc)
            j->rc = cwx_buf_puts(&j->b, ": ");
    }
}

static void s_open(struct s_json *j, const char *key, char c)
{
    s_member(j, key);
    if (!j->rc)
        j->rc = cwx_buf_putc(&j->b, c);
    if (j->depth + 1 < (int)(sizeof j->first / sizeof *j->first))
        j->first[++j->depth] = true;
    else
        j->rc = CWX_ETOOBIG;
}

static void s_close(struct s_json *j, char c)
{
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        s_indent(j);
    if (!j->rc)
        j->rc = cwx_buf_putc(&j->b, c);
}

static void s_str(struct s_json *j, const char *key, const char *val)
{
    s_member(j, key);
    if (!j->rc)
        j->rc = val ? cwx_buf_json_str(&j->b, val) : cwx_buf_puts(&j->b, "null");
}

/* ---- destinations -------------------------------------------------------- */

/* CloudWatch Logs' regional service principal: logs.<region>.amazonaws.com,
 * with the .com.cn suffix in the China partition. */
static void s_logs_principal(const char *region, char *out, size_t size)
{
    snprintf(out, size, "logs.%s.%s", region,
             strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com");
}

/* The account id a policy names: the config's, or a placeholder. */
static void s_account_id(const struct cwx_account *acc, char *out, size_t size)
{
    if (acc->account_id)
        snprintf(out, size, "%s", acc->account_id);
    else
        snprintf(out, size, "<account_id of %s>", acc->name);
}

/* The fixed start of the expanded prefix template, up to its last '/'
 * before the first part that varies per log group or window: the prefix
 * under which every export of (account, region) lands. "" when the
 * template starts with such a part. */
static int s_prefix_root(const char *tmpl, const struct cwx_account *acc, const char *region,
                         struct cwx_buf *out)
{
    int rc = 0;
    size_t cut = out->len;
    for (const char *p = tmpl; *p && !rc; p++) {
        if (*p != '{') {
            rc = cwx_buf_putc(out, *p);
            if (*p == '/')
                cut = out->len;
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end)
            break;
        size_t n = (size_t)(end - p - 1);
        const char *val = NULL;
        if (n == 10 && strncmp(p + 1, "account_id", 10) == 0)
            val = acc->account_id;
        else if (n == 6 && strncmp(p + 1, "region", 6) == 0)
            val = region;
        else if (n == 7 && strncmp(p + 1, "account", 7) == 0)
            val = acc->name;
        if (!val)
            break;
        rc = cwx_buf_puts(out, val);
        p = end;
    }
    if (!rc && out->ptr) {
        out->len = cut;
        out->ptr[cut] = '\0';
    }
    return rc;
}

/* One bucket in one region and the accounts exporting into it. */
struct s_dest {
    char bucket[128];
    const char *region;
    const char *kms_key_arn;   /* of the first account naming it */
    const char *state_prefix;
    size_t accounts[64];       /* indexes into cfg->accounts */
    char *roots[64];           /* owned: prefix root per account */
    size_t n_accounts;
};

static void s_bucket_of(const struct cwx_account *acc, const char *region, char *out,
                        size_t size)
{
    const char *tmpl = acc->settings.destination.bucket;
    if (cwx_config_bucket_name(tmpl, acc->account_id, region, out, size, NULL) == 0)
        return;
    /* {account_id} unknown: keep the template, with the placeholder. */
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    char id[128];
    s_account_id(acc, id, sizeof id);
    for (const char *p = tmpl; *p; p++) {
        if (strncmp(p, "{account_id}", 12) == 0) {
            cwx_buf_puts(&b, id);
            p += 11;
        } else if (strncmp(p, "{region}", 8) == 0) {
            cwx_buf_puts(&b, region);
            p += 7;
        } else {
            cwx_buf_putc(&b, *p);
        }
    }
    snprintf(out, size, "%s", b.ptr ? b.ptr : "");
    cwx_buf_free(&b);
}

static int s_collect(const struct cwx_config *cfg, struct s_dest **out, size_t *n_out)
{
    size_t cap = 0, n = 0;
    struct s_dest *d = NULL;
    struct cwx_buf root;
    cwx_buf_init(&root, 0);
    int rc = 0;
    for (size_t a = 0; a < cfg->n_accounts && !rc; a++) {
        const struct cwx_account *acc = &cfg->accounts[a];
        for (size_t r = 0; r < acc->n_regions && !rc; r++) {
            char bucket[128];
            s_bucket_of(acc, acc->regions[r], bucket, sizeof bucket);
            size_t k = 0;
            while (k < n && !(strcmp(d[k].bucket, bucket) == 0 &&
                              strcmp(d[k].region, acc->regions[r]) == 0))
                k++;
            if (k == n) {
                struct s_dest *nd = cwx_grow(d, n, &cap, sizeof *nd, 8);
                if (!nd) {
                    rc = CWX_ENOMEM;
                    break;
                }
                d = nd;
                d[n] = (struct s_dest){.region = acc->regions[r],
                                       .kms_key_arn = acc->settings.destination.kms_key_arn,
                                       .state_prefix = acc->settings.destination.state_prefix};
                snprintf(d[n].bucket, sizeof d[n].bucket, "%s", bucket);
                n++;
            }
            struct s_dest *dst = &d[k];
            if (dst->n_accounts >= sizeof dst->accounts / sizeof *dst->accounts)
                continue;
            cwx_buf_reset(&root);
            rc = cwx_buf_reserve(&root, 1);
            if (!rc)
                rc = s_prefix_root(acc->settings.destination.prefix, acc, acc->regions[r], &root);
            if (rc)
                break;
            dst->accounts[dst->n_accounts] = a;
            dst->roots[dst->n_accounts] = strdup(root.ptr ? root.ptr : "");
            if (!dst->roots[dst->n_accounts]) {
                rc = CWX_ENOMEM;
                break;
            }
            dst->n_accounts++;
        }
    }
    cwx_buf_free(&root);
    *out = d;
    *n_out = n;
    return rc;
}

static void s_dests_free(struct s_dest *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d[i].n_accounts; k++)
            free(d[i].roots[k]);
    free(d);
}

/* 1 when the account of d's entry k already came earlier in d. */
static bool s_account_seen(const struct s_dest *d, size_t k)
{
    for (size_t m = 0; m < k; m++)
        if (d->accounts[m] == d->accounts[k])
            return true;
    return false;
}

/* The list `key` of each account of d once: its id, or (logs_arn) the ARN
 * of its log groups in d's region. */
static void s_account_list(struct s_json *j, const struct cwx_config *cfg,
                           const struct s_dest *d, const char *key, bool logs_arn)
{
    const char *part = cwx_region_partition(d->region);
    char id[128], arn[256];
    s_open(j, key, '[');
    for (size_t k = 0; k < d->n_accounts; k++) {
        if (s_account_seen(d, k))
            continue;
        s_account_id(&cfg->accounts[d->accounts[k]], id, sizeof id);
        if (logs_arn)
            snprintf(arn, sizeof arn, "arn:%s:logs:%s:%s:log-group:*", part, d->region, id);
        s_str(j, NULL, logs_arn ? arn : id);
    }
    s_close(j, ']');
}

/* The aws:SourceAccount / aws:SourceArn conditions of a destination. */
static void s_source_conditions(struct s_json *j, const struct cwx_config *cfg,
                                const struct s_dest *d, bool with_acl)
{
    s_open(j, "Condition", '{');
    s_open(j, "StringEquals", '{');
    if (with_acl)
        s_str(j, "s3:x-amz-acl", "bucket-owner-full-control");
    s_account_list(j, cfg, d, "aws:SourceAccount", false);
    s_close(j, '}');
    s_open(j, "ArnLike", '{');
    s_account_list(j, cfg, d, "aws:SourceArn", true);
    s_close(j, '}');
    s_close(j, '}');
}

/* A statement's Sid, Effect Allow and Principal: the CloudWatch Logs
 * service principal. */
static void s_statement_head(struct s_json *j, const char *sid, const char *principal)
{
    s_str(j, "Sid", sid);
    s_str(j, "Effect", "Allow");
    s_open(j, "Principal", '{');
    s_str(j, "Service", principal);
    s_close(j, '}');
}

static void s_bucket_policy(struct s_json *j, const struct cwx_config *cfg, const struct s_dest *d)
{
    const char *part = cwx_region_partition(d->region);
    char principal[128], arn[512];
    s_logs_principal(d->region, principal, sizeof principal);
    s_open(j, NULL, '{');
    s_str(j, "bucket", d->bucket);
    s_str(j, "region", d->region);
    s_str(j, "partition", part);
    s_open(j, "accounts", '[');
    for (size_t k = 0; k < d->n_accounts; k++)
        s_str(j, NULL, cfg->accounts[d->accounts[k]].name);
    s_close(j, ']');
    s_open(j, "policy", '{');
    s_str(j, "Version", "2012-10-17");
    s_open(j, "Statement", '[');

    s_open(j, NULL, '{');
    s_statement_head(j, "CloudWatchLogsExportAclCheck", principal);
    s_str(j, "Action", "s3:GetBucketAcl");
    snprintf(arn, sizeof arn, "arn:%s:s3:::%s", part, d->bucket);
    s_str(j, "Resource", arn);
    s_source_conditions(j, cfg, d, false);
    s_close(j, '}');

    s_open(j, NULL, '{');
    s_statement_head(j, "CloudWatchLogsExportWrite", principal);
    s_str(j, "Action", "s3:PutObject");
    s_open(j, "Resource", '[');
    bool whole = false;
    for (size_t k = 0; k < d->n_accounts; k++)
        whole |= d->roots[k][0] == '\0';
    for (size_t k = 0; k < d->n_accounts; k++) {
        bool dup = false;
        for (size_t m = 0; m < k; m++)
            dup |= strcmp(d->roots[m], d->roots[k]) == 0;
        if (dup || (whole && k > 0))
            continue;
        snprintf(arn, sizeof arn, "arn:%s:s3:::%s/%s*", part, d->bucket, whole ? "" : d->roots[k]);
        s_str(j, NULL, arn);
    }
    s_close(j, ']');
    s_source_conditions(j, cfg, d, true);
    s_close(j, '}');

    s_close(j, ']');
    s_close(j, '}');
    s_close(j, '}');
}

static void s_key_policy(struct s_json *j, const struct cwx_config *cfg, const struct s_dest *d)
{
    char principal[128];
    s_logs_principal(d->region, principal, sizeof principal);
    s_open(j, NULL, '{');
    s_str(j, "kms_key_arn", d->kms_key_arn);
    s_str(j, "bucket", d->bucket);
    s_str(j, "region", d->region);
    s_open(j, "statement", '{');
    s_statement_head(j, "CloudWatchLogsExportToEncryptedBucket", principal);
    s_open(j, "Action", '[');
    s_str(j, NULL, "kms:GenerateDataKey");
    s_str(j, NULL, "kms:Decrypt");
    s_close(j, ']');
    s_str(j, "Resource", "*");
    s_source_conditions(j, cfg, d, false);
    s_close(j, '}');
    s_close(j, '}');
}

/* The statement of one Sid, Effect Allow and a list of actions; the caller
 * adds Resource (and conditions) and closes it. */
static void s_allow(struct s_json *j, const char *sid, const char *const *actions)
{
    s_open(j, NULL, '{');
    s_str(j, "Sid", sid);
    s_str(j, "Effect", "Allow");
    if (actions[1]) {
        s_open(j, "Action", '[');
        for (size_t i = 0; actions[i]; i++)
            s_str(j, NULL, actions[i]);
        s_close(j, ']');
    } else {
        s_str(j, "Action", actions[0]);
    }
}

/* The log-group, export-task and metrics statements of an account's identity
 * policy. */
static void s_identity_logs(struct s_json *j, const struct cwx_account *acc, const char *id)
{
    static const char *const groups[] = {"logs:CreateExportTask", "logs:DescribeLogGroups",
                                         "logs:DescribeLogStreams", NULL};
    static const char *const tasks[] = {"logs:DescribeExportTasks", "logs:CancelExportTask",
                                        NULL};
    static const char *const metrics[] = {"cloudwatch:GetMetricData", NULL};
    char arn[512];
    s_allow(j, "CwexportLogGroups", groups);
    s_open(j, "Resource", '[');
    for (size_t r = 0; r < acc->n_regions; r++) {
        snprintf(arn, sizeof arn, "arn:%s:logs:%s:%s:log-group:*",
                 cwx_region_partition(acc->regions[r]), acc->regions[r], id);
        s_str(j, NULL, arn);
    }
    s_close(j, ']');
    s_close(j, '}');

    /* DescribeExportTasks and CancelExportTask take no resource ARN. */
    s_allow(j, "CwexportExportTasks", tasks);
    s_str(j, "Resource", "*");
    s_close(j, '}');

    /* IncomingBytes per window for the estimates (a refusal only warns);
     * GetMetricData takes no resource ARN either. */
    s_allow(j, "CwexportMetrics", metrics);
    s_str(j, "Resource", "*");
    s_close(j, '}');
}

/* The statements of an account's identity policy for destination i, whose
 * entry k is the account: list the bucket, read and write the markers, and
 * use the key. */
static void s_identity_dest(struct s_json *j, const struct s_dest *d, size_t i, size_t k)
{
    static const char *const list[] = {"s3:ListBucket", NULL};
    static const char *const markers[] = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                          NULL};
    static const char *const kms[] = {"kms:GenerateDataKey", "kms:Decrypt", NULL};
    const char *part = cwx_region_partition(d->region);
    char sid[64], arn[512];
    snprintf(sid, sizeof sid, "CwexportList%zu", i + 1);
    s_allow(j, sid, list);
    snprintf(arn, sizeof arn, "arn:%s:s3:::%s", part, d->bucket);
    s_str(j, "Resource", arn);
    if (d->roots[k][0]) {
        s_open(j, "Condition", '{');
        s_open(j, "StringLike", '{');
        s_open(j, "s3:prefix", '[');
        snprintf(arn, sizeof arn, "%s/*", d->state_prefix);
        s_str(j, NULL, arn);
        snprintf(arn, sizeof arn, "%s*", d->roots[k]);
        s_str(j, NULL, arn);
        s_close(j, ']');
        s_close(j, '}');
        s_close(j, '}');
    }
    s_close(j, '}');

    snprintf(sid, sizeof sid, "CwexportMarkers%zu", i + 1);
    s_allow(j, sid, markers);
    snprintf(arn, sizeof arn, "arn:%s:s3:::%s/%s/*", part, d->bucket, d->state_prefix);
    s_str(j, "Resource", arn);
    s_close(j, '}');

    if (d->kms_key_arn) {
        snprintf(sid, sizeof sid, "CwexportKms%zu", i + 1);
        s_allow(j, sid, kms);
        s_str(j, "Resource", d->kms_key_arn);
        s_close(j, '}');
    }
}

/* The identity policy of cwexport's own credentials in one account. */
static void s_identity_policy(struct s_json *j, const struct cwx_config *cfg, size_t a,
                              const struct s_dest *dests, size_t n_dests)
{
    static const char *const notify[] = {"sns:Publish", NULL};
    const struct cwx_account *acc = &cfg->accounts[a];
    char id[128];
    s_account_id(acc, id, sizeof id);
    s_open(j, NULL, '{');
    s_str(j, "account", acc->name);
    s_str(j, "account_id", id);
    s_open(j, "policy", '{');
    s_str(j, "Version", "2012-10-17");
    s_open(j, "Statement", '[');
    s_identity_logs(j, acc, id);
    for (size_t i = 0; i < n_dests; i++) {
        size_t k = 0;
        while (k < dests[i].n_accounts && dests[i].accounts[k] != a)
            k++;
        if (k < dests[i].n_accounts)
            s_identity_dest(j, &dests[i], i, k);
    }
    if (cfg->sns_topic_arn) {
        s_allow(j, "CwexportNotify", notify);
        s_str(j, "Resource", cfg->sns_topic_arn);
        s_close(j, '}');
    }
    s_close(j, ']');
    s_close(j, '}');
    s_close(j, '}');
}

/* The notes: placeholders to fill in and what else the reader must do. */
static void s_notes(struct s_json *j, const struct cwx_config *cfg)
{
    char note[512];
    s_open(j, "notes", '[');
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        const struct cwx_account *acc = &cfg->accounts[a];
        if (!acc->account_id) {
            snprintf(note, sizeof note,
                     "account %s has no account_id in the config: replace \"<account_id of %s>\" "
                     "with its 12-digit id (`aws sts get-caller-identity`)",
                     acc->name, acc->name);
            s_str(j, NULL, note);
        }
        if (acc->role_arn) {
            snprintf(note, sizeof note,
                     "account %s: the base credentials need sts:AssumeRole on %s, and that "
                     "role's trust policy must allow them",
                     acc->name, acc->role_arn);
            s_str(j, NULL, note);
        }
    }
    s_str(j, NULL, "bucket policies: merge each Statement list into the bucket's existing "
                   "policy (aws s3api get-bucket-policy / put-bucket-policy)");
    s_close(j, ']');
}

int cwx_preflight_bucket_policy(const struct cwx_config *cfg, struct cwx_buf *out)
{
    struct s_dest *dests = NULL;
    size_t n_dests = 0;
    struct s_json j = {.first = {true}};
    cwx_buf_init(&j.b, 0);
    j.rc = s_collect(cfg, &dests, &n_dests);

    s_open(&j, NULL, '{');
    s_open(&j, "bucket_policies", '[');
    for (size_t i = 0; i < n_dests; i++)
        s_bucket_policy(&j, cfg, &dests[i]);
    s_close(&j, ']');
    s_open(&j, "key_policies", '[');
    for (size_t i = 0; i < n_dests; i++)
        if (dests[i].kms_key_arn)
            s_key_policy(&j, cfg, &dests[i]);
    s_close(&j, ']');
    s_open(&j, "identity_policies", '[');
    for (size_t a = 0; a < cfg->n_accounts; a++)
        s_identity_policy(&j, cfg, a, dests, n_dests);
    s_close(&j, ']');
    s_notes(&j, cfg);
    s_close(&j, '}');
    if (!j.rc)
        j.rc = cwx_buf_putc(&j.b, '\n');
    if (!j.rc)
        j.rc = cwx_buf_append(out, j.b.ptr, j.b.len);
    cwx_buf_free(&j.b);
    s_dests_free(dests, n_dests);
    return j.rc;
}
