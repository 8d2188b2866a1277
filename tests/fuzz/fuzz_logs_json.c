/* libFuzzer target: the CloudWatch Logs JSON response parsers
 * (aws/logs_parse.c, declared in aws/clients_internal.h). Every input goes
 * through all three parsers. Checked beyond "no crash": the contract of
 * clients_internal.h — on failure *out is zeroed with nothing to free; on
 * success every string of a task or group is non-NULL — and that a parsed
 * task can be deep-copied. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_zeroed(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void s_check_msg(const char *msg, size_t size)
{
    if (!memchr(msg, 0, size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char msg[256];

    char *task_id = NULL;
    memset(msg, 0, sizeof msg);
    int rc = cwx_logs_parse_create_export_task(body, size, &task_id, msg, sizeof msg);
    if (rc == 0) {
        if (!task_id)
            abort();
        free(task_id);
    } else if (task_id) {
        abort();
    }
    s_check_msg(msg, sizeof msg);

    struct cwx_logs_export_tasks tasks;
    memset(&tasks, 0, sizeof tasks);
    rc = cwx_logs_parse_describe_export_tasks(body, size, &tasks, msg, sizeof msg);
    if (rc == 0) {
        for (size_t i = 0; i < tasks.n; i++) {
            const struct cwx_logs_export_task *t = &tasks.tasks[i];
            if (!t->task_id || !t->task_name || !t->log_group_name || !t->destination ||
                !t->destination_prefix || !t->status_code || !t->status_message)
                abort();
            struct cwx_logs_export_task copy;
            if (cwx_logs_export_task_copy(&copy, t) == 0) {
                if (strcmp(copy.task_id, t->task_id) != 0)
                    abort();
                cwx_logs_export_task_free(&copy);
            }
        }
        cwx_logs_export_tasks_free(&tasks);
    } else if (!s_zeroed(&tasks, sizeof tasks)) {
        abort();
    }
    s_check_msg(msg, sizeof msg);

    struct cwx_logs_log_groups groups;
    memset(&groups, 0, sizeof groups);
    rc = cwx_logs_parse_describe_log_groups(body, size, &groups, msg, sizeof msg);
    if (rc == 0) {
        for (size_t i = 0; i < groups.n; i++)
            if (!groups.groups[i].name || !groups.groups[i].arn)
                abort();
        cwx_logs_log_groups_free(&groups);
    } else if (!s_zeroed(&groups, sizeof groups)) {
        abort();
    }
    s_check_msg(msg, sizeof msg);
    return 0;
}
