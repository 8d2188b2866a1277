/* SNS client (Query protocol): Publish, for run notifications, and a topic check. */
#ifndef CWX_AWS_SNS_H
#define CWX_AWS_SNS_H

#include "aws/core.h"

/* Borrowed for the starting call only. */
struct cwx_sns_publish_req {
    const char *topic_arn; /* required */
    const char *message;   /* required, ≤ 256 KiB */
    const char *subject;   /* NULL = none; ≤ 100 printable ASCII characters */
};

struct cwx_sns_publish_result {
    const char *message_id;
};

/* res is NULL unless status is 0; both valid only during the callback. */
typedef void cwx_sns_publish_fn(int status, const struct cwx_sns_publish_result *res,
                                const struct cwx_aws_error *err, void *ud);

/* Publishes one message. Returns 0 and cb runs exactly once, later, from the
 * loop; or CWX_E* (CWX_EINVAL: missing topic or message) and cb never runs. */
int cwx_sns_publish(struct cwx_aws_client *c, const struct cwx_sns_publish_req *req,
                    cwx_sns_publish_fn *cb, void *ud);

/* err is valid only during the callback. */
typedef void cwx_sns_check_topic_fn(int status, const struct cwx_aws_error *err, void *ud);

/* Checks that a topic exists with sns:GetTopicAttributes (cheap and silent,
 * unlike a test message); the attributes themselves are not read. Returns 0
 * and cb runs exactly once, later, from the loop, with status 0 when the
 * topic exists and the caller may read it; or CWX_E* (CWX_EINVAL: no topic)
 * and cb never runs. */
int cwx_sns_check_topic(struct cwx_aws_client *c, const char *topic_arn,
                        cwx_sns_check_topic_fn *cb, void *ud);

#endif
