/*
 * cuda_parallel.cu — data-parallel training through NCCL, the group mode of
 * the cuda backend, whose one table (cuda_table.c) sends a state made with
 * gpus >= 1 or with a comm here. Built only with NCCL (CNN_HAVE_NCCL), where
 * the backend claims CNN_CAP_DATA_PARALLEL and CNN_CAP_RANKS. Two shapes:
 *   cfg.gpus = N >= 1   one process drives N GPUs of its host (below);
 *   cfg.comm            one process of a job of several (mpirun, srun;
 *                       docs/MPI.md) drives one GPU, its local rank's: a
 *                       group of one local rank, whose communicator spans
 *                       the job's processes (ncclGetUniqueId on rank 0, the
 *                       id broadcast through comm, ncclCommInitRank), and
 *                       whose batch is this process's share; the loss
 *                       gradient divides by the job's global batch.
 * Both run the same slots below; the text that follows describes the first.
 *
 * One process drives every GPU. Rank r is an ordinary one-GPU state of this
 * backend (cuda_backend.cu) made on device r, with its own stream, events
 * and buffers; the communicators come from ncclCommInitAll. One step:
 *   load_batch   rank r takes the contiguous images [off_r, off_r + n_r) of
 *                the batch; the shares are as equal as possible (the first
 *                n % N ranks take one image more), so B need not divide by N
 *   forward and backward   every rank on its share, with the one-GPU kernels;
 *                loss_backward divides by the global batch (mean_over), so
 *                the ranks' gradients sum to the gradient of the whole batch
 *   allreduce    ncclAllReduce(ncclSum, ncclFloat) of the whole canonical
 *                gradient buffer (one contiguous buffer), in place, each
 *                rank on its own stream, the N calls in one NCCL group
 *   update       every rank applies the same summed gradient to the same
 *                parameters, so the parameters stay identical on every GPU
 *   read_metrics loss sums and correct counts added on the host, rank order
 * The handle the harness holds is rank 0's state; its `group` reaches the
 * others. get_params, get_grads and predict use rank 0 (all ranks hold the
 * same parameters). Every slot restores the caller's current device.
 *
 * Timing: the region clock (gpu/gpu.h) is rank 0's, on rank 0's stream.
 * Each slot enqueues the work of every rank before it returns, so a region
 * measures rank 0's share; allreduce also covers the wait for the slowest
 * rank, since the collective cannot finish on rank 0 before every rank has
 * joined it. The uploads run rank after rank (each waits for its own DMA out
 * of the page-locked batch buffer) and h2d ends with rank 0's copy, so the
 * host time of the other ranks' uploads falls in conv_fwd's launch gap.
 *
 * Determinism: every rank runs the one-GPU kernels, which are reproducible;
 * the shares depend only on (n, N); NCCL adds the ranks' gradients in an
 * order fixed by its algorithm, protocol and channel count, which it picks
 * from the topology, the message size, N, its version and the environment
 * (NCCL_ALGO, NCCL_PROTO, NCCL_NVLS_ENABLE, ...). So for a fixed N on the
 * same GPUs, with the same NCCL and the same environment, a run is bitwise
 * reproducible. N = 1 is bitwise identical to gpus = 0: the same kernels on
 * the same shapes, and an in-place all-reduce of one rank leaves the buffer
 * untouched. Different N add in another order: they agree within docs/DESIGN.md §4,
 * not bit for bit.
 */
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_share.h"
#include "cuda_internal.cuh"

/* The ranks of one data-parallel state. */
struct cuda_group {
    int ranks;             /* N: local ranks, driven by this process (1 in a job) */
    int device0;           /* rank r runs on device device0 + r */
    const struct cnn_comm *job; /* a job of processes (cfg.comm), or NULL */
    int batch;             /* B: the global batch capacity */
    int n;                 /* images of the current global batch */
    cnn_state **rank;      /* [N] one-GPU states, rank r on device r */
    ncclComm_t *comm;      /* [N] */
    int comms_made;        /* 1 once ncclCommInitAll succeeded */
    void *pinned;          /* the batch buffer: [B][P] floats, then [B] labels */
};

/* Records "file:line: call: error (NCCL detail)" as a device error. */
static cnn_status nccl_fail_call(ncclResult_t res, const char *file, int line, const char *call)
{
    const char *detail = ncclGetLastError(NULL);
    return cnn_fail(CNN_E_DEVICE, "%s:%d: %s: %s (ncclResult %d%s%s)", file, line, call,
                    ncclGetErrorString(res), (int)res, detail && *detail ? ": " : "",
                    detail ? detail : "");
}

