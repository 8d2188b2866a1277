/* Credentials from STS: sts:AssumeRole over a base provider (profiles with
 * role_arn, per-account roles) and sts:AssumeRoleWithWebIdentity (EKS/IRSA
 * style token files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/credentials_internal.h"
#include "aws/sts.h"
#include "common/error.h"
#include "common/mem.h"
#include "common/secret.h"

#define CWX__MAX_WEB_TOKEN (1024 * 1024)

static char *s_default_session_name(const char *given)
{
    if (given && *given)
        return strdup(given);
    char buf[64];
    snprintf(buf, sizeof(buf), "cwexport-%lld", (long long)(cwx__creds_wall_ms() / 1000));
    return strdup(buf);
}

/* The status a failed STS call gives the credential's user: a refusal, or a
 * transient failure (STS throttled, down or unreachable) that the caller
 * retries later; anything else means there are no usable credentials. */
static int s_sts_status(int status)
{
    if (status == CWX_EDENIED || status == CWX_ECANCELED || status == CWX_ENOMEM ||
        status == CWX_ETLS || cwx_err_transient(status))
        return status;
    return CWX_ECRED;
}

static int s_doc_from_role(const struct cwx_sts_assumed_role *r, struct cwx__creds_doc *doc)
{
    memset(doc, 0, sizeof(*doc));
    doc->access_key_id = cwx__strdup(r->access_key_id);
    doc->secret_access_key = cwx__strdup(r->secret_access_key);
    doc->session_token = r->session_token && *r->session_token ? strdup(r->session_token) : NULL;
    doc->expiration_ms = r->expiration_ms;
    if (!doc->access_key_id || !doc->secret_access_key ||
        (r->session_token && *r->session_token && !doc->session_token)) {
        cwx__creds_doc_free(doc);
        return CWX_ENOMEM;
    }
    return 0;
}

static void s_sts_result(struct cwx_creds_provider *p, const char *op, const char *role_arn,
                         const char *from, int status, const struct cwx_sts_assumed_role *res,
                         const struct cwx_aws_error *err)
{
    char detail[1024], why[768];
    if (status == 0 && res) {
        struct cwx__creds_doc doc;
        if (s_doc_from_role(res, &doc) != 0) {
            cwx__creds_fetched(p, CWX_ENOMEM, NULL, "out of memory");
            return;
        }
        if (!doc.access_key_id[0] || !doc.secret_access_key[0]) {
            cwx__creds_doc_free(&doc);
            snprintf(detail, sizeof(detail), "sts:%s %s%s%s: the answer has no credentials", op,
                     role_arn, from ? " from " : "", from ? from : "");
            cwx__creds_fetched(p, CWX_ECRED, NULL, detail);
            return;
        }
        cwx__creds_fetched(p, 0, &doc, NULL);
        return;
    }
    if (err)
        cwx_aws_error_format(err, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "%s", cwx_strerror(status ? status : CWX_ECRED));
    snprintf(detail, sizeof(detail), "sts:%s %s%s%s: %s", op, role_arn, from ? " from " : "",
             from ? from : "", why);
    cwx__creds_fetched(p, s_sts_status(status ? status : CWX_ECRED), NULL, detail);
}

/* ---- the role sources ---------------------------------------------------------- */

/* An STS role source: AssumeRole over base, or AssumeRoleWithWebIdentity
 * with the token of token_file (base is then NULL). */
struct s_role {
    struct cwx_creds_provider *p;
    struct cwx_creds_provider *base; /* AssumeRole: owned */
    struct cwx_aws_client *client;   /* STS in region, signed with base (unsigned without) */
    char *role_arn;
    char *external_id; /* AssumeRole; NULL = none */
    char *token_file;  /* AssumeRoleWithWebIdentity */
    char *session_name;
    char *region;
    int duration_seconds;
};

static void s_role_destroy(void *impl)
{
    struct s_role *r = impl;
    cwx_aws_client_free(r->client);
    cwx_creds_provider_free(r->base);
    CWX_FREE_ALL(r->role_arn, r->external_id, r->token_file, r->session_name, r->region);
}

/* Makes the part both sources share: base (owned from here on, also on
 * failure; NULL for a web identity), the role, the session name (NULL: a
 * default), the STS region (NULL or "": us-east-1) and its client when aws
 * is set. On failure *out may still hold the state made so far, for the
 * caller's cwx__creds_provider_new to destroy. */
static int s_role_new(struct cwx_aws *aws, struct cwx_creds_provider *base, const char *role_arn,
                      const char *session_name, const char *region, int duration_seconds,
                      struct s_role **out)
{
    struct s_role *r = *out = calloc(1, sizeof(*r));
    if (!r) {
        cwx_creds_provider_free(base);
        return CWX_ENOMEM;
    }
    r->base = base;
    r->role_arn = strdup(role_arn);
    r->session_name = s_default_session_name(session_name);
    r->region = strdup(region && *region ? region : "us-east-1");
    r->duration_seconds = duration_seconds;
    int rc = r->role_arn && r->session_name && r->region ? 0 : CWX_ENOMEM;
    if (!rc && aws) {
        struct cwx_aws_client_options co = {.creds = base, .region = r->region};
        rc = cwx_aws_client_new(aws, &co, &r->client);
    }
    return rc;
}

/* ---- AssumeRole -------------------------------------------------------------- */

static void s_assume_on_sts(int status, const struct cwx_sts_assumed_role *res,
                            const struct cwx_aws_error *err, void *ud)
{
    struct s_role *a = ud;
    s_sts_result(a->p, "AssumeRole", a->role_arn, cwx_creds_provider_source(a->base), status,
                 res, err);
}

