/*
 * sweep.c — `cnnbench sweep`: runs a plan of configurations (plan.h) and
 * writes results/<run-id>/ (docs/DESIGN.md §6, schema in results/README.md).
 *
 * Order of business, so that nothing is lost and nothing is half-written:
 *   1. parse and check every option, build the plan, print its size;
 *   2. load the data set, then create the run directory (never an existing
 *      one) whole, locked for as long as this process writes it (rundir.h):
 *      meta.json, the CSV headers and an empty summary, or nothing at all.
 *      An unwritable place fails here, before any work;
 *   3. per configuration: verify against seq, warm up, time the steps
 *      (run.h; with --max-noise until the median is quiet, run.h's adaptive
 *      sampling); append its step and evaluation rows (flushed per row,
 *      fsynced per configuration) and rewrite summary.csv atomically. A
 *      failing configuration is recorded with its reason and the sweep goes
 *      on;
 *   4. Ctrl-C stops at the next step boundary: the finished rows stay, the
 *      configuration is marked interrupted, and `--resume DIR` later reruns
 *      exactly the configurations that did not finish, with the options
 *      stored in meta.json. A resume is refused, every file left as it was,
 *      while another process writes the run, when the build, machine, plan
 *      or data set is not the run's, or when a file of the run cannot be
 *      read whole.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"
#include "cnnbench_config.h"
#include "commands.h"
#include "csvout.h"
#include "data.h"
#include "error.h"
#include "showcase.h"
#include "fileio.h"
#include "interrupt.h"
#include "json.h"
#include "meta.h"
#include "npy.h"
#include "params.h"
#include "plan.h"
#include "progress.h"
#include "run.h"
#include "rundir.h"
#include "summary.h"

#if defined(CNN_HAVE_CUPTI) && CNN_HAVE_CUPTI
#include "gpu/cupti_trace.h"
#define SWEEP_CUPTI 1
#else
#define SWEEP_CUPTI 0
#endif

static const char sweep_help[] =
    "Usage: cnnbench sweep [OPTIONS]\n"
    "       cnnbench sweep --resume RUN_DIR\n"
    "\n"
    "Runs every combination of the axes (a cartesian product), each configuration\n"
    "verified against seq, warmed up, then timed step by step, and writes\n"
    "RUN_DIR/{meta.json,steps.csv,summary.csv,evals.csv} (results/README.md).\n"
    "Render the charts and REPORT.md with: plots/render.sh RUN_DIR\n"
    "\n"
    "Axes (lists: 1,2,4  ranges: 1:8  1:9:+2  32:256:x2):\n"
    "  --impl LIST        backends (default: every built backend that runs here)\n"
    "  --variant LIST|all kernel variants; only for backends that have them\n"
    "  --threads LIST     CPU threads; only for backends that take them\n"
    "  --gpus LIST        0: one GPU, the plain path (default); N >= 1: cuda\n"
    "                     data-parallel over N GPUs through NCCL, each GPU a\n"
    "                     B/N share of the batch (other backends run gpus 0)\n"
    "  --batch LIST       images per step (default 100)\n"
    "  --filters LIST     conv filters (default 32)\n"
    "  --steps LIST       timed steps per configuration (default 20; with\n"
    "                     --max-noise, the most it may take: default 10000)\n"
    "  --epochs LIST      or epochs, ceil(N/B) steps each (exclusive with --steps)\n"
    "  --reps N           repetitions of the whole plan, interleaved (default 1)\n"
    "Presets (an axis given on the command line replaces it in every block):\n"
    "  --preset quick     under a minute on 2 cores: filters 8..64 at batch 100 and\n"
    "                     batch 50..400 at 16 filters (100 steps), thread and\n"
    "                     variant sweeps at B=500 F=128 (50 steps), a 500-step\n"
    "                     learning curve at B=100 F=32 evaluated every 50 steps\n"
    "  --preset paper     batch 100,250,500,1000 x filters 32,64,128,256, 100 steps,\n"
    "                     every backend; thread and variant sweeps at B=1000 F=256;\n"
    "                     a 1000-step learning curve at B=100 F=32\n"
    "Settings:\n"
    "  --warmup N         untimed warm-up steps per configuration (default 2);\n"
    "                     the parameters are restored afterwards\n"
    "  --lr LR            learning rate (default 0.1)\n"
    "  --seed S           initial parameters and batch order (default 1)\n"
    "  --data SPEC        mnist, fashion or a directory of IDX files (default mnist)\n"
    "  --shuffle on|off   batch order (default on; see cnnbench train --help)\n"
    "  --eval             test accuracy after each configuration's last step\n"
    "  --eval-every N     and every N steps (untimed; for the learning curves)\n"
    "  --no-verify        skip the one-step agreement check against seq\n"
    "  --cupti            record CUDA kernels to kernels.csv (CUPTI builds only)\n"
    "Sampling until the numbers are quiet (default: exactly the planned steps):\n"
    "  --max-noise PCT    time each configuration until the noise of its median\n"
    "                     step time is at most PCT percent. The noise is half the\n"
    "                     width of the median's 95% confidence interval, relative\n"
    "                     to the median: the interval comes from order statistics\n"
    "                     (distribution-free: skewed step times are fine), so\n"
    "                     --max-noise 1 means the true median is within about 1%\n"
    "                     of the reported one, 19 times out of 20. The length\n"
    "                     (--steps, --epochs or the preset's) becomes the cap\n"
    "  --min-steps N      with --max-noise: at least N timed steps, whatever the\n"
    "                     time (default 10; a 95% interval needs 6)\n"
    "  --max-time S       with --max-noise: stop after S seconds of timed steps\n"
    "                     (evaluations not counted) even if the noise is higher\n"
    "                     (default 15)\n"
    "  summary.csv records every configuration's noise (noise_pct, with or\n"
    "  without --max-noise) and why it stopped (stop: steps, converged, max_time,\n"
    "  cap). One whose CV exceeds 10%, or that missed the --max-noise target, is\n"
    "  unstable: marked in its result line and in REPORT.md, with the reason.\n"
    "Output:\n"
    "  --out DIR          run directory (default results/<UTC time>-<preset>-<6 random\n"
    "                     hex digits>); must not exist: a run is never overwritten\n"
    "  --resume DIR       continue an interrupted run: finished configurations are\n"
    "                     kept, the others rerun, no row is duplicated. Refused, with\n"
    "                     every file left as it was, while another process writes\n"
    "                     DIR, or when the build, machine, plan or data set differ\n"
    "                     from the run's, or a file of the run is damaged\n"
    "  --dry-run          print the plan and exit\n"
    "\n"
    "Progress goes to stderr: a bar with ETA on a terminal, plain lines otherwise.\n"
    "Exit status: 0 all configurations ok, 1 some failed (recorded in summary.csv),\n"
    "2 bad command line, 130 interrupted (resume with --resume).\n"
    "\n"
    "Examples:\n"
    "  cnnbench sweep --preset quick\n"
    "  cnnbench sweep --impl seq,omp --threads 1,2,4 --filters 32:256:x2 --batch 100,1000\n"
    "  cnnbench sweep --impl cuda --variant all --batch 1000 --filters 256 --steps 100\n"
    "  cnnbench sweep --impl omp --threads 1,2 --max-noise 1 --max-time 30\n"
    "  cnnbench sweep --impl cuda --gpus 1,2,4,8 --batch 1000,4000 --filters 256\n";

struct sweep_opts {
    const char *preset;
    const char *impl_list;        /* as given, or NULL */
    int all_variants;
    struct cli_axis variants, threads, gpus, batch, filters, length;
    int by_epochs;
    int reps, warmup;
    double lr;
    uint64_t seed;
    const char *data;
    int shuffle, eval, eval_every; /* eval_every < 0: not given */
    struct cli_sampling sampling; /* max_noise 0: sample exactly the planned steps */
    const char *out, *resume;
    int cupti, verify, dry_run;
};

