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
    struct cwx__query q; /* first: the call is its query */
    enum s_op op;
    struct cwx__sts_identity id;
    struct cwx_sts_assumed_role role; /* secrets: wiped */
    union {
        cwx_sts_get_caller_identity_fn *identity;
        cwx_sts_assume_role_fn *assume;
    } cb;
    void *ud;
};

static void s_call_free(struct s_call *call)
{
    cwx__sts_identity_free(&call->id);
    cwx_sts_assumed_role_free(&call->role);
    cwx__query_free(&call->q);
}

static int s_parse(struct cwx__query *q, const char *body, size_t len, char *msg,
                   size_t msg_size)
{
    struct s_call *call = (struct s_call *)q;
    if (call->op == S_IDENTITY)
        return cwx_sts_parse_get_caller_identity(body, len, &call->id, msg, msg_size);
    return cwx_sts_parse_assume_role(body, len, q->action, &call->role, msg, msg_size);
}

static void s_done(struct cwx__query *q, int status, const struct cwx_aws_error *err)
{
    struct s_call *call = (struct s_call *)q;
    if (call->op == S_IDENTITY) {
        struct cwx_sts_identity res = {call->id.account, call->id.arn, call->id.user_id};
        call->cb.identity(status, status ? NULL : &res, err, call->ud);
    } else {
        call->cb.assume(status, status ? NULL : &call->role, err, call->ud);
    }
    s_call_free(call);
}

/* Takes ownership of call (NULL when it could not be made): sends it unless
 * rc (making it, adding its parameters) failed, and on failure frees it and
 * returns the error. */
static int s_start(struct cwx_aws_client *c, struct s_call *call, int rc, unsigned flags)
{
    if (!rc)
        rc = cwx__query_send(c, &call->q, "sts", flags, s_parse, s_done);
    if (rc && call)
        s_call_free(call);
    return rc;
}

static struct s_call *s_call_new(enum s_op op, const char *action, void *ud)
{
    struct s_call *call = cwx__query_new(sizeof(*call), action, "2011-06-15");
    if (call) {
        call->op = op;
        call->ud = ud;
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
    return s_start(c, call, 0, 0);
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

/* Makes a call of op (either AssumeRole) for cb and ud with the parameters
 * both calls take, checked first (CWX_EINVAL). *out is the call, for
 * s_start with the result, or NULL when it could not be made. */
static int s_assume_new(enum s_op op, const char *action, const char *role_arn,
                        const char *session, int duration, cwx_sts_assume_role_fn *cb,
                        void *ud, struct s_call **out)
{
    char dur[16];
    *out = NULL;
    if (!cb || !role_arn || !role_arn[0] || !s_session_name_ok(session) ||
        !s_duration_ok(duration))
        return CWX_EINVAL;
    struct s_call *call = *out = s_call_new(op, action, ud);
    if (!call)
        return CWX_ENOMEM;
    call->cb.assume = cb;
    int rc = cwx__query_add(&call->q, "RoleArn", role_arn);
    if (!rc)
        rc = cwx__query_add(&call->q, "RoleSessionName", session);
    if (!rc && duration) {
        snprintf(dur, sizeof(dur), "%d", duration);
        rc = cwx__query_add(&call->q, "DurationSeconds", dur);
    }
    return rc;
}

int cwx_sts_assume_role(struct cwx_aws_client *c, const struct cwx_sts_assume_role_req *req,
                        cwx_sts_assume_role_fn *cb, void *ud)
{
    if (!c || !req ||
        (req->external_id && (strlen(req->external_id) < 2 || strlen(req->external_id) > 1224)))
        return CWX_EINVAL;
    struct s_call *call;
    int rc = s_assume_new(S_ASSUME, "AssumeRole", req->role_arn, req->role_session_name,
                          req->duration_seconds, cb, ud, &call);
    if (!rc && req->external_id)
        rc = cwx__query_add(&call->q, "ExternalId", req->external_id);
    return s_start(c, call, rc, 0);
}

int cwx_sts_assume_role_with_web_identity(struct cwx_aws_client *c,
                                          const struct cwx_sts_assume_role_web_identity_req *req,
                                          cwx_sts_assume_role_fn *cb, void *ud)
{
    if (!c || !req || !req->web_identity_token || strlen(req->web_identity_token) < 4)
        return CWX_EINVAL;
    struct s_call *call;
    int rc = s_assume_new(S_ASSUME_WEB, "AssumeRoleWithWebIdentity", req->role_arn,
                          req->role_session_name, req->duration_seconds, cb, ud, &call);
    if (!rc)
        rc = cwx__query_add(&call->q, "WebIdentityToken", req->web_identity_token);
    return s_start(c, call, rc, CWX_AWS_UNSIGNED);
}
