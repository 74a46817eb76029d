/*
 * report.c — `cnnbench report RUN_DIR`: writes RUN_DIR/REPORT.md, a page a
 * reader can judge the run by: the machine and build (from meta.json), the
 * summary table (from summary.csv, failed configurations included) with
 * every figure of an unstable configuration marked, a section saying why
 * each is unstable, the scaling over MPI ranks with its efficiency, and
 * every chart plots/render.sh produced, each with a
 * caption saying what it shows and how it was measured.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends.h"
#include "commands.h"
#include "error.h"
#include "fileio.h"
#include "json.h"
#include "meta.h"
#include "report.h"
#include "run.h"
#include "scaling.h"
#include "summary.h"

/* Follows every figure computed from an unstable configuration's times. */
#define UNSTABLE_MARK "⚠"

/* The machine's load around the run, from meta.json. */
struct run_load {
    double start, end;  /* 1-min load average; NaN: not recorded (older runs) */
    long cpus;
};

static void read_load(const char *meta, struct run_load *load)
{
    double cpus = 0;
    if (json_get_number(meta, "load_1min_start", &load->start) != 0)
        load->start = NAN;
    if (json_get_number(meta, "load_1min_end", &load->end) != 0)
        load->end = NAN;
    json_get_number(meta, "host.online_cpus", &cpus);
    load->cpus = (long)cpus;
}

/* 0 for NULL (no such row) and for a failed configuration, which has no figures. */
static int row_unstable(const struct summary_row *r)
{
    return r && strcmp(r->status, "ok") == 0 && summary_unstable(&r->t, r->max_noise_pct) == 1;
}

static const char report_help[] =
    "Usage: cnnbench report RUN_DIR\n"
    "\n"
    "Writes RUN_DIR/REPORT.md: machine, summary table and every chart found in\n"
    "RUN_DIR/plots/. plots/render.sh renders the charts and then runs this.\n";

struct chart {
    const char *name;    /* plots/<name>.png */
    const char *title;
    const char *caption;
};

static const struct chart charts[] = {
    {"speedup_threads", "Speedup vs threads",
     "Median step time at 1 thread divided by the median at p threads, same backend and size; "
     "the dashed line is ideal linear scaling. Bars span the interquartile range."},
    {"scaling_gpus", "Throughput vs GPUs",
     "Images per second of data-parallel training (cnnbench --gpus N: each GPU a B/N share of "
     "the batch, gradients summed by an NCCL all-reduce) against the number of GPUs, one curve "
     "per batch size; the dashed line of each is N times its one-GPU throughput. Bars span the "
     "interquartile range."},
    {"scaling_ranks_strong", "Throughput vs MPI ranks, strong scaling",
     "Images per second of data-parallel training over N MPI ranks (sweep --ranks: each "
     "configuration run as mpirun -np N cnnbench train, each rank a B/N share of the global "
     "batch B, gradients summed in a fixed order), one curve per backend and batch size, and "
     "one process with T threads on the same axis where the run has it; dashed: N (or T) times "
     "the 1-rank (1-thread) throughput. Bars span the interquartile range."},
    {"scaling_ranks_weak", "Throughput vs MPI ranks, weak scaling",
     "Images per second over N MPI ranks at b images per rank (global batch N x b), one curve "
     "per backend and b; dashed: N times the 1-rank throughput at batch b. Bars span the "
     "interquartile range."},
    {"speedup_filters", "Speedup vs filters",
     "Median step time of seq divided by each implementation's, at the batch size named in the "
     "title. Bars span the interquartile range."},
    {"speedup_batch", "Speedup vs batch size",
     "Median step time of seq divided by each implementation's, at the filter count named in "
     "the title."},
    {"time_vs_params", "Step time vs number of parameters",
     "The original project's headline chart: median time of one training step against the "
     "parameter count 10*(1+169F)+10F, log-log. Bars span the interquartile range."},
    {"breakdown_share", "Where a step's time goes",
     "Share of each timed region in the sum of the regions' median times, per implementation, "
     "at the size named in the title (the total median step time is in each label)."},
    {"step_times", "Distribution of step times",
     "Box plot of every timed step (warm-up excluded): box = interquartile range, line = "
     "median, whiskers = 1.5 IQR."},
    {"roofline", "Roofline",
     "Achieved FLOP/s of every region of every configuration against its arithmetic "
     "intensity (FLOP per byte of the work model in docs/DESIGN.md §7), log-log, under the "
     "machine's ceilings: the CPU's measured by bench/peak_flops on this machine (solid: FMA "
     "peak and streaming-read bandwidth; dashed: multiply and add rounded apart, the ceiling of "
     "code bitwise equal to seq), a GPU's from its datasheet, labelled nominal. The Roofline "
     "section above gives each region's bound and fraction."},
    {"energy", "Energy per image vs throughput",
     "Images per joule against images per second, one point per configuration and measured "
     "device (RAPL for the CPU, NVML for the GPU), log-log; bars span the interquartile range "
     "of the step time. Only measured figures are drawn."},
    {"learning", "Loss and test accuracy vs step",
     "Batch loss of every step and test-set accuracy at each evaluation, all implementations "
     "overlaid: they train the same function from the same start, so the curves coincide."},
    {"filters", "Learned conv filters",
     "The 3x3 filters of the showcase configuration after training, each scaled to its largest "
     "|weight| (red positive, blue negative)."},
    {"feature_maps", "Feature maps of one test digit",
     "The digit and its F pooled maps after conv + bias + ReLU + 2x2 max-pool, computed on the "
     "host from the exported parameters, each map scaled to its own maximum."},
};

