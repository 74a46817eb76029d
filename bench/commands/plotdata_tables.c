/*
 * plotdata_tables.c — the tables drawn from the cells of summary.csv:
 * speedup vs threads, images/s vs GPUs, speedup vs seq along filters and
 * batch, step time vs parameters, and where the time goes (region shares
 * and absolute region times).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fileio.h"
#include "plotdata.h"

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

cnn_status pd_table_threads(struct pd *pd)
{
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, "speedup_threads.csv", &f));
    struct ref *refs = pd_refs_alloc(pd->n_cells);
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
        const struct summary_row *l = pd_label_row(pd, c->label);
        if (l->threads > 0 && l->ranks == 1)
            refs[nr++] = (struct ref){{pd->labels[c->label].rank, l->variant, l->gpus, c->batch,
                                       c->filters, l->threads}, i};
    }
    qsort(refs, (size_t)nr, sizeof *refs, pd_ref_cmp);
    int panels = 0, families = 0, blocks = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int i = 0; i < nr;) {
        /* one family: refs[i .. end) */
        int end = i;
        while (end < nr && pd_same_keys(&refs[end], &refs[i], 3))
            end++;
        int nc = 0;
        for (int j = i; j < end;) {
            int k = j;
            while (k < end && pd_same_keys(&refs[k], &refs[j], 5))
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
        struct summary_row family = *pd_label_row(pd, any->label);
        family.threads = 0;
        pd_label_of(&family, title, sizeof title);
        snprintf(name, sizeof name, "threads_title_%d", panels);
        pd_info_str(pd, name, title);
        snprintf(name, sizeof name, "threads_first_%d", panels);
        pd_info_int(pd, name, blocks);
        snprintf(name, sizeof name, "threads_curves_%d", panels);
        pd_info_int(pd, name, shown);
        snprintf(name, sizeof name, "threads_note_%d", panels);
        pd_info_note(pd, name, shown, nc, "sizes");
        for (int c = 0; c < shown; c++) {
            const struct cell *base = &pd->cells[refs[curves[c].first].idx];
            fprintf(f.fp, "threads,B=%d F=%d,speedup_low,speedup_high,efficiency,unstable\n",
                    curves[c].batch, curves[c].filters);
            for (int j = curves[c].first; j < curves[c].first + curves[c].count; j++) {
                const struct cell *p = &pd->cells[refs[j].idx];
                long t = refs[j].k[5];
                double sp = base->median / p->median;
                double low = pd_speedup_bar(base->median, p->q3, p->median);
                double high = pd_speedup_bar(base->median, p->q1, p->median);
                int u = p->unstable || base->unstable;
                fprintf(f.fp, "%ld,%.6g,%.6g,%.6g,%.6g,%d\n", t, sp, low, high, sp / t, u);
                pd_range_add(&y, low);
                pd_range_add(&y, high);
                pd_range_add(&y, (double)t); /* the ideal line up to the largest count */
                ticks[n_ticks++] = t;
                unstable |= u;
            }
            pd_end_block(f.fp);
            blocks++;
        }
    }
    pd_info_int(pd, "threads_panels", panels);
    pd_info_note(pd, "threads_note", panels, families, "backends");
    pd_info_data_axis(pd, "threads_x", ticks, n_ticks);
    pd_info_log_axis(pd, "threads_y", y.lo, y.hi);
    pd_info_int(pd, "threads_unstable", unstable);
    free(refs);
    free(curves);
    free(ticks);
    return pd_close_table(&f, blocks);
}

/* ---- images/s vs GPUs ---- */

/* The one-process label of (rank, threads, variant, gpus), or -1: labels
 * are sorted so. */
static int label_find(const struct pd *pd, int rank, int threads, int variant, int gpus)
{
    int lo = 0, hi = pd->n_labels - 1;
    const long want[5] = {rank, threads, variant, gpus, 1};
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const struct summary_row *r = pd_label_row(pd, mid);
        const long have[5] = {pd->labels[mid].rank, r->threads, r->variant, r->gpus, r->ranks};
        int d = 0;
        for (int k = 0; k < 5 && d == 0; k++)
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
        if (pd_label_row(pd, pd->cells[i].label)->gpus >= 1)
            refs[nr++] = (struct ref){{pd->cells[i].filters}, i};
    qsort(refs, (size_t)nr, sizeof *refs, pd_ref_cmp);
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
    pd_range_add(y, low);
    pd_range_add(y, high);
    pd_range_add(y, ideal);
}

