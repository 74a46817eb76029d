/*
 * omp.c — the OpenMP backend: the network of docs/DESIGN.md §1 on every core, SIMD
 * across filters (impl/omp/omp_vec.h), and parameters that are bitwise the
 * same for every thread count. Functions carry the prefix ompb_ ("omp
 * backend"): omp_ itself belongs to the OpenMP runtime.
 *
 * Internal layouts (set_params/get_params/get_grads convert to and from the
 * canonical one). Filters are padded to Fp, a multiple of 16, so that one
 * vector is one filter block; padded filters have zero weights, produce
 * m = 0 and zero gradients, and so stay zero.
 *   conv_w [9][Fp] tap-major, directly followed by conv_b [Fp]: one [10][Fp]
 *   fc_w   [C][169][Fp]  (K' = 169 Fp: pooled features in HWC order)
 *   fc_b   [C]
 *   m      [B][169][Fp]  pooled activations
 *   code   [B][169][Fp]  the winning window position d = 2 di + dj (0..3) of
 *                        each pooled output, or OMPB_INACTIVE where m <= 0,
 *                        i.e. where ReLU passes no gradient (seq's m > 0 test)
 *
 * Work split. No floating-point sum is ever split by thread:
 *   conv_forward   images over threads. Each z is summed in seq's exact order
 *                  (bias, then taps (0,0)..(2,2), multiply and add rounded
 *                  separately), so m and the argmax equal seq's bit for bit:
 *                  a near tie decided otherwise would move a whole gradient
 *                  contribution, far beyond the agreement tolerance.
 *   fc_forward     pairs of images over threads.
 *   fc_backward    blocks of dfc_w columns over threads; each column sums the
 *                  batch in image order, so there are no partials at all.
 *   conv_backward  fixed chunks of OMPB_CHUNK images over threads, one
 *                  partial [10][Fp] per chunk, then the partials summed in
 *                  chunk order, in parallel over parameter elements.
 *
 * One fusion crosses a region boundary: the FC data gradient
 * dm = fc_w^T dlogits is formed inside conv_backward, one pool window at a
 * time, instead of being written by fc_backward and read back (2 x 4 B x
 * B x K' of memory traffic, 346 MB per step at B=1000, F=256). Its FLOPs
 * (2 C K' B) are therefore timed in conv_bwd, not fc_bwd.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "comm.h"
#include "error.h"
#include "omp_vec.h"
#include "params.h"
#include "softmax.h"

enum {
    OMPB_CHUNK = 4,                    /* images per conv-gradient partial: fixed, so the
                                          reduction order never follows the thread count */
    OMPB_CONV_TILE = 4,                /* filter vectors per conv forward register tile */
    OMPB_FC_TILE = 4096,               /* K' columns per fc_forward tile (fc_w tile 160 KB) */
    OMPB_FC_COLS = 256,                /* dfc_w columns per fc_backward tile (10 KB) */
    OMPB_FC_AHEAD = 8,                 /* images of m that fc_backward prefetches ahead */
    OMPB_INACTIVE = CNN_POOL_NO_GRAD,  /* code of a pooled output with m <= 0 */
    OMPB_ALIGN = 64,                   /* cache line: no two threads' rows share one */
};

struct cnn_state {
    struct cnn_config cfg;
    int threads;              /* OpenMP threads of every parallel region */
    int fpad;                 /* Fp */
    size_t kpad;              /* K' = 169 Fp */
    size_t count;             /* floats in params and in grads */
    float *params;            /* internal layout */
    float *grads;
    struct cnn_params p, g;   /* views of params and grads: the internal layout
                                 has the canonical sizes for F = Fp, so the
                                 canonical views (cnn_params_view) with
                                 filters = Fp: conv_w [9][Fp], conv_b [Fp],
                                 fc_w [C][169][Fp], fc_b [C] */
    const float *x;           /* [n][P] borrowed from the caller for one step */
    const uint8_t *y;         /* [n] */
    int n;                    /* images in the current batch, <= B */
    float *pooled;            /* m [B][169][Fp] */
    uint8_t *code;            /* [B][169][Fp] */
    float *logits;            /* [B][C] */
    float *probs;             /* [B][C] */
    float *dlogits;           /* [B][C] */
    float *fc_acc;            /* [B][C][16] fc_forward's vector accumulators */
    double *loss_img;         /* [B] -log p[y] of each image */
    uint8_t *hit_img;         /* [B] argmax == label */
    float *partial;           /* [ceil(B / OMPB_CHUNK)][10][Fp] conv gradient per chunk */
    double loss;
    int correct;
};

