/* Byte spans and growable buffers. */
#ifndef CWX_COMMON_BUF_H
#define CWX_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A borrowed view of bytes; never owns ptr, need not be NUL-terminated. */
struct cwx_span {
    const char *ptr;
    size_t len;
};

#define CWX_SPAN_LIT(s) ((struct cwx_span){(s), sizeof(s) - 1})

/* An owning buffer. ptr is always NUL-terminated when non-NULL (the NUL is not
 * counted in len). Appends past max fail with CWX_ETOOBIG; max 0 = no limit. */
struct cwx_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
    int secret; /* 1: wiped whenever its storage is freed or moved */
};

void cwx_buf_init(struct cwx_buf *b, size_t max);
/* A buffer for secrets (credentials, signed headers, answers that carry
 * keys): growing copies into new storage and wipes the old (no realloc,
 * which may leave the bytes behind), and cwx_buf_free wipes. */
void cwx_buf_init_secret(struct cwx_buf *b, size_t max);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void cwx_buf_free(struct cwx_buf *b);
/* Like cwx_buf_free, but first wipes the bytes (for secrets). */
void cwx_buf_free_secret(struct cwx_buf *b);
void cwx_buf_reset(struct cwx_buf *b);
int cwx_buf_reserve(struct cwx_buf *b, size_t extra);
int cwx_buf_append(struct cwx_buf *b, const void *p, size_t n);
int cwx_buf_puts(struct cwx_buf *b, const char *s);
int cwx_buf_putc(struct cwx_buf *b, char c);
int cwx_buf_printf(struct cwx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cwx_buf_vprintf(struct cwx_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the storage to the caller (who frees it) and empties b. */
char *cwx_buf_steal(struct cwx_buf *b);

/* Appends s as a JSON string literal with quotes. Streaming writers use it
 * where building a cJSON tree would cost memory per row (plan reports of a
 * million jobs); documents of bounded size are built with cJSON. */
/* Appends s with every control character (0x00-0x1f, 0x7f) written as
 * \xNN, so that text from AWS cannot move the cursor, clear a terminal or
 * forge a line of output. */
int cwx_buf_escape_ctl(struct cwx_buf *b, const char *s);
/* The same into a fixed buffer (truncated, always NUL-terminated). */
const char *cwx_escape_ctl(const char *s, char *out, size_t size);
int cwx_buf_json_str(struct cwx_buf *b, const char *s);

#endif
