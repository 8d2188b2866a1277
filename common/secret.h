/* Freeing memory that may hold a secret (a key, a session or SSO token, a
 * signed header): the bytes are wiped with OPENSSL_cleanse first, so that
 * they do not linger in freed heap memory. */
#ifndef CWX_COMMON_SECRET_H
#define CWX_COMMON_SECRET_H

#include <stddef.h>

/* Wipes the NUL-terminated string s, then frees it. NULL is fine. */
void cwx_secret_free(char *s);

/* Wipes the first n bytes of p (which need not be NUL-terminated), then
 * frees it. NULL is fine. */
void cwx_secret_free_n(void *p, size_t n);

/* Wipes and frees each of the n NUL-terminated strings of s (NULL ones are
 * fine); the array itself is the caller's. */
void cwx_secret_free_all(char *const *s, size_t n);

/* Wipes and frees every argument (strings that may hold a secret), as
 * CWX_FREE_ALL of common/mem.h frees: each argument is evaluated once. */
#define CWX_SECRET_FREE_ALL(...)                                                               \
    cwx_secret_free_all((char *[]){__VA_ARGS__}, sizeof((char *[]){__VA_ARGS__}) / sizeof(char *))

#endif
