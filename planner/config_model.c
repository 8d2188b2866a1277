/* A config's model (docs/config-reference.md): the built-in defaults, the
 * top-level `defaults` over them, each account's settings over those, and
 * each log group's range and coalesce over its account's; then the public
 * entry points that load, free and print a config. */
#include "planner/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/mem.h"
#include "planner/config_internal.h"

/* Config files larger than this are refused before parsing. */
#define S_FILE_MAX (16u << 20)

/* ---- settings ----------------------------------------------------------- */

static void s_settings_free(struct cwx_settings *st)
{
    CWX_FREE_ALL(st->region, st->timezone, st->destination.bucket, st->destination.prefix,
                 st->destination.state_prefix, st->destination.kms_key_arn, st->lease_bucket,
                 st->destination.expected_bucket_owner);
    memset(st, 0, sizeof *st);
}

static int s_dup_or_null(const char *s, char **out)
{
    *out = NULL;
    if (s && !(*out = strdup(s)))
        return CWX_ENOMEM;
    return 0;
}

/* Deep copy; on failure dst holds what was copied and is freed by the
 * caller's cleanup like any other partial settings. */
static int s_settings_copy(struct cwx__config_ctx *c, struct cwx_settings *dst,
                           const struct cwx_settings *src)
{
    *dst = *src;
    dst->region = dst->timezone = NULL;
    dst->destination.bucket = dst->destination.prefix = NULL;
    dst->destination.state_prefix = dst->destination.kms_key_arn = NULL;
    dst->lease_bucket = NULL;
    dst->destination.expected_bucket_owner = NULL;
    if (s_dup_or_null(src->region, &dst->region) ||
        s_dup_or_null(src->lease_bucket, &dst->lease_bucket) ||
        s_dup_or_null(src->timezone, &dst->timezone) ||
        s_dup_or_null(src->destination.bucket, &dst->destination.bucket) ||
        s_dup_or_null(src->destination.prefix, &dst->destination.prefix) ||
        s_dup_or_null(src->destination.state_prefix, &dst->destination.state_prefix) ||
        s_dup_or_null(src->destination.kms_key_arn, &dst->destination.kms_key_arn) ||
        s_dup_or_null(src->destination.expected_bucket_owner,
                      &dst->destination.expected_bucket_owner))
        return cwx__config_oom(c);
    return 0;
}

static int s_builtin_defaults(struct cwx__config_ctx *c, struct cwx_settings *st)
{
    memset(st, 0, sizeof *st);
    st->window = CWX_WINDOW_MONTH;
    st->settle_ms = 12 * 3600 * 1000;
    st->destination.detect = CWX_DETECT_MARKER;
    st->poll_min_ms = 5000;
    st->poll_max_ms = 60000;
    st->max_attempts = 3;
    st->token_scope = CWX_SCOPE_ACCOUNT;
    st->max_creates_per_job = 6;
    st->max_creates_per_run = 0;
    st->api_rate = 5;
    st->outage_pause_ms = 0; /* 5 × the longest step wait */
    st->outage_pauses = 3;
    st->lease_ttl_ms = 120000;
    st->skip_empty = CWX_SKIP_EMPTY_STREAMS;
    st->skip_empty_max_pages = 200;
    st->skip_empty_api_rate = 5;
    st->coalesce = (struct cwx_coalesce){1024LL * 1024 * 1024, 0};
    st->range.to_latest = true;
    if (!(st->timezone = strdup("UTC")) ||
        !(st->destination.prefix = strdup(CWX__CONFIG_DEFAULT_PREFIX)) ||
        !(st->destination.state_prefix = strdup("_cwexport")))
        return cwx__config_oom(c);
    return 0;
}

/* ---- log groups ------------------------------------------------------- */

enum { G_NAME, G_PREFIX, G_PATTERN, G_EXCLUDE, G_RANGE, G_STREAM, G_COALESCE, G_N };
static const char *const s_group_keys[] = {
    "name", "prefix", "pattern", "exclude", "range", "log_stream_prefix", "coalesce"};

