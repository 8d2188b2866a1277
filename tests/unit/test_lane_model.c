/* planner/lane_model: the polling policy, the lane time model, and its
 * remembered form (_model.json): round trip, and every corrupt form refused. */
#include "testmain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "planner/lane_model.h"

static const struct cwx_poll_policy s_p = {.min_ms = 5000, .max_ms = 60000, .growth = 1.5};

static void poll_first_soon(void **state)
{
    (void)state;
    struct cwx_poll_input in = {.polls = 0, .age_ms = 0};
    assert_int_equal(cwx_poll_delay(&s_p, &in), 5000);
    in.predicted_ms = 3600000; /* even for a long task */
    assert_int_equal(cwx_poll_delay(&s_p, &in), 5000);
}

static void poll_geometric_without_prediction(void **state)
{
    (void)state;
    /* Simulate: each poll happens after the delay the policy chose. */
    struct cwx_poll_input in = {0};
    uint64_t last = 0, total = 0;
    int grew = 0;
    for (int i = 0; i < 30; i++) {
        in.polls = i;
        in.age_ms = (int64_t)total;
        uint64_t d = cwx_poll_delay(&s_p, &in);
        assert_true(d >= s_p.min_ms && d <= s_p.max_ms);
        assert_true(d >= last); /* never shrinks while nothing is known */
        if (d > last && i > 0)
            grew++;
        last = d;
        total += d;
    }
    assert_true(grew >= 4);
    assert_int_equal(last, s_p.max_ms); /* settles at poll.max */
    /* Growth is geometric: intervals at ~20 s and ~30 s of age. */
    in.polls = 3;
    in.age_ms = 20000;
    assert_int_equal(cwx_poll_delay(&s_p, &in), 10000);
    in.age_ms = 30000;
    assert_int_equal(cwx_poll_delay(&s_p, &in), 15000);
}

static void poll_clusters_around_prediction(void **state)
{
    (void)state;
    struct cwx_poll_policy p = {.min_ms = 1000, .max_ms = 600000, .growth = 1.5};
    struct cwx_poll_input in = {.polls = 1, .age_ms = 1000, .predicted_ms = 300000,
                                .aim_ms = -10000, .late_ms = 10000};
    /* Far from the end: sleep until the band starts (290 s of age). */
    assert_int_equal(cwx_poll_delay(&p, &in), 289000);
    /* Capped by poll.max: equal steps, the last one landing on the band. */
    struct cwx_poll_policy p2 = p;
    p2.max_ms = 60000;
    assert_int_equal(cwx_poll_delay(&p2, &in), 57800);
    /* Inside the band: every poll.min. */
    in.age_ms = 295000;
    assert_int_equal(cwx_poll_delay(&p, &in), 1000);
    in.age_ms = 309000;
    assert_int_equal(cwx_poll_delay(&p, &in), 1000);
    /* Overdue: back off with the lateness. */
    in.age_ms = 340000;
    assert_int_equal(cwx_poll_delay(&p, &in), 20000);
    in.age_ms = 300000 + 4000000;
    assert_int_equal(cwx_poll_delay(&p, &in), 600000);
}

static void poll_aims_just_after_a_narrow_band(void **state)
{
    (void)state;
    /* The lane's predictions end up to 300 ms late; the aim is 200 ms after
     * the prediction: one poll there, then every poll.min. */
    struct cwx_poll_policy p = {.min_ms = 1000, .max_ms = 60000, .growth = 1.5};
    struct cwx_poll_input in = {.polls = 1, .age_ms = 1000, .predicted_ms = 100000,
                                .aim_ms = 200, .late_ms = 300};
    assert_int_equal(cwx_poll_delay(&p, &in), 49600); /* 2 steps under poll.max */
    in.age_ms = 50600;
    assert_int_equal(cwx_poll_delay(&p, &in), 49600);
    in.polls = 2;
    in.age_ms = 100200; /* still RUNNING at the aim: every poll.min */
    assert_int_equal(cwx_poll_delay(&p, &in), 1000);
    in.age_ms = 101200;
    assert_int_equal(cwx_poll_delay(&p, &in), 1000);
    in.age_ms = 110000; /* overdue: backs off */
    assert_int_equal(cwx_poll_delay(&p, &in), 5000);
    /* Never under poll.min, even when the aim is closer. */
    in.age_ms = 99800;
    assert_int_equal(cwx_poll_delay(&p, &in), 1000);
    /* No history: ±10 % of the prediction, polled from its early edge. */
    in.aim_ms = in.late_ms = 0;
    in.age_ms = 1000;
    assert_int_equal(cwx_poll_delay(&p, &in), 44500);
    in.age_ms = 61000;
    assert_int_equal(cwx_poll_delay(&p, &in), 29000);
}

