/*
 * plotdata.c — `cnnbench plotdata RUN_DIR`: reshapes a run's tidy CSV into
 * the small plot-ready tables the gnuplot scripts in plots/ draw, under
 * RUN_DIR/plots/data/, plus plotinfo.gp, which tells the scripts what each
 * table holds (the CPU and GPU from meta.json, chosen sizes, axis ranges and
 * ticks).
 *
 * gnuplot reads CSV well but cannot group, sort or pick; doing that here in
 * C keeps the project free of a Python dependency. Choices, all documented in
 * results/README.md:
 *   - only configurations with status ok are drawn;
 *   - a curve is one "label": impl plus threads ("omp t2") plus variant
 *     ("cuda v3") plus GPUs of a data-parallel run ("cuda g4"); repetitions
 *     and runs of different lengths of one (label, batch, filters), a "cell",
 *     are pooled as the median of their medians (and of their quartiles);
 *   - a point is unstable when any configuration it is computed from is
 *     (summary.csv's unstable column: CV of the step times above 10%, or
 *     a --max-noise target missed), so a speedup is unstable when its
 *     baseline is; the charts draw such points hollow;
 *   - speedup vs threads draws, per impl, variant and GPU count (one panel
 *     each), every size run at 1 and at more threads, relative to the same
 *     impl at 1 thread. IQR bars invert for a speedup: low = T1 / q3,
 *     high = T1 / q1;
 *   - speedup vs filters is drawn at the batch size with the most filter
 *     values where seq and another backend both ran, speedup vs batch at the
 *     filter count with the most such batch sizes; step time vs parameters
 *     at the batch with the most filter counts; the breakdown and the box
 *     plot at the (batch, filters) that the most backends, then labels, ran;
 *     ties go to the larger size;
 *   - images/s vs GPUs uses the filter count with the most data-parallel
 *     configurations, one curve per (impl, variant, batch) with two or more
 *     GPU counts; the ideal is N times the images/s on one GPU: gpus 1 (NCCL
 *     with one rank), else the plain path (gpus 0).
 * Multi-curve tables are gnuplot data blocks (two blank lines apart), each
 * opening with a header line whose second field names the curve.
 *
 * Everything read is checked (fields.h, meta_read): names reach
 * gnuplot and file names, so only what cnnbench writes is accepted. The work
 * is O(n log n) in the rows: rows are sorted once into cells, and every table
 * is built from the cells.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "csvout.h"
#include "error.h"
#include "fields.h"
#include "fileio.h"
#include "json.h"
#include "meta.h"
#include "plan.h"
#include "stats.h"
#include "summary.h"

static const char plotdata_help[] =
    "Usage: cnnbench plotdata RUN_DIR\n"
    "\n"
    "Writes the plot-ready tables of a sweep's results into RUN_DIR/plots/data/\n"
    "(plotinfo.gp describes them). plots/render.sh runs this, then gnuplot.\n";

enum {
    PD_LABEL = 64,
    PD_PATH = 4200,
    PD_MAX_CURVES = 16, /* curves (or bars) one chart draws: more are unreadable */
    PD_MAX_PANELS = 4,  /* panels of the speedup vs threads chart */
    PD_MAX_TICKS = 12,  /* data values labelled on an axis; more crowd it */
};

/* One curve: a backend at a thread count, variant and GPU count. */
struct label {
    char name[PD_LABEL];                /* "omp t2", "cuda v3 g4" */
    const struct summary_row *like;     /* a row of it: impl, variant, threads, gpus */
    int rank;                           /* the impl's place in the run's order */
    int first_cell, n_cells;            /* its cells, by (batch, filters) */
};

/* The pooled figures of one label at one (batch, filters). */
struct cell {
    int label, batch, filters;
    int first, count;                   /* its rows: pd->cell_rows[first .. first+count) */
    double median, q1, q3;              /* medians over the rows */
    double region[CNN_REGION_COUNT];    /* medians; NaN where no row has the region */
    int unstable;                       /* any of its rows unstable */
};

struct pd {
    const char *run;
    char data_dir[4096];
    struct summary_row *rows; /* status ok only */
    int n;
    struct label *labels;
    int n_labels;
    struct cell *cells;       /* sorted by (label, batch, filters) */
    int n_cells;
    int *cell_rows;           /* row indices, grouped by cell */
    int seq;                  /* the label "seq", or -1 */
    FILE *info;               /* plotinfo.gp being written */
};

/* ---- sorting: records of up to six keys compared in order ---- */

struct ref {
    long k[6];
    int idx;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    for (int i = 0; i < 6; i++)
        if (x->k[i] != y->k[i])
            return x->k[i] < y->k[i] ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int same_keys(const struct ref *a, const struct ref *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a->k[i] != b->k[i])
            return 0;
    return 1;
}

static struct ref *refs_alloc(int n)
{
    struct ref *r = calloc((size_t)(n > 0 ? n : 1), sizeof *r);
    if (!r)
        cnn_fail(CNN_E_NOMEM, "cannot allocate %d sort records", n);
    return r;
}

/* ---- writing plotinfo.gp ---- */

static void info_int(const struct pd *pd, const char *name, long v)
{
    fprintf(pd->info, "%s = %ld\n", name, v);
}

static void info_num(const struct pd *pd, const char *name, double v)
{
    fprintf(pd->info, "%s = %.6g\n", name, v);
}

/* A gnuplot single-quoted string: no escapes and, unlike a double-quoted
 * one, no `command` substitution; a quote is doubled. Every value written
 * was checked to be printable (a newline would end the assignment). */
static void info_str(const struct pd *pd, const char *name, const char *value)
{
    fprintf(pd->info, "%s = '", name);
    for (const char *p = value; *p; p++)
        if (*p == '\'')
            fputs("''", pd->info);
        else
            fputc(*p, pd->info);
    fputs("'\n", pd->info);
}

/* NAME = 'v1 v2 ...': positions the scripts put ticks at (gnuplot's words()). */
static void info_values(const struct pd *pd, const char *name, const long *v, int n)
{
    fprintf(pd->info, "%s = '", name);
    for (int i = 0; i < n; i++)
        fprintf(pd->info, "%s%ld", i ? " " : "", v[i]);
    fputs("'\n", pd->info);
}

/* " (16 of 20 curves shown)" when a chart shows fewer than it could. */
static void info_note(const struct pd *pd, const char *name, int shown, int total,
                      const char *what)
{
    char note[96] = "";
    if (shown < total)
        snprintf(note, sizeof note, " (%d of %d %s shown)", shown, total, what);
    info_str(pd, name, note);
}

/* "13.6k", "109k", "1.1M": a large count short enough for a tick label. */
static void short_count(char *buf, size_t len, double v)
{
    if (v >= 1e6)
        snprintf(buf, len, "%.3gM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.3gk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

/* A tick value in plain decimal ("0.00001", "2000000"): the scripts turn
 * it into a number with gnuplot's string arithmetic, which reads no
 * exponent. Two significant digits are all a tick has. */
static void plain_number(char *buf, size_t len, double v)
{
    int decimals = (int)ceil(-log10(v)) + 1;
    snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (buf[n - 1] == '0')
            buf[--n] = '\0';
        if (buf[n - 1] == '.')
            buf[n - 1] = '\0';
    }
}

/* NAME_ticks = 'positions' and NAME_labels = 'labels' of an axis's ticks,
 * the words the scripts pair up ("2000000" is labelled "2M"). */
static void info_ticks(const struct pd *pd, const char *name, const double *ticks, int n)
{
    for (int labels = 0; labels < 2; labels++) {
        fprintf(pd->info, "%s_%s = '", name, labels ? "labels" : "ticks");
        for (int i = 0; i < n; i++) {
            char t[64];
            if (labels && ticks[i] >= 1e4)
                short_count(t, sizeof t, ticks[i]);
            else
                plain_number(t, sizeof t, ticks[i]);
            fprintf(pd->info, "%s%s", i ? " " : "", t);
        }
        fputs("'\n", pd->info);
    }
}

/* Ticks of a log axis over the data range [lo, hi]: 1-2-5 style steps in
 * each decade, finer when the range is narrow, and at least two inside the
 * range (widened to the ticks around it if need be). gnuplot's own log ticks
 * are whole decades or powers of two, which label a narrow range once or not
 * at all, or as 0.00390625. Writes NAME_min, NAME_max and the ticks. */
static void info_log_axis(const struct pd *pd, const char *name, double lo, double hi)
{
    static const double decade[] = {1}, coarse[] = {1, 2, 5}, mid[] = {1, 2, 3, 5},
                        fine[] = {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8},
                        finest[] = {1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 2.2, 2.4,
                                    2.6, 2.8, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9};
    if (!(lo > 0) || !(hi >= lo) || !isfinite(hi)) {
        lo = 1; /* no data: an axis around 1 that draws nothing wrong */
        hi = 1;
    }
    lo /= 1.15;
    hi *= 1.15;
    double decades = log10(hi / lo);
    const double *steps = decades > 3     ? decade
                          : decades > 1.2 ? coarse
                          : decades > 0.8 ? mid
                          : decades > 0.3 ? fine
                                          : finest;
    int n_steps = decades > 3 ? 1 : decades > 1.2 ? 3 : decades > 0.8 ? 4 : decades > 0.3 ? 10 : 22;
    double ticks[64];
    int n = 0;
    for (int pass = 0; pass < 2 && n < 2; pass++) {
        n = 0;
        double below = 0, above = INFINITY;
        for (int e = (int)floor(log10(lo)) - 1; e <= (int)ceil(log10(hi)) && n < 64; e++)
            for (int s = 0; s < n_steps && n < 64; s++) {
                double t = steps[s] * pow(10, e);
                if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9))
                    ticks[n++] = t;
                else if (t < lo)
                    below = t;
                else if (t < above)
                    above = t;
            }
        if (n < 2) {
            lo = below;
            hi = above;
        }
    }
    char key[96];
    snprintf(key, sizeof key, "%s_min", name);
    info_num(pd, key, lo);
    snprintf(key, sizeof key, "%s_max", name);
    info_num(pd, key, hi);
    info_ticks(pd, name, ticks, n);
}

