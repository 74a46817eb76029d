/*
 * microbench.c — the per-layer micro-benchmarks: every built backend x timed
 * region x (batch, filters) shape, for each kernel variant and for 1 thread
 * and all cores, timed in isolation by Google Benchmark through the C shim
 * (gbench_shim.h). One binary verifies and measures, as dav1d's checkasm:
 *
 *   microbench --verify-only [--backend NAME]...     check, time nothing
 *   microbench [--backend NAME]... [--out FILE.json] [--benchmark_...]
 *
 * Case names: BACKEND[/vVARIANT][/tTHREADS]/REGION/B:BATCH/F:FILTERS, then
 * Google Benchmark's /real_time or /manual_time.
 *
 * Verify, then time. A configuration (backend, variant, threads, shape) is
 * checked against seq, from identical inputs, before its first case is
 * timed:
 *   bit-exact  the inputs of impl/common/exact.h (integer pixels, small
 *              integer weights, injected dlogits) and lr 1/8 make every
 *              partial sum an exact dyadic, so the logits, gradients
 *              and updated parameters must equal seq's bit for bit (exact
 *              while partial sums stay below 2^24 units of their last place:
 *              bounded so for the default grid except dconv_w at B=1000,
 *              whose zero-mean terms keep it about 1000 sigma inside);
 *   one step   random pixels and N(0, 0.1^2) parameters: gradients and
 *              parameters within the agree.h tolerances, loss within 1e-5.
 * A mismatch fails every case of the configuration (SkipWithError) and the
 * exit status. The checks run in the very state that is then timed.
 *
 * Timing one region in isolation. A region reads what earlier regions left
 * in the state (fc_backward needs dlogits, conv_backward the argmax), so a
 * configuration's state first runs one full cnn_step, and a case then calls
 * its one region repeatedly. Every region is idempotent given its inputs
 * except update, which moves the parameters on each call: the same work, so
 * its timing stands, and the state is rebuilt with a fresh step before the
 * next case.
 *
 * Clocks. CPU backends: wall time (UseRealTime), because OpenMP threads work
 * outside the main thread's CPU time. CNN_CAP_DEVICE backends: the backend's
 * own timer_mark/timer_read (CUDA events), fed in as manual time. Events
 * resolve about 0.5 us, so a region shorter than MB_DEVICE_SPAN_MS is called
 * K times between one event pair, which counts as K iterations: the reported
 * time is per call (span / K).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agree.h"
#include "cnn.h"
#include "cnnbench_config.h"
#include "error.h"
#include "exact.h"
#include "gbench_shim.h"
#include "params.h"
#include "rng.h"
#include "step.h"

enum {
    MB_MAX_BACKENDS = 8,
    MB_MAX_SHAPES = 16,
    MB_DEVICE_MAX_CALLS = 64, /* cap on K for tiny device regions */
    MB_EXIT_FAILED = 1,
    MB_EXIT_USAGE = 2,
    MB_EXIT_SKIP = 77, /* meson's SKIP: no selected backend can run here */
};

/* A power-of-two learning rate keeps the bit-exact update exact; the one-step
 * check and the timings do not depend on its value. */
#define MB_LR 0.125f
#define MB_LOSS_REL 1e-5
#define MB_DEFAULT_MIN_TIME 0.5 /* seconds per case */
#define MB_DEVICE_SPAN_MS 0.05  /* shortest span one event pair should time */

static const int mb_default_shapes[][2] = {{100, 32}, {1000, 32}, {1000, 256}};

/* What one backend produced for the two checks of one shape. */
struct mb_outputs {
    float *logits;                  /* [B][C] after fc_forward, integer batch */
    struct cnn_params exact_grads;  /* after fc_backward + conv_backward */
    struct cnn_params exact_params; /* after update */
    struct cnn_params grads;        /* after one cnn_step, random batch */
    struct cnn_params params;
    double loss;
};

/* Inputs every backend sees for one (batch, filters) shape, and seq's
 * outputs for them, computed on first use. */
struct mb_shape {
    int batch, filters;
    float *x;                      /* [B][P] random pixels k/255 */
    float *x_int;                  /* [B][P] integer pixels 0..15, not scaled */
    uint8_t *y;                    /* [B] */
    float *dlogits;                /* [B][C] injected (k-4)/256 */
    struct cnn_params init;        /* N(0, 0.1^2) */
    struct cnn_params init_exact;  /* small integers, FC ones /1024 */
    int have_ref;                  /* ref holds seq's outputs */
    struct mb_outputs ref;
};

