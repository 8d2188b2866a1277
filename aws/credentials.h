/* AWS credentials: the SDK's provider chain (docs/architecture.md §aws-layer), asynchronous,
 * cached and refreshed ahead of expiry. */
#ifndef CWX_AWS_CREDENTIALS_H
#define CWX_AWS_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cwx_aws;

/* A set of credentials. Strings are owned by the provider that returned it
 * and stay valid during the callback and then until the provider's next
 * refresh, cwx_creds_invalidate or free; copy what you keep. Never log the
 * secret or the token (they are wiped when the provider drops them). */
struct cwx_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
    int64_t expiration_ms;     /* 0 = does not expire */
    const char *source;        /* as cwx_creds_provider_source: "environment", "profile:prod", … */
};

struct cwx_creds_provider;

/* Called exactly once per cwx_creds_get that returned 0, from the loop.
 * status is 0 or a CWX_E* code (CWX_ECRED: no source had credentials;
 * CWX_EDENIED: a role could not be assumed); `detail` explains failures. */
typedef void cwx_creds_fn(int status, const struct cwx_credentials *creds,
                          const char *detail, void *ud);

/* Options for a provider chain. All strings borrowed during the call. */
struct cwx_creds_options {
    /* --profile / account `profile`; NULL = AWS_PROFILE or "default". A
     * profile named here skips the environment's keys and web identity (as
     * the AWS CLI's --profile does) and must exist; AWS_PROFILE does not
     * skip them. */
    const char *profile;
    const char *role_arn;    /* per-account role assumed from the base chain; NULL = none */
    const char *external_id; /* with role_arn */
    const char *session_name;/* default "cwexport" */
    const char *region;      /* for the STS endpoint of role assumption */
};

/* Builds the provider: the default chain (environment, web identity, shared
 * files, ECS, IMDSv2) or the named profile, wrapped in an AssumeRole provider
 * when role_arn is set. The first source that is configured is chosen here,
 * once; if it then fails, gets fail (no fall-through to the next source, as
 * in the SDKs). A configuration mistake (missing profile, source_profile
 * cycle, half a key pair…) does not fail this call: the provider's source is
 * "none" and every get fails with CWX_ECRED and the reason, so it reaches
 * the user like any other credentials error. Returns 0, CWX_EINVAL or
 * CWX_ENOMEM. The caller frees it with cwx_creds_provider_free. */
int cwx_creds_provider_new(struct cwx_aws *aws, const struct cwx_creds_options *opts,
                           struct cwx_creds_provider **out);
/* Gets still waiting are called back with CWX_ECANCELED, from the loop. A
 * fetch in flight (an HTTP request, STS call or credential_process child,
 * which is killed) keeps what it needs alive until it ends: run the loop
 * before cwx_aws_free, or free the aws context, whose transport cancels it. */
void cwx_creds_provider_free(struct cwx_creds_provider *p);

/* Gets credentials, from cache when they have more than the refresh margin
 * (5 minutes, or a quarter of their lifetime when shorter) left; otherwise
 * one fetch serves every get made while it runs. Returns 0 and cb runs
 * exactly once, from the loop (never from inside this call), or returns
 * CWX_EINVAL / CWX_ENOMEM and cb never runs. When an early refresh fails
 * but the cached credentials have not expired, those are delivered (and a
 * warning logged). */
int cwx_creds_get(struct cwx_creds_provider *p, cwx_creds_fn *cb, void *ud);

/* Forgets the cache so the next get refreshes (after ExpiredToken). */
void cwx_creds_invalidate(struct cwx_creds_provider *p);

/* A provider of fixed credentials (tests of other modules, tools). Strings
 * are copied; source NULL = "static". Callbacks still come from loop, never
 * from inside cwx_creds_get. Free with cwx_creds_provider_free. */
int cwx_creds_provider_static(uv_loop_t *loop, const char *access_key_id,
                              const char *secret_access_key, const char *session_token,
                              int64_t expiration_ms, const char *source,
                              struct cwx_creds_provider **out);

/* Which source the provider was resolved to, for `cwexport whoami` and logs;
 * the same string as cwx_credentials.source. Profile sources name the
 * profile and, for roles, what the role is assumed from:
 *   "environment"                 AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 *   "web-identity"                AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *   "profile:NAME"                static keys in the shared files
 *   "profile:NAME/process"        credential_process
 *   "profile:NAME/web-identity"   web_identity_token_file + role_arn
 *   "profile:NAME/sso"            IAM Identity Center (sso_session or sso_start_url)
 *   "profile:NAME/assume-role <- BASE"  role_arn with source_profile or
 *                                 credential_source; BASE is the source above
 *   "ecs"                         container credentials
 *   "imds"                        EC2 instance metadata (IMDSv2)
 *   "assume-role <- BASE"         cwx_creds_options.role_arn over BASE
 *   "none"                        nothing configured (every get fails)
 * Valid as long as p. */
const char *cwx_creds_provider_source(const struct cwx_creds_provider *p);

struct cwx_creds_stats {
    uint64_t gets;    /* cwx_creds_get calls accepted */
    uint64_t fetches; /* fetches from the source (the rest came from cache) */
    uint64_t failures;/* fetches that failed */
};
void cwx_creds_get_stats(const struct cwx_creds_provider *p, struct cwx_creds_stats *out);

/* The `region` of a profile in the shared files (AWS_CONFIG_FILE,
 * AWS_SHARED_CREDENTIALS_FILE). profile NULL = AWS_PROFILE or "default".
 * Returns 0 and copies it into out, CWX_ENOTFOUND when the profile has none,
 * CWX_ETOOBIG when it does not fit, CWX_ECRED when a file cannot be read. */
int cwx_creds_profile_region(const char *profile, char *out, size_t size);

/* The region in the SDK's order: cli_region (--region), AWS_REGION,
 * AWS_DEFAULT_REGION, then profile's region as above. *origin (when not
 * NULL) gets "--region", "AWS_REGION", "AWS_DEFAULT_REGION" or "profile".
 * Returns 0, CWX_ENOTFOUND when none is set, CWX_ETOOBIG when it does not
 * fit, CWX_ECRED when a shared file cannot be read. */
int cwx_creds_resolve_region(const char *cli_region, const char *profile, char *out,
                             size_t size, const char **origin);

#endif
