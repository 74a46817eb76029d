/*
 * cuda_graph.cu — variant v6: v3's kernels, each timed step replayed as
 * one CUDA graph. At (100, 32) a step's GPU work is about 30 us and the
 * rest of the 0.09 ms step is the host's 12 launches and their gaps
 * (bench/NOTES.md, "cuda"); one graph launch enqueues the whole step.
 * (The first v6 replayed v5's kernels, which are slower than v3's at
 * every size; NOTES has both.)
 *
 * What the graph holds, in stream order: an event record node (the step's
 * first boundary), the batch upload out of the page-locked staging buffer,
 * then for each region its kernels and an event record node (its end
 * boundary), the metrics copy down, and the d2h end. It is captured from
 * the training stream the first time read_metrics runs a step, by calling
 * the ordinary v3 slots (cudaStreamBeginCapture .. EndCapture, the event
 * records made with cudaEventRecordExternal so that they become nodes),
 * and captured again when the batch size changes. Each kernel's
 * arguments are the state's buffers and (n, F, lr): fixed for a state.
 *
 * How a timed step runs. cnn_step (impl/common/step.c) calls, in order,
 * timer_mark(h2d, start), load_batch, ..., read_metrics, timer_mark(d2h,
 * end), timer_read. For a one-GPU v6 state the marks come here:
 *   h2d start      opens the step; until d2h ends the slots are deferred
 *   load_batch     copies the batch into the staging buffer unless the
 *                  harness gathered it there (the batch_buffer slot)
 *   compute slots  check that they run inside their own region, enqueue
 *                  nothing (CUDA_SLOT_ROUTE)
 *   read_metrics   launches the graph, waits for it, reads the metrics
 *   timer_read     region r's time is the time between its two boundary
 *                  nodes; the regions tile the span, first node to last.
 * A slot called outside a timed step (predict, the test hooks, the
 * data-parallel ranks, whose marks go to rank 0's clock) runs v3 eagerly.
 *
 * What the times mean: the kernels' GPU time without launch gaps, since
 * every node is on the GPU before the first runs; host time between the
 * slots of a step falls in no region (the replays_step slot says so). With
 * --cupti, every kernel of the step is launched inside d2h, so CUPTI's
 * region tags do not apply to v6 (docs/DESIGN.md).
 *
 * Integrity: the graph runs the v3 kernels with v3's launch shapes on the
 * same buffers, so a v6 run equals a v3 run bit for bit (tests/test_graph.c).
 */
#include <string.h>

#include "cuda_internal.cuh"

/* The regions of a one-GPU step in cnn_step's order; boundary k + 1 ends
 * region k, boundary 0 starts the step. */
static const enum cnn_region step_order[CUDA_REPLAY_REGIONS] = {
    CNN_REGION_H2D,      CNN_REGION_CONV_FWD, CNN_REGION_FC_FWD,
    CNN_REGION_LOSS_FWD, CNN_REGION_LOSS_BWD, CNN_REGION_FC_BWD,
    CNN_REGION_CONV_BWD, CNN_REGION_UPDATE,   CNN_REGION_D2H,
};

/* The slot of each compute region, as cnn_region_slot gives them. */
static cnn_status (*const compute_slot[CUDA_REPLAY_REGIONS])(cnn_state *) = {
    NULL,             cuda_conv_forward, cuda_fc_forward, cuda_loss_forward, cuda_loss_backward,
    cuda_fc_backward, cuda_conv_backward, cuda_update,    NULL,
};

cnn_status cuda_replay_create(cnn_state *s)
{
    for (int k = 0; k < CUDA_REPLAY_BOUNDS; k++)
        GPU_CHECK(cudaEventCreate(&s->replay.bound[k]));
    return CNN_OK;
}

void cuda_replay_destroy(cnn_state *s)
{
    if (s->replay.exec)
        (void)cudaGraphExecDestroy(s->replay.exec);
    for (int k = 0; k < CUDA_REPLAY_BOUNDS; k++)
        if (s->replay.bound[k])
            (void)cudaEventDestroy(s->replay.bound[k]);
    memset(&s->replay, 0, sizeof s->replay);
}

