/*
 * omp_kernels.c — the omp backend's hot kernels (omp_kernels.h), written once
 * against omp_vec.h and compiled once per ISA level: impl/omp/meson.build
 * builds this file with each level's target flags and -DOMPB_ISA=<level>,
 * and each copy exports its table as ompb_kernels_<level>. Everything else
 * here is static, so the copies never clash. No OpenMP here: omp.c owns the
 * parallel regions and hands each kernel one work item.
 *
 * Layouts and the summation orders that keep results bitwise the same for
 * every thread count are described at the top of omp.c.
 */
#include <string.h>

#include "cnn.h"
#include "omp_kernels.h"
#include "omp_vec.h"

#ifndef OMPB_ISA
#error "compile with -DOMPB_ISA=<level> (impl/omp/meson.build does)"
#endif
#define OMPB_NAME_(isa) #isa
#define OMPB_NAME(isa) OMPB_NAME_(isa)
#define OMPB_TABLE_(isa) ompb_kernels_##isa
#define OMPB_TABLE(isa) OMPB_TABLE_(isa)

enum {
    OMPB_CONV_TILE = 4,               /* filter vectors per conv forward register tile */
    OMPB_FC_AHEAD = 8,                /* images of m that fc_wgrad_tile prefetches ahead */
    OMPB_INACTIVE = CNN_POOL_NO_GRAD, /* code of a pooled output with m <= 0 */
};

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

/* NI is a constant in each call, so each is compiled for its pair size. The
 * per-lane sums run over k in order whatever the tiling: it changes no bit. */
static void ompb_fc_pair(const float *w, const float *fc_b, const float *m, size_t kp, size_t k0,
                         size_t k1, int ni, int ahead, float *acc, float *logits)
{
    if (k0 == 0)
        memset(acc, 0, (size_t)ni * CNN_CLASSES * OVEC_LANES * sizeof *acc);
    if (ni == 2)
        ompb_fc_tile(w, m, kp, k0, k1, 2, ahead, acc);
    else
        ompb_fc_tile(w, m, kp, k0, k1, 1, 0, acc);
    if (k1 == kp)
        for (int e = 0; e < ni * CNN_CLASSES; e++)
            logits[e] = fc_b[e % CNN_CLASSES] + ovec_sum(ovec_load(acc + e * OVEC_LANES));
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
 * One pool window (i, j) = pos of the images [b0, b0 + nb) of one chunk,
 * added into the chunk's partial part [10][Fp] (rows 0..8 the taps, row 9
 * the bias):
 *   dm[b][pos][f]  = sum_c fc_w[c][pos][f] * dlogits[b][c]
 *   part[t][f]    += dm * x[b][2i + di + p][2j + dj + q]   if code = d < 4
 *   part[9][f]    += dm                                    if code < 4
 * Each lane (filter) has its own argmax d, so the pixel under tap t differs
 * per lane: one permute of the precomputed tap vector with the code as
 * index fetches it (16 filters in one instruction instead of a gather).
 */
static void ompb_conv_backward_window(const float *x, const float *fc_w, const float *dlogits,
                                      const uint8_t *code, int Fp, const ovec_i pick[CNN_KTAPS],
                                      int pos, int b0, int nb, float *part)
{
    int blocks = Fp / OVEC_LANES;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    ovec taps[OMPB_CHUNK][CNN_KTAPS];
    for (int bi = 0; bi < nb; bi++) {
        const float *xw = x + (size_t)(b0 + bi) * CNN_PIXELS + 2 * i * CNN_IMG + 2 * j;
        ovec patch = ovec_load4x4(xw, CNN_IMG);
        for (int t = 0; t < CNN_KTAPS; t++)
            taps[bi][t] = ovec_permute(patch, pick[t]);
    }
    for (int blk = 0; blk < blocks; blk++) {
        size_t f0 = (size_t)blk * OVEC_LANES;
        ovec w[CNN_CLASSES], acc[CNN_KTAPS + 1];
        for (int c = 0; c < CNN_CLASSES; c++)
            w[c] = ovec_load(fc_w + ((size_t)c * CNN_POOL_AREA + pos) * Fp + f0);
        for (int t = 0; t <= CNN_KTAPS; t++)
            acc[t] = ovec_load(part + t * Fp + f0);
        for (int bi = 0; bi < nb; bi++) {
            const float *dl = dlogits + (b0 + bi) * CNN_CLASSES;
            ovec dm = ovec_mul(w[0], ovec_set1(dl[0]));
            for (int c = 1; c < CNN_CLASSES; c++)
                dm = ovec_fma(w[c], ovec_set1(dl[c]), dm);
            size_t at = ((size_t)(b0 + bi) * CNN_POOL_AREA + pos) * Fp + f0;
            ovec_i win = ovec_i_load_u8(code + at);
            ovec gz = ovec_keep(ovec_i_lt(win, ovec_i_set1(OMPB_INACTIVE)), dm);
            for (int t = 0; t < CNN_KTAPS; t++)
                acc[t] = ovec_fma(gz, ovec_permute(taps[bi][t], win), acc[t]);
            acc[CNN_KTAPS] = ovec_add(acc[CNN_KTAPS], gz);
        }
        for (int t = 0; t <= CNN_KTAPS; t++)
            ovec_store(part + t * Fp + f0, acc[t]);
    }
}

/* The chunk's partial, summed over the windows in order, then its images. */
static void ompb_conv_grad_chunk(const float *x, const float *fc_w, const float *dlogits,
                                 const uint8_t *code, int Fp, int b0, int nb, float *part)
{
    ovec_i pick[CNN_KTAPS];
    for (int t = 0; t < CNN_KTAPS; t++)
        pick[t] = ovec_i_load(ompb_tap_pick[t]);
    memset(part, 0, (size_t)(CNN_KTAPS + 1) * Fp * sizeof *part);
    for (int pos = 0; pos < CNN_POOL_AREA; pos++)
        ompb_conv_backward_window(x, fc_w, dlogits, code, Fp, pick, pos, b0, nb, part);
}

const struct ompb_kernels OMPB_TABLE(OMPB_ISA) = {
    .isa = OMPB_NAME(OMPB_ISA),
    .conv_image = ompb_conv_image,
    .fc_pair = ompb_fc_pair,
    .fc_wgrad_tile = ompb_fc_wgrad_tile,
    .conv_grad_chunk = ompb_conv_grad_chunk,
};
