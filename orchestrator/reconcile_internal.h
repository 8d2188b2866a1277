/* Inside the reconciliation (docs/architecture.md §adoption): what its three
 * files share. reconcile.c drives each target through its steps and matches
 * the export tasks AWS knows to the plan's jobs; reconcile_markers.c reads
 * the marker index; reconcile_streams.c reads the log streams (skip_empty,
 * then coalesce). */
#ifndef CWX_ORCHESTRATOR_RECONCILE_INTERNAL_H
#define CWX_ORCHESTRATOR_RECONCILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "orchestrator/orchestrator_internal.h"

struct cwx_aws_error;

/* One reconciliation: the plan it updates, the result it fills. */
struct cwx_rec {
    struct cwx_session *s;
    struct cwx_plan *plan;
    struct cwx_reconcile_result *res;
    cwx_resolve_done_fn *cb;
    void *ud;
    int pending;
    int status;
    int completed_pages;
    struct cwx_index groups;    /* (target, name without leading '/') → group */
    struct cwx_index bare;      /* (target, name that has no leading '/') → group */
    struct cwx_index tasks;     /* task name → job */
    unsigned char *wset_sorted; /* per wset: labels sorted by strcmp */
    size_t cap_tasks, cap_foreign;
};

/* A marker under the key that cwexport used for a log group without a leading
 * '/' before such names got their own key form: the key is the one of
 * "/<name>" as well, so it counts only once its content names this group. */
struct cwx_rec_legacy {
    uint32_t job;
    char *key;
};

/* One target's sequence: markers → log streams (skip_empty, then
 * coalesce) → active tasks → completed tasks. */
enum cwx_rec_step {
    CWX_REC_MARKERS = 0,
    CWX_REC_STREAMS,
    CWX_REC_PENDING,
    CWX_REC_RUNNING,
    CWX_REC_COMPLETED,
    CWX_REC_DONE,
};

struct cwx_rec_target {
    struct cwx_rec *r;
    uint32_t target;
    int step;                      /* enum cwx_rec_step */
    struct cwx_rec_legacy *legacy; /* read after the listing, one GetObject each */
    size_t n_legacy, cap_legacy, next_legacy;
    int reading_legacy;            /* between the listing and the streams step */
    int tries;                     /* transient failures of the step so far */
    uint64_t markers;              /* markers read by the step's listing */
    char prefix[1100];             /* the marker index prefix */
    size_t prefix_len;
    /* CWX_REC_STREAMS: the group being read, its pages so far, the next
     * page's token, the event intervals collected and the time before
     * which no stream matters (the start of its earliest pending window). */
    uint32_t group;
    int pages;
    char *token;
    struct cwx_plan_interval *iv;
    size_t n_iv, cap_iv;
    int64_t since_ms;
    uv_timer_t *pace; /* DescribeLogStreams pacing (skip_empty.api_rate); freed on close */
    uint64_t next_ms; /* loop time before which no DescribeLogStreams call starts */
};

/* reconcile.c: the driver. */
/* Makes the target's current step (the next legacy marker first). */
void cwx__rec_step(struct cwx_rec_target *t);
/* The target is over: frees it; the last one ends the reconciliation. */
void cwx__rec_target_done(struct cwx_rec_target *t);
/* Records that the target's account gives up (the first reason wins). */
void cwx__rec_fail_account(struct cwx_rec *r, uint32_t target, int status,
                           const struct cwx_aws_error *err, const char *what);
/* After the target's step failed: 1 when it failed transiently and is to
 * be made again later, 0 when the account gives up. */
int cwx__rec_retry_later(struct cwx_rec_target *t, int status, const struct cwx_aws_error *err,
                         const char *what);

/* reconcile_markers.c: the marker index. */
#define CWX_REC_LEGACY_WHAT                                                                     \
    "s3:GetObject (a marker written before bare log group names had a key of their own)"
/* Indexes the plan's groups by name and notes which window sets are sorted
 * by label. Returns 0 or CWX_ENOMEM. */
int cwx__rec_markers_prepare(struct cwx_rec *r);
/* Starts the listing of the target's marker index; the step after it
 * follows. Returns 0 or a CWX_E* code (nothing follows). */
int cwx__rec_markers_list(struct cwx_rec_target *t);
/* Reads the next legacy marker: 0 when a read started, 1 after the last
 * (the streams step is next), or a CWX_E* code. */
int cwx__rec_legacy_next(struct cwx_rec_target *t);
/* Forgets the legacy markers still to read. */
void cwx__rec_legacy_clear(struct cwx_rec_target *t);

/* reconcile_streams.c: the log streams. */
/* Reads the log streams of the target's next group that needs it; after the
 * last group, coalesces the target's ranges and goes on to the tasks. */
void cwx__rec_streams_next(struct cwx_rec_target *t);
/* Frees what the streams step holds (its pacing timer is closed). */
void cwx__rec_streams_clear(struct cwx_rec_target *t);

#endif
