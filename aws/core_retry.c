/* Retry: what a failed attempt leads to. Expired credentials and clock
 * skew get one repair each that does not count as an attempt; transient
 * failures, timeouts and throttling back off (aws/retry.c: delays, the
 * retry quota) and try again up to max_attempts; anything else, or the
 * last attempt, ends the call with the status its class maps to. */
#include "aws/core_private.h"
#include "aws/credentials.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

static void s_backoff_cb(uv_timer_t *t)
{
    struct cwx__call *call = t->data;
    cwx__call_enqueue(call, 1);
}

/* The status a call ends with after its last attempt. */
static int s_final_status(enum cwx_retry_class k, const struct cwx_http_response *resp)
{
    switch (k) {
    case CWX_RETRY_SUCCESS:
        return 0;
    case CWX_RETRY_SLOT_BUSY:
        return CWX_ESLOTBUSY;
    case CWX_RETRY_DENIED:
        return CWX_EDENIED;
    case CWX_RETRY_EXPIRED_CREDS:
        return CWX_ECRED;
    case CWX_RETRY_THROTTLE:
        return CWX_ETHROTTLED;
    case CWX_RETRY_TIMEOUT:
        return CWX_ETIMEDOUT;
    case CWX_RETRY_TRANSIENT:
        /* 5xx (or a transient code) on every attempt: worth trying again
         * later, unlike an error AWS gives for the request itself. */
        return resp->error ? resp->error : CWX_EUNAVAIL;
    case CWX_RETRY_CLOCK_SKEW:
    case CWX_RETRY_FATAL:
        break;
    }
    return resp->error ? resp->error : CWX_EAWS;
}

static void s_notify(struct cwx__call *call, enum cwx_retry_class k,
                     const struct cwx_http_response *resp, int64_t delay_ms)
{
    struct cwx_aws *aws = call->client->aws;
    CWX_LOGD("aws: %s attempt %d: %s (HTTP %ld%s%s)%s", call->req.service, call->attempts,
             cwx_retry_class_name(k), resp->status, call->err.code[0] ? ", " : "",
             call->err.code, delay_ms >= 0 ? ", retrying" : "");
    if (!aws->opts.on_retry)
        return;
    struct cwx_aws_retry_info info = {
        .service = call->req.service,
        .attempt = call->attempts,
        .kind = cwx_retry_class_name(k),
        .http_status = resp->status,
        .transport_error = resp->error,
        .code = call->err.code,
        .delay_ms = delay_ms,
        .quota_available = aws->quota.available,
    };
    aws->opts.on_retry(&info, aws->opts.retry_ud);
}


/* Counts a retry and puts the call back at the head of its queue. */
static void s_again(struct cwx__call *call, enum cwx_retry_class k,
                    const struct cwx_http_response *resp)
{
    struct cwx_aws_client *c = call->client;
    s_notify(call, k, resp, 0);
    c->stats.retries++;
    c->aws->stats.retries++;
    cwx__call_enqueue(call, 1);
}

/* The one-shot repairs: fresh credentials, a corrected clock. Returns 1
 * when the call goes again. */
static int s_repair(struct cwx__call *call, enum cwx_retry_class k,
                    const struct cwx_http_response *resp, int64_t server_ms, int no_retry)
{
    struct cwx_aws_client *c = call->client;
    struct cwx_aws *aws = c->aws;
    if (k == CWX_RETRY_EXPIRED_CREDS && !call->creds_retried && !no_retry && c->creds) {
        call->creds_retried = 1;
        cwx_creds_invalidate(c->creds);
        aws->stats.creds_refreshes++;
        s_again(call, k, resp);
        return 1;
    }
    if (k == CWX_RETRY_CLOCK_SKEW && !call->skew_retried && !no_retry) {
        call->skew_retried = 1;
        if (server_ms) {
            int64_t local = aws->opts.now_ms ? aws->opts.now_ms(aws->opts.now_ud) : cwx_wall_ms();
            aws->skew_ms = server_ms - local;
            aws->stats.skew_corrections++;
            CWX_LOGW("aws: clock skew of %lld ms against %s: corrected",
                     (long long)aws->skew_ms, call->host);
        }
        s_again(call, k, resp);
        return 1;
    }
    return 0;
}

/* A backoff before another attempt when the class, the attempts left and
 * the retry quota allow one. Returns 1 when the call waits. */
static int s_backoff(struct cwx__call *call, enum cwx_retry_class k,
                     const struct cwx_http_response *resp)
{
    struct cwx_aws_client *c = call->client;
    struct cwx_aws *aws = c->aws;
    /* Legacy mode has no retry quota. */
    int taken = aws->retry_mode == CWX_RETRY_MODE_LEGACY
                    ? -1
                    : cwx_retry_quota_acquire(&aws->quota, k == CWX_RETRY_TIMEOUT);
    if (!taken) {
        CWX_LOGD("aws: retry quota exhausted: not retrying");
        return 0;
    }
    call->quota_taken = taken > 0 ? taken : 0;
    int64_t delay = cwx_retry_delay_ms(call->normal, aws->opts.random, aws->opts.random_ud);
    s_notify(call, k, resp, delay);
    c->stats.retries++;
    aws->stats.retries++;
    call->normal++;
    call->state = CWX__CALL_BACKOFF;
    uv_timer_start(&call->timer, s_backoff_cb, (uint64_t)delay, 0);
    return 1;
}

void cwx__call_retry_or_end(struct cwx__call *call, enum cwx_retry_class k,
                            const struct cwx_http_response *resp, int64_t server_ms)
{
    struct cwx_aws_client *c = call->client;
    if (k == CWX_RETRY_THROTTLE) {
        c->stats.throttles++;
        c->aws->stats.throttles++;
    }
    int no_retry = (call->req.flags & CWX_AWS_NO_RETRY) != 0 || c->freeing;
    if (s_repair(call, k, resp, server_ms, no_retry))
        return;
    int retryable = k == CWX_RETRY_TRANSIENT || k == CWX_RETRY_TIMEOUT || k == CWX_RETRY_THROTTLE;
    if (retryable && !no_retry && call->normal < c->aws->max_attempts && s_backoff(call, k, resp))
        return;
    s_notify(call, k, resp, -1);
    cwx__call_complete(call, s_final_status(k, resp), resp);
}
