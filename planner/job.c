#include "planner/job.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* ---------------------------------------------------------------------- */
/* Identity and task names                                                */
/* ---------------------------------------------------------------------- */

#define IDENTITY_MAGIC "cwexport-job/v1\n"
#define TASK_NAME_PREFIX "cwexport-"
#define TASK_NAME_HEX 16

/* Decimal digits of v into buf (at least 20 bytes), returning the count.
 * Hand-rolled rather than snprintf: task names are computed per job, a
 * million times in a large plan, and snprintf was half of their cost. */
static size_t s_i64(int64_t v, char *buf)
{
    char tmp[20];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

/* Writes the canonical identity string into dst when it fits in cap bytes
 * (with its NUL) and returns its length either way, like snprintf; or a
 * negative CWX_E* code when a field is missing or holds a newline (which
 * would make two identities print the same). */
static int64_t s_identity_write(const struct cwx_job_identity *id, char *dst,
                                size_t cap)
{
    const char *fields[6] = {id->account_id, id->region, id->log_group,
                             id->log_stream_prefix ? id->log_stream_prefix : "",
                             id->bucket, id->prefix};
    size_t lens[6];
    char num[2][24];
    size_t numlen[2] = {s_i64(id->from_ms, num[0]), s_i64(id->to_ms, num[1])};
    size_t total = sizeof IDENTITY_MAGIC - 1 + numlen[0] + numlen[1] + 8;
    for (size_t i = 0; i < 6; i++) {
        if (!fields[i] || (i != 3 && !fields[i][0]))
            return CWX_EINVAL;
        lens[i] = strlen(fields[i]);
        if (memchr(fields[i], '\n', lens[i]))
            return CWX_EINVAL;
        total += lens[i];
    }
    if (total >= cap)
        return (int64_t)total;
    char *p = dst;
    memcpy(p, IDENTITY_MAGIC, sizeof IDENTITY_MAGIC - 1);
    p += sizeof IDENTITY_MAGIC - 1;
    for (size_t i = 0; i < 6; i++) {
        memcpy(p, fields[i], lens[i]);
        p += lens[i];
        *p++ = '\n';
        if (i == 3) { /* from and to follow the stream prefix */
            for (int k = 0; k < 2; k++) {
                memcpy(p, num[k], numlen[k]);
                p += numlen[k];
                *p++ = '\n';
            }
        }
    }
    *p = '\0';
    return (int64_t)total;
}

int cwx_job_identity_string(const struct cwx_job_identity *id,
                            struct cwx_buf *out)
{
    int64_t n = s_identity_write(id, NULL, 0);
    if (n < 0)
        return (int)n;
    int rc = cwx_buf_reserve(out, (size_t)n);
    if (rc)
        return rc;
    s_identity_write(id, out->ptr + out->len, out->cap - out->len);
    out->len += (size_t)n;
    return 0;
}

/* OpenSSL 3 resolves EVP_sha256() through an implicit provider fetch on
 * every EVP_Digest call (a lock and a name lookup); the planner names
 * millions of tasks, so the digest is fetched once for the process and kept
 * for its lifetime. The cache is immutable after pthread_once, so it is not
 * state in the sense that matters: calls stay independent and thread-safe. */
static pthread_once_t s_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_sha256_fetched;

static void s_sha256_init(void)
{
    s_sha256_fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static const EVP_MD *s_sha256(void)
{
    pthread_once(&s_sha256_once, s_sha256_init);
    return s_sha256_fetched ? s_sha256_fetched : EVP_sha256();
}

int cwx_job_task_name(const struct cwx_job_identity *id,
                      char out[CWX_TASK_NAME_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    /* Identities fit on the stack in practice (log group ≤ 512 bytes,
     * prefix ≤ CWX_PREFIX_MAX); larger ones fall back to the heap. */
    char stack[2048];
    char *heap = NULL;
    char *s = stack;
    int64_t n = s_identity_write(id, stack, sizeof stack);
    if (n < 0)
        return (int)n;
    if ((size_t)n >= sizeof stack) {
        heap = malloc((size_t)n + 1);
        if (!heap)
            return CWX_ENOMEM;
        s_identity_write(id, heap, (size_t)n + 1);
        s = heap;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(s, (size_t)n, md, &mdlen, s_sha256(), NULL);
    free(heap);
    if (!ok || mdlen < TASK_NAME_HEX / 2)
        return CWX_ENOMEM; /* EVP fails only when it cannot allocate */
    memcpy(out, TASK_NAME_PREFIX, sizeof TASK_NAME_PREFIX - 1);
    char *p = out + sizeof TASK_NAME_PREFIX - 1;
    for (int i = 0; i < TASK_NAME_HEX / 2; i++) {
        *p++ = hex[md[i] >> 4];
        *p++ = hex[md[i] & 15];
    }
    *p = '\0';
    return 0;
}

int cwx_task_name_is_ours(const char *name)
{
    if (!name || strncmp(name, TASK_NAME_PREFIX, sizeof TASK_NAME_PREFIX - 1))
        return 0;
    const char *p = name + sizeof TASK_NAME_PREFIX - 1;
    for (int i = 0; i < TASK_NAME_HEX; i++, p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    }
    return *p == '\0';
}

/* ---------------------------------------------------------------------- */
/* Destination-prefix templates                                           */
/* ---------------------------------------------------------------------- */

enum s_var {
    S_VAR_ACCOUNT,
    S_VAR_ACCOUNT_ID,
    S_VAR_REGION,
    S_VAR_LOG_GROUP,
    S_VAR_WINDOW,
    S_VAR_YYYY,
    S_VAR_MM,
    S_VAR_DD,
    S_VAR_HH,
    S_VAR_FROM,
    S_VAR_TO,
    S_VAR_COUNT
};

static const char *const s_var_names[S_VAR_COUNT] = {
    "account", "account_id", "region", "log_group", "window",
    "yyyy",    "mm",         "dd",     "hh",        "from", "to",
};

static int s_var_lookup(const char *name, size_t len)
{
    for (int i = 0; i < S_VAR_COUNT; i++) {
        if (strlen(s_var_names[i]) == len && !memcmp(s_var_names[i], name, len))
            return i;
    }
    return -1;
}

/* The characters S3 documents as safe in object keys, plus '#': CloudWatch
 * log group names may contain '#', S3 accepts it in keys, but it must be
 * percent-encoded in a request URL (the S3 client encodes every key). */
static int s_key_char_ok(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!-_.*'()/#", c) != NULL;
}

static const char s_why_chars[] =
    "character not allowed in an S3 key prefix (allowed: A-Z a-z 0-9 "
    "! - _ . * ' ( ) / #)";

/* Validates a whole S3 key or key prefix: not empty, no leading '/', no
 * empty segment, no "." or ".." segment, safe characters only. Returns 0 or
 * CWX_EINVAL with *why and *col (byte offset of the problem). */
static int s_key_check(const char *s, size_t len, const char **why, size_t *col)
{
    if (len == 0) {
        *why = "expands to an empty prefix";
        *col = 0;
        return CWX_EINVAL;
    }
    if (s[0] == '/') {
        *why = "expands to a prefix that starts with '/'";
        *col = 0;
        return CWX_EINVAL;
    }
    size_t seg = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            size_t n = i - seg;
            if (n == 0 && i < len) {
                *why = "expands to a prefix with an empty segment ('//')";
                *col = i;
                return CWX_EINVAL;
            }
            if ((n == 1 && s[seg] == '.') ||
                (n == 2 && s[seg] == '.' && s[seg + 1] == '.')) {
                *why = "expands to a prefix with a '.' or '..' segment";
                *col = seg;
                return CWX_EINVAL;
            }
            seg = i + 1;
            continue;
        }
        if (!s_key_char_ok((unsigned char)s[i])) {
            *why = s_why_chars;
            *col = i;
            return CWX_EINVAL;
        }
    }
    return 0;
}

int cwx_template_check(const char *tmpl, const char **why, size_t *col)
{
    const char *why_dummy;
    size_t col_dummy;
    if (!why)
        why = &why_dummy;
    if (!col)
        col = &col_dummy;
    *col = 0;
    if (!tmpl || !tmpl[0]) {
        *why = "empty template";
        return CWX_EINVAL;
    }
    if (tmpl[0] == '/') {
        *why = "template must not start with '/'";
        return CWX_EINVAL;
    }
    /* Segments made only of literal text can be judged now: "." and ".."
     * are refused, and so is "//". A segment holding a variable is judged
     * after expansion. */
    size_t seg = 0;
    int seg_has_var = 0;
    for (size_t i = 0;; i++) {
        char c = tmpl[i];
        if (c == '\0' || c == '/') {
            size_t n = i - seg;
            if (!seg_has_var) {
                if (n == 0 && c == '/') {
                    *why = "empty path segment ('//')";
                    *col = i;
                    return CWX_EINVAL;
                }
                if ((n == 1 && tmpl[seg] == '.') ||
                    (n == 2 && tmpl[seg] == '.' && tmpl[seg + 1] == '.')) {
                    *why = "'.' and '..' segments are not allowed";
                    *col = seg;
                    return CWX_EINVAL;
                }
            }
            if (c == '\0')
                break;
            seg = i + 1;
            seg_has_var = 0;
            continue;
        }
        if (c == '{') {
            size_t j = i + 1;
            while (tmpl[j] && tmpl[j] != '}' && tmpl[j] != '{' && tmpl[j] != '/')
                j++;
            if (tmpl[j] != '}') {
                *why = "unclosed '{'";
                *col = i;
                return CWX_EINVAL;
            }
            if (s_var_lookup(tmpl + i + 1, j - i - 1) < 0) {
                *why = "unknown variable (known: {account} {account_id} "
                       "{region} {log_group} {window} {from} {to} {yyyy} {mm} "
                       "{dd} {hh})";
                *col = i;
                return CWX_EINVAL;
            }
            seg_has_var = 1;
            i = j;
            continue;
        }
        if (c == '}') {
            *why = "'}' without a matching '{'";
            *col = i;
            return CWX_EINVAL;
        }
        if (!s_key_char_ok((unsigned char)c)) {
            *why = s_why_chars;
            *col = i;
            return CWX_EINVAL;
        }
    }
    return 0;
}

static int s_put2(struct cwx_buf *out, int v)
{
    char s[3] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10), 0};
    return cwx_buf_append(out, s, 2);
}