static void throughput_aim_minimises_idle(void **state)
{
    (void)state;
    struct cwx_lane_model t;
    memset(&t, 0, sizeof(t));
    int64_t aim = 0, late = 0;
    assert_int_equal(cwx_lane_model_aim(&t, 25, &aim, &late), 0);
    /* Most tasks end 1 ms after the prediction, two 20 ms after: aiming at
     * 1 ms and paying poll.min (25 ms) for the two beats waiting 20 ms on
     * every task. */
    int64_t errs[] = {1, 0, 1, 1, 20, 1, 0, 1, 1, 1, 20, 1, 1, 0, 1, 1};
    memcpy(t.err_ms, errs, sizeof(errs));
    t.n_err = 16;
    assert_true(cwx_lane_model_aim(&t, 25, &aim, &late));
    assert_int_equal(aim, 1);
    assert_int_equal(late, 20);
    /* With a poll.min of 1 s, a RUNNING answer is dearer: aim after all. */
    assert_true(cwx_lane_model_aim(&t, 1000, &aim, &late));
    assert_int_equal(aim, 20);
    /* Early ends: the aim moves before the prediction. */
    int64_t early[] = {-30, -31, -29, -30};
    memcpy(t.err_ms, early, sizeof(early));
    t.n_err = 4;
    assert_true(cwx_lane_model_aim(&t, 25, &aim, &late));
    assert_int_equal(aim, -29);
    assert_int_equal(late, -29);
}

static void throughput_predicts(void **state)
{
    (void)state;
    struct cwx_lane_model t;
    memset(&t, 0, sizeof(t));
    assert_int_equal(cwx_lane_model_predict(&t, 1000), -1);
    /* duration = 20 s + bytes / (1 MB/s) */
    int64_t bytes[] = {1000000, 5000000, 20000000, 2000000, 50000000, 8000000};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
        cwx_lane_model_add(&t, bytes[i], 20000 + bytes[i] / 1000);
    int64_t pred = cwx_lane_model_predict(&t, 10000000);
    assert_true(pred > 29000 && pred < 31000);
    double rate = cwx_lane_model_rate(&t);
    assert_true(rate > 0.95e6 && rate < 1.05e6);
    int64_t spread = cwx_lane_model_spread(&t, pred);
    assert_true(spread > 0 && spread <= pred / 2);
    /* Exact data: the recent errors of the fitted model are near 0. */
    int64_t aim = 1, late = -1;
    assert_true(cwx_lane_model_aim(&t, 5000, &aim, &late));
    assert_true(aim <= late && aim > -50 && late < 50);
    /* Tasks that end 1-1.2 s after the model's line: the aim says so. */
    struct cwx_lane_model u;
    memset(&u, 0, sizeof(u));
    for (int i = 0; i < 24; i++) {
        int64_t b = 1000000 * (1 + i % 7);
        cwx_lane_model_add(&u, b, 20000 + b / 1000 + (i >= 4 ? 1000 + 100 * (i % 3) : 0));
    }
    assert_true(cwx_lane_model_aim(&u, 5000, &aim, &late));
    assert_true(aim > -1500 && aim < 1500 && late >= aim && late < 3000);
    /* Unknown size: the mean duration once there are a few samples. */
    assert_true(cwx_lane_model_predict(&t, -1) > 20000);
}

/* A model of duration = 20 s + bytes / (1 MB/s), with a little noise. */
static void s_learn(struct cwx_lane_model *m, int n)
{
    for (int i = 0; i < n; i++) {
        int64_t b = 1000000 * (1 + (i * 7) % 13);
        struct cwx_poll_policy p = cwx_poll_policy_of(NULL);
        cwx_lane_model_observe_polls(m, &p, b, 20000 + b / 1000 + (i % 3) * 200, 3);
        cwx_lane_model_add(m, b, 20000 + b / 1000 + (i % 3) * 200);
        cwx_lane_model_calibrate(m, b, b / 2);
        cwx_lane_model_observe_gap(m, 300);
    }
}

