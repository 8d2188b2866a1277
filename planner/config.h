/* Config v1 (docs/config-reference.md): loaded with libyaml into validated structs. */
#ifndef CWX_PLANNER_CONFIG_H
#define CWX_PLANNER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "planner/calendar.h"

enum cwx_detect { CWX_DETECT_MARKER = 0, CWX_DETECT_OBJECTS };
enum cwx_token_scope { CWX_SCOPE_ACCOUNT = 0, CWX_SCOPE_REGION };
/* skip_empty: how windows without events are found (docs/config-reference.md). */
enum cwx_skip_empty { CWX_SKIP_EMPTY_STREAMS = 0, CWX_SKIP_EMPTY_OFF };

/* coalesce: consecutive small pending windows of one group exported by one
 * task. Off when max_windows is 0. */
struct cwx_coalesce {
    int64_t max_bytes; /* estimated bytes of one task at most; default 1 GiB */
    int max_windows;   /* windows one task covers at most; 0 = off */
};

/* Which windows to export. */
struct cwx_range {
    bool is_last;          /* `last: N` instead of from/to */
    int last;              /* N for `last` */
    struct cwx_civil from; /* first window included (when !is_last) */
    bool to_latest;        /* `to: latest` (also the default) */
    struct cwx_civil to;   /* last window included (when !to_latest) */
};

struct cwx_destination {
    char *bucket;       /* may hold {account_id} and {region}: see
                         * cwx_config_bucket_name */
    char *prefix;       /* template, docs/architecture.md §destination-prefix */
    char *state_prefix; /* markers live below it; default "_cwexport" */
    enum cwx_detect detect;
    char *kms_key_arn;  /* optional, NULL when absent */
    char *expected_bucket_owner; /* 12 digits; NULL = the account's own id */
};

/* Settings inherited defaults → account (→ log group for range). */
struct cwx_settings {
    char *region;            /* single region, used when no `regions` */
    char *timezone;          /* IANA name, default "UTC" */
    enum cwx_granularity window;
    int64_t settle_ms;       /* default 12h */
    struct cwx_destination destination;
    int64_t poll_min_ms;     /* default 5s */
    int64_t poll_max_ms;     /* default 60s */
    int max_attempts;        /* default 3 */
    enum cwx_token_scope token_scope;
    int max_creates_per_job; /* loop guard, default 6 */
    int max_creates_per_run; /* loop guard, 0 = automatic (3 × jobs + 10) */
    double api_rate;         /* calls per second per account+region, default 5 */
    int64_t outage_pause_ms; /* a lane's pause when AWS keeps failing; 0 =
                                5 × the longest step wait (5 min by default) */
    int outage_pauses;       /* pauses in a row before the lane stops; default 3 */
    /* lease: the lane lease of docs/architecture.md §lane-lease, that lets several
     * runners share a config. */
    bool lease_off;          /* `lease: off`: no lease (stores without
                                conditional writes) */
    int64_t lease_ttl_ms;    /* lease.ttl, default 2m */
    char *lease_bucket;      /* lease.bucket template; NULL = the lane's
                                first destination bucket */
    enum cwx_skip_empty skip_empty; /* default streams */
    int skip_empty_max_pages;       /* DescribeLogStreams pages per group; default 200 */
    double skip_empty_api_rate;     /* DescribeLogStreams calls per second per account
                                       and region (AWS's quota: 5); default 5 */
    struct cwx_coalesce coalesce;   /* default off */
    struct cwx_range range;
};

enum cwx_group_kind { CWX_GROUP_NAME = 0, CWX_GROUP_PREFIX, CWX_GROUP_PATTERN };

/* One entry of an account's log_groups list. */
struct cwx_group_sel {
    enum cwx_group_kind kind;
    char *value;              /* the name, prefix or pattern */
    char **exclude;           /* glob patterns (fnmatch) on names */
    size_t n_exclude;
    char *log_stream_prefix;  /* NULL when absent */
    struct cwx_range range;   /* effective range (inherited when not set) */
    struct cwx_coalesce coalesce; /* effective (the account's when not set) */
    int line, col;            /* where the entry starts in the config */
};

struct cwx_account {
    char *name;
    char *account_id;  /* NULL: resolve with sts:GetCallerIdentity */
    char *profile;     /* NULL when absent */
    char *role_arn;    /* NULL when absent */
    char *external_id; /* NULL when absent */
    char **regions;    /* at least one: `regions`, else settings.region */
    size_t n_regions;
    struct cwx_settings settings; /* effective settings for this account */
    struct cwx_group_sel *groups;
    size_t n_groups;
    int line, col;
};

enum cwx_notify_on {
    CWX_NOTIFY_FAILURE = 1 << 0,
    CWX_NOTIFY_LOOP_GUARD = 1 << 1,
    CWX_NOTIFY_DONE = 1 << 2,
};

struct cwx_config {
    char *path;
    int version;
    struct cwx_settings defaults;
    struct cwx_account *accounts;
    size_t n_accounts;
    char *sns_topic_arn; /* NULL when no notify section */
    unsigned notify_on;  /* CWX_NOTIFY_* bits; default failure|loop_guard */
    /* Plain-http endpoints to hosts other than this machine are accepted
     * (with a warning): allow_insecure_endpoint, or --allow-insecure-endpoint. */
    bool allow_insecure_endpoint;
    size_t max_jobs;     /* jobs a plan may hold; default CWX_MAX_JOBS_DEFAULT */
};

/* The default cap on the jobs of one plan (max_jobs). */
#define CWX_MAX_JOBS_DEFAULT ((size_t)5000000)

/* A config error: one line "FILE:LINE:COL: error: MESSAGE". */
struct cwx_config_error {
    char file[512];
    int line, col; /* 1-based; 0 when not tied to a place */
    char msg[512];
};

/* Loads and validates the YAML file at path. On success *out is a config the
 * caller frees with cwx_config_free. On failure returns CWX_ECONFIG (or
 * CWX_EIO when the file cannot be read), fills *err, and *out is NULL. */
int cwx_config_load(const char *path, struct cwx_config **out,
                    struct cwx_config_error *err);
/* The same from a string in memory; `name` is used as FILE in errors. */
int cwx_config_load_string(const char *name, const char *yaml, size_t len,
                           struct cwx_config **out,
                           struct cwx_config_error *err);
void cwx_config_free(struct cwx_config *cfg);

/* Formats err as "FILE:LINE:COL: error: MESSAGE" into buf. */
void cwx_config_error_format(const struct cwx_config_error *err, char *buf,
                             size_t size);

/* Expands the destination bucket template tmpl into out (size bytes; 64 is
 * enough for any bucket name) and checks the result against S3's bucket
 * naming rules. The only placeholders are {account_id} and {region}; a
 * bucket must be in the log group's region, so one template can name a
 * bucket per account and region ("archive-{account_id}-{region}"). Returns
 * 0; CWX_ENOTFOUND when tmpl uses {account_id} and account_id is NULL;
 * CWX_EINVAL when the result is not a bucket name, with *why (if not NULL)
 * pointing at a static phrase; CWX_ETOOBIG when out is too small. */
int cwx_config_bucket_name(const char *tmpl, const char *account_id,
                           const char *region, char *out, size_t size,
                           const char **why);

/* The AWS partition of a region, for ARNs: "aws-cn" for cn-*, "aws-us-gov"
 * for us-gov-*, else "aws". */
const char *cwx_region_partition(const char *region);

/* Parses durations "250ms", "30s", "5m", "12h", "2d" into milliseconds. */
int cwx_duration_parse(const char *s, int64_t *out_ms);

#endif
