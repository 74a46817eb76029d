/*
 * microbench.c — the per-layer micro-benchmarks: every built backend x timed
 * region x (batch, filters) shape, for each kernel variant and for 1 thread
 * and all cores, timed in isolation by Google Benchmark through the C shim
 * (gbench_shim.h). One binary verifies and measures, as dav1d's checkasm:
 *
 *   microbench --verify-only [--backend NAME]...     check, time nothing
 *   microbench [--backend NAME]... [--out FILE.json] [--benchmark_...]
 *
 * Case names: BACKEND[/vVARIANT][/tTHREADS]/REGION/B:BATCH/F:FILTERS, then
 * Google Benchmark's /real_time or /manual_time.
 *
 * Verify, then time. A configuration (backend, variant, threads, shape) is
 * checked against seq, from identical inputs, before its first case is
 * timed:
 *   bit-exact  the inputs of impl/common/exact.h (integer pixels, small
 *              integer weights, injected dlogits) and lr 1/8 make every
 *              partial sum an exact dyadic, so the logits, gradients
 *              and updated parameters must equal seq's bit for bit (exact
 *              while partial sums stay below 2^24 units of their last place:
 *              bounded so for the default grid except dconv_w at B=1000,
 *              whose zero-mean terms keep it about 1000 sigma inside);
 *   one step   random pixels and N(0, 0.1^2) parameters: gradients and
 *              parameters within the agree.h tolerances, loss within 1e-5.
 * A mismatch fails every case of the configuration (SkipWithError) and the
 * exit status. The checks run in the very state that is then timed.
 *
 * Timing one region in isolation. A region reads what earlier regions left
 * in the state (fc_backward needs dlogits, conv_backward the argmax), so a
 * configuration's state first runs one full cnn_step, and a case then calls
 * its one region repeatedly. Every region is idempotent given its inputs
 * except update, which moves the parameters on each call: the same work, so
 * its timing stands, and the state is rebuilt with a fresh step before the
 * next case.
 *
 * Clocks. CPU backends: wall time (UseRealTime), because OpenMP threads work
 * outside the main thread's CPU time. CNN_CAP_DEVICE backends: the backend's
 * own timer_mark/timer_read (CUDA events), fed in as manual time. Events
 * resolve about 0.5 us, so a region shorter than MB_DEVICE_SPAN_MS is called
 * K times between one event pair, which counts as K iterations: the reported
 * time is per call (span / K).
 *
 * This file is main: it selects the backends, verifies or times the plan
 * and writes Google Benchmark's JSON; the other parts are listed in
 * microbench.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnnbench_config.h"
#include "error.h"
#include "gbench_shim.h"
#include "microbench.h"

/* ---- output file ---- */

/* mkdir -p of the directory part of path. */
static cnn_status mb_make_parent_dirs(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return cnn_fail(CNN_E_ARG, "--out: path too long");
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return CNN_OK;
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", dir, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    if (access(dir, W_OK) != 0)
        return cnn_fail(CNN_E_IO, "%s: not writable: %s", dir, strerror(errno));
    return CNN_OK;
}

/* Makes the file Google Benchmark wrote durable, then moves it into place.
 * An empty file (--benchmark_list_tests writes nothing) replaces nothing. */
