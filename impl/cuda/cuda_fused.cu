/*
 * cuda_fused.cu — variant v5: a step that never stores m or dm.
 *
 * v3 stores the pooled activations m [B][K] (conv forward writes them, FC
 * forward and FC backward read them) and dm [B][K] (FC backward writes it,
 * conv backward reads it): 960 MB of traffic per step at (1000, 256), a
 * 0.32 ms floor (bench/NOTES.md, "cuda"). v5 keeps only the pool decision,
 * one byte per pooled output, and recomputes the rest where it is consumed:
 *
 *   forward   fused_forward: conv + bias + ReLU + pool (the v3 arithmetic,
 *             pool_output) and, while m is in a register, its product with
 *             fc_w: each block sums its filters' share of the 10 logits of
 *             each of its images, part [B][groups][C]. The FC finish kernel
 *             of v2-v4 (cuda_fc_forward_sum) adds the groups in order, then
 *             the bias. Stored: the decisions and the partial logits.
 *   backward  fused_backward: per image and pooled position, the window of
 *             the stored decision, m recomputed there (9 FMAs, conv_z: the
 *             forward's own instructions, so the same bits), then
 *               dfc_w partial += dlogits[c] * m            (FC weight grad)
 *               dm = sum_c fc_w[c][k] * dlogits[c]         (v4's sum)
 *               dconv partial += dm * window, dm           (conv grad)
 *             with the fc_w column of its two filters in registers and the
 *             image fed by v3's 4-stage cp.async pipeline (decisions,
 *             dlogits row, pixels). The finish kernels of v2-v4 add the
 *             image chunks in order: cuda_fc_backward_sum (dfc_w, and dfc_b
 *             from dlogits), cuda_conv_backward_sum (dconv_w, dconv_b).
 *
 * Regions (docs/DESIGN.md, "Regions of a fused variant"): a region is the
 * work its slot launches. conv_fwd = fused_forward (conv and the FC
 * products), fc_fwd = the FC finish, fc_bwd = fused_backward and the FC
 * finish (every backward product), conv_bwd = the conv finish. loss and
 * update are v3's.
 *
 * Determinism: every sum has one order, fixed by (n, F) alone: a logit is
 * (filters in order per thread, positions lane-strided then a butterfly)
 * per group, groups in order, then the bias; a gradient is images in order
 * per chunk, positions by reduce_filters' fixed tree (conv) or none (dfc_w:
 * one thread per weight), chunks in order. No float atomics.
 */
#include "cuda_conv.cuh"

enum {
    FUSED_FWD_FILTERS = 8,   /* forward: filters per block (their fc_w in shared memory) */
    FUSED_FWD_IMAGES = 2,    /* forward: images per pass, as v3 (338 of 352 lanes busy) */
    FUSED_FWD_THREADS = 352, /* 2 x 169 positions rounded up to warps */
    FUSED_FWD_BLOCKS = 1024, /* forward: blocks wanted before image chunks grow */
    FUSED_BWD_FILTERS = 2,   /* backward: filters per block (30 accumulators each) */
    FUSED_BWD_CHUNKS = 8,    /* backward: most image chunks, each a dfc_w partial */
};
/* fused_backward clears its conv sums and its dfc_w sums in one loop */
static_assert(CNN_KTAPS + 1 == CNN_CLASSES, "10 conv sums per filter, 10 classes");

/* Dynamic shared memory of fused_forward: the block's fc_w slice
 * [filters][169][C] and the per-image reduction buffer [C][threads]. */
constexpr size_t FUSED_FWD_SMEM =
    (size_t)(FUSED_FWD_FILTERS * CNN_POOL_AREA + FUSED_FWD_THREADS) * CNN_CLASSES *
    sizeof(float);

/*
 * x [n][28][28], cw [F][9], cb [F], fc_w [C][K] -> arg [n][F][13][13] and
 * part [n][groups][C], the logits' sums over the filters of each group.
 * grid: chunks * groups blocks, block c*groups+g = image pairs
 * [c*chunk_pairs, (c+1)*chunk_pairs), filters 8g..8g+7; thread t = position
 * t % 169 of image t / 169 of the pair (338 of 352 active).
 */
