/* The standard retry mode as pure functions: classification, jittered delays
 * and the retry quota (aws/retry.h). */
#include "testmain.h"

#include <string.h>

#include "aws/retry.h"
#include "common/error.h"

/* ---- classification ------------------------------------------------------ */

struct row {
    int transport_error;
    long status;
    const char *code;
    const char *message;
    int64_t skew_ms;
    int slot_busy_call;
    enum cwx_retry_class want;
};

#define SKEW (5 * 60 * 1000)

static const struct row s_table[] = {
    /* success */
    {0, 200, NULL, NULL, -1, 0, CWX_RETRY_SUCCESS},
    {0, 204, NULL, NULL, -1, 0, CWX_RETRY_SUCCESS},
    {0, 206, "", NULL, -1, 1, CWX_RETRY_SUCCESS},
    /* transport */
    {CWX_EHTTP, 0, NULL, NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {CWX_ETIMEDOUT, 0, NULL, NULL, -1, 0, CWX_RETRY_TIMEOUT},
    {CWX_ETOOBIG, 200, NULL, NULL, -1, 0, CWX_RETRY_FATAL},
    {CWX_ETLS, 0, NULL, NULL, -1, 0, CWX_RETRY_FATAL}, /* a certificate that does not verify */
    {CWX_ECANCELED, 0, NULL, NULL, -1, 0, CWX_RETRY_FATAL},
    {CWX_EPARSE, 200, NULL, NULL, -1, 0, CWX_RETRY_FATAL},
    /* transient by status */
    {0, 500, NULL, NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 502, NULL, NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 503, NULL, NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 504, NULL, NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 500, "SomethingOdd", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 501, NULL, NULL, -1, 0, CWX_RETRY_FATAL},
    /* transient by code */
    {0, 400, "RequestTimeout", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 408, "RequestTimeoutException", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 400, "PriorRequestNotComplete", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 500, "InternalFailure", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 500, "InternalError", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 503, "ServiceUnavailable", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    {0, 503, "ServiceUnavailableException", NULL, -1, 0, CWX_RETRY_TRANSIENT},
    /* throttling */
    {0, 400, "Throttling", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "ThrottlingException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "ThrottledException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "RequestThrottledException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 429, "TooManyRequestsException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "ProvisionedThroughputExceededException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "TransactionInProgressException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 503, "RequestLimitExceeded", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "BandwidthLimitExceeded", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "LimitExceededException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "RequestThrottled", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 503, "SlowDown", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 400, "EC2ThrottledException", NULL, -1, 0, CWX_RETRY_THROTTLE},
    {0, 429, NULL, NULL, -1, 0, CWX_RETRY_THROTTLE},
    /* the export slot */
    {0, 400, "LimitExceededException", "Resource limit exceeded.", -1, 1, CWX_RETRY_SLOT_BUSY},
    {0, 400, "ThrottlingException", NULL, -1, 1, CWX_RETRY_THROTTLE},
    /* expired credentials */
    {0, 400, "ExpiredToken", NULL, -1, 0, CWX_RETRY_EXPIRED_CREDS},
    {0, 400, "ExpiredTokenException", NULL, -1, 0, CWX_RETRY_EXPIRED_CREDS},
    {0, 400, "RequestExpired", NULL, -1, 0, CWX_RETRY_EXPIRED_CREDS},
    {0, 400, "RequestExpired", NULL, 1000, 0, CWX_RETRY_EXPIRED_CREDS},
    /* clock skew */
    {0, 400, "RequestExpired", NULL, SKEW, 0, CWX_RETRY_CLOCK_SKEW},
    {0, 403, "RequestTimeTooSkewed", NULL, -1, 0, CWX_RETRY_CLOCK_SKEW},
    {0, 400, "InvalidSignatureException", "Signature expired: 20240101T000000Z is now earlier than",
     -1, 0, CWX_RETRY_CLOCK_SKEW},
    {0, 400, "InvalidSignatureException", "Signature not yet current: 20240101T000000Z is still later",
     -1, 0, CWX_RETRY_CLOCK_SKEW},
    {0, 403, "SignatureDoesNotMatch", NULL, SKEW, 0, CWX_RETRY_CLOCK_SKEW},
    {0, 403, "SignatureDoesNotMatch", NULL, 10 * 1000, 0, CWX_RETRY_DENIED},
    {0, 403, "SignatureDoesNotMatch", NULL, -1, 0, CWX_RETRY_DENIED},
    /* access denied */
    {0, 403, "AccessDenied", NULL, -1, 0, CWX_RETRY_DENIED},
    {0, 400, "AccessDeniedException", NULL, -1, 0, CWX_RETRY_DENIED},
    {0, 403, "UnauthorizedOperation", NULL, -1, 0, CWX_RETRY_DENIED},
    {0, 400, "UnrecognizedClientException", NULL, -1, 0, CWX_RETRY_DENIED},
    {0, 403, "InvalidClientTokenId", NULL, -1, 0, CWX_RETRY_DENIED},
    {0, 403, "InvalidAccessKeyId", NULL, -1, 0, CWX_RETRY_DENIED},
    {0, 400, "InvalidSignatureException", "The request signature we calculated does not match",
     -1, 0, CWX_RETRY_DENIED},
    /* everything else */
    {0, 400, "ResourceNotFoundException", NULL, -1, 0, CWX_RETRY_FATAL},
    {0, 400, "InvalidParameterException", NULL, -1, 0, CWX_RETRY_FATAL},
    {0, 404, "NoSuchKey", NULL, -1, 0, CWX_RETRY_FATAL},
    {0, 404, NULL, NULL, -1, 0, CWX_RETRY_FATAL},
    {0, 301, "PermanentRedirect", NULL, -1, 0, CWX_RETRY_FATAL},
    {0, 400, "InvalidOperationException", NULL, -1, 1, CWX_RETRY_FATAL},
};

static void classification_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_table) / sizeof(s_table[0]); i++) {
        const struct row *r = &s_table[i];
        struct cwx_retry_answer a = {
            .transport_error = r->transport_error,
            .http_status = r->status,
            .code = r->code,
            .message = r->message,
            .skew_ms = r->skew_ms,
            .slot_busy_call = r->slot_busy_call,
        };
        enum cwx_retry_class got = cwx_retry_classify(&a);
        if (got != r->want)
            fail_msg("row %zu (%ld %s): got %s, want %s", i, r->status,
                     r->code ? r->code : "-", cwx_retry_class_name(got),
                     cwx_retry_class_name(r->want));
    }
}

