/*
 * cudnn.c — the vendor baseline on the GPU: the network built from NVIDIA's
 * libraries, as a user who writes no kernels would build it.
 *   cuDNN   convolution forward with bias, ReLU, max-pool, their backward,
 *           and the filter and bias gradients;
 *   cuBLAS  the FC layer forward and backward, and the SGD update (axpy);
 *   ours    softmax cross-entropy, the kernels the cuda backend's v2-v4 run
 *           too (gpu/gpu_loss.h), and the pool decisions of get_pool_choice
 *           (cudnn_pool.h: cuDNN's max-pool keeps no argmax).
 * Parameters, gradients and activations stay on the GPU: per step the batch
 * goes up and two scalars come down, as in the cuda backend. Checks,
 * parameter copies, device buffers and the region clock are the GPU
 * backends' shared code (gpu/gpu.h), so both backends time alike.
 *
 * Shapes (cnn.h letters): x [n][1][28][28], conv_w [F][1][3][3], conv_b [F],
 * z [n][F][26][26], pooled m [n][F][13][13] = [n][K], fc_w [C][K],
 * logits [n][C]. All NCHW, which is also the canonical parameter layout, so
 * parameters cross the boundary with one copy.
 *
 * Variants (each checked against seq by test_backend):
 *   v1  the textbook graph a framework runs: conv, bias add, ReLU, pool;
 *       backward pool, ReLU, filter gradient and bias gradient, all at 26x26.
 *   v2  the same function reordered: fused conv + bias, pool, then ReLU on
 *       the pooled 13x13 map. Max and ReLU commute, and the first maximum of
 *       z is the first maximum of relu(z) whenever the pooled value is > 0
 *       (when it is not, no gradient flows), so seq's tie rule still holds;
 *       the backward ReLU and the bias gradient shrink 4x and one 26x26 pass
 *       goes away.
 *
 * Exactness and determinism (docs/DESIGN.md §4): FP32 without TF32 (CUDNN_FMA_MATH;
 * cuBLAS's default math keeps SGEMM in FP32). Convolution algorithms are
 * restricted to the GEMM family (implicit GEMM, precomputed implicit GEMM,
 * GEMM, direct), which only add products of inputs and so are exact on the
 * bit-exact test's integer data; Winograd and FFT transform the data and
 * are not. The filter gradient uses BWD_FILTER_ALGO_1, the deterministic
 * GEMM-family one; the pool CUDNN_POOLING_MAX_DETERMINISTIC; cuBLAS has
 * atomics off and a workspace of its own on our one stream. Algorithms are
 * taken from cuDNN's heuristics, never from timed searches, so every run
 * picks the same ones.
 *
 * Against seq's rules (checked by test_backend's bit-exact layers on an
 * H100 with cuDNN 9.19, where integer data makes ties common): cuDNN's
 * max-pool backward sends the gradient to the first maximum of the window
 * scanned row by row, and its ReLU backward passes it only where the input
 * is > 0.
 */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "comm.h"
#include "cudnn_pool.h"
#include "error.h"
#include "gpu/gpu.h"
#include "gpu/gpu_loss.h"
#include "softmax.h"

enum {
    CUDNN_VARIANT_TEXTBOOK = 1,
    CUDNN_VARIANT_POOL_FIRST = 2,
    CUDNN_VARIANT_COUNT = 2,
    CUDNN_VARIANT_DEFAULT = CUDNN_VARIANT_POOL_FIRST,
};

/* cuBLAS's recommended workspace on Hopper. */
#define CUDNN_BLAS_WORKSPACE ((size_t)32 << 20)

struct cnn_state {
    struct cnn_config cfg;
    int variant;   /* 1..CUDNN_VARIANT_COUNT */
    int device;    /* the CUDA device it was made on */
    int sync_debug; /* CNNBENCH_CUDA_SYNC=1: synchronise after each of our launches */
    size_t K;      /* features per image, F*169 */
    size_t count;  /* floats in the parameter buffer */
    int n;         /* images in the current batch, <= B */
    int desc_n;    /* batch the tensor descriptors describe (0: none yet) */

    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    cudnnTensorDescriptor_t x_desc;     /* [n][1][28][28] */
    cudnnTensorDescriptor_t z_desc;     /* [n][F][26][26] */
    cudnnTensorDescriptor_t p_desc;     /* [n][F][13][13] */
    cudnnTensorDescriptor_t bias_desc;  /* [1][F][1][1] */
    cudnnFilterDescriptor_t w_desc;     /* [F][1][3][3] */
    cudnnConvolutionDescriptor_t conv_desc;
    cudnnPoolingDescriptor_t pool_desc;
    cudnnActivationDescriptor_t relu_desc;
    cudnnActivationDescriptor_t identity_desc;
    cudnnConvolutionFwdAlgo_t fwd_algo;  /* v1's cudnnConvolutionForward */
    size_t workspace_bytes;

