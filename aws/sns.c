/* SNS client: Publish and GetTopicAttributes over the Query protocol (aws/query.c). */
#include "aws/sns.h"

#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

#define S_MAX_MESSAGE (256 * 1024)

struct s_call {
    struct cwx__query q; /* first: the call is its query */
    char *id;
    cwx_sns_publish_fn *cb;
    void *ud;
};

static void s_call_free(struct s_call *call)
{
    cwx__query_cleanup(&call->q);
    free(call->id);
    free(call);
}

static int s_parse(struct cwx__query *q, const char *body, size_t len, char *msg,
                   size_t msg_size)
{
    struct s_call *call = (struct s_call *)q;
    return cwx_sns_parse_publish(body, len, &call->id, msg, msg_size);
}

static void s_done(struct cwx__query *q, int status, const struct cwx_aws_error *err)
{
    struct s_call *call = (struct s_call *)q;
    if (status == CWX_EAWS && err && !strcmp(err->code, "NotFound"))
        status = CWX_ENOTFOUND;
    struct cwx_sns_publish_result res = {call->id};
    call->cb(status, status ? NULL : &res, err, call->ud);
    s_call_free(call);
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
    int rc = cwx__query_init(&call->q, "Publish", "2010-03-31");
    if (!rc)
        rc = cwx__query_add(&call->q, "TopicArn", req->topic_arn);
    if (!rc)
        rc = cwx__query_add(&call->q, "Message", req->message);
    if (!rc && req->subject)
        rc = cwx__query_add(&call->q, "Subject", req->subject);
    if (!rc)
        rc = cwx__query_send(c, &call->q, "sns", 0, s_parse, s_done);
    if (rc)
        s_call_free(call);
    return rc;
}

/* ---- GetTopicAttributes, as a check that the topic exists ---------------- */

struct s_check_call {
    struct cwx__query q; /* first: the call is its query */
    cwx_sns_check_topic_fn *cb;
    void *ud;
};

/* The attributes are not needed: a 2xx answer is the check. */
static int s_parse_none(struct cwx__query *q, const char *body, size_t len, char *msg,
                        size_t msg_size)
{
    (void)q, (void)body, (void)len, (void)msg, (void)msg_size;
    return 0;
}

static void s_checked(struct cwx__query *q, int status, const struct cwx_aws_error *err)
{
    struct s_check_call *call = (struct s_check_call *)q;
    call->cb(status, err, call->ud);
    cwx__query_cleanup(&call->q);
    free(call);
}

int cwx_sns_check_topic(struct cwx_aws_client *c, const char *topic_arn,
                        cwx_sns_check_topic_fn *cb, void *ud)
{
    if (!c || !topic_arn || !topic_arn[0] || !cb)
        return CWX_EINVAL;
    struct s_check_call *call = calloc(1, sizeof(*call));
    if (!call)
        return CWX_ENOMEM;
    call->cb = cb;
    call->ud = ud;
    int rc = cwx__query_init(&call->q, "GetTopicAttributes", "2010-03-31");
    if (!rc)
        rc = cwx__query_add(&call->q, "TopicArn", topic_arn);
    if (!rc)
        rc = cwx__query_send(c, &call->q, "sns", 0, s_parse_none, s_checked);
    if (rc) {
        cwx__query_cleanup(&call->q);
        free(call);
    }
    return rc;
}
