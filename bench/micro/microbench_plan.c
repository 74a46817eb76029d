/*
 * microbench_plan.c — what to run: every selected backend x variant x
 * thread count (1 and all cores) x shape as a configuration, each timed
 * region of it as a case; and the command line that chooses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "microbench.h"

static const int mb_default_shapes[][2] = {{100, 32}, {1000, 32}, {1000, 256}};

/* ---- the plan: configurations and cases ---- */

int mb_online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Thread counts to time: 1 and all cores, or the backend default (0). */
static int mb_thread_counts(const struct cnn_backend *be, int counts[2])
{
    if (!(be->caps & CNN_CAP_THREADS)) {
        counts[0] = 0;
        return 1;
    }
    counts[0] = 1;
    counts[1] = mb_online_cores();
    return counts[1] > 1 ? 2 : 1;
}

static int mb_region_list(const struct cnn_backend *be, enum cnn_region regions[CNN_REGION_COUNT])
{
    int n = 0;
    for (int r = 0; r < CNN_REGION_COUNT; r++)
        if (r != CNN_REGION_ALLREDUCE &&
            ((be->caps & CNN_CAP_DEVICE) || (r != CNN_REGION_H2D && r != CNN_REGION_D2H)))
            regions[n++] = (enum cnn_region)r;
    return n;
}

cnn_status mb_plan_build(struct mb_plan *p, const struct cnn_backend *const *bes, int n_bes,
                                const struct mb_options *opt)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < opt->n_shapes; i++)
        CNN_TRY(mb_shape_init(&p->shapes[p->n_shapes++], opt->shapes[i][0], opt->shapes[i][1]));
    int max_configs = 0;
    for (int b = 0; b < n_bes; b++) {
        int threads[2];
        max_configs += bes[b]->variant_count * mb_thread_counts(bes[b], threads) * p->n_shapes;
    }
    p->configs = calloc((size_t)max_configs, sizeof *p->configs);
    p->cases = calloc((size_t)max_configs * CNN_REGION_COUNT, sizeof *p->cases);
    if (!p->configs || !p->cases)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate %d configurations", max_configs);

    for (int b = 0; b < n_bes; b++) {
        const struct cnn_backend *be = bes[b];
        int threads[2], n_threads = mb_thread_counts(be, threads);
        enum cnn_region regions[CNN_REGION_COUNT];
        int n_regions = mb_region_list(be, regions);
        for (int v = 1; v <= be->variant_count; v++)
            for (int t = 0; t < n_threads; t++)
                for (int sh = 0; sh < p->n_shapes; sh++) {
                    struct mb_config *cfg = &p->configs[p->n_configs++];
                    cfg->be = be;
                    cfg->variant = v;
                    cfg->threads = threads[t];
                    cfg->shape = &p->shapes[sh];
                    char prefix[64];
                    int n = snprintf(prefix, sizeof prefix, "%s", be->name);
                    if (be->caps & CNN_CAP_VARIANTS)
                        n += snprintf(prefix + n, sizeof prefix - (size_t)n, "/v%d", v);
                    if (be->caps & CNN_CAP_THREADS)
                        snprintf(prefix + n, sizeof prefix - (size_t)n, "/t%d", threads[t]);
                    for (int r = 0; r < n_regions; r++) {
                        struct mb_case *c = &p->cases[p->n_cases++];
                        c->cfg = cfg;
                        c->region = regions[r];
                        snprintf(c->name, sizeof c->name, "%s/%s", prefix,
                                 cnn_region_name(regions[r]));
                    }
                }
    }
    return CNN_OK;
}

void mb_plan_free(struct mb_plan *p)
{
    mb_live_close();
    for (int i = 0; i < p->n_shapes; i++)
        mb_shape_free(&p->shapes[i]);
    free(p->configs);
    free(p->cases);
}

/* ---- command line ---- */

