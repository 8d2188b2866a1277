/* Config v1 (docs/config-reference.md). libyaml's document API builds the node tree; a
 * walk of that tree along the schema turns it into validated structs and
 * stops at the first error, which names the offending node's position.
 *
 * Every value a config can hold is copied into the cwx_config being built as
 * soon as it is validated, so that any error path ends in one
 * cwx_config_free() of the partial config and nothing leaks. */
#include "planner/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/error.h"
#include "planner/job.h"

/* Config files larger than this are refused before parsing. */
#define S_FILE_MAX (16u << 20)
/* Longest value quoted in an error message, in bytes of the value. */
#define S_QUOTE_MAX 64
/* Room for a quoted value plus the "(expanded to ...)" note. */
#define S_FOUND_SIZE 340

/* A stand-in account ID and region used to check a bucket template's shape
 * where the real values are not known yet. */
#define S_STANDIN_ACCOUNT_ID "123456789012"
#define S_STANDIN_REGION "us-east-1"

#define S_DEFAULT_PREFIX "{account_id}/{region}/{log_group}/{window}"

/* Where a value came from, for errors found only after inheritance. */
struct s_origin {
    yaml_mark_t bucket; /* destination.bucket's scalar */
};

struct s_ctx {
    yaml_document_t *doc;
    struct cwx_config *cfg;
    struct cwx_config_error *err;
    /* Scalars after ${VAR} expansion, indexed by node id - 1; filled on
     * first use and freed when loading ends. */
    char **expanded;
    size_t n_nodes;
    bool has_default_range;   /* a top-level `range` was given */
    struct s_origin defaults; /* origins of the defaults' values */
};

/* ---- errors ----------------------------------------------------------- */

static int s_fail_at(struct s_ctx *c, size_t line0, size_t col0,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int s_fail_at(struct s_ctx *c, size_t line0, size_t col0,
                     const char *fmt, ...)
{
    va_list ap;
    c->err->line = line0 >= INT_MAX ? INT_MAX : (int)line0 + 1;
    c->err->col = col0 >= INT_MAX ? INT_MAX : (int)col0 + 1;
    va_start(ap, fmt);
    vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
    va_end(ap);
    return CWX_ECONFIG;
}

#define s_fail(c, node, ...)                                                  \
    s_fail_at((c), (node)->start_mark.line, (node)->start_mark.column,        \
              __VA_ARGS__)

static int s_oom(struct s_ctx *c)
{
    c->err->line = 0;
    c->err->col = 0;
    snprintf(c->err->msg, sizeof c->err->msg, "out of memory");
    return CWX_ENOMEM;
}

/* Writes s (len bytes) as a double-quoted, escaped string into out, cut
 * after S_QUOTE_MAX bytes with "..." added. */
static void s_quote(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    if (size < 8) {
        if (size)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    size_t shown = len > S_QUOTE_MAX ? S_QUOTE_MAX : len;
    /* Never cut a UTF-8 sequence in half. */
    while (shown < len && shown > 0 &&
           ((unsigned char)s[shown] & 0xC0) == 0x80)
        shown--;
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= size)
            break;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    if (shown < len && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static const char *s_raw(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* True for YAML's null: an empty plain scalar, `~` or `null`. */
static bool s_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = s_raw(n);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
           !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static size_t s_node_index(const struct s_ctx *c, const yaml_node_t *n)
{
    return (size_t)(n - c->doc->nodes.start);
}

static yaml_node_t *s_node(struct s_ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

/* True when an environment variable's name suggests it holds a secret. */
static bool s_secret_var(const char *name, size_t len)
{
    static const char *const words[] = {"SECRET", "TOKEN", "PASS", "KEY",
                                        "CRED", "PRIVATE", "AUTH"};
    char up[256];
    if (len >= sizeof up)
        return true;
    for (size_t i = 0; i < len; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[len] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(up, words[i]))
            return true;
    return false;
}

/* True when the raw scalar refers to a variable whose value must not be
 * shown. */
static bool s_refers_secret(const char *raw)
{
    for (const char *p = raw; (p = strstr(p, "${")) != NULL; p += 2) {
        if (p > raw && p[-1] == '$')
            continue;
        const char *end = strchr(p + 2, '}');
        if (!end || s_secret_var(p + 2, (size_t)(end - (p + 2))))
            return true;
    }
    return false;
}

/* Describes what was found at n: "a list", "an empty value", or the scalar
 * quoted as written in the file. When ${VAR} expansion changed the value
 * and no variable looks secret, the expanded value follows. */
static const char *s_found(struct s_ctx *c, const yaml_node_t *n,
                           char buf[S_FOUND_SIZE])
{
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return n->data.sequence.items.top == n->data.sequence.items.start
                   ? "an empty list"
                   : "a list";
    case YAML_MAPPING_NODE:
        return n->data.mapping.pairs.top == n->data.mapping.pairs.start
                   ? "an empty mapping"
                   : "a mapping";
    case YAML_SCALAR_NODE:
        break;
    default:
        return "nothing";
    }
    if (s_is_null(n))
        return "an empty value";
    char q[S_QUOTE_MAX * 2 + 16];
    s_quote(s_raw(n), n->data.scalar.length, q, sizeof q);
    const char *x = c->expanded[s_node_index(c, n)];
    if (x && strcmp(x, s_raw(n)) && !s_refers_secret(s_raw(n))) {
        char qx[S_QUOTE_MAX * 2 + 16];
        s_quote(x, strlen(x), qx, sizeof qx);
        snprintf(buf, S_FOUND_SIZE, "%s (expanded to %s)", q, qx);
    } else {
        snprintf(buf, S_FOUND_SIZE, "%s", q);
    }
    return buf;
}

static int s_expected(struct s_ctx *c, const yaml_node_t *n,
                      const char *expected)
{
    char f[S_FOUND_SIZE];
    return s_fail(c, n, "expected %s, found %s", expected, s_found(c, n, f));
}

/* Like s_expected with a reason appended: "expected X, found "v": why". */
static int s_expected_why(struct s_ctx *c, const yaml_node_t *n,
                          const char *expected, const char *why)
{
    char f[S_FOUND_SIZE];
    return s_fail(c, n, "expected %s, found %s: %s", expected,
                  s_found(c, n, f), why);
}

/* ---- scalars ---------------------------------------------------------- */

static bool s_var_name_ok(const char *p, size_t len)
{
    if (!len || len > 255 || !(isalpha((unsigned char)p[0]) || p[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '_')
            return false;
    return true;
}

/* True when a variable must not be expanded into a config at all: its name
 * says it holds a secret (SECRET, PASSWORD, PASSWD, PRIVATE, SESSION_TOKEN,
 * SECURITY_TOKEN), or its value is the secret key or the session token of
 * the environment's AWS credentials (an alias). An expanded value becomes a
 * name, a prefix or a bucket that every report and log line prints, so the
 * only safe secret in a config is none. Names that merely look secret (KEY,
 * TOKEN, AUTH, as in ${KMS_KEY_ARN}) expand, and errors never echo them. */
static bool s_credential_var(const char *name, const char *value)
{
    static const char *const words[] = {"SECRET", "PASSWORD", "PASSWD", "PRIVATE",
                                        "SESSION_TOKEN", "SECURITY_TOKEN"};
    static const char *const aws[] = {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                      "AWS_SECURITY_TOKEN"};
    char up[256];
    size_t len = strlen(name);
    if (len >= sizeof up)
        return true;
    for (size_t i = 0; i <= len; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(up, words[i]))
            return true;
    for (size_t i = 0; i < sizeof aws / sizeof aws[0] && value[0]; i++) {
        const char *v = getenv(aws[i]);
        if (v && v[0] && strcmp(v, value) == 0)
            return true;
    }
    return false;
}

/* Expands ${VAR} references in scalar n ($${ is a literal ${) and caches
 * the result. *out is owned by the context. */
static int s_expand(struct s_ctx *c, const yaml_node_t *n, const char **out)
{
    size_t idx = s_node_index(c, n);
    if (c->expanded[idx]) {
        *out = c->expanded[idx];
        return 0;
    }
    const char *raw = s_raw(n);
    size_t len = n->data.scalar.length;
    if (memchr(raw, '\0', len))
        return s_expected(c, n, "text without NUL characters");
    struct cwx_buf b;
    int rc = 0;
    cwx_buf_init(&b, 0);
    for (size_t i = 0; i < len && !rc;) {
        if (raw[i] == '$' && i + 2 < len && raw[i + 1] == '$' &&
            raw[i + 2] == '{') {
            rc = cwx_buf_append(&b, "${", 2);
            i += 3;
        } else if (raw[i] == '$' && i + 1 < len && raw[i + 1] == '{') {
            const char *name = raw + i + 2;
            const char *end = memchr(name, '}', len - (i + 2));
            if (!end || !s_var_name_ok(name, (size_t)(end - name))) {
                cwx_buf_free(&b);
                return s_expected(c, n,
                                  "${NAME} with a NAME of letters, digits and "
                                  "'_' (write $${ for a literal ${)");
            }
            char var[256];
            memcpy(var, name, (size_t)(end - name));
            var[end - name] = '\0';
            const char *val = getenv(var);
            if (!val) {
                cwx_buf_free(&b);
                return s_fail(c, n,
                              "expected environment variable %s to be set, "
                              "found it unset",
                              var);
            }
            if (s_credential_var(var, val)) {
                cwx_buf_free(&b);
                return s_fail(c, n,
                              "expected no credentials in the config, found "
                              "${%s}, which holds a secret: config files cannot "
                              "carry secret keys, not even from the environment; "
                              "use a profile, role or the environment",
                              var);
            }
            rc = cwx_buf_puts(&b, val);
            i = (size_t)(end - raw) + 1;
        } else {
            rc = cwx_buf_putc(&b, raw[i]);
            i++;
        }
    }
    if (!rc && !b.ptr)
        rc = cwx_buf_append(&b, "", 0); /* an empty value is "" */
    if (rc) {
        cwx_buf_free(&b);
        return s_oom(c);
    }
    c->expanded[idx] = cwx_buf_steal(&b);
    *out = c->expanded[idx];
    return 0;
}

/* A non-empty scalar value after expansion. `expected` names what the key
 * wants, for the error when n is something else. */
static int s_str(struct s_ctx *c, const yaml_node_t *n, const char *expected,
                 const char **out)
{
    if (n->type != YAML_SCALAR_NODE || s_is_null(n))
        return s_expected(c, n, expected);
    int rc = s_expand(c, n, out);
    if (!rc && !**out)
        return s_expected(c, n, expected);
    return rc;
}

static int s_set(struct s_ctx *c, char **field, const char *value)
{
    char *dup = strdup(value);
    if (!dup)
        return s_oom(c);
    free(*field);
    *field = dup;
    return 0;
}

/* A whole number from min to max, written as decimal digits. */
static int s_int(struct s_ctx *c, const yaml_node_t *n, const char *expected,
                 long min, long max, long *out)
{
    const char *v;
    int rc = s_str(c, n, expected, &v);
    if (rc)
        return rc;
    size_t len = strlen(v);
    if (len > 9)
        return s_expected(c, n, expected);
    long x = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)v[i]))
            return s_expected(c, n, expected);
        x = x * 10 + (v[i] - '0');
    }
    if (x < min || x > max)
        return s_expected(c, n, expected);
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

#define S_DURATION_EXPECTED                                                   \
    "a duration like 250ms, 30s, 5m, 12h or 2d"

static int s_duration(struct s_ctx *c, const yaml_node_t *n, int64_t *out)
{
    const char *v;
    int rc = s_str(c, n, S_DURATION_EXPECTED, &v);
    if (rc)
        return rc;
    if (cwx_duration_parse(v, out))
        return s_expected(c, n, S_DURATION_EXPECTED);
    return 0;
}

/* Formats a duration in its largest whole unit. */
static void s_fmt_ms(int64_t ms, char *buf, size_t size)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms && ms % units[i].ms == 0) {
            snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms),
                     units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "%lldms", (long long)ms);
}

