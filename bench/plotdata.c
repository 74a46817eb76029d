/*
 * plotdata.c — `cnnbench plotdata RUN_DIR`: reshapes a run's tidy CSV into
 * the small plot-ready tables the gnuplot scripts in plots/ draw, under
 * RUN_DIR/plots/data/, plus plotinfo.gp, which tells the scripts what each
 * table holds (the CPU and GPU from meta.json, chosen sizes, axis ranges).
 *
 * gnuplot reads CSV well but cannot group, sort or pick; doing that here in
 * C keeps the project free of a Python dependency. Choices, all documented in
 * results/README.md:
 *   - only configurations with status ok are drawn;
 *   - a curve is one "label": impl plus threads ("omp t2") plus variant
 *     ("cuda v3") plus GPUs of a data-parallel run ("cuda g4"); repetitions and runs of different lengths of one
 *     (label, batch, filters) are pooled as the median of their medians
 *     (and of their quartiles);
 *   - speedup vs filters is drawn at the batch size with the most filter
 *     values, speedup vs batch at the filter count with the most batch sizes;
 *     the breakdown and the box plot at the (batch, filters) that the most
 *     labels ran; ties go to the larger size;
 *   - speedup vs threads uses, per impl and variant, the size with the most
 *     thread counts, relative to the same impl at 1 thread. IQR bars invert
 *     for a speedup: low = T1 / q3, high = T1 / q1;
 *   - images/s vs GPUs uses the filter count with the most data-parallel
 *     configurations, one curve per (impl, variant, batch) with two or more
 *     GPU counts; the ideal is N times the images/s on one GPU: gpus 1 (NCCL
 *     with one rank), else the plain path (gpus 0).
 * Multi-curve tables are gnuplot data blocks (two blank lines apart), each
 * opening with a header line whose second field names the curve.
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
#include "fileio.h"
#include "json.h"
#include "stats.h"
#include "summary.h"

static const char plotdata_help[] =
    "Usage: cnnbench plotdata RUN_DIR\n"
    "\n"
    "Writes the plot-ready tables of a sweep's results into RUN_DIR/plots/data/\n"
    "(plotinfo.gp describes them). plots/render.sh runs this, then gnuplot.\n";

enum { PD_MAX_LABELS = 64, PD_LABEL = 48, PD_PATH = 4200 };

struct pd {
    const char *run;
    char data_dir[4096];
    struct summary_row *rows; /* status ok only */
    int n;
    char labels[PD_MAX_LABELS][PD_LABEL];
    int n_labels;
    FILE *info;               /* plotinfo.gp being written */
};

/* ---- helpers ---- */

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

static int has_label(const struct summary_row *r, const char *label)
{
    char l[PD_LABEL];
    label_of(r, l, sizeof l);
    return strcmp(l, label) == 0;
}

/* A gnuplot string literal: double quotes with \ and " escaped. */
static void gp_string(FILE *fp, const char *name, const char *value)
{
    fprintf(fp, "%s = \"", name);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', fp);
        fputc(*p, fp);
    }
    fputs("\"\n", fp);
}

static void data_path(const struct pd *pd, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", pd->data_dir, name);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Adds v to a set kept as a sorted array. */
static void set_add(int *set, int *n, int v)
{
    for (int i = 0; i < *n; i++)
        if (set[i] == v)
            return;
    set[(*n)++] = v;
    qsort(set, (size_t)*n, sizeof *set, int_cmp);
}

/* Median of medians and of quartiles of the ok rows of one label at (batch,
 * filters); batch or filters < 0 match anything. n = 0 if none. */
struct pooled {
    int n;
    double median, q1, q3;
    double region[CNN_REGION_COUNT];
};

static void pool(const struct pd *pd, const char *label, int batch, int filters,
                 struct pooled *out)
{
    double med[256], q1[256], q3[256], reg[CNN_REGION_COUNT][256];
    int n = 0;
    for (int i = 0; i < pd->n && n < 256; i++) {
        const struct summary_row *r = &pd->rows[i];
        if (!has_label(r, label) || (batch >= 0 && r->batch != batch) ||
            (filters >= 0 && r->filters != filters) || !(r->t.median > 0))
            continue;
        med[n] = r->t.median;
        q1[n] = r->t.q1;
        q3[n] = r->t.q3;
        for (int k = 0; k < CNN_REGION_COUNT; k++)
            reg[k][n] = isnan(r->region_ms[k]) ? 0.0 : r->region_ms[k];
        n++;
    }
    out->n = n;
    out->median = stats_median(med, n);
    out->q1 = stats_median(q1, n);
    out->q3 = stats_median(q3, n);
    for (int k = 0; k < CNN_REGION_COUNT; k++)
        out->region[k] = stats_median(reg[k], n);
}

static cnn_status open_table(const struct pd *pd, const char *name, struct cnn_atomic_file *f)
{
    char path[PD_PATH];
    data_path(pd, name, path, sizeof path);
    return cnn_atomic_open(f, path);
}

/* Ends a data block: gnuplot's index counts blocks separated by two blank lines. */
static void end_block(FILE *fp) { fputs("\n\n", fp); }

/* Distinct values of one size among the rows of a label set, for a
 * fixed value of the other size. which: 0 = batch, 1 = filters. */
static int distinct_sizes(const struct pd *pd, int which, int fixed, int skip_seq, int *out)
{
    int n = 0;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[i];
        if (skip_seq && !strcmp(r->impl, "seq"))
            continue;
        if (fixed >= 0 && (which == 0 ? r->filters : r->batch) != fixed)
            continue;
        set_add(out, &n, which == 0 ? r->batch : r->filters);
        if (n == 64)
            break;
    }
    return n;
}

