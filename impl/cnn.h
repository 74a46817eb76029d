/*
 * cnn.h — the model contract shared by every backend and by the harness.
 *
 * The network (docs/DESIGN.md §1): 3x3 valid conv with F filters + bias + ReLU,
 * 2x2/2 max-pool, flatten in NCHW order, FC to 10 classes, softmax
 * cross-entropy (mean over the batch), plain SGD.
 *
 * Shape letters used in comments throughout the project:
 *   B  batch size          F  conv filters
 *   P  pixels per image (28*28 = 784)
 *   K  flattened features per image = F * 13 * 13
 *   C  classes (10)
 *
 * A backend is one `const struct cnn_backend` of function pointers (the idea
 * of dav1d's DSP contexts). Parameters cross the boundary only in the
 * canonical (PyTorch) layout; inside, a backend keeps whatever layout it likes.
 */
#ifndef CNN_H
#define CNN_H

#include <stddef.h>
#include <stdint.h>

/* ---- fixed sizes: the only place these numbers are written ---- */
enum {
    CNN_IMG = 28,                            /* input is CNN_IMG x CNN_IMG */
    CNN_PIXELS = CNN_IMG * CNN_IMG,          /* P = 784 */
    CNN_KSIZE = 3,                           /* conv kernel is 3x3 */
    CNN_KTAPS = CNN_KSIZE * CNN_KSIZE,       /* 9 weights per filter */
    CNN_CONV = CNN_IMG - CNN_KSIZE + 1,      /* conv output is 26x26 */
    CNN_POOLW = 2,                           /* 2x2 windows, stride 2 */
    CNN_POOL = CNN_CONV / CNN_POOLW,         /* pooled output is 13x13 */
    CNN_POOL_AREA = CNN_POOL * CNN_POOL,     /* 169 features per filter */
    CNN_CLASSES = 10,                        /* C */
};

/* Limits the CLI enforces, so that every size product fits comfortably. */
enum {
    CNN_MAX_BATCH = 1 << 16,
    CNN_MAX_FILTERS = 4096,
};

/* ---- status codes: every fallible call returns one ---- */
typedef enum cnn_status {
    CNN_OK = 0,
    CNN_E_ARG = 1,          /* invalid argument or configuration */
    CNN_E_NOMEM = 2,        /* host allocation failed */
    CNN_E_IO = 3,           /* file could not be opened, read or written */
    CNN_E_DATA = 4,         /* file contents are malformed */
    CNN_E_DEVICE = 5,       /* CUDA/CUPTI runtime error */
    CNN_E_DEVICE_OOM = 6,   /* device allocation does not fit */
    CNN_E_UNAVAILABLE = 7,  /* backend built but cannot run here (no GPU) */
    CNN_E_INTERRUPTED = 8,  /* SIGINT or SIGTERM arrived */
    CNN_E_DIVERGED = 9,     /* the loss or a parameter became NaN or infinite */
} cnn_status;

/* ---- the processes of a data-parallel job (optional) ----
 * Training over the N processes of mpirun or srun (docs/MPI.md): every
 * process makes one state with cfg->comm set, trains on its contiguous
 * share of the global batch (cfg->batch images, batch_share.h's split),
 * divides the loss gradient by the global batch, and sums the gradients of
 * every process in its allreduce slot, so that every process applies the
 * same update. The harness fills this struct from its MPI layer; impl/
 * never sees MPI, only these function pointers. sum and broadcast are
 * collective: every process calls them, in the same order. */
struct cnn_comm {
    int rank;          /* this process, 0..size-1 */
    int size;          /* N >= 1 (the harness passes no comm for a job of one) */
    int local_rank;    /* among the processes of this host, in rank order: picks the GPU */
    int global_batch;  /* B, the images of one step over all processes */
    void *ctx;         /* the harness's, passed back to sum and broadcast */
    /* buf [n] replaced by its sum over the processes: the same bits on every
     * process, and from run to run for a fixed N */
    cnn_status (*sum)(void *ctx, float *buf, size_t n);
    /* rank 0's buf [bytes] copied to every process */
    cnn_status (*broadcast)(void *ctx, void *buf, size_t bytes);
};

