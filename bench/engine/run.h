/*
 * run.h — trains one configuration the way every subcommand measures it:
 *
 *   1. create the backend state (outside any timing);
 *   2. verify: when a reference is given, one step from the initial
 *      parameters on the batch the reference stepped on (the stream's
 *      first) must agree with seq's (verify.h);
 *   3. warm-up: `warmup` untimed steps on the first batches of the stream,
 *      starting from the initial parameters, which are then restored with
 *      set_params. SGD keeps no other state, so the timed run trains exactly
 *      as a run with no warm-up (bitwise), and its numbers never include the
 *      first, slow steps;
 *   4. `steps` timed steps through cnn_step() with a fresh sampler: batch k
 *      is the k-th block of B indices of the seeded stream (sampler.h), the
 *      gathering of the batch is outside the timing. With a noise target
 *      (max_noise_pct > 0) `steps` is only the cap: sampling stops as soon
 *      as the median's noise (stats.h) is under the target, after at least
 *      min_steps, or once max_time_s have gone by (nvbench's rule, on the
 *      median instead of the mean, since step times are skewed);
 *   5. test-set evaluations every `eval_every` steps and/or at the end,
 *      untimed.
 *
 * Energy (energy.h): the meters of the CPU, and of a device backend's GPUs
 * (named by the device_bus_id slot), read at the start and end of the timed
 * loop and between steps at least every RUN_ENERGY_SAMPLE_S; evaluations
 * inside the loop are left out of the window. The figure covers the loop as
 * it runs, so it includes the batch gathering between steps. A window
 * shorter than RUN_ENERGY_MIN_WINDOW_S gives no figure: the counters move in
 * steps of up to tens of milliseconds.
 *
 * The loop checks *stop between steps, so Ctrl-C ends a run at a step
 * boundary with every finished step kept.
 *
 * A job of several processes (spec->ranks, docs/MPI.md): every process runs
 * this with cfg.comm set and cfg.batch its share of the global batch B.
 * Every process draws the same stream of global batches and gathers only
 * its contiguous share of each (batch_share.h). Rank 0 alone verifies, on a
 * state without the communicator, on its share of the first batch (its
 * reference is seq's step on the same images), and alone evaluates; the
 * others wait for it in the next collective. After every timed step the
 * processes agree, in one sum (ranks_sum_double, fixed order), on the
 * batch's loss and correct count over B, on whether any was interrupted,
 * and on rank 0's step time and sampling clock, so that every process
 * records the same step, sees the same divergence, and stops sampling at
 * the same step. Warm-up steps do not look at *stop: a process may not
 * leave a collective step alone.
 */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include <signal.h>
#include <stdint.h>

#include "cnn.h"
#include "data.h"
#include "energy.h"
#include "ranks.h"
#include "verify.h"

/* The longest wait between two energy samples, and the shortest window
 * that gives an energy figure (see the top of this file). */
#define RUN_ENERGY_SAMPLE_S 1.0
#define RUN_ENERGY_MIN_WINDOW_S 1.0

/* --max-noise without a length: the cap, so the noise or the time decides. */
#define RUN_NOISE_DEFAULT_CAP 10000
/* --min-steps and --max-time defaults: nvbench's minimum sample count and timeout. */
#define RUN_NOISE_DEFAULT_MIN_STEPS 10
#define RUN_NOISE_DEFAULT_MAX_TIME_S 15.0

struct run_spec {
    const struct cnn_backend *be;   /* the registry's table (its create picks the
                                       data-parallel mode for cfg.gpus >= 1) */
    struct cnn_config cfg;          /* batch, filters, lr, threads, variant, gpus, comm */
    ranks *ranks;                   /* NULL: one process; else the job of cfg.comm,
                                       cfg.batch this process's share */
    long steps;                     /* timed steps; the cap with max_noise_pct > 0 */
    double max_noise_pct;           /* > 0: stop once stats' noise_pct is at most this */
    long min_steps;                 /* with max_noise_pct: at least this many (or all) */
    double max_time_s;              /* with max_noise_pct: stop sampling after this long */
    int warmup;                     /* untimed warm-up steps */
    int shuffle;                    /* 0: file order, wrapping */
    uint64_t seed;                  /* batch order */
    int eval_every;                 /* evaluate every N steps; 0: never */
    int eval_final;                 /* evaluate after the last step */
    const struct cnn_params *init;  /* initial parameters, canonical layout */
    const struct verify_reference *ref; /* seq's step from init, or NULL: no check;
                                           in a job, rank 0's share only */
    int keep_final;                 /* copy the final parameters into the result */
};

