/*
 * cuda_backend.cu — the host side of the CUDA backend: probe, the state's
 * life cycle (every device buffer sized and checked against free memory up
 * front, so a configuration that does not fit fails once, with a clear
 * message), the batch upload, metrics, per-region timing (CUDA events on
 * the training stream, NVTX ranges, CUPTI region tags) and the test hooks.
 *
 * Debugging: CNNBENCH_CUDA_SYNC=1 in the environment makes every launch
 * synchronise and check the stream, so an asynchronous fault is reported
 * with the kernel that caused it (at a cost in speed; never for timing).
 */
#include <nvtx3/nvToolsExt.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.cuh"
#include "cupti_trace.h"

enum { ALLOC_ALIGN = 256 };

cnn_status cuda_fail_call(cudaError_t err, const char *file, int line, const char *call)
{
    (void)cudaGetLastError(); /* a non-sticky error must not resurface at the next check */
    cnn_status st = err == cudaErrorMemoryAllocation ? CNN_E_DEVICE_OOM : CNN_E_DEVICE;
    return cnn_fail(st, "%s:%d: %s: %s (%s)", file, line, call, cudaGetErrorString(err),
                    cudaGetErrorName(err));
}

cnn_status cuda_check_launch(cnn_state *s, const char *file, int line, const char *kernel)
{
    s->work++;
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess)
        return cnn_fail(CNN_E_DEVICE, "%s:%d: launching %s: %s (%s)", file, line, kernel,
                        cudaGetErrorString(err), cudaGetErrorName(err));
    if (s->sync_debug) {
        err = cudaStreamSynchronize(s->stream);
        if (err != cudaSuccess)
            return cnn_fail(CNN_E_DEVICE, "%s:%d: running %s: %s (%s)", file, line, kernel,
                            cudaGetErrorString(err), cudaGetErrorName(err));
    }
    return CNN_OK;
}

extern "C" cnn_status cuda_probe(void)
{
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return cnn_fail(CNN_E_UNAVAILABLE, "cuda: no usable GPU: %s (%s)",
                        cudaGetErrorString(err), cudaGetErrorName(err));
    }
    if (count == 0)
        return cnn_fail(CNN_E_UNAVAILABLE, "cuda: no CUDA device found");
    return cuda_check_kernel_image();
}

/* ---- state life cycle ---- */

/* Reserves `bytes` at the next aligned offset of an allocation being planned. */
static size_t carve(size_t *used, size_t bytes)
{
    size_t at = (*used + ALLOC_ALIGN - 1) / ALLOC_ALIGN * ALLOC_ALIGN;
    *used = at + bytes;
    return at;
}

static void tensor_views(struct cuda_tensors *t, float *buf, int F, size_t K)
{
    t->conv_w = buf;
    t->conv_b = t->conv_w + (size_t)F * CNN_KTAPS;
    t->fc_w = t->conv_b + F;
    t->fc_b = t->fc_w + CNN_CLASSES * K;
}

/* Every device buffer of the state with its size. Each buffer is
 * its own allocation, so compute-sanitizer sees every buffer's bounds. */
struct device_buffer {
    void **ptr;
    size_t bytes;
};
enum { DEVICE_BUFFERS = 19 };

static void device_buffers(cnn_state *s, struct device_buffer out[DEVICE_BUFFERS])
{
    size_t B = (size_t)s->cfg.batch, K = s->K, BC = B * CNN_CLASSES;
    int F = s->cfg.filters;
    const struct device_buffer table[DEVICE_BUFFERS] = {
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
        {(void **)&s->fc_fwd_part, cuda_fc_forward_workspace((int)B, F) * sizeof(float)},
        {(void **)&s->fc_bwd_part, cuda_fc_backward_workspace((int)B, F) * sizeof(float)},
        {(void **)&s->conv_bwd_part, cuda_conv_backward_workspace((int)B, F) * sizeof(float)},
        {(void **)&s->image_loss, B * sizeof(double)},
        {(void **)&s->image_correct, B * sizeof(int)},
        {(void **)&s->metrics, sizeof(struct cuda_metrics)},
        {(void **)&s->pred, B},
        {(void **)&s->loss_part, cuda_loss_blocks((int)B) * sizeof(struct cuda_metrics)},
        {(void **)&s->loss_done, sizeof(unsigned)},
        {(void **)&s->done_conv, cuda_conv_backward_groups(F) * sizeof(unsigned)},
    };
    memcpy(out, table, sizeof table);
}