/* ---- configuration of one training run ---- */
struct cnn_config {
    int batch;     /* B: images per step, 1..CNN_MAX_BATCH */
    int filters;   /* F: conv filters, 1..CNN_MAX_FILTERS */
    float lr;      /* SGD learning rate */
    int threads;   /* CPU threads; 0 = backend default (OMP_NUM_THREADS);
                      > 0 only for a backend with CNN_CAP_THREADS */
    int variant;   /* kernel variant 1..variant_count; 0 = backend default;
                      > 0 only for a backend with CNN_CAP_VARIANTS */
    int gpus;      /* 0 = the plain one-device path; N >= 1 = data-parallel over N
                      GPUs, B the global batch, only for a backend with
                      CNN_CAP_DATA_PARALLEL (cuda through NCCL). N = 1 (a
                      communicator of one rank) is bitwise identical to 0; a
                      fixed N is bitwise reproducible on the same GPUs, NCCL
                      version and NCCL environment; different N agree within
                      docs/DESIGN.md §4. */
    const struct cnn_comm *comm; /* NULL: one process (the plain path). Set: this
                      state is one process of a data-parallel job, cfg->batch
                      its share; only for a backend with CNN_CAP_RANKS, and
                      never together with gpus >= 1 */
};

/* ---- parameters: one contiguous buffer with typed views ----
 * The canonical layout, identical to PyTorch's state_dict:
 *   conv_w [F][1][3][3]   conv_b [F]   fc_w [C][K]   fc_b [C]
 * Gradients use the same struct, so compare/zero/copy are one call each. */
struct cnn_params {
    int filters;    /* F */
    size_t count;   /* total floats in buf */
    float *buf;     /* owns the storage */
    float *conv_w;  /* [F][9] */
    float *conv_b;  /* [F] */
    float *fc_w;    /* [C][K], K = F*169 */
    float *fc_b;    /* [C] */
};

/* Number of floats for F filters (10*(1+169F) + 10F). */
size_t cnn_param_count(int filters);
/* Flattened FC input size K = F*169. */
static inline size_t cnn_features(int filters) { return (size_t)filters * CNN_POOL_AREA; }

/* ---- timed regions: stable numbers, they are CSV keys ----
 * conv = convolution + bias + ReLU + max-pool; loss = softmax + CE + dlogits. */
enum cnn_region {
    CNN_REGION_H2D = 0,
    CNN_REGION_CONV_FWD = 1,
    CNN_REGION_FC_FWD = 2,
    CNN_REGION_LOSS_FWD = 3,
    CNN_REGION_LOSS_BWD = 4,
    CNN_REGION_FC_BWD = 5,
    CNN_REGION_CONV_BWD = 6,
    CNN_REGION_UPDATE = 7,
    CNN_REGION_D2H = 8,
    CNN_REGION_ALLREDUCE = 9, /* gradient sum over GPUs or processes, between conv_bwd
                                 and update */
    CNN_REGION_COUNT = 10,
};
const char *cnn_region_name(enum cnn_region r);

/* ---- pool decisions, the one place where summation order can flip a result ----
 * For each pooled output (b, k), the window position that receives its
 * gradient: 0..3 in the tie order (0,0), (0,1), (1,0), (1,1) (the first
 * maximum of relu(z) wins), or CNN_POOL_NO_GRAD where the pooled value is
 * <= 0, so ReLU stops the gradient. Two backends that sum a pre-activation z
 * in different orders may decide a near tie differently; the verification
 * (bench/engine/verify.h) checks that such a flip lies within the rounding bound and
 * then replays the reference with the candidate's decisions. */
enum { CNN_POOL_NO_GRAD = 4 };

/* ---- capabilities a backend claims ---- */
enum {
    CNN_CAP_THREADS = 1u << 0,  /* takes a thread count, cfg->threads */
    CNN_CAP_VARIANTS = 1u << 1, /* has numbered kernel variants, cfg->variant */
    CNN_CAP_DEVICE = 1u << 2,   /* separate device memory: h2d/d2h regions are real,
                                   region timing is asynchronous (timer_* slots) */
    CNN_CAP_REFERENCE = 1u << 3, /* the oracle every other backend is verified against
                                    (exactly one backend: seq); fills set_pool_choice */
    CNN_CAP_DATA_PARALLEL = 1u << 4, /* trains over several devices when cfg->gpus >= 1:
                                        fills allreduce and data_parallel */
    CNN_CAP_THREAD_BASELINE = 1u << 5, /* its one-thread run is the baseline of the
                                          speedup_omp1 column (exactly one: omp) */
    CNN_CAP_RANKS = 1u << 6, /* trains as one process of a data-parallel job when
                                cfg->comm is set: fills allreduce and data_parallel */
};

/* ---- where a backend's arithmetic stands on the roofline (bench/engine/roofline.h) ----
 * A region's ceiling depends on how it multiplies and adds: fused (FMA), at
 * the machine's FMA peak, or rounded apart as seq rounds (-ffp-contract=off),
 * at half that peak on FMA hardware. The bit of region r in fma_regions: */
#define CNN_REGION_BIT(r) (1u << (r))
/* Room for a PCI bus id, "0000:1B:00.0" (13 characters with the NUL). */
enum { CNN_BUS_ID = 32 };

