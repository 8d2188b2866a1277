/* The export job state machine, driven by a scripted fake of its operations:
 * every operation is held until the test completes it. */
#include "testmain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "workers/workers.h"

enum fake_kind { F_NONE, F_HEAD, F_DATA, F_COMPLETED, F_ACTIVE, F_CREATE, F_DESCRIBE, F_LIST, F_PUT };

struct fake {
    enum fake_kind pending;
    cwx_work_op_fn *cb;
    void *ud;
    char arg[64];               /* task id of describe/list */
    cwx_work_op_fn *timer_cb;   /* pending timer */
    void *timer_ud;
    uint64_t timer_delay;
    int timers, creates, describes, puts, stops;
    char marker[2048];
    int64_t now;
    /* hooks */
    int transitions, finals, slot_busy, polls_seen;
    int guard_refuse;
    char trail[512];
};

static int s_hold(struct fake *f, enum fake_kind k, cwx_work_op_fn *cb, void *ud)
{
    assert_int_equal(f->pending, F_NONE);
    f->pending = k;
    f->cb = cb;
    f->ud = ud;
    return 0;
}

static int f_head(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    return s_hold(ctx, F_HEAD, cb, ud);
}
static int f_data(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    return s_hold(ctx, F_DATA, cb, ud);
}
static int f_create(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    ((struct fake *)ctx)->creates++;
    return s_hold(ctx, F_CREATE, cb, ud);
}
static int f_describe(void *ctx, struct cwx_worker *w, const char *id, cwx_work_op_fn *cb,
                      void *ud)
{
    (void)w;
    struct fake *f = ctx;
    f->describes++;
    snprintf(f->arg, sizeof(f->arg), "%s", id);
    return s_hold(ctx, F_DESCRIBE, cb, ud);
}
static int f_list(void *ctx, struct cwx_worker *w, const char *id, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    struct fake *f = ctx;
    snprintf(f->arg, sizeof(f->arg), "%s", id);
    return s_hold(ctx, F_LIST, cb, ud);
}
static int f_put(void *ctx, struct cwx_worker *w, const char *body, size_t len,
                 cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    struct fake *f = ctx;
    f->puts++;
    snprintf(f->marker, sizeof(f->marker), "%.*s", (int)len, body);
    return s_hold(ctx, F_PUT, cb, ud);
}
static int f_timer(void *ctx, struct cwx_worker *w, uint64_t delay, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    struct fake *f = ctx;
    assert_null(f->timer_cb);
    f->timer_cb = cb;
    f->timer_ud = ud;
    f->timer_delay = delay;
    f->timers++;
    return 0;
}
static void f_stop_timer(void *ctx, struct cwx_worker *w)
{
    (void)w;
    struct fake *f = ctx;
    f->timer_cb = NULL;
    f->stops++;
}
static int64_t f_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}
static uint64_t f_poll_delay(void *ctx, struct cwx_worker *w)
{
    (void)ctx;
    return 1000 + 1000 * (uint64_t)cwx_worker_polls(w);
}

static const struct cwx_worker_ops s_fake_ops = {
    .marker_exists = f_head,
    .data_exists = f_data,
    .create_task = f_create,
    .describe_task = f_describe,
    .list_export = f_list,
    .put_marker = f_put,
    .start_timer = f_timer,
    .stop_timer = f_stop_timer,
    .now_ms = f_now,
    .poll_delay_ms = f_poll_delay,
};

static int f_completed(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    return s_hold(ctx, F_COMPLETED, cb, ud);
}

