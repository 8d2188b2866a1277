/* CloudWatch Logs client: the calls and the pagers. Bodies and parsers are
 * in logs_parse.c. */
#include "aws/logs.h"

#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"
#include "common/mem.h"

#define S_DEFAULT_TASK_PAGES 100
#define S_DEFAULT_GROUP_PAGES 1000

/* ---- calls ------------------------------------------------------------------------ */

enum s_op {
    S_CREATE,
    S_DESCRIBE_TASKS,
    S_CANCEL,
    S_DESCRIBE_GROUPS,
    S_DESCRIBE_STREAMS,
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

/* The caller's callback, by the call's op. */
union s_cb {
    cwx_logs_create_export_task_fn *create;
    cwx_logs_describe_export_tasks_fn *tasks;
    cwx_logs_cancel_export_task_fn *cancel;
    cwx_logs_describe_log_groups_fn *groups;
    cwx_logs_describe_log_streams_fn *streams;
};

/* One call in flight; owns everything its request points to. */
struct s_call {
    enum s_op op;
    struct cwx_aws_request req;
    struct cwx_http_header headers[2];
    char target[64];
    struct cwx_buf body;
    union s_cb cb;
    void *ud;
    struct s_pager *pager; /* set for a pager's page */
};

static void s_call_free(struct s_call *call)
{
    if (!call)
        return;
    cwx_buf_free(&call->body);
    free(call);
}

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud);

/* Each op's name in X-Amz-Target and its call flags. */
static const struct {
    const char *name;
    unsigned flags;
} s_ops[] = {
    [S_CREATE] = {"CreateExportTask", CWX_AWS_SLOT_BUSY},
    [S_DESCRIBE_TASKS] = {"DescribeExportTasks", 0},
    [S_CANCEL] = {"CancelExportTask", 0},
    [S_DESCRIBE_GROUPS] = {"DescribeLogGroups", 0},
    [S_DESCRIBE_STREAMS] = {"DescribeLogStreams", 0},
};

/* Starts call, unless rc (the result of making the call and its body;
 * CWX_ENOMEM when call is NULL) says it failed. Takes ownership of call:
 * on failure frees it and returns the error. */
static int s_start(struct cwx_aws_client *c, struct s_call *call, int rc)
{
    if (rc) {
        s_call_free(call);
        return rc;
    }
    snprintf(call->target, sizeof(call->target), "Logs_20140328.%s", s_ops[call->op].name);
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
        .flags = s_ops[call->op].flags,
    };
    rc = cwx_aws_call(c, &call->req, s_on_done, call);
    if (rc)
        s_call_free(call);
    return rc;
}

/* A new call of op for the caller's cb and ud; pager is set for a pager's
 * page. NULL when out of memory. */
