/*
 * omp.c — the OpenMP backend: the network of docs/DESIGN.md §1 on every core, SIMD
 * across filters (impl/omp/omp_vec.h), and parameters that are bitwise the
 * same for every thread count. Functions carry the prefix ompb_ ("omp
 * backend"): omp_ itself belongs to the OpenMP runtime. This file holds the
 * parallel regions, and so the work split below; the hot kernels each region
 * calls per work item are in omp_kernels.c, compiled once per ISA level, and
 * create picks the level (omp_kernels.h, docs/DESIGN.md §4).
 *
 * Internal layouts (set_params/get_params/get_grads convert to and from the
 * canonical one). Filters are padded to Fp, a multiple of 16, so that one
 * vector is one filter block; padded filters have zero weights, produce
 * m = 0 and zero gradients, and so stay zero.
 *   conv_w [9][Fp] tap-major, directly followed by conv_b [Fp]: one [10][Fp]
 *   fc_w   [C][169][Fp]  (K' = 169 Fp: pooled features in HWC order)
 *   fc_b   [C]
 *   m      [B][169][Fp]  pooled activations
 *   code   [B][169][Fp]  the winning window position d = 2 di + dj (0..3) of
 *                        each pooled output, or OMPB_INACTIVE where m <= 0,
 *                        i.e. where ReLU passes no gradient (seq's m > 0 test)
 *
 * Work split. No floating-point sum is ever split by thread:
 *   conv_forward   images over threads. Each z is summed in seq's exact order
 *                  (bias, then taps (0,0)..(2,2), multiply and add rounded
 *                  separately), so m and the argmax equal seq's bit for bit:
 *                  a near tie decided otherwise would move a whole gradient
 *                  contribution, far beyond the agreement tolerance.
 *   fc_forward     pairs of images over threads.
 *   fc_backward    blocks of dfc_w columns over threads; each column sums the
 *                  batch in image order, so there are no partials at all.
 *   conv_backward  fixed chunks of OMPB_CHUNK images over threads, one
 *                  partial [10][Fp] per chunk, then the partials summed in
 *                  chunk order, in parallel over parameter elements.
 *
 * One fusion crosses a region boundary: the FC data gradient
 * dm = fc_w^T dlogits is formed inside conv_backward, one pool window at a
 * time, instead of being written by fc_backward and read back (2 x 4 B x
 * B x K' of memory traffic, 346 MB per step at B=1000, F=256). Its FLOPs
 * (2 C K' B) are therefore timed in conv_bwd, not fc_bwd.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "comm.h"
#include "error.h"
#include "omp_kernels.h"
#include "omp_vec.h"
#include "params.h"
#include "softmax.h"

enum {
    OMPB_FC_TILE = 4096, /* K' columns per fc_forward tile (fc_w tile 160 KB) */
    OMPB_ALIGN = 64,     /* cache line: no two threads' rows share one */
};

struct cnn_state {
    struct cnn_config cfg;
    const struct ompb_kernels *k; /* the hot kernels of the ISA level chosen at create */
    int threads;              /* OpenMP threads of every parallel region */
    int fpad;                 /* Fp */
    size_t kpad;              /* K' = 169 Fp */
    size_t count;             /* floats in params and in grads */
    float *params;            /* internal layout */
    float *grads;
    struct cnn_params p, g;   /* views of params and grads: the internal layout
                                 has the canonical sizes for F = Fp, so the
                                 canonical views (cnn_params_view) with
                                 filters = Fp: conv_w [9][Fp], conv_b [Fp],
                                 fc_w [C][169][Fp], fc_b [C] */
    const float *x;           /* [n][P] borrowed from the caller for one step */
    const uint8_t *y;         /* [n] */
    int n;                    /* images in the current batch, <= B */
    float *pooled;            /* m [B][169][Fp] */
    uint8_t *code;            /* [B][169][Fp] */
    float *logits;            /* [B][C] */
    float *probs;             /* [B][C] */
    float *dlogits;           /* [B][C] */
    float *fc_acc;            /* [B][C][16] fc_forward's vector accumulators */
    double *loss_img;         /* [B] -log p[y] of each image */
    uint8_t *hit_img;         /* [B] argmax == label */
    float *partial;           /* [ceil(B / OMPB_CHUNK)][10][Fp] conv gradient per chunk */
    double loss;
    int correct;
};

