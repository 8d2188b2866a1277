/* The HTTP transport: libcurl's multi interface driven by a libuv loop.
 *
 * How it hangs together (docs/contributing.md §libcurl-multi-on-libuv); the
 * sockets and the timer are in http_socket.c, the shared state in
 * http_internal.h:
 * - curl tells us which sockets to watch through CURLMOPT_SOCKETFUNCTION;
 *   each watched socket gets a heap `struct cwx__http_sock` holding a uv_poll_t,
 *   linked to the socket with curl_multi_assign. On CURL_POLL_REMOVE the
 *   poll handle is closed (the struct is freed in the close callback) and
 *   the assignment cleared at once, since curl may hand us the same fd
 *   number again before the close callback runs.
 * - curl tells us when to call it back through CURLMOPT_TIMERFUNCTION; one
 *   uv_timer serves. 0 ms is clamped to 1 ms (libuv 1.44 busy-loops on a
 *   0 ms timer re-armed from a timer callback), -1 stops the timer.
 * - After every curl_multi_socket_action the finished transfers are drained
 *   from curl_multi_info_read; each result is copied before the easy handle
 *   is removed, and the transfer is found through CURLOPT_PRIVATE.
 * - curl's callbacks (socket, timer, header, write) only record things and
 *   touch uv handles; they never call back into curl's multi API, and never
 *   run a user callback.
 * - User callbacks run from cwx__http_check_done, after socket_action has returned.
 *   A user callback may send new requests or free the transport: a dispatch
 *   depth keeps the transport alive until the outermost dispatch is over.
 *
 * Connections: kept alive and reused per host; CURLMOPT_MAX_HOST_CONNECTIONS
 * caps them (extra transfers wait inside curl). A share holds the DNS
 * cache, the TLS sessions and, since libcurl 7.57 supports it, the
 * connection cache too, so that every easy handle of the process (ours and
 * any a later part adds to the share) draws on one pool. Connections in the
 * share outlive the multi: curl_share_cleanup closes them, after
 * curl_multi_cleanup has removed their sockets from our watch (and
 * s_teardown closes any poll handle curl did not remove). Easy handles are
 * recycled through a small pool (curl_easy_reset keeps the share). */
#include "aws/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/http_internal.h"
#include "common/error.h"
#include "common/list.h"
#include "common/log.h"

/* One transfer in flight. */
struct cwx__http_xfer {
    struct cwx_http *http;
    CURL *easy;
    struct curl_slist *headers;
    const struct cwx_http_request *req; /* borrowed until cb */
    cwx_http_done_fn *cb;
    void *ud;
    struct cwx_http_response resp;
    int abort_error;   /* CWX_E* set when a callback aborted the transfer */
    int stream;        /* the body goes to req->on_body (a 2xx answer) */
    size_t received;   /* body bytes of the current answer, streamed or not */
    char errbuf[CURL_ERROR_SIZE];
    struct cwx__http_xfer *prev, *next;
};

static void s_teardown(struct cwx_http *http);

/* ---- transfers ---------------------------------------------------------- */