static void h_transition(struct cwx_worker *w, enum cwx_work_state from, enum cwx_work_state to,
                         void *ud)
{
    (void)w;
    (void)from;
    struct fake *f = ud;
    f->transitions++;
    size_t n = strlen(f->trail);
    snprintf(f->trail + n, sizeof(f->trail) - n, "%s%s", n ? ">" : "", cwx_work_state_name(to));
}
static int h_may_create(struct cwx_worker *w, void *ud)
{
    (void)w;
    return ((struct fake *)ud)->guard_refuse;
}
static void h_slot_busy(struct cwx_worker *w, void *ud)
{
    (void)w;
    ((struct fake *)ud)->slot_busy++;
}
static void h_poll(struct cwx_worker *w, const struct cwx_work_result *r, void *ud)
{
    (void)w;
    (void)r;
    ((struct fake *)ud)->polls_seen++;
}
static void h_final(struct cwx_worker *w, void *ud)
{
    (void)w;
    ((struct fake *)ud)->finals++;
}

static const struct cwx_worker_hooks s_hooks = {
    h_transition, h_may_create, NULL, h_slot_busy, h_poll, h_final,
};

static struct cwx_work_spec s_spec(void)
{
    struct cwx_work_spec s = {
        .account = "prod",
        .account_id = "123456789012",
        .region = "us-east-1",
        .log_group = "/aws/lambda/api",
        .window = "2024-03",
        .from_ms = 1709251200000,
        .to_ms = 1711929599999,
        .bucket = "archive",
        .prefix = "123456789012/us-east-1/aws/lambda/api/2024-03",
        .marker_key = "_cwexport/123456789012/us-east-1/aws/lambda/api/2024-03.json",
        .task_name = "cwexport-0123456789abcdef",
        .detect = CWX_DETECT_MARKER,
        .max_attempts = 3,
        .estimated_bytes = -1,
        .backoff_min_ms = 100,
        .backoff_max_ms = 1000,
    };
    return s;
}

static struct cwx_worker *s_new(struct fake *f, const struct cwx_work_spec *spec)
{
    memset(f, 0, sizeof(*f));
    f->now = 1711929600000 + 86400000;
    struct cwx_worker *w = NULL;
    assert_int_equal(cwx_worker_new(spec, &s_fake_ops, f, &s_hooks, f, &w), 0);
    return w;
}

/* Completes the held operation of kind k with status and res. */
static void s_complete(struct fake *f, enum fake_kind k, int status, struct cwx_work_result *res)
{
    struct cwx_work_result zero;
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(f->pending, k);
    f->pending = F_NONE;
    f->cb(status, res ? res : &zero, f->ud);
}

static void s_fire(struct fake *f)
{
    assert_non_null(f->timer_cb);
    cwx_work_op_fn *cb = f->timer_cb;
    f->timer_cb = NULL;
    struct cwx_work_result zero;
    memset(&zero, 0, sizeof(zero));
    f->now += (int64_t)f->timer_delay;
    cb(0, &zero, f->timer_ud);
}

static void s_created(struct fake *f, const char *id)
{
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    snprintf(r.task_id, sizeof(r.task_id), "%s", id);
    s_complete(f, F_CREATE, 0, &r);
}

static void s_described(struct fake *f, enum cwx_export_status st, const char *msg)
{
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    r.task_status = st;
    snprintf(r.task_message, sizeof(r.task_message), "%s", msg ? msg : "");
    r.creation_ms = f->now - 5000;
    if (st == CWX_EXPORT_COMPLETED)
        r.completion_ms = f->now - 10;
    s_fire(f);
    s_complete(f, F_DESCRIBE, 0, &r);
}

static void s_listed(struct fake *f, uint64_t objects, uint64_t bytes)
{
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    r.objects = objects;
    r.bytes = bytes;
    r.write_test = 1;
    s_complete(f, F_LIST, 0, &r);
}

