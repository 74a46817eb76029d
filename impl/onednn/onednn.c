/*
 * onednn.c — the vendor baseline on the CPU: the network built from oneDNN
 * primitives (its C API, version 2.x), as a user who writes no kernels
 * would build it, with the memory formats left to the library.
 *   oneDNN  convolution forward with bias, max-pool, ReLU, inner product
 *           (the FC layer), all their backward passes, the filter and bias
 *           gradients, and the SGD update (a sum primitive);
 *   ours    softmax cross-entropy, the same C as seq's.
 *
 * Shapes (cnn.h letters): x [B][1][28][28], conv_w [F][1][3][3], conv_b [F],
 * z [B][F][26][26], pooled m [B][F][13][13], fc_w [C][F][13][13] (= [C][K]
 * in NCHW flattening order), logits [B][C]. The user-facing tensors (x,
 * parameters in canonical layout, logits, dlogits) are plain; z, m, the
 * weights and their gradients live in whatever blocked format oneDNN picks
 * (format "any"), and parameters are reordered on the way in and out.
 *
 * The graph is conv + bias, pool, then ReLU on the pooled map: max and ReLU
 * commute, and the first maximum of z is the first maximum of relu(z)
 * whenever the pooled value is > 0 (when it is not, no gradient flows), so
 * seq's tie rule holds while the ReLU and its backward run on a quarter of
 * the data. oneDNN's max-pool keeps the argmax (first maximum, window
 * scanned row by row) in its workspace; its ReLU backward passes gradient
 * where the input is > 0, seq's m > 0 rule.
 *
 * Exactness: the convolutions use dnnl_convolution_direct (direct or
 * im2col + GEMM kernels, which only add products of inputs), never
 * Winograd, so the bit-exact test's integer data stays exact.
 *
 * Threads: oneDNN here runs on OpenMP and sizes its kernels for the thread
 * count when a primitive is created, so every primitive is built once, at
 * create, for cfg->threads. The count is set around each oneDNN call and the caller's
 * OpenMP default restored, so other backends in the process are unaffected.
 *
 * Thread-count independence (docs/DESIGN.md §4): two primitives split their sums
 * by thread. The filter gradient reduces per-thread partial sums (seen:
 * dconv_w and dconv_b differ between 1 and 2 threads), and the inner
 * product's GEMM splits K once the threads outnumber its row blocks (seen:
 * logits differ from 8 threads on at B <= 100). Both therefore run as fixed
 * chunks of images, each chunk one single-threaded oneDNN call, the chunks
 * spread over the threads by OpenMP; the filter gradient's partials are
 * added in chunk order, the rule omp follows. Every other primitive here
 * gave the same bits for 1 to 32 threads at B = 16..4000, F = 5..256, as
 * it should if each of its outputs is computed whole by one thread.
 *
 * Primitives are built for a fixed batch of B images; a smaller batch is
 * padded with zero images whose logit gradients are zero, which adds only
 * exact zeros to every gradient sum.
 */
#include <dnnl.h>
#include <dnnl_debug.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "comm.h"
#include "error.h"
#include "params.h"
#include "softmax.h"

enum {
    /* Images per chunk of the filter gradient, and the least per chunk of
     * the FC forward: small enough to share a batch of 100 among threads,
     * large enough that a oneDNN call per chunk is cheap. */
    ONEDNN_CHUNK = 16,
    /* The FC forward in at most this many chunks: each chunk reads all of
     * fc_w, so fewer, larger chunks re-read it less. */
    ONEDNN_FC_CHUNKS = 16,
    /* Arguments of a chunk's call, its scratchpad aside. */
    CHUNK_ARGS = 4,
};

/* The primitives of one training step, in execution order. PRIM_FC_FWD is
 * only a descriptor (the formats it chose, the hint of the backward ones):
 * the FC forward runs in chunks. */
enum onednn_prim {
    PRIM_CONV_FWD,
    PRIM_POOL_FWD,
    PRIM_RELU_FWD,
    PRIM_FC_FWD,
    PRIM_FC_BWD_WEIGHTS,
    PRIM_FC_BWD_DATA,
    PRIM_RELU_BWD,
    PRIM_POOL_BWD,
    PRIM_UPDATE_CONV_W, /* the update: one sum per parameter tensor, in */
    PRIM_UPDATE_CONV_B, /* the order of enum onednn_param */
    PRIM_UPDATE_FC_W,
    PRIM_UPDATE_FC_B,
    PRIM_COUNT,
};

/* The parameter tensors, in the order of the canonical layout. */
enum onednn_param { PARAM_CONV_W, PARAM_CONV_B, PARAM_FC_W, PARAM_FC_B, PARAM_COUNT };

/* The memory objects, all in the formats the primitives chose. */
enum onednn_mem {
    MEM_X,        /* [B][1][28][28] plain: the caller's batch or x_pad */
    MEM_Z,        /* conv + bias [B][F][26][26] */
    MEM_PZ,       /* max-pool of z [B][F][13][13] */
    MEM_POOL_WS,  /* the pool's argmax */
    MEM_POOLED,   /* m = relu(pz) */
    MEM_LOGITS,   /* [B][C] plain */
    MEM_DLOGITS,  /* [B][C] plain */
    MEM_DPOOLED,  /* dm */
    MEM_DPZ,      /* dm where pz > 0 */
    MEM_DZ,       /* [B][F][26][26] */
    MEM_PARAMS,   /* MEM_PARAMS + p: parameter tensor p (enum onednn_param) */
    MEM_GRADS = MEM_PARAMS + PARAM_COUNT, /* MEM_GRADS + p: its gradient */
    MEM_COUNT = MEM_GRADS + PARAM_COUNT,
};

/* The primitives run in fixed chunks of images (see the opening comment). */
enum onednn_chunked { CHUNKED_WGRAD, CHUNKED_FC_FWD, CHUNKED_COUNT };

struct onednn_chunks {
    int images;                  /* per chunk; the last may have fewer */
    int count;                   /* chunks */
    dnnl_primitive_desc_t pd[2]; /* [0] full chunks, [1] a shorter last one */
    dnnl_primitive_t prim[2];
    dnnl_exec_arg_t *args;       /* [count][CHUNK_ARGS] */
    dnnl_memory_t *owned;        /* [count][CHUNK_ARGS] the memories made for
                                    the chunks; NULL where one is shared */
};

/* The operation descriptor of a chunked primitive. */
union onednn_op_desc {
    dnnl_convolution_desc_t conv;
    dnnl_inner_product_desc_t fc;
};

