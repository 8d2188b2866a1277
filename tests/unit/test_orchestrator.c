/* The orchestrator's pure parts: polling policy, throughput model, loop
 * guard, queue order and the string index. */
#include "testmain.h"

#include <string.h>

#include "common/error.h"
#include "orchestrator/orchestrator_internal.h"
#include "planner/config.h"
#include "planner/plan.h"

static const struct cwx_poll_policy s_p = {.min_ms = 5000, .max_ms = 60000, .growth = 1.5};

static void poll_first_soon(void **state)
{
    (void)state;
    struct cwx_poll_input in = {.polls = 0, .age_ms = 0};
    assert_int_equal(cwx__poll_delay(&s_p, &in), 5000);
    in.predicted_ms = 3600000; /* even for a long task */
    assert_int_equal(cwx__poll_delay(&s_p, &in), 5000);
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
        uint64_t d = cwx__poll_delay(&s_p, &in);
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
    assert_int_equal(cwx__poll_delay(&s_p, &in), 10000);
    in.age_ms = 30000;
    assert_int_equal(cwx__poll_delay(&s_p, &in), 15000);
}

static void poll_clusters_around_prediction(void **state)
{
    (void)state;
    struct cwx_poll_policy p = {.min_ms = 1000, .max_ms = 600000, .growth = 1.5};
    struct cwx_poll_input in = {.polls = 1, .age_ms = 1000, .predicted_ms = 300000,
                                .aim_ms = -10000, .late_ms = 10000};
    /* Far from the end: sleep until the band starts (290 s of age). */
    assert_int_equal(cwx__poll_delay(&p, &in), 289000);
    /* Capped by poll.max: equal steps, the last one landing on the band. */
    struct cwx_poll_policy p2 = p;
    p2.max_ms = 60000;
    assert_int_equal(cwx__poll_delay(&p2, &in), 57800);
    /* Inside the band: every poll.min. */
    in.age_ms = 295000;
    assert_int_equal(cwx__poll_delay(&p, &in), 1000);
    in.age_ms = 309000;
    assert_int_equal(cwx__poll_delay(&p, &in), 1000);
    /* Overdue: back off with the lateness. */
    in.age_ms = 340000;
    assert_int_equal(cwx__poll_delay(&p, &in), 20000);
    in.age_ms = 300000 + 4000000;
    assert_int_equal(cwx__poll_delay(&p, &in), 600000);
}

static void poll_aims_just_after_a_narrow_band(void **state)
{
    (void)state;
    /* The lane's predictions end up to 300 ms late; the aim is 200 ms after
     * the prediction: one poll there, then every poll.min. */
    struct cwx_poll_policy p = {.min_ms = 1000, .max_ms = 60000, .growth = 1.5};
    struct cwx_poll_input in = {.polls = 1, .age_ms = 1000, .predicted_ms = 100000,
                                .aim_ms = 200, .late_ms = 300};
    assert_int_equal(cwx__poll_delay(&p, &in), 49600); /* 2 steps under poll.max */
    in.age_ms = 50600;
    assert_int_equal(cwx__poll_delay(&p, &in), 49600);
    in.polls = 2;
    in.age_ms = 100200; /* still RUNNING at the aim: every poll.min */
    assert_int_equal(cwx__poll_delay(&p, &in), 1000);
    in.age_ms = 101200;
    assert_int_equal(cwx__poll_delay(&p, &in), 1000);
    in.age_ms = 110000; /* overdue: backs off */
    assert_int_equal(cwx__poll_delay(&p, &in), 5000);
    /* Never under poll.min, even when the aim is closer. */
    in.age_ms = 99800;
    assert_int_equal(cwx__poll_delay(&p, &in), 1000);
    /* No history: ±10 % of the prediction, polled from its early edge. */
    in.aim_ms = in.late_ms = 0;
    in.age_ms = 1000;
    assert_int_equal(cwx__poll_delay(&p, &in), 44500);
    in.age_ms = 61000;
    assert_int_equal(cwx__poll_delay(&p, &in), 29000);
}

static void throughput_aim_minimises_idle(void **state)
{
    (void)state;
    struct cwx_throughput t;
    memset(&t, 0, sizeof(t));
    int64_t aim = 0, late = 0;
    assert_int_equal(cwx__throughput_aim(&t, 25, &aim, &late), 0);
    /* Most tasks end 1 ms after the prediction, two 20 ms after: aiming at
     * 1 ms and paying poll.min (25 ms) for the two beats waiting 20 ms on
     * every task. */
    int64_t errs[] = {1, 0, 1, 1, 20, 1, 0, 1, 1, 1, 20, 1, 1, 0, 1, 1};
    memcpy(t.err_ms, errs, sizeof(errs));
    t.n_err = 16;
    assert_true(cwx__throughput_aim(&t, 25, &aim, &late));
    assert_int_equal(aim, 1);
    assert_int_equal(late, 20);
    /* With a poll.min of 1 s, a RUNNING answer is dearer: aim after all. */
    assert_true(cwx__throughput_aim(&t, 1000, &aim, &late));
    assert_int_equal(aim, 20);
    /* Early ends: the aim moves before the prediction. */
    int64_t early[] = {-30, -31, -29, -30};
    memcpy(t.err_ms, early, sizeof(early));
    t.n_err = 4;
    assert_true(cwx__throughput_aim(&t, 25, &aim, &late));
    assert_int_equal(aim, -29);
    assert_int_equal(late, -29);
}