static int s_expand_var(enum s_var var, const struct cwx_template_vars *v,
                        struct cwx_buf *out, const char **why)
{
    const char *s = NULL;
    switch (var) {
    case S_VAR_ACCOUNT:
        s = v->account;
        break;
    case S_VAR_ACCOUNT_ID:
        if (!v->account_id) {
            *why = "{account_id} is not known yet";
            return CWX_ENOTFOUND;
        }
        s = v->account_id;
        break;
    case S_VAR_REGION:
        s = v->region;
        break;
    case S_VAR_LOG_GROUP:
        if (!v->log_group || !v->log_group[0] || !strcmp(v->log_group, "/"))
            break;
        return cwx_log_group_key(v->log_group, out);
    case S_VAR_WINDOW:
        if (v->window && v->window_last && v->window_last != v->window &&
            strcmp(v->window_last->label, v->window->label))
            return cwx_buf_printf(out, "%s..%s", v->window->label, v->window_last->label);
        if (v->window)
            s = v->window->label;
        break;
    case S_VAR_FROM:
        if (v->window)
            s = v->window->label;
        break;
    case S_VAR_TO:
        if (v->window)
            s = v->window_last ? v->window_last->label : v->window->label;
        break;
    case S_VAR_YYYY:
    case S_VAR_MM:
    case S_VAR_DD:
    case S_VAR_HH: {
        struct cwx_civil c;
        if (!v->window || cwx_window_label_civil(v->window->label, &c)) {
            *why = "the window has no valid label";
            return CWX_EINVAL;
        }
        if (var == S_VAR_YYYY)
            return cwx_buf_printf(out, "%04d", c.year);
        return s_put2(out, var == S_VAR_MM ? c.month
                           : var == S_VAR_DD ? c.day
                                             : c.hour);
    }
    case S_VAR_COUNT:
        break;
    }
    if (!s || !s[0]) {
        *why = "a variable of the template has no value";
        return CWX_EINVAL;
    }
    return cwx_buf_puts(out, s);
}

