/*
 * train.c — `cnnbench train`: one configuration, trained and timed step by
 * step (a fixed number of steps, or with --max-noise until the median step
 * time is quiet), printed as a compact table and a summary that marks noisy
 * timings, optionally written as CSV (the steps.csv schema) and .npy
 * parameters.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agree.h"
#include "batch_share.h"
#include "backends.h"
#include "commands.h"
#include "csvout.h"
#include "data.h"
#include "error.h"
#include "fileio.h"
#include "interrupt.h"
#include "meta.h"
#include "npy.h"
#include "params.h"
#include "plan.h"
#include "reference.h"
#include "run.h"
#include "stats.h"
#include "summary.h"

static const char train_help[] =
    "Usage: cnnbench train [OPTIONS]\n"
    "\n"
    "Trains the network once with one backend and prints, per step, the batch\n"
    "loss, the batch accuracy and the time of every region.\n"
    "\n"
    "  A step is one mini-batch of B images: forward, backward and SGD update.\n"
    "  An epoch is ceil(N/B) steps, one pass over the N training images in the\n"
    "  sampler's order; batches wrap across epoch boundaries, so none is dropped.\n"
    "  Regions (milliseconds): conv_fwd (conv + bias + ReLU + max-pool), fc_fwd,\n"
    "  loss_fwd (softmax + cross-entropy), loss_bwd (logit gradient), fc_bwd,\n"
    "  conv_bwd, update (SGD); device backends add h2d (batch upload) and d2h\n"
    "  (metrics download), and with --gpus N allreduce (the gradient sum over\n"
    "  the GPUs, timed on GPU 0). 'step' is the wall time of the whole step.\n"
    "\n"
    "  Under mpirun or srun (N processes, docs/MPI.md) every process trains on a\n"
    "  contiguous share of each batch of B images (B/N, the first B mod N one\n"
    "  more) and allreduce sums the gradients of all processes, in a fixed order\n"
    "  (bitwise reproducible for a fixed N). Rank 0 alone prints and writes\n"
    "  files; loss, accuracy and images/s are the whole batch's, region times\n"
    "  rank 0's. cuda takes one GPU per process (the local rank).\n"
    "\n"
    "Options:\n"
    "  --impl NAME        backend (default seq, the reference), one of this\n"
    "                     build's: ";
/* After the backend names, which train_command prints from the registry. */
static const char train_help_rest[] =
    "\n"
    "                     ('cnnbench list' describes them)\n"
    "  --batch B          images per step, 1..65536 (default 100)\n"
    "  --filters F        conv filters, 1..4096 (default 32)\n"
    "  --steps N          train N steps (default 100; with --max-noise, the most\n"
    "                     it may take: default 10000)\n"
    "  --epochs E         train E epochs instead (E * ceil(N/B) steps; with\n"
    "                     --max-noise, the most it may take)\n"
    "  --lr LR            SGD learning rate (default 0.1)\n"
    "  --seed S           seeds the initial parameters and the batch order (default 1)\n"
    "  --data SPEC        mnist, fashion, or a directory of IDX files (default mnist)\n"
    "  --shuffle on|off   on (default): a fresh seeded permutation every epoch;\n"
    "                     off: step k trains on images [kB, (k+1)B) in file order,\n"
    "                     wrapping at the end of the set\n"
    "  --threads T        CPU threads, for backends that take them (default: the\n"
    "                     backend's, i.e. OMP_NUM_THREADS or all CPUs)\n"
    "  --variant V        kernel variant 1.., for backends that have them\n"
    "  --gpus N           cuda only. 0 (default): one GPU, the plain path.\n"
    "                     N >= 1: data-parallel over GPUs 0..N-1 through NCCL:\n"
    "                     each GPU trains on a B/N share of the batch, NCCL sums\n"
    "                     the gradients, every GPU applies the same update. N = 1\n"
    "                     runs NCCL with one GPU and matches 0 bit for bit; for a\n"
    "                     fixed N runs are bitwise reproducible (README.md)\n"
    "  --warmup N         untimed warm-up steps (default 1). They train from the\n"
    "                     initial parameters on the first batches, then those\n"
    "                     parameters are restored and the batch order restarts:\n"
    "                     the reported run equals a --warmup 0 run bit for bit\n"
    "  --eval             test-set accuracy after the last step\n"
    "  --eval-every N     test-set accuracy every N steps (untimed)\n"
    "  --load-params DIR  start from DIR/{conv_w,conv_b,fc_w,fc_b}.npy (PyTorch\n"
    "                     layout) instead of drawing them from --seed\n"
    "  --save-params DIR  write the final parameters to DIR as .npy\n"
    "  --csv FILE         write every step (steps.csv schema, results/README.md)\n"
    "  --print-every N    a table row every N steps (default: about 20 rows; with\n"
    "                     --max-noise, at steps 1, 2, 4, 8... and the last)\n"
    "  --no-verify        skip the check that one step agrees with seq (docs/DESIGN.md §4)\n"
    "  --help             this text\n"
    "\n"
    "Sampling until the numbers are quiet (default: exactly the steps asked for):\n"
    "  --max-noise PCT    train until the noise of the median step time is at most\n"
    "                     PCT percent. The noise is half the width of the median's\n"
    "                     95% confidence interval relative to the median, from\n"
    "                     order statistics (distribution-free: skewed step times\n"
    "                     are fine): --max-noise 1 means the true median is within\n"
    "                     about 1% of the reported one, 19 times out of 20\n"
    "  --min-steps N      with --max-noise: at least N timed steps, whatever the\n"
    "                     time (default 10; a 95% interval needs 6)\n"
    "  --max-time S       with --max-noise: stop after S seconds of timed steps\n"
    "                     (evaluations not counted) even if the noise is higher\n"
    "                     (default 15)\n"
    "  The summary always gives the noise reached and, with --max-noise, why\n"
    "  sampling stopped: converged, max_time or cap (--steps/--epochs reached).\n"
    "  Timings whose CV exceeds 10%, or that missed the target, are marked\n"
    "  UNSTABLE with the reason: CV, IQR, noise and the machine's load.\n"
    "\n"
    "Examples:\n"
    "  cnnbench train --steps 1000 --eval\n"
    "  cnnbench train --impl omp --threads 2 --batch 1000 --filters 256 --steps 20\n"
    "  cnnbench train --impl omp --batch 1000 --filters 256 --max-noise 1 --max-time 60\n"
    "  cnnbench train --impl cuda --gpus 2 --batch 4000 --filters 256 --steps 100\n"
    "  mpirun -np 2 cnnbench train --impl omp --threads 1 --batch 1000 --filters 256\n"
    "  cnnbench train --epochs 1 --shuffle off --save-params params --csv steps.csv\n";

