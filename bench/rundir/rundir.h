/*
 * rundir.h — the run directory of `cnnbench sweep` (results/README.md) and
 * the rules that keep its results from being lost, mixed or half-made:
 *
 *   - one writer at a time: the writer holds an exclusive flock(2) on
 *     DIR/.lock for as long as it runs, with its pid and host written in
 *     the file. A second sweep or --resume of the same directory is refused
 *     at once, naming them, instead of renaming files under the first. The
 *     writer removes the lock file when it ends; one killed with SIGKILL
 *     leaves it behind, unlocked, and the next writer takes it over;
 *   - created whole: a new run is built as a hidden directory beside its
 *     final name (.NAME.incomplete.XXXXXX) and renamed into place once
 *     meta.json and the CSV headers are on disk, so a run directory holds a
 *     whole run or does not exist, and a failure (a full disk) removes what
 *     it made;
 *   - read whole: --resume reads each CSV completely and refuses one it
 *     cannot read (a NUL byte, a line with the wrong number of fields,
 *     broken quoting), naming the file, line and byte offset, rather than
 *     keep the rows before the damage. Only a last line without a newline,
 *     a write a crash cut off, is dropped.
 */
#ifndef BENCH_RUNDIR_H
#define BENCH_RUNDIR_H

#include <stddef.h>
#include <stdio.h>

#include "cnn.h"
#include "fileio.h"
#include "runfile.h"

struct run_dir {
    char path[4096];  /* the run; while it is being created, the hidden directory */
    char final[4096]; /* while it is being created: the name it will get */
    int lock_fd;      /* the held lock, or -1 */
    FILE *steps;      /* steps.csv, appending */
    FILE *evals;      /* evals.csv, appending */
};

void rundir_init(struct run_dir *d);
/* "DIR/NAME" */
void rundir_path(char *buf, size_t len, const char *dir, const char *name);

/* Locks an existing run directory (--resume). Fails naming the pid and host
 * of the process that holds it. */
cnn_status rundir_lock(struct run_dir *d, const char *path);

/* Starts a new run at path, which must not exist: creates the missing
 * parents and the hidden directory, locks it and writes the headers of
 * steps.csv and evals.csv (opened for appending). d->path names the hidden
 * directory until rundir_publish, so the caller writes the rest of the
 * run's first files there. */
cnn_status rundir_create(struct run_dir *d, const char *path, const char *steps_header,
                         const char *evals_header);
/* Syncs what was written and renames the directory to its final name. */
cnn_status rundir_publish(struct run_dir *d);

/* Closes the CSV files, removes a directory whose creation did not finish,
 * and releases the lock. */
void rundir_close(struct run_dir *d);

/* fflush + fsync: a finished configuration survives a crash or power loss.
 * 0, or -1 with errno set. */
int rundir_sync(FILE *fp);

/* Opens DIR/NAME for --resume (runfile.h): a NUL byte, a missing header or
 * a record of another width is refused naming the line and byte offset; a
 * last line without newline (a write cut off by a crash) is dropped. */
cnn_status rundir_open_csv(const char *dir, const char *name, struct runfile *f);

/*
 * Writes the header and the records of DIR/NAME whose first field satisfies
 * keep(ctx, key), without a last line a crash cut off, to a temporary file
 * beside it, finished (flushed, fsynced, closed) but not yet in place.
 * Publish with cnn_atomic_publish, or cnn_atomic_abort to leave the file as
 * it was.
 */
cnn_status rundir_prune_csv(const char *dir, const char *name,
                            int (*keep)(void *ctx, const char *key), void *ctx,
                            struct cnn_atomic_file *out);

#endif