/* ---- shape checks ----------------------------------------------------- */

static bool s_all_in(const char *s, const char *extra)
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
    } else if (!strncmp(p, "-iso", 4) && (p[4] == '-' ||
               (islower((unsigned char)p[4]) && p[5] == '-'))) {
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

static bool s_account_id_ok(const char *s)
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
static bool s_role_arn_ok(const char *arn)
{
    const char *p = s_arn_after_service(arn, "iam");
    if (!p || *p++ != ':' || !s_digits_n(p, 12) || strncmp(p + 12, ":role/", 6))
        return false;
    p += 18;
    size_t len = strlen(p);
    if (!len || len > 576 || p[len - 1] == '/' || p[0] == '/' ||
        !s_all_in(p, "+=,.@_/-"))
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
static bool s_sns_arn_ok(const char *arn)
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
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
            name[i] != '-')
            return false;
    return true;
}

/* arn:aws:kms:us-east-1:123456789012:key/<id> or alias/<name> */
static bool s_kms_arn_ok(const char *arn)
{
    const char *res = s_arn_region_account(s_arn_after_service(arn, "kms"));
    if (!res)
        return false;
    if (!strncmp(res, "key/", 4))
        return res[4] && strlen(res + 4) <= 128 && s_all_in(res + 4, "-");
    if (!strncmp(res, "alias/", 6))
        return res[6] && strlen(res + 6) <= 250 && s_all_in(res + 6, "/_-");
    return false;
}

/* Log group names and prefixes: [\.\-_/#A-Za-z0-9]+, 1-512 bytes. */
static bool s_log_group_ok(const char *s)
{
    size_t len = strlen(s);
    return len >= 1 && len <= 512 && s_all_in(s, "._-/#");
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
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
            *p != '.' && *p != '-')
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

int cwx_config_bucket_name(const char *tmpl, const char *account_id,
                           const char *region, char *out, size_t size,
                           const char **why)
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
static bool s_key_prefix_ok(const char *s)
{
    size_t len = strlen(s);
    if (!len || len > 256 || s[0] == '/' || strstr(s, "//") ||
        !s_all_in(s, "!_.*'()-/"))
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

static bool s_timezone_ok(const char *name)
{
    if (!strcmp(name, "UTC"))
        return true;
    size_t len = strlen(name);
    if (!len || len > 128 || name[0] == '/' || strstr(name, "..") ||
        !s_all_in(name, "/_+-"))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s",
             dir && *dir ? dir : "/usr/share/zoneinfo", name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- mappings ----------------------------------------------------------- */

static size_t s_levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static bool s_mark_before(yaml_mark_t a, yaml_mark_t b)
{
    return a.line < b.line || (a.line == b.line && a.column < b.column);
}

/* Checks that n is a mapping whose keys are all in keys[0..nkeys), each at
 * most once, and files each value under its key's index in vals (NULL when
 * absent) and the key node in knodes. `what` describes the mapping for a
 * type error ("a mapping for \"defaults\""), `where` says where an unknown
 * key was found ("in defaults"). */
static int s_mapping(struct s_ctx *c, const yaml_node_t *n, const char *what,
                     const char *where, const char *const *keys, size_t nkeys,
                     yaml_node_t **vals, yaml_node_t **knodes)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_expected(c, n, what);
    for (size_t i = 0; i < nkeys; i++)
        vals[i] = knodes[i] = NULL;
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
         pair < n->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = s_node(c, pair->key);
        yaml_node_t *v = s_node(c, pair->value);
        if (k->type != YAML_SCALAR_NODE) {
            char f[S_FOUND_SIZE];
            return s_fail(c, k, "expected a key name %s, found %s", where,
                          s_found(c, k, f));
        }
        char q[S_QUOTE_MAX * 2 + 16];
        s_quote(s_raw(k), k->data.scalar.length, q, sizeof q);
        size_t idx = nkeys;
        for (size_t i = 0; i < nkeys; i++)
            if (!strcmp(s_raw(k), keys[i]) &&
                strlen(keys[i]) == k->data.scalar.length)
                idx = i;
        if (idx == nkeys) {
            if (!strcmp(where, "in defaults") && !strcmp(s_raw(k), "range"))
                return s_fail(c, k,
                              "unknown key \"range\" in defaults: the default "
                              "range is a top-level \"range\"");
            size_t best = nkeys, best_d = 3;
            for (size_t i = 0; i < nkeys; i++) {
                size_t d = s_levenshtein(s_raw(k), keys[i]);
                if (d < best_d) {
                    best_d = d;
                    best = i;
                }
            }
            if (best < nkeys)
                return s_fail(c, k, "unknown key %s %s, did you mean \"%s\"?",
                              q, where, keys[best]);
            char list[400] = "";
            size_t o = 0;
            for (size_t i = 0; i < nkeys && o < sizeof list; i++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                                      i ? ", " : "", keys[i]);
            return s_fail(c, k, "unknown key %s %s, expected one of: %s", q,
                          where, list);
        }
        if (vals[idx])
            return s_fail(c, k, "duplicate key %s %s (first at %zu:%zu)", q,
                          where, (size_t)knodes[idx]->start_mark.line + 1,
                          (size_t)knodes[idx]->start_mark.column + 1);
        vals[idx] = v;
        knodes[idx] = k;
    }
    return 0;
}

static size_t s_seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *s_seq_item(struct s_ctx *c, const yaml_node_t *n,
                               size_t i)
{
    return s_node(c, n->data.sequence.items.start[i]);
}

/* n must be a list; non-empty when nonempty is set. */
static int s_list(struct s_ctx *c, const yaml_node_t *n, const char *expected,
                  bool nonempty)
{
    if (n->type != YAML_SEQUENCE_NODE || (nonempty && !s_seq_len(n)))
        return s_expected(c, n, expected);
    return 0;
}

