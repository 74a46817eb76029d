/*
 * test_harness_unit.c — unit tests of the harness's pure parts: quartiles,
 * the median's confidence interval and the unstable rule, axis lists and
 * number parsing, the sweep plan's skip rules and keys, the
 * verify-before-timing comparison (NaN must fail), the CSV reader's RFC 4180
 * quoting, summary.csv written and read back (a message with commas, quotes
 * and a line break, and the noise columns, included), and JSON written
 * through jansson and read back by the lookups of meta.json's older readers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "csvout.h"
#include "json.h"
#include "params.h"
#include "plan.h"
#include "runfile.h"
#include "stats.h"
#include "summary.h"
#include "verify.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(b)); }

static void test_stats(void)
{
    /* NumPy: np.percentile([7, 1, 3, 5, 9], [25, 50, 75]) = [3, 5, 7] */
    const double v[] = {7, 1, 3, 5, 9};
    struct stats_summary s;
    stats_summarise(v, 5, &s);
    check(near(s.median, 5) && near(s.q1, 3) && near(s.q3, 7), "quartiles of 5 values: %g %g %g",
          s.q1, s.median, s.q3);
    check(near(s.mean, 5) && near(s.stddev, sqrt(10.0)), "mean %g, sd %g", s.mean, s.stddev);
    check(near(s.min, 1) && near(s.max, 9) && near(s.mad, 2), "min, max, mad");
    /* even count interpolates: [1,2,3,4] -> q1 1.75, median 2.5, q3 3.25 */
    const double w[] = {4, 3, 2, 1};
    stats_summarise(w, 4, &s);
    check(near(s.q1, 1.75) && near(s.median, 2.5) && near(s.q3, 3.25),
          "interpolated quartiles: %g %g %g", s.q1, s.median, s.q3);
    stats_summarise(w, 1, &s);
    check(near(s.median, 4) && s.stddev == 0 && s.n == 1, "one sample");
    stats_summarise(w, 0, &s);
    check(isnan(s.median) && s.n == 0, "no samples gives NaN");
}

/* Ranks from exact integer arithmetic: the largest lo with
 * sum_{i<=lo} C(n,i) <= 0.025 * 2^n (Python's math.comb, outside this code). */
static void test_median_ci(void)
{
    static const struct {
        long n, lo;
    } known[] = {{6, 0}, {7, 0}, {10, 1}, {20, 5}, {30, 9}, {100, 39}, {1000, 468},
                 {10000, 4901}};
    long lo = -7, hi = -7;
    check(stats_median_ci_ranks(5, &lo, &hi) == -1 && lo == -7,
          "5 samples have no 95%% interval of the median (whole sample covers 93.75%%)");
    check(stats_median_ci_ranks(0, &lo, &hi) == -1, "nor do 0 samples");
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        int st = stats_median_ci_ranks(known[i].n, &lo, &hi);
        check(st == 0 && lo == known[i].lo && hi == known[i].n - 1 - known[i].lo,
              "n = %ld: ranks %ld, %ld (want %ld, %ld)", known[i].n, lo, hi, known[i].lo,
              known[i].n - 1 - known[i].lo);
    }
    /* past n = 1074, 2^-n underflows: the normal approximation with
     * continuity correction, n/2 - 0.5 - 1.959964 sqrt(n)/2, says 998613 */
    int st = stats_median_ci_ranks(2000000, &lo, &hi);
    check(st == 0 && labs(lo - 998613) <= 2 && hi == 2000000 - 1 - lo,
          "n = 2e6: rank %ld near the normal approximation's 998613", lo);

    /* 1..10: the interval is [2, 9] around 5.5, half-width 3.5 = 63.64% */
    const double v[] = {7, 2, 9, 4, 10, 1, 5, 8, 3, 6};
    struct stats_summary s;
    stats_summarise(v, 10, &s);
    check(near(s.noise_pct, 350.0 / 5.5), "noise of 1..10: %g%% (want %g%%)", s.noise_pct,
          350.0 / 5.5);
    stats_summarise(v, 5, &s);
    check(isnan(s.noise_pct), "noise of 5 samples is unknown (NaN), not 0");
    const double flat[] = {2, 2, 2, 2, 2, 2, 2};
    stats_summarise(flat, 7, &s);
    check(s.noise_pct == 0, "constant samples have no noise");

    /* Coverage on skewed data: exponential samples, true median ln 2. For
     * n = 30 the interval [x(10), x(21)] covers it with probability
     * 1 - 2 P(B <= 9) = 0.9572; 4000 trials put the count within 0.945..0.969
     * (3 standard deviations). A rank one off either way gives 0.984 or
     * 0.901. */
    uint64_t state = 0x9E3779B97F4A7C15u;
    int covered = 0, trials = 4000;
    double x[30];
    for (int t = 0; t < trials; t++) {
        for (int i = 0; i < 30; i++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            double u = ((double)(state >> 11) + 0.5) / 9007199254740992.0;
            x[i] = -log(u);
        }
        stats_sort(x, 30);
        stats_median_ci_ranks(30, &lo, &hi);
        covered += x[lo] <= log(2.0) && log(2.0) <= x[hi];
    }
    double coverage = (double)covered / trials;
    check(coverage >= 0.945 && coverage <= 0.969,
          "the interval covers an exponential's median %.4f of the time (want 0.9572)", coverage);
}

