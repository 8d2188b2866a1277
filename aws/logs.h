/* CloudWatch Logs client: export tasks and log groups (JSON 1.1 protocol,
 * `X-Amz-Target: Logs_20140328.<Op>`). docs/architecture.md §aws-facts lists the AWS facts these
 * calls rely on. */
#ifndef CWX_AWS_LOGS_H
#define CWX_AWS_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "aws/core.h"

/* An export task's status code. CWX_EXPORT_UNKNOWN stands for a code this
 * build does not know (AWS may add some); the raw text is kept in the task. */
enum cwx_export_status {
    CWX_EXPORT_UNKNOWN = 0,
    CWX_EXPORT_PENDING,
    CWX_EXPORT_RUNNING,
    CWX_EXPORT_COMPLETED,
    CWX_EXPORT_FAILED,
    CWX_EXPORT_CANCELLED,
    CWX_EXPORT_PENDING_CANCEL,
};

/* "PENDING", "RUNNING", …; "UNKNOWN" for CWX_EXPORT_UNKNOWN. Static string. */
const char *cwx_export_status_name(enum cwx_export_status s);
/* Parses an AWS status code; unknown text gives CWX_EXPORT_UNKNOWN. */
enum cwx_export_status cwx_export_status_parse(const char *s);
/* 1 for PENDING, RUNNING and PENDING_CANCEL (the task still holds the
 * account's export slot), else 0. */
int cwx_export_status_is_active(enum cwx_export_status s);

/* ---- CreateExportTask ---------------------------------------------------- */

/* Strings are borrowed for the duration of the starting call only. */
struct cwx_logs_create_export_task_req {
    const char *task_name;              /* NULL = unnamed */
    const char *log_group_name;         /* required */
    const char *log_stream_name_prefix; /* NULL = every stream */
    int64_t from_ms;                    /* epoch ms, inclusive */
    int64_t to_ms;                      /* epoch ms, inclusive (docs/architecture.md §aws-facts) */
    const char *destination;            /* bucket, required */
    const char *destination_prefix;     /* NULL = AWS's default "exportedlogs" */
};

struct cwx_logs_create_export_task_result {
    const char *task_id; /* the new task's id */
};

/* status is 0 (res set), CWX_ESLOTBUSY (LimitExceededException: the
 * account's export slot is taken; never retried), CWX_EPARSE, or any status
 * of cwx_aws_call. res is NULL unless status is 0; res and err are valid
 * only during the callback. */
typedef void cwx_logs_create_export_task_fn(int status,
                                            const struct cwx_logs_create_export_task_result *res,
                                            const struct cwx_aws_error *err, void *ud);

/* Starts CreateExportTask. Returns 0 and cb runs exactly once, later, from
 * the loop; or returns a CWX_E* code (CWX_EINVAL for a missing field or
 * from > to) and cb never runs. */
int cwx_logs_create_export_task(struct cwx_aws_client *c,
                                const struct cwx_logs_create_export_task_req *req,
                                cwx_logs_create_export_task_fn *cb, void *ud);

/* ---- DescribeExportTasks ------------------------------------------------- */

/* One export task. Every string is owned by the enclosing list and is never
 * NULL: an absent field is "". Times absent from the answer are 0. */
struct cwx_logs_export_task {
    char *task_id;
    char *task_name;
    char *log_group_name;
    int64_t from_ms;
    int64_t to_ms;
    char *destination;
    char *destination_prefix;
    enum cwx_export_status status;
    char *status_code;      /* the raw code, e.g. "COMPLETED" */
    char *status_message;   /* e.g. "Completed successfully" */
    int64_t creation_time_ms;
    int64_t completion_time_ms;
};

/* A list of tasks; next_token is NULL on the last page. */
struct cwx_logs_export_tasks {
    struct cwx_logs_export_task *tasks;
    size_t n;
    char *next_token;
    int truncated; /* pagers only: stopped at max_pages with more to read */
};