/* A linear axis over [lo, hi] with a margin, never of zero width (one
 * point, or curves that all sit on one value), clipped to [floor, ceil];
 * [floor, floor + 1] without data. */
static void info_linear_axis(const struct pd *pd, const char *name, double lo, double hi,
                             double floor_v, double ceil_v)
{
    if (!(hi >= lo)) {
        lo = floor_v;
        hi = floor_v + 1;
    }
    double pad = (hi - lo) * 0.05;
    if (pad < 1e-3 * fabs(hi) || pad == 0)
        pad = fabs(hi) > 0 ? 0.05 * fabs(hi) : 1;
    lo = lo - pad < floor_v ? floor_v : lo - pad;
    hi = hi + pad > ceil_v ? ceil_v : hi + pad;
    char key[96];
    snprintf(key, sizeof key, "%s_min", name);
    info_num(pd, key, lo);
    snprintf(key, sizeof key, "%s_max", name);
    info_num(pd, key, hi);
}

/* Tracks the smallest and largest positive finite values seen. */
struct range {
    double lo, hi;
};

static void range_add(struct range *r, double v)
{
    if (v > 0 && isfinite(v)) {
        r->lo = v < r->lo ? v : r->lo;
        r->hi = v > r->hi ? v : r->hi;
    }
}

static const struct range range_empty = {INFINITY, 0};

/* ---- labels and cells ---- */

static void label_of(const struct summary_row *r, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", r->impl);
    if (r->threads > 0 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " t%d", r->threads);
    if (r->variant > 0 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " v%d", r->variant);
    if (r->gpus > 0 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " g%d", r->gpus);
}

static const struct summary_row *label_row(const struct pd *pd, int label)
{
    return pd->labels[label].like;
}

/* Whether a row is flagged in summary.csv's unstable column. The column is
 * derived when the file is written, so it is derived again here, by the
 * writer's own rule. */
static int row_unstable(const struct summary_row *r)
{
    return summary_unstable(&r->t, r->max_noise_pct) > 0;
}

/* The cell of (label, batch, filters), or NULL. */
static const struct cell *cell_at(const struct pd *pd, int label, int batch, int filters)
{
    int lo = 0, hi = pd->n_cells - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const struct cell *c = &pd->cells[mid];
        long d = c->label != label ? c->label - label
                 : c->batch != batch ? c->batch - batch : c->filters - filters;
        if (d == 0)
            return c;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Pools the rows of one cell: medians of their medians, quartiles and
 * region medians. scratch holds at least count doubles. */
static void pool_cell(const struct pd *pd, struct cell *c, double *scratch)
{
    const int *rows = pd->cell_rows + c->first;
    for (int i = 0; i < c->count; i++)
        scratch[i] = pd->rows[rows[i]].t.median;
    c->median = stats_median(scratch, c->count);
    for (int i = 0; i < c->count; i++)
        scratch[i] = pd->rows[rows[i]].t.q1;
    c->q1 = stats_median(scratch, c->count);
    for (int i = 0; i < c->count; i++)
        scratch[i] = pd->rows[rows[i]].t.q3;
    c->q3 = stats_median(scratch, c->count);
    for (int k = 0; k < CNN_REGION_COUNT; k++) {
        int m = 0;
        for (int i = 0; i < c->count; i++)
            if (!isnan(pd->rows[rows[i]].region_ms[k]))
                scratch[m++] = pd->rows[rows[i]].region_ms[k];
        c->region[k] = m ? stats_median(scratch, m) : NAN;
    }
    c->unstable = 0;
    for (int i = 0; i < c->count; i++)
        c->unstable |= row_unstable(&pd->rows[rows[i]]);
}

/* Sorts the rows once by (impl rank, threads, variant, GPUs, batch,
 * filters): runs of the first four keys are the labels, in the order the
 * charts list them (backends as the run lists them, then thread count,
 * variant, GPUs), and runs of all six are the cells. */
static cnn_status build_cells(struct pd *pd, const char *path)
{
    char impls[PLAN_MAX_IMPLS][sizeof pd->rows[0].impl];
    int n_impls = 0;
    struct ref *refs = refs_alloc(pd->n);
    if (!refs)
        return CNN_E_NOMEM;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[i];
        int rank = 0;
        while (rank < n_impls && strcmp(impls[rank], r->impl) != 0)
            rank++;
        if (rank == n_impls) {
            if (n_impls == PLAN_MAX_IMPLS) {
                free(refs);
                return cnn_fail(CNN_E_DATA,
                                "%s: more than %d backends (%s is one more); a sweep runs at "
                                "most %d",
                                path, PLAN_MAX_IMPLS, r->impl, PLAN_MAX_IMPLS);
            }
            snprintf(impls[n_impls++], sizeof impls[0], "%s", r->impl);
        }
        refs[i] = (struct ref){{rank, r->threads, r->variant, r->gpus, r->batch, r->filters}, i};
    }
    qsort(refs, (size_t)pd->n, sizeof *refs, ref_cmp);
    pd->labels = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *pd->labels);
    pd->cells = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *pd->cells);
    pd->cell_rows = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *pd->cell_rows);
    double *scratch = calloc((size_t)(pd->n > 0 ? pd->n : 1), sizeof *scratch);
    if (!pd->labels || !pd->cells || !pd->cell_rows || !scratch) {
        free(refs);
        free(scratch);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the cells of %d rows", pd->n);
    }
    pd->seq = -1;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[refs[i].idx];
        if (i == 0 || !same_keys(&refs[i], &refs[i - 1], 4)) {
            struct label *l = &pd->labels[pd->n_labels];
            label_of(r, l->name, sizeof l->name);
            l->like = r;
            l->rank = (int)refs[i].k[0];
            l->first_cell = pd->n_cells;
            if (!strcmp(l->name, "seq"))
                pd->seq = pd->n_labels;
            pd->n_labels++;
        }
        if (i == 0 || !same_keys(&refs[i], &refs[i - 1], 6)) {
            struct cell *c = &pd->cells[pd->n_cells++];
            c->label = pd->n_labels - 1;
            c->batch = r->batch;
            c->filters = r->filters;
            c->first = i;
            pd->labels[c->label].n_cells++;
        }
        pd->cells[pd->n_cells - 1].count++;
        pd->cell_rows[i] = refs[i].idx;
    }
    for (int i = 0; i < pd->n_cells; i++)
        pool_cell(pd, &pd->cells[i], scratch);
    free(scratch);
    free(refs);
    return CNN_OK;
}

/* ---- table files ---- */

static cnn_status open_table(const struct pd *pd, const char *name, struct cnn_atomic_file *f)
{
    char path[PD_PATH];
    snprintf(path, sizeof path, "%s/%s", pd->data_dir, name);
    return cnn_atomic_open(f, path);
}

/* render.sh draws the charts whose tables exist: a table this run has
 * nothing for must not be one an earlier run of plotdata left. */
static cnn_status remove_stale(const char *path)
{
    if (remove(path) != 0 && errno != ENOENT)
        return cnn_fail(CNN_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    return CNN_OK;
}

/* Keeps a table that has something to draw, else removes it. */
static cnn_status close_table(struct cnn_atomic_file *f, int blocks)
{
    if (blocks > 0)
        return cnn_atomic_commit(f);
    cnn_atomic_abort(f);
    return remove_stale(f->path);
}

/* Ends a data block: gnuplot's index counts blocks separated by two blank lines. */
static void end_block(FILE *fp) { fputs("\n\n", fp); }

static int long_cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Distinct values among v[0..n), sorted, in place; returns their count. */
static int distinct(long *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, long_cmp);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    return m;
}