/* ---- allocation ---- */

static void *ompb_alloc(size_t bytes)
{
    size_t rounded = (bytes + OMPB_ALIGN - 1) / OMPB_ALIGN * OMPB_ALIGN;
    return aligned_alloc(OMPB_ALIGN, rounded ? rounded : OMPB_ALIGN);
}

static void ompb_destroy(cnn_state *s)
{
    if (!s)
        return;
    free(s->params);
    free(s->grads);
    free(s->pooled);
    free(s->code);
    free(s->logits);
    free(s->probs);
    free(s->dlogits);
    free(s->fc_acc);
    free(s->loss_img);
    free(s->hit_img);
    free(s->partial);
    free(s);
}

static cnn_status ompb_probe(void) { return CNN_OK; }

static int ompb_chunks(int n) { return (n + OMPB_CHUNK - 1) / OMPB_CHUNK; }

/* First touch: each image's activation rows are zeroed by the thread that
 * the static schedule of conv_forward gives that image, so on a NUMA
 * machine its pages sit on that thread's node (and no page fault is left
 * for the first timed step). */
static void ompb_first_touch(cnn_state *s)
{
    size_t row = CNN_POOL_AREA * (size_t)s->fpad;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->cfg.batch; b++) {
        memset(s->pooled + b * row, 0, row * sizeof *s->pooled);
        memset(s->code + b * row, 0, row);
    }
}

extern const struct cnn_backend cnn_backend_omp;

static cnn_status ompb_create(const struct cnn_config *cfg, cnn_state **out)
{
    CNN_TRY(cnn_config_check(&cnn_backend_omp, cfg));
    cnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "omp: cannot allocate state");
    s->cfg = *cfg;
    s->threads = cfg->threads > 0 ? cfg->threads : omp_get_max_threads();
    s->fpad = (cfg->filters + OVEC_LANES - 1) / OVEC_LANES * OVEC_LANES;
    s->kpad = CNN_POOL_AREA * (size_t)s->fpad;
    s->count = (size_t)(CNN_KTAPS + 1) * s->fpad + CNN_CLASSES * s->kpad + CNN_CLASSES;
    size_t b = (size_t)cfg->batch, bk = b * s->kpad, bc = b * CNN_CLASSES;
    s->params = ompb_alloc(s->count * sizeof *s->params);
    s->grads = ompb_alloc(s->count * sizeof *s->grads);
    s->pooled = ompb_alloc(bk * sizeof *s->pooled);
    s->code = ompb_alloc(bk);
    s->logits = ompb_alloc(bc * sizeof *s->logits);
    s->probs = ompb_alloc(bc * sizeof *s->probs);
    s->dlogits = ompb_alloc(bc * sizeof *s->dlogits);
    s->fc_acc = ompb_alloc(bc * OVEC_LANES * sizeof *s->fc_acc);
    s->loss_img = ompb_alloc(b * sizeof *s->loss_img);
    s->hit_img = ompb_alloc(b);
    s->partial = ompb_alloc((size_t)ompb_chunks(cfg->batch) * (CNN_KTAPS + 1) * s->fpad *
                            sizeof *s->partial);
    if (!s->params || !s->grads || !s->pooled || !s->code || !s->logits || !s->probs ||
        !s->dlogits || !s->fc_acc || !s->loss_img || !s->hit_img || !s->partial) {
        ompb_destroy(s);
        return cnn_fail(CNN_E_NOMEM, "omp: cannot allocate activations for B=%d F=%d",
                        cfg->batch, cfg->filters);
    }
    memset(s->params, 0, s->count * sizeof *s->params);
    memset(s->grads, 0, s->count * sizeof *s->grads);
    cnn_params_view(&s->p, s->fpad, s->params);
    cnn_params_view(&s->g, s->fpad, s->grads);
    ompb_first_touch(s);
    *out = s;
    return CNN_OK;
}

/* ---- canonical <-> internal parameter layout ---- */

static cnn_status ompb_check_filters(const cnn_state *s, const struct cnn_params *p)
{
    if (p->filters != s->cfg.filters)
        return cnn_fail(CNN_E_ARG, "omp: parameters have %d filters, the model %d", p->filters,
                        s->cfg.filters);
    return CNN_OK;
}

