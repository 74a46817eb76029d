/*
 * cuda_conv.cu — the conv layer on the GPU: forward is conv + bias + ReLU +
 * 2x2 max-pool with the pool argmax stored; backward is the filter and bias
 * gradient through that argmax.
 *
 * Variants:
 *   v1  forward: one thread per image looping over filters and positions,
 *       every load from global memory — the original numba design.
 *       backward: one thread per filter looping over images and positions in
 *       seq's order (a per-image thread would need float atomics).
 *   v2  forward: one block per (image, 16 filters), one thread per pooled
 *       position. The thread keeps its 4x4 input patch in registers and loops
 *       over the filters (weights broadcast from shared memory), so the
 *       26x26 activations never reach memory: only m and the argmax byte are
 *       stored.
 *       backward: one block per (8 filters, chunk of images), one thread per
 *       pooled position accumulating 8 x (9 weights + bias) sums in
 *       registers. The argmax selects the patch window with selects, not
 *       dynamic indexing. Reduction in a fixed order: warp butterfly, warps in
 *       order, then a second kernel adds the chunks in order. No atomics, so
 *       the result is bitwise reproducible.
 *   v3  forward: v2 with two images per block (338 of 352 threads busy
 *       instead of 169 of 192) and a full group of filters unrolled, so no
 *       address arithmetic is left in the filter loop; v2 is bound by issue
 *       slots, 64 instructions per output around its 36 FMAs.
 *       backward: v2's arithmetic, 4 filters per block (half the registers,
 *       so twice the warps), fed by a 4-stage cp.async pipeline: the block
 *       copies the dm, argmax and pixel tiles of the next three images into
 *       shared memory while it works on the current one, so memory latency
 *       no longer stalls the serial image loop (v2 is latency bound). The
 *       last block of each filter group to finish (an integer atomic
 *       counter) adds the chunks in order: one launch instead of two.
 *   v4  forward: v3's.
 *       backward: v3 forming dm itself, dm[b][f][p] = sum_c dlogits[b][c] *
 *       fc_w[c][f][p]: each thread keeps the fc_w column of its position
 *       and filters in registers and the pipeline stages the image's 10
 *       dlogits instead of its dm tile. fc_backward then never writes dm, so
 *       the step moves 346 MB less at (1000, 256). The sum is v3 fc
 *       backward's, in the same order, so the gradients equal v3's bit for
 *       bit; the cost is that fc_bwd's dm work is timed here, in conv_bwd.
 *
 * Argmax byte: the first maximum of the window in the order (0,0), (0,1),
 * (1,0), (1,1), as in seq, or CUDA_NO_ARGMAX when the pooled value is not
 * > 0 (ReLU blocked the whole window). Folding the ReLU mask into the byte
 * spares v2's backward a read of m.
 */
#include "cuda_conv.cuh"

enum {
    CONV_FWD_FILTERS = 16,    /* v2 forward: filters per block */
    CONV_BWD_FILTERS = 8,     /* v2 backward: filters per block */
    CONV_BWD_MAX_IMAGES = 32, /* backward: most images per chunk */
    CONV_BWD_BLOCKS = 512,    /* backward: blocks wanted before chunks grow */
    CONV_V1_THREADS = 128,
    CONV_FWD_IMAGES = 2,      /* v3 forward: images per block */
    CONV_FWD3_THREADS = 352,  /* v3 forward: 2 x 169 positions rounded up to warps */
    CONV_BWD3_FILTERS = 4,    /* v3 backward: filters per block (4 blocks per SM) */
};

/* ---- v1: one thread per image (forward), per filter (backward) ---- */

