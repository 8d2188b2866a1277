/* Unit tests of the logs, s3, sns and sts clients' pure parts: request
 * bodies and every response parser, on AWS-shaped answers and on garbage. */
#include "testmain.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "aws/logs.h"
#include "aws/s3.h"
#include "aws/sns.h"
#include "aws/sts.h"
#include "common/error.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* ---- helpers ------------------------------------------------------------- */

static void test_iso8601(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(cwx__iso8601_ms(LIT("1970-01-01T00:00:00Z"), &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(cwx__iso8601_ms(LIT("2019-11-09T13:34:41Z"), &t), 0);
    assert_int_equal(t, 1573306481000LL);
    assert_int_equal(cwx__iso8601_ms(LIT("2009-10-12T17:50:30.000Z"), &t), 0);
    assert_int_equal(t, 1255369830000LL);
    assert_int_equal(cwx__iso8601_ms(LIT("2011-07-15T23:28:33.359Z"), &t), 0);
    assert_int_equal(t, 1310772513359LL);
    assert_int_equal(cwx__iso8601_ms(LIT("2024-02-29T12:00:00.5+01:00"), &t), 0);
    assert_int_equal(t, 1709204400500LL);
    assert_int_equal(cwx__iso8601_ms(LIT("2024-03-31T23:59:59.123456789-00:30"), &t), 0);
    assert_int_equal(t, 1711931399123LL);
    assert_int_equal(cwx__iso8601_ms(LIT("1969-12-31T23:59:59Z"), &t), 0);
    assert_int_equal(t, -1000);

    static const char *const bad[] = {
        "", "2019", "2019-11-09", "2019-11-09T13:34:41", "2019-13-09T13:34:41Z",
        "2023-02-29T00:00:00Z", "2019-11-09T24:00:00Z", "2019-11-09T13:60:00Z",
        "2019-11-09T13:34:41ZZ", "2019-11-09T13:34:41.Z", "2019-11-09 13:34:41Z",
        "2019-11-09T13:34:41+0100", "x019-11-09T13:34:41Z", "2019-11-09T13:34:41.1234567890123Z",
        "2019-11-00T13:34:41Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        assert_int_equal(cwx__iso8601_ms(bad[i], strlen(bad[i]), &t), CWX_EPARSE);
        assert_int_equal(t, 42);
    }
    /* not NUL-terminated: the length is obeyed */
    assert_int_equal(cwx__iso8601_ms("2019-11-09T13:34:41Zjunk", 20, &t), 0);
    assert_int_equal(t, 1573306481000LL);
}

static void test_http_date(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(cwx__http_date_ms(LIT("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
    assert_int_equal(t, 784111777000LL);
    assert_int_equal(cwx__http_date_ms(LIT("Wed, 12 Oct 2009 17:50:00 GMT"), &t), 0);
    assert_int_equal(t, 1255369800000LL);
    assert_int_equal(cwx__http_date_ms(LIT("Thu, 29 Feb 2024 23:59:59 GMT"), &t), 0);
    assert_int_equal(t, 1709251199000LL);
    assert_int_equal(cwx__http_date_ms(LIT("Sunday, 06-Nov-94 08:49:37 GMT"), &t), CWX_EPARSE);
    assert_int_equal(cwx__http_date_ms(LIT("Wed, 12 Foo 2009 17:50:00 GMT"), &t), CWX_EPARSE);
    assert_int_equal(cwx__http_date_ms(LIT("Wed, 12 Oct 2009 17:50:00 UTC"), &t), CWX_EPARSE);
    assert_int_equal(cwx__http_date_ms(LIT("Wed, 32 Oct 2009 17:50:00 GMT"), &t), CWX_EPARSE);
    assert_int_equal(cwx__http_date_ms(LIT("Wed, 12 Oct 2009 17:50 GMT"), &t), CWX_EPARSE);
    assert_int_equal(cwx__http_date_ms(LIT(""), &t), CWX_EPARSE);
}

static void test_percent_encoding(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx__pct_encode(&b, LIT("a b/c+d~e_f.g-h\xc3\xa9*"), 0), 0);
    assert_string_equal(b.ptr, "a%20b%2Fc%2Bd~e_f.g-h%C3%A9%2A");
    cwx_buf_reset(&b);
    assert_int_equal(cwx__pct_encode(&b, LIT("x/y z/"), 1), 0);
    assert_string_equal(b.ptr, "x/y%20z/");
    cwx_buf_reset(&b);
    assert_int_equal(cwx__pct_decode(&b, LIT("a%20b+c%2Bd%c3%A9"), 1), 0);
    assert_string_equal(b.ptr, "a b c+d\xc3\xa9");
    cwx_buf_reset(&b);
    assert_int_equal(cwx__pct_decode(&b, LIT("a+b"), 0), 0);
    assert_string_equal(b.ptr, "a+b");
    cwx_buf_reset(&b);
    assert_int_equal(cwx__pct_decode(&b, LIT("%"), 1), CWX_EPARSE);
    cwx_buf_reset(&b);
    assert_int_equal(cwx__pct_decode(&b, LIT("ab%2"), 1), CWX_EPARSE);
    cwx_buf_reset(&b);
    assert_int_equal(cwx__pct_decode(&b, LIT("%zz"), 1), CWX_EPARSE);
    cwx_buf_reset(&b);
    assert_int_equal(cwx__form_add(&b, "Action", "Publish"), 0);
    assert_int_equal(cwx__form_add(&b, "Message", "x=1&y=2 \n"), 0);
    assert_string_equal(b.ptr, "Action=Publish&Message=x%3D1%26y%3D2%20%0A");
    cwx_buf_free(&b);
}

/* ---- logs: request bodies ------------------------------------------------ */

static cJSON *s_json(const struct cwx_buf *b)
{
    cJSON *doc = cJSON_ParseWithLength(b->ptr, b->len);
    assert_non_null(doc);
    return doc;
}

static void test_logs_create_export_task_body(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    struct cwx_logs_create_export_task_req req = {
        .task_name = "cwexport-1f2e3d4c5b6a7988",
        .log_group_name = "/aws/lambda/api",
        .from_ms = 1709251200000LL,
        .to_ms = 1711929599999LL,
        .destination = "my-log-archive",
        .destination_prefix = "123456789012/us-east-1/aws/lambda/api/2024-03",
    };
    assert_int_equal(cwx__logs_create_export_task_body(&req, &b), 0);
    /* the epoch-ms values must be printed exactly, as integers */
    assert_non_null(strstr(b.ptr, "\"from\":1709251200000"));
    assert_non_null(strstr(b.ptr, "\"to\":1711929599999"));
    cJSON *doc = s_json(&b);
    assert_string_equal(cJSON_GetObjectItem(doc, "taskName")->valuestring,
                        "cwexport-1f2e3d4c5b6a7988");
    assert_string_equal(cJSON_GetObjectItem(doc, "logGroupName")->valuestring,
                        "/aws/lambda/api");
    assert_string_equal(cJSON_GetObjectItem(doc, "destination")->valuestring,
                        "my-log-archive");
    assert_string_equal(cJSON_GetObjectItem(doc, "destinationPrefix")->valuestring,
                        "123456789012/us-east-1/aws/lambda/api/2024-03");
    assert_null(cJSON_GetObjectItem(doc, "logStreamNamePrefix"));
    cJSON_Delete(doc);

    /* optional fields omitted when NULL, stream prefix sent when set */
    cwx_buf_reset(&b);
    req.task_name = NULL;
    req.destination_prefix = NULL;
    req.log_stream_name_prefix = "web-";
    assert_int_equal(cwx__logs_create_export_task_body(&req, &b), 0);
    doc = s_json(&b);
    assert_null(cJSON_GetObjectItem(doc, "taskName"));
    assert_null(cJSON_GetObjectItem(doc, "destinationPrefix"));
    assert_string_equal(cJSON_GetObjectItem(doc, "logStreamNamePrefix")->valuestring, "web-");
    cJSON_Delete(doc);

    /* names with quotes and control bytes stay valid JSON */
    cwx_buf_reset(&b);
    req.log_group_name = "/a\"b\\c\n";
    assert_int_equal(cwx__logs_create_export_task_body(&req, &b), 0);
    doc = s_json(&b);
    assert_string_equal(cJSON_GetObjectItem(doc, "logGroupName")->valuestring, "/a\"b\\c\n");
    cJSON_Delete(doc);

    /* refused */
    struct cwx_logs_create_export_task_req bad = req;
    bad.from_ms = 10, bad.to_ms = 9;
    assert_int_equal(cwx__logs_create_export_task_body(&bad, &b), CWX_EINVAL);
    bad = req, bad.from_ms = -1;
    assert_int_equal(cwx__logs_create_export_task_body(&bad, &b), CWX_EINVAL);
    bad = req, bad.to_ms = (int64_t)1 << 53;
    assert_int_equal(cwx__logs_create_export_task_body(&bad, &b), CWX_EINVAL);
    bad = req, bad.log_group_name = NULL;
    assert_int_equal(cwx__logs_create_export_task_body(&bad, &b), CWX_EINVAL);
    bad = req, bad.destination = "";
    assert_int_equal(cwx__logs_create_export_task_body(&bad, &b), CWX_EINVAL);
    cwx_buf_free(&b);
}

static void test_logs_describe_bodies(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    struct cwx_logs_describe_export_tasks_req t = {
        .status = CWX_EXPORT_COMPLETED, .limit = 50, .next_token = "tok/1=="};
    assert_int_equal(cwx__logs_describe_export_tasks_body(&t, &b), 0);
    cJSON *doc = s_json(&b);
    assert_string_equal(cJSON_GetObjectItem(doc, "statusCode")->valuestring, "COMPLETED");
    assert_int_equal(cJSON_GetObjectItem(doc, "limit")->valueint, 50);
    assert_string_equal(cJSON_GetObjectItem(doc, "nextToken")->valuestring, "tok/1==");
    assert_null(cJSON_GetObjectItem(doc, "taskId"));
    cJSON_Delete(doc);

    cwx_buf_reset(&b);
    t = (struct cwx_logs_describe_export_tasks_req){.task_id = "abc-123"};
    assert_int_equal(cwx__logs_describe_export_tasks_body(&t, &b), 0);
    assert_string_equal(b.ptr, "{\"taskId\":\"abc-123\"}");

    t = (struct cwx_logs_describe_export_tasks_req){.task_id = "a",
                                                    .status = CWX_EXPORT_RUNNING};
    assert_int_equal(cwx__logs_describe_export_tasks_body(&t, &b), CWX_EINVAL);
    t = (struct cwx_logs_describe_export_tasks_req){.limit = 51};
    assert_int_equal(cwx__logs_describe_export_tasks_body(&t, &b), CWX_EINVAL);

    cwx_buf_reset(&b);
    struct cwx_logs_describe_log_groups_req g = {.prefix = "/aws/ecs/", .limit = 50};
    assert_int_equal(cwx__logs_describe_log_groups_body(&g, &b), 0);
    assert_string_equal(b.ptr, "{\"logGroupNamePrefix\":\"/aws/ecs/\",\"limit\":50}");

    cwx_buf_reset(&b);
    g = (struct cwx_logs_describe_log_groups_req){.pattern = "payments", .next_token = "n"};
    assert_int_equal(cwx__logs_describe_log_groups_body(&g, &b), 0);
    assert_string_equal(b.ptr, "{\"logGroupNamePattern\":\"payments\",\"nextToken\":\"n\"}");

    cwx_buf_reset(&b);
    const char *ids[] = {"/app/audit", "arn:aws:logs:us-east-1:123456789012:log-group:/x"};
    g = (struct cwx_logs_describe_log_groups_req){.identifiers = ids, .n_identifiers = 2};
    assert_int_equal(cwx__logs_describe_log_groups_body(&g, &b), 0);
    assert_string_equal(b.ptr, "{\"logGroupIdentifiers\":[\"/app/audit\","
                               "\"arn:aws:logs:us-east-1:123456789012:log-group:/x\"]}");

    g = (struct cwx_logs_describe_log_groups_req){.prefix = "/a", .pattern = "b"};
    assert_int_equal(cwx__logs_describe_log_groups_body(&g, &b), CWX_EINVAL);
    g = (struct cwx_logs_describe_log_groups_req){.prefix = "/a", .identifiers = ids,
                                                  .n_identifiers = 1};
    assert_int_equal(cwx__logs_describe_log_groups_body(&g, &b), CWX_EINVAL);
    g = (struct cwx_logs_describe_log_groups_req){.limit = -1};
    assert_int_equal(cwx__logs_describe_log_groups_body(&g, &b), CWX_EINVAL);
    cwx_buf_free(&b);
}

static void test_export_status(void **state)
{
    (void)state;
    static const char *const names[] = {"PENDING",   "RUNNING",   "COMPLETED",
                                        "FAILED",    "CANCELLED", "PENDING_CANCEL"};
    for (size_t i = 0; i < 6; i++) {
        enum cwx_export_status s = cwx_export_status_parse(names[i]);
        assert_int_not_equal(s, CWX_EXPORT_UNKNOWN);
        assert_string_equal(cwx_export_status_name(s), names[i]);
    }
    assert_int_equal(cwx_export_status_parse("running"), CWX_EXPORT_UNKNOWN);
    assert_int_equal(cwx_export_status_parse(NULL), CWX_EXPORT_UNKNOWN);
    assert_string_equal(cwx_export_status_name((enum cwx_export_status)99), "UNKNOWN");
    assert_true(cwx_export_status_is_active(CWX_EXPORT_PENDING));
    assert_true(cwx_export_status_is_active(CWX_EXPORT_RUNNING));
    assert_true(cwx_export_status_is_active(CWX_EXPORT_PENDING_CANCEL));
    assert_false(cwx_export_status_is_active(CWX_EXPORT_COMPLETED));
    assert_false(cwx_export_status_is_active(CWX_EXPORT_CANCELLED));
}

/* ---- logs: parsers -------------------------------------------------------- */

/* The API reference's example answers, extended with a completed task. */
static const char s_describe_tasks[] =
    "{\n"
    "  \"exportTasks\": [\n"
    "    {\n"
    "      \"destination\": \"exampledestinationbucket\",\n"
    "      \"destinationPrefix\": \"exampledestinationprefix\",\n"
    "      \"executionInfo\": {\"creationTime\": 1441495400000},\n"
    "      \"from\": 1441490400000,\n"
    "      \"logGroupName\": \"ExampleLogGroupName\",\n"
    "      \"status\": {\"code\": \"RUNNING\", \"message\": \"Started Successfully\"},\n"
    "      \"taskId\": \"exampleTaskId\",\n"
    "      \"taskName\": \"exampleTaskName\",\n"
    "      \"to\": 1441494000000\n"
    "    },\n"
    "    {\n"
    "      \"taskId\": \"9a8b7c6d-0000-4444-8888-123456789abc\",\n"
    "      \"taskName\": \"cwexport-1f2e3d4c5b6a7988\",\n"
    "      \"logGroupName\": \"/aws/lambda/api\",\n"
    "      \"from\": 1709251200000, \"to\": 1711929599999,\n"
    "      \"destination\": \"my-log-archive\",\n"
    "      \"destinationPrefix\": \"123456789012/us-east-1/aws/lambda/api/2024-03\",\n"
    "      \"status\": {\"code\": \"COMPLETED\", \"message\": \"Completed successfully\"},\n"
    "      \"executionInfo\": {\"creationTime\": 1712000000000,\n"
    "                          \"completionTime\": 1712000123456}\n"
    "    },\n"
    "    {\"taskId\": \"t3\", \"status\": {\"code\": \"SOMETHING_NEW\"}}\n"
    "  ],\n"
    "  \"nextToken\": \"Y3dleHBvcnQ=\"\n"
    "}\n";

static void test_logs_parse_describe_export_tasks(void **state)
{
    (void)state;
    struct cwx_logs_export_tasks l;
    char msg[256] = "";
    assert_int_equal(
        cwx_logs_parse_describe_export_tasks(LIT(s_describe_tasks), &l, msg, sizeof(msg)), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.next_token, "Y3dleHBvcnQ=");
    const struct cwx_logs_export_task *t = &l.tasks[0];
    assert_string_equal(t->task_id, "exampleTaskId");
    assert_string_equal(t->task_name, "exampleTaskName");
    assert_string_equal(t->log_group_name, "ExampleLogGroupName");
    assert_int_equal(t->from_ms, 1441490400000LL);
    assert_int_equal(t->to_ms, 1441494000000LL);
    assert_string_equal(t->destination, "exampledestinationbucket");
    assert_string_equal(t->destination_prefix, "exampledestinationprefix");
    assert_int_equal(t->status, CWX_EXPORT_RUNNING);
    assert_string_equal(t->status_message, "Started Successfully");
    assert_int_equal(t->creation_time_ms, 1441495400000LL);
    assert_int_equal(t->completion_time_ms, 0);
    t = &l.tasks[1];
    assert_int_equal(t->status, CWX_EXPORT_COMPLETED);
    assert_int_equal(t->to_ms, 1711929599999LL);
    assert_int_equal(t->completion_time_ms, 1712000123456LL);
    t = &l.tasks[2];
    assert_int_equal(t->status, CWX_EXPORT_UNKNOWN);
    assert_string_equal(t->status_code, "SOMETHING_NEW");
    assert_string_equal(t->task_name, ""); /* absent strings are "" */
    assert_string_equal(t->status_message, "");

    /* a kept copy outlives the list */
    struct cwx_logs_export_task copy;
    assert_int_equal(cwx_logs_export_task_copy(&copy, &l.tasks[1]), 0);
    cwx_logs_export_tasks_free(&l);
    assert_null(l.tasks);
    assert_string_equal(copy.task_name, "cwexport-1f2e3d4c5b6a7988");
    cwx_logs_export_task_free(&copy);

    /* an empty answer, and null members */
    assert_int_equal(cwx_logs_parse_describe_export_tasks(LIT("{}"), &l, msg, sizeof(msg)), 0);
    assert_int_equal(l.n, 0);
    assert_null(l.next_token);
    cwx_logs_export_tasks_free(&l);
    assert_int_equal(cwx_logs_parse_describe_export_tasks(
                         LIT("{\"exportTasks\":null,\"nextToken\":\"\"}"), &l, msg, sizeof(msg)),
                     0);
    assert_null(l.next_token);
    cwx_logs_export_tasks_free(&l);
    /* unknown members are ignored */
    assert_int_equal(cwx_logs_parse_describe_export_tasks(
                         LIT("{\"x\":[1,{\"y\":null}],\"exportTasks\":[{\"taskId\":\"a\","
                             "\"extra\":{\"deep\":[true]}}]}"),
                         &l, msg, sizeof(msg)),
                     0);
    assert_int_equal(l.n, 1);
    cwx_logs_export_tasks_free(&l);
}

/* Every strict prefix of a valid document must be refused cleanly. */
static void s_truncations(const char *doc, size_t len,
                          int (*parse)(const char *, size_t, void *, char *, size_t),
                          void (*release)(void *), void *out)
{
    char msg[256];
    for (size_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        char *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, doc, n);
        msg[0] = '\0';
        int rc = parse(cut, n, out, msg, sizeof(msg));
        if (rc == 0) {
            /* only trailing whitespace may be dropped */
            for (size_t k = n; k < len; k++)
                if (!strchr(" \t\r\n", doc[k]))
                    fail_msg("prefix of %zu bytes accepted", n);
            release(out);
        } else {
            assert_int_equal(rc, CWX_EPARSE);
            assert_true(msg[0] != '\0');
        }
        free(cut);
    }
}

static int s_p_tasks(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_logs_parse_describe_export_tasks(b, n, out, m, ms);
}
static void s_r_tasks(void *out) { cwx_logs_export_tasks_free(out); }
static int s_p_groups(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_logs_parse_describe_log_groups(b, n, out, m, ms);
}
static void s_r_groups(void *out) { cwx_logs_log_groups_free(out); }
static int s_p_create(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_logs_parse_create_export_task(b, n, out, m, ms);
}
static void s_r_str(void *out)
{
    free(*(char **)out);
    *(char **)out = NULL;
}
static int s_p_list(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_s3_parse_list_objects_v2(b, n, out, m, ms);
}
static void s_r_list(void *out) { cwx_s3_list_page_free(out); }
static int s_p_publish(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_sns_parse_publish(b, n, out, m, ms);
}
static int s_p_identity(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_sts_parse_get_caller_identity(b, n, out, m, ms);
}
static void s_r_identity(void *out) { cwx__sts_identity_free(out); }
static int s_p_assume(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_sts_parse_assume_role(b, n, "AssumeRole", out, m, ms);
}
static int s_p_assume_web(const char *b, size_t n, void *out, char *m, size_t ms)
{
    return cwx_sts_parse_assume_role(b, n, "AssumeRoleWithWebIdentity", out, m, ms);
}
static void s_r_assume(void *out) { cwx_sts_assumed_role_free(out); }

/* Expects CWX_EPARSE with a message, and nothing left to free. */
#define EXPECT_BAD(parse, doc, out)                                                         \
    do {                                                                                    \
        char m_[256] = "";                                                                  \
        int rc_ = parse(doc, strlen(doc), out, m_, sizeof(m_));                             \
        if (rc_ != CWX_EPARSE)                                                              \
            fail_msg("accepted (%d): %s", rc_, doc);                                        \
        assert_true(m_[0] != '\0');                                                         \
    } while (0)

/* An error document under HTTP 200 (the fake's error_200 fault; a proxy)
 * is an error for every logs parser, never an empty list of tasks or
 * groups: found by tests/integration/test_malformed.py. */
static void test_logs_parse_error_under_200(void **state)
{
    (void)state;
    static const char body[] = "{\"__type\": \"com.amazon.coral.service#InternalFailure\", "
                               "\"message\": \"We encountered an internal error.\"}";
    char msg[256];
    struct cwx_logs_export_tasks l;
    struct cwx_logs_log_groups g;
    char *task_id = NULL;
    assert_int_equal(cwx_logs_parse_describe_export_tasks(LIT(body), &l, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_non_null(strstr(msg, "InternalFailure"));
    assert_int_equal(cwx_logs_parse_describe_log_groups(LIT(body), &g, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_int_equal(cwx_logs_parse_create_export_task(LIT(body), &task_id, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_null(task_id);
    /* a control character in the code does not reach the message */
    assert_int_equal(cwx_logs_parse_describe_log_groups(LIT("{\"__type\": \"a\\nb\", "
                                                            "\"logGroups\": []}"),
                                                        &g, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_null(strchr(msg, '\n'));
}

static void test_logs_parse_describe_export_tasks_garbage(void **state)
{
    (void)state;
    struct cwx_logs_export_tasks l;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "null",
        "[]",
        "\"exportTasks\"",
        "{\"exportTasks\": {}}",
        "{\"exportTasks\": \"x\"}",
        "{\"exportTasks\": [1]}",
        "{\"exportTasks\": [null]}",
        "{\"exportTasks\": [{}]}",
        "{\"exportTasks\": [{\"taskId\": 7}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"from\": \"1441490400000\"}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"from\": 1e300}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"from\": 1e400}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"from\": -1}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"to\": 1.5}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"to\": 9007199254740993}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"status\": \"COMPLETED\"}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"status\": {\"code\": 3}}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"status\": {\"message\": []}}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"executionInfo\": []}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"executionInfo\": {\"creationTime\": true}}]}",
        "{\"exportTasks\": [{\"taskId\": \"a\", \"taskName\": {}}]}",
        "{\"exportTasks\": [], \"nextToken\": 5}",
        "{\"exportTasks\": []} x",
        "{\"exportTasks\": []}{}",
        "{\"exportTasks\": [],}",
        "{'exportTasks': []}",
        "{\"exportTasks\": [{\"taskId\": \"a\"}, 2]}",
        "<html>503 Service Unavailable</html>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_BAD(cwx_logs_parse_describe_export_tasks, bad[i], &l);
    /* the message names the offending member */
    char msg[256];
    assert_int_equal(cwx_logs_parse_describe_export_tasks(
                         LIT("{\"exportTasks\":[{\"taskId\":\"a\"},{\"taskId\":\"b\",\"from\":\"x\"}]}"),
                         &l, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_non_null(strstr(msg, "exportTasks[1]"));
    assert_non_null(strstr(msg, "from"));
    /* NULL msg is allowed */
    assert_int_equal(cwx_logs_parse_describe_export_tasks(LIT("{"), &l, NULL, 0), CWX_EPARSE);
    /* a NUL inside the buffer */
    assert_int_equal(cwx_logs_parse_describe_export_tasks("{}\0{}", 5, &l, msg, sizeof(msg)),
                     CWX_EPARSE);

    s_truncations(LIT(s_describe_tasks), s_p_tasks, s_r_tasks, &l);

    /* deep nesting: refused by cJSON's nesting limit, without a crash */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 32);
    assert_non_null(deep);
    size_t n = (size_t)sprintf(deep, "{\"exportTasks\":");
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_int_equal(cwx_logs_parse_describe_export_tasks(deep, n, &l, msg, sizeof(msg)),
                     CWX_EPARSE);
    free(deep);
}

static void test_logs_parse_create_export_task(void **state)
{
    (void)state;
    char *id = NULL;
    char msg[256];
    static const char ok[] = "{\"taskId\": \"cda45419-90ea-4db5-9833-aade86253e66\"}";
    assert_int_equal(cwx_logs_parse_create_export_task(LIT(ok), &id, msg, sizeof(msg)), 0);
    assert_string_equal(id, "cda45419-90ea-4db5-9833-aade86253e66");
    free(id);
    static const char *const bad[] = {
        "", "{}", "{\"taskId\": null}", "{\"taskId\": \"\"}", "{\"taskId\": 12}",
        "{\"taskId\": [\"a\"]}", "[\"taskId\"]", "{\"taskId\": \"a\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_BAD(cwx_logs_parse_create_export_task, bad[i], &id);
        assert_null(id);
    }
    s_truncations(LIT(ok), s_p_create, s_r_str, &id);
}

static const char s_describe_groups[] =
    "{\"logGroups\": ["
    "{\"arn\": \"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api:*\","
    " \"creationTime\": 1577836800000, \"logGroupName\": \"/aws/lambda/api\","
    " \"metricFilterCount\": 0, \"retentionInDays\": 365, \"storedBytes\": 123456789012,"
    " \"logGroupArn\": \"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api\","
    " \"logGroupClass\": \"STANDARD\"},"
    "{\"arn\": \"arn:aws:logs:us-east-1:123456789012:log-group:/app/audit:*\","
    " \"creationTime\": 1600000000000, \"logGroupName\": \"/app/audit\","
    " \"metricFilterCount\": 2, \"storedBytes\": 0}"
    "], \"nextToken\": \"/aws/lambda/api/2\"}";

/* With logGroupNamePattern the answer has no storedBytes or retention. */
static const char s_describe_groups_pattern[] =
    "{\"logGroups\":[{\"arn\":\"arn:aws:logs:us-east-1:123456789012:log-group:payments-prod:*\","
    "\"creationTime\":1650000000000,\"logGroupName\":\"payments-prod\"}]}";

static void test_logs_describe_log_streams(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    struct cwx_logs_describe_log_streams_req r = {.log_group_name = "/app/api",
                                                  .order_by = CWX_STREAMS_BY_LAST_EVENT,
                                                  .descending = 1, .limit = 50,
                                                  .next_token = "t"};
    assert_int_equal(cwx__logs_describe_log_streams_body(&r, &b), 0);
    assert_string_equal(b.ptr, "{\"logGroupName\":\"/app/api\",\"orderBy\":\"LastEventTime\","
                               "\"descending\":true,\"limit\":50,\"nextToken\":\"t\"}");
    cwx_buf_reset(&b);
    r = (struct cwx_logs_describe_log_streams_req){.log_group_identifier = "arn:x",
                                                   .prefix = "web-"};
    assert_int_equal(cwx__logs_describe_log_streams_body(&r, &b), 0);
    assert_string_equal(b.ptr, "{\"logGroupIdentifier\":\"arn:x\",\"logStreamNamePrefix\":\"web-\"}");
    r = (struct cwx_logs_describe_log_streams_req){.log_group_name = "/a", .prefix = "w",
                                                   .order_by = CWX_STREAMS_BY_LAST_EVENT};
    assert_int_equal(cwx__logs_describe_log_streams_body(&r, &b), CWX_EINVAL);
    r = (struct cwx_logs_describe_log_streams_req){.log_group_name = "/a",
                                                   .log_group_identifier = "/a"};
    assert_int_equal(cwx__logs_describe_log_streams_body(&r, &b), CWX_EINVAL);
    r = (struct cwx_logs_describe_log_streams_req){0};
    assert_int_equal(cwx__logs_describe_log_streams_body(&r, &b), CWX_EINVAL);
    r = (struct cwx_logs_describe_log_streams_req){.log_group_name = "/a", .limit = 51};
    assert_int_equal(cwx__logs_describe_log_streams_body(&r, &b), CWX_EINVAL);
    cwx_buf_free(&b);

    struct cwx_logs_log_streams l;
    char msg[256];
    static const char ok[] =
        "{\"logStreams\": [{\"logStreamName\": \"web-1\", \"creationTime\": 1700000000000,"
        " \"firstEventTimestamp\": 1700000001000, \"lastEventTimestamp\": 1700000100000,"
        " \"lastIngestionTime\": 1700000100500, \"storedBytes\": 0, \"arn\": \"a\"},"
        " {\"logStreamName\": \"idle\", \"creationTime\": 1700000000000}],"
        " \"nextToken\": \"n2\"}";
    assert_int_equal(cwx_logs_parse_describe_log_streams(LIT(ok), &l, msg, sizeof(msg)), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.streams[0].name, "web-1");
    assert_int_equal(l.streams[0].first_event_ms, 1700000001000LL);
    assert_int_equal(l.streams[0].last_event_ms, 1700000100000LL);
    assert_int_equal(l.streams[0].last_ingestion_ms, 1700000100500LL);
    assert_int_equal(l.streams[1].first_event_ms, 0);
    assert_string_equal(l.next_token, "n2");
    cwx_logs_log_streams_free(&l);
    static const char *const bad[] = {
        "",
        "{\"logStreams\": [{}]}",
        "{\"logStreams\": [{\"logStreamName\": \"a\", \"lastEventTimestamp\": -1}]}",
        "{\"logStreams\": [{\"logStreamName\": \"a\", \"firstEventTimestamp\": \"1\"}]}",
        "{\"logStreams\": 3}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(
            cwx_logs_parse_describe_log_streams(bad[i], strlen(bad[i]), &l, msg, sizeof(msg)), 0);
        assert_null(l.streams);
    }
}

static void test_logs_parse_describe_log_groups(void **state)
{
    (void)state;
    struct cwx_logs_log_groups l;
    char msg[256];
    assert_int_equal(
        cwx_logs_parse_describe_log_groups(LIT(s_describe_groups), &l, msg, sizeof(msg)), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.next_token, "/aws/lambda/api/2");
    assert_string_equal(l.groups[0].name, "/aws/lambda/api");
    assert_string_equal(l.groups[0].arn,
                        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/api:*");
    assert_int_equal(l.groups[0].creation_time_ms, 1577836800000LL);
    assert_int_equal(l.groups[0].retention_days, 365);
    assert_int_equal(l.groups[0].stored_bytes, 123456789012LL);
    assert_int_equal(l.groups[1].retention_days, 0);
    assert_int_equal(l.groups[1].stored_bytes, 0);
    cwx_logs_log_groups_free(&l);

    assert_int_equal(cwx_logs_parse_describe_log_groups(LIT(s_describe_groups_pattern), &l,
                                                        msg, sizeof(msg)),
                     0);
    assert_int_equal(l.n, 1);
    assert_null(l.next_token);
    assert_string_equal(l.groups[0].name, "payments-prod");
    assert_int_equal(l.groups[0].stored_bytes, -1);
    assert_int_equal(l.groups[0].retention_days, 0);
    cwx_logs_log_groups_free(&l);

    static const char *const bad[] = {
        "",
        "{\"logGroups\": [{}]}",
        "{\"logGroups\": [{\"logGroupName\": 1}]}",
        "{\"logGroups\": [{\"logGroupName\": \"a\", \"storedBytes\": \"12\"}]}",
        "{\"logGroups\": [{\"logGroupName\": \"a\", \"storedBytes\": -5}]}",
        "{\"logGroups\": [{\"logGroupName\": \"a\", \"retentionInDays\": 1e9}]}",
        "{\"logGroups\": [{\"logGroupName\": \"a\", \"retentionInDays\": 3.5}]}",
        "{\"logGroups\": [{\"logGroupName\": \"a\", \"creationTime\": {}}]}",
        "{\"logGroups\": [{\"logGroupName\": \"a\", \"arn\": false}]}",
        "{\"logGroups\": {\"logGroupName\": \"a\"}}",
        "{\"logGroups\": [], \"nextToken\": []}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_BAD(cwx_logs_parse_describe_log_groups, bad[i], &l);
    s_truncations(LIT(s_describe_groups), s_p_groups, s_r_groups, &l);
}

static void test_logs_parse_many(void **state)
{
    (void)state;
    /* 2,000 groups in one answer (more than AWS sends) parse fine */
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_puts(&b, "{\"logGroups\":["), 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(cwx_buf_printf(&b, "%s{\"logGroupName\":\"/g/%d\",\"storedBytes\":%d}",
                                        i ? "," : "", i, i),
                         0);
    assert_int_equal(cwx_buf_puts(&b, "]}"), 0);
    struct cwx_logs_log_groups l;
    assert_int_equal(cwx_logs_parse_describe_log_groups(b.ptr, b.len, &l, NULL, 0), 0);
    assert_int_equal(l.n, 2000);
    assert_string_equal(l.groups[1999].name, "/g/1999");
    assert_int_equal(l.groups[1999].stored_bytes, 1999);
    cwx_logs_log_groups_free(&l);
    cwx_buf_free(&b);
}

/* ---- s3 -------------------------------------------------------------------- */

/* Shaped like S3's answer with encoding-type=url: keys and prefixes
 * encoded, '+' for a space. */
static const char s_list_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>my-log-archive</Name>"
    "<Prefix>123456789012%2Fus-east-1%2F</Prefix>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "<KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>"
    "<Delimiter>%2F</Delimiter>"
    "<EncodingType>url</EncodingType>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>123456789012%2Fus-east-1%2Faws-logs-write-test</Key>"
    "<LastModified>2024-04-01T00:00:05.000Z</LastModified>"
    "<ETag>&quot;8c2f8b1e0e1b9f3a5f0c8e3f2d1a4b6c&quot;</ETag>"
    "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
    "<Size>27</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>123456789012%2Fus-east-1%2Fa+b%2Bc%C3%A9.gz</Key>"
    "<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>\"fba9dede5f27731c9771645a39863328-2\"</ETag>"
    "<Size>434234</Size>"
    "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
    "<DisplayName>mtd@amazon.com</DisplayName></Owner>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>k</Key><Size>9223372036854775807</Size></Contents>"
    "<CommonPrefixes><Prefix>123456789012%2Fus-east-1%2Faws%2F</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>123456789012%2Fus-east-1%2Fapp%2F</Prefix></CommonPrefixes>"
    "</ListBucketResult>";

static void s_check_list_page(const struct cwx_s3_list_page *p)
{
    assert_int_equal(p->n_objects, 3);
    assert_string_equal(p->objects[0].key, "123456789012/us-east-1/aws-logs-write-test");
    assert_int_equal(p->objects[0].size, 27);
    assert_int_equal(p->objects[0].last_modified_ms, 1711929605000LL);
    assert_string_equal(p->objects[0].etag, "\"8c2f8b1e0e1b9f3a5f0c8e3f2d1a4b6c\"");
    assert_string_equal(p->objects[1].key, "123456789012/us-east-1/a b+c\xc3\xa9.gz");
    assert_int_equal(p->objects[1].size, 434234);
    assert_int_equal(p->objects[1].last_modified_ms, 1255369830000LL);
    assert_string_equal(p->objects[1].etag, "\"fba9dede5f27731c9771645a39863328-2\"");
    assert_string_equal(p->objects[2].etag, "");
    assert_int_equal(p->objects[2].last_modified_ms, 0);
    assert_int_equal(p->objects[2].size, INT64_MAX);
    assert_int_equal(p->n_prefixes, 2);
    assert_string_equal(p->common_prefixes[0], "123456789012/us-east-1/aws/");
    assert_string_equal(p->common_prefixes[1], "123456789012/us-east-1/app/");
    assert_true(p->is_truncated);
    assert_string_equal(p->next_continuation_token,
                        "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    assert_int_equal(p->key_count, 3);
}

static void test_s3_parse_list(void **state)
{
    (void)state;
    struct cwx_s3_list_page p;
    char msg[256] = "";
    assert_int_equal(cwx_s3_parse_list_objects_v2(LIT(s_list_xml), &p, msg, sizeof(msg)), 0);
    s_check_list_page(&p);
    cwx_s3_list_page_free(&p);

    /* the last page of a listing, and an empty one */
    static const char last[] =
        "<ListBucketResult><Name>b</Name><KeyCount>1</KeyCount>"
        "<IsTruncated>false</IsTruncated>"
        "<Contents><Key>a%20b</Key><Size>1</Size></Contents></ListBucketResult>";
    assert_int_equal(cwx_s3_parse_list_objects_v2(LIT(last), &p, msg, sizeof(msg)), 0);
    assert_false(p.is_truncated);
    assert_null(p.next_continuation_token);
    /* no EncodingType in the answer: the key is taken as is */
    assert_string_equal(p.objects[0].key, "a%20b");
    cwx_s3_list_page_free(&p);
    static const char empty[] =
        "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>x/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
        "<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><CommonPrefixes/>"
        "</ListBucketResult>";
    assert_int_equal(cwx_s3_parse_list_objects_v2(LIT(empty), &p, msg, sizeof(msg)), 0);
    assert_int_equal(p.n_objects, 0);
    assert_int_equal(p.n_prefixes, 0);
    assert_int_equal(p.key_count, 0);
    cwx_s3_list_page_free(&p);
}

static void test_s3_parse_list_streamed(void **state)
{
    (void)state;
    struct cwx_s3_list_parser *ps;
    assert_int_equal(cwx_s3_list_parser_new(&ps), 0);
    size_t len = sizeof(s_list_xml) - 1;
    /* every split point, and byte by byte */
    for (size_t cut = 0; cut <= len; cut += 7) {
        struct cwx_s3_list_page p;
        assert_int_equal(cwx_s3_list_parser_reset(ps), 0);
        assert_int_equal(cwx_s3_list_parser_feed(ps, s_list_xml, cut), 0);
        assert_int_equal(cwx_s3_list_parser_feed(ps, s_list_xml + cut, len - cut), 0);
        assert_int_equal(cwx_s3_list_parser_finish(ps, &p, NULL, 0), 0);
        s_check_list_page(&p);
        cwx_s3_list_page_free(&p);
    }
    struct cwx_s3_list_page p;
    assert_int_equal(cwx_s3_list_parser_reset(ps), 0);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(cwx_s3_list_parser_feed(ps, s_list_xml + i, 1), 0);
    assert_int_equal(cwx_s3_list_parser_finish(ps, &p, NULL, 0), 0);
    s_check_list_page(&p);
    cwx_s3_list_page_free(&p);

    /* a retried attempt: half a page of garbage, reset, then the real page */
    assert_int_equal(cwx_s3_list_parser_reset(ps), 0);
    cwx_s3_list_parser_feed(ps, LIT("<Error><Code>Internal"));
    assert_int_equal(cwx_s3_list_parser_reset(ps), 0);
    assert_int_equal(cwx_s3_list_parser_feed(ps, LIT(s_list_xml)), 0);
    assert_int_equal(cwx_s3_list_parser_finish(ps, &p, NULL, 0), 0);
    s_check_list_page(&p);
    cwx_s3_list_page_free(&p);

    /* errors are sticky and reported at finish */
    char msg[256] = "";
    assert_int_equal(cwx_s3_list_parser_reset(ps), 0);
    assert_int_equal(cwx_s3_list_parser_feed(ps, LIT("<ListBucketResult><<")), CWX_EPARSE);
    assert_int_equal(cwx_s3_list_parser_feed(ps, LIT("</ListBucketResult>")), CWX_EPARSE);
    assert_int_equal(cwx_s3_list_parser_finish(ps, &p, msg, sizeof(msg)), CWX_EPARSE);
    assert_non_null(strstr(msg, "invalid XML"));
    assert_int_equal(p.n_objects, 0);
    cwx_s3_list_parser_free(ps);
}

static void test_s3_parse_list_garbage(void **state)
{
    (void)state;
    struct cwx_s3_list_page p;
    static const char *const bad[] = {
        "",
        "not xml",
        "<ListBucketResult>",
        "<ListBucketResult></ListBucket>",
        "<ListBucketResult/><x/>",
        "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist"
        "</Message></Error>",
        "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><KeyCount>-1</KeyCount></ListBucketResult>",
        "<ListBucketResult><KeyCount>99999999999999999999</KeyCount></ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1k</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size></Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><LastModified>yesterday</LastModified>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%zz</Key>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a%00b</Key>"
        "</Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>",
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
        "<ListBucketResult><Name>&lol2;</Name></ListBucketResult>",
        "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><ListBucketResult/>",
        "<ListBucketResult>\xff\xfe</ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_BAD(cwx_s3_parse_list_objects_v2, bad[i], &p);

    char msg[256];
    assert_int_equal(cwx_s3_parse_list_objects_v2(LIT("<Error><Code>X</Code></Error>"), &p, msg,
                                                  sizeof(msg)),
                     CWX_EPARSE);
    assert_non_null(strstr(msg, "<Error>"));

    s_truncations(LIT(s_list_xml), s_p_list, s_r_list, &p);

    /* an element of 1 MiB of text: refused, bounded */
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_puts(&b, "<ListBucketResult><Contents><Key>"), 0);
    assert_int_equal(cwx_buf_reserve(&b, 1 << 20), 0);
    memset(b.ptr + b.len, 'a', 1 << 20);
    b.len += 1 << 20;
    b.ptr[b.len] = '\0';
    assert_int_equal(cwx_buf_puts(&b, "</Key></Contents></ListBucketResult>"), 0);
    assert_int_equal(cwx_s3_parse_list_objects_v2(b.ptr, b.len, &p, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_non_null(strstr(msg, "too long"));
    cwx_buf_reset(&b);

    /* deep nesting */
    assert_int_equal(cwx_buf_puts(&b, "<ListBucketResult>"), 0);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(cwx_buf_puts(&b, "<a>"), 0);
    assert_int_equal(cwx_s3_parse_list_objects_v2(b.ptr, b.len, &p, msg, sizeof(msg)),
                     CWX_EPARSE);
    cwx_buf_free(&b);
}

static void test_s3_parse_list_big_page(void **state)
{
    (void)state;
    /* 1,000 keys, as a full page has */
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx_buf_puts(&b, "<ListBucketResult><EncodingType>url</EncodingType>"
                                      "<KeyCount>1000</KeyCount>"),
                     0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cwx_buf_printf(&b,
                                        "<Contents><Key>p%%2F%06d.gz</Key><Size>%d</Size>"
                                        "<LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                                        "<ETag>&quot;e%d&quot;</ETag></Contents>",
                                        i, i * 10, i),
                         0);
    assert_int_equal(cwx_buf_puts(&b, "<IsTruncated>false</IsTruncated></ListBucketResult>"), 0);
    struct cwx_s3_list_page p;
    assert_int_equal(cwx_s3_parse_list_objects_v2(b.ptr, b.len, &p, NULL, 0), 0);
    assert_int_equal(p.n_objects, 1000);
    assert_string_equal(p.objects[999].key, "p/000999.gz");
    assert_int_equal(p.objects[999].size, 9990);
    assert_string_equal(p.objects[999].etag, "\"e999\"");
    cwx_s3_list_page_free(&p);
    cwx_buf_free(&b);
}

static void test_s3_request_pieces(void **state)
{
    (void)state;
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    assert_int_equal(cwx__s3_encode_key(&b, "_cwexport/123/us-east-1/a b+c/2024-03.json"), 0);
    assert_string_equal(b.ptr, "/_cwexport/123/us-east-1/a%20b%2Bc/2024-03.json");
    cwx_buf_reset(&b);
    assert_int_equal(cwx__s3_encode_key(&b, "x//y~\xc3\xa9=?#"), 0);
    assert_string_equal(b.ptr, "/x//y~%C3%A9%3D%3F%23");

    cwx_buf_reset(&b);
    struct cwx_s3_list_req req = {.bucket = "b"};
    assert_int_equal(cwx__s3_list_query(&req, &b), 0);
    assert_string_equal(b.ptr, "encoding-type=url&list-type=2");
    cwx_buf_reset(&b);
    req = (struct cwx_s3_list_req){
        .bucket = "b",
        .prefix = "_cwexport/1 2/",
        .delimiter = "/",
        .max_keys = 1000,
        .continuation_token = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
        .start_after = "a+b",
    };
    assert_int_equal(cwx__s3_list_query(&req, &b), 0);
    assert_string_equal(b.ptr,
                        "continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D"
                        "&delimiter=%2F&encoding-type=url&list-type=2&max-keys=1000"
                        "&prefix=_cwexport%2F1%202%2F&start-after=a%2Bb");
    req.max_keys = 1001;
    assert_int_equal(cwx__s3_list_query(&req, &b), CWX_EINVAL);
    cwx_buf_free(&b);
}

/* ---- sns ----------------------------------------------------------------------- */

static const char s_publish_xml[] =
    "<PublishResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\">\n"
    "  <PublishResult>\n"
    "    <MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId>\n"
    "  </PublishResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</PublishResponse>\n";

static void test_sns_parse_publish(void **state)
{
    (void)state;
    char *id = NULL;
    char msg[256];
    assert_int_equal(cwx_sns_parse_publish(LIT(s_publish_xml), &id, msg, sizeof(msg)), 0);
    assert_string_equal(id, "567910cd-659e-55d4-8ccb-5aaf14679dc0");
    free(id);
    static const char *const bad[] = {
        "",
        "<PublishResponse/>",
        "<PublishResponse><PublishResult><MessageId></MessageId></PublishResult>"
        "</PublishResponse>",
        "<PublishResponse><PublishResult><MessageId>x</MessageId></PublishResult>",
        "<PublishResult><MessageId>x</MessageId></PublishResult>",
        "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>"
        "<Message>Topic does not exist</Message></Error></ErrorResponse>",
        "<!DOCTYPE a [<!ENTITY e \"x\">]><PublishResponse><PublishResult><MessageId>&e;"
        "</MessageId></PublishResult></PublishResponse>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_BAD(cwx_sns_parse_publish, bad[i], &id);
        assert_null(id);
    }
    assert_int_equal(cwx_sns_parse_publish(LIT("<PublishResponse/>"), &id, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_non_null(strstr(msg, "MessageId"));
    s_truncations(LIT(s_publish_xml), s_p_publish, s_r_str, &id);
}

/* ---- sts -------------------------------------------------------------------------- */

static const char s_identity_xml[] =
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <GetCallerIdentityResult>\n"
    "    <Arn>arn:aws:iam::123456789012:user/Alice</Arn>\n"
    "    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\n"
    "    <Account>123456789012</Account>\n"
    "  </GetCallerIdentityResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</GetCallerIdentityResponse>\n";

static void test_sts_parse_identity(void **state)
{
    (void)state;
    struct cwx__sts_identity id;
    char msg[256];
    assert_int_equal(cwx_sts_parse_get_caller_identity(LIT(s_identity_xml), &id, msg,
                                                       sizeof(msg)),
                     0);
    assert_string_equal(id.account, "123456789012");
    assert_string_equal(id.arn, "arn:aws:iam::123456789012:user/Alice");
    assert_string_equal(id.user_id, "AIDACKCEVSQ6C2EXAMPLE");
    cwx__sts_identity_free(&id);
    static const char *const bad[] = {
        "",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn>"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Account></Account><Arn>a</Arn>"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Account><x>1</x></Account>"
        "<Arn>a</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResult><Account>1</Account><Arn>a</Arn></GetCallerIdentityResult>",
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
        "<Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token "
        "included in the request is invalid.</Message></Error><RequestId>x</RequestId>"
        "</ErrorResponse>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_BAD(cwx_sts_parse_get_caller_identity, bad[i], &id);
    s_truncations(LIT(s_identity_xml), s_p_identity, s_r_identity, &id);
}

static const char s_assume_xml[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "<AssumeRoleResult>\n"
    "<SourceIdentity>Alice</SourceIdentity>\n"
    "  <AssumedRoleUser>\n"
    "    <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
    "    <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
    "  </AssumedRoleUser>\n"
    "  <Credentials>\n"
    "    <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "    <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "    <SessionToken>\n"
    "     AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW\n"
    "     LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd\n"
    "    </SessionToken>\n"
    "    <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
    "  </Credentials>\n"
    "  <PackedPolicySize>6</PackedPolicySize>\n"
    "</AssumeRoleResult>\n"
    "<ResponseMetadata>\n"
    "  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "</ResponseMetadata>\n"
    "</AssumeRoleResponse>";

static const char s_assume_web_xml[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleWithWebIdentityResult>"
    "<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>"
    "<Audience>sts.amazonaws.com</Audience>"
    "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/eks/cwexport</Arn>"
    "<AssumedRoleId>AROACLKWSDQRAOEXAMPLE:cwexport</AssumedRoleId></AssumedRoleUser>"
    "<Credentials><SessionToken>AQoEXAMPLEH4aoAH0gNCAPy</SessionToken>"
    "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
    "<Expiration>2014-10-24T23:00:23.123Z</Expiration>"
    "<AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId></Credentials>"
    "<Provider>www.amazon.com</Provider>"
    "</AssumeRoleWithWebIdentityResult>"
    "<ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>"
    "</ResponseMetadata></AssumeRoleWithWebIdentityResponse>";

static void test_sts_parse_assume_role(void **state)
{
    (void)state;
    struct cwx_sts_assumed_role r;
    char msg[256];
    assert_int_equal(
        cwx_sts_parse_assume_role(LIT(s_assume_xml), "AssumeRole", &r, msg, sizeof(msg)), 0);
    assert_string_equal(r.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    assert_string_equal(r.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
    /* the token's text is taken as sent (AWS sends it on one line) */
    assert_non_null(strstr(r.session_token, "AQoDYXdzEPT//////////wEXAMPLE"));
    assert_int_equal(r.expiration_ms, 1573306481000LL);
    assert_string_equal(r.assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/demo/TestAR");
    assert_string_equal(r.assumed_role_id, "ARO123EXAMPLE123:TestAR");

    struct cwx_sts_assumed_role copy;
    assert_int_equal(cwx_sts_assumed_role_copy(&copy, &r), 0);
    cwx_sts_assumed_role_free(&r);
    assert_null(r.secret_access_key);
    assert_string_equal(copy.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    cwx_sts_assumed_role_free(&copy);

    /* the operation names the root: one answer is not the other */
    assert_int_equal(cwx_sts_parse_assume_role(LIT(s_assume_xml), "AssumeRoleWithWebIdentity",
                                               &r, msg, sizeof(msg)),
                     CWX_EPARSE);
    assert_int_equal(cwx_sts_parse_assume_role(LIT(s_assume_web_xml),
                                               "AssumeRoleWithWebIdentity", &r, msg,
                                               sizeof(msg)),
                     0);
    assert_string_equal(r.access_key_id, "ASgeIAIOSFODNN7EXAMPLE");
    assert_string_equal(r.session_token, "AQoEXAMPLEH4aoAH0gNCAPy");
    assert_int_equal(r.expiration_ms, 1414191623123LL);
    assert_string_equal(r.assumed_role_arn, "arn:aws:sts::123456789012:assumed-role/eks/cwexport");
    cwx_sts_assumed_role_free(&r);
    assert_int_equal(cwx_sts_parse_assume_role(LIT(s_assume_xml), "GetSessionToken", &r, msg,
                                               sizeof(msg)),
                     CWX_EINVAL);

    static const char *const bad[] = {
        "",
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
        "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
        "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
        "<Expiration>soon</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId></AccessKeyId>"
        "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
        "<Expiration>2019-11-09T13:34:41Z</Expiration></Credentials></AssumeRoleResult>"
        "</AssumeRoleResponse>",
        "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_BAD(s_p_assume, bad[i], &r);
    s_truncations(LIT(s_assume_xml), s_p_assume, s_r_assume, &r);
    s_truncations(LIT(s_assume_web_xml), s_p_assume_web, s_r_assume, &r);
}

/* ---- everything on random and mutated input ------------------------------------------ */

struct s_target {
    int (*parse)(const char *, size_t, void *, char *, size_t);
    void (*release)(void *);
    const char *seed;
    size_t seed_len;
};

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;
static uint32_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 11);
}

static void test_parsers_mutated(void **state)
{
    (void)state;
    const struct s_target targets[] = {
        {s_p_tasks, s_r_tasks, LIT(s_describe_tasks)},
        {s_p_groups, s_r_groups, LIT(s_describe_groups)},
        {s_p_create, s_r_str, LIT("{\"taskId\": \"abc\"}")},
        {s_p_list, s_r_list, LIT(s_list_xml)},
        {s_p_publish, s_r_str, LIT(s_publish_xml)},
        {s_p_identity, s_r_identity, LIT(s_identity_xml)},
        {s_p_assume, s_r_assume, LIT(s_assume_xml)},
        {s_p_assume_web, s_r_assume, LIT(s_assume_web_xml)},
    };
    static const char alphabet[] = "{}[]\":,<>/&;% \\0123456789aZ\x00\xff\xc3";
    union {
        struct cwx_logs_export_tasks t;
        struct cwx_logs_log_groups g;
        struct cwx_s3_list_page p;
        struct cwx__sts_identity i;
        struct cwx_sts_assumed_role r;
        char *s;
    } out;
    char msg[256];
    for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
        const struct s_target *t = &targets[k];
        for (int round = 0; round < 2000; round++) {
            size_t len = t->seed_len;
            char *buf = malloc(len + 16);
            assert_non_null(buf);
            memcpy(buf, t->seed, len);
            int edits = 1 + (int)(s_rand() % 4);
            for (int e = 0; e < edits && len; e++) {
                size_t at = s_rand() % len;
                switch (s_rand() % 3) {
                case 0: /* replace a byte */
                    buf[at] = alphabet[s_rand() % (sizeof(alphabet) - 1)];
                    break;
                case 1: /* delete a byte */
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                default: /* truncate */
                    len = at;
                }
            }
            memset(&out, 0xA5, sizeof(out));
            int rc = t->parse(buf, len, &out, msg, sizeof(msg));
            if (rc == 0)
                t->release(&out);
            else
                assert_true(rc == CWX_EPARSE || rc == CWX_ENOMEM);
            free(buf);
        }
        /* pure noise */
        for (int round = 0; round < 500; round++) {
            size_t len = s_rand() % 512;
            char *buf = malloc(len + 1);
            assert_non_null(buf);
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)s_rand();
            int rc = t->parse(buf, len, &out, msg, sizeof(msg));
            if (rc == 0)
                t->release(&out);
            free(buf);
        }
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_iso8601),
    cmocka_unit_test(test_http_date),
    cmocka_unit_test(test_percent_encoding),
    cmocka_unit_test(test_logs_create_export_task_body),
    cmocka_unit_test(test_logs_describe_bodies),
    cmocka_unit_test(test_export_status),
    cmocka_unit_test(test_logs_parse_describe_export_tasks),
    cmocka_unit_test(test_logs_parse_describe_export_tasks_garbage),
    cmocka_unit_test(test_logs_parse_error_under_200),
    cmocka_unit_test(test_logs_parse_create_export_task),
    cmocka_unit_test(test_logs_parse_describe_log_groups),
    cmocka_unit_test(test_logs_describe_log_streams),
    cmocka_unit_test(test_logs_parse_many),
    cmocka_unit_test(test_s3_parse_list),
    cmocka_unit_test(test_s3_parse_list_streamed),
    cmocka_unit_test(test_s3_parse_list_garbage),
    cmocka_unit_test(test_s3_parse_list_big_page),
    cmocka_unit_test(test_s3_request_pieces),
    cmocka_unit_test(test_sns_parse_publish),
    cmocka_unit_test(test_sts_parse_identity),
    cmocka_unit_test(test_sts_parse_assume_role),
    cmocka_unit_test(test_parsers_mutated),
};

CWX_TEST_MAIN(tests)