static void test_unstable_rule(void)
{
    struct stats_summary t = {.n = 20, .mean = 10, .stddev = 0.5, .q1 = 9.5, .q3 = 10.5,
                              .median = 10, .noise_pct = 2};
    check(summary_unstable(&t, NAN) == 0, "cv 5%%, no target: stable");
    check(summary_unstable(&t, 3) == 0, "noise 2%% under a 3%% target: stable");
    check(summary_unstable(&t, 1) == 1, "noise 2%% over a 1%% target: unstable");
    t.noise_pct = NAN;
    check(summary_unstable(&t, 1) == 1, "an unknown noise misses any target");
    t.stddev = 1.5;
    check(summary_unstable(&t, NAN) == 1, "cv 15%%: unstable");
    t.n = 1;
    check(summary_unstable(&t, NAN) == -1, "one step: nothing to judge");
    t.n = 20;
    t.noise_pct = 2;
    char why[512];
    summary_unstable_reason(why, sizeof why, &t, 1, 0.25, 3.5, 2);
    check(strstr(why, "cv 15.0%") && strstr(why, "IQR 9.500..10.500 ms") &&
              strstr(why, "±2.00%") && strstr(why, "target 1%") && strstr(why, "0.25 at start") &&
              strstr(why, "3.50 at end") && strstr(why, "2 CPUs"),
          "the reason names cv, IQR, noise, target and load: %s", why);
    summary_unstable_reason(why, sizeof why, &t, NAN, NAN, NAN, 2);
    check(!strstr(why, "target") && strstr(why, "unknown at start"),
          "no target, unknown load: %s", why);
}

