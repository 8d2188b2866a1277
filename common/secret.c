/* Wipe-then-free for memory that may hold a secret. */
#include "common/secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

void cwx_secret_free(char *s)
{
    if (s)
        cwx_secret_free_n(s, strlen(s));
}

void cwx_secret_free_all(char *const *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cwx_secret_free(s[i]);
}

void cwx_secret_free_n(void *p, size_t n)
{
    if (!p)
        return;
    OPENSSL_cleanse(p, n);
    free(p);
}