struct train_opts {
    const char *impl;        /* NULL: the reference backend */
    int batch, filters;
    long steps, epochs;      /* one of them is 0 */
    double lr;
    uint64_t seed;
    const char *data;
    int shuffle;
    int threads, variant, gpus, warmup;
    int eval, eval_every;
    const char *load_params, *save_params, *csv;
    long print_every;        /* 0: automatic */
    int verify;
    struct cli_sampling sampling; /* max_noise 0: exactly the steps asked for */
};

/* The options that take a value. */
static const char *const valued[] = {
    "impl", "batch", "filters", "steps", "epochs", "lr", "seed", "data", "shuffle", "threads",
    "variant", "gpus", "warmup", "eval-every", "load-params", "save-params", "csv",
    "max-noise", "min-steps", "max-time", "print-every", NULL,
};

static cnn_status parse_options(int argc, char **argv, struct train_opts *o, int *help)
{
    *o = (struct train_opts){
        .batch = 100, .filters = 32, .lr = 0.1, .seed = 1, .data = "mnist",
        .shuffle = 1, .warmup = 1, .verify = 1,
        .sampling = {.min_steps = RUN_NOISE_DEFAULT_MIN_STEPS,
                     .max_time = RUN_NOISE_DEFAULT_MAX_TIME_S},
    };
    *help = 0;
    struct cli_scan s;
    cli_scan_init(&s, argc, argv, 0);
    int r;
    while ((r = cli_scan_next(&s)) > 0) {
        const char *v = NULL;
        const char *n = s.name;
        if (s.positional)
            return cnn_fail(CNN_E_ARG, "unexpected argument '%s'", s.positional);
        if (!strcmp(n, "help")) {
            *help = 1;
            return CNN_OK;
        } else if (!strcmp(n, "eval") || !strcmp(n, "no-verify")) {
            CNN_TRY(cli_scan_no_value(&s));
            if (!strcmp(n, "eval"))
                o->eval = 1;
            else
                o->verify = 0;
            continue;
        }
        CNN_TRY(cli_scan_known(&s, valued));
        CNN_TRY(cli_scan_value(&s, &v));
        if (!strcmp(n, "impl"))
            o->impl = v;
        else if (!strcmp(n, "batch"))
            CNN_TRY(cli_parse_int(n, v, 1, CNN_MAX_BATCH, &o->batch));
        else if (!strcmp(n, "filters"))
            CNN_TRY(cli_parse_int(n, v, 1, CNN_MAX_FILTERS, &o->filters));
        else if (!strcmp(n, "steps"))
            CNN_TRY(cli_parse_long(n, v, 1, CLI_MAX_STEPS, &o->steps));
        else if (!strcmp(n, "epochs"))
            CNN_TRY(cli_parse_long(n, v, 1, 100000L, &o->epochs));
        else if (!strcmp(n, "lr"))
            CNN_TRY(cli_parse_positive_double(n, v, 100.0, &o->lr));
        else if (!strcmp(n, "seed"))
            CNN_TRY(cli_parse_u64(n, v, &o->seed));
        else if (!strcmp(n, "data"))
            o->data = v;
        else if (!strcmp(n, "shuffle"))
            CNN_TRY(cli_parse_switch(n, v, &o->shuffle));
        else if (!strcmp(n, "threads"))
            CNN_TRY(cli_parse_int(n, v, 1, 4096, &o->threads));
        else if (!strcmp(n, "variant"))
            CNN_TRY(cli_parse_int(n, v, 1, 1000, &o->variant));
        else if (!strcmp(n, "gpus"))
            CNN_TRY(cli_parse_int(n, v, 0, 1024, &o->gpus));
        else if (!strcmp(n, "warmup"))
            CNN_TRY(cli_parse_int(n, v, 0, 100000, &o->warmup));
        else if (!strcmp(n, "eval-every"))
            CNN_TRY(cli_parse_int(n, v, 1, 100000000, &o->eval_every));
        else if (!strcmp(n, "load-params"))
            o->load_params = v;
        else if (!strcmp(n, "save-params"))
            o->save_params = v;
        else if (!strcmp(n, "csv"))
            o->csv = v;
        else if (cli_is_sampling_option(n))
            CNN_TRY(cli_parse_sampling(n, v, &o->sampling));
        else /* print-every, the last name in valued[] */
            CNN_TRY(cli_parse_long(n, v, 1, 100000000L, &o->print_every));
    }
    if (r < 0)
        return CNN_E_ARG;
    if (o->steps && o->epochs)
        return cnn_fail(CNN_E_ARG, "--steps and --epochs are mutually exclusive");
    CNN_TRY(cli_check_sampling(&o->sampling));
    if (!o->steps && !o->epochs)
        o->steps = o->sampling.max_noise > 0 ? RUN_NOISE_DEFAULT_CAP : 100;
    return CNN_OK;
}