/* ---- allocation ---- */

static void *ompb_alloc(size_t bytes)
{
    size_t rounded = (bytes + OMPB_ALIGN - 1) / OMPB_ALIGN * OMPB_ALIGN;
    return aligned_alloc(OMPB_ALIGN, rounded ? rounded : OMPB_ALIGN);
}

static void ompb_destroy(cnn_state *s)
{
    if (!s)
        return;
    free(s->params);
    free(s->grads);
    free(s->pooled);
    free(s->code);
    free(s->logits);
    free(s->probs);
    free(s->dlogits);
    free(s->fc_acc);
    free(s->loss_img);
    free(s->hit_img);
    free(s->partial);
    free(s);
}

static cnn_status ompb_probe(void) { return CNN_OK; }

static int ompb_chunks(int n) { return (n + OMPB_CHUNK - 1) / OMPB_CHUNK; }

/* First touch: each image's activation rows are zeroed by the thread that
 * the static schedule of conv_forward gives that image, so on a NUMA
 * machine its pages sit on that thread's node (and no page fault is left
 * for the first timed step). */
static void ompb_first_touch(cnn_state *s)
{
    size_t row = CNN_POOL_AREA * (size_t)s->fpad;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->cfg.batch; b++) {
        memset(s->pooled + b * row, 0, row * sizeof *s->pooled);
        memset(s->code + b * row, 0, row);
    }
}

extern const struct cnn_backend cnn_backend_omp;

/* ---- the ISA level of the hot kernels ---- */

/* The kernel copies this build carries, best first (impl/omp/meson.build
 * defines OMPB_HAVE_<LEVEL> for each), with the CPU features their target
 * flags enable; the last one runs on any CPU the build runs on. */
struct ompb_level {
    const struct ompb_kernels *k;
    int (*runs_here)(void);
    const char *needs; /* the features runs_here checks, for the error message */
};

static int ompb_cpu_any(void) { return 1; }

#if OMPB_HAVE_AVX2 || OMPB_HAVE_AVX512
/* __builtin_cpu_supports also checks that the OS saves the wider registers */
static int ompb_cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

#if OMPB_HAVE_AVX512
static int ompb_cpu_avx512(void)
{
    return ompb_cpu_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}
#endif

static const struct ompb_level ompb_levels[] = {
#if OMPB_HAVE_NATIVE
    {&ompb_kernels_native, ompb_cpu_any, "the build machine's CPU"},
#endif
#if OMPB_HAVE_AVX512
    {&ompb_kernels_avx512, ompb_cpu_avx512, "AVX-512 F, BW, DQ and VL, AVX2 and FMA"},
#endif
#if OMPB_HAVE_AVX2
    {&ompb_kernels_avx2, ompb_cpu_avx2, "AVX2 and FMA"},
#endif
#if OMPB_HAVE_BASELINE
    {&ompb_kernels_baseline, ompb_cpu_any, "nothing beyond the compiler's default target"},
#endif
};
enum { OMPB_LEVELS = sizeof ompb_levels / sizeof *ompb_levels };

/* The best level this CPU runs, or the one CNNBENCH_ISA names, which must
 * be built in and run on this CPU: a lower level is there to compare with
 * and for tools that cannot decode the higher ones (valgrind: AVX-512). */
static cnn_status ompb_pick_kernels(const struct ompb_kernels **out)
{
    const char *want = getenv("CNNBENCH_ISA");
    int forced = want && *want;
    for (int i = 0; i < OMPB_LEVELS; i++) {
        const struct ompb_level *l = &ompb_levels[i];
        if (forced && strcmp(want, l->k->isa) != 0)
            continue;
        if (l->runs_here()) {
            *out = l->k;
            return CNN_OK;
        }
        if (forced)
            return cnn_fail(CNN_E_ARG, "omp: CNNBENCH_ISA=%s: this CPU cannot run that level "
                            "(it needs %s)", want, l->needs);
    }
    char names[64] = "";
    for (int i = 0; i < OMPB_LEVELS; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 ompb_levels[i].k->isa);
    return cnn_fail(CNN_E_ARG, "omp: CNNBENCH_ISA=%s names no kernel level of this build "
                    "(it has: %s)", want, names);
}