static void model_key_layout(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_lane_model_key("_cwexport/", "123456789012", "us-east-1", &b), 0);
    assert_string_equal(b.ptr, "_cwexport/123456789012/us-east-1/_model.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_lane_model_key("", "123456789012", "eu-west-1", &b), 0);
    assert_string_equal(b.ptr, "123456789012/eu-west-1/_model.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_lane_model_key("x", NULL, "eu-west-1", &b), CWX_EINVAL);
    assert_int_equal(b.len, 0);
    cwx_buf_free(&b);
}

static void model_round_trip(void **state)
{
    (void)state;
    struct cwx_lane_model m = {0}, r;
    s_learn(&m, 30);
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_lane_model_format(&m, "123456789012", "us-east-1", 1700000000000, &b), 0);
    assert_non_null(strstr(b.ptr, "\"updated_at\":\"2023-11-14T22:13:20Z\""));
    assert_non_null(strstr(b.ptr, "\"version\":1"));
    char why[200];
    assert_int_equal(cwx_lane_model_parse(b.ptr, b.len, &r, why, sizeof(why)), 0);
    assert_int_equal(r.tasks, 30);
    assert_int_equal(r.min_ms, m.min_ms);
    assert_int_equal(r.n_err, m.n_err);
    /* The same predictions, the same aim: the next run polls as this one
     * would have gone on polling. */
    for (int64_t x = 0; x < 50000000; x += 7000000) {
        int64_t a = cwx_lane_model_predict(&m, x), c = cwx_lane_model_predict(&r, x);
        assert_true(llabs(a - c) <= 1);
    }
    int64_t aim1, late1, aim2, late2;
    assert_true(cwx_lane_model_aim(&m, 5000, &aim1, &late1));
    assert_true(cwx_lane_model_aim(&r, 5000, &aim2, &late2));
    assert_int_equal(aim1, aim2);
    assert_int_equal(late1, late2);
    double rate = cwx_lane_model_rate(&r);
    assert_true(rate > 0.9e6 && rate < 1.1e6);
    int64_t oh = cwx_lane_model_overhead(&r);
    assert_true(oh > 19000 && oh < 21500);
    assert_true(cwx_lane_model_calibration(&r) > 0.49 && cwx_lane_model_calibration(&r) < 0.51);
    assert_true(fabs(cwx_lane_model_poll_factor(&r) - cwx_lane_model_poll_factor(&m)) < 1e-9);
    assert_int_equal(cwx_lane_model_gap(&r), cwx_lane_model_gap(&m));
    assert_true(cwx_lane_model_gap(&r) >= 299 && cwx_lane_model_gap(&r) <= 300);
    /* Learning goes on from where it was. */
    cwx_lane_model_add(&r, 1000000, 21000);
    assert_int_equal(r.tasks, 31);
    cwx_buf_free(&b);
}

static int s_refused(const char *text, size_t len, const char *why_part)
{
    struct cwx_lane_model m;
    memset(&m, 0x5a, sizeof(m));
    struct cwx_lane_model before = m;
    char why[200] = "";
    int rc = cwx_lane_model_parse(text, len, &m, why, sizeof(why));
    if (rc != CWX_EPARSE || memcmp(&m, &before, sizeof(m)) != 0)
        return 0;
    if (why_part && !strstr(why, why_part)) {
        print_error("why: %s (expected %s)\n", why, why_part);
        return 0;
    }
    return why[0] != '\0';
}

