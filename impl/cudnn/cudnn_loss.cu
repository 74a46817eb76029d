/*
 * cudnn_loss.cu — softmax cross-entropy for the cudnn backend, the only
 * kernels it owns (see cudnn_loss.h).
 *   forward   probs = softmax(logits), row maximum subtracted;
 *             loss_sum = sum_b -log p[b][y_b] in double; correct = hits
 *   backward  dlogits = (probs - onehot(y)) * (1/n)
 * The forward is one block: thread t takes images t, t + T, ... in order,
 * then the block adds the T partial sums as a fixed binary tree, so the sum
 * is the same bits every run (no atomics).
 */
#include "cudnn_loss.h"

extern "C" {
#include "cnn.h"
}

enum { LOSS_THREADS = 1024, GRAD_THREADS = 256 };

/* One image, logits z [C] -> p [C]; returns -log p[label] and sets *hit. */
__device__ static double loss_image(const float *z, int label, float *p, int *hit)
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
    /* exact even when p[label] underflows to 0 */
    return (double)logf(sum) - (double)(z[label] - z[top]);
}

/* logits [n][C], y [n] -> probs [n][C], *out; launched as one block */
__global__ static void loss_forward_kernel(const float *logits, const uint8_t *y, int n,
                                           float *probs, struct cudnn_metrics *out)
{
    __shared__ double part_loss[LOSS_THREADS];
    __shared__ int part_hits[LOSS_THREADS];
    double loss = 0.0;
    int hits = 0;
    for (int b = threadIdx.x; b < n; b += LOSS_THREADS) {
        int hit = 0;
        loss += loss_image(logits + (size_t)b * CNN_CLASSES, y[b],
                           probs + (size_t)b * CNN_CLASSES, &hit);
        hits += hit;
    }
    part_loss[threadIdx.x] = loss;
    part_hits[threadIdx.x] = hits;
    __syncthreads();
    for (int half = LOSS_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) {
            part_loss[threadIdx.x] += part_loss[threadIdx.x + half];
            part_hits[threadIdx.x] += part_hits[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out->loss_sum = part_loss[0];
        out->correct = part_hits[0];
    }
}

/* probs [n][C], y [n] -> dlogits [n][C]; one thread per element */
__global__ static void loss_backward_kernel(const float *probs, const uint8_t *y, int n,
                                            float inv_n, float *dlogits)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)n * CNN_CLASSES)
        return;
    int c = (int)(i % CNN_CLASSES);
    float onehot = c == y[i / CNN_CLASSES] ? 1.0f : 0.0f;
    dlogits[i] = (probs[i] - onehot) * inv_n;
}

extern "C" cudaError_t cudnn_loss_forward(cudaStream_t stream, const float *logits,
                                          const uint8_t *y, int n, float *probs,
                                          struct cudnn_metrics *metrics)
{
    loss_forward_kernel<<<1, LOSS_THREADS, 0, stream>>>(logits, y, n, probs, metrics);
    return cudaGetLastError();
}

extern "C" cudaError_t cudnn_loss_backward(cudaStream_t stream, const float *probs,
                                           const uint8_t *y, int n, float *dlogits)
{
    size_t total = (size_t)n * CNN_CLASSES;
    unsigned blocks = (unsigned)((total + GRAD_THREADS - 1) / GRAD_THREADS);
    /* the reciprocal rounded once, then a multiply: seq's order */
    loss_backward_kernel<<<blocks, GRAD_THREADS, 0, stream>>>(probs, y, n, 1.0f / (float)n,
                                                              dlogits);
    return cudaGetLastError();
}
