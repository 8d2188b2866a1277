/* CloudWatch Logs client: request bodies built with cJSON, answers parsed
 * with type checks on every field (see clients_internal.h). */
#include "aws/logs.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

/* Export times travel as JSON numbers (doubles): exact below 2^53 ms. */
#define S_MAX_MS (((int64_t)1 << 53) - 1)
#define S_DEFAULT_TASK_PAGES 100
#define S_DEFAULT_GROUP_PAGES 1000

static const char *const s_status_names[] = {
    [CWX_EXPORT_UNKNOWN] = "UNKNOWN",
    [CWX_EXPORT_PENDING] = "PENDING",
    [CWX_EXPORT_RUNNING] = "RUNNING",
    [CWX_EXPORT_COMPLETED] = "COMPLETED",
    [CWX_EXPORT_FAILED] = "FAILED",
    [CWX_EXPORT_CANCELLED] = "CANCELLED",
    [CWX_EXPORT_PENDING_CANCEL] = "PENDING_CANCEL",
};

const char *cwx_export_status_name(enum cwx_export_status s)
{
    if ((unsigned)s >= sizeof(s_status_names) / sizeof(s_status_names[0]))
        return "UNKNOWN";
    return s_status_names[s];
}

enum cwx_export_status cwx_export_status_parse(const char *s)
{
    if (!s)
        return CWX_EXPORT_UNKNOWN;
    for (size_t k = 1; k < sizeof(s_status_names) / sizeof(s_status_names[0]); k++)
        if (strcmp(s, s_status_names[k]) == 0)
            return (enum cwx_export_status)k;
    return CWX_EXPORT_UNKNOWN;
}

int cwx_export_status_is_active(enum cwx_export_status s)
{
    return s == CWX_EXPORT_PENDING || s == CWX_EXPORT_RUNNING ||
           s == CWX_EXPORT_PENDING_CANCEL;
}

/* ---- freeing and copying ------------------------------------------------------ */

void cwx_logs_export_task_free(struct cwx_logs_export_task *t)
{
    free(t->task_id);
    free(t->task_name);
    free(t->log_group_name);
    free(t->destination);
    free(t->destination_prefix);
    free(t->status_code);
    free(t->status_message);
    memset(t, 0, sizeof(*t));
}

int cwx_logs_export_task_copy(struct cwx_logs_export_task *dst,
                              const struct cwx_logs_export_task *src)
{
    *dst = *src;
    dst->task_id = cwx__strdup(src->task_id);
    dst->task_name = cwx__strdup(src->task_name);
    dst->log_group_name = cwx__strdup(src->log_group_name);
    dst->destination = cwx__strdup(src->destination);
    dst->destination_prefix = cwx__strdup(src->destination_prefix);
    dst->status_code = cwx__strdup(src->status_code);
    dst->status_message = cwx__strdup(src->status_message);
    if ((src->task_id && !dst->task_id) || (src->task_name && !dst->task_name) ||
        (src->log_group_name && !dst->log_group_name) ||
        (src->destination && !dst->destination) ||
        (src->destination_prefix && !dst->destination_prefix) ||
        (src->status_code && !dst->status_code) ||
        (src->status_message && !dst->status_message)) {
        cwx_logs_export_task_free(dst);
        return CWX_ENOMEM;
    }
    return 0;
}

void cwx_logs_export_tasks_free(struct cwx_logs_export_tasks *list)
{
    for (size_t i = 0; i < list->n; i++)
        cwx_logs_export_task_free(&list->tasks[i]);
    free(list->tasks);
    free(list->next_token);
    memset(list, 0, sizeof(*list));
}

static void s_group_free(struct cwx_logs_log_group *g)
{
    free(g->name);
    free(g->arn);
    memset(g, 0, sizeof(*g));
}

void cwx_logs_log_groups_free(struct cwx_logs_log_groups *list)
{
    for (size_t i = 0; i < list->n; i++)
        s_group_free(&list->groups[i]);
    free(list->groups);
    free(list->next_token);
    memset(list, 0, sizeof(*list));
}

/* ---- JSON helpers ---------------------------------------------------------------- */

/* Parses body as one JSON object; trailing bytes other than whitespace are
 * an error. */
