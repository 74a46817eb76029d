/*
 * verify.h — verify before timing (the llm.c / SGEMM_CUDA rule): one
 * training step of a backend, from given parameters on a given batch, must
 * agree with the reference backend seq's within docs/DESIGN.md §4:
 *     |a - b| <= 1e-5 + 1e-4 |b|   for every parameter (b = seq),
 * tested as !(diff <= tol) so that a NaN or Inf fails.
 *
 * A change of summation order may legitimately decide a near tie in a
 * max-pool window the other way (impl/common/pool_decision.h), and that
 * moves a whole window's gradient. So the check runs in three parts:
 *   1. the candidate's pool decisions (get_pool_choice) against seq's: each
 *      one that differs must be admissible, i.e. within the rounding bound
 *      of some summation order; and at most VERIFY_MAX_FLIP_SHARE of all
 *      windows may differ;
 *   2. where any differ, seq replays its step with the candidate's
 *      decisions (set_pool_choice), so both sides route every gradient the
 *      same way;
 *   3. the parameters after the step against seq's (or the replay's), per
 *      element as above. No element is left out.
 * The number of windows replayed is reported (summary.csv verify_tie_flips).
 */
#ifndef BENCH_VERIFY_H
#define BENCH_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cnn.h"

/* The most windows a candidate may decide otherwise than seq, as a share of
 * all pooled outputs of the batch. Near ties within the rounding bound are
 * rare (single flips per 10^7 windows on MNIST at B=1000, F=256, measured:
 * bench/NOTES.md); a backend far past this computes something else. */
#define VERIFY_MAX_FLIP_SHARE 1e-4

/* seq's step, computed once per batch and filter count, kept (with copies
 * of its inputs) for every candidate that is verified on it. */
struct verify_reference {
    struct cnn_config cfg;     /* batch, filters, lr of the step */
    struct cnn_params init;    /* the parameters before the step */
    float *x;                  /* the batch x [n][P], y [n] */
    uint8_t *y;
    int n;
    struct cnn_params after;   /* seq's parameters after the step */
    uint8_t *choice;           /* seq's pool decisions [n][K] */
};

struct verify_report {
    int agree;             /* 1: the check passed */
    size_t windows;        /* pooled outputs compared, n * K */
    size_t tie_flips;      /* windows decided otherwise within rounding: replayed */
    char detail[512];      /* why not: the window, or the tensor, element and values */
};

/* Compares got against ref (same filter count) per element, as above. */
void verify_params(const struct cnn_params *got, const struct cnn_params *ref,
                   struct verify_report *rep);

/* seq's step on x [n][P], y [n] from init, with the batch, filters and lr of
 * cfg; ref keeps copies of all three. */
cnn_status verify_reference_make(const struct cnn_config *cfg, const struct cnn_params *init,
                                 const float *x, const uint8_t *y, int n,
                                 struct verify_reference *ref);
void verify_reference_free(struct verify_reference *ref);

/* One step of be on an existing state from ref's initial parameters and
 * batch, then the check above. CNN_OK means the check ran; whether it
 * passed is rep->agree. The state's parameters are left changed: callers
 * set them again. */
cnn_status verify_backend_step(const struct cnn_backend *be, cnn_state *state,
                               const struct verify_reference *ref, struct verify_report *rep);

#endif
