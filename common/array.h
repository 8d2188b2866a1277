/* Growing a heap array by doubling: the one place that computes the new
 * size (and refuses one that would overflow). */
#ifndef CWX_COMMON_ARRAY_H
#define CWX_COMMON_ARRAY_H

#include <stddef.h>

/* Reallocates items (an array of *cap elements of size bytes, or NULL when
 * *cap is 0) to twice *cap elements, or first elements when *cap is 0, and
 * sets *cap. Returns the new array, which the caller owns in place of
 * items; NULL when out of memory or when the size would overflow, items
 * then untouched. */
void *cwx_array_grow(void *items, size_t *cap, size_t size, size_t first);

#endif