static void meta_text_field(const char *meta, const char *key, char *out, size_t len)
{
    if (json_get_string(meta, key, out, len) != 0)
        snprintf(out, len, "unknown");
}

static void write_machine(FILE *fp, const char *meta, const struct run_load *load)
{
    char a[512], b[256], c[256], d[256];
    fputs("## Machine and build\n\n| | |\n|---|---|\n", fp);
    meta_text_field(meta, "host.cpu_model", a, sizeof a);
    double cpus = 0;
    json_get_number(meta, "host.online_cpus", &cpus);
    meta_text_field(meta, "host.governor", b, sizeof b);
    meta_text_field(meta, "host.turbo", c, sizeof c);
    fprintf(fp, "| CPU | %s, %d online CPUs, governor %s, turbo %s |\n", a, (int)cpus, b, c);
    meta_text_field(meta, "gpu_name", a, sizeof a);
    if (strcmp(a, "none") != 0) {
        meta_text_field(meta, "gpus.0.driver", b, sizeof b);
        meta_text_field(meta, "cuda_version", c, sizeof c);
        meta_text_field(meta, "gpus.0.max_sm_clock", d, sizeof d);
        fprintf(fp, "| GPU | %s, driver %s, CUDA %s, max SM clock %s |\n", a, b, c, d);
    } else {
        fputs("| GPU | none |\n", fp);
    }
    meta_text_field(meta, "host.hostname", a, sizeof a);
    meta_text_field(meta, "host.os", b, sizeof b);
    fprintf(fp, "| host | %s, %s |\n", a, b);
    meta_text_field(meta, "build.c_compiler", a, sizeof a);
    meta_text_field(meta, "build.buildtype", b, sizeof b);
    meta_text_field(meta, "build.flags", c, sizeof c);
    fprintf(fp, "| build | %s, %s, %s |\n", a, b, c);
    meta_text_field(meta, "git.sha", a, sizeof a);
    meta_text_field(meta, "git.dirty", b, sizeof b);
    fprintf(fp, "| git | %s (uncommitted changes: %s) |\n", a, b);
    meta_text_field(meta, "started_utc", a, sizeof a);
    meta_text_field(meta, "finished_utc", b, sizeof b);
    meta_text_field(meta, "state", c, sizeof c);
    fprintf(fp, "| run | %s to %s, %s |\n", a, b, c);
    if (isnan(load->start) && isnan(load->end))
        fputs("| load | not recorded |\n", fp);
    else
        fprintf(fp, "| load | 1-min load average %.2f at the start, %.2f at the end, on %ld "
                "online CPUs |\n", load->start, load->end, load->cpus);
    char **argv;
    int argc = json_get_string_array(meta, "argv", &argv);
    fputs("| command | `cnnbench sweep", fp);
    for (int i = 0; i < argc; i++)
        fprintf(fp, " %s", argv[i]);
    fputs("` |\n", fp);
    if (argc > 0)
        json_free_strings(argv, argc);
    meta_text_field(meta, "data.spec", a, sizeof a);
    double train = 0, test = 0;
    json_get_number(meta, "data.train_images", &train);
    json_get_number(meta, "data.test_images", &test);
    meta_text_field(meta, "settings.seed", b, sizeof b);
    double lr = 0, warmup = 0;
    json_get_number(meta, "settings.lr", &lr);
    json_get_number(meta, "settings.warmup_steps", &warmup);
    fprintf(fp, "| data | %s: %.0f training / %.0f test images; seed %s, lr %g, "
            "%.0f warm-up steps per configuration |\n\n", a, train, test, b, lr, warmup);
}