struct cnn_state {
    struct cnn_config cfg;
    int threads;        /* OpenMP threads for every oneDNN call */
    int n;              /* images in the current batch, <= B */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd[PRIM_COUNT];
    dnnl_primitive_t prim[PRIM_COUNT];
    dnnl_memory_t mem[MEM_COUNT];
    float *logits;      /* MEM_LOGITS's buffer [B][C] */
    float *dlogits;     /* MEM_DLOGITS's buffer [B][C] */
    float *probs;       /* [B][C] softmax */
    float *x_pad;       /* [B][P] zero-padded copy of a short batch, or NULL */
    struct onednn_chunks chunked[CHUNKED_COUNT];
    dnnl_memory_t *scratch;       /* [threads] scratchpads: a primitive run by
                                     several threads at once needs one each */
    dnnl_stream_t *thread_stream; /* [threads] */
    float *part;                  /* [chunks][part_floats] partial dconv_w, then dconv_b */
    size_t w_floats, b_floats;    /* sizes of dconv_w and dconv_b in oneDNN's format */
    size_t part_floats;           /* w_floats + b_floats, rounded up to 64 bytes */
    const uint8_t *y;             /* [n] labels, borrowed for one step */
    double loss;                  /* mean CE of the batch */
    int correct;                  /* argmax(logits) == y */
};

/* Out of memory is the user's to fix (a smaller configuration), so it is
 * said plainly, naming the oneDNN function only; anything else is a bug
 * report, which the source line and the whole call serve best. */
static cnn_status fail_dnnl(dnnl_status_t err, int line, const char *call)
{
    if (err == dnnl_out_of_memory)
        return cnn_fail(CNN_E_NOMEM, "onednn: out of host memory (oneDNN's %.*s could not "
                        "allocate); try a smaller --batch or --filters",
                        (int)strcspn(call, "("), call);
    return cnn_fail(CNN_E_ARG, "onednn.c:%d: %s: %s", line, call, dnnl_status2str(err));
}

#define DNNL_CHECK(call)                                      \
    do {                                                      \
        dnnl_status_t check_err_ = (call);                    \
        if (check_err_ != dnnl_success)                       \
            return fail_dnnl(check_err_, __LINE__, #call);    \
    } while (0)

static cnn_status onednn_probe(void) { return CNN_OK; }

/* ---- building the primitives for B images and the current thread count ---- */

static const dnnl_dims_t conv_strides = {1, 1}, no_padding = {0, 0};
static const dnnl_dims_t pool_window = {CNN_POOLW, CNN_POOLW};

static cnn_status plain_md(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims,
                           dnnl_format_tag_t tag)
{
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, ndims, dims, dnnl_f32, tag));
    return CNN_OK;
}

/* The primitive descriptor p from its operation descriptor; hint: the
 * forward primitive a backward one belongs to. */
static cnn_status make_pd(cnn_state *s, enum onednn_prim p, const void *op_desc,
                          enum onednn_prim hint)
{
    DNNL_CHECK(dnnl_primitive_desc_create(&s->pd[p], op_desc, NULL, s->engine,
                                          hint == PRIM_COUNT ? NULL : s->pd[hint]));
    return CNN_OK;
}

/* make_pd, then the primitive itself. */
static cnn_status make_prim(cnn_state *s, enum onednn_prim p, const void *op_desc,
                            enum onednn_prim hint)
{
    CNN_TRY(make_pd(s, p, op_desc, hint));
    DNNL_CHECK(dnnl_primitive_create(&s->prim[p], s->pd[p]));
    return CNN_OK;
}

/* A memory descriptor primitive p settled on; index 1 of the weights is
 * the bias. */
static const dnnl_memory_desc_t *md_of(const cnn_state *s, enum onednn_prim p, dnnl_query_t what,
                                       int index)
{
    return dnnl_primitive_desc_query_md(s->pd[p], what, index);
}

/* Memory m of format md with a buffer the library allocates and owns. */
static cnn_status make_mem(cnn_state *s, enum onednn_mem m, const dnnl_memory_desc_t *md)
{
    DNNL_CHECK(dnnl_memory_create(&s->mem[m], md, s->engine, DNNL_MEMORY_ALLOCATE));
    return CNN_OK;
}

/* The buffer of memory m (NULL only for MEM_X before a batch). */
static void *data_of(const cnn_state *s, enum onednn_mem m)
{
    void *p = NULL;
    (void)dnnl_memory_get_data_handle(s->mem[m], &p);
    return p;
}

/* Forward: conv + bias -> pool -> ReLU -> inner product. */
static cnn_status build_forward(cnn_state *s)
{
    dnnl_dim_t B = s->cfg.batch, F = s->cfg.filters;
    dnnl_memory_desc_t x_md, w_any, b_md, z_any, pz_any, fw_any, fb_md, logits_md;
    CNN_TRY(plain_md(&x_md, 4, (dnnl_dims_t){B, 1, CNN_IMG, CNN_IMG}, dnnl_abcd));
    CNN_TRY(plain_md(&w_any, 4, (dnnl_dims_t){F, 1, CNN_KSIZE, CNN_KSIZE}, dnnl_format_tag_any));
    CNN_TRY(plain_md(&b_md, 1, (dnnl_dims_t){F}, dnnl_a));
    CNN_TRY(plain_md(&z_any, 4, (dnnl_dims_t){B, F, CNN_CONV, CNN_CONV}, dnnl_format_tag_any));
    CNN_TRY(plain_md(&pz_any, 4, (dnnl_dims_t){B, F, CNN_POOL, CNN_POOL}, dnnl_format_tag_any));
    CNN_TRY(plain_md(&fw_any, 4, (dnnl_dims_t){CNN_CLASSES, F, CNN_POOL, CNN_POOL},
                     dnnl_format_tag_any));
    CNN_TRY(plain_md(&fb_md, 1, (dnnl_dims_t){CNN_CLASSES}, dnnl_a));
    CNN_TRY(plain_md(&logits_md, 2, (dnnl_dims_t){B, CNN_CLASSES}, dnnl_ab));

    dnnl_convolution_desc_t conv;
    DNNL_CHECK(dnnl_convolution_forward_desc_init(&conv, dnnl_forward_training,
                                                  dnnl_convolution_direct, &x_md, &w_any, &b_md,
                                                  &z_any, conv_strides, no_padding, no_padding));
    CNN_TRY(make_prim(s, PRIM_CONV_FWD, &conv, PRIM_COUNT));
    const dnnl_memory_desc_t *z_md = md_of(s, PRIM_CONV_FWD, dnnl_query_dst_md, 0);

    dnnl_pooling_desc_t pool;
    DNNL_CHECK(dnnl_pooling_forward_desc_init(&pool, dnnl_forward_training, dnnl_pooling_max,
                                              z_md, &pz_any, pool_window, pool_window,
                                              no_padding, no_padding));
    CNN_TRY(make_prim(s, PRIM_POOL_FWD, &pool, PRIM_COUNT));
    const dnnl_memory_desc_t *pz_md = md_of(s, PRIM_POOL_FWD, dnnl_query_dst_md, 0);

    dnnl_eltwise_desc_t relu;
    DNNL_CHECK(dnnl_eltwise_forward_desc_init(&relu, dnnl_forward_training, dnnl_eltwise_relu,
                                              pz_md, 0.0f, 0.0f));
    CNN_TRY(make_prim(s, PRIM_RELU_FWD, &relu, PRIM_COUNT));

    dnnl_inner_product_desc_t fc;
    DNNL_CHECK(dnnl_inner_product_forward_desc_init(&fc, dnnl_forward_training, pz_md, &fw_any,
                                                    &fb_md, &logits_md));
    /* only chosen formats and a hint: the FC forward runs in chunks */
    CNN_TRY(make_pd(s, PRIM_FC_FWD, &fc, PRIM_COUNT));

    /* no buffer: each batch binds its own (bind_images) */
    DNNL_CHECK(dnnl_memory_create(&s->mem[MEM_X], &x_md, s->engine, DNNL_MEMORY_NONE));
    CNN_TRY(make_mem(s, MEM_Z, z_md));
    CNN_TRY(make_mem(s, MEM_PZ, pz_md));
    CNN_TRY(make_mem(s, MEM_POOL_WS, md_of(s, PRIM_POOL_FWD, dnnl_query_workspace_md, 0)));
    CNN_TRY(make_mem(s, MEM_POOLED, pz_md));
    CNN_TRY(make_mem(s, MEM_LOGITS, &logits_md));
    CNN_TRY(make_mem(s, MEM_DLOGITS, &logits_md));
    CNN_TRY(make_mem(s, MEM_PARAMS + PARAM_CONV_W,
                     md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 0)));
    CNN_TRY(make_mem(s, MEM_PARAMS + PARAM_CONV_B, &b_md));
    CNN_TRY(make_mem(s, MEM_PARAMS + PARAM_FC_W, md_of(s, PRIM_FC_FWD, dnnl_query_weights_md, 0)));
    CNN_TRY(make_mem(s, MEM_PARAMS + PARAM_FC_B, &fb_md));
    return CNN_OK;
}

