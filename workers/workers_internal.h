/* Shared inside workers/: the worker object (worker_object.c makes it,
 * worker.c runs its steps) and helpers of the AWS operations table. */
#ifndef CWX_WORKERS_WORKERS_INTERNAL_H
#define CWX_WORKERS_WORKERS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "workers/workers.h"

/* The object CloudWatch Logs writes to check its permission on the bucket. */
#define CWX__WRITE_TEST "aws-logs-write-test"

/* 1 when key (under a data prefix) is CloudWatch Logs' permission probe,
 * i.e. its last path segment is "aws-logs-write-test". */
int cwx__is_write_test(const char *key);

/* ISO-8601 UTC "2024-03-01T00:00:00.000Z" of epoch ms into out (≥ 25 bytes). */
void cwx__iso_ms(long long ms, char *out, size_t size);

/* The patience of a step when spec.patience says nothing: 1 s doubling to
 * 60 s. */
#define CWX__PATIENCE_MIN_MS 1000
#define CWX__PATIENCE_MAX_MS 60000

/* One export job (see workers.h for the diagram). */
struct cwx_worker {
    struct cwx_work_spec spec; /* strings point into `strings` */
    char *strings;
    const char **range_strings; /* spec.windows then spec.marker_keys (owned) */
    size_t marks_left;          /* MARK of a range: markers still to write */
    const struct cwx_worker_ops *ops;
    void *ctx;
    struct cwx_worker_hooks hooks;
    void *hooks_ud;

    enum cwx_work_state state;
    enum cwx_work_reason reason;
    int error;
    const char *permission;
    char detail[400];

    char task_id[64];
    enum cwx_export_status task_status;
    int64_t creation_ms;
    int64_t completion_ms;
    int polls;
    int attempts;   /* creates that made a task (this run) */
    int failures;   /* FAILED tasks seen */
    int retries;
    int step_errors;  /* transient failures of the current step in a row */
    int step_retries; /* steps redone after a transient failure (this run) */
    uint64_t objects, bytes;

    int busy;        /* an operation is in flight */
    int timer;       /* a timer is pending */
    int interrupted; /* stop at the next safe point */
    int (*after_timer)(struct cwx_worker *w); /* the step the timer runs */

    void *data;
    void *ops_slot;
};

#endif
