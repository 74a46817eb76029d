/*
 * exact.h — the bit-exact inputs (oneDNN benchdnn's trick): integer pixels
 * 0..15, conv weights and biases small integers, FC weights and biases in
 * {-1,0,1}/1024, injected logit gradients (k-4)/256, and a learning rate of
 * 1/8 (the caller's). Every partial sum of the forward layers, the backward
 * layers and the update is then an exact dyadic below 2^24 units of its
 * last place, so any summation order gives the same bits: the logits,
 * gradients and updated parameters of every backend must equal seq's bit
 * for bit. Softmax is not exact, so the gradient is injected at the logits
 * (set_logit_grad) instead of computed. The one recipe of the backend test
 * (tests/test_backend.c) and the micro-benchmarks' check (bench/micro).
 */
#ifndef CNN_EXACT_H
#define CNN_EXACT_H

#include "cnn.h"
#include "rng.h"

/* x [n][P] integer pixels 0..15 (not scaled by 1/255), y [n] labels,
 * dlogits [n][C], drawn from r in that order. */
void cnn_exact_batch(struct cnn_rng *r, float *x, uint8_t *y, float *dlogits, int n);
/* Every parameter of p, drawn from r in canonical order: conv_w in
 * {-1,0,1}, conv_b in -2..2, fc_w and fc_b in {-1,0,1}/1024. */
void cnn_exact_params(struct cnn_rng *r, struct cnn_params *p);

#endif
