/*
 * cupti_trace.h — opt-in CUPTI activity tracing of the GPU backends (cuda,
 * cudnn): every kernel and memcpy the GPU ran, with its timestamps, launch
 * shape or byte count, tagged with the timed region (and step) that
 * launched it.
 *
 * The harness reaches it through the tracing module alone
 * (impl/common/trace.h: cnn_trace_kernels_begin, _config, _end, which call
 * start, set_config and stop_and_write below). Tracing costs a little per
 * launch, so steps timed while it is on are labelled timer=cupti, never
 * mixed with untraced timings. Only one CUPTI subscriber may exist per
 * process: tracing fails under Nsight tools.
 *
 * kernels.csv (tidy, one row per GPU activity, sorted by start):
 *   config        the key last passed to cnn_cupti_set_config ("" if none)
 *   region        h2d, conv_fwd, ... (cnn_region_name), or "none" outside
 *                 timed regions (parameter uploads, test hooks)
 *   step          the backend state's step number, from 0 at create; empty
 *                 for region "none"
 *   kind          kernel, memcpy_htod, memcpy_dtoh or memcpy_other
 *   name          the kernel's (mangled) name, or the kind for copies
 *   start_ns, end_ns  GPU timestamps in ns (CUPTI's clock)
 *   duration_us   (end - start) / 1000
 *   grid_x, grid_y, grid_z, block_x, block_y, block_z   launch shape
 *                 (empty for copies)
 *   bytes         bytes copied (empty for kernels)
 *
 * Without CUPTI in the build (meson option cupti) only the region calls are
 * defined, and do nothing; trace_kernels.c refuses the trace itself.
 */
#ifndef CNN_CUPTI_TRACE_H
#define CNN_CUPTI_TRACE_H

#include "cnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Enables CONCURRENT_KERNEL, MEMCPY, RUNTIME and EXTERNAL_CORRELATION records. */
cnn_status cnn_cupti_start(void);
/* Labels the records of the regions that begin from now on. */
cnn_status cnn_cupti_set_config(const char *key);
/* Synchronises the device, flushes CUPTI, stops tracing and writes the CSV
 * atomically. Fails (after writing) if CUPTI dropped records. */
cnn_status cnn_cupti_stop_and_write(const char *csv_path);

/* For the GPU backends' region timer (gpu/gpu.h): tag the launches between
 * begin and end with region r of step `step`. No-ops unless tracing is on. */
cnn_status cnn_cupti_region_begin(enum cnn_region r, long step);
cnn_status cnn_cupti_region_end(void);

#ifdef __cplusplus
}
#endif

#endif