int cuda_replay_owns_marks(const cnn_state *s) { return s->graph && !s->group; }

extern "C" int cuda_replays_step(const cnn_state *s) { return cuda_replay_owns_marks(s); }

/* ---- the step's bookkeeping ---- */

static cnn_status out_of_order(const cnn_state *s, enum cnn_region r, const char *what)
{
    const struct cuda_replay *rp = &s->replay;
    const char *open = rp->inside ? cnn_region_name(step_order[rp->next]) : "none";
    return cnn_fail(CNN_E_ARG, "cuda v6: %s of region %s out of the step's order (open region: "
                    "%s); a replayed step runs cnn_step's regions in order", what,
                    cnn_region_name(r), open);
}

cnn_status cuda_replay_mark(cnn_state *s, enum cnn_region r, int end)
{
    struct cuda_replay *rp = &s->replay;
    if ((unsigned)r >= CNN_REGION_COUNT)
        return cnn_fail(CNN_E_ARG, "cuda: no region %d", (int)r);
    if (!end && r == CNN_REGION_H2D) {
        /* a new step; one abandoned by an error before it is dropped */
        rp->deferring = 1;
        rp->next = 0;
        rp->inside = 0;
        rp->ran = 0;
    }
    if (!rp->deferring || rp->next >= CUDA_REPLAY_REGIONS || step_order[rp->next] != r ||
        rp->inside == !end)
        return out_of_order(s, r, end ? "the end" : "the start");
    rp->inside = !end;
    if (end && ++rp->next == CUDA_REPLAY_REGIONS)
        rp->deferring = 0; /* d2h has ended: the step is over */
    return CNN_OK;
}

cnn_status cuda_replay_defer(cnn_state *s, enum cnn_region r)
{
    const struct cuda_replay *rp = &s->replay;
    if (!rp->inside || step_order[rp->next] != r)
        return out_of_order(s, r, "the slot");
    return CNN_OK;
}

/* The batch goes into the staging buffer, where the graph's upload reads it. */
cnn_status cuda_replay_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    CNN_TRY(cuda_replay_defer(s, CNN_REGION_H2D));
    if (!y)
        return cnn_fail(CNN_E_ARG, "cuda v6: a training batch without labels");
    size_t label_at = (size_t)s->cfg.batch * CNN_PIXELS * sizeof(float);
    /* an eager upload (predict) may still be reading the staging buffer */
    GPU_CHECK(cudaEventSynchronize(s->staging_free));
    if (x != (const float *)s->staging)
        memcpy(s->staging, x, (size_t)n * CNN_PIXELS * sizeof(float));
    if (y != s->staging + label_at)
        memcpy(s->staging + label_at, y, (size_t)n);
    s->n = n;
    s->mean_over = n;
    return CNN_OK;
}

/* ---- the graph ---- */

static cnn_status boundary(cnn_state *s, int k)
{
    GPU_CHECK(cudaEventRecordWithFlags(s->replay.bound[k], s->stream, cudaEventRecordExternal));
    return CNN_OK;
}

/* Enqueues one step of n = s->n images on the capturing stream. */
static cnn_status enqueue_step(cnn_state *s)
{
    size_t label_at = (size_t)s->cfg.batch * CNN_PIXELS * sizeof(float);
    CNN_TRY(boundary(s, 0));
    if (s->n == s->cfg.batch) {
        /* pixels and labels are one range in both buffers */
        GPU_CHECK(cudaMemcpyAsync(s->x, s->staging, label_at + (size_t)s->n,
                                  cudaMemcpyHostToDevice, s->stream));
    } else {
        GPU_CHECK(cudaMemcpyAsync(s->x, s->staging, (size_t)s->n * CNN_PIXELS * sizeof(float),
                                  cudaMemcpyHostToDevice, s->stream));
        GPU_CHECK(cudaMemcpyAsync((char *)s->x + label_at, s->staging + label_at, (size_t)s->n,
                                  cudaMemcpyHostToDevice, s->stream));
    }
    CNN_TRY(boundary(s, 1));
    for (int k = 1; k < CUDA_REPLAY_REGIONS - 1; k++) {
        CNN_TRY(compute_slot[k](s));
        CNN_TRY(boundary(s, k + 1));
    }
    GPU_CHECK(cudaMemcpyAsync(s->metrics_host, s->metrics, sizeof *s->metrics,
                              cudaMemcpyDeviceToHost, s->stream));
    return boundary(s, CUDA_REPLAY_BOUNDS - 1);
}