/* Frees everything list owns and zeroes it; safe on a zeroed list. */
void cwx_logs_export_tasks_free(struct cwx_logs_export_tasks *list);
/* Deep-copies src into dst (which is overwritten, not freed). Returns 0 or
 * CWX_ENOMEM (dst is then zeroed). */
int cwx_logs_export_task_copy(struct cwx_logs_export_task *dst,
                              const struct cwx_logs_export_task *src);
/* Frees one task made by cwx_logs_export_task_copy and zeroes it. */
void cwx_logs_export_task_free(struct cwx_logs_export_task *task);

/* Filters: task_id, or status, or neither (all tasks). Borrowed for the
 * duration of the starting call only. */
struct cwx_logs_describe_export_tasks_req {
    const char *task_id;           /* NULL = any */
    enum cwx_export_status status; /* CWX_EXPORT_UNKNOWN = any */
    int limit;                     /* 1–50; 0 = AWS's default (50) */
    const char *next_token;        /* NULL = first page */
};

/* res is NULL unless status is 0; res and err are valid only during the
 * callback (copy what you keep, e.g. with cwx_logs_export_task_copy). */
typedef void cwx_logs_describe_export_tasks_fn(int status,
                                               const struct cwx_logs_export_tasks *res,
                                               const struct cwx_aws_error *err, void *ud);

/* Starts one DescribeExportTasks call (one page). Returns 0 and cb runs
 * exactly once, later; or a CWX_E* code and cb never runs. */
int cwx_logs_describe_export_tasks(struct cwx_aws_client *c,
                                   const struct cwx_logs_describe_export_tasks_req *req,
                                   cwx_logs_describe_export_tasks_fn *cb, void *ud);

/* The pagers' callback: on success (status 0) `all` holds every task read
 * and belongs to the caller from now on (free it with
 * cwx_logs_export_tasks_free); all->truncated says the pager stopped at
 * max_pages with more pages left. On failure all is NULL and nothing read so
 * far is kept. err is valid only during the callback. */
typedef void cwx_logs_export_tasks_all_fn(int status, struct cwx_logs_export_tasks *all,
                                          const struct cwx_aws_error *err, void *ud);

/* Pages through every task with `status` (CWX_EXPORT_UNKNOWN = all tasks),
 * `limit` (0 = 50) a page, reading at most max_pages pages (0 = 100).
 * Returns 0 and cb runs exactly once, later; or a CWX_E* code. */
int cwx_logs_describe_export_tasks_all(struct cwx_aws_client *c,
                                       enum cwx_export_status status, int limit,
                                       int max_pages, cwx_logs_export_tasks_all_fn *cb,
                                       void *ud);

/* ---- CancelExportTask ---------------------------------------------------- */

/* status 0: cancel accepted. A task that is no longer PENDING or RUNNING
 * gives CWX_EAWS with err->code "InvalidOperationException"; an unknown
 * task gives CWX_ENOTFOUND (ResourceNotFoundException). */
typedef void cwx_logs_cancel_export_task_fn(int status, const struct cwx_aws_error *err,
                                            void *ud);

int cwx_logs_cancel_export_task(struct cwx_aws_client *c, const char *task_id,
                                cwx_logs_cancel_export_task_fn *cb, void *ud);

/* ---- DescribeLogGroups --------------------------------------------------- */

/* One log group; strings owned by the enclosing list, never NULL. */
struct cwx_logs_log_group {
    char *name;
    char *arn;
    int64_t creation_time_ms;
    int retention_days;   /* 0 = never expires (or not reported, see below) */
    int64_t stored_bytes; /* -1 when absent (always so for pattern searches) */
};

struct cwx_logs_log_groups {
    struct cwx_logs_log_group *groups;
    size_t n;
    char *next_token; /* NULL on the last page */
    int truncated;    /* pagers only: stopped at max_pages with more to read */
};

void cwx_logs_log_groups_free(struct cwx_logs_log_groups *list);