/* Key names that suggest a secret; refused anywhere in a config. */
static bool s_secret_key(const char *k)
{
    static const char *const keys[] = {
        "aws_secret_access_key", "secret_access_key", "secret_key",
        "aws_session_token",     "session_token",     "password",
        "aws_access_key_id",     "access_key_id",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcasecmp(k, keys[i]))
            return true;
    return false;
}

/* Looks for secret-looking keys anywhere in the document, before any other
 * check, and reports the first in the file. */
static int s_scan_secrets(struct s_ctx *c)
{
    const yaml_node_t *first = NULL;
    for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
        if (n->type != YAML_MAPPING_NODE)
            continue;
        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
             pair < n->data.mapping.pairs.top; pair++) {
            const yaml_node_t *k = s_node(c, pair->key);
            if (k->type == YAML_SCALAR_NODE && s_secret_key(s_raw(k)) &&
                (!first || s_mark_before(k->start_mark, first->start_mark)))
                first = k;
        }
    }
    if (!first)
        return 0;
    char q[S_QUOTE_MAX * 2 + 16];
    s_quote(s_raw(first), first->data.scalar.length, q, sizeof q);
    return s_fail(c, first,
                  "expected no credentials in the config, found secret key "
                  "%s: config files cannot carry secret keys; use a profile, "
                  "role or the environment",
                  q);
}

/* ---- ranges ----------------------------------------------------------- */

enum { R_FROM, R_TO, R_LAST, R_N };
static const char *const s_range_keys[] = {"from", "to", "last"};

#define S_WINDOW_EXPECTED                                                     \
    "a window as YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH or YYYY-Www"

static int s_civil(struct s_ctx *c, const yaml_node_t *n, const char *expected,
                   struct cwx_civil *out)
{
    const char *v, *why = NULL;
    int rc = s_str(c, n, expected, &v);
    if (rc)
        return rc;
    if (cwx_civil_parse(v, out, &why)) {
        if (why && strncmp(why, "expected", 8))
            return s_expected_why(c, n, expected, why);
        return s_expected(c, n, expected);
    }
    return 0;
}

