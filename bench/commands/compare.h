/*
 * compare.h — `cnnbench compare BASE NEW`: per configuration, a verdict on
 * whether NEW's step times are the SAME as BASE's, FASTER, SLOWER or
 * UNCLEAR, from the repeated samples of both runs.
 *
 * Every cell starts UNCLEAR and is upgraded only on evidence (the rule of
 * nvbench's robust compare): a seeded bootstrap interval of the ratio of
 * medians NEW/BASE, a Mann-Whitney U test, a floor that keeps tiny times out
 * and a noise ceiling for SAME. The statistics are exposed here so that the
 * unit tests can check them against hand-computed values.
 */
#ifndef BENCH_COMPARE_H
#define BENCH_COMPARE_H

#include <stdint.h>

#include "cli.h"

enum compare_verdict {
    COMPARE_UNCLEAR = 0,
    COMPARE_SAME = 1,
    COMPARE_FASTER = 2,
    COMPARE_SLOWER = 3,
};

struct compare_settings {
    double threshold;   /* relative change that counts, 0.05 = 5% */
    double floor_ms;    /* medians and differences below this say nothing */
    double max_noise;   /* SAME needs IQR / median at most this on both sides */
    double alpha;       /* Mann-Whitney significance level */
    double confidence;  /* bootstrap interval coverage, 0.95 */
    int resamples;      /* bootstrap resamples */
    int min_samples;    /* fewer samples on either side: UNCLEAR */
    uint64_t seed;      /* mixed with each configuration's key */
};

/* The defaults the CLI starts from (threshold 5%, floor 0.005 ms, ...). */
void compare_default_settings(struct compare_settings *s);

struct compare_result {
    enum compare_verdict verdict;
    char reason[160];           /* why, in a few words */
    long n_base, n_new;
    double median_base, median_new;
    double noise_base, noise_new; /* IQR / median */
    double ratio;               /* median_new / median_base */
    double lo, hi;              /* bootstrap interval of the ratio; NaN if not computed */
    double p;                   /* Mann-Whitney two-sided p; NaN if not computed */
};

/*
 * Two-sided p-value of the Mann-Whitney U test of a[0..na) against
 * b[0..nb): normal approximation with average ranks for ties, the tie
 * correction of the variance and a continuity correction of 0.5. Returns 1
 * when every value is tied, NaN if a scratch allocation failed or a side
 * is empty.
 */
double compare_mann_whitney_p(const double *a, long na, const double *b, long nb);

/*
 * Percentile bootstrap interval of median(new) / median(base): each of
 * `resamples` rounds draws both samples again with replacement (the
 * project's RNG, rng.h, seeded with `seed`, so the interval is
 * reproducible). Returns 0, or -1 if a scratch allocation failed or a side
 * is empty.
 */
int compare_bootstrap_ratio(const double *base, long nb, const double *new_, long nn,
                            int resamples, double confidence, uint64_t seed, double *lo,
                            double *hi);

/* The verdict for one configuration's samples. seed_key (the configuration
 * key) is hashed into the bootstrap seed so that a verdict does not depend on
 * the order of the files. Returns 0, or -1 on allocation failure. */
int compare_samples(const double *base, long nb, const double *new_, long nn,
                    const struct compare_settings *s, const char *seed_key,
                    struct compare_result *out);

/* "SAME", "FASTER", "SLOWER", "UNCLEAR". */
const char *compare_verdict_name(enum compare_verdict v);

/* The subcommand: arguments after "compare". CLI_FAILED when a configuration
 * is SLOWER beyond the threshold (the message says which), CLI_BAD_INPUT when
 * an input is missing or malformed, CLI_INCOMPARABLE when the runs' meta.json
 * name different machines or builds (without --force). */
enum cli_outcome compare_command(int argc, char **argv);

#endif
