/* The AWS layer's context, its clients with their rate limiter, and the
 * life of a signed, retried, rate-limited call (aws/core.h). The steps of
 * an attempt live beside it: core_request.c (credentials, signing,
 * sending), core_dispatch.c (the answer), core_retry.c (what a failure
 * leads to); core_endpoint.c and core_error.c are pure.
 *
 * One logical call (struct cwx__call, aws/core_private.h) goes through
 * these steps, each one asynchronous and each ending in a callback from
 * the loop:
 *
 *   queued ──(rate limiter token)──▶ credentials ──▶ HTTP ──▶ classify
 *     ▲                                                        │
 *     └──── backoff timer (transient, throttle) ◀──────────────┤
 *     └──── at once (expired credentials, clock skew: once) ◀──┤
 *                                                              ▼
 *                                                      the user's callback
 *
 * The rate limiter is a token bucket per client, refilled from uv_now();
 * calls wait in a FIFO and a uv_timer wakes the queue when the next token
 * is due. A retried call goes back to the head of the queue: it has waited
 * already. Every attempt takes a token, as every attempt counts against
 * AWS's quotas.
 *
 * Lifetimes: a call holds a reference on its client and on the context;
 * each embeds a uv_timer_t, so each is freed in its close callback once
 * the last reference is gone. The user's callback runs exactly once per
 * accepted call and never inside cwx_aws_call (a failure detected while
 * the call is still being started is deferred through the call's timer). */
#include "aws/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core_internal.h"
#include "aws/core_private.h"
#include "aws/credentials.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/list.h"
#include "common/log.h"
#include "common/mem.h"

int cwx_aws_new(uv_loop_t *loop, const struct cwx_aws_options *opts, struct cwx_aws **out)
{
    *out = NULL;
    struct cwx_aws *aws = calloc(1, sizeof(*aws));
    if (!aws)
        return CWX_ENOMEM;
    aws->loop = loop;
    aws->refs = 1;
    if (opts) {
        aws->opts = *opts;
        aws->opts.http = NULL;
        aws->opts.profile = NULL;
    }
    cwx_retry_quota_init(&aws->quota, opts && opts->retry_quota > 0 ? opts->retry_quota
                                                                     : CWX_RETRY_QUOTA_CAPACITY);
    /* The shared config's settings (environment over profile); a shared
     * file that cannot be read leaves the environment's. */
    char why[512];
    int rc = cwx_aws_settings_load(opts ? opts->profile : NULL, NULL, &aws->settings, why,
                                   sizeof(why));
    if (rc == CWX_ENOMEM) {
        free(aws);
        return rc;
    }
    if (rc)
        CWX_LOGW("aws: the shared config's settings are not read: %s", why);
    aws->retry_mode = aws->settings.retry_mode;
    aws->max_attempts = opts && opts->max_attempts > 0 ? opts->max_attempts
                                                        : aws->settings.max_attempts;
    struct cwx_http_options ho = {0};
    if (opts && opts->http)
        ho = *opts->http;
    if (!ho.ca_bundle && aws->settings.ca_bundle)
        ho.ca_bundle = aws->settings.ca_bundle;
    rc = cwx__aws_endpoint_policy(&aws->settings, opts && opts->allow_insecure_http);
    if (rc) {
        cwx_aws_settings_free(&aws->settings);
        free(aws);
        return rc;
    }
    rc = cwx_http_new(loop, &ho, &aws->http);
    if (rc) {
        cwx_aws_settings_free(&aws->settings);
        free(aws);
        return rc;
    }
    *out = aws;
    return 0;
}

static void s_aws_unref(struct cwx_aws *aws)
{
    if (--aws->refs > 0)
        return;
    cwx_aws_settings_free(&aws->settings);
    free(aws);
}

static void s_call_cancel(struct cwx__call *call);

