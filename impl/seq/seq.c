/*
 * seq.c — the reference backend: plain sequential C that reads like the math
 * of docs/DESIGN.md §1. Every other backend is verified against this file.
 *
 * Shapes (letters from cnn.h): x [B][28][28], conv_w [F][3][3], conv_b [F],
 * pooled m [B][F][13][13] = [B][K], fc_w [C][K], fc_b [C], logits [B][C].
 *
 * No threads and no intrinsics. Loops are ordered so that gcc -O3 can
 * vectorise them without reassociating any floating-point sum (no
 * -ffast-math): each output's additions happen in the order the formula
 * states, except the FC dot products, which use CNN_SEQ_LANES fixed partial
 * sums (see fc_dot). The result is bitwise reproducible.
 *
 * Max-pool stores, per pooled output, its pool decision (cnn.h): which of
 * the four window positions won (0..3 in the order (0,0), (0,1), (1,0),
 * (1,1); strict '>' so the first maximum wins), or CNN_POOL_NO_GRAD where
 * the pooled value m is 0. Only the winner receives gradient, and only if
 * its pre-activation z was > 0 (ReLU'(z) = 0 for z <= 0); since a =
 * max(z, 0), the winner has z > 0 exactly when m > 0, so one byte holds
 * both decisions. The backward pass reads nothing else, which is what lets
 * the verification replay it with another backend's decisions
 * (set_pool_choice).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "comm.h"
#include "error.h"
#include "params.h"
#include "softmax.h"

/* Independent partial sums in the FC dot products: wide enough for one
 * AVX-512 register, so gcc vectorises the loop without reassociation. */
enum { CNN_SEQ_LANES = 16 };
/* Columns of the FC weight gradient updated together (see seq_fc_backward). */
enum { CNN_SEQ_KBLOCK = 512 };

struct cnn_state {
    struct cnn_config cfg;
    struct cnn_params params; /* canonical layout */
    struct cnn_params grads;  /* canonical layout */
    const float *x;           /* [n][P] borrowed from the caller for one step */
    const uint8_t *y;         /* [n] */
    int n;                    /* images in the current batch, <= B */
    float *pooled;            /* m [B][K] */
    uint8_t *choice;          /* [B][K] pool decision: 0..3 or CNN_POOL_NO_GRAD */
    float *logits;            /* [B][C] */
    float *probs;             /* [B][C] softmax */
    float *dlogits;           /* [B][C] */
    float *dpooled;           /* dm [B][K] */
    double loss;              /* mean CE of the batch */
    int correct;              /* argmax(logits) == y */
};

static void seq_destroy(cnn_state *s)
{
    if (!s)
        return;
    cnn_params_free(&s->params);
    cnn_params_free(&s->grads);
    free(s->pooled);
    free(s->choice);
    free(s->logits);
    free(s->probs);
    free(s->dlogits);
    free(s->dpooled);
    free(s);
}

static cnn_status seq_probe(void) { return CNN_OK; }

extern const struct cnn_backend cnn_backend_seq;

static cnn_status seq_create(const struct cnn_config *cfg, cnn_state **out)
{
    CNN_TRY(cnn_config_check(&cnn_backend_seq, cfg));
    cnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "seq: cannot allocate state");
    s->cfg = *cfg;
    size_t b = (size_t)cfg->batch, k = cnn_features(cfg->filters);
    cnn_status st = cnn_params_alloc(&s->params, cfg->filters);
    if (st == CNN_OK)
        st = cnn_params_alloc(&s->grads, cfg->filters);
    if (st == CNN_OK) {
        s->pooled = malloc(b * k * sizeof *s->pooled);
        s->choice = malloc(b * k * sizeof *s->choice);
        s->dpooled = malloc(b * k * sizeof *s->dpooled);
        s->logits = malloc(b * CNN_CLASSES * sizeof *s->logits);
        s->probs = malloc(b * CNN_CLASSES * sizeof *s->probs);
        s->dlogits = malloc(b * CNN_CLASSES * sizeof *s->dlogits);
        if (!s->pooled || !s->choice || !s->dpooled || !s->logits || !s->probs || !s->dlogits)
            st = cnn_fail(CNN_E_NOMEM, "seq: cannot allocate activations for B=%d F=%d",
                          cfg->batch, cfg->filters);
    }
    if (st != CNN_OK) {
        seq_destroy(s);
        return st;
    }
    *out = s;
    return CNN_OK;
}

static cnn_status check_filters(const cnn_state *s, const struct cnn_params *p)
{
    if (p->filters != s->cfg.filters)
        return cnn_fail(CNN_E_ARG, "parameters have %d filters, the model %d", p->filters,
                        s->cfg.filters);
    return CNN_OK;
}

