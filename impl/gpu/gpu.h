/*
 * gpu.h — the host code the GPU backends (impl/cuda, impl/cudnn) share, so
 * that they check, allocate, copy and time in one way:
 *   GPU_CHECK, GPU_LAUNCHED  every runtime call and kernel launch checked,
 *                            with file and line in the message
 *   gpu_probe                a usable GPU, with device code for it
 *   gpu_params_*             the canonical parameter buffer on the device
 *                            (typed views by cnn_params_view), one copy each way
 *   gpu_buffers_*            a state's sized device buffers, checked against
 *                            free memory up front (CNN_E_DEVICE_OOM naming B, F)
 *   gpu_timer                the region clock below, with CUPTI region tags
 *                            (cupti_trace.h) per region (the NVTX ranges are
 *                            the step driver's, common/trace.h)
 * Usable from C (cc) and from CUDA C++ (nvcc).
 *
 * The region clock (timer=cuda_event in steps.csv; results/README.md).
 * A step's timed regions run one after another on the training stream, and
 * the clock marks the boundaries between them with CUDA events: one when the
 * step's first region starts, then one where each region ends. Region r's
 * time is the GPU time from the boundary before it (the previous region's
 * end, or the step's first boundary) to its own end boundary. The regions
 * thus tile the step's GPU span, first boundary to last: no gap, no overlap.
 * Whatever the stream does between two boundaries, kernels, copies and the
 * idle time while the host launches the next work, belongs to the region
 * that the later boundary closes; so the launch gap before a region's first
 * kernel counts in that region. The regions of a step add up to its GPU span
 * up to the events' resolution (about 0.5 us each).
 * A region may record its end boundary itself, after its last GPU work: one
 * that ends by waiting for the GPU (read_metrics: a copy down, then a
 * synchronisation) does so before it waits (gpu_timer_close), so the host's
 * wake-up is timed in no region; one that has just recorded an event there
 * anyway hands it over (gpu_timer_close_with: cuda's batch upload), one
 * record less. Work enqueued after that point belongs to the next region.
 * Costs: one event record per region plus one per step, read once after the
 * step; no synchronisation besides the one the step already has.
 */
#ifndef CNN_GPU_H
#define CNN_GPU_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cnn.h"
#include "error.h"
#include "params.h"

/* ---- checks ---- */

/* Records "file:line: call: error (name)" and maps the CUDA error to a
 * status (allocation failures become CNN_E_DEVICE_OOM). */
cnn_status gpu_fail_call(cudaError_t err, const char *file, int line, const char *call);

