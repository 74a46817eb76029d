/*
 * params.h — allocation, initialisation and comparison of struct cnn_params
 * (the canonical-layout parameter buffer declared in cnn.h).
 */
#ifndef CNN_PARAMS_H
#define CNN_PARAMS_H

#include "cnn.h"

/* Allocates a zeroed buffer for F filters and points the typed views into it. */
cnn_status cnn_params_alloc(struct cnn_params *p, int filters);
void cnn_params_free(struct cnn_params *p);
/* Points the typed views of p into an existing buffer of cnn_param_count(F)
 * floats (p does not own it; do not free). */
void cnn_params_view(struct cnn_params *p, int filters, float *buf);
void cnn_params_copy(struct cnn_params *dst, const struct cnn_params *src);
/* Every parameter from N(0, 0.1^2), drawn in canonical order from a
 * cnn_rng seeded with seed (docs/DESIGN.md §1). */
void cnn_params_init(struct cnn_params *p, uint64_t seed);

/* The number of parameters that are NaN or infinite; *first is the
 * canonical index of the first of them (untouched when there is none). */
size_t cnn_params_count_nonfinite(const struct cnn_params *p, size_t *first);
/* Writes where canonical index i lies, as the tensor and its element:
 * "conv_w[3][0][1][2]", "fc_b[7]". Returns the tensor's name ("conv_w"). */
const char *cnn_params_locate(const struct cnn_params *p, size_t i, char *buf, size_t len);
/* CNN_E_DIVERGED unless every parameter is finite; the message says `when`
 * ("after step 12"), the first bad element, its value and how many there are. */
cnn_status cnn_params_require_finite(const struct cnn_params *p, const char *when);

/* The standard deviation of the initial parameters. */
#define CNN_INIT_STDDEV 0.1

#endif