int cwx_template_expand(const char *tmpl, const struct cwx_template_vars *v,
                        struct cwx_buf *out, const char **why)
{
    const char *why_dummy;
    size_t col;
    if (!why)
        why = &why_dummy;
    int rc = cwx_template_check(tmpl, why, &col);
    if (rc)
        return rc;
    const size_t start = out->len;
    for (const char *p = tmpl; *p && !rc;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            rc = s_expand_var((enum s_var)s_var_lookup(p + 1, (size_t)(end - p - 1)),
                              v, out, why);
            p = end + 1;
        } else {
            size_t n = strcspn(p, "{");
            rc = cwx_buf_append(out, p, n);
            p += n;
        }
    }
    if (!rc) {
        while (out->len > start && out->ptr[out->len - 1] == '/')
            out->ptr[--out->len] = '\0';
        rc = s_key_check(out->ptr + start, out->len - start, why, &col);
    }
    if (!rc && out->len - start > CWX_PREFIX_MAX) {
        *why = "expands to a prefix longer than 464 bytes: with CloudWatch's "
               "'/<36-byte taskId>/<log stream up to 512 bytes>/000000.gz' "
               "the S3 key could exceed 1024 bytes";
        rc = CWX_EINVAL;
    }
    if (rc == CWX_ETOOBIG || rc == CWX_ENOMEM)
        *why = cwx_strerror(rc);
    if (rc && out->ptr) {
        out->len = start;
        out->ptr[start] = '\0';
    }
    return rc;
}

