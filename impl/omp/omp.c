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
 *   code   [B][169][Fp]  the winning window position d = 2 di + dj (0..3) of
 *                        each pooled output, or OMPB_INACTIVE where m <= 0,
 *                        i.e. where ReLU passes no gradient (seq's m > 0 test)
 *   fc_acc [B][C][16]    per image, the FC products summed per vector lane
 *   part   [169][10][Fp] the conv gradient of each pool position
 *
 * m, the pooled activations (B x K' floats, 173 MB at B=1000, F=256), is
 * never stored; nor is dm. Storing m cost a write and two reads of it per
 * step, which bounded conv_fwd, fc_fwd and fc_bwd at the memory bandwidth
 * (bench/NOTES.md, "omp"). Instead (docs/DESIGN.md, "Regions of a fused
 * variant"; cuda v5 does the same on the GPU):
 *   conv_forward   images over threads, a contiguous share each, in groups
 *                  of up to OMPB_FWD_IMAGES. Each z is summed in seq's exact order
 *                  (bias, then taps (0,0)..(2,2), multiply and add rounded
 *                  separately), so m and the argmax equal seq's bit for bit:
 *                  a near tie decided otherwise would move a whole gradient
 *                  contribution, far beyond the agreement tolerance. While m
 *                  is in a register its FC products are summed into the
 *                  image's fc_acc, pooled outputs in order.
 *   fc_forward     images over threads: logits = fc_b + the lane sum of
 *                  fc_acc (one fixed tree).
 *   fc_backward    the whole backward, in units of columns: a pool position
 *                  and up to OMPB_UNIT_BLOCKS filter blocks, a partition set
 *                  by F alone, units over threads. A unit walks the images
 *                  in order, recomputes m at the stored decision (the
 *                  forward's operations, so the forward's bits), and owns its
 *                  columns of dfc_w and of part: no partial is ever split by
 *                  thread. dm = fc_w^T dlogits is formed there too.
 *   conv_backward  the partials summed in position order into the conv
 *                  gradient, in parallel over its elements.
 * Every sum has one order fixed by (B, F), so results are bitwise the same
 * for every thread count.
 *
 * Regions: conv_fwd holds the FC forward's FLOPs and fc_bwd every product
 * of the backward (dfc_w, dm, the conv gradient, and the recompute of m);
 * fc_fwd and conv_bwd only add. Compare with seq by the sums conv_fwd +
 * fc_fwd and fc_bwd + conv_bwd, or by the step.
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
    OMPB_ALIGN = 64, /* cache line: no two threads' rows share one */
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
    uint8_t *code;            /* [B][169][Fp] */
    float *logits;            /* [B][C] */
    float *probs;             /* [B][C] */
    float *dlogits;           /* [B][C] */
    float *fc_acc;            /* [B][C][16] conv_forward's FC products per lane */
    double *loss_img;         /* [B] -log p[y] of each image */
    uint8_t *hit_img;         /* [B] argmax == label */
    float *partial;           /* [169][10][Fp] conv gradient per pool position */
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

/* Backward units: pool positions times groups of OMPB_UNIT_BLOCKS filter
 * blocks; a function of F alone, so of no thread count. */
static int ompb_unit_groups(const cnn_state *s)
{
    int blocks = s->fpad / OVEC_LANES;
    return (blocks + OMPB_UNIT_BLOCKS - 1) / OMPB_UNIT_BLOCKS;
}

/* Thread t's share of n images in conv_forward, [*b0, *b1): contiguous,
 * sizes differing by at most one. */
static void ompb_share(int n, int threads, int t, int *b0, int *b1)
{
    *b0 = (int)((long)n * t / threads);
    *b1 = (int)((long)n * (t + 1) / threads);
}

/* First touch: each image's decision rows are zeroed by the thread whose
 * share of conv_forward holds that image, so on a NUMA machine its pages
 * sit on that thread's node (and no page fault is left for the first timed
 * step). */
static void ompb_first_touch(cnn_state *s)
{
    size_t row = CNN_POOL_AREA * (size_t)s->fpad;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int t = 0; t < s->threads; t++) {
        int b0, b1;
        ompb_share(s->cfg.batch, s->threads, t, &b0, &b1);
        memset(s->code + b0 * row, 0, (size_t)(b1 - b0) * row);
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
    s->code = ompb_alloc(bk);
    s->logits = ompb_alloc(bc * sizeof *s->logits);
    s->probs = ompb_alloc(bc * sizeof *s->probs);
    s->dlogits = ompb_alloc(bc * sizeof *s->dlogits);
    s->fc_acc = ompb_alloc(bc * OVEC_LANES * sizeof *s->fc_acc);
    s->loss_img = ompb_alloc(b * sizeof *s->loss_img);
    s->hit_img = ompb_alloc(b);
    s->partial = ompb_alloc((size_t)CNN_POOL_AREA * (CNN_KTAPS + 1) * s->fpad *
                            sizeof *s->partial);
    if (!s->params || !s->grads || !s->code || !s->logits || !s->probs ||
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

/* ---- forward: conv + bias + ReLU + max-pool and the FC products ---- */

/*
 * Images over threads, each thread a contiguous share (ompb_share), which it
 * runs in groups of up to OMPB_FWD_IMAGES images that share the fc_w reads
 * of one kernel call (omp_kernels.c). Neither the shares nor the groups
 * change a bit: each image's sums have one order of their own.
 */
static cnn_status ompb_conv_forward(cnn_state *s)
{
    size_t row = s->kpad, acc = CNN_CLASSES * OVEC_LANES;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int t = 0; t < s->threads; t++) {
        int b0, b1;
        ompb_share(s->n, s->threads, t, &b0, &b1);
        for (int b = b0; b < b1; b += OMPB_FWD_IMAGES) {
            int count = b1 - b < OMPB_FWD_IMAGES ? b1 - b : OMPB_FWD_IMAGES;
            s->k->conv_fc_images(s->x + (size_t)b * CNN_PIXELS, s->p.conv_w, s->p.conv_b,
                                 s->p.fc_w, s->fpad, count, s->code + b * row,
                                 s->fc_acc + b * acc);
        }
    }
    return CNN_OK;
}

/* logits[b][c] = fc_b[c] + the lane sum of conv_forward's products. */
static cnn_status ompb_fc_forward(cnn_state *s)
{
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < CNN_CLASSES; c++) {
            size_t e = (size_t)b * CNN_CLASSES + c;
            s->logits[e] = s->p.fc_b[c] + ovec_sum(ovec_load(s->fc_acc + e * OVEC_LANES));
        }
    return CNN_OK;
}

/* ---- backward, m recomputed ---- */

/*
 * dfc_w, dm and the conv gradient's per-position partials, units of
 * columns over threads (see the top of the file); then dfc_b, the batch
 * sum of dlogits in image order.
 */
static cnn_status ompb_fc_backward(cnn_state *s)
{
    int groups = ompb_unit_groups(s), blocks = s->fpad / OVEC_LANES;
    int units = CNN_POOL_AREA * groups;
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (int u = 0; u < units; u++) {
        int pos = u / groups, blk0 = u % groups * OMPB_UNIT_BLOCKS;
        int nb = blocks - blk0 < OMPB_UNIT_BLOCKS ? blocks - blk0 : OMPB_UNIT_BLOCKS;
        s->k->backward_unit(s->x, s->p.conv_w, s->p.conv_b, s->p.fc_w, s->dlogits, s->code,
                            s->n, s->fpad, pos, blk0, nb, s->g.fc_w,
                            s->partial + (size_t)pos * (CNN_KTAPS + 1) * s->fpad);
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

/* ---- conv backward: the partials added ---- */

/*
 * dconv_w, dconv_b: the per-position partials of fc_backward summed in
 * position order straight into the internal gradient [10][Fp] (conv_w rows,
 * then conv_b), in parallel over its elements.
 */
static cnn_status ompb_conv_backward(cnn_state *s)
{
    size_t stride = (size_t)(CNN_KTAPS + 1) * s->fpad;
    long vecs = (long)(stride / OVEC_LANES);
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (long v = 0; v < vecs; v++) {
        size_t e = (size_t)v * OVEC_LANES;
        ovec sum = ovec_load(s->partial + e);
        for (int pos = 1; pos < CNN_POOL_AREA; pos++)
            sum = ovec_add(sum, ovec_load(s->partial + pos * stride + e));
        ovec_store(s->g.conv_w + e, sum);
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
    .description = "OpenMP threads + SIMD over filters, m never stored (recomputed in the "
                   "backward); bitwise the same for every thread count",
    .caps = CNN_CAP_THREADS | CNN_CAP_THREAD_BASELINE | CNN_CAP_RANKS,
    .variant_count = 1,
    /* The roofline takes one roof per region. conv_fwd rounds its conv like
     * seq (verify compares it bitwise) and its FC products with FMA; the
     * conv is 78% of its FLOPs at every F (3.11 of 3.98 G at F=256), so
     * its roof is mul + add. fc_bwd's counted products (dfc_w, dm, the
     * conv gradient) are FMAs; fc_fwd and conv_bwd only add. */
    .fma_regions = CNN_REGION_BIT(CNN_REGION_FC_BWD),
    .dm_in_conv_backward = 0, /* dm is formed in fc_backward's fused pass */
    .m_recomputed = 1u << 0 | 1u << 1, /* its one variant, as 0 and as 1 */
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
