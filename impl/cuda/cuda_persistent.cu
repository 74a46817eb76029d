/*
 * cuda_persistent.cu — variant v7: the whole training step as one
 * persistent kernel, for launch-bound sizes.
 *
 * Why. At (100, 32) v3's nine kernels do 81 MFLOP, about a microsecond of
 * the GPU, but each is a small grid whose latency, not its work, sets its
 * time (36 us of kernels), and a CUDA graph of them (v6) is no faster,
 * because the region boundaries cost an event node each (bench/NOTES.md,
 * "v6 on v3's kernels"). v7 launches one cooperative grid per step, as
 * many blocks as fit on the GPU at once, and runs the step's phases in it,
 * separated by grid-wide barriers:
 *
 *   conv      conv + bias + ReLU + pool, one thread per pooled position of
 *             8 filters (the v3 instructions, pool_output): m and the
 *             decisions stored
 *   fc        per image, a block: the 10 logits (threads stride the
 *             features, then a fixed-order block sum, then fc_b), and in
 *             the same thread the softmax, the loss and dlogits
 *   backward  per (filter, image chunk), a block whose threads are the 169
 *             pooled positions: over the chunk's images in order, dfc_w
 *             partial sums, dm = fc_w^T dlogits (never stored) and the conv
 *             gradient through the decision, summed over the positions in a
 *             fixed tree; block 0 first adds the batch's loss and hits
 *   sum       per parameter: the chunk partials in order (dfc_b: dlogits
 *             over the images in order), the gradient stored, then the SGD
 *             step on that parameter
 *
 * Every sum has one order, fixed by (n, F) alone; the grid's size only
 * decides which block runs which unit, so results are the same on any GPU
 * and bitwise reproducible. No float atomics.
 *
 * Outside a timed step (predict, the test hooks, the data-parallel ranks)
 * the same kernel runs one phase per launch, slot by slot: conv_forward
 * the conv phase, fc_forward the logits, loss_forward the loss and dlogits,
 * then the batch's loss and hits, fc_backward the backward phase,
 * conv_backward the gradient sums, update the SGD step. The phases execute
 * the same functions, so an eager step equals a persistent one bit for bit
 * (tests/test_persistent.c).
 *
 * Regions of a timed step: the events around the launch give its total
 * (from the end of h2d to the kernel's end); block 0 reads the GPU's
 * global timer after each barrier and the last block to finish reads it
 * at the end, which splits the total: fc_fwd = the fc phase (logits and
 * the loss, both directions), fc_bwd = the backward phase, update = the
 * sums and the step, conv_fwd = the rest (the launch and the conv phase);
 * loss_fwd, loss_bwd and conv_bwd read 0, their work being inside those
 * (docs/DESIGN.md, "Regions of one persistent kernel"). The roofline places v7
 * as a design with stored m: its fc_bwd also holds the conv weight
 * gradient, which the chart does not credit there.
 */
#include <cooperative_groups.h>

#include "cuda_conv.cuh"
#include "gpu/gpu_loss.cuh"

namespace cg = cooperative_groups;

enum {
    PERSIST_THREADS = 256,
    PERSIST_WARPS = PERSIST_THREADS / 32,
    PERSIST_CONV_FILTERS = 8, /* conv: filters per thread, sharing its input patch */
    PERSIST_BWD_UNITS = 384,  /* backward: (filter, chunk) units wanted, for one pass
                                 over the grid at small sizes (a constant, so the
                                 chunking never depends on the GPU) */
    PERSIST_CHUNKS = 32,      /* backward: most chunks, each a partial of every gradient */
};
static_assert((int)CNN_POOL_AREA <= (int)PERSIST_THREADS, "a backward block holds every position");
static_assert(CNN_KTAPS + 1 == CNN_CLASSES, "the backward clears its 10 + 10 sums in one loop");

/* The phases, as bits of one launch. */
enum : unsigned {
    PHASE_CONV = 1u << 0,
    PHASE_FC = 1u << 1,      /* the logits */
    PHASE_LOSS = 1u << 2,    /* probs, per-image loss and hit, dlogits */
    PHASE_METRICS = 1u << 3, /* the batch's loss sum and hit count */
    PHASE_BACKWARD = 1u << 4,
    PHASE_SUM = 1u << 5,     /* the gradients from the partials */
    PHASE_UPDATE = 1u << 6,
    PHASE_STEP = (1u << 7) - 1,
};

