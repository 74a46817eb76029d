/*
 * cuda_conv.cuh — the device code the conv kernels share (cuda_conv.cu's
 * v1-v4 and cuda_fused.cu's v5): the input patch of a pooled position, the
 * filters staged for broadcast, one conv output's z and the pool decision,
 * the window of a decision, the gradient of one position, the fixed-order
 * block reduction of per-filter sums, and the cp.async stage of one image
 * for the backward pipelines. One definition each, so that every variant
 * computes z, and so the pool decision, with the same instructions.
 */
#ifndef CNN_CUDA_CONV_CUH
#define CNN_CUDA_CONV_CUH

#include <cuda_pipeline.h>

#include "cuda_internal.cuh"

enum {
    CONV_THREADS = 192,       /* 169 pooled positions rounded up to warps */
    CONV_TAPS_PADDED = 12,    /* 9 weights, bias, 2 unused: three float4 */
    CONV_STAGES = 4,          /* backward pipelines: depth in images */
};

/* The 4x4 input patch under pooled position (i, j): rows 2i..2i+3, columns
 * 2j..2j+3 of one image. Every conv output of the 2x2 window reads inside it. */
__device__ __forceinline__ void load_patch(const float *img, int i, int j, float P[4][4])
{
    const float *src = img + 2 * i * CNN_IMG + 2 * j;
#pragma unroll
    for (int r = 0; r < 4; r++)
#pragma unroll
        for (int c = 0; c < 4; c++)
            P[r][c] = __ldg(src + r * CNN_IMG + c);
}

/* Stages the 9 weights and the bias of filters f0..f0+nf-1 as three float4
 * per filter (padding zeroed), for broadcast reads. */
__device__ __forceinline__ void stage_filters(const float *cw, const float *cb, int f0, int nf,
                                              float4 (*wsh)[CONV_TAPS_PADDED / 4])
{
    float *wflat = reinterpret_cast<float *>(wsh);
    for (int t = threadIdx.x; t < nf * CONV_TAPS_PADDED; t += blockDim.x) {
        int fl = t / CONV_TAPS_PADDED, tap = t % CONV_TAPS_PADDED;
        float v = 0.0f;
        if (tap < CNN_KTAPS)
            v = cw[(f0 + fl) * CNN_KTAPS + tap];
        else if (tap == CNN_KTAPS)
            v = cb[f0 + fl];
        wflat[t] = v;
    }
}

/* z of one conv output whose 3x3 window starts at row di, column dj of W:
 * the bias, then the 9 taps in row order, one FMA each. The forward and v5's
 * backward (which recomputes m at the pool decision) both compute z here,
 * so the recomputed m equals the forward's bit for bit. */
template <int COLS>
__device__ __forceinline__ float conv_z(const float w[CNN_KTAPS], float bias,
                                        const float (*W)[COLS], int di, int dj)
{
    float z = bias;
#pragma unroll
    for (int p = 0; p < CNN_KSIZE; p++)
#pragma unroll
        for (int q = 0; q < CNN_KSIZE; q++)
            z = fmaf(w[p * CNN_KSIZE + q], W[di + p][dj + q], z);
    return z;
}

/* One pooled output: conv + bias over the 2x2 window of the patch, ReLU,
 * max with the first maximum winning. Starting from 0 with "no winner" and
 * taking strictly greater z only gives seq's rule, max over max(z, 0) with
 * the first maximum kept, and marks windows that ReLU zeroed. */
__device__ __forceinline__ void pool_output(const float w[CNN_KTAPS], float bias,
                                            const float P[4][4], float *m, uint8_t *arg)
{
    float best = 0.0f;
    unsigned best_at = CUDA_NO_ARGMAX;
#pragma unroll
    for (int d = 0; d < CNN_POOLW * CNN_POOLW; d++) {
        float z = conv_z(w, bias, P, d / CNN_POOLW, d % CNN_POOLW);
        if (z > best) {
            best = z;
            best_at = (unsigned)d;
        }
    }
    *m = best;
    *arg = (uint8_t)best_at;
}

/* The 3x3 input window of pool decision a (0..3) in the patch P, chosen
 * with selects (down a row, right a column) so the patch stays in
 * registers; a == CUDA_NO_ARGMAX gives window 3, which its callers ignore. */
__device__ __forceinline__ void select_window(unsigned a, const float P[4][4],
                                             float W[CNN_KSIZE][CNN_KSIZE])
{
    bool down = (a >> 1) & 1u, right = a & 1u;
    float R[CNN_KSIZE][4]; /* the rows of the window: 12 selects, then 9 */
#pragma unroll
    for (int p = 0; p < CNN_KSIZE; p++)
#pragma unroll
        for (int c = 0; c < 4; c++)
            R[p][c] = down ? P[p + 1][c] : P[p][c];
#pragma unroll
    for (int p = 0; p < CNN_KSIZE; p++)
#pragma unroll
        for (int q = 0; q < CNN_KSIZE; q++)
            W[p][q] = right ? R[p][q + 1] : R[p][q];
}

/* Adds one pooled position's gradient g, routed through its pool decision
 * a, to the 9 weight sums and the bias sum of one filter. */
__device__ __forceinline__ void accumulate_position(unsigned a, float g, const float P[4][4],
                                                    float acc[CNN_KTAPS + 1])
{
    /* no winner: add zeros (acc starts at +0, so adding +-0 leaves it
     * bitwise unchanged, as skipping would) */
    g = a == CUDA_NO_ARGMAX ? 0.0f : g;
    float W[CNN_KSIZE][CNN_KSIZE];
    select_window(a, P, W);
#pragma unroll
    for (int p = 0; p < CNN_KSIZE; p++)
#pragma unroll
        for (int q = 0; q < CNN_KSIZE; q++)
            acc[p * CNN_KSIZE + q] = fmaf(g, W[p][q], acc[p * CNN_KSIZE + q]);
    acc[CNN_KTAPS] += g;
}