static int axis_is(const struct cli_axis *a, int n, const int *v)
{
    if (a->n != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (a->v[i] != v[i])
            return 0;
    return 1;
}

static void test_axes(void)
{
    struct cli_axis a;
    static const int geo[] = {32, 64, 128, 256}, step[] = {1, 4, 7}, list[] = {3, 1, 2};
    static const int mix[] = {1, 2, 3, 4, 16, 32};
    check(cli_parse_axis("f", "32:256:x2", 1, 4096, &a) == CNN_OK && axis_is(&a, 4, geo),
          "32:256:x2");
    check(cli_parse_axis("f", "1:8:+3", 1, 4096, &a) == CNN_OK && axis_is(&a, 3, step), "1:8:+3");
    check(cli_parse_axis("f", "3,1,2,1", 1, 9, &a) == CNN_OK && axis_is(&a, 3, list),
          "a list keeps its order and drops duplicates");
    check(cli_parse_axis("f", "1:4,16:32:x2", 1, 64, &a) == CNN_OK && axis_is(&a, 6, mix),
          "ranges and numbers mixed");
    const char *bad[] = {"", "0", "-1", "a", "1,", ",1", "8:4", "1:8:x1", "1:8:x", "1:8:+0",
                         "1:2:3:4", "1.5", "1e3", "99999999999", "10:20:x2,70", " 5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        check(cli_parse_axis("f", bad[i], 1, 64, &a) == CNN_E_ARG, "rejects '%s'", bad[i]);
    char big[64];
    snprintf(big, sizeof big, "1:%d", CLI_AXIS_MAX + 1);
    check(cli_parse_axis("f", big, 1, 1000, &a) == CNN_E_ARG, "rejects more than %d values",
          CLI_AXIS_MAX);

    int i;
    long l;
    double d;
    uint64_t u;
    check(cli_parse_int("b", "65536", 1, 65536, &i) == CNN_OK && i == 65536, "int at the limit");
    check(cli_parse_int("b", "+5", 1, 10, &i) == CNN_E_ARG, "no explicit plus sign");
    check(cli_parse_long("s", "9223372036854775808", 1, 10, &l) == CNN_E_ARG, "overflow");
    check(cli_parse_positive_double("lr", "0.05", 100, &d) == CNN_OK && d == 0.05, "lr 0.05");
    check(cli_parse_positive_double("lr", "inf", 100, &d) == CNN_E_ARG, "lr inf");
    check(cli_parse_positive_double("lr", "1e-300x", 100, &d) == CNN_E_ARG, "lr junk");
    check(cli_parse_u64("seed", "18446744073709551615", &u) == CNN_OK && u == UINT64_MAX,
          "seed 2^64-1");
    check(cli_parse_u64("seed", "-1", &u) == CNN_E_ARG, "seed -1");
    check(cli_parse_positive_double("lr", ".5", 100, &d) == CNN_OK && d == 0.5, "lr .5");
    check(cli_parse_positive_double("lr", "2E-3", 100, &d) == CNN_OK && d == 2e-3, "lr 2E-3");
    const char *not_decimal[] = {"0x10", "0X1p-3", " 0.1", "1e", ".", "-", "1.5.", "nan", "1e+"};
    for (size_t k = 0; k < sizeof not_decimal / sizeof *not_decimal; k++)
        check(cli_parse_positive_double("lr", not_decimal[k], 100, &d) == CNN_E_ARG &&
                  strstr(cnn_last_error(), "expected a decimal number"),
              "lr '%s' is not a decimal number: %s", not_decimal[k], cnn_last_error());
    const char *out_of_range[] = {"1e-400", "1e400", "0", "-0.1", "100.5"};
    for (size_t k = 0; k < sizeof out_of_range / sizeof *out_of_range; k++)
        check(cli_parse_positive_double("lr", out_of_range[k], 100, &d) == CNN_E_ARG &&
                  strstr(cnn_last_error(), "out of range"),
              "lr %s is out of range: %s", out_of_range[k], cnn_last_error());
    check(cli_parse_positive_double("lr", "1e-50", 100, &d) == CNN_E_ARG &&
              strstr(cnn_last_error(), "too small"),
          "lr 1e-50 would be 0 as a float: %s", cnn_last_error());

    /* a geometric range from 0 never moves (it looped forever) */
    check(cli_parse_axis("gpus", "0:4:x2", 0, 64, &a) == CNN_E_ARG &&
              strstr(cnn_last_error(), "0,1:4:x2"), "0:4:x2: %s", cnn_last_error());
    check(cli_parse_axis("gpus", "0:0:x2", 0, 64, &a) == CNN_E_ARG, "0:0:x2: %s",
          cnn_last_error());
    static const int zero_up[] = {0, 1, 2, 4};
    check(cli_parse_axis("gpus", "0,1:4:x2", 0, 64, &a) == CNN_OK && axis_is(&a, 4, zero_up),
          "0,1:4:x2");
}

/* The scanner refuses an option given twice and an empty value. */
static void test_scan(void)
{
    char *twice[] = {"--batch", "10", "--steps", "3", "--batch=20"};
    struct cli_scan s;
    cli_scan_init(&s, 5, twice, 0);
    int r, seen = 0;
    while ((r = cli_scan_next(&s)) > 0) {
        const char *v;
        check(cli_scan_value(&s, &v) == CNN_OK, "value of --%s", s.name);
        seen++;
    }
    check(r < 0 && seen == 2 && strstr(cnn_last_error(), "--batch is given twice"),
          "a repeated option is an error naming it: %s", cnn_last_error());
    char *empty[] = {"--csv", ""};
    cli_scan_init(&s, 2, empty, 0);
    const char *v;
    check(cli_scan_next(&s) == 1 && cli_scan_value(&s, &v) == CNN_E_ARG &&
              strstr(cnn_last_error(), "--csv: the value is empty"),
          "an empty value is an error: %s", cnn_last_error());
}

/* Minimal backends for the plan: only name, caps and variants matter there. */
static const char *const two_variants[] = {"first", "second"};
static const struct cnn_backend fake_seq = {.name = "seq", .variant_count = 1};
static const struct cnn_backend fake_omp = {.name = "omp", .caps = CNN_CAP_THREADS,
                                            .variant_count = 1};
static const struct cnn_backend fake_gpu = {.name = "gpu", .caps = CNN_CAP_VARIANTS,
                                            .variant_count = 2, .variant_names = two_variants};

static void test_plan(void)
{
    struct plan_block b;
    memset(&b, 0, sizeof b);
    b.name = "t";
    b.impls[0] = &fake_seq;
    b.impls[1] = &fake_omp;
    b.impls[2] = &fake_gpu;
    b.n_impls = 3;
    CHECK_OK(cli_parse_axis("threads", "1,2,4", 1, 64, &b.threads));
    CHECK_OK(cli_parse_axis("variant", "1,2,3", 1, 64, &b.variants));
    CHECK_OK(cli_parse_axis("batch", "10,20", 1, 64, &b.batch));
    CHECK_OK(cli_parse_axis("filters", "4", 1, 64, &b.filters));
    CHECK_OK(cli_parse_axis("steps", "5", 1, 64, &b.length));
    struct plan p;
    CHECK_OK(plan_build(&b, 1, 2, 0, &p));
    /* per rep: seq 1 x 2 batches, omp 3 threads x 2, gpu 2 variants x 2 = 12 */
    check(p.n == 24, "cartesian product with skip rules: %d configurations", p.n);
    /* requested per impl per rep: 3 variants x 3 threads x 2 = 18. None runs as given:
     * seq takes neither axis, omp no variants, gpu no threads; so 3 x 18 are skipped */
    check(p.skipped == 54, "combinations skipped by the rules: %ld", p.skipped);
    check(!strcmp(p.configs[0].key, "seq:v0:t0:b10:f4:s5:r1"), "first key %s", p.configs[0].key);
    check(!strcmp(p.configs[12].key, "seq:v0:t0:b10:f4:s5:r2"),
          "repetitions outermost: %s", p.configs[12].key);
    int threads_ok = 1, variants_ok = 1;
    for (int i = 0; i < p.n; i++) {
        const struct plan_config *c = &p.configs[i];
        threads_ok &= (c->be == &fake_omp) == (c->threads > 0);
        variants_ok &= (c->be == &fake_gpu) == (c->variant > 0) && c->variant <= 2;
    }
    check(threads_ok, "threads only for the backend that takes them");
    check(variants_ok, "variants only where they exist");
    plan_free(&p);

    /* two blocks listing the same configuration run it once */
    struct plan_block two[2] = {b, b};
    two[1].name = "again";
    CHECK_OK(plan_build(two, 2, 1, 1, &p));
    check(p.n == 12 && p.duplicates == 12, "duplicates across blocks: %d, %ld", p.n,
          p.duplicates);
    check(strstr(p.configs[0].key, ":e5:") != NULL, "epoch runs are keyed by e: %s",
          p.configs[0].key);
    plan_free(&p);

    /* a thread count seq cannot take is reported, though seq still runs once */
    struct plan_block one;
    memset(&one, 0, sizeof one);
    one.name = "one";
    one.impls[0] = &fake_seq;
    one.n_impls = 1;
    CHECK_OK(cli_parse_axis("threads", "2", 1, 64, &one.threads));
    CHECK_OK(cli_parse_axis("batch", "10", 1, 64, &one.batch));
    one.filters = one.batch;
    one.length = one.batch;
    CHECK_OK(plan_build(&one, 1, 1, 0, &p));
    check(p.n == 1 && p.skipped == 1 && p.configs[0].threads == 0,
          "seq with --threads 2: runs once, 1 combination skipped: %d, %ld", p.n, p.skipped);
    plan_free(&p);

    /* 3 x 64^4 configurations: refused at once, naming the count and the cap */
    struct plan_block huge = b;
    CHECK_OK(cli_parse_axis("batch", "1:64", 1, 64, &huge.batch));
    huge.filters = huge.batch;
    huge.length = huge.batch;
    huge.threads = huge.batch;
    cnn_status st = plan_build(&huge, 1, 1, 0, &p);
    check(st == CNN_E_ARG && strstr(cnn_last_error(), "100000") &&
              strstr(cnn_last_error(), "configurations") && p.configs == NULL,
          "a plan over the cap is refused: %s", cnn_last_error());
    /* the largest plan allowed, every configuration listed twice: the duplicate
     * check is linear, so this is quick */
    struct plan_block big[2];
    memset(big, 0, sizeof big);
    big[0].name = "big";
    big[0].impls[0] = &fake_omp;
    big[0].n_impls = 1;
    CHECK_OK(cli_parse_axis("threads", "1:50", 1, 64, &big[0].threads));
    CHECK_OK(cli_parse_axis("batch", "1:40", 1, 64, &big[0].batch));
    CHECK_OK(cli_parse_axis("filters", "1:25", 1, 64, &big[0].filters));
    CHECK_OK(cli_parse_axis("steps", "5", 1, 64, &big[0].length));
    big[1] = big[0];
    CHECK_OK(plan_build(big, 2, 1, 0, &p));
    check(p.n == PLAN_MAX_CONFIGS / 2 && p.duplicates == PLAN_MAX_CONFIGS / 2,
          "%d configurations listed twice: %d kept, %ld duplicates", PLAN_MAX_CONFIGS / 2, p.n,
          p.duplicates);
    plan_free(&p);

    struct cli_axis ladder;
    plan_thread_ladder(6, &ladder);
    static const int want[] = {1, 2, 4, 6};
    check(axis_is(&ladder, 4, want), "thread ladder for 6 CPUs");
    struct plan_block blocks[PLAN_MAX_BLOCKS];
    int nb;
    check(plan_preset("quick", 2, blocks, &nb) == CNN_OK && nb > 0, "quick preset");
    check(plan_preset("paper", 2, blocks, &nb) == CNN_OK && nb > 0, "paper preset");
    check(plan_preset("none", 2, blocks, &nb) == CNN_E_ARG, "unknown preset");
}

/* Index of key in p, or -1. */
static int plan_find(const struct plan *p, const char *key)
{
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->configs[i].key, key))
            return i;
    return -1;
}

