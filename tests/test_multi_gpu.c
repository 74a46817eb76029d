/*
 * test_multi_gpu.c — the data-parallel mode (cfg.gpus >= 1) of the backend
 * that claims CNN_CAP_DATA_PARALLEL (cuda, through NCCL) against its one-GPU
 * path (gpus = 0) of the same table, on random batches.
 *
 *   usage: test_multi_gpu        (exit 0 pass, 1 fail, 77 no GPU)
 *
 *   a. one rank   — gpus = 1 (a communicator of one rank) leaves parameters,
 *                   gradients and losses bitwise identical to gpus = 0 after
 *                   a few steps, for every kernel variant, B=100 F=8 and
 *                   B=1000 F=32, batches fed from the caller's memory and
 *                   through the batch buffer; its allreduce region is timed,
 *                   gpus = 0 reports it as not run;
 *   b. reproducible — two runs of gpus = 1, bitwise identical;
 *   c. N ranks    — where the machine has N >= 2 GPUs (N = 2, and 4 if there
 *                   are 4): one step agrees with gpus = 0 within docs/DESIGN.md §4
 *                   (gradients and parameters, also for a batch N does not
 *                   divide), and two runs of N ranks are bitwise identical.
 *                   With fewer GPUs these checks are reported as skipped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "batches.h"
#include "check.h"
#include "cnn.h"
#include "params.h"
#include "step.h"

enum { STEPS = 3 };

static const struct cnn_backend *be; /* the data-parallel backend under test */

/* What a short training run leaves behind. */
struct outcome {
    struct cnn_params params;  /* after the last step */
    struct cnn_params grads;   /* of the last step */
    double loss[STEPS];
    double allreduce_ms;       /* the last step's allreduce region, < 0 not run */
};

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

/* Creates a state for gpus (variant 0: the default); CNN_E_UNAVAILABLE (too few GPUs) is returned,
 * anything else but CNN_OK fails the test. */
static cnn_status open_state(int gpus, int variant, int batch, int filters, cnn_state **s)
{
    struct cnn_config cfg = {.batch = batch, .filters = filters, .lr = 0.1f, .threads = 0,
                             .variant = variant, .gpus = gpus};
    cnn_status st = be->create(&cfg, s);
    if (st == CNN_E_UNAVAILABLE)
        return st;
    CHECK_OK(st);
    return CNN_OK;
}

/* `steps` steps from the parameters of seed 7 on the batches of seed 11;
 * through the state's batch buffer when use_buffer. CNN_E_UNAVAILABLE: the
 * machine has fewer than `gpus` GPUs (out is left unallocated). */
static cnn_status train(int gpus, int variant, int batch, int filters, int steps,
                        int use_buffer, struct outcome *out)
{
    cnn_state *s = NULL;
    if (open_state(gpus, variant, batch, filters, &s) != CNN_OK)
        return CNN_E_UNAVAILABLE;
    float *x;
    uint8_t *y;
    random_batches(11u + (uint64_t)batch, batch, steps, &x, &y);
    struct cnn_params init;
    CHECK_OK(cnn_params_alloc(&init, filters));
    cnn_params_init(&init, 7u + (uint64_t)filters);
    CHECK_OK(be->set_params(s, &init));

    float *bx = NULL;
    uint8_t *by = NULL;
    if (use_buffer)
        CHECK_OK(be->batch_buffer(s, &bx, &by));
    for (int k = 0; k < steps; k++) {
        const float *xk = x + (size_t)k * batch * CNN_PIXELS;
        const uint8_t *yk = y + (size_t)k * batch;
        if (use_buffer) {
            memcpy(bx, xk, (size_t)batch * CNN_PIXELS * sizeof *bx);
            memcpy(by, yk, (size_t)batch);
            xk = bx;
            yk = by;
        }
        struct cnn_step_result r;
        CHECK_OK(cnn_step(be, s, xk, yk, batch, &r));
        out->loss[k] = r.loss;
        out->allreduce_ms = r.region_ms[CNN_REGION_ALLREDUCE];
    }
    CHECK_OK(cnn_params_alloc(&out->params, filters));
    CHECK_OK(cnn_params_alloc(&out->grads, filters));
    fill_nan(out->params.buf, out->params.count);
    fill_nan(out->grads.buf, out->grads.count);
    CHECK_OK(be->get_params(s, &out->params));
    CHECK_OK(be->get_grads(s, &out->grads));
    be->destroy(s);
    cnn_params_free(&init);
    free(x);
    free(y);
    return CNN_OK;
}

static void outcome_free(struct outcome *o)
{
    cnn_params_free(&o->params);
    cnn_params_free(&o->grads);
}

static int same_bits(const struct outcome *a, const struct outcome *b, int steps)
{
    return memcmp(a->params.buf, b->params.buf, a->params.count * sizeof *a->params.buf) == 0 &&
           memcmp(a->grads.buf, b->grads.buf, a->grads.count * sizeof *a->grads.buf) == 0 &&
           memcmp(a->loss, b->loss, (size_t)steps * sizeof *a->loss) == 0;
}