/* The options that take a value. */
static const char *const valued[] = {
    "preset", "impl", "variant", "threads", "gpus", "batch", "filters", "steps", "epochs",
    "reps", "warmup", "lr", "seed", "data", "shuffle", "eval-every", "max-noise", "min-steps",
    "max-time", "out", "resume", NULL,
};

static cnn_status parse_options(int argc, char **argv, struct sweep_opts *o, int *help)
{
    memset(o, 0, sizeof *o);
    o->reps = 1;
    o->warmup = 2;
    o->lr = 0.1;
    o->seed = 1;
    o->data = "mnist";
    o->shuffle = 1;
    o->eval_every = -1;
    o->verify = 1;
    o->sampling.min_steps = RUN_NOISE_DEFAULT_MIN_STEPS;
    o->sampling.max_time = RUN_NOISE_DEFAULT_MAX_TIME_S;
    *help = 0;
    int steps_given = 0;
    struct cli_scan s;
    cli_scan_init(&s, argc, argv, 0);
    int r;
    while ((r = cli_scan_next(&s)) > 0) {
        const char *n = s.name, *v;
        if (s.positional)
            return cnn_fail(CNN_E_ARG, "unexpected argument '%s'", s.positional);
        if (!strcmp(n, "help")) {
            *help = 1;
            return CNN_OK;
        }
        if (!strcmp(n, "eval") || !strcmp(n, "no-verify") || !strcmp(n, "cupti") ||
            !strcmp(n, "dry-run")) {
            CNN_TRY(cli_scan_no_value(&s));
            if (!strcmp(n, "eval"))
                o->eval = 1;
            else if (!strcmp(n, "no-verify"))
                o->verify = 0;
            else if (!strcmp(n, "cupti"))
                o->cupti = 1;
            else
                o->dry_run = 1;
            continue;
        }
        CNN_TRY(cli_scan_known(&s, valued));
        CNN_TRY(cli_scan_value(&s, &v));
        if (!strcmp(n, "preset"))
            o->preset = v;
        else if (!strcmp(n, "impl"))
            o->impl_list = v;
        else if (!strcmp(n, "variant")) {
            if (!strcmp(v, "all"))
                o->all_variants = 1;
            else
                CNN_TRY(cli_parse_axis(n, v, 1, 1000, &o->variants));
        } else if (!strcmp(n, "threads"))
            CNN_TRY(cli_parse_axis(n, v, 1, 4096, &o->threads));
        else if (!strcmp(n, "gpus"))
            CNN_TRY(cli_parse_axis(n, v, 0, 1024, &o->gpus));
        else if (!strcmp(n, "batch"))
            CNN_TRY(cli_parse_axis(n, v, 1, CNN_MAX_BATCH, &o->batch));
        else if (!strcmp(n, "filters"))
            CNN_TRY(cli_parse_axis(n, v, 1, CNN_MAX_FILTERS, &o->filters));
        else if (!strcmp(n, "steps")) {
            CNN_TRY(cli_parse_axis(n, v, 1, 100000000, &o->length));
            steps_given = 1;
        } else if (!strcmp(n, "epochs")) {
            CNN_TRY(cli_parse_axis(n, v, 1, 100000, &o->length));
            o->by_epochs = 1;
        } else if (!strcmp(n, "reps"))
            CNN_TRY(cli_parse_int(n, v, 1, 1000, &o->reps));
        else if (!strcmp(n, "warmup"))
            CNN_TRY(cli_parse_int(n, v, 0, 100000, &o->warmup));
        else if (!strcmp(n, "lr"))
            CNN_TRY(cli_parse_positive_double(n, v, 100.0, &o->lr));
        else if (!strcmp(n, "seed"))
            CNN_TRY(cli_parse_u64(n, v, &o->seed));
        else if (!strcmp(n, "data"))
            o->data = v;
        else if (!strcmp(n, "shuffle"))
            CNN_TRY(cli_parse_switch(n, v, &o->shuffle));
        else if (!strcmp(n, "eval-every"))
            CNN_TRY(cli_parse_int(n, v, 1, 100000000, &o->eval_every));
        else if (cli_is_sampling_option(n))
            CNN_TRY(cli_parse_sampling(n, v, &o->sampling));
        else if (!strcmp(n, "out"))
            o->out = v;
        else /* resume, the last name in valued[] */
            o->resume = v;
    }
    if (r < 0)
        return CNN_E_ARG;
    if (steps_given && o->by_epochs)
        return cnn_fail(CNN_E_ARG, "--steps and --epochs are mutually exclusive");
    CNN_TRY(cli_check_sampling(&o->sampling));
    if (o->cupti && !SWEEP_CUPTI)
        return cnn_fail(CNN_E_ARG, "--cupti: this build has no CUPTI support (it needs the cuda "
                        "backend and CUPTI: meson setup -Dcuda=enabled -Dcupti=enabled)");
    return CNN_OK;
}

/* ---- the plan ---- */

/* Backends of the run: the --impl list (every one must run here), or every
 * built backend that runs here, with a note for those that do not. */
static cnn_status choose_backends(const struct sweep_opts *o, const struct cnn_backend **out,
                                  int *n, int *usage)
{
    *n = 0;
    if (o->impl_list) {
        char buf[256];
        const char *words[PLAN_MAX_IMPLS];
        int nw;
        *usage = 1;
        if (strlen(o->impl_list) >= sizeof buf)
            return cnn_fail(CNN_E_ARG, "--impl: list too long");
        strcpy(buf, o->impl_list);
        CNN_TRY(cli_split_words("impl", buf, words, PLAN_MAX_IMPLS, &nw));
        for (int i = 0; i < nw; i++) {
            const struct cnn_backend *be;
            CNN_TRY(backends_find(words[i], &be));
            int dup = 0;
            for (int j = 0; j < *n; j++)
                dup |= out[j] == be;
            if (!dup)
                out[(*n)++] = be;
        }
        *usage = 0;
        for (int i = 0; i < *n; i++)
            CNN_TRY(backends_probe(out[i]));
        return CNN_OK;
    }
    for (int i = 0; cnn_backends[i] && *n < PLAN_MAX_IMPLS; i++) {
        if (backends_probe(cnn_backends[i]) == CNN_OK)
            out[(*n)++] = cnn_backends[i];
        else
            fprintf(stderr, "cnnbench: note: skipping %s\n", cnn_last_error());
    }
    if (*n == 0)
        return cnn_fail(CNN_E_UNAVAILABLE, "no backend runs on this machine");
    return CNN_OK;
}

/* A GPU count >= 1 that no chosen backend can take is an error, not a
 * silent skip: the likely cause is a build without NCCL, and the message of
 * cnn_config_check says so. */