/* The ranks axis: keys, strong and weak batches, the configurations both
 * modes list run once, the batch cap, and the scaling preset. No MPI is
 * needed: the plan only names what mpirun will run. */
static void test_plan_ranks(void)
{
    struct plan_block b;
    memset(&b, 0, sizeof b);
    b.name = "r";
    b.impls[0] = &fake_seq;
    b.impls[1] = &fake_omp;
    b.n_impls = 2;
    CHECK_OK(cli_parse_axis("threads", "1", 1, 64, &b.threads));
    CHECK_OK(cli_parse_axis("ranks", "1,2,3", 1, 64, &b.ranks));
    CHECK_OK(cli_parse_axis("batch", "100", 1, 64000, &b.batch));
    CHECK_OK(cli_parse_axis("filters", "8", 1, 64, &b.filters));
    CHECK_OK(cli_parse_axis("steps", "5", 1, 64, &b.length));
    struct plan p;
    b.scaling = PLAN_STRONG;
    CHECK_OK(plan_build(&b, 1, 1, 0, &p));
    int strong_ok = p.n == 6;
    for (int i = 0; i < p.n; i++)
        strong_ok &= p.configs[i].batch == 100 && p.configs[i].ranks == i % 3 + 1;
    check(strong_ok, "strong: 2 backends x 3 rank counts, all at the global B=100 (%d)", p.n);
    check(plan_find(&p, "omp:v0:t1:np3:b100:f8:s5:r1") >= 0 &&
              plan_find(&p, "seq:v0:t0:np1:b100:f8:s5:r1") >= 0,
          "keys name the rank count after the threads: %s", p.configs[0].key);
    plan_free(&p);

    b.scaling = PLAN_WEAK;
    CHECK_OK(plan_build(&b, 1, 1, 0, &p));
    check(p.n == 6 && plan_find(&p, "omp:v0:t1:np3:b300:f8:s5:r1") >= 0 &&
              plan_find(&p, "omp:v0:t1:np2:b200:f8:s5:r1") >= 0 &&
              plan_find(&p, "omp:v0:t1:np1:b100:f8:s5:r1") >= 0,
          "weak: the batch axis is per rank, B = N x b");
    plan_free(&p);

    /* both: N = 1 is the same configuration in each mode, so 5 per backend */
    b.scaling = PLAN_STRONG | PLAN_WEAK;
    CHECK_OK(plan_build(&b, 1, 1, 0, &p));
    check(p.n == 10 && p.duplicates == 2 && plan_find(&p, "seq:v0:t0:np2:b100:f8:s5:r1") >= 0 &&
              plan_find(&p, "seq:v0:t0:np2:b200:f8:s5:r1") >= 0,
          "both: strong and weak, the shared 1-rank points once: %d, %ld", p.n, p.duplicates);
    plan_free(&p);

    /* no ranks axis: ranks 0 (the sweep's own process), keys as before */
    struct plan_block plain = b;
    plain.ranks.n = 0;
    CHECK_OK(plan_build(&plain, 1, 1, 0, &p));
    check(p.n == 2 && p.configs[0].ranks == 0 &&
              !strcmp(p.configs[0].key, "seq:v0:t0:b100:f8:s5:r1"),
          "without the axis: one configuration per backend, the old key: %s", p.configs[0].key);
    plan_free(&p);

    struct plan_block heavy = b;
    heavy.scaling = PLAN_WEAK;
    CHECK_OK(cli_parse_axis("batch", "40000", 1, 64000, &heavy.batch));
    check(plan_build(&heavy, 1, 1, 0, &p) == CNN_E_ARG && strstr(cnn_last_error(), "weak"),
          "a weak batch above the cap is refused: %s", cnn_last_error());

    struct plan_block blocks[PLAN_MAX_BLOCKS];
    int nb;
    CHECK_OK(plan_preset("scaling", 4, blocks, &nb));
    for (int k = 0; k < nb; k++) {
        blocks[k].impls[0] = &fake_omp;
        blocks[k].n_impls = 1;
    }
    CHECK_OK(plan_build(blocks, nb, 1, 0, &p));
    /* threads 1,2,4 at 1 rank and ranks 1,2,4 at 1 thread, at 2 batches;
     * the 1-thread 1-rank point is in both blocks */
    check(p.n == 10 && p.duplicates == 2 &&
              plan_find(&p, "omp:v0:t4:np1:b4000:f256:s20:r1") >= 0 &&
              plan_find(&p, "omp:v0:t1:np4:b1000:f256:s20:r1") >= 0 &&
              plan_find(&p, "omp:v0:t4:np4:b1000:f256:s20:r1") < 0,
          "scaling preset: threads of one process against ranks of one thread: %d, %ld", p.n,
          p.duplicates);
    plan_free(&p);
}