static void s_group_free(struct cwx_group_sel *g)
{
    free(g->value);
    for (size_t i = 0; i < g->n_exclude; i++)
        free(g->exclude[i]);
    free(g->exclude);
    free(g->log_stream_prefix);
}

/* Exactly one of name, prefix and pattern selects the groups; *which is
 * its index (G_NAME, G_PREFIX or G_PATTERN). */
static int s_group_selector(struct cwx__config_ctx *c, const yaml_node_t *n, yaml_node_t **v,
                            yaml_node_t **k, struct cwx_group_sel *g, int *which)
{
    static const char *const expected[] = {
        "a log group name of 1-512 characters from A-Z a-z 0-9 . - _ / #",
        "a log group name prefix of 1-512 characters from A-Z a-z 0-9 . - _ / #",
        "a log group name pattern of 1-512 characters from A-Z a-z 0-9 . - _ / #",
    };
    int w = -1;
    for (int i = G_NAME; i <= G_PATTERN; i++) {
        if (!v[i])
            continue;
        if (w >= 0) {
            int first = w, second = i;
            if (cwx__config_before(k[i]->start_mark, k[w]->start_mark)) {
                first = i;
                second = w;
            }
            return cwx__config_fail(c, k[second],
                                    "expected one of \"name\", \"prefix\" or "
                                    "\"pattern\" in log group, found both \"%s\" and "
                                    "\"%s\"",
                                    s_group_keys[first], s_group_keys[second]);
        }
        w = i;
    }
    if (w < 0)
        return cwx__config_fail(c, n,
                                "expected one of \"name\", \"prefix\" or \"pattern\" in "
                                "log group, found none");
    const char *s;
    int rc = cwx__config_str(c, v[w], expected[w], &s);
    if (rc)
        return rc;
    if (!cwx__config_log_group_ok(s))
        return cwx__config_expected(c, v[w], expected[w]);
    g->kind = w == G_NAME ? CWX_GROUP_NAME : w == G_PREFIX ? CWX_GROUP_PREFIX : CWX_GROUP_PATTERN;
    *which = w;
    return cwx__config_set(c, &g->value, s);
}

/* exclude: a list of globs, with prefix or pattern only. */
static int s_group_exclude(struct cwx__config_ctx *c, yaml_node_t **v, yaml_node_t **k, int which,
                           struct cwx_group_sel *g)
{
    static const char exp_list[] = "a list of log group name globs";
    static const char exp_glob[] =
        "a log group name glob like /aws/lambda/test-* (1-512 characters)";
    if (which == G_NAME)
        return cwx__config_fail(c, k[G_EXCLUDE],
                                "expected \"exclude\" only with \"prefix\" or "
                                "\"pattern\", found it with \"name\"");
    int rc = cwx__config_list(c, v[G_EXCLUDE], exp_list, false);
    if (rc)
        return rc;
    size_t count = cwx__config_seq_len(v[G_EXCLUDE]);
    if (count && !(g->exclude = calloc(count, sizeof *g->exclude)))
        return cwx__config_oom(c);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = cwx__config_seq_item(c, v[G_EXCLUDE], i);
        const char *s;
        if ((rc = cwx__config_str(c, item, exp_glob, &s)))
            return rc;
        if (strlen(s) > 512)
            return cwx__config_expected(c, item, exp_glob);
        if (!(g->exclude[i] = strdup(s)))
            return cwx__config_oom(c);
        g->n_exclude = i + 1;
    }
    return 0;
}

/* One entry of an account's log_groups; its coalesce and range default to
 * the account's (inherited, when has_inherited). */
