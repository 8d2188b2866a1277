/* Internals of the call layer (aws/core*.c) that are pure functions: endpoint
 * host names, S3 addressing, error parsing per protocol. Exposed for the
 * unit tests and fuzzers; not part of the module's public interface. */
#ifndef CWX_AWS_CORE_INTERNAL_H
#define CWX_AWS_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "aws/core.h"
#include "common/buf.h"

/* The DNS suffix of region's partition: "amazonaws.com.cn" for cn-*,
 * "c2s.ic.gov" for us-iso-*, "sc2s.sgov.gov" for us-isob-*, else
 * "amazonaws.com" (aws and aws-us-gov). */
const char *cwx__aws_dns_suffix(const char *region);

/* 1 when region is a plausible region name ([a-z0-9-], 1..63 characters):
 * it goes into a host name, so nothing else may. */
int cwx__aws_region_ok(const char *region);

/* The environment variable holding service's endpoint override
 * ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS" for "logs"), or NULL for a service
 * we do not know. */
const char *cwx__aws_endpoint_env(const char *service);

/* Appends "https://<service>.<region>.<suffix>" to url. */
int cwx__aws_default_endpoint(const char *service, const char *region, struct cwx_buf *url);

/* 1 when bucket can be a DNS label of a virtual-hosted TLS host name:
 * 3..63 of [a-z0-9-], starting and ending with a letter or digit. Names
 * with dots (valid in S3, but they break the *.s3 wildcard certificate),
 * upper case or underscores are addressed path-style. */
int cwx__aws_bucket_virtual_ok(const char *bucket);

/* The full URL of a request: endpoint (base, without trailing '/') +
 * bucket addressing + path + "?query". For S3 on AWS with a DNS-compatible
 * bucket, virtual-hosted ("https://bucket.s3.region.amazonaws.com/key");
 * else path-style ("base/bucket/key"). Appends the URL to url and the
 * request path as signed (without the query) to path. base_path_style says
 * base is a custom endpoint. */
int cwx__aws_request_url(const char *base, int base_path_style, const char *bucket,
                         const char *req_path, const char *query, struct cwx_buf *url,
                         struct cwx_buf *path);

/* 1 when url is plain http:// to a host other than this machine
 * (localhost, 127.0.0.0/8, [::1]); *host and *host_len then say which host
 * (userinfo and port left out). 0 for https and loopback. */
int cwx__aws_endpoint_insecure(const char *url, const char **host, size_t *host_len);

/* Fills err->code, err->message and (when the body has one) err->request_id
 * from an error answer of the given protocol: JSON {"__type","message"}
 * ("ns#" stripped, "Message" accepted), S3 <Error><Code><Message>
 * <RequestId>, Query <ErrorResponse><Error><Code><Message></Error>
 * <RequestId>. A body without a code (S3 HEAD has none) gets one from the
 * status: 301 PermanentRedirect, 403 AccessDenied, 404 NotFound (HEAD) or
 * NoSuchKey / NoSuchBucket, 400 BadRequest, 412 PreconditionFailed,
 * 500 InternalError, 503 ServiceUnavailable. err->http_status and
 * err->request_id (from the headers) are left as the caller set them when
 * the body says nothing. Never fails: a malformed body leaves the code to
 * the status rule and the message says so. */
void cwx__aws_parse_error(enum cwx_aws_protocol protocol, const char *method,
                          const char *bucket, const char *path, long http_status,
                          const char *body, size_t len, struct cwx_aws_error *err);

#endif
