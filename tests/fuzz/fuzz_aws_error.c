/* libFuzzer target: the call layer's per-protocol error parser
 * (cwx__aws_parse_error, aws/core.c, declared in aws/core_internal.h): JSON
 * 1.1 {"__type","message"}, S3 <Error> and Query <ErrorResponse>, plus the
 * status rule for bodies that say nothing.
 *
 * Input: byte 0 picks the protocol and the method, bytes 1-2 the HTTP
 * status, byte 3 whether a bucket is set; the rest is the body. Checked:
 * every field stays NUL-terminated and holds no control character (they go
 * into log lines), request ids set by the
 * caller survive a body without one, and the formatted error is one
 * terminated string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check_field(const char *s, size_t size, int allow_nl)
{
    const char *end = memchr(s, 0, size);
    if (!end)
        abort();
    for (const char *c = s; c < end; c++)
        if ((unsigned char)*c < 0x20 && !(allow_nl && *c == '\n'))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    static const enum cwx_aws_protocol protos[] = {CWX_PROTO_JSON, CWX_PROTO_REST_XML,
                                                   CWX_PROTO_QUERY};
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT"};
    enum cwx_aws_protocol proto = protos[data[0] % 3];
    const char *method = methods[(data[0] >> 2) % 4];
    long status = 100 + (long)(((unsigned)data[1] << 8 | data[2]) % 500);
    const char *bucket = data[3] & 1 ? "bucket" : NULL;
    const char *path = data[3] & 2 ? "/" : "/key";

    /* The body in a heap copy of its exact size: ASan sees any over-read. */
    size_t len = size - 4;
    char *body = malloc(len ? len : 1);
    if (!body)
        return 0;
    memcpy(body, data + 4, len);

    struct cwx_aws_error err;
    memset(&err, 0x41, sizeof err); /* garbage the parser must overwrite */
    err.http_status = status;
    err.curl_code = 0;
    err.attempts = 1;
    strcpy(err.request_id, "caller-request-id");
    cwx__aws_parse_error(proto, method, bucket, path, status, body, len, &err);
    /* Not even a '\n': the fields go into log lines (regress-newline-*). */
    s_check_field(err.code, sizeof err.code, 0);
    s_check_field(err.message, sizeof err.message, 0);
    s_check_field(err.request_id, sizeof err.request_id, 0);
    if (!err.request_id[0])
        abort(); /* the caller's id is replaced only by a non-empty one */

    char line[1024];
    cwx_aws_error_format(&err, line, sizeof line);
    if (!memchr(line, 0, sizeof line))
        abort();
    free(body);
    return 0;
}
