/* S3 client: the calls and the listing pager. The listing parser and the
 * request pieces are in s3_parse.c. */
#include "aws/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"
#include "common/mem.h"

#define S_DEFAULT_MAX_PAGES 100000
#define S_DEFAULT_GET_MAX ((size_t)1 << 20)

/* ---- calls ------------------------------------------------------------------------------ */

enum s_op {
    S_LIST,
    S_HEAD_OBJECT,
    S_HEAD_BUCKET,
    S_PUT,
    S_GET,
    S_DELETE,
};

struct s_pager;

/* The caller's callback, by the call's op. */
union s_cb {
    cwx_s3_list_fn *list;
    cwx_s3_head_object_fn *head_object;
    cwx_s3_head_bucket_fn *head_bucket;
    cwx_s3_put_object_fn *put;
    cwx_s3_get_object_fn *get;
    cwx_s3_delete_object_fn *del;
};

/* One call in flight; owns everything its request points to. */
struct s_call {
    enum s_op op;
    struct cwx_aws_request req;
    struct cwx_http_header headers[5];
    char *bucket;
    struct cwx_buf path;
    struct cwx_buf query;
    struct cwx_buf body;
    struct cwx_buf hdrs; /* storage of header values */
    union s_cb cb;
    void *ud;
    struct cwx_s3_list_parser *parser; /* S_LIST */
    struct cwx_buf got;                /* S_GET: the object */
    int too_big;                       /* S_GET: sticky over attempts */
    struct s_pager *pager;             /* S_LIST made by the pager */
};

/* The listing pager. */
struct s_pager {
    struct cwx_aws_client *client;
    char *bucket, *prefix, *delimiter, *start_after;
    int max_keys;
    int max_pages;
    int pages;
    char *token; /* the continuation token of the page in flight */
    cwx_s3_list_page_fn *on_page;
    cwx_s3_list_done_fn *on_done;
    void *ud;
};

static void s_call_free(struct s_call *call)
{
    if (!call)
        return;
    free(call->bucket);
    cwx_buf_free(&call->path);
    cwx_buf_free(&call->query);
    cwx_buf_free(&call->body);
    cwx_buf_free(&call->hdrs);
    cwx_buf_free(&call->got);
    cwx_s3_list_parser_free(call->parser);
    free(call);
}

/* A new call of op on bucket for the caller's cb and ud. NULL when out of
 * memory. */
static struct s_call *s_call_new(enum s_op op, const char *bucket, union s_cb cb, void *ud)
{
    struct s_call *call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    *call = (struct s_call){.op = op, .cb = cb, .ud = ud};
    cwx_buf_init(&call->path, 0);
    cwx_buf_init(&call->query, 0);
    cwx_buf_init(&call->body, 0);
    cwx_buf_init(&call->hdrs, 0);
    cwx_buf_init(&call->got, 0);
    call->bucket = strdup(bucket);
    if (!call->bucket) {
        free(call);
        return NULL;
    }
    return call;
}

static int s_on_list_body(const char *chunk, size_t len, void *ud)
{
    struct s_call *call = ud;
    /* Never abort: a parse error is reported when the call ends, and an
     * error document (if the layer streams one) must reach its parser. */
    cwx_s3_list_parser_feed(call->parser, chunk, len);
    return 0;
}

static void s_on_list_attempt(void *ud)
{
    struct s_call *call = ud;
    cwx_s3_list_parser_reset(call->parser);
}

static int s_on_get_body(const char *chunk, size_t len, void *ud)
{
    struct s_call *call = ud;
    if (call->too_big)
        return 1;
    int rc = cwx_buf_append(&call->got, chunk, len);
    if (rc == CWX_ETOOBIG)
        call->too_big = 1;
    return rc ? 1 : 0;
}

static void s_on_get_attempt(void *ud)
{
    struct s_call *call = ud;
    cwx_buf_reset(&call->got);
}

static int s_map_status(int status, const struct cwx_aws_error *err)
{
    if (status == CWX_EAWS && err &&
        (err->http_status == 404 || !strcmp(err->code, "NoSuchKey") ||
         !strcmp(err->code, "NoSuchBucket") || !strcmp(err->code, "NotFound")))
        return CWX_ENOTFOUND;
    return status;
}

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud);

/* Sends call with method, unless rc (the result of making the call; call
 * is NULL when that failed for memory) says it failed. Takes ownership of
 * call: on failure frees it and returns the error. */