/* A log axis through the data values v[0..n) (sorted and made distinct in
 * place): a tick at each value when they are few enough to label, with
 * NAME_min and NAME_max a little outside them; else the 1-2-5 ticks of
 * info_log_axis over their range. Returns whether each value is a tick. */
static int info_data_axis(const struct pd *pd, const char *name, long *v, int n)
{
    int m = distinct(v, n);
    if (m == 0 || m > PD_MAX_TICKS) {
        info_log_axis(pd, name, m ? (double)v[0] : NAN, m ? (double)v[m - 1] : NAN);
        return 0;
    }
    double ticks[PD_MAX_TICKS];
    for (int i = 0; i < m; i++)
        ticks[i] = (double)v[i];
    char key[96];
    snprintf(key, sizeof key, "%s_min", name);
    info_num(pd, key, v[0] / 1.3);
    snprintf(key, sizeof key, "%s_max", name);
    info_num(pd, key, v[m - 1] * 1.3);
    info_ticks(pd, name, ticks, m);
    return 1;
}

/* A speedup's IQR bar: low = base / q3, high = base / q1 (a zero quartile
 * gives no bar rather than an infinite one). */
static double speedup_bar(double base, double q, double median)
{
    return q > 0 ? base / q : base / median;
}

/* ---- speedup vs threads ---- */

/* One curve of the chart: a (batch, filters) of one family with thread counts. */
struct thread_curve {
    int first, count; /* its cells: refs[first .. first+count), by threads */
    int batch, filters;
};

static int curve_by_points(const void *a, const void *b)
{
    const struct thread_curve *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;
    long wx = (long)x->batch * x->filters, wy = (long)y->batch * y->filters;
    return (wy > wx) - (wy < wx);
}

static int curve_by_size(const void *a, const void *b)
{
    const struct thread_curve *x = a, *y = b;
    long wx = (long)x->batch * x->filters, wy = (long)y->batch * y->filters;
    if (wx != wy)
        return (wx > wy) - (wx < wy);
    return (x->batch > y->batch) - (x->batch < y->batch);
}

/* speedup vs threads: a panel per family (impl, variant, GPUs) with a
 * thread sweep, a curve per (batch, filters) it ran at 1 thread and at
 * more, each point relative to the same size at 1 thread. */
static cnn_status table_threads(struct pd *pd)
{
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "speedup_threads.csv", &f));
    struct ref *refs = refs_alloc(pd->n_cells);
    struct thread_curve *curves = calloc((size_t)pd->n_cells + 1, sizeof *curves);
    long *ticks = calloc((size_t)pd->n_cells + 1, sizeof *ticks);
    if (!refs || !curves || !ticks) {
        free(refs);
        free(curves);
        free(ticks);
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the thread curves");
    }
    int nr = 0;
    for (int i = 0; i < pd->n_cells; i++) {
        const struct cell *c = &pd->cells[i];
        const struct summary_row *l = label_row(pd, c->label);
        if (l->threads > 0)
            refs[nr++] = (struct ref){{pd->labels[c->label].rank, l->variant, l->gpus, c->batch,
                                       c->filters, l->threads}, i};
    }
    qsort(refs, (size_t)nr, sizeof *refs, ref_cmp);
    int panels = 0, families = 0, blocks = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int i = 0; i < nr;) {
        /* one family: refs[i .. end) */
        int end = i;
        while (end < nr && same_keys(&refs[end], &refs[i], 3))
            end++;
        int nc = 0;
        for (int j = i; j < end;) {
            int k = j;
            while (k < end && same_keys(&refs[k], &refs[j], 5))
                k++;
            if (k - j >= 2 && refs[j].k[5] == 1)
                curves[nc++] = (struct thread_curve){j, k - j, (int)refs[j].k[3],
                                                     (int)refs[j].k[4]};
            j = k;
        }
        const struct cell *any = &pd->cells[refs[i].idx];
        i = end;
        if (nc == 0)
            continue;
        families++;
        if (panels == PD_MAX_PANELS)
            continue;
        int shown = nc;
        if (shown > PD_MAX_CURVES) {
            qsort(curves, (size_t)nc, sizeof *curves, curve_by_points);
            shown = PD_MAX_CURVES;
        }
        qsort(curves, (size_t)shown, sizeof *curves, curve_by_size);
        panels++;
        char name[64], title[PD_LABEL];
        struct summary_row family = *label_row(pd, any->label);
        family.threads = 0;
        label_of(&family, title, sizeof title);
        snprintf(name, sizeof name, "threads_title_%d", panels);
        info_str(pd, name, title);
        snprintf(name, sizeof name, "threads_first_%d", panels);
        info_int(pd, name, blocks);
        snprintf(name, sizeof name, "threads_curves_%d", panels);
        info_int(pd, name, shown);
        snprintf(name, sizeof name, "threads_note_%d", panels);
        info_note(pd, name, shown, nc, "sizes");
        for (int c = 0; c < shown; c++) {
            const struct cell *base = &pd->cells[refs[curves[c].first].idx];
            fprintf(f.fp, "threads,B=%d F=%d,speedup_low,speedup_high,efficiency,unstable\n",
                    curves[c].batch, curves[c].filters);
            for (int j = curves[c].first; j < curves[c].first + curves[c].count; j++) {
                const struct cell *p = &pd->cells[refs[j].idx];
                long t = refs[j].k[5];
                double sp = base->median / p->median;
                double low = speedup_bar(base->median, p->q3, p->median);
                double high = speedup_bar(base->median, p->q1, p->median);
                int u = p->unstable || base->unstable;
                fprintf(f.fp, "%ld,%.6g,%.6g,%.6g,%.6g,%d\n", t, sp, low, high, sp / t, u);
                range_add(&y, low);
                range_add(&y, high);
                range_add(&y, (double)t); /* the ideal line up to the largest count */
                ticks[n_ticks++] = t;
                unstable |= u;
            }
            end_block(f.fp);
            blocks++;
        }
    }
    info_int(pd, "threads_panels", panels);
    info_note(pd, "threads_note", panels, families, "backends");
    info_data_axis(pd, "threads_x", ticks, n_ticks);
    info_log_axis(pd, "threads_y", y.lo, y.hi);
    info_int(pd, "threads_unstable", unstable);
    free(refs);
    free(curves);
    free(ticks);
    return close_table(&f, blocks);
}

/* ---- images/s vs GPUs ---- */

