/*
 * gpu_loss.h — softmax cross-entropy on the GPU with a plain C interface,
 * shared by the GPU backends: the cuda backend's v2-v4 and the cudnn
 * backend (cuDNN has a softmax but no loss against integer labels) run these
 * kernels, so from the same logits both compute the same bits.
 *   forward   probs = softmax(logits) with the row maximum subtracted;
 *             loss sum = sum_b -log p[b][y_b] (double, a fixed order);
 *             correct = #{b : the first maximal logit of b is y_b}
 *   backward  dlogits = (probs - onehot(y)) * inv_n
 */
#ifndef CNN_GPU_LOSS_H
#define CNN_GPU_LOSS_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cnn.h"

/* What loss_forward leaves on the device for read_metrics. */
struct gpu_metrics {
    double loss_sum; /* sum over the batch of -log p[y], in a fixed order */
    int correct;     /* images whose first maximal logit is the label */
};

/* logits [n][C], y [n] -> probs [n][C] and *metrics, as seq computes them;
 * one block, each thread takes images t, t + threads, ... in order, then a
 * fixed-order block reduction. sync_debug: gpu_check_launch's. */
cnn_status gpu_softmax_xent_forward(cudaStream_t stream, int sync_debug, const float *logits,
                                    const uint8_t *y, int n, float *probs,
                                    struct gpu_metrics *metrics);
/* probs [n][C], y [n] -> dlogits [n][C] = (probs - onehot(y)) * inv_n; one
 * thread per (image, class). inv_n is the caller's 1.0f / (float)(images
 * the loss averages over), so every backend rounds it as seq does. */
cnn_status gpu_softmax_xent_backward(cudaStream_t stream, int sync_debug, const float *probs,
                                     const uint8_t *y, int n, float inv_n, float *dlogits);

#ifdef __cplusplus
}
#endif

#endif
