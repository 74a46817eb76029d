/*
 * data.h — the data set as the harness trains on it: both splits loaded once
 * through datasets/idx.h and converted once to pixel/255 floats, so that no
 * conversion ever happens inside a timed step.
 */
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include <stdint.h>

#include "cnn.h"

struct data_set {
    char spec[512];    /* "mnist", "fashion" or a directory, as given */
    uint32_t train_n;  /* N training images */
    uint32_t test_n;
    float *train_x;    /* [N][P] pixel / 255 */
    uint8_t *train_y;  /* [N] */
    float *test_x;     /* [Ntest][P] */
    uint8_t *test_y;   /* [Ntest] */
    uint8_t *test_raw; /* [Ntest][P] raw pixels, for drawing a digit */
    uint64_t fnv1a64;  /* FNV-1a over both splits' pixels and labels: identifies
                          the data a run used (a fingerprint, not a security hash) */
};

cnn_status data_load(const char *spec, struct data_set *d);
void data_free(struct data_set *d);

#endif