/* The label of (rank, threads, variant, gpus), or -1: labels are sorted so. */
static int label_find(const struct pd *pd, int rank, int threads, int variant, int gpus)
{
    int lo = 0, hi = pd->n_labels - 1;
    const long want[4] = {rank, threads, variant, gpus};
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const struct summary_row *r = label_row(pd, mid);
        const long have[4] = {pd->labels[mid].rank, r->threads, r->variant, r->gpus};
        int d = 0;
        for (int k = 0; k < 4 && d == 0; k++)
            d = (have[k] > want[k]) - (have[k] < want[k]);
        if (d == 0)
            return mid;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static double images_per_s(int batch, double ms) { return batch / (ms / 1e3); }

/* The filter count with the most data-parallel cells; ties to the larger.
 * -1 if the run has none. refs has room for every cell. */
static int gpus_filters(const struct pd *pd, struct ref *refs)
{
    int best = -1, best_n = 0, nr = 0;
    for (int i = 0; i < pd->n_cells; i++)
        if (label_row(pd, pd->cells[i].label)->gpus >= 1)
            refs[nr++] = (struct ref){{pd->cells[i].filters}, i};
    qsort(refs, (size_t)nr, sizeof *refs, ref_cmp);
    for (int i = 0, j; i < nr; i = j) {
        for (j = i; j < nr && refs[j].k[0] == refs[i].k[0]; j++)
            ;
        if (j - i >= best_n) {
            best_n = j - i;
            best = (int)refs[i].k[0];
        }
    }
    return best;
}

/* One point of the GPU chart: images/s with its IQR bar (B / q3 .. B / q1). */
static void gpus_point(FILE *fp, struct range *y, long gpus, const struct cell *c, double ideal)
{
    double ips = images_per_s(c->batch, c->median);
    double low = images_per_s(c->batch, c->q3);
    double high = c->q1 > 0 ? images_per_s(c->batch, c->q1) : ips; /* no infinite bar */
    fprintf(fp, "%ld,%.6g,%.6g,%.6g,%.6g,%d\n", gpus, ips, low, high, ideal, c->unstable);
    range_add(y, low);
    range_add(y, high);
    range_add(y, ideal);
}

/* images/s vs GPUs at one filter count: a block per (impl, variant,
 * threads, batch) with at least two GPU counts, each point with the ideal
 * N x images/s on one GPU (gpus 1, else the plain path drawn at N = 1). */
static cnn_status table_gpus(struct pd *pd)
{
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "scaling_gpus.csv", &f));
    struct ref *refs = refs_alloc(pd->n_cells);
    long *ticks = calloc((size_t)pd->n_cells + 2, sizeof *ticks);
    if (!refs || !ticks) {
        free(refs);
        free(ticks);
        cnn_atomic_abort(&f);
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the GPU curves");
    }
    int filters = gpus_filters(pd, refs), nr = 0;
    for (int i = 0; i < pd->n_cells; i++) {
        const struct cell *c = &pd->cells[i];
        const struct summary_row *l = label_row(pd, c->label);
        if (l->gpus >= 1 && c->filters == filters)
            refs[nr++] = (struct ref){{pd->labels[c->label].rank, l->variant, l->threads,
                                       c->batch, l->gpus}, i};
    }
    qsort(refs, (size_t)nr, sizeof *refs, ref_cmp);
    int blocks = 0, curves = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int i = 0, end; i < nr; i = end) {
        for (end = i; end < nr && same_keys(&refs[end], &refs[i], 4); end++)
            ;
        const struct cell *first = &pd->cells[refs[i].idx];
        const struct summary_row *l = label_row(pd, first->label);
        int plain_label = label_find(pd, pd->labels[first->label].rank, l->threads, l->variant, 0);
        const struct cell *base = first, *plain = NULL;
        if (refs[i].k[4] != 1) {
            plain = plain_label >= 0 ? cell_at(pd, plain_label, first->batch, filters) : NULL;
            if (!plain)
                continue;
            base = plain;
        } else if (end - i < 2) {
            continue;
        }
        if (curves++ >= PD_MAX_CURVES)
            continue;
        struct summary_row family = *l;
        family.gpus = 0;
        char group[PD_LABEL];
        label_of(&family, group, sizeof group);
        double base_ips = images_per_s(base->batch, base->median);
        fprintf(f.fp, "gpus,%s B=%d,images_low,images_high,ideal,unstable\n", group,
                first->batch);
        if (plain) {
            gpus_point(f.fp, &y, 1, plain, base_ips);
            unstable |= plain->unstable;
            ticks[n_ticks++] = 1;
        }
        for (int j = i; j < end; j++) {
            const struct cell *c = &pd->cells[refs[j].idx];
            long g = refs[j].k[4];
            gpus_point(f.fp, &y, g, c, g * base_ips);
            unstable |= c->unstable;
            ticks[n_ticks++] = g;
        }
        end_block(f.fp);
        blocks++;
    }
    info_int(pd, "gpus_blocks", blocks);
    info_note(pd, "gpus_note", blocks, curves, "curves");
    info_int(pd, "gpus_filters", filters);
    info_data_axis(pd, "gpus_x", ticks, n_ticks);
    info_log_axis(pd, "gpus_y", y.lo, y.hi);
    info_int(pd, "gpus_unstable", unstable);
    free(refs);
    free(ticks);
    return close_table(&f, blocks);
}

/* ---- speedup vs seq along filters or batch; step time vs parameters ---- */

/* Among pairs (fixed, x), the fixed value with the most distinct x; ties
 * to the larger. Sorts refs (keys 0 and 1). -1 when there are none. */
static int most_values(struct ref *refs, int n)
{
    qsort(refs, (size_t)n, sizeof *refs, ref_cmp);
    int best = -1, best_n = 0;
    for (int i = 0, j; i < n; i = j) {
        int count = 0;
        for (j = i; j < n && refs[j].k[0] == refs[i].k[0]; j++)
            count += j == i || refs[j].k[1] != refs[j - 1].k[1];
        if (count >= best_n) {
            best_n = count;
            best = (int)refs[i].k[0];
        }
    }
    return best;
}

/* Whether a label's impl is seq, the baseline of the speedup charts. */
static int is_seq(const struct pd *pd, int label)
{
    return strcmp(label_row(pd, label)->impl, "seq") == 0;
}

/* speedup vs seq along one size (which: 1 = filters at a fixed batch, 0 =
 * batch at fixed filters), one block per non-seq label, at the fixed size
 * with the most points that have both seq and another backend. */
static cnn_status table_speedup_size(struct pd *pd, int which)
{
    const char *name = which ? "speedup_filters.csv" : "speedup_batch.csv";
    const char *var = which ? "filters" : "batch";
    struct ref *refs = refs_alloc(pd->n_cells);
    long *ticks = calloc((size_t)pd->n_cells + 1, sizeof *ticks);
    struct cnn_atomic_file f;
    cnn_status st = refs && ticks ? open_table(pd, name, &f)
                                  : cnn_fail(CNN_E_NOMEM, "cannot allocate the %s curves", var);
    if (st != CNN_OK) {
        free(refs);
        free(ticks);
        return st;
    }
    int nr = 0;
    for (int i = 0; i < pd->n_cells && pd->seq >= 0; i++) {
        const struct cell *c = &pd->cells[i];
        int fixed = which ? c->batch : c->filters, x = which ? c->filters : c->batch;
        if (!is_seq(pd, c->label) && cell_at(pd, pd->seq, c->batch, c->filters))
            refs[nr++] = (struct ref){{fixed, x}, i};
    }
    int fixed = most_values(refs, nr);
    int blocks = 0, curves = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int l = 0; l < pd->n_labels && fixed > 0; l++) {
        if (is_seq(pd, l))
            continue;
        int wrote = 0;
        for (int i = pd->labels[l].first_cell; i < pd->labels[l].first_cell + pd->labels[l].n_cells;
             i++) {
            const struct cell *p = &pd->cells[i];
            const struct cell *s = cell_at(pd, pd->seq, p->batch, p->filters);
            if ((which ? p->batch : p->filters) != fixed || !s)
                continue;
            if (!wrote && curves++ >= PD_MAX_CURVES)
                break;
            if (!wrote)
                fprintf(f.fp, "%s,%s,speedup_low,speedup_high,median_ms,unstable\n", var,
                        pd->labels[l].name);
            wrote = 1;
            int x = which ? p->filters : p->batch, u = p->unstable || s->unstable;
            double low = speedup_bar(s->median, p->q3, p->median);
            double high = speedup_bar(s->median, p->q1, p->median);
            fprintf(f.fp, "%d,%.6g,%.6g,%.6g,%.6g,%d\n", x, s->median / p->median, low, high,
                    p->median, u);
            range_add(&y, low);
            range_add(&y, high);
            range_add(&y, 1); /* the seq line */
            ticks[n_ticks++] = x;
            unstable |= u;
        }
        if (wrote) {
            end_block(f.fp);
            blocks++;
        }
    }
    char key[64];
    snprintf(key, sizeof key, "%s_blocks", var);
    info_int(pd, key, blocks);
    snprintf(key, sizeof key, "%s_fixed", var);
    info_int(pd, key, fixed);
    snprintf(key, sizeof key, "%s_note", var);
    info_note(pd, key, blocks, curves, "curves");
    snprintf(key, sizeof key, "%s_x", var);
    info_data_axis(pd, key, ticks, n_ticks);
    snprintf(key, sizeof key, "%s_y", var);
    info_log_axis(pd, key, y.lo, y.hi);
    snprintf(key, sizeof key, "%s_unstable", var);
    info_int(pd, key, unstable);
    free(refs);
    free(ticks);
    return close_table(&f, blocks);
}

/* step time vs parameter count at the batch with the most filter counts,
 * ticks at the parameter counts run (labelled with their F). */
