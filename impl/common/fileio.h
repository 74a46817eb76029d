/*
 * fileio.h — the two rules every file cnnbench touches follows:
 *
 * Writing: atomic replacement. Write NAME.tmp.<pid> in the same directory,
 * flush, fsync, rename over NAME. Readers see the old file or the new one,
 * never half of either; a failed write (disk full) leaves the old file in
 * place. Messages name NAME, the file the user asked for, never the
 * temporary.
 *
 * Reading: regular files only. An input (data set, .npy, CSV, meta.json)
 * that is a FIFO would block open() until some writer appears, and a device
 * such as /dev/zero never ends; both are refused at once.
 */
#ifndef CNN_FILEIO_H
#define CNN_FILEIO_H

#include <stdio.h>

#include "cnn.h"

/* Opens path for reading, read-only, close-on-exec, if it is a regular file.
 * `what` says what was expected ("an IDX file") for the message. The open is
 * non-blocking, so a FIFO without a writer returns at once, and the type is
 * checked on the open descriptor (fstat), so no rename between a check and
 * the open can slip another file in; the descriptor is then made blocking
 * again. CNN_E_IO naming the path and its type otherwise. */
cnn_status cnn_open_regular(const char *path, const char *what, int *fd);
/* The same as a FILE opened "rb". */
cnn_status cnn_fopen_regular(const char *path, const char *what, FILE **fp);

struct cnn_atomic_file {
    FILE *fp;
    char path[4096];
    char tmp[4096];
};

cnn_status cnn_atomic_open(struct cnn_atomic_file *f, const char *path);
/* Flushes, fsyncs and renames; on any error removes the temporary file. */
cnn_status cnn_atomic_commit(struct cnn_atomic_file *f);
/* The two halves of commit, for a set of files replaced together: finish
 * every file first (flush, fsync, close; removes the temporary on error),
 * then publish each (rename). */
cnn_status cnn_atomic_finish(struct cnn_atomic_file *f);
cnn_status cnn_atomic_publish(struct cnn_atomic_file *f);
/* Abandons the write, removing the temporary file. */
void cnn_atomic_abort(struct cnn_atomic_file *f);

#endif