static void code_tables(void **state)
{
    (void)state;
    assert_true(cwx_retry_is_throttle_code("SlowDown"));
    assert_false(cwx_retry_is_throttle_code("slowdown"));
    assert_false(cwx_retry_is_throttle_code(NULL));
    assert_false(cwx_retry_is_throttle_code(""));
    assert_true(cwx_retry_is_transient_code("PriorRequestNotComplete"));
    assert_true(cwx_retry_is_denied_code("AccessDenied"));
    assert_false(cwx_retry_is_denied_code("ExpiredToken"));
    assert_string_equal(cwx_retry_class_name(CWX_RETRY_SLOT_BUSY), "slot-busy");
}

/* ---- delays -------------------------------------------------------------- */

/* A seeded, reproducible source (splitmix64). */
static double s_seeded(void *ud)
{
    uint64_t *st = ud;
    uint64_t z = (*st += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static double s_const(void *ud)
{
    return *(double *)ud;
}

static void delay_bounds(void **state)
{
    (void)state;
    assert_int_equal(cwx_retry_delay_max_ms(1), 1000);
    assert_int_equal(cwx_retry_delay_max_ms(2), 2000);
    assert_int_equal(cwx_retry_delay_max_ms(3), 4000);
    assert_int_equal(cwx_retry_delay_max_ms(5), 16000);
    assert_int_equal(cwx_retry_delay_max_ms(6), 20000);
    assert_int_equal(cwx_retry_delay_max_ms(60), 20000);
    assert_int_equal(cwx_retry_delay_max_ms(0), 1000);

    uint64_t seed = 42;
    for (int attempt = 1; attempt <= 8; attempt++) {
        int64_t max = cwx_retry_delay_max_ms(attempt);
        int64_t lo = max, hi = 0;
        double sum = 0;
        const int n = 20000;
        for (int i = 0; i < n; i++) {
            int64_t d = cwx_retry_delay_ms(attempt, s_seeded, &seed);
            assert_true(d >= 0);
            assert_true(d < max || (d == max && max == 0));
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            sum += (double)d;
        }
        /* Uniform jitter: the draws fill the range, the mean is half of it. */
        assert_true(lo < max / 100 + 1);
        assert_true(hi > max - max / 100 - 1);
        double mean = sum / n;
        assert_true(mean > 0.48 * (double)max && mean < 0.52 * (double)max);
    }
    /* The same seed gives the same delays. */
    uint64_t a = 7, b = 7;
    for (int i = 0; i < 100; i++)
        assert_int_equal(cwx_retry_delay_ms(2, s_seeded, &a), cwx_retry_delay_ms(2, s_seeded, &b));
    /* Injected constants, and out-of-range sources are clamped. */
    double r = 0.5;
    assert_int_equal(cwx_retry_delay_ms(1, s_const, &r), 500);
    assert_int_equal(cwx_retry_delay_ms(3, s_const, &r), 2000);
    r = 0.0;
    assert_int_equal(cwx_retry_delay_ms(3, s_const, &r), 0);
    r = 7.0;
    assert_int_equal(cwx_retry_delay_ms(2, s_const, &r), 2000);
    r = -1.0;
    assert_int_equal(cwx_retry_delay_ms(2, s_const, &r), 0);
}

static void default_random_in_range(void **state)
{
    (void)state;
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double x = cwx_retry_random(NULL);
        assert_true(x >= 0.0 && x < 1.0);
        sum += x;
        int64_t d = cwx_retry_delay_ms(2, NULL, NULL);
        assert_true(d >= 0 && d < 2000);
    }
    assert_true(sum / 10000 > 0.45 && sum / 10000 < 0.55);
}

/* ---- the quota ----------------------------------------------------------- */

static void quota_accounting(void **state)
{
    (void)state;
    struct cwx_retry_quota q;
    cwx_retry_quota_init(&q, CWX_RETRY_QUOTA_CAPACITY);
    assert_int_equal(q.available, 500);
    /* A success without retries refunds 1, never past the capacity. */
    cwx_retry_quota_success(&q, 0);
    assert_int_equal(q.available, 500);

    assert_int_equal(cwx_retry_quota_acquire(&q, 0), 5);
    assert_int_equal(q.available, 495);
    assert_int_equal(cwx_retry_quota_acquire(&q, 1), 10);
    assert_int_equal(q.available, 485);
    /* A success after retries gives back what the last retry took. */
    cwx_retry_quota_success(&q, 10);
    assert_int_equal(q.available, 495);
    cwx_retry_quota_success(&q, 0);
    assert_int_equal(q.available, 496);

    /* Drain it: 99 retries of 5 leave 1, which pays for nothing. */
    int n = 0;
    while (cwx_retry_quota_acquire(&q, 0))
        n++;
    assert_int_equal(n, 99);
    assert_int_equal(q.available, 1);
    assert_int_equal(cwx_retry_quota_acquire(&q, 1), 0);
    assert_int_equal(q.available, 1);
    /* Successes refill it one token at a time. */
    for (int i = 0; i < 4; i++)
        cwx_retry_quota_success(&q, 0);
    assert_int_equal(q.available, 5);
    assert_int_equal(cwx_retry_quota_acquire(&q, 1), 0);
    assert_int_equal(cwx_retry_quota_acquire(&q, 0), 5);
    assert_int_equal(q.available, 0);

    struct cwx_retry_quota small;
    cwx_retry_quota_init(&small, 12);
    assert_int_equal(cwx_retry_quota_acquire(&small, 1), 10);
    assert_int_equal(cwx_retry_quota_acquire(&small, 1), 0);
    cwx_retry_quota_success(&small, 10);
    cwx_retry_quota_success(&small, 10);
    assert_int_equal(small.available, 12);
}

/* Adaptive mode: no limit before the first throttle; a throttle cuts the
 * rate to 70 % of the measured send rate (never under 0.5/s) and waits are
 * then imposed; successes grow the rate back along the cubic curve. */
static void adaptive_rate_limiter(void **state)
{
    (void)state;
    struct cwx_retry_adaptive a;
    cwx_retry_adaptive_init(&a, 100.0);
    double t = 100.0;
    /* 20 calls a second for 3 s, no throttle: never delayed. */
    for (int i = 0; i < 60; i++, t += 0.05) {
        assert_true(cwx_retry_adaptive_acquire(&a, t) == 0);
        cwx_retry_adaptive_update(&a, t, 0);
    }
    assert_false(a.enabled);
    assert_true(a.measured > 15 && a.measured < 25);
    double measured = a.measured;
    cwx_retry_adaptive_update(&a, t, 1);
    assert_true(a.enabled);
    assert_true(a.max_rate > 0.69 * measured && a.max_rate < 0.71 * measured);
    /* The bucket starts empty after the throttle at this rate: sending
     * faster than max_rate means waiting. */
    double waited = 0;
    int sent = 0;
    for (int guard = 0; sent < 40 && guard < 1000; guard++) {
        double w = cwx_retry_adaptive_acquire(&a, t);
        if (w > 0) {
            waited += w;
            t += w;
            continue;
        }
        cwx_retry_adaptive_update(&a, t, 0);
        sent++;
    }
    assert_int_equal(sent, 40);
    assert_true(waited > 0);
    /* Successes grow the rate back: sending as fast as allowed for 20 s
     * ends well above the cut. */
    double cut = a.max_rate;
    double end = t + 20.0;
    for (int guard = 0; t < end && guard < 100000; guard++) {
        double w = cwx_retry_adaptive_acquire(&a, t);
        if (w > 0) {
            t += w;
            continue;
        }
        cwx_retry_adaptive_update(&a, t, 0);
    }
    assert_true(a.max_rate > cut);
    /* A throttle with no measured rate yet keeps the floor of 0.5/s. */
    struct cwx_retry_adaptive b;
    cwx_retry_adaptive_init(&b, 0.0);
    cwx_retry_adaptive_update(&b, 0.1, 1);
    assert_true(b.max_rate == 0.5);
    assert_true(cwx_retry_adaptive_acquire(&b, 0.1) >= 0);
    assert_true(cwx_retry_adaptive_acquire(&b, 0.2) > 1.0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(adaptive_rate_limiter),
    cmocka_unit_test(classification_table),
    cmocka_unit_test(code_tables),
    cmocka_unit_test(delay_bounds),
    cmocka_unit_test(default_random_in_range),
    cmocka_unit_test(quota_accounting),
};

CWX_TEST_MAIN(tests)
