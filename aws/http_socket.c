/* The sockets and the timer of the HTTP transport: curl says what to watch
 * (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION), a uv_poll_t per socket
 * and one uv_timer watch it, and their callbacks hand the events back to
 * curl_multi_socket_action (docs/contributing.md §libcurl-multi-on-libuv). */
#include "aws/http_internal.h"

#include <stdlib.h>

#include "common/list.h"
#include "common/log.h"

static void s_sock_close_cb(uv_handle_t *h)
{
    free(h->data);
}

static void s_sock_unlink(struct cwx__http_sock *s)
{
    struct cwx_http *http = s->http;
    if (!http)
        return;
    CWX_LIST_UNLINK(http->socks, s, prev, next);
    s->http = NULL;
}

void cwx__http_sock_release(struct cwx__http_sock *s)
{
    s_sock_unlink(s);
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, s_sock_close_cb);
}

static void s_poll_cb(uv_poll_t *p, int status, int events)
{
    struct cwx__http_sock *s = p->data;
    struct cwx_http *http = s->http;
    if (!http || http->torn_down)
        return;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(http->multi, s->fd, flags, &running);
    if (mc != CURLM_OK)
        CWX_LOGE("http: curl_multi_socket_action: %s", curl_multi_strerror(mc));
    cwx__http_check_done(http);
}

/* CURLMOPT_SOCKETFUNCTION. Touches only uv handles and curl_multi_assign. */
static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct cwx_http *http = userp;
    struct cwx__http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            cwx__http_sock_release(s);
            curl_multi_assign(http->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1;
        if (uv_poll_init_socket(http->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->http = http;
        s->poll.data = s;
        CWX_LIST_PUSH(http->socks, s, prev, next);
        curl_multi_assign(http->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    if (uv_poll_start(&s->poll, events, s_poll_cb) != 0)
        return -1;
    return 0;
}

static void s_timer_cb(uv_timer_t *t)
{
    struct cwx_http *http = t->data;
    if (http->torn_down)
        return;
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK)
        CWX_LOGE("http: curl_multi_socket_action: %s", curl_multi_strerror(mc));
    cwx__http_check_done(http);
}

/* CURLMOPT_TIMERFUNCTION. */
static int s_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct cwx_http *http = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&http->timer);
    else
        uv_timer_start(&http->timer, s_timer_cb, timeout_ms == 0 ? 1 : (uint64_t)timeout_ms, 0);
    return 0;
}

CURLMcode cwx__http_watch(struct cwx_http *http)
{
    CURLMcode mc = curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, s_timer_fn);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    return mc;
}
