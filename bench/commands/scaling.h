/*
 * scaling.h — the scaling curves of a run with a ranks axis (sweep --ranks),
 * computed once from summary.csv for both of their readers: plotdata's
 * chart tables and report's table with the efficiency.
 *
 * The rows of one (impl, variant, threads, GPUs, ranks, batch, filters)
 * are pooled as the median of their medians and quartiles (repetitions).
 * A curve needs its 1-rank point and at least one other:
 *   strong   a backend, variant and thread count at one global batch B and
 *            filter count over the rank counts; ideal N x images/s at 1 rank;
 *   weak     the same at b images per rank (batch N x b at N ranks);
 *            ideal N x images/s at 1 rank (B = b): the work per rank is fixed;
 *   threads  with strong scaling, one process (ranks 1) of the same backend,
 *            B and F over thread counts, the alternative the ranks compete
 *            with; ideal T x images/s at 1 thread.
 * Which modes a run has comes from its meta.json (settings.scaling), not
 * from the rows: a strong sweep at B = 500 and 1000 over 1 and 2 ranks
 * would otherwise also read as a weak curve at b = 500.
 */
#ifndef BENCH_SCALING_H
#define BENCH_SCALING_H

#include "cnn.h"
#include "summary.h"

enum scaling_kind { SCALING_STRONG, SCALING_WEAK, SCALING_THREADS };

struct scaling_point {
    int x;                 /* ranks, or threads for a threads curve */
    int batch;             /* the global batch of the point */
    double ips;            /* images/s at the pooled median step time */
    double ips_low, ips_high; /* at the pooled q3 and q1 */
    double ideal;          /* x times the first point's images/s */
    int unstable;          /* any pooled row unstable (summary_unstable) */
};

struct scaling_curve {
    enum scaling_kind kind;
    char name[160];        /* "omp t1 over ranks B=1000 F=256" */
    int first, count;      /* its points, by x */
};

struct scaling {
    struct scaling_curve *curves;
    int n_curves;
    struct scaling_point *points;
    int n_points;
};

/* "strong", "weak" or "both" (meta.json's settings.scaling) into the
 * bits 1 (strong) and 2 (weak); 0 for anything else. */
int scaling_modes(const char *name);

/* The curves of `modes` among rows[0..n) (status ok only), strong and
 * threads curves first, then weak; each kind by backend, then batch. */
cnn_status scaling_build(const struct summary_row *rows, int n, int modes, struct scaling *out);
void scaling_free(struct scaling *s);

#endif
