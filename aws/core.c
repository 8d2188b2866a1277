/* The AWS layer's context, endpoints, error parsing and the signed, retried,
 * rate-limited call (aws/core.h).
 *
 * One logical call (struct s_call) goes through these steps, each one
 * asynchronous and each ending in a callback from the loop:
 *
 *   queued ──(rate limiter token)──▶ credentials ──▶ HTTP ──▶ classify
 *     ▲                                                        │
 *     └──── backoff timer (transient, throttle) ◀──────────────┤
 *     └──── at once (expired credentials, clock skew: once) ◀──┤
 *                                                              ▼
 *                                                      the user's callback
 *
 * The rate limiter is a token bucket per client, refilled from uv_now();
 * calls wait in a FIFO and a uv_timer wakes the queue when the next token
 * is due. A retried call goes back to the head of the queue: it has waited
 * already. Every attempt takes a token, as every attempt counts against
 * AWS's quotas.
 *
 * Lifetimes: a call holds a reference on its client and on the context;
 * each embeds a uv_timer_t, so each is freed in its close callback once
 * the last reference is gone. The user's callback runs exactly once per
 * accepted call and never inside cwx_aws_call (a failure detected while
 * the call is still being started is deferred through the call's timer). */
#include "aws/core.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stddef.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/core_internal.h"
#include "aws/credentials.h"
#include "aws/retry.h"
#include "aws/settings.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"

#define S_N_SERVICES 6

struct cwx_aws {
    uv_loop_t *loop;
    struct cwx_http *http;
    struct cwx_aws_settings settings;    /* the shared config's: endpoints, retry mode, … */
    int64_t (*now_ms)(void *ud);
    void *now_ud;
    double (*random)(void *ud);
    void *random_ud;
    cwx_aws_retry_fn *on_retry;
    void *retry_ud;
    struct cwx_retry_quota quota;
    int max_attempts; /* of one call, the first included */
    enum cwx_retry_mode retry_mode;
    int64_t skew_ms; /* server clock − our clock, last measured */
    struct cwx_aws_stats stats;
    int refs;        /* the owner's, plus one per live call */
    int freeing;
    struct s_call *calls; /* every live call, for cancellation */
};

struct s_call;

struct cwx_aws_client {
    struct cwx_aws *aws;
    struct cwx_creds_provider *creds;
    char region[64];
    double rate;  /* tokens per second; 0 = unlimited */
    double burst; /* bucket size */
    double tokens;
    uint64_t refill_ms; /* uv_now() of the last refill */
    struct s_call *q_head, *q_tail; /* waiting for a token, FIFO */
    uv_timer_t timer;
    int timer_armed;
    int refs; /* the owner's, plus one per live call */
    int freeing;
    struct cwx_aws_client_stats stats;
    struct cwx_retry_adaptive adaptive; /* retry_mode adaptive: the send-rate limiter */
    /* S3 calls send it as x-amz-expected-bucket-owner; "" = none. */
    char expected_owner[16];
};

enum s_state {
    S_QUEUED = 1,
    S_CREDS,
    S_HTTP,
    S_BACKOFF,
    S_DEFERRED, /* completion waits for the loop (failure during start) */
    S_DONE,
};

struct s_call {
    struct cwx_aws_client *client;
    struct cwx_aws_request req; /* the caller's, borrowed */
    cwx_aws_done_fn *cb;
    void *ud;
    enum s_state state;
    int starting;    /* inside cwx_aws_call: completions must be deferred */
    int canceled;
    int attempts;    /* HTTP attempts made */
    int normal;      /* attempts counted against aws->max_attempts */
    int creds_retried;
    int skew_retried;
    int quota_taken; /* what the latest retry took from the quota */
    int deferred_status;
    struct cwx_buf url;   /* the full URL */
    struct cwx_buf path;  /* the path as signed */
    char *query;          /* the query as signed, or NULL (points into url) */
    char host[300];
    char owner[16];      /* x-amz-expected-bucket-owner sent by the last attempt, or "" */
    struct cwx_http_header *hdrs;     /* what goes on the wire */
    struct cwx_sigv4_header *sighdrs; /* what is signed */
    size_t n_hdrs;
    struct cwx_sigv4_signed sig;
    int have_sig;
    struct cwx_http_request hreq;
    struct cwx_aws_error err;
    uv_timer_t timer; /* backoff, deferred completion */
    struct s_call *q_next, *q_prev;     /* client queue */
    struct s_call *all_next, *all_prev; /* aws->calls */
};

/* host: the first labels of the default host name. "sso" (the IAM Identity
 * Center portal, GetRoleCredentials) and "sso-oidc" (CreateToken) take a
 * bearer token, not SigV4; they are here for their endpoints only. */