/* Captures the step for s->n images and instantiates it. The slots run
 * undeferred and without CNNBENCH_CUDA_SYNC's per-launch waits, which a
 * capturing stream refuses; read_metrics waits for the whole graph. */
static cnn_status capture(cnn_state *s)
{
    struct cuda_replay *rp = &s->replay;
    if (rp->exec) {
        GPU_CHECK(cudaGraphExecDestroy(rp->exec));
        rp->exec = NULL;
        rp->images = 0;
    }
    int sync_debug = s->sync_debug;
    GPU_CHECK(cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeThreadLocal));
    s->sync_debug = 0;
    rp->deferring = 0;
    cnn_status st = enqueue_step(s);
    rp->deferring = 1;
    s->sync_debug = sync_debug;
    cudaGraph_t graph = NULL;
    cudaError_t err = cudaStreamEndCapture(s->stream, &graph);
    if (st == CNN_OK && err != cudaSuccess)
        st = gpu_fail_call(err, __FILE__, __LINE__, "cudaStreamEndCapture(step)");
    if (st == CNN_OK) {
        err = cudaGraphInstantiate(&rp->exec, graph, 0);
        if (err != cudaSuccess) {
            rp->exec = NULL;
            st = gpu_fail_call(err, __FILE__, __LINE__, "cudaGraphInstantiate(step)");
        }
    }
    if (graph)
        (void)cudaGraphDestroy(graph);
    (void)cudaGetLastError();
    if (st == CNN_OK)
        rp->images = s->n;
    return st;
}

cnn_status cuda_replay_read_metrics(cnn_state *s, double *loss, int *correct)
{
    CNN_TRY(cuda_replay_defer(s, CNN_REGION_D2H));
    if (s->n < 1)
        return cnn_fail(CNN_E_ARG, "cuda: read_metrics before any batch");
    if (s->replay.images != s->n)
        CNN_TRY(capture(s));
    GPU_CHECK(cudaGraphLaunch(s->replay.exec, s->stream));
    GPU_CHECK(cudaStreamSynchronize(s->stream));
    s->replay.ran = 1;
    *loss = s->metrics_host->loss_sum / s->n;
    *correct = s->metrics_host->correct;
    return CNN_OK;
}

cnn_status cuda_replay_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms)
{
    struct cuda_replay *rp = &s->replay;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        ms[r] = -1.0;
    if (span_ms)
        *span_ms = -1.0;
    int ran = rp->ran, complete = !rp->deferring && rp->next == CUDA_REPLAY_REGIONS;
    rp->ran = 0;
    rp->next = 0;
    rp->inside = 0;
    rp->deferring = 0;
    if (!ran)
        return CNN_OK;
    if (!complete)
        return cnn_fail(CNN_E_ARG, "cuda v6: timer read before the step's d2h ended");
    for (int k = 0; k < CUDA_REPLAY_REGIONS; k++) {
        float region = 0.0f;
        GPU_CHECK(cudaEventElapsedTime(&region, rp->bound[k], rp->bound[k + 1]));
        ms[step_order[k]] = region;
    }
    if (span_ms) {
        float whole = 0.0f;
        GPU_CHECK(cudaEventElapsedTime(&whole, rp->bound[0], rp->bound[CUDA_REPLAY_BOUNDS - 1]));
        *span_ms = whole;
    }
    return CNN_OK;
}
