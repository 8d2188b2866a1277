/* The call layer (aws/core.c): pure pieces (endpoints, S3 addressing, error
 * parsing, Date) without a server, and signed, retried, rate-limited calls
 * against tests/fakeaws, started by a ctest fixture (aws_test_env.h). The
 * fake verifies every signature with botocore; its control API under
 * /_fake/ injects the faults (5xx, throttles, resets, latency, expired
 * credentials) whose retries these cases measure: attempts, delays within
 * the jitter bounds, the retry quota. */
#include "testmain.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "aws/core.h"
#include "aws/core_internal.h"
#include "aws/credentials.h"
#include "aws/retry.h"
#include "aws_test_env.h"
#include "common/error.h"

#define DEMO_KEY "AKIAFAKEDEMO00000001"
#define DEMO_SECRET "fakedemosecretkey000000000000000000000001"
#define DEMO_ROLE "arn:aws:iam::222222222222:role/cwexport-demo"
#define DEMO_BUCKET "cwexport-demo-111111111111-us-east-1"

/* ======================================================================
 * Pure pieces
 * ====================================================================== */

static void s_clear_endpoint_env(void)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL_SNS");
    unsetenv("AWS_ENDPOINT_URL_STS");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
}

static void s_expect_endpoint(struct cwx_aws *aws, const char *service, const char *region,
                              const char *want, int want_path_style)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int ps = -1;
    assert_int_equal(cwx_aws_endpoint(aws, service, region, &b, &ps), 0);
    assert_string_equal(b.ptr, want);
    assert_int_equal(ps, want_path_style);
    cwx_buf_free(&b);
}

static struct cwx_aws *s_aws_plain(uv_loop_t *loop)
{
    struct cwx_aws *aws = NULL;
    assert_int_equal(cwx_aws_new(loop, NULL, &aws), 0);
    return aws;
}

