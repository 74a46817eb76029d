/*
 * cuda_table.c — the CUDA backend as the harness sees it: one
 * `struct cnn_backend` whose slots are the C-linkage functions of the .cu
 * files (declared in cuda_backend.h). Written in C so the table can use
 * designated initialisers, and so the C side links it like any backend.
 *
 * One table, two modes, chosen by create from cfg->gpus and cfg->comm: 0 and
 * no comm make a one-GPU state (cuda_backend.cu), N >= 1 a data-parallel
 * group of N one-GPU states joined by NCCL, and a comm a group of this
 * process's one GPU whose NCCL communicator spans the job's processes
 * (cuda_parallel.cu; NCCL builds only, where the table claims
 * CNN_CAP_DATA_PARALLEL and CNN_CAP_RANKS). In an NCCL build each slot asks the state which
 * mode it is in (one predictable branch a call, next to a kernel launch) and
 * calls that mode's function; without NCCL the slots are the one-GPU
 * functions themselves.
 */
#include "cnnbench_config.h"
#include "cuda_backend.h"
#include "error.h"

static const char *const cuda_variant_names[CUDA_VARIANT_COUNT] = {
    [CUDA_VARIANT_NAIVE - 1] = "v1: one thread per image, global memory only "
                               "(the original numba design)",
    [CUDA_VARIANT_FUSED - 1] = "v2: fused conv+bias+ReLU+pool, split-K FC forward, "
                               "single-pass FC backward, fixed-order reductions",
    [CUDA_VARIANT_TUNED - 1] = "v3: v2 reshaped for memory-level parallelism: cp.async "
                               "pipelines in conv backward and FC forward, fewer idle lanes",
    [CUDA_VARIANT_DM_IN_CONV - 1] = "v4: v3 with dm formed inside conv backward from dlogits "
                                    "and fc_w, so it is never stored (346 MB less traffic at "
                                    "B=1000 F=256)",
    [CUDA_VARIANT_RECOMPUTE - 1] = "v5: neither m nor dm stored: conv+pool fused with the FC "
                                   "products forward; backward recomputes m at the stored pool "
                                   "decision and forms dm in registers",
    [CUDA_VARIANT_GRAPH - 1] = "v6: v3's kernels, each timed step replayed as one CUDA graph "
                               "(bitwise equal to v3; data-parallel: v3's slots)",
    [CUDA_VARIANT_PERSISTENT - 1] = "v7: each timed step one persistent cooperative kernel, its "
                                    "phases split by grid barriers (for launch-bound sizes; "
                                    "eager phases outside timed steps)",
};

extern const struct cnn_backend cnn_backend_cuda;

static cnn_status create(const struct cnn_config *cfg, cnn_state **out)
{
    CNN_TRY(cnn_config_check(&cnn_backend_cuda, cfg));
#if CNN_HAVE_NCCL
    if (cfg->gpus >= 1 || cfg->comm)
        return cuda_dp_create(cfg, out);
#endif
    return cuda_create(cfg, out);
}

#if CNN_HAVE_NCCL
/* The function of slot `slot` in the mode of state s. */
#define MODE(s, slot) (cuda_is_group(s) ? cuda_dp_##slot : cuda_##slot)

