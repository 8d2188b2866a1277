/* S3 client: REST + XML. Listings are parsed with expat as the body
 * streams in, so a page never exists twice in memory. */
#include "aws/s3.h"

#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

#define S_MAX_PAGE_BYTES ((size_t)32 << 20) /* one listing page's XML */
#define S_MAX_DEPTH 32
#define S_DEFAULT_MAX_PAGES 100000
#define S_DEFAULT_GET_MAX ((size_t)1 << 20)

/* ---- pages ------------------------------------------------------------------ */

static void s_object_free(struct cwx_s3_object *o)
{
    free(o->key);
    free(o->etag);
    memset(o, 0, sizeof(*o));
}

void cwx_s3_list_page_free(struct cwx_s3_list_page *page)
{
    for (size_t i = 0; i < page->n_objects; i++)
        s_object_free(&page->objects[i]);
    free(page->objects);
    for (size_t i = 0; i < page->n_prefixes; i++)
        free(page->common_prefixes[i]);
    free(page->common_prefixes);
    free(page->next_continuation_token);
    memset(page, 0, sizeof(*page));
    page->key_count = -1;
}

/* ---- the streaming ListObjectsV2 parser ------------------------------------------ */

/* What the element being read is, by its place in the document. */
enum s_el {
    S_EL_OTHER = 0,
    S_EL_ROOT,
    S_EL_CONTENTS,
    S_EL_PREFIXES,
    S_EL_IS_TRUNCATED,
    S_EL_NEXT_TOKEN,
    S_EL_KEY_COUNT,
    S_EL_ENCODING_TYPE,
    S_EL_KEY,
    S_EL_SIZE,
    S_EL_LAST_MODIFIED,
    S_EL_ETAG,
    S_EL_PREFIX, /* CommonPrefixes/Prefix */
};

struct cwx_s3_list_parser {
    XML_Parser xml;
    enum s_el stack[S_MAX_DEPTH];
    int depth;
    struct cwx_buf text;   /* text of the leaf being read */
    int collecting;
    size_t fed;            /* bytes fed, against S_MAX_PAGE_BYTES */
    struct cwx_s3_list_page page;
    size_t cap_objects, cap_prefixes;
    struct cwx_s3_object cur;  /* the <Contents> being read */
    char *cur_prefix;          /* the <CommonPrefixes> being read */
    int encoded;               /* EncodingType was "url" */
    int error;
    char why[160];
};

static void s_fail(struct cwx_s3_list_parser *p, int err, const char *why)
{
    if (!p->error) {
        p->error = err;
        snprintf(p->why, sizeof(p->why), "%s", why);
    }
    XML_StopParser(p->xml, XML_FALSE);
}

static enum s_el s_classify(const struct cwx_s3_list_parser *p, const char *name)
{
    if (p->depth == 0)
        return S_EL_ROOT;
    enum s_el parent = p->stack[p->depth - 1];
    if (parent == S_EL_ROOT && p->depth == 1) {
        if (!strcmp(name, "Contents"))
            return S_EL_CONTENTS;
        if (!strcmp(name, "CommonPrefixes"))
            return S_EL_PREFIXES;
        if (!strcmp(name, "IsTruncated"))
            return S_EL_IS_TRUNCATED;
        if (!strcmp(name, "NextContinuationToken"))
            return S_EL_NEXT_TOKEN;
        if (!strcmp(name, "KeyCount"))
            return S_EL_KEY_COUNT;
        if (!strcmp(name, "EncodingType"))
            return S_EL_ENCODING_TYPE;
    } else if (parent == S_EL_CONTENTS && p->depth == 2) {
        if (!strcmp(name, "Key"))
            return S_EL_KEY;
        if (!strcmp(name, "Size"))
            return S_EL_SIZE;
        if (!strcmp(name, "LastModified"))
            return S_EL_LAST_MODIFIED;
        if (!strcmp(name, "ETag"))
            return S_EL_ETAG;
    } else if (parent == S_EL_PREFIXES && p->depth == 2) {
        if (!strcmp(name, "Prefix"))
            return S_EL_PREFIX;
    }
    return S_EL_OTHER;
}

