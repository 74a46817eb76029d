/* fileio.c — regular-file-only reading, and write-then-rename so results and parameter files are never half-written. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

static const char *file_type_name(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

cnn_status cnn_open_regular(const char *path, const char *what, int *fd)
{
    if (!*path)
        return cnn_fail(CNN_E_ARG, "an empty file name where %s was expected", what);
    int d = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (d < 0)
        return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(d, &st) != 0) {
        int e = errno;
        close(d);
        return cnn_fail(CNN_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(d);
        return cnn_fail(CNN_E_IO, "%s: is %s, expected %s (a regular file)", path,
                        file_type_name(st.st_mode), what);
    }
    int flags = fcntl(d, F_GETFL);
    if (flags < 0 || fcntl(d, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(d);
        return cnn_fail(CNN_E_IO, "%s: cannot make the descriptor blocking: %s", path, strerror(e));
    }
    *fd = d;
    return CNN_OK;
}

cnn_status cnn_fopen_regular(const char *path, const char *what, FILE **fp)
{
    int fd;
    CNN_TRY(cnn_open_regular(path, what, &fd));
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path, strerror(e));
    }
    *fp = f;
    return CNN_OK;
}

cnn_status cnn_atomic_open(struct cnn_atomic_file *f, const char *path)
{
    f->fp = NULL;
    f->path[0] = f->tmp[0] = '\0';
    /* an empty name would make the temporary ".tmp.<pid>" in the working
     * directory and fail only at the rename, after all the work */
    if (!*path)
        return cnn_fail(CNN_E_ARG, "an empty output file name");
    if ((size_t)snprintf(f->path, sizeof f->path, "%s", path) >= sizeof f->path ||
        (size_t)snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof f->tmp)
        return cnn_fail(CNN_E_ARG, "%s: path too long", path);
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp)
        return cnn_fail(CNN_E_IO, "%s: cannot create: %s", f->path, strerror(errno));
    return CNN_OK;
}

cnn_status cnn_atomic_finish(struct cnn_atomic_file *f)
{
    int failed = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    int saved = errno;
    if (fclose(f->fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    f->fp = NULL;
    if (failed) {
        remove(f->tmp);
        return cnn_fail(CNN_E_IO, "%s: write failed: %s", f->path, strerror(saved));
    }
    return CNN_OK;
}

cnn_status cnn_atomic_publish(struct cnn_atomic_file *f)
{
    if (rename(f->tmp, f->path) != 0) {
        int saved = errno;
        remove(f->tmp);
        return cnn_fail(CNN_E_IO, "%s: cannot replace: %s", f->path, strerror(saved));
    }
    return CNN_OK;
}

cnn_status cnn_atomic_commit(struct cnn_atomic_file *f)
{
    CNN_TRY(cnn_atomic_finish(f));
    return cnn_atomic_publish(f);
}

void cnn_atomic_abort(struct cnn_atomic_file *f)
{
    if (f->fp)
        fclose(f->fp);
    f->fp = NULL;
    remove(f->tmp);
}