static cnn_status check_gpus_axis(const struct sweep_opts *o, const struct cnn_backend **impls,
                                  int n_impls)
{
    int gpus = 0;
    for (int g = 0; g < o->gpus.n; g++)
        if (o->gpus.v[g] > 0)
            gpus = o->gpus.v[g];
    if (gpus == 0 || n_impls == 0)
        return CNN_OK;
    for (int i = 0; i < n_impls; i++)
        if (impls[i]->caps & CNN_CAP_DATA_PARALLEL)
            return CNN_OK;
    /* any valid sizes: only the GPU count is in question */
    return cnn_config_check(impls[0],
                            &(struct cnn_config){.batch = 1, .filters = 1, .gpus = gpus});
}

static cnn_status build_blocks(const struct sweep_opts *o, const struct cnn_backend **impls,
                               int n_impls, struct plan_block *blocks, int *nblocks)
{
    static const int default_batch = 100, default_filters = 32;
    int default_steps = o->sampling.max_noise > 0 ? RUN_NOISE_DEFAULT_CAP : 20;
    if (o->preset) {
        CNN_TRY(plan_preset(o->preset, (int)sysconf(_SC_NPROCESSORS_ONLN), blocks, nblocks));
    } else {
        memset(&blocks[0], 0, sizeof blocks[0]);
        blocks[0].name = "sweep";
        blocks[0].batch = (struct cli_axis){1, {default_batch}};
        blocks[0].filters = (struct cli_axis){1, {default_filters}};
        blocks[0].length = (struct cli_axis){1, {default_steps}};
        *nblocks = 1;
    }
    for (int b = 0; b < *nblocks; b++) {
        struct plan_block *blk = &blocks[b];
        memcpy(blk->impls, impls, (size_t)n_impls * sizeof *impls);
        blk->n_impls = n_impls;
        if (o->all_variants || o->variants.n) {
            blk->all_variants = o->all_variants;
            blk->variants = o->variants;
        }
        if (o->threads.n)
            blk->threads = o->threads;
        if (o->gpus.n)
            blk->gpus = o->gpus;
        if (o->batch.n)
            blk->batch = o->batch;
        if (o->filters.n)
            blk->filters = o->filters;
        if (o->length.n)
            blk->length = o->length;
        if (o->eval_every >= 0)
            blk->eval_every = o->eval_every;
    }
    return CNN_OK;
}

static long config_steps(const struct plan_config *c, int by_epochs, uint32_t train_n)
{
    return by_epochs ? run_epoch_steps(c->length, train_n, c->batch) : c->length;
}

static void print_plan(const struct plan *p, const struct sweep_opts *o)
{
    printf("sweep: %d configuration%s", p->n, p->n == 1 ? "" : "s");
    if (p->skipped)
        printf(" (%ld combination%s skipped by the rules: threads only for backends that take "
               "them, variants only where they exist, GPU counts only where a data-parallel "
               "mode exists%s)", p->skipped, p->skipped == 1 ? "" : "s",
               p->duplicates ? "; some listed by two blocks, run once" : "");
    else if (p->duplicates)
        printf(" (%ld listed by two blocks, run once)", p->duplicates);
    printf("; %d warm-up step%s each, excluded from the figures; %d repetition%s\n", o->warmup,
           o->warmup == 1 ? "" : "s", o->reps, o->reps == 1 ? "" : "s");
    if (o->sampling.max_noise > 0)
        printf("sampling: each configuration until its median is within %g%% (95%% "
               "confidence), at least %ld steps, at most %g s or its planned length\n",
               o->sampling.max_noise, o->sampling.min_steps, o->sampling.max_time);
    fflush(stdout);
}

/* ---- caches: initial parameters per F, seq's one-step reference per (B, F) ---- */

struct param_cache {
    int batch, filters;
    struct cnn_params p;
};

struct sweep_caches {
    struct param_cache *init;
    int n_init;
    struct verify_reference **ref; /* each on the heap: run specs point at them */
    int n_ref;
};

static struct cnn_params *cache_find(struct param_cache *c, int n, int batch, int filters)
{
    for (int i = 0; i < n; i++)
        if (c[i].batch == batch && c[i].filters == filters)
            return &c[i].p;
    return NULL;
}

static cnn_status cache_add(struct param_cache **c, int *n, int batch, int filters,
                            struct cnn_params **out)
{
    struct param_cache *g = realloc(*c, (size_t)(*n + 1) * sizeof *g);
    if (!g)
        return cnn_fail(CNN_E_NOMEM, "cannot grow the parameter cache");
    *c = g;
    g[*n].batch = batch;
    g[*n].filters = filters;
    CNN_TRY(cnn_params_alloc(&g[*n].p, filters));
    *out = &g[(*n)++].p;
    return CNN_OK;
}

static void caches_free(struct sweep_caches *c)
{
    for (int i = 0; i < c->n_init; i++)
        cnn_params_free(&c->init[i].p);
    for (int i = 0; i < c->n_ref; i++) {
        verify_reference_free(c->ref[i]);
        free(c->ref[i]);
    }
    free(c->init);
    free(c->ref);
    memset(c, 0, sizeof *c);
}

static cnn_status initial_params(struct sweep_caches *c, int filters, uint64_t seed,
                                 const struct cnn_params **out)
{
    struct cnn_params *p = cache_find(c->init, c->n_init, 0, filters);
    if (!p) {
        CNN_TRY(cache_add(&c->init, &c->n_init, 0, filters, &p));
        cnn_params_init(p, seed);
    }
    *out = p;
    return CNN_OK;
}

/* seq's step from the initial parameters on the first batch, made once per
 * (B, F) and kept for every backend verified at that size. */
static cnn_status reference_step(struct sweep_caches *c, const struct sweep_opts *o,
                                 const struct data_set *data, const struct cnn_config *cfg,
                                 const struct cnn_params *init,
                                 const struct verify_reference **out)
{
    for (int i = 0; i < c->n_ref; i++)
        if (c->ref[i]->cfg.batch == cfg->batch && c->ref[i]->cfg.filters == cfg->filters) {
            *out = c->ref[i];
            return CNN_OK;
        }
    struct verify_reference **grown = realloc(c->ref, (size_t)(c->n_ref + 1) * sizeof *grown);
    if (!grown)
        return cnn_fail(CNN_E_NOMEM, "cannot grow the reference cache");
    c->ref = grown;
    struct verify_reference *ref = calloc(1, sizeof *ref);
    float *x = malloc((size_t)cfg->batch * CNN_PIXELS * sizeof *x);
    uint8_t *y = malloc((size_t)cfg->batch);
    cnn_status st = ref && x && y ? CNN_OK : cnn_fail(CNN_E_NOMEM, "cannot allocate a batch");
    if (st == CNN_OK)
        st = run_first_batch(data, cfg->batch, o->shuffle, o->seed, x, y);
    if (st == CNN_OK)
        st = verify_reference_make(cfg, init, x, y, cfg->batch, ref);
    free(x);
    free(y);
    if (st != CNN_OK) {
        free(ref);
        return st;
    }
    c->ref[c->n_ref++] = ref;
    *out = ref;
    return CNN_OK;
}

/* ---- the sweep itself ---- */

