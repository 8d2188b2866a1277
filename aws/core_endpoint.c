/* Endpoints: the default host of each service in each partition, endpoint
 * overrides (and the refusal of plain http to another machine), and the
 * URL of a request with S3's bucket addressing. Pure but for the context's
 * settings. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/core_internal.h"
#include "aws/core_private.h"
#include "common/error.h"
#include "common/log.h"

const struct cwx_aws_settings *cwx_aws_get_settings(const struct cwx_aws *aws)
{
    return &aws->settings;
}

const char *cwx__aws_endpoint_env(const char *service)
{
    return cwx_aws_settings_service_env(cwx_aws_settings_service(service));
}

const char *cwx__aws_dns_suffix(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "amazonaws.com.cn";
    if (strncmp(region, "us-isob-", 8) == 0)
        return "sc2s.sgov.gov";
    if (strncmp(region, "us-iso-", 7) == 0)
        return "c2s.ic.gov";
    return "amazonaws.com";
}

int cwx__aws_region_ok(const char *region)
{
    if (!region || !*region)
        return 0;
    size_t n = 0;
    for (const char *p = region; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return n <= 63 && region[0] != '-';
}

int cwx__aws_default_endpoint(const char *service, const char *region, struct cwx_buf *url)
{
    const char *host = cwx_aws_settings_service_host(cwx_aws_settings_service(service));
    if (!host || !cwx__aws_region_ok(region))
        return CWX_EINVAL;
    /* STS: the regional endpoint, never the legacy global sts.amazonaws.com
     * (regional is what the SDKs now default to, and what works in opt-in
     * regions). */
    return cwx_buf_printf(url, "https://%s.%s.%s", host, region,
                          cwx__aws_dns_suffix(region));
}

int cwx__aws_bucket_virtual_ok(const char *bucket)
{
    size_t n = bucket ? strlen(bucket) : 0;
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = bucket[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return bucket[0] != '-' && bucket[n - 1] != '-';
}

/* Appends s percent-encoded as a path segment (for a bucket name). */
static int s_encode_segment(struct cwx_buf *b, const char *s)
{
    return cwx_uri_encode(b, s, strlen(s), 1);
}

int cwx__aws_request_url(const char *base, int base_path_style, const char *bucket,
                         const char *req_path, const char *query, struct cwx_buf *url,
                         struct cwx_buf *path)
{
    const char *p = req_path && *req_path ? req_path : "/";
    if (p[0] != '/')
        return CWX_EINVAL;
    int rc = 0;
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    /* The base may carry a path of its own (a custom endpoint behind a
     * prefix): it is part of what is signed. */
    const char *scheme_end = strstr(base, "://");
    const char *host_start = scheme_end ? scheme_end + 3 : NULL;
    const char *base_path =
        host_start ? memchr(host_start, '/', blen - (size_t)(host_start - base)) : NULL;
    size_t host_part = base_path ? (size_t)(base_path - base) : blen;
    size_t bp_len = base_path ? blen - host_part : 0;

    if (bucket && *bucket && !base_path_style && cwx__aws_bucket_virtual_ok(bucket) && scheme_end) {
        /* https://bucket.s3.region.amazonaws.com/key */
        size_t scheme_len = (size_t)(scheme_end + 3 - base);
        if (!rc)
            rc = cwx_buf_append(url, base, scheme_len);
        if (!rc)
            rc = cwx_buf_printf(url, "%s.", bucket);
        if (!rc)
            rc = cwx_buf_append(url, base + scheme_len, host_part - scheme_len);
        if (!rc && bp_len)
            rc = cwx_buf_append(path, base_path, bp_len);
        if (!rc)
            rc = cwx_buf_puts(path, p);
    } else {
        if (!rc)
            rc = cwx_buf_append(url, base, host_part);
        if (!rc && bp_len)
            rc = cwx_buf_append(path, base_path, bp_len);
        if (bucket && *bucket) {
            if (!rc)
                rc = cwx_buf_putc(path, '/');
            if (!rc)
                rc = s_encode_segment(path, bucket);
            /* "/bucket" for the bucket itself, "/bucket/key" for a key. */
            if (!rc && strcmp(p, "/") != 0)
                rc = cwx_buf_puts(path, p);
        } else if (!rc)
            rc = cwx_buf_puts(path, p);
    }
    if (!rc)
        rc = cwx_buf_append(url, path->ptr, path->len);
    if (!rc && query && *query) {
        rc = cwx_buf_putc(url, '?');
        if (!rc)
            rc = cwx_buf_puts(url, query);
    }
    return rc;
}


int cwx_aws_endpoint(const struct cwx_aws *aws, const char *service, const char *region,
                     struct cwx_buf *url, int *path_style)
{
    int i = cwx_aws_settings_service(service);
    if (path_style)
        *path_style = 0;
    if (i < 0)
        return CWX_EINVAL;
    const char *o = aws->settings.endpoint[i];
    if (o) {
        /* A custom endpoint (LocalStack, MinIO, the fake, a VPC endpoint
         * given by URL) knows nothing of bucket host names: path-style. */
        if (path_style && strcmp(service, "s3") == 0)
            *path_style = 1;
        return cwx_buf_puts(url, o);
    }
    return cwx__aws_default_endpoint(service, region, url);
}

/* ---- plain http ------------------------------------------------------------ */

int cwx__aws_endpoint_insecure(const char *url, const char **host, size_t *host_len)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    *host = cwx_http_url_host(url, host_len);
    return !cwx_http_host_loopback(*host, *host_len);
}

int cwx__aws_endpoint_policy(const struct cwx_aws_settings *settings, int allow)
{
    const char *warned[CWX_AWS_N_SERVICES];
    size_t warned_len[CWX_AWS_N_SERVICES];
    size_t n_warned = 0;
    for (int i = 0; i < CWX_AWS_N_SERVICES; i++) {
        const char *url = settings->endpoint[i];
        const char *var = settings->endpoint_origin[i];
        const char *host;
        size_t hl;
        if (!url || !cwx__aws_endpoint_insecure(url, &host, &hl))
            continue;
        if (!allow) {
            CWX_LOGE("%s: %.200s is plain http to %.*s, which is not this machine: the "
                     "session token and signed requests would travel in clear. Use https, "
                     "or accept the risk with --allow-insecure-endpoint (config: "
                     "allow_insecure_endpoint: true)",
                     var, url, (int)(hl > 200 ? 200 : hl), host);
            return CWX_EINSECURE;
        }
        int seen = 0;
        for (size_t k = 0; k < n_warned; k++)
            if (warned_len[k] == hl && strncasecmp(warned[k], host, hl) == 0)
                seen = 1;
        if (seen)
            continue;
        warned[n_warned] = host;
        warned_len[n_warned++] = hl;
        CWX_LOGW("plain http to %.*s (%s): the session token and signed requests travel "
                 "in clear, allowed by allow_insecure_endpoint",
                 (int)(hl > 200 ? 200 : hl), host, var);
    }
    return 0;
}