static void worker_exports_and_marks(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CHECK);
    s_complete(&f, F_HEAD, 0, NULL); /* no marker */
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
    s_created(&f, "task-1");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    assert_string_equal(cwx_worker_task_id(w), "task-1");
    assert_int_equal(f.timer_delay, 1000); /* first poll soon */
    s_described(&f, CWX_EXPORT_PENDING, NULL);
    assert_int_equal(f.timer_delay, 2000);
    s_described(&f, CWX_EXPORT_RUNNING, NULL);
    s_described(&f, CWX_EXPORT_COMPLETED, NULL);
    assert_string_equal(f.arg, "task-1");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_VERIFY);
    s_listed(&f, 3, 3000);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_MARK);
    assert_non_null(strstr(f.marker, "\"task_id\":\"task-1\""));
    assert_non_null(strstr(f.marker, "\"task_name\":\"cwexport-0123456789abcdef\""));
    assert_non_null(strstr(f.marker, "\"objects\":3"));
    assert_non_null(strstr(f.marker, "\"bytes\":3000"));
    assert_non_null(strstr(f.marker, "\"from\":1709251200000"));
    assert_non_null(strstr(f.marker, "\"to\":1711929599999"));
    assert_non_null(strstr(f.marker, "\"cwexport_version\":\"" CWX_VERSION "\""));
    assert_non_null(strstr(f.marker, "\"prefix\":\"123456789012/us-east-1/aws/lambda/api/2024-03\""));
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_EXPORTED);
    assert_int_equal(f.finals, 1);
    assert_int_equal(f.creates, 1);
    assert_int_equal(f.polls_seen, 3);
    assert_int_equal(cwx_worker_objects(w), 3);
    assert_string_equal(f.trail, "check>create>wait>verify>mark>done");
    cwx_worker_free(w);
}

static void worker_ready_holds_until_told(void **state)
{
    (void)state;
    /* The lane's token is taken: the checked job waits READY, idle, and
     * creates only when told; it can be stopped there at no cost. */
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    f.guard_refuse = CWX_WORK_HOLD;
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_READY);
    assert_int_equal(f.creates, 0);
    assert_int_equal(f.pending, F_NONE);
    assert_null(f.timer_cb);
    /* Still held when asked again; then the token comes. */
    assert_int_equal(cwx_worker_create_again(w), 0);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_READY);
    f.guard_refuse = 0;
    assert_int_equal(cwx_worker_create_again(w), 0);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
    s_created(&f, "task-r");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    assert_string_equal(f.trail, "check>ready>create>wait");
    cwx_worker_free(w);

    /* Interrupted while READY: idle, stops at once, no on_final. */
    w = s_new(&f, &spec);
    f.guard_refuse = CWX_WORK_HOLD;
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, 0, NULL);
    assert_int_equal(cwx_worker_interrupt(w), 1);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_STOPPED);
    assert_int_equal(f.finals, 0);
    cwx_worker_free(w);
}

static void worker_marker_present_is_done(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    struct cwx_work_result r = {.exists = 1};
    s_complete(&f, F_HEAD, 0, &r);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_MARKER);
    assert_int_equal(f.creates, 0);
    assert_int_equal(f.finals, 1);
    cwx_worker_free(w);
}

static void worker_detect_objects(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    spec.detect = CWX_DETECT_OBJECTS;
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, 0, NULL);
    struct cwx_work_result r = {.exists = 1};
    s_complete(&f, F_DATA, 0, &r);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_OBJECTS);
    assert_int_equal(f.creates, 0);
    cwx_worker_free(w);

    /* No data (only aws-logs-write-test): exported. */
    w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, 0, NULL);
    s_complete(&f, F_DATA, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
    cwx_worker_interrupt(w);
    s_created(&f, "t");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_STOPPED);
    cwx_worker_free(w);
}

static void worker_empty_window_is_done(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_create(w), 0);
    s_created(&f, "task-e");
    s_described(&f, CWX_EXPORT_COMPLETED, NULL);
    s_listed(&f, 0, 0);
    assert_non_null(strstr(f.marker, "\"objects\":0"));
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_EMPTY);
    assert_int_equal(f.puts, 1);
    cwx_worker_free(w);
}