/* canonical c (conv_w [F][9], conv_b [F], fc_w [C][F*169], fc_b [C]) -> internal v;
 * the padding of v is left as it is (zero) */
static void ompb_import(const cnn_state *s, const struct cnn_params *c, const struct cnn_params *v)
{
    int F = s->cfg.filters, Fp = s->fpad;
    for (int f = 0; f < F; f++) {
        for (int t = 0; t < CNN_KTAPS; t++)
            v->conv_w[t * Fp + f] = c->conv_w[f * CNN_KTAPS + t];
        v->conv_b[f] = c->conv_b[f];
    }
    size_t K = cnn_features(F);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int cls = 0; cls < CNN_CLASSES; cls++)
        for (int pos = 0; pos < CNN_POOL_AREA; pos++)
            for (int f = 0; f < F; f++)
                v->fc_w[((size_t)cls * CNN_POOL_AREA + pos) * Fp + f] =
                    c->fc_w[cls * K + (size_t)f * CNN_POOL_AREA + pos];
    memcpy(v->fc_b, c->fc_b, CNN_CLASSES * sizeof *v->fc_b);
}

/* internal v -> canonical c */
static void ompb_export(const cnn_state *s, const struct cnn_params *v, struct cnn_params *c)
{
    int F = s->cfg.filters, Fp = s->fpad;
    for (int f = 0; f < F; f++) {
        for (int t = 0; t < CNN_KTAPS; t++)
            c->conv_w[f * CNN_KTAPS + t] = v->conv_w[t * Fp + f];
        c->conv_b[f] = v->conv_b[f];
    }
    size_t K = cnn_features(F);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int cls = 0; cls < CNN_CLASSES; cls++)
        for (int f = 0; f < F; f++)
            for (int pos = 0; pos < CNN_POOL_AREA; pos++)
                c->fc_w[cls * K + (size_t)f * CNN_POOL_AREA + pos] =
                    v->fc_w[((size_t)cls * CNN_POOL_AREA + pos) * Fp + f];
    memcpy(c->fc_b, v->fc_b, CNN_CLASSES * sizeof *c->fc_b);
}

static cnn_status ompb_set_params(cnn_state *s, const struct cnn_params *p)
{
    CNN_TRY(ompb_check_filters(s, p));
    ompb_import(s, p, &s->p);
    return CNN_OK;
}

static cnn_status ompb_get_params(cnn_state *s, struct cnn_params *p)
{
    CNN_TRY(ompb_check_filters(s, p));
    ompb_export(s, &s->p, p);
    return CNN_OK;
}

static cnn_status ompb_get_grads(cnn_state *s, struct cnn_params *g)
{
    CNN_TRY(ompb_check_filters(s, g));
    ompb_export(s, &s->g, g);
    return CNN_OK;
}

/* CPU backends copy nothing: the batch is read in place. */
static cnn_status ompb_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    if (n < 1 || n > s->cfg.batch)
        return cnn_fail(CNN_E_ARG, "omp: batch of %d images, capacity %d", n, s->cfg.batch);
    s->x = x;
    s->y = y;
    s->n = n;
    return CNN_OK;
}

/* ---- conv + bias + ReLU + max-pool, forward ---- */

/*
 * One pool window (i, j) of one image for G filter vectors (16 G filters):
 *   z[d] = cb + sum_{t = (p,q)} cw[t] * x[2i + di + p][2j + dj + q]   d = (di, dj)
 *   m    = max_d max(z[d], 0), code = the first d reaching it, or OMPB_INACTIVE
 * xw points at x[2i][2j]; cw [9][Fp], cb, m and code at the first filter.
 * The 4 G accumulators stay in registers; the 26x26 z plane never exists.
 */
