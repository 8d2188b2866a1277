/* CloudWatch Logs client, the pure half: request bodies built with cJSON,
 * answers parsed with type checks on every field (clients_internal.h). No
 * I/O here, so tests and fuzzers link it alone. */
#include "aws/logs.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
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

/* ---- the field-table reader of Describe* answers -------------------------------- */

/* How a member of an item is read. */
enum s_kind {
    S_STR,     /* a string; absent or null gives "" */
    S_STR_REQ, /* a string that must be there */
    S_MS,      /* epoch milliseconds (or a byte count) in [0, 2^53); absent gives dflt */
    S_DAYS,    /* an int of days in [0, 1000000]; absent gives 0 */
    S_OBJ,     /* an object whose members are read by `sub`; absent or null is empty */
};

/* One member of an item: its JSON key, how it is read and where it goes
 * (offsetof in the item's struct; unused for S_OBJ). */
struct s_field {
    const char *key;
    enum s_kind kind;
    size_t off;
    int64_t dflt;
    const struct s_field *sub; /* S_OBJ: its members, ended by a NULL key */
};

#define S_FIELD(key, kind, type, member) {key, kind, offsetof(type, member), 0, NULL}

/* One Describe* answer: the array of items, their size and members, what
 * is done once an item has been read, and where the list struct it fills
 * keeps the items, their count and nextToken. */
struct s_page_shape {
    const char *array;
    size_t item_size;
    const struct s_field *fields;
    void (*finish)(void *item); /* NULL, or completes a read item */
    size_t list_size, items_off, n_off, token_off;
};

#define S_LIST(type, items) sizeof(type), offsetof(type, items), offsetof(type, n), \
                            offsetof(type, next_token)

static int s_fields_read(const cJSON *obj, const struct s_field *f, void *item,
                         const char *where, char *msg, size_t msg_size);

/* Reads the object member f->key with f->sub; where names it in messages. */
static int s_field_obj(const cJSON *obj, const struct s_field *f, void *item,
                       const char *where, char *msg, size_t msg_size)
{
    static const cJSON empty = {0};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
    char w2[96];
    if (snprintf(w2, sizeof(w2), "%s.%s", where, f->key) >= (int)sizeof(w2))
        memcpy(w2 + sizeof(w2) - 4, "...", 4); /* a long path, shortened */
    if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v)) {
        cwx__msg(msg, msg_size, "%s is not an object", w2);
        return CWX_EPARSE;
    }
    return s_fields_read(v && cJSON_IsObject(v) ? v : &empty, f->sub, item, w2, msg,
                         msg_size);
}

/* Reads one member of obj into item as f says. */
static int s_field_read(const cJSON *obj, const struct s_field *f, void *item,
                        const char *where, char *msg, size_t msg_size)
{
    char *at = (char *)item + f->off;
    int64_t days = 0;
    int rc;
    switch (f->kind) {
    case S_STR:
    case S_STR_REQ:
        return s_str(obj, f->key, f->kind == S_STR_REQ, (char **)(void *)at, where, msg,
                     msg_size);
    case S_MS:
        return s_int(obj, f->key, 0, S_MAX_MS, f->dflt, (int64_t *)(void *)at, where, msg,
                     msg_size);
    case S_DAYS:
        rc = s_int(obj, f->key, 0, 1000000, 0, &days, where, msg, msg_size);
        *(int *)(void *)at = (int)days;
        return rc;
    case S_OBJ:
        return s_field_obj(obj, f, item, where, msg, msg_size);
    }
    return CWX_EINVAL;
}

/* Reads every member of the table f (ended by a NULL key), in order; stops
 * at the first failure. */
static int s_fields_read(const cJSON *obj, const struct s_field *f, void *item,
                         const char *where, char *msg, size_t msg_size)
{
    int rc = 0;
    for (; f->key && !rc; f++)
        rc = s_field_read(obj, f, item, where, msg, msg_size);
    return rc;
}

/* Frees every string member of the table f in item and sets it to NULL. */
static void s_fields_free(const struct s_field *f, void *item)
{
    for (; f->key; f++) {
        if (f->kind == S_OBJ) {
            s_fields_free(f->sub, item);
        } else if (f->kind == S_STR || f->kind == S_STR_REQ) {
            char **s = (char **)(void *)((char *)item + f->off);
            free(*s);
            *s = NULL;
        }
    }
}

