/*
 * cuda_loss.h — softmax cross-entropy on the GPU with a plain C interface,
 * for device backends that are not the cuda backend (cudnn: cuDNN has a
 * softmax but no loss against integer labels). The kernels are the cuda
 * backend's v2 ones (impl/cuda/cuda_loss.cu), so both GPU backends compute
 * the loss with the same code and, from the same logits, the same bits.
 */
#ifndef CNN_CUDA_LOSS_H
#define CNN_CUDA_LOSS_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What loss_forward leaves on the device for read_metrics. */
struct cuda_metrics {
    double loss_sum; /* sum over the batch of -log p[y], in a fixed order */
    int correct;     /* images whose first maximal logit is the label */
};

/* logits [n][C], y [n] -> probs [n][C] and *metrics, as seq computes them;
 * one block, a fixed reduction order. Returns the launch error. */
cudaError_t cuda_softmax_xent_forward(cudaStream_t stream, const float *logits,
                                      const uint8_t *y, int n, float *probs,
                                      struct cuda_metrics *metrics);
/* probs [n][C], y [n] -> dlogits [n][C] = (probs - onehot(y)) * (1/n). */
cudaError_t cuda_softmax_xent_backward(cudaStream_t stream, const float *probs,
                                       const uint8_t *y, int n, float *dlogits);

#ifdef __cplusplus
}
#endif

#endif
