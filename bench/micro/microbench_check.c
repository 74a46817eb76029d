/*
 * microbench_check.c — verify before timing: the inputs every backend sees
 * for a shape (bit-exact and random), seq's outputs for them, the
 * comparison, and the one live backend state that is checked and then
 * timed in place (microbench.c describes both checks).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "error.h"
#include "exact.h"
#include "microbench.h"
#include "rng.h"
#include "step.h"

/* ---- inputs and reference ---- */

static void mb_fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

static cnn_status mb_outputs_alloc(struct mb_outputs *o, int batch, int filters)
{
    memset(o, 0, sizeof *o);
    o->logits = malloc((size_t)batch * CNN_CLASSES * sizeof *o->logits);
    if (!o->logits)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate logits for B=%d", batch);
    CNN_TRY(cnn_params_alloc(&o->exact_grads, filters));
    CNN_TRY(cnn_params_alloc(&o->exact_params, filters));
    CNN_TRY(cnn_params_alloc(&o->grads, filters));
    return cnn_params_alloc(&o->params, filters);
}

static void mb_outputs_free(struct mb_outputs *o)
{
    free(o->logits);
    cnn_params_free(&o->exact_grads);
    cnn_params_free(&o->exact_params);
    cnn_params_free(&o->grads);
    cnn_params_free(&o->params);
}

/* x [B][P], x_int [B][P], y [B], dlogits [B][C]; parameters for F filters. */
cnn_status mb_shape_init(struct mb_shape *sh, int batch, int filters)
{
    memset(sh, 0, sizeof *sh);
    sh->batch = batch;
    sh->filters = filters;
    size_t pixels = (size_t)batch * CNN_PIXELS, logits = (size_t)batch * CNN_CLASSES;
    sh->x = malloc(pixels * sizeof *sh->x);
    sh->x_int = malloc(pixels * sizeof *sh->x_int);
    sh->y = malloc((size_t)batch);
    sh->dlogits = malloc(logits * sizeof *sh->dlogits);
    if (!sh->x || !sh->x_int || !sh->y || !sh->dlogits)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate inputs for B=%d", batch);
    CNN_TRY(cnn_params_alloc(&sh->init, filters));
    CNN_TRY(cnn_params_alloc(&sh->init_exact, filters));

    struct cnn_rng r;
    cnn_rng_seed(&r, 0x6d6963726fu + (uint64_t)batch * 4099u + (uint64_t)filters);
    for (size_t i = 0; i < pixels; i++)
        sh->x[i] = (float)cnn_rng_below(&r, 256) / 255.0f;
    cnn_exact_batch(&r, sh->x_int, sh->y, sh->dlogits, batch);
    cnn_params_init(&sh->init, cnn_rng_next(&r));
    cnn_exact_params(&r, &sh->init_exact);
    return CNN_OK;
}

void mb_shape_free(struct mb_shape *sh)
{
    free(sh->x);
    free(sh->x_int);
    free(sh->y);
    free(sh->dlogits);
    cnn_params_free(&sh->init);
    cnn_params_free(&sh->init_exact);
    mb_outputs_free(&sh->ref);
}

static cnn_status mb_open(const struct cnn_backend *be, const struct mb_shape *sh, int variant,
                          int threads, cnn_state **out)
{
    struct cnn_config cfg = {.batch = sh->batch, .filters = sh->filters, .lr = MB_LR,
                             .threads = threads,
                             .variant = (be->caps & CNN_CAP_VARIANTS) ? variant : 0};
    return be->create(&cfg, out);
}

/* Runs both checks' sequences in s and reads every output. Host buffers are
 * NaN-filled first, so a value the backend never wrote cannot pass. Leaves s
 * after one full step from sh->init on sh->x: ready to time any region. */