struct mb_config {
    const struct cnn_backend *be;
    int variant;             /* 1..variant_count */
    int threads;             /* 0 for a backend without CNN_CAP_THREADS */
    struct mb_shape *shape;
    int verdict;             /* 0 not checked yet, 1 agrees with seq, -1 not */
    char failure[512];       /* why not */
};

struct mb_case {
    struct mb_config *cfg;
    enum cnn_region region;
    int calls;               /* device: region calls per event pair, 0 = not calibrated */
    char name[128];
};

/* The one backend state alive at a time. Cases are registered configuration
 * by configuration, so consecutive cases share it. */
static struct {
    struct mb_config *cfg;
    cnn_state *s;
    int ready; /* holds one full step from the initial parameters */
} mb_live;

struct mb_options {
    int verify_only;
    int n_backends;
    const char *backends[MB_MAX_BACKENDS];
    int n_shapes;
    int shapes[MB_MAX_SHAPES][2];
    double min_time;
    const char *out;
};

/* ---- inputs and reference ---- */

static void mb_fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

static cnn_status mb_outputs_alloc(struct mb_outputs *o, int batch, int filters)
{
    memset(o, 0, sizeof *o);
    o->logits = malloc((size_t)batch * CNN_CLASSES * sizeof *o->logits);
    if (!o->logits)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate logits for B=%d", batch);
    CNN_TRY(cnn_params_alloc(&o->exact_grads, filters));
    CNN_TRY(cnn_params_alloc(&o->exact_params, filters));
    CNN_TRY(cnn_params_alloc(&o->grads, filters));
    return cnn_params_alloc(&o->params, filters);
}

static void mb_outputs_free(struct mb_outputs *o)
{
    free(o->logits);
    cnn_params_free(&o->exact_grads);
    cnn_params_free(&o->exact_params);
    cnn_params_free(&o->grads);
    cnn_params_free(&o->params);
}

/* x [B][P], x_int [B][P], y [B], dlogits [B][C]; parameters for F filters. */
static cnn_status mb_shape_init(struct mb_shape *sh, int batch, int filters)
{
    memset(sh, 0, sizeof *sh);
    sh->batch = batch;
    sh->filters = filters;
    size_t pixels = (size_t)batch * CNN_PIXELS, logits = (size_t)batch * CNN_CLASSES;
    sh->x = malloc(pixels * sizeof *sh->x);
    sh->x_int = malloc(pixels * sizeof *sh->x_int);
    sh->y = malloc((size_t)batch);
    sh->dlogits = malloc(logits * sizeof *sh->dlogits);
    if (!sh->x || !sh->x_int || !sh->y || !sh->dlogits)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate inputs for B=%d", batch);
    CNN_TRY(cnn_params_alloc(&sh->init, filters));
    CNN_TRY(cnn_params_alloc(&sh->init_exact, filters));

    struct cnn_rng r;
    cnn_rng_seed(&r, 0x6d6963726fu + (uint64_t)batch * 4099u + (uint64_t)filters);
    for (size_t i = 0; i < pixels; i++)
        sh->x[i] = (float)cnn_rng_below(&r, 256) / 255.0f;
    cnn_exact_batch(&r, sh->x_int, sh->y, sh->dlogits, batch);
    cnn_params_init(&sh->init, cnn_rng_next(&r));
    cnn_exact_params(&r, &sh->init_exact);
    return CNN_OK;
}

static void mb_shape_free(struct mb_shape *sh)
{
    free(sh->x);
    free(sh->x_int);
    free(sh->y);
    free(sh->dlogits);
    cnn_params_free(&sh->init);
    cnn_params_free(&sh->init_exact);
    mb_outputs_free(&sh->ref);
}

static cnn_status mb_open(const struct cnn_backend *be, const struct mb_shape *sh, int variant,
                          int threads, cnn_state **out)
{
    struct cnn_config cfg = {.batch = sh->batch, .filters = sh->filters, .lr = MB_LR,
                             .threads = threads,
                             .variant = (be->caps & CNN_CAP_VARIANTS) ? variant : 0};
    return be->create(&cfg, out);
}

