/* The HTTP transport's private state, shared by http.c (transfers, the
 * transport's life) and http_socket.c (the sockets and the timer curl asks
 * us to watch). Only these two files include it. */
#ifndef CWX_AWS_HTTP_INTERNAL_H
#define CWX_AWS_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <uv.h>

#include "aws/http.h"

/* How many idle easy handles the transport keeps for reuse. */
#define CWX__HTTP_POOL_MAX 32

struct cwx__http_xfer; /* one transfer in flight, private to http.c */

/* One socket curl asked us to watch. Freed in its close callback. */
struct cwx__http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct cwx_http *http; /* NULL once the transport has let go of it */
    struct cwx__http_sock *prev, *next; /* the transport's list of live sockets */
};

/* The transport: one multi, its share, its timer, the pool of idle easy
 * handles and the transfers and sockets in flight. */
struct cwx_http {
    uv_loop_t *loop;
    CURLM *multi;
    CURLSH *share;
    uv_timer_t timer;
    struct cwx_http_options opts;
    char *ca_bundle;
    CURL *pool[CWX__HTTP_POOL_MAX];
    int n_pool;
    struct cwx__http_xfer *xfers; /* transfers in flight */
    struct cwx__http_sock *socks; /* sockets being watched */
    int dispatch_depth;   /* > 0 while user callbacks may run */
    int freeing;          /* cwx_http_free was called */
    int torn_down;
    struct cwx_http_stats stats;
};

/* Sets the multi's socket and timer callbacks (CURLMOPT_SOCKETFUNCTION,
 * CURLMOPT_TIMERFUNCTION and their data) to those of http_socket.c. The
 * timer itself is initialized by the caller. Returns the first failure. */
CURLMcode cwx__http_watch(struct cwx_http *http);

/* Stops watching s, unlinks it from its transport and closes its poll
 * handle; s is freed in the close callback. */
void cwx__http_sock_release(struct cwx__http_sock *s);

/* Drains every finished transfer and runs its callback (http.c). */
void cwx__http_check_done(struct cwx_http *http);

#endif
