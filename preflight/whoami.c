/* whoami: the caller identity of each configured account, the
 * credential source that supplied it, and the region and endpoints in
 * effect. Never prints a secret. */
#include "preflight/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "aws/aws.h"
#include "common/buf.h"
#include "common/error.h"
#include "orchestrator/orchestrator.h"

/* One identity to look up: a config account, or the default chain. */
struct s_subject {
    const char *name;
    const char *profile;
    const char *role_arn;
    const char *external_id;
    const char *expected_account; /* account_id from the config, or NULL */
    char region[64];
    const char *region_origin;
    struct cwx_creds_provider *creds;
    struct cwx_aws_client *client;
    /* the answer */
    int status;
    char account[32];
    char arn[512];
    char error[512];
};

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud)
{
    struct s_subject *s = ud;
    s->status = status;
    if (status == 0 && res) {
        snprintf(s->account, sizeof s->account, "%s", res->account ? res->account : "");
        snprintf(s->arn, sizeof s->arn, "%s", res->arn ? res->arn : "");
    } else if (err && err->code[0]) {
        cwx_aws_error_format(err, s->error, sizeof s->error);
        s->error[strcspn(s->error, "\r\n")] = '\0'; /* one line is enough */
    } else if (err && err->message[0]) {
        /* No answer to quote: the credentials failed ("credentials: …"). */
        snprintf(s->error, sizeof s->error, "%s", err->message);
        s->error[strcspn(s->error, "\r\n")] = '\0';
    } else {
        snprintf(s->error, sizeof s->error, "%s", cwx_strerror(status));
    }
}

static int s_start(struct cwx_aws *aws, struct s_subject *s)
{
    struct cwx_creds_options co = {
        .profile = s->profile,
        .role_arn = s->role_arn,
        .external_id = s->external_id,
        .region = s->region,
    };
    int rc = cwx_creds_provider_new(aws, &co, &s->creds);
    if (!rc) {
        struct cwx_aws_client_options o = {.creds = s->creds, .region = s->region};
        rc = cwx_aws_client_new(aws, &o, &s->client);
    }
    if (!rc)
        rc = cwx_sts_get_caller_identity(s->client, s_on_identity, s);
    if (rc) {
        s->status = rc;
        snprintf(s->error, sizeof s->error, "%s", cwx_strerror(rc));
    }
    return rc;
}

/* The process-wide settings of the shared config and where each came from. */
static void s_print_settings(const struct cwx_aws *aws, FILE *out)
{
    const struct cwx_aws_settings *st = cwx_aws_get_settings(aws);
    fprintf(out, "settings\n");
    fprintf(out, "  profile:      %s (%s)\n", st->profile, st->profile_origin);
    fprintf(out, "  retry_mode:   %s (%s)\n", cwx_retry_mode_name(st->retry_mode),
           st->retry_mode_origin);
    fprintf(out, "  max_attempts: %d (%s)\n", st->max_attempts, st->max_attempts_origin);
    fprintf(out, "  ca_bundle:    %s (%s)\n", st->ca_bundle ? st->ca_bundle : "system store",
           st->ca_bundle_origin);
    if (st->ignore_endpoints)
        fprintf(out, "  ignore_configured_endpoint_urls: true (%s)\n", st->ignore_endpoints_origin);
}

static void s_print(struct cwx_aws *aws, const struct s_subject *s, FILE *out, int *bad)
{
    const struct cwx_aws_settings *st = cwx_aws_get_settings(aws);
    fprintf(out, "%s\n", s->name);
    fprintf(out, "  credentials: %s\n", s->creds ? cwx_creds_provider_source(s->creds) : "none");
    fprintf(out, "  region:      %s (%s)\n", s->region, s->region_origin);
    static const char *const services[] = {"logs", "s3", "sts", "sns"};
    for (size_t i = 0; i < sizeof services / sizeof *services; i++) {
        struct cwx_buf url;
        int path_style = 0;
        int k = cwx_aws_settings_service(services[i]);
        cwx_buf_init(&url, 1024);
        if (cwx_aws_endpoint(aws, services[i], s->region, &url, &path_style) == 0)
            fprintf(out, "  %-12s %s%s (%s)\n", services[i], url.ptr,
                   path_style ? " (path-style)" : "", k >= 0 ? st->endpoint_origin[k] : "");
        cwx_buf_free(&url);
    }
    if (s->status) {
        fprintf(out, "  identity:    ERROR %s\n", s->error);
        *bad = 1;
        return;
    }
    fprintf(out, "  account:     %s\n  caller:      %s\n", s->account, s->arn);
    if (s->expected_account && strcmp(s->expected_account, s->account) != 0) {
        fprintf(out, "  mismatch:    the config says account_id %s; these credentials belong "
               "to %s\n", s->expected_account, s->account);
        *bad = 1;
    }
}

