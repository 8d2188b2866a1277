/* S3 client (REST + XML): listings parsed with expat as they stream, object
 * and bucket probes, small puts and bounded gets. Keys are plain (decoded)
 * strings everywhere in this API; the client percent-encodes them. */
#ifndef CWX_AWS_S3_H
#define CWX_AWS_S3_H

#include <stddef.h>
#include <stdint.h>

#include "aws/core.h"
#include "common/buf.h"

/* ---- ListObjectsV2 ------------------------------------------------------- */

struct cwx_s3_object {
    char *key;                /* URL-decoded */
    int64_t size;             /* bytes */
    int64_t last_modified_ms; /* epoch ms; 0 when absent */
    char *etag;               /* as sent, quotes included; "" when absent */
};

/* One page of a listing; everything is owned by the page. */
struct cwx_s3_list_page {
    struct cwx_s3_object *objects;
    size_t n_objects;
    char **common_prefixes;   /* URL-decoded */
    size_t n_prefixes;
    int is_truncated;
    char *next_continuation_token; /* NULL when absent */
    int64_t key_count;             /* KeyCount; -1 when absent */
};

void cwx_s3_list_page_free(struct cwx_s3_list_page *page);

/* Strings borrowed for the starting call only. encoding-type=url is always
 * requested and keys decoded. */
struct cwx_s3_list_req {
    const char *bucket;             /* required */
    const char *prefix;             /* NULL = none */
    const char *delimiter;          /* NULL = none */
    int max_keys;                   /* 0 = AWS's default (1000) */
    const char *continuation_token; /* NULL = first page */
    const char *start_after;        /* NULL = none */
};

/* res is NULL unless status is 0; both pointers are valid only during the
 * callback. A missing bucket gives CWX_ENOTFOUND. */
typedef void cwx_s3_list_fn(int status, const struct cwx_s3_list_page *res,
                            const struct cwx_aws_error *err, void *ud);

/* Lists one page. Returns 0 and cb runs exactly once, later; or CWX_E*. */
int cwx_s3_list_objects_v2(struct cwx_aws_client *c, const struct cwx_s3_list_req *req,
                           cwx_s3_list_fn *cb, void *ud);

/* The pager's per-page callback, called from the loop with each page in
 * order; page is valid only during the call. Return 0 to go on, non-zero to
 * stop (the done callback then gets status 0, and truncated = 1 when pages
 * were left unread). */
typedef int cwx_s3_list_page_fn(const struct cwx_s3_list_page *page, void *ud);

/* The pager's end: status 0 after the last page (or a stop, or max_pages:
 * `truncated` says more pages were left unread), else the failing page's
 * status. pages = pages delivered. */
typedef void cwx_s3_list_done_fn(int status, int pages, int truncated,
                                 const struct cwx_aws_error *err, void *ud);

/* Lists every page of req (continuation_token ignored), at most max_pages
 * (0 = 100,000), handing each page to on_page and forgetting it. Only one
 * page is held at a time. Returns 0 and on_done runs exactly once, later
 * (after every on_page); or CWX_E* and nothing runs. */
int cwx_s3_list_objects_v2_all(struct cwx_aws_client *c, const struct cwx_s3_list_req *req,
                               int max_pages, cwx_s3_list_page_fn *on_page,
                               cwx_s3_list_done_fn *on_done, void *ud);

/* ---- HeadObject ---------------------------------------------------------- */

struct cwx_s3_head_object_result {
    int exists;                /* always 1 when status is 0 */
    int64_t size;              /* Content-Length; -1 when absent */
    const char *etag;          /* "" when absent */
    int64_t last_modified_ms;  /* 0 when the transport does not report it */
    const char *content_type;
};

/* status 0, CWX_ENOTFOUND (404), or a status of cwx_aws_call. */
typedef void cwx_s3_head_object_fn(int status, const struct cwx_s3_head_object_result *res,
                                   const struct cwx_aws_error *err, void *ud);

