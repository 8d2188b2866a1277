/* Config v1 loader: parsed values, inheritance, the example configs, and one
 * case per malformed config asserting the exact one-line error with its
 * line and column. */
#include "testmain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "planner/config.h"

/* ---- helpers ------------------------------------------------------------ */

static struct cwx_config *s_load_ok(const char *yaml)
{
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    int rc = cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    if (rc) {
        char line[1200];
        cwx_config_error_format(&err, line, sizeof line);
        print_error("unexpected error: %s\n", line);
    }
    assert_int_equal(rc, 0);
    assert_non_null(cfg);
    return cfg;
}

static void s_check_bad(const char *yaml, const char *expected)
{
    struct cwx_config *cfg = (struct cwx_config *)1;
    struct cwx_config_error err;
    char line[1200];
    int rc = cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err);
    assert_int_equal(rc, CWX_ECONFIG);
    assert_null(cfg);
    cwx_config_error_format(&err, line, sizeof line);
    assert_null(strchr(line, '\n'));
    assert_string_equal(line, expected);
}

/* BAD(case, yaml, expected): the config yaml, loaded as "t.yaml", fails with
 * exactly the error line expected. */
#define BAD(name, yaml, expected)                                             \
    static void name(void **state)                                            \
    {                                                                         \
        (void)state;                                                          \
        s_check_bad(yaml, expected);                                          \
    }

/* The same with the environment variable var set to value meanwhile. */
#define BAD_ENV(name, var, value, yaml, expected)                             \
    static void name(void **state)                                            \
    {                                                                         \
        (void)state;                                                          \
        setenv(var, value, 1);                                                \
        s_check_bad(yaml, expected);                                          \
        unsetenv(var);                                                        \
    }

#define MINIMAL                                                               \
    "version: 1\n"                                                            \
    "defaults:\n"                                                             \
    "  region: us-east-1\n"                                                   \
    "  destination: {bucket: my-archive}\n"                                   \
    "range: {from: 2023-01}\n"                                                \
    "accounts:\n"                                                             \
    "  - name: prod\n"                                                        \
    "    log_groups:\n"                                                       \
    "      - name: /aws/lambda/api\n"

/* ---- good configs ----------------------------------------------------- */

static void good_minimal_gets_builtin_defaults(void **state)
{
    (void)state;
    struct cwx_config *cfg = s_load_ok(MINIMAL);
    assert_string_equal(cfg->path, "t.yaml");
    assert_int_equal(cfg->version, 1);
    assert_int_equal(cfg->n_accounts, 1);
    const struct cwx_account *a = &cfg->accounts[0];
    assert_string_equal(a->name, "prod");
    assert_null(a->account_id);
    assert_null(a->profile);
    assert_null(a->role_arn);
    assert_null(a->external_id);
    assert_int_equal(a->line, 7);
    assert_int_equal(a->col, 5);
    assert_int_equal(a->n_regions, 1);
    assert_string_equal(a->regions[0], "us-east-1");
    const struct cwx_settings *s = &a->settings;
    assert_string_equal(s->region, "us-east-1");
    assert_string_equal(s->timezone, "UTC");
    assert_int_equal(s->window, CWX_WINDOW_MONTH);
    assert_int_equal(s->settle_ms, 12 * 3600 * 1000);
    assert_string_equal(s->destination.bucket, "my-archive");
    assert_string_equal(s->destination.prefix,
                        "{account_id}/{region}/{log_group}/{window}");
    assert_string_equal(s->destination.state_prefix, "_cwexport");
    assert_int_equal(s->destination.detect, CWX_DETECT_MARKER);
    assert_null(s->destination.kms_key_arn);
    assert_int_equal(s->poll_min_ms, 5000);
    assert_int_equal(s->poll_max_ms, 60000);
    assert_int_equal(s->max_attempts, 3);
    assert_int_equal(s->token_scope, CWX_SCOPE_ACCOUNT);
    assert_int_equal(s->max_creates_per_job, 6);
    assert_int_equal(s->max_creates_per_run, 0);
    assert_true(s->api_rate == 5.0);
    assert_false(s->lease_off); /* the lane lease is on by default */
    assert_int_equal(s->lease_ttl_ms, 120000);
    assert_null(s->lease_bucket);
    assert_int_equal(a->n_groups, 1);
    const struct cwx_group_sel *g = &a->groups[0];
    assert_int_equal(g->kind, CWX_GROUP_NAME);
    assert_string_equal(g->value, "/aws/lambda/api");
    assert_int_equal(g->n_exclude, 0);
    assert_null(g->log_stream_prefix);
    assert_int_equal(g->line, 9);
    assert_int_equal(g->col, 9);
    assert_false(g->range.is_last);
    assert_int_equal(g->range.from.year, 2023);
    assert_int_equal(g->range.from.month, 1);
    assert_int_equal(g->range.from.written, CWX_WINDOW_MONTH);
    assert_true(g->range.to_latest);
    assert_null(cfg->sns_topic_arn);
    assert_int_equal(cfg->notify_on,
                     CWX_NOTIFY_FAILURE | CWX_NOTIFY_LOOP_GUARD);
    cwx_config_free(cfg);
}