/* Runs both checks' sequences in s and reads every output. Host buffers are
 * NaN-filled first, so a value the backend never wrote cannot pass. Leaves s
 * after one full step from sh->init on sh->x: ready to time any region. */
static cnn_status mb_exercise(const struct cnn_backend *be, cnn_state *s, const struct mb_shape *sh,
                              struct mb_outputs *o)
{
    mb_fill_nan(o->logits, (size_t)sh->batch * CNN_CLASSES);
    mb_fill_nan(o->exact_grads.buf, o->exact_grads.count);
    mb_fill_nan(o->exact_params.buf, o->exact_params.count);
    mb_fill_nan(o->grads.buf, o->grads.count);
    mb_fill_nan(o->params.buf, o->params.count);

    CNN_TRY(be->set_params(s, &sh->init_exact));
    CNN_TRY(be->load_batch(s, sh->x_int, sh->y, sh->batch));
    CNN_TRY(be->conv_forward(s));
    CNN_TRY(be->fc_forward(s));
    CNN_TRY(be->get_logits(s, o->logits));
    /* Softmax is not exact: the gradient is injected at the logits. */
    CNN_TRY(be->set_logit_grad(s, sh->dlogits));
    CNN_TRY(be->fc_backward(s));
    CNN_TRY(be->conv_backward(s));
    CNN_TRY(be->get_grads(s, &o->exact_grads));
    CNN_TRY(be->update(s));
    CNN_TRY(be->get_params(s, &o->exact_params));

    struct cnn_step_result r;
    CNN_TRY(be->set_params(s, &sh->init));
    CNN_TRY(cnn_step(be, s, sh->x, sh->y, sh->batch, &r));
    o->loss = r.loss;
    CNN_TRY(be->get_grads(s, &o->grads));
    return be->get_params(s, &o->params);
}

static cnn_status mb_reference(struct mb_shape *sh)
{
    if (sh->have_ref)
        return CNN_OK;
    const struct cnn_backend *seq = cnn_backend_with_cap(CNN_CAP_REFERENCE);
    if (!seq)
        return cnn_fail(CNN_E_ARG, "the reference backend is not built");
    cnn_state *s = NULL;
    cnn_status st = mb_outputs_alloc(&sh->ref, sh->batch, sh->filters);
    if (st == CNN_OK)
        st = mb_open(seq, sh, 1, 0, &s);
    if (st == CNN_OK) {
        st = mb_exercise(seq, s, sh, &sh->ref);
        seq->destroy(s);
    }
    if (st != CNN_OK) {
        mb_outputs_free(&sh->ref);
        memset(&sh->ref, 0, sizeof sh->ref);
        return cnn_fail_context(st, "seq reference at B=%d F=%d", sh->batch, sh->filters);
    }
    sh->have_ref = 1;
    return CNN_OK;
}

/* First index where a and b differ in bits, or n. */
static size_t mb_first_difference(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof *a) != 0)
            return i;
    return n;
}

static cnn_status mb_bits_equal(const char *what, const float *a, const float *b, size_t n)
{
    size_t i = mb_first_difference(a, b, n);
    if (i < n)
        return cnn_fail(CNN_E_DATA,
                        "bit-exact check: %s differs from seq first at [%zu]: %.9g vs %.9g", what,
                        i, a[i], b[i]);
    return CNN_OK;
}

