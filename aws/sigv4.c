#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/error.h"
#include "common/secret.h"

#define CWX_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define CWX_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define CWX_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char s_hex[] = "0123456789abcdef";

void cwx_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = s_hex[md[i] >> 4];
        hex[2 * i + 1] = s_hex[md[i] & 15];
    }
    hex[64] = '\0';
}

static int s_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

int cwx_uri_encode(struct cwx_buf *out, const char *s, size_t len, int encode_slash)
{
    int rc = cwx_buf_reserve(out, len);
    if (!rc)
        out->ptr[out->len] = '\0'; /* reserve alone leaves a new buffer unterminated */
    for (size_t i = 0; i < len && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_unreserved(c) || (c == '/' && !encode_slash)) {
            rc = cwx_buf_putc(out, (char)c);
        } else {
            char esc[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};
            rc = cwx_buf_append(out, esc, 3);
        }
    }
    return rc;
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into out. A '%' not followed by two hex digits
 * is kept as it is. */
static int s_uri_decode(struct cwx_buf *out, const char *s, size_t len)
{
    int rc = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = s_hexval(s[i + 1])) >= 0 &&
            (lo = s_hexval(s[i + 2])) >= 0) {
            rc = cwx_buf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            rc = cwx_buf_putc(out, s[i]);
        }
    }
    return rc;
}

/* ---- canonical URI ---- */

/* Removes "." and ".." segments and empty segments (RFC 3986 §5.2.4 plus
 * the collapsing of duplicate slashes that SigV4 normalisation asks for). */
static int s_normalize_path(const char *path, struct cwx_buf *out)
{
    size_t n = strlen(path);
    const char **seg = malloc((n + 1) * sizeof *seg);
    size_t *seglen = malloc((n + 1) * sizeof *seglen);
    if (!seg || !seglen) {
        free(seg);
        free(seglen);
        return CWX_ENOMEM;
    }
    size_t depth = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0 || (len == 1 && start[0] == '.'))
            continue;
        if (len == 2 && start[0] == '.' && start[1] == '.') {
            if (depth)
                depth--;
            continue;
        }
        seg[depth] = start;
        seglen[depth++] = len;
    }
    int trailing = n > 0 && path[n - 1] == '/';
    /* "/a/." and "/a/.." also end with a directory. */
    if (n >= 2 && path[n - 1] == '.' && (path[n - 2] == '/' || (n >= 3 && path[n - 2] == '.' && path[n - 3] == '/')))
        trailing = 1;
    int rc = 0;
    for (size_t i = 0; i < depth && !rc; i++) {
        rc = cwx_buf_putc(out, '/');
        if (!rc)
            rc = cwx_buf_append(out, seg[i], seglen[i]);
    }
    if (!rc && (depth == 0 || trailing))
        rc = cwx_buf_putc(out, '/');
    free(seg);
    free(seglen);
    return rc;
}

static int s_canonical_uri(const struct cwx_sigv4_request *req,
                           const struct cwx_sigv4_params *p, struct cwx_buf *out)
{
    const char *path = req->path && req->path[0] ? req->path : "/";
    if (p->s3_rules)
        return cwx_buf_puts(out, path);
    struct cwx_buf norm;
    cwx_buf_init(&norm, 0);
    int rc = p->normalize_path ? s_normalize_path(path, &norm) : cwx_buf_puts(&norm, path);
    if (!rc)
        rc = cwx_uri_encode(out, norm.ptr, norm.len, 0);
    cwx_buf_free(&norm);
    return rc;
}

/* ---- canonical query ---- */

struct s_param {
    char *name;  /* encoded */
    char *value; /* encoded */
};

static int s_param_cmp(const void *a, const void *b)
{
    const struct s_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes then strictly re-encodes one name or value. */
static char *s_reencode(const char *s, size_t len)
{
    struct cwx_buf dec, enc;
    cwx_buf_init(&dec, 0);
    cwx_buf_init(&enc, 0);
    int rc = s_uri_decode(&dec, s, len);
    if (!rc)
        rc = cwx_uri_encode(&enc, dec.ptr ? dec.ptr : "", dec.len, 1);
    cwx_buf_free(&dec);
    if (rc) {
        cwx_buf_free(&enc);
        return NULL;
    }
    return cwx_buf_steal(&enc);
}

static int s_params_add(struct s_param **v, size_t *n, size_t *cap,
                        const char *name, size_t nlen, const char *val, size_t vlen)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct s_param *nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return CWX_ENOMEM;
        *v = nv;
        *cap = c;
    }
    char *en = s_reencode(name, nlen);
    char *ev = s_reencode(val, vlen);
    if (!en || !ev) {
        free(en);
        free(ev);
        return CWX_ENOMEM;
    }
    (*v)[(*n)++] = (struct s_param){en, ev};
    return 0;
}