static void good_inheritance_defaults_account_group(void **state)
{
    (void)state;
    struct cwx_config *cfg = s_load_ok(
        "version: 1\n"
        "defaults:\n"
        "  region: us-east-1\n"
        "  timezone: Asia/Tokyo\n"
        "  window: day\n"
        "  settle: 2d\n"
        "  destination:\n"
        "    bucket: \"archive-{account_id}-{region}\"\n"
        "    prefix: \"{account}/{log_group}/{window}\"\n"
        "    state_prefix: state/markers/\n"
        "    kms_key_arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab\n"
        "  poll: {min: 1s, max: 30s}\n"
        "  max_attempts: 4\n"
        "  token_scope: region\n"
        "  loop_guard: {max_creates_per_job: 4, max_creates_per_run: 500}\n"
        "  api_rate: 2.5\n"
        "  outage: {pause: 10m}\n"
        "  lease: {ttl: 30s, bucket: \"locks-{account_id}\"}\n"
        "range: {last: 3}\n"
        "accounts:\n"
        "  - name: prod\n"
        "    account_id: \"123456789012\"\n"
        "    profile: prod\n"
        "    regions: [us-east-1, eu-west-1]\n"
        "    window: hour\n"
        "    destination: {detect: objects}\n"
        "    poll: {max: 2m}\n"
        "    loop_guard: {max_creates_per_run: 7}\n"
        "    outage: {pauses: 0}\n"
        "    lease: off\n"
        "    range: {from: 2024-03-07T05, to: 2024-03-08}\n"
        "    log_groups:\n"
        "      - prefix: /aws/ecs/\n"
        "        exclude: [\"/aws/ecs/test-*\", \"*canary*\"]\n"
        "      - pattern: payments\n"
        "        range: {from: 2024-W10}\n"
        "        log_stream_prefix: web-\n"
        "      - name: /app/audit\n"
        "  - name: staging.eu_2\n"
        "    account_id: 210987654321\n"
        "    role_arn: arn:aws-cn:iam::210987654321:role/path/to/cwexport\n"
        "    external_id: ext-id:42\n"
        "    region: eu-central-1\n"
        "    token_scope: account\n"
        "    destination:\n"
        "      bucket: other-bucket\n"
        "    log_groups:\n"
        "      - name: /x\n");
    assert_int_equal(cfg->n_accounts, 2);
    /* The defaults themselves. */
    assert_int_equal(cfg->defaults.window, CWX_WINDOW_DAY);
    assert_true(cfg->defaults.range.is_last);
    assert_int_equal(cfg->defaults.range.last, 3);

    const struct cwx_account *a = &cfg->accounts[0];
    const struct cwx_settings *s = &a->settings;
    assert_string_equal(a->account_id, "123456789012");
    assert_string_equal(a->profile, "prod");
    assert_int_equal(a->n_regions, 2);
    assert_string_equal(a->regions[0], "us-east-1");
    assert_string_equal(a->regions[1], "eu-west-1");
    assert_string_equal(s->timezone, "Asia/Tokyo");
    assert_int_equal(s->window, CWX_WINDOW_HOUR);
    assert_int_equal(s->settle_ms, 2 * 86400 * 1000);
    /* destination: detect overridden, the other keys inherited. */
    assert_int_equal(s->destination.detect, CWX_DETECT_OBJECTS);
    assert_string_equal(s->destination.bucket, "archive-{account_id}-{region}");
    assert_string_equal(s->destination.prefix, "{account}/{log_group}/{window}");
    assert_string_equal(s->destination.state_prefix, "state/markers");
    assert_string_equal(s->destination.kms_key_arn,
                        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab");
    /* poll and loop_guard: key by key too. */
    assert_int_equal(s->poll_min_ms, 1000);
    assert_int_equal(s->poll_max_ms, 120000);
    assert_int_equal(s->max_creates_per_job, 4);
    assert_int_equal(s->max_creates_per_run, 7);
    assert_int_equal(s->max_attempts, 4);
    assert_int_equal(s->token_scope, CWX_SCOPE_REGION);
    assert_true(s->api_rate == 2.5);
    /* outage: key by key as well. */
    assert_int_equal(s->outage_pause_ms, 600000);
    assert_int_equal(s->outage_pauses, 0);
    assert_int_equal(cfg->accounts[1].settings.outage_pauses, 3);
    assert_int_equal(cfg->accounts[1].settings.outage_pause_ms, 600000);
    /* lease: off in one account, the defaults' mapping inherited in the other. */
    assert_true(s->lease_off);
    assert_false(cfg->accounts[1].settings.lease_off);
    assert_int_equal(cfg->accounts[1].settings.lease_ttl_ms, 30000);
    assert_string_equal(cfg->accounts[1].settings.lease_bucket, "locks-{account_id}");
    /* The account's range replaces the default one... */
    assert_false(s->range.is_last);
    assert_int_equal(s->range.from.hour, 5);
    assert_int_equal(s->range.from.written, CWX_WINDOW_HOUR);
    assert_false(s->range.to_latest);
    assert_int_equal(s->range.to.day, 8);
    assert_int_equal(a->n_groups, 3);
    const struct cwx_group_sel *g = a->groups;
    assert_int_equal(g[0].kind, CWX_GROUP_PREFIX);
    assert_string_equal(g[0].value, "/aws/ecs/");
    assert_int_equal(g[0].n_exclude, 2);
    assert_string_equal(g[0].exclude[0], "/aws/ecs/test-*");
    assert_string_equal(g[0].exclude[1], "*canary*");
    assert_int_equal(g[0].range.from.day, 7);
    assert_false(g[0].range.to_latest);
    /* ...and a group's range replaces the account's; no `to` = latest. */
    assert_int_equal(g[1].kind, CWX_GROUP_PATTERN);
    assert_string_equal(g[1].value, "payments");
    assert_string_equal(g[1].log_stream_prefix, "web-");
    assert_int_equal(g[1].range.from.written, CWX_WINDOW_WEEK);
    assert_int_equal(g[1].range.from.year, 2024);
    assert_int_equal(g[1].range.from.month, 3);
    assert_int_equal(g[1].range.from.day, 4);
    assert_true(g[1].range.to_latest);
    assert_int_equal(g[2].kind, CWX_GROUP_NAME);
    assert_int_equal(g[2].range.from.hour, 5);

    const struct cwx_account *b = &cfg->accounts[1];
    s = &b->settings;
    assert_string_equal(b->name, "staging.eu_2");
    assert_string_equal(b->account_id, "210987654321");
    assert_null(b->profile);
    assert_string_equal(b->role_arn,
                        "arn:aws-cn:iam::210987654321:role/path/to/cwexport");
    assert_string_equal(b->external_id, "ext-id:42");
    assert_int_equal(b->n_regions, 1);
    assert_string_equal(b->regions[0], "eu-central-1");
    assert_int_equal(s->window, CWX_WINDOW_DAY);
    assert_int_equal(s->token_scope, CWX_SCOPE_ACCOUNT);
    assert_string_equal(s->destination.bucket, "other-bucket");
    assert_string_equal(s->destination.prefix, "{account}/{log_group}/{window}");
    assert_int_equal(s->destination.detect, CWX_DETECT_MARKER);
    assert_int_equal(s->poll_max_ms, 30000);
    assert_int_equal(s->max_creates_per_run, 500);
    assert_true(b->groups[0].range.is_last);
    assert_int_equal(b->groups[0].range.last, 3);
    cwx_config_free(cfg);
}

static void good_env_expansion(void **state)
{
    (void)state;
    setenv("CWX_TEST_BUCKET", "env-bucket", 1);
    setenv("CWX_TEST_ACCOUNT", "123456789012", 1);
    setenv("CWX_TEST_EMPTY", "", 1);
    struct cwx_config *cfg = s_load_ok(
        "version: ${CWX_TEST_EMPTY}1\n"
        "defaults:\n"
        "  region: us-east-1\n"
        "  destination: {bucket: \"${CWX_TEST_BUCKET}\"}\n"
        "range: {last: 1}\n"
        "accounts:\n"
        "  - name: prod-${CWX_TEST_ACCOUNT}\n"
        "    account_id: ${CWX_TEST_ACCOUNT}\n"
        "    log_groups:\n"
        "      - name: /a\n"
        "        log_stream_prefix: \"$${literal}-$$-${CWX_TEST_BUCKET}$\"\n");
    assert_string_equal(cfg->accounts[0].settings.destination.bucket,
                        "env-bucket");
    assert_string_equal(cfg->accounts[0].name, "prod-123456789012");
    assert_string_equal(cfg->accounts[0].account_id, "123456789012");
    assert_string_equal(cfg->accounts[0].groups[0].log_stream_prefix,
                        "${literal}-$$-env-bucket$");
    cwx_config_free(cfg);
    unsetenv("CWX_TEST_BUCKET");
    unsetenv("CWX_TEST_ACCOUNT");
    unsetenv("CWX_TEST_EMPTY");
}

static void good_notify_and_flow_style(void **state)
{
    (void)state;
    struct cwx_config *cfg = s_load_ok(
        "{version: 1, defaults: {region: eu-west-1, destination: {bucket: b.c-d}},\n"
        " range: {from: 2022-01, to: latest},\n"
        " notify: {sns_topic_arn: \"arn:aws:sns:eu-west-1:123456789012:t.fifo\",\n"
        "          on: [done, failure]},\n"
        " accounts: [{name: a, log_groups: [{name: /a}]}]}\n");
    assert_string_equal(cfg->sns_topic_arn,
                        "arn:aws:sns:eu-west-1:123456789012:t.fifo");
    assert_int_equal(cfg->notify_on, CWX_NOTIFY_DONE | CWX_NOTIFY_FAILURE);
    assert_true(cfg->accounts[0].groups[0].range.to_latest);
    cwx_config_free(cfg);
}

static void good_anchors_and_aliases(void **state)
{
    (void)state;
    struct cwx_config *cfg = s_load_ok(
        "version: 1\n"
        "defaults: {region: us-east-1, destination: {bucket: my-archive}}\n"
        "range: {last: 2}\n"
        "accounts:\n"
        "  - name: a\n"
        "    log_groups: &groups\n"
        "      - prefix: /aws/\n"
        "        exclude: [/aws/x*]\n"
        "  - name: b\n"
        "    log_groups: *groups\n");
    assert_int_equal(cfg->accounts[1].n_groups, 1);
    assert_string_equal(cfg->accounts[1].groups[0].exclude[0], "/aws/x*");
    cwx_config_free(cfg);
}

static void good_example_configs(void **state)
{
    (void)state;
    static const char *const names[] = {"configs/demo.yaml",
                                        "configs/backfill.yaml",
                                        "configs/nightly.yaml"};
    for (size_t i = 0; i < 3; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", CWX_SOURCE_DIR, names[i]);
        struct cwx_config *cfg = NULL;
        struct cwx_config_error err;
        int rc = cwx_config_load(path, &cfg, &err);
        if (rc) {
            char line[1200];
            cwx_config_error_format(&err, line, sizeof line);
            print_error("%s\n", line);
        }
        assert_int_equal(rc, 0);
        cwx_config_free(cfg);
    }
}

static void good_demo_config_values(void **state)
{
    (void)state;
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load(CWX_SOURCE_DIR "/configs/demo.yaml", &cfg,
                                     &err),
                     0);
    assert_int_equal(cfg->n_accounts, 2);
    const struct cwx_account *a = &cfg->accounts[0], *b = &cfg->accounts[1];
    assert_string_equal(a->name, "demo-main");
    assert_string_equal(a->account_id, "111111111111");
    assert_null(a->profile);
    assert_null(a->role_arn);
    assert_string_equal(b->name, "demo-second");
    assert_string_equal(b->account_id, "222222222222");
    assert_string_equal(b->role_arn,
                        "arn:aws:iam::222222222222:role/cwexport-demo");
    for (int i = 0; i < 2; i++) {
        const struct cwx_account *x = &cfg->accounts[i];
        assert_int_equal(x->n_regions, 2);
        assert_string_equal(x->regions[0], "us-east-1");
        assert_string_equal(x->regions[1], "eu-west-1");
        assert_int_equal(x->settings.poll_min_ms, 250);
        assert_int_equal(x->settings.poll_max_ms, 2000);
        assert_true(x->settings.api_rate == 50.0);
        assert_true(x->groups[0].range.is_last);
        assert_int_equal(x->groups[0].range.last, 6);
        char bucket[64];
        assert_int_equal(cwx_config_bucket_name(x->settings.destination.bucket,
                                                x->account_id, x->regions[1],
                                                bucket, sizeof bucket, NULL),
                         0);
        char want[64];
        snprintf(want, sizeof want, "cwexport-demo-%s-eu-west-1",
                 x->account_id);
        assert_string_equal(bucket, want);
    }
    cwx_config_free(cfg);
}