void mb_usage(const char *argv0)
{
    printf("usage: %s [--verify-only] [--backend NAME]... [--shapes BxF,...]\n"
           "          [--min-time SECONDS] [--out FILE.json] [--benchmark_...]\n"
           "\n"
           "Per-layer micro-benchmarks: each backend x region x shape, verified against seq\n"
           "and then timed by Google Benchmark.\n"
           "  --verify-only       check every configuration against seq, time nothing\n"
           "                      (exit 0 all agree, 1 a mismatch, 77 no backend can run)\n"
           "  --backend NAME      only this backend (repeatable; default: all built)\n"
           "  --shapes LIST       (batch x filters) grid, default 100x32,1000x32,1000x256\n"
           "  --min-time SECONDS  minimum measured time per case (default %g)\n"
           "  --out FILE.json     also write Google Benchmark's JSON there (directories\n"
           "                      are created; written as FILE.json.tmp.PID, then renamed)\n"
           "Google Benchmark's own flags pass through, e.g. --benchmark_filter=REGEX,\n"
           "--benchmark_repetitions=N, --benchmark_list_tests. See bench/micro/README.md.\n",
           argv0, MB_DEFAULT_MIN_TIME);
}

static cnn_status mb_parse_shapes(const char *s, struct mb_options *opt)
{
    opt->n_shapes = 0;
    while (*s) {
        char *end;
        long b = strtol(s, &end, 10), f;
        if (end == s || *end != 'x')
            return cnn_fail(CNN_E_ARG, "--shapes: expected BATCHxFILTERS at '%s'", s);
        s = end + 1;
        f = strtol(s, &end, 10);
        if (end == s || (*end != ',' && *end != '\0'))
            return cnn_fail(CNN_E_ARG, "--shapes: expected BATCHxFILTERS at '%s'", s);
        if (b < 1 || b > CNN_MAX_BATCH || f < 1 || f > CNN_MAX_FILTERS)
            return cnn_fail(CNN_E_ARG, "--shapes: %ldx%ld is outside 1..%d x 1..%d", b, f,
                            CNN_MAX_BATCH, CNN_MAX_FILTERS);
        if (opt->n_shapes == MB_MAX_SHAPES)
            return cnn_fail(CNN_E_ARG, "--shapes: at most %d shapes", MB_MAX_SHAPES);
        opt->shapes[opt->n_shapes][0] = (int)b;
        opt->shapes[opt->n_shapes][1] = (int)f;
        opt->n_shapes++;
        s = *end ? end + 1 : end;
    }
    if (opt->n_shapes == 0)
        return cnn_fail(CNN_E_ARG, "--shapes: empty list");
    return CNN_OK;
}

/* Value of option `name` at argv[*i] ("--name V" or "--name=V"), advancing
 * *i past it; NULL if argv[*i] is not that option. *missing is set when the
 * option is there without a value. */
static const char *mb_option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

cnn_status mb_parse(int *argc, char **argv, struct mb_options *opt)
{
    opt->min_time = MB_DEFAULT_MIN_TIME;
    opt->n_shapes = (int)(sizeof mb_default_shapes / sizeof *mb_default_shapes);
    for (int i = 0; i < opt->n_shapes; i++) {
        opt->shapes[i][0] = mb_default_shapes[i][0];
        opt->shapes[i][1] = mb_default_shapes[i][1];
    }
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        int missing = 0;
        const char *v;
        if (strcmp(argv[i], "--verify-only") == 0) {
            opt->verify_only = 1;
        } else if ((v = mb_option_value(*argc, argv, &i, "--backend", &missing))) {
            if (opt->n_backends == MB_MAX_BACKENDS)
                return cnn_fail(CNN_E_ARG, "--backend: at most %d", MB_MAX_BACKENDS);
            opt->backends[opt->n_backends++] = v;
        } else if ((v = mb_option_value(*argc, argv, &i, "--shapes", &missing))) {
            CNN_TRY(mb_parse_shapes(v, opt));
        } else if ((v = mb_option_value(*argc, argv, &i, "--min-time", &missing))) {
            char *end;
            opt->min_time = strtod(v, &end);
            if (end == v || *end || !(opt->min_time > 0.0 && opt->min_time <= 3600.0))
                return cnn_fail(CNN_E_ARG, "--min-time: '%s' is not a time in (0, 3600] s", v);
        } else if ((v = mb_option_value(*argc, argv, &i, "--out", &missing))) {
            if (!*v)
                return cnn_fail(CNN_E_ARG, "--out: empty path");
            opt->out = v;
        } else if (missing) {
            return cnn_fail(CNN_E_ARG, "%s needs a value", argv[i]);
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    argv[kept] = NULL;
    return CNN_OK;
}