    /* device buffers, one allocation each */
    float *params_buf;  /* [count] canonical layout */
    float *grads_buf;   /* [count] canonical layout */
    struct cnn_params params, grads; /* views of params_buf, grads_buf (cnn_params_view) */
    float *x;           /* [B][P] */
    uint8_t *y;         /* [B] labels */
    float *z;           /* [B][F][26][26] conv + bias */
    float *a;           /* v1: relu(z) */
    float *pz;          /* v2: max-pool of z [B][K] */
    float *pooled;      /* m [B][K], the FC input */
    float *dpooled;     /* dm [B][K] */
    float *dpz;         /* v2: dm through the ReLU [B][K] */
    float *da;          /* v1: gradient of a [B][F][26][26]; scratch outside
                           conv_backward (get_pool_choice stages its bytes here) */
    float *dz;          /* gradient of z [B][F][26][26] */
    float *logits;      /* [B][C] */
    float *probs;       /* [B][C] */
    float *dlogits;     /* [B][C] */
    float *ones;        /* [B] of 1.0f: bias broadcast and bias gradient */
    struct gpu_metrics *metrics;
    void *workspace;    /* cuDNN's, workspace_bytes */
    void *blas_workspace;

    /* pinned host memory */
    struct gpu_metrics *metrics_host;
    float *logits_host; /* [B][C] for predict */
    float *batch_x;     /* [B][P] the batch buffer offered to the harness, */
    uint8_t *batch_y;   /* [B]    so that the upload is a DMA, as in cuda */
    float *grads_job;   /* [count] a job's allreduce (cfg.comm): the gradient on its
                           way through comm->sum; NULL for one process */

    struct gpu_timer timer; /* the region clock on the stream */
};

/* ---- error checking: every call, with file and line (CUDA: GPU_CHECK) ---- */

static cnn_status fail_cudnn(cudnnStatus_t err, const char *file, int line, const char *call)
{
    char detail[256];
    cudnnGetLastErrorString(detail, sizeof detail);
    cnn_status st = err == CUDNN_STATUS_ALLOC_FAILED ? CNN_E_DEVICE_OOM : CNN_E_DEVICE;
    return cnn_fail(st, "%s:%d: %s: %s%s%s", file, line, call, cudnnGetErrorString(err),
                    detail[0] ? ": " : "", detail);
}

static cnn_status fail_cublas(cublasStatus_t err, const char *file, int line, const char *call)
{
    cnn_status st = err == CUBLAS_STATUS_ALLOC_FAILED ? CNN_E_DEVICE_OOM : CNN_E_DEVICE;
    return cnn_fail(st, "%s:%d: %s: %s", file, line, call, cublasGetStatusString(err));
}