static void s_aws_done(uv_loop_t *loop, struct cwx_aws *aws)
{
    cwx_aws_free(aws);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void endpoints_by_partition(void **state)
{
    (void)state;
    s_clear_endpoint_env();
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_aws *aws = s_aws_plain(&loop);
    s_expect_endpoint(aws, "logs", "us-east-1", "https://logs.us-east-1.amazonaws.com", 0);
    s_expect_endpoint(aws, "s3", "eu-west-1", "https://s3.eu-west-1.amazonaws.com", 0);
    s_expect_endpoint(aws, "sns", "ap-southeast-2", "https://sns.ap-southeast-2.amazonaws.com", 0);
    s_expect_endpoint(aws, "sts", "us-west-2", "https://sts.us-west-2.amazonaws.com", 0);
    s_expect_endpoint(aws, "logs", "cn-north-1", "https://logs.cn-north-1.amazonaws.com.cn", 0);
    s_expect_endpoint(aws, "s3", "cn-northwest-1", "https://s3.cn-northwest-1.amazonaws.com.cn", 0);
    s_expect_endpoint(aws, "sts", "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn", 0);
    s_expect_endpoint(aws, "logs", "us-gov-west-1", "https://logs.us-gov-west-1.amazonaws.com", 0);
    s_expect_endpoint(aws, "sts", "us-gov-east-1", "https://sts.us-gov-east-1.amazonaws.com", 0);
    s_expect_endpoint(aws, "s3", "us-iso-east-1", "https://s3.us-iso-east-1.c2s.ic.gov", 0);
    s_expect_endpoint(aws, "s3", "us-isob-east-1", "https://s3.us-isob-east-1.sc2s.sgov.gov", 0);
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_aws_endpoint(aws, "ec2", "us-east-1", &b, NULL), CWX_EINVAL);
    assert_int_equal(cwx_aws_endpoint(aws, "logs", "us-east-1.evil.com/", &b, NULL), CWX_EINVAL);
    assert_int_equal(cwx_aws_endpoint(aws, "logs", "", &b, NULL), CWX_EINVAL);
    assert_int_equal(cwx_aws_endpoint(aws, "logs", "US-EAST-1", &b, NULL), CWX_EINVAL);
    cwx_buf_free(&b);
    assert_string_equal(cwx__aws_endpoint_env("logs"), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    assert_null(cwx__aws_endpoint_env("ec2"));
    s_aws_done(&loop, aws);
}

static void endpoints_from_environment(void **state)
{
    (void)state;
    s_clear_endpoint_env();
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/", 1);
    setenv("AWS_ENDPOINT_URL_S3", "http://localhost:9000", 1);
    setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.internal", 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_aws *aws = s_aws_plain(&loop);
    s_expect_endpoint(aws, "logs", "us-east-1", "http://127.0.0.1:4566", 0);
    s_expect_endpoint(aws, "sns", "eu-west-1", "http://127.0.0.1:4566", 0);
    s_expect_endpoint(aws, "s3", "us-east-1", "http://localhost:9000", 1);
    s_expect_endpoint(aws, "sts", "us-east-1", "https://sts.example.internal", 0);
    s_aws_done(&loop, aws);

    /* The per-service variable alone. */
    s_clear_endpoint_env();
    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.2", 1);
    uv_loop_init(&loop);
    aws = s_aws_plain(&loop);
    s_expect_endpoint(aws, "logs", "us-east-1", "http://127.0.0.2", 0);
    s_expect_endpoint(aws, "s3", "us-east-1", "https://s3.us-east-1.amazonaws.com", 0);
    s_aws_done(&loop, aws);

    /* The SDK's switch turns every override off. */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    uv_loop_init(&loop);
    aws = s_aws_plain(&loop);
    s_expect_endpoint(aws, "logs", "us-east-1", "https://logs.us-east-1.amazonaws.com", 0);
    s_aws_done(&loop, aws);
    s_clear_endpoint_env();
}

static void s_expect_url(const char *base, int ps, const char *bucket, const char *path,
                         const char *query, const char *want_url, const char *want_path)
{
    struct cwx_buf url, p;
    cwx_buf_init(&url, 0);
    cwx_buf_init(&p, 0);
    assert_int_equal(cwx__aws_request_url(base, ps, bucket, path, query, &url, &p), 0);
    assert_string_equal(url.ptr, want_url);
    assert_string_equal(p.ptr, want_path);
    cwx_buf_free(&url);
    cwx_buf_free(&p);
}

static void s3_addressing(void **state)
{
    (void)state;
    const char *aws = "https://s3.eu-west-1.amazonaws.com";
    /* Virtual-hosted on AWS. */
    s_expect_url(aws, 0, "my-bucket", "/a/b%20c.gz", NULL,
                 "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c.gz", "/a/b%20c.gz");
    s_expect_url(aws, 0, "my-bucket", "/", "list-type=2&prefix=x%2F",
                 "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=x%2F", "/");
    /* Dots (the wildcard certificate), capitals, underscores: path-style. */
    s_expect_url(aws, 0, "logs.example.com", "/k", NULL,
                 "https://s3.eu-west-1.amazonaws.com/logs.example.com/k", "/logs.example.com/k");
    s_expect_url(aws, 0, "Old_Bucket", "/k", NULL,
                 "https://s3.eu-west-1.amazonaws.com/Old_Bucket/k", "/Old_Bucket/k");
    /* Custom endpoints: path-style, the base's own path kept. */
    s_expect_url("http://127.0.0.1:4566", 1, "b1", "/x/y", "versionId=3",
                 "http://127.0.0.1:4566/b1/x/y?versionId=3", "/b1/x/y");
    s_expect_url("http://127.0.0.1:4566", 1, "b1", "/", NULL, "http://127.0.0.1:4566/b1",
                 "/b1");
    s_expect_url("https://proxy.local/s3/", 1, "b1", "/k", NULL, "https://proxy.local/s3/b1/k",
                 "/s3/b1/k");
    /* Other services: no bucket. */
    s_expect_url("https://logs.us-east-1.amazonaws.com", 0, NULL, "/", NULL,
                 "https://logs.us-east-1.amazonaws.com/", "/");
    s_expect_url("https://sts.us-east-1.amazonaws.com", 0, NULL, NULL,
                 "Action=GetCallerIdentity&Version=2011-06-15",
                 "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
                 "/");
    struct cwx_buf url, p;
    cwx_buf_init(&url, 0);
    cwx_buf_init(&p, 0);
    assert_int_equal(cwx__aws_request_url(aws, 0, "b", "no-slash", NULL, &url, &p), CWX_EINVAL);
    cwx_buf_free(&url);
    cwx_buf_free(&p);

    assert_true(cwx__aws_bucket_virtual_ok("abc"));
    assert_true(cwx__aws_bucket_virtual_ok("cwexport-demo-111111111111-us-east-1"));
    assert_false(cwx__aws_bucket_virtual_ok("ab"));
    assert_false(cwx__aws_bucket_virtual_ok("-abc"));
    assert_false(cwx__aws_bucket_virtual_ok("a.b.c"));
    assert_false(cwx__aws_bucket_virtual_ok(NULL));
}

static struct cwx_aws_error s_parse(enum cwx_aws_protocol proto, const char *method,
                                    const char *bucket, const char *path, long status,
                                    const char *body)
{
    struct cwx_aws_error e;
    memset(&e, 0, sizeof(e));
    cwx__aws_parse_error(proto, method, bucket, path, status, body, body ? strlen(body) : 0, &e);
    return e;
}

static void error_parsing(void **state)
{
    (void)state;
    struct cwx_aws_error e;
    /* JSON 1.1 */
    e = s_parse(CWX_PROTO_JSON, "POST", NULL, "/", 400,
                "{\"__type\":\"com.amazonaws.logs#LimitExceededException\","
                "\"message\":\"Resource limit exceeded.\"}");
    assert_string_equal(e.code, "LimitExceededException");
    assert_string_equal(e.message, "Resource limit exceeded.");
    e = s_parse(CWX_PROTO_JSON, "POST", NULL, "/", 400,
                "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}");
    assert_string_equal(e.code, "ThrottlingException");
    assert_string_equal(e.message, "Rate exceeded");
    e = s_parse(CWX_PROTO_JSON, "POST", NULL, "/", 400,
                "{\"__type\":\"ResourceNotFoundException:http://internal.amazon.com/\"}");
    assert_string_equal(e.code, "ResourceNotFoundException");
    e = s_parse(CWX_PROTO_JSON, "POST", NULL, "/", 502, "<html>Bad gateway</html>");
    assert_string_equal(e.code, "InternalFailure");
    e = s_parse(CWX_PROTO_JSON, "POST", NULL, "/", 400, "{not json");
    assert_string_equal(e.code, "");
    assert_true(strstr(e.message, "HTTP 400") != NULL);

    /* S3 REST-XML */
    e = s_parse(CWX_PROTO_REST_XML, "GET", "b", "/k", 404,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                "<Message>The specified key does not exist.</Message><Key>k</Key>"
                "<RequestId>4442587FB7D0A2F9</RequestId><HostId>x</HostId></Error>");
    assert_string_equal(e.code, "NoSuchKey");
    assert_string_equal(e.message, "The specified key does not exist.");
    assert_string_equal(e.request_id, "4442587FB7D0A2F9");
    /* HEAD has no body: the status says it. */
    e = s_parse(CWX_PROTO_REST_XML, "HEAD", "b", "/k", 404, NULL);
    assert_string_equal(e.code, "NotFound");
    e = s_parse(CWX_PROTO_REST_XML, "HEAD", "b", "/k", 403, NULL);
    assert_string_equal(e.code, "AccessDenied");
    e = s_parse(CWX_PROTO_REST_XML, "HEAD", "b", "/", 301, NULL);
    assert_string_equal(e.code, "PermanentRedirect");
    e = s_parse(CWX_PROTO_REST_XML, "GET", "b", "/", 404, "");
    assert_string_equal(e.code, "NoSuchBucket");
    e = s_parse(CWX_PROTO_REST_XML, "DELETE", "b", "/k", 404, NULL);
    assert_string_equal(e.code, "NoSuchKey");
    e = s_parse(CWX_PROTO_REST_XML, "PUT", "b", "/k", 503,
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                "</Message></Error>");
    assert_string_equal(e.code, "SlowDown");

    /* Query */
    e = s_parse(CWX_PROTO_QUERY, "POST", NULL, "/", 403,
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                "<Error><Type>Sender</Type><Code>ExpiredToken</Code>"
                "<Message>The security token included in the request is expired</Message>"
                "</Error><RequestId>a1b2c3</RequestId></ErrorResponse>");
    assert_string_equal(e.code, "ExpiredToken");
    assert_string_equal(e.message, "The security token included in the request is expired");
    assert_string_equal(e.request_id, "a1b2c3");
    e = s_parse(CWX_PROTO_QUERY, "POST", NULL, "/", 400,
                "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
                "</Error><RequestId>r</RequestId></ErrorResponse>");
    assert_string_equal(e.code, "Throttling");
    /* An XML bomb is refused at its DOCTYPE, and nothing is expanded. */
    e = s_parse(CWX_PROTO_QUERY, "POST", NULL, "/", 400,
                "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>"
                "<ErrorResponse><Error><Code>&lol2;</Code></Error></ErrorResponse>");
    assert_string_equal(e.code, "");
    /* Truncated: what came before the cut is kept. */
    e = s_parse(CWX_PROTO_REST_XML, "GET", "b", "/k", 500,
                "<Error><Code>InternalError</Code><Message>We encou");
    assert_string_equal(e.code, "InternalError");
    /* Control characters never reach a log line. */
    e = s_parse(CWX_PROTO_JSON, "POST", NULL, "/", 400,
                "{\"__type\":\"X\",\"message\":\"a\\u0007b\\rc\"}");
    assert_string_equal(e.message, "a b c");

    char buf[256];
    struct cwx_aws_error f = {.http_status = 400, .attempts = 3};
    snprintf(f.code, sizeof(f.code), "ThrottlingException");
    snprintf(f.message, sizeof(f.message), "Rate exceeded");
    snprintf(f.request_id, sizeof(f.request_id), "rid-1");
    cwx_aws_error_format(&f, buf, sizeof(buf));
    assert_string_equal(buf,
                        "ThrottlingException: Rate exceeded (HTTP 400, request id rid-1, 3 attempts)");
    struct cwx_aws_error g = {0};
    snprintf(g.message, sizeof(g.message), "Connection refused");
    cwx_aws_error_format(&g, buf, sizeof(buf));
    assert_string_equal(buf, "Error: Connection refused (no answer)");
    cwx_aws_error_format(&f, buf, 10);
    assert_int_equal(strlen(buf), 9);
}

/* Plain http only to this machine: the rest is refused unless allowed. */
static void insecure_endpoints(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host;
        int insecure;
    } cases[] = {
        {"https://logs.example.com", NULL, 0},
        {"http://127.0.0.1:4566", NULL, 0},
        {"http://127.10.0.3", NULL, 0},
        {"HTTP://LOCALHOST:9000/x", NULL, 0},
        {"http://[::1]:80", NULL, 0},
        {"http://10.0.0.5:9000", "10.0.0.5", 1},
        {"http://user:pw@10.0.0.5/path", "10.0.0.5", 1},
        {"http://127.0.0.1.evil.example", "127.0.0.1.evil.example", 1},
        {"http://localhost.evil.example:80", "localhost.evil.example", 1},
        {"http://[fe80::1]:80", "[fe80::1]", 1},
        {"http://user@127.0.0.1@10.1.1.1", "10.1.1.1", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *host = NULL;
        size_t hl = 0;
        int got = cwx__aws_endpoint_insecure(cases[i].url, &host, &hl);
        if (got != cases[i].insecure)
            fail_msg("%s: %d", cases[i].url, got);
        if (got && (hl != strlen(cases[i].host) || memcmp(host, cases[i].host, hl)))
            fail_msg("%s: host %.*s", cases[i].url, (int)hl, host);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_aws *aws = NULL;
    setenv("AWS_ENDPOINT_URL_S3", "http://10.0.0.5:9000", 1);
    assert_int_equal(cwx_aws_new(&loop, NULL, &aws), CWX_EINSECURE);
    assert_null(aws);
    struct cwx_aws_options o = {.allow_insecure_http = 1};
    assert_int_equal(cwx_aws_new(&loop, &o, &aws), 0);
    cwx_aws_free(aws);
    unsetenv("AWS_ENDPOINT_URL_S3");
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ======================================================================
 * Against the fake
 * ====================================================================== */

static char s_fake[512];

static int s_need_fake(void)
{
    if (cwx_test_server_url("CWX_FAKEAWS_URL", s_fake, sizeof(s_fake)) != 0) {
        fprintf(stderr, "no fake AWS (CWX_TEST_SERVER_DIR / CWX_FAKEAWS_URL): skipped\n");
        return 0;
    }
    return 1;
}

#define NEED_FAKE()                                                           \
    do {                                                                      \
        if (!s_need_fake()) {                                                 \
            skip();                                                           \
            return;                                                           \
        }                                                                     \
    } while (0)

static size_t s_sink_buf(char *p, size_t s, size_t n, void *ud)
{
    struct cwx_buf *b = ud;
    cwx_buf_append(b, p, s * n);
    return s * n;
}

/* The fake's control API, blocking (test code only). Returns the parsed
 * JSON answer (caller deletes) or NULL. */
static cJSON *s_control(const char *method, const char *route, const char *json)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/_fake/%s", s_fake, route);
    CURL *e = curl_easy_init();
    struct cwx_buf out;
    cwx_buf_init(&out, 0);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_sink_buf);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);
    if (json)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
    CURLcode cc = curl_easy_perform(e);
    long st = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    if (cc != CURLE_OK || st != 200)
        fail_msg("control %s %s: curl %d HTTP %ld %s", method, route, cc, st,
                 out.ptr ? out.ptr : "");
    cJSON *j = cJSON_Parse(out.ptr ? out.ptr : "null");
    cwx_buf_free(&out);
    return j;
}

