#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/mem.h"

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

static void s_free(struct cwx_file_atomic *a)
{
    CWX_FREE_ALL(a->tmp, a->path);
    a->tmp = a->path = NULL;
    a->f = NULL;
}

int cwx_file_atomic_open(struct cwx_file_atomic *a, const char *path, mode_t mode)
{
    memset(a, 0, sizeof(*a));
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path);
    a->path = strdup(path);
    a->tmp = malloc(n + 9);
    if (!a->path || !a->tmp) {
        s_free(a);
        errno = ENOMEM;
        return CWX_EIO;
    }
    /* dir + "." + name + ".XXXXXX" */
    memcpy(a->tmp, path, dir);
    a->tmp[dir] = '.';
    memcpy(a->tmp + dir + 1, path + dir, n - dir);
    memcpy(a->tmp + n + 1, ".XXXXXX", 8);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        s_free(a);
        return CWX_EIO;
    }
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        s_free(a);
        errno = e;
        return CWX_EIO;
    }
    a->mode = mode;
    return 0;
}

int cwx_file_atomic_commit(struct cwx_file_atomic *a)
{
    int ok = fflush(a->f) == 0 && !ferror(a->f) && fchmod(fileno(a->f), a->mode) == 0 &&
             fsync(fileno(a->f)) == 0;
    int e = errno;
    if (fclose(a->f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(a->tmp, a->path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok)
        unlink(a->tmp);
    s_free(a);
    errno = e;
    return ok ? 0 : CWX_EIO;
}

void cwx_file_atomic_abort(struct cwx_file_atomic *a)
{
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp);
    }
    s_free(a);
}