static int s_group(struct cwx__config_ctx *c, const yaml_node_t *n,
                   const struct cwx_range *inherited, bool has_inherited,
                   const yaml_node_t *account, const struct cwx_account *a, struct cwx_group_sel *g)
{
    static const char exp_stream[] =
        "a log stream name prefix of 1-512 characters without ':' or '*'";
    yaml_node_t *v[G_N], *k[G_N];
    int rc = cwx__config_mapping(c, n, "a mapping for a log group (with name, prefix or pattern)",
                                 "in log group", s_group_keys, G_N, v, k);
    if (rc)
        return rc;
    g->line = (int)n->start_mark.line + 1;
    g->col = (int)n->start_mark.column + 1;
    int which = -1;
    if ((rc = s_group_selector(c, n, v, k, g, &which)) ||
        (v[G_EXCLUDE] && (rc = s_group_exclude(c, v, k, which, g))))
        return rc;
    if (v[G_STREAM]) {
        const char *s;
        if ((rc = cwx__config_str(c, v[G_STREAM], exp_stream, &s)))
            return rc;
        if (strlen(s) > 512 || strpbrk(s, ":*"))
            return cwx__config_expected(c, v[G_STREAM], exp_stream);
        if ((rc = cwx__config_set(c, &g->log_stream_prefix, s)))
            return rc;
    }
    g->coalesce = a->settings.coalesce;
    if (v[G_COALESCE] && (rc = cwx__config_coalesce(c, v[G_COALESCE], &g->coalesce)))
        return rc;
    if (v[G_RANGE])
        return cwx__config_range(c, v[G_RANGE], "a mapping for \"range\"", &g->range);
    if (!has_inherited)
        return cwx__config_fail(c, account,
                                "a range is required: expected \"range\" at the top "
                                "level, in account \"%s\" or in each of its log "
                                "groups, found none",
                                a->name);
    g->range = *inherited;
    return 0;
}

/* ---- accounts ----------------------------------------------------------- */

static void s_account_free(struct cwx_account *a)
{
    CWX_FREE_ALL(a->name, a->account_id, a->profile, a->role_arn, a->external_id);
    for (size_t i = 0; i < a->n_regions; i++)
        free(a->regions[i]);
    free(a->regions);
    s_settings_free(&a->settings);
    for (size_t i = 0; i < a->n_groups; i++)
        s_group_free(&a->groups[i]);
    free(a->groups);
}

/* The key of the two that comes later in the file. */
static const yaml_node_t *s_later(const yaml_node_t *a, const yaml_node_t *b)
{
    return cwx__config_before(a->start_mark, b->start_mark) ? b : a;
}

static int s_regions(struct cwx__config_ctx *c, const yaml_node_t *n, struct cwx_account *a)
{
    int rc = cwx__config_list(c, n, "a non-empty list of regions like [us-east-1]", true);
    if (rc)
        return rc;
    size_t count = cwx__config_seq_len(n);
    if (!(a->regions = calloc(count, sizeof *a->regions)))
        return cwx__config_oom(c);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = cwx__config_seq_item(c, n, i);
        const char *s;
        if ((rc = cwx__config_region(c, item, &s)))
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(a->regions[j], s)) {
                yaml_node_t *first = cwx__config_seq_item(c, n, j);
                char f[CWX__CONFIG_FOUND_SIZE];
                return cwx__config_fail(c, item,
                                        "expected each region once in regions, found "
                                        "%s again (first at %zu:%zu)",
                                        cwx__config_found(c, item, f),
                                        (size_t)first->start_mark.line + 1,
                                        (size_t)first->start_mark.column + 1);
            }
        }
        if (!(a->regions[i] = strdup(s)))
            return cwx__config_oom(c);
        a->n_regions = i + 1;
    }
    return 0;
}

/* The account's name: letters, digits, '_', '.' and '-', unique in the
 * config (accounts before index are loaded). */
static int s_account_name(struct cwx__config_ctx *c, const yaml_node_t *n, yaml_node_t **v,
                          size_t index, struct cwx_account *a)
{
    static const char exp_name[] = "an account name of letters, digits, '_', '.' and '-'";
    const char *s;
    int rc;
    if (!v[CWX__ACC_NAME])
        return cwx__config_fail(c, n, "expected a \"name\" in account, found none");
    if ((rc = cwx__config_str(c, v[CWX__ACC_NAME], exp_name, &s)))
        return rc;
    if (strlen(s) > 128 || !cwx__config_all_in(s, "_.-"))
        return cwx__config_expected(c, v[CWX__ACC_NAME], exp_name);
    for (size_t i = 0; i < index; i++) {
        if (!strcmp(c->cfg->accounts[i].name, s)) {
            char f[CWX__CONFIG_FOUND_SIZE];
            return cwx__config_fail(c, v[CWX__ACC_NAME],
                                    "expected a unique account name, found %s again "
                                    "(first in the account at %d:%d)",
                                    cwx__config_found(c, v[CWX__ACC_NAME], f),
                                    c->cfg->accounts[i].line, c->cfg->accounts[i].col);
        }
    }
    return cwx__config_set(c, &a->name, s);
}