static const struct {
    const char *service;
    const char *env;
    const char *host;
} s_services[S_N_SERVICES] = {
    {"logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "logs"},
    {"s3", "AWS_ENDPOINT_URL_S3", "s3"},
    {"sns", "AWS_ENDPOINT_URL_SNS", "sns"},
    {"sts", "AWS_ENDPOINT_URL_STS", "sts"},
    {"sso", "AWS_ENDPOINT_URL_SSO", "portal.sso"},
    {"sso-oidc", "AWS_ENDPOINT_URL_SSO_OIDC", "oidc"},
};

static int s_service_index(const char *service)
{
    for (int i = 0; i < S_N_SERVICES; i++)
        if (service && strcmp(service, s_services[i].service) == 0)
            return i;
    return -1;
}

/* ---- endpoints (pure) ----------------------------------------------------- */

const struct cwx_aws_settings *cwx_aws_get_settings(const struct cwx_aws *aws)
{
    return &aws->settings;
}

const char *cwx__aws_endpoint_env(const char *service)
{
    int i = s_service_index(service);
    return i < 0 ? NULL : s_services[i].env;
}

const char *cwx__aws_dns_suffix(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "amazonaws.com.cn";
    if (strncmp(region, "us-isob-", 8) == 0)
        return "sc2s.sgov.gov";
    if (strncmp(region, "us-iso-", 7) == 0)
        return "c2s.ic.gov";
    return "amazonaws.com";
}

int cwx__aws_region_ok(const char *region)
{
    if (!region || !*region)
        return 0;
    size_t n = 0;
    for (const char *p = region; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return n <= 63 && region[0] != '-';
}

int cwx__aws_default_endpoint(const char *service, const char *region, struct cwx_buf *url)
{
    int i = s_service_index(service);
    if (i < 0 || !cwx__aws_region_ok(region))
        return CWX_EINVAL;
    /* STS: the regional endpoint, never the legacy global sts.amazonaws.com
     * (regional is what the SDKs now default to, and what works in opt-in
     * regions). */
    return cwx_buf_printf(url, "https://%s.%s.%s", s_services[i].host, region,
                          cwx__aws_dns_suffix(region));
}

int cwx__aws_bucket_virtual_ok(const char *bucket)
{
    size_t n = bucket ? strlen(bucket) : 0;
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = bucket[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return bucket[0] != '-' && bucket[n - 1] != '-';
}

/* Appends s percent-encoded as a path segment (for a bucket name). */
static int s_encode_segment(struct cwx_buf *b, const char *s)
{
    return cwx_uri_encode(b, s, strlen(s), 1);
}

int cwx__aws_request_url(const char *base, int base_path_style, const char *bucket,
                         const char *req_path, const char *query, struct cwx_buf *url,
                         struct cwx_buf *path)
{
    const char *p = req_path && *req_path ? req_path : "/";
    if (p[0] != '/')
        return CWX_EINVAL;
    int rc = 0;
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    /* The base may carry a path of its own (a custom endpoint behind a
     * prefix): it is part of what is signed. */
    const char *scheme_end = strstr(base, "://");
    const char *base_path = scheme_end ? memchr(scheme_end + 3, '/', blen - (size_t)(scheme_end + 3 - base)) : NULL;
    size_t host_part = base_path ? (size_t)(base_path - base) : blen;
    size_t bp_len = base_path ? blen - host_part : 0;

    if (bucket && *bucket && !base_path_style && cwx__aws_bucket_virtual_ok(bucket) && scheme_end) {
        /* https://bucket.s3.region.amazonaws.com/key */
        size_t scheme_len = (size_t)(scheme_end + 3 - base);
        if (!rc)
            rc = cwx_buf_append(url, base, scheme_len);
        if (!rc)
            rc = cwx_buf_printf(url, "%s.", bucket);
        if (!rc)
            rc = cwx_buf_append(url, base + scheme_len, host_part - scheme_len);
        if (!rc && bp_len)
            rc = cwx_buf_append(path, base_path, bp_len);
        if (!rc)
            rc = cwx_buf_puts(path, p);
    } else {
        if (!rc)
            rc = cwx_buf_append(url, base, host_part);
        if (!rc && bp_len)
            rc = cwx_buf_append(path, base_path, bp_len);
        if (bucket && *bucket) {
            if (!rc)
                rc = cwx_buf_putc(path, '/');
            if (!rc)
                rc = s_encode_segment(path, bucket);
            /* "/bucket" for the bucket itself, "/bucket/key" for a key. */
            if (!rc && strcmp(p, "/") != 0)
                rc = cwx_buf_puts(path, p);
        } else if (!rc)
            rc = cwx_buf_puts(path, p);
    }
    if (!rc)
        rc = cwx_buf_append(url, path->ptr, path->len);
    if (!rc && query && *query) {
        rc = cwx_buf_putc(url, '?');
        if (!rc)
            rc = cwx_buf_puts(url, query);
    }
    return rc;
}

/* ---- the HTTP Date header (pure) ---------------------------------------- */

static int s_num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int cwx__aws_parse_http_date(const char *s, int64_t *out_ms)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (!s || strlen(s) < 29)
        return CWX_EPARSE;
    const char *p = strchr(s, ',');
    if (!p || p - s != 3 || p[1] != ' ')
        return CWX_EPARSE;
    p += 2;
    int day, year, hh, mm, ss, mon = -1;
    if (s_num(p, 2, &day) || p[2] != ' ')
        return CWX_EPARSE;
    for (int i = 0; i < 12; i++)
        if (strncmp(p + 3, months + 3 * i, 3) == 0)
            mon = i;
    if (mon < 0 || p[6] != ' ' || s_num(p + 7, 4, &year) || p[11] != ' ' ||
        s_num(p + 12, 2, &hh) || p[14] != ':' || s_num(p + 15, 2, &mm) || p[17] != ':' ||
        s_num(p + 18, 2, &ss) || strncmp(p + 20, " GMT", 4) != 0)
        return CWX_EPARSE;
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970)
        return CWX_EPARSE;
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon, .tm_mday = day,
                    .tm_hour = hh, .tm_min = mm, .tm_sec = ss};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return CWX_EPARSE;
    *out_ms = (int64_t)t * 1000;
    return 0;
}

/* ---- error parsing (pure) ------------------------------------------------- */

static void s_set(char *dst, size_t size, const char *src, size_t len)
{
    if (!size)
        return;
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    /* Keep it one printable line: it goes into logs, and a line break from
     * an answer's body could forge a log line. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
            dst[i] = ' ';
}

static void s_set_code(struct cwx_aws_error *err, const char *code, size_t len)
{
    /* "com.amazonaws.logs#ThrottlingException" → "ThrottlingException";
     * the x-amzn-ErrorType style "Code:http://…" keeps what precedes ':'. */
    const char *hash = memchr(code, '#', len);
    if (hash) {
        len -= (size_t)(hash + 1 - code);
        code = hash + 1;
    }
    const char *colon = memchr(code, ':', len);
    if (colon)
        len = (size_t)(colon - code);
    while (len && isspace((unsigned char)code[len - 1]))
        len--;
    while (len && isspace((unsigned char)*code)) {
        code++;
        len--;
    }
    s_set(err->code, sizeof(err->code), code, len);
}

static void s_parse_json_error(const char *body, size_t len, struct cwx_aws_error *err)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j)
        return;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
    if (!cJSON_IsString(t))
        t = cJSON_GetObjectItemCaseSensitive(j, "code");
    if (cJSON_IsString(t) && t->valuestring[0])
        s_set_code(err, t->valuestring, strlen(t->valuestring));
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (!cJSON_IsString(m))
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    if (cJSON_IsString(m))
        s_set(err->message, sizeof(err->message), m->valuestring, strlen(m->valuestring));
    cJSON_Delete(j);
}

/* The XML error shapes of S3 (<Error> at the root) and of the Query
 * protocol (<ErrorResponse><Error>…</Error><RequestId>). */