#define DNN_CHECK(call)                                                  \
    do {                                                                 \
        cudnnStatus_t check_err_ = (call);                               \
        if (check_err_ != CUDNN_STATUS_SUCCESS)                          \
            return fail_cudnn(check_err_, __FILE__, __LINE__, #call);    \
    } while (0)

#define BLAS_CHECK(call)                                                 \
    do {                                                                 \
        cublasStatus_t check_err_ = (call);                              \
        if (check_err_ != CUBLAS_STATUS_SUCCESS)                         \
            return fail_cublas(check_err_, __FILE__, __LINE__, #call);   \
    } while (0)

static const float one = 1.0f, zero = 0.0f;

/* ---- probe ---- */

static cnn_status cudnn_probe(void)
{
    CNN_TRY(gpu_probe("cudnn"));
    /* the shared library found at run time must be the major version we
     * compiled against */
    size_t version = cudnnGetVersion();
    if (version / 10000 != CUDNN_MAJOR)
        return cnn_fail(CNN_E_UNAVAILABLE, "cudnn: built for cuDNN %d, loaded %zu",
                        CUDNN_MAJOR, version);
    return CNN_OK;
}

/* ---- state life cycle ---- */

enum { DEVICE_BUFFERS = 19 };

/* Every device buffer with its size (gpu_buffers_alloc); cuDNN's workspace
 * last, with the size the heuristics asked for. */
static void device_buffers(cnn_state *s, struct gpu_buffer out[DEVICE_BUFFERS])
{
    size_t B = (size_t)s->cfg.batch, F = (size_t)s->cfg.filters, BK = B * s->K;
    size_t plane = B * F * CNN_CONV * CNN_CONV * sizeof(float);
    size_t BC = B * CNN_CLASSES * sizeof(float);
    const struct gpu_buffer table[DEVICE_BUFFERS] = {
        {(void **)&s->params_buf, s->count * sizeof(float)},
        {(void **)&s->grads_buf, s->count * sizeof(float)},
        {(void **)&s->x, B * CNN_PIXELS * sizeof(float)},
        {(void **)&s->y, B},
        {(void **)&s->z, plane},
        {(void **)&s->a, plane},
        {(void **)&s->da, plane},
        {(void **)&s->dz, plane},
        {(void **)&s->pz, BK * sizeof(float)},
        {(void **)&s->pooled, BK * sizeof(float)},
        {(void **)&s->dpooled, BK * sizeof(float)},
        {(void **)&s->dpz, BK * sizeof(float)},
        {(void **)&s->logits, BC},
        {(void **)&s->probs, BC},
        {(void **)&s->dlogits, BC},
        {(void **)&s->ones, B * sizeof(float)},
        {(void **)&s->metrics, sizeof(struct gpu_metrics)},
        {(void **)&s->blas_workspace, CUDNN_BLAS_WORKSPACE},
        {(void **)&s->workspace, s->workspace_bytes},
    };
    memcpy(out, table, sizeof table);
}

static void cudnn_destroy(cnn_state *s)
{
    if (!s)
        return;
    /* errors are moot here: the state is going away either way */
    if (s->stream)
        (void)cudaStreamSynchronize(s->stream);
    struct gpu_buffer bufs[DEVICE_BUFFERS];
    device_buffers(s, bufs);
    gpu_buffers_free(bufs, DEVICE_BUFFERS);
    (void)cudaFreeHost(s->metrics_host);
    (void)cudaFreeHost(s->logits_host);
    (void)cudaFreeHost(s->batch_x);
    (void)cudaFreeHost(s->batch_y);
    (void)cudaFreeHost(s->grads_job);
    gpu_timer_destroy(&s->timer);
    if (s->x_desc)
        (void)cudnnDestroyTensorDescriptor(s->x_desc);
    if (s->z_desc)
        (void)cudnnDestroyTensorDescriptor(s->z_desc);
    if (s->p_desc)
        (void)cudnnDestroyTensorDescriptor(s->p_desc);
    if (s->bias_desc)
        (void)cudnnDestroyTensorDescriptor(s->bias_desc);
    if (s->w_desc)
        (void)cudnnDestroyFilterDescriptor(s->w_desc);
    if (s->conv_desc)
        (void)cudnnDestroyConvolutionDescriptor(s->conv_desc);
    if (s->pool_desc)
        (void)cudnnDestroyPoolingDescriptor(s->pool_desc);
    if (s->relu_desc)
        (void)cudnnDestroyActivationDescriptor(s->relu_desc);
    if (s->identity_desc)
        (void)cudnnDestroyActivationDescriptor(s->identity_desc);
    if (s->blas)
        (void)cublasDestroy(s->blas);
    if (s->dnn)
        (void)cudnnDestroy(s->dnn);
    if (s->stream)
        (void)cudaStreamDestroy(s->stream);
    (void)cudaGetLastError();
    free(s);
}

/* The descriptors that do not depend on the batch size. */
static cnn_status create_descriptors(cnn_state *s)
{
    int F = s->cfg.filters;
    DNN_CHECK(cudnnCreateTensorDescriptor(&s->x_desc));
    DNN_CHECK(cudnnCreateTensorDescriptor(&s->z_desc));
    DNN_CHECK(cudnnCreateTensorDescriptor(&s->p_desc));
    DNN_CHECK(cudnnCreateTensorDescriptor(&s->bias_desc));
    DNN_CHECK(cudnnSetTensor4dDescriptor(s->bias_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, F,
                                         1, 1));
    DNN_CHECK(cudnnCreateFilterDescriptor(&s->w_desc));
    DNN_CHECK(cudnnSetFilter4dDescriptor(s->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, F, 1,
                                         CNN_KSIZE, CNN_KSIZE));
    DNN_CHECK(cudnnCreateConvolutionDescriptor(&s->conv_desc));
    /* valid 3x3 cross-correlation, stride 1: docs/DESIGN.md §1's formula */
    DNN_CHECK(cudnnSetConvolution2dDescriptor(s->conv_desc, 0, 0, 1, 1, 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    /* plain FP32 FMA: the default math lets FP32 convolutions use TF32 on
     * Ampere and later, which rounds the inputs to 10 mantissa bits */
    DNN_CHECK(cudnnSetConvolutionMathType(s->conv_desc, CUDNN_FMA_MATH));
    DNN_CHECK(cudnnCreatePoolingDescriptor(&s->pool_desc));
    DNN_CHECK(cudnnSetPooling2dDescriptor(s->pool_desc, CUDNN_POOLING_MAX_DETERMINISTIC,
                                          CUDNN_PROPAGATE_NAN, CNN_POOLW, CNN_POOLW, 0, 0,
                                          CNN_POOLW, CNN_POOLW));
    DNN_CHECK(cudnnCreateActivationDescriptor(&s->relu_desc));
    DNN_CHECK(cudnnSetActivationDescriptor(s->relu_desc, CUDNN_ACTIVATION_RELU,
                                           CUDNN_PROPAGATE_NAN, 0.0));
    DNN_CHECK(cudnnCreateActivationDescriptor(&s->identity_desc));
    DNN_CHECK(cudnnSetActivationDescriptor(s->identity_desc, CUDNN_ACTIVATION_IDENTITY,
                                           CUDNN_PROPAGATE_NAN, 0.0));
    return CNN_OK;
}

/* Tensor descriptors for a batch of n images. */
static cnn_status describe_batch(cnn_state *s, int n)
{
    int F = s->cfg.filters;
    DNN_CHECK(cudnnSetTensor4dDescriptor(s->x_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, 1,
                                         CNN_IMG, CNN_IMG));
    DNN_CHECK(cudnnSetTensor4dDescriptor(s->z_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, F,
                                         CNN_CONV, CNN_CONV));
    DNN_CHECK(cudnnSetTensor4dDescriptor(s->p_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, F,
                                         CNN_POOL, CNN_POOL));
    s->desc_n = n;
    return CNN_OK;
}

static int is_gemm_family(cudnnConvolutionFwdAlgo_t algo)
{
    return algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
           algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
           algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || algo == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
}

/* v1's forward algorithm: the heuristics' best that is exact on integer
 * data. v2 has no choice: the fused conv + bias with an identity
 * activation exists only as precomputed implicit GEMM. */
static cnn_status choose_forward_algo(cnn_state *s)
{
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    DNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(s->dnn, s->x_desc, s->w_desc, s->conv_desc,
                                                     s->z_desc, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                     &got, perf));
    for (int i = 0; i < got; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && is_gemm_family(perf[i].algo)) {
            s->fwd_algo = perf[i].algo;
            return CNN_OK;
        }
    return cnn_fail(CNN_E_DEVICE, "cudnn: no GEMM-family forward algorithm for B=%d F=%d",
                    s->cfg.batch, s->cfg.filters);
}

/* cuDNN's workspace for n images: the largest of the three calls that take one. */
static cnn_status workspace_need(cnn_state *s, size_t *bytes)
{
    size_t fwd = 0, fused = 0, bwd = 0;
    DNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(s->dnn, s->x_desc, s->w_desc, s->conv_desc,
                                                      s->z_desc, s->fwd_algo, &fwd));
    DNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(
        s->dnn, s->x_desc, s->w_desc, s->conv_desc, s->z_desc,
        CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, &fused));
    DNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
        s->dnn, s->x_desc, s->z_desc, s->conv_desc, s->w_desc,
        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, &bwd));
    *bytes = fwd > fused ? fwd : fused;
    if (bwd > *bytes)
        *bytes = bwd;
    return CNN_OK;
}