void cwx_aws_free(struct cwx_aws *aws)
{
    if (!aws || aws->freeing)
        return;
    aws->freeing = 1;
    /* Calls of clients that were not freed first: end them. */
    for (struct cwx__call *c = aws->calls, *next; c; c = next) {
        next = c->all_next;
        s_call_cancel(c);
    }
    /* Transfers in flight end with CWX_ECANCELED inside this. */
    cwx_http_free(aws->http);
    aws->http = NULL;
    s_aws_unref(aws);
}

uv_loop_t *cwx_aws_loop(const struct cwx_aws *aws)
{
    return aws->loop;
}

struct cwx_http *cwx_aws_http(const struct cwx_aws *aws)
{
    return aws->http;
}

int64_t cwx_aws_now_ms(const struct cwx_aws *aws)
{
    int64_t now = aws->opts.now_ms ? aws->opts.now_ms(aws->opts.now_ud) : cwx_wall_ms();
    return now + aws->skew_ms;
}

void cwx_aws_get_stats(const struct cwx_aws *aws, struct cwx_aws_stats *out)
{
    *out = aws->stats;
    out->quota_available = aws->quota.available;
    out->skew_ms = aws->skew_ms;
}

/* ---- clients and the rate limiter ----------------------------------------- */

static void s_client_close_cb(uv_handle_t *h)
{
    struct cwx_aws_client *c = h->data;
    struct cwx_aws *aws = c->aws;
    free(c);
    s_aws_unref(aws);
}

static void s_client_unref(struct cwx_aws_client *c)
{
    if (--c->refs > 0)
        return;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, s_client_close_cb);
}

int cwx_aws_client_new(struct cwx_aws *aws, const struct cwx_aws_client_options *opts,
                       struct cwx_aws_client **out)
{
    *out = NULL;
    if (!aws || !opts || !cwx__aws_region_ok(opts->region) || opts->rate_per_s < 0 ||
        opts->burst < 0 || aws->freeing)
        return CWX_EINVAL;
    struct cwx_aws_client *c = calloc(1, sizeof(*c));
    if (!c)
        return CWX_ENOMEM;
    double rate = opts->rate_per_s;
    double burst = opts->burst > 0 ? opts->burst : (rate > 1 ? rate : 1);
    *c = (struct cwx_aws_client){.aws = aws, .creds = opts->creds, .rate = rate,
                                 .burst = burst, .tokens = burst,
                                 .refill_ms = uv_now(aws->loop), .refs = 1};
    snprintf(c->region, sizeof(c->region), "%s", opts->region);
    cwx_retry_adaptive_init(&c->adaptive, (double)uv_now(aws->loop) / 1000.0);
    uv_timer_init(aws->loop, &c->timer);
    c->timer.data = c;
    aws->refs++;
    *out = c;
    return 0;
}

int cwx_aws_client_set_expected_bucket_owner(struct cwx_aws_client *c, const char *account_id)
{
    if (!account_id || !account_id[0]) {
        c->expected_owner[0] = '\0';
        return 0;
    }
    size_t n = strlen(account_id);
    if (n != 12 || strspn(account_id, "0123456789") != n)
        return CWX_EINVAL;
    memcpy(c->expected_owner, account_id, n + 1);
    return 0;
}

void cwx_aws_client_get_stats(const struct cwx_aws_client *c, struct cwx_aws_client_stats *out)
{
    *out = c->stats;
}

static void s_queue_remove(struct cwx_aws_client *c, struct cwx__call *call)
{
    if (!call->q_next)
        c->q_tail = call->q_prev;
    CWX_LIST_UNLINK(c->q_head, call, q_prev, q_next);
}

static void s_limiter_run(struct cwx_aws_client *c);

static void s_limiter_timer_cb(uv_timer_t *t)
{
    struct cwx_aws_client *c = t->data;
    c->timer_armed = 0;
    s_limiter_run(c);
}

/* Starts as many queued calls as there are tokens, in FIFO order, and arms
 * the timer for the next token when calls are left waiting. */