static void s_control_ok(const char *method, const char *route, const char *json)
{
    cJSON_Delete(s_control(method, route, json));
}

static void s_fake_reset(void)
{
    s_control_ok("POST", "reset", "{}");
    s_control_ok("DELETE", "faults", NULL);
}

/* ---- the harness ----------------------------------------------------------- */

#define MAX_EVENTS 64

struct retry_event {
    int attempt;
    char kind[32];
    long status;
    int transport_error;
    char code[128];
    int64_t delay_ms;
    int quota;
    uint64_t at_ms;
};

struct h {
    uv_loop_t loop;
    struct cwx_aws *aws;
    struct cwx_creds_provider *creds;
    struct cwx_aws_client *client;
    double rand_value; /* the injected jitter draw; < 0 = the default source */
    int64_t clock_offset_ms;
    struct retry_event ev[MAX_EVENTS];
    int n_ev;
};

static double s_rand(void *ud)
{
    struct h *h = ud;
    return h->rand_value >= 0 ? h->rand_value : cwx_retry_random(NULL);
}

static int64_t s_clock(void *ud)
{
    struct h *h = ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + h->clock_offset_ms;
}

static void s_on_retry(const struct cwx_aws_retry_info *i, void *ud)
{
    struct h *h = ud;
    if (h->n_ev >= MAX_EVENTS)
        return;
    struct retry_event *e = &h->ev[h->n_ev++];
    e->attempt = i->attempt;
    snprintf(e->kind, sizeof(e->kind), "%s", i->kind);
    e->status = i->http_status;
    e->transport_error = i->transport_error;
    snprintf(e->code, sizeof(e->code), "%s", i->code);
    e->delay_ms = i->delay_ms;
    e->quota = i->quota_available;
    e->at_ms = uv_now(&h->loop);
}

struct h_opts {
    double rand_value;
    long total_timeout_ms;
    int retry_quota;
    double rate, burst;
    int no_creds;
};

static void s_h_init(struct h *h, const struct h_opts *o)
{
    memset(h, 0, sizeof(*h));
    s_clear_endpoint_env();
    setenv("AWS_ENDPOINT_URL", s_fake, 1);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    h->rand_value = o ? o->rand_value : 0.05;
    struct cwx_http_options ho = {.total_timeout_ms = o && o->total_timeout_ms ? o->total_timeout_ms : 0};
    struct cwx_aws_options ao = {
        .http = &ho,
        .now_ms = s_clock,
        .now_ud = h,
        .random = s_rand,
        .random_ud = h,
        .on_retry = s_on_retry,
        .retry_ud = h,
        .retry_quota = o ? o->retry_quota : 0,
    };
    assert_int_equal(cwx_aws_new(&h->loop, &ao, &h->aws), 0);
    if (!o || !o->no_creds)
        assert_int_equal(cwx_creds_provider_static(&h->loop, DEMO_KEY, DEMO_SECRET, NULL, 0, NULL,
                                                   &h->creds),
                         0);
    struct cwx_aws_client_options co = {
        .creds = h->creds,
        .region = "us-east-1",
        .rate_per_s = o ? o->rate : 0,
        .burst = o ? o->burst : 0,
    };
    assert_int_equal(cwx_aws_client_new(h->aws, &co, &h->client), 0);
}