/* Descriptors for n images before a cuDNN call; a smaller batch (the last
 * chunk of predict) may want a different workspace, grown if it must be. */
static cnn_status use_batch(cnn_state *s, int n)
{
    if (n == s->desc_n)
        return CNN_OK;
    CNN_TRY(describe_batch(s, n));
    size_t need = 0;
    CNN_TRY(workspace_need(s, &need));
    if (need > s->workspace_bytes) {
        GPU_CHECK(cudaStreamSynchronize(s->stream));
        GPU_CHECK(cudaFree(s->workspace));
        s->workspace = NULL;
        GPU_CHECK(cudaMalloc(&s->workspace, need));
        s->workspace_bytes = need;
    }
    return CNN_OK;
}

static cnn_status alloc_device(cnn_state *s)
{
    struct gpu_buffer bufs[DEVICE_BUFFERS];
    device_buffers(s, bufs);
    CNN_TRY(gpu_buffers_alloc("cudnn", &s->cfg, bufs, DEVICE_BUFFERS));
    cnn_params_view(&s->params, s->cfg.filters, s->params_buf);
    cnn_params_view(&s->grads, s->cfg.filters, s->grads_buf);
    /* The fused forward reads its residual input z (scaled by 0) even
     * though it aliases the output: start it finite. */
    size_t plane = (size_t)s->cfg.batch * s->cfg.filters * CNN_CONV * CNN_CONV;
    GPU_CHECK(cudaMemsetAsync(s->z, 0, plane * sizeof(float), s->stream));
    return CNN_OK;
}

/* ones [B] = 1.0f, through a host buffer once */
static cnn_status fill_ones(cnn_state *s)
{
    size_t B = (size_t)s->cfg.batch;
    float *host = malloc(B * sizeof *host);
    if (!host)
        return cnn_fail(CNN_E_NOMEM, "cudnn: cannot allocate %zu floats", B);
    for (size_t i = 0; i < B; i++)
        host[i] = 1.0f;
    cudaError_t err = cudaMemcpy(s->ones, host, B * sizeof *host, cudaMemcpyHostToDevice);
    free(host);
    GPU_CHECK(err);
    return CNN_OK;
}

