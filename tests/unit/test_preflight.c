/* preflight/: the doctor's bucket check when the bucket's name cannot be
 * made, and the policies of bucket-policy. No AWS: the checks tested here
 * are decided before any call. */
#include "testmain.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "preflight/preflight.h"
#include "preflight/preflight_internal.h"

static struct cwx_config *s_config(const char *yaml)
{
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err), 0);
    return cfg;
}

/* A bucket template that needs an account id nobody knows is said so, not
 * reported as "out of memory", and is not a permission failure. */
static void test_doctor_bucket_without_name(void **state)
{
    (void)state;
    struct cwx_config *cfg = s_config("version: 1\n"
                                      "defaults:\n"
                                      "  destination: {bucket: \"archive-{account_id}\"}\n"
                                      "range: {from: 2024-01, to: 2024-02}\n"
                                      "accounts:\n"
                                      "  - name: a\n"
                                      "    regions: [us-east-1]\n"
                                      "    log_groups: [{name: /g/one}]\n");
    struct cwx__doctor d = {.cfg = cfg};
    char why[256];
    assert_int_equal(cwx_plan_new(cfg, 1735689600000LL, &d.plan, why, sizeof why), 0);
    assert_int_equal(d.plan->n_targets, 1);
    assert_null(d.plan->targets[0].bucket);
    struct cwx__check checks[2] = {{.check = "bucket"}, {.check = "write"}};
    size_t bucket_of = 0, write_of = 1;
    d.checks = checks;
    d.n_checks = 2;
    d.bucket_of = &bucket_of;
    d.write_of = &write_of;
    cwx__doctor_start_bucket(&d, 0);
    assert_int_equal(checks[0].result, CWX_CHECK_FAIL);
    assert_int_equal(checks[0].permission, 0);
    assert_null(strstr(checks[0].detail, "out of memory"));
    assert_non_null(strstr(checks[0].detail, "no bucket name"));
    assert_non_null(strstr(checks[0].fix, "account_id"));
    assert_string_equal(checks[1].subject, "s3://?/_cwexport/");
    assert_int_equal(checks[1].result, CWX_CHECK_WAIT);
    cwx_plan_free(d.plan);
    cwx_config_free(cfg);
}

static const cJSON *s_item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    return v;
}

/* The identity policy names every statement in order, one set per
 * destination, with the key and the topic when the config has them. */
static void test_bucket_policy_identity(void **state)
{
    (void)state;
    struct cwx_config *cfg =
        s_config("version: 1\n"
                 "defaults:\n"
                 "  destination: {bucket: \"archive-{region}\",\n"
                 "                kms_key_arn: \"arn:aws:kms:us-east-1:123456789012:key/k\"}\n"
                 "range: {from: 2024-01, to: 2024-02}\n"
                 "notify: {sns_topic_arn: \"arn:aws:sns:us-east-1:123456789012:t\"}\n"
                 "accounts:\n"
                 "  - name: a\n"
                 "    account_id: \"123456789012\"\n"
                 "    regions: [us-east-1, eu-west-1]\n"
                 "    log_groups: [{name: /g/one}]\n");
    struct cwx_buf out;
    cwx_buf_init(&out, 0);
    assert_int_equal(cwx_preflight_bucket_policy(cfg, &out), 0);
    cJSON *doc = cJSON_Parse(out.ptr);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetArraySize(s_item(doc, "bucket_policies")), 2);
    assert_int_equal(cJSON_GetArraySize(s_item(doc, "key_policies")), 2);
    const cJSON *ids = s_item(doc, "identity_policies");
    assert_int_equal(cJSON_GetArraySize(ids), 1);
    const cJSON *st = s_item(s_item(cJSON_GetArrayItem(ids, 0), "policy"), "Statement");
    static const char *const sids[] = {
        "CwexportLogGroups", "CwexportExportTasks", "CwexportMetrics",  "CwexportList1",
        "CwexportMarkers1",  "CwexportKms1",        "CwexportList2",    "CwexportMarkers2",
        "CwexportKms2",      "CwexportNotify",
    };
    assert_int_equal(cJSON_GetArraySize(st), 10);
    for (int i = 0; i < 10; i++)
        assert_string_equal(s_item(cJSON_GetArrayItem(st, i), "Sid")->valuestring, sids[i]);
    const cJSON *notify = cJSON_GetArrayItem(st, 9);
    assert_string_equal(s_item(notify, "Action")->valuestring, "sns:Publish");
    assert_int_equal(cJSON_GetArraySize(s_item(cJSON_GetArrayItem(st, 0), "Action")), 3);
    assert_string_equal(s_item(cJSON_GetArrayItem(st, 2), "Action")->valuestring,
                        "cloudwatch:GetMetricData");
    assert_int_equal(cJSON_GetArraySize(s_item(cJSON_GetArrayItem(st, 4), "Action")), 3);
    cJSON_Delete(doc);
    cwx_buf_free(&out);
    cwx_config_free(cfg);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_doctor_bucket_without_name),
    cmocka_unit_test(test_bucket_policy_identity),
};

CWX_TEST_MAIN(tests)
