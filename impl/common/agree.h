/*
 * agree.h — the agreement rules of docs/DESIGN.md §4 in one place, used by the tests
 * and by the sweep's verify-before-timing step. Every comparison is written
 * as !(diff <= tol), so a NaN or Inf is a disagreement, never a pass.
 *
 * Per-element relative error means nothing near zero (float32 sums taken in
 * another order differ there by ~1e-3 relative), so gradients are judged
 * per tensor: max|a-b| / max|b| and ||a-b||_2 / ||b||_2.
 */
#ifndef CNN_AGREE_H
#define CNN_AGREE_H

#include <stddef.h>

#include "cnn.h"

/* Parameters after one step: |a - b| <= ATOL + RTOL * |b| per element. */
#define CNN_AGREE_PARAM_ATOL 1e-5
#define CNN_AGREE_PARAM_RTOL 1e-4
/* Each gradient tensor. */
#define CNN_AGREE_GRAD_MAX_REL 5e-5
#define CNN_AGREE_GRAD_L2_REL 2e-5
/* Loss curves over many steps: relative difference per step. */
#define CNN_AGREE_LOSS_REL 1e-3

struct cnn_elementwise {
    size_t violations; /* elements outside atol + rtol*|b| (NaN counts) */
    size_t worst;      /* index of the largest excess */
    double worst_a, worst_b;
};

struct cnn_tensorwise {
    double max_rel; /* max|a-b| / max|b| */
    double l2_rel;  /* ||a-b|| / ||b|| */
    int finite;     /* 0 if a or b holds NaN/Inf */
};

struct cnn_elementwise cnn_agree_elementwise(const float *a, const float *b, size_t n,
                                             double atol, double rtol);
struct cnn_tensorwise cnn_agree_tensorwise(const float *a, const float *b, size_t n);
/* 1 if the tensor-wise figures are within the gradient tolerances. */
int cnn_tensorwise_ok(struct cnn_tensorwise t);

/* Parameters of backend `a` after one step against the reference `b`:
 * CNN_OK, or CNN_E_DATA with a message naming the tensor and element. */
cnn_status cnn_agree_params(const struct cnn_params *a, const struct cnn_params *b);
/* Gradients tensor by tensor: CNN_OK, or CNN_E_DATA naming the tensor. */
cnn_status cnn_agree_grads(const struct cnn_params *a, const struct cnn_params *b);

#endif