static void XMLCALL s_on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct cwx_s3_list_parser *p = ud;
    if (p->depth >= S_MAX_DEPTH) {
        s_fail(p, CWX_EPARSE, "XML nested too deeply");
        return;
    }
    enum s_el el = s_classify(p, name);
    if (el == S_EL_ROOT && strcmp(name, "ListBucketResult") != 0) {
        char why[96];
        snprintf(why, sizeof(why), "unexpected root element <%.64s>", name);
        s_fail(p, CWX_EPARSE, why);
        return;
    }
    p->stack[p->depth++] = el;
    p->collecting = el >= S_EL_IS_TRUNCATED;
    cwx_buf_reset(&p->text);
    if (el == S_EL_CONTENTS) {
        s_object_free(&p->cur);
        p->cur.size = 0;
    } else if (el == S_EL_PREFIXES) {
        free(p->cur_prefix);
        p->cur_prefix = NULL;
    }
}

static void XMLCALL s_on_text(void *ud, const XML_Char *s, int len)
{
    struct cwx_s3_list_parser *p = ud;
    if (!p->collecting || len <= 0)
        return;
    int rc = cwx_buf_append(&p->text, s, (size_t)len);
    if (rc)
        s_fail(p, rc == CWX_ENOMEM ? CWX_ENOMEM : CWX_EPARSE, "XML text too long");
}

static int s_parse_i64(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return CWX_EPARSE;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
            return CWX_EPARSE;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Grows an array of elements of `size` to hold one more entry. */
static int s_grow(void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    if (n >= CWX__MAX_ITEMS)
        return CWX_ETOOBIG;
    size_t ncap = *cap ? *cap * 2 : 64;
    if (ncap > CWX__MAX_ITEMS)
        ncap = CWX__MAX_ITEMS;
    void *q = realloc(*arr, ncap * size);
    if (!q)
        return CWX_ENOMEM;
    *arr = q;
    *cap = ncap;
    return 0;
}

/* Takes the collected text as a malloc'd string. */
static char *s_take_text(struct cwx_s3_list_parser *p)
{
    return p->text.ptr ? cwx_buf_steal(&p->text) : strdup("");
}

static void XMLCALL s_on_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct cwx_s3_list_parser *p = ud;
    if (p->depth <= 0)
        return;
    enum s_el el = p->stack[--p->depth];
    p->collecting = 0;
    const char *t = p->text.ptr ? p->text.ptr : "";
    char **dst = NULL;
    switch (el) {
    case S_EL_IS_TRUNCATED:
        if (!strcmp(t, "true"))
            p->page.is_truncated = 1;
        else if (!strcmp(t, "false"))
            p->page.is_truncated = 0;
        else
            s_fail(p, CWX_EPARSE, "IsTruncated is not a boolean");
        break;
    case S_EL_KEY_COUNT:
        if (s_parse_i64(t, &p->page.key_count))
            s_fail(p, CWX_EPARSE, "KeyCount is not a count");
        break;
    case S_EL_ENCODING_TYPE:
        p->encoded = !strcmp(t, "url");
        break;
    case S_EL_SIZE:
        if (s_parse_i64(t, &p->cur.size))
            s_fail(p, CWX_EPARSE, "Size is not a byte count");
        break;
    case S_EL_LAST_MODIFIED:
        if (cwx__iso8601_ms(t, p->text.len, &p->cur.last_modified_ms))
            s_fail(p, CWX_EPARSE, "LastModified is not an ISO 8601 time");
        break;
    case S_EL_NEXT_TOKEN:
        dst = &p->page.next_continuation_token;
        break;
    case S_EL_KEY:
        dst = &p->cur.key;
        break;
    case S_EL_ETAG:
        dst = &p->cur.etag;
        break;
    case S_EL_PREFIX:
        dst = &p->cur_prefix;
        break;
    case S_EL_CONTENTS: {
        if (!p->cur.key) {
            s_fail(p, CWX_EPARSE, "<Contents> without <Key>");
            break;
        }
        if (!p->cur.etag && !(p->cur.etag = strdup(""))) {
            s_fail(p, CWX_ENOMEM, "out of memory");
            break;
        }
        int rc = s_grow((void **)&p->page.objects, p->page.n_objects, &p->cap_objects,
                        sizeof(*p->page.objects));
        if (rc) {
            s_fail(p, rc == CWX_ENOMEM ? rc : CWX_EPARSE, "too many objects in a page");
            break;
        }
        p->page.objects[p->page.n_objects++] = p->cur;
        memset(&p->cur, 0, sizeof(p->cur));
        break;
    }
    case S_EL_PREFIXES: {
        if (!p->cur_prefix)
            break; /* an empty <CommonPrefixes/> carries nothing */
        int rc = s_grow((void **)&p->page.common_prefixes, p->page.n_prefixes,
                        &p->cap_prefixes, sizeof(char *));
        if (rc) {
            s_fail(p, rc == CWX_ENOMEM ? rc : CWX_EPARSE, "too many prefixes in a page");
            break;
        }
        p->page.common_prefixes[p->page.n_prefixes++] = p->cur_prefix;
        p->cur_prefix = NULL;
        break;
    }
    default:
        break;
    }
    if (dst) {
        free(*dst); /* a repeated element: the last one wins */
        if (!(*dst = s_take_text(p)))
            s_fail(p, CWX_ENOMEM, "out of memory");
    }
    cwx_buf_reset(&p->text);
}

