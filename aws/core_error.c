/* Errors: the code, message and request id of an error answer in each
 * protocol (JSON, S3's XML, the Query protocol's XML), the code of a
 * failure without an answer, and an error as one line of text. Pure. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <expat.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "aws/core_internal.h"
#include "aws/core_private.h"
#include "common/error.h"

static void s_set(char *dst, size_t size, const char *src, size_t len)
{
    if (!size)
        return;
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    /* Keep it one printable line: it goes into logs, and a line break from
     * an answer's body could forge a log line. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
            dst[i] = ' ';
}

static void s_set_code(struct cwx_aws_error *err, const char *code, size_t len)
{
    /* "com.amazonaws.logs#ThrottlingException" → "ThrottlingException";
     * the x-amzn-ErrorType style "Code:http://…" keeps what precedes ':'. */
    const char *hash = memchr(code, '#', len);
    if (hash) {
        len -= (size_t)(hash + 1 - code);
        code = hash + 1;
    }
    const char *colon = memchr(code, ':', len);
    if (colon)
        len = (size_t)(colon - code);
    while (len && isspace((unsigned char)code[len - 1]))
        len--;
    while (len && isspace((unsigned char)*code)) {
        code++;
        len--;
    }
    s_set(err->code, sizeof(err->code), code, len);
}

static void s_parse_json_error(const char *body, size_t len, struct cwx_aws_error *err)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j)
        return;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
    if (!cJSON_IsString(t))
        t = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (cJSON_IsString(t) && t->valuestring[0])
        s_set_code(err, t->valuestring, strlen(t->valuestring));
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    if (cJSON_IsString(m))
        s_set(err->message, sizeof(err->message), m->valuestring, strlen(m->valuestring));
    cJSON_Delete(j);
}

/* The XML error shapes of S3 (<Error> at the root) and of the Query
 * protocol (<ErrorResponse><Error>…</Error><RequestId>). */
struct s_xml_err {
    XML_Parser parser;
    int depth;
    int in_error;    /* depth of the <Error> element, 0 = outside */
    int field;       /* 1 Code, 2 Message, 3 RequestId */
    struct cwx_buf text;
    struct cwx_aws_error *err;
    int have_code, have_message, have_request_id;
};

static const char *s_local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void XMLCALL s_xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct s_xml_err *x = ud;
    x->depth++;
    const char *n = s_local(name);
    x->field = 0;
    if (strcmp(n, "Error") == 0 && !x->in_error && x->depth <= 2) {
        x->in_error = x->depth;
        return;
    }
    if (x->in_error && x->depth == x->in_error + 1) {
        if (strcmp(n, "Code") == 0)
            x->field = 1;
        else if (strcmp(n, "Message") == 0)
            x->field = 2;
        else if (strcmp(n, "RequestId") == 0)
            x->field = 3;
    } else if (!x->in_error && x->depth == 2 && strcmp(n, "RequestId") == 0) {
        x->field = 3; /* <ErrorResponse><RequestId> */
    }
    cwx_buf_reset(&x->text);
}

static void XMLCALL s_xml_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct s_xml_err *x = ud;
    struct cwx_aws_error *e = x->err;
    const char *t = x->text.ptr ? x->text.ptr : "";
    if (x->field == 1 && !x->have_code) {
        s_set_code(e, t, x->text.len);
        x->have_code = 1;
    } else if (x->field == 2 && !x->have_message) {
        s_set(e->message, sizeof(e->message), t, x->text.len);
        x->have_message = 1;
    } else if (x->field == 3 && !x->have_request_id && x->text.len) {
        s_set(e->request_id, sizeof(e->request_id), t, x->text.len);
        x->have_request_id = 1;
    }
    x->field = 0;
    cwx_buf_reset(&x->text);
    if (x->in_error == x->depth)
        x->in_error = 0;
    x->depth--;
}

static void XMLCALL s_xml_text(void *ud, const XML_Char *s, int len)
{
    struct s_xml_err *x = ud;
    if (x->field && len > 0 && cwx_buf_append(&x->text, s, (size_t)len) != 0)
        x->field = 0; /* too long: drop it, keep parsing */
}

/* No DOCTYPE, no entity declarations: an error body has no use for them. */
static void XMLCALL s_xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                  const XML_Char *pubid, int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    struct s_xml_err *x = ud;
    XML_StopParser(x->parser, XML_FALSE);
}