cnn_status pd_table_gpus(struct pd *pd)
{
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, "scaling_gpus.csv", &f));
    struct ref *refs = pd_refs_alloc(pd->n_cells);
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
        const struct summary_row *l = pd_label_row(pd, c->label);
        if (l->gpus >= 1 && l->ranks == 1 && c->filters == filters)
            refs[nr++] = (struct ref){{pd->labels[c->label].rank, l->variant, l->threads,
                                       c->batch, l->gpus}, i};
    }
    qsort(refs, (size_t)nr, sizeof *refs, pd_ref_cmp);
    int blocks = 0, curves = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int i = 0, end; i < nr; i = end) {
        for (end = i; end < nr && pd_same_keys(&refs[end], &refs[i], 4); end++)
            ;
        const struct cell *first = &pd->cells[refs[i].idx];
        const struct summary_row *l = pd_label_row(pd, first->label);
        int plain_label = label_find(pd, pd->labels[first->label].rank, l->threads, l->variant, 0);
        const struct cell *base = first, *plain = NULL;
        if (refs[i].k[4] != 1) {
            plain = plain_label >= 0 ? pd_cell_at(pd, plain_label, first->batch, filters) : NULL;
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
        pd_label_of(&family, group, sizeof group);
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
        pd_end_block(f.fp);
        blocks++;
    }
    pd_info_int(pd, "gpus_filters", filters);
    pd_info_curves(pd, "gpus", blocks, curves, ticks, n_ticks, y, unstable);
    free(refs);
    free(ticks);
    return pd_close_table(&f, blocks);
}

/* ---- speedup vs seq along filters or batch; step time vs parameters ---- */

/* Among pairs (fixed, x), the fixed value with the most pd_distinct x; ties
 * to the larger. Sorts refs (keys 0 and 1). -1 when there are none. */
static int most_values(struct ref *refs, int n)
{
    qsort(refs, (size_t)n, sizeof *refs, pd_ref_cmp);
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

/* Whether a label's impl is the reference's, the baseline of the speedup
 * charts (named "seq" in the tables and charts, as the CSV columns are). */
static int is_reference(const struct pd *pd, int label)
{
    return pd->reference >= 0 && strcmp(pd_label_row(pd, label)->impl,
                                        pd_label_row(pd, pd->reference)->impl) == 0;
}

cnn_status pd_table_speedup_size(struct pd *pd, int which)
{
    const char *name = which ? "speedup_filters.csv" : "speedup_batch.csv";
    const char *var = which ? "filters" : "batch";
    struct ref *refs = pd_refs_alloc(pd->n_cells);
    long *ticks = calloc((size_t)pd->n_cells + 1, sizeof *ticks);
    struct cnn_atomic_file f;
    cnn_status st = refs && ticks ? pd_open_table(pd, name, &f)
                                  : cnn_fail(CNN_E_NOMEM, "cannot allocate the %s curves", var);
    if (st != CNN_OK) {
        free(refs);
        free(ticks);
        return st;
    }
    int nr = 0;
    for (int i = 0; i < pd->n_cells && pd->reference >= 0; i++) {
        const struct cell *c = &pd->cells[i];
        int fixed = which ? c->batch : c->filters, x = which ? c->filters : c->batch;
        if (!is_reference(pd, c->label) && pd_cell_at(pd, pd->reference, c->batch, c->filters))
            refs[nr++] = (struct ref){{fixed, x}, i};
    }
    int fixed = most_values(refs, nr);
    int blocks = 0, curves = 0, n_ticks = 0, unstable = 0;
    struct range y = range_empty;
    for (int l = 0; l < pd->n_labels && fixed > 0; l++) {
        if (is_reference(pd, l))
            continue;
        int wrote = 0;
        for (int i = pd->labels[l].first_cell; i < pd->labels[l].first_cell + pd->labels[l].n_cells;
             i++) {
            const struct cell *p = &pd->cells[i];
            const struct cell *s = pd_cell_at(pd, pd->reference, p->batch, p->filters);
            if ((which ? p->batch : p->filters) != fixed || !s)
                continue;
            if (!wrote && curves++ >= PD_MAX_CURVES)
                break;
            if (!wrote)
                fprintf(f.fp, "%s,%s,speedup_low,speedup_high,median_ms,unstable\n", var,
                        pd->labels[l].name);
            wrote = 1;
            int x = which ? p->filters : p->batch, u = p->unstable || s->unstable;
            double low = pd_speedup_bar(s->median, p->q3, p->median);
            double high = pd_speedup_bar(s->median, p->q1, p->median);
            fprintf(f.fp, "%d,%.6g,%.6g,%.6g,%.6g,%d\n", x, s->median / p->median, low, high,
                    p->median, u);
            pd_range_add(&y, low);
            pd_range_add(&y, high);
            pd_range_add(&y, 1); /* the seq line */
            ticks[n_ticks++] = x;
            unstable |= u;
        }
        if (wrote) {
            pd_end_block(f.fp);
            blocks++;
        }
    }
    char key[64];
    snprintf(key, sizeof key, "%s_fixed", var);
    pd_info_int(pd, key, fixed);
    pd_info_curves(pd, var, blocks, curves, ticks, n_ticks, y, unstable);
    free(refs);
    free(ticks);
    return pd_close_table(&f, blocks);
}

cnn_status pd_table_time_params(struct pd *pd)
{
    struct ref *refs = pd_refs_alloc(pd->n_cells);
    long *filters = calloc((size_t)pd->n_cells + 1, sizeof *filters);
    long *params = calloc((size_t)pd->n_cells + 1, sizeof *params);
    struct cnn_atomic_file f;
    cnn_status st = refs && filters && params
                        ? pd_open_table(pd, "time_vs_params.csv", &f)
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
            pd_range_add(&y, q1);
            pd_range_add(&y, p->q3);
            pd_range_add(&y, p->median);
            filters[nf++] = p->filters;
            unstable |= p->unstable;
        }
        if (wrote) {
            pd_end_block(f.fp);
            blocks++;
        }
    }
    pd_info_int(pd, "params_blocks", blocks);
    pd_info_int(pd, "params_batch", batch);
    pd_info_note(pd, "params_note", blocks, curves, "curves");
    /* ticks at the parameter counts, labelled "13.6k" over "F=8" (the
     * count grows with F, so both lists are in the same order) */
    nf = pd_distinct(filters, nf);
    for (int i = 0; i < nf; i++)
        params[i] = (long)cnn_param_count((int)filters[i]);
    int each = pd_info_data_axis(pd, "params_x", params, nf);
    pd_info_values(pd, "params_x_filters", filters, each ? nf : 0);
    pd_info_log_axis(pd, "params_y", y.lo, y.hi);
    pd_info_int(pd, "params_unstable", unstable);
    free(refs);
    free(filters);
    free(params);
    return pd_close_table(&f, blocks);
}

