/* The AWS session of a run, a plan or a status: credentials per account,
 * one client per target (account and region), the SNS client, and the
 * waits before a call is made again. */
#include "orchestrator/orchestrator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "common/list.h"
#include "common/log.h"
#include "common/mem.h"
#include "orchestrator/orchestrator_internal.h"
#include "workers/workers.h"

/* A wait of cwx_session_retry_later. */
struct s_wait {
    uv_timer_t timer;
    struct cwx_session *s;
    void (*fn)(void *ud);
    void *ud;
    struct s_wait *prev, *next;
};

static void s_wait_closed(uv_handle_t *h);

struct cwx_session {
    uv_loop_t *loop;
    struct s_wait *waits; /* pending */
    uint64_t n_waits;     /* started */
    int stopping;
    const struct cwx_config *cfg;
    const struct cwx_plan *plan;
    struct cwx_aws *aws;
    struct cwx_creds_provider **providers; /* per account */
    struct cwx_aws_client **clients;       /* per target */
    size_t n_providers, n_clients;
    struct cwx_creds_provider *base;       /* default chain, for SNS */
    struct cwx_aws_client *sns;
    char sns_region[32];
};

const char *cwx_session_profile(const struct cwx_config *cfg)
{
    const char *profile = cfg->n_accounts ? cfg->accounts[0].profile : NULL;
    for (size_t a = 1; a < cfg->n_accounts && profile; a++)
        if (!cfg->accounts[a].profile || strcmp(cfg->accounts[a].profile, profile) != 0)
            profile = NULL;
    return profile;
}

/* The account that must own target's bucket: the destination's
 * expected_bucket_owner, else the target's account id once it is known
 * (docs/trust.md). Sent with every S3 call of the target's client. */
void cwx__session_owner(struct cwx_session *s, uint32_t target)
{
    const struct cwx_plan_target *tg = &s->plan->targets[target];
    const char *owner = s->cfg->accounts[tg->account].settings.destination.expected_bucket_owner;
    cwx_aws_client_set_expected_bucket_owner(s->clients[target],
                                             owner ? owner : tg->account_id);
}

int cwx_session_new(uv_loop_t *loop, const struct cwx_config *cfg,
                    const struct cwx_plan *plan, struct cwx_session **out, char *why,
                    size_t why_size)
{
    *out = NULL;
    struct cwx_session *s = malloc(sizeof(*s));
    if (!s)
        return CWX_ENOMEM;
    *s = (struct cwx_session){.loop = loop, .cfg = cfg, .plan = plan};
    struct cwx_aws_options ao = {.profile = cwx_session_profile(cfg),
                                 .allow_insecure_http = cfg->allow_insecure_endpoint};
    int rc = cwx_aws_new(loop, &ao, &s->aws);
    if (rc) {
        snprintf(why, why_size, "cannot set up AWS: %s", cwx_strerror(rc));
        free(s);
        return rc;
    }
    s->providers = calloc(cfg->n_accounts ? cfg->n_accounts : 1, sizeof(*s->providers));
    s->clients = calloc(plan->n_targets ? plan->n_targets : 1, sizeof(*s->clients));
    if (!s->providers || !s->clients) {
        rc = CWX_ENOMEM;
        goto fail;
    }
    for (size_t a = 0; a < cfg->n_accounts; a++) {
        const struct cwx_account *acc = &cfg->accounts[a];
        struct cwx_creds_options o = {
            .profile = acc->profile,
            .role_arn = acc->role_arn,
            .external_id = acc->external_id,
            .session_name = "cwexport",
            .region = acc->n_regions ? acc->regions[0] : acc->settings.region,
        };
        rc = cwx_creds_provider_new(s->aws, &o, &s->providers[a]);
        if (rc) {
            snprintf(why, why_size, "account %s: cannot set up credentials: %s", acc->name,
                     cwx_strerror(rc));
            goto fail;
        }
        s->n_providers = a + 1;
    }
    for (size_t t = 0; t < plan->n_targets; t++) {
        const struct cwx_plan_target *tg = &plan->targets[t];
        const struct cwx_account *acc = &cfg->accounts[tg->account];
        struct cwx_aws_client_options o = {
            .creds = s->providers[tg->account],
            .region = tg->region,
            .rate_per_s = acc->settings.api_rate,
        };
        rc = cwx_aws_client_new(s->aws, &o, &s->clients[t]);
        if (rc) {
            snprintf(why, why_size, "account %s, region %s: cannot make a client: %s", acc->name,
                     tg->region, cwx_strerror(rc));
            goto fail;
        }
        s->n_clients = t + 1;
        cwx__session_owner(s, (uint32_t)t);
    }
    *out = s;
    return 0;
fail:
    cwx_session_free(s);
    return rc;
}

void cwx_session_free(struct cwx_session *s)
{
    if (!s)
        return;
    /* Waits left (an error path): closed without running. */
    while (s->waits) {
        struct s_wait *w = s->waits;
        s->waits = w->next;
        uv_close((uv_handle_t *)&w->timer, s_wait_closed);
    }
    if (s->sns)
        cwx_aws_client_free(s->sns);
    if (s->base)
        cwx_creds_provider_free(s->base);
    for (size_t i = 0; i < s->n_clients; i++)
        cwx_aws_client_free(s->clients[i]);
    for (size_t i = 0; i < s->n_providers; i++)
        cwx_creds_provider_free(s->providers[i]);
    cwx_aws_free(s->aws);
    CWX_FREE_ALL(s->clients, s->providers, s);
}

static void s_wait_closed(uv_handle_t *h)
{
    free(h->data);
}

