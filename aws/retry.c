/* The standard retry mode as pure functions (see retry.h). */
#include "aws/retry.h"

#include <math.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"

const char *cwx_retry_class_name(enum cwx_retry_class c)
{
    switch (c) {
    case CWX_RETRY_SUCCESS:
        return "success";
    case CWX_RETRY_TRANSIENT:
        return "transient";
    case CWX_RETRY_TIMEOUT:
        return "timeout";
    case CWX_RETRY_THROTTLE:
        return "throttle";
    case CWX_RETRY_SLOT_BUSY:
        return "slot-busy";
    case CWX_RETRY_EXPIRED_CREDS:
        return "expired-credentials";
    case CWX_RETRY_CLOCK_SKEW:
        return "clock-skew";
    case CWX_RETRY_DENIED:
        return "denied";
    case CWX_RETRY_FATAL:
        return "fatal";
    }
    return "unknown";
}

static int s_in(const char *code, const char *const *list)
{
    if (!code || !*code)
        return 0;
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

/* botocore's standard-mode throttling codes (retries/standard.py), plus
 * EC2's and API Gateway's spellings. LimitExceededException is here for
 * every call but CreateExportTask (the classifier checks that first). */
static const char *const s_throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
    NULL,
};

/* Codes of a failure on AWS's side that a later attempt may not meet. */
static const char *const s_transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "IDPCommunicationError",
    NULL,
};

/* The caller is not allowed, or not who it claims to be: retrying cannot
 * help, and the lane must stop and say which permission is missing. */
static const char *const s_denied_codes[] = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "AuthorizationError",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "NotAuthorized",
    NULL,
};

int cwx_retry_is_throttle_code(const char *code)
{
    return s_in(code, s_throttle_codes);
}

int cwx_retry_is_transient_code(const char *code)
{
    return s_in(code, s_transient_codes);
}

int cwx_retry_is_denied_code(const char *code)
{
    return s_in(code, s_denied_codes);
}

enum cwx_retry_class cwx_retry_classify(const struct cwx_retry_answer *a)
{
    if (a->transport_error) {
        if (a->transport_error == CWX_ETIMEDOUT)
            return CWX_RETRY_TIMEOUT;
        if (a->transport_error == CWX_EHTTP)
            return CWX_RETRY_TRANSIENT;
        /* A certificate that does not verify, too big, aborted by the body
         * sink, out of memory: the same request would meet the same end. */
        return CWX_RETRY_FATAL;
    }
    if (a->http_status >= 200 && a->http_status < 300)
        return CWX_RETRY_SUCCESS;

    const char *code = a->code && *a->code ? a->code : NULL;
    int skewed = a->skew_ms >= CWX_RETRY_SKEW_THRESHOLD_MS;
    if (code) {
        if (a->slot_busy_call && strcmp(code, "LimitExceededException") == 0)
            return CWX_RETRY_SLOT_BUSY;
        if (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "ExpiredTokenException") == 0)
            return CWX_RETRY_EXPIRED_CREDS;
        /* EC2 and STS say RequestExpired both for a stale timestamp and for
         * an expired session: the clock tells them apart. */
        if (strcmp(code, "RequestExpired") == 0)
            return skewed ? CWX_RETRY_CLOCK_SKEW : CWX_RETRY_EXPIRED_CREDS;
        if (strcmp(code, "RequestTimeTooSkewed") == 0 ||
            strcmp(code, "RequestInTheFuture") == 0)
            return CWX_RETRY_CLOCK_SKEW;
        if (strcmp(code, "InvalidSignatureException") == 0 && a->message &&
            (strstr(a->message, "Signature expired") ||
             strstr(a->message, "Signature not yet current")))
            return CWX_RETRY_CLOCK_SKEW;
        if ((strcmp(code, "SignatureDoesNotMatch") == 0 ||
             strcmp(code, "InvalidSignatureException") == 0 ||
             strcmp(code, "AuthFailure") == 0) &&
            skewed)
            return CWX_RETRY_CLOCK_SKEW;
        if (cwx_retry_is_throttle_code(code))
            return CWX_RETRY_THROTTLE;
        if (cwx_retry_is_transient_code(code))
            return CWX_RETRY_TRANSIENT;
        if (cwx_retry_is_denied_code(code))
            return CWX_RETRY_DENIED;
    }
    switch (a->http_status) {
    case 500:
    case 502:
    case 503:
    case 504:
        return CWX_RETRY_TRANSIENT;
    case 429:
        return CWX_RETRY_THROTTLE;
    default:
        return CWX_RETRY_FATAL;
    }
}

/* ---- jitter ------------------------------------------------------------- */

static uint64_t s_rng_state;

double cwx_retry_random(void *ud)
{
    (void)ud;
    if (!s_rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s_rng_state = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
                      ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15u;
        if (!s_rng_state)
            s_rng_state = 1;
    }
    /* xorshift64*: plenty for spreading retries apart. */
    uint64_t x = s_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s_rng_state = x;
    return (double)((x * 0x2545F4914F6CDD1Du) >> 11) / 9007199254740992.0; /* 2^53 */
}