int cwx_log_group_key(const char *log_group, struct cwx_buf *out)
{
    if (log_group[0] == '/')
        return cwx_buf_puts(out, log_group + 1);
    int rc = cwx_buf_putc(out, CWX_BARE_GROUP_MARK);
    return rc ? rc : cwx_buf_puts(out, log_group);
}

int cwx_marker_key(const char *state_prefix, const char *account_id,
                   const char *region, const char *log_group,
                   const char *window_label, struct cwx_buf *out)
{
    if (!account_id || !account_id[0] || !region || !region[0] || !log_group ||
        !log_group[0] || !window_label || !window_label[0])
        return CWX_EINVAL;
    size_t sp = state_prefix ? strlen(state_prefix) : 0;
    while (sp > 0 && state_prefix[sp - 1] == '/')
        sp--;
    const size_t start = out->len;
    int rc = 0;
    if (sp)
        rc = cwx_buf_printf(out, "%.*s/", (int)sp, state_prefix);
    if (!rc)
        rc = cwx_buf_printf(out, "%s/%s/", account_id, region);
    if (!rc)
        rc = cwx_log_group_key(log_group, out);
    if (!rc)
        rc = cwx_buf_printf(out, "/%s.json", window_label);
    if (!rc) {
        const char *why;
        size_t col;
        if (s_key_check(out->ptr + start, out->len - start, &why, &col) ||
            out->len - start > CWX_S3_KEY_MAX)
            rc = CWX_EINVAL;
    }
    if (rc && out->ptr) {
        out->len = start;
        out->ptr[start] = '\0';
    }
    return rc;
}