static void test_verify(void)
{
    struct cnn_params a, b;
    CHECK_OK(cnn_params_alloc(&a, 3));
    CHECK_OK(cnn_params_alloc(&b, 3));
    cnn_params_init(&b, 7);
    cnn_params_copy(&a, &b);
    struct verify_report r;
    verify_params(&a, &b, &r);
    check(r.agree, "identical parameters agree");
    a.fc_w[5] = b.fc_w[5] + 1e-5f * 0.5f;
    verify_params(&a, &b, &r);
    check(r.agree, "a difference within 1e-5 + 1e-4|b| agrees");
    a.fc_w[5] = b.fc_w[5] + 1e-3f;
    verify_params(&a, &b, &r);
    check(!r.agree && strstr(r.detail, "fc_w"), "a larger one fails and names the tensor: %s",
          r.detail);
    cnn_params_copy(&a, &b);
    a.conv_b[1] = NAN;
    verify_params(&a, &b, &r);
    check(!r.agree, "NaN fails");
    a.conv_b[1] = INFINITY;
    verify_params(&a, &b, &r);
    check(!r.agree, "Inf fails");
    cnn_params_free(&a);
    cnn_params_free(&b);
}

static void test_summary_roundtrip(const char *dir)
{
    struct summary_row rows[2];
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < 2; i++) {
        struct summary_row *r = &rows[i];
        snprintf(r->impl, sizeof r->impl, "%s", i ? "omp" : "seq");
        /* omp as two ranks: its key names them */
        plan_key(r->key, sizeof r->key, r->impl, 0, i, 0, i ? 2 : 0, 100, 32, 's', 10, 1);
        r->threads = i;
        r->batch = 100;
        r->filters = 32;
        r->rep = 1;
        r->steps = 10;
        r->epochs = 0.125;
        r->warmup = 2;
        const double scale = i ? 0.5 : 1; /* omp twice as fast */
        const double v[] = {4 * scale, 2 * scale, 3 * scale, 1 * scale};
        stats_summarise(v, 4, &r->t);
        for (int k = 0; k < CNN_REGION_COUNT; k++)
            r->region_ms[k] = k == CNN_REGION_H2D || k == CNN_REGION_D2H ? NAN : 0.25 * k;
        r->first_warmup_ms = 9;
        r->final_loss = 0.5;
        r->test_accuracy_pct = NAN;
        snprintf(r->verified, sizeof r->verified, "%s", i ? "yes" : "reference");
        snprintf(r->status, sizeof r->status, "ok");
        snprintf(r->timer, sizeof r->timer, "wall");
        r->ranks = 1 + i;
    }
    const char *message = "cuda: \"conv\" failed, twice,\nthen \"\" at line 2\r";
    snprintf(rows[1].message, sizeof rows[1].message, "%s", message);
    rows[0].max_noise_pct = NAN;
    snprintf(rows[0].stop, sizeof rows[0].stop, "steps");
    rows[1].t.noise_pct = 0.75;
    rows[1].max_noise_pct = 1.5;
    snprintf(rows[1].stop, sizeof rows[1].stop, "converged");
    /* seq without a meter; omp with a CPU figure of 2.5 J per step of 100 images */
    for (int d = 0; d < ENERGY_DEVICES; d++)
        rows[0].joules_per_step[d] = rows[1].joules_per_step[d] = NAN;
    rows[0].energy_window_s = rows[0].gpu_sampled_w = rows[1].gpu_sampled_w = NAN;
    rows[1].joules_per_step[ENERGY_CPU] = 2.5;
    rows[1].energy_window_s = 1.5;
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    CHECK_OK(summary_write(path, rows, 2));
    struct summary_row *back;
    int n;
    CHECK_OK(summary_read(path, &back, &n));
    check(n == 2, "two rows read back");
    check(n == 2 && !strcmp(back[1].key, rows[1].key) && back[1].threads == 1 &&
              back[1].t.median == rows[1].t.median && back[1].t.q3 == rows[1].t.q3 &&
              isnan(back[1].region_ms[CNN_REGION_H2D]) && back[1].region_ms[2] == 0.5 &&
              isnan(back[1].test_accuracy_pct) && !strcmp(back[1].verified, "yes"),
          "fields survive the round trip");
    check(n == 2 && back[1].t.noise_pct == 0.75 && back[1].max_noise_pct == 1.5 &&
              !strcmp(back[1].stop, "converged") && isnan(back[0].t.noise_pct) &&
              isnan(back[0].max_noise_pct) && !strcmp(back[0].stop, "steps"),
          "noise_pct, max_noise_pct and stop survive the round trip");
    check(n == 2 && back[1].joules_per_step[ENERGY_CPU] == 2.5 &&
              isnan(back[1].joules_per_step[ENERGY_GPU]) && back[1].energy_window_s == 1.5 &&
              isnan(back[0].joules_per_step[ENERGY_CPU]) && isnan(back[0].energy_window_s),
          "the energy figures survive the round trip, missing ones as NaN");
    check(n == 2 && back[0].ranks == 1 && back[1].ranks == 2, "ranks survives the round trip");
    check(n == 2 && !strcmp(back[1].message, message) && !strcmp(back[1].timer, "wall") &&
              back[1].wall_s == rows[1].wall_s,
          "a message with commas, quotes and line breaks comes back as it was, and the "
          "columns after it stay in place");
    check(n == 2 && summary_baseline_ms(back, n, &back[1], "seq", -1) == rows[0].t.median,
          "the seq baseline of the omp row is found");
    free(back);
    /* the derived speedup column: seq median 2.5 / omp 1.25 = 2 */
    char *text;
    CHECK_OK(runfile_read_text(path, &text, NULL));
    check(strstr(text, ",1,0.5,reference,ok,,wall,") != NULL,
          "seq: speedup_vs_seq 1, speedup_vs_omp_t1 0.5");
    check(strstr(text, ",2,1,yes,ok,\"cuda: \"\"conv\"\" failed, twice,\nthen \"\"\"\" at "
                       "line 2\r\",wall,") != NULL,
          "omp t1: speedups 2 and 1, the message quoted with its quotes doubled (RFC 4180)");
    check(strstr(text, ",noise_pct,max_noise_pct,stop,") != NULL &&
              strstr(text, ",0.75,1.5,converged,") != NULL && strstr(text, ",,,steps,"),
          "the noise columns, empty where unknown");
    check(strstr(text, ",stop,joules_per_step_cpu,images_per_joule_cpu,joules_per_step_gpu,"
                       "images_per_joule_gpu,energy_window_s,gpu_sampled_w,ranks\n") != NULL &&
              strstr(text, ",converged,2.5,40,,,1.5,,2\n") != NULL &&
              strstr(text, ",steps,,,,,,,1\n") != NULL,
          "the energy columns, then ranks, come last: images per joule is batch / joules per "
          "step, and every cell without a figure is empty");
    free(text);
    remove(path);
}

