#include "common/hash.h"

#include <string.h>

/* The 64-bit FNV-1a parameters (draft-eastlake-fnv). */
#define S_FNV_OFFSET 0xcbf29ce484222325ULL
#define S_FNV_PRIME 0x100000001b3ULL

/* Folds the high bits, which FNV-1a mixes best, into the low ones. */
static uint64_t s_fold(uint64_t h)
{
    return h ^ (h >> 29);
}

uint64_t cwx_hash_bytes(const void *p, size_t len, uint32_t tag)
{
    const unsigned char *b = p;
    uint64_t h = S_FNV_OFFSET ^ tag;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * S_FNV_PRIME;
    return s_fold(h);
}

uint64_t cwx_hash_str(const char *s, uint32_t tag)
{
    return cwx_hash_bytes(s, strlen(s), tag);
}

size_t cwx_hash_capacity(size_t n, size_t cap, size_t first)
{
    if ((n + 1) * 2 <= cap)
        return cap;
    return cap ? cap * 2 : first;
}
