/*
 * cudnn_pool.cu — the kernel behind cudnn_pool.h. A max-pool's output is
 * one of its window's values, bit for bit, so the first window position
 * holding it is the first maximum, which is the tie rule of seq and of
 * cuDNN's max-pool backward (cudnn.c). Test-hook code: one pass, untimed.
 */
#include "cudnn_pool.h"
#include "gpu/gpu.h"

enum { POOL_CHOICE_THREADS = 256 };

/* plane [maps][26][26], pooled [maps][13][13] -> choice [maps][13][13];
 * thread = pooled output */
__global__ void pool_choice(const float *plane, const float *pooled, size_t outputs,
                            uint8_t *choice)
{
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= outputs)
        return;
    size_t map = t / CNN_POOL_AREA;
    int pos = (int)(t % CNN_POOL_AREA), i = pos / CNN_POOL, j = pos % CNN_POOL;
    const float *window =
        plane + map * CNN_CONV * CNN_CONV + CNN_POOLW * i * CNN_CONV + CNN_POOLW * j;
    float m = pooled[t];
    uint8_t c = CNN_POOL_NO_GRAD;
    if (m > 0.0f)
        for (int d = 0; d < CNN_POOLW * CNN_POOLW; d++)
            if (window[d / CNN_POOLW * CNN_CONV + d % CNN_POOLW] == m) {
                c = (uint8_t)d;
                break;
            }
    choice[t] = c;
}

extern "C" cnn_status cudnn_pool_choice(cudaStream_t stream, int sync_debug, const float *plane,
                                        const float *pooled, int n, int filters,
                                        uint8_t *choice)
{
    size_t outputs = (size_t)n * cnn_features(filters);
    pool_choice<<<gpu_div_up(outputs, POOL_CHOICE_THREADS), POOL_CHOICE_THREADS, 0, stream>>>(
        plane, pooled, outputs, choice);
    GPU_LAUNCHED(stream, sync_debug, "pool_choice");
    return CNN_OK;
}
