/*
 * cuda_fc.cu — the fully connected layer on the GPU:
 *   forward   logits [n][C] = fc_b + m [n][K] . fc_w^T [K][C]
 *   backward  dfc_w [C][K] = dlogits^T m,  dfc_b = column sums of dlogits,
 *             dm [n][K] = dlogits [n][C] . fc_w [C][K]
 * With C = 10 both products are skinny: reading m (n*K floats) and writing
 * dm dominate, so the v2 kernels are shaped around streaming m once.
 *
 * Variants:
 *   v1  forward: one thread per image, a plain dot product per class.
 *       backward: dm one thread per image; dfc_w one thread per weight
 *       looping over the batch; dfc_b one thread per class.
 *   v2  forward: split-K. A block takes a 1024-wide slice of K (its fc_w
 *       slice staged in shared memory) and 32 rows; each warp streams 4 rows
 *       with vector loads, holding 4 rows x 10 classes of partial sums per
 *       lane, reduced by a warp butterfly. A second kernel adds the slices in
 *       order, then the bias.
 *       backward: one kernel reads m once and writes dm once. Each thread
 *       owns 4 consecutive k (their 10x4 fc_w in registers) and walks a fixed
 *       chunk of rows, accumulating dfc_w partial sums while it writes dm. A
 *       second kernel adds the chunks in order and reduces dfc_b.
 *   v3  forward: v2 with m streamed through a per-lane cp.async ring in
 *       shared memory, three strides ahead: more bytes in flight without
 *       more registers (bytes in flight are what bound v2).
 *       backward: v2 with four rows of m loaded before any is used, for more
 *       bytes in flight per thread.
 *       The second kernels are v2's. Folding them into the last block to
 *       finish (as conv and loss do) was measured slower here: their sums
 *       then run on a few blocks at the end instead of the whole GPU.
 *   v4  forward: v3's. backward: v3 without dm, which v4's conv backward
 *       forms itself from dlogits and fc_w: m is read once, nothing of
 *       size n*K is written.
 *   Vector loads need K % 4 == 0 (F % 4 == 0); otherwise the same kernels
 *   run with scalar loads.
 * Every reduction has a fixed order and no atomics: bitwise reproducible.
 */
#include <cuda_pipeline.h>

#include "cuda_internal.cuh"

enum {
    FC_V1_THREADS = 128,
    FC_SLICE = 1024,        /* v2 forward: K per block */
    FC_WARPS = 8,
    FC_ROWS_PER_WARP = 4,
    FC_ROWS = FC_WARPS * FC_ROWS_PER_WARP, /* v2 forward: rows per block */
    FC3_STAGES = 4,         /* v3 forward: cp.async ring depth in strides */
    FC_BWD_THREADS = 128,
    FC_BWD_TILE = 128,      /* v2 backward: dlogits rows staged per pass */
    FC_BWD_MAX_CHUNKS = 12, /* backward: row chunks, each a dfc_w partial */
    FC_BWD_UNROLL = 4,      /* v3 backward: rows loaded ahead */
    FC_BWD_CHUNK_MIN = 16,  /* backward: fewest rows per chunk */
    FC_FINISH_THREADS = 32 * CNN_CLASSES,
};

/* V consecutive floats from 16-byte aligned memory when V == 4. */
template <int V> __device__ __forceinline__ void load_floats(const float *p, float v[V])
{
    if constexpr (V == 4) {
        float4 t = *reinterpret_cast<const float4 *>(p);
        v[0] = t.x;
        v[1] = t.y;
        v[2] = t.z;
        v[3] = t.w;
    } else {
        for (int i = 0; i < V; i++)
            v[i] = p[i];
    }
}

template <int V> __device__ __forceinline__ void store_floats(float *p, const float v[V])
{
    if constexpr (V == 4) {
        *reinterpret_cast<float4 *>(p) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
        for (int i = 0; i < V; i++)
            p[i] = v[i];
    }
}

/* ---- v1 ---- */