static int s_civil_cmp(const struct cwx_civil *a, const struct cwx_civil *b)
{
    int ka[4] = {a->year, a->month, a->day, a->hour};
    int kb[4] = {b->year, b->month, b->day, b->hour};
    for (int i = 0; i < 4; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

static int s_range(struct s_ctx *c, const yaml_node_t *n, const char *what,
                   struct cwx_range *r)
{
    yaml_node_t *v[R_N], *k[R_N];
    int rc = s_mapping(c, n, what, "in range", s_range_keys, R_N, v, k);
    if (rc)
        return rc;
    memset(r, 0, sizeof *r);
    r->to_latest = true;
    if (v[R_LAST] && (v[R_FROM] || v[R_TO])) {
        yaml_node_t *other = v[R_FROM] ? k[R_FROM] : k[R_TO];
        yaml_node_t *later = s_mark_before(k[R_LAST]->start_mark,
                                           other->start_mark)
                                 ? other
                                 : k[R_LAST];
        return s_fail(c, later,
                      "expected either \"last\" or \"from\"/\"to\" in range, "
                      "found both");
    }
    if (v[R_LAST]) {
        long last;
        rc = s_int(c, v[R_LAST], "\"last\" as a number of windows from 1 to "
                                 "10000", 1, 10000, &last);
        if (rc)
            return rc;
        r->is_last = true;
        r->last = (int)last;
        return 0;
    }
    if (!v[R_FROM])
        return s_fail(c, n,
                      "expected \"from\" (with an optional \"to\") or \"last\" "
                      "in range, found neither");
    rc = s_civil(c, v[R_FROM], S_WINDOW_EXPECTED, &r->from);
    if (rc || !v[R_TO])
        return rc;
    const char *to;
    rc = s_str(c, v[R_TO], S_WINDOW_EXPECTED " or latest", &to);
    if (rc || !strcmp(to, "latest"))
        return rc;
    rc = s_civil(c, v[R_TO], S_WINDOW_EXPECTED " or latest", &r->to);
    if (rc)
        return rc;
    r->to_latest = false;
    if (s_civil_cmp(&r->from, &r->to) > 0) {
        char f[S_FOUND_SIZE], fr[S_FOUND_SIZE];
        return s_fail(c, v[R_TO],
                      "expected \"to\" at or after \"from\" (%s), found %s",
                      s_found(c, v[R_FROM], fr), s_found(c, v[R_TO], f));
    }
    return 0;
}

/* ---- settings (defaults and accounts) ----------------------------------- */

/* Keys of an account mapping. The first S_N are the settings keys, which are
 * also the keys of `defaults`. */
enum {
    S_REGION,
    S_TIMEZONE,
    S_WINDOW,
    S_SETTLE,
    S_DESTINATION,
    S_POLL,
    S_MAX_ATTEMPTS,
    S_TOKEN_SCOPE,
    S_LOOP_GUARD,
    S_API_RATE,
    S_OUTAGE,
    S_LEASE,
    S_SKIP_EMPTY,
    S_COALESCE,
    S_N,
    A_NAME = S_N,
    A_ACCOUNT_ID,
    A_PROFILE,
    A_ROLE_ARN,
    A_EXTERNAL_ID,
    A_REGIONS,
    A_RANGE,
    A_LOG_GROUPS,
    A_N
};
static const char *const s_account_keys[] = {
    "region",      "timezone",   "window",      "settle",      "destination",
    "poll",        "max_attempts", "token_scope", "loop_guard", "api_rate",
    "outage",      "lease",      "skip_empty", "coalesce",
    "name",        "account_id", "profile",     "role_arn",    "external_id",
    "regions",     "range",      "log_groups",
};

enum { D_BUCKET, D_PREFIX, D_STATE_PREFIX, D_DETECT, D_KMS_KEY_ARN, D_OWNER, D_N };
static const char *const s_destination_keys[] = {
    "bucket", "prefix", "state_prefix", "detect", "kms_key_arn", "expected_bucket_owner"};

enum { P_MIN, P_MAX, P_N };
static const char *const s_poll_keys[] = {"min", "max"};

enum { O_PAUSE, O_PAUSES, O_N };
static const char *const s_outage_keys[] = {"pause", "pauses"};

enum { LE_TTL, LE_BUCKET, LE_N };
static const char *const s_lease_keys[] = {"ttl", "bucket"};
enum { K_MODE, K_MAX_PAGES, K_API_RATE, K_N };
static const char *const s_skip_empty_keys[] = {"mode", "max_pages", "api_rate"};

enum { C_MAX_BYTES, C_MAX_WINDOWS, C_N };
static const char *const s_coalesce_keys[] = {"max_bytes", "max_windows"};

enum { L_PER_JOB, L_PER_RUN, L_N };
static const char *const s_loop_guard_keys[] = {"max_creates_per_job",
                                                "max_creates_per_run"};

#define S_REGION_EXPECTED "a region name like us-east-1"
#define S_BUCKET_EXPECTED                                                     \
    "an S3 bucket name (placeholders {account_id} and {region} allowed)"
#define S_PREFIX_EXPECTED                                                     \
    "a destination prefix template like " S_DEFAULT_PREFIX

static int s_region(struct s_ctx *c, const yaml_node_t *n, const char **out)
{
    int rc = s_str(c, n, S_REGION_EXPECTED, out);
    if (!rc && !s_region_ok(*out))
        rc = s_expected(c, n, S_REGION_EXPECTED);
    return rc;
}

/* The column of byte `off` of scalar n's value, when it can be known: the
 * scalar is on one line, has no escapes and no ${VAR} expansion. Else the
 * scalar's own column. */
static size_t s_scalar_col(struct s_ctx *c, const yaml_node_t *n, size_t off)
{
    size_t len = n->data.scalar.length;
    size_t width = n->end_mark.column - n->start_mark.column;
    const char *x = c->expanded[s_node_index(c, n)];
    if (n->start_mark.line != n->end_mark.line || !x || strcmp(x, s_raw(n)))
        return n->start_mark.column;
    switch (n->data.scalar.style) {
    case YAML_PLAIN_SCALAR_STYLE:
        return width == len ? n->start_mark.column + off
                            : n->start_mark.column;
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return width == len + 2 ? n->start_mark.column + 1 + off
                                : n->start_mark.column;
    default:
        return n->start_mark.column;
    }
}

static int s_destination(struct s_ctx *c, const yaml_node_t *n,
                         const char *where, struct cwx_destination *d,
                         struct s_origin *o)
{
    yaml_node_t *v[D_N], *k[D_N];
    int rc = s_mapping(c, n, "a mapping for \"destination\"", where,
                       s_destination_keys, D_N, v, k);
    if (rc)
        return rc;
    const char *s, *why;
    if (v[D_BUCKET]) {
        char out[64];
        rc = s_str(c, v[D_BUCKET], S_BUCKET_EXPECTED, &s);
        if (rc)
            return rc;
        if (cwx_config_bucket_name(s, S_STANDIN_ACCOUNT_ID, S_STANDIN_REGION,
                                   out, sizeof out, &why))
            return s_expected_why(c, v[D_BUCKET], S_BUCKET_EXPECTED,
                                  why ? why : "too long");
        if ((rc = s_set(c, &d->bucket, s)))
            return rc;
        o->bucket = v[D_BUCKET]->start_mark;
    }
    if (v[D_PREFIX]) {
        size_t off = 0;
        rc = s_str(c, v[D_PREFIX], S_PREFIX_EXPECTED, &s);
        if (rc)
            return rc;
        why = NULL;
        if (cwx_template_check(s, &why, &off)) {
            char f[S_FOUND_SIZE];
            return s_fail_at(c, v[D_PREFIX]->start_mark.line,
                             s_scalar_col(c, v[D_PREFIX], off),
                             "expected %s, found %s: %s", S_PREFIX_EXPECTED,
                             s_found(c, v[D_PREFIX], f),
                             why ? why : "invalid template");
        }
        if ((rc = s_set(c, &d->prefix, s)))
            return rc;
    }
    if (v[D_STATE_PREFIX]) {
        static const char expected[] =
            "a key prefix like _cwexport (letters, digits and !_.*'()-/; "
            "no leading \"/\", no \".\" or \"..\" segment)";
        rc = s_str(c, v[D_STATE_PREFIX], expected, &s);
        if (rc)
            return rc;
        if (!s_key_prefix_ok(s))
            return s_expected(c, v[D_STATE_PREFIX], expected);
        if ((rc = s_set(c, &d->state_prefix, s)))
            return rc;
        size_t len = strlen(d->state_prefix);
        while (len > 1 && d->state_prefix[len - 1] == '/')
            d->state_prefix[--len] = '\0';
    }
    if (v[D_DETECT]) {
        rc = s_str(c, v[D_DETECT], "detect: marker or objects", &s);
        if (rc)
            return rc;
        if (!strcmp(s, "marker"))
            d->detect = CWX_DETECT_MARKER;
        else if (!strcmp(s, "objects"))
            d->detect = CWX_DETECT_OBJECTS;
        else
            return s_expected(c, v[D_DETECT], "detect: marker or objects");
    }
    if (v[D_KMS_KEY_ARN]) {
        static const char expected[] =
            "a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<id> "
            "or .../alias/<name>";
        rc = s_str(c, v[D_KMS_KEY_ARN], expected, &s);
        if (rc)
            return rc;
        if (!s_kms_arn_ok(s))
            return s_expected(c, v[D_KMS_KEY_ARN], expected);
        if ((rc = s_set(c, &d->kms_key_arn, s)))
            return rc;
    }
    if (v[D_OWNER]) {
        static const char expected[] =
            "a 12-digit AWS account ID in quotes for \"expected_bucket_owner\"";
        rc = s_str(c, v[D_OWNER], expected, &s);
        if (rc)
            return rc;
        if (!s_account_id_ok(s))
            return s_expected(c, v[D_OWNER], expected);
        if ((rc = s_set(c, &d->expected_bucket_owner, s)))
            return rc;
    }
    return 0;
}

static int s_poll(struct s_ctx *c, const yaml_node_t *n, const char *where,
                  struct cwx_settings *st)
{
    yaml_node_t *v[P_N], *k[P_N];
    int rc = s_mapping(c, n, "a mapping for \"poll\" like {min: 5s, max: 60s}",
                       where, s_poll_keys, P_N, v, k);
    if (rc)
        return rc;
    int64_t *fields[P_N] = {&st->poll_min_ms, &st->poll_max_ms};
    for (int i = 0; i < P_N; i++) {
        if (!v[i])
            continue;
        int64_t ms;
        if ((rc = s_duration(c, v[i], &ms)))
            return rc;
        /* Values under 1s are for tests and fast fakes (a scaled time
         * factor); against AWS, poll.min stays in seconds. */
        if (ms < 10) {
            char e[64];
            snprintf(e, sizeof e, "poll.%s of at least 10ms", s_poll_keys[i]);
            return s_expected(c, v[i], e);
        }
        *fields[i] = ms;
    }
    if (st->poll_min_ms > st->poll_max_ms) {
        char a[32], b[32];
        s_fmt_ms(st->poll_min_ms, a, sizeof a);
        s_fmt_ms(st->poll_max_ms, b, sizeof b);
        return s_fail(c, n,
                      "expected poll.min <= poll.max, found min %s and max %s",
                      a, b);
    }
    return 0;
}

static int s_loop_guard(struct s_ctx *c, const yaml_node_t *n,
                        const char *where, struct cwx_settings *st)
{
    yaml_node_t *v[L_N], *k[L_N];
    int rc = s_mapping(c, n, "a mapping for \"loop_guard\"", where,
                       s_loop_guard_keys, L_N, v, k);
    if (rc)
        return rc;
    long x;
    if (v[L_PER_JOB]) {
        rc = s_int(c, v[L_PER_JOB],
                   "max_creates_per_job as a whole number from 1 to 100", 1,
                   100, &x);
        if (rc)
            return rc;
        st->max_creates_per_job = (int)x;
    }
    if (v[L_PER_RUN]) {
        rc = s_int(c, v[L_PER_RUN],
                   "max_creates_per_run as a whole number from 0 (automatic) "
                   "to 100000000",
                   0, 100000000, &x);
        if (rc)
            return rc;
        st->max_creates_per_run = (int)x;
    }
    return 0;
}

/* outage: {pause: 5m, pauses: 3} — how a lane rides out AWS failing. */
static int s_outage(struct s_ctx *c, const yaml_node_t *n, const char *where,
                    struct cwx_settings *st)
{
    yaml_node_t *v[O_N], *k[O_N];
    int rc = s_mapping(c, n, "a mapping for \"outage\"", where, s_outage_keys, O_N, v, k);
    if (rc)
        return rc;
    if (v[O_PAUSE]) {
        int64_t ms;
        if ((rc = s_duration(c, v[O_PAUSE], &ms)))
            return rc;
        if (ms < 10 || ms > 24LL * 3600 * 1000)
            return s_expected(c, v[O_PAUSE], "outage.pause from 10ms to 24h");
        st->outage_pause_ms = ms;
    }
    if (v[O_PAUSES]) {
        long x;
        rc = s_int(c, v[O_PAUSES], "outage.pauses as a whole number from 0 to 100", 0, 100,
                   &x);
        if (rc)
            return rc;
        st->outage_pauses = (int)x;
    }
    return 0;
}

/* lease: off | on | {ttl: 2m, bucket: NAME} — the lane lease. */
static int s_lease(struct s_ctx *c, const yaml_node_t *n, struct cwx_settings *st)
{
    static const char expected[] =
        "lease: off, on, or a mapping like {ttl: 2m, bucket: NAME}";
    if (n->type == YAML_SCALAR_NODE) {
        const char *s;
        int rc = s_str(c, n, expected, &s);
        if (rc)
            return rc;
        if (!strcmp(s, "off") || !strcmp(s, "false"))
            st->lease_off = true;
        else if (!strcmp(s, "on") || !strcmp(s, "true"))
            st->lease_off = false;
        else
            return s_expected(c, n, expected);
        return 0;
    }
    yaml_node_t *v[LE_N], *k[LE_N];
    int rc = s_mapping(c, n, "a mapping for \"lease\"", "in lease", s_lease_keys, LE_N, v, k);
    if (rc)
        return rc;
    st->lease_off = false;
    if (v[LE_TTL]) {
        int64_t ms;
        if ((rc = s_duration(c, v[LE_TTL], &ms)))
            return rc;
        if (ms < 1000 || ms > 3600LL * 1000)
            return s_expected(c, v[LE_TTL], "lease.ttl from 1s to 1h");
        st->lease_ttl_ms = ms;
    }
    if (v[LE_BUCKET]) {
        const char *s, *why = NULL;
        char out[64];
        rc = s_str(c, v[LE_BUCKET], S_BUCKET_EXPECTED, &s);
        if (rc)
            return rc;
        if (cwx_config_bucket_name(s, S_STANDIN_ACCOUNT_ID, S_STANDIN_REGION, out, sizeof out,
                                   &why))
            return s_expected_why(c, v[LE_BUCKET], S_BUCKET_EXPECTED, why ? why : "too long");
        if ((rc = s_set(c, &st->lease_bucket, s)))
            return rc;
    }
    return 0;
}

#define S_SKIP_EMPTY_EXPECTED                                                 \
    "skip_empty: streams, off, or a mapping like {mode: streams, max_pages: 200}"

static int s_api_rate(struct s_ctx *c, const yaml_node_t *n, double *out);

/* skip_empty: streams | off | {mode: streams|off, max_pages: N}. */
static int s_skip_empty(struct s_ctx *c, const yaml_node_t *n,
                        struct cwx_settings *st)
{
    const yaml_node_t *mode = n;
    if (n->type == YAML_MAPPING_NODE) {
        yaml_node_t *v[K_N], *k[K_N];
        int rc = s_mapping(c, n, S_SKIP_EMPTY_EXPECTED, "in skip_empty",
                           s_skip_empty_keys, K_N, v, k);
        if (rc)
            return rc;
        if (v[K_MAX_PAGES]) {
            long x;
            rc = s_int(c, v[K_MAX_PAGES],
                       "skip_empty.max_pages as a whole number from 1 to 100000",
                       1, 100000, &x);
            if (rc)
                return rc;
            st->skip_empty_max_pages = (int)x;
        }
        if (v[K_API_RATE] && (rc = s_api_rate(c, v[K_API_RATE], &st->skip_empty_api_rate)))
            return rc;
        st->skip_empty = CWX_SKIP_EMPTY_STREAMS; /* a mapping turns it on */
        mode = v[K_MODE];
        if (!mode)
            return 0;
    }
    const char *s;
    int rc = s_str(c, mode, S_SKIP_EMPTY_EXPECTED, &s);
    if (rc)
        return rc;
    if (!strcmp(s, "streams"))
        st->skip_empty = CWX_SKIP_EMPTY_STREAMS;
    else if (!strcmp(s, "off"))
        st->skip_empty = CWX_SKIP_EMPTY_OFF;
    else
        return s_expected(c, mode, S_SKIP_EMPTY_EXPECTED);
    return 0;
}

#define S_BYTES_EXPECTED                                                      \
    "a size like 1GiB, 500MB, 64MiB or 1048576 (bytes), from 1 to 1TiB"

/* Sizes: digits and an optional unit B, KB, MB, GB, TB (powers of 1000) or
 * KiB, MiB, GiB, TiB (powers of 1024). */
static int s_bytes(struct s_ctx *c, const yaml_node_t *n, int64_t *out)
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
    int rc = s_str(c, n, S_BYTES_EXPECTED, &s);
    if (rc)
        return rc;
    size_t i = strspn(s, "0123456789");
    if (!i || i > 13)
        return s_expected(c, n, S_BYTES_EXPECTED);
    int64_t v = 0;
    for (size_t j = 0; j < i; j++)
        v = v * 10 + (s[j] - '0');
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (strcmp(s + i, units[u].unit))
            continue;
        if (v < 1 || v > (1024LL * 1024 * 1024 * 1024) / units[u].mult)
            return s_expected(c, n, S_BYTES_EXPECTED);
        *out = v * units[u].mult;
        return 0;
    }
    return s_expected(c, n, S_BYTES_EXPECTED);
}