int64_t cwx_retry_delay_max_ms(int attempt)
{
    if (attempt < 1)
        attempt = 1;
    int64_t s = attempt - 1 >= 5 ? CWX_RETRY_MAX_BACKOFF_S : (int64_t)1 << (attempt - 1);
    if (s > CWX_RETRY_MAX_BACKOFF_S)
        s = CWX_RETRY_MAX_BACKOFF_S;
    return s * 1000;
}

int64_t cwx_retry_delay_ms(int attempt, cwx_retry_random_fn *rnd, void *rnd_ud)
{
    double r = (rnd ? rnd : cwx_retry_random)(rnd_ud);
    if (!(r >= 0.0)) /* also NaN */
        r = 0.0;
    if (r >= 1.0)
        r = 1.0;
    return (int64_t)(r * (double)cwx_retry_delay_max_ms(attempt));
}

/* ---- the quota ---------------------------------------------------------- */

void cwx_retry_quota_init(struct cwx_retry_quota *q, int capacity)
{
    q->capacity = capacity > 0 ? capacity : CWX_RETRY_QUOTA_CAPACITY;
    q->available = q->capacity;
}

int cwx_retry_quota_acquire(struct cwx_retry_quota *q, int after_timeout)
{
    int cost = after_timeout ? CWX_RETRY_TIMEOUT_COST : CWX_RETRY_COST;
    if (q->available < cost)
        return 0;
    q->available -= cost;
    return cost;
}

void cwx_retry_quota_success(struct cwx_retry_quota *q, int last_acquired)
{
    int give = last_acquired > 0 ? last_acquired : CWX_RETRY_NO_RETRY_INCREMENT;
    q->available += give;
    if (q->available > q->capacity)
        q->available = q->capacity;
}

/* ---- adaptive mode ---------------------------------------------------------- */

#define S_CUBIC_SCALE 0.4
#define S_CUBIC_BETA 0.7
#define S_MIN_RATE 0.5
#define S_SMOOTHING 0.8
#define S_BUCKET_S 0.5

static double s_cubic_k(const struct cwx_retry_adaptive *a)
{
    return cbrt(a->w_max * (1.0 - S_CUBIC_BETA) / S_CUBIC_SCALE);
}

static void s_set_rate(struct cwx_retry_adaptive *a, double rate)
{
    a->max_rate = rate > S_MIN_RATE ? rate : S_MIN_RATE;
    a->capacity = a->max_rate > 1.0 ? a->max_rate : 1.0;
    if (a->tokens > a->capacity)
        a->tokens = a->capacity;
}

void cwx_retry_adaptive_init(struct cwx_retry_adaptive *a, double now_s)
{
    memset(a, 0, sizeof(*a));
    a->last_refill = -1;
    a->w_max = S_MIN_RATE;
    a->last_fail = now_s;
    a->k = s_cubic_k(a);
    a->last_bucket = floor(now_s / S_BUCKET_S) * S_BUCKET_S;
    s_set_rate(a, 1.0);
}

static void s_refill(struct cwx_retry_adaptive *a, double now_s)
{
    if (a->last_refill < 0) {
        a->last_refill = now_s;
        return;
    }
    a->tokens += (now_s - a->last_refill) * a->max_rate;
    if (a->tokens > a->capacity)
        a->tokens = a->capacity;
    a->last_refill = now_s;
}

double cwx_retry_adaptive_acquire(struct cwx_retry_adaptive *a, double now_s)
{
    if (!a->enabled)
        return 0;
    s_refill(a, now_s);
    /* A hair under one token counts: waiting for the last 1e-9 of a token
     * would be a wait the clock cannot express. */
    if (a->tokens + 1e-9 >= 1.0) {
        a->tokens = a->tokens > 1.0 ? a->tokens - 1.0 : 0.0;
        return 0;
    }
    return (1.0 - a->tokens) / a->max_rate;
}

void cwx_retry_adaptive_update(struct cwx_retry_adaptive *a, double now_s, int throttled)
{
    /* The send rate, smoothed over half-second buckets. */
    double bucket = floor(now_s / S_BUCKET_S) * S_BUCKET_S;
    a->count += 1;
    if (bucket > a->last_bucket) {
        double rate = a->count / (bucket - a->last_bucket);
        a->measured = rate * S_SMOOTHING + a->measured * (1.0 - S_SMOOTHING);
        a->count = 0;
        a->last_bucket = bucket;
    }
    double new_rate;
    if (!throttled) {
        double dt = now_s - a->last_fail - a->k;
        new_rate = S_CUBIC_SCALE * dt * dt * dt + a->w_max;
    } else {
        double use = a->enabled && a->max_rate < a->measured ? a->max_rate : a->measured;
        a->w_max = use;
        a->k = s_cubic_k(a);
        a->last_fail = now_s;
        new_rate = use * S_CUBIC_BETA;
        a->enabled = 1;
    }
    double cap = 2.0 * a->measured;
    s_set_rate(a, new_rate < cap ? new_rate : cap);
}