/* ---- a, b: one rank ---- */
static void check_one_rank(int variant, int batch, int filters)
{
    struct outcome plain, one, one_again, one_buffer;
    CHECK_OK(train(0, variant, batch, filters, STEPS, 0, &plain));
    CHECK_OK(train(1, variant, batch, filters, STEPS, 0, &one));
    CHECK_OK(train(1, variant, batch, filters, STEPS, 0, &one_again));
    CHECK_OK(train(1, variant, batch, filters, STEPS, 1, &one_buffer));
    check(same_bits(&one, &plain, STEPS),
          "v%d B=%d F=%d %d steps: gpus=1 bitwise identical to gpus=0 (loss %.9g vs %.9g)",
          variant, batch, filters, STEPS, one.loss[STEPS - 1], plain.loss[STEPS - 1]);
    check(same_bits(&one_again, &one, STEPS),
          "v%d B=%d F=%d %d steps: gpus=1 bitwise reproducible", variant, batch, filters, STEPS);
    check(same_bits(&one_buffer, &one, STEPS),
          "v%d B=%d F=%d %d steps: gpus=1 through its batch buffer bitwise identical", variant,
          batch, filters, STEPS);
    check(plain.allreduce_ms < 0.0 && one.allreduce_ms >= 0.0,
          "v%d B=%d F=%d: allreduce region %.4f ms with gpus=1, not run with gpus=0 (%g)",
          variant, batch, filters, one.allreduce_ms, plain.allreduce_ms);
    outcome_free(&plain);
    outcome_free(&one);
    outcome_free(&one_again);
    outcome_free(&one_buffer);
}

/* ---- c: N ranks; 0 when the machine has fewer than N GPUs ---- */
static int check_ranks(int gpus, int variant, int batch, int filters)
{
    struct outcome plain, many, many_again;
    if (train(gpus, variant, batch, filters, 1, 0, &many) != CNN_OK) {
        printf("  skip  gpus=%d: %s\n", gpus, cnn_last_error());
        return 0;
    }
    CHECK_OK(train(0, variant, batch, filters, 1, 0, &plain));
    cnn_status st = cnn_agree_grads(&many.grads, &plain.grads);
    check(st == CNN_OK, "v%d B=%d F=%d one step: gpus=%d gradients agree with gpus=0%s%s",
          variant, batch, filters, gpus, st ? ": " : "", st ? cnn_last_error() : "");
    st = cnn_agree_params(&many.params, &plain.params);
    check(st == CNN_OK, "v%d B=%d F=%d one step: gpus=%d parameters agree with gpus=0%s%s",
          variant, batch, filters, gpus, st ? ": " : "", st ? cnn_last_error() : "");
    double loss_rel = fabs(many.loss[0] - plain.loss[0]) / fabs(plain.loss[0]);
    check(loss_rel <= 1e-6, "v%d B=%d F=%d one step: gpus=%d loss %.9g vs %.9g (rel %.2g)",
          variant, batch, filters, gpus, many.loss[0], plain.loss[0], loss_rel);
    outcome_free(&plain);
    outcome_free(&many);

    CHECK_OK(train(gpus, variant, batch, filters, STEPS, 0, &many));
    CHECK_OK(train(gpus, variant, batch, filters, STEPS, 1, &many_again));
    check(same_bits(&many_again, &many, STEPS),
          "v%d B=%d F=%d %d steps: gpus=%d bitwise reproducible (second run through the "
          "batch buffer)", variant, batch, filters, STEPS, gpus);
    check(many.allreduce_ms >= 0.0, "v%d B=%d F=%d: gpus=%d allreduce region timed (%.4f ms)",
          variant, batch, filters, gpus, many.allreduce_ms);
    outcome_free(&many);
    outcome_free(&many_again);
    return 1;
}

/* A configuration create must refuse with a message, not a crash. */
static void check_refused(int gpus, int batch)
{
    struct cnn_config cfg = {.batch = batch, .filters = 4, .lr = 0.1f, .gpus = gpus};
    cnn_state *s = NULL;
    cnn_status st = be->create(&cfg, &s);
    check(st != CNN_OK && s == NULL && *cnn_last_error(),
          "gpus=%d B=%d refused: %s", gpus, batch, cnn_last_error());
}

int main(void)
{
    check_name = "multi-gpu";
    be = cnn_backend_with_cap(CNN_CAP_DATA_PARALLEL);
    if (!be) {
        fprintf(stderr, "test_multi_gpu: no backend of this build trains over several GPUs\n");
        return 1;
    }
    CHECK_OK(cnn_backend_validate(be));
    cnn_status st = be->probe();
    if (st == CNN_E_UNAVAILABLE) {
        printf("multi-gpu: skipped: %s\n", cnn_last_error());
        return CHECK_SKIP;
    }
    CHECK_OK(st);

    for (int v = 1; v <= be->variant_count; v++) {
        printf("variant %d: %s\n", v, be->variant_names[v - 1]);
        check_one_rank(v, 100, 8);
        check_one_rank(v, 1000, 32);
    }
    check_refused(2, 1);   /* fewer images than GPUs */
    check_refused(-1, 10); /* a negative GPU count */

    int ran = 0;
    static const int counts[] = {2, 4};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        int n = counts[i];
        if (!check_ranks(n, 0, 100, 8))
            break;
        ran++;
        check_ranks(n, 0, 1000, 32);
        check_ranks(n, 0, 101, 5); /* shares of 51 and 50 (26, 25, 25, 25) */
        for (int v = 1; v <= be->variant_count; v++)
            check_ranks(n, v, 130, 17);
    }
    if (ran == 0)
        printf("multi-gpu: the checks over 2 and 4 GPUs were skipped: this machine has fewer "
               "than 2 GPUs\n");
    else if (ran == 1)
        printf("multi-gpu: the checks over 4 GPUs were skipped: this machine has fewer than 4\n");
    return check_finish();
}