static int s_start(struct cwx_aws_client *c, struct s_call *call, int rc, const char *method)
{
    if (rc) {
        s_call_free(call);
        return rc;
    }
    call->req = (struct cwx_aws_request){
        .service = "s3",
        .protocol = CWX_PROTO_REST_XML,
        .method = method,
        .bucket = call->bucket,
        .path = call->path.len ? call->path.ptr : "/",
        .query = call->query.len ? call->query.ptr : NULL,
        .headers = call->headers,
        .body = call->body.ptr,
        .body_len = call->body.len,
    };
    for (size_t i = 0; i < sizeof(call->headers) / sizeof(call->headers[0]); i++)
        if (call->headers[i].name)
            call->req.n_headers = i + 1;
    if (call->op == S_LIST) {
        call->req.on_body = s_on_list_body;
        call->req.on_attempt = s_on_list_attempt;
        call->req.stream_ud = call;
    } else if (call->op == S_GET) {
        call->req.on_body = s_on_get_body;
        call->req.on_attempt = s_on_get_attempt;
        call->req.stream_ud = call;
    }
    rc = cwx_aws_call(c, &call->req, s_on_done, call);
    if (rc)
        s_call_free(call);
    return rc;
}

static void s_pager_free(struct s_pager *pg)
{
    CWX_FREE_ALL(pg->bucket, pg->prefix, pg->delimiter, pg->start_after, pg->token, pg);
}

static int s_pager_next(struct s_pager *pg);

static void s_pager_page(struct s_pager *pg, int status, const struct cwx_s3_list_page *page,
                         const struct cwx_aws_error *err)
{
    if (status) {
        pg->on_done(status, pg->pages, 0, err, pg->ud);
        s_pager_free(pg);
        return;
    }
    pg->pages++;
    int stop = pg->on_page(page, pg->ud);
    int more = page->is_truncated && page->next_continuation_token;
    if (more && pg->token && !strcmp(pg->token, page->next_continuation_token)) {
        struct cwx_aws_error e;
        cwx__parse_error(&e, err, "ListObjectsV2: continuation token did not advance");
        pg->on_done(CWX_EPARSE, pg->pages, 1, &e, pg->ud);
        s_pager_free(pg);
        return;
    }
    if (!more || stop || pg->pages >= pg->max_pages) {
        pg->on_done(0, pg->pages, more, err, pg->ud);
        s_pager_free(pg);
        return;
    }
    free(pg->token);
    pg->token = strdup(page->next_continuation_token);
    int rc = pg->token ? s_pager_next(pg) : CWX_ENOMEM;
    if (rc) {
        struct cwx_aws_error e;
        cwx__parse_error(&e, err, cwx_strerror(rc));
        pg->on_done(rc, pg->pages, 1, &e, pg->ud);
        s_pager_free(pg);
    }
}

/* Each s_done_* below answers one kind of call: it builds the result from the
 * response and calls the caller's callback once. The call is freed after. */

static void s_done_list(struct s_call *call, int status, const struct cwx_http_response *resp,
                        const struct cwx_aws_error *err)
{
    char msg[256] = "";
    struct cwx_aws_error perr;
    struct cwx_s3_list_page page;
    memset(&page, 0, sizeof(page));
    page.key_count = -1;
    if (!status) {
        /* without a streaming layer the body is buffered: parse it now */
        if (resp && resp->body.len)
            cwx_s3_list_parser_feed(call->parser, resp->body.ptr, resp->body.len);
        status = cwx_s3_list_parser_finish(call->parser, &page, msg, sizeof(msg));
    }
    err = cwx__answer_error(status, msg, err, &perr);
    if (call->pager)
        s_pager_page(call->pager, status, &page, err);
    else
        call->cb.list(status, status ? NULL : &page, err, call->ud);
    cwx_s3_list_page_free(&page);
}

static void s_done_head_object(struct s_call *call, int status,
                               const struct cwx_http_response *resp,
                               const struct cwx_aws_error *err)
{
    struct cwx_s3_head_object_result res = {
        .exists = 1,
        .size = resp ? resp->content_length : -1,
        .etag = resp ? resp->etag : "",
        .content_type = resp ? resp->content_type : "",
    };
    call->cb.head_object(status, status ? NULL : &res, err, call->ud);
}

/* A bucket that answers 403 exists but is not ours to read; one that
 * answers 301 or 400 with its region exists in another region. */
static void s_done_head_bucket(struct s_call *call, int status,
                               const struct cwx_http_response *resp,
                               const struct cwx_aws_error *err)
{
    struct cwx_s3_head_bucket_result res = {
        .exists = 1,
        .region = resp ? resp->bucket_region : "",
    };
    long http = err ? err->http_status : (resp ? resp->status : 0);
    if (status && status != CWX_ENOTFOUND) {
        if (http == 403 || status == CWX_EDENIED) {
            res.access_denied = 1;
            status = 0;
        } else if ((http == 301 || http == 400) && res.region[0]) {
            status = 0; /* exists, in another region */
        }
    }
    call->cb.head_bucket(status, status ? NULL : &res, err, call->ud);
}