/* The run-time fact meta.json records (cnn.h, library_version): which
 * kernel level a state created now would run, since levels differ in
 * their last bits (docs/DESIGN.md §4). */
static int ompb_library_version(const char *library, char *buf, size_t len)
{
    if (strcmp(library, "omp_kernels") != 0)
        return 0;
    const struct ompb_kernels *k = NULL;
    if (ompb_pick_kernels(&k) != CNN_OK)
        snprintf(buf, len, "none (CNNBENCH_ISA=%s is not runnable here)", getenv("CNNBENCH_ISA"));
    else
        snprintf(buf, len, "%s", k->isa);
    return 1;
}

static cnn_status ompb_create(const struct cnn_config *cfg, cnn_state **out)
{
    CNN_TRY(cnn_config_check(&cnn_backend_omp, cfg));
    const struct ompb_kernels *k = NULL;
    CNN_TRY(ompb_pick_kernels(&k));
    cnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "omp: cannot allocate state");
    s->cfg = *cfg;
    s->k = k;
    s->threads = cfg->threads > 0 ? cfg->threads : omp_get_max_threads();
    s->fpad = (cfg->filters + OVEC_LANES - 1) / OVEC_LANES * OVEC_LANES;
    s->kpad = CNN_POOL_AREA * (size_t)s->fpad;
    s->count = (size_t)(CNN_KTAPS + 1) * s->fpad + CNN_CLASSES * s->kpad + CNN_CLASSES;
    size_t b = (size_t)cfg->batch, bk = b * s->kpad, bc = b * CNN_CLASSES;
    s->params = ompb_alloc(s->count * sizeof *s->params);
    s->grads = ompb_alloc(s->count * sizeof *s->grads);
    s->pooled = ompb_alloc(bk * sizeof *s->pooled);
    s->code = ompb_alloc(bk);
    s->logits = ompb_alloc(bc * sizeof *s->logits);
    s->probs = ompb_alloc(bc * sizeof *s->probs);
    s->dlogits = ompb_alloc(bc * sizeof *s->dlogits);
    s->fc_acc = ompb_alloc(bc * OVEC_LANES * sizeof *s->fc_acc);
    s->loss_img = ompb_alloc(b * sizeof *s->loss_img);
    s->hit_img = ompb_alloc(b);
    s->partial = ompb_alloc((size_t)ompb_chunks(cfg->batch) * (CNN_KTAPS + 1) * s->fpad *
                            sizeof *s->partial);
    if (!s->params || !s->grads || !s->pooled || !s->code || !s->logits || !s->probs ||
        !s->dlogits || !s->fc_acc || !s->loss_img || !s->hit_img || !s->partial) {
        ompb_destroy(s);
        return cnn_fail(CNN_E_NOMEM, "omp: cannot allocate activations for B=%d F=%d",
                        cfg->batch, cfg->filters);
    }
    memset(s->params, 0, s->count * sizeof *s->params);
    memset(s->grads, 0, s->count * sizeof *s->grads);
    cnn_params_view(&s->p, s->fpad, s->params);
    cnn_params_view(&s->g, s->fpad, s->grads);
    ompb_first_touch(s);
    *out = s;
    return CNN_OK;
}

/* ---- canonical <-> internal parameter layout ---- */

static cnn_status ompb_check_filters(const cnn_state *s, const struct cnn_params *p)
{
    if (p->filters != s->cfg.filters)
        return cnn_fail(CNN_E_ARG, "omp: parameters have %d filters, the model %d", p->filters,
                        s->cfg.filters);
    return CNN_OK;
}

/* canonical c (conv_w [F][9], conv_b [F], fc_w [C][F*169], fc_b [C]) -> internal v;
 * the padding of v is left as it is (zero) */
