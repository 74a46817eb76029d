/*
 * cudnn_pool.h — the pool decisions of a max-pool that keeps no argmax
 * (cuDNN's), derived on the GPU for the get_pool_choice hook (cnn.h). A
 * plain C interface to the kernel in cudnn_pool.cu.
 */
#ifndef CNN_CUDNN_POOL_H
#define CNN_CUDNN_POOL_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cnn.h"

/* plane [n][F][26][26], the pool's input, and pooled [n][F][13][13] =
 * [n][K], its 2x2/2 max -> choice [n][K]: CNN_POOL_NO_GRAD where the pooled
 * value is not > 0 (ReLU stops the gradient there), else the first window
 * position, in the order (0,0), (0,1), (1,0), (1,1), whose value equals the
 * pooled one, i.e. the first maximum. sync_debug: gpu_check_launch's. */
cnn_status cudnn_pool_choice(cudaStream_t stream, int sync_debug, const float *plane,
                             const float *pooled, int n, int filters, uint8_t *choice);

#ifdef __cplusplus
}
#endif

#endif
