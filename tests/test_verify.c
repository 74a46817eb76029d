/*
 * test_verify.c — the sweep's verification (bench/engine/verify.h) must pass every
 * correct backend at every size, near ties in max-pool windows included,
 * and must still fail planted bugs. On the first batch of the real MNIST
 * digits (datasets/fetch-mnist.sh):
 *
 *   controls  seq wrapped without a mutation passes with no flip; every
 *             other backend of the build that can run here (GPU ones where
 *             there is a GPU), every variant, passes at B=1000, F=256, where
 *             summation orders other than seq's decide a few near ties the
 *             other way (the case that made the old check fail);
 *   mutants   seq wrapped with one planted bug must fail: a 1% scale error
 *             in each gradient tensor, gradients of filter f+1 credited to
 *             filter f (an off-by-one in the filter index), a dropped bias
 *             gradient, the last maximum of a tie winning instead of the
 *             first, and a NaN in one gradient element.
 *
 * The wrapper runs seq's own slots and plants its bug between them: in the
 * update (gradient bugs) or after the forward pass (the tie rule, through
 * seq's set_pool_choice).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnn.h"
#include "idx.h"
#include "params.h"
#include "pool_decision.h"
#include "sampler.h"
#include "verify.h"

enum mutation {
    MUT_NONE,
    MUT_SCALE_CONV_W, MUT_SCALE_CONV_B, MUT_SCALE_FC_W, MUT_SCALE_FC_B,
    MUT_FILTER_OFF_BY_ONE,
    MUT_DROP_CONV_BIAS,
    MUT_TIE_LAST,
    MUT_NAN,
    MUT_COUNT,
};

static const char *const mutation_names[MUT_COUNT] = {
    "none", "dconv_w x 1.01", "dconv_b x 1.01", "dfc_w x 1.01", "dfc_b x 1.01",
    "filter f gets filter f+1's gradient", "dconv_b dropped", "tie rule: last maximum wins",
    "NaN in dfc_w[123]",
};

static enum mutation planted; /* the bug the wrapper plants in its next states */
static const struct cnn_backend *seq;

struct cnn_state {
    cnn_state *inner; /* seq's own state */
    struct cnn_config cfg;
    enum mutation mutation;
    const float *x;   /* the batch, for the tie rule */
    int n;
};

static cnn_status mut_probe(void) { return CNN_OK; }

static cnn_status mut_create(const struct cnn_config *cfg, cnn_state **out)
{
    cnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "mutant: no memory");
    s->cfg = *cfg;
    s->mutation = planted;
    cnn_status st = seq->create(cfg, &s->inner);
    if (st != CNN_OK) {
        free(s);
        return st;
    }
    *out = s;
    return CNN_OK;
}

static void mut_destroy(cnn_state *s)
{
    if (s)
        seq->destroy(s->inner);
    free(s);
}

static cnn_status mut_set_params(cnn_state *s, const struct cnn_params *p)
{
    return seq->set_params(s->inner, p);
}
static cnn_status mut_get_params(cnn_state *s, struct cnn_params *p)
{
    return seq->get_params(s->inner, p);
}
static cnn_status mut_get_grads(cnn_state *s, struct cnn_params *g)
{
    return seq->get_grads(s->inner, g);
}
static cnn_status mut_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    s->x = x;
    s->n = n;
    return seq->load_batch(s->inner, x, y, n);
}

/* A window whose winner has an identical 3x3 patch at a later position
 * (an exact tie, decided by the tie rule) goes to the last such position. */