/* The value of the fixed size (batch when which = 1) that has the most
 * distinct values of the other; ties to the larger. */
static int best_fixed(const struct pd *pd, int which, int skip_seq, int *count)
{
    int fixed_vals[64], nf = distinct_sizes(pd, 1 - which, -1, skip_seq, fixed_vals);
    int best = -1, best_n = 0;
    for (int i = 0; i < nf; i++) {
        int vals[64];
        int n = distinct_sizes(pd, which, fixed_vals[i], skip_seq, vals);
        if (n >= best_n) {
            best_n = n;
            best = fixed_vals[i];
        }
    }
    *count = best_n;
    return best;
}

/* ---- the charts' tables ---- */

/* The thread counts (> 0) one impl and variant ran at (batch, filters),
 * sorted; *has_one says whether 1 is among them. */
static int thread_counts(const struct pd *pd, const struct summary_row *like, int batch,
                         int filters, int *ts, int *has_one)
{
    int nt = 0;
    *has_one = 0;
    for (int k = 0; k < pd->n && nt < 64; k++) {
        const struct summary_row *b = &pd->rows[k];
        if (!strcmp(b->impl, like->impl) && b->variant == like->variant && b->threads > 0 &&
            b->batch == batch && b->filters == filters) {
            set_add(ts, &nt, b->threads);
            *has_one |= b->threads == 1;
        }
    }
    return nt;
}

/* The label of `like` with another thread count (0: none). */
static void label_with_threads(const struct summary_row *like, int threads, char *buf,
                               size_t len)
{
    struct summary_row r = *like;
    r.threads = threads;
    label_of(&r, buf, len);
}

/* speedup vs threads: one block per (impl, variant) with a thread sweep, at
 * its (batch, filters) with the most thread counts including 1. */
static cnn_status table_threads(struct pd *pd)
{
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "speedup_threads.csv", &f));
    int blocks = 0, tmax = 1;
    char done[PD_MAX_LABELS][PD_LABEL];
    int n_done = 0;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[i];
        char group[PD_LABEL];
        label_with_threads(r, 0, group, sizeof group);
        int seen = 0;
        for (int k = 0; k < n_done; k++)
            seen |= !strcmp(done[k], group);
        if (r->threads <= 0 || seen || n_done == PD_MAX_LABELS)
            continue;
        snprintf(done[n_done++], PD_LABEL, "%s", group);
        int best_b = -1, best_f = -1, best_n = 1, ts[64], has_one;
        for (int j = 0; j < pd->n; j++) {
            const struct summary_row *a = &pd->rows[j];
            if (strcmp(a->impl, r->impl) || a->variant != r->variant)
                continue;
            int nt = thread_counts(pd, r, a->batch, a->filters, ts, &has_one);
            long size = (long)a->batch * a->filters, best_size = (long)best_b * best_f;
            if (has_one && (nt > best_n || (nt == best_n && size > best_size))) {
                best_n = nt;
                best_b = a->batch;
                best_f = a->filters;
            }
        }
        if (best_b < 0)
            continue;
        int nt = thread_counts(pd, r, best_b, best_f, ts, &has_one);
        char one[PD_LABEL];
        label_with_threads(r, 1, one, sizeof one);
        struct pooled base;
        pool(pd, one, best_b, best_f, &base);
        fprintf(f.fp, "threads,%s B=%d F=%d,speedup_low,speedup_high,efficiency\n", group,
                best_b, best_f);
        for (int k = 0; k < nt; k++) {
            char lk[PD_LABEL];
            label_with_threads(r, ts[k], lk, sizeof lk);
            struct pooled p;
            pool(pd, lk, best_b, best_f, &p);
            double sp = base.median / p.median;
            fprintf(f.fp, "%d,%.6g,%.6g,%.6g,%.6g\n", ts[k], sp, base.median / p.q3,
                    base.median / p.q1, sp / ts[k]);
            tmax = ts[k] > tmax ? ts[k] : tmax;
        }
        end_block(f.fp);
        blocks++;
    }
    fprintf(pd->info, "threads_blocks = %d\nthreads_max = %d\n", blocks, tmax);
    if (blocks == 0) {
        cnn_atomic_abort(&f);
        return CNN_OK;
    }
    return cnn_atomic_commit(&f);
}

/* The label of `like` on another number of GPUs (0: the plain path). */
static void label_with_gpus(const struct summary_row *like, int gpus, char *buf, size_t len)
{
    struct summary_row r = *like;
    r.gpus = gpus;
    label_of(&r, buf, len);
}

/* The filter count with the most data-parallel configurations; ties to the
 * larger. -1 if the run has none. */
static int gpus_filters(const struct pd *pd)
{
    int best = -1, best_n = 0;
    for (int i = 0; i < pd->n; i++) {
        if (pd->rows[i].gpus < 1)
            continue;
        int f = pd->rows[i].filters, n = 0;
        for (int j = 0; j < pd->n; j++)
            n += pd->rows[j].gpus >= 1 && pd->rows[j].filters == f;
        if (n > best_n || (n == best_n && f > best)) {
            best_n = n;
            best = f;
        }
    }
    return best;
}

