/* The call layer's private state, shared by its files: aws/core.c (the
 * context, clients, the rate limiter and a call's life), core_request.c
 * (credentials, headers, signing, sending), core_dispatch.c (reading an
 * answer) and core_retry.c (what a failed attempt leads to). Not for any
 * other file. */
#ifndef CWX_AWS_CORE_PRIVATE_H
#define CWX_AWS_CORE_PRIVATE_H

#include <stdint.h>
#include <uv.h>

#include "aws/core.h"
#include "aws/retry.h"
#include "aws/settings.h"
#include "aws/sigv4.h"
#include "common/buf.h"

struct cwx_aws {
    uv_loop_t *loop;
    struct cwx_http *http;
    struct cwx_aws_settings settings;    /* the shared config's: endpoints, retry mode, … */
    /* The caller's options, for the clock, jitter and retry hooks (now_ms,
     * random, on_retry and their data); http and profile, borrowed for
     * cwx_aws_new only, are NULL here. */
    struct cwx_aws_options opts;
    struct cwx_retry_quota quota;
    int max_attempts; /* of one call, the first included */
    enum cwx_retry_mode retry_mode;
    int64_t skew_ms; /* server clock − our clock, last measured */
    struct cwx_aws_stats stats;
    int refs;        /* the owner's, plus one per live call */
    int freeing;
    struct cwx__call *calls; /* every live call, for cancellation */
};

struct cwx__call;

struct cwx_aws_client {
    struct cwx_aws *aws;
    struct cwx_creds_provider *creds;
    char region[64];
    double rate;  /* tokens per second; 0 = unlimited */
    double burst; /* bucket size */
    double tokens;
    uint64_t refill_ms; /* uv_now() of the last refill */
    struct cwx__call *q_head, *q_tail; /* waiting for a token, FIFO */
    uv_timer_t timer;
    int timer_armed;
    int refs; /* the owner's, plus one per live call */
    int freeing;
    struct cwx_aws_client_stats stats;
    struct cwx_retry_adaptive adaptive; /* retry_mode adaptive: the send-rate limiter */
    /* S3 calls send it as x-amz-expected-bucket-owner; "" = none. */
    char expected_owner[16];
};

enum cwx__call_state {
    CWX__CALL_QUEUED = 1,
    CWX__CALL_CREDS,
    CWX__CALL_HTTP,
    CWX__CALL_BACKOFF,
    CWX__CALL_DEFERRED, /* completion waits for the loop (failure during start) */
    CWX__CALL_DONE,
};

struct cwx__call {
    struct cwx_aws_client *client;
    struct cwx_aws_request req; /* the caller's, borrowed */
    cwx_aws_done_fn *cb;
    void *ud;
    enum cwx__call_state state;
    int starting;    /* inside cwx_aws_call: completions must be deferred */
    int canceled;
    int attempts;    /* HTTP attempts made */
    int normal;      /* attempts counted against aws->max_attempts */
    int creds_retried;
    int skew_retried;
    int quota_taken; /* what the latest retry took from the quota */
    int deferred_status;
    struct cwx_buf url;   /* the full URL */
    struct cwx_buf path;  /* the path as signed */
    char *query;          /* the query as signed, or NULL (points into url) */
    char host[300];
    char owner[16];      /* x-amz-expected-bucket-owner sent by the last attempt, or "" */
    struct cwx_http_header *hdrs;     /* what goes on the wire */
    struct cwx_sigv4_header *sighdrs; /* what is signed */
    size_t n_hdrs;
    struct cwx_sigv4_signed sig;
    int have_sig;
    struct cwx_http_request hreq;
    struct cwx_aws_error err;
    uv_timer_t timer; /* backoff, deferred completion */
    struct cwx__call *q_next, *q_prev;     /* client queue */
    struct cwx__call *all_next, *all_prev; /* aws->calls */
};

/* ---- core.c: a call's life -------------------------------------------------- */

/* Puts call in its client's queue (at the head for a retry: it has waited
 * already) and starts what the rate limiter allows. */
void cwx__call_enqueue(struct cwx__call *call, int front);
/* Ends the call: counts, refunds the quota on success, runs the callback
 * once (from the loop, never inside cwx_aws_call), releases the call. */
void cwx__call_complete(struct cwx__call *call, int status,
                        const struct cwx_http_response *resp);
/* cwx__call_complete without an answer; msg (may be NULL) goes into the
 * error's message. */
void cwx__call_fail(struct cwx__call *call, int status, const char *msg);

/* ---- core_request.c ------------------------------------------------------------ */

/* One attempt: credentials (unless unsigned), then sign and send. */
void cwx__call_attempt(struct cwx__call *call);

/* ---- core_dispatch.c ----------------------------------------------------------- */

/* The transport's callback for an attempt. */
void cwx__call_on_http(const struct cwx_http_response *resp, void *ud);

/* ---- core_retry.c -------------------------------------------------------------- */

/* What a failed attempt of class k leads to: a one-shot repair (fresh
 * credentials, a corrected clock), a backoff and another attempt, or the
 * end of the call. server_ms is the answer's Date (0 = none). */
void cwx__call_retry_or_end(struct cwx__call *call, enum cwx_retry_class k,
                            const struct cwx_http_response *resp, int64_t server_ms);

/* ---- core_error.c -------------------------------------------------------------- */

/* The Query protocol's <RequestId> from an answer's body, into e. */
void cwx__aws_body_request_id(const char *body, size_t len, struct cwx_aws_error *e);
/* The code a failure without an AWS answer is reported with, named as the
 * SDKs name these failures. */
const char *cwx__aws_transport_code(int error);

/* ---- core_endpoint.c ----------------------------------------------------------- */

/* Refuses (or, when allowed, warns once per host about) endpoint overrides
 * that would send signed requests in clear to another machine. */
int cwx__aws_endpoint_policy(const struct cwx_aws_settings *settings, int allow);

#endif
