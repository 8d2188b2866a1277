/* The transport (aws/http.c) against tests/unit/http_echo_server.py, started
 * by a ctest fixture (see aws_test_env.h). Every case counts its callbacks,
 * checks none ran inside cwx_http_send, frees the transport, runs the loop
 * until it is empty and asserts uv_loop_close(loop) == 0. */
#include "testmain.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "aws/http.h"
#include "aws_test_env.h"
#include "common/error.h"

static char s_url[512];

static int s_need_server(void)
{
    if (cwx_test_server_url("CWX_ECHO_URL", s_url, sizeof(s_url)) != 0) {
        fprintf(stderr, "no echo server (CWX_TEST_SERVER_DIR / CWX_ECHO_URL): skipped\n");
        return 0;
    }
    return 1;
}

#define NEED_SERVER()                                                         \
    do {                                                                      \
        if (!s_need_server()) {                                               \
            skip();                                                           \
            return;                                                           \
        }                                                                     \
    } while (0)

/* One request and what came back. */
struct probe {
    struct cwx_http_request req;
    char url[600];
    int calls;          /* callback runs */
    int inside_send;    /* set while cwx_http_send runs */
    int called_inside;  /* a callback ran during cwx_http_send */
    int error;
    int curl_code;
    long status;
    char body[4096];
    size_t body_len;
    char request_id[128], date[64], bucket_region[32], content_type[128], etag[128];
    int64_t content_length;
    long connects;
    struct cwx_http *http;  /* for callbacks that act on the transport */
    void (*then)(struct probe *p);
};

static void s_done(const struct cwx_http_response *r, void *ud)
{
    struct probe *p = ud;
    p->calls++;
    if (p->inside_send)
        p->called_inside = 1;
    p->error = r->error;
    p->curl_code = r->curl_code;
    p->status = r->status;
    p->body_len = r->body.len;
    size_t n = r->body.len < sizeof(p->body) - 1 ? r->body.len : sizeof(p->body) - 1;
    if (n)
        memcpy(p->body, r->body.ptr, n);
    p->body[n] = '\0';
    snprintf(p->request_id, sizeof(p->request_id), "%s", r->request_id);
    snprintf(p->date, sizeof(p->date), "%s", r->date);
    snprintf(p->bucket_region, sizeof(p->bucket_region), "%s", r->bucket_region);
    snprintf(p->content_type, sizeof(p->content_type), "%s", r->content_type);
    snprintf(p->etag, sizeof(p->etag), "%s", r->etag);
    p->content_length = r->content_length;
    p->connects = r->connects;
    if (p->then)
        p->then(p);
}

static void s_probe(struct probe *p, const char *method, const char *path)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->url, sizeof(p->url), "%s%s", s_url, path);
    p->req.method = method;
    p->req.url = p->url;
}

static int s_send(struct cwx_http *http, struct probe *p)
{
    p->http = http;
    p->inside_send = 1;
    int rc = cwx_http_send(http, &p->req, s_done, p);
    p->inside_send = 0;
    return rc;
}

