/*
 * test_trace.c — the step driver (impl/common/step.c) opens and closes a
 * trace range (impl/common/trace.h) around every step and every region it
 * runs, for every backend, in execution order, nested in the step, and
 * closes them when a region fails.
 *
 *   usage: test_trace        (exit 0 pass, 1 fail)
 *
 * This file defines the four range functions of trace.h itself, recording
 * each call in a log; the linker then takes them instead of the library's
 * NVTX ones (impl/common/trace.c, an object of nothing else, so never
 * pulled in). The checks, on every CPU backend of the build and on a
 * device backend faked over seq (so the device path runs without a GPU):
 *   a. ranges   the log is exactly: step begin, then for each region the
 *               driver times, in execution order, its begin and its end,
 *               then step end; every name is the backend's. The regions
 *               are those of the table: the seven compute regions, h2d and
 *               d2h around them on a device backend;
 *   b. timed    each region the log holds is timed (>= 0) and no other is;
 *   c. device   on the device path each range encloses the region's two
 *               timer marks, and the work between them;
 *   d. failure  a region that fails still has its end, then the step's,
 *               and no region runs after it.
 */
#include <stdio.h>
#include <string.h>

#include "batches.h"
#include "check.h"
#include "cnn.h"
#include "params.h"
#include "step.h"
#include "trace.h"

enum { BATCH = 8, FILTERS = 4, LOG_MAX = 64 };

/* ---- the recorder in place of impl/common/trace.c ---- */

enum event_kind { STEP_BEGIN, STEP_END, REGION_BEGIN, REGION_END, MARK_START, MARK_END };
static const char *const kind_names[] = {"step begin", "step end", "region begin",
                                         "region end", "mark start", "mark end"};

struct event {
    enum event_kind kind;
    const char *backend;
    int region; /* -1 for the step */
};

static struct event events[LOG_MAX];
static int n_events;

static void record(enum event_kind kind, const char *backend, int region)
{
    if (n_events == LOG_MAX) {
        check(0, "more than %d trace events in one step", LOG_MAX);
        exit(check_finish());
    }
    events[n_events++] = (struct event){kind, backend, region};
}

void cnn_trace_step_begin(const char *backend) { record(STEP_BEGIN, backend, -1); }
void cnn_trace_step_end(const char *backend) { record(STEP_END, backend, -1); }
void cnn_trace_region_begin(const char *backend, enum cnn_region r)
{
    record(REGION_BEGIN, backend, (int)r);
}
void cnn_trace_region_end(const char *backend, enum cnn_region r)
{
    record(REGION_END, backend, (int)r);
}

/* ---- a device backend faked over seq ----
 * seq's table with CNN_CAP_DEVICE and timer slots that log their marks and
 * report 0 ms for each region marked, so that cnn_step takes its device
 * path. */

static int marked[CNN_REGION_COUNT];

static cnn_status fake_timer_mark(cnn_state *s, enum cnn_region r, int end)
{
    (void)s;
    record(end ? MARK_END : MARK_START, "fake", (int)r);
    if (end)
        marked[r] = 1;
    return CNN_OK;
}

static cnn_status fake_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms)
{
    (void)s;
    for (int r = 0; r < CNN_REGION_COUNT; r++) {
        ms[r] = marked[r] ? 0.0 : -1.0;
        marked[r] = 0;
    }
    *span_ms = 0.0;
    return CNN_OK;
}

static cnn_status failing_region(cnn_state *s)
{
    (void)s;
    return cnn_fail(CNN_E_ARG, "fc_backward fails on purpose");
}

/* ---- the checks ---- */

/* The log a successful step of `be` must leave (a): `want` gets it. */
static int expected_log(const struct cnn_backend *be, const cnn_state *s, struct event *want)
{
    static const enum cnn_region order[] = {
        CNN_REGION_H2D,      CNN_REGION_CONV_FWD,  CNN_REGION_FC_FWD, CNN_REGION_LOSS_FWD,
        CNN_REGION_LOSS_BWD, CNN_REGION_FC_BWD,    CNN_REGION_CONV_BWD, CNN_REGION_ALLREDUCE,
        CNN_REGION_UPDATE,   CNN_REGION_D2H,
    };
    int device = (be->caps & CNN_CAP_DEVICE) != 0;
    int n = 0;
    want[n++] = (struct event){STEP_BEGIN, be->name, -1};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        enum cnn_region r = order[i];
        int runs = (r == CNN_REGION_H2D || r == CNN_REGION_D2H) ? device
                                                                 : cnn_region_slot(be, s, r) != NULL;
        if (!runs)
            continue;
        want[n++] = (struct event){REGION_BEGIN, be->name, (int)r};
        if (device)
            want[n++] = (struct event){MARK_START, "fake", (int)r};
        if (device)
            want[n++] = (struct event){MARK_END, "fake", (int)r};
        want[n++] = (struct event){REGION_END, be->name, (int)r};
    }
    want[n++] = (struct event){STEP_END, be->name, -1};
    return n;
}