/* x [n][28][28], cw [F][9], cb [F] -> m, arg [n][F][13][13]; thread = image */
__global__ void conv_forward_v1(const float *x, const float *cw, const float *cb, int n, int F,
                                float *m, uint8_t *arg)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n)
        return;
    const float *img = x + (size_t)b * CNN_PIXELS;
    size_t base = (size_t)b * F * CNN_POOL_AREA;
    for (int f = 0; f < F; f++)
        for (int i = 0; i < CNN_POOL; i++)
            for (int j = 0; j < CNN_POOL; j++) {
                float best = -INFINITY;
                int best_at = 0;
                for (int d = 0; d < CNN_POOLW * CNN_POOLW; d++) {
                    int zi = CNN_POOLW * i + d / CNN_POOLW, zj = CNN_POOLW * j + d % CNN_POOLW;
                    float z = cb[f];
                    for (int p = 0; p < CNN_KSIZE; p++)
                        for (int q = 0; q < CNN_KSIZE; q++)
                            z += cw[f * CNN_KTAPS + p * CNN_KSIZE + q] *
                                 img[(zi + p) * CNN_IMG + zj + q];
                    float a = fmaxf(z, 0.0f);
                    if (a > best) {
                        best = a;
                        best_at = d;
                    }
                }
                size_t at = base + (size_t)f * CNN_POOL_AREA + i * CNN_POOL + j;
                m[at] = best;
                arg[at] = (uint8_t)(best > 0.0f ? best_at : CUDA_NO_ARGMAX);
            }
}

/* x [n][28][28], m, dm, arg [n][F][13][13] -> dw [F][9], db [F]; thread = filter */
__global__ void conv_backward_v1(const float *x, const float *m, const float *dm,
                                 const uint8_t *arg, int n, int F, float *dw, float *db)
{
    int f = blockIdx.x * blockDim.x + threadIdx.x;
    if (f >= F)
        return;
    float w[CNN_KTAPS] = {0.0f};
    float bias = 0.0f;
    size_t K = (size_t)F * CNN_POOL_AREA;
    for (int b = 0; b < n; b++) {
        const float *img = x + (size_t)b * CNN_PIXELS;
        for (int i = 0; i < CNN_POOL; i++)
            for (int j = 0; j < CNN_POOL; j++) {
                size_t at = b * K + (size_t)f * CNN_POOL_AREA + i * CNN_POOL + j;
                if (!(m[at] > 0.0f))
                    continue;
                float g = dm[at];
                int zi = CNN_POOLW * i + arg[at] / CNN_POOLW;
                int zj = CNN_POOLW * j + arg[at] % CNN_POOLW;
                bias += g;
                for (int p = 0; p < CNN_KSIZE; p++)
                    for (int q = 0; q < CNN_KSIZE; q++)
                        w[p * CNN_KSIZE + q] += g * img[(zi + p) * CNN_IMG + zj + q];
            }
    }
    for (int t = 0; t < CNN_KTAPS; t++)
        dw[f * CNN_KTAPS + t] = w[t];
    db[f] = bias;
}

/* ---- v2: fused forward, register-blocked backward ---- */

/*
 * x [n][28][28], cw [F][9], cb [F] -> m, arg [n][F][13][13].
 * grid: n * groups blocks, block b*groups+g = image b, filters 16g..16g+15;
 * thread = pooled position (169 of 192 active).
 */
__global__ void __launch_bounds__(CONV_THREADS)
conv_forward_v2(const float *x, const float *cw, const float *cb, int F, int groups, float *m,
                uint8_t *arg)
{
    __shared__ float4 wsh[CONV_FWD_FILTERS][CONV_TAPS_PADDED / 4];
    int b = blockIdx.x / groups;
    int f0 = (blockIdx.x % groups) * CONV_FWD_FILTERS;
    int nf = min(CONV_FWD_FILTERS, F - f0);
    stage_filters(cw, cb, f0, nf, wsh);
    int pos = threadIdx.x;
    float P[4][4];
    if (pos < CNN_POOL_AREA)
        load_patch(x + (size_t)b * CNN_PIXELS, pos / CNN_POOL, pos % CNN_POOL, P);
    __syncthreads();
    if (pos >= CNN_POOL_AREA)
        return;

    size_t out = ((size_t)b * F + f0) * CNN_POOL_AREA + pos;
#pragma unroll 2
    for (int fl = 0; fl < nf; fl++) {
        float4 wa = wsh[fl][0], wb = wsh[fl][1], wc = wsh[fl][2];
        const float w[CNN_KTAPS] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w, wc.x};
        size_t at = out + (size_t)fl * CNN_POOL_AREA;
        pool_output(w, wc.y, P, &m[at], &arg[at]);
    }
}

