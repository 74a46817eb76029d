/*
 * compare.c — `cnnbench compare BASE NEW`: reads the step times of two runs
 * (run directories, steps.csv or summary.csv files), pairs their
 * configurations, and gives each a verdict SAME, FASTER, SLOWER or UNCLEAR
 * with the ratio of medians and its bootstrap interval. Exits non-zero when a
 * configuration is SLOWER beyond the threshold, so CI can gate on it.
 *
 * Inputs are checked strictly: a file that is missing, empty, binary, cut
 * short or has a malformed row is an error naming the file and line, never a
 * verdict, because a gate fed half a file would otherwise say SAME.
 */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csvout.h"
#include "error.h"
#include "stats.h"

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */
/* ---------------------------------------------------------------------- */

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

/* splitmix64: a tiny, well-mixed generator; the bootstrap needs
 * reproducibility, not cryptographic quality. */
static uint64_t compare_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t compare_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
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
    uint64_t state = seed;
    for (int r = 0; r < resamples; r++) {
        for (long i = 0; i < nb; i++)
            draw[i] = base[compare_next(&state) % (uint64_t)nb];
        double mb = compare_median_inplace(draw, nb);
        for (long i = 0; i < nn; i++)
            draw[i] = new_[compare_next(&state) % (uint64_t)nn];
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
                                s->seed ^ compare_hash(seed_key), &out->lo, &out->hi) != 0)
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

/* ---------------------------------------------------------------------- */
/* Reading runs                                                            */
/* ---------------------------------------------------------------------- */

enum {
    COMPARE_LINE_MAX = 4096, /* longer lines are damage, not data */
    COMPARE_COLS_MAX = 128,
    COMPARE_KEY_MAX = 128,
};

/* What the samples of a run are. */
enum compare_kind {
    COMPARE_STEPS,   /* one sample per timed step (steps.csv) */
    COMPARE_SUMMARY, /* one sample per repetition: its median (summary.csv) */
};

/* One configuration, all repetitions pooled: the key without ":rN". */
struct compare_cell {
    char key[COMPARE_KEY_MAX];
    char timer[16];
    int mixed_timers;
    char status[80];  /* "" while every repetition finished ok */
    double *v;
    long n, cap;
};

struct compare_run {
    const char *label; /* BASE or NEW */
    char path[4096];   /* the file the samples came from */
    enum compare_kind kind;
    struct compare_cell *cells;
    int n, cap;
};

static void compare_run_free(struct compare_run *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->cells[i].v);
    free(r->cells);
    r->cells = NULL;
    r->n = r->cap = 0;
}

static struct compare_cell *compare_find(struct compare_run *r, const char *key)
{
    /* Rows of one configuration are contiguous, so the last cell usually hits. */
    for (int i = r->n - 1; i >= 0; i--)
        if (strcmp(r->cells[i].key, key) == 0)
            return &r->cells[i];
    return NULL;
}

static cnn_status compare_cell_get(struct compare_run *r, const char *key,
                                   struct compare_cell **out)
{
    struct compare_cell *c = compare_find(r, key);
    if (!c) {
        if (r->n == r->cap) {
            int cap = r->cap ? 2 * r->cap : 64;
            struct compare_cell *g = realloc(r->cells, (size_t)cap * sizeof *g);
            if (!g)
                return cnn_fail(CNN_E_NOMEM, "cannot allocate %d configurations", cap);
            r->cells = g;
            r->cap = cap;
        }
        c = &r->cells[r->n++];
        memset(c, 0, sizeof *c);
        snprintf(c->key, sizeof c->key, "%s", key);
    }
    *out = c;
    return CNN_OK;
}

static cnn_status compare_cell_add(struct compare_cell *c, double v)
{
    if (c->n == c->cap) {
        long cap = c->cap ? 2 * c->cap : 64;
        double *g = realloc(c->v, (size_t)cap * sizeof *g);
        if (!g)
            return cnn_fail(CNN_E_NOMEM, "cannot allocate %ld samples", cap);
        c->v = g;
        c->cap = cap;
    }
    c->v[c->n++] = v;
    return CNN_OK;
}

static void compare_cell_timer(struct compare_cell *c, const char *timer)
{
    if (!c->timer[0])
        snprintf(c->timer, sizeof c->timer, "%s", timer);
    else if (strcmp(c->timer, timer) != 0)
        c->mixed_timers = 1;
}

