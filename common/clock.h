/* The wall clock, read in one place. Code that needs a testable clock takes
 * it injected (the signer, the worker's ops); this is what production passes. */
#ifndef CWX_COMMON_CLOCK_H
#define CWX_COMMON_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t cwx_wall_ms(void);

#endif
