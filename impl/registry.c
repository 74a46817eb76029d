/*
 * registry.c — the list of backends this build contains, and the checks of
 * the contract: at start-up, that every backend fills every slot it claims
 * (no silent fallback to another backend's code, docs/DESIGN.md §3); at
 * create, that a configuration asks only what its backend claims.
 *
 * The list is generated: each backend's meson.build adds its name to
 * cnn_backend_names (impl/meson.build), which becomes CNN_BACKEND_LIST in
 * cnnbench_config.h, one CNN_BACKEND(name) per built backend in the order
 * of the subdir() calls (seq first: it is the reference). The table of
 * backend NAME is `cnn_backend_NAME`.
 */
#include <stdio.h>
#include <string.h>

#include "cnn.h"
#include "cnnbench_config.h"
#include "error.h"

#define CNN_BACKEND(name) extern const struct cnn_backend cnn_backend_##name;
CNN_BACKEND_LIST
#undef CNN_BACKEND

const struct cnn_backend *const cnn_backends[] = {
#define CNN_BACKEND(name) &cnn_backend_##name,
    CNN_BACKEND_LIST
#undef CNN_BACKEND
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
    if (be->caps & CNN_CAP_VARIANTS)
        REQUIRE_SLOT(be, variant_names);
    if (be->caps & CNN_CAP_REFERENCE)
        REQUIRE_SLOT(be, set_pool_choice);
    if (be->caps & CNN_CAP_DEVICE) {
        REQUIRE_SLOT(be, timer_mark);
        REQUIRE_SLOT(be, timer_read);
    }
    if (be->caps & (CNN_CAP_DATA_PARALLEL | CNN_CAP_RANKS)) {
        REQUIRE_SLOT(be, allreduce);
        REQUIRE_SLOT(be, data_parallel);
    } else if (be->allreduce || be->data_parallel) {
        return cnn_fail(CNN_E_ARG, "backend '%s' fills allreduce or data_parallel without "
                        "claiming CNN_CAP_DATA_PARALLEL or CNN_CAP_RANKS", be->name);
    }
    if (be->variant_count < 1)
        return cnn_fail(CNN_E_ARG, "backend '%s' has no variants", be->name);
    return CNN_OK;
}

/* "cuda" or "cuda, other": the backends of this build that claim cap. */
static int names_with_cap(unsigned cap, char *buf, size_t len)
{
    size_t used = 0;
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; cnn_backends[i]; i++) {
        if (!(cnn_backends[i]->caps & cap) || used >= len)
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", n ? ", " : "", cnn_backends[i]->name);
        if (w > 0)
            used += (size_t)w;
        n++;
    }
    return n;
}

/* The communicator of a data-parallel job of processes, if any (cnn.h). */
static cnn_status comm_check(const struct cnn_backend *be, const struct cnn_config *cfg)
{
    const struct cnn_comm *c = cfg->comm;
    const char *name = be->name;
    if (!c)
        return CNN_OK;
    if (!(be->caps & CNN_CAP_RANKS)) {
        char able[256];
        names_with_cap(CNN_CAP_RANKS, able, sizeof able);
        return cnn_fail(CNN_E_ARG, "%s: backend %s does not train as one of several processes "
                        "(mpirun, srun); these do: %s", name, name, able[0] ? able : "none");
    }
    if (cfg->gpus != 0)
        return cnn_fail(CNN_E_ARG, "%s: gpus = %d in a job of %d processes: each process "
                        "drives one GPU; leave gpus at 0", name, cfg->gpus, c->size);
    if (c->size < 1 || c->rank < 0 || c->rank >= c->size || c->local_rank < 0 || !c->sum ||
        !c->broadcast)
        return cnn_fail(CNN_E_ARG, "%s: an invalid communicator (rank %d of %d)", name, c->rank,
                        c->size);
    if (c->global_batch < cfg->batch || c->global_batch > CNN_MAX_BATCH)
        return cnn_fail(CNN_E_ARG, "%s: a share of %d images of a global batch of %d", name,
                        cfg->batch, c->global_batch);
    return CNN_OK;
}

cnn_status cnn_config_check(const struct cnn_backend *be, const struct cnn_config *cfg)
{
    const char *name = be->name;
    if (cfg->batch < 1 || cfg->batch > CNN_MAX_BATCH)
        return cnn_fail(CNN_E_ARG, "%s: batch must be in 1..%d, got %d", name, CNN_MAX_BATCH,
                        cfg->batch);
    if (cfg->filters < 1 || cfg->filters > CNN_MAX_FILTERS)
        return cnn_fail(CNN_E_ARG, "%s: filters must be in 1..%d, got %d", name,
                        CNN_MAX_FILTERS, cfg->filters);
    if (cfg->threads < 0)
        return cnn_fail(CNN_E_ARG, "%s: threads must be >= 0, got %d", name, cfg->threads);
    if (cfg->threads > 0 && !(be->caps & CNN_CAP_THREADS))
        return cnn_fail(CNN_E_ARG, "%s: threads = %d, but backend %s does not take a thread "
                        "count", name, cfg->threads, name);
    if (cfg->variant < 0)
        return cnn_fail(CNN_E_ARG, "%s: variant must be >= 0, got %d", name, cfg->variant);
    if (cfg->variant > 0 && !(be->caps & CNN_CAP_VARIANTS))
        return cnn_fail(CNN_E_ARG, "%s: variant = %d, but backend %s has no kernel variants",
                        name, cfg->variant, name);
    if (cfg->variant > be->variant_count)
        return cnn_fail(CNN_E_ARG, "%s: backend %s has variants 1..%d, not %d", name, name,
                        be->variant_count, cfg->variant);
    if (cfg->gpus < 0)
        return cnn_fail(CNN_E_ARG, "%s: gpus must be 0 (one device) or a count >= 1, got %d",
                        name, cfg->gpus);
    if (cfg->gpus >= 1 && !(be->caps & CNN_CAP_DATA_PARALLEL)) {
        char able[256];
        if (names_with_cap(CNN_CAP_DATA_PARALLEL, able, sizeof able) > 0)
            return cnn_fail(CNN_E_ARG, "%s: gpus = %d: backend %s does not train over several "
                            "GPUs; only %s trains over several GPUs", name, cfg->gpus, name,
                            able);
        /* No backend of this build has the capability; the one that can
         * gain it is named here, the one place that knows backends by name. */
        return cnn_fail(CNN_E_ARG, "%s: gpus = %d: no backend of this build trains over "
                        "several GPUs; only cuda trains over several GPUs, built with NCCL "
                        "(meson setup -Dnccl=enabled [-Dnccl_root=DIR])", name, cfg->gpus);
    }
    return comm_check(be, cfg);
}

int cnn_library_version(const char *library, char *buf, size_t len)
{
    for (int i = 0; cnn_backends[i]; i++)
        if (cnn_backends[i]->library_version &&
            cnn_backends[i]->library_version(library, buf, len))
            return 1;
    snprintf(buf, len, "none");
    return 0;
}