static void s_copy_value(char *dst, size_t size, const char *v, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

/* CURLOPT_HEADERFUNCTION: one header line at a time (not NUL-terminated). */
static size_t s_header_cb(char *line, size_t size, size_t n, void *ud)
{
    struct cwx__http_xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response begins (after a 100 Continue, say): forget the
         * headers of the one before. */
        struct cwx_http_response *r = &x->resp;
        r->request_id[0] = r->date[0] = r->bucket_region[0] = '\0';
        r->content_type[0] = r->etag[0] = '\0';
        r->content_length = -1;
        const char *sp = memchr(line, ' ', len);
        long st = 0;
        if (sp)
            for (const char *p = sp + 1; p < line + len && *p >= '0' && *p <= '9'; p++)
                st = st * 10 + (*p - '0');
        r->status = st;
        x->stream = x->req->on_body && st >= 200 && st < 300;
        x->received = 0;
        cwx_buf_reset(&r->body);
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return len;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    struct cwx_http_response *r = &x->resp;
#define S_IS(name) (nlen == sizeof(name) - 1 && strncasecmp(line, name, nlen) == 0)
    if (S_IS("x-amzn-RequestId") || S_IS("x-amz-request-id")) {
        if (!r->request_id[0] || S_IS("x-amzn-RequestId"))
            s_copy_value(r->request_id, sizeof(r->request_id), v, vlen);
    } else if (S_IS("Date"))
        s_copy_value(r->date, sizeof(r->date), v, vlen);
    else if (S_IS("x-amz-bucket-region"))
        s_copy_value(r->bucket_region, sizeof(r->bucket_region), v, vlen);
    else if (S_IS("Content-Type"))
        s_copy_value(r->content_type, sizeof(r->content_type), v, vlen);
    else if (S_IS("ETag"))
        s_copy_value(r->etag, sizeof(r->etag), v, vlen);
    else if (S_IS("Content-Length")) {
        int64_t cl = 0;
        int ok = vlen > 0 && vlen < 19;
        for (size_t i = 0; ok && i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                ok = 0;
            else
                cl = cl * 10 + (v[i] - '0');
        }
        r->content_length = ok ? cl : -1;
    }
#undef S_IS
    return len;
}

/* CURLOPT_WRITEFUNCTION. Returning anything but len aborts the transfer. */
static size_t s_write_cb(char *data, size_t size, size_t n, void *ud)
{
    struct cwx__http_xfer *x = ud;
    size_t len = size * n;
    /* The cap holds for streamed answers too (Content-Length is checked
     * up front by CURLOPT_MAXFILESIZE; this catches chunked answers). */
    x->received += len;
    if (x->received > x->http->opts.max_response_bytes) {
        x->abort_error = CWX_ETOOBIG;
        return 0;
    }
    if (x->stream) {
        int rc = x->req->on_body(data, len, x->req->on_body_ud);
        if (rc) {
            x->abort_error = rc < 0 && rc > CWX__ERRNO_FIRST && rc < CWX__ERRNO_LAST
                                 ? rc
                                 : CWX_ECANCELED;
            return 0;
        }
        return len;
    }
    int rc = cwx_buf_append(&x->resp.body, data, len);
    if (rc) {
        x->abort_error = rc;
        return 0;
    }
    return len;
}

static void s_xfer_unlink(struct cwx__http_xfer *x)
{
    struct cwx_http *http = x->http;
    CWX_LIST_UNLINK(http->xfers, x, prev, next);
}

/* Returns the easy handle to the pool (or frees it) and frees x. The
 * handle has already been removed from the multi. */
/* Header lines hold the signature and the session token
 * (X-Amz-Security-Token): wiped before curl frees them. */
static void s_slist_free_wiped(struct curl_slist *sl)
{
    for (struct curl_slist *p = sl; p; p = p->next)
        if (p->data)
            OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(sl);
}

static void s_xfer_free(struct cwx__http_xfer *x)
{
    struct cwx_http *http = x->http;
    if (x->easy) {
        if (!http->freeing && http->n_pool < CWX__HTTP_POOL_MAX) {
            curl_easy_reset(x->easy);
            http->pool[http->n_pool++] = x->easy;
        } else
            curl_easy_cleanup(x->easy);
    }
    s_slist_free_wiped(x->headers);
    cwx_buf_free(&x->resp.body);
    free(x);
}

static int s_map_curl_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return CWX_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return CWX_ENOMEM;
    case CURLE_FILESIZE_EXCEEDED:
        return CWX_ETOOBIG;
    /* The peer's certificate (or our CA file) does not verify: the same
     * request can only meet the same end. */
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return CWX_ETLS;
    default:
        return CWX_EHTTP;
    }
}

/* Ends x: fills in what the result says, runs the callback, frees x. The
 * easy handle must already be out of the multi. */
