/* libFuzzer target: SigV4 canonicalisation of arbitrary methods, paths,
 * queries and headers (aws/sigv4.c), and the two signing entry points.
 *
 * Input: byte 0 holds mode flags (S3 rules, path normalisation, body
 * signing, session token, token added after signing), bytes 1-4 the clock;
 * the rest is split at '\n' into the method, the path, the query, up to 16
 * "name:value" header lines and, after an empty line, the body.
 *
 * Checked:
 *  - canonicalisation never fails when every string is valid UTF-8;
 *  - its output has the canonical shape: method, URI, query, headers, a blank
 *    line, the signed-header list, the payload hash; the canonical query is
 *    sorted name=value pairs of unreserved characters and %XX escapes, and
 *    so is the canonical URI (plus '/') outside S3 rules;
 *  - it is deterministic, and the signed-header list is sorted, lower case
 *    and equal to the one sign_headers puts into Authorization;
 *  - the signature in Authorization is the one the pure steps give (string
 *    to sign, signing key, HMAC) for the same canonical request;
 *  - presign appends X-Amz-Signature last, 64 hex digits, and the pipeline
 *    on the presign canonical request gives that signature. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 16

static int s_utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

static int s_hexdig(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Unreserved characters and %XX (upper-case hex) only, plus `extra`. */
static int s_encoded_ok(const char *s, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c && strchr(extra, c)))
            continue;
        if (c == '%' && i + 2 < len && s_hexdig(s[i + 1]) && s_hexdig(s[i + 2])) {
            i += 2;
            continue;
        }
        return 0;
    }
    return 1;
}

/* The signature the pure steps give for a canonical request. */
static void s_pipeline(const struct cwx_sigv4_params *p, const struct cwx_buf *creq,
                       char sig[65])
{
    struct cwx_buf sts;
    cwx_buf_init(&sts, 0);
    if (cwx_sigv4_string_to_sign(p, creq->ptr, creq->len, &sts))
        abort();
    char date[9];
    /* the string to sign's second line is the X-Amz-Date */
    const char *nl = strchr(sts.ptr, '\n');
    if (!nl)
        abort();
    memcpy(date, nl + 1, 8);
    date[8] = '\0';
    unsigned char key[32];
    cwx_sigv4_signing_key(p->secret_access_key, date, p->region, p->service, key);
    cwx_sigv4_signature(key, sts.ptr, sts.len, sig);
    cwx_buf_free(&sts);
}

/* strcmp order of two spans (a shorter prefix sorts first). */
static int s_spancmp(struct cwx_span a, struct cwx_span b)
{
    size_t m = a.len < b.len ? a.len : b.len;
    int cmp = m ? memcmp(a.ptr, b.ptr, m) : 0;
    if (cmp)
        return cmp;
    return a.len < b.len ? -1 : a.len > b.len;
}