/* A table cell: v in fmt, followed by the unstable marker when marked. */
static void cell(FILE *fp, const char *fmt, double v, int marked)
{
    if (isnan(v))
        fputs(" |", fp);
    else {
        fputc(' ', fp);
        fprintf(fp, fmt, v);
        fputs(marked ? " " UNSTABLE_MARK " |" : " |", fp);
    }
}

static void write_table(FILE *fp, const struct summary_row *rows, int n)
{
    int n_unstable = 0;
    for (int i = 0; i < n; i++)
        n_unstable += row_unstable(&rows[i]);
    fputs("## Summary\n\nTimes are medians over the timed steps of each configuration; "
          "noise is the half-width of the median's 95% confidence interval, relative to the "
          "median (results/README.md documents every column of summary.csv).", fp);
    if (n_unstable > 0)
        fprintf(fp, " " UNSTABLE_MARK " marks the figures of the %d unstable configuration%s: "
                "see [Unstable figures](#unstable-figures).", n_unstable,
                n_unstable == 1 ? "" : "s");
    fputs("\n\n| configuration | median ms | noise ±% | IQR ms | images/s | GFLOP/s | vs seq "
          "| vs omp t1 | final loss | test acc % | verified | status |\n"
          "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n", fp);
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &rows[i];
        int timed = r->t.n > 0 && r->t.median > 0;
        int u = row_unstable(r);
        double s = r->t.median / 1e3;
        fprintf(fp, "| `%s` |", r->key);
        cell(fp, "%.3f", timed ? r->t.median : NAN, u);
        cell(fp, "%.2f", timed ? r->t.noise_pct : NAN, u);
        cell(fp, "%.3f", timed ? r->t.q3 - r->t.q1 : NAN, u);
        cell(fp, "%.0f", timed ? r->batch / s : NAN, u);
        cell(fp, "%.2f", timed ? run_step_flop(r->batch, r->filters) / s / 1e9 : NAN, u);
        /* a speedup is as unstable as the less stable of its two times */
        const struct summary_row *seq =
            summary_baseline(rows, n, r, backends_name_with_cap(CNN_CAP_REFERENCE), -1);
        const struct summary_row *omp1 =
            summary_baseline(rows, n, r, backends_name_with_cap(CNN_CAP_THREAD_BASELINE), 1);
        cell(fp, "%.2f", timed && seq ? seq->t.median / r->t.median : NAN,
             u || row_unstable(seq));
        cell(fp, "%.2f", timed && omp1 ? omp1->t.median / r->t.median : NAN,
             u || row_unstable(omp1));
        cell(fp, "%.4f", r->final_loss, 0);
        cell(fp, "%.2f", r->test_accuracy_pct, 0);
        fprintf(fp, " %s | %s%s%s |\n", r->verified, r->status, *r->message ? ": " : "",
                r->message);
    }
    fputc('\n', fp);
}