/* A profile name: 1-128 printable characters without spaces. */
static bool s_profile_ok(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return false;
    return strlen(s) <= 128;
}

static bool s_external_id_ok(const char *s)
{
    return strlen(s) >= 2 && strlen(s) <= 1224 && cwx__config_all_in(s, "+=,.@:/-_");
}

/* Who the account is and how to reach it: account_id, then profile or
 * role_arn (with an optional external_id). */
static int s_account_identity(struct cwx__config_ctx *c, yaml_node_t **v, yaml_node_t **k,
                              struct cwx_account *a)
{
    int rc = 0;
    if (v[CWX__ACC_ACCOUNT_ID] &&
        (rc = cwx__config_checked(c, v[CWX__ACC_ACCOUNT_ID],
                                  "a 12-digit account ID like \"123456789012\"",
                                  cwx__config_account_id_ok, &a->account_id)))
        return rc;
    if (v[CWX__ACC_PROFILE] && v[CWX__ACC_ROLE_ARN])
        return cwx__config_fail(c, s_later(k[CWX__ACC_PROFILE], k[CWX__ACC_ROLE_ARN]),
                                "expected either \"profile\" or \"role_arn\" in "
                                "account, found both");
    if (v[CWX__ACC_PROFILE] && (rc = cwx__config_checked(c, v[CWX__ACC_PROFILE],
                                                         "a profile name from the AWS config files",
                                                         s_profile_ok, &a->profile)))
        return rc;
    if (v[CWX__ACC_ROLE_ARN] &&
        (rc = cwx__config_checked(c, v[CWX__ACC_ROLE_ARN],
                                  "a role ARN like arn:aws:iam::123456789012:role/name",
                                  cwx__config_role_arn_ok, &a->role_arn)))
        return rc;
    if (!v[CWX__ACC_EXTERNAL_ID])
        return 0;
    if (!v[CWX__ACC_ROLE_ARN])
        return cwx__config_fail(c, k[CWX__ACC_EXTERNAL_ID],
                                "expected \"external_id\" only with \"role_arn\", "
                                "found no role_arn in this account");
    return cwx__config_checked(c, v[CWX__ACC_EXTERNAL_ID],
                               "an external ID of 2-1224 characters from A-Z a-z 0-9 +=,.@:/-_",
                               s_external_id_ok, &a->external_id);
}

/* The account's regions: `regions`, else its (or the defaults') `region`. */
static int s_account_regions(struct cwx__config_ctx *c, const yaml_node_t *n, yaml_node_t **v,
                             yaml_node_t **k, struct cwx_account *a)
{
    if (v[CWX__ACC_REGIONS] && v[CWX__SET_REGION])
        return cwx__config_fail(c, s_later(k[CWX__ACC_REGIONS], k[CWX__SET_REGION]),
                                "expected either \"regions\" or \"region\" in account, "
                                "found both");
    if (v[CWX__ACC_REGIONS])
        return s_regions(c, v[CWX__ACC_REGIONS], a);
    if (!a->settings.region)
        return cwx__config_fail(c, n,
                                "expected \"regions\" or \"region\" in account \"%s\" "
                                "or \"region\" in defaults, found no region",
                                a->name);
    if (!(a->regions = calloc(1, sizeof *a->regions)) ||
        !(a->regions[0] = strdup(a->settings.region)))
        return cwx__config_oom(c);
    a->n_regions = 1;
    return 0;
}