static int s_parse_object(const char *body, size_t len, cJSON **out, char *msg,
                          size_t msg_size)
{
    *out = NULL;
    if (!body || !len) {
        cwx__msg(msg, msg_size, "empty body");
        return CWX_EPARSE;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = (at && at >= body && at <= body + len) ? (size_t)(at - body) : len;
        cwx__msg(msg, msg_size, "invalid JSON near byte %zu", off);
        return CWX_EPARSE;
    }
    if (end && end >= body && end <= body + len) {
        for (const char *p = end; p < body + len; p++) {
            if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
                cJSON_Delete(doc);
                cwx__msg(msg, msg_size, "trailing bytes after JSON at byte %zu",
                         (size_t)(p - body));
                return CWX_EPARSE;
            }
        }
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        cwx__msg(msg, msg_size, "expected a JSON object");
        return CWX_EPARSE;
    }
    *out = doc;
    return 0;
}

/* A string member: absent or null gives "" (or CWX_EPARSE when required). */
static int s_str(const cJSON *obj, const char *key, bool required, char **out,
                 const char *where, char *msg, size_t msg_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            cwx__msg(msg, msg_size, "%s: missing \"%s\"", where, key);
            return CWX_EPARSE;
        }
        *out = strdup("");
    } else if (!cJSON_IsString(v) || !v->valuestring) {
        cwx__msg(msg, msg_size, "%s: \"%s\" is not a string", where, key);
        return CWX_EPARSE;
    } else {
        *out = strdup(v->valuestring);
    }
    if (!*out) {
        cwx__msg(msg, msg_size, "out of memory");
        return CWX_ENOMEM;
    }
    return 0;
}

/* An integral member within [lo, hi]; absent or null gives dflt. */
static int s_int(const cJSON *obj, const char *key, int64_t lo, int64_t hi, int64_t dflt,
                 int64_t *out, const char *where, char *msg, size_t msg_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        cwx__msg(msg, msg_size, "%s: \"%s\" is not a number", where, key);
        return CWX_EPARSE;
    }
    double d = v->valuedouble;
    /* The comparisons are false for NaN too. */
    if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) {
        cwx__msg(msg, msg_size, "%s: \"%s\" out of range", where, key);
        return CWX_EPARSE;
    }
    *out = (int64_t)d;
    return 0;
}

/* An array member: absent or null gives NULL with *n = 0. */
static int s_array(const cJSON *obj, const char *key, const cJSON **out, size_t *n,
                   char *msg, size_t msg_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v)) {
        cwx__msg(msg, msg_size, "\"%s\" is not an array", key);
        return CWX_EPARSE;
    }
    int size = cJSON_GetArraySize(v);
    if (size < 0 || size > CWX__MAX_ITEMS) {
        cwx__msg(msg, msg_size, "\"%s\" has too many entries (%d)", key, size);
        return CWX_EPARSE;
    }
    *out = v;
    *n = (size_t)size;
    return 0;
}

/* nextToken: NULL when absent, null or empty. */
static int s_next_token(const cJSON *doc, char **out, char *msg, size_t msg_size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "nextToken");
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring) {
        cwx__msg(msg, msg_size, "\"nextToken\" is not a string");
        return CWX_EPARSE;
    }
    if (!v->valuestring[0])
        return 0;
    *out = strdup(v->valuestring);
    if (!*out) {
        cwx__msg(msg, msg_size, "out of memory");
        return CWX_ENOMEM;
    }
    return 0;
}

/* ---- parsers ---------------------------------------------------------------------- */

int cwx_logs_parse_create_export_task(const char *body, size_t len, char **task_id,
                                      char *msg, size_t msg_size)
{
    cJSON *doc;
    *task_id = NULL;
    int rc = s_parse_object(body, len, &doc, msg, msg_size);
    if (!rc)
        rc = s_str(doc, "taskId", true, task_id, "CreateExportTask", msg, msg_size);
    if (!rc && !(*task_id)[0]) {
        cwx__msg(msg, msg_size, "CreateExportTask: empty \"taskId\"");
        rc = CWX_EPARSE;
    }
    if (rc) {
        free(*task_id);
        *task_id = NULL;
    }
    cJSON_Delete(doc);
    return rc;
}

