/* Small file helpers shared by the modules. */
#ifndef CWX_COMMON_FILE_H
#define CWX_COMMON_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Replaces path with data atomically: writes a temporary file next to it
 * (path.tmp-<pid>, created with mode), fsyncs it and renames it over path,
 * so a reader sees the old content or the new, whole. Returns 0, or CWX_EIO
 * with the file and the reason in why (the temporary file is removed). */
int cwx_file_write_atomic(const char *path, const void *data, size_t len, int mode, char *why,
                          size_t why_size);

/* A file being written to a temporary name in the directory of `path`
 * (".<name>.XXXXXX"), so that a crash or a failed write leaves whatever was
 * at `path` before untouched. */
struct cwx_file_atomic {
    FILE *f;    /* write here */
    char *tmp;  /* the temporary name */
    char *path; /* the final name */
    mode_t mode;
};

/* Opens the temporary file; mode is what the file gets once committed
 * (0644 for reports, 0600 for private ones). 0 or CWX_EIO (errno set). */
int cwx_file_atomic_open(struct cwx_file_atomic *a, const char *path, mode_t mode);
/* Flushes, syncs and renames the file over `path`. On any failure the
 * temporary file is removed and `path` is left as it was: CWX_EIO (errno
 * set). Frees a either way. */
int cwx_file_atomic_commit(struct cwx_file_atomic *a);
/* Removes the temporary file and frees a. */
void cwx_file_atomic_abort(struct cwx_file_atomic *a);

#endif
