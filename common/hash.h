/* The hash and the probing of cwexport's open-addressing tables: FNV-1a
 * (seeded with a small tag, such as a target index, so that one table can
 * hold the same string under several tags), and linear probing over a
 * power-of-two number of slots kept at most half full. Each table keeps
 * its own slots (what a slot holds differs from table to table); this is
 * the one place that says how a key becomes a slot. */
#ifndef CWX_COMMON_HASH_H
#define CWX_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over the len bytes at p, seeded with tag, with the high bits
 * folded into the low ones (a table indexes by the low bits). */
uint64_t cwx_hash_bytes(const void *p, size_t len, uint32_t tag);

/* cwx_hash_bytes of the NUL-terminated string s (without the NUL). */
uint64_t cwx_hash_str(const char *s, uint32_t tag);

/* The first slot to look at for hash h in a table of cap slots (a power of
 * two). */
static inline size_t cwx_hash_start(uint64_t h, size_t cap)
{
    return (size_t)h & (cap - 1);
}

/* The slot after slot i (linear probing, wrapping around). */
static inline size_t cwx_hash_next(size_t i, size_t cap)
{
    return (i + 1) & (cap - 1);
}

/* The number of slots a table of cap slots holding n entries needs before
 * it takes one more, at most half full: cap when it has room, else twice
 * cap (first when cap is 0; a power of two). */
size_t cwx_hash_capacity(size_t n, size_t cap, size_t first);

#endif