static cnn_status mb_exercise(const struct cnn_backend *be, cnn_state *s, const struct mb_shape *sh,
                              struct mb_outputs *o)
{
    mb_fill_nan(o->logits, (size_t)sh->batch * CNN_CLASSES);
    mb_fill_nan(o->exact_grads.buf, o->exact_grads.count);
    mb_fill_nan(o->exact_params.buf, o->exact_params.count);
    mb_fill_nan(o->grads.buf, o->grads.count);
    mb_fill_nan(o->params.buf, o->params.count);

    CNN_TRY(be->set_params(s, &sh->init_exact));
    CNN_TRY(be->load_batch(s, sh->x_int, sh->y, sh->batch));
    CNN_TRY(be->conv_forward(s));
    CNN_TRY(be->fc_forward(s));
    CNN_TRY(be->get_logits(s, o->logits));
    /* Softmax is not exact: the gradient is injected at the logits. */
    CNN_TRY(be->set_logit_grad(s, sh->dlogits));
    CNN_TRY(be->fc_backward(s));
    CNN_TRY(be->conv_backward(s));
    CNN_TRY(be->get_grads(s, &o->exact_grads));
    CNN_TRY(be->update(s));
    CNN_TRY(be->get_params(s, &o->exact_params));

    struct cnn_step_result r;
    CNN_TRY(be->set_params(s, &sh->init));
    CNN_TRY(cnn_step(be, s, sh->x, sh->y, sh->batch, &r));
    o->loss = r.loss;
    CNN_TRY(be->get_grads(s, &o->grads));
    return be->get_params(s, &o->params);
}

static cnn_status mb_reference(struct mb_shape *sh)
{
    if (sh->have_ref)
        return CNN_OK;
    const struct cnn_backend *seq = cnn_backend_with_cap(CNN_CAP_REFERENCE);
    if (!seq)
        return cnn_fail(CNN_E_ARG, "the reference backend is not built");
    cnn_state *s = NULL;
    cnn_status st = mb_outputs_alloc(&sh->ref, sh->batch, sh->filters);
    if (st == CNN_OK)
        st = mb_open(seq, sh, 1, 0, &s);
    if (st == CNN_OK) {
        st = mb_exercise(seq, s, sh, &sh->ref);
        seq->destroy(s);
    }
    if (st != CNN_OK) {
        mb_outputs_free(&sh->ref);
        memset(&sh->ref, 0, sizeof sh->ref);
        return cnn_fail_context(st, "seq reference at B=%d F=%d", sh->batch, sh->filters);
    }
    sh->have_ref = 1;
    return CNN_OK;
}

/* First index where a and b differ in bits, or n. */
static size_t mb_first_difference(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof *a) != 0)
            return i;
    return n;
}

static cnn_status mb_bits_equal(const char *what, const float *a, const float *b, size_t n)
{
    size_t i = mb_first_difference(a, b, n);
    if (i < n)
        return cnn_fail(CNN_E_DATA,
                        "bit-exact check: %s differs from seq first at [%zu]: %.9g vs %.9g", what,
                        i, a[i], b[i]);
    return CNN_OK;
}

static cnn_status mb_compare(const struct mb_shape *sh, const struct mb_outputs *o)
{
    const struct mb_outputs *ref = &sh->ref;
    CNN_TRY(mb_bits_equal("logits", o->logits, ref->logits, (size_t)sh->batch * CNN_CLASSES));
    static const char *const names[4] = {"conv_w", "conv_b", "fc_w", "fc_b"};
    const struct cnn_params *pairs[2][2] = {{&o->exact_grads, &ref->exact_grads},
                                            {&o->exact_params, &ref->exact_params}};
    for (int p = 0; p < 2; p++) {
        const struct cnn_params *a = pairs[p][0], *b = pairs[p][1];
        const float *ta[4] = {a->conv_w, a->conv_b, a->fc_w, a->fc_b};
        const float *tb[4] = {b->conv_w, b->conv_b, b->fc_w, b->fc_b};
        size_t n[4] = {(size_t)sh->filters * CNN_KTAPS, (size_t)sh->filters,
                       CNN_CLASSES * cnn_features(sh->filters), CNN_CLASSES};
        for (int t = 0; t < 4; t++) {
            char what[32];
            snprintf(what, sizeof what, "%s%s", p == 0 ? "d" : "updated ", names[t]);
            CNN_TRY(mb_bits_equal(what, ta[t], tb[t], n[t]));
        }
    }
    CNN_TRY(cnn_agree_grads(&o->grads, &ref->grads));
    CNN_TRY(cnn_agree_params(&o->params, &ref->params));
    double rel = (o->loss - ref->loss) / ref->loss;
    if (!(rel <= MB_LOSS_REL && rel >= -MB_LOSS_REL))
        return cnn_fail(CNN_E_DATA, "one step: loss %.9g vs seq %.9g", o->loss, ref->loss);
    return CNN_OK;
}

