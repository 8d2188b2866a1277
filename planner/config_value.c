/* A config's scalar values (docs/config-reference.md): the shapes of the
 * values a config names (regions, account IDs, ARNs, bucket names, key
 * prefixes, time zones) and the readers that turn one node into a typed
 * value (text, whole numbers, durations, sizes, rates), failing with the
 * node's FILE:LINE:COL and what was expected there. */
#include "planner/config_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/error.h"

/* ---- typed readers ----------------------------------------------------- */

/* A non-empty scalar value after expansion. `expected` names what the key
 * wants, for the error when n is something else. */
int cwx__config_str(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                    const char **out)
{
    if (n->type != YAML_SCALAR_NODE || cwx__config_is_null(n))
        return cwx__config_expected(c, n, expected);
    int rc = cwx__config_expand(c, n, out);
    if (!rc && !**out)
        return cwx__config_expected(c, n, expected);
    return rc;
}

int cwx__config_set(struct cwx__config_ctx *c, char **field, const char *value)
{
    char *dup = strdup(value);
    if (!dup)
        return cwx__config_oom(c);
    free(*field);
    *field = dup;
    return 0;
}

int cwx__config_checked(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                        bool (*ok)(const char *s), char **field)
{
    const char *s;
    int rc = cwx__config_str(c, n, expected, &s);
    if (rc)
        return rc;
    if (!ok(s))
        return cwx__config_expected(c, n, expected);
    return cwx__config_set(c, field, s);
}

int cwx__config_word(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected,
                     const char *const *words, size_t n_words, int *out)
{
    const char *s;
    int rc = cwx__config_str(c, n, expected, &s);
    if (rc)
        return rc;
    for (size_t i = 0; i < n_words; i++) {
        if (!strcmp(s, words[i])) {
            *out = (int)i;
            return 0;
        }
    }
    return cwx__config_expected(c, n, expected);
}

/* A whole number from min to max, written as decimal digits. */
int cwx__config_int(struct cwx__config_ctx *c, const yaml_node_t *n, const char *expected, long min,
                    long max, long *out)
{
    const char *v;
    int rc = cwx__config_str(c, n, expected, &v);
    if (rc)
        return rc;
    size_t len = strlen(v);
    if (len > 9)
        return cwx__config_expected(c, n, expected);
    long x = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)v[i]))
            return cwx__config_expected(c, n, expected);
        x = x * 10 + (v[i] - '0');
    }
    if (x < min || x > max)
        return cwx__config_expected(c, n, expected);
    *out = x;
    return 0;
}

const char *cwx_region_partition(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "aws-cn";
    if (strncmp(region, "us-gov-", 7) == 0)
        return "aws-us-gov";
    return "aws";
}

int cwx_duration_parse(const char *s, int64_t *out_ms)
{
    if (!s || !isdigit((unsigned char)*s))
        return CWX_EINVAL;
    int64_t v = 0;
    const char *p = s;
    for (; isdigit((unsigned char)*p); p++) {
        if (p - s >= 12)
            return CWX_EINVAL;
        v = v * 10 + (*p - '0');
    }
    int64_t unit;
    if (!strcmp(p, "ms"))
        unit = 1;
    else if (!strcmp(p, "s"))
        unit = 1000;
    else if (!strcmp(p, "m"))
        unit = 60 * 1000;
    else if (!strcmp(p, "h"))
        unit = 3600 * 1000;
    else if (!strcmp(p, "d"))
        unit = 86400 * 1000;
    else
        return CWX_EINVAL;
    /* 12 digits of days still fit in int64 milliseconds. */
    *out_ms = v * unit;
    return 0;
}

#define S_DURATION_EXPECTED "a duration like 250ms, 30s, 5m, 12h or 2d"

int cwx__config_duration(struct cwx__config_ctx *c, const yaml_node_t *n, int64_t *out)
{
    const char *v;
    int rc = cwx__config_str(c, n, S_DURATION_EXPECTED, &v);
    if (rc)
        return rc;
    if (cwx_duration_parse(v, out))
        return cwx__config_expected(c, n, S_DURATION_EXPECTED);
    return 0;
}

/* Formats a duration in its largest whole unit. */
void cwx__config_fmt_ms(int64_t ms, char *buf, size_t size)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms && ms % units[i].ms == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "%lldms", (long long)ms);
}

/* ---- shape checks ----------------------------------------------------- */

bool cwx__config_all_in(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
            return false;
    return true;
}