static void s_params_free(struct s_param *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static int s_params_parse(const char *query, struct s_param **v, size_t *n, size_t *cap)
{
    const char *p = query;
    int rc = 0;
    while (p && *p && !rc) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            rc = s_params_add(v, n, cap, p, nlen, eq ? eq + 1 : "",
                              eq ? len - nlen - 1 : 0);
        }
        p = end ? end + 1 : NULL;
    }
    return rc;
}

static int s_params_join(struct s_param *v, size_t n, struct cwx_buf *out)
{
    if (n > 1)
        qsort(v, n, sizeof *v, s_param_cmp);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = cwx_buf_putc(out, '&');
        if (!rc)
            rc = cwx_buf_puts(out, v[i].name);
        if (!rc)
            rc = cwx_buf_putc(out, '=');
        if (!rc)
            rc = cwx_buf_puts(out, v[i].value);
    }
    return rc;
}

/* ---- canonical headers ---- */

struct s_header {
    char *name;           /* lower-cased */
    struct cwx_buf value; /* trimmed, spaces collapsed; duplicates joined */
};

static int s_header_cmp(const void *a, const void *b)
{
    return strcmp(((const struct s_header *)a)->name, ((const struct s_header *)b)->name);
}

/* Appends v trimmed, with every run of whitespace (line folds included)
 * collapsed to one space. */
static int s_put_trimmed(struct cwx_buf *out, const char *v)
{
    int rc = 0, space = 0, any = 0;
    for (const char *p = v; *p && !rc; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            space = any;
            continue;
        }
        if (space)
            rc = cwx_buf_putc(out, ' ');
        if (!rc)
            rc = cwx_buf_putc(out, *p);
        space = 0;
        any = 1;
    }
    if (!rc && !out->ptr)
        rc = cwx_buf_puts(out, "");
    return rc;
}

struct s_headers {
    struct s_header *v;
    size_t n;
};

static void s_headers_free(struct s_headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        cwx_buf_free(&h->v[i].value);
    }
    free(h->v);
    h->v = NULL;
    h->n = 0;
}

static int s_headers_add(struct s_headers *h, size_t cap, const char *name, const char *value)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < h->n; i++) {
        if (strlen(h->v[i].name) == nlen && strncasecmp(h->v[i].name, name, nlen) == 0) {
            int rc = cwx_buf_putc(&h->v[i].value, ',');
            return rc ? rc : s_put_trimmed(&h->v[i].value, value);
        }
    }
    if (h->n == cap)
        return CWX_EINVAL;
    struct s_header *e = &h->v[h->n];
    e->name = strdup(name);
    if (!e->name)
        return CWX_ENOMEM;
    for (char *p = e->name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    cwx_buf_init(&e->value, 0);
    h->n++;
    return s_put_trimmed(&e->value, value);
}

/* ---- the pipeline ---- */

/* X-Amz-Date has four digits of year: 1970-01-01 to 9999-12-31. */
static int s_time_ok(int64_t t)
{
    return t >= 0 && t <= INT64_C(253402300799);
}

static void s_amz_date(int64_t t, char out[17], char date8[9])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
    memcpy(date8, out, 8);
    date8[8] = '\0';
}

static void s_payload_hash(const struct cwx_sigv4_request *req,
                           const struct cwx_sigv4_params *p, int presign, char hex[65])
{
    if (req->payload_hash) {
        snprintf(hex, 65, "%s", req->payload_hash);
        return;
    }
    if (presign && p->s3_rules) {
        memcpy(hex, CWX_UNSIGNED_PAYLOAD, sizeof CWX_UNSIGNED_PAYLOAD);
        return;
    }
    if (!req->body_len) {
        memcpy(hex, CWX_EMPTY_SHA256, 65);
        return;
    }
    cwx_sha256_hex(req->body, req->body_len, hex);
}

static int s_credential_scope(const struct cwx_sigv4_params *p, const char *date8,
                              struct cwx_buf *out)
{
    return cwx_buf_printf(out, "%s/%s/%s/aws4_request", date8, p->region, p->service);
}

