/* Fewest tasks in the plan: event intervals, no_events skips, ranges
 * (coalesce) and their split. */
#include "testmain.h"

#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "planner/estimate.h"
#include "planner/plan.h"

#define DAY 86400000LL
/* 2023-01-01 and 2024-01-01 UTC. */
#define Y2023 1672531200000LL
#define Y2024 1704067200000LL

static const char s_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "  coalesce: {max_bytes: 5MB, max_windows: 12}\n"
    "range: {from: 2023-01, to: 2024-12}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    account_id: \"123456789012\"\n"
    "    log_groups:\n"
    "      - name: /app/api\n";

struct s_fix {
    struct cwx_config *cfg;
    struct cwx_plan *plan;
};

static int s_setup(void **state)
{
    static struct s_fix fx;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", s_yaml, strlen(s_yaml), &fx.cfg, &err), 0);
    char why[256];
    /* 2025-06-01 */
    assert_int_equal(cwx_plan_new(fx.cfg, 1748736000000LL, &fx.plan, why, sizeof(why)), 0);
    assert_int_equal(cwx_plan_add_named_groups(fx.plan), 0);
    fx.plan->groups[0].creation_ms = Y2023 - 30 * DAY;
    fx.plan->groups[0].stored_bytes = 24000000; /* 1 MB a window when even */
    assert_int_equal(cwx_plan_expand(fx.plan), 0);
    assert_int_equal(fx.plan->n_jobs, 24);
    *state = &fx;
    return 0;
}

static int s_teardown(void **state)
{
    struct s_fix *fx = *state;
    cwx_plan_free(fx->plan);
    cwx_config_free(fx->cfg);
    return 0;
}

/* Events over every window, from 2023-01-01 to the end of 2024. */
static void s_all_events(struct cwx_plan *plan)
{
    struct cwx_plan_interval iv = {Y2023, Y2024 + 366 * DAY - 1};
    assert_int_equal(cwx_plan_set_events(plan, 0, &iv, 1), 0);
}

static void events_sorted_and_merged(void **state)
{
    struct s_fix *fx = *state;
    struct cwx_plan_interval iv[] = {{50, 60}, {10, 20}, {31, 40}, {15, 30}, {9, 5}};
    assert_int_equal(cwx_plan_set_events(fx->plan, 0, iv, 5), 0);
    const struct cwx_plan_group *g = &fx->plan->groups[0];
    assert_true(g->events_known);
    assert_int_equal(g->n_events, 2);
    assert_int_equal(g->events[0].from_ms, 10);
    assert_int_equal(g->events[0].to_ms, 40); /* [10,30] and [31,40] touch */
    assert_int_equal(g->events[1].from_ms, 50);
    assert_int_equal(cwx_plan_events_overlap(g, 0, 100), 31 + 11);
    assert_int_equal(cwx_plan_events_overlap(g, 40, 50), 1);
    assert_int_equal(cwx_plan_set_events(fx->plan, 0, NULL, 0), 0);
    assert_int_equal(fx->plan->groups[0].n_events, 0);
    assert_true(fx->plan->groups[0].events_known);
}

