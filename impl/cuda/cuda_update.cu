/*
 * cuda_update.cu — plain SGD on the device, theta -= lr * grad, over the
 * whole canonical parameter buffer at once (params and grads share one
 * layout, so the update is a single elementwise pass).
 *
 * The product is rounded on its own (__fmul_rn) before the subtraction,
 * exactly as seq computes it, instead of being contracted into an FMA.
 *
 * Variants:
 *   v1  one thread per parameter.
 *   v2  float4 loads and stores over a grid sized to the buffer, the last
 *       count % 4 parameters handled by the first threads.
 *   v3-v5  the v2 kernel.
 */
#include "cuda_internal.cuh"

enum { UPDATE_THREADS = 256 };

/* p [count] -= lr * g [count]; thread = parameter */
__global__ void update_v1(float *p, const float *g, size_t count, float lr)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count)
        p[i] = p[i] - __fmul_rn(lr, g[i]);
}

/* p [count] -= lr * g [count]; thread = 4 parameters, p and g 16-byte aligned */
__global__ void update_v2(float *p, const float *g, size_t count, float lr)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    size_t quads = count / 4;
    if (i < quads) {
        float4 pv = reinterpret_cast<float4 *>(p)[i];
        float4 gv = reinterpret_cast<const float4 *>(g)[i];
        pv.x = pv.x - __fmul_rn(lr, gv.x);
        pv.y = pv.y - __fmul_rn(lr, gv.y);
        pv.z = pv.z - __fmul_rn(lr, gv.z);
        pv.w = pv.w - __fmul_rn(lr, gv.w);
        reinterpret_cast<float4 *>(p)[i] = pv;
    }
    size_t tail = quads * 4 + i;
    if (tail < count)
        p[tail] = p[tail] - __fmul_rn(lr, g[tail]);
}

extern "C" cnn_status cuda_update(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_UPDATE);
    size_t count = s->count;
    if (s->variant == CUDA_VARIANT_NAIVE) {
        update_v1<<<gpu_div_up(count, UPDATE_THREADS), UPDATE_THREADS, 0, s->stream>>>(
            s->params_buf, s->grads_buf, count, s->cfg.lr);
        CUDA_LAUNCHED(s, "update_v1");
        return CNN_OK;
    }
    update_v2<<<gpu_div_up(count / 4 + 1, UPDATE_THREADS), UPDATE_THREADS, 0, s->stream>>>(
        s->params_buf, s->grads_buf, count, s->cfg.lr);
    CUDA_LAUNCHED(s, "update_v2");
    return CNN_OK;
}