struct persist_args {
    const float *x;        /* [n][P] */
    const uint8_t *y;      /* [n] */
    int n, F, chunk_images, chunks;
    float lr, inv_n;
    float *params, *grads; /* canonical layout, count floats */
    size_t count;
    float *pooled;         /* m [n][K] */
    uint8_t *argmax;       /* [n][K] */
    float *logits, *probs, *dlogits; /* [n][C] */
    double *image_loss;    /* [n] */
    int *image_correct;    /* [n] */
    struct gpu_metrics *metrics;
    float *fc_part;        /* [chunks][C][K] dfc_w partial sums */
    float *conv_part;      /* [chunks][F][10] conv partial sums (9 taps, then the bias) */
    unsigned long long *stamp; /* [CUDA_PERSIST_STAMPS] in a timed step, else NULL */
    unsigned *done;        /* blocks finished, for the end stamp; 0 between launches
                              (v3's loss counter, which a v7 state does not use) */
};

static __device__ __forceinline__ unsigned long long global_ns()
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

/* ---- the phases ---- */

/* Thread = (image, filter group, pooled position), positions fastest, so a
 * warp's threads read the same weights (broadcast) and store m and the
 * decisions of one filter at consecutive positions; each thread loads its
 * input patch once for PERSIST_CONV_FILTERS filters. */
static __device__ void conv_phase(const struct persist_args &a)
{
    const float *cw = a.params, *cb = a.params + (size_t)a.F * CNN_KTAPS;
    int groups = (a.F + PERSIST_CONV_FILTERS - 1) / PERSIST_CONV_FILTERS;
    size_t items = (size_t)a.n * groups * CNN_POOL_AREA;
    for (size_t it = (size_t)blockIdx.x * blockDim.x + threadIdx.x; it < items;
         it += (size_t)gridDim.x * blockDim.x) {
        int pos = (int)(it % CNN_POOL_AREA);
        size_t bg = it / CNN_POOL_AREA;
        int g = (int)(bg % groups), b = (int)(bg / groups);
        int f0 = g * PERSIST_CONV_FILTERS, nf = min(PERSIST_CONV_FILTERS, a.F - f0);
        float P[4][4];
        load_patch(a.x + (size_t)b * CNN_PIXELS, pos / CNN_POOL, pos % CNN_POOL, P);
        size_t at = ((size_t)b * a.F + f0) * CNN_POOL_AREA + pos;
#pragma unroll
        for (int fl = 0; fl < PERSIST_CONV_FILTERS; fl++) {
            if (fl >= nf)
                break;
            float w[CNN_KTAPS];
#pragma unroll
            for (int t = 0; t < CNN_KTAPS; t++)
                w[t] = cw[(f0 + fl) * CNN_KTAPS + t];
            pool_output(w, cb[f0 + fl], P, &a.pooled[at + (size_t)fl * CNN_POOL_AREA],
                        &a.argmax[at + (size_t)fl * CNN_POOL_AREA]);
        }
    }
}

/* One image's softmax, loss and dlogits from its logits z. */
static __device__ void image_loss(const struct persist_args &a, int b, const float *z)
{
    float p[CNN_CLASSES];
    int hit, label = a.y[b];
    a.image_loss[b] = softmax_image(z, label, p, &hit);
    a.image_correct[b] = hit;
    for (int c = 0; c < CNN_CLASSES; c++) {
        a.probs[b * CNN_CLASSES + c] = p[c];
        a.dlogits[b * CNN_CLASSES + c] = (p[c] - (c == label ? 1.0f : 0.0f)) * a.inv_n;
    }
}

/* Sums v[10] over the block in a fixed order (butterfly in each warp, then
 * the warps in order); the sums are valid in thread 0. */
