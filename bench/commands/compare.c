/*
 * compare.c — `cnnbench compare BASE NEW`: reads the step times of two runs
 * (run directories, steps.csv or summary.csv files), pairs their
 * configurations, and gives each a verdict SAME, FASTER, SLOWER or UNCLEAR
 * with the ratio of medians and its bootstrap interval. Exits non-zero when a
 * configuration is SLOWER beyond the threshold, so CI can gate on it.
 *
 * Inputs are checked strictly: a file that is missing, empty, binary, cut
 * short, has a malformed row or a row repeated is an error naming the file
 * and line, never a verdict, because a gate fed half a file (or one file and
 * a half) would otherwise say SAME.
 *
 * Runs are compared only when their meta.json agree on the machine and the
 * build (CPU and GPU model, driver, compiler, flags, NCCL): otherwise the
 * ratio measures the machine, not the code, and compare exits 3 naming each
 * difference unless --force. --json writes the verdicts for CI.
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
#include "hash.h"
#include "json.h"
#include "meta.h"
#include "rng.h"
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
    char meta_path[4096];
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

/* Where a row of a file was, to find one that a botched copy repeated: a
 * repeated row would otherwise count as one more sample. The strings point
 * into the file's text. */
struct compare_row_id {
    const char *key;    /* config_key as written, with its ":rN" */
    const char *region; /* "" in summary.csv */
    long step;          /* 0 in summary.csv */
    long line;
};

/* A whole CSV file, read into memory and cut into records in place. */
struct compare_text {
    const char *path;
    char *buf;
    size_t len;
    struct csv_records records;
    long line;                  /* where the record last returned starts, from 1 */
    struct compare_row_id *ids; /* every data row read so far */
    long n_ids, cap_ids;
};

static cnn_status compare_text_open(struct compare_text *t, const char *path)
{
    *t = (struct compare_text){.path = path};
    CNN_TRY(csv_read_file(path, &t->buf, &t->len));
    if (t->len == 0)
        return cnn_fail(CNN_E_DATA, "%s: empty file", path);
    if (memchr(t->buf, '\0', t->len))
        return cnn_fail(CNN_E_DATA, "%s: contains NUL bytes: not a CSV file", path);
    csv_records_init(&t->records, t->buf, t->len);
    return CNN_OK;
}

static void compare_text_close(struct compare_text *t)
{
    free(t->buf);
    free(t->ids);
    t->buf = NULL;
    t->ids = NULL;
}

/* The next record into *line with *more = 1; *more = 0 at the end. */
static cnn_status compare_text_next(struct compare_text *t, char **line, int *more)
{
    *more = 0;
    int got = csv_records_next(&t->records, line);
    t->line = t->records.line;
    if (got == 0)
        return CNN_OK;
    /* A plotting reader may drop a half-written last row (results/README.md);
     * a comparison may not: the rows it would lose are samples, and a gate
     * fed part of a run must not say SAME. */
    if (got < 0 && memchr(t->records.pos, '\n', (size_t)(t->records.end - t->records.pos)))
        return cnn_fail(CNN_E_DATA, "%s: line %ld opens a quote that never closes", t->path,
                        t->line);
    if (got < 0)
        return cnn_fail(CNN_E_DATA, "%s: line %ld ends without a newline: the file was cut off",
                        t->path, t->line);
    if (strlen(*line) > COMPARE_LINE_MAX)
        return cnn_fail(CNN_E_DATA, "%s: line %ld is longer than %d bytes: not a cnnbench CSV",
                        t->path, t->line, COMPARE_LINE_MAX);
    *more = 1;
    return CNN_OK;
}

static cnn_status compare_text_remember(struct compare_text *t, const char *key,
                                        const char *region, long step)
{
    if (t->n_ids == t->cap_ids) {
        long cap = t->cap_ids ? 2 * t->cap_ids : 1024;
        struct compare_row_id *g = realloc(t->ids, (size_t)cap * sizeof *g);
        if (!g)
            return cnn_fail(CNN_E_NOMEM, "%s: cannot allocate %ld row positions", t->path, cap);
        t->ids = g;
        t->cap_ids = cap;
    }
    t->ids[t->n_ids++] = (struct compare_row_id){key, region, step, t->line};
    return CNN_OK;
}