__global__ void __launch_bounds__(FUSED_FWD_THREADS, 3)
fused_forward(const float *x, const float *cw, const float *cb, const float *fc_w, int n, int F,
              int groups, int chunk_pairs, uint8_t *arg, float *part)
{
    extern __shared__ __align__(16) float fused_smem[];
    float *fcs = fused_smem; /* [fl][pos][c]: one position's 10 classes in 5 float2 */
    float *red = fused_smem + FUSED_FWD_FILTERS * CNN_POOL_AREA * CNN_CLASSES; /* [c][t] */
    __shared__ float4 wsh[FUSED_FWD_FILTERS][CONV_TAPS_PADDED / 4];
    int group = blockIdx.x % groups, chunk = blockIdx.x / groups;
    int f0 = group * FUSED_FWD_FILTERS, nf = min(FUSED_FWD_FILTERS, F - f0);
    size_t K = (size_t)F * CNN_POOL_AREA;
    stage_filters(cw, cb, f0, nf, wsh);
    /* fc_w [c][f0 + fl][pos] -> fcs[fl][pos][c], zeros past the last filter;
     * the global reads are consecutive in (fl, pos) */
    constexpr int slice = FUSED_FWD_FILTERS * CNN_POOL_AREA;
    for (int t = threadIdx.x; t < slice * CNN_CLASSES; t += blockDim.x) {
        int c = t / slice, r = t % slice;
        fcs[r * CNN_CLASSES + c] =
            r < nf * CNN_POOL_AREA ? fc_w[c * K + (size_t)f0 * CNN_POOL_AREA + r] : 0.0f;
    }
    int u = threadIdx.x / CNN_POOL_AREA, pos = threadIdx.x % CNN_POOL_AREA;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int pair0 = chunk * chunk_pairs;
    int pairs = min(chunk_pairs, (n + 1) / FUSED_FWD_IMAGES - pair0);
    __syncthreads();

    for (int pr = 0; pr < pairs; pr++) {
        int first = (pair0 + pr) * FUSED_FWD_IMAGES;
        int b = first + u;
        float acc[CNN_CLASSES];
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            acc[c] = 0.0f;
        if (u < FUSED_FWD_IMAGES && b < n) {
            float P[4][4];
            load_patch(x + (size_t)b * CNN_PIXELS, i, j, P);
            uint8_t *ao = arg + ((size_t)b * F + f0) * CNN_POOL_AREA + pos;
            auto filter = [&](int fl) {
                float4 wa = wsh[fl][0], wb = wsh[fl][1], wc = wsh[fl][2];
                const float w[CNN_KTAPS] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w, wc.x};
                float m;
                uint8_t a;
                pool_output(w, wc.y, P, &m, &a);
                ao[fl * CNN_POOL_AREA] = a;
                const float2 *fc =
                    reinterpret_cast<const float2 *>(fcs + (fl * CNN_POOL_AREA + pos) * CNN_CLASSES);
#pragma unroll
                for (int h = 0; h < CNN_CLASSES / 2; h++) {
                    float2 v = fc[h];
                    acc[2 * h] = fmaf(v.x, m, acc[2 * h]);
                    acc[2 * h + 1] = fmaf(v.y, m, acc[2 * h + 1]);
                }
            };
            if (nf == FUSED_FWD_FILTERS) {
#pragma unroll
                for (int fl = 0; fl < FUSED_FWD_FILTERS; fl++)
                    filter(fl);
            } else {
                for (int fl = 0; fl < nf; fl++)
                    filter(fl);
            }
        }
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            red[c * FUSED_FWD_THREADS + threadIdx.x] = acc[c];
        __syncthreads();
        /* 2 images x 10 classes, each a sum over 169 positions: warp w takes
         * sums w, w + 11, ...; lanes stride the positions in order, then a
         * butterfly */
        for (int sum = warp; sum < FUSED_FWD_IMAGES * CNN_CLASSES;
             sum += FUSED_FWD_THREADS / 32) {
            int su = sum / CNN_CLASSES, c = sum % CNN_CLASSES;
            const float *src = red + c * FUSED_FWD_THREADS + su * CNN_POOL_AREA;
            float v = 0.0f;
            for (int p = lane; p < CNN_POOL_AREA; p += 32)
                v += src[p];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, off);
            if (lane == 0 && first + su < n)
                part[((size_t)(first + su) * groups + group) * CNN_CLASSES + c] = v;
        }
        __syncthreads(); /* red is rewritten by the next pair */
    }
}

/*
 * x [n][28][28], dlogits [n][C], arg [n][F][13][13], cw [F][9], cb [F],
 * fc_w [C][K] -> conv_part [chunks][F][10] (9 weight sums, then the bias
 * sum) and fc_part [chunks][C][K] (the dfc_w sums), over the images of
 * each chunk.
 * grid: chunks * groups blocks, block c*groups+g = images of chunk c,
 * filters FB*g..FB*g+FB-1; thread = pooled position (169 of 192 active).
 */