static double images_per_s(int batch, double ms) { return batch / (ms / 1e3); }

/* images/s vs GPUs at one filter count: a block per (impl, variant, batch)
 * with at least two GPU counts, each point with its IQR (images/s inverts
 * it: low = B / q3, high = B / q1) and the ideal N x images/s on one GPU. */
static cnn_status table_gpus(struct pd *pd)
{
    int filters = gpus_filters(pd);
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "scaling_gpus.csv", &f));
    int blocks = 0, gmax = 1;
    char done[PD_MAX_LABELS][2 * PD_LABEL];
    int n_done = 0;
    for (int i = 0; i < pd->n && filters > 0; i++) {
        const struct summary_row *r = &pd->rows[i];
        if (r->gpus < 1 || r->filters != filters)
            continue;
        char group[PD_LABEL], curve[2 * PD_LABEL];
        label_with_gpus(r, 0, group, sizeof group);
        snprintf(curve, sizeof curve, "%s B=%d", group, r->batch);
        int seen = 0;
        for (int k = 0; k < n_done; k++)
            seen |= !strcmp(done[k], curve);
        if (seen || n_done == PD_MAX_LABELS)
            continue;
        snprintf(done[n_done++], sizeof done[0], "%s", curve);
        int gs[64], ng = 0;
        for (int j = 0; j < pd->n && ng < 64; j++) {
            const struct summary_row *o = &pd->rows[j];
            if (o->gpus >= 1 && o->batch == r->batch && o->filters == filters &&
                !strcmp(o->impl, r->impl) && o->variant == r->variant && o->threads == r->threads)
                set_add(gs, &ng, o->gpus);
        }
        /* one GPU: NCCL with one rank, else the plain path drawn at x = 1 */
        char one[PD_LABEL];
        struct pooled base;
        label_with_gpus(r, 1, one, sizeof one);
        pool(pd, one, r->batch, filters, &base);
        int plain = base.n == 0;
        if (plain) {
            pool(pd, group, r->batch, filters, &base);
            if (base.n == 0 || ng < 1)
                continue;
        } else if (ng < 2) {
            continue;
        }
        double base_ips = images_per_s(r->batch, base.median);
        fprintf(f.fp, "gpus,%s F=%d,images_low,images_high,ideal\n", curve, filters);
        if (plain)
            fprintf(f.fp, "1,%.6g,%.6g,%.6g,%.6g\n", base_ips, images_per_s(r->batch, base.q3),
                    images_per_s(r->batch, base.q1), base_ips);
        for (int k = 0; k < ng; k++) {
            char lk[PD_LABEL];
            struct pooled p;
            label_with_gpus(r, gs[k], lk, sizeof lk);
            pool(pd, lk, r->batch, filters, &p);
            fprintf(f.fp, "%d,%.6g,%.6g,%.6g,%.6g\n", gs[k], images_per_s(r->batch, p.median),
                    images_per_s(r->batch, p.q3), images_per_s(r->batch, p.q1),
                    gs[k] * base_ips);
            gmax = gs[k] > gmax ? gs[k] : gmax;
        }
        end_block(f.fp);
        blocks++;
    }
    fprintf(pd->info, "gpus_blocks = %d\ngpus_max = %d\ngpus_filters = %d\n", blocks, gmax,
            filters);
    if (blocks == 0) {
        cnn_atomic_abort(&f);
        return CNN_OK;
    }
    return cnn_atomic_commit(&f);
}

/* speedup vs seq along one size (which: 1 = filters at fixed batch, 0 =
 * batch at fixed filters), one block per non-seq label. */
static cnn_status table_speedup_size(struct pd *pd, int which)
{
    const char *name = which ? "speedup_filters.csv" : "speedup_batch.csv";
    const char *var = which ? "filters" : "batch";
    int count;
    int fixed = best_fixed(pd, which, 1, &count);
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, name, &f));
    int blocks = 0;
    for (int l = 0; l < pd->n_labels && fixed >= 0; l++) {
        const char *label = pd->labels[l];
        if (!strncmp(label, "seq", 3) && (label[3] == '\0' || label[3] == ' '))
            continue;
        int vals[64], nv = 0;
        for (int i = 0; i < pd->n; i++) {
            const struct summary_row *r = &pd->rows[i];
            if (has_label(r, label) && (which ? r->batch : r->filters) == fixed && nv < 64)
                set_add(vals, &nv, which ? r->filters : r->batch);
        }
        int wrote = 0;
        for (int k = 0; k < nv; k++) {
            int b = which ? fixed : vals[k], fl = which ? vals[k] : fixed;
            struct pooled p, s;
            pool(pd, label, b, fl, &p);
            pool(pd, "seq", b, fl, &s);
            if (s.n == 0 || p.n == 0)
                continue;
            if (!wrote)
                fprintf(f.fp, "%s,%s,speedup_low,speedup_high,median_ms\n", var, label);
            fprintf(f.fp, "%d,%.6g,%.6g,%.6g,%.6g\n", vals[k], s.median / p.median,
                    s.median / p.q3, s.median / p.q1, p.median);
            wrote = 1;
        }
        if (wrote) {
            end_block(f.fp);
            blocks++;
        }
    }
    fprintf(pd->info, "%s_blocks = %d\n%s_fixed = %d\n", var, blocks, var, fixed);
    if (blocks == 0) {
        cnn_atomic_abort(&f);
        return CNN_OK;
    }
    return cnn_atomic_commit(&f);
}

