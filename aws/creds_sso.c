/* IAM Identity Center (SSO) credentials, as the AWS CLI v2 resolves them:
 * the access token that `aws sso login` cached in
 * ~/.aws/sso/cache/<sha1>.json, refreshed with SSO OIDC CreateToken (the
 * refresh_token grant) when less than 15 minutes are left and written back
 * atomically, then exchanged for role credentials with the portal's
 * GetRoleCredentials. Both calls carry no SigV4: OIDC authenticates with the
 * registered client's id and secret in the body, the portal with the token
 * in the x-amz-sso_bearer_token header. A session that cannot be used any
 * more says "run: aws sso login --profile NAME" (the fix is the user's).
 * Tokens, client secrets and refresh tokens never reach a log or a detail. */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/clients_internal.h"
#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/credentials_internal.h"
#include "aws/http.h"
#include "aws/sigv4.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/secret.h"

#define S_MAX_CACHE_FILE (256 * 1024)
#define S_TIMEOUT_MS 10000
#define S_ATTEMPTS 3

int cwx__sso_cache_path(const char *dir, const char *session_name, const char *start_url,
                        char **out)
{
    const char *key = session_name ? session_name : start_url ? start_url : "";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    *out = NULL;
    if (!EVP_Digest(key, strlen(key), md, &md_len, EVP_sha1(), NULL))
        return CWX_ENOMEM;
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    struct cwx_buf b;
    cwx_buf_init(&b, 8192);
    int rc;
    if (dir)
        rc = cwx_buf_printf(&b, "%s/%s.json", dir, hex);
    else
        rc = cwx_buf_printf(&b, "%s/.aws/sso/cache/%s.json",
                            getenv("HOME") ? getenv("HOME") : "", hex);
    if (rc) {
        cwx_buf_free(&b);
        return CWX_ENOMEM;
    }
    *out = cwx_buf_steal(&b);
    return *out ? 0 : CWX_ENOMEM;
}

enum s_stage { S_IDLE, S_REFRESH, S_ROLE };

struct s_sso {
    struct cwx_creds_provider *p;
    char *profile, *session, *start_url, *region, *account_id, *role_name;
    char *cache_path;
    enum s_stage stage;
    int attempt;
    /* the fetch in flight */
    cJSON *doc;          /* the cache file's document; secret strings, wiped */
    char *token;         /* the access token in use; secret */
    int64_t expires_ms;  /* of token */
    struct cwx_buf url;
    struct cwx_buf body; /* CreateToken's request; secret */
    struct cwx_http_header headers[2];
    struct cwx_http_request req;
};

static void s_reset(struct s_sso *s)
{
    cwx__creds_json_delete(s->doc);
    s->doc = NULL;
    cwx_secret_free(s->token);
    s->token = NULL;
    cwx_buf_free_secret(&s->body);
    cwx_buf_init(&s->body, 64 * 1024);
    s->stage = S_IDLE;
}

/* Ends the fetch with a failure; detail names the profile and the session. */
static void s_fail(struct s_sso *s, int status, const char *what)
{
    char detail[900];
    if (s->session)
        snprintf(detail, sizeof(detail), "profile %s (IAM Identity Center session %s): %s",
                 s->profile, s->session, what);
    else
        snprintf(detail, sizeof(detail), "profile %s (IAM Identity Center): %s", s->profile,
                 what);
    s_reset(s);
    cwx__creds_fetched(s->p, status, NULL, detail);
}

/* A session the user has to log in again to: exit 3 with the exact fix. */
static void s_fail_login(struct s_sso *s, const char *why)
{
    char what[600];
    /* A long reason is cut short; the profile to log in to stays in the detail. */
    if (snprintf(what, sizeof(what), "%s; run: aws sso login --profile %s", why, s->profile) < 0)
        what[0] = '\0';
    s_fail(s, CWX_ECRED, what);
}

static const char *s_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) && v->valuestring && *v->valuestring ? v->valuestring : NULL;
}

