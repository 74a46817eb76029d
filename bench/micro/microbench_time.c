/*
 * microbench_time.c — one timed case: a single region called in a loop
 * Google Benchmark drives, on the wall clock for CPU backends and on the
 * backend's own events for device backends (several calls per event pair
 * when one is too short to resolve), with the work counters of the case.
 */
#include <stdio.h>

#include "error.h"
#include "gbench_shim.h"
#include "microbench.h"

static cnn_status mb_region_call(const struct cnn_backend *be, cnn_state *s,
                                 const struct mb_shape *sh, enum cnn_region r)
{
    double loss;
    int correct;
    switch (r) {
    case CNN_REGION_H2D: return be->load_batch(s, sh->x, sh->y, sh->batch);
    case CNN_REGION_CONV_FWD: return be->conv_forward(s);
    case CNN_REGION_FC_FWD: return be->fc_forward(s);
    case CNN_REGION_LOSS_FWD: return be->loss_forward(s);
    case CNN_REGION_LOSS_BWD: return be->loss_backward(s);
    case CNN_REGION_FC_BWD: return be->fc_backward(s);
    case CNN_REGION_CONV_BWD: return be->conv_backward(s);
    case CNN_REGION_UPDATE: return be->update(s);
    case CNN_REGION_D2H: return be->read_metrics(s, &loss, &correct);
    case CNN_REGION_ALLREDUCE: break; /* needs several GPUs: not micro-benchmarked */
    case CNN_REGION_COUNT: break;
    }
    return cnn_fail(CNN_E_ARG, "no region %d", (int)r);
}

/* Nominal floating-point work of one call (docs/DESIGN.md §7), counted where the math
 * puts it even if a backend moves it across a region boundary (cuda v4 forms
 * the FC data gradient inside conv_backward; omp and cuda v5 do the FC
 * forward's products in conv_forward and the whole backward in
 * fc_backward). 0 = not a FLOP-bound region. */
static double mb_region_flops(enum cnn_region r, int batch, int filters)
{
    double b = batch, f = filters, k = (double)cnn_features(filters);
    switch (r) {
    case CNN_REGION_CONV_FWD: return 2.0 * CNN_KTAPS * CNN_CONV * CNN_CONV * f * b;
    case CNN_REGION_FC_FWD: return 2.0 * CNN_CLASSES * k * b;
    case CNN_REGION_FC_BWD: return 4.0 * CNN_CLASSES * k * b; /* dfc_w and dm */
    case CNN_REGION_CONV_BWD: return 2.0 * CNN_KTAPS * k * b;  /* argmax positions only */
    case CNN_REGION_UPDATE: return 2.0 * (double)cnn_param_count(filters);
    default: return 0.0;
    }
}

/* Bytes one call must move: the batch copied in, or parameters and
 * gradients read and parameters written. 0 = not counted. */
static double mb_region_bytes(enum cnn_region r, int batch, int filters)
{
    switch (r) {
    case CNN_REGION_H2D: return (double)batch * (CNN_PIXELS * sizeof(float) + 1);
    case CNN_REGION_UPDATE: return 3.0 * sizeof(float) * (double)cnn_param_count(filters);
    default: return 0.0;
    }
}

/* Calls region r n times between one event pair; *ms is the span. */
static cnn_status mb_device_span(const struct cnn_backend *be, cnn_state *s,
                                 const struct mb_shape *sh, enum cnn_region r, int n, double *ms)
{
    double region_ms[CNN_REGION_COUNT];
    CNN_TRY(be->timer_mark(s, r, 0));
    for (int i = 0; i < n; i++)
        CNN_TRY(mb_region_call(be, s, sh, r));
    CNN_TRY(be->timer_mark(s, r, 1));
    CNN_TRY(be->timer_read(s, region_ms, NULL));
    if (!(region_ms[r] >= 0.0))
        return cnn_fail(CNN_E_DEVICE, "%s: timer_read gave no time for region %s", be->name,
                        cnn_region_name(r));
    *ms = region_ms[r];
    return CNN_OK;
}

/* K = region calls per event pair, so that one span is at least
 * MB_DEVICE_SPAN_MS. The first call is a warm-up. */