static cnn_status plant_last_max(cnn_state *s)
{
    size_t K = cnn_features(s->cfg.filters), count = (size_t)s->n * K;
    uint8_t *choice = malloc(count);
    if (!choice)
        return cnn_fail(CNN_E_NOMEM, "mutant: no memory");
    cnn_status st = seq->get_pool_choice(s->inner, choice);
    for (size_t at = 0; st == CNN_OK && at < count; at++) {
        if (choice[at] == CNN_POOL_NO_GRAD)
            continue;
        int pos = (int)(at % CNN_POOL_AREA), i = pos / CNN_POOL, j = pos % CNN_POOL;
        const float *x = s->x + at / K * CNN_PIXELS;
        const float *win = x + 2 * i * CNN_IMG + 2 * j;
        int d0 = choice[at];
        const float *p0 = win + d0 / 2 * CNN_IMG + d0 % 2;
        for (int d = 3; d > d0; d--) {
            const float *pd = win + d / 2 * CNN_IMG + d % 2;
            int same = 1;
            for (int r = 0; r < CNN_KSIZE; r++)
                same &= memcmp(p0 + r * CNN_IMG, pd + r * CNN_IMG, CNN_KSIZE * sizeof *pd) == 0;
            if (same) {
                choice[at] = (uint8_t)d;
                break;
            }
        }
    }
    if (st == CNN_OK)
        st = seq->set_pool_choice(s->inner, choice);
    free(choice);
    return st;
}

static cnn_status mut_conv_forward(cnn_state *s)
{
    CNN_TRY(seq->conv_forward(s->inner));
    return s->mutation == MUT_TIE_LAST ? plant_last_max(s) : CNN_OK;
}
static cnn_status mut_fc_forward(cnn_state *s) { return seq->fc_forward(s->inner); }
static cnn_status mut_loss_forward(cnn_state *s) { return seq->loss_forward(s->inner); }
static cnn_status mut_loss_backward(cnn_state *s) { return seq->loss_backward(s->inner); }
static cnn_status mut_fc_backward(cnn_state *s) { return seq->fc_backward(s->inner); }
static cnn_status mut_conv_backward(cnn_state *s) { return seq->conv_backward(s->inner); }

static void plant_gradient_bug(enum mutation m, struct cnn_params *g)
{
    int F = g->filters;
    switch (m) {
    case MUT_SCALE_CONV_W:
        for (size_t i = 0; i < (size_t)F * CNN_KTAPS; i++)
            g->conv_w[i] *= 1.01f;
        break;
    case MUT_SCALE_CONV_B:
        for (int f = 0; f < F; f++)
            g->conv_b[f] *= 1.01f;
        break;
    case MUT_SCALE_FC_W:
        for (size_t i = 0; i < CNN_CLASSES * cnn_features(F); i++)
            g->fc_w[i] *= 1.01f;
        break;
    case MUT_SCALE_FC_B:
        for (int c = 0; c < CNN_CLASSES; c++)
            g->fc_b[c] *= 1.01f;
        break;
    case MUT_FILTER_OFF_BY_ONE:
        for (int f = 0; f + 1 < F; f++) {
            memcpy(g->conv_w + (size_t)f * CNN_KTAPS, g->conv_w + (size_t)(f + 1) * CNN_KTAPS,
                   CNN_KTAPS * sizeof *g->conv_w);
            g->conv_b[f] = g->conv_b[f + 1];
        }
        break;
    case MUT_DROP_CONV_BIAS: memset(g->conv_b, 0, (size_t)F * sizeof *g->conv_b); break;
    case MUT_NAN: g->fc_w[123] = NAN; break;
    default: break;
    }
}

/* seq's update, theta -= lr * grad, on the (possibly mutated) gradients. */
static cnn_status mut_update(cnn_state *s)
{
    struct cnn_params p, g;
    CNN_TRY(cnn_params_alloc(&p, s->cfg.filters));
    cnn_status st = cnn_params_alloc(&g, s->cfg.filters);
    if (st == CNN_OK)
        st = seq->get_params(s->inner, &p);
    if (st == CNN_OK)
        st = seq->get_grads(s->inner, &g);
    if (st == CNN_OK) {
        plant_gradient_bug(s->mutation, &g);
        for (size_t i = 0; i < p.count; i++)
            p.buf[i] -= s->cfg.lr * g.buf[i];
        st = seq->set_params(s->inner, &p);
    }
    cnn_params_free(&p);
    if (g.buf)
        cnn_params_free(&g);
    return st;
}