static __device__ void block_sum10(float v[CNN_CLASSES])
{
    __shared__ float red[PERSIST_WARPS][CNN_CLASSES];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
#pragma unroll
    for (int c = 0; c < CNN_CLASSES; c++) {
        for (int off = 16; off > 0; off >>= 1)
            v[c] += __shfl_xor_sync(0xffffffffu, v[c], off);
        if (lane == 0)
            red[warp][c] = v[c];
    }
    __syncthreads();
    if (threadIdx.x == 0)
        for (int c = 0; c < CNN_CLASSES; c++) {
            float s = red[0][c];
            for (int w = 1; w < PERSIST_WARPS; w++)
                s += red[w][c];
            v[c] = s;
        }
    __syncthreads(); /* red is reused by the next call */
}

/* Per image a block: logits, and with_loss the loss too. A block per image
 * keeps the most threads at work at small batches; a block per several
 * images, sharing each fc_w load, was slower at (100, 32) (bench/NOTES.md,
 * v7's second run): each thread's chain of dependent rounds sets the time. */
static __device__ void fc_phase(const struct persist_args &a, bool with_loss)
{
    size_t K = (size_t)a.F * CNN_POOL_AREA;
    const float *fc_w = a.params + (size_t)a.F * (CNN_KTAPS + 1), *fc_b = fc_w + CNN_CLASSES * K;
    for (int b = blockIdx.x; b < a.n; b += gridDim.x) {
        float acc[CNN_CLASSES] = {0};
        const float *m = a.pooled + (size_t)b * K;
        /* unrolled so that several iterations' loads are in flight at once */
#pragma unroll 4
        for (size_t k = threadIdx.x; k < K; k += blockDim.x) {
            float mv = m[k];
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++)
                acc[c] = fmaf(fc_w[c * K + k], mv, acc[c]);
        }
        block_sum10(acc);
        if (threadIdx.x == 0) {
            float z[CNN_CLASSES];
            for (int c = 0; c < CNN_CLASSES; c++) {
                z[c] = acc[c] + fc_b[c];
                a.logits[b * CNN_CLASSES + c] = z[c];
            }
            if (with_loss)
                image_loss(a, b, z);
        }
    }
}

/* Eager loss_forward: one thread per image, from the stored logits. */
static __device__ void loss_phase(const struct persist_args &a)
{
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < a.n; b += gridDim.x * blockDim.x) {
        float z[CNN_CLASSES];
        for (int c = 0; c < CNN_CLASSES; c++)
            z[c] = a.logits[b * CNN_CLASSES + c];
        image_loss(a, b, z);
    }
}

/* Block 0: the batch's loss sum (double) and hits, images in a fixed order. */
static __device__ void metrics_phase(const struct persist_args &a)
{
    if (blockIdx.x != 0)
        return;
    double loss = 0.0;
    int hit = 0;
    for (int b = threadIdx.x; b < a.n; b += blockDim.x) {
        loss += a.image_loss[b];
        hit += a.image_correct[b];
    }
    block_sum(&loss, &hit);
    if (threadIdx.x == 0) {
        a.metrics->loss_sum = loss;
        a.metrics->correct = hit;
    }
    __syncthreads();
}

