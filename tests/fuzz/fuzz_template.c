/* libFuzzer target: destination-prefix templates (planner/job.c):
 * cwx_template_check + cwx_template_expand, and cwx_marker_key on the same
 * values.
 *
 * Input: fields separated by '\n': the template, then the values of
 * {account}, {account_id}, {region}, {log_group} and the window label
 * (an empty account_id field means "not known yet"). The values are as
 * untrusted as the template: names come from configs and from AWS.
 *
 * Checked: a template that check refuses never expands; on success the
 * expanded part independently passes the documented safety rules (not
 * empty, no leading or trailing '/', no "//", no "." or ".." segment, only
 * A-Z a-z 0-9 ! - _ . * ' ( ) / #, at most CWX_PREFIX_MAX bytes); on
 * failure the buffer is exactly as it was and *why is set. Marker keys obey
 * the same rules with CWX_S3_KEY_MAX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "planner/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_pre[] = "already/there";

static int s_safe_key(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max || s[0] == '/' || s[len - 1] == '/')
        return 0;
    size_t seg = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            size_t n = i - seg;
            if (n == 0 || (n == 1 && s[seg] == '.') ||
                (n == 2 && s[seg] == '.' && s[seg + 1] == '.'))
                return 0;
            seg = i + 1;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c && strchr("!-_.*'()/#", c))))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *f[6] = {"", "acct", "", "us-east-1", "/aws/lambda/api", "2024-03"};
    char *cur = copy;
    for (int i = 0; i < 6 && cur; i++) {
        char *nl = strchr(cur, '\n');
        if (nl)
            *nl = '\0';
        f[i] = cur;
        cur = nl ? nl + 1 : NULL;
    }
    struct cwx_window w = {.start_ms = 0, .end_ms = 1};
    size_t ll = strlen(f[5]);
    if (ll >= sizeof w.label)
        ll = sizeof w.label - 1;
    memcpy(w.label, f[5], ll);
    w.label[ll] = '\0';
    struct cwx_template_vars v = {
        .account = f[1],
        .account_id = f[2][0] ? f[2] : NULL,
        .region = f[3],
        .log_group = f[4],
        .window = &w,
    };

    const char *why = NULL;
    size_t col = 0;
    int checked = cwx_template_check(f[0], &why, &col);
    if (checked && (!why || col > strlen(f[0])))
        abort();

    struct cwx_buf out;
    cwx_buf_init(&out, 0);
    if (cwx_buf_puts(&out, s_pre))
        abort();
    why = NULL;
    int rc = cwx_template_expand(f[0], &v, &out, &why);
    if (rc == 0) {
        if (checked)
            abort(); /* expanded what check refuses */
        if (out.len < sizeof s_pre - 1 || memcmp(out.ptr, s_pre, sizeof s_pre - 1) != 0)
            abort();
        const char *x = out.ptr + sizeof s_pre - 1;
        size_t xl = out.len - (sizeof s_pre - 1);
        if (memchr(x, '\0', xl) || !s_safe_key(x, xl, CWX_PREFIX_MAX))
            abort();
    } else {
        if (!why)
            abort();
        if (out.len != sizeof s_pre - 1 || strcmp(out.ptr, s_pre) != 0)
            abort();
    }
    cwx_buf_free(&out);

    cwx_buf_init(&out, 0);
    rc = cwx_marker_key(f[0], v.account_id, v.region, v.log_group, w.label, &out);
    if (rc == 0) {
        if (!s_safe_key(out.ptr, out.len, CWX_S3_KEY_MAX))
            abort();
    } else if (out.len != 0) {
        abort();
    }
    cwx_buf_free(&out);
    free(copy);
    return 0;
}
