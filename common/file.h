/* Small file helpers shared by the modules. */
#ifndef CWX_COMMON_FILE_H
#define CWX_COMMON_FILE_H

#include <stddef.h>

/* Replaces path with data atomically: writes a temporary file next to it
 * (path.tmp-<pid>, created with mode), fsyncs it and renames it over path,
 * so a reader sees the old content or the new, whole. Returns 0, or CWX_EIO
 * with the file and the reason in why (the temporary file is removed). */
int cwx_file_write_atomic(const char *path, const void *data, size_t len, int mode, char *why,
                          size_t why_size);

#endif