/* State of the per-step table. */
struct train_table {
    const struct train_opts *o;
    long steps;
    long every;       /* a row every N steps; 0: at powers of two, for a run
                         whose length --max-noise decides */
    int device;       /* show h2d and d2h */
    int ranks;        /* processes of the job */
    long last_shown;  /* the step of the last row printed */
};

static int region_shown(const struct train_table *t, int r)
{
    if (r == CNN_REGION_ALLREDUCE)
        return t->o->gpus > 0 || t->ranks > 1;
    return t->device || (r != CNN_REGION_H2D && r != CNN_REGION_D2H);
}

static void table_header(const struct train_table *t)
{
    printf("%7s %9s %6s %9s", "step", "loss", "acc%", "step_ms");
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        if (region_shown(t, r))
            printf(" %9s", cnn_region_name((enum cnn_region)r));
    printf("\n");
}

static void print_row(struct train_table *t, long step, const struct run_step *rec)
{
    t->last_shown = step;
    printf("%7ld %9.5f %6.1f %9.3f", step, rec->loss, 100.0 * rec->correct / t->o->batch,
           rec->step_ms);
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        if (region_shown(t, r)) {
            if (rec->region_ms[r] < 0)
                printf(" %9s", "-");
            else
                printf(" %9.3f", rec->region_ms[r]);
        }
    printf("\n");
    fflush(stdout);
}