#define GPU_CHECK(call)                                                       \
    do {                                                                      \
        cudaError_t gpu_check_err_ = (call);                                  \
        if (gpu_check_err_ != cudaSuccess)                                    \
            return gpu_fail_call(gpu_check_err_, __FILE__, __LINE__, #call);  \
    } while (0)

/* After every kernel launch: the launch error, and with sync_debug the
 * execution error too, so an asynchronous fault names its kernel. */
cnn_status gpu_check_launch(cudaStream_t stream, int sync_debug, const char *file, int line,
                            const char *kernel);
#define GPU_LAUNCHED(stream, sync_debug, kernel) \
    CNN_TRY(gpu_check_launch((stream), (sync_debug), __FILE__, __LINE__, (kernel)))

/* Blocks of d threads that cover n items. */
static inline unsigned gpu_div_up(size_t n, size_t d) { return (unsigned)((n + d - 1) / d); }

/* CNNBENCH_CUDA_SYNC=1 in the environment: synchronise after every launch
 * (for debugging; never for timing). Read by each state's create. */
int gpu_sync_debug(void);

/* ---- probe ---- */

/* CNN_OK if a GPU is there and this build holds device code for it; else
 * CNN_E_UNAVAILABLE, the message prefixed with `who` (the backend). */
cnn_status gpu_probe(const char *who);
/* The device-code half of gpu_probe (gpu_loss.cu: every .cu file of the
 * build is compiled for the same architecture, so one kernel stands for all). */
cnn_status gpu_check_kernel_image(const char *who);

/* ---- which card a state runs on ---- */

/* The current CUDA device, which a state made now runs on: kept for
 * gpu_device_bus_id. */
cnn_status gpu_current_device(int *device);
/* The device_bus_id slot (cnn.h) of a one-GPU state made on CUDA device
 * `device`: i must be 0. */
cnn_status gpu_device_bus_id(const char *who, int device, int i, char *buf, size_t len);

/* ---- parameters on the device, canonical layout (cnn.h) ---- */

/* One copy on the stream, then waits for it. */
cnn_status gpu_copy_and_wait(cudaStream_t stream, void *dst, const void *src, size_t bytes,
                             enum cudaMemcpyKind kind);
/* p (host) -> dev [cnn_param_count(filters)], and back; CNN_E_ARG, naming
 * `who`, if p has another filter count than the model. */
cnn_status gpu_params_to_device(const char *who, cudaStream_t stream,
                                const struct cnn_params *p, int filters, float *dev);
cnn_status gpu_params_to_host(const char *who, cudaStream_t stream, const float *dev,
                              int filters, struct cnn_params *p);

/* ---- a state's device buffers ---- */

/* One device buffer: where its pointer goes, and its size. */
struct gpu_buffer {
    void **ptr;
    size_t bytes;
};
/* Allocates every buffer of the table, each its own allocation (so
 * compute-sanitizer sees each buffer's bounds; a buffer of 0 bytes gets 1),
 * after one check of the total against free memory, so a configuration that
 * cannot fit fails before any work with CNN_E_DEVICE_OOM and a message
 * naming `who`, B and F. On failure, what was allocated stays in the table
 * for gpu_buffers_free. */
cnn_status gpu_buffers_alloc(const char *who, const struct cnn_config *cfg,
                             const struct gpu_buffer *bufs, int count);
/* Frees every buffer of the table (NULL ones too) and clears the pointers. */
void gpu_buffers_free(const struct gpu_buffer *bufs, int count);

/* ---- the region clock (see the top of this file) ---- */

enum { GPU_TIMER_BOUNDS = CNN_REGION_COUNT + 1 }; /* each region once, plus the start */

struct gpu_timer {
    const char *who;                     /* the backend, for messages */
    cudaStream_t stream;                 /* the training stream */
    cudaEvent_t own[GPU_TIMER_BOUNDS];   /* boundary k is recorded with own[k] ... */
    cudaEvent_t bound[GPU_TIMER_BOUNDS]; /* ... unless a region lent one: this step's
                                            boundaries, in stream order */
    int bounds;                          /* boundaries recorded this step */
    int from[CNN_REGION_COUNT];          /* region r spans bound[from[r]] .. */
    int to[CNN_REGION_COUNT];            /* .. bound[to[r]]; -1: not run this step */
    int open;                            /* the region between its two marks, or -1 */
    int closed;                          /* the open region's end boundary is recorded */
    long step;                           /* steps read so far; tags CUPTI records */
};

/* Creates the events; gpu_timer_destroy is safe after a failed create. */
cnn_status gpu_timer_create(struct gpu_timer *t, const char *who, cudaStream_t stream);
void gpu_timer_destroy(struct gpu_timer *t);
/* The timer_mark slot (cnn.h): the start (end = 0) or end (end = 1) of region r. */
cnn_status gpu_timer_mark(struct gpu_timer *t, enum cnn_region r, int end);
/* Inside a timed region, after its last GPU work and before the host waits
 * for it: the region's end boundary, recorded now. Outside a timed region
 * (predict, the test hooks) it records nothing. */
cnn_status gpu_timer_close(struct gpu_timer *t);
/* As gpu_timer_close, with `recorded`, an event the caller has just recorded
 * on the training stream after the region's last work (timing enabled), as
 * the boundary: one record less. It must not be recorded again before
 * gpu_timer_read. */
cnn_status gpu_timer_close_with(struct gpu_timer *t, cudaEvent_t recorded);
/* The timer_read slot (cnn.h): waits for the step's last boundary; ms[r] is
 * region r's time (-1: not run), *span_ms (unless NULL) the time from the
 * step's first boundary to its last (-1: no region ran). Starts a new step. */
cnn_status gpu_timer_read(struct gpu_timer *t, double ms[CNN_REGION_COUNT], double *span_ms);

#ifdef __cplusplus
}
#endif

#endif