static void good_file_fixture_and_missing_file(void **state)
{
    (void)state;
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    char line[1200];
    assert_int_equal(
        cwx_config_load("tests/data/configs/good-minimal.yaml", &cfg, &err), 0);
    assert_string_equal(cfg->path, "tests/data/configs/good-minimal.yaml");
    cwx_config_free(cfg);

    assert_int_equal(
        cwx_config_load("tests/data/configs/bad-settle.yaml", &cfg, &err),
        CWX_ECONFIG);
    assert_null(cfg);
    cwx_config_error_format(&err, line, sizeof line);
    assert_string_equal(line,
                        "tests/data/configs/bad-settle.yaml:5:11: error: "
                        "expected a duration like 250ms, 30s, 5m, 12h or 2d, "
                        "found \"12x\"");

    assert_int_equal(cwx_config_load("tests/data/configs/no-such.yaml", &cfg,
                                     &err),
                     CWX_EIO);
    assert_null(cfg);
    cwx_config_error_format(&err, line, sizeof line);
    assert_string_equal(line, "tests/data/configs/no-such.yaml: error: cannot "
                              "read the config file: No such file or "
                              "directory");
}

static void good_duration_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(cwx_duration_parse("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(cwx_duration_parse("30s", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(cwx_duration_parse("5m", &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(cwx_duration_parse("12h", &ms), 0);
    assert_int_equal(ms, 43200000);
    assert_int_equal(cwx_duration_parse("2d", &ms), 0);
    assert_int_equal(ms, 172800000);
    assert_int_equal(cwx_duration_parse("0s", &ms), 0);
    assert_int_equal(ms, 0);
    static const char *const bad[] = {"", "s", "12", "12x", "-5s", "1.5h",
                                      "5 s", "5S", "1h30m", "9999999999999d",
                                      NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(cwx_duration_parse(bad[i], &ms), CWX_EINVAL);
    assert_int_equal(cwx_duration_parse(NULL, &ms), CWX_EINVAL);
}

static void good_bucket_names(void **state)
{
    (void)state;
    char out[64];
    const char *why;
    assert_int_equal(cwx_config_bucket_name("logs-{account_id}-{region}",
                                            "123456789012", "us-west-2", out,
                                            sizeof out, &why),
                     0);
    assert_string_equal(out, "logs-123456789012-us-west-2");
    assert_int_equal(cwx_config_bucket_name("plain.bucket", NULL, NULL, out,
                                            sizeof out, &why),
                     0);
    assert_string_equal(out, "plain.bucket");
    assert_int_equal(cwx_config_bucket_name("logs-{account_id}", NULL,
                                            "us-east-1", out, sizeof out, &why),
                     CWX_ENOTFOUND);
    static const char *const bad[] = {"ab", "-abc", "abc-", "a..b", "a_b",
                                      "ABC", "10.0.0.1", "xn--abc",
                                      "abc-s3alias", "abc--ol-s3",
                                      "logs-{acct}", "a.-b", NULL};
    for (size_t i = 0; bad[i]; i++) {
        why = NULL;
        assert_int_equal(cwx_config_bucket_name(bad[i], "123456789012",
                                                "us-east-1", out, sizeof out,
                                                &why),
                         CWX_EINVAL);
        assert_non_null(why);
    }
}

static void good_error_format(void **state)
{
    (void)state;
    struct cwx_config_error err = {.file = "x.yaml", .line = 3, .col = 7,
                                   .msg = "expected this, found that"};
    char buf[128];
    cwx_config_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "x.yaml:3:7: error: expected this, found that");
    err.line = err.col = 0;
    cwx_config_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "x.yaml: error: expected this, found that");
    cwx_config_error_format(&err, buf, 5);
    assert_string_equal(buf, "x.ya");
}

