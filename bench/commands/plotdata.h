/*
 * plotdata.h — the parts of `cnnbench plotdata` and the state they share
 * (internal to the command):
 *   plotdata.c           the command: reads the run, writes every table;
 *   plotdata_model.c     summary rows pooled into labels (curves) and cells;
 *   plotdata_info.c      plotinfo.gp (sizes, axes, ticks) and table files;
 *   plotdata_tables.c    the tables drawn from the cells: speedups, GPUs,
 *                        step time vs parameters, where the time goes;
 *   plotdata_series.c    per-step series from steps.csv and evals.csv;
 *   plotdata_roofline.c  the roofline and energy tables;
 *   plotdata_showcase.c  the showcase's filters and feature maps as tiles.
 */
#ifndef BENCH_PLOTDATA_H
#define BENCH_PLOTDATA_H

#include <math.h>
#include <stdio.h>

#include "cnn.h"
#include "fileio.h"
#include "summary.h"

enum {
    PD_LABEL = 64,
    PD_PATH = 4200,
    PD_MAX_CURVES = 16, /* curves (or bars) one chart draws: more are unreadable */
    PD_MAX_PANELS = 4,  /* panels of the speedup vs threads chart */
    PD_MAX_TICKS = 12,  /* data values labelled on an axis; more crowd it */
};

/* One curve: a backend at a thread count, variant, GPU count and rank count. */
struct label {
    char name[PD_LABEL];                /* "omp t2", "cuda v3 g4", "omp t1 np4" */
    const struct summary_row *like;     /* a row of it: impl, variant, threads, gpus, ranks */
    int rank;                           /* the impl's place in the run's order */
    int first_cell, n_cells;            /* its cells, by (batch, filters) */
};

/* The pooled figures of one label at one (batch, filters). */
struct cell {
    int label, batch, filters;
    int first, count;                   /* its rows: pd->cell_rows[first .. first+count) */
    double median, q1, q3;              /* medians over the rows */
    double region[CNN_REGION_COUNT];    /* medians; NaN where no row has the region */
    int unstable;                       /* any of its rows unstable */
};

struct pd {
    const char *run;
    char data_dir[4096];
    struct summary_row *rows; /* status ok only */
    int n;
    struct label *labels;
    int n_labels;
    struct cell *cells;       /* sorted by (label, batch, filters) */
    int n_cells;
    int *cell_rows;           /* row indices, grouped by cell */
    int reference;            /* the reference backend's label (CNN_CAP_REFERENCE), or -1 */
    FILE *info;               /* plotinfo.gp being written */
};

/* A sort record: up to seven keys compared in order, then the index. */
struct ref {
    long k[7];
    int idx;
};

/* Tracks the smallest and largest positive finite values seen. */
struct range {
    double lo, hi;
};

static const struct range range_empty = {INFINITY, 0};

/* plotdata_model.c */
int pd_ref_cmp(const void *a, const void *b);
int pd_same_keys(const struct ref *a, const struct ref *b, int n);
struct ref *pd_refs_alloc(int n);
/* Sorts the rows once by (impl rank, threads, variant, GPUs, ranks, batch,
 * filters): runs of the first five keys are the labels, in the order the
 * charts list them (backends as the run lists them, then thread count,
 * variant, GPUs, ranks), and runs of all seven are the cells. */
cnn_status pd_build_cells(struct pd *pd, const char *path);
/* Whether a row is flagged in summary.csv's unstable column. The column is
 * derived when the file is written, so it is derived again here, by the
 * writer's own rule. */
int pd_row_unstable(const struct summary_row *r);
void pd_label_of(const struct summary_row *r, char *buf, size_t len);
/* The cell of (label, batch, filters), or NULL. */
const struct cell *pd_cell_at(const struct pd *pd, int label, int batch, int filters);
const struct summary_row *pd_label_row(const struct pd *pd, int label);

/* plotdata_info.c */
void pd_info_int(const struct pd *pd, const char *name, long v);
/* A gnuplot single-quoted string: no escapes and, unlike a double-quoted
 * one, no `command` substitution; a quote is doubled. Every value written
 * was checked to be printable (a newline would end the assignment). */
void pd_info_str(const struct pd *pd, const char *name, const char *value);
/* A linear axis over [lo, hi] with a margin, never of zero width (one
 * point, or curves that all sit on one value), clipped to [floor, ceil];
 * [floor, floor + 1] without data. */
void pd_info_linear_axis(const struct pd *pd, const char *name, double lo, double hi,
                         double floor_v, double ceil_v);
/* " (16 of 20 curves shown)" when a chart shows fewer than it could. */
void pd_info_note(const struct pd *pd, const char *name, int shown, int total,
                  const char *what);
/* Ticks of a log axis over the data range [lo, hi]: 1-2-5 style steps in
 * each decade, finer when the range is narrow, and at least two inside the
 * range (widened to the ticks around it if need be). gnuplot's own log ticks
 * are whole decades or powers of two, which label a narrow range once or not
 * at all, or as 0.00390625. Writes NAME_min, NAME_max and the ticks. */