struct sweep {
    const struct sweep_opts *o;
    struct plan plan;
    struct run_dir dir;
    struct data_set data;
    struct meta_machine machine;
    struct meta_run meta;
    struct summary_row *rows;  /* [plan.n] by plan index */
    int *have;                 /* [plan.n] 1: rows[i] is filled */
    int *done;                 /* [plan.n] 1: finished (ok or failed) before this session */
    const char **config_keys;  /* [plan.n] the keys, as meta.json lists them */
    struct sweep_caches caches;
    struct progress progress;
    int showcase;              /* plan index of the exported parameters, or -1 */
    char *first_started;       /* a resumed run's original start time */
    char run_name[4096];       /* meta.json's run_id: the run directory's name */
    long step_rows;
};

static cnn_status write_summary(struct sweep *s)
{
    int n = 0;
    struct summary_row *all = malloc((size_t)(s->plan.n + 1) * sizeof *all);
    if (!all)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the summary");
    for (int i = 0; i < s->plan.n; i++)
        if (s->have[i])
            all[n++] = s->rows[i];
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "summary.csv");
    cnn_status st = summary_write(path, all, n);
    free(all);
    return st;
}

static cnn_status write_meta(struct sweep *s)
{
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "meta.json");
    s->meta.showcase_key = s->showcase >= 0 ? s->plan.configs[s->showcase].key : NULL;
    return meta_write(path, &s->meta, &s->machine);
}

/* The showcase (whose parameters and feature maps are exported for the
 * charts) is the finished configuration that trained on the most images;
 * ties go to the earlier one in the plan. */
static int outranks(const struct sweep *s, int i, int j)
{
    if (j < 0)
        return 1;
    const struct plan_config *a = &s->plan.configs[i], *b = &s->plan.configs[j];
    long va = config_steps(a, s->o->by_epochs, s->data.train_n) * a->batch;
    long vb = config_steps(b, s->o->by_epochs, s->data.train_n) * b->batch;
    return va > vb || (va == vb && i < j);
}

static cnn_status export_showcase(struct sweep *s, int i, const struct cnn_params *final)
{
    char dir[4200];
    rundir_path(dir, sizeof dir, s->dir.path, "showcase");
    CNN_TRY(cnn_params_save(dir, final));
    int d = s->meta.digit_index;
    CNN_TRY(showcase_export(dir, final, s->data.test_x + (size_t)d * CNN_PIXELS,
                            s->data.test_raw + (size_t)d * CNN_PIXELS));
    s->showcase = i;
    return CNN_OK;
}

static void progress_hook(void *ctx, long step, const struct run_step *rec)
{
    (void)rec;
    progress_step(ctx, step);
}

static void progress_noise_hook(void *ctx, long step, double noise_pct)
{
    (void)step;
    progress_noise(ctx, noise_pct);
}

/* How a configuration's steps were timed: CUPTI tracing perturbs device
 * timings a little, so traced device rows say so instead of cuda_event. */
static const char *timer_word(const struct plan_config *c, const struct sweep_opts *o)
{
    if (!(c->be->caps & CNN_CAP_DEVICE))
        return "wall";
    return o->cupti ? "cupti" : "cuda_event";
}

static const char *verified_word(const struct plan_config *c, const struct sweep_opts *o,
                                 const struct run_result *r)
{
    if (strcmp(c->be->name, "seq") == 0)
        return "reference";
    if (!o->verify)
        return "skipped";
    if (r->verified)
        return "yes";
    return r->mismatch ? "no" : "not_run";
}

/* Writes the finished steps and evaluations of one configuration. */
static cnn_status append_rows(struct sweep *s, const struct plan_config *c,
                              const struct run_result *r)
{
    struct csv_config cc = {
        .key = c->key, .impl = c->be->name, .variant = c->variant, .threads = c->threads,
        .batch = c->batch, .filters = c->filters, .rep = c->rep,
        .timer = timer_word(c, s->o), .gpus = c->gpus,
    };
    for (long k = 0; k < r->done; k++) {
        int rows = csv_write_step_rows(s->dir.steps, &cc, k + 1, &r->steps[k]);
        if (rows < 0)
            return cnn_fail(CNN_E_IO, "%s/steps.csv: write failed: %s", s->dir.path,
                            strerror(errno));
        s->step_rows += rows;
    }
    for (int e = 0; e < r->n_evals; e++)
        if (csv_write_eval_row(s->dir.evals, &cc, &r->evals[e], s->data.test_n) < 0)
            return cnn_fail(CNN_E_IO, "%s/evals.csv: write failed: %s", s->dir.path,
                            strerror(errno));
    if (rundir_sync(s->dir.steps) != 0 || rundir_sync(s->dir.evals) != 0)
        return cnn_fail(CNN_E_IO, "%s: cannot sync the CSV files: %s", s->dir.path,
                        strerror(errno));
    return CNN_OK;
}

/* Appends to a line being built in buf[len], of which *used are taken. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
}

/* One configuration's result: its median with the noise, throughput,
 * speedup, how many steps and why they stopped; an unstable one says so
 * first and why at the end (load_start, load_end: the 1-min load average
 * around the configuration). */
static void result_line(char *buf, size_t len, const struct plan_config *c,
                        const struct summary_row *row, const struct summary_row *rows, int n,
                        double load_start, double load_end, long cpus)
{
    size_t used = 0;
    if (strcmp(row->status, "ok") != 0) {
        snprintf(buf, len, "%-28s %s%s%s", c->key, row->status, *row->message ? ": " : "",
                 row->message);
        return;
    }
    int unstable = summary_unstable(&row->t, row->max_noise_pct) == 1;
    append(buf, len, &used, "%-28s %s  median %.3f ms", c->key, unstable ? "UNSTABLE" : "ok",
           row->t.median);
    if (!isnan(row->t.noise_pct))
        append(buf, len, &used, " ±%.1f%%", row->t.noise_pct);
    append(buf, len, &used, " (IQR %.3f..%.3f)  %.0f images/s", row->t.q1, row->t.q3,
           row->batch / (row->t.median / 1e3));
    double seq = summary_baseline_ms(rows, n, row, "seq", -1);
    if (!isnan(seq) && strcmp(row->impl, "seq") != 0)
        append(buf, len, &used, "  x%.2f vs seq", seq / row->t.median);
    if (row->max_noise_pct > 0)
        append(buf, len, &used, "  %ld steps, %s", row->t.n, row->stop);
    if (unstable) {
        char why[512];
        summary_unstable_reason(why, sizeof why, &row->t, row->max_noise_pct, load_start,
                                load_end, cpus);
        append(buf, len, &used, "\n      unstable: %s", why);
    }
}

/* Runs configuration i; returns CNN_E_INTERRUPTED to stop the sweep, or an
 * error that makes further work pointless (the results can't be written). */