/* The template checker's phrases belong to planner/job.c: only the start of
 * the line and the position are asserted here. */
static void bad_prefix_template_points_into_the_value(void **state)
{
    (void)state;
    const char *yaml = "version: 1\n"
                       "defaults:\n"
                       "  destination:\n"
                       "    prefix: \"{account_id}/{acount}/x\"\n";
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    char line[1200];
    assert_int_equal(
        cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err),
        CWX_ECONFIG);
    cwx_config_error_format(&err, line, sizeof line);
    static const char want[] =
        "t.yaml:4:27: error: expected a destination prefix template like "
        "{account_id}/{region}/{log_group}/{window}, found "
        "\"{account_id}/{acount}/x\": ";
    assert_true(strncmp(line, want, sizeof want - 1) == 0);
}

static void bad_prefix_template_leading_slash(void **state)
{
    (void)state;
    const char *yaml = "version: 1\n"
                       "defaults:\n"
                       "  destination:\n"
                       "    prefix: \"/x/{window}\"\n";
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    char line[1200];
    assert_int_equal(
        cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err),
        CWX_ECONFIG);
    cwx_config_error_format(&err, line, sizeof line);
    static const char want[] =
        "t.yaml:4:14: error: expected a destination prefix template";
    assert_true(strncmp(line, want, sizeof want - 1) == 0);
}

/* Every truncation of a valid config either loads or fails cleanly. Under
 * ASan this proves no error path leaks or reads out of bounds. */
static void bad_every_truncation_fails_cleanly(void **state)
{
    (void)state;
    static const char yaml[] = MINIMAL
        "notify: {sns_topic_arn: \"arn:aws:sns:us-east-1:123456789012:t\"}\n";
    for (size_t len = 0; len < sizeof yaml - 1; len++) {
        struct cwx_config *cfg = NULL;
        struct cwx_config_error err;
        int rc = cwx_config_load_string("t.yaml", yaml, len, &cfg, &err);
        if (rc) {
            assert_null(cfg);
            assert_true(err.msg[0] != '\0');
        } else {
            cwx_config_free(cfg);
        }
    }
}

static void good_fewest_tasks_settings(void **state)
{
    (void)state;
    static const char yaml[] =
        "version: 1\n"
        "defaults:\n"
        "  region: us-east-1\n"
        "  destination: {bucket: my-archive}\n"
        "  coalesce: {max_windows: 6}\n"
        "range: {from: 2023-01}\n"
        "accounts:\n"
        "  - name: a\n"
        "    skip_empty: {max_pages: 3, api_rate: 2.5}\n"
        "    log_groups:\n"
        "      - name: /x\n"
        "      - name: /y\n"
        "        coalesce: {max_bytes: 500MiB}\n"
        "      - name: /z\n"
        "        coalesce: off\n"
        "  - name: b\n"
        "    skip_empty: off\n"
        "    coalesce: off\n"
        "    log_groups:\n"
        "      - name: /x\n";
    struct cwx_config *cfg = NULL;
    struct cwx_config_error err;
    assert_int_equal(cwx_config_load_string("t.yaml", yaml, strlen(yaml), &cfg, &err), 0);
    const struct cwx_account *a = &cfg->accounts[0], *b = &cfg->accounts[1];
    assert_int_equal(cfg->defaults.skip_empty, CWX_SKIP_EMPTY_STREAMS);
    assert_int_equal(cfg->defaults.skip_empty_max_pages, 200);
    assert_int_equal(a->settings.skip_empty, CWX_SKIP_EMPTY_STREAMS);
    assert_int_equal(a->settings.skip_empty_max_pages, 3);
    assert_true(a->settings.skip_empty_api_rate == 2.5);
    assert_int_equal(b->settings.skip_empty, CWX_SKIP_EMPTY_OFF);
    assert_int_equal(a->groups[0].coalesce.max_windows, 6);
    assert_int_equal(a->groups[0].coalesce.max_bytes, 1024LL * 1024 * 1024);
    assert_int_equal(a->groups[1].coalesce.max_windows, 12);
    assert_int_equal(a->groups[1].coalesce.max_bytes, 500LL * 1024 * 1024);
    assert_int_equal(a->groups[2].coalesce.max_windows, 0);
    assert_int_equal(b->groups[0].coalesce.max_windows, 0);
    cwx_config_free(cfg);
}

/* ---- malformed configs: one case each ------------------------------------ */

BAD(bad_duration,
    "version: 1\n"
    "defaults:\n"
    "  settle: 12x\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:3:11: error: expected a duration like 250ms, 30s, 5m, 12h or 2d, found \"12x\"")

BAD(bad_version_missing,
    "defaults:\n"
    "  region: us-east-1\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:1:1: error: expected \"version: 1\" at the top level, found no version")

BAD(bad_version_two,
    "version: 2\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:1:10: error: expected version 1, found \"2\"")

BAD(bad_top_not_mapping,
    "- version: 1\n",
    "t.yaml:1:1: error: expected a mapping with \"version: 1\" at the top level, found a list")

