/* aws_clients_probe: runs one client call against whatever endpoint the
 * environment names (AWS_ENDPOINT_URL, AWS_REGION, credentials from the
 * default chain) and prints its outcome as one JSON line, for
 * tests/integration/test_aws_clients.py to assert on.
 *
 *   aws_clients_probe OP [name=value ...]
 *
 * OP is one of sts.identity, sts.assume, sts.assume_web, logs.groups,
 * logs.create, logs.describe, logs.cancel, s3.list, s3.head, s3.head_bucket,
 * s3.put, s3.get, s3.delete, sns.publish. Output:
 *   {"status": "OK"|"E…", "code": AWS code, "http": status, "message": …,
 *    "request_id": …, "result": {…}}
 * Secrets are never printed (only their lengths). The exit status is 0
 * whenever the call ran to its callback, 2 for usage errors, 3 when the
 * loop did not close cleanly. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/logs.h"
#include "aws/s3.h"
#include "aws/sns.h"
#include "aws/sts.h"
#include "common/error.h"

#define MAX_ARGS 16

static struct {
    int argc;
    char *names[MAX_ARGS];
    char *values[MAX_ARGS];
} s_args;

static const char *s_arg(const char *name)
{
    for (int i = 0; i < s_args.argc; i++)
        if (!strcmp(s_args.names[i], name))
            return s_args.values[i];
    return NULL;
}

static int64_t s_arg_i64(const char *name, int64_t dflt)
{
    const char *v = s_arg(name);
    return v ? strtoll(v, NULL, 10) : dflt;
}

/* The document printed at the end. */
static cJSON *s_out;
static cJSON *s_result;
static int s_done;
static struct cwx_aws_client *s_client;

static void s_finish(int status, const struct cwx_aws_error *err)
{
    cJSON_AddStringToObject(s_out, "status", status ? cwx_err_name(status) : "OK");
    if (err) {
        cJSON_AddStringToObject(s_out, "code", err->code);
        cJSON_AddNumberToObject(s_out, "http", (double)err->http_status);
        cJSON_AddStringToObject(s_out, "message", err->message);
        cJSON_AddStringToObject(s_out, "request_id", err->request_id);
        cJSON_AddNumberToObject(s_out, "attempts", err->attempts);
    }
    s_done++;
}

/* ---- sts ------------------------------------------------------------------ */

static void s_on_identity(int status, const struct cwx_sts_identity *res,
                          const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res) {
        cJSON_AddStringToObject(s_result, "account", res->account);
        cJSON_AddStringToObject(s_result, "arn", res->arn);
        cJSON_AddStringToObject(s_result, "user_id", res->user_id);
    }
    s_finish(status, err);
}

static void s_on_assume(int status, const struct cwx_sts_assumed_role *res,
                        const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res) {
        cJSON_AddStringToObject(s_result, "access_key_id", res->access_key_id);
        cJSON_AddNumberToObject(s_result, "secret_len", (double)strlen(res->secret_access_key));
        cJSON_AddNumberToObject(s_result, "token_len", (double)strlen(res->session_token));
        cJSON_AddNumberToObject(s_result, "expiration_ms", (double)res->expiration_ms);
        cJSON_AddStringToObject(s_result, "assumed_role_arn", res->assumed_role_arn);
    }
    s_finish(status, err);
}

/* ---- logs ------------------------------------------------------------------- */

static void s_add_groups(const struct cwx_logs_log_groups *l)
{
    cJSON *arr = cJSON_AddArrayToObject(s_result, "groups");
    for (size_t i = 0; i < l->n; i++) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "name", l->groups[i].name);
        cJSON_AddStringToObject(g, "arn", l->groups[i].arn);
        cJSON_AddNumberToObject(g, "creation_time_ms", (double)l->groups[i].creation_time_ms);
        cJSON_AddNumberToObject(g, "retention_days", l->groups[i].retention_days);
        cJSON_AddNumberToObject(g, "stored_bytes", (double)l->groups[i].stored_bytes);
        cJSON_AddItemToArray(arr, g);
    }
    if (l->next_token)
        cJSON_AddStringToObject(s_result, "next_token", l->next_token);
    cJSON_AddBoolToObject(s_result, "truncated", l->truncated);
}

static void s_on_groups(int status, const struct cwx_logs_log_groups *res,
                        const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res)
        s_add_groups(res);
    s_finish(status, err);
}

static void s_on_groups_all(int status, struct cwx_logs_log_groups *all,
                            const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (all) {
        s_add_groups(all);
        cwx_logs_log_groups_free(all);
    }
    s_finish(status, err);
}

static void s_on_created(int status, const struct cwx_logs_create_export_task_result *res,
                         const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res)
        cJSON_AddStringToObject(s_result, "task_id", res->task_id);
    s_finish(status, err);
}

