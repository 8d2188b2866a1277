/* Unit tests of the CloudWatch client's pure parts: the GetMetricData form
 * body and its answer's parser, on AWS-shaped answers and on garbage; and
 * the lane model's IncomingBytes calibration, old files included. */
#include "testmain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/monitoring.h"
#include "common/buf.h"
#include "common/error.h"
#include "planner/estimate.h"
#include "planner/lane_model.h"
#include "planner/plan.h"

#define LIT(s) (s), (sizeof(s) - 1)

static const char *const s_groups[] = {"/aws/lambda/api", "/app/a b&c"};

static struct cwx_monitoring_get_req s_req(size_t n)
{
    return (struct cwx_monitoring_get_req){
        .namespace_ = "AWS/Logs",
        .metric_name = "IncomingBytes",
        .dimension = "LogGroupName",
        .stat = "Sum",
        .period_s = 86400,
        .values = s_groups,
        .n_queries = n,
        .start_ms = 1709251200000LL, /* 2024-03-01 */
        .end_ms = 1709510400500LL,   /* 2024-03-04, half a second after */
    };
}

static void test_body(void **state)
{
    (void)state;
    struct cwx_monitoring_get_req req = s_req(2);
    req.next_token = "tok/en+=";
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_monitoring_body(&req, &b), 0);
    assert_string_equal(
        b.ptr,
        "Action=GetMetricData&Version=2010-08-01"
        "&MetricDataQueries.member.1.Id=q0"
        "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS%2FLogs"
        "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=IncomingBytes"
        "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=LogGroupName"
        "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value="
        "%2Faws%2Flambda%2Fapi"
        "&MetricDataQueries.member.1.MetricStat.Period=86400"
        "&MetricDataQueries.member.1.MetricStat.Stat=Sum"
        "&MetricDataQueries.member.1.ReturnData=true"
        "&MetricDataQueries.member.2.Id=q1"
        "&MetricDataQueries.member.2.MetricStat.Metric.Namespace=AWS%2FLogs"
        "&MetricDataQueries.member.2.MetricStat.Metric.MetricName=IncomingBytes"
        "&MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name=LogGroupName"
        "&MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Value="
        "%2Fapp%2Fa%20b%26c"
        "&MetricDataQueries.member.2.MetricStat.Period=86400"
        "&MetricDataQueries.member.2.MetricStat.Stat=Sum"
        "&MetricDataQueries.member.2.ReturnData=true"
        "&StartTime=2024-03-01T00%3A00%3A00Z&EndTime=2024-03-04T00%3A00%3A00Z"
        "&ScanBy=TimestampAscending&NextToken=tok%2Fen%2B%3D");
    cwx_buf_free(&b);
}