static cnn_status oom(const cnn_state *s, size_t want, size_t free_bytes, size_t total_bytes)
{
    const double mib = 1024.0 * 1024.0;
    return cnn_fail(CNN_E_DEVICE_OOM,
                    "cuda: B=%d F=%d needs %.1f MiB of device memory, %.1f MiB free of %.1f MiB",
                    s->cfg.batch, s->cfg.filters, want / mib, free_bytes / mib,
                    total_bytes / mib);
}

static cnn_status alloc_device(cnn_state *s)
{
    struct device_buffer bufs[DEVICE_BUFFERS];
    device_buffers(s, bufs);
    size_t want = 0;
    for (int i = 0; i < DEVICE_BUFFERS; i++)
        carve(&want, bufs[i].bytes);
    /* one check up front, so a config that cannot fit fails before any work */
    size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (want > free_bytes)
        return oom(s, want, free_bytes, total_bytes);
    for (int i = 0; i < DEVICE_BUFFERS; i++) {
        cudaError_t err = cudaMalloc(bufs[i].ptr, bufs[i].bytes);
        if (err == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            return oom(s, want, free_bytes, total_bytes);
        }
        if (err != cudaSuccess)
            return cuda_fail_call(err, __FILE__, __LINE__, "cudaMalloc(device buffer)");
    }
    tensor_views(&s->params, s->params_buf, s->cfg.filters, s->K);
    tensor_views(&s->grads, s->grads_buf, s->cfg.filters, s->K);
    /* the v3 counters start at 0; each kernel leaves them at 0 */
    CUDA_CHECK(cudaMemsetAsync(s->loss_done, 0, sizeof *s->loss_done, s->stream));
    /* the kernels write the two fields, never the struct's padding, which
     * read_metrics copies down with them (compute-sanitizer initcheck) */
    CUDA_CHECK(cudaMemsetAsync(s->metrics, 0, sizeof *s->metrics, s->stream));
    CUDA_CHECK(cudaMemsetAsync(s->done_conv, 0,
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
    struct device_buffer bufs[DEVICE_BUFFERS];
    device_buffers(s, bufs);
    for (int i = 0; i < DEVICE_BUFFERS; i++)
        (void)cudaFree(*bufs[i].ptr);
    (void)cudaFreeHost(s->pinned);
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        for (int e = 0; e < 2; e++)
            if (s->marks[r][e])
                (void)cudaEventDestroy(s->marks[r][e]);
    if (s->staging_free)
        (void)cudaEventDestroy(s->staging_free);
    if (s->metrics_copied)
        (void)cudaEventDestroy(s->metrics_copied);
    if (s->stream)
        (void)cudaStreamDestroy(s->stream);
    (void)cudaGetLastError();
    free(s);
}

static cnn_status alloc_host(cnn_state *s)
{
    size_t B = (size_t)s->cfg.batch, used = 0;
    size_t o_staging = carve(&used, B * CNN_PIXELS * sizeof(float) + B);
    size_t o_metrics = carve(&used, sizeof(struct cuda_metrics));
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
    s->metrics_host = (struct cuda_metrics *)(base + o_metrics);
    s->pred_host = base + o_pred;
    return CNN_OK;
}

static cnn_status create_resources(cnn_state *s)
{
    CUDA_CHECK(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    /* timing enabled: these two also serve as region bounds (timer_mark) */
    CUDA_CHECK(cudaEventCreate(&s->staging_free));
    CUDA_CHECK(cudaEventCreate(&s->metrics_copied));
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        for (int e = 0; e < 2; e++)
            CUDA_CHECK(cudaEventCreate(&s->marks[r][e]));
    CNN_TRY(alloc_device(s));
    CNN_TRY(alloc_host(s));
    CNN_TRY(cuda_fc_setup());
    s->y = (const uint8_t *)(s->x + (size_t)s->cfg.batch * CNN_PIXELS);
    /* staging_free must have fired once before the first upload waits on it */
    CUDA_CHECK(cudaEventRecord(s->staging_free, s->stream));
    return CNN_OK;
}

extern "C" cnn_status cuda_create(const struct cnn_config *cfg, cnn_state **out)
{
    if (cfg->batch < 1 || cfg->batch > CNN_MAX_BATCH)
        return cnn_fail(CNN_E_ARG, "cuda: batch must be in 1..%d, got %d", CNN_MAX_BATCH,
                        cfg->batch);
    if (cfg->filters < 1 || cfg->filters > CNN_MAX_FILTERS)
        return cnn_fail(CNN_E_ARG, "cuda: filters must be in 1..%d, got %d", CNN_MAX_FILTERS,
                        cfg->filters);
    if (cfg->gpus != 0)
        return cnn_fail(CNN_E_ARG, "cuda: gpus=%d is trained by the data-parallel table "
                        "(cnn_backend_for_gpus), not this one", cfg->gpus);
    int variant = cfg->variant == 0 ? CUDA_VARIANT_DEFAULT : cfg->variant;
    if (variant < 1 || variant > CUDA_VARIANT_COUNT)
        return cnn_fail(CNN_E_ARG, "cuda: variant must be in 1..%d, got %d", CUDA_VARIANT_COUNT,
                        cfg->variant);
    cnn_state *s = (cnn_state *)calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "cuda: cannot allocate state");
    s->cfg = *cfg;
    s->variant = variant;
    s->K = cnn_features(cfg->filters);
    s->count = cnn_param_count(cfg->filters);
    s->last_mark = -1;
    const char *sync = getenv("CNNBENCH_CUDA_SYNC");
    s->sync_debug = sync && strcmp(sync, "1") == 0;
    cnn_status st = create_resources(s);
    if (st != CNN_OK) {
        cuda_destroy(s);
        return st;
    }
    *out = s;
    return CNN_OK;
}

extern "C" cnn_status cuda_set_variant(cnn_state *s, int variant)
{
    if (variant < 1 || variant > CUDA_VARIANT_COUNT)
        return cnn_fail(CNN_E_ARG, "cuda: variant must be in 1..%d, got %d", CUDA_VARIANT_COUNT,
                        variant);
    s->variant = variant;
    return CNN_OK;
}

/* ---- parameters in the canonical layout: one copy each way ---- */

static cnn_status check_filters(const cnn_state *s, const struct cnn_params *p)
{
    if (p->filters != s->cfg.filters)
        return cnn_fail(CNN_E_ARG, "cuda: parameters have %d filters, the model %d", p->filters,
                        s->cfg.filters);
    return CNN_OK;
}

static cnn_status copy_and_wait(cnn_state *s, void *dst, const void *src, size_t bytes,
                                cudaMemcpyKind kind)
{
    s->work++;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, s->stream));
    CUDA_CHECK(cudaStreamSynchronize(s->stream));
    return CNN_OK;
}