static inline __attribute__((always_inline)) void
ompb_conv_window(const float *xw, const float *cw, const float *cb, int Fp, int G, float *m,
                 uint8_t *code)
{
    ovec z[4][OMPB_CONV_TILE];
    for (int g = 0; g < G; g++) {
        ovec bias = ovec_load(cb + g * OVEC_LANES);
        for (int d = 0; d < 4; d++)
            z[d][g] = bias;
    }
    for (int t = 0; t < CNN_KTAPS; t++) {
        int p = t / CNN_KSIZE, q = t % CNN_KSIZE;
        ovec w[OMPB_CONV_TILE];
        for (int g = 0; g < G; g++)
            w[g] = ovec_load(cw + t * Fp + g * OVEC_LANES);
        for (int d = 0; d < 4; d++) {
            ovec xs = ovec_set1(xw[(d / CNN_POOLW + p) * CNN_IMG + d % CNN_POOLW + q]);
            for (int g = 0; g < G; g++)
                z[d][g] = ovec_add(z[d][g], ovec_mul(w[g], xs));
        }
    }
    for (int g = 0; g < G; g++) {
        /* strict '>' keeps the first maximum, as seq does */
        ovec best = ovec_max0(z[0][g]);
        ovec_i arg = ovec_i_set1(0);
        for (int d = 1; d < 4; d++) {
            ovec a = ovec_max0(z[d][g]);
            ovec_mask win = ovec_gt(a, best);
            best = ovec_blend(win, best, a);
            arg = ovec_i_blend(win, arg, ovec_i_set1(d));
        }
        ovec_mask active = ovec_gt(best, ovec_zero());
        arg = ovec_i_blend(active, ovec_i_set1(OMPB_INACTIVE), arg);
        ovec_store(m + g * OVEC_LANES, best);
        ovec_i_store_u8(code + g * OVEC_LANES, arg);
    }
}

/* One image: x [28][28] -> m [169][Fp], code [169][Fp]. */
static void ompb_conv_image(const float *x, const float *cw, const float *cb, int Fp, float *m,
                            uint8_t *code)
{
    int blocks = Fp / OVEC_LANES;
    for (int i = 0; i < CNN_POOL; i++)
        for (int j = 0; j < CNN_POOL; j++) {
            const float *xw = x + 2 * i * CNN_IMG + 2 * j;
            size_t at = (size_t)(i * CNN_POOL + j) * Fp;
            /* G is a constant in each call, so each is compiled for its tile */
            for (int blk = 0; blk < blocks;) {
                size_t f = (size_t)blk * OVEC_LANES;
                int left = blocks - blk;
                if (left >= OMPB_CONV_TILE) {
                    ompb_conv_window(xw, cw + f, cb + f, Fp, OMPB_CONV_TILE, m + at + f,
                                     code + at + f);
                    blk += OMPB_CONV_TILE;
                } else if (left >= 2) {
                    ompb_conv_window(xw, cw + f, cb + f, Fp, 2, m + at + f, code + at + f);
                    blk += 2;
                } else {
                    ompb_conv_window(xw, cw + f, cb + f, Fp, 1, m + at + f, code + at + f);
                    blk += 1;
                }
            }
        }
}

/* Images over threads. */
static cnn_status ompb_conv_forward(cnn_state *s)
{
    size_t row = s->kpad;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->n; b++)
        ompb_conv_image(s->x + (size_t)b * CNN_PIXELS, s->p.conv_w, s->p.conv_b, s->fpad,
                        s->pooled + b * row, s->code + b * row);
    return CNN_OK;
}

/* ---- fully connected layer ---- */

/*
 * Partial logits of NI (1 or 2) consecutive images over the columns
 * [k0, k1) of K': acc[i][c] += fc_w[c][k] * m[i][k], one vector accumulator
 * per (image, class), carried between column tiles in acc [NI][C][16].
 * Each fc_w vector loaded serves NI images. w [C][K'], m [NI][K'].
 * With 20 FMAs per 128 bytes of m the loop is too long for the
 * out-of-order window to keep enough misses in flight, and each tile's
 * 16 KB run of a row restarts the hardware prefetcher; so when `ahead`,
 * the same columns of the next pair's rows are prefetched.
 */
static inline __attribute__((always_inline)) void
ompb_fc_tile(const float *w, const float *m, size_t kp, size_t k0, size_t k1, int NI, int ahead,
             float *acc)
{
    ovec a[2][CNN_CLASSES];
    for (int i = 0; i < NI; i++)
        for (int c = 0; c < CNN_CLASSES; c++)
            a[i][c] = ovec_load(acc + (i * CNN_CLASSES + c) * OVEC_LANES);
    for (size_t k = k0; k < k1; k += OVEC_LANES) {
        ovec mv[2];
        for (int i = 0; i < NI; i++) {
            if (ahead)
                __builtin_prefetch(m + (i + 2) * kp + k);
            mv[i] = ovec_load(m + i * kp + k);
        }
        for (int c = 0; c < CNN_CLASSES; c++) {
            ovec wv = ovec_load(w + c * kp + k);
            for (int i = 0; i < NI; i++)
                a[i][c] = ovec_fma(wv, mv[i], a[i][c]);
        }
    }
    for (int i = 0; i < NI; i++)
        for (int c = 0; c < CNN_CLASSES; c++)
            ovec_store(acc + (i * CNN_CLASSES + c) * OVEC_LANES, a[i][c]);
}