static cnn_status seq_set_params(cnn_state *s, const struct cnn_params *p)
{
    CNN_TRY(check_filters(s, p));
    cnn_params_copy(&s->params, p);
    return CNN_OK;
}

static cnn_status seq_get_params(cnn_state *s, struct cnn_params *p)
{
    CNN_TRY(check_filters(s, p));
    cnn_params_copy(p, &s->params);
    return CNN_OK;
}

static cnn_status seq_get_grads(cnn_state *s, struct cnn_params *g)
{
    CNN_TRY(check_filters(s, g));
    cnn_params_copy(g, &s->grads);
    return CNN_OK;
}

/* CPU backends copy nothing: the batch is read in place. */
static cnn_status seq_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    if (n < 1 || n > s->cfg.batch)
        return cnn_fail(CNN_E_ARG, "seq: batch of %d images, capacity %d", n, s->cfg.batch);
    s->x = x;
    s->y = y;
    s->n = n;
    return CNN_OK;
}

static inline float relu(float z) { return z > 0.0f ? z : 0.0f; }

/*
 * conv + bias + ReLU + 2x2 max-pool, fused per (image, filter):
 *   z[i][j] = cb[f] + sum_{p,q} cw[f][p][q] * x[i+p][j+q]      i, j < 26
 *   m[i][j] = max over the 2x2 window at (2i, 2j) of max(z, 0)  i, j < 13
 * The 26x26 plane lives in a stack buffer (2.7 KB, stays in L1); only the
 * 13x13 pooled values and their argmax reach memory.
 */
static void conv_pool_plane(const float *x, const float *w, float bias, float *m, uint8_t *choice)
{
    float z[CNN_CONV][CNN_CONV];
    /* one output row at a time, taps in the order (0,0), (0,1), ... (2,2):
     * the row stays in vector registers across all nine taps, and the inner
     * j loop is a plain vector multiply-add */
    for (int i = 0; i < CNN_CONV; i++) {
        float row[CNN_CONV];
        for (int j = 0; j < CNN_CONV; j++)
            row[j] = bias;
        for (int p = 0; p < CNN_KSIZE; p++)
            for (int q = 0; q < CNN_KSIZE; q++) {
                float wpq = w[p * CNN_KSIZE + q];
                const float *xrow = x + (i + p) * CNN_IMG + q;
                for (int j = 0; j < CNN_CONV; j++)
                    row[j] += wpq * xrow[j];
            }
        for (int j = 0; j < CNN_CONV; j++)
            z[i][j] = row[j];
    }
    /* ReLU then pool: the window's four values in tie order, strict '>' so
     * the first maximum wins. Written with selects, not branches or fmaxf
     * (a libm call without -ffast-math), so the j loop vectorises. */
    for (int i = 0; i < CNN_POOL; i++)
        for (int j = 0; j < CNN_POOL; j++) {
            float best = relu(z[2 * i][2 * j]);
            int best_at = 0;
            for (int d = 1; d < CNN_POOLW * CNN_POOLW; d++) {
                float a = relu(z[2 * i + d / CNN_POOLW][2 * j + d % CNN_POOLW]);
                best_at = a > best ? d : best_at;
                best = a > best ? a : best;
            }
            m[i * CNN_POOL + j] = best;
            choice[i * CNN_POOL + j] = (uint8_t)(best > 0.0f ? best_at : CNN_POOL_NO_GRAD);
        }
}

static cnn_status seq_conv_forward(cnn_state *s)
{
    int F = s->cfg.filters;
    size_t K = cnn_features(F);
    for (int b = 0; b < s->n; b++)
        for (int f = 0; f < F; f++)
            conv_pool_plane(s->x + (size_t)b * CNN_PIXELS, s->params.conv_w + f * CNN_KTAPS,
                            s->params.conv_b[f], s->pooled + b * K + (size_t)f * CNN_POOL_AREA,
                            s->choice + b * K + (size_t)f * CNN_POOL_AREA);
    return CNN_OK;
}

/* sum_k a[k] * b[k] with CNN_SEQ_LANES partial sums (lane l takes k = l mod
 * LANES), added together in lane order, then the tail in k order. */
static float fc_dot(const float *a, const float *b, size_t n)
{
    float lane[CNN_SEQ_LANES] = {0};
    size_t k = 0;
    for (; k + CNN_SEQ_LANES <= n; k += CNN_SEQ_LANES)
        for (int l = 0; l < CNN_SEQ_LANES; l++)
            lane[l] += a[k + l] * b[k + l];
    float sum = 0.0f;
    for (int l = 0; l < CNN_SEQ_LANES; l++)
        sum += lane[l];
    for (; k < n; k++)
        sum += a[k] * b[k];
    return sum;
}