static void XMLCALL s_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                 const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    s_fail(ud, CWX_EPARSE, "XML DOCTYPE refused");
}

static void s_parser_clear(struct cwx_s3_list_parser *p)
{
    if (p->xml)
        XML_ParserFree(p->xml);
    p->xml = NULL;
    cwx_buf_free(&p->text);
    cwx_s3_list_page_free(&p->page);
    s_object_free(&p->cur);
    free(p->cur_prefix);
    p->cur_prefix = NULL;
}

int cwx_s3_list_parser_reset(struct cwx_s3_list_parser *p)
{
    s_parser_clear(p);
    memset(p, 0, sizeof(*p));
    cwx_buf_init(&p->text, CWX__MAX_TEXT);
    p->page.key_count = -1;
    p->xml = XML_ParserCreate("UTF-8");
    if (!p->xml) {
        p->error = CWX_ENOMEM;
        snprintf(p->why, sizeof(p->why), "out of memory");
        return CWX_ENOMEM;
    }
    XML_SetUserData(p->xml, p);
    XML_SetElementHandler(p->xml, s_on_start, s_on_end);
    XML_SetCharacterDataHandler(p->xml, s_on_text);
    XML_SetStartDoctypeDeclHandler(p->xml, s_on_doctype);
    return 0;
}