/* Frees the transport, runs the loop dry and checks every handle closed. */
static void s_finish(uv_loop_t *loop, struct cwx_http *http)
{
    if (http)
        cwx_http_free(http);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static struct cwx_http *s_new(uv_loop_t *loop, const struct cwx_http_options *o)
{
    assert_int_equal(uv_loop_init(loop), 0);
    struct cwx_http *http = NULL;
    assert_int_equal(cwx_http_new(loop, o, &http), 0);
    assert_non_null(http);
    return http;
}

static cJSON *s_json(const struct probe *p)
{
    cJSON *j = cJSON_ParseWithLength(p->body, p->body_len);
    assert_non_null(j);
    return j;
}

static const char *s_jstr(const cJSON *j, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* ---- cases ----------------------------------------------------------------- */

static void get_captures_headers(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe p;
    s_probe(&p, "GET", "/echo");
    assert_int_equal(s_send(http, &p), 0);
    assert_int_equal(p.calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    assert_false(p.called_inside);
    assert_int_equal(p.error, 0);
    assert_int_equal(p.status, 200);
    assert_true(strncmp(p.request_id, "req-", 4) == 0);
    assert_string_equal(p.etag, "\"etag-1\"");
    assert_string_equal(p.bucket_region, "eu-west-1");
    assert_string_equal(p.content_type, "application/json");
    assert_true(strstr(p.date, "GMT") != NULL);
    assert_int_equal(p.content_length, (int64_t)p.body_len);
    assert_int_equal(p.connects, 1);
    cJSON *j = s_json(&p);
    assert_string_equal(s_jstr(j, "method", NULL), "GET");
    cJSON_Delete(j);
    struct cwx_http_stats st;
    cwx_http_get_stats(http, &st);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.connects, 1);
    s_finish(&loop, http);
}

static void methods_bodies_and_headers(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    static const char *methods[] = {"POST", "PUT", "DELETE", "HEAD", "GET", "POST"};
    struct probe p[6];
    struct cwx_http_header hdrs[] = {
        {"X-Amz-Target", "Logs_20140328.DescribeExportTasks"},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Empty", ""},
    };
    for (int i = 0; i < 6; i++) {
        s_probe(&p[i], methods[i], "/echo");
        if (i < 2) {
            p[i].req.body = "{\"limit\":1}";
            p[i].req.body_len = 11;
        }
        if (i == 0) {
            p[i].req.headers = hdrs;
            p[i].req.n_headers = 3;
        }
        assert_int_equal(s_send(http, &p[i]), 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_false(p[i].called_inside);
        assert_int_equal(p[i].error, 0);
        assert_int_equal(p[i].status, 200);
        if (i == 3) { /* HEAD: headers only */
            assert_int_equal(p[i].body_len, 0);
            assert_true(p[i].content_length > 0);
            continue;
        }
        cJSON *j = s_json(&p[i]);
        assert_string_equal(s_jstr(j, "method", NULL), methods[i]);
        const char *ct = s_jstr(j, "headers", "content-type");
        const char *expect = s_jstr(j, "headers", "expect");
        assert_null(expect);
        if (i < 2)
            assert_string_equal(s_jstr(j, "body", NULL), "{\"limit\":1}");
        if (i == 0) {
            assert_string_equal(ct, "application/x-amz-json-1.1");
            assert_string_equal(s_jstr(j, "headers", "x-amz-target"),
                                "Logs_20140328.DescribeExportTasks");
            assert_string_equal(s_jstr(j, "headers", "x-empty"), "");
        } else {
            /* curl's form content type is never added behind our back. */
            assert_null(ct);
        }
        if (i == 5) /* an empty POST says so */
            assert_string_equal(s_jstr(j, "headers", "content-length"), "0");
        cJSON_Delete(j);
    }
    s_finish(&loop, http);
}

/* Sequential requests reuse one connection. */
static void keepalive_reuses_connection(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe p;
    long conn_id = -1;
    for (int i = 0; i < 20; i++) {
        s_probe(&p, i % 2 ? "POST" : "GET", "/echo");
        assert_int_equal(s_send(http, &p), 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(p.calls, 1);
        assert_int_equal(p.status, 200);
        cJSON *j = s_json(&p);
        long id = (long)cJSON_GetObjectItem(j, "conn")->valuedouble;
        cJSON_Delete(j);
        if (conn_id < 0)
            conn_id = id;
        assert_int_equal(id, conn_id);
        assert_int_equal(p.connects, i == 0 ? 1 : 0);
    }
    struct cwx_http_stats st;
    cwx_http_get_stats(http, &st);
    assert_int_equal(st.requests, 20);
    assert_int_equal(st.connects, 1);
    s_finish(&loop, http);
}

/* Many concurrent requests to one host open at most max_host_connections. */
static void concurrency_capped_per_host(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http_options o = {.max_host_connections = 4};
    struct cwx_http *http = s_new(&loop, &o);
    enum { N = 64 };
    static struct probe p[N];
    for (int i = 0; i < N; i++) {
        s_probe(&p[i], "GET", i % 3 ? "/echo" : "/slow/20");
        assert_int_equal(s_send(http, &p[i]), 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    long connects = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_false(p[i].called_inside);
        assert_int_equal(p[i].status, 200);
        connects += p[i].connects;
    }
    assert_true(connects >= 1 && connects <= 4);
    struct cwx_http_stats st;
    cwx_http_get_stats(http, &st);
    assert_int_equal(st.connects, (uint64_t)connects);
    s_finish(&loop, http);
}

static void error_status_keeps_body(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe p;
    s_probe(&p, "GET", "/status/404?body=%3CError%3E%3CCode%3ENoSuchKey%3C/Code%3E%3C/Error%3E");
    assert_int_equal(s_send(http, &p), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.error, 0);
    assert_int_equal(p.status, 404);
    assert_string_equal(p.body, "<Error><Code>NoSuchKey</Code></Error>");
    assert_string_equal(p.request_id, "s3req-404");
    assert_string_equal(p.content_type, "application/xml");
    s_finish(&loop, http);
}

static void response_size_cap(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http_options o = {.max_response_bytes = 3000};
    struct cwx_http *http = s_new(&loop, &o);
    struct probe big, chunked, fits, head;
    s_probe(&big, "GET", "/big/5000");       /* Content-Length says too big */
    s_probe(&chunked, "GET", "/chunked/5");  /* no length: the buffer says */
    s_probe(&fits, "GET", "/big/3000");
    s_probe(&head, "HEAD", "/big/5000");     /* the object's size, no body */
    assert_int_equal(s_send(http, &big), 0);
    assert_int_equal(s_send(http, &chunked), 0);
    assert_int_equal(s_send(http, &fits), 0);
    assert_int_equal(s_send(http, &head), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(head.calls, 1);
    assert_int_equal(head.error, 0);
    assert_int_equal(head.status, 200);
    assert_int_equal(head.content_length, 5000);
    assert_int_equal(head.body_len, 0);
    assert_int_equal(big.calls, 1);
    assert_int_equal(big.error, CWX_ETOOBIG);
    assert_int_equal(chunked.calls, 1);
    assert_int_equal(chunked.error, CWX_ETOOBIG);
    assert_int_equal(fits.calls, 1);
    assert_int_equal(fits.error, 0);
    assert_int_equal(fits.body_len, 3000);
    s_finish(&loop, http);
}

struct sink {
    size_t bytes;
    int chunks;
    int fail_after; /* return CWX_EPARSE after this many chunks; 0 = never */
};

static int s_sink(const char *chunk, size_t len, void *ud)
{
    (void)chunk;
    struct sink *s = ud;
    s->bytes += len;
    s->chunks++;
    return s->fail_after && s->chunks >= s->fail_after ? CWX_EPARSE : 0;
}

static void streaming_body(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    /* The cap applies to what is buffered, and a stream is not. */
    struct cwx_http_options o = {.max_response_bytes = 1 << 20};
    struct cwx_http *http = s_new(&loop, &o);
    struct probe ok, abort_, err;
    struct sink s_ok = {0}, s_abort = {.fail_after = 1}, s_err = {0};
    s_probe(&ok, "GET", "/chunked/20");
    ok.req.on_body = s_sink;
    ok.req.on_body_ud = &s_ok;
    s_probe(&abort_, "GET", "/chunked/20");
    abort_.req.on_body = s_sink;
    abort_.req.on_body_ud = &s_abort;
    /* An error answer is buffered for the error parser, never streamed. */
    s_probe(&err, "GET", "/status/503?body=busy");
    err.req.on_body = s_sink;
    err.req.on_body_ud = &s_err;
    assert_int_equal(s_send(http, &ok), 0);
    assert_int_equal(s_send(http, &abort_), 0);
    assert_int_equal(s_send(http, &err), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(ok.calls, 1);
    assert_int_equal(ok.error, 0);
    assert_int_equal(ok.body_len, 0);
    assert_int_equal(s_ok.bytes, 20000);
    assert_int_equal(abort_.calls, 1);
    assert_int_equal(abort_.error, CWX_EPARSE);
    assert_int_equal(err.calls, 1);
    assert_int_equal(err.status, 503);
    assert_string_equal(err.body, "busy");
    assert_int_equal(s_err.chunks, 0);
    s_finish(&loop, http);
}

static void timeout_and_reset_and_refused(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe slow, reset, refused, fine;
    s_probe(&slow, "GET", "/slow/3000");
    slow.req.timeout_ms = 200;
    s_probe(&reset, "POST", "/reset");
    s_probe(&fine, "GET", "/echo");
    memset(&refused, 0, sizeof(refused));
    /* Port 9 (discard) on loopback: nothing listens there in a test box. */
    snprintf(refused.url, sizeof(refused.url), "http://127.0.0.1:9/echo");
    refused.req.method = "GET";
    refused.req.url = refused.url;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(s_send(http, &slow), 0);
    assert_int_equal(s_send(http, &reset), 0);
    assert_int_equal(s_send(http, &refused), 0);
    assert_int_equal(s_send(http, &fine), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    assert_int_equal(slow.calls, 1);
    assert_int_equal(slow.error, CWX_ETIMEDOUT);
    assert_int_equal(slow.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_true(ms < 2500);
    assert_int_equal(reset.calls, 1);
    assert_int_equal(reset.error, CWX_EHTTP);
    assert_int_equal(reset.status, 0);
    assert_int_equal(refused.calls, 1);
    assert_int_equal(refused.error, CWX_EHTTP);
    assert_int_equal(refused.curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(fine.calls, 1);
    assert_int_equal(fine.status, 200);
    s_finish(&loop, http);
}

static void tls_verification(void **state)
{
    (void)state;
    NEED_SERVER();
    char tls_url[512], ca[1024];
    if (cwx_test_server_file("tls_url", tls_url, sizeof(tls_url)) ||
        cwx_test_server_file("ca_file", ca, sizeof(ca))) {
        skip();
        return;
    }
    struct probe p;
    /* 1. with the test CA: verified and fine. */
    uv_loop_t loop;
    struct cwx_http_options o = {.ca_bundle = ca};
    struct cwx_http *http = s_new(&loop, &o);
    memset(&p, 0, sizeof(p));
    snprintf(p.url, sizeof(p.url), "%s/echo", tls_url);
    p.req.method = "GET";
    p.req.url = p.url;
    assert_int_equal(s_send(http, &p), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.error, 0);
    assert_int_equal(p.status, 200);
    s_finish(&loop, http);

    /* 2. without it: the self-signed certificate is refused. */
    http = s_new(&loop, NULL);
    p.calls = 0;
    assert_int_equal(s_send(http, &p), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.error, CWX_ETLS); /* never retried: see test_retry */
    assert_int_equal(p.curl_code, CURLE_PEER_FAILED_VERIFICATION);
    s_finish(&loop, http);

    /* 3. insecure, when explicitly asked. */
    struct cwx_http_options in = {.insecure = 1};
    http = s_new(&loop, &in);
    p.calls = 0;
    assert_int_equal(s_send(http, &p), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.error, 0);
    assert_int_equal(p.status, 200);
    s_finish(&loop, http);
}

/* ---- lifetimes ------------------------------------------------------------------ */

static void s_free_later(uv_timer_t *t)
{
    cwx_http_free(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

static void free_cancels_in_flight(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe p[3];
    for (int i = 0; i < 3; i++) {
        s_probe(&p[i], "GET", "/slow/3000");
        assert_int_equal(s_send(http, &p[i]), 0);
    }
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = http;
    uv_timer_start(&t, s_free_later, 100, 0);
    uint64_t t0 = uv_hrtime();
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true((uv_hrtime() - t0) / 1000000 < 2000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_int_equal(p[i].error, CWX_ECANCELED);
    }
    s_finish(&loop, NULL);
}

/* The transport freed from inside a done callback, another transfer still
 * in flight: that one is cancelled, and sends after free are refused. */
static struct probe *s_other;
static int s_send_after_free_rc;

static void s_then_free(struct probe *p)
{
    cwx_http_free(p->http);
    struct probe late;
    s_probe(&late, "GET", "/echo");
    s_send_after_free_rc = cwx_http_send(p->http, &late.req, s_done, &late);
}

static void free_from_callback(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe quick, slow;
    s_probe(&quick, "GET", "/echo");
    quick.then = s_then_free;
    s_probe(&slow, "GET", "/slow/3000");
    s_other = &slow;
    assert_int_equal(s_send(http, &slow), 0);
    assert_int_equal(s_send(http, &quick), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(quick.calls, 1);
    assert_int_equal(quick.status, 200);
    assert_int_equal(slow.calls, 1);
    assert_int_equal(slow.error, CWX_ECANCELED);
    assert_int_equal(s_send_after_free_rc, CWX_ECANCELED);
    s_finish(&loop, NULL);
}

/* Each callback sends the next request. */
static int s_chain_left;
static struct probe s_chain;

static void s_then_next(struct probe *p)
{
    if (--s_chain_left > 0) {
        p->inside_send = 1;
        assert_int_equal(cwx_http_send(p->http, &p->req, s_done, p), 0);
        p->inside_send = 0;
    }
}

static void send_from_callback(void **state)
{
    (void)state;
    NEED_SERVER();
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    s_probe(&s_chain, "POST", "/echo");
    s_chain.then = s_then_next;
    s_chain_left = 10;
    assert_int_equal(s_send(http, &s_chain), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s_chain.calls, 10);
    assert_false(s_chain.called_inside);
    assert_int_equal(s_chain.status, 200);
    struct cwx_http_stats st;
    cwx_http_get_stats(http, &st);
    assert_int_equal(st.connects, 1);
    s_finish(&loop, http);
}

static void invalid_requests_refused(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct cwx_http *http = s_new(&loop, NULL);
    struct probe p;
    memset(&p, 0, sizeof(p));
    p.req.method = "GET";
    assert_int_equal(cwx_http_send(http, &p.req, s_done, &p), CWX_EINVAL);
    p.req.url = "http://127.0.0.1:9/";
    assert_int_equal(cwx_http_send(http, &p.req, NULL, &p), CWX_EINVAL);
    /* A header line too long for the transport. */
    static char big[9000];
    memset(big, 'a', sizeof(big) - 1);
    struct cwx_http_header h = {"X-Big", big};
    p.req.headers = &h;
    p.req.n_headers = 1;
    assert_int_equal(cwx_http_send(http, &p.req, s_done, &p), CWX_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 0);
    s_finish(&loop, http);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(get_captures_headers),
    cmocka_unit_test(methods_bodies_and_headers),
    cmocka_unit_test(keepalive_reuses_connection),
    cmocka_unit_test(concurrency_capped_per_host),
    cmocka_unit_test(error_status_keeps_body),
    cmocka_unit_test(response_size_cap),
    cmocka_unit_test(streaming_body),
    cmocka_unit_test(timeout_and_reset_and_refused),
    cmocka_unit_test(tls_verification),
    cmocka_unit_test(free_cancels_in_flight),
    cmocka_unit_test(free_from_callback),
    cmocka_unit_test(send_from_callback),
    cmocka_unit_test(invalid_requests_refused),
};

CWX_TEST_MAIN(tests)