static void s_add_tasks(const struct cwx_logs_export_tasks *l)
{
    cJSON *arr = cJSON_AddArrayToObject(s_result, "tasks");
    for (size_t i = 0; i < l->n; i++) {
        const struct cwx_logs_export_task *t = &l->tasks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "task_id", t->task_id);
        cJSON_AddStringToObject(o, "task_name", t->task_name);
        cJSON_AddStringToObject(o, "log_group_name", t->log_group_name);
        cJSON_AddNumberToObject(o, "from", (double)t->from_ms);
        cJSON_AddNumberToObject(o, "to", (double)t->to_ms);
        cJSON_AddStringToObject(o, "destination", t->destination);
        cJSON_AddStringToObject(o, "destination_prefix", t->destination_prefix);
        cJSON_AddStringToObject(o, "status", cwx_export_status_name(t->status));
        cJSON_AddStringToObject(o, "status_code", t->status_code);
        cJSON_AddStringToObject(o, "status_message", t->status_message);
        cJSON_AddNumberToObject(o, "creation_time_ms", (double)t->creation_time_ms);
        cJSON_AddNumberToObject(o, "completion_time_ms", (double)t->completion_time_ms);
        cJSON_AddItemToArray(arr, o);
    }
    if (l->next_token)
        cJSON_AddStringToObject(s_result, "next_token", l->next_token);
    cJSON_AddBoolToObject(s_result, "truncated", l->truncated);
}

static void s_on_tasks(int status, const struct cwx_logs_export_tasks *res,
                       const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res)
        s_add_tasks(res);
    s_finish(status, err);
}

static void s_on_tasks_all(int status, struct cwx_logs_export_tasks *all,
                           const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (all) {
        s_add_tasks(all);
        cwx_logs_export_tasks_free(all);
    }
    s_finish(status, err);
}

static void s_on_status(int status, const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    s_finish(status, err);
}

/* ---- s3 ------------------------------------------------------------------------ */

static cJSON *s_pages;

static void s_add_page(cJSON *o, const struct cwx_s3_list_page *p)
{
    cJSON *keys = cJSON_AddArrayToObject(o, "objects");
    for (size_t i = 0; i < p->n_objects; i++) {
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "key", p->objects[i].key);
        cJSON_AddNumberToObject(k, "size", (double)p->objects[i].size);
        cJSON_AddNumberToObject(k, "last_modified_ms", (double)p->objects[i].last_modified_ms);
        cJSON_AddStringToObject(k, "etag", p->objects[i].etag);
        cJSON_AddItemToArray(keys, k);
    }
    cJSON *prefixes = cJSON_AddArrayToObject(o, "common_prefixes");
    for (size_t i = 0; i < p->n_prefixes; i++)
        cJSON_AddItemToArray(prefixes, cJSON_CreateString(p->common_prefixes[i]));
    cJSON_AddBoolToObject(o, "is_truncated", p->is_truncated);
    cJSON_AddNumberToObject(o, "key_count", (double)p->key_count);
    if (p->next_continuation_token)
        cJSON_AddStringToObject(o, "next_continuation_token", p->next_continuation_token);
}

static void s_on_list(int status, const struct cwx_s3_list_page *res,
                      const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res)
        s_add_page(s_result, res);
    s_finish(status, err);
}

static int s_on_page(const struct cwx_s3_list_page *page, void *ud)
{
    (void)ud;
    cJSON *o = cJSON_CreateObject();
    s_add_page(o, page);
    cJSON_AddItemToArray(s_pages, o);
    int64_t stop_after = s_arg_i64("stop_after", 0);
    return stop_after && cJSON_GetArraySize(s_pages) >= stop_after;
}

static void s_on_list_done(int status, int pages, int truncated,
                           const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    cJSON_AddNumberToObject(s_result, "pages_seen", pages);
    cJSON_AddBoolToObject(s_result, "truncated", truncated);
    s_finish(status, err);
}

static void s_on_head(int status, const struct cwx_s3_head_object_result *res,
                      const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res) {
        cJSON_AddBoolToObject(s_result, "exists", res->exists);
        cJSON_AddNumberToObject(s_result, "size", (double)res->size);
        cJSON_AddStringToObject(s_result, "etag", res->etag);
        cJSON_AddStringToObject(s_result, "content_type", res->content_type);
        cJSON_AddNumberToObject(s_result, "last_modified_ms", (double)res->last_modified_ms);
    }
    s_finish(status, err);
}

static void s_on_head_bucket(int status, const struct cwx_s3_head_bucket_result *res,
                             const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res) {
        cJSON_AddBoolToObject(s_result, "exists", res->exists);
        cJSON_AddBoolToObject(s_result, "access_denied", res->access_denied);
        cJSON_AddStringToObject(s_result, "region", res->region);
    }
    s_finish(status, err);
}

