/* Shared inside workers/: helpers of the AWS operations table. */
#ifndef CWX_WORKERS_WORKERS_INTERNAL_H
#define CWX_WORKERS_WORKERS_INTERNAL_H

#include <stddef.h>

/* The object CloudWatch Logs writes to check its permission on the bucket. */
#define CWX__WRITE_TEST "aws-logs-write-test"

/* 1 when key (under a data prefix) is CloudWatch Logs' permission probe,
 * i.e. its last path segment is "aws-logs-write-test". */
int cwx__is_write_test(const char *key);

/* ISO-8601 UTC "2024-03-01T00:00:00.000Z" of epoch ms into out (≥ 25 bytes). */
void cwx__iso_ms(long long ms, char *out, size_t size);

#endif