/* A whole CSV file split into lines in place. */
struct compare_text {
    const char *path;
    char *buf;
    size_t len, pos;
    long line;        /* number of the line last returned, from 1 */
};

static cnn_status compare_text_open(struct compare_text *t, const char *path)
{
    *t = (struct compare_text){.path = path};
    CNN_TRY(csv_read_file(path, &t->buf, &t->len));
    if (t->len == 0)
        return cnn_fail(CNN_E_DATA, "%s: empty file", path);
    if (memchr(t->buf, '\0', t->len))
        return cnn_fail(CNN_E_DATA, "%s: contains NUL bytes: not a CSV file", path);
    return CNN_OK;
}

/* The next line into *line (in place, line end stripped) with *more = 1;
 * *more = 0 at the end of the file. */
static cnn_status compare_text_next(struct compare_text *t, char **line, int *more)
{
    *more = 0;
    if (t->pos >= t->len)
        return CNN_OK;
    char *start = t->buf + t->pos;
    char *nl = memchr(start, '\n', t->len - t->pos);
    size_t n = nl ? (size_t)(nl - start) : t->len - t->pos;
    t->line++;
    if (n > COMPARE_LINE_MAX)
        return cnn_fail(CNN_E_DATA, "%s: line %ld is longer than %d bytes: not a cnnbench CSV",
                        t->path, t->line, COMPARE_LINE_MAX);
    /* A plotting reader may drop a half-written last row (results/README.md);
     * a comparison may not: the rows it would lose are samples, and a gate
     * fed part of a run must not say SAME. */
    if (!nl)
        return cnn_fail(CNN_E_DATA, "%s: line %ld ends without a newline: the file was cut off",
                        t->path, t->line);
    *nl = '\0';
    if (n > 0 && start[n - 1] == '\r')
        start[n - 1] = '\0';
    t->pos += n + 1;
    *line = start;
    *more = 1;
    return CNN_OK;
}

/* Columns a reader needs, found by name in the header. */
struct compare_columns {
    int ncols;
    int key, impl, variant, threads, batch, filters, rep, step, region, time, timer;
    int loss, accuracy, status, median, n_steps;
};

static cnn_status compare_need(const struct compare_text *t, char *const *hdr, int n,
                               const char *name, int *col)
{
    *col = csv_find_column(hdr, n, name);
    if (*col < 0)
        return cnn_fail(CNN_E_DATA, "%s: no column '%s' in the header: not a cnnbench %s",
                        t->path, name,
                        csv_find_column(hdr, n, "region") >= 0 ? "steps.csv" : "summary.csv");
    return CNN_OK;
}

static int compare_parse_count(const char *s, long lo, long *out)
{
    if (!*s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo)
        return -1;
    *out = v;
    return 0;
}