static cnn_status table_time_params(struct pd *pd)
{
    struct ref *refs = refs_alloc(pd->n_cells);
    long *filters = calloc((size_t)pd->n_cells + 1, sizeof *filters);
    long *params = calloc((size_t)pd->n_cells + 1, sizeof *params);
    struct cnn_atomic_file f;
    cnn_status st = refs && filters && params
                        ? open_table(pd, "time_vs_params.csv", &f)
                        : cnn_fail(CNN_E_NOMEM, "cannot allocate the params curves");
    if (st != CNN_OK) {
        free(refs);
        free(filters);
        free(params);
        return st;
    }
    for (int i = 0; i < pd->n_cells; i++)
        refs[i] = (struct ref){{pd->cells[i].batch, pd->cells[i].filters}, i};
    int batch = most_values(refs, pd->n_cells);
    int blocks = 0, curves = 0, nf = 0, unstable = 0;
    struct range y = range_empty;
    for (int l = 0; l < pd->n_labels && batch > 0; l++) {
        int wrote = 0;
        for (int i = pd->labels[l].first_cell; i < pd->labels[l].first_cell + pd->labels[l].n_cells;
             i++) {
            const struct cell *p = &pd->cells[i];
            if (p->batch != batch)
                continue;
            if (!wrote && curves++ >= PD_MAX_CURVES)
                break;
            if (!wrote)
                fprintf(f.fp, "params,%s,q1_ms,q3_ms,filters,unstable\n", pd->labels[l].name);
            wrote = 1;
            /* a log axis cannot show a bar down to 0 */
            double q1 = p->q1 > 0 ? p->q1 : p->median;
            fprintf(f.fp, "%zu,%.6g,%.6g,%.6g,%d,%d\n", cnn_param_count(p->filters), p->median,
                    q1, p->q3, p->filters, p->unstable);
            range_add(&y, q1);
            range_add(&y, p->q3);
            range_add(&y, p->median);
            filters[nf++] = p->filters;
            unstable |= p->unstable;
        }
        if (wrote) {
            end_block(f.fp);
            blocks++;
        }
    }
    info_int(pd, "params_blocks", blocks);
    info_int(pd, "params_batch", batch);
    info_note(pd, "params_note", blocks, curves, "curves");
    /* ticks at the parameter counts, labelled "13.6k" over "F=8" (the
     * count grows with F, so both lists are in the same order) */
    nf = distinct(filters, nf);
    for (int i = 0; i < nf; i++)
        params[i] = (long)cnn_param_count((int)filters[i]);
    int each = info_data_axis(pd, "params_x", params, nf);
    info_values(pd, "params_x_filters", filters, each ? nf : 0);
    info_log_axis(pd, "params_y", y.lo, y.hi);
    info_int(pd, "params_unstable", unstable);
    free(refs);
    free(filters);
    free(params);
    return close_table(&f, blocks);
}

/* ---- where the time goes ---- */

/* The (batch, filters) that the most backends ran, then the most labels;
 * ties to the larger size. -1, -1 for a run without any. */
static cnn_status busiest_size(const struct pd *pd, int *batch, int *filters)
{
    *batch = *filters = -1;
    struct ref *refs = refs_alloc(pd->n_cells);
    if (!refs)
        return CNN_E_NOMEM;
    for (int i = 0; i < pd->n_cells; i++)
        refs[i] = (struct ref){{pd->cells[i].batch, pd->cells[i].filters,
                                pd->labels[pd->cells[i].label].rank}, i};
    qsort(refs, (size_t)pd->n_cells, sizeof *refs, ref_cmp);
    long best_impls = 0, best_labels = 0, best_size = -1;
    for (int i = 0, j; i < pd->n_cells; i = j) {
        long impls = 0;
        for (j = i; j < pd->n_cells && same_keys(&refs[j], &refs[i], 2); j++)
            impls += j == i || refs[j].k[2] != refs[j - 1].k[2];
        long labels = j - i, size = refs[i].k[0] * refs[i].k[1];
        if (impls > best_impls || (impls == best_impls && labels > best_labels) ||
            (impls == best_impls && labels == best_labels && size > best_size)) {
            best_impls = impls;
            best_labels = labels;
            best_size = size;
            *batch = (int)refs[i].k[0];
            *filters = (int)refs[i].k[1];
        }
    }
    free(refs);
    return CNN_OK;
}

/* The regions in the order a step runs them (the all-reduce sits between
 * conv_bwd and update). */
static const enum cnn_region region_order[CNN_REGION_COUNT] = {
    CNN_REGION_H2D, CNN_REGION_CONV_FWD, CNN_REGION_FC_FWD, CNN_REGION_LOSS_FWD,
    CNN_REGION_LOSS_BWD, CNN_REGION_FC_BWD, CNN_REGION_CONV_BWD, CNN_REGION_ALLREDUCE,
    CNN_REGION_UPDATE, CNN_REGION_D2H,
};

/* The regions any of the cells has, in step order. */
static int active_regions(const struct cell *const *cells, int n, enum cnn_region *regions)
{
    int nr = 0;
    for (int k = 0; k < CNN_REGION_COUNT; k++) {
        int used = 0;
        for (int i = 0; i < n && !used; i++)
            used = !isnan(cells[i]->region[region_order[k]]);
        if (used)
            regions[nr++] = region_order[k];
    }
    return nr;
}

static void region_header(FILE *fp, const char *first, const enum cnn_region *regions, int nr)
{
    fputs(first, fp);
    for (int k = 0; k < nr; k++)
        fprintf(fp, ",%s", cnn_region_name(regions[k]));
    fputc('\n', fp);
}

static double region_or_zero(const struct cell *c, enum cnn_region r)
{
    return isnan(c->region[r]) ? 0.0 : c->region[r];
}

/* Stacked per-region shares at the busiest size, one bar per label; an
 * unstable configuration's bar label ends in '*'. */
static cnn_status table_breakdown_share(struct pd *pd, int batch, int filters)
{
    const struct cell *cells[PD_MAX_CURVES];
    int n = 0, total = 0;
    for (int l = 0; l < pd->n_labels; l++) {
        const struct cell *c = cell_at(pd, l, batch, filters);
        if (c && total++ < PD_MAX_CURVES)
            cells[n++] = c;
    }
    enum cnn_region regions[CNN_REGION_COUNT];
    int nr = active_regions(cells, n, regions), unstable = 0;
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "breakdown_share.csv", &f));
    region_header(f.fp, "label", regions, nr);
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int k = 0; k < nr; k++)
            sum += region_or_zero(cells[i], regions[k]);
        fprintf(f.fp, "%s (%.3g ms)%s", pd->labels[cells[i]->label].name, cells[i]->median,
                cells[i]->unstable ? "*" : "");
        for (int k = 0; k < nr; k++)
            fprintf(f.fp, ",%.6g", sum > 0 ? 100.0 * region_or_zero(cells[i], regions[k]) / sum
                                           : 0.0);
        fputc('\n', f.fp);
        unstable |= cells[i]->unstable;
    }
    info_int(pd, "share_rows", n);
    info_int(pd, "share_columns", nr);
    info_int(pd, "share_batch", batch);
    info_int(pd, "share_filters", filters);
    info_int(pd, "share_unstable", unstable);
    info_note(pd, "share_note", n, total, "bars");
    return close_table(&f, n > 0 && nr > 0);
}

/* Per impl, absolute region times over the filter counts at one batch: the
 * impl's label with the most filter counts there (ties: the later label,
 * more threads). */
static cnn_status table_breakdown_impls(struct pd *pd, int batch)
{
    char list[PLAN_MAX_IMPLS * (sizeof pd->rows[0].impl + 1)] = "";
    for (int l = 0; l < pd->n_labels;) {
        int best = -1, best_n = 0, end = l;
        for (; end < pd->n_labels && pd->labels[end].rank == pd->labels[l].rank; end++) {
            int count = 0;
            for (int i = 0; i < pd->labels[end].n_cells; i++)
                count += pd->cells[pd->labels[end].first_cell + i].batch == batch;
            if (count > 0 && count >= best_n) {
                best_n = count;
                best = end;
            }
        }
        l = end;
        if (best < 0)
            continue;
        const struct cell **cells = malloc((size_t)best_n * sizeof *cells);
        if (!cells)
            return cnn_fail(CNN_E_NOMEM, "cannot allocate a breakdown");
        int n = 0, unstable = 0;
        for (int i = 0; i < pd->labels[best].n_cells; i++) {
            const struct cell *c = &pd->cells[pd->labels[best].first_cell + i];
            if (c->batch == batch)
                cells[n++] = c;
        }
        enum cnn_region regions[CNN_REGION_COUNT];
        int nr = active_regions(cells, n, regions);
        const char *impl = label_row(pd, best)->impl;
        char name[96];
        snprintf(name, sizeof name, "breakdown_%s.csv", impl);
        struct cnn_atomic_file f;
        cnn_status st = open_table(pd, name, &f);
        if (st != CNN_OK) {
            free(cells);
            return st;
        }
        region_header(f.fp, "filters", regions, nr);
        for (int i = 0; i < n; i++) {
            fprintf(f.fp, "%d%s", cells[i]->filters, cells[i]->unstable ? "*" : "");
            for (int k = 0; k < nr; k++)
                fprintf(f.fp, ",%.6g", region_or_zero(cells[i], regions[k]));
            fputc('\n', f.fp);
            unstable |= cells[i]->unstable;
        }
        free(cells);
        CNN_TRY(close_table(&f, nr > 0));
        if (nr == 0)
            continue;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", used ? " " : "", impl);
        snprintf(name, sizeof name, "breakdown_label_%s", impl);
        info_str(pd, name, pd->labels[best].name);
        snprintf(name, sizeof name, "breakdown_columns_%s", impl);
        info_int(pd, name, nr);
        snprintf(name, sizeof name, "breakdown_unstable_%s", impl);
        info_int(pd, name, unstable);
    }
    info_str(pd, "breakdown_impls", list);
    info_int(pd, "breakdown_batch", batch);
    return CNN_OK;
}