static void s_parse_xml_error(const char *body, size_t len, struct cwx_aws_error *err)
{
    struct s_xml_err x = {.err = err};
    cwx_buf_init(&x.text, 4096);
    x.parser = XML_ParserCreate(NULL);
    if (!x.parser)
        return;
    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, s_xml_start, s_xml_end);
    XML_SetCharacterDataHandler(x.parser, s_xml_text);
    XML_SetStartDoctypeDeclHandler(x.parser, s_xml_doctype);
    /* A body that does not parse to the end still gave what it had. */
    (void)XML_Parse(x.parser, body, len > (size_t)INT32_MAX ? INT32_MAX : (int)len, XML_TRUE);
    XML_ParserFree(x.parser);
    cwx_buf_free(&x.text);
}

static const char *s_status_code(const char *method, const char *bucket, const char *path,
                                 long status)
{
    switch (status) {
    case 301:
        return "PermanentRedirect";
    case 307:
        return "TemporaryRedirect";
    case 304:
        return "NotModified";
    case 400:
        return "BadRequest";
    case 403:
        return "AccessDenied";
    case 404:
        if (method && strcmp(method, "HEAD") == 0)
            return "NotFound";
        if (bucket && *bucket && (!path || strcmp(path, "/") == 0))
            return "NoSuchBucket";
        return "NoSuchKey";
    case 405:
        return "MethodNotAllowed";
    case 409:
        return "Conflict";
    case 412:
        return "PreconditionFailed";
    case 429:
        return "TooManyRequestsException";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceUnavailable";
    default:
        return NULL;
    }
}

void cwx__aws_parse_error(enum cwx_aws_protocol protocol, const char *method,
                          const char *bucket, const char *path, long http_status,
                          const char *body, size_t len, struct cwx_aws_error *err)
{
    err->code[0] = '\0';
    err->message[0] = '\0';
    if (body && len) {
        /* Whatever the protocol says, a body that starts with '{' is JSON
         * and one that starts with '<' is XML (a proxy or a load balancer
         * may answer in its own dialect). */
        size_t i = 0;
        while (i < len && isspace((unsigned char)body[i]))
            i++;
        if (i < len && body[i] == '{')
            s_parse_json_error(body + i, len - i, err);
        else if (i < len && body[i] == '<')
            s_parse_xml_error(body + i, len - i, err);
        else if (protocol == CWX_PROTO_JSON)
            s_parse_json_error(body, len, err);
    }
    if (!err->code[0]) {
        const char *c = protocol == CWX_PROTO_REST_XML || !body || !len
                            ? s_status_code(method, bucket, path, http_status)
                            : NULL;
        if (!c && http_status >= 500)
            c = protocol == CWX_PROTO_REST_XML ? "InternalError" : "InternalFailure";
        if (c)
            snprintf(err->code, sizeof(err->code), "%s", c);
        if (!err->message[0]) {
            if (body && len)
                snprintf(err->message, sizeof(err->message),
                         "HTTP %ld with an error body that could not be read", http_status);
            else
                snprintf(err->message, sizeof(err->message), "HTTP %ld", http_status);
        }
    }
}


void cwx__aws_body_request_id(const char *body, size_t len, struct cwx_aws_error *e)
{
    static const char open[] = "<RequestId>", close[] = "</RequestId>";
    const char *p = memmem(body, len, open, sizeof(open) - 1);
    if (!p)
        return;
    p += sizeof(open) - 1;
    const char *q = memmem(p, len - (size_t)(p - body), close, sizeof(close) - 1);
    if (q && q - p < (ptrdiff_t)sizeof(e->request_id))
        s_set(e->request_id, sizeof(e->request_id), p, (size_t)(q - p));
}

const char *cwx__aws_transport_code(int error)
{
    switch (error) {
    case CWX_EHTTP:
        return "ConnectionError";
    case CWX_ETIMEDOUT:
        return "Timeout";
    case CWX_ETLS:
        return "TLSVerificationFailed";
    case CWX_ETOOBIG:
        return "ResponseTooLarge";
    default:
        return "TransportError";
    }
}


void cwx_aws_error_format(const struct cwx_aws_error *err, char *buf, size_t size)
{
    if (!size)
        return;
    const char *code = err->code[0] ? err->code : "Error";
    int n;
    if (err->http_status)
        n = snprintf(buf, size, "%s: %s (HTTP %ld", code,
                     err->message[0] ? err->message : "no message", err->http_status);
    else
        n = snprintf(buf, size, "%s: %s (no answer", code,
                     err->message[0] ? err->message : "no message");
    if (n < 0 || (size_t)n >= size)
        return;
    size_t used = (size_t)n;
    if (err->request_id[0])
        n = snprintf(buf + used, size - used, ", request id %s", err->request_id);
    else
        n = 0;
    if (n < 0 || (size_t)n >= size - used)
        return;
    used += (size_t)n;
    if (err->attempts > 1)
        n = snprintf(buf + used, size - used, ", %d attempts)", err->attempts);
    else
        n = snprintf(buf + used, size - used, ")");
    (void)n;
}