static cnn_status run_one(struct sweep *s, int i)
{
    const struct sweep_opts *o = s->o;
    const struct plan_config *c = &s->plan.configs[i];
    long steps = config_steps(c, o->by_epochs, s->data.train_n);
    progress_config_begin(&s->progress, i + 1, c->key,
                          (double)steps * run_step_flop(c->batch, c->filters), steps);

    struct run_spec spec = {
        .be = c->be,
        .cfg = {.batch = c->batch, .filters = c->filters, .lr = (float)o->lr,
                .threads = c->threads, .variant = c->variant, .gpus = c->gpus},
        .steps = steps, .max_noise_pct = o->sampling.max_noise,
        .min_steps = o->sampling.min_steps, .max_time_s = o->sampling.max_time,
        .warmup = o->warmup, .shuffle = o->shuffle, .seed = o->seed,
        .eval_every = c->eval_every, .eval_final = o->eval,
        .keep_final = outranks(s, i, s->showcase),
    };
    struct run_result result = {.first_warmup_ms = -1.0};
    struct run_hooks hooks = {.on_step = progress_hook, .on_noise = progress_noise_hook,
                              .ctx = &s->progress, .stop = &interrupt_flag};
    double load_start = meta_load_1min();
    const struct cnn_params *init = NULL;
    cnn_status st = initial_params(&s->caches, c->filters, o->seed, &init);
#if SWEEP_CUPTI
    if (st == CNN_OK && o->cupti)
        st = cnn_cupti_set_config(c->key);
#endif
    spec.init = init;
    if (st == CNN_OK && o->verify && strcmp(c->be->name, "seq") != 0)
        st = reference_step(&s->caches, o, &s->data, &spec.cfg, init, &spec.ref);
    if (st == CNN_OK)
        st = run_config(&spec, &s->data, &hooks, &result);

    double load_end = meta_load_1min();
    struct summary_row *row = &s->rows[i];
    summary_from_run(row, c, steps, s->data.train_n, o->warmup, &result);
    if (o->sampling.max_noise > 0)
        row->max_noise_pct = o->sampling.max_noise;
    snprintf(row->verified, sizeof row->verified, "%s", verified_word(c, o, &result));
    snprintf(row->timer, sizeof row->timer, "%s", timer_word(c, o));
    if (st != CNN_OK)
        summary_set_failure(row, st, &result, cnn_last_error());
    s->have[i] = 1;

    cnn_status wst = append_rows(s, c, &result);
    if (wst != CNN_OK)
        s->have[i] = 0; /* its rows are not (all) in the files */
    if (wst == CNN_OK)
        wst = write_summary(s);
    if (wst == CNN_OK && st == CNN_OK && spec.keep_final)
        wst = export_showcase(s, i, &result.final);
    run_result_free(&result);
    if (wst != CNN_OK)
        return wst;

    if (st == CNN_OK)
        s->meta.finished_configs++;
    else if (st != CNN_E_INTERRUPTED)
        s->meta.failed_configs++;
    char line[1024];
    result_line(line, sizeof line, c, row, s->rows, s->plan.n, load_start, load_end,
                s->machine.online_cpus);
    progress_config_end(&s->progress, line);
    return st == CNN_E_INTERRUPTED ? st : CNN_OK;
}

#if SWEEP_CUPTI
/* Stops tracing and adds this session's records to kernels.csv (a resumed
 * run appends to the rows its earlier sessions kept). */
static cnn_status cupti_finish(struct sweep *s)
{
    char part[4200], path[4200];
    rundir_path(part, sizeof part, s->dir.path, "kernels.part.csv");
    rundir_path(path, sizeof path, s->dir.path, "kernels.csv");
    CNN_TRY(cnn_cupti_stop_and_write(part));
    if (access(path, F_OK) != 0) {
        if (rename(part, path) != 0)
            return cnn_fail(CNN_E_IO, "%s: cannot rename: %s", part, strerror(errno));
        return CNN_OK;
    }
    char *text;
    CNN_TRY(csv_read_file(part, &text, NULL));
    FILE *fp = fopen(path, "a");
    const char *body = strchr(text, '\n');
    int failed = !fp;
    if (fp && body)
        failed = fputs(body + 1, fp) == EOF;
    if (fp && (rundir_sync(fp) != 0 || fclose(fp) != 0))
        failed = 1;
    free(text);
    if (failed)
        return cnn_fail(CNN_E_IO, "%s: cannot append: %s", path, strerror(errno));
    remove(part);
    return CNN_OK;
}
#endif

/* ---- resume ----
 *
 * Everything a resume checks comes before anything it writes: the lock
 * (taken by sweep_command), the build, machine and plan, summary.csv, the
 * data set, and every row of steps.csv, evals.csv and kernels.csv. A refused
 * resume leaves every file as it found it. */

/* Reads a locked run's meta.json and the options it was started with. */
static cnn_status resume_read_meta(const char *dir, char **meta_text, char ***argv, int *argc)
{
    char path[4200];
    rundir_path(path, sizeof path, dir, "meta.json");
    CNN_TRY(csv_read_file(path, meta_text, NULL));
    char command[32];
    if (json_get_string(*meta_text, "command", command, sizeof command) != 0 ||
        strcmp(command, "sweep") != 0)
        return cnn_fail(CNN_E_DATA, "%s: not the meta.json of a cnnbench sweep", path);
    *argc = json_get_string_array(*meta_text, "argv", argv);
    if (*argc < 0)
        return cnn_fail(CNN_E_DATA, "%s: no readable \"argv\" to resume with", path);
    return CNN_OK;
}

static int plan_index(const struct plan *p, const char *key)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->configs[i].key, key) == 0)
            return i;
    return -1;
}

/* The plan rebuilt from the stored options must be the run's: the backends
 * that run here, the build or an edited meta.json can change it. */
static cnn_status resume_check_plan(const struct sweep *s, const char *meta_text)
{
    char **keys;
    int n = json_get_string_array(meta_text, "plan.config_keys", &keys);
    if (n < 0) {
        /* a run from before meta.json listed its keys: its count must match */
        double count = -1;
        json_get_number(meta_text, "plan.configurations", &count);
        if ((long)count == s->plan.n)
            return CNN_OK;
        return cnn_fail(CNN_E_ARG, "%s: the plan differs: the run planned %ld configurations, "
                        "the plan rebuilt here from its options has %d: results of two plans "
                        "must not be mixed (start a new run)", s->dir.path, (long)count,
                        s->plan.n);
    }
    int at = 0;
    while (at < n && at < s->plan.n && strcmp(keys[at], s->plan.configs[at].key) == 0)
        at++;
    cnn_status st = CNN_OK;
    if (at < n || at < s->plan.n)
        st = cnn_fail(CNN_E_ARG, "%s: the plan differs: the run planned %d configurations, the "
                      "plan rebuilt here from its options has %d; configuration %d is %s in "
                      "the run and %s here (a backend that no longer runs here, or an edited "
                      "meta.json?): results of two plans must not be mixed (start a new run)",
                      s->dir.path, n, s->plan.n, at + 1, at < n ? keys[at] : "none",
                      at < s->plan.n ? s->plan.configs[at].key : "none");
    json_free_strings(keys, n);
    return st;
}

/* One run, one build, one machine, one plan. Reads only. */
static cnn_status resume_check_origin(const struct sweep *s, const char *meta_text)
{
    char sha[64];
    if (json_get_string(meta_text, "git.sha", sha, sizeof sha) == 0 &&
        strcmp(sha, "unknown") != 0 && strcmp(s->machine.git_sha, "unknown") != 0 &&
        strcmp(sha, s->machine.git_sha) != 0)
        return cnn_fail(CNN_E_ARG, "%s was measured with commit %.12s, this cnnbench is %.12s: "
                        "results of two builds must not be mixed (start a new run)",
                        s->dir.path, sha, s->machine.git_sha);
    CNN_TRY(meta_check_build(meta_text, s->dir.path));
    /* a preset's thread ladder and every timing depend on the machine */
    char host[256] = "", cpu[256] = "";
    double cpus = 0;
    json_get_string(meta_text, "host.hostname", host, sizeof host);
    json_get_string(meta_text, "host.cpu_model", cpu, sizeof cpu);
    json_get_number(meta_text, "host.online_cpus", &cpus);
    if (strcmp(host, s->machine.hostname) != 0 || strcmp(cpu, s->machine.cpu_model) != 0 ||
        (long)cpus != s->machine.online_cpus)
        return cnn_fail(CNN_E_ARG, "%s was measured on %s (%s, %ld CPUs), this is %s (%s, %ld "
                        "CPUs): results of two machines must not be mixed (start a new run)",
                        s->dir.path, host, cpu, (long)cpus, s->machine.hostname,
                        s->machine.cpu_model, s->machine.online_cpus);
    return resume_check_plan(s, meta_text);
}