static void s_h_done(struct h *h)
{
    if (h->client)
        cwx_aws_client_free(h->client);
    if (h->creds)
        cwx_creds_provider_free(h->creds);
    cwx_aws_free(h->aws);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    s_clear_endpoint_env();
}

/* One logical call and its outcome. */
struct call {
    struct cwx_aws_request req;
    struct cwx_http_header hdrs[2];
    char target[128];
    const char *body;
    int calls;
    int inside;
    int called_inside;
    int status;
    long http_status;
    char code[128];
    char message[512];
    char request_id[128];
    int attempts;
    char rbody[8192];
    size_t rbody_len;
    uint64_t started_ms, done_ms;
    int order; /* on_attempt sequence number of the first attempt */
    uv_loop_t *loop;
};

static int s_attempt_seq;
static uint64_t s_attempt_ms[64];

static void s_on_attempt(void *ud)
{
    struct call *c = ud;
    if (!c->order) {
        c->order = ++s_attempt_seq;
        if (c->order < 64)
            s_attempt_ms[c->order] = uv_now(c->loop);
    }
}

static void s_call_done(int status, const struct cwx_http_response *resp,
                        const struct cwx_aws_error *err, void *ud)
{
    struct call *c = ud;
    c->calls++;
    if (c->inside)
        c->called_inside = 1;
    c->status = status;
    c->done_ms = uv_now(c->loop);
    assert_non_null(err); /* even on success: status, request id, attempts */
    if (err) {
        c->http_status = err->http_status;
        snprintf(c->code, sizeof(c->code), "%s", err->code);
        snprintf(c->message, sizeof(c->message), "%s", err->message);
        snprintf(c->request_id, sizeof(c->request_id), "%s", err->request_id);
        c->attempts = err->attempts;
    } else {
        c->http_status = resp ? resp->status : 0;
        if (resp)
            snprintf(c->request_id, sizeof(c->request_id), "%s", resp->request_id);
    }
    if (resp && resp->body.len) {
        c->rbody_len = resp->body.len < sizeof(c->rbody) - 1 ? resp->body.len : sizeof(c->rbody) - 1;
        memcpy(c->rbody, resp->body.ptr, c->rbody_len);
        c->rbody[c->rbody_len] = '\0';
    }
}

/* A raw CloudWatch Logs JSON 1.1 request. */
static void s_logs(struct call *c, struct h *h, const char *op, const char *body, unsigned flags)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->target, sizeof(c->target), "Logs_20140328.%s", op);
    c->hdrs[0] = (struct cwx_http_header){"X-Amz-Target", c->target};
    c->hdrs[1] = (struct cwx_http_header){"Content-Type", "application/x-amz-json-1.1"};
    c->body = body;
    c->loop = &h->loop;
    c->req = (struct cwx_aws_request){
        .service = "logs",
        .protocol = CWX_PROTO_JSON,
        .method = "POST",
        .path = "/",
        .headers = c->hdrs,
        .n_headers = 2,
        .body = body,
        .body_len = strlen(body),
        .flags = flags,
        .on_attempt = s_on_attempt,
        .stream_ud = c,
    };
}

static int s_start(struct h *h, struct cwx_aws_client *client, struct call *c)
{
    c->loop = &h->loop;
    c->started_ms = uv_now(&h->loop);
    c->inside = 1;
    int rc = cwx_aws_call(client ? client : h->client, &c->req, s_call_done, c);
    c->inside = 0;
    return rc;
}

static void s_run_one(struct h *h, struct call *c)
{
    assert_int_equal(s_start(h, NULL, c), 0);
    assert_int_equal(c->calls, 0);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(c->calls, 1);
    assert_false(c->called_inside);
}

static void s_faults(const char *rules_json)
{
    char body[2048];
    snprintf(body, sizeof(body), "{\"rules\": %s}", rules_json);
    s_control_ok("POST", "faults", body);
}

/* ---- cases ------------------------------------------------------------------ */

static void signed_call_succeeds(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    s_h_init(&h, NULL);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{\"limit\":5}", 0);
    s_run_one(&h, &c);
    if (c.status)
        fail_msg("status %d: %s: %s", c.status, c.code, c.message);
    assert_int_equal(c.http_status, 200);
    assert_true(c.request_id[0] != '\0');
    assert_non_null(strstr(c.rbody, "exportTasks"));
    assert_int_equal(h.n_ev, 0);
    struct cwx_aws_client_stats cs;
    cwx_aws_client_get_stats(h.client, &cs);
    assert_int_equal(cs.calls, 1);
    assert_int_equal(cs.attempts, 1);
    assert_int_equal(cs.retries, 0);
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, CWX_RETRY_QUOTA_CAPACITY);
    s_h_done(&h);
}

/* Two 5xx, then success: 3 attempts, delays r×1 s and r×2 s, quota 500 →
 * 495 → 490 → 495 (the last retry's 5 refunded). */
static void retries_5xx_then_success(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"error_rate\": 1.0, \"max_hits\": 2}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.1};
    s_h_init(&h, &o);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    assert_int_equal(c.status, 0);
    assert_int_equal(h.n_ev, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(h.ev[i].kind, "transient");
        assert_int_equal(h.ev[i].status, 500);
        assert_int_equal(h.ev[i].attempt, i + 1);
    }
    assert_string_equal(h.ev[0].code, "ServiceUnavailableException");
    assert_int_equal(h.ev[0].delay_ms, 100);
    assert_int_equal(h.ev[1].delay_ms, 200);
    assert_int_equal(h.ev[0].quota, 495);
    assert_int_equal(h.ev[1].quota, 490);
    /* The waits really happened. */
    assert_true(c.done_ms - c.started_ms >= 300);
    assert_true(h.ev[1].at_ms - h.ev[0].at_ms >= 100);
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 495);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.attempts, 3);
    s_h_done(&h);
}

/* 5xx on every attempt, real jitter: 3 attempts, then CWX_EUNAVAIL; each delay
 * inside its jitter range, quota 490 (no refund on failure). */
static void retries_5xx_exhausted(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"error_rate\": 1.0,"
             " \"error_status\": 500}]");
    struct h h;
    struct h_opts o = {.rand_value = -1}; /* the real source */
    s_h_init(&h, &o);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    assert_int_equal(c.status, CWX_EUNAVAIL);
    assert_int_equal(c.http_status, 500);
    assert_string_equal(c.code, "ServiceUnavailableException");
    assert_int_equal(c.attempts, 3);
    assert_int_equal(h.n_ev, 3);
    assert_true(h.ev[0].delay_ms >= 0 && h.ev[0].delay_ms < 1000);
    assert_true(h.ev[1].delay_ms >= 0 && h.ev[1].delay_ms < 2000);
    assert_int_equal(h.ev[2].delay_ms, -1);
    /* The observed gaps cover the drawn delays. */
    assert_true((int64_t)(h.ev[1].at_ms - h.ev[0].at_ms) >= h.ev[0].delay_ms);
    assert_true((int64_t)(h.ev[2].at_ms - h.ev[1].at_ms) >= h.ev[1].delay_ms);
    assert_int_equal(h.ev[2].quota, 490);
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 490);
    s_h_done(&h);
}

