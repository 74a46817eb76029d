/* reference.c — the cache of initial parameters and reference steps (reference.h). */
#include "reference.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "params.h"
#include "run.h"

struct reference_params {
    int filters;
    struct cnn_params p;
};

/* A reference step and what it was made from: the same initial parameters
 * (by identity), batch size, learning rate and stream give the same step. */
struct reference_step {
    const struct cnn_params *from;
    int shuffle;
    uint64_t seed;
    struct verify_reference ref;
};

cnn_status reference_cache_params(struct reference_cache *c, int filters, uint64_t seed,
                                  const struct cnn_params **out)
{
    for (int i = 0; i < c->n_params; i++)
        if (c->params[i].filters == filters) {
            *out = &c->params[i].p;
            return CNN_OK;
        }
    struct reference_params *g = realloc(c->params, (size_t)(c->n_params + 1) * sizeof *g);
    if (!g)
        return cnn_fail(CNN_E_NOMEM, "cannot grow the parameter cache");
    c->params = g;
    g[c->n_params].filters = filters;
    CNN_TRY(cnn_params_alloc(&g[c->n_params].p, filters));
    cnn_params_init(&g[c->n_params].p, seed);
    *out = &g[c->n_params++].p;
    return CNN_OK;
}

static int same_step(const struct reference_step *r, const struct cnn_config *cfg,
                     const struct cnn_params *init, int shuffle, uint64_t seed)
{
    return r->from == init && r->ref.cfg.batch == cfg->batch && r->ref.cfg.lr == cfg->lr &&
           r->shuffle == shuffle && r->seed == seed;
}

cnn_status reference_cache_step(struct reference_cache *c, const struct data_set *data,
                                const struct cnn_config *cfg, const struct cnn_params *init,
                                int shuffle, uint64_t seed, const struct verify_reference **out)
{
    for (int i = 0; i < c->n_steps; i++)
        if (same_step(c->steps[i], cfg, init, shuffle, seed)) {
            *out = &c->steps[i]->ref;
            return CNN_OK;
        }
    struct reference_step **grown = realloc(c->steps, (size_t)(c->n_steps + 1) * sizeof *grown);
    if (!grown)
        return cnn_fail(CNN_E_NOMEM, "cannot grow the reference cache");
    c->steps = grown;
    struct reference_step *r = calloc(1, sizeof *r);
    float *x = malloc((size_t)cfg->batch * CNN_PIXELS * sizeof *x);
    uint8_t *y = malloc((size_t)cfg->batch);
    cnn_status st = r && x && y ? CNN_OK : cnn_fail(CNN_E_NOMEM, "cannot allocate a batch");
    if (st == CNN_OK)
        st = run_first_batch(data, cfg->batch, shuffle, seed, x, y);
    if (st == CNN_OK)
        st = verify_reference_make(cfg, init, x, y, cfg->batch, &r->ref);
    free(x);
    free(y);
    if (st != CNN_OK) {
        free(r);
        return st;
    }
    r->from = init;
    r->shuffle = shuffle;
    r->seed = seed;
    c->steps[c->n_steps++] = r;
    *out = &r->ref;
    return CNN_OK;
}

void reference_cache_free(struct reference_cache *c)
{
    for (int i = 0; i < c->n_params; i++)
        cnn_params_free(&c->params[i].p);
    for (int i = 0; i < c->n_steps; i++) {
        verify_reference_free(&c->steps[i]->ref);
        free(c->steps[i]);
    }
    free(c->params);
    free(c->steps);
    memset(c, 0, sizeof *c);
}