/* ---- the live state ---- */

/* The one backend state alive at a time. Cases are registered configuration
 * by configuration, so consecutive cases share it. */
static struct {
    struct mb_config *cfg;
    cnn_state *s;
    int ready; /* holds one full step from the initial parameters */
} mb_live;


void mb_live_close(void)
{
    if (mb_live.cfg)
        mb_live.cfg->be->destroy(mb_live.s);
    mb_live.cfg = NULL;
    mb_live.s = NULL;
    mb_live.ready = 0;
}

static cnn_status mb_live_open(struct mb_config *cfg)
{
    if (mb_live.cfg == cfg)
        return CNN_OK;
    mb_live_close();
    CNN_TRY(mb_open(cfg->be, cfg->shape, cfg->variant, cfg->threads, &mb_live.s));
    mb_live.cfg = cfg;
    return CNN_OK;
}

void mb_describe(const struct mb_config *cfg, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s", cfg->be->name);
    if (cfg->be->caps & CNN_CAP_VARIANTS)
        n += snprintf(buf + n, size - (size_t)n, " v%d", cfg->variant);
    if (cfg->be->caps & CNN_CAP_THREADS)
        n += snprintf(buf + n, size - (size_t)n, " t%d", cfg->threads);
    snprintf(buf + n, size - (size_t)n, " B=%d F=%d", cfg->shape->batch, cfg->shape->filters);
}

cnn_status mb_verify(struct mb_config *cfg)
{
    if (cfg->verdict)
        return CNN_OK;
    CNN_TRY(mb_reference(cfg->shape));
    CNN_TRY(mb_live_open(cfg));
    struct mb_outputs o;
    cnn_status st = mb_outputs_alloc(&o, cfg->shape->batch, cfg->shape->filters);
    mb_live.ready = 0;
    if (st == CNN_OK)
        st = mb_exercise(cfg->be, mb_live.s, cfg->shape, &o);
    if (st == CNN_OK) {
        mb_live.ready = 1;
        cnn_status agree = mb_compare(cfg->shape, &o);
        cfg->verdict = agree == CNN_OK ? 1 : -1;
        if (agree != CNN_OK)
            snprintf(cfg->failure, sizeof cfg->failure, "%s", cnn_last_error());
    }
    mb_outputs_free(&o);
    return st;
}

cnn_status mb_prepare(struct mb_config *cfg, cnn_state **out)
{
    CNN_TRY(mb_verify(cfg));
    if (cfg->verdict < 0)
        return cnn_fail(CNN_E_DATA, "disagrees with seq: %s", cfg->failure);
    CNN_TRY(mb_live_open(cfg));
    if (!mb_live.ready) {
        struct cnn_step_result r;
        const struct mb_shape *sh = cfg->shape;
        CNN_TRY(cfg->be->set_params(mb_live.s, &sh->init));
        CNN_TRY(cnn_step(cfg->be, mb_live.s, sh->x, sh->y, sh->batch, &r));
        mb_live.ready = 1;
    }
    *out = mb_live.s;
    return CNN_OK;
}

void mb_live_moved(void)
{
    mb_live.ready = 0;
}