struct s_xml_err {
    XML_Parser parser;
    int depth;
    int in_error;    /* depth of the <Error> element, 0 = outside */
    int field;       /* 1 Code, 2 Message, 3 RequestId */
    struct cwx_buf text;
    struct cwx_aws_error *err;
    int have_code, have_message, have_request_id;
};

static const char *s_local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void XMLCALL s_xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct s_xml_err *x = ud;
    x->depth++;
    const char *n = s_local(name);
    x->field = 0;
    if (strcmp(n, "Error") == 0 && !x->in_error && x->depth <= 2) {
        x->in_error = x->depth;
        return;
    }
    if (x->in_error && x->depth == x->in_error + 1) {
        if (strcmp(n, "Code") == 0)
            x->field = 1;
        else if (strcmp(n, "Message") == 0)
            x->field = 2;
        else if (strcmp(n, "RequestId") == 0)
            x->field = 3;
    } else if (!x->in_error && x->depth == 2 && strcmp(n, "RequestId") == 0) {
        x->field = 3; /* <ErrorResponse><RequestId> */
    }
    cwx_buf_reset(&x->text);
}

static void XMLCALL s_xml_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct s_xml_err *x = ud;
    struct cwx_aws_error *e = x->err;
    const char *t = x->text.ptr ? x->text.ptr : "";
    if (x->field == 1 && !x->have_code) {
        s_set_code(e, t, x->text.len);
        x->have_code = 1;
    } else if (x->field == 2 && !x->have_message) {
        s_set(e->message, sizeof(e->message), t, x->text.len);
        x->have_message = 1;
    } else if (x->field == 3 && !x->have_request_id && x->text.len) {
        s_set(e->request_id, sizeof(e->request_id), t, x->text.len);
        x->have_request_id = 1;
    }
    x->field = 0;
    cwx_buf_reset(&x->text);
    if (x->in_error == x->depth)
        x->in_error = 0;
    x->depth--;
}

static void XMLCALL s_xml_text(void *ud, const XML_Char *s, int len)
{
    struct s_xml_err *x = ud;
    if (x->field && len > 0 && cwx_buf_append(&x->text, s, (size_t)len) != 0)
        x->field = 0; /* too long: drop it, keep parsing */
}

/* No DOCTYPE, no entity declarations: an error body has no use for them. */
static void XMLCALL s_xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                  const XML_Char *pubid, int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    struct s_xml_err *x = ud;
    XML_StopParser(x->parser, XML_FALSE);
}

static void s_parse_xml_error(const char *body, size_t len, struct cwx_aws_error *err)
{
    struct s_xml_err x = {.err = err};
    cwx_buf_init(&x.text, 4096);
    x.parser = XML_ParserCreate(NULL);
    if (!x.parser)
        return;
    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, s_xml_start, s_xml_end);
    XML_SetCharacterDataHandler(x.parser, s_xml_text);
    XML_SetStartDoctypeDeclHandler(x.parser, s_xml_doctype);
    /* A body that does not parse to the end still gave what it had. */
    (void)XML_Parse(x.parser, body, len > (size_t)INT32_MAX ? INT32_MAX : (int)len, XML_TRUE);
    XML_ParserFree(x.parser);
    cwx_buf_free(&x.text);
}

static const char *s_status_code(const char *method, const char *bucket, const char *path,
                                 long status)
{
    switch (status) {
    case 301:
        return "PermanentRedirect";
    case 307:
        return "TemporaryRedirect";
    case 304:
        return "NotModified";
    case 400:
        return "BadRequest";
    case 403:
        return "AccessDenied";
    case 404:
        if (method && strcmp(method, "HEAD") == 0)
            return "NotFound";
        if (bucket && *bucket && (!path || strcmp(path, "/") == 0))
            return "NoSuchBucket";
        return "NoSuchKey";
    case 405:
        return "MethodNotAllowed";
    case 409:
        return "Conflict";
    case 412:
        return "PreconditionFailed";
    case 429:
        return "TooManyRequestsException";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceUnavailable";
    default:
        return NULL;
    }
}

void cwx__aws_parse_error(enum cwx_aws_protocol protocol, const char *method,
                          const char *bucket, const char *path, long http_status,
                          const char *body, size_t len, struct cwx_aws_error *err)
{
    err->code[0] = '\0';
    err->message[0] = '\0';
    if (body && len) {
        /* Whatever the protocol says, a body that starts with '{' is JSON
         * and one that starts with '<' is XML (a proxy or a load balancer
         * may answer in its own dialect). */
        size_t i = 0;
        while (i < len && isspace((unsigned char)body[i]))
            i++;
        if (i < len && body[i] == '{')
            s_parse_json_error(body + i, len - i, err);
        else if (i < len && body[i] == '<')
            s_parse_xml_error(body + i, len - i, err);
        else if (protocol == CWX_PROTO_JSON)
            s_parse_json_error(body, len, err);
    }
    if (!err->code[0]) {
        const char *c = protocol == CWX_PROTO_REST_XML || !body || !len
                            ? s_status_code(method, bucket, path, http_status)
                            : NULL;
        if (!c && http_status >= 500)
            c = protocol == CWX_PROTO_REST_XML ? "InternalError" : "InternalFailure";
        if (c)
            snprintf(err->code, sizeof(err->code), "%s", c);
        if (!err->message[0]) {
            if (body && len)
                snprintf(err->message, sizeof(err->message),
                         "HTTP %ld with an error body that could not be read", http_status);
            else
                snprintf(err->message, sizeof(err->message), "HTTP %ld", http_status);
        }
    }
}

/* ---- the context ---------------------------------------------------------- */

int cwx__aws_endpoint_insecure(const char *url, const char **host, size_t *host_len)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    *host = cwx_http_url_host(url, host_len);
    return !cwx_http_host_loopback(*host, *host_len);
}

/* Refuses (or, when allowed, warns once per host about) endpoint overrides
 * that would send signed requests in clear to another machine. */
