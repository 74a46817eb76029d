/*
 * batches.h — random training batches for the tests that need plain inputs
 * of realistic range: pixels k/255 (k uniform in 0..255, as the harness
 * converts real digits) and labels 0..9, drawn from the project's seeded RNG.
 */
#ifndef CNN_TEST_BATCHES_H
#define CNN_TEST_BATCHES_H

#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "cnn.h"
#include "rng.h"

/* `steps` batches of B images in a row: x [steps*B][P], y [steps*B], malloc'd. */
static void random_batches(uint64_t seed, int batch, int steps, float **x, uint8_t **y)
{
    struct cnn_rng r;
    cnn_rng_seed(&r, seed);
    size_t n = (size_t)batch * steps;
    *x = malloc(n * CNN_PIXELS * sizeof **x);
    *y = malloc(n);
    if (!*x || !*y) {
        check(0, "cannot allocate %zu images", n);
        exit(check_finish());
    }
    for (size_t i = 0; i < n * CNN_PIXELS; i++)
        (*x)[i] = (float)cnn_rng_below(&r, 256) / 255.0f;
    for (size_t i = 0; i < n; i++)
        (*y)[i] = (uint8_t)cnn_rng_below(&r, CNN_CLASSES);
}

#endif
