/* Helpers shared by the logs, s3, sns and sts clients: small-document XML
 * extraction, timestamps, percent-encoding. */
#include "aws/clients_internal.h"

#include <expat.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/civil.h"
#include "common/error.h"
#include "common/secret.h"

void cwx__msg(char *msg, size_t size, const char *fmt, ...)
{
    if (!msg || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

char *cwx__strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int cwx__strdup_each(char **const v[], size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *src = *v[i];
        *v[i] = !rc && src ? strdup(src) : NULL;
        if (src && !*v[i])
            rc = CWX_ENOMEM;
    }
    return rc;
}

void cwx__parse_error(struct cwx_aws_error *dst, const struct cwx_aws_error *src,
                      const char *msg)
{
    if (src)
        *dst = *src;
    else
        memset(dst, 0, sizeof(*dst));
    snprintf(dst->message, sizeof(dst->message), "%s", msg);
    /* An answer AWS sent as a success that could not be read. */
    if (!dst->code[0])
        snprintf(dst->code, sizeof(dst->code), "MalformedResponse");
}

const struct cwx_aws_error *cwx__answer_error(int status, const char *msg,
                                              const struct cwx_aws_error *err,
                                              struct cwx_aws_error *tmp)
{
    if (!status || !msg || !msg[0])
        return err;
    cwx__parse_error(tmp, err, msg);
    return tmp;
}

/* ---- percent-encoding ----------------------------------------------------- */

static int s_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

int cwx__pct_encode(struct cwx_buf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = cwx_buf_reserve(out, len);
    for (size_t i = 0; !rc && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_unreserved(c) || (keep_slash && c == '/')) {
            rc = cwx_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = cwx_buf_append(out, e, 3);
        }
    }
    return rc;
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cwx__pct_decode(struct cwx_buf *out, const char *s, size_t len, int plus_space)
{
    int rc = cwx_buf_reserve(out, len);
    for (size_t i = 0; !rc && i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)
                return CWX_EPARSE;
            int hi = s_hexval(s[i + 1]), lo = s_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return CWX_EPARSE;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        rc = cwx_buf_putc(out, c);
    }
    return rc;
}

int cwx__form_add(struct cwx_buf *out, const char *name, const char *value)
{
    int rc = 0;
    if (out->len)
        rc = cwx_buf_putc(out, '&');
    if (!rc)
        rc = cwx__pct_encode(out, name, strlen(name), 0);
    if (!rc)
        rc = cwx_buf_putc(out, '=');
    if (!rc)
        rc = cwx__pct_encode(out, value, strlen(value), 0);
    return rc;
}

/* ---- timestamps ------------------------------------------------------------ */

/* Reads exactly n digits at s[*i]. */
static int s_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return CWX_EPARSE;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return 0;
}

static int s_expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return CWX_EPARSE;
    (*i)++;
    return 0;
}

static int s_civil_ms(int y, int mo, int d, int h, int mi, int sec, int ms, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > cwx_days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 60)
        return CWX_EPARSE;
    int64_t days = cwx_days_from_civil(y, mo, d);
    *out = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + ms;
    return 0;
}

int cwx__iso8601_ms(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int y, mo, d, h, mi, sec, ms = 0;
    if (s_digits(s, len, &i, 4, &y) || s_expect(s, len, &i, '-') ||
        s_digits(s, len, &i, 2, &mo) || s_expect(s, len, &i, '-') ||
        s_digits(s, len, &i, 2, &d))
        return CWX_EPARSE;
    if (i >= len || (s[i] != 'T' && s[i] != 't'))
        return CWX_EPARSE;
    i++;
    if (s_digits(s, len, &i, 2, &h) || s_expect(s, len, &i, ':') ||
        s_digits(s, len, &i, 2, &mi) || s_expect(s, len, &i, ':') ||
        s_digits(s, len, &i, 2, &sec))
        return CWX_EPARSE;
    if (i < len && s[i] == '.') {
        i++;
        int n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n < 3)
                ms = ms * 10 + (s[i] - '0');
            n++;
            i++;
        }
        if (n == 0 || n > 12)
            return CWX_EPARSE;
        for (; n < 3; n++)
            ms *= 10;
    }
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om;
        i++;
        if (s_digits(s, len, &i, 2, &oh) || s_expect(s, len, &i, ':') ||
            s_digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
            return CWX_EPARSE;
        offset_min = sign * (oh * 60 + om);
    } else {
        return CWX_EPARSE;
    }
    if (i != len)
        return CWX_EPARSE;
    int64_t t;
    if (s_civil_ms(y, mo, d, h, mi, sec, ms, &t))
        return CWX_EPARSE;
    *out = t - offset_min * 60000;
    return 0;
}