static void worker_failed_tasks_retry_then_fail(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_create(w), 0);
    uint64_t last = 0;
    for (int i = 0; i < 3; i++) {
        s_created(&f, "task-f");
        s_described(&f, CWX_EXPORT_FAILED, "boom");
        if (i < 2) {
            assert_int_equal(cwx_worker_state(w), CWX_WORK_BACKOFF);
            assert_true(f.timer_delay > last); /* backoff grows */
            last = f.timer_delay;
            s_fire(&f);
            assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
        }
    }
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_ATTEMPTS);
    assert_int_equal(f.creates, 3);
    assert_int_equal(cwx_worker_retries(w), 2);
    assert_non_null(strstr(cwx_worker_detail(w), "boom"));
    assert_int_equal(f.finals, 1);
    cwx_worker_free(w);
}

static void worker_failed_once_then_done(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_create(w), 0);
    s_created(&f, "task-1");
    s_described(&f, CWX_EXPORT_FAILED, "boom");
    s_fire(&f);
    s_created(&f, "task-2");
    s_described(&f, CWX_EXPORT_COMPLETED, NULL);
    assert_string_equal(f.arg, "task-2");
    s_listed(&f, 1, 10);
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(cwx_worker_retries(w), 1);
    assert_int_equal(cwx_worker_attempts(w), 2);
    cwx_worker_free(w);
}

static void worker_cancelled_by_someone_fails(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_wait(w, "task-c", 0), 0);
    s_complete(&f, F_DESCRIBE, 0, &(struct cwx_work_result){.task_status = CWX_EXPORT_RUNNING});
    s_described(&f, CWX_EXPORT_CANCELLED, "Cancelled by user");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_CANCELLED);
    assert_non_null(strstr(cwx_worker_detail(w), "cancelled"));
    assert_int_equal(f.creates, 0);
    cwx_worker_free(w);
}

static void worker_slot_busy_then_adopt(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_create(w), 0);
    s_complete(&f, F_CREATE, CWX_ESLOTBUSY, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_BLOCKED);
    assert_int_equal(f.slot_busy, 1);
    assert_null(f.timer_cb); /* never a blind sleep */
    assert_int_equal(cwx_worker_adopt(w, "task-a", f.now - 1000), 0);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    s_described(&f, CWX_EXPORT_COMPLETED, NULL);
    assert_string_equal(f.arg, "task-a");
    s_listed(&f, 2, 20);
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(f.creates, 1);
    cwx_worker_free(w);

    /* Slot busy, then the lane says: create again. */
    w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_create(w), 0);
    s_complete(&f, F_CREATE, CWX_ESLOTBUSY, NULL);
    assert_int_equal(cwx_worker_create_again(w), 0);
    s_created(&f, "task-b");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    assert_int_equal(cwx_worker_interrupt(w), 1); /* idle on its timer */
    assert_int_equal(f.stops, 1);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_STOPPED);
    cwx_worker_free(w);
}

static void worker_denied_stops_with_permission(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_verify(w, "task-v", 1, 2), 0);
    s_listed(&f, 1, 1);
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    snprintf(r.detail, sizeof(r.detail), "AccessDenied: no");
    s_complete(&f, F_PUT, CWX_EDENIED, &r);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_DENIED);
    assert_string_equal(cwx_worker_permission(w), "s3:PutObject");
    assert_int_equal(cwx_worker_error(w), CWX_EDENIED);
    assert_non_null(strstr(cwx_worker_detail(w), "AccessDenied"));
    cwx_worker_free(w);
}

static void worker_loop_guard_refuses(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    f.guard_refuse = CWX_ELOOPGUARD;
    assert_int_equal(cwx_worker_start_create(w), 0);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_LOOP_GUARD);
    assert_int_equal(f.creates, 0);
    assert_int_equal(f.finals, 1);
    cwx_worker_free(w);
}

static void worker_transient_errors_retry_the_step(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, CWX_EHTTP, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CHECK);
    s_fire(&f);
    s_complete(&f, F_HEAD, 0, NULL);
    s_complete(&f, F_CREATE, CWX_ETHROTTLED, NULL);
    s_fire(&f);
    s_created(&f, "task-t");
    assert_int_equal(f.creates, 2);
    /* A non-retryable AWS error from create fails the job. */
    assert_int_equal(cwx_worker_interrupt(w), 1);
    cwx_worker_free(w);
    w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_create(w), 0);
    s_complete(&f, F_CREATE, CWX_EAWS, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_ERROR);
    cwx_worker_free(w);
}