/* Backward, with every gradient in its parameter's format (so that the
 * update is elementwise) and every activation gradient in its activation's. */
static cnn_status build_backward(cnn_state *s)
{
    const dnnl_memory_desc_t *z_md = md_of(s, PRIM_CONV_FWD, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *w_md = md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *b_md = md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 1);
    const dnnl_memory_desc_t *pz_md = md_of(s, PRIM_POOL_FWD, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *fw_md = md_of(s, PRIM_FC_FWD, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *fb_md = md_of(s, PRIM_FC_FWD, dnnl_query_weights_md, 1);
    const dnnl_memory_desc_t *logits_md = md_of(s, PRIM_FC_FWD, dnnl_query_dst_md, 0);

    dnnl_inner_product_desc_t fc_w, fc_d;
    DNNL_CHECK(dnnl_inner_product_backward_weights_desc_init(&fc_w, pz_md, fw_md, fb_md,
                                                             logits_md));
    CNN_TRY(make_prim(s, PRIM_FC_BWD_WEIGHTS, &fc_w, PRIM_FC_FWD));
    DNNL_CHECK(dnnl_inner_product_backward_data_desc_init(&fc_d, pz_md, fw_md, logits_md));
    CNN_TRY(make_prim(s, PRIM_FC_BWD_DATA, &fc_d, PRIM_FC_FWD));

    dnnl_eltwise_desc_t relu;
    DNNL_CHECK(dnnl_eltwise_backward_desc_init(&relu, dnnl_eltwise_relu, pz_md, pz_md, 0.0f,
                                               0.0f));
    CNN_TRY(make_prim(s, PRIM_RELU_BWD, &relu, PRIM_RELU_FWD));

    dnnl_pooling_desc_t pool;
    DNNL_CHECK(dnnl_pooling_backward_desc_init(&pool, dnnl_pooling_max, z_md, pz_md, pool_window,
                                               pool_window, no_padding, no_padding));
    CNN_TRY(make_prim(s, PRIM_POOL_BWD, &pool, PRIM_POOL_FWD));

    CNN_TRY(make_mem(s, MEM_DPOOLED, pz_md));
    CNN_TRY(make_mem(s, MEM_DPZ, pz_md));
    CNN_TRY(make_mem(s, MEM_DZ, z_md));
    CNN_TRY(make_mem(s, MEM_GRADS + PARAM_CONV_W, w_md));
    CNN_TRY(make_mem(s, MEM_GRADS + PARAM_CONV_B, b_md));
    CNN_TRY(make_mem(s, MEM_GRADS + PARAM_FC_W, fw_md));
    CNN_TRY(make_mem(s, MEM_GRADS + PARAM_FC_B, fb_md));
    return CNN_OK;
}

/* The descriptor of n images of an activation of format `full`: N must be
 * the outermost, unblocked dimension, so that images [i, i + n) are one
 * contiguous slice (true of every format oneDNN picks here for f32). */
static cnn_status slice_md(const dnnl_memory_desc_t *full, dnnl_dim_t n, dnnl_memory_desc_t *out)
{
    const dnnl_blocking_desc_t *blk = &full->format_desc.blocking;
    int sliceable = full->format_kind == dnnl_blocked && full->offset0 == 0 &&
                    (size_t)blk->strides[0] * full->dims[0] * sizeof(float) ==
                        dnnl_memory_desc_get_size(full);
    for (int i = 0; i < blk->inner_nblks; i++)
        sliceable = sliceable && blk->inner_idxs[i] != 0;
    if (!sliceable)
        return cnn_fail(CNN_E_ARG, "onednn: oneDNN chose an activation format that cannot be "
                                   "cut into runs of images");
    *out = *full;
    out->dims[0] = out->padded_dims[0] = n;
    return CNN_OK;
}

/* The operation descriptor of chunked primitive `which` for n images. */
static cnn_status chunk_op(const cnn_state *s, enum onednn_chunked which, dnnl_dim_t n,
                           union onednn_op_desc *op, union onednn_op_desc *hint)
{
    const dnnl_memory_desc_t *z_md = md_of(s, PRIM_CONV_FWD, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *w_md = md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *b_md = md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 1);
    const dnnl_memory_desc_t *pz_md = md_of(s, PRIM_POOL_FWD, dnnl_query_dst_md, 0);
    dnnl_memory_desc_t x_md, dz_md, m_md, logits_md;
    if (which == CHUNKED_FC_FWD) {
        CNN_TRY(slice_md(pz_md, n, &m_md));
        CNN_TRY(plain_md(&logits_md, 2, (dnnl_dims_t){n, CNN_CLASSES}, dnnl_ab));
        DNNL_CHECK(dnnl_inner_product_forward_desc_init(
            &op->fc, dnnl_forward_training, &m_md, md_of(s, PRIM_FC_FWD, dnnl_query_weights_md, 0),
            md_of(s, PRIM_FC_FWD, dnnl_query_weights_md, 1), &logits_md));
        return CNN_OK;
    }
    CNN_TRY(plain_md(&x_md, 4, (dnnl_dims_t){n, 1, CNN_IMG, CNN_IMG}, dnnl_abcd));
    CNN_TRY(slice_md(z_md, n, &dz_md));
    DNNL_CHECK(dnnl_convolution_forward_desc_init(&hint->conv, dnnl_forward_training,
                                                  dnnl_convolution_direct, &x_md, w_md, b_md,
                                                  &dz_md, conv_strides, no_padding, no_padding));
    DNNL_CHECK(dnnl_convolution_backward_weights_desc_init(&op->conv, dnnl_convolution_direct,
                                                           &x_md, w_md, b_md, &dz_md,
                                                           conv_strides, no_padding, no_padding));
    return CNN_OK;
}

/* Primitive k (0: full chunks, 1: the shorter last one) of `which` for n
 * images: created while OpenMP allows one thread, so it runs on one, with
 * a scratchpad passed at execution. */
static cnn_status chunk_prim(cnn_state *s, enum onednn_chunked which, int k, dnnl_dim_t n)
{
    struct onednn_chunks *ch = &s->chunked[which];
    union onednn_op_desc op, hint_op;
    CNN_TRY(chunk_op(s, which, n, &op, &hint_op));
    dnnl_primitive_desc_t hint = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t err = dnnl_success;
    if (which == CHUNKED_WGRAD)
        err = dnnl_primitive_desc_create(&hint, &hint_op, NULL, s->engine, NULL);
    if (err == dnnl_success)
        err = dnnl_primitive_attr_create(&attr);
    if (err == dnnl_success)
        err = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (err == dnnl_success)
        err = dnnl_primitive_desc_create(&ch->pd[k], &op, attr, s->engine, hint);
    if (err == dnnl_success)
        err = dnnl_primitive_create(&ch->prim[k], ch->pd[k]);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (hint)
        dnnl_primitive_desc_destroy(hint);
    if (err != dnnl_success)
        return fail_dnnl(err, __LINE__, "creating a chunked primitive");
    return CNN_OK;
}

/* A memory object for argument `arg` of chunk c, over `buffer`. */
static cnn_status chunk_arg(struct onednn_chunks *ch, int c, int slot, int arg,
                            const dnnl_memory_desc_t *md, dnnl_engine_t engine, void *buffer)
{
    dnnl_memory_t *m = &ch->owned[(size_t)c * CHUNK_ARGS + slot];
    DNNL_CHECK(dnnl_memory_create(m, md, engine, buffer));
    ch->args[(size_t)c * CHUNK_ARGS + slot] = (dnnl_exec_arg_t){arg, *m};
    return CNN_OK;
}

/* The memory objects of every chunk of `which`: slices of the full
 * buffers, the partial gradients, or shared parameters. */
static cnn_status chunk_args(cnn_state *s, enum onednn_chunked which)
{
    struct onednn_chunks *ch = &s->chunked[which];
    size_t B = (size_t)s->cfg.batch;
    for (int c = 0; c < ch->count; c++) {
        dnnl_primitive_desc_t pd = ch->pd[ch->prim[1] && c == ch->count - 1];
        size_t first = (size_t)c * ch->images;
        dnnl_exec_arg_t *a = ch->args + (size_t)c * CHUNK_ARGS;
        if (which == CHUNKED_FC_FWD) {
            const dnnl_memory_desc_t *src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
            const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
            size_t image_bytes = dnnl_memory_desc_get_size(md_of(s, PRIM_POOL_FWD,
                                                                 dnnl_query_dst_md, 0)) / B;
            CNN_TRY(chunk_arg(ch, c, 0, DNNL_ARG_SRC, src, s->engine,
                              (char *)data_of(s, MEM_POOLED) + first * image_bytes));
            CNN_TRY(chunk_arg(ch, c, 1, DNNL_ARG_DST, dst, s->engine,
                              s->logits + first * CNN_CLASSES));
            a[2] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, s->mem[MEM_PARAMS + PARAM_FC_W]};
            a[3] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, s->mem[MEM_PARAMS + PARAM_FC_B]};
            continue;
        }
        const dnnl_memory_desc_t *src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        const dnnl_memory_desc_t *ddst = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md,
                                                                       0);
        size_t image_bytes = dnnl_memory_desc_get_size(md_of(s, PRIM_CONV_FWD,
                                                             dnnl_query_dst_md, 0)) / B;
        float *part = s->part + (size_t)c * s->part_floats;
        /* the images are bound per batch (bind_source) */
        CNN_TRY(chunk_arg(ch, c, 0, DNNL_ARG_SRC, src, s->engine, DNNL_MEMORY_NONE));
        CNN_TRY(chunk_arg(ch, c, 1, DNNL_ARG_DIFF_DST, ddst, s->engine,
                          (char *)data_of(s, MEM_DZ) + first * image_bytes));
        CNN_TRY(chunk_arg(ch, c, 2, DNNL_ARG_DIFF_WEIGHTS,
                          md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 0), s->engine, part));
        CNN_TRY(chunk_arg(ch, c, 3, DNNL_ARG_DIFF_BIAS,
                          md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 1), s->engine,
                          part + s->w_floats));
    }
    return CNN_OK;
}

