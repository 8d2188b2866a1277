/* The preflight module's one public header: what a user checks before a
 * run. `doctor` asks AWS whether a config will work (credentials, buckets,
 * write access, log groups, the SNS topic) and says how to fix each
 * failure; `bucket-policy` writes the policies a config needs; `whoami`
 * shows the caller identity and the settings in effect. Each entry point
 * takes a loaded config, writes its report to out and returns an exit code
 * of docs/architecture.md §exit-codes (enum cwx_exit of common/exit.h);
 * one-line errors go to stderr. */
#ifndef CWX_PREFLIGHT_PREFLIGHT_H
#define CWX_PREFLIGHT_PREFLIGHT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/buf.h"
#include "planner/planner.h"

/* What `cwexport doctor` does besides its read-only checks. */
struct cwx_doctor_opts {
    bool publish_test; /* publish one test message instead of GetTopicAttributes */
    bool json;         /* the report as JSON instead of a table */
};

/* Checks cfg against AWS and writes one line per check to out (with the fix
 * for each failure). Changes nothing in AWS but a small probe object it
 * writes and deletes again (and, with publish_test, one SNS message).
 * Returns 0 when every check passed (warnings allowed), 3 when a credential
 * or permission check failed, 1 when another check failed, 2 when the plan
 * cannot be made. cfg is borrowed. */
int cwx_preflight_doctor(const struct cwx_config *cfg, const struct cwx_doctor_opts *opts,
                         FILE *out);

/* Appends to out the JSON document of every policy cfg needs: per
 * destination the bucket policy (and, with kms_key_arn, the key-policy
 * statement) for CloudWatch Logs, per account the identity policy of
 * cwexport's own credentials, and notes. Makes no AWS call; accounts without
 * an account_id get a placeholder. Returns 0 or CWX_E*. */
int cwx_preflight_bucket_policy(const struct cwx_config *cfg, struct cwx_buf *out);

/* Where `cwexport whoami` looks when there is no config. */
struct cwx_whoami_opts {
    const char *region;  /* --region, or NULL */
    const char *profile; /* --profile, or NULL */
    bool allow_insecure_endpoint;
};

/* Asks sts:GetCallerIdentity for each account of cfg (or, with cfg NULL, for
 * the default credential chain) and writes the account, the caller ARN, the
 * credential source and the region and endpoints in effect to out. Never
 * writes a secret. Returns 0 when every identity was found (and matches the
 * configured account_id), 3 when one was not, 1 on an internal failure. */
int cwx_preflight_whoami(const struct cwx_config *cfg, const struct cwx_whoami_opts *opts,
                         FILE *out);

#endif
