/*
 * sweep_ranks.c — the configurations of a ranks axis (plan.h): each runs as
 *
 *   MPIRUN -np N [--mpirun-args words] CNNBENCH train <its options> --csv F
 *
 * with this very cnnbench binary, and its steps are read back from F into
 * the run_result the in-process path fills, so summary.csv, steps.csv, the
 * showcase and --resume treat it like any other configuration.
 *
 * Why a child job, not the sweep inside mpirun: the sweep stays one process
 * that owns the run directory (its lock, atomic rewrites and resume), and
 * every point of a scaling curve, N = 1 included, is measured the same way:
 * a fresh `train` under the launcher, timed by its rank 0 (whose step
 * includes waiting for the slowest rank in the gradient sum).
 *
 * No shell: the argument vector is built here and handed to execv, so no
 * option value is ever parsed as shell code. The child gets its own process
 * group, and the sweep forwards the signal that interrupts it (Ctrl-C,
 * SIGTERM) to the launcher exactly once; the launcher passes it to the
 * ranks, whose train stops at a step boundary and writes the steps it
 * finished. Its output goes to a log beside the CSV; the last error line
 * becomes the configuration's message when it fails. The child's files are
 * hidden (.np-*) in the run directory and removed once read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cnnbench_config.h"
#include "error.h"
#include "interrupt.h"
#include "npy.h"
#include "params.h"
#include "runfile.h"
#include "sweep.h"

/* Open MPI's default binds each rank to one core when it starts two or
 * fewer, which would squeeze a rank's threads onto one core; unbound ranks
 * are placed by the kernel, as the threads of one process are. */
static const char default_mpirun_args[] = "--bind-to none";

enum { ARGV_MAX = 96 };

/* An executable path for name: itself when it holds a '/', else the first
 * match on PATH. */