/* Reads item i of a Describe* array; on failure it frees what it read. */
static int s_item_read(const struct s_page_shape *shape, const cJSON *v, size_t i, void *item,
                       char *msg, size_t msg_size)
{
    char where[48];
    snprintf(where, sizeof(where), "%s[%zu]", shape->array, i);
    memset(item, 0, shape->item_size);
    if (!cJSON_IsObject(v)) {
        cwx__msg(msg, msg_size, "%s is not an object", where);
        return CWX_EPARSE;
    }
    int rc = s_fields_read(v, shape->fields, item, where, msg, msg_size);
    if (rc)
        s_fields_free(shape->fields, item);
    else if (shape->finish)
        shape->finish(item);
    return rc;
}

/* One page of a Describe* answer: the array of shape->array's items and
 * nextToken. On success *items (calloc'ed, NULL when empty), *n_out and
 * *next_token are set; on failure they hold what was read so far, for the
 * caller's free function. */
static int s_parse_page(const char *body, size_t len, const struct s_page_shape *shape,
                        void **items, size_t *n_out, char **next_token, char *msg,
                        size_t msg_size)
{
    cJSON *doc;
    const cJSON *arr;
    size_t n;
    *items = NULL;
    int rc = s_parse_object(body, len, &doc, msg, msg_size);
    if (!rc)
        rc = s_array(doc, shape->array, &arr, &n, msg, msg_size);
    if (!rc && n) {
        *items = calloc(n, shape->item_size);
        if (!*items) {
            cwx__msg(msg, msg_size, "out of memory");
            rc = CWX_ENOMEM;
        }
        const cJSON *v = arr ? arr->child : NULL;
        for (size_t i = 0; !rc && v; i++, v = v->next) {
            rc = s_item_read(shape, v, i, (char *)*items + i * shape->item_size, msg,
                             msg_size);
            if (!rc)
                (*n_out)++;
        }
    }
    if (!rc)
        rc = s_next_token(doc, next_token, msg, msg_size);
    cJSON_Delete(doc);
    return rc;
}

/* ---- the Describe* answers ------------------------------------------------------ */

#define S_TASK(key, kind, member) S_FIELD(key, kind, struct cwx_logs_export_task, member)

static const struct s_field s_task_status[] = {
    S_TASK("code", S_STR, status_code),
    S_TASK("message", S_STR, status_message),
    {0},
};

static const struct s_field s_task_execution[] = {
    S_TASK("creationTime", S_MS, creation_time_ms),
    S_TASK("completionTime", S_MS, completion_time_ms),
    {0},
};

static const struct s_field s_task_fields[] = {
    S_TASK("taskId", S_STR_REQ, task_id),
    S_TASK("taskName", S_STR, task_name),
    S_TASK("logGroupName", S_STR, log_group_name),
    S_TASK("from", S_MS, from_ms),
    S_TASK("to", S_MS, to_ms),
    S_TASK("destination", S_STR, destination),
    S_TASK("destinationPrefix", S_STR, destination_prefix),
    {"status", S_OBJ, 0, 0, s_task_status},
    {"executionInfo", S_OBJ, 0, 0, s_task_execution},
    {0},
};

static void s_task_finish(void *item)
{
    struct cwx_logs_export_task *t = item;
    t->status = cwx_export_status_parse(t->status_code);
}

static const struct s_page_shape s_tasks_shape = {
    "exportTasks", sizeof(struct cwx_logs_export_task), s_task_fields, s_task_finish,
    S_LIST(struct cwx_logs_export_tasks, tasks)};

#define S_GROUP(key, kind, member) S_FIELD(key, kind, struct cwx_logs_log_group, member)

static const struct s_field s_group_fields[] = {
    S_GROUP("logGroupName", S_STR_REQ, name),
    S_GROUP("arn", S_STR, arn),
    S_GROUP("creationTime", S_MS, creation_time_ms),
    S_GROUP("retentionInDays", S_DAYS, retention_days),
    {"storedBytes", S_MS, offsetof(struct cwx_logs_log_group, stored_bytes), -1, NULL},
    {0},
};

static const struct s_page_shape s_groups_shape = {
    "logGroups", sizeof(struct cwx_logs_log_group), s_group_fields, NULL,
    S_LIST(struct cwx_logs_log_groups, groups)};

#define S_STREAM(key, kind, member) S_FIELD(key, kind, struct cwx_logs_log_stream, member)

static const struct s_field s_stream_fields[] = {
    S_STREAM("logStreamName", S_STR_REQ, name),
    S_STREAM("creationTime", S_MS, creation_time_ms),
    S_STREAM("firstEventTimestamp", S_MS, first_event_ms),
    S_STREAM("lastEventTimestamp", S_MS, last_event_ms),
    S_STREAM("lastIngestionTime", S_MS, last_ingestion_ms),
    {0},
};

