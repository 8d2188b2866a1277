#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"

int cwx_file_write_atomic(const char *path, const void *data, size_t len, int mode, char *why,
                          size_t why_size)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return CWX_ENOMEM;
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        snprintf(why, why_size, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return CWX_EIO;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(why, why_size, "cannot write %s: %s", tmp, strerror(errno));
            rc = CWX_EIO;
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd) != 0) {
        snprintf(why, why_size, "cannot write %s: %s", tmp, strerror(errno));
        rc = CWX_EIO;
    }
    close(fd);
    if (!rc && rename(tmp, path) != 0) {
        snprintf(why, why_size, "cannot replace %s: %s", path, strerror(errno));
        rc = CWX_EIO;
    }
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}
