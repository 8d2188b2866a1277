/* The SDK "standard" retry mode (docs/architecture.md §aws-facts) as pure functions: what an
 * answer means, how long to wait before the next attempt, and the
 * process-wide retry quota. No loop, no clock, no I/O: the call layer
 * (aws/core.c) applies them, and the unit tests drive them directly. */
#ifndef CWX_AWS_RETRY_H
#define CWX_AWS_RETRY_H

#include <stddef.h>
#include <stdint.h>

/* Attempts per logical call, the first one included (standard mode). */
#define CWX_RETRY_MAX_ATTEMPTS 3
/* The backoff cap, seconds. */
#define CWX_RETRY_MAX_BACKOFF_S 20
/* The retry quota: capacity, cost of a retry, cost of a retry after a
 * timeout, refund of a call that succeeded at its first attempt. */
#define CWX_RETRY_QUOTA_CAPACITY 500
#define CWX_RETRY_COST 5
#define CWX_RETRY_TIMEOUT_COST 10
#define CWX_RETRY_NO_RETRY_INCREMENT 1
/* A SignatureDoesNotMatch (or RequestExpired) counts as clock skew when the
 * server's Date differs from our clock by at least this much (the SDKs'
 * 4 minutes: AWS accepts 5 minutes either way, and signatures are valid
 * for 5). */
#define CWX_RETRY_SKEW_THRESHOLD_MS (4 * 60 * 1000)

/* What one attempt's answer means. */
enum cwx_retry_class {
    CWX_RETRY_SUCCESS = 0,   /* 2xx */
    CWX_RETRY_TRANSIENT,     /* 5xx, connection errors, RequestTimeout…: retry */
    CWX_RETRY_TIMEOUT,       /* the attempt timed out: retry at the timeout cost */
    CWX_RETRY_THROTTLE,      /* Throttling and kin: retry */
    CWX_RETRY_SLOT_BUSY,     /* LimitExceededException of a CWX_AWS_SLOT_BUSY call */
    CWX_RETRY_EXPIRED_CREDS, /* refresh the credentials, retry once */
    CWX_RETRY_CLOCK_SKEW,    /* correct the clock from Date, retry once */
    CWX_RETRY_DENIED,        /* AccessDenied and kin: never retried */
    CWX_RETRY_FATAL,         /* any other error: never retried */
};

/* A readable name of c ("transient", "throttle", …), static. */
const char *cwx_retry_class_name(enum cwx_retry_class c);

/* One attempt's answer as the classifier sees it. Strings are borrowed. */
struct cwx_retry_answer {
    int transport_error; /* 0, or the CWX_E* of a failed transfer (no answer) */
    long http_status;    /* 0 when there was no answer */
    const char *code;    /* AWS error code, "ns#" stripped; NULL or "" = none */
    const char *message; /* the error message, or NULL */
    /* |server Date − our signing clock| in ms, or -1 when unknown. */
    int64_t skew_ms;
    int slot_busy_call;  /* the request carries CWX_AWS_SLOT_BUSY */
};

enum cwx_retry_class cwx_retry_classify(const struct cwx_retry_answer *a);

/* Whether code alone is a throttling / transient / access-denied code (the
 * tables behind the classifier, exposed for tests and callers). */
int cwx_retry_is_throttle_code(const char *code);
int cwx_retry_is_transient_code(const char *code);
int cwx_retry_is_denied_code(const char *code);

/* A source of uniform random numbers in [0, 1). */
typedef double cwx_retry_random_fn(void *ud);

/* The default source: a xorshift generator seeded from the clock and the
 * pid at first use. Not for cryptography. ud is ignored. */
double cwx_retry_random(void *ud);

/* The delay before the attempt after failed attempt number `attempt`
 * (1 = the first attempt failed): rand() × min(2^(attempt-1), 20) s, in ms.
 * rnd NULL = cwx_retry_random. */
int64_t cwx_retry_delay_ms(int attempt, cwx_retry_random_fn *rnd, void *rnd_ud);
/* The upper bound of that delay (the jitter's full range), ms. */
int64_t cwx_retry_delay_max_ms(int attempt);

/* The retry quota (botocore's RetryQuotaChecker). Not thread-safe: it lives
 * on the loop thread, like everything of the AWS layer. */
struct cwx_retry_quota {
    int capacity;
    int available;
};

void cwx_retry_quota_init(struct cwx_retry_quota *q, int capacity);
/* Takes the cost of one retry (CWX_RETRY_TIMEOUT_COST after a timeout, else
 * CWX_RETRY_COST). Returns the amount taken, or 0 when the quota cannot pay
 * for it: then the call must not be retried. */
int cwx_retry_quota_acquire(struct cwx_retry_quota *q, int after_timeout);
/* A call got a 2xx answer. last_acquired is what the call's most recent
 * retry took from the quota (0 when it was never retried): that amount is
 * given back, else CWX_RETRY_NO_RETRY_INCREMENT, as the SDK does. The quota
 * never grows past its capacity. */
void cwx_retry_quota_success(struct cwx_retry_quota *q, int last_acquired);

/* The "adaptive" retry mode's client-side rate limiter, as the SDKs define
 * it (botocore's retries/adaptive.py): a token bucket whose rate follows
 * CUBIC — cut to 70 % of the measured send rate on a throttle, grown back
 * along a cubic curve on success — and that only starts to limit after the
 * first throttle. Times are seconds on any monotonic clock. Pure: the call
 * layer waits and sends. */
struct cwx_retry_adaptive {
    int enabled;          /* a throttle was seen */
    /* the token bucket */
    double max_rate;      /* fill rate, tokens/s (>= 0.5) */
    double capacity;      /* max(1, max_rate) */
    double tokens;
    double last_refill;   /* < 0 = never */
    /* CUBIC */
    double w_max;
    double last_fail;
    double k;
    /* the measured send rate */
    double measured;
    double last_bucket;
    double count;
};

void cwx_retry_adaptive_init(struct cwx_retry_adaptive *a, double now_s);
/* Before sending: takes a token and returns 0, or returns how many seconds
 * to wait before asking again (no token taken). Always 0 until enabled. */
double cwx_retry_adaptive_acquire(struct cwx_retry_adaptive *a, double now_s);
/* After each answer: throttled says it was a throttling error. */
void cwx_retry_adaptive_update(struct cwx_retry_adaptive *a, double now_s, int throttled);

#endif
