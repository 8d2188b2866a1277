/* Job identities, task names, destination-prefix templates, marker keys.
 * Expected task names were computed independently with Python's hashlib
 * (sha256 of the identity string, first 16 hex digits). */
#include "testmain.h"

#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "planner/job.h"

static const struct cwx_job_identity s_id1 = {
    .account_id = "123456789012",
    .region = "us-east-1",
    .log_group = "/aws/lambda/api",
    .log_stream_prefix = NULL,
    .from_ms = 1709251200000LL,
    .to_ms = 1711929599999LL,
    .bucket = "my-log-archive",
    .prefix = "123456789012/us-east-1/aws/lambda/api/2024-03",
};

static void identity_string_format(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_puts(&b, "x"), 0); /* appends */
    assert_int_equal(cwx_job_identity_string(&s_id1, &b), 0);
    assert_string_equal(b.ptr, "xcwexport-job/v1\n"
                               "123456789012\n"
                               "us-east-1\n"
                               "/aws/lambda/api\n"
                               "\n"
                               "1709251200000\n"
                               "1711929599999\n"
                               "my-log-archive\n"
                               "123456789012/us-east-1/aws/lambda/api/2024-03\n");
    assert_int_equal(b.len, strlen(b.ptr));
    cwx_buf_free(&b);
}

static void identity_rejects(void **state)
{
    (void)state;
    struct cwx_buf b;
    char name[CWX_TASK_NAME_SIZE];
    cwx_buf_init(&b, 0);
    struct cwx_job_identity id = s_id1;
    id.account_id = NULL;
    assert_int_equal(cwx_job_identity_string(&id, &b), CWX_EINVAL);
    assert_int_equal(cwx_job_task_name(&id, name), CWX_EINVAL);
    id = s_id1;
    id.bucket = "";
    assert_int_equal(cwx_job_identity_string(&id, &b), CWX_EINVAL);
    id = s_id1;
    id.log_stream_prefix = "a\nb"; /* would shift every later line */
    assert_int_equal(cwx_job_identity_string(&id, &b), CWX_EINVAL);
    assert_int_equal(cwx_job_task_name(&id, name), CWX_EINVAL);
    id = s_id1;
    id.prefix = NULL;
    assert_int_equal(cwx_job_task_name(&id, name), CWX_EINVAL);
    assert_int_equal(b.len, 0);
    /* A capped buffer reports the cap. */
    struct cwx_buf small;
    cwx_buf_init(&small, 10);
    assert_int_equal(cwx_job_identity_string(&s_id1, &small), CWX_ETOOBIG);
    cwx_buf_free(&small);
    cwx_buf_free(&b);
}

static void task_name_vectors(void **state)
{
    (void)state;
    char name[CWX_TASK_NAME_SIZE];
    assert_int_equal(cwx_job_task_name(&s_id1, name), 0);
    assert_string_equal(name, "cwexport-66fbf0a5f508bd74");

    struct cwx_job_identity id2 = {
        .account_id = "210987654321",
        .region = "eu-west-1",
        .log_group = "/app/audit",
        .log_stream_prefix = "web-",
        .from_ms = 1577836800000LL,
        .to_ms = 1580515199999LL,
        .bucket = "audit-archive-eu",
        .prefix = "210987654321/eu-west-1/app/audit/2020-01",
    };
    assert_int_equal(cwx_job_task_name(&id2, name), 0);
    assert_string_equal(name, "cwexport-79c29e53845ce880");

    struct cwx_job_identity id3 = {
        .account_id = "123456789012",
        .region = "ap-northeast-1",
        .log_group = "my#group.name_1",
        .log_stream_prefix = "",
        .from_ms = 1730613600000LL,
        .to_ms = 1730617199999LL,
        .bucket = "b",
        .prefix = "x/2024-11-03T01-0500",
    };
    assert_int_equal(cwx_job_task_name(&id3, name), 0);
    assert_string_equal(name, "cwexport-490f9a86268621f3");
    assert_int_equal(strlen(name), CWX_TASK_NAME_SIZE - 1);
}