/*
 * As conv_forward_v2, two images per block: thread t takes position t % 169
 * of image t / 169, so 338 of 352 threads work (v2: 169 of 192), and a
 * full group of 16 filters is unrolled, so weights and outputs are
 * addressed by constant offsets.
 * grid: ceil(n/2) * groups blocks, block c*groups+g = images 2c, 2c+1,
 * filters 16g..16g+15.
 */
__global__ void __launch_bounds__(CONV_FWD3_THREADS)
conv_forward_v3(const float *x, const float *cw, const float *cb, int n, int F, int groups,
                float *m, uint8_t *arg)
{
    __shared__ float4 wsh[CONV_FWD_FILTERS][CONV_TAPS_PADDED / 4];
    int f0 = (blockIdx.x % groups) * CONV_FWD_FILTERS;
    int nf = min(CONV_FWD_FILTERS, F - f0);
    stage_filters(cw, cb, f0, nf, wsh);
    int u = threadIdx.x / CNN_POOL_AREA, pos = threadIdx.x % CNN_POOL_AREA;
    int b = (blockIdx.x / groups) * CONV_FWD_IMAGES + u;
    bool active = u < CONV_FWD_IMAGES && b < n;
    float P[4][4];
    if (active)
        load_patch(x + (size_t)b * CNN_PIXELS, pos / CNN_POOL, pos % CNN_POOL, P);
    __syncthreads();
    if (!active)
        return;

    size_t out = ((size_t)b * F + f0) * CNN_POOL_AREA + pos;
    float *mo = m + out;
    uint8_t *ao = arg + out;
    if (nf == CONV_FWD_FILTERS) {
#pragma unroll
        for (int fl = 0; fl < CONV_FWD_FILTERS; fl++) {
            float4 wa = wsh[fl][0], wb = wsh[fl][1], wc = wsh[fl][2];
            const float w[CNN_KTAPS] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w, wc.x};
            pool_output(w, wc.y, P, mo + fl * CNN_POOL_AREA, ao + fl * CNN_POOL_AREA);
        }
        return;
    }
    for (int fl = 0; fl < nf; fl++) {
        float4 wa = wsh[fl][0], wb = wsh[fl][1], wc = wsh[fl][2];
        const float w[CNN_KTAPS] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w, wc.x};
        pool_output(w, wc.y, P, mo + fl * CNN_POOL_AREA, ao + fl * CNN_POOL_AREA);
    }
}

/*
 * x [n][28][28], dm, arg [n][F][13][13] -> part [chunks][F][10], where
 * part[c][f][0..8] are the weight-gradient sums and part[c][f][9] the bias
 * sum over the images of chunk c.
 * grid: chunks * groups blocks, block c*groups+g = images of chunk c,
 * filters 8g..8g+7; thread = pooled position (169 of 192 active).
 */
__global__ void __launch_bounds__(CONV_THREADS)
conv_backward_v2(const float *x, const float *dm, const uint8_t *arg, int n, int F, int groups,
                 int chunk_images, float *part)
{
    int chunk = blockIdx.x / groups;
    int f0 = (blockIdx.x % groups) * CONV_BWD_FILTERS;
    int nf = min(CONV_BWD_FILTERS, F - f0);
    int pos = threadIdx.x;
    float acc[CONV_BWD_FILTERS][CNN_KTAPS + 1];
#pragma unroll
    for (int fl = 0; fl < CONV_BWD_FILTERS; fl++)
#pragma unroll
        for (int t = 0; t <= CNN_KTAPS; t++)
            acc[fl][t] = 0.0f;

    int b0 = chunk * chunk_images, b1 = min(n, b0 + chunk_images);
    if (pos < CNN_POOL_AREA) {
        int i = pos / CNN_POOL, j = pos % CNN_POOL;
        for (int b = b0; b < b1; b++) {
            float P[4][4];
            load_patch(x + (size_t)b * CNN_PIXELS, i, j, P);
            size_t at = ((size_t)b * F + f0) * CNN_POOL_AREA + pos;
#pragma unroll
            for (int fl = 0; fl < CONV_BWD_FILTERS; fl++)
                if (fl < nf)
                    accumulate_position(arg[at + (size_t)fl * CNN_POOL_AREA],
                                        dm[at + (size_t)fl * CNN_POOL_AREA], P, acc[fl]);
        }
    }
    reduce_filters<CONV_BWD_FILTERS>(acc, nf, part + ((size_t)chunk * F + f0) * (CNN_KTAPS + 1));
}
/*
 * As conv_backward_v2, FB filters per block, with the image loop fed from
 * shared memory by a CONV_STAGES-deep cp.async pipeline.
 * v3 (FROM_LOGITS false): grad is dm [n][F][13][13]; fc_w unused.
 * v4 (FROM_LOGITS true): grad is dlogits [n][C]; dm is formed here from it
 * and fc_w [C][K], with the 10 fc_w values of each (filter, position) held
 * in registers for the whole chunk: 134 registers, 2 blocks per SM. (Kept
 * in shared memory instead, 96 registers and 3 blocks per SM, it measured
 * slower: 238 against 224 us at B=1000 F=256.)
 * grid: chunks * groups blocks, block c*groups+g = images of chunk c,
 * filters FB*g..FB*g+FB-1; thread = pooled position (169 of 192 active).
 */