/* The subjects to ask about: cfg's accounts, or the default chain. */
static void s_subjects(struct s_subject *subj, size_t n, const struct cwx_config *cfg,
                       const struct cwx_whoami_opts *opts)
{
    for (size_t i = 0; i < n; i++) {
        struct s_subject *s = &subj[i];
        if (cfg) {
            const struct cwx_account *a = &cfg->accounts[i];
            s->name = a->name;
            s->profile = a->profile;
            s->role_arn = a->role_arn;
            s->external_id = a->external_id;
            s->expected_account = a->account_id;
            snprintf(s->region, sizeof s->region, "%s", a->regions[0]);
            s->region_origin = opts->region ? "--region" : "config";
        } else {
            s->name = "default credential chain";
            s->profile = opts->profile;
            if (cwx_creds_resolve_region(opts->region, s->profile, s->region,
                                         sizeof s->region, &s->region_origin) != 0) {
                snprintf(s->region, sizeof s->region, "us-east-1");
                s->region_origin = "no region configured; STS default";
            }
        }
    }
}

/* Asks for every identity on loop and writes the report; returns the exit
 * code. */
static int s_ask(uv_loop_t *loop, struct s_subject *subj, size_t n,
                 const struct cwx_config *cfg, const struct cwx_whoami_opts *opts, FILE *out)
{
    struct cwx_aws *aws = NULL;
    struct cwx_aws_options ao = {
        .profile = cfg ? cwx_session_profile(cfg) : opts->profile,
        .allow_insecure_http = opts->allow_insecure_endpoint ||
                               (cfg && cfg->allow_insecure_endpoint),
    };
    int rc = cwx_aws_new(loop, &ao, &aws);
    if (rc) {
        fprintf(stderr, "cwexport whoami: %s\n", cwx_strerror(rc));
        return cwx_err_access(rc) ? CWX_EXIT_CREDENTIALS : CWX_EXIT_FAILED;
    }
    for (size_t i = 0; i < n; i++)
        s_start(aws, &subj[i]);
    uv_run(loop, UV_RUN_DEFAULT);
    int bad = 0;
    s_print_settings(aws, out);
    for (size_t i = 0; i < n; i++)
        s_print(aws, &subj[i], out, &bad);
    for (size_t i = 0; i < n; i++) {
        cwx_aws_client_free(subj[i].client);
        cwx_creds_provider_free(subj[i].creds);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    cwx_aws_free(aws);
    uv_run(loop, UV_RUN_DEFAULT);
    return bad ? CWX_EXIT_CREDENTIALS : CWX_EXIT_OK;
}

int cwx_preflight_whoami(const struct cwx_config *cfg, const struct cwx_whoami_opts *opts,
                         FILE *out)
{
    size_t n = cfg ? cfg->n_accounts : 1;
    struct s_subject *subj = calloc(n, sizeof *subj);
    if (!subj)
        return CWX_EXIT_FAILED;
    s_subjects(subj, n, cfg, opts);
    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc) {
        fprintf(stderr, "cwexport whoami: %s\n", uv_strerror(rc));
        free(subj);
        return CWX_EXIT_FAILED;
    }
    int exit_code = s_ask(&loop, subj, n, cfg, opts, out);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "cwexport whoami: internal error: handles left open\n");
    free(subj);
    return exit_code;
}