int cwx__http_date_ms(const char *s, size_t len, int64_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
        return CWX_EPARSE;
    int mo = 0;
    for (int k = 0; k < 12; k++)
        if (memcmp(s + 8, months + 3 * k, 3) == 0)
            mo = k + 1;
    if (!mo)
        return CWX_EPARSE;
    size_t i = 5;
    int d, y, h, mi, sec;
    if (s_digits(s, len, &i, 2, &d))
        return CWX_EPARSE;
    i = 12;
    if (s_digits(s, len, &i, 4, &y) || s_expect(s, len, &i, ' ') ||
        s_digits(s, len, &i, 2, &h) || s_expect(s, len, &i, ':') ||
        s_digits(s, len, &i, 2, &mi) || s_expect(s, len, &i, ':') ||
        s_digits(s, len, &i, 2, &sec))
        return CWX_EPARSE;
    return s_civil_ms(y, mo, d, h, mi, sec, 0, out);
}

/* ---- small-document XML extraction ------------------------------------------ */

#define S_MAX_PATH 1024
#define S_MAX_DEPTH 64

struct s_xml {
    XML_Parser parser;
    struct cwx__xml_field *fields;
    size_t n_fields;
    int secret;
    struct cwx_buf path;  /* "A/B/C" of the current element */
    size_t stack[S_MAX_DEPTH]; /* path lengths to restore on each end tag */
    int depth;
    int active;           /* index of the field collecting text, or -1 */
    struct cwx_buf text;
    int error;            /* CWX_E* raised from a handler */
    char why[160];
};

void cwx__xml_fail(struct XML_ParserStruct *xml, int *error, char *why, size_t why_size,
                   int err, const char *reason)
{
    if (!*error) {
        *error = err;
        snprintf(why, why_size, "%s", reason);
    }
    XML_StopParser(xml, XML_FALSE);
}

int cwx__xml_too_deep(struct XML_ParserStruct *xml, int *error, char *why, size_t why_size,
                      int depth, int max_depth)
{
    if (depth < max_depth)
        return 0;
    cwx__xml_fail(xml, error, why, why_size, CWX_EPARSE, "XML nested too deeply");
    return 1;
}

static void s_fail(struct s_xml *x, int err, const char *why)
{
    cwx__xml_fail(x->parser, &x->error, x->why, sizeof(x->why), err, why);
}

static void XMLCALL s_on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct s_xml *x = ud;
    if (cwx__xml_too_deep(x->parser, &x->error, x->why, sizeof(x->why), x->depth, S_MAX_DEPTH))
        return;
    x->stack[x->depth++] = x->path.len;
    if ((x->path.len && cwx_buf_putc(&x->path, '/')) || cwx_buf_puts(&x->path, name)) {
        s_fail(x, CWX_EPARSE, "XML element path too long");
        return;
    }
    x->active = -1;
    for (size_t k = 0; k < x->n_fields; k++) {
        if (!*x->fields[k].dst && strcmp(x->fields[k].path, x->path.ptr) == 0) {
            x->active = (int)k;
            cwx_buf_reset(&x->text);
            break;
        }
    }
}