template <int FB, bool FROM_LOGITS>
__global__ void __launch_bounds__(CONV_THREADS, FROM_LOGITS ? 2 : 4)
conv_backward_v3(const float *x, const float *grad, const uint8_t *arg, const float *fc_w, int n,
                 int F, int groups, int chunk_images, float *part, unsigned *done, float *dw,
                 float *db)
{
    __shared__ __align__(16) conv_stage<FB, FROM_LOGITS> stages[CONV_STAGES];
    int chunk = blockIdx.x / groups;
    int f0 = (blockIdx.x % groups) * FB;
    int nf = min(FB, F - f0);
    int pos = threadIdx.x;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    float acc[FB][CNN_KTAPS + 1];
#pragma unroll
    for (int fl = 0; fl < FB; fl++)
#pragma unroll
        for (int t = 0; t <= CNN_KTAPS; t++)
            acc[fl][t] = 0.0f;
    /* v4: fc_w[c][f][pos] for this thread's filters (0 where there is none) */
    float wcol[FROM_LOGITS ? FB : 1][CNN_CLASSES];
    if constexpr (FROM_LOGITS) {
        size_t K = (size_t)F * CNN_POOL_AREA;
#pragma unroll
        for (int fl = 0; fl < FB; fl++)
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++)
                wcol[fl][c] = fl < nf && pos < CNN_POOL_AREA
                                  ? fc_w[c * K + (size_t)(f0 + fl) * CNN_POOL_AREA + pos]
                                  : 0.0f;
    }

    int b0 = chunk * chunk_images, nb = min(n, b0 + chunk_images) - b0;
    for (int s = 0; s < CONV_STAGES - 1; s++) {
        if (s < nb)
            stage_image(&stages[s], x, grad, arg, b0 + s, F, f0, nf);
        __pipeline_commit();
    }
    for (int it = 0; it < nb; it++) {
        int ahead = it + CONV_STAGES - 1;
        if (ahead < nb)
            stage_image(&stages[ahead % CONV_STAGES], x, grad, arg, b0 + ahead, F, f0, nf);
        __pipeline_commit();
        __pipeline_wait_prior(CONV_STAGES - 1);
        __syncthreads();
        const conv_stage<FB, FROM_LOGITS> *st = &stages[it % CONV_STAGES];
        if (pos < CNN_POOL_AREA) {
            size_t first = ((size_t)(b0 + it) * F + f0) * CNN_POOL_AREA;
            const uint8_t *a = st->arg + (first & 15) + pos;
            const float *g = st->grad + (grad_first<FROM_LOGITS>(b0 + it, F, f0) & 3);
            float P[4][4];
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int c = 0; c < 4; c += 2) {
                    float2 v = *reinterpret_cast<const float2 *>(
                        &st->x[(2 * i + r) * CNN_IMG + 2 * j + c]);
                    P[r][c] = v.x;
                    P[r][c + 1] = v.y;
                }
            float dlog[FROM_LOGITS ? CNN_CLASSES : 1];
            if constexpr (FROM_LOGITS)
#pragma unroll
                for (int c = 0; c < CNN_CLASSES; c++)
                    dlog[c] = g[c];
            auto filter = [&](int fl) {
                float gp;
                if constexpr (FROM_LOGITS) {
                    /* fc backward's dm sum: from 0, classes in order, one FMA each */
                    gp = 0.0f;
#pragma unroll
                    for (int c = 0; c < CNN_CLASSES; c++)
                        gp = fmaf(wcol[fl][c], dlog[c], gp);
                } else {
                    gp = g[fl * CNN_POOL_AREA + pos];
                }
                accumulate_position(a[fl * CNN_POOL_AREA], gp, P, acc[fl]);
            };
            if (nf == FB) {
#pragma unroll
                for (int fl = 0; fl < FB; fl++)
                    filter(fl);
            } else {
#pragma unroll
                for (int fl = 0; fl < FB; fl++)
                    if (fl < nf)
                        filter(fl);
            }
        }
        __syncthreads();
    }
    reduce_filters<FB>(acc, nf, part + ((size_t)chunk * F + f0) * (CNN_KTAPS + 1));

    /* the last chunk of this filter group to finish adds the chunks in order
     * (as conv_backward_finish does, in one launch less) */
    __shared__ bool last;
    __threadfence();
    __syncthreads();
    int chunks = gridDim.x / groups, group = blockIdx.x % groups;
    if (threadIdx.x == 0)
        last = atomicAdd(&done[group], 1u) == (unsigned)chunks - 1;
    __syncthreads();
    if (!last)
        return;
    int t = threadIdx.x;
    if (t < nf * (CNN_KTAPS + 1)) {
        float v = 0.0f;
        for (int c = 0; c < chunks; c++)
            v += __ldcg(&part[((size_t)c * F + f0) * (CNN_KTAPS + 1) + t]);
        int f = f0 + t / (CNN_KTAPS + 1), tap = t % (CNN_KTAPS + 1);
        if (tap < CNN_KTAPS)
            dw[f * CNN_KTAPS + tap] = v;
        else
            db[f] = v;
    }
    if (t == 0)
        done[group] = 0;
}