/* ^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$ */
static bool s_region_ok(const char *r)
{
    const char *p = r;
    if (!islower((unsigned char)p[0]) || !islower((unsigned char)p[1]))
        return false;
    p += 2;
    if (!strncmp(p, "-gov-", 5)) {
        p += 4;
    } else if (!strncmp(p, "-iso", 4) &&
               (p[4] == '-' || (islower((unsigned char)p[4]) && p[5] == '-'))) {
        p += p[4] == '-' ? 4 : 5;
    }
    if (*p++ != '-' || !islower((unsigned char)*p))
        return false;
    while (islower((unsigned char)*p))
        p++;
    if (*p++ != '-' || !isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0' && strlen(r) <= 32;
}

static bool s_digits_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool cwx__config_account_id_ok(const char *s)
{
    return strlen(s) == 12 && s_digits_n(s, 12);
}

/* "arn:<partition>:<service>:" with partition aws, aws-cn or aws-us-gov;
 * returns what follows, or NULL. */
static const char *s_arn_after_service(const char *arn, const char *service)
{
    static const char *const parts[] = {"aws:", "aws-cn:", "aws-us-gov:"};
    if (strncmp(arn, "arn:", 4))
        return NULL;
    const char *p = arn + 4;
    size_t i;
    for (i = 0; i < 3; i++)
        if (!strncmp(p, parts[i], strlen(parts[i])))
            break;
    if (i == 3)
        return NULL;
    p += strlen(parts[i]);
    size_t sl = strlen(service);
    if (strncmp(p, service, sl) || p[sl] != ':')
        return NULL;
    return p + sl + 1;
}

/* arn:aws:iam::123456789012:role/path/name */
bool cwx__config_role_arn_ok(const char *arn)
{
    const char *p = s_arn_after_service(arn, "iam");
    if (!p || *p++ != ':' || !s_digits_n(p, 12) || strncmp(p + 12, ":role/", 6))
        return false;
    p += 18;
    size_t len = strlen(p);
    if (!len || len > 576 || p[len - 1] == '/' || p[0] == '/' || !cwx__config_all_in(p, "+=,.@_/-"))
        return false;
    const char *name = strrchr(p, '/');
    name = name ? name + 1 : p;
    return strlen(name) <= 64;
}

/* "<region>:<12 digits>:" returns what follows, or NULL. */
static const char *s_arn_region_account(const char *p)
{
    const char *colon = p ? strchr(p, ':') : NULL;
    if (!colon || (size_t)(colon - p) > 32)
        return NULL;
    char region[33];
    memcpy(region, p, (size_t)(colon - p));
    region[colon - p] = '\0';
    if (!s_region_ok(region))
        return NULL;
    p = colon + 1;
    if (!s_digits_n(p, 12) || p[12] != ':')
        return NULL;
    return p + 13;
}

/* arn:aws:sns:us-east-1:123456789012:topic[.fifo] */
bool cwx__config_sns_arn_ok(const char *arn)
{
    const char *name = s_arn_region_account(s_arn_after_service(arn, "sns"));
    if (!name)
        return false;
    size_t len = strlen(name);
    if (len > 5 && !strcmp(name + len - 5, ".fifo"))
        len -= 5;
    if (!len || len > 256)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

/* arn:aws:kms:us-east-1:123456789012:key/<id> or alias/<name> */
bool cwx__config_kms_arn_ok(const char *arn)
{
    const char *res = s_arn_region_account(s_arn_after_service(arn, "kms"));
    if (!res)
        return false;
    if (!strncmp(res, "key/", 4))
        return res[4] && strlen(res + 4) <= 128 && cwx__config_all_in(res + 4, "-");
    if (!strncmp(res, "alias/", 6))
        return res[6] && strlen(res + 6) <= 250 && cwx__config_all_in(res + 6, "/_-");
    return false;
}

/* Log group names and prefixes: [\.\-_/#A-Za-z0-9]+, 1-512 bytes. */
bool cwx__config_log_group_ok(const char *s)
{
    size_t len = strlen(s);
    return len >= 1 && len <= 512 && cwx__config_all_in(s, "._-/#");
}

static bool s_looks_like_ip(const char *b)
{
    int parts = 0;
    const char *p = b;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
        parts++;
        if (*p == '.')
            p++;
        else if (*p)
            return false;
    }
    return parts == 4;
}

/* Why b is not a valid S3 bucket name, or NULL when it is one. */
static const char *s_bucket_why(const char *b)
{
    size_t len = strlen(b);
    if (len < 3 || len > 63)
        return "a bucket name has 3 to 63 characters";
    for (const char *p = b; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '.' && *p != '-')
            return "a bucket name has only lowercase letters, digits, '.' "
                   "and '-'";
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[len - 1]))
        return "a bucket name starts and ends with a letter or digit";
    if (strstr(b, "..") || strstr(b, ".-") || strstr(b, "-."))
        return "a bucket name has no \"..\", \".-\" or \"-.\"";
    if (s_looks_like_ip(b))
        return "a bucket name is not an IP address";
    if (!strncmp(b, "xn--", 4) || !strncmp(b, "sthree-", 7))
        return "a bucket name does not start with \"xn--\" or \"sthree-\"";
    if ((len > 8 && !strcmp(b + len - 8, "-s3alias")) ||
        (len > 7 && !strcmp(b + len - 7, "--ol-s3")))
        return "a bucket name does not end with \"-s3alias\" or \"--ol-s3\"";
    return NULL;
}

