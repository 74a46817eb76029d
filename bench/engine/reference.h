/*
 * reference.h — what every verified run starts from, made once and shared
 * by every caller (train, sweep): the initial parameters drawn from a seed,
 * per filter count, and the reference backend's one-step result
 * (verify.h's verify_reference) per initial parameters, batch size,
 * learning rate and batch stream. A sweep verifies every backend of a
 * (B, F) against one reference step instead of recomputing it for each.
 */
#ifndef BENCH_REFERENCE_H
#define BENCH_REFERENCE_H

#include <stdint.h>

#include "cnn.h"
#include "data.h"
#include "verify.h"

struct reference_cache {
    struct reference_params *params; /* initial parameters, one per filter count */
    int n_params;
    struct reference_step **steps;   /* each on the heap: run specs point at them */
    int n_steps;
};

/* Parameters drawn with cnn_params_init(seed) for `filters`, made on first
 * use and kept until reference_cache_free. A cache serves one seed. */
cnn_status reference_cache_params(struct reference_cache *c, int filters, uint64_t seed,
                                  const struct cnn_params **out);

/* The reference backend's step from init (kept by the caller for the cache's
 * lifetime) on the first batch of the stream (shuffle, seed) of data, with
 * cfg's batch, filters and learning rate; made on first use. */
cnn_status reference_cache_step(struct reference_cache *c, const struct data_set *data,
                                const struct cnn_config *cfg, const struct cnn_params *init,
                                int shuffle, uint64_t seed, const struct verify_reference **out);

void reference_cache_free(struct reference_cache *c);

#endif
