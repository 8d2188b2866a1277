/* Arrays that grow by doubling. */
#ifndef CWX_COMMON_GROW_H
#define CWX_COMMON_GROW_H

#include <stddef.h>
#include <stdlib.h>

/* Room for one more item in items (n used, *cap allocated, each size bytes):
 * returns items itself while n < *cap; else a copy twice as large (first
 * items when *cap is 0) made by realloc, with *cap updated, or NULL when out
 * of memory (items and *cap are unchanged then). The caller stores the
 * result back. */
static inline void *cwx_grow(void *items, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return items;
    size_t want = *cap ? *cap * 2 : first;
    void *p = realloc(items, want * size);
    if (p)
        *cap = want;
    return p;
}

#endif
