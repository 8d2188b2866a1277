/* The lane lease (docs/architecture.md §lane-lease): one small object in S3 per
 * lane, written with conditional writes, so that several runners on one
 * config drive each lane one at a time.
 *
 *   IDLE ──start──▶ ACQUIRING (PutObject If-None-Match: *)
 *                     │ 200 ─────────────────────────────────────▶ HELD
 *                     │ 412: someone holds it
 *                     ▼
 *                   READING (GetObject) ◀──────── every ttl/2 ── OBSERVING
 *                     │ ours (an answer lost) ──────────────────▶ HELD
 *                     │ its ETag unchanged for ttl by our clock,
 *                     │ or its holder's pid is gone from this host
 *                     ▼
 *                   TAKING (PutObject If-Match: <stale etag>) ─200─▶ HELD
 *                     412 (someone renewed or took it first) ──▶ READING
 *
 *   HELD: renew (PutObject If-Match: <our etag>) every ttl/3 and whenever
 *   the owner asks (cwx_lease_refresh, right before a CreateExportTask);
 *   a renew answered 412/404 by someone else's lease, or no renew for ttl/2,
 *   is LOST (the owner creates nothing more and starts again later);
 *   release deletes the object (DeleteObject If-Match: <our etag>).
 *
 * Expiry is judged by the observer's own monotonic clock: no wall-clock
 * comparison between hosts. The body changes on every write (a renew
 * counter, the renew time), so its ETag does too. */
#ifndef CWX_ORCHESTRATOR_LEASE_INTERNAL_H
#define CWX_ORCHESTRATOR_LEASE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"

struct cwx_aws_client;
struct cwx_lease;

/* What one S3 operation of the lease answered. */
struct cwx_lease_io {
    int status;             /* 0 or CWX_E* */
    long http_status;       /* 0 when there was no answer */
    const char *code;       /* the AWS error code, "" when none */
    const char *etag;       /* put, get: the object's ETag ("" when none) */
    struct cwx_span body;   /* get: the object */
    const char *detail;     /* a formatted error, "" when none */
};

/* Called exactly once for each operation that started, later, from the
 * loop; res and its strings are valid during the call only. */
typedef void cwx_lease_io_fn(const struct cwx_lease_io *res, void *ud);

/* The lease's S3 operations (an implementation over cwx_s3_* below; the
 * unit tests script their own). Each returns 0 (cb runs once, later) or a
 * CWX_E* code (cb never runs). */
struct cwx_lease_ops {
    /* PutObject of body with If-None-Match: * (if_match NULL) or If-Match. */
    int (*put)(void *ctx, const char *body, size_t len, const char *if_match,
               cwx_lease_io_fn *cb, void *ud);
    /* GetObject: res->body and res->etag; CWX_ENOTFOUND when missing. */
    int (*get)(void *ctx, cwx_lease_io_fn *cb, void *ud);
    /* DeleteObject with If-Match: if_match. */
    int (*del)(void *ctx, const char *if_match, cwx_lease_io_fn *cb, void *ud);
    /* Monotonic milliseconds; NULL = the loop's high-resolution clock. */
    uint64_t (*now_ms)(void *ctx);
};

enum cwx_lease_state {
    CWX_LEASE_IDLE = 0,  /* not started, lost, released or stopped */
    CWX_LEASE_ACQUIRING, /* If-None-Match: * in flight */
    CWX_LEASE_READING,   /* reading the holder's lease */
    CWX_LEASE_OBSERVING, /* another runner holds it: re-read every ttl/2 */
    CWX_LEASE_TAKING,    /* If-Match: <stale etag> in flight */
    CWX_LEASE_HELD,      /* ours: renewed every ttl/3 */
    CWX_LEASE_RELEASING, /* DeleteObject in flight */
    CWX_LEASE_FAILED,    /* cannot be used: error and detail say why */
};
const char *cwx_lease_state_name(enum cwx_lease_state s);

enum cwx_lease_event {
    CWX_LEASE_EV_HELD,     /* acquired, taken over, or found ours */
    CWX_LEASE_EV_FRESH,    /* the renew cwx_lease_refresh asked for succeeded */
    CWX_LEASE_EV_LOST,     /* another runner holds it, or no renew succeeded
                              for ttl/2: create nothing more */
    CWX_LEASE_EV_FAILED,   /* the store refuses the lease (error, detail) */
    CWX_LEASE_EV_RELEASED, /* the release ended (deleted or not) */
};

typedef void cwx_lease_event_fn(struct cwx_lease *l, enum cwx_lease_event ev, void *ud);