static int s_endpoint_policy(struct cwx_aws *aws, int allow)
{
    const char *warned[CWX_AWS_N_SERVICES];
    size_t warned_len[CWX_AWS_N_SERVICES];
    size_t n_warned = 0;
    for (int i = 0; i < CWX_AWS_N_SERVICES; i++) {
        const char *url = aws->settings.endpoint[i];
        const char *var = aws->settings.endpoint_origin[i];
        const char *host;
        size_t hl;
        if (!url || !cwx__aws_endpoint_insecure(url, &host, &hl))
            continue;
        if (!allow) {
            CWX_LOGE("%s: %.200s is plain http to %.*s, which is not this machine: the "
                     "session token and signed requests would travel in clear. Use https, "
                     "or accept the risk with --allow-insecure-endpoint (config: "
                     "allow_insecure_endpoint: true)",
                     var, url, (int)(hl > 200 ? 200 : hl), host);
            return CWX_EINSECURE;
        }
        int seen = 0;
        for (size_t k = 0; k < n_warned; k++)
            if (warned_len[k] == hl && strncasecmp(warned[k], host, hl) == 0)
                seen = 1;
        if (seen)
            continue;
        warned[n_warned] = host;
        warned_len[n_warned++] = hl;
        CWX_LOGW("plain http to %.*s (%s): the session token and signed requests travel "
                 "in clear, allowed by allow_insecure_endpoint",
                 (int)(hl > 200 ? 200 : hl), host, var);
    }
    return 0;
}

int cwx_aws_new(uv_loop_t *loop, const struct cwx_aws_options *opts, struct cwx_aws **out)
{
    *out = NULL;
    struct cwx_aws *aws = calloc(1, sizeof(*aws));
    if (!aws)
        return CWX_ENOMEM;
    aws->loop = loop;
    aws->refs = 1;
    if (opts) {
        aws->now_ms = opts->now_ms;
        aws->now_ud = opts->now_ud;
        aws->random = opts->random;
        aws->random_ud = opts->random_ud;
        aws->on_retry = opts->on_retry;
        aws->retry_ud = opts->retry_ud;
    }
    cwx_retry_quota_init(&aws->quota, opts && opts->retry_quota > 0 ? opts->retry_quota
                                                                     : CWX_RETRY_QUOTA_CAPACITY);
    /* The shared config's settings (environment over profile); a shared
     * file that cannot be read leaves the environment's. */
    char why[512];
    int rc = cwx_aws_settings_load(opts ? opts->profile : NULL, NULL, &aws->settings, why,
                                   sizeof(why));
    if (rc == CWX_ENOMEM) {
        free(aws);
        return rc;
    }
    if (rc)
        CWX_LOGW("aws: the shared config's settings are not read: %s", why);
    aws->retry_mode = aws->settings.retry_mode;
    aws->max_attempts = opts && opts->max_attempts > 0 ? opts->max_attempts
                                                        : aws->settings.max_attempts;
    struct cwx_http_options ho = {0};
    if (opts && opts->http)
        ho = *opts->http;
    if (!ho.ca_bundle && aws->settings.ca_bundle)
        ho.ca_bundle = aws->settings.ca_bundle;
    rc = s_endpoint_policy(aws, opts && opts->allow_insecure_http);
    if (rc) {
        cwx_aws_settings_free(&aws->settings);
        free(aws);
        return rc;
    }
    rc = cwx_http_new(loop, &ho, &aws->http);
    if (rc) {
        cwx_aws_settings_free(&aws->settings);
        free(aws);
        return rc;
    }
    *out = aws;
    return 0;
}

static void s_aws_unref(struct cwx_aws *aws)
{
    if (--aws->refs > 0)
        return;
    cwx_aws_settings_free(&aws->settings);
    free(aws);
}

static void s_call_cancel(struct s_call *call);

void cwx_aws_free(struct cwx_aws *aws)
{
    if (!aws || aws->freeing)
        return;
    aws->freeing = 1;
    /* Calls of clients that were not freed first: end them. */
    for (struct s_call *c = aws->calls, *next; c; c = next) {
        next = c->all_next;
        s_call_cancel(c);
    }
    /* Transfers in flight end with CWX_ECANCELED inside this. */
    cwx_http_free(aws->http);
    aws->http = NULL;
    s_aws_unref(aws);
}

uv_loop_t *cwx_aws_loop(const struct cwx_aws *aws)
{
    return aws->loop;
}

struct cwx_http *cwx_aws_http(const struct cwx_aws *aws)
{
    return aws->http;
}

int64_t cwx_aws_now_ms(const struct cwx_aws *aws)
{
    int64_t now = aws->now_ms ? aws->now_ms(aws->now_ud) : cwx_wall_ms();
    return now + aws->skew_ms;
}

void cwx_aws_get_stats(const struct cwx_aws *aws, struct cwx_aws_stats *out)
{
    *out = aws->stats;
    out->quota_available = aws->quota.available;
    out->skew_ms = aws->skew_ms;
}

int cwx_aws_endpoint(const struct cwx_aws *aws, const char *service, const char *region,
                     struct cwx_buf *url, int *path_style)
{
    int i = cwx_aws_settings_service(service);
    if (path_style)
        *path_style = 0;
    if (i < 0)
        return CWX_EINVAL;
    const char *o = aws->settings.endpoint[i];
    if (o) {
        /* A custom endpoint (LocalStack, MinIO, the fake, a VPC endpoint
         * given by URL) knows nothing of bucket host names: path-style. */
        if (path_style && strcmp(service, "s3") == 0)
            *path_style = 1;
        return cwx_buf_puts(url, o);
    }
    return cwx__aws_default_endpoint(service, region, url);
}

void cwx_aws_error_format(const struct cwx_aws_error *err, char *buf, size_t size)
{
    if (!size)
        return;
    const char *code = err->code[0] ? err->code : "Error";
    int n;
    if (err->http_status)
        n = snprintf(buf, size, "%s: %s (HTTP %ld", code,
                     err->message[0] ? err->message : "no message", err->http_status);
    else
        n = snprintf(buf, size, "%s: %s (no answer", code,
                     err->message[0] ? err->message : "no message");
    if (n < 0 || (size_t)n >= size)
        return;
    size_t used = (size_t)n;
    if (err->request_id[0])
        n = snprintf(buf + used, size - used, ", request id %s", err->request_id);
    else
        n = 0;
    if (n < 0 || (size_t)n >= size - used)
        return;
    used += (size_t)n;
    if (err->attempts > 1)
        n = snprintf(buf + used, size - used, ", %d attempts)", err->attempts);
    else
        n = snprintf(buf + used, size - used, ")");
    (void)n;
}

/* ---- clients and the rate limiter ----------------------------------------- */

static void s_client_close_cb(uv_handle_t *h)
{
    struct cwx_aws_client *c = h->data;
    struct cwx_aws *aws = c->aws;
    free(c);
    s_aws_unref(aws);
}

