/*
 * runfile.h — the one reader of a run directory's files: steps.csv,
 * evals.csv, summary.csv, kernels.csv, the showcase's CSV files and
 * meta.json. Every command that reads a run (sweep --resume, compare,
 * plotdata, report) reads it here, so a file is found, decompressed, checked
 * to be text and cut into RFC 4180 records (csvout.h) one way.
 *
 * A run directory is input like any other (fields.h): truncated, edited or
 * crafted. What differs between readers is only what they can forgive and
 * whom they tell, so both are options (struct runfile_rules) rather than
 * separate readers:
 *   - a chart reader (plotdata, report, summary_read) drops a last record
 *     that a crash cut off, and names damage as fields.h names a bad field;
 *   - compare refuses the cut-off record, since the rows it would lose are
 *     samples and a gate fed part of a run must not say SAME;
 *   - a resume drops the cut-off record too, but names byte offsets, by
 *     which a damaged file is repaired by hand.
 */
#ifndef BENCH_RUNFILE_H
#define BENCH_RUNFILE_H

#include <stddef.h>

#include "cnn.h"
#include "csvout.h"

/* Far more columns than any file of a run has: a header with more is not
 * one of cnnbench's. */
#define RUNFILE_MAX_COLUMNS 128

/* How damage is worded, by audience (see above). */
enum runfile_voice {
    RUNFILE_FIELDS,  /* "PATH: line L: ...", as fields.h words a bad field */
    RUNFILE_SAMPLES, /* compare: every row is a sample */
    RUNFILE_DAMAGE,  /* sweep --resume: line and byte offset of the damage */
};

struct runfile_rules {
    enum runfile_voice voice;
    int gz;            /* read DIR/NAME.gz where DIR/NAME is missing (published
                          runs keep their large CSV files gzipped) */
    int whole;         /* a last record cut off mid-write is an error, not dropped */
    size_t max_record; /* longer records (in bytes) are refused; 0: any length */
};

/* An open CSV file of a run: its text, split in place record by record, so
 * the fields of every record read stay valid until runfile_close. */
struct runfile {
    char path[4200];        /* the file read: DIR/NAME or DIR/NAME.gz */
    struct runfile_rules rules;
    char *text;
    size_t len;
    struct csv_records records;
    long line;              /* line on which the current record starts, from 1 */
    size_t offset;          /* byte offset of the current record */
    int cut;                /* 1 once a last record cut off mid-write was dropped */
    int columns;            /* fields of the header, and so of every record */
    char *header[RUNFILE_MAX_COLUMNS + 1];
    char *field[RUNFILE_MAX_COLUMNS + 1]; /* the current record's fields */
};

/* path into out, or path.gz where only that exists. 0 if the file named in
 * out exists, -1 if neither does (out then names path). */
int runfile_locate(char *out, size_t len, const char *path);

/* Reads a whole file into a NUL-terminated malloc'd buffer, *len bytes
 * (len may be NULL). A gzip file is decompressed on the way: zlib reads a
 * plain file as it is. A FIFO or device is refused, never opened. */
cnn_status runfile_read_text(const char *path, char **text, size_t *len);

/* runfile_read_text, then checked to be text as the voice says: not empty
 * and without NUL bytes. On failure *text is NULL. */
cnn_status runfile_load(const char *path, enum runfile_voice voice, char **text, size_t *len);

/* Opens a CSV file (path itself; with rules->gz, path.gz where path is
 * missing), reads it whole and reads its header record into f->header
 * and f->columns. On failure nothing stays allocated. */
cnn_status runfile_open(struct runfile *f, const char *path, const struct runfile_rules *rules);
/* The next data record into f->field, f->columns fields, with *more = 1;
 * *more = 0 at the end (and f->cut = 1 if a cut-off last record was
 * dropped). Fails naming the line when the record is not the header's
 * width, its quoting is broken, or the rules refuse it. */
cnn_status runfile_next(struct runfile *f, int *more);
/* Index of a header field, or -1. */
int runfile_column(const struct runfile *f, const char *name);
void runfile_close(struct runfile *f);

#endif