/* Per (filter, chunk) a block, thread = pooled position. */
static __device__ void backward_phase(const struct persist_args &a)
{
    size_t K = (size_t)a.F * CNN_POOL_AREA;
    const float *fc_w = a.params + (size_t)a.F * (CNN_KTAPS + 1);
    int pos = threadIdx.x;
    bool active = pos < CNN_POOL_AREA;
    int i = pos / CNN_POOL, j = pos % CNN_POOL;
    int units = a.F * a.chunks;
    for (int u = blockIdx.x; u < units; u += gridDim.x) {
        int f = u / a.chunks, ch = u % a.chunks;
        size_t k = (size_t)f * CNN_POOL_AREA + pos;
        float wcol[CNN_CLASSES], accw[CNN_CLASSES], acc[CNN_KTAPS + 1];
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++) {
            wcol[c] = active ? fc_w[c * K + k] : 0.0f;
            accw[c] = 0.0f;
            acc[c] = 0.0f;
        }
        int b0 = ch * a.chunk_images, b1 = min(a.n, b0 + a.chunk_images);
#pragma unroll 4
        for (int b = b0; active && b < b1; b++) {
            size_t at = (size_t)b * K + k;
            float mv = a.pooled[at];
            unsigned d = a.argmax[at];
            const float *dl = a.dlogits + b * CNN_CLASSES;
            /* dm as fc backward forms it: from 0, classes in order */
            float dm = 0.0f;
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++) {
                float g = dl[c];
                accw[c] = fmaf(g, mv, accw[c]);
                dm = fmaf(wcol[c], g, dm);
            }
            if (d != CUDA_NO_ARGMAX) {
                const float *win = a.x + (size_t)b * CNN_PIXELS +
                                   (2 * i + d / CNN_POOLW) * CNN_IMG + 2 * j + d % CNN_POOLW;
#pragma unroll
                for (int p = 0; p < CNN_KSIZE; p++)
#pragma unroll
                    for (int q = 0; q < CNN_KSIZE; q++)
                        acc[p * CNN_KSIZE + q] =
                            fmaf(dm, win[p * CNN_IMG + q], acc[p * CNN_KSIZE + q]);
                acc[CNN_KTAPS] += dm;
            }
        }
        if (active)
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++)
                a.fc_part[((size_t)ch * CNN_CLASSES + c) * K + k] = accw[c];
        block_sum10(acc);
        if (threadIdx.x == 0)
            for (int t = 0; t <= CNN_KTAPS; t++)
                a.conv_part[((size_t)ch * a.F + f) * (CNN_KTAPS + 1) + t] = acc[t];
    }
}

/* theta -= lr * grad, the product rounded on its own as seq rounds it */
static __device__ __forceinline__ float sgd(float p, float g, float lr)
{
    return p - __fmul_rn(lr, g);
}

/* Per parameter: its gradient from the partials in order, with_update
 * the SGD step on it too. */
static __device__ void sum_phase(const struct persist_args &a, bool with_update)
{
    size_t K = (size_t)a.F * CNN_POOL_AREA, F = (size_t)a.F;
    size_t conv_w = F * CNN_KTAPS, conv_end = F * (CNN_KTAPS + 1), fc_end = conv_end + CNN_CLASSES * K;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < a.count;
         e += (size_t)gridDim.x * blockDim.x) {
        float g;
        if (e < conv_end) {
            /* conv_w [F][9], then conv_b [F]: part row 0..8, then 9 */
            size_t f = e < conv_w ? e / CNN_KTAPS : e - conv_w;
            int t = e < conv_w ? (int)(e % CNN_KTAPS) : CNN_KTAPS;
            const float *part = a.conv_part + f * (CNN_KTAPS + 1) + t;
            g = part[0];
            for (int ch = 1; ch < a.chunks; ch++)
                g += part[(size_t)ch * F * (CNN_KTAPS + 1)];
        } else if (e < fc_end) {
            const float *part = a.fc_part + (e - conv_end);
            g = part[0];
            for (int ch = 1; ch < a.chunks; ch++)
                g += part[(size_t)ch * CNN_CLASSES * K];
        } else {
            int c = (int)(e - fc_end);
            g = a.dlogits[c];
            for (int b = 1; b < a.n; b++)
                g += a.dlogits[b * CNN_CLASSES + c];
        }
        a.grads[e] = g;
        if (with_update)
            a.params[e] = sgd(a.params[e], g, a.lr);
    }
}

static __device__ void update_phase(const struct persist_args &a)
{
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < a.count;
         e += (size_t)gridDim.x * blockDim.x)
        a.params[e] = sgd(a.params[e], a.grads[e], a.lr);
}

/*
 * The phases in `phases`, in step order. A cooperative launch (the whole
 * step) waits at a grid barrier wherever a phase needs every block's
 * results; an eager launch runs one phase (or phases that need no barrier
 * between them) and is never asked to wait.
 */