#define S_COALESCE_EXPECTED                                                   \
    "coalesce: off, or a mapping like {max_bytes: 1GiB, max_windows: 12}"

/* coalesce: off | {max_bytes: SIZE, max_windows: N}; a mapping turns it on
 * with the defaults for what it leaves out (1 GiB, 12 windows). */
static int s_coalesce(struct s_ctx *c, const yaml_node_t *n,
                      struct cwx_coalesce *co)
{
    if (n->type != YAML_MAPPING_NODE) {
        const char *s;
        int rc = s_str(c, n, S_COALESCE_EXPECTED, &s);
        if (rc)
            return rc;
        if (strcmp(s, "off"))
            return s_expected(c, n, S_COALESCE_EXPECTED);
        co->max_windows = 0;
        return 0;
    }
    yaml_node_t *v[C_N], *k[C_N];
    int rc = s_mapping(c, n, S_COALESCE_EXPECTED, "in coalesce", s_coalesce_keys,
                       C_N, v, k);
    if (rc)
        return rc;
    struct cwx_coalesce out = {1024LL * 1024 * 1024, 12};
    if (v[C_MAX_BYTES] && (rc = s_bytes(c, v[C_MAX_BYTES], &out.max_bytes)))
        return rc;
    if (v[C_MAX_WINDOWS]) {
        long x;
        rc = s_int(c, v[C_MAX_WINDOWS],
                   "coalesce.max_windows as a whole number from 1 to 1000", 1,
                   1000, &x);
        if (rc)
            return rc;
        out.max_windows = (int)x;
    }
    *co = out;
    return 0;
}

static int s_api_rate(struct s_ctx *c, const yaml_node_t *n, double *out)
{
    static const char expected[] =
        "api_rate as calls per second, a number above 0 and at most 10000";
    const char *s;
    int rc = s_str(c, n, expected, &s);
    if (rc)
        return rc;
    /* Digits with an optional fraction: no sign, exponent, inf or nan. */
    size_t i = strspn(s, "0123456789");
    if (!i || (s[i] == '.' && !isdigit((unsigned char)s[i + 1])))
        return s_expected(c, n, expected);
    if (s[i] == '.')
        i += 1 + strspn(s + i + 1, "0123456789");
    if (s[i] || i > 20)
        return s_expected(c, n, expected);
    double d = strtod(s, NULL);
    if (!(d > 0) || d > 10000)
        return s_expected(c, n, expected);
    *out = d;
    return 0;
}

/* Applies one settings key (index S_*) with value n over st. */
static int s_setting(struct s_ctx *c, int key, const yaml_node_t *n,
                     struct cwx_settings *st, struct s_origin *o)
{
    int rc = 0;
    const char *s;
    long x;
    switch (key) {
    case S_REGION:
        if (!(rc = s_region(c, n, &s)))
            rc = s_set(c, &st->region, s);
        return rc;
    case S_TIMEZONE: {
        static const char expected[] =
            "an IANA time zone like UTC or Europe/Paris";
        if ((rc = s_str(c, n, expected, &s)))
            return rc;
        if (!s_timezone_ok(s))
            return s_expected(c, n, expected);
        return s_set(c, &st->timezone, s);
    }
    case S_WINDOW: {
        static const char expected[] = "window: month, week, day or hour";
        static const char *const names[] = {"month", "week", "day", "hour"};
        static const enum cwx_granularity gs[] = {
            CWX_WINDOW_MONTH, CWX_WINDOW_WEEK, CWX_WINDOW_DAY, CWX_WINDOW_HOUR};
        if ((rc = s_str(c, n, expected, &s)))
            return rc;
        for (size_t i = 0; i < 4; i++) {
            if (!strcmp(s, names[i])) {
                st->window = gs[i];
                return 0;
            }
        }
        return s_expected(c, n, expected);
    }
    case S_SETTLE:
        return s_duration(c, n, &st->settle_ms);
    case S_DESTINATION:
        return s_destination(c, n, "in destination", &st->destination, o);
    case S_POLL:
        return s_poll(c, n, "in poll", st);
    case S_MAX_ATTEMPTS:
        rc = s_int(c, n, "max_attempts as a whole number from 1 to 20", 1, 20,
                   &x);
        if (!rc)
            st->max_attempts = (int)x;
        return rc;
    case S_TOKEN_SCOPE: {
        static const char expected[] = "token_scope: account or region";
        if ((rc = s_str(c, n, expected, &s)))
            return rc;
        if (!strcmp(s, "account"))
            st->token_scope = CWX_SCOPE_ACCOUNT;
        else if (!strcmp(s, "region"))
            st->token_scope = CWX_SCOPE_REGION;
        else
            return s_expected(c, n, expected);
        return 0;
    }
    case S_LOOP_GUARD:
        return s_loop_guard(c, n, "in loop_guard", st);
    case S_API_RATE:
        return s_api_rate(c, n, &st->api_rate);
    case S_OUTAGE:
        return s_outage(c, n, "in outage", st);
    case S_LEASE:
        return s_lease(c, n, st);
    case S_SKIP_EMPTY:
        return s_skip_empty(c, n, st);
    case S_COALESCE:
        return s_coalesce(c, n, &st->coalesce);
    default:
        return 0;
    }
}

/* Applies the settings keys present in v (indexed S_*, key nodes in k) over
 * st, in the order they appear in the file so that the first error reported
 * is the first in the file. */
static int s_settings(struct s_ctx *c, yaml_node_t **v, yaml_node_t **k,
                      struct cwx_settings *st, struct s_origin *o)
{
    int order[S_N], n = 0;
    for (int i = 0; i < S_N; i++) {
        if (!v[i])
            continue;
        int j = n++;
        while (j > 0 && s_mark_before(k[i]->start_mark,
                                      k[order[j - 1]]->start_mark)) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int oi = 0; oi < n; oi++) {
        int rc = s_setting(c, order[oi], v[order[oi]], st, o);
        if (rc)
            return rc;
    }
    return 0;
}