static int s_parse_task(const cJSON *v, size_t i, struct cwx_logs_export_task *t, char *msg,
                        size_t msg_size)
{
    char where[48];
    snprintf(where, sizeof(where), "exportTasks[%zu]", i);
    memset(t, 0, sizeof(*t));
    if (!cJSON_IsObject(v)) {
        cwx__msg(msg, msg_size, "%s is not an object", where);
        return CWX_EPARSE;
    }
    int rc = s_str(v, "taskId", true, &t->task_id, where, msg, msg_size);
    if (!rc)
        rc = s_str(v, "taskName", false, &t->task_name, where, msg, msg_size);
    if (!rc)
        rc = s_str(v, "logGroupName", false, &t->log_group_name, where, msg, msg_size);
    if (!rc)
        rc = s_int(v, "from", 0, S_MAX_MS, 0, &t->from_ms, where, msg, msg_size);
    if (!rc)
        rc = s_int(v, "to", 0, S_MAX_MS, 0, &t->to_ms, where, msg, msg_size);
    if (!rc)
        rc = s_str(v, "destination", false, &t->destination, where, msg, msg_size);
    if (!rc)
        rc = s_str(v, "destinationPrefix", false, &t->destination_prefix, where, msg,
                   msg_size);
    if (!rc) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "status");
        char w2[64];
        snprintf(w2, sizeof(w2), "%s.status", where);
        if (st && !cJSON_IsNull(st) && !cJSON_IsObject(st)) {
            cwx__msg(msg, msg_size, "%s is not an object", w2);
            rc = CWX_EPARSE;
        } else {
            static const cJSON empty = {0};
            const cJSON *o = st && cJSON_IsObject(st) ? st : &empty;
            rc = s_str(o, "code", false, &t->status_code, w2, msg, msg_size);
            if (!rc)
                rc = s_str(o, "message", false, &t->status_message, w2, msg, msg_size);
            if (!rc)
                t->status = cwx_export_status_parse(t->status_code);
        }
    }
    if (!rc) {
        const cJSON *ei = cJSON_GetObjectItemCaseSensitive(v, "executionInfo");
        char w2[64];
        snprintf(w2, sizeof(w2), "%s.executionInfo", where);
        if (ei && !cJSON_IsNull(ei) && !cJSON_IsObject(ei)) {
            cwx__msg(msg, msg_size, "%s is not an object", w2);
            rc = CWX_EPARSE;
        } else if (ei && cJSON_IsObject(ei)) {
            rc = s_int(ei, "creationTime", 0, S_MAX_MS, 0, &t->creation_time_ms, w2, msg,
                       msg_size);
            if (!rc)
                rc = s_int(ei, "completionTime", 0, S_MAX_MS, 0, &t->completion_time_ms,
                           w2, msg, msg_size);
        }
    }
    if (rc)
        cwx_logs_export_task_free(t);
    return rc;
}

int cwx_logs_parse_describe_export_tasks(const char *body, size_t len,
                                         struct cwx_logs_export_tasks *out, char *msg,
                                         size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    cJSON *doc;
    const cJSON *arr;
    size_t n;
    int rc = s_parse_object(body, len, &doc, msg, msg_size);
    if (!rc)
        rc = s_array(doc, "exportTasks", &arr, &n, msg, msg_size);
    if (!rc && n) {
        out->tasks = calloc(n, sizeof(*out->tasks));
        if (!out->tasks) {
            cwx__msg(msg, msg_size, "out of memory");
            rc = CWX_ENOMEM;
        }
        const cJSON *v = arr ? arr->child : NULL;
        for (size_t i = 0; !rc && v; i++, v = v->next) {
            rc = s_parse_task(v, i, &out->tasks[i], msg, msg_size);
            if (!rc)
                out->n++;
        }
    }
    if (!rc)
        rc = s_next_token(doc, &out->next_token, msg, msg_size);
    if (rc)
        cwx_logs_export_tasks_free(out);
    cJSON_Delete(doc);
    return rc;
}