static void s_done_get(struct s_call *call, int status, const struct cwx_http_response *resp,
                       const struct cwx_aws_error *err)
{
    char msg[256];
    struct cwx_aws_error perr;
    if (call->too_big) {
        status = CWX_ETOOBIG;
        snprintf(msg, sizeof(msg), "GetObject: object larger than %zu bytes", call->got.max);
        err = cwx__answer_error(status, msg, err, &perr);
    }
    struct cwx_s3_get_object_result res = {
        .etag = resp ? resp->etag : "",
        .content_type = resp ? resp->content_type : "",
    };
    if (!status) {
        if (!call->got.len && resp && resp->body.len) {
            /* the layer buffered the body instead of streaming it */
            if (resp->body.len > call->got.max)
                status = CWX_ETOOBIG;
            else
                res.body = (struct cwx_span){resp->body.ptr, resp->body.len};
        } else {
            res.body = (struct cwx_span){call->got.ptr ? call->got.ptr : "", call->got.len};
        }
    }
    call->cb.get(status, status ? NULL : &res, err, call->ud);
}

static void s_done_put(struct s_call *call, int status, const struct cwx_http_response *resp,
                       const struct cwx_aws_error *err)
{
    struct cwx_s3_put_object_result res = {.etag = resp ? resp->etag : ""};
    call->cb.put(status, status ? NULL : &res, err, call->ud);
}

static void s_done_delete(struct s_call *call, int status,
                          const struct cwx_http_response *resp,
                          const struct cwx_aws_error *err)
{
    (void)resp;
    call->cb.del(status, err, call->ud);
}

/* The answer of each op. */
typedef void s_done_fn(struct s_call *call, int status, const struct cwx_http_response *resp,
                       const struct cwx_aws_error *err);
static s_done_fn *const s_done[] = {
    [S_LIST] = s_done_list, [S_HEAD_OBJECT] = s_done_head_object,
    [S_HEAD_BUCKET] = s_done_head_bucket, [S_PUT] = s_done_put,
    [S_GET] = s_done_get, [S_DELETE] = s_done_delete,
};

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    s_done[call->op](call, s_map_status(status, err), resp, err);
    s_call_free(call);
}

/* ---- public calls ---------------------------------------------------------------------- */

static int s_list(struct cwx_aws_client *c, const struct cwx_s3_list_req *req,
                  cwx_s3_list_fn *cb, void *ud, struct s_pager *pager)
{
    struct s_call *call = s_call_new(S_LIST, req->bucket, (union s_cb){.list = cb}, ud);
    int rc = call ? cwx__s3_list_query(req, &call->query) : CWX_ENOMEM;
    if (!rc) {
        call->pager = pager;
        rc = cwx_s3_list_parser_new(&call->parser);
    }
    return s_start(c, call, rc, "GET");
}

int cwx_s3_list_objects_v2(struct cwx_aws_client *c, const struct cwx_s3_list_req *req,
                           cwx_s3_list_fn *cb, void *ud)
{
    if (!c || !req || !req->bucket || !req->bucket[0] || !cb)
        return CWX_EINVAL;
    return s_list(c, req, cb, ud, NULL);
}

static int s_pager_next(struct s_pager *pg)
{
    struct cwx_s3_list_req req = {
        .bucket = pg->bucket,
        .prefix = pg->prefix,
        .delimiter = pg->delimiter,
        .max_keys = pg->max_keys,
        .continuation_token = pg->token,
        .start_after = pg->token ? NULL : pg->start_after,
    };
    return s_list(pg->client, &req, NULL, NULL, pg);
}

int cwx_s3_list_objects_v2_all(struct cwx_aws_client *c, const struct cwx_s3_list_req *req,
                               int max_pages, cwx_s3_list_page_fn *on_page,
                               cwx_s3_list_done_fn *on_done, void *ud)
{
    if (!c || !req || !req->bucket || !req->bucket[0] || !on_page || !on_done ||
        max_pages < 0)
        return CWX_EINVAL;
    struct s_pager *pg = calloc(1, sizeof(*pg));
    if (!pg)
        return CWX_ENOMEM;
    *pg = (struct s_pager){.client = c, .max_keys = req->max_keys,
                           .max_pages = max_pages ? max_pages : S_DEFAULT_MAX_PAGES,
                           .on_page = on_page, .on_done = on_done, .ud = ud};
    pg->bucket = strdup(req->bucket);
    pg->prefix = cwx__strdup(req->prefix);
    pg->delimiter = cwx__strdup(req->delimiter);
    pg->start_after = cwx__strdup(req->start_after);
    int rc = 0;
    if (!pg->bucket || (req->prefix && !pg->prefix) || (req->delimiter && !pg->delimiter) ||
        (req->start_after && !pg->start_after))
        rc = CWX_ENOMEM;
    if (!rc)
        rc = s_pager_next(pg);
    if (rc)
        s_pager_free(pg);
    return rc;
}