static void s_client_unref(struct cwx_aws_client *c)
{
    if (--c->refs > 0)
        return;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, s_client_close_cb);
}

int cwx_aws_client_new(struct cwx_aws *aws, const struct cwx_aws_client_options *opts,
                       struct cwx_aws_client **out)
{
    *out = NULL;
    if (!aws || !opts || !cwx__aws_region_ok(opts->region) || opts->rate_per_s < 0 ||
        opts->burst < 0 || aws->freeing)
        return CWX_EINVAL;
    struct cwx_aws_client *c = calloc(1, sizeof(*c));
    if (!c)
        return CWX_ENOMEM;
    c->aws = aws;
    c->creds = opts->creds;
    snprintf(c->region, sizeof(c->region), "%s", opts->region);
    c->rate = opts->rate_per_s;
    c->burst = opts->burst > 0 ? opts->burst : (c->rate > 1 ? c->rate : 1);
    c->tokens = c->burst;
    c->refill_ms = uv_now(aws->loop);
    c->refs = 1;
    cwx_retry_adaptive_init(&c->adaptive, (double)uv_now(aws->loop) / 1000.0);
    uv_timer_init(aws->loop, &c->timer);
    c->timer.data = c;
    aws->refs++;
    *out = c;
    return 0;
}

int cwx_aws_client_set_expected_bucket_owner(struct cwx_aws_client *c, const char *account_id)
{
    if (!account_id || !account_id[0]) {
        c->expected_owner[0] = '\0';
        return 0;
    }
    size_t n = strlen(account_id);
    if (n != 12 || strspn(account_id, "0123456789") != n)
        return CWX_EINVAL;
    memcpy(c->expected_owner, account_id, n + 1);
    return 0;
}

void cwx_aws_client_get_stats(const struct cwx_aws_client *c, struct cwx_aws_client_stats *out)
{
    *out = c->stats;
}

static void s_attempt(struct s_call *call);

static void s_queue_remove(struct cwx_aws_client *c, struct s_call *call)
{
    if (call->q_prev)
        call->q_prev->q_next = call->q_next;
    else
        c->q_head = call->q_next;
    if (call->q_next)
        call->q_next->q_prev = call->q_prev;
    else
        c->q_tail = call->q_prev;
    call->q_next = call->q_prev = NULL;
}

static void s_limiter_run(struct cwx_aws_client *c);

static void s_limiter_timer_cb(uv_timer_t *t)
{
    struct cwx_aws_client *c = t->data;
    c->timer_armed = 0;
    s_limiter_run(c);
}

/* Starts as many queued calls as there are tokens, in FIFO order, and arms
 * the timer for the next token when calls are left waiting. */
static void s_limiter_run(struct cwx_aws_client *c)
{
    uint64_t now = uv_now(c->aws->loop);
    if (c->rate > 0) {
        c->tokens += (double)(now - c->refill_ms) * c->rate / 1000.0;
        if (c->tokens > c->burst)
            c->tokens = c->burst;
    }
    c->refill_ms = now;
    c->refs++; /* a call's callback may free the client */
    uint64_t adaptive_wait_ms = 0;
    while (c->q_head && (c->rate <= 0 || c->tokens >= 1.0)) {
        if (c->aws->retry_mode == CWX_RETRY_MODE_ADAPTIVE) {
            double w = cwx_retry_adaptive_acquire(&c->adaptive, (double)now / 1000.0);
            if (w > 0) {
                adaptive_wait_ms = (uint64_t)(w * 1000.0) + 1;
                break;
            }
        }
        struct s_call *call = c->q_head;
        s_queue_remove(c, call);
        if (c->rate > 0)
            c->tokens -= 1.0;
        s_attempt(call);
    }
    if (c->q_head && !c->timer_armed && !c->freeing) {
        /* Rounded up, and never 0 ms (docs/contributing.md §libuv-timers). */
        uint64_t wait_ms = adaptive_wait_ms
                               ? adaptive_wait_ms
                               : (uint64_t)((1.0 - c->tokens) * 1000.0 / c->rate) + 1;
        c->timer_armed = 1;
        uv_timer_start(&c->timer, s_limiter_timer_cb, wait_ms, 0);
    }
    s_client_unref(c);
}

static void s_enqueue(struct s_call *call, int front)
{
    struct cwx_aws_client *c = call->client;
    call->state = S_QUEUED;
    if (front) {
        call->q_next = c->q_head;
        if (c->q_head)
            c->q_head->q_prev = call;
        else
            c->q_tail = call;
        c->q_head = call;
    } else {
        call->q_prev = c->q_tail;
        if (c->q_tail)
            c->q_tail->q_next = call;
        else
            c->q_head = call;
        c->q_tail = call;
    }
    /* When the timer is armed, the head is waiting for a token already:
     * joining the queue cannot make it due sooner. */
    if (!c->timer_armed)
        s_limiter_run(c);
}

void cwx_aws_client_free(struct cwx_aws_client *c)
{
    if (!c || c->freeing)
        return;
    c->freeing = 1;
    c->refs++;
    uv_timer_stop(&c->timer);
    c->timer_armed = 0;
    for (struct s_call *call = c->aws->calls, *next; call; call = next) {
        next = call->all_next;
        if (call->client == c)
            s_call_cancel(call);
    }
    s_client_unref(c); /* ours, above */
    s_client_unref(c); /* the owner's */
}

/* ---- calls ------------------------------------------------------------------ */

static void s_call_close_cb(uv_handle_t *h)
{
    struct s_call *call = h->data;
    struct cwx_aws_client *c = call->client;
    struct cwx_aws *aws = c->aws;
    cwx_buf_free(&call->url);
    cwx_buf_free(&call->path);
    free(call->hdrs);
    free(call->sighdrs);
    if (call->have_sig)
        cwx_sigv4_signed_free(&call->sig);
    free(call);
    /* The client's close is itself asynchronous and holds its own
     * reference on aws, so aws outlives this. */
    s_client_unref(c);
    s_aws_unref(aws);
}

static void s_call_release(struct s_call *call)
{
    struct cwx_aws *aws = call->client->aws;
    if (call->all_prev)
        call->all_prev->all_next = call->all_next;
    else
        aws->calls = call->all_next;
    if (call->all_next)
        call->all_next->all_prev = call->all_prev;
    call->all_next = call->all_prev = NULL;
    uv_timer_stop(&call->timer);
    uv_close((uv_handle_t *)&call->timer, s_call_close_cb);
}