static void ompb_import(const cnn_state *s, const struct cnn_params *c, const struct cnn_params *v)
{
    int F = s->cfg.filters, Fp = s->fpad;
    for (int f = 0; f < F; f++) {
        for (int t = 0; t < CNN_KTAPS; t++)
            v->conv_w[t * Fp + f] = c->conv_w[f * CNN_KTAPS + t];
        v->conv_b[f] = c->conv_b[f];
    }
    size_t K = cnn_features(F);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int cls = 0; cls < CNN_CLASSES; cls++)
        for (int pos = 0; pos < CNN_POOL_AREA; pos++)
            for (int f = 0; f < F; f++)
                v->fc_w[((size_t)cls * CNN_POOL_AREA + pos) * Fp + f] =
                    c->fc_w[cls * K + (size_t)f * CNN_POOL_AREA + pos];
    memcpy(v->fc_b, c->fc_b, CNN_CLASSES * sizeof *v->fc_b);
}

/* internal v -> canonical c */
static void ompb_export(const cnn_state *s, const struct cnn_params *v, struct cnn_params *c)
{
    int F = s->cfg.filters, Fp = s->fpad;
    for (int f = 0; f < F; f++) {
        for (int t = 0; t < CNN_KTAPS; t++)
            c->conv_w[f * CNN_KTAPS + t] = v->conv_w[t * Fp + f];
        c->conv_b[f] = v->conv_b[f];
    }
    size_t K = cnn_features(F);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int cls = 0; cls < CNN_CLASSES; cls++)
        for (int f = 0; f < F; f++)
            for (int pos = 0; pos < CNN_POOL_AREA; pos++)
                c->fc_w[cls * K + (size_t)f * CNN_POOL_AREA + pos] =
                    v->fc_w[((size_t)cls * CNN_POOL_AREA + pos) * Fp + f];
    memcpy(c->fc_b, v->fc_b, CNN_CLASSES * sizeof *c->fc_b);
}

static cnn_status ompb_set_params(cnn_state *s, const struct cnn_params *p)
{
    CNN_TRY(ompb_check_filters(s, p));
    ompb_import(s, p, &s->p);
    return CNN_OK;
}

static cnn_status ompb_get_params(cnn_state *s, struct cnn_params *p)
{
    CNN_TRY(ompb_check_filters(s, p));
    ompb_export(s, &s->p, p);
    return CNN_OK;
}

static cnn_status ompb_get_grads(cnn_state *s, struct cnn_params *g)
{
    CNN_TRY(ompb_check_filters(s, g));
    ompb_export(s, &s->g, g);
    return CNN_OK;
}

/* CPU backends copy nothing: the batch is read in place. */
static cnn_status ompb_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    if (n < 1 || n > s->cfg.batch)
        return cnn_fail(CNN_E_ARG, "omp: batch of %d images, capacity %d", n, s->cfg.batch);
    s->x = x;
    s->y = y;
    s->n = n;
    return CNN_OK;
}

/* ---- conv + bias + ReLU + max-pool, forward ---- */

/* Images over threads. */
static cnn_status ompb_conv_forward(cnn_state *s)
{
    size_t row = s->kpad;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->n; b++)
        s->k->conv_image(s->x + (size_t)b * CNN_PIXELS, s->p.conv_w, s->p.conv_b, s->fpad,
                         s->pooled + b * row, s->code + b * row);
    return CNN_OK;
}

/* ---- fully connected layer ---- */

/*
 * logits[b][c] = fc_b[c] + sum_k fc_w[c][k] * m[b][k].
 * Blocked over K' in tiles of OMPB_FC_TILE columns: a tile of fc_w (10 x
 * 16 KB) stays in L2 while every image streams its part of m; the whole
 * fc_w (1.7 MB at F=256) would compete with m for L2. A static schedule
 * with the same bounds gives each thread the same pairs in every tile
 * (OpenMP guarantees it), so the tiles need no barrier between them. The
 * per-lane sums run over k in order either way: the tiling does not
 * change a bit.
 */
static cnn_status ompb_fc_forward(cnn_state *s)
{
    size_t kp = s->kpad;
    int pairs = (s->n + 1) / 2;
#pragma omp parallel num_threads(s->threads)
    {
        for (size_t k0 = 0; k0 < kp; k0 += OMPB_FC_TILE) {
            size_t k1 = kp - k0 < OMPB_FC_TILE ? kp : k0 + OMPB_FC_TILE;
#pragma omp for schedule(static) nowait
            for (int pr = 0; pr < pairs; pr++) {
                int b = 2 * pr, ni = b + 1 < s->n ? 2 : 1;
                s->k->fc_pair(s->p.fc_w, s->p.fc_b, s->pooled + b * kp, kp, k0, k1, ni,
                              b + 3 < s->n, s->fc_acc + (size_t)b * CNN_CLASSES * OVEC_LANES,
                              s->logits + b * CNN_CLASSES);
            }
        }
    }
    return CNN_OK;
}