static void throttling_retried_then_passed_up(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"throttle_rate\": 1.0, \"max_hits\": 2}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.02};
    s_h_init(&h, &o);
    struct call ok;
    s_logs(&ok, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &ok);
    assert_int_equal(ok.status, 0);
    assert_int_equal(h.n_ev, 2);
    assert_string_equal(h.ev[0].kind, "throttle");
    assert_string_equal(h.ev[0].code, "ThrottlingException");
    assert_int_equal(h.ev[0].delay_ms, 20);
    assert_int_equal(h.ev[1].delay_ms, 40);
    struct cwx_aws_client_stats cs;
    cwx_aws_client_get_stats(h.client, &cs);
    assert_int_equal(cs.throttles, 2);
    assert_int_equal(cs.attempts, 3);

    /* Throttled on every attempt: CWX_ETHROTTLED after 3. */
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"throttle_rate\": 1.0}]");
    h.n_ev = 0;
    struct call bad;
    s_logs(&bad, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &bad);
    assert_int_equal(bad.status, CWX_ETHROTTLED);
    assert_int_equal(bad.attempts, 3);
    assert_string_equal(bad.code, "ThrottlingException");
    assert_int_equal(h.n_ev, 3);
    /* 500 −5 −5 +5 (success) −5 −5 = 485 */
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 485);
    s_h_done(&h);
}

/* LimitExceededException: the export slot for a CWX_AWS_SLOT_BUSY call
 * (passed up at once), a throttle for any other. */
static void slot_busy_not_retried(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"throttle_rate\": 1.0,"
             " \"throttle_code\": \"LimitExceededException\"}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.01};
    s_h_init(&h, &o);
    struct call busy, other;
    s_logs(&busy, &h, "DescribeExportTasks", "{}", CWX_AWS_SLOT_BUSY);
    s_run_one(&h, &busy);
    assert_int_equal(busy.status, CWX_ESLOTBUSY);
    assert_int_equal(busy.attempts, 1);
    assert_string_equal(busy.code, "LimitExceededException");
    assert_int_equal(h.n_ev, 1);
    assert_string_equal(h.ev[0].kind, "slot-busy");
    assert_int_equal(h.ev[0].delay_ms, -1);
    h.n_ev = 0;
    s_logs(&other, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &other);
    assert_int_equal(other.status, CWX_ETHROTTLED);
    assert_int_equal(other.attempts, 3);
    s_h_done(&h);
}

/* The real CreateExportTask: the second one while the first runs gets the
 * slot-busy answer from the fake's one-active-export rule. */
static void slot_busy_from_create_export_task(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    /* Slow the tasks down so the first one is still active. */
    s_control_ok("POST", "settings", "{\"time_factor\": 1.0}");
    struct h h;
    s_h_init(&h, NULL);
    cJSON *groups = s_control("GET", "log-groups?account=111111111111", NULL);
    const cJSON *g0 = cJSON_GetArrayItem(cJSON_GetObjectItem(groups, "log_groups"), 0);
    assert_non_null(g0);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"logGroupName\":\"%s\",\"from\":1700000000000,\"to\":1700003600000,"
             "\"destination\":\"%s\",\"destinationPrefix\":\"t\"}",
             cJSON_GetObjectItem(g0, "name")->valuestring, DEMO_BUCKET);
    cJSON_Delete(groups);
    struct call first, second;
    s_logs(&first, &h, "CreateExportTask", body, CWX_AWS_SLOT_BUSY);
    s_run_one(&h, &first);
    if (first.status)
        fail_msg("CreateExportTask: %d %s %s", first.status, first.code, first.message);
    s_logs(&second, &h, "CreateExportTask", body, CWX_AWS_SLOT_BUSY);
    s_run_one(&h, &second);
    assert_int_equal(second.status, CWX_ESLOTBUSY);
    assert_int_equal(second.attempts, 1);
    s_h_done(&h);
    s_fake_reset();
}

static void connection_reset_retried(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"reset_rate\": 1.0, \"max_hits\": 2}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.05};
    s_h_init(&h, &o);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    assert_int_equal(c.status, 0);
    assert_int_equal(h.n_ev, 2);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(h.ev[i].kind, "transient");
        assert_int_equal(h.ev[i].transport_error, CWX_EHTTP);
        assert_int_equal(h.ev[i].status, 0);
    }
    assert_int_equal(h.ev[0].delay_ms, 50);
    assert_int_equal(h.ev[1].delay_ms, 100);
    assert_int_equal(h.ev[1].quota, 490);

    /* Reset every time: the transport error is what the caller gets. */
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"reset_rate\": 1.0}]");
    struct call bad;
    s_logs(&bad, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &bad);
    assert_int_equal(bad.status, CWX_EHTTP);
    assert_int_equal(bad.attempts, 3);
    assert_int_equal(bad.http_status, 0);
    s_h_done(&h);
}

/* A slow answer times out; the retry costs 10 from the quota. */
static void timeout_retried_at_timeout_cost(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"latency_ms\": 1500, \"max_hits\": 1}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.05, .total_timeout_ms = 400};
    s_h_init(&h, &o);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    assert_int_equal(c.status, 0);
    assert_int_equal(h.n_ev, 1);
    assert_string_equal(h.ev[0].kind, "timeout");
    assert_int_equal(h.ev[0].transport_error, CWX_ETIMEDOUT);
    assert_int_equal(h.ev[0].quota, 490);
    assert_int_equal(h.ev[0].delay_ms, 50);
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 500); /* the 10 came back */

    /* Every attempt too slow: CWX_ETIMEDOUT after 3 attempts. */
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"latency_ms\": 1000}]");
    struct call bad;
    s_logs(&bad, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &bad);
    assert_int_equal(bad.status, CWX_ETIMEDOUT);
    assert_int_equal(bad.attempts, 3);
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 480);
    s_h_done(&h);
}

/* A small quota runs dry: then calls are not retried at all. */
static void quota_exhaustion_stops_retries(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"error_rate\": 1.0}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.0, .retry_quota = 12};
    s_h_init(&h, &o);
    struct call a, b;
    s_logs(&a, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &a);
    assert_int_equal(a.attempts, 3); /* 12 → 7 → 2 */
    s_logs(&b, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &b);
    assert_int_equal(b.status, CWX_EUNAVAIL);
    assert_int_equal(b.attempts, 1); /* 2 < 5 */
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 2);
    /* Successes refill it: 3 of them pay for one retry again. */
    s_control_ok("DELETE", "faults", NULL);
    for (int i = 0; i < 3; i++) {
        struct call ok;
        s_logs(&ok, &h, "DescribeExportTasks", "{}", 0);
        s_run_one(&h, &ok);
        assert_int_equal(ok.status, 0);
    }
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.quota_available, 5);
    s_h_done(&h);
}

/* AWS_MAX_ATTEMPTS sets the attempts of a call as the SDKs read it; a value
 * out of 1..20 is ignored (3). */
