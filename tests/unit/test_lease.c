/* The lane lease (orchestrator/lease.c) against a scripted S3: each test
 * answers the lease's PutObject/GetObject/DeleteObject calls one by one and
 * checks what it does next and what it tells its owner. Timers are real
 * libuv timers on a short ttl (60 ms); the clock is the real monotonic one. */
#include "testmain.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/error.h"
#include "orchestrator/lease_internal.h"

#define TTL 60

enum op_kind { OP_NONE, OP_PUT, OP_GET, OP_DEL };

struct script {
    enum op_kind kind;      /* the call waiting for an answer */
    char if_match[128];     /* put/del: If-Match ("" for If-None-Match: *) */
    char body[1024];        /* put: the body sent */
    cwx_lease_io_fn *cb;
    void *ud;
    int calls;
    int events[8];          /* counts per enum cwx_lease_event */
    int last_event;
};

static int s_put(void *ctx, const char *body, size_t len, const char *if_match,
                 cwx_lease_io_fn *cb, void *ud)
{
    struct script *s = ctx;
    assert_int_equal(s->kind, OP_NONE);
    s->kind = OP_PUT;
    snprintf(s->if_match, sizeof(s->if_match), "%s", if_match ? if_match : "");
    snprintf(s->body, sizeof(s->body), "%.*s", (int)len, body);
    s->cb = cb;
    s->ud = ud;
    s->calls++;
    return 0;
}

static int s_get(void *ctx, cwx_lease_io_fn *cb, void *ud)
{
    struct script *s = ctx;
    assert_int_equal(s->kind, OP_NONE);
    s->kind = OP_GET;
    s->cb = cb;
    s->ud = ud;
    s->calls++;
    return 0;
}

static int s_del(void *ctx, const char *if_match, cwx_lease_io_fn *cb, void *ud)
{
    struct script *s = ctx;
    assert_int_equal(s->kind, OP_NONE);
    s->kind = OP_DEL;
    snprintf(s->if_match, sizeof(s->if_match), "%s", if_match ? if_match : "");
    s->cb = cb;
    s->ud = ud;
    s->calls++;
    return 0;
}

static const struct cwx_lease_ops s_ops = {.put = s_put, .get = s_get, .del = s_del};

static void s_event(struct cwx_lease *l, enum cwx_lease_event ev, void *ud)
{
    (void)l;
    struct script *s = ud;
    s->events[ev]++;
    s->last_event = (int)ev;
}

struct fixture {
    uv_loop_t loop;
    struct script s;
    struct cwx_lease l;
};

static void s_init(struct fixture *f, const char *runner)
{
    memset(&f->s, 0, sizeof(f->s));
    f->s.last_event = -1;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct cwx_lease_params p = {
        .ttl_ms = TTL, .lane = "prod", .host = "host-a", .pid = (long)getpid(), .runner = runner};
    assert_int_equal(cwx_lease_init(&f->l, &f->loop, &s_ops, &f->s, &p, s_event, &f->s), 0);
}

