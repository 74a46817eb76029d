/*
 * test_energy_nvml.c — the NVML meter of bench/engine/energy.c on a real GPU:
 * energy read around a few seconds of training steps on the first device
 * backend that runs here (or, in a build without one, around an idle
 * wait) must be plausible: for every GPU, joules / seconds is positive and
 * at most 1.1 x the card's enforced power limit, and agrees with the mean
 * of the power samples taken meanwhile within a factor of two (the power
 * reading is a moving average, the counter exact). Prints the power at open,
 * the limit and how often the counter moved, for the lead's H100 check.
 * Then the run engine's own metering (bench/engine/run.h): a configuration
 * of that backend trained through run_config for over a second names its
 * card by the device_bus_id slot, and its GPU joules over its metered
 * window are again a power between zero and 1.1 x the limit.
 * Exits 77 where NVML is not built or sees no GPU.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cnnbench_config.h"

#if CNN_HAVE_NVML
#include "batches.h"
#include "check.h"
#include "cnn.h"
#include "energy.h"
#include "params.h"
#include "run.h"
#include "step.h"

enum {
    BATCH = 1000,
    FILTERS = 256,
    BATCHES = 4,
    SAMPLES = 64,
};
static const double RUN_S = 3.0;       /* long against the counter's update period */
static const double SAMPLE_EVERY_S = 0.05;
static const double LIMIT_MARGIN = 1.1;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The first device backend that can run here, or NULL. */
static const struct cnn_backend *device_backend(void)
{
    for (const struct cnn_backend *const *b = cnn_backends; *b; b++)
        if (((*b)->caps & CNN_CAP_DEVICE) && (*b)->probe() == CNN_OK)
            return *b;
    return NULL;
}

/* Samples every SAMPLE_EVERY_S while training (or idling) for RUN_S;
 * returns the number of samples taken into r[0..SAMPLES). */
static int busy_window(struct energy_meters *m, struct energy_reading *r)
{
    const struct cnn_backend *be = device_backend();
    cnn_state *s = NULL;
    struct cnn_params init;
    float *x = NULL;
    uint8_t *y = NULL;
    if (be) {
        struct cnn_config cfg = {.batch = BATCH, .filters = FILTERS, .lr = 0.05f};
        CHECK_OK(be->create(&cfg, &s));
        CHECK_OK(cnn_params_alloc(&init, FILTERS));
        cnn_params_init(&init, 3);
        CHECK_OK(be->set_params(s, &init));
        random_batches(11, BATCH, BATCHES, &x, &y);
        printf("  load: %s training steps at B=%d F=%d\n", be->name, BATCH, FILTERS);
    } else {
        printf("  load: none (no device backend runs here): an idle window\n");
    }
    int n = 0;
    long steps = 0;
    energy_sample(m, &r[n++]);
    double start = r[0].t_s, next = start + SAMPLE_EVERY_S;
    while (n < SAMPLES) {
        if (be) {
            struct cnn_step_result res;
            int k = (int)(steps++ % BATCHES);
            CHECK_OK(cnn_step(be, s, x + (size_t)k * BATCH * CNN_PIXELS, y + (size_t)k * BATCH,
                              BATCH, &res));
        } else {
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);
        }
        double t = now_s();
        if (t >= next || t - start >= RUN_S) {
            energy_sample(m, &r[n++]);
            next = t + SAMPLE_EVERY_S;
            if (t - start >= RUN_S)
                break;
        }
    }
    if (be) {
        printf("  %ld steps\n", steps);
        be->destroy(s);
        cnn_params_free(&init);
        free(x);
        free(y);
    }
    return n;
}

/* run_config's energy on the first device backend, over a window long
 * enough to give a figure. */