static cnn_status create_resources(cnn_state *s)
{
    GPU_CHECK(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    CNN_TRY(gpu_timer_create(&s->timer, "cudnn", s->stream));
    DNN_CHECK(cudnnCreate(&s->dnn));
    DNN_CHECK(cudnnSetStream(s->dnn, s->stream));
    BLAS_CHECK(cublasCreate(&s->blas));
    BLAS_CHECK(cublasSetStream(s->blas, s->stream));
    BLAS_CHECK(cublasSetAtomicsMode(s->blas, CUBLAS_ATOMICS_NOT_ALLOWED));
    BLAS_CHECK(cublasSetMathMode(s->blas, CUBLAS_DEFAULT_MATH));
    CNN_TRY(create_descriptors(s));
    CNN_TRY(describe_batch(s, s->cfg.batch));
    CNN_TRY(choose_forward_algo(s));
    CNN_TRY(workspace_need(s, &s->workspace_bytes));
    CNN_TRY(alloc_device(s));
    /* its own workspace on its one stream: cuBLAS is then deterministic
     * whatever CUBLAS_WORKSPACE_CONFIG says */
    BLAS_CHECK(cublasSetWorkspace(s->blas, s->blas_workspace, CUDNN_BLAS_WORKSPACE));
    CNN_TRY(fill_ones(s));
    size_t B = (size_t)s->cfg.batch;
    cudaError_t err = cudaMallocHost((void **)&s->metrics_host, sizeof *s->metrics_host);
    if (err == cudaSuccess)
        err = cudaMallocHost((void **)&s->logits_host, B * CNN_CLASSES * sizeof(float));
    if (err == cudaSuccess)
        err = cudaMallocHost((void **)&s->batch_x, B * CNN_PIXELS * sizeof(float));
    if (err == cudaSuccess)
        err = cudaMallocHost((void **)&s->batch_y, B);
    if (err == cudaSuccess && s->cfg.comm)
        err = cudaMallocHost((void **)&s->grads_job, s->count * sizeof(float));
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return cnn_fail(CNN_E_NOMEM, "cudnn: cannot pin host memory for B=%d: %s",
                        s->cfg.batch, cudaGetErrorString(err));
    }
    return CNN_OK;
}

extern const struct cnn_backend cnn_backend_cudnn;

/* A process of a job trains on its local rank's GPU, modulo the GPUs it
 * sees: its gradients meet the others' on the host (cudnn_allreduce), so
 * processes may share a GPU, unlike cuda's NCCL path. */
static cnn_status job_device(const struct cnn_comm *comm)
{
    int devices = 0;
    GPU_CHECK(cudaGetDeviceCount(&devices));
    if (devices < 1)
        return cnn_fail(CNN_E_UNAVAILABLE, "cudnn: rank %d sees no GPU", comm->rank);
    GPU_CHECK(cudaSetDevice(comm->local_rank % devices));
    return CNN_OK;
}

static cnn_status cudnn_create(const struct cnn_config *cfg, cnn_state **out)
{
    CNN_TRY(cnn_config_check(&cnn_backend_cudnn, cfg));
    int variant = cfg->variant == 0 ? CUDNN_VARIANT_DEFAULT : cfg->variant;
    cnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return cnn_fail(CNN_E_NOMEM, "cudnn: cannot allocate state");
    s->cfg = *cfg;
    s->variant = variant;
    s->K = cnn_features(cfg->filters);
    s->count = cnn_param_count(cfg->filters);
    s->sync_debug = gpu_sync_debug();
    cnn_status st = cfg->comm ? job_device(cfg->comm) : CNN_OK;
    if (st == CNN_OK)
        st = gpu_current_device(&s->device);
    if (st == CNN_OK)
        st = create_resources(s);
    if (st != CNN_OK) {
        cudnn_destroy(s);
        return st;
    }
    *out = s;
    return CNN_OK;
}

/* ---- parameters in the canonical layout: one copy each way ---- */

static cnn_status cudnn_set_params(cnn_state *s, const struct cnn_params *p)
{
    return gpu_params_to_device("cudnn", s->stream, p, s->cfg.filters, s->params_buf);
}

static cnn_status cudnn_get_params(cnn_state *s, struct cnn_params *p)
{
    return gpu_params_to_host("cudnn", s->stream, s->params_buf, s->cfg.filters, p);
}

static cnn_status cudnn_get_grads(cnn_state *s, struct cnn_params *g)
{
    return gpu_params_to_host("cudnn", s->stream, s->grads_buf, s->cfg.filters, g);
}

/* ---- the batch: host -> device on the stream ----
 * From pageable memory the copy returns once the driver has staged the
 * source, so the caller may refill x and y right away. From the batch
 * buffer it is a DMA still running when load_batch returns: the contract
 * has the caller refill it only after read_metrics, which waits for it. */
static cnn_status cudnn_batch_buffer(cnn_state *s, float **x, uint8_t **y)
{
    *x = s->batch_x;
    *y = s->batch_y;
    return CNN_OK;
}

static cnn_status cudnn_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    if (n < 1 || n > s->cfg.batch)
        return cnn_fail(CNN_E_ARG, "cudnn: batch of %d images, capacity %d", n, s->cfg.batch);
    GPU_CHECK(cudaMemcpyAsync(s->x, x, (size_t)n * CNN_PIXELS * sizeof(float),
                              cudaMemcpyHostToDevice, s->stream));
    GPU_CHECK(cudaMemcpyAsync(s->y, y, (size_t)n, cudaMemcpyHostToDevice, s->stream));
    s->n = n;
    return CNN_OK;
}

/* ---- conv + bias + ReLU + max-pool ---- */