static int s_parse_group(const cJSON *v, size_t i, struct cwx_logs_log_group *g, char *msg,
                         size_t msg_size)
{
    char where[48];
    snprintf(where, sizeof(where), "logGroups[%zu]", i);
    memset(g, 0, sizeof(*g));
    if (!cJSON_IsObject(v)) {
        cwx__msg(msg, msg_size, "%s is not an object", where);
        return CWX_EPARSE;
    }
    int64_t retention = 0;
    int rc = s_str(v, "logGroupName", true, &g->name, where, msg, msg_size);
    if (!rc)
        rc = s_str(v, "arn", false, &g->arn, where, msg, msg_size);
    if (!rc)
        rc = s_int(v, "creationTime", 0, S_MAX_MS, 0, &g->creation_time_ms, where, msg,
                   msg_size);
    if (!rc)
        rc = s_int(v, "retentionInDays", 0, 1000000, 0, &retention, where, msg, msg_size);
    if (!rc)
        rc = s_int(v, "storedBytes", 0, S_MAX_MS, -1, &g->stored_bytes, where, msg,
                   msg_size);
    g->retention_days = (int)retention;
    if (rc)
        s_group_free(g);
    return rc;
}

int cwx_logs_parse_describe_log_groups(const char *body, size_t len,
                                       struct cwx_logs_log_groups *out, char *msg,
                                       size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    cJSON *doc;
    const cJSON *arr;
    size_t n;
    int rc = s_parse_object(body, len, &doc, msg, msg_size);
    if (!rc)
        rc = s_array(doc, "logGroups", &arr, &n, msg, msg_size);
    if (!rc && n) {
        out->groups = calloc(n, sizeof(*out->groups));
        if (!out->groups) {
            cwx__msg(msg, msg_size, "out of memory");
            rc = CWX_ENOMEM;
        }
        const cJSON *v = arr ? arr->child : NULL;
        for (size_t i = 0; !rc && v; i++, v = v->next) {
            rc = s_parse_group(v, i, &out->groups[i], msg, msg_size);
            if (!rc)
                out->n++;
        }
    }
    if (!rc)
        rc = s_next_token(doc, &out->next_token, msg, msg_size);
    if (rc)
        cwx_logs_log_groups_free(out);
    cJSON_Delete(doc);
    return rc;
}

/* ---- request bodies -------------------------------------------------------------- */

static int s_print(cJSON *doc, struct cwx_buf *out)
{
    char *s = cJSON_PrintUnformatted(doc);
    if (!s)
        return CWX_ENOMEM;
    int rc = cwx_buf_puts(out, s);
    cJSON_free(s);
    return rc;
}

/* Adds a string member unless s is NULL; counts failures in *bad. */
static void s_add_str(cJSON *doc, const char *key, const char *s, int *bad)
{
    if (s && !cJSON_AddStringToObject(doc, key, s))
        (*bad)++;
}

static void s_add_num(cJSON *doc, const char *key, double v, int *bad)
{
    if (!cJSON_AddNumberToObject(doc, key, v))
        (*bad)++;
}

int cwx__logs_create_export_task_body(const struct cwx_logs_create_export_task_req *req,
                                      struct cwx_buf *out)
{
    if (!req->log_group_name || !req->log_group_name[0] || !req->destination ||
        !req->destination[0] || req->from_ms < 0 || req->to_ms < req->from_ms ||
        req->to_ms > S_MAX_MS)
        return CWX_EINVAL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return CWX_ENOMEM;
    int bad = 0;
    s_add_str(doc, "taskName", req->task_name, &bad);
    s_add_str(doc, "logGroupName", req->log_group_name, &bad);
    s_add_str(doc, "logStreamNamePrefix", req->log_stream_name_prefix, &bad);
    s_add_num(doc, "from", (double)req->from_ms, &bad);
    s_add_num(doc, "to", (double)req->to_ms, &bad);
    s_add_str(doc, "destination", req->destination, &bad);
    s_add_str(doc, "destinationPrefix", req->destination_prefix, &bad);
    int rc = bad ? CWX_ENOMEM : s_print(doc, out);
    cJSON_Delete(doc);
    return rc;
}