/*
 * logits[b][c] = fc_b[c] + sum_k fc_w[c][k] * m[b][k].
 * Blocked over K' in tiles of OMPB_FC_TILE columns: a tile of fc_w (10 x
 * 16 KB) stays in L2 while every image streams its part of m; the whole
 * fc_w (1.7 MB at F=256) would compete with m for L2. A static schedule
 * with the same bounds gives each thread the same pairs in every tile
 * (OpenMP guarantees it), so the tiles need no barrier between them. The
 * per-lane sums run over k in order either way: the tiling does not
 * change a bit.
 */
static cnn_status ompb_fc_forward(cnn_state *s)
{
    size_t kp = s->kpad;
    int pairs = (s->n + 1) / 2;
#pragma omp parallel num_threads(s->threads)
    {
        for (size_t k0 = 0; k0 < kp; k0 += OMPB_FC_TILE) {
            size_t k1 = kp - k0 < OMPB_FC_TILE ? kp : k0 + OMPB_FC_TILE;
#pragma omp for schedule(static) nowait
            for (int pr = 0; pr < pairs; pr++) {
                int b = 2 * pr, ni = b + 1 < s->n ? 2 : 1;
                float *acc = s->fc_acc + (size_t)b * CNN_CLASSES * OVEC_LANES;
                if (k0 == 0)
                    memset(acc, 0, (size_t)ni * CNN_CLASSES * OVEC_LANES * sizeof *acc);
                int ahead = b + 3 < s->n;
                if (ni == 2)
                    ompb_fc_tile(s->p.fc_w, s->pooled + b * kp, kp, k0, k1, 2, ahead, acc);
                else
                    ompb_fc_tile(s->p.fc_w, s->pooled + b * kp, kp, k0, k1, 1, 0, acc);
                if (k1 == kp)
                    for (int e = 0; e < ni * CNN_CLASSES; e++) {
                        float dot = ovec_sum(ovec_load(acc + e * OVEC_LANES));
                        s->logits[b * CNN_CLASSES + e] = s->p.fc_b[e % CNN_CLASSES] + dot;
                    }
            }
        }
    }
    return CNN_OK;
}

/*
 * dfc_w[c][k] = sum_b dlogits[b][c] * m[b][k] for the columns [k0, k0 + nv
 * vectors): the accumulators (10 x nv vectors, 10 KB) live in L1 while the
 * rows of m stream through in runs of nv vectors, two images per pass over
 * the accumulators (half the load/store traffic of one). A run of 1 KB is
 * too short for the hardware prefetcher to ramp up in, so the same run
 * OMPB_FC_AHEAD images ahead is prefetched. The sum of every element still
 * runs over the images in order. m [B][K'], dl [B][C], dw [C][K'].
 */