static void XMLCALL s_on_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct s_xml *x = ud;
    if (x->active >= 0) {
        char **dst = x->fields[x->active].dst;
        if (x->secret) {
            /* one text buffer, reserved once so that it never moves, copied
             * out at the exact size and wiped after each secret */
            *dst = strdup(x->text.ptr ? x->text.ptr : "");
            if (x->text.ptr)
                OPENSSL_cleanse(x->text.ptr, x->text.len);
            cwx_buf_reset(&x->text);
        } else {
            *dst = x->text.ptr ? cwx_buf_steal(&x->text) : strdup("");
        }
        if (!*dst)
            s_fail(x, CWX_ENOMEM, "out of memory");
        x->active = -1;
    }
    if (x->depth > 0) {
        x->path.len = x->stack[--x->depth];
        if (x->path.ptr)
            x->path.ptr[x->path.len] = '\0';
    }
}

static void XMLCALL s_on_text(void *ud, const XML_Char *s, int len)
{
    struct s_xml *x = ud;
    if (x->active < 0 || len <= 0)
        return;
    int rc = cwx_buf_append(&x->text, s, (size_t)len);
    if (rc)
        s_fail(x, rc == CWX_ENOMEM ? CWX_ENOMEM : CWX_EPARSE, "XML text too long");
}

static void XMLCALL s_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                 const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    s_fail(ud, CWX_EPARSE, "XML DOCTYPE refused");
}

static void XMLCALL s_on_entity(void *ud, const XML_Char *name, int is_param,
                                const XML_Char *value, int value_len, const XML_Char *base,
                                const XML_Char *sysid, const XML_Char *pubid,
                                const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    s_fail(ud, CWX_EPARSE, "XML entity declaration refused");
}

int cwx__xml_extract(const char *body, size_t len, struct cwx__xml_field *fields,
                     size_t n_fields, int secret, char *msg, size_t msg_size)
{
    struct s_xml x;
    memset(&x, 0, sizeof(x));
    x.fields = fields;
    x.n_fields = n_fields;
    x.secret = secret;
    x.active = -1;
    cwx_buf_init(&x.path, S_MAX_PATH);
    cwx_buf_init(&x.text, CWX__MAX_TEXT);
    for (size_t k = 0; k < n_fields; k++)
        *fields[k].dst = NULL;

    int rc = 0;
    if (secret && cwx_buf_reserve(&x.text, CWX__MAX_TEXT)) {
        cwx__msg(msg, msg_size, "out of memory");
        rc = CWX_ENOMEM;
        goto cleanup;
    }
    x.parser = XML_ParserCreate("UTF-8");
    if (!x.parser) {
        cwx__msg(msg, msg_size, "out of memory");
        rc = CWX_ENOMEM;
        goto cleanup;
    }
    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, s_on_start, s_on_end);
    XML_SetCharacterDataHandler(x.parser, s_on_text);
    XML_SetStartDoctypeDeclHandler(x.parser, s_on_doctype);
    XML_SetEntityDeclHandler(x.parser, s_on_entity);

    size_t off = 0;
    do {
        size_t n = len - off;
        if (n > (1u << 20))
            n = 1u << 20;
        int final = off + n == len;
        if (XML_Parse(x.parser, body + off, (int)n, final) != XML_STATUS_OK) {
            if (x.error) {
                rc = x.error;
                cwx__msg(msg, msg_size, "%s", x.why);
            } else {
                rc = CWX_EPARSE;
                cwx__msg(msg, msg_size, "invalid XML at line %lu: %s",
                         (unsigned long)XML_GetCurrentLineNumber(x.parser),
                         XML_ErrorString(XML_GetErrorCode(x.parser)));
            }
            goto cleanup;
        }
        off += n;
    } while (off < len);

    for (size_t k = 0; k < n_fields; k++) {
        if (fields[k].required && !*fields[k].dst) {
            rc = CWX_EPARSE;
            cwx__msg(msg, msg_size, "missing <%s>", fields[k].path);
            goto cleanup;
        }
    }

cleanup:
    if (rc) {
        for (size_t k = 0; k < n_fields; k++) {
            if (secret)
                cwx_secret_free(*fields[k].dst);
            else
                free(*fields[k].dst);
            *fields[k].dst = NULL;
        }
    }
    if (x.parser)
        XML_ParserFree(x.parser);
    cwx_buf_free(&x.path);
    if (secret)
        cwx_buf_free_secret(&x.text);
    else
        cwx_buf_free(&x.text);
    return rc;
}
