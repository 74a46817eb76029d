/*
 * cudnn_loss.h — the one part of the cudnn backend that is our own device
 * code: softmax cross-entropy and its logit gradient (cuDNN has a softmax but
 * no loss against integer labels). Kernels in cudnn_loss.cu, compiled by
 * nvcc; the host side (cudnn.c, plain C) calls these launchers.
 */
#ifndef CNN_CUDNN_LOSS_H
#define CNN_CUDNN_LOSS_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What loss_forward leaves on the device for read_metrics. */
struct cudnn_metrics {
    double loss_sum; /* sum over the batch of -log p[y], in a fixed order */
    int correct;     /* images whose first maximal logit is the label */
};

/* logits [n][C], y [n] -> probs [n][C] and *metrics, as seq computes them:
 * softmax with the row maximum subtracted, -log p[y] = log(sum) - (z[y] - max).
 * One block, a fixed reduction order: bitwise reproducible. Returns the
 * launch error. */
cudaError_t cudnn_loss_forward(cudaStream_t stream, const float *logits, const uint8_t *y,
                               int n, float *probs, struct cudnn_metrics *metrics);

/* probs [n][C], y [n] -> dlogits [n][C] = (probs - onehot(y)) * (1/n). */
cudaError_t cudnn_loss_backward(cudaStream_t stream, const float *probs, const uint8_t *y,
                                int n, float *dlogits);

#ifdef __cplusplus
}
#endif

#endif