/* v1: z = conv(x) + cb; a = relu(z); m = maxpool(a) */
static cnn_status forward_textbook(cnn_state *s)
{
    DNN_CHECK(cudnnConvolutionForward(s->dnn, &one, s->x_desc, s->x, s->w_desc,
                                      s->params.conv_w, s->conv_desc, s->fwd_algo,
                                      s->workspace, s->workspace_bytes, &zero, s->z_desc, s->z));
    DNN_CHECK(cudnnAddTensor(s->dnn, &one, s->bias_desc, s->params.conv_b, &one, s->z_desc,
                             s->z));
    DNN_CHECK(cudnnActivationForward(s->dnn, s->relu_desc, &one, s->z_desc, s->z, &zero,
                                     s->z_desc, s->a));
    DNN_CHECK(cudnnPoolingForward(s->dnn, s->pool_desc, &one, s->z_desc, s->a, &zero,
                                  s->p_desc, s->pooled));
    return CNN_OK;
}

/* v2: z = conv(x) + cb in one call; pz = maxpool(z); m = relu(pz) */
static cnn_status forward_pool_first(cnn_state *s)
{
    DNN_CHECK(cudnnConvolutionBiasActivationForward(
        s->dnn, &one, s->x_desc, s->x, s->w_desc, s->params.conv_w, s->conv_desc,
        CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, s->workspace, s->workspace_bytes,
        &zero, s->z_desc, s->z, s->bias_desc, s->params.conv_b, s->identity_desc, s->z_desc,
        s->z));
    DNN_CHECK(cudnnPoolingForward(s->dnn, s->pool_desc, &one, s->z_desc, s->z, &zero,
                                  s->p_desc, s->pz));
    DNN_CHECK(cudnnActivationForward(s->dnn, s->relu_desc, &one, s->p_desc, s->pz, &zero,
                                     s->p_desc, s->pooled));
    return CNN_OK;
}

/* x [n][P] -> pooled m [n][K] */
static cnn_status cudnn_conv_forward(cnn_state *s)
{
    CNN_TRY(use_batch(s, s->n));
    return s->variant == CUDNN_VARIANT_TEXTBOOK ? forward_textbook(s) : forward_pool_first(s);
}

/* ---- FC with cuBLAS ----
 * cuBLAS is column-major: a row-major [R][S] array is the S x R matrix with
 * leading dimension S. So m [n][K] is M (K x n), fc_w [C][K] is W (K x C),
 * logits [n][C] is L (C x n). */

/* logits = fc_w m + fc_b: L = W^T M, then L += fc_b ones^T (the bias added
 * to the finished dot product, the order seq uses) */
static cnn_status cudnn_fc_forward(cnn_state *s)
{
    int n = s->n, K = (int)s->K;
    BLAS_CHECK(cublasSgemm(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, CNN_CLASSES, n, K, &one,
                           s->params.fc_w, K, s->pooled, K, &zero, s->logits, CNN_CLASSES));
    BLAS_CHECK(cublasSger(s->blas, CNN_CLASSES, n, &one, s->params.fc_b, 1, s->ones, 1,
                          s->logits, CNN_CLASSES));
    return CNN_OK;
}

/*
 *   dfc_w [C][K] = dlogits^T m     (dW = M D^T, K x C)
 *   dfc_b [C]    = dlogits^T ones  (D ones, D = dlogits as C x n)
 *   dm [n][K]    = dlogits fc_w    (dM = W D, K x n)
 */
static cnn_status cudnn_fc_backward(cnn_state *s)
{
    int n = s->n, K = (int)s->K;
    BLAS_CHECK(cublasSgemm(s->blas, CUBLAS_OP_N, CUBLAS_OP_T, K, CNN_CLASSES, n, &one,
                           s->pooled, K, s->dlogits, CNN_CLASSES, &zero, s->grads.fc_w, K));
    BLAS_CHECK(cublasSgemv(s->blas, CUBLAS_OP_N, CNN_CLASSES, n, &one, s->dlogits, CNN_CLASSES,
                           s->ones, 1, &zero, s->grads.fc_b, 1));
    BLAS_CHECK(cublasSgemm(s->blas, CUBLAS_OP_N, CUBLAS_OP_N, K, n, CNN_CLASSES, &one,
                           s->params.fc_w, K, s->dlogits, CNN_CLASSES, &zero, s->dpooled, K));
    return CNN_OK;
}

/* ---- loss: our kernels ---- */

static cnn_status cudnn_loss_forward_region(cnn_state *s)
{
    return gpu_softmax_xent_forward(s->stream, s->sync_debug, s->logits, s->y, s->n, s->probs,
                                    s->metrics);
}

static cnn_status cudnn_loss_backward_region(cnn_state *s)
{
    return gpu_softmax_xent_backward(s->stream, s->sync_debug, s->probs, s->y, s->n,
                                     1.0f / (float)cnn_comm_mean_over(&s->cfg, s->n),
                                     s->dlogits);
}

/* One process of a job (cfg.comm): cuDNN's and cuBLAS's gradients live in
 * one device buffer, which goes to the host, through comm->sum (every
 * process's, added in a fixed order) and back. The region allreduce times
 * both copies and the wait for the other processes. */
static cnn_status cudnn_allreduce(cnn_state *s)
{
    size_t bytes = s->count * sizeof(float);
    GPU_CHECK(cudaMemcpyAsync(s->grads_job, s->grads_buf, bytes, cudaMemcpyDeviceToHost,
                              s->stream));
    GPU_CHECK(cudaStreamSynchronize(s->stream));
    CNN_TRY(cnn_comm_sum(&s->cfg, s->grads_job, s->count));
    GPU_CHECK(cudaMemcpyAsync(s->grads_buf, s->grads_job, bytes, cudaMemcpyHostToDevice,
                              s->stream));
    return CNN_OK;
}