static void throughput_predicts(void **state)
{
    (void)state;
    struct cwx_throughput t;
    memset(&t, 0, sizeof(t));
    assert_int_equal(cwx__throughput_predict(&t, 1000), -1);
    /* duration = 20 s + bytes / (1 MB/s) */
    int64_t bytes[] = {1000000, 5000000, 20000000, 2000000, 50000000, 8000000};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
        cwx__throughput_add(&t, bytes[i], 20000 + bytes[i] / 1000);
    int64_t pred = cwx__throughput_predict(&t, 10000000);
    assert_true(pred > 29000 && pred < 31000);
    double rate = cwx__throughput_rate(&t);
    assert_true(rate > 0.95e6 && rate < 1.05e6);
    int64_t spread = cwx__throughput_spread(&t, pred);
    assert_true(spread > 0 && spread <= pred / 2);
    /* Exact data: the recent errors of the fitted model are near 0. */
    int64_t aim = 1, late = -1;
    assert_true(cwx__throughput_aim(&t, 5000, &aim, &late));
    assert_true(aim <= late && aim > -50 && late < 50);
    /* Tasks that end 1-1.2 s after the model's line: the aim says so. */
    struct cwx_throughput u;
    memset(&u, 0, sizeof(u));
    for (int i = 0; i < 24; i++) {
        int64_t b = 1000000 * (1 + i % 7);
        cwx__throughput_add(&u, b, 20000 + b / 1000 + (i >= 4 ? 1000 + 100 * (i % 3) : 0));
    }
    assert_true(cwx__throughput_aim(&u, 5000, &aim, &late));
    assert_true(aim > -1500 && aim < 1500 && late >= aim && late < 3000);
    /* Unknown size: the mean duration once there are a few samples. */
    assert_true(cwx__throughput_predict(&t, -1) > 20000);
}

static void guard_caps_and_contradiction(void **state)
{
    (void)state;
    struct cwx_guard g;
    cwx__guard_init(&g, 2, 5);
    struct cwx_job a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(cwx__guard_check(&g, NULL, &a, "a"), 0);
    cwx__guard_count(&g, NULL, &a, 1);
    assert_int_equal(cwx__guard_check(&g, NULL, &a, "a"), 0);
    cwx__guard_count(&g, NULL, &a, 0); /* slot busy: a call, no task */
    assert_int_equal(a.attempts, 1);
    cwx__guard_count(&g, NULL, &a, 1);
    assert_int_equal(cwx__guard_check(&g, NULL, &a, "a"), CWX_ELOOPGUARD); /* per job */
    assert_true(g.tripped);
    assert_non_null(strstr(g.why, "max_creates_per_job"));
    /* Once tripped, nothing more. */
    assert_int_equal(cwx__guard_check(&g, NULL, &b, "b"), CWX_ELOOPGUARD);

    cwx__guard_init(&g, 10, 3);
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cwx__guard_check(&g, NULL, &a, "a"), 0);
        cwx__guard_count(&g, NULL, &a, 0);
    }
    assert_int_equal(cwx__guard_check(&g, NULL, &a, "a"), CWX_ELOOPGUARD); /* per run */
    assert_non_null(strstr(g.why, "max_creates_per_run"));

    cwx__guard_init(&g, 10, 10);
    memset(&a, 0, sizeof(a));
    a.status = CWX_JOB_DONE; /* done, then planned again: a contradiction */
    assert_int_equal(cwx__guard_check(&g, NULL, &a, "x 2024-03"), CWX_ELOOPGUARD);
    assert_non_null(strstr(g.why, "x 2024-03 was done"));
}