static cnn_status mb_device_calibrate(struct mb_case *c, cnn_state *s)
{
    double ms = 0.0;
    const struct cnn_backend *be = c->cfg->be;
    CNN_TRY(mb_device_span(be, s, c->cfg->shape, c->region, 1, &ms));
    CNN_TRY(mb_device_span(be, s, c->cfg->shape, c->region, 1, &ms));
    int calls = 1;
    while (calls < MB_DEVICE_MAX_CALLS && ms * calls < MB_DEVICE_SPAN_MS)
        calls++;
    c->calls = calls;
    return CNN_OK;
}

static cnn_status mb_time_device(gb_state *st, struct mb_case *c, cnn_state *s)
{
    if (!c->calls)
        CNN_TRY(mb_device_calibrate(c, s));
    /* K calls count as K iterations timed together, so the reported time is
     * per call and the minimum time is spent on the device, not divided by K. */
    while (gb_keep_running_batch(st, c->calls)) {
        double ms = 0.0;
        CNN_TRY(mb_device_span(c->cfg->be, s, c->cfg->shape, c->region, c->calls, &ms));
        gb_set_iteration_time(st, ms * 1e-3);
    }
    gb_counter(st, "calls_per_event_pair", c->calls, GB_COUNTER_PLAIN);
    return CNN_OK;
}

static cnn_status mb_time_host(gb_state *st, struct mb_case *c, cnn_state *s)
{
    while (gb_keep_running(st))
        CNN_TRY(mb_region_call(c->cfg->be, s, c->cfg->shape, c->region));
    return CNN_OK;
}

/* The body Google Benchmark calls (several times per case, as it settles
 * the iteration count). Arguments: B, F. */
static void mb_case_run(gb_state *st, void *ctx)
{
    struct mb_case *c = ctx;
    int batch = (int)gb_range(st, 0), filters = (int)gb_range(st, 1);
    cnn_state *s = NULL;
    cnn_status rc = mb_prepare(c->cfg, &s);
    /* a state that replays whole steps (cuda v6) has no region to time alone */
    if (rc == CNN_OK && c->cfg->be->replays_step && c->cfg->be->replays_step(s))
        rc = cnn_fail(CNN_E_ARG, "%s v%d replays whole steps: no region is timed alone (its "
                      "kernels are those of the variant it replays)", c->cfg->be->name,
                      c->cfg->variant);
    if (rc == CNN_OK)
        rc = (c->cfg->be->caps & CNN_CAP_DEVICE) ? mb_time_device(st, c, s)
                                                 : mb_time_host(st, c, s);
    if (c->region == CNN_REGION_UPDATE)
        mb_live_moved();
    if (rc != CNN_OK) {
        gb_skip_with_error(st, cnn_last_error());
        return;
    }
    double flops = mb_region_flops(c->region, batch, filters);
    double bytes = mb_region_bytes(c->region, batch, filters);
    gb_counter(st, "images_per_s", batch, GB_COUNTER_ITERATION_RATE);
    if (flops > 0.0)
        gb_counter(st, "flop_per_s", flops, GB_COUNTER_ITERATION_RATE);
    if (bytes > 0.0)
        gb_counter(st, "bytes_per_s", bytes, GB_COUNTER_ITERATION_RATE);
}

cnn_status mb_register(struct mb_case *c, double min_time)
{
    static const char *const arg_names[2] = {"B", "F"};
    const int64_t args[2] = {c->cfg->shape->batch, c->cfg->shape->filters};
    gb_bench *b = gb_register(c->name, mb_case_run, c);
    if (!b || gb_bench_args(b, args, 2) || gb_bench_arg_names(b, arg_names, 2))
        return cnn_fail(CNN_E_NOMEM, "cannot register %s", c->name);
    gb_bench_unit(b, GB_MICROSECOND);
    gb_bench_min_time(b, min_time);
    if (c->cfg->be->caps & CNN_CAP_DEVICE)
        gb_bench_use_manual_time(b);
    else
        gb_bench_use_real_time(b);
    return CNN_OK;
}