/* The fields every signing needs; a missing one is the caller's bug. */
static int s_check(const struct cwx_sigv4_request *req, const struct cwx_sigv4_params *p)
{
    if (!req || !p || !req->method || !p->access_key_id || !p->secret_access_key ||
        !p->region || !p->service || !s_time_ok(p->time_s) ||
        (req->n_headers && !req->headers) ||
        (req->body_len && !req->body && !req->payload_hash))
        return CWX_EINVAL;
    for (size_t i = 0; i < req->n_headers; i++)
        if (!req->headers[i].name || !req->headers[i].value)
            return CWX_EINVAL;
    return 0;
}

/* Whether `name` is a header the signer itself adds in this mode (or the
 * Authorization of an earlier signing): a caller's copy is left out, so a
 * request rebuilt for a retry from its sent headers signs the same way. */
static int s_is_ours(const char *name, const struct cwx_sigv4_params *p, int presign)
{
    if (strcasecmp(name, "authorization") == 0)
        return 1;
    if (presign)
        return 0;
    if (strcasecmp(name, "x-amz-date") == 0)
        return 1;
    if (strcasecmp(name, "x-amz-content-sha256") == 0)
        return p->sign_body || p->s3_rules;
    if (strcasecmp(name, "x-amz-security-token") == 0)
        return p->session_token && !p->omit_session_token;
    return 0;
}

/* The pieces of one canonical request while it is being built: the request
 * time in its two forms, the payload hash, the headers to sign (sorted), their
 * names joined by ';' and the query parameters (encoded). */
struct s_canon {
    char amz_date[17], date8[9], payload[65];
    struct s_headers h;
    size_t cap;
    struct s_param *params;
    size_t n_params, cap_params;
    struct cwx_buf sh;
};

static void s_canon_free(struct s_canon *c)
{
    s_headers_free(&c->h);
    s_params_free(c->params, c->n_params);
    cwx_buf_free(&c->sh);
}

/* Collects the headers to sign: the request's own (without those the signer
 * sets itself), then, unless presigning, x-amz-date, the payload hash and the
 * session token. Sorts them and joins their names into c->sh. */
static int s_canon_headers(const struct cwx_sigv4_request *req,
                           const struct cwx_sigv4_params *p, int presign, struct s_canon *c)
{
    c->cap = req->n_headers + 3;
    c->h.v = calloc(c->cap, sizeof *c->h.v);
    int rc = c->h.v ? 0 : CWX_ENOMEM;
    for (size_t i = 0; i < req->n_headers && !rc; i++) {
        if (s_is_ours(req->headers[i].name, p, presign))
            continue;
        rc = s_headers_add(&c->h, c->cap, req->headers[i].name, req->headers[i].value);
    }
    if (!rc && !presign) {
        rc = s_headers_add(&c->h, c->cap, "x-amz-date", c->amz_date);
        if (!rc && (p->sign_body || p->s3_rules))
            rc = s_headers_add(&c->h, c->cap, "x-amz-content-sha256", c->payload);
        if (!rc && p->session_token && !p->omit_session_token)
            rc = s_headers_add(&c->h, c->cap, "x-amz-security-token", p->session_token);
    }
    if (!rc)
        qsort(c->h.v, c->h.n, sizeof *c->h.v, s_header_cmp);
    for (size_t i = 0; i < c->h.n && !rc; i++) {
        if (i)
            rc = cwx_buf_putc(&c->sh, ';');
        if (!rc)
            rc = cwx_buf_puts(&c->sh, c->h.v[i].name);
    }
    return rc;
}

/* Adds one X-Amz-* presign parameter (not yet percent-encoded) to the
 * canonical parameters and, when given, to `presign_query`. */
static int s_presign_param(struct s_canon *c, const char *k, const char *v,
                           struct cwx_buf *presign_query)
{
    /* Our own values are not percent-encoded yet: encode them first so the
     * decode-then-encode of s_params_add is the identity. */
    struct cwx_buf ev;
    cwx_buf_init(&ev, 0);
    int rc = cwx_uri_encode(&ev, v, strlen(v), 1);
    if (!rc)
        rc = s_params_add(&c->params, &c->n_params, &c->cap_params, k, strlen(k), ev.ptr,
                          ev.len);
    if (!rc && presign_query) {
        if (presign_query->len)
            rc = cwx_buf_putc(presign_query, '&');
        if (!rc)
            rc = cwx_buf_printf(presign_query, "%s=%s", k, ev.ptr);
    }
    cwx_buf_free(&ev);
    return rc;
}