/* The CLI writes "2024-03-07T05:06:07Z"; older versions "…UTC". */
static int s_parse_expiry(const char *v, int64_t *out)
{
    char tmp[64];
    if (!v)
        return CWX_EPARSE;
    size_t n = strlen(v);
    if (n >= 3 && n < sizeof(tmp) && strcmp(v + n - 3, "UTC") == 0) {
        memcpy(tmp, v, n - 3);
        while (n > 3 && tmp[n - 4] == ' ')
            n--;
        tmp[n - 3] = 'Z';
        tmp[n - 2] = '\0';
        v = tmp;
    }
    return cwx__creds_parse_time(v, out);
}

static void s_format_time(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Replaces the cache file atomically, so a reader (another cwexport, the
 * CLI) sees the old or the new token, whole. Mode 0600, as the CLI's.
 * Returns 0 or a CWX_E* code with why. */
static int s_write_cache(struct s_sso *s, char *why, size_t why_size)
{
    char *text = cJSON_PrintUnformatted(s->doc);
    if (!text)
        return CWX_ENOMEM;
    size_t len = strlen(text);
    int rc = cwx_file_write_atomic(s->cache_path, text, len, 0600, why, why_size);
    OPENSSL_cleanse(text, len);
    cJSON_free(text);
    return rc;
}

static void s_send(struct s_sso *s);

static int s_retryable(const struct cwx_http_response *resp)
{
    return resp->error ? resp->error != CWX_ECANCELED && resp->error != CWX_ETLS
                       : resp->status >= 500 || resp->status == 429;
}

/* After a failed answer: describes it into why, wipes it, and sends the
 * request again when another try may pass. Returns 1 when it did. */
static int s_retry(struct s_sso *s, const struct cwx_http_response *resp, char *why,
                   size_t size);

/* What failed, without the body when it could carry a secret: the AWS error
 * type (x-amzn-ErrorType is not kept by the transport; the body's "error",
 * "__type" or "message") and the status. */
static void s_describe(const struct cwx_http_response *resp, char *out, size_t size)
{
    if (resp->error) {
        snprintf(out, size, "no answer: %s", *resp->error_msg ? resp->error_msg
                                                               : cwx_strerror(resp->error));
        return;
    }
    const char *code = NULL, *msg = NULL;
    cJSON *j = resp->body.ptr ? cJSON_ParseWithLength(resp->body.ptr, resp->body.len) : NULL;
    if (j) {
        code = s_str(j, "__type");
        if (!code)
            code = s_str(j, "error");
        msg = s_str(j, "message");
        if (!msg)
            msg = s_str(j, "error_description");
    }
    char c[96] = "", m[200] = "";
    if (code) {
        const char *hash = strrchr(code, '#');
        code = hash ? hash + 1 : code;
        cwx__creds_first_line(code, strlen(code), c, sizeof(c));
    }
    if (msg)
        cwx__creds_first_line(msg, strlen(msg), m, sizeof(m));
    snprintf(out, size, "HTTP %ld%s%s%s%s", resp->status, *c ? " " : "", c, *m ? ": " : "", m);
    cwx__creds_json_delete(j);
}

static int s_retry(struct s_sso *s, const struct cwx_http_response *resp, char *why,
                   size_t size)
{
    s_describe(resp, why, size);
    cwx__creds_wipe_body(resp);
    if (s_retryable(resp) && ++s->attempt < S_ATTEMPTS) {
        s_send(s);
        return 1;
    }
    return 0;
}

static int s_transient_status(const struct cwx_http_response *resp)
{
    if (resp->error)
        return resp->error == CWX_ETIMEDOUT ? CWX_ETIMEDOUT : CWX_EHTTP;
    return resp->status == 429 ? CWX_ETHROTTLED : CWX_EUNAVAIL;
}

static void s_role(struct s_sso *s);

static void s_on_refresh(struct s_sso *s, const struct cwx_http_response *resp)
{
    char why[400];
    int64_t now = cwx__creds_wall_ms();
    if (resp->status == 200 && !resp->error) {
        cJSON *j = cJSON_ParseWithLength(resp->body.ptr ? resp->body.ptr : "", resp->body.len);
        cwx__creds_wipe_body(resp);
        const char *access = j ? s_str(j, "accessToken") : NULL;
        const cJSON *in = j ? cJSON_GetObjectItemCaseSensitive(j, "expiresIn") : NULL;
        const char *refresh = j ? s_str(j, "refreshToken") : NULL;
        if (!access || !cJSON_IsNumber(in) || in->valuedouble <= 0) {
            cwx__creds_json_delete(j);
            snprintf(why, sizeof(why), "SSO OIDC CreateToken answered without an accessToken "
                                       "and expiresIn");
            goto refresh_failed;
        }
        char when[40];
        int64_t exp = now + (int64_t)in->valuedouble * 1000;
        s_format_time(exp, when, sizeof(when));
        int rc = 0;
        char *tok = strdup(access);
        if (!tok || !cJSON_ReplaceItemInObjectCaseSensitive(s->doc, "accessToken",
                                                            cJSON_CreateString(access)))
            rc = CWX_ENOMEM;
        if (!rc && !cJSON_ReplaceItemInObjectCaseSensitive(s->doc, "expiresAt",
                                                           cJSON_CreateString(when)))
            rc = CWX_ENOMEM;
        if (!rc && refresh) {
            cJSON *r = cJSON_GetObjectItemCaseSensitive(s->doc, "refreshToken");
            if (r)
                rc = cJSON_ReplaceItemInObjectCaseSensitive(s->doc, "refreshToken",
                                                            cJSON_CreateString(refresh))
                         ? 0 : CWX_ENOMEM;
            else
                rc = cJSON_AddStringToObject(s->doc, "refreshToken", refresh) ? 0 : CWX_ENOMEM;
        }
        cwx__creds_json_delete(j);
        if (rc) {
            cwx_secret_free(tok);
            s_fail(s, CWX_ENOMEM, "out of memory");
            return;
        }
        cwx_secret_free(s->token);
        s->token = tok;
        s->expires_ms = exp;
        /* The new token is good for this run even when the file cannot be
         * written; the next run then refreshes again. */
        if (s_write_cache(s, why, sizeof(why)))
            CWX_LOGW("profile %s: the refreshed SSO token could not be saved: %s", s->profile,
                     why);
        else
            CWX_LOGI("profile %s: SSO token of session %s refreshed (valid until %s)",
                     s->profile, s->session, when);
        s_role(s);
        return;
    }
    if (s_retry(s, resp, why, sizeof(why)))
        return;
refresh_failed:
    if (now < s->expires_ms) {
        CWX_LOGW("profile %s: the SSO token could not be refreshed (%s); using it until it "
                 "expires", s->profile, why);
        s_role(s);
        return;
    }
    {
        char what[600];
        snprintf(what, sizeof(what), "the SSO session has expired and could not be refreshed "
                                     "(SSO OIDC CreateToken: %s)", why);
        s_fail_login(s, what);
    }
}

static void s_on_role(struct s_sso *s, const struct cwx_http_response *resp)
{
    char why[400], what[600];
    if (resp->status == 200 && !resp->error) {
        cJSON *j = cJSON_ParseWithLength(resp->body.ptr ? resp->body.ptr : "", resp->body.len);
        cwx__creds_wipe_body(resp);
        const cJSON *rc_ = j ? cJSON_GetObjectItemCaseSensitive(j, "roleCredentials") : NULL;
        const char *id = s_str(rc_, "accessKeyId"), *secret = s_str(rc_, "secretAccessKey");
        const char *token = s_str(rc_, "sessionToken");
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(rc_, "expiration");
        if (!id || !secret || !token || !cJSON_IsNumber(exp)) {
            cwx__creds_json_delete(j);
            s_fail(s, CWX_ECRED, "sso:GetRoleCredentials answered without roleCredentials "
                                 "(accessKeyId, secretAccessKey, sessionToken, expiration)");
            return;
        }
        struct cwx__creds_doc doc = {
            .access_key_id = strdup(id),
            .secret_access_key = strdup(secret),
            .session_token = strdup(token),
            .expiration_ms = (int64_t)exp->valuedouble,
        };
        cwx__creds_json_delete(j);
        if (!doc.access_key_id || !doc.secret_access_key || !doc.session_token) {
            cwx__creds_doc_free(&doc);
            s_fail(s, CWX_ENOMEM, "out of memory");
            return;
        }
        s_reset(s);
        cwx__creds_fetched(s->p, 0, &doc, NULL);
        return;
    }
    if (s_retry(s, resp, why, sizeof(why)))
        return;
    if (resp->status == 401) {
        snprintf(what, sizeof(what), "the SSO session has expired or is invalid "
                                     "(sso:GetRoleCredentials: %s)", why);
        s_fail_login(s, what);
        return;
    }
    if (resp->status == 403 || resp->status == 404) {
        snprintf(what, sizeof(what), "role %s in account %s is not assigned to this session "
                                     "(sso:GetRoleCredentials: %s)", s->role_name,
                 s->account_id, why);
        s_fail(s, CWX_ECRED, what);
        return;
    }
    snprintf(what, sizeof(what), "sso:GetRoleCredentials: %s", why);
    s_fail(s, resp->error == CWX_ECANCELED ? CWX_ECANCELED
              : s_retryable(resp)          ? s_transient_status(resp)
                                           : CWX_ECRED,
           what);
}

static void s_on_resp(const struct cwx_http_response *resp, void *ud)
{
    struct s_sso *s = ud;
    if (s->p->closing) {
        cwx__creds_wipe_body(resp);
        s_fail(s, CWX_ECANCELED, "canceled");
        return;
    }
    if (s->stage == S_REFRESH)
        s_on_refresh(s, resp);
    else
        s_on_role(s, resp);
}

static void s_send(struct s_sso *s)
{
    int rc = 0;
    size_t n = 0;
    cwx_buf_reset(&s->url);
    if (s->stage == S_REFRESH) {
        rc = cwx_aws_endpoint(s->p->aws, "sso-oidc", s->region, &s->url, NULL);
        if (!rc)
            rc = cwx_buf_puts(&s->url, "/token");
        s->headers[n++] = (struct cwx_http_header){"Content-Type", "application/json"};
    } else {
        rc = cwx_aws_endpoint(s->p->aws, "sso", s->region, &s->url, NULL);
        if (!rc)
            rc = cwx_buf_puts(&s->url, "/federation/credentials?account_id=");
        if (!rc)
            rc = cwx_uri_encode(&s->url, s->account_id, strlen(s->account_id), 1);
        if (!rc)
            rc = cwx_buf_puts(&s->url, "&role_name=");
        if (!rc)
            rc = cwx_uri_encode(&s->url, s->role_name, strlen(s->role_name), 1);
        s->headers[n++] = (struct cwx_http_header){"x-amz-sso_bearer_token", s->token};
    }
    if (rc) {
        s_fail(s, rc == CWX_ENOMEM ? rc : CWX_ECRED,
               rc == CWX_EINVAL ? "sso_region is not a valid region name" : cwx_strerror(rc));
        return;
    }
    s->req = (struct cwx_http_request){
        .method = s->stage == S_REFRESH ? "POST" : "GET",
        .url = s->url.ptr,
        .headers = s->headers,
        .n_headers = n,
        .body = s->stage == S_REFRESH ? s->body.ptr : NULL,
        .body_len = s->stage == S_REFRESH ? s->body.len : 0,
        .timeout_ms = S_TIMEOUT_MS,
    };
    rc = cwx_http_send(cwx_aws_http(s->p->aws), &s->req, s_on_resp, s);
    if (rc)
        s_fail(s, rc == CWX_ENOMEM ? rc : CWX_ECRED, cwx_strerror(rc));
}

static void s_role(struct s_sso *s)
{
    s->stage = S_ROLE;
    s->attempt = 0;
    if (strpbrk(s->token, "\r\n")) {
        s_fail_login(s, "the cached SSO token is malformed");
        return;
    }
    s_send(s);
}

/* Starts CreateToken with the refresh_token grant. Returns 0 when started,
 * 1 when the cache has nothing to refresh with (or its registration
 * expired). */
static int s_refresh(struct s_sso *s, int64_t now)
{
    const char *id = s_str(s->doc, "clientId"), *secret = s_str(s->doc, "clientSecret");
    const char *refresh = s_str(s->doc, "refreshToken");
    int64_t reg = 0;
    if (!s->session || !id || !secret || !refresh ||
        s_parse_expiry(s_str(s->doc, "registrationExpiresAt"), &reg) != 0 || reg <= now)
        return 1;
    cJSON *req = cJSON_CreateObject();
    char *text = NULL;
    if (req && cJSON_AddStringToObject(req, "grantType", "refresh_token") &&
        cJSON_AddStringToObject(req, "clientId", id) &&
        cJSON_AddStringToObject(req, "clientSecret", secret) &&
        cJSON_AddStringToObject(req, "refreshToken", refresh))
        text = cJSON_PrintUnformatted(req);
    cwx__creds_json_delete(req);
    cwx_buf_reset(&s->body);
    int rc = text ? cwx_buf_puts(&s->body, text) : CWX_ENOMEM;
    if (text) {
        OPENSSL_cleanse(text, strlen(text));
        cJSON_free(text);
    }
    if (rc) {
        s_fail(s, CWX_ENOMEM, "out of memory");
        return 0;
    }
    s->stage = S_REFRESH;
    s->attempt = 0;
    s_send(s);
    return 0;
}

static void s_fetch(struct cwx_creds_provider *p)
{
    struct s_sso *s = p->impl;
    char why[400], what[600];
    char *text = NULL;
    size_t len = 0;
    s->p = p;
    if (!p->aws) {
        s_fail(s, CWX_ECRED, "no HTTP transport");
        return;
    }
    int rc = cwx__creds_read_file(s->cache_path, S_MAX_CACHE_FILE, &text, &len, why,
                                  sizeof(why));
    if (rc == CWX_ENOTFOUND) {
        snprintf(what, sizeof(what), "no cached SSO token (%s)", s->cache_path);
        s_fail_login(s, what);
        return;
    }
    if (rc) {
        snprintf(what, sizeof(what), "cannot read the SSO token cache %s: %s", s->cache_path,
                 why);
        s_fail(s, rc == CWX_ENOMEM ? rc : CWX_ECRED, what);
        return;
    }
    s->doc = cJSON_ParseWithLength(text, len);
    cwx_secret_free(text);
    const char *tok = cJSON_IsObject(s->doc) ? s_str(s->doc, "accessToken") : NULL;
    if (!tok || s_parse_expiry(s_str(s->doc, "expiresAt"), &s->expires_ms) != 0) {
        snprintf(what, sizeof(what), "the SSO token cache %s has no accessToken and expiresAt",
                 s->cache_path);
        s_fail_login(s, what);
        return;
    }
    s->token = strdup(tok);
    if (!s->token) {
        s_fail(s, CWX_ENOMEM, "out of memory");
        return;
    }
    int64_t now = cwx__creds_wall_ms();
    if (s->expires_ms - now < CWX__SSO_REFRESH_WINDOW_MS && s_refresh(s, now) == 0)
        return;
    if (now >= s->expires_ms) {
        s_fail_login(s, "the SSO session has expired");
        return;
    }
    s_role(s);
}

static void s_destroy(void *impl)
{
    struct s_sso *s = impl;
    cwx__creds_json_delete(s->doc);
    cwx_secret_free(s->token);
    cwx_buf_free_secret(&s->body);
    cwx_buf_free(&s->url);
    CWX_FREE_ALL(s->profile, s->session, s->start_url, s->region, s->account_id, s->role_name,
                 s->cache_path);
}

static const struct cwx__creds_vtable s_sso_vt = {s_fetch, NULL, s_destroy};

int cwx__creds_sso_new(uv_loop_t *loop, struct cwx_aws *aws, const struct cwx__sso_params *params,
                       const char *source, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct s_sso *s = calloc(1, sizeof(*s));
    if (!s)
        return CWX_ENOMEM;
    cwx_buf_init(&s->url, 8192);
    cwx_buf_init(&s->body, 64 * 1024);
    s->profile = cwx__strdup(params->profile);
    s->session = cwx__strdup(params->session_name);
    s->start_url = cwx__strdup(params->start_url);
    s->region = cwx__strdup(params->region);
    s->account_id = cwx__strdup(params->account_id);
    s->role_name = cwx__strdup(params->role_name);
    int rc = cwx__sso_cache_path(params->cache_dir, params->session_name, params->start_url,
                                 &s->cache_path);
    if (rc || !s->profile || (params->session_name && !s->session) || !s->start_url ||
        !s->region || !s->account_id || !s->role_name)
        rc = CWX_ENOMEM;
    return cwx__creds_provider_new(rc, loop, aws, &s_sso_vt, s, source, out);
}