static void s_limiter_run(struct cwx_aws_client *c)
{
    uint64_t now = uv_now(c->aws->loop);
    if (c->rate > 0) {
        c->tokens += (double)(now - c->refill_ms) * c->rate / 1000.0;
        if (c->tokens > c->burst)
            c->tokens = c->burst;
    }
    c->refill_ms = now;
    c->refs++; /* a call's callback may free the client */
    uint64_t adaptive_wait_ms = 0;
    while (c->q_head && (c->rate <= 0 || c->tokens >= 1.0)) {
        if (c->aws->retry_mode == CWX_RETRY_MODE_ADAPTIVE) {
            double w = cwx_retry_adaptive_acquire(&c->adaptive, (double)now / 1000.0);
            if (w > 0) {
                adaptive_wait_ms = (uint64_t)(w * 1000.0) + 1;
                break;
            }
        }
        struct cwx__call *call = c->q_head;
        s_queue_remove(c, call);
        if (c->rate > 0)
            c->tokens -= 1.0;
        cwx__call_attempt(call);
    }
    if (c->q_head && !c->timer_armed && !c->freeing) {
        /* Rounded up, and never 0 ms (docs/contributing.md §libuv-timers). */
        uint64_t wait_ms = adaptive_wait_ms
                               ? adaptive_wait_ms
                               : (uint64_t)((1.0 - c->tokens) * 1000.0 / c->rate) + 1;
        c->timer_armed = 1;
        uv_timer_start(&c->timer, s_limiter_timer_cb, wait_ms, 0);
    }
    s_client_unref(c);
}

void cwx__call_enqueue(struct cwx__call *call, int front)
{
    struct cwx_aws_client *c = call->client;
    call->state = CWX__CALL_QUEUED;
    if (front) {
        if (!c->q_head)
            c->q_tail = call;
        CWX_LIST_PUSH(c->q_head, call, q_prev, q_next);
    } else {
        if (!c->q_tail)
            c->q_head = call;
        /* The last node is the first of the queue read backwards. */
        CWX_LIST_PUSH(c->q_tail, call, q_next, q_prev);
    }
    /* When the timer is armed, the head is waiting for a token already:
     * joining the queue cannot make it due sooner. */
    if (!c->timer_armed)
        s_limiter_run(c);
}

void cwx_aws_client_free(struct cwx_aws_client *c)
{
    if (!c || c->freeing)
        return;
    c->freeing = 1;
    c->refs++;
    uv_timer_stop(&c->timer);
    c->timer_armed = 0;
    for (struct cwx__call *call = c->aws->calls, *next; call; call = next) {
        next = call->all_next;
        if (call->client == c)
            s_call_cancel(call);
    }
    s_client_unref(c); /* ours, above */
    s_client_unref(c); /* the owner's */
}

/* ---- calls ------------------------------------------------------------------ */

/* Frees call and what it owns (its timer is closed or was never started). */
static void s_call_free(struct cwx__call *call)
{
    cwx_buf_free(&call->url);
    cwx_buf_free(&call->path);
    if (call->have_sig)
        cwx_sigv4_signed_free(&call->sig);
    CWX_FREE_ALL(call->hdrs, call->sighdrs, call);
}

static void s_call_close_cb(uv_handle_t *h)
{
    struct cwx__call *call = h->data;
    struct cwx_aws_client *c = call->client;
    struct cwx_aws *aws = c->aws;
    s_call_free(call);
    /* The client's close is itself asynchronous and holds its own
     * reference on aws, so aws outlives this. */
    s_client_unref(c);
    s_aws_unref(aws);
}

static void s_call_release(struct cwx__call *call)
{
    struct cwx_aws *aws = call->client->aws;
    CWX_LIST_UNLINK(aws->calls, call, all_prev, all_next);
    uv_timer_stop(&call->timer);
    uv_close((uv_handle_t *)&call->timer, s_call_close_cb);
}

static void s_deferred_cb(uv_timer_t *t)
{
    struct cwx__call *call = t->data;
    cwx__call_complete(call, call->deferred_status, NULL);
}

