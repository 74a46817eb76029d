/* step.c — the timed regions (their CSV names, their slots), the training
 * step and evaluation, shared by every caller. Each step and each of its
 * regions is also a trace range (trace.h), opened and closed here for every
 * backend, a failing region's included. */
#include "step.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "error.h"
#include "trace.h"

double cnn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The CSV keys of the regions (cnn.h). */
const char *cnn_region_name(enum cnn_region r)
{
    static const char *const names[CNN_REGION_COUNT] = {
        [CNN_REGION_H2D] = "h2d",          [CNN_REGION_CONV_FWD] = "conv_fwd",
        [CNN_REGION_FC_FWD] = "fc_fwd",    [CNN_REGION_LOSS_FWD] = "loss_fwd",
        [CNN_REGION_LOSS_BWD] = "loss_bwd", [CNN_REGION_FC_BWD] = "fc_bwd",
        [CNN_REGION_CONV_BWD] = "conv_bwd", [CNN_REGION_UPDATE] = "update",
        [CNN_REGION_D2H] = "d2h",          [CNN_REGION_ALLREDUCE] = "allreduce",
    };
    return (unsigned)r < CNN_REGION_COUNT ? names[r] : "unknown";
}

/* The compute regions of a step, in execution order. allreduce runs only
 * for a data-parallel state (cnn.h, data_parallel); elsewhere it keeps the
 * -1 of a region not run. */
static const enum cnn_region compute_regions[] = {
    CNN_REGION_CONV_FWD, CNN_REGION_FC_FWD,   CNN_REGION_LOSS_FWD,  CNN_REGION_LOSS_BWD,
    CNN_REGION_FC_BWD,   CNN_REGION_CONV_BWD, CNN_REGION_ALLREDUCE, CNN_REGION_UPDATE,
};

cnn_region_fn cnn_region_slot(const struct cnn_backend *be, const cnn_state *s,
                              enum cnn_region r)
{
    switch (r) {
    case CNN_REGION_CONV_FWD: return be->conv_forward;
    case CNN_REGION_FC_FWD: return be->fc_forward;
    case CNN_REGION_LOSS_FWD: return be->loss_forward;
    case CNN_REGION_LOSS_BWD: return be->loss_backward;
    case CNN_REGION_FC_BWD: return be->fc_backward;
    case CNN_REGION_CONV_BWD: return be->conv_backward;
    case CNN_REGION_ALLREDUCE:
        return be->data_parallel && be->data_parallel(s) ? be->allreduce : NULL;
    case CNN_REGION_UPDATE: return be->update;
    default: return NULL;
    }
}

/* CPU backend: no copies, each region timed by the wall clock. */
static cnn_status step_host(const struct cnn_backend *be, cnn_state *s, const float *x,
                            const uint8_t *y, int n, struct cnn_step_result *out)
{
    CNN_TRY(be->load_batch(s, x, y, n));
    for (size_t i = 0; i < sizeof compute_regions / sizeof *compute_regions; i++) {
        enum cnn_region r = compute_regions[i];
        cnn_region_fn fn = cnn_region_slot(be, s, r);
        if (!fn)
            continue;
        cnn_trace_region_begin(be->name, r);
        double t0 = cnn_now_ms();
        cnn_status st = fn(s);
        double ms = cnn_now_ms() - t0;
        cnn_trace_region_end(be->name, r);
        CNN_TRY(st);
        out->region_ms[r] = ms;
    }
    return be->read_metrics(s, &out->loss, &out->correct);
}

/* Device backend, region r: opens its trace range and marks its start.
 * Every device_open is paired with a device_close, whatever it returns. */
static cnn_status device_open(const struct cnn_backend *be, cnn_state *s, enum cnn_region r)
{
    cnn_trace_region_begin(be->name, r);
    return be->timer_mark(s, r, 0);
}

/* Ends region r, whose start mark and work returned st: the end mark if
 * all went well, then the range, which is closed on failure too. */
static cnn_status device_close(const struct cnn_backend *be, cnn_state *s, enum cnn_region r,
                               cnn_status st)
{
    if (st == CNN_OK)
        st = be->timer_mark(s, r, 1);
    cnn_trace_region_end(be->name, r);
    return st;
}

/* Device backend: boundary events on the stream, read once at the end. */
static cnn_status step_device(const struct cnn_backend *be, cnn_state *s, const float *x,
                              const uint8_t *y, int n, struct cnn_step_result *out)
{
    cnn_status st = device_open(be, s, CNN_REGION_H2D);
    if (st == CNN_OK)
        st = be->load_batch(s, x, y, n);
    CNN_TRY(device_close(be, s, CNN_REGION_H2D, st));
    for (size_t i = 0; i < sizeof compute_regions / sizeof *compute_regions; i++) {
        enum cnn_region r = compute_regions[i];
        cnn_region_fn fn = cnn_region_slot(be, s, r);
        if (!fn)
            continue;
        st = device_open(be, s, r);
        if (st == CNN_OK)
            st = fn(s);
        CNN_TRY(device_close(be, s, r, st));
    }
    st = device_open(be, s, CNN_REGION_D2H);
    if (st == CNN_OK)
        st = be->read_metrics(s, &out->loss, &out->correct);
    CNN_TRY(device_close(be, s, CNN_REGION_D2H, st));
    return be->timer_read(s, out->region_ms, &out->gpu_span_ms);
}

cnn_status cnn_step(const struct cnn_backend *be, cnn_state *s, const float *x,
                    const uint8_t *y, int n, struct cnn_step_result *out)
{
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        out->region_ms[r] = -1.0;
    out->gpu_span_ms = -1.0;
    cnn_trace_step_begin(be->name);
    double t0 = cnn_now_ms();
    cnn_status st = (be->caps & CNN_CAP_DEVICE) ? step_device(be, s, x, y, n, out)
                                                : step_host(be, s, x, y, n, out);
    out->step_ms = cnn_now_ms() - t0;
    cnn_trace_step_end(be->name);
    return st;
}

cnn_status cnn_evaluate(const struct cnn_backend *be, cnn_state *s, const float *x,
                        const uint8_t *y, int n, double *accuracy)
{
    uint8_t *pred = malloc((size_t)n);
    if (!pred)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %d predictions", n);
    cnn_status st = be->predict(s, x, n, pred);
    if (st == CNN_OK) {
        long correct = 0;
        for (int i = 0; i < n; i++)
            correct += pred[i] == y[i];
        *accuracy = n > 0 ? (double)correct / n : 0.0;
    }
    free(pred);
    return st;
}

cnn_status cnn_step_check_loss(const struct cnn_step_result *r, long step)
{
    if (isfinite(r->loss))
        return CNN_OK;
    return cnn_fail(CNN_E_DIVERGED, "training diverged: the loss of step %ld is %g; a smaller "
                    "--lr, or finite initial parameters of moderate size, may keep it finite",
                    step, isnan(r->loss) ? fabs(r->loss) : r->loss);
}
