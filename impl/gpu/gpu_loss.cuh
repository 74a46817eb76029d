/*
 * gpu_loss.cuh — the device functions of the softmax cross-entropy kernels,
 * for the .cu files that define such kernels: the shared ones
 * (gpu_loss.cu) and the cuda backend's own variants (impl/cuda/cuda_loss.cu),
 * so that every variant computes one image's loss with the same code.
 */
#ifndef CNN_GPU_LOSS_CUH
#define CNN_GPU_LOSS_CUH

#include "gpu_loss.h"

/* The most threads of a block that block_sum reduces over. */
enum { GPU_LOSS_THREADS = 1024 };

/* One image: probs p [C] from logits z [C]; returns -log p[label] as seq
 * computes it (log(sum) - (z[label] - max), exact even when p underflows)
 * and sets *hit when the first maximum is the label. */
static __device__ double softmax_image(const float *z, int label, float *p, int *hit)
{
    int top = 0;
    for (int c = 1; c < CNN_CLASSES; c++)
        if (z[c] > z[top])
            top = c;
    float e[CNN_CLASSES];
    float sum = 0.0f;
    for (int c = 0; c < CNN_CLASSES; c++) {
        e[c] = expf(z[c] - z[top]);
        sum += e[c];
    }
    for (int c = 0; c < CNN_CLASSES; c++)
        p[c] = e[c] / sum;
    *hit = top == label;
    return (double)logf(sum) - (double)(z[label] - z[top]);
}

/* Sums (loss, hit) over the block (at most GPU_LOSS_THREADS threads, whole
 * warps) in a fixed order: butterfly within each warp, warps in order. The
 * result is valid in thread 0. */
static __device__ void block_sum(double *loss, int *hit)
{
    __shared__ double warp_loss[GPU_LOSS_THREADS / 32];
    __shared__ int warp_hits[GPU_LOSS_THREADS / 32];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int off = 16; off > 0; off >>= 1) {
        *loss += __shfl_xor_sync(0xffffffffu, *loss, off);
        *hit += __shfl_xor_sync(0xffffffffu, *hit, off);
    }
    if (lane == 0) {
        warp_loss[warp] = *loss;
        warp_hits[warp] = *hit;
    }
    __syncthreads();
    if (threadIdx.x == 0)
        for (int w = 1; w < (int)blockDim.x / 32; w++) {
            *loss += warp_loss[w];
            *hit += warp_hits[w];
        }
}

#endif