static const struct s_page_shape s_streams_shape = {
    "logStreams", sizeof(struct cwx_logs_log_stream), s_stream_fields, NULL,
    S_LIST(struct cwx_logs_log_streams, streams)};

/* ---- freeing and copying, by the tables ----------------------------------------- */

/* Frees the items of a list struct of shape (their strings, by the field
 * table), the items array and nextToken, and zeroes the list. NULL is fine. */
static void s_list_free(const struct s_page_shape *shape, void *list)
{
    if (!list)
        return;
    char *l = list, *items;
    size_t n = *(size_t *)(void *)(l + shape->n_off);
    memcpy(&items, l + shape->items_off, sizeof(items));
    for (size_t i = 0; items && i < n; i++)
        s_fields_free(shape->fields, items + i * shape->item_size);
    free(items);
    free(*(char **)(void *)(l + shape->token_off));
    memset(list, 0, shape->list_size);
}

void cwx_logs_export_tasks_free(struct cwx_logs_export_tasks *list)
{
    s_list_free(&s_tasks_shape, list);
}

void cwx_logs_log_groups_free(struct cwx_logs_log_groups *list)
{
    s_list_free(&s_groups_shape, list);
}

void cwx_logs_log_streams_free(struct cwx_logs_log_streams *list)
{
    s_list_free(&s_streams_shape, list);
}

void cwx_logs_export_task_free(struct cwx_logs_export_task *t)
{
    s_fields_free(s_task_fields, t);
    memset(t, 0, sizeof(*t));
}

int cwx_logs_export_task_copy(struct cwx_logs_export_task *dst,
                              const struct cwx_logs_export_task *src)
{
    *dst = *src;
    char **const strings[] = {&dst->task_id,           &dst->task_name,
                              &dst->log_group_name,    &dst->destination,
                              &dst->destination_prefix, &dst->status_code,
                              &dst->status_message};
    int rc = cwx__strdup_each(strings, sizeof(strings) / sizeof(strings[0]));
    if (rc)
        cwx_logs_export_task_free(dst);
    return rc;
}

/* Reads one page into the list struct `list` of shape (zeroed first). On
 * failure everything read is freed and the list is zeroed again. The items
 * pointer is stored with memcpy: every object pointer has the same
 * representation (POSIX), and the list's field has the item's type. */
static int s_parse_list(const char *body, size_t len, const struct s_page_shape *shape,
                        void *list, char *msg, size_t msg_size)
{
    char *l = list;
    size_t *n = (size_t *)(void *)(l + shape->n_off);
    char **token = (char **)(void *)(l + shape->token_off);
    void *items = NULL;
    memset(list, 0, shape->list_size);
    int rc = s_parse_page(body, len, shape, &items, n, token, msg, msg_size);
    memcpy(l + shape->items_off, &items, sizeof(items));
    if (rc)
        s_list_free(shape, list);
    return rc;
}

int cwx_logs_parse_describe_export_tasks(const char *body, size_t len,
                                         struct cwx_logs_export_tasks *out, char *msg,
                                         size_t msg_size)
{
    return s_parse_list(body, len, &s_tasks_shape, out, msg, msg_size);
}

int cwx_logs_parse_describe_log_groups(const char *body, size_t len,
                                       struct cwx_logs_log_groups *out, char *msg,
                                       size_t msg_size)
{
    return s_parse_list(body, len, &s_groups_shape, out, msg, msg_size);
}

int cwx_logs_parse_describe_log_streams(const char *body, size_t len,
                                        struct cwx_logs_log_streams *out, char *msg,
                                        size_t msg_size)
{
    return s_parse_list(body, len, &s_streams_shape, out, msg, msg_size);
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

/* Ends a Describe* request body: adds the paging members they share (limit
 * unless 0, nextToken unless NULL), prints doc into out and deletes it. bad
 * counts the members that could not be added so far; any failure to add
 * returns fail. */
static int s_finish_page(cJSON *doc, int limit, const char *next_token, int bad, int fail,
                         struct cwx_buf *out)
{
    if (limit)
        s_add_num(doc, "limit", limit, &bad);
    s_add_str(doc, "nextToken", next_token, &bad);
    int rc = bad ? fail : s_print(doc, out);
    cJSON_Delete(doc);
    return rc;
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
    return s_finish_page(doc, req->limit, req->next_token, bad, CWX_ENOMEM, out);
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
    return s_finish_page(doc, req->limit, req->next_token, bad, CWX_EINVAL, out);
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
    return s_finish_page(doc, req->limit, req->next_token, bad, CWX_ENOMEM, out);
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
