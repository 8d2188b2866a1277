/* STS client (Query protocol): who we are, and roles to assume. Secrets in
 * results are wiped when freed and must never be logged. */
#ifndef CWX_AWS_STS_H
#define CWX_AWS_STS_H

#include <stdint.h>

#include "aws/core.h"

/* ---- GetCallerIdentity --------------------------------------------------- */

struct cwx_sts_identity {
    const char *account; /* "123456789012" */
    const char *arn;
    const char *user_id;
};

typedef void cwx_sts_get_caller_identity_fn(int status, const struct cwx_sts_identity *res,
                                            const struct cwx_aws_error *err, void *ud);

/* Returns 0 and cb runs exactly once, later, from the loop; or CWX_E*.
 * res and err are valid only during the callback. */
int cwx_sts_get_caller_identity(struct cwx_aws_client *c,
                                cwx_sts_get_caller_identity_fn *cb, void *ud);

/* ---- AssumeRole / AssumeRoleWithWebIdentity ------------------------------ */

/* Temporary credentials and the assumed role. Owned strings; the caller that
 * keeps a copy (cwx_sts_assumed_role_copy) frees it with
 * cwx_sts_assumed_role_free, which wipes the secrets. */
struct cwx_sts_assumed_role {
    char *access_key_id;
    char *secret_access_key; /* secret */
    char *session_token;     /* secret */
    int64_t expiration_ms;   /* epoch ms */
    char *assumed_role_arn;  /* AssumedRoleUser/Arn, "" when absent */
    char *assumed_role_id;   /* AssumedRoleUser/AssumedRoleId, "" when absent */
};

/* Wipes and frees every string, zeroes r; safe on a zeroed struct. */
void cwx_sts_assumed_role_free(struct cwx_sts_assumed_role *r);
/* Deep copy into dst (overwritten). Returns 0 or CWX_ENOMEM (dst zeroed). */
int cwx_sts_assumed_role_copy(struct cwx_sts_assumed_role *dst,
                              const struct cwx_sts_assumed_role *src);

/* res is NULL unless status is 0. res is wiped and freed when the callback
 * returns: copy it to keep it. An STS refusal (AccessDenied) gives
 * CWX_EDENIED as cwx_aws_call reports it. */
typedef void cwx_sts_assume_role_fn(int status, const struct cwx_sts_assumed_role *res,
                                    const struct cwx_aws_error *err, void *ud);

/* Borrowed for the starting call only. */
struct cwx_sts_assume_role_req {
    const char *role_arn;          /* required */
    const char *role_session_name; /* required, 2–64 of [\w+=,.@-] */
    const char *external_id;       /* NULL = none */
    int duration_seconds;          /* 0 = AWS's default (3600) */
};

int cwx_sts_assume_role(struct cwx_aws_client *c, const struct cwx_sts_assume_role_req *req,
                        cwx_sts_assume_role_fn *cb, void *ud);

struct cwx_sts_assume_role_web_identity_req {
    const char *role_arn;           /* required */
    const char *role_session_name;  /* required */
    const char *web_identity_token; /* required; secret, never logged */
    int duration_seconds;           /* 0 = AWS's default */
};

/* Sent unsigned (CWX_AWS_UNSIGNED): the token is the proof of identity, so
 * c's credentials provider is never asked. */
int cwx_sts_assume_role_with_web_identity(struct cwx_aws_client *c,
                                          const struct cwx_sts_assume_role_web_identity_req *req,
                                          cwx_sts_assume_role_fn *cb, void *ud);

#endif