/* ---- where the time goes ---- */

cnn_status pd_busiest_size(const struct pd *pd, int *batch, int *filters)
{
    *batch = *filters = -1;
    struct ref *refs = pd_refs_alloc(pd->n_cells);
    if (!refs)
        return CNN_E_NOMEM;
    for (int i = 0; i < pd->n_cells; i++)
        refs[i] = (struct ref){{pd->cells[i].batch, pd->cells[i].filters,
                                pd->labels[pd->cells[i].label].rank}, i};
    qsort(refs, (size_t)pd->n_cells, sizeof *refs, pd_ref_cmp);
    long best_impls = 0, best_labels = 0, best_size = -1;
    for (int i = 0, j; i < pd->n_cells; i = j) {
        long impls = 0;
        for (j = i; j < pd->n_cells && pd_same_keys(&refs[j], &refs[i], 2); j++)
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

cnn_status pd_table_breakdown_share(struct pd *pd, int batch, int filters)
{
    const struct cell *cells[PD_MAX_CURVES];
    int n = 0, total = 0;
    for (int l = 0; l < pd->n_labels; l++) {
        const struct cell *c = pd_cell_at(pd, l, batch, filters);
        if (c && total++ < PD_MAX_CURVES)
            cells[n++] = c;
    }
    enum cnn_region regions[CNN_REGION_COUNT];
    int nr = active_regions(cells, n, regions), unstable = 0;
    struct cnn_atomic_file f;
    CNN_TRY(pd_open_table(pd, "breakdown_share.csv", &f));
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
    pd_info_int(pd, "share_rows", n);
    pd_info_int(pd, "share_columns", nr);
    pd_info_int(pd, "share_batch", batch);
    pd_info_int(pd, "share_filters", filters);
    pd_info_int(pd, "share_unstable", unstable);
    pd_info_note(pd, "share_note", n, total, "bars");
    return pd_close_table(&f, n > 0 && nr > 0);
}

cnn_status pd_table_breakdown_impls(struct pd *pd, int batch)
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
        const char *impl = pd_label_row(pd, best)->impl;
        char name[96];
        snprintf(name, sizeof name, "breakdown_%s.csv", impl);
        struct cnn_atomic_file f;
        cnn_status st = pd_open_table(pd, name, &f);
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
        CNN_TRY(pd_close_table(&f, nr > 0));
        if (nr == 0)
            continue;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", used ? " " : "", impl);
        snprintf(name, sizeof name, "breakdown_label_%s", impl);
        pd_info_str(pd, name, pd->labels[best].name);
        snprintf(name, sizeof name, "breakdown_columns_%s", impl);
        pd_info_int(pd, name, nr);
        snprintf(name, sizeof name, "breakdown_unstable_%s", impl);
        pd_info_int(pd, name, unstable);
    }
    pd_info_str(pd, "breakdown_impls", list);
    pd_info_int(pd, "breakdown_batch", batch);
    return CNN_OK;
}
