/* The orchestrator's pure parts: loop guard, queue order and the string
 * index (the polling policy and the lane model: test_lane_model.c). */
#include "testmain.h"

#include <string.h>

#include "common/error.h"
#include "orchestrator/orchestrator_internal.h"
#include "planner/config.h"
#include "planner/plan.h"

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

/* A lazy plan (plan --offline) makes the same jobs as an expanded one, one
 * at a time and in any order, also around a group without windows. */
static void lazy_plan_makes_the_same_jobs(void **state)
{
    (void)state;
    const char *yaml = "version: 1\n"
                       "defaults: {region: us-east-1, destination: {bucket: lazy-bucket}}\n"
                       "accounts:\n"
                       "  - name: a\n"
                       "    account_id: \"123456789012\"\n"
                       "    log_groups:\n"
                       "      - name: /g/one\n"
                       "        range: {from: 2024-01, to: 2024-03}\n"
                       "      - name: /g/none\n"
                       "        range: {from: 2030-01}\n"
                       "      - name: /g/two\n"
                       "        range: {from: 2023-12, to: 2024-02}\n";
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err), 0);
    struct cwx_plan *plan = NULL, *lazy = NULL;
    char why[256];
    assert_int_equal(cwx_plan_new(cfg, 1735689600000LL, &plan, why, sizeof(why)), 0);
    assert_int_equal(cwx_plan_add_named_groups(plan), 0);
    assert_int_equal(cwx_plan_expand(plan), 0);
    assert_int_equal(cwx_plan_new(cfg, 1735689600000LL, &lazy, why, sizeof(why)), 0);
    assert_int_equal(cwx_plan_add_named_groups(lazy), 0);
    assert_int_equal(cwx_plan_expand_lazy(lazy), 0);
    assert_null(lazy->jobs);
    assert_int_equal(lazy->n_jobs, 6);
    assert_int_equal(lazy->groups[1].n_jobs, 0);
    const uint32_t order[12] = {0, 1, 2, 3, 4, 5, 5, 0, 3, 2, 4, 1};
    for (int i = 0; i < 12; i++) {
        uint32_t j = order[i];
        struct cwx_job tmp;
        const struct cwx_job *a = &plan->jobs[j], *b = cwx_plan_job(lazy, j, &tmp, 1);
        assert_ptr_equal(b, &tmp);
        assert_int_equal(a->group, b->group);
        assert_int_equal(a->window, b->window);
        assert_int_equal(a->status, b->status);
        assert_string_equal(a->task_name, b->task_name);
        assert_string_equal(cwx_plan_job(lazy, j, &tmp, 0)->task_name, "");
    }
    struct cwx_plan_totals ta, tb;
    cwx_plan_totals(plan, &ta);
    cwx_plan_totals(lazy, &tb);
    assert_memory_equal(&ta, &tb, sizeof(ta));
    cwx_plan_free(lazy);
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
    cmocka_unit_test(guard_caps_and_contradiction),
    cmocka_unit_test(guard_lane_caps),
    cmocka_unit_test(queue_oldest_window_first),
    cmocka_unit_test(lazy_plan_makes_the_same_jobs),
    cmocka_unit_test(index_grows),
};

CWX_TEST_MAIN(tests)