/* The per-step hook; the header waits for the first step, so that a failed
 * verification or warm-up is not preceded by an empty table. */
static void table_row(void *ctx, long step, const struct run_step *rec)
{
    struct train_table *t = ctx;
    if (step == 1)
        table_header(t);
    int due = t->every ? step % t->every == 0 : (step & (step - 1)) == 0;
    if (due || step == 1 || step == t->steps)
        print_row(t, step, rec);
}

/* The load around the run, for the reason an unstable timing gives. */
struct train_load {
    double start, end;  /* 1-min load average; NaN: unknown */
    long cpus;
};

static void print_summary(const struct train_opts *o, const struct run_spec *spec,
                          const struct run_result *r, const struct data_set *d,
                          const struct train_load *load)
{
    double *ms = malloc((size_t)(r->done > 0 ? r->done : 1) * sizeof *ms);
    if (!ms)
        return;
    struct stats_summary st;
    for (long k = 0; k < r->done; k++)
        ms[k] = r->steps[k].step_ms;
    stats_summarise(ms, r->done, &st);
    printf("\nsummary: %ld timed steps of %d images", r->done, o->batch);
    printf(" (%.2f epochs of %u images)\n", (double)r->done * o->batch / d->train_n, d->train_n);
    if (o->warmup > 0)
        printf("  warm-up:    %d untimed step%s excluded (the first took %.3f ms)\n", o->warmup,
               o->warmup == 1 ? "" : "s", r->first_warmup_ms);
    if (r->done > 0) {
        double s = st.median / 1e3;
        int unstable = summary_unstable(&st, o->sampling.max_noise) == 1;
        const char *mark = unstable ? "  [UNSTABLE]" : "";
        printf("  step time:  median %.3f ms, IQR %.3f..%.3f ms, min %.3f, mean %.3f, sd %.3f%s\n",
               st.median, st.q1, st.q3, st.min, st.mean, st.stddev, mark);
        printf("  throughput: %.0f images/s, %.2f GFLOP/s (%.3f GFLOP per step, "
               "docs/DESIGN.md §7)%s\n",
               o->batch / s, run_step_flop(o->batch, o->filters) / s / 1e9,
               run_step_flop(o->batch, o->filters) / 1e9, mark);
        if (isnan(st.noise_pct))
            printf("  noise:      unknown: a 95%% interval of the median needs 6 steps");
        else
            printf("  noise:      median ±%.2f%% at 95%% confidence (order statistics)",
                   st.noise_pct);
        if (o->sampling.max_noise > 0 && r->stop != RUN_STOP_NONE)
            printf("; --max-noise %g%%: %s after %ld steps", o->sampling.max_noise,
                   run_stop_name(r->stop), r->done);
        printf("\n");
        if (unstable) {
            char why[512];
            summary_unstable_reason(why, sizeof why, &st, o->sampling.max_noise, load->start,
                                    load->end, load->cpus);
            const char *advice =
                !(o->sampling.max_noise > 0) ? "rerun on a quiet machine, or with --max-noise"
                : r->stop == RUN_STOP_CONVERGED
                    ? "the median met --max-noise; single steps strayed far from it"
                : r->stop == RUN_STOP_CAP ? "rerun on a quiet machine, or with more --steps"
                                          : "rerun on a quiet machine, or with more --max-time";
            printf("  UNSTABLE:   %s\n              %s\n", why, advice);
        }
        printf("  regions:    median ms");
        for (int reg = 0; reg < CNN_REGION_COUNT; reg++) {
            long n = 0;
            for (long k = 0; k < r->done; k++)
                if (r->steps[k].region_ms[reg] >= 0)
                    ms[n++] = r->steps[k].region_ms[reg];
            if (n > 0)
                printf(" %s %.3f", cnn_region_name((enum cnn_region)reg), stats_median(ms, n));
        }
        printf("\n  final loss: %.5f (batch of the last step)\n", r->steps[r->done - 1].loss);
    }
    for (int i = 0; i < r->n_evals; i++)
        printf("  test accuracy after step %ld: %.2f%% of %u images (%.1f ms, untimed)\n",
               r->evals[i].step, 100.0 * r->evals[i].accuracy, d->test_n, r->evals[i].ms);
    if (spec->ref)
        printf("  verified:   one step agrees with seq within |a-b| <= %g + %g|b|; %zu of %zu "
               "pool windows decided otherwise within rounding, replayed\n",
               CNN_AGREE_PARAM_ATOL, CNN_AGREE_PARAM_RTOL, r->verify.tie_flips,
               r->verify.windows);
    free(ms);
}