/* Ends the call: counts, refunds the quota on success, runs the callback
 * once, releases the call. */
static void s_complete(struct s_call *call, int status, const struct cwx_http_response *resp);

static void s_deferred_cb(uv_timer_t *t)
{
    struct s_call *call = t->data;
    s_complete(call, call->deferred_status, NULL);
}

static void s_complete(struct s_call *call, int status, const struct cwx_http_response *resp)
{
    if (call->starting) {
        /* Never inside cwx_aws_call: finish from the loop. */
        call->state = S_DEFERRED;
        call->deferred_status = status;
        uv_timer_start(&call->timer, s_deferred_cb, 0, 0);
        return;
    }
    struct cwx_aws *aws = call->client->aws;
    call->state = S_DONE;
    call->err.attempts = call->attempts;
    if (status == 0)
        cwx_retry_quota_success(&aws->quota, call->quota_taken);
    call->cb(status, resp, &call->err, call->ud);
    s_call_release(call);
}

static void s_fail(struct s_call *call, int status, const char *msg)
{
    if (msg)
        snprintf(call->err.message, sizeof(call->err.message), "%s", msg);
    s_complete(call, status, NULL);
}

static void s_call_cancel(struct s_call *call)
{
    if (call->canceled || call->state == S_DONE)
        return;
    call->canceled = 1;
    switch (call->state) {
    case S_QUEUED:
        s_queue_remove(call->client, call);
        s_fail(call, CWX_ECANCELED, "canceled");
        break;
    case S_BACKOFF:
    case S_DEFERRED:
        uv_timer_stop(&call->timer);
        s_fail(call, call->state == S_DEFERRED ? call->deferred_status : CWX_ECANCELED,
               call->state == S_DEFERRED ? NULL : "canceled");
        break;
    default:
        /* S_CREDS, S_HTTP: the step ends with a callback; the call ends
         * there (the transport and the provider cancel theirs when freed). */
        break;
    }
}

static void s_on_http(const struct cwx_http_response *resp, void *ud);

/* Builds the headers, signs them when creds is not NULL, and sends. */
static void s_send(struct s_call *call, const struct cwx_credentials *creds)
{
    struct cwx_aws *aws = call->client->aws;
    const struct cwx_aws_request *r = &call->req;
    size_t n = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        call->hdrs[n] = r->headers[i];
        call->sighdrs[n] = (struct cwx_sigv4_header){r->headers[i].name, r->headers[i].value};
        n++;
    }
    call->hdrs[n] = (struct cwx_http_header){"Host", call->host};
    call->sighdrs[n] = (struct cwx_sigv4_header){"Host", call->host};
    n++;
    /* Every S3 call names the account that must own its bucket: S3 answers
     * 403 AccessDenied when another account owns it. */
    snprintf(call->owner, sizeof(call->owner), "%s",
             strcmp(r->service, "s3") == 0 ? call->client->expected_owner : "");
    if (call->owner[0]) {
        call->hdrs[n] = (struct cwx_http_header){"x-amz-expected-bucket-owner", call->owner};
        call->sighdrs[n] = (struct cwx_sigv4_header){"x-amz-expected-bucket-owner", call->owner};
        n++;
    }
    size_t n_signed = n;
    if (call->have_sig) {
        cwx_sigv4_signed_free(&call->sig);
        call->have_sig = 0;
    }
    if (creds) {
        int is_s3 = strcmp(r->service, "s3") == 0;
        struct cwx_sigv4_request sr = {
            .method = r->method,
            .path = call->path.ptr,
            .query = call->query,
            .headers = call->sighdrs,
            .n_headers = n_signed,
            .body = r->body,
            .body_len = r->body_len,
        };
        struct cwx_sigv4_params sp = {
            .access_key_id = creds->access_key_id,
            .secret_access_key = creds->secret_access_key,
            .session_token = creds->session_token,
            .region = call->client->region,
            .service = r->service,
            .time_s = cwx_aws_now_ms(aws) / 1000,
            .s3_rules = is_s3,
            .normalize_path = !is_s3,
            .sign_body = is_s3,
        };
        int rc = cwx_sigv4_sign_headers(&sr, &sp, &call->sig);
        if (rc) {
            s_fail(call, rc, "signing failed");
            return;
        }
        call->have_sig = 1;
        call->hdrs[n++] = (struct cwx_http_header){"X-Amz-Date", call->sig.amz_date};
        if (call->sig.content_sha256[0])
            call->hdrs[n++] =
                (struct cwx_http_header){"x-amz-content-sha256", call->sig.content_sha256};
        if (call->sig.security_token)
            call->hdrs[n++] =
                (struct cwx_http_header){"X-Amz-Security-Token", call->sig.security_token};
        call->hdrs[n++] = (struct cwx_http_header){"Authorization", call->sig.authorization};
    }
    call->hdrs[n++] = (struct cwx_http_header){"User-Agent", "cwexport/" CWX_VERSION};
    call->n_hdrs = n;
    call->hreq = (struct cwx_http_request){
        .method = r->method,
        .url = call->url.ptr,
        .headers = call->hdrs,
        .n_headers = n,
        .body = r->body,
        .body_len = r->body_len,
        .on_body = r->on_body,
        .on_body_ud = r->stream_ud,
    };
    if (r->on_attempt)
        r->on_attempt(r->stream_ud);
    call->state = S_HTTP;
    call->attempts++;
    call->client->stats.attempts++;
    aws->stats.attempts++;
    int rc = aws->http ? cwx_http_send(aws->http, &call->hreq, s_on_http, call) : CWX_ECANCELED;
    if (rc) {
        call->attempts--;
        s_fail(call, rc, cwx_strerror(rc));
    }
}

static void s_on_creds(int status, const struct cwx_credentials *creds, const char *detail,
                       void *ud)
{
    struct s_call *call = ud;
    if (call->canceled || call->client->aws->freeing) {
        s_fail(call, CWX_ECANCELED, "canceled");
        return;
    }
    if (status) {
        snprintf(call->err.message, sizeof(call->err.message), "credentials: %s",
                 detail ? detail : cwx_strerror(status));
        /* A refusal, or a refresh that met a transient failure (STS
         * throttled or down): the caller backs off and tries again. */
        s_complete(call, status == CWX_EDENIED || status == CWX_ENOMEM ||
                                 status == CWX_ECANCELED || status == CWX_ETLS ||
                                 cwx_err_transient(status)
                             ? status
                             : CWX_ECRED,
                   NULL);
        return;
    }
    s_send(call, creds);
}