/* part [chunks][F][10] -> dw [F][9], db [F]: the chunks added in order */
__global__ void conv_backward_finish(const float *part, int chunks, int F, float *dw, float *db)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= F * (CNN_KTAPS + 1))
        return;
    float v = 0.0f;
    for (int c = 0; c < chunks; c++)
        v += part[(size_t)c * F * (CNN_KTAPS + 1) + t];
    int f = t / (CNN_KTAPS + 1), tap = t % (CNN_KTAPS + 1);
    if (tap < CNN_KTAPS)
        dw[f * CNN_KTAPS + tap] = v;
    else
        db[f] = v;
}

cnn_status cuda_conv_backward_sum(cnn_state *s, int chunks)
{
    int F = s->cfg.filters;
    unsigned sums = (unsigned)F * (CNN_KTAPS + 1);
    conv_backward_finish<<<gpu_div_up(sums, 256), 256, 0, s->stream>>>(
        s->conv_bwd_part, chunks, F, s->grads.conv_w, s->grads.conv_b);
    CUDA_LAUNCHED(s, "conv_backward_finish");
    return CNN_OK;
}

/* ---- chunking of v2 backward: a function of (n, F) only, never of the GPU ---- */

static int bwd_groups(int F, int per_block) { return (int)gpu_div_up((size_t)F, per_block); }

/* Images per chunk: enough blocks to fill the GPU at small batches, at most
 * CONV_BWD_MAX_IMAGES so the block's serial loop stays short. */
static int bwd_chunk_images(int n, int groups)
{
    int want = (int)gpu_div_up((size_t)n * groups, CONV_BWD_BLOCKS);
    return want < 1 ? 1 : want > CONV_BWD_MAX_IMAGES ? CONV_BWD_MAX_IMAGES : want;
}

static int bwd_chunks(int n, int groups)
{
    return (int)gpu_div_up((size_t)n, bwd_chunk_images(n, groups));
}

size_t cuda_conv_backward_groups(int filters) { return bwd_groups(filters, CONV_BWD3_FILTERS); }

