/* The generic credentials provider: one cache per provider, concurrent gets
 * coalesced into one fetch, callbacks deferred to the loop through an idle
 * handle; plus the sources with nothing asynchronous in them (fixed keys,
 * the environment, a configuration error). The chain itself is built in
 * creds_chain.c. */
#include "aws/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/clients_internal.h"
#include "aws/credentials_internal.h"
#include "aws/http.h"
#include "common/civil.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "common/secret.h"

/* ---- small helpers ------------------------------------------------------- */

void cwx__creds_wipe_body(const struct cwx_http_response *resp)
{
    if (resp && resp->body.ptr)
        OPENSSL_cleanse(resp->body.ptr, resp->body.len);
}

const char *cwx__creds_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void cwx__creds_first_line(const char *s, size_t len, char *out, size_t size)
{
    size_t n = 0;
    if (!size)
        return;
    /* Skip leading blank lines: a tool's message often follows one. */
    while (len && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    for (size_t i = 0; i < len && n + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r')
            break;
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* Opens path for reading and checks it: a regular file or a character device
 * (AWS_CONFIG_FILE=/dev/null is a common way to say "no file"), no larger
 * than max. Returns 0 with *fd and *size set, or an error with err set. */
static int s_open_checked(const char *path, size_t max, int *fd, size_t *size, char *err,
                          size_t err_size)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        int e = errno;
        snprintf(err, err_size, "%s", strerror(e));
        return e == ENOENT ? CWX_ENOTFOUND : CWX_EIO;
    }
    struct stat st;
    int rc = 0;
    if (fstat(*fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
        snprintf(err, err_size, "not a regular file");
        rc = CWX_EIO;
    } else if ((size_t)st.st_size > max) {
        snprintf(err, err_size, "larger than %zu bytes", max);
        rc = CWX_ETOOBIG;
    }
    if (rc) {
        close(*fd);
        *fd = -1;
        return rc;
    }
    *size = (size_t)st.st_size;
    return 0;
}

/* Doubles the buffer of a file that grew since fstat, within max. The old
 * buffer is wiped and freed either way. */
static int s_read_grow(char **buf, size_t n, size_t *cap, size_t max, char *err,
                       size_t err_size)
{
    if (*cap > max + 1) {
        snprintf(err, err_size, "larger than %zu bytes", max);
        return CWX_ETOOBIG;
    }
    char *p = malloc(*cap * 2);
    if (!p)
        return CWX_ENOMEM;
    memcpy(p, *buf, n);
    cwx_secret_free_n(*buf, n);
    *buf = p;
    *cap *= 2;
    return 0;
}

/* Reads fd to its end into a new buffer of at least `size` + 1 bytes. On
 * failure the buffer is wiped and freed. */
static int s_read_all(int fd, size_t size, size_t max, char **out, size_t *len, char *err,
                      size_t err_size)
{
    size_t cap = size + 1, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : CWX_ENOMEM;
    while (!rc) {
        if (n + 1 >= cap && (rc = s_read_grow(&buf, n, &cap, max, err, err_size)))
            break;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, err_size, "%s", strerror(errno));
            rc = CWX_EIO;
        } else if (r == 0) {
            break;
        } else {
            n += (size_t)r;
        }
    }
    if (!rc && n > max) {
        snprintf(err, err_size, "larger than %zu bytes", max);
        rc = CWX_ETOOBIG;
    }
    if (rc) {
        if (buf)
            cwx_secret_free_n(buf, n);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cwx__creds_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                         size_t err_size)
{
    *out = NULL;
    if (len)
        *len = 0;
    int fd;
    size_t size = 0, n = 0;
    int rc = s_open_checked(path, max, &fd, &size, err, err_size);
    if (rc)
        return rc;
    rc = s_read_all(fd, size, max, out, &n, err, err_size);
    close(fd);
    if (!rc && len)
        *len = n;
    return rc;
}

/* ---- time ---------------------------------------------------------------- */

int64_t cwx__creds_wall_ms(void)
{
    return cwx_wall_ms();
}

static int s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int cwx__creds_parse_time(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, sec, ms = 0;
    const char *p = s;
    if (!s)
        return CWX_EPARSE;
    if (s_digits(&p, 4, &y) || *p++ != '-' || s_digits(&p, 2, &mo) || *p++ != '-' ||
        s_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return CWX_EPARSE;
    p++;
    if (s_digits(&p, 2, &h) || *p++ != ':' || s_digits(&p, 2, &mi) || *p++ != ':' ||
        s_digits(&p, 2, &sec))
        return CWX_EPARSE;
    if (*p == '.' || *p == ',') {
        p++;
        int scale = 100, any = 0;
        while (*p >= '0' && *p <= '9') {
            ms += (*p - '0') * scale;
            scale /= 10;
            any = 1;
            p++;
        }
        if (!any)
            return CWX_EPARSE;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (s_digits(&p, 2, &oh))
            return CWX_EPARSE;
        if (*p == ':')
            p++;
        if (s_digits(&p, 2, &om) || oh > 23 || om > 59)
            return CWX_EPARSE;
        offset_min = sign * (oh * 60 + om);
    } else {
        return CWX_EPARSE; /* a time without a zone is ambiguous */
    }
    if (*p)
        return CWX_EPARSE;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return CWX_EPARSE;
    int64_t days = cwx_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)offset_min * 60;
    *out_ms = secs * 1000 + ms;
    return 0;
}

#define CWX__REFRESH_MARGIN_MS (5 * 60 * 1000)

int64_t cwx__creds_refresh_margin_ms(int64_t fetched_ms, int64_t expires_ms)
{
    int64_t lifetime = expires_ms - fetched_ms;
    if (lifetime <= 0)
        return 0;
    int64_t quarter = lifetime / 4;
    return quarter < CWX__REFRESH_MARGIN_MS ? quarter : CWX__REFRESH_MARGIN_MS;
}

int cwx__creds_needs_refresh(int64_t now_ms, int64_t fetched_ms, int64_t expires_ms)
{
    if (expires_ms == 0)
        return 0;
    return now_ms >= expires_ms - cwx__creds_refresh_margin_ms(fetched_ms, expires_ms);
}

/* ---- credential documents ------------------------------------------------- */

void cwx__creds_doc_free(struct cwx__creds_doc *d)
{
    if (!d)
        return;
    free(d->access_key_id);
    CWX_SECRET_FREE_ALL(d->secret_access_key, d->session_token);
    memset(d, 0, sizeof(*d));
}

/* ---- the generic provider -------------------------------------------------- */

/* Credentials as one fetch returned them. Shared by the cache and by the
 * callbacks queued for delivery, so a refresh never frees strings a pending
 * callback is about to hand out. */
struct cwx__creds_snap {
    int refs;
    struct cwx_credentials view; /* points into the fields below */
    struct cwx__creds_doc doc;
    char *source;
    int64_t fetched_ms;
};

/* One cwx_creds_get waiting for its callback. */
struct cwx__creds_waiter {
    struct cwx__creds_waiter *next;
    cwx_creds_fn *cb;
    void *ud;
    int status;
    char *detail;                /* failure detail, owned */
    struct cwx__creds_snap *snap; /* a reference, on success */
};

static void s_snap_unref(struct cwx__creds_snap *s)
{
    if (!s || --s->refs > 0)
        return;
    cwx__creds_doc_free(&s->doc);
    free(s->source);
    free(s);
}

static void s_waiter_free(struct cwx__creds_waiter *w)
{
    free(w->detail);
    s_snap_unref(w->snap);
    free(w);
}

/* Frees a source's state impl (NULL is fine): what it owns, then itself. */
static void s_impl_destroy(const struct cwx__creds_vtable *vt, void *impl)
{
    if (impl && vt->destroy)
        vt->destroy(impl);
    free(impl);
}

static void s_on_close(uv_handle_t *h)
{
    struct cwx_creds_provider *p = h->data;
    s_impl_destroy(p->vt, p->impl);
    s_snap_unref(p->cache);
    free(p->source);
    free(p);
}

static void s_unref(struct cwx_creds_provider *p)
{
    if (--p->refs > 0)
        return;
    uv_close((uv_handle_t *)&p->idle, s_on_close);
}

static void s_on_idle(uv_idle_t *h)
{
    struct cwx_creds_provider *p = h->data;
    /* Take the whole list: gets made from inside the callbacks are queued
     * afresh and delivered on the next iteration, so this never spins. */
    struct cwx__creds_waiter *list = p->ready;
    p->ready = NULL;
    p->refs++; /* a callback may free the provider */
    while (list) {
        struct cwx__creds_waiter *w = list;
        list = w->next;
        w->cb(w->status, w->status ? NULL : &w->snap->view, w->status ? w->detail : NULL,
              w->ud);
        s_waiter_free(w);
    }
    if (!p->ready) {
        uv_idle_stop(&p->idle);
        p->idle_active = 0;
        s_unref(p); /* the delivery's reference */
    }
    s_unref(p);
}

static void s_make_ready(struct cwx_creds_provider *p, struct cwx__creds_waiter *w)
{
    struct cwx__creds_waiter **tail = &p->ready;
    while (*tail)
        tail = &(*tail)->next;
    w->next = NULL;
    *tail = w;
    if (!p->idle_active) {
        uv_idle_start(&p->idle, s_on_idle);
        p->idle_active = 1;
        p->refs++;
    }
}

int cwx__creds_provider_new(int rc, uv_loop_t *loop, struct cwx_aws *aws,
                            const struct cwx__creds_vtable *vt, void *impl,
                            const char *source, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct cwx_creds_provider *p = rc ? NULL : calloc(1, sizeof(*p));
    char *src = rc ? NULL : strdup(source ? source : "none");
    if (!p || !src) {
        free(p);
        free(src);
        s_impl_destroy(vt, impl);
        return rc ? rc : CWX_ENOMEM;
    }
    p->vt = vt;
    p->impl = impl;
    p->loop = loop;
    p->aws = aws;
    p->source = src;
    p->refs = 1;
    uv_idle_init(loop, &p->idle);
    p->idle.data = p;
    *out = p;
    return 0;
}

/* Gives every waiter of the fetch its answer: status with snap (one
 * reference each) when it is 0, else a copy of detail. The waiters are called
 * back from the loop. */
static void s_answer_pending(struct cwx_creds_provider *p, int status,
                             struct cwx__creds_snap *snap, const char *detail)
{
    struct cwx__creds_waiter *list = p->pending;
    p->pending = NULL;
    while (list) {
        struct cwx__creds_waiter *w = list;
        list = w->next;
        w->status = status;
        if (status == 0) {
            w->snap = snap;
            snap->refs++;
        } else {
            w->detail = strdup(detail);
        }
        s_make_ready(p, w);
    }
}

void cwx__creds_fetched(struct cwx_creds_provider *p, int status, struct cwx__creds_doc *doc,
                        const char *detail)
{
    struct cwx__creds_snap *snap = NULL;
    int64_t now = cwx__creds_wall_ms();
    p->fetching = 0;
    if (status == 0 && !p->closing) {
        snap = calloc(1, sizeof(*snap));
        if (snap)
            snap->source = strdup(p->source);
        if (!snap || !snap->source) {
            free(snap);
            snap = NULL;
            status = CWX_ENOMEM;
            detail = "out of memory";
        } else {
            snap->refs = 1;
            snap->doc = *doc;
            memset(doc, 0, sizeof(*doc));
            snap->fetched_ms = now;
            snap->view.access_key_id = snap->doc.access_key_id;
            snap->view.secret_access_key = snap->doc.secret_access_key;
            snap->view.session_token = snap->doc.session_token;
            snap->view.expiration_ms = snap->doc.expiration_ms;
            snap->view.source = snap->source;
            s_snap_unref(p->cache);
            p->cache = snap;
        }
    }
    if (doc)
        cwx__creds_doc_free(doc);
    if (status != 0) {
        p->stats.failures++;
        /* An early refresh that failed: the cached credentials still work. */
        if (p->cache && !p->closing &&
            (p->cache->view.expiration_ms == 0 || now < p->cache->view.expiration_ms)) {
            CWX_LOGW("credentials (%s): refresh failed, using the cached ones until they "
                     "expire: %s",
                     p->source, detail ? detail : cwx_strerror(status));
            snap = p->cache;
            status = 0;
        }
    }
    s_answer_pending(p, status, snap, detail ? detail : cwx_strerror(status));
    s_unref(p); /* the fetch's reference */
}

int cwx_creds_get(struct cwx_creds_provider *p, cwx_creds_fn *cb, void *ud)
{
    if (!p || !cb || p->closing)
        return CWX_EINVAL;
    struct cwx__creds_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return CWX_ENOMEM;
    *w = (struct cwx__creds_waiter){.cb = cb, .ud = ud};
    p->stats.gets++;
    if (p->cache && !p->fetching &&
        !cwx__creds_needs_refresh(cwx__creds_wall_ms(), p->cache->fetched_ms,
                                  p->cache->view.expiration_ms)) {
        w->snap = p->cache;
        p->cache->refs++;
        s_make_ready(p, w);
        return 0;
    }
    w->next = p->pending;
    p->pending = w;
    if (!p->fetching) {
        p->fetching = 1;
        p->stats.fetches++;
        p->refs++; /* the fetch's reference, dropped by cwx__creds_fetched */
        p->vt->fetch(p);
    }
    return 0;
}

void cwx_creds_invalidate(struct cwx_creds_provider *p)
{
    if (!p)
        return;
    s_snap_unref(p->cache);
    p->cache = NULL;
}

void cwx_creds_provider_free(struct cwx_creds_provider *p)
{
    if (!p || p->closing)
        return;
    p->closing = 1;
    s_snap_unref(p->cache);
    p->cache = NULL;
    /* Waiters still get their one callback, from the loop. */
    s_answer_pending(p, CWX_ECANCELED, NULL, "the credentials provider was freed");
    if (p->fetching && p->vt->cancel)
        p->vt->cancel(p);
    s_unref(p);
}

const char *cwx_creds_provider_source(const struct cwx_creds_provider *p)
{
    return p ? p->source : NULL;
}

void cwx_creds_get_stats(const struct cwx_creds_provider *p, struct cwx_creds_stats *out)
{
    *out = p->stats;
}

/* ---- a configuration error ----------------------------------------------- */

struct s_error {
    int status;
    char *detail;
};

static void s_error_fetch(struct cwx_creds_provider *p)
{
    struct s_error *e = p->impl;
    cwx__creds_fetched(p, e->status, NULL, e->detail);
}

static void s_error_destroy(void *impl)
{
    struct s_error *e = impl;
    free(e->detail);
}

static const struct cwx__creds_vtable s_error_vt = {s_error_fetch, NULL, s_error_destroy};

int cwx__creds_error_new(uv_loop_t *loop, int status, const char *detail,
                         struct cwx_creds_provider **out)
{
    struct s_error *e = calloc(1, sizeof(*e));
    if (!e)
        return CWX_ENOMEM;
    e->status = status ? status : CWX_ECRED;
    e->detail = strdup(detail ? detail : "no credentials");
    return cwx__creds_provider_new(e->detail ? 0 : CWX_ENOMEM, loop, NULL, &s_error_vt, e,
                                   "none", out);
}

/* ---- fixed keys ------------------------------------------------------------ */

static void s_static_fetch(struct cwx_creds_provider *p)
{
    const struct cwx__creds_doc *k = p->impl;
    struct cwx__creds_doc doc = {
        .access_key_id = strdup(k->access_key_id),
        .secret_access_key = strdup(k->secret_access_key),
        .session_token = cwx__strdup(k->session_token),
        .expiration_ms = k->expiration_ms,
    };
    if (!doc.access_key_id || !doc.secret_access_key || (k->session_token && !doc.session_token)) {
        cwx__creds_doc_free(&doc);
        cwx__creds_fetched(p, CWX_ENOMEM, NULL, "out of memory");
        return;
    }
    cwx__creds_fetched(p, 0, &doc, NULL);
}

static void s_static_destroy(void *impl)
{
    cwx__creds_doc_free(impl);
}

static const struct cwx__creds_vtable s_static_vt = {s_static_fetch, NULL, s_static_destroy};

int cwx__creds_static_new(uv_loop_t *loop, const char *source, const char *access_key_id,
                          const char *secret_access_key, const char *session_token,
                          int64_t expiration_ms, struct cwx_creds_provider **out)
{
    *out = NULL;
    if (!loop || !access_key_id || !*access_key_id || !secret_access_key || !*secret_access_key)
        return CWX_EINVAL;
    struct cwx__creds_doc *k = calloc(1, sizeof(*k));
    if (!k)
        return CWX_ENOMEM;
    k->access_key_id = strdup(access_key_id);
    k->secret_access_key = strdup(secret_access_key);
    k->session_token = session_token && *session_token ? strdup(session_token) : NULL;
    k->expiration_ms = expiration_ms;
    int rc = !k->access_key_id || !k->secret_access_key ||
                     (session_token && *session_token && !k->session_token)
                 ? CWX_ENOMEM
                 : 0;
    return cwx__creds_provider_new(rc, loop, NULL, &s_static_vt, k, source ? source : "static",
                                   out);
}

int cwx_creds_provider_static(uv_loop_t *loop, const char *access_key_id,
                              const char *secret_access_key, const char *session_token,
                              int64_t expiration_ms, const char *source,
                              struct cwx_creds_provider **out)
{
    return cwx__creds_static_new(loop, source, access_key_id, secret_access_key, session_token,
                                 expiration_ms, out);
}

/* ---- the environment ------------------------------------------------------- */

static void s_env_fetch(struct cwx_creds_provider *p)
{
    const char *id = cwx__creds_env("AWS_ACCESS_KEY_ID");
    const char *secret = cwx__creds_env("AWS_SECRET_ACCESS_KEY");
    const char *token = cwx__creds_env("AWS_SESSION_TOKEN");
    const char *exp = cwx__creds_env("AWS_CREDENTIAL_EXPIRATION");
    char detail[256];
    if (!id || !secret) {
        snprintf(detail, sizeof(detail), "environment: %s is not set",
                 id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        cwx__creds_fetched(p, CWX_ECRED, NULL, detail);
        return;
    }
    struct cwx__creds_doc doc = {0};
    if (exp) {
        if (cwx__creds_parse_time(exp, &doc.expiration_ms) != 0) {
            cwx__creds_fetched(p, CWX_ECRED, NULL,
                               "environment: AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
            return;
        }
        if (doc.expiration_ms <= cwx__creds_wall_ms()) {
            cwx__creds_fetched(p, CWX_ECRED, NULL,
                               "environment: the credentials expired (AWS_CREDENTIAL_EXPIRATION)");
            return;
        }
    }
    doc.access_key_id = strdup(id);
    doc.secret_access_key = strdup(secret);
    doc.session_token = cwx__strdup(token);
    if (!doc.access_key_id || !doc.secret_access_key || (token && !doc.session_token)) {
        cwx__creds_doc_free(&doc);
        cwx__creds_fetched(p, CWX_ENOMEM, NULL, "out of memory");
        return;
    }
    cwx__creds_fetched(p, 0, &doc, NULL);
}

static const struct cwx__creds_vtable s_env_vt = {s_env_fetch, NULL, NULL};

int cwx__creds_env_new(uv_loop_t *loop, struct cwx_creds_provider **out)
{
    return cwx__creds_provider_new(0, loop, NULL, &s_env_vt, NULL, "environment", out);
}
