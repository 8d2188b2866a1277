/* CloudWatch Logs client, the pure half: request bodies built with cJSON,
 * answers parsed with type checks on every field (clients_internal.h). No
 * I/O here, so tests and fuzzers link it alone. */
#include "aws/logs.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

/* Export times travel as JSON numbers (doubles): exact below 2^53 ms. */
#define S_MAX_MS (((int64_t)1 << 53) - 1)

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
    /* An error document under a 2xx status (a proxy, a service fault) is
     * never read as an answer: its missing lists would pass for "no export
     * tasks" or "no such log group". */
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "__type");
    if (type) {
        char code[101];
        size_t n = 0;
        if (cJSON_IsString(type))
            for (const char *c = type->valuestring; *c && n < sizeof code - 1; c++)
                code[n++] = (unsigned char)*c < 0x20 ? '?' : *c;
        code[n] = '\0';
        cJSON_Delete(doc);
        cwx__msg(msg, msg_size, "an error answer (%s) under a success status", n ? code : "?");
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

/* One page of a Describe* answer: the array `key` of items, each item_size
 * bytes and read by parse (which cleans up after itself on failure), and
 * nextToken. On success *items (calloc'ed, NULL when empty), *n and
 * *next_token are set; on failure they hold what was read so far, for the
 * caller's free function. */
typedef int s_item_fn(const cJSON *v, size_t i, void *item, char *msg, size_t msg_size);

static int s_parse_page(const char *body, size_t len, const char *key, size_t item_size,
                        s_item_fn *parse, void **items, size_t *n_out, char **next_token,
                        char *msg, size_t msg_size)
{
    cJSON *doc;
    const cJSON *arr;
    size_t n;
    int rc = s_parse_object(body, len, &doc, msg, msg_size);
    if (!rc)
        rc = s_array(doc, key, &arr, &n, msg, msg_size);
    if (!rc && n) {
        *items = calloc(n, item_size);
        if (!*items) {
            cwx__msg(msg, msg_size, "out of memory");
            rc = CWX_ENOMEM;
        }
        const cJSON *v = arr ? arr->child : NULL;
        for (size_t i = 0; !rc && v; i++, v = v->next) {
            rc = parse(v, i, (char *)*items + i * item_size, msg, msg_size);
            if (!rc)
                (*n_out)++;
        }
    }
    if (!rc)
        rc = s_next_token(doc, next_token, msg, msg_size);
    cJSON_Delete(doc);
    return rc;
}

static int s_parse_task(const cJSON *v, size_t i, void *item, char *msg, size_t msg_size)
{
    struct cwx_logs_export_task *t = item;
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
    void *items = NULL;
    int rc = s_parse_page(body, len, "exportTasks", sizeof(*out->tasks), s_parse_task, &items,
                          &out->n, &out->next_token, msg, msg_size);
    out->tasks = items;
    if (rc)
        cwx_logs_export_tasks_free(out);
    return rc;
}

static int s_parse_group(const cJSON *v, size_t i, void *item, char *msg, size_t msg_size)
{
    struct cwx_logs_log_group *g = item;
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
    void *items = NULL;
    int rc = s_parse_page(body, len, "logGroups", sizeof(*out->groups), s_parse_group, &items,
                          &out->n, &out->next_token, msg, msg_size);
    out->groups = items;
    if (rc)
        cwx_logs_log_groups_free(out);
    return rc;
}

void cwx_logs_log_streams_free(struct cwx_logs_log_streams *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        free(list->streams[i].name);
    free(list->streams);
    free(list->next_token);
    memset(list, 0, sizeof(*list));
}

static int s_parse_stream(const cJSON *v, size_t i, void *item, char *msg, size_t msg_size)
{
    struct cwx_logs_log_stream *st = item;
    char where[48];
    snprintf(where, sizeof(where), "logStreams[%zu]", i);
    memset(st, 0, sizeof(*st));
    if (!cJSON_IsObject(v)) {
        cwx__msg(msg, msg_size, "%s is not an object", where);
        return CWX_EPARSE;
    }
    int rc = s_str(v, "logStreamName", true, &st->name, where, msg, msg_size);
    if (!rc)
        rc = s_int(v, "creationTime", 0, S_MAX_MS, 0, &st->creation_time_ms, where, msg,
                   msg_size);
    if (!rc)
        rc = s_int(v, "firstEventTimestamp", 0, S_MAX_MS, 0, &st->first_event_ms, where, msg,
                   msg_size);
    if (!rc)
        rc = s_int(v, "lastEventTimestamp", 0, S_MAX_MS, 0, &st->last_event_ms, where, msg,
                   msg_size);
    if (!rc)
        rc = s_int(v, "lastIngestionTime", 0, S_MAX_MS, 0, &st->last_ingestion_ms, where, msg,
                   msg_size);
    if (rc) {
        free(st->name);
        st->name = NULL;
    }
    return rc;
}

int cwx_logs_parse_describe_log_streams(const char *body, size_t len,
                                        struct cwx_logs_log_streams *out, char *msg,
                                        size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    void *items = NULL;
    int rc = s_parse_page(body, len, "logStreams", sizeof(*out->streams), s_parse_stream, &items,
                          &out->n, &out->next_token, msg, msg_size);
    out->streams = items;
    if (rc)
        cwx_logs_log_streams_free(out);
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

int cwx__logs_describe_log_streams_body(const struct cwx_logs_describe_log_streams_req *req,
                                        struct cwx_buf *out)
{
    int named = req->log_group_name && req->log_group_name[0];
    int ident = req->log_group_identifier && req->log_group_identifier[0];
    if (named == ident || req->limit < 0 || req->limit > 50 ||
        (req->prefix && req->order_by == CWX_STREAMS_BY_LAST_EVENT) ||
        (req->order_by != CWX_STREAMS_BY_NAME && req->order_by != CWX_STREAMS_BY_LAST_EVENT))
        return CWX_EINVAL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return CWX_ENOMEM;
    int bad = 0;
    s_add_str(doc, "logGroupName", named ? req->log_group_name : NULL, &bad);
    s_add_str(doc, "logGroupIdentifier", ident ? req->log_group_identifier : NULL, &bad);
    s_add_str(doc, "logStreamNamePrefix", req->prefix, &bad);
    if (req->order_by == CWX_STREAMS_BY_LAST_EVENT)
        s_add_str(doc, "orderBy", "LastEventTime", &bad);
    if (req->descending && !cJSON_AddTrueToObject(doc, "descending"))
        bad++;
    if (req->limit)
        s_add_num(doc, "limit", req->limit, &bad);
    s_add_str(doc, "nextToken", req->next_token, &bad);
    int rc = bad ? CWX_ENOMEM : s_print(doc, out);
    cJSON_Delete(doc);
    return rc;
}

int cwx__logs_cancel_export_task_body(const char *task_id, struct cwx_buf *out)
{
    if (!task_id || !task_id[0])
        return CWX_EINVAL;
    cJSON *doc = cJSON_CreateObject();
    int rc = doc && cJSON_AddStringToObject(doc, "taskId", task_id) ? 0 : CWX_ENOMEM;
    if (!rc)
        rc = s_print(doc, out);
    cJSON_Delete(doc);
    return rc;
}