size_t cuda_conv_backward_workspace(int batch, int filters)
{
    static const int per_block[] = {CONV_BWD_FILTERS, CONV_BWD3_FILTERS};
    int most = 1;
    for (int v = 0; v < 2; v++)
        for (int n = 1; n <= batch; n++) {
            int c = bwd_chunks(n, bwd_groups(filters, per_block[v]));
            most = c > most ? c : most;
        }
    return (size_t)most * filters * (CNN_KTAPS + 1);
}

/* ---- slots ---- */

extern "C" cnn_status cuda_conv_forward(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_CONV_FWD);
    if (s->variant == CUDA_VARIANT_RECOMPUTE)
        return cuda_fused_conv_forward(s);
    int n = s->n, F = s->cfg.filters;
    if (s->variant == CUDA_VARIANT_NAIVE) {
        conv_forward_v1<<<gpu_div_up(n, CONV_V1_THREADS), CONV_V1_THREADS, 0, s->stream>>>(
            s->x, s->params.conv_w, s->params.conv_b, n, F, s->pooled, s->argmax);
        CUDA_LAUNCHED(s, "conv_forward_v1");
        return CNN_OK;
    }
    int groups = (int)gpu_div_up(F, CONV_FWD_FILTERS);
    if (s->variant == CUDA_VARIANT_FUSED) {
        conv_forward_v2<<<(unsigned)n * groups, CONV_THREADS, 0, s->stream>>>(
            s->x, s->params.conv_w, s->params.conv_b, F, groups, s->pooled, s->argmax);
        CUDA_LAUNCHED(s, "conv_forward_v2");
        return CNN_OK;
    }
    conv_forward_v3<<<gpu_div_up(n, CONV_FWD_IMAGES) * groups, CONV_FWD3_THREADS, 0,
                      s->stream>>>(
        s->x, s->params.conv_w, s->params.conv_b, n, F, groups, s->pooled, s->argmax);
    CUDA_LAUNCHED(s, "conv_forward_v3");
    return CNN_OK;
}

extern "C" cnn_status cuda_conv_backward(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_CONV_BWD);
    if (s->variant == CUDA_VARIANT_RECOMPUTE)
        return cuda_fused_conv_backward(s);
    int n = s->n, F = s->cfg.filters;
    if (s->variant == CUDA_VARIANT_NAIVE) {
        conv_backward_v1<<<gpu_div_up(F, CONV_V1_THREADS), CONV_V1_THREADS, 0, s->stream>>>(
            s->x, s->pooled, s->dpooled, s->argmax, n, F, s->grads.conv_w, s->grads.conv_b);
        CUDA_LAUNCHED(s, "conv_backward_v1");
        return CNN_OK;
    }
    if (s->variant == CUDA_VARIANT_FUSED) {
        int groups = bwd_groups(F, CONV_BWD_FILTERS), chunks = bwd_chunks(n, groups);
        conv_backward_v2<<<(unsigned)chunks * groups, CONV_THREADS, 0, s->stream>>>(
            s->x, s->dpooled, s->argmax, n, F, groups, bwd_chunk_images(n, groups),
            s->conv_bwd_part);
        CUDA_LAUNCHED(s, "conv_backward_v2");
        return cuda_conv_backward_sum(s, chunks);
    }
    int groups = bwd_groups(F, CONV_BWD3_FILTERS), chunks = bwd_chunks(n, groups);
    if (s->variant == CUDA_VARIANT_TUNED) {
        conv_backward_v3<CONV_BWD3_FILTERS, false>
            <<<(unsigned)chunks * groups, CONV_THREADS, 0, s->stream>>>(
                s->x, s->dpooled, s->argmax, s->params.fc_w, n, F, groups,
                bwd_chunk_images(n, groups), s->conv_bwd_part, s->done_conv, s->grads.conv_w,
                s->grads.conv_b);
        CUDA_LAUNCHED(s, "conv_backward_v3");
        return CNN_OK;
    }
    conv_backward_v3<CONV_BWD3_FILTERS, true>
        <<<(unsigned)chunks * groups, CONV_THREADS, 0, s->stream>>>(
            s->x, s->dlogits, s->argmax, s->params.fc_w, n, F, groups,
            bwd_chunk_images(n, groups), s->conv_bwd_part, s->done_conv, s->grads.conv_w,
            s->grads.conv_b);
    CUDA_LAUNCHED(s, "conv_backward_v4");
    return CNN_OK;
}
