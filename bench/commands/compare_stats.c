/*
 * compare_stats.c — the statistics behind a verdict of `cnnbench compare`
 * (compare.h): the defaults, a linear-time median, the Mann-Whitney U test,
 * the bootstrap interval of the ratio of medians, and the verdict itself.
 */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "rng.h"
#include "stats.h"

void compare_default_settings(struct compare_settings *s)
{
    *s = (struct compare_settings){
        .threshold = 0.05,
        /* A step of a few microseconds is mostly timer and launch overhead:
         * CUDA events resolve about 0.5 us. */
        .floor_ms = 0.005,
        .max_noise = 0.10,
        .alpha = 0.05,
        .confidence = 0.95,
        .resamples = 2000,
        /* The U test's normal approximation is meaningful from about 9
         * repetitions (google/benchmark's UTEST_OPTIMAL_REPETITIONS). */
        .min_samples = 9,
        .seed = 1,
    };
}

const char *compare_verdict_name(enum compare_verdict v)
{
    switch (v) {
    case COMPARE_SAME: return "SAME";
    case COMPARE_FASTER: return "FASTER";
    case COMPARE_SLOWER: return "SLOWER";
    case COMPARE_UNCLEAR: break;
    }
    return "UNCLEAR";
}

/* Moves the k-th smallest of v[0..n) to v[k] with everything before it no
 * larger (Hoare's selection), so a median costs O(n) instead of a sort. */