static void s_wait_fired(uv_timer_t *t)
{
    struct s_wait *w = t->data;
    CWX_LIST_UNLINK(w->s->waits, w, prev, next);
    void (*fn)(void *) = w->fn;
    void *ud = w->ud;
    uv_close((uv_handle_t *)t, s_wait_closed);
    fn(ud);
}

/* Calls fn(ud) from a timer after delay_ms (at once when stopping); counted:
 * the wait counts in cwx_session_waits. */
static int s_session_after(struct cwx_session *s, uint64_t delay_ms, int counted,
                           void (*fn)(void *ud), void *ud)
{
    struct s_wait *w = malloc(sizeof(*w));
    if (!w)
        return CWX_ENOMEM;
    *w = (struct s_wait){.s = s, .fn = fn, .ud = ud};
    uv_timer_init(s->loop, &w->timer);
    w->timer.data = w;
    s->n_waits += (uint64_t)counted;
    CWX_LIST_PUSH(s->waits, w, prev, next);
    uv_timer_start(&w->timer, s_wait_fired, s->stopping ? 0 : delay_ms, 0);
    return 0;
}

void cwx_session_stop(struct cwx_session *s)
{
    s->stopping = 1;
    for (struct s_wait *w = s->waits; w; w = w->next)
        uv_timer_start(&w->timer, s_wait_fired, 0, 0);
}

int cwx_session_retry_later(struct cwx_session *s, const struct cwx_settings *st, int *tries,
                            int status, const struct cwx_aws_error *err, const char *who,
                            const char *what, void (*fn)(void *ud), void *ud)
{
    if (!cwx_err_transient(status) || s->stopping || ++*tries >= CWX_PATIENCE_TRIES)
        return 0;
    struct cwx_patience p = cwx_patience_of(st);
    uint64_t delay = cwx_patience_delay(&p, *tries);
    char e[320];
    CWX_LOGW("%s: %s failed (%s); trying again in %llu ms", who, what,
             cwx__why(status, err, e, sizeof(e)), (unsigned long long)delay);
    return s_session_after(s, delay, 1, fn, ud) == 0;
}

uint64_t cwx_session_waits(const struct cwx_session *s)
{
    return s->n_waits;
}

int cwx_session_stopping(const struct cwx_session *s)
{
    return s->stopping;
}

struct cwx_aws *cwx_session_aws(struct cwx_session *s)
{
    return s->aws;
}

struct cwx_aws_client *cwx_session_client(struct cwx_session *s, uint32_t target)
{
    return target < s->n_clients ? s->clients[target] : NULL;
}

struct cwx_aws_client *cwx_session_sns_client(struct cwx_session *s, const char *topic_arn)
{
    if (s->sns)
        return s->sns;
    /* arn:aws:sns:REGION:ACCOUNT:NAME */
    const char *p = topic_arn;
    for (int i = 0; i < 3 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    if (!p || !end || end == p || (size_t)(end - p) >= sizeof(s->sns_region))
        return NULL;
    memcpy(s->sns_region, p, (size_t)(end - p));
    s->sns_region[end - p] = 0;
    struct cwx_creds_options o = {.session_name = "cwexport", .region = s->sns_region};
    if (!s->base && cwx_creds_provider_new(s->aws, &o, &s->base))
        return NULL;
    struct cwx_aws_client_options co = {.creds = s->base, .region = s->sns_region};
    if (cwx_aws_client_new(s->aws, &co, &s->sns))
        s->sns = NULL;
    return s->sns;
}

uint64_t cwx_session_api_calls(const struct cwx_session *s)
{
    uint64_t n = 0;
    struct cwx_aws_client_stats st;
    for (size_t i = 0; i < s->n_clients; i++) {
        cwx_aws_client_get_stats(s->clients[i], &st);
        n += st.calls;
    }
    if (s->sns) {
        cwx_aws_client_get_stats(s->sns, &st);
        n += st.calls;
    }
    return n;
}

void cwx_session_target_stats(const struct cwx_session *s, uint32_t target,
                              struct cwx_session_stats *out)
{
    if (target >= s->n_clients)
        return;
    struct cwx_aws_client_stats st;
    cwx_aws_client_get_stats(s->clients[target], &st);
    out->calls += st.calls;
    out->retries += st.retries;
    out->throttles += st.throttles;
}

void cwx_session_account_stats(const struct cwx_session *s, uint32_t account,
                               struct cwx_session_stats *out)
{
    if (account >= s->n_providers)
        return;
    struct cwx_creds_stats st;
    cwx_creds_get_stats(s->providers[account], &st);
    out->cred_fetches += st.fetches;
    out->cred_failures += st.failures;
}

/* ---- what the online steps share ----------------------------------------- */

const char *cwx__why(int status, const struct cwx_aws_error *err, char *buf, size_t size)
{
    buf[0] = 0;
    if (err)
        cwx_aws_error_format(err, buf, size);
    return buf[0] ? buf : cwx_strerror(status);
}

int cwx__account_errors_new(size_t n, int **errors, char ***details)
{
    *errors = calloc(n + 1, sizeof(**errors));
    *details = calloc(n + 1, sizeof(**details));
    if (*errors && *details)
        return 0;
    free(*errors);
    free(*details);
    *errors = NULL;
    *details = NULL;
    return CWX_ENOMEM;
}

void cwx__account_errors_free(size_t n, int *errors, char **details)
{
    free(errors);
    for (size_t i = 0; details && i < n; i++)
        free(details[i]);
    free(details);
}

void cwx__account_gives_up(int *errors, char **details, uint32_t account, int status,
                           const char *detail, const char *who)
{
    errors[account] = status;
    free(details[account]);
    details[account] = strdup(detail);
    CWX_LOGE("%s: %s", who, detail);
}

int cwx__session_soon(struct cwx_session *s, void (*fn)(void *ud), void *ud)
{
    return s_session_after(s, 1, 0, fn, ud);
}