/* Chunked primitive `which` in chunks of `images`. */
static cnn_status build_chunked(cnn_state *s, enum onednn_chunked which, int images)
{
    struct onednn_chunks *ch = &s->chunked[which];
    int B = s->cfg.batch, last = B % images;
    ch->images = images;
    ch->count = (B + images - 1) / images;
    ch->args = calloc((size_t)ch->count * CHUNK_ARGS, sizeof *ch->args);
    ch->owned = calloc((size_t)ch->count * CHUNK_ARGS, sizeof *ch->owned);
    if (!ch->args || !ch->owned)
        return cnn_fail(CNN_E_NOMEM, "onednn: cannot allocate %d chunks", ch->count);
    CNN_TRY(chunk_prim(s, which, 0, images));
    if (last)
        CNN_TRY(chunk_prim(s, which, 1, last));
    return chunk_args(s, which);
}

/* Both chunked primitives, the partial filter gradients, and a scratchpad
 * and a stream per thread (the largest scratchpad any chunk needs). */
static cnn_status build_chunks(cnn_state *s)
{
    int B = s->cfg.batch;
    const dnnl_memory_desc_t *w_md = md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *b_md = md_of(s, PRIM_CONV_FWD, dnnl_query_weights_md, 1);
    s->w_floats = dnnl_memory_desc_get_size(w_md) / sizeof(float);
    s->b_floats = dnnl_memory_desc_get_size(b_md) / sizeof(float);
    s->part_floats = (s->w_floats + s->b_floats + 15) / 16 * 16;
    size_t wgrad_chunks = ((size_t)B + ONEDNN_CHUNK - 1) / ONEDNN_CHUNK;
    s->part = aligned_alloc(64, wgrad_chunks * s->part_floats * sizeof(float));
    s->scratch = calloc((size_t)s->threads, sizeof *s->scratch);
    s->thread_stream = calloc((size_t)s->threads, sizeof *s->thread_stream);
    if (!s->part || !s->scratch || !s->thread_stream)
        return cnn_fail(CNN_E_NOMEM, "onednn: cannot allocate per-chunk buffers for B=%d", B);

    omp_set_num_threads(1);
    CNN_TRY(build_chunked(s, CHUNKED_WGRAD, ONEDNN_CHUNK));
    int fc_images = (B + ONEDNN_FC_CHUNKS - 1) / ONEDNN_FC_CHUNKS;
    CNN_TRY(build_chunked(s, CHUNKED_FC_FWD, fc_images > ONEDNN_CHUNK ? fc_images : ONEDNN_CHUNK));

    const dnnl_memory_desc_t *pad = NULL;
    for (int which = 0; which < CHUNKED_COUNT; which++)
        for (int k = 0; k < 2; k++) {
            if (!s->chunked[which].pd[k])
                continue;
            const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(
                s->chunked[which].pd[k], dnnl_query_scratchpad_md, 0);
            if (!pad || dnnl_memory_desc_get_size(md) > dnnl_memory_desc_get_size(pad))
                pad = md;
        }
    for (int t = 0; t < s->threads; t++) {
        DNNL_CHECK(dnnl_memory_create(&s->scratch[t], pad, s->engine, DNNL_MEMORY_ALLOCATE));
        DNNL_CHECK(dnnl_stream_create(&s->thread_stream[t], s->engine,
                                      dnnl_stream_default_flags));
    }
    return CNN_OK;
}