void cwx__call_complete(struct cwx__call *call, int status,
                        const struct cwx_http_response *resp)
{
    if (call->starting) {
        /* Never inside cwx_aws_call: finish from the loop. */
        call->state = CWX__CALL_DEFERRED;
        call->deferred_status = status;
        uv_timer_start(&call->timer, s_deferred_cb, 0, 0);
        return;
    }
    struct cwx_aws *aws = call->client->aws;
    call->state = CWX__CALL_DONE;
    call->err.attempts = call->attempts;
    if (status == 0)
        cwx_retry_quota_success(&aws->quota, call->quota_taken);
    call->cb(status, resp, &call->err, call->ud);
    s_call_release(call);
}

void cwx__call_fail(struct cwx__call *call, int status, const char *msg)
{
    if (msg)
        snprintf(call->err.message, sizeof(call->err.message), "%s", msg);
    cwx__call_complete(call, status, NULL);
}

static void s_call_cancel(struct cwx__call *call)
{
    if (call->canceled || call->state == CWX__CALL_DONE)
        return;
    call->canceled = 1;
    switch (call->state) {
    case CWX__CALL_QUEUED:
        s_queue_remove(call->client, call);
        cwx__call_fail(call, CWX_ECANCELED, "canceled");
        break;
    case CWX__CALL_BACKOFF:
    case CWX__CALL_DEFERRED:
        uv_timer_stop(&call->timer);
        if (call->state == CWX__CALL_DEFERRED)
            cwx__call_fail(call, call->deferred_status, NULL);
        else
            cwx__call_fail(call, CWX_ECANCELED, "canceled");
        break;
    default:
        /* Credentials or HTTP: the step ends with a callback; the call
         * ends there (the transport and the provider cancel theirs when
         * freed). */
        break;
    }
}

int cwx_aws_call(struct cwx_aws_client *c, const struct cwx_aws_request *req,
                 cwx_aws_done_fn *cb, void *ud)
{
    if (!c || !req || !cb || !req->service || !req->method || c->freeing || c->aws->freeing)
        return CWX_EINVAL;
    struct cwx_aws *aws = c->aws;
    struct cwx__call *call = calloc(1, sizeof(*call));
    if (!call)
        return CWX_ENOMEM;
    *call = (struct cwx__call){.client = c, .req = *req, .cb = cb, .ud = ud};
    cwx_buf_init(&call->url, 0);
    cwx_buf_init(&call->path, 0);
    int rc = 0;
    struct cwx_buf base;
    cwx_buf_init(&base, 0);
    int path_style = 0;
    rc = cwx_aws_endpoint(aws, req->service, c->region, &base, &path_style);
    if (!rc)
        rc = cwx__aws_request_url(base.ptr, path_style, req->bucket, req->path, req->query,
                                  &call->url, &call->path);
    cwx_buf_free(&base);
    if (!rc) {
        /* host[:port] from the URL, as curl will send it. */
        const char *h = strstr(call->url.ptr, "://");
        h = h ? h + 3 : call->url.ptr;
        size_t hl = strcspn(h, "/?");
        if (hl == 0 || hl >= sizeof(call->host))
            rc = CWX_EINVAL;
        else {
            memcpy(call->host, h, hl);
            call->host[hl] = '\0';
            const char *q = strchr(h, '?');
            call->query = q ? (char *)q + 1 : NULL;
        }
    }
    if (!rc) {
        call->hdrs = calloc(req->n_headers + 8, sizeof(*call->hdrs));
        call->sighdrs = calloc(req->n_headers + 3, sizeof(*call->sighdrs));
        if (!call->hdrs || !call->sighdrs)
            rc = CWX_ENOMEM;
    }
    if (rc) {
        s_call_free(call);
        return rc;
    }
    uv_timer_init(aws->loop, &call->timer);
    call->timer.data = call;
    call->normal = 1;
    c->refs++;
    aws->refs++;
    CWX_LIST_PUSH(aws->calls, call, all_prev, all_next);
    c->stats.calls++;
    aws->stats.calls++;

    call->starting = 1;
    cwx__call_enqueue(call, 0);
    call->starting = 0;
    return 0;
}