/* dfc_w and dfc_b; dm is left to conv_backward (see the top of the file).
 * Column tiles are narrowed (down to 4 vectors) until every thread has at
 * least 4 of them: at F=32 full tiles would give 16 threads 21 tiles. */
static cnn_status ompb_fc_backward(cnn_state *s)
{
    size_t kp = s->kpad;
    size_t cols = kp / (4 * (size_t)s->threads) / OVEC_LANES * OVEC_LANES;
    cols = cols > OMPB_FC_COLS ? OMPB_FC_COLS : cols < 4 * OVEC_LANES ? 4 * OVEC_LANES : cols;
    long tiles = (long)((kp + cols - 1) / cols);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (long kt = 0; kt < tiles; kt++) {
        size_t k0 = (size_t)kt * cols;
        size_t width = kp - k0 < cols ? kp - k0 : cols;
        s->k->fc_wgrad_tile(s->pooled, s->dlogits, s->n, kp, k0, (int)(width / OVEC_LANES),
                            s->g.fc_w);
    }
    for (int c = 0; c < CNN_CLASSES; c++) {
        float sum = 0.0f;
        for (int b = 0; b < s->n; b++)
            sum += s->dlogits[b * CNN_CLASSES + c];
        s->g.fc_b[c] = sum;
    }
    return CNN_OK;
}

/* ---- softmax cross-entropy ---- */

/* p = softmax(s) with the row maximum subtracted; loss = mean_b -log p[y_b].
 * Per image in parallel, then the batch sums in image order. */
static cnn_status ompb_loss_forward(cnn_state *s)
{
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->n; b++) {
        int top;
        s->loss_img[b] = cnn_softmax_xent(s->logits + b * CNN_CLASSES, s->y[b],
                                          s->probs + b * CNN_CLASSES, &top);
        s->hit_img[b] = top == s->y[b];
    }
    double total = 0.0;
    int correct = 0;
    for (int b = 0; b < s->n; b++) {
        total += s->loss_img[b];
        correct += s->hit_img[b];
    }
    s->loss = total / s->n;
    s->correct = correct;
    return CNN_OK;
}

/* dlogits[b][c] = (p[b][c] - onehot(y_b)[c]) / B: B x C floats, not worth
 * waking the threads for */
static cnn_status ompb_loss_backward(cnn_state *s)
{
    cnn_softmax_xent_grad(s->probs, s->y, s->n, cnn_comm_mean_over(&s->cfg, s->n),
                          s->dlogits);
    return CNN_OK;
}

/* ---- conv backward, through the pool argmax ---- */

/*
 * dconv_w, dconv_b: each chunk's partial is summed over the windows, then
 * the chunk's images, whatever thread computes it; then the partials are
 * summed in chunk order straight into the internal gradient [10][Fp]
 * (conv_w rows, then conv_b), in parallel over its elements.
 */
static cnn_status ompb_conv_backward(cnn_state *s)
{
    int chunks = ompb_chunks(s->n);
    size_t stride = (size_t)(CNN_KTAPS + 1) * s->fpad;
    long vecs = (long)(stride / OVEC_LANES);
#pragma omp parallel num_threads(s->threads)
    {
#pragma omp for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            int b0 = ch * OMPB_CHUNK;
            int nb = s->n - b0 < OMPB_CHUNK ? s->n - b0 : OMPB_CHUNK;
            s->k->conv_grad_chunk(s->x, s->p.fc_w, s->dlogits, s->code, s->fpad, b0, nb,
                                  s->partial + ch * stride);
        }
#pragma omp for schedule(static)
        for (long v = 0; v < vecs; v++) {
            size_t e = (size_t)v * OVEC_LANES;
            ovec sum = ovec_load(s->partial + e);
            for (int ch = 1; ch < chunks; ch++)
                sum = ovec_add(sum, ovec_load(s->partial + ch * stride + e));
            ovec_store(s->g.conv_w + e, sum);
        }
    }
    return CNN_OK;
}

