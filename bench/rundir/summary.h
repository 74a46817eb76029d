/*
 * summary.h — summary.csv: one row per configuration, with the robust
 * statistics of its step times, throughput, per-region medians, learning
 * results, speedups against named baselines, and how it ended.
 *
 * A row keeps only measured facts; derived columns (images/s, GFLOP/s,
 * speedups, cv, unstable) are computed when the file is written, from all
 * rows at once, so a speedup is right whatever order configurations ran in
 * and after --resume. The whole file is rewritten atomically after every
 * configuration, so a reader never sees half of it.
 */
#ifndef BENCH_SUMMARY_H
#define BENCH_SUMMARY_H

#include "cnn.h"
#include "plan.h"
#include "run.h"
#include "stats.h"

/* A coefficient of variation above this marks a configuration unstable
 * (pyperf warns at a standard deviation of 10% of the mean). */
#define SUMMARY_UNSTABLE_CV 0.10

struct summary_row {
    char key[PLAN_KEY_MAX];
    char impl[32];
    int variant, threads, batch, filters, rep;
    int gpus;                /* 0: one GPU (or none); N >= 1: data-parallel */
    long steps;              /* planned timed steps */
    double epochs;           /* steps * batch / training images */
    int warmup;
    struct stats_summary t;  /* step times in ms; t.n = timed steps finished */
    double first_warmup_ms;  /* NaN without warm-up */
    double region_ms[CNN_REGION_COUNT]; /* medians; NaN: region does not apply */
    double final_loss;       /* the last timed step's batch loss */
    double test_accuracy_pct;/* the last evaluation; NaN: none */
    char verified[16];       /* yes | reference | skipped | no */
    double verify_windows;   /* pool windows the check compared; NaN: not checked */
    double verify_tie_flips; /* of those, decided otherwise within rounding and replayed */
    char status[64];         /* ok | failed:<reason> | interrupted */
    char message[256];       /* the error message of a failed configuration */
    char timer[16];          /* wall | cuda_event */
    double wall_s;
    double max_noise_pct;    /* the --max-noise target; NaN without one */
    char stop[16];           /* run_stop_name: why sampling stopped; "" if it failed */
    int ranks;               /* processes of the job (mpirun -np N); 1: one process */
};

/* Fills a row from a finished (or failed, or interrupted) run of c, timed
 * as timer says (run_timer_name). */
void summary_from_run(struct summary_row *row, const struct plan_config *c, const char *timer,
                      long steps, uint32_t train_n, int warmup, const struct run_result *r);
/* The status word of a failure: failed:oom, failed:mismatch, failed:device... */
void summary_set_failure(struct summary_row *row, cnn_status st, const struct run_result *r,
                         const char *message);

/* Writes rows[0..n) to path atomically, with the derived columns. */
cnn_status summary_write(const char *path, const struct summary_row *rows, int n);
/* Reads a summary.csv back (for --resume); *rows is malloc'd. Every field
 * must be one cnnbench can write (bench/rundir/fields.h): anything else fails with
 * CNN_E_DATA naming the line and column. A header alone reads as no rows. */
cnn_status summary_read(const char *path, struct summary_row **rows, int *n);
/* summary_read for the readers of a run's results (plotdata, report), to
 * whom a file without any configuration is an error. */
cnn_status summary_read_run(const char *path, struct summary_row **rows, int *n);

/* The unstable rule (results/README.md): a coefficient of variation above
 * SUMMARY_UNSTABLE_CV, or a noise target (max_noise_pct > 0; NaN: none)
 * that the noise did not get under. 1 or 0; -1 with fewer than 2 timed
 * steps, where there is nothing to judge. */
int summary_unstable(const struct stats_summary *t, double max_noise_pct);
/* Why a configuration is unstable, in words, the same wherever one is
 * marked: its CV, IQR and noise, the target missed if any, and the 1-min
 * load average at the start and end of the run (NaN: unknown) on `cpus`
 * online CPUs. */
void summary_unstable_reason(char *buf, size_t len, const struct stats_summary *t,
                             double max_noise_pct, double load_start, double load_end,
                             long cpus);

/* Baseline lookups used by the speedup columns and the plots: the median
 * step time of impl at the same batch, filters and steps (and the same rep
 * when present), at `threads` (any if threads < 0), preferring variant 0.
 * NaN when the run has no such finished configuration, or impl is NULL (a
 * capability this build has no backend for: backends_name_with_cap). */
double summary_baseline_ms(const struct summary_row *rows, int n, const struct summary_row *of,
                           const char *impl, int threads);
/* The row summary_baseline_ms takes its time from; NULL when there is none. */
const struct summary_row *summary_baseline(const struct summary_row *rows, int n,
                                           const struct summary_row *of, const char *impl,
                                           int threads);

#endif