/* m [n][K], w [C][K], fb [C] -> logits [n][C]; thread = image */
__global__ void fc_forward_v1(const float *m, const float *w, const float *fb, int n, size_t K,
                              float *logits)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n)
        return;
    for (int c = 0; c < CNN_CLASSES; c++) {
        float sum = 0.0f;
        for (size_t k = 0; k < K; k++)
            sum += w[c * K + k] * m[b * K + k];
        logits[b * CNN_CLASSES + c] = fb[c] + sum;
    }
}

/* w [C][K], dlogits [n][C] -> dm [n][K]; thread = image */
__global__ void fc_backward_v1_dm(const float *w, const float *dlogits, int n, size_t K,
                                  float *dm)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n)
        return;
    for (size_t k = 0; k < K; k++) {
        float d = 0.0f;
        for (int c = 0; c < CNN_CLASSES; c++)
            d += w[c * K + k] * dlogits[b * CNN_CLASSES + c];
        dm[b * K + k] = d;
    }
}

/* m [n][K], dlogits [n][C] -> dw [C][K]; thread = weight */
__global__ void fc_backward_v1_dw(const float *m, const float *dlogits, int n, size_t K,
                                  float *dw)
{
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= CNN_CLASSES * K)
        return;
    size_t c = t / K, k = t % K;
    float sum = 0.0f;
    for (int b = 0; b < n; b++)
        sum += dlogits[b * CNN_CLASSES + c] * m[b * K + k];
    dw[t] = sum;
}

/* dlogits [n][C] -> db [C]; thread = class */
__global__ void fc_backward_v1_db(const float *dlogits, int n, float *db)
{
    int c = threadIdx.x;
    if (c >= CNN_CLASSES)
        return;
    float sum = 0.0f;
    for (int b = 0; b < n; b++)
        sum += dlogits[b * CNN_CLASSES + c];
    db[c] = sum;
}

/* ---- v2 ---- */

/*
 * m [n][K], w [C][K] -> part [n][slices][C], the dot products over one
 * 1024-wide slice of K.
 * grid: slices * ceil(n/32) blocks, block r*slices+s = rows 32r..32r+31 of
 * slice s; warp = 4 rows; lane = V consecutive k, striding by 32V.
 */
template <int V>
__global__ void __launch_bounds__(FC_WARPS * 32)
fc_forward_v2(const float *m, const float *w, int n, int K, int slices, float *part)
{
    __shared__ __align__(16) float ws[CNN_CLASSES][FC_SLICE];
    int slice = blockIdx.x % slices, rowblock = blockIdx.x / slices;
    int k0 = slice * FC_SLICE, kn = min(FC_SLICE, K - k0);
    for (int c = 0; c < CNN_CLASSES; c++)
        for (int t = threadIdx.x * V; t < kn; t += blockDim.x * V) {
            float v[V];
            load_floats<V>(w + (size_t)c * K + k0 + t, v);
            store_floats<V>(&ws[c][t], v);
        }
    __syncthreads();

    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row0 = rowblock * FC_ROWS + warp * FC_ROWS_PER_WARP;
    float acc[FC_ROWS_PER_WARP][CNN_CLASSES];
#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            acc[r][c] = 0.0f;

    for (int t = lane * V; t < kn; t += 32 * V) {
        float mv[FC_ROWS_PER_WARP][V];
#pragma unroll
        for (int r = 0; r < FC_ROWS_PER_WARP; r++) {
            if (row0 + r < n) {
                load_floats<V>(m + (size_t)(row0 + r) * K + k0 + t, mv[r]);
            } else {
#pragma unroll
                for (int v = 0; v < V; v++)
                    mv[r][v] = 0.0f;
            }
        }
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++) {
            float wv[V];
            load_floats<V>(&ws[c][t], wv);
#pragma unroll
            for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
                for (int v = 0; v < V; v++)
                    acc[r][c] = fmaf(wv[v], mv[r][v], acc[r][c]);
        }
    }

    /* butterfly: every lane ends with the warp's totals, in a fixed order */
