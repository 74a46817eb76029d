/*
 * cuda_internal.cuh — what the CUDA backend's translation units share: the
 * per-run state, the checking macros and the sizes of the reduction
 * workspaces.
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

extern "C" {
#include "cnn.h"
#include "cuda_backend.h"
#include "error.h"
}

/* The argmax byte of a pooled output that ReLU zeroed: no gradient flows
 * there. Otherwise the byte is the winning window position 0..3. */
#define CUDA_NO_ARGMAX 0xFFu

/* struct cuda_metrics: what loss_forward leaves on the device */
#include "cuda_loss.h"

/* Typed views into a canonical parameter (or gradient) buffer on the device. */
struct cuda_tensors {
    float *conv_w; /* [F][9] */
    float *conv_b; /* [F] */
    float *fc_w;   /* [C][K] */
    float *fc_b;   /* [C] */
};

struct cnn_state {
    struct cnn_config cfg;
    int variant;     /* 1..CUDA_VARIANT_COUNT */
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
    struct cuda_tensors params;
    struct cuda_tensors grads;
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
    struct cuda_metrics *loss_part; /* [cuda_loss_blocks(B)] v3 per-block sums */
    /* v3 "last block adds the partial sums" counters, 0 between launches */
    unsigned *loss_done;        /* [1] */
    unsigned *done_conv;        /* [cuda_conv_backward_groups(F)] */
    struct cuda_metrics *metrics;
    uint8_t *pred;              /* [B] predicted classes */

    /* pinned host memory: one allocation, carved into three */
    void *pinned;
    unsigned char *staging;     /* [B][P] floats then [B] labels: the batch
                                   buffer offered to the harness; labels of
                                   pageable batches pass through it */
    struct cuda_metrics *metrics_host;
    uint8_t *pred_host;         /* [B] */
    cudaEvent_t staging_free;   /* the last upload out of staging has finished */

    /* per-region timing: an event pair per region on the training stream */
    cudaEvent_t marks[CNN_REGION_COUNT][2];
    cudaEvent_t bounds[CNN_REGION_COUNT][2]; /* the events that mark each
                                                region: its own, or one
                                                already recorded at that point
                                                of the stream */
    unsigned marked;            /* regions with both bounds this step */
    int last_mark;              /* region whose end was marked last */
    cudaEvent_t metrics_copied; /* recorded after the metrics copy */
    cudaEvent_t last_event;     /* the stream's latest event, NULL after a step */
    unsigned long work;         /* launches and copies enqueued so far */
    unsigned long work_at_event; /* `work` when last_event was recorded */
    long step;                  /* steps timed so far; tags CUPTI records */
};

/* Records "file:line: call: error" and maps the CUDA error to a status
 * (allocation failures become CNN_E_DEVICE_OOM). */
cnn_status cuda_fail_call(cudaError_t err, const char *file, int line, const char *call);

#define CUDA_CHECK(call)                                                      \
    do {                                                                      \
        cudaError_t cuda_check_err_ = (call);                                 \
        if (cuda_check_err_ != cudaSuccess)                                   \
            return cuda_fail_call(cuda_check_err_, __FILE__, __LINE__, #call); \
    } while (0)

/* After every kernel launch: the launch error, and with sync_debug the
 * execution error too, so an asynchronous fault names its kernel. */
cnn_status cuda_check_launch(cnn_state *s, const char *file, int line, const char *kernel);
#define CUDA_LAUNCHED(s, kernel) CNN_TRY(cuda_check_launch((s), __FILE__, __LINE__, (kernel)))

static inline unsigned cuda_div_up(size_t n, size_t d) { return (unsigned)((n + d - 1) / d); }

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
/* CNN_OK if this binary holds device code for the current GPU. */
cnn_status cuda_check_kernel_image(void);

#endif
