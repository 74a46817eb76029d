/*
 * test_gpu_clock.c — the one GPU clock (impl/gpu/gpu.h, results/README.md
 * "GPU region times"): for every device backend and each of its variants,
 * and for the data-parallel mode on one GPU where a backend has it (cuda
 * built with NCCL), at a
 * launch-bound and a larger size, the region times of a step tile its GPU
 * span.
 *
 *   usage: test_gpu_clock        (exit 0 pass, 1 fail, 77 no GPU)
 *
 * After WARMUP untimed steps, STEPS steps through cnn_step, each checked:
 *   a. regions    exactly the regions the state runs are timed, each >= 0:
 *                 h2d, the seven compute regions, d2h, and allreduce in the
 *                 data-parallel mode only; every other region reads -1.
 *   b. tiling     |sum of the region times - GPU span| <= (regions + 1) x
 *                 EVENT_RES_MS. Each time is one cudaEventElapsedTime
 *                 between two boundary events, documented with a resolution
 *                 of about 0.5 us; consecutive regions share their boundary,
 *                 so in the events' own timestamps the sum is the span
 *                 exactly, and what can be left is that resolution once per
 *                 reading (each region, and the span). A region left out of
 *                 the tiling or timed twice moves the sum by its own length;
 *                 timing each region with an event pair of its own, so that
 *                 the launch gaps between regions count nowhere, moves it by
 *                 those gaps (microseconds per region at the small size).
 *   c. enclosure  0 < span <= step_ms x (1 + CLOCK_DRIFT) + EVENT_RES_MS:
 *                 the host's clock starts before the first boundary is
 *                 enqueued and stops after the last one has passed
 *                 (timer_read waits for it); the two clocks run from
 *                 different oscillators, which may differ by CLOCK_DRIFT.
 * Then one step driven slot by slot, as cnn_step drives it, with a host
 * pause of PAUSE_MS between loss_bwd's end mark and fc_bwd's start mark:
 *   d. the gap is the next region's: fc_bwd >= PAUSE_MS - (the regions
 *      before it) - LATENCY_MS. The stream was idle when the step began (the
 *      last step's timer_read waited for all of it), so the first boundary
 *      passed at most LATENCY_MS after it was enqueued and loss_bwd's end at
 *      most the earlier regions later; fc_bwd's end boundary was enqueued
 *      after the pause, and an event cannot pass before it is enqueued.
 *      Timed with an event pair of its own, fc_bwd would exclude the pause
 *      and fail. b holds for this step too.
 *   e. instead of d, for a state that replays its steps (replays_step, cuda
 *      v6's CUDA graph): the step's work is launched at once in
 *      read_metrics, after the pause, so the GPU span is shorter than it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "batches.h"
#include "check.h"
#include "cnn.h"
#include "params.h"
#include "step.h"

enum { WARMUP = 2, STEPS = 5 };

/* cudaEventElapsedTime's documented resolution, about 0.5 us. */
static const double EVENT_RES_MS = 0.0005;
/* How far the GPU's clock and CLOCK_MONOTONIC may run apart: 100 ppm, ten
 * times a common crystal's tolerance. */
static const double CLOCK_DRIFT = 1e-4;
/* The host pause of check d, and a generous bound on how long an event
 * enqueued on an idle stream waits before it passes (microseconds to tens of
 * microseconds: a launch latency). */
static const double PAUSE_MS = 20.0;
static const double LATENCY_MS = 0.5;

static const struct size {
    int batch, filters;
} sizes[] = {
    {32, 8},    /* launch-bound: the GPU waits for the host between kernels */
    {1000, 64}, /* the GPU is busy for most of the step */
};

/* The regions of a step in the order cnn_step runs them (impl/common/step.c). */
static const enum cnn_region order[] = {
    CNN_REGION_H2D,      CNN_REGION_CONV_FWD, CNN_REGION_FC_FWD,    CNN_REGION_LOSS_FWD,
    CNN_REGION_LOSS_BWD, CNN_REGION_FC_BWD,   CNN_REGION_CONV_BWD,  CNN_REGION_ALLREDUCE,
    CNN_REGION_UPDATE,   CNN_REGION_D2H,
};

/* Whether state s times region r: the copies always, allreduce only where
 * s is data-parallel. */
static int has_region(const struct cnn_backend *be, const cnn_state *s, enum cnn_region r)
{
    return r == CNN_REGION_H2D || r == CNN_REGION_D2H || cnn_region_slot(be, s, r) != NULL;
}

/* Sleeps ms, resuming after a signal. */
static void pause_ms(double ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1e3),
                          .tv_nsec = (long)(fmod(ms, 1e3) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* One step as cnn_step drives a device backend, with a host pause before
 * region `pause_before` starts. */
static cnn_status paused_step(const struct cnn_backend *be, cnn_state *s, const float *x,
                              const uint8_t *y, int n, enum cnn_region pause_before,
                              double ms[CNN_REGION_COUNT], double *span_ms)
{
    double loss = 0.0;
    int correct = 0;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        enum cnn_region r = order[i];
        if (!has_region(be, s, r))
            continue;
        if (r == pause_before)
            pause_ms(PAUSE_MS);
        CNN_TRY(be->timer_mark(s, r, 0));
        if (r == CNN_REGION_H2D)
            CNN_TRY(be->load_batch(s, x, y, n));
        else if (r == CNN_REGION_D2H)
            CNN_TRY(be->read_metrics(s, &loss, &correct));
        else
            CNN_TRY(cnn_region_slot(be, s, r)(s));
        CNN_TRY(be->timer_mark(s, r, 1));
    }
    return be->timer_read(s, ms, span_ms);
}