/* Marks the configurations summary.csv says finished (ok or failed); an
 * interrupted one runs again. */
static cnn_status resume_read_summary(struct sweep *s, const char *meta_text)
{
    struct run_csv whole;
    CNN_TRY(rundir_read_csv(s->dir.path, "summary.csv", &whole));
    rundir_csv_free(&whole);
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "summary.csv");
    struct summary_row *old;
    int n_old;
    CNN_TRY(summary_read(path, &old, &n_old));
    char showcase[PLAN_KEY_MAX] = "";
    json_get_string(meta_text, "showcase.params_config", showcase, sizeof showcase);
    cnn_status st = CNN_OK;
    for (int k = 0; k < n_old && st == CNN_OK; k++) {
        int i = plan_index(&s->plan, old[k].key);
        if (i < 0)
            st = cnn_fail(CNN_E_DATA, "%s: configuration '%s' is not in this run's plan", path,
                          old[k].key);
        else if (s->have[i])
            st = cnn_fail(CNN_E_DATA, "%s: configuration '%s' is listed twice", path,
                          old[k].key);
        if (st != CNN_OK || strcmp(old[k].status, "interrupted") == 0)
            continue; /* runs again; its partial rows go */
        s->rows[i] = old[k];
        s->have[i] = s->done[i] = 1;
        if (strcmp(old[k].status, "ok") == 0)
            s->meta.finished_configs++;
        else
            s->meta.failed_configs++;
        if (strcmp(showcase, old[k].key) == 0)
            s->showcase = i;
    }
    free(old);
    return st;
}

/* The data set loaded now must be the one the run trained on. */
static cnn_status resume_check_data(const struct sweep *s, const char *meta_text)
{
    char stored[64], now[32];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)s->data.fnv1a64);
    if (json_get_string(meta_text, "data.fnv1a64", stored, sizeof stored) != 0) {
        if (s->meta.finished_configs + s->meta.failed_configs == 0)
            return CNN_OK;
        return cnn_fail(CNN_E_DATA, "%s/meta.json records no data fingerprint (data.fnv1a64): "
                        "nothing shows that --data %s is the data its finished configurations "
                        "trained on (start a new run)", s->dir.path, s->o->data);
    }
    if (strcmp(stored, now) == 0)
        return CNN_OK;
    double train = -1, test = -1;
    json_get_number(meta_text, "data.train_images", &train);
    json_get_number(meta_text, "data.test_images", &test);
    return cnn_fail(CNN_E_DATA, "%s was measured on other data: the run's data fingerprint "
                    "(fnv1a64) is %s (%.0f training, %.0f test images), --data %s gives %s "
                    "(%u, %u) now: results of two data sets must not be mixed (start a new "
                    "run)", s->dir.path, stored, train, test, s->o->data, now, s->data.train_n,
                    s->data.test_n);
}

/* Every data row of c must belong to the plan; for steps.csv (step_counts
 * not NULL) the rows with region "step" of each finished configuration are
 * counted into step_counts[plan index]. */
static cnn_status check_rows(const struct sweep *s, const struct run_csv *c, long *step_counts)
{
    int region = step_counts ? rundir_csv_column(c, "region") : -1;
    if (step_counts && region < 0)
        return cnn_fail(CNN_E_DATA, "%s: no column 'region'", c->path);
    size_t offset = 0, at;
    int line;
    char key[PLAN_KEY_MAX + 1], field[32];
    while ((at = rundir_csv_next(c, &offset, &line)) != (size_t)-1) {
        rundir_csv_field(c, at, 0, key, sizeof key);
        int i = plan_index(&s->plan, key);
        if (i < 0)
            return cnn_fail(CNN_E_DATA, "%s: line %d (byte offset %zu) belongs to configuration "
                            "'%s', which is not in this run's plan", c->path, line, at, key);
        if (step_counts && s->done[i]) {
            rundir_csv_field(c, at, region, field, sizeof field);
            step_counts[i] += strcmp(field, "step") == 0;
        }
    }
    return CNN_OK;
}

static int keep_finished(void *ctx, const char *key)
{
    const struct sweep *s = ctx;
    int i = plan_index(&s->plan, key);
    return i >= 0 && s->done[i];
}

/* The rewritten CSV files of a resume, finished but not yet in place. */
struct resume_files {
    struct cnn_atomic_file f[3];
    int n;
};

static void resume_files_abort(struct resume_files *r)
{
    for (int i = 0; i < r->n; i++)
        cnn_atomic_abort(&r->f[i]);
    r->n = 0;
}

static cnn_status resume_files_publish(struct resume_files *r)
{
    cnn_status st = CNN_OK;
    for (int i = 0; i < r->n && st == CNN_OK; i++)
        st = cnn_atomic_publish(&r->f[i]);
    for (int i = 0; i < r->n; i++)
        if (st != CNN_OK)
            cnn_atomic_abort(&r->f[i]);
    r->n = 0;
    return st;
}

/* Reads steps.csv, evals.csv and kernels.csv whole, checks every row, and
 * prepares each without the rows of the configurations that run again (and
 * without a last line a crash cut off). */
static cnn_status resume_prepare_files(struct sweep *s, struct resume_files *out)
{
    static const char *const names[] = {"steps.csv", "evals.csv", "kernels.csv"};
    out->n = 0;
    cnn_status st = CNN_OK;
    for (int f = 0; f < 3 && st == CNN_OK; f++) {
        char path[4200];
        rundir_path(path, sizeof path, s->dir.path, names[f]);
        if (f == 2 && access(path, F_OK) != 0)
            break; /* kernels.csv: only with --cupti */
        struct run_csv c;
        st = rundir_read_csv(s->dir.path, names[f], &c);
        if (st != CNN_OK)
            break;
        long *counts = f == 0 ? calloc((size_t)s->plan.n, sizeof *counts) : NULL;
        if (f == 0 && !counts)
            st = cnn_fail(CNN_E_NOMEM, "cannot allocate step counts");
        /* kernels.csv has rows of no configuration (key ""): not checked */
        if (st == CNN_OK && f < 2)
            st = check_rows(s, &c, counts);
        for (int i = 0; counts && st == CNN_OK && i < s->plan.n; i++)
            if (s->done[i] && counts[i] != s->rows[i].t.n)
                st = cnn_fail(CNN_E_DATA, "%s holds %ld timed steps of %s, summary.csv records "
                              "%ld: its rows are not all there", c.path, counts[i],
                              s->plan.configs[i].key, s->rows[i].t.n);
        free(counts);
        int changed = 0;
        if (st == CNN_OK)
            st = rundir_prune_csv(&c, keep_finished, s, &out->f[out->n], &changed);
        if (st == CNN_OK && changed)
            out->n++;
        rundir_csv_free(&c);
    }
    if (st != CNN_OK)
        resume_files_abort(out);
    return st;
}

