/*
 * stats.h — robust summaries of a sample of step times: median and quartiles
 * (what the charts and verdicts use, since timing noise is skewed), plus n,
 * min, max, mean, standard deviation, median absolute deviation, and the
 * noise of the median: the relative half-width of its 95% confidence
 * interval, the figure adaptive sampling (--max-noise) drives down.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

struct stats_summary {
    long n;
    double min, max;
    double mean, stddev;  /* stddev with n-1 in the denominator; 0 for n < 2 */
    double q1, median, q3;
    double mad;           /* median of |x - median| */
    double noise_pct;     /* stats_noise_pct_sorted of the sample; NaN for n < 6 */
};

/* Summarises v[0..n) (not modified). All fields are NaN when n == 0.
 * Returns 0, or -1 if a scratch allocation failed. */
int stats_summarise(const double *v, long n, struct stats_summary *out);
/* Quantile q in [0,1] of sorted[0..n), interpolating linearly between order
 * statistics (NumPy's default, Hyndman-Fan type 7). */
double stats_quantile_sorted(const double *sorted, long n, double q);
/* The median of v[0..n) (not modified); NaN when n == 0 or on allocation failure. */
double stats_median(const double *v, long n);

/*
 * The 95% confidence interval of the median that holds for any continuous
 * distribution, from order statistics: the number B of samples below the
 * true median is Binomial(n, 1/2), so sorted[lo] <= median <= sorted[hi]
 * with hi = n-1-lo has probability 1 - 2 P(B <= lo). lo is the largest rank
 * that keeps this at least 0.95, i.e. the narrowest symmetric interval that
 * does (n = 10 gives ranks 1 and 8, n = 100 ranks 39 and 60, 0-based).
 * Returns 0, or -1 for n < 6: below that even the whole sample covers the
 * median with less than 95% (1 - 2/2^n).
 */
int stats_median_ci_ranks(long n, long *lo, long *hi);
/* The noise of the median of sorted[0..n): the interval's half-width
 * relative to the median, in percent, 100 (sorted[hi] - sorted[lo]) / (2
 * median). NaN when n < 6 or the median is not positive. */
double stats_noise_pct_sorted(const double *sorted, long n);
/* Sorts v[0..n) in place, ascending. */
void stats_sort(double *v, long n);

#endif