/* Opaque per-run state of a backend. */
typedef struct cnn_state cnn_state;

/*
 * The backend interface. Every function returns a cnn_status; on failure it
 * has recorded a message with cnn_fail() (impl/common/error.h).
 *
 * A state is configured once, by the struct cnn_config given to create
 * (threads, variant, gpus included); there is no other way to change it.
 * create checks the config with cnn_config_check first. A new backend:
 * docs/ADDING_A_BACKEND.md.
 *
 * A training step is driven by cnn_step() (impl/common/step.c) in this order:
 *   load_batch, conv_forward, fc_forward, loss_forward, loss_backward,
 *   fc_backward, conv_backward, [allreduce,] update, read_metrics
 * Backward calls overwrite (never accumulate into) the gradients.
 */
struct cnn_backend {
    const char *name;        /* CLI and CSV key: "seq", "omp", "cuda" */
    const char *description; /* one line for --help */
    unsigned caps;           /* CNN_CAP_* */
    int variant_count;       /* >= 1; variants are numbered 1..variant_count */
    const char *const *variant_names; /* [variant_count], short descriptions */
    /* How the roofline chart places the regions (bench/engine/roofline.h):
     * fma_regions has CNN_REGION_BIT(r) where region r multiplies and adds
     * with FMA; bit v of dm_in_conv_backward is set where variant v (as
     * cfg->variant names it, so bit 0 is the default variant) forms dm in
     * conv_backward instead of fc_backward (it moves work between the two);
     * bit v of m_recomputed is set where variant v never stores m: the FC
     * forward's products run inside conv_forward (fc_forward adds them up),
     * the whole backward (m recomputed at the pool decision, dfc_w, dm and
     * the conv gradient's partial sums) inside fc_backward, and
     * conv_backward only adds the partials. Neither changes a step's work,
     * only which region does it. */
    unsigned fma_regions;
    unsigned dm_in_conv_backward;
    unsigned m_recomputed;

    /* CNN_OK if the backend can run on this machine; else a reason. */
    cnn_status (*probe)(void);
    /* A state for cfg: CNN_E_ARG, from cnn_config_check, where cfg asks what
     * the backend cannot do. cfg->gpus >= 1 (CNN_CAP_DATA_PARALLEL) makes a
     * state that drives every device through these same slots. */
    cnn_status (*create)(const struct cnn_config *cfg, cnn_state **out);
    void (*destroy)(cnn_state *s);

    /* canonical layout in and out; p->filters must equal cfg->filters */
    cnn_status (*set_params)(cnn_state *s, const struct cnn_params *p);
    cnn_status (*get_params)(cnn_state *s, struct cnn_params *p);
    cnn_status (*get_grads)(cnn_state *s, struct cnn_params *g);

    /* x: [n][P] floats (pixels already /255 by the harness), y: [n] in 0..9.
     * n == cfg->batch for training steps. Region h2d. */
    cnn_status (*load_batch)(cnn_state *s, const float *x, const uint8_t *y, int n);
    /* Optional (NULL: the caller's own memory is as good as any). Where the
     * caller should gather each training batch, x [B][P] and y [B], so that
     * load_batch moves it without a host copy: for a device backend,
     * page-locked memory that goes up by DMA. Owned by the state; refill it
     * only after the step's read_metrics (cnn_step returns after it). */
    cnn_status (*batch_buffer)(cnn_state *s, float **x, uint8_t **y);

    cnn_status (*conv_forward)(cnn_state *s);  /* x -> pooled m [B][K] + argmax */
    cnn_status (*fc_forward)(cnn_state *s);    /* m -> logits [B][C] */
    cnn_status (*loss_forward)(cnn_state *s);  /* logits -> probs, loss, correct */
    cnn_status (*loss_backward)(cnn_state *s); /* -> dlogits = (p - onehot)/B, B the
                                                  global batch under a comm */
    cnn_status (*fc_backward)(cnn_state *s);   /* -> dfc_w, dfc_b, dm (a backend may
                                                  form dm inside conv_backward,
                                                  where it is consumed) */
    cnn_status (*conv_backward)(cnn_state *s); /* dm -> dconv_w, dconv_b */
    cnn_status (*update)(cnn_state *s);        /* theta -= lr * grad */
    /* Mean loss and number of correct argmax predictions of the last
     * loss_forward. Region d2h. */
    cnn_status (*read_metrics)(cnn_state *s, double *loss, int *correct);