static cnn_status mb_commit_output(const char *tmp, const char *path, int *written)
{
    *written = 0;
    int fd = open(tmp, O_RDONLY);
    if (fd < 0)
        return cnn_fail(CNN_E_IO, "%s: %s", tmp, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && sb.st_size == 0) {
        close(fd);
        unlink(tmp);
        return CNN_OK;
    }
    int synced = fsync(fd);
    close(fd);
    if (synced != 0 || rename(tmp, path) != 0) {
        cnn_status st = cnn_fail(CNN_E_IO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return st;
    }
    *written = 1;
    return CNN_OK;
}

/* ---- main ---- */

static int mb_fail(const char *what)
{
    fprintf(stderr, "microbench: error: %s%s%s\n", what, *what ? ": " : "", cnn_last_error());
    return MB_EXIT_FAILED;
}

/* Backends to run: those asked for (all built ones by default), validated;
 * those whose probe says unavailable are left out with a note. */
static cnn_status mb_select(const struct mb_options *opt, const struct cnn_backend **bes, int *n)
{
    *n = 0;
    int asked = opt->n_backends;
    for (int i = 0; asked ? i < asked : cnn_backends[i] != NULL; i++) {
        const struct cnn_backend *be = asked ? cnn_backend_find(opt->backends[i]) : cnn_backends[i];
        if (!be)
            return cnn_fail(CNN_E_ARG, "backend '%s' is not built", opt->backends[i]);
        CNN_TRY(cnn_backend_validate(be));
        cnn_status st = be->probe();
        if (st == CNN_E_UNAVAILABLE) {
            printf("microbench: %s skipped: %s\n", be->name, cnn_last_error());
            continue;
        }
        if (st != CNN_OK)
            return cnn_fail_context(st, "%s", be->name);
        if (*n == MB_MAX_BACKENDS)
            return cnn_fail(CNN_E_ARG, "at most %d backends", MB_MAX_BACKENDS);
        bes[(*n)++] = be;
    }
    return CNN_OK;
}

static int mb_verify_all(struct mb_plan *p)
{
    int failed = 0;
    for (int i = 0; i < p->n_configs; i++) {
        struct mb_config *cfg = &p->configs[i];
        char desc[128];
        mb_describe(cfg, desc, sizeof desc);
        /* A configuration that cannot run (a device allocation that does not
         * fit) fails, and the others are still checked. */
        if (mb_verify(cfg) != CNN_OK) {
            cfg->verdict = -1;
            snprintf(cfg->failure, sizeof cfg->failure, "cannot run: %s", cnn_last_error());
        }
        printf("  %s  %s%s%s\n", cfg->verdict > 0 ? "ok  " : "FAIL", desc,
               cfg->verdict > 0 ? "" : ": ", cfg->verdict > 0 ? "" : cfg->failure);
        fflush(stdout);
        failed += cfg->verdict < 0;
    }
    printf("microbench: %d of %d configurations agree with seq\n", p->n_configs - failed,
           p->n_configs);
    return failed ? MB_EXIT_FAILED : 0;
}

static void mb_add_context(const struct mb_options *opt, const struct cnn_backend *const *bes,
                           int n_bes)
{
    char buf[256];
    gb_add_context("cnnbench_version", CNN_VERSION);
    gb_add_context("cnnbench_buildtype", CNN_BUILDTYPE);
    gb_add_context("cnnbench_c_compiler", CNN_C_COMPILER);
    snprintf(buf, sizeof buf, "%g", opt->min_time);
    gb_add_context("cnnbench_min_time_s", buf);
    snprintf(buf, sizeof buf, "%d", mb_online_cores());
    gb_add_context("cnnbench_online_cores", buf);
    for (int b = 0; b < n_bes; b++) {
        snprintf(buf, sizeof buf, "cnnbench_timer_%s", bes[b]->name);
        gb_add_context(buf, (bes[b]->caps & CNN_CAP_DEVICE) ? "cuda_event" : "wall");
    }
    gb_add_context("cnnbench_verified", "bit-exact and one-step against seq before timing");
}

static int mb_bench(struct mb_plan *p, const struct mb_options *opt,
                    const struct cnn_backend *const *bes, int n_bes, const char *tmp)
{
    for (int i = 0; i < p->n_cases; i++)
        if (mb_register(&p->cases[i], opt->min_time) != CNN_OK)
            return mb_fail("");
    mb_add_context(opt, bes, n_bes);
    size_t ran = gb_run();
    mb_live_close();
    int status = 0;
    if (ran == 0) {
        fprintf(stderr, "microbench: error: no case matches the filter\n");
        status = MB_EXIT_FAILED;
    }
    for (int i = 0; i < p->n_configs; i++)
        if (p->configs[i].verdict < 0) {
            char desc[128];
            mb_describe(&p->configs[i], desc, sizeof desc);
            fprintf(stderr, "microbench: error: %s disagrees with seq: %s\n", desc,
                    p->configs[i].failure);
        }
    if (gb_error_count()) {
        fprintf(stderr, "microbench: error: %zu cases failed\n", gb_error_count());
        status = MB_EXIT_FAILED;
    }
    int written = 0;
    if (tmp && ran == 0)
        unlink(tmp);
    else if (tmp && mb_commit_output(tmp, opt->out, &written) != CNN_OK)
        status = mb_fail("");
    if (written)
        printf("microbench: wrote %s\n", opt->out);
    return status;
}

/* Everything after option parsing. gb_argv has room for argc + 3 entries:
 * Google Benchmark's argv is what mb_parse left plus the JSON output flags. */
static int mb_main(const struct mb_options *opt, int argc, char **argv, char **gb_argv)
{
    char tmp[4200], out_flag[4300];
    int gb_argc = argc;
    memcpy(gb_argv, argv, (size_t)argc * sizeof *argv);
    if (opt->out && !opt->verify_only) {
        /* An unwritable results directory is reported before any work. */
        if (mb_make_parent_dirs(opt->out) != CNN_OK)
            return mb_fail("");
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", opt->out, (long)getpid());
        snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", tmp);
        gb_argv[gb_argc++] = out_flag;
        gb_argv[gb_argc++] = "--benchmark_out_format=json";
    }
    gb_argv[gb_argc] = NULL;
    gb_initialize(&gb_argc, gb_argv);
    if (gb_unrecognized_args(gb_argc, gb_argv)) {
        fprintf(stderr, "microbench: see --help\n");
        return MB_EXIT_USAGE;
    }

    const struct cnn_backend *bes[MB_MAX_BACKENDS];
    int n_bes;
    if (mb_select(opt, bes, &n_bes) != CNN_OK)
        return mb_fail("");
    if (n_bes == 0) {
        printf("microbench: no selected backend can run here\n");
        return MB_EXIT_SKIP;
    }
    struct mb_plan plan;
    int status;
    if (mb_plan_build(&plan, bes, n_bes, opt) != CNN_OK)
        status = mb_fail("");
    else if (opt->verify_only)
        status = mb_verify_all(&plan);
    else
        status = mb_bench(&plan, opt, bes, n_bes, opt->out ? tmp : NULL);
    mb_plan_free(&plan);
    gb_shutdown();
    return status;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            mb_usage(argv[0]);
            return 0;
        }
    struct mb_options opt = {0};
    if (mb_parse(&argc, argv, &opt) != CNN_OK) {
        fprintf(stderr, "microbench: error: %s (see --help)\n", cnn_last_error());
        return MB_EXIT_USAGE;
    }
    char **gb_argv = malloc((size_t)(argc + 3) * sizeof *gb_argv);
    if (!gb_argv) {
        fprintf(stderr, "microbench: error: out of memory\n");
        return MB_EXIT_FAILED;
    }
    int status = mb_main(&opt, argc, argv, gb_argv);
    free(gb_argv);
    return status;
}