static void print_event(const char *prefix, int i, const struct event *e)
{
    printf("    %s %2d: %s %s %s\n", prefix, i, kind_names[e->kind], e->backend,
           e->region < 0 ? "" : cnn_region_name((enum cnn_region)e->region));
}

/* Checks that the log equals want[0..n), printing both where it does not. */
static void check_log(const char *what, const struct event *want, int n)
{
    int same = n_events == n;
    for (int i = 0; same && i < n; i++)
        same = events[i].kind == want[i].kind && events[i].region == want[i].region &&
               strcmp(events[i].backend, want[i].backend) == 0;
    check(same, "%s: %d trace events in order, as expected", what, n);
    if (!same) {
        for (int i = 0; i < n_events; i++)
            print_event("got ", i, &events[i]);
        for (int i = 0; i < n; i++)
            print_event("want", i, &want[i]);
    }
}

/* Two steps of `be` (a, b, c), then one with fc_backward failing (d). */
static void check_backend(const struct cnn_backend *be, const float *x, const uint8_t *y)
{
    struct cnn_config cfg = {.batch = BATCH, .filters = FILTERS, .lr = 0.05f};
    cnn_state *s = NULL;
    CHECK_OK(be->create(&cfg, &s));
    struct cnn_params init;
    CHECK_OK(cnn_params_alloc(&init, FILTERS));
    cnn_params_init(&init, 7);
    CHECK_OK(be->set_params(s, &init));
    cnn_params_free(&init);

    struct event want[LOG_MAX];
    int n_want = expected_log(be, s, want);
    for (int step = 0; step < 2; step++) {
        n_events = 0;
        struct cnn_step_result res;
        CHECK_OK(cnn_step(be, s, x + (size_t)step * BATCH * CNN_PIXELS, y + step * BATCH, BATCH,
                          &res));
        char what[64];
        snprintf(what, sizeof what, "%s step %d", be->name, step);
        check_log(what, want, n_want);
        int traced[CNN_REGION_COUNT] = {0};
        for (int i = 0; i < n_events; i++)
            if (events[i].kind == REGION_BEGIN)
                traced[events[i].region] = 1;
        int agree = 1;
        for (int r = 0; r < CNN_REGION_COUNT; r++)
            if (traced[r] != (res.region_ms[r] >= 0.0)) {
                agree = 0;
                printf("    %s: traced %d, time %g ms\n", cnn_region_name((enum cnn_region)r),
                       traced[r], res.region_ms[r]);
            }
        check(agree, "%s: the traced regions are the timed ones", what);
    }

    struct cnn_backend failing = *be;
    failing.fc_backward = failing_region;
    n_events = 0;
    struct cnn_step_result res;
    cnn_status st = cnn_step(&failing, s, x, y, BATCH, &res);
    check(st == CNN_E_ARG, "%s: the step with a failing fc_bwd fails (%s)", be->name,
          cnn_status_name(st));
    /* the log up to fc_bwd's end (without its end mark on the device:
     * the work failed), then the step's end */
    int cut = 0;
    while (cut < n_want && !(want[cut].kind == REGION_END && want[cut].region == CNN_REGION_FC_BWD))
        cut++;
    if (be->caps & CNN_CAP_DEVICE) {
        want[cut - 1] = want[cut];
        cut--;
    }
    want[cut + 1] = (struct event){STEP_END, be->name, -1};
    char what[64];
    snprintf(what, sizeof what, "%s failing fc_bwd", be->name);
    check_log(what, want, cut + 2);
    be->destroy(s);
}

int main(void)
{
    check_name = "trace";
    float *x;
    uint8_t *y;
    random_batches(11, BATCH, 2, &x, &y);

    int cpu_backends = 0;
    for (int i = 0; cnn_backends[i]; i++) {
        const struct cnn_backend *be = cnn_backends[i];
        if (be->caps & CNN_CAP_DEVICE)
            continue;
        if (be->probe() != CNN_OK) {
            printf("  skip  %s: %s\n", be->name, cnn_last_error());
            continue;
        }
        check_backend(be, x, y);
        cpu_backends++;
    }
    check(cpu_backends > 0, "%d CPU backends traced", cpu_backends);

    struct cnn_backend fake = *cnn_backend_find("seq");
    fake.name = "fake";
    fake.caps |= CNN_CAP_DEVICE;
    fake.timer_mark = fake_timer_mark;
    fake.timer_read = fake_timer_read;
    check_backend(&fake, x, y);

    free(x);
    free(y);
    return check_finish();
}