/* ---- per-step series from steps.csv and evals.csv ---- */

struct series {
    const char *key;  /* a row's config_key */
    long n, cap;
    long *step;
    double *a;        /* step_ms (steps.csv) or accuracy in % (evals.csv) */
    double *b;        /* loss (steps.csv); NaN where not recorded */
};

static int series_cmp(const void *a, const void *b)
{
    return strcmp(((const struct series *)a)->key, ((const struct series *)b)->key);
}

/* Series for the keys of rows[0..n) (duplicates dropped), sorted by key. */
static struct series *series_for(const struct pd *pd, const int *rows, int n, int *count)
{
    struct series *s = calloc((size_t)(n > 0 ? n : 1), sizeof *s);
    *count = 0;
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++)
        s[i].key = pd->rows[rows[i]].key;
    qsort(s, (size_t)n, sizeof *s, series_cmp);
    for (int i = 0; i < n; i++)
        if (*count == 0 || strcmp(s[*count - 1].key, s[i].key) != 0)
            s[(*count)++] = s[i];
    return s;
}

static const struct series *series_find(const struct series *s, int n, const char *key)
{
    struct series want = {.key = key};
    return bsearch(&want, s, (size_t)n, sizeof *s, series_cmp);
}

static void series_free(struct series *s, int n)
{
    for (int i = 0; s && i < n; i++) {
        free(s[i].step);
        free(s[i].a);
        free(s[i].b);
    }
    free(s);
}

static int series_push(struct series *s, long step, double a, double b)
{
    if (s->n == s->cap) {
        long cap = s->cap ? s->cap * 2 : 256;
        long *st = realloc(s->step, (size_t)cap * sizeof *st);
        if (st)
            s->step = st;
        double *na = realloc(s->a, (size_t)cap * sizeof *na);
        if (na)
            s->a = na;
        double *nb = realloc(s->b, (size_t)cap * sizeof *nb);
        if (nb)
            s->b = nb;
        if (!st || !na || !nb)
            return -1;
        s->cap = cap;
    }
    s->step[s->n] = step;
    s->a[s->n] = a;
    s->b[s->n] = b;
    s->n++;
    return 0;
}

/* Reads a file of the run (file: its path inside the run) whole, checked
 * to be text, into *text and *len; path gets the name read. A published
 * run keeps its large CSV gzipped: FILE.gz is read where FILE is missing
 * (csv_read_file decompresses). */
static cnn_status read_run_file(const struct pd *pd, const char *file, char *path,
                                size_t path_len, char **text, size_t *len)
{
    snprintf(path, path_len, "%s/%s", pd->run, file);
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        snprintf(path, path_len, "%s/%s.gz", pd->run, file);
        if (stat(path, &sb) != 0)
            snprintf(path, path_len, "%s/%s", pd->run, file);
    }
    CNN_TRY(csv_read_file(path, text, len));
    cnn_status st = field_check_text(path, *text, *len);
    if (st != CNN_OK)
        free(*text);
    return st;
}

/* Splits one record of a run's CSV into at most max fields; CNN_E_DATA
 * when its quoting is broken, it has more than max, or (want >= 0) it has
 * other than want. Returns the count in *count. */
static cnn_status split_record(const char *path, long line, char *record, char **fields,
                               int max, int want, int *count)
{
    *count = csv_split(record, fields, max + 1);
    if (*count < 0)
        return cnn_fail(CNN_E_DATA, "%s: line %ld: broken quoting", path, line);
    if (*count > max || (want >= 0 && *count != want))
        return cnn_fail(CNN_E_DATA, "%s: line %ld: %d fields where %d were expected", path, line,
                        *count, want >= 0 ? want : max);
    return CNN_OK;
}

/* Fills the series (sorted by key) from the run's steps.csv (rows of region
 * "step": a = time_ms, b = loss) or evals.csv (a = test_accuracy_pct). The
 * fields of the rows it keeps are checked; every row must have the header's
 * field count, except a last one cut off mid-write, which is dropped. */
static cnn_status read_series(const struct pd *pd, const char *file, struct series *s, int n)
{
    enum { MAX_FIELDS = 32 };
    char path[PD_PATH], *text, *record;
    size_t len;
    CNN_TRY(read_run_file(pd, file, path, sizeof path, &text, &len));
    int is_steps = strcmp(file, "steps.csv") == 0;
    char *header[MAX_FIELDS + 1], *fields[MAX_FIELDS + 1];
    int nh = 0, nf, c_key = -1, c_step = -1, c_a = -1, c_b = -1, c_region = -1;
    const char *a_name = is_steps ? "time_ms" : "test_accuracy_pct";
    cnn_status st = CNN_OK;
    struct csv_records records;
    csv_records_init(&records, text, len);
    while (st == CNN_OK && csv_records_next(&records, &record) == 1) {
        long line = records.line;
        if (line == 1) {
            st = split_record(path, line, record, header, MAX_FIELDS, -1, &nh);
            c_key = csv_find_column(header, nh, "config_key");
            c_step = csv_find_column(header, nh, "step");
            c_a = csv_find_column(header, nh, a_name);
            c_b = csv_find_column(header, nh, "loss");
            c_region = csv_find_column(header, nh, "region");
            if (st == CNN_OK && (c_key < 0 || c_step < 0 || c_a < 0 ||
                                 (is_steps && (c_b < 0 || c_region < 0))))
                st = cnn_fail(CNN_E_DATA, "%s: line 1: not the header of a cnnbench %s "
                              "(config_key, step, %s%s)", path, file, a_name,
                              is_steps ? ", loss, region" : "");
            continue;
        }
        st = split_record(path, line, record, fields, MAX_FIELDS, nh, &nf);
        if (st != CNN_OK)
            break;
        struct series *to = (struct series *)series_find(s, n, fields[c_key]);
        if (!to || (is_steps && strcmp(fields[c_region], "step") != 0))
            continue;
        long step;
        double a, b = NAN;
        struct field_pos at = {path, line, c_step + 1, "step"};
        st = field_long(&at, fields[c_step], 1, 1000000000000L, &step);
        if (st == CNN_OK) {
            at = (struct field_pos){path, line, c_a + 1, a_name};
            st = field_double(&at, fields[c_a], 0, is_steps ? FIELD_MAX_NUMBER : 100, 0, &a);
        }
        if (st == CNN_OK && is_steps) {
            at = (struct field_pos){path, line, c_b + 1, "loss"};
            st = field_double(&at, fields[c_b], 0, FIELD_MAX_NUMBER, 1, &b);
        }
        if (st == CNN_OK && series_push(to, step, a, b) != 0)
            st = cnn_fail(CNN_E_NOMEM, "%s: cannot allocate a series", path);
    }
    if (st == CNN_OK && nh == 0)
        st = cnn_fail(CNN_E_DATA, "%s: no complete header line", path);
    free(text);
    return st;
}

/* The row of a cell to draw per step: the longest (of `steps` steps when
 * steps > 0), first repetition first; -1 if none. */
static int series_row(const struct pd *pd, const struct cell *c, long steps)
{
    int best = -1;
    for (int i = 0; i < c->count; i++) {
        int k = pd->cell_rows[c->first + i];
        const struct summary_row *r = &pd->rows[k], *b = best >= 0 ? &pd->rows[best] : NULL;
        if (steps > 0 && r->steps != steps)
            continue;
        if (!b || r->steps > b->steps || (r->steps == b->steps && r->rep < b->rep))
            best = k;
    }
    return best;
}

/* Box plot of step times at the busiest size, one box per label; an
 * unstable configuration's box is hatched (box_unstable_<k> is 1). */
static cnn_status table_step_times(struct pd *pd, int batch, int filters,
                                   const struct series *s, int ns, const int *rows, int n)
{
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "step_times.csv", &f));
    struct range y = range_empty;
    int blocks = 0, unstable = 0;
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &pd->rows[rows[i]];
        const struct series *one = series_find(s, ns, r->key);
        if (!one || one->n == 0)
            continue;
        char label[PD_LABEL], name[64];
        label_of(r, label, sizeof label);
        fprintf(f.fp, "step,%s\n", label);
        for (long k = 0; k < one->n; k++) {
            fprintf(f.fp, "%ld,%.6g\n", one->step[k], one->a[k]);
            range_add(&y, one->a[k]);
        }
        end_block(f.fp);
        blocks++;
        snprintf(name, sizeof name, "box_label_%d", blocks);
        info_str(pd, name, label);
        snprintf(name, sizeof name, "box_unstable_%d", blocks);
        info_int(pd, name, row_unstable(r));
        unstable |= row_unstable(r);
    }
    info_int(pd, "box_blocks", blocks);
    info_int(pd, "box_batch", batch);
    info_int(pd, "box_filters", filters);
    info_int(pd, "box_unstable", unstable);
    int log_scale = y.hi > 0 && y.hi / y.lo > 30;
    info_int(pd, "box_log", log_scale);
    if (log_scale)
        info_log_axis(pd, "box_y", y.lo, y.hi);
    else
        info_linear_axis(pd, "box_y", y.hi > 0 ? y.lo : 0, y.hi, 0, FIELD_MAX_NUMBER);
    return close_table(&f, blocks);
}

