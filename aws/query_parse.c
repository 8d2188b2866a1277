/* The Query protocol's answers (SNS and STS), the pure half of those
 * clients: parsers and result helpers. No I/O here, so tests and fuzzers
 * link it alone. */
#include "aws/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/clients_internal.h"
#include "aws/sns.h"
#include "common/error.h"
#include "common/mem.h"
#include "common/secret.h"

/* ---- sns ------------------------------------------------------------------- */

int cwx_sns_parse_publish(const char *body, size_t len, char **message_id, char *msg,
                          size_t msg_size)
{
    struct cwx__xml_field f[] = {
        {"PublishResponse/PublishResult/MessageId", message_id, 1},
    };
    int rc = cwx__xml_extract(body, len, f, 1, 0, msg, msg_size);
    if (!rc && !(*message_id)[0]) {
        free(*message_id);
        *message_id = NULL;
        cwx__msg(msg, msg_size, "empty <MessageId>");
        rc = CWX_EPARSE;
    }
    return rc;
}

/* ---- results --------------------------------------------------------------- */

void cwx_sts_assumed_role_free(struct cwx_sts_assumed_role *r)
{
    CWX_SECRET_FREE_ALL(r->access_key_id, r->secret_access_key, r->session_token);
    CWX_FREE_ALL(r->assumed_role_arn, r->assumed_role_id);
    memset(r, 0, sizeof(*r));
}

int cwx_sts_assumed_role_copy(struct cwx_sts_assumed_role *dst,
                              const struct cwx_sts_assumed_role *src)
{
    *dst = *src;
    char **const strings[] = {&dst->access_key_id, &dst->secret_access_key, &dst->session_token,
                              &dst->assumed_role_arn, &dst->assumed_role_id};
    int rc = cwx__strdup_each(strings, sizeof(strings) / sizeof(strings[0]));
    if (rc)
        cwx_sts_assumed_role_free(dst);
    return rc;
}

void cwx__sts_identity_free(struct cwx__sts_identity *id)
{
    free(id->account);
    free(id->arn);
    free(id->user_id);
    memset(id, 0, sizeof(*id));
}

/* ---- parsers ------------------------------------------------------------------ */

int cwx_sts_parse_get_caller_identity(const char *body, size_t len,
                                      struct cwx__sts_identity *out, char *msg,
                                      size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    struct cwx__xml_field f[] = {
        {"GetCallerIdentityResponse/GetCallerIdentityResult/Account", &out->account, 1},
        {"GetCallerIdentityResponse/GetCallerIdentityResult/Arn", &out->arn, 1},
        {"GetCallerIdentityResponse/GetCallerIdentityResult/UserId", &out->user_id, 0},
    };
    int rc = cwx__xml_extract(body, len, f, 3, 0, msg, msg_size);
    if (!rc && !out->user_id && !(out->user_id = strdup(""))) {
        cwx__msg(msg, msg_size, "out of memory");
        rc = CWX_ENOMEM;
    }
    if (!rc && (!out->account[0] || !out->arn[0])) {
        cwx__msg(msg, msg_size, "empty <Account> or <Arn>");
        rc = CWX_EPARSE;
    }
    if (rc)
        cwx__sts_identity_free(out);
    return rc;
}

int cwx_sts_parse_assume_role(const char *body, size_t len, const char *op,
                              struct cwx_sts_assumed_role *out, char *msg, size_t msg_size)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(op, "AssumeRole") && strcmp(op, "AssumeRoleWithWebIdentity")) {
        cwx__msg(msg, msg_size, "unknown operation");
        return CWX_EINVAL;
    }
    char p[6][96];
    static const char *const leaf[6] = {
        "Credentials/AccessKeyId",  "Credentials/SecretAccessKey",
        "Credentials/SessionToken", "Credentials/Expiration",
        "AssumedRoleUser/Arn",      "AssumedRoleUser/AssumedRoleId",
    };
    for (int i = 0; i < 6; i++)
        snprintf(p[i], sizeof(p[i]), "%sResponse/%sResult/%s", op, op, leaf[i]);
    char *expiration = NULL;
    struct cwx__xml_field f[] = {
        {p[0], &out->access_key_id, 1},    {p[1], &out->secret_access_key, 1},
        {p[2], &out->session_token, 1},    {p[3], &expiration, 1},
        {p[4], &out->assumed_role_arn, 0}, {p[5], &out->assumed_role_id, 0},
    };
    int rc = cwx__xml_extract(body, len, f, 6, 1, msg, msg_size);
    if (!rc && (!out->access_key_id[0] || !out->secret_access_key[0] ||
                !out->session_token[0])) {
        cwx__msg(msg, msg_size, "empty credentials");
        rc = CWX_EPARSE;
    }
    if (!rc && cwx__iso8601_ms(expiration, strlen(expiration), &out->expiration_ms)) {
        cwx__msg(msg, msg_size, "<Expiration> is not an ISO 8601 time");
        rc = CWX_EPARSE;
    }
    if (!rc && !out->assumed_role_arn && !(out->assumed_role_arn = strdup("")))
        rc = CWX_ENOMEM;
    if (!rc && !out->assumed_role_id && !(out->assumed_role_id = strdup("")))
        rc = CWX_ENOMEM;
    if (rc == CWX_ENOMEM)
        cwx__msg(msg, msg_size, "out of memory");
    free(expiration);
    if (rc)
        cwx_sts_assumed_role_free(out);
    return rc;
}