struct run_step {
    double loss;                        /* mean cross-entropy of the (global) batch */
    int correct;                        /* right predictions in the (global) batch */
    double step_ms;                     /* wall time of the whole step (rank 0's) */
    double region_ms[CNN_REGION_COUNT]; /* < 0: region does not apply; this process's */
};

struct run_eval {
    long step;        /* after this many timed steps */
    double accuracy;  /* fraction of the test set */
    double ms;        /* how long the evaluation took (untimed work) */
};

/* Why the timed loop ended; RUN_STOP_NONE when a failure or Ctrl-C ended it. */
enum run_stop {
    RUN_STOP_NONE,
    RUN_STOP_STEPS,     /* the planned steps, without a noise target */
    RUN_STOP_CONVERGED, /* the noise got under the target */
    RUN_STOP_MAX_TIME,  /* max_time_s went by first */
    RUN_STOP_CAP,       /* the cap (spec->steps) came first */
};

/* "steps", "converged", "max_time", "cap"; "" for RUN_STOP_NONE. */
const char *run_stop_name(enum run_stop stop);

/* What the meters read over the timed loop. */
struct run_energy {
    double joules[ENERGY_DEVICES]; /* per device (energy.h); NaN: no meter, a read
                                      failed, or the window was too short */
    double window_s;               /* seconds metered; NaN where no device has a meter */
    double gpu_sampled_w;          /* mean of NVML's power samples, the cross-check of
                                      joules / window_s; NaN without */
};

struct run_result {
    struct run_step *steps;   /* [done], grown as steps finish (at most spec->steps) */
    long steps_alloc;         /* records allocated */
    long done;                /* timed steps finished */
    enum run_stop stop;
    struct run_eval *evals;
    int n_evals;
    int verified;             /* 1: checked against seq and agreed */
    int mismatch;             /* 1: checked and disagreed (status is CNN_E_DATA) */
    struct verify_report verify;
    double first_warmup_ms;   /* the first warm-up step (slow first sample), or -1 */
    struct cnn_params final;  /* when keep_final and the run finished */
    double wall_s;            /* everything, setup and evaluations included */
    struct run_energy energy;
    int left_together;        /* a job: every process left the timed loop at the same
                                 step (finished, stopped, or diverged, as agreed) and
                                 makes no further collective here, so all may meet once
                                 more; 0 where this process failed alone */
};

/* Called after every timed step (1-based), e.g. to draw progress. */
typedef void (*run_step_hook)(void *ctx, long step, const struct run_step *rec);
/* Called after each check of the noise target with the noise of the steps so far. */
typedef void (*run_noise_hook)(void *ctx, long step, double noise_pct);

struct run_hooks {
    run_step_hook on_step;
    run_noise_hook on_noise;  /* may be NULL */
    void *ctx;
    volatile sig_atomic_t *stop;  /* checked between steps; may be NULL */
};

/*
 * Runs spec on data. On failure the result still holds the steps finished
 * so far; CNN_E_INTERRUPTED when *stop was raised, CNN_E_DATA with
 * result->mismatch for a failed verification, else the backend's status.
 * Always call run_result_free afterwards.
 */
cnn_status run_config(const struct run_spec *spec, const struct data_set *data,
                      const struct run_hooks *hooks, struct run_result *result);
/* An empty result: no steps, and no figure where nothing was measured
 * (energy NaN, first_warmup_ms -1); run_config starts with it, and so does
 * a caller that fills a result another way (a configuration run under
 * mpirun, read back from its CSV). */
void run_result_init(struct run_result *r);
void run_result_free(struct run_result *r);

/* How the steps of be were timed, as the timer column says it: "wall"
 * (host clock), "cuda_event" (device events), or "cupti" when traced (CUPTI
 * slows launches a little, so traced timings say so). */
const char *run_timer_name(const struct cnn_backend *be, int traced);

/* Steps in `epochs` passes over n images with batch b: epochs * ceil(n/b). */
long run_epoch_steps(long epochs, uint32_t n, int b);

/* Fills x [B][P], y [B] with the first batch of the stream of (seed, shuffle). */
cnn_status run_first_batch(const struct data_set *data, int batch, int shuffle, uint64_t seed,
                           float *x, uint8_t *y);

/* Work of one step per docs/DESIGN.md §7 in floating-point operations:
 * conv forward 2*9*676*F*B, conv weight gradient through the argmax only
 * 2*9*169*F*B, FC forward and backward 6*10*169*F*B; counted region by
 * region in roofline.c, the one place the counts live. */
double run_step_flop(int batch, int filters);

#endif