extern "C" cnn_status cuda_set_params(cnn_state *s, const struct cnn_params *p)
{
    CNN_TRY(check_filters(s, p));
    return copy_and_wait(s, s->params_buf, p->buf, s->count * sizeof(float),
                         cudaMemcpyHostToDevice);
}

extern "C" cnn_status cuda_get_params(cnn_state *s, struct cnn_params *p)
{
    CNN_TRY(check_filters(s, p));
    return copy_and_wait(s, p->buf, s->params_buf, s->count * sizeof(float),
                         cudaMemcpyDeviceToHost);
}

extern "C" cnn_status cuda_get_grads(cnn_state *s, struct cnn_params *g)
{
    CNN_TRY(check_filters(s, g));
    return copy_and_wait(s, g->buf, s->grads_buf, s->count * sizeof(float),
                         cudaMemcpyDeviceToHost);
}

/* Records ev on the training stream; the latest event stands for its
 * point of the stream until more work is enqueued (timer_mark reuses it). */
static cnn_status record(cnn_state *s, cudaEvent_t ev)
{
    CUDA_CHECK(cudaEventRecord(ev, s->stream));
    s->last_event = ev;
    s->work_at_event = s->work;
    return CNN_OK;
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
    CUDA_CHECK(cudaPointerGetAttributes(&attr, p));
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
    CUDA_CHECK(cudaEventSynchronize(s->staging_free));
    s->work++;
    int locked = staged;
    if (!staged)
        CNN_TRY(is_page_locked(x, &locked));
    if (y && y != labels)
        memcpy(labels, y, (size_t)n);
    if (staged && y && n == s->cfg.batch) {
        CUDA_CHECK(cudaMemcpyAsync(s->x, s->staging, label_at + (size_t)n,
                                   cudaMemcpyHostToDevice, s->stream));
    } else {
        CUDA_CHECK(cudaMemcpyAsync(s->x, x, xbytes, cudaMemcpyHostToDevice, s->stream));
        if (y)
            CUDA_CHECK(cudaMemcpyAsync((char *)s->x + label_at, labels, (size_t)n,
                                       cudaMemcpyHostToDevice, s->stream));
    }
    CNN_TRY(record(s, s->staging_free));
    /* a caller's own page-locked x is still being read by the DMA */
    if (locked && !staged)
        CUDA_CHECK(cudaEventSynchronize(s->staging_free));
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
    CNN_TRY(upload(s, x, y, n));
    s->n = n;
    s->mean_over = n;
    return CNN_OK;
}