/* One table of per-step values, a block per series that has any; *points
 * is the length of the longest (1: a line would draw nothing). */
static cnn_status learning_table(struct pd *pd, const char *name, const struct series *s,
                                 int ns, const int *rows, int n, int loss, double *lo,
                                 double *hi, int *blocks, long *points)
{
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, name, &f));
    *blocks = 0;
    *points = 0;
    for (int i = 0; i < n; i++) {
        const struct summary_row *r = &pd->rows[rows[i]];
        const struct series *one = series_find(s, ns, r->key);
        if (!one || one->n == 0)
            continue;
        char label[PD_LABEL];
        label_of(r, label, sizeof label);
        fprintf(f.fp, "step,%s\n", label);
        for (long k = 0; k < one->n; k++) {
            double v = loss ? one->b[k] : one->a[k];
            if (isnan(v)) {
                fprintf(f.fp, "%ld,NaN\n", one->step[k]);
                continue;
            }
            fprintf(f.fp, "%ld,%.6g\n", one->step[k], v);
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
        end_block(f.fp);
        (*blocks)++;
        *points = one->n > *points ? one->n : *points;
    }
    return close_table(&f, *blocks);
}

/* The per-step charts: the box plot at the busiest size, and loss and test
 * accuracy per step for the size and length with the most evaluations (or
 * the longest run when nothing was evaluated). steps.csv, the largest file
 * of a run, is read once for both. */
static cnn_status tables_per_step(struct pd *pd, int batch, int filters)
{
    int *all = malloc((size_t)(pd->n > 0 ? pd->n : 1) * sizeof *all);
    int box[PD_MAX_CURVES], learn[PD_MAX_CURVES], keys[2 * PD_MAX_CURVES];
    int n_box = 0, n_learn = 0, box_total = 0, learn_total = 0, n_evals = 0, n_steps = 0;
    if (!all)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the evaluation series");
    for (int i = 0; i < pd->n; i++)
        all[i] = i;
    struct series *evals = series_for(pd, all, pd->n, &n_evals), *steps = NULL;
    free(all);
    cnn_status st = evals ? read_series(pd, "evals.csv", evals, n_evals)
                          : cnn_fail(CNN_E_NOMEM, "cannot allocate the evaluation series");
    int best = -1;
    long best_evals = -1;
    for (int i = 0; i < pd->n && st == CNN_OK; i++) {
        const struct series *e = series_find(evals, n_evals, pd->rows[i].key);
        long count = e ? e->n : 0;
        if (count > best_evals ||
            (count == best_evals && pd->rows[i].steps > pd->rows[best].steps)) {
            best_evals = count;
            best = i;
        }
    }
    const struct summary_row *g = best >= 0 ? &pd->rows[best] : NULL;
    for (int l = 0; l < pd->n_labels && st == CNN_OK; l++) {
        const struct cell *b = cell_at(pd, l, batch, filters);
        int r = b ? series_row(pd, b, 0) : -1;
        if (r >= 0 && box_total++ < PD_MAX_CURVES)
            box[n_box++] = keys[n_steps++] = r;
        const struct cell *c = g ? cell_at(pd, l, g->batch, g->filters) : NULL;
        r = c ? series_row(pd, c, g->steps) : -1;
        if (r >= 0 && learn_total++ < PD_MAX_CURVES)
            learn[n_learn++] = keys[n_steps++] = r;
    }
    int n_series = 0;
    if (st == CNN_OK) {
        steps = series_for(pd, keys, n_steps, &n_series);
        st = steps ? read_series(pd, "steps.csv", steps, n_series)
                   : cnn_fail(CNN_E_NOMEM, "cannot allocate the step series");
    }
    if (st == CNN_OK)
        st = table_step_times(pd, batch, filters, steps, n_series, box, n_box);
    double loss_lo = INFINITY, loss_hi = -INFINITY, acc_lo = INFINITY, acc_hi = -INFINITY;
    int loss_blocks = 0, acc_blocks = 0;
    long loss_points = 0, acc_points = 0;
    if (st == CNN_OK)
        st = learning_table(pd, "loss.csv", steps, n_series, learn, n_learn, 1, &loss_lo,
                            &loss_hi, &loss_blocks, &loss_points);
    if (st == CNN_OK)
        st = learning_table(pd, "accuracy.csv", evals, n_evals, learn, n_learn, 0, &acc_lo,
                            &acc_hi, &acc_blocks, &acc_points);
    info_note(pd, "box_note", n_box, box_total, "boxes");
    info_note(pd, "learning_note", n_learn, learn_total, "curves");
    info_int(pd, "loss_blocks", loss_blocks);
    info_int(pd, "loss_points", loss_points);
    info_int(pd, "accuracy_blocks", acc_blocks);
    info_int(pd, "learning_batch", g ? g->batch : 0);
    info_int(pd, "learning_filters", g ? g->filters : 0);
    info_int(pd, "learning_steps", g ? g->steps : 0);
    info_linear_axis(pd, "loss_y", loss_lo, loss_hi, 0, FIELD_MAX_NUMBER);
    info_linear_axis(pd, "accuracy_y", acc_lo, acc_hi, 0, 100);
    series_free(evals, n_evals);
    series_free(steps, n_series);
    return st;
}

/* ---- the showcase: filters, one digit and its feature maps as image tiles ---- */

/* Reads a showcase CSV (file: its path in the run) of "tile,row,col,value"
 * (filters, maps; three = 0) or "row,col,value" (the digit; three = 1) into
 * v [tiles][rows][cols], every field checked; *count = the number of tiles
 * (largest index + 1). */
static cnn_status read_tiles(const struct pd *pd, const char *file, int three, float *v,
                             int max_count, int rows, int cols, int *count)
{
    char path[PD_PATH], *text, *record, *fields[8];
    size_t len;
    CNN_TRY(read_run_file(pd, file, path, sizeof path, &text, &len));
    int want = three ? 3 : 4, nf;
    cnn_status st = CNN_OK;
    struct csv_records records;
    csv_records_init(&records, text, len);
    *count = 0;
    while (st == CNN_OK && csv_records_next(&records, &record) == 1) {
        long line = records.line;
        st = split_record(path, line, record, fields, 7, want, &nf);
        if (st != CNN_OK || line == 1)
            continue;
        int idx[3] = {0, 0, 0};
        const int hi[3] = {max_count - 1, rows - 1, cols - 1};
        const char *names[3] = {"tile", "row", "col"};
        double value = 0;
        for (int k = three; k < 3 && st == CNN_OK; k++) {
            struct field_pos at = {path, line, k - three + 1, names[k]};
            st = field_int(&at, fields[k - three], 0, hi[k], &idx[k]);
        }
        struct field_pos at = {path, line, want, "value"};
        if (st == CNN_OK)
            st = field_double(&at, fields[want - 1], -FIELD_MAX_NUMBER, FIELD_MAX_NUMBER, 0,
                              &value);
        if (st != CNN_OK)
            break;
        v[((size_t)idx[0] * rows + idx[1]) * cols + idx[2]] = (float)value;
        *count = idx[0] + 1 > *count ? idx[0] + 1 : *count;
    }
    free(text);
    return st;
}

/* Writes count tiles of rows x cols as one image grid "x,y,value" with a
 * one-pixel NaN gap between tiles; each tile scaled by its largest |value|
 * so that weak filters stay visible (signed: -1..1, else 0..1). */