#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                acc[r][c] += __shfl_xor_sync(0xffffffffu, acc[r][c], off);
#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            if (lane == c && row0 + r < n)
                part[((size_t)(row0 + r) * slices + slice) * CNN_CLASSES + c] = acc[r][c];
}

/* Dynamic shared memory of fc_forward_v3<V>: the fc_w slice, then each
 * warp's ring of FC3_STAGES stages x 4 rows x 32 lanes x V floats. */
template <int V> constexpr size_t fc3_smem_bytes()
{
    return (size_t)CNN_CLASSES * FC_SLICE * sizeof(float) +
           (size_t)FC_WARPS * FC3_STAGES * FC_ROWS_PER_WARP * 32 * V * sizeof(float);
}

/* Copies stride `it` of this lane's 4 rows (k = k_lane + 32V*it) into ring
 * stage it % FC3_STAGES, asynchronously. */
template <int V>
__device__ __forceinline__ void fc3_issue(float *ring, const float *m, int n, int K, int row0,
                                          int k_lane, int it)
{
    float *slot = ring + (size_t)(it % FC3_STAGES) * FC_ROWS_PER_WARP * 32 * V;
    int lane = threadIdx.x % 32;
#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
        if (row0 + r < n)
            __pipeline_memcpy_async(slot + (r * 32 + lane) * V,
                                    m + (size_t)(row0 + r) * K + k_lane + it * 32 * V,
                                    V * sizeof(float));
}

/*
 * As fc_forward_v2, with m streamed through a per-lane cp.async ring: each
 * lane keeps FC3_STAGES - 1 strides of its 4 rows in flight in shared
 * memory (no registers held), and reads back only what it copied itself,
 * so no block-wide synchronisation is needed inside the loop.
 * grid and part as fc_forward_v2; dynamic shared memory fc3_smem_bytes<V>().
 */
template <int V>
__global__ void __launch_bounds__(FC_WARPS * 32, 2)
fc_forward_v3(const float *m, const float *w, int n, int K, int slices, float *part)
{
    extern __shared__ __align__(16) float fc3_smem[];
    float (*ws)[FC_SLICE] = reinterpret_cast<float (*)[FC_SLICE]>(fc3_smem);
    int slice = blockIdx.x % slices, rowblock = blockIdx.x / slices;
    int k0 = slice * FC_SLICE, kn = min(FC_SLICE, K - k0);
    for (int c = 0; c < CNN_CLASSES; c++)
        for (int t = threadIdx.x * V; t < kn; t += blockDim.x * V) {
            float v[V];
            load_floats<V>(w + (size_t)c * K + k0 + t, v);
            store_floats<V>(&ws[c][t], v);
        }

    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int row0 = rowblock * FC_ROWS + warp * FC_ROWS_PER_WARP;
    /* ring[stage][row][lane * V + v] for this warp */
    float *ring = fc3_smem + CNN_CLASSES * FC_SLICE +
                  (size_t)warp * FC3_STAGES * FC_ROWS_PER_WARP * 32 * V;
    int strides = lane * V < kn ? (kn - lane * V + 32 * V - 1) / (32 * V) : 0;
    for (int it = 0; it < FC3_STAGES - 1; it++) {
        if (it < strides)
            fc3_issue<V>(ring, m, n, K, row0, k0 + lane * V, it);
        __pipeline_commit();
    }
    __syncthreads(); /* ws is ready */

    float acc[FC_ROWS_PER_WARP][CNN_CLASSES];
#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            acc[r][c] = 0.0f;
    for (int it = 0; it < strides; it++) {
        if (it + FC3_STAGES - 1 < strides)
            fc3_issue<V>(ring, m, n, K, row0, k0 + lane * V, it + FC3_STAGES - 1);
        __pipeline_commit();
        __pipeline_wait_prior(FC3_STAGES - 1);
        const float *slot = ring + (size_t)(it % FC3_STAGES) * FC_ROWS_PER_WARP * 32 * V;
        int t = lane * V + it * 32 * V;
        float mv[FC_ROWS_PER_WARP][V];
#pragma unroll
        for (int r = 0; r < FC_ROWS_PER_WARP; r++) {
            load_floats<V>(slot + (r * 32 + lane) * V, mv[r]);
            if (row0 + r >= n)
#pragma unroll
                for (int v = 0; v < V; v++)
                    mv[r][v] = 0.0f;
        }
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++) {
            float wv[V];
            load_floats<V>(&ws[c][t], wv);
#pragma unroll
            for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
                for (int v = 0; v < V; v++)
                    acc[r][c] = fmaf(wv[v], mv[r][v], acc[r][c]);
        }
    }