static struct s_call *s_call_new(enum s_op op, union s_cb cb, void *ud, struct s_pager *pager)
{
    struct s_call *call = calloc(1, sizeof(*call));
    if (call) {
        *call = (struct s_call){.op = op, .cb = cb, .ud = ud, .pager = pager};
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
    for (size_t i = 0; i < pg->n_identifiers; i++)
        free(pg->identifiers[i]);
    CWX_FREE_ALL(pg->prefix, pg->pattern, pg->identifiers, pg->token, pg);
}

/* Ends a pager: hands the collected list over on success (the pager keeps
 * only the list it did not collect, which is empty). */
static void s_pager_finish(struct s_pager *pg, int status, const struct cwx_aws_error *err)
{
    struct cwx_logs_export_tasks tasks = pg->tasks;
    struct cwx_logs_log_groups groups = pg->groups;
    if (!status) {
        memset(&pg->tasks, 0, sizeof(pg->tasks));
        memset(&pg->groups, 0, sizeof(pg->groups));
    }
    if (pg->tasks_cb)
        pg->tasks_cb(status, status ? NULL : &tasks, err, pg->ud);
    else
        pg->groups_cb(status, status ? NULL : &groups, err, pg->ud);
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

/* Each s_done_* below answers one kind of call: it parses the body of a
 * 2xx answer and calls the caller's callback (or hands the page to its
 * pager) once. msg holds a parser's complaint. */

static void s_done_create(struct s_call *call, int status, struct cwx_span body,
                          const struct cwx_aws_error *err)
{
    char msg[256] = "", *task_id = NULL;
    struct cwx_aws_error perr;
    if (!status)
        status = cwx_logs_parse_create_export_task(body.ptr, body.len, &task_id, msg,
                                                   sizeof(msg));
    err = cwx__answer_error(status, msg, err, &perr);
    struct cwx_logs_create_export_task_result res = {task_id};
    call->cb.create(status, status ? NULL : &res, err, call->ud);
    free(task_id);
}

static void s_done_tasks(struct s_call *call, int status, struct cwx_span body,
                         const struct cwx_aws_error *err)
{
    char msg[256] = "";
    struct cwx_aws_error perr;
    struct cwx_logs_export_tasks res = {0};
    if (!status)
        status = cwx_logs_parse_describe_export_tasks(body.ptr, body.len, &res, msg,
                                                      sizeof(msg));
    err = cwx__answer_error(status, msg, err, &perr);
    if (call->pager && status)
        s_pager_finish(call->pager, status, err);
    else if (call->pager)
        s_pager_page(call->pager, &res, NULL, err);
    else
        call->cb.tasks(status, status ? NULL : &res, err, call->ud);
    cwx_logs_export_tasks_free(&res);
}

static void s_done_groups(struct s_call *call, int status, struct cwx_span body,
                          const struct cwx_aws_error *err)
{
    char msg[256] = "";
    struct cwx_aws_error perr;
    struct cwx_logs_log_groups res = {0};
    if (!status)
        status = cwx_logs_parse_describe_log_groups(body.ptr, body.len, &res, msg,
                                                    sizeof(msg));
    err = cwx__answer_error(status, msg, err, &perr);
    if (call->pager && status)
        s_pager_finish(call->pager, status, err);
    else if (call->pager)
        s_pager_page(call->pager, NULL, &res, err);
    else
        call->cb.groups(status, status ? NULL : &res, err, call->ud);
    cwx_logs_log_groups_free(&res);
}

static void s_done_streams(struct s_call *call, int status, struct cwx_span body,
                           const struct cwx_aws_error *err)
{
    char msg[256] = "";
    struct cwx_aws_error perr;
    struct cwx_logs_log_streams res = {0};
    if (!status)
        status = cwx_logs_parse_describe_log_streams(body.ptr, body.len, &res, msg,
                                                     sizeof(msg));
    err = cwx__answer_error(status, msg, err, &perr);
    call->cb.streams(status, status ? NULL : &res, err, call->ud);
    cwx_logs_log_streams_free(&res);
}

static void s_done_cancel(struct s_call *call, int status, struct cwx_span body,
                          const struct cwx_aws_error *err)
{
    (void)body;
    call->cb.cancel(status, err, call->ud);
}

/* The answer of each op. */
typedef void s_done_fn(struct s_call *call, int status, struct cwx_span body,
                       const struct cwx_aws_error *err);
static s_done_fn *const s_done[] = {
    [S_CREATE] = s_done_create,         [S_DESCRIBE_TASKS] = s_done_tasks,
    [S_CANCEL] = s_done_cancel,         [S_DESCRIBE_GROUPS] = s_done_groups,
    [S_DESCRIBE_STREAMS] = s_done_streams,
};

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    struct cwx_span body = {resp ? resp->body.ptr : NULL, resp ? resp->body.len : 0};
    s_done[call->op](call, s_map_status(call->op, status, err), body, err);
    s_call_free(call);
}

/* Each call below makes its s_call and body, then starts it with s_start. */

int cwx_logs_create_export_task(struct cwx_aws_client *c,
                                const struct cwx_logs_create_export_task_req *req,
                                cwx_logs_create_export_task_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_CREATE, (union s_cb){.create = cb}, ud, NULL);
    int rc = call ? cwx__logs_create_export_task_body(req, &call->body) : CWX_ENOMEM;
    return s_start(c, call, rc);
}