/* Every step redoes its call after a transient failure (5xx on every
 * attempt, no answer, throttled, unreadable answer), with delays that grow
 * from 1 s and stop at 60 s; the counter restarts after each success. */
static void worker_transient_errors_back_off_in_every_step(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, CWX_EUNAVAIL, NULL);
    assert_int_equal(f.timer_delay, 1000);
    s_fire(&f);
    s_complete(&f, F_HEAD, CWX_EPARSE, NULL);
    assert_int_equal(f.timer_delay, 2000);
    s_fire(&f);
    s_complete(&f, F_HEAD, 0, NULL);
    s_complete(&f, F_CREATE, CWX_EUNAVAIL, NULL);
    assert_int_equal(f.timer_delay, 1000); /* a new step starts again at 1 s */
    s_fire(&f);
    s_created(&f, "task-u");
    assert_int_equal(f.creates, 2);
    s_fire(&f); /* first poll */
    s_complete(&f, F_DESCRIBE, CWX_ETIMEDOUT, NULL);
    assert_int_equal(f.timer_delay, 1000);
    s_fire(&f);
    s_complete(&f, F_DESCRIBE, 0,
               &(struct cwx_work_result){.task_status = CWX_EXPORT_COMPLETED, .completion_ms = 9});
    s_complete(&f, F_LIST, CWX_ETHROTTLED, NULL);
    s_fire(&f);
    s_listed(&f, 1, 5);
    s_complete(&f, F_PUT, CWX_EUNAVAIL, NULL);
    s_fire(&f);
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(cwx_worker_step_retries(w), 6);
    assert_int_equal(cwx_worker_retries(w), 0);
    cwx_worker_free(w);
}

/* Nine failures of one step in a row end the job "unavailable", never
 * "failed"; the delays double up to 60 s. A certificate that does not
 * verify ends it at once. */
static void worker_unavailable_after_nine_failures(void **state)
{
    (void)state;
    static const uint64_t delays[8] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    for (int i = 0; i < 8; i++) {
        s_complete(&f, F_HEAD, CWX_EUNAVAIL, NULL);
        assert_int_equal(cwx_worker_state(w), CWX_WORK_CHECK);
        assert_int_equal(f.timer_delay, delays[i]);
        s_fire(&f);
    }
    s_complete(&f, F_HEAD, CWX_EUNAVAIL, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_UNAVAILABLE);
    assert_int_equal(cwx_worker_error(w), CWX_EUNAVAIL);
    assert_non_null(strstr(cwx_worker_detail(w), "9 times in a row"));
    assert_int_equal(f.finals, 1);
    cwx_worker_free(w);

    w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, CWX_ETLS, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_FAILED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_UNAVAILABLE);
    assert_int_equal(f.timers, 0);
    cwx_worker_free(w);
}

/* The waits after transient failures: 1 s doubling to 60 s with the default
 * poll settings; sooner when poll is short (tests, fast fakes). */
static void patience_follows_poll(void **state)
{
    (void)state;
    struct cwx_settings st;
    memset(&st, 0, sizeof(st)); /* 0: the defaults, 5 s and 60 s */
    struct cwx_patience p = cwx_patience_of(&st);
    assert_int_equal(p.min_ms, 1000);
    assert_int_equal(p.max_ms, 60000);
    static const uint64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    uint64_t total = 0;
    for (int n = 1; n < CWX_PATIENCE_TRIES; n++) {
        assert_int_equal(cwx_patience_delay(&p, n), want[n - 1]);
        total += cwx_patience_delay(&p, n);
    }
    assert_int_equal(total, 183000); /* about three minutes in all */
    assert_int_equal(cwx_patience_delay(&p, 1000), 60000);
    st.poll_min_ms = 100;
    st.poll_max_ms = 400;
    p = cwx_patience_of(&st);
    assert_int_equal(p.min_ms, 100);
    assert_int_equal(p.max_ms, 1600);
    assert_int_equal(cwx_patience_delay(&p, 5), 1600);
    st.poll_min_ms = 30000; /* a long poll.min does not slow retries down */
    st.poll_max_ms = 30000;
    p = cwx_patience_of(&st);
    assert_int_equal(p.min_ms, 1000);
    assert_int_equal(p.max_ms, 60000);
}

