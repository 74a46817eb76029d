/*
 * cuda_loss.cu — softmax cross-entropy on the GPU, its logit gradient, and
 * the class prediction used by predict().
 *   forward   probs = softmax(logits) with the row maximum subtracted;
 *             loss sum = sum_b -log p[b][y_b] (double, fixed order);
 *             correct = #{b : argmax logits[b] == y_b}
 *   backward  dlogits = (probs - onehot(y)) / n, n the global batch when the
 *             state is one rank of a data-parallel step (cuda_parallel.cu)
 *
 * Variants:
 *   v1  one thread per image writes its loss and hit; a single thread then
 *       adds them in image order.
 *   v2  the kernels the cudnn backend runs too (gpu/gpu_loss.h): one block,
 *       each thread takes images t, t+1024, ... in order, then a fixed-order
 *       block reduction (warp butterfly, warps in order). Backward: one
 *       thread per (image, class).
 *   v3  forward: one thread per image over as many blocks as the batch
 *       needs (v2's single block is latency bound at large batches); each
 *       block reduces in a fixed order, and the last block to finish (an
 *       integer atomic counter) adds the block sums in block order, so the
 *       result does not depend on which block finishes last.
 *       Backward: the v2 kernel.
 *   v4, v5  v3's kernels.
 */
#include "cuda_internal.cuh"
#include "gpu/gpu_loss.cuh"

enum { LOSS_V1_THREADS = 128, LOSS3_THREADS = 256 };

/* ---- v1 ---- */

/* logits [n][C], y [n] -> probs [n][C], loss [n], hit [n]; thread = image */
__global__ void loss_forward_v1(const float *logits, const uint8_t *y, int n, float *probs,
                                double *loss, int *hit)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n)
        return;
    loss[b] = softmax_image(logits + (size_t)b * CNN_CLASSES, y[b],
                            probs + (size_t)b * CNN_CLASSES, &hit[b]);
}

/* loss [n], hit [n] -> out; one thread, image order */
__global__ void loss_sum_v1(const double *loss, const int *hit, int n, struct gpu_metrics *out)
{
    double total = 0.0;
    int correct = 0;
    for (int b = 0; b < n; b++) {
        total += loss[b];
        correct += hit[b];
    }
    out->loss_sum = total;
    out->correct = correct;
}

/* probs [n][C], y [n] -> dlogits [n][C]; thread = image */
__global__ void loss_backward_v1(const float *probs, const uint8_t *y, int n, float inv_n,
                                 float *dlogits)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n)
        return;
    for (int c = 0; c < CNN_CLASSES; c++) {
        float onehot = c == y[b] ? 1.0f : 0.0f;
        dlogits[b * CNN_CLASSES + c] = (probs[b * CNN_CLASSES + c] - onehot) * inv_n;
    }
}

/* logits [n][C], y [n] -> probs [n][C], out; thread = image, grid ceil(n/256),
 * partial [grid] block sums, *done a counter that is 0 between launches */
__global__ void __launch_bounds__(LOSS3_THREADS)
loss_forward_v3(const float *logits, const uint8_t *y, int n, float *probs,
                struct gpu_metrics *partial, unsigned *done, struct gpu_metrics *out)
{
    __shared__ bool last;
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    double loss = 0.0;
    int hit = 0;
    if (b < n)
        loss = softmax_image(logits + (size_t)b * CNN_CLASSES, y[b],
                             probs + (size_t)b * CNN_CLASSES, &hit);
    block_sum(&loss, &hit);
    if (threadIdx.x == 0) {
        partial[blockIdx.x].loss_sum = loss;
        partial[blockIdx.x].correct = hit;
        __threadfence(); /* the sums are visible before the count says so */
        last = atomicAdd(done, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (!last || threadIdx.x >= 32)
        return;
    /* the last block: lane l adds blocks l, l+32, ... then a butterfly */
    loss = 0.0;
    hit = 0;
    for (int k = threadIdx.x; k < (int)gridDim.x; k += 32) {
        loss += __ldcg(&partial[k].loss_sum);
        hit += __ldcg(&partial[k].correct);
    }
    for (int off = 16; off > 0; off >>= 1) {
        loss += __shfl_xor_sync(0xffffffffu, loss, off);
        hit += __shfl_xor_sync(0xffffffffu, hit, off);
    }
    if (threadIdx.x == 0) {
        out->loss_sum = loss;
        out->correct = hit;
        *done = 0;
    }
}

/* logits [n][C] -> pred [n], the first maximum; thread = image */
__global__ void predict_classes(const float *logits, int n, uint8_t *pred)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n)
        return;
    const float *z = logits + (size_t)b * CNN_CLASSES;
    int top = 0;
    for (int c = 1; c < CNN_CLASSES; c++)
        if (z[c] > z[top])
            top = c;
    pred[b] = (uint8_t)top;
}

/* ---- slots ---- */

extern "C" cnn_status cuda_loss_forward(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_LOSS_FWD);
    int n = s->n;
    if (s->variant == CUDA_VARIANT_NAIVE) {
        loss_forward_v1<<<gpu_div_up(n, LOSS_V1_THREADS), LOSS_V1_THREADS, 0, s->stream>>>(
            s->logits, s->y, n, s->probs, s->image_loss, s->image_correct);
        CUDA_LAUNCHED(s, "loss_forward_v1");
        loss_sum_v1<<<1, 1, 0, s->stream>>>(s->image_loss, s->image_correct, n, s->metrics);
        CUDA_LAUNCHED(s, "loss_sum_v1");
        return CNN_OK;
    }
    if (s->variant == CUDA_VARIANT_FUSED)
        return gpu_softmax_xent_forward(s->stream, s->sync_debug, s->logits, s->y, n, s->probs,
                                        s->metrics);
    loss_forward_v3<<<gpu_div_up(n, LOSS3_THREADS), LOSS3_THREADS, 0, s->stream>>>(
        s->logits, s->y, n, s->probs, s->loss_part, s->loss_done, s->metrics);
    CUDA_LAUNCHED(s, "loss_forward_v3");
    return CNN_OK;
}

extern "C" cnn_status cuda_loss_backward(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_LOSS_BWD);
    int n = s->n;
    /* the same float as seq's 1.0f / (float)n; a rank of a data-parallel step
     * divides by the global batch, so that the summed gradient is the mean */
    float inv_n = 1.0f / (float)s->mean_over;
    if (s->variant == CUDA_VARIANT_NAIVE) {
        loss_backward_v1<<<gpu_div_up(n, LOSS_V1_THREADS), LOSS_V1_THREADS, 0, s->stream>>>(
            s->probs, s->y, n, inv_n, s->dlogits);
        CUDA_LAUNCHED(s, "loss_backward_v1");
        return CNN_OK;
    }
    return gpu_softmax_xent_backward(s->stream, s->sync_debug, s->probs, s->y, n, inv_n,
                                     s->dlogits);
}

size_t cuda_loss_blocks(int batch) { return gpu_div_up(batch, LOSS3_THREADS); }

cnn_status cuda_predict_classes(cnn_state *s, int n)
{
    predict_classes<<<gpu_div_up(n, 128), 128, 0, s->stream>>>(s->logits, n, s->pred);
    CUDA_LAUNCHED(s, "predict_classes");
    return CNN_OK;
}
