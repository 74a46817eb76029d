/*
 * omp_kernels.h — the omp backend's hot kernels as a table of functions, so
 * that one binary can carry them compiled for several x86-64 levels and pick
 * one when a model is created (the way dav1d picks its assembly).
 * omp_kernels.c is compiled once per level, each copy with its own target
 * flags and OMPB_ISA suffix (impl/omp/meson.build); omp.c keeps the
 * parallel regions, and so the thread split, and calls one table entry per
 * work item (a few images forward, a backward unit of columns).
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
    /* the forward of ni consecutive images, m never stored: x [ni][28][28]
     * -> code [ni][169][Fp] (conv + bias + ReLU + max-pool; cw [9][Fp],
     * cb [Fp]) and acc [ni][C][16], each image's FC products
     * fc_w [C][169][Fp] . m summed per vector lane over its pooled outputs
     * in order (overwritten); ni changes no bit */
    void (*conv_fc_images)(const float *x, const float *cw, const float *cb, const float *fc_w,
                           int Fp, int ni, uint8_t *code, float *acc);
    /* the whole backward of one unit of columns, pool position pos and the
     * filter blocks [blk0, blk0 + nb) (nb <= OMPB_UNIT_BLOCKS), over the n
     * images in order: m recomputed at the stored pool decision, its
     * columns of dfc_w [C][169][Fp] written, dm formed, and the unit's
     * conv gradient written to its columns of part [10][Fp] (taps, then
     * bias); x [n][28][28], dlogits [n][C], code [n][169][Fp] */
    void (*backward_unit)(const float *x, const float *cw, const float *cb, const float *fc_w,
                          const float *dlogits, const uint8_t *code, int n, int Fp, int pos,
                          int blk0, int nb, float *dfc_w, float *part);
};

enum {
    OMPB_UNIT_BLOCKS = 4,  /* filter blocks per backward unit: 64 filters, one
                              cache line of pool decisions per image */
    OMPB_FWD_IMAGES = 8,   /* most images per conv_fc_images call */
};

extern const struct ompb_kernels ompb_kernels_baseline;
extern const struct ompb_kernels ompb_kernels_avx2;
extern const struct ompb_kernels ompb_kernels_avx512;
extern const struct ompb_kernels ompb_kernels_native;

#endif