/* step time vs parameter count at the batch with the most filter counts. */
static cnn_status table_time_params(struct pd *pd)
{
    int count;
    int batch = best_fixed(pd, 1, 0, &count);
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "time_vs_params.csv", &f));
    int blocks = 0;
    for (int l = 0; l < pd->n_labels && batch >= 0; l++) {
        int vals[64], nv = 0;
        for (int i = 0; i < pd->n; i++)
            if (has_label(&pd->rows[i], pd->labels[l]) && pd->rows[i].batch == batch && nv < 64)
                set_add(vals, &nv, pd->rows[i].filters);
        if (nv == 0)
            continue;
        fprintf(f.fp, "params,%s,q1_ms,q3_ms,filters\n", pd->labels[l]);
        for (int k = 0; k < nv; k++) {
            struct pooled p;
            pool(pd, pd->labels[l], batch, vals[k], &p);
            fprintf(f.fp, "%zu,%.6g,%.6g,%.6g,%d\n", cnn_param_count(vals[k]), p.median, p.q1,
                    p.q3, vals[k]);
        }
        end_block(f.fp);
        blocks++;
    }
    fprintf(pd->info, "params_blocks = %d\nparams_batch = %d\n", blocks, batch);
    if (blocks == 0) {
        cnn_atomic_abort(&f);
        return CNN_OK;
    }
    return cnn_atomic_commit(&f);
}

/* The (batch, filters) that the most labels ran; ties to the larger. */
static void busiest_size(const struct pd *pd, int *batch, int *filters)
{
    long best = 0, best_size = -1;
    *batch = *filters = -1;
    for (int i = 0; i < pd->n; i++) {
        const struct summary_row *r = &pd->rows[i];
        /* distinct backends first, then labels: a size all backends ran
         * beats one where a single backend swept its threads */
        char impls[PD_MAX_LABELS][PD_LABEL];
        int n_impls = 0, n_labels = 0;
        for (int j = 0; j < pd->n; j++) {
            const struct summary_row *o = &pd->rows[j];
            if (o->batch != r->batch || o->filters != r->filters)
                continue;
            int seen = 0;
            for (int k = 0; k < n_impls; k++)
                seen |= !strcmp(impls[k], o->impl);
            if (!seen && n_impls < PD_MAX_LABELS)
                snprintf(impls[n_impls++], PD_LABEL, "%s", o->impl);
        }
        for (int l = 0; l < pd->n_labels; l++) {
            struct pooled p;
            pool(pd, pd->labels[l], r->batch, r->filters, &p);
            n_labels += p.n > 0;
        }
        long n = (long)n_impls * 1000 + n_labels;
        long size = (long)r->batch * r->filters;
        if (n > best || (n == best && size > best_size)) {
            best = n;
            best_size = size;
            *batch = r->batch;
            *filters = r->filters;
        }
    }
}

/* Regions any label spends time in, in region order. */
static int active_regions(const struct pd *pd, int batch, int filters, int *regions)
{
    int n = 0;
    for (int k = 0; k < CNN_REGION_COUNT; k++) {
        int used = 0;
        for (int i = 0; i < pd->n && !used; i++)
            used = (batch < 0 || pd->rows[i].batch == batch) &&
                   (filters < 0 || pd->rows[i].filters == filters) &&
                   !isnan(pd->rows[i].region_ms[k]);
        if (used)
            regions[n++] = k;
    }
    return n;
}

/* Stacked per-region shares at the busiest size, one row per label. */
static cnn_status table_breakdown_share(struct pd *pd, int batch, int filters)
{
    int regions[CNN_REGION_COUNT];
    int nr = active_regions(pd, batch, filters, regions);
    struct cnn_atomic_file f;
    CNN_TRY(open_table(pd, "breakdown_share.csv", &f));
    fputs("label", f.fp);
    for (int k = 0; k < nr; k++)
        fprintf(f.fp, ",%s", cnn_region_name((enum cnn_region)regions[k]));
    fputc('\n', f.fp);
    int rows = 0;
    for (int l = 0; l < pd->n_labels; l++) {
        struct pooled p;
        pool(pd, pd->labels[l], batch, filters, &p);
        if (p.n == 0)
            continue;
        double sum = 0;
        for (int k = 0; k < nr; k++)
            sum += p.region[regions[k]];
        fprintf(f.fp, "%s (%.3g ms)", pd->labels[l], p.median);
        for (int k = 0; k < nr; k++)
            fprintf(f.fp, ",%.6g", sum > 0 ? 100.0 * p.region[regions[k]] / sum : 0.0);
        fputc('\n', f.fp);
        rows++;
    }
    fprintf(pd->info, "share_rows = %d\nshare_columns = %d\n", rows, nr);
    if (rows == 0) {
        cnn_atomic_abort(&f);
        return CNN_OK;
    }
    return cnn_atomic_commit(&f);
}

/* Per impl, absolute region times over the filter counts at one batch: the
 * impl's label with the most filter counts there (ties: more threads). */
