/*
 * sweep_trace.c — `cnnbench sweep --cupti`: records every CUDA kernel of the
 * timed configurations through CUPTI into RUN_DIR/kernels.csv, each row
 * tagged with its configuration's key, through the tracing module
 * (impl/common/trace.h). Builds without CUPTI refuse the option up front.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "runfile.h"
#include "sweep.h"
#include "trace.h"

cnn_status sweep_trace_check(const struct sweep_opts *o)
{
    const char *why;
    if (o->cupti && !cnn_trace_kernels_available(&why))
        return cnn_fail(CNN_E_ARG, "--cupti: %s", why);
    return CNN_OK;
}

cnn_status sweep_trace_start(const struct sweep *s, int *tracing)
{
    *tracing = 0;
    if (s->o->cupti) {
        CNN_TRY(cnn_trace_kernels_begin());
        *tracing = 1;
    }
    return CNN_OK;
}

cnn_status sweep_trace_config(const struct sweep *s, const char *key)
{
    return s->o->cupti ? cnn_trace_kernels_config(key) : CNN_OK;
}

/* Stops tracing and adds this session's records to kernels.csv (a resumed
 * run appends to the rows its earlier sessions kept). */
cnn_status sweep_trace_finish(const struct sweep *s, int tracing)
{
    if (!tracing)
        return CNN_OK;
    char part[4200], path[4200];
    rundir_path(part, sizeof part, s->dir.path, "kernels.part.csv");
    rundir_path(path, sizeof path, s->dir.path, "kernels.csv");
    CNN_TRY(cnn_trace_kernels_end(part));
    if (access(path, F_OK) != 0) {
        if (rename(part, path) != 0)
            return cnn_fail(CNN_E_IO, "%s: cannot rename: %s", part, strerror(errno));
        return CNN_OK;
    }
    char *text;
    CNN_TRY(runfile_read_text(part, &text, NULL));
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
    return CNN_OK;
}
