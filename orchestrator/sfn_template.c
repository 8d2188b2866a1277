/* The CloudFormation template of `cwexport sfn` (docs/step-functions.md):
 * YAML written by hand, long-form intrinsics only. */
#include "orchestrator/sfn_internal.h"

#include <string.h>

#include "common/error.h"

/* Appends text with every line indented by `indent` spaces. */
static int s_indented(struct cwx_buf *out, const char *text, int indent)
{
    int rc = 0;
    for (const char *p = text; *p && !rc;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        rc = cwx_buf_printf(out, "%*s%.*s\n", indent, "", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    return rc ? CWX_ENOMEM : 0;
}

/* The template's description, parameters and conditions (the schedule's
 * only when the schedule can carry the input). */
static int s_template_head(const struct cwx_account *acc, const char *account_id,
                           int schedule, struct cwx_buf *out)
{
    int rc = 0;
    rc |= cwx_buf_printf(
        out,
        "AWSTemplateFormatVersion: \"2010-09-09\"\n"
        "Description: >-\n"
        "  cwexport %s: the Step Functions state machine that exports the pending\n"
        "  windows of account %s (%s); see docs/step-functions.md.\n"
        "Parameters:\n"
        "  StateMachineName:\n"
        "    Type: String\n"
        "    Default: cwexport-%s\n"
        "    Description: Name of the state machine.\n"
        "  ExecutionRoleName:\n"
        "    Type: String\n"
        "    Default: \"\"\n"
        "    Description: Name of the execution role to create (empty for a generated name).\n"
        "  LogRetentionInDays:\n"
        "    Type: Number\n"
        "    Default: 30\n"
        "    Description: Days the execution history log group keeps its events.\n",
        CWX_VERSION, acc->name, account_id, acc->name);
    if (schedule)
        rc |= cwx_buf_printf(
            out,
            "  ScheduleExpression:\n"
            "    Type: String\n"
            "    Default: \"\"\n"
            "    Description: >-\n"
            "      EventBridge Scheduler expression of a recurring run, e.g. rate(1 day);\n"
            "      empty for none.\n");
    rc |= cwx_buf_printf(out,
                         "Conditions:\n"
                         "  NamedRole:\n"
                         "    Fn::Not: [{\"Fn::Equals\": [{Ref: ExecutionRoleName}, \"\"]}]\n");
    if (schedule)
        rc |= cwx_buf_printf(out,
                             "  HasSchedule:\n"
                             "    Fn::Not: [{\"Fn::Equals\": [{Ref: ScheduleExpression}, \"\"]}]\n");
    return rc;
}

/* The execution role, the history log group and the machine, whose
 * definition is asl inline. */
static int s_template_machine(const char *account_id, const char *asl, const char *policy,
                              struct cwx_buf *out)
{
    int rc = 0;
    rc |= cwx_buf_printf(
        out,
        "Resources:\n"
        "  ExecutionRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      RoleName:\n"
        "        Fn::If: [NamedRole, {Ref: ExecutionRoleName}, {Ref: \"AWS::NoValue\"}]\n"
        "      AssumeRolePolicyDocument:\n"
        "        Version: \"2012-10-17\"\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: states.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "            Condition:\n"
        "              StringEquals: {\"aws:SourceAccount\": \"%s\"}\n"
        "      Policies:\n"
        "        - PolicyName: cwexport-export-tasks\n"
        "          PolicyDocument: %s\n"
        "  ExecutionHistory:\n"
        "    Type: AWS::Logs::LogGroup\n"
        "    Properties:\n"
        "      LogGroupName:\n"
        "        Fn::Sub: /aws/vendedlogs/states/${StateMachineName}\n"
        "      RetentionInDays: {Ref: LogRetentionInDays}\n"
        "  StateMachine:\n"
        "    Type: AWS::StepFunctions::StateMachine\n"
        "    Properties:\n"
        "      StateMachineName: {Ref: StateMachineName}\n"
        "      StateMachineType: STANDARD\n"
        "      RoleArn:\n"
        "        Fn::GetAtt: [ExecutionRole, Arn]\n"
        "      LoggingConfiguration:\n"
        "        Level: ERROR\n"
        "        IncludeExecutionData: false\n"
        "        Destinations:\n"
        "          - CloudWatchLogsLogGroup:\n"
        "              LogGroupArn:\n"
        "                Fn::GetAtt: [ExecutionHistory, Arn]\n"
        "      DefinitionString: |\n",
        account_id, policy);
    if (!rc)
        rc = s_indented(out, asl, 8);
    return rc;
}

/* The optional schedule: its role and an EventBridge Scheduler schedule
 * that starts the machine with input. */
static int s_template_schedule(const char *account_id, const char *input, struct cwx_buf *out)
{
    int rc = 0;
    rc |= cwx_buf_printf(
        out,
        "  ScheduleRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Condition: HasSchedule\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Version: \"2012-10-17\"\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: scheduler.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "            Condition:\n"
        "              StringEquals: {\"aws:SourceAccount\": \"%s\"}\n"
        "      Policies:\n"
        "        - PolicyName: cwexport-start-execution\n"
        "          PolicyDocument:\n"
        "            Version: \"2012-10-17\"\n"
        "            Statement:\n"
        "              - Effect: Allow\n"
        "                Action: states:StartExecution\n"
        "                Resource: {Ref: StateMachine}\n"
        "  Schedule:\n"
        "    Type: AWS::Scheduler::Schedule\n"
        "    Condition: HasSchedule\n"
        "    Properties:\n"
        "      ScheduleExpression: {Ref: ScheduleExpression}\n"
        "      FlexibleTimeWindow: {Mode: \"OFF\"}\n"
        "      Target:\n"
        "        Arn: {Ref: StateMachine}\n"
        "        RoleArn:\n"
        "          Fn::GetAtt: [ScheduleRole, Arn]\n"
        "        Input: |\n",
        account_id);
    if (!rc)
        rc = s_indented(out, input, 10);
    return rc;
}

/* The CloudFormation template: the machine (its definition inline, the
 * same text as state-machine.asl.json), its role, a log group for the
 * execution history, and an optional schedule. Long-form intrinsics only
 * (no YAML tags), so that any YAML reader reads it. */
int cwx__sfn_template(const struct cwx_account *acc, const char *account_id, const char *asl,
                      const char *policy, const char *input, struct cwx_buf *out)
{
    int schedule = strlen(input) <= CWX__SFN_SCHEDULE_INPUT_MAX;
    int rc = s_template_head(acc, account_id, schedule, out);
    if (!rc)
        rc = s_template_machine(account_id, asl, policy, out);
    if (!rc && schedule)
        rc = s_template_schedule(account_id, input, out);
    rc |= cwx_buf_printf(out,
                         "Outputs:\n"
                         "  StateMachineArn:\n"
                         "    Value: {Ref: StateMachine}\n"
                         "  ExecutionRoleArn:\n"
                         "    Value:\n"
                         "      Fn::GetAtt: [ExecutionRole, Arn]\n");
    return rc ? CWX_ENOMEM : 0;
}