/* theta = 1 * theta + (-lr) * grad, one sum primitive per tensor, in place */
static cnn_status build_update(cnn_state *s)
{
    const float scales[2] = {1.0f, -s->cfg.lr};
    for (int p = 0; p < PARAM_COUNT; p++) {
        const dnnl_memory_desc_t *md = NULL;
        DNNL_CHECK(dnnl_memory_get_memory_desc(s->mem[MEM_PARAMS + p], &md));
        dnnl_memory_desc_t srcs[2] = {*md, *md};
        DNNL_CHECK(dnnl_sum_primitive_desc_create(&s->pd[PRIM_UPDATE_CONV_W + p], md, 2, scales,
                                                  srcs, NULL, s->engine));
        DNNL_CHECK(dnnl_primitive_create(&s->prim[PRIM_UPDATE_CONV_W + p],
                                         s->pd[PRIM_UPDATE_CONV_W + p]));
    }
    return CNN_OK;
}

/* Builds everything with s->threads as OpenMP's thread count. */
static cnn_status build(cnn_state *s)
{
    int prev = omp_get_max_threads();
    omp_set_num_threads(s->threads);
    cnn_status st = build_forward(s);
    if (st == CNN_OK)
        st = build_backward(s);
    if (st == CNN_OK)
        st = build_update(s);
    if (st == CNN_OK) {
        s->logits = data_of(s, MEM_LOGITS);
        s->dlogits = data_of(s, MEM_DLOGITS);
        st = build_chunks(s);
    }
    omp_set_num_threads(prev);
    CNN_TRY(st);
    /* gradients read before any backward pass are zeros, as in seq */
    for (int p = 0; p < PARAM_COUNT; p++) {
        const dnnl_memory_desc_t *md = NULL;
        DNNL_CHECK(dnnl_memory_get_memory_desc(s->mem[MEM_GRADS + p], &md));
        memset(data_of(s, MEM_GRADS + p), 0, dnnl_memory_desc_get_size(md));
    }
    memset(s->dlogits, 0, (size_t)s->cfg.batch * CNN_CLASSES * sizeof *s->dlogits);
    return CNN_OK;
}

static void onednn_destroy(cnn_state *s)
{
    if (!s)
        return;
    for (int p = 0; p < PRIM_COUNT; p++) {
        if (s->prim[p])
            dnnl_primitive_destroy(s->prim[p]);
        if (s->pd[p])
            dnnl_primitive_desc_destroy(s->pd[p]);
    }
    for (int m = 0; m < MEM_COUNT; m++) {
        if (s->mem[m])
            dnnl_memory_destroy(s->mem[m]);
    }
    for (int which = 0; which < CHUNKED_COUNT; which++) {
        struct onednn_chunks *ch = &s->chunked[which];
        for (int k = 0; k < 2; k++) {
            if (ch->prim[k])
                dnnl_primitive_destroy(ch->prim[k]);
            if (ch->pd[k])
                dnnl_primitive_desc_destroy(ch->pd[k]);
        }
        for (size_t m = 0; ch->owned && m < (size_t)ch->count * CHUNK_ARGS; m++)
            if (ch->owned[m])
                dnnl_memory_destroy(ch->owned[m]);
        free(ch->args);
        free(ch->owned);
    }
    for (int t = 0; t < s->threads; t++) {
        if (s->scratch && s->scratch[t])
            dnnl_memory_destroy(s->scratch[t]);
        if (s->thread_stream && s->thread_stream[t])
            dnnl_stream_destroy(s->thread_stream[t]);
    }
    free(s->scratch);
    free(s->thread_stream);
    free(s->part);
    if (s->stream)
        dnnl_stream_destroy(s->stream);
    if (s->engine)
        dnnl_engine_destroy(s->engine);
    free(s->probs);
    free(s->x_pad);
    free(s);
}

static cnn_status create_resources(cnn_state *s)
{
    DNNL_CHECK(dnnl_engine_create(&s->engine, dnnl_cpu, 0));
    DNNL_CHECK(dnnl_stream_create(&s->stream, s->engine, dnnl_stream_default_flags));
    s->probs = malloc((size_t)s->cfg.batch * CNN_CLASSES * sizeof *s->probs);
    if (!s->probs)
        return cnn_fail(CNN_E_NOMEM, "onednn: cannot allocate probabilities for B=%d",
                        s->cfg.batch);
    return build(s);
}

extern const struct cnn_backend cnn_backend_onednn;

/* oneDNN sizes its kernels for a thread count when it creates them, so the
 * count is fixed here, with every primitive built once for it. */
