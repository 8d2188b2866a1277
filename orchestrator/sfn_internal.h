/* What the files of `cwexport sfn` share: the template writer. Private to
 * orchestrator/sfn.c and sfn_template.c. */
#ifndef CWX_ORCHESTRATOR_SFN_INTERNAL_H
#define CWX_ORCHESTRATOR_SFN_INTERNAL_H

#include "common/buf.h"
#include "planner/planner.h"

/* EventBridge Scheduler's limit on a target's Input. */
#define CWX__SFN_SCHEDULE_INPUT_MAX 8192

/* Appends to out the CloudFormation template of account acc: the machine
 * (its definition asl inline, the same text as state-machine.asl.json), its
 * execution role with policy (JSON on one line), a log group for the
 * execution history, and, when input is small enough to be a schedule's,
 * an optional schedule that starts the machine with input. Returns 0 or
 * CWX_ENOMEM. */
int cwx__sfn_template(const struct cwx_account *acc, const char *account_id, const char *asl,
                      const char *policy, const char *input, struct cwx_buf *out);

#endif
