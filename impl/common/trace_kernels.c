/*
 * trace_kernels.c — the kernel trace of trace.h, handed to CUPTI
 * (impl/gpu/cupti_trace.h) in a build with it, and refused with the reason
 * in one without. Its own object, pulled into a program only by a call
 * from the harness: the programs that link no GPU code never see CUPTI.
 */
#include "trace.h"

#include "cnnbench_config.h"
#include "error.h"

#if defined(CNN_HAVE_CUPTI) && CNN_HAVE_CUPTI

#include "gpu/cupti_trace.h"

int cnn_trace_kernels_available(const char **why)
{
    if (why)
        *why = NULL;
    return 1;
}

cnn_status cnn_trace_kernels_begin(void) { return cnn_cupti_start(); }

cnn_status cnn_trace_kernels_config(const char *key) { return cnn_cupti_set_config(key); }

cnn_status cnn_trace_kernels_end(const char *csv_path)
{
    return cnn_cupti_stop_and_write(csv_path);
}

#else /* no CUPTI in this build */

static const char no_cupti[] = "this build has no CUPTI support (it needs the cuda backend and "
                               "CUPTI: meson setup -Dcuda=enabled -Dcupti=enabled)";

static cnn_status unavailable(void)
{
    return cnn_fail(CNN_E_UNAVAILABLE, "kernel trace: %s", no_cupti);
}

int cnn_trace_kernels_available(const char **why)
{
    if (why)
        *why = no_cupti;
    return 0;
}

cnn_status cnn_trace_kernels_begin(void) { return unavailable(); }

cnn_status cnn_trace_kernels_config(const char *key)
{
    (void)key;
    return unavailable();
}

cnn_status cnn_trace_kernels_end(const char *csv_path)
{
    (void)csv_path;
    return unavailable();
}

#endif
