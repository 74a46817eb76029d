/*
 * test_graph.c — cuda v6 (each timed step replayed as one CUDA graph,
 * impl/cuda/cuda_graph.cu) against v3 (the same kernels launched one by
 * one): the graph must not change a single bit.
 *
 *   usage: test_graph        (exit 0 pass, 1 fail, 77 no GPU)
 *
 * At a launch-bound size, an odd size and a larger one, from the same
 * parameters and batches, through cnn_step:
 *   a. every step's loss and correct count, bitwise;
 *   b. the parameters, gradients and pool decisions after the last step,
 *      bitwise;
 *   c. the graph is used (replays_step is 1 for v6, 0 for v3), and the
 *      steps exercise each of its paths: batches gathered in the batch
 *      buffer and passed from the caller's memory, a smaller batch (a new
 *      capture) and the full batch again (a third);
 *   d. outside a timed step the v6 state runs the slots eagerly, as the
 *      test hooks need: logits after conv_forward and fc_forward, bitwise
 *      equal to v3's.
 */
#include <stdlib.h>
#include <string.h>

#include "batches.h"
#include "check.h"
#include "cnn.h"
#include "params.h"
#include "same_state.h"
#include "step.h"

/* cuda's variants (impl/cuda/cuda_backend.h); check c fails if they move */
enum { EAGER = 3, GRAPH = 6, STEPS = 6 };

static const struct size {
    int batch, filters;
} sizes[] = {{100, 32}, {37, 5}, {300, 64}};

/* Images of step k: the full batch, except a smaller one at step 3. */
static int images_of(int k, int batch) { return k == 3 ? batch - 3 : batch; }

static cnn_state *open_state(const struct cnn_backend *be, int variant, struct size z,
                             const struct cnn_params *init)
{
    struct cnn_config cfg = {.batch = z.batch, .filters = z.filters, .lr = 0.05f,
                             .variant = variant};
    cnn_state *s = NULL;
    CHECK_OK(be->create(&cfg, &s));
    CHECK_OK(be->set_params(s, init));
    return s;
}

static int same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

static void check_size(const struct cnn_backend *be, struct size z)
{
    struct cnn_params init;
    CHECK_OK(cnn_params_alloc(&init, z.filters));
    cnn_params_init(&init, 3u + (uint64_t)z.filters);
    float *x;
    uint8_t *y;
    random_batches(41u + (uint64_t)z.batch, z.batch, STEPS + 1, &x, &y);
    cnn_state *eager = open_state(be, EAGER, z, &init);
    cnn_state *graph = open_state(be, GRAPH, z, &init);
    check(be->replays_step && be->replays_step(graph) == 1 && be->replays_step(eager) == 0,
          "B=%d F=%d: v%d replays its steps, v%d does not", z.batch, z.filters, GRAPH, EAGER);

    float *bx = NULL;
    uint8_t *by = NULL;
    CHECK_OK(be->batch_buffer(graph, &bx, &by));
    int steps_equal = 1;
    for (int k = 0; k < STEPS; k++) {
        int n = images_of(k, z.batch);
        const float *xk = x + (size_t)k * z.batch * CNN_PIXELS;
        const uint8_t *yk = y + (size_t)k * z.batch;
        const float *gx = xk;
        const uint8_t *gy = yk;
        if (k % 2 == 0) { /* as the harness feeds it: gathered into the batch buffer */
            memcpy(bx, xk, (size_t)n * CNN_PIXELS * sizeof *bx);
            memcpy(by, yk, (size_t)n);
            gx = bx;
            gy = by;
        }
        struct cnn_step_result re, rg;
        CHECK_OK(cnn_step(be, eager, xk, yk, n, &re));
        CHECK_OK(cnn_step(be, graph, gx, gy, n, &rg));
        if (!same(&re.loss, &rg.loss, sizeof re.loss) || re.correct != rg.correct) {
            steps_equal = 0;
            check(0, "B=%d F=%d step %d (n=%d): loss %.17g vs %.17g, correct %d vs %d", z.batch,
                  z.filters, k, n, rg.loss, re.loss, rg.correct, re.correct);
        }
    }
    if (steps_equal)
        check(1, "B=%d F=%d: %d steps' loss and correct count bitwise equal", z.batch, z.filters,
              STEPS);

    check_same_state(be, eager, graph, z.batch, z.filters);

    /* d: the slots outside a timed step, as the layer tests drive them */
    size_t nlog = (size_t)z.batch * CNN_CLASSES;
    float *la = malloc(nlog * sizeof *la), *lb = malloc(nlog * sizeof *lb);
    cnn_state *states[2] = {eager, graph};
    float *logits[2] = {la, lb};
    const float *xl = x + (size_t)STEPS * z.batch * CNN_PIXELS;
    const uint8_t *yl = y + (size_t)STEPS * z.batch;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(be->load_batch(states[i], xl, yl, z.batch));
        CHECK_OK(be->conv_forward(states[i]));
        CHECK_OK(be->fc_forward(states[i]));
        for (size_t t = 0; t < nlog; t++)
            logits[i][t] = (float)i - 2.0f; /* differs between the two, so unwritten fails */
        CHECK_OK(be->get_logits(states[i], logits[i]));
    }
    check(same(la, lb, nlog * sizeof *la),
          "B=%d F=%d: slots outside a timed step run eagerly: logits bitwise equal", z.batch,
          z.filters);

    be->destroy(eager);
    be->destroy(graph);
    cnn_params_free(&init);
    free(la);
    free(lb);
    free(x);
    free(y);
}

int main(void)
{
    check_name = "cuda-graph";
    int skip;
    const struct cnn_backend *be = cuda_for_test(GRAPH, &skip);
    if (!be)
        return skip ? CHECK_SKIP : check_finish();
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        check_size(be, sizes[i]);
    return check_finish();
}