/* The one configuration train runs, as a sweep's plan lists one: the run
 * takes its backend configuration (plan_cnn_config), the CSV its key and
 * identifying columns. */
static void train_config(const struct train_opts *o, const struct cnn_backend *be, int ranks,
                         struct plan_config *c)
{
    *c = (struct plan_config){
        .be = be, .variant = o->variant, .threads = o->threads, .batch = o->batch,
        .filters = o->filters, .gpus = o->gpus, .ranks = ranks,
        .length = (int)(o->epochs ? o->epochs : o->steps), .rep = 1,
        .eval_every = o->eval_every, .block = "train",
    };
    /* a job of one keeps the key of a run without ranks */
    plan_key(c->key, sizeof c->key, be->name, c->variant, c->threads, c->gpus,
             c->ranks > 1 ? c->ranks : 0, c->batch, c->filters, o->epochs ? 'e' : 's',
             c->length, c->rep);
}

/* Writes every finished step of c in the steps.csv schema into the output
 * opened before the run, and commits it. */
static cnn_status write_csv(struct csv_output *out, const struct train_opts *o,
                            const struct plan_config *c, const struct run_result *r)
{
    const char *timer = run_timer_name(c->be, 0);
    int failed = fprintf(out->fp, "%s\n", CSV_STEPS_HEADER) < 0;
    for (long k = 0; k < r->done && !failed; k++)
        failed = csv_write_step_rows(out->fp, c, timer, k + 1, &r->steps[k]) < 0;
    if (failed) {
        int saved = errno;
        csv_output_abort(out);
        return cnn_fail(CNN_E_IO, "%s: write failed: %s", o->csv, strerror(saved));
    }
    return csv_output_commit(out);
}