static void s_settings_free(struct cwx_settings *st)
{
    free(st->region);
    free(st->timezone);
    free(st->destination.bucket);
    free(st->destination.prefix);
    free(st->destination.state_prefix);
    free(st->destination.kms_key_arn);
    free(st->lease_bucket);
    free(st->destination.expected_bucket_owner);
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
static int s_settings_copy(struct s_ctx *c, struct cwx_settings *dst,
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
        s_dup_or_null(src->destination.state_prefix,
                      &dst->destination.state_prefix) ||
        s_dup_or_null(src->destination.kms_key_arn,
                      &dst->destination.kms_key_arn) ||
        s_dup_or_null(src->destination.expected_bucket_owner,
                      &dst->destination.expected_bucket_owner))
        return s_oom(c);
    return 0;
}

static int s_builtin_defaults(struct s_ctx *c, struct cwx_settings *st)
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
        !(st->destination.prefix = strdup(S_DEFAULT_PREFIX)) ||
        !(st->destination.state_prefix = strdup("_cwexport")))
        return s_oom(c);
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

static int s_group(struct s_ctx *c, const yaml_node_t *n,
                   const struct cwx_range *inherited, bool has_inherited,
                   const yaml_node_t *account, const struct cwx_account *a,
                   struct cwx_group_sel *g)
{
    yaml_node_t *v[G_N], *k[G_N];
    int rc = s_mapping(c, n,
                       "a mapping for a log group (with name, prefix or "
                       "pattern)",
                       "in log group", s_group_keys, G_N, v, k);
    if (rc)
        return rc;
    g->line = (int)n->start_mark.line + 1;
    g->col = (int)n->start_mark.column + 1;
    int which = -1;
    for (int i = G_NAME; i <= G_PATTERN; i++) {
        if (!v[i])
            continue;
        if (which >= 0) {
            int first = which, second = i;
            if (s_mark_before(k[i]->start_mark, k[which]->start_mark)) {
                first = i;
                second = which;
            }
            return s_fail(c, k[second],
                          "expected one of \"name\", \"prefix\" or "
                          "\"pattern\" in log group, found both \"%s\" and "
                          "\"%s\"",
                          s_group_keys[first], s_group_keys[second]);
        }
        which = i;
    }
    if (which < 0)
        return s_fail(c, n,
                      "expected one of \"name\", \"prefix\" or \"pattern\" in "
                      "log group, found none");
    static const char *const expected[] = {
        "a log group name of 1-512 characters from A-Z a-z 0-9 . - _ / #",
        "a log group name prefix of 1-512 characters from A-Z a-z 0-9 . - _ "
        "/ #",
        "a log group name pattern of 1-512 characters from A-Z a-z 0-9 . - _ "
        "/ #",
    };
    const char *s;
    if ((rc = s_str(c, v[which], expected[which], &s)))
        return rc;
    if (!s_log_group_ok(s))
        return s_expected(c, v[which], expected[which]);
    g->kind = which == G_NAME     ? CWX_GROUP_NAME
              : which == G_PREFIX ? CWX_GROUP_PREFIX
                                  : CWX_GROUP_PATTERN;
    if ((rc = s_set(c, &g->value, s)))
        return rc;

    if (v[G_EXCLUDE]) {
        if (which == G_NAME)
            return s_fail(c, k[G_EXCLUDE],
                          "expected \"exclude\" only with \"prefix\" or "
                          "\"pattern\", found it with \"name\"");
        static const char exp_list[] = "a list of log group name globs";
        static const char exp_glob[] =
            "a log group name glob like /aws/lambda/test-* (1-512 "
            "characters)";
        if ((rc = s_list(c, v[G_EXCLUDE], exp_list, false)))
            return rc;
        size_t count = s_seq_len(v[G_EXCLUDE]);
        if (count && !(g->exclude = calloc(count, sizeof *g->exclude)))
            return s_oom(c);
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *item = s_seq_item(c, v[G_EXCLUDE], i);
            if ((rc = s_str(c, item, exp_glob, &s)))
                return rc;
            if (strlen(s) > 512)
                return s_expected(c, item, exp_glob);
            if (!(g->exclude[i] = strdup(s)))
                return s_oom(c);
            g->n_exclude = i + 1;
        }
    }
    if (v[G_STREAM]) {
        static const char exp[] =
            "a log stream name prefix of 1-512 characters without ':' or '*'";
        if ((rc = s_str(c, v[G_STREAM], exp, &s)))
            return rc;
        if (strlen(s) > 512 || strpbrk(s, ":*"))
            return s_expected(c, v[G_STREAM], exp);
        if ((rc = s_set(c, &g->log_stream_prefix, s)))
            return rc;
    }
    g->coalesce = a->settings.coalesce;
    if (v[G_COALESCE] && (rc = s_coalesce(c, v[G_COALESCE], &g->coalesce)))
        return rc;
    if (v[G_RANGE]) {
        rc = s_range(c, v[G_RANGE], "a mapping for \"range\"", &g->range);
        if (rc)
            return rc;
    } else if (has_inherited) {
        g->range = *inherited;
    } else {
        return s_fail(c, account,
                      "a range is required: expected \"range\" at the top "
                      "level, in account \"%s\" or in each of its log "
                      "groups, found none",
                      a->name);
    }
    return 0;
}

/* ---- accounts ----------------------------------------------------------- */

static void s_account_free(struct cwx_account *a)
{
    free(a->name);
    free(a->account_id);
    free(a->profile);
    free(a->role_arn);
    free(a->external_id);
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
    return s_mark_before(a->start_mark, b->start_mark) ? b : a;
}

static int s_regions(struct s_ctx *c, const yaml_node_t *n,
                     struct cwx_account *a)
{
    int rc = s_list(c, n, "a non-empty list of regions like [us-east-1]", true);
    if (rc)
        return rc;
    size_t count = s_seq_len(n);
    if (!(a->regions = calloc(count, sizeof *a->regions)))
        return s_oom(c);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = s_seq_item(c, n, i);
        const char *s;
        if ((rc = s_region(c, item, &s)))
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(a->regions[j], s)) {
                yaml_node_t *first = s_seq_item(c, n, j);
                char f[S_FOUND_SIZE];
                return s_fail(c, item,
                              "expected each region once in regions, found "
                              "%s again (first at %zu:%zu)",
                              s_found(c, item, f),
                              (size_t)first->start_mark.line + 1,
                              (size_t)first->start_mark.column + 1);
            }
        }
        if (!(a->regions[i] = strdup(s)))
            return s_oom(c);
        a->n_regions = i + 1;
    }
    return 0;
}