int cwx__logs_describe_export_tasks_body(const struct cwx_logs_describe_export_tasks_req *req,
                                         struct cwx_buf *out)
{
    if (req->limit < 0 || req->limit > 50 || (req->task_id && req->status))
        return CWX_EINVAL;
    if ((unsigned)req->status >= sizeof(s_status_names) / sizeof(s_status_names[0]))
        return CWX_EINVAL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return CWX_ENOMEM;
    int bad = 0;
    s_add_str(doc, "taskId", req->task_id, &bad);
    if (req->status)
        s_add_str(doc, "statusCode", cwx_export_status_name(req->status), &bad);
    if (req->limit)
        s_add_num(doc, "limit", req->limit, &bad);
    s_add_str(doc, "nextToken", req->next_token, &bad);
    int rc = bad ? CWX_ENOMEM : s_print(doc, out);
    cJSON_Delete(doc);
    return rc;
}

int cwx__logs_describe_log_groups_body(const struct cwx_logs_describe_log_groups_req *req,
                                       struct cwx_buf *out)
{
    int filters = !!req->prefix + !!req->pattern + !!req->n_identifiers;
    if (filters > 1 || req->limit < 0 || req->limit > 50 || req->n_identifiers > 50 ||
        (req->n_identifiers && !req->identifiers))
        return CWX_EINVAL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return CWX_ENOMEM;
    int bad = 0;
    s_add_str(doc, "logGroupNamePrefix", req->prefix, &bad);
    s_add_str(doc, "logGroupNamePattern", req->pattern, &bad);
    if (req->n_identifiers) {
        cJSON *ids = cJSON_AddArrayToObject(doc, "logGroupIdentifiers");
        if (!ids)
            bad++;
        for (size_t i = 0; ids && i < req->n_identifiers; i++) {
            cJSON *s = req->identifiers[i] ? cJSON_CreateString(req->identifiers[i]) : NULL;
            if (!s || !cJSON_AddItemToArray(ids, s)) {
                cJSON_Delete(s);
                bad++;
            }
        }
    }
    if (req->limit)
        s_add_num(doc, "limit", req->limit, &bad);
    s_add_str(doc, "nextToken", req->next_token, &bad);
    int rc = bad ? CWX_EINVAL : s_print(doc, out);
    cJSON_Delete(doc);
    return rc;
}

/* ---- calls ------------------------------------------------------------------------ */

enum s_op {
    S_CREATE,
    S_DESCRIBE_TASKS,
    S_CANCEL,
    S_DESCRIBE_GROUPS,
};

/* A pager's state across its pages. */
struct s_pager {
    struct cwx_aws_client *client;
    int max_pages;
    int pages;
    /* the request repeated on each page, with owned strings */
    struct cwx_logs_describe_export_tasks_req tasks_req;
    struct cwx_logs_describe_log_groups_req groups_req;
    char *prefix;
    char *pattern;
    char **identifiers;
    size_t n_identifiers;
    struct cwx_logs_export_tasks tasks;
    struct cwx_logs_log_groups groups;
    cwx_logs_export_tasks_all_fn *tasks_cb;
    cwx_logs_log_groups_all_fn *groups_cb;
    void *ud;
    char *token; /* the nextToken of the page in flight */
};

/* One call in flight; owns everything its request points to. */
struct s_call {
    enum s_op op;
    struct cwx_aws_request req;
    struct cwx_http_header headers[2];
    char target[64];
    struct cwx_buf body;
    union {
        cwx_logs_create_export_task_fn *create;
        cwx_logs_describe_export_tasks_fn *tasks;
        cwx_logs_cancel_export_task_fn *cancel;
        cwx_logs_describe_log_groups_fn *groups;
    } cb;
    void *ud;
    struct s_pager *pager; /* set for a pager's page */
};

static void s_call_free(struct s_call *call)
{
    cwx_buf_free(&call->body);
    free(call);
}

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud);

/* Takes ownership of call: on failure frees it and returns the error. */
static int s_start(struct cwx_aws_client *c, struct s_call *call, const char *op,
                   unsigned flags)
{
    snprintf(call->target, sizeof(call->target), "Logs_20140328.%s", op);
    call->headers[0] = (struct cwx_http_header){"X-Amz-Target", call->target};
    call->headers[1] =
        (struct cwx_http_header){"Content-Type", "application/x-amz-json-1.1"};
    call->req = (struct cwx_aws_request){
        .service = "logs",
        .protocol = CWX_PROTO_JSON,
        .method = "POST",
        .path = "/",
        .headers = call->headers,
        .n_headers = 2,
        .body = call->body.ptr,
        .body_len = call->body.len,
        .flags = flags,
    };
    int rc = cwx_aws_call(c, &call->req, s_on_done, call);
    if (rc)
        s_call_free(call);
    return rc;
}

