/*
 * test_persistent.c — cuda v7 (each timed step one persistent kernel,
 * impl/cuda/cuda_persistent.cu) against itself driven slot by slot, where
 * every slot launches one phase of the same kernel: the grid barriers and
 * the fused phases must not change a single bit.
 *
 *   usage: test_persistent        (exit 0 pass, 1 fail, 77 no GPU)
 *
 * Two v7 states from the same parameters and batches, at a launch-bound
 * size, odd sizes (a batch below the backward's 8 chunks, one filter) and
 * a larger one; one trained through cnn_step (timed: one cooperative
 * launch per step), the other through the slots without a timer mark
 * (eager: a launch per phase), including a smaller batch at step 3:
 *   a. every step's loss and correct count, bitwise;
 *   b. the parameters, the last gradients and pool decisions, bitwise;
 *   c. the timed state's regions: the phases' stamps moved work out of
 *      conv_fwd (fc_fwd, fc_bwd and update > 0) and every region >= 0.
 * (test_gpu_clock checks that the regions still tile the span, test_backend
 * that v7 agrees with seq.)
 */
#include <stdlib.h>
#include <string.h>

#include "batches.h"
#include "check.h"
#include "cnn.h"
#include "params.h"
#include "same_state.h"
#include "step.h"

/* cuda's variant (impl/cuda/cuda_backend.h) */
enum { PERSISTENT = 7, STEPS = 6 };

static const struct size {
    int batch, filters;
} sizes[] = {{100, 32}, {5, 1}, {37, 5}, {300, 64}};

static int images_of(int k, int batch) { return k == 3 && batch > 3 ? batch - 3 : batch; }

static int same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

/* One step through the slots, as cnn_step orders them, with no timer mark. */
static void eager_step(const struct cnn_backend *be, cnn_state *s, const float *x,
                       const uint8_t *y, int n, double *loss, int *correct)
{
    CHECK_OK(be->load_batch(s, x, y, n));
    CHECK_OK(be->conv_forward(s));
    CHECK_OK(be->fc_forward(s));
    CHECK_OK(be->loss_forward(s));
    CHECK_OK(be->loss_backward(s));
    CHECK_OK(be->fc_backward(s));
    CHECK_OK(be->conv_backward(s));
    CHECK_OK(be->update(s));
    CHECK_OK(be->read_metrics(s, loss, correct));
}

static void check_size(const struct cnn_backend *be, struct size z)
{
    struct cnn_params init;
    CHECK_OK(cnn_params_alloc(&init, z.filters));
    cnn_params_init(&init, 11u + (uint64_t)z.filters);
    float *x;
    uint8_t *y;
    random_batches(29u + (uint64_t)z.batch, z.batch, STEPS, &x, &y);
    struct cnn_config cfg = {.batch = z.batch, .filters = z.filters, .lr = 0.05f,
                             .variant = PERSISTENT};
    cnn_state *timed = NULL, *eager = NULL;
    CHECK_OK(be->create(&cfg, &timed));
    CHECK_OK(be->create(&cfg, &eager));
    CHECK_OK(be->set_params(timed, &init));
    CHECK_OK(be->set_params(eager, &init));

    int steps_equal = 1, regions_ok = 1;
    for (int k = 0; k < STEPS; k++) {
        int n = images_of(k, z.batch);
        const float *xk = x + (size_t)k * z.batch * CNN_PIXELS;
        const uint8_t *yk = y + (size_t)k * z.batch;
        struct cnn_step_result rt;
        double loss;
        int correct;
        CHECK_OK(cnn_step(be, timed, xk, yk, n, &rt));
        eager_step(be, eager, xk, yk, n, &loss, &correct);
        if (!same(&rt.loss, &loss, sizeof loss) || rt.correct != correct) {
            steps_equal = 0;
            check(0, "B=%d F=%d step %d (n=%d): loss %.17g (timed) vs %.17g (eager), correct "
                  "%d vs %d", z.batch, z.filters, k, n, rt.loss, loss, rt.correct, correct);
        }
        int moved = rt.region_ms[CNN_REGION_FC_FWD] > 0 && rt.region_ms[CNN_REGION_FC_BWD] > 0 &&
                    rt.region_ms[CNN_REGION_UPDATE] > 0;
        for (int r = 0; r < CNN_REGION_COUNT; r++)
            if (r != CNN_REGION_ALLREDUCE && !(rt.region_ms[r] >= 0))
                moved = 0;
        if (!moved && regions_ok) {
            regions_ok = 0;
            check(0, "B=%d F=%d step %d: regions conv_fwd %.4f fc_fwd %.4f fc_bwd %.4f update "
                  "%.4f ms: the phases were not split out", z.batch, z.filters, k,
                  rt.region_ms[CNN_REGION_CONV_FWD], rt.region_ms[CNN_REGION_FC_FWD],
                  rt.region_ms[CNN_REGION_FC_BWD], rt.region_ms[CNN_REGION_UPDATE]);
        }
    }
    if (steps_equal)
        check(1, "B=%d F=%d: %d steps' loss and correct count bitwise equal, timed and eager",
              z.batch, z.filters, STEPS);
    if (regions_ok)
        check(1, "B=%d F=%d: every timed step's phases split into fc_fwd, fc_bwd and update",
              z.batch, z.filters);

    check_same_state(be, timed, eager, z.batch, z.filters);

    be->destroy(timed);
    be->destroy(eager);
    cnn_params_free(&init);
    free(x);
    free(y);
}

int main(void)
{
    check_name = "cuda-persistent";
    int skip;
    const struct cnn_backend *be = cuda_for_test(PERSISTENT, &skip);
    if (!be)
        return skip ? CHECK_SKIP : check_finish();
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        check_size(be, sizes[i]);
    return check_finish();
}
