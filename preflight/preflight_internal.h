/* What the files of preflight/ share: the doctor's report lines and its
 * state. Private to preflight/. */
#ifndef CWX_PREFLIGHT_PREFLIGHT_INTERNAL_H
#define CWX_PREFLIGHT_PREFLIGHT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "planner/planner.h"

/* The outcome of one check; CWX_CHECK_WAIT while it is not decided. */
enum cwx__result {
    CWX_CHECK_WAIT = 0,
    CWX_CHECK_PASS,
    CWX_CHECK_FAIL,
    CWX_CHECK_WARN,
    CWX_CHECK_SKIP,
};

/* One line of the doctor's report. */
struct cwx__check {
    uint32_t account;
    const char *region;  /* borrowed from the config; NULL for account-wide checks */
    const char *check;   /* "credentials", "bucket", "write", "log group", "selector", "sns topic" */
    char subject[320];
    enum cwx__result result;
    int permission;      /* a failure of credentials or permissions (exit 3) */
    int found;           /* log group: DescribeLogGroups returned it */
    uint32_t target;
    char detail[640];
    char fix[640];
};

struct cwx_session;

/* One doctor pass: the config, its plan, the session the checks call AWS
 * through, and the report's lines in order. */
struct cwx__doctor {
    uv_loop_t loop;
    const struct cwx_config *cfg;
    struct cwx_plan *plan;
    struct cwx_session *session;
    struct cwx__check *checks;
    size_t n_checks;
    int publish_test;
    /* Per account: its credentials record; per target: bucket and write. */
    size_t *cred_of;          /* account → check index */
    size_t *bucket_of;        /* target → check index */
    size_t *write_of;         /* target → check index */
    char **probe_key;         /* target → key written, or NULL */
};

/* Starts the bucket check of target t (s3:HeadBucket), or decides it at once
 * when the bucket's name cannot be made (its template needs an account id
 * that is not known) or the call cannot start. */
void cwx__doctor_start_bucket(struct cwx__doctor *d, uint32_t t);

/* Writes the report of checks[0..n) as a table or as JSON (with exit_code). */
void cwx__doctor_print(const struct cwx_config *cfg, const struct cwx__check *checks, size_t n,
                       FILE *f, int json, int exit_code);

#endif