/* The block's fixed-order reduction of acc over its 192 threads: butterfly
 * within each warp, then warps in order; writes part[chunk][f0..f0+nf-1][10]. */
template <int FB>
__device__ __forceinline__ void reduce_filters(float acc[FB][CNN_KTAPS + 1], int nf, float *part)
{
    __shared__ float warp_sums[CONV_THREADS / 32][FB * (CNN_KTAPS + 1)];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
#pragma unroll
    for (int fl = 0; fl < FB; fl++)
#pragma unroll
        for (int t = 0; t <= CNN_KTAPS; t++) {
            float v = acc[fl][t];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, off);
            if (lane == 0)
                warp_sums[warp][fl * (CNN_KTAPS + 1) + t] = v;
        }
    __syncthreads();
    int t = threadIdx.x;
    if (t < nf * (CNN_KTAPS + 1)) {
        float v = warp_sums[0][t];
        for (int w = 1; w < CONV_THREADS / 32; w++)
            v += warp_sums[w][t];
        part[t] = v;
    }
}


/* One image's slice of the v3/v4 backward pipeline, in shared memory: the
 * gradient source (v3: the dm tile of filters f0..f0+FB-1; v4: the image's
 * dlogits row), the argmax tile and the pixels. Tiles and rows are
 * contiguous in global memory but not 16-byte aligned, so the enclosing
 * 16-byte-aligned range is copied and the tile starts `first` mod 4 floats
 * or mod 16 bytes into it (dm, dlogits and argmax carry 16 bytes of padding
 * at their end for this). */
template <int FB, bool FROM_LOGITS> struct conv_stage {
    /* up to 3 floats / 15 bytes of lead, then the tile, in whole 16-byte pieces */
    float grad[FROM_LOGITS ? (CNN_CLASSES * 4 + 12 + 15) / 16 * 4
                           : (FB * CNN_POOL_AREA * 4 + 12 + 15) / 16 * 4];
    uint8_t arg[(FB * CNN_POOL_AREA + 15 + 15) / 16 * 16];
    float x[CNN_PIXELS];
};

/* Where a stage's gradient source starts in global memory (in floats):
 * image b's dm tile for filters f0.. (v3) or its dlogits row (v4). */
template <bool FROM_LOGITS> __device__ __forceinline__ size_t grad_first(int b, int F, int f0)
{
    return FROM_LOGITS ? (size_t)b * CNN_CLASSES : ((size_t)b * F + f0) * CNN_POOL_AREA;
}

/* Issues the cp.async copies of image b's tiles into st: thread t copies
 * the 16-byte pieces t, t + 192, ... of each tile, in loops whose bounds
 * are compile-time constants (so no loop is left, only predicates: the
 * copy issue is per-image overhead shared by only FB filters). The buffers
 * are at least 256-byte aligned, so a tile's lead inside its aligned range
 * is `first` mod 4 floats or mod 16 bytes. */
template <int FB, bool FROM_LOGITS>
__device__ __forceinline__ void stage_image(conv_stage<FB, FROM_LOGITS> *st, const float *x,
                                            const float *grad, const uint8_t *arg, int b, int F,
                                            int f0, int nf)
{
    constexpr int grad_most = sizeof st->grad / 16, arg_most = sizeof st->arg / 16,
                  x_pieces = sizeof st->x / 16;
    size_t first = ((size_t)b * F + f0) * CNN_POOL_AREA;
    int len = nf * CNN_POOL_AREA;
    size_t gfirst = grad_first<FROM_LOGITS>(b, F, f0);
    int glen = FROM_LOGITS ? CNN_CLASSES : len;
    const float4 *grad_src = reinterpret_cast<const float4 *>(grad + (gfirst & ~(size_t)3));
    int grad_pieces = ((int)(gfirst & 3) + glen + 3) / 4;
    const uint4 *arg_src = reinterpret_cast<const uint4 *>(arg + (first & ~(size_t)15));
    int arg_pieces = ((int)(first & 15) + len + 15) / 16;
    const float4 *x_src = reinterpret_cast<const float4 *>(x + (size_t)b * CNN_PIXELS);
    float4 *grad_dst = reinterpret_cast<float4 *>(st->grad);
    uint4 *arg_dst = reinterpret_cast<uint4 *>(st->arg);
    float4 *x_dst = reinterpret_cast<float4 *>(st->x);
    int t = threadIdx.x;
#pragma unroll
    for (int k = 0; k < (grad_most + CONV_THREADS - 1) / CONV_THREADS; k++)
        if (t + k * CONV_THREADS < grad_pieces)
            __pipeline_memcpy_async(grad_dst + t + k * CONV_THREADS, grad_src + t + k * CONV_THREADS,
                                    16);
#pragma unroll
    for (int k = 0; k < (arg_most + CONV_THREADS - 1) / CONV_THREADS; k++)
        if (t + k * CONV_THREADS < arg_pieces)
            __pipeline_memcpy_async(arg_dst + t + k * CONV_THREADS, arg_src + t + k * CONV_THREADS,
                                    16);
#pragma unroll
    for (int k = 0; k < (x_pieces + CONV_THREADS - 1) / CONV_THREADS; k++)
        if (t + k * CONV_THREADS < x_pieces)
            __pipeline_memcpy_async(x_dst + t + k * CONV_THREADS, x_src + t + k * CONV_THREADS, 16);
}

#endif
