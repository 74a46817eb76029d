/*
 * cuda_backend.cu — the host side of the CUDA backend: probe, the state's
 * life cycle (every device buffer sized and checked against free memory up
 * front, so a configuration that does not fit fails once, with a clear
 * message), the batch upload, metrics, the region clock (gpu/gpu.h) and
 * the test hooks. A one-GPU v6 state hands its timed steps to the replay
 * (cuda_graph.cu): its region marks, and load_batch and read_metrics
 * inside a timed step.
 *
 * Debugging: CNNBENCH_CUDA_SYNC=1 in the environment makes every launch
 * synchronise and check the stream, so an asynchronous fault is reported
 * with the kernel that caused it (at a cost in speed; never for timing).
 */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.cuh"

/* Host allocations are carved at this alignment. */
enum { ALLOC_ALIGN = 256 };

extern "C" cnn_status cuda_probe(void) { return gpu_probe("cuda"); }

/* ---- state life cycle ---- */

/* Reserves `bytes` at the next aligned offset of an allocation being planned. */
static size_t carve(size_t *used, size_t bytes)
{
    size_t at = (*used + ALLOC_ALIGN - 1) / ALLOC_ALIGN * ALLOC_ALIGN;
    *used = at + bytes;
    return at;
}

/* Every device buffer of the state with its size (gpu_buffers_alloc). */
static size_t larger(size_t a, size_t b) { return a > b ? a : b; }

enum { DEVICE_BUFFERS = 19 };

static void device_buffers(cnn_state *s, struct gpu_buffer out[DEVICE_BUFFERS])
{
    size_t B = (size_t)s->cfg.batch, K = s->K, BC = B * CNN_CLASSES;
    int F = s->cfg.filters;
    const struct gpu_buffer table[DEVICE_BUFFERS] = {
        {(void **)&s->params_buf, s->count * sizeof(float)},
        {(void **)&s->grads_buf, s->count * sizeof(float)},
        {(void **)&s->x, B * CNN_PIXELS * sizeof(float) + B}, /* pixels, then labels */
        {(void **)&s->pooled, B * K * sizeof(float)},
        /* + 16: v3 conv backward copies 16-byte-aligned ranges around its tiles */
        {(void **)&s->argmax, B * K + 16},
        {(void **)&s->dpooled, B * K * sizeof(float) + 16},
        {(void **)&s->logits, BC * sizeof(float)},
        {(void **)&s->probs, BC * sizeof(float)},
        /* + 16: v4 conv backward copies the 16-byte-aligned range around a row */
        {(void **)&s->dlogits, BC * sizeof(float) + 16},
        /* v2-v4's workspaces, which v5's and v7's kernels use too */
        {(void **)&s->fc_fwd_part, larger(cuda_fc_forward_workspace((int)B, F),
                                          cuda_fused_fc_forward_workspace((int)B, F)) *
                                       sizeof(float)},
        {(void **)&s->fc_bwd_part, larger(larger(cuda_fc_backward_workspace((int)B, F),
                                                 cuda_fused_fc_backward_workspace((int)B, F)),
                                          cuda_persist_fc_workspace((int)B, F)) *
                                       sizeof(float)},
        {(void **)&s->conv_bwd_part, larger(larger(cuda_conv_backward_workspace((int)B, F),
                                                   cuda_fused_conv_backward_workspace((int)B, F)),
                                            cuda_persist_conv_workspace((int)B, F)) *
                                         sizeof(float)},
        {(void **)&s->image_loss, B * sizeof(double)},
        {(void **)&s->image_correct, B * sizeof(int)},
        {(void **)&s->step_out, sizeof(struct cuda_step_out)},
        {(void **)&s->pred, B},
        {(void **)&s->loss_part, cuda_loss_blocks((int)B) * sizeof(struct gpu_metrics)},
        {(void **)&s->loss_done, sizeof(unsigned)},
        {(void **)&s->done_conv, cuda_conv_backward_groups(F) * sizeof(unsigned)},
    };
    memcpy(out, table, sizeof table);
}