static cnn_status onednn_create(const struct cnn_config *cfg, cnn_state **out)
{
    CNN_TRY(cnn_config_check(&cnn_backend_onednn, cfg));
    cnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "onednn: cannot allocate state");
    s->cfg = *cfg;
    s->threads = cfg->threads > 0 ? cfg->threads : omp_get_max_threads();
    cnn_status st = create_resources(s);
    if (st != CNN_OK) {
        onednn_destroy(s);
        return st;
    }
    *out = s;
    return CNN_OK;
}

/* ---- running a primitive ---- */

static cnn_status run(cnn_state *s, enum onednn_prim p, int nargs, const dnnl_exec_arg_t *args)
{
    int prev = omp_get_max_threads();
    omp_set_num_threads(s->threads);
    dnnl_status_t err = dnnl_primitive_execute(s->prim[p], s->stream, nargs, args);
    if (err == dnnl_success)
        err = dnnl_stream_wait(s->stream);
    omp_set_num_threads(prev);
    if (err != dnnl_success)
        return fail_dnnl(err, __LINE__, "dnnl_primitive_execute");
    return CNN_OK;
}

#define ARG(name, m) {(name), s->mem[(m)]}
#define RUN(s, p, ...)                                                                  \
    do {                                                                                \
        const dnnl_exec_arg_t run_args_[] = {__VA_ARGS__};                              \
        CNN_TRY(run((s), (p), (int)(sizeof run_args_ / sizeof *run_args_), run_args_)); \
    } while (0)

/* ---- parameters: reordered between canonical and oneDNN's formats ---- */

static cnn_status check_filters(const cnn_state *s, const struct cnn_params *p)
{
    if (p->filters != s->cfg.filters)
        return cnn_fail(CNN_E_ARG, "onednn: parameters have %d filters, the model %d",
                        p->filters, s->cfg.filters);
    return CNN_OK;
}

/* The canonical (plain) descriptor of parameter tensor p. */
static cnn_status canonical_md(const cnn_state *s, enum onednn_param p, dnnl_memory_desc_t *md)
{
    dnnl_dim_t F = s->cfg.filters;
    switch (p) {
    case PARAM_CONV_W:
        return plain_md(md, 4, (dnnl_dims_t){F, 1, CNN_KSIZE, CNN_KSIZE}, dnnl_abcd);
    case PARAM_CONV_B: return plain_md(md, 1, (dnnl_dims_t){F}, dnnl_a);
    case PARAM_FC_W:
        return plain_md(md, 4, (dnnl_dims_t){CNN_CLASSES, F, CNN_POOL, CNN_POOL}, dnnl_abcd);
    default: return plain_md(md, 1, (dnnl_dims_t){CNN_CLASSES}, dnnl_a);
    }
}

static float *canonical_ptr(const struct cnn_params *c, enum onednn_param p)
{
    switch (p) {
    case PARAM_CONV_W: return c->conv_w;
    case PARAM_CONV_B: return c->conv_b;
    case PARAM_FC_W: return c->fc_w;
    default: return c->fc_b;
    }
}

/* One reorder between a buffer in the plain layout `plain` and memory m;
 * to_canonical picks the direction. */
static cnn_status reorder(cnn_state *s, const dnnl_memory_desc_t *plain_md, float *canonical,
                          enum onednn_mem m, int to_canonical)
{
    dnnl_memory_desc_t plain = *plain_md;
    const dnnl_memory_desc_t *inner = NULL;
    DNNL_CHECK(dnnl_memory_get_memory_desc(s->mem[m], &inner));
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_status_t err = dnnl_memory_create(&user, &plain, s->engine, canonical);
    if (err == dnnl_success)
        err = to_canonical
                  ? dnnl_reorder_primitive_desc_create(&pd, inner, s->engine, &plain, s->engine,
                                                       NULL)
                  : dnnl_reorder_primitive_desc_create(&pd, &plain, s->engine, inner, s->engine,
                                                       NULL);
    if (err == dnnl_success)
        err = dnnl_primitive_create(&prim, pd);
    if (err == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, to_canonical ? s->mem[m] : user},
                                   {DNNL_ARG_TO, to_canonical ? user : s->mem[m]}};
        err = dnnl_primitive_execute(prim, s->stream, 2, args);
    }
    if (err == dnnl_success)
        err = dnnl_stream_wait(s->stream);
    if (prim)
        dnnl_primitive_destroy(prim);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (user)
        dnnl_memory_destroy(user);
    if (err != dnnl_success)
        return fail_dnnl(err, __LINE__, "reordering a tensor to or from its plain layout");
    return CNN_OK;
}

static cnn_status exchange(cnn_state *s, struct cnn_params *c, enum onednn_mem first,
                           int to_canonical)
{
    CNN_TRY(check_filters(s, c));
    for (int p = 0; p < PARAM_COUNT; p++) {
        dnnl_memory_desc_t plain;
        CNN_TRY(canonical_md(s, p, &plain));
        CNN_TRY(reorder(s, &plain, canonical_ptr(c, p), first + p, to_canonical));
    }
    return CNN_OK;
}

static cnn_status onednn_set_params(cnn_state *s, const struct cnn_params *p)
{
    /* read only: the reorder's source */
    return exchange(s, (struct cnn_params *)p, MEM_PARAMS, 0);
}

static cnn_status onednn_get_params(cnn_state *s, struct cnn_params *p)
{
    return exchange(s, p, MEM_PARAMS, 1);
}

static cnn_status onednn_get_grads(cnn_state *s, struct cnn_params *g)
{
    return exchange(s, g, MEM_GRADS, 1);
}

/* ---- the batch ---- */

/* x [B][P] as the source of the convolution and of every chunk of the
 * filter gradient. oneDNN only reads a primitive's source: the cast is safe. */
static cnn_status bind_source(cnn_state *s, const float *x)
{
    const struct onednn_chunks *ch = &s->chunked[CHUNKED_WGRAD];
    DNNL_CHECK(dnnl_memory_set_data_handle(s->mem[MEM_X], (void *)x));
    for (int c = 0; c < ch->count; c++)
        DNNL_CHECK(dnnl_memory_set_data_handle(ch->owned[(size_t)c * CHUNK_ARGS],
                                               (void *)(x + (size_t)c * ch->images * CNN_PIXELS)));
    return CNN_OK;
}

/* x [count][P] into MEM_X: the caller's buffer itself when it fills the
 * batch, else a zero-padded copy. */
static cnn_status bind_images(cnn_state *s, const float *x, int count)
{
    size_t B = (size_t)s->cfg.batch;
    if ((size_t)count == B)
        return bind_source(s, x);
    if (!s->x_pad) {
        s->x_pad = calloc(B * CNN_PIXELS, sizeof *s->x_pad);
        if (!s->x_pad)
            return cnn_fail(CNN_E_NOMEM, "onednn: cannot allocate a padded batch of %zu images",
                            B);
    }
    memcpy(s->x_pad, x, (size_t)count * CNN_PIXELS * sizeof *x);
    memset(s->x_pad + (size_t)count * CNN_PIXELS, 0, (B - count) * CNN_PIXELS * sizeof *x);
    return bind_source(s, s->x_pad);
}

