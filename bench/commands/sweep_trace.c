/*
 * sweep_trace.c — `cnnbench sweep --cupti`: records every CUDA kernel of the
 * timed configurations through CUPTI into RUN_DIR/kernels.csv, each row
 * tagged with its configuration's key. Builds without CUPTI refuse the
 * option up front; every function here is then a no-op.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnnbench_config.h"
#include "csvout.h"
#include "error.h"
#include "sweep.h"

#if defined(CNN_HAVE_CUPTI) && CNN_HAVE_CUPTI
#include "gpu/cupti_trace.h"
#define SWEEP_CUPTI 1
#else
#define SWEEP_CUPTI 0
#endif

cnn_status sweep_trace_check(const struct sweep_opts *o)
{
    if (o->cupti && !SWEEP_CUPTI)
        return cnn_fail(CNN_E_ARG, "--cupti: this build has no CUPTI support (it needs the cuda "
                        "backend and CUPTI: meson setup -Dcuda=enabled -Dcupti=enabled)");
    return CNN_OK;
}

cnn_status sweep_trace_start(const struct sweep *s, int *tracing)
{
    *tracing = 0;
#if SWEEP_CUPTI
    if (s->o->cupti) {
        CNN_TRY(cnn_cupti_start());
        *tracing = 1;
    }
#else
    (void)s;
#endif
    return CNN_OK;
}

cnn_status sweep_trace_config(const struct sweep *s, const char *key)
{
#if SWEEP_CUPTI
    if (s->o->cupti)
        return cnn_cupti_set_config(key);
#else
    (void)s;
    (void)key;
#endif
    return CNN_OK;
}

/* Stops tracing and adds this session's records to kernels.csv (a resumed
 * run appends to the rows its earlier sessions kept). */
cnn_status sweep_trace_finish(const struct sweep *s, int tracing)
{
    if (!tracing)
        return CNN_OK;
#if SWEEP_CUPTI
    char part[4200], path[4200];
    rundir_path(part, sizeof part, s->dir.path, "kernels.part.csv");
    rundir_path(path, sizeof path, s->dir.path, "kernels.csv");
    CNN_TRY(cnn_cupti_stop_and_write(part));
    if (access(path, F_OK) != 0) {
        if (rename(part, path) != 0)
            return cnn_fail(CNN_E_IO, "%s: cannot rename: %s", part, strerror(errno));
        return CNN_OK;
    }
    char *text;
    CNN_TRY(csv_read_file(part, &text, NULL));
    FILE *fp = fopen(path, "a");
    const char *body = strchr(text, '\n');
    int failed = !fp;
    if (fp && body)
        failed = fputs(body + 1, fp) == EOF;
    if (fp && (rundir_sync(fp) != 0 || fclose(fp) != 0))
        failed = 1;
    free(text);
    if (failed)
        return cnn_fail(CNN_E_IO, "%s: cannot append: %s", path, strerror(errno));
    remove(part);
#else
    (void)s;
#endif
    return CNN_OK;
}