static cnn_status alloc_device(cnn_state *s)
{
    struct gpu_buffer bufs[DEVICE_BUFFERS];
    device_buffers(s, bufs);
    CNN_TRY(gpu_buffers_alloc("cuda", &s->cfg, bufs, DEVICE_BUFFERS));
    cnn_params_view(&s->params, s->cfg.filters, s->params_buf);
    cnn_params_view(&s->grads, s->cfg.filters, s->grads_buf);
    s->metrics = &s->step_out->metrics;
    /* the v3 counters start at 0; each kernel leaves them at 0 */
    GPU_CHECK(cudaMemsetAsync(s->loss_done, 0, sizeof *s->loss_done, s->stream));
    /* the kernels write the fields, never the struct's padding, which
     * read_metrics copies down with them (compute-sanitizer initcheck) */
    GPU_CHECK(cudaMemsetAsync(s->step_out, 0, sizeof *s->step_out, s->stream));
    GPU_CHECK(cudaMemsetAsync(s->done_conv, 0,
                              cuda_conv_backward_groups(s->cfg.filters) * sizeof *s->done_conv,
                              s->stream));
    return CNN_OK;
}

extern "C" void cuda_destroy(cnn_state *s)
{
    if (!s)
        return;
    /* errors are moot here: the state is going away either way */
    if (s->stream)
        (void)cudaStreamSynchronize(s->stream);
    struct gpu_buffer bufs[DEVICE_BUFFERS];
    device_buffers(s, bufs);
    gpu_buffers_free(bufs, DEVICE_BUFFERS);
    (void)cudaFreeHost(s->pinned);
    gpu_timer_destroy(&s->timer);
    cuda_replay_destroy(s);
    if (s->staging_free)
        (void)cudaEventDestroy(s->staging_free);
    if (s->stream)
        (void)cudaStreamDestroy(s->stream);
    (void)cudaGetLastError();
    free(s);
}

static cnn_status alloc_host(cnn_state *s)
{
    size_t B = (size_t)s->cfg.batch, used = 0;
    size_t o_staging = carve(&used, B * CNN_PIXELS * sizeof(float) + B);
    size_t o_out = carve(&used, sizeof(struct cuda_step_out));
    size_t o_pred = carve(&used, B);
    void *host = NULL;
    cudaError_t err = cudaMallocHost(&host, used);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return cnn_fail(CNN_E_NOMEM, "cuda: cannot pin %zu bytes of host memory for B=%d: %s",
                        used, s->cfg.batch, cudaGetErrorString(err));
    }
    s->pinned = host;
    unsigned char *base = (unsigned char *)host;
    s->staging = base + o_staging;
    s->host_out = (struct cuda_step_out *)(base + o_out);
    s->metrics_host = &s->host_out->metrics;
    s->pred_host = base + o_pred;
    return CNN_OK;
}

static cnn_status create_resources(cnn_state *s)
{
    GPU_CHECK(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    /* timing enabled: it also ends the h2d region (gpu_timer_close_with) */
    GPU_CHECK(cudaEventCreate(&s->staging_free));
    CNN_TRY(gpu_timer_create(&s->timer, "cuda", s->stream));
    CNN_TRY(alloc_device(s));
    CNN_TRY(alloc_host(s));
    CNN_TRY(cuda_fc_setup());
    CNN_TRY(cuda_fused_setup());
    if (s->graph)
        CNN_TRY(cuda_replay_create(s));
    if (s->variant == CUDA_VARIANT_PERSISTENT)
        CNN_TRY(cuda_persist_setup(s));
    s->y = (const uint8_t *)(s->x + (size_t)s->cfg.batch * CNN_PIXELS);
    /* staging_free must have fired once before the first upload waits on it */
    GPU_CHECK(cudaEventRecord(s->staging_free, s->stream));
    return CNN_OK;
}

/* A one-GPU state on the current device, for a cfg that cnn_config_check
 * has passed (cuda_table.c); its gpus is ignored. */
extern "C" cnn_status cuda_create(const struct cnn_config *cfg, cnn_state **out)
{
    int variant = cfg->variant == 0 ? CUDA_VARIANT_DEFAULT : cfg->variant;
    int graph = variant == CUDA_VARIANT_GRAPH;
    cnn_state *s = (cnn_state *)calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "cuda: cannot allocate state");
    s->cfg = *cfg;
    /* v6 replays the default kernels, the fastest at every measured size */
    s->variant = graph ? CUDA_VARIANT_TUNED : variant;
    s->graph = graph;
    s->K = cnn_features(cfg->filters);
    s->count = cnn_param_count(cfg->filters);
    s->sync_debug = gpu_sync_debug();
    cnn_status st = gpu_current_device(&s->device);
    if (st == CNN_OK)
        st = create_resources(s);
    if (st != CNN_OK) {
        cuda_destroy(s);
        return st;
    }
    *out = s;
    return CNN_OK;
}