static void test_body_refuses(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    struct cwx_monitoring_get_req r = s_req(0);
    assert_int_equal(cwx_monitoring_body(&r, &b), CWX_EINVAL);
    r = s_req(CWX_MONITORING_MAX_QUERIES + 1);
    assert_int_equal(cwx_monitoring_body(&r, &b), CWX_EINVAL);
    r = s_req(1);
    r.period_s = 90;
    assert_int_equal(cwx_monitoring_body(&r, &b), CWX_EINVAL);
    r = s_req(1);
    r.end_ms = r.start_ms;
    assert_int_equal(cwx_monitoring_body(&r, &b), CWX_EINVAL);
    r = s_req(1);
    r.stat = "";
    assert_int_equal(cwx_monitoring_body(&r, &b), CWX_EINVAL);
    const char *empty[] = {""};
    r = s_req(1);
    r.values = empty;
    assert_int_equal(cwx_monitoring_body(&r, &b), CWX_EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(cwx_monitoring_get_metric_data(NULL, &r, NULL, NULL), CWX_EINVAL);
    cwx_buf_free(&b);
}

/* As the API reference shows a GetMetricData answer. */
static const char s_answer[] =
    "<GetMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\n"
    "  <GetMetricDataResult>\n"
    "    <MetricDataResults>\n"
    "      <member>\n"
    "        <Timestamps><member>2024-03-01T00:00:00Z</member>"
    "<member>2024-03-02T00:00:00Z</member></Timestamps>\n"
    "        <Values><member>1.5E7</member><member>42</member></Values>\n"
    "        <Label>IncomingBytes</Label>\n"
    "        <Id>q1</Id>\n"
    "        <StatusCode>PartialData</StatusCode>\n"
    "      </member>\n"
    "      <member>\n"
    "        <Timestamps/>\n"
    "        <Values/>\n"
    "        <Id>q0</Id>\n"
    "        <StatusCode>Complete</StatusCode>\n"
    "      </member>\n"
    "    </MetricDataResults>\n"
    "    <NextToken>next-page</NextToken>\n"
    "    <Messages><member><Code>c</Code><Value>v</Value></member></Messages>\n"
    "  </GetMetricDataResult>\n"
    "  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\n"
    "</GetMetricDataResponse>\n";

static void test_parse(void **state)
{
    (void)state;
    struct cwx_monitoring_page p;
    char msg[200] = "";
    assert_int_equal(cwx_monitoring_parse(LIT(s_answer), 2, &p, msg, sizeof msg), 0);
    assert_int_equal(p.n_series, 2);
    assert_int_equal(p.series[0].query, 1);
    assert_int_equal(p.series[0].n, 2);
    assert_true(p.series[0].partial);
    assert_int_equal(p.series[0].ts_ms[0], 1709251200000LL);
    assert_int_equal(p.series[0].ts_ms[1], 1709337600000LL);
    assert_true(p.series[0].values[0] == 1.5e7 && p.series[0].values[1] == 42);
    assert_int_equal(p.series[1].query, 0);
    assert_int_equal(p.series[1].n, 0);
    assert_false(p.series[1].partial);
    assert_string_equal(p.next_token, "next-page");
    cwx_monitoring_page_free(&p);

    /* The last page: no NextToken. */
    assert_int_equal(cwx_monitoring_parse(LIT("<GetMetricDataResponse><GetMetricDataResult>"
                                              "<MetricDataResults/></GetMetricDataResult>"
                                              "</GetMetricDataResponse>"),
                                          1, &p, msg, sizeof msg),
                     0);
    assert_int_equal(p.n_series, 0);
    assert_null(p.next_token);
    cwx_monitoring_page_free(&p);
}

static void test_parse_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "<GetMetricDataResponse>",
        "not xml",
        /* an Id the request did not make */
        "<R><GetMetricDataResult><MetricDataResults><member><Id>q7</Id></member>"
        "</MetricDataResults></GetMetricDataResult></R>",
        "<R><GetMetricDataResult><MetricDataResults><member><Id>x</Id></member>"
        "</MetricDataResults></GetMetricDataResult></R>",
        "<R><GetMetricDataResult><MetricDataResults><member><Id>q01</Id></member>"
        "</MetricDataResults></GetMetricDataResult></R>",
        /* no Id */
        "<R><GetMetricDataResult><MetricDataResults><member></member>"
        "</MetricDataResults></GetMetricDataResult></R>",
        /* timestamps and values that do not pair up */
        "<R><GetMetricDataResult><MetricDataResults><member><Id>q0</Id><Timestamps>"
        "<member>2024-03-01T00:00:00Z</member></Timestamps><Values/></member>"
        "</MetricDataResults></GetMetricDataResult></R>",
        "<R><GetMetricDataResult><MetricDataResults><member><Id>q0</Id><Timestamps>"
        "<member>yesterday</member></Timestamps><Values><member>1</member></Values></member>"
        "</MetricDataResults></GetMetricDataResult></R>",
        "<R><GetMetricDataResult><MetricDataResults><member><Id>q0</Id><Timestamps>"
        "<member>2024-03-01T00:00:00Z</member></Timestamps><Values><member>1x</member>"
        "</Values></member></MetricDataResults></GetMetricDataResult></R>",
        "<R><GetMetricDataResult><MetricDataResults><member><Id>q0</Id><Timestamps>"
        "<member>2024-03-01T00:00:00Z</member></Timestamps><Values><member>nan</member>"
        "</Values></member></MetricDataResults></GetMetricDataResult></R>",
        "<!DOCTYPE x [<!ENTITY a \"b\">]><R/>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cwx_monitoring_page p = {.n_series = 99};
        char msg[200] = "";
        int rc = cwx_monitoring_parse(bad[i], strlen(bad[i]), 1, &p, msg, sizeof msg);
        if (rc != CWX_EPARSE)
            fail_msg("case %zu: %d", i, rc);
        assert_true(msg[0] != '\0');
        assert_int_equal(p.n_series, 0);
        assert_null(p.series);
        assert_null(p.next_token);
    }
}

/* The lane model keeps exported bytes per IncomingByte, and reads files
 * written before it did. */
static void test_lane_model_incoming(void **state)
{
    (void)state;
    struct cwx_lane_model m = {0};
    assert_true(cwx_lane_model_incoming_ratio(&m) == 0);
    cwx_lane_model_calibrate_incoming(&m, 1000, 100);
    cwx_lane_model_calibrate_incoming(&m, 0, 100); /* ignored */
    cwx_lane_model_calibrate_incoming(&m, 3000, 300);
    assert_true(cwx_lane_model_incoming_ratio(&m) > 0.0999 &&
                cwx_lane_model_incoming_ratio(&m) < 0.1001);
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_lane_model_format(&m, "123456789012", "us-east-1", 0, &b), 0);
    struct cwx_lane_model r;
    char why[200] = "";
    assert_int_equal(cwx_lane_model_parse(b.ptr, b.len, &r, why, sizeof why), 0);
    assert_true(r.incoming_bytes == 4000 && r.incoming_exported == 400);
    /* A file of before: no incoming fields. */
    char *p = strstr(b.ptr, ",\"incoming\"");
    assert_non_null(p);
    char *q = strchr(p + 1, '}');
    memmove(p, q, strlen(q) + 1);
    assert_null(strstr(b.ptr, "incoming"));
    assert_int_equal(cwx_lane_model_parse(b.ptr, strlen(b.ptr), &r, why, sizeof why), 0);
    assert_true(r.incoming_bytes == 0 && cwx_lane_model_incoming_ratio(&r) == 0);
    /* A wrong type is refused like any other field. */
    cwx_buf_reset(&b);
    assert_int_equal(cwx_lane_model_format(&m, "123456789012", "us-east-1", 0, &b), 0);
    p = strstr(b.ptr, "\"incoming\":");
    assert_non_null(p);
    assert_memory_equal(p + strlen("\"incoming\":"), "4000,", 5);
    memcpy(p + strlen("\"incoming\":"), "\"x0\"", 4);
    assert_int_equal(cwx_lane_model_parse(b.ptr, b.len, &r, why, sizeof why), CWX_EPARSE);
    cwx_buf_free(&b);
}