static cnn_status mut_read_metrics(cnn_state *s, double *loss, int *correct)
{
    return seq->read_metrics(s->inner, loss, correct);
}
static cnn_status mut_get_logits(cnn_state *s, float *l) { return seq->get_logits(s->inner, l); }
static cnn_status mut_set_logit_grad(cnn_state *s, const float *d)
{
    return seq->set_logit_grad(s->inner, d);
}
static cnn_status mut_get_pool_choice(cnn_state *s, uint8_t *c)
{
    return seq->get_pool_choice(s->inner, c);
}
static cnn_status mut_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    return seq->predict(s->inner, x, n, pred);
}

static const struct cnn_backend mutant = {
    .name = "mutant",
    .description = "seq with one planted bug",
    .variant_count = 1,
    .probe = mut_probe, .create = mut_create, .destroy = mut_destroy,
    .set_params = mut_set_params, .get_params = mut_get_params, .get_grads = mut_get_grads,
    .load_batch = mut_load_batch, .conv_forward = mut_conv_forward,
    .fc_forward = mut_fc_forward, .loss_forward = mut_loss_forward,
    .loss_backward = mut_loss_backward, .fc_backward = mut_fc_backward,
    .conv_backward = mut_conv_backward, .update = mut_update,
    .read_metrics = mut_read_metrics, .get_logits = mut_get_logits,
    .set_logit_grad = mut_set_logit_grad, .get_pool_choice = mut_get_pool_choice,
    .predict = mut_predict,
};

/* seq's reference step on the first `batch` digits, shared by every check
 * at that size. */
static void make_reference(const float *x, const uint8_t *y, int batch, int filters,
                           struct cnn_params *init, struct verify_reference *ref)
{
    struct cnn_config cfg = {.batch = batch, .filters = filters, .lr = 0.1f};
    CHECK_OK(cnn_params_alloc(init, filters));
    cnn_params_init(init, 1);
    CHECK_OK(verify_reference_make(&cfg, init, x, y, batch, ref));
}

static struct verify_report verify(const struct cnn_backend *be, int threads, int variant,
                                   int gpus, const struct verify_reference *ref)
{
    struct cnn_config cfg = ref->cfg;
    cfg.threads = threads;
    cfg.variant = (be->caps & CNN_CAP_VARIANTS) ? variant : 0;
    cfg.gpus = gpus;
    cnn_state *state = NULL;
    struct verify_report rep;
    CHECK_OK(be->create(&cfg, &state));
    CHECK_OK(verify_backend_step(be, state, ref, &rep));
    be->destroy(state);
    return rep;
}

static void check_mutants(const float *x, const uint8_t *y, int batch, int filters)
{
    struct cnn_params init;
    struct verify_reference ref;
    make_reference(x, y, batch, filters, &init, &ref);
    for (int m = 0; m < MUT_COUNT; m++) {
        planted = (enum mutation)m;
        struct verify_report rep = verify(&mutant, 0, 1, 0, &ref);
        if (m == MUT_NONE)
            check(rep.agree && rep.tie_flips == 0,
                  "B=%d F=%d seq through the wrapper, no mutation: passes (%zu flips)%s%s", batch,
                  filters, rep.tie_flips, rep.agree ? "" : ": ", rep.detail);
        else
            check(!rep.agree, "B=%d F=%d mutant '%s' fails: %s", batch, filters,
                  mutation_names[m], rep.agree ? "(it passed)" : rep.detail);
    }
    verify_reference_free(&ref);
    cnn_params_free(&init);
}

/* Every backend of the build that runs here, each variant, and, where it
 * trains over several GPUs, its data-parallel mode over one GPU: near ties
 * are decided otherwise there. */