static int cudnn_data_parallel(const cnn_state *s) { return cnn_comm_joined(&s->cfg); }

/* ---- back through pool and ReLU to the filters ---- */

/* v1: da = pool'(dm); dz = da where z > 0; dconv_w, dconv_b from dz */
static cnn_status backward_textbook(cnn_state *s)
{
    DNN_CHECK(cudnnPoolingBackward(s->dnn, s->pool_desc, &one, s->p_desc, s->pooled, s->p_desc,
                                   s->dpooled, s->z_desc, s->a, &zero, s->z_desc, s->da));
    DNN_CHECK(cudnnActivationBackward(s->dnn, s->relu_desc, &one, s->z_desc, s->a, s->z_desc,
                                      s->da, s->z_desc, s->z, &zero, s->z_desc, s->dz));
    DNN_CHECK(cudnnConvolutionBackwardFilter(s->dnn, &one, s->x_desc, s->x, s->z_desc, s->dz,
                                             s->conv_desc, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
                                             s->workspace, s->workspace_bytes, &zero, s->w_desc,
                                             s->grads.conv_w));
    DNN_CHECK(cudnnConvolutionBackwardBias(s->dnn, &one, s->z_desc, s->dz, &zero, s->bias_desc,
                                           s->grads.conv_b));
    return CNN_OK;
}

/* v2: dpz = dm where pz > 0 (seq's m > 0 rule); dz = pool'(dpz);
 * dconv_w from dz; dconv_b from dpz (dz holds the same values, plus zeros) */
static cnn_status backward_pool_first(cnn_state *s)
{
    DNN_CHECK(cudnnActivationBackward(s->dnn, s->relu_desc, &one, s->p_desc, s->pooled,
                                      s->p_desc, s->dpooled, s->p_desc, s->pz, &zero, s->p_desc,
                                      s->dpz));
    DNN_CHECK(cudnnPoolingBackward(s->dnn, s->pool_desc, &one, s->p_desc, s->pz, s->p_desc,
                                   s->dpz, s->z_desc, s->z, &zero, s->z_desc, s->dz));
    DNN_CHECK(cudnnConvolutionBackwardFilter(s->dnn, &one, s->x_desc, s->x, s->z_desc, s->dz,
                                             s->conv_desc, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
                                             s->workspace, s->workspace_bytes, &zero, s->w_desc,
                                             s->grads.conv_w));
    DNN_CHECK(cudnnConvolutionBackwardBias(s->dnn, &one, s->p_desc, s->dpz, &zero,
                                           s->bias_desc, s->grads.conv_b));
    return CNN_OK;
}

/* dm [n][K] -> dconv_w [F][9], dconv_b [F] */
static cnn_status cudnn_conv_backward(cnn_state *s)
{
    CNN_TRY(use_batch(s, s->n));
    return s->variant == CUDNN_VARIANT_TEXTBOOK ? backward_textbook(s) : backward_pool_first(s);
}

/* theta -= lr * grad over the whole contiguous buffer */
static cnn_status cudnn_update(cnn_state *s)
{
    float minus_lr = -s->cfg.lr;
    BLAS_CHECK(cublasSaxpy(s->blas, (int)s->count, &minus_lr, s->grads_buf, 1, s->params_buf,
                           1));
    return CNN_OK;
}

/* ---- what comes down ---- */

static cnn_status cudnn_read_metrics(cnn_state *s, double *loss, int *correct)
{
    if (s->n < 1)
        return cnn_fail(CNN_E_ARG, "cudnn: read_metrics before any batch");
    GPU_CHECK(cudaMemcpyAsync(s->metrics_host, s->metrics, sizeof *s->metrics,
                              cudaMemcpyDeviceToHost, s->stream));
    /* the end of the copy on the GPU ends d2h, so it excludes the host's wake-up */
    CNN_TRY(gpu_timer_close(&s->timer));
    GPU_CHECK(cudaStreamSynchronize(s->stream));
    *loss = s->metrics_host->loss_sum / s->n;
    *correct = s->metrics_host->correct;
    return CNN_OK;
}

static cnn_status cudnn_get_logits(cnn_state *s, float *logits)
{
    return gpu_copy_and_wait(s->stream, logits, s->logits,
                             (size_t)s->n * CNN_CLASSES * sizeof(float), cudaMemcpyDeviceToHost);
}

static cnn_status cudnn_set_logit_grad(cnn_state *s, const float *dlogits)
{
    return gpu_copy_and_wait(s->stream, s->dlogits, dlogits,
                             (size_t)s->n * CNN_CLASSES * sizeof(float), cudaMemcpyHostToDevice);
}

