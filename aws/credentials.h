/* AWS credentials: the SDK's provider chain (DESIGN.md §6), asynchronous,
 * cached and refreshed ahead of expiry. */
#ifndef CWX_AWS_CREDENTIALS_H
#define CWX_AWS_CREDENTIALS_H

#include <stdint.h>

struct cwx_aws;

/* A set of credentials. Strings are owned by the provider that returned it
 * and stay valid until the next refresh; copy what you keep. Never log them. */
struct cwx_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
    int64_t expiration_ms;     /* 0 = does not expire */
    const char *source;        /* "environment", "profile:prod", "assume-role", "imds", … */
};

struct cwx_creds_provider;

/* Called exactly once per cwx_creds_get that returned 0, from the loop.
 * status is 0 or a CWX_E* code (CWX_ECRED: no source had credentials;
 * CWX_EDENIED: a role could not be assumed); `detail` explains failures. */
typedef void cwx_creds_fn(int status, const struct cwx_credentials *creds,
                          const char *detail, void *ud);

/* Options for a provider chain. All strings borrowed during the call. */
struct cwx_creds_options {
    const char *profile;     /* --profile / account `profile`; NULL = AWS_PROFILE or "default" */
    const char *role_arn;    /* per-account role assumed from the base chain; NULL = none */
    const char *external_id; /* with role_arn */
    const char *session_name;/* default "cwexport" */
    const char *region;      /* for the STS endpoint of role assumption */
};

/* Builds the provider: the default chain (environment, web identity, shared
 * files, ECS, IMDSv2) or the named profile, wrapped in an AssumeRole provider
 * when role_arn is set. The caller frees it with cwx_creds_provider_free. */
int cwx_creds_provider_new(struct cwx_aws *aws, const struct cwx_creds_options *opts,
                           struct cwx_creds_provider **out);
void cwx_creds_provider_free(struct cwx_creds_provider *p);

/* Gets credentials, from cache when they have more than the refresh margin
 * (5 minutes, or a quarter of their lifetime when shorter) left. */
int cwx_creds_get(struct cwx_creds_provider *p, cwx_creds_fn *cb, void *ud);

/* Forgets the cache so the next get refreshes (after ExpiredToken). */
void cwx_creds_invalidate(struct cwx_creds_provider *p);

#endif