template <int FB>
__global__ void __launch_bounds__(CONV_THREADS, 3)
fused_backward(const float *x, const float *dlogits, const uint8_t *arg, const float *cw,
               const float *cb, const float *fc_w, int n, int F, int groups, int chunk_images,
               float *conv_part, float *fc_part)
{
    __shared__ __align__(16) conv_stage<FB, true> stages[CONV_STAGES];
    __shared__ float4 wsh[FB][CONV_TAPS_PADDED / 4];
    int chunk = blockIdx.x / groups, group = blockIdx.x % groups;
    int f0 = group * FB, nf = min(FB, F - f0);
    int pos = threadIdx.x;
    bool active = pos < CNN_POOL_AREA;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    size_t K = (size_t)F * CNN_POOL_AREA;
    stage_filters(cw, cb, f0, nf, wsh);
    float acc[FB][CNN_KTAPS + 1], accw[FB][CNN_CLASSES], wcol[FB][CNN_CLASSES];
#pragma unroll
    for (int fl = 0; fl < FB; fl++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++) {
            acc[fl][c] = 0.0f; /* CNN_KTAPS + 1 == CNN_CLASSES: one loop for both */
            accw[fl][c] = 0.0f;
            wcol[fl][c] = fl < nf && active
                              ? fc_w[c * K + (size_t)(f0 + fl) * CNN_POOL_AREA + pos]
                              : 0.0f;
        }

    int b0 = chunk * chunk_images, nb = min(n, b0 + chunk_images) - b0;
    for (int s = 0; s < CONV_STAGES - 1; s++) {
        if (s < nb)
            stage_image(&stages[s], x, dlogits, arg, b0 + s, F, f0, nf);
        __pipeline_commit();
    }
    for (int it = 0; it < nb; it++) {
        int ahead = it + CONV_STAGES - 1;
        if (ahead < nb)
            stage_image(&stages[ahead % CONV_STAGES], x, dlogits, arg, b0 + ahead, F, f0, nf);
        __pipeline_commit();
        __pipeline_wait_prior(CONV_STAGES - 1);
        __syncthreads(); /* the stage, and at it == 0 wsh, are ready */
        const conv_stage<FB, true> *st = &stages[it % CONV_STAGES];
        if (active) {
            size_t first = ((size_t)(b0 + it) * F + f0) * CNN_POOL_AREA;
            const uint8_t *a = st->arg + (first & 15) + pos;
            const float *g = st->grad + (grad_first<true>(b0 + it, F, f0) & 3);
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
            float dlog[CNN_CLASSES];
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++)
                dlog[c] = g[c];
            auto filter = [&](int fl) {
                unsigned d = a[fl * CNN_POOL_AREA];
                bool won = d != CUDA_NO_ARGMAX;
                float W[CNN_KSIZE][CNN_KSIZE];
                select_window(d, P, W);
                float4 wa = wsh[fl][0], wb = wsh[fl][1], wc = wsh[fl][2];
                const float w[CNN_KTAPS] = {wa.x, wa.y, wa.z, wa.w, wb.x, wb.y, wb.z, wb.w, wc.x};
                /* the forward's m: z of the winning window, 0 where ReLU blocked all four */
                float m = won ? conv_z(w, wc.y, W, 0, 0) : 0.0f;
                /* dm, in fc backward's order: from 0, classes in order, one FMA each */
                float dm = 0.0f;
#pragma unroll
                for (int c = 0; c < CNN_CLASSES; c++) {
                    accw[fl][c] = fmaf(dlog[c], m, accw[fl][c]);
                    dm = fmaf(wcol[fl][c], dlog[c], dm);
                }
                /* no winner: add zeros (acc starts at +0, so adding +-0 leaves
                 * it bitwise unchanged, as skipping would) */
                dm = won ? dm : 0.0f;
#pragma unroll
                for (int p = 0; p < CNN_KSIZE; p++)
#pragma unroll
                    for (int q = 0; q < CNN_KSIZE; q++)
                        acc[fl][p * CNN_KSIZE + q] =
                            fmaf(dm, W[p][q], acc[fl][p * CNN_KSIZE + q]);
                acc[fl][CNN_KTAPS] += dm;
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
        __syncthreads(); /* the stage is refilled next */
    }
    reduce_filters<FB>(acc, nf, conv_part + ((size_t)chunk * F + f0) * (CNN_KTAPS + 1));
    if (!active)
        return;
#pragma unroll
    for (int fl = 0; fl < FB; fl++)
        if (fl < nf)
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++)
                fc_part[((size_t)chunk * CNN_CLASSES + c) * K + (size_t)(f0 + fl) * CNN_POOL_AREA +
                        pos] = accw[fl][c];
}

