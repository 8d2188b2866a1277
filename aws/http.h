/* HTTP transport: libcurl's multi interface driven by a libuv loop
 * (docs/contributing.md §libcurl-multi-on-libuv). Knows nothing of AWS. */
#ifndef CWX_AWS_HTTP_H
#define CWX_AWS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"

struct cwx_http;

struct cwx_http_options {
    const char *ca_bundle;     /* AWS_CA_BUNDLE; NULL = system store */
    int insecure;              /* turn TLS verification off (warns) */
    long connect_timeout_ms;   /* default 3100 (SDK default 3.1 s) */
    long total_timeout_ms;     /* per attempt; default 60000 */
    size_t max_response_bytes; /* default 64 MiB */
    long max_host_connections; /* default 16 */
};

/* One header line; name and value are borrowed. */
struct cwx_http_header {
    const char *name;
    const char *value;
};

struct cwx_http_request {
    const char *method; /* "GET", "POST", "PUT", "HEAD", "DELETE" */
    const char *url;    /* absolute, already percent-encoded */
    const struct cwx_http_header *headers;
    size_t n_headers;
    const void *body; /* borrowed until the done callback */
    size_t body_len;
    long timeout_ms; /* 0 = the transport's default */
    /* Optional streaming sink: called with each chunk of the response body
     * instead of buffering it into response.body (S3 listings parsed as
     * they arrive). Returns 0 to go on, non-zero to abort the transfer. */
    int (*on_body)(const char *chunk, size_t len, void *ud);
    void *on_body_ud;
};

/* What came back. Owned by the transport; valid only inside the callback. */
struct cwx_http_response {
    int error;          /* 0, or a CWX_E* transport error (no HTTP answer) */
    int curl_code;      /* CURLcode when error != 0 */
    char error_msg[256];
    long status;        /* HTTP status, 0 when no answer */
    struct cwx_buf body;
    char request_id[128];   /* x-amzn-RequestId / x-amz-request-id */
    char date[64];          /* Date header, for clock-skew correction */
    char bucket_region[32]; /* x-amz-bucket-region */
    char content_type[128];
    char etag[128];
    int64_t content_length; /* -1 when absent */
    long connects;          /* new TCP connections this transfer opened */
    double total_time_s;
};

typedef void cwx_http_done_fn(const struct cwx_http_response *resp, void *ud);

/* Creates a transport on loop. Returns 0 or a CWX_E* code. */
int cwx_http_new(uv_loop_t *loop, const struct cwx_http_options *opts,
                 struct cwx_http **out);

/* Starts req. On success returns 0 and cb is called exactly once, later,
 * from the loop (never from inside this call). On failure returns a CWX_E*
 * code and cb is never called. The request struct and everything it points
 * to must stay valid until cb runs. */
int cwx_http_send(struct cwx_http *http, const struct cwx_http_request *req,
                  cwx_http_done_fn *cb, void *ud);

/* Aborts every transfer (their callbacks run with CWX_ECANCELED), releases
 * curl and closes the handles; frees http once the loop has run the close
 * callbacks. */
void cwx_http_free(struct cwx_http *http);

/* Counters since creation. */
struct cwx_http_stats {
    uint64_t requests;
    uint64_t connects;
};
void cwx_http_get_stats(const struct cwx_http *http, struct cwx_http_stats *out);

/* ---- URL hosts ------------------------------------------------------------ */

/* The host of url, which starts with "scheme://": userinfo and port left
 * out, an IPv6 literal with its brackets. Returns a pointer into url and its
 * length in *len, or NULL when url has no "://". */
const char *cwx_http_url_host(const char *url, size_t *len);

/* 1 when host[0..len) names this machine: localhost, 127.0.0.0/8 or [::1]. */
int cwx_http_host_loopback(const char *host, size_t len);

#endif
