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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "csvout.h"
#include "error.h"
#include "interrupt.h"
#include "json.h"
#include "run.h"
#include "sweep.h"

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
    "  --ranks LIST       data-parallel over N MPI ranks: each configuration runs\n"
    "                     as `mpirun -np N cnnbench train ...` (N = 1 too, so every\n"
    "                     point of a curve is measured alike) and its steps are\n"
    "                     folded into this run; keys gain :npN, the CSVs' ranks\n"
    "                     column says N (1 for one run in the sweep's process)\n"
    "  --scaling MODE     with --ranks: strong (default; --batch is the global\n"
    "                     batch, each rank a B/N share), weak (--batch is per rank:\n"
    "                     B = N x it) or both\n"
    "  --mpirun CMD       the launcher (default: mpirun on PATH)\n"
    "  --mpirun-args ARGS its options before the program, split at blanks, no shell\n"
    "                     (default: --bind-to none, so a rank's threads are not\n"
    "                     bound to one core; e.g. \"--oversubscribe --bind-to none\")\n"
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
    "  --preset scaling   strong scaling at B=1000,4000 F=256, 20 steps, all under\n"
    "                     mpirun: one process (-np 1) at 1, 2, 4 ... CPUs threads\n"
    "                     against 1, 2, 4 ... CPUs ranks of one thread each; give\n"
    "                     --impl, not --threads or --ranks (they replace both)\n"
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
    "  cnnbench sweep --impl cuda --gpus 1,2,4,8 --batch 1000,4000 --filters 256\n"
    "  cnnbench sweep --impl omp --threads 1 --ranks 1,2,4 --batch 1000 --filters 256\n";

/* The options that take a value. */
static const char *const valued[] = {
    "preset", "impl", "variant", "threads", "gpus", "ranks", "scaling", "mpirun",
    "mpirun-args", "batch", "filters", "steps", "epochs", "reps", "warmup", "lr", "seed", "data",
    "shuffle", "eval-every", "max-noise", "min-steps", "max-time", "out", "resume", NULL,
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
        else if (!strcmp(n, "ranks"))
            CNN_TRY(cli_parse_axis(n, v, 1, 4096, &o->ranks));
        else if (!strcmp(n, "scaling")) {
            o->scaling = !strcmp(v, "strong") ? PLAN_STRONG
                         : !strcmp(v, "weak") ? PLAN_WEAK
                         : !strcmp(v, "both") ? PLAN_STRONG | PLAN_WEAK : 0;
            if (!o->scaling)
                return cnn_fail(CNN_E_ARG, "--scaling: '%s' is not strong, weak or both", v);
        } else if (!strcmp(n, "mpirun"))
            o->mpirun = v;
        else if (!strcmp(n, "mpirun-args"))
            o->mpirun_args = v;
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
    return sweep_trace_check(o);
}


static void print_plan(const struct plan *p, const struct sweep_opts *o)
{
    printf("sweep: %d configuration%s", p->n, p->n == 1 ? "" : "s");
    if (p->skipped)
        printf(" (%ld combination%s skipped by the rules: threads only for backends that take "
               "them, variants only where they exist, GPU counts only where a data-parallel "
               "mode exists%s)", p->skipped, p->skipped == 1 ? "" : "s",
               p->duplicates ? "; some listed twice, run once" : "");
    else if (p->duplicates)
        printf(" (%ld listed twice, by two blocks or both scaling modes, run once)",
               p->duplicates);
    printf("; %d warm-up step%s each, excluded from the figures; %d repetition%s\n", o->warmup,
           o->warmup == 1 ? "" : "s", o->reps, o->reps == 1 ? "" : "s");
    if (o->sampling.max_noise > 0)
        printf("sampling: each configuration until its median is within %g%% (95%% "
               "confidence), at least %ld steps, at most %g s or its planned length\n",
               o->sampling.max_noise, o->sampling.min_steps, o->sampling.max_time);
    fflush(stdout);
}

static void sweep_free(struct sweep *s)
{
    rundir_close(&s->dir);
    plan_free(&s->plan);
    data_free(&s->data);
    reference_cache_free(&s->refs);
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
        st = sweep_write_summary(s);
    if (st == CNN_OK)
        st = sweep_write_meta(s);
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
    CNN_TRY(sweep_plan(o, &s.plan, usage));
    cnn_status st = sweep_ranks_check(&s);
    if (st != CNN_OK) {
        *usage = st == CNN_E_ARG;
        plan_free(&s.plan);
        return st;
    }
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
    st = s.rows && s.have && s.done && s.config_keys
             ? CNN_OK : cnn_fail(CNN_E_NOMEM, "cannot allocate the sweep");
    for (int i = 0; st == CNN_OK && i < s.plan.n; i++)
        s.config_keys[i] = s.plan.configs[i].key;
    meta_probe_machine(&s.machine);
    char started[64];
    meta_utc_now(started, sizeof started);
    s.meta = (struct meta_run){
        .command = "sweep", .argc = argc, .argv = argv, .state = "running",
        .started_utc = started, .preset = o->preset, .scaling = sweep_ranks_scaling(&s),
        .seed = o->seed, .lr = o->lr,
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
        st = sweep_resume_begin(&s, resume_meta);
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
                work += sweep_config_steps(c, o->by_epochs, s.data.train_n) *
                        run_step_flop(c->batch, c->filters);
            }
        if (resume_meta)
            printf("resuming %s: %d configuration%s left\n", s.dir.path, remaining,
                   remaining == 1 ? "" : "s");
        else
            printf("results: %s\n", s.dir.path);
        fflush(stdout);
        interrupt_install();
        int tracing;
        st = sweep_trace_start(&s, &tracing);
        progress_begin(&s.progress, s.plan.n, work);
        for (int i = 0; i < s.plan.n && st == CNN_OK; i++) {
            if (s.done[i])
                continue;
            if (interrupt_flag)
                st = cnn_fail(CNN_E_INTERRUPTED, "interrupted between configurations");
            else
                st = sweep_run_config(&s, i);
        }
        double seconds = progress_end(&s.progress);
        cnn_status tst = sweep_trace_finish(&s, tracing);
        if (tst != CNN_OK && (st == CNN_OK || st == CNN_E_INTERRUPTED))
            st = tst;
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
        cnn_status mst = sweep_write_meta(&s);
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
            st = sweep_resume_read_meta(locked.path, &meta_text, &stored, &n_stored);
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