static void windows_without_events_skipped(void **state)
{
    struct s_fix *fx = *state;
    struct cwx_plan *plan = fx->plan;
    /* March and May 2024 only (2024 is a leap year). */
    struct cwx_plan_interval iv[] = {{Y2024 + 60 * DAY + 5, Y2024 + 70 * DAY},
                                     {Y2024 + 121 * DAY, Y2024 + 152 * DAY - 1}};
    assert_int_equal(cwx_plan_set_events(plan, 0, iv, 2), 0);
    assert_int_equal(cwx_plan_skip_no_events(plan, 0), 22);
    struct cwx_plan_totals tot;
    cwx_plan_totals(plan, &tot);
    assert_int_equal(tot.pending, 2);
    assert_int_equal(tot.tasks, 2);
    assert_int_equal(tot.no_events, 22);
    assert_string_equal(cwx_plan_job_window(plan, &plan->jobs[14])->label, "2024-03");
    assert_int_equal(plan->jobs[14].status, CWX_JOB_PENDING);
    assert_int_equal(plan->jobs[16].status, CWX_JOB_PENDING);
    assert_int_equal(plan->jobs[15].reason, CWX_REASON_NO_EVENTS);
    assert_string_equal(cwx_job_reason_name(CWX_REASON_NO_EVENTS), "no_events");
    /* Estimates follow the events: nothing in April, the rest by overlap. */
    const struct cwx_plan_group *g = &plan->groups[0];
    assert_int_equal(cwx_estimate_window_bytes(plan, g, cwx_plan_job_window(plan, &plan->jobs[15])), 0);
    int64_t mar = cwx_estimate_window_bytes(plan, g, cwx_plan_job_window(plan, &plan->jobs[14]));
    int64_t may = cwx_estimate_window_bytes(plan, g, cwx_plan_job_window(plan, &plan->jobs[16]));
    assert_true(mar > 0 && may > mar);
    assert_true(mar + may >= 24000000 - 1 && mar + may <= 24000000 + 1);

    /* 24 MB in two windows is over max_bytes (5 MB): no range. */
    assert_int_equal(cwx_plan_coalesce(plan, 0), 0);
    assert_int_equal(plan->jobs[14].span, 0);
    assert_false(plan->jobs[16].covered);
    /* 2 MB: March..May, April covered; nothing before or after. */
    plan->groups[0].stored_bytes = 2000000;
    char single[CWX_TASK_NAME_SIZE];
    memcpy(single, plan->jobs[14].task_name, sizeof(single));
    assert_int_equal(cwx_plan_coalesce(plan, 0), 0);
    assert_int_equal(plan->jobs[14].span, 3);
    assert_true(plan->jobs[15].covered && plan->jobs[16].covered);
    assert_int_equal(plan->jobs[15].status, CWX_JOB_PENDING);
    assert_int_equal(plan->jobs[17].status, CWX_JOB_SKIPPED);
    assert_false(plan->jobs[13].covered);
    assert_string_not_equal(plan->jobs[14].task_name, single);
    assert_string_equal(plan->jobs[16].task_name, plan->jobs[14].task_name);
    cwx_plan_totals(plan, &tot);
    assert_int_equal(tot.tasks, 1);
}

static void coalesce_by_max_windows(void **state)
{
    struct s_fix *fx = *state;
    struct cwx_plan *plan = fx->plan;
    s_all_events(plan);
    /* 24 windows of ~1 MB under 5 MB: ranges of at most 4-5 windows. */
    assert_int_equal(cwx_plan_coalesce(plan, 0), 0);
    int64_t sum = 0;
    uint32_t heads = 0;
    for (uint32_t j = 0; j < 24; j++) {
        const struct cwx_job *job = &plan->jobs[j];
        if (job->covered)
            continue;
        heads++;
        assert_true(job->span >= 1);
        int64_t b = 0;
        for (uint32_t k = 0; k < (job->span ? job->span : 1); k++)
            b += cwx_estimate_window_bytes(plan, &plan->groups[0],
                                           cwx_plan_job_window(plan, job + k));
        assert_true(b <= 5000000);
        sum += job->span ? job->span : 1;
    }
    assert_int_equal(sum, 24);
    assert_true(heads >= 5 && heads <= 6);
}