static void guard_lane_caps(void **state)
{
    (void)state;
    /* An account's own max_creates_per_run caps its lane; the other lanes
     * and the run go on. */
    struct cwx_guard g;
    struct cwx_guard_lane small, big;
    cwx__guard_init(&g, 6, 100);
    cwx__guard_lane_init(&small, 6, 2);
    cwx__guard_lane_init(&big, 6, 50);
    struct cwx_job a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cwx__guard_check(&g, &small, &a, "a"), 0);
        cwx__guard_count(&g, &small, &a, 0);
    }
    assert_int_equal(cwx__guard_check(&g, &small, &a, "a"), CWX_ELOOPGUARD);
    assert_true(small.tripped && !g.tripped && g.lanes_tripped == 1);
    assert_non_null(strstr(g.why, "of this account"));
    assert_int_equal(cwx__guard_check(&g, &small, &b, "b"), CWX_ELOOPGUARD); /* stays */
    assert_int_equal(cwx__guard_check(&g, &big, &b, "b"), 0);
    cwx__guard_count(&g, &big, &b, 1);
    assert_int_equal(g.run_calls, 3);
    assert_int_equal(big.calls, 1);
    /* The lane's per-job cap (its account's max_creates_per_job). */
    struct cwx_guard_lane one;
    cwx__guard_lane_init(&one, 1, 50);
    assert_int_equal(cwx__guard_check(&g, &one, &b, "b"), CWX_ELOOPGUARD);
    assert_true(one.tripped && !g.tripped);
    assert_non_null(strstr(g.why, "max_creates_per_job"));
}

static void queue_oldest_window_first(void **state)
{
    (void)state;
    static const char yaml[] =
        "version: 1\n"
        "defaults:\n"
        "  destination: {bucket: archive}\n"
        "range: {from: 2024-01, to: 2024-03}\n"
        "accounts:\n"
        "  - name: a\n"
        "    account_id: \"123456789012\"\n"
        "    regions: [us-east-1]\n"
        "    log_groups:\n"
        "      - name: /g/one\n"
        "      - name: /g/two\n"
        "        range: {from: 2023-12, to: 2024-02}\n";
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err), 0);
    struct cwx_plan *plan = NULL;
    char why[256];
    assert_int_equal(cwx_plan_new(cfg, 1735689600000LL, &plan, why, sizeof(why)), 0);
    assert_int_equal(cwx_plan_add_named_groups(plan), 0);
    assert_int_equal(cwx_plan_expand(plan), 0);
    assert_int_equal(plan->n_jobs, 6);
    uint32_t q[6] = {0, 1, 2, 3, 4, 5};
    cwx__queue_sort(plan, q, 6);
    const char *want[6][2] = {{"/g/two", "2023-12"}, {"/g/one", "2024-01"}, {"/g/two", "2024-01"},
                              {"/g/one", "2024-02"}, {"/g/two", "2024-02"}, {"/g/one", "2024-03"}};
    for (int i = 0; i < 6; i++) {
        const struct cwx_job *job = &plan->jobs[q[i]];
        assert_string_equal(cwx_plan_job_group(plan, job)->name, want[i][0]);
        assert_string_equal(cwx_plan_job_window(plan, job)->label, want[i][1]);
    }
    /* Task names index back to their jobs. */
    struct cwx_index ix = {0};
    for (uint32_t j = 0; j < plan->n_jobs; j++)
        assert_int_equal(cwx__index_put(&ix, plan->jobs[j].task_name, 0, j), 0);
    for (uint32_t j = 0; j < plan->n_jobs; j++) {
        uint32_t v = 99;
        const char *name = plan->jobs[j].task_name;
        assert_int_equal(cwx__index_get(&ix, name, strlen(name), 0, &v), 1);
        assert_int_equal(v, j);
    }
    uint32_t v;
    assert_int_equal(cwx__index_get(&ix, "cwexport-0000000000000000", 25, 0, &v), 0);
    assert_int_equal(cwx__index_get(&ix, plan->jobs[0].task_name, 25, 7, &v), 0); /* tag */
    cwx__index_free(&ix);
    cwx_plan_free(plan);
    cwx_config_free(cfg);
}

static void index_grows(void **state)
{
    (void)state;
    static char keys[500][16];
    struct cwx_index ix = {0};
    for (uint32_t i = 0; i < 500; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%u", i);
        assert_int_equal(cwx__index_put(&ix, keys[i], i % 3, i), 0);
    }
    for (uint32_t i = 0; i < 500; i++) {
        uint32_t v;
        assert_int_equal(cwx__index_get(&ix, keys[i], strlen(keys[i]), i % 3, &v), 1);
        assert_int_equal(v, i);
    }
    assert_int_equal(ix.n, 500);
    cwx__index_free(&ix);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(poll_first_soon),
    cmocka_unit_test(poll_geometric_without_prediction),
    cmocka_unit_test(poll_clusters_around_prediction),
    cmocka_unit_test(poll_aims_just_after_a_narrow_band),
    cmocka_unit_test(throughput_aim_minimises_idle),
    cmocka_unit_test(throughput_predicts),
    cmocka_unit_test(guard_caps_and_contradiction),
    cmocka_unit_test(guard_lane_caps),
    cmocka_unit_test(queue_oldest_window_first),
    cmocka_unit_test(index_grows),
};

CWX_TEST_MAIN(tests)