extern "C" int cuda_is_group(const cnn_state *s) { return s->group != NULL; }

extern "C" cnn_status cuda_device_bus_id(cnn_state *s, int i, char *buf, size_t len)
{
    return gpu_device_bus_id("cuda", s->device, i, buf, len);
}

/* ---- parameters in the canonical layout: one copy each way ---- */

extern "C" cnn_status cuda_set_params(cnn_state *s, const struct cnn_params *p)
{
    return gpu_params_to_device("cuda", s->stream, p, s->cfg.filters, s->params_buf);
}

extern "C" cnn_status cuda_get_params(cnn_state *s, struct cnn_params *p)
{
    return gpu_params_to_host("cuda", s->stream, s->params_buf, s->cfg.filters, p);
}

extern "C" cnn_status cuda_get_grads(cnn_state *s, struct cnn_params *g)
{
    return gpu_params_to_host("cuda", s->stream, s->grads_buf, s->cfg.filters, g);
}

/* ---- the batch: host -> device on the training stream ----
 * A page-locked batch (the backend's own staging buffer, which the harness
 * gathers into through the batch_buffer slot, or any cudaMallocHost /
 * cudaHostRegister memory) goes up by DMA at PCIe speed (about 45-50 GB/s
 * measured on the H100 host). A pageable batch is handed to the driver,
 * which stages it through its own pinned buffers: measured 11 GB/s there,
 * faster than our own memcpy into pinned staging plus DMA, pipelined or
 * not (8-9 GB/s: the host copy is the bottleneck). The labels always go
 * through the pinned staging buffer. */

static cnn_status is_page_locked(const void *p, int *locked)
{
    cudaPointerAttributes attr;
    GPU_CHECK(cudaPointerGetAttributes(&attr, p));
    *locked = attr.type == cudaMemoryTypeHost;
    return CNN_OK;
}

/* Uploads x [n][P] and, if y is given, the labels to x + B*P (the staging
 * buffer has the device layout, so a full staged batch is one copy).
 * Returns when x and y may be reused by the caller. */
static cnn_status upload(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    size_t xbytes = (size_t)n * CNN_PIXELS * sizeof(float);
    size_t label_at = (size_t)s->cfg.batch * CNN_PIXELS * sizeof(float);
    uint8_t *labels = s->staging + label_at;
    int staged = x == (const float *)s->staging;
    /* the staging buffer is reused every step: the previous upload must have left it */
    GPU_CHECK(cudaEventSynchronize(s->staging_free));
    int locked = staged;
    if (!staged)
        CNN_TRY(is_page_locked(x, &locked));
    if (y && y != labels)
        memcpy(labels, y, (size_t)n);
    if (staged && y && n == s->cfg.batch) {
        GPU_CHECK(cudaMemcpyAsync(s->x, s->staging, label_at + (size_t)n,
                                  cudaMemcpyHostToDevice, s->stream));
    } else {
        GPU_CHECK(cudaMemcpyAsync(s->x, x, xbytes, cudaMemcpyHostToDevice, s->stream));
        if (y)
            GPU_CHECK(cudaMemcpyAsync((char *)s->x + label_at, labels, (size_t)n,
                                      cudaMemcpyHostToDevice, s->stream));
    }
    GPU_CHECK(cudaEventRecord(s->staging_free, s->stream));
    /* in a timed step, the end of the copies ends h2d, before any wait below */
    CNN_TRY(gpu_timer_close_with(&s->timer, s->staging_free));
    /* a caller's own page-locked x is still being read by the DMA */
    if (locked && !staged)
        GPU_CHECK(cudaEventSynchronize(s->staging_free));
    return CNN_OK;
}

/* The staging buffer has the device layout: pixels, then labels at B*P. */
extern "C" cnn_status cuda_batch_buffer(cnn_state *s, float **x, uint8_t **y)
{
    *x = (float *)s->staging;
    *y = s->staging + (size_t)s->cfg.batch * CNN_PIXELS * sizeof(float);
    return CNN_OK;
}

