/*
 * cuda_internal.cuh — what the CUDA backend's translation units share: the
 * per-run state, its launch check and the sizes of the reduction
 * workspaces. What it shares with the cudnn backend (checks, parameter
 * views and copies, device buffers, the region clock, the loss kernels of
 * v2-v4) is in impl/gpu.
 *
 * Data movement (issue #4): parameters, gradients and activations live on the
 * GPU for the whole run. Per step only the batch goes up (on the training
 * stream; by DMA when it sits in page-locked memory) and only the loss sum
 * and the count of correct predictions come down.
 */
#ifndef CNN_CUDA_INTERNAL_CUH
#define CNN_CUDA_INTERNAL_CUH

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/gpu.h"
#include "gpu/gpu_loss.h"

extern "C" {
#include "cuda_backend.h"
}

/* The argmax byte of a pooled output that ReLU zeroed: no gradient flows
 * there. Otherwise the byte is the winning window position 0..3. The
 * contract's CNN_POOL_NO_GRAD is another value: get_pool_choice translates. */
#define CUDA_NO_ARGMAX 0xFFu

struct cnn_state {
    struct cnn_config cfg;
    int variant;     /* 1..CUDA_VARIANT_COUNT */
    int device;      /* the CUDA device it was made on */
    int sync_debug;  /* CNNBENCH_CUDA_SYNC=1: synchronise after every launch */
    size_t K;        /* features per image, F*169 */
    size_t count;    /* floats in the parameter buffer */
    int n;           /* images of the current batch, <= B */
    int mean_over;   /* images the loss gradient averages over: n, or the
                        global batch when this state is one rank of a
                        data-parallel step (cuda_parallel.cu) */
    struct cuda_group *group; /* data-parallel table: the ranks this state
                                 leads as rank 0; NULL on the one-GPU path */
    cudaStream_t stream;

    /* device buffers, one allocation each */
    float *params_buf;          /* [count] canonical layout */
    float *grads_buf;           /* [count] canonical layout */
    struct cnn_params params;   /* views of params_buf (cnn_params_view) */
    struct cnn_params grads;    /* views of grads_buf */
    float *x;                   /* [B][P] pixels, then [B] labels */
    const uint8_t *y;           /* the labels, at x + B*P */
    float *pooled;              /* m [B][K] */
    uint8_t *argmax;            /* [B][K] window position or CUDA_NO_ARGMAX */
    float *dpooled;             /* dm [B][K] */
    float *logits;              /* [B][C] */
    float *probs;               /* [B][C] */
    float *dlogits;             /* [B][C] */
    float *fc_fwd_part;         /* fc forward split-K partial sums */
    float *fc_bwd_part;         /* fc backward per-chunk dfc_w partial sums */
    float *conv_bwd_part;       /* conv backward per-chunk partial sums */
    double *image_loss;         /* [B] v1: per-image loss, summed in order later */
    int *image_correct;         /* [B] v1 */
    struct gpu_metrics *loss_part; /* [cuda_loss_blocks(B)] v3 per-block sums */
    /* v3 "last block adds the partial sums" counters, 0 between launches */
    unsigned *loss_done;        /* [1] */
    unsigned *done_conv;        /* [cuda_conv_backward_groups(F)] */
    struct gpu_metrics *metrics;
    uint8_t *pred;              /* [B] predicted classes */

    /* pinned host memory: one allocation, carved into three */
    void *pinned;
    unsigned char *staging;     /* [B][P] floats then [B] labels: the batch
                                   buffer offered to the harness; labels of
                                   pageable batches pass through it */
    struct gpu_metrics *metrics_host;
    uint8_t *pred_host;         /* [B] */
    cudaEvent_t staging_free;   /* the last upload out of staging has finished */

    struct gpu_timer timer;     /* the region clock on the training stream */
};

/* After every kernel launch (gpu_check_launch on the state's stream). */
#define CUDA_LAUNCHED(s, kernel) GPU_LAUNCHED((s)->stream, (s)->sync_debug, (kernel))

/* Workspace sizes in floats for a batch capacity B and F filters; the
 * kernel files own the chunking rules behind them. */
size_t cuda_fc_forward_workspace(int batch, int filters);
size_t cuda_fc_backward_workspace(int batch, int filters);
size_t cuda_conv_backward_workspace(int batch, int filters);
/* Kernel attributes, which belong to the current device: called by every
 * state's create, on its device, before any launch. */
cnn_status cuda_fc_setup(void);
/* Blocks of loss_forward_v3 for a batch of n. */
size_t cuda_loss_blocks(int batch);
/* Filter groups of conv_backward_v3: its counters. */
size_t cuda_conv_backward_groups(int filters);

/* Writes pred [n] = argmax of logits [n][C] (first maximum wins). */
cnn_status cuda_predict_classes(cnn_state *s, int n);

#endif
