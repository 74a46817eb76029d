/*
 * csvout.h — the tidy CSV files of a run (schema in results/README.md):
 *
 *   steps.csv  one row per configuration x timed step x region, plus a row
 *              with region "step" for the whole step; loss and batch
 *              accuracy repeat on each row of a step so every row stands
 *              alone;
 *   evals.csv  one row per test-set evaluation.
 *
 * The gpus column came last, after the files had readers: columns are found
 * by name, and a file written before it still reads (gpus 0).
 *
 * Fields never contain commas or quotes (free text is sanitised), so a line
 * splits on ',' alone: awk -F, and gnuplot read it as is. Numbers use %.9g;
 * a value that does not apply is an empty field.
 */
#ifndef BENCH_CSVOUT_H
#define BENCH_CSVOUT_H

#include <stdint.h>
#include <stdio.h>

#include "fileio.h"
#include "run.h"

#define CSV_STEPS_HEADER                                                                    \
    "config_key,impl,variant,threads,batch,filters,rep,step,region,time_ms,loss,"          \
    "batch_accuracy_pct,timer,gpus"
#define CSV_EVALS_HEADER                                                                    \
    "config_key,impl,variant,threads,batch,filters,rep,step,test_accuracy_pct,test_images," \
    "eval_ms,gpus"

/* The identifying columns shared by every row of one configuration. */
struct csv_config {
    const char *key;
    const char *impl;
    int variant, threads, batch, filters, rep;
    const char *timer; /* "wall" or "cuda_event" */
    int gpus;          /* 0: one GPU (or none); N >= 1: data-parallel over N */
};

/* Rows of one timed step (1-based), each flushed. Returns the number of rows
 * written, or -1 on a write error (errno set). */
int csv_write_step_rows(FILE *fp, const struct csv_config *c, long step,
                        const struct run_step *rec);
int csv_write_eval_row(FILE *fp, const struct csv_config *c, const struct run_eval *e,
                       uint32_t test_images);

/* "%.9g", or an empty string for NaN. */
void csv_format_number(char *buf, size_t len, double v);
/* Replaces characters that would break a CSV field (',', '"', newlines) in place. */
void csv_sanitise(char *s);
/* Splits a line in place on ','; strips the line end. Returns the field count. */
int csv_split(char *line, char **fields, int max);
/* Index of name among header fields, or -1. */
int csv_find_column(char *const *header, int n, const char *name);

/*
 * An output file the user named (train --csv). It is replaced atomically
 * (fileio.h) when it is, or will be, a regular file; a symbolic link to a
 * regular file keeps the link and replaces its target. A path that already
 * exists as something else (a FIFO, /dev/stdout, a link to a device) is
 * written through: renaming over it would replace the special file instead
 * of writing to it, and a write error there (ENOSPC) must be reported.
 */
struct csv_output {
    struct cnn_atomic_file atomic;
    FILE *fp;      /* where to write: the temporary file, or the path itself */
    int direct;    /* 1: written through */
    char path[4096];
};

/* Opens before any work, so an unwritable destination fails early. */
cnn_status csv_output_open(struct csv_output *o, const char *path);
/* Flushes and, for a regular file, renames into place. */
cnn_status csv_output_commit(struct csv_output *o);
void csv_output_abort(struct csv_output *o);

/* Reads a whole text file into a NUL-terminated malloc'd buffer. */
cnn_status csv_read_file(const char *path, char **text, size_t *len);

#endif
