/* SNS client: Publish over the Query protocol. */
#include "aws/sns.h"

#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

#define S_MAX_MESSAGE (256 * 1024)

struct s_call {
    struct cwx_aws_request req;
    struct cwx_http_header header;
    struct cwx_buf body;
    cwx_sns_publish_fn *cb;
    void *ud;
};

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    char msg[256] = "";
    char *id = NULL;
    struct cwx_aws_error perr;
    if (status == CWX_EAWS && err && !strcmp(err->code, "NotFound"))
        status = CWX_ENOTFOUND;
    if (!status)
        status = cwx_sns_parse_publish(resp ? resp->body.ptr : NULL,
                                       resp ? resp->body.len : 0, &id, msg, sizeof(msg));
    if (status && msg[0]) {
        char m2[300];
        snprintf(m2, sizeof(m2), "Publish: %s", msg);
        cwx__parse_error(&perr, err, m2);
        err = &perr;
    }
    struct cwx_sns_publish_result res = {id};
    call->cb(status, status ? NULL : &res, err, call->ud);
    free(id);
    cwx_buf_free(&call->body);
    free(call);
}

int cwx_sns_publish(struct cwx_aws_client *c, const struct cwx_sns_publish_req *req,
                    cwx_sns_publish_fn *cb, void *ud)
{
    if (!c || !req || !cb || !req->topic_arn || !req->topic_arn[0] || !req->message ||
        !req->message[0] || strlen(req->message) > S_MAX_MESSAGE)
        return CWX_EINVAL;
    struct s_call *call = calloc(1, sizeof(*call));
    if (!call)
        return CWX_ENOMEM;
    call->cb = cb;
    call->ud = ud;
    cwx_buf_init(&call->body, 0);
    int rc = cwx__form_add(&call->body, "Action", "Publish");
    if (!rc)
        rc = cwx__form_add(&call->body, "Version", "2010-03-31");
    if (!rc)
        rc = cwx__form_add(&call->body, "TopicArn", req->topic_arn);
    if (!rc)
        rc = cwx__form_add(&call->body, "Message", req->message);
    if (!rc && req->subject)
        rc = cwx__form_add(&call->body, "Subject", req->subject);
    if (rc)
        goto fail;
    call->header = (struct cwx_http_header){
        "Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
    call->req = (struct cwx_aws_request){
        .service = "sns",
        .protocol = CWX_PROTO_QUERY,
        .method = "POST",
        .path = "/",
        .headers = &call->header,
        .n_headers = 1,
        .body = call->body.ptr,
        .body_len = call->body.len,
    };
    rc = cwx_aws_call(c, &call->req, s_on_done, call);
    if (!rc)
        return 0;
fail:
    cwx_buf_free(&call->body);
    free(call);
    return rc;
}