/* Adds the X-Amz-* query parameters of a presigned request. */
static int s_presign_params(const struct cwx_sigv4_params *p, struct s_canon *c,
                            struct cwx_buf *presign_query)
{
    char expires[16];
    snprintf(expires, sizeof expires, "%d", p->expires_s > 0 ? p->expires_s : 3600);
    struct cwx_buf scope;
    cwx_buf_init(&scope, 0);
    int rc = cwx_buf_printf(&scope, "%s/", p->access_key_id);
    if (!rc)
        rc = s_credential_scope(p, c->date8, &scope);
    struct {
        const char *k, *v;
    } add[] = {
        {"X-Amz-Algorithm", CWX_SIGV4_ALGORITHM},
        {"X-Amz-Credential", scope.ptr},
        {"X-Amz-Date", c->amz_date},
        {"X-Amz-SignedHeaders", c->sh.ptr},
        {"X-Amz-Expires", expires},
        {"X-Amz-Security-Token",
         p->session_token && !p->omit_session_token ? p->session_token : NULL},
    };
    for (size_t i = 0; i < sizeof add / sizeof *add && !rc; i++)
        if (add[i].v)
            rc = s_presign_param(c, add[i].k, add[i].v, presign_query);
    cwx_buf_free(&scope);
    return rc;
}

/* Writes the canonical request: method, URI, query, headers, signed header
 * names and payload hash, one per line. */
static int s_canon_write(const struct cwx_sigv4_request *req, const struct cwx_sigv4_params *p,
                         struct s_canon *c, struct cwx_buf *out)
{
    int rc = cwx_buf_printf(out, "%s\n", req->method);
    if (!rc)
        rc = s_canonical_uri(req, p, out);
    if (!rc)
        rc = cwx_buf_putc(out, '\n');
    if (!rc)
        rc = s_params_join(c->params, c->n_params, out);
    if (!rc)
        rc = cwx_buf_putc(out, '\n');
    for (size_t i = 0; i < c->h.n && !rc; i++)
        rc = cwx_buf_printf(out, "%s:%s\n", c->h.v[i].name, c->h.v[i].value.ptr);
    if (!rc)
        rc = cwx_buf_printf(out, "\n%s\n%s", c->sh.ptr, c->payload);
    return rc;
}

/* Builds the canonical request; with presign the X-Amz-* query parameters
 * are part of it and `presign_query` receives them encoded (unsorted is fine:
 * the caller appends them after the request's own). */
static int s_canonical(const struct cwx_sigv4_request *req, const struct cwx_sigv4_params *p,
                       int presign, struct cwx_buf *out, struct cwx_buf *signed_headers,
                       struct cwx_buf *presign_query)
{
    if (s_check(req, p))
        return CWX_EINVAL;
    struct s_canon c = {0};
    cwx_buf_init(&c.sh, 0);
    s_amz_date(p->time_s, c.amz_date, c.date8);
    s_payload_hash(req, p, presign, c.payload);

    int rc = s_canon_headers(req, p, presign, &c);
    if (!rc)
        rc = s_params_parse(req->query, &c.params, &c.n_params, &c.cap_params);
    if (!rc && presign)
        rc = s_presign_params(p, &c, presign_query);
    if (!rc)
        rc = s_canon_write(req, p, &c, out);
    if (!rc && signed_headers)
        rc = cwx_buf_append(signed_headers, c.sh.ptr, c.sh.len);
    s_canon_free(&c);
    return rc;
}

int cwx_sigv4_canonical_request(const struct cwx_sigv4_request *req,
                                const struct cwx_sigv4_params *p, int presign,
                                struct cwx_buf *out, struct cwx_buf *signed_headers)
{
    return s_canonical(req, p, presign, out, signed_headers, NULL);
}

int cwx_sigv4_string_to_sign(const struct cwx_sigv4_params *p,
                             const char *canonical_request, size_t len,
                             struct cwx_buf *out)
{
    if (!p || !p->region || !p->service || !s_time_ok(p->time_s) ||
        (len && !canonical_request))
        return CWX_EINVAL;
    char amz_date[17], date8[9], hash[65];
    s_amz_date(p->time_s, amz_date, date8);
    cwx_sha256_hex(canonical_request, len, hash);
    int rc = cwx_buf_printf(out, CWX_SIGV4_ALGORITHM "\n%s\n", amz_date);
    if (!rc)
        rc = s_credential_scope(p, date8, out);
    if (!rc)
        rc = cwx_buf_printf(out, "\n%s", hash);
    return rc;
}

static void s_hmac(const unsigned char *key, size_t klen, const void *msg, size_t mlen,
                   unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n);
}