BAD(bad_empty_document,
    "# nothing here\n",
    "t.yaml:1:1: error: expected a mapping with \"version: 1\" at the top level, found an empty document")

BAD(bad_yaml_unclosed_flow,
    "version: 1\n"
    "accounts: [a, b\n",
    "t.yaml:3:1: error: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at 2:11)")

BAD(bad_yaml_tab_indent,
    "version: 1\n"
    "defaults:\n"
    "\tregion: us-east-1\n",
    "t.yaml:3:1: error: invalid YAML: found character that cannot start any token (while scanning for the next token at 3:1)")

BAD(bad_yaml_bad_indent,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "   window: day\n",
    "t.yaml:4:10: error: invalid YAML: mapping values are not allowed in this context")

BAD(bad_second_document,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n"
    "---\n"
    "version: 1\n",
    "t.yaml:11:1: error: expected one YAML document, found a second one")

BAD(bad_unknown_key_did_you_mean,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    regoin: us-east-2\n",
    "t.yaml:8:5: error: unknown key \"regoin\" in account, did you mean \"region\"?")

BAD(bad_unknown_key_listed,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bukkit_name: x\n",
    "t.yaml:4:5: error: unknown key \"bukkit_name\" in destination, expected one of: bucket, prefix, state_prefix, detect, kms_key_arn, "
                "expected_bucket_owner")

BAD(bad_unknown_top_key,
    "version: 1\n"
    "acounts: []\n",
    "t.yaml:2:1: error: unknown key \"acounts\" at the top level, did you mean \"accounts\"?")

BAD(bad_range_in_defaults,
    "version: 1\n"
    "defaults:\n"
    "  range: {last: 3}\n",
    "t.yaml:3:3: error: unknown key \"range\" in defaults: the default range is a top-level \"range\"")

BAD(bad_duplicate_key,
    "version: 1\n"
    "defaults:\n"
    "  window: day\n"
    "  settle: 1h\n"
    "  window: week\n",
    "t.yaml:5:3: error: duplicate key \"window\" in defaults (first at 3:3)")

BAD(bad_secret_key,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    aws_secret_access_key: abc\n",
    "t.yaml:8:5: error: expected no credentials in the config, found secret key \"aws_secret_access_key\": config files cannot carry secret keys; use a profile, role or the environment")

BAD(bad_secret_key_nested,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bucket: b\n"
    "    Password: hunter2\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:5:5: error: expected no credentials in the config, found secret key \"Password\": config files cannot carry secret keys; use a profile, role or the environment")

BAD(bad_accounts_empty,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts: []\n",
    "t.yaml:6:11: error: expected a non-empty list of accounts, found an empty list")

BAD(bad_accounts_missing,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n",
    "t.yaml:1:1: error: expected \"accounts\" at the top level, found none")

BAD(bad_accounts_not_list,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  prod: {}\n",
    "t.yaml:7:3: error: expected a non-empty list of accounts, found a mapping")

BAD(bad_account_not_mapping,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - prod\n",
    "t.yaml:7:5: error: expected a mapping for an account, found \"prod\"")

BAD(bad_account_name_missing,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - region: us-east-1\n"
    "    log_groups: [{name: /a}]\n",
    "t.yaml:7:5: error: expected a \"name\" in account, found none")

BAD(bad_account_name_chars,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod main\n",
    "t.yaml:7:11: error: expected an account name of letters, digits, '_', '.' and '-', found \"prod main\"")

BAD(bad_account_name_duplicate,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n"
    "  - name: prod\n"
    "    log_groups: [{name: /b}]\n",
    "t.yaml:10:11: error: expected a unique account name, found \"prod\" again (first in the account at 7:5)")

BAD(bad_account_id_short,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    account_id: 12345\n",
    "t.yaml:8:17: error: expected a 12-digit account ID like \"123456789012\", found \"12345\"")

BAD(bad_profile_and_role,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    profile: prod\n"
    "    role_arn: arn:aws:iam::123456789012:role/x\n",
    "t.yaml:9:5: error: expected either \"profile\" or \"role_arn\" in account, found both")

BAD(bad_role_arn,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    role_arn: arn:aws:iam::12345:role/x\n",
    "t.yaml:8:15: error: expected a role ARN like arn:aws:iam::123456789012:role/name, found \"arn:aws:iam::12345:role/x\"")

BAD(bad_external_id_without_role,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    profile: prod\n"
    "    external_id: xyz\n",
    "t.yaml:9:5: error: expected \"external_id\" only with \"role_arn\", found no role_arn in this account")

BAD(bad_region_shape,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    regions: [us-east-1, US-West-2]\n",
    "t.yaml:8:26: error: expected a region name like us-east-1, found \"US-West-2\"")

BAD(bad_regions_empty,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    regions: []\n",
    "t.yaml:8:14: error: expected a non-empty list of regions like [us-east-1], found an empty list")

BAD(bad_regions_duplicate,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    regions: [eu-west-1, us-east-1, eu-west-1]\n",
    "t.yaml:8:37: error: expected each region once in regions, found \"eu-west-1\" again (first at 8:15)")

BAD(bad_region_and_regions,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    regions: [eu-west-1]\n"
    "    region: us-east-1\n",
    "t.yaml:9:5: error: expected either \"regions\" or \"region\" in account, found both")

BAD(bad_no_region,
    "version: 1\n"
    "defaults:\n"
    "  destination: {bucket: my-archive}\n"
    "range: {last: 1}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:6:5: error: expected \"regions\" or \"region\" in account \"prod\" or \"region\" in defaults, found no region")

BAD(bad_timezone_unknown,
    "version: 1\n"
    "defaults:\n"
    "  timezone: Mars/Olympus_Mons\n",
    "t.yaml:3:13: error: expected an IANA time zone like UTC or Europe/Paris, found \"Mars/Olympus_Mons\"")

BAD(bad_timezone_traversal,
    "version: 1\n"
    "defaults:\n"
    "  timezone: ../../etc/passwd\n",
    "t.yaml:3:13: error: expected an IANA time zone like UTC or Europe/Paris, found \"../../etc/passwd\"")

BAD(bad_window,
    "version: 1\n"
    "defaults:\n"
    "  window: year\n",
    "t.yaml:3:11: error: expected window: month, week, day or hour, found \"year\"")

BAD(bad_poll_min_above_max,
    "version: 1\n"
    "defaults:\n"
    "  poll: {min: 10s, max: 5s}\n",
    "t.yaml:3:9: error: expected poll.min <= poll.max, found min 10s and max 5s")

BAD(bad_poll_account_max_below_default_min,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    poll:\n"
    "      max: 2s\n",
    "t.yaml:9:7: error: expected poll.min <= poll.max, found min 5s and max 2s")