static void ompb_fc_wgrad_tile(const float *m, const float *dl, int n, size_t kp, size_t k0,
                               int nv, float *dw)
{
    ovec acc[CNN_CLASSES][OMPB_FC_COLS / OVEC_LANES];
    for (int c = 0; c < CNN_CLASSES; c++)
        for (int v = 0; v < nv; v++)
            acc[c][v] = ovec_zero();
    int b = 0;
    for (; b + 1 < n; b += 2) {
        const float *m0 = m + b * kp + k0, *m1 = m0 + kp;
        ovec g0[CNN_CLASSES], g1[CNN_CLASSES];
        for (int c = 0; c < CNN_CLASSES; c++) {
            g0[c] = ovec_set1(dl[b * CNN_CLASSES + c]);
            g1[c] = ovec_set1(dl[(b + 1) * CNN_CLASSES + c]);
        }
        for (int v = 0; v < nv; v++) {
            if (b + OMPB_FC_AHEAD + 1 < n) {
                __builtin_prefetch(m0 + OMPB_FC_AHEAD * kp + v * OVEC_LANES);
                __builtin_prefetch(m1 + OMPB_FC_AHEAD * kp + v * OVEC_LANES);
            }
            ovec x0 = ovec_load(m0 + v * OVEC_LANES), x1 = ovec_load(m1 + v * OVEC_LANES);
            for (int c = 0; c < CNN_CLASSES; c++)
                acc[c][v] = ovec_fma(g1[c], x1, ovec_fma(g0[c], x0, acc[c][v]));
        }
    }
    if (b < n) {
        const float *m0 = m + b * kp + k0;
        for (int v = 0; v < nv; v++) {
            ovec x0 = ovec_load(m0 + v * OVEC_LANES);
            for (int c = 0; c < CNN_CLASSES; c++)
                acc[c][v] = ovec_fma(ovec_set1(dl[b * CNN_CLASSES + c]), x0, acc[c][v]);
        }
    }
    for (int c = 0; c < CNN_CLASSES; c++)
        for (int v = 0; v < nv; v++)
            ovec_store(dw + c * kp + k0 + v * OVEC_LANES, acc[c][v]);
}

/* dfc_w and dfc_b; dm is left to conv_backward (see the top of the file).
 * Column tiles are narrowed (down to 4 vectors) until every thread has at
 * least 4 of them: at F=32 full tiles would give 16 threads 21 tiles. */
static cnn_status ompb_fc_backward(cnn_state *s)
{
    size_t kp = s->kpad;
    size_t cols = kp / (4 * (size_t)s->threads) / OVEC_LANES * OVEC_LANES;
    cols = cols > OMPB_FC_COLS ? OMPB_FC_COLS : cols < 4 * OVEC_LANES ? 4 * OVEC_LANES : cols;
    long tiles = (long)((kp + cols - 1) / cols);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (long kt = 0; kt < tiles; kt++) {
        size_t k0 = (size_t)kt * cols;
        size_t width = kp - k0 < cols ? kp - k0 : cols;
        ompb_fc_wgrad_tile(s->pooled, s->dlogits, s->n, kp, k0, (int)(width / OVEC_LANES),
                           s->g.fc_w);
    }
    for (int c = 0; c < CNN_CLASSES; c++) {
        float sum = 0.0f;
        for (int b = 0; b < s->n; b++)
            sum += s->dlogits[b * CNN_CLASSES + c];
        s->g.fc_b[c] = sum;
    }
    return CNN_OK;
}

/* ---- softmax cross-entropy ---- */

/* p = softmax(s) with the row maximum subtracted; loss = mean_b -log p[y_b].
 * Per image in parallel, then the batch sums in image order. */
static cnn_status ompb_loss_forward(cnn_state *s)
{
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->n; b++) {
        int top;
        s->loss_img[b] = cnn_softmax_xent(s->logits + b * CNN_CLASSES, s->y[b],
                                          s->probs + b * CNN_CLASSES, &top);
        s->hit_img[b] = top == s->y[b];
    }
    double total = 0.0;
    int correct = 0;
    for (int b = 0; b < s->n; b++) {
        total += s->loss_img[b];
        correct += s->hit_img[b];
    }
    s->loss = total / s->n;
    s->correct = correct;
    return CNN_OK;
}

/* dlogits[b][c] = (p[b][c] - onehot(y_b)[c]) / B: B x C floats, not worth
 * waking the threads for */
static cnn_status ompb_loss_backward(cnn_state *s)
{
    cnn_softmax_xent_grad(s->probs, s->y, s->n, cnn_comm_mean_over(&s->cfg, s->n),
                          s->dlogits);
    return CNN_OK;
}

/* ---- conv backward, through the pool argmax ---- */

/*
 * For tap t = (p, q), lane d = (di, dj) < 4 picks the pixel (di + p, dj + q)
 * of a window's 4x4 input patch; other lanes pick pixel 0 (any finite value:
 * they are only ever multiplied by a zero gradient).
 */
static const int32_t ompb_tap_pick[CNN_KTAPS][OVEC_LANES] = {
#define OMPB_PICK(p, q) \
    {(p) * 4 + (q), (p) * 4 + (q) + 1, ((p) + 1) * 4 + (q), ((p) + 1) * 4 + (q) + 1}
    OMPB_PICK(0, 0), OMPB_PICK(0, 1), OMPB_PICK(0, 2),
    OMPB_PICK(1, 0), OMPB_PICK(1, 1), OMPB_PICK(1, 2),
    OMPB_PICK(2, 0), OMPB_PICK(2, 1), OMPB_PICK(2, 2),
#undef OMPB_PICK
};

