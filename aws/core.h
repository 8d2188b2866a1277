/* The AWS layer's shared context and its signed, retried calls. */
#ifndef CWX_AWS_CORE_H
#define CWX_AWS_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aws/http.h"

struct cwx_creds_provider;

/* The process-wide AWS context: the loop, one HTTP transport shared by every
 * client (connections reused per host), endpoint overrides read from the
 * environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), the CA bundle,
 * the retry quota and the measured clock skew. */
struct cwx_aws;

/* One failed attempt and what the retry policy decided, for observers
 * (tests, events logs). Strings are valid only during the call. */
struct cwx_aws_retry_info {
    const char *service;
    int attempt;          /* the attempt that failed: 1, 2, … (all HTTP attempts) */
    const char *kind;     /* cwx_retry_class_name(): "throttle", "transient", … */
    long http_status;     /* 0 when there was no answer */
    int transport_error;  /* CWX_E* of a transfer that got no answer, else 0 */
    const char *code;     /* AWS error code, "" when none */
    int64_t delay_ms;     /* wait before the next attempt; -1 = no next attempt */
    int quota_available;  /* the retry quota after this decision */
};
typedef void cwx_aws_retry_fn(const struct cwx_aws_retry_info *info, void *ud);

struct cwx_aws_options {
    const struct cwx_http_options *http; /* NULL = defaults + AWS_CA_BUNDLE */
    /* Injected clock for signing (epoch ms); NULL = real time. Tests only. */
    int64_t (*now_ms)(void *ud);
    void *now_ud;
    /* Jitter source in [0, 1) for retry delays; NULL = cwx_retry_random.
     * Tests inject a seeded one. */
    double (*random)(void *ud);
    void *random_ud;
    /* Called after every failed attempt, from the loop; NULL = none. */
    cwx_aws_retry_fn *on_retry;
    void *retry_ud;
    /* Capacity of the process-wide retry quota; 0 = 500 (the SDK's). */
    int retry_quota;
    /* Attempts of one call, the first included; 0 = the shared config's
     * (AWS_MAX_ATTEMPTS, the profile's max_attempts, 1-20), else 3 (5 in
     * the legacy retry mode). */
    int max_attempts;
    /* The profile whose settings (endpoint_url, services, max_attempts,
     * retry_mode, ca_bundle, ignore_configured_endpoint_urls) apply, under
     * the environment's; NULL = AWS_PROFILE, else "default". */
    const char *profile;
    /* Endpoint overrides with plain http:// to a host other than loopback
     * (127.0.0.0/8, ::1, localhost) are refused (cwx_aws_new fails with
     * CWX_EINSECURE) unless this is set; then each such host is warned
     * about once. The session token and signatures would travel in clear. */
    int allow_insecure_http;
};

int cwx_aws_new(uv_loop_t *loop, const struct cwx_aws_options *opts,
                struct cwx_aws **out);
struct cwx_aws_settings;
/* The settings in effect and their origins (aws/settings.h); valid as long
 * as aws. */
const struct cwx_aws_settings *cwx_aws_get_settings(const struct cwx_aws *aws);
/* Frees the context; every client and provider made from it must be freed
 * first. Closes the transport: run the loop afterwards to finish closing. */
void cwx_aws_free(struct cwx_aws *aws);
uv_loop_t *cwx_aws_loop(const struct cwx_aws *aws);
struct cwx_http *cwx_aws_http(const struct cwx_aws *aws);
/* Current time as the signer sees it (real clock + measured skew). */
int64_t cwx_aws_now_ms(const struct cwx_aws *aws);

/* The endpoint for service ("logs", "s3", "sns", "sts") in region: the
 * override from the environment if any, else the partition's host name
 * (amazonaws.com, amazonaws.com.cn, us-gov). *path_style is set for S3 when
 * a custom endpoint is used. Appends "https://host[:port]" to url. */
int cwx_aws_endpoint(const struct cwx_aws *aws, const char *service,
                     const char *region, struct cwx_buf *url, int *path_style);

/* What went wrong with a call, from below: never in a global. */
struct cwx_aws_error {
    long http_status;      /* 0 when there was no HTTP answer */
    int curl_code;         /* CURLcode of a transport failure, else 0 */
    char code[128];        /* AWS error code, "ns#" prefix stripped */
    char message[512];
    char request_id[128];
    int attempts;          /* attempts made, including the first */
};

/* Formats err as "CODE: message (HTTP 400, request id …)" into buf. */
void cwx_aws_error_format(const struct cwx_aws_error *err, char *buf, size_t size);

/* A client for one account in one region: credentials, region, a token-bucket
 * rate limiter shared by every call made through it. */
struct cwx_aws_client;

struct cwx_aws_client_options {
    struct cwx_creds_provider *creds; /* borrowed; must outlive the client */
    const char *region;
    double rate_per_s;  /* calls per second; 0 = unlimited */
    double burst;       /* bucket size; 0 = max(1, rate) */
};

int cwx_aws_client_new(struct cwx_aws *aws, const struct cwx_aws_client_options *opts,
                       struct cwx_aws_client **out);
/* Frees the client. Calls still queued in its rate limiter or waiting out a
 * retry delay end at once with CWX_ECANCELED (their callbacks run inside
 * this function); calls waiting on credentials or on the network end with
 * CWX_ECANCELED when that step returns. The memory goes when the last call
 * has ended. Run the loop afterwards to finish closing. */
