/* The lane lease's operations on S3 (cwx_s3_put_object, cwx_s3_get_object,
 * cwx_s3_delete_object behind struct cwx_lease_ops) and where a lane's lease
 * lives; the protocol itself is in lease.c. */
#include "orchestrator/lease_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "common/error.h"
#include "orchestrator/orchestrator_internal.h"


struct s_s3_call {
    cwx_lease_io_fn *cb;
    void *ud;
};

static void s_s3_io(int status, const char *etag, struct cwx_span body,
                    const struct cwx_aws_error *err, struct s_s3_call *call)
{
    char detail[400] = "";
    if (status && err)
        cwx_aws_error_format(err, detail, sizeof(detail));
    struct cwx_lease_io r = {
        .status = status,
        .http_status = err ? err->http_status : 0,
        .code = err ? err->code : "",
        .etag = etag ? etag : "",
        .body = body,
        .detail = detail,
    };
    cwx_lease_io_fn *cb = call->cb;
    void *ud = call->ud;
    free(call);
    cb(&r, ud);
}

static void s_s3_on_put(int status, const struct cwx_s3_put_object_result *res,
                        const struct cwx_aws_error *err, void *ud)
{
    s_s3_io(status, res ? res->etag : "", (struct cwx_span){"", 0}, err, ud);
}

static void s_s3_on_get(int status, const struct cwx_s3_get_object_result *res,
                        const struct cwx_aws_error *err, void *ud)
{
    s_s3_io(status, res ? res->etag : "", res ? res->body : (struct cwx_span){"", 0}, err, ud);
}

static void s_s3_on_del(int status, const struct cwx_aws_error *err, void *ud)
{
    s_s3_io(status, "", (struct cwx_span){"", 0}, err, ud);
}

static struct s_s3_call *s_s3_call(cwx_lease_io_fn *cb, void *ud)
{
    struct s_s3_call *call = malloc(sizeof(*call));
    if (call) {
        call->cb = cb;
        call->ud = ud;
    }
    return call;
}

static int s_s3_put(void *ctx, const char *body, size_t len, const char *if_match,
                    cwx_lease_io_fn *cb, void *ud)
{
    struct cwx_lease_s3 *s3 = ctx;
    struct s_s3_call *call = s_s3_call(cb, ud);
    if (!call)
        return CWX_ENOMEM;
    struct cwx_s3_put_object_req req = {
        .bucket = s3->bucket,
        .key = s3->key,
        .body = body,
        .body_len = len,
        .content_type = "application/json",
        .if_none_match = if_match ? NULL : "*",
        .if_match = if_match,
    };
    int rc = cwx_s3_put_object(s3->client, &req, s_s3_on_put, call);
    if (rc)
        free(call);
    return rc;
}

static int s_s3_get(void *ctx, cwx_lease_io_fn *cb, void *ud)
{
    struct cwx_lease_s3 *s3 = ctx;
    struct s_s3_call *call = s_s3_call(cb, ud);
    if (!call)
        return CWX_ENOMEM;
    int rc = cwx_s3_get_object(s3->client, s3->bucket, s3->key, 64 * 1024, s_s3_on_get, call);
    if (rc)
        free(call);
    return rc;
}

static int s_s3_del(void *ctx, const char *if_match, cwx_lease_io_fn *cb, void *ud)
{
    struct cwx_lease_s3 *s3 = ctx;
    struct s_s3_call *call = s_s3_call(cb, ud);
    if (!call)
        return CWX_ENOMEM;
    int rc = if_match && if_match[0]
                 ? cwx_s3_delete_object_if_match(s3->client, s3->bucket, s3->key, if_match,
                                                 s_s3_on_del, call)
                 : cwx_s3_delete_object(s3->client, s3->bucket, s3->key, s_s3_on_del, call);
    if (rc)
        free(call);
    return rc;
}

static const struct cwx_lease_ops s_s3_ops = {
    .put = s_s3_put,
    .get = s_s3_get,
    .del = s_s3_del,
};

const struct cwx_lease_ops *cwx_lease_s3_ops(void)
{
    return &s_s3_ops;
}

int cwx_lease_location(const struct cwx_settings *st, const char *account_id,
                       const char *region, int per_region, const char *lane_bucket,
                       struct cwx_lease_s3 *out)
{
    const char *why = NULL;
    if (st->lease_bucket) {
        if (cwx_config_bucket_name(st->lease_bucket, account_id, region, out->bucket,
                                   sizeof(out->bucket), &why))
            return CWX_ECONFIG;
    } else {
        int n = snprintf(out->bucket, sizeof(out->bucket), "%s", lane_bucket);
        if (n < 0 || (size_t)n >= sizeof(out->bucket))
            return CWX_ECONFIG;
    }
    const char *sp = st->destination.state_prefix ? st->destination.state_prefix : "";
    size_t sl = strlen(sp);
    while (sl && sp[sl - 1] == '/')
        sl--;
    int n;
    if (per_region)
        n = snprintf(out->key, sizeof(out->key), "%.*s%s%s/%s/_lease.json", (int)sl, sp,
                     sl ? "/" : "", account_id, region);
    else
        n = snprintf(out->key, sizeof(out->key), "%.*s%s%s/_lease.json", (int)sl, sp,
                     sl ? "/" : "", account_id);
    if (n < 0 || (size_t)n >= sizeof(out->key) || (size_t)n > CWX_S3_KEY_MAX)
        return CWX_ECONFIG;
    return 0;
}

uint64_t cwx_lease_ttl_ms(const struct cwx_settings *st)
{
    return st->lease_ttl_ms > 0 ? (uint64_t)st->lease_ttl_ms : 120000;
}
