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
                                .spread_ms = 10000};
    /* Far from the end: sleep until the band starts (290 s of age). */
    assert_int_equal(cwx__poll_delay(&p, &in), 289000);
    /* Capped by poll.max. */
    struct cwx_poll_policy p2 = p;
    p2.max_ms = 60000;
    assert_int_equal(cwx__poll_delay(&p2, &in), 60000);
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
    assert_int_equal(cwx__guard_check(&g, &a, "a"), 0);
    cwx__guard_count(&g, &a, 1);
    assert_int_equal(cwx__guard_check(&g, &a, "a"), 0);
    cwx__guard_count(&g, &a, 0); /* slot busy: a call, no task */
    assert_int_equal(a.attempts, 1);
    cwx__guard_count(&g, &a, 1);
    assert_int_equal(cwx__guard_check(&g, &a, "a"), CWX_ELOOPGUARD); /* per job */
    assert_true(g.tripped);
    assert_non_null(strstr(g.why, "max_creates_per_job"));
    /* Once tripped, nothing more. */
    assert_int_equal(cwx__guard_check(&g, &b, "b"), CWX_ELOOPGUARD);

    cwx__guard_init(&g, 10, 3);
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cwx__guard_check(&g, &a, "a"), 0);
        cwx__guard_count(&g, &a, 0);
    }
    assert_int_equal(cwx__guard_check(&g, &a, "a"), CWX_ELOOPGUARD); /* per run */
    assert_non_null(strstr(g.why, "max_creates_per_run"));

    cwx__guard_init(&g, 10, 10);
    memset(&a, 0, sizeof(a));
    a.status = CWX_JOB_DONE; /* done, then planned again: a contradiction */
    assert_int_equal(cwx__guard_check(&g, &a, "x 2024-03"), CWX_ELOOPGUARD);
    assert_non_null(strstr(g.why, "x 2024-03 was done"));
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
    cmocka_unit_test(throughput_predicts),
    cmocka_unit_test(guard_caps_and_contradiction),
    cmocka_unit_test(queue_oldest_window_first),
    cmocka_unit_test(index_grows),
};

CWX_TEST_MAIN(tests)