static int compare_row_id_cmp(const struct compare_row_id *a, const struct compare_row_id *b)
{
    int c = strcmp(a->key, b->key);
    if (!c)
        c = strcmp(a->region, b->region);
    if (!c)
        c = (a->step > b->step) - (a->step < b->step);
    return c;
}

static int compare_row_id_asc(const void *a, const void *b)
{
    const struct compare_row_id *x = a, *y = b;
    int c = compare_row_id_cmp(x, y);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Fails, naming both lines, if two rows of the file are the same
 * observation: one configuration and step (and region, in steps.csv). The
 * first repeat in the file is named. */
static cnn_status compare_text_unique(struct compare_text *t)
{
    qsort(t->ids, (size_t)t->n_ids, sizeof *t->ids, compare_row_id_asc);
    const struct compare_row_id *a = NULL, *b = NULL;
    for (long i = 1; i < t->n_ids; i++)
        if (compare_row_id_cmp(&t->ids[i - 1], &t->ids[i]) == 0 &&
            (!b || t->ids[i].line < b->line)) {
            a = &t->ids[i - 1];
            b = &t->ids[i];
        }
    if (b) {
        if (!a->region[0])
            return cnn_fail(CNN_E_DATA,
                            "%s: line %ld repeats configuration %s of line %ld: a file copied "
                            "or appended twice? (a repeated row would count as another sample)",
                            t->path, b->line, b->key, a->line);
        return cnn_fail(CNN_E_DATA,
                        "%s: line %ld repeats configuration %s, step %ld, region %s of line "
                        "%ld: a file copied or appended twice? (a repeated row would count as "
                        "another sample)",
                        t->path, b->line, b->key, b->step, b->region, a->line);
    }
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
    if (*n < 0)
        return cnn_fail(CNN_E_DATA, "%s: line 1: broken quoting (RFC 4180)", t->path);
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
    if (n < 0)
        return cnn_fail(CNN_E_DATA, "%s: line %ld: broken quoting (RFC 4180: a quote inside an "
                        "unquoted field, or text after a closing quote)", t->path, t->line);
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
        CNN_TRY(compare_text_remember(t, f[c.key], f[c.region], step));
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
    CNN_TRY(compare_text_unique(t));
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
        CNN_TRY(compare_text_remember(t, f[c.key], "", 0));
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
    return compare_text_unique(t);
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
    compare_text_close(&t);
    return st;
}

/* dir/name, or dir/name.gz where only that is there (the committed runs keep
 * steps.csv gzipped); 0, or -1 if neither exists. */
static int compare_locate(const char *dir, const char *name, char *path, size_t len)
{
    struct stat sb;
    snprintf(path, len, "%s/%s", dir, name);
    if (stat(path, &sb) == 0)
        return 0;
    snprintf(path, len, "%s/%s.gz", dir, name);
    if (stat(path, &sb) == 0)
        return 0;
    snprintf(path, len, "%s/%s", dir, name);
    return -1;
}

/* A run directory: samples from steps.csv, statuses from summary.csv. */
static cnn_status compare_read_dir(const char *dir, const char *region, struct compare_run *run)
{
    char steps[4096], summary[4096];
    int no_steps = compare_locate(dir, "steps.csv", steps, sizeof steps);
    int no_summary = compare_locate(dir, "summary.csv", summary, sizeof summary);
    if (no_steps || no_summary)
        return cnn_fail(CNN_E_IO, "%s: not a cnnbench run directory (%s missing)", dir,
                        no_steps ? "steps.csv" : "summary.csv");

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
    compare_text_close(&t);
    CNN_TRY(st);

    struct compare_run status = {.label = run->label};
    st = compare_text_open(&t, summary);
    if (st == CNN_OK)
        st = compare_header(&t, hdr, &nh);
    if (st == CNN_OK)
        st = compare_read_summary(&t, hdr, nh, "step", 0, &status);
    compare_text_close(&t);
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

/* Reads a run given as a directory or a CSV file; its meta.json is the one
 * in that directory, or beside that file. */
static cnn_status compare_read(const char *arg, const char *region, struct compare_run *run)
{
    struct stat sb;
    if (stat(arg, &sb) != 0)
        return cnn_fail(CNN_E_IO, "%s: %s", arg, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        snprintf(run->meta_path, sizeof run->meta_path, "%s/meta.json", arg);
        return compare_read_dir(arg, region, run);
    }
    if (!S_ISREG(sb.st_mode))
        return cnn_fail(CNN_E_IO, "%s: not a regular file or directory", arg);
    const char *slash = strrchr(arg, '/');
    if (slash)
        snprintf(run->meta_path, sizeof run->meta_path, "%.*s/meta.json", (int)(slash - arg),
                 arg);
    else
        snprintf(run->meta_path, sizeof run->meta_path, "meta.json");
    return compare_read_file(arg, region, run);
}

/* ---------------------------------------------------------------------- */
/* The machine and the build                                               */
/* ---------------------------------------------------------------------- */

enum { COMPARE_FACT_MAX = 512 };

/* What a run's times depend on besides the code, as meta.json records them:
 * two runs that differ in any of these measured other machines or builds,
 * and the ratio of their times says nothing about a change to the code.
 * Each is a string member of an object of meta.json or, under "gpus", of
 * every GPU (the distinct values in order: eight GPUs of one model are one
 * model). Adding a fact here is all it takes to check it. */
struct compare_fact {
    const char *name;   /* as the report says it */
    const char *parent; /* top-level member holding it: an object, or the array "gpus" */
    const char *member;
};

static const struct compare_fact compare_facts[] = {
    {"CPU model", "host", "cpu_model"},
    {"GPU model", "gpus", "name"},
    {"GPU driver", "gpus", "driver"},
    {"C compiler", "build", "c_compiler"},
    {"build type", "build", "buildtype"},
    {"build flags", "build", "flags"},
    {"NCCL version", "build", "nccl_version"},
};
enum { COMPARE_FACTS = sizeof compare_facts / sizeof *compare_facts };

/* The facts of both runs and where they differ. A fact is "" where a
 * meta.json does not record it (runs older than the fact): unknown is not
 * different, so it is named but does not stop the comparison. */
struct compare_check {
    int present[2];  /* BASE, NEW: 0 when the run has no meta.json */
    char fact[2][COMPARE_FACTS][COMPARE_FACT_MAX];
    int differs[COMPARE_FACTS];
    int n_differ;
};

static cnn_status compare_fact_value(const char *path, const json_t *root,
                                     const struct compare_fact *f, char *out, size_t len)
{
    out[0] = '\0';
    const json_t *parent = json_object_get(root, f->parent);
    if (!parent)
        return CNN_OK;
    if (json_is_object(parent)) {
        const json_t *v = json_object_get(parent, f->member);
        if (v && !json_is_string(v))
            return cnn_fail(CNN_E_DATA, "%s: \"%s\".\"%s\" is not a string", path, f->parent,
                            f->member);
        if (v)
            snprintf(out, len, "%s", json_string_value(v));
        return CNN_OK;
    }
    if (!json_is_array(parent))
        return cnn_fail(CNN_E_DATA, "%s: \"%s\" is neither an object nor an array", path,
                        f->parent);
    size_t n = json_array_size(parent);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(json_array_get(parent, i), f->member);
        if (!json_is_string(v))
            return cnn_fail(CNN_E_DATA, "%s: \"%s\"[%zu].\"%s\" is missing or not a string", path,
                            f->parent, i, f->member);
        const char *value = json_string_value(v);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(value, json_string_value(json_object_get(json_array_get(parent, j),
                                                                   f->member))) == 0;
        size_t used = strlen(out);
        if (!seen)
            snprintf(out + used, len - used, "%s%s", used ? " + " : "", value);
    }
    if (n == 0)
        snprintf(out, len, "none");
    return CNN_OK;
}

/* Reads the facts of one run (side 0 BASE, 1 NEW) from its meta.json, if it
 * has one. A meta.json that is there but damaged is an error, never
 * "unchecked". */
static cnn_status compare_read_meta(const struct compare_run *run, struct compare_check *c,
                                    int side)
{
    struct stat sb;
    if (stat(run->meta_path, &sb) != 0 && errno == ENOENT)
        return CNN_OK;
    char *text;
    CNN_TRY(meta_read(run->meta_path, &text));
    json_t *root;
    cnn_status st = json_parse_document(run->meta_path, text, strlen(text), &root);
    free(text);
    CNN_TRY(st);
    const json_t *tool = json_object_get(root, "tool");
    if (!json_is_string(tool) || strcmp(json_string_value(tool), "cnnbench") != 0)
        st = cnn_fail(CNN_E_DATA, "%s: not a cnnbench meta.json (no \"tool\": \"cnnbench\")",
                      run->meta_path);
    for (int i = 0; st == CNN_OK && i < COMPARE_FACTS; i++)
        st = compare_fact_value(run->meta_path, root, &compare_facts[i], c->fact[side][i],
                                sizeof c->fact[side][i]);
    json_decref(root);
    c->present[side] = st == CNN_OK;
    return st;
}

static void compare_check_facts(struct compare_check *c)
{
    c->n_differ = 0;
    for (int i = 0; i < COMPARE_FACTS; i++) {
        const char *b = c->fact[0][i], *n = c->fact[1][i];
        c->differs[i] = c->present[0] && c->present[1] && b[0] && n[0] && strcmp(b, n) != 0;
        c->n_differ += c->differs[i];
    }
}

/* The differing facts, each with both values, one line a run. */
static void compare_print_differences(FILE *out, const struct compare_check *c)
{
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (c->differs[i])
            fprintf(out, "    %-13s BASE %s\n    %-13s NEW  %s\n", compare_facts[i].name,
                    c->fact[0][i], "", c->fact[1][i]);
}

/* What the check found, for the head of the table. */
static void compare_print_check(FILE *out, const struct compare_check *c,
                                const struct compare_run *base, const struct compare_run *new_)
{
    if (!c->present[0] || !c->present[1]) {
        fprintf(out, "  machine and build: not checked: no %s%s%s\n",
                c->present[0] ? "" : base->meta_path, c->present[0] || c->present[1] ? "" : " or ",
                c->present[1] ? "" : new_->meta_path);
        return;
    }
    if (c->n_differ) {
        fprintf(out, "  WARNING: --force: BASE and NEW come from different machines or builds, "
                     "so each ratio\n  mixes their difference with the code's:\n");
        compare_print_differences(out, c);
        return;
    }
    fprintf(out, "  machine and build: the same");
    int shown = 0;
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (c->fact[0][i][0] && c->fact[1][i][0])
            fprintf(out, "%s%s", shown++ ? ", " : " ", compare_facts[i].name);
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (!c->fact[0][i][0] != !c->fact[1][i][0])
            fprintf(out, "; %s not recorded for %s", compare_facts[i].name,
                    c->fact[0][i][0] ? "NEW" : "BASE");
    fputc('\n', out);
}

/* ---------------------------------------------------------------------- */
/* The command                                                             */
/* ---------------------------------------------------------------------- */

static const char compare_help[] =
    "Usage: cnnbench compare [OPTIONS] BASE NEW\n"
    "\n"
    "Compares the step times of two runs, configuration by configuration, and\n"
    "says whether NEW is the SAME as BASE, FASTER, SLOWER or UNCLEAR. Runs from\n"
    "different machines or builds are refused: their ratio measures the machine,\n"
    "not the code.\n"
    "\n"
    "  BASE, NEW   run directories (samples: every timed step in steps.csv; the\n"
    "              status of each configuration: summary.csv), or two steps.csv\n"
    "              files (cnnbench train --csv), or two summary.csv files (one\n"
    "              sample per repetition: its median; needs --reps >= 9).\n"
    "              steps.csv.gz and summary.csv.gz are read as they are (the runs\n"
    "              under results/published/ keep steps.csv gzipped).\n"
    "  A configuration is the config_key without its repetition (:rN): the\n"
    "  repetitions of a run are pooled. A row that appears twice (the same\n"
    "  config_key, step and region; in summary.csv the same config_key) is an\n"
    "  error, not one more sample.\n"
    "\n"
    "Machine and build. Each run's meta.json (in the run directory, or beside the\n"
    "CSV file) records what its times depend on besides the code. compare checks\n"
    "that both runs have the same CPU model, GPU model, GPU driver, C compiler,\n"
    "build type, build flags and NCCL version; if any differs it names each with\n"
    "both values and exits 3 without a verdict. A fact one meta.json does not\n"
    "record (an older run) is named, not refused; where a run has no meta.json\n"
    "the check is skipped and the table says so.\n"
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
    "  --force           compare runs of different machines or builds anyway; the\n"
    "                    table then starts with a warning listing the differences\n"
    "  --json FILE       also write the result as JSON for CI: per configuration\n"
    "                    key, verdict, reason, sample counts, medians (ms), ratio,\n"
    "                    interval, p; the differing facts; the overall \"result\"\n"
    "                    (no_regression, regression, incomparable, error) and\n"
    "                    \"exit_status\". FILE - writes it to standard output and\n"
    "                    moves the table to standard error.\n"
    "  --help            this text\n"
    "\n"
    "Exit status:\n"
    "  0  no configuration SLOWER\n"
    "  1  a configuration is SLOWER by more than the threshold (the message names it)\n"
    "  2  bad command line, or an input missing, unreadable or malformed (a CSV\n"
    "     row or meta.json; the message names the file and line), or nothing to\n"
    "     compare\n"
    "  3  not comparable: the runs come from different machines or builds (the\n"
    "     output lists each differing fact with both values; --force compares)\n"
    "\n"
    "Examples:\n"
    "  cnnbench compare results/baseline/h100 results/20250131-120000-quick\n"
    "  cnnbench compare --threshold 10 old/steps.csv new/steps.csv\n"
    "  cnnbench compare --json verdicts.json results/published/h100-cuda results/mine\n";

struct compare_opts {
    struct compare_settings s;
    const char *region;
    const char *base, *new_;
    int force;
    const char *json; /* --json FILE, "-" for standard output; NULL: none */
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
    static const char *const known[] = {
        "threshold", "floor-ms", "max-noise", "region", "resamples", "seed", "json", "force", NULL,
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
        CNN_TRY(cli_scan_known(&s, known));
        if (!strcmp(n, "force")) {
            CNN_TRY(cli_scan_no_value(&s));
            o->force = 1;
            continue;
        }
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
        } else if (!strcmp(n, "json")) {
            if (!v[0])
                return cnn_fail(CNN_E_ARG, "--json needs a file name, or - for standard output");
            o->json = v;
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

/* The comparison of the configurations both runs have. */
struct compare_table {
    struct compare_line *lines;
    int n;
    int count[4]; /* by verdict */
};

static const char *compare_samples_name(const struct compare_run *r)
{
    return r->kind == COMPARE_STEPS ? "every timed step" : "per-repetition medians";
}

static void compare_print(FILE *out, const struct compare_opts *o,
                          const struct compare_run *base, const struct compare_run *new_,
                          const struct compare_check *check, const struct compare_table *t)
{
    fprintf(out, "cnnbench compare: region '%s', samples: %s\n", o->region,
            compare_samples_name(base));
    fprintf(out, "  BASE %s\n  NEW  %s\n", base->path, new_->path);
    compare_print_check(out, check, base, new_);
    fprintf(out, "  ratio = median(NEW) / median(BASE), %.0f%% bootstrap interval (%d resamples, "
            "seed %llu);\n", 100.0 * o->s.confidence, o->s.resamples,
            (unsigned long long)o->s.seed);
    fprintf(out, "  threshold %g%%, floor %g ms, noise ceiling %g%%, U test at p < %g, "
            ">= %d samples a side\n\n", 100.0 * o->s.threshold, o->s.floor_ms,
            100.0 * o->s.max_noise, o->s.alpha, o->s.min_samples);

    int kw = (int)strlen("configuration");
    for (int i = 0; i < t->n; i++)
        if ((int)strlen(t->lines[i].base->key) > kw)
            kw = (int)strlen(t->lines[i].base->key);
    fprintf(out, "%-*s  %9s  %11s  %11s  %7s  %-17s  %8s  %-13s  %-7s  %s\n", kw,
            "configuration", "n b/n", "base ms", "new ms", "ratio", "95% interval", "U test p",
            "IQR/med b/n", "verdict", "why");
    for (int i = 0; i < t->n; i++) {
        const struct compare_result *r = &t->lines[i].r;
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
        fprintf(out, "%-*s  %9s  %11s  %11s  %7s  %-17s  %8s  %-13s  %-7s  %s\n", kw,
                t->lines[i].base->key, counts, mb, mn, ratio, ci, p, noise,
                compare_verdict_name(r->verdict), r->reason);
    }
}

/* Whether configuration c of one run has something to compare (samples, or
 * a failure to report) that the other run b lacks. */
static int compare_unmatched(const struct compare_cell *c, struct compare_run *b)
{
    return (c->n > 0 || c->status[0]) && !compare_find(b, c->key);
}

/* Lists the configurations of `a` that `b` lacks, if any. */
static void compare_print_unmatched(FILE *out, const struct compare_run *a,
                                    struct compare_run *b)
{
    int shown = 0;
    for (int i = 0; i < a->n; i++) {
        if (!compare_unmatched(&a->cells[i], b))
            continue;
        if (!shown)
            fprintf(out, "\nonly in %s (no verdict): ", a->label);
        fprintf(out, "%s%s", shown++ ? ", " : "", a->cells[i].key);
    }
    if (shown)
        fputc('\n', out);
}

/* Pairs the configurations of both runs and gives each its verdict. */
static cnn_status compare_runs(const struct compare_opts *o, struct compare_run *base,
                               struct compare_run *new_, struct compare_table *t)
{
    if (base->kind != new_->kind)
        return cnn_fail(CNN_E_ARG,
                        "cannot compare %s (BASE: %s) with %s (NEW: %s): give two run "
                        "directories, two steps.csv or two summary.csv files",
                        base->kind == COMPARE_STEPS ? "step samples" : "per-repetition medians",
                        base->path,
                        new_->kind == COMPARE_STEPS ? "step samples" : "per-repetition medians",
                        new_->path);
    t->lines = malloc((size_t)(base->n ? base->n : 1) * sizeof *t->lines);
    if (!t->lines)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the comparison table");
    for (int i = 0; i < base->n; i++) {
        const struct compare_cell *b = &base->cells[i];
        const struct compare_cell *m = compare_find(new_, b->key);
        /* A cell with neither samples nor a failure: the region does not apply. */
        if (!m || ((b->n == 0 && !b->status[0]) && (m->n == 0 && !m->status[0])))
            continue;
        struct compare_line *l = &t->lines[t->n++];
        l->base = b;
        l->new_ = m;
        if (compare_samples(b->v, b->n, m->v, m->n, &o->s, b->key, &l->r) != 0)
            return cnn_fail(CNN_E_NOMEM, "cannot allocate the statistics of %s", b->key);
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
        t->count[l->r.verdict]++;
    }
    if (t->n == 0)
        return cnn_fail(CNN_E_DATA,
                        "%s and %s have no configuration in common (with samples of region "
                        "'%s')", base->path, new_->path, o->region);
    return CNN_OK;
}

/* ---- the --json document ---- */

static int compare_set(json_t *object, const char *key, json_t *value)
{
    return json_object_set_new(object, key, value);
}

static json_t *compare_json_unmatched(const struct compare_run *a, struct compare_run *b)
{
    json_t *keys = json_array();
    for (int i = 0; keys && i < a->n; i++)
        if (compare_unmatched(&a->cells[i], b) &&
            json_array_append_new(keys, json_text(a->cells[i].key)) != 0) {
            json_decref(keys);
            keys = NULL;
        }
    return keys;
}

static json_t *compare_json_line(const struct compare_line *l)
{
    const struct compare_result *r = &l->r;
    json_t *c = json_object();
    int failed = 0;
    failed |= compare_set(c, "key", json_text(l->base->key));
    failed |= compare_set(c, "verdict", json_text(compare_verdict_name(r->verdict)));
    failed |= compare_set(c, "reason", json_text(r->reason));
    failed |= compare_set(c, "n_base", json_integer(r->n_base));
    failed |= compare_set(c, "n_new", json_integer(r->n_new));
    failed |= compare_set(c, "median_base_ms", json_number_or_null(r->median_base));
    failed |= compare_set(c, "median_new_ms", json_number_or_null(r->median_new));
    failed |= compare_set(c, "ratio", json_number_or_null(r->ratio));
    failed |= compare_set(c, "interval",
                          isnan(r->lo) ? json_null()
                                       : json_pack("[o, o]", json_number_or_null(r->lo),
                                                   json_number_or_null(r->hi)));
    failed |= compare_set(c, "p", json_number_or_null(r->p));
    failed |= compare_set(c, "noise_base", json_number_or_null(r->noise_base));
    failed |= compare_set(c, "noise_new", json_number_or_null(r->noise_new));
    if (failed) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static const char *const compare_results[] = {
    [0] = "no_regression", [1] = "regression", [2] = "error", [3] = "incomparable",
};

/* The whole result; NULL when out of memory. Runs not read are NULL. */
static json_t *compare_json(const struct compare_opts *o, struct compare_run *base,
                            struct compare_run *new_, const struct compare_check *check,
                            const struct compare_table *t, int exit_status, const char *message)
{
    json_t *doc = json_object();
    int failed = 0;
    failed |= compare_set(doc, "tool", json_text("cnnbench compare"));
    failed |= compare_set(doc, "base", json_text(o->base));
    failed |= compare_set(doc, "new", json_text(o->new_));
    failed |= compare_set(doc, "region", json_text(o->region));
    failed |= compare_set(doc, "samples", json_text(base ? compare_samples_name(base) : NULL));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->s.seed);
    failed |= compare_set(doc, "settings",
                          json_pack("{s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:s}", "threshold",
                                    o->s.threshold, "floor_ms", o->s.floor_ms, "max_noise",
                                    o->s.max_noise, "alpha", o->s.alpha, "confidence",
                                    o->s.confidence, "resamples", o->s.resamples, "min_samples",
                                    o->s.min_samples, "seed", seed));

    json_t *facts = json_object(), *differences = json_array();
    failed |= compare_set(facts, "checked", json_boolean(check->present[0] && check->present[1]));
    failed |= compare_set(facts, "forced", json_boolean(o->force));
    for (int i = 0; i < COMPARE_FACTS; i++)
        if (check->differs[i])
            failed |= json_array_append_new(differences,
                                            json_pack("{s:s, s:o, s:o}", "fact",
                                                      compare_facts[i].name, "base",
                                                      json_text(check->fact[0][i]), "new",
                                                      json_text(check->fact[1][i])));
    failed |= compare_set(facts, "differences", differences);
    failed |= compare_set(doc, "machine_and_build", facts);

    json_t *lines = json_array();
    for (int i = 0; i < t->n; i++)
        failed |= json_array_append_new(lines, compare_json_line(&t->lines[i]));
    failed |= compare_set(doc, "configurations", lines);
    failed |= compare_set(doc, "only_in_base",
                          base && new_ && t->n ? compare_json_unmatched(base, new_) : json_array());
    failed |= compare_set(doc, "only_in_new",
                          base && new_ && t->n ? compare_json_unmatched(new_, base) : json_array());
    failed |= compare_set(doc, "counts",
                          json_pack("{s:i, s:i, s:i, s:i}", "SAME", t->count[COMPARE_SAME],
                                    "FASTER", t->count[COMPARE_FASTER], "SLOWER",
                                    t->count[COMPARE_SLOWER], "UNCLEAR",
                                    t->count[COMPARE_UNCLEAR]));
    failed |= compare_set(doc, "result", json_text(compare_results[exit_status]));
    failed |= compare_set(doc, "exit_status", json_integer(exit_status));
    failed |= compare_set(doc, "message", json_text(message));
    if (failed) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Writes the --json document into f (opened before any work, so that an
 * unwritable destination is reported first), or to standard output for "-". */
static cnn_status compare_write_json(const char *path, struct csv_output *f, const json_t *doc)
{
    FILE *fp = strcmp(path, "-") ? f->fp : stdout;
    if (doc && json_write_document(fp, doc) == 0 && fflush(fp) == 0)
        return fp == stdout ? CNN_OK : csv_output_commit(f);
    if (fp != stdout)
        csv_output_abort(f);
    if (!doc)
        return cnn_fail(CNN_E_NOMEM, "--json %s: cannot build the document: out of memory", path);
    return cnn_fail(CNN_E_IO, "--json %s: write failed", path);
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
    /* With the JSON on standard output, the table goes to standard error. */
    FILE *out = o.json && !strcmp(o.json, "-") ? stderr : stdout;
    struct csv_output json_file;
    if (o.json && strcmp(o.json, "-") && csv_output_open(&json_file, o.json) != CNN_OK)
        return CLI_BAD_INPUT;
    struct compare_run base = {.label = "BASE"}, new_ = {.label = "NEW"};
    struct compare_check check = {0};
    struct compare_table table = {0};
    cnn_status st = compare_read(o.base, o.region, &base);
    if (st == CNN_OK)
        st = compare_read(o.new_, o.region, &new_);
    if (st == CNN_OK)
        st = compare_read_meta(&base, &check, 0);
    if (st == CNN_OK)
        st = compare_read_meta(&new_, &check, 1);

    enum cli_outcome outcome = st == CNN_E_ARG ? CLI_USAGE : CLI_BAD_INPUT;
    int exit_status = CLI_EXIT_USAGE;
    if (st == CNN_OK) {
        compare_check_facts(&check);
        if (check.n_differ && !o.force) {
            fprintf(out, "cnnbench compare: BASE and NEW come from different machines or "
                         "builds\n  BASE %s\n  NEW  %s\n", base.path, new_.path);
            compare_print_differences(out, &check);
            fflush(out);
            char names[256] = "";
            for (int i = 0; i < COMPARE_FACTS; i++)
                if (check.differs[i])
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                             names[0] ? ", " : "", compare_facts[i].name);
            cnn_fail(CNN_E_DATA,
                     "not comparable: BASE and NEW differ in %s, so their times say nothing "
                     "about the code; compare runs of one machine and build, or pass --force "
                     "to compare anyway", names);
            outcome = CLI_INCOMPARABLE;
            exit_status = CLI_EXIT_INCOMPARABLE;
        } else {
            st = compare_runs(&o, &base, &new_, &table);
            outcome = st == CNN_E_ARG ? CLI_USAGE : CLI_BAD_INPUT;
        }
    }
    if (st == CNN_OK && outcome != CLI_INCOMPARABLE) {
        compare_print(out, &o, &base, &new_, &check, &table);
        compare_print_unmatched(out, &base, &new_);
        compare_print_unmatched(out, &new_, &base);
        fprintf(out, "\n%d configuration%s: %d SAME, %d FASTER, %d SLOWER, %d UNCLEAR\n",
                table.n, table.n > 1 ? "s" : "", table.count[COMPARE_SAME],
                table.count[COMPARE_FASTER], table.count[COMPARE_SLOWER],
                table.count[COMPARE_UNCLEAR]);
        fflush(out);
        int slower = table.count[COMPARE_SLOWER];
        outcome = CLI_DONE;
        exit_status = 0;
        if (slower) {
            const char *first = NULL;
            for (int i = 0; i < table.n && !first; i++)
                if (table.lines[i].r.verdict == COMPARE_SLOWER)
                    first = table.lines[i].base->key;
            cnn_fail(CNN_E_DATA, "regression: %d configuration%s SLOWER by more than %g%% (%s%s)",
                     slower, slower > 1 ? "s" : "", 100.0 * o.s.threshold, first,
                     slower > 1 ? ", ..." : "");
            outcome = CLI_FAILED;
            exit_status = CLI_EXIT_FAILED;
        }
    }
    if (o.json) {
        char message[1024];
        snprintf(message, sizeof message, "%s", cnn_last_error());
        json_t *doc = compare_json(&o, base.n ? &base : NULL, new_.n ? &new_ : NULL, &check,
                                   &table, exit_status, exit_status ? message : NULL);
        cnn_status written = compare_write_json(o.json, &json_file, doc);
        json_decref(doc);
        if (written != CNN_OK) {
            if (exit_status)
                cnn_fail_context(written, "%s; the --json file was not written", message);
            outcome = CLI_BAD_INPUT;
        }
    }
    free(table.lines);
    compare_run_free(&base);
    compare_run_free(&new_);
    return outcome;
}
