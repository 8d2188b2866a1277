/* The Query protocol's request and answer, once for every client that speaks
 * it (SNS, STS, CloudWatch): a form-encoded body that starts with Action and
 * Version, POSTed to "/", an XML answer parsed by the client's parser, and a
 * parse failure reported as "Action: reason" with the request's ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

void *cwx__query_new(size_t size, const char *action, const char *version)
{
    struct cwx__query *q = size >= sizeof(*q) ? calloc(1, size) : NULL;
    if (!q)
        return NULL;
    q->action = action;
    cwx_buf_init(&q->body, 0);
    if (cwx__form_add(&q->body, "Action", action) ||
        cwx__form_add(&q->body, "Version", version)) {
        cwx__query_free(q);
        return NULL;
    }
    return q;
}

int cwx__query_add(struct cwx__query *q, const char *name, const char *value)
{
    return cwx__form_add(&q->body, name, value);
}

void cwx__query_free(struct cwx__query *q)
{
    if (!q)
        return;
    cwx_buf_free_secret(&q->body);
    free(q);
}

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct cwx__query *q = ud;
    char msg[256] = "";
    struct cwx_aws_error perr;
    if (!status)
        status = q->parse(q, resp ? resp->body.ptr : NULL, resp ? resp->body.len : 0, msg,
                          sizeof(msg));
    if (status && msg[0]) {
        char m2[320];
        snprintf(m2, sizeof(m2), "%s: %s", q->action, msg);
        cwx__parse_error(&perr, err, m2);
        err = &perr;
    }
    q->done(q, status, err);
}

int cwx__query_send(struct cwx_aws_client *c, struct cwx__query *q, const char *service,
                    unsigned flags, cwx__query_parse_fn *parse, cwx__query_done_fn *done)
{
    q->parse = parse;
    q->done = done;
    q->header = (struct cwx_http_header){
        "Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
    q->req = (struct cwx_aws_request){
        .service = service,
        .protocol = CWX_PROTO_QUERY,
        .method = "POST",
        .path = "/",
        .headers = &q->header,
        .n_headers = 1,
        .body = q->body.ptr,
        .body_len = q->body.len,
        .flags = flags,
    };
    return cwx_aws_call(c, &q->req, s_on_done, q);
}
