/* gpu.c — the shared host code of the GPU backends behind gpu.h. */
#include "gpu.h"

#include <stdlib.h>
#include <string.h>

#include "cupti_trace.h"

/* cudaMalloc's alignment: what the total of a buffer table really takes. */
enum { GPU_ALLOC_ALIGN = 256 };

/* ---- checks ---- */

cnn_status gpu_fail_call(cudaError_t err, const char *file, int line, const char *call)
{
    (void)cudaGetLastError(); /* a non-sticky error must not resurface at the next check */
    cnn_status st = err == cudaErrorMemoryAllocation ? CNN_E_DEVICE_OOM : CNN_E_DEVICE;
    return cnn_fail(st, "%s:%d: %s: %s (%s)", file, line, call, cudaGetErrorString(err),
                    cudaGetErrorName(err));
}

cnn_status gpu_check_launch(cudaStream_t stream, int sync_debug, const char *file, int line,
                            const char *kernel)
{
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess)
        return cnn_fail(CNN_E_DEVICE, "%s:%d: launching %s: %s (%s)", file, line, kernel,
                        cudaGetErrorString(err), cudaGetErrorName(err));
    if (sync_debug) {
        err = cudaStreamSynchronize(stream);
        if (err != cudaSuccess)
            return cnn_fail(CNN_E_DEVICE, "%s:%d: running %s: %s (%s)", file, line, kernel,
                            cudaGetErrorString(err), cudaGetErrorName(err));
    }
    return CNN_OK;
}

int gpu_sync_debug(void)
{
    const char *sync = getenv("CNNBENCH_CUDA_SYNC");
    return sync && strcmp(sync, "1") == 0;
}

/* ---- probe ---- */

cnn_status gpu_probe(const char *who)
{
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return cnn_fail(CNN_E_UNAVAILABLE, "%s: no usable GPU: %s (%s)", who,
                        cudaGetErrorString(err), cudaGetErrorName(err));
    }
    if (count == 0)
        return cnn_fail(CNN_E_UNAVAILABLE, "%s: no CUDA device found", who);
    return gpu_check_kernel_image(who);
}

/* ---- which card ---- */

cnn_status gpu_current_device(int *device)
{
    GPU_CHECK(cudaGetDevice(device));
    return CNN_OK;
}

cnn_status gpu_device_bus_id(const char *who, int device, int i, char *buf, size_t len)
{
    if (i != 0)
        return cnn_fail(CNN_E_ARG, "%s: a one-GPU state has no device %d", who, i);
    if (len < CNN_BUS_ID)
        return cnn_fail(CNN_E_ARG, "%s: %zu bytes for a PCI bus id, %d needed", who, len,
                        (int)CNN_BUS_ID);
    GPU_CHECK(cudaDeviceGetPCIBusId(buf, (int)len, device));
    return CNN_OK;
}

/* ---- parameters ---- */

cnn_status gpu_copy_and_wait(cudaStream_t stream, void *dst, const void *src, size_t bytes,
                             enum cudaMemcpyKind kind)
{
    GPU_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream));
    GPU_CHECK(cudaStreamSynchronize(stream));
    return CNN_OK;
}

static cnn_status check_filters(const char *who, const struct cnn_params *p, int filters)
{
    if (p->filters != filters)
        return cnn_fail(CNN_E_ARG, "%s: parameters have %d filters, the model %d", who,
                        p->filters, filters);
    return CNN_OK;
}

cnn_status gpu_params_to_device(const char *who, cudaStream_t stream,
                                const struct cnn_params *p, int filters, float *dev)
{
    CNN_TRY(check_filters(who, p, filters));
    return gpu_copy_and_wait(stream, dev, p->buf, cnn_param_count(filters) * sizeof(float),
                             cudaMemcpyHostToDevice);
}

cnn_status gpu_params_to_host(const char *who, cudaStream_t stream, const float *dev,
                              int filters, struct cnn_params *p)
{
    CNN_TRY(check_filters(who, p, filters));
    return gpu_copy_and_wait(stream, p->buf, dev, cnn_param_count(filters) * sizeof(float),
                             cudaMemcpyDeviceToHost);
}

/* ---- device buffers ---- */

static size_t alloc_bytes(const struct gpu_buffer *b) { return b->bytes ? b->bytes : 1; }

static cnn_status oom(const char *who, const struct cnn_config *cfg, size_t want,
                      size_t free_bytes, size_t total_bytes)
{
    const double mib = 1024.0 * 1024.0;
    return cnn_fail(CNN_E_DEVICE_OOM,
                    "%s: B=%d F=%d needs %.1f MiB of device memory, %.1f MiB free of %.1f MiB",
                    who, cfg->batch, cfg->filters, want / mib, free_bytes / mib,
                    total_bytes / mib);
}

cnn_status gpu_buffers_alloc(const char *who, const struct cnn_config *cfg,
                             const struct gpu_buffer *bufs, int count)
{
    size_t want = 0;
    for (int i = 0; i < count; i++)
        want += (alloc_bytes(&bufs[i]) + GPU_ALLOC_ALIGN - 1) / GPU_ALLOC_ALIGN * GPU_ALLOC_ALIGN;
    /* one check up front, so a configuration that cannot fit fails before any work */
    size_t free_bytes = 0, total_bytes = 0;
    GPU_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (want > free_bytes)
        return oom(who, cfg, want, free_bytes, total_bytes);
    for (int i = 0; i < count; i++) {
        cudaError_t err = cudaMalloc(bufs[i].ptr, alloc_bytes(&bufs[i]));
        if (err == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            return oom(who, cfg, want, free_bytes, total_bytes);
        }
        if (err != cudaSuccess)
            return gpu_fail_call(err, __FILE__, __LINE__, "cudaMalloc(device buffer)");
    }
    return CNN_OK;
}