static struct s_call *s_call_new(enum s_op op, void *ud)
{
    struct s_call *call = calloc(1, sizeof(*call));
    if (call) {
        call->op = op;
        call->ud = ud;
        cwx_buf_init(&call->body, 0);
    }
    return call;
}

/* AWS codes this client turns into a status of its own. */
static int s_map_status(enum s_op op, int status, const struct cwx_aws_error *err)
{
    if (status == CWX_EAWS && err) {
        if (strcmp(err->code, "ResourceNotFoundException") == 0)
            return CWX_ENOTFOUND;
        if (op == S_CREATE && strcmp(err->code, "LimitExceededException") == 0)
            return CWX_ESLOTBUSY;
    }
    return status;
}

static void s_pager_free(struct s_pager *pg)
{
    cwx_logs_export_tasks_free(&pg->tasks);
    cwx_logs_log_groups_free(&pg->groups);
    free(pg->prefix);
    free(pg->pattern);
    for (size_t i = 0; i < pg->n_identifiers; i++)
        free(pg->identifiers[i]);
    free(pg->identifiers);
    free(pg->token);
    free(pg);
}

/* Ends a pager: hands the collected list over on success. */
static void s_pager_finish(struct s_pager *pg, int status, const struct cwx_aws_error *err)
{
    if (pg->tasks_cb) {
        if (status) {
            pg->tasks_cb(status, NULL, err, pg->ud);
        } else {
            struct cwx_logs_export_tasks all = pg->tasks;
            memset(&pg->tasks, 0, sizeof(pg->tasks));
            pg->tasks_cb(0, &all, err, pg->ud);
        }
    } else {
        if (status) {
            pg->groups_cb(status, NULL, err, pg->ud);
        } else {
            struct cwx_logs_log_groups all = pg->groups;
            memset(&pg->groups, 0, sizeof(pg->groups));
            pg->groups_cb(0, &all, err, pg->ud);
        }
    }
    s_pager_free(pg);
}

static int s_pager_next(struct s_pager *pg, const char *next_token);

/* Moves a page's entries to the end of the pager's list. */
static int s_append(void **dst, size_t *dst_n, void **src, size_t *src_n, size_t size)
{
    if (!*src_n)
        return 0;
    if (*dst_n + *src_n > (size_t)CWX__MAX_ITEMS * 100)
        return CWX_ETOOBIG;
    char *p = realloc(*dst, (*dst_n + *src_n) * size);
    if (!p)
        return CWX_ENOMEM;
    memcpy(p + *dst_n * size, *src, *src_n * size);
    *dst = p;
    *dst_n += *src_n;
    free(*src);
    *src = NULL;
    *src_n = 0;
    return 0;
}