static void max_attempts_from_environment(void **state)
{
    (void)state;
    NEED_FAKE();
    static const struct {
        const char *env;
        int attempts;
    } cases[] = {{"5", 5}, {"1", 1}, {"0", 3}, {"21", 3}, {"x", 3}, {"", 3}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s_fake_reset();
        s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"error_rate\": 1.0}]");
        setenv("AWS_MAX_ATTEMPTS", cases[i].env, 1);
        struct h h;
        struct h_opts o = {.rand_value = 0.0};
        s_h_init(&h, &o);
        struct call c;
        s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
        s_run_one(&h, &c);
        assert_int_equal(c.status, CWX_EUNAVAIL);
        assert_int_equal(c.attempts, cases[i].attempts);
        s_h_done(&h);
    }
    unsetenv("AWS_MAX_ATTEMPTS");
}

static void no_retry_flag(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"error_rate\": 1.0}]");
    struct h h;
    s_h_init(&h, NULL);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", CWX_AWS_NO_RETRY);
    s_run_one(&h, &c);
    assert_int_equal(c.status, CWX_EUNAVAIL);
    assert_int_equal(c.attempts, 1);
    s_h_done(&h);
}

/* A key the fake does not know: denied at once. */
static void unknown_key_denied(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    struct h_opts o = {.rand_value = 0.05, .no_creds = 1};
    s_h_init(&h, &o);
    assert_int_equal(cwx_creds_provider_static(&h.loop, "AKIAUNKNOWN000000000", "nope", NULL, 0,
                                               NULL, &h.creds),
                     0);
    struct cwx_aws_client *c2 = NULL;
    struct cwx_aws_client_options co = {.creds = h.creds, .region = "us-east-1"};
    assert_int_equal(cwx_aws_client_new(h.aws, &co, &c2), 0);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    assert_int_equal(s_start(&h, c2, &c), 0);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, CWX_EDENIED);
    assert_string_equal(c.code, "UnrecognizedClientException");
    assert_int_equal(c.attempts, 1);
    cwx_aws_client_free(c2);
    s_h_done(&h);
}

/* Our clock 20 minutes slow: the fake refuses the signature as expired;
 * the skew is measured from its Date and the retry passes. Later calls are
 * signed right the first time. */
static void clock_skew_corrected(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    s_h_init(&h, NULL);
    h.clock_offset_ms = -20 * 60 * 1000;
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    if (c.status)
        fail_msg("status %d: %s: %s", c.status, c.code, c.message);
    assert_int_equal(h.n_ev, 1);
    assert_string_equal(h.ev[0].kind, "clock-skew");
    assert_string_equal(h.ev[0].code, "InvalidSignatureException");
    assert_int_equal(h.ev[0].quota, 500); /* a repair, not a retry */
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.skew_corrections, 1);
    assert_true(st.skew_ms > 19 * 60 * 1000 && st.skew_ms < 21 * 60 * 1000);
    struct call again;
    s_logs(&again, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &again);
    assert_int_equal(again.status, 0);
    assert_int_equal(h.n_ev, 1);

    /* S3 says it its own way (RequestTimeTooSkewed); a fresh context. */
    s_h_done(&h);
    s_h_init(&h, NULL);
    h.clock_offset_ms = 30 * 60 * 1000;
    struct call s3 = {0};
    s3.loop = &h.loop;
    s3.req = (struct cwx_aws_request){
        .service = "s3", .protocol = CWX_PROTO_REST_XML, .method = "GET",
        .bucket = DEMO_BUCKET, .path = "/", .query = "list-type=2&max-keys=1",
    };
    s_run_one(&h, &s3);
    if (s3.status)
        fail_msg("status %d: %s: %s", s3.status, s3.code, s3.message);
    assert_int_equal(h.n_ev, 1);
    assert_string_equal(h.ev[0].code, "RequestTimeTooSkewed");
    s_h_done(&h);
}

/* Static credentials that the fake declares expired: one refresh (which
 * returns the same keys), then CWX_ECRED; never more than two attempts. */
static void expired_static_credentials_fail_once(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_control_ok("POST", "expire-credentials", "{\"access_key\": \"" DEMO_KEY "\"}");
    struct h h;
    s_h_init(&h, NULL);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    assert_int_equal(c.status, CWX_ECRED);
    assert_string_equal(c.code, "ExpiredTokenException");
    assert_int_equal(c.attempts, 2);
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.creds_refreshes, 1);
    assert_int_equal(st.quota_available, 500);
    /* S3 answers a HEAD with an expired token with a bare 400: one retry
     * with fresh credentials, then the 400 stands. */
    struct call head = {0};
    head.loop = &h.loop;
    head.req = (struct cwx_aws_request){
        .service = "s3", .protocol = CWX_PROTO_REST_XML, .method = "HEAD",
        .bucket = DEMO_BUCKET, .path = "/_cwexport/any.json",
    };
    s_run_one(&h, &head);
    assert_int_equal(head.status, CWX_EAWS);
    assert_int_equal(head.http_status, 400);
    assert_string_equal(head.code, "BadRequest");
    assert_int_equal(head.attempts, 2);
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.creds_refreshes, 2);
    s_h_done(&h);
    s_fake_reset(); /* the base key comes back */
}

/* A session (AssumeRole through the real provider chain) that expires
 * mid-run is refreshed without a failed call. */