void cwx_aws_client_free(struct cwx_aws_client *c);
/* From now on every S3 call of c sends x-amz-expected-bucket-owner:
 * account_id (12 digits; CWX_EINVAL otherwise), so that S3 refuses with 403
 * a bucket that another account owns; NULL or "" sends none. A 403 of such a
 * call says so in its error message, naming the bucket and the owner. */
int cwx_aws_client_set_expected_bucket_owner(struct cwx_aws_client *c, const char *account_id);

/* How a service encodes requests and errors (docs/architecture.md §aws-facts). */
enum cwx_aws_protocol {
    CWX_PROTO_JSON = 0, /* CloudWatch Logs: JSON 1.1, {"__type","message"} */
    CWX_PROTO_REST_XML, /* S3: <Error><Code>…</Code>… */
    CWX_PROTO_QUERY,    /* STS, SNS: <ErrorResponse><Error><Code>… */
};

enum cwx_aws_request_flags {
    /* Send unsigned (sts:AssumeRoleWithWebIdentity). */
    CWX_AWS_UNSIGNED = 1 << 0,
    /* LimitExceededException is the export slot being busy: return
     * CWX_ESLOTBUSY at once, never retry it (CreateExportTask). */
    CWX_AWS_SLOT_BUSY = 1 << 1,
    /* Do not retry at all (probes). */
    CWX_AWS_NO_RETRY = 1 << 2,
};

/* One logical AWS call. Everything is borrowed until the callback runs. */
struct cwx_aws_request {
    const char *service;             /* "logs", "s3", "sns", "sts" */
    enum cwx_aws_protocol protocol;
    const char *method;
    const char *bucket;              /* S3: the bucket (addressing style is the layer's choice); else NULL */
    const char *path;                /* S3: "/" + percent-encoded key (may be "/"); else "/" */
    const char *query;               /* percent-encoded "a=1&b=2", or NULL */
    const struct cwx_http_header *headers; /* extra headers (X-Amz-Target, Content-Type) */
    size_t n_headers;
    const void *body;
    size_t body_len;
    unsigned flags;                  /* CWX_AWS_* */
    /* Optional streaming of the response body (see cwx_http_request).
     * on_attempt, when set, is called before each attempt so the sink can
     * reset what an earlier, retried attempt fed it. */
    int (*on_body)(const char *chunk, size_t len, void *ud);
    void (*on_attempt)(void *ud);
    void *stream_ud;
};

/* Called exactly once per cwx_aws_call that returned 0, from the loop.
 * status: 0 for a 2xx answer; otherwise CWX_EAWS (err->code says which),
 * CWX_EUNAVAIL (5xx or a transient code on every attempt), CWX_ESLOTBUSY,
 * CWX_ETHROTTLED (retries exhausted), CWX_EHTTP or CWX_ETIMEDOUT
 * (transport), CWX_ETLS (the certificate does not verify: never retried),
 * CWX_ECRED (no or expired credentials), CWX_EDENIED (AccessDenied and
 * kin), CWX_ECANCELED, or an error of the answer itself (CWX_ETOOBIG over
 * the size cap, or what the on_body sink returned). A refresh of the
 * credentials that met a transient failure passes that status on
 * (cwx_err_transient). Failures without an answer carry a code naming the
 * kind ("ConnectionError", "Timeout", "TLSVerificationFailed",
 * "ResponseTooLarge"). err is never NULL: on success it holds the HTTP
 * status, the request id and the attempts made, with an empty code. resp is the last
 * attempt's answer
 * (NULL when there was none, e.g. credentials failed). Both are valid only
 * inside the callback. */
typedef void cwx_aws_done_fn(int status, const struct cwx_http_response *resp,
                             const struct cwx_aws_error *err, void *ud);

/* Signs and sends req through c's rate limiter, with the standard retry mode
 * of docs/architecture.md §aws-facts (refreshing credentials once on ExpiredToken, correcting the
 * clock on a skew error). Returns 0 (cb will run) or a CWX_E* code (it will
 * not): CWX_EINVAL for an unknown service or a malformed path, CWX_ENOMEM.
 *
 * Each attempt takes a token from c's limiter (retries go to the head of its
 * queue), gets credentials from c's provider (which caches them), signs with
 * the context's clock and sends. Transient errors (5xx, resets, timeouts) and
 * throttles are retried up to 3 attempts in all, after rand(0,1) ×
 * min(2^(n-1), 20) s, while the process-wide retry quota can pay for them
 * (5 a retry, 10 after a timeout). ExpiredToken and clock skew are repaired
 * once without counting as an attempt. S3 requests use virtual-hosted
 * addressing on AWS and path-style on custom endpoints or for bucket names
 * that cannot be a host name. */
int cwx_aws_call(struct cwx_aws_client *c, const struct cwx_aws_request *req,
                 cwx_aws_done_fn *cb, void *ud);

/* Counters of one client. */
struct cwx_aws_client_stats {
    uint64_t calls;      /* logical calls */
    uint64_t attempts;   /* HTTP attempts including retries */
    uint64_t retries;
    uint64_t throttles;
};
void cwx_aws_client_get_stats(const struct cwx_aws_client *c,
                              struct cwx_aws_client_stats *out);

/* Counters of the whole process (every client of aws). */
struct cwx_aws_stats {
    uint64_t calls;
    uint64_t attempts;
    uint64_t retries;
    uint64_t throttles;
    uint64_t creds_refreshes;  /* credentials invalidated after ExpiredToken */
    uint64_t skew_corrections; /* clock corrected from a server's Date */
    int quota_available;       /* the retry quota now */
    int64_t skew_ms;           /* server clock − ours, as last measured */
};
void cwx_aws_get_stats(const struct cwx_aws *aws, struct cwx_aws_stats *out);

#endif