BAD(bad_poll_too_small,
    "version: 1\n"
    "defaults:\n"
    "  poll: {min: 5ms}\n",
    "t.yaml:3:15: error: expected poll.min of at least 10ms, found \"5ms\"")

BAD(bad_poll_not_mapping,
    "version: 1\n"
    "defaults:\n"
    "  poll: 5s\n",
    "t.yaml:3:9: error: expected a mapping for \"poll\" like {min: 5s, max: 60s}, found \"5s\"")

BAD(bad_bucket_uppercase,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bucket: My_Archive\n",
    "t.yaml:4:13: error: expected an S3 bucket name (placeholders {account_id} and {region} allowed), found \"My_Archive\": a bucket name has only lowercase letters, digits, '.' and '-'")

BAD(bad_bucket_ip,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bucket: 192.168.10.20\n",
    "t.yaml:4:13: error: expected an S3 bucket name (placeholders {account_id} and {region} allowed), found \"192.168.10.20\": a bucket name is not an IP address")

BAD(bad_bucket_placeholder,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bucket: \"logs-{account}\"\n",
    "t.yaml:4:13: error: expected an S3 bucket name (placeholders {account_id} and {region} allowed), found \"logs-{account}\": only {account_id} and {region} may appear in braces")

BAD(bad_bucket_missing,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "range: {last: 1}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:6:5: error: expected destination.bucket in account \"prod\" or in defaults, found no bucket")

BAD(bad_bucket_expands_too_long,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bucket: \"archive-of-all-the-cloudwatch-logs-xyz-{account_id}-{region}\"\n"
    "range: {last: 1}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    account_id: \"123456789012\"\n"
    "    regions: [us-east-1, ap-southeast-4]\n"
    "    log_groups: [{name: /a}]\n",
    "t.yaml:4:13: error: expected an S3 bucket name for account \"prod\" in ap-southeast-4, found \"archive-of-all-the-cloudwatch-logs-xyz-{account_id}-{region}\": a bucket name has 3 to 63 characters")

BAD(bad_detect,
    "version: 1\n"
    "defaults:\n"
    "  destination: {detect: object}\n",
    "t.yaml:3:25: error: expected detect: marker or objects, found \"object\"")

BAD(bad_state_prefix,
    "version: 1\n"
    "defaults:\n"
    "  destination: {state_prefix: a/../b}\n",
    "t.yaml:3:31: error: expected a key prefix like _cwexport (letters, digits and !_.*'()-/; no leading \"/\", no \".\" or \"..\" segment), found \"a/../b\"")

BAD(bad_kms_key_arn,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    kms_key_arn: arn:aws:kms:us-east-1:123456789012:secret/x\n",
    "t.yaml:4:18: error: expected a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<id> or .../alias/<name>, found \"arn:aws:kms:us-east-1:123456789012:secret/x\"")

BAD(bad_max_attempts,
    "version: 1\n"
    "defaults:\n"
    "  max_attempts: 25\n",
    "t.yaml:3:17: error: expected max_attempts as a whole number from 1 to 20, found \"25\"")

BAD(bad_max_attempts_not_number,
    "version: 1\n"
    "defaults:\n"
    "  max_attempts: three\n",
    "t.yaml:3:17: error: expected max_attempts as a whole number from 1 to 20, found \"three\"")

BAD(bad_token_scope,
    "version: 1\n"
    "defaults:\n"
    "  token_scope: global\n",
    "t.yaml:3:16: error: expected token_scope: account or region, found \"global\"")

BAD(bad_api_rate,
    "version: 1\n"
    "defaults:\n"
    "  api_rate: 0\n",
    "t.yaml:3:13: error: expected api_rate as calls per second, a number above 0 and at most 10000, found \"0\"")

BAD(bad_loop_guard,
    "version: 1\n"
    "defaults:\n"
    "  loop_guard: {max_creates_per_job: 0}\n",
    "t.yaml:3:37: error: expected max_creates_per_job as a whole number from 1 to 100, found \"0\"")

BAD(bad_lease_ttl,
    "version: 1\n"
    "defaults:\n"
    "  lease: {ttl: 500ms}\n",
    "t.yaml:3:16: error: expected lease.ttl from 1s to 1h, found \"500ms\"")

BAD(bad_lease_word,
    "version: 1\n"
    "defaults:\n"
    "  lease: sometimes\n",
    "t.yaml:3:10: error: expected lease: off, on, or a mapping like {ttl: 2m, bucket: NAME}, found \"sometimes\"")

BAD(bad_skip_empty,
    "version: 1\n"
    "defaults:\n"
    "  skip_empty: metrics\n",
    "t.yaml:3:15: error: expected skip_empty: streams, off, or a mapping like {mode: streams, max_pages: 200}, found \"metrics\"")

BAD(bad_coalesce_size,
    "version: 1\n"
    "defaults:\n"
    "  coalesce: {max_bytes: 1.5GB}\n",
    "t.yaml:3:25: error: expected a size like 1GiB, 500MB, 64MiB or 1048576 (bytes), from 1 to 1TiB, found \"1.5GB\"")

BAD(bad_outage_pauses,
    "version: 1\n"
    "defaults:\n"
    "  outage: {pauses: 101}\n",
    "t.yaml:3:20: error: expected outage.pauses as a whole number from 0 to 100, found \"101\"")

BAD(bad_outage_pause,
    "version: 1\n"
    "defaults:\n"
    "  outage:\n"
    "    pause: 2d\n",
    "t.yaml:4:12: error: expected outage.pause from 10ms to 24h, found \"2d\"")

BAD(bad_outage_key,
    "version: 1\n"
    "defaults:\n"
    "  outage: {pause: 1m, pauzes: 2}\n",
    "t.yaml:3:23: error: unknown key \"pauzes\" in outage, did you mean \"pauses\"?")

BAD(bad_group_no_kind,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - range: {last: 2}\n",
    "t.yaml:9:9: error: expected one of \"name\", \"prefix\" or \"pattern\" in log group, found none")

BAD(bad_group_two_kinds,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /a\n"
    "        prefix: /b\n",
    "t.yaml:10:9: error: expected one of \"name\", \"prefix\" or \"pattern\" in log group, found both \"name\" and \"prefix\"")

BAD(bad_group_name_chars,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api*\n",
    "t.yaml:9:15: error: expected a log group name of 1-512 characters from A-Z a-z 0-9 . - _ / #, found \"/aws/lambda/api*\"")

BAD(bad_group_not_mapping,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - /aws/lambda/api\n",
    "t.yaml:9:9: error: expected a mapping for a log group (with name, prefix or pattern), found \"/aws/lambda/api\"")

