/* agree.c — tolerance checks between a backend and the reference (docs/DESIGN.md §4). */
#include "agree.h"

#include <math.h>

#include "error.h"

struct cnn_elementwise cnn_agree_elementwise(const float *a, const float *b, size_t n,
                                             double atol, double rtol)
{
    struct cnn_elementwise r = {0, 0, 0.0, 0.0};
    double worst_excess = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double diff = fabs((double)a[i] - (double)b[i]);
        double tol = atol + rtol * fabs((double)b[i]);
        if (!(diff <= tol)) {
            double excess = isnan(diff) ? INFINITY : diff - tol;
            if (r.violations == 0 || excess > worst_excess) {
                worst_excess = excess;
                r.worst = i;
                r.worst_a = a[i];
                r.worst_b = b[i];
            }
            r.violations++;
        }
    }
    return r;
}

struct cnn_tensorwise cnn_agree_tensorwise(const float *a, const float *b, size_t n)
{
    double max_diff = 0.0, max_ref = 0.0, sq_diff = 0.0, sq_ref = 0.0;
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i]))
            finite = 0;
        double d = fabs((double)a[i] - (double)b[i]);
        double r = fabs((double)b[i]);
        max_diff = d > max_diff ? d : max_diff;
        max_ref = r > max_ref ? r : max_ref;
        sq_diff += d * d;
        sq_ref += r * r;
    }
    struct cnn_tensorwise t;
    t.finite = finite;
    /* an all-zero reference agrees only with an all-zero candidate */
    t.max_rel = max_ref > 0.0 ? max_diff / max_ref : (max_diff > 0.0 ? INFINITY : 0.0);
    t.l2_rel = sq_ref > 0.0 ? sqrt(sq_diff / sq_ref) : (sq_diff > 0.0 ? INFINITY : 0.0);
    return t;
}

int cnn_tensorwise_ok(struct cnn_tensorwise t)
{
    return t.finite && t.max_rel <= CNN_AGREE_GRAD_MAX_REL && t.l2_rel <= CNN_AGREE_GRAD_L2_REL;
}

struct named_tensor {
    const char *name;
    const float *a, *b;
    size_t n;
};

static int tensors(const struct cnn_params *a, const struct cnn_params *b,
                   struct named_tensor out[4])
{
    size_t f = (size_t)b->filters;
    out[0] = (struct named_tensor){"conv_w", a->conv_w, b->conv_w, f * CNN_KTAPS};
    out[1] = (struct named_tensor){"conv_b", a->conv_b, b->conv_b, f};
    out[2] = (struct named_tensor){"fc_w", a->fc_w, b->fc_w, CNN_CLASSES * cnn_features(b->filters)};
    out[3] = (struct named_tensor){"fc_b", a->fc_b, b->fc_b, CNN_CLASSES};
    return 4;
}

cnn_status cnn_agree_params(const struct cnn_params *a, const struct cnn_params *b)
{
    if (a->filters != b->filters)
        return cnn_fail(CNN_E_ARG, "comparing parameters of %d and %d filters", a->filters, b->filters);
    struct named_tensor t[4];
    int n = tensors(a, b, t);
    for (int i = 0; i < n; i++) {
        struct cnn_elementwise r = cnn_agree_elementwise(t[i].a, t[i].b, t[i].n,
                                                         CNN_AGREE_PARAM_ATOL, CNN_AGREE_PARAM_RTOL);
        if (r.violations)
            return cnn_fail(CNN_E_DATA,
                            "parameters disagree with the reference: %s has %zu elements outside "
                            "%g + %g|ref|, worst [%zu] %.9g vs %.9g",
                            t[i].name, r.violations, CNN_AGREE_PARAM_ATOL, CNN_AGREE_PARAM_RTOL,
                            r.worst, r.worst_a, r.worst_b);
    }
    return CNN_OK;
}

cnn_status cnn_agree_grads(const struct cnn_params *a, const struct cnn_params *b)
{
    if (a->filters != b->filters)
        return cnn_fail(CNN_E_ARG, "comparing gradients of %d and %d filters", a->filters, b->filters);
    struct named_tensor t[4];
    int n = tensors(a, b, t);
    for (int i = 0; i < n; i++) {
        struct cnn_tensorwise r = cnn_agree_tensorwise(t[i].a, t[i].b, t[i].n);
        if (!cnn_tensorwise_ok(r))
            return cnn_fail(CNN_E_DATA,
                            "gradient d%s disagrees with the reference: max-rel %.3g (tol %g), "
                            "L2-rel %.3g (tol %g)%s",
                            t[i].name, r.max_rel, CNN_AGREE_GRAD_MAX_REL, r.l2_rel,
                            CNN_AGREE_GRAD_L2_REL, r.finite ? "" : ", non-finite values");
    }
    return CNN_OK;
}
