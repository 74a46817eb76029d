/*
 * test_compare_unit.c — the statistics behind `cnnbench compare`, checked
 * against values worked out by hand: the Mann-Whitney U p-value (with and
 * without ties), the bootstrap interval of the median ratio (exact cases,
 * even-sized medians, reproducibility), and the verdict rules on small
 * constructed samples. The end-to-end CLI cases are in test_compare.sh.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "compare.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void test_mann_whitney(void)
{
    /* x = 1..5, y = 6..10: U = 0, mean 12.5, variance 25 * 11 / 12;
     * z = (12.5 - 0.5) / sqrt(22.9167) = 2.5067, p = erfc(z / sqrt 2). */
    const double x[] = {1, 2, 3, 4, 5}, y[] = {6, 7, 8, 9, 10};
    double p = compare_mann_whitney_p(x, 5, y, 5);
    check(near(p, 0.012185780355344818, 1e-12), "U test, separated samples: p = %.12f", p);
    check(near(compare_mann_whitney_p(y, 5, x, 5), p, 1e-15), "U test is symmetric");

    /* Ties: ranks 1, 3, 3, 3, 6, 6, 6, 8.5, 8.5, 10, 11; R_x = 23, U = 8,
     * tie sum 24 + 24 + 6 = 54, variance 2.5 * (12 - 54/110) = 28.7727,
     * z = 6.5 / 5.3640, p = 0.2256. */
    const double a[] = {1, 2, 2, 3, 7}, b[] = {2, 3, 3, 4, 4, 9};
    p = compare_mann_whitney_p(a, 5, b, 6);
    check(near(p, 0.22559760855754862, 1e-12), "U test with ties: p = %.12f", p);

    const double same[] = {1, 1, 1, 1};
    p = compare_mann_whitney_p(same, 4, same, 3);
    check(p == 1.0, "all values tied: p = 1 (got %g)", p);
    check(isnan(compare_mann_whitney_p(same, 0, same, 3)), "an empty side gives NaN");
}

static void test_bootstrap(void)
{
    double lo = NAN, hi = NAN;
    /* Constant samples: every resample has the same medians. */
    const double base[] = {2, 2, 2, 2}, twice[] = {4, 4, 4};
    int rc = compare_bootstrap_ratio(base, 4, twice, 3, 500, 0.95, 7, &lo, &hi);
    check(rc == 0 && lo == 2.0 && hi == 2.0, "constant samples: interval [%g, %g] is exactly 2",
          lo, hi);

    /* NEW = {3, 5}: resampled medians are 3, 4, 4, 5 (an even count averages
     * the middle pair), so the ratio to 2 spans [1.5, 2.5] and no other
     * values than 1.5, 2 and 2.5 occur. */
    const double one[] = {2}, pair[] = {3, 5};
    compare_bootstrap_ratio(one, 1, pair, 2, 4000, 0.95, 11, &lo, &hi);
    check(lo == 1.5 && hi == 2.5, "even-sized median: interval [%g, %g] = [1.5, 2.5]", lo, hi);

    /* Reproducible: the same seed gives the same interval, another seed
     * usually another. */
    double v1[40], v2[40];
    for (int i = 0; i < 40; i++) {
        v1[i] = 1.0 + 0.01 * ((i * 17) % 13);
        v2[i] = 1.1 + 0.01 * ((i * 7) % 11);
    }
    double lo2, hi2, lo3, hi3;
    compare_bootstrap_ratio(v1, 40, v2, 40, 2000, 0.95, 42, &lo, &hi);
    compare_bootstrap_ratio(v1, 40, v2, 40, 2000, 0.95, 42, &lo2, &hi2);
    compare_bootstrap_ratio(v1, 40, v2, 40, 2000, 0.95, 43, &lo3, &hi3);
    check(lo == lo2 && hi == hi2, "same seed, same interval [%.6f, %.6f]", lo, hi);
    check(lo < hi && lo > 1.0 && hi < 1.25, "interval [%.4f, %.4f] brackets the ratio", lo, hi);
    check(lo != lo3 || hi != hi3, "another seed, another draw [%.6f, %.6f]", lo3, hi3);
}

/* n samples around `center`, spread +-spread in a fixed zig-zag. */
static void fill(double *v, int n, double center, double spread, int phase)
{
    for (int i = 0; i < n; i++)
        v[i] = center * (1.0 + spread * (((i * 7 + phase) % 11) - 5) / 5.0);
}

static void test_verdicts(void)
{
    struct compare_settings s;
    compare_default_settings(&s);
    struct compare_result r;
    double b[30], n[30];

    fill(b, 30, 1.0, 0.02, 0);
    fill(n, 30, 1.10, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_SLOWER, "+10%%: %s (%s), ratio %.3f [%.3f, %.3f]",
          compare_verdict_name(r.verdict), r.reason, r.ratio, r.lo, r.hi);

    fill(n, 30, 0.80, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_FASTER, "-20%%: %s (%s)", compare_verdict_name(r.verdict),
          r.reason);

    fill(n, 30, 1.0, 0.02, 5);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_SAME, "same distribution: %s (%s)",
          compare_verdict_name(r.verdict), r.reason);

    /* +10% but a threshold of 20%: a real change, yet within the threshold. */
    struct compare_settings wide = s;
    wide.threshold = 0.20;
    fill(n, 30, 1.10, 0.02, 3);
    compare_samples(b, 30, n, 30, &wide, "k", &r);
    check(r.verdict == COMPARE_SAME, "+10%% with a 20%% threshold: %s (%s)",
          compare_verdict_name(r.verdict), r.reason);

    /* +5.5% against 5%: slower, but the interval reaches below 1.05. */
    fill(n, 30, 1.055, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR, "+5.5%% against 5%%: %s (%s)",
          compare_verdict_name(r.verdict), r.reason);

    fill(n, 30, 2.0, 0.02, 3);
    compare_samples(b, 8, n, 8, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR && strstr(r.reason, "too few"),
          "8 samples a side, even at 2x: %s (%s)", compare_verdict_name(r.verdict), r.reason);

    fill(b, 30, 0.001, 0.02, 0);
    fill(n, 30, 0.004, 0.02, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR && strstr(r.reason, "floor"),
          "microsecond medians under the floor: %s (%s)", compare_verdict_name(r.verdict),
          r.reason);

    /* Same center, spread +-40%: inside the threshold by the interval, maybe,
     * but far above the noise ceiling: never SAME. */
    fill(b, 30, 1.0, 0.4, 0);
    fill(n, 30, 1.0, 0.4, 3);
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_UNCLEAR, "+-40%% noise: %s (%s)", compare_verdict_name(r.verdict),
          r.reason);

    /* Instruction-count-like data: identical values on both sides. */
    for (int i = 0; i < 30; i++)
        b[i] = n[i] = 12.5;
    compare_samples(b, 30, n, 30, &s, "k", &r);
    check(r.verdict == COMPARE_SAME && r.lo == 1.0 && r.hi == 1.0 && r.p == 1.0,
          "identical constant samples: %s, [%g, %g], p %g", compare_verdict_name(r.verdict),
          r.lo, r.hi, r.p);
}

int main(void)
{
    check_name = "compare-unit";
    test_mann_whitney();
    test_bootstrap();
    test_verdicts();
    return check_finish();
}