/* NULL and "" stream prefixes are the same identity; any field changes it. */
static void task_name_sensitivity(void **state)
{
    (void)state;
    char a[CWX_TASK_NAME_SIZE], b[CWX_TASK_NAME_SIZE];
    struct cwx_job_identity id = s_id1;
    id.log_stream_prefix = "";
    assert_int_equal(cwx_job_task_name(&s_id1, a), 0);
    assert_int_equal(cwx_job_task_name(&id, b), 0);
    assert_string_equal(a, b);
    id = s_id1;
    id.to_ms++;
    assert_int_equal(cwx_job_task_name(&id, b), 0);
    assert_string_not_equal(a, b);
    id = s_id1;
    id.region = "us-east-2";
    assert_int_equal(cwx_job_task_name(&id, b), 0);
    assert_string_not_equal(a, b);
}

/* An identity longer than the stack buffer takes the heap path. */
static void task_name_long_identity(void **state)
{
    (void)state;
    static char prefix[3001];
    memset(prefix, 'a', 3000);
    struct cwx_job_identity id = s_id1;
    id.prefix = prefix;
    char name[CWX_TASK_NAME_SIZE];
    assert_int_equal(cwx_job_task_name(&id, name), 0);
    assert_string_equal(name, "cwexport-0e6a60ace01bf548");
}

static void task_name_is_ours(void **state)
{
    (void)state;
    assert_true(cwx_task_name_is_ours("cwexport-66fbf0a5f508bd74"));
    assert_true(cwx_task_name_is_ours("cwexport-0000000000000000"));
    assert_false(cwx_task_name_is_ours("cwexport-66FBF0A5F508BD74"));
    assert_false(cwx_task_name_is_ours("cwexport-66fbf0a5f508bd7"));
    assert_false(cwx_task_name_is_ours("cwexport-66fbf0a5f508bd745"));
    assert_false(cwx_task_name_is_ours("cwexport-66fbf0a5f508bd7g"));
    assert_false(cwx_task_name_is_ours("cwexport66fbf0a5f508bd745"));
    assert_false(cwx_task_name_is_ours("xcwexport-66fbf0a5f508bd74"));
    assert_false(cwx_task_name_is_ours("my-export"));
    assert_false(cwx_task_name_is_ours(""));
    assert_false(cwx_task_name_is_ours(NULL));
}

static void template_check_accepts(void **state)
{
    (void)state;
    const char *ok[] = {
        "{account_id}/{region}/{log_group}/{window}",
        "{account}/{account_id}/{region}/{log_group}/{window}/{yyyy}/{mm}/{dd}/{hh}",
        "archive",
        "logs/{yyyy}-{mm}-{dd}T{hh}/",
        "a.b/c..d/x!y-z_w*(q)'#/{region}",
        "{log_group}.x/..{window}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(cwx_template_check(ok[i], NULL, NULL), 0);
}

static void template_check_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl;
        const char *why;
        size_t col;
    } cases[] = {
        {"", "empty template", 0},
        {"/{region}", "template must not start with '/'", 0},
        {"a/{region", "unclosed '{'", 2},
        {"a/{regi/on}", "unclosed '{'", 2},
        {"{{region}}", "unclosed '{'", 0},
        {"a}b", "'}' without a matching '{'", 1},
        {"x/{foo}", "unknown variable (known: {account} {account_id} {region} "
                    "{log_group} {window} {from} {to} {yyyy} {mm} "
                    "{dd} {hh})", 2},
        {"x/{}", "unknown variable (known: {account} {account_id} {region} "
                 "{log_group} {window} {from} {to} {yyyy} {mm} "
                    "{dd} {hh})", 2},
        {"x/{Region}", "unknown variable (known: {account} {account_id} {region} "
                       "{log_group} {window} {from} {to} {yyyy} {mm} "
                    "{dd} {hh})", 2},
        {"my logs/{region}", "character not allowed in an S3 key prefix (allowed: "
                             "A-Z a-z 0-9 ! - _ . * ' ( ) / #)", 2},
        {"a?b", "character not allowed in an S3 key prefix (allowed: "
                "A-Z a-z 0-9 ! - _ . * ' ( ) / #)", 1},
        {"caf\xc3\xa9", "character not allowed in an S3 key prefix (allowed: "
                        "A-Z a-z 0-9 ! - _ . * ' ( ) / #)", 3},
        {"a//{region}", "empty path segment ('//')", 2},
        {"a/../{region}", "'.' and '..' segments are not allowed", 2},
        {"./{region}", "'.' and '..' segments are not allowed", 0},
        {"{region}/.", "'.' and '..' segments are not allowed", 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *why = NULL;
        size_t col = 99;
        assert_int_equal(cwx_template_check(cases[i].tmpl, &why, &col), CWX_EINVAL);
        assert_string_equal(why, cases[i].why);
        assert_int_equal(col, cases[i].col);
    }
    const char *why = NULL;
    assert_int_equal(cwx_template_check(NULL, &why, NULL), CWX_EINVAL);
    assert_string_equal(why, "empty template");
}