/* At most one of prefix, pattern and identifiers (AWS refuses
 * combinations: CWX_EINVAL). Borrowed for the starting call only. */
struct cwx_logs_describe_log_groups_req {
    const char *prefix;              /* logGroupNamePrefix */
    const char *pattern;             /* logGroupNamePattern (substring, case-sensitive) */
    const char *const *identifiers;  /* logGroupIdentifiers: names or ARNs */
    size_t n_identifiers;            /* ≤ 50 */
    int limit;                       /* 1–50; 0 = AWS's default (50) */
    const char *next_token;          /* NULL = first page */
};

typedef void cwx_logs_describe_log_groups_fn(int status,
                                             const struct cwx_logs_log_groups *res,
                                             const struct cwx_aws_error *err, void *ud);

int cwx_logs_describe_log_groups(struct cwx_aws_client *c,
                                 const struct cwx_logs_describe_log_groups_req *req,
                                 cwx_logs_describe_log_groups_fn *cb, void *ud);

/* As for the export-task pager: `all` belongs to the caller on success. */
typedef void cwx_logs_log_groups_all_fn(int status, struct cwx_logs_log_groups *all,
                                        const struct cwx_aws_error *err, void *ud);

/* Collects every page of req (its next_token is ignored), at most max_pages
 * (0 = 1000). Returns 0 and cb runs exactly once, later; or a CWX_E* code. */
int cwx_logs_describe_log_groups_all(struct cwx_aws_client *c,
                                     const struct cwx_logs_describe_log_groups_req *req,
                                     int max_pages, cwx_logs_log_groups_all_fn *cb,
                                     void *ud);

/* ---- DescribeLogStreams -------------------------------------------------- */

/* One log stream; the name is owned by the enclosing list, never NULL.
 * Timestamps absent from the answer (a stream without events has no
 * firstEventTimestamp) are 0. AWS's storedBytes of a stream is always 0
 * and is not kept. */
struct cwx_logs_log_stream {
    char *name;
    int64_t creation_time_ms;
    int64_t first_event_ms;
    int64_t last_event_ms;     /* eventually consistent: usually within an hour */
    int64_t last_ingestion_ms;
};

struct cwx_logs_log_streams {
    struct cwx_logs_log_stream *streams;
    size_t n;
    char *next_token; /* NULL on the last page */
};

void cwx_logs_log_streams_free(struct cwx_logs_log_streams *list);

enum cwx_logs_stream_order {
    CWX_STREAMS_BY_NAME = 0,   /* orderBy LogStreamName (AWS's default) */
    CWX_STREAMS_BY_LAST_EVENT, /* orderBy LastEventTime (no prefix allowed) */
};

/* Exactly one of log_group_name and log_group_identifier (a name or an
 * ARN); a prefix only with CWX_STREAMS_BY_NAME (AWS refuses the
 * combination): CWX_EINVAL otherwise. Borrowed for the starting call only. */
struct cwx_logs_describe_log_streams_req {
    const char *log_group_name;
    const char *log_group_identifier;
    const char *prefix;            /* logStreamNamePrefix; NULL = none */
    enum cwx_logs_stream_order order_by;
    int descending;
    int limit;                     /* 1–50; 0 = AWS's default (50) */
    const char *next_token;        /* NULL = first page */
};

/* res is NULL unless status is 0; res and err are valid only during the
 * callback. ResourceNotFoundException (no such group) is CWX_ENOTFOUND. */
typedef void cwx_logs_describe_log_streams_fn(int status,
                                              const struct cwx_logs_log_streams *res,
                                              const struct cwx_aws_error *err, void *ud);

/* Starts one DescribeLogStreams call (one page): the caller pages, since
 * it decides when to stop. Returns 0 and cb runs exactly once, later; or
 * a CWX_E* code and cb never runs. */
int cwx_logs_describe_log_streams(struct cwx_aws_client *c,
                                  const struct cwx_logs_describe_log_streams_req *req,
                                  cwx_logs_describe_log_streams_fn *cb, void *ud);

#endif
