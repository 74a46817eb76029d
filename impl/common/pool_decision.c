/* pool_decision.c — admissible max-pool decisions under any summation order (pool_decision.h). */
#include "pool_decision.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Terms of one pre-activation: the bias and the 3x3 products. */
enum { POOL_TERMS = 1 + CNN_KTAPS, POOL_POSITIONS = CNN_POOLW * CNN_POOLW };

/* gamma_n for float32: the worst relative rounding of an n-term sum, any
 * order, products rounded or fused. */
static double gamma_terms(void)
{
    double u = ldexp(1.0, -24);
    return POOL_TERMS * u / (1.0 - POOL_TERMS * u);
}

struct window {
    double z[POOL_POSITIONS];     /* exact pre-activations */
    double err[POOL_POSITIONS];   /* bound on any float32 evaluation's error */
    const float *patch[POOL_POSITIONS]; /* top-left pixel of each 3x3 patch */
};

static void window_eval(const float *x, const struct cnn_params *p, size_t k, struct window *w)
{
    int f = (int)(k / CNN_POOL_AREA), pos = (int)(k % CNN_POOL_AREA);
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    const float *cw = p->conv_w + (size_t)f * CNN_KTAPS;
    /* the double sum itself is off by at most POOL_TERMS * DBL_EPSILON * mag */
    double slack = gamma_terms() + POOL_TERMS * DBL_EPSILON;
    for (int d = 0; d < POOL_POSITIONS; d++) {
        const float *patch = x + (CNN_POOLW * i + d / CNN_POOLW) * CNN_IMG + CNN_POOLW * j +
                             d % CNN_POOLW;
        double z = p->conv_b[f], mag = fabs((double)p->conv_b[f]);
        for (int t = 0; t < CNN_KTAPS; t++) {
            double term = (double)cw[t] * patch[(t / CNN_KSIZE) * CNN_IMG + t % CNN_KSIZE];
            z += term;
            mag += fabs(term);
        }
        w->z[d] = z;
        w->err[d] = slack * mag;
        w->patch[d] = patch;
    }
}

/* Identical 3x3 patches: the same ten terms, so the same float z. */
static int same_patch(const struct window *w, int a, int b)
{
    for (int r = 0; r < CNN_KSIZE; r++)
        if (memcmp(w->patch[a] + r * CNN_IMG, w->patch[b] + r * CNN_IMG,
                   CNN_KSIZE * sizeof(float)) != 0)
            return 0;
    return 1;
}

int cnn_pool_admissible(const float *x, const struct cnn_params *p, size_t k, uint8_t got)
{
    if (got > CNN_POOL_NO_GRAD)
        return 0;
    struct window w;
    window_eval(x, p, k, &w);
    if (got == CNN_POOL_NO_GRAD) {
        /* every z may have come out <= 0 */
        for (int d = 0; d < POOL_POSITIONS; d++)
            if (!(w.z[d] - w.err[d] <= 0.0))
                return 0;
        return 1;
    }
    /* `got` wins when its z is as high as it may be and the others as low:
     * it must be > 0, beat every earlier position strictly and tie or beat
     * every later one; an identical patch is an exact tie, never a win. */
    double top = w.z[got] + w.err[got];
    if (!(top > 0.0))
        return 0;
    for (int d = 0; d < POOL_POSITIONS; d++) {
        if (d == got)
            continue;
        int same = same_patch(&w, d, got);
        double low = w.z[d] - w.err[d];
        if (d < got && (same || !(low < top)))
            return 0;
        if (d > got && !same && !(low <= top))
            return 0;
    }
    return 1;
}

struct cnn_pool_compare cnn_pool_compare(const float *x, int n, const struct cnn_params *p,
                                         const uint8_t *ref, const uint8_t *got)
{
    size_t K = cnn_features(p->filters);
    struct cnn_pool_compare c = {.windows = (size_t)n * K, .first_bad = SIZE_MAX};
    for (size_t at = 0; at < c.windows; at++) {
        if (got[at] == ref[at])
            continue;
        if (cnn_pool_admissible(x + at / K * CNN_PIXELS, p, at % K, got[at])) {
            c.flips++;
            continue;
        }
        if (c.inadmissible++ == 0) {
            c.first_bad = at;
            c.bad_ref = ref[at];
            c.bad_got = got[at];
        }
    }
    return c;
}

void cnn_pool_describe(size_t at, int filters, char *buf, size_t len)
{
    size_t K = cnn_features(filters), k = at % K;
    int pos = (int)(k % CNN_POOL_AREA);
    snprintf(buf, len, "image %zu, filter %zu, window (%d, %d)", at / K, k / CNN_POOL_AREA,
             pos / CNN_POOL, pos % CNN_POOL);
}