#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                acc[r][c] += __shfl_xor_sync(0xffffffffu, acc[r][c], off);
#pragma unroll
    for (int r = 0; r < FC_ROWS_PER_WARP; r++)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            if (lane == c && row0 + r < n)
                part[((size_t)(row0 + r) * slices + slice) * CNN_CLASSES + c] = acc[r][c];
}

/* part [n][slices][C], fb [C] -> logits [n][C]: slices added in order, then the bias */
__global__ void fc_forward_finish(const float *part, const float *fb, int n, int slices,
                                  float *logits)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= n * CNN_CLASSES)
        return;
    int b = t / CNN_CLASSES, c = t % CNN_CLASSES;
    const float *p = part + (size_t)b * slices * CNN_CLASSES + c;
    float sum = 0.0f;
    for (int s = 0; s < slices; s++)
        sum += p[(size_t)s * CNN_CLASSES];
    logits[t] = fb[c] + sum;
}

/*
 * m [n][K], w [C][K], dlogits [n][C] -> dm [n][K] and
 * part [chunks][C][K], the dfc_w sums over each chunk's rows.
 * grid: chunks * kblocks blocks, block q*kblocks+j = rows of chunk q,
 * k in [128Vj, 128V(j+1)); thread = V consecutive k.
 */
template <int V>
__global__ void __launch_bounds__(FC_BWD_THREADS)
fc_backward_v2(const float *m, const float *w, const float *dlogits, int n, int K, int kblocks,
               int chunk_rows, float *part, float *dm)
{
    __shared__ __align__(16) float g[FC_BWD_TILE][12]; /* 10 classes padded to three float4 */
    int kb = blockIdx.x % kblocks, chunk = blockIdx.x / kblocks;
    int k = (kb * FC_BWD_THREADS + threadIdx.x) * V;
    bool active = k < K;
    float wr[CNN_CLASSES][V], acc[CNN_CLASSES][V];
#pragma unroll
    for (int c = 0; c < CNN_CLASSES; c++) {
        if (active)
            load_floats<V>(w + (size_t)c * K + k, wr[c]);
#pragma unroll
        for (int v = 0; v < V; v++)
            acc[c][v] = 0.0f;
    }

    int b0 = chunk * chunk_rows, b1 = min(n, b0 + chunk_rows);
    for (int tile = b0; tile < b1; tile += FC_BWD_TILE) {
        int rows = min((int)FC_BWD_TILE, b1 - tile);
        __syncthreads();
        for (int t = threadIdx.x; t < rows * 12; t += blockDim.x) {
            int r = t / 12, c = t % 12;
            g[r][c] = c < CNN_CLASSES ? dlogits[(size_t)(tile + r) * CNN_CLASSES + c] : 0.0f;
        }
        __syncthreads();
        if (!active)
            continue;
        for (int r = 0; r < rows; r++) {
            size_t at = (size_t)(tile + r) * K + k;
            float mv[V], d[V];
            load_floats<V>(m + at, mv);
            const float4 *gr = reinterpret_cast<const float4 *>(g[r]);
            float4 ga = gr[0], gb = gr[1], gc = gr[2];
            const float gv[CNN_CLASSES] = {ga.x, ga.y, ga.z, ga.w, gb.x,
                                           gb.y, gb.z, gb.w, gc.x, gc.y};
#pragma unroll
            for (int v = 0; v < V; v++)
                d[v] = 0.0f;
#pragma unroll
            for (int c = 0; c < CNN_CLASSES; c++)
#pragma unroll
                for (int v = 0; v < V; v++) {
                    acc[c][v] = fmaf(gv[c], mv[v], acc[c][v]);
                    d[v] = fmaf(wr[c][v], gv[c], d[v]);
                }
            store_floats<V>(dm + at, d);
        }
    }
    if (active)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            store_floats<V>(part + ((size_t)chunk * CNN_CLASSES + c) * K + k, acc[c]);
}