/* ---- update, metrics, hooks ---- */

/* One process of a job (cfg.comm): the gradient summed over every process,
 * the whole internal buffer at once (padding is zero on every process). */
static cnn_status ompb_allreduce(cnn_state *s)
{
    return cnn_comm_sum(&s->cfg, s->grads, s->count);
}

static int ompb_data_parallel(const cnn_state *s) { return cnn_comm_joined(&s->cfg); }

/* theta -= lr * grad over the whole internal buffer (padding stays zero) */
static cnn_status ompb_update(cnn_state *s)
{
    float lr = s->cfg.lr;
    float *p = s->params;
    const float *g = s->grads;
    long count = (long)s->count;
#pragma omp parallel for simd num_threads(s->threads) schedule(static)
    for (long i = 0; i < count; i++)
        p[i] -= lr * g[i];
    return CNN_OK;
}

static cnn_status ompb_read_metrics(cnn_state *s, double *loss, int *correct)
{
    *loss = s->loss;
    *correct = s->correct;
    return CNN_OK;
}

static cnn_status ompb_get_logits(cnn_state *s, float *logits)
{
    memcpy(logits, s->logits, (size_t)s->n * CNN_CLASSES * sizeof *logits);
    return CNN_OK;
}

static cnn_status ompb_set_logit_grad(cnn_state *s, const float *dlogits)
{
    memcpy(s->dlogits, dlogits, (size_t)s->n * CNN_CLASSES * sizeof *dlogits);
    return CNN_OK;
}

/* code [n][169][Fp] -> choice [n][F][169], the canonical order; the codes
 * are the contract's decisions already (0..3 or CNN_POOL_NO_GRAD). */
static cnn_status ompb_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    int F = s->cfg.filters, Fp = s->fpad;
    for (int b = 0; b < s->n; b++)
        for (int f = 0; f < F; f++)
            for (int pos = 0; pos < CNN_POOL_AREA; pos++)
                choice[((size_t)b * F + f) * CNN_POOL_AREA + pos] =
                    s->code[((size_t)b * CNN_POOL_AREA + pos) * Fp + f];
    return CNN_OK;
}

/* Forward only, in chunks of at most B images; pred [n]. */
static cnn_status ompb_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        s->x = x + (size_t)first * CNN_PIXELS;
        s->n = count;
        CNN_TRY(ompb_conv_forward(s));
        CNN_TRY(ompb_fc_forward(s));
        cnn_predict_classes(s->logits, count, pred + first);
    }
    s->n = 0;
    return CNN_OK;
}

const struct cnn_backend cnn_backend_omp = {
    .name = "omp",
    .description = "OpenMP threads + SIMD over filters; bitwise the same for every thread count",
    .caps = CNN_CAP_THREADS | CNN_CAP_THREAD_BASELINE | CNN_CAP_RANKS,
    .variant_count = 1,
    /* conv forward rounds like seq (verify compares it bitwise); the rest fuses */
    .fma_regions = CNN_REGION_BIT(CNN_REGION_FC_FWD) | CNN_REGION_BIT(CNN_REGION_FC_BWD) |
                   CNN_REGION_BIT(CNN_REGION_CONV_BWD),
    .dm_in_conv_backward = 1u << 0 | 1u << 1, /* its one variant, as 0 and as 1 */
    .probe = ompb_probe,
    .create = ompb_create,
    .destroy = ompb_destroy,
    .set_params = ompb_set_params,
    .get_params = ompb_get_params,
    .get_grads = ompb_get_grads,
    .load_batch = ompb_load_batch,
    .conv_forward = ompb_conv_forward,
    .fc_forward = ompb_fc_forward,
    .loss_forward = ompb_loss_forward,
    .loss_backward = ompb_loss_backward,
    .fc_backward = ompb_fc_backward,
    .conv_backward = ompb_conv_backward,
    .update = ompb_update,
    .read_metrics = ompb_read_metrics,
    .get_logits = ompb_get_logits,
    .set_logit_grad = ompb_set_logit_grad,
    .get_pool_choice = ompb_get_pool_choice,
    .predict = ompb_predict,
    .allreduce = ompb_allreduce,
    .data_parallel = ompb_data_parallel,
    .library_version = ompb_library_version,
};
