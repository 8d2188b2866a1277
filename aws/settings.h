/* The process-wide settings of the shared config that the AWS CLI v2
 * honours besides credentials: region, max_attempts, retry_mode,
 * endpoint_url and the `services` sections, ignore_configured_endpoint_urls,
 * ca_bundle, each with where it came from (environment over profile over
 * default, as the CLI documents it). docs/aws-config.md lists them. */
#ifndef CWX_AWS_SETTINGS_H
#define CWX_AWS_SETTINGS_H

#include <stddef.h>

enum cwx_retry_mode {
    CWX_RETRY_MODE_STANDARD = 0, /* the CLI v2's default */
    CWX_RETRY_MODE_LEGACY,       /* 5 attempts by default, no retry quota */
    CWX_RETRY_MODE_ADAPTIVE,     /* standard + the client-side rate limiter */
};

/* "standard", "legacy", "adaptive". */
const char *cwx_retry_mode_name(enum cwx_retry_mode m);

/* Services whose endpoint can be configured: "logs", "s3", "sns", "sts",
 * "sso", "sso-oidc", "monitoring" (CloudWatch). */
#define CWX_AWS_N_SERVICES 7

struct cwx_aws_settings {
    char profile[256];
    const char *profile_origin; /* "--profile", "AWS_PROFILE", "default" */
    char region[64];            /* "" when none is set */
    const char *region_origin;  /* "--region", "AWS_REGION", "AWS_DEFAULT_REGION", "profile", "none" */
    int max_attempts;
    const char *max_attempts_origin; /* "AWS_MAX_ATTEMPTS", "profile", "default" */
    enum cwx_retry_mode retry_mode;
    const char *retry_mode_origin;   /* "AWS_RETRY_MODE", "profile", "default" */
    char *ca_bundle;                 /* NULL = the system store */
    const char *ca_bundle_origin;    /* "AWS_CA_BUNDLE", "profile", "default" */
    int ignore_endpoints;            /* ignore_configured_endpoint_urls */
    const char *ignore_endpoints_origin;
    /* Per service (in the order above): the endpoint URL (no trailing '/'),
     * NULL for the default host, and where it came from:
     * "AWS_ENDPOINT_URL_<SERVICE>", "AWS_ENDPOINT_URL",
     * "profile services section NAME", "profile endpoint_url", "default". */
    char *endpoint[CWX_AWS_N_SERVICES];
    char endpoint_origin[CWX_AWS_N_SERVICES][160];
};

/* Resolves the settings for cli_profile (--profile; NULL = AWS_PROFILE, else
 * "default") and cli_region (--region; NULL = none). A profile that does not
 * exist is fine here (the credentials say so). A value that is not valid
 * (max_attempts outside 1-20, an unknown retry_mode) is an error. Returns 0,
 * or CWX_ECONFIG with the reason in err (also for a shared file that cannot
 * be read), or CWX_ENOMEM. Free with cwx_aws_settings_free. */
int cwx_aws_settings_load(const char *cli_profile, const char *cli_region,
                          struct cwx_aws_settings *out, char *err, size_t err_size);
void cwx_aws_settings_free(struct cwx_aws_settings *s);

/* The index of service in the arrays above, or -1. */
int cwx_aws_settings_service(const char *service);
/* Service i's endpoint variable ("AWS_ENDPOINT_URL_S3") and the first labels
 * of its default host name ("s3", "portal.sso"); NULL for another i. */
const char *cwx_aws_settings_service_env(int i);
const char *cwx_aws_settings_service_host(int i);

#endif