/* Windows of every granularity, in UTC and New York. */
struct fixture {
    struct cwx_tz *utc, *ny;
    struct cwx_window month, week, day, hour, hour_repeat;
};

static void s_fixture(struct fixture *f)
{
    assert_int_equal(cwx_tz_load("UTC", &f->utc), 0);
    assert_int_equal(cwx_tz_load("America/New_York", &f->ny), 0);
    assert_int_equal(cwx_window_from_label(f->utc, CWX_WINDOW_MONTH, "2024-03", &f->month), 0);
    assert_int_equal(cwx_window_from_label(f->utc, CWX_WINDOW_WEEK, "2026-W01", &f->week), 0);
    assert_int_equal(cwx_window_from_label(f->utc, CWX_WINDOW_DAY, "2024-02-29", &f->day), 0);
    assert_int_equal(cwx_window_from_label(f->ny, CWX_WINDOW_HOUR, "2024-03-07T05", &f->hour), 0);
    assert_int_equal(cwx_window_from_label(f->ny, CWX_WINDOW_HOUR, "2024-11-03T01-0500",
                                           &f->hour_repeat), 0);
}

static void s_fixture_free(struct fixture *f)
{
    cwx_tz_free(f->utc);
    cwx_tz_free(f->ny);
}

static void s_expect_expand(const char *tmpl, const struct cwx_template_vars *v,
                            const char *want)
{
    struct cwx_buf b;
    const char *why = NULL;
    cwx_buf_init(&b, 0);
    int rc = cwx_template_expand(tmpl, v, &b, &why);
    if (rc)
        print_error("%s: %s\n", tmpl, why);
    assert_int_equal(rc, 0);
    assert_string_equal(b.ptr, want);
    cwx_buf_free(&b);
}

static const char s_all_vars[] =
    "{account}/{account_id}/{region}/{log_group}/{window}/{yyyy}/{mm}/{dd}/{hh}";

static void expand_every_variable(void **state)
{
    (void)state;
    struct fixture f;
    s_fixture(&f);
    struct cwx_template_vars v = {
        .account = "prod",
        .account_id = "123456789012",
        .region = "us-east-1",
        .log_group = "/aws/lambda/api",
        .tz = f.utc,
        .granularity = CWX_WINDOW_MONTH,
        .window = &f.month,
    };
    s_expect_expand(s_all_vars, &v,
                    "prod/123456789012/us-east-1/aws/lambda/api/2024-03/2024/03/01/00");
    s_expect_expand("{account_id}/{region}/{log_group}/{window}", &v,
                    "123456789012/us-east-1/aws/lambda/api/2024-03");
    /* A week's {yyyy}{mm}{dd} are its Monday's, here in the previous year. */
    v.granularity = CWX_WINDOW_WEEK;
    v.window = &f.week;
    s_expect_expand(s_all_vars, &v,
                    "prod/123456789012/us-east-1/aws/lambda/api/2026-W01/2025/12/29/00");
    v.granularity = CWX_WINDOW_DAY;
    v.window = &f.day;
    s_expect_expand("{window}/{yyyy}{mm}{dd}{hh}", &v, "2024-02-29/2024022900");
    v.tz = f.ny;
    v.granularity = CWX_WINDOW_HOUR;
    v.window = &f.hour;
    s_expect_expand("{window}/{yyyy}/{mm}/{dd}/{hh}", &v, "2024-03-07T05/2024/03/07/05");
    v.window = &f.hour_repeat;
    s_expect_expand("{window}/{hh}", &v, "2024-11-03T01-0500/01");
    /* A log group without a leading '/' is marked with '!' (which no log
     * group name can contain), so it never shares a key with "/team#1/app". */
    v.log_group = "team#1/app";
    s_expect_expand("{log_group}", &v, "!team#1/app");
    v.log_group = "/team#1/app";
    s_expect_expand("{log_group}", &v, "team#1/app");
    s_fixture_free(&f);
}

