/* params.c — the canonical parameter buffer: one allocation, typed views. */
#include "params.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

size_t cnn_param_count(int filters)
{
    size_t f = (size_t)filters;
    return f * CNN_KTAPS + f + CNN_CLASSES * cnn_features(filters) + CNN_CLASSES;
}

const char *cnn_region_name(enum cnn_region r)
{
    static const char *const names[CNN_REGION_COUNT] = {
        [CNN_REGION_H2D] = "h2d",          [CNN_REGION_CONV_FWD] = "conv_fwd",
        [CNN_REGION_FC_FWD] = "fc_fwd",    [CNN_REGION_LOSS_FWD] = "loss_fwd",
        [CNN_REGION_LOSS_BWD] = "loss_bwd", [CNN_REGION_FC_BWD] = "fc_bwd",
        [CNN_REGION_CONV_BWD] = "conv_bwd", [CNN_REGION_UPDATE] = "update",
        [CNN_REGION_D2H] = "d2h",          [CNN_REGION_ALLREDUCE] = "allreduce",
    };
    return (unsigned)r < CNN_REGION_COUNT ? names[r] : "unknown";
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

void cnn_params_init(struct cnn_params *p, uint64_t seed)
{
    struct cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    for (size_t i = 0; i < p->count; i++)
        p->buf[i] = (float)(CNN_INIT_STDDEV * cnn_rng_normal(&rng));
}