/* The pool decisions of the last conv_forward, derived from what the
 * variant keeps: v1 pooled m = maxpool(a), a = relu(z); v2 pz = maxpool(z),
 * m = relu(pz), which is > 0 exactly where pz is. Both stay untouched until
 * the next conv_forward. The bytes are staged in da, which only the
 * textbook backward uses, and overwrites before reading. */
static cnn_status cudnn_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    if (s->n < 1)
        return cnn_fail(CNN_E_ARG, "cudnn: get_pool_choice before any training batch");
    int textbook = s->variant == CUDNN_VARIANT_TEXTBOOK;
    uint8_t *staged = (uint8_t *)s->da;
    CNN_TRY(cudnn_pool_choice(s->stream, s->sync_debug, textbook ? s->a : s->z,
                              textbook ? s->pooled : s->pz, s->n, s->cfg.filters, staged));
    return gpu_copy_and_wait(s->stream, choice, staged, (size_t)s->n * s->K,
                             cudaMemcpyDeviceToHost);
}

/* Forward in chunks of at most B; the logits come down and the first
 * maximum is taken on the host (10 floats per image). */
static cnn_status cudnn_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    for (int first = 0; first < n; first += s->cfg.batch) {
        int count = n - first < s->cfg.batch ? n - first : s->cfg.batch;
        GPU_CHECK(cudaMemcpyAsync(s->x, x + (size_t)first * CNN_PIXELS,
                                  (size_t)count * CNN_PIXELS * sizeof(float),
                                  cudaMemcpyHostToDevice, s->stream));
        s->n = count;
        CNN_TRY(cudnn_conv_forward(s));
        CNN_TRY(cudnn_fc_forward(s));
        CNN_TRY(gpu_copy_and_wait(s->stream, s->logits_host, s->logits,
                                  (size_t)count * CNN_CLASSES * sizeof(float),
                                  cudaMemcpyDeviceToHost));
        cnn_predict_classes(s->logits_host, count, pred + first);
    }
    /* the device holds test images now, not a training batch */
    s->n = 0;
    return CNN_OK;
}

/* ---- the region clock (gpu/gpu.h) ----
 * It tags each region's launches for the harness's --cupti too, so
 * kernels.csv names the cuDNN and cuBLAS kernels behind each region. */

static cnn_status cudnn_timer_mark(cnn_state *s, enum cnn_region r, int end)
{
    return gpu_timer_mark(&s->timer, r, end);
}

static cnn_status cudnn_device_bus_id(cnn_state *s, int i, char *buf, size_t len)
{
    return gpu_device_bus_id("cudnn", s->device, i, buf, len);
}

static cnn_status cudnn_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms)
{
    return gpu_timer_read(&s->timer, ms, span_ms);
}

static const char *const cudnn_variant_names[CUDNN_VARIANT_COUNT] = {
    [CUDNN_VARIANT_TEXTBOOK - 1] = "v1: conv, bias add, ReLU, pool (the graph a framework runs), "
                                   "backward at 26x26",
    [CUDNN_VARIANT_POOL_FIRST - 1] = "v2: fused conv+bias, pool, then ReLU on the pooled map; "
                                     "ReLU backward and bias gradient at 13x13",
};

const struct cnn_backend cnn_backend_cudnn = {
    .name = "cudnn",
    .description = "vendor baseline: cuDNN conv/ReLU/pool, cuBLAS FC and update, "
                   "GPU-resident (deterministic algorithms, no TF32)",
    .caps = CNN_CAP_VARIANTS | CNN_CAP_DEVICE | CNN_CAP_RANKS,
    .variant_count = CUDNN_VARIANT_COUNT,
    .variant_names = cudnn_variant_names,
    .fma_regions = CNN_REGION_BIT(CNN_REGION_CONV_FWD) | CNN_REGION_BIT(CNN_REGION_FC_FWD) |
                   CNN_REGION_BIT(CNN_REGION_FC_BWD) | CNN_REGION_BIT(CNN_REGION_CONV_BWD), /* CUDNN_FMA_MATH, cuBLAS SGEMM */
    .dm_in_conv_backward = 0,
    .probe = cudnn_probe,
    .create = cudnn_create,
    .destroy = cudnn_destroy,
    .set_params = cudnn_set_params,
    .get_params = cudnn_get_params,
    .get_grads = cudnn_get_grads,
    .load_batch = cudnn_load_batch,
    .batch_buffer = cudnn_batch_buffer,
    .conv_forward = cudnn_conv_forward,
    .fc_forward = cudnn_fc_forward,
    .loss_forward = cudnn_loss_forward_region,
    .loss_backward = cudnn_loss_backward_region,
    .fc_backward = cudnn_fc_backward,
    .conv_backward = cudnn_conv_backward,
    .allreduce = cudnn_allreduce,
    .data_parallel = cudnn_data_parallel,
    .update = cudnn_update,
    .read_metrics = cudnn_read_metrics,
    .get_logits = cudnn_get_logits,
    .set_logit_grad = cudnn_set_logit_grad,
    .get_pool_choice = cudnn_get_pool_choice,
    .predict = cudnn_predict,
    .timer_mark = cudnn_timer_mark,
    .timer_read = cudnn_timer_read,
    .device_bus_id = cudnn_device_bus_id,
};
