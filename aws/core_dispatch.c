/* Response dispatch: an attempt's answer (or the transport's failure) read
 * into the call's error, classified (aws/retry.c), and handed on: success
 * to the caller, anything else to core_retry.c. */
#include <stdio.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "aws/core_internal.h"
#include "aws/core_private.h"
#include "common/error.h"

/* What a 4xx or 5xx answer says, with what we know that it does not: the
 * bucket owner we expected, the region a redirect points to. */
static void s_read_error(struct cwx__call *call, const struct cwx_http_response *resp)
{
    struct cwx_aws_error *e = &call->err;
    cwx__aws_parse_error(call->req.protocol, call->req.method, call->req.bucket,
                         call->req.path, resp->status, resp->body.ptr, resp->body.len, e);
    if (resp->status == 403 && call->owner[0]) {
        size_t l = strlen(e->message);
        snprintf(e->message + l, sizeof(e->message) - l,
                 "%sbucket %.63s: either it is not owned by the expected account %s "
                 "(expected_bucket_owner) or access is denied",
                 l ? "; " : "", call->req.bucket ? call->req.bucket : "?", call->owner);
    }
    if (resp->bucket_region[0] && strcmp(e->code, "PermanentRedirect") == 0) {
        size_t l = strlen(e->message);
        snprintf(e->message + l, sizeof(e->message) - l, "%sthe bucket is in %s",
                 l ? "; " : "", resp->bucket_region);
    }
}

/* Fills the call's error from what the attempt got. */
static void s_read_answer(struct cwx__call *call, const struct cwx_http_response *resp)
{
    struct cwx_aws_error *e = &call->err;
    memset(e, 0, sizeof(*e));
    /* A transfer that failed after the status line (cut short, too big)
     * keeps its status; one that got no answer has 0. */
    e->http_status = resp->status;
    e->curl_code = resp->error ? resp->curl_code : 0;
    snprintf(e->request_id, sizeof(e->request_id), "%s", resp->request_id);
    if (resp->error) {
        snprintf(e->code, sizeof(e->code), "%s", cwx__aws_transport_code(resp->error));
        snprintf(e->message, sizeof(e->message), "%s", resp->error_msg);
    } else if (resp->status < 200 || resp->status >= 300) {
        s_read_error(call, resp);
    }
}

/* The server's clock from the answer's Date (*server_ms, 0 = none) and how
 * far ours is from it (-1 = unknown). */
static int64_t s_skew(struct cwx_aws *aws, const struct cwx_http_response *resp,
                      int64_t *server_ms)
{
    int64_t skew = -1;
    *server_ms = 0;
    if (resp->date[0] && cwx__http_date_ms(resp->date, strlen(resp->date), server_ms) == 0) {
        skew = *server_ms - cwx_aws_now_ms(aws);
        if (skew < 0)
            skew = -skew;
    }
    return skew;
}

/* The class of the attempt's outcome (aws/retry.c), with what only the call
 * knows: a slot-busy call, a bare 400 to a HEAD. */
static enum cwx_retry_class s_classify(struct cwx__call *call,
                                       const struct cwx_http_response *resp, int64_t skew)
{
    struct cwx_aws_client *c = call->client;
    struct cwx_aws *aws = c->aws;
    struct cwx_retry_answer a = {
        .transport_error = resp->error,
        .http_status = resp->status,
        .code = call->err.code,
        .message = call->err.message,
        .skew_ms = skew,
        .slot_busy_call = (call->req.flags & CWX_AWS_SLOT_BUSY) != 0,
    };
    enum cwx_retry_class k = cwx_retry_classify(&a);
    if (aws->retry_mode == CWX_RETRY_MODE_ADAPTIVE)
        cwx_retry_adaptive_update(&c->adaptive, (double)uv_now(aws->loop) / 1000.0,
                                  k == CWX_RETRY_THROTTLE);
    /* S3 refuses a HEAD signed with an expired session token with a bare
     * 400: no body says why. One retry with fresh credentials tells that
     * case apart from a request that is wrong. */
    if (k == CWX_RETRY_FATAL && resp->status == 400 && !resp->body.len &&
        strcmp(call->req.method, "HEAD") == 0 && !call->creds_retried && c->creds &&
        !(call->req.flags & (CWX_AWS_UNSIGNED | CWX_AWS_NO_RETRY)))
        k = CWX_RETRY_EXPIRED_CREDS;
    return k;
}

void cwx__call_on_http(const struct cwx_http_response *resp, void *ud)
{
    struct cwx__call *call = ud;
    struct cwx_aws *aws = call->client->aws;
    if (call->canceled || aws->freeing || resp->error == CWX_ECANCELED) {
        memset(&call->err, 0, sizeof(call->err));
        cwx__call_fail(call, CWX_ECANCELED, "canceled");
        return;
    }
    s_read_answer(call, resp);
    int64_t server_ms;
    int64_t skew = s_skew(aws, resp, &server_ms);
    enum cwx_retry_class k = s_classify(call, resp, skew);
    if (k != CWX_RETRY_SUCCESS) {
        cwx__call_retry_or_end(call, k, resp, server_ms);
        return;
    }
    /* The Query protocol puts the request id in the body
     * (<ResponseMetadata><RequestId>) when no header carries it. */
    if (!call->err.request_id[0] && call->req.protocol == CWX_PROTO_QUERY && resp->body.len)
        cwx__aws_body_request_id(resp->body.ptr, resp->body.len, &call->err);
    cwx__call_complete(call, 0, resp);
}