static void worker_interrupt_in_flight(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker *w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_start_wait(w, "task-i", 5), 0);
    assert_int_equal(cwx_worker_interrupt(w), 0);
    assert_int_equal(f.finals, 0);
    s_complete(&f, F_DESCRIBE, 0, &(struct cwx_work_result){.task_status = CWX_EXPORT_RUNNING});
    assert_int_equal(cwx_worker_state(w), CWX_WORK_STOPPED);
    assert_int_equal(cwx_worker_reason(w), CWX_WR_INTERRUPTED);
    assert_int_equal(f.finals, 1);
    cwx_worker_free(w);
}

static void worker_completed_elsewhere_is_marked(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker_ops ops = s_fake_ops;
    ops.completed_task = f_completed;
    memset(&f, 0, sizeof(f));
    struct cwx_worker *w = NULL;
    assert_int_equal(cwx_worker_new(&spec, &ops, &f, &s_hooks, &f, &w), 0);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, 0, NULL);
    struct cwx_work_result r;
    memset(&r, 0, sizeof(r));
    r.exists = 1;
    snprintf(r.task_id, sizeof(r.task_id), "task-other");
    r.creation_ms = 10;
    r.completion_ms = 20;
    s_complete(&f, F_COMPLETED, 0, &r);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_VERIFY);
    assert_string_equal(f.arg, "task-other");
    s_listed(&f, 1, 5);
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(f.creates, 0); /* never exported twice */
    cwx_worker_free(w);
    /* Nothing found: create. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(cwx_worker_new(&spec, &ops, &f, &s_hooks, &f, &w), 0);
    assert_int_equal(cwx_worker_start(w), 0);
    s_complete(&f, F_HEAD, 0, NULL);
    s_complete(&f, F_COMPLETED, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
    assert_int_equal(f.creates, 1);
    s_complete(&f, F_CREATE, CWX_ESLOTBUSY, NULL);
    cwx_worker_free(w);
}

static int f_active(void *ctx, struct cwx_worker *w, cwx_work_op_fn *cb, void *ud)
{
    (void)w;
    return s_hold(ctx, F_ACTIVE, cb, ud);
}

/* A worker created with both look-ups by name, its create's answer lost
 * (unreadable): it waits one patience delay, then asks the active tasks. */
