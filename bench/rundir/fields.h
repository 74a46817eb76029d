/*
 * fields.h — strict reading of the fields of cnnbench's own result files
 * (summary.csv, steps.csv, evals.csv, showcase/). A results directory is
 * input like any other: it may be truncated, edited or crafted, and its
 * names end up in gnuplot scripts and file names (plots/render.sh). So a
 * field is accepted only in the form cnnbench itself writes — a number that
 * parses whole and is finite, within the range the command line allows; a
 * name of [a-z0-9_]; a word from a known list; text of bounded
 * length — and anything else fails with CNN_E_DATA and a message naming the
 * file, line and column: "PATH: line 3, column 2 (impl): ...".
 */
#ifndef BENCH_FIELDS_H
#define BENCH_FIELDS_H

#include <stddef.h>

#include "cnn.h"

/* The largest magnitude a number field may have: far beyond any time,
 * loss or count cnnbench measures, and small enough that the arithmetic of
 * the charts (ratios, margins) stays finite. */
#define FIELD_MAX_NUMBER 1e15

/* Where a field sits in its file; line and column count from 1. */
struct field_pos {
    const char *path;
    long line;
    int column;
    const char *name; /* the column's header name */
};

/* Records "PATH: line L, column C (NAME): <message>" and returns CNN_E_DATA. */
cnn_status field_fail(const struct field_pos *at, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A decimal integer ("-12", no spaces, signs only where lo < 0) in [lo, hi]. */
cnn_status field_long(const struct field_pos *at, const char *text, long lo, long hi,
                      long *out);
cnn_status field_int(const struct field_pos *at, const char *text, int lo, int hi, int *out);
/* A finite decimal number (as "%.9g" writes it: no nan, inf or hex) in
 * [lo, hi]. An empty field means "does not apply": NaN where empty_ok,
 * an error otherwise. */
cnn_status field_double(const struct field_pos *at, const char *text, double lo, double hi,
                        int empty_ok, double *out);
/* A name as cnnbench writes backend names: [a-z][a-z0-9_]*, shorter than len
 * bytes. Safe in a file name, a shell word and a gnuplot string. */
cnn_status field_name(const struct field_pos *at, const char *text, char *out, size_t len);

/* Whether s is printable text: no control characters (bytes below 0x20, DEL). */
int field_is_printable(const char *s);

#endif