static void coalesce_names_and_prefix_of_range(void **state)
{
    struct s_fix *fx = *state;
    struct cwx_plan *plan = fx->plan;
    plan->groups[0].stored_bytes = 24000; /* tiny: max_windows decides */
    s_all_events(plan);
    assert_int_equal(cwx_plan_coalesce(plan, 0), 0);
    assert_int_equal(plan->jobs[0].span, 12);
    assert_int_equal(plan->jobs[12].span, 12);
    assert_false(plan->jobs[12].covered);
    assert_true(plan->jobs[11].covered);
    assert_ptr_equal(cwx_plan_job_head(plan, &plan->jobs[11]), &plan->jobs[0]);
    assert_int_equal(cwx_plan_job_last(plan, &plan->jobs[0]), 11);
    struct cwx_buf prefix;
    cwx_buf_init(&prefix, 0);
    assert_int_equal(cwx_plan_job_prefix(plan, &plan->jobs[12], &prefix), 0);
    assert_string_equal(prefix.ptr, "123456789012/us-east-1/app/api/2024-01..2024-12");
    struct cwx_job_identity id;
    cwx_plan_job_identity(plan, &plan->jobs[12], prefix.ptr, &id);
    assert_int_equal(id.from_ms, Y2024);
    assert_int_equal(id.to_ms, Y2024 + 366 * DAY - 1);
    char name[CWX_TASK_NAME_SIZE];
    assert_int_equal(cwx_job_task_name(&id, name), 0);
    assert_string_equal(name, plan->jobs[12].task_name);
    struct cwx_plan_totals tot;
    cwx_plan_totals(plan, &tot);
    assert_int_equal(tot.tasks, 2);
    assert_int_equal(tot.pending, 24);

    /* A FAILED range is split in halves, each named after its own range. */
    assert_int_equal(cwx_plan_split(plan, 12), 0);
    assert_int_equal(plan->jobs[12].span, 6);
    assert_int_equal(plan->jobs[18].span, 6);
    assert_false(plan->jobs[18].covered);
    assert_string_not_equal(plan->jobs[12].task_name, plan->jobs[18].task_name);
    assert_string_equal(plan->jobs[17].task_name, plan->jobs[12].task_name);
    assert_string_equal(plan->jobs[23].task_name, plan->jobs[18].task_name);
    cwx_buf_reset(&prefix);
    assert_int_equal(cwx_plan_job_prefix(plan, &plan->jobs[18], &prefix), 0);
    assert_string_equal(prefix.ptr, "123456789012/us-east-1/app/api/2024-07..2024-12");
    /* Down to single windows: the name of a single window again. */
    assert_int_equal(cwx_plan_split(plan, 18), 0);
    assert_int_equal(cwx_plan_split(plan, 18), 0);
    assert_int_equal(plan->jobs[18].span, 1);
    assert_int_equal(cwx_plan_split(plan, 18), CWX_EINVAL);
    cwx_buf_reset(&prefix);
    assert_int_equal(cwx_plan_job_prefix(plan, &plan->jobs[18], &prefix), 0);
    assert_string_equal(prefix.ptr, "123456789012/us-east-1/app/api/2024-07");
    cwx_buf_free(&prefix);
}

static void coalesce_stops_at_done_windows(void **state)
{
    struct s_fix *fx = *state;
    struct cwx_plan *plan = fx->plan;
    plan->groups[0].stored_bytes = 24000;
    s_all_events(plan);
    plan->jobs[3].status = CWX_JOB_DONE;
    plan->jobs[3].reason = CWX_REASON_MARKER;
    assert_int_equal(cwx_plan_coalesce(plan, 0), 0);
    assert_int_equal(plan->jobs[0].span, 3);
    assert_false(plan->jobs[3].covered);
    assert_int_equal(plan->jobs[4].span, 12);
    assert_int_equal(plan->jobs[16].span, 8);
}

static void coalesce_needs_known_size(void **state)
{
    struct s_fix *fx = *state;
    fx->plan->groups[0].stored_bytes = -1;
    assert_int_equal(cwx_plan_coalesce(fx->plan, 0), 0);
    for (uint32_t j = 0; j < 24; j++)
        assert_true(fx->plan->jobs[j].span <= 1 && !fx->plan->jobs[j].covered);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(events_sorted_and_merged, s_setup, s_teardown),
    cmocka_unit_test_setup_teardown(windows_without_events_skipped, s_setup, s_teardown),
    cmocka_unit_test_setup_teardown(coalesce_by_max_windows, s_setup, s_teardown),
    cmocka_unit_test_setup_teardown(coalesce_names_and_prefix_of_range, s_setup, s_teardown),
    cmocka_unit_test_setup_teardown(coalesce_stops_at_done_windows, s_setup, s_teardown),
    cmocka_unit_test_setup_teardown(coalesce_needs_known_size, s_setup, s_teardown),
};

CWX_TEST_MAIN(tests)
