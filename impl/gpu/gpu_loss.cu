/*
 * gpu_loss.cu — the shared softmax cross-entropy kernels behind gpu_loss.h
 * (the cuda backend's v2 ones, which its v3 and v4 keep for the backward),
 * and the kernel image check of gpu_probe.
 */
#include "gpu.h"
#include "gpu_loss.cuh"

enum { LOSS_BWD_THREADS = 256 };

/* logits [n][C], y [n] -> probs [n][C], out; one block of at most
 * GPU_LOSS_THREADS */
__global__ void __launch_bounds__(GPU_LOSS_THREADS)
loss_forward_v2(const float *logits, const uint8_t *y, int n, float *probs,
                struct gpu_metrics *out)
{
    double total = 0.0;
    int correct = 0;
    for (int b = threadIdx.x; b < n; b += blockDim.x) {
        int hit;
        total += softmax_image(logits + (size_t)b * CNN_CLASSES, y[b],
                               probs + (size_t)b * CNN_CLASSES, &hit);
        correct += hit;
    }
    block_sum(&total, &correct);
    if (threadIdx.x == 0) {
        out->loss_sum = total;
        out->correct = correct;
    }
}

/* probs [n][C], y [n] -> dlogits [n][C]; thread = (image, class) */
__global__ void loss_backward_v2(const float *probs, const uint8_t *y, int n, float inv_n,
                                 float *dlogits)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n * CNN_CLASSES)
        return;
    float onehot = t % CNN_CLASSES == y[t / CNN_CLASSES] ? 1.0f : 0.0f;
    dlogits[t] = (probs[t] - onehot) * inv_n;
}

extern "C" cnn_status gpu_softmax_xent_forward(cudaStream_t stream, int sync_debug,
                                               const float *logits, const uint8_t *y, int n,
                                               float *probs, struct gpu_metrics *metrics)
{
    /* whole warps, no more than the batch needs: idle warps would only add
     * zeros to the reduction */
    unsigned threads =
        n >= (int)GPU_LOSS_THREADS ? (unsigned)GPU_LOSS_THREADS : 32 * gpu_div_up(n, 32);
    loss_forward_v2<<<1, threads, 0, stream>>>(logits, y, n, probs, metrics);
    GPU_LAUNCHED(stream, sync_debug, "loss_forward_v2");
    return CNN_OK;
}

extern "C" cnn_status gpu_softmax_xent_backward(cudaStream_t stream, int sync_debug,
                                                const float *probs, const uint8_t *y, int n,
                                                float inv_n, float *dlogits)
{
    loss_backward_v2<<<gpu_div_up((size_t)n * CNN_CLASSES, LOSS_BWD_THREADS), LOSS_BWD_THREADS,
                       0, stream>>>(probs, y, n, inv_n, dlogits);
    GPU_LAUNCHED(stream, sync_debug, "loss_backward_v2");
    return CNN_OK;
}

/* A GPU this build has no device code for fails here, before any allocation. */
extern "C" cnn_status gpu_check_kernel_image(const char *who)
{
    cudaFuncAttributes attr;
    cudaError_t err = cudaFuncGetAttributes(&attr, loss_backward_v2);
    if (err == cudaSuccess)
        return CNN_OK;
    (void)cudaGetLastError(); /* clear the error for the caller */
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess)
        return cnn_fail(CNN_E_UNAVAILABLE, "%s: no kernel image for this GPU: %s", who,
                        cudaGetErrorString(err));
    return cnn_fail(CNN_E_UNAVAILABLE,
                    "%s: no kernel image for this GPU (sm_%d%d): %s; rebuild with "
                    "-Dgpu_arch=%d%d",
                    who, major, minor, cudaGetErrorString(err), major, minor);
}
