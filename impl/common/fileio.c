/* fileio.c — write-then-rename, so results and parameter files are never half-written. */
#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

cnn_status cnn_atomic_open(struct cnn_atomic_file *f, const char *path)
{
    f->fp = NULL;
    if ((size_t)snprintf(f->path, sizeof f->path, "%s", path) >= sizeof f->path ||
        (size_t)snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof f->tmp)
        return cnn_fail(CNN_E_ARG, "%s: path too long", path);
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp)
        return cnn_fail(CNN_E_IO, "%s: cannot create: %s", f->tmp, strerror(errno));
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
