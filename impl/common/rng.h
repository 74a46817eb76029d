/*
 * rng.h — the project's own seeded RNG (xoshiro256** seeded by splitmix64).
 * Every backend starts from parameters drawn here, and the harness draws the
 * batch order here, so all backends see identical numbers on every platform.
 */
#ifndef CNN_RNG_H
#define CNN_RNG_H

#include <stdint.h>

struct cnn_rng {
    uint64_t s[4];
};

void cnn_rng_seed(struct cnn_rng *r, uint64_t seed);
uint64_t cnn_rng_next(struct cnn_rng *r);
/* Uniform in [0, n) without modulo bias; n >= 1. */
uint64_t cnn_rng_below(struct cnn_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double cnn_rng_uniform(struct cnn_rng *r);
/* Standard normal N(0, 1) by Box-Muller (one value per call, no caching,
 * so the sequence depends only on the number of calls). */
double cnn_rng_normal(struct cnn_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void cnn_rng_shuffle(struct cnn_rng *r, uint32_t *idx, uint32_t n);

#endif
