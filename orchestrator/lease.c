/* The lane lease: see lease_internal.h for the states. */
#include "orchestrator/lease_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "orchestrator/orchestrator_internal.h"

/* After a 409 ConditionalRequestConflict (a concurrent write won): try
 * again after this long. */
#define S_CONFLICT_MS 200
/* Transient failures in a row before the lease gives up (acquiring,
 * reading), as a job step does. */
#define S_MAX_FAILS 9

static const char *const s_state_names[] = {
    "idle", "acquiring", "reading", "observing", "taking", "held", "releasing", "failed",
};

const char *cwx_lease_state_name(enum cwx_lease_state s)
{
    if ((unsigned)s < sizeof(s_state_names) / sizeof(s_state_names[0]))
        return s_state_names[s];
    return "?";
}

static uint64_t s_now(const struct cwx_lease *l)
{
    if (l->ops->now_ms)
        return l->ops->now_ms(l->ctx);
    return uv_hrtime() / 1000000u;
}

int cwx_lease_init(struct cwx_lease *l, uv_loop_t *loop, const struct cwx_lease_ops *ops,
                   void *ctx, const struct cwx_lease_params *p, cwx_lease_event_fn *on_event,
                   void *ud)
{
    memset(l, 0, sizeof(*l));
    if (!ops || !on_event || !p || p->ttl_ms < 3)
        return CWX_EINVAL;
    l->ops = ops;
    l->ctx = ctx;
    l->on_event = on_event;
    l->ud = ud;
    l->ttl_ms = p->ttl_ms;
    l->pid = p->pid;
    snprintf(l->lane, sizeof(l->lane), "%s", p->lane ? p->lane : "");
    snprintf(l->host, sizeof(l->host), "%s", p->host ? p->host : "");
    snprintf(l->runner, sizeof(l->runner), "%s", p->runner ? p->runner : "");
    if (uv_timer_init(loop, &l->timer))
        return CWX_EIO;
    l->timer.data = l;
    l->timer_init = 1;
    return 0;
}

int cwx_lease_body(const struct cwx_lease *l, uint64_t renews, int64_t now_epoch_ms,
                   struct cwx_buf *out)
{
    char renewed[32];
    cwx__iso(now_epoch_ms, renewed, sizeof(renewed));
    cJSON *o = cJSON_CreateObject();
    cJSON *r = cJSON_CreateObject();
    int rc = CWX_ENOMEM;
    if (o && r) {
        cJSON_AddNumberToObject(o, "cwexport_lease", 1);
        cJSON_AddStringToObject(o, "lane", l->lane);
        cJSON_AddStringToObject(r, "host", l->host);
        cJSON_AddNumberToObject(r, "pid", (double)l->pid);
        cJSON_AddStringToObject(r, "id", l->runner);
        cJSON_AddItemToObject(o, "runner", r);
        r = NULL;
        cJSON_AddStringToObject(o, "acquired", l->acquired_iso[0] ? l->acquired_iso : renewed);
        cJSON_AddStringToObject(o, "renewed", renewed);
        cJSON_AddNumberToObject(o, "renews", (double)renews);
        cJSON_AddNumberToObject(o, "ttl_ms", (double)l->ttl_ms);
        /* Milliseconds too: two writes within one second differ. */
        cJSON_AddNumberToObject(o, "renewed_ms", (double)now_epoch_ms);
        char *s = cJSON_PrintUnformatted(o);
        if (s) {
            rc = cwx_buf_append(out, s, strlen(s));
            cJSON_free(s);
        }
    }
    cJSON_Delete(r);
    cJSON_Delete(o);
    return rc;
}

/* What a lease object says about its holder. */
struct s_holder {
    int parsed;
    char host[256];
    long pid;
    char id[40];
    uint64_t renews;
    uint64_t ttl_ms;
};

