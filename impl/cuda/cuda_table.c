/*
 * cuda_table.c — the CUDA backend as the harness sees it: one
 * `struct cnn_backend` whose slots are the C-linkage functions of the .cu
 * files (declared in cuda_backend.h). Written in C so the table can use
 * designated initialisers, and so the C side links it like any backend.
 */
#include "cnnbench_config.h"
#include "cuda_backend.h"

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
};

#if CNN_HAVE_NCCL
/* cfg.gpus >= 1: the same kernels on every GPU, gradients summed by NCCL
 * (cuda_parallel.cu) */
static const struct cnn_backend cuda_data_parallel = {
    .name = "cuda",
    .description = "CUDA C kernels, data-parallel over several GPUs through NCCL",
    .caps = CNN_CAP_VARIANTS | CNN_CAP_DEVICE,
    .variant_count = CUDA_VARIANT_COUNT,
    .variant_names = cuda_variant_names,
    .probe = cuda_probe,
    .create = cuda_dp_create,
    .destroy = cuda_dp_destroy,
    .set_params = cuda_dp_set_params,
    .get_params = cuda_dp_get_params,
    .get_grads = cuda_dp_get_grads,
    .load_batch = cuda_dp_load_batch,
    .batch_buffer = cuda_dp_batch_buffer,
    .conv_forward = cuda_dp_conv_forward,
    .fc_forward = cuda_dp_fc_forward,
    .loss_forward = cuda_dp_loss_forward,
    .loss_backward = cuda_dp_loss_backward,
    .fc_backward = cuda_dp_fc_backward,
    .conv_backward = cuda_dp_conv_backward,
    .allreduce = cuda_dp_allreduce,
    .update = cuda_dp_update,
    .read_metrics = cuda_dp_read_metrics,
    .get_logits = cuda_dp_get_logits,
    .set_logit_grad = cuda_dp_set_logit_grad,
    .get_pool_choice = cuda_dp_get_pool_choice,
    .predict = cuda_dp_predict,
    .set_variant = cuda_dp_set_variant,
    .timer_mark = cuda_dp_timer_mark,
    .timer_read = cuda_dp_timer_read,
};
#endif

const struct cnn_backend cnn_backend_cuda = {
    .name = "cuda",
    .description = "CUDA C kernels, GPU-resident training (hand-written, no cuDNN/cuBLAS)",
    .caps = CNN_CAP_VARIANTS | CNN_CAP_DEVICE,
    .variant_count = CUDA_VARIANT_COUNT,
    .variant_names = cuda_variant_names,
    .probe = cuda_probe,
    .create = cuda_create,
    .destroy = cuda_destroy,
    .set_params = cuda_set_params,
    .get_params = cuda_get_params,
    .get_grads = cuda_get_grads,
    .load_batch = cuda_load_batch,
    .batch_buffer = cuda_batch_buffer,
    .conv_forward = cuda_conv_forward,
    .fc_forward = cuda_fc_forward,
    .loss_forward = cuda_loss_forward,
    .loss_backward = cuda_loss_backward,
    .fc_backward = cuda_fc_backward,
    .conv_backward = cuda_conv_backward,
    .update = cuda_update,
    .read_metrics = cuda_read_metrics,
    .get_logits = cuda_get_logits,
    .set_logit_grad = cuda_set_logit_grad,
    .get_pool_choice = cuda_get_pool_choice,
    .predict = cuda_predict,
    .set_variant = cuda_set_variant,
    .timer_mark = cuda_timer_mark,
    .timer_read = cuda_timer_read,
#if CNN_HAVE_NCCL
    .data_parallel = &cuda_data_parallel,
#endif
};