/* One attempt: credentials, then sign and send. */
static void s_attempt(struct s_call *call)
{
    if (call->req.flags & CWX_AWS_UNSIGNED) {
        s_send(call, NULL);
        return;
    }
    if (!call->client->creds) {
        s_fail(call, CWX_ECRED, "no credentials provider for a signed request");
        return;
    }
    call->state = S_CREDS;
    int rc = cwx_creds_get(call->client->creds, s_on_creds, call);
    if (rc) {
        snprintf(call->err.message, sizeof(call->err.message), "credentials: %s",
                 cwx_strerror(rc));
        s_complete(call, rc == CWX_ENOMEM ? rc : CWX_ECRED, NULL);
    }
}

static void s_backoff_cb(uv_timer_t *t)
{
    struct s_call *call = t->data;
    s_enqueue(call, 1);
}

/* The status a call ends with after its last attempt. */
static int s_final_status(enum cwx_retry_class k, const struct cwx_http_response *resp)
{
    switch (k) {
    case CWX_RETRY_SUCCESS:
        return 0;
    case CWX_RETRY_SLOT_BUSY:
        return CWX_ESLOTBUSY;
    case CWX_RETRY_DENIED:
        return CWX_EDENIED;
    case CWX_RETRY_EXPIRED_CREDS:
        return CWX_ECRED;
    case CWX_RETRY_THROTTLE:
        return CWX_ETHROTTLED;
    case CWX_RETRY_TIMEOUT:
        return CWX_ETIMEDOUT;
    case CWX_RETRY_TRANSIENT:
        /* 5xx (or a transient code) on every attempt: worth trying again
         * later, unlike an error AWS gives for the request itself. */
        return resp->error ? resp->error : CWX_EUNAVAIL;
    case CWX_RETRY_CLOCK_SKEW:
    case CWX_RETRY_FATAL:
        break;
    }
    return resp->error ? resp->error : CWX_EAWS;
}

static void s_notify(struct s_call *call, enum cwx_retry_class k,
                     const struct cwx_http_response *resp, int64_t delay_ms)
{
    struct cwx_aws *aws = call->client->aws;
    CWX_LOGD("aws: %s attempt %d: %s (HTTP %ld%s%s)%s", call->req.service, call->attempts,
             cwx_retry_class_name(k), resp->status, call->err.code[0] ? ", " : "",
             call->err.code, delay_ms >= 0 ? ", retrying" : "");
    if (!aws->on_retry)
        return;
    struct cwx_aws_retry_info info = {
        .service = call->req.service,
        .attempt = call->attempts,
        .kind = cwx_retry_class_name(k),
        .http_status = resp->status,
        .transport_error = resp->error,
        .code = call->err.code,
        .delay_ms = delay_ms,
        .quota_available = aws->quota.available,
    };
    aws->on_retry(&info, aws->retry_ud);
}

static void s_body_request_id(const char *body, size_t len, struct cwx_aws_error *e)
{
    static const char open[] = "<RequestId>", close[] = "</RequestId>";
    const char *p = memmem(body, len, open, sizeof(open) - 1);
    if (!p)
        return;
    p += sizeof(open) - 1;
    const char *q = memmem(p, len - (size_t)(p - body), close, sizeof(close) - 1);
    if (q && q - p < (ptrdiff_t)sizeof(e->request_id))
        s_set(e->request_id, sizeof(e->request_id), p, (size_t)(q - p));
}

/* The code a failure without an AWS answer is reported with, named as the
 * SDKs name these failures. */
static const char *s_transport_code(int error)
{
    switch (error) {
    case CWX_EHTTP:
        return "ConnectionError";
    case CWX_ETIMEDOUT:
        return "Timeout";
    case CWX_ETLS:
        return "TLSVerificationFailed";
    case CWX_ETOOBIG:
        return "ResponseTooLarge";
    default:
        return "TransportError";
    }
}

