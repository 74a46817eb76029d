/*
 * fileio.h — atomic file replacement: write NAME.tmp.<pid> in the same
 * directory, flush, fsync, rename over NAME. Readers see the old file or the
 * new one, never half of either; a failed write (disk full) leaves the old
 * file in place.
 */
#ifndef CNN_FILEIO_H
#define CNN_FILEIO_H

#include <stdio.h>

#include "cnn.h"

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
