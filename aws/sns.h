/* SNS client (Query protocol): Publish, for run notifications. */
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

#endif