/*
 * One pool window (i, j) = pos of the images [b0, b0 + nb) of one chunk
 * (nb <= OMPB_CHUNK), added into the chunk's partial part [10][Fp] (rows
 * 0..8 the taps, row 9 the bias):
 *   dm[b][pos][f]  = sum_c fc_w[c][pos][f] * dlogits[b][c]
 *   part[t][f]    += dm * x[b][2i + di + p][2j + dj + q]   if code = d < 4
 *   part[9][f]    += dm                                    if code < 4
 * Each lane (filter) has its own argmax d, so the pixel under tap t differs
 * per lane: one permute of the precomputed tap vector with the code as
 * index fetches it (16 filters in one instruction instead of a gather).
 */
static void ompb_conv_backward_window(const cnn_state *s, const ovec_i pick[CNN_KTAPS], int pos,
                                      int b0, int nb, float *part)
{
    int Fp = s->fpad, blocks = Fp / OVEC_LANES;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    ovec taps[OMPB_CHUNK][CNN_KTAPS];
    for (int bi = 0; bi < nb; bi++) {
        const float *xw = s->x + (size_t)(b0 + bi) * CNN_PIXELS + 2 * i * CNN_IMG + 2 * j;
        ovec patch = ovec_load4x4(xw, CNN_IMG);
        for (int t = 0; t < CNN_KTAPS; t++)
            taps[bi][t] = ovec_permute(patch, pick[t]);
    }
    for (int blk = 0; blk < blocks; blk++) {
        size_t f0 = (size_t)blk * OVEC_LANES;
        ovec w[CNN_CLASSES], acc[CNN_KTAPS + 1];
        for (int c = 0; c < CNN_CLASSES; c++)
            w[c] = ovec_load(s->p.fc_w + ((size_t)c * CNN_POOL_AREA + pos) * Fp + f0);
        for (int t = 0; t <= CNN_KTAPS; t++)
            acc[t] = ovec_load(part + t * Fp + f0);
        for (int bi = 0; bi < nb; bi++) {
            const float *dl = s->dlogits + (b0 + bi) * CNN_CLASSES;
            ovec dm = ovec_mul(w[0], ovec_set1(dl[0]));
            for (int c = 1; c < CNN_CLASSES; c++)
                dm = ovec_fma(w[c], ovec_set1(dl[c]), dm);
            size_t at = ((size_t)(b0 + bi) * CNN_POOL_AREA + pos) * Fp + f0;
            ovec_i code = ovec_i_load_u8(s->code + at);
            ovec gz = ovec_keep(ovec_i_lt(code, ovec_i_set1(OMPB_INACTIVE)), dm);
            for (int t = 0; t < CNN_KTAPS; t++)
                acc[t] = ovec_fma(gz, ovec_permute(taps[bi][t], code), acc[t]);
            acc[CNN_KTAPS] = ovec_add(acc[CNN_KTAPS], gz);
        }
        for (int t = 0; t <= CNN_KTAPS; t++)
            ovec_store(part + t * Fp + f0, acc[t]);
    }
}

/*
 * dconv_w, dconv_b: each chunk's partial is summed over the windows, then
 * the chunk's images, whatever thread computes it; then the partials are
 * summed in chunk order straight into the internal gradient [10][Fp]
 * (conv_w rows, then conv_b), in parallel over its elements.
 */
static cnn_status ompb_conv_backward(cnn_state *s)
{
    int chunks = ompb_chunks(s->n);
    size_t stride = (size_t)(CNN_KTAPS + 1) * s->fpad;
    long vecs = (long)(stride / OVEC_LANES);
#pragma omp parallel num_threads(s->threads)
    {
        ovec_i pick[CNN_KTAPS];
        for (int t = 0; t < CNN_KTAPS; t++)
            pick[t] = ovec_i_load(ompb_tap_pick[t]);
#pragma omp for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            int b0 = ch * OMPB_CHUNK;
            int nb = s->n - b0 < OMPB_CHUNK ? s->n - b0 : OMPB_CHUNK;
            float *part = s->partial + ch * stride;
            memset(part, 0, stride * sizeof *part);
            for (int pos = 0; pos < CNN_POOL_AREA; pos++)
                ompb_conv_backward_window(s, pick, pos, b0, nb, part);
        }
#pragma omp for schedule(static)
        for (long v = 0; v < vecs; v++) {
            size_t e = (size_t)v * OVEC_LANES;
            ovec sum = ovec_load(s->partial + e);
            for (int ch = 1; ch < chunks; ch++)
                sum = ovec_add(sum, ovec_load(s->partial + ch * stride + e));
            ovec_store(s->g.conv_w + e, sum);
        }
    }
    return CNN_OK;
}