/* ---- bytes per window from the metrics (planner/estimate_bytes.c) ---------- */

#define DAY 86400000LL
#define MAR2024 1709251200000LL /* 2024-03-01 */
#define FEB2024 1706745600000LL /* 2024-02-01 */
#define APR2024 1711929600000LL /* 2024-04-01 */

static const char s_yaml[] = "version: 1\n"
                             "defaults:\n"
                             "  region: us-east-1\n"
                             "  destination: {bucket: my-archive}\n"
                             "range: {from: 2023-01, to: 2024-12}\n"
                             "accounts:\n"
                             "  - name: prod\n"
                             "    account_id: \"123456789012\"\n"
                             "    log_groups:\n"
                             "      - name: /app/api\n";

static void test_window_bytes_from_metrics(void **state)
{
    (void)state;
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", s_yaml, strlen(s_yaml), &cfg, &err), 0);
    struct cwx_plan *plan = NULL;
    char why[256];
    assert_int_equal(cwx_plan_new(cfg, 1748736000000LL /* 2025-06-01 */, &plan, why, sizeof why),
                     0);
    assert_int_equal(cwx_plan_add_named_groups(plan), 0);
    assert_int_equal(cwx_plan_expand(plan), 0);
    struct cwx_plan_group *g = &plan->groups[0];
    const struct cwx_window feb = {FEB2024, MAR2024, "2024-02"};
    const struct cwx_window mar = {MAR2024, APR2024, "2024-03"};
    enum cwx_bytes_source src;
    /* No storedBytes, no metrics: unknown. */
    assert_int_equal(cwx_estimate_window_bytes_src(plan, g, &mar, &src), -1);
    assert_int_equal(src, CWX_BYTES_UNKNOWN);
    assert_null(cwx_ingest_calibration(plan, 0, NULL));

    /* 1,000 bytes a day from 2024-03-01; the group created on 2024-03-10 at
     * noon. */
    assert_int_equal(cwx_ingest_attach(plan, MAR2024, 458), 0);
    assert_int_equal(cwx_ingest_attach(plan, MAR2024, 458), CWX_EINVAL);
    for (int d = 0; d < 458; d++)
        assert_int_equal(cwx_ingest_add(plan, 0, MAR2024 + d * DAY, 1000), 0);
    cwx_ingest_finish(plan);
    g->creation_ms = MAR2024 + 9 * DAY + DAY / 2;
    double k = 0;
    assert_string_equal(cwx_ingest_calibration(plan, 0, &k), "none");
    assert_true(k == 1.0);
    assert_int_equal(cwx_estimate_window_bytes_src(plan, g, &mar, &src), 21500);
    assert_int_equal(src, CWX_BYTES_METRICS);
    /* Before the metrics: storedBytes (unknown here). */
    assert_int_equal(cwx_estimate_window_bytes_src(plan, g, &feb, &src), -1);
    assert_int_equal(src, CWX_BYTES_UNKNOWN);

    /* The lane model calibrates: exported per IncomingByte 0.25 over
     * exported per estimated byte 0.5 = 0.5 estimated bytes per IncomingByte. */
    struct cwx_lane_model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    cwx_lane_model_calibrate(m, 1000, 500);
    cwx_lane_model_calibrate_incoming(m, 1000, 250);
    plan->targets[0].model = m;
    cwx_ingest_forget(plan, 0);
    assert_int_equal(cwx_ingest_add(plan, 0, MAR2024, 4000), 0);
    cwx_ingest_finish(plan);
    assert_string_equal(cwx_ingest_calibration(plan, 0, &k), "lane model");
    assert_true(k == 0.5);
    g->creation_ms = MAR2024 - 400 * DAY;
    assert_int_equal(cwx_estimate_window_bytes_src(plan, g, &mar, &src), 2000);
    assert_int_equal(src, CWX_BYTES_METRICS);

    /* Forgotten (its call failed): storedBytes again. */
    cwx_ingest_forget(plan, 0);
    g->stored_bytes = 0;
    assert_int_equal(cwx_estimate_window_bytes_src(plan, g, &mar, &src), 0);
    assert_int_equal(src, CWX_BYTES_STORED);
    cwx_plan_free(plan);
    cwx_config_free(cfg);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_body),
    cmocka_unit_test(test_body_refuses),
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_parse_garbage),
    cmocka_unit_test(test_lane_model_incoming),
    cmocka_unit_test(test_window_bytes_from_metrics),
};

CWX_TEST_MAIN(tests)
