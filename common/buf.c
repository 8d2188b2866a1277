#include "common/buf.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void cwx_buf_init(struct cwx_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->secret = 0;
}

void cwx_buf_init_secret(struct cwx_buf *b, size_t max)
{
    cwx_buf_init(b, max);
    b->secret = 1;
}

void cwx_buf_free(struct cwx_buf *b)
{
    if (b->secret && b->ptr)
        OPENSSL_cleanse(b->ptr, b->cap);
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void cwx_buf_free_secret(struct cwx_buf *b)
{
    if (b->ptr)
        OPENSSL_cleanse(b->ptr, b->cap);
    cwx_buf_free(b);
}

void cwx_buf_reset(struct cwx_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

int cwx_buf_reserve(struct cwx_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need < b->len)
        return CWX_ETOOBIG;
    if (b->max && b->len + extra > b->max)
        return CWX_ETOOBIG;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p;
    if (b->secret) {
        p = malloc(cap);
        if (!p)
            return CWX_ENOMEM;
        if (b->ptr) {
            memcpy(p, b->ptr, b->len);
            OPENSSL_cleanse(b->ptr, b->cap);
            free(b->ptr);
        }
    } else {
        p = realloc(b->ptr, cap);
        if (!p)
            return CWX_ENOMEM;
    }
    p[b->len] = '\0';
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int cwx_buf_append(struct cwx_buf *b, const void *p, size_t n)
{
    int rc = cwx_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int cwx_buf_puts(struct cwx_buf *b, const char *s)
{
    return cwx_buf_append(b, s, strlen(s));
}

int cwx_buf_putc(struct cwx_buf *b, char c)
{
    return cwx_buf_append(b, &c, 1);
}

int cwx_buf_vprintf(struct cwx_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return CWX_EINVAL;
    int rc = cwx_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cwx_buf_printf(struct cwx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cwx_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *cwx_buf_steal(struct cwx_buf *b)
{
    char *p = b->ptr;
    if (!p)
        p = calloc(1, 1);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

int cwx_buf_json_str(struct cwx_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = cwx_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (!rc && *p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            rc = cwx_buf_append(b, run, (size_t)(p - run));
        if (rc || !*p)
            break;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        rc = cwx_buf_append(b, esc, n);
        p++;
    }
    if (!rc)
        rc = cwx_buf_putc(b, '"');
    return rc;
}

int cwx_buf_escape_ctl(struct cwx_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = 0;
    while (*s && !rc) {
        size_t n = 0;
        while (s[n] && (unsigned char)s[n] >= 0x20 && s[n] != 0x7f)
            n++;
        if (n) {
            rc = cwx_buf_append(b, s, n);
            s += n;
            continue;
        }
        unsigned char c = (unsigned char)*s++;
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        rc = cwx_buf_append(b, esc, 4);
    }
    return rc;
}

const char *cwx_escape_ctl(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    if (!size)
        return out;
    for (; s && *s && k + 1 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != 0x7f) {
            out[k++] = (char)c;
        } else if (k + 5 < size) {
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        } else {
            break;
        }
    }
    out[k] = '\0';
    return out;
}