int cwx_s3_list_parser_new(struct cwx_s3_list_parser **out)
{
    struct cwx_s3_list_parser *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        return CWX_ENOMEM;
    int rc = cwx_s3_list_parser_reset(p);
    if (rc) {
        cwx_s3_list_parser_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void cwx_s3_list_parser_free(struct cwx_s3_list_parser *p)
{
    if (!p)
        return;
    s_parser_clear(p);
    free(p);
}

static int s_xml_feed(struct cwx_s3_list_parser *p, const char *chunk, size_t len, int final)
{
    do {
        size_t n = len > (1u << 20) ? (1u << 20) : len;
        int last = final && n == len;
        if (XML_Parse(p->xml, chunk, (int)n, last) != XML_STATUS_OK) {
            if (!p->error) {
                p->error = CWX_EPARSE;
                snprintf(p->why, sizeof(p->why), "invalid XML at line %lu: %s",
                         (unsigned long)XML_GetCurrentLineNumber(p->xml),
                         XML_ErrorString(XML_GetErrorCode(p->xml)));
            }
            return p->error;
        }
        chunk += n;
        len -= n;
    } while (len);
    return 0;
}

int cwx_s3_list_parser_feed(struct cwx_s3_list_parser *p, const char *chunk, size_t len)
{
    if (p->error)
        return p->error;
    if (!len)
        return 0;
    if (len > S_MAX_PAGE_BYTES - p->fed) {
        p->error = CWX_EPARSE;
        snprintf(p->why, sizeof(p->why), "listing page larger than %zu bytes",
                 S_MAX_PAGE_BYTES);
        return p->error;
    }
    p->fed += len;
    return s_xml_feed(p, chunk, len, 0);
}

/* URL-decodes s in place (S3's encoding-type=url: '+' is a space). */
static int s_decode_inplace(char *s)
{
    struct cwx_buf b;
    cwx_buf_init(&b, 0);
    int rc = cwx__pct_decode(&b, s, strlen(s), 1);
    if (!rc) {
        /* decoding never lengthens; a %00 would cut the key short: refuse it */
        if (memchr(b.ptr ? b.ptr : "", '\0', b.len))
            rc = CWX_EPARSE;
        else
            memcpy(s, b.ptr ? b.ptr : "", b.len + 1);
    }
    cwx_buf_free(&b);
    return rc;
}

int cwx_s3_list_parser_finish(struct cwx_s3_list_parser *p, struct cwx_s3_list_page *out,
                              char *msg, size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    out->key_count = -1;
    if (!p->error)
        s_xml_feed(p, "", 0, 1);
    if (!p->error && p->page.is_truncated && !p->page.next_continuation_token) {
        p->error = CWX_EPARSE;
        snprintf(p->why, sizeof(p->why), "IsTruncated without NextContinuationToken");
    }
    if (!p->error && p->encoded) {
        for (size_t i = 0; !p->error && i < p->page.n_objects; i++)
            if (s_decode_inplace(p->page.objects[i].key))
                p->error = CWX_EPARSE;
        for (size_t i = 0; !p->error && i < p->page.n_prefixes; i++)
            if (s_decode_inplace(p->page.common_prefixes[i]))
                p->error = CWX_EPARSE;
        if (p->error)
            snprintf(p->why, sizeof(p->why), "bad URL encoding in a key");
    }
    if (p->error) {
        cwx__msg(msg, msg_size, "ListObjectsV2: %s", p->why);
        return p->error;
    }
    *out = p->page;
    memset(&p->page, 0, sizeof(p->page));
    p->page.key_count = -1;
    p->cap_objects = p->cap_prefixes = 0;
    return 0;
}

int cwx_s3_parse_list_objects_v2(const char *body, size_t len, struct cwx_s3_list_page *out,
                                 char *msg, size_t msg_size)
{
    struct cwx_s3_list_parser *p;
    memset(out, 0, sizeof(*out));
    out->key_count = -1;
    int rc = cwx_s3_list_parser_new(&p);
    if (rc) {
        cwx__msg(msg, msg_size, "out of memory");
        return rc;
    }
    cwx_s3_list_parser_feed(p, body, len);
    rc = cwx_s3_list_parser_finish(p, out, msg, msg_size);
    cwx_s3_list_parser_free(p);
    return rc;
}

/* ---- request pieces ------------------------------------------------------------------ */

int cwx__s3_encode_key(struct cwx_buf *out, const char *key)
{
    int rc = cwx_buf_putc(out, '/');
    if (!rc)
        rc = cwx__pct_encode(out, key, strlen(key), 1);
    return rc;
}

static int s_query_add(struct cwx_buf *q, const char *name, const char *value)
{
    return value ? cwx__form_add(q, name, value) : 0;
}

int cwx__s3_list_query(const struct cwx_s3_list_req *req, struct cwx_buf *out)
{
    char max_keys[16] = "";
    if (req->max_keys < 0 || req->max_keys > 1000)
        return CWX_EINVAL;
    if (req->max_keys)
        snprintf(max_keys, sizeof(max_keys), "%d", req->max_keys);
    /* sorted by name, as the canonical request wants them */
    int rc = s_query_add(out, "continuation-token", req->continuation_token);
    if (!rc)
        rc = s_query_add(out, "delimiter", req->delimiter);
    if (!rc)
        rc = s_query_add(out, "encoding-type", "url");
    if (!rc)
        rc = s_query_add(out, "list-type", "2");
    if (!rc)
        rc = s_query_add(out, "max-keys", req->max_keys ? max_keys : NULL);
    if (!rc)
        rc = s_query_add(out, "prefix", req->prefix);
    if (!rc)
        rc = s_query_add(out, "start-after", req->start_after);
    return rc;
}

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

/* One call in flight; owns everything its request points to. */
struct s_call {
    enum s_op op;
    struct cwx_aws_request req;
    struct cwx_http_header headers[3];
    char *bucket;
    struct cwx_buf path;
    struct cwx_buf query;
    struct cwx_buf body;
    struct cwx_buf hdrs; /* storage of header values */
    union {
        cwx_s3_list_fn *list;
        cwx_s3_head_object_fn *head_object;
        cwx_s3_head_bucket_fn *head_bucket;
        cwx_s3_put_object_fn *put;
        cwx_s3_get_object_fn *get;
        cwx_s3_delete_object_fn *del;
    } cb;
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
    free(call->bucket);
    cwx_buf_free(&call->path);
    cwx_buf_free(&call->query);
    cwx_buf_free(&call->body);
    cwx_buf_free(&call->hdrs);
    cwx_buf_free(&call->got);
    cwx_s3_list_parser_free(call->parser);
    free(call);
}

static struct s_call *s_call_new(enum s_op op, const char *bucket, void *ud)
{
    struct s_call *call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    call->op = op;
    call->ud = ud;
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

/* Takes ownership of call: on failure frees it and returns the error. */
static int s_start(struct cwx_aws_client *c, struct s_call *call, const char *method)
{
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
    int rc = cwx_aws_call(c, &call->req, s_on_done, call);
    if (rc)
        s_call_free(call);
    return rc;
}

static void s_pager_free(struct s_pager *pg)
{
    free(pg->bucket);
    free(pg->prefix);
    free(pg->delimiter);
    free(pg->start_after);
    free(pg->token);
    free(pg);
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

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    char msg[256] = "";
    struct cwx_aws_error perr;
    status = s_map_status(status, err);

    switch (call->op) {
    case S_LIST: {
        struct cwx_s3_list_page page;
        memset(&page, 0, sizeof(page));
        page.key_count = -1;
        if (!status) {
            /* without a streaming layer the body is buffered: parse it now */
            if (resp && resp->body.len)
                cwx_s3_list_parser_feed(call->parser, resp->body.ptr, resp->body.len);
            status = cwx_s3_list_parser_finish(call->parser, &page, msg, sizeof(msg));
        }
        if (status && msg[0]) {
            cwx__parse_error(&perr, err, msg);
            err = &perr;
        }
        if (call->pager)
            s_pager_page(call->pager, status, &page, err);
        else
            call->cb.list(status, status ? NULL : &page, err, call->ud);
        cwx_s3_list_page_free(&page);
        break;
    }
    case S_HEAD_OBJECT: {
        struct cwx_s3_head_object_result res = {
            .exists = 1,
            .size = resp ? resp->content_length : -1,
            .etag = resp ? resp->etag : "",
            .content_type = resp ? resp->content_type : "",
        };
        call->cb.head_object(status, status ? NULL : &res, err, call->ud);
        break;
    }
    case S_HEAD_BUCKET: {
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
        break;
    }
    case S_PUT: {
        struct cwx_s3_put_object_result res = {.etag = resp ? resp->etag : ""};
        call->cb.put(status, status ? NULL : &res, err, call->ud);
        break;
    }
    case S_GET: {
        if (call->too_big) {
            status = CWX_ETOOBIG;
            snprintf(msg, sizeof(msg), "GetObject: object larger than %zu bytes",
                     call->got.max);
            cwx__parse_error(&perr, err, msg);
            err = &perr;
        }
        struct cwx_s3_get_object_result res = {
            .etag = resp ? resp->etag : "",
            .content_type = resp ? resp->content_type : "",
        };
        if (!status) {
            if (!call->got.len && resp && resp->body.len) {
                /* the layer buffered the body instead of streaming it */
                if (resp->body.len > call->got.max) {
                    status = CWX_ETOOBIG;
                } else {
                    res.body = (struct cwx_span){resp->body.ptr, resp->body.len};
                }
            } else {
                res.body = (struct cwx_span){call->got.ptr ? call->got.ptr : "",
                                             call->got.len};
            }
        }
        call->cb.get(status, status ? NULL : &res, err, call->ud);
        break;
    }
    case S_DELETE:
        call->cb.del(status, err, call->ud);
        break;
    }
    s_call_free(call);
}

/* ---- public calls ---------------------------------------------------------------------- */

static int s_list(struct cwx_aws_client *c, const struct cwx_s3_list_req *req,
                  cwx_s3_list_fn *cb, void *ud, struct s_pager *pager)
{
    struct s_call *call = s_call_new(S_LIST, req->bucket, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.list = cb;
    call->pager = pager;
    int rc = cwx__s3_list_query(req, &call->query);
    if (!rc)
        rc = cwx_s3_list_parser_new(&call->parser);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, "GET");
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
    pg->client = c;
    pg->max_keys = req->max_keys;
    pg->max_pages = max_pages ? max_pages : S_DEFAULT_MAX_PAGES;
    pg->on_page = on_page;
    pg->on_done = on_done;
    pg->ud = ud;
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

static int s_key_call(struct cwx_aws_client *c, enum s_op op, const char *bucket,
                      const char *key, struct s_call **out)
{
    *out = NULL;
    if (!c || !bucket || !bucket[0] || !key || !key[0])
        return CWX_EINVAL;
    struct s_call *call = s_call_new(op, bucket, NULL);
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

int cwx_s3_head_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                       cwx_s3_head_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!cb)
        return CWX_EINVAL;
    int rc = s_key_call(c, S_HEAD_OBJECT, bucket, key, &call);
    if (rc)
        return rc;
    call->cb.head_object = cb;
    call->ud = ud;
    return s_start(c, call, "HEAD");
}

int cwx_s3_head_bucket(struct cwx_aws_client *c, const char *bucket,
                       cwx_s3_head_bucket_fn *cb, void *ud)
{
    if (!c || !bucket || !bucket[0] || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_HEAD_BUCKET, bucket, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.head_bucket = cb;
    return s_start(c, call, "HEAD");
}

int cwx_s3_put_object(struct cwx_aws_client *c, const struct cwx_s3_put_object_req *req,
                      cwx_s3_put_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!req || !cb || (req->body_len && !req->body))
        return CWX_EINVAL;
    int rc = s_key_call(c, S_PUT, req->bucket, req->key, &call);
    if (rc)
        return rc;
    call->cb.put = cb;
    call->ud = ud;
    /* The header values are copied into call->hdrs, NUL-separated; offsets
     * are taken first and turned into pointers once the buffer stops
     * growing. */
    const char *ct = req->content_type ? req->content_type : "application/octet-stream";
    size_t ct_off = 0, sse_off = 0, acl_off = 0;
    rc = cwx_buf_append(&call->hdrs, ct, strlen(ct) + 1);
    if (!rc && req->server_side_encryption) {
        sse_off = call->hdrs.len;
        rc = cwx_buf_append(&call->hdrs, req->server_side_encryption,
                            strlen(req->server_side_encryption) + 1);
    }
    if (!rc && req->acl) {
        acl_off = call->hdrs.len;
        rc = cwx_buf_append(&call->hdrs, req->acl, strlen(req->acl) + 1);
    }
    if (!rc && req->body_len)
        rc = cwx_buf_append(&call->body, req->body, req->body_len);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    size_t n = 0;
    call->headers[n++] = (struct cwx_http_header){"Content-Type", call->hdrs.ptr + ct_off};
    if (req->server_side_encryption)
        call->headers[n++] = (struct cwx_http_header){"x-amz-server-side-encryption",
                                                      call->hdrs.ptr + sse_off};
    if (req->acl)
        call->headers[n++] = (struct cwx_http_header){"x-amz-acl", call->hdrs.ptr + acl_off};
    return s_start(c, call, "PUT");
}

int cwx_s3_get_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                      size_t max_bytes, cwx_s3_get_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!cb)
        return CWX_EINVAL;
    int rc = s_key_call(c, S_GET, bucket, key, &call);
    if (rc)
        return rc;
    call->cb.get = cb;
    call->ud = ud;
    call->got.max = max_bytes ? max_bytes : S_DEFAULT_GET_MAX;
    return s_start(c, call, "GET");
}

int cwx_s3_delete_object(struct cwx_aws_client *c, const char *bucket, const char *key,
                         cwx_s3_delete_object_fn *cb, void *ud)
{
    struct s_call *call;
    if (!cb)
        return CWX_EINVAL;
    int rc = s_key_call(c, S_DELETE, bucket, key, &call);
    if (rc)
        return rc;
    call->cb.del = cb;
    call->ud = ud;
    return s_start(c, call, "DELETE");
}
