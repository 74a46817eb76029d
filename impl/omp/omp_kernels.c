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
    OMPB_BWD_AHEAD = 8,               /* images a backward unit prefetches ahead */
    OMPB_INACTIVE = CNN_POOL_NO_GRAD, /* code of a pooled output with m <= 0 */
};

/* ---- forward: conv + bias + ReLU + max-pool, and the FC products ---- */

/*
 * One pool window (i, j) of one image for G filter vectors (16 G filters):
 *   z[d] = cb + sum_{t = (p,q)} cw[t] * x[2i + di + p][2j + dj + q]   d = (di, dj)
 *   m    = max_d max(z[d], 0), code = the first d reaching it, or OMPB_INACTIVE
 *   acc[c] += fc_w[c][pos][f] * m                        for the 10 classes
 * xw points at x[2i][2j]; cw [9][Fp], cb, w (fc_w at class 0, this
 * window's pos) and code at the first filter; kp = 169 Fp, the class stride
 * of fc_w. The 4 G conv accumulators stay in registers and m goes straight
 * from them into the FC products: neither the 26x26 z plane nor m is ever
 * stored. The 10 FC accumulators wait in acc [C][16] (L1) between windows:
 * the conv tile already holds 21 vector registers.
 */
static inline __attribute__((always_inline)) void
ompb_conv_window(const float *xw, const float *cw, const float *cb, const float *w, size_t kp,
                 int Fp, int G, uint8_t *code, float *acc)
{
    ovec z[4][OMPB_CONV_TILE];
    for (int g = 0; g < G; g++) {
        ovec bias = ovec_load(cb + g * OVEC_LANES);
        for (int d = 0; d < 4; d++)
            z[d][g] = bias;
    }
    for (int t = 0; t < CNN_KTAPS; t++) {
        int p = t / CNN_KSIZE, q = t % CNN_KSIZE;
        ovec wt[OMPB_CONV_TILE];
        for (int g = 0; g < G; g++)
            wt[g] = ovec_load(cw + t * Fp + g * OVEC_LANES);
        for (int d = 0; d < 4; d++) {
            ovec xs = ovec_set1(xw[(d / CNN_POOLW + p) * CNN_IMG + d % CNN_POOLW + q]);
            for (int g = 0; g < G; g++)
                z[d][g] = ovec_add(z[d][g], ovec_mul(wt[g], xs));
        }
    }
    ovec m[OMPB_CONV_TILE];
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
        ovec_i_store_u8(code + g * OVEC_LANES, arg);
        m[g] = best;
    }
    for (int c = 0; c < CNN_CLASSES; c++) {
        ovec a = ovec_load(acc + c * OVEC_LANES);
        for (int g = 0; g < G; g++)
            a = ovec_fma(ovec_load(w + c * kp + g * OVEC_LANES), m[g], a);
        ovec_store(acc + c * OVEC_LANES, a);
    }
}

/*
 * ni consecutive images, pool positions in the outer loop: the 10 rows of
 * fc_w at one position (10 Fp floats, 10 KB at F=256) stay in L1 while the
 * ni images pass, so all of fc_w (1.7 MB, more than a 1 MB L2 holds) is
 * read from beyond L1 once per ni images instead of once per image. Each
 * image's accumulators still take its windows in order, and within each the
 * filter blocks in order: each lane of acc sums its products in one order
 * fixed by Fp alone, whatever ni is.
 */
static void ompb_conv_fc_images(const float *x, const float *cw, const float *cb,
                                const float *fc_w, int Fp, int ni, uint8_t *code, float *acc)
{
    int blocks = Fp / OVEC_LANES;
    size_t kp = CNN_POOL_AREA * (size_t)Fp;
    memset(acc, 0, (size_t)ni * CNN_CLASSES * OVEC_LANES * sizeof *acc);
    for (int pos = 0; pos < CNN_POOL_AREA; pos++) {
        int i = pos / CNN_POOL, j = pos % CNN_POOL;
        size_t at = (size_t)pos * Fp;
        for (int im = 0; im < ni; im++) {
            const float *xw = x + (size_t)im * CNN_PIXELS + 2 * i * CNN_IMG + 2 * j;
            uint8_t *cd = code + im * kp + at;
            float *a = acc + im * CNN_CLASSES * OVEC_LANES;
            /* G is a constant in each call, so each is compiled for its tile */
            for (int blk = 0; blk < blocks;) {
                size_t f = (size_t)blk * OVEC_LANES;
                int left = blocks - blk;
                int G = left >= OMPB_CONV_TILE ? OMPB_CONV_TILE : left >= 2 ? 2 : 1;
                if (G == OMPB_CONV_TILE)
                    ompb_conv_window(xw, cw + f, cb + f, fc_w + at + f, kp, Fp, OMPB_CONV_TILE,
                                     cd + f, a);
                else if (G == 2)
                    ompb_conv_window(xw, cw + f, cb + f, fc_w + at + f, kp, Fp, 2, cd + f, a);
                else
                    ompb_conv_window(xw, cw + f, cb + f, fc_w + at + f, kp, Fp, 1, cd + f, a);
                blk += G;
            }
        }
    }
}

/* ---- backward: m recomputed, FC and conv gradients in one pass ---- */