void pd_info_log_axis(const struct pd *pd, const char *name, double lo, double hi);
void pd_range_add(struct range *r, double v);
/* NAME = 'v1 v2 ...': positions the scripts put ticks at (gnuplot's words()). */
void pd_info_values(const struct pd *pd, const char *name, const long *v, int n);
cnn_status pd_open_table(const struct pd *pd, const char *name, struct cnn_atomic_file *f);
/* Keeps a table that has something to draw, else removes it. */
cnn_status pd_close_table(struct cnn_atomic_file *f, int blocks);
/* render.sh draws the charts whose tables exist: a table this run has
 * nothing for must not be one an earlier run of plotdata left. */
cnn_status pd_remove_stale(const char *path);
/* Distinct values among v[0..n), sorted, in place; returns their count. */
int pd_distinct(long *v, int n);
/* A log axis through the data values v[0..n) (sorted and made distinct in
 * place): a tick at each value when they are few enough to label, with
 * NAME_min and NAME_max a little outside them; else the 1-2-5 ticks of
 * info_log_axis over their range. Returns whether each value is a tick. */
int pd_info_data_axis(const struct pd *pd, const char *name, long *v, int n);
/* What a chart of curves over data values needs, as PREFIX_blocks,
 * PREFIX_note (" (shown of curves curves shown)"), PREFIX_x (the data axis
 * through ticks[0..n_ticks), sorted in place), PREFIX_y (a log axis over y)
 * and PREFIX_unstable. */
void pd_info_curves(const struct pd *pd, const char *prefix, int blocks, int curves,
                    long *ticks, int n_ticks, struct range y, int unstable);
/* A speedup's IQR bar: low = base / q3, high = base / q1 (a zero quartile
 * gives no bar rather than an infinite one). */
double pd_speedup_bar(double base, double q, double median);
/* Ends a gnuplot data block: two blank lines. */
void pd_end_block(FILE *fp);

/* plotdata_tables.c */
/* speedup vs threads: a panel per family (impl, variant, GPUs) with a
 * thread sweep in one process, a curve per (batch, filters) it ran at 1 thread and at
 * more, each point relative to the same size at 1 thread. */
cnn_status pd_table_threads(struct pd *pd);
/* images/s vs GPUs at one filter count: a block per (impl, variant,
 * threads, batch) with at least two GPU counts, each point with the ideal
 * N x images/s on one GPU (gpus 1, else the plain path drawn at N = 1). */
cnn_status pd_table_gpus(struct pd *pd);
/* speedup vs seq along one size (which: 1 = filters at a fixed batch, 0 =
 * batch at fixed filters), one block per non-seq label, at the fixed size
 * with the most points that have both seq and another backend. */
cnn_status pd_table_speedup_size(struct pd *pd, int which);
/* step time vs parameter count at the batch with the most filter counts,
 * ticks at the parameter counts run (labelled with their F). */
cnn_status pd_table_time_params(struct pd *pd);
/* The (batch, filters) that the most backends ran, then the most labels;
 * ties to the larger size. -1, -1 for a run without any. */
cnn_status pd_busiest_size(const struct pd *pd, int *batch, int *filters);
/* Stacked per-region shares at the busiest size, one bar per label; an
 * unstable configuration's bar label ends in '*'. */
cnn_status pd_table_breakdown_share(struct pd *pd, int batch, int filters);
/* Per impl, absolute region times over the filter counts at one batch: the
 * impl's label with the most filter counts there (ties: the later label,
 * more threads). */
cnn_status pd_table_breakdown_impls(struct pd *pd, int batch);

/* plotdata_series.c */
/* The per-step charts: the box plot at the busiest size, and loss and test
 * accuracy per step for the size and length with the most evaluations (or
 * the longest run when nothing was evaluated). steps.csv, the largest file
 * of a run, is read once for both. */
cnn_status pd_tables_per_step(struct pd *pd, int batch, int filters);

/* plotdata_roofline.c */
/* roofline.csv and roofline_ceilings.csv: every region of every configuration
 * placed under its ceilings (roofline_run.h); plotinfo.gp's roof_* */
cnn_status pd_table_roofline(struct pd *pd, const char *meta_path, const char *meta);
/* energy.csv: images per joule against images per second, a block per label
 * and device with a measured figure; plotinfo.gp's energy_* */
cnn_status pd_table_energy(struct pd *pd);
/* plotdata_scaling.c */
/* images/s vs ranks, one table per scaling mode the run's meta.json names
 * (settings.scaling): scaling.h's curves, each point with its ideal. */
cnn_status pd_table_ranks(struct pd *pd, const char *meta_path, const char *meta);

/* plotdata_showcase.c */
cnn_status pd_table_showcase(struct pd *pd, const char *meta_path, const char *meta);

#endif