extern "C" cnn_status cuda_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    if (n < 1 || n > s->cfg.batch)
        return cnn_fail(CNN_E_ARG, "cuda: batch of %d images, capacity %d", n, s->cfg.batch);
    if (s->replay.deferring)
        return cuda_replay_load_batch(s, x, y, n);
    CNN_TRY(upload(s, x, y, n));
    s->n = n;
    s->mean_over = n;
    return CNN_OK;
}

/* ---- what comes down: two scalars per step ---- */

extern "C" cnn_status cuda_read_metrics(cnn_state *s, double *loss, int *correct)
{
    if (s->replay.deferring)
        return cuda_replay_read_metrics(s, loss, correct);
    if (s->n < 1)
        return cnn_fail(CNN_E_ARG, "cuda: read_metrics before any batch");
    /* a v7 step's phase stamps come down with the metrics, in one copy */
    size_t bytes = s->persist.ran ? sizeof *s->step_out : sizeof *s->metrics;
    GPU_CHECK(cudaMemcpyAsync(s->host_out, s->step_out, bytes, cudaMemcpyDeviceToHost,
                              s->stream));
    /* the end of the copy on the GPU ends d2h, so it excludes the host's wake-up */
    CNN_TRY(gpu_timer_close(&s->timer));
    GPU_CHECK(cudaStreamSynchronize(s->stream));
    *loss = s->metrics_host->loss_sum / s->n;
    *correct = s->metrics_host->correct;
    return CNN_OK;
}

extern "C" cnn_status cuda_get_logits(cnn_state *s, float *logits)
{
    return gpu_copy_and_wait(s->stream, logits, s->logits,
                             (size_t)s->n * CNN_CLASSES * sizeof(float), cudaMemcpyDeviceToHost);
}

extern "C" cnn_status cuda_set_logit_grad(cnn_state *s, const float *dlogits)
{
    return gpu_copy_and_wait(s->stream, s->dlogits, dlogits,
                             (size_t)s->n * CNN_CLASSES * sizeof(float), cudaMemcpyHostToDevice);
}

/* The argmax bytes of the last conv_forward in the contract's coding. Every
 * variant's forward (conv_forward_v1, and pool_output for v2-v4) writes the
 * first maximal window position, or CUDA_NO_ARGMAX exactly where the pooled
 * value is not > 0: CNN_POOL_NO_GRAD's meaning under another byte. */
extern "C" cnn_status cuda_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    if (s->n < 1)
        return cnn_fail(CNN_E_ARG, "cuda: get_pool_choice before any training batch");
    size_t count = (size_t)s->n * s->K;
    CNN_TRY(gpu_copy_and_wait(s->stream, choice, s->argmax, count, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < count; i++)
        if (choice[i] == CUDA_NO_ARGMAX)
            choice[i] = CNN_POOL_NO_GRAD;
    return CNN_OK;
}

extern "C" cnn_status cuda_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    /* a v7 step that failed half-way leaves no step open for predict's slots */
    s->persist.open = 0;
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        CNN_TRY(upload(s, x + (size_t)first * CNN_PIXELS, NULL, count));
        s->n = count;
        CNN_TRY(cuda_conv_forward(s));
        CNN_TRY(cuda_fc_forward(s));
        CNN_TRY(cuda_predict_classes(s, count));
        CNN_TRY(gpu_copy_and_wait(s->stream, s->pred_host, s->pred, (size_t)count,
                                  cudaMemcpyDeviceToHost));
        memcpy(pred + first, s->pred_host, (size_t)count);
    }
    /* the device holds test images now, not a training batch */
    s->n = 0;
    return CNN_OK;
}

/* ---- the region clock (gpu/gpu.h) ---- */

extern "C" cnn_status cuda_timer_mark(cnn_state *s, enum cnn_region r, int end)
{
    if (cuda_replay_owns_marks(s))
        return cuda_replay_mark(s, r, end);
    if (cuda_persist_owns_step(s))
        cuda_persist_mark(s, r, end);
    return gpu_timer_mark(&s->timer, r, end);
}

extern "C" cnn_status cuda_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms)
{
    if (cuda_replay_owns_marks(s))
        return cuda_replay_timer_read(s, ms, span_ms);
    CNN_TRY(gpu_timer_read(&s->timer, ms, span_ms));
    if (cuda_persist_owns_step(s))
        cuda_persist_regions(s, ms);
    return CNN_OK;
}
