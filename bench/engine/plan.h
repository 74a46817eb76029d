/*
 * plan.h — the sweep plan (nvbench's named axes): blocks, each a cartesian
 * product of the axes impl x variant x threads x gpus x ranks x batch x
 * filters x length, expanded with skip rules and repeated `reps` times.
 *
 * Skip rules: a thread count applies only to backends with CNN_CAP_THREADS
 * (others run once, threads 0 = not applicable); a variant number only to
 * backends with CNN_CAP_VARIANTS that have it (others run variant 0, their
 * only code); a GPU count N >= 1 only to backends with a data-parallel
 * table (cnn.h; others run gpus 0 only). Every requested combination that
 * does not run as given counts as skipped, so `--impl seq --threads 2`
 * reports its dropped thread count even though seq still runs once. A
 * configuration listed by two blocks runs once (found with a hash set, so
 * the check is linear in the plan's size).
 *
 * Ranks: a block with a ranks axis runs each of its configurations as
 * `mpirun -np N cnnbench train` (sweep_ranks.c), every N, 1 included, so
 * that all points of a scaling curve are measured the same way; a block
 * without one runs in the sweep's own process (ranks 0), as before the
 * axis. Strong scaling keeps the batch B global (each rank a B/N share),
 * weak scaling reads the batch axis per rank (B = N x b); a configuration
 * both modes list (N = 1, or N x b that is also a strong B) runs once.
 *
 * Size: at most PLAN_MAX_CONFIGS configurations, checked before anything is
 * expanded; axes of up to 64 values each multiply to far more than any
 * sweep could run.
 *
 * Order: repetition outermost, so every configuration is measured once
 * before any is measured again (interleaving spreads slow drifts of the
 * machine over all configurations instead of biasing the last ones).
 */
#ifndef BENCH_PLAN_H
#define BENCH_PLAN_H

#include <stddef.h>

#include "cli.h"
#include "cnn.h"

/* How a ranks axis reads the batch axis: global B, or B per rank. */
enum { PLAN_STRONG = 1, PLAN_WEAK = 2 };

enum { PLAN_MAX_IMPLS = 8, PLAN_MAX_BLOCKS = 8, PLAN_KEY_MAX = 96, PLAN_MAX_CONFIGS = 100000 };

/* One block of the plan. Empty variant/threads axes mean "backend default". */
struct plan_block {
    const char *name;                               /* e.g. "filters", shown by --dry-run */
    const struct cnn_backend *impls[PLAN_MAX_IMPLS];
    int n_impls;
    int threads_only;         /* keep only CNN_CAP_THREADS backends */
    int variants_only;        /* keep only CNN_CAP_VARIANTS backends */
    int all_variants;         /* every variant 1..variant_count */
    struct cli_axis variants;
    struct cli_axis threads;
    struct cli_axis gpus;     /* empty: 0, the one-GPU path */
    struct cli_axis ranks;    /* empty: 0, in the sweep's process */
    int scaling;              /* with ranks: PLAN_STRONG | PLAN_WEAK (0: strong) */
    struct cli_axis batch;
    struct cli_axis filters;
    struct cli_axis length;   /* steps, or epochs when the plan counts epochs */
    int eval_every;           /* test-set evaluation every N steps; 0: none */
};

struct plan_config {
    const struct cnn_backend *be;
    int variant, threads, batch, filters;
    int gpus;                 /* 0: one GPU, no NCCL; N >= 1: data-parallel */
    int ranks;                /* processes of the job that trains it: 0, one, the
                                 sweep's own (the CSVs say 1); N >= 1: mpirun -np N */
    int length;               /* as given: steps or epochs */
    int rep;                  /* 1-based repetition */
    int eval_every;
    const char *block;
    char key[PLAN_KEY_MAX];
};

struct plan {
    struct plan_config *configs;
    int n;
    long skipped;             /* combinations removed by the skip rules */
    long duplicates;          /* configurations already listed by an earlier block */
};

/* The configuration key, unique within a run and stable across --resume:
 * "omp:v0:t2:b100:f32:s20:r1" (unit 's' steps or 'e' epochs); a GPU count
 * N >= 1 adds ":gN" after the threads ("cuda:v0:t0:g2:b1000:..."), and a
 * rank count N >= 1 then ":npN" (as mpirun -np; ":r" is the repetition's),
 * so keys of configurations without them are those of runs made before
 * these axes. */
void plan_key(char *buf, size_t len, const char *impl, int variant, int threads, int gpus,
              int ranks, int batch, int filters, char unit, int length, int rep);

/* The backend configuration of c: its batch, filters, threads, variant and
 * GPUs, with the run's learning rate. */
struct cnn_config plan_cnn_config(const struct plan_config *c, double lr);

/* CNN_E_ARG, stating the count and the cap, for a plan of more than
 * PLAN_MAX_CONFIGS configurations (counted before duplicates are dropped),
 * or for a weak-scaling batch N x b above CNN_MAX_BATCH. */
cnn_status plan_build(const struct plan_block *blocks, int nblocks, int reps, int by_epochs,
                      struct plan *out);
void plan_free(struct plan *p);

/* 1, 2, 4, ... below cpus, then cpus itself. */
void plan_thread_ladder(int cpus, struct cli_axis *out);

/* Fills the blocks of a named preset ("quick", "paper" or "scaling") for a
 * machine with `cpus` online CPUs; impl lists are left empty for the caller
 * to fill with the usable backends. CNN_E_ARG for an unknown name. */
cnn_status plan_preset(const char *name, int cpus, struct plan_block *blocks, int *nblocks);

#endif