/* What meta.json keeps across sessions: the first start, its load, and
 * every resume (this one added). */
static void resume_meta_state(struct sweep *s, const char *meta_text)
{
    if (json_get_number(meta_text, "load_1min_start", &s->meta.load_start) != 0)
        s->meta.load_start = NAN;
    char started[64];
    if (json_get_string(meta_text, "started_utc", started, sizeof started) == 0) {
        s->first_started = strdup(started);
        if (s->first_started)
            s->meta.started_utc = s->first_started;
    }
    int n = json_get_string_array(meta_text, "resumed_utc", &s->meta.resumed_utc);
    s->meta.n_resumed = n > 0 ? n : 0;
    if (n < 0)
        s->meta.resumed_utc = NULL;
    char now[64];
    meta_utc_now(now, sizeof now);
    char **g = realloc(s->meta.resumed_utc, (size_t)(s->meta.n_resumed + 1) * sizeof *g);
    if (g) {
        s->meta.resumed_utc = g;
        g[s->meta.n_resumed] = strdup(now);
        s->meta.n_resumed += g[s->meta.n_resumed] != NULL;
    }
}

/* Opens steps.csv and evals.csv for appending. */
static cnn_status open_for_append(struct sweep *s)
{
    char path[4200];
    rundir_path(path, sizeof path, s->dir.path, "steps.csv");
    s->dir.steps = fopen(path, "a");
    if (!s->dir.steps)
        return cnn_fail(CNN_E_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    rundir_path(path, sizeof path, s->dir.path, "evals.csv");
    s->dir.evals = fopen(path, "a");
    if (!s->dir.evals)
        return cnn_fail(CNN_E_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    return CNN_OK;
}

/* Every check of a resume, before it writes anything. */
static cnn_status resume_check(struct sweep *s, const char *meta_text, struct resume_files *files)
{
    CNN_TRY(resume_check_origin(s, meta_text));
    CNN_TRY(resume_read_summary(s, meta_text));
    cnn_status st = data_load(s->o->data, &s->data);
    if (st != CNN_OK)
        return cnn_fail_context(st, "%s: its data set (--data %s) cannot be loaded",
                                s->dir.path, s->o->data);
    CNN_TRY(resume_check_data(s, meta_text));
    s->meta.data = &s->data;
    s->meta.digit_label = s->data.test_y[s->meta.digit_index];
    return resume_prepare_files(s, files);
}

/* Continues a locked run: every check, then the rewrites, meta.json first
 * (its failure leaves the CSV files as they were), then the pruned CSVs
 * renamed into place. */
static cnn_status resume_begin(struct sweep *s, const char *meta_text)
{
    struct resume_files files;
    cnn_status st = resume_check(s, meta_text, &files);
    if (st == CNN_OK) {
        resume_meta_state(s, meta_text);
        st = write_meta(s);
        if (st != CNN_OK)
            resume_files_abort(&files);
    }
    if (st != CNN_OK)
        return cnn_fail_context(st, "not resumed, no file changed");
    CNN_TRY(resume_files_publish(&files));
    return open_for_append(s);
}

/* ---- the command ---- */

static void sweep_free(struct sweep *s)
{
    rundir_close(&s->dir);
    plan_free(&s->plan);
    data_free(&s->data);
    caches_free(&s->caches);
    free(s->rows);
    free(s->have);
    free(s->done);
    free(s->config_keys);
    free(s->first_started);
    json_free_strings(s->meta.resumed_utc, s->meta.n_resumed);
}

static void print_listing(const struct sweep *s, double seconds)
{
    int failed = 0, interrupted = 0, ok = 0, unstable = 0;
    for (int i = 0; i < s->plan.n; i++) {
        if (!s->have[i])
            continue;
        if (!strcmp(s->rows[i].status, "ok")) {
            ok++;
            unstable += summary_unstable(&s->rows[i].t, s->rows[i].max_noise_pct) == 1;
        }
        else if (!strcmp(s->rows[i].status, "interrupted"))
            interrupted++;
        else
            failed++;
    }
    printf("\nresults in %s/ (%.0f s)\n", s->dir.path, seconds);
    if (unstable > 0)
        printf("  %d of %d ok configurations UNSTABLE (cv over %.0f%% or --max-noise missed): "
               "see their lines above, the unstable column, and REPORT.md\n", unstable, ok,
               100.0 * SUMMARY_UNSTABLE_CV);
    printf("  meta.json     run, machine and build facts\n");
    printf("  steps.csv     %ld new rows (configuration x step x region)\n", s->step_rows);
    printf("  summary.csv   %d of %d configurations: %d ok, %d failed, %d interrupted\n",
           ok + failed + interrupted, s->plan.n, ok, failed, interrupted);
    printf("  evals.csv     test-set evaluations\n");
    if (s->showcase >= 0)
        printf("  showcase/     final parameters (.npy), filters and feature maps of %s\n",
               s->plan.configs[s->showcase].key);
    printf("charts and REPORT.md: plots/render.sh %s\n", s->dir.path);
}

/* A new run: the data first, so that a missing data set leaves nothing
 * behind, then the run directory, made whole or not at all. */
static cnn_status create_run(struct sweep *s)
{
    const struct sweep_opts *o = s->o;
    CNN_TRY(data_load(o->data, &s->data));
    s->meta.data = &s->data;
    s->meta.digit_label = s->data.test_y[s->meta.digit_index];
    char dir[4096], run_id[256];
    if (o->out) {
        snprintf(dir, sizeof dir, "%s", o->out);
    } else {
        meta_run_id(run_id, sizeof run_id, o->preset ? o->preset : "sweep");
        snprintf(dir, sizeof dir, "results/%s", run_id);
    }
    cnn_status st = rundir_create(&s->dir, dir, CSV_STEPS_HEADER, CSV_EVALS_HEADER);
    /* the name it will have, kept where meta.run_id can point for the whole run */
    const char *slash = strrchr(s->dir.final, '/');
    snprintf(s->run_name, sizeof s->run_name, "%s", slash ? slash + 1 : s->dir.final);
    s->meta.run_id = s->run_name;
    if (st == CNN_OK)
        st = write_summary(s);
    if (st == CNN_OK)
        st = write_meta(s);
    if (st == CNN_OK)
        st = rundir_publish(&s->dir);
    /* a hidden directory was made: rundir_close removes it */
    if (st != CNN_OK && s->dir.final[0] && s->dir.path[0])
        cnn_fail_context(st, "%s: not created, and nothing was left behind", s->dir.final);
    return st;
}

/* Runs the sweep of o into a new run directory, or, with resume_meta, into
 * the run *locked (taken over: the caller's copy is reset). */
static cnn_status sweep_main(const struct sweep_opts *o, int argc, char **argv,
                             const char *resume_meta, struct run_dir *locked, int *usage)
{
    struct sweep s;
    memset(&s, 0, sizeof s);
    rundir_init(&s.dir);
    s.o = o;
    s.showcase = -1;
    *usage = 1;
    const struct cnn_backend *impls[PLAN_MAX_IMPLS];
    int n_impls;
    struct plan_block blocks[PLAN_MAX_BLOCKS];
    int nblocks;
    CNN_TRY(choose_backends(o, impls, &n_impls, usage));
    *usage = 1;
    CNN_TRY(check_gpus_axis(o, impls, n_impls));
    CNN_TRY(build_blocks(o, impls, n_impls, blocks, &nblocks));
    CNN_TRY(plan_build(blocks, nblocks, o->reps, o->by_epochs, &s.plan));
    if (s.plan.n == 0) {
        plan_free(&s.plan);
        return cnn_fail(CNN_E_ARG, "the axes leave no configuration to run (a --variant or "
                        "--threads value no chosen backend takes?)");
    }
    *usage = 0;
    print_plan(&s.plan, o);
    if (o->dry_run) {
        for (int i = 0; i < s.plan.n; i++)
            printf("  %-30s block %s%s\n", s.plan.configs[i].key, s.plan.configs[i].block,
                   s.plan.configs[i].eval_every ? ", evaluated during training" : "");
        plan_free(&s.plan);
        return CNN_OK;
    }
    if (locked) {
        s.dir = *locked;
        rundir_init(locked);
    }

    s.rows = calloc((size_t)s.plan.n, sizeof *s.rows);
    s.have = calloc((size_t)s.plan.n, sizeof *s.have);
    s.done = calloc((size_t)s.plan.n, sizeof *s.done);
    s.config_keys = calloc((size_t)s.plan.n, sizeof *s.config_keys);
    cnn_status st = s.rows && s.have && s.done && s.config_keys
                        ? CNN_OK : cnn_fail(CNN_E_NOMEM, "cannot allocate the sweep");
    for (int i = 0; st == CNN_OK && i < s.plan.n; i++)
        s.config_keys[i] = s.plan.configs[i].key;
    meta_probe_machine(&s.machine);
    char started[64];
    meta_utc_now(started, sizeof started);
    s.meta = (struct meta_run){
        .command = "sweep", .argc = argc, .argv = argv, .state = "running",
        .started_utc = started, .preset = o->preset, .seed = o->seed, .lr = o->lr,
        .shuffle = o->shuffle, .warmup = o->warmup, .reps = o->reps, .eval_final = o->eval,
        .verify = o->verify, .cupti = o->cupti, .length_unit = o->by_epochs ? "epochs" : "steps",
        .data_spec = o->data, .configurations = s.plan.n, .config_keys = s.config_keys,
        .skipped = s.plan.skipped, .duplicates = s.plan.duplicates,
        .load_start = meta_load_1min(), .load_end = NAN,
    };

    if (st == CNN_OK && resume_meta) {
        const char *slash = strrchr(s.dir.path, '/');
        snprintf(s.run_name, sizeof s.run_name, "%s", slash ? slash + 1 : s.dir.path);
        s.meta.run_id = s.run_name;
        st = resume_begin(&s, resume_meta);
    } else if (st == CNN_OK) {
        st = create_run(&s);
    }
    if (st == CNN_OK) {
        int remaining = 0;
        double work = 0;
        for (int i = 0; i < s.plan.n; i++)
            if (!s.done[i]) {
                const struct plan_config *c = &s.plan.configs[i];
                remaining++;
                work += config_steps(c, o->by_epochs, s.data.train_n) *
                        run_step_flop(c->batch, c->filters);
            }
        if (resume_meta)
            printf("resuming %s: %d configuration%s left\n", s.dir.path, remaining,
                   remaining == 1 ? "" : "s");
        else
            printf("results: %s\n", s.dir.path);
        fflush(stdout);
        interrupt_install();
#if SWEEP_CUPTI
        int tracing = 0;
        if (o->cupti) {
            st = cnn_cupti_start();
            tracing = st == CNN_OK;
        }
#endif
        progress_begin(&s.progress, s.plan.n, work);
        for (int i = 0; i < s.plan.n && st == CNN_OK; i++) {
            if (s.done[i])
                continue;
            if (interrupt_flag)
                st = cnn_fail(CNN_E_INTERRUPTED, "interrupted between configurations");
            else
                st = run_one(&s, i);
        }
        double seconds = progress_end(&s.progress);
#if SWEEP_CUPTI
        if (tracing) {
            cnn_status cst = cupti_finish(&s);
            if (cst != CNN_OK && (st == CNN_OK || st == CNN_E_INTERRUPTED))
                st = cst;
        }
#endif
        s.meta.state = st == CNN_OK ? "complete"
                       : st == CNN_E_INTERRUPTED ? "interrupted" : "failed";
        char finished[64];
        meta_utc_now(finished, sizeof finished);
        s.meta.finished_utc = finished;
        s.meta.load_end = meta_load_1min();
        /* the first failure is the one to report: keep its message when
         * meta.json, on the same full disk, fails too */
        char first[1024] = "";
        if (st != CNN_OK)
            snprintf(first, sizeof first, "%s", cnn_last_error());
        cnn_status mst = write_meta(&s);
        if (st == CNN_OK) {
            st = mst;
        } else if (mst != CNN_OK) {
            char why[1024];
            snprintf(why, sizeof why, "%s", cnn_last_error());
            cnn_fail(st, "%s (and meta.json could not record how the run ended: %s)", first,
                     why);
        }
        print_listing(&s, seconds);
    }
    if (st == CNN_E_INTERRUPTED)
        cnn_fail(CNN_E_INTERRUPTED, "interrupted: the finished configurations are kept; "
                 "continue with: cnnbench sweep --resume %s", s.dir.path);
    else if (st == CNN_OK && s.meta.failed_configs > 0)
        st = cnn_fail(CNN_E_DATA, "%d configuration%s failed; the reasons are in %s/summary.csv",
                      s.meta.failed_configs, s.meta.failed_configs == 1 ? "" : "s", s.dir.path);
    sweep_free(&s);
    return st;
}

enum cli_outcome sweep_command(int argc, char **argv)
{
    struct sweep_opts o;
    int help, usage = 1;
    if (parse_options(argc, argv, &o, &help) != CNN_OK)
        return CLI_USAGE;
    if (help) {
        fputs(sweep_help, stdout);
        return CLI_DONE;
    }
    char *meta_text = NULL;
    char **stored = NULL;
    int n_stored = 0;
    cnn_status st = CNN_OK;
    struct run_dir locked;
    rundir_init(&locked);
    if (o.resume) {
        /* everything but --resume comes from the run itself, so the plan is
         * the one whose rows are already there */
        if (argc != 2 && !(argc == 1 && strchr(argv[0], '='))) {
            cnn_fail(CNN_E_ARG, "--resume takes no other options: the run's own are read "
                     "from its meta.json");
            return CLI_USAGE;
        }
        /* the lock first: nothing of a run another process writes is read */
        const char *dir = o.resume;
        usage = 0;
        st = rundir_lock(&locked, dir);
        if (st == CNN_OK)
            st = resume_read_meta(locked.path, &meta_text, &stored, &n_stored);
        if (st == CNN_OK) {
            int h;
            usage = 1;
            st = parse_options(n_stored, stored, &o, &h);
            o.resume = dir;
            if (st == CNN_OK)
                st = sweep_main(&o, n_stored, stored, meta_text, &locked, &usage);
        }
    } else {
        st = sweep_main(&o, argc, argv, NULL, NULL, &usage);
    }
    rundir_close(&locked);
    free(meta_text);
    json_free_strings(stored, n_stored);
    if (st == CNN_OK)
        return CLI_DONE;
    if (st == CNN_E_INTERRUPTED)
        return CLI_INTERRUPTED;
    return usage ? CLI_USAGE : CLI_FAILED;
}