/*
 * As fc_backward_v2, with FC_BWD_UNROLL rows of m loaded before any is used.
 * grid, part and dm as fc_backward_v2; with DM false (v4) dm is not formed.
 */
template <int V, bool DM>
__global__ void __launch_bounds__(FC_BWD_THREADS, 4)
fc_backward_v3(const float *m, const float *w, const float *dlogits, int n, int K, int kblocks,
               int chunk_rows, float *part, float *dm)
{
    __shared__ __align__(16) float g[FC_BWD_TILE][12]; /* 10 classes padded to three float4 */
    int kb = blockIdx.x % kblocks, chunk = blockIdx.x / kblocks;
    int k = (kb * FC_BWD_THREADS + threadIdx.x) * V;
    bool active = k < K;
    float wr[DM ? CNN_CLASSES : 1][V], acc[CNN_CLASSES][V];
#pragma unroll
    for (int c = 0; c < CNN_CLASSES; c++) {
        if (DM && active)
            load_floats<V>(w + (size_t)c * K + k, wr[c]);
#pragma unroll
        for (int v = 0; v < V; v++)
            acc[c][v] = 0.0f;
    }

    int b0 = chunk * chunk_rows, b1 = min(n, b0 + chunk_rows);
    for (int tile = b0; tile < b1; tile += FC_BWD_TILE) {
        int rows = min((int)FC_BWD_TILE, b1 - tile);
        __syncthreads();
        for (int t = threadIdx.x; t < rows * 12; t += blockDim.x) {
            int r = t / 12, c = t % 12;
            g[r][c] = c < CNN_CLASSES ? dlogits[(size_t)(tile + r) * CNN_CLASSES + c] : 0.0f;
        }
        __syncthreads();
        if (!active)
            continue;
        for (int r = 0; r < rows; r += FC_BWD_UNROLL) {
            float mv[FC_BWD_UNROLL][V];
#pragma unroll
            for (int u = 0; u < FC_BWD_UNROLL; u++)
                if (r + u < rows)
                    load_floats<V>(m + (size_t)(tile + r + u) * K + k, mv[u]);
#pragma unroll
            for (int u = 0; u < FC_BWD_UNROLL; u++) {
                if (r + u >= rows)
                    break;
                const float4 *gr = reinterpret_cast<const float4 *>(g[r + u]);
                float4 ga = gr[0], gb = gr[1], gc = gr[2];
                const float gv[CNN_CLASSES] = {ga.x, ga.y, ga.z, ga.w, gb.x,
                                               gb.y, gb.z, gb.w, gc.x, gc.y};
                float d[V];
#pragma unroll
                for (int v = 0; v < V; v++)
                    d[v] = 0.0f;
#pragma unroll
                for (int c = 0; c < CNN_CLASSES; c++)
#pragma unroll
                    for (int v = 0; v < V; v++) {
                        acc[c][v] = fmaf(gv[c], mv[u][v], acc[c][v]);
                        if constexpr (DM)
                            d[v] = fmaf(wr[c][v], gv[c], d[v]);
                    }
                if constexpr (DM)
                    store_floats<V>(dm + (size_t)(tile + r + u) * K + k, d);
            }
        }
    }
    if (active)
#pragma unroll
        for (int c = 0; c < CNN_CLASSES; c++)
            store_floats<V>(part + ((size_t)chunk * CNN_CLASSES + c) * K + k, acc[c]);
}

/*
 * part [chunks][C][K] -> dw [C][K], chunks added in order (blocks
 * 0..wblocks-1); dlogits [n][C] -> db [C] (the last block: warp c sums
 * column c, lane-strided, then a butterfly).
 */
