#include "common/array.h"

#include <stdint.h>
#include <stdlib.h>

void *cwx_array_grow(void *items, size_t *cap, size_t size, size_t first)
{
    size_t n = *cap ? *cap : first;
    if (*cap && n > SIZE_MAX / 2)
        return NULL;
    if (*cap)
        n *= 2;
    if (!size || n > SIZE_MAX / size)
        return NULL;
    void *grown = realloc(items, n * size);
    if (grown)
        *cap = n;
    return grown;
}