static int s_account(struct s_ctx *c, const yaml_node_t *n, size_t index)
{
    struct cwx_account *a = &c->cfg->accounts[index];
    yaml_node_t *v[A_N], *k[A_N];
    int rc = s_mapping(c, n, "a mapping for an account", "in account",
                       s_account_keys, A_N, v, k);
    if (rc)
        return rc;
    a->line = (int)n->start_mark.line + 1;
    a->col = (int)n->start_mark.column + 1;
    const char *s;

    static const char exp_name[] =
        "an account name of letters, digits, '_', '.' and '-'";
    if (!v[A_NAME])
        return s_fail(c, n, "expected a \"name\" in account, found none");
    if ((rc = s_str(c, v[A_NAME], exp_name, &s)))
        return rc;
    if (strlen(s) > 128 || !s_all_in(s, "_.-"))
        return s_expected(c, v[A_NAME], exp_name);
    for (size_t i = 0; i < index; i++) {
        if (!strcmp(c->cfg->accounts[i].name, s)) {
            char f[S_FOUND_SIZE];
            return s_fail(c, v[A_NAME],
                          "expected a unique account name, found %s again "
                          "(first in the account at %d:%d)",
                          s_found(c, v[A_NAME], f), c->cfg->accounts[i].line,
                          c->cfg->accounts[i].col);
        }
    }
    if ((rc = s_set(c, &a->name, s)))
        return rc;

    if (v[A_ACCOUNT_ID]) {
        static const char exp[] = "a 12-digit account ID like \"123456789012\"";
        if ((rc = s_str(c, v[A_ACCOUNT_ID], exp, &s)))
            return rc;
        if (!s_account_id_ok(s))
            return s_expected(c, v[A_ACCOUNT_ID], exp);
        if ((rc = s_set(c, &a->account_id, s)))
            return rc;
    }
    if (v[A_PROFILE] && v[A_ROLE_ARN])
        return s_fail(c, s_later(k[A_PROFILE], k[A_ROLE_ARN]),
                      "expected either \"profile\" or \"role_arn\" in "
                      "account, found both");
    if (v[A_PROFILE]) {
        static const char exp[] = "a profile name from the AWS config files";
        if ((rc = s_str(c, v[A_PROFILE], exp, &s)))
            return rc;
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p < 0x21 || *p == 0x7f)
                return s_expected(c, v[A_PROFILE], exp);
        if (strlen(s) > 128)
            return s_expected(c, v[A_PROFILE], exp);
        if ((rc = s_set(c, &a->profile, s)))
            return rc;
    }
    if (v[A_ROLE_ARN]) {
        static const char exp[] =
            "a role ARN like arn:aws:iam::123456789012:role/name";
        if ((rc = s_str(c, v[A_ROLE_ARN], exp, &s)))
            return rc;
        if (!s_role_arn_ok(s))
            return s_expected(c, v[A_ROLE_ARN], exp);
        if ((rc = s_set(c, &a->role_arn, s)))
            return rc;
    }
    if (v[A_EXTERNAL_ID]) {
        static const char exp[] =
            "an external ID of 2-1224 characters from A-Z a-z 0-9 +=,.@:/-_";
        if (!v[A_ROLE_ARN])
            return s_fail(c, k[A_EXTERNAL_ID],
                          "expected \"external_id\" only with \"role_arn\", "
                          "found no role_arn in this account");
        if ((rc = s_str(c, v[A_EXTERNAL_ID], exp, &s)))
            return rc;
        if (strlen(s) < 2 || strlen(s) > 1224 || !s_all_in(s, "+=,.@:/-_"))
            return s_expected(c, v[A_EXTERNAL_ID], exp);
        if ((rc = s_set(c, &a->external_id, s)))
            return rc;
    }

    struct s_origin origin = c->defaults;
    if ((rc = s_settings_copy(c, &a->settings, &c->cfg->defaults)) ||
        (rc = s_settings(c, v, k, &a->settings, &origin)))
        return rc;

    if (v[A_REGIONS] && v[S_REGION])
        return s_fail(c, s_later(k[A_REGIONS], k[S_REGION]),
                      "expected either \"regions\" or \"region\" in account, "
                      "found both");
    if (v[A_REGIONS]) {
        if ((rc = s_regions(c, v[A_REGIONS], a)))
            return rc;
    } else if (a->settings.region) {
        if (!(a->regions = calloc(1, sizeof *a->regions)) ||
            !(a->regions[0] = strdup(a->settings.region)))
            return s_oom(c);
        a->n_regions = 1;
    } else {
        return s_fail(c, n,
                      "expected \"regions\" or \"region\" in account \"%s\" "
                      "or \"region\" in defaults, found no region",
                      a->name);
    }

    if (!a->settings.destination.bucket)
        return s_fail(c, n,
                      "expected destination.bucket in account \"%s\" or in "
                      "defaults, found no bucket",
                      a->name);
    for (size_t i = 0; i < a->n_regions; i++) {
        char out[64];
        const char *why;
        const char *id = a->account_id ? a->account_id : S_STANDIN_ACCOUNT_ID;
        if (cwx_config_bucket_name(a->settings.destination.bucket, id,
                                   a->regions[i], out, sizeof out, &why)) {
            char q[S_QUOTE_MAX * 2 + 16];
            s_quote(a->settings.destination.bucket,
                    strlen(a->settings.destination.bucket), q, sizeof q);
            return s_fail_at(c, origin.bucket.line, origin.bucket.column,
                             "expected an S3 bucket name for account \"%s\" "
                             "in %s, found %s: %s",
                             a->name, a->regions[i], q, why ? why : "too long");
        }
    }

    bool has_range = c->has_default_range;
    if (v[A_RANGE]) {
        rc = s_range(c, v[A_RANGE], "a mapping for \"range\"",
                     &a->settings.range);
        if (rc)
            return rc;
        has_range = true;
    }

    if (!v[A_LOG_GROUPS])
        return s_fail(c, n,
                      "expected \"log_groups\" in account \"%s\", found none",
                      a->name);
    rc = s_list(c, v[A_LOG_GROUPS],
                "a non-empty list of log groups (name, prefix or pattern)",
                true);
    if (rc)
        return rc;
    size_t count = s_seq_len(v[A_LOG_GROUPS]);
    if (!(a->groups = calloc(count, sizeof *a->groups)))
        return s_oom(c);
    a->n_groups = count;
    for (size_t i = 0; i < count; i++) {
        rc = s_group(c, s_seq_item(c, v[A_LOG_GROUPS], i),
                     &a->settings.range, has_range, n, a, &a->groups[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- notify and the top level ------------------------------------------ */

enum { N_TOPIC, N_ON, N_N };
static const char *const s_notify_keys[] = {"sns_topic_arn", "on"};

static int s_notify(struct s_ctx *c, const yaml_node_t *n)
{
    yaml_node_t *v[N_N], *k[N_N];
    int rc = s_mapping(c, n, "a mapping for \"notify\"", "in notify",
                       s_notify_keys, N_N, v, k);
    if (rc)
        return rc;
    static const char exp_arn[] =
        "an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:topic";
    if (!v[N_TOPIC])
        return s_fail(c, n, "expected \"sns_topic_arn\" in notify, found none");
    const char *s;
    if ((rc = s_str(c, v[N_TOPIC], exp_arn, &s)))
        return rc;
    if (!s_sns_arn_ok(s))
        return s_expected(c, v[N_TOPIC], exp_arn);
    if ((rc = s_set(c, &c->cfg->sns_topic_arn, s)))
        return rc;
    if (!v[N_ON])
        return 0;
    static const char exp_on[] =
        "a non-empty list of events from failure, loop_guard and done";
    static const char exp_event[] = "an event: failure, loop_guard or done";
    if ((rc = s_list(c, v[N_ON], exp_on, true)))
        return rc;
    unsigned bits = 0;
    for (size_t i = 0; i < s_seq_len(v[N_ON]); i++) {
        yaml_node_t *item = s_seq_item(c, v[N_ON], i);
        if ((rc = s_str(c, item, exp_event, &s)))
            return rc;
        if (!strcmp(s, "failure"))
            bits |= CWX_NOTIFY_FAILURE;
        else if (!strcmp(s, "loop_guard"))
            bits |= CWX_NOTIFY_LOOP_GUARD;
        else if (!strcmp(s, "done"))
            bits |= CWX_NOTIFY_DONE;
        else
            return s_expected(c, item, exp_event);
    }
    c->cfg->notify_on = bits;
    return 0;
}

enum { T_VERSION, T_DEFAULTS, T_RANGE, T_ACCOUNTS, T_NOTIFY, T_INSECURE, T_MAX_JOBS, T_N };
static const char *const s_top_keys[] = {"version", "defaults", "range",
                                         "accounts", "notify",
                                         "allow_insecure_endpoint", "max_jobs"};

static int s_top(struct s_ctx *c, const yaml_node_t *root)
{
    yaml_node_t *v[T_N], *k[T_N];
    int rc = s_mapping(c, root,
                       "a mapping with \"version: 1\" at the top level",
                       "at the top level", s_top_keys, T_N, v, k);
    if (rc)
        return rc;
    if (!v[T_VERSION])
        return s_fail(c, root,
                      "expected \"version: 1\" at the top level, found no "
                      "version");
    const char *s;
    if ((rc = s_str(c, v[T_VERSION], "version 1", &s)))
        return rc;
    if (strcmp(s, "1"))
        return s_expected(c, v[T_VERSION], "version 1");
    c->cfg->version = 1;

    if ((rc = s_builtin_defaults(c, &c->cfg->defaults)))
        return rc;
    if (v[T_DEFAULTS]) {
        yaml_node_t *dv[S_N], *dk[S_N];
        rc = s_mapping(c, v[T_DEFAULTS], "a mapping for \"defaults\"",
                       "in defaults", s_account_keys, S_N, dv, dk);
        if (rc || (rc = s_settings(c, dv, dk, &c->cfg->defaults, &c->defaults)))
            return rc;
    }
    if (v[T_RANGE]) {
        rc = s_range(c, v[T_RANGE], "a mapping for \"range\"",
                     &c->cfg->defaults.range);
        if (rc)
            return rc;
        c->has_default_range = true;
    }
    c->cfg->notify_on = CWX_NOTIFY_FAILURE | CWX_NOTIFY_LOOP_GUARD;
    if (v[T_NOTIFY] && (rc = s_notify(c, v[T_NOTIFY])))
        return rc;
    if (v[T_INSECURE]) {
        static const char expected[] = "allow_insecure_endpoint: true or false";
        if ((rc = s_str(c, v[T_INSECURE], expected, &s)))
            return rc;
        if (strcmp(s, "true") && strcmp(s, "false"))
            return s_expected(c, v[T_INSECURE], expected);
        c->cfg->allow_insecure_endpoint = s[0] == 't';
    }
    c->cfg->max_jobs = CWX_MAX_JOBS_DEFAULT;
    if (v[T_MAX_JOBS]) {
        long n;
        if ((rc = s_int(c, v[T_MAX_JOBS],
                        "max_jobs as a whole number from 1 to 100000000", 1, 100000000, &n)))
            return rc;
        c->cfg->max_jobs = (size_t)n;
    }

    if (!v[T_ACCOUNTS])
        return s_fail(c, root,
                      "expected \"accounts\" at the top level, found none");
    rc = s_list(c, v[T_ACCOUNTS], "a non-empty list of accounts", true);
    if (rc)
        return rc;
    size_t count = s_seq_len(v[T_ACCOUNTS]);
    if (!(c->cfg->accounts = calloc(count, sizeof *c->cfg->accounts)))
        return s_oom(c);
    c->cfg->n_accounts = count;
    for (size_t i = 0; i < count; i++)
        if ((rc = s_account(c, s_seq_item(c, v[T_ACCOUNTS], i), i)))
            return rc;
    return 0;
}

/* ---- aliases ---------------------------------------------------------- */

/* What YAML aliases may add to a config: the nodes reached through them
 * (an alias counts as a copy of everything below its anchor), anchors, and
 * nesting. A few KB of nested aliases otherwise stand for billions of
 * nodes, and every walk of the config would visit each of them. */
#define S_ALIAS_NODES_MAX 100000
#define S_ANCHORS_MAX 1000
#define S_DEPTH_MAX 64

struct s_anchor {
    char *name;
    uint64_t size; /* nodes of the anchored node, aliases counted expanded */
};

/* One pass over the parser's events before the document is loaded: refuses
 * with FILE:LINE:COL of the offending alias a config whose aliases expand
 * past S_ALIAS_NODES_MAX nodes. Syntax errors are left to the loader. */
static int s_alias_scan(struct s_ctx *c, const char *yaml, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return s_oom(c);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    struct s_anchor anchors[S_ANCHORS_MAX];
    size_t n_anchors = 0;
    /* Open collections: their size so far and their anchor (or NULL). */
    uint64_t size[S_DEPTH_MAX + 1];
    char *anchor[S_DEPTH_MAX + 1];
    size_t depth = 0;
    uint64_t through_aliases = 0;
    int rc = 0, done = 0;
    while (!rc && !done) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e))
            break; /* the loader reports it */
        const yaml_mark_t *m = &e.start_mark;
        uint64_t add = 0;
        const char *own = NULL;
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_SCALAR_EVENT:
            add = 1;
            own = (const char *)e.data.scalar.anchor;
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)e.data.alias.anchor;
            size_t i = n_anchors;
            while (i > 0 && strcmp(anchors[i - 1].name, name) != 0)
                i--;
            add = i > 0 ? anchors[i - 1].size : 1;
            through_aliases += add;
            if (through_aliases > S_ALIAS_NODES_MAX)
                rc = s_fail_at(c, m->line, m->column,
                               "expected a config whose aliases repeat at most %d nodes in "
                               "all, found alias *%.64s repeating %llu more (%llu so far)",
                               S_ALIAS_NODES_MAX, name, (unsigned long long)add,
                               (unsigned long long)through_aliases);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth == S_DEPTH_MAX) {
                rc = s_fail_at(c, m->line, m->column,
                               "expected lists and mappings nested at most %d deep, "
                               "found deeper ones", S_DEPTH_MAX);
                break;
            }
            size[depth] = 1;
            anchor[depth] = NULL;
            own = e.type == YAML_SEQUENCE_START_EVENT
                      ? (const char *)e.data.sequence_start.anchor
                      : (const char *)e.data.mapping_start.anchor;
            if (own && !(anchor[depth] = strdup(own)))
                rc = s_oom(c);
            depth++;
            own = NULL;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth == 0)
                break;
            depth--;
            add = size[depth];
            own = anchor[depth];
            break;
        default:
            break;
        }
        if (!rc && own) {
            if (n_anchors == S_ANCHORS_MAX) {
                rc = s_fail_at(c, m->line, m->column,
                               "expected at most %d YAML anchors, found more", S_ANCHORS_MAX);
            } else if (!(anchors[n_anchors].name = strdup(own))) {
                rc = s_oom(c);
            } else {
                anchors[n_anchors++].size = add;
            }
        }
        if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
            free(anchor[depth]);
            anchor[depth] = NULL;
        }
        if (depth > 0 && add) {
            /* Saturating: a count past the cap is refused anyway. */
            size[depth - 1] += add;
            if (size[depth - 1] > ((uint64_t)1 << 62))
                size[depth - 1] = (uint64_t)1 << 62;
        }
        yaml_event_delete(&e);
    }
    for (size_t i = 0; i < depth; i++)
        free(anchor[i]);
    for (size_t i = 0; i < n_anchors; i++)
        free(anchors[i].name);
    yaml_parser_delete(&p);
    return rc;
}