struct cwx_lease_params {
    uint64_t ttl_ms;      /* lease.ttl */
    const char *lane;     /* for the body and logs; copied */
    const char *host;     /* this runner's host name; copied */
    long pid;             /* this runner's pid */
    const char *runner;   /* this runner's random id (hex); copied */
};

struct cwx_lease {
    uv_timer_t timer;              /* renew, re-read, retry */
    int timer_init;
    void (*timer_step)(struct cwx_lease *l); /* what the timer does next */
    const struct cwx_lease_ops *ops;
    void *ctx;
    cwx_lease_event_fn *on_event;
    void *ud;
    uint64_t ttl_ms;
    char lane[160];
    char host[256];
    long pid;
    char runner[40];
    enum cwx_lease_state state;
    int busy;                      /* an operation is in flight */
    int closed;                    /* stopped for good: answers are ignored */
    int want_fresh;                /* cwx_lease_refresh waits for a renew */
    int want_release;              /* release once the renew in flight ends */
    char etag[128];                /* HELD: our object's ETag */
    uint64_t renews;               /* the counter in our body */
    uint64_t sent_renews;          /* the counter of the put in flight */
    uint64_t put_sent_ms;          /* when the put in flight was sent */
    uint64_t last_good_ms;         /* HELD: send time of the last good write */
    char acquired_iso[32];
    char seen_etag[128];           /* OBSERVING: the holder's ETag */
    uint64_t seen_since_ms;        /* when seen_etag was first seen */
    uint64_t holder_ttl_ms;        /* the holder's ttl (its body), else ours */
    char holder[320];              /* "host pid" of the holder, for logs */
    int fails;                     /* transient failures in a row */
    int gone;                      /* 404s in a row while acquiring */
    int error;                     /* FAILED: CWX_E* */
    char detail[400];              /* FAILED: one line */
    /* Counters (the summary). */
    uint64_t requests, acquired, takeovers, renewed, lost;
    uint64_t watched;              /* times another runner was found holding it */
};

/* Prepares l (its timer on loop); nothing happens until cwx_lease_start. */
int cwx_lease_init(struct cwx_lease *l, uv_loop_t *loop, const struct cwx_lease_ops *ops,
                   void *ctx, const struct cwx_lease_params *p, cwx_lease_event_fn *on_event,
                   void *ud);
/* From IDLE: acquire after delay_ms (or observe until it can be taken).
 * HELD, or FAILED, is told through on_event, later. */
int cwx_lease_start(struct cwx_lease *l, uint64_t delay_ms);
/* HELD: renew now; CWX_LEASE_EV_FRESH follows when it succeeds (LOST when
 * another runner holds it). Returns CWX_ESTATE when not HELD. */
int cwx_lease_refresh(struct cwx_lease *l);
/* 1 while HELD and the last good write was sent less than ttl/2 ago. */
int cwx_lease_valid(const struct cwx_lease *l);
/* HELD: deletes the lease; RELEASED follows. Returns 1 (nothing follows)
 * when the lease is not held. */
int cwx_lease_release(struct cwx_lease *l);
/* Stops everything for good (answers still in flight are ignored). */
void cwx_lease_stop(struct cwx_lease *l);
/* Closes the timer (run the loop afterwards); l's memory may go after. */
void cwx_lease_close(struct cwx_lease *l);

/* The body of a lease write (appended to out). */
int cwx_lease_body(const struct cwx_lease *l, uint64_t renews, int64_t now_epoch_ms,
                   struct cwx_buf *out);

/* ---- the operations on S3 ------------------------------------------------ */

struct cwx_lease_s3 {
    struct cwx_aws_client *client;
    char bucket[64];
    char key[1100];
};
const struct cwx_lease_ops *cwx_lease_s3_ops(void);

struct cwx_settings;

/* Where a lane's lease lives, the one rule `cwexport run` and the Step
 * Functions emitter share: the bucket is st's lease.bucket template (for
 * account_id and region), else lane_bucket (the lane's first destination
 * bucket); the key is <state_prefix>/<account_id>/_lease.json, or
 * <state_prefix>/<account_id>/<region>/_lease.json when per_region. Returns 0,
 * or CWX_ECONFIG when a name cannot be made or does not fit. */
int cwx_lease_location(const struct cwx_settings *st, const char *account_id,
                       const char *region, int per_region, const char *lane_bucket,
                       struct cwx_lease_s3 *out);

/* The lease's ttl in st (lease.ttl), or the default of 2 minutes. */
uint64_t cwx_lease_ttl_ms(const struct cwx_settings *st);

#endif
