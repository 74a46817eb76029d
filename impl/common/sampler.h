/*
 * sampler.h — the batch order, drawn by the harness and identical for every
 * backend. The index stream is the concatenation of epochs; with shuffling,
 * each epoch is a fresh seeded permutation of the training set; without it,
 * the file order 0..N-1. Step k takes the next B indices of the stream, so
 * batches wrap across epoch boundaries and no image is dropped.
 */
#ifndef CNN_SAMPLER_H
#define CNN_SAMPLER_H

#include <stdint.h>

#include "cnn.h"
#include "rng.h"

struct cnn_sampler {
    uint32_t n;         /* training set size */
    int shuffle;        /* 0: file order */
    struct cnn_rng rng;
    uint32_t *order;    /* [n] the current epoch's order */
    uint32_t pos;       /* next position in order */
    uint64_t epoch;     /* completed epochs */
};

cnn_status cnn_sampler_init(struct cnn_sampler *s, uint32_t n, int shuffle, uint64_t seed);
void cnn_sampler_free(struct cnn_sampler *s);
/* Fills idx[0..b) with the next b indices of the stream. */
void cnn_sampler_next(struct cnn_sampler *s, uint32_t *idx, int b);
/* Copies images idx[] into x [b][P] as pixel/255 floats, labels into y [b].
 * pixels is the whole split already converted to floats. */
void cnn_gather(const float *pixels, const uint8_t *labels, const uint32_t *idx, int b,
                float *x, uint8_t *y);
/* Converts n images of raw pixels to floats (pixel / 255), once per run. */
cnn_status cnn_pixels_to_float(const uint8_t *raw, uint32_t n, float **out);

#endif