static void s_done(struct fixture *f)
{
    cwx_lease_close(&f->l);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* Runs the loop until the lease makes a call (or ms pass). */
static enum op_kind s_wait_call(struct fixture *f, int ms)
{
    uint64_t end = uv_hrtime() / 1000000 + (uint64_t)ms;
    while (f->s.kind == OP_NONE && uv_hrtime() / 1000000 < end)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    return f->s.kind;
}

static void s_answer(struct fixture *f, int status, long http, const char *code, const char *etag,
                     const char *body)
{
    assert_int_not_equal(f->s.kind, OP_NONE);
    struct cwx_lease_io r = {
        .status = status,
        .http_status = http,
        .code = code ? code : "",
        .etag = etag ? etag : "",
        .body = {body ? body : "", body ? strlen(body) : 0},
        .detail = code ? code : "",
    };
    f->s.kind = OP_NONE;
    f->s.cb(&r, f->s.ud);
}

static const char *s_other =
    "{\"cwexport_lease\":1,\"runner\":{\"host\":\"host-b\",\"pid\":7,\"id\":\"bbbb\"},"
    "\"renews\":3,\"ttl_ms\":60}";

static void s_acquire(struct fixture *f, const char *etag)
{
    assert_int_equal(cwx_lease_start(&f->l, 0), 0);
    assert_int_equal(f->s.last_event, -1); /* never from inside the call */
    assert_int_equal(s_wait_call(f, 1000), OP_PUT);
    assert_string_equal(f->s.if_match, ""); /* If-None-Match: * */
    s_answer(f, 0, 200, NULL, etag, NULL);
    assert_int_equal(f->s.events[CWX_LEASE_EV_HELD], 1);
    assert_true(cwx_lease_valid(&f->l));
}

static void acquire_renew_release(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    s_acquire(&f, "\"e1\"");
    assert_non_null(strstr(f.s.body, "\"renews\":0"));
    /* Renewed every ttl/3 with If-Match on our ETag; the body changes. */
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    assert_string_equal(f.s.if_match, "\"e1\"");
    assert_non_null(strstr(f.s.body, "\"renews\":1"));
    s_answer(&f, 0, 200, NULL, "\"e2\"", NULL);
    /* A renew asked before a create: FRESH when it succeeds. */
    assert_int_equal(cwx_lease_refresh(&f.l), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    assert_string_equal(f.s.if_match, "\"e2\"");
    s_answer(&f, 0, 200, NULL, "\"e3\"", NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_FRESH], 1);
    /* Released with a conditional delete on the last ETag. */
    assert_int_equal(cwx_lease_release(&f.l), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_DEL);
    assert_string_equal(f.s.if_match, "\"e3\"");
    s_answer(&f, 0, 204, NULL, NULL, NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_RELEASED], 1);
    assert_int_equal(f.l.renewed, 2);
    s_done(&f);
}

static void held_elsewhere_is_watched_then_taken_when_stale(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    uint64_t t0 = uv_hrtime() / 1000000;
    /* Read, watched: the same ETag again and again... */
    int reads = 0;
    while (s_wait_call(&f, 1000) == OP_GET) {
        reads++;
        s_answer(&f, 0, 200, NULL, "\"x1\"", s_other);
    }
    /* ...until it has not changed for ttl: taken with If-Match on it. */
    assert_int_equal(f.s.kind, OP_PUT);
    assert_string_equal(f.s.if_match, "\"x1\"");
    assert_true(uv_hrtime() / 1000000 - t0 >= TTL);
    assert_true(reads >= 2);
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 0);
    s_answer(&f, 0, 200, NULL, "\"a1\"", NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 1);
    assert_int_equal(f.l.takeovers, 1);
    s_done(&f);
}

static void a_renewing_holder_is_never_taken(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    char etag[32];
    uint64_t end = uv_hrtime() / 1000000 + 4 * TTL;
    for (int i = 0; uv_hrtime() / 1000000 < end; i++) {
        assert_int_equal(s_wait_call(&f, 1000), OP_GET);
        snprintf(etag, sizeof(etag), "\"r%d\"", i);
        s_answer(&f, 0, 200, NULL, etag, s_other);
    }
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 0);
    assert_int_equal(f.l.state, CWX_LEASE_OBSERVING);
    s_done(&f);
}

static void a_released_lease_is_acquired(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_GET);
    s_answer(&f, CWX_ENOTFOUND, 404, "NoSuchKey", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    assert_string_equal(f.s.if_match, "");
    s_answer(&f, 0, 200, NULL, "\"a1\"", NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 1);
    s_done(&f);
}

static void a_dead_holder_on_this_host_is_taken_at_once(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_GET);
    /* Our own pid, another runner id: an earlier process, gone. */
    char body[256];
    snprintf(body, sizeof(body),
             "{\"runner\":{\"host\":\"host-a\",\"pid\":%ld,\"id\":\"old\"},\"renews\":9}",
             (long)getpid());
    s_answer(&f, 0, 200, NULL, "\"d1\"", body);
    assert_int_equal(f.s.kind, OP_PUT); /* no wait */
    assert_string_equal(f.s.if_match, "\"d1\"");
    s_answer(&f, 0, 200, NULL, "\"a1\"", NULL);
    assert_int_equal(f.l.takeovers, 1);
    s_done(&f);
}