static cnn_status write_grid(const struct pd *pd, const char *name, const float *v, int count,
                             int rows, int cols)
{
    int gc = 1;
    while (gc * gc < count)
        gc++;
    int gr = (count + gc - 1) / gc;
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, name, &f));
    fputs("x,y,value\n", f.fp);
    int w = gc * (cols + 1) - 1, h = gr * (rows + 1) - 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int tile = (y / (rows + 1)) * gc + x / (cols + 1);
            int r = y % (rows + 1), c = x % (cols + 1);
            if (r == rows || c == cols || tile >= count) {
                fprintf(f.fp, "%d,%d,NaN\n", x, y);
                continue;
            }
            const float *t = v + (size_t)tile * rows * cols;
            float scale = 0;
            for (int i = 0; i < rows * cols; i++)
                scale = fabsf(t[i]) > scale ? fabsf(t[i]) : scale;
            fprintf(f.fp, "%d,%d,%.5g\n", x, y, scale > 0 ? t[r * cols + c] / scale : 0.0);
        }
    return cnn_atomic_commit(&f);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static cnn_status table_showcase(struct pd *pd, const char *meta_path, const char *meta)
{
    char path[PD_PATH], key[PLAN_KEY_MAX + 1] = "";
    double label = -1, index = -1;
    int filters = 0;
    /* the configuration whose parameters were exported: a row's key (so
     * checked), unless it did not finish */
    if (json_get_string(meta, "showcase.params_config", key, sizeof key) == 0) {
        for (int i = 0; i < pd->n && filters == 0; i++)
            if (!strcmp(pd->rows[i].key, key))
                filters = pd->rows[i].filters;
        int have = json_get_number(meta, "showcase.digit_label", &label) == 0 &&
                   json_get_number(meta, "showcase.digit_index", &index) == 0;
        if (filters > 0 && !(have && label == floor(label) && label >= 0 && label <= 9 &&
                             index == floor(index) && index >= 0 && index <= 1e9))
            return cnn_fail(CNN_E_DATA, "%s: \"digit_label\" (0..9) and \"digit_index\" (a test "
                            "image) must come with \"params_config\"", meta_path);
    }
    snprintf(path, sizeof path, "%s/showcase/filters.csv", pd->run);
    if (filters == 0 || !file_exists(path)) {
        info_int(pd, "showcase", 0);
        const char *grids[] = {"filters_grid.csv", "maps_grid.csv", "digit_grid.csv"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", pd->data_dir, grids[i]);
            CNN_TRY(remove_stale(path));
        }
        return CNN_OK;
    }
    size_t maps = (size_t)filters * CNN_POOL_AREA;
    float *buf = calloc(maps + (size_t)filters * CNN_KTAPS + CNN_PIXELS, sizeof *buf);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the showcase tiles");
    float *w = buf, *m = buf + (size_t)filters * CNN_KTAPS, *d = m + maps;
    int nw = 0, nm = 0, nd = 0;
    cnn_status st = read_tiles(pd, "showcase/filters.csv", 0, w, filters, CNN_KSIZE, CNN_KSIZE,
                               &nw);
    if (st == CNN_OK)
        st = read_tiles(pd, "showcase/feature_maps.csv", 0, m, filters, CNN_POOL, CNN_POOL, &nm);
    if (st == CNN_OK)
        st = read_tiles(pd, "showcase/digit.csv", 1, d, 1, CNN_IMG, CNN_IMG, &nd);
    if (st == CNN_OK && (nw == 0 || nm == 0 || nd == 0))
        st = cnn_fail(CNN_E_DATA, "%s/showcase: a file without rows", pd->run);
    if (st == CNN_OK)
        st = write_grid(pd, "filters_grid.csv", w, nw, CNN_KSIZE, CNN_KSIZE);
    if (st == CNN_OK)
        st = write_grid(pd, "maps_grid.csv", m, nm, CNN_POOL, CNN_POOL);
    if (st == CNN_OK)
        st = write_grid(pd, "digit_grid.csv", d, 1, CNN_IMG, CNN_IMG);
    free(buf);
    info_int(pd, "showcase", 1);
    info_str(pd, "showcase_config", key);
    info_int(pd, "showcase_filters", filters);
    info_int(pd, "digit_label", (long)label);
    info_int(pd, "digit_index", (long)index);
    return st;
}

/* ---- the machine, and the command ---- */

/* A text value of meta.json for a chart's footer: printable and short, or
 * "unknown" when the run did not record it. */
static cnn_status meta_text(const char *path, const char *meta, const char *key, char *out,
                            size_t len)
{
    char buf[1024];
    if (json_get_string(meta, key, buf, sizeof buf) != 0) {
        snprintf(out, len, "unknown");
        return CNN_OK;
    }
    if (strlen(buf) >= len || !field_is_printable(buf))
        return cnn_fail(CNN_E_DATA, "%s: \"%s\" is not printable text of at most %zu characters",
                        path, key, len - 1);
    snprintf(out, len, "%s", buf);
    return CNN_OK;
}

static cnn_status machine_info(struct pd *pd, const char *path, const char *meta)
{
    char cpu[256], gpu[256], run_id[256], cpu_full[300] = "";
    CNN_TRY(meta_text(path, meta, "host.cpu_model", cpu, sizeof cpu));
    CNN_TRY(meta_text(path, meta, "gpu_name", gpu, sizeof gpu));
    CNN_TRY(meta_text(path, meta, "run_id", run_id, sizeof run_id));
    double online;
    if (json_get_number(meta, "host.online_cpus", &online) == 0 && online >= 1 && online <= 1e6)
        snprintf(cpu_full, sizeof cpu_full, "%s (%d CPUs)", cpu, (int)online);
    else
        snprintf(cpu_full, sizeof cpu_full, "%s", cpu);
    info_str(pd, "cpu_name", cpu_full);
    info_str(pd, "gpu_name", gpu);
    info_str(pd, "run_id", run_id);
    fputs("machine = sprintf('CPU: %s   GPU: %s   run %s', cpu_name, gpu_name, run_id)\n",
          pd->info);
    return CNN_OK;
}

static cnn_status make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", path, strerror(errno));
    return CNN_OK;
}

/* Every table, in the order plotinfo.gp lists them. */
static cnn_status write_tables(struct pd *pd, const char *meta_path, const char *meta)
{
    int bb, bf;
    CNN_TRY(busiest_size(pd, &bb, &bf));
    fputs("# written by cnnbench plotdata: what the tables in this directory hold\n", pd->info);
    info_int(pd, "configurations_ok", pd->n);
    CNN_TRY(machine_info(pd, meta_path, meta));
    CNN_TRY(table_threads(pd));
    CNN_TRY(table_gpus(pd));
    CNN_TRY(table_speedup_size(pd, 1));
    CNN_TRY(table_speedup_size(pd, 0));
    CNN_TRY(table_time_params(pd));
    CNN_TRY(table_breakdown_share(pd, bb, bf));
    CNN_TRY(table_breakdown_impls(pd, bb));
    CNN_TRY(tables_per_step(pd, bb, bf));
    return table_showcase(pd, meta_path, meta);
}

static cnn_status plotdata_run(struct pd *pd)
{
    char path[PD_PATH], meta_path[PD_PATH];
    struct summary_row *all;
    int n_all;
    snprintf(path, sizeof path, "%s/summary.csv", pd->run);
    CNN_TRY(summary_read_run(path, &all, &n_all));
    pd->rows = all;
    pd->n = 0;
    for (int i = 0; i < n_all; i++)
        if (!strcmp(all[i].status, "ok"))
            pd->rows[pd->n++] = all[i];
    cnn_status st = build_cells(pd, path);
    char *meta = NULL;
    snprintf(meta_path, sizeof meta_path, "%s/meta.json", pd->run);
    if (st == CNN_OK)
        st = meta_read(meta_path, &meta);
    snprintf(path, sizeof path, "%s/plots", pd->run);
    if (st == CNN_OK)
        st = make_dir(path);
    if (st == CNN_OK)
        st = make_dir(pd->data_dir);
    struct cnn_atomic_file info;
    snprintf(path, sizeof path, "%s/plotinfo.gp", pd->data_dir);
    if (st == CNN_OK)
        st = cnn_atomic_open(&info, path);
    if (st == CNN_OK) {
        pd->info = info.fp;
        st = write_tables(pd, meta_path, meta);
        if (st == CNN_OK)
            st = cnn_atomic_commit(&info);
        else
            cnn_atomic_abort(&info);
    }
    free(meta);
    free(all);
    free(pd->labels);
    free(pd->cells);
    free(pd->cell_rows);
    return st;
}

enum cli_outcome plotdata_command(int argc, char **argv)
{
    struct pd pd;
    memset(&pd, 0, sizeof pd);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(plotdata_help, stdout);
            return CLI_DONE;
        }
        if (argv[i][0] == '-' || pd.run) {
            cnn_fail(CNN_E_ARG, "unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
        pd.run = argv[i];
    }
    if (!pd.run) {
        cnn_fail(CNN_E_ARG, "which run? give its directory, e.g. results/<run-id>");
        return CLI_USAGE;
    }
    snprintf(pd.data_dir, sizeof pd.data_dir, "%s/plots/data", pd.run);
    if (plotdata_run(&pd) != CNN_OK)
        return CLI_FAILED;
    printf("plot data in %s/\n", pd.data_dir);
    return CLI_DONE;
}