#define NCCL_CHECK(call)                                                          \
    do {                                                                          \
        ncclResult_t nccl_check_res_ = (call);                                    \
        if (nccl_check_res_ != ncclSuccess)                                       \
            return nccl_fail_call(nccl_check_res_, __FILE__, __LINE__, #call);    \
    } while (0)

/* The NCCL library loaded at run time, as "2.28.9" (meta.json records it:
 * the all-reduce order, hence the bits, can change with it); the table's
 * library_version, for "nccl" alone. */
extern "C" int cuda_library_version(const char *library, char *buf, size_t len)
{
    if (strcmp(library, "nccl") != 0)
        return 0;
    int v = 0;
    if (ncclGetVersion(&v) != ncclSuccess)
        snprintf(buf, len, "unknown");
    else
        snprintf(buf, len, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
    return 1;
}

/* ---- the batch split (batch_share.h) ---- */

/* Images of rank r in a batch of n over N ranks, and the first of them. */
static int share_size(int n, int N, int r) { return (int)cnn_share_of((size_t)n, N, r).count; }
static int share_start(int n, int N, int r) { return (int)cnn_share_of((size_t)n, N, r).offset; }

/* ---- current device: every slot leaves it as the caller had it ---- */

static cnn_status device_enter(int *prev)
{
    GPU_CHECK(cudaGetDevice(prev));
    return CNN_OK;
}

/* Restores the caller's device; the slot's own failure wins over this one. */
static cnn_status device_leave(int prev, cnn_status st)
{
    cudaError_t err = cudaSetDevice(prev);
    if (st == CNN_OK && err != cudaSuccess)
        return gpu_fail_call(err, __FILE__, __LINE__, "cudaSetDevice(caller's device)");
    return st;
}

static cnn_status use_rank(const struct cuda_group *g, int r)
{
    GPU_CHECK(cudaSetDevice(g->device0 + r));
    return CNN_OK;
}

/* fn on every rank in rank order, each on its own device. */
static cnn_status each_rank(cnn_state *s, cnn_status (*fn)(cnn_state *))
{
    struct cuda_group *g = s->group;
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = CNN_OK;
    for (int r = 0; r < g->ranks && st == CNN_OK; r++) {
        st = use_rank(g, r);
        if (st == CNN_OK)
            st = fn(g->rank[r]);
    }
    return device_leave(prev, st);
}

/* ---- life cycle ---- */

static void group_free(struct cuda_group *g)
{
    if (g->comms_made) {
        /* finalize in one group: a thread that drives several ranks would
         * otherwise wait in the first for the others */
        if (ncclGroupStart() == ncclSuccess) {
            for (int r = 0; r < g->ranks; r++)
                (void)ncclCommFinalize(g->comm[r]);
            (void)ncclGroupEnd();
        }
        for (int r = 0; r < g->ranks; r++)
            (void)ncclCommDestroy(g->comm[r]);
    }
    /* rank 0 is the handle: freed last, by the caller */
    for (int r = g->ranks - 1; r >= 1; r--) {
        if (g->rank[r] && cudaSetDevice(g->device0 + r) == cudaSuccess)
            cuda_destroy(g->rank[r]);
    }
    if (g->pinned)
        (void)cudaFreeHost(g->pinned);
    free(g->rank);
    free(g->comm);
    free(g);
}

extern "C" void cuda_dp_destroy(cnn_state *s)
{
    if (!s)
        return;
    int prev = 0;
    int have_prev = cudaGetDevice(&prev) == cudaSuccess;
    struct cuda_group *g = s->group;
    int device0 = g ? g->device0 : 0;
    if (g)
        group_free(g);
    (void)cudaSetDevice(device0);
    cuda_destroy(s);
    if (have_prev)
        (void)cudaSetDevice(prev);
    (void)cudaGetLastError();
}

/* A job of processes: one communicator over all of them, on this process's
 * device (current). Rank 0 makes the id; the job's broadcast carries it. */
static cnn_status job_comm(struct cuda_group *g)
{
    const struct cnn_comm *job = g->job;
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    if (job->rank == 0)
        NCCL_CHECK(ncclGetUniqueId(&id));
    CNN_TRY(job->broadcast(job->ctx, &id, sizeof id));
    NCCL_CHECK(ncclCommInitRank(&g->comm[0], job->size, id, job->rank));
    return CNN_OK;
}

/* The ranks, the communicators and the batch buffer; on failure the caller
 * frees whatever was made. */
static cnn_status group_create(struct cuda_group *g, const struct cnn_config *cfg)
{
    int N = cfg->gpus;
    /* each rank is a one-GPU state sized for the largest share */
    struct cnn_config rank_cfg = *cfg;
    rank_cfg.gpus = 0;
    rank_cfg.batch = share_size(cfg->batch, N, 0);
    for (int r = 0; r < N; r++) {
        CNN_TRY(use_rank(g, r));
        cnn_status st = cuda_create(&rank_cfg, &g->rank[r]);
        if (st != CNN_OK)
            return cnn_fail_context(st, "cuda: creating rank %d of %d on device %d", r, N,
                                    g->device0 + r);
    }
    if (g->job) {
        CNN_TRY(job_comm(g));
    } else {
        int *devices = (int *)malloc((size_t)N * sizeof *devices);
        if (!devices)
            return cnn_fail(CNN_E_NOMEM, "cuda: cannot allocate %d device numbers", N);
        for (int r = 0; r < N; r++)
            devices[r] = r;
        ncclResult_t res = ncclCommInitAll(g->comm, N, devices);
        free(devices);
        if (res != ncclSuccess)
            return nccl_fail_call(res, __FILE__, __LINE__, "ncclCommInitAll");
    }
    g->comms_made = 1;
    /* portable: every rank's DMA reads its share out of it */
    size_t bytes = (size_t)cfg->batch * CNN_PIXELS * sizeof(float) + (size_t)cfg->batch;
    CNN_TRY(use_rank(g, 0));
    cudaError_t err = cudaHostAlloc(&g->pinned, bytes, cudaHostAllocPortable);
    if (err != cudaSuccess) {
        g->pinned = NULL;
        (void)cudaGetLastError();
        return cnn_fail(CNN_E_NOMEM, "cuda: cannot pin %zu bytes of host memory for B=%d: %s",
                        bytes, cfg->batch, cudaGetErrorString(err));
    }
    return CNN_OK;
}

/* A group for cfg->gpus = N >= 1 or cfg->comm, cfg passed by
 * cnn_config_check (cuda_table.c). */
extern "C" cnn_status cuda_dp_create(const struct cnn_config *cfg, cnn_state **out)
{
    const struct cnn_comm *job = cfg->comm;
    int N = job ? 1 : cfg->gpus;
    if (cfg->batch < N)
        return cnn_fail(CNN_E_ARG, "cuda: a batch of %d cannot be split over %d GPUs (each "
                        "needs at least one image)", cfg->batch, N);
    CNN_TRY(cuda_probe());
    int devices = 0;
    GPU_CHECK(cudaGetDeviceCount(&devices));
    /* a job: one GPU per process, the local rank's, or the only one a
     * process sees (CUDA_VISIBLE_DEVICES set per process, as Slurm's
     * --gpus-per-task does); NCCL refuses two processes on one GPU */
    int device0 = job && devices > 1 ? job->local_rank : 0;
    if (job && device0 >= devices)
        return cnn_fail(CNN_E_UNAVAILABLE, "cuda: rank %d of %d is process %d on its host, "
                        "which has %d GPU%s visible: start at most %d process%s per host (one "
                        "GPU each)", job->rank, job->size, device0 + 1, devices,
                        devices == 1 ? "" : "s", devices, devices == 1 ? "" : "es");
    if (devices < N)
        return cnn_fail(CNN_E_UNAVAILABLE, "cuda: --gpus %d needs %d GPUs, this machine has %d",
                        N, N, devices);

    struct cuda_group *g = (struct cuda_group *)calloc(1, sizeof *g);
    if (g) {
        g->rank = (cnn_state **)calloc((size_t)N, sizeof *g->rank);
        g->comm = (ncclComm_t *)calloc((size_t)N, sizeof *g->comm);
    }
    if (!g || !g->rank || !g->comm) {
        if (g) {
            free(g->rank);
            free(g->comm);
            free(g);
        }
        return cnn_fail(CNN_E_NOMEM, "cuda: cannot allocate a group of %d GPUs", N);
    }
    g->ranks = N;
    g->device0 = device0;
    g->job = job;
    g->batch = cfg->batch;

    int prev = 0;
    cnn_status st = device_enter(&prev);
    if (st == CNN_OK)
        st = device_leave(prev, group_create(g, cfg));
    if (st != CNN_OK) {
        cnn_state *lead = g->rank[0];
        if (lead) {
            lead->group = g;
            cuda_dp_destroy(lead);
        } else {
            group_free(g);
        }
        return st;
    }
    g->rank[0]->group = g;
    *out = g->rank[0];
    return CNN_OK;
}

/* ---- parameters: the same on every rank; read from rank 0 ---- */

extern "C" cnn_status cuda_dp_set_params(cnn_state *s, const struct cnn_params *p)
{
    struct cuda_group *g = s->group;
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = CNN_OK;
    for (int r = 0; r < g->ranks && st == CNN_OK; r++) {
        st = use_rank(g, r);
        if (st == CNN_OK)
            st = cuda_set_params(g->rank[r], p);
    }
    return device_leave(prev, st);
}

extern "C" cnn_status cuda_dp_get_params(cnn_state *s, struct cnn_params *p)
{
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = use_rank(s->group, 0);
    if (st == CNN_OK)
        st = cuda_get_params(s, p);
    return device_leave(prev, st);
}

/* After allreduce: the summed gradient, the same on every rank. */
extern "C" cnn_status cuda_dp_get_grads(cnn_state *s, struct cnn_params *g)
{
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = use_rank(s->group, 0);
    if (st == CNN_OK)
        st = cuda_get_grads(s, g);
    return device_leave(prev, st);
}

/* ---- the batch ---- */

/* Pixels then labels, the layout of cuda_batch_buffer, for the whole batch. */
extern "C" cnn_status cuda_dp_batch_buffer(cnn_state *s, float **x, uint8_t **y)
{
    struct cuda_group *g = s->group;
    *x = (float *)g->pinned;
    *y = (uint8_t *)g->pinned + (size_t)g->batch * CNN_PIXELS * sizeof(float);
    return CNN_OK;
}

extern "C" cnn_status cuda_dp_load_batch(cnn_state *s, const float *x, const uint8_t *y, int n)
{
    struct cuda_group *g = s->group;
    if (n < g->ranks || n > g->batch)
        return cnn_fail(CNN_E_ARG, "cuda: a batch of %d images over %d GPUs, capacity %d", n,
                        g->ranks, g->batch);
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = CNN_OK;
    g->n = 0;
    for (int r = 0; r < g->ranks && st == CNN_OK; r++) {
        int first = share_start(n, g->ranks, r);
        st = use_rank(g, r);
        if (st == CNN_OK)
            st = cuda_load_batch(g->rank[r], x + (size_t)first * CNN_PIXELS, y + first,
                                 share_size(n, g->ranks, r));
        /* each share's loss gradient is its part of the mean over the batch,
         * in a job the batch of all its processes */
        if (st == CNN_OK)
            g->rank[r]->mean_over = g->job ? g->job->global_batch : n;
    }
    if (st == CNN_OK)
        g->n = n;
    return device_leave(prev, st);
}

/* ---- the step: the one-GPU slots on every rank ---- */

extern "C" cnn_status cuda_dp_conv_forward(cnn_state *s) { return each_rank(s, cuda_conv_forward); }
extern "C" cnn_status cuda_dp_fc_forward(cnn_state *s) { return each_rank(s, cuda_fc_forward); }
extern "C" cnn_status cuda_dp_loss_forward(cnn_state *s) { return each_rank(s, cuda_loss_forward); }
extern "C" cnn_status cuda_dp_loss_backward(cnn_state *s) { return each_rank(s, cuda_loss_backward); }
extern "C" cnn_status cuda_dp_fc_backward(cnn_state *s) { return each_rank(s, cuda_fc_backward); }
extern "C" cnn_status cuda_dp_conv_backward(cnn_state *s) { return each_rank(s, cuda_conv_backward); }
extern "C" cnn_status cuda_dp_update(cnn_state *s) { return each_rank(s, cuda_update); }

/* The N all-reduces of one step, one per rank, as one NCCL group: a single
 * thread drives every rank, and outside a group the first call would wait
 * for ranks whose call has not been made yet. */
static cnn_status allreduce_group(struct cuda_group *g)
{
    NCCL_CHECK(ncclGroupStart());
    for (int r = 0; r < g->ranks; r++) {
        cnn_state *rs = g->rank[r];
        ncclResult_t res = ncclAllReduce(rs->grads_buf, rs->grads_buf, rs->count, ncclFloat,
                                         ncclSum, g->comm[r], rs->stream);
        if (res != ncclSuccess) {
            cnn_status st = nccl_fail_call(res, __FILE__, __LINE__, "ncclAllReduce(gradients)");
            (void)ncclGroupEnd(); /* closes the group; the first error is the one reported */
            return st;
        }
    }
    NCCL_CHECK(ncclGroupEnd());
    return CNN_OK;
}

extern "C" cnn_status cuda_dp_allreduce(cnn_state *s)
{
    struct cuda_group *g = s->group;
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = allreduce_group(g);
    /* CNNBENCH_CUDA_SYNC=1: a failed collective is reported here, by name */
    for (int r = 0; r < g->ranks && st == CNN_OK && s->sync_debug; r++) {
        cudaError_t err = cudaStreamSynchronize(g->rank[r]->stream);
        if (err != cudaSuccess)
            st = cnn_fail(CNN_E_DEVICE, "%s:%d: running ncclAllReduce on rank %d: %s (%s)",
                          __FILE__, __LINE__, r, cudaGetErrorString(err), cudaGetErrorName(err));
    }
    return device_leave(prev, st);
}

/* Loss sums and correct counts of every share, added in rank order. */
extern "C" cnn_status cuda_dp_read_metrics(cnn_state *s, double *loss, int *correct)
{
    struct cuda_group *g = s->group;
    if (g->n < 1)
        return cnn_fail(CNN_E_ARG, "cuda: read_metrics before any batch");
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = CNN_OK;
    double loss_sum = 0.0;
    int hits = 0;
    for (int r = 0; r < g->ranks && st == CNN_OK; r++) {
        double rank_loss = 0.0;
        int rank_hits = 0;
        st = use_rank(g, r);
        if (st == CNN_OK)
            st = cuda_read_metrics(g->rank[r], &rank_loss, &rank_hits);
        if (st == CNN_OK) {
            /* the rank's raw sum, not its mean times its share: no rounding */
            loss_sum += g->rank[r]->metrics_host->loss_sum;
            hits += rank_hits;
        }
    }
    if (st == CNN_OK) {
        *loss = loss_sum / g->n;
        *correct = hits;
    }
    return device_leave(prev, st);
}

/* ---- test hooks: logits, their gradient and the pool decisions, rank shares
 * in batch order ---- */

/* Calls a one-GPU hook on every rank with that rank's share of buf, a
 * [n][per_image] array in batch order. */
template <typename T>
static cnn_status each_share(cnn_state *s, T *buf, size_t per_image,
                             cnn_status (*hook)(cnn_state *, T *))
{
    struct cuda_group *g = s->group;
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = CNN_OK;
    for (int r = 0; r < g->ranks && st == CNN_OK; r++) {
        st = use_rank(g, r);
        if (st == CNN_OK)
            st = hook(g->rank[r], buf + (size_t)share_start(g->n, g->ranks, r) * per_image);
    }
    return device_leave(prev, st);
}

extern "C" cnn_status cuda_dp_get_logits(cnn_state *s, float *logits)
{
    return each_share(s, logits, CNN_CLASSES, cuda_get_logits);
}

extern "C" cnn_status cuda_dp_set_logit_grad(cnn_state *s, const float *dlogits)
{
    return each_share(s, dlogits, CNN_CLASSES, cuda_set_logit_grad);
}

extern "C" cnn_status cuda_dp_get_pool_choice(cnn_state *s, uint8_t *choice)
{
    return each_share(s, choice, s->K, cuda_get_pool_choice);
}

/* Evaluation is untimed: rank 0 alone, in chunks of its share capacity. */
extern "C" cnn_status cuda_dp_predict(cnn_state *s, const float *x, int n, uint8_t *pred)
{
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = use_rank(s->group, 0);
    if (st == CNN_OK)
        st = cuda_predict(s, x, n, pred);
    return device_leave(prev, st);
}

/* ---- timing: rank 0's events on rank 0's stream ---- */

extern "C" cnn_status cuda_dp_timer_mark(cnn_state *s, enum cnn_region r, int end)
{
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = use_rank(s->group, 0);
    if (st == CNN_OK)
        st = cuda_timer_mark(s, r, end);
    return device_leave(prev, st);
}

extern "C" cnn_status cuda_dp_timer_read(cnn_state *s, double ms[CNN_REGION_COUNT],
                                         double *span_ms)
{
    int prev = 0;
    CNN_TRY(device_enter(&prev));
    cnn_status st = use_rank(s->group, 0);
    if (st == CNN_OK)
        st = cuda_timer_read(s, ms, span_ms);
    return device_leave(prev, st);
}

/* Rank i's card: rank i was made on device i. */
extern "C" cnn_status cuda_dp_device_bus_id(cnn_state *s, int i, char *buf, size_t len)
{
    struct cuda_group *g = s->group;
    if (i < 0 || i >= g->ranks)
        return cnn_fail(CNN_E_ARG, "cuda: no rank %d of %d GPUs", i, g->ranks);
    return cuda_device_bus_id(g->rank[i], 0, buf, len);
}