__global__ void __launch_bounds__(FC_FINISH_THREADS)
fc_backward_finish(const float *part, const float *dlogits, int n, size_t K, int chunks,
                   int wblocks, float *dw, float *db)
{
    if ((int)blockIdx.x < wblocks) {
        size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
        if (t >= CNN_CLASSES * K)
            return;
        float sum = 0.0f;
        for (int q = 0; q < chunks; q++)
            sum += part[(size_t)q * CNN_CLASSES * K + t];
        dw[t] = sum;
        return;
    }
    int c = threadIdx.x / 32, lane = threadIdx.x % 32;
    float sum = 0.0f;
    for (int b = lane; b < n; b += 32)
        sum += dlogits[(size_t)b * CNN_CLASSES + c];
    for (int off = 16; off > 0; off >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0)
        db[c] = sum;
}

/* ---- sizes and chunking: functions of (n, F) only, never of the GPU ---- */

static int fwd_slices(size_t K) { return (int)gpu_div_up(K, FC_SLICE); }

static int bwd_chunks(int n)
{
    int c = (int)gpu_div_up((size_t)n, FC_BWD_CHUNK_MIN);
    return c > FC_BWD_MAX_CHUNKS ? FC_BWD_MAX_CHUNKS : c;
}

size_t cuda_fc_forward_workspace(int batch, int filters)
{
    return (size_t)batch * fwd_slices(cnn_features(filters)) * CNN_CLASSES;
}

size_t cuda_fc_backward_workspace(int batch, int filters)
{
    return (size_t)bwd_chunks(batch) * CNN_CLASSES * cnn_features(filters);
}

/* More than the default 48 KB of dynamic shared memory must be asked for,
 * on each device. */
cnn_status cuda_fc_setup(void)
{
    GPU_CHECK(cudaFuncSetAttribute(fc_forward_v3<4>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   (int)fc3_smem_bytes<4>()));
    GPU_CHECK(cudaFuncSetAttribute(fc_forward_v3<1>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   (int)fc3_smem_bytes<1>()));
    return CNN_OK;
}

/* ---- slots ---- */

template <int V> static cnn_status fc_forward_launch(cnn_state *s)
{
    int n = s->n, K = (int)s->K, slices = fwd_slices(s->K);
    unsigned blocks = (unsigned)slices * gpu_div_up(n, FC_ROWS);
    if (s->variant == CUDA_VARIANT_FUSED) {
        fc_forward_v2<V><<<blocks, FC_WARPS * 32, 0, s->stream>>>(
            s->pooled, s->params.fc_w, n, K, slices, s->fc_fwd_part);
        CUDA_LAUNCHED(s, V == 4 ? "fc_forward_v2<4>" : "fc_forward_v2<1>");
    } else {
        fc_forward_v3<V><<<blocks, FC_WARPS * 32, fc3_smem_bytes<V>(), s->stream>>>(
            s->pooled, s->params.fc_w, n, K, slices, s->fc_fwd_part);
        CUDA_LAUNCHED(s, V == 4 ? "fc_forward_v3<4>" : "fc_forward_v3<1>");
    }
    return cuda_fc_forward_sum(s, slices);
}

cnn_status cuda_fc_forward_sum(cnn_state *s, int slices)
{
    fc_forward_finish<<<gpu_div_up((size_t)s->n * CNN_CLASSES, 256), 256, 0, s->stream>>>(
        s->fc_fwd_part, s->params.fc_b, s->n, slices, s->logits);
    CUDA_LAUNCHED(s, "fc_forward_finish");
    return CNN_OK;
}

extern "C" cnn_status cuda_fc_forward(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_FC_FWD);
    if (s->variant == CUDA_VARIANT_RECOMPUTE)
        return cuda_fused_fc_forward(s);
    if (s->variant == CUDA_VARIANT_NAIVE) {
        fc_forward_v1<<<gpu_div_up(s->n, FC_V1_THREADS), FC_V1_THREADS, 0, s->stream>>>(
            s->pooled, s->params.fc_w, s->params.fc_b, s->n, s->K, s->logits);
        CUDA_LAUNCHED(s, "fc_forward_v1");
        return CNN_OK;
    }
    return s->K % 4 == 0 ? fc_forward_launch<4>(s) : fc_forward_launch<1>(s);
}

