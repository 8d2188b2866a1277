/* The shared config's settings besides credentials, resolved with their
 * origin: the environment over the profile over the default, as the AWS CLI
 * v2 and the SDKs' reference guide document them. */
#include "aws/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/credentials_internal.h"
#include "common/error.h"
#include "common/log.h"

/* Each service we call: our name (the signing name), its environment
 * variable, its key in a `services` section (the SDKs' service identifier,
 * snake case) and the first labels of its default host name. "sso" (the IAM
 * Identity Center portal, GetRoleCredentials) and "sso-oidc" (CreateToken)
 * take a bearer token, not SigV4; they are here for their endpoints only. */
static const struct {
    const char *service;
    const char *env;
    const char *key;
    const char *host;
} s_services[CWX_AWS_N_SERVICES] = {
    {"logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "cloudwatch_logs", "logs"},
    {"s3", "AWS_ENDPOINT_URL_S3", "s3", "s3"},
    {"sns", "AWS_ENDPOINT_URL_SNS", "sns", "sns"},
    {"sts", "AWS_ENDPOINT_URL_STS", "sts", "sts"},
    {"sso", "AWS_ENDPOINT_URL_SSO", "sso", "portal.sso"},
    {"sso-oidc", "AWS_ENDPOINT_URL_SSO_OIDC", "sso_oidc", "oidc"},
    {"monitoring", "AWS_ENDPOINT_URL_CLOUDWATCH", "cloudwatch", "monitoring"},
};

const char *cwx_retry_mode_name(enum cwx_retry_mode m)
{
    switch (m) {
    case CWX_RETRY_MODE_LEGACY: return "legacy";
    case CWX_RETRY_MODE_ADAPTIVE: return "adaptive";
    default: return "standard";
    }
}

int cwx_aws_settings_service(const char *service)
{
    for (int i = 0; i < CWX_AWS_N_SERVICES; i++)
        if (service && strcmp(service, s_services[i].service) == 0)
            return i;
    return -1;
}

const char *cwx_aws_settings_service_env(int i)
{
    return i >= 0 && i < CWX_AWS_N_SERVICES ? s_services[i].env : NULL;
}

const char *cwx_aws_settings_service_host(int i)
{
    return i >= 0 && i < CWX_AWS_N_SERVICES ? s_services[i].host : NULL;
}

void cwx_aws_settings_free(struct cwx_aws_settings *s)
{
    free(s->ca_bundle);
    for (int i = 0; i < CWX_AWS_N_SERVICES; i++)
        free(s->endpoint[i]);
    memset(s, 0, sizeof(*s));
}

static int s_true(const char *v)
{
    return v && strcasecmp(v, "true") == 0;
}

/* The value of key: the environment's, else the profile's. *origin says which. */
static const char *s_pick(const struct cwx__profiles *files, const char *profile,
                          const char *env, const char *key, const char **origin)
{
    const char *v = cwx__creds_env(env);
    if (v) {
        *origin = env;
        return v;
    }
    v = files ? cwx__profile_get(files, profile, key) : NULL;
    if (v) {
        *origin = "profile";
        return v;
    }
    *origin = "default";
    return NULL;
}

/* The profile: --profile, AWS_PROFILE, "default". */
static void s_profile(const char *cli_profile, struct cwx_aws_settings *out)
{
    const char *v;
    if (cli_profile && *cli_profile) {
        v = cli_profile;
        out->profile_origin = "--profile";
    } else if ((v = cwx__creds_env("AWS_PROFILE"))) {
        out->profile_origin = "AWS_PROFILE";
    } else {
        v = "default";
        out->profile_origin = "default";
    }
    snprintf(out->profile, sizeof(out->profile), "%s", v);
}

/* The region: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's. */
static void s_region(const struct cwx__profiles *f, const char *cli_region,
                     struct cwx_aws_settings *out)
{
    const char *v, *origin;
    if (cli_region && *cli_region) {
        v = cli_region;
        origin = "--region";
    } else if ((v = cwx__creds_env("AWS_REGION"))) {
        origin = "AWS_REGION";
    } else {
        v = s_pick(f, out->profile, "AWS_DEFAULT_REGION", "region", &origin);
    }
    if (v && strlen(v) < sizeof(out->region)) {
        memcpy(out->region, v, strlen(v) + 1);
        out->region_origin = origin;
    } else {
        out->region_origin = "none";
    }
}

/* retry_mode, then max_attempts (whose default depends on the mode). A
 * value that is not valid is warned about and the default used. */
static void s_retry(const struct cwx__profiles *f, struct cwx_aws_settings *out)
{
    const char *origin;
    const char *v = s_pick(f, out->profile, "AWS_RETRY_MODE", "retry_mode", &origin);
    out->retry_mode = CWX_RETRY_MODE_STANDARD;
    out->retry_mode_origin = origin;
    if (v && strcmp(v, "legacy") == 0) {
        out->retry_mode = CWX_RETRY_MODE_LEGACY;
    } else if (v && strcmp(v, "adaptive") == 0) {
        out->retry_mode = CWX_RETRY_MODE_ADAPTIVE;
    } else if (v && strcmp(v, "standard") != 0) {
        CWX_LOGW("retry_mode %.20s (%s) is not legacy, standard or adaptive: using standard", v,
                 origin);
        out->retry_mode_origin = "default";
    }
    v = s_pick(f, out->profile, "AWS_MAX_ATTEMPTS", "max_attempts", &origin);
    out->max_attempts = out->retry_mode == CWX_RETRY_MODE_LEGACY ? 5 : 3;
    out->max_attempts_origin = "default";
    if (!v)
        return;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < 1 || n > 20) {
        CWX_LOGW("max_attempts %.20s (%s) is not a whole number from 1 to 20: using %d", v,
                 origin, out->max_attempts);
    } else {
        out->max_attempts = (int)n;
        out->max_attempts_origin = origin;
    }
}

