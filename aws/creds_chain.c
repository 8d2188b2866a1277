/* The default chain, in the SDKs' order (docs/architecture.md §aws-layer): environment, web
 * identity, the shared files' profile, ECS container credentials, EC2
 * instance metadata. The first source that is configured wins; a configured
 * source that then fails is an error, not a reason to try the next one. A
 * configuration mistake found here becomes a provider whose every get fails
 * with the reason, so it reaches the user through the usual callback. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/core.h"
#include "aws/credentials.h"
#include "aws/credentials_internal.h"
#include "common/error.h"

/* Profiles chained through source_profile, at most. */
#define CWX__MAX_PROFILE_DEPTH 16

struct s_ctx {
    uv_loop_t *loop;
    struct cwx_aws *aws;
    const struct cwx_creds_options *opts;
    struct cwx__profiles files;
    const char *visited[CWX__MAX_PROFILE_DEPTH + 1];
    int depth;
    char err[1024]; /* the configuration error, when a function returns CWX_ECRED */
};

static int s_fail(struct s_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int s_fail(struct s_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return CWX_ECRED;
}

/* The region STS is called in for profile: the options', the environment's,
 * the profile's, else us-east-1 (what the global endpoint serves). */
static const char *s_sts_region(struct s_ctx *c, const char *profile)
{
    const char *r = c->opts && c->opts->region && *c->opts->region ? c->opts->region : NULL;
    if (!r)
        r = cwx__creds_env("AWS_REGION");
    if (!r)
        r = cwx__creds_env("AWS_DEFAULT_REGION");
    if (!r && profile)
        r = cwx__profile_get(&c->files, profile, "region");
    return r ? r : "us-east-1";
}

static int s_join(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s%s", a, b);
    return n < 0 || (size_t)n >= size ? CWX_ETOOBIG : 0;
}

static int s_imds(struct s_ctx *c, struct cwx_creds_provider **out)
{
    return cwx__creds_imds_new(c->loop, c->aws, "imds",
                               cwx__creds_env("AWS_EC2_METADATA_SERVICE_ENDPOINT"), out);
}

static int s_imds_disabled(void)
{
    const char *v = cwx__creds_env("AWS_EC2_METADATA_DISABLED");
    return v && strcasecmp(v, "true") == 0;
}

/* ECS when configured: 0 with *out, 0 with *out NULL when not configured,
 * CWX_ECRED (c->err) when misconfigured. */
static int s_ecs(struct s_ctx *c, struct cwx_creds_provider **out)
{
    char *url = NULL;
    *out = NULL;
    int rc = cwx__creds_ecs_url(&url, c->err, sizeof(c->err));
    if (rc == CWX_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    rc = cwx__creds_ecs_new(c->loop, c->aws, "ecs", url, out);
    free(url);
    return rc;
}

static int s_profile(struct s_ctx *c, const char *name, struct cwx_creds_provider **out);

/* Static keys of profile name: 0 with *out, or with *out NULL when the
 * profile has none; CWX_ECRED when only half of them is there. */
static int s_profile_static(struct s_ctx *c, const char *name, struct cwx_creds_provider **out)
{
    const char *id = cwx__profile_get(&c->files, name, "aws_access_key_id");
    const char *secret = cwx__profile_get(&c->files, name, "aws_secret_access_key");
    char source[320];
    *out = NULL;
    if (!id && !secret)
        return 0;
    if (!id || !secret)
        return s_fail(c, "profile %s: %s is set but %s is not", name,
                      id ? "aws_access_key_id" : "aws_secret_access_key",
                      id ? "aws_secret_access_key" : "aws_access_key_id");
    if (s_join(source, sizeof(source), "profile:", name))
        return s_fail(c, "profile %.100s…: name too long", name);
    return cwx__creds_static_new(c->loop, source, id, secret,
                                 cwx__profile_get(&c->files, name, "aws_session_token"), 0, out);
}

/* The credentials a role of profile name is assumed from. */
static int s_role_base(struct s_ctx *c, const char *name, struct cwx_creds_provider **out)
{
    const char *src = cwx__profile_get(&c->files, name, "source_profile");
    const char *cs = cwx__profile_get(&c->files, name, "credential_source");
    *out = NULL;
    if (src && cs)
        return s_fail(c, "profile %s: source_profile and credential_source are mutually "
                         "exclusive", name);
    if (cs) {
        int rc = 0;
        if (strcmp(cs, "Environment") == 0) {
            if (!cwx__creds_env("AWS_ACCESS_KEY_ID") || !cwx__creds_env("AWS_SECRET_ACCESS_KEY"))
                return s_fail(c, "profile %s: credential_source Environment, but "
                                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", name);
            rc = cwx__creds_env_new(c->loop, out);
        } else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
            if (s_imds_disabled())
                return s_fail(c, "profile %s: credential_source Ec2InstanceMetadata, but "
                                 "AWS_EC2_METADATA_DISABLED is true", name);
            rc = s_imds(c, out);
        } else if (strcmp(cs, "EcsContainer") == 0) {
            rc = s_ecs(c, out);
            if (!rc && !*out)
                return s_fail(c, "profile %s: credential_source EcsContainer, but neither "
                                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI is set", name);
        } else {
            return s_fail(c, "profile %s: credential_source %.64s is not one of Environment, "
                             "Ec2InstanceMetadata, EcsContainer", name, cs);
        }
        return rc;
    }
    if (!src)
        return s_fail(c, "profile %s: role_arn needs source_profile or credential_source",
                      name);
    if (strcmp(src, name) == 0) {
        /* A profile may source itself: its own static keys (botocore). */
        int rc = s_profile_static(c, name, out);
        if (!rc && !*out)
            return s_fail(c, "profile %s: source_profile is itself but it has no static keys",
                          name);
        return rc;
    }
    for (int i = 0; i < c->depth; i++)
        if (strcmp(c->visited[i], src) == 0) {
            char chain[512] = "";
            for (int j = i; j < c->depth; j++) {
                strncat(chain, c->visited[j], sizeof(chain) - strlen(chain) - 1);
                strncat(chain, " -> ", sizeof(chain) - strlen(chain) - 1);
            }
            strncat(chain, src, sizeof(chain) - strlen(chain) - 1);
            return s_fail(c, "source_profile cycle: %s", chain);
        }
    if (!cwx__profile_exists(&c->files, src))
        return s_fail(c, "profile %s: source_profile %s not found in %s or %s", name, src,
                      c->files.config_path, c->files.credentials_path);
    int rc = s_profile(c, src, out);
    if (!rc && !*out)
        return s_fail(c, "profile %s: source_profile %s has no credentials", name, src);
    return rc;
}

/* IAM Identity Center settings of profile name, resolved as the CLI does:
 * with sso_session, sso_start_url and sso_region come from the
 * `[sso-session NAME]` section (the profile may repeat them, identically);
 * without, from the profile (legacy). 0 with *out NULL when the profile has
 * no SSO settings. */
static int s_profile_sso(struct s_ctx *c, const char *name, struct cwx_creds_provider **out)
{
    const char *session = cwx__profile_get(&c->files, name, "sso_session");
    const char *url = cwx__profile_get(&c->files, name, "sso_start_url");
    const char *region = cwx__profile_get(&c->files, name, "sso_region");
    const char *account = cwx__profile_get(&c->files, name, "sso_account_id");
    const char *role = cwx__profile_get(&c->files, name, "sso_role_name");
    char source[512];
    *out = NULL;
    if (!session && !url && !account && !role)
        return 0;
    if (session) {
        const struct cwx__ini_section *sec =
            cwx__config_section(&c->files, "sso-session", session);
        if (!sec)
            return s_fail(c, "profile %s: sso_session %s has no [sso-session %s] section in %s",
                          name, session, session, c->files.config_path);
        const char *surl = cwx__ini_get(sec, "sso_start_url");
        const char *sregion = cwx__ini_get(sec, "sso_region");
        if (url && surl && strcmp(url, surl) != 0)
            return s_fail(c, "profile %s: sso_start_url differs from the one of sso-session %s",
                          name, session);
        if (region && sregion && strcmp(region, sregion) != 0)
            return s_fail(c, "profile %s: sso_region differs from the one of sso-session %s",
                          name, session);
        url = surl && *surl ? surl : NULL;
        region = sregion && *sregion ? sregion : NULL;
        if (!url || !region)
            return s_fail(c, "sso-session %s: %s is missing", session,
                          !url ? "sso_start_url" : "sso_region");
    }
    if (!url || !region || !account || !role)
        return s_fail(c, "profile %s: IAM Identity Center needs %s", name,
                      !url      ? "sso_start_url (or sso_session)"
                      : !region ? "sso_region"
                      : !account ? "sso_account_id"
                                 : "sso_role_name");
    struct cwx__sso_params sp = {
        .profile = name,
        .session_name = session,
        .start_url = url,
        .region = region,
        .account_id = account,
        .role_name = role,
    };
    snprintf(source, sizeof(source), "profile:%.200s/sso", name);
    return cwx__creds_sso_new(c->loop, c->aws, &sp, source, out);
}

static int s_parse_duration(struct s_ctx *c, const char *name, int *out)
{
    const char *v = cwx__profile_get(&c->files, name, "duration_seconds");
    *out = 0;
    if (!v)
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!end || *end || n < 900 || n > 43200)
        return s_fail(c, "profile %s: duration_seconds must be a whole number from 900 to "
                         "43200", name);
    *out = (int)n;
    return 0;
}

/* The provider of profile name: 0 with *out; 0 with *out NULL when the
 * profile sets no credentials; CWX_ECRED (c->err) when misconfigured. */
static int s_profile(struct s_ctx *c, const char *name, struct cwx_creds_provider **out)
{
    char source[512];
    int rc;
    *out = NULL;
    if (c->depth >= CWX__MAX_PROFILE_DEPTH)
        return s_fail(c, "profile %s: source_profile chain longer than %d", name,
                      CWX__MAX_PROFILE_DEPTH);
    const char *role_arn = cwx__profile_get(&c->files, name, "role_arn");
    /* A source profile with static keys is used for them even when it also
     * names a role (botocore); the profile asked for assumes its role. */
    if (role_arn && c->depth > 0) {
        rc = s_profile_static(c, name, out);
        if (rc || *out)
            return rc;
    }
    if (role_arn) {
        const char *web = cwx__profile_get(&c->files, name, "web_identity_token_file");
        const char *session = cwx__profile_get(&c->files, name, "role_session_name");
        int duration;
        if ((rc = s_parse_duration(c, name, &duration)))
            return rc;
        if (cwx__profile_get(&c->files, name, "mfa_serial"))
            return s_fail(c, "profile %s: mfa_serial needs an interactive MFA code, which "
                             "cwexport cannot ask for; use a profile without it", name);
        if (web) {
            struct cwx__web_identity_params wp = {
                .role_arn = role_arn,
                .token_file = web,
                .session_name = session,
                .duration_seconds = duration,
                .region = s_sts_region(c, name),
            };
            snprintf(source, sizeof(source), "profile:%.200s/web-identity", name);
            return cwx__creds_web_identity_new(c->loop, c->aws, &wp, source, out);
        }
        struct cwx_creds_provider *base = NULL;
        c->visited[c->depth++] = name;
        rc = s_role_base(c, name, &base);
        c->depth--;
        if (rc)
            return rc;
        snprintf(source, sizeof(source), "profile:%.200s/assume-role <- %.280s", name,
                 cwx_creds_provider_source(base));
        struct cwx__assume_role_params ap = {
            .role_arn = role_arn,
            .external_id = cwx__profile_get(&c->files, name, "external_id"),
            .session_name = session,
            .duration_seconds = duration,
            .region = s_sts_region(c, name),
        };
        return cwx__creds_assume_role_new(c->loop, c->aws, base, &ap, source, out);
    }
    /* botocore's order: SSO before the static keys of the credentials file. */
    rc = s_profile_sso(c, name, out);
    if (rc || *out)
        return rc;
    rc = s_profile_static(c, name, out);
    if (rc || *out)
        return rc;
    const char *process = cwx__profile_get(&c->files, name, "credential_process");
    if (process) {
        char what[256];
        snprintf(source, sizeof(source), "profile:%.200s/process", name);
        snprintf(what, sizeof(what), "profile %.200s", name);
        return cwx__creds_process_new(c->loop, source, what, process, out);
    }
    return 0;
}

/* The base chain, without the options' role. */
static int s_base(struct s_ctx *c, struct cwx_creds_provider **out)
{
    const struct cwx_creds_options *o = c->opts;
    int explicit_profile = o && o->profile && *o->profile;
    const char *env_profile = cwx__creds_env("AWS_PROFILE");
    const char *profile = explicit_profile ? o->profile : env_profile ? env_profile : "default";
    int rc;
    *out = NULL;

    /* An explicitly chosen profile overrides the environment's keys, as
     * botocore's --profile does; AWS_PROFILE does not. */
    if (!explicit_profile) {
        const char *id = cwx__creds_env("AWS_ACCESS_KEY_ID");
        const char *secret = cwx__creds_env("AWS_SECRET_ACCESS_KEY");
        if (id && secret)
            return cwx__creds_env_new(c->loop, out);
        if (id || secret)
            return s_fail(c, "environment: %s is set but %s is not",
                          id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                          id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        const char *token_file = cwx__creds_env("AWS_WEB_IDENTITY_TOKEN_FILE");
        const char *role_arn = cwx__creds_env("AWS_ROLE_ARN");
        if (token_file && role_arn) {
            rc = cwx__profiles_load(&c->files, c->err, sizeof(c->err));
            if (rc && rc != CWX_ENOMEM)
                c->files = (struct cwx__profiles){0}; /* only for the region */
            else if (rc)
                return rc;
            struct cwx__web_identity_params wp = {
                .role_arn = role_arn,
                .token_file = token_file,
                .session_name = cwx__creds_env("AWS_ROLE_SESSION_NAME"),
                .region = s_sts_region(c, profile),
            };
            return cwx__creds_web_identity_new(c->loop, c->aws, &wp, "web-identity", out);
        }
    }

    rc = cwx__profiles_load(&c->files, c->err, sizeof(c->err));
    if (rc)
        return rc;
    if (cwx__profile_exists(&c->files, profile)) {
        rc = s_profile(c, profile, out);
        if (rc || *out)
            return rc;
    } else if (explicit_profile || env_profile) {
        return s_fail(c, "profile %s not found in %s or %s", profile, c->files.config_path,
                      c->files.credentials_path);
    }

    rc = s_ecs(c, out);
    if (rc || *out)
        return rc;
    if (!s_imds_disabled())
        return s_imds(c, out);
    return s_fail(c, "no credentials: none in the environment, no web identity, profile %s "
                     "has none (%s, %s), no ECS container credentials, and EC2 instance "
                     "metadata is disabled (AWS_EC2_METADATA_DISABLED)",
                  profile, c->files.config_path, c->files.credentials_path);
}

int cwx__creds_build(uv_loop_t *loop, struct cwx_aws *aws, const struct cwx_creds_options *opts,
                     struct cwx_creds_provider **out)
{
    struct s_ctx *c = calloc(1, sizeof(*c));
    struct cwx_creds_provider *base = NULL;
    *out = NULL;
    if (!loop)
        return CWX_EINVAL;
    if (!c)
        return CWX_ENOMEM;
    c->loop = loop;
    c->aws = aws;
    c->opts = opts;
    int rc = s_base(c, &base);
    if (rc == CWX_ECRED)
        rc = cwx__creds_error_new(loop, CWX_ECRED, c->err, &base);
    if (!rc && opts && opts->role_arn && *opts->role_arn) {
        char source[512];
        snprintf(source, sizeof(source), "assume-role <- %.480s", cwx_creds_provider_source(base));
        struct cwx__assume_role_params ap = {
            .role_arn = opts->role_arn,
            .external_id = opts->external_id,
            .session_name = opts->session_name && *opts->session_name ? opts->session_name
                                                                      : "cwexport",
            .region = s_sts_region(c, NULL),
        };
        rc = cwx__creds_assume_role_new(loop, aws, base, &ap, source, &base);
    }
    cwx__profiles_free(&c->files);
    free(c);
    if (!rc)
        *out = base;
    return rc;
}

int cwx_creds_provider_new(struct cwx_aws *aws, const struct cwx_creds_options *opts,
                           struct cwx_creds_provider **out)
{
    if (!aws || !out)
        return CWX_EINVAL;
    return cwx__creds_build(cwx_aws_loop(aws), aws, opts, out);
}