/* Why each unstable configuration is marked, and what the marks mean. */
static void write_unstable(FILE *fp, const struct summary_row *rows, int n,
                           const struct run_load *load)
{
    int n_unstable = 0;
    for (int i = 0; i < n; i++)
        n_unstable += row_unstable(&rows[i]);
    if (n_unstable == 0)
        return;
    fprintf(fp, "## Unstable figures\n\nA configuration is unstable when its step times' "
            "coefficient of variation exceeds %.0f%% (the machine was busy, throttling, or "
            "single steps strayed far), or when `--max-noise` was given and the noise of its "
            "median stayed above the target (sampling stopped at `--max-time` or at the step "
            "cap). Its median may be off by more than the noise column says, and so may every "
            "figure computed from it, speedups against it included; rerun on a quiet machine, "
            "or with `--max-noise`. The load is the machine's 1-minute load average at the "
            "start and end of the run.\n\n", 100.0 * SUMMARY_UNSTABLE_CV);
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &rows[i];
        if (!row_unstable(r))
            continue;
        char why[512];
        summary_unstable_reason(why, sizeof why, &r->t, r->max_noise_pct, load->start,
                                load->end, load->cpus);
        fprintf(fp, "- " UNSTABLE_MARK " `%s`: %s", r->key, why);
        if (*r->stop && r->max_noise_pct > 0)
            fprintf(fp, "; sampling stopped: %s after %ld steps", r->stop, r->t.n);
        fputs("\n", fp);
    }
    fputc('\n', fp);
}

/* The scaling curves over ranks with their efficiency (scaling.h). */
static cnn_status write_scaling(FILE *fp, const char *meta, const struct summary_row *rows,
                                int n)
{
    char mode[16] = "";
    json_get_string(meta, "settings.scaling", mode, sizeof mode);
    int modes = scaling_modes(mode);
    if (!modes)
        return CNN_OK;
    struct summary_row *ok = malloc((size_t)(n > 0 ? n : 1) * sizeof *ok);
    if (!ok)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the scaling rows");
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].status, "ok"))
            ok[m++] = rows[i];
    struct scaling sc;
    cnn_status st = scaling_build(ok, m, modes, &sc);
    if (st == CNN_OK && sc.n_curves > 0) {
        fputs("## Scaling over MPI ranks\n\nImages per second at the median step time; the "
              "ideal is N (ranks, or threads of one process) times the throughput of the "
              "curve's first point, and the efficiency is the throughput over the ideal. "
              "Strong scaling keeps the global batch B, weak scaling b images per rank.\n\n"
              "| curve | scaling | N | batch | images/s | ideal | efficiency |\n"
              "|---|---|--:|--:|--:|--:|--:|\n", fp);
        static const char *const kinds[] = {"strong", "weak", "strong (threads)"};
        for (int c = 0; c < sc.n_curves; c++)
            for (int i = sc.curves[c].first; i < sc.curves[c].first + sc.curves[c].count; i++) {
                const struct scaling_point *p = &sc.points[i];
                fprintf(fp, "| %s | %s | %d | %d |", sc.curves[c].name,
                        kinds[sc.curves[c].kind], p->x, p->batch);
                cell(fp, "%.0f", p->ips, p->unstable);
                cell(fp, "%.0f", p->ideal, p->unstable);
                cell(fp, "%.2f", p->ips / p->ideal, p->unstable);
                fputc('\n', fp);
            }
        fputc('\n', fp);
    }
    scaling_free(&sc);
    free(ok);
    return st;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static int chart_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void write_chart(FILE *fp, const char *name, const char *title, const char *caption)
{
    fprintf(fp, "### %s\n\n![%s](plots/%s.png)\n\n%s ([SVG](plots/%s.svg))\n\n", title, title,
            name, caption, name);
}