/* The inherited bucket template names a bucket in each of the account's
 * regions; an error points at where the template was written. */
static int s_account_bucket(struct cwx__config_ctx *c, const yaml_node_t *n,
                            const struct cwx_account *a, const struct cwx__config_origin *origin)
{
    const char *bucket = a->settings.destination.bucket;
    if (!bucket)
        return cwx__config_fail(c, n,
                                "expected destination.bucket in account \"%s\" or in "
                                "defaults, found no bucket",
                                a->name);
    for (size_t i = 0; i < a->n_regions; i++) {
        char out[64];
        const char *why;
        const char *id = a->account_id ? a->account_id : CWX__CONFIG_STANDIN_ACCOUNT_ID;
        if (cwx_config_bucket_name(bucket, id, a->regions[i], out, sizeof out, &why)) {
            char q[CWX__CONFIG_QUOTE_SIZE];
            cwx__config_quote(bucket, strlen(bucket), q, sizeof q);
            return cwx__config_fail_at(c, origin->bucket.line, origin->bucket.column,
                                       "expected an S3 bucket name for account \"%s\" "
                                       "in %s, found %s: %s",
                                       a->name, a->regions[i], q, why ? why : "too long");
        }
    }
    return 0;
}

/* The account's range, then its log groups, which inherit it. */
static int s_account_groups(struct cwx__config_ctx *c, const yaml_node_t *n, yaml_node_t **v,
                            struct cwx_account *a)
{
    int rc;
    bool has_range = c->has_default_range;
    if (v[CWX__ACC_RANGE]) {
        rc = cwx__config_range(c, v[CWX__ACC_RANGE], "a mapping for \"range\"", &a->settings.range);
        if (rc)
            return rc;
        has_range = true;
    }
    if (!v[CWX__ACC_LOG_GROUPS])
        return cwx__config_fail(c, n, "expected \"log_groups\" in account \"%s\", found none",
                                a->name);
    rc = cwx__config_list(c, v[CWX__ACC_LOG_GROUPS],
                          "a non-empty list of log groups (name, prefix or pattern)", true);
    if (rc)
        return rc;
    size_t count = cwx__config_seq_len(v[CWX__ACC_LOG_GROUPS]);
    if (!(a->groups = calloc(count, sizeof *a->groups)))
        return cwx__config_oom(c);
    a->n_groups = count;
    for (size_t i = 0; i < count; i++) {
        rc = s_group(c, cwx__config_seq_item(c, v[CWX__ACC_LOG_GROUPS], i), &a->settings.range,
                     has_range, n, a, &a->groups[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Account number index of the config, from mapping n; its settings start
 * as a copy of the defaults. */
static int s_account(struct cwx__config_ctx *c, const yaml_node_t *n, size_t index)
{
    struct cwx_account *a = &c->cfg->accounts[index];
    yaml_node_t *v[CWX__ACC_N], *k[CWX__ACC_N];
    int rc = cwx__config_mapping(c, n, "a mapping for an account", "in account",
                                 cwx__config_account_keys, CWX__ACC_N, v, k);
    if (rc)
        return rc;
    a->line = (int)n->start_mark.line + 1;
    a->col = (int)n->start_mark.column + 1;
    struct cwx__config_origin origin = c->defaults;
    if (!(rc = s_account_name(c, n, v, index, a)) && !(rc = s_account_identity(c, v, k, a)) &&
        !(rc = s_settings_copy(c, &a->settings, &c->cfg->defaults)) &&
        !(rc = cwx__config_settings(c, v, k, &a->settings, &origin)) &&
        !(rc = s_account_regions(c, n, v, k, a)) && !(rc = s_account_bucket(c, n, a, &origin)))
        rc = s_account_groups(c, n, v, a);
    return rc;
}

/* ---- notify and the top level ------------------------------------------ */

enum { N_TOPIC, N_ON, N_N };
static const char *const s_notify_keys[] = {"sns_topic_arn", "on"};

static int s_notify(struct cwx__config_ctx *c, const yaml_node_t *n)
{
    yaml_node_t *v[N_N], *k[N_N];
    int rc = cwx__config_mapping(c, n, "a mapping for \"notify\"", "in notify", s_notify_keys, N_N,
                                 v, k);
    if (rc)
        return rc;
    static const char exp_arn[] = "an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:topic";
    if (!v[N_TOPIC])
        return cwx__config_fail(c, n, "expected \"sns_topic_arn\" in notify, found none");
    const char *s;
    if ((rc = cwx__config_str(c, v[N_TOPIC], exp_arn, &s)))
        return rc;
    if (!cwx__config_sns_arn_ok(s))
        return cwx__config_expected(c, v[N_TOPIC], exp_arn);
    if ((rc = cwx__config_set(c, &c->cfg->sns_topic_arn, s)))
        return rc;
    if (!v[N_ON])
        return 0;
    static const char exp_on[] = "a non-empty list of events from failure, loop_guard and done";
    static const char exp_event[] = "an event: failure, loop_guard or done";
    static const char *const events[] = {"failure", "loop_guard", "done"};
    static const unsigned event_bits[] = {CWX_NOTIFY_FAILURE, CWX_NOTIFY_LOOP_GUARD,
                                          CWX_NOTIFY_DONE};
    if ((rc = cwx__config_list(c, v[N_ON], exp_on, true)))
        return rc;
    unsigned bits = 0;
    for (size_t i = 0; i < cwx__config_seq_len(v[N_ON]); i++) {
        yaml_node_t *item = cwx__config_seq_item(c, v[N_ON], i);
        int w;
        if ((rc = cwx__config_word(c, item, exp_event, events, 3, &w)))
            return rc;
        bits |= event_bits[w];
    }
    c->cfg->notify_on = bits;
    return 0;
}

enum { T_VERSION, T_DEFAULTS, T_RANGE, T_ACCOUNTS, T_NOTIFY, T_INSECURE, T_MAX_JOBS, T_N };
static const char *const s_top_keys[] = {
    "version", "defaults", "range", "accounts", "notify", "allow_insecure_endpoint", "max_jobs"};

static int s_top(struct cwx__config_ctx *c, const yaml_node_t *root)
{
    yaml_node_t *v[T_N], *k[T_N];
    int rc = cwx__config_mapping(c, root, "a mapping with \"version: 1\" at the top level",
                                 "at the top level", s_top_keys, T_N, v, k);
    if (rc)
        return rc;
    if (!v[T_VERSION])
        return cwx__config_fail(c, root,
                                "expected \"version: 1\" at the top level, found no "
                                "version");
    const char *s;
    if ((rc = cwx__config_str(c, v[T_VERSION], "version 1", &s)))
        return rc;
    if (strcmp(s, "1"))
        return cwx__config_expected(c, v[T_VERSION], "version 1");
    c->cfg->version = 1;

    if ((rc = s_builtin_defaults(c, &c->cfg->defaults)))
        return rc;
    if (v[T_DEFAULTS]) {
        yaml_node_t *dv[CWX__SET_N], *dk[CWX__SET_N];
        rc = cwx__config_mapping(c, v[T_DEFAULTS], "a mapping for \"defaults\"", "in defaults",
                                 cwx__config_account_keys, CWX__SET_N, dv, dk);
        if (rc || (rc = cwx__config_settings(c, dv, dk, &c->cfg->defaults, &c->defaults)))
            return rc;
    }
    if (v[T_RANGE]) {
        rc = cwx__config_range(c, v[T_RANGE], "a mapping for \"range\"", &c->cfg->defaults.range);
        if (rc)
            return rc;
        c->has_default_range = true;
    }
    c->cfg->notify_on = CWX_NOTIFY_FAILURE | CWX_NOTIFY_LOOP_GUARD;
    if (v[T_NOTIFY] && (rc = s_notify(c, v[T_NOTIFY])))
        return rc;
    if (v[T_INSECURE]) {
        static const char *const words[] = {"false", "true"};
        int w;
        if ((rc = cwx__config_word(c, v[T_INSECURE], "allow_insecure_endpoint: true or false",
                                   words, 2, &w)))
            return rc;
        c->cfg->allow_insecure_endpoint = w == 1;
    }
    c->cfg->max_jobs = CWX_MAX_JOBS_DEFAULT;
    if (v[T_MAX_JOBS]) {
        long n;
        if ((rc =
                 cwx__config_int(c, v[T_MAX_JOBS], "max_jobs as a whole number from 1 to 100000000",
                                 1, 100000000, &n)))
            return rc;
        c->cfg->max_jobs = (size_t)n;
    }

    if (!v[T_ACCOUNTS])
        return cwx__config_fail(c, root, "expected \"accounts\" at the top level, found none");
    rc = cwx__config_list(c, v[T_ACCOUNTS], "a non-empty list of accounts", true);
    if (rc)
        return rc;
    size_t count = cwx__config_seq_len(v[T_ACCOUNTS]);
    if (!(c->cfg->accounts = calloc(count, sizeof *c->cfg->accounts)))
        return cwx__config_oom(c);
    c->cfg->n_accounts = count;
    for (size_t i = 0; i < count; i++)
        if ((rc = s_account(c, cwx__config_seq_item(c, v[T_ACCOUNTS], i), i)))
            return rc;
    return 0;
}

static void s_set_file(struct cwx_config_error *err, const char *name)
{
    snprintf(err->file, sizeof err->file, "%s", name ? name : "<config>");
}

int cwx_config_load_string(const char *name, const char *yaml, size_t len, struct cwx_config **out,
                           struct cwx_config_error *err)
{
    struct cwx_config_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    s_set_file(err, name);
    *out = NULL;

    struct cwx__config_ctx c = {0};
    c.err = err;
    struct cwx_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(name ? name : "<config>"))) {
        free(cfg);
        return cwx__config_oom(&c);
    }
    c.cfg = cfg;
    yaml_node_t *root = NULL;
    int rc = cwx__config_read(&c, yaml, len, &root);
    if (!rc)
        rc = s_top(&c, root);
    cwx__config_release(&c);
    if (rc) {
        cwx_config_free(cfg);
        return rc == CWX_ENOMEM ? CWX_ENOMEM : CWX_ECONFIG;
    }
    memset(err, 0, sizeof *err);
    *out = cfg;
    return 0;
}

int cwx_config_load(const char *path, struct cwx_config **out, struct cwx_config_error *err)
{
    struct cwx_config_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    s_set_file(err, path);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "cannot read the config file: %s", strerror(errno));
        return CWX_EIO;
    }
    struct cwx_buf b;
    cwx_buf_init(&b, S_FILE_MAX);
    char chunk[16384];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = cwx_buf_append(&b, chunk, n);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (rc == CWX_ETOOBIG) {
        snprintf(err->msg, sizeof err->msg,
                 "expected a config file of at most 16 MiB, found a larger "
                 "one");
        cwx_buf_free(&b);
        return CWX_ECONFIG;
    }
    if (rc || read_errno) {
        snprintf(err->msg, sizeof err->msg, "cannot read the config file: %s",
                 rc ? "out of memory" : strerror(read_errno));
        cwx_buf_free(&b);
        return rc ? rc : CWX_EIO;
    }
    rc = cwx_config_load_string(path, b.ptr ? b.ptr : "", b.len, out, err);
    cwx_buf_free(&b);
    return rc;
}

void cwx_config_free(struct cwx_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_accounts; i++)
        s_account_free(&cfg->accounts[i]);
    s_settings_free(&cfg->defaults);
    CWX_FREE_ALL(cfg->accounts, cfg->sns_topic_arn, cfg->path, cfg);
}

void cwx_config_error_format(const struct cwx_config_error *err, char *buf, size_t size)
{
    if (!size)
        return;
    if (err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%d:%d: error: %s", err->file, err->line, err->col, err->msg);
    else if (err->line > 0)
        snprintf(buf, size, "%s:%d: error: %s", err->file, err->line, err->msg);
    else
        snprintf(buf, size, "%s: error: %s", err->file, err->msg);
}