/* logits[b][c] = fc_b[c] + sum_k fc_w[c][k] * m[b][k] */
static cnn_status seq_fc_forward(cnn_state *s)
{
    size_t K = cnn_features(s->cfg.filters);
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < CNN_CLASSES; c++)
            s->logits[b * CNN_CLASSES + c] =
                s->params.fc_b[c] + fc_dot(s->params.fc_w + c * K, s->pooled + b * K, K);
    return CNN_OK;
}

/* p = softmax(s) with the row maximum subtracted; loss = mean_b -log p[y_b]
 * (impl/common/softmax.c, shared by the CPU backends) */
static cnn_status seq_loss_forward(cnn_state *s)
{
    double total = 0.0;
    int correct = 0;
    for (int b = 0; b < s->n; b++) {
        int top;
        total += cnn_softmax_xent(s->logits + b * CNN_CLASSES, s->y[b],
                                  s->probs + b * CNN_CLASSES, &top);
        correct += top == s->y[b];
    }
    s->loss = total / s->n;
    s->correct = correct;
    return CNN_OK;
}

/* dlogits[b][c] = (p[b][c] - onehot(y_b)[c]) / B (the global B under a comm) */
static cnn_status seq_loss_backward(cnn_state *s)
{
    cnn_softmax_xent_grad(s->probs, s->y, s->n, cnn_comm_mean_over(&s->cfg, s->n),
                          s->dlogits);
    return CNN_OK;
}

/*
 *   dfc_w[c][k] = sum_b dlogits[b][c] * m[b][k]
 *   dfc_b[c]    = sum_b dlogits[b][c]
 *   dm[b][k]    = sum_c fc_w[c][k] * dlogits[b][c]
 */
static cnn_status seq_fc_backward(cnn_state *s)
{
    size_t K = cnn_features(s->cfg.filters);
    float *dw = s->grads.fc_w, *db = s->grads.fc_b;
    memset(dw, 0, CNN_CLASSES * K * sizeof *dw);
    memset(db, 0, CNN_CLASSES * sizeof *db);
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < CNN_CLASSES; c++)
            db[c] += s->dlogits[b * CNN_CLASSES + c];
    /* Blocked over k so that the block of dfc_w and fc_w (2 x 10 x KBLOCK
     * floats) stays in L1 while every image passes over it; the order of
     * each element's sum (over b for dfc_w, over c for dm) is unchanged. */
    for (size_t k0 = 0; k0 < K; k0 += CNN_SEQ_KBLOCK) {
        size_t k1 = k0 + CNN_SEQ_KBLOCK < K ? k0 + CNN_SEQ_KBLOCK : K;
        for (int b = 0; b < s->n; b++) {
            const float *g = s->dlogits + b * CNN_CLASSES;
            const float *m = s->pooled + b * K;
            float *dm = s->dpooled + b * K;
            for (size_t k = k0; k < k1; k++)
                dm[k] = 0.0f;
            for (int c = 0; c < CNN_CLASSES; c++) {
                const float *w = s->params.fc_w + c * K;
                float *dwc = dw + c * K;
                for (size_t k = k0; k < k1; k++) {
                    dwc[k] += g[c] * m[k];
                    dm[k] += w[k] * g[c];
                }
            }
        }
    }
    return CNN_OK;
}

/*
 * Through the pool decisions (argmax and ReLU mask), back to the filters:
 *   dconv_w[f][p][q] = sum_{b,i,j: m>0} dm[b][f][i][j] * x[b][2i+di+p][2j+dj+q]
 *   dconv_b[f]       = sum_{b,i,j: m>0} dm[b][f][i][j]
 * where (di, dj) is the stored winner and "m > 0" its CNN_POOL_NO_GRAD test. Only 169 of 676 positions per plane
 * carry gradient, so this is a quarter of a dense weight gradient.
 */