static void s_parse(struct cwx_span body, struct s_holder *h)
{
    memset(h, 0, sizeof(*h));
    cJSON *o = body.len ? cJSON_ParseWithLength(body.ptr, body.len) : NULL;
    if (!o)
        return;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "runner");
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(r, "host");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(r, "pid");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
    const cJSON *renews = cJSON_GetObjectItemCaseSensitive(o, "renews");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(o, "ttl_ms");
    if (cJSON_IsString(host) && cJSON_IsString(id) && cJSON_IsNumber(pid)) {
        h->parsed = 1;
        snprintf(h->host, sizeof(h->host), "%s", host->valuestring);
        snprintf(h->id, sizeof(h->id), "%s", id->valuestring);
        h->pid = pid->valuedouble > 0 && pid->valuedouble < 1e9 ? (long)pid->valuedouble : 0;
        if (cJSON_IsNumber(renews) && renews->valuedouble >= 0 && renews->valuedouble < 1e15)
            h->renews = (uint64_t)renews->valuedouble;
        if (cJSON_IsNumber(ttl) && ttl->valuedouble >= 1000 && ttl->valuedouble <= 36e5)
            h->ttl_ms = (uint64_t)ttl->valuedouble;
    }
    cJSON_Delete(o);
}

/* 1 when the holder names this host and a process that is not running. */
static int s_holder_dead_here(const struct cwx_lease *l, const struct s_holder *h)
{
    if (!h->parsed || !h->pid || strcmp(h->host, l->host) != 0)
        return 0;
    if (h->pid == l->pid)
        return strcmp(h->id, l->runner) != 0; /* an earlier process with our pid */
    return kill((pid_t)h->pid, 0) == -1 && errno == ESRCH;
}

/* ---- plumbing ------------------------------------------------------------ */

typedef void s_step_fn(struct cwx_lease *l);

static void s_emit(struct cwx_lease *l, enum cwx_lease_event ev)
{
    l->on_event(l, ev, l->ud);
}

