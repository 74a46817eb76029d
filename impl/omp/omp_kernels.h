/*
 * omp_kernels.h — the omp backend's hot kernels as a table of functions, so
 * that one binary can carry them compiled for several x86-64 levels and pick
 * one when a model is created (the way dav1d picks its assembly).
 * omp_kernels.c is compiled once per level, each copy with its own target
 * flags and OMPB_ISA suffix (impl/omp/meson.build); omp.c keeps the
 * parallel regions, and so the thread split, and calls one table entry per
 * work item (an image, a pair of images, a column tile, a chunk).
 *
 * Levels: baseline (the compiler's default target, SSE2 on x86-64), avx2
 * (AVX2 + FMA) and avx512 (AVX-512 F/BW/DQ/VL) in a -Dnative=false build on
 * x86-64; a -Dnative=true build, or another architecture, has one copy,
 * named native or baseline.
 */
#ifndef CNN_OMP_KERNELS_H
#define CNN_OMP_KERNELS_H

#include <stddef.h>
#include <stdint.h>

struct ompb_kernels {
    const char *isa; /* the level's name: baseline, avx2, avx512 or native */
    /* one image: x [28][28] -> m [169][Fp], code [169][Fp] (conv + bias +
     * ReLU + max-pool; cw [9][Fp], cb [Fp]) */
    void (*conv_image)(const float *x, const float *cw, const float *cb, int Fp, float *m,
                       uint8_t *code);
    /* ni (1 or 2) images, columns [k0, k1) of K' = kp: the vector
     * accumulators acc [ni][C][16] are zeroed at k0 = 0 and folded into
     * logits [ni][C] (with fc_b) when k1 = kp; w [C][kp], m [ni][kp];
     * prefetch the next pair's rows when `ahead` */
    void (*fc_pair)(const float *w, const float *fc_b, const float *m, size_t kp, size_t k0,
                    size_t k1, int ni, int ahead, float *acc, float *logits);
    /* dw[c][k] = sum over the n images of dl[b][c] * m[b][k], images in
     * order, for the nv vectors of columns from k0; m [n][kp], dl [n][C] */
    void (*fc_wgrad_tile)(const float *m, const float *dl, int n, size_t kp, size_t k0, int nv,
                          float *dw);
    /* the conv gradient of the images [b0, b0 + nb) (nb <= OMPB_CHUNK):
     * part [10][Fp] (taps, then bias) is overwritten with their sum, dm
     * formed from fc_w [C][169][Fp] and dlogits [n][C] on the way */
    void (*conv_grad_chunk)(const float *x, const float *fc_w, const float *dlogits,
                            const uint8_t *code, int Fp, int b0, int nb, float *part);
};

enum {
    OMPB_CHUNK = 4,      /* images per conv-gradient partial: fixed, so the
                            reduction order never follows the thread count */
    OMPB_FC_COLS = 256,  /* most dfc_w columns per fc_wgrad_tile (10 KB of accumulators) */
};

extern const struct ompb_kernels ompb_kernels_baseline;
extern const struct ompb_kernels ompb_kernels_avx2;
extern const struct ompb_kernels ompb_kernels_avx512;
extern const struct ompb_kernels ompb_kernels_native;

#endif