static void check_backends(const float *x, const uint8_t *y, int batch, int filters)
{
    struct cnn_params init;
    struct verify_reference ref;
    make_reference(x, y, batch, filters, &init, &ref);
    for (int i = 0; cnn_backends[i]; i++) {
        const struct cnn_backend *be = cnn_backends[i];
        if (be == seq || be->probe() != CNN_OK)
            continue;
        int threads = (be->caps & CNN_CAP_THREADS) ? 2 : 0;
        for (int gpus = 0; gpus <= ((be->caps & CNN_CAP_DATA_PARALLEL) ? 1 : 0); gpus++)
            for (int v = 1; v <= be->variant_count; v++) {
                struct verify_report rep = verify(be, threads, v, gpus, &ref);
                check(rep.agree, "B=%d F=%d %s v%d gpus %d passes: %zu of %zu windows decided "
                      "otherwise within rounding and replayed%s%s", batch, filters, be->name, v,
                      gpus, rep.tie_flips, rep.windows, rep.agree ? "" : "; ", rep.detail);
                check(!((double)rep.tie_flips > VERIFY_MAX_FLIP_SHARE * (double)rep.windows),
                      "B=%d F=%d %s v%d gpus %d: flips within the %g share", batch, filters,
                      be->name, v, gpus, VERIFY_MAX_FLIP_SHARE);
            }
    }
    verify_reference_free(&ref);
    cnn_params_free(&init);
}

/* The admissibility rule itself on one hand-made window (pool_decision.h):
 * filter 0 reads only its tap (0,0), so z at window position d is
 * cb + x[pixel under d]. */
static void check_admissible_rule(void)
{
    struct cnn_params p;
    CHECK_OK(cnn_params_alloc(&p, 1));
    p.conv_w[0] = 1.0f;
    p.conv_b[0] = 0.5f;
    float x[CNN_PIXELS] = {0};
    float base = 0.25f;
    x[0] = base;                                  /* position 0: z = 0.75 */
    x[1] = nextafterf(nextafterf(base, 1), 1);    /* position 1: 2 ulp above */
    check(cnn_pool_admissible(x, &p, 0, 0) && cnn_pool_admissible(x, &p, 0, 1),
          "a near tie (2 ulp, within gamma_10 * sum|terms|) admits either winner");
    check(!cnn_pool_admissible(x, &p, 0, 2) && !cnn_pool_admissible(x, &p, 0, CNN_POOL_NO_GRAD),
          "but not a clearly lower position, nor no gradient");
    x[1] = base + 1e-3f;
    check(!cnn_pool_admissible(x, &p, 0, 0) && cnn_pool_admissible(x, &p, 0, 1),
          "a gap of 1e-3 admits only the true winner");
    p.conv_b[0] = -0.5f;
    x[0] = x[1] = x[CNN_IMG] = x[CNN_IMG + 1] = 0.0f;
    check(cnn_pool_admissible(x, &p, 0, CNN_POOL_NO_GRAD) && !cnn_pool_admissible(x, &p, 0, 0),
          "all z < 0 admits only no gradient");
    p.conv_b[0] = 0.5f;
    check(cnn_pool_admissible(x, &p, 0, 0) && !cnn_pool_admissible(x, &p, 0, 1) &&
              !cnn_pool_admissible(x, &p, 0, 3),
          "identical patches (all zero pixels): only the first maximum wins");
    check(!cnn_pool_admissible(x, &p, 0, CNN_POOL_NO_GRAD + 1),
          "a decision above 4 is never admissible");
    cnn_params_free(&p);
}

int main(void)
{
    check_name = "verify";
    seq = cnn_backend_with_cap(CNN_CAP_REFERENCE);
    CHECK_OK(seq ? CNN_OK : cnn_fail(CNN_E_ARG, "the reference backend is not built"));
    struct cnn_dataset train, test;
    CHECK_OK(cnn_dataset_open("mnist", &train, &test));
    enum { BIG_BATCH = 1000 };
    float *x;
    CHECK_OK(cnn_pixels_to_float(train.images, BIG_BATCH, &x));

    check_admissible_rule();
    check_mutants(x, train.labels, 100, 32);
    check_mutants(x, train.labels, BIG_BATCH, 64);
    check_backends(x, train.labels, BIG_BATCH, 256);

    free(x);
    cnn_dataset_free(&train);
    cnn_dataset_free(&test);
    return check_finish();
}
