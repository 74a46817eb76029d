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

static double *sorted_copy(const double *v, long n)
{
    double *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, compare_double);
    return s;
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
    out->q1 = out->median = out->q3 = out->mad = NAN;
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
    qsort(s, (size_t)n, sizeof *s, compare_double);
    out->mad = stats_quantile_sorted(s, n, 0.5);
    free(s);
    return 0;
}
