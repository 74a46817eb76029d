/*
 * cuda_backend.h — the functions of the CUDA backend's two modes, one GPU
 * (cuda_*) and a data-parallel group of GPUs (cuda_dp_*, NCCL builds),
 * implemented in the .cu files (C++ compiled by nvcc) with C linkage. The
 * one table `cnn_backend_cuda` (cuda_table.c, C, so the table can use
 * designated initialisers and the C side links it like any other backend)
 * sends each slot to the mode of its state. Private to impl/cuda.
 */
#ifndef CNN_CUDA_BACKEND_H
#define CNN_CUDA_BACKEND_H

#include <stdint.h>

#include "cnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Numbered kernel variants; one number selects the kernels of every region. */
enum {
    CUDA_VARIANT_NAIVE = 1, /* one thread per image: the original numba design */
    CUDA_VARIANT_FUSED = 2, /* fused, tiled, deterministic kernels */
    CUDA_VARIANT_TUNED = 3, /* v2 reshaped for memory-level parallelism */
    CUDA_VARIANT_DM_IN_CONV = 4, /* v3 with dm formed in conv backward, never stored */
    CUDA_VARIANT_RECOMPUTE = 5,  /* neither m nor dm stored: recomputed where consumed */
    CUDA_VARIANT_GRAPH = 6,      /* v3's kernels, each timed step one CUDA graph */
    CUDA_VARIANT_PERSISTENT = 7, /* each timed step one persistent kernel */
    CUDA_VARIANT_COUNT = 7,
    CUDA_VARIANT_DEFAULT = CUDA_VARIANT_TUNED,
};

/* cuda_backend.cu: life cycle, copies, metrics, timers, test hooks */
cnn_status cuda_probe(void);
cnn_status cuda_create(const struct cnn_config *cfg, cnn_state **out);
void cuda_destroy(cnn_state *s);
cnn_status cuda_set_params(cnn_state *s, const struct cnn_params *p);
cnn_status cuda_get_params(cnn_state *s, struct cnn_params *p);
cnn_status cuda_get_grads(cnn_state *s, struct cnn_params *g);
cnn_status cuda_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n);
cnn_status cuda_read_metrics(cnn_state *s, double *loss, int *correct);
cnn_status cuda_get_logits(cnn_state *s, float *logits);
cnn_status cuda_set_logit_grad(cnn_state *s, const float *dlogits);
cnn_status cuda_get_pool_choice(cnn_state *s, uint8_t *choice);
cnn_status cuda_predict(cnn_state *s, const float *x, int n, uint8_t *pred);
cnn_status cuda_timer_mark(cnn_state *s, enum cnn_region r, int end);
cnn_status cuda_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms);
/* 1 for the state a group mode create returned (rank 0, which leads it). */
int cuda_is_group(const cnn_state *s);
/* The replays_step slot (cnn.h): 1 for a one-GPU v6 state. */
int cuda_replays_step(const cnn_state *s);
cnn_status cuda_device_bus_id(cnn_state *s, int i, char *buf, size_t len);

cnn_status cuda_batch_buffer(cnn_state *s, float **x, uint8_t **y);

/* cuda_conv.cu */
cnn_status cuda_conv_forward(cnn_state *s);
cnn_status cuda_conv_backward(cnn_state *s);
/* cuda_fc.cu */
cnn_status cuda_fc_forward(cnn_state *s);
cnn_status cuda_fc_backward(cnn_state *s);
/* cuda_loss.cu */
cnn_status cuda_loss_forward(cnn_state *s);
cnn_status cuda_loss_backward(cnn_state *s);
/* cuda_update.cu */
cnn_status cuda_update(cnn_state *s);

/* cuda_parallel.cu (NCCL builds): the group mode, cfg.gpus >= 1, and the
 * version of the NCCL library in use ("2.28.9"), the table's library_version */
int cuda_library_version(const char *library, char *buf, size_t len);
cnn_status cuda_dp_create(const struct cnn_config *cfg, cnn_state **out);
void cuda_dp_destroy(cnn_state *s);
cnn_status cuda_dp_set_params(cnn_state *s, const struct cnn_params *p);
cnn_status cuda_dp_get_params(cnn_state *s, struct cnn_params *p);
cnn_status cuda_dp_get_grads(cnn_state *s, struct cnn_params *g);
cnn_status cuda_dp_batch_buffer(cnn_state *s, float **x, uint8_t **y);
cnn_status cuda_dp_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n);
cnn_status cuda_dp_conv_forward(cnn_state *s);
cnn_status cuda_dp_fc_forward(cnn_state *s);
cnn_status cuda_dp_loss_forward(cnn_state *s);
cnn_status cuda_dp_loss_backward(cnn_state *s);
cnn_status cuda_dp_fc_backward(cnn_state *s);
cnn_status cuda_dp_conv_backward(cnn_state *s);
cnn_status cuda_dp_allreduce(cnn_state *s);
cnn_status cuda_dp_update(cnn_state *s);
cnn_status cuda_dp_read_metrics(cnn_state *s, double *loss, int *correct);
cnn_status cuda_dp_get_logits(cnn_state *s, float *logits);
cnn_status cuda_dp_set_logit_grad(cnn_state *s, const float *dlogits);
cnn_status cuda_dp_get_pool_choice(cnn_state *s, uint8_t *choice);
cnn_status cuda_dp_predict(cnn_state *s, const float *x, int n, uint8_t *pred);
cnn_status cuda_dp_timer_mark(cnn_state *s, enum cnn_region r, int end);
cnn_status cuda_dp_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms);
cnn_status cuda_dp_device_bus_id(cnn_state *s, int i, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