template <int V> static cnn_status fc_backward_launch(cnn_state *s)
{
    int n = s->n, K = (int)s->K, chunks = bwd_chunks(n);
    int kblocks = (int)gpu_div_up(s->K, (size_t)FC_BWD_THREADS * V);
    int chunk_rows = (int)gpu_div_up(n, chunks);
    if (s->variant == CUDA_VARIANT_FUSED) {
        fc_backward_v2<V><<<(unsigned)chunks * kblocks, FC_BWD_THREADS, 0, s->stream>>>(
            s->pooled, s->params.fc_w, s->dlogits, n, K, kblocks, chunk_rows, s->fc_bwd_part,
            s->dpooled);
        CUDA_LAUNCHED(s, V == 4 ? "fc_backward_v2<4>" : "fc_backward_v2<1>");
    } else if (s->variant == CUDA_VARIANT_TUNED) {
        fc_backward_v3<V, true><<<(unsigned)chunks * kblocks, FC_BWD_THREADS, 0, s->stream>>>(
            s->pooled, s->params.fc_w, s->dlogits, n, K, kblocks, chunk_rows, s->fc_bwd_part,
            s->dpooled);
        CUDA_LAUNCHED(s, V == 4 ? "fc_backward_v3<4>" : "fc_backward_v3<1>");
    } else {
        fc_backward_v3<V, false><<<(unsigned)chunks * kblocks, FC_BWD_THREADS, 0, s->stream>>>(
            s->pooled, s->params.fc_w, s->dlogits, n, K, kblocks, chunk_rows, s->fc_bwd_part,
            s->dpooled);
        CUDA_LAUNCHED(s, V == 4 ? "fc_backward_v4<4>" : "fc_backward_v4<1>");
    }
    return cuda_fc_backward_sum(s, chunks);
}

cnn_status cuda_fc_backward_sum(cnn_state *s, int chunks)
{
    unsigned wblocks = gpu_div_up(CNN_CLASSES * s->K, FC_FINISH_THREADS);
    fc_backward_finish<<<wblocks + 1, FC_FINISH_THREADS, 0, s->stream>>>(
        s->fc_bwd_part, s->dlogits, s->n, s->K, chunks, (int)wblocks, s->grads.fc_w,
        s->grads.fc_b);
    CUDA_LAUNCHED(s, "fc_backward_finish");
    return CNN_OK;
}

extern "C" cnn_status cuda_fc_backward(cnn_state *s)
{
    CUDA_SLOT_ROUTE(s, CNN_REGION_FC_BWD);
    if (s->variant == CUDA_VARIANT_RECOMPUTE)
        return cuda_fused_fc_backward(s);
    if (s->variant == CUDA_VARIANT_NAIVE) {
        fc_backward_v1_dm<<<gpu_div_up(s->n, FC_V1_THREADS), FC_V1_THREADS, 0, s->stream>>>(
            s->params.fc_w, s->dlogits, s->n, s->K, s->dpooled);
        CUDA_LAUNCHED(s, "fc_backward_v1_dm");
        fc_backward_v1_dw<<<gpu_div_up(CNN_CLASSES * s->K, FC_V1_THREADS), FC_V1_THREADS, 0,
                            s->stream>>>(s->pooled, s->dlogits, s->n, s->K, s->grads.fc_w);
        CUDA_LAUNCHED(s, "fc_backward_v1_dw");
        fc_backward_v1_db<<<1, 32, 0, s->stream>>>(s->dlogits, s->n, s->grads.fc_b);
        CUDA_LAUNCHED(s, "fc_backward_v1_db");
        return CNN_OK;
    }
    return s->K % 4 == 0 ? fc_backward_launch<4>(s) : fc_backward_launch<1>(s);
}