static void expand_strips_trailing_slash(void **state)
{
    (void)state;
    struct fixture f;
    s_fixture(&f);
    struct cwx_template_vars v = {.account = "prod", .account_id = "1", .region = "r",
                                  .log_group = "/g/", .window = &f.month};
    s_expect_expand("{region}/", &v, "r");
    s_expect_expand("x/{log_group}", &v, "x/g");
    s_fixture_free(&f);
}

static void s_expect_refused(const char *tmpl, const struct cwx_template_vars *v,
                             int want_rc, const char *want_why)
{
    struct cwx_buf b;
    const char *why = NULL;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_puts(&b, "keep"), 0);
    assert_int_equal(cwx_template_expand(tmpl, v, &b, &why), want_rc);
    assert_string_equal(why, want_why);
    assert_string_equal(b.ptr, "keep"); /* untouched on error */
    assert_int_equal(b.len, 4);
    cwx_buf_free(&b);
}

static void expand_rejects(void **state)
{
    (void)state;
    struct fixture f;
    s_fixture(&f);
    struct cwx_template_vars v = {
        .account = "prod",
        .account_id = NULL,
        .region = "us-east-1",
        .log_group = "/aws/lambda/api",
        .tz = f.utc,
        .granularity = CWX_WINDOW_MONTH,
        .window = &f.month,
    };
    s_expect_refused("{account_id}/{window}", &v, CWX_ENOTFOUND,
                     "{account_id} is not known yet");
    s_expect_expand("{account}/{window}", &v, "prod/2024-03"); /* not referenced */
    v.account_id = "123456789012";
    /* Syntax errors come from cwx_template_check. */
    s_expect_refused("{nope}", &v, CWX_EINVAL,
                     "unknown variable (known: {account} {account_id} {region} "
                     "{log_group} {window} {from} {to} {yyyy} {mm} "
                    "{dd} {hh})");
    s_expect_refused("", &v, CWX_EINVAL, "empty template");
    /* Values that make a bad key. */
    v.account = "my account";
    s_expect_refused("{account}", &v, CWX_EINVAL,
                     "character not allowed in an S3 key prefix (allowed: "
                     "A-Z a-z 0-9 ! - _ . * ' ( ) / #)");
    v.account = "";
    s_expect_refused("{account}/x", &v, CWX_EINVAL, "a variable of the template has no value");
    v.account = NULL;
    s_expect_refused("{account}/x", &v, CWX_EINVAL, "a variable of the template has no value");
    v.account = "prod";
    v.log_group = "/a/..";
    s_expect_refused("x/{log_group}", &v, CWX_EINVAL,
                     "expands to a prefix with a '.' or '..' segment");
    v.log_group = "/..";
    s_expect_refused("{log_group}/x", &v, CWX_EINVAL,
                     "expands to a prefix with a '.' or '..' segment");
    v.log_group = "..";
    s_expect_expand("{log_group}/x", &v, "!../x");
    v.log_group = "//a";
    s_expect_refused("x/{log_group}", &v, CWX_EINVAL,
                     "expands to a prefix with an empty segment ('//')");
    s_expect_refused("{log_group}", &v, CWX_EINVAL,
                     "expands to a prefix that starts with '/'");
    v.log_group = "/";
    s_expect_refused("{log_group}", &v, CWX_EINVAL, "a variable of the template has no value");
    v.log_group = "a/";
    s_expect_refused("{log_group}/x", &v, CWX_EINVAL,
                     "expands to a prefix with an empty segment ('//')");
    s_expect_expand("{log_group}/", &v, "!a"); /* "!a//": trailing '/' all go */
    v.window = NULL;
    s_expect_refused("{window}", &v, CWX_EINVAL, "a variable of the template has no value");
    s_expect_refused("{yyyy}", &v, CWX_EINVAL, "the window has no valid label");
    s_fixture_free(&f);
}