static void s_finish(struct cwx__http_xfer *x, CURLcode cc, int cancel)
{
    struct cwx_http_response *r = &x->resp;
    struct cwx_http *http = x->http;
    long connects = 0;
    double total = 0;
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
    r->connects = connects;
    r->total_time_s = total;
    http->stats.connects += (uint64_t)connects;
    if (cancel) {
        r->error = CWX_ECANCELED;
        snprintf(r->error_msg, sizeof(r->error_msg), "transport closed");
    } else if (x->abort_error) {
        r->error = x->abort_error;
        r->curl_code = (int)cc;
        if (x->abort_error == CWX_ETOOBIG)
            snprintf(r->error_msg, sizeof(r->error_msg),
                     "response larger than %zu bytes", http->opts.max_response_bytes);
        else
            snprintf(r->error_msg, sizeof(r->error_msg), "aborted by the body sink: %s",
                     cwx_strerror(x->abort_error));
    } else if (cc != CURLE_OK) {
        r->error = s_map_curl_error(cc);
        r->curl_code = (int)cc;
        snprintf(r->error_msg, sizeof(r->error_msg), "%s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
    } else {
        long st = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
        r->status = st;
    }
    x->cb(r, x->ud);
    s_xfer_free(x);
}

/* Drains every finished transfer and runs its callback. */
void cwx__http_check_done(struct cwx_http *http)
{
    http->dispatch_depth++;
    CURLMsg *m;
    int left;
    while (!http->torn_down && (m = curl_multi_info_read(http->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode cc = m->data.result; /* copied before remove_handle */
        struct cwx__http_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(http->multi, easy);
        if (!x)
            continue;
        s_xfer_unlink(x);
        s_finish(x, cc, 0);
    }
    http->dispatch_depth--;
    if (http->dispatch_depth == 0 && http->freeing && !http->torn_down)
        s_teardown(http);
}

/* ---- public ------------------------------------------------------------- */

int cwx_http_new(uv_loop_t *loop, const struct cwx_http_options *opts, struct cwx_http **out)
{
    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return CWX_EHTTP;
    struct cwx_http *http = calloc(1, sizeof(*http));
    if (!http) {
        curl_global_cleanup();
        return CWX_ENOMEM;
    }
    http->loop = loop;
    if (opts)
        http->opts = *opts;
    if (http->opts.connect_timeout_ms <= 0)
        http->opts.connect_timeout_ms = 3100;
    if (http->opts.total_timeout_ms <= 0)
        http->opts.total_timeout_ms = 60000;
    if (!http->opts.max_response_bytes)
        http->opts.max_response_bytes = 64u << 20;
    if (http->opts.max_host_connections <= 0)
        http->opts.max_host_connections = 16;
    if (http->opts.ca_bundle && *http->opts.ca_bundle) {
        http->ca_bundle = strdup(http->opts.ca_bundle);
        if (!http->ca_bundle)
            goto nomem;
    }
    http->opts.ca_bundle = http->ca_bundle;
    if (http->opts.insecure)
        CWX_LOGW("http: TLS certificate verification is OFF (insecure); "
                 "use only against a test endpoint");

    http->multi = curl_multi_init();
    http->share = curl_share_init();
    if (!http->multi || !http->share)
        goto nomem;
    curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    CURLMcode mc = cwx__http_watch(http);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(http->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                               http->opts.max_host_connections);
    /* Keep as many idle connections as we may open to a few hosts. */
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(http->multi, CURLMOPT_MAXCONNECTS,
                               http->opts.max_host_connections * 4);
    if (mc != CURLM_OK) {
        CWX_LOGE("http: curl_multi_setopt: %s", curl_multi_strerror(mc));
        curl_multi_cleanup(http->multi);
        curl_share_cleanup(http->share);
        free(http->ca_bundle);
        free(http);
        curl_global_cleanup();
        return CWX_EHTTP;
    }
    uv_timer_init(loop, &http->timer);
    http->timer.data = http;
    *out = http;
    return 0;
nomem:
    if (http->multi)
        curl_multi_cleanup(http->multi);
    if (http->share)
        curl_share_cleanup(http->share);
    free(http->ca_bundle);
    free(http);
    curl_global_cleanup();
    return CWX_ENOMEM;
}

static CURL *s_easy_get(struct cwx_http *http)
{
    if (http->n_pool)
        return http->pool[--http->n_pool];
    CURL *e = curl_easy_init();
    if (e)
        curl_easy_setopt(e, CURLOPT_SHARE, http->share);
    return e;
}

static int s_has_header(const struct cwx_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    return 0;
}

/* Appends "Name: value" to *sl ("Name;" sends an empty value: "Name:"
 * would remove the header). */
static int s_header_line(struct curl_slist **sl, const struct cwx_http_header *h)
{
    char line[8192];
    int n = snprintf(line, sizeof(line), "%s: %s", h->name, h->value ? h->value : "");
    int rc = n < 0 || (size_t)n >= sizeof(line) ? CWX_EINVAL : 0;
    if (!rc && (!h->value || !*h->value))
        snprintf(line, sizeof(line), "%s;", h->name);
    struct curl_slist *nl = rc ? NULL : curl_slist_append(*sl, line);
    if (!rc && !nl)
        rc = CWX_ENOMEM;
    if (nl)
        *sl = nl;
    OPENSSL_cleanse(line, sizeof(line)); /* held a header line: maybe the token */
    return rc;
}

/* Headers: ours as given; curl's defaults that would change what was
 * signed (Expect, Content-Type) are turned off. */
static int s_header_list(const struct cwx_http_request *req, struct curl_slist **out)
{
    static const struct cwx_http_header off[] = {{"Expect", NULL}, {"Content-Type", NULL}};
    struct curl_slist *sl = NULL;
    int rc = 0;
    for (size_t i = 0; i < req->n_headers && !rc; i++)
        rc = s_header_line(&sl, &req->headers[i]);
    for (size_t i = 0; i < 2 && !rc; i++) {
        if (s_has_header(req, off[i].name))
            continue;
        char line[32];
        snprintf(line, sizeof(line), "%s:", off[i].name);
        struct curl_slist *nl = curl_slist_append(sl, line);
        rc = nl ? 0 : CWX_ENOMEM;
        sl = nl ? nl : sl;
    }
    *out = sl;
    return rc;
}

#define S_SET(opt, val)                                                       \
    do {                                                                      \
        if (cc == CURLE_OK)                                                   \
            cc = curl_easy_setopt(e, opt, val);                               \
    } while (0)

/* The method and, for methods that have one, the body (sent from the
 * caller's memory, borrowed until the callback). */
static CURLcode s_set_method(CURL *e, const struct cwx_http_request *req)
{
    CURLcode cc = CURLE_OK;
    const char *m = req->method;
    if (strcmp(m, "HEAD") == 0) {
        S_SET(CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") == 0 && !req->body_len) {
        S_SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || req->body_len) {
        S_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        S_SET(CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
        if (strcmp(m, "POST") != 0)
            S_SET(CURLOPT_CUSTOMREQUEST, m);
    } else {
        S_SET(CURLOPT_CUSTOMREQUEST, m);
    }
    return cc;
}

/* TLS: verification on unless the options turn it off. */
static CURLcode s_set_tls(CURL *e, const struct cwx_http *http)
{
    CURLcode cc = CURLE_OK;
    if (http->opts.insecure) {
        S_SET(CURLOPT_SSL_VERIFYPEER, 0L);
        S_SET(CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        S_SET(CURLOPT_SSL_VERIFYPEER, 1L);
        S_SET(CURLOPT_SSL_VERIFYHOST, 2L);
        if (http->ca_bundle)
            S_SET(CURLOPT_CAINFO, http->ca_bundle);
    }
    return cc;
}

static CURLcode s_set_options(struct cwx__http_xfer *x)
{
    struct cwx_http *http = x->http;
    const struct cwx_http_request *req = x->req;
    CURL *e = x->easy;
    CURLcode cc = CURLE_OK;
    S_SET(CURLOPT_URL, req->url);
    S_SET(CURLOPT_PRIVATE, (void *)x);
    S_SET(CURLOPT_NOSIGNAL, 1L);
    S_SET(CURLOPT_HTTPHEADER, x->headers);
    S_SET(CURLOPT_HEADERFUNCTION, s_header_cb);
    S_SET(CURLOPT_HEADERDATA, (void *)x);
    S_SET(CURLOPT_WRITEFUNCTION, s_write_cb);
    S_SET(CURLOPT_WRITEDATA, (void *)x);
    S_SET(CURLOPT_ERRORBUFFER, x->errbuf);
    S_SET(CURLOPT_CONNECTTIMEOUT_MS, http->opts.connect_timeout_ms);
    S_SET(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : http->opts.total_timeout_ms);
    S_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    S_SET(CURLOPT_TCP_NODELAY, 1L);
    S_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    /* HTTP/1.1 as the SDKs speak it: one request per connection at a time,
     * so MAX_HOST_CONNECTIONS bounds concurrency the same on every host
     * (curl would otherwise negotiate h2 where a server offers it). */
    S_SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    S_SET(CURLOPT_FOLLOWLOCATION, 0L);
    S_SET(CURLOPT_ACCEPT_ENCODING, NULL);
    /* A HEAD's Content-Length is the object's size, not an answer to read:
     * only answers with a body are capped. */
    if (http->opts.max_response_bytes && strcmp(req->method, "HEAD") != 0)
        S_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)http->opts.max_response_bytes);
    if (cc == CURLE_OK)
        cc = s_set_tls(e, http);
    /* Proxies: libcurl reads http_proxy, https_proxy and no_proxy itself. */
    if (cc == CURLE_OK)
        cc = s_set_method(e, req);
    return cc;
}

#undef S_SET

/* Gives back what a transfer that never started holds. */
static void s_xfer_discard(struct cwx__http_xfer *x)
{
    struct cwx_http *http = x->http;
    if (x->easy) {
        curl_easy_reset(x->easy);
        if (http->n_pool < CWX__HTTP_POOL_MAX)
            http->pool[http->n_pool++] = x->easy;
        else
            curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    s_slist_free_wiped(x->headers);
    cwx_buf_free(&x->resp.body);
    free(x);
}

/* Hands the configured transfer to curl's multi handle. */
static int s_xfer_start(struct cwx__http_xfer *x)
{
    struct cwx_http *http = x->http;
    CURLcode cc = s_set_options(x);
    if (cc != CURLE_OK) {
        CWX_LOGE("http: curl_easy_setopt: %s", curl_easy_strerror(cc));
        return cc == CURLE_OUT_OF_MEMORY ? CWX_ENOMEM : CWX_EINVAL;
    }
    /* add_handle only arms curl's timer: the transfer starts from the loop,
     * so cb can never run inside this call. */
    CURLMcode mc = curl_multi_add_handle(http->multi, x->easy);
    if (mc != CURLM_OK) {
        CWX_LOGE("http: curl_multi_add_handle: %s", curl_multi_strerror(mc));
        return mc == CURLM_OUT_OF_MEMORY ? CWX_ENOMEM : CWX_EHTTP;
    }
    CWX_LIST_PUSH(http->xfers, x, prev, next);
    http->stats.requests++;
    return 0;
}

int cwx_http_send(struct cwx_http *http, const struct cwx_http_request *req,
                  cwx_http_done_fn *cb, void *ud)
{
    if (!http || !req || !req->url || !req->method || !cb)
        return CWX_EINVAL;
    if (http->freeing)
        return CWX_ECANCELED;
    struct cwx__http_xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return CWX_ENOMEM;
    *x = (struct cwx__http_xfer){
        .http = http, .req = req, .cb = cb, .ud = ud, .resp.content_length = -1};
    /* Answers may carry credentials (AssumeRole, container and instance
     * credentials): the body is wiped when it moves or goes. */
    cwx_buf_init_secret(&x->resp.body, http->opts.max_response_bytes);
    x->easy = s_easy_get(http);
    int rc = x->easy ? s_header_list(req, &x->headers) : CWX_ENOMEM;
    if (!rc)
        rc = s_xfer_start(x);
    if (rc)
        s_xfer_discard(x);
    return rc;
}

static void s_http_close_cb(uv_handle_t *h)
{
    struct cwx_http *http = h->data;
    free(http->ca_bundle);
    free(http);
}

/* Shutdown in the order of docs/contributing.md §libcurl-multi-on-libuv: cancel the transfers, curl_multi_cleanup
 * (which fires the socket removes), close what is left, close the timer. */
static void s_teardown(struct cwx_http *http)
{
    http->dispatch_depth++; /* a cancelled callback may call cwx_http_free again */
    while (http->xfers) {
        struct cwx__http_xfer *x = http->xfers;
        s_xfer_unlink(x);
        curl_multi_remove_handle(http->multi, x->easy);
        s_finish(x, CURLE_OK, 1);
    }
    http->dispatch_depth--;
    http->torn_down = 1;
    curl_multi_cleanup(http->multi);
    http->multi = NULL;
    /* Sockets curl did not remove (it should have): close them now. */
    while (http->socks)
        cwx__http_sock_release(http->socks);
    while (http->n_pool)
        curl_easy_cleanup(http->pool[--http->n_pool]);
    curl_share_cleanup(http->share);
    http->share = NULL;
    uv_timer_stop(&http->timer);
    uv_close((uv_handle_t *)&http->timer, s_http_close_cb);
    curl_global_cleanup();
}

void cwx_http_free(struct cwx_http *http)
{
    if (!http || http->freeing)
        return;
    http->freeing = 1;
    if (http->dispatch_depth == 0)
        s_teardown(http);
    /* else: the outermost dispatch tears down once the callbacks return. */
}

void cwx_http_get_stats(const struct cwx_http *http, struct cwx_http_stats *out)
{
    *out = http->stats;
}

/* ---- URL hosts ------------------------------------------------------------ */

const char *cwx_http_url_host(const char *url, size_t *len)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return NULL;
    const char *h = sep + 3;
    size_t n = strcspn(h, "/?#");
    const char *at = memrchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);
        *len = close ? (size_t)(close - h) + 1 : n;
    } else {
        const char *colon = memchr(h, ':', n);
        *len = colon ? (size_t)(colon - h) : n;
    }
    return h;
}

int cwx_http_host_loopback(const char *host, size_t len)
{
    if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
        (len == 5 && memcmp(host, "[::1]", 5) == 0))
        return 1;
    if (len < 7 || len > 15 || strncmp(host, "127.", 4) != 0)
        return 0;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (host[i] == '.')
            dots++;
        else if (host[i] < '0' || host[i] > '9')
            return 0;
    }
    return dots == 3;
}
