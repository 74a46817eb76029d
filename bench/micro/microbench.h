/*
 * microbench.h — what the files of the micro-benchmark binary share (the
 * design, verify then time, is described in microbench.c):
 *   microbench_check.c  inputs, seq's reference, and the live state checked
 *                       against it before anything is timed;
 *   microbench_time.c   one timed case, as Google Benchmark calls it;
 *   microbench_plan.c   the configurations and cases, and the command line;
 *   microbench.c        main: select backends, verify or time, write JSON.
 */
#ifndef BENCH_MICROBENCH_H
#define BENCH_MICROBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "cnn.h"
#include "params.h"

enum {
    MB_MAX_BACKENDS = 8,
    MB_MAX_SHAPES = 16,
    MB_DEVICE_MAX_CALLS = 64, /* cap on K for tiny device regions */
    MB_EXIT_FAILED = 1,
    MB_EXIT_USAGE = 2,
    MB_EXIT_SKIP = 77, /* meson's SKIP: no selected backend can run here */
};

/* A power-of-two learning rate keeps the bit-exact update exact; the one-step
 * check and the timings do not depend on its value. */
#define MB_LR 0.125f
#define MB_LOSS_REL 1e-5
#define MB_DEFAULT_MIN_TIME 0.5 /* seconds per case */
#define MB_DEVICE_SPAN_MS 0.05  /* shortest span one event pair should time */

/* What one backend produced for the two checks of one shape. */
struct mb_outputs {
    float *logits;                  /* [B][C] after fc_forward, integer batch */
    struct cnn_params exact_grads;  /* after fc_backward + conv_backward */
    struct cnn_params exact_params; /* after update */
    struct cnn_params grads;        /* after one cnn_step, random batch */
    struct cnn_params params;
    double loss;
};

/* Inputs every backend sees for one (batch, filters) shape, and seq's
 * outputs for them, computed on first use. */
struct mb_shape {
    int batch, filters;
    float *x;                      /* [B][P] random pixels k/255 */
    float *x_int;                  /* [B][P] integer pixels 0..15, not scaled */
    uint8_t *y;                    /* [B] */
    float *dlogits;                /* [B][C] injected (k-4)/256 */
    struct cnn_params init;        /* N(0, 0.1^2) */
    struct cnn_params init_exact;  /* small integers, FC ones /1024 */
    int have_ref;                  /* ref holds seq's outputs */
    struct mb_outputs ref;
};

struct mb_config {
    const struct cnn_backend *be;
    int variant;             /* 1..variant_count */
    int threads;             /* 0 for a backend without CNN_CAP_THREADS */
    struct mb_shape *shape;
    int verdict;             /* 0 not checked yet, 1 agrees with seq, -1 not */
    char failure[512];       /* why not */
};

struct mb_case {
    struct mb_config *cfg;
    enum cnn_region region;
    int calls;               /* device: region calls per event pair, 0 = not calibrated */
    char name[128];
};

struct mb_options {
    int verify_only;
    int n_backends;
    const char *backends[MB_MAX_BACKENDS];
    int n_shapes;
    int shapes[MB_MAX_SHAPES][2];
    double min_time;
    const char *out;
};

struct mb_plan {
    int n_shapes;
    struct mb_shape shapes[MB_MAX_SHAPES];
    int n_configs;
    struct mb_config *configs;
    int n_cases;
    struct mb_case *cases;
};

/* microbench_check.c */
/* The inputs of one (batch, filters) shape; seq's outputs come later. */
cnn_status mb_shape_init(struct mb_shape *sh, int batch, int filters);
void mb_shape_free(struct mb_shape *sh);
/* "omp v2 t4 B=100 F=32" */
void mb_describe(const struct mb_config *cfg, char *buf, size_t size);
/* Checks cfg against seq once, in the live state; sets cfg->verdict. A
 * status other than CNN_OK is a failure to run, not a disagreement. */
cnn_status mb_verify(struct mb_config *cfg);
/* The live state of cfg, verified and holding one full step. */
cnn_status mb_prepare(struct mb_config *cfg, cnn_state **out);
/* The live state's parameters moved (update was timed): the next
 * mb_prepare runs a fresh step first. */
void mb_live_moved(void);
void mb_live_close(void);

/* microbench_time.c */
/* Registers case c with Google Benchmark. */
cnn_status mb_register(struct mb_case *c, double min_time);

/* microbench_plan.c */
int mb_online_cores(void);
/* Configurations in backend, variant, threads, shape order; cases of one
 * configuration next to each other, regions in execution order. */
cnn_status mb_plan_build(struct mb_plan *p, const struct cnn_backend *const *bes, int n_bes,
                         const struct mb_options *opt);
void mb_plan_free(struct mb_plan *p);
void mb_usage(const char *argv0);
/* Takes our options out of argv, leaving argv[0] and whatever is left for
 * Google Benchmark's parser. */
cnn_status mb_parse(int *argc, char **argv, struct mb_options *opt);

#endif