static cnn_status mb_compare(const struct mb_shape *sh, const struct mb_outputs *o)
{
    const struct mb_outputs *ref = &sh->ref;
    CNN_TRY(mb_bits_equal("logits", o->logits, ref->logits, (size_t)sh->batch * CNN_CLASSES));
    static const char *const names[4] = {"conv_w", "conv_b", "fc_w", "fc_b"};
    const struct cnn_params *pairs[2][2] = {{&o->exact_grads, &ref->exact_grads},
                                            {&o->exact_params, &ref->exact_params}};
    for (int p = 0; p < 2; p++) {
        const struct cnn_params *a = pairs[p][0], *b = pairs[p][1];
        const float *ta[4] = {a->conv_w, a->conv_b, a->fc_w, a->fc_b};
        const float *tb[4] = {b->conv_w, b->conv_b, b->fc_w, b->fc_b};
        size_t n[4] = {(size_t)sh->filters * CNN_KTAPS, (size_t)sh->filters,
                       CNN_CLASSES * cnn_features(sh->filters), CNN_CLASSES};
        for (int t = 0; t < 4; t++) {
            char what[32];
            snprintf(what, sizeof what, "%s%s", p == 0 ? "d" : "updated ", names[t]);
            CNN_TRY(mb_bits_equal(what, ta[t], tb[t], n[t]));
        }
    }
    CNN_TRY(cnn_agree_grads(&o->grads, &ref->grads));
    CNN_TRY(cnn_agree_params(&o->params, &ref->params));
    double rel = (o->loss - ref->loss) / ref->loss;
    if (!(rel <= MB_LOSS_REL && rel >= -MB_LOSS_REL))
        return cnn_fail(CNN_E_DATA, "one step: loss %.9g vs seq %.9g", o->loss, ref->loss);
    return CNN_OK;
}

/* ---- the live state ---- */

static void mb_live_close(void)
{
    if (mb_live.cfg)
        mb_live.cfg->be->destroy(mb_live.s);
    mb_live.cfg = NULL;
    mb_live.s = NULL;
    mb_live.ready = 0;
}

static cnn_status mb_live_open(struct mb_config *cfg)
{
    if (mb_live.cfg == cfg)
        return CNN_OK;
    mb_live_close();
    CNN_TRY(mb_open(cfg->be, cfg->shape, cfg->variant, cfg->threads, &mb_live.s));
    mb_live.cfg = cfg;
    return CNN_OK;
}

static void mb_describe(const struct mb_config *cfg, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s", cfg->be->name);
    if (cfg->be->caps & CNN_CAP_VARIANTS)
        n += snprintf(buf + n, size - (size_t)n, " v%d", cfg->variant);
    if (cfg->be->caps & CNN_CAP_THREADS)
        n += snprintf(buf + n, size - (size_t)n, " t%d", cfg->threads);
    snprintf(buf + n, size - (size_t)n, " B=%d F=%d", cfg->shape->batch, cfg->shape->filters);
}

/* Checks cfg against seq once, in the live state; sets cfg->verdict. A
 * status other than CNN_OK is a failure to run, not a disagreement. */
static cnn_status mb_verify(struct mb_config *cfg)
{
    if (cfg->verdict)
        return CNN_OK;
    CNN_TRY(mb_reference(cfg->shape));
    CNN_TRY(mb_live_open(cfg));
    struct mb_outputs o;
    cnn_status st = mb_outputs_alloc(&o, cfg->shape->batch, cfg->shape->filters);
    mb_live.ready = 0;
    if (st == CNN_OK)
        st = mb_exercise(cfg->be, mb_live.s, cfg->shape, &o);
    if (st == CNN_OK) {
        mb_live.ready = 1;
        cnn_status agree = mb_compare(cfg->shape, &o);
        cfg->verdict = agree == CNN_OK ? 1 : -1;
        if (agree != CNN_OK)
            snprintf(cfg->failure, sizeof cfg->failure, "%s", cnn_last_error());
    }
    mb_outputs_free(&o);
    return st;
}

/* The live state of cfg, verified and holding one full step. */
static cnn_status mb_prepare(struct mb_config *cfg, cnn_state **out)
{
    CNN_TRY(mb_verify(cfg));
    if (cfg->verdict < 0)
        return cnn_fail(CNN_E_DATA, "disagrees with seq: %s", cfg->failure);
    CNN_TRY(mb_live_open(cfg));
    if (!mb_live.ready) {
        struct cnn_step_result r;
        const struct mb_shape *sh = cfg->shape;
        CNN_TRY(cfg->be->set_params(mb_live.s, &sh->init));
        CNN_TRY(cnn_step(cfg->be, mb_live.s, sh->x, sh->y, sh->batch, &r));
        mb_live.ready = 1;
    }
    *out = mb_live.s;
    return CNN_OK;
}

/* ---- one timed case ---- */

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
 * puts it even if a backend moves it across a region boundary (omp forms the
 * FC data gradient inside conv_backward). 0 = not a FLOP-bound region. */
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
        mb_live.ready = 0;
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