/* The CSV reader on quoted fields: records that span lines, doubled quotes,
 * empty fields, CRLF line ends, and the broken quoting it must refuse. */
static void test_csv_quoting(void)
{
    char text[] = "a,\"b,1\",\"say \"\"hi\"\"\",,\"two\nlines\"\r\n"
                  "x,\"\",y\n"
                  "\"cut";
    struct csv_records r;
    csv_records_init(&r, text, strlen(text));
    char *record, *f[8];
    int got = csv_records_next(&r, &record);
    int n = got == 1 ? csv_split(record, f, 8) : -1;
    check(got == 1 && r.line == 1 && n == 5 && !strcmp(f[0], "a") && !strcmp(f[1], "b,1") &&
              !strcmp(f[2], "say \"hi\"") && !strcmp(f[3], "") && !strcmp(f[4], "two\nlines"),
          "a record over two lines: 5 fields, quotes removed, commas, doubled quotes and the "
          "line break kept");
    got = csv_records_next(&r, &record);
    n = got == 1 ? csv_split(record, f, 8) : -1;
    check(got == 1 && r.line == 3 && n == 3 && !strcmp(f[1], "") && !strcmp(f[2], "y"),
          "the next record starts on line 3 (got line %ld); \"\" is an empty field", r.line);
    check(csv_records_next(&r, &record) == -1, "a record whose quote never closes is cut off");

    char more[] = "1,2,3";
    check(csv_split(more, f, 2) == 2, "at most max fields are stored");
    const char *broken[] = {"a,b\"c", "\"a\"b,c", "\"open", "a,\"b\"\"", "x\"\""};
    for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%s", broken[i]);
        check(csv_split(buf, f, 8) == -1, "broken quoting refused: %s", broken[i]);
    }

    /* csv_write_field, then the reader: every field comes back as written. */
    const char *fields[] = {"plain", "", "with,comma", "with \"quote\"", "line\nbreak", "cr\r",
                            "\"", ","};
    enum { N = sizeof fields / sizeof *fields };
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!check(fp != NULL, "memory stream"))
        return;
    for (int i = 0; i < N; i++) {
        if (i)
            fputc(',', fp);
        csv_write_field(fp, fields[i]);
    }
    fputc('\n', fp);
    fclose(fp);
    const char *quoted = "plain,,\"with,comma\",\"with \"\"quote\"\"\",\"line\nbreak\",";
    check(strncmp(buf, quoted, strlen(quoted)) == 0,
          "only fields that need quotes are quoted: %.37s...", buf);
    csv_records_init(&r, buf, len);
    char *back[N + 1];
    got = csv_records_next(&r, &record);
    n = got == 1 ? csv_split(record, back, N + 1) : -1;
    int same = n == N;
    for (int i = 0; same && i < N; i++)
        same = strcmp(back[i], fields[i]) == 0;
    check(same && csv_records_next(&r, &record) == 0, "%d fields written and read back equal",
          N);
    free(buf);
}