static struct cwx_worker *s_lost_answer(struct fake *f, const struct cwx_worker_ops *ops,
                                        const struct cwx_work_spec *spec)
{
    struct cwx_worker *w = NULL;
    memset(f, 0, sizeof(*f));
    f->now = 1711929600000;
    assert_int_equal(cwx_worker_new(spec, ops, f, &s_hooks, f, &w), 0);
    assert_int_equal(cwx_worker_start_create(w), 0);
    s_complete(f, F_CREATE, CWX_EPARSE, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
    s_fire(f);
    return w;
}

/* After a create whose answer was lost, the task it made is looked up by
 * name among the active tasks first (adopted), then among the COMPLETED
 * ones (verified); only when neither knows it is the window created again. */
static void worker_lost_create_answer_finds_the_task(void **state)
{
    (void)state;
    struct fake f;
    struct cwx_work_spec spec = s_spec();
    struct cwx_worker_ops ops = s_fake_ops;
    ops.completed_task = f_completed;
    ops.active_task = f_active;
    struct cwx_work_result r;
    /* Still PENDING: adopted and polled, never created again. */
    struct cwx_worker *w = s_lost_answer(&f, &ops, &spec);
    memset(&r, 0, sizeof(r));
    r.exists = 1;
    r.task_status = CWX_EXPORT_PENDING;
    r.creation_ms = f.now - 100;
    snprintf(r.task_id, sizeof(r.task_id), "task-lost");
    s_complete(&f, F_ACTIVE, 0, &r);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    assert_string_equal(cwx_worker_task_id(w), "task-lost");
    assert_int_equal(cwx_worker_task_creation_ms(w), f.now - 100);
    s_described(&f, CWX_EXPORT_COMPLETED, NULL);
    assert_string_equal(f.arg, "task-lost");
    s_listed(&f, 1, 5);
    s_complete(&f, F_PUT, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_DONE);
    assert_int_equal(f.creates, 1);
    cwx_worker_free(w);
    /* Ended meanwhile: not active any more, found COMPLETED and verified. */
    w = s_lost_answer(&f, &ops, &spec);
    s_complete(&f, F_ACTIVE, 0, NULL);
    memset(&r, 0, sizeof(r));
    r.exists = 1;
    r.creation_ms = 10;
    r.completion_ms = 20;
    snprintf(r.task_id, sizeof(r.task_id), "task-ended");
    s_complete(&f, F_COMPLETED, 0, &r);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_VERIFY);
    assert_string_equal(f.arg, "task-ended");
    assert_int_equal(f.creates, 1);
    cwx_worker_free(w);
    /* A failed look-up is redone after a delay, from the active tasks. */
    w = s_lost_answer(&f, &ops, &spec);
    s_complete(&f, F_ACTIVE, CWX_ETHROTTLED, NULL);
    s_fire(&f);
    s_complete(&f, F_ACTIVE, 0, NULL);
    /* Neither: the request made nothing; create again. */
    s_complete(&f, F_COMPLETED, 0, NULL);
    assert_int_equal(cwx_worker_state(w), CWX_WORK_CREATE);
    assert_int_equal(f.creates, 2);
    s_created(&f, "task-2");
    assert_int_equal(cwx_worker_state(w), CWX_WORK_WAIT);
    assert_int_equal(cwx_worker_interrupt(w), 1);
    cwx_worker_free(w);
}

static void worker_rejects_bad_spec(void **state)
{
    (void)state;
    struct fake f;
    memset(&f, 0, sizeof(f));
    struct cwx_work_spec spec = s_spec();
    spec.bucket = NULL;
    struct cwx_worker *w = NULL;
    assert_int_equal(cwx_worker_new(&spec, &s_fake_ops, &f, &s_hooks, &f, &w), CWX_EINVAL);
    assert_null(w);
    spec = s_spec();
    w = s_new(&f, &spec);
    assert_int_equal(cwx_worker_adopt(w, "x", 0), CWX_ESTATE); /* not BLOCKED */
    cwx_worker_free(w);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(worker_exports_and_marks),
    cmocka_unit_test(worker_marker_present_is_done),
    cmocka_unit_test(worker_detect_objects),
    cmocka_unit_test(worker_empty_window_is_done),
    cmocka_unit_test(worker_failed_tasks_retry_then_fail),
    cmocka_unit_test(worker_failed_once_then_done),
    cmocka_unit_test(worker_cancelled_by_someone_fails),
    cmocka_unit_test(worker_slot_busy_then_adopt),
    cmocka_unit_test(worker_denied_stops_with_permission),
    cmocka_unit_test(worker_loop_guard_refuses),
    cmocka_unit_test(worker_ready_holds_until_told),
    cmocka_unit_test(worker_transient_errors_retry_the_step),
    cmocka_unit_test(worker_transient_errors_back_off_in_every_step),
    cmocka_unit_test(worker_unavailable_after_nine_failures),
    cmocka_unit_test(patience_follows_poll),
    cmocka_unit_test(worker_interrupt_in_flight),
    cmocka_unit_test(worker_completed_elsewhere_is_marked),
    cmocka_unit_test(worker_lost_create_answer_finds_the_task),
    cmocka_unit_test(worker_rejects_bad_spec),
};

CWX_TEST_MAIN(tests)