/* A finite number >= 0; empty only where allow_empty (then NaN). */
static int compare_parse_value(const char *s, int allow_empty, double *out)
{
    if (!*s) {
        *out = NAN;
        return allow_empty ? 0 : -1;
    }
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return -1; /* rejects signs, "nan", "inf" and text */
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static cnn_status compare_bad_field(const struct compare_text *t, const char *col,
                                    const char *value, const char *want)
{
    return cnn_fail(CNN_E_DATA, "%s: line %ld: column '%s' holds '%.40s', not %s", t->path,
                    t->line, col, value, want);
}

/* Checks the identifying columns every row carries and builds the cell key:
 * the configuration key without its ":r<rep>" part. */
static cnn_status compare_row_key(const struct compare_text *t, const struct compare_columns *c,
                                  char *const *f, char *key, size_t len)
{
    static const char *const names[] = {"variant", "threads", "batch", "filters", "rep"};
    const int cols[] = {c->variant, c->threads, c->batch, c->filters, c->rep};
    const long lows[] = {0, 0, 1, 1, 1};
    long rep = 0;
    for (int i = 0; i < 5; i++) {
        long v;
        if (compare_parse_count(f[cols[i]], lows[i], &v) != 0)
            return compare_bad_field(t, names[i], f[cols[i]],
                                     lows[i] ? "a positive integer" : "an integer >= 0");
        if (cols[i] == c->rep)
            rep = v;
    }
    if (!f[c->key][0] || !f[c->impl][0] || !f[c->timer][0])
        return cnn_fail(CNN_E_DATA, "%s: line %ld: empty config_key, impl or timer", t->path,
                        t->line);
    if (strlen(f[c->key]) >= len)
        return cnn_fail(CNN_E_DATA, "%s: line %ld: config_key longer than %zu bytes", t->path,
                        t->line, len - 1);
    snprintf(key, len, "%s", f[c->key]);
    char suffix[32];
    snprintf(suffix, sizeof suffix, ":r%ld", rep);
    size_t kl = strlen(key), sl = strlen(suffix);
    if (kl > sl && strcmp(key + kl - sl, suffix) == 0)
        key[kl - sl] = '\0';
    return CNN_OK;
}

/* Reads the header line and splits it. */
static cnn_status compare_header(struct compare_text *t, char **hdr, int *n)
{
    char *line = NULL;
    int more;
    CNN_TRY(compare_text_next(t, &line, &more));
    if (!more)
        return cnn_fail(CNN_E_DATA, "%s: no header line", t->path);
    *n = csv_split(line, hdr, COMPARE_COLS_MAX);
    return CNN_OK;
}

/* The next data row, split; its field count must match the header's. */
static cnn_status compare_row(struct compare_text *t, int ncols, char **f, int *more)
{
    char *line = NULL;
    CNN_TRY(compare_text_next(t, &line, more));
    if (!*more)
        return CNN_OK;
    if (!line[0])
        return cnn_fail(CNN_E_DATA, "%s: line %ld is empty", t->path, t->line);
    int n = csv_split(line, f, ncols + 1);
    if (n != ncols)
        return cnn_fail(CNN_E_DATA, "%s: line %ld has %s%d fields, the header has %d", t->path,
                        t->line, n > ncols ? "more than " : "", n > ncols ? ncols : n, ncols);
    return CNN_OK;
}

static cnn_status compare_read_steps(struct compare_text *t, char **hdr, int nh,
                                     const char *region, struct compare_run *run)
{
    struct compare_columns c = {.ncols = nh};
    CNN_TRY(compare_need(t, hdr, nh, "config_key", &c.key));
    CNN_TRY(compare_need(t, hdr, nh, "impl", &c.impl));
    CNN_TRY(compare_need(t, hdr, nh, "variant", &c.variant));
    CNN_TRY(compare_need(t, hdr, nh, "threads", &c.threads));
    CNN_TRY(compare_need(t, hdr, nh, "batch", &c.batch));
    CNN_TRY(compare_need(t, hdr, nh, "filters", &c.filters));
    CNN_TRY(compare_need(t, hdr, nh, "rep", &c.rep));
    CNN_TRY(compare_need(t, hdr, nh, "step", &c.step));
    CNN_TRY(compare_need(t, hdr, nh, "region", &c.region));
    CNN_TRY(compare_need(t, hdr, nh, "time_ms", &c.time));
    CNN_TRY(compare_need(t, hdr, nh, "timer", &c.timer));
    c.loss = csv_find_column(hdr, nh, "loss");
    c.accuracy = csv_find_column(hdr, nh, "batch_accuracy_pct");

    long rows = 0, matched = 0;
    char *f[COMPARE_COLS_MAX + 1];
    for (;;) {
        int more;
        CNN_TRY(compare_row(t, nh, f, &more));
        if (!more)
            break;
        rows++;
        char key[COMPARE_KEY_MAX];
        CNN_TRY(compare_row_key(t, &c, f, key, sizeof key));
        long step;
        double ms, extra;
        if (compare_parse_count(f[c.step], 1, &step) != 0)
            return compare_bad_field(t, "step", f[c.step], "a positive integer");
        if (!f[c.region][0])
            return cnn_fail(CNN_E_DATA, "%s: line %ld: empty region", t->path, t->line);
        if (compare_parse_value(f[c.time], 0, &ms) != 0)
            return compare_bad_field(t, "time_ms", f[c.time], "a time >= 0");
        if (c.loss >= 0 && compare_parse_value(f[c.loss], 1, &extra) != 0)
            return compare_bad_field(t, "loss", f[c.loss], "a number >= 0");
        if (c.accuracy >= 0 && compare_parse_value(f[c.accuracy], 1, &extra) != 0)
            return compare_bad_field(t, "batch_accuracy_pct", f[c.accuracy], "a number >= 0");
        if (strcmp(f[c.region], region) != 0)
            continue;
        matched++;
        struct compare_cell *cell;
        CNN_TRY(compare_cell_get(run, key, &cell));
        compare_cell_timer(cell, f[c.timer]);
        CNN_TRY(compare_cell_add(cell, ms));
    }
    if (rows == 0)
        return cnn_fail(CNN_E_DATA, "%s: no data rows", t->path);
    if (matched == 0)
        return cnn_fail(CNN_E_DATA, "%s: no rows of region '%s'", t->path, region);
    return CNN_OK;
}

/* summary.csv: one sample per finished repetition (its median), and the
 * status of every repetition. With samples == 0 only the statuses are kept
 * (a run directory's samples come from its steps.csv). */
static cnn_status compare_read_summary(struct compare_text *t, char **hdr, int nh,
                                       const char *region, int samples, struct compare_run *run)
{
    struct compare_columns c = {.ncols = nh};
    char median_col[64];
    snprintf(median_col, sizeof median_col, "median_%s_ms", region);
    CNN_TRY(compare_need(t, hdr, nh, "config_key", &c.key));
    CNN_TRY(compare_need(t, hdr, nh, "impl", &c.impl));
    CNN_TRY(compare_need(t, hdr, nh, "variant", &c.variant));
    CNN_TRY(compare_need(t, hdr, nh, "threads", &c.threads));
    CNN_TRY(compare_need(t, hdr, nh, "batch", &c.batch));
    CNN_TRY(compare_need(t, hdr, nh, "filters", &c.filters));
    CNN_TRY(compare_need(t, hdr, nh, "rep", &c.rep));
    CNN_TRY(compare_need(t, hdr, nh, "n_steps", &c.n_steps));
    CNN_TRY(compare_need(t, hdr, nh, "status", &c.status));
    CNN_TRY(compare_need(t, hdr, nh, "timer", &c.timer));
    CNN_TRY(compare_need(t, hdr, nh, median_col, &c.median));

    long rows = 0;
    char *f[COMPARE_COLS_MAX + 1];
    for (;;) {
        int more;
        CNN_TRY(compare_row(t, nh, f, &more));
        if (!more)
            break;
        rows++;
        char key[COMPARE_KEY_MAX];
        CNN_TRY(compare_row_key(t, &c, f, key, sizeof key));
        long n_steps;
        double ms;
        if (compare_parse_count(f[c.n_steps], 0, &n_steps) != 0)
            return compare_bad_field(t, "n_steps", f[c.n_steps], "an integer >= 0");
        if (compare_parse_value(f[c.median], 1, &ms) != 0)
            return compare_bad_field(t, median_col, f[c.median], "a time >= 0 or empty");
        if (!f[c.status][0])
            return cnn_fail(CNN_E_DATA, "%s: line %ld: empty status", t->path, t->line);
        struct compare_cell *cell;
        CNN_TRY(compare_cell_get(run, key, &cell));
        compare_cell_timer(cell, f[c.timer]);
        if (strcmp(f[c.status], "ok") != 0) {
            if (!cell->status[0])
                snprintf(cell->status, sizeof cell->status, "%s", f[c.status]);
            continue;
        }
        /* An empty median of a finished repetition: the region does not
         * apply to this backend (h2d on a CPU). */
        if (samples && !isnan(ms))
            CNN_TRY(compare_cell_add(cell, ms));
    }
    if (rows == 0)
        return cnn_fail(CNN_E_DATA, "%s: no data rows", t->path);
    return CNN_OK;
}

/* Reads one CSV file, steps.csv or summary.csv as its header says. */
static cnn_status compare_read_file(const char *path, const char *region,
                                    struct compare_run *run)
{
    struct compare_text t;
    cnn_status st = compare_text_open(&t, path);
    char *hdr[COMPARE_COLS_MAX];
    int nh = 0;
    if (st == CNN_OK)
        st = compare_header(&t, hdr, &nh);
    if (st == CNN_OK) {
        snprintf(run->path, sizeof run->path, "%s", path);
        if (csv_find_column(hdr, nh, "region") >= 0) {
            run->kind = COMPARE_STEPS;
            st = compare_read_steps(&t, hdr, nh, region, run);
        } else if (csv_find_column(hdr, nh, "median_step_ms") >= 0) {
            run->kind = COMPARE_SUMMARY;
            st = compare_read_summary(&t, hdr, nh, region, 1, run);
        } else {
            st = cnn_fail(CNN_E_DATA,
                          "%s: not a cnnbench steps.csv or summary.csv (no 'region' or "
                          "'median_step_ms' column)", path);
        }
    }
    free(t.buf);
    return st;
}

/* A run directory: samples from steps.csv, statuses from summary.csv. */
static cnn_status compare_read_dir(const char *dir, const char *region, struct compare_run *run)
{
    char steps[4096], summary[4096];
    snprintf(steps, sizeof steps, "%s/steps.csv", dir);
    snprintf(summary, sizeof summary, "%s/summary.csv", dir);
    struct stat sb;
    if (stat(steps, &sb) != 0 || stat(summary, &sb) != 0)
        return cnn_fail(CNN_E_IO, "%s: not a cnnbench run directory (%s missing)", dir,
                        stat(steps, &sb) != 0 ? "steps.csv" : "summary.csv");

    struct compare_text t;
    char *hdr[COMPARE_COLS_MAX];
    int nh = 0;
    cnn_status st = compare_text_open(&t, steps);
    if (st == CNN_OK)
        st = compare_header(&t, hdr, &nh);
    if (st == CNN_OK && csv_find_column(hdr, nh, "region") < 0)
        st = cnn_fail(CNN_E_DATA, "%s: no column 'region': not a cnnbench steps.csv", steps);
    if (st == CNN_OK) {
        snprintf(run->path, sizeof run->path, "%s", steps);
        run->kind = COMPARE_STEPS;
        st = compare_read_steps(&t, hdr, nh, region, run);
    }
    free(t.buf);
    CNN_TRY(st);

    struct compare_run status = {.label = run->label};
    st = compare_text_open(&t, summary);
    if (st == CNN_OK)
        st = compare_header(&t, hdr, &nh);
    if (st == CNN_OK)
        st = compare_read_summary(&t, hdr, nh, "step", 0, &status);
    free(t.buf);
    if (st == CNN_OK) {
        for (int i = 0; i < run->n; i++) {
            struct compare_cell *c = &run->cells[i];
            const struct compare_cell *s = compare_find(&status, c->key);
            if (!s)
                snprintf(c->status, sizeof c->status, "unfinished (not in summary.csv)");
            else if (s->status[0])
                snprintf(c->status, sizeof c->status, "%s", s->status);
        }
    }
    compare_run_free(&status);
    return st;
}

static cnn_status compare_read(const char *arg, const char *region, struct compare_run *run)
{
    struct stat sb;
    if (stat(arg, &sb) != 0)
        return cnn_fail(CNN_E_IO, "%s: %s", arg, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return compare_read_dir(arg, region, run);
    if (!S_ISREG(sb.st_mode))
        return cnn_fail(CNN_E_IO, "%s: not a regular file or directory", arg);
    return compare_read_file(arg, region, run);
}

/* ---------------------------------------------------------------------- */
/* The command                                                             */
/* ---------------------------------------------------------------------- */

static const char compare_help[] =
    "Usage: cnnbench compare [OPTIONS] BASE NEW\n"
    "\n"
    "Compares the step times of two runs, configuration by configuration, and\n"
    "says whether NEW is the SAME as BASE, FASTER, SLOWER or UNCLEAR.\n"
    "\n"
    "  BASE, NEW   run directories (samples: every timed step in steps.csv; the\n"
    "              status of each configuration: summary.csv), or two steps.csv\n"
    "              files (cnnbench train --csv), or two summary.csv files (one\n"
    "              sample per repetition: its median; needs --reps >= 9)\n"
    "  A configuration is the config_key without its repetition (:rN): the\n"
    "  repetitions of a run are pooled.\n"
    "\n"
    "Verdicts. Each configuration starts UNCLEAR and is upgraded only on evidence:\n"
    "  ratio     median(NEW) / median(BASE), with a 95% percentile bootstrap\n"
    "            interval [lo, hi] (seeded: the same inputs give the same table)\n"
    "  SLOWER    lo > 1 + threshold, Mann-Whitney U p < 0.05, and the medians\n"
    "            differ by at least the floor\n"
    "  FASTER    hi < 1 - threshold, p < 0.05, difference at least the floor\n"
    "  SAME      1 - threshold <= lo and hi <= 1 + threshold, and both runs'\n"
    "            IQR / median at most the noise ceiling\n"
    "  UNCLEAR   anything else: fewer than 9 samples on a side, a median below\n"
    "            the floor, an interval across the threshold, noisy samples,\n"
    "            a configuration that did not finish, or different timers\n"
    "\n"
    "Options:\n"
    "  --threshold PCT   relative change that matters, in percent (default 5)\n"
    "  --floor-ms MS     medians and differences below this say nothing\n"
    "                    (default 0.005)\n"
    "  --max-noise PCT   noise ceiling for SAME: IQR / median (default 10)\n"
    "  --region NAME     compare this region instead of the whole step (conv_fwd,\n"
    "                    fc_fwd, ..., as in steps.csv)\n"
    "  --resamples N     bootstrap resamples (default 2000)\n"
    "  --seed S          bootstrap seed (default 1)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 no configuration SLOWER; 1 a configuration is SLOWER by more\n"
    "than the threshold, or an input is missing or malformed (the message says\n"
    "which); 2 bad command line.\n"
    "\n"
    "Examples:\n"
    "  cnnbench compare results/baseline/h100 results/20250131-120000-quick\n"
    "  cnnbench compare --threshold 10 old/steps.csv new/steps.csv\n";

struct compare_opts {
    struct compare_settings s;
    const char *region;
    const char *base, *new_;
};

static cnn_status compare_parse_percent(const char *opt, const char *text, double hi,
                                        double *out)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '%')
        buf[n - 1] = '\0';
    double pct;
    CNN_TRY(cli_parse_positive_double(opt, buf, hi, &pct));
    *out = pct / 100.0;
    return CNN_OK;
}