void cwx_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                           const char *service, unsigned char key[32])
{
    size_t slen = strlen(secret);
    unsigned char small[128]; /* AWS secrets are 40 characters */
    unsigned char *k0 = slen + 4 <= sizeof small ? small : malloc(slen + 4);
    unsigned char k[32];
    if (!k0) { /* no key: the signature is refused, never a crash */
        memset(key, 0, 32);
        return;
    }
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen);
    s_hmac(k0, slen + 4, date8, strlen(date8), k);
    s_hmac(k, 32, region, strlen(region), k);
    s_hmac(k, 32, service, strlen(service), k);
    s_hmac(k, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k0, slen + 4);
    OPENSSL_cleanse(k, sizeof k);
    if (k0 != small)
        free(k0);
}

void cwx_sigv4_signature(const unsigned char key[32], const char *string_to_sign,
                         size_t len, char hex[65])
{
    unsigned char mac[32];
    s_hmac(key, 32, string_to_sign, len, mac);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = s_hex[mac[i] >> 4];
        hex[2 * i + 1] = s_hex[mac[i] & 15];
    }
    hex[64] = '\0';
}

/* Runs the pipeline: canonical request → string to sign → signature. */
static int s_sign(const struct cwx_sigv4_request *req, const struct cwx_sigv4_params *p,
                  int presign, struct cwx_buf *signed_headers,
                  struct cwx_buf *presign_query, char sig[65])
{
    char amz_date[17], date8[9];
    s_amz_date(p->time_s, amz_date, date8);
    struct cwx_buf creq, sts;
    cwx_buf_init(&creq, 0);
    cwx_buf_init(&sts, 0);
    int rc = s_canonical(req, p, presign, &creq, signed_headers, presign_query);
    if (!rc)
        rc = cwx_sigv4_string_to_sign(p, creq.ptr, creq.len, &sts);
    if (!rc) {
        unsigned char key[32];
        cwx_sigv4_signing_key(p->secret_access_key, date8, p->region, p->service, key);
        cwx_sigv4_signature(key, sts.ptr, sts.len, sig);
        OPENSSL_cleanse(key, sizeof key);
    }
    cwx_buf_free(&creq);
    cwx_buf_free(&sts);
    return rc;
}

int cwx_sigv4_sign_headers(const struct cwx_sigv4_request *req,
                           const struct cwx_sigv4_params *p,
                           struct cwx_sigv4_signed *out)
{
    memset(out, 0, sizeof *out);
    if (s_check(req, p))
        return CWX_EINVAL;
    char date8[9], sig[65];
    s_amz_date(p->time_s, out->amz_date, date8);
    if (p->sign_body || p->s3_rules)
        s_payload_hash(req, p, 0, out->content_sha256);
    struct cwx_buf sh, auth;
    cwx_buf_init(&sh, 0);
    cwx_buf_init(&auth, 0);
    int rc = s_sign(req, p, 0, &sh, NULL, sig);
    if (!rc)
        rc = cwx_buf_printf(&auth, CWX_SIGV4_ALGORITHM " Credential=%s/", p->access_key_id);
    if (!rc)
        rc = s_credential_scope(p, date8, &auth);
    if (!rc)
        rc = cwx_buf_printf(&auth, ", SignedHeaders=%s, Signature=%s", sh.ptr, sig);
    if (!rc && p->session_token) {
        out->security_token = strdup(p->session_token);
        if (!out->security_token)
            rc = CWX_ENOMEM;
    }
    cwx_buf_free(&sh);
    if (rc) {
        cwx_buf_free(&auth);
        cwx_sigv4_signed_free(out);
        return rc;
    }
    out->authorization = cwx_buf_steal(&auth);
    return 0;
}

void cwx_sigv4_signed_free(struct cwx_sigv4_signed *s)
{
    free(s->authorization);
    cwx_secret_free(s->security_token);
    s->authorization = NULL;
    s->security_token = NULL;
}

int cwx_sigv4_presign(const struct cwx_sigv4_request *req,
                      const struct cwx_sigv4_params *p, struct cwx_buf *query_out)
{
    char sig[65];
    struct cwx_buf added;
    cwx_buf_init(&added, 0);
    int rc = s_sign(req, p, 1, NULL, &added, sig);
    if (!rc && req->query && req->query[0])
        rc = cwx_buf_printf(query_out, "%s&", req->query);
    if (!rc)
        rc = cwx_buf_append(query_out, added.ptr, added.len);
    if (!rc && p->session_token && p->omit_session_token) {
        rc = cwx_buf_puts(query_out, "&X-Amz-Security-Token=");
        if (!rc)
            rc = cwx_uri_encode(query_out, p->session_token, strlen(p->session_token), 1);
    }
    if (!rc)
        rc = cwx_buf_printf(query_out, "&X-Amz-Signature=%s", sig);
    cwx_buf_free(&added);
    return rc;
}
