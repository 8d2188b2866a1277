/* Freeing a struct's owned pointers in one call. A destructor that owns
 * several strings names them once, `CWX_FREE_ALL(s->profile, s->region,
 * s->role);`, instead of one free() a line. Memory that may hold a secret
 * goes through common/secret.h instead. */
#ifndef CWX_COMMON_MEM_H
#define CWX_COMMON_MEM_H

#include <stddef.h>
#include <stdlib.h>

/* Frees each of the n pointers of ptrs; NULL ones are fine. The array itself
 * is the caller's. */
static inline void cwx_free_all(void *const *ptrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ptrs[i]);
}

/* Frees every argument (object pointers, any of them NULL). The arguments
 * become a compound-literal array of pointers; sizeof does not evaluate its
 * operand, so each argument is evaluated once. */
#define CWX_FREE_ALL(...)                                                                      \
    cwx_free_all((void *[]){__VA_ARGS__}, sizeof((void *[]){__VA_ARGS__}) / sizeof(void *))

#endif
