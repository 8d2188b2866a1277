/* S3 client, the pure half: the streaming ListObjectsV2 parser (expat, fed
 * as the body arrives, so a page never exists twice in memory) and request
 * pieces. No I/O here, so tests and fuzzers link it alone. */
#include "aws/s3.h"

#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

#define S_MAX_PAGE_BYTES ((size_t)32 << 20) /* one listing page's XML */
#define S_MAX_DEPTH 32

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
    cwx__xml_fail(p->xml, &p->error, p->why, sizeof(p->why), err, why);
}

/* Where each element we read stands: its parent, its name and what it is. */
static const struct {
    enum s_el parent;
    const char *name;
    enum s_el el;
} s_elements[] = {
    {S_EL_ROOT, "Contents", S_EL_CONTENTS},
    {S_EL_ROOT, "CommonPrefixes", S_EL_PREFIXES},
    {S_EL_ROOT, "IsTruncated", S_EL_IS_TRUNCATED},
    {S_EL_ROOT, "NextContinuationToken", S_EL_NEXT_TOKEN},
    {S_EL_ROOT, "KeyCount", S_EL_KEY_COUNT},
    {S_EL_ROOT, "EncodingType", S_EL_ENCODING_TYPE},
    {S_EL_CONTENTS, "Key", S_EL_KEY},
    {S_EL_CONTENTS, "Size", S_EL_SIZE},
    {S_EL_CONTENTS, "LastModified", S_EL_LAST_MODIFIED},
    {S_EL_CONTENTS, "ETag", S_EL_ETAG},
    {S_EL_PREFIXES, "Prefix", S_EL_PREFIX},
};

static enum s_el s_classify(const struct cwx_s3_list_parser *p, const char *name)
{
    if (p->depth == 0)
        return S_EL_ROOT;
    enum s_el parent = p->stack[p->depth - 1];
    /* The root's children stand at depth 1, their children at depth 2. */
    if (p->depth != (parent == S_EL_ROOT ? 1 : 2))
        return S_EL_OTHER;
    for (size_t i = 0; i < sizeof(s_elements) / sizeof(*s_elements); i++)
        if (s_elements[i].parent == parent && !strcmp(name, s_elements[i].name))
            return s_elements[i].el;
    return S_EL_OTHER;
}

static void XMLCALL s_on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct cwx_s3_list_parser *p = ud;
    if (cwx__xml_too_deep(p->xml, &p->error, p->why, sizeof(p->why), p->depth, S_MAX_DEPTH))
        return;
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

/* Reads the count t into *out, or fails the parse with why. */
static void s_count(struct cwx_s3_list_parser *p, const char *t, int64_t *out, const char *why)
{
    if (s_parse_i64(t, out))
        s_fail(p, CWX_EPARSE, why);
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

/* Makes room for one more entry in an array of the page (s_grow); when it
 * cannot, fails the parse with too_many (or out of memory). */
static int s_room(struct cwx_s3_list_parser *p, void **arr, size_t n, size_t *cap, size_t size,
                  const char *too_many)
{
    int rc = s_grow(arr, n, cap, size);
    if (rc)
        s_fail(p, rc == CWX_ENOMEM ? rc : CWX_EPARSE, too_many);
    return rc;
}

/* Ends a <Contents>: the object read joins the page. */
static void s_end_contents(struct cwx_s3_list_parser *p)
{
    if (!p->cur.key) {
        s_fail(p, CWX_EPARSE, "<Contents> without <Key>");
        return;
    }
    if (!p->cur.etag && !(p->cur.etag = strdup(""))) {
        s_fail(p, CWX_ENOMEM, "out of memory");
        return;
    }
    if (s_room(p, (void **)&p->page.objects, p->page.n_objects, &p->cap_objects,
               sizeof(*p->page.objects), "too many objects in a page"))
        return;
    p->page.objects[p->page.n_objects++] = p->cur;
    memset(&p->cur, 0, sizeof(p->cur));
}

/* Ends a <CommonPrefixes>: its prefix, if any, joins the page. */
static void s_end_prefixes(struct cwx_s3_list_parser *p)
{
    if (!p->cur_prefix)
        return; /* an empty <CommonPrefixes/> carries nothing */
    if (s_room(p, (void **)&p->page.common_prefixes, p->page.n_prefixes, &p->cap_prefixes,
               sizeof(char *), "too many prefixes in a page"))
        return;
    p->page.common_prefixes[p->page.n_prefixes++] = p->cur_prefix;
    p->cur_prefix = NULL;
}

/* Ends a leaf whose text is a value other than a string: a boolean, a count,
 * a time or the encoding type. */
static void s_end_value(struct cwx_s3_list_parser *p, enum s_el el, const char *t)
{
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
        s_count(p, t, &p->page.key_count, "KeyCount is not a count");
        break;
    case S_EL_ENCODING_TYPE:
        p->encoded = !strcmp(t, "url");
        break;
    case S_EL_SIZE:
        s_count(p, t, &p->cur.size, "Size is not a byte count");
        break;
    case S_EL_LAST_MODIFIED:
        if (cwx__iso8601_ms(t, p->text.len, &p->cur.last_modified_ms))
            s_fail(p, CWX_EPARSE, "LastModified is not an ISO 8601 time");
        break;
    default:
        break;
    }
}

/* Where the text of a string leaf goes, or NULL for other elements. */
static char **s_string_dst(struct cwx_s3_list_parser *p, enum s_el el)
{
    switch (el) {
    case S_EL_NEXT_TOKEN:
        return &p->page.next_continuation_token;
    case S_EL_KEY:
        return &p->cur.key;
    case S_EL_ETAG:
        return &p->cur.etag;
    case S_EL_PREFIX:
        return &p->cur_prefix;
    default:
        return NULL;
    }
}

static void XMLCALL s_on_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct cwx_s3_list_parser *p = ud;
    if (p->depth <= 0)
        return;
    enum s_el el = p->stack[--p->depth];
    p->collecting = 0;
    char **dst = s_string_dst(p, el);
    if (el == S_EL_CONTENTS)
        s_end_contents(p);
    else if (el == S_EL_PREFIXES)
        s_end_prefixes(p);
    else if (!dst)
        s_end_value(p, el, p->text.ptr ? p->text.ptr : "");
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

