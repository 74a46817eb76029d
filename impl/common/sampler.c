/* sampler.c — seeded batch order and batch gathering. */
#include "sampler.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Keeps the batch-order stream independent of the parameter-init stream
 * even when both are seeded with the same --seed. */
#define CNN_SAMPLER_SEED_SALT 0x5eed0fba7c40de15ull

static void start_epoch(struct cnn_sampler *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        s->order[i] = i;
    if (s->shuffle)
        cnn_rng_shuffle(&s->rng, s->order, s->n);
    s->pos = 0;
}

cnn_status cnn_sampler_init(struct cnn_sampler *s, uint32_t n, int shuffle, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    if (n == 0)
        return cnn_fail(CNN_E_ARG, "training set is empty");
    s->order = malloc((size_t)n * sizeof *s->order);
    if (!s->order)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate batch order for %u images", n);
    s->n = n;
    s->shuffle = shuffle;
    cnn_rng_seed(&s->rng, seed ^ CNN_SAMPLER_SEED_SALT);
    start_epoch(s);
    return CNN_OK;
}

void cnn_sampler_free(struct cnn_sampler *s)
{
    free(s->order);
    memset(s, 0, sizeof *s);
}

void cnn_sampler_next(struct cnn_sampler *s, uint32_t *idx, int b)
{
    for (int i = 0; i < b; i++) {
        if (s->pos == s->n) {
            s->epoch++;
            start_epoch(s);
        }
        idx[i] = s->order[s->pos++];
    }
}

void cnn_gather(const float *pixels, const uint8_t *labels, const uint32_t *idx, int b,
                float *x, uint8_t *y)
{
    for (int i = 0; i < b; i++) {
        memcpy(x + (size_t)i * CNN_PIXELS, pixels + (size_t)idx[i] * CNN_PIXELS,
               CNN_PIXELS * sizeof *x);
        y[i] = labels[idx[i]];
    }
}

cnn_status cnn_pixels_to_float(const uint8_t *raw, uint32_t n, float **out)
{
    size_t count = (size_t)n * CNN_PIXELS;
    float *f = malloc(count * sizeof *f);
    if (!f)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %u float images", n);
    for (size_t i = 0; i < count; i++)
        f[i] = (float)raw[i] / 255.0f;
    *out = f;
    return CNN_OK;
}