/*
 * For tap t = (p, q), lane d = (di, dj) < 4 picks the pixel (di + p, dj + q)
 * of a window's 4x4 input patch; other lanes pick pixel 0 (any finite value:
 * they only meet inactive lanes, whose m and gradient are masked to zero).
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
 * The unit (pos = (i, j), filter blocks [blk0, blk0 + nb)), images in order.
 * For each image b and filter f, with d = code[b][pos][f] the winning
 * window position and pix[t] the pixel under tap t there:
 *   m            = cb + sum_t cw[t] * pix[t]  (d < 4; else 0)
 *   dfc_w[c]    += dlogits[b][c] * m
 *   dm           = sum_c fc_w[c][pos][f] * dlogits[b][c]   (d < 4; else 0)
 *   part[t]     += dm * pix[t],  part[9] += dm
 * m is recomputed with the forward's own operations in the forward's order
 * (multiply and add rounded apart, bias first, taps (0,0)..(2,2)), so it is
 * the forward's m bit for bit. Each lane has its own d, so the pixel under
 * tap t differs per lane: one permute of the image's tap vector with the
 * code as index fetches it (16 filters in one instruction, no gather), and
 * the same 9 pixels serve the recompute and the conv gradient.
 * The unit's accumulators (2 x 10 x nb vectors, 5 KB) stay in L1 and are
 * written once at the end: every dfc_w column and every part column has
 * this one owner, so none needs a reduction. The decisions of one image
 * sit 169 Fp bytes after the previous image's and the pixels 3 KB after:
 * too far apart for the hardware prefetchers, so they are prefetched
 * OMPB_BWD_AHEAD images ahead.
 */
static void ompb_backward_unit(const float *x, const float *cw, const float *cb,
                               const float *fc_w, const float *dlogits, const uint8_t *code,
                               int n, int Fp, int pos, int blk0, int nb, float *dfc_w,
                               float *part)
{
    size_t kp = CNN_POOL_AREA * (size_t)Fp, f0 = (size_t)blk0 * OVEC_LANES;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    size_t xoff = (size_t)2 * i * CNN_IMG + 2 * j;
    ovec_i pick[CNN_KTAPS];
    for (int t = 0; t < CNN_KTAPS; t++)
        pick[t] = ovec_i_load(ompb_tap_pick[t]);
    ovec dw[OMPB_UNIT_BLOCKS][CNN_CLASSES], dg[OMPB_UNIT_BLOCKS][CNN_KTAPS + 1];
    for (int k = 0; k < nb; k++) {
        for (int c = 0; c < CNN_CLASSES; c++)
            dw[k][c] = ovec_zero();
        for (int t = 0; t <= CNN_KTAPS; t++)
            dg[k][t] = ovec_zero();
    }
    for (int b = 0; b < n; b++) {
        if (b + OMPB_BWD_AHEAD < n) {
            const uint8_t *cn = code + ((size_t)(b + OMPB_BWD_AHEAD) * CNN_POOL_AREA + pos) * Fp;
            __builtin_prefetch(cn + f0);
            __builtin_prefetch(cn + f0 + (size_t)nb * OVEC_LANES - 1);
            const float *xn = x + (size_t)(b + OMPB_BWD_AHEAD) * CNN_PIXELS + xoff;
            for (int r = 0; r < 4; r++) {
                __builtin_prefetch(xn + r * CNN_IMG);
                __builtin_prefetch(xn + r * CNN_IMG + 3);
            }
        }
        ovec patch = ovec_load4x4(x + (size_t)b * CNN_PIXELS + xoff, CNN_IMG);
        ovec taps[CNN_KTAPS];
        for (int t = 0; t < CNN_KTAPS; t++)
            taps[t] = ovec_permute(patch, pick[t]);
        const float *dl = dlogits + (size_t)b * CNN_CLASSES;
        ovec g[CNN_CLASSES];
        for (int c = 0; c < CNN_CLASSES; c++)
            g[c] = ovec_set1(dl[c]);
        const uint8_t *decisions = code + ((size_t)b * CNN_POOL_AREA + pos) * Fp + f0;
        for (int k = 0; k < nb; k++) {
            size_t f = f0 + (size_t)k * OVEC_LANES;
            const float *w = fc_w + (size_t)pos * Fp + f;
            ovec_i win = ovec_i_load_u8(decisions + k * OVEC_LANES);
            ovec_mask active = ovec_i_lt(win, ovec_i_set1(OMPB_INACTIVE));
            ovec dm = ovec_mul(ovec_load(w), g[0]);
            for (int c = 1; c < CNN_CLASSES; c++)
                dm = ovec_fma(ovec_load(w + c * kp), g[c], dm);
            ovec gz = ovec_keep(active, dm);
            ovec z = ovec_load(cb + f);
            for (int t = 0; t < CNN_KTAPS; t++) {
                ovec pix = ovec_permute(taps[t], win);
                z = ovec_add(z, ovec_mul(ovec_load(cw + t * Fp + f), pix));
                dg[k][t] = ovec_fma(gz, pix, dg[k][t]);
            }
            dg[k][CNN_KTAPS] = ovec_add(dg[k][CNN_KTAPS], gz);
            ovec m = ovec_keep(active, z);
            for (int c = 0; c < CNN_CLASSES; c++)
                dw[k][c] = ovec_fma(g[c], m, dw[k][c]);
        }
    }
    for (int k = 0; k < nb; k++) {
        size_t f = f0 + (size_t)k * OVEC_LANES;
        for (int c = 0; c < CNN_CLASSES; c++)
            ovec_store(dfc_w + c * kp + (size_t)pos * Fp + f, dw[k][c]);
        for (int t = 0; t <= CNN_KTAPS; t++)
            ovec_store(part + t * Fp + f, dg[k][t]);
    }
}

const struct ompb_kernels OMPB_TABLE(OMPB_ISA) = {
    .isa = OMPB_NAME(OMPB_ISA),
    .conv_fc_images = ompb_conv_fc_images,
    .backward_unit = ompb_backward_unit,
};