__global__ void __launch_bounds__(PERSIST_THREADS)
persist_step(struct persist_args a, unsigned phases, int cooperative)
{
    bool stamps = a.stamp && blockIdx.x == 0 && threadIdx.x == 0;
    auto barrier = [&](int k) {
        if (cooperative)
            cg::this_grid().sync();
        if (stamps)
            a.stamp[k] = global_ns();
    };
    if (phases & PHASE_CONV)
        conv_phase(a);
    barrier(0);
    if (phases & PHASE_FC)
        fc_phase(a, (phases & PHASE_LOSS) != 0);
    else if (phases & PHASE_LOSS)
        loss_phase(a);
    barrier(1);
    if (phases & PHASE_METRICS)
        metrics_phase(a);
    if (phases & PHASE_BACKWARD)
        backward_phase(a);
    barrier(2);
    if (phases & PHASE_SUM)
        sum_phase(a, (phases & PHASE_UPDATE) != 0);
    else if (phases & PHASE_UPDATE)
        update_phase(a);
    if (a.stamp) {
        /* the last block to finish stamps the end and rearms the counter */
        __syncthreads();
        if (threadIdx.x == 0) {
            __threadfence();
            if (atomicAdd(a.done, 1u) == gridDim.x - 1) {
                a.stamp[CUDA_PERSIST_STAMPS - 1] = global_ns();
                *a.done = 0;
            }
        }
    }
}

/* ---- host side ---- */

/* Backward image chunks, a function of (n, F) alone: enough chunks that
 * the (filter, chunk) units fill about PERSIST_BWD_UNITS blocks, since
 * each thread runs its chunk's images one after another (every image a
 * dependent load of its decision, then of the pixels it names), and at
 * most PERSIST_CHUNKS of them (each writes a partial of dfc_w, C*K floats). */
static int chunk_images(int n, int F)
{
    int chunks = (int)gpu_div_up(PERSIST_BWD_UNITS, (size_t)F);
    chunks = chunks > PERSIST_CHUNKS ? PERSIST_CHUNKS : chunks;
    chunks = chunks > n ? n : chunks;
    return (int)gpu_div_up((size_t)n, (size_t)chunks);
}

/* The most chunks of any batch 1..batch. */
static size_t most_chunks(int batch, int F)
{
    size_t chunks = gpu_div_up(PERSIST_BWD_UNITS, (size_t)F);
    chunks = chunks > (size_t)PERSIST_CHUNKS ? (size_t)PERSIST_CHUNKS : chunks;
    return chunks > (size_t)batch ? (size_t)batch : chunks;
}

size_t cuda_persist_fc_workspace(int batch, int filters)
{
    return most_chunks(batch, filters) * CNN_CLASSES * cnn_features(filters);
}

size_t cuda_persist_conv_workspace(int batch, int filters)
{
    return most_chunks(batch, filters) * filters * (CNN_KTAPS + 1);
}

/* The grid: as many blocks as are resident at once on this device, which a
 * cooperative launch requires; every launch of the state uses it. */
cnn_status cuda_persist_setup(cnn_state *s)
{
    int coop = 0, sms = 0, per_sm = 0;
    GPU_CHECK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, s->device));
    if (!coop)
        return cnn_fail(CNN_E_UNAVAILABLE, "cuda v7: this GPU cannot launch cooperative "
                        "kernels (one persistent kernel per step); another variant can run");
    GPU_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, s->device));
    GPU_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, persist_step,
                                                            PERSIST_THREADS, 0));
    if (per_sm < 1)
        return cnn_fail(CNN_E_UNAVAILABLE, "cuda v7: the step kernel does not fit on an SM");
    s->persist.grid = sms * per_sm;
    return CNN_OK;
}

static cnn_status launch(cnn_state *s, unsigned phases, int cooperative)
{
    int n = s->n;
    struct persist_args a;
    a.x = s->x;
    a.y = s->y;
    a.n = n;
    a.F = s->cfg.filters;
    a.chunk_images = chunk_images(n, a.F);
    a.chunks = (int)gpu_div_up((size_t)n, (size_t)a.chunk_images);
    a.lr = s->cfg.lr;
    /* seq's 1.0f / (float)n, over the global batch for a data-parallel rank */
    a.inv_n = 1.0f / (float)s->mean_over;
    a.params = s->params_buf;
    a.grads = s->grads_buf;
    a.count = s->count;
    a.pooled = s->pooled;
    a.argmax = s->argmax;
    a.logits = s->logits;
    a.probs = s->probs;
    a.dlogits = s->dlogits;
    a.image_loss = s->image_loss;
    a.image_correct = s->image_correct;
    a.metrics = &s->step_out->metrics;
    a.fc_part = s->fc_bwd_part;
    a.conv_part = s->conv_bwd_part;
    a.stamp = cooperative ? s->step_out->stamp : NULL;
    a.done = s->loss_done;
    if (cooperative) {
        void *args[] = {&a, &phases, &cooperative};
        GPU_CHECK(cudaLaunchCooperativeKernel((const void *)persist_step, s->persist.grid,
                                              PERSIST_THREADS, args, 0, s->stream));
    } else {
        persist_step<<<s->persist.grid, PERSIST_THREADS, 0, s->stream>>>(a, phases, 0);
    }
    CUDA_LAUNCHED(s, "persist_step");
    return CNN_OK;
}