BAD(bad_log_groups_empty,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups: []\n",
    "t.yaml:8:17: error: expected a non-empty list of log groups (name, prefix or pattern), found an empty list")

BAD(bad_log_groups_missing,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n",
    "t.yaml:7:5: error: expected \"log_groups\" in account \"prod\", found none")

BAD(bad_exclude_with_name,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /a\n"
    "        exclude: [\"/a/*\"]\n",
    "t.yaml:10:9: error: expected \"exclude\" only with \"prefix\" or \"pattern\", found it with \"name\"")

BAD(bad_exclude_not_list,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - prefix: /a\n"
    "        exclude: /a/test-*\n",
    "t.yaml:10:18: error: expected a list of log group name globs, found \"/a/test-*\"")

BAD(bad_log_stream_prefix,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /a\n"
    "        log_stream_prefix: \"web:1\"\n",
    "t.yaml:10:28: error: expected a log stream name prefix of 1-512 characters without ':' or '*', found \"web:1\"")

BAD(bad_range_last_and_from,
    "version: 1\n"
    "range:\n"
    "  from: 2024-01\n"
    "  last: 3\n",
    "t.yaml:4:3: error: expected either \"last\" or \"from\"/\"to\" in range, found both")

BAD(bad_range_last_zero,
    "version: 1\n"
    "range: {last: 0}\n",
    "t.yaml:2:15: error: expected \"last\" as a number of windows from 1 to 10000, found \"0\"")

BAD(bad_range_from_after_to,
    "version: 1\n"
    "range: {from: 2024-03, to: 2024-01}\n",
    "t.yaml:2:28: error: expected \"to\" at or after \"from\" (\"2024-03\"), found \"2024-01\"")

BAD(bad_range_month,
    "version: 1\n"
    "range: {from: 2024-13}\n",
    "t.yaml:2:15: error: expected a window as YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH or YYYY-Www, found \"2024-13\": month out of range (01-12)")

BAD(bad_range_form,
    "version: 1\n"
    "range: {from: March 2024}\n",
    "t.yaml:2:15: error: expected a window as YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH or YYYY-Www, found \"March 2024\"")

BAD(bad_range_only_to,
    "version: 1\n"
    "range: {to: 2024-01}\n",
    "t.yaml:2:8: error: expected \"from\" (with an optional \"to\") or \"last\" in range, found neither")

BAD(bad_range_missing,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    log_groups:\n"
    "      - name: /aws/lambda/api\n",
    "t.yaml:6:5: error: a range is required: expected \"range\" at the top level, in account \"prod\" or in each of its log groups, found none")

BAD(bad_env_unset,
    "version: 1\n"
    "defaults:\n"
    "  destination:\n"
    "    bucket: ${CWX_TEST_UNSET_BUCKET}\n",
    "t.yaml:4:13: error: expected environment variable CWX_TEST_UNSET_BUCKET to be set, found it unset")

BAD(bad_env_malformed,
    "version: 1\n"
    "defaults:\n"
    "  region: ${1REGION}\n",
    "t.yaml:3:11: error: expected ${NAME} with a NAME of letters, digits and '_' (write $${ for a literal ${), found \"${1REGION}\"")

BAD_ENV(bad_env_expanded_invalid, "CWX_TEST_REGION", "mars-1",
    "version: 1\n"
    "defaults:\n"
    "  region: ${CWX_TEST_REGION}\n",
    "t.yaml:3:11: error: expected a region name like us-east-1, found \"${CWX_TEST_REGION}\" (expanded to \"mars-1\")")

BAD_ENV(bad_env_secret_not_echoed, "CWX_TEST_AUTH_KEY", "AKIAsupersecret",
    "version: 1\n"
    "defaults:\n"
    "  region: \"${CWX_TEST_AUTH_KEY}\"\n",
    "t.yaml:3:11: error: expected a region name like us-east-1, found \"${CWX_TEST_AUTH_KEY}\"")

/* A variable that holds a secret is never expanded: as an account name it
 * would be printed by every report and log line. */
BAD_ENV(bad_env_secret_refused, "CWX_TEST_SECRET_TOKEN", "AKIAsupersecret",
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "accounts:\n"
    "  - name: \"x-${CWX_TEST_SECRET_TOKEN}\"\n",
    "t.yaml:5:11: error: expected no credentials in the config, found ${CWX_TEST_SECRET_TOKEN}, which holds a secret: config files cannot carry secret keys, not even from the environment; use a profile, role or the environment")

/* Nor is any alias of the environment's secret key or session token. */
static void bad_env_aws_secret_alias_refused(void **state)
{
    (void)state;
    setenv("AWS_SESSION_TOKEN", "FQoGZXIvYXdzEXAMPLEtoken", 1);
    setenv("CWX_TEST_NAME", "FQoGZXIvYXdzEXAMPLEtoken", 1);
    s_check_bad("version: 1\n"
                "accounts:\n"
                "  - name: ${CWX_TEST_NAME}\n",
                "t.yaml:3:11: error: expected no credentials in the config, found ${CWX_TEST_NAME}, which holds a secret: config files cannot carry secret keys, not even from the environment; use a profile, role or the environment");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("CWX_TEST_NAME");
}

BAD(bad_notify_arn,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "notify:\n"
    "  sns_topic_arn: arn:aws:sqs:us-east-1:123456789012:q\n",
    "t.yaml:7:18: error: expected an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:topic, found \"arn:aws:sqs:us-east-1:123456789012:q\"")

BAD(bad_notify_event,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "notify:\n"
    "  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:t\n"
    "  on: [failure, success]\n",
    "t.yaml:8:17: error: expected an event: failure, loop_guard or done, found \"success\"")

BAD(bad_notify_no_topic,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "notify:\n"
    "  on: [done]\n",
    "t.yaml:7:3: error: expected \"sns_topic_arn\" in notify, found none")

BAD(bad_defaults_is_list,
    "version: 1\n"
    "defaults:\n"
    "  - region: us-east-1\n",
    "t.yaml:3:3: error: expected a mapping for \"defaults\", found a list")

BAD(bad_complex_key,
    "version: 1\n"
    "? [a, b]\n"
    ": c\n",
    "t.yaml:2:3: error: expected a key name at the top level, found a list")

BAD(bad_invalid_utf8,
    "version: 1\n"
    "defaults:\n"
    "  region: \"us\xff\"\n",
    "t.yaml:3:14: error: expected valid UTF-8 YAML, found invalid leading UTF-8 octet")

BAD(bad_null_profile,
    "version: 1\n"
    "defaults:\n"
    "  region: us-east-1\n"
    "  destination: {bucket: my-archive}\n"
    "range: {from: 2023-01}\n"
    "accounts:\n"
    "  - name: prod\n"
    "    profile: ~\n",
    "t.yaml:8:14: error: expected a profile name from the AWS config files, found an empty value")