static void s_assume_on_base(int status, const struct cwx_credentials *creds,
                             const char *detail, void *ud)
{
    struct s_role *a = ud;
    char buf[1024];
    (void)creds;
    if (a->p->closing) {
        cwx__creds_fetched(a->p, CWX_ECANCELED, NULL, "canceled");
        return;
    }
    if (status) {
        snprintf(buf, sizeof(buf), "sts:AssumeRole %s: the source credentials failed: %s",
                 a->role_arn, detail ? detail : cwx_strerror(status));
        cwx__creds_fetched(a->p, status, NULL, buf);
        return;
    }
    if (!a->client) {
        snprintf(buf, sizeof(buf), "sts:AssumeRole %s: no AWS context", a->role_arn);
        cwx__creds_fetched(a->p, CWX_ECRED, NULL, buf);
        return;
    }
    struct cwx_sts_assume_role_req req = {
        .role_arn = a->role_arn,
        .role_session_name = a->session_name,
        .external_id = a->external_id,
        .duration_seconds = a->duration_seconds,
    };
    int rc = cwx_sts_assume_role(a->client, &req, s_assume_on_sts, a);
    if (rc)
        s_sts_result(a->p, "AssumeRole", a->role_arn, NULL, rc, NULL, NULL);
}

static void s_assume_fetch(struct cwx_creds_provider *p)
{
    struct s_role *a = p->impl;
    a->p = p;
    /* Ask the base ourselves first: its failure then reads as what it is
     * (the call layer would only say "no credentials"). The call that
     * follows finds them in the base's cache. */
    int rc = cwx_creds_get(a->base, s_assume_on_base, a);
    if (rc) {
        char buf[512];
        snprintf(buf, sizeof(buf), "sts:AssumeRole %s: %s", a->role_arn, cwx_strerror(rc));
        cwx__creds_fetched(p, rc, NULL, buf);
    }
}

static const struct cwx__creds_vtable s_assume_vt = {s_assume_fetch, NULL, s_role_destroy};

int cwx__creds_assume_role_new(uv_loop_t *loop, struct cwx_aws *aws,
                               struct cwx_creds_provider *base,
                               const struct cwx__assume_role_params *params,
                               const char *source, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct s_role *a;
    int rc = s_role_new(aws, base, params->role_arn, params->session_name, params->region,
                        params->duration_seconds, &a);
    if (!rc && params->external_id && *params->external_id &&
        !(a->external_id = strdup(params->external_id)))
        rc = CWX_ENOMEM;
    return cwx__creds_provider_new(rc, loop, aws, &s_assume_vt, a, source, out);
}

/* ---- AssumeRoleWithWebIdentity ----------------------------------------------- */

static void s_web_on_sts(int status, const struct cwx_sts_assumed_role *res,
                         const struct cwx_aws_error *err, void *ud)
{
    struct s_role *w = ud;
    s_sts_result(w->p, "AssumeRoleWithWebIdentity", w->role_arn, NULL, status, res, err);
}

static void s_web_fetch(struct cwx_creds_provider *p)
{
    struct s_role *w = p->impl;
    char why[256], buf[1024];
    char *token = NULL;
    size_t len = 0;
    w->p = p;
    if (!w->client) {
        snprintf(buf, sizeof(buf), "sts:AssumeRoleWithWebIdentity %s: no AWS context",
                 w->role_arn);
        cwx__creds_fetched(p, CWX_ECRED, NULL, buf);
        return;
    }
    /* Re-read on every refresh: the token file is rotated under us. */
    int rc = cwx__creds_read_file(w->token_file, CWX__MAX_WEB_TOKEN, &token, &len, why,
                                  sizeof(why));
    if (rc) {
        snprintf(buf, sizeof(buf), "web identity: cannot read the token file %s: %s",
                 w->token_file, rc == CWX_ENOMEM ? "out of memory" : why);
        cwx__creds_fetched(p, rc == CWX_ENOMEM ? rc : CWX_ECRED, NULL, buf);
        return;
    }
    while (len && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' ' ||
                   token[len - 1] == '\t'))
        token[--len] = '\0';
    if (len == 0) {
        cwx_secret_free(token);
        snprintf(buf, sizeof(buf), "web identity: the token file %s is empty", w->token_file);
        cwx__creds_fetched(p, CWX_ECRED, NULL, buf);
        return;
    }
    struct cwx_sts_assume_role_web_identity_req req = {
        .role_arn = w->role_arn,
        .role_session_name = w->session_name,
        .web_identity_token = token,
        .duration_seconds = w->duration_seconds,
    };
    rc = cwx_sts_assume_role_with_web_identity(w->client, &req, s_web_on_sts, w);
    cwx_secret_free(token); /* borrowed by the starting call only */
    if (rc)
        s_sts_result(p, "AssumeRoleWithWebIdentity", w->role_arn, NULL, rc, NULL, NULL);
}

static const struct cwx__creds_vtable s_web_vt = {s_web_fetch, NULL, s_role_destroy};

int cwx__creds_web_identity_new(uv_loop_t *loop, struct cwx_aws *aws,
                                const struct cwx__web_identity_params *params,
                                const char *source, struct cwx_creds_provider **out)
{
    *out = NULL;
    struct s_role *w;
    /* No base, no credentials: AssumeRoleWithWebIdentity is sent unsigned. */
    int rc = s_role_new(aws, NULL, params->role_arn, params->session_name, params->region,
                        params->duration_seconds, &w);
    if (!rc && !(w->token_file = strdup(params->token_file)))
        rc = CWX_ENOMEM;
    return cwx__creds_provider_new(rc, loop, aws, &s_web_vt, w, source, out);
}