static cnn_status onednn_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    if (n < 1 || n > s->cfg.batch)
        return cnn_fail(CNN_E_ARG, "onednn: batch of %d images, capacity %d", n, s->cfg.batch);
    CNN_TRY(bind_images(s, x, n));
    s->y = y;
    s->n = n;
    return CNN_OK;
}

/* ---- the layers ---- */

/* x -> z = conv(x) + cb -> pz = maxpool(z) (argmax kept) -> m = relu(pz) */
static cnn_status onednn_conv_forward(cnn_state *s)
{
    RUN(s, PRIM_CONV_FWD, ARG(DNNL_ARG_SRC, MEM_X),
        ARG(DNNL_ARG_WEIGHTS, MEM_PARAMS + PARAM_CONV_W),
        ARG(DNNL_ARG_BIAS, MEM_PARAMS + PARAM_CONV_B), ARG(DNNL_ARG_DST, MEM_Z));
    RUN(s, PRIM_POOL_FWD, ARG(DNNL_ARG_SRC, MEM_Z), ARG(DNNL_ARG_DST, MEM_PZ),
        ARG(DNNL_ARG_WORKSPACE, MEM_POOL_WS));
    RUN(s, PRIM_RELU_FWD, ARG(DNNL_ARG_SRC, MEM_PZ), ARG(DNNL_ARG_DST, MEM_POOLED));
    return CNN_OK;
}

/* Every chunk of `which`, spread over the threads, each oneDNN call on its
 * calling thread alone. */
static cnn_status run_chunks(cnn_state *s, enum onednn_chunked which)
{
    const struct onednn_chunks *ch = &s->chunked[which];
    dnnl_status_t err = dnnl_success;
#pragma omp parallel num_threads(s->threads)
    {
        /* A team of one is not an active parallel region, so oneDNN would
         * open its own (with the caller's default thread count) inside it;
         * one thread per nested region keeps every call on its thread. The
         * setting ends with this region. */
        omp_set_num_threads(1);
        int t = omp_get_thread_num();
#pragma omp for schedule(static)
        for (int c = 0; c < ch->count; c++) {
            dnnl_exec_arg_t args[CHUNK_ARGS + 1];
            memcpy(args, ch->args + (size_t)c * CHUNK_ARGS, CHUNK_ARGS * sizeof *args);
            args[CHUNK_ARGS] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch[t]};
            dnnl_primitive_t prim = ch->prim[ch->prim[1] && c == ch->count - 1];
            dnnl_status_t e =
                dnnl_primitive_execute(prim, s->thread_stream[t], CHUNK_ARGS + 1, args);
            if (e == dnnl_success)
                e = dnnl_stream_wait(s->thread_stream[t]);
            if (e != dnnl_success) {
#pragma omp critical(onednn_chunk_error)
                err = e;
            }
        }
    }
    if (err != dnnl_success)
        return fail_dnnl(err, __LINE__, "running a chunked primitive");
    return CNN_OK;
}

/* logits [B][C] = m fc_w^T + fc_b, chunk by chunk */
static cnn_status onednn_fc_forward(cnn_state *s)
{
    return run_chunks(s, CHUNKED_FC_FWD);
}

/* p = softmax(s) with the row maximum subtracted; loss = mean_b -log p[y_b]
 * (seq's code, so the same logits give the same bits) */
static cnn_status onednn_loss_forward(cnn_state *s)
{
    double total = 0.0;
    int correct = 0;
    for (int b = 0; b < s->n; b++) {
        int top;
        total += cnn_softmax_xent(s->logits + b * CNN_CLASSES, s->y[b],
                                  s->probs + b * CNN_CLASSES, &top);
        correct += top == s->y[b];
    }
    s->loss = total / s->n;
    s->correct = correct;
    return CNN_OK;
}

/* dlogits[b][c] = (p[b][c] - onehot(y_b)[c]) / n; padding rows stay zero */
static cnn_status onednn_loss_backward(cnn_state *s)
{
    cnn_softmax_xent_grad(s->probs, s->y, s->n, cnn_comm_mean_over(&s->cfg, s->n),
                          s->dlogits);
    memset(s->dlogits + (size_t)s->n * CNN_CLASSES, 0,
           (size_t)(s->cfg.batch - s->n) * CNN_CLASSES * sizeof *s->dlogits);
    return CNN_OK;
}

/* dfc_w = dlogits^T m, dfc_b = sum_b dlogits, dm = dlogits fc_w */
static cnn_status onednn_fc_backward(cnn_state *s)
{
    RUN(s, PRIM_FC_BWD_WEIGHTS, ARG(DNNL_ARG_SRC, MEM_POOLED),
        ARG(DNNL_ARG_DIFF_DST, MEM_DLOGITS), ARG(DNNL_ARG_DIFF_WEIGHTS, MEM_GRADS + PARAM_FC_W),
        ARG(DNNL_ARG_DIFF_BIAS, MEM_GRADS + PARAM_FC_B));
    RUN(s, PRIM_FC_BWD_DATA, ARG(DNNL_ARG_DIFF_DST, MEM_DLOGITS),
        ARG(DNNL_ARG_WEIGHTS, MEM_PARAMS + PARAM_FC_W), ARG(DNNL_ARG_DIFF_SRC, MEM_DPOOLED));
    return CNN_OK;
}

/* dst [n] = sum over chunks, in chunk order, of the partials at `offset` */
static void sum_chunks(const cnn_state *s, size_t offset, size_t n, float *dst)
{
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float *p = s->part + offset + i;
        float sum = p[0];
        for (int c = 1; c < s->chunked[CHUNKED_WGRAD].count; c++)
            sum += p[(size_t)c * s->part_floats];
        dst[i] = sum;
    }
}

/* dpz = dm where pz > 0; dz = dpz at the pool's argmax; dconv_w, dconv_b
 * from dz and x, chunk by chunk (see the file's opening comment) */
static cnn_status onednn_conv_backward(cnn_state *s)
{
    RUN(s, PRIM_RELU_BWD, ARG(DNNL_ARG_SRC, MEM_PZ), ARG(DNNL_ARG_DIFF_DST, MEM_DPOOLED),
        ARG(DNNL_ARG_DIFF_SRC, MEM_DPZ));
    RUN(s, PRIM_POOL_BWD, ARG(DNNL_ARG_DIFF_DST, MEM_DPZ),
        ARG(DNNL_ARG_WORKSPACE, MEM_POOL_WS), ARG(DNNL_ARG_DIFF_SRC, MEM_DZ));
    CNN_TRY(run_chunks(s, CHUNKED_WGRAD));
    sum_chunks(s, 0, s->w_floats, data_of(s, MEM_GRADS + PARAM_CONV_W));
    sum_chunks(s, s->w_floats, s->b_floats, data_of(s, MEM_GRADS + PARAM_CONV_B));
    return CNN_OK;
}