/* a and b for one step's times; `what` names the step. */
static void check_tiling(const struct cnn_backend *be, const cnn_state *s, const char *what,
                         const double ms[CNN_REGION_COUNT], double span)
{
    double sum = 0.0;
    int timed = 0, right_set = 1;
    for (int r = 0; r < CNN_REGION_COUNT; r++) {
        int want = has_region(be, s, (enum cnn_region)r);
        if (want && ms[r] >= 0.0) {
            sum += ms[r];
            timed++;
        } else if (want || ms[r] >= 0.0) {
            right_set = 0;
            check(0, "%s: region %s %s (%g ms)", what, cnn_region_name((enum cnn_region)r),
                  want ? "not timed" : "timed, but the state has no such region", ms[r]);
        }
    }
    if (right_set)
        check(1, "%s: the %d regions of the state are timed, no other", what, timed);
    double bound = (timed + 1) * EVENT_RES_MS;
    check(fabs(sum - span) <= bound,
          "%s: regions sum to %.4f ms, GPU span %.4f ms (|diff| %.5f <= %.4f ms)", what, sum,
          span, fabs(sum - span), bound);
}

/* Every check for one backend, GPU count, variant and size. */
static void check_config(const struct cnn_backend *be, const char *label, int gpus, int variant,
                         struct size z)
{
    char what[128];
    struct cnn_config cfg = {.batch = z.batch, .filters = z.filters, .lr = 0.05f,
                             .variant = variant, .gpus = gpus};
    cnn_state *s = NULL;
    CHECK_OK(be->create(&cfg, &s));
    struct cnn_params init;
    CHECK_OK(cnn_params_alloc(&init, z.filters));
    cnn_params_init(&init, 5u + (uint64_t)z.filters);
    CHECK_OK(be->set_params(s, &init));
    int total = WARMUP + STEPS + 1;
    float *x;
    uint8_t *y;
    random_batches(17u + (uint64_t)z.batch, z.batch, total, &x, &y);

    for (int k = 0; k < WARMUP + STEPS; k++) {
        struct cnn_step_result r;
        CHECK_OK(cnn_step(be, s, x + (size_t)k * z.batch * CNN_PIXELS, y + (size_t)k * z.batch,
                          z.batch, &r));
        if (k < WARMUP)
            continue;
        snprintf(what, sizeof what, "%s v%d B=%d F=%d step %d", label, variant, z.batch,
                 z.filters, k - WARMUP + 1);
        check_tiling(be, s, what, r.region_ms, r.gpu_span_ms);
        check(r.gpu_span_ms > 0.0 &&
                  r.gpu_span_ms <= r.step_ms * (1.0 + CLOCK_DRIFT) + EVENT_RES_MS,
              "%s: 0 < GPU span %.4f ms <= wall step %.4f ms", what, r.gpu_span_ms, r.step_ms);
    }

    double ms[CNN_REGION_COUNT], span = -1.0;
    int last = total - 1;
    CHECK_OK(paused_step(be, s, x + (size_t)last * z.batch * CNN_PIXELS,
                         y + (size_t)last * z.batch, z.batch, CNN_REGION_FC_BWD, ms, &span));
    snprintf(what, sizeof what, "%s v%d B=%d F=%d step with a %.0f ms pause before fc_bwd",
             label, variant, z.batch, z.filters, PAUSE_MS);
    check_tiling(be, s, what, ms, span);
    if (be->replays_step && be->replays_step(s)) {
        /* e: the whole step is launched at once, after the pause */
        check(span < PAUSE_MS, "%s: a replayed step's GPU span %.4f ms excludes the pause",
              what, span);
    } else {
        double before = 0.0;
        for (size_t i = 0; order[i] != CNN_REGION_FC_BWD; i++)
            before += ms[order[i]] >= 0.0 ? ms[order[i]] : 0.0;
        double floor_ms = PAUSE_MS - before - LATENCY_MS;
        check(ms[CNN_REGION_FC_BWD] >= floor_ms,
              "%s: the pause counts in fc_bwd (%.4f ms >= %.4f ms)", what,
              ms[CNN_REGION_FC_BWD], floor_ms);
    }

    be->destroy(s);
    cnn_params_free(&init);
    free(x);
    free(y);
}

/* Every variant of a backend at one GPU count, at every size. */
static void check_table(const struct cnn_backend *be, const char *label, int gpus)
{
    for (int v = 1; v <= be->variant_count; v++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            check_config(be, label, gpus, v, sizes[i]);
}

int main(void)
{
    check_name = "gpu-clock";
    int devices = 0, ran = 0;
    for (const struct cnn_backend *const *b = cnn_backends; *b; b++) {
        const struct cnn_backend *be = *b;
        if (!(be->caps & CNN_CAP_DEVICE))
            continue;
        devices++;
        CHECK_OK(cnn_backend_validate(be));
        cnn_status st = be->probe();
        if (st == CNN_E_UNAVAILABLE) {
            printf("  skip  %s: %s\n", be->name, cnn_last_error());
            continue;
        }
        CHECK_OK(st);
        check_table(be, be->name, 0);
        ran++;
        if (be->caps & CNN_CAP_DATA_PARALLEL) {
            char label[64];
            snprintf(label, sizeof label, "%s gpus=1", be->name);
            check_table(be, label, 1);
        }
    }
    if (devices == 0) {
        fprintf(stderr, "test_gpu_clock: no device backend is built\n");
        return 1;
    }
    if (ran == 0) {
        printf("gpu-clock: skipped: no device backend can run here\n");
        return CHECK_SKIP;
    }
    return check_finish();
}