static cnn_status table_breakdown_impls(struct pd *pd, int batch)
{
    char list[512] = "";
    char seen[PD_MAX_LABELS][PD_LABEL];
    int n_seen = 0;
    for (int l = 0; l < pd->n_labels; l++) {
        char impl[PD_LABEL];
        snprintf(impl, sizeof impl, "%s", pd->labels[l]);
        impl[strcspn(impl, " ")] = '\0';
        int dup = 0;
        for (int k = 0; k < n_seen; k++)
            dup |= !strcmp(seen[k], impl);
        if (dup)
            continue;
        snprintf(seen[n_seen++], PD_LABEL, "%s", impl);
        int best = -1, best_n = 0;
        for (int m = 0; m < pd->n_labels; m++) {
            char other[PD_LABEL];
            snprintf(other, sizeof other, "%s", pd->labels[m]);
            other[strcspn(other, " ")] = '\0';
            if (strcmp(other, impl) != 0)
                continue;
            int vals[64], nv = 0;
            for (int i = 0; i < pd->n; i++)
                if (has_label(&pd->rows[i], pd->labels[m]) && pd->rows[i].batch == batch &&
                    nv < 64)
                    set_add(vals, &nv, pd->rows[i].filters);
            if (nv >= best_n && nv > 0) {
                best_n = nv;
                best = m;
            }
        }
        if (best < 0)
            continue;
        char name[96];
        snprintf(name, sizeof name, "breakdown_%s.csv", impl);
        int regions[CNN_REGION_COUNT];
        int nr = active_regions(pd, batch, -1, regions);
        struct cnn_atomic_file f;
        CNN_TRY(open_table(pd, name, &f));
        fprintf(f.fp, "filters");
        for (int k = 0; k < nr; k++)
            fprintf(f.fp, ",%s", cnn_region_name((enum cnn_region)regions[k]));
        fputc('\n', f.fp);
        int vals[64], nv = 0;
        for (int i = 0; i < pd->n; i++)
            if (has_label(&pd->rows[i], pd->labels[best]) && pd->rows[i].batch == batch && nv < 64)
                set_add(vals, &nv, pd->rows[i].filters);
        for (int k = 0; k < nv; k++) {
            struct pooled p;
            pool(pd, pd->labels[best], batch, vals[k], &p);
            fprintf(f.fp, "%d", vals[k]);
            for (int r = 0; r < nr; r++)
                fprintf(f.fp, ",%.6g", p.region[regions[r]]);
            fputc('\n', f.fp);
        }
        CNN_TRY(cnn_atomic_commit(&f));
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", used ? " " : "", impl);
        char var[96];
        snprintf(var, sizeof var, "breakdown_label_%s", impl);
        gp_string(pd->info, var, pd->labels[best]);
        snprintf(var, sizeof var, "breakdown_columns_%s", impl);
        fprintf(pd->info, "%s = %d\n", var, nr);
    }
    gp_string(pd->info, "breakdown_impls", list);
    fprintf(pd->info, "breakdown_batch = %d\n", batch);
    return CNN_OK;
}

/* ---- per-step series from steps.csv and evals.csv ---- */

struct series {
    char key[PLAN_KEY_MAX];
    char label[PD_LABEL];
    long n, cap;
    long *step;
    double *a;  /* step_ms (steps.csv) or accuracy (evals.csv) */
    double *b;  /* loss (steps.csv) */
};

