/*
 * step.h — one training step driven through the backend interface, with
 * per-region timing. This is the single place the region order and the
 * timing rules live; the CLI, the sweep, the micro-benchmarks and the tests
 * all train through cnn_step().
 *
 * Timing: CPU backends are timed with CLOCK_MONOTONIC around each region
 * call (never clock(), which sums OpenMP threads). CNN_CAP_DEVICE backends
 * mark the region boundaries with CUDA events on their stream (timer_mark,
 * impl/cnn.h: the regions tile the step's GPU span) and are read once after
 * the step, so timing adds no synchronisation.
 */
#ifndef CNN_STEP_H
#define CNN_STEP_H

#include "cnn.h"

struct cnn_step_result {
    double loss;                            /* mean cross-entropy of the batch */
    int correct;                            /* argmax == label count */
    double region_ms[CNN_REGION_COUNT];     /* < 0: region does not apply */
    double step_ms;                         /* wall time of the whole step */
    double gpu_span_ms;                     /* CNN_CAP_DEVICE: the GPU time from the
                                               first region's start to the last
                                               region's end, which the region times
                                               add up to (timer_read); < 0 on the CPU */
};

/* Monotonic wall clock in milliseconds. */
double cnn_now_ms(void);

/* Load x [n][P], y [n] and run forward, backward and update. */
cnn_status cnn_step(const struct cnn_backend *be, cnn_state *s,
                    const float *x, const uint8_t *y, int n,
                    struct cnn_step_result *out);

/* The backend slot that computes region r (conv_fwd .. update, allreduce
 * included) for state s, or NULL for h2d/d2h and for a region s does not
 * run (allreduce, unless s is data-parallel). The one map from regions to
 * slots: cnn_step() uses it, and a test that drives a step slot by slot
 * (tests/test_gpu_clock.c) uses it too. */
typedef cnn_status (*cnn_region_fn)(cnn_state *);
cnn_region_fn cnn_region_slot(const struct cnn_backend *be, const cnn_state *s,
                              enum cnn_region r);

/* CNN_E_DIVERGED, naming the step (1-based) and the value, when the step's
 * loss is NaN or infinite: training has left the numbers behind, and every
 * later step would only carry the NaN on. */
cnn_status cnn_step_check_loss(const struct cnn_step_result *r, long step);

/* Test-set accuracy: predict in chunks, count matches. */
cnn_status cnn_evaluate(const struct cnn_backend *be, cnn_state *s,
                        const float *x, const uint8_t *y, int n, double *accuracy);

#endif