/* ---- update, metrics, hooks ---- */

/* One process of a job (cfg.comm): the gradient summed over every process,
 * the whole internal buffer at once (padding is zero on every process). */
static cnn_status ompb_allreduce(cnn_state *s)
{
    return cnn_comm_sum(&s->cfg, s->grads, s->count);
}

static int ompb_data_parallel(const cnn_state *s) { return cnn_comm_joined(&s->cfg); }

/* theta -= lr * grad over the whole internal buffer (padding stays zero) */
static cnn_status ompb_update(cnn_state *s)
{
    float lr = s->cfg.lr;
    float *p = s->params;
    const float *g = s->grads;
    long count = (long)s->count;
#pragma omp parallel for simd num_threads(s->threads) schedule(static)
    for (long i = 0; i < count; i++)
        p[i] -= lr * g[i];
    return CNN_OK;
}

static cnn_status ompb_read_metrics(cnn_state *s, double *loss, int *correct)
{
    *loss = s->loss;
    *correct = s->correct;
    return CNN_OK;
}

static cnn_status ompb_get_logits(cnn_state *s, float *logits)
{
    memcpy(logits, s->logits, (size_t)s->n * CNN_CLASSES * sizeof *logits);
    return CNN_OK;
}

static cnn_status ompb_set_logit_grad(cnn_state *s, const float *dlogits)
{
    memcpy(s->dlogits, dlogits, (size_t)s->n * CNN_CLASSES * sizeof *dlogits);
    return CNN_OK;
}

/* code [n][169][Fp] -> choice [n][F][169], the canonical order; the codes
 * are the contract's decisions already (OMPB_INACTIVE == CNN_POOL_NO_GRAD). */
static cnn_status ompb_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    int F = s->cfg.filters, Fp = s->fpad;
    for (int b = 0; b < s->n; b++)
        for (int f = 0; f < F; f++)
            for (int pos = 0; pos < CNN_POOL_AREA; pos++)
                choice[((size_t)b * F + f) * CNN_POOL_AREA + pos] =
                    s->code[((size_t)b * CNN_POOL_AREA + pos) * Fp + f];
    return CNN_OK;
}

/* Forward only, in chunks of at most B images; pred [n]. */
static cnn_status ompb_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        s->x = x + (size_t)first * CNN_PIXELS;
        s->n = count;
        CNN_TRY(ompb_conv_forward(s));
        CNN_TRY(ompb_fc_forward(s));
        cnn_predict_classes(s->logits, count, pred + first);
    }
    s->n = 0;
    return CNN_OK;
}

const struct cnn_backend cnn_backend_omp = {
    .name = "omp",
    .description = "OpenMP threads + SIMD over filters; bitwise the same for every thread count",
    .caps = CNN_CAP_THREADS | CNN_CAP_THREAD_BASELINE | CNN_CAP_RANKS,
    .variant_count = 1,
    .probe = ompb_probe,
    .create = ompb_create,
    .destroy = ompb_destroy,
    .set_params = ompb_set_params,
    .get_params = ompb_get_params,
    .get_grads = ompb_get_grads,
    .load_batch = ompb_load_batch,
    .conv_forward = ompb_conv_forward,
    .fc_forward = ompb_fc_forward,
    .loss_forward = ompb_loss_forward,
    .loss_backward = ompb_loss_backward,
    .fc_backward = ompb_fc_backward,
    .conv_backward = ompb_conv_backward,
    .update = ompb_update,
    .read_metrics = ompb_read_metrics,
    .get_logits = ompb_get_logits,
    .set_logit_grad = ompb_set_logit_grad,
    .get_pool_choice = ompb_get_pool_choice,
    .predict = ompb_predict,
    .allreduce = ompb_allreduce,
    .data_parallel = ompb_data_parallel,
};
