/*
 * trace.c — the ranges of trace.h as NVTX ranges, or nothing in a build
 * without NVTX. Kept apart from the kernel trace (trace_kernels.c), so that
 * a program that drives steps but not the harness links no GPU code, and
 * so that tests/test_trace.c can take the place of this file alone with a
 * recorder of its own.
 */
#include "trace.h"

#include "cnnbench_config.h"

#if CNN_HAVE_NVTX

#include <nvtx3/nvToolsExt.h>
#include <stdio.h>

/* NVTX copies the name when a tool is attached; without one the push is a
 * call that returns, and the name is all the range costs. */
static void push(const char *backend, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s %s", backend, what);
    nvtxRangePushA(name);
}

void cnn_trace_step_begin(const char *backend) { push(backend, "step"); }

void cnn_trace_step_end(const char *backend)
{
    (void)backend;
    nvtxRangePop();
}

void cnn_trace_region_begin(const char *backend, enum cnn_region r)
{
    push(backend, cnn_region_name(r));
}

void cnn_trace_region_end(const char *backend, enum cnn_region r)
{
    (void)backend;
    (void)r;
    nvtxRangePop();
}

#else /* no NVTX in this build */

void cnn_trace_step_begin(const char *backend) { (void)backend; }

void cnn_trace_step_end(const char *backend) { (void)backend; }

void cnn_trace_region_begin(const char *backend, enum cnn_region r)
{
    (void)backend;
    (void)r;
}

void cnn_trace_region_end(const char *backend, enum cnn_region r)
{
    (void)backend;
    (void)r;
}

#endif