static void expired_session_refreshed(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    setenv("AWS_ACCESS_KEY_ID", DEMO_KEY, 1);
    setenv("AWS_SECRET_ACCESS_KEY", DEMO_SECRET, 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    struct h h;
    struct h_opts o = {.rand_value = 0.05, .no_creds = 1};
    s_h_init(&h, &o);
    struct cwx_creds_options copts = {.role_arn = DEMO_ROLE, .region = "us-east-1"};
    assert_int_equal(cwx_creds_provider_new(h.aws, &copts, &h.creds), 0);
    struct cwx_aws_client *rc = NULL;
    struct cwx_aws_client_options co = {.creds = h.creds, .region = "us-east-1"};
    assert_int_equal(cwx_aws_client_new(h.aws, &co, &rc), 0);

    struct call first;
    s_logs(&first, &h, "DescribeExportTasks", "{}", 0);
    assert_int_equal(s_start(&h, rc, &first), 0);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    if (first.status)
        fail_msg("first call: %d %s %s", first.status, first.code, first.message);

    /* The session dies under us. */
    cJSON *n = s_control("POST", "expire-credentials", "{\"all_temporary\": true}");
    assert_true(cJSON_GetObjectItem(n, "expired")->valueint >= 1);
    cJSON_Delete(n);

    /* The first call after expiry is a HEAD, which S3 refuses with a bare
     * 400: refreshed all the same, it gets its real answer (404). */
    struct call head;
    s_logs(&head, &h, "DescribeExportTasks", "{}", 0);
    head.req = (struct cwx_aws_request){
        .service = "s3", .protocol = CWX_PROTO_REST_XML, .method = "HEAD",
        .bucket = DEMO_BUCKET, .path = "/_cwexport/missing.json",
    };
    assert_int_equal(s_start(&h, rc, &head), 0);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    assert_int_equal(head.status, CWX_EAWS);
    assert_int_equal(head.http_status, 404);
    assert_int_equal(head.attempts, 2);
    for (int i = 1; i < 3; i++) {
        struct call c;
        s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
        assert_int_equal(s_start(&h, rc, &c), 0);
        uv_run(&h.loop, UV_RUN_DEFAULT);
        assert_int_equal(c.calls, 1);
        if (c.status)
            fail_msg("call %d after expiry: %d %s %s", i, c.status, c.code, c.message);
    }
    assert_int_equal(h.n_ev, 2); /* the refresh, then the HEAD's final 404 */
    assert_string_equal(h.ev[0].kind, "expired-credentials");
    assert_int_equal(h.ev[1].delay_ms, -1);
    struct cwx_aws_stats st;
    cwx_aws_get_stats(h.aws, &st);
    assert_int_equal(st.creds_refreshes, 1);
    struct cwx_aws_client_stats cs;
    cwx_aws_client_get_stats(rc, &cs);
    assert_int_equal(cs.calls, 4);
    assert_int_equal(cs.attempts, 5);
    struct cwx_creds_stats crs;
    cwx_creds_get_stats(h.creds, &crs);
    assert_int_equal(crs.fetches, 2);
    cwx_aws_client_free(rc);
    s_h_done(&h);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* The token bucket: 20 calls/s, burst 1. Ten calls queued at once start in
 * submission order, about 50 ms apart. */
static void rate_limiter_fifo_and_pace(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    struct h_opts o = {.rand_value = 0.05, .rate = 20, .burst = 1};
    s_h_init(&h, &o);
    enum { N = 10 };
    struct call c[N];
    s_attempt_seq = 0;
    for (int i = 0; i < N; i++) {
        s_logs(&c[i], &h, "DescribeExportTasks", "{}", 0);
        assert_int_equal(s_start(&h, NULL, &c[i]), 0);
    }
    uint64_t t0 = uv_now(&h.loop);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_false(c[i].called_inside);
        assert_int_equal(c[i].status, 0);
        assert_int_equal(c[i].order, i + 1);
    }
    /* N−1 tokens at 50 ms each after the first. */
    assert_true(s_attempt_ms[N] - s_attempt_ms[1] >= (N - 1) * 50 - 10);
    assert_true(uv_now(&h.loop) - t0 >= (N - 1) * 50 - 10);
    for (int i = 2; i <= N; i++)
        assert_true(s_attempt_ms[i] - s_attempt_ms[i - 1] >= 40);
    s_h_done(&h);
}

/* S3 through path-style on the custom endpoint: PUT, GET, HEAD of a
 * missing key (404 → NotFound), GET of a missing key (NoSuchKey). */
static void s3_path_style_and_errors(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    s_h_init(&h, NULL);
    struct cwx_http_header ct = {"Content-Type", "application/json"};
    struct call put = {0}, get = {0}, head = {0}, miss = {0};
    put.loop = get.loop = head.loop = miss.loop = &h.loop;
    put.req = (struct cwx_aws_request){
        .service = "s3", .protocol = CWX_PROTO_REST_XML, .method = "PUT",
        .bucket = DEMO_BUCKET, .path = "/_cwexport/test%20key.json",
        .headers = &ct, .n_headers = 1, .body = "{\"a\":1}", .body_len = 7,
    };
    s_run_one(&h, &put);
    if (put.status)
        fail_msg("PUT: %d %s %s", put.status, put.code, put.message);
    get.req = put.req;
    get.req.method = "GET";
    get.req.body = NULL;
    get.req.body_len = 0;
    get.req.n_headers = 0;
    s_run_one(&h, &get);
    assert_int_equal(get.status, 0);
    assert_string_equal(get.rbody, "{\"a\":1}");
    cJSON *objs = s_control("GET", "s3/objects?bucket=" DEMO_BUCKET "&prefix=_cwexport/", NULL);
    const cJSON *o0 = cJSON_GetArrayItem(cJSON_GetObjectItem(objs, "objects"), 0);
    assert_string_equal(cJSON_GetObjectItem(o0, "key")->valuestring, "_cwexport/test key.json");
    cJSON_Delete(objs);
    head.req = get.req;
    head.req.method = "HEAD";
    head.req.path = "/_cwexport/missing.json";
    s_run_one(&h, &head);
    assert_int_equal(head.status, CWX_EAWS);
    assert_int_equal(head.http_status, 404);
    assert_string_equal(head.code, "NotFound");
    assert_int_equal(head.attempts, 1);
    miss.req = head.req;
    miss.req.method = "GET";
    s_run_one(&h, &miss);
    assert_int_equal(miss.status, CWX_EAWS);
    assert_string_equal(miss.code, "NoSuchKey");
    assert_true(miss.request_id[0] != '\0');
    s_h_done(&h);
}

/* A streamed GET whose first answer is cut short: the sink is told to start
 * over before the retry, and ends up with exactly one whole body. */
struct stream_sink {
    size_t bytes;
    int resets;
    char head[16];
};

static void s_stream_reset(void *ud)
{
    struct stream_sink *s = ud;
    s->bytes = 0;
    s->resets++;
}

static int s_stream_chunk(const char *p, size_t len, void *ud)
{
    struct stream_sink *s = ud;
    if (s->bytes < sizeof(s->head) - 1) {
        size_t n = sizeof(s->head) - 1 - s->bytes;
        memcpy(s->head + s->bytes, p, len < n ? len : n);
    }
    s->bytes += len;
    return 0;
}

static void streamed_get_restarts_on_retry(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    static char big[20000];
    memset(big, 'z', sizeof(big));
    memcpy(big, "HEAD", 4);
    char *b64 = NULL;
    {
        /* The control API takes the body as base64; 'z'*n encodes simply. */
        static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = sizeof(big), o = 0;
        b64 = malloc((n + 2) / 3 * 4 + 1);
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned char)big[i] << 16;
            if (i + 1 < n)
                v |= (unsigned char)big[i + 1] << 8;
            if (i + 2 < n)
                v |= (unsigned char)big[i + 2];
            b64[o++] = tbl[(v >> 18) & 63];
            b64[o++] = tbl[(v >> 12) & 63];
            b64[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
            b64[o++] = i + 2 < n ? tbl[v & 63] : '=';
        }
        b64[o] = '\0';
    }
    size_t jl = strlen(b64) + 256;
    char *json = malloc(jl);
    snprintf(json, jl, "{\"bucket\": \"%s\", \"key\": \"big.bin\", \"body_b64\": \"%s\"}",
             DEMO_BUCKET, b64);
    s_control_ok("POST", "s3/objects", json);
    free(json);
    free(b64);
    s_faults("[{\"operations\": [\"GetObject\"], \"malformed\": \"short_body\", \"max_hits\": 1}]");
    struct h h;
    struct h_opts o = {.rand_value = 0.01};
    s_h_init(&h, &o);
    struct call c = {0};
    struct stream_sink sink = {0};
    struct stream_sink *sk = &sink;
    c.loop = &h.loop;
    c.req = (struct cwx_aws_request){
        .service = "s3", .protocol = CWX_PROTO_REST_XML, .method = "GET",
        .bucket = DEMO_BUCKET, .path = "/big.bin",
        .on_body = s_stream_chunk, .on_attempt = s_stream_reset, .stream_ud = &sink,
    };
    assert_int_equal(s_start(&h, NULL, &c), 0);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    assert_int_equal(c.calls, 1);
    if (c.status)
        fail_msg("GET: %d %s %s", c.status, c.code, c.message);
    assert_int_equal(c.attempts, 2);
    assert_int_equal(sk->resets, 2);
    assert_int_equal(sk->bytes, sizeof(big));
    assert_int_equal(strncmp(sk->head, "HEADzz", 6), 0);
    assert_int_equal(h.n_ev, 1);
    assert_int_equal(h.ev[0].transport_error, CWX_EHTTP);
    s_h_done(&h);
}