static int find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, name) < len &&
            access(out, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

static int plan_has_ranks(const struct plan *p)
{
    for (int i = 0; i < p->n; i++)
        if (p->configs[i].ranks > 0)
            return 1;
    return 0;
}

const char *sweep_ranks_scaling(const struct sweep *s)
{
    if (!plan_has_ranks(&s->plan))
        return NULL;
    switch (s->o->scaling) {
    case PLAN_WEAK: return "weak";
    case PLAN_STRONG | PLAN_WEAK: return "both";
    default: return "strong"; /* the default, and the scaling preset's */
    }
}

cnn_status sweep_ranks_check(struct sweep *s)
{
    const struct sweep_opts *o = s->o;
    if (!plan_has_ranks(&s->plan)) {
        if (o->scaling || o->mpirun || o->mpirun_args)
            return cnn_fail(CNN_E_ARG, "--scaling, --mpirun and --mpirun-args need --ranks");
        return CNN_OK;
    }
    if (!CNN_HAVE_MPI)
        return cnn_fail(CNN_E_UNAVAILABLE, "--ranks: this cnnbench was built without MPI "
                        "(meson feature 'mpi'; Debian: libopenmpi-dev), so `train` cannot run "
                        "under mpirun");
    if (o->cupti)
        return cnn_fail(CNN_E_ARG, "--cupti traces this process's kernels; configurations with "
                        "--ranks run in mpirun's processes");
    if (o->eval || o->eval_every > 0)
        return cnn_fail(CNN_E_ARG, "--eval and --eval-every cannot be combined with --ranks: "
                        "`train --csv` records the steps, not the evaluations");
    if (o->sampling.max_noise > 0)
        return cnn_fail(CNN_E_ARG, "--max-noise cannot be combined with --ranks: give the "
                        "steps (--steps or --epochs)");
    for (int i = 0; i < s->plan.n; i++)
        if (s->plan.configs[i].ranks > 0 && s->plan.configs[i].gpus > 0)
            return cnn_fail(CNN_E_ARG, "--ranks and --gpus N >= 1 are exclusive: under "
                            "mpirun, each rank drives one GPU");
    const char *name = o->mpirun ? o->mpirun : "mpirun";
    if (!find_program(name, s->launch.mpirun, sizeof s->launch.mpirun))
        return cnn_fail(CNN_E_UNAVAILABLE, "--ranks: %s%s not found%s", name,
                        strchr(name, '/') ? " is not an executable:" : "",
                        strchr(name, '/') ? "" : " on PATH (Debian package openmpi-bin; "
                        "scripts/setup.sh installs it), or name it with --mpirun");
    ssize_t n = readlink("/proc/self/exe", s->launch.self, sizeof s->launch.self - 1);
    if (n <= 0 || (size_t)n >= sizeof s->launch.self - 1)
        return cnn_fail(CNN_E_IO, "--ranks: cannot find this cnnbench's own path "
                        "(/proc/self/exe): %s", n < 0 ? strerror(errno) : "too long");
    s->launch.self[n] = '\0';
    return CNN_OK;
}

/* The argument vector of the child job, in words[] with their text in
 * text[]; NULL-terminated. */
struct child_argv {
    char *v[ARGV_MAX + 1];
    int n;
    char text[8192];
    size_t used;
    char args[1024]; /* --mpirun-args, split in place */
};

static cnn_status add(struct child_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static cnn_status add(struct child_argv *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->text + a->used, sizeof a->text - a->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof a->text - a->used || a->n == ARGV_MAX)
        return cnn_fail(CNN_E_ARG, "the mpirun command line is too long");
    a->v[a->n++] = a->text + a->used;
    a->v[a->n] = NULL;
    a->used += (size_t)n + 1;
    return CNN_OK;
}

/* The words of --mpirun-args, split at blanks (no quoting: no shell). */
static cnn_status add_mpirun_args(struct child_argv *a, const char *args)
{
    if (strlen(args) >= sizeof a->args)
        return cnn_fail(CNN_E_ARG, "--mpirun-args: longer than %zu characters",
                        sizeof a->args - 1);
    strcpy(a->args, args);
    for (char *w = strtok(a->args, " \t"); w; w = strtok(NULL, " \t"))
        CNN_TRY(add(a, "%s", w));
    return CNN_OK;
}

static cnn_status build_argv(const struct sweep *s, const struct plan_config *c, long steps,
                             const char *csv, const char *params, struct child_argv *a)
{
    const struct sweep_opts *o = s->o;
    a->n = 0;
    a->used = 0;
    CNN_TRY(add(a, "%s", s->launch.mpirun));
    CNN_TRY(add(a, "-np"));
    CNN_TRY(add(a, "%d", c->ranks));
    CNN_TRY(add_mpirun_args(a, o->mpirun_args ? o->mpirun_args : default_mpirun_args));
    CNN_TRY(add(a, "%s", s->launch.self));
    CNN_TRY(add(a, "train"));
    CNN_TRY(add(a, "--impl=%s", c->be->name));
    CNN_TRY(add(a, "--batch=%d", c->batch));
    CNN_TRY(add(a, "--filters=%d", c->filters));
    CNN_TRY(add(a, "--steps=%ld", steps));
    if (c->threads > 0)
        CNN_TRY(add(a, "--threads=%d", c->threads));
    if (c->variant > 0)
        CNN_TRY(add(a, "--variant=%d", c->variant));
    CNN_TRY(add(a, "--lr=%.17g", o->lr));
    CNN_TRY(add(a, "--seed=%" PRIu64, o->seed));
    CNN_TRY(add(a, "--data=%s", o->data));
    CNN_TRY(add(a, "--shuffle=%s", o->shuffle ? "on" : "off"));
    CNN_TRY(add(a, "--warmup=%d", o->warmup));
    if (!o->verify)
        CNN_TRY(add(a, "--no-verify"));
    CNN_TRY(add(a, "--print-every=%ld", steps));
    CNN_TRY(add(a, "--csv=%s", csv));
    if (params)
        CNN_TRY(add(a, "--save-params=%s", params));
    return CNN_OK;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Runs the child job to its end; *status is waitpid's. */
static cnn_status launch(const struct child_argv *a, const char *log, int *status)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return cnn_fail(CNN_E_IO, "%s: cannot create: %s", log, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return cnn_fail(CNN_E_IO, "cannot start %s: fork: %s", a->v[0], strerror(errno));
    }
    if (pid == 0) {
        /* its own group: a terminal's Ctrl-C reaches the sweep, which
         * forwards it once, instead of reaching mpirun twice */
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        execv(a->v[0], a->v);
        dprintf(2, "cnnbench: error: cannot run %s: %s\n", a->v[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    int forwarded = 0;
    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return CNN_OK;
        if (w < 0 && errno != EINTR)
            return cnn_fail(CNN_E_IO, "waiting for %s: %s", a->v[0], strerror(errno));
        if (interrupt_flag && !forwarded) {
            kill(pid, (int)interrupt_flag);
            forwarded = 1;
        }
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
}

/* The last "error:" line of the child's log (the failing rank's, as train
 * prints it); else the first line of text (the launcher's own complaint,
 * which comes in a box of dashes); "" for an empty log. */
static void last_error(const char *log, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *fp = fopen(log, "r");
    if (!fp)
        return;
    char line[1024], first[1024] = "";
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *e = strstr(line, "error: ");
        if (e)
            snprintf(buf, len, "%s", e + 7);
        else if (!first[0] && line[strspn(line, "- \t")])
            snprintf(first, sizeof first, "%s", line);
    }
    fclose(fp);
    if (!buf[0])
        snprintf(buf, len, "%s", first);
}

/* Column index of name in the header, or a failure naming the file. */
static cnn_status column(const struct runfile *f, const char *name, int *at)
{
    *at = runfile_column(f, name);
    if (*at < 0)
        return cnn_fail(CNN_E_DATA, "%s: no column '%s'", f->path, name);
    return CNN_OK;
}

static cnn_status region_of(const char *path, long line, const char *name, int *region)
{
    if (!strcmp(name, "step")) {
        *region = -1;
        return CNN_OK;
    }
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        if (!strcmp(name, cnn_region_name((enum cnn_region)r))) {
            *region = r;
            return CNN_OK;
        }
    return cnn_fail(CNN_E_DATA, "%s: line %ld: unknown region '%s'", path, line, name);
}

static cnn_status parse_number(const char *path, long line, const char *what, const char *text,
                               double *v)
{
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(*v))
        return cnn_fail(CNN_E_DATA, "%s: line %ld: %s '%s' is not a number", path, line, what,
                        text);
    return CNN_OK;
}

/* One record of the child's CSV into r->steps[step - 1]. */
static cnn_status read_record(const char *path, long line, char **f, const int *col,
                              const struct plan_config *c, long steps, struct run_result *r)
{
    enum { STEP, REGION, TIME, LOSS, ACC, RANKS };
    double step, ms, loss, acc, ranks;
    int region = -1;
    CNN_TRY(parse_number(path, line, "step", f[col[STEP]], &step));
    if (step != floor(step) || step < 1 || step > steps)
        return cnn_fail(CNN_E_DATA, "%s: line %ld: step %s of %ld planned", path, line,
                        f[col[STEP]], steps);
    if (col[RANKS] >= 0) {
        CNN_TRY(parse_number(path, line, "ranks", f[col[RANKS]], &ranks));
        if (ranks != c->ranks)
            return cnn_fail(CNN_E_DATA, "%s: line %ld: the job ran as %s ranks, not %d: is "
                            "this the mpirun of the MPI library cnnbench was built with?",
                            path, line, f[col[RANKS]], c->ranks);
    }
    CNN_TRY(region_of(path, line, f[col[REGION]], &region));
    CNN_TRY(parse_number(path, line, "time_ms", f[col[TIME]], &ms));
    CNN_TRY(parse_number(path, line, "loss", f[col[LOSS]], &loss));
    CNN_TRY(parse_number(path, line, "batch_accuracy_pct", f[col[ACC]], &acc));
    struct run_step *rec = &r->steps[(long)step - 1];
    if (region < 0)
        rec->step_ms = ms;
    else
        rec->region_ms[region] = ms;
    rec->loss = loss;
    /* written as 100 * correct / B to 4 decimals: exact after rounding for
     * any B up to CNN_MAX_BATCH */
    rec->correct = (int)lround(acc * c->batch / 100.0);
    if ((long)step > r->done)
        r->done = (long)step;
    return CNN_OK;
}

/* Reads the child's steps.csv-schema file into r: steps 1..done, each with
 * its "step" row. */
static cnn_status read_steps(const char *path, const struct plan_config *c, long steps,
                             struct run_result *r)
{
    /* the child's own file, complete once it exited: a cut-off line is an error */
    const struct runfile_rules rules = {.voice = RUNFILE_FIELDS, .whole = 1};
    struct runfile f;
    CNN_TRY(runfile_open(&f, path, &rules));
    r->steps = malloc((size_t)steps * sizeof *r->steps);
    if (!r->steps) {
        runfile_close(&f);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %ld step records", steps);
    }
    r->steps_alloc = steps;
    for (long k = 0; k < steps; k++) {
        r->steps[k].step_ms = -1;
        for (int g = 0; g < CNN_REGION_COUNT; g++)
            r->steps[k].region_ms[g] = -1;
    }
    static const char *const names[] = {"step", "region", "time_ms", "loss",
                                        "batch_accuracy_pct"};
    int col[6], more = 1;
    cnn_status st = CNN_OK;
    for (int k = 0; k < 5 && st == CNN_OK; k++)
        st = column(&f, names[k], &col[k]);
    col[5] = runfile_column(&f, "ranks");
    while (st == CNN_OK && (st = runfile_next(&f, &more)) == CNN_OK && more)
        st = read_record(path, f.line, f.field, col, c, steps, r);
    for (long k = 0; st == CNN_OK && k < r->done; k++)
        if (r->steps[k].step_ms < 0)
            st = cnn_fail(CNN_E_DATA, "%s: step %ld has no 'step' row", path, k + 1);
    runfile_close(&f);
    return st;
}

/* Removes the child's files: the CSV, the log and the parameters. */
static void remove_child_files(const char *csv, const char *log, const char *params)
{
    static const char *const npy[] = {"conv_w.npy", "conv_b.npy", "fc_w.npy", "fc_b.npy"};
    unlink(csv);
    unlink(log);
    char path[4300];
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", params, npy[k]);
        unlink(path);
    }
    rmdir(params);
}

cnn_status sweep_ranks_run(struct sweep *s, int i, long steps, int keep_final,
                           struct run_result *r)
{
    const struct plan_config *c = &s->plan.configs[i];
    char csv[4200], log[4200], params[4200], name[64];
    snprintf(name, sizeof name, ".np-%d.csv", i);
    rundir_path(csv, sizeof csv, s->dir.path, name);
    snprintf(name, sizeof name, ".np-%d.log", i);
    rundir_path(log, sizeof log, s->dir.path, name);
    snprintf(name, sizeof name, ".np-%d.params", i);
    rundir_path(params, sizeof params, s->dir.path, name);
    remove_child_files(csv, log, params); /* left by a run that was killed */

    struct child_argv *a = malloc(sizeof *a);
    if (!a)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the mpirun command line");
    double start = now_s();
    int status = 0;
    cnn_status st = build_argv(s, c, steps, csv, keep_final ? params : NULL, a);
    if (st == CNN_OK)
        st = launch(a, log, &status);
    free(a);
    r->wall_s = now_s() - start;
    if (st != CNN_OK)
        return st;

    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char why[768];
    last_error(log, why, sizeof why);
    if (interrupt_flag) {
        /* the steps the ranks finished, if they wrote them before stopping */
        if (read_steps(csv, c, steps, r) != CNN_OK)
            r->done = 0;
        st = cnn_fail(CNN_E_INTERRUPTED, "interrupted");
    } else if (code != 0) {
        st = cnn_fail(code == CLI_EXIT_DIVERGED ? CNN_E_DIVERGED : CNN_E_DATA,
                      "mpirun -np %d ... train exited with status %d%s%s", c->ranks, code,
                      *why ? ": " : "", why);
    } else {
        st = read_steps(csv, c, steps, r);
        if (st == CNN_OK && r->done != steps)
            st = cnn_fail(CNN_E_DATA, "mpirun -np %d: %ld of %ld steps in its CSV", c->ranks,
                          r->done, steps);
        r->stop = st == CNN_OK ? RUN_STOP_STEPS : RUN_STOP_NONE;
        r->verified = st == CNN_OK && s->o->verify;
        if (st == CNN_OK && keep_final)
            st = cnn_params_alloc(&r->final, c->filters);
        if (st == CNN_OK && keep_final)
            st = cnn_params_load(params, &r->final);
    }
    remove_child_files(csv, log, params);
    return st;
}