/* Refuses a --save-params directory that cannot be written before any
 * training: creates it if missing and creates and removes a file in it. */
static cnn_status probe_params_dir(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.cnnbench-probe.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0)
        return cnn_fail(CNN_E_IO, "%s: cannot write there: %s", dir, strerror(errno));
    close(fd);
    unlink(probe);
    return CNN_OK;
}

/* The job train runs in: its size and this process's place and share. */
struct train_job {
    ranks *ranks;            /* NULL for a job of one process */
    const struct ranks_info *info;
    int lead;                /* 1: rank 0 (or alone): prints and writes files */
    struct cnn_comm comm;    /* a job of several: the backend's view of it */
    struct cnn_share share;  /* this process's images of each batch */
};

static cnn_status job_setup(const struct train_opts *o, ranks *r, struct train_job *job)
{
    const struct ranks_info *info = ranks_info(r);
    *job = (struct train_job){.info = info, .lead = info->rank == 0,
                              .share = {0, (size_t)o->batch}};
    if (info->size == 1)
        return CNN_OK;
    if (o->batch < info->size)
        return cnn_fail(CNN_E_ARG, "--batch %d over %d processes: each needs at least one "
                        "image", o->batch, info->size);
    if (o->gpus)
        return cnn_fail(CNN_E_ARG, "--gpus %d under a launcher of %d processes: each process "
                        "drives one GPU (its local rank); leave --gpus out", o->gpus,
                        info->size);
    job->ranks = r;
    ranks_comm(r, o->batch, &job->comm);
    job->share = cnn_share_of((size_t)o->batch, info->size, info->rank);
    return CNN_OK;
}

/* A job of several: every process must train on the same data, from the
 * same parameters. Rank 0's data fingerprint goes to all, and a process
 * whose data differ fails (a host with other files); rank 0's initial
 * parameters replace every other's (drawn alike from --seed, but
 * --load-params reads each host's own files). */
static cnn_status job_same_start(const struct train_job *job, const struct data_set *data,
                                 struct cnn_params *init)
{
    if (!job->ranks)
        return CNN_OK;
    uint64_t mine[3] = {data->fnv1a64, data->train_n, data->test_n};
    uint64_t lead[3];
    memcpy(lead, mine, sizeof lead);
    CNN_TRY(ranks_broadcast(job->ranks, lead, sizeof lead));
    if (memcmp(lead, mine, sizeof lead) != 0)
        return cnn_fail(CNN_E_DATA, "%s: this host's data set (%u + %u images, fnv1a64 %016llx) "
                        "differs from rank 0's (%llu + %llu images, fnv1a64 %016llx); every "
                        "host must hold the same files", data->spec, data->train_n,
                        data->test_n, (unsigned long long)mine[0], (unsigned long long)lead[1],
                        (unsigned long long)lead[2], (unsigned long long)lead[0]);
    return ranks_broadcast(job->ranks, init->buf, init->count * sizeof *init->buf);
}