/* Makes a call of op on one object (bucket and key checked, the key
 * encoded into the path) for the caller's cb and ud. */
static int s_key_call(struct cwx_aws_client *c, enum s_op op, const char *bucket,
                      const char *key, union s_cb cb, void *ud, struct s_call **out)
{
    *out = NULL;
    if (!c || !bucket || !bucket[0] || !key || !key[0])
        return CWX_EINVAL;
    struct s_call *call = s_call_new(op, bucket, cb, ud);
    if (!call)
        return CWX_ENOMEM;
    int rc = cwx__s3_encode_key(&call->path, key);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    *out = call;
    return 0;
}

/* A request header whose value is NULL when the request has none. */
struct s_header {
    const char *name;
    const char *value;
};

/* Copies the present headers of h into call->hdrs (NUL-separated) and
 * points call->headers at the copies. The offsets are taken first and
 * turned into pointers once the buffer stops growing. */
static int s_set_headers(struct s_call *call, const struct s_header *h, size_t n)
{
    enum { S_MAX = sizeof(call->headers) / sizeof(call->headers[0]) };
    size_t off[S_MAX], k = 0;
    const char *names[S_MAX];
    int rc = 0;
    for (size_t i = 0; i < n && k < S_MAX && !rc; i++) {
        if (!h[i].value)
            continue;
        off[k] = call->hdrs.len;
        names[k++] = h[i].name;
        rc = cwx_buf_append(&call->hdrs, h[i].value, strlen(h[i].value) + 1);
    }
    for (size_t i = 0; i < k && !rc; i++)
        call->headers[i] = (struct cwx_http_header){names[i], call->hdrs.ptr + off[i]};
    return rc;
}

int cwx_s3_head_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                       cwx_s3_head_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!cb)
        return CWX_EINVAL;
    int rc = s_key_call(c, S_HEAD_OBJECT, bucket, key, (union s_cb){.head_object = cb}, ud,
                        &call);
    return s_start(c, call, rc, "HEAD");
}

int cwx_s3_head_bucket(struct cwx_aws_client *c, const char *bucket,
                       cwx_s3_head_bucket_fn *cb, void *ud)
{
    if (!c || !bucket || !bucket[0] || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_HEAD_BUCKET, bucket, (union s_cb){.head_bucket = cb}, ud);
    return s_start(c, call, call ? 0 : CWX_ENOMEM, "HEAD");
}

int cwx_s3_put_object(struct cwx_aws_client *c, const struct cwx_s3_put_object_req *req,
                      cwx_s3_put_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!req || !cb || (req->body_len && !req->body))
        return CWX_EINVAL;
    const struct s_header h[] = {
        {"Content-Type", req->content_type ? req->content_type : "application/octet-stream"},
        {"x-amz-server-side-encryption", req->server_side_encryption},
        {"x-amz-acl", req->acl},
        {"If-None-Match", req->if_none_match},
        {"If-Match", req->if_match},
    };
    int rc = s_key_call(c, S_PUT, req->bucket, req->key, (union s_cb){.put = cb}, ud, &call);
    if (!rc)
        rc = s_set_headers(call, h, sizeof(h) / sizeof(h[0]));
    if (!rc && req->body_len)
        rc = cwx_buf_append(&call->body, req->body, req->body_len);
    return s_start(c, call, rc, "PUT");
}

int cwx_s3_get_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                      size_t max_bytes, cwx_s3_get_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!cb)
        return CWX_EINVAL;
    int rc = s_key_call(c, S_GET, bucket, key, (union s_cb){.get = cb}, ud, &call);
    if (!rc)
        call->got.max = max_bytes ? max_bytes : S_DEFAULT_GET_MAX;
    return s_start(c, call, rc, "GET");
}

/* DeleteObject, conditional on the ETag when if_match is not NULL. */
static int s_delete(struct cwx_aws_client *c, const char *bucket, const char *key,
                    const char *if_match, cwx_s3_delete_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!cb)
        return CWX_EINVAL;
    const struct s_header h[] = {{"If-Match", if_match}};
    int rc = s_key_call(c, S_DELETE, bucket, key, (union s_cb){.del = cb}, ud, &call);
    if (!rc)
        rc = s_set_headers(call, h, 1);
    return s_start(c, call, rc, "DELETE");
}

int cwx_s3_delete_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                         cwx_s3_delete_object_fn *cb, void *ud)
{
    return s_delete(c, bucket, key, NULL, cb, ud);
}

int cwx_s3_delete_object_if_match(struct cwx_aws_client *c, const char *bucket,
                                  const char *key, const char *if_match,
                                  cwx_s3_delete_object_fn *cb, void *ud)
{
    if (!if_match || !if_match[0])
        return CWX_EINVAL;
    return s_delete(c, bucket, key, if_match, cb, ud);
}