static void s_on_put(int status, const struct cwx_s3_put_object_result *res,
                     const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res)
        cJSON_AddStringToObject(s_result, "etag", res->etag);
    s_finish(status, err);
}

static void s_on_get(int status, const struct cwx_s3_get_object_result *res,
                     const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res) {
        char *body = malloc(res->body.len + 1);
        if (body) {
            memcpy(body, res->body.ptr, res->body.len);
            body[res->body.len] = '\0';
            cJSON_AddStringToObject(s_result, "body", body);
            free(body);
        }
        cJSON_AddNumberToObject(s_result, "length", (double)res->body.len);
        cJSON_AddStringToObject(s_result, "etag", res->etag);
        cJSON_AddStringToObject(s_result, "content_type", res->content_type);
    }
    s_finish(status, err);
}

/* ---- sns --------------------------------------------------------------------------- */

static void s_on_publish(int status, const struct cwx_sns_publish_result *res,
                         const struct cwx_aws_error *err, void *ud)
{
    (void)ud;
    if (res)
        cJSON_AddStringToObject(s_result, "message_id", res->message_id);
    s_finish(status, err);
}

/* ---- dispatch ---------------------------------------------------------------------- */

static int s_start(const char *op)
{
    struct cwx_aws_client *c = s_client;
    if (!strcmp(op, "sts.identity"))
        return cwx_sts_get_caller_identity(c, s_on_identity, NULL);
    if (!strcmp(op, "sts.assume")) {
        struct cwx_sts_assume_role_req r = {
            .role_arn = s_arg("role"),
            .role_session_name = s_arg("session") ? s_arg("session") : "cwexport-probe",
            .external_id = s_arg("external_id"),
            .duration_seconds = (int)s_arg_i64("duration", 0),
        };
        return cwx_sts_assume_role(c, &r, s_on_assume, NULL);
    }
    if (!strcmp(op, "sts.assume_web")) {
        struct cwx_sts_assume_role_web_identity_req r = {
            .role_arn = s_arg("role"),
            .role_session_name = s_arg("session") ? s_arg("session") : "cwexport-probe",
            .web_identity_token = s_arg("token"),
            .duration_seconds = (int)s_arg_i64("duration", 0),
        };
        return cwx_sts_assume_role_with_web_identity(c, &r, s_on_assume, NULL);
    }
    if (!strcmp(op, "logs.groups")) {
        const char *ids[50];
        size_t n_ids = 0;
        static char idbuf[4096];
        if (s_arg("ids")) {
            snprintf(idbuf, sizeof(idbuf), "%s", s_arg("ids"));
            for (char *save = NULL, *t = strtok_r(idbuf, ",", &save); t && n_ids < 50;
                 t = strtok_r(NULL, ",", &save))
                ids[n_ids++] = t;
        }
        struct cwx_logs_describe_log_groups_req r = {
            .prefix = s_arg("prefix"),
            .pattern = s_arg("pattern"),
            .identifiers = n_ids ? ids : NULL,
            .n_identifiers = n_ids,
            .limit = (int)s_arg_i64("limit", 0),
            .next_token = s_arg("next_token"),
        };
        if (s_arg("all"))
            return cwx_logs_describe_log_groups_all(c, &r, (int)s_arg_i64("max_pages", 0),
                                                    s_on_groups_all, NULL);
        return cwx_logs_describe_log_groups(c, &r, s_on_groups, NULL);
    }
    if (!strcmp(op, "logs.create")) {
        struct cwx_logs_create_export_task_req r = {
            .task_name = s_arg("name"),
            .log_group_name = s_arg("group"),
            .log_stream_name_prefix = s_arg("stream_prefix"),
            .from_ms = s_arg_i64("from", 0),
            .to_ms = s_arg_i64("to", 0),
            .destination = s_arg("bucket"),
            .destination_prefix = s_arg("prefix"),
        };
        return cwx_logs_create_export_task(c, &r, s_on_created, NULL);
    }
    if (!strcmp(op, "logs.describe")) {
        enum cwx_export_status st = cwx_export_status_parse(s_arg("status"));
        if (s_arg("all"))
            return cwx_logs_describe_export_tasks_all(c, st, (int)s_arg_i64("limit", 0),
                                                      (int)s_arg_i64("max_pages", 0),
                                                      s_on_tasks_all, NULL);
        struct cwx_logs_describe_export_tasks_req r = {
            .task_id = s_arg("task"),
            .status = st,
            .limit = (int)s_arg_i64("limit", 0),
            .next_token = s_arg("next_token"),
        };
        return cwx_logs_describe_export_tasks(c, &r, s_on_tasks, NULL);
    }
    if (!strcmp(op, "logs.cancel"))
        return cwx_logs_cancel_export_task(c, s_arg("task"), s_on_status, NULL);
    if (!strcmp(op, "s3.list")) {
        struct cwx_s3_list_req r = {
            .bucket = s_arg("bucket"),
            .prefix = s_arg("prefix"),
            .delimiter = s_arg("delimiter"),
            .max_keys = (int)s_arg_i64("max_keys", 0),
            .continuation_token = s_arg("token"),
            .start_after = s_arg("start_after"),
        };
        if (s_arg("all")) {
            s_pages = cJSON_AddArrayToObject(s_result, "pages");
            return cwx_s3_list_objects_v2_all(c, &r, (int)s_arg_i64("max_pages", 0), s_on_page,
                                              s_on_list_done, NULL);
        }
        return cwx_s3_list_objects_v2(c, &r, s_on_list, NULL);
    }
    if (!strcmp(op, "s3.head"))
        return cwx_s3_head_object(c, s_arg("bucket"), s_arg("key"), s_on_head, NULL);
    if (!strcmp(op, "s3.head_bucket"))
        return cwx_s3_head_bucket(c, s_arg("bucket"), s_on_head_bucket, NULL);
    if (!strcmp(op, "s3.put")) {
        const char *body = s_arg("body") ? s_arg("body") : "";
        struct cwx_s3_put_object_req r = {
            .bucket = s_arg("bucket"),
            .key = s_arg("key"),
            .body = body,
            .body_len = strlen(body),
            .content_type = s_arg("content_type"),
            .server_side_encryption = s_arg("sse"),
            .acl = s_arg("acl"),
        };
        return cwx_s3_put_object(c, &r, s_on_put, NULL);
    }
    if (!strcmp(op, "s3.get"))
        return cwx_s3_get_object(c, s_arg("bucket"), s_arg("key"),
                                 (size_t)s_arg_i64("max", 0), s_on_get, NULL);
    if (!strcmp(op, "s3.delete"))
        return cwx_s3_delete_object(c, s_arg("bucket"), s_arg("key"), s_on_status, NULL);
    if (!strcmp(op, "sns.publish")) {
        struct cwx_sns_publish_req r = {
            .topic_arn = s_arg("topic"),
            .message = s_arg("message"),
            .subject = s_arg("subject"),
        };
        return cwx_sns_publish(c, &r, s_on_publish, NULL);
    }
    return CWX_EINVAL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: aws_clients_probe OP [name=value ...]\n");
        return 2;
    }
    for (int i = 2; i < argc && s_args.argc < MAX_ARGS; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "aws_clients_probe: expected name=value, got %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        s_args.names[s_args.argc] = argv[i];
        s_args.values[s_args.argc++] = eq + 1;
    }
    const char *region = getenv("AWS_REGION");
    if (s_arg("region"))
        region = s_arg("region");

    uv_loop_t loop;
    uv_loop_init(&loop);
    s_out = cJSON_CreateObject();
    cJSON_AddStringToObject(s_out, "op", argv[1]);
    s_result = cJSON_AddObjectToObject(s_out, "result");

    struct cwx_aws *aws = NULL;
    struct cwx_creds_provider *creds = NULL;
    int rc = cwx_aws_new(&loop, NULL, &aws);
    if (!rc) {
        struct cwx_creds_options co = {.region = region};
        rc = cwx_creds_provider_new(aws, &co, &creds);
    }
    if (!rc) {
        struct cwx_aws_client_options o = {.creds = creds,
                                           .region = region ? region : "us-east-1"};
        rc = cwx_aws_client_new(aws, &o, &s_client);
    }
    if (!rc)
        rc = s_start(argv[1]);
    if (rc) {
        cJSON_AddStringToObject(s_out, "start", cwx_err_name(rc));
        s_finish(rc, NULL);
    } else {
        cJSON_AddStringToObject(s_out, "start", "OK");
        while (!s_done && uv_run(&loop, UV_RUN_ONCE))
            ;
        if (!s_done)
            s_finish(CWX_ESTATE, NULL); /* the loop emptied without a callback */
    }

    if (s_client)
        cwx_aws_client_free(s_client);
    if (creds)
        cwx_creds_provider_free(creds);
    if (aws)
        cwx_aws_free(aws);
    uv_run(&loop, UV_RUN_DEFAULT);
    int closed = uv_loop_close(&loop);
    cJSON_AddNumberToObject(s_out, "callbacks", s_done); /* must be 1 */
    cJSON_AddBoolToObject(s_out, "loop_closed", closed == 0);

    char *text = cJSON_PrintUnformatted(s_out);
    printf("%s\n", text ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(s_out);
    return closed ? 3 : 0;
}