/* A page of a pager arrived (status 0): keep it, then read on or finish. */
static void s_pager_page(struct s_pager *pg, struct cwx_logs_export_tasks *tasks,
                         struct cwx_logs_log_groups *groups,
                         const struct cwx_aws_error *err)
{
    int rc;
    const char *next;
    pg->pages++;
    if (tasks) {
        rc = s_append((void **)&pg->tasks.tasks, &pg->tasks.n, (void **)&tasks->tasks,
                      &tasks->n, sizeof(*tasks->tasks));
        next = tasks->next_token;
    } else {
        rc = s_append((void **)&pg->groups.groups, &pg->groups.n, (void **)&groups->groups,
                      &groups->n, sizeof(*groups->groups));
        next = groups->next_token;
    }
    if (!rc && next && pg->token && !strcmp(next, pg->token))
        rc = CWX_EPARSE; /* the same page again: never loop on it */
    if (!rc && next && pg->pages >= pg->max_pages) {
        pg->tasks.truncated = pg->groups.truncated = 1;
        next = NULL;
    }
    if (!rc && next) {
        free(pg->token);
        pg->token = strdup(next);
        rc = pg->token ? s_pager_next(pg, pg->token) : CWX_ENOMEM;
    }
    if (rc) {
        struct cwx_aws_error e;
        cwx__parse_error(&e, err,
                         rc == CWX_EPARSE ? "nextToken did not advance" : cwx_strerror(rc));
        s_pager_finish(pg, rc, &e);
    } else if (!next) {
        s_pager_finish(pg, 0, err);
    }
}

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    char msg[256] = "";
    struct cwx_aws_error perr;
    const char *body = resp ? resp->body.ptr : NULL;
    size_t len = resp ? resp->body.len : 0;
    status = s_map_status(call->op, status, err);

    switch (call->op) {
    case S_CREATE: {
        char *task_id = NULL;
        if (!status)
            status = cwx_logs_parse_create_export_task(body, len, &task_id, msg, sizeof(msg));
        if (status && msg[0]) {
            cwx__parse_error(&perr, err, msg);
            err = &perr;
        }
        struct cwx_logs_create_export_task_result res = {task_id};
        call->cb.create(status, status ? NULL : &res, err, call->ud);
        free(task_id);
        break;
    }
    case S_DESCRIBE_TASKS: {
        struct cwx_logs_export_tasks res = {0};
        if (!status)
            status = cwx_logs_parse_describe_export_tasks(body, len, &res, msg, sizeof(msg));
        if (status && msg[0]) {
            cwx__parse_error(&perr, err, msg);
            err = &perr;
        }
        if (call->pager && status)
            s_pager_finish(call->pager, status, err);
        else if (call->pager)
            s_pager_page(call->pager, &res, NULL, err);
        else
            call->cb.tasks(status, status ? NULL : &res, err, call->ud);
        cwx_logs_export_tasks_free(&res);
        break;
    }
    case S_CANCEL:
        call->cb.cancel(status, err, call->ud);
        break;
    case S_DESCRIBE_GROUPS: {
        struct cwx_logs_log_groups res = {0};
        if (!status)
            status = cwx_logs_parse_describe_log_groups(body, len, &res, msg, sizeof(msg));
        if (status && msg[0]) {
            cwx__parse_error(&perr, err, msg);
            err = &perr;
        }
        if (call->pager && status)
            s_pager_finish(call->pager, status, err);
        else if (call->pager)
            s_pager_page(call->pager, NULL, &res, err);
        else
            call->cb.groups(status, status ? NULL : &res, err, call->ud);
        cwx_logs_log_groups_free(&res);
        break;
    }
    }
    s_call_free(call);
}

int cwx_logs_create_export_task(struct cwx_aws_client *c,
                                const struct cwx_logs_create_export_task_req *req,
                                cwx_logs_create_export_task_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_CREATE, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.create = cb;
    int rc = cwx__logs_create_export_task_body(req, &call->body);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, "CreateExportTask", CWX_AWS_SLOT_BUSY);
}

static int s_describe_tasks(struct cwx_aws_client *c,
                            const struct cwx_logs_describe_export_tasks_req *req,
                            cwx_logs_describe_export_tasks_fn *cb, void *ud,
                            struct s_pager *pager)
{
    struct s_call *call = s_call_new(S_DESCRIBE_TASKS, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.tasks = cb;
    call->pager = pager;
    int rc = cwx__logs_describe_export_tasks_body(req, &call->body);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, "DescribeExportTasks", 0);
}

int cwx_logs_describe_export_tasks(struct cwx_aws_client *c,
                                   const struct cwx_logs_describe_export_tasks_req *req,
                                   cwx_logs_describe_export_tasks_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    return s_describe_tasks(c, req, cb, ud, NULL);
}

static int s_describe_groups(struct cwx_aws_client *c,
                             const struct cwx_logs_describe_log_groups_req *req,
                             cwx_logs_describe_log_groups_fn *cb, void *ud,
                             struct s_pager *pager)
{
    struct s_call *call = s_call_new(S_DESCRIBE_GROUPS, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.groups = cb;
    call->pager = pager;
    int rc = cwx__logs_describe_log_groups_body(req, &call->body);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, "DescribeLogGroups", 0);
}