    /* Test hooks for the bit-exact layer checks: read the logits [B][C] of
     * the last fc_forward, or overwrite dlogits [B][C] before fc_backward. */
    cnn_status (*get_logits)(cnn_state *s, float *logits);
    cnn_status (*set_logit_grad)(cnn_state *s, const float *dlogits);
    /* Verification hooks: read the pool decisions choice [n][K] of the last
     * conv_forward (CNN_POOL_NO_GRAD or 0..3, see above); valid until the
     * next conv_forward, so also after the step's update. set_pool_choice is
     * optional (NULL) and filled by the reference alone: it overrides the
     * decisions of the last conv_forward, so that the following backward
     * routes the gradient as another backend decided. */
    cnn_status (*get_pool_choice)(cnn_state *s, uint8_t *choice);
    cnn_status (*set_pool_choice)(cnn_state *s, const uint8_t *choice);

    /* Forward only, n images in chunks of at most cfg->batch; pred [n]. */
    cnn_status (*predict)(cnn_state *s, const float *x, int n, uint8_t *pred);

    /* CNN_CAP_DEVICE: asynchronous region timing on the device's clock.
     * timer_mark marks the start (end = 0) or end (end = 1) of region r on
     * the training stream; timer_read waits for the step and returns
     * milliseconds per region (negative = region not run) and, unless
     * span_ms is NULL, the step's GPU span: from the first region's start
     * to the last region's end (negative = no region ran). The regions tile
     * the span: each runs from the end of the region before it (the first,
     * from its start) to its own end, so the launch gap before a region
     * counts in that region, and a step's regions add up to its span
     * (impl/gpu/gpu.h; results/README.md, "GPU region times"). */
    cnn_status (*timer_mark)(cnn_state *s, enum cnn_region r, int end);
    cnn_status (*timer_read)(cnn_state *s, double ms[CNN_REGION_COUNT], double *span_ms);
    /* Optional (NULL: never). 1 where s replays each timed step as one unit
     * (cuda v6, a CUDA graph): the slots between the marks enqueue nothing
     * and read_metrics launches the whole step, so the regions still tile
     * the span but host time between slots counts in no region. */
    int (*replays_step)(const cnn_state *s);
    /* CNN_CAP_DEVICE: the PCI bus id ("0000:1B:00.0") of the i-th device the
     * state trains on, 0 <= i < max(1, cfg->gpus), into buf [len >=
     * CNN_BUS_ID]: how the harness meters that card's energy (NVML names
     * cards by bus id; CUDA's numbering changes with CUDA_VISIBLE_DEVICES). */
    cnn_status (*device_bus_id)(cnn_state *s, int i, char *buf, size_t len);

    /* CNN_CAP_DATA_PARALLEL, CNN_CAP_RANKS: data-parallel training.
     * data_parallel says whether a state was made with cfg->gpus >= 1 or a
     * cfg->comm; for such a state cnn_step calls allreduce after
     * conv_backward, which sums the gradients of every device or process,
     * so that update applies the same gradient everywhere (region
     * allreduce). Any other state, and every state of a backend without
     * either capability (both slots NULL), reports the region as not run
     * (-1). */
    cnn_status (*allreduce)(cnn_state *s);
    int (*data_parallel)(const cnn_state *s);

    /* Optional: the version of a library or kernel set the backend picks
     * at run time whose choice can change the results, into buf ("nccl":
     * "2.28.9"; "omp_kernels": the ISA level, "avx512"); 0 where the
     * backend does not load it in this build. meta.json records it, and a
     * resumed run must see the same (cnn_library_version). */
    int (*library_version)(const char *library, char *buf, size_t len);
};

/* ---- the registry of backends that were built ---- */
/* NULL-terminated, in a fixed order (seq first: it is the reference). */
extern const struct cnn_backend *const cnn_backends[];
const struct cnn_backend *cnn_backend_find(const char *name);
/* The first backend in registry order that claims capability `cap` (CNN_CAP_*),
 * or NULL: how the harness finds the reference and the thread baseline
 * without naming them. */
const struct cnn_backend *cnn_backend_with_cap(unsigned cap);
/* CNN_E_ARG if a required slot, or a slot its caps claim, is NULL. */
cnn_status cnn_backend_validate(const struct cnn_backend *be);
/* CNN_E_ARG, naming the backend and the field, where cfg is out of range or
 * asks what be does not claim: threads > 0 without CNN_CAP_THREADS, a
 * variant outside 1..variant_count or without CNN_CAP_VARIANTS, gpus >= 1
 * without CNN_CAP_DATA_PARALLEL, a comm without CNN_CAP_RANKS or with
 * gpus >= 1 or a share or global batch out of range. Every create calls it first; a caller may
 * call it to refuse a configuration before it loads any data. */
cnn_status cnn_config_check(const struct cnn_backend *be, const struct cnn_config *cfg);
/* The first answer of a backend's library_version for `library`, else
 * "none": 1 if some backend of this build loads it, else 0. */
int cnn_library_version(const char *library, char *buf, size_t len);

#endif