/* The per-implementation breakdowns, breakdown_<impl>.png, in name order. */
static void write_breakdowns(FILE *fp, const char *run)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/plots", run);
    DIR *d = opendir(path);
    if (!d)
        return;
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "breakdown_", 10) != 0 || len < 5 ||
            strcmp(e->d_name + len - 4, ".png") != 0 || !strcmp(e->d_name, "breakdown_share.png"))
            continue;
        names[n] = strdup(e->d_name);
        if (names[n])
            names[n++][len - 4] = '\0';
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, chart_cmp);
    for (int i = 0; i < n; i++) {
        char title[128];
        snprintf(title, sizeof title, "Region times of %s vs filters", names[i] + 10);
        write_chart(fp, names[i], title,
                    "Median time of each region, stacked, for each filter count at the batch "
                    "size named in the title.");
        free(names[i]);
    }
}

static cnn_status report_run(const char *run)
{
    char path[4200];
    char *meta;
    snprintf(path, sizeof path, "%s/meta.json", run);
    CNN_TRY(meta_read(path, &meta));
    struct summary_row *rows = NULL;
    int n = 0;
    snprintf(path, sizeof path, "%s/summary.csv", run);
    cnn_status st = summary_read_run(path, &rows, &n);
    struct cnn_atomic_file f;
    snprintf(path, sizeof path, "%s/REPORT.md", run);
    if (st == CNN_OK)
        st = cnn_atomic_open(&f, path);
    if (st == CNN_OK) {
        char id[256];
        meta_text_field(meta, "run_id", id, sizeof id);
        fprintf(f.fp, "# cnnbench run %s\n\n", id);
        fputs("One small CNN (3x3 conv + ReLU + 2x2 max-pool, FC to 10 classes, softmax "
              "cross-entropy, SGD) trained by interchangeable implementations; every "
              "implementation other than seq was checked against seq before it was timed.\n\n",
              f.fp);
        struct run_load load;
        read_load(meta, &load);
        write_machine(f.fp, meta, &load);
        write_table(f.fp, rows, n);
        write_unstable(f.fp, rows, n, &load);
        report_energy(f.fp, meta, rows, n);
        snprintf(path, sizeof path, "%s/meta.json", run);
        st = report_roofline(f.fp, run, path, meta, rows, n);
        if (st == CNN_OK)
            st = write_scaling(f.fp, meta, rows, n);
        fputs("## Charts\n\n", f.fp);
        int drawn = 0;
        for (size_t i = 0; i < sizeof charts / sizeof *charts; i++) {
            snprintf(path, sizeof path, "%s/plots/%s.png", run, charts[i].name);
            if (!file_exists(path))
                continue;
            write_chart(f.fp, charts[i].name, charts[i].title, charts[i].caption);
            drawn++;
            if (!strcmp(charts[i].name, "breakdown_share"))
                write_breakdowns(f.fp, run);
        }
        if (!drawn)
            fputs("No charts found: run plots/render.sh on this directory.\n", f.fp);
        if (st == CNN_OK)
            st = ferror(f.fp) ? cnn_fail(CNN_E_IO, "%s: write failed", f.path) : CNN_OK;
        if (st == CNN_OK)
            st = cnn_atomic_commit(&f);
        else
            cnn_atomic_abort(&f);
    }
    free(rows);
    free(meta);
    return st;
}

enum cli_outcome report_command(int argc, char **argv)
{
    const char *run = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(report_help, stdout);
            return CLI_DONE;
        }
        if (argv[i][0] == '-' || run) {
            cnn_fail(CNN_E_ARG, "unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
        run = argv[i];
    }
    if (!run) {
        cnn_fail(CNN_E_ARG, "which run? give its directory, e.g. results/<run-id>");
        return CLI_USAGE;
    }
    if (report_run(run) != CNN_OK)
        return CLI_FAILED;
    printf("wrote %s/REPORT.md\n", run);
    return CLI_DONE;
}