static void s_check_shape(const struct cwx_buf *c, const struct cwx_buf *sh,
                          const struct cwx_sigv4_params *p, int tokens)
{
    const char *s = c->ptr;
    const char *l1 = memchr(s, '\n', c->len); /* end of method */
    if (!l1)
        abort();
    const char *l2 = memchr(l1 + 1, '\n', c->len - (size_t)(l1 + 1 - s)); /* end of URI */
    if (!l2)
        abort();
    if (!p->s3_rules && !s_encoded_ok(l1 + 1, (size_t)(l2 - l1 - 1), "/"))
        abort();
    const char *l3 = memchr(l2 + 1, '\n', c->len - (size_t)(l2 + 1 - s)); /* end of query */
    if (!l3)
        abort();
    /* the canonical query: sorted name=value pairs, every part encoded */
    const char *q = l2 + 1;
    struct cwx_span pn = {0}, pv = {0};
    while (q < l3) {
        const char *amp = memchr(q, '&', (size_t)(l3 - q));
        const char *end = amp ? amp : l3;
        const char *eq = memchr(q, '=', (size_t)(end - q));
        if (!eq || !s_encoded_ok(q, (size_t)(eq - q), "") ||
            !s_encoded_ok(eq + 1, (size_t)(end - eq - 1), ""))
            abort();
        struct cwx_span n = {q, (size_t)(eq - q)}, v = {eq + 1, (size_t)(end - eq - 1)};
        if (pn.ptr) {
            int cmp = s_spancmp(pn, n);
            if (cmp > 0 || (cmp == 0 && s_spancmp(pv, v) > 0))
                abort();
        }
        pn = n;
        pv = v;
        q = amp ? amp + 1 : l3;
    }
    /* the tail: "\n" signed-headers "\n" payload-hash */
    const char *last = NULL, *before = NULL;
    for (const char *x = s + c->len; x > s; x--) {
        if (x[-1] == '\n') {
            if (!last)
                last = x - 1;
            else {
                before = x - 1;
                break;
            }
        }
    }
    if (!last || !before || before[-1] != '\n')
        abort(); /* the blank line ending the headers */
    if ((size_t)(last - before - 1) != sh->len || memcmp(before + 1, sh->ptr, sh->len) != 0)
        abort();
    /* signed headers: lower case, sorted, unique */
    if (!tokens)
        return; /* a ';' in a name makes the list ambiguous: nothing to check */
    const char *h = sh->ptr;
    struct cwx_span ph = {0};
    while (h && *h) {
        const char *semi = strchr(h, ';');
        struct cwx_span n = {h, semi ? (size_t)(semi - h) : strlen(h)};
        for (size_t i = 0; i < n.len; i++)
            if (h[i] >= 'A' && h[i] <= 'Z')
                abort();
        if (ph.ptr && s_spancmp(ph, n) >= 0)
            abort();
        ph = n;
        h = semi ? semi + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5 || size > 8192)
        return 0;
    uint8_t flags = data[0];
    uint32_t t = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 |
                 data[4];

    char *copy = malloc(size - 5 + 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 5, size - 5);
    copy[size - 5] = '\0';

    /* method \n path \n query \n headers... \n \n body */
    char *fields[3] = {"", "", ""};
    char *cur = copy;
    for (int i = 0; i < 3 && cur; i++) {
        char *nl = strchr(cur, '\n');
        if (nl)
            *nl = '\0';
        fields[i] = cur;
        cur = nl ? nl + 1 : NULL;
    }
    struct cwx_sigv4_header headers[MAX_HEADERS + 1];
    size_t n_headers = 0;
    headers[n_headers++] = (struct cwx_sigv4_header){"Host", "logs.us-east-1.amazonaws.com"};
    const char *body = "";
    while (cur) {
        char *nl = strchr(cur, '\n');
        if (nl)
            *nl = '\0';
        if (!*cur) {
            body = nl ? nl + 1 : "";
            break;
        }
        if (n_headers <= MAX_HEADERS) {
            char *colon = strchr(cur, ':');
            if (colon) {
                *colon = '\0';
                if (*cur)
                    headers[n_headers++] = (struct cwx_sigv4_header){cur, colon + 1};
            }
        }
        cur = nl ? nl + 1 : NULL;
    }

    struct cwx_sigv4_request req = {
        .method = fields[0][0] ? fields[0] : "GET",
        .path = fields[1],
        .query = fields[2][0] ? fields[2] : NULL,
        .headers = headers,
        .n_headers = n_headers,
        .body = body,
        .body_len = strlen(body),
    };
    struct cwx_sigv4_params p = {
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = flags & 8 ? "session/token+with=odd&chars" : NULL,
        .region = "us-east-1",
        .service = flags & 1 ? "s3" : "logs",
        .time_s = (int64_t)t,
        .s3_rules = flags & 1,
        .normalize_path = flags & 2 ? 1 : 0,
        .sign_body = flags & 4 ? 1 : 0,
        .omit_session_token = flags & 16 ? 1 : 0,
        .expires_s = flags & 32 ? 60 : 0,
    };
    int valid = s_utf8_ok(req.method) && s_utf8_ok(req.path) &&
                (!req.query || s_utf8_ok(req.query)) && s_utf8_ok(body);
    int tokens = 1;
    for (size_t i = 0; i < n_headers; i++) {
        valid = valid && s_utf8_ok(headers[i].name) && s_utf8_ok(headers[i].value);
        tokens = tokens && !strchr(headers[i].name, ';');
    }

    for (int presign = 0; presign <= 1; presign++) {
        struct cwx_buf c1, c2, sh1, sh2;
        cwx_buf_init(&c1, 0);
        cwx_buf_init(&c2, 0);
        cwx_buf_init(&sh1, 0);
        cwx_buf_init(&sh2, 0);
        int rc = cwx_sigv4_canonical_request(&req, &p, presign, &c1, &sh1);
        if (rc && valid)
            abort();
        if (!rc) {
            if (cwx_sigv4_canonical_request(&req, &p, presign, &c2, &sh2) ||
                c1.len != c2.len || memcmp(c1.ptr, c2.ptr, c1.len) != 0 ||
                sh1.len != sh2.len || memcmp(sh1.ptr, sh2.ptr, sh1.len) != 0)
                abort();
            s_check_shape(&c1, &sh1, &p, tokens);
            char want[65];
            s_pipeline(&p, &c1, want);
            if (!presign) {
                struct cwx_sigv4_signed s;
                if (cwx_sigv4_sign_headers(&req, &p, &s))
                    abort();
                char expect[2048];
                snprintf(expect, sizeof expect, ", SignedHeaders=%s, Signature=%s",
                         sh1.ptr, want);
                size_t al = strlen(s.authorization), el = strlen(expect);
                if (sh1.len < 1500 && (al < el || strcmp(s.authorization + al - el, expect)))
                    abort();
                if (!!s.security_token != !!p.session_token)
                    abort();
                cwx_sigv4_signed_free(&s);
            } else {
                struct cwx_buf q;
                cwx_buf_init(&q, 0);
                if (cwx_sigv4_presign(&req, &p, &q))
                    abort();
                /* the last parameter (the request may carry its own) */
                const char *sig = strrchr(q.ptr, '&');
                sig = sig ? sig + 1 : q.ptr;
                if (strncmp(sig, "X-Amz-Signature=", 16) != 0)
                    abort();
                if (!sig || strlen(sig) != 16 + 64 || strcmp(sig + 16, want) != 0)
                    abort();
                cwx_buf_free(&q);
            }
        }
        cwx_buf_free(&c1);
        cwx_buf_free(&c2);
        cwx_buf_free(&sh1);
        cwx_buf_free(&sh2);
    }
    free(copy);
    return 0;
}
