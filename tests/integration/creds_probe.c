/* creds_probe: drives the credential chain end to end for
 * tests/integration/test_credentials.py. Builds a provider from the
 * environment and the options, gets credentials N times (the later ones
 * normally from the cache), optionally asks sts:GetCallerIdentity with them,
 * and prints key=value lines: the source, the access key id, whether there
 * is a session token, the expiry, the caller identity and the provider's
 * counters. It never prints the secret key or the session token.
 *
 *   creds_probe [--profile P] [--role-arn ARN] [--external-id X]
 *               [--session-name S] [--region R] [--gets N] [--concurrent K]
 *               [--wait-ms MS] [--invalidate] [--identity]
 *
 * Exit status: 0 when every get (and the identity call) succeeded, 3 when a
 * get failed, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/sts.h"
#include "common/error.h"
#include "common/log.h"

struct probe {
    uv_loop_t *loop;
    struct cwx_aws *aws;
    struct cwx_creds_provider *creds;
    struct cwx_aws_client *client;
    uv_timer_t timer;
    const char *region_opt;
    int gets;         /* rounds of gets */
    int concurrent;   /* gets per round, all started together */
    int wait_ms;      /* between rounds */
    int invalidate;   /* forget the cache between rounds */
    int identity;
    int round;        /* current round, from 1 */
    int outstanding;  /* callbacks still due this round */
    int exit_code;
};

static void s_next_round(struct probe *pr);
static void s_finish(struct probe *pr);

static void s_print_time(const char *key, int64_t ms)
{
    if (ms == 0) {
        printf("%s=never\n", key);
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s=%s\n", key, buf);
}

static void s_on_creds(int status, const struct cwx_credentials *c, const char *detail, void *ud)
{
    struct probe *pr = ud;
    int round = pr->round;
    if (status == 0) {
        printf("get%d.status=ok\n", round);
        printf("get%d.source=%s\n", round, c->source);
        printf("get%d.access_key_id=%s\n", round, c->access_key_id);
        printf("get%d.session_token=%s\n", round, c->session_token ? "yes" : "no");
        char key[32];
        snprintf(key, sizeof(key), "get%d.expiration", round);
        s_print_time(key, c->expiration_ms);
    } else {
        printf("get%d.status=%s\n", round, cwx_err_name(status));
        printf("get%d.error=%s\n", round, detail ? detail : "");
        pr->exit_code = 3;
    }
    fflush(stdout);
    if (--pr->outstanding == 0)
        s_next_round(pr);
}

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud)
{
    struct probe *pr = ud;
    if (status == 0) {
        printf("identity.account=%s\n", res->account);
        printf("identity.arn=%s\n", res->arn);
    } else {
        char buf[768] = "";
        if (err)
            cwx_aws_error_format(err, buf, sizeof(buf));
        printf("identity.status=%s\n", cwx_err_name(status));
        printf("identity.error=%s\n", buf);
        if (!pr->exit_code)
            pr->exit_code = 1;
    }
    s_finish(pr);
}

static void s_start_round(struct probe *pr)
{
    pr->round++;
    pr->outstanding = pr->concurrent;
    if (pr->invalidate && pr->round > 1)
        cwx_creds_invalidate(pr->creds);
    for (int i = 0; i < pr->concurrent; i++) {
        int rc = cwx_creds_get(pr->creds, s_on_creds, pr);
        if (rc) {
            printf("get%d.status=%s\n", pr->round, cwx_err_name(rc));
            pr->exit_code = 1;
            pr->outstanding = 0;
            s_finish(pr);
            return;
        }
    }
}

static void s_on_timer(uv_timer_t *t)
{
    s_start_round(t->data);
}

