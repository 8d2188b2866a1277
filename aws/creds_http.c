/* Credentials from HTTP endpoints on the same transport as every AWS call:
 * ECS container credentials and EC2 instance metadata (IMDSv2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/credentials_internal.h"
#include "aws/http.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/mem.h"
#include "common/secret.h"

#define CWX__ECS_HOST "http://169.254.170.2"
#define CWX__ECS_TIMEOUT_MS 2000
#define CWX__ECS_ATTEMPTS 3
#define CWX__IMDS_ENDPOINT "http://169.254.169.254"
#define CWX__IMDS_ENDPOINT_V6 "http://[fd00:ec2::254]"
#define CWX__IMDS_TOKEN_TTL_S 21600
#define CWX__IMDS_TIMEOUT_MS 1000
#define CWX__MAX_TOKEN_FILE (64 * 1024)

/* "HTTP 404: <first line of the body>" or the transport's reason. */
static void s_describe(const struct cwx_http_response *resp, char *out, size_t size)
{
    if (resp->error) {
        snprintf(out, size, "no answer: %s", *resp->error_msg ? resp->error_msg
                                                               : cwx_strerror(resp->error));
        return;
    }
    char line[160];
    cwx__creds_first_line(resp->body.ptr ? resp->body.ptr : "", resp->body.len, line,
                          sizeof(line));
    snprintf(out, size, "HTTP %ld%s%s", resp->status, *line ? ": " : "", line);
}

static int s_http_retryable(const struct cwx_http_response *resp)
{
    return resp->error || resp->status >= 500 || resp->status == 429;
}

/* The status of a fetch that ended on resp. A retryable answer (no answer,
 * 5xx, 429) after every attempt is transient — the caller backs off and asks
 * again — when the endpoint is known to serve credentials: always for ECS
 * (its variables name it), for IMDS once it has served some (before that,
 * an unreachable IMDS means there is none). */
static int s_fetch_status(const struct cwx_http_response *resp, int known)
{
    if (resp->error == CWX_ECANCELED)
        return CWX_ECANCELED;
    if (!known || !s_http_retryable(resp) || resp->error == CWX_ETLS)
        return CWX_ECRED;
    if (resp->error)
        return resp->error == CWX_ETIMEDOUT ? CWX_ETIMEDOUT : CWX_EHTTP;
    return resp->status == 429 ? CWX_ETHROTTLED : CWX_EUNAVAIL;
}

/* ---- ECS ------------------------------------------------------------------ */