/* Service i's endpoint: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the
 * profile's services section, the profile's endpoint_url, the default. */
static int s_endpoint(const struct cwx__profiles *f, const char *services,
                      const struct cwx__ini_section *svc_section, int i,
                      struct cwx_aws_settings *out)
{
    char *origin_out = out->endpoint_origin[i];
    size_t osz = sizeof(out->endpoint_origin[i]);
    const char *profile_url = f ? cwx__profile_get(f, out->profile, "endpoint_url") : NULL;
    const char *v;
    snprintf(origin_out, osz, "default");
    if (out->ignore_endpoints)
        return 0;
    char key[64];
    snprintf(key, sizeof(key), "%s.endpoint_url", s_services[i].key);
    const char *svc_url = cwx__ini_get(svc_section, key);
    if ((v = cwx__creds_env(s_services[i].env))) {
        snprintf(origin_out, osz, "%s", s_services[i].env);
    } else if ((v = cwx__creds_env("AWS_ENDPOINT_URL"))) {
        snprintf(origin_out, osz, "AWS_ENDPOINT_URL");
    } else if (svc_url && *svc_url) {
        v = svc_url;
        snprintf(origin_out, osz, "profile services section %.100s", services);
    } else if (profile_url) {
        v = profile_url;
        snprintf(origin_out, osz, "profile endpoint_url");
    }
    size_t n = v ? strlen(v) : 0;
    while (n && v[n - 1] == '/')
        n--; /* a URL without its trailing slashes */
    if (n && !(out->endpoint[i] = strndup(v, n)))
        return CWX_ENOMEM;
    if (!out->endpoint[i])
        snprintf(origin_out, osz, "default");
    return 0;
}

/* ca_bundle, ignore_configured_endpoint_urls and every service's endpoint. */
static int s_endpoints(const struct cwx__profiles *f, struct cwx_aws_settings *out)
{
    const char *origin;
    const char *v = s_pick(f, out->profile, "AWS_CA_BUNDLE", "ca_bundle", &origin);
    out->ca_bundle_origin = origin;
    if (v && !(out->ca_bundle = strdup(v)))
        return CWX_ENOMEM;
    v = s_pick(f, out->profile, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
               "ignore_configured_endpoint_urls", &origin);
    out->ignore_endpoints = s_true(v);
    out->ignore_endpoints_origin = origin;
    const char *services = f ? cwx__profile_get(f, out->profile, "services") : NULL;
    const struct cwx__ini_section *svc_section =
        services ? cwx__config_section(f, "services", services) : NULL;
    int rc = 0;
    for (int i = 0; i < CWX_AWS_N_SERVICES && !rc; i++)
        rc = s_endpoint(f, services, svc_section, i, out);
    return rc;
}

int cwx_aws_settings_load(const char *cli_profile, const char *cli_region,
                          struct cwx_aws_settings *out, char *err, size_t err_size)
{
    struct cwx__profiles files;
    memset(out, 0, sizeof(*out));
    if (err_size)
        err[0] = '\0';
    s_profile(cli_profile, out);
    int rc = cwx__profiles_load(&files, err, err_size);
    if (rc == CWX_ENOMEM)
        return rc;
    int file_error = rc != 0;
    /* A file that cannot be read: the environment's settings still hold. */
    const struct cwx__profiles *f = file_error ? NULL : &files;
    s_region(f, cli_region, out);
    s_retry(f, out);
    rc = s_endpoints(f, out);
    if (!file_error)
        cwx__profiles_free(&files);
    if (rc) {
        cwx_aws_settings_free(out);
        return rc;
    }
    return file_error ? CWX_ECONFIG : 0;
}
