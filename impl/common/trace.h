/*
 * trace.h — tracing, in one place for every backend. Two parts:
 *
 * Ranges. The step driver (step.c) opens an NVTX range around every step
 * and around every region of the step, for every backend, CPU ones
 * included, so that Nsight Systems (and any other NVTX reader) shows where
 * each backend's time goes. Names are "<backend> <region>" (cnn_region_name)
 * and "<backend> step", e.g. "omp conv_fwd", "cuda step". NVTX ranges are
 * host-side spans: on a device backend a region's range covers the host
 * enqueuing its work (and recording its boundary events), not the GPU
 * running it; Nsight Systems projects each range onto the GPU rows through
 * the CUDA launches made inside it (docs/DESIGN.md, §3 "Tracing").
 * Built only with NVTX (meson feature nvtx, header-only, found in the CUDA
 * toolkit or the system include path); without it the range functions are
 * empty. Ranges are per thread: a begin and its end are on one thread.
 *
 * The kernel trace, the harness's --cupti: every GPU kernel and copy, with
 * its region, step and configuration, written as kernels.csv (format in
 * impl/gpu/cupti_trace.h and results/README.md). The implementation is
 * CUPTI, GPU code in impl/gpu/; the harness talks to this header alone:
 *     cnn_trace_kernels_available(&why)   may --cupti be asked for at all?
 *     cnn_trace_kernels_begin()           before the first traced step
 *     cnn_trace_kernels_config(key)       before each configuration
 *     ... cnn_step() as usual ...
 *     cnn_trace_kernels_end(csv_path)     stops tracing, writes the CSV
 */
#ifndef CNN_TRACE_H
#define CNN_TRACE_H

#include "cnn.h"

/* ---- ranges (called by the step driver) ---- */

void cnn_trace_step_begin(const char *backend);
void cnn_trace_step_end(const char *backend);
/* Region r of the step that `backend` is running; nested in its step range. */
void cnn_trace_region_begin(const char *backend, enum cnn_region r);
void cnn_trace_region_end(const char *backend, enum cnn_region r);

/* ---- the kernel trace (called by the harness) ---- */

/* 1 if this build can trace kernels; otherwise 0, and *why (unless NULL)
 * says what the build lacks and how to get it. */
int cnn_trace_kernels_available(const char **why);
/* Starts tracing; CNN_E_UNAVAILABLE in a build without it. Only one CUPTI
 * subscriber may exist per process, so it fails under Nsight tools. */
cnn_status cnn_trace_kernels_begin(void);
/* Labels the records of the regions that begin from now on (the config
 * column of kernels.csv). */
cnn_status cnn_trace_kernels_config(const char *key);
/* Waits for the device, stops tracing and writes every record since
 * cnn_trace_kernels_begin to csv_path atomically. Fails (after writing) if
 * records were lost. */
cnn_status cnn_trace_kernels_end(const char *csv_path);

#endif