static void our_write_whose_answer_was_lost_is_ours(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    char sent[1024];
    snprintf(sent, sizeof(sent), "%s", f.s.body);
    /* The retried put met our own first write. */
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_GET);
    s_answer(&f, 0, 200, NULL, "\"o1\"", sent);
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 1);
    assert_int_equal(f.l.takeovers, 0);
    /* Same for a renew. */
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    snprintf(sent, sizeof(sent), "%s", f.s.body);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_GET);
    s_answer(&f, 0, 200, NULL, "\"o2\"", sent);
    assert_int_equal(f.s.events[CWX_LEASE_EV_LOST], 0);
    assert_string_equal(f.l.etag, "\"o2\"");
    s_done(&f);
}

static void a_renew_refused_by_another_lease_is_lost(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    s_acquire(&f, "\"e1\"");
    assert_int_equal(cwx_lease_refresh(&f.l), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_GET);
    s_answer(&f, 0, 200, NULL, "\"b9\"", s_other);
    assert_int_equal(f.s.events[CWX_LEASE_EV_LOST], 1);
    assert_int_equal(f.s.events[CWX_LEASE_EV_FRESH], 0);
    assert_false(cwx_lease_valid(&f.l));
    assert_int_equal(cwx_lease_refresh(&f.l), CWX_ESTATE);
    assert_int_equal(cwx_lease_release(&f.l), 1); /* nothing to release */
    /* It can be started again (the owner waits for it). */
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 412, "PreconditionFailed", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 1000), OP_GET);
    s_done(&f);
}

static void renews_failing_for_half_the_ttl_fence(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    s_acquire(&f, "\"e1\"");
    while (s_wait_call(&f, 1000) == OP_PUT && !f.s.events[CWX_LEASE_EV_LOST])
        s_answer(&f, CWX_EUNAVAIL, 503, "SlowDown", NULL, NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_LOST], 1);
    assert_false(cwx_lease_valid(&f.l));
    s_done(&f);
}

static void a_store_without_conditional_writes_fails(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 501, "NotImplemented", NULL, NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_FAILED], 1);
    assert_int_equal(f.l.error, CWX_ENOTSUP);
    assert_non_null(strstr(f.l.detail, "lease: off"));
    assert_null(strchr(f.l.detail, '\n'));
    s_done(&f);
}

static void a_conflict_is_tried_again(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EAWS, 409, "ConditionalRequestConflict", NULL, NULL);
    assert_int_equal(s_wait_call(&f, 2000), OP_PUT);
    assert_string_equal(f.s.if_match, "");
    s_answer(&f, 0, 200, NULL, "\"a1\"", NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 1);
    s_done(&f);
}

static void a_denied_lease_fails(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    s_answer(&f, CWX_EDENIED, 403, "AccessDenied", NULL, NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_FAILED], 1);
    assert_int_equal(f.l.error, CWX_EDENIED);
    assert_non_null(strstr(f.l.detail, "s3:PutObject"));
    s_done(&f);
}

static void stop_ignores_answers_in_flight(void **state)
{
    (void)state;
    struct fixture f;
    s_init(&f, "aaaa");
    assert_int_equal(cwx_lease_start(&f.l, 0), 0);
    assert_int_equal(s_wait_call(&f, 1000), OP_PUT);
    cwx_lease_stop(&f.l);
    s_answer(&f, 0, 200, NULL, "\"a1\"", NULL);
    assert_int_equal(f.s.events[CWX_LEASE_EV_HELD], 0);
    assert_int_equal(s_wait_call(&f, 3 * TTL), OP_NONE);
    s_done(&f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acquire_renew_release),
        cmocka_unit_test(held_elsewhere_is_watched_then_taken_when_stale),
        cmocka_unit_test(a_renewing_holder_is_never_taken),
        cmocka_unit_test(a_released_lease_is_acquired),
        cmocka_unit_test(a_dead_holder_on_this_host_is_taken_at_once),
        cmocka_unit_test(our_write_whose_answer_was_lost_is_ours),
        cmocka_unit_test(a_renew_refused_by_another_lease_is_lost),
        cmocka_unit_test(renews_failing_for_half_the_ttl_fence),
        cmocka_unit_test(a_store_without_conditional_writes_fails),
        cmocka_unit_test(a_conflict_is_tried_again),
        cmocka_unit_test(a_denied_lease_fails),
        cmocka_unit_test(stop_ignores_answers_in_flight),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