/* An answer that never ends (Content-Length of 1 TiB) is refused by the size
 * cap at once and never retried. */
static void endless_answer_capped(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    s_faults("[{\"operations\": [\"DescribeExportTasks\"], \"malformed\": \"endless\", \"max_s\": 2}]");
    struct h h;
    s_h_init(&h, NULL);
    struct call c;
    s_logs(&c, &h, "DescribeExportTasks", "{}", 0);
    s_run_one(&h, &c);
    assert_int_equal(c.status, CWX_ETOOBIG);
    assert_int_equal(c.attempts, 1);
    s_h_done(&h);
}

/* The Query protocol (STS): a good call, and an error parsed from
 * <ErrorResponse>. Unsigned, the same call is refused. */
static void query_protocol(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    s_h_init(&h, NULL);
    struct cwx_http_header ct = {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
    struct call ok = {0}, bad = {0}, unsigned_ = {0};
    ok.loop = bad.loop = unsigned_.loop = &h.loop;
    const char *body = "Action=GetCallerIdentity&Version=2011-06-15";
    ok.req = (struct cwx_aws_request){
        .service = "sts", .protocol = CWX_PROTO_QUERY, .method = "POST", .path = "/",
        .headers = &ct, .n_headers = 1, .body = body, .body_len = strlen(body),
    };
    s_run_one(&h, &ok);
    if (ok.status)
        fail_msg("GetCallerIdentity: %d %s %s", ok.status, ok.code, ok.message);
    assert_non_null(strstr(ok.rbody, "111111111111"));
    /* No header carries it here: the request id comes from the body. */
    assert_true(ok.request_id[0] != '\0');
    assert_non_null(strstr(ok.rbody, ok.request_id));
    assert_int_equal(ok.attempts, 1);
    assert_string_equal(ok.code, "");
    const char *body2 = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999999999999"
                        "%3Arole%2Fnope&RoleSessionName=t";
    bad.req = ok.req;
    bad.req.body = body2;
    bad.req.body_len = strlen(body2);
    s_run_one(&h, &bad);
    assert_true(bad.status == CWX_EDENIED || bad.status == CWX_EAWS);
    assert_true(bad.code[0] != '\0');
    assert_true(bad.request_id[0] != '\0');
    unsigned_.req = ok.req;
    unsigned_.req.flags = CWX_AWS_UNSIGNED;
    s_run_one(&h, &unsigned_);
    assert_int_equal(unsigned_.status, CWX_EDENIED);
    assert_string_equal(unsigned_.code, "MissingAuthenticationToken");
    s_h_done(&h);
}

/* Failures found while a call is being started still reach the callback
 * from the loop, never inside cwx_aws_call. */
static void start_failures_are_deferred(void **state)
{
    (void)state;
    s_clear_endpoint_env();
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct cwx_aws *aws = s_aws_plain(&loop);
    struct cwx_aws_client *c = NULL;
    struct cwx_aws_client_options co = {.creds = NULL, .region = "us-east-1"};
    assert_int_equal(cwx_aws_client_new(aws, &co, &c), 0);
    struct cwx_aws_client *bad = NULL;
    struct cwx_aws_client_options bo = {.region = "../x"};
    assert_int_equal(cwx_aws_client_new(aws, &bo, &bad), CWX_EINVAL);
    struct call k;
    struct h fake_h;
    fake_h.loop = loop;
    memset(&k, 0, sizeof(k));
    s_logs(&k, &fake_h, "DescribeExportTasks", "{}", 0);
    k.loop = &loop;
    k.inside = 1;
    assert_int_equal(cwx_aws_call(c, &k.req, s_call_done, &k), 0);
    k.inside = 0;
    assert_int_equal(k.calls, 0);
    /* A bad request is refused outright. */
    struct cwx_aws_request r = k.req;
    r.service = "ec2";
    assert_int_equal(cwx_aws_call(c, &r, s_call_done, &k), CWX_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(k.calls, 1);
    assert_false(k.called_inside);
    assert_int_equal(k.status, CWX_ECRED);
    cwx_aws_client_free(c);
    s_aws_done(&loop, aws);
    s_clear_endpoint_env();
}

/* Freeing a client ends its queued calls with CWX_ECANCELED at once. */
static void client_free_cancels_queued(void **state)
{
    (void)state;
    NEED_FAKE();
    s_fake_reset();
    struct h h;
    struct h_opts o = {.rand_value = 0.05, .rate = 1, .burst = 1};
    s_h_init(&h, &o);
    enum { N = 4 };
    struct call c[N];
    for (int i = 0; i < N; i++) {
        s_logs(&c[i], &h, "DescribeExportTasks", "{}", 0);
        assert_int_equal(s_start(&h, NULL, &c[i]), 0);
    }
    /* The first is under way; the other three wait for tokens. */
    cwx_aws_client_free(h.client);
    h.client = NULL;
    for (int i = 1; i < N; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].status, CWX_ECANCELED);
    }
    uv_run(&h.loop, UV_RUN_DEFAULT);
    assert_int_equal(c[0].calls, 1);
    assert_int_equal(c[0].status, CWX_ECANCELED);
    s_h_done(&h);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(endpoints_by_partition),
    cmocka_unit_test(endpoints_from_environment),
    cmocka_unit_test(s3_addressing),
    cmocka_unit_test(error_parsing),
    cmocka_unit_test(insecure_endpoints),
    cmocka_unit_test(start_failures_are_deferred),
    cmocka_unit_test(signed_call_succeeds),
    cmocka_unit_test(retries_5xx_then_success),
    cmocka_unit_test(retries_5xx_exhausted),
    cmocka_unit_test(max_attempts_from_environment),
    cmocka_unit_test(throttling_retried_then_passed_up),
    cmocka_unit_test(slot_busy_not_retried),
    cmocka_unit_test(slot_busy_from_create_export_task),
    cmocka_unit_test(connection_reset_retried),
    cmocka_unit_test(timeout_retried_at_timeout_cost),
    cmocka_unit_test(quota_exhaustion_stops_retries),
    cmocka_unit_test(no_retry_flag),
    cmocka_unit_test(unknown_key_denied),
    cmocka_unit_test(clock_skew_corrected),
    cmocka_unit_test(expired_static_credentials_fail_once),
    cmocka_unit_test(expired_session_refreshed),
    cmocka_unit_test(rate_limiter_fifo_and_pace),
    cmocka_unit_test(s3_path_style_and_errors),
    cmocka_unit_test(streamed_get_restarts_on_retry),
    cmocka_unit_test(endless_answer_capped),
    cmocka_unit_test(query_protocol),
    cmocka_unit_test(client_free_cancels_queued),
};

CWX_TEST_MAIN(tests)