/* One process of a job (cfg.comm): each gradient tensor summed over every
 * process, in oneDNN's format (the same on every process: the same build
 * makes the same choices; padding is zero and sums to zero). */
static cnn_status onednn_allreduce(cnn_state *s)
{
    for (int p = 0; p < PARAM_COUNT; p++) {
        const dnnl_memory_desc_t *md = NULL;
        DNNL_CHECK(dnnl_memory_get_memory_desc(s->mem[MEM_GRADS + p], &md));
        CNN_TRY(cnn_comm_sum(&s->cfg, data_of(s, MEM_GRADS + p),
                             dnnl_memory_desc_get_size(md) / sizeof(float)));
    }
    return CNN_OK;
}

static int onednn_data_parallel(const cnn_state *s) { return cnn_comm_joined(&s->cfg); }

/* theta -= lr * grad, tensor by tensor, in oneDNN's formats */
static cnn_status onednn_update(cnn_state *s)
{
    for (int p = 0; p < PARAM_COUNT; p++)
        RUN(s, PRIM_UPDATE_CONV_W + p, ARG(DNNL_ARG_MULTIPLE_SRC, MEM_PARAMS + p),
            ARG(DNNL_ARG_MULTIPLE_SRC + 1, MEM_GRADS + p), ARG(DNNL_ARG_DST, MEM_PARAMS + p));
    return CNN_OK;
}

static cnn_status onednn_read_metrics(cnn_state *s, double *loss, int *correct)
{
    *loss = s->loss;
    *correct = s->correct;
    return CNN_OK;
}

static cnn_status onednn_get_logits(cnn_state *s, float *logits)
{
    memcpy(logits, s->logits, (size_t)s->n * CNN_CLASSES * sizeof *logits);
    return CNN_OK;
}

static cnn_status onednn_set_logit_grad(cnn_state *s, const float *dlogits)
{
    memcpy(s->dlogits, dlogits, (size_t)s->n * CNN_CLASSES * sizeof *dlogits);
    memset(s->dlogits + (size_t)s->n * CNN_CLASSES, 0,
           (size_t)(s->cfg.batch - s->n) * CNN_CLASSES * sizeof *s->dlogits);
    return CNN_OK;
}

/*
 * oneDNN's pooling keeps its argmax in an opaque workspace, so the decisions
 * are read off the tensors instead: z [B][F][26][26] and pz = maxpool(z)
 * [B][F][13][13], both in oneDNN's chosen layouts, reordered to plain ones.
 * The winner is the first window position whose z equals pz (the tie
 * rule); where pz <= 0, ReLU passes no gradient. m = relu(pz), so this is
 * the decision the backward pass (pool backward through the workspace,
 * ReLU backward on pz) routes by.
 */
static cnn_status onednn_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    int B = s->cfg.batch, F = s->cfg.filters;
    size_t planes = (size_t)B * F;
    float *z = malloc(planes * CNN_CONV * CNN_CONV * sizeof *z);
    float *pz = malloc(planes * CNN_POOL_AREA * sizeof *pz);
    dnnl_memory_desc_t z_plain, pz_plain;
    cnn_status st = z && pz ? CNN_OK
                            : cnn_fail(CNN_E_NOMEM, "onednn: cannot allocate a copy of z for B=%d "
                                       "F=%d", B, F);
    if (st == CNN_OK)
        st = plain_md(&z_plain, 4, (dnnl_dims_t){B, F, CNN_CONV, CNN_CONV}, dnnl_abcd);
    if (st == CNN_OK)
        st = plain_md(&pz_plain, 4, (dnnl_dims_t){B, F, CNN_POOL, CNN_POOL}, dnnl_abcd);
    if (st == CNN_OK)
        st = reorder(s, &z_plain, z, MEM_Z, 1);
    if (st == CNN_OK)
        st = reorder(s, &pz_plain, pz, MEM_PZ, 1);
    for (size_t plane = 0; st == CNN_OK && plane < (size_t)s->n * F; plane++) {
        const float *zp = z + plane * CNN_CONV * CNN_CONV;
        for (int pos = 0; pos < CNN_POOL_AREA; pos++) {
            float best = pz[plane * CNN_POOL_AREA + pos];
            int i = pos / CNN_POOL, j = pos % CNN_POOL, won = CNN_POOL_NO_GRAD;
            for (int d = CNN_POOLW * CNN_POOLW - 1; best > 0.0f && d >= 0; d--)
                if (zp[(CNN_POOLW * i + d / CNN_POOLW) * CNN_CONV + CNN_POOLW * j +
                       d % CNN_POOLW] == best)
                    won = d;
            choice[plane * CNN_POOL_AREA + pos] = (uint8_t)won;
        }
    }
    free(z);
    free(pz);
    return st;
}

static cnn_status onednn_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        CNN_TRY(bind_images(s, x + (size_t)first * CNN_PIXELS, count));
        CNN_TRY(onednn_conv_forward(s));
        CNN_TRY(onednn_fc_forward(s));
        cnn_predict_classes(s->logits, count, pred + first);
    }
    s->n = 0;
    return CNN_OK;
}

const struct cnn_backend cnn_backend_onednn = {
    .name = "onednn",
    .description = "vendor baseline: oneDNN primitives (conv, pool, ReLU, inner product, "
                   "update) on the CPU, formats chosen by the library",
    .caps = CNN_CAP_THREADS | CNN_CAP_RANKS,
    .variant_count = 1,
    .probe = onednn_probe,
    .create = onednn_create,
    .destroy = onednn_destroy,
    .set_params = onednn_set_params,
    .get_params = onednn_get_params,
    .get_grads = onednn_get_grads,
    .load_batch = onednn_load_batch,
    .conv_forward = onednn_conv_forward,
    .fc_forward = onednn_fc_forward,
    .loss_forward = onednn_loss_forward,
    .loss_backward = onednn_loss_backward,
    .fc_backward = onednn_fc_backward,
    .conv_backward = onednn_conv_backward,
    .update = onednn_update,
    .read_metrics = onednn_read_metrics,
    .get_logits = onednn_get_logits,
    .set_logit_grad = onednn_set_logit_grad,
    .get_pool_choice = onednn_get_pool_choice,
    .predict = onednn_predict,
    .allreduce = onednn_allreduce,
    .data_parallel = onednn_data_parallel,
};
