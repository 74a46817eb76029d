/*
 * registry.c — the list of backends this build contains, and the start-up
 * check that every backend fills every slot it claims (no silent fallback to
 * another backend's code, docs/DESIGN.md §3).
 */
#include <string.h>

#include "cnn.h"
#include "cnnbench_config.h"
#include "error.h"

extern const struct cnn_backend cnn_backend_seq;
#if CNN_HAVE_OMP
extern const struct cnn_backend cnn_backend_omp;
#endif
#if CNN_HAVE_CUDA
extern const struct cnn_backend cnn_backend_cuda;
#endif
#if CNN_HAVE_CUDNN
extern const struct cnn_backend cnn_backend_cudnn;
#endif
#if CNN_HAVE_ONEDNN
extern const struct cnn_backend cnn_backend_onednn;
#endif

const struct cnn_backend *const cnn_backends[] = {
    &cnn_backend_seq,
#if CNN_HAVE_OMP
    &cnn_backend_omp,
#endif
#if CNN_HAVE_CUDA
    &cnn_backend_cuda,
#endif
#if CNN_HAVE_CUDNN
    &cnn_backend_cudnn,
#endif
#if CNN_HAVE_ONEDNN
    &cnn_backend_onednn,
#endif
    NULL,
};

const struct cnn_backend *cnn_backend_find(const char *name)
{
    for (int i = 0; cnn_backends[i]; i++)
        if (strcmp(cnn_backends[i]->name, name) == 0)
            return cnn_backends[i];
    return NULL;
}

const struct cnn_backend *cnn_backend_with_cap(unsigned cap)
{
    for (int i = 0; cnn_backends[i]; i++)
        if ((cnn_backends[i]->caps & cap) == cap)
            return cnn_backends[i];
    return NULL;
}

#define REQUIRE_SLOT(be, slot)                                                           \
    do {                                                                                 \
        if (!(be)->slot)                                                                 \
            return cnn_fail(CNN_E_ARG, "backend '%s' leaves slot '%s' empty", (be)->name, \
                            #slot);                                                      \
    } while (0)

cnn_status cnn_backend_validate(const struct cnn_backend *be)
{
    if (!be->name || !be->description)
        return cnn_fail(CNN_E_ARG, "a backend has no name or description");
    REQUIRE_SLOT(be, probe);
    REQUIRE_SLOT(be, create);
    REQUIRE_SLOT(be, destroy);
    REQUIRE_SLOT(be, set_params);
    REQUIRE_SLOT(be, get_params);
    REQUIRE_SLOT(be, get_grads);
    REQUIRE_SLOT(be, load_batch);
    REQUIRE_SLOT(be, conv_forward);
    REQUIRE_SLOT(be, fc_forward);
    REQUIRE_SLOT(be, loss_forward);
    REQUIRE_SLOT(be, loss_backward);
    REQUIRE_SLOT(be, fc_backward);
    REQUIRE_SLOT(be, conv_backward);
    REQUIRE_SLOT(be, update);
    REQUIRE_SLOT(be, read_metrics);
    REQUIRE_SLOT(be, get_logits);
    REQUIRE_SLOT(be, set_logit_grad);
    REQUIRE_SLOT(be, get_pool_choice);
    REQUIRE_SLOT(be, predict);
    if (be->caps & CNN_CAP_THREADS)
        REQUIRE_SLOT(be, set_threads);
    if (be->caps & CNN_CAP_VARIANTS) {
        REQUIRE_SLOT(be, set_variant);
        REQUIRE_SLOT(be, variant_names);
    }
    if (be->caps & CNN_CAP_REFERENCE)
        REQUIRE_SLOT(be, set_pool_choice);
    if (be->caps & CNN_CAP_DEVICE) {
        REQUIRE_SLOT(be, timer_mark);
        REQUIRE_SLOT(be, timer_read);
    }
    if (be->variant_count < 1)
        return cnn_fail(CNN_E_ARG, "backend '%s' has no variants", be->name);
    if (be->data_parallel) {
        const struct cnn_backend *dp = be->data_parallel;
        if (dp->data_parallel || !dp->name || strcmp(dp->name, be->name) != 0)
            return cnn_fail(CNN_E_ARG, "backend '%s': its data-parallel table must carry "
                            "its name and no table of its own", be->name);
        REQUIRE_SLOT(dp, allreduce);
        return cnn_backend_validate(dp);
    }
    return CNN_OK;
}

cnn_status cnn_backend_for_gpus(const struct cnn_backend *be, int gpus,
                                const struct cnn_backend **out)
{
    if (gpus < 0)
        return cnn_fail(CNN_E_ARG, "gpus must be 0 (one GPU, no NCCL) or a count >= 1, got %d",
                        gpus);
    if (gpus == 0) {
        *out = be;
        return CNN_OK;
    }
    if (be->data_parallel) {
        *out = be->data_parallel;
        return CNN_OK;
    }
    if (!(be->caps & CNN_CAP_DEVICE))
        return cnn_fail(CNN_E_ARG, "--gpus %d: backend %s runs on the CPU; only cuda trains "
                        "over several GPUs", gpus, be->name);
    if (!CNN_HAVE_NCCL && strcmp(be->name, "cuda") == 0)
        return cnn_fail(CNN_E_ARG, "--gpus %d: NCCL was not built in; rebuild with NCCL "
                        "(meson setup -Dnccl=enabled [-Dnccl_root=DIR])", gpus);
    return cnn_fail(CNN_E_ARG, "--gpus %d: backend %s has no multi-GPU mode; only cuda "
                    "trains over several GPUs", gpus, be->name);
}