static void compare_select(double *v, long n, long k)
{
    long lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* Median of v[0..n), n >= 1, reordering v. */
static double compare_median_inplace(double *v, long n)
{
    long k = n / 2;
    compare_select(v, n, k);
    if (n % 2)
        return v[k];
    double below = v[0]; /* the largest of v[0..k) is the other middle value */
    for (long i = 1; i < k; i++)
        if (v[i] > below)
            below = v[i];
    return 0.5 * (below + v[k]);
}

static int compare_double_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int compare_bootstrap_ratio(const double *base, long nb, const double *new_, long nn,
                            int resamples, double confidence, uint64_t seed, double *lo,
                            double *hi)
{
    if (nb < 1 || nn < 1 || resamples < 1)
        return -1;
    double *draw = malloc((size_t)(nb > nn ? nb : nn) * sizeof *draw);
    double *ratios = malloc((size_t)resamples * sizeof *ratios);
    if (!draw || !ratios) {
        free(draw);
        free(ratios);
        return -1;
    }
    struct cnn_rng rng;
    cnn_rng_seed(&rng, seed);
    for (int r = 0; r < resamples; r++) {
        for (long i = 0; i < nb; i++)
            draw[i] = base[cnn_rng_below(&rng, (uint64_t)nb)];
        double mb = compare_median_inplace(draw, nb);
        for (long i = 0; i < nn; i++)
            draw[i] = new_[cnn_rng_below(&rng, (uint64_t)nn)];
        double mn = compare_median_inplace(draw, nn);
        /* 0/0 (a resample of mostly zero times) carries no information:
         * count it at the top, which can only widen the interval. */
        ratios[r] = mb > 0 || mn > 0 ? mn / mb : INFINITY;
    }
    qsort(ratios, (size_t)resamples, sizeof *ratios, compare_double_asc);
    *lo = stats_quantile_sorted(ratios, resamples, 0.5 * (1.0 - confidence));
    *hi = stats_quantile_sorted(ratios, resamples, 0.5 * (1.0 + confidence));
    free(draw);
    free(ratios);
    return 0;
}

struct compare_ranked {
    double v;
    int from_a;
};

static int compare_ranked_asc(const void *a, const void *b)
{
    return compare_double_asc(&((const struct compare_ranked *)a)->v,
                              &((const struct compare_ranked *)b)->v);
}

double compare_mann_whitney_p(const double *a, long na, const double *b, long nb)
{
    if (na < 1 || nb < 1)
        return NAN;
    long n = na + nb;
    struct compare_ranked *all = malloc((size_t)n * sizeof *all);
    if (!all)
        return NAN;
    for (long i = 0; i < na; i++)
        all[i] = (struct compare_ranked){a[i], 1};
    for (long i = 0; i < nb; i++)
        all[na + i] = (struct compare_ranked){b[i], 0};
    qsort(all, (size_t)n, sizeof *all, compare_ranked_asc);

    /* Tied values share the average of the ranks they span; each tie group
     * of size t shrinks the variance by t^3 - t. */
    double rank_sum_a = 0, ties = 0;
    for (long i = 0; i < n;) {
        long j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        double avg_rank = 0.5 * (double)(i + j) + 1.0;
        for (long k = i; k <= j; k++)
            if (all[k].from_a)
                rank_sum_a += avg_rank;
        double t = (double)(j - i + 1);
        ties += t * t * t - t;
        i = j + 1;
    }
    free(all);

    double u = rank_sum_a - 0.5 * (double)na * (double)(na + 1);
    double mu = 0.5 * (double)na * (double)nb;
    double var = (double)na * (double)nb / 12.0 *
                 ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
    if (!(var > 0))
        return 1.0;
    double dev = fabs(u - mu) - 0.5;
    if (dev < 0)
        dev = 0;
    return erfc(dev / sqrt(var) / sqrt(2.0));
}

/* Median and IQR / median of v[0..n). */
static int compare_describe(const double *v, long n, double *median, double *noise)
{
    struct stats_summary s;
    if (stats_summarise(v, n, &s) != 0)
        return -1;
    *median = s.median;
    *noise = s.median > 0 ? (s.q3 - s.q1) / s.median : INFINITY;
    return 0;
}

int compare_samples(const double *base, long nb, const double *new_, long nn,
                    const struct compare_settings *s, const char *seed_key,
                    struct compare_result *out)
{
    *out = (struct compare_result){
        .verdict = COMPARE_UNCLEAR, .n_base = nb, .n_new = nn, .median_base = NAN,
        .median_new = NAN, .noise_base = NAN, .noise_new = NAN, .ratio = NAN, .lo = NAN,
        .hi = NAN, .p = NAN,
    };
    if (nb < 1 || nn < 1) {
        snprintf(out->reason, sizeof out->reason, "no samples in %s", nb < 1 ? "BASE" : "NEW");
        return 0;
    }
    if (compare_describe(base, nb, &out->median_base, &out->noise_base) != 0 ||
        compare_describe(new_, nn, &out->median_new, &out->noise_new) != 0)
        return -1;
    out->ratio = out->median_new / out->median_base;
    if (nb < s->min_samples || nn < s->min_samples) {
        snprintf(out->reason, sizeof out->reason, "too few samples (%ld and %ld; need %d each)",
                 nb, nn, s->min_samples);
        return 0;
    }
    if (!(out->median_base >= s->floor_ms) || !(out->median_new >= s->floor_ms)) {
        snprintf(out->reason, sizeof out->reason, "median below the %g ms floor", s->floor_ms);
        return 0;
    }
    if (compare_bootstrap_ratio(base, nb, new_, nn, s->resamples, s->confidence,
                                s->seed ^ hash_fnv1a64_str(seed_key), &out->lo, &out->hi) != 0)
        return -1;
    out->p = compare_mann_whitney_p(base, nb, new_, nn);
    if (isnan(out->p))
        return -1;

    double up = 1.0 + s->threshold, down = 1.0 - s->threshold;
    double gap = out->median_new - out->median_base;
    int significant = out->p < s->alpha;
    int quiet = out->noise_base <= s->max_noise && out->noise_new <= s->max_noise;
    double pct = 100.0 * s->threshold;
    if (out->lo > up && significant && gap >= s->floor_ms) {
        out->verdict = COMPARE_SLOWER;
        snprintf(out->reason, sizeof out->reason, "slower by more than %g%%", pct);
    } else if (out->hi < down && significant && -gap >= s->floor_ms) {
        out->verdict = COMPARE_FASTER;
        snprintf(out->reason, sizeof out->reason, "faster by more than %g%%", pct);
    } else if (out->lo >= down && out->hi <= up && quiet) {
        out->verdict = COMPARE_SAME;
        snprintf(out->reason, sizeof out->reason, "within %g%%", pct);
    } else if (out->lo > up || out->hi < down) {
        if (!significant)
            snprintf(out->reason, sizeof out->reason, "U test not significant (p = %.2g)",
                     out->p);
        else
            snprintf(out->reason, sizeof out->reason, "difference below the %g ms floor",
                     s->floor_ms);
    } else if (out->lo >= down && out->hi <= up) {
        snprintf(out->reason, sizeof out->reason, "noisy: IQR %.0f%% of the median (ceiling %g%%)",
                 100.0 * fmax(out->noise_base, out->noise_new), 100.0 * s->max_noise);
    } else if (out->lo > 1.0 && significant) {
        snprintf(out->reason, sizeof out->reason, "slower, but not clearly by more than %g%%",
                 pct);
    } else if (out->hi < 1.0 && significant) {
        snprintf(out->reason, sizeof out->reason, "faster, but not clearly by more than %g%%",
                 pct);
    } else {
        snprintf(out->reason, sizeof out->reason,
                 "interval reaches past %g%%: more samples needed", pct);
    }
    return 0;
}