static cnn_status seq_conv_backward(cnn_state *s)
{
    int F = s->cfg.filters;
    size_t K = cnn_features(F);
    float *dw = s->grads.conv_w, *db = s->grads.conv_b;
    memset(dw, 0, (size_t)F * CNN_KTAPS * sizeof *dw);
    memset(db, 0, (size_t)F * sizeof *db);
    for (int b = 0; b < s->n; b++) {
        const float *x = s->x + (size_t)b * CNN_PIXELS;
        for (int f = 0; f < F; f++) {
            size_t base = b * K + (size_t)f * CNN_POOL_AREA;
            for (int i = 0; i < CNN_POOL; i++)
                for (int j = 0; j < CNN_POOL; j++) {
                    size_t at = base + i * CNN_POOL + j;
                    if (s->choice[at] == CNN_POOL_NO_GRAD)
                        continue;
                    float g = s->dpooled[at];
                    int zi = 2 * i + s->choice[at] / CNN_POOLW;
                    int zj = 2 * j + s->choice[at] % CNN_POOLW;
                    db[f] += g;
                    for (int p = 0; p < CNN_KSIZE; p++)
                        for (int q = 0; q < CNN_KSIZE; q++)
                            dw[f * CNN_KTAPS + p * CNN_KSIZE + q] +=
                                g * x[(zi + p) * CNN_IMG + zj + q];
                }
        }
    }
    return CNN_OK;
}

/* One process of a job (cfg.comm): the gradient summed over every process. */
static cnn_status seq_allreduce(cnn_state *s)
{
    return cnn_comm_sum(&s->cfg, s->grads.buf, s->grads.count);
}

static int seq_data_parallel(const cnn_state *s) { return cnn_comm_joined(&s->cfg); }

/* theta -= lr * grad, over the whole contiguous buffer */
static cnn_status seq_update(cnn_state *s)
{
    float lr = s->cfg.lr;
    for (size_t i = 0; i < s->params.count; i++)
        s->params.buf[i] -= lr * s->grads.buf[i];
    return CNN_OK;
}

static cnn_status seq_read_metrics(cnn_state *s, double *loss, int *correct)
{
    *loss = s->loss;
    *correct = s->correct;
    return CNN_OK;
}

static cnn_status seq_get_logits(cnn_state *s, float *logits)
{
    memcpy(logits, s->logits, (size_t)s->n * CNN_CLASSES * sizeof *logits);
    return CNN_OK;
}

static cnn_status seq_set_logit_grad(cnn_state *s, const float *dlogits)
{
    memcpy(s->dlogits, dlogits, (size_t)s->n * CNN_CLASSES * sizeof *dlogits);
    return CNN_OK;
}

static cnn_status seq_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    memcpy(choice, s->choice, (size_t)s->n * cnn_features(s->cfg.filters));
    return CNN_OK;
}

/* The reference's replay hook: the next backward routes every gradient as
 * the given decisions say (bench/engine/verify.c, after it checked them). */
static cnn_status seq_set_pool_choice(cnn_state *s, const uint8_t *choice)
{
    size_t count = (size_t)s->n * cnn_features(s->cfg.filters);
    for (size_t i = 0; i < count; i++)
        if (choice[i] > CNN_POOL_NO_GRAD)
            return cnn_fail(CNN_E_ARG, "pool decision %u at %zu is not 0..%d", choice[i], i,
                            CNN_POOL_NO_GRAD);
    memcpy(s->choice, choice, count);
    return CNN_OK;
}

static cnn_status seq_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        s->x = x + (size_t)first * CNN_PIXELS;
        s->n = count;
        seq_conv_forward(s);
        seq_fc_forward(s);
        cnn_predict_classes(s->logits, count, pred + first);
    }
    s->n = 0;
    return CNN_OK;
}

const struct cnn_backend cnn_backend_seq = {
    .name = "seq",
    .description = "sequential C reference (the oracle every backend is checked against)",
    .caps = CNN_CAP_REFERENCE | CNN_CAP_RANKS,
    .variant_count = 1,
    .fma_regions = 0, /* the reference rounds every multiply and add apart */
    .dm_in_conv_backward = 0,
    .probe = seq_probe,
    .create = seq_create,
    .destroy = seq_destroy,
    .set_params = seq_set_params,
    .get_params = seq_get_params,
    .get_grads = seq_get_grads,
    .load_batch = seq_load_batch,
    .conv_forward = seq_conv_forward,
    .fc_forward = seq_fc_forward,
    .loss_forward = seq_loss_forward,
    .loss_backward = seq_loss_backward,
    .fc_backward = seq_fc_backward,
    .conv_backward = seq_conv_backward,
    .update = seq_update,
    .read_metrics = seq_read_metrics,
    .get_logits = seq_get_logits,
    .set_logit_grad = seq_set_logit_grad,
    .get_pool_choice = seq_get_pool_choice,
    .set_pool_choice = seq_set_pool_choice,
    .predict = seq_predict,
    .allreduce = seq_allreduce,
    .data_parallel = seq_data_parallel,
};
