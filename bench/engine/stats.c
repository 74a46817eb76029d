/* stats.c — order statistics by sorting a copy (samples are one configuration's steps). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats_quantile_sorted(const double *sorted, long n, double q)
{
    if (n <= 0)
        return NAN;
    double pos = q * (double)(n - 1);
    long lo = (long)floor(pos);
    if (lo >= n - 1)
        return sorted[n - 1];
    double frac = pos - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void stats_sort(double *v, long n)
{
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, compare_double);
}

static double *sorted_copy(const double *v, long n)
{
    double *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    if (n > 0)
        memcpy(s, v, (size_t)n * sizeof *s);
    stats_sort(s, n);
    return s;
}

/* Each tail of the interval may hold at most this much probability. */
#define STATS_CI_TAIL 0.025

int stats_median_ci_ranks(long n, long *lo, long *hi)
{
    /* Walks the Binomial(n, 1/2) CDF up from 0. The probabilities are
     * carried as logarithms, log P(B = i+1) = log P(B = i) + log((n-i)/(i+1))
     * from log P(B = 0) = -n log 2: 2^-n underflows a double past n = 1074,
     * the logarithm never does, and the terms too small to matter round to
     * zero harmlessly. */
    double log_p = -(double)n * log(2.0), cdf = 0.0;
    long rank = -1;
    for (long i = 0; i < n; i++) {
        cdf += exp(log_p);
        if (cdf > STATS_CI_TAIL)
            break;
        rank = i;
        log_p += log((double)(n - i) / (double)(i + 1));
    }
    if (rank < 0)
        return -1;
    *lo = rank;
    *hi = n - 1 - rank;
    return 0;
}

double stats_noise_pct_sorted(const double *sorted, long n)
{
    long lo, hi;
    if (stats_median_ci_ranks(n, &lo, &hi) != 0)
        return NAN;
    double median = stats_quantile_sorted(sorted, n, 0.5);
    if (!(median > 0))
        return NAN;
    return 100.0 * (sorted[hi] - sorted[lo]) / (2.0 * median);
}

double stats_median(const double *v, long n)
{
    double *s = sorted_copy(v, n);
    if (!s)
        return NAN;
    double m = stats_quantile_sorted(s, n, 0.5);
    free(s);
    return m;
}

int stats_summarise(const double *v, long n, struct stats_summary *out)
{
    out->n = n;
    out->min = out->max = out->mean = out->stddev = NAN;
    out->q1 = out->median = out->q3 = out->mad = out->noise_pct = NAN;
    if (n <= 0)
        return 0;
    double *s = sorted_copy(v, n);
    if (!s)
        return -1;
    out->min = s[0];
    out->max = s[n - 1];
    out->q1 = stats_quantile_sorted(s, n, 0.25);
    out->median = stats_quantile_sorted(s, n, 0.5);
    out->q3 = stats_quantile_sorted(s, n, 0.75);
    out->noise_pct = stats_noise_pct_sorted(s, n);
    double sum = 0.0;
    for (long i = 0; i < n; i++)
        sum += s[i];
    out->mean = sum / (double)n;
    double ss = 0.0;
    for (long i = 0; i < n; i++)
        ss += (s[i] - out->mean) * (s[i] - out->mean);
    out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    for (long i = 0; i < n; i++)
        s[i] = fabs(s[i] - out->median);
    stats_sort(s, n);
    out->mad = stats_quantile_sorted(s, n, 0.5);
    free(s);
    return 0;
}