static void s_on_http(const struct cwx_http_response *resp, void *ud)
{
    struct s_call *call = ud;
    struct cwx_aws_client *c = call->client;
    struct cwx_aws *aws = c->aws;
    struct cwx_aws_error *e = &call->err;
    if (call->canceled || aws->freeing || resp->error == CWX_ECANCELED) {
        memset(e, 0, sizeof(*e));
        s_fail(call, CWX_ECANCELED, "canceled");
        return;
    }

    /* What the answer says. */
    memset(e, 0, sizeof(*e));
    /* A transfer that failed after the status line (cut short, too big)
     * keeps its status; one that got no answer has 0. */
    e->http_status = resp->status;
    e->curl_code = resp->error ? resp->curl_code : 0;
    snprintf(e->request_id, sizeof(e->request_id), "%s", resp->request_id);
    if (resp->error) {
        snprintf(e->code, sizeof(e->code), "%s", s_transport_code(resp->error));
        snprintf(e->message, sizeof(e->message), "%s", resp->error_msg);
    } else if (resp->status < 200 || resp->status >= 300) {
        cwx__aws_parse_error(call->req.protocol, call->req.method, call->req.bucket,
                             call->req.path, resp->status, resp->body.ptr, resp->body.len, e);
        if (resp->status == 403 && call->owner[0]) {
            size_t l = strlen(e->message);
            snprintf(e->message + l, sizeof(e->message) - l,
                     "%sbucket %.63s: either it is not owned by the expected account %s "
                     "(expected_bucket_owner) or access is denied",
                     l ? "; " : "", call->req.bucket ? call->req.bucket : "?", call->owner);
        }
        if (resp->bucket_region[0] && strcmp(e->code, "PermanentRedirect") == 0) {
            size_t l = strlen(e->message);
            snprintf(e->message + l, sizeof(e->message) - l, "%sthe bucket is in %s",
                     l ? "; " : "", resp->bucket_region);
        }
    }

    /* The server's clock, when it gave one. */
    int64_t server_ms = 0, skew = -1;
    if (resp->date[0] && cwx__aws_parse_http_date(resp->date, &server_ms) == 0) {
        skew = server_ms - cwx_aws_now_ms(aws);
        if (skew < 0)
            skew = -skew;
    }
    struct cwx_retry_answer a = {
        .transport_error = resp->error,
        .http_status = resp->status,
        .code = e->code,
        .message = e->message,
        .skew_ms = skew,
        .slot_busy_call = (call->req.flags & CWX_AWS_SLOT_BUSY) != 0,
    };
    enum cwx_retry_class k = cwx_retry_classify(&a);
    if (aws->retry_mode == CWX_RETRY_MODE_ADAPTIVE)
        cwx_retry_adaptive_update(&c->adaptive, (double)uv_now(aws->loop) / 1000.0,
                                  k == CWX_RETRY_THROTTLE);
    /* S3 refuses a HEAD signed with an expired session token with a bare
     * 400: no body says why. One retry with fresh credentials tells that
     * case apart from a request that is wrong. */
    if (k == CWX_RETRY_FATAL && resp->status == 400 && !resp->body.len &&
        strcmp(call->req.method, "HEAD") == 0 && !call->creds_retried && c->creds &&
        !(call->req.flags & (CWX_AWS_UNSIGNED | CWX_AWS_NO_RETRY)))
        k = CWX_RETRY_EXPIRED_CREDS;
    if (k == CWX_RETRY_SUCCESS) {
        /* The Query protocol puts the request id in the body
         * (<ResponseMetadata><RequestId>) when no header carries it. */
        if (!e->request_id[0] && call->req.protocol == CWX_PROTO_QUERY && resp->body.len)
            s_body_request_id(resp->body.ptr, resp->body.len, e);
        s_complete(call, 0, resp);
        return;
    }
    if (k == CWX_RETRY_THROTTLE) {
        c->stats.throttles++;
        aws->stats.throttles++;
    }
    int no_retry = (call->req.flags & CWX_AWS_NO_RETRY) != 0 || c->freeing;

    /* One-shot repairs that do not count as attempts: fresh credentials,
     * a corrected clock. */
    if (k == CWX_RETRY_EXPIRED_CREDS && !call->creds_retried && !no_retry && c->creds) {
        call->creds_retried = 1;
        cwx_creds_invalidate(c->creds);
        aws->stats.creds_refreshes++;
        s_notify(call, k, resp, 0);
        c->stats.retries++;
        aws->stats.retries++;
        s_enqueue(call, 1);
        return;
    }
    if (k == CWX_RETRY_CLOCK_SKEW && !call->skew_retried && !no_retry) {
        call->skew_retried = 1;
        if (server_ms) {
            int64_t local = aws->now_ms ? aws->now_ms(aws->now_ud) : cwx_wall_ms();
            aws->skew_ms = server_ms - local;
            aws->stats.skew_corrections++;
            CWX_LOGW("aws: clock skew of %lld ms against %s: corrected",
                     (long long)aws->skew_ms, call->host);
        }
        s_notify(call, k, resp, 0);
        c->stats.retries++;
        aws->stats.retries++;
        s_enqueue(call, 1);
        return;
    }

    int retryable = k == CWX_RETRY_TRANSIENT || k == CWX_RETRY_TIMEOUT || k == CWX_RETRY_THROTTLE;
    if (retryable && !no_retry && call->normal < aws->max_attempts) {
        /* Legacy mode has no retry quota. */
        int taken = aws->retry_mode == CWX_RETRY_MODE_LEGACY
                        ? -1
                        : cwx_retry_quota_acquire(&aws->quota, k == CWX_RETRY_TIMEOUT);
        if (taken) {
            call->quota_taken = taken > 0 ? taken : 0;
            int64_t delay = cwx_retry_delay_ms(call->normal, aws->random, aws->random_ud);
            s_notify(call, k, resp, delay);
            c->stats.retries++;
            aws->stats.retries++;
            call->normal++;
            call->state = S_BACKOFF;
            uv_timer_start(&call->timer, s_backoff_cb, (uint64_t)delay, 0);
            return;
        }
        CWX_LOGD("aws: retry quota exhausted: not retrying");
    }
    s_notify(call, k, resp, -1);
    s_complete(call, s_final_status(k, resp), resp);
}

int cwx_aws_call(struct cwx_aws_client *c, const struct cwx_aws_request *req,
                 cwx_aws_done_fn *cb, void *ud)
{
    if (!c || !req || !cb || !req->service || !req->method || c->freeing || c->aws->freeing)
        return CWX_EINVAL;
    struct cwx_aws *aws = c->aws;
    struct s_call *call = calloc(1, sizeof(*call));
    if (!call)
        return CWX_ENOMEM;
    call->client = c;
    call->req = *req;
    call->cb = cb;
    call->ud = ud;
    cwx_buf_init(&call->url, 0);
    cwx_buf_init(&call->path, 0);
    int rc = 0;
    struct cwx_buf base;
    cwx_buf_init(&base, 0);
    int path_style = 0;
    rc = cwx_aws_endpoint(aws, req->service, c->region, &base, &path_style);
    if (!rc)
        rc = cwx__aws_request_url(base.ptr, path_style, req->bucket, req->path, req->query,
                                  &call->url, &call->path);
    cwx_buf_free(&base);
    if (!rc) {
        /* host[:port] from the URL, as curl will send it. */
        const char *h = strstr(call->url.ptr, "://");
        h = h ? h + 3 : call->url.ptr;
        size_t hl = strcspn(h, "/?");
        if (hl == 0 || hl >= sizeof(call->host))
            rc = CWX_EINVAL;
        else {
            memcpy(call->host, h, hl);
            call->host[hl] = '\0';
            const char *q = strchr(h, '?');
            call->query = q ? (char *)q + 1 : NULL;
        }
    }
    if (!rc) {
        call->hdrs = calloc(req->n_headers + 8, sizeof(*call->hdrs));
        call->sighdrs = calloc(req->n_headers + 3, sizeof(*call->sighdrs));
        if (!call->hdrs || !call->sighdrs)
            rc = CWX_ENOMEM;
    }
    if (rc) {
        cwx_buf_free(&call->url);
        cwx_buf_free(&call->path);
        free(call->hdrs);
        free(call->sighdrs);
        free(call);
        return rc;
    }
    uv_timer_init(aws->loop, &call->timer);
    call->timer.data = call;
    call->normal = 1;
    c->refs++;
    aws->refs++;
    call->all_next = aws->calls;
    if (aws->calls)
        aws->calls->all_prev = call;
    aws->calls = call;
    c->stats.calls++;
    aws->stats.calls++;

    call->starting = 1;
    s_enqueue(call, 0);
    call->starting = 0;
    return 0;
}
