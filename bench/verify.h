/*
 * verify.h — verify before timing (the llm.c / SGEMM_CUDA rule): a backend's
 * parameters after one training step from given parameters and batch must
 * agree with the reference backend seq's, within DESIGN §4:
 *     |a - b| <= 1e-5 + 1e-4 |b|   for every parameter (b = seq),
 * tested as !(diff <= tol) so that a NaN or Inf fails. The rule itself is
 * cnn_agree_params (impl/common/agree.h), shared with the tests; this module
 * runs the two steps it compares.
 */
#ifndef BENCH_VERIFY_H
#define BENCH_VERIFY_H

#include <stdint.h>

#include "cnn.h"

struct verify_report {
    int agree;         /* 1: every parameter within tolerance */
    char detail[512];  /* why not: the tensor, element and both values */
};

/* Compares got against ref (same filter count) with the tolerance above. */
void verify_params(const struct cnn_params *got, const struct cnn_params *ref,
                   struct verify_report *rep);

/* seq's parameters after one step from init on x [n][P], y [n], with the
 * batch, filters and lr of cfg. ref must be allocated for cfg->filters. */
cnn_status verify_reference_step(const struct cnn_config *cfg, const struct cnn_params *init,
                                 const float *x, const uint8_t *y, int n,
                                 struct cnn_params *ref);

/* One step of be on an existing state from init, then verify_params against
 * ref. The state's parameters are left changed: callers set them again. */
cnn_status verify_backend_step(const struct cnn_backend *be, cnn_state *state,
                               const struct cnn_params *init, const float *x, const uint8_t *y,
                               int n, const struct cnn_params *ref, struct verify_report *rep);

/* The whole check in one call: creates seq and be for cfg, steps both once
 * from init on the batch and compares. CNN_OK means the check ran; whether
 * it passed is rep->agree. */
cnn_status verify_against_seq(const struct cnn_backend *be, const struct cnn_config *cfg,
                              const struct cnn_params *init, const float *x, const uint8_t *y,
                              int n, struct verify_report *rep);

#endif