int cwx_logs_describe_log_groups(struct cwx_aws_client *c,
                                 const struct cwx_logs_describe_log_groups_req *req,
                                 cwx_logs_describe_log_groups_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    return s_describe_groups(c, req, cb, ud, NULL);
}

int cwx_logs_cancel_export_task(struct cwx_aws_client *c, const char *task_id,
                                cwx_logs_cancel_export_task_fn *cb, void *ud)
{
    if (!c || !task_id || !task_id[0] || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_CANCEL, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.cancel = cb;
    cJSON *doc = cJSON_CreateObject();
    int rc = doc && cJSON_AddStringToObject(doc, "taskId", task_id) ? 0 : CWX_ENOMEM;
    if (!rc)
        rc = s_print(doc, &call->body);
    cJSON_Delete(doc);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, "CancelExportTask", 0);
}

/* ---- pagers ------------------------------------------------------------------------ */

static int s_pager_next(struct s_pager *pg, const char *next_token)
{
    if (pg->tasks_cb) {
        struct cwx_logs_describe_export_tasks_req r = pg->tasks_req;
        r.next_token = next_token;
        return s_describe_tasks(pg->client, &r, NULL, NULL, pg);
    }
    struct cwx_logs_describe_log_groups_req r = pg->groups_req;
    r.next_token = next_token;
    return s_describe_groups(pg->client, &r, NULL, NULL, pg);
}

int cwx_logs_describe_export_tasks_all(struct cwx_aws_client *c,
                                       enum cwx_export_status status, int limit,
                                       int max_pages, cwx_logs_export_tasks_all_fn *cb,
                                       void *ud)
{
    if (!c || !cb || max_pages < 0)
        return CWX_EINVAL;
    struct s_pager *pg = calloc(1, sizeof(*pg));
    if (!pg)
        return CWX_ENOMEM;
    pg->client = c;
    pg->max_pages = max_pages ? max_pages : S_DEFAULT_TASK_PAGES;
    pg->tasks_req.status = status;
    pg->tasks_req.limit = limit ? limit : 50;
    pg->tasks_cb = cb;
    pg->ud = ud;
    int rc = s_pager_next(pg, NULL);
    if (rc)
        s_pager_free(pg);
    return rc;
}

int cwx_logs_describe_log_groups_all(struct cwx_aws_client *c,
                                     const struct cwx_logs_describe_log_groups_req *req,
                                     int max_pages, cwx_logs_log_groups_all_fn *cb,
                                     void *ud)
{
    if (!c || !req || !cb || max_pages < 0)
        return CWX_EINVAL;
    struct s_pager *pg = calloc(1, sizeof(*pg));
    if (!pg)
        return CWX_ENOMEM;
    pg->client = c;
    pg->max_pages = max_pages ? max_pages : S_DEFAULT_GROUP_PAGES;
    pg->groups_cb = cb;
    pg->ud = ud;
    int rc = 0;
    pg->prefix = cwx__strdup(req->prefix);
    pg->pattern = cwx__strdup(req->pattern);
    if ((req->prefix && !pg->prefix) || (req->pattern && !pg->pattern))
        rc = CWX_ENOMEM;
    if (!rc && req->n_identifiers) {
        if (!req->identifiers || req->n_identifiers > 50) {
            rc = CWX_EINVAL;
        } else {
            pg->identifiers = calloc(req->n_identifiers, sizeof(char *));
            if (!pg->identifiers)
                rc = CWX_ENOMEM;
            for (size_t i = 0; !rc && i < req->n_identifiers; i++) {
                if (!req->identifiers[i])
                    rc = CWX_EINVAL;
                else if (!(pg->identifiers[i] = strdup(req->identifiers[i])))
                    rc = CWX_ENOMEM;
                else
                    pg->n_identifiers++;
            }
        }
    }
    pg->groups_req = (struct cwx_logs_describe_log_groups_req){
        .prefix = pg->prefix,
        .pattern = pg->pattern,
        .identifiers = (const char *const *)pg->identifiers,
        .n_identifiers = pg->n_identifiers,
        .limit = req->limit,
    };
    if (!rc)
        rc = s_pager_next(pg, NULL);
    if (rc)
        s_pager_free(pg);
    return rc;
}