BAD(bad_empty_quoted_value,
    "version: 1\n"
    "defaults:\n"
    "  api_rate: ''\n",
    "t.yaml:3:13: error: expected api_rate as calls per second, a number above 0 and at most 10000, found \"\"")

BAD_ENV(bad_env_expands_to_empty, "CWX_TEST_EMPTY_TZ", "",
    "version: 1\n"
    "defaults:\n"
    "  timezone: \"${CWX_TEST_EMPTY_TZ}\"\n",
    "t.yaml:3:13: error: expected an IANA time zone like UTC or Europe/Paris, found \"${CWX_TEST_EMPTY_TZ}\" (expanded to \"\")")

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(good_minimal_gets_builtin_defaults),
    cmocka_unit_test(good_fewest_tasks_settings),
    cmocka_unit_test(bad_skip_empty),
    cmocka_unit_test(bad_coalesce_size),
    cmocka_unit_test(good_inheritance_defaults_account_group),
    cmocka_unit_test(good_env_expansion),
    cmocka_unit_test(good_notify_and_flow_style),
    cmocka_unit_test(good_anchors_and_aliases),
    cmocka_unit_test(good_example_configs),
    cmocka_unit_test(good_demo_config_values),
    cmocka_unit_test(good_file_fixture_and_missing_file),
    cmocka_unit_test(good_duration_parse),
    cmocka_unit_test(good_bucket_names),
    cmocka_unit_test(good_error_format),
    cmocka_unit_test(bad_prefix_template_points_into_the_value),
    cmocka_unit_test(bad_prefix_template_leading_slash),
    cmocka_unit_test(bad_every_truncation_fails_cleanly),
    cmocka_unit_test(bad_duration),
    cmocka_unit_test(bad_version_missing),
    cmocka_unit_test(bad_version_two),
    cmocka_unit_test(bad_top_not_mapping),
    cmocka_unit_test(bad_empty_document),
    cmocka_unit_test(bad_yaml_unclosed_flow),
    cmocka_unit_test(bad_yaml_tab_indent),
    cmocka_unit_test(bad_yaml_bad_indent),
    cmocka_unit_test(bad_second_document),
    cmocka_unit_test(bad_unknown_key_did_you_mean),
    cmocka_unit_test(bad_unknown_key_listed),
    cmocka_unit_test(bad_unknown_top_key),
    cmocka_unit_test(bad_range_in_defaults),
    cmocka_unit_test(bad_duplicate_key),
    cmocka_unit_test(bad_secret_key),
    cmocka_unit_test(bad_secret_key_nested),
    cmocka_unit_test(bad_accounts_empty),
    cmocka_unit_test(bad_accounts_missing),
    cmocka_unit_test(bad_accounts_not_list),
    cmocka_unit_test(bad_account_not_mapping),
    cmocka_unit_test(bad_account_name_missing),
    cmocka_unit_test(bad_account_name_chars),
    cmocka_unit_test(bad_account_name_duplicate),
    cmocka_unit_test(bad_account_id_short),
    cmocka_unit_test(bad_profile_and_role),
    cmocka_unit_test(bad_role_arn),
    cmocka_unit_test(bad_external_id_without_role),
    cmocka_unit_test(bad_region_shape),
    cmocka_unit_test(bad_regions_empty),
    cmocka_unit_test(bad_regions_duplicate),
    cmocka_unit_test(bad_region_and_regions),
    cmocka_unit_test(bad_no_region),
    cmocka_unit_test(bad_timezone_unknown),
    cmocka_unit_test(bad_timezone_traversal),
    cmocka_unit_test(bad_window),
    cmocka_unit_test(bad_poll_min_above_max),
    cmocka_unit_test(bad_poll_account_max_below_default_min),
    cmocka_unit_test(bad_poll_too_small),
    cmocka_unit_test(bad_poll_not_mapping),
    cmocka_unit_test(bad_bucket_uppercase),
    cmocka_unit_test(bad_bucket_ip),
    cmocka_unit_test(bad_bucket_placeholder),
    cmocka_unit_test(bad_bucket_missing),
    cmocka_unit_test(bad_bucket_expands_too_long),
    cmocka_unit_test(bad_detect),
    cmocka_unit_test(bad_state_prefix),
    cmocka_unit_test(bad_kms_key_arn),
    cmocka_unit_test(bad_max_attempts),
    cmocka_unit_test(bad_max_attempts_not_number),
    cmocka_unit_test(bad_token_scope),
    cmocka_unit_test(bad_api_rate),
    cmocka_unit_test(bad_loop_guard),
    cmocka_unit_test(bad_lease_ttl),
    cmocka_unit_test(bad_lease_word),
    cmocka_unit_test(bad_outage_pauses),
    cmocka_unit_test(bad_outage_pause),
    cmocka_unit_test(bad_outage_key),
    cmocka_unit_test(bad_group_no_kind),
    cmocka_unit_test(bad_group_two_kinds),
    cmocka_unit_test(bad_group_name_chars),
    cmocka_unit_test(bad_group_not_mapping),
    cmocka_unit_test(bad_log_groups_empty),
    cmocka_unit_test(bad_log_groups_missing),
    cmocka_unit_test(bad_exclude_with_name),
    cmocka_unit_test(bad_exclude_not_list),
    cmocka_unit_test(bad_log_stream_prefix),
    cmocka_unit_test(bad_range_last_and_from),
    cmocka_unit_test(bad_range_last_zero),
    cmocka_unit_test(bad_range_from_after_to),
    cmocka_unit_test(bad_range_month),
    cmocka_unit_test(bad_range_form),
    cmocka_unit_test(bad_range_only_to),
    cmocka_unit_test(bad_range_missing),
    cmocka_unit_test(bad_env_unset),
    cmocka_unit_test(bad_env_malformed),
    cmocka_unit_test(bad_env_expanded_invalid),
    cmocka_unit_test(bad_env_secret_not_echoed),
    cmocka_unit_test(bad_env_secret_refused),
    cmocka_unit_test(bad_env_aws_secret_alias_refused),
    cmocka_unit_test(bad_notify_arn),
    cmocka_unit_test(bad_notify_event),
    cmocka_unit_test(bad_notify_no_topic),
    cmocka_unit_test(bad_defaults_is_list),
    cmocka_unit_test(bad_complex_key),
    cmocka_unit_test(bad_invalid_utf8),
    cmocka_unit_test(bad_null_profile),
    cmocka_unit_test(bad_empty_quoted_value),
    cmocka_unit_test(bad_env_expands_to_empty),
};
/* clang-format on */

CWX_TEST_MAIN(tests)