static cnn_status mb_register(struct mb_case *c, double min_time)
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

/* ---- the plan: configurations and cases ---- */

struct mb_plan {
    int n_shapes;
    struct mb_shape shapes[MB_MAX_SHAPES];
    int n_configs;
    struct mb_config *configs;
    int n_cases;
    struct mb_case *cases;
};

static int mb_online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Thread counts to time: 1 and all cores, or the backend default (0). */
static int mb_thread_counts(const struct cnn_backend *be, int counts[2])
{
    if (!(be->caps & CNN_CAP_THREADS)) {
        counts[0] = 0;
        return 1;
    }
    counts[0] = 1;
    counts[1] = mb_online_cores();
    return counts[1] > 1 ? 2 : 1;
}

static int mb_region_list(const struct cnn_backend *be, enum cnn_region regions[CNN_REGION_COUNT])
{
    int n = 0;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        if (r != CNN_REGION_ALLREDUCE &&
            ((be->caps & CNN_CAP_DEVICE) || (r != CNN_REGION_H2D && r != CNN_REGION_D2H)))
            regions[n++] = (enum cnn_region)r;
    return n;
}

/* Configurations in backend, variant, threads, shape order; cases of one
 * configuration next to each other, regions in execution order. */
static cnn_status mb_plan_build(struct mb_plan *p, const struct cnn_backend *const *bes, int n_bes,
                                const struct mb_options *opt)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < opt->n_shapes; i++)
        CNN_TRY(mb_shape_init(&p->shapes[p->n_shapes++], opt->shapes[i][0], opt->shapes[i][1]));
    int max_configs = 0;
    for (int b = 0; b < n_bes; b++) {
        int threads[2];
        max_configs += bes[b]->variant_count * mb_thread_counts(bes[b], threads) * p->n_shapes;
    }
    p->configs = calloc((size_t)max_configs, sizeof *p->configs);
    p->cases = calloc((size_t)max_configs * CNN_REGION_COUNT, sizeof *p->cases);
    if (!p->configs || !p->cases)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %d configurations", max_configs);

    for (int b = 0; b < n_bes; b++) {
        const struct cnn_backend *be = bes[b];
        int threads[2], n_threads = mb_thread_counts(be, threads);
        enum cnn_region regions[CNN_REGION_COUNT];
        int n_regions = mb_region_list(be, regions);
        for (int v = 1; v <= be->variant_count; v++)
            for (int t = 0; t < n_threads; t++)
                for (int sh = 0; sh < p->n_shapes; sh++) {
                    struct mb_config *cfg = &p->configs[p->n_configs++];
                    cfg->be = be;
                    cfg->variant = v;
                    cfg->threads = threads[t];
                    cfg->shape = &p->shapes[sh];
                    char prefix[64];
                    int n = snprintf(prefix, sizeof prefix, "%s", be->name);
                    if (be->caps & CNN_CAP_VARIANTS)
                        n += snprintf(prefix + n, sizeof prefix - (size_t)n, "/v%d", v);
                    if (be->caps & CNN_CAP_THREADS)
                        snprintf(prefix + n, sizeof prefix - (size_t)n, "/t%d", threads[t]);
                    for (int r = 0; r < n_regions; r++) {
                        struct mb_case *c = &p->cases[p->n_cases++];
                        c->cfg = cfg;
                        c->region = regions[r];
                        snprintf(c->name, sizeof c->name, "%s/%s", prefix,
                                 cnn_region_name(regions[r]));
                    }
                }
    }
    return CNN_OK;
}

static void mb_plan_free(struct mb_plan *p)
{
    mb_live_close();
    for (int i = 0; i < p->n_shapes; i++)
        mb_shape_free(&p->shapes[i]);
    free(p->configs);
    free(p->cases);
}

/* ---- command line ---- */