cnn_status cuda_persist_slot(cnn_state *s, enum cnn_region r)
{
    if (s->persist.open) {
        /* a timed step: conv_forward launches all of it, the rest is done */
        if (r != CNN_REGION_CONV_FWD)
            return CNN_OK;
        s->persist.ran = 1;
        return launch(s, PHASE_STEP, 1);
    }
    switch (r) {
    case CNN_REGION_CONV_FWD: return launch(s, PHASE_CONV, 0);
    case CNN_REGION_FC_FWD: return launch(s, PHASE_FC, 0);
    case CNN_REGION_LOSS_FWD:
        CNN_TRY(launch(s, PHASE_LOSS, 0));
        return launch(s, PHASE_METRICS, 0);
    case CNN_REGION_LOSS_BWD: return CNN_OK; /* the loss phase formed dlogits */
    case CNN_REGION_FC_BWD: return launch(s, PHASE_BACKWARD, 0);
    case CNN_REGION_CONV_BWD: return launch(s, PHASE_SUM, 0);
    case CNN_REGION_UPDATE: return launch(s, PHASE_UPDATE, 0);
    default: return cnn_fail(CNN_E_ARG, "cuda v7: no slot for region %s", cnn_region_name(r));
    }
}

int cuda_persist_owns_step(const cnn_state *s)
{
    return s->variant == CUDA_VARIANT_PERSISTENT && !s->group;
}

/* A timed step is open from h2d's start to d2h's end: between those
 * marks conv_forward launches the whole step. */
void cuda_persist_mark(cnn_state *s, enum cnn_region r, int end)
{
    if (r == CNN_REGION_H2D && !end) {
        s->persist.open = 1;
        s->persist.ran = 0;
    } else if (r == CNN_REGION_D2H && end) {
        s->persist.open = 0;
    }
}

/* Splits the launch's region by the kernel's stamps. conv_fwd's events
 * enclose the whole kernel (from the end of h2d to the kernel's end); the
 * later compute regions' events enclose only host time, since their slots
 * enqueue nothing (about 0, unless the host was late). The phases move
 * from conv_fwd to the regions whose work they do, and the host time of a
 * region without work to the next region with work (loss_fwd's and
 * loss_bwd's to fc_bwd, conv_bwd's to update), so the regions still tile
 * the span and a region without work reads exactly 0. */
void cuda_persist_regions(cnn_state *s, double ms[CNN_REGION_COUNT])
{
    int ran = s->persist.ran;
    s->persist.ran = 0;
    if (!ran)
        return;
    /* stamps: after the conv, fc and backward barriers, and the end */
    const unsigned long long *t = s->host_out->stamp;
    double fc = (double)(t[1] - t[0]) * 1e-6, bwd = (double)(t[2] - t[1]) * 1e-6,
           sum = (double)(t[3] - t[2]) * 1e-6;
    ms[CNN_REGION_CONV_FWD] -= fc + bwd + sum;
    ms[CNN_REGION_FC_FWD] += fc;
    ms[CNN_REGION_FC_BWD] += bwd + ms[CNN_REGION_LOSS_FWD] + ms[CNN_REGION_LOSS_BWD];
    ms[CNN_REGION_UPDATE] += sum + ms[CNN_REGION_CONV_BWD];
    ms[CNN_REGION_LOSS_FWD] = ms[CNN_REGION_LOSS_BWD] = ms[CNN_REGION_CONV_BWD] = 0.0;
}
