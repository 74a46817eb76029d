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

/* A timed step replayed as one CUDA graph (v6, cuda_graph.cu): the
 * boundaries of the step's regions are event record nodes of the graph. */
enum { CUDA_REPLAY_REGIONS = 9, CUDA_REPLAY_BOUNDS = CUDA_REPLAY_REGIONS + 1 };
struct cuda_replay {
    int deferring;         /* a timed step is open: its slots enqueue nothing */
    int next;              /* the step's next region, an index into its order */
    int inside;            /* that region's start is marked, its end not yet */
    int ran;               /* the graph ran in this step: timer_read reads it */
    int images;            /* the batch the graph was captured for; 0: none */
    cudaGraphExec_t exec;  /* the step's graph, instantiated */
    cudaEvent_t bound[CUDA_REPLAY_BOUNDS];
};

/* What comes down after a step: the metrics and, for a v7 timed step, the
 * global-timer stamps of its phase boundaries (cuda_persistent.cu). */
enum { CUDA_PERSIST_STAMPS = 4 };
struct cuda_step_out {
    struct gpu_metrics metrics;
    unsigned long long stamp[CUDA_PERSIST_STAMPS];
};

/* v7: each timed step one persistent kernel (cuda_persistent.cu). */
struct cuda_persist {
    int grid;  /* blocks of every v7 launch: all that are resident at once */
    int open;  /* a timed step is open: conv_forward launches all of it */
    int ran;   /* the step kernel ran in this step: timer_read splits it */
};

struct cnn_state {
    struct cnn_config cfg;
    int variant;     /* the kernels: 1..CUDA_VARIANT_PERSISTENT except 6 (v6 runs v3's) */
    int graph;       /* v6: timed steps are replayed as one CUDA graph */
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
    struct cuda_step_out *step_out;
    struct gpu_metrics *metrics; /* &step_out->metrics */
    uint8_t *pred;              /* [B] predicted classes */

    /* pinned host memory: one allocation, carved into three */
    void *pinned;
    unsigned char *staging;     /* [B][P] floats then [B] labels: the batch
                                   buffer offered to the harness; labels of
                                   pageable batches pass through it */
    struct cuda_step_out *host_out;
    struct gpu_metrics *metrics_host; /* &host_out->metrics */
    uint8_t *pred_host;         /* [B] */
    cudaEvent_t staging_free;   /* the last upload out of staging has finished */

    struct gpu_timer timer;     /* the region clock on the training stream */
    struct cuda_replay replay;  /* v6: the graph of a timed step */
    struct cuda_persist persist; /* v7 */
};

/* At the top of every compute slot: inside a replayed timed step (v6) the
 * slot only checks its place in the step, the graph does its work; a v7
 * state's slots are its kernel's phases. */
#define CUDA_SLOT_ROUTE(s, region)                          \
    do {                                                    \
        if ((s)->replay.deferring)                          \
            return cuda_replay_defer((s), (region));        \
        if ((s)->variant == CUDA_VARIANT_PERSISTENT)        \
            return cuda_persist_slot((s), (region));        \
    } while (0)

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

/* The finish kernels of v2-v5, on the state's workspaces: logits from
 * fc_fwd_part [n][slices][C] (slices in order, then fc_b); dfc_w from
 * fc_bwd_part [chunks][C][K] (chunks in order) and dfc_b from dlogits;
 * dconv from conv_bwd_part [chunks][F][10] (chunks in order). */
cnn_status cuda_fc_forward_sum(cnn_state *s, int slices);
cnn_status cuda_fc_backward_sum(cnn_state *s, int chunks);
cnn_status cuda_conv_backward_sum(cnn_state *s, int chunks);

/* cuda_fused.cu: v5, m and dm never stored. Workspaces in floats for a
 * batch capacity B and F filters; setup as cuda_fc_setup. */
size_t cuda_fused_fc_forward_workspace(int batch, int filters);
size_t cuda_fused_fc_backward_workspace(int batch, int filters);
size_t cuda_fused_conv_backward_workspace(int batch, int filters);
cnn_status cuda_fused_setup(void);
cnn_status cuda_fused_conv_forward(cnn_state *s);
cnn_status cuda_fused_fc_forward(cnn_state *s);
cnn_status cuda_fused_fc_backward(cnn_state *s);
cnn_status cuda_fused_conv_backward(cnn_state *s);

/* cuda_graph.cu: v6, a timed step replayed as one CUDA graph. The replay
 * owns the region marks of a one-GPU v6 state (cuda_replay_owns_marks);
 * a mark of h2d's start opens a step, whose load_batch stages the batch,
 * whose compute slots defer (cuda_replay_defer), and whose read_metrics
 * launches the graph (captured on first use, again when n changes). */
cnn_status cuda_replay_create(cnn_state *s);
void cuda_replay_destroy(cnn_state *s);
int cuda_replay_owns_marks(const cnn_state *s);
cnn_status cuda_replay_mark(cnn_state *s, enum cnn_region r, int end);
cnn_status cuda_replay_defer(cnn_state *s, enum cnn_region r);
cnn_status cuda_replay_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n);
cnn_status cuda_replay_read_metrics(cnn_state *s, double *loss, int *correct);
cnn_status cuda_replay_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms);

/* cuda_persistent.cu: v7, each timed step one persistent kernel. Its
 * backward partials live in fc_bwd_part and conv_bwd_part (sizes in
 * floats below); setup picks the grid (and fails where the GPU cannot
 * launch cooperative kernels). A one-GPU v7 state owns its steps
 * (cuda_persist_owns_step): a mark of h2d's start opens a step, whose
 * conv_forward launches the whole kernel, and timer_read splits the
 * launch's time into regions by the kernel's stamps. */
size_t cuda_persist_fc_workspace(int batch, int filters);
size_t cuda_persist_conv_workspace(int batch, int filters);
cnn_status cuda_persist_setup(cnn_state *s);
cnn_status cuda_persist_slot(cnn_state *s, enum cnn_region r);
int cuda_persist_owns_step(const cnn_state *s);
void cuda_persist_mark(cnn_state *s, enum cnn_region r, int end);
void cuda_persist_regions(cnn_state *s, double ms[CNN_REGION_COUNT]);

#endif