/* ---- chunking: functions of (n, F) only, never of the GPU ---- */

static int fwd_groups(int F) { return (int)gpu_div_up((size_t)F, FUSED_FWD_FILTERS); }

/* Image pairs per forward block: enough blocks for a few waves, each block
 * loading its fc_w slice once for as many images as that leaves it. */
static int fwd_chunk_pairs(int n, int groups)
{
    size_t pairs = gpu_div_up((size_t)n, FUSED_FWD_IMAGES);
    int want = (int)gpu_div_up(pairs * groups, FUSED_FWD_BLOCKS);
    return want < 1 ? 1 : want;
}

static int bwd_groups(int F) { return (int)gpu_div_up((size_t)F, FUSED_BWD_FILTERS); }

/* Backward image chunks: few, since each writes a dfc_w partial of C*K
 * floats that the finish reads back (8 x 1.7 MB at F = 256). */
static int bwd_chunk_images(int n)
{
    int chunks = n < FUSED_BWD_CHUNKS ? n : FUSED_BWD_CHUNKS;
    return (int)gpu_div_up((size_t)n, (size_t)chunks);
}

static int bwd_chunks(int n) { return (int)gpu_div_up((size_t)n, (size_t)bwd_chunk_images(n)); }

/* The most backward chunks of any batch 1..batch: bwd_chunks(n) <= min(n, 8). */
static int most_bwd_chunks(int batch)
{
    return batch < FUSED_BWD_CHUNKS ? batch : FUSED_BWD_CHUNKS;
}

size_t cuda_fused_fc_forward_workspace(int batch, int filters)
{
    return (size_t)batch * fwd_groups(filters) * CNN_CLASSES;
}

size_t cuda_fused_fc_backward_workspace(int batch, int filters)
{
    return (size_t)most_bwd_chunks(batch) * CNN_CLASSES * cnn_features(filters);
}

size_t cuda_fused_conv_backward_workspace(int batch, int filters)
{
    return (size_t)most_bwd_chunks(batch) * filters * (CNN_KTAPS + 1);
}

cnn_status cuda_fused_setup(void)
{
    GPU_CHECK(cudaFuncSetAttribute(fused_forward, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   (int)FUSED_FWD_SMEM));
    return CNN_OK;
}

/* ---- the v5 work of each slot (cuda_conv.cu and cuda_fc.cu dispatch here) ---- */

cnn_status cuda_fused_conv_forward(cnn_state *s)
{
    int n = s->n, F = s->cfg.filters, groups = fwd_groups(F);
    int chunk_pairs = fwd_chunk_pairs(n, groups);
    unsigned chunks = gpu_div_up(gpu_div_up((size_t)n, FUSED_FWD_IMAGES), (size_t)chunk_pairs);
    fused_forward<<<chunks * groups, FUSED_FWD_THREADS, FUSED_FWD_SMEM, s->stream>>>(
        s->x, s->params.conv_w, s->params.conv_b, s->params.fc_w, n, F, groups, chunk_pairs,
        s->argmax, s->fc_fwd_part);
    CUDA_LAUNCHED(s, "fused_forward");
    return CNN_OK;
}

cnn_status cuda_fused_fc_forward(cnn_state *s)
{
    return cuda_fc_forward_sum(s, fwd_groups(s->cfg.filters));
}

cnn_status cuda_fused_fc_backward(cnn_state *s)
{
    int n = s->n, F = s->cfg.filters, groups = bwd_groups(F), chunks = bwd_chunks(n);
    fused_backward<FUSED_BWD_FILTERS><<<(unsigned)chunks * groups, CONV_THREADS, 0, s->stream>>>(
        s->x, s->dlogits, s->argmax, s->params.conv_w, s->params.conv_b, s->params.fc_w, n, F,
        groups, bwd_chunk_images(n), s->conv_bwd_part, s->fc_bwd_part);
    CUDA_LAUNCHED(s, "fused_backward");
    return cuda_fc_backward_sum(s, chunks);
}

cnn_status cuda_fused_conv_backward(cnn_state *s)
{
    return cuda_conv_backward_sum(s, bwd_chunks(s->n));
}
