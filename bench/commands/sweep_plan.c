/*
 * sweep_plan.c — the plan of a sweep from its options: the backends (--impl,
 * or every one that runs here), a preset's blocks or the one block of the
 * axes given, each axis on the command line replacing the preset's, then
 * plan.h's expansion.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"
#include "error.h"
#include "run.h"
#include "sweep.h"

/* Backends of the run: the --impl list (every one must run here), or every
 * built backend that runs here, with a note for those that do not. */
static cnn_status choose_backends(const struct sweep_opts *o, const struct cnn_backend **out,
                                  int *n, int *usage)
{
    *n = 0;
    if (o->impl_list) {
        char buf[256];
        const char *words[PLAN_MAX_IMPLS];
        int nw;
        *usage = 1;
        if (strlen(o->impl_list) >= sizeof buf)
            return cnn_fail(CNN_E_ARG, "--impl: list too long");
        strcpy(buf, o->impl_list);
        CNN_TRY(cli_split_words("impl", buf, words, PLAN_MAX_IMPLS, &nw));
        for (int i = 0; i < nw; i++) {
            const struct cnn_backend *be;
            CNN_TRY(backends_find(words[i], &be));
            int dup = 0;
            for (int j = 0; j < *n; j++)
                dup |= out[j] == be;
            if (!dup)
                out[(*n)++] = be;
        }
        *usage = 0;
        for (int i = 0; i < *n; i++)
            CNN_TRY(backends_probe(out[i]));
        return CNN_OK;
    }
    for (int i = 0; cnn_backends[i] && *n < PLAN_MAX_IMPLS; i++) {
        if (backends_probe(cnn_backends[i]) == CNN_OK)
            out[(*n)++] = cnn_backends[i];
        else
            fprintf(stderr, "cnnbench: note: skipping %s\n", cnn_last_error());
    }
    if (*n == 0)
        return cnn_fail(CNN_E_UNAVAILABLE, "no backend runs on this machine");
    return CNN_OK;
}

/* A GPU count >= 1 that no chosen backend can take is an error, not a
 * silent skip: the likely cause is a build without NCCL, and the message of
 * cnn_config_check (for the first chosen backend) names the backends that
 * can. */
static cnn_status check_gpus_axis(const struct sweep_opts *o, const struct cnn_backend **impls,
                                  int n_impls)
{
    int gpus = 0;
    for (int g = 0; g < o->gpus.n; g++)
        if (o->gpus.v[g] > 0)
            gpus = o->gpus.v[g];
    if (gpus == 0 || n_impls == 0)
        return CNN_OK;
    for (int i = 0; i < n_impls; i++)
        if (impls[i]->caps & CNN_CAP_DATA_PARALLEL)
            return CNN_OK;
    /* any valid sizes: only the GPU count is in question */
    return cnn_config_check(impls[0],
                            &(struct cnn_config){.batch = 1, .filters = 1, .gpus = gpus});
}

static cnn_status build_blocks(const struct sweep_opts *o, const struct cnn_backend **impls,
                               int n_impls, struct plan_block *blocks, int *nblocks)
{
    static const int default_batch = 100, default_filters = 32;
    int default_steps = o->sampling.max_noise > 0 ? RUN_NOISE_DEFAULT_CAP : 20;
    if (o->preset) {
        CNN_TRY(plan_preset(o->preset, (int)sysconf(_SC_NPROCESSORS_ONLN), blocks, nblocks));
    } else {
        memset(&blocks[0], 0, sizeof blocks[0]);
        blocks[0].name = "sweep";
        blocks[0].batch = (struct cli_axis){1, {default_batch}};
        blocks[0].filters = (struct cli_axis){1, {default_filters}};
        blocks[0].length = (struct cli_axis){1, {default_steps}};
        *nblocks = 1;
    }
    for (int b = 0; b < *nblocks; b++) {
        struct plan_block *blk = &blocks[b];
        memcpy(blk->impls, impls, (size_t)n_impls * sizeof *impls);
        blk->n_impls = n_impls;
        if (o->all_variants || o->variants.n) {
            blk->all_variants = o->all_variants;
            blk->variants = o->variants;
        }
        if (o->threads.n)
            blk->threads = o->threads;
        if (o->gpus.n)
            blk->gpus = o->gpus;
        if (o->ranks.n)
            blk->ranks = o->ranks;
        if (o->scaling)
            blk->scaling = o->scaling;
        if (o->batch.n)
            blk->batch = o->batch;
        if (o->filters.n)
            blk->filters = o->filters;
        if (o->length.n)
            blk->length = o->length;
        if (o->eval_every >= 0)
            blk->eval_every = o->eval_every;
    }
    return CNN_OK;
}

long sweep_config_steps(const struct plan_config *c, int by_epochs, uint32_t train_n)
{
    return by_epochs ? run_epoch_steps(c->length, train_n, c->batch) : c->length;
}

cnn_status sweep_plan(const struct sweep_opts *o, struct plan *plan, int *usage)
{
    const struct cnn_backend *impls[PLAN_MAX_IMPLS];
    int n_impls;
    struct plan_block blocks[PLAN_MAX_BLOCKS];
    int nblocks;
    *usage = 1;
    CNN_TRY(choose_backends(o, impls, &n_impls, usage));
    *usage = 1;
    CNN_TRY(check_gpus_axis(o, impls, n_impls));
    CNN_TRY(build_blocks(o, impls, n_impls, blocks, &nblocks));
    CNN_TRY(plan_build(blocks, nblocks, o->reps, o->by_epochs, plan));
    if (plan->n == 0) {
        plan_free(plan);
        return cnn_fail(CNN_E_ARG, "the axes leave no configuration to run (a --variant or "
                        "--threads value no chosen backend takes?)");
    }
    *usage = 0;
    return CNN_OK;
}