/* Everything after option parsing; returns a status, the caller maps it. */
static cnn_status train_run(const struct train_opts *o, ranks *r, int *usage, int *together)
{
    const struct cnn_backend *be;
    *usage = 1;
    *together = 0;
    const char *impl = o->impl ? o->impl : backends_name_with_cap(CNN_CAP_REFERENCE);
    if (!impl)
        return cnn_fail(CNN_E_ARG, "no --impl, and no reference backend in this build to "
                        "default to");
    CNN_TRY(backends_find(impl, &be));
    struct train_job job;
    CNN_TRY(job_setup(o, r, &job));
    const struct cnn_comm *comm = job.ranks ? &job.comm : NULL;
    CNN_TRY(cnn_config_check(be, &(struct cnn_config){.batch = (int)job.share.count,
                                                      .filters = o->filters,
                                                      .threads = o->threads,
                                                      .variant = o->variant, .gpus = o->gpus,
                                                      .comm = comm}));
    *usage = 0;
    CNN_TRY(backends_probe(be));
    struct csv_output csv;
    const char *csv_path = job.lead ? o->csv : NULL;
    const char *params_dir = job.lead ? o->save_params : NULL;
    if (csv_path)
        CNN_TRY(csv_output_open(&csv, csv_path));
    if (params_dir) {
        cnn_status pst = probe_params_dir(params_dir);
        if (pst != CNN_OK) {
            if (csv_path)
                csv_output_abort(&csv);
            return pst;
        }
    }

    struct data_set data;
    cnn_status st = data_load(o->data, &data);
    if (st != CNN_OK) {
        if (csv_path)
            csv_output_abort(&csv);
        return st;
    }
    long steps = o->steps ? o->steps : run_epoch_steps(o->epochs, data.train_n, o->batch);
    /* --steps has this cap; --epochs meets it once the data set's size is known */
    if (steps > CLI_MAX_STEPS)
        st = cnn_fail(CNN_E_ARG, "--epochs %ld at --batch %d over %u images is %ld steps, more "
                      "than the %ld a run may take", o->epochs, o->batch, data.train_n, steps,
                      CLI_MAX_STEPS);
    *usage = st != CNN_OK;

    struct cnn_params init = {0};
    struct reference_cache refs = {0};
    struct run_result result;
    run_result_init(&result);
    if (st == CNN_OK)
        st = cnn_params_alloc(&init, o->filters);
    if (st == CNN_OK) {
        if (o->load_params)
            st = cnn_params_load(o->load_params, &init);
        else
            cnn_params_init(&init, o->seed);
    }
    if (st == CNN_OK)
        st = job_same_start(&job, &data, &init);
    struct plan_config config;
    train_config(o, be, job.info->size, &config);
    struct run_spec spec = {
        .be = be,
        .cfg = plan_cnn_config(&config, o->lr),
        .ranks = job.ranks,
        .steps = steps, .max_noise_pct = o->sampling.max_noise,
        .min_steps = o->sampling.min_steps, .max_time_s = o->sampling.max_time,
        .warmup = o->warmup, .shuffle = o->shuffle, .seed = o->seed,
        .eval_every = o->eval_every, .eval_final = o->eval, .init = &init,
        .keep_final = params_dir != NULL,
    };
    spec.cfg.batch = (int)job.share.count;
    spec.cfg.comm = comm;
    /* in a job, rank 0 verifies its share (the stream's first images) alone:
     * seq's one-process step on them is the reference (run.h) */
    if (st == CNN_OK && job.lead && o->verify && !(be->caps & CNN_CAP_REFERENCE)) {
        struct cnn_config alone = spec.cfg;
        alone.comm = NULL;
        st = reference_cache_step(&refs, &data, &alone, &init, o->shuffle, o->seed, &spec.ref);
    }
    if (st == CNN_OK) {
        printf("cnnbench train: %s, B=%d F=%d", be->name, o->batch, o->filters);
        if (o->threads)
            printf(" threads=%d", o->threads);
        if (o->variant)
            printf(" variant=%d (%s)", o->variant, be->variant_names[o->variant - 1]);
        if (o->gpus)
            printf(" gpus=%d (B/N = %d..%d images per GPU)", o->gpus, o->batch / o->gpus,
                   (o->batch + o->gpus - 1) / o->gpus);
        if (job.ranks)
            printf(" ranks=%d on %d host%s (B/N = %d..%d images per process)", job.info->size,
                   job.info->host_count, job.info->host_count == 1 ? "" : "s",
                   o->batch / job.info->size, (o->batch + job.info->size - 1) / job.info->size);
        printf("\n  backend: %s\n  length:  %s%ld steps (%s", be->description,
               o->sampling.max_noise > 0 ? "at most " : "", steps,
               o->epochs ? "--epochs" : "--steps");
        if (o->epochs)
            printf(" %ld: an epoch is ceil(%u/%d) = %ld steps", o->epochs, data.train_n,
                   o->batch, run_epoch_steps(1, data.train_n, o->batch));
        printf("), warm-up %d untimed step%s\n", o->warmup, o->warmup == 1 ? "" : "s");
        if (o->sampling.max_noise > 0)
            printf("  sampling: until the median is within %g%% (95%% confidence), at least "
                   "%ld steps, at most %g s\n", o->sampling.max_noise, o->sampling.min_steps,
                   o->sampling.max_time);
        printf("  data:    %s, %u train / %u test images, shuffle %s\n", o->data, data.train_n,
               data.test_n, o->shuffle ? "on" : "off");
        printf("  params:  %zu, from %s; lr %g\n\n", cnn_param_count(o->filters),
               o->load_params ? o->load_params : "--seed", o->lr);
        fflush(stdout);

        long every = steps <= 30 ? 1 : (steps + 19) / 20;
        struct train_table table = {
            .o = o, .steps = steps, .device = (be->caps & CNN_CAP_DEVICE) != 0,
            .ranks = job.info->size,
            .every = o->print_every ? o->print_every : o->sampling.max_noise > 0 ? 0 : every,
        };
        struct run_hooks hooks = {.on_step = table_row, .ctx = &table, .stop = &interrupt_flag};
        interrupt_install();
        struct train_load load = {.start = meta_load_1min(),
                                  .cpus = sysconf(_SC_NPROCESSORS_ONLN)};
        st = run_config(&spec, &data, &hooks, &result);
        load.end = meta_load_1min();
        /* the last step's row, where sampling stopped between rows */
        if (result.done > table.last_shown)
            print_row(&table, result.done, &result.steps[result.done - 1]);
        if (st == CNN_OK || st == CNN_E_INTERRUPTED)
            print_summary(o, &spec, &result, &data, &load);
    }
    /* a partial CSV is still worth keeping after Ctrl-C */
    if ((st == CNN_OK || st == CNN_E_INTERRUPTED) && csv_path) {
        cnn_status wst = write_csv(&csv, o, &config, &result);
        if (wst != CNN_OK)
            st = wst;
        else
            printf("  wrote %s\n", o->csv);
    } else if (csv_path) {
        csv_output_abort(&csv);
    }
    if (st == CNN_OK && params_dir) {
        st = cnn_params_save(params_dir, &result.final);
        if (st == CNN_OK)
            printf("  wrote %s/{conv_w,conv_b,fc_w,fc_b}.npy\n", params_dir);
    }
    /* Every process left the run at the same step: they meet once more, so
     * that none ends (and makes the launcher end the job) before rank 0's
     * files are written; then each returns on its own. */
    if (job.ranks && result.left_together) {
        double met = 1;
        cnn_status mst = ranks_sum_double(job.ranks, &met, 1);
        *together = mst == CNN_OK;
        if (st == CNN_OK)
            st = mst;
    }
    run_result_free(&result);
    cnn_params_free(&init);
    reference_cache_free(&refs);
    data_free(&data);
    return st;
}

enum cli_outcome train_command(int argc, char **argv, ranks *job, int *together)
{
    struct train_opts o;
    int help, usage;
    *together = 0;
    if (parse_options(argc, argv, &o, &help) != CNN_OK)
        return CLI_USAGE;
    if (help) {
        char names[256];
        backends_names(names, sizeof names);
        printf("%s%s%s", train_help, names, train_help_rest);
        return CLI_DONE;
    }
    cnn_status st = train_run(&o, job, &usage, together);
    if (st == CNN_OK)
        return CLI_DONE;
    if (usage)
        return CLI_USAGE;
    if (st == CNN_E_DIVERGED)
        return CLI_DIVERGED;
    return st == CNN_E_INTERRUPTED ? CLI_INTERRUPTED : CLI_FAILED;
}