static cnn_status compare_parse_options(int argc, char **argv, struct compare_opts *o,
                                        int *help)
{
    static const char *const valued[] = {
        "threshold", "floor-ms", "max-noise", "region", "resamples", "seed", NULL,
    };
    *o = (struct compare_opts){.region = "step"};
    compare_default_settings(&o->s);
    *help = 0;
    struct cli_scan s;
    cli_scan_init(&s, argc, argv, 0);
    int r;
    while ((r = cli_scan_next(&s)) > 0) {
        if (s.positional) {
            if (!o->base)
                o->base = s.positional;
            else if (!o->new_)
                o->new_ = s.positional;
            else
                return cnn_fail(CNN_E_ARG, "unexpected argument '%s': compare takes BASE and NEW",
                                s.positional);
            continue;
        }
        const char *n = s.name, *v = NULL;
        if (!strcmp(n, "help")) {
            *help = 1;
            return CNN_OK;
        }
        CNN_TRY(cli_scan_known(&s, valued));
        CNN_TRY(cli_scan_value(&s, &v));
        if (!strcmp(n, "threshold")) {
            CNN_TRY(compare_parse_percent(n, v, 1000.0, &o->s.threshold));
        } else if (!strcmp(n, "max-noise")) {
            CNN_TRY(compare_parse_percent(n, v, 1000.0, &o->s.max_noise));
        } else if (!strcmp(n, "floor-ms")) {
            CNN_TRY(cli_parse_positive_double(n, v, 1e6, &o->s.floor_ms));
        } else if (!strcmp(n, "resamples")) {
            CNN_TRY(cli_parse_int(n, v, 100, 1000000, &o->s.resamples));
        } else if (!strcmp(n, "seed")) {
            CNN_TRY(cli_parse_u64(n, v, &o->s.seed));
        } else {
            size_t len = strlen(v);
            if (len == 0 || len > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
                return cnn_fail(CNN_E_ARG, "--region: '%s' is not a region name (step, conv_fwd, "
                                "fc_fwd, ...)", v);
            o->region = v;
        }
    }
    if (r < 0)
        return CNN_E_ARG;
    if (!o->new_)
        return cnn_fail(CNN_E_ARG, "compare needs two runs: BASE and NEW");
    return CNN_OK;
}

/* "1.234", "<0.001", or "-" for a value not computed. */
static void compare_format_p(char *buf, size_t len, double p)
{
    if (isnan(p))
        snprintf(buf, len, "-");
    else if (p < 0.001)
        snprintf(buf, len, "<0.001");
    else
        snprintf(buf, len, "%.3f", p);
}

static void compare_format_noise(char *buf, size_t len, double b, double n)
{
    if (isnan(b) || isnan(n))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f%%/%.1f%%", 100.0 * b, 100.0 * n);
}

struct compare_line {
    const struct compare_cell *base, *new_;
    struct compare_result r;
};

static void compare_print(const struct compare_opts *o, const struct compare_run *base,
                          const struct compare_run *new_, const struct compare_line *lines,
                          int n)
{
    const char *what = base->kind == COMPARE_STEPS ? "every timed step" : "per-repetition medians";
    printf("cnnbench compare: region '%s', samples: %s\n", o->region, what);
    printf("  BASE %s\n  NEW  %s\n", base->path, new_->path);
    printf("  ratio = median(NEW) / median(BASE), %.0f%% bootstrap interval (%d resamples, "
           "seed %llu);\n", 100.0 * o->s.confidence, o->s.resamples,
           (unsigned long long)o->s.seed);
    printf("  threshold %g%%, floor %g ms, noise ceiling %g%%, U test at p < %g, "
           ">= %d samples a side\n\n", 100.0 * o->s.threshold, o->s.floor_ms,
           100.0 * o->s.max_noise, o->s.alpha, o->s.min_samples);

    int kw = (int)strlen("configuration");
    for (int i = 0; i < n; i++)
        if ((int)strlen(lines[i].base->key) > kw)
            kw = (int)strlen(lines[i].base->key);
    printf("%-*s  %9s  %11s  %11s  %7s  %-17s  %8s  %-13s  %-7s  %s\n", kw, "configuration",
           "n b/n", "base ms", "new ms", "ratio", "95% interval", "U test p", "IQR/med b/n",
           "verdict", "why");
    for (int i = 0; i < n; i++) {
        const struct compare_result *r = &lines[i].r;
        char counts[32], mb[32], mn[32], ratio[32], ci[48], p[16], noise[32];
        snprintf(counts, sizeof counts, "%ld/%ld", r->n_base, r->n_new);
        if (isnan(r->median_base))
            snprintf(mb, sizeof mb, "-");
        else
            snprintf(mb, sizeof mb, "%.4g", r->median_base);
        if (isnan(r->median_new))
            snprintf(mn, sizeof mn, "-");
        else
            snprintf(mn, sizeof mn, "%.4g", r->median_new);
        if (isnan(r->ratio))
            snprintf(ratio, sizeof ratio, "-");
        else
            snprintf(ratio, sizeof ratio, "%.3f", r->ratio);
        if (isnan(r->lo))
            snprintf(ci, sizeof ci, "-");
        else
            snprintf(ci, sizeof ci, "[%.3f, %.3f]", r->lo, r->hi);
        compare_format_p(p, sizeof p, r->p);
        compare_format_noise(noise, sizeof noise, r->noise_base, r->noise_new);
        printf("%-*s  %9s  %11s  %11s  %7s  %-17s  %8s  %-13s  %-7s  %s\n", kw,
               lines[i].base->key, counts, mb, mn, ratio, ci, p, noise,
               compare_verdict_name(r->verdict), r->reason);
    }
}

/* Lists the configurations of `a` that `b` lacks, if any. */
static void compare_print_unmatched(const struct compare_run *a, struct compare_run *b)
{
    int shown = 0;
    for (int i = 0; i < a->n; i++) {
        const struct compare_cell *c = &a->cells[i];
        if ((c->n == 0 && !c->status[0]) || compare_find(b, c->key))
            continue;
        printf("%s%s", shown ? ", " : "\nonly in ", shown ? "" : a->label);
        if (!shown)
            printf(" (no verdict): ");
        printf("%s", c->key);
        shown++;
    }
    if (shown)
        printf("\n");
}

static cnn_status compare_runs(const struct compare_opts *o, struct compare_run *base,
                               struct compare_run *new_, int *slower)
{
    if (base->kind != new_->kind)
        return cnn_fail(CNN_E_ARG,
                        "cannot compare %s (BASE: %s) with %s (NEW: %s): give two run "
                        "directories, two steps.csv or two summary.csv files",
                        base->kind == COMPARE_STEPS ? "step samples" : "per-repetition medians",
                        base->path,
                        new_->kind == COMPARE_STEPS ? "step samples" : "per-repetition medians",
                        new_->path);
    struct compare_line *lines = malloc((size_t)(base->n ? base->n : 1) * sizeof *lines);
    if (!lines)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the comparison table");
    int n = 0;
    for (int i = 0; i < base->n; i++) {
        const struct compare_cell *b = &base->cells[i];
        const struct compare_cell *m = compare_find(new_, b->key);
        /* A cell with neither samples nor a failure: the region does not apply. */
        if (!m || ((b->n == 0 && !b->status[0]) && (m->n == 0 && !m->status[0])))
            continue;
        struct compare_line *l = &lines[n++];
        l->base = b;
        l->new_ = m;
        if (compare_samples(b->v, b->n, m->v, m->n, &o->s, b->key, &l->r) != 0) {
            free(lines);
            return cnn_fail(CNN_E_NOMEM, "cannot allocate the statistics of %s", b->key);
        }
        /* Problems with the runs themselves overrule the statistics. */
        const char *why = NULL;
        char buf[sizeof l->r.reason];
        if (b->status[0] || m->status[0]) {
            snprintf(buf, sizeof buf, "%s did not finish: %s", b->status[0] ? "BASE" : "NEW",
                     b->status[0] ? b->status : m->status);
            why = buf;
        } else if (b->mixed_timers || m->mixed_timers) {
            why = "a run mixes timers";
        } else if (strcmp(b->timer, m->timer) != 0) {
            snprintf(buf, sizeof buf, "timers differ: %s vs %s", b->timer, m->timer);
            why = buf;
        }
        if (why) {
            l->r.verdict = COMPARE_UNCLEAR;
            snprintf(l->r.reason, sizeof l->r.reason, "%s", why);
        }
    }
    if (n == 0) {
        free(lines);
        return cnn_fail(CNN_E_DATA,
                        "%s and %s have no configuration in common (with samples of region "
                        "'%s')", base->path, new_->path, o->region);
    }

    compare_print(o, base, new_, lines, n);
    int count[4] = {0};
    for (int i = 0; i < n; i++)
        count[lines[i].r.verdict]++;
    compare_print_unmatched(base, new_);
    compare_print_unmatched(new_, base);
    printf("\n%d configuration%s: %d SAME, %d FASTER, %d SLOWER, %d UNCLEAR\n", n, n > 1 ? "s" : "",
           count[COMPARE_SAME], count[COMPARE_FASTER], count[COMPARE_SLOWER],
           count[COMPARE_UNCLEAR]);
    fflush(stdout);

    *slower = count[COMPARE_SLOWER];
    if (*slower) {
        const char *first = NULL;
        for (int i = 0; i < n && !first; i++)
            if (lines[i].r.verdict == COMPARE_SLOWER)
                first = lines[i].base->key;
        cnn_fail(CNN_E_DATA, "regression: %d configuration%s SLOWER by more than %g%% (%s%s)",
                 *slower, *slower > 1 ? "s" : "", 100.0 * o->s.threshold, first,
                 *slower > 1 ? ", ..." : "");
    }
    free(lines);
    return CNN_OK;
}

enum cli_outcome compare_command(int argc, char **argv)
{
    struct compare_opts o;
    int help;
    if (compare_parse_options(argc, argv, &o, &help) != CNN_OK)
        return CLI_USAGE;
    if (help) {
        fputs(compare_help, stdout);
        return CLI_DONE;
    }
    struct compare_run base = {.label = "BASE"}, new_ = {.label = "NEW"};
    cnn_status st = compare_read(o.base, o.region, &base);
    if (st == CNN_OK)
        st = compare_read(o.new_, o.region, &new_);
    int slower = 0;
    if (st == CNN_OK)
        st = compare_runs(&o, &base, &new_, &slower);
    compare_run_free(&base);
    compare_run_free(&new_);
    if (st == CNN_E_ARG)
        return CLI_USAGE;
    if (st != CNN_OK || slower)
        return CLI_FAILED;
    return CLI_DONE;
}