static void engine_window(const struct energy_meters *m)
{
    const struct cnn_backend *be = device_backend();
    if (!be) {
        printf("  engine: no device backend runs here: not checked\n");
        return;
    }
    enum { N = BATCH * BATCHES };
    struct data_set data = {.train_n = N, .test_n = BATCH};
    random_batches(13, BATCH, BATCHES, &data.train_x, &data.train_y);
    data.test_x = data.train_x;
    data.test_y = data.train_y;
    struct cnn_params init;
    CHECK_OK(cnn_params_alloc(&init, FILTERS));
    cnn_params_init(&init, 3);
    /* as many steps as take about 2 s; max_time ends it sooner if they are slower */
    struct run_spec spec = {.be = be, .cfg = {.batch = BATCH, .filters = FILTERS, .lr = 0.05f},
                            .steps = 1000000, .max_noise_pct = 1e-9, .min_steps = 1,
                            .max_time_s = 2.0, .warmup = 2, .shuffle = 1, .seed = 5,
                            .init = &init};
    struct run_result r;
    CHECK_OK(run_config(&spec, &data, NULL, &r));
    double j = r.energy.joules[ENERGY_GPU], w = j / r.energy.window_s;
    printf("  engine: %s, %ld steps: %.3f J in a %.3f s window = %.1f W (samples %.1f W), "
           "%.4f J/step\n", be->name, r.done, j, r.energy.window_s, w, r.energy.gpu_sampled_w,
           j / r.done);
    check(r.energy.window_s >= RUN_ENERGY_MIN_WINDOW_S, "engine: metered %.3f s",
          r.energy.window_s);
    check(w > 0 && w <= LIMIT_MARGIN * m->meter[0].power_limit_w,
          "engine: 0 < %.1f W <= 1.1 x limit %.1f W", w, m->meter[0].power_limit_w);
    run_result_free(&r);
    cnn_params_free(&init);
    free(data.train_x);
    free(data.train_y);
}

int main(void)
{
    check_name = "energy-nvml";
    struct energy_meters m;
    struct energy_request req = {.want_gpu = 1};
    CHECK_OK(energy_open(&m, &req));
    if (m.n == 0) {
        printf("energy-nvml: skipped: %s\n", energy_reason(&m, ENERGY_GPU));
        energy_close(&m);
        return CHECK_SKIP;
    }
    static struct energy_reading r[SAMPLES];
    int n = busy_window(&m, r);
    double seconds = r[n - 1].t_s - r[0].t_s;
    for (int i = 0; i < m.n; i++) {
        const struct energy_meter *g = &m.meter[i];
        double j = energy_joules(&m, &r[0], &r[n - 1], i);
        double watts = j / seconds;
        int moves = 0;
        for (int k = 1; k < n; k++)
            moves += r[k].joules[i] != r[k - 1].joules[i];
        double sampled = 0;
        int samples = 0;
        for (int k = 0; k < n; k++)
            if (!isnan(r[k].power_w[i])) {
                sampled += r[k].power_w[i];
                samples++;
            }
        sampled = samples ? sampled / samples : NAN;
        printf("  %s: %.3f J in %.3f s = %.1f W; sampled mean %.1f W (%d samples); at open "
               "%.1f W; limit %.1f W; counter moved %d times in %d samples\n",
               g->name, j, seconds, watts, sampled, samples, g->power_at_open_w,
               g->power_limit_w, moves, n);
        check(isfinite(g->power_limit_w) && g->power_limit_w > 0, "%s: power limit known",
              g->name);
        check(watts > 0 && watts <= LIMIT_MARGIN * g->power_limit_w,
              "%s: 0 < %.1f W <= 1.1 x limit %.1f W", g->name, watts, g->power_limit_w);
        check(moves > 0, "%s: the energy counter moved during %.1f s", g->name, seconds);
        check(samples > 0 && watts <= 2 * sampled && sampled <= 2 * watts,
              "%s: counter %.1f W and power samples %.1f W within a factor of two", g->name,
              watts, sampled);
    }
    check(energy_reason(&m, ENERGY_GPU)[0] == '\0', "no GPU reason: '%s'",
          energy_reason(&m, ENERGY_GPU));
    double total = energy_device_joules(&m, &r[0], &r[n - 1], ENERGY_GPU);
    check(isfinite(total) && total > 0, "GPU total %.3f J", total);
    engine_window(&m);
    energy_close(&m);
    return check_finish();
}
#else
int main(void)
{
    printf("energy-nvml: skipped: this build has no NVML (meson feature nvml)\n");
    return 77; /* meson's skip */
}
#endif