static void mb_usage(const char *argv0)
{
    printf("usage: %s [--verify-only] [--backend NAME]... [--shapes BxF,...]\n"
           "          [--min-time SECONDS] [--out FILE.json] [--benchmark_...]\n"
           "\n"
           "Per-layer micro-benchmarks: each backend x region x shape, verified against seq\n"
           "and then timed by Google Benchmark.\n"
           "  --verify-only       check every configuration against seq, time nothing\n"
           "                      (exit 0 all agree, 1 a mismatch, 77 no backend can run)\n"
           "  --backend NAME      only this backend (repeatable; default: all built)\n"
           "  --shapes LIST       (batch x filters) grid, default 100x32,1000x32,1000x256\n"
           "  --min-time SECONDS  minimum measured time per case (default %g)\n"
           "  --out FILE.json     also write Google Benchmark's JSON there (directories\n"
           "                      are created; written as FILE.json.tmp.PID, then renamed)\n"
           "Google Benchmark's own flags pass through, e.g. --benchmark_filter=REGEX,\n"
           "--benchmark_repetitions=N, --benchmark_list_tests. See bench/micro/README.md.\n",
           argv0, MB_DEFAULT_MIN_TIME);
}

static cnn_status mb_parse_shapes(const char *s, struct mb_options *opt)
{
    opt->n_shapes = 0;
    while (*s) {
        char *end;
        long b = strtol(s, &end, 10), f;
        if (end == s || *end != 'x')
            return cnn_fail(CNN_E_ARG, "--shapes: expected BATCHxFILTERS at '%s'", s);
        s = end + 1;
        f = strtol(s, &end, 10);
        if (end == s || (*end != ',' && *end != '\0'))
            return cnn_fail(CNN_E_ARG, "--shapes: expected BATCHxFILTERS at '%s'", s);
        if (b < 1 || b > CNN_MAX_BATCH || f < 1 || f > CNN_MAX_FILTERS)
            return cnn_fail(CNN_E_ARG, "--shapes: %ldx%ld is outside 1..%d x 1..%d", b, f,
                            CNN_MAX_BATCH, CNN_MAX_FILTERS);
        if (opt->n_shapes == MB_MAX_SHAPES)
            return cnn_fail(CNN_E_ARG, "--shapes: at most %d shapes", MB_MAX_SHAPES);
        opt->shapes[opt->n_shapes][0] = (int)b;
        opt->shapes[opt->n_shapes][1] = (int)f;
        opt->n_shapes++;
        s = *end ? end + 1 : end;
    }
    if (opt->n_shapes == 0)
        return cnn_fail(CNN_E_ARG, "--shapes: empty list");
    return CNN_OK;
}

/* Value of option `name` at argv[*i] ("--name V" or "--name=V"), advancing
 * *i past it; NULL if argv[*i] is not that option. *missing is set when the
 * option is there without a value. */
static const char *mb_option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Takes our options out of argv, leaving argv[0] and whatever is left for
 * Google Benchmark's parser. */
