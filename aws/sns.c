/* SNS client: Publish and GetTopicAttributes over the Query protocol (aws/query.c). */
#include "aws/sns.h"

#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

#define S_MAX_MESSAGE (256 * 1024)

/* One call in flight, either kind. */
struct s_call {
    struct cwx__query q; /* first: the call is its query */
    char *id;            /* Publish: the MessageId */
    union {
        cwx_sns_publish_fn *publish;
        cwx_sns_check_topic_fn *check;
    } cb;
    void *ud;
};

static void s_call_free(struct s_call *call)
{
    free(call->id);
    cwx__query_free(&call->q);
}

/* Makes a call of action on topic_arn for the caller's ud (the caller sets
 * the callback). */
static int s_call_new(const char *action, const char *topic_arn, void *ud,
                      struct s_call **out)
{
    *out = NULL;
    struct s_call *call = cwx__query_new(sizeof(*call), action, "2010-03-31");
    if (!call)
        return CWX_ENOMEM;
    call->ud = ud;
    int rc = cwx__query_add(&call->q, "TopicArn", topic_arn);
    if (rc)
        s_call_free(call);
    else
        *out = call;
    return rc;
}

/* Sends call unless rc (adding its parameters) failed; on failure frees it
 * and returns the error. */
static int s_send(struct cwx_aws_client *c, struct s_call *call, int rc,
                  cwx__query_parse_fn *parse, cwx__query_done_fn *done)
{
    if (!rc)
        rc = cwx__query_send(c, &call->q, "sns", 0, parse, done);
    if (rc)
        s_call_free(call);
    return rc;
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
    call->cb.publish(status, status ? NULL : &res, err, call->ud);
    s_call_free(call);
}

int cwx_sns_publish(struct cwx_aws_client *c, const struct cwx_sns_publish_req *req,
                    cwx_sns_publish_fn *cb, void *ud)
{
    if (!c || !req || !cb || !req->topic_arn || !req->topic_arn[0] || !req->message ||
        !req->message[0] || strlen(req->message) > S_MAX_MESSAGE)
        return CWX_EINVAL;
    struct s_call *call;
    int rc = s_call_new("Publish", req->topic_arn, ud, &call);
    if (rc)
        return rc;
    call->cb.publish = cb;
    rc = cwx__query_add(&call->q, "Message", req->message);
    if (!rc && req->subject)
        rc = cwx__query_add(&call->q, "Subject", req->subject);
    return s_send(c, call, rc, s_parse, s_done);
}

/* ---- GetTopicAttributes, as a check that the topic exists ---------------- */

/* The attributes are not needed: a 2xx answer is the check. */
static int s_parse_none(struct cwx__query *q, const char *body, size_t len, char *msg,
                        size_t msg_size)
{
    (void)q, (void)body, (void)len, (void)msg, (void)msg_size;
    return 0;
}

static void s_checked(struct cwx__query *q, int status, const struct cwx_aws_error *err)
{
    struct s_call *call = (struct s_call *)q;
    call->cb.check(status, err, call->ud);
    s_call_free(call);
}

int cwx_sns_check_topic(struct cwx_aws_client *c, const char *topic_arn,
                        cwx_sns_check_topic_fn *cb, void *ud)
{
    if (!c || !topic_arn || !topic_arn[0] || !cb)
        return CWX_EINVAL;
    struct s_call *call;
    int rc = s_call_new("GetTopicAttributes", topic_arn, ud, &call);
    if (rc)
        return rc;
    call->cb.check = cb;
    return s_send(c, call, 0, s_parse_none, s_checked);
}