int cwx_config_bucket_name(const char *tmpl, const char *account_id, const char *region, char *out,
                           size_t size, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    struct cwx_buf b;
    int rc = 0;
    cwx_buf_init(&b, 256);
    for (const char *p = tmpl; *p && !rc;) {
        if (!strncmp(p, "{account_id}", 12)) {
            if (!account_id) {
                rc = CWX_ENOTFOUND;
                *why = "the account ID is not known yet";
                break;
            }
            rc = cwx_buf_puts(&b, account_id);
            p += 12;
        } else if (!strncmp(p, "{region}", 8)) {
            rc = cwx_buf_puts(&b, region ? region : "");
            p += 8;
        } else if (*p == '{' || *p == '}') {
            rc = CWX_EINVAL;
            *why = "only {account_id} and {region} may appear in braces";
        } else {
            rc = cwx_buf_putc(&b, *p++);
        }
    }
    if (rc == CWX_ETOOBIG) {
        rc = CWX_EINVAL;
        *why = "a bucket name has 3 to 63 characters";
    }
    if (!rc) {
        *why = s_bucket_why(b.ptr ? b.ptr : "");
        if (*why)
            rc = CWX_EINVAL;
        else if (b.len >= size)
            rc = CWX_ETOOBIG;
        else
            memcpy(out, b.ptr, b.len + 1);
    }
    cwx_buf_free(&b);
    return rc;
}

/* A prefix for keys cwexport writes itself: not empty, no leading '/', no
 * "." or ".." segment, no "//", only characters S3 keys allow safely. */
bool cwx__config_key_prefix_ok(const char *s)
{
    size_t len = strlen(s);
    if (!len || len > 256 || s[0] == '/' || strstr(s, "//") || !cwx__config_all_in(s, "!_.*'()-/"))
        return false;
    for (const char *seg = s; *seg;) {
        size_t n = strcspn(seg, "/");
        if ((n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
            return false;
        seg += n;
        if (*seg == '/')
            seg++;
    }
    return true;
}

bool cwx__config_timezone_ok(const char *name)
{
    if (!strcmp(name, "UTC"))
        return true;
    size_t len = strlen(name);
    if (!len || len > 128 || name[0] == '/' || strstr(name, "..") ||
        !cwx__config_all_in(name, "/_+-"))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cwx__config_region(struct cwx__config_ctx *c, const yaml_node_t *n, const char **out)
{
    int rc = cwx__config_str(c, n, CWX__CONFIG_REGION_EXPECTED, out);
    if (!rc && !s_region_ok(*out))
        rc = cwx__config_expected(c, n, CWX__CONFIG_REGION_EXPECTED);
    return rc;
}

#define S_BYTES_EXPECTED "a size like 1GiB, 500MB, 64MiB or 1048576 (bytes), from 1 to 1TiB"

/* Sizes: digits and an optional unit B, KB, MB, GB, TB (powers of 1000) or
 * KiB, MiB, GiB, TiB (powers of 1024). */
int cwx__config_bytes(struct cwx__config_ctx *c, const yaml_node_t *n, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000},
        {"MB", 1000000},
        {"GB", 1000000000},
        {"TB", 1000000000000},
        {"KiB", 1024},
        {"MiB", 1024 * 1024},
        {"GiB", 1024LL * 1024 * 1024},
        {"TiB", 1024LL * 1024 * 1024 * 1024},
    };
    const char *s;
    int rc = cwx__config_str(c, n, S_BYTES_EXPECTED, &s);
    if (rc)
        return rc;
    size_t i = strspn(s, "0123456789");
    if (!i || i > 13)
        return cwx__config_expected(c, n, S_BYTES_EXPECTED);
    int64_t v = 0;
    for (size_t j = 0; j < i; j++)
        v = v * 10 + (s[j] - '0');
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (strcmp(s + i, units[u].unit))
            continue;
        if (v < 1 || v > (1024LL * 1024 * 1024 * 1024) / units[u].mult)
            return cwx__config_expected(c, n, S_BYTES_EXPECTED);
        *out = v * units[u].mult;
        return 0;
    }
    return cwx__config_expected(c, n, S_BYTES_EXPECTED);
}

int cwx__config_api_rate(struct cwx__config_ctx *c, const yaml_node_t *n, double *out)
{
    static const char expected[] =
        "api_rate as calls per second, a number above 0 and at most 10000";
    const char *s;
    int rc = cwx__config_str(c, n, expected, &s);
    if (rc)
        return rc;
    /* Digits with an optional fraction: no sign, exponent, inf or nan. */
    size_t i = strspn(s, "0123456789");
    if (!i || (s[i] == '.' && !isdigit((unsigned char)s[i + 1])))
        return cwx__config_expected(c, n, expected);
    if (s[i] == '.')
        i += 1 + strspn(s + i + 1, "0123456789");
    if (s[i] || i > 20)
        return cwx__config_expected(c, n, expected);
    double d = strtod(s, NULL);
    if (!(d > 0) || d > 10000)
        return cwx__config_expected(c, n, expected);
    *out = d;
    return 0;
}