/* ---- loading ---------------------------------------------------------- */

/* libyaml's reader errors carry a byte offset, not a mark. */
static void s_offset_to_mark(const char *yaml, size_t len, size_t offset,
                             size_t *line, size_t *col)
{
    *line = 0;
    *col = 0;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (yaml[i] == '\n') {
            (*line)++;
            *col = 0;
        } else if (((unsigned char)yaml[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int s_yaml_error(struct s_ctx *c, const yaml_parser_t *p,
                        const char *yaml, size_t len)
{
    const char *problem = p->problem ? p->problem : "unreadable input";
    if (p->error == YAML_MEMORY_ERROR)
        return s_oom(c);
    if (p->error == YAML_READER_ERROR) {
        size_t line, col;
        s_offset_to_mark(yaml, len, p->problem_offset, &line, &col);
        return s_fail_at(c, line, col, "expected valid UTF-8 YAML, found %s",
                         problem);
    }
    if (p->context)
        return s_fail_at(c, p->problem_mark.line, p->problem_mark.column,
                         "invalid YAML: %s (%s at %zu:%zu)", problem,
                         p->context, (size_t)p->context_mark.line + 1,
                         (size_t)p->context_mark.column + 1);
    return s_fail_at(c, p->problem_mark.line, p->problem_mark.column,
                     "invalid YAML: %s", problem);
}

static void s_set_file(struct cwx_config_error *err, const char *name)
{
    snprintf(err->file, sizeof err->file, "%s", name ? name : "<config>");
}

int cwx_config_load_string(const char *name, const char *yaml, size_t len,
                           struct cwx_config **out,
                           struct cwx_config_error *err)
{
    struct cwx_config_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    s_set_file(err, name);
    *out = NULL;

    struct s_ctx c = {0};
    c.err = err;
    yaml_parser_t parser;
    yaml_document_t doc, next;
    bool have_doc = false;
    int rc = 0;

    struct cwx_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(name ? name : "<config>"))) {
        free(cfg);
        return s_oom(&c);
    }
    c.cfg = cfg;
    if (!yaml_parser_initialize(&parser)) {
        cwx_config_free(cfg);
        return s_oom(&c);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if ((rc = s_alias_scan(&c, yaml, len)))
        goto cleanup;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = s_yaml_error(&c, &parser, yaml, len);
        goto cleanup;
    }
    have_doc = true;
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = s_fail_at(&c, 0, 0,
                       "expected a mapping with \"version: 1\" at the top "
                       "level, found an empty document");
        goto cleanup;
    }
    /* A second document in the stream is an error; so is a syntax error
     * after the first one. */
    if (!yaml_parser_load(&parser, &next)) {
        rc = s_yaml_error(&c, &parser, yaml, len);
        goto cleanup;
    }
    yaml_node_t *second = yaml_document_get_root_node(&next);
    if (second) {
        rc = s_fail_at(&c, second->start_mark.line, second->start_mark.column,
                       "expected one YAML document, found a second one");
        yaml_document_delete(&next);
        goto cleanup;
    }
    yaml_document_delete(&next);

    c.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
    if (!(c.expanded = calloc(c.n_nodes ? c.n_nodes : 1, sizeof *c.expanded))) {
        rc = s_oom(&c);
        goto cleanup;
    }
    if (!(rc = s_scan_secrets(&c)))
        rc = s_top(&c, root);

cleanup:
    if (c.expanded) {
        for (size_t i = 0; i < c.n_nodes; i++)
            free(c.expanded[i]);
        free(c.expanded);
    }
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) {
        cwx_config_free(cfg);
        return rc == CWX_ENOMEM ? CWX_ENOMEM : CWX_ECONFIG;
    }
    memset(err, 0, sizeof *err);
    *out = cfg;
    return 0;
}

int cwx_config_load(const char *path, struct cwx_config **out,
                    struct cwx_config_error *err)
{
    struct cwx_config_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    s_set_file(err, path);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg,
                 "cannot read the config file: %s", strerror(errno));
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
        snprintf(err->msg, sizeof err->msg,
                 "cannot read the config file: %s",
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
    free(cfg->accounts);
    s_settings_free(&cfg->defaults);
    free(cfg->sns_topic_arn);
    free(cfg->path);
    free(cfg);
}

void cwx_config_error_format(const struct cwx_config_error *err, char *buf,
                             size_t size)
{
    if (!size)
        return;
    if (err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%d:%d: error: %s", err->file, err->line,
                 err->col, err->msg);
    else if (err->line > 0)
        snprintf(buf, size, "%s:%d: error: %s", err->file, err->line,
                 err->msg);
    else
        snprintf(buf, size, "%s: error: %s", err->file, err->msg);
}
