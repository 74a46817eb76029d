/*
 * stats.h — robust summaries of a sample of step times: median and quartiles
 * (what the charts and verdicts use, since timing noise is skewed), plus n,
 * min, max, mean, standard deviation and median absolute deviation.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

struct stats_summary {
    long n;
    double min, max;
    double mean, stddev;  /* stddev with n-1 in the denominator; 0 for n < 2 */
    double q1, median, q3;
    double mad;           /* median of |x - median| */
};

/* Summarises v[0..n) (not modified). All fields are NaN when n == 0.
 * Returns 0, or -1 if a scratch allocation failed. */
int stats_summarise(const double *v, long n, struct stats_summary *out);
/* Quantile q in [0,1] of sorted[0..n), interpolating linearly between order
 * statistics (NumPy's default, Hyndman-Fan type 7). */
double stats_quantile_sorted(const double *sorted, long n, double q);
/* The median of v[0..n) (not modified); NaN when n == 0 or on allocation failure. */
double stats_median(const double *v, long n);

#endif
