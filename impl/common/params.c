/* params.c — the canonical parameter buffer: one allocation, typed views. */
#include "params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

size_t cnn_param_count(int filters)
{
    size_t f = (size_t)filters;
    return f * CNN_KTAPS + f + CNN_CLASSES * cnn_features(filters) + CNN_CLASSES;
}

void cnn_params_view(struct cnn_params *p, int filters, float *buf)
{
    p->filters = filters;
    p->count = cnn_param_count(filters);
    p->buf = buf;
    p->conv_w = buf;
    p->conv_b = p->conv_w + (size_t)filters * CNN_KTAPS;
    p->fc_w = p->conv_b + filters;
    p->fc_b = p->fc_w + CNN_CLASSES * cnn_features(filters);
}

cnn_status cnn_params_alloc(struct cnn_params *p, int filters)
{
    memset(p, 0, sizeof *p);
    if (filters < 1 || filters > CNN_MAX_FILTERS)
        return cnn_fail(CNN_E_ARG, "filters must be in 1..%d, got %d", CNN_MAX_FILTERS, filters);
    float *buf = calloc(cnn_param_count(filters), sizeof *buf);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate parameters for %d filters", filters);
    cnn_params_view(p, filters, buf);
    return CNN_OK;
}

void cnn_params_free(struct cnn_params *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

void cnn_params_copy(struct cnn_params *dst, const struct cnn_params *src)
{
    memcpy(dst->buf, src->buf, src->count * sizeof *src->buf);
}

size_t cnn_params_count_nonfinite(const struct cnn_params *p, size_t *first)
{
    size_t bad = 0;
    for (size_t i = 0; i < p->count; i++)
        if (!isfinite(p->buf[i]) && bad++ == 0)
            *first = i;
    return bad;
}

const char *cnn_params_locate(const struct cnn_params *p, size_t i, char *buf, size_t len)
{
    size_t taps = (size_t)p->filters * CNN_KTAPS, feats = cnn_features(p->filters);
    if (i < taps) {
        /* conv_w is [F][1][3][3] */
        snprintf(buf, len, "conv_w[%zu][0][%zu][%zu]", i / CNN_KTAPS, i % CNN_KTAPS / CNN_KSIZE,
                 i % CNN_KSIZE);
        return "conv_w";
    }
    i -= taps;
    if (i < (size_t)p->filters) {
        snprintf(buf, len, "conv_b[%zu]", i);
        return "conv_b";
    }
    i -= (size_t)p->filters;
    if (i < CNN_CLASSES * feats) {
        snprintf(buf, len, "fc_w[%zu][%zu]", i / feats, i % feats);
        return "fc_w";
    }
    i -= CNN_CLASSES * feats;
    snprintf(buf, len, "fc_b[%zu]", i);
    return "fc_b";
}

cnn_status cnn_params_require_finite(const struct cnn_params *p, const char *when)
{
    size_t first = 0, bad = cnn_params_count_nonfinite(p, &first);
    if (bad == 0)
        return CNN_OK;
    char where[64];
    cnn_params_locate(p, first, where, sizeof where);
    /* fabs of a NaN prints "nan", never "-nan" */
    return cnn_fail(CNN_E_DIVERGED, "training diverged: %s, parameter %s is %g (%zu of %zu "
                    "parameters are not finite); a smaller --lr may keep them finite", when, where,
                    isnan(p->buf[first]) ? fabs(p->buf[first]) : p->buf[first], bad, p->count);
}

void cnn_params_init(struct cnn_params *p, uint64_t seed)
{
    struct cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    for (size_t i = 0; i < p->count; i++)
        p->buf[i] = (float)(CNN_INIT_STDDEV * cnn_rng_normal(&rng));
}