void gpu_buffers_free(const struct gpu_buffer *bufs, int count)
{
    for (int i = 0; i < count; i++) {
        (void)cudaFree(*bufs[i].ptr);
        *bufs[i].ptr = NULL;
    }
}

/* ---- the region clock ---- */

static void timer_reset(struct gpu_timer *t)
{
    t->bounds = 0;
    t->open = -1;
    t->closed = 0;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        t->from[r] = t->to[r] = -1;
}

cnn_status gpu_timer_create(struct gpu_timer *t, const char *who, cudaStream_t stream)
{
    memset(t, 0, sizeof *t);
    t->who = who;
    t->stream = stream;
    timer_reset(t);
    for (int k = 0; k < GPU_TIMER_BOUNDS; k++)
        GPU_CHECK(cudaEventCreate(&t->own[k]));
    return CNN_OK;
}

void gpu_timer_destroy(struct gpu_timer *t)
{
    for (int k = 0; k < GPU_TIMER_BOUNDS; k++)
        if (t->own[k])
            (void)cudaEventDestroy(t->own[k]);
    memset(t->own, 0, sizeof t->own);
}

/* The open region's end boundary: the next one, or the one it has already
 * recorded (a region that closes twice ends at the later point). */
static cnn_status end_slot(struct gpu_timer *t, int *k)
{
    if (t->closed) {
        *k = t->bounds - 1;
        return CNN_OK;
    }
    if (t->bounds == GPU_TIMER_BOUNDS)
        return cnn_fail(CNN_E_ARG, "%s: more than %d region boundaries in one step (a region "
                        "timed twice without timer_read)", t->who, GPU_TIMER_BOUNDS);
    *k = t->bounds++;
    t->closed = 1;
    return CNN_OK;
}

cnn_status gpu_timer_close(struct gpu_timer *t)
{
    if (t->open < 0)
        return CNN_OK;
    int k = 0;
    CNN_TRY(end_slot(t, &k));
    GPU_CHECK(cudaEventRecord(t->own[k], t->stream));
    t->bound[k] = t->own[k];
    return CNN_OK;
}

cnn_status gpu_timer_close_with(struct gpu_timer *t, cudaEvent_t recorded)
{
    if (t->open < 0)
        return CNN_OK;
    int k = 0;
    CNN_TRY(end_slot(t, &k));
    t->bound[k] = recorded;
    return CNN_OK;
}

cnn_status gpu_timer_mark(struct gpu_timer *t, enum cnn_region r, int end)
{
    if ((unsigned)r >= CNN_REGION_COUNT)
        return cnn_fail(CNN_E_ARG, "%s: no region %d", t->who, (int)r);
    if (!end) {
        if (t->open >= 0)
            return cnn_fail(CNN_E_ARG, "%s: region %s starts while %s has not ended", t->who,
                            cnn_region_name(r), cnn_region_name((enum cnn_region)t->open));
        CNN_TRY(cnn_cupti_region_begin(r, t->step));
        if (t->bounds == 0) {
            GPU_CHECK(cudaEventRecord(t->own[0], t->stream));
            t->bound[0] = t->own[0];
            t->bounds = 1;
        }
        t->from[r] = t->bounds - 1;
        t->open = (int)r;
        t->closed = 0;
        return CNN_OK;
    }
    if (t->open != (int)r)
        return cnn_fail(CNN_E_ARG, "%s: region %s ends but has not started", t->who,
                        cnn_region_name(r));
    if (!t->closed)
        CNN_TRY(gpu_timer_close(t));
    t->to[r] = t->bounds - 1;
    t->open = -1;
    return cnn_cupti_region_end();
}

/* Reads the step's times into ms and *span (see gpu_timer_read). */
static cnn_status timer_elapsed(const struct gpu_timer *t, double ms[CNN_REGION_COUNT],
                                double *span)
{
    if (t->open >= 0)
        return cnn_fail(CNN_E_ARG, "%s: timer read while region %s has not ended", t->who,
                        cnn_region_name((enum cnn_region)t->open));
    if (t->bounds == 0)
        return CNN_OK;
    /* one stream: once the last boundary has passed, every earlier one has */
    GPU_CHECK(cudaEventSynchronize(t->bound[t->bounds - 1]));
    for (int r = 0; r < CNN_REGION_COUNT; r++) {
        if (t->to[r] < 0)
            continue;
        float region = 0.0f;
        GPU_CHECK(cudaEventElapsedTime(&region, t->bound[t->from[r]], t->bound[t->to[r]]));
        ms[r] = region;
    }
    float whole = 0.0f;
    GPU_CHECK(cudaEventElapsedTime(&whole, t->bound[0], t->bound[t->bounds - 1]));
    *span = whole;
    return CNN_OK;
}

cnn_status gpu_timer_read(struct gpu_timer *t, double ms[CNN_REGION_COUNT], double *span_ms)
{
    double span = -1.0;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        ms[r] = -1.0;
    cnn_status st = timer_elapsed(t, ms, &span);
    if (span_ms)
        *span_ms = span;
    /* whatever happened, the next mark starts a new step */
    timer_reset(t);
    t->step++;
    return st;
}
