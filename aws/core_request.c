/* Request building: one attempt of a call asks for credentials (unless the
 * call is unsigned), puts the headers together, signs them (SigV4) and
 * hands the request to the transport; the answer comes back to
 * core_dispatch.c. */
#include <stdio.h>
#include <string.h>

#include "aws/core_private.h"
#include "aws/credentials.h"
#include "common/error.h"

/* The caller's headers, Host and (S3) x-amz-expected-bucket-owner: what is
 * signed, in hdrs and in sighdrs. Returns how many. */
static size_t s_base_headers(struct cwx__call *call)
{
    const struct cwx_aws_request *r = &call->req;
    size_t n = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        call->hdrs[n] = r->headers[i];
        call->sighdrs[n] = (struct cwx_sigv4_header){r->headers[i].name, r->headers[i].value};
        n++;
    }
    call->hdrs[n] = (struct cwx_http_header){"Host", call->host};
    call->sighdrs[n] = (struct cwx_sigv4_header){"Host", call->host};
    n++;
    /* Every S3 call names the account that must own its bucket: S3 answers
     * 403 AccessDenied when another account owns it. */
    snprintf(call->owner, sizeof(call->owner), "%s",
             strcmp(r->service, "s3") == 0 ? call->client->expected_owner : "");
    if (call->owner[0]) {
        call->hdrs[n] = (struct cwx_http_header){"x-amz-expected-bucket-owner", call->owner};
        call->sighdrs[n] = (struct cwx_sigv4_header){"x-amz-expected-bucket-owner", call->owner};
        n++;
    }
    return n;
}

/* Signs the *n headers with creds and appends the signature's headers
 * after them (*n grows). Returns 0 or the signer's CWX_E*. */
static int s_sign(struct cwx__call *call, const struct cwx_credentials *creds, size_t *n)
{
    const struct cwx_aws_request *r = &call->req;
    int is_s3 = strcmp(r->service, "s3") == 0;
    struct cwx_sigv4_request sr = {
        .method = r->method,
        .path = call->path.ptr,
        .query = call->query,
        .headers = call->sighdrs,
        .n_headers = *n,
        .body = r->body,
        .body_len = r->body_len,
    };
    struct cwx_sigv4_params sp = {
        .access_key_id = creds->access_key_id,
        .secret_access_key = creds->secret_access_key,
        .session_token = creds->session_token,
        .region = call->client->region,
        .service = r->service,
        .time_s = cwx_aws_now_ms(call->client->aws) / 1000,
        .s3_rules = is_s3,
        .normalize_path = !is_s3,
        .sign_body = is_s3,
    };
    int rc = cwx_sigv4_sign_headers(&sr, &sp, &call->sig);
    if (rc)
        return rc;
    call->have_sig = 1;
    struct cwx_http_header *h = call->hdrs;
    h[(*n)++] = (struct cwx_http_header){"X-Amz-Date", call->sig.amz_date};
    if (call->sig.content_sha256[0])
        h[(*n)++] = (struct cwx_http_header){"x-amz-content-sha256", call->sig.content_sha256};
    if (call->sig.security_token)
        h[(*n)++] = (struct cwx_http_header){"X-Amz-Security-Token", call->sig.security_token};
    h[(*n)++] = (struct cwx_http_header){"Authorization", call->sig.authorization};
    return 0;
}

/* Builds the headers, signs them when creds is not NULL, and sends. */
static void s_send(struct cwx__call *call, const struct cwx_credentials *creds)
{
    struct cwx_aws *aws = call->client->aws;
    const struct cwx_aws_request *r = &call->req;
    size_t n = s_base_headers(call);
    if (call->have_sig) {
        cwx_sigv4_signed_free(&call->sig);
        call->have_sig = 0;
    }
    int rc = creds ? s_sign(call, creds, &n) : 0;
    if (rc) {
        cwx__call_fail(call, rc, "signing failed");
        return;
    }
    call->hdrs[n++] = (struct cwx_http_header){"User-Agent", "cwexport/" CWX_VERSION};
    call->n_hdrs = n;
    call->hreq = (struct cwx_http_request){
        .method = r->method,
        .url = call->url.ptr,
        .headers = call->hdrs,
        .n_headers = n,
        .body = r->body,
        .body_len = r->body_len,
        .on_body = r->on_body,
        .on_body_ud = r->stream_ud,
    };
    if (r->on_attempt)
        r->on_attempt(r->stream_ud);
    call->state = CWX__CALL_HTTP;
    call->attempts++;
    call->client->stats.attempts++;
    aws->stats.attempts++;
    rc = aws->http ? cwx_http_send(aws->http, &call->hreq, cwx__call_on_http, call)
                       : CWX_ECANCELED;
    if (rc) {
        call->attempts--;
        cwx__call_fail(call, rc, cwx_strerror(rc));
    }
}

static void s_on_creds(int status, const struct cwx_credentials *creds, const char *detail,
                       void *ud)
{
    struct cwx__call *call = ud;
    if (call->canceled || call->client->aws->freeing) {
        cwx__call_fail(call, CWX_ECANCELED, "canceled");
        return;
    }
    if (status) {
        snprintf(call->err.message, sizeof(call->err.message), "credentials: %s",
                 detail ? detail : cwx_strerror(status));
        /* A refusal, or a refresh that met a transient failure (STS
         * throttled or down): the caller backs off and tries again. */
        int keep = status == CWX_EDENIED || status == CWX_ENOMEM || status == CWX_ECANCELED ||
                   status == CWX_ETLS || cwx_err_transient(status);
        cwx__call_complete(call, keep ? status : CWX_ECRED, NULL);
        return;
    }
    s_send(call, creds);
}

void cwx__call_attempt(struct cwx__call *call)
{
    if (call->req.flags & CWX_AWS_UNSIGNED) {
        s_send(call, NULL);
        return;
    }
    if (!call->client->creds) {
        cwx__call_fail(call, CWX_ECRED, "no credentials provider for a signed request");
        return;
    }
    call->state = CWX__CALL_CREDS;
    int rc = cwx_creds_get(call->client->creds, s_on_creds, call);
    if (rc) {
        snprintf(call->err.message, sizeof(call->err.message), "credentials: %s",
                 cwx_strerror(rc));
        cwx__call_complete(call, rc == CWX_ENOMEM ? rc : CWX_ECRED, NULL);
    }
}