static void s_next_round(struct probe *pr)
{
    if (pr->round < pr->gets && pr->exit_code == 0) {
        if (pr->wait_ms > 0)
            uv_timer_start(&pr->timer, s_on_timer, (uint64_t)pr->wait_ms, 0);
        else
            s_start_round(pr);
        return;
    }
    if (pr->identity && pr->exit_code == 0) {
        char region[64] = "us-east-1";
        cwx_creds_resolve_region(pr->region_opt, NULL, region, sizeof(region), NULL);
        struct cwx_aws_client_options co = {.creds = pr->creds, .region = region};
        int rc = cwx_aws_client_new(pr->aws, &co, &pr->client);
        if (!rc)
            rc = cwx_sts_get_caller_identity(pr->client, s_on_identity, pr);
        if (rc) {
            printf("identity.status=%s\n", cwx_err_name(rc));
            pr->exit_code = 1;
            s_finish(pr);
        }
        return;
    }
    s_finish(pr);
}

static void s_finish(struct probe *pr)
{
    struct cwx_creds_stats st;
    cwx_creds_get_stats(pr->creds, &st);
    printf("stats.gets=%llu\nstats.fetches=%llu\nstats.failures=%llu\n",
           (unsigned long long)st.gets, (unsigned long long)st.fetches,
           (unsigned long long)st.failures);
    fflush(stdout);
}

static int s_usage(void)
{
    fprintf(stderr, "usage: creds_probe [--profile P] [--role-arn ARN] [--external-id X] "
                    "[--session-name S] [--region R] [--gets N] [--concurrent K] "
                    "[--wait-ms MS] [--invalidate] [--identity]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct cwx_creds_options opts = {0};
    struct probe pr = {.gets = 2, .concurrent = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--invalidate") == 0) {
            pr.invalidate = 1;
            continue;
        }
        if (strcmp(a, "--identity") == 0) {
            pr.identity = 1;
            continue;
        }
        if (!v)
            return s_usage();
        i++;
        if (strcmp(a, "--profile") == 0)
            opts.profile = v;
        else if (strcmp(a, "--role-arn") == 0)
            opts.role_arn = v;
        else if (strcmp(a, "--external-id") == 0)
            opts.external_id = v;
        else if (strcmp(a, "--session-name") == 0)
            opts.session_name = v;
        else if (strcmp(a, "--region") == 0)
            opts.region = pr.region_opt = v;
        else if (strcmp(a, "--gets") == 0)
            pr.gets = atoi(v);
        else if (strcmp(a, "--concurrent") == 0)
            pr.concurrent = atoi(v);
        else if (strcmp(a, "--wait-ms") == 0)
            pr.wait_ms = atoi(v);
        else
            return s_usage();
    }
    if (pr.gets < 1 || pr.concurrent < 1)
        return s_usage();
    cwx_log_setup(CWX_LOG_WARN, CWX_LOG_TEXT);

    uv_loop_t loop;
    uv_loop_init(&loop);
    pr.loop = &loop;
    uv_timer_init(&loop, &pr.timer);
    pr.timer.data = &pr;
    int rc = cwx_aws_new(&loop, NULL, &pr.aws);
    if (rc) {
        fprintf(stderr, "creds_probe: cwx_aws_new: %s\n", cwx_strerror(rc));
        return 1;
    }
    rc = cwx_creds_provider_new(pr.aws, &opts, &pr.creds);
    if (rc) {
        fprintf(stderr, "creds_probe: cwx_creds_provider_new: %s\n", cwx_strerror(rc));
        return 1;
    }
    printf("source=%s\n", cwx_creds_provider_source(pr.creds));
    fflush(stdout);
    s_start_round(&pr);
    uv_run(&loop, UV_RUN_DEFAULT);

    cwx_aws_client_free(pr.client);
    cwx_creds_provider_free(pr.creds);
    cwx_aws_free(pr.aws);
    uv_close((uv_handle_t *)&pr.timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) {
        fprintf(stderr, "creds_probe: handles left open on the loop\n");
        return 1;
    }
    return pr.exit_code;
}