static void destroy(cnn_state *s)
{
    if (s)
        MODE(s, destroy)(s);
}
static cnn_status set_params(cnn_state *s, const struct cnn_params *p)
{
    return MODE(s, set_params)(s, p);
}
static cnn_status get_params(cnn_state *s, struct cnn_params *p)
{
    return MODE(s, get_params)(s, p);
}
static cnn_status get_grads(cnn_state *s, struct cnn_params *g)
{
    return MODE(s, get_grads)(s, g);
}
static cnn_status load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    return MODE(s, load_batch)(s, x, y, n);
}
static cnn_status batch_buffer(cnn_state *s, float **x, uint8_t **y)
{
    return MODE(s, batch_buffer)(s, x, y);
}
static cnn_status conv_forward(cnn_state *s) { return MODE(s, conv_forward)(s); }
static cnn_status fc_forward(cnn_state *s) { return MODE(s, fc_forward)(s); }
static cnn_status loss_forward(cnn_state *s) { return MODE(s, loss_forward)(s); }
static cnn_status loss_backward(cnn_state *s) { return MODE(s, loss_backward)(s); }
static cnn_status fc_backward(cnn_state *s) { return MODE(s, fc_backward)(s); }
static cnn_status conv_backward(cnn_state *s) { return MODE(s, conv_backward)(s); }
static cnn_status update(cnn_state *s) { return MODE(s, update)(s); }
static cnn_status read_metrics(cnn_state *s, double *loss, int *correct)
{
    return MODE(s, read_metrics)(s, loss, correct);
}
static cnn_status get_logits(cnn_state *s, float *logits) { return MODE(s, get_logits)(s, logits); }
static cnn_status set_logit_grad(cnn_state *s, const float *dlogits)
{
    return MODE(s, set_logit_grad)(s, dlogits);
}
static cnn_status get_pool_choice(cnn_state *s, uint8_t *choice)
{
    return MODE(s, get_pool_choice)(s, choice);
}
static cnn_status predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    return MODE(s, predict)(s, x, n, pred);
}
static cnn_status timer_mark(cnn_state *s, enum cnn_region r, int end)
{
    return MODE(s, timer_mark)(s, r, end);
}
static cnn_status timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms)
{
    return MODE(s, timer_read)(s, ms, span_ms);
}
static cnn_status device_bus_id(cnn_state *s, int i, char *buf, size_t len)
{
    return MODE(s, device_bus_id)(s, i, buf, len);
}
static int data_parallel(const cnn_state *s) { return cuda_is_group(s); }
#define SLOT(name) name
#else
#define SLOT(name) cuda_##name
#endif

const struct cnn_backend cnn_backend_cuda = {
    .name = "cuda",
    .description = "CUDA C kernels, GPU-resident training (hand-written, no cuDNN/cuBLAS)",
    .caps = CNN_CAP_VARIANTS | CNN_CAP_DEVICE |
            (CNN_HAVE_NCCL ? CNN_CAP_DATA_PARALLEL | CNN_CAP_RANKS : 0),
    .variant_count = CUDA_VARIANT_COUNT,
    .variant_names = cuda_variant_names,
    .fma_regions = CNN_REGION_BIT(CNN_REGION_CONV_FWD) | CNN_REGION_BIT(CNN_REGION_FC_FWD) |
                   CNN_REGION_BIT(CNN_REGION_FC_BWD) | CNN_REGION_BIT(CNN_REGION_CONV_BWD), /* nvcc contracts (-fmad=true) */
    .dm_in_conv_backward = 1u << CUDA_VARIANT_DM_IN_CONV,
    .m_recomputed = 1u << CUDA_VARIANT_RECOMPUTE,
    .probe = cuda_probe,
    .create = create,
    .destroy = SLOT(destroy),
    .set_params = SLOT(set_params),
    .get_params = SLOT(get_params),
    .get_grads = SLOT(get_grads),
    .load_batch = SLOT(load_batch),
    .batch_buffer = SLOT(batch_buffer),
    .conv_forward = SLOT(conv_forward),
    .fc_forward = SLOT(fc_forward),
    .loss_forward = SLOT(loss_forward),
    .loss_backward = SLOT(loss_backward),
    .fc_backward = SLOT(fc_backward),
    .conv_backward = SLOT(conv_backward),
    .update = SLOT(update),
    .read_metrics = SLOT(read_metrics),
    .get_logits = SLOT(get_logits),
    .set_logit_grad = SLOT(set_logit_grad),
    .get_pool_choice = SLOT(get_pool_choice),
    .predict = SLOT(predict),
    .timer_mark = SLOT(timer_mark),
    .timer_read = SLOT(timer_read),
    .replays_step = cuda_replays_step,
    .device_bus_id = SLOT(device_bus_id),
#if CNN_HAVE_NCCL
    .allreduce = cuda_dp_allreduce,
    .data_parallel = data_parallel,
    .library_version = cuda_library_version,
#endif
};
