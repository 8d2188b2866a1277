/* STS client: GetCallerIdentity, AssumeRole and AssumeRoleWithWebIdentity
 * over the Query protocol. Secrets are wiped wherever they were held. */
#include "aws/sts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "common/error.h"

/* ---- calls ---------------------------------------------------------------------- */

enum s_op { S_IDENTITY, S_ASSUME, S_ASSUME_WEB };

struct s_call {
    enum s_op op;
    struct cwx_aws_request req;
    struct cwx_http_header header;
    struct cwx_buf body; /* may hold a web identity token: wiped */
    union {
        cwx_sts_get_caller_identity_fn *identity;
        cwx_sts_assume_role_fn *assume;
    } cb;
    void *ud;
};

static void s_call_free(struct s_call *call)
{
    cwx_buf_free_secret(&call->body);
    free(call);
}

static void s_on_done(int status, const struct cwx_http_response *resp,
                      const struct cwx_aws_error *err, void *ud)
{
    struct s_call *call = ud;
    char msg[256] = "";
    struct cwx_aws_error perr;
    const char *body = resp ? resp->body.ptr : NULL;
    size_t len = resp ? resp->body.len : 0;

    if (call->op == S_IDENTITY) {
        struct cwx__sts_identity id = {0};
        if (!status)
            status = cwx_sts_parse_get_caller_identity(body, len, &id, msg, sizeof(msg));
        if (status && msg[0]) {
            char m2[300];
            snprintf(m2, sizeof(m2), "GetCallerIdentity: %s", msg);
            cwx__parse_error(&perr, err, m2);
            err = &perr;
        }
        struct cwx_sts_identity res = {id.account, id.arn, id.user_id};
        call->cb.identity(status, status ? NULL : &res, err, call->ud);
        cwx__sts_identity_free(&id);
    } else {
        struct cwx_sts_assumed_role res = {0};
        const char *op = call->op == S_ASSUME ? "AssumeRole" : "AssumeRoleWithWebIdentity";
        if (!status)
            status = cwx_sts_parse_assume_role(body, len, op, &res, msg, sizeof(msg));
        if (status && msg[0]) {
            cwx__parse_error(&perr, err, msg);
            err = &perr;
        }
        call->cb.assume(status, status ? NULL : &res, err, call->ud);
        cwx_sts_assumed_role_free(&res);
    }
    s_call_free(call);
}

/* Takes ownership of call (its body is built): sends it or frees it. */
static int s_start(struct cwx_aws_client *c, struct s_call *call, unsigned flags)
{
    call->header = (struct cwx_http_header){
        "Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};
    call->req = (struct cwx_aws_request){
        .service = "sts",
        .protocol = CWX_PROTO_QUERY,
        .method = "POST",
        .path = "/",
        .headers = &call->header,
        .n_headers = 1,
        .body = call->body.ptr,
        .body_len = call->body.len,
        .flags = flags,
    };
    int rc = cwx_aws_call(c, &call->req, s_on_done, call);
    if (rc)
        s_call_free(call);
    return rc;
}

static struct s_call *s_call_new(enum s_op op, const char *action, void *ud)
{
    struct s_call *call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    call->op = op;
    call->ud = ud;
    cwx_buf_init(&call->body, 0);
    if (cwx__form_add(&call->body, "Action", action) ||
        cwx__form_add(&call->body, "Version", "2011-06-15")) {
        s_call_free(call);
        return NULL;
    }
    return call;
}

int cwx_sts_get_caller_identity(struct cwx_aws_client *c,
                                cwx_sts_get_caller_identity_fn *cb, void *ud)
{
    if (!c || !cb)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_IDENTITY, "GetCallerIdentity", ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.identity = cb;
    return s_start(c, call, 0);
}

/* RoleSessionName: 2–64 characters of [\w+=,.@-]. */
static int s_session_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 2 || n > 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_+=,.@-", *s))
            return 0;
    return 1;
}

static int s_duration_ok(int d)
{
    return d == 0 || (d >= 900 && d <= 43200);
}

/* Appends the parameters both AssumeRole calls share. */
static int s_role_params(struct cwx_buf *b, const char *role_arn, const char *session,
                         int duration)
{
    char dur[16];
    int rc = cwx__form_add(b, "RoleArn", role_arn);
    if (!rc)
        rc = cwx__form_add(b, "RoleSessionName", session);
    if (!rc && duration) {
        snprintf(dur, sizeof(dur), "%d", duration);
        rc = cwx__form_add(b, "DurationSeconds", dur);
    }
    return rc;
}

int cwx_sts_assume_role(struct cwx_aws_client *c, const struct cwx_sts_assume_role_req *req,
                        cwx_sts_assume_role_fn *cb, void *ud)
{
    if (!c || !req || !cb || !req->role_arn || !req->role_arn[0] ||
        !s_session_name_ok(req->role_session_name) || !s_duration_ok(req->duration_seconds) ||
        (req->external_id && (strlen(req->external_id) < 2 || strlen(req->external_id) > 1224)))
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_ASSUME, "AssumeRole", ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.assume = cb;
    int rc = s_role_params(&call->body, req->role_arn, req->role_session_name,
                           req->duration_seconds);
    if (!rc && req->external_id)
        rc = cwx__form_add(&call->body, "ExternalId", req->external_id);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, 0);
}

int cwx_sts_assume_role_with_web_identity(struct cwx_aws_client *c,
                                          const struct cwx_sts_assume_role_web_identity_req *req,
                                          cwx_sts_assume_role_fn *cb, void *ud)
{
    if (!c || !req || !cb || !req->role_arn || !req->role_arn[0] ||
        !s_session_name_ok(req->role_session_name) || !s_duration_ok(req->duration_seconds) ||
        !req->web_identity_token || strlen(req->web_identity_token) < 4)
        return CWX_EINVAL;
    struct s_call *call = s_call_new(S_ASSUME_WEB, "AssumeRoleWithWebIdentity", ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.assume = cb;
    int rc = s_role_params(&call->body, req->role_arn, req->role_session_name,
                           req->duration_seconds);
    if (!rc)
        rc = cwx__form_add(&call->body, "WebIdentityToken", req->web_identity_token);
    if (rc) {
        s_call_free(call);
        return rc;
    }
    return s_start(c, call, CWX_AWS_UNSIGNED);
}
