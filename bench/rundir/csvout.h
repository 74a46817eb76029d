/*
 * csvout.h — the tidy CSV files of a run (schema in results/README.md):
 *
 *   steps.csv  one row per configuration x timed step x region, plus a row
 *              with region "step" for the whole step; loss and batch
 *              accuracy repeat on each row of a step so every row stands
 *              alone;
 *   evals.csv  one row per test-set evaluation.
 *
 * The gpus and ranks columns came last, after the files had readers: columns
 * are found by name, and a file written before them still reads (gpus 0,
 * ranks 1).
 *
 * Quoting follows RFC 4180: a field holding a comma, a double quote, CR or
 * LF is written in double quotes with its quotes doubled, so free text (the
 * message of a failed configuration) keeps its commas, quotes and line
 * breaks. Only such text ever needs it: identifiers and numbers never do, so
 * steps.csv and evals.csv still split on ',' alone (awk -F, reads them).
 * Numbers use %.9g; a value that does not apply is an empty field.
 */
#ifndef BENCH_CSVOUT_H
#define BENCH_CSVOUT_H

#include <stdint.h>
#include <stdio.h>

#include "fileio.h"
#include "plan.h"
#include "run.h"

#define CSV_STEPS_HEADER                                                                    \
    "config_key,impl,variant,threads,batch,filters,rep,step,region,time_ms,loss,"          \
    "batch_accuracy_pct,timer,gpus,ranks"
#define CSV_EVALS_HEADER                                                                    \
    "config_key,impl,variant,threads,batch,filters,rep,step,test_accuracy_pct,test_images," \
    "eval_ms,gpus,ranks"

/* The ranks column of c: its process count, 1 where it was left 0. */
int csv_ranks(const struct plan_config *c);

/* Rows of one timed step (1-based) of configuration c, each flushed; c
 * gives the identifying columns every row of it repeats, timer how it was
 * timed (run_timer_name). Returns the number of rows written, or -1 on a
 * write error (errno set). */
int csv_write_step_rows(FILE *fp, const struct plan_config *c, const char *timer, long step,
                        const struct run_step *rec);
int csv_write_eval_row(FILE *fp, const struct plan_config *c, const struct run_eval *e,
                       uint32_t test_images);

/* "%.9g", or an empty string for NaN. */
void csv_format_number(char *buf, size_t len, double v);
/* Writes s as one field, quoted where RFC 4180 needs it. Returns < 0 on a
 * write error. */
int csv_write_field(FILE *fp, const char *s);

/*
 * RFC 4180 read back: a text held in memory is cut into records, then each
 * record into fields, both in place. The files of a run are read through
 * runfile.h, which uses these.
 */
struct csv_records {
    char *pos, *end;
    long line;      /* line on which the record last returned starts, from 1 */
    long next_line;
};
void csv_records_init(struct csv_records *r, char *text, size_t len);
/* The next record into *record: NUL-terminated in place, without its line
 * end (LF or CRLF); a line break inside quotes belongs to the record.
 * Returns 1 for a record, 0 at the end of the text, and -1 when the text
 * ends inside a record (no final line end, or a quote left open): a file
 * cut off mid-write. */
int csv_records_next(struct csv_records *r, char **record);
/* Splits one record in place into fields, removing the quotes of quoted
 * fields and undoubling their quotes; strips a trailing line end. Stores at
 * most max fields and returns how many it stored (so max + 1 slots detect a
 * record that has too many), or -1 for broken quoting: a quote inside an
 * unquoted field, text after a closing quote, or a quote never closed. */
int csv_split(char *record, char **fields, int max);
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

#endif