static void series_free(struct series *s, int n)
{
    for (int i = 0; i < n; i++) {
        free(s[i].step);
        free(s[i].a);
        free(s[i].b);
    }
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

/* Fills series (keys set) from a run's CSV: steps.csv rows of region
 * "step" (a = step_ms, b = loss), or evals.csv rows (a = accuracy %). */
static cnn_status read_series(const struct pd *pd, const char *file, struct series *s, int n)
{
    char path[PD_PATH];
    snprintf(path, sizeof path, "%s/%s", pd->run, file);
    char *text;
    CNN_TRY(csv_read_file(path, &text, NULL));
    int is_steps = strcmp(file, "steps.csv") == 0;
    char *header[32], *fields[32];
    int nh = 0, c_step = -1, c_a = -1, c_b = -1, c_region = -1;
    cnn_status st = CNN_OK;
    char *line = text, *next;
    for (int lineno = 0; (next = strchr(line, '\n')) != NULL; line = next + 1, lineno++) {
        *next = '\0';
        if (lineno == 0) {
            nh = csv_split(line, header, 32);
            c_step = csv_find_column(header, nh, "step");
            c_a = csv_find_column(header, nh, is_steps ? "time_ms" : "test_accuracy_pct");
            c_b = csv_find_column(header, nh, "loss");
            c_region = csv_find_column(header, nh, "region");
            if (c_step < 0 || c_a < 0 || (is_steps && (c_b < 0 || c_region < 0))) {
                st = cnn_fail(CNN_E_DATA, "%s: unexpected header", path);
                break;
            }
            continue;
        }
        if (csv_split(line, fields, 32) != nh)
            continue;
        if (is_steps && strcmp(fields[c_region], "step") != 0)
            continue;
        for (int i = 0; i < n; i++)
            if (!strcmp(fields[0], s[i].key)) {
                if (series_push(&s[i], atol(fields[c_step]), atof(fields[c_a]),
                                is_steps ? atof(fields[c_b]) : 0.0) != 0)
                    st = cnn_fail(CNN_E_NOMEM, "cannot allocate a series");
                break;
            }
        if (st != CNN_OK)
            break;
    }
    free(text);
    return st;
}

/* For each label, the row at (batch, filters) to draw per step: the longest,
 * first repetition first. Returns the number of series set up. */
static int pick_series(const struct pd *pd, int batch, int filters, long steps,
                       struct series *s)
{
    int n = 0;
    for (int l = 0; l < pd->n_labels && n < PD_MAX_LABELS; l++) {
        const struct summary_row *best = NULL;
        for (int i = 0; i < pd->n; i++) {
            const struct summary_row *r = &pd->rows[i];
            if (!has_label(r, pd->labels[l]) || r->batch != batch || r->filters != filters ||
                (steps > 0 && r->steps != steps))
                continue;
            if (!best || r->steps > best->steps || (r->steps == best->steps && r->rep < best->rep))
                best = r;
        }
        if (!best)
            continue;
        memset(&s[n], 0, sizeof s[n]);
        snprintf(s[n].key, sizeof s[n].key, "%s", best->key);
        snprintf(s[n].label, sizeof s[n].label, "%s", pd->labels[l]);
        n++;
    }
    return n;
}

/* Box plot of step times at the busiest size: one block per label. */
static cnn_status table_step_times(struct pd *pd, int batch, int filters)
{
    struct series s[PD_MAX_LABELS];
    int n = pick_series(pd, batch, filters, 0, s);
    cnn_status st = read_series(pd, "steps.csv", s, n);
    struct cnn_atomic_file f;
    if (st == CNN_OK)
        st = open_table(pd, "step_times.csv", &f);
    if (st != CNN_OK) {
        series_free(s, n);
        return st;
    }
    double lo = INFINITY, hi = 0;
    int blocks = 0;
    fputs("box_xtics = \"(", pd->info);
    for (int i = 0; i < n; i++) {
        if (s[i].n == 0)
            continue;
        fprintf(f.fp, "step,%s\n", s[i].label);
        for (long k = 0; k < s[i].n; k++) {
            fprintf(f.fp, "%ld,%.6g\n", s[i].step[k], s[i].a[k]);
            if (s[i].a[k] > 0 && s[i].a[k] < lo)
                lo = s[i].a[k];
            if (s[i].a[k] > hi)
                hi = s[i].a[k];
        }
        end_block(f.fp);
        fprintf(pd->info, "%s'%s' %d", blocks ? ", " : "", s[i].label, blocks + 1);
        blocks++;
    }
    fputs(")\"\n", pd->info);
    fprintf(pd->info, "box_blocks = %d\nbox_batch = %d\nbox_filters = %d\n", blocks, batch,
            filters);
    fprintf(pd->info, "box_ymin = %.6g\nbox_ymax = %.6g\n", blocks ? lo / 1.5 : 0.1,
            blocks ? hi * 1.5 : 1);
    series_free(s, n);
    if (blocks == 0) {
        cnn_atomic_abort(&f);
        return CNN_OK;
    }
    return cnn_atomic_commit(&f);
}

/* Loss and test accuracy per step for the size and length with the most
 * evaluations (or the longest run when nothing was evaluated). */
static cnn_status table_learning(struct pd *pd)
{
    int best = -1;
    long best_evals = -1;
    /* count the evaluations of every configuration */
    int n_all = pd->n;
    struct series *evals = calloc((size_t)(n_all > 0 ? n_all : 1), sizeof *evals);
    if (!evals)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate evaluation series");
    for (int i = 0; i < n_all; i++)
        snprintf(evals[i].key, sizeof evals[i].key, "%s", pd->rows[i].key);
    cnn_status rst = read_series(pd, "evals.csv", evals, n_all);
    for (int i = 0; i < n_all && rst == CNN_OK; i++) {
        const struct summary_row *r = &pd->rows[i];
        long score = evals[i].n * 1000000000L + r->steps;
        if (score > best_evals) {
            best_evals = score;
            best = i;
        }
    }
    series_free(evals, n_all);
    free(evals);
    CNN_TRY(rst);
    if (best < 0) {
        fprintf(pd->info, "loss_blocks = 0\naccuracy_blocks = 0\n");
        return CNN_OK;
    }
    const struct summary_row *g = &pd->rows[best];
    struct series loss[PD_MAX_LABELS], acc[PD_MAX_LABELS];
    int n = pick_series(pd, g->batch, g->filters, g->steps, loss);
    memcpy(acc, loss, sizeof acc[0] * (size_t)n);
    cnn_status st = read_series(pd, "steps.csv", loss, n);
    if (st == CNN_OK)
        st = read_series(pd, "evals.csv", acc, n);
    struct cnn_atomic_file fl, fa;
    int loss_blocks = 0, acc_blocks = 0;
    if (st == CNN_OK)
        st = open_table(pd, "loss.csv", &fl);
    if (st == CNN_OK) {
        st = open_table(pd, "accuracy.csv", &fa);
        if (st != CNN_OK)
            cnn_atomic_abort(&fl);
    }
    if (st == CNN_OK) {
        for (int i = 0; i < n; i++) {
            if (loss[i].n > 0) {
                fprintf(fl.fp, "step,%s\n", loss[i].label);
                for (long k = 0; k < loss[i].n; k++)
                    fprintf(fl.fp, "%ld,%.6g\n", loss[i].step[k], loss[i].b[k]);
                end_block(fl.fp);
                loss_blocks++;
            }
            if (acc[i].n > 0) {
                fprintf(fa.fp, "step,%s\n", acc[i].label);
                for (long k = 0; k < acc[i].n; k++)
                    fprintf(fa.fp, "%ld,%.6g\n", acc[i].step[k], acc[i].a[k]);
                end_block(fa.fp);
                acc_blocks++;
            }
        }
        if (loss_blocks)
            st = cnn_atomic_commit(&fl);
        else
            cnn_atomic_abort(&fl);
        if (acc_blocks && st == CNN_OK)
            st = cnn_atomic_commit(&fa);
        else
            cnn_atomic_abort(&fa);
    }
    fprintf(pd->info, "loss_blocks = %d\naccuracy_blocks = %d\n", loss_blocks, acc_blocks);
    fprintf(pd->info, "learning_batch = %d\nlearning_filters = %d\nlearning_steps = %ld\n",
            g->batch, g->filters, g->steps);
    series_free(loss, n);
    series_free(acc, n);
    return st;
}

/* ---- the showcase: filters, one digit and its feature maps as image tiles ---- */

/* Reads a showcase CSV of "a,b,c,value" (filters, maps) or "b,c,value"
 * (digit) into v [count][rows][cols]; returns count, or -1. */
static int read_tiles(const char *path, int three, float *v, int max_count, int rows, int cols)
{
    char *text;
    if (csv_read_file(path, &text, NULL) != CNN_OK)
        return -1;
    int count = 0;
    char *line = text, *next, *fields[8];
    for (int lineno = 0; (next = strchr(line, '\n')) != NULL; line = next + 1, lineno++) {
        *next = '\0';
        if (lineno == 0)
            continue;
        int nf = csv_split(line, fields, 8);
        if (nf != (three ? 3 : 4))
            continue;
        int t = three ? 0 : atoi(fields[0]);
        int r = atoi(fields[three ? 0 : 1]), c = atoi(fields[three ? 1 : 2]);
        if (t < 0 || t >= max_count || r < 0 || r >= rows || c < 0 || c >= cols)
            continue;
        v[((size_t)t * rows + r) * cols + c] = (float)atof(fields[three ? 2 : 3]);
        if (t + 1 > count)
            count = t + 1;
    }
    free(text);
    return count;
}

/* Writes count tiles of rows x cols as one image grid "x,y,value" with a
 * one-pixel NaN gap between tiles; each tile scaled by its largest |value|
 * so that weak filters stay visible (signed: -1..1, else 0..1). */
static cnn_status write_grid(const struct pd *pd, const char *name, const float *v, int count,
                             int rows, int cols, int *grid_cols)
{
    int gc = 1;
    while (gc * gc < count)
        gc++;
    int gr = (count + gc - 1) / gc;
    *grid_cols = gc;
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

static cnn_status table_showcase(struct pd *pd, const char *meta)
{
    char path[PD_PATH], key[PLAN_KEY_MAX] = "";
    json_get_string(meta, "params_config", key, sizeof key);
    gp_string(pd->info, "showcase_config", key);
    int filters = 0;
    for (int i = 0; i < pd->n; i++)
        if (!strcmp(pd->rows[i].key, key))
            filters = pd->rows[i].filters;
    if (filters <= 0) {
        fputs("showcase = 0\n", pd->info);
        return CNN_OK;
    }
    size_t maps = (size_t)filters * CNN_POOL_AREA;
    float *buf = calloc(maps + (size_t)filters * CNN_KTAPS + CNN_PIXELS, sizeof *buf);
    if (!buf)
        return cnn_fail(CNN_E_NOMEM, "cannot allocate the showcase tiles");
    float *w = buf, *m = buf + (size_t)filters * CNN_KTAPS, *d = m + maps;
    int gcw = 0, gcm = 0, gcd = 0;
    snprintf(path, sizeof path, "%s/showcase/filters.csv", pd->run);
    int nw = read_tiles(path, 0, w, filters, CNN_KSIZE, CNN_KSIZE);
    snprintf(path, sizeof path, "%s/showcase/feature_maps.csv", pd->run);
    int nm = read_tiles(path, 0, m, filters, CNN_POOL, CNN_POOL);
    snprintf(path, sizeof path, "%s/showcase/digit.csv", pd->run);
    int nd = read_tiles(path, 1, d, 1, CNN_IMG, CNN_IMG);
    cnn_status st = CNN_OK;
    int ok = nw > 0 && nm > 0 && nd > 0;
    if (ok)
        st = write_grid(pd, "filters_grid.csv", w, nw, CNN_KSIZE, CNN_KSIZE, &gcw);
    if (ok && st == CNN_OK)
        st = write_grid(pd, "maps_grid.csv", m, nm, CNN_POOL, CNN_POOL, &gcm);
    if (ok && st == CNN_OK)
        st = write_grid(pd, "digit_grid.csv", d, 1, CNN_IMG, CNN_IMG, &gcd);
    free(buf);
    double label = -1, index = -1;
    json_get_number(meta, "digit_label", &label);
    json_get_number(meta, "digit_index", &index);
    fprintf(pd->info, "showcase = %d\nshowcase_filters = %d\n", ok && st == CNN_OK, filters);
    fprintf(pd->info, "digit_label = %d\ndigit_index = %d\n", (int)label, (int)index);
    return st;
}

/* ---- the command ---- */

static cnn_status make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", path, strerror(errno));
    return CNN_OK;
}

static cnn_status machine_info(struct pd *pd, const char *meta)
{
    char cpu[256] = "unknown", gpu[256] = "none", run_id[256] = "", cpus[32] = "";
    json_get_string(meta, "cpu_model", cpu, sizeof cpu);
    json_get_string(meta, "gpu_name", gpu, sizeof gpu);
    json_get_string(meta, "run_id", run_id, sizeof run_id);
    double online;
    if (json_get_number(meta, "online_cpus", &online) == 0)
        snprintf(cpus, sizeof cpus, " (%d CPUs)", (int)online);
    char cpu_full[300];
    snprintf(cpu_full, sizeof cpu_full, "%s%s", cpu, cpus);
    gp_string(pd->info, "cpu_name", cpu_full);
    gp_string(pd->info, "gpu_name", gpu);
    gp_string(pd->info, "run_id", run_id);
    fputs("machine = sprintf(\"CPU: %s   GPU: %s   run %s\", cpu_name, gpu_name, run_id)\n",
          pd->info);
    return CNN_OK;
}

/* Within one backend: whether a's label sorts after b's (threads, then
 * variant, then GPUs). */
static int label_after(const struct summary_row *a, const struct summary_row *b)
{
    if (a->threads != b->threads)
        return a->threads > b->threads;
    if (a->variant != b->variant)
        return a->variant > b->variant;
    return a->gpus > b->gpus;
}

/* The distinct labels, ordered by backend (in the order the run lists
 * them, seq first), then thread count, then variant, then GPUs. */
static void collect_labels(struct pd *pd)
{
    const struct summary_row *first[PD_MAX_LABELS];
    int impl_rank[PD_MAX_LABELS];
    char impls[PD_MAX_LABELS][PD_LABEL];
    int n_impls = 0;
    for (int i = 0; i < pd->n && pd->n_labels < PD_MAX_LABELS; i++) {
        const struct summary_row *r = &pd->rows[i];
        char l[PD_LABEL];
        label_of(r, l, sizeof l);
        int seen = 0;
        for (int k = 0; k < pd->n_labels; k++)
            seen |= !strcmp(pd->labels[k], l);
        if (seen)
            continue;
        int rank = -1;
        for (int k = 0; k < n_impls && rank < 0; k++)
            if (!strcmp(impls[k], r->impl))
                rank = k;
        if (rank < 0) {
            rank = n_impls;
            snprintf(impls[n_impls++], PD_LABEL, "%s", r->impl);
        }
        /* insertion sort by (rank, threads, variant, gpus) */
        int at = pd->n_labels;
        while (at > 0 && (impl_rank[at - 1] > rank ||
                          (impl_rank[at - 1] == rank && label_after(first[at - 1], r)))) {
            first[at] = first[at - 1];
            impl_rank[at] = impl_rank[at - 1];
            memcpy(pd->labels[at], pd->labels[at - 1], PD_LABEL);
            at--;
        }
        first[at] = r;
        impl_rank[at] = rank;
        snprintf(pd->labels[at], PD_LABEL, "%s", l);
        pd->n_labels++;
    }
}

static cnn_status plotdata_run(struct pd *pd)
{
    char path[PD_PATH];
    struct summary_row *all;
    int n_all;
    snprintf(path, sizeof path, "%s/summary.csv", pd->run);
    CNN_TRY(summary_read(path, &all, &n_all));
    pd->rows = all;
    pd->n = 0;
    for (int i = 0; i < n_all; i++)
        if (!strcmp(all[i].status, "ok"))
            pd->rows[pd->n++] = all[i];
    collect_labels(pd);
    char *meta = NULL;
    snprintf(path, sizeof path, "%s/meta.json", pd->run);
    cnn_status st = csv_read_file(path, &meta, NULL);
    if (st == CNN_OK) {
        snprintf(path, sizeof path, "%s/plots", pd->run);
        st = make_dir(path);
    }
    if (st == CNN_OK)
        st = make_dir(pd->data_dir);
    struct cnn_atomic_file info;
    if (st == CNN_OK) {
        data_path(pd, "plotinfo.gp", path, sizeof path);
        st = cnn_atomic_open(&info, path);
    }
    if (st == CNN_OK) {
        pd->info = info.fp;
        fputs("# written by cnnbench plotdata: what the tables in this directory hold\n",
              info.fp);
        fprintf(info.fp, "configurations_ok = %d\n", pd->n);
        st = machine_info(pd, meta);
        int bb, bf;
        busiest_size(pd, &bb, &bf);
        if (st == CNN_OK)
            st = table_threads(pd);
        if (st == CNN_OK)
            st = table_gpus(pd);
        if (st == CNN_OK)
            st = table_speedup_size(pd, 1);
        if (st == CNN_OK)
            st = table_speedup_size(pd, 0);
        if (st == CNN_OK)
            st = table_time_params(pd);
        if (st == CNN_OK && pd->n > 0)
            st = table_breakdown_share(pd, bb, bf);
        if (st == CNN_OK && pd->n > 0)
            st = table_breakdown_impls(pd, bb);
        if (st == CNN_OK && pd->n > 0)
            st = table_step_times(pd, bb, bf);
        if (st == CNN_OK && pd->n > 0)
            st = table_learning(pd);
        if (st == CNN_OK)
            st = table_showcase(pd, meta);
        fprintf(info.fp, "share_batch = %d\nshare_filters = %d\n", bb, bf);
        if (st == CNN_OK)
            st = cnn_atomic_commit(&info);
        else
            cnn_atomic_abort(&info);
    }
    free(meta);
    free(all);
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