int cwx_logs_describe_export_tasks(struct cwx_aws_client *c,
                                   const struct cwx_logs_describe_export_tasks_req *req,
                                   cwx_logs_describe_export_tasks_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_DESCRIBE_TASKS, (union s_cb){.tasks = cb}, ud, NULL);
    int rc = call ? cwx__logs_describe_export_tasks_body(req, &call->body) : CWX_ENOMEM;
    return s_start(c, call, rc);
}

int cwx_logs_describe_log_groups(struct cwx_aws_client *c,
                                 const struct cwx_logs_describe_log_groups_req *req,
                                 cwx_logs_describe_log_groups_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_DESCRIBE_GROUPS, (union s_cb){.groups = cb}, ud, NULL);
    int rc = call ? cwx__logs_describe_log_groups_body(req, &call->body) : CWX_ENOMEM;
    return s_start(c, call, rc);
}

int cwx_logs_describe_log_streams(struct cwx_aws_client *c,
                                  const struct cwx_logs_describe_log_streams_req *req,
                                  cwx_logs_describe_log_streams_fn *cb, void *ud)
{
    if (!c || !req || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_DESCRIBE_STREAMS, (union s_cb){.streams = cb}, ud, NULL);
    int rc = call ? cwx__logs_describe_log_streams_body(req, &call->body) : CWX_ENOMEM;
    return s_start(c, call, rc);
}

int cwx_logs_cancel_export_task(struct cwx_aws_client *c, const char *task_id,
                                cwx_logs_cancel_export_task_fn *cb, void *ud)
{
    if (!c || !task_id || !task_id[0] || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_CANCEL, (union s_cb){.cancel = cb}, ud, NULL);
    int rc = call ? cwx__logs_cancel_export_task_body(task_id, &call->body) : CWX_ENOMEM;
    return s_start(c, call, rc);
}

/* ---- pagers ------------------------------------------------------------------------ */

/* Starts the pager's call for the page at next_token (NULL: the first). */
static int s_pager_next(struct s_pager *pg, const char *next_token)
{
    enum s_op op = pg->tasks_cb ? S_DESCRIBE_TASKS : S_DESCRIBE_GROUPS;
    struct s_call *call = s_call_new(op, (union s_cb){0}, NULL, pg);
    int rc = call ? 0 : CWX_ENOMEM;
    if (!rc && op == S_DESCRIBE_TASKS) {
        struct cwx_logs_describe_export_tasks_req r = pg->tasks_req;
        r.next_token = next_token;
        rc = cwx__logs_describe_export_tasks_body(&r, &call->body);
    } else if (!rc) {
        struct cwx_logs_describe_log_groups_req r = pg->groups_req;
        r.next_token = next_token;
        rc = cwx__logs_describe_log_groups_body(&r, &call->body);
    }
    return s_start(pg->client, call, rc);
}

/* Starts the pager's first page, unless rc (the result of making pg) says
 * that failed. Takes ownership of pg: on failure frees it and returns the
 * error. */
static int s_pager_start(struct s_pager *pg, int rc)
{
    if (!rc)
        rc = s_pager_next(pg, NULL);
    if (rc)
        s_pager_free(pg);
    return rc;
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
    *pg = (struct s_pager){
        .client = c,
        .max_pages = max_pages ? max_pages : S_DEFAULT_TASK_PAGES,
        .tasks_req = {.status = status, .limit = limit ? limit : 50},
        .tasks_cb = cb,
        .ud = ud,
    };
    return s_pager_start(pg, 0);
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
    *pg = (struct s_pager){
        .client = c,
        .max_pages = max_pages ? max_pages : S_DEFAULT_GROUP_PAGES,
        .groups_cb = cb,
        .ud = ud,
    };
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
    return s_pager_start(pg, rc);
}
