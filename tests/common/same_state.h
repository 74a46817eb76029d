/*
 * same_state.h — what the tests of a cuda execution mode share (a CUDA
 * graph, a persistent kernel, against the same kernels launched one by
 * one): the backend, probed, and two states compared bit for bit after
 * the same training.
 */
#ifndef CNN_TEST_SAME_STATE_H
#define CNN_TEST_SAME_STATE_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cnn.h"
#include "params.h"

/* The cuda backend with at least `variant` variants, validated; NULL with
 * *skip set when it cannot run here (no GPU: the test exits CHECK_SKIP). */
static const struct cnn_backend *cuda_for_test(int variant, int *skip)
{
    *skip = 0;
    const struct cnn_backend *be = cnn_backend_find("cuda");
    if (!be) {
        check(0, "the cuda backend is not built");
        return NULL;
    }
    CHECK_OK(cnn_backend_validate(be));
    cnn_status st = be->probe();
    if (st == CNN_E_UNAVAILABLE) {
        printf("%s: skipped: %s\n", check_name, cnn_last_error());
        *skip = 1;
        return NULL;
    }
    CHECK_OK(st);
    check(be->variant_count >= variant, "cuda has variants up to v%d", variant);
    return be;
}

/* a and b (batch B, F filters, trained alike): parameters, the last step's
 * gradients and pool decisions bitwise equal. */
static void check_same_state(const struct cnn_backend *be, cnn_state *a, cnn_state *b, int batch,
                             int filters)
{
    struct cnn_params pa, pb;
    CHECK_OK(cnn_params_alloc(&pa, filters));
    CHECK_OK(cnn_params_alloc(&pb, filters));
    CHECK_OK(be->get_params(a, &pa));
    CHECK_OK(be->get_params(b, &pb));
    check(memcmp(pa.buf, pb.buf, pa.count * sizeof *pa.buf) == 0,
          "B=%d F=%d: parameters bitwise equal", batch, filters);
    CHECK_OK(be->get_grads(a, &pa));
    CHECK_OK(be->get_grads(b, &pb));
    check(memcmp(pa.buf, pb.buf, pa.count * sizeof *pa.buf) == 0,
          "B=%d F=%d: the last step's gradients bitwise equal", batch, filters);
    size_t choices = (size_t)batch * cnn_features(filters);
    uint8_t *ca = malloc(choices), *cb = malloc(choices);
    if (!ca || !cb) {
        check(0, "cannot allocate %zu pool decisions", choices);
        exit(check_finish());
    }
    memset(cb, 0xAA, choices); /* differs from any decision, so unwritten fails */
    CHECK_OK(be->get_pool_choice(a, ca));
    CHECK_OK(be->get_pool_choice(b, cb));
    check(memcmp(ca, cb, choices) == 0, "B=%d F=%d: the last step's pool decisions equal", batch,
          filters);
    free(ca);
    free(cb);
    cnn_params_free(&pa);
    cnn_params_free(&pb);
}

#endif
