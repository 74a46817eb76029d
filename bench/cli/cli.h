/*
 * cli.h — command-line plumbing shared by the subcommands: a small long-option
 * scanner ("--name VALUE" or "--name=VALUE"; each option at most once, and
 * never with an empty value), strict decimal number parsing with ranges, and
 * sweep-axis lists ("1,2,4", "32:256:x2", "1:8", "10:50:+10").
 *
 * Nothing here prints. A bad value records a message with cnn_fail(CNN_E_ARG)
 * and the subcommand reports CLI_USAGE to main, which prints it and exits 2.
 */
#ifndef BENCH_CLI_H
#define BENCH_CLI_H

#include <stdint.h>

#include "cnn.h"

/* What a subcommand hands back to main(), the only place that prints errors. */
enum cli_outcome {
    CLI_DONE = 0,        /* success, exit 0 */
    CLI_USAGE = 1,       /* bad command line: message in cnn_last_error(), exit 2 */
    CLI_FAILED = 2,      /* runtime failure: message in cnn_last_error(), exit 1 */
    CLI_INTERRUPTED = 3, /* SIGINT or SIGTERM: finished results were kept, exit 128 + signal */
    CLI_DIVERGED = 4,    /* train, sweep: the loss or a parameter turned NaN or infinite, exit 3 */
    /* compare, whose exit status 1 means a regression and nothing else: */
    CLI_BAD_INPUT = 5,    /* an input missing or malformed: message, exit 2 */
    CLI_INCOMPARABLE = 6, /* runs of different machines or builds: message, exit 3 */
};

enum {
    CLI_EXIT_FAILED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_DIVERGED = 3,      /* train and sweep */
    CLI_EXIT_INCOMPARABLE = 3,  /* compare */
    CLI_EXIT_SIGNAL_BASE = 128, /* + the signal: 130 SIGINT, 143 SIGTERM, as shells report */
    CLI_AXIS_MAX = 64,          /* values in one axis list */
    CLI_OPTIONS_MAX = 32,       /* distinct options one command line may give */
};

/* The most steps one configuration may train, --steps or --epochs alike:
 * the per-step records of a run are held in memory (about 100 bytes each). */
#define CLI_MAX_STEPS 100000000L

/* Scanner over argv[first..argc). */
struct cli_scan {
    int argc;
    char **argv;
    int next;               /* index of the next argv element */
    char name[64];          /* current option without the leading "--" */
    const char *inline_val; /* the part after '=' in "--name=value", or NULL */
    const char *positional; /* set instead of name for a non-option argument */
    char seen[CLI_OPTIONS_MAX][64]; /* options given so far, to refuse a repeat */
    int n_seen;
};

void cli_scan_init(struct cli_scan *s, int argc, char **argv, int first);
/* Advances to the next argument: 1 if there is one (an option in s->name, or
 * a positional in s->positional), 0 at the end, -1 (CNN_E_ARG recorded) for
 * a malformed option such as "-x" or an option given a second time (the
 * last value silently winning would hide a typo in a long command line). */
int cli_scan_next(struct cli_scan *s);
/* The option's value: inline after '=' or the next argument; never empty. */
cnn_status cli_scan_value(struct cli_scan *s, const char **value);
/* CNN_E_ARG "unknown option" unless s->name is in the NULL-terminated list. */
cnn_status cli_scan_known(const struct cli_scan *s, const char *const *names);
/* CNN_E_ARG if the current option carried "=value" although it takes none. */
cnn_status cli_scan_no_value(const struct cli_scan *s);

/* Decimal integer in [lo, hi]; rejects signs where lo >= 0, trailing junk,
 * empty strings and overflow. opt names the option in the message. */
cnn_status cli_parse_long(const char *opt, const char *text, long lo, long hi, long *out);
cnn_status cli_parse_int(const char *opt, const char *text, int lo, int hi, int *out);
cnn_status cli_parse_u64(const char *opt, const char *text, uint64_t *out);
/* A positive decimal number in (0, hi] ("0.1", "1e-3", ".5"; no hex, inf,
 * nan or leading blanks), at least FLT_MIN so that it survives conversion
 * to float. */
cnn_status cli_parse_positive_double(const char *opt, const char *text, double hi, double *out);

/* Adaptive sampling, the same three options for sweep and train: --max-noise
 * PCT (0: take exactly the planned steps), bounded by --min-steps and
 * --max-time, which mean nothing without it. */
struct cli_sampling {
    double max_noise;
    long min_steps;
    double max_time;
    int bounds_given; /* --min-steps or --max-time was on the command line */
};
/* 1 if `name` (without its dashes) is one of the three. */
int cli_is_sampling_option(const char *name);
/* Parses the value of one of the three into s. */
cnn_status cli_parse_sampling(const char *name, const char *value, struct cli_sampling *s);
/* CNN_E_ARG with a message where the bounds were given without --max-noise. */
cnn_status cli_check_sampling(const struct cli_sampling *s);
/* "on"/"off" (also yes/no, 1/0). */
cnn_status cli_parse_switch(const char *opt, const char *text, int *out);

/* One sweep axis: distinct values in the order given. */
struct cli_axis {
    int n;
    int v[CLI_AXIS_MAX];
};

/*
 * Parses an axis list: comma-separated items, each a number or a range
 *   A:B       A, A+1, ..., B
 *   A:B:+S    A, A+S, ... up to B
 *   A:B:xS    A, A*S, A*S*S, ... up to B (geometric, S >= 2, A >= 1)
 * Every value must lie in [lo, hi]; duplicates are dropped.
 */
cnn_status cli_parse_axis(const char *opt, const char *text, int lo, int hi,
                          struct cli_axis *out);
/* A comma-separated list of words into a caller buffer (modified in place):
 * words[] point into buf. */
cnn_status cli_split_words(const char *opt, char *buf, const char **words, int max, int *n);

#endif