static void model_corrupt_refused(void **state)
{
    (void)state;
    struct cwx_lane_model m = {0};
    s_learn(&m, 10);
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_lane_model_format(&m, "123456789012", "us-east-1", 0, &b), 0);
    /* Truncated anywhere. */
    for (size_t cut = 0; cut < b.len; cut += 7)
        assert_true(s_refused(b.ptr, cut, NULL));
    /* Wrong types. */
    assert_true(s_refused("[1,2]", 5, "not a JSON object"));
    const char *bad[][2] = {
        {"{\"format\":\"cwexport-lane-model\",\"version\":2}", "version 2 is not 1"},
        {"{\"format\":\"other\",\"version\":1}", "format"},
        {"{\"format\":\"cwexport-lane-model\",\"version\":\"1\"}", "version missing"},
        {"{\"format\":\"cwexport-lane-model\",\"version\":1,\"fit\":[],\"errors\":{},"
         "\"bytes\":{}}", "fit is not an object"},
        {"{\"format\":\"cwexport-lane-model\",\"version\":1,\"fit\":{\"n\":\"3\"},"
         "\"errors\":{},\"bytes\":{},\"schedule\":{}}", "fit.n is not a number"},
        {"{\"format\":\"cwexport-lane-model\",\"version\":1,\"fit\":{\"n\":-3},"
         "\"errors\":{},\"bytes\":{},\"schedule\":{}}", "fit.n is out of range"},
        {"{\"format\":\"cwexport-lane-model\",\"version\":1,\"fit\":{\"n\":1e308,\"sx\":1},"
         "\"errors\":{},\"bytes\":{},\"schedule\":{}}", "fit.n is out of range"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(s_refused(bad[i][0], strlen(bad[i][0]), bad[i][1]));
    /* One field of the real document replaced by a wrong type. */
    const char *fields[] = {"\"samples\":", "\"tasks\":", "\"min_task_ms\":", "\"exported\":",
                            "\"gap_ms\":", "\"predicted_ms\":"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char *copy = strdup(b.ptr);
        char *at = strstr(copy, fields[i]);
        assert_non_null(at);
        at += strlen(fields[i]);
        *at = '"'; /* a number that now opens a string: no longer JSON or a type error */
        assert_true(s_refused(copy, strlen(copy), NULL));
        free(copy);
    }
    /* 10 MB of junk: refused on its size before any parsing. */
    size_t big = 10u * 1000 * 1000;
    char *junk = malloc(big);
    assert_non_null(junk);
    for (size_t i = 0; i < big; i++)
        junk[i] = (char)('!' + i * 31 % 90);
    assert_true(s_refused(junk, big, "larger than"));
    free(junk);
    /* Too many recent errors. */
    const char *many = "{\"format\":\"cwexport-lane-model\",\"version\":1,\"tasks\":1,"
                       "\"min_task_ms\":1,\"fit\":{\"n\":1,\"sx\":1,\"sy\":1,\"sxx\":1,\"sxy\":1,"
                       "\"samples\":1},\"errors\":{\"n\":1,\"s\":0,\"recent_ms\":[1,1,1,1,1,1,"
                       "1,1,1,1,1,1,1,1,1,1,1]},\"bytes\":{\"estimated\":0,\"exported\":0},"
                       "\"schedule\":{\"polls_made\":0,\"polls_replayed\":0,\"gap_n\":0,"
                       "\"gap_ms\":0}}";
    assert_true(s_refused(many, strlen(many), "recent_ms"));
    cwx_buf_free(&b);
}

static void model_robust_to_outliers(void **state)
{
    (void)state;
    struct cwx_lane_model m = {0};
    s_learn(&m, 12);
    int64_t before = cwx_lane_model_predict(&m, 5000000);
    /* One export stuck for an hour. */
    cwx_lane_model_add(&m, 5000000, 3600000);
    int64_t after = cwx_lane_model_predict(&m, 5000000);
    assert_true(after < before * 2);
}

static void model_polls_replay_the_schedule(void **state)
{
    (void)state;
    struct cwx_poll_policy p = cwx_poll_policy_of(NULL);
    assert_int_equal(p.min_ms, 5000);
    assert_int_equal(p.max_ms, 60000);
    /* No model: the schedule of cwx_poll_delay, step by step. */
    struct cwx_lane_model none = {0};
    int64_t age = 0, seen = 0;
    uint64_t polls = 0;
    while (age < 300000) {
        struct cwx_poll_input in;
        cwx_lane_model_poll_input(&none, &p, (int)polls, age, -1, &in);
        age += (int64_t)cwx_poll_delay(&p, &in);
        polls++;
    }
    assert_int_equal(cwx_lane_model_polls(&none, &p, -1, 300000, &seen), polls);
    assert_int_equal(seen, age);
    /* The end is seen at most ~10 % late without a model. */
    assert_true(seen - 300000 <= 30000 + 5000);
    /* A model that knows the lane: a handful of polls, the end seen soon. */
    struct cwx_lane_model m = {0};
    s_learn(&m, 30);
    int64_t pred = cwx_lane_model_predict(&m, 5000000);
    uint64_t few = cwx_lane_model_polls(&m, &p, 5000000, pred + 100, &seen);
    assert_true(few <= 4);
    assert_true(seen - pred < 6000);
    /* A week-long task at poll.max: counted, not looped forever. */
    assert_true(cwx_lane_model_polls(&none, &p, -1, 7LL * 86400000, NULL) > 10000);
    /* Zero duration: one poll. */
    assert_int_equal(cwx_lane_model_polls(&none, &p, -1, 0, NULL), 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(poll_first_soon),
    cmocka_unit_test(poll_geometric_without_prediction),
    cmocka_unit_test(poll_clusters_around_prediction),
    cmocka_unit_test(poll_aims_just_after_a_narrow_band),
    cmocka_unit_test(throughput_aim_minimises_idle),
    cmocka_unit_test(throughput_predicts),
    cmocka_unit_test(model_key_layout),
    cmocka_unit_test(model_round_trip),
    cmocka_unit_test(model_corrupt_refused),
    cmocka_unit_test(model_robust_to_outliers),
    cmocka_unit_test(model_polls_replay_the_schedule),
};

CWX_TEST_MAIN(tests)