int cwx_s3_head_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                       cwx_s3_head_object_fn *cb, void *ud);

/* ---- HeadBucket ---------------------------------------------------------- */

struct cwx_s3_head_bucket_result {
    int exists;        /* 1: the bucket exists (possibly not ours to read) */
    int access_denied; /* 1: it exists but we may not access it (403) */
    const char *region; /* x-amz-bucket-region, "" when not reported */
};

/* status 0 for 200, 403 (access_denied) and a wrong-region 301/400 (region
 * says where it is); CWX_ENOTFOUND for 404; else a status of cwx_aws_call. */
typedef void cwx_s3_head_bucket_fn(int status, const struct cwx_s3_head_bucket_result *res,
                                   const struct cwx_aws_error *err, void *ud);

int cwx_s3_head_bucket(struct cwx_aws_client *c, const char *bucket,
                       cwx_s3_head_bucket_fn *cb, void *ud);

/* ---- PutObject ----------------------------------------------------------- */

/* Strings borrowed for the starting call; body is copied too. */
struct cwx_s3_put_object_req {
    const char *bucket;
    const char *key;
    const void *body;
    size_t body_len;
    const char *content_type;           /* NULL = application/octet-stream */
    const char *server_side_encryption; /* "AES256", "aws:kms"; NULL = bucket default */
    const char *acl;                    /* e.g. "bucket-owner-full-control"; NULL = none */
    /* Conditional writes (S3 user guide, "How to prevent object overwrites
     * with conditional writes"): if_none_match "*" writes only when the key
     * does not exist; if_match "<etag>" only when the object's ETag is that
     * one. A condition that does not hold answers 412 PreconditionFailed
     * (status CWX_EAWS, err->http_status 412); If-Match on a missing key
     * answers 404 NoSuchKey (CWX_ENOTFOUND); 409 ConditionalRequestConflict
     * means a concurrent write won the race and the call may be made again.
     * NULL = unconditional. */
    const char *if_none_match;
    const char *if_match;
};

struct cwx_s3_put_object_result {
    const char *etag;
};

typedef void cwx_s3_put_object_fn(int status, const struct cwx_s3_put_object_result *res,
                                  const struct cwx_aws_error *err, void *ud);

int cwx_s3_put_object(struct cwx_aws_client *c, const struct cwx_s3_put_object_req *req,
                      cwx_s3_put_object_fn *cb, void *ud);

/* ---- GetObject ----------------------------------------------------------- */

struct cwx_s3_get_object_result {
    struct cwx_span body;     /* valid during the callback only */
    const char *etag;
    const char *content_type;
};

/* status 0, CWX_ENOTFOUND (NoSuchKey / 404), CWX_ETOOBIG (the object is
 * larger than max_bytes), or a status of cwx_aws_call. */
typedef void cwx_s3_get_object_fn(int status, const struct cwx_s3_get_object_result *res,
                                  const struct cwx_aws_error *err, void *ud);

/* Reads a whole object of at most max_bytes (0 = 1 MiB). */
int cwx_s3_get_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                      size_t max_bytes, cwx_s3_get_object_fn *cb, void *ud);

/* ---- DeleteObject -------------------------------------------------------- */

/* status 0 also when the key did not exist (S3 answers 204 either way). */
typedef void cwx_s3_delete_object_fn(int status, const struct cwx_aws_error *err, void *ud);

int cwx_s3_delete_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                         cwx_s3_delete_object_fn *cb, void *ud);

/* A conditional delete (S3 user guide, "How to perform conditional
 * deletes"): deletes only while the object's ETag is if_match (412
 * PreconditionFailed otherwise, CWX_EAWS). Needs s3:DeleteObject and
 * s3:GetObject. */
int cwx_s3_delete_object_if_match(struct cwx_aws_client *c, const char *bucket,
                                  const char *key, const char *if_match,
                                  cwx_s3_delete_object_fn *cb, void *ud);

#endif
