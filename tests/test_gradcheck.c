/*
 * test_gradcheck.c — seq's analytic gradients against central finite
 * differences of an independent double-precision forward pass (docs/DESIGN.md §4).
 *
 * For each checked parameter theta_i: num = (L(theta + eps e_i) -
 * L(theta - eps e_i)) / 2eps with eps = 1e-6, compared with seq's float
 * gradient as |num - ana| <= 1e-5 + 1e-3 |num| (PyTorch gradcheck's
 * tolerances). ReLU and max-pool are not differentiable at their kinks, so a
 * perturbation is skipped when it changes any pooled output's "signature" —
 * which window position wins and whether its pre-activation is positive —
 * detected by recomputing it, never guessed from a distance. More than 10%
 * skipped fails the test, as the check would then say little.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnn.h"
#include "params.h"
#include "rng.h"
#include "step.h"

#define GC_EPS 1e-6
#define GC_ATOL 1e-5
#define GC_RTOL 1e-3
#define GC_MAX_SKIPPED 0.10

struct problem {
    int batch, filters;
    const float *x;    /* [B][P] */
    const uint8_t *y;  /* [B] */
};

/* Mean cross-entropy in double, writing each pooled output's signature
 * (winning position * 2 + [winner's z > 0]) to sig [B][F][169]. theta is the
 * canonical layout in double. */
static double loss_double(const struct problem *pb, const double *theta, uint8_t *sig)
{
    int F = pb->filters;
    size_t K = cnn_features(F);
    const double *cw = theta, *cb = cw + (size_t)F * CNN_KTAPS;
    const double *fw = cb + F, *fb = fw + CNN_CLASSES * K;
    double *m = malloc(K * sizeof *m);
    double total = 0.0;
    for (int b = 0; b < pb->batch; b++) {
        const float *x = pb->x + (size_t)b * CNN_PIXELS;
        for (int f = 0; f < F; f++)
            for (int i = 0; i < CNN_POOL; i++)
                for (int j = 0; j < CNN_POOL; j++) {
                    double best = -INFINITY, best_z = 0.0;
                    int best_at = 0;
                    for (int d = 0; d < 4; d++) {
                        int zi = 2 * i + d / 2, zj = 2 * j + d % 2;
                        double z = cb[f];
                        for (int p = 0; p < CNN_KSIZE; p++)
                            for (int q = 0; q < CNN_KSIZE; q++)
                                z += cw[f * CNN_KTAPS + p * CNN_KSIZE + q] *
                                     x[(zi + p) * CNN_IMG + zj + q];
                        double a = z > 0.0 ? z : 0.0;
                        if (a > best) {
                            best = a;
                            best_at = d;
                            best_z = z;
                        }
                    }
                    size_t k = (size_t)f * CNN_POOL_AREA + i * CNN_POOL + j;
                    m[k] = best;
                    sig[b * K + k] = (uint8_t)(best_at * 2 + (best_z > 0.0));
                }
        double logits[CNN_CLASSES], top = -INFINITY;
        for (int c = 0; c < CNN_CLASSES; c++) {
            logits[c] = fb[c];
            for (size_t k = 0; k < K; k++)
                logits[c] += fw[c * K + k] * m[k];
            top = logits[c] > top ? logits[c] : top;
        }
        double sum = 0.0;
        for (int c = 0; c < CNN_CLASSES; c++)
            sum += exp(logits[c] - top);
        total += log(sum) - (logits[pb->y[b]] - top);
    }
    free(m);
    return total / pb->batch;
}

static void gradcheck(int batch, int filters, uint64_t seed)
{
    const struct cnn_backend *seq = cnn_backend_with_cap(CNN_CAP_REFERENCE);
    struct cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    float *x = malloc((size_t)batch * CNN_PIXELS * sizeof *x);
    uint8_t *y = malloc((size_t)batch);
    for (size_t i = 0; i < (size_t)batch * CNN_PIXELS; i++)
        x[i] = (float)cnn_rng_below(&rng, 256) / 255.0f;
    for (int i = 0; i < batch; i++)
        y[i] = (uint8_t)cnn_rng_below(&rng, CNN_CLASSES);
    struct problem pb = {batch, filters, x, y};

    struct cnn_params params, grads;
    CHECK_OK(cnn_params_alloc(&params, filters));
    CHECK_OK(cnn_params_alloc(&grads, filters));
    cnn_params_init(&params, seed);

    struct cnn_config cfg = {.batch = batch, .filters = filters, .lr = 0.1f};
    cnn_state *s;
    struct cnn_step_result r;
    CHECK_OK(seq->create(&cfg, &s));
    CHECK_OK(seq->set_params(s, &params));
    CHECK_OK(cnn_step(seq, s, x, y, batch, &r));
    CHECK_OK(seq->get_grads(s, &grads));
    seq->destroy(s);

    size_t n = params.count, sig_len = (size_t)batch * cnn_features(filters);
    double *theta = malloc(n * sizeof *theta);
    uint8_t *sig0 = malloc(sig_len), *sig = malloc(sig_len);
    for (size_t i = 0; i < n; i++)
        theta[i] = params.buf[i];
    double l0 = loss_double(&pb, theta, sig0);
    check(fabs(l0 - r.loss) <= 1e-5 * fabs(l0),
          "B=%d F=%d: seq loss %.9g matches the double forward %.9g", batch, filters, r.loss, l0);

    /* all conv weights and biases, all FC biases, and a sample of FC weights */
    size_t fc_w_at = (size_t)(params.fc_w - params.buf), fc_b_at = (size_t)(params.fc_b - params.buf);
    size_t checked = 0, skipped = 0, failed = 0, worst = 0;
    double worst_excess = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        int is_fc_w = i >= fc_w_at && i < fc_b_at;
        if (is_fc_w && cnn_rng_below(&rng, 20) != 0)
            continue;
        double saved = theta[i];
        theta[i] = saved + GC_EPS;
        double lp = loss_double(&pb, theta, sig);
        int kink = memcmp(sig, sig0, sig_len) != 0;
        theta[i] = saved - GC_EPS;
        double lm = loss_double(&pb, theta, sig);
        kink |= memcmp(sig, sig0, sig_len) != 0;
        theta[i] = saved;
        checked++;
        if (kink) {
            skipped++;
            continue;
        }
        double num = (lp - lm) / (2 * GC_EPS), ana = grads.buf[i];
        double excess = fabs(num - ana) - (GC_ATOL + GC_RTOL * fabs(num));
        if (!(excess <= 0.0))
            failed++;
        if (!(excess <= worst_excess)) {
            worst_excess = excess;
            worst = i;
        }
    }
    check(failed == 0,
          "B=%d F=%d: %zu of %zu gradients outside %g + %g|num| (worst [%zu], excess %.3g)",
          batch, filters, failed, checked - skipped, GC_ATOL, GC_RTOL, worst, worst_excess);
    check((double)skipped <= GC_MAX_SKIPPED * (double)checked,
          "B=%d F=%d: %zu of %zu perturbations crossed a ReLU/pool kink and were skipped", batch,
          filters, skipped, checked);

    cnn_params_free(&params);
    cnn_params_free(&grads);
    free(theta);
    free(sig0);
    free(sig);
    free(x);
    free(y);
}

int main(void)
{
    check_name = "gradcheck";
    gradcheck(2, 1, 11);
    gradcheck(4, 3, 12);
    gradcheck(7, 5, 13);
    return check_finish();
}