/* ---- what comes down: two scalars per step ---- */

extern "C" cnn_status cuda_read_metrics(cnn_state *s, double *loss, int *correct)
{
    if (s->n < 1)
        return cnn_fail(CNN_E_ARG, "cuda: read_metrics before any batch");
    s->work++;
    CUDA_CHECK(cudaMemcpyAsync(s->metrics_host, s->metrics, sizeof *s->metrics,
                               cudaMemcpyDeviceToHost, s->stream));
    /* the end of the copy on the GPU, so d2h excludes the host's wake-up */
    CNN_TRY(record(s, s->metrics_copied));
    CUDA_CHECK(cudaStreamSynchronize(s->stream));
    *loss = s->metrics_host->loss_sum / s->n;
    *correct = s->metrics_host->correct;
    return CNN_OK;
}

extern "C" cnn_status cuda_get_logits(cnn_state *s, float *logits)
{
    return copy_and_wait(s, logits, s->logits, (size_t)s->n * CNN_CLASSES * sizeof(float),
                         cudaMemcpyDeviceToHost);
}

extern "C" cnn_status cuda_set_logit_grad(cnn_state *s, const float *dlogits)
{
    return copy_and_wait(s, s->dlogits, dlogits, (size_t)s->n * CNN_CLASSES * sizeof(float),
                         cudaMemcpyHostToDevice);
}

extern "C" cnn_status cuda_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        CNN_TRY(upload(s, x + (size_t)first * CNN_PIXELS, NULL, count));
        s->n = count;
        CNN_TRY(cuda_conv_forward(s));
        CNN_TRY(cuda_fc_forward(s));
        CNN_TRY(cuda_predict_classes(s, count));
        CNN_TRY(copy_and_wait(s, s->pred_host, s->pred, (size_t)count, cudaMemcpyDeviceToHost));
        memcpy(pred + first, s->pred_host, (size_t)count);
    }
    /* the device holds test images now, not a training batch */
    s->n = 0;
    return CNN_OK;
}

/* ---- per-region timing ---- */

/* Marks a point of the stream: with the latest event when nothing was
 * enqueued since it was recorded (it marks the same point, and one event
 * record less per region is host time saved, which is what bounds small
 * configurations), else with `own`. *used is the event that marks it. */
static cnn_status mark(cnn_state *s, cudaEvent_t own, cudaEvent_t *used)
{
    if (!s->last_event || s->work != s->work_at_event)
        CNN_TRY(record(s, own));
    *used = s->last_event;
    return CNN_OK;
}

/* Regions follow each other on one stream, so a region's start is usually
 * the previous one's end event, and the launch gap between them counts to
 * the region that waited for its launch; the regions then tile the step's
 * GPU timeline from the batch upload to the metrics copy. */
extern "C" cnn_status cuda_timer_mark(cnn_state *s, enum cnn_region r, int end)
{
    if ((unsigned)r >= CNN_REGION_COUNT)
        return cnn_fail(CNN_E_ARG, "cuda: no region %d", (int)r);
    if (!end) {
        nvtxRangePushA(cnn_region_name(r));
        CNN_TRY(cnn_cupti_region_begin(r, s->step));
        return mark(s, s->marks[r][0], &s->bounds[r][0]);
    }
    CNN_TRY(mark(s, s->marks[r][1], &s->bounds[r][1]));
    CNN_TRY(cnn_cupti_region_end());
    nvtxRangePop();
    s->marked |= 1u << r;
    s->last_mark = (int)r;
    return CNN_OK;
}

extern "C" cnn_status cuda_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT])
{
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        ms[r] = -1.0;
    if (s->last_mark >= 0) {
        /* one stream: once the last end mark fired, every earlier one has */
        CUDA_CHECK(cudaEventSynchronize(s->bounds[s->last_mark][1]));
        for (int r = 0; r < CNN_REGION_COUNT; r++) {
            if (!(s->marked & (1u << r)))
                continue;
            float t = 0.0f;
            CUDA_CHECK(cudaEventElapsedTime(&t, s->bounds[r][0], s->bounds[r][1]));
            ms[r] = t;
        }
    }
    s->marked = 0;
    s->last_mark = -1;
    /* the host's time between steps belongs to no region: the next step's
     * first mark is always a fresh record */
    s->last_event = NULL;
    s->step++;
    return CNN_OK;
}
