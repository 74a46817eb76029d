/* exact.c — the bit-exact inputs of exact.h. */
#include "exact.h"

static float ternary(struct cnn_rng *r) { return (float)cnn_rng_below(r, 3) - 1.0f; }

void cnn_exact_batch(struct cnn_rng *r, float *x, uint8_t *y, float *dlogits, int n)
{
    for (size_t i = 0; i < (size_t)n * CNN_PIXELS; i++)
        x[i] = (float)cnn_rng_below(r, 16);
    for (int i = 0; i < n; i++)
        y[i] = (uint8_t)cnn_rng_below(r, CNN_CLASSES);
    for (size_t i = 0; i < (size_t)n * CNN_CLASSES; i++)
        dlogits[i] = ((float)cnn_rng_below(r, 9) - 4.0f) / 256.0f;
}

void cnn_exact_params(struct cnn_rng *r, struct cnn_params *p)
{
    size_t fc = CNN_CLASSES * cnn_features(p->filters);
    for (size_t i = 0; i < (size_t)p->filters * CNN_KTAPS; i++)
        p->conv_w[i] = ternary(r);
    for (int f = 0; f < p->filters; f++)
        p->conv_b[f] = (float)cnn_rng_below(r, 5) - 2.0f;
    for (size_t i = 0; i < fc; i++)
        p->fc_w[i] = ternary(r) / 1024.0f;
    for (int c = 0; c < CNN_CLASSES; c++)
        p->fc_b[c] = ternary(r) / 1024.0f;
}