/* 1024 - (1 + 36 + 1 + 512 + 10) = 464 bytes of prefix at most. */
static void expand_length_limit(void **state)
{
    (void)state;
    static char group[600];
    struct cwx_template_vars v = {.account = "p", .account_id = "1", .region = "r",
                                  .log_group = group};
    assert_int_equal(CWX_PREFIX_MAX, 464);
    /* A bare name gains its '!': CWX_PREFIX_MAX - 3 bytes fill the limit. */
    memset(group, 'g', CWX_PREFIX_MAX - 3);
    group[CWX_PREFIX_MAX - 3] = '\0';
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_template_expand("x/{log_group}", &v, &b, NULL), 0);
    assert_int_equal(b.len, CWX_PREFIX_MAX);
    cwx_buf_free(&b);
    group[CWX_PREFIX_MAX - 3] = 'g';
    group[CWX_PREFIX_MAX - 2] = '\0';
    s_expect_refused("x/{log_group}", &v, CWX_EINVAL,
                     "expands to a prefix longer than 464 bytes: with CloudWatch's "
                     "'/<36-byte taskId>/<log stream up to 512 bytes>/000000.gz' "
                     "the S3 key could exceed 1024 bytes");
    /* The trailing '/' is stripped before measuring. */
    s_expect_refused("x/{log_group}x/", &v, CWX_EINVAL,
                     "expands to a prefix longer than 464 bytes: with CloudWatch's "
                     "'/<36-byte taskId>/<log stream up to 512 bytes>/000000.gz' "
                     "the S3 key could exceed 1024 bytes");
    group[CWX_PREFIX_MAX - 3] = '\0';
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_template_expand("x/{log_group}/", &v, &b, NULL), 0);
    assert_int_equal(b.len, CWX_PREFIX_MAX);
    cwx_buf_free(&b);
}

static void marker_keys(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_marker_key("_cwexport", "123456789012", "us-east-1",
                                    "/aws/lambda/api", "2024-03", &b), 0);
    assert_string_equal(b.ptr, "_cwexport/123456789012/us-east-1/aws/lambda/api/2024-03.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_marker_key("state/cwx/", "123456789012", "eu-west-1", "app#1",
                                    "2024-11-03T01-0500", &b), 0);
    assert_string_equal(b.ptr, "state/cwx/123456789012/eu-west-1/!app#1/2024-11-03T01-0500.json");
    /* "/coll/x" and "coll/x" are two log groups: two markers. */
    cwx_buf_reset(&b);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "r", "/coll/x", "2024-03", &b), 0);
    assert_string_equal(b.ptr, "_cwexport/1/r/coll/x/2024-03.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "r", "coll/x", "2024-03", &b), 0);
    assert_string_equal(b.ptr, "_cwexport/1/r/!coll/x/2024-03.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_marker_key("", "1", "r", "/g", "2026-W01", &b), 0);
    assert_string_equal(b.ptr, "1/r/g/2026-W01.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx_marker_key(NULL, "1", "r", "/g", "2024-03-07", &b), 0);
    assert_string_equal(b.ptr, "1/r/g/2024-03-07.json");
    /* Refused, and out is left as it was. */
    cwx_buf_reset(&b);
    assert_int_equal(cwx_buf_puts(&b, "keep"), 0);
    assert_int_equal(cwx_marker_key("_cwexport", NULL, "r", "/g", "2024-03", &b), CWX_EINVAL);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "", "/g", "2024-03", &b), CWX_EINVAL);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "r", "/g", NULL, &b), CWX_EINVAL);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "r", "//g", "2024-03", &b), CWX_EINVAL);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "r", "/..", "2024-03", &b), CWX_EINVAL);
    assert_int_equal(cwx_marker_key("my state", "1", "r", "/g", "2024-03", &b), CWX_EINVAL);
    static char group[1100];
    memset(group, 'g', sizeof group - 1);
    assert_int_equal(cwx_marker_key("_cwexport", "1", "r", group, "2024-03", &b), CWX_EINVAL);
    assert_string_equal(b.ptr, "keep");
    cwx_buf_free(&b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(identity_string_format),
    cmocka_unit_test(identity_rejects),
    cmocka_unit_test(task_name_vectors),
    cmocka_unit_test(task_name_sensitivity),
    cmocka_unit_test(task_name_long_identity),
    cmocka_unit_test(task_name_is_ours),
    cmocka_unit_test(template_check_accepts),
    cmocka_unit_test(template_check_rejects),
    cmocka_unit_test(expand_every_variable),
    cmocka_unit_test(expand_strips_trailing_slash),
    cmocka_unit_test(expand_rejects),
    cmocka_unit_test(expand_length_limit),
    cmocka_unit_test(marker_keys),
};

CWX_TEST_MAIN(tests)