static void test_json(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/t.json", dir);
    json_t *doc = json_object();
    json_t *inner = json_object();
    json_object_set_new(doc, "name", json_text("quote \" backslash \\ tab \t \"x\": 1 end"));
    json_object_set_new(doc, "bytes", json_text("ok \xff\xfe caf\xc3\xa9"));
    json_t *argv = json_array();
    json_array_append_new(argv, json_text("--batch"));
    json_array_append_new(argv, json_text("100,1000"));
    json_object_set_new(doc, "argv", argv);
    json_object_set_new(inner, "x", json_number_or_null(2.5));
    json_object_set_new(inner, "nan", json_number_or_null(NAN));
    json_object_set_new(doc, "inner", inner);
    json_object_set_new(doc, "x", json_integer(7));
    FILE *fp = fopen(path, "w");
    if (!check(fp != NULL, "open %s", path))
        return;
    check(json_write_document(fp, doc) == 0, "JSON written");
    fclose(fp);
    json_decref(doc);

    char *text;
    size_t len;
    CHECK_OK(runfile_read_text(path, &text, &len));
    json_t *root = NULL;
    check(json_parse_document(path, text, len, &root) == CNN_OK, "what was written parses");
    json_decref(root);
    char s[128];
    check(json_get_string(text, "name", s, sizeof s) == 0 &&
              !strcmp(s, "quote \" backslash \\ tab \t \"x\": 1 end"),
          "escaped string read back");
    check(json_get_string(text, "bytes", s, sizeof s) == 0 && !strcmp(s, "ok ?? caf\xc3\xa9"),
          "bytes that are not UTF-8 written as '?', UTF-8 kept: %s", s);
    char **args;
    int argc = json_get_string_array(text, "argv", &args);
    check(argc == 2 && !strcmp(args[1], "100,1000"), "string array read back");
    if (argc > 0)
        json_free_strings(args, argc);
    double x;
    check(json_get_number(text, "inner.x", &x) == 0 && x == 2.5,
          "a path reaches the nested \"x\" (got %g)", x);
    check(json_get_number(text, "x", &x) == 0 && x == 7,
          "the top-level \"x\" is another member, not the nested one (got %g)", x);
    check(json_get_number(text, "argv.0", &x) != 0 &&
              json_get_string(text, "argv.1", s, sizeof s) == 0 && !strcmp(s, "100,1000"),
          "an array element by index; a string is not a number");
    check(json_get_number(text, "inner.x.y", &x) != 0 &&
              json_get_number(text, "inner..x", &x) != 0,
          "a path through a number, or with an empty step, finds nothing");
    check(strstr(text, "\"nan\": null") != NULL, "NaN written as null");
    check(json_get_string(text, "missing", s, sizeof s) != 0, "a missing key is reported");
    free(text);

    char broken[] = "{\n  \"a\": 1,\n  \"a\": 2\n}\n";
    cnn_status st = json_parse_document("dup.json", broken, strlen(broken), &root);
    check(st == CNN_E_DATA && strstr(cnn_last_error(), "dup.json: line 3"),
          "a duplicate key is an error naming its line: %s", cnn_last_error());
    char cut[] = "{\n  \"a\": [1,\n";
    st = json_parse_document("cut.json", cut, strlen(cut), &root);
    check(st == CNN_E_DATA && strstr(cnn_last_error(), "cut.json: line "),
          "a cut-off document is an error: %s", cnn_last_error());
    remove(path);
}

int main(void)
{
    check_name = "harness-unit";
    char dir[] = "/tmp/cnnbench-unit-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    test_stats();
    test_median_ci();
    test_unstable_rule();
    test_axes();
    test_scan();
    test_plan();
    test_plan_ranks();
    test_verify();
    test_csv_quoting();
    test_summary_roundtrip(dir);
    test_json(dir);
    rmdir(dir);
    return check_finish();
}