static int s_is_loopback_or_container(const char *host, size_t len)
{
    static const char *const containers[] = {"169.254.170.2", "169.254.170.23",
                                             "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
        if (strlen(containers[i]) == len && strncmp(host, containers[i], len) == 0)
            return 1;
    return cwx_http_host_loopback(host, len);
}

int cwx__creds_ecs_url(char **url, char *err, size_t err_size)
{
    *url = NULL;
    const char *rel = cwx__creds_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = cwx__creds_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (rel) {
        size_t n = strlen(CWX__ECS_HOST) + strlen(rel) + 2;
        *url = malloc(n);
        if (!*url)
            return CWX_ENOMEM;
        snprintf(*url, n, "%s%s%s", CWX__ECS_HOST, rel[0] == '/' ? "" : "/", rel);
        return 0;
    }
    if (!full)
        return CWX_ENOTFOUND;
    const char *host = NULL;
    if (strncmp(full, "https://", 8) == 0) {
        host = full + 8;
    } else if (strncmp(full, "http://", 7) == 0) {
        size_t name_len;
        host = cwx_http_url_host(full, &name_len);
        if (!s_is_loopback_or_container(host, name_len)) {
            snprintf(err, err_size,
                     "ECS container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
                     "https or use a loopback or container host, not %.*s",
                     (int)(name_len > 100 ? 100 : name_len), host);
            return CWX_ECRED;
        }
    } else {
        snprintf(err, err_size, "ECS container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI "
                                "is not an http(s) URL");
        return CWX_ECRED;
    }
    (void)host;
    *url = strdup(full);
    return *url ? 0 : CWX_ENOMEM;
}

struct s_ecs {
    struct cwx_creds_provider *p;
    char *url;
    char *shown; /* url without any user:password@, for details */
    char *auth; /* the Authorization value of the fetch in flight; secret */
    int attempt;
    struct cwx_http_header headers[2];
    struct cwx_http_request req;
};

static void s_ecs_send(struct s_ecs *e);

static void s_ecs_fail(struct s_ecs *e, int status, const char *what)
{
    char detail[640];
    snprintf(detail, sizeof(detail), "ECS container credentials (%s): %s", e->shown, what);
    cwx_secret_free(e->auth);
    e->auth = NULL;
    cwx__creds_fetched(e->p, status, NULL, detail);
}

static void s_ecs_on_resp(const struct cwx_http_response *resp, void *ud)
{
    struct s_ecs *e = ud;
    char why[320];
    if (e->p->closing) {
        cwx__creds_wipe_body(resp);
        s_ecs_fail(e, CWX_ECANCELED, "canceled");
        return;
    }
    if (resp->status == 200 && !resp->error) {
        struct cwx__creds_doc doc;
        int rc = cwx__creds_parse_metadata_json(resp->body.ptr ? resp->body.ptr : "",
                                                resp->body.len, &doc, why, sizeof(why));
        cwx__creds_wipe_body(resp);
        if (rc) {
            s_ecs_fail(e, rc == CWX_ENOMEM ? rc : CWX_ECRED, rc == CWX_ENOMEM ? "out of memory"
                                                                              : why);
            return;
        }
        cwx_secret_free(e->auth);
        e->auth = NULL;
        cwx__creds_fetched(e->p, 0, &doc, NULL);
        return;
    }
    cwx__creds_wipe_body(resp);
    if (s_http_retryable(resp) && resp->error != CWX_ECANCELED &&
        ++e->attempt < CWX__ECS_ATTEMPTS) {
        s_ecs_send(e);
        return;
    }
    s_describe(resp, why, sizeof(why));
    s_ecs_fail(e, s_fetch_status(resp, 1), why);
}

static void s_ecs_send(struct s_ecs *e)
{
    size_t n = 0;
    if (e->auth)
        e->headers[n++] = (struct cwx_http_header){"Authorization", e->auth};
    e->headers[n++] = (struct cwx_http_header){"Accept", "application/json"};
    e->req = (struct cwx_http_request){
        .method = "GET",
        .url = e->url,
        .headers = e->headers,
        .n_headers = n,
        .timeout_ms = CWX__ECS_TIMEOUT_MS,
    };
    int rc = cwx_http_send(cwx_aws_http(e->p->aws), &e->req, s_ecs_on_resp, e);
    if (rc)
        s_ecs_fail(e, rc == CWX_ENOMEM ? rc : CWX_ECRED, cwx_strerror(rc));
}

static void s_ecs_fetch(struct cwx_creds_provider *p)
{
    struct s_ecs *e = p->impl;
    char why[256];
    e->p = p;
    e->attempt = 0;
    if (!p->aws) {
        s_ecs_fail(e, CWX_ECRED, "no HTTP transport");
        return;
    }
    /* The token file wins over the variable; both are re-read on every
     * fetch (EKS Pod Identity rotates the file). */
    const char *file = cwx__creds_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token = cwx__creds_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (file) {
        size_t len = 0;
        int rc = cwx__creds_read_file(file, CWX__MAX_TOKEN_FILE, &e->auth, &len, why,
                                      sizeof(why));
        if (rc) {
            char what[512];
            snprintf(what, sizeof(what), "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                                         "%s: %s", file, why);
            s_ecs_fail(e, rc == CWX_ENOMEM ? rc : CWX_ECRED, what);
            return;
        }
        while (len && (e->auth[len - 1] == '\n' || e->auth[len - 1] == '\r' ||
                       e->auth[len - 1] == ' '))
            e->auth[--len] = '\0';
    } else if (token) {
        e->auth = strdup(token);
        if (!e->auth) {
            s_ecs_fail(e, CWX_ENOMEM, "out of memory");
            return;
        }
    }
    if (e->auth && strpbrk(e->auth, "\r\n")) {
        s_ecs_fail(e, CWX_ECRED, "the authorization token has a line break in it");
        return;
    }
    s_ecs_send(e);
}

static void s_ecs_destroy(void *impl)
{
    struct s_ecs *e = impl;
    CWX_SECRET_FREE_ALL(e->auth, e->url);
    free(e->shown);
}

static const struct cwx__creds_vtable s_ecs_vt = {s_ecs_fetch, NULL, s_ecs_destroy};

int cwx__creds_ecs_new(uv_loop_t *loop, struct cwx_aws *aws, const char *source,
                       const char *url, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct s_ecs *e = calloc(1, sizeof(*e));
    if (!e)
        return CWX_ENOMEM;
    e->url = strdup(url);
    e->shown = strdup(url);
    /* Userinfo in the URL would be a secret: never show it. */
    char *scheme_end = e->shown ? strstr(e->shown, "://") : NULL;
    if (scheme_end) {
        char *host = scheme_end + 3;
        char *at = strchr(host, '@'), *slash = strchr(host, '/');
        if (at && (!slash || at < slash))
            memmove(host, at + 1, strlen(at + 1) + 1);
    }
    int rc = e->url && e->shown ? 0 : CWX_ENOMEM;
    return cwx__creds_provider_new(rc, loop, aws, &s_ecs_vt, e, source, out);
}

/* ---- EC2 instance metadata, IMDSv2 ---------------------------------------- */

enum s_imds_stage { S_TOKEN, S_ROLE, S_CREDS };

struct s_imds {
    struct cwx_creds_provider *p;
    char *endpoint;           /* no trailing '/' */
    char *token;              /* IMDSv2 session token; secret */
    int64_t token_expires_ms; /* when to ask for a new one */
    char *role;               /* the instance profile's role name */
    enum s_imds_stage stage;
    int attempt;
    int max_attempts;
    long timeout_ms;
    int token_renewed; /* a 401 already made us renew the token this fetch */
    struct cwx_buf url;
    struct cwx_http_header headers[1];
    struct cwx_http_request req;
};

static void s_imds_send(struct s_imds *m);

static void s_imds_fail(struct s_imds *m, int status, const char *what)
{
    char detail[640];
    snprintf(detail, sizeof(detail), "EC2 instance metadata (%s): %s", m->endpoint, what);
    cwx__creds_fetched(m->p, status, NULL, detail);
}

static void s_imds_drop_token(struct s_imds *m)
{
    cwx_secret_free(m->token);
    m->token = NULL;
    m->token_expires_ms = 0;
}

/* Answers a failed IMDS request: renews the session token once on a 401,
 * retries what may pass on a second try, or ends the fetch with a message
 * that says which request failed and why. */
static void s_imds_on_error(struct s_imds *m, const struct cwx_http_response *resp)
{
    char why[320], what[512];
    cwx__creds_wipe_body(resp);
    if (resp->status == 401 && m->stage != S_TOKEN && !m->token_renewed) {
        /* Our session token expired or was revoked: get a new one. */
        m->token_renewed = 1;
        s_imds_drop_token(m);
        m->stage = S_TOKEN;
        m->attempt = 0;
        s_imds_send(m);
        return;
    }
    if (s_http_retryable(resp) && resp->error != CWX_ECANCELED &&
        ++m->attempt < m->max_attempts) {
        s_imds_send(m);
        return;
    }
    s_describe(resp, why, sizeof(why));
    if (m->stage == S_TOKEN && resp->status == 403)
        snprintf(what, sizeof(what), "the token request was refused (%s): the metadata "
                                     "service is disabled on this instance", why);
    else if (m->stage != S_TOKEN && resp->status == 404)
        snprintf(what, sizeof(what), "no IAM role is attached to this instance (%s)", why);
    else
        snprintf(what, sizeof(what), "%s failed: %s",
                 m->stage == S_TOKEN  ? "the token request (PUT /latest/api/token)"
                 : m->stage == S_ROLE ? "the role name request"
                                      : "the credentials request",
                 why);
    s_imds_fail(m, s_fetch_status(resp, m->p->cache != NULL), what);
}

/* Keeps the session token of a PUT /latest/api/token answer (one line) and
 * asks for the role name next. */
static void s_imds_on_token(struct s_imds *m, const struct cwx_http_response *resp,
                            const char *body)
{
    size_t n = resp->body.len;
    while (n && (body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == ' '))
        n--;
    if (n == 0 || memchr(body, '\n', n) || memchr(body, '\r', n)) {
        cwx__creds_wipe_body(resp);
        s_imds_fail(m, CWX_ECRED, "the token request returned no usable token");
        return;
    }
    m->token = strndup(body, n);
    cwx__creds_wipe_body(resp);
    if (!m->token) {
        s_imds_fail(m, CWX_ENOMEM, "out of memory");
        return;
    }
    /* Renew well before the service forgets it. */
    m->token_expires_ms = cwx__creds_wall_ms() + (CWX__IMDS_TOKEN_TTL_S - 300) * 1000LL;
    m->stage = S_ROLE;
    s_imds_send(m);
}

/* Keeps the role name (the first line of the answer) and asks for its
 * credentials next. */
static void s_imds_on_role(struct s_imds *m, const char *body)
{
    size_t n = strcspn(body, "\r\n");
    while (n && body[n - 1] == ' ')
        n--;
    if (n == 0) {
        s_imds_fail(m, CWX_ECRED, "no IAM role is attached to this instance");
        return;
    }
    free(m->role);
    m->role = strndup(body, n);
    if (!m->role) {
        s_imds_fail(m, CWX_ENOMEM, "out of memory");
        return;
    }
    if (strpbrk(m->role, "/?#% ")) {
        s_imds_fail(m, CWX_ECRED, "the role name it returned is not a valid name");
        return;
    }
    m->stage = S_CREDS;
    s_imds_send(m);
}

/* Parses the role's credentials document and ends the fetch with them. */
static void s_imds_on_creds(struct s_imds *m, const struct cwx_http_response *resp,
                            const char *body)
{
    char why[320], what[512];
    struct cwx__creds_doc doc;
    int rc = cwx__creds_parse_metadata_json(body, resp->body.len, &doc, why, sizeof(why));
    cwx__creds_wipe_body(resp);
    if (rc) {
        snprintf(what, sizeof(what), "the credentials of role %.100s: %s", m->role,
                 rc == CWX_ENOMEM ? "out of memory" : why);
        s_imds_fail(m, rc == CWX_ENOMEM ? rc : CWX_ECRED, what);
        return;
    }
    cwx__creds_fetched(m->p, 0, &doc, NULL);
}

static void s_imds_on_resp(const struct cwx_http_response *resp, void *ud)
{
    struct s_imds *m = ud;
    const char *body = resp->body.ptr ? resp->body.ptr : "";
    if (m->p->closing) {
        cwx__creds_wipe_body(resp);
        s_imds_fail(m, CWX_ECANCELED, "canceled");
        return;
    }
    if (resp->error || resp->status != 200) {
        s_imds_on_error(m, resp);
        return;
    }
    m->attempt = 0;
    if (m->stage == S_TOKEN)
        s_imds_on_token(m, resp, body);
    else if (m->stage == S_ROLE)
        s_imds_on_role(m, body);
    else
        s_imds_on_creds(m, resp, body);
}

static void s_imds_send(struct s_imds *m)
{
    cwx_buf_reset(&m->url);
    int rc = cwx_buf_puts(&m->url, m->endpoint);
    size_t n = 0;
    const char *method = "GET";
    if (m->stage == S_TOKEN) {
        method = "PUT";
        if (!rc)
            rc = cwx_buf_puts(&m->url, "/latest/api/token");
        m->headers[n++] = (struct cwx_http_header){"X-aws-ec2-metadata-token-ttl-seconds",
                                                   "21600"};
    } else {
        if (!rc)
            rc = cwx_buf_puts(&m->url, "/latest/meta-data/iam/security-credentials/");
        if (!rc && m->stage == S_CREDS)
            rc = cwx_buf_puts(&m->url, m->role);
        m->headers[n++] = (struct cwx_http_header){"X-aws-ec2-metadata-token", m->token};
    }
    if (rc) {
        s_imds_fail(m, CWX_ENOMEM, "out of memory");
        return;
    }
    m->req = (struct cwx_http_request){
        .method = method,
        .url = m->url.ptr,
        .headers = m->headers,
        .n_headers = n,
        .timeout_ms = m->timeout_ms,
    };
    rc = cwx_http_send(cwx_aws_http(m->p->aws), &m->req, s_imds_on_resp, m);
    if (rc)
        s_imds_fail(m, rc == CWX_ENOMEM ? rc : CWX_ECRED, cwx_strerror(rc));
}

static void s_imds_fetch(struct cwx_creds_provider *p)
{
    struct s_imds *m = p->impl;
    m->p = p;
    m->attempt = 0;
    m->token_renewed = 0;
    if (!p->aws) {
        s_imds_fail(m, CWX_ECRED, "no HTTP transport");
        return;
    }
    /* The SDKs' knobs for slow metadata services. */
    const char *t = cwx__creds_env("AWS_METADATA_SERVICE_TIMEOUT");
    const char *a = cwx__creds_env("AWS_METADATA_SERVICE_NUM_ATTEMPTS");
    double secs = t ? strtod(t, NULL) : 0;
    long attempts = a ? strtol(a, NULL, 10) : 0;
    m->timeout_ms = secs > 0 && secs < 3600 ? (long)(secs * 1000) : CWX__IMDS_TIMEOUT_MS;
    m->max_attempts = attempts > 0 && attempts < 10 ? (int)attempts : 1;
    if (m->token && cwx__creds_wall_ms() >= m->token_expires_ms)
        s_imds_drop_token(m);
    m->stage = m->token ? S_ROLE : S_TOKEN;
    s_imds_send(m);
}

static void s_imds_destroy(void *impl)
{
    struct s_imds *m = impl;
    s_imds_drop_token(m);
    CWX_FREE_ALL(m->role, m->endpoint);
    cwx_buf_free(&m->url);
}

static const struct cwx__creds_vtable s_imds_vt = {s_imds_fetch, NULL, s_imds_destroy};

int cwx__creds_imds_new(uv_loop_t *loop, struct cwx_aws *aws, const char *source,
                        const char *endpoint, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct s_imds *m = calloc(1, sizeof(*m));
    if (!m)
        return CWX_ENOMEM;
    if (!endpoint) {
        const char *mode = cwx__creds_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        endpoint = mode && strcasecmp(mode, "IPv6") == 0 ? CWX__IMDS_ENDPOINT_V6
                                                          : CWX__IMDS_ENDPOINT;
    }
    m->endpoint = strdup(endpoint);
    cwx_buf_init(&m->url, 4096);
    size_t n = m->endpoint ? strlen(m->endpoint) : 0;
    while (n && m->endpoint[n - 1] == '/')
        m->endpoint[--n] = '\0';
    return cwx__creds_provider_new(m->endpoint ? 0 : CWX_ENOMEM, loop, aws, &s_imds_vt, m,
                                   source, out);
}
