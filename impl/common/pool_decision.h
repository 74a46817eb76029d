/*
 * pool_decision.h — when may two backends decide a max-pool window
 * differently and both be right?
 *
 * A pre-activation z = cb + sum_{p,q} cw[p][q] * x[i+p][j+q] is a sum of 10
 * terms. Summed in another order (or with fused multiply-adds) it may round
 * differently, by at most gamma_10 * sum|terms| (gamma_n = n u / (1 - n u),
 * u = 2^-24, Higham's bound for any order). Where two positions of a pool
 * window, or one position and 0 (the ReLU), lie within those bounds of each
 * other, a correct backend may pick the other winner, and the whole gradient
 * of that window goes elsewhere: the one discontinuity in the step, and far
 * larger than the per-element tolerance of a conv weight.
 *
 * This module decides whether a backend's decision (cnn.h, CNN_POOL_NO_GRAD
 * or 0..3) is admissible: producible by some summation order of every z in
 * the window, from the exact values (products of floats are exact in
 * double, and a 10-term sum in double is off by far less than the bound,
 * which is widened by that much). Positions whose 3x3 patches hold the very
 * same pixels sum the very same terms, so any backend that uses one order
 * for every output position computes them equal: between those the tie rule
 * (first maximum wins) still decides, and a backend that breaks it fails.
 */
#ifndef CNN_POOL_DECISION_H
#define CNN_POOL_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "cnn.h"

/* The outcome of comparing a candidate's decisions with the reference's. */
struct cnn_pool_compare {
    size_t windows;      /* pooled outputs compared: n * K */
    size_t flips;        /* decided otherwise, admissibly (a near tie) */
    size_t inadmissible; /* decided otherwise, and no summation order explains it */
    size_t first_bad;    /* index [n][K] of the first inadmissible decision */
    uint8_t bad_ref, bad_got; /* the two decisions there */
};

/* 1 if `got` is an admissible decision for pooled output k = f*169 + i*13 + j
 * of image x [P] under parameters p (canonical layout); 0 if not. */
int cnn_pool_admissible(const float *x, const struct cnn_params *p, size_t k, uint8_t got);

/* Compares the decisions got [n][K] with ref [n][K] for the images x [n][P]
 * under parameters p; every differing one is checked for admissibility. */
struct cnn_pool_compare cnn_pool_compare(const float *x, int n, const struct cnn_params *p,
                                         const uint8_t *ref, const uint8_t *got);

/* "image b, filter f, window (i, j)" of index [n][K] `at`, for messages. */
void cnn_pool_describe(size_t at, int filters, char *buf, size_t len);

#endif