static void s_fail(struct cwx_lease *l, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_fail(struct cwx_lease *l, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
    va_end(ap);
    l->error = error;
    l->state = CWX_LEASE_FAILED;
    uv_timer_stop(&l->timer);
    s_emit(l, CWX_LEASE_EV_FAILED);
}

static void s_later(struct cwx_lease *l, uint64_t delay_ms, s_step_fn *step);

static int s_unsupported(const struct cwx_lease_io *r)
{
    return r->http_status == 501 || (r->code && !strcmp(r->code, "NotImplemented"));
}

static int s_conflict(const struct cwx_lease_io *r)
{
    return r->http_status == 409 ||
           (r->code && !strcmp(r->code, "ConditionalRequestConflict"));
}

static int s_precondition(const struct cwx_lease_io *r)
{
    return r->http_status == 412 || (r->code && !strcmp(r->code, "PreconditionFailed"));
}

static int s_no_bucket(const struct cwx_lease_io *r)
{
    return r->code && !strcmp(r->code, "NoSuchBucket");
}

static uint64_t s_retry_delay(struct cwx_lease *l)
{
    uint64_t d = 500u << (l->fails < 6 ? l->fails : 6);
    uint64_t cap = l->ttl_ms / 3 ? l->ttl_ms / 3 : 1;
    return d < cap ? d : cap;
}

/* A failure that is neither a condition nor transient ends the lease. */
static void s_fatal(struct cwx_lease *l, const struct cwx_lease_io *r, const char *what)
{
    const char *detail = r->detail && r->detail[0] ? r->detail : cwx_strerror(r->status);
    if (s_unsupported(r)) {
        s_fail(l, CWX_ENOTSUP,
               "the lease's bucket does not support conditional writes (%s answered %s); set "
               "`lease: off` to run without a lease (one runner per config at a time)",
               what, detail);
        return;
    }
    if (r->status == CWX_EDENIED || r->status == CWX_ECRED) {
        s_fail(l, r->status, "s3:%s on the lease is %s: %s",
               !strcmp(what, "GetObject") ? "GetObject"
               : !strcmp(what, "DeleteObject") ? "DeleteObject"
                                                : "PutObject",
               r->status == CWX_ECRED ? "without usable credentials" : "denied", detail);
        return;
    }
    if (s_no_bucket(r)) {
        s_fail(l, CWX_ENOTFOUND, "the lease's bucket does not exist: %s", detail);
        return;
    }
    s_fail(l, r->status ? r->status : CWX_EAWS, "%s of the lease failed: %s", what, detail);
}

/* Transient failure: retry step later, or give up after S_MAX_FAILS. */
static void s_transient(struct cwx_lease *l, const struct cwx_lease_io *r, const char *what,
                        s_step_fn *step)
{
    if (++l->fails >= S_MAX_FAILS) {
        s_fail(l, CWX_EUNAVAIL, "%s of the lease failed %d times in a row: %s", what, l->fails,
               r->detail && r->detail[0] ? r->detail : cwx_strerror(r->status));
        return;
    }
    s_later(l, s_retry_delay(l), step);
}

static int s_is_transient(const struct cwx_lease_io *r)
{
    return cwx_err_transient(r->status) || (r->http_status >= 500 && r->http_status != 501);
}

/* ---- acquiring, reading, taking over ------------------------------------- */

static void s_acquire(struct cwx_lease *l);
static void s_read(struct cwx_lease *l);
static void s_renew(struct cwx_lease *l);

static int s_put(struct cwx_lease *l, const char *if_match, uint64_t renews,
                 cwx_lease_io_fn *cb)
{
    struct cwx_buf body;
    cwx_buf_init(&body, 4096);
    int rc = cwx_lease_body(l, renews, cwx_wall_ms(), &body);
    if (!rc) {
        l->sent_renews = renews;
        l->put_sent_ms = s_now(l);
        rc = l->ops->put(l->ctx, body.ptr, body.len, if_match, cb, l);
    }
    cwx_buf_free(&body);
    if (!rc) {
        l->busy = 1;
        l->requests++;
    }
    return rc;
}

static void s_held(struct cwx_lease *l, const char *etag, int takeover)
{
    int was_held = l->state == CWX_LEASE_HELD;
    snprintf(l->etag, sizeof(l->etag), "%s", etag ? etag : "");
    l->renews = l->sent_renews;
    l->last_good_ms = l->put_sent_ms;
    l->fails = 0;
    l->gone = 0;
    l->state = CWX_LEASE_HELD;
    if (!was_held) {
        l->acquired++;
        if (takeover)
            l->takeovers++;
        CWX_LOGI("lane %s: lease %s", l->lane,
                 takeover ? "taken over from a stale holder" : "acquired");
    }
    s_later(l, l->ttl_ms / 3, s_renew);
    if (!was_held)
        s_emit(l, CWX_LEASE_EV_HELD);
}

/* Every operation's answer starts here: the operation is over. Returns 1
 * when the lease was stopped meanwhile (the answer is ignored). */
static int s_returned(struct cwx_lease *l)
{
    l->busy = 0;
    return l->closed;
}

/* The answer of a PutObject that acquires (If-None-Match: *) or takes over
 * (If-Match: the stale ETag). */
static void s_on_put_answer(struct cwx_lease *l, const struct cwx_lease_io *r, int takeover)
{
    if (r->status == 0) {
        s_held(l, r->etag, takeover);
        return;
    }
    if (takeover && r->status == CWX_ENOTFOUND && !s_no_bucket(r)) {
        s_acquire(l); /* released meanwhile */
        return;
    }
    if (s_precondition(r)) {
        /* Someone holds it (maybe us: an answer lost), renewed it, or
         * another runner took it first. */
        l->fails = 0;
        s_read(l);
        return;
    }
    if (s_conflict(r)) {
        s_later(l, S_CONFLICT_MS, takeover ? s_read : s_acquire);
        return;
    }
    if (s_is_transient(r)) {
        /* The write may have landed: reading tells. */
        s_transient(l, r, "PutObject", s_read);
        return;
    }
    s_fatal(l, r, "PutObject");
}

static void s_on_acquired(const struct cwx_lease_io *r, void *ud)
{
    if (!s_returned(ud))
        s_on_put_answer(ud, r, 0);
}

static void s_on_taken(const struct cwx_lease_io *r, void *ud)
{
    if (!s_returned(ud))
        s_on_put_answer(ud, r, 1);
}

/* Starts the PutObject of acquiring (etag NULL) or taking over (etag); one
 * that cannot start fails the lease. */
static void s_put_first(struct cwx_lease *l, enum cwx_lease_state state, const char *etag)
{
    l->state = state;
    l->acquired_iso[0] = 0;
    cwx__iso(cwx_wall_ms(), l->acquired_iso, sizeof(l->acquired_iso));
    int rc = s_put(l, etag, 0, etag ? s_on_taken : s_on_acquired);
    if (rc)
        s_fail(l, rc, "could not start PutObject of the lease: %s", cwx_strerror(rc));
}

static void s_acquire(struct cwx_lease *l)
{
    s_put_first(l, CWX_LEASE_ACQUIRING, NULL);
}

static void s_take(struct cwx_lease *l, const char *etag)
{
    s_put_first(l, CWX_LEASE_TAKING, etag);
}

static void s_on_read(const struct cwx_lease_io *r, void *ud)
{
    struct cwx_lease *l = ud;
    if (s_returned(l))
        return;
    if (r->status == CWX_ENOTFOUND && !s_no_bucket(r)) {
        /* Released (or expired and deleted): acquire; after a few rounds
         * in a row without getting it, wait a little. */
        if (++l->gone > 3) {
            l->gone = 0;
            s_later(l, l->ttl_ms / 2, s_acquire);
            return;
        }
        s_acquire(l);
        return;
    }
    if (r->status) {
        if (s_is_transient(r)) {
            s_transient(l, r, "GetObject", s_read);
            return;
        }
        s_fatal(l, r, "GetObject");
        return;
    }
    l->fails = 0;
    struct s_holder h;
    s_parse(r->body, &h);
    const char *etag = r->etag ? r->etag : "";
    if (h.parsed && !strcmp(h.id, l->runner) && h.renews == l->sent_renews && etag[0]) {
        s_held(l, etag, 0); /* our write landed; its answer was lost */
        return;
    }
    uint64_t now = s_now(l);
    if (strcmp(etag, l->seen_etag) != 0 || !l->seen_etag[0]) {
        snprintf(l->seen_etag, sizeof(l->seen_etag), "%s", etag);
        l->seen_since_ms = now;
        l->holder_ttl_ms = h.ttl_ms ? h.ttl_ms : l->ttl_ms;
        if (h.parsed)
            snprintf(l->holder, sizeof(l->holder), "%s pid %ld", h.host, h.pid);
        else
            snprintf(l->holder, sizeof(l->holder), "an unknown holder");
    }
    if (h.parsed && !strcmp(h.id, l->runner) && etag[0]) {
        /* Ours from before (this process lost it, or gave up on a renew
         * whose answer never came): no one else drives the lane. */
        s_take(l, etag);
        return;
    }
    if (s_holder_dead_here(l, &h)) {
        CWX_LOGI("lane %s: the lease's holder (%s) no longer runs on this host; taking it over",
                 l->lane, l->holder);
        s_take(l, etag);
        return;
    }
    if (now - l->seen_since_ms >= l->holder_ttl_ms) {
        CWX_LOGI("lane %s: the lease of %s has not been renewed for %.1f s; taking it over",
                 l->lane, l->holder, (double)(now - l->seen_since_ms) / 1000.0);
        s_take(l, etag);
        return;
    }
    if (l->state != CWX_LEASE_OBSERVING) {
        l->watched++;
        CWX_LOGI("lane %s: driven by another runner (%s); watching its lease", l->lane,
                 l->holder);
    }
    l->state = CWX_LEASE_OBSERVING;
    uint64_t wait = l->ttl_ms / 2;
    uint64_t left = l->seen_since_ms + l->holder_ttl_ms - now;
    if (left < wait)
        wait = left + 1;
    s_later(l, wait, s_read);
}

static void s_read(struct cwx_lease *l)
{
    if (l->state != CWX_LEASE_OBSERVING)
        l->state = CWX_LEASE_READING;
    int rc = l->ops->get(l->ctx, s_on_read, l);
    if (rc) {
        s_fail(l, rc, "could not start GetObject of the lease: %s", cwx_strerror(rc));
        return;
    }
    l->busy = 1;
    l->requests++;
}

/* ---- holding ------------------------------------------------------------- */

static void s_release_now(struct cwx_lease *l);

static void s_lost(struct cwx_lease *l, const char *why)
{
    CWX_LOGW("lane %s: lease lost (%s); another runner drives the lane", l->lane, why);
    uv_timer_stop(&l->timer);
    l->state = CWX_LEASE_IDLE;
    l->lost++;
    l->want_fresh = 0;
    l->want_release = 0;
    l->seen_etag[0] = 0;
    s_emit(l, CWX_LEASE_EV_LOST);
}

/* After a renew succeeded (or was found to have landed). */
static void s_renewed(struct cwx_lease *l, const char *etag)
{
    snprintf(l->etag, sizeof(l->etag), "%s", etag ? etag : "");
    l->renews = l->sent_renews;
    l->last_good_ms = l->put_sent_ms;
    l->fails = 0;
    l->renewed++;
    if (l->want_release) {
        s_release_now(l);
        return;
    }
    s_later(l, l->ttl_ms / 3, s_renew);
    if (l->want_fresh) {
        l->want_fresh = 0;
        s_emit(l, CWX_LEASE_EV_FRESH);
    }
}

static void s_renew_failed(struct cwx_lease *l, const struct cwx_lease_io *r)
{
    l->fails++;
    if (s_now(l) - l->last_good_ms > l->ttl_ms / 2) {
        char why[400];
        snprintf(why, sizeof(why), "no renew succeeded for %.1f s: %s",
                 (double)(s_now(l) - l->last_good_ms) / 1000.0,
                 r->detail && r->detail[0] ? r->detail : cwx_strerror(r->status));
        s_lost(l, why);
        return;
    }
    if (l->want_release) {
        s_release_now(l);
        return;
    }
    s_later(l, s_retry_delay(l), s_renew);
}

static void s_on_verified(const struct cwx_lease_io *r, void *ud)
{
    struct cwx_lease *l = ud;
    if (s_returned(l))
        return;
    if (r->status == 0) {
        struct s_holder h;
        s_parse(r->body, &h);
        if (h.parsed && !strcmp(h.id, l->runner) && h.renews == l->sent_renews) {
            s_renewed(l, r->etag); /* the renew landed; its answer was lost */
            return;
        }
        s_lost(l, h.parsed ? "renew refused: it names another runner" : "renew refused");
        return;
    }
    if (r->status == CWX_ENOTFOUND) {
        s_lost(l, "the lease object is gone");
        return;
    }
    s_renew_failed(l, r);
}

static void s_on_renewed(const struct cwx_lease_io *r, void *ud)
{
    struct cwx_lease *l = ud;
    if (s_returned(l))
        return;
    if (r->status == 0) {
        s_renewed(l, r->etag);
        return;
    }
    if (s_precondition(r) || (r->status == CWX_ENOTFOUND && !s_no_bucket(r))) {
        /* Someone else's lease now — or our own renew retried after its
         * answer was lost: the object tells. */
        int rc = l->ops->get(l->ctx, s_on_verified, l);
        if (rc == 0) {
            l->busy = 1;
            l->requests++;
            return;
        }
        s_lost(l, "renew refused");
        return;
    }
    if (s_conflict(r)) {
        s_later(l, S_CONFLICT_MS, s_renew);
        return;
    }
    s_renew_failed(l, r);
}

static void s_renew(struct cwx_lease *l)
{
    if (l->state != CWX_LEASE_HELD)
        return;
    int rc = s_put(l, l->etag, l->renews + 1, s_on_renewed);
    if (rc) {
        struct cwx_lease_io r = {.status = rc, .code = "", .etag = "", .detail = ""};
        s_renew_failed(l, &r);
    }
}

/* ---- releasing ----------------------------------------------------------- */

static void s_on_deleted(const struct cwx_lease_io *r, void *ud)
{
    struct cwx_lease *l = ud;
    if (s_returned(l))
        return;
    if (r->status)
        CWX_LOGW("lane %s: releasing the lease failed (%s); it expires after %.0f s", l->lane,
                 r->detail && r->detail[0] ? r->detail : cwx_strerror(r->status),
                 (double)l->ttl_ms / 1000.0);
    l->state = CWX_LEASE_IDLE;
    s_emit(l, CWX_LEASE_EV_RELEASED);
}

static void s_release_now(struct cwx_lease *l)
{
    uv_timer_stop(&l->timer);
    l->want_release = 0;
    l->want_fresh = 0;
    l->state = CWX_LEASE_RELEASING;
    int rc = l->ops->del(l->ctx, l->etag, s_on_deleted, l);
    if (rc) {
        l->state = CWX_LEASE_IDLE;
        /* From a callback or a timer: the owner's stack is not below. */
        s_emit(l, CWX_LEASE_EV_RELEASED);
        return;
    }
    l->busy = 1;
    l->requests++;
}

/* ---- the timer ----------------------------------------------------------- */

static void s_on_timer(uv_timer_t *h)
{
    struct cwx_lease *l = h->data;
    s_step_fn *step = l->timer_step;
    l->timer_step = NULL;
    if (l->closed || !step)
        return;
    step(l);
}

static void s_later(struct cwx_lease *l, uint64_t delay_ms, s_step_fn *step)
{
    l->timer_step = step;
    uv_timer_start(&l->timer, s_on_timer, delay_ms ? delay_ms : 1, 0);
}

/* ---- the owner's calls --------------------------------------------------- */

int cwx_lease_start(struct cwx_lease *l, uint64_t delay_ms)
{
    if (l->closed || l->busy || (l->state != CWX_LEASE_IDLE && l->state != CWX_LEASE_FAILED))
        return CWX_ESTATE;
    l->fails = 0;
    l->gone = 0;
    l->error = 0;
    l->detail[0] = 0;
    l->seen_etag[0] = 0;
    /* From a timer, so that HELD never comes from inside this call. */
    l->state = CWX_LEASE_ACQUIRING;
    s_later(l, delay_ms, s_acquire);
    return 0;
}

int cwx_lease_refresh(struct cwx_lease *l)
{
    if (l->closed || l->state != CWX_LEASE_HELD)
        return CWX_ESTATE;
    l->want_fresh = 1;
    if (l->busy)
        return 0; /* the renew in flight answers */
    uv_timer_stop(&l->timer);
    s_later(l, 0, s_renew);
    return 0;
}

int cwx_lease_valid(const struct cwx_lease *l)
{
    return !l->closed && l->state == CWX_LEASE_HELD &&
           s_now(l) - l->last_good_ms <= l->ttl_ms / 2;
}

int cwx_lease_release(struct cwx_lease *l)
{
    if (l->closed || l->state != CWX_LEASE_HELD)
        return 1;
    if (l->busy) {
        l->want_release = 1; /* after the renew in flight */
        return 0;
    }
    uv_timer_stop(&l->timer);
    l->state = CWX_LEASE_RELEASING;
    s_later(l, 0, s_release_now);
    return 0;
}

void cwx_lease_stop(struct cwx_lease *l)
{
    l->closed = 1;
    if (l->timer_init)
        uv_timer_stop(&l->timer);
    if (l->state != CWX_LEASE_FAILED)
        l->state = CWX_LEASE_IDLE;
}

void cwx_lease_close(struct cwx_lease *l)
{
    cwx_lease_stop(l);
    if (l->timer_init && !uv_is_closing((uv_handle_t *)&l->timer))
        uv_close((uv_handle_t *)&l->timer, NULL);
}