static cnn_status mb_parse(int *argc, char **argv, struct mb_options *opt)
{
    opt->min_time = MB_DEFAULT_MIN_TIME;
    opt->n_shapes = (int)(sizeof mb_default_shapes / sizeof *mb_default_shapes);
    for (int i = 0; i < opt->n_shapes; i++) {
        opt->shapes[i][0] = mb_default_shapes[i][0];
        opt->shapes[i][1] = mb_default_shapes[i][1];
    }
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        int missing = 0;
        const char *v;
        if (strcmp(argv[i], "--verify-only") == 0) {
            opt->verify_only = 1;
        } else if ((v = mb_option_value(*argc, argv, &i, "--backend", &missing))) {
            if (opt->n_backends == MB_MAX_BACKENDS)
                return cnn_fail(CNN_E_ARG, "--backend: at most %d", MB_MAX_BACKENDS);
            opt->backends[opt->n_backends++] = v;
        } else if ((v = mb_option_value(*argc, argv, &i, "--shapes", &missing))) {
            CNN_TRY(mb_parse_shapes(v, opt));
        } else if ((v = mb_option_value(*argc, argv, &i, "--min-time", &missing))) {
            char *end;
            opt->min_time = strtod(v, &end);
            if (end == v || *end || !(opt->min_time > 0.0 && opt->min_time <= 3600.0))
                return cnn_fail(CNN_E_ARG, "--min-time: '%s' is not a time in (0, 3600] s", v);
        } else if ((v = mb_option_value(*argc, argv, &i, "--out", &missing))) {
            if (!*v)
                return cnn_fail(CNN_E_ARG, "--out: empty path");
            opt->out = v;
        } else if (missing) {
            return cnn_fail(CNN_E_ARG, "%s needs a value", argv[i]);
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    argv[kept] = NULL;
    return CNN_OK;
}

/* ---- output file ---- */

/* mkdir -p of the directory part of path. */
static cnn_status mb_make_parent_dirs(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return cnn_fail(CNN_E_ARG, "--out: path too long");
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return CNN_OK;
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", dir, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    if (access(dir, W_OK) != 0)
        return cnn_fail(CNN_E_IO, "%s: not writable: %s", dir, strerror(errno));
    return CNN_OK;
}

/* Makes the file Google Benchmark wrote durable, then moves it into place.
 * An empty file (--benchmark_list_tests writes nothing) replaces nothing. */
static cnn_status mb_commit_output(const char *tmp, const char *path, int *written)
{
    *written = 0;
    int fd = open(tmp, O_RDONLY);
    if (fd < 0)
        return cnn_fail(CNN_E_IO, "%s: %s", tmp, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && sb.st_size == 0) {
        close(fd);
        unlink(tmp);
        return CNN_OK;
    }
    int synced = fsync(fd);
    close(fd);
    if (synced != 0 || rename(tmp, path) != 0) {
        cnn_status st = cnn_fail(CNN_E_IO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return st;
    }
    *written = 1;
    return CNN_OK;
}

/* ---- main ---- */

static int mb_fail(const char *what)
{
    fprintf(stderr, "microbench: error: %s%s%s\n", what, *what ? ": " : "", cnn_last_error());
    return MB_EXIT_FAILED;
}

/* Backends to run: those asked for (all built ones by default), validated;
 * those whose probe says unavailable are left out with a note. */
static cnn_status mb_select(const struct mb_options *opt, const struct cnn_backend **bes, int *n)
{
    *n = 0;
    int asked = opt->n_backends;
    for (int i = 0; asked ? i < asked : cnn_backends[i] != NULL; i++) {
        const struct cnn_backend *be = asked ? cnn_backend_find(opt->backends[i]) : cnn_backends[i];
        if (!be)
            return cnn_fail(CNN_E_ARG, "backend '%s' is not built", opt->backends[i]);
        CNN_TRY(cnn_backend_validate(be));
        cnn_status st = be->probe();
        if (st == CNN_E_UNAVAILABLE) {
            printf("microbench: %s skipped: %s\n", be->name, cnn_last_error());
            continue;
        }
        if (st != CNN_OK)
            return cnn_fail_context(st, "%s", be->name);
        if (*n == MB_MAX_BACKENDS)
            return cnn_fail(CNN_E_ARG, "at most %d backends", MB_MAX_BACKENDS);
        bes[(*n)++] = be;
    }
    return CNN_OK;
}

static int mb_verify_all(struct mb_plan *p)
{
    int failed = 0;
    for (int i = 0; i < p->n_configs; i++) {
        struct mb_config *cfg = &p->configs[i];
        char desc[128];
        mb_describe(cfg, desc, sizeof desc);
        /* A configuration that cannot run (a device allocation that does not
         * fit) fails, and the others are still checked. */
        if (mb_verify(cfg) != CNN_OK) {
            cfg->verdict = -1;
            snprintf(cfg->failure, sizeof cfg->failure, "cannot run: %s", cnn_last_error());
        }
        printf("  %s  %s%s%s\n", cfg->verdict > 0 ? "ok  " : "FAIL", desc,
               cfg->verdict > 0 ? "" : ": ", cfg->verdict > 0 ? "" : cfg->failure);
        fflush(stdout);
        failed += cfg->verdict < 0;
    }
    printf("microbench: %d of %d configurations agree with seq\n", p->n_configs - failed,
           p->n_configs);
    return failed ? MB_EXIT_FAILED : 0;
}

static void mb_add_context(const struct mb_options *opt, const struct cnn_backend *const *bes,
                           int n_bes)
{
    char buf[256];
    gb_add_context("cnnbench_version", CNN_VERSION);
    gb_add_context("cnnbench_buildtype", CNN_BUILDTYPE);
    gb_add_context("cnnbench_c_compiler", CNN_C_COMPILER);
    snprintf(buf, sizeof buf, "%g", opt->min_time);
    gb_add_context("cnnbench_min_time_s", buf);
    snprintf(buf, sizeof buf, "%d", mb_online_cores());
    gb_add_context("cnnbench_online_cores", buf);
    for (int b = 0; b < n_bes; b++) {
        snprintf(buf, sizeof buf, "cnnbench_timer_%s", bes[b]->name);
        gb_add_context(buf, (bes[b]->caps & CNN_CAP_DEVICE) ? "cuda_event" : "wall");
    }
    gb_add_context("cnnbench_verified", "bit-exact and one-step against seq before timing");
}

static int mb_bench(struct mb_plan *p, const struct mb_options *opt,
                    const struct cnn_backend *const *bes, int n_bes, const char *tmp)
{
    for (int i = 0; i < p->n_cases; i++)
        if (mb_register(&p->cases[i], opt->min_time) != CNN_OK)
            return mb_fail("");
    mb_add_context(opt, bes, n_bes);
    size_t ran = gb_run();
    mb_live_close();
    int status = 0;
    if (ran == 0) {
        fprintf(stderr, "microbench: error: no case matches the filter\n");
        status = MB_EXIT_FAILED;
    }
    for (int i = 0; i < p->n_configs; i++)
        if (p->configs[i].verdict < 0) {
            char desc[128];
            mb_describe(&p->configs[i], desc, sizeof desc);
            fprintf(stderr, "microbench: error: %s disagrees with seq: %s\n", desc,
                    p->configs[i].failure);
        }
    if (gb_error_count()) {
        fprintf(stderr, "microbench: error: %zu cases failed\n", gb_error_count());
        status = MB_EXIT_FAILED;
    }
    int written = 0;
    if (tmp && ran == 0)
        unlink(tmp);
    else if (tmp && mb_commit_output(tmp, opt->out, &written) != CNN_OK)
        status = mb_fail("");
    if (written)
        printf("microbench: wrote %s\n", opt->out);
    return status;
}

/* Everything after option parsing. gb_argv has room for argc + 3 entries:
 * Google Benchmark's argv is what mb_parse left plus the JSON output flags. */
static int mb_main(const struct mb_options *opt, int argc, char **argv, char **gb_argv)
{
    char tmp[4200], out_flag[4300];
    int gb_argc = argc;
    memcpy(gb_argv, argv, (size_t)argc * sizeof *argv);
    if (opt->out && !opt->verify_only) {
        /* An unwritable results directory is reported before any work. */
        if (mb_make_parent_dirs(opt->out) != CNN_OK)
            return mb_fail("");
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", opt->out, (long)getpid());
        snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", tmp);
        gb_argv[gb_argc++] = out_flag;
        gb_argv[gb_argc++] = "--benchmark_out_format=json";
    }
    gb_argv[gb_argc] = NULL;
    gb_initialize(&gb_argc, gb_argv);
    if (gb_unrecognized_args(gb_argc, gb_argv)) {
        fprintf(stderr, "microbench: see --help\n");
        return MB_EXIT_USAGE;
    }

    const struct cnn_backend *bes[MB_MAX_BACKENDS];
    int n_bes;
    if (mb_select(opt, bes, &n_bes) != CNN_OK)
        return mb_fail("");
    if (n_bes == 0) {
        printf("microbench: no selected backend can run here\n");
        return MB_EXIT_SKIP;
    }
    struct mb_plan plan;
    int status;
    if (mb_plan_build(&plan, bes, n_bes, opt) != CNN_OK)
        status = mb_fail("");
    else if (opt->verify_only)
        status = mb_verify_all(&plan);
    else
        status = mb_bench(&plan, opt, bes, n_bes, opt->out ? tmp : NULL);
    mb_plan_free(&plan);
    gb_shutdown();
    return status;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            mb_usage(argv[0]);
            return 0;
        }
    struct mb_options opt = {0};
    if (mb_parse(&argc, argv, &opt) != CNN_OK) {
        fprintf(stderr, "microbench: error: %s (see --help)\n", cnn_last_error());
        return MB_EXIT_USAGE;
    }
    char **gb_argv = malloc((size_t)(argc + 3) * sizeof *gb_argv);
    if (!gb_argv) {
        fprintf(stderr, "microbench: error: out of memory\n");
        return MB_EXIT_FAILED;
    }
    int status = mb_main(&opt, argc, argv, gb_argv);
    free(gb_argv);
    return status;
}
